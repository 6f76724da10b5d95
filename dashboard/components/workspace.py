"""Display tables of the department workspace (task ledger, uploads, scorecard): labels from i18n, "—" for
empty cells, codes read as words. Shaping only; every frame comes from a metrics service already checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import service
from dashboard.components.text import escape_markdown
from dashboard.i18n import t
from metrics.contract.records import RECORD_TYPES

EMPTY = "—"
DATETIME = "YYYY-MM-DD HH:mm"
DATE = "YYYY-MM-DD"


def show(df: pd.DataFrame, columns: Mapping[str, Any], **kwargs: Any) -> None:
    """The columns named in `columns` (in that order, with those labels or column configs); missing values "—"."""
    st.dataframe(
        df,
        column_order=list(columns),
        column_config=dict(columns),
        hide_index=True,
        width="stretch",
        placeholder=EMPTY,
        **kwargs,
    )


STATIC_MAX_ROWS = 200  # up to this many rows a list is shown as a static table (wrapped text, all visible)


def show_static(df: pd.DataFrame, labels: Mapping[str, str]) -> None:
    """A short list as a static table: long messages wrap instead of being cut, every row is on the page.

    st.table reads cells as Markdown, so every cell is escaped (file contents are user text); longer lists
    go to the scrolling table.
    """
    if len(df) > STATIC_MAX_ROWS:
        show(df, {c: st.column_config.Column(label) for c, label in labels.items()})
        return
    out = pd.DataFrame(
        {
            label: ["—" if pd.isna(v) or str(v) == "" else escape_markdown(str(v)) for v in df[c]]
            for c, label in labels.items()
        }
    )
    st.table(out, hide_index=True)


def text(key: str) -> Any:
    return st.column_config.TextColumn(t(key))


def number(key: str, fmt: str = "%d") -> Any:
    return st.column_config.NumberColumn(t(key), format=fmt)


def when(key: str) -> Any:
    return st.column_config.DatetimeColumn(t(key), format=DATETIME)


def day(key: str) -> Any:
    return st.column_config.DateColumn(t(key), format=DATE)


# --------------------------------------------------------------------------- task ledger


def ledger_columns() -> dict[str, Any]:
    return {
        "programme_short": text("programme_short"),
        "district": text("district"),
        "clause": text("clause"),
        "title": text("tasks"),
        "lead_units": text("lead_unit"),
        "account_status": text("status"),
        "owner": text("owner"),
        "milestones": number("milestones"),
        "overdue_milestones": number("sc_overdue_milestones"),
        "open_notices": number("sc_open_notices"),
        "progress_pct": st.column_config.NumberColumn(t("progress_pct"), format="%d%%"),
        "last_update_at": when("sc_last_update"),
    }


def ledger_frame(table: pd.DataFrame, short_titles: Mapping[str, str]) -> pd.DataFrame:
    """The ledger listing with the programme's short title and the account status in the page's language."""
    return table.assign(
        programme_short=table["programme"].map(short_titles),
        account_status=[t(f"account_{s}") for s in table["status"]],
    )


def milestone_columns() -> dict[str, Any]:
    return {
        "title": text("col_milestone"),
        "due_date": day("col_due_date"),
        "state": text("col_milestone_state"),
        "done_date": day("col_done_date"),
        "days_overdue": number("col_days_overdue"),
        "version": number("version"),
    }


def milestones_frame(milestones: pd.DataFrame) -> pd.DataFrame:
    def state(row: pd.Series) -> str:
        if not pd.isna(row["done_date"]):
            return t("milestone_done")
        return t("milestone_overdue") if bool(row["overdue"]) else t("milestone_pending")

    out = milestones.copy()
    out["state"] = [state(r) for _, r in out.iterrows()] if not out.empty else []
    out["days_overdue"] = out["days_overdue"].astype("Int64")
    return out


def update_columns() -> dict[str, Any]:
    return {
        "reported_at": when("col_reported_at"),
        "unit": text("col_reporting_unit"),
        "author": text("col_author"),
        "progress_pct": st.column_config.NumberColumn(t("progress_pct"), format="%d%%"),
        "narrative": text("narrative"),
        "reported_text": text("col_reported_values"),
        "evidence_files": number("col_evidence_files"),
    }


def updates_frame(updates: pd.DataFrame, kpi_names: Mapping[str, str]) -> pd.DataFrame:
    """Progress updates with reported KPI values spelled out ("指标名：数值"); empty narrative shows "—"."""

    def reported(values: object) -> str | None:
        if not isinstance(values, dict) or not values:
            return None
        return "；".join(f"{kpi_names.get(k, k)}：{v:g}" for k, v in values.items())

    out = updates.copy()
    out["reported_text"] = [reported(v) for v in out["reported"]] if not out.empty else []
    out["narrative"] = out["narrative"].where(out["narrative"].astype(str).str.strip() != "", None)
    out["progress_pct"] = out["progress_pct"].astype("Int64")
    return out


def notice_state(status: str, overdue: bool) -> str:
    if status == "answered":
        return t("notice_answered")
    return t("notice_overdue") if overdue else t("notice_open")


def closure_state(decision: object) -> str:
    if decision == "approved":
        return t("closure_approved")
    if decision == "returned":
        return t("closure_returned")
    return t("closure_pending")


# --------------------------------------------------------------------------- uploads


def history_columns() -> dict[str, Any]:
    return {
        "upload_id": number("col_upload_id"),
        "uploaded_at": when("col_uploaded_at"),
        "record_title": text("record_type"),
        "file_name": text("col_file_name"),
        "district": text("district"),
        "unit_name": text("unit"),
        "user_name": text("col_uploaded_by"),
        "row_count": number("col_rows"),
        "new_rows": number("col_new_rows"),
        "changed_rows": number("col_changed_rows"),
        "unchanged_rows": number("col_unchanged_rows"),
        "warnings_accepted": text("col_accepted_warnings"),
        "accepted_by": text("col_accepted_by"),
    }


def history_frame(history: pd.DataFrame, lang: str) -> pd.DataFrame:
    titles = {name: (rt.title_zh if lang == "zh" else name) for name, rt in RECORD_TYPES.items()}
    return history.assign(record_title=history["record_type"].map(titles).fillna(history["record_type"]))


def accepted_warnings_frame(history: pd.DataFrame) -> pd.DataFrame:
    """The uploads of the history that were imported with outlier warnings: number, the warnings, who accepted."""
    rows = history[history["warning_count"] > 0]
    return rows[["upload_id", "warnings_accepted", "accepted_by"]].reset_index(drop=True)


def accepted_warning_labels() -> dict[str, str]:
    return {
        "upload_id": t("col_upload_id"),
        "warnings_accepted": t("col_accepted_warnings"),
        "accepted_by": t("col_accepted_by"),
    }


def outlier_frame(outliers: Sequence[Any], lang: str) -> pd.DataFrame:
    """The outlier warnings of a file (metrics.ingest.outliers.Outlier), one message a row in the page's language."""
    return pd.DataFrame({"message": [o.message_zh if lang == "zh" else o.message_en for o in outliers]})


def error_labels() -> dict[str, str]:
    """metrics.ingest.errors_to_frame's Chinese columns (and out_of_district_rows'), in the page's language."""
    return {"行号": t("col_row"), "列": t("col_column"), "值": t("col_value"), "问题": t("col_problem")}


def preview_columns(record: str, lang: str) -> dict[str, Any]:
    """A record type's columns under the upload template's headers (Chinese) or their names."""
    rt = RECORD_TYPES[record]
    return {c.name: st.column_config.Column(c.header_zh if lang == "zh" else c.name) for c in rt.columns}


# --------------------------------------------------------------------------- scorecard


def scorecard_columns() -> dict[str, Any]:
    """A column per SCORECARD_COLUMNS, in its order: counts unless the column is text, a date or a share."""
    special: dict[str, Any] = {
        "district": text("district"),
        "unit": text("unit"),
        "last_update": day("sc_last_update"),
        "reporting_timeliness": st.column_config.ProgressColumn(
            t("sc_reporting_timeliness"), min_value=0.0, max_value=1.0, format="percent"
        ),
    }
    return {name: special[name] if name in special else number(f"sc_{name}") for name in service.SCORECARD_COLUMNS}
