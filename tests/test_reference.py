"""The engine's SQL and an independent plain-pandas implementation agree on every KPI of the demo data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from metrics.catalogue import load_catalogues
from metrics.demo.generate import build_demo
from metrics.kpi.engine import Engine
from metrics.storage.store import Store
from tests.bench.pandas_reference import compute_all, load_frames


@pytest.mark.parametrize("as_of", [dt.date(2026, 11, 21), dt.date(2025, 2, 28), dt.date(2024, 12, 31)])
def test_engine_matches_pandas_reference(tmp_path: Path, as_of: dt.date) -> None:
    db = tmp_path / "ref.duckdb"
    build_demo(db, seed=3, scale=0.05, as_of=dt.date(2026, 11, 21))
    cats = load_catalogues()
    with Store.open(db, read_only=True) as store:
        results = Engine(store, cats).compute(as_of)
        reference = compute_all(load_frames(store.cursor()), cats, as_of)
    assert len(results) == sum(len(c.kpis) for c in cats.values())
    for r in results:
        ref = reference[r.kpi_id]
        if ref["actual"] is None:
            assert r.actual is None, r.kpi_id
        else:
            assert r.actual == pytest.approx(ref["actual"], rel=1e-9, abs=1e-9), r.kpi_id
        if ref["denominator"] is not None:
            assert (r.numerator, r.denominator) == pytest.approx((ref["numerator"], ref["denominator"])), r.kpi_id
    if as_of == dt.date(2026, 11, 21):  # the demo data is built to show every status
        assert {r.status for r in results} == {"achieved", "on_track", "at_risk", "off_track", "no_data", "monitoring"}
