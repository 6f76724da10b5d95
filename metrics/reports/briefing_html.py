"""The weekly briefing as one self-contained printable HTML page: the page and its CSS come from
templates/ (string.Template), the sections, status chart and sparklines (inline SVG) are drawn here, every
piece of catalogue or user text is escaped, and elements carry data attributes tests can read back.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from string import Template
from typing import Any

import pandas as pd

from metrics.catalogue import Catalogue, Kpi, load_catalogues
from metrics.contract.records import RECORD_TYPES
from metrics.kpi.engine import KpiResult
from metrics.kpi.freshness import REPORTED_WITHIN_DAYS
from metrics.kpi.status import (
    STATUSES,
)
from metrics.present.format import STATUS_COLORS, format_date, format_value, status_label

__all__ = ["render_briefing"]


from metrics.reports.briefing_content import TOP_MOVERS, BriefingData, _as_date, _isna, method_notes

TEMPLATES = Path(__file__).parent / "templates"
_PAGE = Template((TEMPLATES / "briefing.html").read_text(encoding="utf-8"))
_CSS = (TEMPLATES / "briefing.css").read_text(encoding="utf-8")


TEXT: dict[str, dict[str, str]] = {
    "title": {"zh": "就业工作周报（截至{date}）", "en": "Employment weekly briefing (as of {date})"},
    "subtitle": {
        "zh": "{programmes}个项目 · {kpis}个指标 · {basis}",
        "en": "{programmes} programmes · {kpis} KPIs · {basis}",
    },
    "basis": {"zh": "与{date}周快照比较", "en": "compared with the snapshot of {date}"},
    "no_basis": {"zh": "暂无上周快照", "en": "no snapshot from last week"},
    "h_headline": {"zh": "一、总体情况", "en": "1. Status at a glance"},
    "h_by_programme": {"zh": "分项目情况", "en": "By programme"},
    "h_changes": {"zh": "二、本周变化", "en": "2. Changes since last week"},
    "h_newly_bad": {"zh": "新出现的滞后、有风险指标", "en": "Newly off track or at risk"},
    "h_newly_good": {"zh": "新达标指标", "en": "Newly achieved"},
    "no_snapshot": {"zh": "暂无上周快照，无法比较。", "en": "No snapshot from last week; nothing to compare with."},
    "none_newly_bad": {"zh": "本周没有新出现滞后或有风险的指标。", "en": "No KPI newly fell off track or at risk."},
    "none_newly_good": {"zh": "本周没有新达标的指标。", "en": "No KPI newly achieved its target."},
    "h_movers": {"zh": "三、完成进度变化最大的指标", "en": "3. Biggest movers in progress"},
    "none_movers": {"zh": "与上周相比，完成进度没有变化。", "en": "No change in progress since last week."},
    "movers_note": {
        "zh": "完成进度 = 实际 ÷ 目标；按与上周快照相比的变化幅度排序，前{n}名。走势图为本统计期内的实际值（实线）与应完成量（虚线）。",
        "en": "Progress = actual ÷ target; the top {n} by change since last week's snapshot. Sparklines: actual (solid) and expected (dashed) over the current window.",
    },
    "new_period_note": {
        "zh": "另有{n}个指标本周进入新的统计期，不参与比较。",
        "en": "{n} more KPIs started a new period this week and are not compared.",
    },
    "h_attention": {"zh": "四、滞后和有风险的指标", "en": "4. Off-track and at-risk KPIs"},
    "none_attention": {"zh": "没有滞后或有风险的指标。", "en": "No KPI is off track or at risk."},
    "h_stale": {"zh": "五、数据未按时更新", "en": "5. Data not updated on time"},
    "none_stale": {"zh": "各类数据均已按期更新。", "en": "All data is up to date."},
    "h_stale_reported": {
        "zh": "{n}天内未填报的填报类指标",
        "en": "Reported KPIs without a report in {n} days",
    },
    "none_stale_reported": {"zh": "填报类指标均已按时填报。", "en": "Every reported KPI has a recent report."},
    "h_overdue": {"zh": "六、逾期任务", "en": "6. Overdue tasks"},
    "ledger_off": {"zh": "任务台账尚未启用。", "en": "The task ledger is not in use yet."},
    "none_overdue": {"zh": "暂无逾期任务。", "en": "No overdue tasks."},
    "h_method": {"zh": "口径说明", "en": "Method notes"},
    "programme": {"zh": "项目", "en": "Programme"},
    "district": {"zh": "区", "en": "District"},
    "total": {"zh": "合计", "en": "Total"},
    "kpi": {"zh": "指标", "en": "KPI"},
    "status": {"zh": "状态", "en": "Status"},
    "status_change": {"zh": "上周 → 本周", "en": "Last week → now"},
    "actual": {"zh": "实际", "en": "Actual"},
    "target": {"zh": "目标", "en": "Target"},
    "expected": {"zh": "应完成", "en": "Expected by now"},
    "pace": {"zh": "进度比", "en": "Pace"},
    "progress": {"zh": "完成进度", "en": "Progress"},
    "change": {"zh": "变化", "en": "Change"},
    "value_change": {"zh": "实际值变化", "en": "Value"},
    "trend": {"zh": "走势", "en": "Trend"},
    "lead_unit": {"zh": "牵头单位", "en": "Lead unit"},
    "rule": {"zh": "判定依据", "en": "Rule"},
    "record_type": {"zh": "数据类型", "en": "Record type"},
    "last_upload": {"zh": "最近上传", "en": "Last upload"},
    "last_data": {"zh": "最新数据日期", "en": "Latest data date"},
    "days_since": {"zh": "距今天数", "en": "Days since"},
    "expected_days": {"zh": "应更新周期（天）", "en": "Expected every (days)"},
    "last_report": {"zh": "最近填报截至", "en": "Last report for"},
    "never": {"zh": "从未填报", "en": "never reported"},
    "no_data_yet": {"zh": "无数据", "en": "no data"},
    "not_in_snapshot": {"zh": "（新指标）", "en": "(new KPI)"},
    "task_id": {"zh": "任务编号", "en": "Task"},
    "task_title": {"zh": "任务", "en": "Title"},
    "due_date": {"zh": "截止日期", "en": "Due"},
    "days_overdue": {"zh": "逾期天数", "en": "Days overdue"},
    "generated": {"zh": "生成时间", "en": "Generated"},
    "data_version": {"zh": "数据版本", "en": "Data version"},
    "pp": {"zh": "{x}个百分点", "en": "{x} pts"},
    "chart_label": {"zh": "各项目指标状态分布", "en": "KPI status by programme"},
}

# The method notes after the status rule's own (metrics.kpi.status.rule_notes, docs/kpi-semantics.md).
RECORD_TITLES_EN = {
    "placements": "Placements",
    "trainings": "Trainings",
    "applications": "Subsidy applications",
    "events": "Recruitment and service events",
    "vacancies": "Vacancies collected",
    "disputes": "Labour dispute cases",
    "contract_returns": "Labour contract returns",
    "startups": "Start-ups",
    "communities": "Community employment staff",
    "graduate_followups": "Graduate follow-ups",
    "progress_reports": "Reported KPI values",
    "survey_responses": "Employment-friendliness survey",
}


def _e(value: Any) -> str:
    """Escape any text for HTML element content and attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


class _Text:
    def __init__(self, lang: str):
        if lang not in ("zh", "en"):
            raise ValueError(f"lang must be zh or en, not {lang!r}")
        self.lang = lang

    def __call__(self, key: str, **kw: Any) -> str:
        s = TEXT[key][self.lang]
        return s.format(**kw) if kw else s


# --------------------------------------------------------------------------- SVG


def _status_chart(data: BriefingData, cats: dict[str, Catalogue], t: _Text) -> str:
    """A 100% stacked bar per programme, one colour per status, counts in the segments."""
    width, left, bar_w, row_h = 900, 8, 884, 44
    rows = [pid for pid in cats if sum(data.programme_counts[pid].values())]
    legend_h = 26
    height = legend_h + row_h * len(rows) + 4
    parts = [
        f'<svg class="chart" id="status-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(t("chart_label"))}">'
    ]
    x = left
    for s in STATUSES:
        label = status_label(s, t.lang)
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{STATUS_COLORS[s]}"/>')
        parts.append(f'<text x="{x + 16}" y="16" class="lg">{_e(label)}</text>')
        x += 24 + 13 * len(label) if t.lang == "zh" else 24 + 7 * len(label)
    for i, pid in enumerate(rows):
        y = legend_h + i * row_h
        counts = data.programme_counts[pid]
        total = sum(counts.values())
        prog = cats[pid].programme
        name = prog.short_title_zh if t.lang == "zh" else prog.short_title_en
        label = f"{name}（{prog.district}）" if t.lang == "zh" else f"{name} ({prog.district})"
        parts.append(f'<text x="{left}" y="{y + 13}" class="pl">{_e(label)}</text>')
        bx = float(left)
        for s in STATUSES:
            n = counts[s]
            if not n:
                continue
            w = bar_w * n / total
            parts.append(
                f'<rect x="{bx:.1f}" y="{y + 18}" width="{w:.1f}" height="18" fill="{STATUS_COLORS[s]}" '
                f'data-programme="{_e(pid)}" data-status="{s}" data-count="{n}">'
                f"<title>{_e(status_label(s, t.lang))} {n}</title></rect>"
            )
            if w >= 18:
                parts.append(f'<text x="{bx + w / 2:.1f}" y="{y + 31}" class="bn">{n}</text>')
            bx += w
    parts.append("</svg>")
    return "".join(parts)


def _sparkline(series: pd.DataFrame | None, width: int = 150, height: int = 34) -> str:
    """Actual (solid) and expected (dashed) over the window, scaled to their common range; '' if too short."""
    if series is None or series.empty:
        return ""
    actual = [None if _isna(v) else float(v) for v in series["actual"]]
    expected = [None if _isna(v) else float(v) for v in series["expected"]] if "expected" in series else []
    values = [v for v in actual + expected if v is not None]
    if len([v for v in actual if v is not None]) < 2:
        return ""
    lo, hi = min(0.0, *values), max(values)
    span = hi - lo or 1.0
    n = len(actual)
    pad = 3

    def pts(vals: list[float | None]) -> str:
        out = []
        for i, v in enumerate(vals):
            if v is None:
                continue
            x = pad + (width - 2 * pad) * (i / (n - 1) if n > 1 else 0)
            y = height - pad - (height - 2 * pad) * (v - lo) / span
            out.append(f"{x:.1f},{y:.1f}")
        return " ".join(out)

    last = [(i, v) for i, v in enumerate(actual) if v is not None][-1]
    lx = pad + (width - 2 * pad) * (last[0] / (n - 1) if n > 1 else 0)
    ly = height - pad - (height - 2 * pad) * (last[1] - lo) / span
    exp = ""
    if len([v for v in expected if v is not None]) >= 2:
        exp = (
            f'<polyline points="{pts(expected)}" fill="none" stroke="#8a94a6" stroke-width="1" stroke-dasharray="3 2"/>'
        )
    return (
        f'<svg class="spark" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-hidden="true">{exp}'
        f'<polyline points="{pts(actual)}" fill="none" stroke="#1f5fa8" stroke-width="1.6"/>'
        f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="2.2" fill="#1f5fa8"/></svg>'
    )


class _Page:
    def __init__(self, data: BriefingData, cats: dict[str, Catalogue], lang: str):
        self.d = data
        self.cats = cats
        self.t = _Text(lang)
        self.lang = lang
        self.kpis: dict[str, Kpi] = {k.id: k for c in cats.values() for k in c.kpis}

    # ---- small helpers

    def date(self, d: dt.date | None) -> str:
        return format_date(d, self.lang)

    def prog_name(self, pid: str) -> str:
        p = self.cats[pid].programme
        return p.short_title_zh if self.lang == "zh" else p.short_title_en

    def kpi_name(self, kpi_id: str) -> str:
        k = self.kpis.get(kpi_id)
        if k is None:
            return kpi_id
        return k.name_zh if self.lang == "zh" else k.name_en

    def lead_unit(self, kpi_id: str) -> str:
        k = self.kpis.get(kpi_id)
        return k.lead_unit if k else ""

    def value(self, v: float | None, r: KpiResult) -> str:
        return format_value(v, r.unit, self.lang)

    def target(self, r: KpiResult) -> str:
        if r.target is None:
            return "—"
        sign = {">=": "≥", "<=": "≤"}.get(r.comparator or "", "")
        return f"{sign}{format_value(r.target, r.unit, self.lang)}"

    def badge(self, status: str | None) -> str:
        if status is None:
            return _e(self.t("not_in_snapshot"))
        color = STATUS_COLORS.get(status, "#7f8c8d")
        return f'<span class="badge" style="background:{color}">{_e(status_label(status, self.lang))}</span>'

    @staticmethod
    def pct(x: float | None) -> str:
        return "—" if x is None else f"{x * 100:.1f}%"

    def pp(self, x: float) -> str:
        sign = "+" if x > 0 else "−" if x < 0 else ""
        return self.t("pp", x=f"{sign}{abs(x) * 100:.1f}")

    def kpi_cells(self, r: KpiResult) -> str:
        return f"<td>{_e(self.prog_name(r.programme))}</td><td>{_e(self.kpi_name(r.kpi_id))}</td>"

    def empty(self, key: str, ident: str | None = None) -> str:
        id_attr = f' id="{ident}"' if ident else ""
        return f'<p class="empty"{id_attr}>{_e(self.t(key))}</p>'

    # ---- sections

    def header(self) -> str:
        t = self.t
        basis = t("basis", date=self.date(self.d.previous_date)) if self.d.previous_date else t("no_basis")
        return (
            f'<header><h1 id="title">{_e(t("title", date=self.date(self.d.as_of)))}</h1>'
            f'<p class="meta">{_e(t("subtitle", programmes=len(self.cats), kpis=len(self.d.results), basis=basis))}</p>'
            "</header>"
        )

    def headline(self) -> str:
        t = self.t
        cards = "".join(
            f'<div class="card" style="background:{STATUS_COLORS[s]}" data-scope="overall" data-status="{s}" '
            f'data-count="{self.d.counts[s]}"><span class="num">{self.d.counts[s]}</span>'
            f'<span class="lbl">{_e(status_label(s, self.lang))}</span></div>'
            for s in STATUSES
        )
        head = "".join(f'<th class="n">{_e(status_label(s, self.lang))}</th>' for s in STATUSES)
        rows = []
        for pid in self.cats:
            c = self.d.programme_counts[pid]
            cells = "".join(
                f'<td class="n" data-scope="programme" data-programme="{_e(pid)}" data-status="{s}" '
                f'data-count="{c[s]}">{c[s]}</td>'
                for s in STATUSES
            )
            rows.append(
                f'<tr data-programme="{_e(pid)}"><td>{_e(self.prog_name(pid))}</td>'
                f"<td>{_e(self.cats[pid].programme.district)}</td>{cells}"
                f'<td class="n">{sum(c.values())}</td></tr>'
            )
        total_cells = "".join(f'<td class="n">{self.d.counts[s]}</td>' for s in STATUSES)
        rows.append(f"<tr><th>{_e(t('total'))}</th><th></th>{total_cells}<td class='n'>{len(self.d.results)}</td></tr>")
        return (
            f'<section id="headline"><h2>{_e(t("h_headline"))}</h2><div class="cards">{cards}</div>'
            f"<h3>{_e(t('h_by_programme'))}</h3>"
            f'<table id="programme-counts"><thead><tr><th>{_e(t("programme"))}</th><th>{_e(t("district"))}</th>'
            f'{head}<th class="n">{_e(t("total"))}</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
            f"{_status_chart(self.d, self.cats, t)}</section>"
        )

    def changes(self) -> str:
        t = self.t
        out = [f'<section id="changes"><h2>{_e(t("h_changes"))}</h2>']
        if self.d.previous_date is None:
            out.append(self.empty("no_snapshot", "no-snapshot"))
            out.append("</section>")
            return "".join(out)
        head = (
            f"<thead><tr><th>{_e(t('programme'))}</th><th>{_e(t('kpi'))}</th><th>{_e(t('status_change'))}</th>"
            f'<th class="n">{_e(t("actual"))}</th><th class="n">{_e(t("target"))}</th>'
            f"<th>{_e(t('lead_unit'))}</th></tr></thead>"
        )
        for title, kinds, none_key, ident in (
            ("h_newly_bad", ("newly_off_track", "newly_at_risk"), "none_newly_bad", "newly-bad"),
            ("h_newly_good", ("newly_achieved",), "none_newly_good", "newly-achieved"),
        ):
            out.append(f"<h3>{_e(t(title))}</h3>")
            items = [c for c in self.d.changes if c.kind in kinds]
            if not items:
                out.append(self.empty(none_key))
                continue
            rows = "".join(
                f'<tr data-kpi="{_e(c.kpi_id)}" data-change="{c.kind}">{self.kpi_cells(c.result)}'
                f"<td>{self.badge(c.before)} → {self.badge(c.after)}</td>"
                f'<td class="n">{_e(self.value(c.result.actual, c.result))}</td>'
                f'<td class="n">{_e(self.target(c.result))}</td><td>{_e(self.lead_unit(c.kpi_id))}</td></tr>'
                for c in items
            )
            out.append(f'<table id="{ident}">{head}<tbody>{rows}</tbody></table>')
        out.append("</section>")
        return "".join(out)

    def movers(self) -> str:
        t = self.t
        out = [f'<section id="movers"><h2>{_e(t("h_movers"))}</h2>']
        if self.d.previous_date is None:
            out.append(self.empty("no_snapshot"))
        elif not self.d.movers:
            out.append(self.empty("none_movers"))
        else:
            out.append(f'<p class="note">{_e(t("movers_note", n=TOP_MOVERS))}</p>')
            rows = []
            for m in self.d.movers:
                r = m.result
                cls = "up" if m.change > 0 else "down"
                rows.append(
                    f'<tr data-kpi="{_e(m.kpi_id)}" data-mover="{m.change:.6f}">{self.kpi_cells(r)}'
                    f'<td class="n">{_e(self.value(m.before_actual, r))} → {_e(self.value(m.after_actual, r))}</td>'
                    f'<td class="n">{self.pct(m.before_progress)} → {self.pct(m.after_progress)}</td>'
                    f'<td class="n {cls}">{_e(self.pp(m.change))}</td>'
                    f"<td>{self.badge(r.status)}</td><td>{_sparkline(m.series)}</td></tr>"
                )
            out.append(
                f'<table id="movers-table"><thead><tr><th>{_e(t("programme"))}</th><th>{_e(t("kpi"))}</th>'
                f'<th class="n">{_e(t("value_change"))}</th><th class="n">{_e(t("progress"))}</th>'
                f'<th class="n">{_e(t("change"))}</th><th>{_e(t("status"))}</th><th>{_e(t("trend"))}</th></tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table>"
            )
        if self.d.skipped_new_period:
            out.append(f'<p class="note">{_e(t("new_period_note", n=len(self.d.skipped_new_period)))}</p>')
        out.append("</section>")
        return "".join(out)

    def attention(self) -> str:
        t = self.t
        out = [f'<section id="attention"><h2>{_e(t("h_attention"))}</h2>']
        if not self.d.attention:
            out.append(self.empty("none_attention"))
        else:
            rows = "".join(
                f'<tr data-kpi="{_e(r.kpi_id)}" data-status="{r.status}">{self.kpi_cells(r)}'
                f"<td>{self.badge(r.status)}</td>"
                f'<td class="n">{_e(self.value(r.actual, r))}</td><td class="n">{_e(self.target(r))}</td>'
                f'<td class="n">{_e(self.value(r.expected, r))}</td>'
                f'<td class="n">{"—" if r.pace is None else f"{r.pace:.2f}"}</td>'
                f"<td>{_e(self.lead_unit(r.kpi_id))}</td>"
                f'<td class="rule">{_e(r.rule_zh if self.lang == "zh" else r.rule_en)}</td></tr>'
                for r in self.d.attention
            )
            out.append(
                f'<table id="attention-table"><thead><tr><th>{_e(t("programme"))}</th><th>{_e(t("kpi"))}</th>'
                f'<th>{_e(t("status"))}</th><th class="n">{_e(t("actual"))}</th><th class="n">{_e(t("target"))}</th>'
                f'<th class="n">{_e(t("expected"))}</th><th class="n">{_e(t("pace"))}</th>'
                f"<th>{_e(t('lead_unit'))}</th><th>{_e(t('rule'))}</th></tr></thead><tbody>{rows}</tbody></table>"
            )
        out.append("</section>")
        return "".join(out)

    def record_title(self, record: str) -> str:
        if self.lang == "zh":
            return RECORD_TYPES[record].title_zh
        return RECORD_TITLES_EN.get(record, record)

    def stale(self) -> str:
        t = self.t
        out = [f'<section id="stale"><h2>{_e(t("h_stale"))}</h2>']
        stale = self.d.stale[self.d.stale["stale"]]
        if stale.empty:
            out.append(self.empty("none_stale", "no-stale"))
        else:
            rows = []
            for rec in stale.to_dict("records"):
                days = rec["days_since"]
                rows.append(
                    f'<tr data-stale="{_e(rec["programme"])}|{_e(rec["record_type"])}">'
                    f"<td>{_e(self.prog_name(rec['programme']))}</td><td>{_e(rec['district'])}</td>"
                    f"<td>{_e(self.record_title(rec['record_type']))}</td>"
                    f'<td class="n">{_e(self.date(_as_date(rec["last_upload"])))}</td>'
                    f'<td class="n">{_e(self.date(_as_date(rec["last_record_date"])))}</td>'
                    f'<td class="n">{_e(t("no_data_yet") if _isna(days) else int(days))}</td>'
                    f'<td class="n">{int(rec["expected_days"])}</td>'
                    f"<td>{_e('、'.join(rec['lead_units']))}</td></tr>"
                )
            out.append(
                f'<table id="stale-table"><thead><tr><th>{_e(t("programme"))}</th><th>{_e(t("district"))}</th>'
                f'<th>{_e(t("record_type"))}</th><th class="n">{_e(t("last_upload"))}</th>'
                f'<th class="n">{_e(t("last_data"))}</th><th class="n">{_e(t("days_since"))}</th>'
                f'<th class="n">{_e(t("expected_days"))}</th><th>{_e(t("lead_unit"))}</th></tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table>"
            )
        out.append(f"<h3>{_e(t('h_stale_reported', n=REPORTED_WITHIN_DAYS))}</h3>")
        rep = self.d.stale_reported
        if rep.empty:
            out.append(self.empty("none_stale_reported"))
        else:
            rows = []
            for rec in rep.to_dict("records"):
                last = _as_date(rec["last_period_end"])
                days = rec["days_since"]
                rows.append(
                    f'<tr data-kpi="{_e(rec["kpi_id"])}" data-stale-report="1">'
                    f"<td>{_e(self.prog_name(rec['programme']))}</td><td>{_e(self.kpi_name(rec['kpi_id']))}</td>"
                    f"<td>{_e(rec['lead_unit'])}</td>"
                    f'<td class="n">{_e(self.date(last) if last else t("never"))}</td>'
                    f'<td class="n">{"—" if _isna(days) else int(days)}</td></tr>'
                )
            out.append(
                f'<table id="stale-reported-table"><thead><tr><th>{_e(t("programme"))}</th><th>{_e(t("kpi"))}</th>'
                f'<th>{_e(t("lead_unit"))}</th><th class="n">{_e(t("last_report"))}</th>'
                f'<th class="n">{_e(t("days_since"))}</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
            )
        out.append("</section>")
        return "".join(out)

    def overdue(self) -> str:
        t = self.t
        out = [f'<section id="overdue"><h2>{_e(t("h_overdue"))}</h2>']
        df = self.d.overdue
        if df is None:
            out.append(self.empty("ledger_off", "ledger-off"))
        elif df.empty:
            out.append(self.empty("none_overdue"))
        else:
            rows = []
            for rec in df.to_dict("records"):
                due = _as_date(rec["due_date"])
                due_text = self.date(due) if due else ("—" if _isna(rec["due_date"]) else str(rec["due_date"]))
                days = rec["days_overdue"]
                rows.append(
                    f'<tr data-task="{_e(rec["task_id"])}"><td>{_e(rec["task_id"])}</td><td>{_e(rec["title"])}</td>'
                    f'<td>{_e(rec["lead_unit"])}</td><td class="n">{_e(due_text)}</td>'
                    f'<td class="n">{"—" if _isna(days) else _e(int(days))}</td></tr>'
                )
            out.append(
                f'<table id="overdue-table"><thead><tr><th>{_e(t("task_id"))}</th><th>{_e(t("task_title"))}</th>'
                f'<th>{_e(t("lead_unit"))}</th><th class="n">{_e(t("due_date"))}</th>'
                f'<th class="n">{_e(t("days_overdue"))}</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
            )
        out.append("</section>")
        return "".join(out)

    def method(self) -> str:
        items = "".join(f"<li>{_e(x)}</li>" for x in method_notes(self.cats, self.lang))
        return f'<section id="method"><h2>{_e(self.t("h_method"))}</h2><ol class="method">{items}</ol></section>'

    def footer(self) -> str:
        t = self.t
        g = self.d.generated_at
        when = f"{format_date(g.date(), self.lang)} {g:%H:%M}"
        colon = "：" if self.lang == "zh" else ": "
        return (
            f'<footer id="footer">{_e(t("generated"))}{colon}{_e(when)} · '
            f'{_e(t("data_version"))}{colon}<span id="data-version">{self.d.data_version}</span> · '
            f'<a href="#method">{_e(t("h_method"))}</a></footer>'
        )

    def render(self) -> str:
        title = self.t("title", date=self.date(self.d.as_of))
        body = "".join(
            [
                self.header(),
                self.headline(),
                self.changes(),
                self.movers(),
                self.attention(),
                self.stale(),
                self.overdue(),
                self.method(),
                self.footer(),
            ]
        )
        return _PAGE.substitute(lang="zh-CN" if self.lang == "zh" else "en", title=_e(title), css=_CSS, body=body)


def render_briefing(data: BriefingData, catalogues: dict[str, Catalogue] | None = None, lang: str = "zh") -> str:
    """The briefing page for already computed data, in Chinese (zh) or English (en)."""
    cats = catalogues if catalogues is not None else load_catalogues()
    return _Page(data, cats, lang).render()
