"""The ledger's row writers: each inserts or updates one row (versioned rows by the version that was read)
and appends its change_log row, in the caller's transaction. Only the commands call them, after their checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import duckdb

from metrics.auth.access import Principal
from metrics.ledger.errors import ConcurrentEdit
from metrics.ledger.rows import Record, _account, _record
from metrics.storage import changelog
from metrics.storage.changelog import Action

__all__ = ["bump_account", "bump_milestone", "insert_evidence", "insert_milestone", "log_change", "upsert_report"]


def log_change(
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


def bump_account(
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
    log_change(cur, principal, "task_accounts", acc["task_id"], Action.UPDATE, acc, new)
    return new


def insert_evidence(
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
        log_change(cur, principal, "evidence", row["evidence_id"], Action.INSERT, None, row)
        out.append(row)
    return out


def insert_milestone(
    cur: duckdb.DuckDBPyConnection, principal: Principal, task_id: str, title: str, due: dt.date, at: dt.datetime
) -> Record:
    row = _record(
        cur,
        "INSERT INTO milestones (task_id, title, due_date, version, created_by, created_at, updated_by, updated_at) "
        "VALUES (?, ?, ?, 1, ?, ?, ?, ?) RETURNING *",
        [task_id, title, due, principal.user, at, principal.user, at],
    )
    assert row is not None
    log_change(cur, principal, "milestones", row["milestone_id"], Action.INSERT, None, row)
    return row


def bump_milestone(
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
    log_change(cur, principal, "milestones", ms["milestone_id"], Action.UPDATE, ms, new)
    return new


def upsert_report(
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
    log_change(
        cur,
        principal,
        "progress_reports",
        f"{kpi_id}|{district}|{period_end.isoformat()}",
        Action.INSERT if old is None else Action.UPDATE,
        old,
        new,
    )
    return new
