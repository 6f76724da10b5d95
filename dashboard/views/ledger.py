# mypy: disable-error-code="arg-type,str-bytes-safe,call-overload,misc"
"""任务台账 Task ledger: 建账 (open), updates with evidence and reported values, 督办, 销账.

Every action goes through metrics.ledger, which checks the role and unit again and refuses a save over a
newer version ("已被他人修改"). User text is shown with st.text / escaped markdown, never as HTML.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.components.text import escape_markdown
from dashboard.i18n import lang, t
from metrics import ledger
from metrics.access import AccessDenied, allowed

principal = state.require("ledger.read")
as_of = st.session_state["as_of"]
L = lang()
store = state.store()
assert store is not None
cats = state.catalogues()
st.title(t("ledger_title"))

table = ledger.task_ledger(store, principal, as_of=as_of, catalogues=cats)
scope = st.session_state.get("programmes") or []
if scope:
    table = table[table["programme"].isin(scope)]
LEDGER_HEADERS = {
    "clause": ("条款", "Clause"),
    "title": ("任务", "Task"),
    "lead_units": ("牵头单位", "Lead units"),
    "status_zh": ("状态", "Status"),
    "owner": ("责任人", "Owner"),
    "milestones": ("节点数", "Milestones"),
    "overdue_milestones": ("逾期节点", "Overdue"),
    "open_notices": ("未回复督办", "Open notices"),
    "progress_pct": ("进度（%）", "Progress (%)"),
    "last_update_at": ("最近报送", "Last update"),
}
shown = table[list(LEDGER_HEADERS)].rename(columns={k: v[0 if L == "zh" else 1] for k, v in LEDGER_HEADERS.items()})
st.dataframe(shown, hide_index=True, width="stretch")
if table.empty:
    st.stop()

labels = {r.task_id: f"{r.clause} {r.title}" for r in table.itertuples()}
task_id = st.selectbox(t("choose_task"), list(labels), format_func=labels.__getitem__, key="ledger_task")
detail = ledger.account_detail(store, principal, task_id, as_of=as_of, catalogues=cats)
ref = detail.ref
lead, coop = ref.lead_units, ref.parties


def run(action, *args, **kwargs) -> bool:  # type: ignore[no-untyped-def]
    """Call a ledger service; show its refusal or conflict in Chinese instead of failing."""
    try:
        action(store, principal, *args, catalogues=cats, **kwargs)
    except (ledger.LedgerError, AccessDenied) as exc:
        st.error(str(exc))
        return False
    st.success(t("saved"))
    return True


def files(key: str) -> list[tuple[str, bytes]]:
    uploaded = st.file_uploader(t("evidence"), accept_multiple_files=True, key=key) or []
    return [(f.name, f.getvalue()) for f in uploaded]


st.subheader(f"{t('account')}：{detail.ref.task.clause} {detail.ref.task.title}")
st.caption(
    f"{t('lead_unit')}：{'、'.join(ref.task.lead_units)} · {t('cooperating')}：{'、'.join(ref.task.cooperating_units) or '—'}"
)
reported_kpis = {k.id: k for k in ref.kpis.values() if k.measure.kind == "reported" and k.task == ref.task.id}

if detail.account is None:
    st.info(t("not_opened"))
    if allowed(principal, "ledger.write", units=lead, district=ref.district):
        with st.form("open_account"):
            plan = st.text_area(t("plan"))
            owner = st.text_input(t("owner"))
            ms = st.data_editor(
                pd.DataFrame(
                    {
                        "title": ["" for _ in range(3)],
                        "due_date": [as_of + dt.timedelta(days=30 * (i + 1)) for i in range(3)],
                    }
                ),
                num_rows="dynamic",
                column_config={
                    "title": st.column_config.TextColumn(t("milestones")),
                    "due_date": st.column_config.DateColumn(t("due")),
                },
                key="new_milestones",
            )
            kpis = st.multiselect(t("linked_kpis"), list(ref.kpis), format_func=lambda k: ref.kpis[k].name_zh)
            if st.form_submit_button(t("open_account"), type="primary"):
                rows = [(r["title"], r["due_date"]) for _, r in ms.iterrows() if str(r["title"]).strip()]
                if run(ledger.open_account, task_id, plan, owner, rows, kpis):
                    st.rerun()
    st.stop()

acc = detail.account
c = st.columns(4)
c[0].metric(t("status"), str(acc["status"]))
c[1].metric(t("owner"), str(acc["owner"] or "—"))
c[2].metric("版本" if L == "zh" else "Version", int(acc["version"]))
c[3].metric(t("progress_pct"), "—" if detail.updates.empty else f"{detail.updates['progress_pct'].iloc[0]}%")
st.markdown(f"**{t('plan')}**")
st.text(str(acc["plan"] or ""))

st.markdown(f"**{t('milestones')}**")
st.dataframe(
    detail.milestones[["milestone_id", "title", "due_date", "done_date", "days_overdue", "version"]],
    hide_index=True,
    width="stretch",
)
if allowed(principal, "ledger.write", units=lead, district=ref.district) and acc["status"] == "open":
    open_ms = detail.milestones[detail.milestones["done_date"].isna()]
    if not open_ms.empty:
        with st.form("complete_ms"):
            mid = st.selectbox(
                t("complete"),
                list(open_ms["milestone_id"]),
                format_func=lambda m: str(open_ms.set_index("milestone_id").loc[m, "title"]),
            )
            if st.form_submit_button(t("complete")):
                version = int(open_ms.set_index("milestone_id").loc[mid, "version"])
                if run(ledger.complete_milestone, int(mid), version):
                    st.rerun()
    with st.expander(t("edit_account")), st.form("edit_account"):
        plan = st.text_area(t("plan"), value=str(acc["plan"] or ""))
        owner = st.text_input(t("owner"), value=str(acc["owner"] or ""))
        # the version this form was read at: a save over a newer one is refused with 已被他人修改
        version = int(acc["version"])
        if st.form_submit_button(t("save")) and run(ledger.edit_account, task_id, version, plan=plan, owner=owner):
            st.rerun()

if allowed(principal, "ledger.update", units=coop, district=ref.district) and acc["status"] != "closed":
    with st.expander(t("append_update"), expanded=False), st.form("append_update"):
        pct = st.slider(t("progress_pct"), 0, 100, 0, step=5)
        narrative = st.text_area(t("narrative"))
        values = {}
        for kid, k in reported_kpis.items():
            v = st.number_input(t("reported_value").format(name=k.name_zh), value=None, min_value=0.0, key=f"rep_{kid}")
            if v is not None:
                values[kid] = float(v)
        evidence = files("update_files")
        if st.form_submit_button(t("append_update"), type="primary") and run(
            ledger.append_update, task_id, pct, narrative, values or None, evidence
        ):
            st.rerun()

st.markdown(f"**{t('updates')}**")
for u in detail.updates.itertuples():
    with st.container(border=True):
        st.caption(f"{u.reported_at} · {u.unit} · {u.author} · {u.progress_pct}%")
        st.text(str(u.narrative or ""))
if not detail.evidence.empty:
    st.markdown(f"**{t('evidence')}**")
    for e in detail.evidence.itertuples():
        # read (and permission-checked) only when someone downloads it, not on every page run
        st.download_button(
            f"{t('download')} {e.file_name}（SHA-256 {str(e.sha256)[:12]}…）",
            data=lambda eid=int(e.evidence_id): ledger.evidence_content(store, principal, eid, catalogues=cats).content,
            file_name=str(e.file_name),
            key=f"ev_{e.evidence_id}",
            on_click="ignore",
        )

st.subheader(t("notices"))
for n in detail.notices.itertuples():
    with st.container(border=True):
        st.caption(f"{n.issued_at} · {n.issued_by} · {t('reply_by')} {n.reply_by} · {n.status}")
        st.text(str(n.reason))
        if n.reply:
            st.markdown(f"**{t('reply')}**（{escape_markdown(str(n.replied_by))}）")
            st.text(str(n.reply))
        elif allowed(principal, "ledger.reply", units=lead, district=ref.district):
            with st.form(f"reply_{n.notice_id}"):
                text = st.text_area(t("reply"))
                if st.form_submit_button(t("reply")) and run(ledger.reply_notice, int(n.notice_id), text):
                    st.rerun()
if allowed(principal, "ledger.supervise") and acc["status"] != "closed":
    with st.expander(t("issue_notice")), st.form("notice"):
        reason = st.text_area(t("reason"))
        reply_by = st.date_input(t("reply_by"), as_of + dt.timedelta(days=7))
        if st.form_submit_button(t("issue_notice")) and run(ledger.supervision_notice, task_id, reason, reply_by):
            st.rerun()

st.subheader(t("closure"))
for cr in detail.closures.itertuples():
    with st.container(border=True):
        st.caption(f"{cr.requested_at} · {cr.requested_by} · {cr.decision or '待审批'}")
        st.text(str(cr.summary))
        if cr.reason:
            st.text(f"{t('return_reason')}：{cr.reason}")
        if cr.decision is None and allowed(principal, "ledger.approve"):
            with st.form(f"decide_{cr.closure_id}"):
                why = st.text_input(t("return_reason"))
                a, b = st.columns(2)
                if a.form_submit_button(t("approve"), type="primary") and run(
                    ledger.decide_closure, int(cr.closure_id), True
                ):
                    st.rerun()
                if b.form_submit_button(t("return")) and run(ledger.decide_closure, int(cr.closure_id), False, why):
                    st.rerun()
if acc["status"] == "open" and allowed(principal, "ledger.write", units=lead, district=ref.district):
    with st.expander(t("request_closure")), st.form("closure"):
        summary = st.text_area(t("summary"))
        evidence = files("closure_files")
        if st.form_submit_button(t("request_closure")) and run(ledger.request_closure, task_id, summary, evidence):
            st.rerun()
