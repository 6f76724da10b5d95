"""`kpi backup` and `kpi restore`: the administrator's commands for copies of the database.

Registered on the `kpi` group by metrics.cli.main. DuckDB allows one writing process, so while the server
holds the database `kpi backup` asks the server to copy it from inside its own process (the operators'
endpoint, docs/server.md); without a server the command opens the file itself. A restore replaces the file:
stop the server first, or restore on the admin page (/admin), which pauses the service.
"""

from __future__ import annotations

from pathlib import Path

import click

from metrics.auth.access import AccessDenied
from metrics.cli.common import (
    DB_WAIT_SECONDS,
    HELD_HINT,
    account,
    acting_as,
    operator_name,
    through_server,
    user_option,
)
from metrics.ops import commands
from metrics.storage.backup import BackupError, restore
from metrics.storage.store import Store, StoreError, default_db_path

__all__ = ["BACKUP_REFUSED_HINT", "backup_cmd", "restore_cmd"]

BACKUP_REFUSED_HINT = (
    f"备份由系统管理员在{commands.ADMIN_PAGE_ZH}的“备份”一栏进行。"
    " / Backups are made by an administrator on the admin page (/admin), Backups tab."
)

_FILE = click.Path(dir_okay=False, path_type=Path)


def _counts_lines(counts: dict[str, int]) -> list[str]:
    width = max((len(t) for t in counts), default=0)
    return [f"  {table:<{width}}  {n:>12,}" for table, n in counts.items()]


@click.command("backup")
@click.option("--db", "db", type=_FILE, default=None, help="DuckDB file (default: $KPI_DB or data/kpi.duckdb).")
@click.option("--out", "out", type=_FILE, required=True, help="Backup file to write (.duckdb).")
@click.option("--force", is_flag=True, help="Overwrite an existing backup file.")
@user_option(required=False)
def backup_cmd(db: Path | None, out: Path, force: bool, user: str | None) -> None:
    """Copy the database to a backup file (consistent snapshot; written whole, then renamed). While the server
    runs, the server makes the copy."""
    path = db or default_db_path()
    if not path.exists():
        raise click.ClickException(f"数据库文件不存在 / database file not found: {path}")
    out = out.resolve()  # the server writes it: a path that means the same there
    answer = through_server(
        path, "backup", {"out": str(out), "force": force, **acting_as(user)}, refused_hint=BACKUP_REFUSED_HINT
    )
    if answer is not None:
        counts = {str(k): int(v) for k, v in answer["counts"].items()}
    else:
        counts = _backup_here(path, out, force, user)
    click.echo(f"已备份 {path} → {out}：{len(counts)} 张表，共 {sum(counts.values()):,} 行")
    for line in _counts_lines(counts):
        click.echo(line)


def _backup_here(path: Path, out: Path, force: bool, user: str | None) -> dict[str, int]:
    """The backup made by this process (no server holds the file). A named account's refusal is logged, so the
    store is opened for writing then."""
    try:
        store = Store.open(path, read_only=user is None, wait_seconds=DB_WAIT_SECONDS)
    except StoreError as exc:
        raise click.ClickException(f"{exc}\n{HELD_HINT}") from exc
    try:
        actor = account(store, user) if user else operator_name()
        return commands.backup(store, actor, out, overwrite=force)
    except AccessDenied as exc:
        raise click.ClickException(f"{exc}\n{BACKUP_REFUSED_HINT}") from None
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()


@click.command("restore")
@click.option("--db", "db", type=_FILE, default=None, help="DuckDB file to restore into (default: $KPI_DB).")
@click.option(
    "--from",
    "backup_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Backup file made by `kpi backup`.",
)
@click.option("--force", is_flag=True, help="Replace an existing database (it is kept as <db>.before-restore-…).")
def restore_cmd(db: Path | None, backup_file: Path, force: bool) -> None:
    """Bring a backup back as the database; stop the dashboard first."""
    path = db or default_db_path()
    try:
        restored = restore(backup_file, path, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"已从 {backup_file} 恢复到 {path}：{len(restored.counts)} 张表，共 {sum(restored.counts.values()):,} 行"
    )
    if restored.previous is not None:
        click.echo(f"原数据库已保留为 {restored.previous}")
    for line in _counts_lines(restored.counts):
        click.echo(line)
