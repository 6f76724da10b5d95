"""The foot of a department's sheet: totals rows (合计 / 总计 / 小计) and notes rows (注：… 填表人：…).

Offices add a 合计 row under their data, its id columns blank and its numbers summed, and often a 填表人 or
注 line below it. Read as data, one such row gave a "required value missing" for every id column. A row whose
first non-empty cell (after a 序号 number, if any) says 合计, 总计 or 小计 (spaces inside allowed: 合 计) is a
totals row; one that starts
with 注、备注、说明、填表人、制表人、审核人、负责人、联系人、联系电话、填报单位 or a 填报/填表/制表日期 is a notes row. The
rows of either kind at the end of the data (only blank rows or other such rows after them) are left out, each
with a warning that names its row as the user sees it (第N行为合计行，已跳过). A totals row with data rows after
it is an error, since a totals row must be the last: it may be a sub-total of a block, and what follows it may
not be what the office meant to send (docs/uploads.md). A notes row in the middle is read as data.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Foot", "FootKind", "foot_kind", "split_foot"]

FootKind = Literal["totals", "note"]

_TOTALS_RE = re.compile(r"(?:合计|总计|小计)(?:[:：(（].*)?")
_NOTE_RE = re.compile(
    r"(?:注|备注|说明|填表人|制表人|填报人|审核人|负责人|单位负责人|联系人|联系电话|填报单位|填表单位|"
    r"填报日期|填表日期|制表日期)(?:\d*[:：、.].*)?"
)
_HINT_RE = re.compile(r"[计注说填制审负联]")  # one of these characters, before the full check


def foot_kind(row: Sequence[Any]) -> FootKind | None:
    """Whether a row is "totals" or "note", from its first non-empty cell, or its second when the first is a whole
    number (a 序号 numbered on into the 合计 row); None for anything else (a data row)."""
    numbered = False
    for v in row:
        if v is None or v == "":
            continue
        if type(v) is not str:
            if numbered or type(v) not in (int, float) or not float(v).is_integer():
                return None
            numbered = True
            continue
        if v.isspace():
            continue
        if not _HINT_RE.search(v):
            return None
        key = "".join(unicodedata.normalize("NFKC", v).split())
        if _TOTALS_RE.fullmatch(key):
            return "totals"
        if _NOTE_RE.fullmatch(key):
            return "note"
        return None
    return None


@dataclass
class Foot:
    """Which data rows to leave out, and what to tell the user about them."""

    skipped: set[int] = field(default_factory=set)  # positions in the data rows
    warnings: list[str] = field(default_factory=list)
    misplaced_totals: list[int] = field(default_factory=list)  # positions of totals rows with data after them


def split_foot(kinds: Sequence[FootKind | None], numbers: Sequence[int]) -> Foot:
    """The foot of the data rows (each row's kind, and its row number as the user sees it)."""
    foot = Foot()
    end = len(kinds)
    while end > 0 and kinds[end - 1] is not None:
        end -= 1
    for i in range(end, len(kinds)):
        foot.skipped.add(i)
        if kinds[i] == "totals":
            foot.warnings.append(f"第{numbers[i]}行为合计行，已跳过")
        else:
            foot.warnings.append(f"第{numbers[i]}行为表尾说明，已跳过")
    foot.misplaced_totals = [i for i in range(end) if kinds[i] == "totals"]
    return foot
