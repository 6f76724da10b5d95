"""The demo's task ledger shows the whole cycle: overdue milestones, an overdue notice, a pending closure."""

from __future__ import annotations

from metrics import ledger
from metrics.auth.access import Principal
from metrics.demo.ledger import seed_ledger
from metrics.ledger.scorecard import overdue_tasks_frame
from metrics.storage import clock
from metrics.storage.store import Store

LEADER = Principal("l", "leader")


def test_seed_ledger(tiny_duck: Store) -> None:
    today = clock.today()
    assert seed_ledger(tiny_duck, today) == 3
    overdue = overdue_tasks_frame(tiny_duck, LEADER, today)
    assert dict(zip(overdue["task_id"], overdue["days_overdue"], strict=True)) == {"xc-t11": 45, "xc-t08": 20}
    notices = ledger.open_notices(tiny_duck, LEADER, today)
    assert len(notices) == 1 and bool(notices["overdue"].iloc[0])
    detail = ledger.account_detail(tiny_duck, LEADER, "tz-t10")
    assert detail.status == "closure_requested" and detail.closures["decision"].isna().all()
    assert tiny_duck.execute("SELECT count(*) FROM evidence") == [(2,)]


def test_the_demo_departments_see_their_seeded_accounts(tiny_duck: Store) -> None:
    """hrss is 西城区人力社保局 and commerce 通州区商务局 (README): each sees the accounts seeded for it."""
    from metrics.auth.users import DEMO_ACCOUNTS

    seed_ledger(tiny_duck, clock.today())
    for acc in DEMO_ACCOUNTS:
        if acc.role != "department":
            continue
        me = Principal(acc.user_name, acc.role, acc.unit, acc.district)
        table = ledger.task_ledger(tiny_duck, me)
        opened = table[table["status"] != "not_opened"]
        assert set(table["district"]) == {acc.district}
        assert set(opened["task_id"]) == ({"xc-t08", "xc-t11"} if acc.user_name == "hrss" else {"tz-t10"})
