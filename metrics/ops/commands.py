"""What `kpi snapshot`, `kpi backup`, `kpi report weekly` and `kpi import` do, whoever holds the database:
the CLI calls these on the store it opened, the server's operators' endpoint calls the very same functions on
its own store (docs/server.md, "Operators' endpoint").

An actor is a Principal (`--user`: checked in the service layer, refusals logged) or an operator's name,
`cli:<login>`, for whoever owns the database file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from metrics.auth.access import Principal
from metrics.auth.access_log import guarded
from metrics.ingest.load import ImportReport
from metrics.ingest.read import ParsedFile
from metrics.ingest.uploads import import_checked
from metrics.ingest.worker import parse_isolated
from metrics.kpi.snapshots import take_snapshot
from metrics.ops.endpoint import ADMIN_PAGE_ZH
from metrics.storage.backup import backup as backup_file
from metrics.storage.store import Store

__all__ = [
    "ADMIN_PAGE_ZH",
    "Actor",
    "backup",
    "import_file",
    "import_parsed_file",
    "report_json",
    "snapshot",
    "weekly_report",
]

Actor = Principal | str


def snapshot(store: Store, actor: Actor, day: dt.date, *, replace: bool = False) -> dict[str, Any]:
    """Every KPI as of `day`, stored (SnapshotExists unless replace). A named account needs jobs.run."""
    if isinstance(actor, Principal):
        guarded(store, actor, "jobs.run")
    return {"day": day.isoformat(), "kpis": take_snapshot(store, day, replace=replace)}


def backup(store: Store, actor: Actor, out: Path, *, overwrite: bool = False) -> dict[str, int]:
    """Copy the database to `out`; rows per table. A named account needs backup.run (refusals logged)."""
    if isinstance(actor, Principal):
        guarded(store, actor, "backup.run")  # what metrics.auth.admin.backup_as checks, with the refusal logged
    return backup_file(store, out, overwrite=overwrite)


def weekly_report(store: Store, actor: Principal, day: dt.date, *, lang: str = "zh") -> str:
    """The printable weekly briefing (HTML) with the overdue tasks the account may see."""
    from metrics.ledger.scorecard import overdue_tasks_frame
    from metrics.reports.briefing import weekly_briefing

    overdue = overdue_tasks_frame(store, actor, day)
    return weekly_briefing(store, day, lang=lang, overdue_tasks=overdue)


def import_file(
    store: Store,
    actor: Actor,
    source: bytes | Path,
    name: str,
    record_type: str | None,
    *,
    unit: str | None = None,
    accept_warnings: bool = False,
) -> ImportReport:
    """Parse in the limited worker and import, as the app's 数据上传 page does (a named account through the
    permission-checked `upload`; the operator through `import_parsed`)."""
    parsed = parse_isolated(source, name, record_type)
    return import_parsed_file(store, actor, parsed, unit=unit, accept_warnings=accept_warnings)


def import_parsed_file(
    store: Store, actor: Actor, parsed: ParsedFile, *, unit: str | None = None, accept_warnings: bool = False
) -> ImportReport:
    """Import a parsed file after its outlier warnings, with the catalogues' subsidy standards (docs/uploads.md):
    a file with warnings is imported only with `accept_warnings`, and they are kept with the upload."""
    from metrics.catalogue import load_catalogues
    from metrics.reports.ceiling import standard_ceiling

    standard = standard_ceiling(load_catalogues().values()) if parsed.ok else None
    return import_checked(store, actor, parsed, unit=unit, standard=standard, accept=accept_warnings)


def report_json(report: ImportReport) -> dict[str, Any]:
    """An import report as the endpoint returns it (what the CLI prints)."""
    return {
        "ok": report.ok,
        "summary_zh": report.summary_zh(),
        "summary_en": report.summary_en(),
        "warnings": list(report.warnings),
        "errors": [
            {
                "file": e.file,
                "row": e.row,
                "column": e.column,
                "value": None if e.value is None else str(e.value),
                "message_zh": e.message_zh,
                "message_en": e.message_en,
            }
            for e in report.errors
        ],
    }
