"""One cell of an upload as a Python value: text, enum, district, bool, date, month, int, decimal and
amount, read in the formats departments actually type (2026年3月1日, 是/否, 1,000元, Excel serials …), each
refusal with a Chinese and an English message of our own; and the date range of each kind of date column
(records.DATE_RANGES), whatever format the date came in.

The rows, their pydantic models and the cross-column rules are metrics.ingest.validate's.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pydantic_core import PydanticCustomError

from metrics.contract.records import DATE_RANGES, DISTRICTS, Column, DateKind
from metrics.storage import clock

__all__ = [
    "MESSAGES",
    "cell_text",
    "cell_validator",
    "check_range",
    "date_bounds",
    "parse_cell",
    "serial_reading",
]

# ---------------------------------------------------------------------------------------------------
# Messages: every error code raised below (and the pydantic codes we let through) has a Chinese and an
# English text; `{...}` fields come from the error's context.

MESSAGES: dict[str, tuple[str, str]] = {
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


def _fail(code: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError(code, MESSAGES[code][1], ctx or None)


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


# As offices write them (docs/data-contract.md): 是/否, a tick or a cross (√ ✓ ✔ / × ✗ ✘), 有/无, and English.
_TRUE = frozenset({"是", "y", "yes", "1", "1.0", "true", "t", "√", "✓", "✔", "有"})
_FALSE = frozenset({"否", "n", "no", "0", "0.0", "false", "f", "×", "✗", "✘", "无", "没有"})


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


def serial_reading(raw: Any) -> str:
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


# ---------------------------------------------------------------------------------------------------
# One column's validator: the parsers above behind a fast path and a small cache.

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
def cell_validator(col: Column) -> Callable[[Any], Any]:
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
# Date ranges: one rule per kind of date column (records.DATE_RANGES), applied to the parsed date whatever
# format it came in. `today` is the upload day, read once per file by the caller.


def date_bounds(today: dt.date | None = None) -> dict[DateKind, tuple[dt.date, dt.date]]:
    """First and last allowed day of each kind of date column, for an upload on `today` (default: today)."""
    day = clock.today() if today is None else today
    return {kind: r.bounds(day) for kind, r in DATE_RANGES.items()}


def check_range(col: Column, value: dt.date, bounds: tuple[dt.date, dt.date]) -> None:
    """Raise if a parsed date (or month) of `col` lies outside `bounds`, the range of its kind."""
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


def parse_cell(col: Column, v: Any, *, today: dt.date | None = None) -> Any:
    """One raw cell as the column's Python value (None for a blank optional cell); raises on bad input.

    A date is held to its column's range for an upload on `today` (default: metrics.storage.clock.today())."""
    value = cell_validator(col)(v)
    if col.date_kind is not None and value is not None:
        check_range(col, value, date_bounds(today)[col.date_kind])
    return value
