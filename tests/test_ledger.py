"""The task ledger: 建账 → 进展 → 督办 → 答复 → 销账 (returned, then approved) on the real catalogue, permissions
by role and unit, versions refusing stale saves, text kept verbatim, and crashes that leave nothing behind."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from typing import Any

import pytest

from metrics import ledger
from metrics.auth.access import AccessDenied, Principal
from metrics.kpi.engine import Engine
from metrics.ledger import (
    ConcurrentEdit,
    LedgerError,
    account_detail,
    add_milestone,
    append_update,
    complete_milestone,
    decide_closure,
    edit_account,
    edit_milestone,
    evidence_content,
    open_account,
    open_notices,
    overdue_milestones,
    reply_notice,
    request_closure,
    supervision_notice,
    task_ledger,
)
from metrics.storage import clock as product_clock
from metrics.storage.store import Store

D = dt.date
T = dt.datetime

TASK = "tz-t08"  # 多方位提供新市民专项房源: lead 区住房城乡建设委, cooperating 市规自委通州分局 …
KPI = "tz-affordable-rental-housing"  # reported, cumulative, target 1500 套 2025-01-01 … 2027-12-31
HOUSING = Principal("wang.wu", "department", unit="区住房城乡建设委", district="通州区")
PLANNING = Principal("zhao.liu", "department", unit="市规自委通州分局", district="通州区")  # cooperating on tz-t08
COMMERCE = Principal("qian.qi", "department", unit="区商务局", district="通州区")  # no part in tz-t08
# Units of the same name in other districts: same unit, wrong district for tz-t08 (通州区).
XC_HOUSING = Principal("xc.wang", "department", unit="区住房城乡建设委", district="西城区")
XC_PLANNING = Principal("xc.zhao", "department", unit="市规自委通州分局", district="西城区")
XC_HRSS = Principal("xc.li", "department", unit="区人力社保局", district="西城区")
TZ_HRSS = Principal("tz.li", "department", unit="区人力社保局", district="通州区")
OFFICE = Principal("jiuyeban", "office")
LEADER = Principal("lingdao", "leader")
PRESS = Principal("xuanchuan", "press")
ADMIN = Principal("root", "admin")

LEDGER_TABLES = (
    "task_accounts",
    "milestones",
    "task_updates",
    "evidence",
    "supervision_notices",
    "closure_requests",
    "progress_reports",
    "change_log",
    "data_version",
)


class Clock:
    def __init__(self) -> None:
        self.t = T(2026, 3, 1, 9, 0)

    def __call__(self) -> dt.datetime:
        return self.t


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(product_clock, "_source", c)
    return c


def state(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a ledger write may touch."""
    return {t: sorted(map(repr, store.execute(f"SELECT * FROM {t}"))) for t in LEDGER_TABLES}  # type: ignore[misc]


def opened(store: Store) -> dict[str, Any]:
    return open_account(
        store,
        HOUSING,
        TASK,
        "2026年筹集“城市建设者之家”房源1500套。",
        "张三",
        [("完成房源筹集方案", D(2026, 3, 31)), ("首批房源投入使用", D(2026, 6, 30))],
        [KPI],
    )


def log_rows(store: Store, entity: str) -> list[tuple[Any, ...]]:
    return store.execute(
        "SELECT entity_key, action, user_name, old_values, new_values FROM change_log WHERE entity = ? "
        "ORDER BY change_id",
        [entity],
    )


# --------------------------------------------------------------------------- the whole cycle


def test_full_cycle_open_update_supervise_reply_close(tiny_duck: Store, clock: Clock) -> None:
    store = tiny_duck
    engine = Engine(store)
    assert engine.compute_kpi(KPI, D(2026, 6, 30)).status == "no_data"

    # 建账
    acc = opened(store)
    assert (acc["status"], acc["version"], acc["programme"], acc["linked_kpis"]) == ("open", 1, "tongzhou-2025", [KPI])
    assert (acc["opened_by"], acc["opened_unit"], acc["opened_at"]) == ("wang.wu", "区住房城乡建设委", T(2026, 3, 1, 9))
    m1, m2 = acc["milestones"]
    assert [(m["title"], m["due_date"], m["version"]) for m in acc["milestones"]] == [
        ("完成房源筹集方案", D(2026, 3, 31), 1),
        ("首批房源投入使用", D(2026, 6, 30), 1),
    ]
    with pytest.raises(LedgerError, match="已建账，不能重复建账"):
        opened(store)
    assert [r[:3] for r in log_rows(store, "task_accounts")] == [(TASK, "insert", "wang.wu")]
    assert len(log_rows(store, "milestones")) == 2

    clock.t = T(2026, 3, 30, 17, 0)
    complete_milestone(store, HOUSING, m1["milestone_id"], 1)

    # 进展 with evidence and a reported value (feeds progress_reports and the engine)
    clock.t = T(2026, 6, 30, 10, 0)
    pdf = b"%PDF-1.4 acceptance certificate"
    version_before = store.data_version()
    upd = append_update(store, HOUSING, TASK, 55, "首批800套已配租。", {KPI: 800}, [("验收单.pdf", pdf)])
    assert (upd["progress_pct"], upd["reported"], upd["period_end"], upd["unit"]) == (
        55,
        {KPI: 800.0},
        D(2026, 6, 30),
        "区住房城乡建设委",
    )
    (ev,) = upd["evidence"]
    assert ev["sha256"] == hashlib.sha256(pdf).hexdigest() and ev["size"] == len(pdf) and "content" not in ev
    assert store.execute("SELECT kpi_id, district, period_end, value, unit_name, upload_id FROM progress_reports") == [
        (KPI, "通州区", D(2026, 6, 30), 800.0, "区住房城乡建设委", None)
    ]
    assert store.data_version() == version_before + 1
    result = engine.compute_kpi(KPI, D(2026, 6, 30))
    # 2025-01-01 → 2026-06-30 is 545 of the 1094 days to 2027-12-31: expected 1500 × 545/1094 = 747.3,
    # pace 800 / 747.3 = 1.07 ≥ 0.95 → on track
    assert result.actual == 800.0 and result.status == "on_track"
    assert result.expected == pytest.approx(1500 * 545 / 1094)
    # the same period reported again replaces the value, and the change log keeps old → new
    clock.t = T(2026, 6, 30, 16, 0)
    append_update(store, HOUSING, TASK, None, "更正：820套。", {KPI: 820}, [], period_end=D(2026, 6, 30))
    assert store.execute("SELECT value FROM progress_reports") == [(820.0,)]
    (_, action, _, old, new), *_ = log_rows(store, "progress_reports")[1:]
    assert action == "update" and json.loads(old)["value"] == 800.0 and json.loads(new)["value"] == 820.0
    assert engine.compute_kpi(KPI, D(2026, 6, 30)).actual == 820.0

    # 督办 → overdue milestone and an open notice, then the lead unit replies
    clock.t = T(2026, 7, 10, 9, 0)
    assert overdue_milestones(store, LEADER, D(2026, 7, 10))[["milestone_id", "days_overdue"]].values.tolist() == [
        [m2["milestone_id"], 10]
    ]
    notice = supervision_notice(store, OFFICE, TASK, "首批房源投入使用节点已逾期，请说明原因。", D(2026, 7, 20))
    assert (notice["status"], notice["reply_by"], notice["issued_by"]) == ("open", D(2026, 7, 20), "jiuyeban")
    on_time = open_notices(store, LEADER, D(2026, 7, 20))
    late = open_notices(store, HOUSING, D(2026, 7, 23))
    assert on_time[["notice_id", "overdue", "days_overdue"]].values.tolist() == [[notice["notice_id"], False, 0]]
    assert late[["notice_id", "overdue", "days_overdue"]].values.tolist() == [[notice["notice_id"], True, 3]]
    with pytest.raises(AccessDenied):
        reply_notice(store, PLANNING, notice["notice_id"], "配合单位不能代答")
    clock.t = T(2026, 7, 15, 11, 0)
    answered = reply_notice(store, HOUSING, notice["notice_id"], "已于7月14日完成验收。")
    assert (answered["status"], answered["replied_by"], answered["replied_at"]) == (
        "answered",
        "wang.wu",
        T(2026, 7, 15, 11),
    )
    with pytest.raises(LedgerError, match="不能重复答复"):
        reply_notice(store, HOUSING, notice["notice_id"], "再答一次")
    assert open_notices(store, OFFICE, D(2026, 7, 23)).empty
    complete_milestone(store, HOUSING, m2["milestone_id"], 1, D(2026, 7, 14))
    assert overdue_milestones(store, LEADER, D(2026, 7, 15)).empty

    # 销账: requested, returned with a reason, requested again, approved
    clock.t = T(2026, 8, 1, 9, 0)
    with pytest.raises(LedgerError, match="须附佐证材料"):
        request_closure(store, HOUSING, TASK, "已完成。", [])
    c1 = request_closure(store, HOUSING, TASK, "年度房源已全部筹集。", [("总结.docx", b"summary v1")])
    assert (c1["account"]["status"], c1["account"]["version"], c1["decision"]) == ("closure_requested", 2, None)
    with pytest.raises(LedgerError, match="待审核的销账申请"):
        request_closure(store, HOUSING, TASK, "再申请", [("x.txt", b"x")])
    with pytest.raises(AccessDenied):
        decide_closure(store, HOUSING, c1["closure_id"], True)
    with pytest.raises(LedgerError, match="退回理由"):
        decide_closure(store, OFFICE, c1["closure_id"], False, "  ")
    clock.t = T(2026, 8, 3, 9, 0)
    returned = decide_closure(store, OFFICE, c1["closure_id"], False, "缺少配租台账。")
    assert (returned["decision"], returned["reason"], returned["account"]["status"]) == (
        "returned",
        "缺少配租台账。",
        "open",
    )
    with pytest.raises(LedgerError, match="已审核"):
        decide_closure(store, OFFICE, c1["closure_id"], True)
    clock.t = T(2026, 8, 5, 9, 0)
    c2 = request_closure(store, HOUSING, TASK, "补充配租台账。", [("配租台账.xlsx", b"ledger")], expected_version=3)
    approved = decide_closure(store, OFFICE, c2["closure_id"], True)
    assert (approved["decision"], approved["reason"], approved["decided_by"]) == ("approved", None, "jiuyeban")
    assert (approved["account"]["status"], approved["account"]["version"]) == ("closed", 5)

    # closed: nothing more may be written to the account
    with pytest.raises(LedgerError, match="已销账"):
        append_update(store, HOUSING, TASK, 100, "补记", None, [])
    with pytest.raises(LedgerError, match="已销账"):
        edit_account(store, HOUSING, TASK, 5, owner="李四")
    with pytest.raises(LedgerError, match="已销账"):
        supervision_notice(store, OFFICE, TASK, "再督办", D(2026, 9, 1))

    detail = account_detail(store, LEADER, TASK)
    assert detail.status == "closed" and detail.status_zh == "已销账"
    assert detail.updates["update_id"].tolist() == [upd["update_id"] + 1, upd["update_id"]]  # newest first
    assert detail.updates["evidence_files"].tolist() == [0, 1]
    assert detail.milestones["done_date"].tolist() == [D(2026, 3, 30), D(2026, 7, 14)]
    assert detail.evidence["file_name"].tolist() == ["配租台账.xlsx", "总结.docx", "验收单.pdf"]
    assert "content" not in detail.evidence.columns
    assert detail.closures["decision"].tolist() == ["approved", "returned"]
    assert detail.notices["status"].tolist() == ["answered"]
    download = evidence_content(store, LEADER, ev["evidence_id"])
    assert (download.file_name, download.content, download.sha256) == ("验收单.pdf", pdf, ev["sha256"])
    with pytest.raises(AccessDenied):
        evidence_content(store, COMMERCE, ev["evidence_id"])

    entities = dict(store.execute("SELECT entity, count(*) FROM change_log GROUP BY entity"))
    assert entities == {
        "task_accounts": 5,  # insert, closure requested, returned, requested, approved
        "milestones": 4,  # two inserts, two completions
        "task_updates": 2,
        "evidence": 3,
        "progress_reports": 2,
        "supervision_notices": 2,  # issued, answered
        "closure_requests": 4,  # two requests, two decisions
    }
    assert {r[0] for r in store.execute("SELECT DISTINCT user_name FROM change_log")} == {"wang.wu", "jiuyeban"}


# --------------------------------------------------------------------------- permissions


def test_another_units_task_is_refused_and_nothing_is_written(tiny_duck: Store, clock: Clock) -> None:
    store = tiny_duck
    acc = opened(store)
    mid = acc["milestones"][0]["milestone_id"]
    notice = supervision_notice(store, OFFICE, TASK, "请加快进度", D(2026, 3, 15))
    before = state(store)
    forged = [
        lambda: open_account(store, COMMERCE, TASK, "计划", "某人", [], []),
        lambda: edit_account(store, COMMERCE, TASK, 1, plan="改写别人的计划"),
        lambda: add_milestone(store, COMMERCE, TASK, "新节点", D(2026, 5, 1)),
        lambda: edit_milestone(store, COMMERCE, mid, 1, due_date=D(2027, 1, 1)),
        lambda: complete_milestone(store, COMMERCE, mid, 1),
        lambda: append_update(store, COMMERCE, TASK, 90, "冒名进展", None, []),
        lambda: reply_notice(store, COMMERCE, notice["notice_id"], "冒名答复"),
        lambda: request_closure(store, COMMERCE, TASK, "冒名销账", [("a.txt", b"a")]),
        lambda: decide_closure(store, COMMERCE, 1, True),
        lambda: supervision_notice(store, COMMERCE, TASK, "部门不能督办", D(2026, 4, 1)),
        lambda: open_account(store, OFFICE, TASK, "计划", "某人", [], []),  # office supervises, does not keep ledgers
        lambda: append_update(store, LEADER, TASK, 10, "领导只看不改", None, []),
        lambda: append_update(store, ADMIN, TASK, 10, "管理员也不改台账", None, []),
        lambda: account_detail(store, PRESS, TASK),
        lambda: account_detail(store, COMMERCE, TASK),  # departments read only their own tasks' ledgers
        lambda: task_ledger(store, PRESS),
        lambda: overdue_milestones(store, PRESS, D(2026, 5, 1)),
        lambda: append_update(store, Principal("nobody", "department"), TASK, 10, "未绑定单位", None, []),
    ]
    for call in forged:
        with pytest.raises(AccessDenied, match="无权限"):
            call()
    assert state(store) == before


def test_cooperating_unit_may_append_but_not_edit(tiny_duck: Store, clock: Clock) -> None:
    store = tiny_duck
    opened(store)
    upd = append_update(store, PLANNING, TASK, None, "已协调用地指标。", None, [("函.pdf", b"letter")])
    assert (upd["unit"], upd["author"], len(upd["evidence"])) == ("市规自委通州分局", "zhao.liu", 1)
    before = state(store)
    with pytest.raises(AccessDenied):
        edit_account(store, PLANNING, TASK, 1, owner="赵六")
    with pytest.raises(AccessDenied):
        add_milestone(store, PLANNING, TASK, "配合单位的节点", D(2026, 9, 1))
    with pytest.raises(AccessDenied):
        request_closure(store, PLANNING, TASK, "配合单位不能申请销账", [("a.txt", b"a")])
    with pytest.raises(AccessDenied):  # the lead unit reports the KPI's number, not a cooperating unit
        append_update(store, PLANNING, TASK, None, "代报数值", {KPI: 999}, [])
    assert state(store) == before
    # the department's own view lists tasks it leads or cooperates on, and no others
    assert TASK in task_ledger(store, PLANNING)["task_id"].tolist()
    assert TASK not in task_ledger(store, COMMERCE)["task_id"].tolist()
    assert account_detail(store, PLANNING, TASK).updates["narrative"].tolist() == ["已协调用地指标。"]


# --------------------------------------------------------------------------- versions


def test_two_sessions_saving_the_same_account(tiny_duck: Store, clock: Clock) -> None:
    store = tiny_duck
    opened(store)
    seen = account_detail(store, HOUSING, TASK).account
    assert seen is not None and seen["version"] == 1
    first = edit_account(store, HOUSING, TASK, seen["version"], plan="计划（甲修改）")
    assert first["version"] == 2
    with pytest.raises(ConcurrentEdit, match="已被他人修改") as err:
        edit_account(store, HOUSING, TASK, seen["version"], owner="乙")
    assert str(err.value) == "已被他人修改，请刷新后重试（当前版本 2）" and err.value.current_version == 2
    kept = account_detail(store, HOUSING, TASK).account
    assert kept is not None and (kept["plan"], kept["owner"], kept["version"]) == ("计划（甲修改）", "张三", 2)
    # a save with nothing changed writes nothing and keeps the version
    assert edit_account(store, HOUSING, TASK, 2, owner="张三")["version"] == 2
    assert len(log_rows(store, "task_accounts")) == 2


def test_concurrent_saves_from_two_threads_one_wins(tiny_duck: Store, clock: Clock) -> None:
    store = tiny_duck
    acc = opened(store)
    mid = acc["milestones"][1]["milestone_id"]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(due: dt.date) -> None:
        barrier.wait()
        try:
            edit_milestone(store, HOUSING, mid, 1, due_date=due)
            outcomes.append("saved")
        except ConcurrentEdit as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=save, args=(d,)) for d in (D(2026, 7, 31), D(2026, 8, 31))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["saved", "已被他人修改，请刷新后重试（当前版本 2）"]
    assert store.execute("SELECT version FROM milestones WHERE milestone_id = ?", [mid]) == [(2,)]


def test_stale_closure_request_is_refused(tiny_duck: Store, clock: Clock) -> None:
    opened(tiny_duck)
    edit_account(tiny_duck, HOUSING, TASK, 1, owner="李四")
    with pytest.raises(ConcurrentEdit, match="当前版本 2"):
        request_closure(tiny_duck, HOUSING, TASK, "完成", [("a.txt", b"a")], expected_version=1)


# --------------------------------------------------------------------------- text, input, faults


def test_html_and_script_are_stored_verbatim(tiny_duck: Store, clock: Clock) -> None:
    store = tiny_duck
    evil = "<script>alert('x')</script> & <b onclick=\"y()\">粗体</b>"
    open_account(store, HOUSING, TASK, evil, "<i>张三</i>", [(evil, D(2026, 4, 1))], [])
    append_update(store, HOUSING, TASK, 10, evil, None, [("<img src=x>.pdf", b"x")])
    detail = account_detail(store, OFFICE, TASK)
    assert detail.account is not None
    assert (detail.account["plan"], detail.account["owner"]) == (evil, "<i>张三</i>")
    assert detail.updates["narrative"].tolist() == [evil]
    assert detail.milestones["title"].tolist() == [evil]
    assert detail.evidence["file_name"].tolist() == ["<img src=x>.pdf"]
    assert json.loads(log_rows(store, "task_updates")[0][4])["narrative"] == evil


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"progress_pct": 101}, "0–100"),
        ({"progress_pct": 12.5}, "0–100"),
        ({"reported": {"tz-startup-space-sqm": 10}}, "未关联到本任务"),  # a reported KPI of tz-t04
        ({"reported": {"tz-recruitment-events": 10}}, "自动计算"),  # counted from records, not reported
        ({"reported": {"hd-outstanding-units": 1}}, "不属于任务"),  # another programme's KPI
        ({"reported": {KPI: "八百"}}, "须为数字"),
        ({"reported": {KPI: float("nan")}}, "有限数字"),
        ({"reported": {KPI: 1}, "period_end": D(2026, 3, 2)}, "晚于今天"),
        ({"progress_pct": None, "narrative": "  "}, "进展内容为空"),
        ({"evidence": [("big.pdf", b"0" * (20 * 1024 * 1024 + 1))]}, "超过 20 MB"),
        ({"evidence": [("empty.pdf", b"")]}, "空文件"),
    ],
)
def test_bad_updates_are_refused_whole(tiny_duck: Store, clock: Clock, kwargs: dict[str, Any], message: str) -> None:
    opened(tiny_duck)
    before = state(tiny_duck)
    args: dict[str, Any] = {"progress_pct": 10, "narrative": "进展", "reported": None, "evidence": []} | kwargs
    with pytest.raises(LedgerError, match=message):
        append_update(tiny_duck, HOUSING, TASK, **args)
    assert state(tiny_duck) == before


def test_evidence_of_exactly_20_mb_is_accepted(tiny_duck: Store, clock: Clock) -> None:
    opened(tiny_duck)
    content = b"1" * (20 * 1024 * 1024)
    upd = append_update(tiny_duck, HOUSING, TASK, None, "", None, [("C:\\扫描件\\full.pdf", content)])
    assert (upd["evidence"][0]["file_name"], upd["evidence"][0]["size"]) == ("full.pdf", len(content))


def test_other_refusals(tiny_duck: Store, clock: Clock) -> None:
    store = tiny_duck
    with pytest.raises(LedgerError, match="未知任务"):
        open_account(store, HOUSING, "no-such-task", "计划", "张三", [], [])
    with pytest.raises(LedgerError, match="尚未建账"):
        append_update(store, HOUSING, TASK, 10, "进展", None, [])
    with pytest.raises(LedgerError, match="不属于任务"):
        open_account(store, HOUSING, TASK, "计划", "张三", [], ["hd-outstanding-units"])
    with pytest.raises(LedgerError, match="请填写工作计划"):
        open_account(store, HOUSING, TASK, " ", "张三", [], [])
    with pytest.raises(LedgerError, match="不是有效日期"):
        open_account(store, HOUSING, TASK, "计划", "张三", [("节点", "2026-02-30")], [])
    acc = opened(store)
    with pytest.raises(LedgerError, match="早于今天"):
        supervision_notice(store, OFFICE, TASK, "督办", D(2026, 2, 1))
    with pytest.raises(LedgerError, match="晚于今天"):
        complete_milestone(store, HOUSING, acc["milestones"][0]["milestone_id"], 1, D(2026, 3, 2))
    with pytest.raises(LedgerError, match="不存在"):
        reply_notice(store, HOUSING, 999, "答复")


@pytest.mark.parametrize("crash_in", ["bump_data_version", "upsert_report", "insert_evidence"])
def test_crash_inside_an_update_leaves_every_table_as_before(
    tiny_duck: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch, crash_in: str
) -> None:
    store = tiny_duck
    opened(store)
    before = state(store)

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("磁盘故障")

    target = Store if crash_in == "bump_data_version" else ledger.writes
    monkeypatch.setattr(target, crash_in, boom)
    with pytest.raises(RuntimeError, match="磁盘故障"):
        append_update(store, HOUSING, TASK, 30, "进展", {KPI: 100}, [("a.pdf", b"a")])
    assert state(store) == before


def test_crash_inside_a_closure_decision_leaves_every_table_as_before(
    tiny_duck: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tiny_duck
    opened(store)
    closure = request_closure(store, HOUSING, TASK, "完成", [("a.pdf", b"a")])
    before = state(store)
    monkeypatch.setattr(ledger.writes, "bump_account", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("断电")))
    with pytest.raises(RuntimeError, match="断电"):
        decide_closure(store, OFFICE, closure["closure_id"], True)
    assert state(store) == before
    assert account_detail(store, OFFICE, TASK).closures["decision"].tolist() == [None]


# --------------------------------------------------------------------------- reads on fixed dates


def test_ledger_listing_and_overdue_on_fixed_dates(tiny_duck: Store, clock: Clock) -> None:
    store = tiny_duck
    acc = opened(store)
    m1, m2 = (m["milestone_id"] for m in acc["milestones"])
    ledger_all = task_ledger(store, LEADER, as_of=D(2026, 4, 10))
    from metrics.catalogue import load_catalogues

    assert len(ledger_all) == sum(len(c.tasks) for c in load_catalogues().values())
    row = ledger_all.set_index("task_id").loc[TASK]
    assert (row["status"], row["status_zh"], row["milestones"], row["overdue_milestones"]) == ("open", "在办", 2, 1)
    assert row["next_due"] == D(2026, 3, 31) and row["version"] == 1
    assert set(ledger_all.loc[ledger_all["task_id"] != TASK, "status_zh"]) == {"未建账"}
    assert task_ledger(store, OFFICE, "tongzhou-2025")["programme"].unique().tolist() == ["tongzhou-2025"]

    # as of 2026-04-10 the 03-31 node is 10 days late; as of 07-05 both are (96 and 5 days)
    assert overdue_milestones(store, OFFICE, D(2026, 3, 31)).empty  # due today is not yet overdue
    early = overdue_milestones(store, OFFICE, D(2026, 4, 10))
    assert early[["milestone_id", "due_date", "days_overdue"]].values.tolist() == [[m1, D(2026, 3, 31), 10]]
    late = overdue_milestones(store, HOUSING, D(2026, 7, 5))
    assert late[["milestone_id", "days_overdue"]].values.tolist() == [[m1, 96], [m2, 5]]
    assert late["lead_units"].tolist() == ["区住房城乡建设委"] * 2 and late["owner"].tolist() == ["张三"] * 2
    assert overdue_milestones(store, COMMERCE, D(2026, 7, 5)).empty  # not its task

    # moving a due date is a versioned edit; the overdue list follows it
    clock.t = T(2026, 3, 20, 9, 0)
    moved = edit_milestone(store, HOUSING, m1, 1, due_date=D(2026, 4, 30))
    assert moved["version"] == 2
    assert overdue_milestones(store, OFFICE, D(2026, 4, 10)).empty
    added = add_milestone(store, HOUSING, TASK, "第二批房源", D(2026, 4, 1))
    assert overdue_milestones(store, OFFICE, D(2026, 4, 10))["milestone_id"].tolist() == [added["milestone_id"]]


# --------------------------------------------------------------------------- districts


def access_log(store: Store) -> list[tuple[Any, ...]]:
    return store.execute("SELECT user_name, action, unit, allowed, detail FROM access_log ORDER BY access_id")


def test_another_districts_unit_of_the_same_name_is_refused_and_logged(tiny_duck: Store, clock: Clock) -> None:
    """A forged call for another district's task: refused by the service, logged, and nothing written."""
    store = tiny_duck
    acc = opened(store)
    mid = acc["milestones"][0]["milestone_id"]
    notice = supervision_notice(store, OFFICE, TASK, "请加快进度", D(2026, 3, 15))
    evidence_id = append_update(store, HOUSING, TASK, 10, "进展", None, [("a.txt", b"a")])["evidence"][0]["evidence_id"]
    before = state(store)
    forged = {
        "open_account": lambda: open_account(store, XC_HRSS, "tz-t02", "计划", "某人", [], []),
        "edit_account": lambda: edit_account(store, XC_HOUSING, TASK, 1, plan="改写通州区的计划"),
        "add_milestone": lambda: add_milestone(store, XC_HOUSING, TASK, "新节点", D(2026, 5, 1)),
        "edit_milestone": lambda: edit_milestone(store, XC_HOUSING, mid, 1, due_date=D(2027, 1, 1)),
        "complete_milestone": lambda: complete_milestone(store, XC_HOUSING, mid, 1),
        "append_update": lambda: append_update(store, XC_PLANNING, TASK, 90, "冒名进展", None, []),
        "reply_notice": lambda: reply_notice(store, XC_HOUSING, notice["notice_id"], "冒名答复"),
        "request_closure": lambda: request_closure(store, XC_HOUSING, TASK, "冒名销账", [("a.txt", b"a")]),
        "account_detail": lambda: account_detail(store, XC_HOUSING, TASK),
        "evidence_content": lambda: evidence_content(store, XC_HOUSING, evidence_id),
    }
    for name, call in forged.items():
        with pytest.raises(AccessDenied, match="只能(办理|查看)西城区的") as refused:
            call()
        assert "通州区" in str(refused.value), name
    assert state(store) == before
    logged = access_log(store)
    assert [(r[2], r[3], r[4]) for r in logged] == [("通州区", False, name) for name in forged]
    assert {r[0] for r in logged} == {"xc.li", "xc.wang", "xc.zhao"}
    assert [r[1] for r in logged] == [
        "ledger.write", "ledger.write", "ledger.write", "ledger.write", "ledger.write", "ledger.update",
        "ledger.reply", "ledger.write", "ledger.read", "ledger.read",
    ]  # fmt: skip


def test_the_message_says_which_district_the_task_is_in(tiny_duck: Store, clock: Clock) -> None:
    with pytest.raises(AccessDenied) as refused:
        open_account(tiny_duck, XC_HRSS, "tz-t02", "计划", "某人", [], [])
    assert str(refused.value) == (
        "无权限：xc.li（西城区 区人力社保局） 只能办理西城区的事项，不能修改任务台账（对象属于通州区）。"
    )
    with pytest.raises(AccessDenied) as refused:
        account_detail(tiny_duck, XC_HRSS, "tz-t02")
    assert "任务 tz-t02" in str(refused.value) and "属于通州区" in str(refused.value)


def test_a_department_without_a_district_may_not_write_or_read_task_ledgers(tiny_duck: Store, clock: Clock) -> None:
    legacy = Principal("old", "department", unit="区人力社保局")
    with pytest.raises(AccessDenied, match="未绑定所属区"):
        open_account(tiny_duck, legacy, "tz-t02", "计划", "某人", [], [])
    with pytest.raises(AccessDenied, match="未绑定所属区"):
        account_detail(tiny_duck, legacy, "tz-t02")
    assert task_ledger(tiny_duck, legacy).empty
    assert tiny_duck.execute("SELECT count(*) FROM task_accounts") == [(0,)]


def test_each_district_keeps_its_own_ledgers(tiny_duck: Store, clock: Clock) -> None:
    """The allowed calls: the same unit name in two districts, each on its own district's tasks."""
    store = tiny_duck
    tz = open_account(store, TZ_HRSS, "tz-t02", "通州区计划", "王敏", [("节点", D(2026, 3, 31))], [])
    xc = open_account(store, XC_HRSS, "xc-t08", "西城区计划", "李强", [("节点", D(2026, 3, 31))], [])
    assert (tz["programme"], xc["programme"]) == ("tongzhou-2025", "xicheng-measures")
    append_update(store, XC_HRSS, "xc-t08", 20, "西城区进展", None, [("a.txt", b"a")])
    edit_account(store, TZ_HRSS, "tz-t02", 1, owner="王敏（通州）")
    complete_milestone(store, XC_HRSS, xc["milestones"][0]["milestone_id"], 1, D(2026, 3, 1))
    notice = supervision_notice(store, OFFICE, "xc-t08", "请报送回访进度", D(2026, 3, 20))
    assert reply_notice(store, XC_HRSS, notice["notice_id"], "已报送")["status"] == "answered"
    closure = request_closure(store, XC_HRSS, "xc-t08", "已完成", [("总结.pdf", b"x")])
    assert decide_closure(store, OFFICE, closure["closure_id"], True)["account"]["status"] == "closed"

    xc_view = task_ledger(store, XC_HRSS)
    assert set(xc_view["district"]) == {"西城区"} and "xc-t08" in xc_view["task_id"].tolist()
    assert not xc_view["task_id"].str.startswith("tz-").any()
    tz_view = task_ledger(store, TZ_HRSS)
    assert set(tz_view["district"]) == {"通州区"} and "tz-t02" in tz_view["task_id"].tolist()
    assert set(task_ledger(store, OFFICE)["district"]) == {"昌平区", "通州区", "西城区", "海淀区"}
    assert overdue_milestones(store, XC_HRSS, D(2026, 7, 1)).empty  # tz-t02's overdue node is not Xicheng's
    assert overdue_milestones(store, TZ_HRSS, D(2026, 7, 1))["task_id"].tolist() == ["tz-t02"]
    assert account_detail(store, XC_HRSS, "xc-t08").status == "closed"
    assert access_log(store) == []  # nothing was refused
