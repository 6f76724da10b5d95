"""Signing in: passwords with lockout, OIDC identities mapped onto accounts, and the principal refreshed on
each page run.

Every attempt writes an access_log row; a wrong password counts towards the lockout, and a lock, a bound
OIDC subject or a cleared count is a change_log row (entity 'users').
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import duckdb

from metrics.auth import passwords
from metrics.auth.access import Principal
from metrics.auth.access_log import Clock, _now, log_access, record_access
from metrics.auth.accounts import _fetch, _lenient_user_name, _record_change
from metrics.auth.passwords import MAX_PASSWORD_LENGTH
from metrics.storage.changelog import Action
from metrics.storage.store import Store

__all__ = ["LOCKOUT", "MAX_FAILED_LOGINS", "authenticate", "principal_for_oidc", "refresh_principal"]

MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)


def authenticate(store: Store, user_name: str, password: str, *, clock: Clock = _now) -> Principal | None:
    """The principal for a correct password of an active, unlocked account; None otherwise.

    Every attempt costs one argon2 verification (unknown users too) and writes an access_log row. After
    MAX_FAILED_LOGINS wrong passwords in a row the account is locked for LOCKOUT; a hash made with older
    argon2 parameters is replaced on the next successful login.
    """
    now = clock()
    name = _lenient_user_name(user_name)
    if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD_LENGTH:
        log_access(store, name or str(user_name)[:100], "login", False, detail="密码为空或过长", clock=lambda: now)
        return None
    row = _fetch(store.cursor(), name) if name else None
    refusal = None
    if row is None:
        refusal = "账号不存在"
    elif not row.record.active:
        refusal = "账号已停用"
    elif row.record.is_locked(now):
        refusal = f"账号已锁定至 {row.record.locked_until:%Y-%m-%d %H:%M}"
    elif row.password_hash is None:
        refusal = "该账号只能通过统一身份认证（OIDC）登录"
    if refusal is not None or row is None:
        passwords.verify(None, password)  # same cost as a real check
        log_access(store, name or str(user_name)[:100], "login", False, detail=refusal or "", clock=lambda: now)
        return None

    record = row.record
    if not passwords.verify(row.password_hash, password):
        with store.transaction() as cur:
            got = cur.execute(
                "UPDATE users SET failed_logins = failed_logins + 1 WHERE user_name = ? RETURNING failed_logins",
                [record.user_name],
            ).fetchone()
            failed = int(got[0]) if got else MAX_FAILED_LOGINS
            if failed >= MAX_FAILED_LOGINS:
                until = now + LOCKOUT
                cur.execute(
                    "UPDATE users SET failed_logins = 0, locked_until = ? WHERE user_name = ?",
                    [until, record.user_name],
                )
                _record_change(
                    cur,
                    record.user_name,
                    record.user_name,
                    Action.LOCK,
                    {"failed_logins": failed - 1, "locked_until": record.locked_until},
                    {"failed_logins": 0, "locked_until": until},
                )
                detail = f"密码错误，连续 {failed} 次，锁定至 {until:%Y-%m-%d %H:%M}"
            else:
                _record_change(
                    cur,
                    record.user_name,
                    record.user_name,
                    Action.LOGIN_FAILED,
                    {"failed_logins": failed - 1},
                    {"failed_logins": failed},
                )
                detail = f"密码错误（第 {failed} 次）"
            record_access(cur, now, record.user_name, "login", False, record.unit, detail)
        return None

    new_hash = passwords.hash_password(password) if passwords.needs_rehash(cast(str, row.password_hash)) else None
    with store.transaction() as cur:
        if record.failed_logins or record.locked_until is not None or new_hash is not None:
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
        record_access(cur, now, record.principal, "login", True, record.unit, "登录成功")
    return record.principal


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


def refresh_principal(store: Store, principal: Principal) -> Principal | None:
    """The principal as the users table has it now (role, unit or district may have changed); None if disabled
    or gone.

    Sessions call this on each page run so a disabled account loses access at once.
    """
    row = _fetch(store.cursor(), principal.user)
    if row is None or not row.record.active:
        return None
    return row.record.principal
