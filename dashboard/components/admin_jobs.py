"""The admin page's 定时任务 tab: each scheduled job with its schedule and last outcome, a 立即运行 button per
job, and the newest runs with their errors (metrics.ops.scheduler)."""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import service
from dashboard.components import admin_common as common
from dashboard.components import workspace as ws
from dashboard.i18n import t

RUNS_SHOWN = 50


def runs_frame(runs: list[dict[str, Any]]) -> pd.DataFrame:
    columns = ["run_id", "job", "label_zh", "due", "attempt", "started_at", "finished_at", "outcome", "error"]
    frame = pd.DataFrame(runs, columns=[*columns, "triggered_by"])
    return frame.assign(
        outcome_label=[t(f"outcome_{o}") for o in frame["outcome"]],
        due=pd.to_datetime(frame["due"]),
        started_at=pd.to_datetime(frame["started_at"]),
        finished_at=pd.to_datetime(frame["finished_at"]),
    )


def _run_columns() -> dict[str, Any]:
    return {
        "label_zh": ws.text("col_job"),
        "due": ws.when("col_due"),
        "started_at": ws.when("col_started_at"),
        "finished_at": ws.when("col_finished_at"),
        "outcome_label": ws.text("col_outcome"),
        "error": ws.text("col_error"),
        "triggered_by": ws.text("col_triggered_by"),
    }


def render(principal: service.Principal) -> None:
    runs = common.attempt(lambda: service.list_runs(principal, RUNS_SHOWN))
    if runs is None:
        return
    frame = runs_frame(runs)
    for job in service.JOBS.values():
        with st.container(border=True):
            left, right = st.columns([3, 1])
            last = frame[frame["job"] == job.name].head(1)
            outcome = (
                "—" if last.empty else f"{last['outcome_label'].iloc[0]} · {last['started_at'].iloc[0]:%Y-%m-%d %H:%M}"
            )
            left.markdown(f"**{job.label_zh}** · {job.cadence.describe_zh()}")
            left.caption(f"{t('col_outcome')}：{outcome}")
            if right.button(t("run_now"), key=f"adm_run_{job.name}", icon=":material/play_arrow:"):
                with st.spinner(t("run_now")):
                    run = common.attempt(functools.partial(service.run_now, principal, job.name))
                if run is not None:
                    common.done(
                        t("job_started").format(job=job.label_zh, outcome=t(f"outcome_{run['outcome']}"))
                        + (f"：{run['error']}" if run.get("error") else "")
                    )
    st.subheader(t("jobs_runs"))
    if frame.empty:
        st.caption(t("jobs_none"))
        return
    ws.show(frame, _run_columns())
