"""Browser sessions (docs/server.md, "Sign-in and sessions"): only the token's hash is stored; expiry, idle
timeout, revocation; disabling an account or resetting its password ends its sessions at once; the
principal is re-read from users on every resolve."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from argon2 import PasswordHasher

import metrics.auth.passwords as passwords_mod
from metrics.auth import web_sessions
from metrics.auth.access import AccessDenied, Principal
from metrics.auth.users import add_user, disable_user, enable_user, reset_password
from metrics.auth.web_sessions import SessionEnd, create, list_active, resolve, revoke, revoke_user, token_hash
from metrics.storage.store import Store

T0 = dt.datetime(2026, 11, 21, 9, 0, 0)
LEADER = Principal("leader", "leader")
ADMIN = Principal("root", "admin")


@pytest.fixture(autouse=True)
def fast_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords_mod, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def store(tiny_duck: Store) -> Store:
    add_user(tiny_duck, None, "leader", "leader", password="demo-leader-2026")
    add_user(tiny_duck, None, "root", "admin", password="demo-admin-2026")
    add_user(tiny_duck, None, "second.admin", "admin", password="demo-admin-2026")
    return tiny_duck


def new(store: Store, clock: Clock, who: Principal = LEADER) -> str:
    return create(store, who, client="198.51.100.7", user_agent="Mozilla/5.0 " + "x" * 500, clock=clock)


def test_only_the_hash_of_a_fresh_random_token_is_stored(store: Store) -> None:
    clock = Clock()
    tokens = [new(store, clock) for _ in range(3)]
    assert len(set(tokens)) == 3 and all(len(t) >= 43 for t in tokens)  # 32 random bytes, url-safe
    rows = store.execute("SELECT token_hash, user_name, created_at, expires_at, client, user_agent FROM web_sessions")
    assert sorted(r[0] for r in rows) == sorted(token_hash(t) for t in tokens)
    dumped = json.dumps(store.execute("SELECT * FROM web_sessions"), default=str)
    assert not any(t in dumped for t in tokens)
    assert {r[1:5] for r in rows} == {("leader", T0, T0 + dt.timedelta(hours=12), "198.51.100.7")}
    assert all(len(r[5]) == 200 for r in rows)  # user agent truncated
    assert resolve(store, tokens[0], clock=clock) == LEADER


def test_forged_missing_and_oversized_tokens_resolve_to_nobody(store: Store) -> None:
    assert resolve(store, None) is SessionEnd.MISSING
    assert resolve(store, "") is SessionEnd.MISSING
    assert resolve(store, "forged-token-of-the-right-length-0123456789abc") is SessionEnd.UNKNOWN
    assert resolve(store, "x" * 10_000) is SessionEnd.UNKNOWN
    assert resolve(store, token_hash("anything")) is SessionEnd.UNKNOWN  # the stored hash is not a token


def test_absolute_lifetime_and_idle_timeout(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    token = new(store, clock)
    # active every 50 minutes: idle never reached, but the session ends 12 hours after sign-in
    for _ in range(15):  # 12.5 hours
        clock.advance(minutes=50)
        if clock.now < T0 + dt.timedelta(hours=12):
            assert resolve(store, token, clock=clock) == LEADER
    assert resolve(store, token, clock=clock) is SessionEnd.EXPIRED
    # idle: 60 minutes by default, KPI_SESSION_IDLE_MINUTES to change it
    clock = Clock()
    token = new(store, clock)
    clock.advance(minutes=61)
    assert resolve(store, token, clock=clock) is SessionEnd.IDLE
    monkeypatch.setenv("KPI_SESSION_IDLE_MINUTES", "2")
    clock = Clock()
    token = new(store, clock)
    clock.advance(minutes=1, seconds=30)
    assert resolve(store, token, clock=clock) == LEADER
    clock.advance(minutes=2, seconds=1)
    assert resolve(store, token, clock=clock) is SessionEnd.IDLE
    assert SessionEnd.IDLE.message_zh.startswith("长时间未操作")


def test_last_seen_is_written_at_most_once_a_minute(store: Store) -> None:
    clock = Clock()
    token = new(store, clock)
    versions = []
    for _ in range(10):
        clock.advance(seconds=10)
        assert resolve(store, token, clock=clock) == LEADER
        versions.append(store.execute("SELECT last_seen_at FROM web_sessions")[0][0])
    assert versions[:5] == [T0] * 5  # under a minute: no write
    assert versions[5] == T0 + dt.timedelta(seconds=60)
    assert versions[-1] == T0 + dt.timedelta(seconds=60)


def test_sign_out_revokes_the_session_in_every_tab(store: Store) -> None:
    clock = Clock()
    token, other = new(store, clock), new(store, clock)
    assert revoke(store, token, by="leader", reason="退出登录", clock=clock) is True
    assert revoke(store, token, by="leader", reason="退出登录", clock=clock) is False  # once
    assert resolve(store, token, clock=clock) is SessionEnd.REVOKED
    assert resolve(store, other, clock=clock) == LEADER  # another sign-in (another browser) goes on
    assert store.execute(
        "SELECT revoked_at, revoked_by, revoke_reason FROM web_sessions WHERE revoked_at IS NOT NULL"
    ) == [(T0, "leader", "退出登录")]
    assert store.execute("SELECT user_name, action, allowed FROM access_log WHERE action = 'logout'") == [
        ("leader", "logout", True)
    ]


def test_disabling_an_account_ends_its_sessions_at_once_in_the_same_transaction(store: Store) -> None:
    clock = Clock()
    tokens = [new(store, clock) for _ in range(2)]
    disable_user(store, ADMIN, "leader", clock=clock)
    assert [resolve(store, t, clock=clock) for t in tokens] == [SessionEnd.REVOKED] * 2
    enable_user(store, ADMIN, "leader")
    assert [resolve(store, t, clock=clock) for t in tokens] == [SessionEnd.REVOKED] * 2  # stays ended
    (new_values,) = store.execute("SELECT new_values FROM change_log WHERE action = 'disable'")[0]
    assert json.loads(new_values) == {"active": False, "sessions_revoked": 2}
    assert store.execute("SELECT DISTINCT revoked_by, revoke_reason FROM web_sessions") == [("root", "账号已停用")]


def test_a_disabled_account_is_refused_even_before_its_sessions_are_revoked(store: Store) -> None:
    clock = Clock()
    token = new(store, clock)
    store.execute("UPDATE users SET active = false WHERE user_name = 'leader'")  # behind the service's back
    assert resolve(store, token, clock=clock) is SessionEnd.DISABLED


def test_a_password_reset_ends_the_sessions_at_once(store: Store) -> None:
    clock = Clock()
    token = new(store, clock)
    reset_password(store, ADMIN, "leader", "a-brand-new-secret", clock=clock)
    assert resolve(store, token, clock=clock) is SessionEnd.REVOKED
    (new_values,) = store.execute("SELECT new_values FROM change_log WHERE action = 'reset_password'")[0]
    assert json.loads(new_values)["sessions_revoked"] == 1


def test_a_failed_disable_ends_no_session(store: Store) -> None:
    clock = Clock()
    token = new(store, clock, ADMIN)
    new(store, clock, Principal("second.admin", "admin"))
    disable_user(store, ADMIN, "second.admin", clock=clock)
    with pytest.raises(Exception, match="最后一个"):
        disable_user(store, None, "root", clock=clock)
    assert resolve(store, token, clock=clock) == ADMIN


def test_role_unit_and_district_are_re_read_on_every_resolve(store: Store) -> None:
    clock = Clock()
    token = new(store, clock)
    store.execute("UPDATE users SET role = 'office' WHERE user_name = 'leader'")
    assert resolve(store, token, clock=clock) == Principal("leader", "office")


def test_revoke_user_and_list_active_need_users_manage(store: Store) -> None:
    clock = Clock()
    new(store, clock)
    new(store, clock)
    new(store, clock, ADMIN)
    with pytest.raises(AccessDenied):
        revoke_user(store, LEADER, "root", "试图注销管理员", clock=clock)
    with pytest.raises(AccessDenied):
        list_active(store, LEADER, clock=clock)
    assert store.execute("SELECT count(*) FROM access_log WHERE NOT allowed AND action = 'users.manage'")[0][0] == 2
    listed = list_active(store, ADMIN, clock=clock)
    assert sorted(r["user_name"] for r in listed) == ["leader", "leader", "root"]
    assert not any("token" in k for r in listed for k in r)
    assert revoke_user(store, ADMIN, "leader", "手机遗失", clock=clock) == 2
    assert [r["user_name"] for r in list_active(store, ADMIN, clock=clock)] == ["root"]
    (row,) = store.execute("SELECT user_name, entity_key, action, old_values, new_values FROM change_log "
                           "WHERE action = 'revoke_sessions'")  # fmt: skip
    assert row[:3] == ("root", "leader", "revoke_sessions")
    assert json.loads(row[3]) == {"open_sessions": 2} and json.loads(row[4]) == {
        "open_sessions": 0,
        "reason": "手机遗失",
    }


def test_resolving_a_session_costs_well_under_five_milliseconds(store: Store) -> None:
    """The per-page-run cost (docs/server.md, "Measured"); the benchmark on a demo database is
    tests/bench/sessions.py."""
    clock = Clock()
    token = new(store, clock)
    times = []
    for _ in range(200):
        start = time.perf_counter()
        assert resolve(store, token, clock=clock) == LEADER
        times.append(time.perf_counter() - start)
    times.sort()
    assert times[len(times) // 2] < 0.005, f"median {times[len(times) // 2] * 1000:.2f} ms"


def test_the_cookie_name_and_defaults() -> None:
    assert web_sessions.COOKIE == "kpi_session"
    assert web_sessions.lifetime() == dt.timedelta(hours=12)
    assert web_sessions.idle_timeout() == dt.timedelta(minutes=60)
