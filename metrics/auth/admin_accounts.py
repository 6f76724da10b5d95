"""What the admin page does to accounts beyond `accounts`: change a role or a unit, and the account list with
each account's last sign-in (from access_log) and how it signs in (docs/admin.md).

The same rules as `accounts`: users.manage (admins only, refusals logged), one transaction per change with
its change_log row, a department account bound to a unit and a district and no other role to either, and
the last active administrator kept.
"""

from __future__ import annotations

import pandas as pd

from metrics.auth.access import ROLES, Principal
from metrics.auth.accounts import (
    ROLE_NAMES_ZH,
    UserError,
    UserRecord,
    _actor_name,
    _clean_text,
    _district,
    _fetch_or_fail,
    _manage,
    _normalise_user_name,
    _record_change,
    list_users,
)
from metrics.storage.changelog import Action
from metrics.storage.store import Store

__all__ = ["ACCOUNT_COLUMNS", "account_table", "set_role", "set_unit"]

_MAX_UNIT = 50
ACCOUNT_COLUMNS = (
    "user_name",
    "display_name",
    "role",
    "unit",
    "district",
    "active",
    "locked_until",
    "has_password",
    "oidc",
    "last_sign_in",
    "created_at",
)


def _placement(role: str, unit: str | None, district: str | None) -> tuple[str | None, str | None]:
    """(unit, district) as the role needs them: both for a department, neither for any other role."""
    unit_clean = _clean_text(unit, "单位", _MAX_UNIT) if isinstance(unit, str) and unit.strip() else None
    district_clean = _district(district) if isinstance(district, str) and district.strip() else None
    if role == "department":
        if unit_clean is None or district_clean is None:
            raise UserError("部门账号必须绑定单位和所属区（例如 区人力社保局、通州区）。")
        return unit_clean, district_clean
    if unit_clean is not None or district_clean is not None:
        raise UserError(f"只有部门账号绑定单位和所属区；{ROLE_NAMES_ZH[role]}账号不能指定。")
    return None, None


def set_role(
    store: Store,
    actor: Principal | None,
    user_name: str,
    role: str,
    *,
    unit: str | None = None,
    district: str | None = None,
) -> UserRecord:
    """Give an account another role; a department role needs its unit and district, other roles drop them.

    The last active administrator keeps the admin role. The session of the account changes at its next page
    run (signin.refresh_principal reads the row each time)."""
    _manage(store, actor)
    name = _normalise_user_name(user_name)
    if role not in ROLES:
        raise UserError(f"未知角色：{role!r}。可选：{'、'.join(f'{r}（{ROLE_NAMES_ZH[r]}）' for r in ROLES)}。")
    unit_clean, district_clean = _placement(role, unit, district)
    with store.transaction() as cur:
        old = _fetch_or_fail(cur, name).record
        if (old.role, old.unit, old.district) == (role, unit_clean, district_clean):
            return old
        if old.role == "admin" and role != "admin" and old.active:
            others = cur.execute(
                "SELECT count(*) FROM users WHERE role = 'admin' AND active AND user_name <> ?", [name]
            ).fetchone()
            if not others or others[0] == 0:
                raise UserError("不能修改最后一个启用的系统管理员账号的角色。")
        cur.execute(
            "UPDATE users SET role = ?, unit = ?, district = ? WHERE user_name = ?",
            [role, unit_clean, district_clean, name],
        )
        _record_change(
            cur,
            _actor_name(actor),
            name,
            Action.SET_ROLE,
            {"role": old.role, "unit": old.unit, "district": old.district},
            {"role": role, "unit": unit_clean, "district": district_clean},
        )
        return _fetch_or_fail(cur, name).record


def set_unit(store: Store, actor: Principal | None, user_name: str, unit: str, district: str) -> UserRecord:
    """Move a department account to another unit (and district): the ledger and uploads it may touch follow."""
    _manage(store, actor)
    name = _normalise_user_name(user_name)
    unit_clean, district_clean = _placement("department", unit, district)
    with store.transaction() as cur:
        old = _fetch_or_fail(cur, name).record
        if old.role != "department":
            raise UserError(f"只有部门账号绑定单位；{name} 是{ROLE_NAMES_ZH[old.role]}账号，请先修改角色。")
        if (old.unit, old.district) == (unit_clean, district_clean):
            return old
        cur.execute("UPDATE users SET unit = ?, district = ? WHERE user_name = ?", [unit_clean, district_clean, name])
        _record_change(
            cur,
            _actor_name(actor),
            name,
            Action.SET_UNIT,
            {"unit": old.unit, "district": old.district},
            {"unit": unit_clean, "district": district_clean},
        )
        return _fetch_or_fail(cur, name).record


def account_table(store: Store, actor: Principal | None) -> pd.DataFrame:
    """Every account (no hashes) with ACCOUNT_COLUMNS: how it signs in (password, OIDC) and its last successful
    sign-in by either, read from access_log."""
    records = list_users(store, actor)  # checks users.manage
    last = dict(
        store.execute(
            "SELECT user_name, max(logged_at) FROM access_log "
            "WHERE allowed AND action IN ('login', 'login_oidc') GROUP BY user_name"
        )
    )
    rows = [
        {
            "user_name": r.user_name,
            "display_name": r.display_name,
            "role": r.role,
            "unit": r.unit,
            "district": r.district,
            "active": r.active,
            "locked_until": r.locked_until,
            "has_password": r.has_password,
            "oidc": r.oidc_subject is not None,
            "last_sign_in": last.get(r.user_name),
            "created_at": r.created_at,
        }
        for r in records
    ]
    frame = pd.DataFrame(rows, columns=list(ACCOUNT_COLUMNS))
    for col in ("locked_until", "last_sign_in", "created_at"):
        frame[col] = pd.to_datetime(frame[col])
    return frame
