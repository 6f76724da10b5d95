"""What departments report: monthly values of every reported KPI, steered to the status each is aimed at,
and the employment-friendliness survey waves where a programme asks for one.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from metrics.catalogue.models import ReportedMeasure
from metrics.contract.records import SURVEY_DIMENSIONS
from metrics.demo.aims import aimed_statuses
from metrics.demo.arrays import _fixed_strings, _rng, _texts
from metrics.demo.context import Context, _dates, _district_column, _seq_in_year
from metrics.demo.profiles import _REPORTED_MAGNITUDE, _STATUS_PACE, DistrictProfile
from metrics.demo.seasons import START, _month_ends, _sample_days
from metrics.kpi.status import expected_share


def _progress_reports(ctx: Context) -> pa.Table:
    """Monthly reports of every reported KPI, steered to REPORTED_AIMS; 'no_data' KPIs get none."""
    cal = ctx.cal
    aims = aimed_statuses({p.id: p.catalogue for p in ctx.programmes}, cal.as_of)
    kpi_ids: list[str] = []
    districts: list[str] = []
    period_end: list[dt.date] = []
    values: list[np.ndarray] = []
    units: list[str] = []
    for prog in ctx.programmes:
        for kpi in prog.catalogue.kpis:
            if not isinstance(kpi.measure, ReportedMeasure):
                continue
            status = aims.get(kpi.id)
            if status == "no_data":
                continue
            rng = _rng(ctx.seed, "progress", kpi.id)
            t = kpi.target
            since = max(t.start, START) if t is not None and t.start else prog.start
            ends = _month_ends(cal, since)
            if not ends:
                continue
            fraction = kpi.unit == "%" or (t is not None and t.value <= 1.0)
            if t is not None and status is not None:
                share = expected_share(t, cal.as_of, prog.start)
                if status == "achieved":
                    final = t.value * (1.0 if fraction else rng.uniform(1.02, 1.1))
                else:
                    final = t.value * share * _STATUS_PACE[status]
            else:
                lo, hi = _REPORTED_MAGNITUDE.get(kpi.unit, (10, 100))
                final = rng.uniform(lo, hi)
            steps = rng.gamma(2.0, 1.0, len(ends)) * np.linspace(0.7, 1.3, len(ends))
            period = t.period if t is not None else "cumulative"
            if kpi.measure.value_is == "per_period" or period == "month":
                path = final * steps / steps.sum() * len(ends) / 12 if period != "month" else np.full(len(ends), final)
            elif period in ("rate", "coverage"):
                path = np.clip(final + rng.normal(0, 0.01, len(ends)) * np.linspace(3, 0, len(ends)), 0, 1)
            elif period == "year":  # year-to-date values that restart each January
                year_of = np.array([e.year for e in ends])
                path = np.zeros(len(ends))
                for y in np.unique(year_of):
                    rows = year_of == y
                    goal = final if y == cal.as_of.year else (t.value if t is not None else final) * 1.02
                    path[rows] = goal * np.cumsum(steps[rows]) / steps[rows].sum()
            else:
                path = final * np.cumsum(steps) / steps.sum()
            path = np.round(path, 3) if fraction else np.round(path)
            keep = rng.random(len(ends)) > 0.04
            keep[-1] = True
            for e, v, k in zip(ends, path, keep, strict=True):
                if k:
                    kpi_ids.append(kpi.id)
                    districts.append(prog.profile.name)
                    period_end.append(e)
                    values.append(v)
                    units.append(kpi.lead_unit)
    n = len(kpi_ids)
    notes = np.where(np.array([e.month % 3 == 0 for e in period_end], dtype=bool), "季度核实数", "")
    return pa.table(
        {
            "kpi_id": _texts(kpi_ids),
            "district": _texts(districts),
            "period_end": pa.array(period_end, type=pa.date32()),
            "value": pa.array(np.array(values, dtype=float)),
            "unit_name": _texts(units),
            "note": pa.array(notes if n else np.zeros(0, dtype=str), type=pa.string(), mask=notes == "" if n else None),
        }
    )


_SURVEY_MEANS = np.array([3.7, 3.8, 3.9, 4.1, 3.9, 3.5, 3.3])


def _survey_responses(ctx: Context, prof: DistrictProfile) -> pa.Table | None:
    """就业友好社会评价 waves each June and November while the district's programme runs."""
    prog = ctx.programme_of(prof.name)
    if not prof.survey or prog is None:
        return None
    cal, rng = ctx.cal, _rng(ctx.seed, "survey", prof.name)
    flat = np.ones(cal.n)
    days, waves = [], []
    wave = 0
    for y in range(prog.start.year, cal.as_of.year + 1):
        for m, d in ((6, 8), (11, 9)):
            lo = cal.index(dt.date(y, m, d))
            if lo >= cal.n:
                continue
            hi = min(lo + 21, cal.n)
            count = round(1300 * (hi - lo) / 21)
            days.append(_sample_days(rng, flat, count, lo, hi))
            waves.append(np.full(count, wave))
            wave += 1
    if not days:
        return None
    day, wave_no = np.concatenate(days), np.concatenate(waves)
    n = len(day)
    year, month = cal.year[day], cal.month[day]
    cols: dict[str, pa.Array] = {
        "response_id": _fixed_strings(
            ["WJ", prof.code, (year, 4), (month, 2), (_seq_in_year(year * 100 + month), 5)], n
        ),
        "district": _district_column(prof, n),
        "response_date": _dates(cal, day),
    }
    for k, (name, _) in enumerate(SURVEY_DIMENSIONS):
        score = np.clip(np.round(rng.normal(_SURVEY_MEANS[k] + 0.08 * wave_no, 0.85)), 1, 5).astype(np.int64)
        cols[name] = pa.array(score, mask=rng.random(n) < 0.02)
    return pa.table(cols)
