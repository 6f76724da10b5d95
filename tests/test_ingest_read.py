"""Reading uploads: file formats, sheets, title rows, headers, merged cells, encodings and bad files."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pytest
import xlsxwriter

import metrics.ingest
from metrics.contract.records import RECORD_TYPES
from metrics.ingest import ParsedFile, detect_record_type, errors_to_frame, parse_bytes, parse_file
from metrics.ingest.read import _header_index, header_key

D = dt.date
CR_HEAD = ["统一社会信用代码", "所属区", "街道（乡镇）", "报告月份", "职工人数", "签订劳动合同人数"]
CODE_A = "91110112MA01ABCD1X"
CODE_B = "91110112MA01ABCD2Y"
CODE_C = "91110112MA01ABCD3Z"


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[Any]],
    merges: Sequence[str] = (),
    *,
    title: str = "Sheet1",
    extra_sheets: Sequence[tuple[str, Sequence[Sequence[Any]]]] = (),
    first: bool = True,
) -> Path:
    """A workbook whose sheet `title` holds `rows` from A1 (None leaves a cell empty)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title if first else "说明"
    target = ws if first else wb.create_sheet(title)
    if not first:
        ws.append(["填表说明：请勿修改表头"])
    for row in rows:
        target.append(list(row))
    for ref in merges:
        target.merge_cells(ref)
    for name, other in extra_sheets:
        sheet = wb.create_sheet(name)
        for row in other:
            sheet.append(list(row))
    wb.save(path)
    return path


def write_csv(path: Path, rows: Sequence[Sequence[Any]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


def cr_rows() -> list[list[Any]]:
    return [
        [CODE_A, "朝阳区", "望京街道", "2026-10", 100, 98],
        [CODE_B, "朝阳区", "望京街道", "2026年10月", 20, 20],
    ]


def column(parsed: ParsedFile, name: str) -> list[Any]:
    assert parsed.table is not None, parsed.errors
    return parsed.table.column(name).to_pylist()


# --- record type from the file name -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("placements_2026-10.xlsx", "placements"),
        ("Placements 2026年10月.csv", "placements"),
        ("contract_returns-2026-10.xlsx", "contract_returns"),
        ("graduate_followups.csv", "graduate_followups"),
        ("就业安置记录（10月）.xlsx", "placements"),
        ("劳动合同签订情况报表2026年10月.xlsx", "contract_returns"),
        ("placementsx.xlsx", None),
        ("台账.xlsx", None),
    ],
)
def test_record_type_is_inferred_from_the_start_of_the_file_name(name: str, expected: str | None) -> None:
    assert detect_record_type(Path("/uploads") / name) == expected


def test_unknown_record_type_is_a_whole_file_error_listing_the_known_types(tmp_path: Path) -> None:
    parsed = parse_file(write_csv(tmp_path / "台账.csv", [CR_HEAD, *cr_rows()]))
    assert parsed.record_type is None and parsed.table is None
    [error] = parsed.errors
    assert error.row is None and error.column is None and error.file == "台账.csv"
    assert "无法从文件名判断记录类型" in error.message_zh
    assert all(name in error.message_zh and name in error.message_en for name in RECORD_TYPES)


def test_a_misspelt_record_type_is_a_whole_file_error(tmp_path: Path) -> None:
    parsed = parse_file(write_csv(tmp_path / "x.csv", [CR_HEAD, *cr_rows()]), "contract_return")
    [error] = parsed.errors
    assert "未知的记录类型“contract_return”" in error.message_zh and "contract_returns" in error.message_zh


# --- XLSX layout -----------------------------------------------------------------------------------------


def test_title_row_merged_across_columns_is_skipped(tmp_path: Path) -> None:
    rows = [["2026年10月劳动合同签订情况报表"], CR_HEAD, *cr_rows()]
    parsed = parse_file(write_xlsx(tmp_path / "contract_returns.xlsx", rows, ["A1:F1"]))
    assert parsed.errors == [] and parsed.warnings == []
    assert parsed.source_rows == 2 and parsed.row_numbers == [3, 4]
    assert parsed.table is not None and parsed.table.to_pylist() == [
        {
            "enterprise_id": CODE_A,
            "district": "朝阳区",
            "street": "望京街道",
            "report_month": D(2026, 10, 1),
            "employees": 100,
            "contracts_signed": 98,
        },
        {
            "enterprise_id": CODE_B,
            "district": "朝阳区",
            "street": "望京街道",
            "report_month": D(2026, 10, 1),
            "employees": 20,
            "contracts_signed": 20,
        },
    ]


def test_cells_merged_down_a_column_fill_every_row(tmp_path: Path) -> None:
    rows = [
        ["标题"],
        ["填报单位：区人力社保局"],
        CR_HEAD,
        [CODE_A, "通州区", "潞城镇", "2026-10", 10, 9],
        [CODE_B, None, "潞城镇", "2026-10", 10, 9],
        [CODE_C, None, None, "2026-10", 10, 9],
        [None, None, None, None, None, None],
    ]
    parsed = parse_file(write_xlsx(tmp_path / "contract_returns.xlsx", rows, ["A1:F1", "B4:B7", "C4:C6"]))
    assert column(parsed, "district") == ["通州区"] * 3
    assert column(parsed, "street") == ["潞城镇"] * 3
    assert parsed.row_numbers == [4, 5, 6]  # row 7 is blank apart from the merged 所属区: skipped


def test_header_merged_over_two_rows_still_matches(tmp_path: Path) -> None:
    rows = [
        ["统一社会信用代码", "所属区", "街道（乡镇）", "报告月份", "人数", None],
        [None, None, None, None, "职工人数", "签订劳动合同人数"],
        [CODE_A, "朝阳区", "望京街道", "2026-10", 100, 98],
    ]
    parsed = parse_file(write_xlsx(tmp_path / "contract_returns.xlsx", rows, ["A1:A2", "B1:B2", "C1:C2", "D1:D2"]))
    assert column(parsed, "employees") == [100] and parsed.row_numbers == [3]


def test_sequence_column_blank_rows_and_rows_with_only_a_sequence_number_are_skipped(tmp_path: Path) -> None:
    rows = [
        ["序号", *CR_HEAD],
        [1, CODE_A, "朝阳区", "望京街道", "2026-10", 100, 98],
        [None] * 7,
        ["  ", " ", None, None, None, None, None],
        [2, CODE_B, "朝阳区", "望京街道", "2026-10", 20, 20],
        [3, None, None, None, None, None, None],
    ]
    parsed = parse_file(write_xlsx(tmp_path / "contract_returns.xlsx", rows))
    assert parsed.errors == [] and parsed.warnings == []
    assert parsed.row_numbers == [2, 5] and parsed.source_rows == 2
    assert column(parsed, "enterprise_id") == [CODE_A, CODE_B]


def test_english_headers_in_any_order_give_the_spec_column_order(tmp_path: Path) -> None:
    rows = [
        ["contracts_signed", "Report_Month", "DISTRICT", "street", "employees", "enterprise id"],
        [98, "2026-10", "朝阳区", "望京街道", 100, CODE_A],
    ]
    parsed = parse_file(write_xlsx(tmp_path / "contract_returns.xlsx", rows))
    assert parsed.table is not None
    assert parsed.table.column_names == list(RECORD_TYPES["contract_returns"].column_names)
    assert parsed.table.to_pylist()[0] == {
        "enterprise_id": CODE_A,
        "district": "朝阳区",
        "street": "望京街道",
        "report_month": D(2026, 10, 1),
        "employees": 100,
        "contracts_signed": 98,
    }


def test_headers_match_after_normalising_brackets_spaces_marks_and_aliases(tmp_path: Path) -> None:
    rows = [
        ["*统一社会信用代码", " 所属区 ", "街道(乡镇)", "报告\n月份", "职工人数（必填）", "签订劳动合同 人数"],
        [CODE_A, "朝阳区", "望京街道", "2026-10", 100, 98],
    ]
    parsed = parse_file(write_xlsx(tmp_path / "contract_returns.xlsx", rows))
    assert column(parsed, "street") == ["望京街道"]
    alias = [["统一社会信用代码", "所属区", "乡镇街道", "报告月份", "职工人数", "签订劳动合同人数"], cr_rows()[0]]
    assert column(parse_file(write_xlsx(tmp_path / "contract_returns_2.xlsx", alias)), "street") == ["望京街道"]
    assert header_key("街道【乡镇】") == header_key("街道（乡镇）") == "街道(乡镇)"
    assert header_key("Report Month") == header_key("report_month") == "reportmonth"


def test_header_without_its_unit_in_brackets_matches(tmp_path: Path) -> None:
    head = ["申请编号", "所属区", "政策项目代码", "申请主体类型", "申请主体编号", "申请日期", "申请金额", "状态"]
    rows = [head, ["A1", "海淀区", "M01", "个人", "P1", "2026-03-01", "1,000元", "已受理"]]
    parsed = parse_file(write_xlsx(tmp_path / "applications.xlsx", rows))
    assert column(parsed, "amount_requested") == [Decimal("1000.00")]


def test_extra_columns_are_ignored_with_a_warning_naming_them(tmp_path: Path) -> None:
    rows = [[*CR_HEAD, "备注", "联系人"], [*cr_rows()[0], "已核实", "张三"]]
    parsed = parse_file(write_xlsx(tmp_path / "contract_returns.xlsx", rows))
    assert parsed.errors == [] and parsed.table is not None and parsed.table.num_columns == 6
    assert parsed.warnings == ["已忽略未识别的列：备注、联系人"]


def test_data_in_a_column_without_header_is_reported_as_ignored(tmp_path: Path) -> None:
    rows = [[*CR_HEAD, None], [*cr_rows()[0], "手写备注"]]
    parsed = parse_file(write_xlsx(tmp_path / "contract_returns.xlsx", rows))
    assert parsed.ok and parsed.warnings == ["已忽略没有表头的列：第 G 列"]


def test_missing_required_column_rejects_the_file_naming_it(tmp_path: Path) -> None:
    head = [h for h in CR_HEAD if h != "报告月份"]
    rows = [["标题"], head, [CODE_A, "朝阳区", "望京街道", 100, 98]]
    parsed = parse_file(write_xlsx(tmp_path / "contract_returns.xlsx", rows, ["A1:E1"]))
    assert parsed.table is None and parsed.source_rows == 0
    [error] = parsed.errors
    assert error.row is None and error.column is None and error.value is None
    assert error.message_zh == "缺少必填列：报告月份（report_month）"
    assert error.message_en == "Missing required columns: report_month (报告月份)"


def test_missing_optional_columns_are_null(tmp_path: Path) -> None:
    head = ["案件编号", "所属区", "受理日期"]
    parsed = parse_file(write_xlsx(tmp_path / "disputes.xlsx", [head, ["C1", "通州区", "2026-01-05"]]))
    assert parsed.table is not None
    assert parsed.table.to_pylist() == [
        {
            "case_id": "C1",
            "district": "通州区",
            "accepted_date": D(2026, 1, 5),
            "closed_date": None,
            "closure_method": None,
        }
    ]


def test_header_below_row_30_is_not_found(tmp_path: Path) -> None:
    rows = [[f"说明 {i}"] for i in range(30)] + [CR_HEAD, cr_rows()[0]]
    parsed = parse_file(write_xlsx(tmp_path / "contract_returns.xlsx", rows))
    [error] = parsed.errors
    assert error.message_zh.startswith("缺少必填列：统一社会信用代码（enterprise_id）、所属区（district）")
    assert "前 30 行中未找到「劳动合同签订情况报表」的表头行" in error.message_zh


def test_headers_of_another_record_type_are_named_in_the_error(tmp_path: Path) -> None:
    rows = [["案件编号", "所属区", "受理日期"], ["C1", "通州区", "2026-01-05"]]
    [error] = parse_file(write_xlsx(tmp_path / "contract_returns.xlsx", rows)).errors
    assert "该文件的表头看起来是「劳动人事争议案件」（disputes）" in error.message_zh


def test_two_columns_for_the_same_field_reject_the_file(tmp_path: Path) -> None:
    rows = [[*CR_HEAD, "街道"], [*cr_rows()[0], "望京"]]
    [error] = parse_file(write_xlsx(tmp_path / "contract_returns.xlsx", rows)).errors
    assert error.row is None
    assert error.message_zh.startswith("表头重复：第 C 列「街道（乡镇）」和第 G 列「街道」")


def test_a_sheet_named_after_the_record_type_is_preferred(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "contract_returns.xlsx", [CR_HEAD, *cr_rows()], title="劳动合同签订情况报表", first=False
    )
    parsed = parse_file(path)
    assert column(parsed, "enterprise_id") == [CODE_A, CODE_B] and parsed.warnings == []
    english = write_xlsx(tmp_path / "x.xlsx", [CR_HEAD, cr_rows()[0]], title="Contract_Returns", first=False)
    assert column(parse_file(english, "contract_returns"), "employees") == [100]


def test_otherwise_the_first_sheet_is_read_with_a_warning(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "contract_returns.xlsx", [CR_HEAD, *cr_rows()], title="十月", extra_sheets=[("九月", [["x"]])]
    )
    parsed = parse_file(path)
    assert column(parsed, "employees") == [100, 20]
    assert parsed.warnings == ["工作簿有 2 个工作表，已读取第一个工作表「十月」"]


def test_excel_date_cells_and_serials_become_dates(tmp_path: Path) -> None:
    head = ["案件编号", "所属区", "受理日期", "结案日期", "结案方式"]
    rows = [
        head,
        ["C1", "通州区", dt.date(2026, 3, 1), dt.datetime(2026, 3, 5, 0, 0), "调解"],
        ["C2", "通州区", 46082, 46082.0, "调解"],
        ["C3", "通州区", "2026年3月1日", None, None],
    ]
    parsed = parse_file(write_xlsx(tmp_path / "disputes.xlsx", rows))
    assert column(parsed, "accepted_date") == [D(2026, 3, 1)] * 3
    assert column(parsed, "closed_date") == [D(2026, 3, 5), D(2026, 3, 1), None]


def test_month_column_accepts_excel_dates_and_texts(tmp_path: Path) -> None:
    months = ["2026-10", "2026/10", "2026年10月", dt.date(2026, 10, 15), dt.datetime(2026, 10, 1), 46296, "2026-10-31"]
    rows = [CR_HEAD] + [[f"91110112MA01ABC{i:03d}", "朝阳区", "望京街道", m, 1, 1] for i, m in enumerate(months)]
    parsed = parse_file(write_xlsx(tmp_path / "contract_returns.xlsx", rows))
    assert column(parsed, "report_month") == [D(2026, 10, 1)] * len(months)


def test_booleans_from_excel_cells_and_texts(tmp_path: Path) -> None:
    head = ["人员编号", "所属区", "毕业年份", "是否已回访"]
    values = [True, False, "是", "否", " 是 ", "Y", "n", 1, 0, "true", "FALSE"]
    rows = [head] + [[f"P{i}", "海淀区", 2025, v] for i, v in enumerate(values)]
    parsed = parse_file(write_xlsx(tmp_path / "graduate_followups.xlsx", rows))
    assert column(parsed, "followed_up") == [True, False, True, False, True, True, False, True, False, True, False]


def test_error_rows_are_excel_row_numbers(tmp_path: Path) -> None:
    rows = [
        ["2026年10月劳动合同签订情况报表"],
        CR_HEAD,
        [CODE_A, "朝阳区", "望京街道", "2026-10", 100, 98],
        [CODE_B, "朝阳区", "望京街道", "2026-10", 20, 20],
        [CODE_C, "朝阳区", "望京街道", "十月", 20, 20],
    ]
    parsed = parse_file(write_xlsx(tmp_path / "contract_returns.xlsx", rows, ["A1:F1"]))
    assert parsed.table is None and parsed.source_rows == 3
    [error] = parsed.errors
    assert (error.file, error.row, error.column, error.value) == ("contract_returns.xlsx", 5, "报告月份", "十月")
    assert error.message_zh == "月份格式无法识别，请使用 2026-10 或 2026年10月"


def test_data_away_from_cell_a1_is_found(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for i, row in enumerate([CR_HEAD, cr_rows()[0]]):
        for j, v in enumerate(row):
            ws.cell(row=4 + i, column=3 + j, value=v)
    wb.save(tmp_path / "contract_returns.xlsx")
    parsed = parse_file(tmp_path / "contract_returns.xlsx")
    assert column(parsed, "enterprise_id") == [CODE_A] and parsed.row_numbers == [5]


def test_xlsx_written_by_xlsxwriter_with_shared_strings_and_date_formats(tmp_path: Path) -> None:
    path = tmp_path / "disputes.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("disputes")
    ws.merge_range(0, 0, 0, 2, "争议案件")
    ws.write_row(1, 0, ["案件编号", "所属区", "受理日期"])
    ws.write_row(2, 0, ["C1", "延庆区"])
    ws.write_datetime(2, 2, dt.datetime(2026, 3, 1), wb.add_format({"num_format": "yyyy年m月d日"}))
    wb.close()
    parsed = parse_file(path)
    assert column(parsed, "accepted_date") == [D(2026, 3, 1)] and parsed.row_numbers == [3]


# --- CSV ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "contract_returns.csv", [["劳动合同签订情况报表"], CR_HEAD, *cr_rows()], encoding)
    parsed = parse_file(path)
    assert parsed.errors == []
    assert column(parsed, "district") == ["朝阳区", "朝阳区"] and column(parsed, "street") == ["望京街道"] * 2
    assert parsed.row_numbers == [3, 4]


def test_gb18030_bytes_are_really_gb18030(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "contract_returns.csv", [CR_HEAD, *cr_rows()], "gb18030")
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert column(parse_file(path), "report_month") == [D(2026, 10, 1)] * 2


def test_csv_rows_are_line_numbers_even_with_a_multiline_cell(tmp_path: Path) -> None:
    head = ["活动编号", "所属区", "活动类型", "活动日期", "活动名称", "主办单位"]
    rows = [
        head,
        ["E1", "西城区", "招聘会", "2026-03-01", "春风行动\n专场", "区人力社保局"],
        ["E2", "西城区", "招聘会", "2026-03-32", "夏季招聘", "区人力社保局"],
    ]
    parsed = parse_file(write_csv(tmp_path / "events.csv", rows))
    [error] = parsed.errors
    assert (error.row, error.column, error.value) == (4, "活动日期", "2026-03-32")
    assert parsed.row_numbers == [2, 4]


def test_tab_separated_csv(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "contract_returns.csv", [CR_HEAD, *cr_rows()], delimiter="\t")
    assert column(parse_file(path), "employees") == [100, 20]


def test_csv_with_short_rows_treats_missing_cells_as_blank(tmp_path: Path) -> None:
    rows = [["案件编号", "所属区", "受理日期", "结案日期", "结案方式"], ["C1", "通州区", "2026-01-05"]]
    assert column(parse_file(write_csv(tmp_path / "disputes.csv", rows)), "closed_date") == [None]


def test_progress_is_reported_every_few_thousand_rows(tmp_path: Path) -> None:
    rows = [["案件编号", "所属区", "受理日期"]] + [[f"C{i}", "通州区", "2026-01-05"] for i in range(12_000)]
    calls: list[tuple[int, int]] = []
    parsed = parse_file(
        write_csv(tmp_path / "disputes.csv", rows), progress=lambda done, total: calls.append((done, total))
    )
    assert parsed.ok and parsed.source_rows == 12_000
    assert calls == [(0, 12_000), (5000, 12_000), (10_000, 12_000), (12_000, 12_000)]


# --- bad files ------------------------------------------------------------------------------------------


def only_error(parsed: ParsedFile) -> str:
    assert parsed.table is None and parsed.source_rows == 0
    [error] = parsed.errors
    assert error.row is None and error.column is None
    return error.message_zh


def test_corrupt_xlsx(tmp_path: Path) -> None:
    (tmp_path / "contract_returns.xlsx").write_bytes(b"this is not a workbook at all")
    assert only_error(parse_file(tmp_path / "contract_returns.xlsx")).startswith("文件已损坏或不是有效的 Excel 工作簿")


def test_truncated_xlsx(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "contract_returns.xlsx", [CR_HEAD, *cr_rows()])
    path.write_bytes(path.read_bytes()[:600])
    assert only_error(parse_file(path)).startswith("文件已损坏或不是有效的 Excel 工作簿")


def test_password_protected_xlsx(tmp_path: Path) -> None:
    # An encrypted .xlsx is an OLE compound file holding an "EncryptedPackage" stream.
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500) + "EncryptedPackage".encode("utf-16-le") + bytes(500)
    (tmp_path / "contract_returns.xlsx").write_bytes(ole)
    assert (
        only_error(parse_file(tmp_path / "contract_returns.xlsx"))
        == "文件设置了打开密码，无法读取。请取消密码保护后重新上传"
    )


def test_a_damaged_ole_file_is_reported_as_damaged(tmp_path: Path) -> None:
    # .xls files are read (tests/test_ingest_offices.py); an OLE header with nothing behind it is no workbook.
    for name in ("contract_returns.xls", "contract_returns.xlsx"):
        (tmp_path / name).write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000))
        message = only_error(parse_file(tmp_path / name))
        assert (
            message
            == "文件已损坏或不是有效的 Excel 工作簿，无法读取。请在 Excel 或 WPS 中另存为 .xlsx 或 .csv 后重新上传"
        )


@pytest.mark.parametrize("name", ["contract_returns.pdf", "contract_returns.txt", "contract_returns"])
def test_other_extensions_are_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("统一社会信用代码,所属区", encoding="utf-8")
    assert "只接受 .xlsx、.xls 或 .csv 文件" in only_error(parse_file(tmp_path / name))


@pytest.mark.parametrize("content", [b"", b"  \r\n ", b",,,\r\n,,\r\n"])
def test_empty_csv(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "contract_returns.csv").write_bytes(content)
    assert only_error(parse_file(tmp_path / "contract_returns.csv")).startswith("文件为空")


def test_empty_xlsx(tmp_path: Path) -> None:
    assert only_error(parse_file(write_xlsx(tmp_path / "contract_returns.xlsx", []))).startswith("文件为空")


def test_header_without_data_rows(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "contract_returns.xlsx", [["标题"], CR_HEAD, [None] * 6, ["", "", "", "", "", ""]])
    assert only_error(parse_file(path)) == "表头下没有数据行"


def test_missing_file_is_a_whole_file_error(tmp_path: Path) -> None:
    assert only_error(parse_file(tmp_path / "contract_returns.xlsx")).startswith("文件不存在")


def test_binary_content_named_csv(tmp_path: Path) -> None:
    (tmp_path / "contract_returns.csv").write_bytes(b"\x00\x01\x02binary\x00" * 20)
    assert "不是文本格式的 CSV" in only_error(parse_file(tmp_path / "contract_returns.csv"))


def test_xlsx_renamed_to_csv_is_read_as_xlsx_with_a_warning(tmp_path: Path) -> None:
    xlsx = write_xlsx(tmp_path / "a.xlsx", [CR_HEAD, *cr_rows()])
    (tmp_path / "contract_returns.csv").write_bytes(xlsx.read_bytes())
    parsed = parse_file(tmp_path / "contract_returns.csv")
    assert column(parsed, "employees") == [100, 20]
    assert parsed.warnings == ["文件扩展名为 .csv，但内容是 .xlsx 工作簿，已按 .xlsx 读取"]


# --- API ------------------------------------------------------------------------------------------------


def test_parse_bytes_matches_parse_file_and_hashes_the_bytes(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "upload.xlsx", [CR_HEAD, *cr_rows()])
    from_disk = parse_file(path, "contract_returns", file_name="contract_returns_10.xlsx")
    from_memory = parse_bytes(path.read_bytes(), "contract_returns_10.xlsx")
    assert from_disk.file == from_memory.file == "contract_returns_10.xlsx"
    assert from_disk.sha256 == from_memory.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert from_disk.table is not None and from_memory.table is not None
    assert from_disk.table.equals(from_memory.table)


def test_arrow_types_follow_sql_types(tmp_path: Path) -> None:
    head = [c.header_zh for c in RECORD_TYPES["placements"].columns]
    row = [
        "J1",
        "H1",
        "昌平区",
        "回龙观街道",
        "2026-03-01",
        CODE_A,
        "北京某科技有限公司",
        "直播带岗",
        "高校毕业生",
        "是",
        "否",
        "HT-01",
        "是",
        24,
        "是",
        "8,000元",
        "否",
        40.07,
        116.36,
        None,
    ]
    parsed = parse_file(write_xlsx(tmp_path / "placements.xlsx", [head, row]))
    assert parsed.table is not None
    expected = {
        "placement_id": pa.string(),
        "placement_date": pa.date32(),
        "is_local": pa.bool_(),
        "contract_months": pa.int64(),
        "monthly_wage": pa.decimal128(18, 2),
        "work_lat": pa.float64(),
        "stable_6m": pa.bool_(),
    }
    assert {name: parsed.table.schema.field(name).type for name in expected} == expected
    first = parsed.table.to_pylist()[0]
    assert first["monthly_wage"] == Decimal("8000.00") and first["is_beijing_hukou"] is False
    assert first["work_lon"] == 116.36 and first["stable_6m"] is None


def test_errors_to_frame() -> None:
    parsed = parse_bytes(b"", "contract_returns.csv")
    frame = errors_to_frame(
        [*parsed.errors, metrics.ingest.RowError("a.xlsx", 5, "所属区", "浦东", "不是北京市的区", "not a district")]
    )
    assert list(frame.columns) == ["文件", "行号", "列", "值", "问题"]
    assert frame["行号"].isna().tolist() == [True, False] and int(frame["行号"].iloc[1]) == 5
    assert frame.iloc[1].tolist()[2:] == ["所属区", "浦东", "不是北京市的区"]


def test_public_names_are_exactly_the_api() -> None:
    assert sorted(metrics.ingest.__all__) == sorted(
        [
            "ImportReport",
            "OutOfDistrict",
            "Outlier",
            "ParsedFile",
            "RowError",
            "WarningsNotAccepted",
            "detect_record_type",
            "errors_to_frame",
            "find_outliers",
            "import_file",
            "import_parsed",
            "parse_bytes",
            "parse_file",
        ]
    )
    assert all(hasattr(metrics.ingest, name) for name in metrics.ingest.__all__)


@pytest.mark.parametrize("record", list(RECORD_TYPES))
def test_headers_of_a_record_type_never_collide(record: str) -> None:
    rt = RECORD_TYPES[record]
    index = _header_index(record)
    for col in rt.columns:
        for label in (col.name, col.header_zh, *col.aliases):
            assert index[header_key(label)] == col.name
