"""Windows, expected-by-date, pace, status, progress, projection and required rate (docs/kpi-semantics.md),
as pure functions: the one copy of the status rule, which the engine, the weekly briefing and the demo call.

Nothing here reads data: the engine computes an actual value over a window and asks this module what
the window is and what the value means against the target. Every rule is tested by hand-computed cases.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass
from typing import Literal

from metrics.catalogue.models import Target

Status = Literal["achieved", "on_track", "at_risk", "off_track", "no_data", "monitoring"]
STATUSES: tuple[Status, ...] = ("achieved", "on_track", "at_risk", "off_track", "no_data", "monitoring")
# Most urgent first, for sorting tiles.
URGENCY: dict[str, int] = {"off_track": 0, "at_risk": 1, "no_data": 2, "on_track": 3, "achieved": 4, "monitoring": 5}

# The default thresholds (docs/kpi-semantics.md, "Status"). They are fields of the catalogue's Target, so a
# KPI may override each in its YAML; named here so that the text explaining the rule is built from them.
ON_TRACK_PACE: float = Target.model_fields["on_track_pace"].default
AT_RISK_PACE: float = Target.model_fields["at_risk_pace"].default
TOLERANCE: float = Target.model_fields["tolerance"].default


@dataclass(frozen=True)
class Window:
    """The dates a value is computed over (inclusive), and the whole period it belongs to."""

    start: dt.date
    end: dt.date  # the as-of date (or the period's end if that came first)
    period_start: dt.date
    period_end: dt.date

    @property
    def elapsed_share(self) -> float:
        """Share of the period elapsed by `end`, counting the as-of day itself as elapsed."""
        total = (self.period_end - self.period_start).days + 1
        done = (min(self.end, self.period_end) - self.period_start).days + 1
        return max(0.0, min(1.0, done / total))


def year_window(as_of: dt.date) -> Window:
    start, end = dt.date(as_of.year, 1, 1), dt.date(as_of.year, 12, 31)
    return Window(start, as_of, start, end)


def month_window(as_of: dt.date) -> Window:
    start = as_of.replace(day=1)
    end = as_of.replace(day=calendar.monthrange(as_of.year, as_of.month)[1])
    return Window(start, as_of, start, end)


def cumulative_window(as_of: dt.date, start: dt.date, deadline: dt.date) -> Window:
    return Window(start, min(as_of, deadline), start, deadline)


def window_for(target: Target | None, as_of: dt.date, programme_start: dt.date) -> Window:
    """The evaluation window of a KPI as of a date (monitoring KPIs: year to date)."""
    if target is None:
        return year_window(as_of)
    if target.period == "year":
        return year_window(as_of)
    if target.period == "month":
        return month_window(as_of)
    if target.period == "cumulative":
        assert target.start is not None and target.deadline is not None
        return cumulative_window(as_of, target.start, target.deadline)
    # rates and coverage: year to date unless the catalogue says otherwise
    if target.window == "month_to_date":
        return month_window(as_of)
    if target.window == "cumulative":
        start = target.start or programme_start
        return Window(start, as_of, start, target.deadline or as_of)
    return year_window(as_of)


def due_share(target: Target, window: Window, as_of: dt.date) -> float:
    """The share of the target due by the as-of date: the elapsed share of a count's period, 1 for a rate."""
    if target.period in ("rate", "coverage"):
        return 1.0
    if target.period == "cumulative":
        # docs/kpi-semantics.md: target × (D − start) / (deadline − start), held at the target after the deadline
        span = (window.period_end - window.period_start).days
        done = (min(as_of, window.period_end) - window.period_start).days
        return max(0.0, min(1.0, done / span))
    return window.elapsed_share


def expected_by(target: Target, window: Window, as_of: dt.date) -> float | None:
    """What the target asks for by the as-of date: a pro-rated count, or the threshold itself."""
    if target.period in ("rate", "coverage"):
        return target.value
    return target.value * due_share(target, window, as_of)


def expected_share(target: Target, as_of: dt.date, programme_start: dt.date) -> float:
    """The share of the target due by `as_of` in the KPI's own window (what the engine pro-rates by)."""
    return due_share(target, window_for(target, as_of, programme_start), as_of)


def progress(actual: float | None, target: float | None, comparator: str | None = ">=") -> float | None:
    """Completion of a target, 0..1 (完成进度): actual ÷ target, capped at 1; for a ceiling (<=), 1 while
    the actual is at or under it, else target ÷ actual. None without both numbers or with a zero target."""
    if actual is None or target is None:
        return None
    a, t = float(actual), float(target)
    if math.isnan(a) or math.isnan(t) or t == 0:
        return None
    if comparator == "<=":
        return 1.0 if a <= t else t / a
    return min(1.0, a / t)


@dataclass(frozen=True)
class Assessment:
    status: Status
    expected: float | None
    pace: float | None
    projection: float | None  # end-of-period value at the current run rate
    required_weekly: float | None  # per week from now to the period end to still reach the target
    rule_zh: str
    rule_en: str


# Rates are compared with a hair of slack so that 0.96 counts as 'within 2 points of 98%' in floating point.
EPS = 1e-9


def _fmt(x: float) -> str:
    return f"{x:,.4g}" if abs(x) < 1000 else f"{x:,.0f}"


def assess(
    target: Target | None, actual: float | None, window: Window, as_of: dt.date, *, has_data: bool
) -> Assessment:
    """Status of one KPI value; see docs/kpi-semantics.md. `has_data` is False when the window holds no records."""
    if target is None:
        return Assessment(
            "monitoring", None, None, None, None, "监测指标，不设目标、不评状态", "monitoring KPI: no target, no status"
        )
    expected = expected_by(target, window, as_of)
    if not has_data or actual is None:
        return Assessment(
            "no_data",
            expected,
            None,
            None,
            None,
            "统计期内没有数据，不视为零进度",
            "no records in the window; not shown as zero progress",
        )
    if target.period in ("rate", "coverage"):
        return _assess_share(target, actual, expected)
    return _assess_count(target, actual, window, as_of, expected)


def share_status(target: Target, actual: float) -> Status:
    """A rate or coverage against its threshold: achieved at it, at risk within the tolerance, else off track."""
    t, tol = target.value, target.tolerance
    if target.higher_is_better:
        return "achieved" if actual >= t - EPS else "at_risk" if actual >= t - tol - EPS else "off_track"
    return "achieved" if actual <= t + EPS else "at_risk" if actual <= t + tol + EPS else "off_track"


def pace_bands(target: Target) -> tuple[float, float]:
    """A count's (on track, at risk) pace limits: lower bounds for a target, mirrored upper bounds
    (2 − limit: at most 5 % and 20 % over the pro-rated value by default) for a ceiling."""
    on, risk = target.on_track_pace, target.at_risk_pace
    return (on, risk) if target.higher_is_better else (2 - on, 2 - risk)


def pace_status(target: Target, pace: float) -> Status:
    """A count whose target is not yet met (or ceiling not yet passed) by its pace: actual ÷ expected."""
    on, risk = pace_bands(target)
    if target.higher_is_better:
        return "on_track" if pace >= on - EPS else "at_risk" if pace >= risk - EPS else "off_track"
    return "on_track" if pace <= on else "at_risk" if pace <= risk else "off_track"


def _assess_share(target: Target, actual: float, expected: float | None) -> Assessment:
    t, tol = target.value, target.tolerance
    s = share_status(target, actual)
    if target.higher_is_better:
        zh = f"实际 {actual:.2%}，目标 ≥ {t:.2%}；达到目标为已达标，低于目标 {tol * 100:.0f} 个百分点以内为有风险，否则为滞后"
        en = f"actual {actual:.2%} vs target ≥ {t:.2%}; within {tol * 100:.0f} points below is at risk"
    else:
        zh = f"实际 {actual:.2%}，目标 ≤ {t:.2%}；高于目标 {tol * 100:.0f} 个百分点以内为有风险，否则为滞后"
        en = f"actual {actual:.2%} vs target ≤ {t:.2%}; within {tol * 100:.0f} points above is at risk"
    return Assessment(s, expected, None, actual, None, zh, en)


def _assess_count(target: Target, actual: float, window: Window, as_of: dt.date, expected: float | None) -> Assessment:
    share = window.elapsed_share
    projection = actual / share if share > 0 else None
    remaining_weeks = max(0, (window.period_end - as_of).days) / 7
    t = target.value
    pace = actual / expected if expected else None
    on, risk = pace_bands(target)
    if target.higher_is_better:
        gap = t - actual
        required = (gap / remaining_weeks if remaining_weeks > 0 else None) if gap > 0 else 0.0
        if actual >= t:
            s: Status = "achieved"
            zh, en = f"实际 {_fmt(actual)} 已达到目标 {_fmt(t)}", f"actual {_fmt(actual)} meets the target {_fmt(t)}"
        elif pace is None:  # nothing was due yet
            s = "on_track"
            zh, en = "期初尚无应完成量，视为进度正常", "nothing due yet: on track"
        else:
            s = pace_status(target, pace)
            zh = (
                f"应完成 {_fmt(t)} × 时间进度 {share:.1%} = {_fmt(expected or 0)}；实际 {_fmt(actual)}，"
                f"进度比 {pace:.2f}（≥{on:g} 正常，≥{risk:g} 有风险，否则滞后）"
            )
            en = (
                f"expected {_fmt(t)} × {share:.1%} elapsed = {_fmt(expected or 0)}; actual {_fmt(actual)}, "
                f"pace {pace:.2f} (≥{on:g} on track, ≥{risk:g} at risk, else off track)"
            )
    else:
        required = None
        if actual > t:
            s = "off_track"
            zh, en = f"实际 {_fmt(actual)} 已超过上限 {_fmt(t)}", f"actual {_fmt(actual)} exceeds the ceiling {_fmt(t)}"
        elif as_of >= window.period_end:
            s = "achieved"
            zh, en = f"期末实际 {_fmt(actual)} 未超过上限 {_fmt(t)}", f"period closed at {_fmt(actual)} ≤ {_fmt(t)}"
        elif pace is None:
            s = "on_track"
            zh, en = "期初尚无应完成量，视为进度正常", "nothing due yet: on track"
        else:
            s = pace_status(target, pace)  # the mirror of the higher-is-better rule
            zh = f"上限 {_fmt(t)} × 时间进度 {share:.1%} = {_fmt(expected or 0)}；实际 {_fmt(actual)}，进度比 {pace:.2f}（≤{on:g} 正常，≤{risk:g} 有风险）"
            en = f"ceiling {_fmt(t)} × {share:.1%} = {_fmt(expected or 0)}; actual {_fmt(actual)}, pace {pace:.2f} (≤{on:g} on track, ≤{risk:g} at risk)"
    return Assessment(s, expected, pace, projection, required, zh, en)


def rule_notes(lang: str) -> list[str]:
    """How a status is decided, one paragraph per kind of target, with the default thresholds above: the text
    the weekly briefing's method notes print, so that it changes with the rule."""
    on, risk, tolerance = ON_TRACK_PACE, AT_RISK_PACE, TOLERANCE
    ceiling_on, ceiling_risk = 2 - on, 2 - risk
    points = f"{tolerance * 100:g}"
    if lang == "zh":
        return [
            "计数、合计类指标：应完成量 = 目标 × 时间进度（年度、月度目标按已过天数占比，累计目标按起止日期之间的进度）；"
            f"进度比 = 实际 ÷ 应完成量，≥{on:.2f} 为进度正常，≥{risk:.2f} 为有风险，否则为滞后；实际达到目标为已达标。"
            f"上限类指标（≤）反之：超过上限为滞后，进度比 ≤{ceiling_on:.2f} 为进度正常，≤{ceiling_risk:.2f} 为有风险，"
            "期末未超过上限为已达标。",
            "比率、覆盖率类指标：由分子、分母合计得出，不平均百分比；达到目标为已达标，"
            f"低于目标{points}个百分点以内（上限类为高于上限{points}个百分点以内）为有风险，否则为滞后。"
            "以上阈值为默认值，个别指标在目录中另有规定的从其规定。",
        ]
    return [
        "Counts and sums: expected = target × elapsed share of the period (year and month targets by days elapsed, "
        f"cumulative targets between their start and deadline); pace = actual ÷ expected, ≥ {on:.2f} on track, "
        f"≥ {risk:.2f} at risk, else off track; achieved once the actual meets the target. A ceiling (≤) mirrors "
        f"this: over it is off track, pace ≤ {ceiling_on:.2f} on track, ≤ {ceiling_risk:.2f} at risk, and a period "
        "that closed under it is achieved.",
        "Rates and coverage: Σ numerator ÷ Σ denominator, never an average of percentages; achieved at the "
        f"threshold, at risk within {points} points below it (above it for a ceiling), else off track. These are "
        "defaults; a KPI's catalogue entry may override them.",
    ]
