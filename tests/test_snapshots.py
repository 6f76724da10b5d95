"""Weekly snapshots keep what leadership saw, even after the data is corrected."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from metrics.cli.main import main
from metrics.kpi.engine import Engine
from metrics.kpi.snapshots import SnapshotExists, load_snapshot, previous_snapshot_date, take_snapshot, week_end
from metrics.storage.store import Store
from tests.support import insert, tiny_catalogue

D = dt.date
KPI = {"id": "events", "measure": {"kind": "count", "source": "events"}, "target": {"value": 10, "period": "year"}}


def ev(i: int, day: dt.date) -> dict:
    return {
        "event_id": f"E{i}",
        "district": "通州区",
        "event_type": "招聘会",
        "event_date": day,
        "title": "t",
        "organiser": "o",
    }


def test_snapshot_survives_a_later_correction(tiny_duck: Store) -> None:
    cats = {"tiny": tiny_catalogue([KPI])}
    insert(tiny_duck, "events", [ev(1, D(2026, 11, 2)), ev(2, D(2026, 11, 10))])
    assert take_snapshot(tiny_duck, D(2026, 11, 15), catalogues=cats) == 1
    insert(tiny_duck, "events", [ev(3, D(2026, 11, 3))])  # a late upload for an earlier date
    stored = load_snapshot(tiny_duck, D(2026, 11, 15))
    assert stored["actual"].tolist() == [2.0]
    assert Engine(tiny_duck, cats).compute(D(2026, 11, 15))[0].actual == 3
    with pytest.raises(SnapshotExists):
        take_snapshot(tiny_duck, D(2026, 11, 15), catalogues=cats)
    take_snapshot(tiny_duck, D(2026, 11, 15), catalogues=cats, replace=True)
    assert load_snapshot(tiny_duck, D(2026, 11, 15))["actual"].tolist() == [3.0]


def test_previous_snapshot_is_last_week_or_older(tiny_duck: Store) -> None:
    cats = {"tiny": tiny_catalogue([KPI])}
    for day in (D(2026, 11, 1), D(2026, 11, 8), D(2026, 11, 15)):
        take_snapshot(tiny_duck, day, catalogues=cats)
    assert previous_snapshot_date(tiny_duck, D(2026, 11, 21)) == D(2026, 11, 15)  # Saturday
    assert previous_snapshot_date(tiny_duck, D(2026, 11, 22)) == D(2026, 11, 15)  # Sunday: not its own
    assert previous_snapshot_date(tiny_duck, D(2026, 11, 23)) == D(2026, 11, 15)  # Monday
    assert previous_snapshot_date(tiny_duck, D(2026, 11, 20)) == D(2026, 11, 8)
    assert previous_snapshot_date(tiny_duck, D(2026, 11, 6)) is None
    assert week_end(D(2026, 11, 21)) == D(2026, 11, 22) and week_end(D(2026, 11, 22)) == D(2026, 11, 22)


def test_cli_snapshot_refuses_a_second_one(tmp_path) -> None:
    db = str(tmp_path / "k.duckdb")
    r = CliRunner().invoke(main, ["snapshot", "--db", db, "--as-of", "2026-11-15"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["snapshot", "--db", db, "--as-of", "2026-11-15"])
    assert r.exit_code == 1 and "--replace" in r.output
