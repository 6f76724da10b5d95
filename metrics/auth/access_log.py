"""The access log: logins, logouts and refused requests, appended to access_log.

Each row is written in a transaction of its own, so a forged call leaves a trace even when the caller's own
write rolls back. `guarded` is `metrics.auth.access.check` with that trace; `logged_refusals` does the same
for a whole service function.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

import duckdb

from metrics.auth.access import AccessDenied, Principal, check
from metrics.storage import clock
from metrics.storage.store import Store

__all__ = ["Clock", "guarded", "log_access", "logged_refusals", "record_access"]

Clock = Callable[[], dt.datetime]


def _now() -> dt.datetime:
    """Beijing time, naive, like DuckDB's TIMESTAMP columns (docs/time.md)."""
    return clock.now()


def record_access(
    cur: duckdb.DuckDBPyConnection,
    at: dt.datetime,
    who: Principal | str,
    action: str,
    allowed: bool,
    unit: str | None,
    detail: str,
) -> None:
    """One access_log row inside the caller's transaction."""
    if isinstance(who, Principal):
        name, role = who.user, who.role
    else:
        name, role = str(who), None
    cur.execute(
        "INSERT INTO access_log (logged_at, user_name, role, action, unit, allowed, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [at, name[:200] or "?", role, action[:100], unit[:200] if unit else None, allowed, detail[:2000]],
    )


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
        record_access(cur, clock(), principal, action, allowed, unit, detail)


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
