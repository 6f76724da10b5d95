"""Throttling sign-in by account and client instead of locking accounts (docs/server.md, "Throttling").

A lock-out after N wrong passwords lets anyone keep an account's owner out. Here wrong passwords slow down
only the client that sent them: after FREE_PER_ACCOUNT_CLIENT failures for one account from one client, or
FREE_PER_CLIENT failures from one client for any accounts, that client waits 2^k seconds after its last
failure (k counts the failures beyond the allowance), at most MAX_DELAY. A correct password from another
client is checked at once. The account-wide safeguard — an account failing from UNDER_ATTACK_CLIENTS or
more clients in the last hour — only shrinks the allowance of clients that have themselves failed on it,
so a client that has not failed on the account (its owner's, say) is never delayed.

Reads and writes `login_attempts`; the caller (`signin`) decides before the argon2 check and records after.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import duckdb

__all__ = [
    "FREE_PER_ACCOUNT_CLIENT",
    "FREE_PER_CLIENT",
    "FREE_UNDER_ATTACK",
    "MAX_DELAY",
    "UNDER_ATTACK_CLIENTS",
    "Verdict",
    "begin_attempt",
    "finish_attempt",
    "verdict",
]

FREE_PER_ACCOUNT_CLIENT = 3  # wrong passwords for one account from one client before delays start
FREE_PER_CLIENT = 10  # wrong passwords from one client, any accounts, within CLIENT_WINDOW
FREE_UNDER_ATTACK = 1  # the per-(account, client) allowance while the account is under attack
UNDER_ATTACK_CLIENTS = 3  # distinct failing clients within ATTACK_WINDOW that put an account under attack
ATTACK_WINDOW = dt.timedelta(hours=1)
CLIENT_WINDOW = dt.timedelta(hours=1)
ACCOUNT_CLIENT_WINDOW = dt.timedelta(hours=24)
MAX_DELAY = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Verdict:
    """Whether a client may try a password for an account now; if not, how many seconds it must wait."""

    wait_seconds: int
    failures: int  # the larger of the two counts that decided it (for the access log)
    under_attack: bool

    @property
    def allowed(self) -> bool:
        return self.wait_seconds <= 0


def _delay(failures: int, free: int) -> dt.timedelta:
    if failures < free:
        return dt.timedelta(0)
    return min(MAX_DELAY, dt.timedelta(seconds=2 ** min(failures - free, 20)))


def verdict(cur: duckdb.DuckDBPyConnection, user_name: str, client: str, now: dt.datetime) -> Verdict:
    """The throttle's decision for one attempt at `now` (reads login_attempts only)."""
    row = cur.execute(
        """
        WITH last_ok AS (
            SELECT max(attempted_at) AS ok_at FROM login_attempts WHERE user_name = $user AND client = $client AND ok
        )
        SELECT
            -- this account from this client: failures since its last success there, within a day
            count(*) FILTER (WHERE user_name = $user AND client = $client AND NOT ok AND attempted_at >= $pair_since
                             AND attempted_at > coalesce((SELECT ok_at FROM last_ok), TIMESTAMP '1900-01-01')),
            max(attempted_at) FILTER (WHERE user_name = $user AND client = $client AND NOT ok),
            -- this client, any account, within the hour (a success on one's own account resets nothing)
            count(*) FILTER (WHERE client = $client AND NOT ok AND attempted_at >= $client_since),
            max(attempted_at) FILTER (WHERE client = $client AND NOT ok),
            -- this account: distinct failing clients within the hour
            count(DISTINCT client) FILTER (WHERE user_name = $user AND NOT ok AND attempted_at >= $attack_since)
        FROM login_attempts
        WHERE (user_name = $user OR client = $client) AND attempted_at >= $since
        """,
        {
            "user": user_name,
            "client": client,
            "pair_since": now - ACCOUNT_CLIENT_WINDOW,
            "client_since": now - CLIENT_WINDOW,
            "attack_since": now - ATTACK_WINDOW,
            "since": now - max(ACCOUNT_CLIENT_WINDOW, CLIENT_WINDOW, ATTACK_WINDOW),
        },
    ).fetchone()
    pair_failures, pair_last, client_failures, client_last, failing_clients = row if row else (0, None, 0, None, 0)
    under_attack = int(failing_clients or 0) >= UNDER_ATTACK_CLIENTS
    free = FREE_UNDER_ATTACK if under_attack else FREE_PER_ACCOUNT_CLIENT
    until = now
    if pair_last is not None:
        until = max(until, pair_last + _delay(int(pair_failures), free))
    if client_last is not None:
        until = max(until, client_last + _delay(int(client_failures), FREE_PER_CLIENT))
    wait = math.ceil((until - now).total_seconds())
    return Verdict(max(0, wait), max(int(pair_failures), int(client_failures)), under_attack)


def begin_attempt(
    cur: duckdb.DuckDBPyConnection, user_name: str, client: str, now: dt.datetime
) -> tuple[Verdict, int | None]:
    """In the caller's transaction: the verdict, and if allowed the id of a new attempt row counted as a
    failure until `finish_attempt` marks it good — so parallel guesses from one client are counted before
    any of them is checked."""
    found = verdict(cur, user_name, client, now)
    if not found.allowed:
        return found, None
    got = cur.execute(
        "INSERT INTO login_attempts (attempted_at, user_name, client, ok) VALUES (?, ?, ?, false) RETURNING attempt_id",
        [now, user_name[:200], client[:200]],
    ).fetchone()
    return found, int(got[0]) if got else None


def finish_attempt(cur: duckdb.DuckDBPyConnection, attempt_id: int) -> None:
    """Mark an attempt row as a correct password (called in the transaction that signs the user in)."""
    cur.execute("UPDATE login_attempts SET ok = true WHERE attempt_id = ?", [attempt_id])
