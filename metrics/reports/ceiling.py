"""The most the catalogue's subsidy standard allows for one application, for the upload's outlier warnings
(metrics.ingest.outliers: an amount above it is flagged before the file is imported).

The standard itself is metrics.reports.standard's `expected_amount`; this only looks the subsidy up by
district and measure code and takes its exact amount, or its cap when the amount is a floor or needs a
person to decide. metrics.ingest cannot import this package (they sit side by side), so the callers above
both (the dashboard's service and `kpi import`) pass it in.

>>> allowed = standard_ceiling(catalogues.values())
>>> allowed("通州区", "ty-employment-subsidy", 6.0, None, True)   # (6000.0, '每人每月1,000元 × 6个月 …', …)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from metrics.catalogue.models import Catalogue, Subsidy
from metrics.reports.standard import expected_amount

__all__ = ["standard_ceiling"]


def standard_ceiling(
    catalogues: Iterable[Catalogue],
) -> Callable[[str, str, float | None, int | None, bool], tuple[float, str, str] | None]:
    """(district, measure code, quantity, year index, single person) → (the most the standard allows in yuan,
    its rule in Chinese and English), or None for an unknown code or a standard without a figure or a cap."""
    by_district: dict[str, dict[str, Subsidy]] = {}
    for catalogue in catalogues:
        subsidies = by_district.setdefault(catalogue.programme.district, {})
        for subsidy in catalogue.subsidies:
            subsidies.setdefault(subsidy.id, subsidy)

    def allowed(
        district: str, code: str, quantity: float | None, year_index: int | None, single: bool
    ) -> tuple[float, str, str] | None:
        subsidy = by_district.get(district, {}).get(code)
        if subsidy is None:
            return None
        exp = expected_amount(subsidy, quantity, year_index, single_person=single)
        if exp.amount is not None and not exp.is_minimum:
            return exp.amount, exp.rule_zh, exp.rule_en
        if exp.ceiling is not None:
            return exp.ceiling, exp.rule_zh, exp.rule_en
        return None

    return allowed
