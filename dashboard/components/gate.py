"""The page gate: a page runs for a signed-in principal allowed its action, and stops with the reason otherwise."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import auth, service
from dashboard.components.text import escape_markdown
from dashboard.i18n import t


def require(action: str, *, unit: str | None = None, own_unit: bool = False) -> Any:
    """The signed-in principal if it may take `action`; otherwise the page stops with a refusal.

    The check is the service layer's (metrics.auth.access) and refusals are logged, so opening a page by URL
    with the wrong role is refused and recorded, not merely hidden. `own_unit`: for the principal's own
    unit and district (a department account without a district is refused, with the reason). The principal
    is the one app.py resolved from the session at the start of this run (`auth.for_page`), not a second
    look-up of the same cookie.
    """
    principal = auth.for_page()
    if principal is None:
        st.warning(t("login_title"))
        st.stop()
    district = None
    if own_unit:
        unit, district = principal.unit, principal.district
    try:
        service.guarded(principal, action, unit=unit, district=district)
    except service.AccessDenied as exc:
        st.error(t("denied"))
        st.caption(escape_markdown(str(exc)))  # the reason, in Chinese
        st.stop()
    return principal
