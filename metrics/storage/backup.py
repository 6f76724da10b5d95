"""Backups of the KPI database that can be taken while the dashboard keeps the file open, and restores.

DuckDB allows one writing process per file, so a backup is copied from inside the process that holds it:
the store's own connection attaches a new file and copies every table, sequence and view in one read
transaction (a consistent snapshot: uncommitted writes are not in it). Files appear only when complete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from metrics.contract.errors import KpiError
from metrics.storage import clock
from metrics.storage.store import SCHEMA_VERSION, Store, StoreError

__all__ = ["BackupError", "Restored", "backup", "backup_schema_version", "restore", "table_counts"]


class BackupError(KpiError, RuntimeError):
    """A backup or restore that cannot be done; the message says why in Chinese."""


@dataclass(frozen=True)
class Restored:
    """What a restore did: rows per table now in `db`, and where the replaced file was kept."""

    db: Path
    counts: dict[str, int]
    previous: Path | None  # <db>.before-restore-<timestamp>, None when there was no database
    schema_version: int  # of the backup file, before migrations brought it up to date


def _ident(name: str) -> str:
    """A quoted SQL identifier; the names come from DuckDB's own catalogue, never from a user."""
    return '"' + name.replace('"', '""') + '"'


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _remove(*paths: Path) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def table_counts(cur: duckdb.DuckDBPyConnection, database: str) -> dict[str, int]:
    """Rows per table of one attached database (schema.table for tables outside main)."""
    tables = cur.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = ? AND NOT temporary ORDER BY schema_name, table_name",
        [database],
    ).fetchall()
    counts: dict[str, int] = {}
    for schema, table in tables:
        name = table if schema == "main" else f"{schema}.{table}"
        row = cur.execute(
            f"SELECT count(*) FROM {_ident(database)}.{_ident(schema)}.{_ident(table)}"  # noqa: S608 - catalogue names
        ).fetchone()
        counts[name] = int(row[0]) if row else 0
    return counts


def backup(store: Store, out: Path, *, overwrite: bool = False) -> dict[str, int]:
    """Copy the live database behind `store` to `out`; returns rows per table as copied.

    The store stays open and usable; writes committed after the copy began are not in the backup. The
    file is written under a temporary name beside `out` and renamed when complete, so `out` is never a
    half-written backup. An existing `out` is replaced only with overwrite=True. The CLI runs with the rights
    of whoever owns the file; the app goes through metrics.auth.admin.backup_as (permission backup.run).
    """
    out = Path(out)
    if store.path is not None and out.resolve() == Path(store.path).resolve():
        raise BackupError(f"备份文件不能是数据库文件本身：{out}")
    if out.exists() and not overwrite:
        raise BackupError(f"备份文件已存在：{out}。请换一个文件名，或确认覆盖（--force）")
    out.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:12]
    tmp = out.with_name(f".{out.name}.{token}.tmp")
    alias = f"kpi_backup_{token}"  # our own identifier: attachments are shared by the store's cursors
    cur = store.cursor()
    try:
        row = cur.execute("SELECT current_database()").fetchone()
        assert row is not None
        source = str(row[0])
        # READ_WRITE: a store opened read-only (the CLI) would otherwise attach the new file read-only.
        cur.execute(f"ATTACH ? AS {alias} (READ_WRITE)", [str(tmp)])
        try:
            cur.execute("BEGIN TRANSACTION")
            try:
                cur.execute(f"COPY FROM DATABASE {_ident(source)} TO {alias}")
                counts = table_counts(cur, alias)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        finally:
            cur.execute(f"DETACH {alias}")  # writes the file out completely (checkpoint)
    except duckdb.Error as exc:
        _remove(tmp, _wal(tmp))
        raise BackupError(f"备份失败，未生成备份文件：{exc}") from exc
    except BaseException:
        _remove(tmp, _wal(tmp))
        raise
    finally:
        cur.close()
    if _wal(tmp).exists():  # DETACH checkpoints; a leftover log would mean the copy is not self-contained
        _remove(tmp, _wal(tmp))
        raise BackupError("备份失败：备份文件未能完整写入，请重试")
    with tmp.open("rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, out)
    return counts


def backup_schema_version(backup_file: Path) -> int:
    """The schema version recorded in a backup file; BackupError when it is not a KPI database."""
    backup_file = Path(backup_file)
    if not backup_file.is_file():
        raise BackupError(f"备份文件不存在：{backup_file}")
    try:
        con = duckdb.connect(str(backup_file), read_only=True)
    except duckdb.Error as exc:
        raise BackupError(f"无法读取备份文件（不是有效的数据库文件或已损坏）：{backup_file}（{exc}）") from exc
    try:
        has_table = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version' AND schema_name = 'main'"
        ).fetchone()
        if not has_table or has_table[0] == 0:
            raise BackupError(f"不是本系统的数据库备份（缺少 schema_version 表）：{backup_file}")
        row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def _ensure_not_in_use(db: Path) -> None:
    """Refuse while another process (the dashboard) holds the database open."""
    try:
        con = duckdb.connect(str(db))
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            raise BackupError(f"数据库正被其他进程使用（如看板服务），请先停止后再恢复：{db}（{exc}）") from exc
        raise BackupError(f"无法打开要替换的数据库：{db}（{exc}）") from exc
    con.close()


def _kept_name(db: Path, now: dt.datetime) -> Path:
    stamp = now.strftime("%Y%m%d-%H%M%S")
    kept = db.with_name(f"{db.name}.before-restore-{stamp}")
    n = 1
    while kept.exists() or _wal(kept).exists():
        n += 1
        kept = db.with_name(f"{db.name}.before-restore-{stamp}-{n}")
    return kept


def restore(backup_file: Path, db: Path, *, force: bool = False, now: dt.datetime | None = None) -> Restored:
    """Bring a backup back as `db`: checked, migrated to this code's schema, then moved into place.

    Refuses to replace an existing database without force=True, and refuses a backup made by newer code
    (its schema version above ours). The replaced file is kept as `<db>.before-restore-<timestamp>`.
    Run it with the dashboard stopped: the database is swapped on disk, not inside a running process.
    """
    backup_file, db = Path(backup_file), Path(db)
    version = backup_schema_version(backup_file)
    if version > SCHEMA_VERSION:
        raise BackupError(
            f"备份文件的数据库结构版本为 {version}，高于本程序支持的版本 {SCHEMA_VERSION}；请先升级程序再恢复"
        )
    if db.exists() and db.resolve() == backup_file.resolve():
        raise BackupError(f"备份文件与目标数据库是同一个文件：{db}")
    if db.exists() and not force:
        raise BackupError(
            f"目标数据库已存在：{db}。恢复会替换它（原文件保留为 {db.name}.before-restore-<时间>）；确认后请加 --force"
        )
    if db.exists():
        _ensure_not_in_use(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    tmp = db.with_name(f".{db.name}.restore-{uuid.uuid4().hex[:12]}.tmp")
    try:
        shutil.copyfile(backup_file, tmp)
        if _wal(backup_file).exists():  # a copy with an unapplied log: DuckDB applies it on open
            shutil.copyfile(_wal(backup_file), _wal(tmp))
        try:
            store = Store.open(tmp)  # applies this code's pending migrations to the copy
        except StoreError as exc:
            raise BackupError(f"无法打开备份文件：{exc}") from exc
        try:
            cur = store.cursor()
            row = cur.execute("SELECT current_database()").fetchone()
            assert row is not None
            counts = table_counts(cur, str(row[0]))
            cur.execute("CHECKPOINT")
        finally:
            store.close()
        if _wal(tmp).exists():
            raise BackupError("恢复失败：恢复的数据库未能完整写入，请重试")
        previous: Path | None = None
        if db.exists():
            previous = _kept_name(db, now or clock.now())
            os.replace(db, previous)
            if _wal(db).exists():
                os.replace(_wal(db), _wal(previous))
        os.replace(tmp, db)
    finally:
        _remove(tmp, _wal(tmp))
    return Restored(db=db, counts=counts, previous=previous, schema_version=version)
