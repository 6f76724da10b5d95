"""A subsidy standard in one readable Chinese line, e.g. '每人每月500元，最长36个月'."""

from __future__ import annotations

from metrics.catalogue.models import Subsidy
from metrics.present.format import format_number

BASIS_ZH = {
    "one_off": "一次性",
    "per_person": "每人",
    "per_person_month": "每人每月",
    "per_person_year": "每人每年",
    "per_person_day": "每人每天",
    "per_person_class_hour": "每人每课时",
    "per_year": "每年",
    "share_of_fee": "按费用比例",
    "share_of_wage": "按工资比例",
    "loan": "贷款额度",
}


def _yuan(x: float) -> str:
    return f"{format_number(x)}元"


def standard_text(s: Subsidy) -> str:
    parts: list[str] = []
    basis = BASIS_ZH.get(s.basis, s.basis)
    if s.tiers:
        tiers = []
        for tier in s.tiers:
            if s.tier_by == "year_index":
                cond = f"第{tier.year_index}年"
            elif s.tier_by == "quantity":
                hi = f"至{tier.max_quantity:g}" if tier.max_quantity is not None else "及以上"
                cond = f"{tier.min_quantity:g}{hi}" if tier.min_quantity is not None else f"不足{tier.max_quantity:g}"
            else:
                cond = tier.level or ""
            value = _yuan(tier.amount) if tier.amount is not None else f"{(tier.share or 0) * 100:g}%"
            tiers.append(f"{cond}{value}")
        parts.append(f"{basis}：" + "；".join(tiers))
    elif s.amount is not None:
        parts.append(f"{basis}{'不低于' if s.amount_is_minimum else ''}{_yuan(s.amount)}")
    elif s.share is not None:
        parts.append(f"{basis}{s.share * 100:g}%")
    else:
        parts.append("按市、区有关标准执行")
    if s.max_months:
        parts.append(f"最长{s.max_months}个月")
    if s.max_days:
        parts.append(f"不超过{s.max_days}天")
    if s.max_years:
        parts.append(f"最长{s.max_years}年")
    if s.cap_amount:
        parts.append(f"最高{_yuan(s.cap_amount)}")
    return "，".join(parts)
