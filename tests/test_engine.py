"""The engine against a tiny hand-built DuckDB file: every measure kind, scoping, breakdowns."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from metrics.kpi.engine import Engine
from metrics.storage import rollup
from metrics.storage.store import Store
from tests.engine_cases import AS_OF, KPIS, fill
from tests.support import JSON_CONTRACT, tiny_catalogue

D = dt.date


@pytest.fixture(params=["base", "rollup"])
def engine(tiny_duck: Store, request: pytest.FixtureRequest) -> Engine:
    """The hand-made records on both paths: "rollup" shapes the rollups to the tiny catalogue before the
    records are written, so the writes maintain them and every count, sum, mean and ratio reads them."""
    s = tiny_duck
    cats = {"tiny": tiny_catalogue(KPIS)}
    if request.param == "rollup":
        with s.transaction() as cur:
            rollup.build_all(cur, rollup.shapes(cats), only_changed=False)
    fill(s)
    engine = Engine(s, cats, path=request.param)
    if request.param == "rollup":
        engine.compute(AS_OF)
        assert engine.routes["people-trained"] == engine.routes["local-ratio"] == "rollup"
        assert rollup.verify(s.cursor()) == []
    return engine


def results(engine: Engine) -> dict:
    return {r.kpi_id: r for r in engine.compute(AS_OF)}


def test_count_with_filters_window_and_district(engine: Engine) -> None:
    r = results(engine)["events"]
    assert r.actual == 4  # E1, E2, E3, E4
    assert (r.window_start, r.window_end) == (D(2026, 1, 1), AS_OF)
    assert r.expected == pytest.approx(10 * 325 / 365)
    assert r.pace == pytest.approx(4 / (10 * 325 / 365))
    assert r.status == "off_track"  # pace 0.449


def test_month_count(engine: Engine) -> None:
    r = results(engine)["livestreams"]
    assert r.actual == 1 and r.window_start == D(2026, 11, 1)
    assert r.status == "off_track"  # 1 / (2 × 21/30) = 0.714


def test_sum(engine: Engine) -> None:
    r = results(engine)["positions"]
    assert r.actual == 42 and r.status == "off_track"  # 42 / 89.04 = 0.47


def test_count_distinct_cumulative(engine: Engine) -> None:
    r = results(engine)["people-trained"]
    assert r.actual == 2  # P1 twice, P2; P3 before the start
    assert r.window_start == D(2025, 1, 1)
    assert r.expected == pytest.approx(5 * 689 / 1094)


def test_ratio_rolls_up_from_sums(engine: Engine) -> None:
    r = results(engine)["local-ratio"]
    assert (r.numerator, r.denominator) == (2, 3)
    assert r.actual == pytest.approx(2 / 3) and r.status == "achieved"


def test_contract_signing_rate_uses_latest_return_per_enterprise(engine: Engine) -> None:
    r = results(engine)["contract-rate"]
    assert (r.numerator, r.denominator) == (118 + 76, 120 + 80)
    assert r.actual == pytest.approx(0.97)  # an average of percentages would give 0.9667
    assert r.status == "at_risk"


def test_dispute_closure_rate(engine: Engine) -> None:
    r = results(engine)["closure-rate"]
    # closed in window: C1, C3; accepted in window: C3, C4, C7; open at start: C1, C6
    assert (r.numerator, r.denominator) == (2, 5)
    assert r.status == "off_track"


def test_mediation_closure_rate(engine: Engine) -> None:
    r = results(engine)["mediation-rate"]
    assert (r.numerator, r.denominator) == (1, 2)  # C1 by 调解 of C1, C3 closed in the window


def test_coverage_uses_latest_row_per_unit_as_of(engine: Engine) -> None:
    r = results(engine)["specialists"]
    assert (r.numerator, r.denominator) == (2, 3)  # M1 yes, M2 no, M3 yes; M4 only after D
    assert r.status == "off_track"


def test_reported_cumulative_takes_latest_report_in_window(engine: Engine) -> None:
    r = results(engine)["housing"]
    assert r.actual == 900  # the 11-30 report is after D; 昌平区 is another programme's
    assert r.status == "on_track"  # 900 / 944.7 = 0.953


def test_mean_monitoring(engine: Engine) -> None:
    r = results(engine)["survey-service"]
    assert r.actual == pytest.approx(4.5) and r.status == "monitoring" and r.target is None


def test_no_records_in_window_is_no_data(engine: Engine) -> None:
    r = results(engine)["startups-unreported"]
    assert r.status == "no_data" and r.actual is None and r.pace is None


def test_compute_json_contract(engine: Engine) -> None:
    rec = results(engine)["contract-rate"].contract()
    assert tuple(rec) == JSON_CONTRACT
    assert rec["window_start"] == "2026-01-01" and rec["target"] == 0.98


def test_breakdown_count(engine: Engine) -> None:
    df = engine.breakdown("events", "event_type", AS_OF)
    assert dict(zip(df["event_type"], df["value"], strict=True)) == {"招聘会": 2, "专场招聘": 1, "直播带岗": 1}


def test_breakdown_ratio_per_group_from_sums(engine: Engine) -> None:
    df = engine.breakdown("local-ratio", "street", AS_OF).set_index("street")
    assert df.loc["甲街道", "value"] == pytest.approx(0.5)
    assert df.loc["乙街道", "value"] == pytest.approx(1.0)
    assert df["numerator"].sum() == 2 and df["denominator"].sum() == 3


def test_breakdown_sql_measure(engine: Engine) -> None:
    df = engine.breakdown("contract-rate", "street", AS_OF).set_index("street")
    assert df.loc["甲街道", "value"] == pytest.approx(118 / 120)
    assert df.loc["乙街道", "value"] == pytest.approx(76 / 80)


def test_breakdown_coverage(engine: Engine) -> None:
    df = engine.breakdown("specialists", "street", AS_OF).set_index("street")
    assert df.loc["甲街道", "value"] == pytest.approx(0.5) and df.loc["乙街道", "value"] == 1.0


def test_breakdown_rejects_unknown_dimension(engine: Engine) -> None:
    with pytest.raises(ValueError, match="no dimension"):
        engine.breakdown("events", "organiser", AS_OF)


def test_series_by_month_is_the_value_as_of_each_month_end(engine: Engine) -> None:
    s = engine.series("events", AS_OF, "month")
    assert list(s["date"])[:3] == [D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31)] and s["date"].iloc[-1] == AS_OF
    got = dict(zip(s["date"], s["actual"], strict=True))
    assert got[D(2026, 1, 31)] == 1 and got[D(2026, 3, 31)] == 2 and got[D(2026, 10, 31)] == 2 and got[AS_OF] == 4
    assert s["expected"].iloc[0] == pytest.approx(10 * 31 / 365)


def test_series_of_a_rate_recomputes_the_named_query(engine: Engine) -> None:
    s = engine.series("contract-rate", AS_OF, "month").set_index("date")
    assert s.loc[D(2026, 3, 31), "actual"] == pytest.approx(95 / 100)
    assert s.loc[D(2026, 9, 30), "actual"] == pytest.approx(118 / 120)
    assert s.loc[AS_OF, "actual"] == pytest.approx(0.97)
    assert pd.isna(s.loc[D(2026, 1, 31), "actual"])  # no return yet: no data, not zero


def test_week_buckets_end_on_sundays() -> None:
    from metrics.kpi.engine import bucket_ends

    ends = bucket_ends(D(2026, 11, 1), D(2026, 11, 21), "week")
    assert ends == [D(2026, 11, 1), D(2026, 11, 8), D(2026, 11, 15), D(2026, 11, 21)]
