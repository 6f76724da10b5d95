"""Accounts: argon2id hashes, refusals (no lock-out: throttling is in tests/test_signin_throttle.py), role/unit/
district rules, the password policy, logged refusals, the CLI, demo logins."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from argon2 import PasswordHasher, Type
from click.testing import CliRunner

import metrics.auth.accounts as accounts_mod
import metrics.auth.passwords as passwords_mod
from metrics.auth.access import AccessDenied, Principal
from metrics.auth.users import (
    DEMO_ACCOUNTS,
    UserError,
    add_user,
    authenticate,
    create_demo_accounts,
    disable_user,
    enable_user,
    guarded,
    list_users,
    principal_for_oidc,
    refresh_principal,
    reset_password,
    set_district,
)
from metrics.cli.users import user as user_cli
from metrics.storage.store import Store

REAL_HASHER = passwords_mod.HASHER
PW = "correct-horse-battery"
ADMIN = Principal("root", "admin")
OFFICE = Principal("wang", "office")
HRSS = Principal("li", "department", unit="区人力社保局", district="通州区")
T0 = dt.datetime(2026, 11, 21, 9, 0, 0)


@pytest.fixture(autouse=True)
def fast_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still argon2id, but cheap: the production parameters cost ~0.2 s per hash."""
    monkeypatch.setattr(passwords_mod, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


class Clock:
    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


def stored_hash(store: Store, name: str) -> str | None:
    return store.execute("SELECT password_hash FROM users WHERE user_name = ?", [name])[0][0]


def access_rows(store: Store) -> list[tuple[Any, ...]]:
    return store.execute("SELECT user_name, action, unit, allowed, detail FROM access_log ORDER BY access_id")


def user_changes(store: Store) -> list[tuple[Any, ...]]:
    rows = store.execute(
        "SELECT user_name, entity_key, action, old_values, new_values FROM change_log "
        "WHERE entity = 'users' ORDER BY change_id"
    )
    return [(u, k, a, json.loads(o) if o else None, json.loads(n) if n else None) for u, k, a, o, n in rows]


# --------------------------------------------------------------------------- hashes


def test_production_hasher_is_argon2id_with_strong_parameters() -> None:
    assert REAL_HASHER.type is Type.ID
    assert REAL_HASHER.memory_cost >= 19 * 1024 and REAL_HASHER.time_cost >= 2  # OWASP minimum for argon2id


def test_hash_is_argon2id_and_never_the_password(tiny_duck: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords_mod, "HASHER", REAL_HASHER)
    rec = add_user(tiny_duck, None, "zhang", "office", password=PW, display_name="张三")
    h = stored_hash(tiny_duck, "zhang")
    assert h is not None and h.startswith("$argon2id$v=19$m=65536")
    assert PW not in h
    assert rec.has_password and rec.display_name == "张三" and rec.password_changed_at is not None
    # the change log records the account but neither the password nor its hash
    ((by, key, action, old, new),) = user_changes(tiny_duck)
    assert (key, action, old) == ("zhang", "add", None)
    assert by.startswith("cli:")
    assert new["role"] == "office" and new["has_password"] is True
    dumped = json.dumps(tiny_duck.execute("SELECT * FROM change_log")[0], default=str)
    assert PW not in dumped and "$argon2" not in dumped
    assert authenticate(tiny_duck, "zhang", PW) == Principal("zhang", "office", None)


def test_login_succeeds_and_is_logged(tiny_duck: Store) -> None:
    add_user(tiny_duck, ADMIN, "Li.Si", "department", unit="区人力社保局", district="通州区", password=PW)
    p = authenticate(tiny_duck, "  li.si ", PW)  # names are case-insensitive and trimmed
    assert p == Principal("li.si", "department", "区人力社保局", "通州区")
    assert access_rows(tiny_duck)[-1] == ("li.si", "login", "区人力社保局", True, "登录成功（local）")


# --------------------------------------------------------------------------- refusals


def test_wrong_password_unknown_disabled_and_oidc_only_are_refused(tiny_duck: Store) -> None:
    add_user(tiny_duck, None, "zhang", "office", password=PW)
    add_user(tiny_duck, None, "sso.only", "leader", oidc_subject="sub-1")
    assert authenticate(tiny_duck, "zhang", "wrong-password!") is None
    assert authenticate(tiny_duck, "nobody", PW) is None
    assert authenticate(tiny_duck, "sso.only", PW) is None
    assert authenticate(tiny_duck, "zhang", "") is None
    assert authenticate(tiny_duck, "zhang", "x" * 5000) is None
    disable_user(tiny_duck, None, "zhang")
    assert authenticate(tiny_duck, "zhang", PW) is None
    logged = access_rows(tiny_duck)
    assert [r[3] for r in logged] == [False] * 6
    assert [r[4] for r in logged][:3] == [
        "密码错误（local）",
        "账号不存在（local）",
        "该账号只能通过统一身份认证（OIDC）登录（local）",
    ]
    assert logged[-1][4] == "账号已停用（local）"
    enable_user(tiny_duck, None, "zhang")
    assert authenticate(tiny_duck, "zhang", PW) == Principal("zhang", "office")


def test_wrong_passwords_never_lock_the_account(tiny_duck: Store) -> None:
    """The old rule (5 wrong passwords lock the account 15 minutes) let anyone keep the owner out."""
    clock = Clock()
    add_user(tiny_duck, None, "zhang", "office", password=PW)
    for _ in range(20):
        assert authenticate(tiny_duck, "zhang", "wrong-password!", client="203.0.113.9", clock=clock) is None
        clock.advance(dt.timedelta(minutes=20))  # past any delay: each of the 20 is checked
    (rec,) = list_users(tiny_duck, None)
    assert rec.locked_until is None and rec.failed_logins == 0  # the account row is not touched
    assert [c[2] for c in user_changes(tiny_duck)] == ["add"]
    assert authenticate(tiny_duck, "zhang", PW, client="198.51.100.7", clock=clock) == Principal("zhang", "office")


def test_a_legacy_lock_is_ignored_and_cleared_by_the_next_sign_in(tiny_duck: Store) -> None:
    add_user(tiny_duck, None, "zhang", "office", password=PW)
    tiny_duck.execute(
        "UPDATE users SET failed_logins = 4, locked_until = ? WHERE user_name = 'zhang'", [T0 + dt.timedelta(hours=1)]
    )
    assert authenticate(tiny_duck, "zhang", PW, clock=Clock()) == Principal("zhang", "office")
    (rec,) = list_users(tiny_duck, None)
    assert rec.locked_until is None and rec.failed_logins == 0
    assert user_changes(tiny_duck)[-1][2:] == (
        "login",
        {"failed_logins": 4, "locked_until": (T0 + dt.timedelta(hours=1)).isoformat()},
        {"failed_logins": 0, "locked_until": None},
    )


def test_admin_reset_sets_a_new_password(tiny_duck: Store) -> None:
    clock = Clock()
    add_user(tiny_duck, None, "zhang", "office", password=PW)
    reset_password(tiny_duck, ADMIN, "zhang", "a-brand-new-secret", clock=clock)
    assert authenticate(tiny_duck, "zhang", PW, clock=clock) is None
    assert authenticate(tiny_duck, "zhang", "a-brand-new-secret", clock=clock) == Principal("zhang", "office")
    ((by, _, _, old, new),) = [c for c in user_changes(tiny_duck) if c[2] == "reset_password"]
    assert by == "root"
    assert new["sessions_revoked"] == 0 and new["password_changed_at"] == T0.isoformat()
    assert "$argon2" not in json.dumps([old, new])


def test_rehash_when_argon2_parameters_change(tiny_duck: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    add_user(tiny_duck, None, "zhang", "office", password=PW)
    old_hash = stored_hash(tiny_duck, "zhang")
    assert old_hash is not None and "m=1024,t=1,p=1" in old_hash
    monkeypatch.setattr(passwords_mod, "HASHER", PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    assert authenticate(tiny_duck, "zhang", PW) is not None
    new_hash = stored_hash(tiny_duck, "zhang")
    assert new_hash is not None and "m=2048,t=2,p=1" in new_hash and new_hash.startswith("$argon2id$")
    assert user_changes(tiny_duck)[-1][4] == {"failed_logins": 0, "locked_until": None, "password_rehashed": True}
    assert authenticate(tiny_duck, "zhang", PW) is not None
    assert stored_hash(tiny_duck, "zhang") == new_hash  # current parameters: no second rehash


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": "department", "district": "通州区"}, "部门账号必须绑定一个单位"),
        ({"role": "department", "unit": "   ", "district": "通州区"}, "部门账号必须绑定一个单位"),
        ({"role": "leader", "unit": "区人力社保局"}, "只有部门账号绑定单位"),
        ({"role": "department", "unit": "区人力社保局"}, "部门账号必须绑定所属区"),
        ({"role": "department", "unit": "区人力社保局", "district": "  "}, "部门账号必须绑定所属区"),
        ({"role": "department", "unit": "区人力社保局", "district": "浦东新区"}, "所属区无效"),
        ({"role": "office", "district": "通州区"}, "只有部门账号绑定所属区"),
        ({"role": "superuser"}, "未知角色"),
        ({"role": "leader", "password": "short"}, "密码至少需要 10 个字符"),
        ({"role": "office", "password": "long-enough"}, "就业办账号密码至少需要 12 个字符"),
        ({"role": "office", "password": " " * 12}, "密码不能全是空白字符"),
        ({"role": "office", "password": "ZhangSan.1", "user_name": "zhangsan.1"}, "密码太短"),
        ({"role": "leader", "password": "ZhangSan.1", "user_name": "zhangsan.1"}, "密码不能由用户名变化而来"),
        ({"role": "office", "user_name": "张三"}, "用户名无效"),
        ({"role": "office", "user_name": "a"}, "用户名无效"),
        ({"role": "office", "display_name": "x" * 51}, "显示名称不能超过 50 个字符"),
    ],
)
def test_role_unit_name_and_password_rules(tiny_duck: Store, kwargs: dict[str, Any], message: str) -> None:
    args = {"user_name": "zhang", "password": PW} | kwargs
    with pytest.raises(UserError, match=message):
        add_user(tiny_duck, None, **args)
    assert tiny_duck.execute("SELECT count(*) FROM users")[0][0] == 0
    assert user_changes(tiny_duck) == []


def test_duplicates_are_refused(tiny_duck: Store) -> None:
    add_user(tiny_duck, None, "zhang", "office", password=PW, oidc_subject="sub-1")
    with pytest.raises(UserError, match="已存在"):
        add_user(tiny_duck, None, "ZHANG", "leader", password=PW)
    with pytest.raises(UserError, match="OIDC 身份已绑定"):
        add_user(tiny_duck, None, "wang", "leader", oidc_subject="sub-1")


def test_the_schema_itself_enforces_roles_units_and_argon2id(tiny_duck: Store) -> None:
    cols = (
        "INSERT INTO users (user_name, display_name, role, unit, password_hash, created_at) "
        "VALUES (?, ?, ?, ?, ?, TIMESTAMP '2026-01-02 09:00')"
    )
    for bad in [
        ["a1", "A", "department", None, None],
        ["a2", "A", "office", "区商务局", None],
        ["a3", "A", "root", None, None],
        ["a4", "A", "office", None, "plain-text-password"],
        ["a5", "A", "office", None, "$argon2i$v=19$m=1024,t=1,p=1$x$y"],
    ]:
        with pytest.raises(duckdb.ConstraintException):
            tiny_duck.execute(cols, bad)


def test_a_crash_inside_the_write_leaves_nothing(tiny_duck: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(accounts_mod, "_record_change", boom)
    with pytest.raises(RuntimeError):
        add_user(tiny_duck, None, "zhang", "office", password=PW)
    assert tiny_duck.execute("SELECT count(*) FROM users")[0][0] == 0


# --------------------------------------------------------------------------- permissions


def test_guarded_logs_refusals_and_only_refusals(tiny_duck: Store) -> None:
    guarded(tiny_duck, HRSS, "ledger.write", unit="区人力社保局", district="通州区")
    assert access_rows(tiny_duck) == []
    with pytest.raises(AccessDenied):
        guarded(tiny_duck, HRSS, "ledger.write", unit="区商务局", district="通州区")
    with pytest.raises(AccessDenied):
        guarded(tiny_duck, HRSS, "ledger.write", unit="区人力社保局", district="西城区")  # same unit name, elsewhere
    with pytest.raises(AccessDenied):
        guarded(tiny_duck, HRSS, "audit.read")  # an office page opened by URL
    rows = tiny_duck.execute("SELECT user_name, role, action, unit, allowed, detail FROM access_log ORDER BY access_id")
    assert [r[:5] for r in rows] == [
        ("li", "department", "ledger.write", "区商务局", False),
        ("li", "department", "ledger.write", "西城区", False),
        ("li", "department", "audit.read", None, False),
    ]
    assert rows[0][5].startswith("无权限")
    assert "只能办理通州区的事项" in rows[1][5]


def test_a_refusal_stays_logged_when_the_callers_write_rolls_back(tiny_duck: Store) -> None:
    with pytest.raises(AccessDenied), tiny_duck.transaction() as cur:
        cur.execute(
            "INSERT INTO change_log (changed_at, user_name, entity, entity_key, action) "
            "VALUES (TIMESTAMP '2026-01-02 09:00', 'li', 'x', 'k', 'x')"
        )
        guarded(tiny_duck, HRSS, "ledger.approve")
    assert tiny_duck.execute("SELECT count(*) FROM change_log WHERE entity = 'x'")[0][0] == 0
    assert tiny_duck.execute("SELECT action, allowed FROM access_log")[0] == ("ledger.approve", False)


@pytest.mark.parametrize("who", [OFFICE, HRSS, Principal("boss", "leader"), Principal("news", "press")])
def test_only_admins_manage_users(tiny_duck: Store, who: Principal) -> None:
    add_user(tiny_duck, None, "zhang", "office", password=PW)
    calls = [
        lambda: add_user(tiny_duck, who, "evil", "admin", password=PW),
        lambda: disable_user(tiny_duck, who, "zhang"),
        lambda: enable_user(tiny_duck, who, "zhang"),
        lambda: reset_password(tiny_duck, who, "zhang", "attacker-chosen-pw"),
        lambda: list_users(tiny_duck, who),
    ]
    for call in calls:
        with pytest.raises(AccessDenied, match="无权限"):
            call()
    logged = tiny_duck.execute("SELECT user_name, action, allowed FROM access_log")
    assert logged == [(who.user, "users.manage", False)] * len(calls)
    assert [u.user_name for u in list_users(tiny_duck, None)] == ["zhang"]
    assert authenticate(tiny_duck, "zhang", PW) is not None  # password unchanged
    assert len(user_changes(tiny_duck)) == 1  # only the original add


def test_an_admin_manages_users_and_is_named_in_the_change_log(tiny_duck: Store) -> None:
    add_user(
        tiny_duck,
        ADMIN,
        "hrss2",
        "department",
        unit="区人力社保局",
        district="通州区",
        password=PW,
        display_name="李四",
    )
    disable_user(tiny_duck, ADMIN, "hrss2")
    disable_user(tiny_duck, ADMIN, "hrss2")  # already disabled: no second write
    enable_user(tiny_duck, ADMIN, "hrss2")
    changes = user_changes(tiny_duck)
    assert [(c[0], c[1], c[2]) for c in changes] == [
        ("root", "hrss2", "add"),
        ("root", "hrss2", "disable"),
        ("root", "hrss2", "enable"),
    ]
    assert changes[1][3:] == ({"active": True}, {"active": False, "sessions_revoked": 0})
    with pytest.raises(UserError, match="不存在"):
        disable_user(tiny_duck, ADMIN, "ghost")


def test_the_last_active_admin_cannot_be_disabled(tiny_duck: Store) -> None:
    add_user(tiny_duck, None, "root", "admin", password=PW)
    with pytest.raises(UserError, match="最后一个"):
        disable_user(tiny_duck, ADMIN, "root")
    add_user(tiny_duck, None, "root2", "admin", password=PW)
    disable_user(tiny_duck, ADMIN, "root")
    with pytest.raises(UserError, match="最后一个"):
        disable_user(tiny_duck, ADMIN, "root2")


def test_refresh_principal_follows_the_users_table(tiny_duck: Store) -> None:
    add_user(tiny_duck, None, "zhang", "office", password=PW)
    p = authenticate(tiny_duck, "zhang", PW)
    assert p is not None and refresh_principal(tiny_duck, p) == p
    disable_user(tiny_duck, None, "zhang")
    assert refresh_principal(tiny_duck, p) is None
    assert refresh_principal(tiny_duck, Principal("forged", "admin")) is None


# --------------------------------------------------------------------------- OIDC


def test_oidc_identities_map_to_users(tiny_duck: Store) -> None:
    add_user(tiny_duck, None, "wang@tongzhou.gov.cn", "office", password=None)
    add_user(
        tiny_duck, None, "li@tongzhou.gov.cn", "department", unit="区商务局", district="通州区", oidc_subject="sub-li"
    )
    # first login by email binds the subject; later logins match the subject even if the email changes
    assert principal_for_oidc(tiny_duck, "sub-wang", "Wang@Tongzhou.gov.cn") == Principal(
        "wang@tongzhou.gov.cn", "office"
    )
    assert principal_for_oidc(tiny_duck, "sub-wang", "new-address@example.com") == Principal(
        "wang@tongzhou.gov.cn", "office"
    )
    assert user_changes(tiny_duck)[-1][2:] == ("bind_oidc", {"oidc_subject": None}, {"oidc_subject": "sub-wang"})
    # an email whose account is bound to another subject is not taken over
    assert principal_for_oidc(tiny_duck, "sub-attacker", "li@tongzhou.gov.cn") is None
    li = Principal("li@tongzhou.gov.cn", "department", "区商务局", "通州区")
    assert principal_for_oidc(tiny_duck, "sub-li", None) == li
    assert principal_for_oidc(tiny_duck, "sub-unknown", "nobody@example.com") is None
    assert principal_for_oidc(tiny_duck, "", "wang@tongzhou.gov.cn") is None
    disable_user(tiny_duck, None, "li@tongzhou.gov.cn")
    assert principal_for_oidc(tiny_duck, "sub-li", None) is None
    logged = tiny_duck.execute("SELECT action, allowed FROM access_log ORDER BY access_id")
    assert logged == [("login_oidc", a) for a in (True, True, False, True, False, False, False)]
    assert authenticate(tiny_duck, "wang@tongzhou.gov.cn", PW) is None  # OIDC-only: no password login


# --------------------------------------------------------------------------- demo accounts


def test_demo_accounts_log_in_with_their_documented_passwords(tiny_duck: Store) -> None:
    passwords = create_demo_accounts(tiny_duck)
    assert passwords == {
        "leader": "demo-leader-2026",
        "office": "demo-office-2026",
        "hrss": "demo-hrss-2026",
        "commerce": "demo-commerce-2026",
        "press": "demo-press-2026",
        "admin": "demo-admin-2026",
    }
    got = {name: authenticate(tiny_duck, name, pw) for name, pw in passwords.items()}
    assert got == {
        "leader": Principal("leader", "leader"),
        "office": Principal("office", "office"),
        "hrss": Principal("hrss", "department", "区人力社保局", "西城区"),
        "commerce": Principal("commerce", "department", "区商务局", "通州区"),
        "press": Principal("press", "press"),
        "admin": Principal("admin", "admin"),
    }
    assert {a.role for a in DEMO_ACCOUNTS} == {"leader", "office", "department", "press", "admin"}
    assert create_demo_accounts(tiny_duck) == passwords  # idempotent
    assert len(list_users(tiny_duck, None)) == 6
    assert {c[0] for c in user_changes(tiny_duck) if c[2] == "add"} == {"demo"}


# --------------------------------------------------------------------------- CLI


def test_cli_add_list_disable_enable_reset(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.duckdb")
    run = CliRunner().invoke
    r = run(user_cli, ["add", "li.si", "--role", "department", "--unit", "区人力社保局", "--district", "西城区",
                       "--display-name", "李四", "--password-stdin", "--db", db], input=PW + "\n")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "已添加账号 li.si（部门，西城区 区人力社保局）" in r.output
    r = run(
        user_cli,
        ["add", "wang", "--role", "office", "--db", db],
        input="another-secret-quokka\nanother-secret-quokka\n",
    )
    assert r.exit_code == 0, r.output  # prompted twice, hidden
    assert "another-secret-quokka" not in r.output

    r = run(user_cli, ["list", "--db", db])
    assert r.exit_code == 0, r.output
    assert "li.si" in r.output and "区人力社保局" in r.output and "李四" in r.output and "wang" in r.output
    r = run(user_cli, ["list", "--format", "json", "--db", db])
    listed = {u["user_name"]: u for u in json.loads(r.output)}
    assert listed["li.si"]["unit"] == "区人力社保局" and listed["li.si"]["active"] is True
    assert listed["li.si"]["district"] == "西城区" and listed["wang"]["district"] is None
    assert "password_hash" not in listed["li.si"]

    r = run(user_cli, ["disable", "li.si", "--db", db])
    assert r.exit_code == 0 and "已停用" in r.output
    r = run(user_cli, ["enable", "li.si", "--db", db])
    assert r.exit_code == 0 and "已启用" in r.output
    r = run(user_cli, ["reset", "li.si", "--password-stdin", "--db", db], input="the-new-password\n")
    assert r.exit_code == 0 and "已重置" in r.output, r.output

    with Store.open(db) as store:
        assert authenticate(store, "li.si", PW) is None
        assert authenticate(store, "li.si", "the-new-password") == Principal(
            "li.si", "department", "区人力社保局", "西城区"
        )
        actions = [c[2] for c in user_changes(store)]
        assert actions[:5] == ["add", "add", "disable", "enable", "reset_password"]


def test_cli_reports_errors_in_chinese(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.duckdb")
    run = CliRunner().invoke
    r = run(user_cli, ["add", "li", "--role", "department", "--password-stdin", "--db", db], input=PW + "\n")
    assert r.exit_code != 0 and "部门账号必须绑定一个单位" in r.output
    r = run(user_cli, ["add", "li", "--role", "department", "--unit", "区商务局", "--password-stdin", "--db", db],
            input=PW + "\n")  # fmt: skip
    assert r.exit_code != 0 and "部门账号必须绑定所属区（--district" in r.output
    r = run(user_cli, ["add", "li", "--role", "office", "--district", "通州区", "--password-stdin", "--db", db],
            input=PW + "\n")  # fmt: skip
    assert r.exit_code != 0 and "只有部门账号绑定所属区" in r.output
    r = run(user_cli, ["district", "ghost", "通州区", "--db", db])
    assert r.exit_code != 0 and "不存在" in r.output
    r = run(user_cli, ["add", "li", "--role", "office", "--password-stdin", "--db", db], input="short\n")
    assert r.exit_code != 0 and "密码至少需要 10 个字符" in r.output
    r = run(user_cli, ["disable", "ghost", "--db", db])
    assert r.exit_code != 0 and "不存在" in r.output
    r = run(user_cli, ["list", "--db", db])
    assert r.exit_code == 0 and "还没有账号" in r.output


# --------------------------------------------------------------------------- districts


def _legacy_department(store: Store, name: str) -> None:
    """A department account as it was before accounts had a district (schema version 4)."""
    store.execute(
        "INSERT INTO users (user_name, display_name, role, unit, password_hash, created_at) "
        "VALUES (?, ?, 'department', ?, ?, TIMESTAMP '2025-06-01 09:00')",
        [name, name, "区人力社保局", passwords_mod.HASHER.hash(PW)],
    )


def test_a_legacy_department_account_has_no_district_until_an_admin_binds_one(tiny_duck: Store) -> None:
    _legacy_department(tiny_duck, "old.hrss")
    p = authenticate(tiny_duck, "old.hrss", PW)
    assert p == Principal("old.hrss", "department", "区人力社保局", None)
    with pytest.raises(AccessDenied, match="未绑定所属区"):
        guarded(tiny_duck, p, "upload.write", unit="区人力社保局", district="通州区")
    with pytest.raises(AccessDenied):
        set_district(tiny_duck, HRSS, "old.hrss", "通州区")  # only admins
    rec = set_district(tiny_duck, ADMIN, "old.hrss", "通州")  # the short name is accepted and spelled out
    assert rec.district == "通州区"
    # the session's principal follows at its next page run
    assert refresh_principal(tiny_duck, p) == Principal("old.hrss", "department", "区人力社保局", "通州区")
    assert user_changes(tiny_duck)[-1] == (
        "root",
        "old.hrss",
        "set_district",
        {"district": None},
        {"district": "通州区"},
    )
    assert set_district(tiny_duck, ADMIN, "old.hrss", "通州区") == rec  # unchanged: no second change-log row
    assert [c[2] for c in user_changes(tiny_duck)].count("set_district") == 1
    add_user(tiny_duck, None, "boss", "leader", password=PW)
    with pytest.raises(UserError, match="只有部门账号绑定所属区"):
        set_district(tiny_duck, ADMIN, "boss", "通州区")
    with pytest.raises(UserError, match="所属区无效"):
        set_district(tiny_duck, ADMIN, "old.hrss", "上海市")


def test_refresh_principal_carries_a_changed_district(tiny_duck: Store) -> None:
    add_user(tiny_duck, None, "li", "department", unit="区人力社保局", district="通州区", password=PW)
    p = authenticate(tiny_duck, "li", PW)
    assert p is not None and p.district == "通州区"
    set_district(tiny_duck, None, "li", "西城区")
    assert refresh_principal(tiny_duck, p) == Principal("li", "department", "区人力社保局", "西城区")


def test_demo_accounts_made_before_districts_are_bound_to_theirs(tiny_duck: Store) -> None:
    _legacy_department(tiny_duck, "hrss")
    create_demo_accounts(tiny_duck)
    assert refresh_principal(tiny_duck, Principal("hrss", "department")) == Principal(
        "hrss", "department", "区人力社保局", "西城区"
    )


def test_cli_binds_a_district_and_lists_it(tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    with Store.open(db) as store:
        _legacy_department(store, "old.hrss")
    run = CliRunner().invoke
    r = run(user_cli, ["list", "--db", str(db)])
    assert "所属区" in r.output and "未绑定" in r.output
    r = run(user_cli, ["district", "old.hrss", "海淀区", "--db", str(db)])
    assert r.exit_code == 0 and "账号 old.hrss 的所属区为 海淀区" in r.output, r.output
    r = run(user_cli, ["district", "old.hrss", "火星区", "--db", str(db)])
    assert r.exit_code != 0 and "所属区无效" in r.output
    r = run(user_cli, ["list", "--format", "json", "--db", str(db)])
    assert json.loads(r.output)[0]["district"] == "海淀区"


def test_readme_documents_each_demo_accounts_district() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in readme.splitlines() if line.startswith("| `")}
    for acc in DEMO_ACCOUNTS:
        assert acc.password in rows[acc.user_name]
        if acc.district:
            assert acc.district in rows[acc.user_name].split("|")[4], acc.user_name
    assert "kpi user district" in readme


# --------------------------------------------------------------------------- password policy (zxcvbn)


@pytest.mark.parametrize("role", ["admin", "office", "leader", "department", "press"])
@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("aaaaaaaaaa", "密码太短|重复的字符"),
        ("1234567890", "密码太短|常见密码|连续的字母或数字"),
        ("password12", "密码太短|常见密码"),
        ("zhangsan12", "密码太短|由用户名变化而来"),
        ("ZhangSan-1990!", "由用户名变化而来"),
        ("san.zhang.2026", "由用户名变化而来"),
        ("qwertyuiop123", "键盘上相邻的按键|常见密码"),
    ],
)
def test_weak_passwords_are_refused_saying_why(password: str, why: str, role: str) -> None:
    with pytest.raises(UserError, match=why):
        accounts_mod.check_password_policy(password, "zhang.san", role)


def test_the_issue_examples_are_refused_for_every_role_with_the_reason_in_chinese() -> None:
    for role in ("leader", "department", "press"):  # 10 characters is long enough here: strength decides
        for password, why in [
            ("aaaaaaaaaa", "重复的字符"),
            ("1234567890", "常见密码"),
            ("password12", "常见密码"),
            ("zhangsan12", "由用户名变化而来"),
        ]:
            with pytest.raises(UserError, match=why) as refused:
                accounts_mod.check_password_policy(password, "zhang.san", role)
            assert "强度" in str(refused.value) or "用户名" in str(refused.value)


def test_admin_and_office_need_longer_and_stronger_passwords() -> None:
    good_for_leader = "the-new-password"  # zxcvbn score 3
    assert accounts_mod.check_password_policy(good_for_leader, "zhao", "leader") == good_for_leader
    for role in ("admin", "office"):
        with pytest.raises(UserError, match="至少需要 4/4"):
            accounts_mod.check_password_policy(good_for_leader, "zhao", role)
        with pytest.raises(UserError, match="至少需要 12 个字符"):
            accounts_mod.check_password_policy("Kq8#vT2!xZ", "zhao", role)  # strong but 10 characters
    assert accounts_mod.check_password_policy("Kq8#vT2!xZ", "zhao", "leader") == "Kq8#vT2!xZ"


def test_the_documented_demo_passwords_meet_the_policy_of_their_roles() -> None:
    from tests.browser_support import DEMO_PASSWORDS

    for acc in DEMO_ACCOUNTS:
        assert accounts_mod.check_password_policy(acc.password, acc.user_name, acc.role) == acc.password
        assert DEMO_PASSWORDS.get(acc.user_name, acc.password) == acc.password


def test_a_reset_to_a_weak_password_is_refused_by_the_accounts_role(tiny_duck: Store) -> None:
    add_user(tiny_duck, None, "zhang.san", "admin", password="correct-horse-battery-staple")
    with pytest.raises(UserError, match="由用户名变化而来"):
        reset_password(tiny_duck, ADMIN, "zhang.san", "Zhang.San.2026!")
    with pytest.raises(UserError, match="系统管理员账号密码至少需要 12 个字符"):
        reset_password(tiny_duck, ADMIN, "zhang.san", "Kq8#vT2!xZ")
