"""Every UI string in one place, Chinese first; `t(key)` reads the language chosen in the sidebar."""

from __future__ import annotations

import streamlit as st

LANGS = {"zh": "中文", "en": "English"}

STRINGS: dict[str, dict[str, str]] = {
    "app_title": {"zh": "就业工作指标看板", "en": "Employment KPI dashboard"},
    "nav_overview": {"zh": "总览", "en": "Overview"},
    "nav_detail": {"zh": "指标详情", "en": "KPI detail"},
    "nav_programmes": {"zh": "项目", "en": "Programmes"},
    "overview_title": {"zh": "就业工作指标总览", "en": "Employment programme KPIs"},
    "as_of": {"zh": "统计截至", "en": "As of"},
    "language": {"zh": "语言 / Language", "en": "Language / 语言"},
    "programme": {"zh": "项目", "en": "Programme"},
    "all": {"zh": "全部", "en": "All"},
    "lead_unit": {"zh": "牵头单位", "en": "Lead unit"},
    "status": {"zh": "状态", "en": "Status"},
    "kpi": {"zh": "指标", "en": "KPI"},
    "actual": {"zh": "实际", "en": "Actual"},
    "target": {"zh": "目标", "en": "Target"},
    "expected": {"zh": "应完成", "en": "Expected by now"},
    "progress": {"zh": "完成进度", "en": "Progress"},
    "pace": {"zh": "进度比", "en": "Pace"},
    "window": {"zh": "统计期", "en": "Window"},
    "clause": {"zh": "条款", "en": "Clause"},
    "no_db": {
        "zh": "尚未找到数据库。请先运行 `make run`（会自动生成演示数据库）或 `kpi demo --db data/kpi.duckdb`。",
        "en": "No database found. Run `make run` (it builds the demo database) or `kpi demo --db data/kpi.duckdb`.",
    },
    "data_version": {"zh": "数据版本", "en": "Data version"},
    "kpi_count": {"zh": "个指标", "en": "KPIs"},
    "sort_urgency": {"zh": "按紧迫程度排序（滞后、有风险在前）", "en": "Sort by urgency (off track and at risk first)"},
    "caption_progress": {
        "zh": "完成进度 = 实际 ÷ 目标；计数类指标另看进度比（实际 ÷ 按时间应完成量）。",
        "en": "Progress = actual ÷ target; for counts see pace (actual ÷ expected by now).",
    },
}


def lang() -> str:
    return str(st.session_state.get("lang", "zh"))


def t(key: str) -> str:
    return STRINGS[key][lang()]
