"""Turn raw cells of an upload into typed, validated rows of one record type, driven by metrics.contract.records.

One pydantic model per record type is built from RECORD_TYPES; its before-validators read the formats
departments actually type (2026年3月1日, 是/否, 1,000元, Excel serials …); its after-validators hold every date
to the range of its column's kind (records.DATE_RANGES), whatever format it came in. Cross-column rules and
duplicate natural keys are checked afterwards. Every problem becomes a RowError with a Chinese message of our
own. Touches no file and no database; the upload day is passed in (metrics.storage.clock.today() when not given).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import pandas as pd
import pyarrow as pa
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    create_model,
)
from pydantic_core import PydanticCustomError

from metrics.contract.records import DATE_RANGES, DISTRICTS, Column, CrossRule, DateKind, RecordType, record_type
from metrics.storage import clock

__all__ = [
    "ARROW_TYPES",
    "RowError",
    "Validated",
    "cell_text",
    "date_bounds",
    "errors_to_frame",
    "parse_cell",
    "row_model",
    "rule_message_en",
    "validate_rows",
]

ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "district": pa.string(),
    "enum": pa.string(),
    "date": pa.date32(),
    "month": pa.date32(),
    "bool": pa.bool_(),
    "int": pa.int64(),
    "decimal": pa.float64(),
    "amount": pa.decimal128(18, 2),
}

PROGRESS_EVERY = 5000


@dataclass(frozen=True)
class RowError:
    """One problem, as the user sees it in Excel."""

    file: str  # file name
    row: int | None  # 1-based Excel row / CSV line number; None: the whole file
    column: str | None  # the header text as it appears in the file (Chinese or English)
    value: str | None  # the offending cell as text
    message_zh: str
    message_en: str


def errors_to_frame(errors: Iterable[RowError]) -> pd.DataFrame:
    """Errors as a table for the screen and the XLSX download: 文件, 行号, 列, 值, 问题."""
    rows = [(e.file, e.row, e.column, e.value, e.message_zh) for e in errors]
    frame = pd.DataFrame(rows, columns=["文件", "行号", "列", "值", "问题"])
    frame["行号"] = frame["行号"].astype("Int64")
    return frame


# ---------------------------------------------------------------------------------------------------
# Messages: every error code raised below (and the pydantic codes we let through) has a Chinese and an
# English text; `{...}` fields come from the error's context.

_MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("必填项为空", "Required value is missing"),
    "text_type": ("应为文字", "Expected text"),
    "date_format": (
        "日期格式无法识别，请使用 2026-03-01 这样的格式",
        "Unrecognised date; use a date such as 2026-03-01",
    ),
    "date_invalid": ("日期不存在（{reason}），请检查年月日", "No such date ({reason}); check year, month and day"),
    "date_time_only": (
        "只有时间没有日期，请填写日期，例如 2026-03-01",
        "A time without a date; enter a date such as 2026-03-01",
    ),
    "month_format": (
        "月份格式无法识别，请使用 2026-10 或 2026年10月",
        "Unrecognised month; use 2026-10 or 2026年10月",
    ),
    "date_after_upload_day": (
        "日期不能晚于上传当天 {latest}：{value}",
        "The date must not be after the day of the upload, {latest}: {value}",
    ),
    "date_after": ("日期不能晚于 {latest}：{value}", "The date must not be after {latest}: {value}"),
    "date_before": ("日期不能早于 {earliest}：{value}", "The date must not be before {earliest}: {value}"),
    "month_after_upload_month": (
        "月份不能晚于上传当月 {latest}：{value}",
        "The month must not be after the month of the upload, {latest}: {value}",
    ),
    "month_after": ("月份不能晚于 {latest}：{value}", "The month must not be after {latest}: {value}"),
    "month_before": ("月份不能早于 {earliest}：{value}", "The month must not be before {earliest}: {value}"),
    "thousands_separator": (
        "千分位逗号位置不对：“{value}”；{hint_zh}",
        "Misplaced thousands separator: '{value}'; {hint_en}",
    ),
    "number_space": (
        "数字中间有空格：“{value}”；请删除空格（千分位请用逗号，如 1,000）",
        "A space inside a number: '{value}'; remove it (group thousands with commas, as in 1,000)",
    ),
    "bool_format": ("应填写“是”或“否”", "Expected 是/否 (yes/no)"),
    "int_format": ("应为整数", "Expected a whole number"),
    "int_fraction": ("应为整数，不能有小数", "Expected a whole number without a fraction"),
    "int_range": ("数值过大", "Number too large"),
    "decimal_format": ("应为数字", "Expected a number"),
    "amount_format": (
        "金额格式无法识别，请填写数字，例如 1000 或 1,000.50",
        "Unrecognised amount; enter a number such as 1000 or 1,000.50",
    ),
    "amount_range": ("金额过大", "Amount too large"),
    "enum": ("“{value}”不是允许的取值，可选：{choices}", "'{value}' is not an allowed value; allowed: {choices}"),
    "district": (
        "“{value}”不是北京市的区，可选：{choices}",
        "'{value}' is not a Beijing district; allowed: {choices}",
    ),
    "greater_than_equal": ("不得小于 {ge}", "Must not be less than {ge}"),
    "less_than_equal": ("不得大于 {le}", "Must not be greater than {le}"),
    "string_too_short": ("应为 {length} 位，实际为 {actual} 位", "Expected {length} characters, found {actual}"),
    "string_too_long": ("应为 {length} 位，实际为 {actual} 位", "Expected {length} characters, found {actual}"),
    "decimal_max_digits": ("金额过大", "Amount too large"),
}

_RANGE_CODES = frozenset(
    c for c in _MESSAGES if c.startswith(("date_after", "date_before", "month_after", "month_before"))
)

_RULE_EN = {
    "not_before": "{column} must not be before {other}",
    "not_above": "{column} must not be greater than {other}",
    "required_if_set": "{column} is required when {other} is set",
}


def _fail(code: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError(code, _MESSAGES[code][1], ctx or None)


def _number_text(x: float | Decimal) -> str:
    if isinstance(x, float | int) and float(x).is_integer():
        return str(int(x))
    return str(x)


def _messages_for(error: Mapping[str, Any], col: Column) -> tuple[str, str]:
    code = str(error["type"])
    ctx = dict(error.get("ctx") or {})
    if code in ("string_too_short", "string_too_long"):
        ctx = {"length": col.length, "actual": len(str(error.get("input", "")))}
    elif code in ("greater_than_equal", "less_than_equal"):
        ctx = {k: _number_text(v) for k, v in ctx.items()}
    elif code == "literal_error":  # only reachable if a parser let an unknown value through
        code = "district" if col.kind == "district" else "enum"
        ctx = {"value": error.get("input"), "choices": "、".join(col.choices or DISTRICTS)}
    if code not in _MESSAGES:
        return f"格式不正确：{error.get('msg', code)}", str(error.get("msg", code))
    zh, en = _MESSAGES[code]
    return zh.format(**ctx), en.format(**ctx)


# ---------------------------------------------------------------------------------------------------
# Cell parsing. Raw cells are what python-calamine yields (str, float, int, bool, date, datetime, time,
# timedelta) or CSV text; "" and None are blank.


class _Blank(Exception):  # a signal, not an error: the cell holds only whitespace
    """Raised by a parser for a cell that is blank once trimmed."""


def _norm(s: str) -> str:
    """Trim and NFKC-normalise (full-width digits, letters, ￥ and brackets become ASCII)."""
    s = s.strip()
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s).strip()
    if not s:
        raise _Blank
    return s


def cell_text(v: Any) -> str:
    """A raw cell as the user would read it in Excel, for error messages."""
    if v is None:
        return ""
    if type(v) is str:
        return v.strip()
    if type(v) is bool:
        return "TRUE" if v else "FALSE"
    if type(v) is float:
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ") if v.time() != dt.time(0) else v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _text(v: Any) -> str:
    t = type(v)
    if t is str:
        return _norm(v)
    if t is float:
        # IDs typed as numbers come back from Excel as floats: 1001.0 means "1001".
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if t is int:
        return str(v)
    if isinstance(v, dt.date | dt.time):
        return cell_text(v)
    raise _fail("text_type")


def _compact(v: Any) -> str:
    """Text without any whitespace, for values that never contain spaces (enums, districts, numbers)."""
    return "".join(_text(v).split())


_SPLIT_NUMBER_RE = re.compile(r"[\d,.]\s+[\d,.]")


def _number_compact(v: Any) -> str:
    """A number's text without whitespace; a space between its digits is refused, not closed up (`1 5` is no
    15), like a misplaced comma (docs/data-contract.md). Space around it (`5000 元`, ` 12 `) is dropped."""
    s = _text(v)
    if _SPLIT_NUMBER_RE.search(s):
        raise _fail("number_space", value=s)
    return "".join(s.split())


def _enum(choices: tuple[str, ...]) -> Callable[[Any], str]:
    allowed = frozenset(choices)
    listed = "、".join(choices)

    def parse(v: Any) -> str:
        if v in allowed:
            return str(v)
        s = _compact(v)
        if s in allowed:
            return s
        raise _fail("enum", value=s, choices=listed)

    return parse


_DISTRICTS = frozenset(DISTRICTS)
_DISTRICT_LIST = "、".join(DISTRICTS)


def _district(v: Any) -> str:
    if v in _DISTRICTS:
        return str(v)
    s = _compact(v)
    for prefix in ("北京市", "北京"):
        if s.startswith(prefix) and len(s) > len(prefix):
            s = s[len(prefix) :]
            break
    if s in _DISTRICTS:
        return s
    if s + "区" in _DISTRICTS:  # 通州 → 通州区: common shorthand
        return s + "区"
    raise _fail("district", value=s, choices=_DISTRICT_LIST)


_TRUE = frozenset({"是", "y", "yes", "1", "1.0", "true", "t", "√"})
_FALSE = frozenset({"否", "n", "no", "0", "0.0", "false", "f", "×"})


def _bool(v: Any) -> bool:
    t = type(v)
    if t is bool:
        return bool(v)
    if t is float or t is int:
        if v == 1:
            return True
        if v == 0:
            return False
        raise _fail("bool_format")
    if t is str:
        s = _compact(v).lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
    raise _fail("bool_format")


_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 (with Lotus's phantom 1900-02-29)
# Any serial Excel can show as a date is read as one; whether the date is plausible is the column's date
# range (records.DATE_RANGES), the same rule as for a date typed as text, and its message names the date.
_SERIAL_MIN = 1
_SERIAL_MAX = (dt.date(9999, 12, 31) - _EXCEL_EPOCH).days
_DATE_RE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?"
    r"(?:(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?)?"
)
_MONTH_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?")


def _make_date(y: str | int, m: str | int, d: str | int) -> dt.date:
    try:
        return dt.date(int(y), int(m), int(d))
    except ValueError as exc:
        raise _fail("date_invalid", reason=f"{y}-{m}-{d}") from exc


def _number_date(x: float) -> dt.date:
    if x.is_integer() and 10000101 <= x <= 99991231:  # 20260301 typed as a number
        n = int(x)
        return _make_date(n // 10000, n // 100 % 100, n % 100)
    if _SERIAL_MIN <= x <= _SERIAL_MAX + 1:
        return _EXCEL_EPOCH + dt.timedelta(days=int(x))  # a fraction is a time of day: dropped
    raise _fail("date_format")


def _serial_reading(raw: Any) -> str:
    """How a number in a date cell was read as a serial, for a message: "（数字 18000 按 Excel 日期序号读作
    1949-04-12）"; "" for anything else (text, a date cell, 20260301 or 202610 typed as a number)."""
    if type(raw) not in (int, float) or (
        float(raw).is_integer() and (10000101 <= raw <= 99991231 or 100001 <= raw <= 999912)
    ):
        return ""
    try:
        day = _number_date(float(raw))
    except PydanticCustomError:
        return ""
    return f"（数字 {cell_text(raw)} 按 Excel 日期序号读作 {day.isoformat()}）"


def _date(v: Any) -> dt.date:
    t = type(v)
    if t is dt.date:
        return v  # type: ignore[no-any-return]
    if t is dt.datetime:
        return v.date()  # type: ignore[no-any-return]
    if t is str:
        s = _norm(v)
        m = _DATE_RE.fullmatch(s)
        if m:
            return _make_date(*m.group(1, 2, 3))
        if len(s) == 8 and s.isdigit():
            return _make_date(s[:4], s[4:6], s[6:])
        raise _fail("date_format")
    if t is float or t is int:
        return _number_date(float(v))
    if t is dt.time:
        raise _fail("date_time_only")
    raise _fail("date_format")


def _month(v: Any) -> dt.date:
    if type(v) is float and not v.is_integer() and 1900 < v < 2101:
        raise _fail("month_format")  # 2026.1: a month typed as a number (Excel dropped the 0 of 2026.10)
    if type(v) in (int, float) and float(v).is_integer() and 100001 <= v <= 999912:
        return _month(str(int(v)))  # 202610 typed as a number, not the serial of a day in 2454
    if type(v) is str:
        s = _norm(v)
        m = _MONTH_RE.fullmatch(s)
        if m:
            y, mo = m.group(1, 2)
            if not 1 <= int(mo) <= 12:
                raise _fail("date_invalid", reason=f"{y}-{mo}")
            return _make_date(y, mo, 1)
        if len(s) == 6 and s.isdigit():
            return _month(f"{s[:4]}-{s[4:]}")
        try:
            return _date(s).replace(day=1)
        except PydanticCustomError as exc:
            if exc.type == "date_format":
                raise _fail("month_format") from None
            raise
    try:
        return _date(v).replace(day=1)
    except PydanticCustomError as exc:
        if exc.type == "date_format":
            raise _fail("month_format") from None
        raise


# A comma is a thousands separator only between groups of exactly three digits (1,000 and 12,345,678.50;
# １，０００ after NFKC). Anything else (1,5  39,9  1,0000  ,100  100,) is refused, never dropped: dropping it
# turned a decimal comma 1,5 into 15.
_GROUPED_RE = re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?")
_NUMBER_CHARS_RE = re.compile(r"[+-]?[\d.,]+")
_DECIMAL_COMMA_RE = re.compile(r"[+-]?\d+,\d{1,2}")


def _ungroup(s: str, shown: str | None = None) -> str:
    """A compacted number without its thousands separators; raises (naming `shown`, the cell) if a comma is
    not one.

    Text that is no number even without its commas (1,000元 in a count) is returned as it is, for the
    caller's own format message."""
    if "," not in s or not _NUMBER_CHARS_RE.fullmatch(s):
        return s
    if _GROUPED_RE.fullmatch(s):
        return s.replace(",", "")
    if _DECIMAL_COMMA_RE.fullmatch(s):
        dot = s.replace(",", ".")
        raise _fail(
            "thousands_separator",
            value=shown or s,
            hint_zh=f"小数请用小数点，如 {dot}",
            hint_en=f"write a decimal as {dot}",
        )
    raise _fail(
        "thousands_separator",
        value=shown or s,
        hint_zh="逗号只能每三位数字一个，如 1,000 或 12,345.50；小数请用小数点，如 1.5",
        hint_en="a comma separates groups of three digits, as in 1,000 or 12,345.50; write a decimal as 1.5",
    )


_INT_RE = re.compile(r"[+-]?\d+(?:\.0*)?")
_FRACTION_RE = re.compile(r"[+-]?\d*\.\d+")
_INT64 = 2**63


def _int(v: Any) -> int:
    t = type(v)
    if t is int:
        n = int(v)
    elif t is float:
        if not v.is_integer():
            raise _fail("int_fraction") if v == v and abs(v) != float("inf") else _fail("int_format")
        n = int(v)
    elif t is str:
        s = _ungroup(_number_compact(v))
        if _INT_RE.fullmatch(s):
            n = int(s.split(".")[0])
        elif _FRACTION_RE.fullmatch(s):
            raise _fail("int_fraction")
        else:
            raise _fail("int_format")
    else:
        raise _fail("int_format")
    if not -_INT64 <= n < _INT64:
        raise _fail("int_range")
    return n


_DECIMAL_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _float(v: Any) -> float:
    t = type(v)
    if t is float or t is int:
        x = float(v)
    elif t is str:
        s = _ungroup(_number_compact(v))
        if not _DECIMAL_RE.fullmatch(s):
            raise _fail("decimal_format")
        x = float(s)
    else:
        raise _fail("decimal_format")
    if x != x or x in (float("inf"), float("-inf")):
        raise _fail("decimal_format")
    return x


_CENT = Decimal("0.01")
_AMOUNT_MAX = Decimal(10) ** 16
_AMOUNT_PREFIXES = ("¥", "RMB", "CNY", "人民币")


def _amount(v: Any) -> Decimal:
    t = type(v)
    if t is float or t is int:
        if v != v or v in (float("inf"), float("-inf")):
            raise _fail("amount_format")
        d = Decimal(repr(v)) if t is float else Decimal(int(v))
    elif t is str:
        s = shown = _number_compact(v)
        for prefix in _AMOUNT_PREFIXES:
            if s.upper().startswith(prefix):
                s = s[len(prefix) :]
                break
        scale = 1
        if s.endswith("元"):
            s = s[:-1]
        if s.endswith("万"):
            s, scale = s[:-1], 10_000
        s = _ungroup(s, shown)
        if not _DECIMAL_RE.fullmatch(s) or "e" in s.lower():
            raise _fail("amount_format")
        try:
            d = Decimal(s) * scale
        except InvalidOperation:
            raise _fail("amount_format") from None
    else:
        raise _fail("amount_format")
    if abs(d) >= _AMOUNT_MAX:
        raise _fail("amount_range")
    return d.quantize(_CENT, rounding=ROUND_HALF_UP)


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "text": _text,
    "district": _district,
    "date": _date,
    "month": _month,
    "bool": _bool,
    "int": _int,
    "decimal": _float,
    "amount": _amount,
}


def parse_cell(col: Column, v: Any, *, today: dt.date | None = None) -> Any:
    """One raw cell as the column's Python value (None for a blank optional cell); raises on bad input.

    A date is held to its column's range for an upload on `today` (default: metrics.storage.clock.today())."""
    value = _cell_validator(col)(v)
    if col.date_kind is not None and value is not None:
        _check_range(col, value, date_bounds(today)[col.date_kind])
    return value


# ---------------------------------------------------------------------------------------------------
# Date ranges: one rule per kind of date column (records.DATE_RANGES), applied to the parsed date whatever
# format it came in. The upload day comes from the caller once per file, through pydantic's context.

_BOUNDS = "date_bounds"  # the key of the bounds in the validation context


def date_bounds(today: dt.date | None = None) -> dict[DateKind, tuple[dt.date, dt.date]]:
    """First and last allowed day of each kind of date column, for an upload on `today` (default: today)."""
    day = clock.today() if today is None else today
    return {kind: r.bounds(day) for kind, r in DATE_RANGES.items()}


def _check_range(col: Column, value: dt.date, bounds: tuple[dt.date, dt.date]) -> None:
    earliest, latest = bounds
    upload_day = col.date_range is not None and col.date_range.latest is None
    if col.kind == "month":  # months compare as months: the month of the upload is allowed
        if value < earliest.replace(day=1):
            raise _fail("month_before", earliest=earliest.strftime("%Y-%m"), value=value.strftime("%Y-%m"))
        if value > latest.replace(day=1):
            code = "month_after_upload_month" if upload_day else "month_after"
            raise _fail(code, latest=latest.strftime("%Y-%m"), value=value.strftime("%Y-%m"))
        return
    if value < earliest:
        raise _fail("date_before", earliest=earliest.isoformat(), value=value.isoformat())
    if value > latest:
        code = "date_after_upload_day" if upload_day else "date_after"
        raise _fail(code, latest=latest.isoformat(), value=value.isoformat())


def _range_validator(col: Column) -> Callable[[Any, ValidationInfo], Any]:
    kind = col.date_kind
    assert kind is not None

    def check(value: Any, info: ValidationInfo) -> Any:
        if value is not None:
            context = info.context
            bounds = context[_BOUNDS] if context and _BOUNDS in context else date_bounds()
            _check_range(col, value, bounds[kind])
        return value

    return check


_MISS = object()
_CACHE_LIMIT = 4096  # parsed values remembered per column: districts, enums, 是/否 and dates repeat a lot


def _fast_text(v: Any) -> Any:
    # Codes and ids are mostly plain ASCII strings: nothing to normalise, not worth caching.
    if v.__class__ is str and v.isascii():
        s = v.strip()
        if s:
            return s
    return _MISS


def _fast_decimal(v: Any) -> Any:
    return v if v.__class__ is float and v - v == 0.0 else _MISS  # finite floats pass as they are


def _fast_int(v: Any) -> Any:
    return int(v) if v.__class__ is float and v.is_integer() and abs(v) < 2.0**62 else _MISS


def _fast_amount(v: Any) -> Any:
    return Decimal(int(v)) if v.__class__ is float and v.is_integer() and abs(v) < 1e15 else _MISS


_FAST: dict[str, Callable[[Any], Any]] = {
    "text": _fast_text,
    "decimal": _fast_decimal,
    "int": _fast_int,
    "amount": _fast_amount,
}


@functools.cache
def _cell_validator(col: Column) -> Callable[[Any], Any]:
    """The before-validator of one column: a fast path, a small cache, blank handling, the kind's parser."""
    parse = _enum(col.choices) if col.kind == "enum" else _PARSERS[col.kind]
    fast = _FAST.get(col.kind)
    required = col.required
    cache: dict[tuple[type, Any], Any] = {}

    def validate(v: Any) -> Any:
        if fast is not None:
            done = fast(v)
            if done is not _MISS:
                return done
        key = (v.__class__, v)
        hit = cache.get(key, _MISS)
        if hit is not _MISS:
            return hit
        try:
            if v is None or v == "":
                raise _Blank
            result = parse(v)
        except _Blank:
            if required:
                raise _fail("required") from None
            result = None
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[key] = result
        return result

    return validate


# ---------------------------------------------------------------------------------------------------
# The pydantic model of a record type.


def _field_type(col: Column) -> Any:
    base: Any
    if col.kind == "enum":
        base = Literal[col.choices]
    elif col.kind == "district":
        base = Literal[DISTRICTS]
    else:
        base = {
            "text": str,
            "date": dt.date,
            "month": dt.date,
            "bool": bool,
            "int": int,
            "decimal": float,
            "amount": Decimal,
        }[col.kind]
    constraints: dict[str, Any] = {}
    if col.min_value is not None:
        constraints["ge"] = col.min_value
    if col.max_value is not None:
        constraints["le"] = col.max_value
    if col.length is not None:
        constraints["min_length"] = constraints["max_length"] = col.length
    if col.kind == "amount":
        constraints.update(max_digits=18, decimal_places=2)
    typ = Annotated[base, Field(**constraints)] if constraints else base
    return typ if col.required else typ | None


@functools.cache
def row_model(record: str) -> type[BaseModel]:
    """The pydantic model of one row of `record`, built from metrics.contract.records (cached)."""
    rt = record_type(record)
    fields: dict[str, Any] = {}
    for col in rt.columns:
        annotated = Annotated[_field_type(col), BeforeValidator(_cell_validator(col))]  # type: ignore[valid-type]
        if col.date_kind is not None:
            annotated = Annotated[annotated, AfterValidator(_range_validator(col))]  # type: ignore[valid-type]
        fields[col.name] = (annotated, ...) if col.required else (annotated, None)
    config = ConfigDict(extra="ignore", strict=True, frozen=True)
    model: type[BaseModel] = create_model(f"{rt.name.title().replace('_', '')}Row", __config__=config, **fields)
    return model


# ---------------------------------------------------------------------------------------------------
# Validating the rows of one file.


@dataclass
class Validated:
    table: pa.Table | None  # None when there is any error
    errors: list[RowError]


def rule_message_en(rule: CrossRule) -> str:
    """The English message of a cross-column rule ("end_date must not be before start_date")."""
    return _RULE_EN[rule.kind].format(column=rule.column, other=rule.other)


def _rule_broken(rule: CrossRule, value: Any, other: Any) -> bool:
    if rule.kind == "required_if_set":
        return other is not None and value is None
    if value is None or other is None:
        return False
    if rule.kind == "not_before":
        return bool(value < other)
    return bool(value > other)  # not_above


def validate_rows(
    rt: RecordType,
    rows: Sequence[dict[str, Any]],
    row_numbers: Sequence[int],
    headers: Mapping[str, str],
    file: str,
    *,
    progress: Callable[[int, int], None] | None = None,
    today: dt.date | None = None,
) -> Validated:
    """Validate raw row dicts (column name → raw cell) and build the Arrow table if all rows are valid.

    `headers` maps a column name to its header text in the file, in file order (for messages and their
    order); `row_numbers` gives the Excel row / CSV line of each row. `today` is the upload day that bounds
    the dates of things that have happened (default: metrics.storage.clock.today(), read once).
    """
    model = row_model(rt.name)
    # Within a row, errors follow the file's column order (left to right as the user reads them).
    order = {name: i for i, name in enumerate(headers)}
    for c in rt.columns:
        order.setdefault(c.name, len(order))
    errors: list[tuple[int, int, RowError]] = []

    def header(name: str) -> str:
        return headers.get(name) or rt.column(name).header_zh

    def add(i: int, name: str, zh: str, en: str, value: str | None) -> None:
        row = row_numbers[i]
        errors.append((row, order.get(name, -1), RowError(file, row, header(name), value, zh, en)))

    total = len(rows)
    values: list[dict[str, Any]] = []
    kept: list[int] = []
    validate = model.model_validate
    context = {_BOUNDS: date_bounds(today)}
    for i, raw in enumerate(rows):
        if progress is not None and i % PROGRESS_EVERY == 0:
            progress(i, total)
        try:
            values.append(validate(raw, context=context).__dict__)
            kept.append(i)
        except ValidationError as exc:
            for e in exc.errors(include_url=False, include_input=True):
                name = str(e["loc"][0])
                zh, en = _messages_for(e, rt.column(name))
                if str(e["type"]) in _RANGE_CODES:
                    zh += _serial_reading(raw.get(name))
                add(i, name, zh, en, cell_text(raw.get(name)))
    if progress is not None:
        progress(total, total)

    for rule in rt.rules:
        for i, vals in zip(kept, values, strict=True):
            if _rule_broken(rule, vals[rule.column], vals[rule.other]):
                en = rule_message_en(rule)
                add(i, rule.column, rule.message_zh, en, cell_text(rows[i].get(rule.column)))

    key_names = rt.natural_key
    seen: dict[tuple[Any, ...], int] = {}
    for i, vals in zip(kept, values, strict=True):
        key = tuple(vals[k] for k in key_names)
        first = seen.setdefault(key, i)
        if first != i:
            shown = " + ".join(header(k) for k in key_names)
            text = " / ".join(cell_text(rows[i].get(k)) for k in key_names)
            a, b = row_numbers[first], row_numbers[i]
            zh = f"记录重复：第 {a} 行和第 {b} 行的{shown}相同"
            en = f"Duplicate record: rows {a} and {b} have the same {' + '.join(key_names)}"
            row = row_numbers[i]
            errors.append((row, order[key_names[0]], RowError(file, row, shown, text, zh, en)))

    if errors:
        errors.sort(key=lambda t: (t[0], t[1]))
        return Validated(None, [e for _, _, e in errors])
    arrays = [pa.array([v[c.name] for v in values], type=ARROW_TYPES[c.kind]) for c in rt.columns]
    return Validated(pa.Table.from_arrays(arrays, names=list(rt.column_names)), [])
