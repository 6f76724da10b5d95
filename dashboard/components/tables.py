"""Display frames for engine results: filtering, urgency order, formatted values, column config."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import service
from dashboard.i18n import STRINGS
from dashboard.service import URGENCY
from metrics.present.format import format_value, status_label


def filter_scope(df: pd.DataFrame, programmes: list[str], districts: list[str]) -> pd.DataFrame:
    """The sidebar's programme and district choice (empty means all)."""
    if programmes:
        df = df[df["programme"].isin(programmes)]
    if districts:
        df = df[df["district"].isin(districts)]
    return df


def filter_results(
    df: pd.DataFrame, *, programmes: list[str], lead_units: list[str], statuses: list[str]
) -> pd.DataFrame:
    out = df
    if programmes:
        out = out[out["programme"].isin(programmes)]
    if lead_units:
        out = out[out["lead_unit"].isin(lead_units)]
    if statuses:
        out = out[out["status"].isin(statuses)]
    order = out["status"].map(URGENCY)
    return out.assign(_urgency=order).sort_values(["_urgency", "programme"], kind="stable").drop(columns="_urgency")


def overview_table(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    s = {k: v[lang] for k, v in STRINGS.items()}
    out = pd.DataFrame(
        {
            s["programme"]: df[f"programme_title_{lang}"],
            s["kpi"]: df[f"name_{lang}"],
            s["actual"]: [format_value(a, u, lang) for a, u in zip(df["actual"], df["unit"], strict=True)],
            s["target"]: [
                "—" if pd.isna(v) else f"{c} {format_value(v, u, lang)}"
                for v, c, u in zip(df["target"], df["comparator"], df["unit"], strict=True)
            ],
            s["progress"]: [
                service.progress(a, t, c) for a, t, c in zip(df["actual"], df["target"], df["comparator"], strict=True)
            ],
            s["pace"]: df["pace"],
            s["status"]: [status_label(x, lang) for x in df["status"]],
            s["lead_unit"]: df["lead_unit"],
            s["window"]: [f"{a}～{b}" for a, b in zip(df["window_start"], df["window_end"], strict=True)],
        }
    )
    return out


@st.cache_data(show_spinner=False, max_entries=32)
def _monitoring_table(data: tuple[str, int], as_of: dt.date, lang: str, kpi_ids: tuple[str, ...]) -> pd.DataFrame:
    df = service.results(as_of).set_index("kpi_id").loc[list(kpi_ids)].reset_index()
    drop = [STRINGS[k][lang] for k in ("target", "progress", "pace", "status")]
    return overview_table(df, lang).drop(columns=drop)


def monitoring_table(as_of: dt.date, lang: str, kpi_ids: tuple[str, ...]) -> pd.DataFrame:
    """The monitoring KPIs' display table (formatted once per data version, date, language and filter)."""
    return _monitoring_table(service.data_key(), as_of, lang, kpi_ids)
