"""`kpi lake export` / `kpi lake import` (docs/spark.md "The lake folder"): a small demo database exported as
Hive-partitioned Parquet and read back row for row, the layout and types Spark reads, the manifest's checks,
one transaction for an import, and the CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from metrics.cli.main import main
from metrics.contract.records import RECORD_TYPES
from metrics.kpi.engine import Engine
from metrics.lake import parquet
from metrics.lake.parquet import LakeError, Manifest, content_hash, export_lake, import_lake
from metrics.storage import clock, rollup
from metrics.storage.store import Store
from tests.support import insert

AS_OF = dt.date(2026, 11, 21)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from metrics.demo.generate import build_demo

    db = tmp_path_factory.mktemp("lake") / "demo.duckdb"
    build_demo(db, seed=42, scale=0.05, as_of=AS_OF)
    return db


@pytest.fixture(scope="module")
def lake(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lake") / "lake"
    with Store.open(demo_db, read_only=True) as store, clock.pinned(dt.datetime(2026, 11, 21, 10, 30)):
        export_lake(store, out)
    return out


@pytest.fixture(scope="module")
def imported(lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("lake") / "imported.duckdb"
    with Store.open(db) as store:
        import_lake(store, lake)
    return db


@pytest.fixture
def lake_copy(lake: Path, tmp_path: Path) -> Path:
    """A copy of the exported folder that a test may tamper with."""
    return Path(shutil.copytree(lake, tmp_path / "lake"))


@pytest.fixture
def empty_store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "target.duckdb") as store:
        yield store


def _manifest(root: Path) -> Manifest:
    return Manifest.from_json((root / "manifest.json").read_text(encoding="utf-8"))


def _edit_manifest(root: Path, edit: object) -> None:
    body = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    edit(body)  # type: ignore[operator]
    (root / "manifest.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")


def _rows(store: Store, record: str) -> pa.Table:
    cols = ", ".join(RECORD_TYPES[record].column_names)
    return store.query_arrow(f"SELECT {cols} FROM {record} ORDER BY ALL")  # noqa: S608 - spec names


def _counts(store: Store) -> dict[str, int]:
    return {name: store.count(name) for name in RECORD_TYPES}


# --------------------------------------------------------------------------- round trip


def test_round_trip_keeps_every_record_table_row_for_row(demo_db: Path, imported: Path) -> None:
    with Store.open(demo_db, read_only=True) as a, Store.open(imported, read_only=True) as b:
        for name in RECORD_TYPES:
            left, right = _rows(a, name), _rows(b, name)
            assert left.num_rows > 0, name  # the demo fills every record type, progress_reports included
            assert left.schema == right.schema, name
            assert left.equals(right), name


def test_round_trip_gives_the_same_kpis_and_rollups_that_verify(demo_db: Path, imported: Path) -> None:
    with Store.open(demo_db, read_only=True) as a, Store.open(imported, read_only=True) as b:
        before = sorted((r.contract() for r in Engine(a).compute(AS_OF)), key=lambda c: c["kpi_id"])
        after = sorted((r.contract() for r in Engine(b).compute(AS_OF)), key=lambda c: c["kpi_id"])
        assert len(before) > 20
        assert after == before
        assert rollup.verify(b.cursor()) == []
    result = CliRunner().invoke(main, ["rollup", "verify", "--db", str(imported)])
    assert result.exit_code == 0, result.output
    assert "rollups match" in result.output


def test_manifest_records_versions_counts_files_and_hashes(demo_db: Path, lake: Path) -> None:
    body = json.loads((lake / "manifest.json").read_text(encoding="utf-8"))
    assert (body["format"], body["format_version"]) == ("employment-kpi-lake", 1)
    assert body["exported_at"] == "2026-11-21T10:30:00+08:00"
    m = _manifest(lake)
    assert set(m.records) == set(RECORD_TYPES)
    with Store.open(demo_db, read_only=True) as store:
        assert (m.schema_version, m.data_version) == (store.schema_version(), store.data_version())
        for name, entry in m.records.items():
            assert entry.rows == store.count(name)
            assert entry.content_hash == content_hash(store.cursor(), RECORD_TYPES[name])[1]
            assert list(entry.columns) == list(RECORD_TYPES[name].column_names)
            assert entry.partition_columns == {"district": "VARCHAR", "year": "INTEGER"}
            for f in entry.files:
                data = (lake / f.path).read_bytes()
                assert hashlib.sha256(data).hexdigest() == f.sha256
                assert pq.read_metadata(lake / f.path).num_rows == f.rows
    assert m.records["placements"].columns["monthly_wage"] == "DECIMAL(18,2)"


# --------------------------------------------------------------------------- layout and types


def test_layout_is_hive_partitioned_by_district_and_year_with_chinese_names_as_they_are(
    demo_db: Path, lake: Path
) -> None:
    with Store.open(demo_db, read_only=True) as store:
        expected = {
            (f"district={d}", f"year={y}")
            for d, y in store.execute("SELECT DISTINCT district, year(placement_date) FROM placements")
        }
    files = sorted((lake / "placements").rglob("*.parquet"))
    found = {(p.parent.parent.name, p.parent.name) for p in files}
    assert found == expected
    assert {p.name for p in files} == {"part-0.parquet"}
    assert all("%" not in p.parent.parent.name for p in files)  # not DuckDB's %E9%80%9A…: Spark would garble it
    assert any(p.parent.parent.name == "district=海淀区" for p in files)


def test_parquet_files_keep_the_table_types_without_the_partition_columns(lake: Path) -> None:
    placement = pq.read_schema(next((lake / "placements").rglob("*.parquet")))
    assert placement.field("placement_date").type == pa.date32()
    assert placement.field("monthly_wage").type == pa.decimal128(18, 2)
    assert placement.field("is_local").type == pa.bool_()
    assert placement.field("contract_months").type == pa.int64()
    assert placement.field("work_lat").type == pa.float64()
    assert placement.field("employer_id").type == pa.string()
    assert set(placement.names) == set(RECORD_TYPES["placements"].column_names) - {"district"}  # no year either
    contract = pq.read_schema(next((lake / "contract_returns").rglob("*.parquet")))
    assert contract.field("report_month").type == pa.date32()  # a month stays a DATE, not a timestamp


def test_a_null_date_goes_to_the_hive_default_partition_and_comes_back_null(lake: Path, imported: Path) -> None:
    default = list((lake / "graduate_followups").glob("district=*/year=__HIVE_DEFAULT_PARTITION__/part-0.parquet"))
    assert default
    table = pq.read_table(default[0])
    assert table.num_rows > 0 and table.column("followup_date").null_count == table.num_rows
    with Store.open(imported, read_only=True) as store:
        assert store.execute("SELECT count(*) FROM graduate_followups WHERE followup_date IS NULL")[0][0] > 0


def test_a_district_name_with_special_characters_round_trips(tmp_path: Path) -> None:
    odd = "通州区/测试=1%"
    with Store.open(tmp_path / "a.duckdb") as a:
        insert(a, "disputes", [{"case_id": "c1", "district": odd, "accepted_date": dt.date(2025, 3, 1)}])
        insert(a, "disputes", [{"case_id": "c2", "district": "通州区", "accepted_date": dt.date(2024, 5, 2)}])
        export_lake(a, tmp_path / "lake", records=["disputes"])
    names = {p.name for p in (tmp_path / "lake" / "disputes").iterdir()}
    assert names == {"district=通州区%2F测试%3D1%25", "district=通州区"}  # Spark's escaping, Chinese as it is
    with Store.open(tmp_path / "b.duckdb") as b:
        import_lake(b, tmp_path / "lake")
        assert sorted(b.execute("SELECT case_id, district FROM disputes")) == [("c1", odd), ("c2", "通州区")]
        assert b.execute("SELECT typeof(district) FROM disputes LIMIT 1")[0][0] == "VARCHAR"


# --------------------------------------------------------------------------- the content hash


def test_content_hash_is_md5_row_sums_independent_of_order_and_counts_duplicates(tmp_path: Path) -> None:
    rows = [
        {"case_id": "c1", "district": "通州区", "accepted_date": dt.date(2025, 3, 1), "closure_method": "调解"},
        {"case_id": "c2", "district": "海淀区", "accepted_date": dt.date(2024, 5, 2)},
    ]
    with Store.open(tmp_path / "a.duckdb") as a, Store.open(tmp_path / "b.duckdb") as b:
        insert(a, "disputes", rows)
        insert(b, "disputes", rows[::-1])
        rt = RECORD_TYPES["disputes"]
        assert content_hash(a.cursor(), rt) == content_hash(b.cursor(), rt)
        # the definition in docs/spark.md, spelled out in Python
        hi = lo = 0
        for r in rows:
            values = [r.get(c) for c in rt.column_names]
            text = "\x1f".join("" if v is None else f"v{v}" for v in values)
            digest = hashlib.md5(text.encode()).digest()  # noqa: S324 - a content checksum, not security
            hi += int.from_bytes(digest[:8], "little")
            lo += int.from_bytes(digest[8:], "little")
        assert content_hash(a.cursor(), rt) == (2, f"{hi % 2**64:016x}{lo % 2**64:016x}")
        insert(b, "disputes", rows[:1])  # a duplicate row changes the hash (XOR would cancel it out)
        assert content_hash(b.cursor(), rt)[1] != content_hash(a.cursor(), rt)[1]


# --------------------------------------------------------------------------- the manifest's checks


def _refused(store: Store, root: Path, *needles: str, replace: bool = False) -> None:
    before = _counts(store)
    with pytest.raises(LakeError) as caught:
        import_lake(store, root, replace=replace)
    text = str(caught.value)
    for needle in needles:
        assert needle in text, text
    assert _counts(store) == before  # nothing half-written


def test_a_changed_file_is_refused_naming_it(lake_copy: Path, empty_store: Store) -> None:
    f = _manifest(lake_copy).records["vacancies"].files[3]
    path = lake_copy / f.path
    path.write_bytes(path.read_bytes()[:-9] + b"X" + path.read_bytes()[-8:])
    _refused(empty_store, lake_copy, "SHA-256", f.path)


def test_a_missing_file_is_refused_naming_it(lake_copy: Path, empty_store: Store) -> None:
    f = _manifest(lake_copy).records["trainings"].files[0]
    (lake_copy / f.path).unlink()
    _refused(empty_store, lake_copy, "文件缺失", f.path)


def test_an_unlisted_file_is_refused_naming_it(lake_copy: Path, empty_store: Store) -> None:
    f = _manifest(lake_copy).records["disputes"].files[0]
    extra = lake_copy / "disputes" / "district=海淀区" / "year=1999" / "part-0.parquet"
    extra.parent.mkdir(parents=True)
    shutil.copy(lake_copy / f.path, extra)
    _refused(empty_store, lake_copy, "清单中没有列出的文件", "disputes/district=海淀区/year=1999/part-0.parquet")


def test_files_spark_ignores_are_allowed(lake_copy: Path, empty_store: Store) -> None:
    (lake_copy / "placements" / "_SUCCESS").write_bytes(b"")
    (lake_copy / "placements" / ".part-0.parquet.crc").write_bytes(b"x")
    result = import_lake(empty_store, lake_copy)
    assert result.loaded["placements"] == _manifest(lake_copy).records["placements"].rows


def test_another_schema_version_is_refused_naming_both(lake_copy: Path, empty_store: Store) -> None:
    _edit_manifest(lake_copy, lambda body: body.update(schema_version=99))
    _refused(empty_store, lake_copy, "99", str(empty_store.schema_version()), "schema version")


def test_an_unknown_format_or_version_is_refused(lake_copy: Path, empty_store: Store) -> None:
    _edit_manifest(lake_copy, lambda body: body.update(format_version=2))
    _refused(empty_store, lake_copy, "format version 2")
    _edit_manifest(lake_copy, lambda body: body.update(format="something-else", format_version=1))
    _refused(empty_store, lake_copy, "something-else")
    (lake_copy / "manifest.json").unlink()
    _refused(empty_store, lake_copy, "manifest")


def test_row_counts_that_do_not_match_are_refused(lake_copy: Path, empty_store: Store) -> None:
    _edit_manifest(lake_copy, lambda body: body["records"]["events"]["files"][0].update(rows=1))
    _refused(empty_store, lake_copy, "events")


def test_a_wrong_content_hash_rolls_the_whole_import_back(lake_copy: Path, empty_store: Store) -> None:
    _edit_manifest(lake_copy, lambda body: body["records"]["survey_responses"].update(content_hash="0" * 32))
    version = empty_store.data_version()
    _refused(empty_store, lake_copy, "survey_responses", "content hash")
    assert empty_store.data_version() == version
    assert sum(_counts(empty_store).values()) == 0


# --------------------------------------------------------------------------- non-empty targets and --replace


def test_import_into_a_database_with_rows_is_refused_naming_the_record_types(lake: Path, tmp_path: Path) -> None:
    with Store.open(tmp_path / "t.duckdb") as store:
        insert(store, "disputes", [{"case_id": "old", "district": "通州区", "accepted_date": dt.date(2025, 1, 2)}])
        _refused(store, lake, "劳动人事争议案件（disputes，1 行）", "--replace")


def test_replace_deletes_and_loads_in_one_transaction(lake: Path, tmp_path: Path) -> None:
    old = {"case_id": "old", "district": "通州区", "accepted_date": dt.date(2025, 1, 2)}
    with Store.open(tmp_path / "t.duckdb") as store:
        insert(store, "disputes", [old])
        result = import_lake(store, lake, replace=True)
        assert result.deleted == {"disputes": 1}
        assert store.execute("SELECT count(*) FROM disputes WHERE case_id = 'old'")[0][0] == 0
        assert store.count("disputes") == _manifest(lake).records["disputes"].rows
        assert rollup.verify(store.cursor()) == []
        logged = store.execute("SELECT entity, action FROM change_log WHERE entity_key LIKE 'lake:%' ORDER BY entity")
        assert sorted(e for e, _ in logged) == sorted(RECORD_TYPES) and {a for _, a in logged} == {"insert"}


def test_a_load_that_fails_midway_keeps_the_old_rows(lake_copy: Path, tmp_path: Path) -> None:
    """A later record type's file holds a NULL in a NOT NULL column (its manifest entry rewritten to match):
    the checks pass, the disputes are deleted and loaded, the startups fail, and everything rolls back."""
    m = _manifest(lake_copy)
    f = m.records["startups"].files[0]
    table = pq.read_table(lake_copy / f.path)
    column = table.schema.get_field_index("entity_type")
    pq.write_table(table.set_column(column, "entity_type", pa.nulls(table.num_rows, pa.string())), lake_copy / f.path)
    digest = hashlib.sha256((lake_copy / f.path).read_bytes()).hexdigest()
    _edit_manifest(lake_copy, lambda body: body["records"]["startups"]["files"][0].update(sha256=digest))
    order = list(m.records)
    assert order.index("disputes") < order.index("startups")
    with Store.open(tmp_path / "t.duckdb") as store:
        insert(store, "disputes", [{"case_id": "old", "district": "通州区", "accepted_date": dt.date(2025, 1, 2)}])
        version = store.data_version()
        _refused(store, lake_copy, "startups", replace=True)
        assert store.execute("SELECT case_id FROM disputes") == [("old",)]
        assert store.data_version() == version
        assert rollup.verify(store.cursor()) == []


# --------------------------------------------------------------------------- export's folder handling


def test_export_refuses_a_non_empty_folder_unless_forced(demo_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with Store.open(demo_db, read_only=True) as store:
        with pytest.raises(LakeError, match="不为空"):
            export_lake(store, out, records=["disputes"])
        assert (out / "keep.txt").exists()
        # --force replaces an earlier lake folder only: not a folder of other files, nor one holding the database
        with pytest.raises(LakeError, match="不是"):
            export_lake(store, out, records=["disputes"], force=True)
        assert (out / "keep.txt").exists()
        (out / "keep.txt").unlink()
        export_lake(store, out, records=["disputes"])
        export_lake(store, out, records=["disputes", "events"], force=True)
    assert sorted(p.name for p in out.iterdir()) == ["disputes", "events", "manifest.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary or old folder left beside it
    (out / "notes.txt").write_text("x")
    with Store.open(demo_db, read_only=True) as store, pytest.raises(LakeError, match="notes.txt"):
        export_lake(store, out, records=["disputes"], force=True)
    assert (out / "notes.txt").exists()


def test_force_never_replaces_the_folder_of_the_database(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    with Store.open(folder / "kpi.duckdb") as store:
        export_lake(store, tmp_path / "lake", records=["disputes"])
        shutil.copy(tmp_path / "lake" / "manifest.json", folder / "manifest.json")  # looks like a lake folder
        with pytest.raises(LakeError, match="kpi.duckdb"):
            export_lake(store, folder, records=["disputes"], force=True)
    assert (folder / "kpi.duckdb").exists()


def test_a_failed_export_leaves_no_folder(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = parquet._write_record
    calls: list[str] = []

    def failing(cur: object, root: Path, rt: object) -> object:
        calls.append(rt.name)  # type: ignore[attr-defined]
        if len(calls) == 3:
            raise OSError("disk full")
        return real(cur, root, rt)  # type: ignore[arg-type]

    monkeypatch.setattr(parquet, "_write_record", failing)
    with Store.open(demo_db, read_only=True) as store, pytest.raises(OSError, match="disk full"):
        export_lake(store, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- the CLI


def test_cli_export_and_import(demo_db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "lake"
    some = ["--record", "disputes", "--record", "progress_reports"]
    exported = runner.invoke(main, ["lake", "export", "--db", str(demo_db), "--out", str(out), *some])
    assert exported.exit_code == 0, exported.output
    assert "disputes" in exported.output and "placements" not in exported.output
    assert "合计 / total" in exported.output and "exported to" in exported.output
    again = runner.invoke(main, ["lake", "export", "--db", str(demo_db), "--out", str(out), *some])
    assert again.exit_code == 1 and "not empty" in again.output

    target = tmp_path / "target.duckdb"
    loaded = runner.invoke(main, ["lake", "import", "--db", str(target), "--from", str(out)])
    assert loaded.exit_code == 0, loaded.output
    rows = _manifest(out).total_rows
    assert f"imported {rows:,} rows" in loaded.output
    refused = runner.invoke(main, ["lake", "import", "--db", str(target), "--from", str(out)])
    assert refused.exit_code == 1 and "--replace" in refused.output and "nothing was imported" in refused.output
    replaced = runner.invoke(main, ["lake", "import", "--db", str(target), "--from", str(out), "--replace"])
    assert replaced.exit_code == 0, replaced.output
    with Store.open(target, read_only=True) as store:
        assert sum(_counts(store).values()) == rows
        users = {u for (u,) in store.execute("SELECT DISTINCT user_name FROM change_log")}
        assert users and all(u.startswith("cli:") for u in users)


# --------------------------------------------------------------------------- Spark reads the folder


@pytest.mark.slow
def test_spark_reads_an_exported_record_type_with_its_types(lake: Path, spark: Any) -> None:
    from pyspark.sql import types as T

    df = spark.read.parquet(str(lake / "placements"))
    fields = {f.name: f.dataType for f in df.schema.fields}
    assert fields["placement_date"] == T.DateType()
    assert fields["monthly_wage"] == T.DecimalType(18, 2)
    assert fields["district"] == T.StringType()
    assert fields["is_local"] == T.BooleanType()
    assert df.count() == _manifest(lake).records["placements"].rows
    districts = {r["district"] for r in df.select("district").distinct().collect()}
    assert "海淀区" in districts and all("%" not in d for d in districts)
