"""Enterprises: monthly labour contract returns (employees and contracts signed, steered to the signing rate)
and start-ups (registration, first insurance, jobs created, guaranteed loans, incubators).
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from metrics.contract.records import ENTITY_TYPES
from metrics.demo.arrays import _decimal, _dictionary, _force_total, _pick, _rng
from metrics.demo.context import Context, _dates, _district_column, _yearly_total
from metrics.demo.ids import _unique_credit_codes
from metrics.demo.profiles import DistrictProfile
from metrics.demo.seasons import START, _sample_days


def _contract_returns(ctx: Context, prof: DistrictProfile) -> pa.Table:
    cal, rng = ctx.cal, _rng(ctx.seed, "contract_returns", prof.name)
    emp = ctx.employers[prof.name]
    n_ent = min(prof.enterprises, len(emp.ids))
    ent_pool = rng.choice(len(emp.ids), size=n_ent, replace=False)
    last_month = (cal.as_of.year - START.year) * 12 + cal.as_of.month - 1  # returns cover completed months
    months = max(last_month, 1)
    join = np.where(rng.random(n_ent) < 0.85, 0, rng.integers(0, months, n_ent))
    leave = np.where(
        rng.random(n_ent) < 0.06, join + 1 + (rng.random(n_ent) * (months - join - 1)).astype(np.int64), months
    )
    counts = leave - join
    ent = np.repeat(np.arange(n_ent), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    month = join[ent] + np.arange(len(ent)) - starts
    n = len(ent)
    walk = rng.normal(0, 0.03, n)
    cum = np.cumsum(walk)
    walk = cum - np.repeat(cum[np.cumsum(counts) - counts] - walk[np.cumsum(counts) - counts], counts)
    base = np.clip(rng.lognormal(math.log(45), 1.0, n_ent), 3, 5000)
    year_of = START.year + month // 12
    employees = np.maximum(np.round(base[ent] * np.exp(walk) * 1.03 ** (year_of - START.year)), 1).astype(np.int64)
    rate = prof.signing_rate - 0.004 * (cal.as_of.year - year_of)
    unsigned_share = np.clip((1 - rate) * rng.gamma(0.8, 1 / 0.8, n_ent)[ent], 0, 0.6)
    unsigned = rng.binomial(employees, unsigned_share)
    # each enterprise's latest return this year carries the rate the profile aims for (docs/kpi-semantics.md)
    this_year = year_of == cal.as_of.year
    latest = np.zeros(n, dtype=bool)
    rows = np.flatnonzero(this_year)
    if len(rows):
        last_row = {int(e): int(r) for e, r in zip(ent[rows], rows, strict=True)}
        latest[list(last_row.values())] = True
        total = round((1 - prof.signing_rate) * employees[latest].sum())
        _force_total(rng, unsigned, latest, total, 0, employees)
    report = np.datetime64(f"{START.year}-01", "M") + month
    return pa.table(
        {
            "enterprise_id": _dictionary(ent_pool[ent], emp.ids),
            "district": _district_column(prof, n),
            "street": _dictionary(emp.street[ent_pool[ent]], [s.name for s in prof.streets]),
            "report_month": pa.array(report.astype("datetime64[D]")),
            "employees": pa.array(employees),
            "contracts_signed": pa.array(employees - unsigned),
        }
    )


_ENTITY_P_INSURED = (0.62, 0.03, 0.20, 0.04, 0.05, 0.06)


_ENTITY_P_UNINSURED = (0.30, 0.01, 0.60, 0.02, 0.03, 0.04)


_ENTITY_PREFIX = np.array([91, 91, 92, 52, 91, 91])


def _startups(ctx: Context, prof: DistrictProfile) -> pa.Table:
    cal, rng = ctx.cal, _rng(ctx.seed, "startups", prof.name)
    prog = ctx.programme_of(prof.name)
    weights = cal.weights("office")
    insured_days, registered_plain = [], []
    for y in cal.years:
        lo, hi = cal.year_span(y)
        insured = round(_yearly_total(ctx, prog, "insured_startups", prof.insured_startups_per_year, y, 1.03))
        insured_days.append(_sample_days(rng, weights, insured, lo, hi))
        plain = round(0.3 * prof.insured_startups_per_year * cal.growth[y] * cal.year_elapsed(y))
        registered_plain.append(_sample_days(rng, weights, plain, lo, hi))
    first_insured = np.concatenate(insured_days).astype(np.int64)
    lag = (10 + rng.gamma(2.0, 18.0, len(first_insured))).astype(np.int64)
    early = first_insured - lag < 0  # insured in early 2022: registered between START and then
    lag[early] = (rng.random(int(early.sum())) * first_insured[early]).astype(np.int64)
    registered = np.concatenate([first_insured - lag, np.concatenate(registered_plain)])
    n_insured = len(first_insured)
    n = len(registered)
    insured_date = np.concatenate([first_insured, np.full(n - n_insured, -1)])
    is_insured = insured_date >= 0
    etype = np.where(is_insured, _pick(rng, _ENTITY_P_INSURED, n), _pick(rng, _ENTITY_P_UNINSURED, n))
    individual = etype == 2
    jobs = np.where(individual, rng.integers(1, 4, n), np.minimum(rng.geometric(0.25, n), 60)).astype(np.int64)
    local_jobs = rng.binomial(jobs, 0.55)
    incubated = ~individual & (rng.random(n) < 0.18)
    incubator = rng.integers(0, len(prof.incubators), n)

    # guaranteed loans: number and total per year, placed on startups registered 20–400 days before
    order = np.argsort(registered, kind="stable")
    reg_sorted = registered[order]
    loan_amount = np.zeros(n, dtype=np.int64)  # in 万元
    loan_day = np.full(n, -1, dtype=np.int64)
    for y in cal.years:
        lo, hi = cal.year_span(y)
        total = round(_yearly_total(ctx, prog, "loan_amount", prof.loans_per_year, y, 1.02) / 10_000)
        count = round(total / 55)
        days = _sample_days(rng, weights, count, lo, hi).astype(np.int64)
        a = np.searchsorted(reg_sorted, days - 400)
        b = np.searchsorted(reg_sorted, days - 20, side="right")
        ok = b > a
        drawn = order[a[ok] + (rng.random(int(ok.sum())) * (b[ok] - a[ok])).astype(np.int64)]
        drawn, first = np.unique(drawn, return_index=True)
        fresh = loan_day[drawn] < 0  # one loan per startup
        pick, days = drawn[fresh], days[ok][first][fresh]
        if len(pick) == 0:
            continue
        amount = np.where(
            individual[pick], rng.integers(10, 51, len(pick)), np.minimum(30 + rng.gamma(1.2, 30.0, len(pick)), 300)
        ).astype(np.int64)
        mask = np.ones(len(pick), dtype=bool)
        _force_total(rng, amount, mask, total, 10, 300)
        loan_amount[pick] = amount
        loan_day[pick] = days
    has_loan = loan_day >= 0

    codes = _unique_credit_codes(rng, _ENTITY_PREFIX[etype], prof.code, n)
    out_order = np.argsort(registered, kind="stable")
    o = out_order
    return pa.table(
        {
            "entity_id": pa.array(codes[o], type=pa.string()),
            "district": _district_column(prof, n),
            "registered_date": _dates(cal, registered[o]),
            "first_insured_date": _dates(cal, insured_date[o], ~is_insured[o]),
            "entity_type": _dictionary(etype[o], ENTITY_TYPES),
            "jobs_created": pa.array(jobs[o]),
            "local_jobs_created": pa.array(local_jobs[o], mask=rng.random(n) < 0.08),
            "guaranteed_loan_amount": _decimal(loan_amount[o] * 10_000.0, ~has_loan[o]),
            "loan_date": _dates(cal, loan_day[o], ~has_loan[o]),
            "incubator": _dictionary(incubator[o], prof.incubators, null=~incubated[o]),
        }
    )
