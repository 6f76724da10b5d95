"""Rollups are exact (docs/rollups.md): every KPI from the rollups equals the base-table scan and the
independent pandas reference on the demo data, and random imports and corrections keep rollup = base."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.catalogue import load_catalogues
from metrics.catalogue.models import CoverageMeasure, ReportedMeasure, SqlMeasure
from metrics.cli.rollup import rollup_group
from metrics.contract.records import CHANNELS, COURSE_CATEGORIES, PERSON_GROUPS
from metrics.demo.generate import build_demo
from metrics.ingest.load import write_records
from metrics.kpi.engine import Engine, KpiResult
from metrics.storage import rollup
from metrics.storage.store import Store
from tests.bench.pandas_reference import compute_all, load_frames
from tests.support import rows_to_table

DEMO_AS_OF = dt.date(2026, 11, 21)
# a mid-month day, a first of January, a year end, the first day of a programme, the demo's last day
AS_OF_DATES = [DEMO_AS_OF, dt.date(2026, 1, 1), dt.date(2025, 12, 31), dt.date(2025, 6, 15), dt.date(2024, 3, 1)]
CATS = load_catalogues()
COMPARED = ("actual", "numerator", "denominator", "status", "expected", "pace", "window_start", "window_end")


def _scans(kpi: Any) -> bool:
    return isinstance(kpi.measure, CoverageMeasure | SqlMeasure | ReportedMeasure)


def _same(a: KpiResult, b: KpiResult) -> None:
    """Both paths give the same bits: sums stay exact until the final cast (docs/rollups.md)."""
    assert {f: getattr(a, f) for f in COMPARED} == {f: getattr(b, f) for f in COMPARED}, a.kpi_id


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("rollup") / "demo.duckdb"
    build_demo(db, seed=5, scale=0.05, as_of=DEMO_AS_OF)
    return db


def test_demo_rollups_match_their_base_tables(demo_db: Path) -> None:
    with Store.open(demo_db, read_only=True) as store:
        names = {r.name for r in rollup.registered(store.cursor())}
        assert rollup.verify(store.cursor()) == []
        groups, rows = store.execute("SELECT count(*), sum(n_rows) FROM rollup_placements_by_placement_date")[0]
        placements = store.count("placements")
        days = store.execute("SELECT count(DISTINCT (district, placement_date)) FROM placements")[0][0]
    assert "rollup_placements_by_placement_date" in names
    assert any(n.startswith("rollup_placements_distinct_") for n in names)  # hd-expand-hire-employers
    assert (groups, rows) == (days, placements)  # one row per district and day that has placements


@pytest.mark.parametrize("as_of", AS_OF_DATES)
def test_every_kpi_rollup_equals_base_equals_pandas(demo_db: Path, as_of: dt.date) -> None:
    with Store.open(demo_db, read_only=True) as store:
        rolled = Engine(store, CATS, path="rollup")
        from_rollups = rolled.compute(as_of)
        from_base = Engine(store, CATS, path="base").compute(as_of)
        reference = compute_all(load_frames(store.cursor()), CATS, as_of)
    kpis = {k.id: k for c in CATS.values() for k in c.kpis}
    assert len(from_rollups) == len(kpis) == len(from_base) == 148
    for r, b in zip(from_rollups, from_base, strict=True):
        _same(r, b)
        ref = reference[r.kpi_id]
        if ref["actual"] is None:
            assert r.actual is None, r.kpi_id
        else:
            assert r.actual == pytest.approx(ref["actual"], rel=1e-9, abs=1e-9), r.kpi_id
        if ref["denominator"] is not None:
            assert (r.numerator, r.denominator) == pytest.approx((ref["numerator"], ref["denominator"])), r.kpi_id
        # every count, sum, mean, count-distinct and ratio is answered from rollups; the rest scan by design
        assert rolled.routes[r.kpi_id] == ("base" if _scans(kpis[r.kpi_id]) else "rollup"), r.kpi_id
    assert sum(v == "rollup" for v in rolled.routes.values()) == 103


def test_series_from_rollups_equal_series_from_base(demo_db: Path) -> None:
    with Store.open(demo_db, read_only=True) as store:
        for kpi_id in ("hd-expand-hire-employers", "tz-recruitment-events", "xc-project-placements"):
            rolled = Engine(store, CATS, path="rollup").series(kpi_id, DEMO_AS_OF, "week")
            base = Engine(store, CATS, path="base").series(kpi_id, DEMO_AS_OF, "week")
            assert rolled.equals(base), kpi_id
            assert rolled["actual"].notna().sum() > 10


def test_a_database_from_before_the_rollups_gets_them_on_open(tmp_path: Path, demo_db: Path) -> None:
    """Migration 0012 and Store.migrate create and fill the rollups of an existing database."""
    db = tmp_path / "old.duckdb"
    db.write_bytes(demo_db.read_bytes())
    with Store.open(db) as store, store.transaction() as cur:
        for r in rollup.registered(cur):
            cur.execute(f"DROP TABLE {r.name}")
        cur.execute("DROP TABLE rollups")
        cur.execute("DROP TABLE rollup_state")
        cur.execute("DELETE FROM schema_version WHERE version = 12")
    with Store.open(db, read_only=True) as store:
        assert rollup.registered(store.cursor()) == []
        assert Engine(store, CATS).compute(DEMO_AS_OF)  # an old file read-only: the engine scans
    with Store.open(db) as store:
        assert len(rollup.registered(store.cursor())) == 15
        assert rollup.verify(store.cursor()) == []
        engine = Engine(store, CATS)
        for a, b in zip(engine.compute(DEMO_AS_OF), Engine(store, CATS, path="base").compute(DEMO_AS_OF), strict=True):
            _same(a, b)
        assert "rollup" in engine.routes.values()


def test_rollup_verify_reports_a_difference_and_rebuild_repairs_it(tmp_path: Path, demo_db: Path) -> None:
    db = tmp_path / "k.duckdb"
    db.write_bytes(demo_db.read_bytes())
    ok = CliRunner().invoke(rollup_group, ["verify", "--db", str(db)])
    assert ok.exit_code == 0, ok.output
    assert "15" in ok.output
    with Store.open(db) as store, store.transaction() as cur:
        cur.execute("UPDATE rollup_placements_by_placement_date SET n_rows = n_rows + 1 WHERE day = '2026-03-02'")
    bad = CliRunner().invoke(rollup_group, ["verify", "--db", str(db)])
    assert bad.exit_code == 1
    assert "rollup_placements_by_placement_date" in bad.output
    assert "kpi rollup rebuild" in bad.output
    rebuilt = CliRunner().invoke(rollup_group, ["rebuild", "--db", str(db)])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert CliRunner().invoke(rollup_group, ["verify", "--db", str(db)]).exit_code == 0


def test_rollup_path_refuses_a_measure_without_rollup() -> None:
    """path='rollup' proves coverage: a rolled-up record type without the measure's rollup is an error."""
    with Store.memory() as store:
        with store.transaction() as cur:
            cur.execute("DROP TABLE rollup_events_by_event_date")
            cur.execute("DELETE FROM rollups WHERE name = 'rollup_events_by_event_date'")
        with pytest.raises(LookupError, match="no rollup"):
            Engine(store, CATS, path="rollup").compute(DEMO_AS_OF)
        assert Engine(store, CATS).compute(DEMO_AS_OF)  # auto scans the events instead


# --------------------------------------------------------------------------- random imports and corrections

DISTRICTS = ["通州区", "海淀区", "西城区", "昌平区"]
DAYS = st.dates(dt.date(2024, 12, 1), dt.date(2026, 2, 28))
EMPLOYERS = ["91110112MA198UW063", "91110108MA01ABCD1X", "91110102MA00XYZ12K"]
MEASURE_CODES = [
    "hd-full-emp-street-award",
    "hd-full-emp-community-award",
    "tz-startup-loan-award",
    "xc-welfare-org-post",
]
AMOUNT = st.decimals(0, 50_000, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def placement(draw: st.DrawFn) -> dict[str, Any]:
    near = draw(st.booleans())
    return {
        "placement_id": f"JY-{draw(st.integers(0, 11))}",
        "person_id": f"P{draw(st.integers(0, 5))}",
        "district": draw(st.sampled_from(DISTRICTS)),
        "street": draw(st.sampled_from(["永顺镇", "回龙观街道", "德胜街道"])),
        "placement_date": draw(DAYS),
        "employer_id": draw(st.sampled_from(EMPLOYERS)),
        "employer_name": "北京示例科技有限公司",
        "channel": draw(st.sampled_from(CHANNELS)),
        "person_group": draw(st.sampled_from(PERSON_GROUPS)),
        "is_local": draw(st.booleans()),
        "is_beijing_hukou": draw(st.booleans()),
        "project_id": draw(st.sampled_from([None, "XM-1"])),
        "contract_signed": draw(st.booleans()),
        "contract_months": draw(st.sampled_from([None, 6, 12, 36])),
        "social_insurance": draw(st.booleans()),
        "monthly_wage": draw(st.none() | AMOUNT),
        "public_service_post": draw(st.sampled_from([None, True, False])),
        "work_lat": 40.08 if near else draw(st.sampled_from([None, 39.9])),
        "work_lon": 116.37 if near else 116.4,
        "stable_6m": draw(st.sampled_from([None, True, False])),
    }


@st.composite
def training(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(DAYS)
    return {
        "training_id": f"PX-{draw(st.integers(0, 9))}",
        "person_id": f"P{draw(st.integers(0, 5))}",
        "district": draw(st.sampled_from(DISTRICTS)),
        "provider": "培训学校",
        "course_category": draw(st.sampled_from(COURSE_CATEGORIES)),
        "start_date": start,
        "end_date": draw(st.sampled_from([None, start + dt.timedelta(days=20), start + dt.timedelta(days=90)])),
        "class_hours": draw(st.sampled_from([8, 40, 120])),
        "completed": draw(st.booleans()),
        "certificate_level": draw(st.sampled_from([None, "无", "初级工", "高级工", "技师"])),
        "skill_evaluated": draw(st.booleans()),
        "employed_within_3m": draw(st.sampled_from([None, True, False])),
    }


@st.composite
def application(draw: st.DrawFn) -> dict[str, Any]:
    submitted = draw(DAYS)
    paid = draw(st.sampled_from([None, 0, 40]))
    return {
        "application_id": f"SQ-{draw(st.integers(0, 9))}",
        "district": draw(st.sampled_from(DISTRICTS)),
        "measure_code": draw(st.sampled_from(MEASURE_CODES)),
        "applicant_type": "用人单位",
        "applicant_id": f"A{draw(st.integers(0, 3))}",
        "submitted_date": submitted,
        "amount_requested": draw(AMOUNT),
        "amount_approved": draw(st.none() | AMOUNT),
        "status": draw(st.sampled_from(["已受理", "已审核", "不予通过", "已拨付"])),
        "paid_date": None if paid is None else submitted + dt.timedelta(days=paid),
    }


UPLOADS = st.one_of(
    st.tuples(st.just("placements"), st.lists(placement(), min_size=1, max_size=8)),
    st.tuples(st.just("trainings"), st.lists(training(), min_size=1, max_size=6)),
    st.tuples(st.just("applications"), st.lists(application(), min_size=1, max_size=6)),
)


def _unique(record: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per natural key, as a validated file has (the last one wins)."""
    key = {"placements": "placement_id", "trainings": "training_id", "applications": "application_id"}[record]
    return list({r[key]: r for r in rows}.values())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    uploads=st.lists(UPLOADS, min_size=1, max_size=5),
    as_of=st.sampled_from([dt.date(2025, 12, 31), dt.date(2026, 2, 15), dt.date(2025, 3, 31)]),
)
def test_random_imports_and_corrections_keep_rollups_equal_to_base(
    uploads: list[tuple[str, list[dict[str, Any]]]], as_of: dt.date
) -> None:
    """Re-uploads change values and move rows across days, months, years, districts and categories (the ids
    come from small pools, so later files replace earlier rows); after every import both paths agree."""
    with Store.memory() as store:
        rolled, base = Engine(store, CATS, path="rollup"), Engine(store, CATS, path="base")
        for i, (record, rows) in enumerate(uploads):
            table = rows_to_table(record, _unique(record, rows))
            for column in ("monthly_wage", "amount_requested", "amount_approved"):
                if column in table.column_names:
                    values = [None if v is None else decimal.Decimal(v) for v in table.column(column).to_pylist()]
                    table = table.set_column(table.schema.get_field_index(column), column, [values])
            write_records(store, record, table, file_name=f"f{i}.xlsx", sha256=str(i), user="test")
            assert rollup.verify(store.cursor()) == [], (record, rows)
        for a, b in zip(rolled.compute(as_of), base.compute(as_of), strict=True):
            _same(a, b)
        assert "rollup" in rolled.routes.values()
