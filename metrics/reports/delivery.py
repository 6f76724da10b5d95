"""政策兑现 policy delivery: what each subsidy application should be worth under the catalogue standard,
and how a programme's subsidies are being received, decided and paid.

`expected_amount` reads one application against a `Subsidy`; `delivery_by_measure` aggregates applications
per subsidy in DuckDB; `review_list` lists approved amounts that break the standard and `manual_review`
counts the applications whose standard cannot be computed (share of a fee, loans, level tiers, no figure).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from metrics.catalogue.models import Catalogue, Subsidy, Tier
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

TOLERANCE_YUAN = 0.5  # an approved amount within this of the standard is consistent

PENDING, REVIEWED, REJECTED, PAID = "已受理", "已审核", "不予通过", "已拨付"
UNKNOWN_CODE_ZH = "未知的政策项目代码"
UNKNOWN_CODE_EN = "unknown measure code"
MANUAL_ZH = "需人工核定"
MANUAL_EN = "needs manual review"

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


# --------------------------------------------------------------------------- one application


@dataclass(frozen=True)
class Expectation:
    """What the catalogue standard gives for one application, and the rule that says so.

    amount: the standard in yuan, or None when it needs manual review. With `is_minimum` the amount is a
    floor (不低于): any approved amount at or above it is consistent. `ceiling` is the subsidy's cap
    (cap_amount); it bounds the approved amount even when `amount` is None (最高不超过 …).
    """

    amount: float | None
    rule_zh: str
    rule_en: str
    is_minimum: bool = False
    ceiling: float | None = None

    @property
    def manual(self) -> bool:
        """No standard amount: a person decides (only the cap, if any, can still be checked)."""
        return self.amount is None

    def deviation(self, approved: float) -> float | None:
        """approved − standard when inconsistent, 0.0 when consistent, None when it needs manual review.

        Exact standard: approved − amount. Floor (不低于): approved − floor below it, approved − cap above
        the cap, else 0. No amount: approved − cap above the cap, else None.
        """
        if self.amount is not None and not self.is_minimum:
            diff = approved - self.amount
            return diff if abs(diff) > TOLERANCE_YUAN else 0.0
        if self.ceiling is not None and approved > self.ceiling + TOLERANCE_YUAN:
            return approved - self.ceiling
        if self.amount is None:
            return None
        return approved - self.amount if approved < self.amount - TOLERANCE_YUAN else 0.0


def _yuan(x: float) -> str:
    """3000 → '3,000'; 1234.5 → '1,234.50'."""
    return f"{round(x):,}" if abs(x - round(x)) < 0.005 else f"{x:,.2f}"


def _num(x: float) -> str:
    """6.0 → '6'; 2.5 → '2.5'."""
    return f"{round(x):,}" if abs(x - round(x)) < 1e-9 else f"{x:,.4f}".rstrip("0").rstrip(".")


# basis → (unit zh, unit en, one person's unit zh, en, several persons' unit zh, en)
_PER_PERSON: dict[str, tuple[str, str, str, str, str, str]] = {
    "per_person": ("每人", "per person", "人", "persons", "人", "persons"),
    "per_person_month": ("每人每月", "per person per month", "个月", "months", "人月", "person-months"),
    "per_person_day": ("每人每天", "per person per day", "天", "days", "人天", "person-days"),
    "per_person_class_hour": (
        "每人每课时",
        "per person per class hour",
        "课时",
        "class hours",
        "人课时",
        "person-class-hours",
    ),
    "per_person_year": ("每人每年", "per person per year", "年", "years", "人年", "person-years"),
}
_LUMP: dict[str, tuple[str, str]] = {"one_off": ("一次性", "one-off"), "per_year": ("每年", "per year")}


def _duration_limit(s: Subsidy) -> tuple[float, str, str] | None:
    """The per-person limit on the basis unit: (limit, zh, en), e.g. (36, '最长36个月', 'at most 36 months')."""
    if s.basis == "per_person_month":
        months = s.max_months if s.max_months is not None else (s.max_years * 12 if s.max_years else None)
        return (months, f"最长{months}个月", f"at most {months} months") if months else None
    if s.basis == "per_person_day" and s.max_days:
        return s.max_days, f"最长{s.max_days}天", f"at most {s.max_days} days"
    if s.basis == "per_person_year" and s.max_years:
        return s.max_years, f"最长{s.max_years}年", f"at most {s.max_years} years"
    return None


def _band_zh(t: Tier) -> str:
    lo, hi = t.min_quantity, t.max_quantity
    if lo is not None and hi is not None:
        return f"{_num(lo)}人以上不足{_num(hi)}人"
    if lo is not None:
        return f"{_num(lo)}人及以上"
    return f"不足{_num(hi)}人" if hi is not None else "不限人数"


def _band_en(t: Tier) -> str:
    lo, hi = t.min_quantity, t.max_quantity
    if lo is not None and hi is not None:
        return f"{_num(lo)} to under {_num(hi)}"
    if lo is not None:
        return f"{_num(lo)} or more"
    return f"under {_num(hi)}" if hi is not None else "any number"


def _manual(s: Subsidy, zh: str, en: str) -> Expectation:
    cap_zh = f"（最高{_yuan(s.cap_amount)}元）" if s.cap_amount is not None else ""
    cap_en = f" (at most {_yuan(s.cap_amount)} yuan)" if s.cap_amount is not None else ""
    return Expectation(None, f"{MANUAL_ZH}：{zh}{cap_zh}", f"{MANUAL_EN}: {en}{cap_en}", ceiling=s.cap_amount)


def _missing(x: float | int | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _nan(x: float) -> bool:
    return isinstance(x, float) and math.isnan(x)


def expected_amount(
    subsidy: Subsidy,
    quantity: float | None,
    year_index: int | None,
    level: str | None = None,
    *,
    single_person: bool = True,
) -> Expectation:
    """The catalogue standard for one application of `subsidy`.

    quantity is in the basis unit (persons, months, days, class hours, years; the band count for tiers by
    quantity). With `single_person` (the default) a duration is one person's and is capped at the
    subsidy's max_months / max_days / max_years; with single_person=False (an organisation's claim that
    sums several persons' months) the per-person limit cannot be checked from the total and is not applied.
    cap_amount is applied last. share_of_fee / share_of_wage / loan / no figure → amount None.
    """
    s = subsidy
    if s.basis in ("share_of_fee", "share_of_wage"):
        if s.share is not None:
            pct = _num(s.share * 100)
            base_zh, base_en = ("费用", "the fee") if s.basis == "share_of_fee" else ("参考工资", "the reference wage")
            return _manual(
                s, f"按{base_zh}的{pct}%补贴，申请记录不含{base_zh}", f"{pct}% of {base_en}, not in the record"
            )
        return _manual(s, "按费用或工资比例补贴，文件未规定比例", "a share of a fee or wage the document does not fix")
    if s.basis == "loan":
        return _manual(s, "贷款额度，非补贴标准", "a loan amount, not a grant standard")

    # 1. the amount per basis unit, and the tier that set it
    tier_zh = tier_en = ""
    is_minimum = s.amount_is_minimum
    if s.tier_by == "year_index":
        if year_index is None or _nan(year_index):
            return _manual(s, "按补贴年度分档，申请未填补贴年度", "tiered by year of entitlement; year not given")
        yi = int(year_index)
        match = [t for t in s.tiers if t.year_index == yi]
        if not match or match[0].amount is None:
            years = "、".join(str(t.year_index) for t in s.tiers if t.year_index is not None)
            return Expectation(
                None,
                f"{MANUAL_ZH}：第{yi}年超出标准档次（第{years}年），不在补贴期限内",
                f"{MANUAL_EN}: year {yi} is beyond the tiers (years {years.replace('、', ', ')}), outside the entitlement",
                ceiling=s.cap_amount,
            )
        unit = match[0].amount
        tier_zh, tier_en = f"第{yi}年标准：", f"year {yi} standard: "
    elif s.tier_by == "quantity":
        if quantity is None or _nan(quantity):
            return _manual(s, "按数量分档，申请未填数量", "tiered by quantity; quantity not given")
        q = float(quantity)
        band = [
            t
            for t in s.tiers
            if (t.min_quantity is None or q >= t.min_quantity) and (t.max_quantity is None or q < t.max_quantity)
        ]
        if not band or band[0].amount is None:
            lows = [t.min_quantity for t in s.tiers if t.min_quantity is not None]
            low_zh = f"（最低档{_num(min(lows))}人）" if lows else ""
            low_en = f" (lowest tier from {_num(min(lows))})" if lows else ""
            return Expectation(
                None,
                f"{MANUAL_ZH}：数量{_num(q)}不在任何档次内{low_zh}，按标准不予补贴",
                f"{MANUAL_EN}: quantity {_num(q)} is in no tier{low_en}; the standard gives nothing",
                ceiling=s.cap_amount,
            )
        unit = band[0].amount
        tier_zh, tier_en = f"数量{_band_zh(band[0])}档：", f"tier {_band_en(band[0])}: "
    elif s.tier_by == "level":
        choices_zh = "、".join(f"{t.level}{_yuan(t.amount)}元" for t in s.tiers if t.amount is not None)
        choices_en = ", ".join(f"{t.level} {_yuan(t.amount)} yuan" for t in s.tiers if t.amount is not None)
        if level is None:
            return _manual(
                s, f"按等级核定（{choices_zh}），申请未载明等级", f"set by level ({choices_en}); level not given"
            )
        match = [t for t in s.tiers if t.level == level]
        if not match or match[0].amount is None:
            return _manual(
                s, f"等级“{level}”不在标准档次内（{choices_zh}）", f"level {level!r} is not a tier ({choices_en})"
            )
        unit = match[0].amount
        tier_zh, tier_en = f"{level}档：", f"level {level}: "
    else:
        if s.amount is None:
            return _manual(s, "文件未规定标准", "the document sets no amount")
        unit = s.amount

    floor_zh, floor_en = ("不低于", "at least ") if is_minimum else ("", "")

    # 2. times the quantity for per-person bases; a flat amount for one_off / per_year
    notes_zh: list[str] = []
    notes_en: list[str] = []
    if s.basis in _LUMP:
        total = unit
        lump_zh, lump_en = _LUMP[s.basis]
        text_zh = f"{tier_zh}{lump_zh}{floor_zh}{_yuan(unit)}元"
        text_en = f"{tier_en}{floor_en}{_yuan(unit)} yuan {lump_en}"
    else:
        per_zh, per_en, one_zh, one_en, many_zh, many_en = _PER_PERSON[s.basis]
        # a count of persons for per_person, for tiers by quantity and for year tiers (one year each)
        counts_persons = s.basis == "per_person" or s.tier_by in ("quantity", "year_index")
        if counts_persons:
            one_zh, one_en, many_zh, many_en = "人", "persons", "人", "persons"
        unit_zh, unit_en = (one_zh, one_en) if single_person or counts_persons else (many_zh, many_en)
        if quantity is None or _nan(quantity):
            if not counts_persons:
                return _manual(
                    s,
                    f"{per_zh}{_yuan(unit)}元，申请未填{one_zh}数",
                    f"{_yuan(unit)} yuan {per_en}; {one_en} not given",
                )
            q = 1.0
            notes_zh.append("数量未填，按1人计")
            notes_en.append("quantity not given, counted as 1")
        else:
            q = float(quantity)
        limit = None if counts_persons else _duration_limit(s)
        if limit is not None:
            cap_q, lim_zh, lim_en = limit
            if not single_person:
                notes_zh.append(f"单位申请按{many_zh}合计，每人{lim_zh}无法逐人核对")
                notes_en.append(f"an organisation's total of {many_en}; the per-person limit ({lim_en}) is not checked")
            elif q > cap_q:
                notes_zh.append(f"申报{_num(q)}{one_zh}，{lim_zh}，按{_num(cap_q)}{one_zh}计")
                notes_en.append(f"{_num(q)} {one_en} claimed, {lim_en}, counted as {_num(cap_q)}")
                q = float(cap_q)
            else:
                notes_zh.append(lim_zh)
                notes_en.append(lim_en)
        total = unit * q
        text_zh = f"{tier_zh}{per_zh}{floor_zh}{_yuan(unit)}元 × {_num(q)}{unit_zh} = {floor_zh}{_yuan(total)}元"
        text_en = (
            f"{tier_en}{floor_en}{_yuan(unit)} yuan {per_en} × {_num(q)} {unit_en} = {floor_en}{_yuan(total)} yuan"
        )

    # 3. the cap, last
    if s.cap_amount is not None:
        if total > s.cap_amount:
            notes_zh.append(f"最高{_yuan(s.cap_amount)}元，按{_yuan(s.cap_amount)}元计")
            notes_en.append(f"capped at {_yuan(s.cap_amount)} yuan")
            total = s.cap_amount
        else:
            notes_zh.append(f"最高{_yuan(s.cap_amount)}元")
            notes_en.append(f"at most {_yuan(s.cap_amount)} yuan")
    if notes_zh:
        text_zh += f"（{'；'.join(notes_zh)}）"
        text_en += f" ({'; '.join(notes_en)})"
    return Expectation(round(total, 2), text_zh, text_en, is_minimum=is_minimum, ceiling=s.cap_amount)


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
                None if _missing(qty) else float(qty),
                None if _missing(yi) else int(yi),
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
        cap_txt = np.array([f"{_yuan(c)}" if not math.isnan(c) else "" for c in ceiling], dtype=object)
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
