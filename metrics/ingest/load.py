"""Write a validated upload into the store: one transaction, upsert by natural key, change log.

Counts new / changed / unchanged rows, records the upload with its SHA-256 and appends one change-log
row per inserted or changed record. A file whose rows are all unchanged writes nothing at all. An optional
column the file does not have keeps its stored values: the incoming rows take them from the stored records
before anything is compared, so the counts, the change log and the update all see the merged record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from metrics.contract.errors import KpiError
from metrics.contract.records import RECORD_TYPES, RecordType
from metrics.ingest.outliers import Outlier, record_accepted
from metrics.ingest.read import FileOutcome, ParsedFile, absent_note
from metrics.ingest.validate import RowError, cell_text, rule_message_en
from metrics.ingest.worker import parse_isolated
from metrics.storage import changelog, clock, rollup
from metrics.storage.changelog import Action
from metrics.storage.store import Store

__all__ = [
    "ImportReport",
    "KeptValuesConflict",
    "OutOfDistrict",
    "WarningsNotAccepted",
    "import_file",
    "import_parsed",
    "write_records",
]


class OutOfDistrict(KpiError):
    """An upload confined to one district holds rows of another, or would overwrite another district's records
    (same natural key, different district). Nothing is written; the uploads service turns this into a refusal.
    """

    def __init__(self, district: str, incoming: list[tuple[str, str]], existing: list[tuple[str, str]]):
        self.district = district
        self.incoming = incoming  # (natural key, district) of rows in the file outside `district`
        self.existing = existing  # (natural key, stored district) of records the file would overwrite
        super().__init__(f"rows outside {district}: {incoming[:5]}; other districts' records: {existing[:5]}")


class KeptValuesConflict(KpiError):
    """A stored value kept for a column the file does not have breaks a cross-column rule with the file's values
    (the file moves 开班日期 past the stored 结业日期). Nothing is written; import_parsed reports the errors."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(f"{len(errors)} row(s) break a rule with kept stored values")


class WarningsNotAccepted(KpiError, ValueError):
    """A file with outlier warnings (metrics.ingest.outliers) was to be imported without anyone accepting them.
    Nothing is written: the app imports it once the user ticks the confirmation, `kpi import` with
    --accept-warnings."""

    def __init__(self, outliers: list[Outlier]):
        self.outliers = outliers
        super().__init__(
            f"文件有 {len(outliers)} 条异常值提示，须确认后才能导入：{outliers[0].message_zh}",
            f"The file has {len(outliers)} outlier warning(s) to accept before it is imported: {outliers[0].message_en}",
        )


@dataclass
class ImportReport(FileOutcome):
    file: str
    record_type: str | None
    sha256: str
    rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    upload_id: int | None = None
    warnings: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    absent_columns: list[str] = field(default_factory=list)  # optional columns not in the file: stored values kept
    outliers: list[Outlier] = field(default_factory=list)  # the outlier warnings accepted (or, not ok: to accept)
    accepted_by: str | None = None  # who accepted them

    def summary_zh(self) -> str:
        if not self.ok and self.outliers:  # refused only for want of accepting its outlier warnings
            return f"{self.file}：有 {len(self.outliers)} 条异常值提示须确认，文件未导入，数据库未作任何更改。"
        if not self.ok:
            return f"{self.file}：发现 {len(self.errors)} 处错误，文件未导入，数据库未作任何更改。"
        if self.upload_id is None:
            text = f"{self.file}：{self.rows} 行均与库中一致，未作更改。"
        else:
            text = (
                f"{self.file}：导入 {self.rows} 行（新增 {self.new}，更新 {self.changed}，未变 {self.unchanged}），"
                f"上传编号 {self.upload_id}。"
            )
        return text + self.absent_note_zh

    def summary_en(self) -> str:
        if not self.ok and self.outliers:
            return (
                f"{self.file}: {len(self.outliers)} outlier warning(s) to accept; file not imported, nothing written."
            )
        if not self.ok:
            return f"{self.file}: {len(self.errors)} error(s); file rejected, nothing written."
        if self.upload_id is None:
            text = f"{self.file}: all {self.rows} rows unchanged; nothing written."
        else:
            text = (
                f"{self.file}: {self.rows} rows ({self.new} new, {self.changed} changed, "
                f"{self.unchanged} unchanged), upload {self.upload_id}."
            )
        note = self.absent_note_en
        return f"{text} {note}" if note else text


def _key_expr(rt: RecordType, alias: str) -> str:
    return "concat_ws('|', " + ", ".join(f"{alias}.{k}::VARCHAR" for k in rt.natural_key) + ")"


def write_records(
    store: Store,
    record: str,
    table: pa.Table,
    *,
    file_name: str,
    sha256: str,
    user: str,
    unit: str | None = None,
    district: str | None = None,
    warnings: list[str] | None = None,
    keep: Sequence[str] = (),
    row_numbers: Sequence[int] | None = None,
    outliers: Sequence[Outlier] = (),
    accepted_by: str | None = None,
    _before_commit: Callable[[], None] | None = None,
) -> tuple[int, int, int, int | None]:
    """Upsert validated rows in one transaction; returns (new, changed, unchanged, upload_id or None).

    `keep` names optional columns the file does not have: a row matching a stored record takes that record's
    values for them (a new record leaves them NULL), and the upload's stored warnings say so. If a kept value
    then breaks a cross-column rule, KeptValuesConflict is raised (its errors name `row_numbers`, the file
    row of each table row) and nothing is written.

    With `district` (a department's upload), every row must be of that district and may only replace records
    of that district; otherwise OutOfDistrict is raised and nothing is written. The check runs inside the
    write's transaction, so no other write can slip a record of another district in between.

    `outliers` are the file's outlier warnings, which `accepted_by` accepted: they are stored with the upload
    (upload_warnings, and a change-log row); WarningsNotAccepted without `accepted_by`, before anything is written.
    """
    if outliers and not accepted_by:
        raise WarningsNotAccepted(list(outliers))
    rt = RECORD_TYPES[record]
    cols = rt.column_names
    casts = ", ".join(f"CAST({c} AS {rt.column(c).sql_type}) AS {c}" for c in cols)
    on = " AND ".join(f"i.{k} = t.{k}" for k in rt.natural_key)
    differs = " OR ".join(f"i.{c} IS DISTINCT FROM t.{c}" for c in cols if c not in rt.natural_key) or "FALSE"
    probe = f"t.{rt.natural_key[0]}"
    # Table and column names below come from the record spec; every value is a bound parameter.
    keep = [c for c in cols if c in set(keep) and c not in rt.natural_key]
    if keep:
        table = table.append_column("_row", pa.array(range(table.num_rows), pa.int64()))
        casts += ", _row"
        warnings = [*(warnings or []), absent_note(rt.name, keep)[0]]
    with store.transaction() as cur:
        cur.register("_incoming_raw", table)
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _incoming AS SELECT {casts} FROM _incoming_raw")  # noqa: S608
        cur.unregister("_incoming_raw")
        if district is not None:
            _check_district(cur, rt, on, district)
        if keep:
            _keep_stored(cur, rt, on, keep, file_name, row_numbers)
        row = cur.execute(
            f"SELECT count(*) FILTER (WHERE {probe} IS NULL), "  # noqa: S608
            f"count(*) FILTER (WHERE {probe} IS NOT NULL AND ({differs})), count(*) "
            f"FROM _incoming i LEFT JOIN {rt.name} t ON {on}"
        ).fetchone()
        assert row is not None
        new, changed, total = int(row[0]), int(row[1]), int(row[2])
        unchanged = total - new - changed
        if new == 0 and changed == 0:
            cur.execute("DROP TABLE _incoming")
            return 0, 0, unchanged, None
        stamp = clock.now()
        got = cur.execute(
            "INSERT INTO uploads (uploaded_at, record_type, file_name, sha256, user_name, unit_name, district, "
            "row_count, new_rows, changed_rows, unchanged_rows, warnings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING upload_id",
            [stamp, rt.name, file_name, sha256, user, unit, district, total, new, changed, unchanged, warnings or []],
        ).fetchone()
        assert got is not None
        upload_id = int(got[0])
        record_accepted(cur, upload_id, outliers, accepted_by or user, stamp)
        new_struct = "to_json(struct_pack(" + ", ".join(f"{c} := i.{c}" for c in cols) + "))"
        old_struct = "to_json(struct_pack(" + ", ".join(f"{c} := t.{c}" for c in cols) + "))"
        changelog.record_select(
            cur,
            user,
            rt.name,
            key_sql=_key_expr(rt, "i"),
            action_sql=changelog.action_case(f"{probe} IS NULL", Action.INSERT, Action.UPDATE),
            old_sql=f"CASE WHEN {probe} IS NULL THEN NULL ELSE {old_struct} END",
            new_sql=new_struct,
            from_sql=f"_incoming i LEFT JOIN {rt.name} t ON {on} WHERE {probe} IS NULL OR ({differs})",
            upload_id=upload_id,
            at=stamp,
        )
        sets = ", ".join(f"{c} = i.{c}" for c in cols if c not in rt.natural_key)
        touched = rollup.touch(cur, rt.name, "_incoming")  # the days old and new rows fall on (docs/rollups.md)
        cur.execute(
            f"UPDATE {rt.name} AS t SET {sets}, upload_id = ? FROM _incoming i WHERE {on} AND ({differs})",  # noqa: S608
            [upload_id],
        )
        cur.execute(
            f"INSERT INTO {rt.name} ({', '.join(cols)}, upload_id) "  # noqa: S608
            f"SELECT {', '.join('i.' + c for c in cols)}, ? FROM _incoming i "
            f"WHERE NOT EXISTS (SELECT 1 FROM {rt.name} t WHERE {on})",
            [upload_id],
        )
        rollup.refresh(cur, touched)
        cur.execute("DROP TABLE _incoming")
        store.bump_data_version(cur)
        if _before_commit is not None:
            _before_commit()
    return new, changed, unchanged, upload_id


def _keep_stored(
    cur: duckdb.DuckDBPyConnection,
    rt: RecordType,
    on: str,
    keep: Sequence[str],
    file_name: str,
    row_numbers: Sequence[int] | None,
) -> None:
    """Give `_incoming` the stored values of the columns in `keep`, then check the rules that involve them."""
    sets = ", ".join(f"{c} = t.{c}" for c in keep)
    cur.execute(f"UPDATE _incoming AS i SET {sets} FROM {rt.name} AS t WHERE {on}")  # noqa: S608
    errors: list[tuple[int, RowError]] = []
    for rule in rt.rules:
        kept = next((c for c in (rule.column, rule.other) if c in keep), None)
        if kept is None:
            continue  # validation already checked this rule on the file's own values
        a, b = f"i.{rule.column}", f"i.{rule.other}"
        broken = {
            "not_before": f"{a} < {b}",
            "not_above": f"{a} > {b}",
            "required_if_set": f"{b} IS NOT NULL AND {a} IS NULL",
        }[rule.kind]
        found = cur.execute(
            f"SELECT i._row, i.{rule.column}, i.{kept} FROM _incoming i WHERE {broken} ORDER BY i._row LIMIT 1000"  # noqa: S608
        ).fetchall()
        header = rt.column(kept).header_zh
        for index, value, stored in found:
            row = row_numbers[index] if row_numbers is not None and index < len(row_numbers) else None
            zh = f"{rule.message_zh}（文件中没有「{header}」列，沿用库中已有的值 {cell_text(stored)}）"
            en = f"{rule_message_en(rule)} (the file has no {kept} column; the stored value {cell_text(stored)} was kept)"
            shown = rt.column(rule.column).header_zh
            errors.append((index, RowError(file_name, row, shown, cell_text(value), zh, en)))
    if errors:  # the caller's transaction rolls back
        errors.sort(key=lambda e: e[0])
        raise KeptValuesConflict([e for _, e in errors])


def _check_district(cur: duckdb.DuckDBPyConnection, rt: RecordType, on: str, district: str) -> None:
    """Raise OutOfDistrict if a row of `_incoming` is of another district or matches another district's record."""
    key = _key_expr(rt, "i")
    incoming = cur.execute(
        f"SELECT {key}, i.district FROM _incoming i WHERE i.district IS DISTINCT FROM ? ORDER BY 1 LIMIT 100",  # noqa: S608
        [district],
    ).fetchall()
    existing = cur.execute(
        f"SELECT {key}, t.district FROM _incoming i JOIN {rt.name} t ON {on} "  # noqa: S608
        "WHERE t.district IS DISTINCT FROM ? ORDER BY 1 LIMIT 100",
        [district],
    ).fetchall()
    if incoming or existing:  # the caller's transaction rolls back, temporary table included
        raise OutOfDistrict(district, [(str(k), str(d)) for k, d in incoming], [(str(k), str(d)) for k, d in existing])


def import_parsed(
    store: Store,
    parsed: ParsedFile,
    *,
    user: str,
    unit: str | None = None,
    district: str | None = None,
    outliers: Sequence[Outlier] = (),
    accepted_by: str | None = None,
) -> ImportReport:
    """Write a parsed file if it has no errors; a file with errors writes nothing.

    `district` confines the write to one district (see write_records; OutOfDistrict otherwise). `outliers` are
    the file's outlier warnings (metrics.ingest.outliers.find_outliers): with any, `accepted_by` must name who
    accepted them (WarningsNotAccepted otherwise), and they are stored with the upload."""
    report = ImportReport(
        parsed.file,
        parsed.record_type,
        parsed.sha256,
        warnings=list(parsed.warnings),
        absent_columns=list(parsed.absent_columns),
    )
    if parsed.errors or parsed.table is None or parsed.record_type is None:
        report.errors = list(parsed.errors)
        return report
    try:
        report.new, report.changed, report.unchanged, report.upload_id = write_records(
            store,
            parsed.record_type,
            parsed.table,
            file_name=parsed.file,
            sha256=parsed.sha256,
            user=user,
            unit=unit,
            district=district,
            warnings=parsed.warnings,
            keep=parsed.absent_columns,
            row_numbers=parsed.row_numbers,
            outliers=outliers,
            accepted_by=accepted_by,
        )
    except KeptValuesConflict as exc:
        report.errors = exc.errors
        return report
    report.rows = parsed.table.num_rows
    if report.upload_id is not None:
        report.outliers, report.accepted_by = list(outliers), accepted_by if outliers else None
    return report


def import_file(
    store: Store,
    path: Path | str,
    record_type: str | None = None,
    *,
    user: str,
    unit: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    today: dt.date | None = None,
) -> ImportReport:
    """Parse, validate whole, and write in one transaction (the `kpi import` path); `today` as for parse_file.

    The file is parsed in a limited worker process (metrics.ingest.worker, docs/uploads.md)."""
    path = Path(path)
    parsed = parse_isolated(path, path.name, record_type, progress=progress, today=today)
    return import_parsed(store, parsed, user=user, unit=unit)
