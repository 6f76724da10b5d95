"""Display frames and a figure for the policy-delivery page."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.components.charts import FONT
from metrics.present.format import format_number

__all__ = ["amounts_figure", "format_number", "measure_table"]


def measure_table(df: pd.DataFrame, s: dict[str, str]) -> pd.DataFrame:
    def yuan(col: str) -> list[str]:
        return [format_number(v) + "元" if pd.notna(v) else "—" for v in df[col]]

    return pd.DataFrame(
        {
            s["name"]: df["name_zh"],
            s["received"]: df["received"],
            s["approved"]: df["approved"],
            s["rejected"]: df["rejected"],
            s["paid"]: df["paid"],
            s["pending"]: df["pending"],
            s["quantity"]: df["quantity"],
            s["amount_requested"]: yuan("amount_requested"),
            s["amount_approved"]: yuan("amount_approved"),
            s["amount_paid"]: yuan("amount_paid"),
            s["days_to_decision"]: df["median_days_to_decision"],
            s["days_to_payment"]: df["median_days_to_payment"],
        }
    )


def amounts_figure(df: pd.DataFrame, s: dict[str, str]) -> go.Figure:
    data = df[df["received"] > 0].sort_values("amount_approved")
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=data["name_zh"],
            x=data["amount_approved"],
            name=s["amount_approved"],
            orientation="h",
            marker_color="#3b7dd8",
        )
    )
    fig.add_trace(
        go.Bar(y=data["name_zh"], x=data["amount_paid"], name=s["amount_paid"], orientation="h", marker_color="#1e8449")
    )
    fig.update_layout(
        title={"text": s["delivery_chart"], "x": 0},
        barmode="group",
        font={"family": FONT, "size": 13},
        height=max(300, 44 * len(data) + 120),
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "y": -0.1},
        plot_bgcolor="#ffffff",
    )
    fig.update_xaxes(title_text="元", tickformat=",~r", gridcolor="#e5e8ee")
    return fig
