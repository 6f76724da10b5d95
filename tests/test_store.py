"""The store: migrations, and a bounded wait when another process holds the file."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from metrics.store import SCHEMA_VERSION, Store, StoreError

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("held", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def test_migrations_bring_a_new_file_to_the_latest_version(tmp_path: Path) -> None:
    with Store.open(tmp_path / "a.duckdb") as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.migrate() == []  # idempotent


def hold(db: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(db), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_held_file_fails_clearly_after_the_wait(tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    Store.open(db).close()
    proc = hold(db, 10)
    try:
        t0 = time.monotonic()
        with pytest.raises(StoreError, match="正被另一个进程"):
            Store.open(db, wait_seconds=1.0)
        assert 0.9 <= time.monotonic() - t0 < 5
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]


def test_the_wait_succeeds_when_the_other_process_lets_go(tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    Store.open(db).close()
    proc = hold(db, 1.0)
    try:
        with Store.open(db, wait_seconds=20) as store:
            assert store.schema_version() == SCHEMA_VERSION
    finally:
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
