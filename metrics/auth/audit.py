"""The audit trail: who changed what and when, read from the append-only change log.

Uploads, ledger writes, releases and user management each append change_log rows with the old and new
values as JSON, all through metrics.storage.changelog (docs/audit.md); this module only reads them and spells out each change as field: old → new. It deliberately has
no function that alters or removes change-log rows (a test scans the repository to keep it that way).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from metrics.auth.access import Principal, check
from metrics.auth.users import logged_refusals
from metrics.contract.records import RECORD_TYPES
from metrics.storage.changelog import Action
from metrics.storage.store import Store

__all__ = [
    "ACTIONS_ZH",
    "ACTION_LABELS_ZH",
    "HISTORY_COLUMNS",
    "MAX_LIMIT",
    "FieldChange",
    "change_history",
    "entity_label",
    "field_changes",
    "field_label",
]

MAX_LIMIT = 10_000
HISTORY_COLUMNS = (
    "change_id",
    "changed_at",
    "user_name",
    "entity",
    "entity_key",
    "action",
    "upload_id",
    "changed_fields",
    "changes",
)
# Every change-log action in Chinese (tests/test_changelog.py checks that each Action has one).
ACTION_LABELS_ZH: dict[Action, str] = {
    Action.INSERT: "新增",
    Action.UPDATE: "修改",
    Action.ACCEPT_WARNINGS: "确认异常值提示后导入",
    Action.CREATE: "生成草稿",
    Action.PUBLISH: "发布",
    Action.DISCARD: "作废",
    Action.ADD: "新建账号",
    Action.ENABLE: "启用账号",
    Action.DISABLE: "停用账号",
    Action.SET_DISTRICT: "设置所属区",
    Action.RESET_PASSWORD: "重置密码",
    Action.LOGIN: "登录",
    Action.LOGIN_FAILED: "登录失败",
    Action.LOCK: "锁定账号",
    Action.BIND_OIDC: "绑定统一身份认证",
    Action.RUN_JOB: "立即运行定时任务",
    Action.REVOKE_SESSIONS: "注销会话",
    Action.SET_ROLE: "修改角色",
    Action.SET_UNIT: "修改单位",
    Action.RESTORE: "恢复备份",
    Action.SEND_TEST_MAIL: "发送测试邮件",
    Action.SUBSCRIBE: "订阅周报邮件",
    Action.UNSUBSCRIBE: "退订周报邮件",
}
# The same, keyed by the text stored in change_log.action (what the audit page maps).
ACTIONS_ZH: dict[str, str] = {a.value: label for a, label in ACTION_LABELS_ZH.items()}
# Tables that are not record types, as an official names them (record types use their title_zh).
ENTITY_ZH: dict[str, str] = {
    "users": "账号",
    "task_accounts": "任务台账",
    "milestones": "时间节点",
    "task_updates": "进展报送",
    "evidence": "佐证材料",
    "supervision_notices": "督办通知",
    "closure_requests": "销账申请",
    "releases": "统计发布",
    "database": "数据库",
    "mail": "邮件",
    "subscriptions": "周报邮件订阅",
    "job_runs": "定时任务",
    "uploads": "数据上传",
}
# Fields of entities that are not record types (their labels are not in the data contract).
FIELD_LABELS: dict[str, dict[str, str]] = {
    "releases": {"as_of": "数据截至", "state": "状态", "release_no": "发布编号", "content_hash": "内容校验值"},
    "uploads": {"warnings": "已确认的异常值提示", "warning_count": "提示条数"},
}
EMPTY_ZH = "（空）"


@dataclass(frozen=True)
class FieldChange:
    """One field of one change: its name and the values before and after (None: absent or null)."""

    field: str
    old: Any
    new: Any

    def text(self, entity: str | None = None) -> str:
        return f"{field_label(entity, self.field)}：{_value_text(self.old)} → {_value_text(self.new)}"


def entity_label(entity: str) -> str:
    """A changed table as a person reads it: 就业安置记录, 任务台账, 统计发布 … (the table name if unknown)."""
    rt = RECORD_TYPES.get(entity)
    return rt.title_zh if rt is not None else ENTITY_ZH.get(entity, entity)


def field_label(entity: str | None, field: str) -> str:
    """The Chinese header of a record-type column (所属区), else the field name as stored."""
    rt = RECORD_TYPES.get(entity or "")
    if rt is not None and field in rt.column_names:
        return rt.column(field).header_zh
    return FIELD_LABELS.get(entity or "", {}).get(field, field)


def _value_text(value: Any) -> str:
    if value is None:
        return EMPTY_ZH
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _json_object(raw: Any) -> dict[str, Any]:
    if raw is None or (isinstance(raw, float) and pd.isna(raw)):
        return {}
    # Decimals keep their digits: an amount stored as 6500.00 reads 6500.00, not 6500.0.
    value = json.loads(raw, parse_float=Decimal) if isinstance(raw, str | bytes) else raw
    return value if isinstance(value, dict) else {"value": value}


def field_changes(old_values: Any, new_values: Any) -> list[FieldChange]:
    """The fields whose value differs between two change-log JSON objects, in the order they were stored.

    An insert (no old values) lists every field that has a value; a removal lists every field it had.
    """
    old, new = _json_object(old_values), _json_object(new_values)
    names = list(new) + [k for k in old if k not in new]
    return [FieldChange(k, old.get(k), new.get(k)) for k in names if old.get(k) != new.get(k)]


def _bound(value: dt.date | dt.datetime, *, end: bool) -> tuple[str, dt.datetime]:
    """A filter bound on changed_at; a plain date as `until` includes that whole day."""
    if isinstance(value, dt.datetime):
        naive = value if value.tzinfo is None else value.astimezone().replace(tzinfo=None)  # local, as stored
        return ("<=" if end else ">="), naive
    start = dt.datetime.combine(value, dt.time())
    return ("<", start + dt.timedelta(days=1)) if end else (">=", start)


@logged_refusals
def change_history(
    store: Store,
    principal: Principal,
    *,
    entity: str | None = None,
    user: str | None = None,
    since: dt.date | dt.datetime | None = None,
    until: dt.date | dt.datetime | None = None,
    key: str | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """Change-log rows, newest first, with each change spelled out (office and admin only: audit.read).

    Filters are exact matches on entity (table name), user and entity key, and an inclusive date or
    time range. Columns: HISTORY_COLUMNS; `changed_fields` lists field names, `changes` reads
    “所属区：通州区 → 大兴区；…”.
    """
    check(principal, "audit.read")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit 应在 1 到 {MAX_LIMIT} 之间：{limit}")
    where: list[str] = []
    params: list[Any] = []
    for column, value in (("entity", entity), ("user_name", user), ("entity_key", key)):
        if value is not None:
            where.append(f"{column} = ?")  # column names from the literal tuple above; values are bound
            params.append(value)
    if since is not None:
        op, bound = _bound(since, end=False)
        where.append(f"changed_at {op} ?")
        params.append(bound)
    if until is not None:
        op, bound = _bound(until, end=True)
        where.append(f"changed_at {op} ?")
        params.append(bound)
    conditions = " AND ".join(where) or "TRUE"  # fixed fragments only; every value is a bound parameter
    sql = (
        "SELECT change_id, changed_at, user_name, entity, entity_key, action, upload_id, "  # noqa: S608
        "old_values::VARCHAR AS old_values, new_values::VARCHAR AS new_values FROM change_log "
        f"WHERE {conditions} ORDER BY changed_at DESC, change_id DESC LIMIT ?"
    )
    params.append(limit)
    rows = store.execute(sql, params)
    records = []
    for change_id, changed_at, user_name, ent, entity_key, action, upload_id, old, new in rows:
        changes = field_changes(old, new)
        records.append(
            {
                "change_id": change_id,
                "changed_at": changed_at,
                "user_name": user_name,
                "entity": ent,
                "entity_key": entity_key,
                "action": action,
                "upload_id": upload_id,
                "changed_fields": [c.field for c in changes],
                "changes": "；".join(c.text(ent) for c in changes),
            }
        )
    frame = pd.DataFrame.from_records(records, columns=list(HISTORY_COLUMNS))
    frame["change_id"] = frame["change_id"].astype("Int64")
    frame["upload_id"] = frame["upload_id"].astype("Int64")
    frame["changed_at"] = pd.to_datetime(frame["changed_at"])
    return frame
