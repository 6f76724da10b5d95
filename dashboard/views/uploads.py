"""数据上传 Uploads: template, upload, preview and validation, errors as a sheet, outlier warnings, confirm,
history.

A department uploads its own district's rows only: rows of another district are listed before the import
button, and metrics.ingest.uploads refuses them again (and logs the attempt) whatever the page shows. The file is
read in a worker process with memory, CPU and time limits (docs/uploads.md): a file too large or malformed
is refused with its reason, and the server goes on. A valid file whose numbers stand out from the
district's history (metrics.ingest.outliers) lists its warnings, and is imported only once the user ticks that
they have checked them; the warnings and who accepted them are kept with the upload (upload history).
"""

from __future__ import annotations

import streamlit as st

from dashboard.components import gate
from dashboard.components import workspace as ws
from dashboard.i18n import lang, t
from dashboard.service import (
    MAX_UPLOAD_MB,
    UPLOAD_EXTENSIONS,
    AccessDenied,
    WarningsNotAccepted,
    errors_to_frame,
    errors_xlsx,
    out_of_district_rows,
    outlier_warnings,
    parse_isolated,
    template_xlsx,
    upload,
    upload_history,
)
from metrics.contract.records import RECORD_TYPES

principal = gate.require("upload.write", own_unit=True)
L = lang()
st.title(t("uploads_title"))
department = principal.role == "department"
if department:
    st.caption(t("upload_scope").format(district=principal.district, unit=principal.unit))

record = st.selectbox(
    t("choose_type"),
    list(RECORD_TYPES),
    format_func=lambda r: f"{RECORD_TYPES[r].title_zh}（{r}）" if L == "zh" else r,
    key="upload_type",
)
st.download_button(
    t("template_download"),
    data=lambda: template_xlsx(record),
    file_name=t("template_file").format(record=record),
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    icon=":material/download:",
    on_click="ignore",
)

st.caption(t("upload_drag_hint"))
file = st.file_uploader(
    t("upload_file"), type=list(UPLOAD_EXTENSIONS), key=f"upload_file_{record}", max_upload_size=MAX_UPLOAD_MB
)
if file is not None:
    # Parsed once per uploaded file: the reruns of this page (the confirm button) reuse the result.
    key = (file.file_id, record)
    parsed = st.session_state.get("upload_parsed")
    if st.session_state.get("upload_parsed_key") != key or parsed is None:
        bar = st.progress(0.0, text=t("validating"))

        def progress(done: int, total: int) -> None:
            bar.progress(min(1.0, done / total) if total else 0.0, text=f"{t('validating')} {done:,}/{total:,}")

        try:  # in a limited worker process: a hostile file is refused with its reason, the server lives on
            parsed = parse_isolated(file.getvalue(), file.name, record, progress=progress)
        except ValueError as exc:  # KPI_IMPORT_MAX_* set to nonsense: the operator's to fix
            st.error(t("upload_limits_misconfigured").format(reason=exc))
            st.stop()
        st.session_state["upload_parsed"], st.session_state["upload_parsed_key"] = parsed, key
        st.session_state.pop("upload_outliers", None)
        bar.empty()
    for w in parsed.warnings:
        st.caption(f"{t('warnings')}：{w}")
    foreign = out_of_district_rows(parsed, principal.district) if department and parsed.ok else None
    if parsed.errors:
        st.error(t("invalid_file").format(n=len(parsed.errors)))
        ws.show_static(errors_to_frame(parsed.errors), ws.error_labels())
        st.download_button(
            t("errors_download"),
            data=errors_xlsx(parsed.errors, file.name),
            file_name=t("errors_file").format(name=file.name),
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    elif foreign is not None and not foreign.empty:
        st.error(t("out_of_district").format(n=len(foreign), district=principal.district))
        ws.show_static(foreign, ws.error_labels())
    elif parsed.table is not None and parsed.record_type is not None:
        st.success(t("valid_file").format(n=parsed.table.num_rows))
        if parsed.absent_columns:  # left out, not blanked: the import keeps the stored values
            st.info(parsed.absent_note_zh if L == "zh" else parsed.absent_note_en)
        st.caption(t("preview"))
        shown = {c: v for c, v in ws.preview_columns(parsed.record_type, L).items() if c not in parsed.absent_columns}
        ws.show(parsed.table.slice(0, 20).to_pandas(), shown)
        outliers = st.session_state.get("upload_outliers")
        if outliers is None:  # against the store as it is now; once per parsed file
            outliers = st.session_state["upload_outliers"] = outlier_warnings(principal, parsed)
        accepted = False
        if outliers:
            st.warning(t("outliers_found").format(n=len(outliers)))
            ws.show_static(ws.outlier_frame(outliers, L), {"message": t("col_outlier")})
            accepted = st.checkbox(t("outliers_confirm"), key=f"accept_{parsed.sha256}")
        if st.button(
            t("confirm_import"),
            type="primary",
            key=f"confirm_{parsed.sha256}",
            disabled=bool(outliers) and not accepted,
        ):
            try:
                report = upload(principal, parsed, outliers=outliers, accept=accepted)
            except (AccessDenied, WarningsNotAccepted) as exc:  # refused by the service (a refusal is logged)
                st.error(str(exc))
            else:
                summary = report.summary_zh() if L == "zh" else report.summary_en()
                if report.ok:
                    st.success(f"{t('imported')}：{summary}")
                else:  # a stored value kept for a left-out column breaks a rule with the file's values
                    st.error(summary)
                    ws.show_static(errors_to_frame(report.errors), ws.error_labels())

else:
    st.session_state.pop("upload_parsed", None)  # the file was removed: do not keep its rows in the session

st.subheader(t("history"))
history = upload_history(principal)
if history.empty:
    st.caption(t("history_none"))
else:
    ws.show(ws.history_frame(history, L), ws.history_columns())
    with_warnings = ws.accepted_warnings_frame(history)
    if not with_warnings.empty:  # what was imported despite its warnings, and who accepted them
        st.caption(t("accepted_warnings_caption"))
        ws.show_static(with_warnings, ws.accepted_warning_labels())
