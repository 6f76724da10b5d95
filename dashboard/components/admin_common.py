"""What the admin page's sections share: one way to run an admin action (its refusal or error shown in
Chinese, its success kept for the next run) and the note for a section whose service is not installed yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from dashboard import service
from dashboard.components.text import escape_markdown
from dashboard.i18n import t

T = TypeVar("T")
_FLASH = "admin_flash"


def attempt(action: Callable[[], T]) -> T | None:
    """Run an admin action; a refusal or a product error is shown (its Chinese message) and None returned."""
    try:
        return action()
    except service.KpiError as exc:  # AccessDenied, UserError, AdminError, BackupError …: all say why in Chinese
        st.error(escape_markdown(str(exc)))
        return None


def done(message: str) -> None:
    """Keep a success message for the next run, then rerun so every list shows the change."""
    st.session_state[_FLASH] = message
    st.rerun()


def show_done() -> None:
    """The message `done` kept, once."""
    message = st.session_state.pop(_FLASH, None)
    if message:
        st.success(escape_markdown(message), icon=":material/check_circle:")


def not_enabled(what: str) -> None:
    st.info(t("admin_not_enabled").format(what=what), icon=":material/hourglass_empty:")
