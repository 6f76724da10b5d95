"""The demo's time: its first day, the default as-of date, every day in between with seasonal weights
(Spring Festival, public holidays, 2022's lockdowns, graduation peaks, year-on-year growth), and the
minimum wage by date. Records are placed in time by sampling these weights.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

DEFAULT_AS_OF = dt.date(2026, 11, 21)
START = dt.date(2022, 1, 1)


# 春节 (lunar new year's day); the dip runs from about ten days before to two weeks after.
LUNAR_NEW_YEAR: dict[int, dt.date] = {
    2022: dt.date(2022, 2, 1),
    2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
}


# Beijing's minimum monthly wage (yuan) by the date it took effect: the floor of generated wages and the
# reference wage of share_of_wage subsidies.
MINIMUM_WAGE: tuple[tuple[dt.date, float], ...] = (
    (dt.date(2021, 9, 1), 2320.0),
    (dt.date(2023, 9, 1), 2420.0),
    (dt.date(2025, 9, 1), 2540.0),
)


def _minimum_wage(day: np.ndarray, days: np.ndarray) -> np.ndarray:
    out = np.full(len(day), MINIMUM_WAGE[0][1])
    for since, wage in MINIMUM_WAGE[1:]:
        out[days[day] >= np.datetime64(since)] = wage
    return out


class Calendar:
    """Every day from START to as_of with the seasonal weights used to place records in time."""

    def __init__(self, as_of: dt.date) -> None:
        if as_of < START:
            raise ValueError(f"as_of {as_of} is before the demo's start {START}")
        self.as_of = as_of
        self.n = (as_of - START).days + 1
        self.days = np.datetime64(START, "D") + np.arange(self.n)
        self.year = self.days.astype("datetime64[Y]").astype(np.int64) + 1970
        self.month = self.days.astype("datetime64[M]").astype(np.int64) % 12 + 1
        self.dom = (self.days - self.days.astype("datetime64[M]")).astype(np.int64) + 1
        self.weekday = (self.days.astype(np.int64) + 3) % 7  # 0 = Monday
        self.years = list(range(START.year, as_of.year + 1))
        growth = {2022: 0.84, 2023: 1.0, 2024: 1.07, 2025: 1.14, 2026: 1.21}
        self.growth = {y: growth.get(y, 1.21 * 1.06 ** (y - 2026)) for y in self.years}

        spring = np.ones(self.n)
        for lny in LUNAR_NEW_YEAR.values():
            off = (self.days - np.datetime64(lny, "D")).astype(np.int64)
            spring = np.where((off >= -10) & (off < -3), 0.55, spring)
            spring = np.where((off >= -3) & (off <= 6), 0.12, spring)
            spring = np.where((off > 6) & (off <= 15), 0.6, spring)
        holiday = np.where((self.month == 10) & (self.dom <= 7), 0.2, 1.0)
        holiday = np.where((self.month == 5) & (self.dom <= 5), 0.4, holiday)
        # Beijing's 2022 lockdown spells (late April–May, late November–December).
        d = self.days
        covid = np.where((d >= np.datetime64("2022-04-25")) & (d <= np.datetime64("2022-05-31")), 0.6, 1.0)
        covid = np.where((d >= np.datetime64("2022-11-15")) & (d <= np.datetime64("2022-12-31")), 0.45, covid)
        self.seasonal = spring * holiday * covid
        self.year_growth = np.array([self.growth[int(y)] for y in self.years])[self.year - START.year]

    def index(self, day: dt.date) -> int:
        return (day - START).days

    def year_span(self, year: int) -> tuple[int, int]:
        """[lo, hi) day indices of a calendar year, clipped to START..as_of."""
        lo = max(self.index(dt.date(year, 1, 1)), 0)
        hi = min(self.index(dt.date(year, 12, 31)) + 1, self.n)
        return lo, max(lo, hi)

    def year_elapsed(self, year: int) -> float:
        lo, hi = self.year_span(year)
        days_in_year = 366 if year % 4 == 0 else 365
        return (hi - lo) / days_in_year

    def weights(self, kind: str) -> np.ndarray:
        """Daily weights: 'activity' (placements), 'graduate', 'office' (filings), 'event', 'training'."""
        wd = self.weekday
        if kind in ("activity", "graduate"):
            month = np.array([0.92, 0.9, 1.22, 1.1, 1.02, 1.0, 1.04, 0.96, 1.12, 0.9, 1.0, 0.92])[self.month - 1]
            day = np.where(wd < 5, 1.0, np.where(wd == 5, 0.3, 0.18))
            w = month * day * self.seasonal * self.year_growth
            if kind == "graduate":
                w = w * np.array([0.7, 0.55, 0.8, 0.8, 0.95, 2.2, 2.9, 2.1, 1.2, 0.8, 0.75, 0.7])[self.month - 1]
            return w
        if kind == "office":
            return np.where(wd < 5, 1.0, 0.03) * self.seasonal
        if kind == "event":
            month = np.array([0.7, 0.6, 1.4, 1.1, 1.2, 1.2, 1.15, 0.8, 1.25, 0.85, 1.0, 0.8])[self.month - 1]
            return month * np.where(wd < 5, 1.0, np.where(wd == 5, 0.45, 0.1)) * self.seasonal
        if kind == "training":
            month = np.array([0.8, 0.6, 1.3, 1.2, 1.1, 1.0, 0.75, 0.7, 1.25, 1.05, 1.1, 0.85])[self.month - 1]
            return month * np.where(wd < 5, 1.0, 0.25) * self.seasonal
        raise ValueError(kind)


def _sample_days(
    rng: np.random.Generator, weights: np.ndarray, n: int, lo: int = 0, hi: int | None = None
) -> np.ndarray:
    """n day indices in [lo, hi) drawn with the given daily weights, sorted (exactly n of them)."""
    hi = len(weights) if hi is None else hi
    if n <= 0 or hi <= lo:
        return np.zeros(0, dtype=np.int32)
    w = weights[lo:hi]
    counts = rng.multinomial(n, w / w.sum())
    return (np.repeat(np.arange(lo, hi, dtype=np.int32), counts)).astype(np.int32)


def _month_spans(cal: Calendar, year: int) -> list[tuple[int, int, int]]:
    out = []
    for m in range(1, 13):
        lo = cal.index(dt.date(year, m, 1))
        if lo >= cal.n:
            break
        nxt = dt.date(year + m // 12, m % 12 + 1, 1)
        out.append((m, max(lo, 0), min(cal.index(nxt), cal.n)))
    return out


def _month_ends(cal: Calendar, since: dt.date) -> list[dt.date]:
    out: list[dt.date] = []
    y, m = since.year, since.month
    while True:
        end = dt.date(y + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1)
        if end > cal.as_of:
            return out
        out.append(end)
        y, m = y + m // 12, m % 12 + 1
