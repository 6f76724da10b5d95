"""Uploads through the app: the permission-checked door to the same import code as `kpi import`.

A department uploads for its own unit and its own district: every row's 所属区 must be its district, and a
row may not replace another district's record. The upload history a department sees is its unit's in its
district. A file whose numbers stand out from the district's history (metrics.ingest.outliers) is imported
only with its warnings accepted, and they are stored with the upload.
"""

from __future__ import annotations

import pandas as pd

from metrics.auth.access import AccessDenied, Principal, check
from metrics.auth.users import logged_refusals
from metrics.ingest import ImportReport, OutOfDistrict, ParsedFile, RowError, import_parsed
from metrics.ingest.outliers import AmountStandard, Outlier, find_outliers
from metrics.storage.store import Store

__all__ = [
    "OUT_OF_DISTRICT_COLUMNS",
    "import_checked",
    "out_of_district_rows",
    "outlier_warnings",
    "upload",
    "upload_history",
    "upload_warnings",
]

OUT_OF_DISTRICT_COLUMNS = ("行号", "列", "值", "问题")
_SHOWN = 5  # rows named in a refusal message; the page shows them all


def out_of_district_rows(parsed: ParsedFile, district: str) -> pd.DataFrame:
    """The file's rows whose 所属区 is not `district`, as (行号, 列, 值, 问题) like the validation errors.

    For the upload page to show before the import button; `upload` refuses such a file either way.
    """
    rows: list[tuple[int | None, str, str, str]] = []
    if parsed.table is not None and "district" in parsed.table.column_names:
        numbers = parsed.row_numbers
        for i, value in enumerate(parsed.table.column("district").to_pylist()):
            if value != district:
                row = numbers[i] if i < len(numbers) else None
                rows.append((row, "所属区", str(value or "—"), f"本账号只能上传{district}的数据"))
    frame = pd.DataFrame(rows, columns=list(OUT_OF_DISTRICT_COLUMNS))
    frame["行号"] = frame["行号"].astype("Int64")
    return frame


def _refusal(principal: Principal, parsed: ParsedFile, exc: OutOfDistrict) -> AccessDenied:
    me = f"无权限：{principal.display} 只能上传{exc.district}的数据"
    if exc.incoming:
        bad = out_of_district_rows(parsed, exc.district)
        lines = "、".join(str(r) for r in bad["行号"].head(_SHOWN).tolist())
        more = f"等 {len(bad)} 行" if len(bad) > _SHOWN else ""
        others = "、".join(sorted({d for _, d in exc.incoming}))
        reason = f"{me}；文件第 {lines} 行{more}的所属区为 {others}，文件未导入。"
        target = others
    else:
        keys = "、".join(k for k, _ in exc.existing[:_SHOWN])
        others = "、".join(sorted({d for _, d in exc.existing}))
        reason = f"{me}；编号 {keys} 已是{others}的记录，不能覆盖，文件未导入。"
        target = others
    return AccessDenied(principal, "upload.write", target, reason=reason)


@logged_refusals
def outlier_warnings(
    store: Store, principal: Principal, parsed: ParsedFile, standard: AmountStandard | None = None
) -> list[Outlier]:
    """The outlier warnings of a parsed file against its districts' history (metrics.ingest.outliers), for the
    preview; `standard` gives the catalogue's subsidy standards."""
    check(principal, "upload.write", unit=principal.unit, district=principal.district)
    return find_outliers(store, parsed, standard=standard)


@logged_refusals
def upload(
    store: Store,
    principal: Principal,
    parsed: ParsedFile,
    *,
    outliers: list[Outlier] | None = None,
    accept: bool = False,
) -> ImportReport:
    """Write a validated file for the principal's unit (one transaction; a file with errors writes nothing).

    A department's file must hold only its own district's rows and may only replace its district's records;
    otherwise AccessDenied (logged), and nothing is written. `outliers` are the warnings the user was shown
    (outlier_warnings): with any, `accept` must say the user accepted them (WarningsNotAccepted otherwise); they
    are stored with the upload under the principal's name.
    """
    check(principal, "upload.write", unit=principal.unit, district=principal.district)
    district = principal.district if principal.role == "department" else None
    try:
        return import_parsed(
            store,
            parsed,
            user=principal.user,
            unit=principal.unit,
            district=district,
            outliers=outliers or [],
            accepted_by=principal.user if accept else None,
        )
    except OutOfDistrict as exc:
        raise _refusal(principal, parsed, exc) from None


def import_checked(
    store: Store,
    actor: Principal | str,
    parsed: ParsedFile,
    *,
    unit: str | None = None,
    standard: AmountStandard | None = None,
    accept: bool = False,
) -> ImportReport:
    """`kpi import`'s import, on the command's own store or the server's (metrics.ops.commands): the file's outlier
    warnings are worked out first; unless `accept`, a file with any is not imported, and the report's errors
    list each warning and say how to accept them. A Principal imports through the permission-checked `upload`,
    an operator's name (cli:<login>) through `import_parsed` for `unit`."""
    if isinstance(actor, Principal):
        outliers = outlier_warnings(store, actor, parsed, standard) if parsed.ok else []
    else:
        outliers = find_outliers(store, parsed, standard=standard)
    if outliers and not accept:
        report = ImportReport(parsed.file, parsed.record_type, parsed.sha256, warnings=list(parsed.warnings))
        report.outliers = outliers
        report.errors = [
            RowError(parsed.file, o.row, None, None, f"异常值提示：{o.message_zh}", f"outlier: {o.message_en}")
            for o in outliers
        ]
        report.errors.append(
            RowError(
                parsed.file,
                None,
                None,
                None,
                f"有 {len(outliers)} 条异常值提示，未导入；核对无误后加 --accept-warnings 重新导入",
                f"{len(outliers)} outlier warning(s), not imported; check them and run again with --accept-warnings",
            )
        )
        return report
    if isinstance(actor, Principal):
        report = upload(store, actor, parsed, outliers=outliers, accept=accept)
    else:
        report = import_parsed(store, parsed, user=actor, unit=unit, outliers=outliers, accepted_by=actor)
    report.warnings += [f"已确认的异常值提示：{o.message_zh}" for o in report.outliers]
    return report


@logged_refusals
def upload_history(store: Store, principal: Principal, limit: int = 200) -> pd.DataFrame:
    """Recent uploads with their counts: a department's own unit in its district, everything for the office
    and admin."""
    check(principal, "upload.read", unit=principal.unit, district=principal.district)
    department = principal.role == "department"
    return store.query_df(
        "SELECT upload_id, uploaded_at, record_type, file_name, user_name, unit_name, district, row_count, "
        "new_rows, changed_rows, unchanged_rows, sha256, "
        "(SELECT count(*) FROM upload_warnings w WHERE w.upload_id = u.upload_id) AS warning_count, "
        "(SELECT string_agg(w.message_zh, '；' ORDER BY w.warning_id) FROM upload_warnings w "
        "WHERE w.upload_id = u.upload_id) AS warnings_accepted, "
        "(SELECT max(w.accepted_by) FROM upload_warnings w WHERE w.upload_id = u.upload_id) AS accepted_by "
        "FROM uploads u "
        "WHERE NOT $department OR (unit_name = $unit AND district = $district) "
        "ORDER BY upload_id DESC LIMIT $limit",
        {"department": department, "unit": principal.unit, "district": principal.district, "limit": limit},
    )


@logged_refusals
def upload_warnings(store: Store, principal: Principal, upload_id: int) -> pd.DataFrame:
    """The outlier warnings an upload was imported with, and who accepted them (a department: its own unit's)."""
    check(principal, "upload.read", unit=principal.unit, district=principal.district)
    department = principal.role == "department"
    return store.query_df(
        "SELECT w.upload_id, w.kind, w.subject, w.period, w.message_zh, w.message_en, w.accepted_by, w.accepted_at "
        "FROM upload_warnings w JOIN uploads u USING (upload_id) WHERE w.upload_id = $upload_id "
        "AND (NOT $department OR (u.unit_name = $unit AND u.district = $district)) ORDER BY w.warning_id",
        {"upload_id": upload_id, "department": department, "unit": principal.unit, "district": principal.district},
    )
