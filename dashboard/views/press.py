"""统计发布 Press: published releases only — figures the office approved, as of a stated date, suppressed.

The release list and every release read go through metrics.releases.service, which refuses unpublished releases to
anyone but the office; a `?release=` link to a draft is refused and logged there, not merely hidden here.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.components import gate, release_view
from dashboard.i18n import t
from dashboard.service import AccessDenied, ReleaseError, get_release, list_releases
from metrics.present.format import format_date

principal = gate.require("release.read_published")
st.title(t("nav_press"))

published = list_releases(principal)
wanted = st.query_params.get("release")
if wanted and all(r.release_no != wanted for r in published):
    try:  # a link to something not in the archive: let the service layer decide (and log a refusal)
        get_release(principal, wanted)
    except AccessDenied:
        st.error(t("denied"))
        st.stop()
    except ReleaseError as exc:
        st.error(str(exc))
        st.stop()
if not published:
    st.info(t("press_none"))
    st.stop()

numbers = [r.release_no for r in published]
index = numbers.index(wanted) if wanted in numbers else 0
choice = st.selectbox(
    t("release_pick"),
    published,
    index=index,
    format_func=lambda r: f"{r.label} · {r.title}",
)
if wanted != choice.release_no:
    st.query_params["release"] = choice.release_no or ""
release_view.render(choice)  # already read (and hash-checked) by list_releases

with st.expander(t("release_archive")):
    st.table(
        pd.DataFrame(
            [
                {
                    t("col_release_no"): r.label,
                    t("col_release_title"): r.title,
                    t("col_release_as_of"): format_date(r.as_of),
                    t("col_published_at"): f"{r.published_at:%Y-%m-%d %H:%M}" if r.published_at else "—",
                    t("col_content_hash"): r.content_hash[:16],
                }
                for r in published
            ]
        ).set_index(t("col_release_no"))
    )
