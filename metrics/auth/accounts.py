"""Accounts: the users table and its management — add, disable, enable, reset a password, bind a district,
list — with the role, unit and district rules and the password policy.

Local accounts keep an argon2id hash (never the password; `passwords`); OIDC identities map onto the same
rows (`signin`). Every write to `users` is one transaction with a change_log row (entity 'users', no hash
in it). Managing accounts takes the users.manage permission; a refusal goes to the access log.
"""

from __future__ import annotations

import datetime as dt
import getpass
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, cast

import duckdb

from metrics.auth import passwords
from metrics.auth.access import ROLES, Principal, Role
from metrics.auth.access_log import Clock, _now, guarded
from metrics.auth.passwords import MAX_PASSWORD_LENGTH
from metrics.contract.errors import KpiError
from metrics.contract.records import DISTRICTS
from metrics.storage import changelog
from metrics.storage.changelog import Action
from metrics.storage.store import Store

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "ROLE_NAMES_ZH",
    "UserError",
    "UserRecord",
    "add_user",
    "check_password_policy",
    "disable_user",
    "enable_user",
    "list_users",
    "reset_password",
    "set_district",
]

MIN_PASSWORD_LENGTH = 10

ROLE_NAMES_ZH: dict[str, str] = {
    "leader": "领导",
    "office": "就业办",
    "department": "部门",
    "press": "宣传",
    "admin": "系统管理员",
}

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


# --------------------------------------------------------------------------- helpers


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
    pw_hash = passwords.hash_password(check_password_policy(password, name)) if password is not None else None
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
    pw_hash = passwords.hash_password(check_password_policy(new_password, name))
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
