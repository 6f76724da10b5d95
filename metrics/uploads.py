"""Uploads through the app: the permission-checked door to the same import code as `kpi import`.

A department uploads for its own unit; the upload history a department sees is its unit's.
"""

from __future__ import annotations

import pandas as pd

from metrics.access import Principal, check
from metrics.ingest import ImportReport, ParsedFile, import_parsed
from metrics.store import Store
from metrics.users import logged_refusals

__all__ = ["upload", "upload_history"]


@logged_refusals
def upload(store: Store, principal: Principal, parsed: ParsedFile) -> ImportReport:
    """Write a validated file for the principal's unit (one transaction; a file with errors writes nothing)."""
    check(principal, "upload.write", unit=principal.unit)
    return import_parsed(store, parsed, user=principal.user, unit=principal.unit)


@logged_refusals
def upload_history(store: Store, principal: Principal, limit: int = 200) -> pd.DataFrame:
    """Recent uploads with their counts: a department's own unit, everything for the office and admin."""
    check(principal, "upload.read", unit=principal.unit)
    unit = principal.unit if principal.role == "department" else None
    return store.query_df(
        "SELECT upload_id, uploaded_at, record_type, file_name, user_name, unit_name, row_count, new_rows, "
        "changed_rows, unchanged_rows, sha256 FROM uploads "
        "WHERE ($unit IS NULL OR unit_name = $unit) ORDER BY upload_id DESC LIMIT $limit",
        {"unit": unit, "limit": limit},
    )
