"""The product's one clock: today and now in Beijing (Asia/Shanghai), whatever the machine's zone.

No other module reads the wall clock (tests/test_clock.py enforces it), so a test pins the date with
`pinned(...)` and the suite behaves the same on any day. Times are naive Beijing time, like the
TIMESTAMP columns they are stored in. See docs/time.md.

>>> from metrics.storage import clock
>>> with clock.pinned(dt.datetime(2026, 11, 21, 9, 0)):
...     clock.today()   # datetime.date(2026, 11, 21)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

__all__ = ["TIMEZONE", "now", "pinned", "today"]

TIMEZONE = ZoneInfo("Asia/Shanghai")


def _wall_clock() -> dt.datetime:
    return dt.datetime.now(TIMEZONE).replace(tzinfo=None)


_source: Callable[[], dt.datetime] = _wall_clock


def now() -> dt.datetime:
    """The current Beijing time, naive (what a change-log row, a ledger entry or a session stamp records)."""
    return _source()


def today() -> dt.date:
    """Today's date in Beijing: the upload day, the default deadline base, the publication year."""
    return _source().date()


@contextmanager
def pinned(moment: dt.datetime | dt.date) -> Iterator[None]:
    """Freeze the clock at `moment` (a date means 09:00 that day) for the duration of the block: tests, and
    the demo's backdated ledger entries. Not for request paths: the clock is process-wide."""
    global _source
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, dt.time(9, 0))
    frozen = moment.replace(tzinfo=None)
    previous, _source = _source, lambda: frozen
    try:
        yield
    finally:
        _source = previous
