"""The catalogue computed by DuckDB straight over a lake folder, without loading it into a database file.

A municipal analyst with one big machine and the bureau's Parquet export (docs/spark.md "The lake folder") can
compute every KPI with the engine's own statements, unchanged: this backend opens an in-memory DuckDB and makes
one view per record type over `read_parquet(..., hive_partitioning = true)`, with exactly the spec's columns and
types. No rollups (those live only in a district's file), so every KPI scans the Parquet files. It is also the
DuckDB side of the Spark benchmark (tests/bench/spark.py, docs/spark.md "Measured").

    >>> backend = DuckDBLakeBackend.from_lake(Path("lake/"))
    >>> Engine(None, backend=backend).compute(dt.date(2026, 11, 21))
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from metrics.contract.records import RECORD_TYPES
from metrics.lake.parquet import LakeError, partition_columns, read_manifest

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DuckDBLakeBackend"]


class DuckDBLakeBackend:
    """The engine's `Backend` (metrics.kpi.engine) on an in-memory DuckDB with views over a lake folder."""

    name = "duckdb-lake"
    rollups = False

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    @classmethod
    def from_lake(
        cls, lake: Path | str, *, threads: int | None = None, memory_limit: str | None = None
    ) -> DuckDBLakeBackend:
        """Views over the folder written by `kpi lake export`: the manifest is read (and its format checked) for
        each record type's files, and the rows read must add up to its counts; a record type with no files is an
        empty view."""
        root = Path(lake)
        manifest = read_manifest(root)
        con = duckdb.connect(":memory:")
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        if memory_limit is not None:
            con.execute("SET memory_limit = $limit", {"limit": memory_limit})
        for name, rt in RECORD_TYPES.items():
            entry = manifest.records.get(name)
            if entry is None or not entry.files:
                casts = ", ".join(f"CAST(NULL AS {c.sql_type}) AS {c.name}" for c in rt.columns)
                con.execute(f"CREATE VIEW {name} AS SELECT {casts} WHERE false")
                continue
            # Exactly the files the manifest lists (not a glob, which would also read the `_`/`.` files Spark skips),
            # inside the record type's folder; the partition columns' types from the spec, never from the manifest's
            # text. A view cannot hold bound parameters: the paths are quoted literals.
            folder = (root / name).resolve()
            paths = []
            for f in entry.files:
                path = (root / f.path).resolve()
                if not path.is_relative_to(folder):
                    raise LakeError(
                        f"{name}：清单中的文件不在该数据类型的文件夹内：{f.path}",
                        f"{name}: a listed file lies outside the record type's folder: {f.path}",
                    )
                paths.append("'" + str(path).replace("'", "''") + "'")
            hive_types = ", ".join(f"'{col}': '{typ}'" for col, typ in partition_columns(rt).items())
            casts = ", ".join(f"CAST({c.name} AS {c.sql_type}) AS {c.name}" for c in rt.columns)
            con.execute(
                f"CREATE VIEW {name} AS SELECT {casts} FROM read_parquet([{', '.join(paths)}], "  # noqa: S608 - spec names
                f"hive_partitioning = true, hive_types = {{{hive_types}}})"
            )
            (rows,) = con.execute(f"SELECT count(*) FROM {name}").fetchone()  # type: ignore[misc]  # noqa: S608
            if rows != entry.rows:
                raise LakeError(
                    f"{name}：读到 {rows:,} 行，清单记为 {entry.rows:,} 行",
                    f"{name}: {rows:,} rows read, the manifest says {entry.rows:,}",
                )
        return cls(con)

    # ---- the Backend protocol

    def rows(self, sql: str, params: dict[str, Any], kpis: Sequence[str]) -> list[tuple[Any, ...]]:
        return self.con.cursor().execute(sql, params).fetchall()

    def frame(self, sql: str, params: dict[str, Any], kpis: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
        df = self.con.cursor().execute(sql, params).df()
        df.columns = list(columns)
        return df

    def close(self) -> None:
        self.con.close()
