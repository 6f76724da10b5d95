"""The record types of the upload contract written out as Markdown, for docs/data-contract.md.

The contract is data (metrics.contract.records); this renders it so the document cannot drift from it.
`python -m metrics.contract` rewrites the generated part of docs/data-contract.md; a test checks it is current.
"""

from __future__ import annotations

from metrics.contract.records import DISTRICTS, RECORD_TYPES, Column, RecordType

__all__ = ["BEGIN", "END", "render_record_types", "replace_generated"]

BEGIN = "<!-- BEGIN GENERATED: record types (python -m metrics.contract) -->"
END = "<!-- END GENERATED -->"

_KIND = {
    "text": "text",
    "district": "district",
    "enum": "enum",
    "date": "date",
    "month": "month",
    "bool": "是/否",
    "int": "whole number",
    "decimal": "number",
    "amount": "amount (元)",
}


def _notes(rt: RecordType, col: Column) -> str:
    notes: list[str] = []
    if col.choices:
        notes.append("、".join(col.choices))
    if col.min_value is not None and col.max_value is not None:
        notes.append(f"{col.min_value:g}–{col.max_value:g}")
    elif col.min_value is not None:
        notes.append(f"≥ {col.min_value:g}")
    elif col.max_value is not None:
        notes.append(f"≤ {col.max_value:g}")
    if col.length is not None:
        notes.append(f"{col.length} characters")
    if col.date_kind is not None:
        notes.append(f"date kind `{col.date_kind}`")
    notes += [rule.message_zh for rule in rt.rules if rule.column == col.name]
    if col.aliases:
        notes.append("also headed " + "、".join(col.aliases))
    return "; ".join(notes)


def render_record_types() -> str:
    """Every record type as a Markdown section: natural key, then one table row per column."""
    out = [
        "## Record types",
        "",
        "Generated from `metrics/contract/records.py`. Headers may be the English name or the Chinese header, in "
        f"any order. A `district` is one of Beijing's {len(DISTRICTS)} districts: {'、'.join(DISTRICTS)}.",
    ]
    for rt in RECORD_TYPES.values():
        key = " + ".join(f"`{k}`" for k in rt.natural_key)
        out += ["", f"### {rt.name} — {rt.title_zh} (natural key {key})", ""]
        out += ["| column | 中文表头 | type | required | notes |", "|---|---|---|---|---|"]
        for col in rt.columns:
            required = "required" if col.required else "optional"
            out.append(f"| `{col.name}` | {col.header_zh} | {_KIND[col.kind]} | {required} | {_notes(rt, col)} |")
        if rt.notes:
            out += ["", *(f"- {note}" for note in rt.notes)]
    return "\n".join(out).rstrip() + "\n"


def replace_generated(document: str) -> str:
    """`document` with the text between BEGIN and END replaced by the current rendering (appended if absent)."""
    block = f"{BEGIN}\n{render_record_types()}{END}"
    if BEGIN in document and END in document:
        head, _, rest = document.partition(BEGIN)
        _, _, tail = rest.partition(END)
        return head + block + tail
    return document.rstrip() + "\n\n" + block + "\n"
