"""Who receives the weekly briefing by e-mail, and its delivery: at most one message per reader and week
(docs/server.md, "E-mail subscriptions").

Permissions: an administrator manages everyone's subscription (subscriptions.manage); any account that may
read KPIs manages its own (subscriptions.own). Only such an account can be subscribed at all: a press
account reads published releases only, so the briefing's unpublished KPIs are never mailed to one, and an
account disabled or moved to press later simply stops receiving it. Each change is one transaction with a
change_log row (entity 'subscriptions'); a refused call is written to the access log.

Delivery (`deliver_due`, the scheduler's job; cheap to call often): every active subscription whose weekday
has come in the current ISO week gets one message, composed for that reader (their programmes, their
overdue tasks). Each is claimed in mail_deliveries ('pending') in a transaction of its own before it is
handed to the SMTP server and marked 'sent' or 'failed' in another after. The row's key (user, week)
makes a second message that week impossible. A failed send is tried again on a later call once
next_attempt_at has passed (after 5, 15, 60, 60 minutes; 5 attempts in all). A claim left 'pending' by a
process that stopped mid-send is marked failed and not retried, since it may have gone out.

    >>> subscribe(store, admin, "leader", "leader@example.gov.cn", programmes=["xicheng-measures"], weekday=1)
    >>> deliver_due(store, SmtpSettings.load(st.secrets), dt.date(2026, 11, 29), now=clock.now())
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import duckdb
import pandas as pd

from metrics.auth.access import AccessDenied, Principal, allowed, check
from metrics.auth.access_log import logged_refusals
from metrics.auth.users import refresh_principal
from metrics.catalogue import Catalogue, load_catalogues
from metrics.contract.errors import KpiError
from metrics.ledger.scorecard import overdue_tasks_frame
from metrics.reports.briefing_content import BriefingData, collect_briefing
from metrics.reports.mail import MailError, SmtpSettings, check_address, compose_weekly, send_test, smtp_send
from metrics.storage import changelog, clock
from metrics.storage.changelog import Action
from metrics.storage.store import Store

__all__ = [
    "BACKOFF",
    "DELIVERY_COLUMNS",
    "MAX_ATTEMPTS",
    "STATUS_ZH",
    "WEEKDAY_ZH",
    "DeliverySummary",
    "Subscription",
    "SubscriptionError",
    "deliver_due",
    "list_deliveries",
    "list_subscriptions",
    "send_test_as",
    "smtp_send",
    "subscribe",
    "unsubscribe",
    "week_of",
]

# Waits after the 1st, 2nd, 3rd and 4th failed attempt; the 5th failure is final.
BACKOFF = (dt.timedelta(minutes=5), dt.timedelta(minutes=15), dt.timedelta(minutes=60), dt.timedelta(minutes=60))
MAX_ATTEMPTS = len(BACKOFF) + 1
# A claim older than this without an outcome was cut off mid-send (the server stopped).
INTERRUPTED_AFTER = dt.timedelta(minutes=30)
WEEKDAY_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
STATUS_ZH = {"sent": "已发送", "failed": "发送失败", "pending": "发送中"}
INTERRUPTED = "发送过程中断（服务停止？），无法确认是否已发出；为避免重复发送，本周不再自动重发"
DELIVERY_COLUMNS = (
    "user_name",
    "week",
    "as_of",
    "email",
    "status",
    "status_zh",
    "attempts",
    "claimed_at",
    "next_attempt_at",
    "last_error",
    "sent_at",
    "message_id",
)
_SUB_COLUMNS = "user_name, email, programmes, weekday, active, created_at, updated_at"

Send = Callable[[SmtpSettings, EmailMessage], None]


class SubscriptionError(KpiError, ValueError):
    """A subscription that cannot be made as asked; the message is Chinese for the admin page."""


@dataclass(frozen=True)
class Subscription:
    """One account's weekly-briefing subscription; programmes empty means all it may read."""

    user_name: str
    email: str
    programmes: tuple[str, ...]
    weekday: int  # ISO: 1 = Monday … 7 = Sunday
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def weekday_zh(self) -> str:
        return WEEKDAY_ZH[self.weekday - 1]

    def values(self) -> dict[str, Any]:
        """What the change log records."""
        return {
            "email": self.email,
            "programmes": list(self.programmes),
            "weekday": self.weekday,
            "active": self.active,
        }


@dataclass
class DeliverySummary:
    """What one deliver_due call did, by user name."""

    week: dt.date
    as_of: dt.date
    sent: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (user, error): tried again later or given up
    waiting: list[str] = field(default_factory=list)  # failed before; the next attempt is not due yet
    already: list[str] = field(default_factory=list)  # sent earlier this week (or given up): nothing to do
    skipped: list[str] = field(default_factory=list)  # disabled, may not read KPIs, or claimed elsewhere

    @property
    def ok(self) -> bool:
        return not self.failed

    def __str__(self) -> str:
        return (
            f"周报邮件（{self.week.isoformat()}周）：发送{len(self.sent)}封，失败{len(self.failed)}封，"
            f"等待重试{len(self.waiting)}封，本周已处理{len(self.already)}封，跳过{len(self.skipped)}个"
        )


def week_of(day: dt.date) -> dt.date:
    """The Monday of `day`'s ISO week: the key under which a reader gets at most one message."""
    return day - dt.timedelta(days=day.isoweekday() - 1)


# --------------------------------------------------------------------------- subscriptions


def _subscription(row: Sequence[Any]) -> Subscription:
    return Subscription(str(row[0]), str(row[1]), tuple(row[2] or ()), int(row[3]), bool(row[4]), row[5], row[6])


def _fetch(cur: duckdb.DuckDBPyConnection, user_name: str) -> Subscription | None:
    row = cur.execute(f"SELECT {_SUB_COLUMNS} FROM subscriptions WHERE user_name = ?", [user_name]).fetchone()  # noqa: S608
    return None if row is None else _subscription(row)


def _check_manage(actor: Principal, user_name: str) -> None:
    """One's own subscription takes subscriptions.own; anyone else's subscriptions.manage (administrators)."""
    check(actor, "subscriptions.own" if actor.user == user_name else "subscriptions.manage")


def _reader(store: Store, user_name: str) -> Principal:
    """The account to be subscribed, as the users table has it; it must be active and may read KPIs."""
    reader = refresh_principal(store, Principal(user_name, "press"))  # the role is read from the table
    if reader is None:
        raise SubscriptionError(f"账号不存在或已停用：{user_name}")
    if not allowed(reader, "kpi.read"):
        raise SubscriptionError(
            f"账号 {user_name} 不能查看指标（{reader.role}），不能订阅周报：周报含未发布的指标，宣传账号只看已发布的统计发布"
        )
    return reader


def _programmes(programmes: Iterable[str], cats: dict[str, Catalogue]) -> list[str]:
    chosen = sorted({str(p).strip() for p in programmes if str(p).strip()})
    unknown = [p for p in chosen if p not in cats]
    if unknown:
        raise SubscriptionError(f"没有这些项目：{'、'.join(unknown)}（可选：{'、'.join(cats)}）")
    return chosen


@logged_refusals
def subscribe(
    store: Store,
    actor: Principal,
    user_name: str,
    email: str,
    programmes: Iterable[str] = (),
    weekday: int = 1,
    *,
    catalogues: dict[str, Catalogue] | None = None,
) -> Subscription:
    """Make or change `user_name`'s subscription (turning it back on if it was off); returns it as stored."""
    user_name = str(user_name).strip().lower()
    _check_manage(actor, user_name)
    _reader(store, user_name)
    try:
        address = check_address(email)
    except MailError as exc:
        raise SubscriptionError(str(exc)) from exc
    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 1 <= weekday <= 7:
        raise SubscriptionError(f"发送日应为 1（星期一）到 7（星期日），不是 {weekday!r}")
    chosen = _programmes(programmes, catalogues if catalogues is not None else load_catalogues())
    now = clock.now()
    with store.transaction() as cur:
        old = _fetch(cur, user_name)
        new = {"email": address, "programmes": chosen, "weekday": weekday, "active": True}
        if old is not None and old.values() == new:
            return old
        if old is None:
            cur.execute(
                f"INSERT INTO subscriptions ({_SUB_COLUMNS}) VALUES (?, ?, ?, ?, true, ?, ?)",  # noqa: S608
                [user_name, address, chosen, weekday, now, now],
            )
        else:
            cur.execute(
                "UPDATE subscriptions SET email = ?, programmes = ?, weekday = ?, active = true, updated_at = ? "
                "WHERE user_name = ?",
                [address, chosen, weekday, now, user_name],
            )
        action = Action.UPDATE if old is not None and old.active else Action.SUBSCRIBE
        changelog.record(
            cur, actor.user, "subscriptions", user_name, action, None if old is None else old.values(), new
        )
        found = _fetch(cur, user_name)
    assert found is not None
    return found


@logged_refusals
def unsubscribe(store: Store, actor: Principal, user_name: str) -> Subscription | None:
    """Turn `user_name`'s subscription off (the row and its history stay); None if there was none."""
    user_name = str(user_name).strip().lower()
    _check_manage(actor, user_name)
    with store.transaction() as cur:
        old = _fetch(cur, user_name)
        if old is None or not old.active:
            return old
        cur.execute(
            "UPDATE subscriptions SET active = false, updated_at = ? WHERE user_name = ?", [clock.now(), user_name]
        )
        changelog.record(
            cur, actor.user, "subscriptions", user_name, Action.UNSUBSCRIBE, old.values(), {"active": False}
        )
        return _fetch(cur, user_name)


@logged_refusals
def list_subscriptions(store: Store, actor: Principal) -> list[Subscription]:
    """Everyone's subscriptions for an administrator; one's own (zero or one) for any other KPI reader."""
    if allowed(actor, "subscriptions.manage"):
        rows = store.execute(f"SELECT {_SUB_COLUMNS} FROM subscriptions ORDER BY active DESC, user_name")  # noqa: S608
    else:
        check(actor, "subscriptions.own")
        rows = store.execute(f"SELECT {_SUB_COLUMNS} FROM subscriptions WHERE user_name = ?", [actor.user])  # noqa: S608
    return [_subscription(r) for r in rows]


@logged_refusals
def list_deliveries(store: Store, actor: Principal, limit: int = 200) -> pd.DataFrame:
    """The latest deliveries for the admin page: failed first, then in progress, then sent; newest week first."""
    check(actor, "subscriptions.manage")
    df = store.query_df(
        "SELECT user_name, week, as_of, email, status, attempts, claimed_at, next_attempt_at, last_error, "
        "sent_at, message_id FROM mail_deliveries "
        "ORDER BY CASE status WHEN 'failed' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END, week DESC, user_name LIMIT ?",
        [max(1, min(int(limit), 10_000))],
    )
    df.insert(5, "status_zh", df["status"].map(STATUS_ZH))
    return df[list(DELIVERY_COLUMNS)]


@logged_refusals
def send_test_as(store: Store, actor: Principal, settings: SmtpSettings, to: str) -> None:
    """The admin page's SMTP test message (subscriptions.manage): metrics.reports.mail.send_test, checked."""
    check(actor, "subscriptions.manage")
    send_test(settings, check_address(to))


# --------------------------------------------------------------------------- delivery


def _due(store: Store, now: dt.datetime) -> list[Subscription]:
    """Active subscriptions whose weekday has come this ISO week and that existed by that day."""
    week = week_of(now.date())
    rows = store.execute(
        f"SELECT {_SUB_COLUMNS} FROM subscriptions WHERE active AND weekday <= ? "  # noqa: S608
        "AND CAST(created_at AS DATE) <= ? + (weekday - 1) * INTERVAL 1 DAY ORDER BY user_name",
        [now.isoweekday(), week],
    )
    return [_subscription(r) for r in rows]


def _claim(store: Store, sub: Subscription, week: dt.date, as_of: dt.date, now: dt.datetime) -> int | str:
    """Take the (user, week) row for sending: the attempt number, or why not ('already', 'waiting', 'busy')."""
    try:
        with store.transaction() as cur:
            row = cur.execute(
                "SELECT status, attempts, next_attempt_at, claimed_at FROM mail_deliveries "
                "WHERE user_name = ? AND week = ?",
                [sub.user_name, week],
            ).fetchone()
            if row is None:
                cur.execute(
                    "INSERT INTO mail_deliveries (user_name, week, as_of, email, status, attempts, claimed_at) "
                    "VALUES (?, ?, ?, ?, 'pending', 1, ?)",
                    [sub.user_name, week, as_of, sub.email, now],
                )
                return 1
            status, attempts, next_at, claimed_at = row
            if status == "pending":
                if claimed_at < now - INTERRUPTED_AFTER:
                    cur.execute(
                        "UPDATE mail_deliveries SET status = 'failed', last_error = ?, next_attempt_at = NULL "
                        "WHERE user_name = ? AND week = ? AND status = 'pending'",
                        [INTERRUPTED, sub.user_name, week],
                    )
                    return "already"
                return "busy"
            if status == "sent" or next_at is None:
                return "already"
            if next_at > now:
                return "waiting"
            cur.execute(
                "UPDATE mail_deliveries SET status = 'pending', attempts = attempts + 1, claimed_at = ?, as_of = ?, "
                "email = ?, next_attempt_at = NULL WHERE user_name = ? AND week = ? AND status = 'failed'",
                [now, as_of, sub.email, sub.user_name, week],
            )
            return int(attempts) + 1
    except duckdb.Error:  # another process claimed the same row at the same moment (UNIQUE or a write conflict)
        return "busy"


def _record(
    store: Store, user: str, week: dt.date, attempt: int, now: dt.datetime, error: str | None, message_id: str | None
) -> None:
    with store.transaction() as cur:
        if error is None:
            cur.execute(
                "UPDATE mail_deliveries SET status = 'sent', sent_at = ?, message_id = ?, last_error = NULL "
                "WHERE user_name = ? AND week = ?",
                [now, message_id, user, week],
            )
        else:
            retry = now + BACKOFF[attempt - 1] if attempt < MAX_ATTEMPTS else None
            cur.execute(
                "UPDATE mail_deliveries SET status = 'failed', last_error = ?, next_attempt_at = ?, message_id = ? "
                "WHERE user_name = ? AND week = ?",
                [error[:1000], retry, message_id, user, week],
            )


def _overdue(store: Store, reader: Principal, as_of: dt.date, cats: dict[str, Catalogue]) -> pd.DataFrame | None:
    try:
        return overdue_tasks_frame(store, reader, as_of, catalogues=cats)
    except AccessDenied:
        return None


def _with_overdue(common: BriefingData, overdue: pd.DataFrame | None) -> BriefingData:
    """The run's briefing with one reader's overdue tasks, ordered as collect_briefing orders them (a test
    checks the result renders to exactly the reader's own weekly_briefing)."""
    if overdue is not None:
        overdue = overdue.sort_values("days_overdue", ascending=False, kind="stable")
    return dataclasses.replace(common, overdue=overdue)


def deliver_due(
    store: Store,
    settings: SmtpSettings,
    as_of: dt.date,
    *,
    now: dt.datetime | None = None,
    send: Send = smtp_send,
    catalogues: dict[str, Catalogue] | None = None,
) -> DeliverySummary:
    """Send the briefing as of `as_of` to every reader due at `now` (default: the clock) and not yet sent to
    this week; retry failed ones whose wait is over. Safe to call as often as wanted, from several places."""
    now = (now or clock.now()).replace(microsecond=0)
    week = week_of(now.date())
    cats = catalogues if catalogues is not None else load_catalogues()
    summary = DeliverySummary(week=week, as_of=as_of)
    common: BriefingData | None = None  # the briefing is the same for every reader but for the overdue tasks
    chart_cache: dict[tuple[str, ...], dict[str, bytes | None]] = {}
    for sub in _due(store, now):
        reader = refresh_principal(store, Principal(sub.user_name, "press"))
        if reader is None or not allowed(reader, "kpi.read"):
            summary.skipped.append(sub.user_name)  # disabled, or may no longer read unpublished KPIs
            continue
        claim = _claim(store, sub, week, as_of, now)
        if not isinstance(claim, int):
            {"already": summary.already, "waiting": summary.waiting, "busy": summary.skipped}[claim].append(
                sub.user_name
            )
            continue
        message_id: str | None = None
        try:
            if common is None:
                common = collect_briefing(store, as_of, catalogues=cats, generated_at=now)
            data = _with_overdue(common, _overdue(store, reader, as_of, cats))
            msg = compose_weekly(
                data,
                cats,
                sender=settings.sender,
                to=sub.email,
                programmes=[p for p in sub.programmes if p in cats],
                chart_cache=chart_cache,
            )
            message_id = str(msg["Message-ID"])
            send(settings, msg)
        except Exception as exc:  # one reader's failure (SMTP, network, TLS, a bad address) must not stop the rest
            error = f"{type(exc).__name__}: {exc}"
            _record(store, sub.user_name, week, claim, now, error, message_id)
            summary.failed.append((sub.user_name, error))
        else:
            _record(store, sub.user_name, week, claim, now, None, message_id)
            summary.sent.append(sub.user_name)
    return summary
