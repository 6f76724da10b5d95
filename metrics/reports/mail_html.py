"""The weekly e-mail's body, in HTML for a phone screen and in plain text, from the briefing's content.

Mail clients ignore <style> blocks and scripts and do not draw SVG, so the HTML is tables with inline
styles, at most 600 px wide, one column; charts are PNG images referenced by `cid:` (metrics.reports.mail
attaches them). Every piece of catalogue or user text is escaped. The numbers are the briefing's own
(metrics.reports.briefing_content), narrowed to the programmes the reader subscribed to.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
from collections import Counter
from collections.abc import Collection, Mapping

from metrics.catalogue import Catalogue
from metrics.kpi.engine import KpiResult
from metrics.kpi.status import STATUSES, progress
from metrics.present.format import STATUS_COLORS, format_date, status_label
from metrics.reports.briefing_content import BriefingData
from metrics.reports.briefing_html import TEXT, _Page
from metrics.reports.charts_png import ASSESSED, Bar

__all__ = ["MAX_LISTED", "attention_bars", "for_programmes", "render_html", "render_text", "subject"]

MAX_LISTED = 8  # KPIs, changes and tasks listed in the mail; the attached briefing has them all
FONT = (
    "-apple-system,BlinkMacSystemFont,'PingFang SC','Hiragino Sans GB','Microsoft YaHei','Noto Sans CJK SC',"
    "'Source Han Sans SC','WenQuanYi Micro Hei',sans-serif"
)
INK, MUTED, RULE = "#1c2733", "#5b6675", "#e3e7ec"
CHANGE_ZH = {"newly_off_track": "新滞后", "newly_at_risk": "新有风险", "newly_achieved": "新达标"}


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def subject(as_of: dt.date) -> str:
    """就业工作周报（截至2026年11月29日）: the briefing's own title."""
    return TEXT["title"]["zh"].format(date=format_date(as_of))


def for_programmes(data: BriefingData, programmes: Collection[str]) -> BriefingData:
    """The briefing's content for some programmes only (empty: all of them). Overdue tasks are kept whole:
    they are already only those the reader may see."""
    if not programmes:
        return data
    keep = set(programmes)
    results = [r for r in data.results if r.programme in keep]
    c = Counter(r.status for r in results)
    stale = data.stale[data.stale["programme"].isin(keep)] if "programme" in data.stale else data.stale
    return dataclasses.replace(
        data,
        results=results,
        counts={s: c.get(s, 0) for s in STATUSES},
        programme_counts={p: n for p, n in data.programme_counts.items() if p in keep},
        changes=[x for x in data.changes if x.programme in keep],
        movers=[m for m in data.movers if m.programme in keep],
        attention=[r for r in data.attention if r.programme in keep],
        stale=stale,
        skipped_new_period=[k for k in data.skipped_new_period if any(r.kpi_id == k for r in results)],
    )


def attention_bars(data: BriefingData, cats: Mapping[str, Catalogue]) -> list[Bar]:
    """The progress chart's bars: the off-track and at-risk KPIs (off track first) that have a completion."""
    page = _Page(data, dict(cats), "zh")
    bars = []
    for r in data.attention[:MAX_LISTED]:
        p = progress(r.actual, r.target, r.comparator)
        if p is None:
            continue
        expected = progress(r.expected, r.target, r.comparator) if r.expected is not None else None
        bars.append(Bar(page.kpi_name(r.kpi_id), p, expected, r.status))
    return bars


class _Mail:
    """The HTML body; `images` maps a chart's name to its Content-ID (no entry: the chart is left out)."""

    def __init__(self, data: BriefingData, cats: Mapping[str, Catalogue], programmes: Collection[str]):
        self.d = data
        self.page = _Page(data, dict(cats), "zh")
        self.programmes = [p for p in cats if not programmes or p in programmes]

    # ---- pieces

    @staticmethod
    def h2(text: str) -> str:
        return (
            f'<tr><td style="padding:20px 16px 6px 16px;font-size:18px;font-weight:bold;color:{INK};'
            f'border-top:1px solid {RULE}">{_e(text)}</td></tr>'
        )

    @staticmethod
    def para(text: str, *, color: str = MUTED, size: int = 14) -> str:
        return f'<tr><td style="padding:4px 16px;font-size:{size}px;line-height:1.6;color:{color}">{_e(text)}</td></tr>'

    @staticmethod
    def badge(status: str | None) -> str:
        if status is None:
            return _e("（新指标）")
        color = STATUS_COLORS.get(status, "#7f8c8d")
        return (
            f'<span style="display:inline-block;padding:1px 7px;border-radius:9px;background:{color};'
            f'color:#ffffff;font-size:12px;white-space:nowrap">{_e(status_label(status))}</span>'
        )

    @staticmethod
    def image(cid: str, alt: str) -> str:
        return (
            f'<tr><td style="padding:8px 16px"><img src="cid:{_e(cid)}" alt="{_e(alt)}" width="560" '
            'style="display:block;width:100%;max-width:560px;height:auto;border:0"></td></tr>'
        )

    def kpi_block(self, r: KpiResult, extra: str = "") -> str:
        p = self.page
        share = progress(r.actual, r.target, r.comparator)
        figures = f"实际 {p.value(r.actual, r)} · 目标 {p.target(r)}"
        if r.expected is not None and r.period not in ("rate", "coverage"):
            figures += f" · 应完成 {p.value(r.expected, r)}"
        big = "—" if share is None else f"{share * 100:.1f}%"
        return (
            f'<tr><td style="padding:10px 16px;border-bottom:1px solid {RULE}">'
            f'<div style="font-size:16px;font-weight:bold;color:{INK};line-height:1.4">{_e(p.kpi_name(r.kpi_id))}</div>'
            f'<div style="font-size:13px;color:{MUTED};line-height:1.5">{_e(p.prog_name(r.programme))} · '
            f"{_e(p.lead_unit(r.kpi_id))}</div>"
            '<table role="presentation" width="100%" style="border-collapse:collapse;margin-top:4px"><tr>'
            f'<td style="font-size:26px;font-weight:bold;color:{STATUS_COLORS.get(r.status, INK)};white-space:nowrap;'
            f'padding-right:10px;width:1%">{_e(big)}</td>'
            f'<td style="font-size:13px;color:{INK};line-height:1.5">{self.badge(r.status)}{extra}<br>{_e(figures)}</td>'
            "</tr></table></td></tr>"
        )

    # ---- sections

    def header(self) -> str:
        d, cats = self.d, self.page.cats
        names = "、".join(cats[p].programme.short_title_zh for p in self.programmes)
        basis = f"与{format_date(d.previous_date)}周快照比较" if d.previous_date else "暂无上周快照，本周不比较变化"
        return (
            f'<tr><td style="padding:18px 16px 4px 16px;font-size:21px;font-weight:bold;color:{INK};line-height:1.4">'
            f"{_e(subject(d.as_of))}</td></tr>" + self.para(f"订阅项目：{names}") + self.para(basis)
        )

    def headline(self, status_cid: str | None) -> str:
        d = self.d
        cells = []
        for s in ASSESSED:
            cells.append(
                f'<td width="33%" style="padding:4px" data-status="{s}" data-count="{d.counts[s]}">'
                f'<div style="background:{STATUS_COLORS[s]};border-radius:6px;padding:8px 4px;text-align:center;'
                f'color:#ffffff"><div style="font-size:28px;font-weight:bold;line-height:1.2">{d.counts[s]}</div>'
                f'<div style="font-size:13px">{_e(status_label(s))}</div></div></td>'
            )
        rows = "".join(f"<tr>{''.join(cells[i : i + 3])}</tr>" for i in range(0, len(cells), 3))
        out = [
            self.h2("一、总体情况"),
            f'<tr><td style="padding:4px 12px"><table role="presentation" width="100%" '
            f'style="border-collapse:collapse;table-layout:fixed">{rows}</table></td></tr>',
        ]
        if d.counts.get("monitoring"):
            out.append(self.para(f"另有监测指标{d.counts['monitoring']}个（不设目标、不评状态）。"))
        if status_cid:
            out.append(self.image(status_cid, "各项目考核指标状态：" + self.status_alt()))
        return "".join(out)

    def status_alt(self) -> str:
        parts = []
        for pid in self.programmes:
            c = self.d.programme_counts.get(pid, {})
            counts = "，".join(f"{status_label(s)}{c.get(s, 0)}" for s in ASSESSED if c.get(s, 0))
            parts.append(f"{self.page.prog_name(pid)}：{counts or '无考核指标'}")
        return "；".join(parts)

    def attention(self, chart_cid: str | None) -> str:
        d = self.d
        out = [self.h2("二、滞后和有风险的指标")]
        if not d.attention:
            return "".join([*out, self.para("没有滞后或有风险的指标。", color=INK)])
        n_off = sum(r.status == "off_track" for r in d.attention)
        out.append(self.para(f"滞后{n_off}个，有风险{len(d.attention) - n_off}个；滞后的在前。大字为完成进度。"))
        if chart_cid:
            out.append(self.image(chart_cid, "完成进度（竖线为按时间应达到的进度）"))
        out.extend(self.kpi_block(r) for r in d.attention[:MAX_LISTED])
        if len(d.attention) > MAX_LISTED:
            out.append(self.para(f"另有{len(d.attention) - MAX_LISTED}个，见附件周报。"))
        return "".join(out)

    def changes(self) -> str:
        d = self.d
        out = [self.h2("三、本周变化")]
        if d.previous_date is None:
            return "".join([*out, self.para("暂无上周快照，无法比较。", color=INK)])
        if not d.changes:
            out.append(self.para("本周没有新出现滞后、有风险或新达标的指标。", color=INK))
        for c in d.changes[:MAX_LISTED]:
            extra = f" <span style='color:{MUTED}'>{_e(CHANGE_ZH[c.kind])}（上周：</span>{self.badge(c.before)}）"
            out.append(self.kpi_block(c.result, extra))
        if len(d.changes) > MAX_LISTED:
            out.append(self.para(f"另有{len(d.changes) - MAX_LISTED}项变化，见附件周报。"))
        if d.movers:
            out.append(self.para("完成进度变化最大的指标：", color=INK, size=15))
            p = self.page
            for m in d.movers[:5]:
                arrow = "▲" if m.change > 0 else "▼"
                out.append(
                    self.para(
                        f"{arrow} {p.kpi_name(m.kpi_id)}：{p.pct(m.before_progress)} → {p.pct(m.after_progress)}"
                        f"（{p.pp(m.change)}）",
                        color=INK,
                    )
                )
        return "".join(out)

    def overdue(self) -> str:
        df = self.d.overdue
        out = [self.h2("四、逾期任务")]
        if df is None:
            return "".join([*out, self.para("任务台账尚未启用。", color=INK)])
        if df.empty:
            return "".join([*out, self.para("您可查看的任务中暂无逾期。", color=INK)])
        out.append(self.para(f"您可查看的任务中有{len(df)}项逾期，逾期最久的在前：", color=INK))
        for rec in df.head(MAX_LISTED).to_dict("records"):
            out.append(self.para(f"{rec['title']}（{rec['lead_unit']}）逾期{int(rec['days_overdue'])}天", color=INK))
        return "".join(out)

    def stale(self) -> str:
        st = self.d.stale
        n = int(st["stale"].sum()) if "stale" in st and not st.empty else 0
        text = f"有{n}类数据未按时更新，详见附件周报。" if n else "各类数据均已按期更新。"
        return self.h2("五、数据更新") + self.para(text, color=INK)

    def footer(self) -> str:
        g = self.d.generated_at
        return (
            f'<tr><td style="padding:18px 16px;font-size:12px;line-height:1.6;color:{MUTED};border-top:1px solid {RULE}">'
            f"附件为可打印的完整周报（全部项目及口径说明）。生成时间：{_e(format_date(g.date()))} {g:%H:%M} · "
            f"数据版本：{self.d.data_version}<br>本邮件由系统自动发送，请勿直接回复；如需退订或修改订阅，"
            "请联系系统管理员。</td></tr>"
        )

    def render(self, images: Mapping[str, str]) -> str:
        body = "".join(
            [
                self.header(),
                self.headline(images.get("status")),
                self.attention(images.get("attention")),
                self.changes(),
                self.overdue(),
                self.stale(),
                self.footer(),
            ]
        )
        return (
            '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{_e(subject(self.d.as_of))}</title></head>"
            f'<body style="margin:0;padding:0;background:#f3f5f8;font-family:{FONT}">'
            '<table role="presentation" width="100%" style="border-collapse:collapse;background:#f3f5f8"><tr>'
            '<td align="center" style="padding:10px 6px">'
            '<table role="presentation" width="100%" style="max-width:600px;border-collapse:collapse;'
            f'background:#ffffff;font-family:{FONT};color:{INK}">{body}</table>'
            "</td></tr></table></body></html>"
        )


def render_html(
    data: BriefingData, cats: Mapping[str, Catalogue], programmes: Collection[str], images: Mapping[str, str]
) -> str:
    """The HTML part for `data` already narrowed by for_programmes; images: chart name → Content-ID."""
    return _Mail(data, cats, programmes).render(images)


def render_text(data: BriefingData, cats: Mapping[str, Catalogue], programmes: Collection[str]) -> str:
    """The plain-text part: the same sections, for clients that show no HTML."""
    p = _Page(data, dict(cats), "zh")
    names = "、".join(cats[pid].programme.short_title_zh for pid in cats if not programmes or pid in programmes)
    lines = [subject(data.as_of), f"订阅项目：{names}", ""]
    counts = "，".join(f"{status_label(s)} {data.counts[s]}" for s in ASSESSED)
    lines += ["一、总体情况", counts, ""]
    lines.append("二、滞后和有风险的指标（完成进度）")
    for r in data.attention[:MAX_LISTED]:
        share = progress(r.actual, r.target, r.comparator)
        lines.append(
            f"- [{status_label(r.status)}] {p.kpi_name(r.kpi_id)}（{p.prog_name(r.programme)}）："
            f"{p.pct(share)}；实际 {p.value(r.actual, r)}，目标 {p.target(r)}"
        )
    if not data.attention:
        lines.append("没有滞后或有风险的指标。")
    lines += ["", "三、本周变化"]
    if data.previous_date is None:
        lines.append("暂无上周快照，无法比较。")
    else:
        for c in data.changes[:MAX_LISTED]:
            before = status_label(c.before) if c.before else "新指标"
            lines.append(f"- {CHANGE_ZH[c.kind]}：{p.kpi_name(c.kpi_id)}（{before} → {status_label(c.after)}）")
        if not data.changes:
            lines.append("本周没有新出现滞后、有风险或新达标的指标。")
    lines += ["", "四、逾期任务"]
    if data.overdue is None:
        lines.append("任务台账尚未启用。")
    elif data.overdue.empty:
        lines.append("您可查看的任务中暂无逾期。")
    else:
        for rec in data.overdue.head(MAX_LISTED).to_dict("records"):
            lines.append(f"- {rec['title']}（{rec['lead_unit']}）逾期{int(rec['days_overdue'])}天")
    lines += ["", "附件为可打印的完整周报。本邮件由系统自动发送，如需退订或修改订阅，请联系系统管理员。"]
    return "\n".join(lines) + "\n"
