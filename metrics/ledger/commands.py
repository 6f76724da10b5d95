"""The ledger's commands, the 建账 → 进展 → 督办 → 销账 cycle: open and edit accounts and time nodes, append
progress with evidence and reported KPI values, supervision notices and replies, closure requests and decisions.
Each checks the principal's role, unit and district first and writes in one transaction with its change_log
rows; a save over a newer version is refused (ConcurrentEdit, "已被他人修改").

    >>> open_account(store, hrss, "tz-t08", "计划……", "张三", [("完成选址", dt.date(2026, 3, 31))], [])
    >>> append_update(store, hrss, "tz-t08", 40, "已开工", {"tz-affordable-rental-housing": 600}, [])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb

from metrics.auth.access import Principal, check
from metrics.auth.users import logged_refusals
from metrics.catalogue.models import ReportedMeasure
from metrics.ledger import writes
from metrics.ledger.checks import (
    SHORT_MAX_CHARS,
    _date,
    _files,
    _linked,
    _milestone_items,
    _number,
    _progress,
    _text,
    _version,
)
from metrics.ledger.errors import ConcurrentEdit, LedgerError
from metrics.ledger.rows import Record, _account, _record, now
from metrics.ledger.tasks import Catalogues, TaskRef, _gate, find_task
from metrics.storage import changelog
from metrics.storage.changelog import Action
from metrics.storage.store import Store

__all__ = [
    "add_milestone",
    "append_update",
    "complete_milestone",
    "decide_closure",
    "edit_account",
    "edit_milestone",
    "open_account",
    "reply_notice",
    "request_closure",
    "supervision_notice",
]


def _live_account(cur: duckdb.DuckDBPyConnection, ref: TaskRef) -> Record:
    """The task's account, which must exist and not be closed."""
    acc = _account(cur, ref.task.id)
    if acc is None:
        raise LedgerError(f"任务 {ref.task.id}「{ref.task.title}」尚未建账，请先建账。")
    if acc["status"] == "closed":
        raise LedgerError(f"任务 {ref.task.id} 已销账，不能再修改或追加。")
    return acc


# --------------------------------------------------------------------------- 建账 and edits


@logged_refusals
def open_account(
    store: Store,
    principal: Principal,
    task_id: str,
    plan: str,
    owner: str,
    milestones: Iterable[tuple[str, dt.date]],
    linked_kpis: Iterable[str] = (),
    *,
    catalogues: Catalogues | None = None,
) -> Record:
    """建账: a lead unit opens the task's account; returns it with its milestones (key "milestones")."""
    _gate(principal, "ledger.write")
    ref = find_task(task_id, catalogues)
    check(principal, "ledger.write", units=ref.lead_units, district=ref.district)
    plan = _text(plan, "工作计划")
    owner = _text(owner, "责任人", max_chars=SHORT_MAX_CHARS)
    items = _milestone_items(milestones)
    kpis = _linked(ref, linked_kpis)
    at = now()
    with store.transaction() as cur:
        if _account(cur, task_id) is not None:
            raise LedgerError(f"任务 {task_id}「{ref.task.title}」已建账，不能重复建账；请在原台账上修改。")
        acc = _record(
            cur,
            "INSERT INTO task_accounts (task_id, programme, plan, owner, linked_kpis, status, version, opened_by, "
            "opened_unit, opened_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, 'open', 1, ?, ?, ?, ?, ?) "
            "RETURNING *",
            [task_id, ref.programme, plan, owner, kpis, principal.user, principal.unit, at, principal.user, at],
        )
        assert acc is not None
        writes.log_change(cur, principal, "task_accounts", task_id, Action.INSERT, None, acc)
        acc["milestones"] = [writes.insert_milestone(cur, principal, task_id, title, due, at) for title, due in items]
    return acc


@logged_refusals
def edit_account(
    store: Store,
    principal: Principal,
    task_id: str,
    expected_version: int,
    *,
    plan: str | None = None,
    owner: str | None = None,
    linked_kpis: Iterable[str] | None = None,
    catalogues: Catalogues | None = None,
) -> Record:
    """Change plan, owner or linked KPIs of an account read at `expected_version` (ConcurrentEdit if stale)."""
    _gate(principal, "ledger.write")
    ref = find_task(task_id, catalogues)
    check(principal, "ledger.write", units=ref.lead_units, district=ref.district)
    expected_version = _version(expected_version)
    wanted: dict[str, Any] = {}
    if plan is not None:
        wanted["plan"] = _text(plan, "工作计划")
    if owner is not None:
        wanted["owner"] = _text(owner, "责任人", max_chars=SHORT_MAX_CHARS)
    if linked_kpis is not None:
        wanted["linked_kpis"] = _linked(ref, linked_kpis)
    at = now()
    with store.transaction() as cur:
        acc = _account(cur, task_id)
        if acc is None:
            raise LedgerError(f"任务 {task_id}「{ref.task.title}」尚未建账，请先建账。")
        if acc["version"] != expected_version:
            raise ConcurrentEdit(acc["version"])
        acc = _live_account(cur, ref)
        changes = {col: value for col, value in wanted.items() if value != acc[col]}
        if not changes:
            return acc
        return writes.bump_account(cur, principal, acc, at, **changes)


def _milestone_for_write(
    cur: duckdb.DuckDBPyConnection, principal: Principal, milestone_id: int, catalogues: Catalogues | None
) -> tuple[Record, TaskRef]:
    ms = _record(cur, "SELECT * FROM milestones WHERE milestone_id = ?", [milestone_id])
    if ms is None:
        raise LedgerError(f"时间节点 {milestone_id} 不存在。")
    ref = find_task(ms["task_id"], catalogues)
    check(principal, "ledger.write", units=ref.lead_units, district=ref.district)
    return ms, ref


@logged_refusals
def add_milestone(
    store: Store,
    principal: Principal,
    task_id: str,
    title: str,
    due_date: dt.date,
    *,
    catalogues: Catalogues | None = None,
) -> Record:
    """A new time node on an open account (lead unit)."""
    _gate(principal, "ledger.write")
    ref = find_task(task_id, catalogues)
    check(principal, "ledger.write", units=ref.lead_units, district=ref.district)
    title = _text(title, "节点名称", max_chars=SHORT_MAX_CHARS)
    due = _date(due_date, "完成时限")
    at = now()
    with store.transaction() as cur:
        _live_account(cur, ref)
        return writes.insert_milestone(cur, principal, task_id, title, due, at)


@logged_refusals
def edit_milestone(
    store: Store,
    principal: Principal,
    milestone_id: int,
    expected_version: int,
    *,
    title: str | None = None,
    due_date: dt.date | None = None,
    catalogues: Catalogues | None = None,
) -> Record:
    """Rename a time node or move its due date (ConcurrentEdit if it changed since `expected_version`)."""
    _gate(principal, "ledger.write")
    expected_version = _version(expected_version)
    wanted: dict[str, Any] = {}
    if title is not None:
        wanted["title"] = _text(title, "节点名称", max_chars=SHORT_MAX_CHARS)
    if due_date is not None:
        wanted["due_date"] = _date(due_date, "完成时限")
    at = now()
    with store.transaction() as cur:
        ms, ref = _milestone_for_write(cur, principal, milestone_id, catalogues)
        if ms["version"] != expected_version:
            raise ConcurrentEdit(ms["version"])
        _live_account(cur, ref)
        changes = {col: value for col, value in wanted.items() if value != ms[col]}
        if not changes:
            return ms
        return writes.bump_milestone(cur, principal, ms, at, **changes)


@logged_refusals
def complete_milestone(
    store: Store,
    principal: Principal,
    milestone_id: int,
    expected_version: int,
    done_date: dt.date | None = None,
    *,
    catalogues: Catalogues | None = None,
) -> Record:
    """Mark a time node done on `done_date` (default today; not in the future, not twice)."""
    _gate(principal, "ledger.write")
    expected_version = _version(expected_version)
    at = now()
    done = at.date() if done_date is None else _date(done_date, "完成日期")
    if done > at.date():
        raise LedgerError(f"完成日期 {done.isoformat()} 晚于今天，不能预先标记完成。")
    with store.transaction() as cur:
        ms, ref = _milestone_for_write(cur, principal, milestone_id, catalogues)
        if ms["version"] != expected_version:
            raise ConcurrentEdit(ms["version"])
        _live_account(cur, ref)
        if ms["done_date"] is not None:
            raise LedgerError(f"时间节点「{ms['title']}」已于 {ms['done_date'].isoformat()} 完成。")
        return writes.bump_milestone(cur, principal, ms, at, done_date=done)


# --------------------------------------------------------------------------- progress updates


@logged_refusals
def append_update(
    store: Store,
    principal: Principal,
    task_id: str,
    progress_pct: int | None,
    narrative: str,
    reported: Mapping[str, float] | None = None,
    evidence: Iterable[tuple[str, bytes]] | None = (),
    *,
    period_end: dt.date | None = None,
    catalogues: Catalogues | None = None,
) -> Record:
    """进展: a lead or cooperating unit appends progress, narrative, evidence and reported KPI values.

    Reported values are accepted for KPIs measured by reported numbers that are linked to the account or
    belong to the task, from a lead unit of the task or the KPI's own lead unit; they are upserted into
    progress_reports (district of the programme, period_end default today) in the same transaction.
    Returns the update with keys "evidence" and "progress_reports" listing what was written with it.
    """
    _gate(principal, "ledger.update")
    ref = find_task(task_id, catalogues)
    check(principal, "ledger.update", units=ref.parties, district=ref.district)
    pct = _progress(progress_pct)
    narrative = _text(narrative, "进展情况", required=False)
    files = _files(evidence)
    at = now()
    end = at.date() if period_end is None else _date(period_end, "填报期末")
    values: dict[str, float] = {}
    for kid, value in (reported or {}).items():
        kpi = ref.kpis.get(kid)
        if kpi is None:
            raise LedgerError(f"指标 {kid} 不属于任务 {task_id} 所在的方案。")
        if not isinstance(kpi.measure, ReportedMeasure):
            raise LedgerError(f"指标 {kid}「{kpi.name_zh}」由业务数据自动计算，不能手工填报。")
        check(principal, "ledger.write", units=ref.lead_units | {kpi.lead_unit}, district=ref.district)
        values[kid] = _number(value, kpi)
    if values and end > at.date():
        raise LedgerError(f"填报期末 {end.isoformat()} 晚于今天。")
    if not narrative.strip() and pct is None and not values and not files:
        raise LedgerError("进展内容为空：请填写进展情况、完成进度、指标数值或上传佐证材料。")
    with store.transaction() as cur:
        acc = _live_account(cur, ref)
        for kid in values:
            if kid not in acc["linked_kpis"] and ref.kpis[kid].task != task_id:
                raise LedgerError(f"指标 {kid}「{ref.kpis[kid].name_zh}」未关联到本任务，请先在台账中关联。")
        upd = _record(
            cur,
            "INSERT INTO task_updates (task_id, unit, author, reported_at, progress_pct, narrative, reported, "
            "period_end) VALUES (?, ?, ?, ?, ?, ?, ?::JSON, ?) RETURNING *",
            [task_id, principal.unit, principal.user, at, pct, narrative, changelog.encode(values) if values else None,
             end if values else None],
        )  # fmt: skip
        assert upd is not None
        writes.log_change(cur, principal, "task_updates", upd["update_id"], Action.INSERT, None, upd)
        upd["evidence"] = writes.insert_evidence(cur, principal, task_id, files, at, update_id=upd["update_id"])
        note = f"任务台账 {task_id} 进展 #{upd['update_id']}"
        upd["progress_reports"] = [
            writes.upsert_report(cur, principal, kid, ref.district, end, value, note) for kid, value in values.items()
        ]
        if values:
            store.bump_data_version(cur)
    return upd


# --------------------------------------------------------------------------- 督办


@logged_refusals
def supervision_notice(
    store: Store,
    principal: Principal,
    task_id: str,
    reason: str,
    reply_by: dt.date,
    *,
    catalogues: Catalogues | None = None,
) -> Record:
    """督办: the office asks the lead unit about a late or lagging task, to be answered by `reply_by`.

    A task without an account may be supervised too (a notice to open it); a closed one may not.
    """
    _gate(principal, "ledger.supervise")
    ref = find_task(task_id, catalogues)
    check(principal, "ledger.supervise", units=ref.lead_units, district=ref.district)
    reason = _text(reason, "督办事由")
    at = now()
    due = _date(reply_by, "答复期限")
    if due < at.date():
        raise LedgerError(f"答复期限 {due.isoformat()} 早于今天。")
    with store.transaction() as cur:
        acc = _account(cur, task_id)
        if acc is not None and acc["status"] == "closed":
            raise LedgerError(f"任务 {task_id} 已销账，无需督办。")
        row = _record(
            cur,
            "INSERT INTO supervision_notices (task_id, issued_by, issued_at, reason, reply_by, status) "
            "VALUES (?, ?, ?, ?, ?, 'open') RETURNING *",
            [task_id, principal.user, at, reason, due],
        )
        assert row is not None
        writes.log_change(cur, principal, "supervision_notices", row["notice_id"], Action.INSERT, None, row)
    return row


@logged_refusals
def reply_notice(
    store: Store,
    principal: Principal,
    notice_id: int,
    reply: str,
    *,
    catalogues: Catalogues | None = None,
) -> Record:
    """The lead unit answers a supervision notice, once."""
    _gate(principal, "ledger.reply")
    reply = _text(reply, "答复内容")
    at = now()
    with store.transaction() as cur:
        notice = _record(cur, "SELECT * FROM supervision_notices WHERE notice_id = ?", [notice_id])
        if notice is None:
            raise LedgerError(f"督办单 {notice_id} 不存在。")
        ref = find_task(notice["task_id"], catalogues)
        check(principal, "ledger.reply", units=ref.lead_units, district=ref.district)
        if notice["status"] != "open":
            raise LedgerError(f"督办单 {notice_id} 已于 {notice['replied_at']:%Y-%m-%d} 答复，不能重复答复。")
        row = _record(
            cur,
            "UPDATE supervision_notices SET reply = ?, replied_by = ?, replied_unit = ?, replied_at = ?, "
            "status = 'answered' WHERE notice_id = ? AND status = 'open' RETURNING *",
            [reply, principal.user, principal.unit, at, notice_id],
        )
        assert row is not None
        writes.log_change(cur, principal, "supervision_notices", notice_id, Action.UPDATE, notice, row)
    return row


# --------------------------------------------------------------------------- 销账


@logged_refusals
def request_closure(
    store: Store,
    principal: Principal,
    task_id: str,
    summary: str,
    evidence: Iterable[tuple[str, bytes]],
    *,
    expected_version: int | None = None,
    catalogues: Catalogues | None = None,
) -> Record:
    """销账申请: the lead unit asks to close an open account, with a summary and at least one evidence file."""
    _gate(principal, "ledger.write")
    ref = find_task(task_id, catalogues)
    check(principal, "ledger.write", units=ref.lead_units, district=ref.district)
    summary = _text(summary, "完成情况说明")
    files = _files(evidence)
    if not files:
        raise LedgerError("申请销账须附佐证材料。")
    at = now()
    with store.transaction() as cur:
        acc = _account(cur, task_id)
        if acc is None:
            raise LedgerError(f"任务 {task_id}「{ref.task.title}」尚未建账，不能申请销账。")
        if expected_version is not None and acc["version"] != _version(expected_version):
            raise ConcurrentEdit(acc["version"])
        if acc["status"] == "closure_requested":
            raise LedgerError(f"任务 {task_id} 已有待审核的销账申请。")
        if acc["status"] == "closed":
            raise LedgerError(f"任务 {task_id} 已销账。")
        row = _record(
            cur,
            "INSERT INTO closure_requests (task_id, requested_by, requested_unit, requested_at, summary) "
            "VALUES (?, ?, ?, ?, ?) RETURNING *",
            [task_id, principal.user, principal.unit, at, summary],
        )
        assert row is not None
        writes.log_change(cur, principal, "closure_requests", row["closure_id"], Action.INSERT, None, row)
        row["evidence"] = writes.insert_evidence(cur, principal, task_id, files, at, closure_id=row["closure_id"])
        row["account"] = writes.bump_account(cur, principal, acc, at, status="closure_requested")
    return row


@logged_refusals
def decide_closure(
    store: Store,
    principal: Principal,
    closure_id: int,
    approve: bool,
    reason: str | None = None,
    *,
    catalogues: Catalogues | None = None,
) -> Record:
    """The office approves a closure request (the account is closed) or returns it with a reason (reopened)."""
    _gate(principal, "ledger.approve")
    if not isinstance(approve, bool):
        raise LedgerError("审核结论须为批准或退回。")
    if approve:
        reason = None if reason is None or not str(reason).strip() else _text(reason, "审核意见")
    else:
        reason = _text(reason, "退回理由")
    at = now()
    with store.transaction() as cur:
        req = _record(cur, "SELECT * FROM closure_requests WHERE closure_id = ?", [closure_id])
        if req is None:
            raise LedgerError(f"销账申请 {closure_id} 不存在。")
        ref = find_task(req["task_id"], catalogues)
        check(principal, "ledger.approve", units=ref.lead_units, district=ref.district)
        if req["decision"] is not None:
            raise LedgerError(
                f"销账申请 {closure_id} 已审核（{'批准' if req['decision'] == 'approved' else '退回'}）。"
            )
        acc = _account(cur, req["task_id"])
        if acc is None or acc["status"] != "closure_requested":  # pragma: no cover - kept in step by this module
            raise LedgerError(f"任务 {req['task_id']} 不在销账审核中。")
        row = _record(
            cur,
            "UPDATE closure_requests SET decision = ?, decided_by = ?, decided_at = ?, reason = ? "
            "WHERE closure_id = ? AND decision IS NULL RETURNING *",
            ["approved" if approve else "returned", principal.user, at, reason, closure_id],
        )
        assert row is not None
        writes.log_change(cur, principal, "closure_requests", closure_id, Action.UPDATE, req, row)
        row["account"] = writes.bump_account(cur, principal, acc, at, status="closed" if approve else "open")
    return row
