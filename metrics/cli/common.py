"""What every `kpi` sub-command shares: the --db option, opening the store with a bounded wait, and whom
a command acts as.

A command that needs a database file the running server holds reaches the server through its operators'
loopback endpoint (metrics.ops.endpoint, docs/server.md), which does the same work in the server. When no
server answers it waits up to KPI_DB_WAIT seconds (15) for the file and then stops with a clear
Chinese/English message naming the admin page where the same action is, instead of blocking or corrupting
anything.

Whom a command acts as is said one way everywhere: `--user NAME` names an active account of the users table,
and the command passes the same permission checks as the app under it. Operator commands (import, snapshot,
backup, user administration) may run without `--user`: they then act as whoever owns the database file,
recorded in the change log as `cli:<login>`. No command invents a principal.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # imported where used: `kpi --help` loads no pandas, DuckDB or release code (docs/rollups.md)
    from metrics.auth.access import Principal
    from metrics.storage.store import Store

__all__ = [
    "DB_OPTION",
    "DB_WAIT_SECONDS",
    "account",
    "acting_as",
    "open_store",
    "operator_name",
    "through_server",
    "user_option",
]

DB_OPTION = click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="DuckDB file (default: $KPI_DB or data/kpi.duckdb).",
)

DB_WAIT_SECONDS = float(os.environ.get("KPI_DB_WAIT", "15"))


def _held_hint() -> str:
    from metrics.ops.commands import ADMIN_PAGE_ZH

    return (
        f"看板服务运行时，请在{ADMIN_PAGE_ZH}执行同样的操作（定时任务“立即运行”、备份），数据请在“数据上传”页面导入；"
        "或先停止看板服务再运行命令。"
        ' / While the server runs, do the same on its admin page (/admin: scheduled jobs "run now", backups) or '
        "import on the upload page; or stop the server first."
    )


def __getattr__(name: str) -> Any:
    """HELD_HINT names the admin page, which metrics.ops.commands (a heavy import) defines: made on first use."""
    if name == "HELD_HINT":
        return _held_hint()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(db: Path | None, *, read_only: bool = False) -> Store:
    from metrics.storage.store import Store, StoreError, default_db_path

    path = db or default_db_path()
    try:
        return Store.open(path, read_only=read_only, wait_seconds=DB_WAIT_SECONDS)
    except StoreError as exc:
        held = "held by another process" in str(exc)
        raise click.ClickException(f"{exc}\n{_held_hint()}" if held else str(exc)) from exc


def acting_as(user: str | None) -> dict[str, str]:
    """Whom a request to the server acts as: the named account, or this operator (cli:<login>)."""
    return {"user": user} if user else {"operator": operator_name()}


def through_server(
    db: Path | None,
    action: str,
    body: dict[str, Any] | None = None,
    *,
    data: bytes | None = None,
    params: dict[str, str] | None = None,
    refused_hint: str = "",
) -> dict[str, Any] | None:
    """The running server's answer to `action`, or None when no server answers for this database (the command
    then opens the file itself). A refusal or a failure in the server stops the command with its message."""
    from metrics.ops import endpoint
    from metrics.storage.store import default_db_path

    try:
        return endpoint.call(db or default_db_path(), action, body, data=data, params=params)
    except endpoint.ServerUnavailable:
        return None
    except endpoint.ServerRefused as exc:
        raise click.ClickException(f"{exc}\n{refused_hint}".rstrip()) from None
    except endpoint.ServerTimeout:
        from metrics.ops.commands import ADMIN_PAGE_ZH

        raise click.ClickException(
            f"看板服务在 {endpoint.RESPONSE_TIMEOUT:g} 秒内没有答复；操作可能仍在服务中完成，请在{ADMIN_PAGE_ZH}查看。"
            f" / The server did not answer within {endpoint.RESPONSE_TIMEOUT:g} s; it may still finish: "
            "see the admin page (/admin)."
        ) from None


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
    from metrics.auth.access import Principal
    from metrics.auth.users import refresh_principal

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
