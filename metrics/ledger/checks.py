"""Input checks of the ledger's commands: text kept exactly as typed within its limits, dates, versions,
progress, reported numbers, evidence files (20 MB each) and linked KPIs; each refuses with a LedgerError
naming the field, before anything is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable
from decimal import Decimal

from metrics.catalogue import Kpi
from metrics.ledger.errors import LedgerError
from metrics.ledger.tasks import TaskRef

__all__ = ["EVIDENCE_MAX_BYTES", "SHORT_MAX_CHARS", "TEXT_MAX_CHARS"]

EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
TEXT_MAX_CHARS = 20_000
SHORT_MAX_CHARS = 200


def _text(value: object, label: str, *, required: bool = True, max_chars: int = TEXT_MAX_CHARS) -> str:
    """Text is stored exactly as typed (HTML is not stripped; the UI escapes it)."""
    if not isinstance(value, str):
        raise LedgerError(f"{label}须为文字。")
    if required and not value.strip():
        raise LedgerError(f"请填写{label}。")
    if len(value) > max_chars:
        raise LedgerError(f"{label}过长（{len(value)} 字，上限 {max_chars} 字）。")
    if "\x00" in value:
        raise LedgerError(f"{label}含有无效字符。")
    return value


def _date(value: object, label: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise LedgerError(f"{label}不是有效日期：{value!r}（应为 年-月-日，如 2026-03-31）。")


def _version(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LedgerError(f"版本号无效：{value!r}。")
    return value


def _progress(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise LedgerError(f"完成进度须为 0–100 的整数：{value!r}。")
    if value != int(value) or not 0 <= value <= 100:
        raise LedgerError(f"完成进度须为 0–100 的整数：{value!r}。")
    return int(value)


def _number(value: object, kpi: Kpi) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise LedgerError(f"指标「{kpi.name_zh}」的填报值须为数字：{value!r}。")
    number = float(value)
    if not math.isfinite(number):
        raise LedgerError(f"指标「{kpi.name_zh}」的填报值须为有限数字：{value!r}。")
    return number


def _file_name(value: object) -> str:
    if not isinstance(value, str):
        raise LedgerError("佐证材料的文件名须为文字。")
    name = value.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        raise LedgerError("佐证材料缺少文件名。")
    return _text(name, "文件名", max_chars=255)


def _files(evidence: Iterable[tuple[str, bytes]] | None) -> list[tuple[str, bytes, str]]:
    """(file name, content, SHA-256) of each evidence file, refused whole if any one is bad."""
    out = []
    for item in evidence or ():
        try:
            raw_name, content = item
        except (TypeError, ValueError):
            raise LedgerError("佐证材料须为（文件名, 内容）。") from None
        name = _file_name(raw_name)
        if isinstance(content, bytearray | memoryview):
            content = bytes(content)
        if not isinstance(content, bytes):
            raise LedgerError(f"佐证材料「{name}」的内容须为文件字节。")
        if not content:
            raise LedgerError(f"佐证材料「{name}」是空文件。")
        if len(content) > EVIDENCE_MAX_BYTES:
            raise LedgerError(
                f"佐证材料「{name}」大小为 {len(content) / 1048576:.1f} MB，超过 20 MB 上限，请压缩或拆分后上传。"
            )
        out.append((name, content, hashlib.sha256(content).hexdigest()))
    return out


def _linked(ref: TaskRef, linked_kpis: Iterable[str] | None) -> list[str]:
    out: list[str] = []
    for kid in linked_kpis or ():
        if kid not in ref.kpis:
            raise LedgerError(f"关联指标 {kid} 不属于任务 {ref.task.id} 所在的方案。")
        if kid not in out:
            out.append(kid)
    return out


def _milestone_items(milestones: Iterable[tuple[str, dt.date]] | None) -> list[tuple[str, dt.date]]:
    out = []
    for n, item in enumerate(milestones or (), start=1):
        try:
            title, due = item
        except (TypeError, ValueError):
            raise LedgerError(f"第 {n} 个时间节点须为（节点名称, 完成时限）。") from None
        out.append((_text(title, f"第 {n} 个时间节点的名称", max_chars=SHORT_MAX_CHARS), _date(due, "完成时限")))
    return out
