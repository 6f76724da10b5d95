"""DuckDB over a lake folder (metrics/lake/duckdb_lake.py) gives what the district's DuckDB file gives: every
KPI's result at several as-of dates and every breakdown, on the demo at scale 0.05 exported with export_lake."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from metrics.catalogue import load_catalogues
from metrics.demo.build import build_demo
from metrics.kpi.engine import Engine
from metrics.lake.duckdb_lake import DuckDBLakeBackend
from metrics.lake.parquet import export_lake
from metrics.storage import clock
from metrics.storage.store import Store
from tests.spark_support import same, same_frames

AS_OF = dt.date(2026, 11, 21)
CATS = load_catalogues()


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("duckdb-lake")
    db, lake = root / "demo.duckdb", root / "lake"
    build_demo(db, seed=5, scale=0.05, as_of=AS_OF)
    with Store.open(db, read_only=True) as store:
        with clock.pinned(dt.datetime(2026, 11, 21, 10, 30)):
            export_lake(store, lake)
        backend = DuckDBLakeBackend.from_lake(lake)
        yield Engine(store, CATS), Engine(None, CATS, backend=backend), backend
        backend.close()


@pytest.mark.parametrize("as_of", [AS_OF, dt.date(2026, 1, 1), dt.date(2025, 6, 15)])
def test_every_kpi_equal_to_the_database_file(engines: Any, as_of: dt.date) -> None:
    file_engine, lake_engine, _ = engines
    d, s = file_engine.compute(as_of), lake_engine.compute(as_of)
    assert [r.kpi_id for r in d] == [r.kpi_id for r in s]
    assert len(s) == sum(len(c.kpis) for c in CATS.values()) >= 140
    for a, b in zip(d, s, strict=True):
        same(a.as_dict(), b.as_dict(), a.kpi_id)
    if as_of == AS_OF:  # not vacuous: most KPIs have data on the demo's date
        assert sum(r.actual is not None for r in s) >= 120
    assert set(lake_engine.routes.values()) <= {"base"}  # no rollups over Parquet


def test_every_breakdown_equal_to_the_database_file(engines: Any) -> None:
    file_engine, lake_engine, _ = engines
    compared = 0
    for cat in CATS.values():
        for kpi in cat.kpis:
            for dim in kpi.dimensions:
                a = file_engine.breakdown(kpi.id, dim, AS_OF)
                same_frames(a, lake_engine.breakdown(kpi.id, dim, AS_OF), f"{kpi.id} by {dim}")
                compared += len(a) > 0
    assert compared >= 100  # breakdowns with rows, not empty tables agreeing


def test_views_have_exactly_the_spec_columns_and_types(engines: Any) -> None:
    from metrics.contract.records import RECORD_TYPES

    _, _, backend = engines
    for name, rt in RECORD_TYPES.items():
        described = backend.con.execute(f"DESCRIBE {name}").fetchall()  # noqa: S608 - spec names
        assert [(r[0], r[1]) for r in described] == [(c.name, c.sql_type) for c in rt.columns], name
    n = backend.con.execute("SELECT count(*) FROM placements").fetchone()
    assert n is not None and n[0] > 0


def test_a_folder_without_manifest_is_refused(tmp_path: Path) -> None:
    from metrics.lake.parquet import LakeError

    with pytest.raises(LakeError, match="manifest"):
        DuckDBLakeBackend.from_lake(tmp_path)


def test_the_manifest_text_never_reaches_sql_and_unlisted_files_are_not_read(tmp_path: Path) -> None:
    """The partition types come from the spec, not the manifest; a `_`-file Spark skips is skipped here too."""
    import json
    import shutil

    from metrics.lake.parquet import LakeError
    from tests.support import insert

    with Store.open(tmp_path / "t.duckdb") as store:
        insert(
            store,
            "disputes",
            [{"case_id": "C1", "district": "通州区", "accepted_date": dt.date(2026, 3, 1), "closed_date": None}],
        )
        with clock.pinned(dt.datetime(2026, 11, 21, 10, 30)):
            export_lake(store, tmp_path / "lake", records=["disputes"])
    manifest = json.loads((tmp_path / "lake" / "manifest.json").read_text(encoding="utf-8"))
    planted = tmp_path / "planted.csv"
    manifest["records"]["disputes"]["partition_columns"]["district"] = (
        f"VARCHAR'}}); COPY (SELECT 42 AS x) TO '{planted}'; SELECT 1 WHERE ('"
    )
    (tmp_path / "lake" / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    (part,) = (tmp_path / "lake" / "disputes").rglob("*.parquet")
    shutil.copy(part, part.with_name("_extra.parquet"))
    backend = DuckDBLakeBackend.from_lake(tmp_path / "lake")
    assert backend.rows("SELECT count(*), any_value(district) FROM disputes", {}, []) == [(1, "通州区")]
    assert not planted.exists()
    backend.close()
    manifest["records"]["disputes"]["rows"] = 2  # a count the files do not hold
    (tmp_path / "lake" / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(LakeError, match="disputes"):
        DuckDBLakeBackend.from_lake(tmp_path / "lake")
