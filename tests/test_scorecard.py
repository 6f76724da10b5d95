"""Department scorecard and the overdue-task frame, on a tiny catalogue with figures checked by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from metrics.auth.access import AccessDenied, Principal
from metrics.catalogue.models import Catalogue
from metrics.ledger import (
    append_update,
    complete_milestone,
    open_account,
    request_closure,
    supervision_notice,
)
from metrics.ledger.scorecard import OVERDUE_TASK_COLUMNS, SCORECARD_COLUMNS, department_scorecard, overdue_tasks_frame
from metrics.reports.briefing import OVERDUE_COLUMNS, weekly_briefing
from metrics.storage import clock
from metrics.storage.store import Store
from tests.support import insert, tiny_programme

D = dt.date
T = dt.datetime
HRSS, COM = "区人力社保局", "区商务局"
HRSS_P = Principal("li.si", "department", unit=HRSS, district="通州区")
COM_P = Principal("qian.qi", "department", unit=COM, district="通州区")
OFFICE = Principal("jiuyeban", "office")
LEADER = Principal("lingdao", "leader")


def _kpi(kid: str, task: str, lead: str, kind: str = "reported") -> dict:
    measure = {"kind": "reported"} if kind == "reported" else {"kind": "count", "source": "events"}
    return {
        "id": kid,
        "task": task,
        "clause": "1",
        "quote": "测试引文测试",
        "name_zh": kid,
        "name_en": kid,
        "unit": "个",
        "lead_unit": lead,
        "measure": measure,
        "monitoring": True,
    }


CATS = {
    "tiny": Catalogue.model_validate(
        {
            "programme": tiny_programme("通州区", D(2026, 1, 1), valid_to=D(2027, 12, 31)),
            "tasks": [
                {"id": "a1", "clause": "1", "title": "就业服务", "lead_units": [HRSS], "cooperating_units": [COM]},
                {"id": "a2", "clause": "2", "title": "技能培训", "lead_units": [HRSS]},
                {"id": "a3", "clause": "3", "title": "暖心餐", "lead_units": [COM]},
                {"id": "a4", "clause": "4", "title": "联合任务", "lead_units": [HRSS, COM]},
            ],
            "kpis": [
                _kpi("k-rep1", "a1", HRSS),
                _kpi("k-rep2", "a2", HRSS),
                _kpi("k-rep3", "a3", COM),
                _kpi("k-count", "a1", HRSS, kind="count"),  # not reported: no part in timeliness
            ],
        }
    )
}


@pytest.fixture
def store(tiny_duck: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    """HRSS: a1 (nodes 02-28 done, 04-30), a2 (node 03-31, closure requested), a4 not opened; update 03-10
    with k-rep1. COM: a3 (node 05-31), update on a1 03-15; k-rep3 last reported 01-15. Notices: a2 reply by
    04-10, a3 reply by 05-20."""
    moment = {"t": T(2026, 1, 5, 9)}
    monkeypatch.setattr(clock, "_source", lambda: moment["t"])
    kw = {"catalogues": CATS}
    a1 = open_account(
        tiny_duck, HRSS_P, "a1", "计划", "张三", [("一", D(2026, 2, 28)), ("二", D(2026, 4, 30))], ["k-rep1"], **kw
    )
    open_account(tiny_duck, HRSS_P, "a2", "计划", "李四", [("培训", D(2026, 3, 31))], [], **kw)
    open_account(tiny_duck, COM_P, "a3", "计划", "钱七", [("选点", D(2026, 5, 31))], [], **kw)
    moment["t"] = T(2026, 3, 10, 10)
    append_update(tiny_duck, HRSS_P, "a1", 30, "进展", {"k-rep1": 5}, [], **kw)
    moment["t"] = T(2026, 3, 15, 16)
    append_update(tiny_duck, COM_P, "a1", None, "配合进展", None, [], **kw)
    moment["t"] = T(2026, 3, 20, 9)
    complete_milestone(tiny_duck, HRSS_P, a1["milestones"][0]["milestone_id"], 1, D(2026, 3, 1), **kw)
    moment["t"] = T(2026, 4, 1, 9)
    supervision_notice(tiny_duck, OFFICE, "a2", "培训节点逾期", D(2026, 4, 10), **kw)
    supervision_notice(tiny_duck, OFFICE, "a3", "请报送选点进展", D(2026, 5, 20), **kw)
    moment["t"] = T(2026, 4, 2, 9)
    request_closure(tiny_duck, HRSS_P, "a2", "已完成", [("总结.pdf", b"x")], **kw)
    insert(
        tiny_duck,
        "progress_reports",
        [{"kpi_id": "k-rep3", "district": "通州区", "period_end": D(2026, 1, 15), "value": 3.0, "unit_name": COM}],
    )
    return tiny_duck


def test_scorecard_on_2026_04_20(store: Store) -> None:
    card = department_scorecard(store, LEADER, D(2026, 4, 20), catalogues=CATS)
    assert tuple(card.columns) == SCORECARD_COLUMNS
    assert card["unit"].tolist() == [HRSS, COM]  # most tasks led first
    assert card["district"].tolist() == ["通州区", "通州区"]
    hrss, com = (card.iloc[i].to_dict() for i in range(2))
    # HRSS leads a1, a2, a4: two accounts (a1 open, a2 closure requested), a4 not opened. Overdue: a2's 03-31
    # node (a1's 04-30 node is not due yet). a2's notice (reply by 04-10) is open and late. Last update 03-10:
    # 21 days of March + 20 of April = 41. Reported KPIs k-rep1 (reported 03-10, within 03-06…04-20) and
    # k-rep2 (never): 1 of 2 on time.
    assert {k: hrss[k] for k in SCORECARD_COLUMNS[2:]} == {
        "tasks_led": 3,
        "accounts_opened": 2,
        "not_opened": 1,
        "open": 1,
        "closure_requested": 1,
        "closed": 0,
        "overdue_milestones": 1,
        "open_notices": 1,
        "overdue_notices": 1,
        "last_update": D(2026, 3, 10),
        "days_since_update": 41,
        "reported_kpis": 2,
        "reported_on_time": 1,
        "reporting_timeliness": 0.5,
    }
    # COM leads a3 (open, node 05-31 not due) and a4 (not opened); notice on a3 due 05-20, not late; its own
    # update (on a1, as cooperating unit) 03-15 → 36 days; k-rep3 last reported 01-15, before 03-06: 0 of 1.
    assert {k: com[k] for k in SCORECARD_COLUMNS[2:]} == {
        "tasks_led": 2,
        "accounts_opened": 1,
        "not_opened": 1,
        "open": 1,
        "closure_requested": 0,
        "closed": 0,
        "overdue_milestones": 0,
        "open_notices": 1,
        "overdue_notices": 0,
        "last_update": D(2026, 3, 15),
        "days_since_update": 36,
        "reported_kpis": 1,
        "reported_on_time": 0,
        "reporting_timeliness": 0.0,
    }


def test_scorecard_on_2026_05_01(store: Store) -> None:
    card = department_scorecard(store, OFFICE, D(2026, 5, 1), catalogues=CATS).set_index("unit")
    # a1's 04-30 node is now one day late too; k-rep1's 03-10 report is older than 05-01 − 45 = 03-17.
    assert card.loc[HRSS, ["overdue_milestones", "days_since_update", "reported_on_time"]].tolist() == [2, 52, 0]
    assert card.loc[HRSS, "reporting_timeliness"] == 0.0
    assert card.loc[COM, ["overdue_milestones", "open_notices", "overdue_notices"]].tolist() == [0, 1, 0]
    # before any update of the unit: no last update, no days since
    early = department_scorecard(store, LEADER, D(2026, 3, 1), catalogues=CATS).set_index("unit")
    assert early.loc[HRSS, "last_update"] is None and pd.isna(early.loc[HRSS, "days_since_update"])


def test_departments_see_only_their_own_row(store: Store) -> None:
    own = department_scorecard(store, COM_P, D(2026, 4, 20), catalogues=CATS)
    assert own["unit"].tolist() == [COM] and own.iloc[0]["tasks_led"] == 2
    assert department_scorecard(store, COM_P, D(2026, 4, 20), unit=COM, catalogues=CATS)["unit"].tolist() == [COM]
    with pytest.raises(AccessDenied):
        department_scorecard(store, COM_P, D(2026, 4, 20), unit=HRSS, catalogues=CATS)
    with pytest.raises(AccessDenied):
        department_scorecard(store, Principal("p", "press"), D(2026, 4, 20), catalogues=CATS)
    with pytest.raises(AccessDenied):
        department_scorecard(store, Principal("x", "department"), D(2026, 4, 20), catalogues=CATS)
    assert department_scorecard(store, OFFICE, D(2026, 4, 20), unit=HRSS, catalogues=CATS)["unit"].tolist() == [HRSS]


def test_overdue_tasks_frame_feeds_the_briefing(store: Store) -> None:
    frame = overdue_tasks_frame(store, LEADER, D(2026, 5, 1), catalogues=CATS)
    assert tuple(frame.columns) == OVERDUE_TASK_COLUMNS == OVERDUE_COLUMNS
    # a2: node 03-31 → 31 days; a1: node 04-30 → 1 day (its 02-28 node was done)
    assert frame.values.tolist() == [
        ["a2", "技能培训", HRSS, D(2026, 3, 31), 31],
        ["a1", "就业服务", HRSS, D(2026, 4, 30), 1],
    ]
    assert overdue_tasks_frame(store, COM_P, D(2026, 5, 1), catalogues=CATS)["task_id"].tolist() == ["a1"]
    assert overdue_tasks_frame(store, LEADER, D(2026, 3, 31), catalogues=CATS).empty
    page = weekly_briefing(store, D(2026, 5, 1), catalogues=CATS, overdue_tasks=frame)
    assert page.index('data-task="a2"') < page.index('data-task="a1"')


def test_each_districts_unit_is_scored_on_its_own_districts_tasks(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Xicheng's 区人力社保局 is another bureau than Tongzhou's: its own row, its own tasks only."""
    xicheng = CATS["tiny"].model_copy(
        update={
            "programme": CATS["tiny"].programme.model_copy(update={"id": "tiny-xc", "district": "西城区"}),
            "tasks": [CATS["tiny"].tasks[0].model_copy(update={"id": "b1", "cooperating_units": []})],
            "kpis": [CATS["tiny"].kpis[0].model_copy(update={"id": "k-xc", "task": "b1"})],
        }
    )
    cats = {**CATS, "tiny-xc": xicheng}
    xc = Principal("xc.li", "department", unit=HRSS, district="西城区")
    monkeypatch.setattr(clock, "_source", lambda: T(2026, 3, 1, 9))
    open_account(store, xc, "b1", "西城区计划", "王五", [("节点", D(2026, 4, 1))], [], catalogues=cats)
    monkeypatch.setattr(clock, "_source", lambda: T(2026, 4, 18, 9))
    append_update(store, xc, "b1", 50, "西城区进展", {"k-xc": 7}, [], catalogues=cats)

    own = department_scorecard(store, xc, D(2026, 4, 20), catalogues=cats)
    assert own[
        ["district", "unit", "tasks_led", "accounts_opened", "overdue_milestones", "open_notices"]
    ].values.tolist() == [["西城区", HRSS, 1, 1, 1, 0]]
    assert own.iloc[0]["last_update"] == D(2026, 4, 18) and own.iloc[0]["reporting_timeliness"] == 1.0
    # Tongzhou's bureau is scored as before: its 03-10 update, not Xicheng's 04-18 one
    tz = department_scorecard(store, HRSS_P, D(2026, 4, 20), catalogues=cats)
    assert tz[["district", "tasks_led", "last_update", "reported_kpis"]].values.tolist() == [
        ["通州区", 3, D(2026, 3, 10), 2]
    ]
    every = department_scorecard(store, OFFICE, D(2026, 4, 20), catalogues=cats)
    assert list(zip(every["district"], every["unit"], every["tasks_led"], strict=True)) == [
        ("通州区", HRSS, 3),
        ("通州区", COM, 2),
        ("西城区", HRSS, 1),
    ]
    assert department_scorecard(store, OFFICE, D(2026, 4, 20), unit=HRSS, catalogues=cats)["district"].tolist() == [
        "通州区",
        "西城区",
    ]
    with pytest.raises(AccessDenied):  # another district's row, asked for by a department
        department_scorecard(store, xc, D(2026, 4, 20), district="通州区", catalogues=cats)
    assert store.execute("SELECT user_name, action, unit, allowed FROM access_log") == [
        ("xc.li", "ledger.read", "通州区", False)
    ]
