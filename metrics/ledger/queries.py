"""The ledger's reads: the task listing with each task's account state (task_ledger), one task's account
in full (account_detail), evidence downloads, and the overdue time nodes and open supervision notices. Each
checks that the principal may read the task; departments see only their own tasks in their own district.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from metrics.auth.access import Principal, check
from metrics.auth.users import logged_refusals
from metrics.catalogue import load_catalogues
from metrics.ledger.checks import _date
from metrics.ledger.errors import LedgerError
from metrics.ledger.rows import Record, _account, _frame, _records, now
from metrics.ledger.tasks import Catalogues, TaskRef, _check_read, _gate, _visible, find_task, task_refs
from metrics.storage.store import Store

__all__ = [
    "ACCOUNT_STATUS_ZH",
    "LEDGER_COLUMNS",
    "OPEN_NOTICE_COLUMNS",
    "OVERDUE_MILESTONE_COLUMNS",
    "AccountDetail",
    "EvidenceFile",
    "account_detail",
    "evidence_content",
    "open_notices",
    "overdue_milestones",
    "task_ledger",
]

ACCOUNT_STATUS_ZH = {"not_opened": "未建账", "open": "在办", "closure_requested": "销账审核中", "closed": "已销账"}

_EVIDENCE_META = "evidence_id, task_id, update_id, closure_id, file_name, sha256, size, uploaded_by, uploaded_at"


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


def _listing(principal: Principal, as_of: dt.date, catalogues: Catalogues | None) -> tuple[dt.date, dict[str, TaskRef]]:
    """What every ledger listing starts with: the read permission, the as-of date checked, the task refs."""
    check(principal, "ledger.read")
    return _date(as_of, "统计日期"), task_refs(catalogues)


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
    day, refs = _listing(principal, as_of, catalogues)
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
    day, refs = _listing(principal, as_of, catalogues)
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
