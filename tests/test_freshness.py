"""Stale data: days since each district's last upload (or last data date for rows loaded without one)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from metrics.kpi.freshness import STALE_COLUMNS, kpi_sources, stale_data, stale_reported_kpis
from metrics.storage.store import Store
from tests.support import insert, tiny_catalogue

D = dt.date
AS_OF = D(2026, 11, 21)

KPIS = [
    {"id": "events", "measure": {"kind": "count", "source": "events"}, "target": {"value": 10, "period": "year"}},
    {
        "id": "fairs",
        "measure": {"kind": "count", "source": "events", "filters": [{"column": "event_type", "value": "招聘会"}]},
        "target": {"value": 5, "period": "year"},
        "lead_unit": "区就业中心",
    },
    {"id": "cases", "measure": {"kind": "count", "source": "disputes"}, "target": {"value": 10, "period": "year"}},
    {
        "id": "contract-rate",
        "measure": {
            "kind": "ratio",
            "numerator": {"kind": "sum", "source": "contract_returns", "column": "contracts_signed"},
            "denominator": {"kind": "sum", "source": "contract_returns", "column": "employees"},
        },
        "target": {"value": 0.98, "period": "rate"},
        "lead_unit": "区劳动监察大队",
    },
]


def cats(kpis: list[dict] | None = None) -> dict:
    return {"tiny": tiny_catalogue(kpis or KPIS)}


def ev(i: int, day: dt.date, district: str = "通州区") -> dict:
    return {
        "event_id": f"E{i}",
        "district": district,
        "event_type": "招聘会",
        "event_date": day,
        "title": "t",
        "organiser": "o",
    }


def case(i: int, day: dt.date, district: str = "通州区") -> dict:
    return {"case_id": f"C{i}", "district": district, "accepted_date": day}


def upload(store: Store, record: str, at: dt.datetime, ids: list[str], key: str, unit: str = "区人力社保局") -> int:
    """Record an upload at a hand-set time and attach the given rows to it."""
    row = store.execute(
        "INSERT INTO uploads (record_type, file_name, sha256, user_name, unit_name, uploaded_at, row_count, "
        "new_rows, changed_rows, unchanged_rows) VALUES (?, 'f.xlsx', 'x', 'u', ?, ?, ?, ?, 0, 0) RETURNING upload_id",
        [record, unit, at, len(ids), len(ids)],
    )
    uid = int(row[0][0])
    store.execute(f"UPDATE {record} SET upload_id = ? WHERE list_contains(?, {key})", [uid, ids])
    return uid


def by_type(df: pd.DataFrame) -> dict[str, dict]:
    return {r["record_type"]: r for r in df.to_dict("records")}


def test_sources_come_from_the_measures() -> None:
    cat = tiny_catalogue(
        [*KPIS, {"id": "rep", "measure": {"kind": "reported"}, "target": {"value": 1, "period": "year"}}]
    )
    got = {k.id: kpi_sources(k) for k in cat.kpis}
    assert got == {
        "events": ["events"],
        "fairs": ["events"],
        "cases": ["disputes"],
        "contract-rate": ["contract_returns"],
        "rep": ["progress_reports"],
    }


def test_upload_40_days_ago_is_stale_10_days_is_not(tiny_duck: Store) -> None:
    insert(tiny_duck, "events", [ev(1, D(2026, 10, 1)), ev(2, D(2026, 10, 5))])
    insert(tiny_duck, "disputes", [case(1, D(2026, 11, 2))])
    upload(tiny_duck, "events", dt.datetime(2026, 10, 12, 9, 30), ["E1", "E2"], "event_id")  # 40 days before
    upload(tiny_duck, "disputes", dt.datetime(2026, 11, 11, 16, 0), ["C1"], "case_id")  # 10 days before
    df = stale_data(tiny_duck, AS_OF, cats())
    assert tuple(df.columns) == STALE_COLUMNS
    rows = by_type(df)
    assert list(rows) == ["events", "disputes", "contract_returns"]
    e, d = rows["events"], rows["disputes"]
    assert e["last_upload"] == pd.Timestamp(2026, 10, 12, 9, 30) and e["days_since"] == 40
    assert e["expected_days"] == 31 and bool(e["stale"]) is True
    assert e["last_record_date"] == D(2026, 10, 5)
    assert e["lead_units"] == ["区人力社保局", "区就业中心"]  # both KPIs fed by events, in catalogue order
    assert e["title_zh"] == "招聘及服务活动" and e["district"] == "通州区" and e["programme"] == "tiny"
    assert d["days_since"] == 10 and bool(d["stale"]) is False
    # never any contract return: no dates, stale, and the lead unit that should report it
    c = rows["contract_returns"]
    assert pd.isna(c["days_since"]) and pd.isna(c["last_upload"]) and c["last_record_date"] is None
    assert bool(c["stale"]) is True and c["lead_units"] == ["区劳动监察大队"]


def test_exactly_the_expected_frequency_is_not_yet_stale(tiny_duck: Store) -> None:
    insert(tiny_duck, "events", [ev(1, D(2026, 10, 1))])
    upload(tiny_duck, "events", dt.datetime(2026, 10, 21, 23, 59), ["E1"], "event_id")  # 31 days before
    e = by_type(stale_data(tiny_duck, AS_OF, cats()))["events"]
    assert e["days_since"] == 31 and bool(e["stale"]) is False
    e = by_type(stale_data(tiny_duck, AS_OF + dt.timedelta(days=1), cats()))["events"]
    assert e["days_since"] == 32 and bool(e["stale"]) is True


def test_demo_rows_without_upload_use_the_data_dates(tiny_duck: Store) -> None:
    insert(tiny_duck, "events", [ev(1, D(2026, 11, 16)), ev(2, D(2026, 12, 20))])  # the December one is after as_of
    insert(tiny_duck, "disputes", [case(1, D(2026, 10, 2)), case(2, D(2026, 11, 20), district="朝阳区")])
    insert(
        tiny_duck,
        "contract_returns",
        [
            {
                "enterprise_id": "9" * 18,
                "district": "通州区",
                "street": "s",
                "report_month": D(2026, 10, 1),
                "employees": 10,
                "contracts_signed": 9,
            }
        ],
    )
    rows = by_type(stale_data(tiny_duck, AS_OF, cats()))
    e, d, c = rows["events"], rows["disputes"], rows["contract_returns"]
    assert pd.isna(e["last_upload"]) and e["last_record_date"] == D(2026, 11, 16)
    assert e["days_since"] == 5 and bool(e["stale"]) is False
    # the 朝阳区 case does not make 通州区 fresh
    assert d["last_record_date"] == D(2026, 10, 2) and d["days_since"] == 50 and bool(d["stale"]) is True
    # a monthly return stands for its whole month: October's is as fresh as 31 October
    assert c["last_record_date"] == D(2026, 10, 31) and c["days_since"] == 21 and bool(c["stale"]) is False


def test_uploads_elsewhere_or_later_do_not_count(tiny_duck: Store) -> None:
    insert(tiny_duck, "events", [ev(1, D(2026, 9, 1)), ev(2, D(2026, 11, 1), district="朝阳区"), ev(3, D(2026, 9, 2))])
    upload(tiny_duck, "events", dt.datetime(2026, 9, 5), ["E1"], "event_id")
    upload(tiny_duck, "events", dt.datetime(2026, 11, 20), ["E2"], "event_id")  # another district's upload
    upload(tiny_duck, "events", dt.datetime(2026, 11, 25), ["E3"], "event_id")  # after as_of
    e = by_type(stale_data(tiny_duck, AS_OF, cats()))["events"]
    assert e["last_upload"] == pd.Timestamp(2026, 9, 5) and e["days_since"] == 77 and bool(e["stale"]) is True
    e = by_type(stale_data(tiny_duck, D(2026, 11, 26), cats()))["events"]
    assert e["last_upload"] == pd.Timestamp(2026, 11, 25) and e["days_since"] == 1


def test_each_programme_is_checked_in_its_own_district(tiny_duck: Store) -> None:
    tz = tiny_catalogue(KPIS[:1])
    cy = tiny_catalogue(KPIS[:1], district="朝阳区")
    cy = cy.model_copy(update={"programme": cy.programme.model_copy(update={"id": "tiny-cy"})})
    insert(tiny_duck, "events", [ev(1, D(2026, 11, 20)), ev(2, D(2026, 8, 1), district="朝阳区")])
    df = stale_data(tiny_duck, AS_OF, {"tiny": tz, "tiny-cy": cy})
    assert df[["programme", "district", "days_since", "stale"]].to_dict("records") == [
        {"programme": "tiny", "district": "通州区", "days_since": 1, "stale": False},
        {"programme": "tiny-cy", "district": "朝阳区", "days_since": 112, "stale": True},
    ]


def test_no_kpis_gives_an_empty_frame_with_the_columns(tiny_duck: Store) -> None:
    df = stale_data(tiny_duck, AS_OF, {})
    assert df.empty and tuple(df.columns) == STALE_COLUMNS


REPORTED = [
    {"id": f"rep-{x}", "measure": {"kind": "reported"}, "target": {"value": 5, "period": "year"}, "lead_unit": unit}
    for x, unit in (("old", "区商务局"), ("fresh", "区科委"), ("never", "区文化和旅游局"), ("edge", "区国资委"))
]


def report(kpi: str, day: dt.date, district: str = "通州区") -> dict:
    return {"kpi_id": kpi, "district": district, "period_end": day, "value": 1.0, "unit_name": "u"}


def test_reported_kpis_without_a_report_in_45_days(tiny_duck: Store) -> None:
    insert(
        tiny_duck,
        "progress_reports",
        [
            report("rep-old", D(2026, 9, 22)),  # 60 days before
            report("rep-fresh", D(2026, 9, 1)),
            report("rep-fresh", D(2026, 11, 1)),  # 20 days before
            report("rep-never", D(2026, 11, 15), district="朝阳区"),  # another district's report
            report("rep-edge", D(2026, 10, 7)),  # exactly 45 days before: still within
            report("rep-old", D(2026, 12, 31)),  # after as_of: not yet
        ],
    )
    df = stale_reported_kpis(tiny_duck, AS_OF, cats(REPORTED))
    got = {r["kpi_id"]: r for r in df.to_dict("records")}
    assert list(got) == ["rep-old", "rep-never"]
    assert got["rep-old"]["last_period_end"] == D(2026, 9, 22) and got["rep-old"]["days_since"] == 60
    assert got["rep-old"]["lead_unit"] == "区商务局" and got["rep-old"]["district"] == "通州区"
    assert got["rep-never"]["last_period_end"] is None and pd.isna(got["rep-never"]["days_since"])
    assert got["rep-never"]["lead_unit"] == "区文化和旅游局"
    # the record-type view of the same data: progress_reports last dated 1 November, 20 days
    p = by_type(stale_data(tiny_duck, AS_OF, cats(REPORTED)))["progress_reports"]
    assert p["days_since"] == 20 and bool(p["stale"]) is False
    assert p["lead_units"] == ["区商务局", "区科委", "区文化和旅游局", "区国资委"]
