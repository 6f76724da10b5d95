"""Small-cell suppression for published tables: no count from 1 to threshold−1 can be read or derived.

A press table is a column of counts by street (or group, channel …) with a total that readers also know
from the headline. Cells from 1 to threshold−1 are shown as "<10" (primary suppression). A reader who
knows the rule still learns bounds — a primary cell is in [1, threshold−1], a secondary one is ≥ threshold,
a zero is a zero — and the total ties them together, so one suppressed cell next to a published total
would be recovered by subtraction. Secondary suppression hides the smallest further cells until every
suppressed cell's feasible range (given the bounds and the total) holds more than one value; if no cell is
left to hide, the whole table is withheld. Rates are suppressed where their numerator or denominator is.

    >>> suppress_counts([3, 40, 25], threshold=10)
    Suppressed(flags=('primary', None, 'secondary'), withheld=False)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

__all__ = [
    "DEFAULT_THRESHOLD",
    "MIN_THRESHOLD",
    "Flag",
    "Suppressed",
    "feasible_ranges",
    "round_half_up",
    "suppress_counts",
]

DEFAULT_THRESHOLD = 10
# With a threshold of 2 "<2" means exactly 1; 3 is the least that hides anything.
MIN_THRESHOLD = 3

Flag = Literal["primary", "secondary"] | None


@dataclass(frozen=True)
class Suppressed:
    """Per cell: None (published), 'primary' (1…threshold−1) or 'secondary' (hidden so the others cannot be
    recovered). `withheld`: the table cannot be made safe and must not be published at all."""

    flags: tuple[Flag, ...]
    withheld: bool = False


def round_half_up(value: float, digits: int = 1) -> float:
    """The one rounding rule of published figures: half away from zero (97.25 → 97.3), never banker's."""
    q = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(value)).quantize(q, rounding=ROUND_HALF_UP))


def _bounds(value: int, flag: Flag, threshold: int, cap: float) -> tuple[float, float]:
    """What a reader who knows the rule can say about a cell from how it is shown."""
    if flag == "primary":
        return 1.0, float(threshold - 1)
    if flag == "secondary":
        return float(threshold), cap
    return float(value), float(value)


def feasible_ranges(
    values: Sequence[int],
    flags: Sequence[Flag],
    threshold: int,
    total: tuple[float, float],
) -> list[tuple[float, float]]:
    """Each cell's exact feasible range given the published cells, the suppression bounds, and that the
    cells sum to a total known to lie in `total` (lo, hi). One linear constraint over a box: the range of
    cell i is its box intersected with [total_lo − Σ others' upper, total_hi − Σ others' lower]."""
    cap = total[1] if math.isfinite(total[1]) else math.inf
    boxes = [_bounds(v, f, threshold, cap) for v, f in zip(values, flags, strict=True)]
    sum_lo = sum(b[0] for b in boxes)
    sum_hi = sum(b[1] for b in boxes)
    out = []
    for lo, hi in boxes:
        others_lo, others_hi = sum_lo - lo, sum_hi - hi
        out.append((max(lo, total[0] - others_hi), min(hi, total[1] - others_lo)))
    return out


def _derivable(values: Sequence[int], flags: Sequence[Flag], threshold: int, total: tuple[float, float]) -> bool:
    ranges = feasible_ranges(values, flags, threshold, total)
    return any(f is not None and hi - lo < 1 for f, (lo, hi) in zip(flags, ranges, strict=True))


def suppress_counts(
    values: Sequence[int], *, threshold: int = DEFAULT_THRESHOLD, total_public: bool = True
) -> Suppressed:
    """Primary and secondary suppression of one column of non-negative counts.

    The cells' sum is the column total readers know from the headline. If that headline is itself suppressed
    (a total from 1 to threshold−1, shown "<10"), pass total_public=False: readers then know only that the
    total lies in [1, threshold−1].
    """
    if threshold < MIN_THRESHOLD:
        raise ValueError(f"threshold must be at least {MIN_THRESHOLD}, not {threshold}")
    if any(v < 0 or v != int(v) for v in values):
        raise ValueError("counts must be non-negative integers")
    actual = sum(values)
    if total_public:
        known = (float(actual), float(actual))
    elif 1 <= actual < threshold:
        known = (1.0, float(threshold - 1))
    else:
        raise ValueError(f"only a total from 1 to {threshold - 1} is suppressed, not {actual}")
    flags: list[Flag] = ["primary" if 1 <= v < threshold else None for v in values]
    while _derivable(values, flags, threshold, known):
        candidates = [i for i, v in enumerate(values) if flags[i] is None and v >= threshold]
        if not candidates:
            return Suppressed(tuple("primary" if 1 <= v < threshold else None for v in values), withheld=True)
        flags[min(candidates, key=lambda i: (values[i], i))] = "secondary"
    return Suppressed(tuple(flags))
