"""KPI tiles for the overview: value, target, progress, status colour, sparkline and weekly change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import pandas as pd
import streamlit as st

from dashboard import service
from dashboard.i18n import t
from metrics.present.format import format_value, status_label

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
    per_row: int = 4,
) -> None:
    rows = [df.iloc[i : i + per_row] for i in range(0, len(df), per_row)]
    for chunk in rows:
        cols = st.columns(per_row)
        for col, (_, row) in zip(cols, chunk.iterrows(), strict=False):
            with col:
                tile(row, histories.get(row["kpi_id"], []), before.get(row["kpi_id"]), lang)
