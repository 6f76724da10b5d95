"""Writing uploads: upsert by natural key, counts, change log, idempotence, all-or-nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metrics.ingest.load import import_file
from metrics.storage.store import Store
from tests.support import write_disputes_csv

ROWS = [
    ["C1", "通州区", "2026-01-05", "2026-02-01", "调解"],
    ["C2", "通州区", "2026/3/1", "", ""],
    ["C3", "通州区", "2026年4月2日", "2026年5月2日", "裁决"],
]


def table(store: Store) -> list[tuple]:
    return store.execute("SELECT case_id, accepted_date, closed_date, closure_method FROM disputes ORDER BY case_id")


def written(store: Store) -> tuple[object, ...]:
    """Everything an import may write: the records, the change log, the uploads, the data version."""
    return (
        table(store),
        store.execute("SELECT count(*) FROM change_log"),
        store.execute("SELECT count(*) FROM uploads"),
        store.data_version(),
    )


def test_new_changed_unchanged_counts_and_change_log(tiny_duck: Store, tmp_path: Path) -> None:
    first = import_file(tiny_duck, write_disputes_csv(tmp_path / "disputes_1.csv", ROWS), user="张三", unit="区仲裁院")
    assert first.ok and (first.new, first.changed, first.unchanged) == (3, 0, 0)
    v1 = tiny_duck.data_version()
    rows2 = [
        ROWS[0],
        ["C2", "通州区", "2026/3/1", "2026-06-30", "撤诉"],
        ROWS[2],
        ["C4", "通州区", "2026-07-01", "", ""],
    ]
    second = import_file(tiny_duck, write_disputes_csv(tmp_path / "disputes_2.csv", rows2), user="李四")
    assert (second.new, second.changed, second.unchanged) == (1, 1, 2)
    assert tiny_duck.data_version() == v1 + 1
    log = tiny_duck.execute(
        "SELECT user_name, entity, entity_key, action, old_values, new_values FROM change_log ORDER BY change_id"
    )
    assert [r[3] for r in log] == ["insert"] * 3 + ["insert", "update"] or [r[3] for r in log] == ["insert"] * 3 + [
        "update",
        "insert",
    ]
    update = next(r for r in log if r[3] == "update")
    assert update[0] == "李四" and update[2] == "C2"
    assert json.loads(update[4])["closed_date"] is None and json.loads(update[5])["closed_date"] == "2026-06-30"
    uploads = tiny_duck.execute(
        "SELECT user_name, unit_name, row_count, new_rows, changed_rows, unchanged_rows, sha256 FROM uploads ORDER BY upload_id"
    )
    assert uploads[0][:6] == ("张三", "区仲裁院", 3, 3, 0, 0) and len(uploads[0][6]) == 64
    assert uploads[1][:6] == ("李四", None, 4, 1, 1, 2)


def test_same_file_twice_changes_nothing(tiny_duck: Store, tmp_path: Path) -> None:
    path = write_disputes_csv(tmp_path / "disputes.csv", ROWS)
    import_file(tiny_duck, path, user="u")
    before = written(tiny_duck)
    again = import_file(tiny_duck, path, user="u")
    assert again.ok and (again.new, again.changed, again.unchanged, again.upload_id) == (0, 0, 3, None)
    after = written(tiny_duck)
    assert after == before


def test_a_bad_row_rejects_the_whole_file_and_writes_nothing(tiny_duck: Store, tmp_path: Path) -> None:
    bad = [*ROWS, ["C9", "通州区", "2026-13-40", "", ""]]
    report = import_file(tiny_duck, write_disputes_csv(tmp_path / "disputes.csv", bad), user="u")
    assert not report.ok
    assert any(e.row == 6 and e.column == "受理日期" and e.value == "2026-13-40" for e in report.errors)
    assert table(tiny_duck) == [] and tiny_duck.execute("SELECT count(*) FROM uploads") == [(0,)]


def test_a_crash_in_the_middle_of_a_write_leaves_the_database_as_before(
    tiny_duck: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_file(tiny_duck, write_disputes_csv(tmp_path / "d1.csv", ROWS[:1]), "disputes", user="u")
    before = written(tiny_duck)

    def boom(cur: object) -> None:  # fails after the upsert and change log are written, before COMMIT
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(Store, "bump_data_version", staticmethod(boom))
    with pytest.raises(RuntimeError, match="simulated crash"):
        import_file(tiny_duck, write_disputes_csv(tmp_path / "d2.csv", ROWS), "disputes", user="u")
    monkeypatch.undo()
    after = written(tiny_duck)
    assert after == before


def test_gb18030_csv_and_reopened_file_keep_rows(tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    with Store.open(db) as store:
        report = import_file(store, write_disputes_csv(tmp_path / "disputes.csv", ROWS, encoding="gb18030"), user="u")
        assert report.ok, report.errors
    with Store.open(db, read_only=True) as store:
        assert [r[0] for r in table(store)] == ["C1", "C2", "C3"]
