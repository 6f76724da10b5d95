"""Placements (the jobs people found: channel, group, employer, wage, contract, place of work) and trainings
(course, hours, completion, skill evaluation, employment after), steered to the programmes' targets.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from metrics.contract.records import CERTIFICATE_LEVELS, CHANNELS, COURSE_CATEGORIES, PERSON_GROUPS
from metrics.demo.aims import _filter_values
from metrics.demo.arrays import _decimal, _dictionary, _fixed_strings, _pick, _pick_rows, _pick_rows_matrix, _rng
from metrics.demo.context import (
    _BRAND_FIRST,
    _BRAND_SECOND,
    Context,
    _dates,
    _district_column,
    _person_base,
    _popular,
    _seq_from,
    _seq_in_year,
)
from metrics.demo.ids import _person_ids
from metrics.demo.profiles import DistrictProfile
from metrics.demo.seasons import START, _minimum_wage, _sample_days
from metrics.kpi.status import expected_share

_GROUP_CHANNELS = np.array(
    [
        [0.18, 0.24, 0.26, 0.06, 0.14, 0.12],  # 高校毕业生
        [0.38, 0.18, 0.18, 0.04, 0.12, 0.10],  # 登记失业人员
        [0.40, 0.12, 0.18, 0.04, 0.18, 0.08],  # 农村劳动力
        [0.60, 0.08, 0.12, 0.02, 0.06, 0.12],  # 就业困难人员
        [0.62, 0.06, 0.12, 0.02, 0.08, 0.10],  # 残疾人
        [0.40, 0.15, 0.22, 0.03, 0.12, 0.08],  # 退役军人
        [0.62, 0.06, 0.12, 0.02, 0.06, 0.12],  # 低保人员
        [0.22, 0.22, 0.22, 0.06, 0.16, 0.12],  # 其他
    ]
)


_GROUP_LOCAL = np.array([0.45, 0.72, 0.88, 0.82, 0.85, 0.70, 0.90, 0.50])


_GROUP_PUBLIC_POST = np.array([0.02, 0.06, 0.20, 0.30, 0.25, 0.05, 0.30, 0.02])


_GROUP_WAGE = np.array([7600, 5600, 4600, 4200, 3800, 6300, 3900, 6000], dtype=float)


_GROUP_STABLE = np.array([0.82, 0.85, 0.88, 0.90, 0.90, 0.88, 0.88, 0.84])


_WAGE_LEVEL = {"海淀区": 1.12, "西城区": 1.10, "昌平区": 1.0, "通州区": 0.95}


_CHANNEL_SELF = 4


def _placements(ctx: Context, prof: DistrictProfile) -> pa.Table:
    rng = _rng(ctx.seed, "placements", prof.name)
    day, group = _placement_days(ctx, prof, rng)
    return _placement_rows(ctx, prof, rng, day, group)


def _placement_days(ctx: Context, prof: DistrictProfile, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Every placement's day index and person group, sorted by day: the district's volume and seasons."""
    cal = ctx.cal
    n = ctx.placements(prof)
    other = 1.0 - 0.30 - 0.25 - prof.rural_share - 0.09 - 0.02 - 0.045 - 0.015
    group_p = np.array([0.30, 0.25, prof.rural_share, 0.09, 0.02, 0.045, 0.015, other])
    per_group = rng.multinomial(n, group_p / group_p.sum())
    w_all, w_grad = cal.weights("activity"), cal.weights("graduate")
    day = np.concatenate([_sample_days(rng, w_grad if g == 0 else w_all, int(c)) for g, c in enumerate(per_group)])
    group = np.repeat(np.arange(8, dtype=np.int32), per_group)
    order = np.argsort(day, kind="stable")
    return day[order], group[order]


def _project_starts(ctx: Context, rng: np.random.Generator) -> np.ndarray:
    """The years the district's 36 key projects started (their ids carry them)."""
    return np.sort(rng.integers(ctx.cal.years[0] - 1, ctx.cal.years[-1] + 1, 36))


def _placement_rows(
    ctx: Context,
    prof: DistrictProfile,
    rng: np.random.Generator,
    day: np.ndarray,
    group: np.ndarray,
    *,
    employer_order: np.ndarray | None = None,
    project_starts: np.ndarray | None = None,
    seq_start: int = 0,
) -> pa.Table:
    """The placements of the given days and groups (sorted by day). A chunk of a district (the chunked build,
    metrics/demo/chunks.py) lies within one year, passes the district's employer popularity order and project
    start years, and numbers its ids from seq_start; left out, they are drawn here as the whole district's."""
    cal = ctx.cal
    n = len(day)
    year = cal.year[day]

    emp = ctx.employers[prof.name]
    if employer_order is None:
        employer_order = rng.permutation(len(emp.ids))
    employer = employer_order[_popular(rng, len(emp.ids), n)]
    channel = _pick_rows(rng, _GROUP_CHANNELS, group)
    self_employed = channel == _CHANNEL_SELF

    is_local = rng.random(n) < _GROUP_LOCAL[group]
    project_no = np.full(n, -1, dtype=np.int64)
    projects: list[str] = []
    prog = ctx.programme_of(prof.name)
    if prof.project_share > 0:
        # a programme judged on project hiring counts project placements from its start
        since = cal.index(prog.start) if prog is not None and "local_hiring" in prog.roles else 0
        starts = _project_starts(ctx, rng) if project_starts is None else project_starts
        projects = [f"{prof.project_prefix}-{s}-{k + 1:03d}" for k, s in enumerate(starts)]
        active = np.searchsorted(starts, year, side="right")
        has = (rng.random(n) < prof.project_share) & (day >= since) & (active > 0) & ~self_employed
        project_no[has] = (rng.random(int(has.sum())) * active[has]).astype(np.int64)
        # local hiring among key-project placements: exactly the profile's share, year by year
        for y in cal.years:
            rows = np.flatnonzero(has & (year == y))
            k = round(prof.local_hiring * len(rows))
            chosen = rng.permutation(rows)
            is_local[chosen[:k]] = True
            is_local[chosen[k:]] = False
    hukou_p = np.where(is_local, 0.80, 0.30)
    hukou_p = np.where(group == 0, np.where(is_local, 0.55, 0.25), hukou_p)
    hukou_p = np.where(group == 2, 0.97, hukou_p)
    is_hukou = rng.random(n) < hukou_p

    signed = rng.random(n) < np.where(self_employed, 0.08, np.where(group == 3, 0.97, 0.955))
    months = np.array([12, 24, 36, 60])[_pick(rng, [0.38, 0.17, 0.35, 0.10], n)]
    insured = rng.random(n) < np.where(signed, 0.97, 0.35)
    wage = _GROUP_WAGE[group] * _WAGE_LEVEL.get(prof.name, 1.0) * 1.04 ** (year - 2022)
    wage = wage * rng.lognormal(0.0, 0.33, n)
    wage = np.round(np.maximum(wage, _minimum_wage(day, cal.days)) / 10) * 10
    wage_null = rng.random(n) < np.where(self_employed, 0.4, 0.05)
    public_post = rng.random(n) < _GROUP_PUBLIC_POST[group]
    post_null = rng.random(n) < 0.07

    street = _pick(rng, [s.weight for s in prof.streets], n)
    lat = np.array([s.lat for s in prof.streets])[street] + rng.normal(0, 0.012, n)
    lon = np.array([s.lon for s in prof.streets])[street] + rng.normal(0, 0.012, n)
    u = rng.random(n)
    edge = 0.0
    for c_lat, c_lon, share in prof.commute:
        away = (u >= edge) & (u < edge + share)
        lat[away] = c_lat + rng.normal(0, 0.02, int(away.sum()))
        lon[away] = c_lon + rng.normal(0, 0.02, int(away.sum()))
        edge += share
    geo_null = rng.random(n) < 0.08
    too_recent = day > cal.n - 1 - 183
    stable = rng.random(n) < _GROUP_STABLE[group]

    return pa.table(
        {
            "placement_id": _fixed_strings(["JY", prof.code, (year, 4), (seq_start + _seq_in_year(year), 7)], n),
            "person_id": _person_ids(_person_base(prof) + rng.integers(0, ctx.person_pool(prof), n)),
            "district": _district_column(prof, n),
            "street": _dictionary(street, [s.name for s in prof.streets]),
            "placement_date": _dates(cal, day),
            "employer_id": _dictionary(employer, emp.ids),
            "employer_name": _dictionary(employer, emp.names),
            "channel": _dictionary(channel, CHANNELS),
            "person_group": _dictionary(group, PERSON_GROUPS),
            "is_local": pa.array(is_local),
            "is_beijing_hukou": pa.array(is_hukou),
            "project_id": _dictionary(np.maximum(project_no, 0), projects or ["-"], null=project_no < 0),
            "contract_signed": pa.array(signed),
            "contract_months": pa.array(months.astype(np.int64), mask=~signed),
            "social_insurance": pa.array(insured),
            "monthly_wage": _decimal(wage, wage_null),
            "public_service_post": pa.array(public_post, mask=post_null),
            "work_lat": pa.array(np.round(lat, 5), mask=geo_null),
            "work_lon": pa.array(np.round(lon, 5), mask=geo_null),
            "stable_6m": pa.array(stable, mask=too_recent),
        }
    )


_CATEGORY_HOURS = (
    ((40, 56, 64, 80, 120), (0.2, 0.2, 0.25, 0.25, 0.1)),  # 家政
    ((64, 80, 120, 160), (0.2, 0.35, 0.3, 0.15)),  # 养老
    ((64, 80, 120), (0.3, 0.4, 0.3)),  # 托育
    ((40, 64, 80, 120, 160, 200), (0.15, 0.2, 0.25, 0.2, 0.12, 0.08)),  # 技能培训
    ((24, 56, 80), (0.3, 0.3, 0.4)),  # 创业培训 (GYB, SYB)
    ((16, 24, 40, 64, 80), (0.15, 0.25, 0.3, 0.2, 0.1)),  # 定制培训
    ((160, 320, 480), (0.5, 0.3, 0.2)),  # 以工代训 (months on the job)
    ((8, 16, 24, 40, 64), (0.2, 0.25, 0.25, 0.2, 0.1)),  # 线上培训
    ((16, 24, 40), (0.4, 0.4, 0.2)),  # 其他
)


_CATEGORY_MIX = np.array([0.12, 0.10, 0.06, 0.34, 0.10, 0.07, 0.06, 0.11, 0.04])


_CATEGORY_MIX_CARE = np.array([0.17, 0.17, 0.12, 0.30, 0.07, 0.05, 0.04, 0.06, 0.02])  # Tongzhou's 家政/养老/托育 push


_CATEGORY_EVAL = np.array([0.65, 0.65, 0.60, 0.60, 0.02, 0.45, 0.30, 0.08, 0.20])


_CATEGORY_EMPLOYED = np.array([0.70, 0.72, 0.68, 0.60, 0.45, 0.80, 0.92, 0.40, 0.50])


_CERT_LEVELS_P = (0.0, 0.28, 0.30, 0.26, 0.13, 0.025, 0.005)  # over CERTIFICATE_LEVELS; 无 for not evaluated


def _training_providers(seed: int, prof: DistrictProfile) -> list[str]:
    rng = _rng(seed, "providers", prof.name)
    brands = [a + b for a in _BRAND_FIRST for b in _BRAND_SECOND]
    chosen = [brands[i] for i in rng.choice(len(brands), size=12, replace=False)]
    kinds = ("职业技能培训学校", "家政服务有限公司", "养老服务职业技能培训学校", "教育科技有限公司")
    return [f"北京市{prof.name}职业技能公共实训基地", f"北京市{prof.name}就业训练中心"] + [
        f"北京{b}{kinds[i % len(kinds)]}" for i, b in enumerate(chosen)
    ]


def _training_counts(ctx: Context, prof: DistrictProfile) -> list[tuple[int, int, int, bool]]:
    """(lo, hi, count, programme_mix) spans of start dates; a skills-training target sets the programme window."""
    cal = ctx.cal
    prog = ctx.programme_of(prof.name)
    target = prog.target("skills_training") if prog is not None else None
    kpi = prog.roles.get("skills_training") if prog is not None else None
    spans: list[tuple[int, int, int, bool]] = []
    window_start = cal.n
    if prog is not None and target is not None and kpi is not None:
        window_start = cal.index(max(target.start or prog.start, START))
    base = prof.trainings_per_year * ctx.scale
    for y in cal.years:
        lo, hi = cal.year_span(y)
        cut = min(max(window_start, lo), hi)
        if cut > lo:
            spans.append((lo, cut, round(base * cal.growth[y] * (cut - lo) / 365), False))
        if hi > cut:
            spans.append((cut, hi, 0, True))
    if prog is not None and target is not None and kpi is not None:
        cats = _filter_values(kpi.measure.filters, "course_category") or set(COURSE_CATEGORIES)  # type: ignore[union-attr]
        share_in = sum(p for c, p in zip(COURSE_CATEGORIES, _CATEGORY_MIX_CARE, strict=True) if c in cats)
        wanted = prof.aims.get("skills_training", 1.0) * target.value * expected_share(target, cal.as_of, prog.start)
        total = wanted * ctx.scale / max(share_in, 1e-6)
        weights = [(hi - lo) * cal.growth[int(cal.year[lo])] for lo, hi, _, mix in spans if mix]
        counts = np.round(total * np.array(weights) / max(sum(weights), 1e-9)).astype(int) if weights else []
        it = iter(counts)
        spans = [(lo, hi, int(next(it)) if mix else c, mix) for lo, hi, c, mix in spans]
    return spans


def _trainings(
    ctx: Context,
    prof: DistrictProfile,
    *,
    part: str | None = None,
    person_pool: int | None = None,
    seq_start: Mapping[int, int] | None = None,
) -> pa.Table:
    """A district's trainings. The chunked build (metrics/demo/chunks.py) draws them as slices of the scale:
    `part` names the slice's random stream, person_pool is the whole district's and ids go on from seq_start."""
    cal = ctx.cal
    rng = _rng(ctx.seed, "trainings", prof.name) if part is None else _rng(ctx.seed, "trainings", prof.name, part)
    weights = cal.weights("training")
    spans = _training_counts(ctx, prof)
    day = np.concatenate([_sample_days(rng, weights, c, lo, hi) for lo, hi, c, _ in spans] or [np.zeros(0, np.int32)])
    care = np.concatenate([np.full(c, mix) for _, _, c, mix in spans] or [np.zeros(0, bool)])
    n = len(day)
    year = cal.year[day]
    mix = np.where(care[:, None], _CATEGORY_MIX_CARE[None, :], _CATEGORY_MIX[None, :])
    mix = np.where(
        (year == 2022)[:, None], mix * np.array([1, 1, 1, 1, 1, 1, 1, 2.2, 1])[None, :], mix
    )  # online in 2022
    category = _pick_rows_matrix(rng, mix)

    hours_opts = np.zeros((9, 6), dtype=np.int64)
    hours_p = np.zeros((9, 6))
    for k, (opts, probs) in enumerate(_CATEGORY_HOURS):
        hours_opts[k, : len(opts)] = opts
        hours_p[k, : len(probs)] = probs
    hours = hours_opts[category, _pick_rows(rng, hours_p, category)]
    per_day = np.where(category == 7, 2.0, np.where(category == 6, 8.0, 6.0))
    duration = np.ceil(hours / per_day * 7 / 5).astype(np.int64)
    end = day + duration
    completed = (end <= cal.n - 1) & (rng.random(n) < np.where(category == 7, 0.82, 0.9))

    p_eval = _CATEGORY_EVAL[category]
    prog = ctx.programme_of(prof.name)
    target = prog.target("skill_evaluations") if prog is not None else None
    if prog is not None and target is not None:
        in_window = day >= cal.index(max(target.start or prog.start, START))
        wanted = prof.aims.get("skill_evaluations", 1.0) * target.value * expected_share(target, cal.as_of, prog.start)
        expected = float((p_eval * completed * in_window).sum())
        if expected > 0:
            p_eval = np.where(in_window, np.minimum(p_eval * wanted * ctx.scale / expected, 0.97), p_eval)
    evaluated = completed & (rng.random(n) < p_eval)
    level = np.where(evaluated, _pick(rng, _CERT_LEVELS_P, n), 0)
    employed_known = completed & (end <= cal.n - 1 - 90)
    employed = rng.random(n) < _CATEGORY_EMPLOYED[category]
    providers = _training_providers(ctx.seed, prof)
    provider = _pick(rng, [3, 2] + [1] * (len(providers) - 2), n)
    order = np.argsort(day, kind="stable")
    cols = {
        "day": day,
        "category": category,
        "hours": hours,
        "end": end,
        "completed": completed,
        "evaluated": evaluated,
        "level": level,
        "employed_known": employed_known,
        "employed": employed,
        "provider": provider,
    }
    c = {k: v[order] for k, v in cols.items()}
    year = cal.year[c["day"]]
    return pa.table(
        {
            "training_id": _fixed_strings(["PX", prof.code, (year, 4), (_seq_from(cal, year, seq_start), 7)], n),
            "person_id": _person_ids(_person_base(prof) + rng.integers(0, person_pool or ctx.person_pool(prof), n)),
            "district": _district_column(prof, n),
            "provider": _dictionary(c["provider"], providers),
            "course_category": _dictionary(c["category"], COURSE_CATEGORIES),
            "start_date": _dates(cal, c["day"]),
            "end_date": _dates(cal, c["end"], ~c["completed"]),
            "class_hours": pa.array(c["hours"].astype(np.int64)),
            "completed": pa.array(c["completed"]),
            "certificate_level": _dictionary(c["level"], CERTIFICATE_LEVELS, null=~c["completed"]),
            "skill_evaluated": pa.array(c["evaluated"]),
            "employed_within_3m": pa.array(c["employed"], mask=~c["employed_known"]),
        }
    )
