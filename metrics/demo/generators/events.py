"""Events (job fairs, special fairs, livestreams, guidance, contests, start-up and other events), vacancies
collected from employers, and labour dispute cases with closure steered to each district's rates.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from metrics.contract.records import CLOSURE_METHODS, EVENT_TYPES
from metrics.demo.arrays import _dictionary, _fixed_strings, _force_total, _pick, _rng
from metrics.demo.context import Context, _dates, _district_column, _popular, _seq_in_year, _yearly_total
from metrics.demo.profiles import DistrictProfile
from metrics.demo.seasons import _month_spans, _sample_days

_FAIR_THEMES = (
    "就业援助月",
    "就业援助月",
    "春风行动",
    "春风行动",
    "民营企业招聘月",
    "高校毕业生就业服务",
    "高校毕业生就业服务",
    "高校毕业生就业服务",
    "金秋招聘月",
    "金秋招聘月",
    "岁末送岗",
    "岁末送岗",
)


_SPECIAL_THEMES = (
    "高校毕业生",
    "退役军人",
    "残疾人",
    "就业困难人员",
    "家政养老行业",
    "数字经济人才",
    "商贸服务业",
    "建筑业",
    "青年人才",
    "社会领域",
)


_GUIDANCE = (
    "职业指导进校园",
    "求职能力提升训练营",
    "职业生涯规划讲座",
    "青年就业启航计划职业指导",
    "就业政策宣讲进社区",
)


_CONTEST_TRADES = (
    "养老护理员",
    "育婴员",
    "家政服务员",
    "电工",
    "网络安全管理员",
    "人工智能训练师",
    "中式烹调师",
    "快递员",
)


_STARTUP_EVENTS = ("创业沙龙", "创业项目路演", "创业指导进社区", "“创业北京”政策宣讲", "创新创业大赛")


_OTHER_EVENTS = ("劳动权益保护宣传", "就业政策宣讲会", "根治欠薪宣传活动", "人力资源服务供需对接会")


_OTHER_TYPES_PER_YEAR = {3: 55.0, 4: 6.0, 5: 18.0, 6: 16.0}  # per 200 recruitment events, 2023 level


def _events(ctx: Context, prof: DistrictProfile) -> pa.Table:
    cal, rng = ctx.cal, _rng(ctx.seed, "events", prof.name)
    weights = cal.weights("event")
    prog = ctx.programme_of(prof.name)
    recruit = prog.target("recruitment_events") if prog is not None else None
    live = prog.target("livestreams") if prog is not None else None
    factor = prof.recruitment_events_per_year / 200
    days: list[np.ndarray] = []
    types: list[np.ndarray] = []
    for y in cal.years:
        lo, hi = cal.year_span(y)
        if hi <= lo:
            continue
        live_days = []
        for m, mlo, mhi in _month_spans(cal, y):
            count = int(rng.choice([1, 2, 3, 4], p=[0.1, 0.4, 0.35, 0.15]) if y > 2022 else rng.choice([0, 1, 2]))
            if (y, m) == (cal.as_of.year, cal.as_of.month):
                full = (dt.date(y + m // 12, m % 12 + 1, 1) - dt.date(y, m, 1)).days
                count = math.ceil(live.value) + 1 if live is not None else round(count * (mhi - mlo) / full)
            workdays = np.arange(mlo, mhi)[cal.weekday[mlo:mhi] < 5]
            if len(workdays):
                live_days.append(np.sort(rng.choice(workdays, size=min(count, len(workdays)), replace=False)))
        live_y = np.concatenate(live_days) if live_days else np.zeros(0, dtype=np.int64)
        elapsed = cal.year_elapsed(y)
        if recruit is not None and prog is not None and y >= prog.start.year:
            pace = prof.aims.get("recruitment_events", 1.0) if y == cal.as_of.year else 1.04
            total = round(recruit.value * pace * elapsed)
        else:
            total = round(prof.recruitment_events_per_year * cal.growth[y] * elapsed)
        fairs_and_special = max(total - len(live_y), 0)
        fairs = int(rng.binomial(fairs_and_special, 0.62))
        plan = {0: fairs, 1: fairs_and_special - fairs}
        for t, per_year in _OTHER_TYPES_PER_YEAR.items():
            plan[t] = round(per_year * factor * cal.growth[y] * elapsed)
        for t, count in plan.items():
            days.append(_sample_days(rng, weights, count, lo, hi))
            types.append(np.full(count, t, dtype=np.int32))
        days.append(live_y.astype(np.int32))
        types.append(np.full(len(live_y), 2, dtype=np.int32))
    day = np.concatenate(days)
    kind = np.concatenate(types)
    order = np.lexsort((kind, day))
    day, kind = day[order], kind[order]
    n = len(day)
    year = cal.year[day]

    street_names = np.array([s.name for s in prof.streets])
    street = street_names[_pick(rng, [s.weight for s in prof.streets], n)]
    at_street = rng.random(n) < np.array([0.5, 0.35, 0.0, 0.7, 0.0, 0.5, 0.6])[kind]
    place = np.where(at_street, street, "")
    where = np.where(at_street, street, prof.name)
    ys = year.astype(str)
    theme = np.array(_FAIR_THEMES)[cal.month[day] - 1]
    specials = list(_SPECIAL_THEMES) + (["回天地区社会领域人才"] if prof.name == "昌平区" else [])
    special = np.array(specials)[rng.integers(0, len(specials), n)]
    live_no = np.cumsum(kind == 2).astype(str)

    def cat(*parts: Any) -> np.ndarray:
        out = np.broadcast_to(np.asarray(parts[0]).astype(str), (n,))
        for p in parts[1:]:
            out = np.char.add(out, np.asarray(p).astype(str))
        return out

    titles = {
        0: cat(ys, "年", prof.name, "“", theme, "”", place, "招聘会"),
        1: cat(where, special, "专场招聘会"),
        2: cat("“", prof.short, "就业直播间”第", live_no, "期直播带岗"),
        3: cat(np.array(_GUIDANCE)[rng.integers(0, len(_GUIDANCE), n)], "（", where, "）"),
        4: cat(ys, "年", prof.name, "职业技能竞赛（", np.array(_CONTEST_TRADES)[rng.integers(0, 8, n)], "）"),
        5: cat(np.array(_STARTUP_EVENTS)[rng.integers(0, len(_STARTUP_EVENTS), n)], "（", where, "）"),
        6: cat(np.array(_OTHER_EVENTS)[rng.integers(0, len(_OTHER_EVENTS), n)], "（", where, "）"),
    }
    title = np.select([kind == t for t in titles], list(titles.values()), "")
    street_office = np.char.add(street, np.where(np.char.endswith(street, "街道"), "办事处", "人民政府"))
    district_units = np.array([f"{prof.name}人力资源和社会保障局", f"{prof.name}公共就业服务中心"])
    organiser = np.where(at_street, street_office, district_units[rng.integers(0, 2, n)])
    organiser = np.where((kind == 1) & (special == "退役军人"), f"{prof.name}退役军人事务局", organiser)
    organiser = np.where((kind == 1) & (special == "残疾人"), f"{prof.name}残疾人联合会", organiser)
    organiser = np.where((kind == 4) & (rng.random(n) < 0.4), f"{prof.name}总工会", organiser)

    fair, special_fair, stream = kind == 0, kind == 1, kind == 2
    employers = np.select(
        [fair, special_fair, stream, kind == 4],
        [
            np.clip(rng.lognormal(math.log(70), 0.5, n), 20, 250),
            np.clip(rng.lognormal(math.log(25), 0.5, n), 5, 80),
            rng.integers(5, 26, n),
            rng.integers(5, 41, n),
        ],
        0,
    ).astype(np.int64)
    vacancies = np.round(employers * np.where(stream, rng.uniform(10, 40, n), rng.uniform(8, 25, n))).astype(np.int64)
    attendees = np.select(
        [fair, special_fair, stream],
        [
            vacancies * rng.uniform(0.8, 2.0, n),
            vacancies * rng.uniform(0.6, 1.5, n),
            np.clip(rng.lognormal(math.log(15000), 0.8, n), 2000, 120000),
        ],
        rng.integers(20, 300, n),
    ).astype(np.int64)
    intents = np.where(stream, rng.integers(30, 400, n), attendees * rng.uniform(0.12, 0.3, n)).astype(np.int64)
    recruiting = fair | special_fair | stream
    return pa.table(
        {
            "event_id": _fixed_strings(["HD", prof.code, (year, 4), (_seq_in_year(year), 4)], n),
            "district": _district_column(prof, n),
            "event_type": _dictionary(kind, EVENT_TYPES),
            "event_date": _dates(cal, day),
            "title": pa.array(title, type=pa.string()),
            "organiser": pa.array(organiser, type=pa.string()),
            "employers": pa.array(employers, mask=~(recruiting | (kind == 4))),
            "vacancies_offered": pa.array(vacancies, mask=~recruiting),
            "attendees": pa.array(attendees, mask=rng.random(n) < 0.03),
            "intents": pa.array(intents, mask=~recruiting),
        }
    )


def _vacancies(ctx: Context, prof: DistrictProfile) -> pa.Table:
    cal, rng = ctx.cal, _rng(ctx.seed, "vacancies", prof.name)
    prog = ctx.programme_of(prof.name)
    weights = cal.weights("office")
    days, positions = [], []
    for y in cal.years:
        lo, hi = cal.year_span(y)
        total = round(_yearly_total(ctx, prog, "vacancy_positions", prof.vacancy_positions_per_year, y, 1.05))
        rows = max(round(total / 5.0), 1) if hi > lo else 0
        pos = np.minimum(rng.geometric(0.2, rows), 200).astype(np.int64)
        _force_total(rng, pos, np.ones(rows, dtype=bool), total, 1, 500)
        days.append(_sample_days(rng, weights, rows, lo, hi))
        positions.append(pos)
    day = np.concatenate(days)
    n = len(day)
    year = cal.year[day]
    emp = ctx.employers[prof.name]
    employer = _popular(rng, len(emp.ids), n)
    return pa.table(
        {
            "vacancy_id": _fixed_strings(["KG", prof.code, (year, 4), (_seq_in_year(year), 7)], n),
            "district": _district_column(prof, n),
            "employer_id": _dictionary(employer, emp.ids),
            "collected_date": _dates(cal, day),
            "industry": _dictionary(emp.industry[employer], [name for name, _ in prof.industries]),
            "positions": pa.array(np.concatenate(positions)),
        }
    )


_CLOSURE_DAYS = ((5.0, 2.0, 7.0), (25.0, 3.0, 9.0), (3.0, 2.0, 6.0), (10.0, 2.0, 10.0))  # offset, gamma k, θ


def _disputes(ctx: Context, prof: DistrictProfile) -> pa.Table:
    cal, rng = ctx.cal, _rng(ctx.seed, "disputes", prof.name)
    weights = cal.weights("office")
    day = np.concatenate(
        [
            _sample_days(
                rng, weights, round(prof.disputes_per_year * cal.growth[y] * cal.year_elapsed(y)), *cal.year_span(y)
            )
            for y in cal.years
        ]
    )
    n = len(day)
    last = cal.n - 1
    method = _pick(rng, [prof.mediation_share, 0.26, 0.10, max(0.64 - prof.mediation_share, 0.02)], n)
    params = np.array(_CLOSURE_DAYS)[method]
    closed = day + (params[:, 0] + rng.gamma(params[:, 1], params[:, 2])).astype(np.int64)
    closed = np.where(closed > last, -1, closed)

    # Steer this year's closure rate (docs/kpi-semantics.md) and mediation share to the profile's values.
    y0 = cal.year_span(cal.as_of.year)[0]
    in_window = day >= y0
    open_at_start = (day < y0) & ((closed < 0) | (closed >= y0))
    denominator = int((in_window | open_at_start).sum())
    numerator = int((closed >= y0).sum())
    need = round(prof.dispute_closure * denominator) - numerator
    if need > 0:
        pool = np.flatnonzero(in_window & (closed < 0))
        pick = rng.choice(pool, size=min(need, len(pool)), replace=False)
        closed[pick] = day[pick] + (rng.random(len(pick)) * (last - day[pick] + 1)).astype(np.int64)
    elif need < 0:
        pool = np.flatnonzero(in_window & (closed >= y0))
        pool = pool[np.argsort(-closed[pool], kind="stable")][: max(-need * 3, 1)]
        closed[rng.choice(pool, size=min(-need, len(pool)), replace=False)] = -1
    closed_now = np.flatnonzero(closed >= y0)
    mediated = int((method[closed_now] == 0).sum())
    want = round(prof.mediation_share * len(closed_now))
    if want > mediated:
        flip = rng.choice(closed_now[method[closed_now] != 0], size=want - mediated, replace=False)
        method[flip] = 0
    elif want < mediated:
        flip = rng.choice(closed_now[method[closed_now] == 0], size=mediated - want, replace=False)
        method[flip] = _pick(rng, [0.6, 0.3, 0.1], len(flip)) + 1

    year = cal.year[day]
    seq = _seq_in_year(year) + 1
    case_id = pc.binary_join_element_wise(
        f"京{prof.short[0]}劳人仲字〔", pa.array(year.astype(str)), "〕第", pa.array(seq.astype(str)), "号", ""
    )
    return pa.table(
        {
            "case_id": case_id,
            "district": _district_column(prof, n),
            "accepted_date": _dates(cal, day),
            "closed_date": _dates(cal, closed, closed < 0),
            "closure_method": _dictionary(method, CLOSURE_METHODS, null=closed < 0),
        }
    )
