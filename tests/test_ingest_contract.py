"""The upload contract's rules that keep an upload from silently changing stored data (issue 9 §3).

An optional column left out of a file keeps the stored values; a comma is only a thousands separator; a date
of something that happened lies between 1990-01-01 and the upload day, whatever format it came in. Every
expected value below is worked out by hand from the rows written in the test; the clock is pinned wherever
the upload day matters, so the suite gives the same answer on any day.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from metrics.cli.main import main
from metrics.contract.records import DATE_RANGES, RECORD_TYPES, Column
from metrics.ingest import ParsedFile, import_parsed, parse_file
from metrics.ingest.load import import_file
from metrics.storage import clock
from metrics.storage.store import Store
from tests.support import file_errors as errors
from tests.support import write_csv

D = dt.date
UPLOAD_DAY = D(2026, 6, 15)  # a pinned upload day, months before the real one, so "the future" is certain
EXCEL_EPOCH = D(1899, 12, 30)
CONTRACT_DOC = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"


def serial(day: dt.date) -> int:
    """The Excel serial number of a day (1900 date system)."""
    return (day - EXCEL_EPOCH).days


def write_xlsx(path: Path, head: list[str], rows: list[list[Any]]) -> Path:
    """A title row, the header in row 2, data from row 3 (like a department's ledger)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([f"{path.stem} 台账"])
    ws.append(head)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


# --- an absent optional column means "not supplied" ------------------------------------------------------

CODE = "91110112MA01ABCD1X"
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
WAGES = {"J1": Decimal("5000.00"), "J2": Decimal("6200.50"), "J3": Decimal("7300.00")}


def placement(pid: str, employer: str = "北京某科技有限公司", wage: Any = None) -> list[Any]:
    row = [pid, f"P{pid}", "通州区", "永顺镇", "2026-03-02", CODE, employer, "公共就业服务", "高校毕业生"]
    row += ["是", "是", "是", "是"]
    return row if wage is None else [*row, wage]


def stored_wages(store: Store) -> dict[str, Decimal | None]:
    return dict(store.execute("SELECT placement_id, monthly_wage FROM placements ORDER BY placement_id"))


def store_three_placements(store: Store, tmp_path: Path) -> None:
    rows = [placement(pid, wage=str(wage)) for pid, wage in WAGES.items()]
    first = import_file(store, write_xlsx(tmp_path / "placements_1.xlsx", PLACEMENT_HEAD, rows), user="张三")
    assert first.ok and (first.new, first.changed, first.unchanged) == (3, 0, 0), first.errors
    assert stored_wages(store) == WAGES


def test_a_file_without_the_wage_column_keeps_the_stored_wages(tiny_duck: Store, tmp_path: Path) -> None:
    store_three_placements(tiny_duck, tmp_path)
    # The same three rows re-saved without 月工资（元）; J2's employer is renamed. Only J2 differs from the store.
    rows = [placement("J1"), placement("J2", employer="北京某科技集团有限公司"), placement("J3")]
    parsed = parse_file(write_xlsx(tmp_path / "placements_2.xlsx", PLACEMENT_HEAD[:-1], rows))
    assert parsed.ok and "monthly_wage" in parsed.absent_columns and "project_id" in parsed.absent_columns
    # The page's preview and the report name every optional column the file left out, by its header.
    assert parsed.absent_note_zh.startswith("文件中没有以下选填列，库中已有的值保持不变：")
    assert "月工资（元）" in parsed.absent_note_zh and "重点项目编号" in parsed.absent_note_zh
    report = import_parsed(tiny_duck, parsed, user="李四")
    assert report.ok and (report.new, report.changed, report.unchanged) == (0, 1, 2)
    assert report.absent_columns == parsed.absent_columns
    assert "更新 1" in report.summary_zh() and "月工资（元）" in report.summary_zh()
    assert "monthly_wage" in report.summary_en()
    assert stored_wages(tiny_duck) == WAGES  # not one wage set to NULL
    assert tiny_duck.execute("SELECT employer_name FROM placements WHERE placement_id = 'J2'") == [
        ("北京某科技集团有限公司",)
    ]
    [(old, new)] = tiny_duck.execute(
        "SELECT old_values, new_values FROM change_log WHERE action = 'update' AND entity = 'placements'"
    )
    assert json.loads(old)["employer_name"] == "北京某科技有限公司"
    assert json.loads(new)["employer_name"] == "北京某科技集团有限公司"
    assert Decimal(str(json.loads(new)["monthly_wage"])) == Decimal("6200.50")  # the log shows the merged record
    [(warnings,)] = tiny_duck.execute("SELECT warnings FROM uploads WHERE upload_id = ?", [report.upload_id])
    assert any(w.startswith("文件中没有以下选填列") and "月工资（元）" in w for w in warnings)


def test_the_same_file_without_the_column_twice_changes_nothing(tiny_duck: Store, tmp_path: Path) -> None:
    store_three_placements(tiny_duck, tmp_path)
    rows = [placement(pid) for pid in WAGES]
    again = import_file(tiny_duck, write_xlsx(tmp_path / "placements_2.xlsx", PLACEMENT_HEAD[:-1], rows), user="u")
    assert again.ok and (again.new, again.changed, again.unchanged, again.upload_id) == (0, 0, 3, None)
    assert again.summary_zh().endswith("新增记录的这些列为空。")
    assert stored_wages(tiny_duck) == WAGES
    assert tiny_duck.execute("SELECT count(*) FROM uploads") == [(1,)]


def test_a_blank_cell_in_a_present_column_blanks_that_wage(tiny_duck: Store, tmp_path: Path) -> None:
    store_three_placements(tiny_duck, tmp_path)
    rows = [placement("J1", wage="5000"), placement("J2", wage=""), placement("J3", wage="7300")]
    parsed = parse_file(write_csv(tmp_path / "placements_3.csv", PLACEMENT_HEAD, rows))
    assert parsed.ok and "monthly_wage" not in parsed.absent_columns
    report = import_parsed(tiny_duck, parsed, user="u")
    assert (report.new, report.changed, report.unchanged) == (0, 1, 2)
    assert stored_wages(tiny_duck) == {"J1": Decimal("5000.00"), "J2": None, "J3": Decimal("7300.00")}


def test_a_new_record_from_a_file_without_the_column_has_no_wage(tiny_duck: Store, tmp_path: Path) -> None:
    store_three_placements(tiny_duck, tmp_path)
    rows = [placement("J1"), placement("J4")]
    report = import_file(tiny_duck, write_csv(tmp_path / "placements_4.csv", PLACEMENT_HEAD[:-1], rows), user="u")
    assert (report.new, report.changed, report.unchanged) == (1, 0, 1)
    assert stored_wages(tiny_duck) == {**WAGES, "J4": None}


TRAINING_HEAD = ["培训记录编号", "人员编号", "所属区", "培训机构", "培训类别", "开班日期", "课时", "是否结业"]
TRAINING_HEAD += ["是否参加技能评价"]


def training(tid: str, start: str, end: str | None = None) -> list[Any]:
    row = [tid, "P1", "大兴区", "某学校", "养老", start, 40, "是", "否"]
    return row if end is None else [*row[:6], end, *row[6:]]


def test_a_kept_value_that_breaks_a_rule_with_the_file_refuses_the_file(tiny_duck: Store, tmp_path: Path) -> None:
    head_with_end = [*TRAINING_HEAD[:6], "结业日期", *TRAINING_HEAD[6:]]
    rows = [training("T1", "2026-03-01", "2026-03-20"), training("T2", "2026-03-01", "2026-03-20")]
    assert import_file(tiny_duck, write_csv(tmp_path / "trainings_1.csv", head_with_end, rows), user="u").ok
    # Without 结业日期, T2's class now begins after its stored end: the merged record would break the rule.
    rows = [training("T1", "2026-03-01"), training("T2", "2026-04-01")]
    report = import_file(tiny_duck, write_csv(tmp_path / "trainings_2.csv", TRAINING_HEAD, rows), user="u")
    assert not report.ok and report.upload_id is None
    assert [(e.row, e.column, e.value, e.message_zh) for e in report.errors] == [
        (
            3,
            "结业日期",
            "2026-03-20",
            "结业日期不得早于开班日期（文件中没有「结业日期」列，沿用库中已有的值 2026-03-20）",
        )
    ]
    assert report.errors[0].message_en.startswith("end_date must not be before start_date (the file has no end_date")
    assert tiny_duck.execute("SELECT training_id, start_date FROM trainings ORDER BY 1") == [
        ("T1", D(2026, 3, 1)),
        ("T2", D(2026, 3, 1)),
    ]
    assert tiny_duck.execute("SELECT count(*) FROM uploads") == [(1,)]


def test_kpi_import_says_which_columns_were_absent_and_kept(tmp_path: Path) -> None:
    db = str(tmp_path / "k.duckdb")
    full = write_csv(tmp_path / "placements_1.csv", PLACEMENT_HEAD, [placement("J1", wage="5000")])
    short = write_csv(tmp_path / "placements_2.csv", PLACEMENT_HEAD[:-1], [placement("J1", employer="新名称")])
    assert CliRunner().invoke(main, ["import", "--db", db, str(full)]).exit_code == 0
    r = CliRunner().invoke(main, ["import", "--db", db, str(short)])
    assert r.exit_code == 0, r.output
    assert "更新 1" in r.output and "文件中没有以下选填列，库中已有的值保持不变：" in r.output
    assert "月工资（元）" in r.output and "stored values kept" in r.output
    with Store.open(db, read_only=True) as store:
        assert stored_wages(store) == {"J1": Decimal("5000.00")}


# --- commas: a thousands separator only between groups of three digits ----------------------------------

APPLICATION_HEAD = ["申请编号", "所属区", "政策项目代码", "申请主体类型", "申请主体编号", "申请日期", "申请金额（元）"]
APPLICATION_HEAD += ["状态"]


def application(aid: str, amount: Any) -> list[Any]:
    return [aid, "海淀区", "M01", "个人", "P1", "2026-03-01", amount, "已受理"]


@pytest.mark.parametrize("writer", [write_csv, write_xlsx])
def test_a_decimal_comma_is_refused_with_its_row_and_column(tmp_path: Path, writer: Any) -> None:
    first = 2 if writer is write_csv else 3  # the first data row: CSV line 2, Excel row 3
    rows = [application("A1", "1,000"), application("A2", "1,5"), application("A3", "39,9元")]
    parsed = parse_file(
        writer(tmp_path / f"applications.{'csv' if writer is write_csv else 'xlsx'}", APPLICATION_HEAD, rows)
    )
    assert errors(parsed) == [
        (first + 1, "申请金额（元）", "1,5", "千分位逗号位置不对：“1,5”；小数请用小数点，如 1.5"),
        (first + 2, "申请金额（元）", "39,9元", "千分位逗号位置不对：“39,9元”；小数请用小数点，如 39.9"),
    ]
    assert parsed.errors[0].message_en == "Misplaced thousands separator: '1,5'; write a decimal as 1.5"


def test_grouped_thousands_are_read_in_every_numeric_kind(tmp_path: Path) -> None:
    rows = [application("A1", "1,000"), application("A2", "12,345,678.50"), application("A3", "１，０００元")]
    parsed = parse_file(write_xlsx(tmp_path / "applications.xlsx", APPLICATION_HEAD, rows))
    assert parsed.ok and parsed.table is not None, parsed.errors
    assert parsed.table.column("amount_requested").to_pylist() == [
        Decimal("1000.00"),
        Decimal("12345678.50"),
        Decimal("1000.00"),
    ]
    head = ["统一社会信用代码", "所属区", "街道（乡镇）", "报告月份", "职工人数", "签订劳动合同人数"]
    good = parse_file(
        write_csv(tmp_path / "contract_returns.csv", head, [[CODE, "朝阳区", "望京", "2026-03", "1,200", "1,000"]])
    )
    assert good.table is not None and good.table.column("employees").to_pylist() == [1200]


@pytest.mark.parametrize("value", ["1 5", "1 000", "12 345.50", "1, 000"])
def test_a_space_inside_a_number_is_refused_not_closed_up(tmp_path: Path, value: str) -> None:
    head = ["统一社会信用代码", "所属区", "街道（乡镇）", "报告月份", "职工人数", "签订劳动合同人数"]
    rows = [[CODE, "朝阳区", "望京", "2026-03", value, "0"]]
    parsed = parse_file(write_csv(tmp_path / "contract_returns.csv", head, rows))
    assert errors(parsed) == [
        (2, "职工人数", value, f"数字中间有空格：“{value}”；请删除空格（千分位请用逗号，如 1,000）")
    ]


def test_space_around_a_number_or_before_its_unit_is_fine(tmp_path: Path) -> None:
    rows = [application("A1", " 1,000 "), application("A2", "5000 元"), application("A3", "¥ 12.50")]
    parsed = parse_file(write_xlsx(tmp_path / "applications.xlsx", APPLICATION_HEAD, rows))
    assert parsed.ok and parsed.table is not None, parsed.errors
    assert parsed.table.column("amount_requested").to_pylist() == [
        Decimal("1000.00"),
        Decimal("5000.00"),
        Decimal("12.50"),
    ]


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("1,0000", "逗号只能每三位数字一个，如 1,000 或 12,345.50；小数请用小数点，如 1.5"),
        (",100", "逗号只能每三位数字一个，如 1,000 或 12,345.50；小数请用小数点，如 1.5"),
        ("100,", "逗号只能每三位数字一个，如 1,000 或 12,345.50；小数请用小数点，如 1.5"),
        ("39,9", "小数请用小数点，如 39.9"),
    ],
)
def test_misplaced_commas_are_refused_in_counts(tmp_path: Path, value: str, hint: str) -> None:
    head = ["统一社会信用代码", "所属区", "街道（乡镇）", "报告月份", "职工人数", "签订劳动合同人数"]
    rows = [[CODE, "朝阳区", "望京", "2026-03", value, "0"]]
    parsed = parse_file(write_csv(tmp_path / "contract_returns.csv", head, rows))
    assert errors(parsed) == [(2, "职工人数", value, f"千分位逗号位置不对：“{value}”；{hint}")]


def test_a_decimal_comma_in_a_coordinate_is_refused(tmp_path: Path) -> None:
    parsed = parse_file(
        write_csv(
            tmp_path / "placements.csv", [*PLACEMENT_HEAD, "工作地纬度"], [placement("J1", "某公司", "5000") + ["39,9"]]
        )
    )
    assert errors(parsed) == [(2, "工作地纬度", "39,9", "千分位逗号位置不对：“39,9”；小数请用小数点，如 39.9")]


# --- dates: 1990-01-01 to the upload day for things that happened; to 2100 for dates that may lie ahead ----

EVENT_HEAD = ["活动编号", "所属区", "活动类型", "活动日期", "活动名称", "主办单位"]
LATE = "日期不能晚于上传当天 2026-06-15：2026-07-01"
EARLY = "日期不能早于 1990-01-01：1949-10-01"


def one_placement(tmp_path: Path, when: Any, *, name: str = "placements.xlsx") -> ParsedFile:
    row = placement("J1")
    row[4] = when
    writer = write_xlsx if name.endswith(".xlsx") else write_csv
    return parse_file(writer(tmp_path / name, PLACEMENT_HEAD[:-1], [row]))


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("2026-07-01", LATE),
        ("2026/7/1", LATE),
        ("2026年7月1日", LATE),
        (D(2026, 7, 1), LATE),  # an Excel date cell
        (serial(D(2026, 7, 1)), LATE + f"（数字 {serial(D(2026, 7, 1))} 按 Excel 日期序号读作 2026-07-01）"),
        (20260701, LATE),  # 20260701 typed as a number
        ("2099-06-01", "日期不能晚于上传当天 2026-06-15：2099-06-01"),
        ("1949-10-01", EARLY),
        ("1949年10月1日", EARLY),
        (D(1949, 10, 1), EARLY),
        (serial(D(1949, 10, 1)), EARLY + f"（数字 {serial(D(1949, 10, 1))} 按 Excel 日期序号读作 1949-10-01）"),
        (19491001, EARLY),
        ("1989-12-31", "日期不能早于 1990-01-01：1989-12-31"),
    ],
)
def test_a_placement_date_outside_1990_to_the_upload_day_is_refused(tmp_path: Path, when: Any, message: str) -> None:
    with clock.pinned(UPLOAD_DAY):
        parsed = one_placement(tmp_path, when)
    [(row, column, _, zh)] = errors(parsed)
    assert (row, column, zh) == (3, "就业日期", message)


def test_the_refusal_gives_the_allowed_bound_in_english_too(tmp_path: Path) -> None:
    with clock.pinned(UPLOAD_DAY):
        parsed = one_placement(tmp_path, "2026-07-01", name="placements.csv")
    [error] = parsed.errors
    assert (error.row, error.value) == (2, "2026-07-01")
    assert error.message_en == "The date must not be after the day of the upload, 2026-06-15: 2026-07-01"


@pytest.mark.parametrize("when", ["2026-06-15", D(2026, 6, 15), serial(D(2026, 6, 15)), "1990-01-01", "1990/1/1"])
def test_the_upload_day_and_1990_01_01_are_accepted(tmp_path: Path, when: Any) -> None:
    with clock.pinned(UPLOAD_DAY):
        parsed = one_placement(tmp_path, when)
    assert parsed.ok, parsed.errors


def test_the_upload_day_can_be_passed_in_instead_of_read_from_the_clock(tmp_path: Path) -> None:
    with clock.pinned(UPLOAD_DAY):
        assert not one_placement(tmp_path, "2026-07-01").ok
        path = write_xlsx(tmp_path / "placements_j.xlsx", PLACEMENT_HEAD[:-1], [placement("J1")])
        assert (
            parse_file(path, today=D(2026, 3, 1)).errors[0].message_zh == "日期不能晚于上传当天 2026-03-01：2026-03-02"
        )


def test_an_event_date_in_the_future_is_refused_and_nothing_is_written(tiny_duck: Store, tmp_path: Path) -> None:
    rows = [["E1", "西城区", "招聘会", "2026-06-01", "春风行动", "区人力社保局"]]
    rows += [["E2", "西城区", "招聘会", "2026-06-20", "夏季招聘", "区人力社保局"]]
    with clock.pinned(UPLOAD_DAY):
        report = import_file(tiny_duck, write_csv(tmp_path / "events.csv", EVENT_HEAD, rows), user="u")
    assert [(e.row, e.column, e.message_zh) for e in report.errors] == [
        (3, "活动日期", "日期不能晚于上传当天 2026-06-15：2026-06-20")
    ]
    assert tiny_duck.execute("SELECT count(*) FROM events") == [(0,)]


CR_HEAD = ["统一社会信用代码", "所属区", "街道（乡镇）", "报告月份", "职工人数", "签订劳动合同人数"]


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-07", "月份不能晚于上传当月 2026-06：2026-07"),
        ("2026年7月", "月份不能晚于上传当月 2026-06：2026-07"),
        (D(2026, 7, 1), "月份不能晚于上传当月 2026-06：2026-07"),
        (202607, "月份不能晚于上传当月 2026-06：2026-07"),
        ("1989-12", "月份不能早于 1990-01：1989-12"),
    ],
)
def test_a_report_month_after_the_month_of_the_upload_is_refused(tmp_path: Path, month: Any, message: str) -> None:
    with clock.pinned(UPLOAD_DAY):
        parsed = parse_file(
            write_xlsx(tmp_path / "contract_returns.xlsx", CR_HEAD, [[CODE, "朝阳区", "望京", month, 5, 5]])
        )
    assert [(r, c, m) for r, c, _, m in errors(parsed)] == [(3, "报告月份", message)]


def test_the_month_of_the_upload_is_accepted(tmp_path: Path) -> None:
    with clock.pinned(UPLOAD_DAY):
        parsed = parse_file(
            write_csv(tmp_path / "contract_returns.csv", CR_HEAD, [[CODE, "朝阳区", "望京", "2026-06", 5, 5]])
        )
    assert parsed.table is not None and parsed.table.column("report_month").to_pylist() == [D(2026, 6, 1)]


def test_a_planned_training_end_date_may_lie_ahead(tmp_path: Path) -> None:
    head = [*TRAINING_HEAD[:6], "结业日期", *TRAINING_HEAD[6:]]
    rows = [training("T1", "2026-06-01", "2026-09-30"), training("T2", "2026-06-01", serial(D(2027, 1, 15)))]
    with clock.pinned(UPLOAD_DAY):
        parsed = parse_file(write_xlsx(tmp_path / "trainings.xlsx", head, rows))
        assert parsed.table is not None, parsed.errors
        assert parsed.table.column("end_date").to_pylist() == [D(2026, 9, 30), D(2027, 1, 15)]
        # …but not past 2100, and the class itself cannot have begun after the upload day.
        late = [training("T3", "2026-06-01", "2101-01-01"), training("T4", "2026-06-16", "2026-09-30")]
        assert [(r, c, m) for r, c, _, m in errors(parse_file(write_csv(tmp_path / "trainings.csv", head, late)))] == [
            (2, "结业日期", "日期不能晚于 2100-12-31：2101-01-01"),
            (3, "开班日期", "日期不能晚于上传当天 2026-06-15：2026-06-16"),
        ]


def test_a_progress_report_may_give_the_end_of_a_period_not_yet_over(tmp_path: Path) -> None:
    head = ["指标编号", "所属区", "截至日期", "数值", "填报单位"]
    with clock.pinned(UPLOAD_DAY):
        parsed = parse_file(
            write_csv(tmp_path / "progress_reports.csv", head, [["k1", "通州区", "2026-06-30", "12", "区人力社保局"]])
        )
    assert parsed.ok, parsed.errors


# --- the contract as data, and its document -------------------------------------------------------------


def test_a_date_column_must_name_its_kind() -> None:
    with pytest.raises(ValueError, match="date_kind"):
        Column("x_date", "某日期", "date")
    with pytest.raises(ValueError, match="date_kind"):
        Column("n", "数量", "int", date_kind="occurred")
    assert Column("x_date", "某日期", "date", date_kind="scheduled").date_range == DATE_RANGES["scheduled"]


def _doc_date_table() -> dict[tuple[str, str], tuple[str, str]]:
    """(record, column) → (header, kind) from the date-column table of docs/data-contract.md."""
    rows: dict[tuple[str, str], tuple[str, str]] = {}
    for line in CONTRACT_DOC.read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(
            r"\|\s*`(\w+)`\s*\|\s*`(\w+)`\s*\|\s*([^|]+?)\s*\|\s*(\w+)\s*\|\s*(occurred|scheduled)\s*\|.*", line
        )
        if m:
            rows[(m[1], m[2])] = (m[3], m[5])
    return rows


def test_the_contract_document_lists_every_date_column_with_its_kind() -> None:
    expected = {
        (rt.name, c.name): (c.header_zh, str(c.date_kind))
        for rt in RECORD_TYPES.values()
        for c in rt.columns
        if c.kind in ("date", "month")
    }
    assert _doc_date_table() == expected


def test_the_contract_document_states_the_bounds_of_each_kind() -> None:
    text = CONTRACT_DOC.read_text(encoding="utf-8")
    for r in DATE_RANGES.values():
        assert f"`{r.kind}`" in text and r.earliest.isoformat() in text
        if r.latest is not None:
            assert r.latest.isoformat() in text
    assert "千分位逗号位置不对" in text and "文件中没有以下选填列" in text
