"""XLSX files for departments: an upload template per record type, and the sheet of validation errors.

Both are built from metrics.contract.records, so a template always matches what `metrics.ingest.parse_bytes`
accepts: Chinese headers (required ones marked *), drop-downs for enumerations, 是/否 and districts, an
example row that imports cleanly, and a 填写说明 sheet. Error sheets never let a cell run as a formula.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

import xlsxwriter
import xlsxwriter.utility
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from metrics.contract.records import DISTRICTS, Column, RecordType, record_type
from metrics.ingest.validate import RowError
from metrics.present.export import neutralise

__all__ = [
    "ERROR_HEADERS",
    "INSTRUCTIONS_SHEET",
    "KIND_NAMES_ZH",
    "choices_for",
    "errors_xlsx",
    "example_row",
    "template_file_name",
    "template_xlsx",
]

INSTRUCTIONS_SHEET = "填写说明"
ERROR_HEADERS = ("文件", "行号", "列", "值", "问题")
BOOL_CHOICES = ("是", "否")
REQUIRED_MARK = "*"  # the importer strips a leading * from headers (metrics.ingest.read.header_key)

TITLE_ROW, HEADER_ROW, EXAMPLE_ROW = 0, 1, 2
LAST_ROW = 1_048_575  # Excel's last row (0-based): drop-downs cover the whole column below the header
_LIST_LIMIT = 255  # Excel's limit on an inline drop-down list; longer lists go to a hidden sheet
_LISTS_SHEET = "_选项"

KIND_NAMES_ZH: dict[str, str] = {
    "text": "文本",
    "district": "区",
    "date": "日期",
    "month": "月份",
    "bool": "是/否",
    "int": "整数",
    "decimal": "数字",
    "amount": "金额（元）",
    "enum": "选项",
}

_NUMBER_FORMATS: dict[str, str] = {
    "text": "@",  # kept as text: codes such as 0012 or 18-digit credit codes must not become numbers
    "district": "@",
    "enum": "@",
    "bool": "@",
    "date": "yyyy-mm-dd",
    "month": "yyyy-mm",
    "int": "0",
    "decimal": "0.########",
    "amount": "#,##0.00",
}

_KIND_HINTS_ZH: dict[str, str] = {
    "date": "日期，如 2026-03-01，也可填 2026/3/1 或 2026年3月1日",
    "month": "月份，如 2026-03 或 2026年3月",
    "bool": "填“是”或“否”",
    "int": "整数",
    "decimal": "数字，可带小数",
    "amount": "金额（元），可带两位小数，如 1000 或 1,000.50",
    "district": "北京市的区，从下拉列表选择",
    "enum": "从下拉列表选择",
    "text": "文本",
}

# Example values for text columns, by column name; other kinds are derived from the column (see example_row).
_TEXT_EXAMPLES: dict[str, str] = {
    "placement_id": "JY202603010001",
    "person_id": "P00012345",
    "street": "永顺镇",
    "employer_id": "91110112MA198UW063",
    "employer_name": "北京示例科技有限公司",
    "project_id": "ZDXM-2026-001",
    "training_id": "PX202603010001",
    "provider": "北京示例职业技能培训学校",
    "application_id": "BT202603010001",
    "measure_code": "tz-startup-guaranteed-loan",
    "applicant_id": "P00012345",
    "event_id": "HD202603010001",
    "title": "春风行动专场招聘会",
    "organiser": "区人力社保局",
    "vacancy_id": "GW202603010001",
    "industry": "信息传输、软件和信息技术服务业",
    "case_id": "ZC202603010001",
    "enterprise_id": "91110112MA198UW063",
    "entity_id": "91110112MA198UW063",
    "incubator": "示例创业孵化基地",
    "community_id": "SQ0001",
    "community_name": "示例社区",
    "kpi_id": "tz-incubated-enterprises",
    "unit_name": "区科委",
    "note": "示例说明",
    "response_id": "WJ202603010001",
}
_NUMBER_EXAMPLES: dict[str, float] = {
    "work_lat": 39.9087,
    "work_lon": 116.6572,
    "contract_months": 36,
    "monthly_wage": 6500.00,
    "class_hours": 80,
    "quantity": 1,
    "year_index": 1,
    "amount_requested": 3000.00,
    "amount_approved": 3000.00,
    "employers": 50,
    "vacancies_offered": 1200,
    "attendees": 800,
    "intents": 260,
    "positions": 5,
    "employees": 120,
    "contracts_signed": 118,
    "jobs_created": 5,
    "local_jobs_created": 3,
    "guaranteed_loan_amount": 300000.00,
    "specialists": 2,
    "graduation_year": 2025,
    "value": 12,
}
_EXAMPLE_DATE = dt.date(2026, 3, 2)
# Columns that come later in a record's life get a later example date, so the cross rules hold.
_LATER_DATES: dict[str, dt.date] = {
    "end_date": dt.date(2026, 3, 27),
    "decision_date": dt.date(2026, 3, 16),
    "paid_date": dt.date(2026, 3, 30),
    "closed_date": dt.date(2026, 4, 20),
    "first_insured_date": dt.date(2026, 3, 20),
    "loan_date": dt.date(2026, 3, 25),
    "followup_date": dt.date(2026, 3, 10),
    "period_end": dt.date(2026, 3, 31),
}

# Notes that matter more than the type, shown in 填写说明.
_COLUMN_NOTES_ZH: dict[str, str] = {
    "person_id": "脱敏后的人员编号，不得填写姓名或身份证号",
    "applicant_id": "个人申请时填写脱敏后的人员编号，不得填写姓名或身份证号",
    "measure_code": "政策项目代码，见方案目录中的补贴标准",
    "project_id": "就业到重点项目时填写",
    "work_lat": "WGS-84 坐标，用于回天地区 10 公里范围统计",
    "work_lon": "WGS-84 坐标，用于回天地区 10 公里范围统计",
    "stable_6m": "就业满 6 个月后填写，之前留空",
    "kpi_id": "指标编号，见方案目录",
    "year_index": "逐年递增的补贴标准适用的年度（第 1–3 年）",
}


def choices_for(col: Column) -> tuple[str, ...]:
    """The values a drop-down offers for a column; empty for free input."""
    if col.kind == "enum":
        return col.choices
    if col.kind == "bool":
        return BOOL_CHOICES
    if col.kind == "district":
        return DISTRICTS
    return ()


def example_row(record: str | RecordType) -> dict[str, Any]:
    """One valid row of a record type (column name → cell value as written into the template)."""
    rt = _resolve(record)
    row: dict[str, Any] = {}
    for col in rt.columns:
        row[col.name] = _example_value(col)
    return row


def _example_value(col: Column) -> Any:
    if col.kind in ("enum", "bool", "district"):
        return "通州区" if col.kind == "district" else choices_for(col)[0]
    if col.kind == "date":
        return _LATER_DATES.get(col.name, _EXAMPLE_DATE)
    if col.kind == "month":
        return _EXAMPLE_DATE.replace(day=1)
    if col.kind == "text":
        text = _TEXT_EXAMPLES.get(col.name, "示例")
        return text if col.length is None else (text * col.length)[: col.length]
    number = _NUMBER_EXAMPLES.get(col.name)
    if number is None:
        low = col.min_value if col.min_value is not None else 0
        high = col.max_value if col.max_value is not None else low + 10
        number = min(max(low, 4), high) if col.max_value is not None else low + 10
    return int(number) if col.kind == "int" else number


def template_file_name(record: str | RecordType) -> str:
    """A download name the importer recognises: placements_上传模板.xlsx."""
    return f"{_resolve(record).name}_上传模板.xlsx"


def _resolve(record: str | RecordType) -> RecordType:
    return record if isinstance(record, RecordType) else record_type(record)


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _range(col: int, first_row: int, last_row: int) -> tuple[int, int, int, int]:
    return first_row, col, last_row, col


def _new_workbook(buf: io.BytesIO) -> xlsxwriter.Workbook:
    # Strings stay strings: nothing written by us is turned into a formula, a URL or a number.
    return xlsxwriter.Workbook(
        buf,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )


# ---------------------------------------------------------------------------------------------------
# The upload template


def template_xlsx(record: str | RecordType) -> bytes:
    """The XLSX upload template of one record type; the importer accepts it as is (with its example row)."""
    rt = _resolve(record)
    buf = io.BytesIO()
    wb = _new_workbook(buf)
    wb.set_properties({"title": f"{rt.title_zh}上传模板", "subject": rt.name, "comments": "employment-kpi"})
    # The data sheet is named after the record type so the importer picks it among the two sheets.
    ws = wb.add_worksheet(rt.title_zh[:31])
    title = wb.add_format({"bold": True, "font_size": 14, "align": "left", "valign": "vcenter", "text_wrap": True})
    required_head = wb.add_format(
        {"bold": True, "font_color": "#C00000", "bg_color": "#F2F2F2", "border": 1, "align": "center"}
    )
    optional_head = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1, "align": "center"})
    column_formats = {kind: wb.add_format({"num_format": fmt}) for kind, fmt in _NUMBER_FORMATS.items()}
    example_formats = {
        kind: wb.add_format({"num_format": fmt, "italic": True, "font_color": "#7F7F7F"})
        for kind, fmt in _NUMBER_FORMATS.items()
    }

    last_col = len(rt.columns) - 1
    title_text = (
        f"{rt.title_zh}（{rt.name}）上传模板　带 {REQUIRED_MARK} 的列为必填；"
        f"第 {EXAMPLE_ROW + 1} 行为示例，请改为实际数据或删除后再上传；填写要求见“{INSTRUCTIONS_SHEET}”工作表"
    )
    if last_col > 0:
        ws.merge_range(TITLE_ROW, 0, TITLE_ROW, last_col, title_text, title)
    else:
        ws.write_string(TITLE_ROW, 0, title_text, title)
    ws.set_row(TITLE_ROW, 36)

    example = example_row(rt)
    lists: _Lists | None = None
    for j, col in enumerate(rt.columns):
        header = f"{REQUIRED_MARK}{col.header_zh}" if col.required else col.header_zh
        ws.write_string(HEADER_ROW, j, header, required_head if col.required else optional_head)
        _write_cell(ws, EXAMPLE_ROW, j, example[col.name], example_formats[col.kind])
        width = max(_display_width(header), _display_width(_shown(example[col.name])), 8) + 2
        ws.set_column(j, j, min(width, 40), column_formats[col.kind])
        choices = choices_for(col)
        if choices:
            inline = ",".join(choices)
            if len(inline) <= _LIST_LIMIT:
                source: str | list[str] = list(choices)
            else:
                lists = lists or _Lists(wb)
                source = lists.add(choices)
            ws.data_validation(
                *_range(j, EXAMPLE_ROW, LAST_ROW),
                {
                    "validate": "list",
                    "source": source,
                    "input_title": col.header_zh[:32],
                    "input_message": _input_message(col)[:255],
                    "error_title": "取值无效",
                    "error_message": f"请从下拉列表中选择{col.header_zh}"[:255],
                    "error_type": "stop",
                },
            )
        else:
            ws.data_validation(
                *_range(j, EXAMPLE_ROW, LAST_ROW),
                {"validate": "any", "input_title": col.header_zh[:32], "input_message": _input_message(col)[:255]},
            )
    ws.freeze_panes(EXAMPLE_ROW, 0)
    _instructions_sheet(wb, rt)
    ws.activate()
    wb.close()
    return buf.getvalue()


class _Lists:
    """A hidden sheet holding drop-down lists too long for Excel's inline 255-character limit."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self.ws = wb.add_worksheet(_LISTS_SHEET)
        self.ws.hide()
        self.col = 0

    def add(self, choices: Sequence[str]) -> str:
        for i, value in enumerate(choices):
            self.ws.write_string(i, self.col, value)
        letter = xlsxwriter.utility.xl_col_to_name(self.col)
        self.col += 1
        return f"='{_LISTS_SHEET}'!${letter}$1:${letter}${len(choices)}"


def _write_cell(ws: Worksheet, row: int, col: int, value: Any, fmt: Format) -> None:
    if isinstance(value, dt.date):
        ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()), fmt)
    elif isinstance(value, bool) or not isinstance(value, int | float):
        ws.write_string(row, col, str(value), fmt)
    else:
        ws.write_number(row, col, value, fmt)


def _shown(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _input_message(col: Column) -> str:
    parts = ["必填" if col.required else "选填", _KIND_HINTS_ZH[col.kind]]
    limits = _limits_zh(col)
    if limits:
        parts.append(limits)
    return "；".join(parts)


def _limits_zh(col: Column) -> str:
    parts = []
    if col.length is not None:
        parts.append(f"{col.length} 位")
    if col.min_value is not None and col.max_value is not None:
        parts.append(f"{_num(col.min_value)}–{_num(col.max_value)}")
    elif col.min_value is not None:
        parts.append(f"不小于 {_num(col.min_value)}")
    elif col.max_value is not None:
        parts.append(f"不大于 {_num(col.max_value)}")
    return "，".join(parts)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _column_notes(rt: RecordType, col: Column) -> str:
    notes: list[str] = []
    if col.name in rt.natural_key:
        notes.append(
            "记录唯一标识" if len(rt.natural_key) == 1 else "与" + _key_headers(rt, col) + "共同唯一标识一条记录"
        )
    if col.name in _COLUMN_NOTES_ZH:
        notes.append(_COLUMN_NOTES_ZH[col.name])
    limits = _limits_zh(col)
    if limits:
        notes.append(limits)
    notes.extend(rule.message_zh for rule in rt.rules if rule.column == col.name)
    if (span := col.date_range) is not None:
        if span.latest is None:
            upload_day = "上传当月" if col.kind == "month" else "上传当天"
            notes.append(f"不早于 {span.earliest.isoformat()}，不晚于{upload_day}")
        else:
            notes.append(f"{span.earliest.isoformat()} 至 {span.latest.isoformat()}")
    if col.kind == "month":
        notes.append("按月份的第一天保存")
    if col.aliases:
        notes.append("也可用表头：" + "、".join(col.aliases))
    return "；".join(notes)


def _key_headers(rt: RecordType, col: Column) -> str:
    return "、".join(rt.column(k).header_zh for k in rt.natural_key if k != col.name)


def _instructions_sheet(wb: xlsxwriter.Workbook, rt: RecordType) -> None:
    ws = wb.add_worksheet(INSTRUCTIONS_SHEET)
    title = wb.add_format({"bold": True, "font_size": 14})
    head = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1, "text_wrap": True, "valign": "top"})
    cell = wb.add_format({"text_wrap": True, "valign": "top", "border": 1})
    required = wb.add_format({"text_wrap": True, "valign": "top", "border": 1, "font_color": "#C00000"})
    plain = wb.add_format({"text_wrap": True, "valign": "top"})

    ws.write_string(0, 0, f"{rt.title_zh}（{rt.name}）填写说明", title)
    headers = ("表头", "英文名", "类型", "是否必填", "允许取值", "说明")
    for j, text in enumerate(headers):
        ws.write_string(2, j, text, head)
    for i, col in enumerate(rt.columns, start=3):
        choices = choices_for(col)
        values = (
            col.header_zh,
            col.name,
            KIND_NAMES_ZH[col.kind],
            "必填" if col.required else "选填",
            "、".join(choices),
            _column_notes(rt, col),
        )
        for j, text in enumerate(values):
            ws.write_string(i, j, text, required if (j == 3 and col.required) else cell)
    row = 3 + len(rt.columns) + 1
    key = " + ".join(rt.column(k).header_zh for k in rt.natural_key)
    general = [
        f"1. 表头可用中文或英文名，列的顺序不限；带 {REQUIRED_MARK} 的列为必填，不能删除。",
        f"2. {key} 唯一标识一条记录：再次上传相同{key}的记录会更新原记录，同一文件内不得重复。",
        "3. 日期可填 2026-03-01、2026/3/1、2026年3月1日 或 Excel 日期；是/否 列也可填 Y/N、1/0。",
        "4. 整个文件校验通过才会导入；有任何错误时不会写入任何数据，并列出每处错误（行号、列、值、问题）。",
        "5. 文件保存为 .xlsx（或 UTF-8 / GB18030 编码的 .csv）；不要设置打开密码。",
        "6. 数字中的逗号只能作千分位（1,000 或 12,345.50），小数请用小数点（1.5），数字中间不能有空格。",
        "7. 选填列可以整列删除：文件中没有的选填列，库中已有记录的值保持不变；保留该列但单元格留空，则清空该值。",
        *(f"{n}. {text}" for n, text in enumerate(rt.notes, start=8)),
    ]
    for k, text in enumerate(general):
        ws.merge_range(row + k, 0, row + k, len(headers) - 1, text, plain)
    widths = (22, 22, 10, 10, 40, 50)
    for j, width in enumerate(widths):
        ws.set_column(j, j, width)
    ws.freeze_panes(3, 0)


# ---------------------------------------------------------------------------------------------------
# The error sheet


def errors_xlsx(errors: Sequence[RowError], file_name: str) -> bytes:
    """Validation errors as a sheet (文件, 行号, 列, 值, 问题); every text cell is inert text, never a formula."""
    buf = io.BytesIO()
    wb = _new_workbook(buf)
    ws = wb.add_worksheet("错误清单")
    title = wb.add_format({"bold": True, "font_size": 12})
    head = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
    text = wb.add_format({"num_format": "@", "text_wrap": True, "valign": "top"})
    number = wb.add_format({"num_format": "0", "valign": "top"})
    heading = f"{file_name}：共 {len(errors)} 处错误，文件未导入，数据库未作任何更改"
    ws.write_string(0, 0, str(neutralise(heading)), title)
    for j, header in enumerate(ERROR_HEADERS):
        ws.write_string(1, j, header, head)
    for i, e in enumerate(errors, start=2):
        for j, value in enumerate((e.file, e.row, e.column, e.value, e.message_zh)):
            if value is None:
                ws.write_blank(i, j, None, text)
            elif isinstance(value, int):
                ws.write_number(i, j, value, number)
            else:
                ws.write_string(i, j, str(neutralise(str(value))), text)
    for j, width in enumerate((28, 8, 20, 24, 60)):
        ws.set_column(j, j, width)
    ws.freeze_panes(2, 0)
    if errors:
        ws.autofilter(1, 0, 1 + len(errors), len(ERROR_HEADERS) - 1)
    wb.close()
    return buf.getvalue()
