"""The task ledger (台账) of the 建账 → 进展 → 督办 → 销账 cycle, for the catalogue's tasks, in the service layer.

Departments must never lose or silently overwrite what they entered: every function checks the principal's
role, unit and district (the task's programme district) first, writes in one transaction together with its
change_log rows, and edits of accounts and milestones carry a version, so a save over a newer version is
refused (ConcurrentEdit, "已被他人修改").

    >>> open_account(store, hrss, "tz-t08", "计划……", "张三", [("完成选址", dt.date(2026, 3, 31))], [])
    >>> append_update(store, hrss, "tz-t08", 40, "已开工", {"tz-affordable-rental-housing": 600}, [])
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd

from metrics.auth.access import ACTIONS, AccessDenied, Principal, check
from metrics.auth.users import logged_refusals
from metrics.catalogue import Catalogue, Kpi, Task, load_catalogues
from metrics.catalogue.models import ReportedMeasure
from metrics.contract.errors import KpiError
from metrics.storage import changelog, clock
from metrics.storage.changelog import Action
from metrics.storage.store import Store

__all__ = [
    "ACCOUNT_STATUS_ZH",
    "EVIDENCE_MAX_BYTES",
    "AccountDetail",
    "ConcurrentEdit",
    "EvidenceFile",
    "LedgerError",
    "Record",
    "TaskRef",
    "account_detail",
    "add_milestone",
    "append_update",
    "complete_milestone",
    "decide_closure",
    "edit_account",
    "edit_milestone",
    "evidence_content",
    "find_task",
    "now",
    "open_account",
    "open_notices",
    "overdue_milestones",
    "reply_notice",
    "request_closure",
    "supervision_notice",
    "task_ledger",
    "task_refs",
]

EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
TEXT_MAX_CHARS = 20_000
SHORT_MAX_CHARS = 200
ACCOUNT_STATUS_ZH = {"not_opened": "未建账", "open": "在办", "closure_requested": "销账审核中", "closed": "已销账"}

Record = dict[str, Any]
Catalogues = Mapping[str, Catalogue]


class LedgerError(KpiError, ValueError):
    """A ledger request that cannot be carried out as asked; the message is Chinese, for the user."""


class ConcurrentEdit(LedgerError):
    """The row was saved by someone else since the caller read it (its version moved on)."""

    def __init__(self, current_version: int):
        self.current_version = current_version
        super().__init__(f"已被他人修改，请刷新后重试（当前版本 {current_version}）")


def now() -> dt.datetime:
    """The time stamped on ledger writes: the product's clock (docs/time.md); tests pin the clock."""
    return clock.now()


# --------------------------------------------------------------------------- catalogue tasks


@dataclass(frozen=True)
class TaskRef:
    """A catalogue task with its programme, the programme's district and the programme's KPIs by id."""

    programme: str
    district: str
    task: Task
    kpis: Mapping[str, Kpi]

    @property
    def lead_units(self) -> frozenset[str]:
        return frozenset(self.task.lead_units)

    @property
    def parties(self) -> frozenset[str]:
        """Lead and cooperating units: those who may append progress updates."""
        return frozenset(self.task.lead_units) | frozenset(self.task.cooperating_units)

    @property
    def lead_text(self) -> str:
        return "、".join(self.task.lead_units)


def task_refs(catalogues: Catalogues | None = None) -> dict[str, TaskRef]:
    """Every catalogue task by id, in catalogue order (task ids are unique across programmes)."""
    cats = catalogues if catalogues is not None else load_catalogues()
    refs: dict[str, TaskRef] = {}
    for pid, cat in cats.items():
        kpis = {k.id: k for k in cat.kpis}
        for task in cat.tasks:
            refs[task.id] = TaskRef(pid, cat.programme.district, task, kpis)
    return refs


def find_task(task_id: str, catalogues: Catalogues | None = None) -> TaskRef:
    ref = task_refs(catalogues).get(task_id)
    if ref is None:
        raise LedgerError(f"未知任务：{task_id}（目录中没有此任务）。")
    return ref


# --------------------------------------------------------------------------- permissions


def _gate(principal: Principal, action: str) -> None:
    """The role part of a check, made before anything is read; the unit part follows once it is known."""
    if principal.role not in ACTIONS[action]:
        raise AccessDenied(principal, action)


def _visible(principal: Principal, ref: TaskRef) -> bool:
    """Departments see the ledgers of tasks they lead or cooperate on in their own district (DESIGN §4);
    other readers see all."""
    if principal.role != "department":
        return True
    return principal.unit is not None and principal.unit in ref.parties and principal.district == ref.district


def _check_read(principal: Principal, ref: TaskRef) -> None:
    check(principal, "ledger.read")
    if principal.role == "department" and principal.district != ref.district:
        raise AccessDenied(
            principal,
            "ledger.read",
            ref.district,
            reason=(
                f"无权限：{principal.display} 只能查看{principal.district}的任务台账，"
                f"任务 {ref.task.id}「{ref.task.title}」属于{ref.district}。"
                if principal.district
                else f"无权限：账号 {principal.display} 未绑定所属区，不能查看任务台账。请联系系统管理员绑定所属区。"
            ),
        )
    if not _visible(principal, ref):
        raise AccessDenied(principal, "ledger.read", ref.lead_text)


# --------------------------------------------------------------------------- input checks


def _text(value: object, label: str, *, required: bool = True, max_chars: int = TEXT_MAX_CHARS) -> str:
    """Text is stored exactly as typed (HTML is not stripped; the UI escapes it)."""
    if not isinstance(value, str):
        raise LedgerError(f"{label}须为文字。")
    if required and not value.strip():
        raise LedgerError(f"请填写{label}。")
    if len(value) > max_chars:
        raise LedgerError(f"{label}过长（{len(value)} 字，上限 {max_chars} 字）。")
    if "\x00" in value:
        raise LedgerError(f"{label}含有无效字符。")
    return value


def _date(value: object, label: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise LedgerError(f"{label}不是有效日期：{value!r}（应为 年-月-日，如 2026-03-31）。")


def _version(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LedgerError(f"版本号无效：{value!r}。")
    return value


def _progress(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise LedgerError(f"完成进度须为 0–100 的整数：{value!r}。")
    if value != int(value) or not 0 <= value <= 100:
        raise LedgerError(f"完成进度须为 0–100 的整数：{value!r}。")
    return int(value)


def _number(value: object, kpi: Kpi) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise LedgerError(f"指标「{kpi.name_zh}」的填报值须为数字：{value!r}。")
    number = float(value)
    if not math.isfinite(number):
        raise LedgerError(f"指标「{kpi.name_zh}」的填报值须为有限数字：{value!r}。")
    return number


def _file_name(value: object) -> str:
    if not isinstance(value, str):
        raise LedgerError("佐证材料的文件名须为文字。")
    name = value.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        raise LedgerError("佐证材料缺少文件名。")
    return _text(name, "文件名", max_chars=255)


def _files(evidence: Iterable[tuple[str, bytes]] | None) -> list[tuple[str, bytes, str]]:
    """(file name, content, SHA-256) of each evidence file, refused whole if any one is bad."""
    out = []
    for item in evidence or ():
        try:
            raw_name, content = item
        except (TypeError, ValueError):
            raise LedgerError("佐证材料须为（文件名, 内容）。") from None
        name = _file_name(raw_name)
        if isinstance(content, bytearray | memoryview):
            content = bytes(content)
        if not isinstance(content, bytes):
            raise LedgerError(f"佐证材料「{name}」的内容须为文件字节。")
        if not content:
            raise LedgerError(f"佐证材料「{name}」是空文件。")
        if len(content) > EVIDENCE_MAX_BYTES:
            raise LedgerError(
                f"佐证材料「{name}」大小为 {len(content) / 1048576:.1f} MB，超过 20 MB 上限，请压缩或拆分后上传。"
            )
        out.append((name, content, hashlib.sha256(content).hexdigest()))
    return out


def _linked(ref: TaskRef, linked_kpis: Iterable[str] | None) -> list[str]:
    out: list[str] = []
    for kid in linked_kpis or ():
        if kid not in ref.kpis:
            raise LedgerError(f"关联指标 {kid} 不属于任务 {ref.task.id} 所在的方案。")
        if kid not in out:
            out.append(kid)
    return out


def _milestone_items(milestones: Iterable[tuple[str, dt.date]] | None) -> list[tuple[str, dt.date]]:
    out = []
    for n, item in enumerate(milestones or (), start=1):
        try:
            title, due = item
        except (TypeError, ValueError):
            raise LedgerError(f"第 {n} 个时间节点须为（节点名称, 完成时限）。") from None
        out.append((_text(title, f"第 {n} 个时间节点的名称", max_chars=SHORT_MAX_CHARS), _date(due, "完成时限")))
    return out


# --------------------------------------------------------------------------- database helpers


def _records(cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> list[Record]:
    res = cur.execute(sql, params)
    cols = [d[0] for d in res.description]
    rows = [dict(zip(cols, r, strict=True)) for r in res.fetchall()]
    for row in rows:
        if isinstance(row.get("reported"), str):
            row["reported"] = json.loads(row["reported"])
    return rows


def _record(cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> Record | None:
    rows = _records(cur, sql, params)
    return rows[0] if rows else None


def _frame(cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
    res = cur.execute(sql, params)
    cols = [d[0] for d in res.description]
    df = pd.DataFrame(res.fetchall(), columns=cols)
    if "reported" in df.columns:
        df["reported"] = [json.loads(v) if isinstance(v, str) else v for v in df["reported"]]
    return df


def _log(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    entity: str,
    key: object,
    action: Action,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
) -> None:
    """One append-only change_log row (entity = table name), written in the caller's transaction."""
    changelog.record(cur, principal.user, entity, key, action, old, new)


def _account(cur: duckdb.DuckDBPyConnection, task_id: str) -> Record | None:
    return _record(cur, "SELECT * FROM task_accounts WHERE task_id = ?", [task_id])


def _live_account(cur: duckdb.DuckDBPyConnection, ref: TaskRef) -> Record:
    """The task's account, which must exist and not be closed."""
    acc = _account(cur, ref.task.id)
    if acc is None:
        raise LedgerError(f"任务 {ref.task.id}「{ref.task.title}」尚未建账，请先建账。")
    if acc["status"] == "closed":
        raise LedgerError(f"任务 {ref.task.id} 已销账，不能再修改或追加。")
    return acc


def _bump_account(
    cur: duckdb.DuckDBPyConnection, principal: Principal, acc: Record, at: dt.datetime, **changes: Any
) -> Record:
    """Update an account row in place with version + 1, guarded by the version that was read."""
    sets = {**changes, "updated_by": principal.user, "updated_at": at}
    assignments = ", ".join(f"{col} = ?" for col in sets)  # column names from this module, never from input
    new = _record(
        cur,
        f"UPDATE task_accounts SET {assignments}, version = version + 1 "  # noqa: S608
        "WHERE task_id = ? AND version = ? RETURNING *",
        [*sets.values(), acc["task_id"], acc["version"]],
    )
    if new is None:  # pragma: no cover - the write lock makes read-then-update atomic within a process
        current = _account(cur, acc["task_id"])
        raise ConcurrentEdit(current["version"] if current else acc["version"])
    _log(cur, principal, "task_accounts", acc["task_id"], Action.UPDATE, acc, new)
    return new


def _insert_evidence(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    task_id: str,
    files: list[tuple[str, bytes, str]],
    at: dt.datetime,
    *,
    update_id: int | None = None,
    closure_id: int | None = None,
) -> list[Record]:
    out = []
    for name, content, sha in files:
        row = _record(
            cur,
            "INSERT INTO evidence (task_id, update_id, closure_id, file_name, sha256, size, content, uploaded_by, "
            "uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING evidence_id, task_id, update_id, closure_id, "
            "file_name, sha256, size, uploaded_by, uploaded_at",
            [task_id, update_id, closure_id, name, sha, len(content), content, principal.user, at],
        )
        assert row is not None
        _log(cur, principal, "evidence", row["evidence_id"], Action.INSERT, None, row)
        out.append(row)
    return out


_EVIDENCE_META = "evidence_id, task_id, update_id, closure_id, file_name, sha256, size, uploaded_by, uploaded_at"


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
        _log(cur, principal, "task_accounts", task_id, Action.INSERT, None, acc)
        acc["milestones"] = [_insert_milestone(cur, principal, task_id, title, due, at) for title, due in items]
    return acc


def _insert_milestone(
    cur: duckdb.DuckDBPyConnection, principal: Principal, task_id: str, title: str, due: dt.date, at: dt.datetime
) -> Record:
    row = _record(
        cur,
        "INSERT INTO milestones (task_id, title, due_date, version, created_by, created_at, updated_by, updated_at) "
        "VALUES (?, ?, ?, 1, ?, ?, ?, ?) RETURNING *",
        [task_id, title, due, principal.user, at, principal.user, at],
    )
    assert row is not None
    _log(cur, principal, "milestones", row["milestone_id"], Action.INSERT, None, row)
    return row


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
        return _bump_account(cur, principal, acc, at, **changes)


def _milestone_for_write(
    cur: duckdb.DuckDBPyConnection, principal: Principal, milestone_id: int, catalogues: Catalogues | None
) -> tuple[Record, TaskRef]:
    ms = _record(cur, "SELECT * FROM milestones WHERE milestone_id = ?", [milestone_id])
    if ms is None:
        raise LedgerError(f"时间节点 {milestone_id} 不存在。")
    ref = find_task(ms["task_id"], catalogues)
    check(principal, "ledger.write", units=ref.lead_units, district=ref.district)
    return ms, ref


def _bump_milestone(
    cur: duckdb.DuckDBPyConnection, principal: Principal, ms: Record, at: dt.datetime, **changes: Any
) -> Record:
    sets = {**changes, "updated_by": principal.user, "updated_at": at}
    assignments = ", ".join(f"{col} = ?" for col in sets)  # column names from this module, never from input
    new = _record(
        cur,
        f"UPDATE milestones SET {assignments}, version = version + 1 "  # noqa: S608
        "WHERE milestone_id = ? AND version = ? RETURNING *",
        [*sets.values(), ms["milestone_id"], ms["version"]],
    )
    assert new is not None  # the version was checked under the write lock
    _log(cur, principal, "milestones", ms["milestone_id"], Action.UPDATE, ms, new)
    return new


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
        return _insert_milestone(cur, principal, task_id, title, due, at)


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
        return _bump_milestone(cur, principal, ms, at, **changes)


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
        return _bump_milestone(cur, principal, ms, at, done_date=done)


# --------------------------------------------------------------------------- progress updates


def _upsert_report(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    kpi_id: str,
    district: str,
    period_end: dt.date,
    value: float,
    note: str,
) -> Record:
    """One progress_reports row by its natural key (kpi_id, district, period_end), with its change_log row."""
    key = [kpi_id, district, period_end]
    unit_name = principal.unit or principal.user
    old = _record(cur, "SELECT * FROM progress_reports WHERE kpi_id = ? AND district = ? AND period_end = ?", key)
    if old is None:
        new = _record(
            cur,
            "INSERT INTO progress_reports (kpi_id, district, period_end, value, unit_name, note, upload_id) "
            "VALUES (?, ?, ?, ?, ?, ?, NULL) RETURNING *",
            [*key, value, unit_name, note],
        )
    else:
        new = _record(
            cur,
            "UPDATE progress_reports SET value = ?, unit_name = ?, note = ?, upload_id = NULL "
            "WHERE kpi_id = ? AND district = ? AND period_end = ? RETURNING *",
            [value, unit_name, note, *key],
        )
    assert new is not None
    _log(
        cur,
        principal,
        "progress_reports",
        f"{kpi_id}|{district}|{period_end.isoformat()}",
        Action.INSERT if old is None else Action.UPDATE,
        old,
        new,
    )
    return new


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
        _log(cur, principal, "task_updates", upd["update_id"], Action.INSERT, None, upd)
        upd["evidence"] = _insert_evidence(cur, principal, task_id, files, at, update_id=upd["update_id"])
        note = f"任务台账 {task_id} 进展 #{upd['update_id']}"
        upd["progress_reports"] = [
            _upsert_report(cur, principal, kid, ref.district, end, value, note) for kid, value in values.items()
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
        _log(cur, principal, "supervision_notices", row["notice_id"], Action.INSERT, None, row)
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
        _log(cur, principal, "supervision_notices", notice_id, Action.UPDATE, notice, row)
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
        _log(cur, principal, "closure_requests", row["closure_id"], Action.INSERT, None, row)
        row["evidence"] = _insert_evidence(cur, principal, task_id, files, at, closure_id=row["closure_id"])
        row["account"] = _bump_account(cur, principal, acc, at, status="closure_requested")
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
        _log(cur, principal, "closure_requests", closure_id, Action.UPDATE, req, row)
        row["account"] = _bump_account(cur, principal, acc, at, status="closed" if approve else "open")
    return row


# --------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class AccountDetail:
    """Everything about one task's ledger; frames are newest first where order matters."""

    ref: TaskRef
    account: Record | None  # None: 未建账
    milestones: pd.DataFrame
    updates: pd.DataFrame
    evidence: pd.DataFrame  # metadata only, never the content
    notices: pd.DataFrame
    closures: pd.DataFrame

    @property
    def status(self) -> str:
        return "not_opened" if self.account is None else str(self.account["status"])

    @property
    def status_zh(self) -> str:
        return ACCOUNT_STATUS_ZH[self.status]


@dataclass(frozen=True)
class EvidenceFile:
    evidence_id: int
    task_id: str
    file_name: str
    sha256: str
    size: int
    content: bytes


@logged_refusals
def account_detail(
    store: Store,
    principal: Principal,
    task_id: str,
    *,
    as_of: dt.date | None = None,
    catalogues: Catalogues | None = None,
) -> AccountDetail:
    """The account, its milestones (with days overdue as of `as_of`, default today), updates newest first,
    evidence metadata, supervision notices and closure requests."""
    _gate(principal, "ledger.read")
    ref = find_task(task_id, catalogues)
    _check_read(principal, ref)
    day = as_of or now().date()
    cur = store.cursor()
    try:
        return AccountDetail(
            ref=ref,
            account=_account(cur, task_id),
            milestones=_frame(
                cur,
                "SELECT milestone_id, title, due_date, done_date, version, "
                "done_date IS NULL AND due_date < ? AS overdue, "
                "CASE WHEN done_date IS NULL AND due_date < ? THEN date_diff('day', due_date, ?) END AS days_overdue, "
                "created_by, created_at, updated_by, updated_at FROM milestones WHERE task_id = ? "
                "ORDER BY due_date, milestone_id",
                [day, day, day, task_id],
            ),
            updates=_frame(
                cur,
                "SELECT u.update_id, u.reported_at, u.unit, u.author, u.progress_pct, u.narrative, u.reported, "
                "u.period_end, (SELECT count(*) FROM evidence e WHERE e.update_id = u.update_id) AS evidence_files "
                "FROM task_updates u WHERE u.task_id = ? ORDER BY u.reported_at DESC, u.update_id DESC",
                [task_id],
            ),
            evidence=_frame(
                cur,
                f"SELECT {_EVIDENCE_META} FROM evidence WHERE task_id = ? "  # noqa: S608
                "ORDER BY uploaded_at DESC, evidence_id DESC",
                [task_id],
            ),
            notices=_frame(
                cur,
                "SELECT *, status = 'open' AND reply_by < ? AS overdue FROM supervision_notices WHERE task_id = ? "
                "ORDER BY issued_at DESC, notice_id DESC",
                [day, task_id],
            ),
            closures=_frame(
                cur,
                "SELECT * FROM closure_requests WHERE task_id = ? ORDER BY requested_at DESC, closure_id DESC",
                [task_id],
            ),
        )
    finally:
        cur.close()


@logged_refusals
def evidence_content(
    store: Store, principal: Principal, evidence_id: int, *, catalogues: Catalogues | None = None
) -> EvidenceFile:
    """Download one evidence file, for those who may read its task's ledger."""
    _gate(principal, "ledger.read")
    cur = store.cursor()
    try:
        row = cur.execute(
            "SELECT evidence_id, task_id, file_name, sha256, size, content FROM evidence WHERE evidence_id = ?",
            [evidence_id],
        ).fetchone()
    finally:
        cur.close()
    if row is None:
        raise LedgerError(f"佐证材料 {evidence_id} 不存在。")
    _check_read(principal, find_task(row[1], catalogues))
    return EvidenceFile(int(row[0]), str(row[1]), str(row[2]), str(row[3]), int(row[4]), bytes(row[5]))


LEDGER_COLUMNS = (
    "programme",
    "district",
    "task_id",
    "clause",
    "title",
    "lead_units",
    "cooperating_units",
    "status",
    "status_zh",
    "owner",
    "version",
    "linked_kpis",
    "milestones",
    "milestones_done",
    "overdue_milestones",
    "next_due",
    "progress_pct",
    "last_update_at",
    "open_notices",
    "opened_at",
)


@logged_refusals
def task_ledger(
    store: Store,
    principal: Principal,
    programme: str | None = None,
    *,
    as_of: dt.date | None = None,
    catalogues: Catalogues | None = None,
) -> pd.DataFrame:
    """Every catalogue task (of one programme, or all) with its account, if any: tasks without one are 未建账.

    Departments get only the tasks they lead or cooperate on, in their own district. Overdue counts are as of
    `as_of` (default today) and are zero for closed accounts; progress_pct is the latest update that gave one.
    """
    check(principal, "ledger.read")
    cats = catalogues if catalogues is not None else load_catalogues()
    if programme is not None and programme not in cats:
        raise LedgerError(f"未知方案：{programme}。")
    day = as_of or now().date()
    cur = store.cursor()
    try:
        accounts = {r["task_id"]: r for r in _records(cur, "SELECT * FROM task_accounts")}
        ms = {
            r[0]: r[1:]
            for r in cur.execute(
                "SELECT task_id, count(*), count(done_date), count(*) FILTER (WHERE done_date IS NULL AND due_date < ?), "
                "min(due_date) FILTER (WHERE done_date IS NULL) FROM milestones GROUP BY task_id",
                [day],
            ).fetchall()
        }
        ups = {
            r[0]: r[1:]
            for r in cur.execute(
                "SELECT task_id, max(reported_at), arg_max(progress_pct, update_id) FILTER (WHERE progress_pct IS NOT NULL) "
                "FROM task_updates GROUP BY task_id"
            ).fetchall()
        }
        notices = dict(
            cur.execute(
                "SELECT task_id, count(*) FROM supervision_notices WHERE status = 'open' GROUP BY task_id"
            ).fetchall()
        )
    finally:
        cur.close()
    rows = []
    for ref in task_refs(cats).values():
        if (programme is not None and ref.programme != programme) or not _visible(principal, ref):
            continue
        acc = accounts.get(ref.task.id)
        status = "not_opened" if acc is None else acc["status"]
        n, done, overdue, next_due = ms.get(ref.task.id, (0, 0, 0, None))
        last_at, pct = ups.get(ref.task.id, (None, None))
        rows.append(
            {
                "programme": ref.programme,
                "district": ref.district,
                "task_id": ref.task.id,
                "clause": ref.task.clause,
                "title": ref.task.title,
                "lead_units": ref.lead_text,
                "cooperating_units": "、".join(ref.task.cooperating_units),
                "status": status,
                "status_zh": ACCOUNT_STATUS_ZH[status],
                "owner": acc["owner"] if acc else None,
                "version": acc["version"] if acc else None,
                "linked_kpis": list(acc["linked_kpis"]) if acc else [],
                "milestones": int(n),
                "milestones_done": int(done),
                "overdue_milestones": 0 if status == "closed" else int(overdue),
                "next_due": next_due,
                "progress_pct": pct,
                "last_update_at": last_at,
                "open_notices": int(notices.get(ref.task.id, 0)),
                "opened_at": acc["opened_at"] if acc else None,
            }
        )
    df = pd.DataFrame(rows, columns=list(LEDGER_COLUMNS))
    df["version"] = df["version"].astype("Int64")
    df["progress_pct"] = df["progress_pct"].astype("Int64")
    return df


OVERDUE_MILESTONE_COLUMNS = (
    "programme",
    "task_id",
    "task_title",
    "lead_units",
    "owner",
    "milestone_id",
    "milestone",
    "due_date",
    "days_overdue",
)


@logged_refusals
def overdue_milestones(
    store: Store, principal: Principal, as_of: dt.date, *, catalogues: Catalogues | None = None
) -> pd.DataFrame:
    """Milestones due before `as_of` and not done, on accounts not closed; most overdue first.

    Departments get those of tasks they lead or cooperate on in their own district.
    """
    check(principal, "ledger.read")
    day = _date(as_of, "统计日期")
    refs = task_refs(catalogues)
    rows = store.execute(
        "SELECT m.task_id, a.owner, m.milestone_id, m.title, m.due_date, date_diff('day', m.due_date, ?) "
        "FROM milestones m JOIN task_accounts a ON a.task_id = m.task_id "
        "WHERE m.done_date IS NULL AND m.due_date < ? AND a.status <> 'closed' "
        "ORDER BY m.due_date, m.task_id, m.milestone_id",
        [day, day],
    )
    out = []
    for task_id, owner, mid, title, due, days in rows:
        ref = refs.get(task_id)
        if ref is None or not _visible(principal, ref):
            continue
        out.append((ref.programme, task_id, ref.task.title, ref.lead_text, owner, mid, title, due, int(days)))
    return pd.DataFrame(out, columns=list(OVERDUE_MILESTONE_COLUMNS))


OPEN_NOTICE_COLUMNS = (
    "notice_id",
    "programme",
    "task_id",
    "task_title",
    "lead_units",
    "issued_by",
    "issued_at",
    "reason",
    "reply_by",
    "overdue",
    "days_overdue",
)


@logged_refusals
def open_notices(
    store: Store, principal: Principal, as_of: dt.date, *, catalogues: Catalogues | None = None
) -> pd.DataFrame:
    """Supervision notices not yet answered; overdue when reply_by < as_of (days_overdue counts from reply_by).

    Departments get those of tasks they lead or cooperate on in their own district.
    """
    check(principal, "ledger.read")
    day = _date(as_of, "统计日期")
    refs = task_refs(catalogues)
    rows = store.execute(
        "SELECT notice_id, task_id, issued_by, issued_at, reason, reply_by FROM supervision_notices "
        "WHERE status = 'open' ORDER BY reply_by, notice_id"
    )
    out = []
    for nid, task_id, by, at, reason, reply_by in rows:
        ref = refs.get(task_id)
        if ref is None or not _visible(principal, ref):
            continue
        late = reply_by < day
        out.append(
            (nid, ref.programme, task_id, ref.task.title, ref.lead_text, by, at, reason, reply_by, late,
             (day - reply_by).days if late else 0)
        )  # fmt: skip
    return pd.DataFrame(out, columns=list(OPEN_NOTICE_COLUMNS))
