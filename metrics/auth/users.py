"""Accounts: who may sign in, with which role, unit and district, and the log of logins and refused requests.

Local accounts keep an argon2id hash (never the password); OIDC identities map onto the same rows. Every
write to `users` is one transaction with a change_log row (entity 'users', no hash in it). Logins and
refusals go to the append-only access_log in a transaction of their own, so a forged call leaves a trace
even when the caller's own write rolls back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import getpass
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from metrics.auth.access import ROLES, AccessDenied, Principal, Role, check
from metrics.contract.errors import KpiError
from metrics.contract.records import DISTRICTS
from metrics.storage import changelog, clock
from metrics.storage.changelog import Action
from metrics.storage.store import Store

__all__ = [
    "DEMO_ACCOUNTS",
    "HASHER",
    "LOCKOUT",
    "LOGIN_FAILED_MESSAGE",
    "MAX_FAILED_LOGINS",
    "MIN_PASSWORD_LENGTH",
    "ROLE_NAMES_ZH",
    "Clock",
    "DemoAccount",
    "UserError",
    "UserRecord",
    "add_user",
    "authenticate",
    "check_password_policy",
    "create_demo_accounts",
    "disable_user",
    "enable_user",
    "guarded",
    "list_users",
    "log_access",
    "principal_for_oidc",
    "refresh_principal",
    "reset_password",
    "set_district",
]

Clock = Callable[[], dt.datetime]

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # longer input is refused before hashing (no free CPU for attackers)
MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
# argon2id with the library's RFC 9106 defaults; when they change, the next successful login rehashes.
HASHER = PasswordHasher()

ROLE_NAMES_ZH: dict[str, str] = {
    "leader": "领导",
    "office": "就业办",
    "department": "部门",
    "press": "宣传",
    "admin": "系统管理员",
}
# One message for every failed login, so the page does not tell which accounts exist or are locked.
LOGIN_FAILED_MESSAGE = "用户名或密码错误，或账号已停用、已锁定。连续输错 5 次将锁定 15 分钟。"

_USER_NAME = re.compile(r"[a-z0-9][a-z0-9._@+\-]{1,99}")
_MAX_DISPLAY_NAME = 50
_MAX_UNIT = 50


class UserError(KpiError, ValueError):
    """A user-management request that cannot be carried out; the message is Chinese for the UI and CLI."""


@dataclass(frozen=True)
class UserRecord:
    """One account as shown to administrators — everything but the password hash."""

    user_name: str
    display_name: str
    role: Role
    unit: str | None
    district: str | None
    active: bool
    has_password: bool
    oidc_subject: str | None
    created_at: dt.datetime
    password_changed_at: dt.datetime | None
    failed_logins: int
    locked_until: dt.datetime | None

    def is_locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    @property
    def principal(self) -> Principal:
        return Principal(self.user_name, self.role, self.unit, self.district)


@dataclass(frozen=True)
class DemoAccount:
    """A documented demo login (demo database only)."""

    user_name: str
    role: Role
    unit: str | None
    display_name: str
    password: str
    district: str | None = None


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("leader", "leader", None, "演示·区领导", "demo-leader-2026"),
    DemoAccount("office", "office", None, "演示·区就业办", "demo-office-2026"),
    # Each department in the district whose programme gives its unit the most tasks: 区人力社保局 leads 26
    # tasks of the Xicheng measures; 区商务局 has tasks only in the Tongzhou programme.
    DemoAccount("hrss", "department", "区人力社保局", "演示·西城区人力社保局", "demo-hrss-2026", "西城区"),
    DemoAccount("commerce", "department", "区商务局", "演示·通州区商务局", "demo-commerce-2026", "通州区"),
    DemoAccount("press", "press", None, "演示·宣传", "demo-press-2026"),
    DemoAccount("admin", "admin", None, "演示·系统管理员", "demo-admin-2026"),
)


# --------------------------------------------------------------------------- helpers


def _now() -> dt.datetime:
    """Beijing time, naive, like DuckDB's TIMESTAMP columns (docs/time.md)."""
    return clock.now()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in containers without USER or a passwd entry
        return "unknown"


def _actor_name(actor: Principal | None) -> str:
    return actor.user if actor is not None else f"cli:{_os_user()}"


def _normalise_user_name(user_name: str) -> str:
    name = user_name.strip().lower() if isinstance(user_name, str) else ""
    if not _USER_NAME.fullmatch(name):
        raise UserError(f"用户名无效：{user_name!r}。只能使用字母、数字和 . _ @ + -，长度 2–100，以字母或数字开头。")
    return name


def _lenient_user_name(user_name: object) -> str | None:
    """The normalised name for a login attempt, or None if it cannot be a user name."""
    try:
        return _normalise_user_name(cast(str, user_name))
    except UserError:
        return None


def _clean_text(value: str, field: str, max_len: int) -> str:
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise UserError(f"{field}不能为空。")
    if len(text) > max_len:
        raise UserError(f"{field}不能超过 {max_len} 个字符。")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise UserError(f"{field}不能包含控制字符。")
    return text


def _district(value: object) -> str:
    """One of Beijing's districts, exactly as the upload contract spells it (通州区, not 通州)."""
    text = unicodedata.normalize("NFC", value).strip() if isinstance(value, str) else ""
    if text in DISTRICTS:
        return text
    if text + "区" in DISTRICTS:
        return text + "区"
    raise UserError(f"所属区无效：{value!r}。应为北京市的区，例如 {'、'.join(DISTRICTS[:4])}……")


def check_password_policy(password: object, user_name: str | None = None) -> str:
    """Return the password if it meets the policy, else raise UserError with the reason in Chinese."""
    if not isinstance(password, str):
        raise UserError("密码必须是文本。")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符。")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"密码不能超过 {MAX_PASSWORD_LENGTH} 个字符。")
    if not password.strip():
        raise UserError("密码不能全是空白字符。")
    if user_name is not None and password.strip().lower() == user_name.strip().lower():
        raise UserError("密码不能与用户名相同。")
    return password


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash to verify against when there is no usable one, so every refusal costs the same time."""
    return hasher.hash("not-a-password-of-anyone")


def _verify(password_hash: str | None, password: str) -> bool:
    """Constant-time argon2 verification (libargon2 compares in constant time)."""
    try:
        return HASHER.verify(password_hash or _dummy_hash(HASHER), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def _record_change(
    cur: duckdb.DuckDBPyConnection,
    by: str,
    user_name: str,
    action: Action,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
) -> None:
    """One change_log row for the users row `user_name`; callers never put a password hash in old/new."""
    changelog.record(cur, by, "users", user_name, action, old, new)


def _record_access(
    cur: duckdb.DuckDBPyConnection,
    at: dt.datetime,
    who: Principal | str,
    action: str,
    allowed: bool,
    unit: str | None,
    detail: str,
) -> None:
    if isinstance(who, Principal):
        name, role = who.user, who.role
    else:
        name, role = str(who), None
    cur.execute(
        "INSERT INTO access_log (logged_at, user_name, role, action, unit, allowed, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [at, name[:200] or "?", role, action[:100], unit[:200] if unit else None, allowed, detail[:2000]],
    )


_COLUMNS = (
    "user_name, display_name, role, unit, district, active, password_hash, oidc_subject, created_at, "
    "password_changed_at, failed_logins, locked_until"
)


@dataclass(frozen=True)
class _Row:
    record: UserRecord
    password_hash: str | None


def _row(values: tuple[Any, ...]) -> _Row:
    (name, display, role, unit, district, active, pw_hash, subject, created, changed, failed, locked) = values
    record = UserRecord(
        user_name=name,
        display_name=display,
        role=cast(Role, role),
        unit=unit,
        district=district,
        active=bool(active),
        has_password=pw_hash is not None,
        oidc_subject=subject,
        created_at=created,
        password_changed_at=changed,
        failed_logins=int(failed),
        locked_until=locked,
    )
    return _Row(record, pw_hash)


def _fetch(cur: duckdb.DuckDBPyConnection, user_name: str) -> _Row | None:
    found = cur.execute(f"SELECT {_COLUMNS} FROM users WHERE user_name = ?", [user_name]).fetchone()  # noqa: S608 - fixed column list
    return _row(found) if found else None


def _fetch_or_fail(cur: duckdb.DuckDBPyConnection, user_name: str) -> _Row:
    row = _fetch(cur, user_name)
    if row is None:
        raise UserError(f"用户 {user_name} 不存在。")
    return row


def _manage(store: Store, actor: Principal | None) -> None:
    """Permission to manage accounts: admins only; None is the local CLI / bootstrap (OS-level access)."""
    if actor is not None:
        guarded(store, actor, "users.manage")


# --------------------------------------------------------------------------- access log


def log_access(
    store: Store,
    principal: Principal | str,
    action: str,
    allowed: bool,
    unit: str | None = None,
    detail: str = "",
    *,
    clock: Clock = _now,
) -> None:
    """Append one access_log row (its own transaction): a login, a logout or a refused request."""
    with store.transaction() as cur:
        _record_access(cur, clock(), principal, action, allowed, unit, detail)


P = ParamSpec("P")
R = TypeVar("R")


def logged_refusals(fn: Callable[Concatenate[Store, Principal, P], R]) -> Callable[Concatenate[Store, Principal, P], R]:
    """Decorate a service function `(store, principal, …)`: a refused call is written to access_log, then raised.

    So a forged request (a department calling another unit's ledger write, say) is refused and recorded at
    the service layer, whatever page or script it came from.
    """

    @functools.wraps(fn)
    def wrapper(store: Store, principal: Principal, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(store, principal, *args, **kwargs)
        except AccessDenied as exc:
            # a read-only store cannot log; the refusal itself stands either way
            with contextlib.suppress(Exception):
                log_access(store, principal, exc.action, False, unit=exc.unit, detail=fn.__name__)
            raise

    return wrapper


def guarded(
    store: Store,
    principal: Principal,
    action: str,
    unit: str | None = None,
    units: frozenset[str] | None = None,
    district: str | None = None,
) -> None:
    """`metrics.auth.access.check`, and on refusal an access_log row (allowed = false) before re-raising."""
    try:
        check(principal, action, unit=unit, units=units, district=district)
    except AccessDenied as exc:
        log_access(store, principal, action, False, unit=exc.unit, detail=str(exc))
        raise


# --------------------------------------------------------------------------- management


def _insert_user(
    store: Store,
    by: str,
    user_name: str,
    role: str,
    unit: str | None,
    password: str | None,
    display_name: str | None,
    oidc_subject: str | None,
    now: dt.datetime,
    district: str | None = None,
) -> UserRecord:
    name = _normalise_user_name(user_name)
    if role not in ROLES:
        raise UserError(f"未知角色：{role!r}。可选：{'、'.join(f'{r}（{ROLE_NAMES_ZH[r]}）' for r in ROLES)}。")
    unit_clean = _clean_text(unit, "单位", _MAX_UNIT) if isinstance(unit, str) and unit.strip() else None
    if role == "department" and unit_clean is None:
        raise UserError("部门账号必须绑定一个单位（例如 区人力社保局）。")
    if role != "department" and unit_clean is not None:
        raise UserError(f"只有部门账号绑定单位；{ROLE_NAMES_ZH[role]}账号不能指定单位。")
    district_clean = _district(district) if isinstance(district, str) and district.strip() else None
    if role == "department" and district_clean is None:
        raise UserError("部门账号必须绑定所属区（例如 通州区）：各区都有同名单位，只凭单位无法区分。")
    if role != "department" and district_clean is not None:
        raise UserError(f"只有部门账号绑定所属区；{ROLE_NAMES_ZH[role]}账号不能指定所属区。")
    display = _clean_text(display_name, "显示名称", _MAX_DISPLAY_NAME) if display_name else name
    subject = oidc_subject.strip() if oidc_subject and oidc_subject.strip() else None
    pw_hash = HASHER.hash(check_password_policy(password, name)) if password is not None else None
    try:
        with store.transaction() as cur:
            if _fetch(cur, name) is not None:
                raise UserError(f"用户 {name} 已存在。")
            if subject and cur.execute("SELECT 1 FROM users WHERE oidc_subject = ?", [subject]).fetchone():
                raise UserError("该 OIDC 身份已绑定到其他用户。")
            cur.execute(
                "INSERT INTO users (user_name, display_name, role, unit, district, password_hash, oidc_subject, "
                "active, created_at, password_changed_at, failed_logins, locked_until) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, true, ?, ?, 0, NULL)",
                [name, display, role, unit_clean, district_clean, pw_hash, subject, now, now if pw_hash else None],
            )
            new = {
                "user_name": name,
                "display_name": display,
                "role": role,
                "unit": unit_clean,
                "district": district_clean,
                "active": True,
                "has_password": pw_hash is not None,
                "oidc_subject": subject,
            }
            _record_change(cur, by, name, Action.ADD, None, new)
            row = _fetch_or_fail(cur, name)
    except duckdb.ConstraintException as exc:  # a concurrent add of the same name or subject
        raise UserError(f"用户 {name} 已存在或 OIDC 身份已被占用。") from exc
    return row.record


def add_user(
    store: Store,
    actor: Principal | None,
    user_name: str,
    role: str,
    unit: str | None = None,
    password: str | None = None,
    display_name: str | None = None,
    *,
    district: str | None = None,
    oidc_subject: str | None = None,
    clock: Clock = _now,
) -> UserRecord:
    """Create an account. password None makes an OIDC-only account; actor None only for the CLI/bootstrap.

    Department accounts need a unit and a district (one of Beijing's 16, as in the upload contract)."""
    _manage(store, actor)
    return _insert_user(
        store, _actor_name(actor), user_name, role, unit, password, display_name, oidc_subject, clock(), district
    )


def _set_active(store: Store, actor: Principal | None, user_name: str, active: bool) -> UserRecord:
    _manage(store, actor)
    name = _normalise_user_name(user_name)
    with store.transaction() as cur:
        row = _fetch_or_fail(cur, name)
        if row.record.active == active:
            return row.record
        if not active and row.record.role == "admin":
            others = cur.execute(
                "SELECT count(*) FROM users WHERE role = 'admin' AND active AND user_name <> ?", [name]
            ).fetchone()
            if not others or others[0] == 0:
                raise UserError("不能停用最后一个启用的系统管理员账号。")
        cur.execute("UPDATE users SET active = ? WHERE user_name = ?", [active, name])
        _record_change(
            cur,
            _actor_name(actor),
            name,
            Action.ENABLE if active else Action.DISABLE,
            {"active": not active},
            {"active": active},
        )
        return _fetch_or_fail(cur, name).record


def set_district(store: Store, actor: Principal | None, user_name: str, district: str) -> UserRecord:
    """Bind a department account to a district (accounts made before districts existed have none)."""
    _manage(store, actor)
    name = _normalise_user_name(user_name)
    wanted = _district(district)
    with store.transaction() as cur:
        row = _fetch_or_fail(cur, name)
        if row.record.role != "department":
            raise UserError(f"只有部门账号绑定所属区；{name} 是{ROLE_NAMES_ZH[row.record.role]}账号。")
        if row.record.district == wanted:
            return row.record
        cur.execute("UPDATE users SET district = ? WHERE user_name = ?", [wanted, name])
        _record_change(
            cur, _actor_name(actor), name, Action.SET_DISTRICT, {"district": row.record.district}, {"district": wanted}
        )
        return _fetch_or_fail(cur, name).record


def disable_user(store: Store, actor: Principal | None, user_name: str) -> UserRecord:
    """Stop an account from signing in (rows are never deleted). The last active admin cannot be disabled."""
    return _set_active(store, actor, user_name, False)


def enable_user(store: Store, actor: Principal | None, user_name: str) -> UserRecord:
    """Let a disabled account sign in again."""
    return _set_active(store, actor, user_name, True)


def reset_password(
    store: Store, actor: Principal | None, user_name: str, new_password: str, *, clock: Clock = _now
) -> UserRecord:
    """Set a new password; also clears failed logins and any lockout."""
    _manage(store, actor)
    name = _normalise_user_name(user_name)
    pw_hash = HASHER.hash(check_password_policy(new_password, name))
    now = clock()
    with store.transaction() as cur:
        old = _fetch_or_fail(cur, name).record
        cur.execute(
            "UPDATE users SET password_hash = ?, password_changed_at = ?, failed_logins = 0, locked_until = NULL "
            "WHERE user_name = ?",
            [pw_hash, now, name],
        )
        _record_change(
            cur,
            _actor_name(actor),
            name,
            Action.RESET_PASSWORD,
            {
                "has_password": old.has_password,
                "password_changed_at": old.password_changed_at,
                "failed_logins": old.failed_logins,
                "locked_until": old.locked_until,
            },
            {"has_password": True, "password_changed_at": now, "failed_logins": 0, "locked_until": None},
        )
        return _fetch_or_fail(cur, name).record


def list_users(store: Store, actor: Principal | None) -> list[UserRecord]:
    """Every account, by role then name, without password hashes."""
    _manage(store, actor)
    rows = store.execute(
        f"SELECT {_COLUMNS} FROM users ORDER BY "  # noqa: S608 - fixed column list
        "CASE role WHEN 'leader' THEN 1 WHEN 'office' THEN 2 WHEN 'department' THEN 3 WHEN 'press' THEN 4 "
        "ELSE 5 END, unit NULLS FIRST, user_name"
    )
    return [_row(r).record for r in rows]


# --------------------------------------------------------------------------- signing in


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
        _verify(None, password)  # same cost as a real check
        log_access(store, name or str(user_name)[:100], "login", False, detail=refusal or "", clock=lambda: now)
        return None

    record = row.record
    if not _verify(row.password_hash, password):
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
            _record_access(cur, now, record.user_name, "login", False, record.unit, detail)
        return None

    new_hash = HASHER.hash(password) if HASHER.check_needs_rehash(cast(str, row.password_hash)) else None
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
        _record_access(cur, now, record.principal, "login", True, record.unit, "登录成功")
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
            _record_access(cur, now, record.principal, "login_oidc", True, record.unit, "统一身份认证登录成功")
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


# --------------------------------------------------------------------------- demo


def create_demo_accounts(store: Store, *, clock: Clock = _now) -> dict[str, str]:
    """Create the documented demo accounts (demo database only); returns user name → password.

    Accounts that already exist are left as they are, except that a demo department account made before
    districts existed is bound to its documented district.
    """
    now = clock()
    for acc in DEMO_ACCOUNTS:
        found = _fetch(store.cursor(), acc.user_name)
        if found is not None and acc.district and found.record.role == "department" and found.record.district is None:
            set_district(store, None, acc.user_name, acc.district)
        if found is None:
            _insert_user(
                store, "demo", acc.user_name, acc.role, acc.unit, acc.password, acc.display_name, None, now,
                acc.district,
            )  # fmt: skip
    return {acc.user_name: acc.password for acc in DEMO_ACCOUNTS}
