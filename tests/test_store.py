"""The store: migrations, and a bounded wait when another process holds the file."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from metrics.storage.store import SCHEMA_VERSION, Store, StoreError

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


def test_the_district_migration_upgrades_a_version_4_file_with_accounts(tmp_path: Path) -> None:
    """0006 adds users.district and uploads.district to a file made before them; old rows keep NULL, which
    the access rules treat as "not bound" (refused) until an administrator binds a district."""
    import duckdb

    from metrics.storage.store import _migrations

    db = tmp_path / "v4.duckdb"
    con = duckdb.connect(str(db))
    for version, name, sql in _migrations():
        if version <= 4:
            con.execute(sql)
            con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [version, name])
    con.execute(
        "INSERT INTO users (user_name, display_name, role, unit) VALUES ('old.hrss', 'old', 'department', '区人力社保局')"
    )
    con.close()
    with Store.open(db) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert "0006_user_district.sql" in [r[0] for r in store.execute("SELECT name FROM schema_version")]
        assert store.execute("SELECT user_name, unit, district FROM users") == [("old.hrss", "区人力社保局", None)]
        assert store.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'uploads' "
                             "AND column_name = 'district'") == [(1,)]  # fmt: skip


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


def test_a_migration_merged_after_a_higher_one_still_runs(tmp_path: Path) -> None:
    """A database migrated on a branch that had 0006 but not 0005 gets 0005 when it lands."""
    path = tmp_path / "gap.duckdb"
    with Store.open(path) as store, store.transaction() as cur:
        cur.execute("DROP TABLE releases")
        cur.execute("DROP SEQUENCE release_seq")
        cur.execute("DELETE FROM schema_version WHERE version = 5")
    with Store.open(path) as store:
        assert store.execute("SELECT count(*) FROM releases") == [(0,)]
        assert 5 in {v for (v,) in store.execute("SELECT version FROM schema_version")}


def test_bulk_load_writes_every_row_as_generated_with_rollups_in_one_transaction(tmp_path: Path) -> None:
    import datetime as dt

    from metrics.demo.generate import generate
    from metrics.storage import rollup

    tables = generate(seed=3, scale=0.02, as_of=dt.date(2026, 6, 30))
    with Store.open(tmp_path / "load.duckdb") as store:
        before = store.data_version()
        counts = store.bulk_load(tables)
        assert counts == {name: t.num_rows for name, t in tables.items()}
        assert store.data_version() == before + 1  # one transaction: one bump
        for name in ("placements", "trainings"):
            stored = store.query_arrow(f"SELECT * EXCLUDE (upload_id) FROM {name} ORDER BY ALL")  # noqa: S608
            want = store.cursor().from_arrow(tables[name]).order("ALL").to_arrow_table()
            assert stored.equals(want.cast(stored.schema))  # the same rows, and their values round-trip
            assert [f.type for f in stored.schema] == [f.type for f in want.cast(stored.schema).schema]
        assert rollup.verify(store.cursor()) == []


def test_bulk_load_is_all_or_nothing(tmp_path: Path) -> None:
    import datetime as dt

    from metrics.demo.generate import generate

    tables = generate(seed=3, scale=0.02, as_of=dt.date(2026, 6, 30))
    tables["trainings"] = tables["trainings"].drop_columns(["provider"])  # fails after placements went in
    with Store.open(tmp_path / "load.duckdb") as store:
        with pytest.raises(ValueError, match="provider"):
            store.bulk_load(tables)
        assert store.count("placements") == 0
        assert store.execute("SELECT count(*) FROM rollup_placements_by_placement_date") == [(0,)]
