"""The change-log viewer: who changed what, old → new; office and admin only; nothing alters the log."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

import metrics.auth.audit as audit
from metrics.auth.access import AccessDenied, Principal
from metrics.auth.audit import HISTORY_COLUMNS, FieldChange, change_history, field_changes
from metrics.ingest.load import write_records
from metrics.storage.store import Store
from tests.support import PLACEMENT, rows_to_table

ROOT = Path(__file__).resolve().parents[1]
OFFICE = Principal("office", "office")
ADMIN = Principal("admin", "admin")


def _upload(store: Store, rows: list[dict], user: str, name: str) -> int | None:
    table = rows_to_table("placements", rows)
    return write_records(store, "placements", table, file_name=name, sha256=name, user=user, unit="区人力社保局")[3]


def _log(
    store: Store, at: dt.datetime, user: str, entity: str, key: str, action: str, old: object, new: object
) -> None:
    store.execute(
        "INSERT INTO change_log (changed_at, user_name, entity, entity_key, action, old_values, new_values) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [at, user, entity, key, action, None if old is None else json.dumps(old), json.dumps(new)],
    )


@pytest.fixture
def history(tiny_duck: Store) -> Store:
    """An insert and an update through the real import path, plus two ledger entries at fixed times."""
    first = _upload(tiny_duck, [PLACEMENT], "hrss", "a.xlsx")
    changed = {**PLACEMENT, "channel": "直播带岗", "monthly_wage": "7000.00", "is_local": False}
    second = _upload(tiny_duck, [changed], "hrss2", "b.xlsx")
    assert (first, second) == (1, 2)
    _log(
        tiny_duck,
        dt.datetime(2026, 1, 5, 9, 0),
        "commerce",
        "task_accounts",
        "tz-t01",
        "insert",
        None,
        {"task_id": "tz-t01", "plan": "<script>alert(1)</script>", "version": 1, "owner": None},
    )
    _log(
        tiny_duck,
        dt.datetime(2026, 1, 6, 23, 59),
        "commerce",
        "task_accounts",
        "tz-t01",
        "update",
        {"task_id": "tz-t01", "plan": "计划", "version": 1, "linked_kpis": ["a"]},
        {"task_id": "tz-t01", "plan": "新计划", "version": 2, "linked_kpis": ["a", "b"]},
    )
    return tiny_duck


def test_history_lists_who_when_what_newest_first_with_old_and_new(history: Store) -> None:
    frame = change_history(history, OFFICE)
    assert list(frame.columns) == list(HISTORY_COLUMNS)
    assert len(frame) == 4
    assert frame["changed_at"].is_monotonic_decreasing
    update = frame[(frame.entity == "placements") & (frame.action == "update")].iloc[0]
    assert update.user_name == "hrss2" and update.entity_key == "JY-1" and update.upload_id == 2
    assert update.changed_fields == ["channel", "is_local", "monthly_wage"]
    assert update.changes == "就业渠道：招聘活动 → 直播带岗；是否本地人员：是 → 否；月工资（元）：6500.00 → 7000.00"
    insert = frame[(frame.entity == "placements") & (frame.action == "insert")].iloc[0]
    assert insert.user_name == "hrss"
    assert "所属区：（空） → 通州区" in insert.changes
    assert "重点项目编号" not in insert.changes  # fields without a value are not listed
    assert insert.changed_fields[:3] == ["placement_id", "person_id", "district"]


def test_changes_of_other_entities_use_field_names_and_keep_text_verbatim(history: Store) -> None:
    frame = change_history(history, ADMIN, entity="task_accounts")
    assert list(frame.action) == ["update", "insert"]
    assert frame.iloc[0].changes == 'plan：计划 → 新计划；version：1 → 2；linked_kpis：["a"] → ["a", "b"]'
    assert (
        frame.iloc[1].changes
        == "task_id：（空） → tz-t01；plan：（空） → <script>alert(1)</script>；version：（空） → 1"
    )


def test_filters_by_entity_user_key_and_time(history: Store) -> None:
    assert set(change_history(history, OFFICE, entity="placements").entity) == {"placements"}
    assert list(change_history(history, OFFICE, user="hrss").action) == ["insert"]
    assert len(change_history(history, OFFICE, key="tz-t01")) == 2
    assert len(change_history(history, OFFICE, key="nope")) == 0
    day = change_history(history, OFFICE, since=dt.date(2026, 1, 6), until=dt.date(2026, 1, 6))
    assert list(day.action) == ["update"]  # a date as `until` includes the whole day (23:59)
    upto = change_history(history, OFFICE, until=dt.datetime(2026, 1, 6, 12, 0))
    assert list(upto.action) == ["insert"]
    after = change_history(history, OFFICE, since=dt.datetime(2026, 1, 5, 9, 0, 1), entity="task_accounts")
    assert list(after.action) == ["update"]
    assert len(change_history(history, OFFICE, entity="placements", user="hrss", key="JY-1")) == 1


def test_limit_keeps_the_newest_and_is_bounded(history: Store) -> None:
    frame = change_history(history, OFFICE, limit=1)
    assert len(frame) == 1 and frame.iloc[0].user_name == "hrss2"
    for bad in (0, -1, audit.MAX_LIMIT + 1):
        with pytest.raises(ValueError, match="limit"):
            change_history(history, OFFICE, limit=bad)


def test_empty_history_has_the_columns(tiny_duck: Store) -> None:
    frame = change_history(tiny_duck, OFFICE)
    assert list(frame.columns) == list(HISTORY_COLUMNS) and frame.empty
    assert pd.api.types.is_datetime64_any_dtype(frame["changed_at"])


@pytest.mark.parametrize(
    "principal",
    [
        Principal("li", "department", unit="区人力社保局"),
        Principal("boss", "leader"),
        Principal("pr", "press"),
    ],
)
def test_only_office_and_admin_may_read_the_audit_trail(history: Store, principal: Principal) -> None:
    with pytest.raises(AccessDenied, match="audit.read"):
        change_history(history, principal)


def test_field_changes_compares_json_objects() -> None:
    assert field_changes('{"a": 1, "b": 2}', '{"a": 1, "b": 3, "c": null}') == [FieldChange("b", 2, 3)]
    assert field_changes('{"a": 1, "gone": "x"}', '{"a": 1}') == [FieldChange("gone", "x", None)]
    assert field_changes(None, None) == []
    assert FieldChange("x", True, None).text() == "x：是 → （空）"
    assert FieldChange("district", "通州区", "大兴区").text("placements") == "所属区：通州区 → 大兴区"


def test_the_audit_module_only_reads() -> None:
    public = {name for name in audit.__all__ if callable(getattr(audit, name))}
    assert public == {"FieldChange", "change_history", "entity_label", "field_changes", "field_label"}  # labels: pure


# Any statement that would alter or remove change-log rows, in any Python or SQL file of the repository.
_FORBIDDEN = re.compile(
    r"\b(UPDATE\s+(\w+\.)?change_log\b|DELETE\s+FROM\s+(\w+\.)?change_log\b|TRUNCATE\s+(TABLE\s+)?(\w+\.)?change_log\b)",
    re.IGNORECASE,
)


def _repository_files() -> list[Path]:
    skip = {".venv", ".git", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "data"}
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in skip]
        found += [Path(folder) / f for f in files if f.endswith((".py", ".sql"))]
    return found


def test_no_code_path_updates_or_deletes_change_log_rows() -> None:
    files = _repository_files()
    assert ROOT / "metrics" / "ingest" / "load.py" in files  # the scan does see the code that writes the log
    offenders = []
    for path in files:
        if path == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in _FORBIDDEN.finditer(text)]
    assert offenders == []


def test_the_scan_would_catch_an_offender() -> None:
    assert _FORBIDDEN.search("cur.execute('update  change_log set user_name = ?')")
    assert _FORBIDDEN.search('"DELETE FROM main.change_log WHERE change_id = ?"')
    assert _FORBIDDEN.search("TRUNCATE change_log")
    assert not _FORBIDDEN.search("INSERT INTO change_log (user_name) VALUES (?)")
    assert not _FORBIDDEN.search("UPDATE change_logbook SET x = 1")


def test_changed_tables_are_named_in_chinese() -> None:
    from metrics.auth.audit import entity_label

    assert entity_label("placements") == "就业安置记录"
    assert entity_label("task_accounts") == "任务台账"
    assert entity_label("releases") == "统计发布"
    assert entity_label("something_new") == "something_new"
