"""Files as offices really send them (issue 12 item 4): legacy .xls, totals and notes rows at the foot, a data
sheet named after the record type behind an instructions sheet, dates and yes/no in the spellings offices use.
Each file is made like the real thing (tests/support.office_workbook): a merged title row, 序号, Chinese headers,
a 合计 row with summed numbers and blank ids, a 填表人 line, an instructions sheet first."""

from __future__ import annotations

import datetime as dt
import io
import time
from pathlib import Path
from typing import Any

import pytest
import xlwt

from metrics.contract.records import RECORD_TYPES
from metrics.ingest import parse_bytes, parse_file
from metrics.ingest.cells import parse_cell
from metrics.ingest.footer import foot_kind
from metrics.ingest.guard import GuardLimits, check_upload
from metrics.ingest.guard_xls import xls_shape
from metrics.ingest.worker import parse_isolated
from tests.support import PLACEMENT_HEAD, file_errors, office_workbook, placement_rows, write_csv

TODAY = dt.date(2026, 11, 20)
TITLE = "2026年3月就业安置记录（昌平区霍营街道）"


def parse(path: Path, record: str | None = None) -> Any:
    return parse_file(path, record, today=TODAY)


# --- legacy .xls -------------------------------------------------------------------------------------


def test_an_xls_file_reads_like_the_same_xlsx(tmp_path: Path) -> None:
    rows = placement_rows(12)
    xls = parse(office_workbook(tmp_path / "placements.xls", TITLE, PLACEMENT_HEAD, rows, sheet="就业安置记录"))
    xlsx = parse(office_workbook(tmp_path / "placements.xlsx", TITLE, PLACEMENT_HEAD, rows, sheet="就业安置记录"))
    assert xls.ok and xlsx.ok, (xls.errors, xlsx.errors)
    assert xls.table is not None and xlsx.table is not None
    assert xls.table.to_pylist() == xlsx.table.to_pylist()
    assert xls.row_numbers == xlsx.row_numbers == list(range(3, 15))  # title row 1, header row 2
    assert xls.warnings == xlsx.warnings == ["第15行为合计行，已跳过", "第17行为表尾说明，已跳过"]
    first = xls.table.to_pylist()[0]
    assert first["placement_id"] == "F00000" and first["placement_date"] == dt.date(2026, 3, 5)
    assert first["monthly_wage"] == 6000 and first["is_local"] is True and first["is_beijing_hukou"] is False


def test_an_xls_with_errors_names_rows_as_excel_shows_them(tmp_path: Path) -> None:
    rows = placement_rows(3)
    rows[1][2] = "浦东新区"
    rows[2][4] = "2026.13.05"
    parsed = parse(office_workbook(tmp_path / "placements.xls", TITLE, PLACEMENT_HEAD, rows, sheet="就业安置记录"))
    errors = file_errors(parsed)
    assert [(row, column) for row, column, _, _ in errors] == [(4, "所属区"), (5, "就业日期")]
    assert parsed.table is None


def test_an_xls_named_xlsx_or_csv_is_read_as_xls_with_a_warning(tmp_path: Path) -> None:
    path = office_workbook(tmp_path / "placements.xls", TITLE, PLACEMENT_HEAD, placement_rows(2), sheet="就业安置记录")
    for name in ("placements.xlsx", "placements.csv"):
        parsed = parse_bytes(path.read_bytes(), name, today=TODAY)
        assert parsed.ok and parsed.table is not None and parsed.table.num_rows == 2
        ext = Path(name).suffix
        assert parsed.warnings[0] == f"文件扩展名为 {ext}，但内容是旧版 Excel（.xls）工作簿，已按 .xls 读取"


def test_text_and_web_pages_named_xls(tmp_path: Path) -> None:
    # Some systems export tab-separated text or an HTML table and call it .xls.
    text = "\t".join(PLACEMENT_HEAD) + "\n" + "\t".join(str(v) for v in placement_rows(1)[0]) + "\n"
    parsed = parse_bytes(text.encode("gb18030"), "placements.xls", today=TODAY)
    assert parsed.ok and parsed.warnings == ["文件扩展名为 .xls，但内容是文本表格，已按 CSV 读取"]
    html = b"<html><body><table><tr><td>\xe5\xb0\xb1</td></tr></table></body></html>"
    [error] = parse_bytes(html, "placements.xls").errors
    assert error.message_zh.startswith("文件扩展名为 .xls，但内容是网页（HTML）表格，无法读取")


def test_a_password_protected_xlsx_still_says_password(tmp_path: Path) -> None:
    # Encrypted .xlsx files are OLE compound files too; they hold an EncryptedPackage, no Workbook stream.
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500) + "EncryptedPackage".encode("utf-16-le") + bytes(500)
    assert xls_shape(ole) is None and check_upload(ole, "placements.xlsx") is None
    for name in ("placements.xlsx", "placements.xls"):
        [error] = parse_isolated(ole, name).errors
        assert error.message_zh == "文件设置了打开密码，无法读取。请取消密码保护后重新上传"


def _far_cells(sheets: int) -> bytes:
    """A tiny .xls with a cell at IV65536 on each sheet: python-calamine would hold 65,536 × 256 cells per sheet."""
    wb = xlwt.Workbook()
    for k in range(sheets):
        ws = wb.add_sheet(f"s{k}")
        ws.write(0, 0, "a")
        ws.write(65535, 255, "far")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_the_xls_shape_counts_sheets_and_cells_from_the_records() -> None:
    shape = xls_shape(_far_cells(3))
    assert shape is not None and shape.sheets == 3
    assert shape.extents == ((65536, 256),) * 3 and shape.cells == 3 * 65536 * 256


def test_an_xls_whose_sheets_would_exhaust_memory_is_refused_before_reading(tmp_path: Path) -> None:
    data = _far_cells(2)  # 33.5 million cells from A1 on two sheets: over 30 million
    assert len(data) < 10_000
    refusal = check_upload(data, "placements.xls")
    assert refusal is not None
    assert refusal.message_zh.startswith(
        "文件过大或结构异常，已拒绝：旧版 Excel 工作簿的 2 个工作表共 33,554,432 个单元格"
    )
    started = time.monotonic()
    [error] = parse_isolated(data, "placements.xls").errors
    assert time.monotonic() - started < 10 and error.row is None
    assert error.message_zh == refusal.message_zh
    # one such sheet is within the limit (an .xls cannot be bigger than 65,536 × 256)
    assert check_upload(_far_cells(1), "placements.xls") is None
    few = check_upload(_far_cells(1), "placements.xls", GuardLimits(max_sheets=0))
    assert few is not None and "工作簿有 1 个工作表，超过上限 0 个" in few.message_zh


def test_an_xls_through_the_worker_gives_the_same_table(tmp_path: Path) -> None:
    path = office_workbook(tmp_path / "placements.xls", TITLE, PLACEMENT_HEAD, placement_rows(5), sheet="就业安置记录")
    inline, isolated = parse(path), parse_isolated(path, path.name, today=TODAY)
    assert isolated.ok and inline.table is not None and isolated.table is not None
    assert isolated.table.equals(inline.table) and isolated.warnings == inline.warnings


# --- totals and notes rows ----------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["合计", "合 计", "总计", "小计", "合计：", "合计（3月）", " 总  计 "])
def test_totals_words(word: str) -> None:
    assert foot_kind([None, word, 3, 12]) == "totals"
    assert foot_kind(["", "  ", word]) == "totals"


@pytest.mark.parametrize(
    "text", ["填表人：张三", "注：本表按月报送", "注1.", "审核人", "联系电话：123", "填报日期：2026-11-20"]
)
def test_notes_words(text: str) -> None:
    assert foot_kind([text]) == "note"


def test_a_numbered_totals_row() -> None:
    assert foot_kind([12, "合计", None, 30]) == "totals"  # 序号 numbered on into the totals row
    assert foot_kind([12, 13, "合计"]) is None and foot_kind([1.5, "合计"]) is None


@pytest.mark.parametrize("row", [["P001", "合计"], ["合计人数"], ["注意事项"], ["说明书编号A"], []])
def test_data_rows_are_no_foot(row: list[Any]) -> None:
    assert foot_kind(row) is None


def test_a_totals_row_with_blank_ids_and_summed_numbers_is_skipped_not_six_errors(tmp_path: Path) -> None:
    path = office_workbook(
        tmp_path / "placements.xlsx", TITLE, PLACEMENT_HEAD, placement_rows(4), sheet="就业安置记录", notes=False
    )
    parsed = parse(path)
    assert parsed.ok and parsed.table is not None and parsed.table.num_rows == 4
    assert parsed.warnings == ["第7行为合计行，已跳过"] and parsed.source_rows == 4


def test_a_totals_row_in_a_csv_and_blank_rows_after_it(tmp_path: Path) -> None:
    rows = [[str(v) for v in r] for r in placement_rows(2, day="2026-03-05")]
    total = ["总计", "", "", "", "", "", "", "", "", "", "", "", "", "12001"]
    path = write_csv(tmp_path / "placements.csv", PLACEMENT_HEAD, [*rows, total, [""] * 14, ["小计", "", "2"]])
    parsed = parse(path)
    assert parsed.ok and parsed.warnings == ["第4行为合计行，已跳过", "第6行为合计行，已跳过"]


def test_a_totals_row_in_the_middle_is_an_error_saying_it_must_be_last(tmp_path: Path) -> None:
    rows = placement_rows(4)
    middle = ["合计", *[None] * 12, 12001]
    path = office_workbook(
        tmp_path / "placements.xlsx", TITLE, PLACEMENT_HEAD, [*rows[:2], middle, *rows[2:]], sheet="就业安置记录"
    )
    parsed = parse(path)
    assert parsed.table is None
    errors = file_errors(parsed)
    # one error for the misplaced row (row 5: title, header, two rows; its 序号 3), none of "required value missing"
    assert errors == [
        (5, None, None, "合计行只能是数据的最后一行：其后还有数据行。请删除该合计行，或把它移到所有数据之后")
    ]


def test_a_notes_row_between_data_rows_is_read_as_data(tmp_path: Path) -> None:
    rows = [[str(v) for v in r] for r in placement_rows(2, day="2026-03-05")]
    path = write_csv(tmp_path / "placements.csv", PLACEMENT_HEAD, [rows[0], ["注：以下为补报"], rows[1]])
    assert [(row, column) for row, column, _, _ in file_errors(parse(path))][:1] == [(3, "人员编号")]


# --- which sheet ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("sheet", ["就业安置记录", "就业安置记录表", "2026年3月就业安置记录", "placements"])
def test_the_sheet_named_after_the_record_type_is_read_behind_instructions(tmp_path: Path, sheet: str) -> None:
    path = office_workbook(tmp_path / "placements.xls", TITLE, PLACEMENT_HEAD, placement_rows(2), sheet=sheet)
    parsed = parse(path)
    assert parsed.ok and parsed.table is not None and parsed.table.num_rows == 2
    assert not any("工作表" in w for w in parsed.warnings)


def test_every_record_type_is_found_by_its_chinese_name(tmp_path: Path) -> None:
    # Each title_zh of metrics/contract/records.py names a sheet; the header decides nothing here.
    for rt in RECORD_TYPES.values():
        head = [c.header_zh for c in rt.required_columns]
        path = office_workbook(tmp_path / f"{rt.name}.xlsx", rt.title_zh, head, [], sheet=rt.title_zh, totals=None)
        parsed = parse(path, rt.name)
        assert [e.message_zh for e in parsed.errors] == ["表头下没有数据行"], rt.name  # the sheet was found


def test_otherwise_the_sheet_holding_the_header_is_read_with_a_warning(tmp_path: Path) -> None:
    path = office_workbook(tmp_path / "placements.xlsx", TITLE, PLACEMENT_HEAD, placement_rows(2), sheet="3月")
    parsed = parse(path)
    assert parsed.ok and parsed.warnings[0] == "工作簿有 2 个工作表，已读取表头为「就业安置记录」的工作表「3月」"


# --- dates and yes/no as offices write them -------------------------------------------------------------

DATE_COLUMN = RECORD_TYPES["placements"].column("placement_date")
BOOL_COLUMN = RECORD_TYPES["placements"].column("is_local")


@pytest.mark.parametrize(
    "raw",
    ["2026.03.05", "2026.3.5", "20260305", 20260305, "2026-3-5 0:00:00", "2026/03/05 00:00", "２０２６．０３．０５"],
)
def test_date_spellings(raw: Any) -> None:
    assert parse_cell(DATE_COLUMN, raw, today=TODAY) == dt.date(2026, 3, 5)


@pytest.mark.parametrize(
    ("raw", "value"),
    [("√", True), ("✓", True), ("✔", True), ("有", True), ("×", False), ("✗", False), ("✘", False), ("无", False)],
)
def test_yes_no_spellings(raw: str, value: bool) -> None:
    assert parse_cell(BOOL_COLUMN, raw) is value
    assert parse_cell(BOOL_COLUMN, f" {raw} ") is value


@pytest.mark.parametrize("raw", ["x", "有的", "?"])
def test_other_marks_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="bool_format|Expected 是/否"):
        parse_cell(BOOL_COLUMN, raw)
