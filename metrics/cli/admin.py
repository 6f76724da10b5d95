"""`kpi backup` and `kpi restore`: the administrator's commands for copies of the database.

Registered on the `kpi` group by metrics.cli.main. A backup from the command line needs the database file
not to be held by a running dashboard (DuckDB allows one writing process); while the dashboard runs,
the admin takes backups in the app, which copies from inside its own process (metrics.storage.backup).
"""

from __future__ import annotations

from pathlib import Path

import click

from metrics.storage.backup import BackupError, backup, restore
from metrics.storage.store import Store, StoreError, default_db_path

__all__ = ["backup_cmd", "restore_cmd"]

_FILE = click.Path(dir_okay=False, path_type=Path)


def _counts_lines(counts: dict[str, int]) -> list[str]:
    width = max((len(t) for t in counts), default=0)
    return [f"  {table:<{width}}  {n:>12,}" for table, n in counts.items()]


@click.command("backup")
@click.option("--db", "db", type=_FILE, default=None, help="DuckDB file (default: $KPI_DB or data/kpi.duckdb).")
@click.option("--out", "out", type=_FILE, required=True, help="Backup file to write (.duckdb).")
@click.option("--force", is_flag=True, help="Overwrite an existing backup file.")
def backup_cmd(db: Path | None, out: Path, force: bool) -> None:
    """Copy the database to a backup file (consistent snapshot; written whole, then renamed)."""
    path = db or default_db_path()
    if not path.exists():
        raise click.ClickException(f"数据库文件不存在 / database file not found: {path}")
    try:
        store = Store.open(path, read_only=True)
    except StoreError as exc:
        raise click.ClickException(f"{exc}\n看板运行时请在管理页面中备份，或先停止看板服务再执行 kpi backup。") from exc
    try:
        counts = backup(store, out, overwrite=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(f"已备份 {path} → {out}：{len(counts)} 张表，共 {sum(counts.values()):,} 行")
    for line in _counts_lines(counts):
        click.echo(line)


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
