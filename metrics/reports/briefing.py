"""The weekly briefing for leadership: one self-contained, printable HTML page for a date.

Headline status counts (overall and per programme), what changed since last week's stored snapshot
(newly at risk / off track, newly achieved), the biggest movers in progress with sparklines, the off-track
and at-risk KPIs with the rule that set their status, stale data, and overdue tasks. No external CSS, JS,
fonts or images: the charts are inline SVG drawn here. Every piece of catalogue or user text is escaped.

    >>> html_text = weekly_briefing(store, dt.date(2026, 11, 21))             # Chinese
    >>> html_text = weekly_briefing(store, dt.date(2026, 11, 21), lang="en")  # English
    >>> data = collect_briefing(store, dt.date(2026, 11, 21))                 # the numbers behind it

Elements carry data attributes (data-scope, data-status, data-count, data-kpi, data-change) so tests and
scripts can read the numbers back without scraping the prose.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from metrics.catalogue import Catalogue, load_catalogues
from metrics.reports.briefing_content import (
    OVERDUE_COLUMNS,
    TOP_MOVERS,
    BriefingData,
    Mover,
    StatusChange,
    collect_briefing,
    method_notes,
)
from metrics.reports.briefing_html import _Text, render_briefing
from metrics.storage.store import Store

__all__ = [
    "OVERDUE_COLUMNS",
    "TOP_MOVERS",
    "BriefingData",
    "Mover",
    "StatusChange",
    "collect_briefing",
    "method_notes",
    "render_briefing",
    "weekly_briefing",
]


def weekly_briefing(
    store: Store,
    as_of: dt.date,
    *,
    catalogues: dict[str, Catalogue] | None = None,
    lang: str = "zh",
    overdue_tasks: pd.DataFrame | None = None,
    generated_at: dt.datetime | None = None,
) -> str:
    """One self-contained printable HTML page: the leadership briefing as of `as_of`.

    overdue_tasks: columns task_id, title, lead_unit, due_date, days_overdue (None: the task ledger is not
    in use yet, and the page says so). generated_at defaults to now (the footer's generation time).
    """
    _Text(lang)  # reject an unknown language before computing anything
    cats = catalogues if catalogues is not None else load_catalogues()
    data = collect_briefing(store, as_of, catalogues=cats, overdue_tasks=overdue_tasks, generated_at=generated_at)
    return render_briefing(data, cats, lang)
