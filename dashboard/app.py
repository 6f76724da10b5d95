"""Entry point: `streamlit run dashboard/app.py`. Sets up the page, the shared sidebar and navigation."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import streamlit as st

# `streamlit run dashboard/app.py` puts dashboard/ on the path, not the repository root.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard import state  # noqa: E402
from dashboard.i18n import LANGS, lang, t  # noqa: E402

st.set_page_config(page_title="就业工作指标看板", page_icon=":material/dashboard:", layout="wide")

with st.sidebar:
    st.radio("语言 / Language", list(LANGS), format_func=LANGS.__getitem__, key="lang", horizontal=True)
    if "as_of" not in st.session_state:
        # KPI_AS_OF pins the default date (demo databases and browser tests); otherwise today.
        pinned = os.environ.get("KPI_AS_OF")
        st.session_state["as_of"] = dt.date.fromisoformat(pinned) if pinned else dt.date.today()
    st.date_input(t("as_of"), key="as_of", format="YYYY-MM-DD")
    cats = state.catalogues()
    st.multiselect(
        t("programme"),
        list(cats),
        format_func=lambda p: getattr(cats[p].programme, f"short_title_{lang()}"),
        key="programmes",
        placeholder=t("all"),
    )
    districts = sorted({c.programme.district for c in cats.values()})
    st.multiselect(t("district"), districts, key="districts", placeholder=t("all"))

HERE = Path(__file__).resolve().parent
pages = [
    st.Page(
        HERE / "views" / "overview.py",
        title=t("nav_overview"),
        icon=":material/dashboard:",
        url_path="overview",
        default=True,
    ),
    st.Page(HERE / "views" / "kpi_detail.py", title=t("nav_detail"), icon=":material/query_stats:", url_path="kpi"),
    st.Page(
        HERE / "views" / "programmes.py",
        title=t("nav_programmes"),
        icon=":material/description:",
        url_path="programmes",
    ),
    st.Page(HERE / "views" / "delivery.py", title=t("nav_delivery"), icon=":material/payments:", url_path="delivery"),
]
page = st.navigation(pages)

if state.store() is None:
    st.error(t("no_db"))
    st.stop()

page.run()
