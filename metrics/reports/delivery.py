"""政策兑现 policy delivery: what each subsidy application should be worth under the catalogue standard,
and how a programme's subsidies are being received, decided and paid.

`expected_amount` (metrics.reports.standard, re-exported here) reads one application against a `Subsidy`;
`delivery_by_measure` aggregates applications per subsidy in DuckDB; `review_list` lists approved amounts
that break the standard and `manual_review` counts the applications whose standard cannot be computed
(share of a fee, loans, level tiers, no figure).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from metrics.catalogue.models import Catalogue
from metrics.reports.standard import (
    MANUAL_EN,
    MANUAL_ZH,
    TOLERANCE_YUAN,
    Expectation,
    expected_amount,
    missing,
    yuan,
)
from metrics.storage.store import Store

__all__ = [
    "DELIVERY_COLUMNS",
    "MANUAL_COLUMNS",
    "REVIEW_COLUMNS",
    "TOLERANCE_YUAN",
    "Expectation",
    "delivery_by_measure",
    "expected_amount",
    "manual_review",
    "review_list",
]

PENDING, REVIEWED, REJECTED, PAID = "已受理", "已审核", "不予通过", "已拨付"
UNKNOWN_CODE_ZH = "未知的政策项目代码"
UNKNOWN_CODE_EN = "unknown measure code"

DELIVERY_COLUMNS = (
    "measure_code",
    "name_zh",
    "received",
    "approved",
    "rejected",
    "paid",
    "pending",
    "quantity",
    "amount_requested",
    "amount_approved",
    "amount_paid",
    "median_days_to_decision",
    "median_days_to_payment",
)
REVIEW_COLUMNS = (
    "application_id",
    "measure_code",
    "name_zh",
    "quantity",
    "year_index",
    "amount_requested",
    "amount_approved",
    "expected",
    "difference",
    "rule_zh",
    "rule_en",
)
MANUAL_COLUMNS = ("measure_code", "name_zh", "rule_zh", "rule_en", "applications", "amount_approved")


# --------------------------------------------------------------------------- per subsidy, in DuckDB

_DELIVERY_SQL = """
WITH catalogue AS (
    SELECT i AS ord, $codes[i] AS measure_code, $names[i] AS name_zh
    FROM range(1, len($codes::VARCHAR[]) + 1) AS t(i)
),
apps AS (
    SELECT
        measure_code,
        count(*) AS received,
        count(*) FILTER (WHERE status IN ($reviewed, $paid)) AS approved,
        count(*) FILTER (WHERE status = $rejected) AS rejected,
        count(*) FILTER (WHERE status = $paid) AS paid,
        count(*) FILTER (WHERE status = $pending) AS pending,
        sum(quantity) AS quantity,
        sum(amount_requested) AS amount_requested,
        sum(amount_approved) FILTER (WHERE status IN ($reviewed, $paid)) AS amount_approved,
        sum(amount_approved) FILTER (WHERE status = $paid) AS amount_paid,
        median(datediff('day', submitted_date, decision_date))
            FILTER (WHERE status <> $pending AND decision_date IS NOT NULL) AS median_days_to_decision,
        median(datediff('day', submitted_date, paid_date))
            FILTER (WHERE status = $paid AND paid_date IS NOT NULL) AS median_days_to_payment
    FROM applications
    WHERE district = $district
      AND submitted_date BETWEEN $start AND $end
      AND list_contains($codes::VARCHAR[], measure_code)
    GROUP BY measure_code
)
SELECT
    c.measure_code,
    c.name_zh,
    coalesce(a.received, 0)::BIGINT AS received,
    coalesce(a.approved, 0)::BIGINT AS approved,
    coalesce(a.rejected, 0)::BIGINT AS rejected,
    coalesce(a.paid, 0)::BIGINT AS paid,
    coalesce(a.pending, 0)::BIGINT AS pending,
    (CASE WHEN a.received IS NULL THEN 0 ELSE a.quantity END)::DOUBLE AS quantity,
    coalesce(a.amount_requested, 0)::DOUBLE AS amount_requested,
    coalesce(a.amount_approved, 0)::DOUBLE AS amount_approved,
    coalesce(a.amount_paid, 0)::DOUBLE AS amount_paid,
    a.median_days_to_decision::DOUBLE AS median_days_to_decision,
    a.median_days_to_payment::DOUBLE AS median_days_to_payment
FROM catalogue AS c
LEFT JOIN apps AS a USING (measure_code)
ORDER BY c.ord
"""


def _statuses() -> dict[str, str]:
    return {"pending": PENDING, "reviewed": REVIEWED, "rejected": REJECTED, "paid": PAID}


def delivery_by_measure(store: Store, programme: Catalogue, start: dt.date, end: dt.date) -> pd.DataFrame:
    """One row per subsidy of the programme, in catalogue order, over applications submitted in [start, end]
    in the programme's district; subsidies without applications have zero counts and sums (medians NaN);
    quantity is NaN where applications exist but none gives a quantity.

    approved = 已审核 + 已拨付; amount_approved sums those; amount_paid sums the approved amount of 已拨付;
    median days to decision run over decided applications, to payment over paid ones.
    """
    params: dict[str, Any] = {
        "codes": [s.id for s in programme.subsidies],
        "names": [s.name_zh for s in programme.subsidies],
        "district": programme.programme.district,
        "start": start,
        "end": end,
        **_statuses(),
    }
    df = store.query_df(_DELIVERY_SQL, params)
    return df[list(DELIVERY_COLUMNS)].reset_index(drop=True)


# --------------------------------------------------------------------------- per application

_APPROVED_SQL = """
SELECT
    application_id, measure_code, applicant_type, status,
    quantity::DOUBLE AS quantity,
    year_index::DOUBLE AS year_index,
    amount_requested::DOUBLE AS amount_requested,
    amount_approved::DOUBLE AS amount_approved
FROM applications
WHERE district = $district
  AND submitted_date BETWEEN $start AND $end
  AND status IN ($reviewed, $paid)
ORDER BY application_id
"""


def _strip(texts: np.ndarray, prefix: str) -> np.ndarray:
    return np.array([t.removeprefix(prefix) for t in texts], dtype=object)


def _assess(store: Store, programme: Catalogue, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Every approved or paid application in the window with its standard and a verdict:
    'ok', 'differs', 'manual' (no standard to compare with) or 'unknown' (code not in the programme)."""
    params: dict[str, Any] = {
        "district": programme.programme.district,
        "start": start,
        "end": end,
        "reviewed": REVIEWED,
        "paid": PAID,
    }
    df = store.query_df(_APPROVED_SQL, params)
    subsidies = {s.id: s for s in programme.subsidies}
    n = len(df)
    expected = np.full(n, np.nan)
    difference = np.full(n, np.nan)
    rule_zh = np.full(n, "", dtype=object)
    rule_en = np.full(n, "", dtype=object)
    verdict = np.full(n, "ok", dtype=object)
    if n:
        single = (df["applicant_type"] == "个人").to_numpy()
        df["_single"] = single
        # one expectation per distinct (code, quantity, year, single person): few per subsidy
        groups = df.groupby(["measure_code", "quantity", "year_index", "_single"], dropna=False, sort=False)
        gid = groups.ngroup().to_numpy()
        firsts = groups.head(1)
        firsts = firsts.assign(_gid=gid[firsts.index]).sort_values("_gid")
        g_amount, g_floor, g_ceiling, g_zh, g_en, g_known = [], [], [], [], [], []
        for code, qty, yi, one in firsts[["measure_code", "quantity", "year_index", "_single"]].itertuples(index=False):
            sub = subsidies.get(code)
            if sub is None:
                g_amount.append(np.nan)
                g_floor.append(False)
                g_ceiling.append(np.nan)
                g_zh.append(UNKNOWN_CODE_ZH)
                g_en.append(UNKNOWN_CODE_EN)
                g_known.append(False)
                continue
            exp = expected_amount(
                sub,
                None if missing(qty) else float(qty),
                None if missing(yi) else int(yi),
                single_person=bool(one),
            )
            g_amount.append(np.nan if exp.amount is None else exp.amount)
            g_floor.append(exp.is_minimum)
            g_ceiling.append(np.nan if exp.ceiling is None else exp.ceiling)
            g_zh.append(exp.rule_zh)
            g_en.append(exp.rule_en)
            g_known.append(True)
        amount = np.asarray(g_amount, dtype=float)[gid]
        floor = np.asarray(g_floor, dtype=bool)[gid]
        ceiling = np.asarray(g_ceiling, dtype=float)[gid]
        known = np.asarray(g_known, dtype=bool)[gid]
        rule_zh = np.asarray(g_zh, dtype=object)[gid]
        rule_en = np.asarray(g_en, dtype=object)[gid]
        approved = df["amount_approved"].to_numpy(dtype=float)

        has_amount = ~np.isnan(approved)
        # the same tests as Expectation.deviation, on whole columns
        exact = known & has_amount & ~floor & ~np.isnan(amount)
        bounded = known & has_amount & ~exact  # a floor, or only a cap
        off_exact = exact & (np.abs(approved - amount) > TOLERANCE_YUAN)
        over_cap = bounded & ~np.isnan(ceiling) & (approved > ceiling + TOLERANCE_YUAN)
        below_floor = bounded & floor & ~np.isnan(amount) & (approved < amount - TOLERANCE_YUAN)
        differs = over_cap | below_floor | off_exact
        manual = known & ~differs & (np.isnan(amount) | ~has_amount)

        expected = np.where(over_cap, ceiling, amount)
        difference = np.where(differs, approved - expected, np.nan)
        expected = np.where(known, expected, np.nan)
        verdict = np.where(~known, "unknown", np.where(differs, "differs", np.where(manual, "manual", "ok")))
        verdict = verdict.astype(object)
        # say which bound was broken where the standard's own rule does not
        cap_txt = np.array([f"{yuan(c)}" if not math.isnan(c) else "" for c in ceiling], dtype=object)
        rule_zh = np.where(over_cap, "核准金额超过上限" + cap_txt + "元；" + rule_zh, rule_zh)
        rule_en = np.where(over_cap, "approved amount above the cap of " + cap_txt + " yuan; " + rule_en, rule_en)
        rule_zh = np.where(below_floor, "核准金额低于最低标准；" + rule_zh, rule_zh)
        rule_en = np.where(below_floor, "approved amount below the minimum standard; " + rule_en, rule_en)
        no_amount = known & ~has_amount
        rule_zh = np.where(no_amount, f"{MANUAL_ZH}：核准金额未填；标准：" + _strip(rule_zh, MANUAL_ZH + "："), rule_zh)
        rule_en = np.where(
            no_amount, f"{MANUAL_EN}: no approved amount; standard: " + _strip(rule_en, MANUAL_EN + ": "), rule_en
        )

    names = {s.id: s.name_zh for s in programme.subsidies}
    out = pd.DataFrame(
        {
            "application_id": df["application_id"],
            "measure_code": df["measure_code"],
            "name_zh": df["measure_code"].map(names),
            "status": df["status"],
            "quantity": df["quantity"].astype(float),
            "year_index": df["year_index"].astype("Int64"),
            "amount_requested": df["amount_requested"].astype(float),
            "amount_approved": df["amount_approved"].astype(float),
            "expected": expected,
            "difference": difference,
            "rule_zh": pd.Series(rule_zh, index=df.index, dtype=object).astype(str),
            "rule_en": pd.Series(rule_en, index=df.index, dtype=object).astype(str),
            "verdict": pd.Series(verdict, index=df.index, dtype=object).astype(str),
        }
    )
    return out


def review_list(store: Store, programme: Catalogue, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Approved or paid applications submitted in [start, end] whose approved amount breaks the standard.

    Listed: amount_approved more than 0.5 yuan from an exact standard, below a minimum standard (不低于),
    above the subsidy's cap, and applications whose measure_code is not a subsidy of the programme (rule
    未知的政策项目代码, expected and difference empty, listed first). difference = approved − expected
    (for a broken cap, expected is the cap). Sorted by |difference| descending. Applications whose
    standard cannot be computed are not listed here: `manual_review` counts them.
    """
    df = _assess(store, programme, start, end)
    df = df[df["verdict"].isin(["differs", "unknown"])].copy()
    df["_abs"] = df["difference"].abs()
    df = df.sort_values(["_abs", "application_id"], ascending=[False, True], na_position="first", kind="stable")
    return df[list(REVIEW_COLUMNS)].reset_index(drop=True)


def manual_review(store: Store, programme: Catalogue, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Approved or paid applications in [start, end] whose standard needs a person (需人工核定), counted per
    subsidy and reason: shares of a fee or wage, loans, level tiers without a level, quantities outside
    every tier, years beyond the tiers, no figure in the document, no approved amount.

    Columns: measure_code, name_zh, rule_zh, rule_en, applications, amount_approved (sum); sorted by
    applications descending. Together with `review_list` and the consistent ones this covers every
    approved or paid application of the window.
    """
    df = _assess(store, programme, start, end)
    df = df[df["verdict"] == "manual"]
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in MANUAL_COLUMNS}).astype(
            {"applications": "int64", "amount_approved": "float64"}
        )
    out = (
        df.groupby(["measure_code", "name_zh", "rule_zh", "rule_en"], dropna=False, sort=False)
        .agg(applications=("application_id", "size"), amount_approved=("amount_approved", "sum"))
        .reset_index()
        .sort_values(["applications", "measure_code"], ascending=[False, True], kind="stable")
    )
    return out[list(MANUAL_COLUMNS)].reset_index(drop=True)
