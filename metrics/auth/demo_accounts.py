"""The documented demo logins (demo database only): one account per role, two department accounts."""

from __future__ import annotations

from dataclasses import dataclass

from metrics.auth.access import Role
from metrics.auth.access_log import Clock, _now
from metrics.auth.accounts import _fetch, _insert_user, set_district
from metrics.storage.store import Store

__all__ = ["DEMO_ACCOUNTS", "DemoAccount", "create_demo_accounts"]


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
