"""The admin page's 邮件测试 tab: the mail server the briefing uses, and a test message to an address with the
server's answer in Chinese (metrics.reports.mail_test)."""

from __future__ import annotations

import streamlit as st

from dashboard import service
from dashboard.components import admin_common as common
from dashboard.components.text import escape_markdown
from dashboard.i18n import t


def render(principal: service.Principal) -> None:
    settings = common.attempt(service.smtp_settings)
    if settings is None:
        st.info(t("mail_not_configured"), icon=":material/mail:")
        return
    st.caption(
        escape_markdown(
            t("mail_settings").format(
                host=settings.host, port=settings.port, security=settings.security, sender=settings.sender
            )
        )
    )
    to = st.text_input(t("mail_to"), key="adm_mail_to", placeholder="name@example.gov.cn")
    if st.button(t("mail_send_test"), key="adm_mail_btn", icon=":material/send:"):
        with st.spinner(t("mail_send_test")):
            result = common.attempt(lambda: service.send_test_mail(principal, to))
        if result is None:
            return
        if result.sent:
            st.success(escape_markdown(t("mail_sent").format(to=result.to)), icon=":material/check_circle:")
        else:
            st.error(escape_markdown(t("mail_failed").format(error=result.error_zh)), icon=":material/error:")
