"""发布管理 Release desk (office): create a draft from a weekly snapshot, review it as the press will see
it, publish it (numbered, immutable) or discard it. Permissions are checked again in metrics.releases.service."""

from __future__ import annotations

import streamlit as st

from dashboard import service
from dashboard.components import gate, release_view
from dashboard.i18n import STRINGS, t
from dashboard.service import (
    DEFAULT_THRESHOLD,
    MIN_THRESHOLD,
    ReleaseError,
    create_release,
    default_kpis,
    discard_release,
    list_releases,
    publish_release,
    release_label,
    snapshot_dates,
)
from metrics.present.format import format_date

principal = gate.require("release.manage")
cats = service.catalogues()
st.title(t("nav_releases"))

for key in ("release_flash", "release_warn"):
    if msg := st.session_state.pop(key, None):
        (st.success if key == "release_flash" else st.warning)(msg)

dates = snapshot_dates()[::-1]
drafts = [r for r in list_releases(principal, include_drafts=True) if r.state == "draft"]
with st.expander(t("release_create"), expanded=not dates or not drafts):
    if not dates:
        st.info(t("release_no_snapshots"))
    else:
        with st.form("create_release"):
            day = st.selectbox(t("release_snapshot"), dates, format_func=format_date)
            title = st.text_input(
                t("release_title"),
                value=STRINGS["release_default_title"]["zh"].format(date=format_date(dates[0])),
                max_chars=80,
            )
            threshold = st.number_input(
                t("release_threshold"), min_value=MIN_THRESHOLD, max_value=100, value=DEFAULT_THRESHOLD
            )
            names = {k.id: f"{c.programme.district} · {k.name_zh}" for c in cats.values() for k in c.kpis}
            kpis = st.multiselect(
                t("release_kpis"),
                list(names),
                default=default_kpis(dates[0], cats),
                format_func=names.__getitem__,
                placeholder=t("release_kpis_placeholder"),
            )
            if st.form_submit_button(t("release_create_btn"), type="primary"):
                try:
                    rid, warns = create_release(
                        principal,
                        day,
                        title=title.strip() or None,
                        kpi_ids=kpis,
                        threshold=int(threshold),
                        catalogues=cats,
                    )
                except ReleaseError as exc:
                    st.error(str(exc))
                else:
                    st.session_state["release_flash"] = t("release_created").format(rid=rid)
                    if warns:
                        st.session_state["release_warn"] = "\n".join(f"- {w}" for w in warns)
                    st.rerun()

st.header(t("release_drafts"))
if not drafts:
    st.caption(t("release_no_drafts"))
for rel in drafts:
    with st.container(border=True):
        release_view.render(rel)
        confirm = st.checkbox(t("release_confirm"), key=f"confirm-{rel.release_id}")
        c1, c2 = st.columns(2)
        if c1.button(t("release_publish_btn"), key=f"publish-{rel.release_id}", type="primary", disabled=not confirm):
            try:
                number = publish_release(principal, rel.release_id)
            except ReleaseError as exc:
                st.error(str(exc))
            else:
                st.session_state["release_flash"] = t("release_published").format(label=release_label(number))
                st.rerun()
        if c2.button(t("release_discard_btn"), key=f"discard-{rel.release_id}"):
            try:
                discard_release(principal, rel.release_id)
            except ReleaseError as exc:
                st.error(str(exc))
            else:
                st.session_state["release_flash"] = t("release_discarded")
                st.rerun()
