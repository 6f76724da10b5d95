# mypy: disable-error-code="arg-type,str-bytes-safe,call-overload,misc"
"""任务台账 Task ledger: 建账 (open), updates with evidence and reported values, 督办, 销账.

Every action goes through metrics.ledger (through dashboard.service), which checks the role, unit and district again and refuses a save
over a newer version ("已被他人修改"). The version a save is checked against is the one the form was shown
with (kept in the session), not the one read when the save arrives. User text is shown with st.text,
escaped markdown or in tables, never as HTML.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from dashboard import service
from dashboard.components import gate
from dashboard.components import workspace as ws
from dashboard.components.text import escape_markdown
from dashboard.i18n import lang, t
from dashboard.service import AccessDenied, allowed

MILESTONE_ROWS = 3  # at 建账; more with 添加时间节点 afterwards

principal = gate.require("ledger.read")
# The ledger works on today, whatever 统计截至 the sidebar shows: deadlines offered and "overdue" are
# counted from the product's clock (docs/time.md), so a leader looking at a past week is offered a future date.
today = service.today()
L = lang()
cats = service.catalogues()
st.title(t("ledger_title"))
if principal.role == "department":
    st.caption(t("ledger_scope").format(district=principal.district or "—", unit=principal.unit or "—"))

table = service.task_ledger(principal, as_of=today, catalogues=cats)
scope = st.session_state.get("programmes") or []
if scope:
    table = table[table["programme"].isin(scope)]
districts = st.session_state.get("districts") or []
if districts:
    table = table[table["district"].isin(districts)]
short = {pid: getattr(c.programme, f"short_title_{L}") for pid, c in cats.items()}
columns = ws.ledger_columns()
for col, source in (("programme_short", "programme"), ("district", "district")):
    if table[source].nunique() == 1:  # one programme or district (a department's view): said once, above
        columns.pop(col)
ws.show(ws.ledger_frame(table, short), columns)
if table.empty:
    st.stop()

labels = {
    # no status in the label: a label that changes makes a new select box, which would jump to the first task
    str(tid): f"{short[str(pid)]}｜{clause} {title}"
    for tid, pid, clause, title in zip(
        table["task_id"], table["programme"], table["clause"], table["title"], strict=True
    )
}
task_id = st.selectbox(t("choose_task"), list(labels), format_func=labels.__getitem__, key="ledger_task")
detail = service.account_detail(principal, task_id, as_of=today, catalogues=cats)
ref = detail.ref
lead, coop = ref.lead_units, ref.parties
may_write = allowed(principal, "ledger.write", units=lead, district=ref.district)

# The versions this session's forms were shown with: a save is checked against these, so a save over
# someone else's newer save is refused (已被他人修改) instead of silently replacing it.
SEEN = f"ledger_seen_{task_id}"
if SEEN not in st.session_state and detail.account is not None:
    st.session_state[SEEN] = {
        "version": int(detail.account["version"]),
        "plan": str(detail.account["plan"] or ""),
        "owner": str(detail.account["owner"] or ""),
        "milestones": dict(zip(detail.milestones["milestone_id"], detail.milestones["version"], strict=True)),
    }
seen: dict[str, Any] = st.session_state.get(SEEN, {})
# Forms are keyed by a generation that a successful save moves on, so they come back empty afterwards
# (and a failed save keeps what was typed).
gen = int(st.session_state.get("ledger_form_gen", 0))


def run(action, *args, unsaved: str | None = None, **kwargs) -> bool:  # type: ignore[no-untyped-def]
    """Call a ledger service; show its refusal or conflict in Chinese instead of failing."""
    try:
        action(principal, *args, catalogues=cats, **kwargs)
    except service.ConcurrentEdit as exc:
        st.session_state.pop(SEEN, None)  # the next run shows the latest version, and forms start from it
        st.error(str(exc))
        if unsaved:
            st.info(t("stale_edit_kept").format(version=exc.current_version))
            st.text(unsaved)
        return False
    except (service.LedgerError, AccessDenied) as exc:
        st.error(str(exc))
        return False
    st.session_state.pop(SEEN, None)
    st.session_state["ledger_flash"] = t("saved")
    st.session_state["ledger_form_gen"] = gen + 1
    return True


def files(key: str) -> list[tuple[str, bytes]]:
    # the service's 20 MB limit, so Streamlit's own "… per file" note agrees with the label
    limit_mb = service.EVIDENCE_MAX_BYTES // (1024 * 1024)
    uploaded = (
        st.file_uploader(t("evidence_files"), accept_multiple_files=True, key=key, max_upload_size=limit_mb) or []
    )
    return [(f.name, f.getvalue()) for f in uploaded]


st.subheader(f"{t('account')}：{ref.task.clause} {ref.task.title}")
st.caption(
    f"{short[ref.programme]} · {ref.district} · {t('lead_unit')}：{ref.lead_text} · "
    f"{t('cooperating')}：{'、'.join(ref.task.cooperating_units) or '—'}"
)
if flash := st.session_state.pop("ledger_flash", None):
    st.success(flash)
reported_kpis = {k.id: k for k in ref.kpis.values() if k.measure.kind == "reported" and k.task == ref.task.id}

if detail.account is None:
    st.info(t("not_opened"))
    if may_write:
        with st.form("open_account"):
            plan = st.text_area(t("plan"))
            owner = st.text_input(t("owner"))
            st.caption(t("milestone_rows_hint"))
            rows = []
            for i in range(MILESTONE_ROWS):
                left, right = st.columns([3, 1])
                title = left.text_input(t("milestone_n").format(n=i + 1), key=f"new_ms_title_{i}")
                due = right.date_input(
                    t("col_due_date"), today + dt.timedelta(days=30 * (i + 1)), format=ws.DATE, key=f"new_ms_due_{i}"
                )
                rows.append((title, due))
            own = [k for k, m in ref.kpis.items() if m.task == ref.task.id]  # this task's KPIs first
            kpis = st.multiselect(
                t("linked_kpis"),
                own + [k for k in ref.kpis if k not in own],
                format_func=lambda k: getattr(ref.kpis[k], f"name_{L}") + (t("own_task_kpi") if k in own else ""),
                placeholder=t("choose_kpis"),
                select_all=False,  # its label is English only, and linking every KPI is never meant
            )
            if st.form_submit_button(t("open_account"), type="primary"):
                wanted = [(title, due) for title, due in rows if title.strip()]
                if run(service.open_account, task_id, plan, owner, wanted, kpis):
                    st.rerun()
    st.stop()

acc = detail.account
c = st.columns(4)
c[0].metric(t("status"), t(f"account_{acc['status']}"))
c[1].metric(t("owner"), str(acc["owner"] or "—"))
c[2].metric(t("version"), int(acc["version"]))
latest_pct = detail.updates["progress_pct"].dropna()
c[3].metric(t("progress_pct"), "—" if latest_pct.empty else f"{int(latest_pct.iloc[0])}%")
st.markdown(f"**{t('plan')}**")
st.text(str(acc["plan"] or ""))
if acc["linked_kpis"]:
    names = [getattr(ref.kpis[k], f"name_{L}") for k in acc["linked_kpis"] if k in ref.kpis]
    st.caption(f"{t('linked_kpis')}：{escape_markdown('、'.join(names))}")

st.markdown(f"**{t('milestones_title')}**")
if detail.milestones.empty:
    st.caption(t("no_milestones"))
else:
    ws.show(ws.milestones_frame(detail.milestones), ws.milestone_columns())
if may_write and acc["status"] == "open":
    open_ms = detail.milestones[detail.milestones["done_date"].isna()].set_index("milestone_id")
    if not open_ms.empty:
        with st.form("complete_ms"):
            mid = st.selectbox(
                t("complete"),
                list(open_ms.index),
                format_func=lambda m: f"{open_ms.loc[m, 'title']}（{t('col_due_date')} {open_ms.loc[m, 'due_date']}）",
            )
            if st.form_submit_button(t("complete")):
                version = int(seen.get("milestones", {}).get(mid, open_ms.loc[mid, "version"]))
                if run(service.complete_milestone, int(mid), version):
                    st.rerun()
    with st.expander(t("add_milestone")), st.form(f"add_milestone_{gen}"):
        left, right = st.columns([3, 1])
        title = left.text_input(t("col_milestone"))
        due = right.date_input(t("col_due_date"), today + dt.timedelta(days=30), format=ws.DATE)
        if st.form_submit_button(t("add_milestone")) and run(service.add_milestone, task_id, title, due):
            st.rerun()
    with st.expander(t("edit_account")), st.form("edit_account"):
        # the form starts from the account as this session was shown it, and saves against that version
        v = int(seen.get("version", acc["version"]))
        plan = st.text_area(t("plan"), value=seen.get("plan", str(acc["plan"] or "")), key=f"plan_{task_id}_{v}")
        owner = st.text_input(t("owner"), value=seen.get("owner", str(acc["owner"] or "")), key=f"owner_{task_id}_{v}")
        if st.form_submit_button(t("save")):
            typed = f"{t('plan')}：{plan}\n{t('owner')}：{owner}"
            if run(service.edit_account, task_id, v, plan=plan, owner=owner, unsaved=typed):
                st.rerun()

if allowed(principal, "ledger.update", units=coop, district=ref.district) and acc["status"] != "closed":
    with st.expander(t("append_update"), expanded=False), st.form(f"append_update_{gen}"):
        # empty unless the unit reports one: an update without a figure must not read as 0%
        pct = st.number_input(
            t("progress_pct"), min_value=0, max_value=100, value=None, step=5, placeholder=t("progress_optional")
        )
        narrative = st.text_area(t("narrative"))
        values = {}
        for kid, k in reported_kpis.items():
            number = st.number_input(
                t("reported_value").format(name=k.name_zh), value=None, min_value=0.0, key=f"rep_{kid}_{gen}"
            )
            if number is not None:
                values[kid] = float(number)
        evidence = files(f"update_files_{gen}")
        if st.form_submit_button(t("append_update"), type="primary") and run(
            service.append_update, task_id, pct, narrative, values or None, evidence
        ):
            st.rerun()

st.markdown(f"**{t('updates')}**")
if detail.updates.empty:
    st.caption(t("no_updates"))
else:
    kpi_names = {k: getattr(m, f"name_{L}") for k, m in ref.kpis.items()}
    ws.show(ws.updates_frame(detail.updates, kpi_names), ws.update_columns())
if not detail.evidence.empty:
    st.markdown(f"**{t('evidence')}**")
    for e in detail.evidence.itertuples():
        # read (and permission-checked) only when someone downloads it, not on every page run
        st.download_button(
            f"{t('download')} {e.file_name}（SHA-256 {str(e.sha256)[:12]}…）",
            data=lambda eid=int(e.evidence_id): service.evidence_content(principal, eid, catalogues=cats).content,
            file_name=str(e.file_name),
            key=f"ev_{e.evidence_id}",
            on_click="ignore",
            icon=":material/download:",
        )

st.subheader(t("notices"))
if detail.notices.empty:
    st.caption(t("no_notices"))
for n in detail.notices.itertuples():
    with st.container(border=True):
        st.caption(
            f"{n.issued_at:%Y-%m-%d %H:%M} · {t('issued_by')} {escape_markdown(str(n.issued_by))} · "
            f"{t('reply_by')} {n.reply_by} · {ws.notice_state(str(n.status), bool(n.overdue))}"
        )
        st.text(str(n.reason))
        if n.reply:
            st.markdown(f"**{t('reply')}**（{escape_markdown(str(n.replied_by))}）")
            st.text(str(n.reply))
        elif allowed(principal, "ledger.reply", units=lead, district=ref.district):
            with st.form(f"reply_{n.notice_id}_{gen}"):
                text = st.text_area(t("reply"))
                if st.form_submit_button(t("reply")) and run(service.reply_notice, int(n.notice_id), text):
                    st.rerun()
if allowed(principal, "ledger.supervise") and acc["status"] != "closed":
    with st.expander(t("issue_notice")), st.form(f"notice_{gen}"):
        reason = st.text_area(t("reason"))
        reply_by = st.date_input(t("reply_by"), today + dt.timedelta(days=7), min_value=today, format=ws.DATE)
        if st.form_submit_button(t("issue_notice")) and run(service.supervision_notice, task_id, reason, reply_by):
            st.rerun()

st.subheader(t("closure"))
if detail.closures.empty:
    st.caption(t("no_closures"))
for cr in detail.closures.itertuples():
    with st.container(border=True):
        decided = f" · {t('decided_by')} {escape_markdown(str(cr.decided_by))}" if cr.decided_by else ""
        st.caption(
            f"{cr.requested_at:%Y-%m-%d %H:%M} · {t('requested_by')} {escape_markdown(str(cr.requested_by))} · "
            f"{ws.closure_state(cr.decision)}{decided}"
        )
        st.text(str(cr.summary))
        if cr.reason:
            st.text(f"{t('return_reason')}：{cr.reason}")
        if cr.decision is None and allowed(principal, "ledger.approve"):
            with st.form(f"decide_{cr.closure_id}"):
                why = st.text_input(t("return_reason"))
                a, b = st.columns(2)
                if a.form_submit_button(t("approve"), type="primary") and run(
                    service.decide_closure, int(cr.closure_id), True
                ):
                    st.rerun()
                if b.form_submit_button(t("return")) and run(service.decide_closure, int(cr.closure_id), False, why):
                    st.rerun()
if acc["status"] == "open" and may_write:
    with st.expander(t("request_closure")), st.form(f"closure_{gen}"):
        summary = st.text_area(t("summary"))
        evidence = files(f"closure_files_{gen}")
        if st.form_submit_button(t("request_closure")) and run(
            service.request_closure,
            task_id,
            summary,
            evidence,
            expected_version=int(seen.get("version", acc["version"])),
        ):
            st.rerun()
