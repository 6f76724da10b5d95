"""The demo's task ledger shows the whole cycle: overdue milestones, an overdue notice, a pending closure."""

from __future__ import annotations

import datetime as dt

from metrics import ledger
from metrics.access import Principal
from metrics.demo_ledger import seed_ledger
from metrics.scorecard import overdue_tasks_frame
from metrics.store import Store

LEADER = Principal("l", "leader")


def test_seed_ledger(tiny_duck: Store) -> None:
    today = dt.date.today()
    assert seed_ledger(tiny_duck, today) == 3
    overdue = overdue_tasks_frame(tiny_duck, LEADER, today)
    assert dict(zip(overdue["task_id"], overdue["days_overdue"], strict=True)) == {"tz-t14": 45, "tz-t02": 20}
    notices = ledger.open_notices(tiny_duck, LEADER, today)
    assert len(notices) == 1 and bool(notices["overdue"].iloc[0])
    detail = ledger.account_detail(tiny_duck, LEADER, "tz-t10")
    assert detail.status == "closure_requested" and detail.closures["decision"].isna().all()
    assert tiny_duck.execute("SELECT count(*) FROM evidence") == [(2,)]
