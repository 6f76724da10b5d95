"""The demo built in pieces (metrics/demo/chunks.py, docs/rollups.md "Scale 1000"): bounded pieces, the same
volumes and profile as the in-memory generator, unique ids, and a database whose rollups equal the base tables
and whose KPIs agree on both engine paths."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from metrics.catalogue import load_catalogues
from metrics.demo.chunks import CHUNKED_FROM_SCALE, build_chunked, pieces
from metrics.demo.generate import DEFAULT_AS_OF, build_demo, generate
from metrics.kpi.engine import Engine
from metrics.storage import rollup
from metrics.storage.store import Store

SEED = 7
SCALE = 0.05
MAX_ROWS = 150  # small enough that every scaled record type comes in several pieces at this scale
SCALED = ("placements", "trainings", "applications")


@pytest.fixture(scope="module")
def whole() -> dict[str, pa.Table]:
    return generate(seed=SEED, scale=SCALE)


@pytest.fixture(scope="module")
def parts() -> list[dict[str, pa.Table]]:
    return list(pieces(seed=SEED, scale=SCALE, max_rows=MAX_ROWS))


def joined(parts: list[dict[str, pa.Table]], record: str) -> pa.Table:
    return pa.concat_tables([p[record] for p in parts if record in p])


def text(table: pa.Table, column: str) -> list[str | None]:
    return pc.cast(table.column(column), pa.string()).to_pylist()


def test_pieces_are_bounded_and_many(parts: list[dict[str, pa.Table]]) -> None:
    placements = [p["placements"] for p in parts if "placements" in p]
    assert len(placements) > 5 * 4, "some year and district come in several parts"
    for t in placements:
        assert 0 < t.num_rows <= MAX_ROWS
        years = set(pc.year(t.column("placement_date")).to_pylist())
        assert len(years) == 1, "a placements piece lies within one year"
    trainings = [p["trainings"] for p in parts if "trainings" in p]
    assert len(trainings) > 4, "some district's trainings come as slices"
    assert max(t.num_rows for t in trainings) <= MAX_ROWS * 1.1
    for p in parts:
        if "applications" in p:
            t = p["applications"]
            assert t.num_rows <= MAX_ROWS or len(set(text(t, "measure_code"))) == 1
    assert all(len(p) == 1 for p in parts[1:]), "after the first, one scaled record type per piece"


def test_record_types_that_do_not_scale_are_generates_tables(
    whole: dict[str, pa.Table], parts: list[dict[str, pa.Table]]
) -> None:
    first = parts[0]
    assert set(first) == set(whole) - set(SCALED)
    for name, table in first.items():
        assert table.equals(whole[name]), name


def test_placements_have_generates_days_groups_and_volumes(
    whole: dict[str, pa.Table], parts: list[dict[str, pa.Table]]
) -> None:
    chunked = joined(parts, "placements")
    assert chunked.schema == whole["placements"].schema
    assert chunked.num_rows == whole["placements"].num_rows

    def by_day(t: pa.Table) -> Counter[tuple[str | None, dt.date, str | None]]:
        return Counter(
            zip(text(t, "district"), t.column("placement_date").to_pylist(), text(t, "person_group"), strict=True)
        )

    assert by_day(chunked) == by_day(whole["placements"])
    ids = chunked.column("placement_id").to_pylist()
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 19 and i.startswith("JY") for i in ids)
    # the per-row draws differ, the profile does not: shares within a few points of the in-memory demo
    for column in ("channel", "street"):
        a, b = Counter(text(chunked, column)), Counter(text(whole["placements"], column))
        assert set(a) == set(b)
        for k in b:
            assert abs(a[k] - b[k]) / len(ids) < 0.03, (column, k)
    wage = pc.mean(pc.cast(chunked.column("monthly_wage"), pa.float64())).as_py()
    wage_whole = pc.mean(pc.cast(whole["placements"].column("monthly_wage"), pa.float64())).as_py()
    assert abs(wage / wage_whole - 1) < 0.05
    assert chunked.column("project_id").null_count == pytest.approx(
        whole["placements"].column("project_id").null_count, rel=0.1
    )


def test_trainings_and_applications_keep_volumes_and_unique_ids(
    whole: dict[str, pa.Table], parts: list[dict[str, pa.Table]]
) -> None:
    trainings = joined(parts, "trainings")
    assert trainings.num_rows == pytest.approx(whole["trainings"].num_rows, rel=0.02)
    assert Counter(text(trainings, "district")).keys() == Counter(text(whole["trainings"], "district")).keys()
    ids = trainings.column("training_id").to_pylist()
    assert len(set(ids)) == len(ids)
    apps = joined(parts, "applications")
    # each subsidy measure is drawn as generate draws it: the same rows, only grouped and numbered otherwise
    assert Counter(text(apps, "measure_code")) == Counter(text(whole["applications"], "measure_code"))
    assert sorted(apps.column("amount_requested").to_pylist()) == sorted(
        whole["applications"].column("amount_requested").to_pylist()
    )
    ids = apps.column("application_id").to_pylist()
    assert len(set(ids)) == len(ids)


def test_chunked_database_rollups_verify_and_both_paths_agree(tmp_path: Path, parts: list[dict[str, pa.Table]]) -> None:
    db = tmp_path / "chunked.duckdb"
    seen: list[int] = []
    loaded = build_chunked(db, seed=SEED, scale=SCALE, max_rows=MAX_ROWS, progress=lambda i, _: seen.append(i))
    assert loaded.pieces == len(parts) == len(seen) >= 2
    for name in loaded.counts:
        assert loaded.counts[name] == joined(parts, name).num_rows, name
    assert loaded.peak_rss_mb > 0
    cats = load_catalogues()
    with Store.open(db, read_only=True) as store:
        assert store.count("placements") == loaded.counts["placements"]
        assert rollup.verify(store.cursor()) == []
        rolled, base = Engine(store, cats, path="rollup"), Engine(store, cats, path="base")
        for r, b in zip(rolled.compute(DEFAULT_AS_OF), base.compute(DEFAULT_AS_OF), strict=True):
            assert (r.kpi_id, r.actual, r.numerator, r.denominator, r.status) == (
                b.kpi_id,
                b.actual,
                b.numerator,
                b.denominator,
                b.status,
            )
        assert "rollup" in rolled.routes.values()


def test_build_demo_chunked_writes_a_complete_file(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    counts = build_demo(db, seed=SEED, scale=0.02, chunked=True)
    whole = generate(seed=SEED, scale=0.02)
    assert counts == {name: t.num_rows for name, t in whole.items()}  # one piece per district at this size
    assert db.exists() and not Path(f"{db}.building").exists()
    with Store.open(db, read_only=True) as store:
        assert store.count("placements") == counts["placements"]
        assert rollup.verify(store.cursor()) == []
    # scale 100 (the benchmark's) still builds in memory, byte for byte the demo it always was
    assert 100 < CHUNKED_FROM_SCALE <= 1000


def test_pieces_refuse_bad_arguments() -> None:
    with pytest.raises(ValueError):
        next(pieces(scale=0))
    with pytest.raises(ValueError):
        next(pieces(scale=1, max_rows=0))
