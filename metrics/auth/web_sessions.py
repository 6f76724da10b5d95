"""Browser sessions that survive a reload: a random token in the HttpOnly cookie `kpi_session`, only its
SHA-256 in `web_sessions`, with an absolute lifetime, an idle timeout and server-side revocation.
See docs/server.md, "Sign-in and sessions".

    >>> token = create(store, principal, client="10.0.0.7", user_agent="Mozilla/5.0 …")   # at sign-in
    >>> resolve(store, token)          # on every page run: the Principal as the users table has it now,
    ...                                # or a SessionEnd saying why not (expired, idle, revoked, disabled)
    >>> revoke(store, token, by="zhang.san", reason="退出登录")

Disabling an account and resetting its password end its sessions in their own transaction (`accounts`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from metrics.auth.access import Principal
from metrics.auth.access_log import Clock, _now, guarded, record_access
from metrics.auth.accounts import _end_sessions, _normalise_user_name, _record_change
from metrics.auth.signin import account_principal
from metrics.storage.changelog import Action
from metrics.storage.store import Store

__all__ = [
    "COOKIE",
    "SessionEnd",
    "create",
    "idle_timeout",
    "lifetime",
    "list_active",
    "resolve",
    "revoke",
    "revoke_user",
    "token_hash",
]

COOKIE = "kpi_session"
TOUCH_EVERY = dt.timedelta(minutes=1)  # last_seen_at is written at most this often (a page run reads only)
_MAX_TOKEN = 200  # longer cookie values are not ours: refused without hashing
_MAX_USER_AGENT = 200


def lifetime() -> dt.timedelta:
    """How long a session lasts from sign-in, however active: KPI_SESSION_HOURS, default 12 h (a working day)."""
    return dt.timedelta(hours=float(os.environ.get("KPI_SESSION_HOURS", "12")))


def idle_timeout() -> dt.timedelta:
    """How long a session survives without a page run: KPI_SESSION_IDLE_MINUTES, default 60 min."""
    return dt.timedelta(minutes=float(os.environ.get("KPI_SESSION_IDLE_MINUTES", "60")))


class SessionEnd(StrEnum):
    """Why a cookie no longer signs anyone in (the page says so in Chinese: `message_zh`)."""

    MISSING = "missing"  # no cookie, or not a token of ours
    UNKNOWN = "unknown"  # well-formed, but no such session (forged, or from another database)
    EXPIRED = "expired"  # past its absolute lifetime
    IDLE = "idle"  # no page run for longer than the idle timeout
    REVOKED = "revoked"  # signed out (here or in another tab), or ended by an administrator
    DISABLED = "disabled"  # the account was disabled or removed

    @property
    def message_zh(self) -> str:
        return _END_ZH[self]


_END_ZH: dict[SessionEnd, str] = {
    SessionEnd.MISSING: "请先登录。",
    SessionEnd.UNKNOWN: "会话无效，请重新登录。",
    SessionEnd.EXPIRED: "会话已过期，请重新登录。",
    SessionEnd.IDLE: "长时间未操作，会话已过期，请重新登录。",
    SessionEnd.REVOKED: "已退出登录，请重新登录。",
    SessionEnd.DISABLED: "账号已停用，请联系系统管理员。",
}


def token_hash(token: str) -> str:
    """The hex SHA-256 of a token: what the table stores and looks up (a token has 256 random bits, so no
    salt or slow hash is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(
    store: Store, principal: Principal, *, client: str | None, user_agent: str | None, clock: Clock = _now
) -> str:
    """A new session for a principal who has just signed in; returns the token for the cookie (a fresh one
    at every sign-in: a token known before sign-in is never reused). Only its hash is stored."""
    now = clock()
    token = secrets.token_urlsafe(32)
    with store.transaction() as cur:
        cur.execute(
            "INSERT INTO web_sessions (token_hash, user_name, created_at, last_seen_at, expires_at, client, "
            "user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                token_hash(token),
                principal.user,
                now,
                now,
                now + lifetime(),
                (client or "")[:200] or None,
                (user_agent or "")[:_MAX_USER_AGENT] or None,
            ],
        )
    return token


@dataclass(frozen=True)
class _Row:
    user_name: str
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None


def _lookup(store: Store, token: object) -> tuple[str, _Row] | None:
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN:
        return None
    digest = token_hash(token)
    found = (
        store.cursor()
        .execute(
            "SELECT user_name, last_seen_at, expires_at, revoked_at FROM web_sessions WHERE token_hash = ?", [digest]
        )
        .fetchone()
    )
    return (digest, _Row(*found)) if found else None


def resolve(store: Store, token: object, *, clock: Clock = _now) -> Principal | SessionEnd:
    """The principal of a session token as the users table has it now (role, unit and district re-read on
    every call), or why the session no longer counts. Writes last_seen_at at most once a minute."""
    if not isinstance(token, str) or not token:
        return SessionEnd.MISSING
    found = _lookup(store, token)
    if found is None:
        return SessionEnd.UNKNOWN
    digest, row = found
    now = clock()
    if row.revoked_at is not None:
        return SessionEnd.REVOKED
    if now >= row.expires_at:
        return SessionEnd.EXPIRED
    if now - row.last_seen_at > idle_timeout():
        return SessionEnd.IDLE
    principal = account_principal(store, row.user_name)  # signin.refresh_principal's rule
    if principal is None:
        return SessionEnd.DISABLED
    if now - row.last_seen_at >= min(TOUCH_EVERY, idle_timeout() / 4):  # a short idle timeout (tests) needs more
        with store.transaction() as cur:
            cur.execute(
                "UPDATE web_sessions SET last_seen_at = ? WHERE token_hash = ? AND revoked_at IS NULL", [now, digest]
            )
    return principal


def revoke(store: Store, token: object, by: str, reason: str, *, clock: Clock = _now) -> bool:
    """End one session (sign-out); True if it was open. Writes an access_log row 'logout'."""
    found = _lookup(store, token)
    if found is None:
        return False
    digest, row = found
    now = clock()
    with store.transaction() as cur:
        got = cur.execute(
            "UPDATE web_sessions SET revoked_at = ?, revoked_by = ?, revoke_reason = ? "
            "WHERE token_hash = ? AND revoked_at IS NULL RETURNING 1",
            [now, by[:200], reason[:200], digest],
        ).fetchall()
        if got:
            record_access(cur, now, row.user_name, "logout", True, None, reason[:200])
    return bool(got)


def revoke_user(store: Store, actor: Principal, user_name: str, reason: str, *, clock: Clock = _now) -> int:
    """End every open session of an account (the admin page; permission users.manage); returns how many.
    One change_log row (revoke_sessions, entity 'users') in the same transaction."""
    guarded(store, actor, "users.manage")
    name = _normalise_user_name(user_name)
    now = clock()
    with store.transaction() as cur:
        ended = _end_sessions(cur, name, actor.user, reason or "管理员注销会话", now)
        _record_change(
            cur,
            actor.user,
            name,
            Action.REVOKE_SESSIONS,
            {"open_sessions": ended},
            {"open_sessions": 0, "reason": reason},
        )
    return ended


def list_active(store: Store, actor: Principal, *, clock: Clock = _now) -> list[dict[str, Any]]:
    """Open sessions, newest activity first (the admin page; permission users.manage): user_name, created_at,
    last_seen_at, expires_at, client, user_agent — never the token or its hash. A session past its idle
    timeout is not listed (it cannot be used any more)."""
    guarded(store, actor, "users.manage")
    now = clock()
    rows = store.execute(
        "SELECT user_name, created_at, last_seen_at, expires_at, client, user_agent FROM web_sessions "
        "WHERE revoked_at IS NULL AND expires_at > ? AND last_seen_at >= ? ORDER BY last_seen_at DESC, user_name",
        [now, now - idle_timeout()],
    )
    keys = ("user_name", "created_at", "last_seen_at", "expires_at", "client", "user_agent")
    return [dict(zip(keys, r, strict=True)) for r in rows]
