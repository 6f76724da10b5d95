"""Administration done by a signed-in person: the same operations as `kpi backup` and `kpi restore`, with the
permission checked first (storage knows nothing of principals; the layers put the check here), refusals in
the access log, a download in the access log and a restore in the change log (docs/admin.md). A backup made
from the admin page is the scheduler's verified one (metrics.ops.scheduler.run_now).

A restore replaces the database file under the running server, so the caller passes `swap`: the function
that closes the process's Store, runs the file swap, and opens the new file with every other user held off
(the dashboard's is `dashboard.process.replace_database`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from metrics.auth.access import Principal
from metrics.auth.access_log import guarded, record_access
from metrics.auth.accounts import _end_sessions, _record_change
from metrics.contract.errors import KpiError
from metrics.storage import changelog, clock
from metrics.storage.backup import Restored, backup, backup_schema_version, restore
from metrics.storage.changelog import Action
from metrics.storage.store import SCHEMA_VERSION, Store

__all__ = [
    "CONFIRM_RESTORE",
    "AdminError",
    "Swap",
    "backup_as",
    "backup_content",
    "restore_as",
]

CONFIRM_RESTORE = "确认恢复"
RESTORE_REASON = "从备份恢复数据库"
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,199}")

# swap(replace) → (what replace returned, the Store now open on the database file)
Swap = Callable[[Callable[[Path], Restored]], tuple[Restored, Store]]


class AdminError(KpiError, ValueError):
    """An admin request that cannot be carried out (an unknown backup, a missing confirmation); Chinese."""


def backup_as(store: Store, principal: Principal, out: Path, *, overwrite: bool = False) -> dict[str, int]:
    """`backup` for the app: administrators only (permission backup.run, a refusal is logged); rows per table."""
    guarded(store, principal, "backup.run")
    return backup(store, out, overwrite=overwrite)


def _in_folder(folder: Path, name: str) -> Path:
    """The backup `name` inside `folder`: a plain file name, never a path that leaves the folder."""
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name) or not name.endswith(".duckdb"):
        raise AdminError(f"备份文件名无效：{name!r}")
    path = folder / name
    if not path.is_file():
        raise AdminError(f"备份文件不存在：{name}")
    return path


def backup_content(store: Store, principal: Principal, folder: Path, name: str) -> bytes:
    """The bytes of one backup file, for download (administrators only; the access log records it)."""
    guarded(store, principal, "backup.run")
    path = _in_folder(folder, name)
    with store.transaction() as cur:
        record_access(cur, clock.now(), principal, "backup.download", True, None, name)
    return path.read_bytes()


def restore_as(
    store: Store, principal: Principal, folder: Path, name: str, confirmation: str, *, swap: Swap
) -> tuple[Restored, Store]:
    """Replace the database by the backup `name` (administrators only, with `confirmation` = the backup's name
    or 确认恢复). The current file is kept beside it as `<db>.before-restore-<time>`; the restore is written to
    the restored database's change log and access log, every browser session in it is ended (everyone signs
    in again), and its data version moves on. Returns what the restore did and the Store now open on it."""
    guarded(store, principal, "backup.restore")
    path = _in_folder(folder, name)
    if not isinstance(confirmation, str) or confirmation.strip() not in (name, CONFIRM_RESTORE):
        raise AdminError(f"请输入备份文件名 {name} 或“{CONFIRM_RESTORE}”以确认恢复。")
    if store.path is None:
        raise AdminError("内存数据库不能从备份恢复。")
    version = backup_schema_version(path)  # a broken or foreign file is refused before anyone is paused
    if version > SCHEMA_VERSION:
        raise AdminError(f"备份文件的数据库结构版本为 {version}，高于本程序支持的 {SCHEMA_VERSION}，不能恢复。")
    restored, reopened = swap(lambda db: restore(path, db, force=True))
    now = clock.now()
    with reopened.transaction() as cur:
        # The backup's sessions would come back to life, those revoked since included: end every one, so each
        # user (the admin too) signs in again against the accounts and passwords as restored.
        for (user,) in cur.execute(
            "SELECT DISTINCT user_name FROM web_sessions WHERE revoked_at IS NULL AND expires_at > ? ORDER BY 1", [now]
        ).fetchall():
            ended = _end_sessions(cur, user, principal.user, RESTORE_REASON, now)
            _record_change(
                cur,
                principal.user,
                user,
                Action.REVOKE_SESSIONS,
                {"open_sessions": ended},
                {"open_sessions": 0, "reason": RESTORE_REASON},
            )
        changelog.record(
            cur,
            principal.user,
            "database",
            Path(reopened.path or "").name,
            Action.RESTORE,
            {"kept_as": restored.previous.name if restored.previous else None},
            {
                "backup": name,
                "schema_version": restored.schema_version,
                "tables": len(restored.counts),
                "rows": sum(restored.counts.values()),
            },
        )
        record_access(cur, now, principal, "backup.restore", True, None, f"从备份 {name} 恢复")
        Store.bump_data_version(cur)
    return restored, reopened
