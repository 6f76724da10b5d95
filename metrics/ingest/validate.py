"""Turn raw cells of an upload into typed, validated rows of one record type, driven by metrics.contract.records.

One pydantic model per record type is built from RECORD_TYPES; its before-validators are the cell parsers of
metrics.ingest.cells (the formats departments actually type); its after-validators hold every date to the
range of its column's kind (records.DATE_RANGES), whatever format it came in. Cross-column rules and
duplicate natural keys are checked afterwards. Every problem becomes a RowError with a Chinese message of our
own. Touches no file and no database; the upload day is passed in (metrics.storage.clock.today() when not given).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
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

from metrics.contract.records import DISTRICTS, Column, CrossRule, RecordType, record_type
from metrics.ingest.cells import MESSAGES as _MESSAGES
from metrics.ingest.cells import (
    cell_text,
    cell_validator,
    check_range,
    date_bounds,
    parse_cell,
    serial_reading,
)

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
# Messages of the row model: the cells' messages (metrics.ingest.cells), the pydantic codes we let through,
# and the English of the cross-column rules.

_RANGE_CODES = frozenset(
    c for c in _MESSAGES if c.startswith(("date_after", "date_before", "month_after", "month_before"))
)

_RULE_EN = {
    "not_before": "{column} must not be before {other}",
    "not_above": "{column} must not be greater than {other}",
    "required_if_set": "{column} is required when {other} is set",
}


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
# Date ranges in the row model: the upload day comes from the caller once per file, through pydantic's
# context.

_BOUNDS = "date_bounds"  # the key of the bounds in the validation context


def _range_validator(col: Column) -> Callable[[Any, ValidationInfo], Any]:
    kind = col.date_kind
    assert kind is not None

    def check(value: Any, info: ValidationInfo) -> Any:
        if value is not None:
            context = info.context
            bounds = context[_BOUNDS] if context and _BOUNDS in context else date_bounds()
            check_range(col, value, bounds[kind])
        return value

    return check


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
        annotated = Annotated[_field_type(col), BeforeValidator(cell_validator(col))]  # type: ignore[valid-type]
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
                    zh += serial_reading(raw.get(name))
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
