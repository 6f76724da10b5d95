"""What every `kpi` sub-command shares: the --db option and opening the store with a bounded wait.

A command that needs a database file the dashboard holds waits up to KPI_DB_WAIT seconds (15) and then
stops with a clear Chinese/English message, instead of blocking or corrupting anything.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from metrics.storage.store import Store, StoreError, default_db_path

__all__ = ["DB_OPTION", "DB_WAIT_SECONDS", "open_store"]

DB_OPTION = click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="DuckDB file (default: $KPI_DB or data/kpi.duckdb).",
)

DB_WAIT_SECONDS = float(os.environ.get("KPI_DB_WAIT", "15"))


def open_store(db: Path | None, *, read_only: bool = False) -> Store:
    path = db or default_db_path()
    try:
        return Store.open(path, read_only=read_only, wait_seconds=DB_WAIT_SECONDS)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
