"""What every `kpi` sub-command shares: the --db option, opening the store with a bounded wait, and whom
a command acts as.

A command that needs a database file the dashboard holds waits up to KPI_DB_WAIT seconds (15) and then
stops with a clear Chinese/English message, instead of blocking or corrupting anything.

Whom a command acts as is said one way everywhere: `--user NAME` names an active account of the users table,
and the command passes the same permission checks as the app under it. Operator commands (import, snapshot,
backup, user administration) may run without `--user`: they then act as whoever owns the database file,
recorded in the change log as `cli:<login>`. No command invents a principal.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

import click

from metrics.auth.access import Principal
from metrics.auth.users import refresh_principal
from metrics.storage.store import Store, StoreError, default_db_path

__all__ = ["DB_OPTION", "DB_WAIT_SECONDS", "account", "open_store", "operator_name", "user_option"]

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


def user_option(*, required: bool) -> Any:
    """The --user option, worded the same in every command (see the module docstring)."""
    text = "以此账号身份执行，权限检查与应用相同 / the account to act as, checked like the app"
    if not required:
        text += (
            "；不填则以数据库文件所有者（运维）身份执行，记为 cli:<登录名> / default: the file's operator (cli:<login>)"
        )
    if required:
        return click.option("--user", "user", required=True, help=text)
    return click.option("--user", "user", default=None, help=text)


def account(store: Store, user: str) -> Principal:
    """The active account `user` as the users table has it (role, unit, district), or a clear error."""
    found = refresh_principal(store, Principal(user.strip().lower(), "press"))  # the role is read from the table
    if found is None:
        raise click.ClickException(f"账号不存在或已停用：{user} / no active account {user!r}")
    return found


def operator_name() -> str:
    """How an operator command without --user is recorded: cli:<login of whoever runs it>."""
    try:
        login = getpass.getuser()
    except (OSError, KeyError):  # no login name in containers without USER or a passwd entry
        login = "unknown"
    return f"cli:{login}"
