"""The seeded demo generator: deterministic, complete, valid under records.py, seasonal, and steered to
the status mix it promises (checked by hand-written computations, not by the engine)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from metrics.catalogue import load_catalogues
from metrics.contract.records import DISTRICTS, RECORD_TYPES
from metrics.demo.generate import (
    DEFAULT_AS_OF,
    DISTRICT_PROFILES,
    LUNAR_NEW_YEAR,
    DemoDatabaseExists,
    aimed_statuses,
    build_demo,
    credit_code_valid,
    generate,
)

SCALE = 0.02
AS_OF = DEFAULT_AS_OF
FOUR = {"昌平区", "通州区", "西城区", "海淀区"}


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return generate(seed=7, scale=SCALE)


@pytest.fixture(scope="module")
def medium() -> dict[str, pa.Table]:
    """Five times the small scale: enough placements for monthly counts to be steady."""
    return generate(seed=7, scale=SCALE * 5)


def col(table: pa.Table, name: str) -> list:
    return table.column(name).to_pylist()


def plain(table: pa.Table) -> pa.Table:
    """Dictionary-encoded text columns decoded, so tables compare by value."""
    return pa.table(
        {
            c: pc.cast(table.column(c), pa.string())
            if pa.types.is_dictionary(table.column(c).type)
            else table.column(c)
            for c in table.column_names
        }
    )


# --------------------------------------------------------------------------- shape and determinism


def test_same_seed_same_tables(tables: dict[str, pa.Table]) -> None:
    again = generate(seed=7, scale=SCALE)
    assert list(again) == list(tables)
    for name in tables:
        assert plain(again[name]).equals(plain(tables[name])), name


def test_other_seed_other_tables(tables: dict[str, pa.Table]) -> None:
    other = generate(seed=8, scale=SCALE)
    assert not plain(other["placements"]).equals(plain(tables["placements"]))


def test_every_record_type_present_non_empty_with_spec_columns(tables: dict[str, pa.Table]) -> None:
    assert list(tables) == list(RECORD_TYPES)
    for name, rt in RECORD_TYPES.items():
        assert tables[name].num_rows > 0, name
        assert tables[name].column_names == list(rt.column_names), name


ARROW_KIND = {
    "date": pa.types.is_date32,
    "month": pa.types.is_date32,
    "bool": pa.types.is_boolean,
    "int": lambda t: t == pa.int64(),
    "decimal": pa.types.is_float64,
    "amount": lambda t: t == pa.decimal128(18, 2),
}


def test_arrow_types_match_kinds(tables: dict[str, pa.Table]) -> None:
    for name, rt in RECORD_TYPES.items():
        for c in rt.columns:
            typ = tables[name].column(c.name).type
            if pa.types.is_dictionary(typ):
                typ = typ.value_type
            check = ARROW_KIND.get(c.kind, pa.types.is_string)
            assert check(typ), f"{name}.{c.name}: {typ} for kind {c.kind}"


# --------------------------------------------------------------------------- validity under records.py


def test_values_satisfy_the_contract(tables: dict[str, pa.Table]) -> None:
    for name, rt in RECORD_TYPES.items():
        t = tables[name]
        for c in rt.columns:
            where = f"{name}.{c.name}"
            column = t.column(c.name)
            if pa.types.is_dictionary(column.type):
                column = pc.cast(column, column.type.value_type)
            if c.required:
                assert column.null_count == 0, f"{where} has blanks"
            if column.null_count == len(column):
                continue
            distinct = set(pc.unique(column.drop_null()).to_pylist()) if pa.types.is_string(column.type) else set()
            if c.kind == "enum":
                assert distinct <= set(c.choices), f"{where}: {distinct - set(c.choices)}"
            if c.kind == "district":
                assert distinct <= set(DISTRICTS), where
            if c.length is not None:
                assert set(pc.unique(pc.utf8_length(column.drop_null())).to_pylist()) == {c.length}, where
            if c.kind == "text":
                assert all(v and v == v.strip() for v in distinct), where
            low, high = pc.min_max(column).values()
            if c.min_value is not None:
                assert float(low.as_py()) >= c.min_value, where
            if c.max_value is not None:
                assert float(high.as_py()) <= c.max_value, where
            if c.kind in ("date", "month"):
                assert dt.date(2022, 1, 1) <= low.as_py() and high.as_py() <= AS_OF, f"{where} outside 2022..as_of"
            if c.kind == "month":
                assert set(pc.unique(pc.day(column.drop_null())).to_pylist()) == {1}, where
        for rule in rt.rules:
            a, b = t.column(rule.column), t.column(rule.other)
            if rule.kind == "not_before":
                assert not pc.any(pc.less(a, b)).as_py(), rule.message_zh
            elif rule.kind == "not_above":
                assert not pc.any(pc.greater(a, b)).as_py(), rule.message_zh
            elif rule.kind == "required_if_set":
                assert not pc.any(pc.and_(pc.is_null(a), pc.is_valid(b))).as_py(), rule.message_zh


def test_natural_keys_are_unique(tables: dict[str, pa.Table]) -> None:
    for name, rt in RECORD_TYPES.items():
        keys = list(zip(*(col(tables[name], k) for k in rt.natural_key), strict=True))
        assert len(keys) == len(set(keys)), name


def test_codes_look_real(tables: dict[str, pa.Table]) -> None:
    employers = set(col(tables["placements"], "employer_id"))
    assert all(credit_code_valid(c) for c in employers | set(col(tables["startups"], "entity_id")))
    people = set(col(tables["placements"], "person_id")) | set(col(tables["trainings"], "person_id"))
    assert all(p[0] == "P" and p[1:].isdigit() and len(p) == 11 for p in people)
    assert all(c.startswith(("京昌", "京通", "京西", "京海")) for c in col(tables["disputes"], "case_id"))


def test_closure_method_set_exactly_when_closed(tables: dict[str, pa.Table]) -> None:
    d = tables["disputes"]
    assert all((a is None) == (b is None) for a, b in zip(col(d, "closed_date"), col(d, "closure_method"), strict=True))
    s = tables["startups"]
    pairs = zip(col(s, "guaranteed_loan_amount"), col(s, "loan_date"), strict=True)
    assert all((a is None) == (b is None) for a, b in pairs)


def test_application_statuses_carry_their_dates(tables: dict[str, pa.Table]) -> None:
    a = tables["applications"]
    for status, decision, paid, approved in zip(
        col(a, "status"), col(a, "decision_date"), col(a, "paid_date"), col(a, "amount_approved"), strict=True
    ):
        assert (decision is not None) == (status != "已受理")
        assert (paid is not None) == (status == "已拨付")
        assert (approved is not None) == (status in ("已审核", "已拨付"))


def test_applications_use_catalogue_subsidies_and_standards(medium: dict[str, pa.Table]) -> None:
    from metrics.catalogue import load_catalogues

    cats = load_catalogues()
    apps = medium["applications"]
    known = {(c.programme.district, s.id) for c in cats.values() for s in c.subsidies}
    assert set(zip(col(apps, "district"), col(apps, "measure_code"), strict=True)) == known
    # every subsidy of every programme has applications
    # a plain per-person standard: approved = amount × quantity for almost all, but not all
    std = {s.id: s for c in cats.values() for s in c.subsidies}
    flagged = total = 0
    for code, qty, approved in zip(
        col(apps, "measure_code"), col(apps, "quantity"), col(apps, "amount_approved"), strict=True
    ):
        s = std[code]
        if approved is None or s.amount is None or s.tiers or s.cap_amount or s.amount_is_minimum:
            continue
        if s.basis not in ("per_person", "per_person_month", "per_person_day", "per_person_class_hour"):
            continue
        total += 1
        flagged += abs(float(approved) - s.amount * qty) > 0.005
    assert total > 100
    assert 0.005 < flagged / total < 0.08


def test_four_districts_real_streets(tables: dict[str, pa.Table]) -> None:
    assert set(col(tables["placements"], "district")) == FOUR
    streets = set(col(tables["placements"], "street"))
    assert {
        "回龙观街道",
        "天通苑北街道",
        "中仓街道",
        "宋庄镇",
        "金融街街道",
        "什刹海街道",
        "中关村街道",
        "上地街道",
    } <= streets
    names = set(col(tables["communities"], "community_name"))
    assert "回龙观第一社区" in names


# --------------------------------------------------------------------------- seasonality and scale


def monthly(table: pa.Table, column: str, mask: list[bool] | None = None) -> Counter[tuple[int, int]]:
    days = col(table, column)
    return Counter((d.year, d.month) for i, d in enumerate(days) if mask is None or mask[i])


def test_spring_festival_month_is_quieter_than_the_next_two(medium: dict[str, pa.Table]) -> None:
    per_month = monthly(medium["placements"], "placement_date")
    for year in (2022, 2023, 2024, 2025, 2026):
        # the week after 春节 is the deepest lull; its month is the festival month
        m = (LUNAR_NEW_YEAR[year] + dt.timedelta(days=7)).month
        assert per_month[(year, m)] < per_month[(year, m + 1)], year
        assert per_month[(year, m)] < per_month[(year, m + 2)], year
        assert per_month[(year, m)] < sum(per_month[(year, k)] for k in range(1, 11)) / 10, year


def test_graduates_peak_in_june_to_august(medium: dict[str, pa.Table]) -> None:
    placements = medium["placements"]
    grads = [g == "高校毕业生" for g in col(placements, "person_group")]
    per_month = monthly(placements, "placement_date", grads)
    for year in (2023, 2024, 2025):
        average = sum(per_month[(year, m)] for m in range(1, 13)) / 12
        assert all(per_month[(year, m)] > average for m in (6, 7, 8)), year


def test_growth_year_on_year(tables: dict[str, pa.Table]) -> None:
    years = Counter(d.year for d in col(tables["placements"], "placement_date"))
    assert years[2022] < years[2023] < years[2024] < years[2025]


def test_scale_multiplies_record_level_tables(tables: dict[str, pa.Table], medium: dict[str, pa.Table]) -> None:
    bigger = medium
    for name in ("placements", "trainings", "applications"):
        ratio = bigger[name].num_rows / tables[name].num_rows
        assert 3.5 < ratio < 6.0, (name, ratio)
    assert bigger["events"].num_rows == tables["events"].num_rows
    assert 95_000 < generate(seed=7, scale=1.0)["placements"].num_rows < 105_000


# --------------------------------------------------------------------------- the status mix it aims for


def in_year(days: list[dt.date | None], year: int = AS_OF.year) -> list[bool]:
    return [d is not None and d.year == year and d <= AS_OF for d in days]


def test_tongzhou_record_level_kpis_land_where_aimed(tables: dict[str, pa.Table]) -> None:
    """Unscaled tables: the values of docs/kpi-semantics.md's examples hold at any scale."""
    tz = lambda t: t.filter(pc.equal(pc.cast(t.column("district"), pa.string()), "通州区"))  # noqa: E731
    share = (AS_OF - dt.date(2026, 1, 1)).days / 365
    events = tz(tables["events"])
    recruiting = [t in ("招聘会", "专场招聘", "直播带岗") for t in col(events, "event_type")]
    n_recruit = sum(r and y for r, y in zip(recruiting, in_year(col(events, "event_date")), strict=True))
    assert 280 <= n_recruit <= 290 and n_recruit / (300 * share) >= 0.95  # on track, near 285
    live_nov = sum(
        t == "直播带岗" and d.year == 2026 and d.month == 11
        for t, d in zip(col(events, "event_type"), col(events, "event_date"), strict=True)
    )
    assert live_nov >= 2  # achieved this month
    vac = tz(tables["vacancies"])
    positions = sum(p for p, y in zip(col(vac, "positions"), in_year(col(vac, "collected_date")), strict=True) if y)
    assert 0.80 <= positions / (40_000 * share) < 0.95  # at risk
    st = tz(tables["startups"])
    loans = sum(
        float(a) for a, y in zip(col(st, "guaranteed_loan_amount"), in_year(col(st, "loan_date")), strict=True) if y
    )
    assert 2.2e8 < loans < 2.4e8  # ≈ 2.5亿 a year
    insured = sum(in_year(col(st, "first_insured_date")))
    assert 0.95 <= insured / (4000 * share) < 1.0


def test_tongzhou_rates_land_where_aimed(tables: dict[str, pa.Table]) -> None:
    con = duckdb.connect()
    for name in ("contract_returns", "disputes"):
        con.register(name, plain(tables[name]))
    start, end = dt.date(2026, 1, 1), AS_OF
    params = {"district": "通州区", "window_start": start, "window_end": end}
    sql_dir = Path(__file__).resolve().parents[1] / "metrics" / "kpi" / "sql"
    rates = {}
    for f in ("contract_signing_rate", "dispute_closure_rate", "mediation_closure_rate"):
        sql = (sql_dir / f"{f}.sql").read_text(encoding="utf-8")
        num, den = con.execute(f"SELECT sum(numerator), sum(denominator) FROM ({sql})", params).fetchone()
        rates[f] = float(num) / float(den)
    assert 0.970 <= rates["contract_signing_rate"] <= 0.974  # at risk vs 98%
    assert 0.955 <= rates["dispute_closure_rate"] <= 0.965  # achieved vs 95%
    assert 0.575 <= rates["mediation_closure_rate"] <= 0.585  # off track vs 65%


def test_changping_local_hiring_ratio(tables: dict[str, pa.Table]) -> None:
    p = tables["placements"]
    rows = [
        (local, d)
        for local, d, proj, dist in zip(
            col(p, "is_local"), col(p, "placement_date"), col(p, "project_id"), col(p, "district"), strict=True
        )
        if proj is not None and dist == "昌平区" and d.year == 2026
    ]
    assert rows
    assert abs(sum(local for local, _ in rows) / len(rows) - 0.53) <= 0.5 / len(rows) + 1e-9  # exact up to rounding


def test_coverage_of_specialists_and_followups(tables: dict[str, pa.Table]) -> None:
    c = tables["communities"]
    latest = max(col(c, "as_of"))
    for district, want in (("通州区", 0.986), ("海淀区", 0.965), ("西城区", 1.0)):
        rows = [
            s
            for s, d, a in zip(col(c, "specialists"), col(c, "district"), col(c, "as_of"), strict=True)
            if d == district and a == latest
        ]
        assert abs(sum(s >= 1 for s in rows) / len(rows) - want) < 0.005, district
    g = tables["graduate_followups"]
    xc = [f for f, d in zip(col(g, "followed_up"), col(g, "district"), strict=True) if d == "西城区"]
    assert 0.985 <= sum(xc) / len(xc) < 0.995  # at risk vs 100%


def test_reported_kpis_follow_their_aims(tables: dict[str, pa.Table]) -> None:
    aims = aimed_statuses()
    reports = tables["progress_reports"]
    reported = set(col(reports, "kpi_id"))
    assert {k for k, s in aims.items() if s == "no_data"}.isdisjoint(reported)
    assert {"tz-affordable-rental-housing", "tz-gig-market-services"} <= reported
    series: dict[str, list[float]] = {}
    rows = zip(col(reports, "kpi_id"), col(reports, "period_end"), col(reports, "value"), strict=True)
    for kpi, _, value in sorted(rows):
        series.setdefault(kpi, []).append(value)
    assert series["tz-affordable-rental-housing"][-1] >= 1500  # achieved
    assert series["tz-incubated-enterprises"][-1] < 60 * 0.8 * (AS_OF - dt.date(2025, 1, 1)).days / 1095  # off track
    gig = series["tz-gig-market-services"]
    assert all(later >= earlier for earlier, later in zip(gig, gig[1:]))  # cumulative: never falls


def test_aimed_statuses_are_a_mix() -> None:
    aims = aimed_statuses()
    tz = Counter(s for k, s in aims.items() if k.startswith("tz-"))
    assert set(tz) == {"achieved", "on_track", "at_risk", "off_track", "no_data"}
    assert aims["tz-recruitment-events"] == "on_track"
    assert aims["tz-vacancies-collected"] == "at_risk"
    assert aims["tz-contract-signing-rate"] == "at_risk"
    assert aims["tz-dispute-closure-rate"] == "achieved"
    assert aims["tz-mediation-closure-rate"] == "off_track"
    assert aims["cp-project-local-hiring-ratio"] == "achieved"


def test_survey_only_for_tongzhou(tables: dict[str, pa.Table]) -> None:
    assert set(col(tables["survey_responses"], "district")) == {"通州区"}
    assert set(DISTRICT_PROFILES) == FOUR


# --------------------------------------------------------------------------- the database file


def test_build_demo_writes_what_it_returns(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    seen: list[str] = []
    counts = build_demo(db, seed=11, scale=SCALE, progress=lambda name, done, total: seen.append(name))
    assert seen == list(RECORD_TYPES)
    con = duckdb.connect(str(db), read_only=True)
    for name, rows in counts.items():
        assert rows > 0
        assert con.execute(f"SELECT count(*) FROM {name}").fetchone() == (rows,)  # noqa: S608 - spec names
    con.close()
    with pytest.raises(DemoDatabaseExists):
        build_demo(db, scale=SCALE)
    again = build_demo(db, seed=12, scale=SCALE, replace=True)
    assert again["placements"] > 0
    assert not list(tmp_path.glob("*.building*"))


def test_dictionary_columns_decode_to_spec_values(tables: dict[str, pa.Table]) -> None:
    street = tables["placements"].column("street")
    assert pa.types.is_dictionary(street.type)  # low-cardinality text is dictionary-encoded
    decoded = pc.cast(street, pa.string())
    assert decoded.null_count == 0
    known = {s.name for p in DISTRICT_PROFILES.values() for s in p.streets}
    assert set(pc.unique(decoded).to_pylist()) <= known


def test_aimed_statuses_follow_a_kpis_own_thresholds() -> None:
    """The demo steers by the engine's status rule (metrics.kpi.status), per-KPI overrides included:
    the vacancies KPI aims at pace 0.88, at risk by default."""
    cats = load_catalogues()
    pid = next(p for p, c in cats.items() if any(k.id == "tz-vacancies-collected" for k in c.kpis))

    def with_paces(on: float, risk: float) -> dict:
        cat = cats[pid]
        kpis = [
            k.model_copy(update={"target": k.target.model_copy(update={"on_track_pace": on, "at_risk_pace": risk})})
            if k.id == "tz-vacancies-collected" and k.target is not None
            else k
            for k in cat.kpis
        ]
        return {**cats, pid: cat.model_copy(update={"kpis": kpis})}

    assert aimed_statuses(cats)["tz-vacancies-collected"] == "at_risk"
    assert aimed_statuses(with_paces(0.85, 0.7))["tz-vacancies-collected"] == "on_track"
    assert aimed_statuses(with_paces(0.95, 0.9))["tz-vacancies-collected"] == "off_track"
