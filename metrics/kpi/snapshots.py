"""Weekly KPI snapshots: store what the engine said on a date, and read it back later unchanged.

A later correction of the data does not rewrite a stored snapshot; taking a snapshot again for the same
date is refused unless asked to replace it.

    >>> take_snapshot(store, dt.date(2026, 11, 22))       # every KPI as of that date
    >>> previous_snapshot(store, dt.date(2026, 11, 29))   # the one before, for "change since last week"
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from metrics.catalogue import Catalogue
from metrics.contract.errors import KpiError
from metrics.kpi.engine import Engine, KpiResult
from metrics.storage import clock
from metrics.storage.store import Store

__all__ = [
    "SnapshotExists",
    "load_snapshot",
    "previous_snapshot_date",
    "snapshot_dates",
    "snapshot_history",
    "take_snapshot",
    "week_end",
]

# A snapshot row is the CLI's JSON contract of a result, stamped with its date and the data version.
COLUMNS = ("snapshot_date", *KpiResult.CONTRACT_FIELDS, "data_version")


class SnapshotExists(KpiError, ValueError):
    """A snapshot for that date is already stored."""


def week_end(d: dt.date) -> dt.date:
    """The Sunday ending d's week (d itself on a Sunday)."""
    return d + dt.timedelta(days=6 - d.weekday())


def _rows(results: list[KpiResult], day: dt.date, version: int) -> list[tuple[object, ...]]:
    return [(day, *(getattr(r, name) for name in KpiResult.CONTRACT_FIELDS), version) for r in results]


def take_snapshot(
    store: Store, day: dt.date, *, replace: bool = False, catalogues: dict[str, Catalogue] | None = None
) -> int:
    """Compute every KPI as of `day` and store it in one transaction; returns the number of KPIs."""
    results = Engine(store, catalogues).compute(day)
    version = store.data_version()
    taken_at = clock.now()
    with store.transaction() as cur:
        exists = cur.execute("SELECT count(*) FROM kpi_snapshots WHERE snapshot_date = ?", [day]).fetchone()
        if exists and exists[0]:
            if not replace:
                raise SnapshotExists(f"{day} 的快照已存在 / a snapshot for {day} already exists")
            cur.execute("DELETE FROM kpi_snapshots WHERE snapshot_date = ?", [day])
        cur.executemany(
            f"INSERT INTO kpi_snapshots ({', '.join(COLUMNS)}, taken_at) "  # noqa: S608
            f"VALUES ({', '.join('?' * len(COLUMNS))}, ?)",
            [(*row, taken_at) for row in _rows(results, day, version)],
        )
    return len(results)


def snapshot_dates(store: Store) -> list[dt.date]:
    return [r[0] for r in store.execute("SELECT DISTINCT snapshot_date FROM kpi_snapshots ORDER BY 1")]


def previous_snapshot_date(store: Store, day: dt.date) -> dt.date | None:
    """Last week's snapshot as seen on `day`: the latest one at least six days before it.

    Snapshots are taken on Sundays, so from Saturday to the next Sunday this is the previous Sunday's.
    """
    row = store.execute(
        "SELECT max(snapshot_date) FROM kpi_snapshots WHERE snapshot_date <= ?", [day - dt.timedelta(days=6)]
    )
    return row[0][0] if row and row[0][0] is not None else None


def load_snapshot(store: Store, day: dt.date) -> pd.DataFrame:
    return store.query_df(
        f"SELECT {', '.join(COLUMNS)} FROM kpi_snapshots WHERE snapshot_date = ? ORDER BY programme, kpi_id",  # noqa: S608
        [day],
    )


def snapshot_history(store: Store, until: dt.date, weeks: int = 12) -> pd.DataFrame:
    """kpi_id, snapshot_date, actual, status for the last `weeks` snapshots up to `until` (sparklines)."""
    return store.query_df(
        "SELECT kpi_id, snapshot_date, actual, status FROM kpi_snapshots "
        "WHERE snapshot_date <= ? AND snapshot_date > ? ORDER BY kpi_id, snapshot_date",
        [until, until - dt.timedelta(weeks=weeks)],
    )


def backfill_snapshots(
    store: Store, as_of: dt.date, weeks: int = 52, catalogues: dict[str, Catalogue] | None = None
) -> list[dt.date]:
    """Weekly snapshots for the Sundays of the last `weeks` weeks up to `as_of` (demo databases only:
    a real deployment takes one each week, so history shows what was known at the time)."""
    last_sunday = week_end(as_of) - dt.timedelta(days=7) if week_end(as_of) > as_of else as_of
    days = [last_sunday - dt.timedelta(weeks=i) for i in range(weeks)][::-1]
    for day in days:
        take_snapshot(store, day, replace=True, catalogues=catalogues)
    return days
