"""Backups of a live database keep every row and only committed data; restores are careful."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import metrics.storage.backup as backup_module
from metrics.auth.access import AccessDenied, Principal
from metrics.auth.admin import backup_as
from metrics.cli.admin import backup_cmd, restore_cmd
from metrics.ingest.load import write_records
from metrics.storage.backup import BackupError, backup, backup_schema_version, restore
from metrics.storage.store import MIGRATIONS_DIR, SCHEMA_VERSION, Store
from tests.support import PLACEMENT as SHARED_PLACEMENT
from tests.support import insert, rows_to_table

PLACEMENT = {**SHARED_PLACEMENT, "work_lat": 39.9087}


def _upload(store: Store, placement_id: str, user: str = "hrss", **changes: object) -> int | None:
    table = rows_to_table("placements", [{**PLACEMENT, "placement_id": placement_id, **changes}])
    name = f"{placement_id}-{len(changes)}.xlsx"
    return write_records(store, "placements", table, file_name=name, sha256=name, user=user, unit="区人力社保局")[3]


def _fill(store: Store) -> None:
    """Rows in uploads, change_log (with JSON and a list column), records, snapshots and the data version."""
    _upload(store, "JY-1")
    _upload(store, "JY-2", user="commerce")
    _upload(store, "JY-1", channel="直播带岗")
    insert(store, "disputes", [{"case_id": "ZC-1", "district": "通州区", "accepted_date": dt.date(2026, 1, 2)}])
    store.execute(
        "INSERT INTO change_log (changed_at, user_name, entity, entity_key, action, new_values) VALUES (?, ?, ?, ?, ?, ?)",
        [
            dt.datetime(2026, 1, 2, 9),
            "office",
            "task_accounts",
            "tz-t01",
            "insert",
            json.dumps({"plan": "<b>计划</b>", "n": 1}),
        ],
    )
    store.execute(
        "INSERT INTO kpi_snapshots (snapshot_date, programme, kpi_id, actual, status, window_start, window_end, "
        "data_version, taken_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            dt.date(2026, 3, 1),
            "tz",
            "tz-x",
            1.5,
            "on_track",
            dt.date(2026, 1, 1),
            dt.date(2026, 3, 1),
            3,
            dt.datetime(2026, 3, 1, 23),
        ],
    )


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def _fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str]]:
    """Rows and a content hash of every table (rows in a canonical order)."""
    out = {}
    for table in _tables(con):
        rows = con.execute(f'SELECT * FROM "{table}" ORDER BY ALL').fetchall()
        out[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return out


def _file_fingerprint(path: Path) -> dict[str, tuple[int, str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return _fingerprint(con)
    finally:
        con.close()


def _no_leftovers(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".tmp.wal"))]


def test_round_trip_keeps_every_row_of_every_table(tiny_duck: Store, tmp_path: Path) -> None:
    _fill(tiny_duck)
    source = _fingerprint(tiny_duck.cursor())
    assert {"placements", "uploads", "change_log", "kpi_snapshots", "schema_version", "data_version"} <= set(source)
    assert source["change_log"][0] == 4 and source["uploads"][0] == 3

    out = tmp_path / "backups" / "kpi-2026-03-02.duckdb"
    counts = backup(tiny_duck, out)
    assert counts == {table: n for table, (n, _) in source.items()}
    _no_leftovers(out.parent)
    assert _file_fingerprint(out) == source

    restored = restore(out, tmp_path / "restored" / "kpi.duckdb")
    assert restored.counts == counts and restored.previous is None
    assert restored.schema_version == SCHEMA_VERSION
    assert _file_fingerprint(tmp_path / "restored" / "kpi.duckdb") == source
    _no_leftovers(tmp_path / "restored")


def test_backup_of_a_live_store_sees_only_committed_data(tiny_duck: Store, tmp_path: Path) -> None:
    _upload(tiny_duck, "JY-1")
    with tiny_duck.transaction() as cur:  # another cursor of the same store, mid-write
        cur.execute(
            "INSERT INTO disputes (case_id, district, accepted_date) VALUES ('ZC-9', '通州区', DATE '2026-01-01')"
        )
        cur.execute("UPDATE placements SET channel = '其他'")
        counts = backup(tiny_duck, tmp_path / "mid.duckdb")
    assert tiny_duck.count("disputes") == 1  # committed after the backup …
    assert counts["disputes"] == 0 and counts["placements"] == 1  # … so not in it
    con = duckdb.connect(str(tmp_path / "mid.duckdb"), read_only=True)
    assert con.execute("SELECT channel FROM placements").fetchall() == [("招聘活动",)]
    con.close()


def test_backup_while_a_raw_cursor_holds_an_open_transaction(tiny_duck: Store, tmp_path: Path) -> None:
    _upload(tiny_duck, "JY-1")
    other = tiny_duck.cursor()
    other.execute("BEGIN TRANSACTION")
    other.execute("DELETE FROM placements")
    counts = backup(tiny_duck, tmp_path / "b.duckdb")
    other.execute("ROLLBACK")
    assert counts["placements"] == 1
    assert _upload(tiny_duck, "JY-2") == 2  # the store keeps working after a backup


def test_sequences_continue_after_restore(tiny_duck: Store, tmp_path: Path) -> None:
    _fill(tiny_duck)
    last_upload = tiny_duck.execute("SELECT max(upload_id) FROM uploads")[0][0]
    last_change = tiny_duck.execute("SELECT max(change_id) FROM change_log")[0][0]
    backup(tiny_duck, tmp_path / "b.duckdb")
    restore(tmp_path / "b.duckdb", tmp_path / "r.duckdb")
    with Store.open(tmp_path / "r.duckdb") as store:
        new_id = _upload(store, "JY-3")
        assert new_id == last_upload + 1
        assert store.execute("SELECT min(change_id) FROM change_log WHERE upload_id = ?", [new_id])[0][0] > last_change
        assert store.count("placements") == 3


def test_restore_refuses_to_replace_a_database_without_force(tiny_duck: Store, tmp_path: Path) -> None:
    _fill(tiny_duck)
    backup(tiny_duck, tmp_path / "b.duckdb")
    target = tmp_path / "target.duckdb"
    with Store.open(target) as other:
        _upload(other, "OTHER-1")
    before = _file_fingerprint(target)
    with pytest.raises(BackupError, match="已存在.*--force"):
        restore(tmp_path / "b.duckdb", target)
    assert _file_fingerprint(target) == before

    done = restore(tmp_path / "b.duckdb", target, force=True, now=dt.datetime(2026, 3, 2, 14, 25, 1))
    assert done.previous == tmp_path / "target.duckdb.before-restore-20260302-142501"
    assert _file_fingerprint(done.previous) == before  # the replaced database is kept whole
    assert _file_fingerprint(target) == _fingerprint(tiny_duck.cursor())
    again = restore(tmp_path / "b.duckdb", target, force=True, now=dt.datetime(2026, 3, 2, 14, 25, 1))
    assert again.previous == tmp_path / "target.duckdb.before-restore-20260302-142501-2"


def test_restore_refuses_a_backup_from_newer_code(tiny_duck: Store, tmp_path: Path) -> None:
    backup(tiny_duck, tmp_path / "b.duckdb")
    con = duckdb.connect(str(tmp_path / "b.duckdb"))
    con.execute("INSERT INTO schema_version VALUES (?, 'future.sql', now())", [SCHEMA_VERSION + 1])
    con.close()
    assert backup_schema_version(tmp_path / "b.duckdb") == SCHEMA_VERSION + 1
    with pytest.raises(BackupError, match="高于本程序支持的版本"):
        restore(tmp_path / "b.duckdb", tmp_path / "new.duckdb")
    assert not (tmp_path / "new.duckdb").exists()


def test_restore_migrates_a_backup_from_older_code(tmp_path: Path) -> None:
    old = tmp_path / "v1.duckdb"
    con = duckdb.connect(str(old))
    first = sorted(MIGRATIONS_DIR.glob("0001_*.sql"))[0]
    con.execute(first.read_text(encoding="utf-8"))
    con.execute("INSERT INTO schema_version VALUES (1, ?, now())", [first.name])
    con.execute("INSERT INTO disputes (case_id, district, accepted_date) VALUES ('ZC-1', '通州区', DATE '2026-01-01')")
    con.close()
    done = restore(old, tmp_path / "kpi.duckdb")
    assert done.schema_version == 1
    assert done.counts["disputes"] == 1 and "kpi_snapshots" in done.counts
    with Store.open(tmp_path / "kpi.duckdb") as store:
        assert store.schema_version() == SCHEMA_VERSION


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not a database at all" * 100, "无法读取备份文件"), (None, "缺少 schema_version")],
)
def test_restore_refuses_what_is_not_a_kpi_backup(tmp_path: Path, content: bytes | None, message: str) -> None:
    bad = tmp_path / "bad.duckdb"
    if content is None:
        duckdb.connect(str(bad)).close()  # a DuckDB file, but not ours
    else:
        bad.write_bytes(content)
    with pytest.raises(BackupError, match=message):
        restore(bad, tmp_path / "kpi.duckdb")
    with pytest.raises(BackupError, match="备份文件不存在"):
        restore(tmp_path / "missing.duckdb", tmp_path / "kpi.duckdb")


def test_backup_does_not_overwrite_an_existing_file_unless_asked(tiny_duck: Store, tmp_path: Path) -> None:
    out = tmp_path / "b.duckdb"
    backup(tiny_duck, out)
    _upload(tiny_duck, "JY-1")
    with pytest.raises(BackupError, match="备份文件已存在"):
        backup(tiny_duck, out)
    assert backup(tiny_duck, out, overwrite=True)["placements"] == 1
    with pytest.raises(BackupError, match="不能是数据库文件本身"):
        backup(tiny_duck, tiny_duck.path, overwrite=True)  # type: ignore[arg-type]


def test_a_failed_backup_leaves_no_file(tiny_duck: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> dict[str, int]:
        raise duckdb.IOException("disk full")

    monkeypatch.setattr(backup_module, "table_counts", broken)
    with pytest.raises(BackupError, match="备份失败.*disk full"):
        backup(tiny_duck, tmp_path / "b.duckdb")
    _no_leftovers(tmp_path)
    assert not (tmp_path / "b.duckdb").exists()
    monkeypatch.undo()
    assert backup(tiny_duck, tmp_path / "b.duckdb")["uploads"] == 0  # the alias was detached: a retry works


def test_backup_in_the_app_needs_the_admin_role(tiny_duck: Store, tmp_path: Path) -> None:
    with pytest.raises(AccessDenied):
        backup_as(tiny_duck, Principal("office", "office"), tmp_path / "b.duckdb")
    assert not (tmp_path / "b.duckdb").exists()
    assert "uploads" in backup_as(tiny_duck, Principal("admin", "admin"), tmp_path / "b.duckdb")


def test_backup_of_an_in_memory_store(tmp_path: Path) -> None:
    with Store.memory() as store:
        insert(store, "disputes", [{"case_id": "ZC-1", "district": "通州区", "accepted_date": dt.date(2026, 1, 2)}])
        assert backup(store, tmp_path / "m.duckdb")["disputes"] == 1
    assert backup_schema_version(tmp_path / "m.duckdb") == SCHEMA_VERSION


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def closed_db(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "kpi.duckdb"
    with Store.open(path) as store:
        _fill(store)
    return path


def test_cli_backup_and_restore_round_trip(closed_db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "backups" / "b.duckdb"
    result = runner.invoke(backup_cmd, ["--db", str(closed_db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "已备份" in result.output and "uploads" in result.output
    assert _file_fingerprint(out) == _file_fingerprint(closed_db)

    again = runner.invoke(backup_cmd, ["--db", str(closed_db), "--out", str(out)])
    assert again.exit_code == 1 and "备份文件已存在" in again.output
    assert runner.invoke(backup_cmd, ["--db", str(closed_db), "--out", str(out), "--force"]).exit_code == 0

    refused = runner.invoke(restore_cmd, ["--db", str(closed_db), "--from", str(out)])
    assert refused.exit_code == 1 and "--force" in refused.output
    forced = runner.invoke(restore_cmd, ["--db", str(closed_db), "--from", str(out), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "原数据库已保留为" in forced.output
    kept = [p for p in closed_db.parent.iterdir() if ".before-restore-" in p.name]
    assert len(kept) == 1
    assert _file_fingerprint(closed_db) == _file_fingerprint(out)

    fresh = tmp_path / "fresh.duckdb"
    created = runner.invoke(restore_cmd, ["--db", str(fresh), "--from", str(out)])
    assert created.exit_code == 0, created.output
    assert "原数据库已保留为" not in created.output


def test_cli_backup_of_a_missing_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(backup_cmd, ["--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "b")])
    assert result.exit_code == 1 and "数据库文件不存在" in result.output
