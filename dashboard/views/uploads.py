"""数据上传 Uploads: template, upload, preview and validation, errors as a sheet, confirm, history."""

from __future__ import annotations

import streamlit as st

from dashboard import state
from dashboard.i18n import lang, t
from metrics.ingest import errors_to_frame, parse_bytes
from metrics.records import RECORD_TYPES
from metrics.templates import errors_xlsx, template_xlsx
from metrics.uploads import upload, upload_history

principal = state.require("upload.write", own_unit=True)
L = lang()
st.title(t("uploads_title"))
store = state.store()
assert store is not None

record = st.selectbox(
    t("choose_type"),
    list(RECORD_TYPES),
    format_func=lambda r: f"{RECORD_TYPES[r].title_zh}（{r}）" if L == "zh" else r,
    key="upload_type",
)
st.download_button(
    t("template_download"),
    data=lambda: template_xlsx(record),
    file_name=f"{record}_模板.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    icon=":material/download:",
    on_click="ignore",
)

file = st.file_uploader(t("upload_file"), type=["xlsx", "csv"], key=f"upload_file_{record}")
if file is not None:
    bar = st.progress(0.0, text=t("validating"))

    def progress(done: int, total: int) -> None:
        bar.progress(min(1.0, done / total) if total else 0.0, text=f"{t('validating')} {done:,}/{total:,}")

    parsed = parse_bytes(file.getvalue(), file.name, record, progress=progress)
    bar.empty()
    for w in parsed.warnings:
        st.caption(f"{t('warnings')}：{w}")
    if parsed.errors:
        st.error(t("invalid_file").format(n=len(parsed.errors)))
        st.dataframe(errors_to_frame(parsed.errors), hide_index=True, width="stretch")
        st.download_button(
            t("errors_download"),
            data=errors_xlsx(parsed.errors, file.name),
            file_name=f"{file.name}_错误清单.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    elif parsed.table is not None:
        st.success(t("valid_file").format(n=parsed.table.num_rows))
        st.caption(t("preview"))
        st.dataframe(parsed.table.slice(0, 20).to_pandas(), hide_index=True, width="stretch")
        if st.button(t("confirm_import"), type="primary", key=f"confirm_{parsed.sha256}"):
            report = upload(store, principal, parsed)
            st.success(f"{t('imported')}：{report.summary_zh() if L == 'zh' else report.summary_en()}")

st.subheader(t("history"))
st.dataframe(upload_history(store, principal), hide_index=True, width="stretch")
