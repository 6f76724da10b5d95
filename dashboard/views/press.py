"""宣传 Press: published statistical releases only (the release workflow is issue 5)."""

from __future__ import annotations

import streamlit as st

from dashboard import state
from dashboard.i18n import t

state.require("release.read_published")
st.title(t("nav_press"))
st.info(t("press_none"))
