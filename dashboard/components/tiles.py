"""KPI tiles for the overview: value, target, progress, status colour, sparkline and weekly change.

Tiles, the status counts and the KPI detail's figures sit in keyed containers laid out as CSS grids by one
fixed stylesheet (`stylesheet()`), so they reflow from one column on a 390-px phone to four on a desktop and
a value is never cut (docs/server.md, "Phone-size reading").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import pandas as pd
import streamlit as st

from dashboard import service
from dashboard.i18n import t
from metrics.present.format import STATUS_LABELS, format_value, status_label

BadgeColor = Literal["red", "orange", "yellow", "blue", "green", "violet", "gray", "grey", "primary"]
BADGE_COLORS: dict[str, BadgeColor] = {
    "achieved": "green",
    "on_track": "blue",
    "at_risk": "orange",
    "off_track": "red",
    "no_data": "gray",
    "monitoring": "violet",
}


UNCHANGED = {"zh": "与上周持平", "en": "unchanged"}

TILES_KEY = "kpi_tiles"
COUNTS_KEY = "status_counts"
FIGURES_KEY = "detail_figures"

# A fixed stylesheet (no user text). A grid of auto-filled columns instead of st.columns(4): columns of a
# fixed count squeeze a tile to 160 px on a tablet and cut "1.73万平方米" to "1.73万平…". Labels and values
# wrap instead of ending in an ellipsis; headings shrink on a phone so a page title fits on one or two lines.
STYLESHEET = f"""<style>
.st-key-{TILES_KEY} {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr)); gap: 1rem; }}
.st-key-{COUNTS_KEY} {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(6.5rem, 1fr)); gap: .5rem; }}
.st-key-{FIGURES_KEY} {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr)); gap: .5rem 1rem; }}
.st-key-{TILES_KEY} > div, .st-key-{COUNTS_KEY} > div, .st-key-{FIGURES_KEY} > div {{ min-width: 0; width: auto; }}
.st-key-{TILES_KEY} [data-testid="stMetricValue"], .st-key-{FIGURES_KEY} [data-testid="stMetricValue"] {{
  font-size: 1.75rem; line-height: 1.25;
}}
.st-key-{TILES_KEY} [data-testid="stMetricValue"] *, .st-key-{FIGURES_KEY} [data-testid="stMetricValue"] *,
.st-key-{TILES_KEY} [data-testid="stMetricLabel"] *, .st-key-{FIGURES_KEY} [data-testid="stMetricLabel"] * {{
  white-space: normal; overflow-wrap: anywhere; text-overflow: clip;
}}
@media (max-width: 640px) {{
  [data-testid="stHeading"] h1 {{ font-size: 1.75rem; }}
  [data-testid="stHeading"] h2, [data-testid="stHeading"] h3 {{ font-size: 1.3rem; }}
  .st-key-{COUNTS_KEY} [data-testid="stMetricValue"] {{ font-size: 1.5rem; }}
}}
</style>"""


def stylesheet() -> None:
    """The grid layout of tiles, status counts and detail figures; call once at the top of the page."""
    st.html(STYLESHEET)


def change_text(row: pd.Series, before: float | None, lang: str) -> str | None:
    """'+12场' or '+0.4个百分点' since last week's stored snapshot; None when there is nothing to compare."""
    actual = row["actual"]
    if before is None or pd.isna(before) or pd.isna(actual):
        return None
    diff = float(actual) - float(before)
    if row["unit"] in ("%", "％"):
        points = diff * 100
        if abs(points) < 0.05:
            return UNCHANGED[lang]
        return f"{points:+.1f}{'个百分点' if lang == 'zh' else ' pts'}"
    if abs(diff) < 1e-9:
        return UNCHANGED[lang]
    sign = "+" if diff >= 0 else "-"
    return sign + format_value(abs(diff), row["unit"], lang)


def tile(row: pd.Series, history: list[float], before: float | None, lang: str) -> None:
    delta = change_text(row, before, lang)
    with st.container(border=True):
        st.badge(status_label(row["status"], lang), color=BADGE_COLORS.get(row["status"], "gray"))
        target = (
            "—"
            if pd.isna(row["target"])
            else f"{'≥' if row['comparator'] == '>=' else '≤'} {format_value(row['target'], row['unit'], lang)}"
        )
        st.metric(
            row[f"name_{lang}"],
            format_value(row["actual"], row["unit"], lang),
            delta=delta,
            delta_color="off" if delta == UNCHANGED[lang] else "normal" if row["comparator"] != "<=" else "inverse",
            delta_arrow="off" if delta == UNCHANGED[lang] else "auto",
            delta_description=t("since_last_week") if delta else None,
            chart_data=history if len(history) >= 2 else None,
            chart_type="line",
            help=f"{row[f'programme_title_{lang}']} · {row['clause']}",
        )
        share = service.progress(row["actual"], row["target"], row["comparator"])
        pace = "" if pd.isna(row["pace"]) else f" · {t('pace')} {row['pace']:.2f}"
        done = "—" if share is None else f"{share:.1%}"
        # one element for target, progress, lead unit and pace keeps the overview light (≤ 1.5 s to draw)
        st.progress(share or 0.0, text=f"{t('target')} {target} · {t('progress')} {done}  \n{row['lead_unit']}{pace}")
        st.page_link(
            "views/kpi_detail.py",
            label=t("explain"),
            query_params={"kpi": row["kpi_id"]},
            icon=":material/arrow_forward:",
        )


def tile_grid(
    df: pd.DataFrame,
    histories: Mapping[str, list[float]],
    before: Mapping[str, float | None],
    lang: str,
) -> None:
    """One tile per row of `df`, as many per line as the screen holds (the grid of `stylesheet()`)."""
    with st.container(key=TILES_KEY):
        for _, row in df.iterrows():
            tile(row, histories.get(row["kpi_id"], []), before.get(row["kpi_id"]), lang)


def status_counts(df: pd.DataFrame, lang: str) -> None:
    """How many KPIs have each status: one small bordered figure each, three to a line on a phone."""
    with st.container(key=COUNTS_KEY):
        for status in STATUS_LABELS:
            st.metric(status_label(status, lang), int((df["status"] == status).sum()), border=True)
