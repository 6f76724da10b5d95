"""Small-cell suppression: hand-worked cases, and property tests that an attacker who knows the rule and
sees only what is published cannot pin down any suppressed value."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.releases.disclosure import (
    MIN_THRESHOLD,
    feasible_ranges,
    round_half_up,
    suppress_counts,
)
from tests.support import attacker_values


def _view(values: list[int], threshold: int, total_public: bool) -> tuple[list[int | None], list[str | None]]:
    res = suppress_counts(values, threshold=threshold, total_public=total_public)
    assert not res.withheld
    shown = [None if f else v for v, f in zip(values, res.flags, strict=True)]
    return shown, list(res.flags)


# --------------------------------------------------------------------------- hand-worked


def test_single_small_cell_gets_a_secondary_partner() -> None:
    # 3 + 40 + 25 = 68 is published; hiding only the 3 leaves 68 − 40 − 25 = 3.
    res = suppress_counts([3, 40, 25], threshold=10)
    assert res.flags == ("primary", None, "secondary")  # the smallest other cell (25) is hidden too
    assert not res.withheld


def test_two_small_cells_protect_each_other() -> None:
    # 5 + 5 = 10 is known: each is in [1, 9] — not pinned down.
    assert suppress_counts([5, 5, 50]).flags == ("primary", "primary", None)


def test_two_small_cells_that_sum_to_two_are_pinned() -> None:
    # 1 + 1 = 2 and each ≥ 1 → both must be 1: a secondary cell is needed.
    assert suppress_counts([1, 1, 30, 40]).flags == ("primary", "primary", "secondary", None)


def test_secondary_at_the_threshold_is_itself_pinned_and_needs_a_third() -> None:
    # 1 + 10 = 11 with the 1 in [1, 9] and the 10 ≥ 10 → both pinned; hide 12 as well.
    assert suppress_counts([1, 10, 12]).flags == ("primary", "secondary", "secondary")


def test_no_cell_left_to_hide_withholds_the_table() -> None:
    res = suppress_counts([1, 10, 0])
    assert res.withheld


def test_zero_is_published_and_large_cells_untouched() -> None:
    assert suppress_counts([0, 12, 30]).flags == (None, None, None)


def test_suppressed_total() -> None:
    # headline 5 shown "<10": cells 2 and 3 are each in [1, 8] — safe; zeros stay.
    assert suppress_counts([2, 3, 0], total_public=False).flags == ("primary", "primary", None)
    # nine 1s summing to ≤ 9 force every cell to be 1.
    assert suppress_counts([1] * 9, total_public=False).withheld


def test_threshold_is_configurable_and_bounded() -> None:
    assert suppress_counts([4, 30, 40], threshold=5).flags == ("primary", "secondary", None)
    assert suppress_counts([6, 30, 40], threshold=5).flags == (None, None, None)
    with pytest.raises(ValueError, match="at least"):
        suppress_counts([1, 2], threshold=MIN_THRESHOLD - 1)


def test_feasible_ranges_by_hand() -> None:
    # cells 3 (primary) and 25 (secondary), 40 published, total 68: the hidden pair sums to 28;
    # the 3 is in [1, 9] ∩ [28 − 68, 28 − 10] = [1, 9]; the 25 in [10, 68] ∩ [28 − 9, 28 − 1] = [19, 27].
    ranges = feasible_ranges([3, 40, 25], ["primary", None, "secondary"], 10, (68, 68))
    assert ranges == [(1, 9), (40, 40), (19, 27)]


def test_rounding_is_half_up_everywhere() -> None:
    assert round_half_up(97.25) == 97.3
    assert round_half_up(97.35) == 97.4  # banker's rounding would give 97.4 / 97.2 inconsistently
    assert round_half_up(0.05) == 0.1
    assert round_half_up(2.675, 2) == 2.68  # float repr 2.67499… must not round down
    assert round_half_up(-1.25) == -1.3


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        suppress_counts([3, -1])
    with pytest.raises(ValueError, match="only a total"):
        suppress_counts([20, 30], total_public=False)


# --------------------------------------------------------------------------- properties

counts = st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=6)


@settings(max_examples=400, deadline=None)
@given(values=counts, threshold=st.integers(min_value=MIN_THRESHOLD, max_value=12))
def test_no_suppressed_value_can_be_derived(values: list[int], threshold: int) -> None:
    res = suppress_counts(values, threshold=threshold)
    # never shows a small count
    assert all(not (1 <= v < threshold) or f is not None for v, f in zip(values, res.flags, strict=True))
    if res.withheld:
        return
    shown, labels = _view(values, threshold, True)
    possible = attacker_values(shown, labels, threshold, sum(values))
    for v, f, options in zip(values, res.flags, possible, strict=True):
        assert v in options  # the attacker's model is sound: the truth is among the options
        if f is not None:
            assert len(options) >= 2, f"{values} T={threshold}: hidden {v} is the only option"


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=6), threshold=st.integers(3, 12))
def test_no_value_derivable_when_the_total_is_suppressed(values: list[int], threshold: int) -> None:
    total = sum(values)
    if not 1 <= total < threshold:
        return
    res = suppress_counts(values, threshold=threshold, total_public=False)
    if res.withheld:
        return
    shown, labels = _view(values, threshold, False)
    possible = attacker_values(shown, labels, threshold, None)
    for v, f, options in zip(values, res.flags, possible, strict=True):
        assert v in options
        if f is not None:
            assert len(options) >= 2


@settings(max_examples=300, deadline=None)
@given(values=counts, threshold=st.integers(min_value=MIN_THRESHOLD, max_value=12))
def test_suppression_is_minimal_in_one_sense(values: list[int], threshold: int) -> None:
    """Secondary cells are hidden only when needed: with none of them hidden something was derivable."""
    res = suppress_counts(values, threshold=threshold)
    if res.withheld or "secondary" not in res.flags:
        return
    primary_only = ["primary" if f == "primary" else None for f in res.flags]
    ranges = feasible_ranges(values, primary_only, threshold, (sum(values), sum(values)))
    assert any(f and hi - lo < 1 for f, (lo, hi) in zip(primary_only, ranges, strict=True))
