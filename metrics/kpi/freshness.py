"""Data freshness: which district's record types and reported KPIs have not been updated on time.

For every programme and every record type its KPIs read, the district's last upload (uploads joined to the
record table on upload_id) says when a department last reported. Rows loaded in bulk without an upload
(demo data, restores) have no upload_id; there the latest value of the record type's date column is the
"last data" date. A record type is stale when more days than its `expected_frequency_days` have passed.

    >>> stale_data(store, dt.date(2026, 11, 21))            # every programme × record type, stale or not
    >>> stale_reported_kpis(store, dt.date(2026, 11, 21))   # reported KPIs with no report for 45 days
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from typing import Any

import pandas as pd

from metrics.catalogue import Catalogue, Kpi, load_catalogues
from metrics.catalogue.models import ReportedMeasure
from metrics.contract.records import RECORD_TYPES
from metrics.storage.store import Store

__all__ = [
    "REPORTED_COLUMNS",
    "REPORTED_WITHIN_DAYS",
    "STALE_COLUMNS",
    "kpi_sources",
    "stale_data",
    "stale_reported_kpis",
]

STALE_COLUMNS = (
    "programme",
    "district",
    "record_type",
    "title_zh",
    "last_upload",
    "last_record_date",
    "days_since",
    "expected_days",
    "stale",
    "lead_units",
)
REPORTED_COLUMNS = (
    "programme",
    "district",
    "kpi_id",
    "name_zh",
    "name_en",
    "lead_unit",
    "last_period_end",
    "last_upload",
    "days_since",
)
REPORTED_WITHIN_DAYS = 45


def kpi_sources(kpi: Kpi) -> list[str]:
    """The record types a KPI's measure reads (reported values live in progress_reports)."""
    return list(kpi.measure.sources)


def _sources_of(cat: Catalogue) -> dict[str, list[Kpi]]:
    """Record type → the programme's KPIs fed by it, in RECORD_TYPES order."""
    fed: dict[str, list[Kpi]] = {}
    for k in cat.kpis:
        for s in kpi_sources(k):
            fed.setdefault(s, []).append(k)
    return {rt: fed[rt] for rt in RECORD_TYPES if rt in fed}


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _day_after(as_of: dt.date) -> dt.datetime:
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())


def _as_date(v: Any) -> dt.date | None:
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    ts = pd.Timestamp(v)
    return None if pd.isna(ts) else ts.date()


def _last_seen(
    store: Store, record: str, district: str, as_of: dt.date, kpi_ids: list[str] | None
) -> tuple[dt.datetime | None, dt.date | None]:
    """(latest upload time, latest data date) of one record type in one district, both as seen on as_of."""
    rt = RECORD_TYPES[record]
    params: dict[str, Any] = {"district": district, "record_type": rt.name, "as_of": as_of, "cutoff": _day_after(as_of)}
    only = ""
    if kpi_ids is not None:  # progress_reports: only this programme's reported KPIs
        only = " AND list_contains($kpi_ids, kpi_id)"
        params["kpi_ids"] = kpi_ids
    date_expr = "NULL::DATE"
    if rt.date_column is not None:
        date_expr = f"(SELECT max({rt.date_column}) FROM {rt.name} WHERE district = $district{only} AND {rt.date_column} <= $as_of)"  # noqa: S608 - names from the record spec
    # Table and column names come from the record spec; every value is a bound parameter.
    sql = (
        f"SELECT (SELECT max(u.uploaded_at) FROM uploads u "  # noqa: S608
        f"WHERE u.record_type = $record_type AND u.uploaded_at < $cutoff AND u.upload_id IN "
        f"(SELECT upload_id FROM {rt.name} WHERE district = $district{only} AND upload_id IS NOT NULL)), "
        f"{date_expr}"
    )
    row = store.cursor().execute(sql, params).fetchone()
    assert row is not None
    last_upload = row[0] if isinstance(row[0], dt.datetime) else None
    last_date = _as_date(row[1])
    if last_date is not None and rt.date_column is not None and rt.column(rt.date_column).kind == "month":
        # a monthly return stands for the whole month: it is as fresh as the month's last day
        month_end = last_date.replace(day=calendar.monthrange(last_date.year, last_date.month)[1])
        last_date = min(month_end, as_of)
    return last_upload, last_date


def stale_data(store: Store, as_of: dt.date, catalogues: dict[str, Catalogue] | None = None) -> pd.DataFrame:
    """Every programme district × record type its KPIs use: last upload, last data date, days since, stale.

    days_since counts from the last upload when the district has uploaded rows of that type, else from the
    latest date in the record type's date column (rows loaded without an upload). Never any data: days_since
    is missing and the row is stale. stale means days_since > expected_days (records.py
    `expected_frequency_days`). lead_units lists the lead units of the KPIs fed by the record type.
    """
    cats = catalogues if catalogues is not None else load_catalogues()
    rows: list[dict[str, Any]] = []
    for pid, cat in cats.items():
        district = cat.programme.district
        for record, kpis in _sources_of(cat).items():
            rt = RECORD_TYPES[record]
            ids = [k.id for k in kpis] if record == "progress_reports" else None
            last_upload, last_date = _last_seen(store, record, district, as_of, ids)
            basis = last_upload.date() if last_upload is not None else last_date
            days = (as_of - basis).days if basis is not None else None
            rows.append(
                {
                    "programme": pid,
                    "district": district,
                    "record_type": record,
                    "title_zh": rt.title_zh,
                    "last_upload": last_upload,
                    "last_record_date": last_date,
                    "days_since": days,
                    "expected_days": rt.expected_frequency_days,
                    "stale": days is None or days > rt.expected_frequency_days,
                    "lead_units": _unique(k.lead_unit for k in kpis),
                }
            )
    df = pd.DataFrame(rows, columns=list(STALE_COLUMNS))
    df["last_upload"] = pd.to_datetime(df["last_upload"])
    df["days_since"] = df["days_since"].astype("Int64")
    df["expected_days"] = df["expected_days"].astype("int64")
    df["stale"] = df["stale"].astype(bool)
    return df


def stale_reported_kpis(
    store: Store,
    as_of: dt.date,
    catalogues: dict[str, Catalogue] | None = None,
    *,
    within_days: int = REPORTED_WITHIN_DAYS,
) -> pd.DataFrame:
    """Reported KPIs (measure kind `reported`) with no progress_reports row whose period_end falls in the
    `within_days` days up to as_of, with their lead unit and the latest report they do have (if any)."""
    cats = catalogues if catalogues is not None else load_catalogues()
    since = as_of - dt.timedelta(days=within_days)
    rows: list[dict[str, Any]] = []
    for pid, cat in cats.items():
        reported = [k for k in cat.kpis if isinstance(k.measure, ReportedMeasure)]
        if not reported:
            continue
        found = (
            store.cursor()
            .execute(
                "SELECT p.kpi_id, max(p.period_end), max(u.uploaded_at) FILTER (WHERE u.uploaded_at < $cutoff) "
                "FROM progress_reports p LEFT JOIN uploads u ON u.upload_id = p.upload_id "
                "WHERE p.district = $district AND list_contains($ids, p.kpi_id) AND p.period_end <= $as_of "
                "GROUP BY p.kpi_id",
                {
                    "district": cat.programme.district,
                    "ids": [k.id for k in reported],
                    "as_of": as_of,
                    "cutoff": _day_after(as_of),
                },
            )
            .fetchall()
        )
        latest = {kid: (_as_date(d), up) for kid, d, up in found}
        for k in reported:
            last_end, last_upload = latest.get(k.id, (None, None))
            if last_end is not None and last_end >= since:
                continue
            rows.append(
                {
                    "programme": pid,
                    "district": cat.programme.district,
                    "kpi_id": k.id,
                    "name_zh": k.name_zh,
                    "name_en": k.name_en,
                    "lead_unit": k.lead_unit,
                    "last_period_end": last_end,
                    "last_upload": last_upload if isinstance(last_upload, dt.datetime) else None,
                    "days_since": (as_of - last_end).days if last_end is not None else None,
                }
            )
    df = pd.DataFrame(rows, columns=list(REPORTED_COLUMNS))
    df["last_upload"] = pd.to_datetime(df["last_upload"])
    df["days_since"] = df["days_since"].astype("Int64")
    return df
