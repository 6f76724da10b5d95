"""Accounts: the users table and its management — add, disable, enable, reset a password, bind a district,
list — with the role, unit and district rules and the password policy (a strength estimate, zxcvbn, and
"not derived from the user name"; stricter for admin and office).

Local accounts keep an argon2id hash (never the password; `passwords`); OIDC identities map onto the same
rows (`signin`). Every write to `users` is one transaction with a change_log row (entity 'users', no hash
in it). Disabling an account or resetting its password ends its browser sessions (`web_sessions`) in that
same transaction. Managing accounts takes the users.manage permission; a refusal goes to the access log.
"""

from __future__ import annotations

import datetime as dt
import getpass
import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, cast

import duckdb
from zxcvbn import zxcvbn

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
    "MIN_PASSWORD_LENGTH_STRICT",
    "MIN_PASSWORD_SCORE",
    "MIN_PASSWORD_SCORE_STRICT",
    "ROLE_NAMES_ZH",
    "STRICT_PASSWORD_ROLES",
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
MIN_PASSWORD_SCORE = 3  # zxcvbn's 0–4: 3 is "safely unguessable" (about 10^8 guesses and more)
# Administrators manage every account and the office publishes and supervises: a stricter rule.
STRICT_PASSWORD_ROLES = frozenset({"admin", "office"})
MIN_PASSWORD_LENGTH_STRICT = 12
MIN_PASSWORD_SCORE_STRICT = 4  # about 10^10 guesses and more

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


# What zxcvbn found in a weak password, said in Chinese (its own feedback is English only).
_WEAKNESS_ZH: dict[str, str] = {
    "repeat": "有重复的字符或片段（如 aaa、abcabc）",
    "sequence": "有连续的字母或数字（如 abc、1234、6543）",
    "spatial": "有键盘上相邻的按键（如 qwerty、asdf）",
    "date": "有日期或年份",
    "passwords": "是常见密码或其变形（如 password、123456）",
    "user_inputs": "含有用户名",
    "words": "是常见单词或姓名",
}


def _letters(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalpha())


def _name_parts(user_name: str) -> list[str]:
    """The parts of a user name (`zhang.san@bj.gov.cn` → zhang, san): what a password must not be made of."""
    local = user_name.strip().casefold().split("@", 1)[0]
    return [p for p in (_letters(x) for x in re.split(r"[^\w]+|_|\d+", local)) if p]


def _derived_from_name(password: str, user_name: str) -> bool:
    """The password's letters (digits and punctuation removed, any case) are the user name's parts in some
    order, forwards or backwards, or one part alone: `zhangsan12`, `San.Zhang!`, `nasgnahz` for zhang.san."""
    core = _letters(password)
    parts = _name_parts(user_name)
    if not core or not parts:
        return False
    whole = {"".join(p) for p in itertools.permutations(parts[:5])} | {p for p in parts if len(p) >= 2}
    return core in whole or core[::-1] in whole


def _weaknesses(found: Any) -> list[str]:
    kinds: list[str] = []
    for match in found.get("sequence", []):
        pattern = match.get("pattern")
        if pattern == "dictionary":
            name = match.get("dictionary_name")
            kind = name if name in ("passwords", "user_inputs") else "words"
        elif pattern == "regex" and match.get("regex_name") == "recent_year":
            kind = "date"
        else:
            kind = str(pattern)
        if kind in _WEAKNESS_ZH and kind not in kinds:
            kinds.append(kind)
    return [_WEAKNESS_ZH[k] for k in kinds]


def check_password_policy(password: object, user_name: str | None = None, role: str | None = None) -> str:
    """Return the password if it meets the policy for an account of `role`, else raise UserError naming in
    Chinese what is wrong: too short, derived from the user name, or too easy to guess (zxcvbn's score, with
    the user name's parts as its user inputs). Admin and office accounts need a longer, stronger password."""
    if not isinstance(password, str):
        raise UserError("密码必须是文本。")
    strict = role in STRICT_PASSWORD_ROLES
    who = f"{ROLE_NAMES_ZH[role]}账号" if role in ROLE_NAMES_ZH else "账号"
    min_length = MIN_PASSWORD_LENGTH_STRICT if strict else MIN_PASSWORD_LENGTH
    if len(password) < min_length:
        raise UserError(f"密码太短：{who}密码至少需要 {min_length} 个字符（现有 {len(password)} 个）。")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"密码不能超过 {MAX_PASSWORD_LENGTH} 个字符。")
    if not password.strip():
        raise UserError("密码不能全是空白字符。")
    if user_name is not None and (
        password.strip().casefold() == user_name.strip().casefold() or _derived_from_name(password, user_name)
    ):
        raise UserError("密码不能由用户名变化而来（去掉数字和标点、不分大小写后与用户名相同）。")
    inputs = [user_name.strip().casefold(), *_name_parts(user_name)] if user_name else []
    found = zxcvbn(password[:100], user_inputs=inputs)
    wanted = MIN_PASSWORD_SCORE_STRICT if strict else MIN_PASSWORD_SCORE
    if int(found["score"]) < wanted:
        why = "；".join(_weaknesses(found)) or "组合太常见"
        raise UserError(
            f"密码太容易被猜到（强度 {found['score']}/4，{who}至少需要 {wanted}/4）：{why}。"
            "请改用几个不常见的词组合成的更长密码。"
        )
    return password


def _end_sessions(cur: duckdb.DuckDBPyConnection, user_name: str, by: str, reason: str, now: dt.datetime) -> int:
    """End every open browser session of an account in the caller's transaction; returns how many
    (docs/server.md, "Sign-in and sessions"). The change_log row is the caller's."""
    got = cur.execute(
        "UPDATE web_sessions SET revoked_at = ?, revoked_by = ?, revoke_reason = ? "
        "WHERE user_name = ? AND revoked_at IS NULL AND expires_at > ? RETURNING 1",
        [now, by[:200], reason[:200], user_name, now],
    ).fetchall()
    return len(got)


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
    pw_hash = passwords.hash_password(check_password_policy(password, name, role)) if password is not None else None
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


def _set_active(store: Store, actor: Principal | None, user_name: str, active: bool, clock: Clock = _now) -> UserRecord:
    _manage(store, actor)
    name = _normalise_user_name(user_name)
    now = clock()
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
        new: dict[str, Any] = {"active": active}
        if not active:
            new["sessions_revoked"] = _end_sessions(cur, name, _actor_name(actor), "账号已停用", now)
        _record_change(
            cur, _actor_name(actor), name, Action.ENABLE if active else Action.DISABLE, {"active": not active}, new
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


def disable_user(store: Store, actor: Principal | None, user_name: str, *, clock: Clock = _now) -> UserRecord:
    """Stop an account from signing in and end its browser sessions at once (rows are never deleted). The last
    active admin cannot be disabled."""
    return _set_active(store, actor, user_name, False, clock)


def enable_user(store: Store, actor: Principal | None, user_name: str) -> UserRecord:
    """Let a disabled account sign in again."""
    return _set_active(store, actor, user_name, True)


def reset_password(
    store: Store, actor: Principal | None, user_name: str, new_password: str, *, clock: Clock = _now
) -> UserRecord:
    """Set a new password and end the account's browser sessions at once; also clears a legacy lock-out."""
    _manage(store, actor)
    name = _normalise_user_name(user_name)
    role = _fetch_or_fail(store.cursor(), name).record.role
    pw_hash = passwords.hash_password(check_password_policy(new_password, name, role))
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
            {
                "has_password": True,
                "password_changed_at": now,
                "failed_logins": 0,
                "locked_until": None,
                "sessions_revoked": _end_sessions(cur, name, _actor_name(actor), "密码已重置", now),
            },
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
