"""How numbers, dates and statuses read to a person, in Chinese (default) or English.

Chinese conventions: 万 and 亿 for large numbers, 年月日 dates, percentages with one decimal. Exports keep
raw values; only what a person reads goes through here.
"""

from __future__ import annotations

import datetime as dt
import math

__all__ = ["STATUS_COLORS", "STATUS_LABELS", "format_date", "format_number", "format_value", "status_label"]

STATUS_LABELS: dict[str, dict[str, str]] = {
    "achieved": {"zh": "已达标", "en": "Achieved"},
    "on_track": {"zh": "进度正常", "en": "On track"},
    "at_risk": {"zh": "有风险", "en": "At risk"},
    "off_track": {"zh": "滞后", "en": "Off track"},
    "no_data": {"zh": "无数据", "en": "No data"},
    "monitoring": {"zh": "监测", "en": "Monitoring"},
}

# One colour per status, shared by the dashboard's charts and the weekly briefing.
STATUS_COLORS: dict[str, str] = {
    "achieved": "#1e8449",
    "on_track": "#2e86c1",
    "at_risk": "#d68910",
    "off_track": "#c0392b",
    "no_data": "#7f8c8d",
    "monitoring": "#6c5ce7",
}

SHARE_UNITS = {"%", "％"}


def status_label(status: str, lang: str = "zh") -> str:
    return STATUS_LABELS.get(status, {}).get(lang, status)


def _trim(x: float, digits: int) -> str:
    s = f"{x:,.{digits}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_number(value: float | None, lang: str = "zh", digits: int = 2) -> str:
    """285 → '285'; 40000 → '4万'; 250000000 → '2.5亿' (English: 40,000; 250 million)."""
    if _missing(value):
        return "—"
    v = float(value)  # type: ignore[arg-type]
    a = abs(v)
    if lang == "zh":
        if a >= 1e8:
            return _trim(v / 1e8, digits) + "亿"
        if a >= 1e4:
            return _trim(v / 1e4, digits) + "万"
        return _trim(v, 0 if v == int(v) else 1)
    if a >= 1e9:
        return _trim(v / 1e9, digits) + " billion"
    if a >= 1e6:
        return _trim(v / 1e6, digits) + " million"
    return _trim(v, 0 if v == int(v) else 1)


def format_value(value: float | None, unit: str, lang: str = "zh", digits: int = 1) -> str:
    """A KPI value with its unit: shares as percentages, counts with 万/亿 and the unit ('285场')."""
    if value is None or _missing(value):
        return "—"
    if unit in SHARE_UNITS:
        return f"{value * 100:.{digits}f}%"
    if unit == "分":
        return f"{value:.2f}{'分' if lang == 'zh' else ''}"
    text = format_number(value, lang)
    if lang == "zh":
        return f"{text}{unit}"
    return text


def format_date(d: dt.date | None, lang: str = "zh") -> str:
    if d is None:
        return "—"
    return f"{d.year}年{d.month}月{d.day}日" if lang == "zh" else d.isoformat()
