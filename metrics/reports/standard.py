"""The catalogue standard for one subsidy application: what `expected_amount` gives under a `Subsidy`
(per person, per month, tiers, floors, caps, durations), with the rule in Chinese and English, and whether
an approved amount is consistent with it (`Expectation.deviation`). Pure: no database.

metrics.reports.delivery applies it to a programme's applications.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from metrics.catalogue.models import Subsidy, Tier

__all__ = ["MANUAL_EN", "MANUAL_ZH", "TOLERANCE_YUAN", "Expectation", "expected_amount", "missing", "yuan"]

TOLERANCE_YUAN = 0.5  # an approved amount within this of the standard is consistent

MANUAL_ZH = "需人工核定"
MANUAL_EN = "needs manual review"


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


def yuan(x: float) -> str:
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
    cap_zh = f"（最高{yuan(s.cap_amount)}元）" if s.cap_amount is not None else ""
    cap_en = f" (at most {yuan(s.cap_amount)} yuan)" if s.cap_amount is not None else ""
    return Expectation(None, f"{MANUAL_ZH}：{zh}{cap_zh}", f"{MANUAL_EN}: {en}{cap_en}", ceiling=s.cap_amount)


def missing(x: float | int | None) -> bool:
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
        choices_zh = "、".join(f"{t.level}{yuan(t.amount)}元" for t in s.tiers if t.amount is not None)
        choices_en = ", ".join(f"{t.level} {yuan(t.amount)} yuan" for t in s.tiers if t.amount is not None)
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
        text_zh = f"{tier_zh}{lump_zh}{floor_zh}{yuan(unit)}元"
        text_en = f"{tier_en}{floor_en}{yuan(unit)} yuan {lump_en}"
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
                    f"{per_zh}{yuan(unit)}元，申请未填{one_zh}数",
                    f"{yuan(unit)} yuan {per_en}; {one_en} not given",
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
        text_zh = f"{tier_zh}{per_zh}{floor_zh}{yuan(unit)}元 × {_num(q)}{unit_zh} = {floor_zh}{yuan(total)}元"
        text_en = f"{tier_en}{floor_en}{yuan(unit)} yuan {per_en} × {_num(q)} {unit_en} = {floor_en}{yuan(total)} yuan"

    # 3. the cap, last
    if s.cap_amount is not None:
        if total > s.cap_amount:
            notes_zh.append(f"最高{yuan(s.cap_amount)}元，按{yuan(s.cap_amount)}元计")
            notes_en.append(f"capped at {yuan(s.cap_amount)} yuan")
            total = s.cap_amount
        else:
            notes_zh.append(f"最高{yuan(s.cap_amount)}元")
            notes_en.append(f"at most {yuan(s.cap_amount)} yuan")
    if notes_zh:
        text_zh += f"（{'；'.join(notes_zh)}）"
        text_en += f" ({'; '.join(notes_en)})"
    return Expectation(round(total, 2), text_zh, text_en, is_minimum=is_minimum, ceiling=s.cap_amount)
