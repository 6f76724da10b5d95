"""Outlier warnings on upload: numbers in a file far from the district's own history (docs/uploads.md).

Modelled on DHIS2's outlier detection. Before a valid file is imported, two things are compared with what
the store already holds for the same district:

- **counts per street (or district) and month**: for each month the file has rows in, the number of records
  of that street after the import (the stored ones the file does not replace, plus the file's) against the
  same street's monthly counts over the 12 months before it: an outlier when its modified z-score
  0.6745 · (x − median) / MAD (Iglewicz and Hoaglin) is beyond Z_THRESHOLD *and* it is at least
  RATIO_THRESHOLD times the median (or at most its inverse), by the ratio alone when the history does not
  vary (MAD = 0);
- **amounts per subsidy measure** (补贴申请): each requested or approved amount against the catalogue's
  standard for that measure and quantity (a caller passes it in: the standard is metrics.reports', a
  package beside this one), and against the amounts of the same measure in the district over the last 12
  months, by the same two rules.

The thresholds are the constants below, and only here. A warning never refuses a file: the app imports it
once the user ticks that they have checked the warnings, `kpi import` with --accept-warnings, and the
warnings are stored with the upload and who accepted them (metrics.ingest.load).

>>> find_outliers(store, parsed)   # [] when nothing stands out or there is too little history
"""

from __future__ import annotations

import contextlib
import datetime as dt
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import duckdb
import pyarrow as pa

from metrics.contract.records import RECORD_TYPES, RecordType
from metrics.ingest.read import ParsedFile
from metrics.storage import changelog, clock
from metrics.storage.changelog import Action
from metrics.storage.store import Store

__all__ = [
    "AMOUNT_COLUMNS",
    "COUNT_MEASURES",
    "HISTORY_MONTHS",
    "MIN_COUNT",
    "MIN_HISTORY",
    "RATIO_THRESHOLD",
    "TOLERANCE_YUAN",
    "Z_CONSTANT",
    "Z_THRESHOLD",
    "AmountStandard",
    "Outlier",
    "Score",
    "find_outliers",
    "record_accepted",
    "score",
]

# ----------------------------------------------------------------------------------------------------
# The thresholds (docs/uploads.md, "Outlier warnings")

Z_CONSTANT = 0.6745  # makes the MAD of a normal distribution comparable to its standard deviation
Z_THRESHOLD = 3.5  # |modified z| above this is far from the history (Iglewicz and Hoaglin's value)
RATIO_THRESHOLD = 3.0  # and the value is at least 3 times the median, or at most a third of it; alone when MAD = 0
HISTORY_MONTHS = 12  # the months of history a month is compared with
MIN_HISTORY = 3  # fewer months (or amounts) of history than this: nothing is compared, no warning
MIN_COUNT = 20  # a month count is compared only if it or the median reaches this (small numbers swing)
TOLERANCE_YUAN = 0.5  # an amount within this of the catalogue standard is within it

# What each record type's monthly count is called in a warning; record types not here are not counted
# (progress reports and head counts as of a date are no flows).
COUNT_MEASURES: dict[str, tuple[str, str]] = {
    "placements": ("就业人数", "placements"),
    "trainings": ("培训人次", "trainees"),
    "applications": ("补贴申请数", "subsidy applications"),
    "events": ("活动场次", "events"),
    "vacancies": ("空岗信息条数", "vacancy records"),
    "disputes": ("受理案件数", "cases accepted"),
    "startups": ("新增创业主体数", "new businesses"),
    "graduate_followups": ("回访人数", "follow-ups"),
    "contract_returns": ("报表企业数", "enterprises reporting"),
    "survey_responses": ("问卷份数", "survey responses"),
}
AMOUNT_COLUMNS = ("amount_requested", "amount_approved")  # the amounts of 补贴申请 that are checked

# (district, measure code, quantity, year index, single person) → (the most the standard allows in yuan,
# the rule in Chinese, in English), or None when the measure is unknown or its standard has no figure.
AmountStandard = Callable[[str, str, float | None, int | None, bool], tuple[float, str, str] | None]

OutlierKind = Literal["count", "amount_standard", "amount_history"]


@dataclass(frozen=True)
class Score:
    """How one value compares with its history."""

    median: float
    mad: float  # median absolute deviation
    z: float | None  # the modified z-score; None when MAD = 0
    ratio: float | None  # value ÷ median; None when the median is 0
    flagged: bool


def score(value: float, history: Sequence[float], *, low_side: bool = True) -> Score | None:
    """The modified z-score of `value` against `history`, and whether it is an outlier: |z| > Z_THRESHOLD and at
    least RATIO_THRESHOLD times the median (or at most its inverse); the ratio alone when the history does not
    vary (MAD = 0). None when the history has fewer than MIN_HISTORY values (nothing to compare with). Without
    `low_side` only values above the median are flagged."""
    if len(history) < MIN_HISTORY:
        return None
    median = statistics.median(history)
    mad = statistics.median(abs(h - median) for h in history)
    ratio = value / median if median else None
    high = ratio is not None and ratio >= RATIO_THRESHOLD
    low = low_side and ratio is not None and ratio <= 1 / RATIO_THRESHOLD
    z = Z_CONSTANT * (value - median) / mad if mad > 0 else None
    if z is not None:  # far in z, and far enough to matter (a steady history makes a small change a large z)
        high, low = high and z > Z_THRESHOLD, low and z < -Z_THRESHOLD
    return Score(median, mad, z, ratio, high or low)


@dataclass(frozen=True)
class Outlier:
    """One warning: what stands out, by how much, and the message the user reads."""

    kind: OutlierKind
    subject: str  # a street (街道), a district, or an application's 申请编号
    period: dt.date | None  # the month of a count
    measure: str  # the count's name (就业人数) or the subsidy's measure code
    value: float
    reference: float  # the median of the history, or the standard's amount
    ratio: float | None
    z: float | None
    row: int | None  # the file's row, for an amount
    message_zh: str
    message_en: str

    @property
    def stored(self) -> tuple[object, ...]:
        """The fields as upload_warnings stores them, kind … message_en."""
        return (
            self.kind,
            self.subject,
            self.period,
            self.measure,
            self.value,
            self.reference,
            self.ratio,
            self.z,
            self.row,
            self.message_zh,
            self.message_en,
        )


def _number(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


def _times(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.1f}" if ratio >= 0.1 else f"{ratio:.2f}"


# ----------------------------------------------------------------------------------------------------
# Counts per street (or district) and month


def _group_columns(rt: RecordType) -> list[str]:
    return ["district", "street"] if "street" in rt.column_names else ["district"]


def _monthly_counts(
    store: Store, rt: RecordType, table: pa.Table, months: Sequence[dt.date]
) -> dict[tuple[tuple[str, ...], dt.date], int]:
    """(group, month) → records after the import, for the file's districts over its months and the 12 before."""
    group = _group_columns(rt)
    date = rt.date_column
    assert date is not None
    start = _add_months(min(months), -HISTORY_MONTHS)
    end = _add_months(max(months), 1)
    keys = list(rt.natural_key)
    on = " AND ".join(f"i.{k} = t.{k}" for k in keys)
    cols = ", ".join(group)
    # Names come from the record spec; every value is a bound parameter.
    sql = f"""
        WITH merged AS (
            SELECT {cols}, date_trunc('month', t.{date})::DATE AS month FROM {rt.name} t
            WHERE t.district IN (SELECT DISTINCT district FROM _outlier_file)
              AND t.{date} >= ? AND t.{date} < ?
              AND NOT EXISTS (SELECT 1 FROM _outlier_file i WHERE {on})
            UNION ALL
            SELECT {cols}, date_trunc('month', {date})::DATE AS month FROM _outlier_file
            WHERE {date} IS NOT NULL
        )
        SELECT {cols}, month, count(*) FROM merged GROUP BY ALL
    """  # noqa: S608
    file_table = table.select([*dict.fromkeys([*keys, *group, date])])
    with contextlib.closing(store.cursor()) as cur:
        cur.register("_outlier_file", file_table)
        try:
            rows = cur.execute(sql, [start, end]).fetchall()
        finally:
            cur.unregister("_outlier_file")
    return {(tuple(str(v) for v in r[:-2]), r[-2]): int(r[-1]) for r in rows}


def _add_months(month: dt.date, n: int) -> dt.date:
    m = month.year * 12 + month.month - 1 + n
    return dt.date(m // 12, m % 12 + 1, 1)


def _count_outliers(store: Store, rt: RecordType, table: pa.Table, today: dt.date) -> list[Outlier]:
    names = COUNT_MEASURES.get(rt.name)
    if names is None or rt.date_column is None or table.num_rows == 0:
        return []
    dates = [d for d in table.column(rt.date_column).to_pylist() if d is not None]
    if not dates:
        return []
    file_months = sorted({d.replace(day=1) for d in dates})
    counts = _monthly_counts(store, rt, table, file_months)
    group = _group_columns(rt)
    file_groups = {
        (tuple(str(v) for v in values[:-1]), values[-1].replace(day=1))
        for values in zip(*(table.column(c).to_pylist() for c in [*group, rt.date_column]), strict=True)
        if values[-1] is not None
    }
    this_month = today.replace(day=1)
    out: list[Outlier] = []
    for key, month in sorted(file_groups):
        value = counts.get((key, month), 0)
        history = [
            counts[(key, m)]
            for m in (_add_months(month, -k) for k in range(1, HISTORY_MONTHS + 1))
            if counts.get((key, m), 0) > 0
        ]
        # The month of the upload is still filling up: only a count far above its history is flagged.
        s = score(value, history, low_side=month < this_month)
        if s is None or not s.flagged or max(value, s.median) < MIN_COUNT:
            continue
        subject = key[-1]
        zh_name, en_name = names
        month_zh, month_en = f"{month.year}年{month.month}月", month.strftime("%Y-%m")
        z_en = f", modified z {s.z:.1f}" if s.z is not None else ", no spread in the history"
        out.append(
            Outlier(
                "count",
                subject,
                month,
                zh_name,
                value,
                s.median,
                s.ratio,
                s.z,
                None,
                f"{subject} {month_zh} {zh_name} {value:,}，为近{HISTORY_MONTHS}个月中位数的 {_times(s.ratio)} 倍",
                f"{subject} {month_en} {en_name} {value:,}: {_times(s.ratio)} times the median of the last "
                f"{HISTORY_MONTHS} months ({_number(s.median)}{z_en})",
            )
        )
    return out


# ----------------------------------------------------------------------------------------------------
# Amounts per subsidy measure


def _amount_history(store: Store, table: pa.Table, today: dt.date) -> dict[tuple[str, str], list[float]]:
    """(district, measure code) → the amounts (requested and approved) of the last 12 months in the store,
    the applications the file replaces left out."""
    start = _add_months(today.replace(day=1), -HISTORY_MONTHS)
    sql = """
        SELECT t.district, t.measure_code, a.amount FROM applications t,
            LATERAL (SELECT unnest([t.amount_requested, t.amount_approved]) AS amount) a
        WHERE t.district IN (SELECT DISTINCT district FROM _outlier_file)
          AND t.measure_code IN (SELECT DISTINCT measure_code FROM _outlier_file)
          AND t.submitted_date >= ? AND a.amount IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM _outlier_file i WHERE i.application_id = t.application_id)
    """
    history: dict[tuple[str, str], list[float]] = {}
    with contextlib.closing(store.cursor()) as cur:
        cur.register("_outlier_file", table.select(["application_id", "district", "measure_code"]))
        try:
            for district, code, amount in cur.execute(sql, [start]).fetchall():
                history.setdefault((str(district), str(code)), []).append(float(amount))
        finally:
            cur.unregister("_outlier_file")
    return history


def _amount_outliers(
    store: Store, table: pa.Table, row_numbers: Sequence[int], today: dt.date, standard: AmountStandard | None
) -> list[Outlier]:
    rt = RECORD_TYPES["applications"]
    history = _amount_history(store, table, today)
    rows = table.select(
        ["application_id", "district", "measure_code", "applicant_type", "quantity", "year_index", *AMOUNT_COLUMNS]
    ).to_pylist()
    out: list[Outlier] = []
    for i, r in enumerate(rows):
        line = row_numbers[i] if i < len(row_numbers) else None
        quantity = None if r["quantity"] is None else float(r["quantity"])
        allowed = (
            standard(r["district"], r["measure_code"], quantity, r["year_index"], r["applicant_type"] == "个人")
            if standard is not None
            else None
        )
        for column in AMOUNT_COLUMNS:
            if r[column] is None:
                continue
            amount = float(r[column])
            label = rt.column(column).header_zh.removesuffix("（元）")
            who = f"申请编号 {r['application_id']}（政策项目 {r['measure_code']}）"
            who_en = f"application {r['application_id']} (measure {r['measure_code']})"
            if allowed is not None and amount > allowed[0] + TOLERANCE_YUAN:
                ceiling, rule_zh, rule_en = allowed
                out.append(
                    Outlier(
                        "amount_standard",
                        str(r["application_id"]),
                        None,
                        str(r["measure_code"]),
                        amount,
                        ceiling,
                        amount / ceiling if ceiling else None,
                        None,
                        line,
                        f"{who}{label} {_number(amount)} 元，超过政策标准 {_number(ceiling)} 元（{rule_zh}）",
                        f"{who_en} {column} {_number(amount)} yuan is above the standard of {_number(ceiling)} "
                        f"yuan ({rule_en})",
                    )
                )
                continue
            s = score(amount, history.get((r["district"], r["measure_code"]), []))
            if s is None or not s.flagged:
                continue
            out.append(
                Outlier(
                    "amount_history",
                    str(r["application_id"]),
                    None,
                    str(r["measure_code"]),
                    amount,
                    s.median,
                    s.ratio,
                    s.z,
                    line,
                    f"{who}{label} {_number(amount)} 元，为近{HISTORY_MONTHS}个月同一政策项目金额中位数的 "
                    f"{_times(s.ratio)} 倍",
                    f"{who_en} {column} {_number(amount)} yuan: {_times(s.ratio)} times the median amount of the "
                    f"measure over the last {HISTORY_MONTHS} months ({_number(s.median)} yuan)",
                )
            )
    return out


# ----------------------------------------------------------------------------------------------------
# The entry point


def find_outliers(
    store: Store, parsed: ParsedFile, *, standard: AmountStandard | None = None, today: dt.date | None = None
) -> list[Outlier]:
    """The outlier warnings of a valid parsed file against the store's history ([] for a file with errors).

    `standard` gives the catalogue's subsidy standard (amounts above it are flagged); `today` is the upload
    day (default metrics.storage.clock.today()): the month it falls in is still open, so a low count in it
    is not flagged."""
    if not parsed.ok or parsed.table is None or parsed.record_type not in RECORD_TYPES:
        return []
    day = clock.today() if today is None else today
    rt = RECORD_TYPES[parsed.record_type]
    out = _count_outliers(store, rt, parsed.table, day)
    if rt.name == "applications":
        out += _amount_outliers(store, parsed.table, parsed.row_numbers, day, standard)
    return out


def record_accepted(
    cur: duckdb.DuckDBPyConnection, upload_id: int, outliers: Sequence[Outlier], accepted_by: str, at: dt.datetime
) -> None:
    """Keep the warnings an upload was imported with (upload_warnings), and one change-log row saying who accepted
    them, in the import's transaction (`cur`), so the audit trail shows both (docs/audit.md)."""
    if not outliers:
        return
    cur.executemany(
        "INSERT INTO upload_warnings (upload_id, kind, subject, period, measure, value, reference, ratio, z, "
        "file_row, message_zh, message_en, accepted_by, accepted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(upload_id, *o.stored, accepted_by, at) for o in outliers],
    )
    changelog.record(
        cur,
        accepted_by,
        "uploads",
        upload_id,
        Action.ACCEPT_WARNINGS,
        None,
        {"warnings": "；".join(o.message_zh for o in outliers), "warning_count": len(outliers)},
        upload_id=upload_id,
    )
