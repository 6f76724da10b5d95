"""Task ledgers (建账-督办-销账), one job a module: catalogue tasks and who sees them in `tasks`, the cycle's
writes in `commands` (beneath them `checks` of input, `writes` of rows with their change_log, `rows` read
back, `errors`), the listings and details in `queries`, and the department scorecard in `scorecard`. Every
call checks the principal again.

May import metrics.auth and below.

>>> from metrics import ledger
>>> ledger.open_account(store, principal, "tz-t01", plan, owner, milestones, kpi_ids)
"""

from metrics.ledger.checks import EVIDENCE_MAX_BYTES
from metrics.ledger.commands import (
    add_milestone,
    append_update,
    complete_milestone,
    decide_closure,
    edit_account,
    edit_milestone,
    open_account,
    reply_notice,
    request_closure,
    supervision_notice,
)
from metrics.ledger.errors import ConcurrentEdit, LedgerError
from metrics.ledger.queries import (
    ACCOUNT_STATUS_ZH,
    AccountDetail,
    EvidenceFile,
    account_detail,
    evidence_content,
    open_notices,
    overdue_milestones,
    task_ledger,
)
from metrics.ledger.rows import Record, now
from metrics.ledger.tasks import TaskRef, find_task, task_refs

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
