"""Status rules of docs/kpi-semantics.md against values computed by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from metrics.catalogue.models import Target
from metrics.kpi.status import (
    AT_RISK_PACE,
    ON_TRACK_PACE,
    TOLERANCE,
    assess,
    cumulative_window,
    expected_by,
    expected_share,
    month_window,
    pace_bands,
    pace_status,
    progress,
    share_status,
    window_for,
    year_window,
)

D = dt.date
AS_OF = D(2026, 11, 21)  # day 325 of 365


def year_target(value: float = 300, comparator: str = ">=") -> Target:
    return Target(value=value, comparator=comparator, period="year")


def test_year_window_and_elapsed_share() -> None:
    w = year_window(AS_OF)
    assert (w.start, w.end, w.period_end) == (D(2026, 1, 1), AS_OF, D(2026, 12, 31))
    assert w.elapsed_share == pytest.approx(325 / 365)
    assert year_window(D(2026, 1, 1)).elapsed_share == pytest.approx(1 / 365)
    assert year_window(D(2026, 12, 31)).elapsed_share == 1.0
    assert year_window(D(2024, 12, 31)).elapsed_share == 1.0  # leap year: 366/366


def test_year_count_expected_pace_projection_required() -> None:
    t = year_target()
    a = assess(t, 285, year_window(AS_OF), AS_OF, has_data=True)
    assert a.expected == pytest.approx(300 * 325 / 365)  # 267.12
    assert a.pace == pytest.approx(285 / (300 * 325 / 365))  # 1.067
    assert a.status == "on_track"
    assert a.projection == pytest.approx(285 / (325 / 365))  # 320.08
    assert a.required_weekly == pytest.approx(15 / (40 / 7))  # 15 still needed over 40 days


@pytest.mark.parametrize(
    ("actual", "status"),
    [
        (300, "achieved"),
        (301, "achieved"),
        (299, "on_track"),
        (300 * 325 / 365 * 0.95, "on_track"),  # pace exactly 0.95
        (300 * 325 / 365 * 0.949, "at_risk"),
        (300 * 325 / 365 * 0.80, "at_risk"),  # pace exactly 0.80
        (300 * 325 / 365 * 0.799, "off_track"),
        (0, "off_track"),
    ],
)
def test_year_count_status_boundaries(actual: float, status: str) -> None:
    assert assess(year_target(), actual, year_window(AS_OF), AS_OF, has_data=True).status == status


def test_thresholds_overridable_per_kpi() -> None:
    t = Target(value=300, period="year", on_track_pace=1.0, at_risk_pace=0.9)
    a = assess(t, 260, year_window(AS_OF), AS_OF, has_data=True)  # pace 0.973
    assert a.status == "at_risk"


def test_month_target() -> None:
    t = Target(value=2, period="month")
    w = month_window(AS_OF)
    assert (w.start, w.period_end) == (D(2026, 11, 1), D(2026, 11, 30))
    a = assess(t, 1, w, AS_OF, has_data=True)
    assert a.expected == pytest.approx(2 * 21 / 30)  # 1.4
    assert a.pace == pytest.approx(1 / 1.4)
    assert a.status == "off_track"  # 0.714 < 0.80
    assert assess(t, 2, w, AS_OF, has_data=True).status == "achieved"
    feb = month_window(D(2026, 2, 14))
    assert feb.elapsed_share == pytest.approx(14 / 28)


def test_cumulative_target_uses_d_minus_start_over_deadline_minus_start() -> None:
    t = Target(value=1500, period="cumulative", start=D(2025, 1, 1), deadline=D(2027, 12, 31))
    w = window_for(t, AS_OF, D(2025, 1, 1))
    assert (w.start, w.end) == (D(2025, 1, 1), AS_OF)
    # D − start = 365 + 324 = 689 days; deadline − start = 365 + 365 + 364 = 1094 days
    assert expected_by(t, w, AS_OF) == pytest.approx(1500 * 689 / 1094)  # 944.70
    assert assess(t, 900, w, AS_OF, has_data=True).status == "on_track"  # pace 0.9527
    assert assess(t, 760, w, AS_OF, has_data=True).status == "at_risk"  # pace 0.8045
    assert assess(t, 700, w, AS_OF, has_data=True).status == "off_track"  # pace 0.741
    assert assess(t, 1500, w, AS_OF, has_data=True).status == "achieved"
    # after the deadline the expected value stays at the target
    late = D(2028, 3, 1)
    assert expected_by(t, window_for(t, late, D(2025, 1, 1)), late) == 1500
    # on the start day nothing is due yet: pace undefined, on track
    first = assess(t, 0, cumulative_window(D(2025, 1, 1), t.start, t.deadline), D(2025, 1, 1), has_data=True)  # type: ignore[arg-type]
    assert (first.expected, first.pace, first.status) == (0, None, "on_track")


@pytest.mark.parametrize(
    ("actual", "status"),
    [(0.985, "achieved"), (0.98, "achieved"), (0.972, "at_risk"), (0.96, "at_risk"), (0.9599, "off_track")],
)
def test_rate_higher_is_better(actual: float, status: str) -> None:
    t = Target(value=0.98, period="rate")
    a = assess(t, actual, year_window(AS_OF), AS_OF, has_data=True)
    assert a.status == status
    assert a.expected == 0.98 and a.pace is None


@pytest.mark.parametrize(
    ("actual", "status"), [(0.04, "achieved"), (0.05, "achieved"), (0.06, "at_risk"), (0.071, "off_track")]
)
def test_rate_lower_is_better_mirrors(actual: float, status: str) -> None:
    t = Target(value=0.05, comparator="<=", period="rate")
    assert assess(t, actual, year_window(AS_OF), AS_OF, has_data=True).status == status


def test_rate_tolerance_overridable() -> None:
    t = Target(value=0.95, period="rate", tolerance=0.05)
    assert assess(t, 0.91, year_window(AS_OF), AS_OF, has_data=True).status == "at_risk"


def test_coverage_target() -> None:
    t = Target(value=1.0, period="coverage")
    assert assess(t, 1.0, year_window(AS_OF), AS_OF, has_data=True).status == "achieved"
    assert assess(t, 0.985, year_window(AS_OF), AS_OF, has_data=True).status == "at_risk"
    assert assess(t, 0.9, year_window(AS_OF), AS_OF, has_data=True).status == "off_track"


@pytest.mark.parametrize(
    ("actual", "as_of", "status"),
    [
        (120, AS_OF, "off_track"),  # over the ceiling already
        (95, AS_OF, "on_track"),  # ceiling 100 × 325/365 = 89.04; pace 1.067 ≤ 1.05? no → at_risk below
        (93, AS_OF, "on_track"),  # pace 1.0445
        (100, AS_OF, "at_risk"),  # pace 1.123
        (99.9, D(2026, 12, 31), "achieved"),  # period closed under the ceiling
    ],
)
def test_count_lower_is_better(actual: float, as_of: dt.date, status: str) -> None:
    t = year_target(100, "<=")
    expected = {95: "at_risk"}.get(actual, status) if as_of == AS_OF else status
    assert assess(t, actual, year_window(as_of), as_of, has_data=True).status == expected


def test_no_data_is_not_zero_progress() -> None:
    a = assess(year_target(), None, year_window(AS_OF), AS_OF, has_data=False)
    assert a.status == "no_data" and a.pace is None
    a = assess(year_target(), 0, year_window(AS_OF), AS_OF, has_data=False)
    assert a.status == "no_data"


def test_monitoring_has_no_status() -> None:
    a = assess(None, 42, year_window(AS_OF), AS_OF, has_data=True)
    assert a.status == "monitoring" and a.expected is None


def test_rate_window_can_be_cumulative() -> None:
    t = Target(value=0.98, period="rate", window="cumulative")
    w = window_for(t, AS_OF, D(2025, 1, 1))
    assert (w.start, w.end) == (D(2025, 1, 1), AS_OF)


def test_progress_is_capped_and_mirrors_ceilings() -> None:
    assert progress(150, 300) == pytest.approx(0.5)
    assert progress(450, 300) == 1.0  # a target met is 100%, however far past it
    assert progress(3, 4, "<=") == 1.0 and progress(5, 4, "<=") == pytest.approx(0.8)  # a ceiling
    assert progress(None, 300) is None and progress(1, None) is None and progress(1, 0) is None
    assert progress(float("nan"), 3) is None


def test_pace_and_share_status_honour_overrides() -> None:
    t = Target(value=300, period="year", on_track_pace=0.85, at_risk_pace=0.7)
    assert [pace_status(t, p) for p in (0.86, 0.85, 0.72, 0.69)] == ["on_track", "on_track", "at_risk", "off_track"]
    ceiling = Target(value=300, comparator="<=", period="year", on_track_pace=0.9, at_risk_pace=0.8)
    assert pace_bands(ceiling) == pytest.approx((1.1, 1.2))
    assert [pace_status(ceiling, p) for p in (1.1, 1.15, 1.25)] == ["on_track", "at_risk", "off_track"]
    rate = Target(value=0.9, period="rate", tolerance=0.05)
    assert [share_status(rate, v) for v in (0.9, 0.86, 0.84)] == ["achieved", "at_risk", "off_track"]
    assert (ON_TRACK_PACE, AT_RISK_PACE, TOLERANCE) == (0.95, 0.8, 0.02)  # docs/kpi-semantics.md


def test_expected_share_is_what_the_engine_pro_rates_by() -> None:
    year = year_target()
    assert expected_share(year, AS_OF, D(2025, 1, 1)) == pytest.approx(325 / 365)
    assert expected_share(Target(value=0.9, period="rate"), AS_OF, D(2025, 1, 1)) == 1.0
    cum = Target(value=60, period="cumulative", start=D(2025, 1, 1), deadline=D(2027, 12, 31))
    w = window_for(cum, AS_OF, D(2025, 1, 1))
    assert expected_share(cum, AS_OF, D(2025, 1, 1)) * 60 == pytest.approx(expected_by(cum, w, AS_OF))
