"""Subsidy applications for every measure in the catalogues: who applied, the quantity and the amount by the
measure's standard (tiers, shares, caps, loans), decisions and payments, a few deliberately off-standard.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from metrics.catalogue import Subsidy
from metrics.contract.records import APPLICANT_TYPES
from metrics.demo.aims import Programme
from metrics.demo.arrays import _decimal, _dictionary, _fixed_strings, _pick, _rng
from metrics.demo.context import Context, _dates, _district_column, _person_base, _popular, _seq_from
from metrics.demo.ids import _person_ids, credit_codes
from metrics.demo.profiles import DistrictProfile
from metrics.demo.seasons import START, Calendar, _minimum_wage, _sample_days

_RATE_PER_YEAR = {"个人": 150.0, "用人单位": 60.0, "人力资源机构": 25.0, "培训机构": 20.0, "街道": 4.0, "社区": 25.0}


_STAND_IN_UNIT = {  # yuan per basis unit where the document defers to the city standard
    "per_person": 1000.0,
    "per_person_month": 1000.0,
    "per_person_year": 6000.0,
    "per_person_day": 50.0,
    "per_person_class_hour": 20.0,
    "per_year": 50000.0,
    "one_off": 20000.0,
}


def _applicant_mix(recipient: str) -> list[tuple[str, float]]:
    if "个人" in recipient and any(w in recipient for w in ("企业", "团队", "单位")):
        return [("个人", 0.7), ("用人单位", 0.3)]
    if "个人" in recipient or "创业者" in recipient:
        return [("个人", 1.0)]
    if "人力资源" in recipient:
        return [("人力资源机构", 1.0)]
    if "培训" in recipient:
        return [("培训机构", 1.0)]
    if "街道" in recipient or "街镇" in recipient:
        return [("街道", 1.0)]
    if "社区" in recipient:
        return [("社区", 1.0)]
    return [("用人单位", 1.0)]


def _subsidy_amounts(
    rng: np.random.Generator, sub: Subsidy, org: np.ndarray, day: np.ndarray, cal: Calendar
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(quantity or NaN, year_index or 0, standard amount or NaN when open, requested amount) per application."""
    n = len(org)
    qty = np.full(n, np.nan)
    year_index = np.zeros(n, dtype=np.int64)
    persons = np.where(org, np.minimum(rng.geometric(0.18, n), 80), 1).astype(float)
    stand_in = sub.amount is None and not sub.tiers and sub.share is None
    unit = np.full(n, sub.amount if sub.amount is not None else _STAND_IN_UNIT.get(sub.basis, 1000.0))
    if sub.amount_is_minimum and sub.amount is not None:
        unit = unit * np.array([1.0, 1.0, 1.0, 1.2, 1.6])[rng.integers(0, 5, n)]
    tiers = list(sub.tiers)
    lump = sub.basis in ("one_off", "per_year")
    if sub.tier_by == "year_index" and tiers:
        tiers.sort(key=lambda t: t.year_index or 0)
        k = _pick(rng, [0.5, 0.3, 0.2][: len(tiers)], n)
        unit = np.array([t.amount or 0.0 for t in tiers])[k]
        year_index = np.array([t.year_index or i + 1 for i, t in enumerate(tiers)], dtype=np.int64)[k]
    elif sub.tier_by == "level" and tiers:
        tiers.sort(key=lambda t: t.amount or 0.0)
        k = _pick(rng, [0.5, 0.3, 0.2, 0.1, 0.05][: len(tiers)], n)
        unit = np.array([t.amount or 0.0 for t in tiers])[k]
    elif sub.tier_by == "quantity" and tiers:
        tiers.sort(key=lambda t: t.min_quantity or 0.0)
        k = _pick(rng, [0.55, 0.3, 0.15, 0.1][: len(tiers)], n)
        lo = np.array([t.min_quantity or 1.0 for t in tiers])[k]
        hi = np.array([t.max_quantity or (t.min_quantity or 1.0) * 1.8 for t in tiers])[k]
        qty = np.floor(lo + rng.random(n) * (hi - lo))
        unit = np.array([t.amount or 0.0 for t in tiers])[k]
        persons = qty
    if sub.basis == "loan":
        lo_amt = sub.amount or np.where(org, 500_000.0, 100_000.0)
        hi_amt = sub.cap_amount or np.where(org, 3_000_000.0, 500_000.0)
        requested = np.round((lo_amt + rng.random(n) ** 1.6 * (hi_amt - lo_amt)) / 10_000) * 10_000
        return qty, year_index, np.full(n, np.nan), requested
    if sub.basis in ("share_of_fee", "share_of_wage"):
        share = sub.share if sub.share is not None else 0.5
        if sub.basis == "share_of_wage":
            months = rng.integers(1, 13, n)
            qty = persons * months
            standard = share * _minimum_wage(day, cal.days) * qty
        else:
            fee = np.where(org, rng.lognormal(math.log(60_000), 0.6, n), rng.lognormal(math.log(3_000), 0.5, n))
            standard = share * np.round(fee / 10) * 10
        return qty, year_index, np.round(standard, 2), np.round(standard, 2)
    if stand_in and sub.cap_amount is not None:
        # "up to N yuan": the claim is what was spent, the standard is the claim capped
        requested = np.round(sub.cap_amount * (0.3 + rng.random(n)) / 100) * 100
        return qty, year_index, np.minimum(requested, sub.cap_amount), requested
    if sub.basis == "per_person_month":
        months = rng.integers(1, min(sub.max_months or 12, 12) + 1, n)
        qty = persons * months
    elif sub.basis == "per_person_day":
        qty = persons * rng.integers(5, (sub.max_days or 30) + 1, n)
    elif sub.basis == "per_person_class_hour":
        qty = rng.integers(15, 46, n) * np.array([40, 64, 80, 120])[rng.integers(0, 4, n)].astype(float)
    elif sub.basis in ("per_person", "per_person_year"):
        qty = persons
    standard = unit if lump else unit * qty
    if sub.cap_amount is not None:
        standard = np.minimum(standard, sub.cap_amount)
    return qty, year_index, standard, standard.copy()


def _applications(ctx: Context, prof: DistrictProfile, progs: list[Programme]) -> pa.Table | None:
    parts = list(_application_parts(ctx, prof, progs))
    return _application_table(ctx, prof, parts) if parts else None


def _application_parts(ctx: Context, prof: DistrictProfile, progs: list[Programme]) -> Iterator[dict[str, Any]]:
    """The district's applications, one part per subsidy measure (each from its own random stream)."""
    cal = ctx.cal
    weights = cal.weights("office")
    for prog in progs:
        # a programme that starts within the span takes a month to receive its first applications
        lo = cal.index(prog.start + dt.timedelta(days=30)) if prog.start > START else 0
        valid_to = prog.catalogue.programme.valid_to
        hi = cal.n if valid_to is None or valid_to >= cal.as_of else cal.index(valid_to) + 1
        if hi <= lo:
            continue
        years = sum(cal.growth[int(cal.year[d])] for d in range(lo, hi, 30)) * 30 / 365
        for sub in prog.catalogue.subsidies:
            rng = _rng(ctx.seed, "applications", prog.id, sub.id)
            mix = _applicant_mix(sub.recipient)
            kind_p = np.array([p for _, p in mix])
            rate = sum(_RATE_PER_YEAR[k] * p for k, p in mix)
            if sub.basis in ("one_off", "per_year") and mix[0][0] != "个人":
                rate = {"街道": 3.0, "社区": 15.0}.get(mix[0][0], 6.0)
            if sub.basis == "loan":
                rate = 90.0
            n = max(round(rate * years * ctx.scale), 1)
            day = _sample_days(rng, weights, n, lo, hi)
            kind = np.array([APPLICANT_TYPES.index(k) for k, _ in mix])[_pick(rng, kind_p, n)]
            org = kind != APPLICANT_TYPES.index("个人")
            qty, year_index, standard, requested = _subsidy_amounts(rng, sub, org, day, cal)
            over = rng.random(n) < 0.05
            requested = np.where(
                over & ~np.isnan(standard), np.round(requested * (1.1 + 0.4 * rng.random(n)), -1), requested
            )
            approved = np.where(np.isnan(standard), requested * np.where(rng.random(n) < 0.1, 0.8, 1.0), standard)
            # a few percent deliberately differ from the standard, so the review list has content
            odd = rng.random(n) < 0.03
            factor = np.array([0.5, 0.8, 1.2, 1.5, 2.0])[rng.integers(0, 5, n)]
            approved = np.where(odd, np.round(approved * factor, -1), approved)
            decision = day + 5 + rng.gamma(2.0, 8.0, n).astype(np.int64)
            paid = decision + 7 + rng.gamma(2.0, 10.0, n).astype(np.int64)
            rejected = rng.random(n) < np.where(org, 0.09, 0.06)
            last = cal.n - 1
            status = np.where(decision > last, 0, np.where(rejected, 2, np.where(paid > last, 1, 3)))
            yield (
                {
                    "day": day,
                    "kind": kind,
                    "qty": qty,
                    "year_index": year_index,
                    "requested": requested,
                    "approved": approved,
                    "status": status,
                    "decision": decision,
                    "paid": paid,
                    "measure": sub.id,
                    "applicant": _applicant_ids(ctx, prof, rng, kind),
                }
            )


def _application_table(
    ctx: Context, prof: DistrictProfile, parts: list[dict[str, Any]], seq_start: Mapping[int, int] | None = None
) -> pa.Table:
    """Parts of _application_parts as one table sorted by day; ids numbered per year from seq_start (the
    chunked build's earlier pieces, metrics/demo/chunks.py), else from 0."""
    cal = ctx.cal
    for i, p in enumerate(parts):
        p["code"] = np.full(len(p["day"]), i)
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0] if k not in ("measure", "applicant")}
    measures = [p["measure"] for p in parts]
    order = np.argsort(cat["day"], kind="stable")
    c = {k: v[order] for k, v in cat.items()}
    applicant = pa.concat_arrays([p["applicant"] for p in parts]).take(pa.array(order))
    n = len(order)
    year = cal.year[c["day"]]
    status = c["status"]
    no_decision = status == 0
    no_amount = (status == 0) | (status == 2)
    return pa.table(
        {
            "application_id": _fixed_strings(["SQ", prof.code, (year, 4), (_seq_from(cal, year, seq_start), 7)], n),
            "district": _district_column(prof, n),
            "measure_code": _dictionary(c["code"], measures),
            "applicant_type": _dictionary(c["kind"], APPLICANT_TYPES),
            "applicant_id": applicant,
            "submitted_date": _dates(cal, c["day"]),
            "quantity": pa.array(c["qty"], mask=np.isnan(c["qty"])),
            "year_index": pa.array(c["year_index"], mask=c["year_index"] == 0),
            "amount_requested": _decimal(c["requested"]),
            "amount_approved": _decimal(np.nan_to_num(c["approved"]), no_amount),
            "status": _dictionary(status, ("已受理", "已审核", "不予通过", "已拨付")),
            "decision_date": _dates(cal, c["decision"], no_decision),
            "paid_date": _dates(cal, c["paid"], status != 3),
        }
    )


def _applicant_ids(ctx: Context, prof: DistrictProfile, rng: np.random.Generator, kind: np.ndarray) -> pa.Array:
    """Who applied: a person id, an employer's credit code, a street code or a community id."""
    n = len(kind)
    emp = ctx.employers[prof.name]
    providers = credit_codes(_rng(ctx.seed, "provider-codes", prof.name), 52, prof.code, 14)
    pools: dict[str, np.ndarray | None] = {
        "街道": ctx.street_codes.get(prof.name),
        "社区": ctx.community_ids.get(prof.name),
        "培训机构": providers,
    }
    arrays: list[pa.Array] = []
    index = np.empty(n, dtype=np.int64)
    offset = 0
    for k, name in enumerate(APPLICANT_TYPES):
        rows = np.flatnonzero(kind == k)
        m = len(rows)
        if m == 0:
            continue
        pool = pools.get(name)
        if name == "个人":
            values = _person_ids(_person_base(prof) + rng.integers(0, ctx.person_pool(prof), m))
        elif pool is not None and len(pool):
            values = pa.array(pool[rng.integers(0, len(pool), m)], type=pa.string())
        else:
            values = pa.array(emp.ids[_popular(rng, len(emp.ids), m)], type=pa.string())
        arrays.append(values)
        index[rows] = offset + np.arange(m)
        offset += m
    return pa.concat_arrays(arrays).take(pa.array(index)) if arrays else pa.array([], type=pa.string())
