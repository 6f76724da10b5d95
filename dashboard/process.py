"""The server process's shared objects: the one read-write Store of the database, opened once.

DuckDB allows one read-write process per file, so everything in the server — Streamlit's page runs
(`dashboard.state`), the Starlette routes and the scheduler — uses this one Store. It is opened lazily and
kept for the process's life.
"""

from __future__ import annotations

import threading

from metrics.storage.store import Store, default_db_path

__all__ = ["store"]

_lock = threading.Lock()
_stores: dict[str, Store] = {}


def store() -> Store | None:
    """The process's Store for `KPI_DB`; None while no database file exists."""
    path = default_db_path()
    if not path.exists():
        return None
    key = str(path.resolve())
    with _lock:
        if key not in _stores:
            _stores[key] = Store.open(key)
        return _stores[key]
