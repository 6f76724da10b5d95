"""The server process's shared objects: the one read-write Store of the database, opened once.

DuckDB allows one read-write process per file, so everything in the server — Streamlit's page runs
(`dashboard.state`), the Starlette routes and the scheduler — uses this one Store. It is opened lazily and
kept for the process's life, except while a restore replaces the file (`replace_database`, docs/admin.md):
then the service is paused, `store()` waits for the new file (a page run shows 系统维护中 instead, see
`maintenance()`), and the epoch moves on so nothing cached from the old file is served again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from metrics.contract.errors import KpiError
from metrics.storage.store import Store, default_db_path

__all__ = ["MAINTENANCE_WAIT_SECONDS", "Maintenance", "epoch", "maintenance", "replace_database", "store"]

T = TypeVar("T")
MAINTENANCE_WAIT_SECONDS = 30.0
MAINTENANCE_ZH = "系统维护中：管理员正在恢复数据备份，请稍候片刻再刷新页面。"

_lock = threading.Lock()
_stores: dict[str, Store] = {}
_resumed = threading.Condition(_lock)
_paused: str | None = None  # the Chinese reason while paused
_epoch = 0  # moves on at every replacement of the database file


class Maintenance(KpiError, RuntimeError):
    """The database is being replaced (a restore from the admin page); the message is for any user."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or MAINTENANCE_ZH)


def maintenance() -> str | None:
    """The Chinese message while the service is paused, else None (page runs check it first)."""
    return _paused


def epoch() -> int:
    """How many times the database file was replaced in this process: part of every cache key that must not
    outlive a restore."""
    return _epoch


def store() -> Store | None:
    """The process's Store for `KPI_DB`; None while no database file exists.

    While a restore runs this waits for it (up to MAINTENANCE_WAIT_SECONDS) and returns the new Store;
    raises Maintenance if it has not finished by then."""
    path = default_db_path()
    if not path.exists():
        return None
    key = str(path.resolve())
    with _lock:
        if _paused is not None and not _resumed.wait_for(lambda: _paused is None, MAINTENANCE_WAIT_SECONDS):
            raise Maintenance(_paused)
        if key not in _stores:
            _stores[key] = Store.open(key)
        return _stores[key]


def replace_database(swap: Callable[[Path], T], *, before_resume: Callable[[], None] | None = None) -> tuple[T, Store]:
    """Pause the service, close the Store, run `swap(db_path)` (which replaces the file), open the file again,
    call `before_resume` (clear caches), resume. Returns what swap returned and the new Store.

    In-flight writes finish first (the Store's write lock); other users wait in `store()` or see the
    maintenance message. If swap fails the file it left (the old one: metrics.storage.backup.restore only
    moves files into place at its end) is opened again and the error raised."""
    global _paused, _epoch
    path = default_db_path()
    key = str(path.resolve())
    with _lock:
        if _paused is not None:
            raise Maintenance("另一项维护操作正在进行，请稍后再试。")
        _paused = MAINTENANCE_ZH
        _epoch += 1
        old = _stores.pop(key, None)
    try:
        if old is not None:
            with old._write_lock:
                old.close()
        try:
            result = swap(Path(key))
        finally:
            reopened = Store.open(key)
            with _lock:
                _stores[key] = reopened
        if before_resume is not None:
            before_resume()
    finally:
        with _lock:
            _paused = None
            _epoch += 1
            _resumed.notify_all()
    return result, reopened
