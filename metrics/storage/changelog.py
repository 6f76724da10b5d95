"""The one writer of the append-only change log (docs/audit.md).

Every change_log row is written here, in the caller's transaction (the cursor it passes), so a change and
its log row commit or roll back together:

- `record(cur, user, entity, key, action, old, new)` writes one row: the users service, the task ledger
  and the release service call it. Old and new values are JSON objects encoded by `encode` (dates and
  times as ISO text, Decimals as numbers, Chinese unescaped); a password hash is never passed in.
- `record_select(cur, user, entity, ...)` writes one row per row of a query, for uploads, which log
  thousands of records at once and stay set-based: the caller gives the SQL expressions for the key,
  the old and the new values (DuckDB's `to_json`) and the rows, and takes the action expression from
  `action_case`, which spells the enum's values — so the action list and the INSERT statement live here too.

`changed_at` always comes from the one clock, metrics.storage.clock (docs/time.md). `record_select` takes
`at` only so an upload's log rows carry the very stamp of its `uploads` row, which the caller took from the
same clock just before.

Nothing here updates or deletes rows (tests/test_audit.py scans the repository for that).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any

import duckdb

from metrics.storage import clock

__all__ = ["Action", "action_case", "encode", "record", "record_select"]

_COLUMNS = "changed_at, user_name, upload_id, entity, entity_key, action, old_values, new_values"


class Action(StrEnum):
    """What a change did. The audit page names each in Chinese (metrics.auth.audit.ACTIONS_ZH)."""

    # uploads and the task ledger
    INSERT = "insert"
    UPDATE = "update"
    ACCEPT_WARNINGS = "accept_warnings"  # an upload imported despite its outlier warnings (docs/uploads.md)
    # statistical releases
    CREATE = "create"
    PUBLISH = "publish"
    DISCARD = "discard"
    # accounts: management by an administrator
    ADD = "add"
    ENABLE = "enable"
    DISABLE = "disable"
    SET_DISTRICT = "set_district"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - an action name, not a password
    # accounts: signing in (the account's own row changes)
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOCK = "lock"
    BIND_OIDC = "bind_oidc"
    # the scheduler: an administrator's "run now"
    RUN_JOB = "run_job"
    REVOKE_SESSIONS = "revoke_sessions"  # an administrator, a disable or a password reset ends its sessions
    # the admin page (docs/admin.md)
    SET_ROLE = "set_role"
    SET_UNIT = "set_unit"
    RESTORE = "restore"
    SEND_TEST_MAIL = "send_test_mail"
    # weekly-briefing e-mail subscriptions (docs/server.md); a changed subscription is an UPDATE
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"


def _jsonable(value: object) -> object:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def encode(values: Mapping[str, Any] | None) -> str | None:
    """Old or new values as stored: a JSON object, or None for none (the old values of an insert)."""
    return None if values is None else json.dumps(dict(values), ensure_ascii=False, default=_jsonable)


def record(
    cur: duckdb.DuckDBPyConnection,
    user: str,
    entity: str,
    key: object,
    action: Action,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    *,
    upload_id: int | None = None,
) -> None:
    """One change_log row: `user` did `action` to the `entity` row `key` (any value, stored as text)."""
    cur.execute(
        f"INSERT INTO change_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?::JSON, ?::JSON)",  # noqa: S608
        [clock.now(), user, upload_id, entity, str(key), Action(action).value, encode(old), encode(new)],
    )


def action_case(condition: str, then: Action, otherwise: Action) -> str:
    """A SQL expression choosing between two actions per row: CASE WHEN condition THEN 'insert' ELSE … END."""
    return f"CASE WHEN {condition} THEN '{Action(then).value}' ELSE '{Action(otherwise).value}' END"


def record_select(
    cur: duckdb.DuckDBPyConnection,
    user: str,
    entity: str,
    *,
    key_sql: str,
    action_sql: str,
    old_sql: str,
    new_sql: str,
    from_sql: str,
    upload_id: int | None = None,
    at: dt.datetime | None = None,
) -> None:
    """One change_log row per row of `SELECT … FROM from_sql` (set-based, for uploads).

    The *_sql arguments are SQL text built by metrics code from the data contract (no user values); the
    action expression comes from `action_case`. `at` defaults to the clock's current time.
    """
    cur.execute(
        f"INSERT INTO change_log ({_COLUMNS}) "  # noqa: S608 - fragments from metrics code, values bound
        f"SELECT ?, ?, ?, ?, {key_sql}, {action_sql}, {old_sql}, {new_sql} FROM {from_sql}",
        [clock.now() if at is None else at, user, upload_id, entity],
    )
