"""Plotly figures from engine results: trend with target and expected pace, breakdown bars.

Every figure has a title and units on its axes; numbers in hovers use the KPI's display unit. Plotly does
not wrap a title, so a long one is broken into lines that fit a 390-px phone (docs/server.md).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
COLORS = {"actual": "#1f5fa8", "expected": "#8a94a6", "target": "#c0392b", "bar": "#3b7dd8"}
TITLE_SIZE = 15
MODEBAR_PX = 26
# A phone's chart is about 340 px wide inside its margins: 21 CJK characters of 15 px. Latin letters and
# digits are about half as wide.
TITLE_EMS = 21.0
BREAK_AFTER = "：:，,、；;）)·/ "
BREAK_BEFORE = "（("


def _ems(text: str) -> float:
    return sum(1.0 if ord(ch) >= 0x2000 else 0.55 for ch in text)  # CJK, full-width punctuation and “quotes”


def _depth(text: str) -> int:
    return sum(ch in "（(" for ch in text) - sum(ch in "）)" for ch in text)


def wrap_title(title: str, width: float = TITLE_EMS) -> list[str]:
    """`title` in lines of at most `width` ems, broken after punctuation where one is near, else anywhere."""
    lines: list[str] = []
    rest = title.strip()
    while _ems(rest) > width:
        fits = 0
        while fits < len(rest) and _ems(rest[: fits + 1]) <= width:
            fits += 1
        cut = fits
        for i in range(fits, max(fits // 2, 1) - 1, -1):  # a break in the line's second half, nearest the end
            outside = _depth(rest[:i]) == 0  # never inside brackets: "（按街道（乡镇））" stays whole
            if outside and (rest[i - 1] in BREAK_AFTER or rest[i] in BREAK_BEFORE):
                cut = i
                break
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*lines, rest] if rest else lines


def _is_share(unit: str) -> bool:
    return unit in ("%", "％")


def _layout(fig: go.Figure, title: str, y_title: str, share: bool, lang: str = "zh") -> go.Figure:
    lines = wrap_title(title)
    extra = 20 * (len(lines) - 1)
    fig.update_layout(
        # the title starts below the mode bar's row, which a tap on a phone shows over the figure's top
        title={
            "text": "<br>".join(lines),
            "x": 0,
            "xanchor": "left",
            "yref": "container",
            "yanchor": "top",
            "font": {"size": TITLE_SIZE},
        },
        font={"family": FONT, "size": 13},
        margin={"l": 10, "r": 10, "t": 58 + MODEBAR_PX + extra, "b": 10},
        height=368 + MODEBAR_PX + extra,
        legend={"orientation": "h", "y": -0.15},
        hovermode="x unified",
        plot_bgcolor="#ffffff",
    )
    # shares near a threshold (97% vs 98%) would be a flat line on a 0–100% axis
    fig.update_yaxes(
        title_text=y_title,
        gridcolor="#e5e8ee",
        tickformat=".1%" if share else ",~r",
        rangemode="normal" if share else "tozero",
    )
    fig.update_xaxes(gridcolor="#f0f2f5", tickformat="%Y年%-m月" if lang == "zh" else "%b %Y")
    return _title_below_modebar(fig)


def _title_below_modebar(fig: go.Figure) -> go.Figure:
    """Put the title's top MODEBAR_PX below the figure's top. title.pad does not move it in plotly.js, and
    yanchor "top" anchors the first line's baseline region, about 16 px below its top (measured in Chromium)."""
    fig.update_layout(title_y=1 - (MODEBAR_PX + 16) / fig.layout.height)
    return fig


def trend_figure(
    series: pd.DataFrame, *, title: str, unit: str, target: float | None, labels: dict[str, str], lang: str = "zh"
) -> go.Figure:
    """Actual as of each week/month end, the expected-pace line and the target."""
    share = _is_share(unit)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=series["date"],
            y=series["actual"],
            name=labels["actual"],
            mode="lines+markers",
            line={"color": COLORS["actual"], "width": 3},
            connectgaps=False,
        )
    )
    if series["expected"].notna().any() and not share:
        fig.add_trace(
            go.Scatter(
                x=series["date"],
                y=series["expected"],
                name=labels["expected"],
                mode="lines",
                line={"color": COLORS["expected"], "dash": "dash"},
            )
        )
    if target is not None:
        fig.add_hline(
            y=target,
            line={"color": COLORS["target"], "dash": "dot"},
            annotation_text=labels["target"],
            annotation_position="top left",
        )
    return _layout(fig, title, f"{labels['value']}（{unit}）", share, lang)


def breakdown_figure(df: pd.DataFrame, dimension: str, *, title: str, unit: str, dim_label: str) -> go.Figure:
    """Horizontal bars of the KPI by one dimension, largest first (rates: Σnum/Σden per group)."""
    share = _is_share(unit)
    data = df.dropna(subset=["value"]).sort_values("value", ascending=True).tail(20)
    fig = go.Figure(
        go.Bar(
            x=data["value"],
            y=data[dimension].astype(str),
            orientation="h",
            marker_color=COLORS["bar"],
            text=[f"{v:.1%}" if share else f"{v:,.0f}" for v in data["value"]],
            textposition="auto",
        )
    )
    fig = _layout(fig, title, dim_label, share)
    fig.update_layout(height=max(260, 34 * len(data) + 90) + fig.layout.margin.t - 58, hovermode="closest")
    fig.update_xaxes(title_text=unit, tickformat=".0%" if share else ",~r")
    fig.update_yaxes(title_text=None, tickformat=None, rangemode=None)
    return _title_below_modebar(fig)
