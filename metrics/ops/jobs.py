"""The bodies of the scheduled jobs: the weekly snapshot, the daily backup (verified, then rotated) and the
weekly briefing subscriptions. The scheduler (metrics.ops.scheduler) decides when; these only do the work
and return what they did as a small JSON-able dict (job_runs.detail). See docs/server.md, "Scheduler".

A job that cannot run for a reason that is not a failure (no subscriptions code, no SMTP settings) raises
`Skipped`; any other exception is a failed run, retried by the scheduler.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import json
import os
import re
from pathlib import Path
from typing import Any

import duckdb

from metrics.auth.access import Principal, check
from metrics.auth.access_log import logged_refusals
from metrics.contract.errors import KpiError
from metrics.kpi.snapshots import take_snapshot
from metrics.ops.schedule import BackupSettings
from metrics.storage import backup as storage_backup
from metrics.storage.backup import BackupError
from metrics.storage.store import Store

__all__ = [
    "BackupVerifyError",
    "BriefingFailed",
    "Skipped",
    "backup",
    "briefing",
    "list_backups",
    "rotate",
    "secrets_path",
    "snapshot",
    "verify",
]

# Only files the job made are ever rotated: the scheduled backups' strict names. Manual ones (the admin page's
# "back up now" and a "run now" of this job, manual-kpi-…, as metrics.auth.admin names them) are kept until an
# administrator removes them.
SCHEDULED = re.compile(r"^kpi-(\d{8})-(\d{4})\.duckdb$")
MANUAL = re.compile(r"^manual-kpi-(\d{8})-(\d{6})(?:-\d+)?\.duckdb$")


class Skipped(KpiError):
    """The job had nothing it could do this time (recorded as outcome 'skipped' with this reason)."""


class BriefingFailed(KpiError, RuntimeError):
    """Some briefings could not be sent (the run fails and is retried); `detail` says what was sent."""

    def __init__(self, message: str, detail: dict[str, Any]):
        super().__init__(message)
        self.detail = detail


class BackupVerifyError(BackupError):
    """A backup file whose row counts differ from what was copied."""


# --------------------------------------------------------------------------- snapshot


def snapshot(store: Store, due: dt.datetime) -> dict[str, Any]:
    """`kpi snapshot` for the due date; a snapshot already stored for that date is kept (not replaced)."""
    day = due.date()
    exists = store.execute("SELECT count(*) FROM kpi_snapshots WHERE snapshot_date = ?", [day])[0][0]
    if exists:
        return {"snapshot_date": day.isoformat(), "kpis": int(exists), "already_stored": True}
    return {"snapshot_date": day.isoformat(), "kpis": take_snapshot(store, day), "already_stored": False}


# --------------------------------------------------------------------------- backup


def verify(path: Path, copied: dict[str, int]) -> dict[str, int]:
    """Open the written backup read-only and compare rows per table with what was copied; BackupVerifyError
    on any difference (a table missing, added, or with another count)."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise BackupVerifyError(f"备份文件无法打开，校验失败：{path}（{exc}）") from exc
    try:
        row = con.execute("SELECT current_database()").fetchone()
        assert row is not None
        found = storage_backup.table_counts(con, str(row[0]))
    finally:
        con.close()
    if found != copied:
        diff = {
            t: (copied.get(t), found.get(t)) for t in sorted(set(copied) | set(found)) if copied.get(t) != found.get(t)
        }
        raise BackupVerifyError(f"备份校验失败：各表行数与复制时不一致（表: 复制时, 文件中）{diff}：{path}")
    return found


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def backup(
    store: Store, due: dt.datetime, settings: BackupSettings, *, manual: bool = False, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Back up to settings.folder, verify the file, record its counts beside it, then rotate (scheduled only).

    A file that fails verification is removed and the run fails (the scheduler retries it)."""
    name = f"manual-kpi-{due:%Y%m%d-%H%M%S}.duckdb" if manual else f"kpi-{due:%Y%m%d-%H%M}.duckdb"
    out = settings.folder / name
    copied = storage_backup.backup(store, out, overwrite=not manual)  # a retried scheduled run rewrites its file
    try:
        verify(out, copied)
    except BackupVerifyError:
        out.unlink(missing_ok=True)
        raise
    made_at = (now or due).isoformat(timespec="seconds")
    meta = {"made_at": made_at, "kind": "manual" if manual else "scheduled", "verified": True, "counts": copied}
    _sidecar(out).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    removed = [] if manual else rotate(settings)
    return {
        "file": str(out),
        "tables": len(copied),
        "rows": sum(copied.values()),
        "size": out.stat().st_size,
        "rotated_out": [p.name for p in removed],
    }


def _scheduled(folder: Path) -> list[tuple[dt.datetime, Path]]:
    found = []
    if not folder.is_dir():
        return []
    for p in folder.iterdir():
        m = SCHEDULED.match(p.name)
        if m and p.is_file():
            found.append((dt.datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M"), p))
    return sorted(found, reverse=True)


def _weekly_kept(found: list[tuple[dt.datetime, Path]], keep_weekly: int) -> set[Path]:
    """The first backup of each ISO week, for the newest `keep_weekly` weeks."""
    first: dict[tuple[int, int], tuple[dt.datetime, Path]] = {}
    for stamp, p in found:  # newest first: the last one seen in a week is its first
        first[stamp.isocalendar()[:2]] = (stamp, p)
    weeks = sorted(first, reverse=True)[:keep_weekly]
    return {first[w][1] for w in weeks}


def rotate(settings: BackupSettings) -> list[Path]:
    """Keep the newest `keep_daily` scheduled backups and the first backup of each of the newest `keep_weekly`
    ISO weeks; delete the other scheduled backups (and their .json). Returns the deleted files."""
    found = _scheduled(settings.folder)
    keep = {p for _, p in found[: settings.keep_daily]} | _weekly_kept(found, settings.keep_weekly)
    removed = []
    for _, p in found:
        if p not in keep:
            p.unlink(missing_ok=True)
            _sidecar(p).unlink(missing_ok=True)
            removed.append(p)
    return removed


@logged_refusals
def list_backups(store: Store, actor: Principal) -> list[dict[str, Any]]:
    """The backups in the backup folder, newest first, for the admin page (permission backup.run): name, path,
    size, made_at, kind (daily / weekly / manual), verified and counts when the job recorded them."""
    check(actor, "backup.run")
    settings = BackupSettings.for_db(store.path)
    found = _scheduled(settings.folder)
    weekly = _weekly_kept(found, settings.keep_weekly)
    rows: list[dict[str, Any]] = []
    candidates = [p for _, p in found]
    if settings.folder.is_dir():
        candidates += [p for p in settings.folder.iterdir() if MANUAL.match(p.name) and p.is_file()]
    for p in candidates:
        meta: dict[str, Any] = {}
        if _sidecar(p).is_file():
            try:
                meta = json.loads(_sidecar(p).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                meta = {}
        m = SCHEDULED.match(p.name)
        if m:
            stamp = dt.datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M")
            kind = "weekly" if p in weekly else "daily"
        else:
            m = MANUAL.match(p.name)
            assert m is not None
            stamp = dt.datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S")
            kind = "manual"
        rows.append(
            {
                "name": p.name,
                "path": str(p),
                "size": p.stat().st_size,
                "made_at": dt.datetime.fromisoformat(meta["made_at"]) if "made_at" in meta else stamp,
                "kind": kind,
                "verified": bool(meta.get("verified", False)),
                "counts": meta.get("counts"),
            }
        )
    return sorted(rows, key=lambda r: r["made_at"], reverse=True)


# --------------------------------------------------------------------------- briefing subscriptions


def secrets_path() -> Path:
    """Where the server reads its SMTP settings: KPI_SECRETS, else .streamlit/secrets.toml (Streamlit's)."""
    return Path(os.environ.get("KPI_SECRETS", ".streamlit/secrets.toml"))


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def briefing(store: Store, due: dt.datetime, now: dt.datetime) -> dict[str, Any]:
    """Deliver the weekly briefing to the readers whose subscription day has come this week and who have not
    had it (metrics.reports.subscriptions.deliver_due: never twice per reader and week), as of the Sunday on or
    before the due day (the week's snapshot). A failed send fails the run, so the scheduler calls again after
    its backoff and deliver_due retries what its own wait allows."""
    try:
        subscriptions = importlib.import_module("metrics.reports.subscriptions")
        mail = importlib.import_module("metrics.reports.mail")
    except ImportError:
        raise Skipped("subscriptions not available（邮件订阅功能未安装）") from None
    path = secrets_path()
    settings = mail.SmtpSettings.from_file(path)
    if settings is None:
        raise Skipped(f"未配置邮件服务器（{path} 中没有 [smtp]）/ no SMTP settings in {path}")
    as_of = due.date() - dt.timedelta(days=(due.weekday() + 1) % 7)
    summary = subscriptions.deliver_due(store, settings, as_of, now=now)
    detail = {"as_of": as_of.isoformat(), "summary": str(summary), "result": _jsonable(summary)}
    if summary.failed or summary.waiting:  # not done for today: the scheduler calls again after its backoff
        errors = "; ".join(f"{user}: {error}" for user, error in summary.failed)
        raise BriefingFailed(f"{summary}" + (f": {errors}" if errors else ""), detail)
    return detail
