"""Signing in: passwords throttled by account and client, OIDC identities mapped onto accounts, and the
principal refreshed on each page run.

Every attempt writes an access_log row. Wrong passwords slow down the client that sent them (`throttle`,
docs/server.md "Throttling"); no account is ever locked, so no one can keep an owner out. A rehashed
password, a cleared legacy lock-out or a bound OIDC subject is a change_log row (entity 'users').
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

import duckdb

from metrics.auth import passwords, throttle
from metrics.auth.access import Principal
from metrics.auth.access_log import Clock, _now, guarded, log_access, record_access
from metrics.auth.accounts import _fetch, _lenient_user_name, _record_change
from metrics.auth.passwords import MAX_PASSWORD_LENGTH
from metrics.storage.changelog import Action
from metrics.storage.store import Store

__all__ = [
    "ATTACK_MIN_FAILURES",
    "LOCAL_CLIENT",
    "SignIn",
    "account_principal",
    "accounts_under_attack",
    "authenticate",
    "principal_for_oidc",
    "refresh_principal",
    "sign_in",
]

LOCAL_CLIENT = "local"  # the client of a check made on this machine (the CLI, tests)
ATTACK_MIN_FAILURES = 5  # failures since `since` that put an account on the admin page's list


@dataclass(frozen=True)
class SignIn:
    """The outcome of one sign-in attempt: the principal, or None; wait_seconds > 0 when the client was
    throttled (the password was not checked)."""

    principal: Principal | None
    wait_seconds: int = 0


def sign_in(store: Store, user_name: str, password: str, *, client: str = LOCAL_CLIENT, clock: Clock = _now) -> SignIn:
    """Check a password from `client` (an IP address), throttled by account and client.

    Every checked attempt costs one argon2 verification (unknown users too) and writes an access_log row and
    a login_attempts row; a throttled one is refused before the check, with how long to wait. A hash made
    with older argon2 parameters is replaced on the next successful sign-in.
    """
    now = clock()
    name = _lenient_user_name(user_name)
    who = name or str(user_name).strip().lower()[:100] or "?"
    client = (client or LOCAL_CLIENT)[:200]
    if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD_LENGTH:
        log_access(store, who, "login", False, detail=f"密码为空或过长（{client}）", clock=lambda: now)
        return SignIn(None)
    with store.transaction() as cur:
        verdict, attempt = throttle.begin_attempt(cur, who, client, now)
        if attempt is None:
            record_access(
                cur, now, who, "login", False, None,
                f"尝试过于频繁（{client}，失败 {verdict.failures} 次），需等待 {verdict.wait_seconds} 秒",
            )  # fmt: skip
    if attempt is None:
        return SignIn(None, verdict.wait_seconds)

    row = _fetch(store.cursor(), name) if name else None
    refusal = None
    if row is None:
        refusal = "账号不存在"
    elif not row.record.active:
        refusal = "账号已停用"
    elif row.password_hash is None:
        refusal = "该账号只能通过统一身份认证（OIDC）登录"
    if refusal is not None or row is None:
        passwords.verify(None, password)  # same cost as a real check
        log_access(store, who, "login", False, detail=f"{refusal or ''}（{client}）", clock=lambda: now)
        return SignIn(None)

    record = row.record
    if not passwords.verify(row.password_hash, password):
        detail = f"密码错误（{client}）" + ("；该账号正被多个来源尝试" if verdict.under_attack else "")
        log_access(store, record.user_name, "login", False, record.unit, detail, clock=lambda: now)
        return SignIn(None)

    new_hash = passwords.hash_password(password) if passwords.needs_rehash(cast(str, row.password_hash)) else None
    with store.transaction() as cur:
        throttle.finish_attempt(cur, attempt)
        if record.failed_logins or record.locked_until is not None or new_hash is not None:
            # failed_logins and locked_until are the lock-out's (before schema 8): cleared, never set again
            cur.execute(
                "UPDATE users SET failed_logins = 0, locked_until = NULL, "
                "password_hash = coalesce(?, password_hash) WHERE user_name = ?",
                [new_hash, record.user_name],
            )
            old: dict[str, Any] = {"failed_logins": record.failed_logins, "locked_until": record.locked_until}
            new: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
            if new_hash is not None:
                new["password_rehashed"] = True
            _record_change(cur, record.user_name, record.user_name, Action.LOGIN, old, new)
        record_access(cur, now, record.principal, "login", True, record.unit, f"登录成功（{client}）")
    return SignIn(record.principal)


def authenticate(
    store: Store, user_name: str, password: str, *, client: str = LOCAL_CLIENT, clock: Clock = _now
) -> Principal | None:
    """The principal for a correct password of an active account from a client that is not throttled;
    None otherwise (`sign_in` says why not)."""
    return sign_in(store, user_name, password, client=client, clock=clock).principal


def accounts_under_attack(
    store: Store, actor: Principal, since: dt.datetime, *, min_failures: int = ATTACK_MIN_FAILURES
) -> list[dict[str, Any]]:
    """Accounts with at least `min_failures` wrong passwords since `since`, most failures first (the admin
    page; permission users.manage): user_name, failures, clients (distinct), last_failure, account_exists."""
    guarded(store, actor, "users.manage")
    rows = store.execute(
        "SELECT a.user_name, count(*) AS failures, count(DISTINCT a.client) AS clients, "
        "max(a.attempted_at) AS last_failure, bool_or(u.user_name IS NOT NULL) AS account_exists "
        "FROM login_attempts a LEFT JOIN users u ON u.user_name = a.user_name "
        "WHERE NOT a.ok AND a.attempted_at >= ? GROUP BY a.user_name HAVING count(*) >= ? "
        "ORDER BY failures DESC, last_failure DESC, a.user_name",
        [since, min_failures],
    )
    keys = ("user_name", "failures", "clients", "last_failure", "account_exists")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def principal_for_oidc(store: Store, subject: str, email: str | None, *, clock: Clock = _now) -> Principal | None:
    """The principal for an OIDC identity: by oidc_subject, else by user_name = email (binding the subject).

    None if the identity is unknown, the account is disabled, or the email's account is already bound to a
    different subject. Every attempt writes an access_log row.
    """
    now = clock()
    subject = subject.strip() if isinstance(subject, str) else ""
    who = (email or subject or "?")[:100]
    if not subject:
        log_access(store, who, "login_oidc", False, detail="OIDC 身份缺少 subject", clock=lambda: now)
        return None
    cur = store.cursor()
    found = cur.execute("SELECT user_name FROM users WHERE oidc_subject = ?", [subject]).fetchone()
    bind = False
    if found:
        row = _fetch(cur, found[0])
    else:
        name = _lenient_user_name(email) if email else None
        row = _fetch(cur, name) if name else None
        if row is not None and row.record.oidc_subject is not None:
            log_access(
                store, row.record.user_name, "login_oidc", False, detail="该账号已绑定其他 OIDC 身份", clock=lambda: now
            )
            return None
        bind = row is not None
    if row is None:
        log_access(store, who, "login_oidc", False, detail="未登记的 OIDC 身份", clock=lambda: now)
        return None
    record = row.record
    if not record.active:
        log_access(store, record.user_name, "login_oidc", False, detail="账号已停用", clock=lambda: now)
        return None
    try:
        with store.transaction() as cur:
            if bind:
                cur.execute(
                    "UPDATE users SET oidc_subject = ? WHERE user_name = ? AND oidc_subject IS NULL",
                    [subject, record.user_name],
                )
                _record_change(
                    cur,
                    record.user_name,
                    record.user_name,
                    Action.BIND_OIDC,
                    {"oidc_subject": None},
                    {"oidc_subject": subject},
                )
            record_access(cur, now, record.principal, "login_oidc", True, record.unit, "统一身份认证登录成功")
    except duckdb.ConstraintException:  # the same subject bound concurrently elsewhere
        log_access(store, record.user_name, "login_oidc", False, detail="OIDC 身份已被其他账号占用", clock=lambda: now)
        return None
    return record.principal


def account_principal(store: Store, user_name: str) -> Principal | None:
    """The principal of an account as the users table has it now; None if disabled or gone."""
    row = _fetch(store.cursor(), user_name)
    if row is None or not row.record.active:
        return None
    return row.record.principal


def refresh_principal(store: Store, principal: Principal) -> Principal | None:
    """The principal as the users table has it now (role, unit or district may have changed); None if disabled
    or gone.

    Sessions call this on each page run (`web_sessions.resolve`) so a disabled account loses access at once.
    """
    return account_principal(store, principal.user)
