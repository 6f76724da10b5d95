"""Validating cells and rows: every accepted format and every rejection, with exact values and rows."""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from metrics.contract.records import DISTRICTS, RECORD_TYPES, SQL_TYPES, Column
from metrics.ingest import ParsedFile, RowError, parse_file
from metrics.ingest.validate import _MESSAGES, ARROW_TYPES, parse_cell, row_model
from tests.support import file_errors as errors
from tests.support import write_csv

D = dt.date


def col(record: str, name: str) -> Column:
    return RECORD_TYPES[record].column(name)


def cell(record: str, name: str, value: Any) -> Any:
    return parse_cell(col(record, name), value)


def cell_error(record: str, name: str, value: Any) -> str:
    """The error code a bad cell raises."""
    with pytest.raises(Exception) as info:
        cell(record, name, value)
    return str(getattr(info.value, "type", type(info.value).__name__))


# --- cells ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "2026-03-01",
        "2026-3-1",
        "2026/3/1",
        "2026/03/01",
        "2026.3.1",
        "2026年3月1日",
        "2026 年 3 月 1 日",
        "２０２６－０３－０１",
        " 2026-03-01 ",
        "2026-03-01 00:00:00",
        "2026/3/1 0:00",
        "20260301",
        D(2026, 3, 1),
        dt.datetime(2026, 3, 1),
        dt.datetime(2026, 3, 1, 9, 30),
        46082.0,
        46082,
        46082.75,
        20260301.0,
    ],
)
def test_date_formats(raw: Any) -> None:
    assert cell("trainings", "start_date", raw) == D(2026, 3, 1)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("2026-02-30", "date_invalid"),
        ("2026-13-01", "date_invalid"),
        ("3/1/2026", "date_format"),
        ("明天", "date_format"),
        ("2026-03", "date_format"),
        (5.0, "date_before"),  # serial 5 is a date in 1900: refused by the date range, which names it
        (0.0, "date_format"),
        (-3.0, "date_format"),
        (dt.time(9, 30), "date_time_only"),
        (True, "date_format"),
    ],
)
def test_bad_dates(raw: Any, code: str) -> None:
    assert cell_error("trainings", "start_date", raw) == code


@pytest.mark.parametrize(
    "raw",
    [
        "2026-10",
        "2026/10",
        "2026.10",
        "2026年10月",
        "２０２６年１０月",
        "202610",
        "2026-10-01",
        "2026-10-31",
        "2026年10月15日",
        D(2026, 10, 15),
        dt.datetime(2026, 10, 1),
        46296.0,
        46310,
    ],
)
def test_month_formats_give_the_first_day(raw: Any) -> None:
    assert cell("contract_returns", "report_month", raw) == D(2026, 10, 1)


@pytest.mark.parametrize(
    ("raw", "code"), [("十月", "month_format"), ("2026-13", "date_invalid"), (2026.1, "month_format")]
)
def test_bad_months(raw: Any, code: str) -> None:
    assert cell_error("contract_returns", "report_month", raw) == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("是", True),
        ("否", False),
        (" 是 ", True),
        ("\u3000否", False),
        ("Y", True),
        ("N", False),
        ("y", True),
        ("n", False),
        ("1", True),
        ("0", False),
        ("１", True),
        (1.0, True),
        (0.0, False),
        (1, True),
        ("true", True),
        ("false", False),
        ("TRUE", True),
        ("FALSE", False),
        (True, True),
        (False, False),
        ("yes", True),
        ("No", False),
    ],
)
def test_boolean_formats(raw: Any, expected: bool) -> None:
    assert cell("trainings", "completed", raw) is expected


@pytest.mark.parametrize("raw", ["对", "2", 2.0, "是的"])
def test_bad_booleans(raw: Any) -> None:
    assert cell_error("trainings", "completed", raw) == "bool_format"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,000", "1000.00"),
        ("1000元", "1000.00"),
        ("1,000.50元", "1000.50"),
        ("￥1000", "1000.00"),
        ("¥1,000.5", "1000.50"),
        ("１０００", "1000.00"),
        ("１，０００元", "1000.00"),
        ("1.2万", "12000.00"),
        ("1.2万元", "12000.00"),
        ("RMB 300", "300.00"),
        (" 88.888 ", "88.89"),
        (5848.0, "5848.00"),
        (1000.5, "1000.50"),
        (0.1 + 0.2, "0.30"),
        (12, "12.00"),
        ("0", "0.00"),
    ],
)
def test_amount_formats(raw: Any, expected: str) -> None:
    value = cell("applications", "amount_requested", raw)
    assert isinstance(value, Decimal) and value == Decimal(expected)


@pytest.mark.parametrize(
    ("raw", "code"),
    [("一千元", "amount_format"), ("1e5", "amount_format"), ("1e20", "amount_format"), (1e17, "amount_range")],
)
def test_bad_amounts(raw: Any, code: str) -> None:
    assert cell_error("applications", "amount_requested", raw) == code


@pytest.mark.parametrize(
    ("raw", "expected"), [("12", 12), (12.0, 12), ("12.0", 12), ("１２", 12), ("1,200", 1200), (" 7 ", 7), (0, 0)]
)
def test_int_formats(raw: Any, expected: int) -> None:
    value = cell("contract_returns", "employees", raw)
    assert type(value) is int and value == expected


@pytest.mark.parametrize(
    ("raw", "code"), [(12.5, "int_fraction"), ("12.5", "int_fraction"), ("十二", "int_format"), (True, "int_format")]
)
def test_bad_ints(raw: Any, code: str) -> None:
    assert cell_error("contract_returns", "employees", raw) == code


@pytest.mark.parametrize(
    ("raw", "expected"), [("39.9", 39.9), (39.9, 39.9), ("３９.９", 39.9), ("-0.5", -0.5), (40, 40.0)]
)
def test_decimal_formats(raw: Any, expected: float) -> None:
    assert cell("placements", "work_lat", raw) == expected


def test_text_is_trimmed_and_nfkc_normalised() -> None:
    assert (
        cell("placements", "employer_name", "  北京ＡＢＣ科技（集团）有限公司１２３ ") == "北京ABC科技(集团)有限公司123"
    )
    assert cell("placements", "person_id", 1001.0) == "1001"
    assert cell("placements", "project_id", "   ") is None
    assert cell("placements", "project_id", "") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("通州区", "通州区"),
        ("通州", "通州区"),
        (" 石景山 ", "石景山区"),
        ("北京市海淀区", "海淀区"),
        ("北京 门头沟区", "门头沟区"),
    ],
)
def test_districts(raw: str, expected: str) -> None:
    assert cell("events", "district", raw) == expected


def test_enums_accept_exact_values_after_normalisation() -> None:
    assert cell("events", "event_type", " 直播带岗 ") == "直播带岗"
    assert cell("events", "event_type", "直播 带岗") == "直播带岗"
    assert cell_error("events", "event_type", "直播") == "enum"


def test_required_blank_cells() -> None:
    assert cell_error("events", "event_id", "") == "required"
    assert cell_error("events", "event_id", "  ") == "required"
    assert cell_error("events", "event_date", None) == "required"
    assert cell("events", "attendees", "") is None


# --- rows in files: rejections with their row, column, value and message ------------------------------


def write_xlsx(path: Path, head: list[str], rows: list[list[Any]]) -> Path:
    """Title row merged over the header, header in row 2, data from row 3."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([f"{path.stem} 台账"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(head))
    ws.append(head)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


CR = ["统一社会信用代码", "所属区", "街道（乡镇）", "报告月份", "职工人数", "签订劳动合同人数"]
A, B, C = "91110112MA01ABCD1X", "91110112MA01ABCD2Y", "91110112MA01ABCD3Z"


def cr_file(tmp_path: Path, last: list[Any]) -> ParsedFile:
    rows = [[A, "朝阳区", "望京街道", "2026-10", 100, 98], [B, "朝阳区", "望京街道", "2026-10", 20, 20], last]
    return parse_file(write_xlsx(tmp_path / "contract_returns.xlsx", CR, rows))


def test_bad_date_is_reported_at_its_excel_row(tmp_path: Path) -> None:
    head = ["案件编号", "所属区", "受理日期"]
    rows = [["C1", "通州区", "2026-03-01"], ["C2", "通州区", "2026-03-02"], ["C3", "通州区", "3月2日"]]
    parsed = parse_file(write_xlsx(tmp_path / "disputes.xlsx", head, rows))
    assert errors(parsed) == [(5, "受理日期", "3月2日", "日期格式无法识别，请使用 2026-03-01 这样的格式")]
    [error] = parsed.errors
    assert error == RowError(
        "disputes.xlsx",
        5,
        "受理日期",
        "3月2日",
        "日期格式无法识别，请使用 2026-03-01 这样的格式",
        "Unrecognised date; use a date such as 2026-03-01",
    )


def test_impossible_date(tmp_path: Path) -> None:
    head = ["案件编号", "所属区", "受理日期"]
    parsed = parse_file(write_xlsx(tmp_path / "disputes.xlsx", head, [["C1", "通州区", "2026-02-30"]]))
    assert errors(parsed) == [(3, "受理日期", "2026-02-30", "日期不存在（2026-02-30），请检查年月日")]


def test_bad_enum_lists_the_allowed_values(tmp_path: Path) -> None:
    head = ["活动编号", "所属区", "活动类型", "活动日期", "活动名称", "主办单位"]
    rows = [["E1", "西城区", "线上直播", "2026-03-01", "春风行动", "区人力社保局"]]
    assert errors(parse_file(write_xlsx(tmp_path / "events.xlsx", head, rows))) == [
        (
            3,
            "活动类型",
            "线上直播",
            "“线上直播”不是允许的取值，可选：招聘会、专场招聘、直播带岗、职业指导、技能竞赛、创业活动、其他",
        )
    ]


def test_bad_district(tmp_path: Path) -> None:
    [(row, column, value, message)] = errors(cr_file(tmp_path, [C, "浦东新区", "望京街道", "2026-10", 5, 5]))
    assert (row, column, value) == (5, "所属区", "浦东新区")
    assert message.startswith("“浦东新区”不是北京市的区，可选：东城区、西城区、朝阳区") and message.endswith("延庆区")


def test_negative_number(tmp_path: Path) -> None:
    assert errors(cr_file(tmp_path, [C, "朝阳区", "望京街道", "2026-10", -1, 0])) == [
        (5, "职工人数", "-1", "不得小于 0")
    ]


def test_int_with_a_fraction(tmp_path: Path) -> None:
    assert errors(cr_file(tmp_path, [C, "朝阳区", "望京街道", "2026-10", 12.5, 0])) == [
        (5, "职工人数", "12.5", "应为整数，不能有小数")
    ]


def test_credit_code_of_the_wrong_length(tmp_path: Path) -> None:
    assert errors(cr_file(tmp_path, [C[:-1], "朝阳区", "望京街道", "2026-10", 5, 5])) == [
        (5, "统一社会信用代码", C[:-1], "应为 18 位，实际为 17 位")
    ]


def test_contracts_signed_above_employees(tmp_path: Path) -> None:
    assert errors(cr_file(tmp_path, [C, "朝阳区", "望京街道", "2026-10", 5, 6])) == [
        (5, "签订劳动合同人数", "6", "签订劳动合同人数不得大于职工人数")
    ]


def test_duplicate_natural_key_names_both_rows(tmp_path: Path) -> None:
    parsed = cr_file(tmp_path, [A, "朝阳区", "望京街道", "2026年10月", 7, 7])
    assert errors(parsed) == [
        (
            5,
            "统一社会信用代码 + 报告月份",
            f"{A} / 2026年10月",
            "记录重复：第 3 行和第 5 行的统一社会信用代码 + 报告月份相同",
        )
    ]
    assert parsed.errors[0].message_en == "Duplicate record: rows 3 and 5 have the same enterprise_id + report_month"


def test_same_enterprise_in_another_month_is_no_duplicate(tmp_path: Path) -> None:
    parsed = cr_file(tmp_path, [A, "朝阳区", "望京街道", "2026-11", 7, 7])
    assert parsed.ok and parsed.table is not None and parsed.table.num_rows == 3


def test_end_date_before_start_date(tmp_path: Path) -> None:
    head = [
        "培训记录编号",
        "人员编号",
        "所属区",
        "培训机构",
        "培训类别",
        "开班日期",
        "结业日期",
        "课时",
        "是否结业",
        "是否参加技能评价",
    ]
    rows = [
        ["T1", "P1", "大兴区", "某学校", "养老", "2026-03-01", "2026-03-20", 40, "是", "否"],
        ["T2", "P2", "大兴区", "某学校", "养老", "2026-03-01", "2026-02-28", 40, "是", "否"],
    ]
    parsed = parse_file(write_csv(tmp_path / "trainings.csv", head, rows))
    assert errors(parsed) == [(3, "结业日期", "2026-02-28", "结业日期不得早于开班日期")]
    assert parsed.errors[0].message_en == "end_date must not be before start_date"


def test_closure_method_required_when_closed_date_set(tmp_path: Path) -> None:
    head = ["案件编号", "所属区", "受理日期", "结案日期", "结案方式"]
    rows = [["C1", "通州区", "2026-01-05", "", ""], ["C2", "通州区", "2026-01-05", "2026-02-01", ""]]
    assert errors(parse_file(write_csv(tmp_path / "disputes.csv", head, rows))) == [
        (3, "结案方式", "", "已填结案日期时必须填写结案方式")
    ]


def test_closure_method_required_even_when_its_column_is_absent(tmp_path: Path) -> None:
    head = ["case_id", "district", "accepted_date", "closed_date"]
    rows = [["C1", "通州区", "2026-01-05", "2026-02-01"]]
    assert errors(parse_file(write_csv(tmp_path / "disputes.csv", head, rows))) == [
        (2, "结案方式", "", "已填结案日期时必须填写结案方式")
    ]


def test_closed_before_accepted(tmp_path: Path) -> None:
    head = ["案件编号", "所属区", "受理日期", "结案日期", "结案方式"]
    rows = [["C1", "通州区", "2026-01-05", "2026-01-04", "调解"]]
    assert errors(parse_file(write_csv(tmp_path / "disputes.csv", head, rows))) == [
        (2, "结案日期", "2026-01-04", "结案日期不得早于受理日期")
    ]


def test_loan_date_required_when_a_loan_amount_is_set(tmp_path: Path) -> None:
    head = [
        "统一社会信用代码",
        "所属区",
        "注册日期",
        "主体类型",
        "带动就业人数",
        "带动本市户籍就业人数",
        "创业担保贷款金额（元）",
        "贷款发放日期",
    ]
    rows = [
        [A, "平谷区", "2025-05-01", "个体工商户", 3, 2, "", ""],
        [B, "平谷区", "2025-05-01", "个体工商户", 3, 4, "300000", ""],
    ]
    assert errors(parse_file(write_csv(tmp_path / "startups.csv", head, rows))) == [
        (3, "带动本市户籍就业人数", "4", "带动本市户籍就业人数不得大于带动就业人数"),
        (3, "贷款发放日期", "", "已填贷款金额时必须填写贷款发放日期"),
    ]


def test_value_above_the_maximum(tmp_path: Path) -> None:
    head = [
        "申请编号",
        "所属区",
        "政策项目代码",
        "申请主体类型",
        "申请主体编号",
        "申请日期",
        "补贴年度",
        "申请金额（元）",
        "状态",
    ]
    rows = [["A1", "海淀区", "M01", "个人", "P1", "2026-03-01", 4, "1000", "已受理"]]
    assert errors(parse_file(write_csv(tmp_path / "applications.csv", head, rows))) == [
        (2, "补贴年度", "4", "不得大于 3")
    ]


def test_required_cell_blank(tmp_path: Path) -> None:
    assert errors(cr_file(tmp_path, [C, "", "望京街道", "2026-10", 5, 5])) == [(5, "所属区", "", "必填项为空")]


def test_every_error_in_the_file_is_reported_sorted_by_row_then_column(tmp_path: Path) -> None:
    head = ["报告月份", "所属区", "统一社会信用代码", "职工人数", "签订劳动合同人数", "街道（乡镇）"]
    rows = [
        ["2026-10", "海淀", A, "x", 1, "学院路街道"],
        ["2026-10", "海淀区", B, 1, 1, "学院路街道"],
        ["2026-99", "海外", "123", 1, 1, ""],
    ]
    assert errors(parse_file(write_xlsx(tmp_path / "contract_returns.xlsx", head, rows))) == [
        (3, "职工人数", "x", "应为整数"),
        (5, "报告月份", "2026-99", "日期不存在（2026-99），请检查年月日"),
        (5, "所属区", "海外", "“海外”不是北京市的区，可选：" + "、".join(DISTRICTS)),
        (5, "统一社会信用代码", "123", "应为 18 位，实际为 3 位"),
        (5, "街道（乡镇）", "", "必填项为空"),
    ]


def test_english_header_is_named_in_errors(tmp_path: Path) -> None:
    head = ["case_id", "district", "accepted_date"]
    parsed = parse_file(write_csv(tmp_path / "disputes.csv", head, [["C1", "通州区", "soon"]]))
    assert [(e.row, e.column, e.message_en) for e in parsed.errors] == [
        (2, "accepted_date", "Unrecognised date; use a date such as 2026-03-01")
    ]


# --- models ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("record", list(RECORD_TYPES))
def test_a_model_is_built_for_every_record_type_without_warnings(record: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        row_model.cache_clear()
        model = row_model(record)
    assert list(model.model_fields) == list(RECORD_TYPES[record].column_names)
    required = {c.name for c in RECORD_TYPES[record].required_columns}
    assert {name for name, f in model.model_fields.items() if f.is_required()} == required
    with pytest.raises(ValidationError) as info:
        model.model_validate({})
    assert {e["loc"][0] for e in info.value.errors()} == required


def test_arrow_types_match_sql_types() -> None:
    expected = {
        "VARCHAR": "string",
        "DATE": "date32[day]",
        "BOOLEAN": "bool",
        "BIGINT": "int64",
        "DOUBLE": "double",
        "DECIMAL(18,2)": "decimal128(18, 2)",
    }
    assert {kind: str(t) for kind, t in ARROW_TYPES.items()} == {k: expected[v] for k, v in SQL_TYPES.items()}


# --- no input makes a parser fail other than with a clear message -------------------------------------

cells = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from("0123456789０１２-/.:年月日号元万,，￥¥ e是否YNTrue区通州 \t"), max_size=20),
    st.text(max_size=12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)


@settings(max_examples=300, deadline=None)
@given(value=cells, column=st.sampled_from([c for rt in RECORD_TYPES.values() for c in rt.columns]))
def test_any_cell_parses_or_fails_with_a_known_message(value: Any, column: Column) -> None:
    try:
        parse_cell(column, value)
    except PydanticCustomError as exc:
        assert exc.type in _MESSAGES
