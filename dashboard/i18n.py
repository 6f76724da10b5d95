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
    "explain": {"zh": "查看详情与口径", "en": "Details and method"},
    "since_last_week": {"zh": "较上周快照", "en": "vs last week's snapshot"},
    "targets_section": {"zh": "目标指标", "en": "KPIs with targets"},
    "monitoring_section": {"zh": "监测指标（不设目标）", "en": "Monitoring KPIs (no target)"},
    "no_match": {"zh": "没有符合筛选条件的指标。", "en": "No KPI matches the filters."},
    "stale_title": {"zh": "数据未按时更新", "en": "Data not updated on time"},
    "stale_none": {"zh": "各类数据均已按期更新。", "en": "All data is up to date."},
    "overdue_title": {"zh": "逾期任务", "en": "Overdue tasks"},
    "overdue_none": {"zh": "暂无逾期任务。", "en": "No overdue tasks."},
    "ledger_pending": {
        "zh": "任务台账（建账-督办-销账）启用后在此列出逾期任务。",
        "en": "Overdue tasks appear here once the task ledger is in use.",
    },
    "briefing_download": {
        "zh": "下载本周周报（HTML，可打印）",
        "en": "Download this week's briefing (HTML, printable)",
    },
    "value": {"zh": "数值", "en": "Value"},
    "record_type": {"zh": "数据类型", "en": "Record type"},
    "last_data": {"zh": "最近数据", "en": "Last data"},
    "days_since": {"zh": "距今天数", "en": "Days since"},
    "unit": {"zh": "单位", "en": "Unit"},
    "detail_title": {"zh": "指标详情", "en": "KPI detail"},
    "choose_kpi": {"zh": "选择指标", "en": "Choose a KPI"},
    "projection": {"zh": "按当前进度预计期末", "en": "Projected at period end"},
    "required_weekly": {"zh": "每周还需完成", "en": "Needed per week"},
    "trend": {"zh": "趋势", "en": "Trend"},
    "grain": {"zh": "时间粒度", "en": "Grain"},
    "week": {"zh": "按周", "en": "Weekly"},
    "month": {"zh": "按月", "en": "Monthly"},
    "trend_title": {
        "zh": "{name}：截至各期末累计值与应完成进度",
        "en": "{name}: value at each period end vs expected pace",
    },
    "breakdowns": {"zh": "分项构成", "en": "Breakdowns"},
    "breakdown_title": {"zh": "{name}（按{dim}）", "en": "{name} by {dim}"},
    "why": {"zh": "口径说明：这个数是怎么来的", "en": "Why: how this number is computed"},
    "formula": {"zh": "计算公式", "en": "Formula"},
    "inputs": {"zh": "输入数据", "en": "Inputs"},
    "rule": {"zh": "状态判定规则", "en": "Status rule"},
    "source_text": {"zh": "政策原文", "en": "Source document"},
    "full_document": {"zh": "查看全文（原文条款已高亮）", "en": "Full document (the clause is highlighted)"},
    "download_table": {"zh": "下载汇总数据（CSV）", "en": "Download the aggregated data (CSV)"},
    "no_breakdown": {"zh": "该指标没有可用的分项维度。", "en": "This KPI has no breakdown dimensions."},
    "target_line": {"zh": "目标", "en": "Target"},
    "expected_line": {"zh": "应完成（按时间进度）", "en": "Expected by date"},
    "programmes_title": {"zh": "政策项目", "en": "Programmes"},
    "tasks": {"zh": "重点任务", "en": "Tasks"},
    "cooperating": {"zh": "配合单位", "en": "Cooperating units"},
    "subsidies": {"zh": "补贴与奖励标准", "en": "Subsidy and award standards"},
    "valid": {"zh": "执行期限", "en": "In force"},
    "open_ended": {"zh": "长期有效", "en": "open-ended"},
    "document_no": {"zh": "文号", "en": "Document no."},
    "title": {"zh": "标题", "en": "Title"},
    "name": {"zh": "名称", "en": "Name"},
    "standard": {"zh": "标准", "en": "Standard"},
    "recipient": {"zh": "对象", "en": "Recipient"},
    "eligibility": {"zh": "条件", "en": "Eligibility"},
    "caption_progress": {
        "zh": "完成进度 = 实际 ÷ 目标；计数类指标另看进度比（实际 ÷ 按时间应完成量）。",
        "en": "Progress = actual ÷ target; for counts see pace (actual ÷ expected by now).",
    },
}


def lang() -> str:
    return str(st.session_state.get("lang", "zh"))


def t(key: str) -> str:
    return STRINGS[key][lang()]
