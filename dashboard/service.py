"""The dashboard's one door to the metrics services: pages and components import from here, never from the store.

Each service is re-exported with the process's store already bound (`upload(principal, parsed)` rather than
`upload(store, principal, parsed)`), so a page holds no Store and writes no SQL; the permission checks stay
in the services. Cached readers (dashboard.state) are re-exported as they are. import-linter keeps
dashboard.views and dashboard.components off metrics' store, engine and service modules (pyproject.toml).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from dashboard import process
from dashboard.state import (
    breakdown,
    briefing,
    catalogues,
    clear_caches,
    data_key,
    delivery,
    engine_kpi,
    kpi_meta,
    overdue_tasks,
    result,
    results,
    series,
    stale,
    store,
    tile_context,
)
from metrics import ledger as _ledger
from metrics.auth import admin as _admin
from metrics.auth import admin_accounts as _admin_accounts
from metrics.auth import audit as _audit
from metrics.auth import signin as _signin
from metrics.auth import users as _users
from metrics.auth import web_sessions as _web_sessions
from metrics.auth.access import ROLES, AccessDenied, Principal, allowed
from metrics.auth.admin import CONFIRM_RESTORE, AdminError
from metrics.auth.audit import ACTIONS_ZH, entity_label
from metrics.auth.users import UserError
from metrics.auth.web_sessions import COOKIE as SESSION_COOKIE
from metrics.auth.web_sessions import SessionEnd
from metrics.catalogue import Catalogue, source_text
from metrics.contract.errors import KpiError
from metrics.contract.records import DISTRICTS
from metrics.ingest import Outlier, ParsedFile, WarningsNotAccepted, errors_to_frame
from metrics.ingest import uploads as _uploads
from metrics.ingest.guard import MAX_UPLOAD_MB
from metrics.ingest.read import UPLOAD_EXTENSIONS
from metrics.ingest.templates import errors_xlsx, template_xlsx
from metrics.ingest.uploads import out_of_district_rows
from metrics.ingest.worker import parse_isolated
from metrics.kpi import snapshots as _snapshots
from metrics.kpi.status import URGENCY, progress
from metrics.ledger import EVIDENCE_MAX_BYTES, ConcurrentEdit, LedgerError
from metrics.ledger import scorecard as _scorecard
from metrics.ops import jobs as _jobs
from metrics.ops import schedule as _schedule
from metrics.ops import scheduler as _scheduler
from metrics.releases import service as _releases
from metrics.releases.disclosure import DEFAULT_THRESHOLD, MIN_THRESHOLD
from metrics.releases.export import chart_png, charts_available, press_pack, release_csv, release_xlsx, statements_text
from metrics.releases.service import Release, ReleaseError, dimension_label, release_label
from metrics.reports import mail_test as _mail_test
from metrics.reports import subscriptions as _subscriptions
from metrics.reports.ceiling import standard_ceiling
from metrics.reports.mail import MailError, SmtpSettings
from metrics.reports.mail_test import MailTest
from metrics.reports.subsidy_text import standard_text
from metrics.storage import clock
from metrics.storage.backup import Restored
from metrics.storage.store import Store

P = ParamSpec("P")
R = TypeVar("R")


def store_available() -> bool:
    """Whether the database exists (pages run only when it does; the app says how to build one otherwise)."""
    return store() is not None


def _store() -> Store:
    s = store()
    if s is None:
        raise RuntimeError("no database (KPI_DB)")
    return s


def _bind(fn: Callable[Concatenate[Store, P], R]) -> Callable[P, R]:
    """The service with the process's store as its first argument, looked up on each call."""

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        return fn(_store(), *args, **kwargs)

    return call


def today() -> dt.date:
    """The product's date (metrics.storage.clock, docs/time.md)."""
    return clock.today()


# auth: sign-in, session refresh, the logged permission check
authenticate = _bind(_users.authenticate)
principal_for_oidc = _bind(_users.principal_for_oidc)
refresh_principal = _bind(_users.refresh_principal)
resolve_session = _bind(_web_sessions.resolve)  # the kpi_session cookie → Principal | SessionEnd (docs/server.md)
revoke_session = _bind(_web_sessions.revoke)
guarded = _bind(_users.guarded)
change_history = _bind(_audit.change_history)

# task ledger (every call checks role, unit and district again)
task_ledger = _bind(_ledger.task_ledger)
account_detail = _bind(_ledger.account_detail)
open_account = _bind(_ledger.open_account)
edit_account = _bind(_ledger.edit_account)
add_milestone = _bind(_ledger.add_milestone)
complete_milestone = _bind(_ledger.complete_milestone)
append_update = _bind(_ledger.append_update)
supervision_notice = _bind(_ledger.supervision_notice)
reply_notice = _bind(_ledger.reply_notice)
request_closure = _bind(_ledger.request_closure)
decide_closure = _bind(_ledger.decide_closure)
evidence_content = _bind(_ledger.evidence_content)
department_scorecard = _bind(_scorecard.department_scorecard)
SCORECARD_COLUMNS = _scorecard.SCORECARD_COLUMNS

# uploads
upload = _bind(_uploads.upload)
upload_history = _bind(_uploads.upload_history)
upload_warnings = _bind(_uploads.upload_warnings)


def outlier_warnings(principal: Principal, parsed: ParsedFile) -> list[Outlier]:
    """The file's outlier warnings for the preview, with the catalogues' subsidy standards (docs/uploads.md)."""
    return _uploads.outlier_warnings(_store(), principal, parsed, standard_ceiling(catalogues().values()))


# releases
snapshot_dates = _bind(_snapshots.snapshot_dates)
default_kpis = _bind(_releases.default_kpis)
create_release = _bind(_releases.create_release)
publish_release = _bind(_releases.publish_release)
discard_release = _bind(_releases.discard_release)
list_releases = _bind(_releases.list_releases)
get_release = _bind(_releases.get_release)

# the admin page (docs/admin.md): every function checks its permission itself and logs a refusal
account_table = _bind(_admin_accounts.account_table)
add_user = _bind(_users.add_user)
set_role = _bind(_admin_accounts.set_role)
set_unit = _bind(_admin_accounts.set_unit)
disable_user = _bind(_users.disable_user)
enable_user = _bind(_users.enable_user)
reset_password = _bind(_users.reset_password)
list_runs = _bind(_scheduler.list_runs)
run_now = _bind(_scheduler.run_now)
list_backups = _bind(_jobs.list_backups)
list_subscriptions = _bind(_subscriptions.list_subscriptions)
unsubscribe = _bind(_subscriptions.unsubscribe)
list_deliveries = _bind(_subscriptions.list_deliveries)
maintenance = process.maintenance
epoch = process.epoch
Maintenance = process.Maintenance
JOBS = _schedule.JOBS
WEEKDAY_ZH = _subscriptions.WEEKDAY_ZH


def revoke_sessions(principal: Principal, user_name: str) -> int:
    """End every browser session of an account (permission users.manage); how many were open."""
    return _web_sessions.revoke_user(_store(), principal, user_name, "管理员在系统管理页面注销")


def accounts_under_attack(principal: Principal, hours: int = 24) -> list[dict[str, Any]]:
    """Accounts with repeated wrong passwords in the last `hours` (permission users.manage)."""
    return _signin.accounts_under_attack(_store(), principal, clock.now() - dt.timedelta(hours=hours))


def subscribe(principal: Principal, user_name: str, email: str, programmes: list[str], weekday: int) -> Any:
    return _subscriptions.subscribe(_store(), principal, user_name, email, programmes, weekday, catalogues=catalogues())


def backups_folder() -> Path:
    return _schedule.BackupSettings.for_db(_store().path).folder


def backup_now(principal: Principal) -> dict[str, Any]:
    """The backup job run now (permission jobs.run): verified, beside the scheduled ones, never rotated."""
    return _scheduler.run_now(_store(), principal, "backup")


def backup_content(principal: Principal, name: str) -> bytes:
    return _admin.backup_content(_store(), principal, backups_folder(), name)


def restore_backup(principal: Principal, name: str, confirmation: str) -> Restored:
    """Restore a backup with the service paused (dashboard.process.replace_database), caches forgotten."""

    def swap(replace: Callable[[Path], Restored]) -> tuple[Restored, Store]:
        return process.replace_database(replace, before_resume=clear_caches)

    restored, _ = _admin.restore_as(_store(), principal, backups_folder(), name, confirmation, swap=swap)
    return restored


def smtp_settings() -> SmtpSettings | None:
    """The SMTP settings the briefing job uses (KPI_SECRETS or .streamlit/secrets.toml, [smtp]); None if absent."""
    return SmtpSettings.from_file(_jobs.secrets_path())


def send_test_mail(principal: Principal, to: str) -> MailTest:
    """A test message through those settings (permission subscriptions.manage); sent, or why not in Chinese."""
    settings = smtp_settings()
    if settings is None:
        raise MailError("未配置邮件服务器：请在 .streamlit/secrets.toml 的 [smtp] 中填写（见 docs/server.md）。")
    return _mail_test.send_test_mail(_store(), principal, settings, to)


__all__ = [
    "ACTIONS_ZH",
    "CONFIRM_RESTORE",
    "DEFAULT_THRESHOLD",
    "DISTRICTS",
    "EVIDENCE_MAX_BYTES",
    "JOBS",
    "MAX_UPLOAD_MB",
    "MIN_THRESHOLD",
    "ROLES",
    "SCORECARD_COLUMNS",
    "SESSION_COOKIE",
    "UPLOAD_EXTENSIONS",
    "URGENCY",
    "WEEKDAY_ZH",
    "AccessDenied",
    "AdminError",
    "Catalogue",
    "ConcurrentEdit",
    "KpiError",
    "LedgerError",
    "MailError",
    "MailTest",
    "Maintenance",
    "Principal",
    "Release",
    "ReleaseError",
    "SessionEnd",
    "SmtpSettings",
    "UserError",
    "WarningsNotAccepted",
    "account_detail",
    "account_table",
    "accounts_under_attack",
    "add_milestone",
    "add_user",
    "allowed",
    "append_update",
    "authenticate",
    "backup_content",
    "backup_now",
    "backups_folder",
    "breakdown",
    "briefing",
    "catalogues",
    "change_history",
    "chart_png",
    "charts_available",
    "complete_milestone",
    "create_release",
    "data_key",
    "decide_closure",
    "default_kpis",
    "delivery",
    "department_scorecard",
    "dimension_label",
    "disable_user",
    "discard_release",
    "edit_account",
    "enable_user",
    "engine_kpi",
    "entity_label",
    "epoch",
    "errors_to_frame",
    "errors_xlsx",
    "evidence_content",
    "get_release",
    "guarded",
    "kpi_meta",
    "list_backups",
    "list_deliveries",
    "list_releases",
    "list_runs",
    "list_subscriptions",
    "maintenance",
    "open_account",
    "out_of_district_rows",
    "outlier_warnings",
    "overdue_tasks",
    "parse_isolated",
    "press_pack",
    "principal_for_oidc",
    "progress",
    "publish_release",
    "refresh_principal",
    "release_csv",
    "release_label",
    "release_xlsx",
    "reply_notice",
    "request_closure",
    "reset_password",
    "resolve_session",
    "restore_backup",
    "result",
    "results",
    "revoke_session",
    "revoke_sessions",
    "run_now",
    "send_test_mail",
    "series",
    "set_role",
    "set_unit",
    "smtp_settings",
    "snapshot_dates",
    "source_text",
    "stale",
    "standard_text",
    "statements_text",
    "store_available",
    "subscribe",
    "supervision_notice",
    "task_ledger",
    "template_xlsx",
    "tile_context",
    "today",
    "unsubscribe",
    "upload",
    "upload_history",
    "upload_warnings",
]
