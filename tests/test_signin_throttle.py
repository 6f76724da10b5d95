"""Throttling by account and client instead of a lock-out (docs/server.md, "Throttling"): 20 wrong passwords
for `leader` from one client, and the leader still signs in at once from another; delays grow per client."""

from __future__ import annotations

import datetime as dt

import pytest
from argon2 import PasswordHasher

import metrics.auth.passwords as passwords_mod
from metrics.auth import throttle
from metrics.auth.access import AccessDenied, Principal
from metrics.auth.signin import accounts_under_attack, sign_in
from metrics.auth.users import add_user
from metrics.storage.store import Store

PW = "demo-leader-2026"
T0 = dt.datetime(2026, 11, 21, 9, 0, 0)
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"
ADMIN = Principal("root", "admin")


@pytest.fixture(autouse=True)
def fast_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords_mod, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def store(tiny_duck: Store) -> Store:
    add_user(tiny_duck, None, "leader", "leader", password=PW)
    add_user(tiny_duck, None, "office", "office", password="demo-office-2026")
    return tiny_duck


def test_twenty_wrong_passwords_from_one_client_and_the_leader_signs_in_from_another_at_once(store: Store) -> None:
    clock = Clock()
    waits = []
    for _ in range(20):
        got = sign_in(store, "leader", "not-the-password", client=ATTACKER, clock=clock)
        assert got.principal is None
        waits.append(got.wait_seconds)
        clock.advance(0.5)  # a script hammering the form
    assert waits[:4] == [0, 0, 0, 1]  # three free tries, then the attacker waits
    # in 10 s only the tries after a delay ran out were checked: 3 free ones, then after 1, 2 and 4 s
    assert [i for i, w in enumerate(waits) if w == 0] == [0, 1, 2, 4, 8, 16]
    # the owner, from another client, half a second later: checked at once, signed in
    owner = sign_in(store, "leader", PW, client=OWNER, clock=clock)
    assert owner == type(owner)(Principal("leader", "leader"), 0)
    # the attacker's own client stays throttled — even with the right password (it is not even checked)
    got = sign_in(store, "leader", PW, client=ATTACKER, clock=clock)
    assert got.principal is None and got.wait_seconds > 0
    detail = store.execute("SELECT detail FROM access_log WHERE NOT allowed ORDER BY access_id DESC LIMIT 1")[0][0]
    assert detail.startswith(f"尝试过于频繁（{ATTACKER}") and "需等待" in detail


def test_delays_grow_per_account_and_client_and_are_capped(store: Store) -> None:
    clock = Clock()
    seen = []
    for _ in range(16):
        verdict = sign_in(store, "leader", "wrong", client=ATTACKER, clock=clock)
        assert verdict.wait_seconds == 0  # we always wait out the delay, so every try is checked
        with store.transaction() as cur:
            seen.append(throttle.verdict(cur, "leader", ATTACKER, clock()).wait_seconds)
        clock.advance(seen[-1])
    assert seen[:2] == [0, 0]
    assert seen[2:12] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]  # 2^k after the third failure
    assert seen[12:] == [900] * 4  # capped at 15 minutes
    # a success from that client resets its count for that account
    assert sign_in(store, "leader", PW, client=ATTACKER, clock=clock).principal is not None
    with store.transaction() as cur:
        assert throttle.verdict(cur, "leader", ATTACKER, clock()).wait_seconds == 0


def test_one_client_spraying_many_accounts_is_slowed_down(store: Store) -> None:
    clock = Clock()
    names = [f"user{i}" for i in range(throttle.FREE_PER_CLIENT)]
    for name in names:  # one wrong try per (unknown) account: no per-account delay, but the client's count grows
        assert sign_in(store, name, "wrong", client=ATTACKER, clock=clock).wait_seconds == 0
    got = sign_in(store, "office", "demo-office-2026", client=ATTACKER, clock=clock)
    assert got.principal is None and got.wait_seconds >= 1
    # a success on one's own account does not reset the client's count
    clock.advance(got.wait_seconds)
    assert sign_in(store, "office", "demo-office-2026", client=ATTACKER, clock=clock).principal is not None
    assert sign_in(store, "user99", "wrong", client=ATTACKER, clock=clock).wait_seconds == 0  # checked …
    assert sign_in(store, "user98", "wrong", client=ATTACKER, clock=clock).wait_seconds > 0  # … and slower
    # another client is not affected
    assert sign_in(store, "office", "demo-office-2026", client=OWNER, clock=clock).principal is not None


def test_many_clients_put_an_account_under_attack_without_locking_its_owner_out(store: Store) -> None:
    clock = Clock()
    for i in range(throttle.UNDER_ATTACK_CLIENTS):
        sign_in(store, "leader", "wrong", client=f"203.0.113.{i}", clock=clock)
    # under attack, a failing client gets one free try instead of three
    assert sign_in(store, "leader", "wrong", client="203.0.113.50", clock=clock).wait_seconds == 0
    assert sign_in(store, "leader", "wrong", client="203.0.113.50", clock=clock).wait_seconds > 0
    # a client that has not failed on the account (the owner) is checked at once
    assert sign_in(store, "leader", PW, client=OWNER, clock=clock).principal == Principal("leader", "leader")


def test_parallel_guesses_are_counted_before_they_are_checked(store: Store) -> None:
    """The attempt row is written (as a failure) before the argon2 check, in the throttle's transaction."""
    with store.transaction() as cur:
        for _ in range(3):
            verdict, attempt = throttle.begin_attempt(cur, "leader", ATTACKER, T0)
            assert verdict.allowed and attempt is not None
        verdict, attempt = throttle.begin_attempt(cur, "leader", ATTACKER, T0)
    assert not verdict.allowed and attempt is None


def test_unknown_accounts_are_throttled_alike_and_refused_with_the_same_answer(store: Store) -> None:
    clock = Clock()
    known = [sign_in(store, "leader", "wrong", client=ATTACKER, clock=clock) for _ in range(4)]
    unknown = [sign_in(store, "nobody", "wrong", client=OWNER, clock=clock) for _ in range(4)]
    assert [k.wait_seconds for k in known] == [u.wait_seconds for u in unknown] == [0, 0, 0, 1]


def test_accounts_under_attack_for_the_admin_page(store: Store) -> None:
    clock = Clock()
    for i in range(6):
        sign_in(store, "leader", "wrong", client=f"203.0.113.{i % 3}", clock=clock)
        clock.advance(30)
    sign_in(store, "office", "wrong", client=OWNER, clock=clock)
    for _ in range(5):
        sign_in(store, "ghost", "wrong", client=ATTACKER, clock=clock)
        clock.advance(60)
    found = accounts_under_attack(store, ADMIN, T0)
    assert [(a["user_name"], a["failures"], a["clients"], a["account_exists"]) for a in found] == [
        ("leader", 6, 3, True),
        ("ghost", 5, 1, False),
    ]
    assert found[0]["last_failure"] == T0 + dt.timedelta(seconds=150)
    assert accounts_under_attack(store, ADMIN, clock.now) == []
    with pytest.raises(AccessDenied):
        accounts_under_attack(store, Principal("office", "office"), T0)
    assert store.execute("SELECT user_name, action, allowed FROM access_log ORDER BY access_id DESC LIMIT 1") == [
        ("office", "users.manage", False)
    ]
