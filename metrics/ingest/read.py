"""Read an uploaded XLSX, XLS or CSV file into the validated rows of one record type.

Chooses the sheet or decodes the CSV, skips title rows down to the header row, maps Chinese or English
headers to the columns of metrics.contract.records, fills merged cells, and hands the rows to validate.py.
Bad user files never raise: each problem becomes a RowError in the returned ParsedFile. An optional column
that is not in the file is "not supplied": ParsedFile.absent_columns names it, and the import keeps what the
store holds for it (docs/data-contract.md).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import hashlib
import io
import itertools
import operator
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import charset_normalizer
import pyarrow as pa
from python_calamine import CalamineSheet, CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from metrics.contract.records import RECORD_TYPES, Column, RecordType
from metrics.ingest.footer import FootKind, foot_kind, split_foot
from metrics.ingest.guard import REFUSED_EN, REFUSED_ZH
from metrics.ingest.guard_xls import OLE_MAGIC as _OLE_MAGIC  # old .xls, and also any password-protected .xlsx
from metrics.ingest.validate import RowError, cell_text, validate_rows

__all__ = [
    "HEADER_SCAN_ROWS",
    "UPLOAD_EXTENSIONS",
    "ParsedFile",
    "RowError",
    "absent_note",
    "detect_record_type",
    "header_key",
    "parse_bytes",
    "parse_file",
]

HEADER_SCAN_ROWS = 30  # the header row must be among the first 30 rows
SEQUENCE_HEADER = "序号"  # a row-number column, ignored wherever it stands
XLSX_EXTENSIONS = (".xlsx", ".xlsm")
XLS_EXTENSION = ".xls"  # legacy Excel (BIFF8): python-calamine reads it like .xlsx
UPLOAD_EXTENSIONS = ("xlsx", "xls", "csv")  # what the upload page offers

_ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
_SAVE_AS_ZH = "请在 Excel 或 WPS 中另存为 .xlsx 或 .csv 后重新上传"
_SAVE_AS_EN = "save it as .xlsx or .csv in Excel or WPS and upload again"


class FileOutcome:
    """What a parsed file and an import report share: errors, and the note on optional columns left out."""

    record_type: str | None
    errors: list[RowError]
    absent_columns: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def absent_note_zh(self) -> str:
        """The note naming the optional columns the file left out (文件中没有以下选填列…); "" when none."""
        return absent_note(self.record_type, self.absent_columns)[0]

    @property
    def absent_note_en(self) -> str:
        return absent_note(self.record_type, self.absent_columns)[1]


@dataclass
class ParsedFile(FileOutcome):
    """One uploaded file, parsed and validated. `table` is None whenever `errors` is not empty."""

    file: str
    sha256: str
    record_type: str | None  # None when neither given nor inferable from the file name
    table: pa.Table | None  # the record type's columns in spec order, Arrow types per SQL_TYPES
    errors: list[RowError] = field(default_factory=list)  # every error in the file, sorted by row
    warnings: list[str] = field(default_factory=list)  # in Chinese, e.g. extra columns ignored
    source_rows: int = 0  # data rows read (title and blank rows skipped)
    row_numbers: list[int] = field(default_factory=list)  # Excel row / CSV line of each data row
    # Optional columns the file does not have, in spec order: not supplied, so the import keeps the stored
    # values (a column present with a blank cell does blank it). Their cells in `table` are null.
    absent_columns: list[str] = field(default_factory=list)


def absent_note(record: str | None, absent: Sequence[str]) -> tuple[str, str]:
    """The Chinese and English note that a file left optional columns out; ("", "") when it left none out."""
    if not absent or record is None:
        return "", ""
    rt = RECORD_TYPES[record]
    zh = "、".join(rt.column(c).header_zh for c in absent)
    en = ", ".join(absent)
    return (
        f"文件中没有以下选填列，库中已有的值保持不变：{zh}。新增记录的这些列为空。",
        f"Optional columns not in the file, stored values kept: {en}. New records leave them blank.",
    )


class _FileProblem(Exception):
    """A problem with the whole file; becomes one RowError with row None."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


# ---------------------------------------------------------------------------------------------------
# Record type from the file name


def detect_record_type(path: Path | str) -> str | None:
    """The record type a file name starts with: placements_2026-10.xlsx, 就业安置记录（10月）.csv → placements."""
    stem = unicodedata.normalize("NFKC", Path(path).stem).strip().lower().replace("-", "_")
    for rt in sorted(RECORD_TYPES.values(), key=lambda r: -len(r.name)):
        name = rt.name.lower()
        if stem.startswith(name) and not stem[len(name) : len(name) + 1].isalpha():
            return rt.name
    for rt in sorted(RECORD_TYPES.values(), key=lambda r: -len(r.title_zh)):
        if stem.startswith(unicodedata.normalize("NFKC", rt.title_zh)):
            return rt.name
    return None


# ---------------------------------------------------------------------------------------------------
# Header matching

_BRACKETS = str.maketrans({"[": "(", "]": ")", "【": "(", "】": ")", "〔": "(", "〕": ")", "{": "(", "}": ")"})
_HEADER_MARKS = re.compile(r"^[*※]+|[*※]+$|\((?:必填|选填|可选|非必填)\)$")


def header_key(label: Any) -> str:
    """A header cell reduced for matching: NFKC, no whitespace, one kind of bracket, lower case."""
    s = unicodedata.normalize("NFKC", cell_text(label))
    s = "".join(s.split()).translate(_BRACKETS).lower().replace("_", "")
    return _HEADER_MARKS.sub("", s)


@functools.cache
def _header_index(record: str) -> dict[str, str]:
    """header key → column name, from the English name, Chinese header and aliases of each column."""
    rt = RECORD_TYPES[record]
    index: dict[str, str] = {}
    for col in rt.columns:
        for label in (col.name, col.header_zh, *col.aliases):
            index.setdefault(header_key(label), col.name)
    for col in rt.columns:  # 合同期限（月） may arrive as 合同期限
        short = re.sub(r"\(.*?\)", "", header_key(col.header_zh))
        if short:
            index.setdefault(short, col.name)
    return index


def _matched_columns(rt: RecordType, row: Sequence[Any]) -> set[str]:
    index = _header_index(rt.name)
    return {index[k] for k in (header_key(c) for c in row if cell_text(c)) if k in index}


def _find_header(rt: RecordType, head: Sequence[Sequence[Any]]) -> int | None:
    required = {c.name for c in rt.required_columns}
    for r, row in enumerate(head[:HEADER_SCAN_ROWS]):
        if required <= _matched_columns(rt, row):
            return r
    return None


def _missing_columns_problem(rt: RecordType, head: Sequence[Sequence[Any]]) -> _FileProblem:
    required = [c for c in rt.required_columns]
    best: set[str] = set()
    for row in head[:HEADER_SCAN_ROWS]:
        found = _matched_columns(rt, row)
        if len(found & {c.name for c in required}) > len(best):
            best = found & {c.name for c in required}
    missing: list[Column] = [c for c in required if c.name not in best]
    zh = "缺少必填列：" + "、".join(f"{c.header_zh}（{c.name}）" for c in missing)
    en = "Missing required columns: " + ", ".join(f"{c.name} ({c.header_zh})" for c in missing)
    if not best:
        zh += f"。前 {HEADER_SCAN_ROWS} 行中未找到「{rt.title_zh}」的表头行"
        en += f"; no header row of {rt.name} in the first {HEADER_SCAN_ROWS} rows"
    for other in RECORD_TYPES.values():
        if other.name != rt.name and _find_header(other, head) is not None:
            zh += f"。该文件的表头看起来是「{other.title_zh}」（{other.name}），请确认记录类型"
            en += f"; the headers look like {other.name} ({other.title_zh}): check the record type"
            break
    return _FileProblem(zh, en)


def _column_letter(j: int) -> str:
    letters = ""
    j += 1
    while j:
        j, rem = divmod(j - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass
class _Layout:
    columns: dict[str, int]  # column name → position in the row
    headers: dict[str, str]  # column name → header text as in the file
    blank_header_positions: list[int]
    warnings: list[str]


def _layout(rt: RecordType, header_row: Sequence[Any]) -> _Layout:
    index = _header_index(rt.name)
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    extra: list[str] = []
    blank: list[int] = []
    for j, cell in enumerate(header_row):
        text = cell_text(cell)
        key = header_key(cell)
        if not key:
            blank.append(j)
        elif key == SEQUENCE_HEADER:
            continue
        elif key in index:
            name = index[key]
            if name in columns:
                first = columns[name]
                raise _FileProblem(
                    f"表头重复：第 {_column_letter(first)} 列「{headers[name]}」和第 {_column_letter(j)} 列"
                    f"「{text}」都对应“{rt.column(name).header_zh}”，请删除其中一列",
                    f"Duplicate header: columns {_column_letter(first)} ({headers[name]}) and "
                    f"{_column_letter(j)} ({text}) both mean {name}; delete one of them",
                )
            columns[name], headers[name] = j, text
        else:
            extra.append(text)
    warnings = ["已忽略未识别的列：" + "、".join(extra)] if extra else []
    return _Layout(columns, headers, blank, warnings)


# ---------------------------------------------------------------------------------------------------
# Reading the grid of cells


@dataclass
class _Grid:
    rows: list[list[Any]]
    line_numbers: list[int] | None = None  # CSV line of each row; None: row index + 1 (Excel)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # r0, c0, r1, c1 inclusive
    warnings: list[str] = field(default_factory=list)


def _choose_sheet(wb: CalamineWorkbook, rt: RecordType) -> tuple[CalamineSheet, list[str]]:
    """The sheet to read: one named after the record type (就业安置记录, placements; or a name holding it, such as
    10月就业安置记录表), else the first sheet whose first rows hold the record type's header (the first sheet is
    often 填表说明), else the first sheet; a warning says which when the workbook has several."""
    sheets = [
        (i, m.name)
        for i, m in enumerate(wb.sheets_metadata)
        if m.typ == SheetTypeEnum.WorkSheet and m.visible == SheetVisibleEnum.Visible
    ] or [(0, wb.sheet_names[0])]
    wanted = {header_key(rt.name), header_key(rt.title_zh)}
    for i, name in sheets:
        if header_key(name) in wanted:
            return wb.get_sheet_by_index(i), []
    for i, name in sheets:
        if any(w in header_key(name) for w in wanted):
            return wb.get_sheet_by_index(i), []
    first_index, first_name = sheets[0]
    if len(sheets) == 1:
        return wb.get_sheet_by_index(first_index), []
    for i, name in sheets:
        sheet = wb.get_sheet_by_index(i)
        if _find_header(rt, list(itertools.islice(sheet.iter_rows(), HEADER_SCAN_ROWS))) is not None:
            if i == first_index:
                break
            return sheet, [f"工作簿有 {len(sheets)} 个工作表，已读取表头为「{rt.title_zh}」的工作表「{name}」"]
    return wb.get_sheet_by_index(first_index), [f"工作簿有 {len(sheets)} 个工作表，已读取第一个工作表「{first_name}」"]


def _workbook_grid(data: bytes, rt: RecordType) -> _Grid:
    """An .xlsx, .xlsm or .xls workbook's chosen sheet (python-calamine reads each format alike)."""
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if not wb.sheet_names:
            raise _FileProblem("文件为空：工作簿中没有工作表", "The workbook has no worksheets")
        sheet, warnings = _choose_sheet(wb, rt)
        rows = sheet.to_python(skip_empty_area=False)
        merges = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])]
    except PasswordError:
        raise _password_problem() from None
    except (_FileProblem, MemoryError):  # out of memory is the worker's limit, not a damaged file
        raise
    except Exception as exc:  # any reader failure is a damaged user file, not our bug
        raise _FileProblem(
            f"文件已损坏或不是有效的 Excel 工作簿，无法读取。{_SAVE_AS_ZH}",
            f"The file is damaged or not a valid Excel workbook ({exc}); {_SAVE_AS_EN}",
        ) from None
    return _Grid(rows, None, merges, warnings)


def _password_problem() -> _FileProblem:
    return _FileProblem(
        "文件设置了打开密码，无法读取。请取消密码保护后重新上传",
        "The file is password-protected; remove the password and upload again",
    )


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise _FileProblem(
            "无法识别文件编码，请另存为 UTF-8 编码的 CSV 文件",
            "Unknown text encoding; save the file as UTF-8 CSV",
        )
    return str(best)


def _csv_records(text: str, delimiter: str, limit: int | None = None) -> tuple[list[list[Any]], list[int]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[Any]] = []
    lines: list[int] = []
    line = 1
    for record in itertools.islice(reader, limit):
        rows.append(record)
        lines.append(line)  # the line the record starts on
        line = reader.line_num + 1
    return rows, lines


def _csv_grid(data: bytes, rt: RecordType) -> _Grid:
    text = _decode(data)
    if "\x00" in text:
        raise _FileProblem(
            f"文件不是文本格式的 CSV（可能已损坏）。{_SAVE_AS_ZH}",
            f"The file is not a text CSV (possibly damaged); {_SAVE_AS_EN}",
        )
    try:
        delimiter = ","
        for candidate in (",", "\t", ";"):
            head, _ = _csv_records(text, candidate, HEADER_SCAN_ROWS)
            if _find_header(rt, head) is not None:
                delimiter = candidate
                break
        rows, lines = _csv_records(text, delimiter)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):  # the csv module's own cap on one cell (docs/uploads.md)
            limit = csv.field_size_limit()
            raise _FileProblem(
                f"{REFUSED_ZH}CSV 文件中有一个单元格超过 {limit:,} 个字符",
                f"{REFUSED_EN}a cell of the CSV file is longer than {limit:,} characters",
            ) from None
        raise _FileProblem(f"CSV 文件格式错误，无法读取（{exc}）", f"Malformed CSV file ({exc})") from None
    return _Grid(rows, lines)


def _read_grid(data: bytes, file_name: str, rt: RecordType) -> _Grid:
    if not data.strip():
        raise _FileProblem("文件为空", "The file is empty")
    ext = Path(file_name).suffix.lower()
    is_zip, is_ole = data.startswith(_ZIP_MAGIC), data.startswith(_OLE_MAGIC)
    if is_ole and _ENCRYPTED_MARK in data:
        raise _password_problem()
    if is_ole:  # a legacy .xls (python-calamine reads BIFF8 with the same rules as .xlsx), whatever its name
        grid = _workbook_grid(data, rt)
        if ext != ".xls":
            grid.warnings.insert(0, f"文件扩展名为 {ext or '（无）'}，但内容是旧版 Excel（.xls）工作簿，已按 .xls 读取")
        return grid
    if ext in XLSX_EXTENSIONS:
        if not is_zip:
            raise _FileProblem(
                f"文件已损坏或不是有效的 Excel 工作簿，无法读取。{_SAVE_AS_ZH}",
                f"The file is damaged or not a valid Excel workbook; {_SAVE_AS_EN}",
            )
        return _workbook_grid(data, rt)
    if ext in (".csv", XLS_EXTENSION) and is_zip:  # a renamed .xlsx: read it as what it is
        grid = _workbook_grid(data, rt)
        grid.warnings.insert(0, f"文件扩展名为 {ext}，但内容是 .xlsx 工作簿，已按 .xlsx 读取")
        return grid
    if ext == ".csv":
        return _csv_grid(data, rt)
    if ext == XLS_EXTENSION:
        if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):  # a web page saved as .xls by some systems
            raise _FileProblem(
                f"文件扩展名为 .xls，但内容是网页（HTML）表格，无法读取。{_SAVE_AS_ZH}",
                f"The file is named .xls but holds a web page (HTML table); {_SAVE_AS_EN}",
            )
        if b"\x00" not in data[:4096]:  # tab-separated text named .xls, as many systems export
            grid = _csv_grid(data, rt)
            grid.warnings.insert(0, "文件扩展名为 .xls，但内容是文本表格，已按 CSV 读取")
            return grid
        raise _FileProblem(
            f"文件已损坏或不是有效的 Excel 工作簿，无法读取。{_SAVE_AS_ZH}",
            f"The file is damaged or not a valid Excel workbook; {_SAVE_AS_EN}",
        )
    shown = ext or "（无扩展名）"
    raise _FileProblem(
        f"不支持的文件类型 {shown}，只接受 .xlsx、.xls 或 .csv 文件。{_SAVE_AS_ZH}",
        f"Unsupported file type {ext or '(none)'}; only .xlsx, .xls and .csv are accepted; {_SAVE_AS_EN}",
    )


# ---------------------------------------------------------------------------------------------------
# From the grid to row dicts


def _filled_head(grid: _Grid) -> list[list[Any]]:
    """The first rows with merged ranges filled, so a header merged over two rows still matches."""
    head = [list(r) for r in grid.rows[:HEADER_SCAN_ROWS]]
    for r0, c0, r1, c1 in grid.merges:
        if r0 < len(head) and c0 < len(head[r0]):
            value = head[r0][c0]
            for r in range(r0, min(r1, len(head) - 1) + 1):
                _fill(head[r], c0, c1, value)
    return head


def _fill(row: list[Any], c0: int, c1: int, value: Any) -> None:
    if len(row) <= c1:
        row.extend([""] * (c1 + 1 - len(row)))
    row[c0 : c1 + 1] = [value] * (c1 - c0 + 1)


def _is_blank(v: Any) -> bool:
    return v is None or (type(v) is str and (v == "" or v.isspace()))


def _data_rows(
    grid: _Grid, layout: _Layout, header: int
) -> tuple[list[dict[str, Any]], list[int], list[FootKind | None]]:
    """Row dicts (column name → raw cell) below the header, blank rows skipped, merged ranges filled; with each
    row, whether it is a totals or notes row (metrics.ingest.footer) by its first non-empty cell."""
    rows = grid.rows
    positions = list(layout.columns.items())
    # Blankness is judged before filling merges: a row that only a merged 所属区 reaches is still blank.
    blank_before_fill: set[int] = set()
    for r0, c0, r1, _ in grid.merges:
        if r1 <= header or r0 >= len(rows) or c0 >= len(rows[r0]):
            continue
        for r in range(max(r0, header + 1), min(r1, len(rows) - 1) + 1):
            if r != r0 and all(_is_blank(rows[r][j]) for _, j in positions if j < len(rows[r])):
                blank_before_fill.add(r)
    for r0, c0, r1, c1 in grid.merges:
        if r1 > header and r0 < len(rows) and c0 < len(rows[r0]):
            value = rows[r0][c0]
            for r in range(max(r0, header + 1), min(r1, len(rows) - 1) + 1):
                _fill(rows[r], c0, c1, value)

    dicts: list[dict[str, Any]] = []
    numbers: list[int] = []
    kinds: list[FootKind | None] = []
    lines = grid.line_numbers
    names = [name for name, _ in positions]
    width = max((j for _, j in positions), default=-1) + 1
    pick = operator.itemgetter(*(j for _, j in positions))
    for r in range(header + 1, len(rows)):
        row = rows[r]
        if len(row) < width:
            row = row + [""] * (width - len(row))
        values = pick(row) if len(names) > 1 else (pick(row),)
        if r in blank_before_fill or all(_is_blank(v) for v in values):
            continue
        dicts.append(dict(zip(names, values, strict=True)))
        numbers.append(lines[r] if lines is not None else r + 1)
        kinds.append(foot_kind(rows[r]))
    return dicts, numbers, kinds


def _leave_out_foot(
    rows: list[dict[str, Any]], numbers: list[int], kinds: list[FootKind | None], file_name: str
) -> tuple[list[dict[str, Any]], list[int], list[str], list[RowError]]:
    """The data rows without the totals and notes rows at their end (each with a warning); a totals row with data
    after it is an error of its own, and is not validated as data."""
    if not any(kinds):
        return rows, numbers, [], []
    foot = split_foot(kinds, numbers)
    errors: list[RowError] = []
    for i in foot.misplaced_totals:
        errors.append(
            RowError(
                file_name,
                numbers[i],
                None,
                None,
                "合计行只能是数据的最后一行：其后还有数据行。请删除该合计行，或把它移到所有数据之后",
                "A totals row (合计) must be the last row of the data; there are data rows after it. Delete it "
                "or move it below all the data",
            )
        )
    drop = foot.skipped | set(foot.misplaced_totals)
    kept = [i for i in range(len(rows)) if i not in drop]
    return [rows[i] for i in kept], [numbers[i] for i in kept], foot.warnings, errors


def _unlabelled_data_warning(grid: _Grid, layout: _Layout, header: int) -> list[str]:
    used = [
        j
        for j in layout.blank_header_positions
        if any(j < len(row) and not _is_blank(row[j]) for row in grid.rows[header + 1 :])
    ]
    if not used:
        return []
    return ["已忽略没有表头的列：" + "、".join(f"第 {_column_letter(j)} 列" for j in used)]


# ---------------------------------------------------------------------------------------------------
# Public entry points


def parse_file(
    path: Path | str,
    record_type: str | None = None,
    *,
    file_name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    today: dt.date | None = None,
) -> ParsedFile:
    """Parse and validate one upload from disk; the record type defaults to the one the file name starts with.

    `today` is the upload day, the latest date of things that have happened (default: metrics.storage.clock.today())."""
    path = Path(path)
    name = file_name or path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = "文件不存在" if isinstance(exc, FileNotFoundError) else "无法读取文件"
        rt_name = record_type or detect_record_type(name)
        return _whole_file_error(name, "", rt_name, f"{reason}：{path}", f"Cannot read {path}: {exc.strerror}")
    return parse_bytes(data, name, record_type, progress=progress, today=today)


def parse_bytes(
    data: bytes,
    file_name: str,
    record_type: str | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    today: dt.date | None = None,
) -> ParsedFile:
    """Parse and validate one upload held in memory (the app's file uploader); `today` as for parse_file."""
    sha256 = hashlib.sha256(data).hexdigest()
    name = record_type if record_type is not None else detect_record_type(file_name)
    if name not in RECORD_TYPES:
        known_zh = "、".join(f"{rt.name}（{rt.title_zh}）" for rt in RECORD_TYPES.values())
        known_en = ", ".join(RECORD_TYPES)
        if record_type is None:
            zh = (
                "无法从文件名判断记录类型，请选择记录类型，或让文件名以类型开头（如 placements_2026-10.xlsx）。"
                f"可选：{known_zh}"
            )
            en = (
                "Cannot tell the record type from the file name; choose one or start the file name with it "
                f"(placements_2026-10.xlsx). Known: {known_en}"
            )
        else:
            zh = f"未知的记录类型“{record_type}”。可选：{known_zh}"
            en = f"Unknown record type {record_type!r}. Known: {known_en}"
        return _whole_file_error(file_name, sha256, None, zh, en)
    rt = RECORD_TYPES[name]
    try:
        grid = _read_grid(data, file_name, rt)
        if not any(not _is_blank(v) for row in grid.rows for v in row):
            raise _FileProblem("文件为空：没有任何内容", "The file is empty")
        head = _filled_head(grid)
        header = _find_header(rt, head)
        if header is None:
            raise _missing_columns_problem(rt, head)
        layout = _layout(rt, head[header])
        rows, numbers, kinds = _data_rows(grid, layout, header)
        rows, numbers, foot_warnings, foot_errors = _leave_out_foot(rows, numbers, kinds, file_name)
        if not rows and not foot_errors:
            raise _FileProblem("表头下没有数据行", "There are no data rows below the header")
    except _FileProblem as problem:
        return _whole_file_error(file_name, sha256, rt.name, problem.zh, problem.en)
    warnings = grid.warnings + layout.warnings + _unlabelled_data_warning(grid, layout, header) + foot_warnings
    result = validate_rows(rt, rows, numbers, layout.headers, file_name, progress=progress, today=today)
    if foot_errors:
        result.errors = sorted([*result.errors, *foot_errors], key=lambda e: e.row or 0)
        result.table = None
    absent = [c.name for c in rt.columns if not c.required and c.name not in layout.columns]
    return ParsedFile(
        file=file_name,
        sha256=sha256,
        record_type=rt.name,
        table=result.table,
        errors=result.errors,
        warnings=warnings,
        source_rows=len(rows),
        row_numbers=numbers,
        absent_columns=absent,
    )


def _whole_file_error(file: str, sha256: str, record_type: str | None, zh: str, en: str) -> ParsedFile:
    return ParsedFile(file, sha256, record_type, None, [RowError(file, None, None, None, zh, en)])
