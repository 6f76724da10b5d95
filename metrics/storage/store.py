"""The DuckDB store: one file, one writer, a cursor per request, schema migrations, transactions.

`Store` owns every database access of the core (datasette's `Database`): callers pass SQL text that
lives under metrics/ and bound parameters, never values pasted into SQL.

    >>> store = Store.open("data/kpi.duckdb")      # creates and migrates if needed
    >>> with store.transaction() as cur:
    ...     cur.execute("INSERT INTO uploads ...", params)
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from metrics.contract.errors import KpiError
from metrics.contract.records import RECORD_TYPES, RecordType
from metrics.storage import clock, rollup

if TYPE_CHECKING:  # Arrow is imported where tables are loaded: `kpi compute` starts faster without it
    import pyarrow as pa

__all__ = ["DEFAULT_DB", "MIGRATIONS_DIR", "Store", "StoreError", "default_db_path", "load_records"]

DEFAULT_DB = Path("data/kpi.duckdb")
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class StoreError(KpiError, RuntimeError):
    """A database that cannot be opened or migrated; the message says why in Chinese and English."""


def default_db_path() -> Path:
    """`KPI_DB` from the environment, else data/kpi.duckdb."""
    return Path(os.environ.get("KPI_DB", str(DEFAULT_DB)))


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    for p in sorted(MIGRATIONS_DIR.glob("*.sql")):
        m = re.match(r"(\d+)_", p.name)
        if m:
            found.append((int(m.group(1)), p.name, p.read_text(encoding="utf-8")))
    return found


SCHEMA_VERSION = max(v for v, _, _ in _migrations())


class Store:
    """A DuckDB database file with the KPI schema. Thread-safe: each call takes its own cursor."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | None):
        self._con = con
        self.path = path
        self._write_lock = threading.RLock()

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls, path: Path | str | None = None, *, read_only: bool = False, migrate: bool = True, wait_seconds: float = 0.0
    ) -> Store:
        """Open (and create) the database file; migrations run unless read_only.

        DuckDB lets one process hold a file; if another does, retry for up to `wait_seconds`, then fail clearly.
        """
        p = Path(path) if path is not None else default_db_path()
        if read_only and not p.exists():
            raise StoreError(f"数据库文件不存在 / database file not found: {p}")
        if not read_only:
            p.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + max(0.0, wait_seconds)
        while True:
            try:
                con = duckdb.connect(str(p), read_only=read_only)
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise StoreError(f"无法打开数据库 {p} / cannot open {p}: {exc}") from exc
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"数据库 {p} 正被另一个进程（通常是正在运行的看板）占用，等待 {wait_seconds:g} 秒后仍未释放。"
                        "请在看板的“数据上传”页面导入，或先停止看板再运行命令。"
                        f" / {p} is held by another process (usually the running dashboard); waited {wait_seconds:g} s. "
                        "Import through the app's upload page, or stop the app first."
                    ) from exc
                time.sleep(0.25)
        store = cls(con, p)
        if migrate and not read_only:
            store.migrate()
        return store

    @classmethod
    def memory(cls) -> Store:
        """An in-memory database with the full schema, for tests."""
        store = cls(duckdb.connect(":memory:"), None)
        store.migrate()
        return store

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ schema

    def schema_version(self) -> int:
        exists = (
            self._con.cursor()
            .execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'")
            .fetchone()
        )
        if not exists or exists[0] == 0:
            return 0
        row = self._con.cursor().execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
        return int(row[0]) if row else 0

    def _applied_versions(self) -> set[int]:
        if self.schema_version() == 0:
            return set()
        return {int(v) for (v,) in self._con.cursor().execute("SELECT version FROM schema_version").fetchall()}

    def migrate(self) -> list[str]:
        """Apply pending migrations, each in its own transaction, then bring the rollups in line with the
        catalogue (created and filled on the first open after migration 0012, docs/rollups.md); returns the
        names of the migrations applied."""
        applied = []
        done = self._applied_versions()
        for version, name, sql in _migrations():
            if version in done:  # by number, not "above the highest": a migration merged late still runs
                continue
            with self.transaction() as cur:
                cur.execute(sql)
                cur.execute("INSERT INTO schema_version VALUES (?, ?, ?)", [version, name, clock.now()])
            applied.append(name)
        if rollup.ROLLUP_MIGRATION in self._applied_versions():
            with self.transaction() as cur:
                rollup.ensure(cur)
        return applied

    # ------------------------------------------------------------------ access

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own for one request (DuckDB cursors are not shared across threads)."""
        return self._con.cursor()

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self.cursor().execute(sql, params).fetchall()

    def query_arrow(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> pa.Table:
        return self.cursor().sql(sql, params=params).to_arrow_table()  # a relation: no DB-API result copy

    def query_df(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        return self.cursor().execute(sql, params).df()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write, all or nothing: commits on success, rolls back on any exception."""
        with self._write_lock:
            cur = self._con.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
            finally:
                cur.close()

    def data_version(self) -> int:
        """Bumped by every write that changes records; keys the dashboard's caches."""
        row = self.cursor().execute("SELECT version FROM data_version").fetchone()
        return int(row[0]) if row else 0

    def change_version(self) -> int:
        """The newest change-log id: grows with every write that is logged (ledger, users, uploads)."""
        row = self.cursor().execute("SELECT coalesce(max(change_id), 0) FROM change_log").fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def bump_data_version(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute("UPDATE data_version SET version = version + 1, changed_at = ?", [clock.now()])

    # ------------------------------------------------------------------ bulk

    def bulk_insert(self, record: str | RecordType, table: pa.Table, *, replace: bool = False) -> int:
        """Append an Arrow table of one record type in one transaction (tests).

        Columns are matched by name and cast to the schema's types; no change log (not an upload). The record
        type's rollups are kept in the same transaction: rebuilt whole when the table was empty (a load),
        else their touched district-days recomputed (docs/rollups.md).
        """
        rt = RECORD_TYPES[record] if isinstance(record, str) else record
        with self.transaction() as cur:
            _unordered(cur)
            if replace:
                cur.execute(f"DELETE FROM {rt.name}")  # noqa: S608 - names come from the record spec
            _append(cur, rt, table)
            self.bump_data_version(cur)
        return table.num_rows

    def bulk_load(self, tables: Mapping[str, pa.Table]) -> dict[str, int]:
        """Append Arrow tables of several record types (the demo load) in ONE transaction: all or nothing,
        one commit. Each record type is as `bulk_insert` appends it; returns the rows per record type."""
        with self.transaction() as cur:
            counts = load_records(cur, tables)
            self.bump_data_version(cur)
        return counts

    def count(self, record: str) -> int:
        rt = RECORD_TYPES[record]
        row = self.cursor().execute(f"SELECT count(*) FROM {rt.name}").fetchone()  # noqa: S608
        return int(row[0]) if row else 0


def load_records(cur: duckdb.DuckDBPyConnection, tables: Mapping[str, pa.Table]) -> dict[str, int]:
    """`bulk_load`'s work inside the caller's transaction (`kpi lake import` deletes, loads and checks in one,
    docs/spark.md): each record type appended and its rollups kept; returns the rows per record type. The caller
    bumps the data version."""
    _unordered(cur)
    counts: dict[str, int] = {}
    for name, table in tables.items():
        _append(cur, RECORD_TYPES[name], table)
        counts[name] = table.num_rows
    return counts


def _unordered(cur: duckdb.DuckDBPyConnection) -> None:
    """Let this cursor's inserts store rows in any order (docs/rollups.md "Bulk load"): an insert that keeps
    the Arrow table's order writes its row groups one after the other; without it DuckDB's threads compress and
    write them side by side (at scale 100, 20 s → 8 s for the placements). Rows carry no order in this schema:
    every reader sorts or groups. SESSION: the server's other cursors keep the default."""
    cur.execute("SET SESSION preserve_insertion_order = false")


def _append(cur: duckdb.DuckDBPyConnection, rt: RecordType, table: pa.Table) -> None:
    """Insert one record type's rows and keep its rollups, inside the caller's transaction."""
    missing = [c for c in rt.column_names if c not in table.column_names]
    if missing:
        raise ValueError(f"{rt.name}: missing columns {missing}")
    cols = ", ".join(rt.column_names)
    casts = ", ".join(_cast(table.schema, rt, c) for c in rt.column_names)
    was_empty = not cur.execute(f"SELECT 1 FROM {rt.name} LIMIT 1").fetchall()  # noqa: S608 - spec names
    cur.register("_bulk", table)
    try:
        if was_empty:
            cur.execute(f"INSERT INTO {rt.name} ({cols}) SELECT {casts} FROM _bulk")  # noqa: S608
            rollup.rebuild_record(cur, rt.name)
        else:
            cur.execute(f"CREATE OR REPLACE TEMP TABLE _bulk_rows AS SELECT {casts} FROM _bulk")  # noqa: S608
            touched = rollup.touch(cur, rt.name, "_bulk_rows", replaces=False)
            cur.execute(f"INSERT INTO {rt.name} ({cols}) SELECT {cols} FROM _bulk_rows")  # noqa: S608
            rollup.refresh(cur, touched)
            cur.execute("DROP TABLE _bulk_rows")
    finally:
        cur.unregister("_bulk")


def _cast(schema: pa.Schema, rt: RecordType, column: str) -> str:
    """The column as the schema's type: a CAST only where the Arrow type differs (the demo's types match)."""
    import pyarrow as pa

    matches = {
        "VARCHAR": (pa.string(), pa.large_string()),
        "DATE": (pa.date32(),),
        "BOOLEAN": (pa.bool_(),),
        "BIGINT": (pa.int64(),),
        "DOUBLE": (pa.float64(),),
        "DECIMAL(18,2)": (pa.decimal128(18, 2),),
    }
    sql_type = rt.column(column).sql_type
    arrow_type = schema.field(column).type
    if pa.types.is_dictionary(arrow_type) and sql_type == "VARCHAR":  # the demo's repeated strings
        arrow_type = arrow_type.value_type
    if arrow_type in matches.get(sql_type, ()):
        return column
    return f"CAST({column} AS {sql_type}) AS {column}"
