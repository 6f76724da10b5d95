"""A process killed in the middle of a write (SIGKILL, no clean-up) leaves the database as before that write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from metrics.storage.store import Store
from tests.support import EVENT, insert

WRITER = """
import sys, time, pathlib
import pyarrow as pa
from metrics.storage.store import Store
from metrics.ingest.load import write_records
from metrics.contract.records import RECORD_TYPES

db, marker = sys.argv[1], pathlib.Path(sys.argv[2])
cols = RECORD_TYPES["events"].column_names
rows = [{"event_id": f"K{i}", "district": "通州区", "event_type": "招聘会", "event_date": __import__("datetime").date(2026, 5, 1),
         "title": "t", "organiser": "o"} for i in range(5000)]
table = pa.Table.from_pylist([{c: r.get(c) for c in cols} for r in rows])

def hang():  # everything is written inside the transaction; now wait to be killed before COMMIT
    marker.write_text("in transaction")
    time.sleep(120)

with Store.open(db) as store:
    write_records(store, "events", table, file_name="events_kill.csv", sha256="0" * 64, user="killed",
                  _before_commit=hang)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_mid_import_leaves_the_database_unchanged(tmp_path: Path) -> None:
    db, marker = tmp_path / "k.duckdb", tmp_path / "marker"
    with Store.open(db) as store:
        insert(store, "events", [EVENT])
        before = (
            store.count("events"),
            store.execute("SELECT count(*) FROM change_log"),
            store.execute("SELECT count(*) FROM uploads"),
            store.data_version(),
        )
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), str(marker)], cwd=Path(__file__).resolve().parents[1]
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.exists(), "the writer never reached the middle of its transaction"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    with Store.open(db) as store:  # reopening replays the WAL: the uncommitted write must not appear
        after = (
            store.count("events"),
            store.execute("SELECT count(*) FROM change_log"),
            store.execute("SELECT count(*) FROM uploads"),
            store.data_version(),
        )
    assert after == before
