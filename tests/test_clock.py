"""One clock for the whole product (docs/time.md): Beijing time, pinnable, and nobody else reads the wall clock."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest

from metrics.storage import clock

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = [*sorted((ROOT / "metrics").rglob("*.py")), *sorted((ROOT / "dashboard").rglob("*.py"))]
SQL_FILES = [p for p in sorted((ROOT / "metrics").rglob("*.sql")) if "migrations" not in p.parts]

# Calls that read the machine's clock or zone. perf_counter/monotonic measure durations, not dates: allowed.
WALL_CLOCK_CALLS = {
    ("datetime", "now"),
    ("datetime", "today"),
    ("datetime", "utcnow"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("time", "ctime"),
    ("time", "strftime"),
    ("pd", "Timestamp.now"),
    ("Timestamp", "now"),
    ("Timestamp", "today"),
}
# DuckDB's clock functions inside SQL text (schema DEFAULTs in migrations are history and are never relied on).
SQL_CLOCK = re.compile(r"\b(now|current_date|current_timestamp|get_current_timestamp|today|current_time)\s*\(", re.I)
SQL_CLOCK_BARE = re.compile(r"\b(current_date|current_timestamp)\b(?!\s*\()", re.I)


def _calls(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if (owner_name, node.func.attr) in WALL_CLOCK_CALLS:
                found.append((node.lineno, f"{owner_name}.{node.func.attr}()"))
    return found


def _sql_strings(tree: ast.AST) -> list[tuple[int, str]]:
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_no_module_but_the_clock_reads_the_wall_clock() -> None:
    offenders = []
    for path in PRODUCT:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(ROOT)
        if rel == Path("metrics/storage/clock.py"):
            continue
        offenders += [f"{rel}:{line}: {call}" for line, call in _calls(tree)]
        for line, text in _sql_strings(tree):
            if re.search(r"\b(SELECT|INSERT|UPDATE|DELETE|WHERE|VALUES)\b", text) and (
                SQL_CLOCK.search(text) or SQL_CLOCK_BARE.search(text)
            ):
                offenders.append(f"{rel}:{line}: SQL clock in {text[:60]!r}")
    for path in SQL_FILES:
        text = path.read_text(encoding="utf-8")
        if SQL_CLOCK.search(text) or SQL_CLOCK_BARE.search(text):
            offenders.append(f"{path.relative_to(ROOT)}: SQL clock")
    assert offenders == [], "read the date through metrics.storage.clock (docs/time.md):\n" + "\n".join(offenders)


def test_the_scan_would_catch_a_wall_clock_read() -> None:
    """The rule above is not vacuous: each way of reading the clock is found."""
    sample = ast.parse(
        "import datetime as dt, time\n"
        "a = dt.date.today()\nb = dt.datetime.now()\nc = time.time()\nd = datetime.utcnow()\n"
    )
    assert [call for _, call in _calls(sample)] == [
        "date.today()",
        "datetime.now()",
        "time.time()",
        "datetime.utcnow()",
    ]
    assert SQL_CLOCK.search("UPDATE t SET at = now()") and SQL_CLOCK_BARE.search("WHERE d < current_date")


def test_wall_clock_is_beijing_time_whatever_the_machine_zone() -> None:
    utc = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    beijing = clock.now()
    assert abs((beijing - utc) - dt.timedelta(hours=8)) < dt.timedelta(minutes=1)
    assert clock.today() == beijing.date() or abs(
        beijing - dt.datetime.combine(clock.today(), dt.time())
    ) < dt.timedelta(days=1, minutes=1)


def test_pinned_freezes_and_restores() -> None:
    before = clock.now()
    with clock.pinned(dt.date(2026, 3, 1)):
        assert clock.today() == dt.date(2026, 3, 1)
        assert clock.now() == dt.datetime(2026, 3, 1, 9, 0)
        with clock.pinned(dt.datetime(2027, 12, 31, 23, 59, 30)):
            assert clock.today() == dt.date(2027, 12, 31)
        assert clock.today() == dt.date(2026, 3, 1)
    assert clock.now() >= before


def test_pinned_restores_after_an_error() -> None:
    with pytest.raises(RuntimeError), clock.pinned(dt.date(2001, 1, 1)):
        raise RuntimeError("boom")
    assert clock.today().year >= 2026


def test_ledger_stamps_and_release_numbers_follow_the_clock(tiny_duck: object) -> None:
    """Stamps written by the store come from the product's clock, not DuckDB's now()."""
    from metrics.storage.store import Store

    assert isinstance(tiny_duck, Store)
    with clock.pinned(dt.datetime(2031, 5, 6, 7, 8, 9)), tiny_duck.transaction() as cur:
        Store.bump_data_version(cur)
    row = tiny_duck.cursor().execute("SELECT changed_at FROM data_version").fetchone()
    assert row is not None and row[0] == dt.datetime(2031, 5, 6, 7, 8, 9)
