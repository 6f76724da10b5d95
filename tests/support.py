"""Helpers that several test modules use: rows into the store, a tiny catalogue, hand-made files, and the
brute-force attacker of disclosure control. Fixtures live in tests/conftest.py; browser helpers in
tests/browser_support.py. No test module imports another test module (tests/test_architecture.py)."""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa

from metrics.catalogue.models import Catalogue
from metrics.contract.records import RECORD_TYPES
from metrics.storage.store import Store

D = dt.date

# --------------------------------------------------------------------------- records and catalogues


def rows_to_table(record: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Fill absent columns with None so tests only spell out what matters."""
    cols = RECORD_TYPES[record].column_names
    return pa.Table.from_pylist([{c: r.get(c) for c in cols} for r in rows])


def insert(store: Store, record: str, rows: list[dict[str, Any]]) -> None:
    store.bulk_insert(record, rows_to_table(record, rows))


def tiny_programme(district: str = "通州区", valid_from: dt.date = D(2025, 1, 1), **more: Any) -> dict[str, Any]:
    """The programme block of a hand-made catalogue (`tiny`), valid to 2027 unless `more` says otherwise."""
    return {
        "id": "tiny",
        "title": "测试方案",
        "short_title_zh": "测试",
        "short_title_en": "Tiny",
        "issuer": "测试",
        "district": district,
        "valid_from": valid_from,
        **more,
    }


def tiny_catalogue(kpis: list[dict[str, Any]], district: str = "通州区") -> Catalogue:
    return Catalogue.model_validate(
        {
            "programme": tiny_programme(district, valid_to=D(2027, 12, 31)),
            "tasks": [{"id": "t1", "clause": "1", "title": "任务", "lead_units": ["区人力社保局"]}],
            "kpis": [
                {
                    "task": "t1",
                    "clause": "1",
                    "quote": "测试引文测试",
                    "name_zh": k["id"],
                    "name_en": k["id"],
                    "unit": "个",
                    "lead_unit": "区人力社保局",
                    **k,
                }
                for k in kpis
            ],
        }
    )


# --------------------------------------------------------------------------- a disputes ledger as CSV

DISPUTES_HEAD = ["序号", "案件编号", "所属区", "受理日期", "结案日期", "结案方式"]


def write_disputes_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    """A disputes ledger as departments send it: a title row, the header, then numbered rows."""
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["2026年劳动人事争议案件台账"])
        w.writerow(DISPUTES_HEAD)
        for i, r in enumerate(rows, 1):
            w.writerow([i, *r])
    return path


# --------------------------------------------------------------------------- hand-made workbooks

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="placements" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
SHEET_OPEN = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
HEADER_ROW = b'<row r="1"><c r="A1" t="inlineStr"><is><t>\xe5\xb0\xb1\xe4\xb8\x9a\xe8\xae\xb0\xe5\xbd\x95\xe7\xbc\x96\xe5\x8f\xb7</t></is></c></row>'  # 就业记录编号


def workbook(path: Path, sheet: Iterable[bytes], shared: Iterable[bytes] | None = None) -> Path:
    """A minimal XLSX whose one worksheet (named placements) and shared strings are written from chunks,
    streamed into the zip so a part of hundreds of MB never sits in this process whole."""
    parts: list[tuple[str, Iterable[bytes]]] = [("xl/worksheets/sheet1.xml", sheet)]
    content_types, workbook_rels = _CONTENT_TYPES, _WORKBOOK_RELS
    if shared is None:
        content_types = re.sub(r'<Override PartName="/xl/sharedStrings.xml"[^>]*/>', "", content_types)
        workbook_rels = re.sub(r'<Relationship Id="rId2"[^>]*/>', "", workbook_rels)
    else:
        parts.append(("xl/sharedStrings.xml", shared))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", content_types)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        for name, chunks in parts:
            with zf.open(name, "w") as part:
                for chunk in chunks:
                    part.write(chunk)
    return path


def shared_strings(text: Iterable[bytes]) -> Iterable[bytes]:
    """The shared strings part with one string, written from chunks."""
    yield b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
    yield b"<si><t>"
    yield from text
    yield b"</t></si></sst>"


def repeated(byte: bytes, total: int, chunk: int = 1 << 20) -> Iterable[bytes]:
    block = byte * chunk
    for _ in range(total // chunk):
        yield block


def far_cell(path: Path, *, dimension: bool) -> Path:
    """A header cell at A1 and one cell at XFD1048576, the last cell of a sheet: 1.5 KB that makes the reader
    allocate 1,048,576 × 16,384 cells (512 GB)."""
    dim = b'<dimension ref="A1:XFD1048576"/>' if dimension else b""
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    return workbook(path, [SHEET_OPEN, dim, b"<sheetData>", HEADER_ROW, far, b"</sheetData></worksheet>"])


def zip_bomb(path: Path, mb: int = 400) -> Path:
    """A worksheet padded with `mb` MB of spaces (whitespace between elements is legal XML): 400 KB on disk."""
    body = [SHEET_OPEN, b"<sheetData>", HEADER_ROW, b"</sheetData>", *repeated(b" ", mb << 20), b"</worksheet>"]
    return workbook(path, body)


def giant_cell(path: Path, *, inline: bool, mb: int = 300) -> Path:
    """One cell of `mb` million characters (the kind of file that parsed for minutes): 300 KB on disk."""
    text = repeated(b"x", mb << 20)
    if inline:
        cell = [b'<row r="2"><c r="A2" t="inlineStr"><is><t>', *text, b"</t></is></c></row>"]
        return workbook(path, [SHEET_OPEN, b"<sheetData>", HEADER_ROW, *cell, b"</sheetData></worksheet>"])
    cell = [b'<row r="2"><c r="A2" t="s"><v>0</v></c></row>']
    sheet = [SHEET_OPEN, b"<sheetData>", HEADER_ROW, *cell, b"</sheetData></worksheet>"]
    return workbook(path, sheet, shared_strings(text))


def long_shared_string(path: Path, chars: int = 100_000) -> Path:
    """One shared string of random Chinese characters, three times Excel's cell limit and barely
    compressible, so only the streamed length check catches it (300 KB of XML)."""
    rng = random.Random(9)
    text = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(chars)).encode()
    cell = [b'<row r="2"><c r="A2" t="s"><v>0</v></c></row>']
    sheet = [SHEET_OPEN, b"<sheetData>", HEADER_ROW, *cell, b"</sheetData></worksheet>"]
    return workbook(path, sheet, shared_strings([text]))


# --------------------------------------------------------------------------- disclosure control


def attacker_values(
    published: list[int | None], labels: list[str | None], threshold: int, total: int | None
) -> list[set[int]]:
    """Every value each cell can take, by brute force over integers, from what a reader sees.

    published[i] is the shown count or None; labels[i] is 'primary' ("<10": 1…T−1) or 'secondary' ("*": a
    hidden count ≥ T) for hidden cells. total is the published total, or None when the total is shown "<T".
    Independent of feasible_ranges: it enumerates reachable sums instead of using interval arithmetic.
    """
    totals = {total} if total is not None else set(range(1, threshold))
    known = sum(v for v in published if v is not None)
    cap = max(totals)
    domains = []
    for v, lab in zip(published, labels, strict=True):
        if v is not None:
            domains.append({v})
        elif lab == "primary":
            domains.append(set(range(1, threshold)))
        else:
            domains.append(set(range(threshold, cap + 1)))
    out = []
    for i in range(len(domains)):
        sums = {0}
        for j, d in enumerate(domains):
            if j != i and published[j] is None:
                sums = {s + x for s in sums for x in d if s + x <= cap}
        out.append(
            {x for x in domains[i] if any(t - known - x in sums for t in totals)}
            if published[i] is None
            else {published[i]}
        )  # type: ignore[arg-type]
    return out


# The `kpi compute --format json` contract as the README states it, spelled out independently of the engine.
JSON_CONTRACT = (
    "programme",
    "kpi_id",
    "actual",
    "target",
    "expected",
    "pace",
    "status",
    "window_start",
    "window_end",
    "numerator",
    "denominator",
)


# One valid placement row (通州区), for tests that upload, audit or back up a record.
PLACEMENT: dict[str, Any] = {
    "placement_id": "JY-1",
    "person_id": "P1",
    "district": "通州区",
    "street": "永顺镇",
    "placement_date": D(2026, 3, 2),
    "employer_id": "91110112MA198UW063",
    "employer_name": "北京示例科技有限公司",
    "channel": "招聘活动",
    "person_group": "高校毕业生",
    "is_local": True,
    "is_beijing_hukou": False,
    "contract_signed": True,
    "social_insurance": True,
    "monthly_wage": "6500.00",
}

# One recruitment fair (招聘会) in 通州区 on 2026-03-01: counts once toward tz-recruitment-events.
EVENT: dict[str, Any] = {
    "event_id": "E1",
    "district": "通州区",
    "event_type": "招聘会",
    "event_date": D(2026, 3, 1),
    "title": "t",
    "organiser": "o",
}


def write_csv(path: Path, head: list[str], rows: list[list[Any]]) -> Path:
    """A UTF-8 (with BOM) CSV: the header in line 1, data from line 2."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([head, *rows])
    return path


def file_errors(parsed: Any) -> list[tuple[int | None, str | None, str | None, str]]:
    """A refused file's errors as (row, column, value, Chinese message)."""
    assert parsed.table is None, "the file should have been refused"
    return [(e.row, e.column, e.value, e.message_zh) for e in parsed.errors]


# --------------------------------------------------------------------------- files as offices send them

INSTRUCTIONS = ["填表说明：1. 请勿修改表头；2. 日期填写为 2026-03-05；3. 是否类填 是/否。"]


def office_workbook(
    path: Path,
    title: str,
    head: list[str],
    rows: list[list[Any]],
    *,
    sheet: str,
    totals: str | None = "合 计",
    notes: bool = True,
    instructions: bool = True,
) -> Path:
    """A workbook made like an office's: an instructions sheet first (填表说明), then the data sheet `sheet` with a
    merged title row, a 序号 column, the Chinese `head`, the rows, a totals row (`totals` in the 序号 column, ids
    blank, every all-number column summed) and a 填表人 line. `.xls` is written by xlwt (BIFF8, as Excel 97–2003
    saves), `.xlsx` by openpyxl; dt.date cells become date cells."""
    width = len(head) + 1
    grid: list[list[Any]] = [[title], ["序号", *head]]
    grid += [[i, *r] for i, r in enumerate(rows, start=1)]
    if totals is not None:
        sums: list[Any] = [totals]
        for j in range(len(head)):
            column = [r[j] for r in rows]
            numeric = all(type(v) in (int, float) for v in column)
            sums.append(sum(column) if numeric and column else None)
        grid.append(sums)
    if notes:
        grid += [[], ["填表人：张三", None, "审核人：李四", None, "填报日期：2026年11月20日"]]
    if path.suffix == ".xls":
        import xlwt

        wb = xlwt.Workbook(encoding="utf-8")
        if instructions:
            wb.add_sheet("填表说明").write(0, 0, INSTRUCTIONS[0])
        ws = wb.add_sheet(sheet)
        date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
        ws.write_merge(0, 0, 0, width - 1, title)
        for r, row in enumerate(grid[1:], start=1):
            for c, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, dt.date):
                    ws.write(r, c, v, date_style)
                else:
                    ws.write(r, c, v)
        wb.save(str(path))
        return path
    import openpyxl

    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    if instructions:
        first.title = "填表说明"
        first.append(INSTRUCTIONS)
        data = book.create_sheet(sheet)
    else:
        first.title = sheet
        data = first
    for row in grid:
        data.append(row)
    data.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    for row in data.iter_rows(min_row=3):
        for cell in row:
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    book.save(path)
    return path


PLACEMENT_HEAD = [
    "就业记录编号",
    "人员编号",
    "所属区",
    "街道（乡镇）",
    "就业日期",
    "统一社会信用代码",
    "用人单位名称",
    "就业渠道",
    "人员类别",
    "是否本地人员",
    "是否本市户籍",
    "是否签订劳动合同",
    "是否参保",
    "月工资（元）",
]


def placement_rows(
    n: int, *, prefix: str = "F", district: str = "昌平区", street: str = "霍营街道", day: Any = None
) -> list[list[Any]]:
    """n placements as an office writes them: dates in the spellings offices use, √/×, 有/无, wages as numbers."""
    spellings = ["2026.03.05", "20260305", "2026-3-5 0:00:00", D(2026, 3, 5)]
    yes = ["是", "√", "有", "是"]
    no = ["否", "×", "无", "否"]
    return [
        [
            f"{prefix}{i:05d}",
            f"R{prefix}{i:05d}",
            district,
            street,
            spellings[i % 4] if day is None else day,
            "91110114MA01ABCD1X",
            "北京某某科技有限公司",
            "公共就业服务",
            "高校毕业生",
            yes[i % 4],
            no[i % 4],
            yes[(i + 1) % 4],
            yes[(i + 2) % 4],
            6000 + i,
        ]
        for i in range(n)
    ]
