"""KPI tiles for the overview: value, target, progress, status colour, sparkline and weekly change.

Tiles, the status counts and the KPI detail's figures sit in keyed containers laid out as CSS grids by one
fixed stylesheet (`stylesheet()`), so they reflow from one column on a 390-px phone to four on a desktop and
a value is never cut (docs/server.md, "Phone-size reading").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
import streamlit as st

from dashboard import navigation, service
from dashboard.components import tables
from dashboard.i18n import STRINGS, t
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
DETAIL = next(p for p in navigation.PAGES if p.file == "kpi_detail.py")
VIEWS = Path(__file__).resolve().parents[1] / "views"

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


@dataclass(frozen=True, slots=True)
class TileView:
    """One KPI's tile, every text formatted: what a script run draws, nothing left to compute."""

    kpi_id: str
    status: str
    lead_unit: str | None
    badge: str
    color: BadgeColor
    label: str
    value: str
    delta: str | None
    delta_color: Literal["normal", "inverse", "off"]
    delta_arrow: Literal["auto", "off"]
    delta_description: str | None
    chart: tuple[float, ...] | None
    help: str
    share: float
    progress: str


@dataclass(frozen=True, slots=True)
class OverviewView:
    """The overview of one data version, date, language and sidebar scope: the status counts, the lead units
    to choose from, every KPI's tile in urgency order (monitoring KPIs included, for their table), the
    monitoring table and the stale data. Shared by the sessions that ask for the same key, so never changed."""

    counts: tuple[tuple[str, int], ...]
    lead_units: tuple[str, ...]
    tiles: tuple[TileView, ...]
    monitoring: pd.DataFrame  # the display table of every monitoring KPI in scope, in tile order
    stale: pd.DataFrame  # record types not updated within their expected frequency (scope-independent)

    def select(self, lead_units: list[str], statuses: list[str]) -> list[TileView]:
        """The tiles of the chosen lead units and statuses (empty means all), in urgency order."""
        return [
            v
            for v in self.tiles
            if (not lead_units or v.lead_unit in lead_units) and (not statuses or v.status in statuses)
        ]

    def monitoring_table(self, as_of: dt.date, lang: str, kpi_ids: tuple[str, ...]) -> pd.DataFrame:
        """The monitoring table of these KPIs: the one built with the view when none is filtered out."""
        every = tuple(v.kpi_id for v in self.tiles if v.status == "monitoring")
        return self.monitoring if kpi_ids == every else tables.monitoring_table(as_of, lang, kpi_ids)


def tile_view(row: pd.Series, history: list[float], before: float | None, lang: str) -> TileView:
    words = {k: STRINGS[k][lang] for k in ("since_last_week", "pace", "target", "progress")}
    delta = change_text(row, before, lang)
    target = (
        "—"
        if pd.isna(row["target"])
        else f"{'≥' if row['comparator'] == '>=' else '≤'} {format_value(row['target'], row['unit'], lang)}"
    )
    share = service.progress(row["actual"], row["target"], row["comparator"])
    pace = "" if pd.isna(row["pace"]) else f" · {words['pace']} {row['pace']:.2f}"
    done = "—" if share is None else f"{share:.1%}"
    unchanged = delta == UNCHANGED[lang]
    return TileView(
        kpi_id=str(row["kpi_id"]),
        status=str(row["status"]),
        lead_unit=None if pd.isna(row["lead_unit"]) else str(row["lead_unit"]),
        badge=status_label(row["status"], lang),
        color=BADGE_COLORS.get(row["status"], "gray"),
        label=str(row[f"name_{lang}"]),
        value=format_value(row["actual"], row["unit"], lang),
        delta=delta,
        delta_color="off" if unchanged else "normal" if row["comparator"] != "<=" else "inverse",
        delta_arrow="off" if unchanged else "auto",
        delta_description=words["since_last_week"] if delta else None,
        chart=tuple(history) if len(history) >= 2 else None,
        help=f"{row[f'programme_title_{lang}']} · {row['clause']}",
        share=share or 0.0,
        # one element for target, progress, lead unit and pace keeps the overview light (≤ 1.5 s to draw)
        progress=f"{words['target']} {target} · {words['progress']} {done}  \n{row['lead_unit']}{pace}",
    )


# A resource, not cache_data: a hit hands back the one immutable object instead of unpickling tiles and
# frames on every run. Forgotten with the other caches after a restore (dashboard.state.clear_caches).
@st.cache_resource(show_spinner=False, max_entries=64)
def _overview(
    data: tuple[str, int], as_of: dt.date, lang: str, programmes: tuple[str, ...], districts: tuple[str, ...]
) -> OverviewView:
    df = tables.filter_scope(service.results(as_of), list(programmes), list(districts))
    ordered = tables.filter_results(df, programmes=[], lead_units=[], statuses=[])
    histories, before = service.tile_context(as_of)
    views = tuple(
        tile_view(row, histories.get(row["kpi_id"], []), before.get(row["kpi_id"]), lang)
        for _, row in ordered.iterrows()
    )
    return OverviewView(
        counts=tuple((status_label(s, lang), int((df["status"] == s).sum())) for s in STATUS_LABELS),
        lead_units=tuple(sorted(df["lead_unit"].dropna().unique())),
        tiles=views,
        monitoring=tables.monitoring_table(as_of, lang, tuple(v.kpi_id for v in views if v.status == "monitoring")),
        stale=service.stale(as_of),
    )


def overview(as_of: dt.date, lang: str, programmes: list[str], districts: list[str]) -> OverviewView:
    """The overview's view model, built once per data version, date, language and sidebar scope: a rerun
    formats nothing, hashes no frame and unpickles nothing (docs/page-speed.md). The start-up
    warm-up builds the default one (everything in scope, Chinese), so the first visitor finds it."""
    return _overview(service.data_key(), as_of, lang, tuple(programmes), tuple(districts))


def tile(view: TileView, detail: st.Page, explain: str) -> None:
    with st.container(border=True):
        st.badge(view.badge, color=view.color)
        st.metric(
            view.label,
            view.value,
            delta=view.delta,
            delta_color=view.delta_color,
            delta_arrow=view.delta_arrow,
            delta_description=view.delta_description,
            chart_data=view.chart,
            chart_type="line",
            help=view.help,
        )
        st.progress(view.share, text=view.progress)
        st.page_link(detail, label=explain, query_params={"kpi": view.kpi_id}, icon=":material/arrow_forward:")


def tile_grid(views: list[TileView]) -> None:
    """One tile per view, as many per line as the screen holds (the grid of `stylesheet()`)."""
    # The KPI detail page as app.py registers it (same file and url path, so the same page), made once per
    # run: a link to a file path resolves the path and searches the registered pages for it, once per tile
    # (a quarter of the tiles' time, docs/page-speed.md). Made in this run, not kept across runs or sessions.
    detail = st.Page(VIEWS / DETAIL.file, url_path=DETAIL.url)
    explain = t("explain")  # once, not a session-state read per tile
    with st.container(key=TILES_KEY):
        for view in views:
            tile(view, detail, explain)


def status_counts(view: OverviewView) -> None:
    """How many KPIs have each status: one small bordered figure each, three to a line on a phone."""
    with st.container(key=COUNTS_KEY):
        for label, count in view.counts:
            st.metric(label, count, border=True)
