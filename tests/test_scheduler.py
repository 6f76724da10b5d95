"""The scheduler with an injected clock: due times by hand, catch-up once, two starts make one run, a failing
job retried with backoff, backups verified and rotated, run now and the runs list for administrators."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import duckdb
import pytest

from metrics.auth.access import AccessDenied, Principal
from metrics.kpi.snapshots import snapshot_dates
from metrics.ops import jobs, scheduler
from metrics.ops.schedule import JOBS, BackupSettings, Cadence, Job, due_times, latest_due
from metrics.ops.scheduler import Scheduler, list_runs, run_now
from metrics.storage import clock
from metrics.storage.store import Store
from tests.browser_support import free_port
from tests.mail_support import SENDER, smtp_server
from tests.support import insert

T = dt.datetime
SNAPSHOT = Job("snapshot", "每周指标快照", Cadence.parse("weekly sun 23:00"))
BACKUP = Job("backup", "每日数据库备份", Cadence.parse("daily 02:00"))
ADMIN = Principal("root.admin", "admin")
HRSS = Principal("hrss", "department", unit="区人力社保局", district="西城区")


class FakeClock:
    def __init__(self, at: dt.datetime):
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        self.at += dt.timedelta(**kw)


def runs(store: Store) -> list[tuple[object, ...]]:
    return store.execute("SELECT job, due, attempt, outcome, triggered_by FROM job_runs ORDER BY run_id")


# --------------------------------------------------------------------------- due times, by hand


def test_due_times_weekly_and_daily_by_hand() -> None:
    # Sunday 2026-11-29 23:00 is the only snapshot due between Saturday and Monday morning
    assert due_times(SNAPSHOT, T(2026, 11, 28), T(2026, 11, 30, 8)) == [T(2026, 11, 29, 23)]
    # since is excluded, now is included
    assert due_times(SNAPSHOT, T(2026, 11, 29, 23), T(2026, 12, 6, 23)) == [T(2026, 12, 6, 23)]
    assert due_times(SNAPSHOT, T(2026, 11, 29, 22, 59), T(2026, 11, 29, 23)) == [T(2026, 11, 29, 23)]
    assert due_times(SNAPSHOT, T(2026, 11, 30), T(2026, 12, 6, 22, 59)) == []
    assert due_times(BACKUP, T(2026, 11, 29, 2), T(2026, 11, 29, 2)) == []
    assert due_times(BACKUP, T(2026, 11, 28, 2, 1), T(2026, 11, 30, 1, 59)) == [T(2026, 11, 29, 2)]


def test_due_times_across_the_year_end() -> None:
    assert due_times(BACKUP, T(2026, 12, 30, 3), T(2027, 1, 1, 2)) == [T(2026, 12, 31, 2), T(2027, 1, 1, 2)]
    monday = Cadence.parse("weekly mon 07:30")  # 2026-12-28 and 2027-01-04 are Mondays
    assert due_times(monday, T(2026, 12, 27), T(2027, 1, 5)) == [T(2026, 12, 28, 7, 30), T(2027, 1, 4, 7, 30)]
    assert due_times(SNAPSHOT, T(2026, 12, 31, 12), T(2027, 1, 10, 23)) == [T(2027, 1, 3, 23), T(2027, 1, 10, 23)]
    assert latest_due(SNAPSHOT, T(2027, 1, 1, 9)) == T(2026, 12, 27, 23)


def test_due_times_of_a_server_down_for_three_weeks() -> None:
    # down from Saturday 2026-10-31 to Monday 2026-11-23 morning: three Sundays and 23 nightly backups missed
    since, now = T(2026, 10, 31, 18), T(2026, 11, 23, 9)
    assert due_times(SNAPSHOT, since, now) == [
        T(2026, 11, 1, 23),
        T(2026, 11, 8, 23),
        T(2026, 11, 15, 23),
        T(2026, 11, 22, 23),
    ]
    assert len(due_times(BACKUP, since, now)) == 23
    # the catch-up runs only the most recent of them
    assert latest_due(SNAPSHOT, now) == T(2026, 11, 22, 23)
    assert latest_due(BACKUP, now) == T(2026, 11, 23, 2)
    # Asia/Shanghai has no daylight saving: every day of the year has its 02:00
    year = due_times(BACKUP, T(2026, 1, 1), T(2027, 1, 1))
    assert len(year) == 365 and all(t.hour == 2 and t.minute == 0 for t in year)


def test_cadence_text_and_defaults() -> None:
    assert Cadence.parse("weekly SUN 23:00") == Cadence("weekly", dt.time(23), 6)
    assert Cadence.parse("daily 2:05") == Cadence("daily", dt.time(2, 5))
    for bad in ("weekly 23:00", "daily sun 02:00", "hourly", "weekly sun 25:00x"):
        with pytest.raises(ValueError, match="计划格式"):
            Cadence.parse(bad)
    assert JOBS["snapshot"].cadence == Cadence("weekly", dt.time(23), 6)
    assert JOBS["backup"].cadence == Cadence("daily", dt.time(2))
    assert JOBS["briefing"].cadence == Cadence("daily", dt.time(7, 30))
    assert [j.label_zh for j in JOBS.values()] == ["每周指标快照", "每日数据库备份", "每周工作简报邮件"]


# --------------------------------------------------------------------------- catch-up, once


def test_a_snapshot_missed_while_down_is_made_at_start_once(tiny_duck: Store, tmp_path: Path) -> None:
    now = FakeClock(T(2026, 11, 25, 10))  # a Wednesday: last Sunday's 23:00 snapshot was never made
    s = Scheduler(tiny_duck, jobs={"snapshot": SNAPSHOT}, now=now, backup=BackupSettings(tmp_path / "b"))
    made = s.run_due()
    assert [(r["job"], r["due"], r["outcome"], r["triggered_by"]) for r in made] == [
        ("snapshot", T(2026, 11, 22, 23), "ok", "catch-up")
    ]
    assert made[0]["detail"]["snapshot_date"] == "2026-11-22" and made[0]["detail"]["kpis"] > 100
    assert snapshot_dates(tiny_duck) == [dt.date(2026, 11, 22)]
    taken = tiny_duck.execute("SELECT count(*), min(taken_at) FROM kpi_snapshots")[0]
    assert s.run_due() == []  # the same pass again
    restarted = Scheduler(tiny_duck, jobs={"snapshot": SNAPSHOT}, now=now, backup=BackupSettings(tmp_path / "b"))
    assert restarted.run_due() == []  # a restart: the catch-up is already done
    assert tiny_duck.execute("SELECT count(*), min(taken_at) FROM kpi_snapshots")[0] == taken
    assert runs(tiny_duck) == [("snapshot", T(2026, 11, 22, 23), 1, "ok", "catch-up")]
    # the next Sunday's run is the schedule's
    now.at = T(2026, 11, 29, 23, 0, 5)
    assert [r["triggered_by"] for r in s.run_due()] == ["schedule"]
    assert snapshot_dates(tiny_duck) == [dt.date(2026, 11, 22), dt.date(2026, 11, 29)]


def test_a_snapshot_already_stored_is_kept(tiny_duck: Store, tmp_path: Path) -> None:
    from metrics.kpi.snapshots import take_snapshot

    with clock.pinned(T(2026, 11, 22, 12)):
        take_snapshot(tiny_duck, dt.date(2026, 11, 22))
    before = tiny_duck.execute("SELECT count(*), min(taken_at) FROM kpi_snapshots")[0]
    s = Scheduler(
        tiny_duck, jobs={"snapshot": SNAPSHOT}, now=lambda: T(2026, 11, 23, 8), backup=BackupSettings(tmp_path)
    )
    [run] = s.run_due()
    assert run["outcome"] == "ok" and run["detail"]["already_stored"] is True
    assert tiny_duck.execute("SELECT count(*), min(taken_at) FROM kpi_snapshots")[0] == before


def test_two_scheduler_starts_at_once_make_one_snapshot(tiny_duck: Store, tmp_path: Path) -> None:
    now = lambda: T(2026, 11, 24, 9)  # noqa: E731
    gate = threading.Barrier(2)

    def sleep(_seconds: float) -> bool:
        return True  # one pass, then stop

    schedulers = [
        Scheduler(tiny_duck, jobs={"snapshot": SNAPSHOT}, now=now, sleep=sleep, backup=BackupSettings(tmp_path))
        for _ in range(2)
    ]
    real_claim = scheduler.claim

    def claim_together(*args: object, **kw: object) -> int | None:
        gate.wait(timeout=10)  # both threads reach the claim before either takes it
        return real_claim(*args, **kw)  # type: ignore[arg-type]

    scheduler.claim = claim_together  # type: ignore[assignment]
    try:
        for s in schedulers:
            assert s.start() is True
            assert s.start() is False  # a second start of the same scheduler does nothing
        for s in schedulers:
            s.stop(timeout=60)
    finally:
        scheduler.claim = real_claim  # type: ignore[assignment]
    assert runs(tiny_duck) == [("snapshot", T(2026, 11, 22, 23), 1, "ok", "catch-up")]
    assert tiny_duck.execute("SELECT count(DISTINCT taken_at), count(*) > 100 FROM kpi_snapshots")[0] == (1, True)


def test_the_unique_rule_refuses_a_second_claim_of_the_same_attempt(tiny_duck: Store) -> None:
    assert scheduler.claim(tiny_duck, "snapshot", T(2026, 11, 22, 23), "schedule", T(2026, 11, 23)) is not None
    with pytest.raises(duckdb.ConstraintException), tiny_duck.transaction() as cur:
        cur.execute(
            "INSERT INTO job_runs (job, due, attempt, started_at, outcome, triggered_by, pid) "
            "VALUES ('snapshot', ?, 1, ?, 'running', 'schedule', 1)",
            [T(2026, 11, 22, 23), T(2026, 11, 23)],
        )


def test_a_run_left_running_by_a_dead_server_is_retried(tiny_duck: Store, tmp_path: Path) -> None:
    with tiny_duck.transaction() as cur:
        cur.execute(
            "INSERT INTO job_runs (job, due, attempt, started_at, outcome, triggered_by, pid) "
            "VALUES ('snapshot', ?, 1, ?, 'running', 'schedule', -1)",
            [T(2026, 11, 22, 23), T(2026, 11, 22, 23)],
        )
    now = FakeClock(T(2026, 11, 23, 8))
    s = Scheduler(tiny_duck, jobs={"snapshot": SNAPSHOT}, now=now, backup=BackupSettings(tmp_path))
    assert s.run_due() == []  # marked failed at start; its retry waits a minute
    now.advance(minutes=1)
    assert [r["attempt"] for r in s.run_due()] == [2]
    assert [r[3] for r in runs(tiny_duck)] == ["failed", "ok"]
    assert "interrupted" in tiny_duck.execute("SELECT error FROM job_runs WHERE attempt = 1")[0][0]


# --------------------------------------------------------------------------- failure, backoff, retry


def test_a_failing_backup_is_recorded_and_retried_with_backoff(tiny_duck: Store, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the backup folder should be")
    now = FakeClock(T(2026, 11, 24, 2, 0, 10))
    s = Scheduler(tiny_duck, jobs={"backup": BACKUP}, now=now, backup=BackupSettings(blocker / "backups"))
    [first] = s.run_due()
    assert first["outcome"] == "failed" and first["attempt"] == 1 and "not-a-folder" in first["error"]
    assert first["finished_at"] == now.at and first["triggered_by"] == "catch-up"
    now.advance(seconds=59)
    assert s.run_due() == []  # inside the first backoff (1 minute)
    now.advance(seconds=1)
    assert [(r["attempt"], r["outcome"]) for r in s.run_due()] == [(2, "failed")]
    now.advance(minutes=4)
    assert s.run_due() == []  # the second backoff is 5 minutes
    now.advance(minutes=1)
    assert [(r["attempt"], r["outcome"]) for r in s.run_due()] == [(3, "failed")]
    blocker.unlink()  # fixed
    now.advance(minutes=14)
    assert s.run_due() == []
    now.advance(minutes=1)
    [fixed] = s.run_due()
    assert (fixed["attempt"], fixed["outcome"], fixed["error"]) == (4, "ok", None)
    assert Path(fixed["detail"]["file"]) == blocker / "backups" / "kpi-20261124-0200.duckdb"
    assert s.run_due() == []
    assert [r[2:4] for r in runs(tiny_duck)] == [(1, "failed"), (2, "failed"), (3, "failed"), (4, "ok")]


def test_a_job_that_keeps_failing_stops_after_its_attempts(tiny_duck: Store, tmp_path: Path) -> None:
    blocker = tmp_path / "f"
    blocker.write_text("x")
    now = FakeClock(T(2026, 11, 24, 3))
    s = Scheduler(tiny_duck, jobs={"backup": BACKUP}, now=now, backup=BackupSettings(blocker))
    for _ in range(10):
        s.run_due()
        now.advance(minutes=16)
    assert [r[2:4] for r in runs(tiny_duck)] == [(n, "failed") for n in range(1, scheduler.MAX_ATTEMPTS + 1)]
    now.at = T(2026, 11, 25, 2, 1)  # the next night is a new due time with its own attempts
    assert [(r["due"], r["attempt"]) for r in s.run_due()] == [(T(2026, 11, 25, 2), 1)]


def test_a_job_missed_for_longer_than_its_catch_up_window_is_skipped(tiny_duck: Store, tmp_path: Path) -> None:
    briefing = Job("briefing", "每周工作简报邮件", Cadence.parse("weekly mon 07:30"), dt.timedelta(days=3))
    s = Scheduler(
        tiny_duck, jobs={"briefing": briefing}, now=lambda: T(2026, 11, 28, 9), backup=BackupSettings(tmp_path)
    )
    [run] = s.run_due()  # Monday 07:30 was missed by four days
    assert run["outcome"] == "skipped" and "missed" in run["error"]


def test_the_briefing_job_is_skipped_without_smtp_settings(
    tiny_duck: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KPI_SECRETS", str(tmp_path / "none.toml"))
    s = Scheduler(
        tiny_duck,
        jobs={"briefing": JOBS["briefing"]},
        now=lambda: T(2026, 11, 30, 7, 31),
        backup=BackupSettings(tmp_path),
    )
    [run] = s.run_due()
    assert run["outcome"] == "skipped" and run["triggered_by"] == "catch-up"
    assert "no SMTP settings" in run["error"]
    assert s.run_due() == []  # skipped is final for that day


# --------------------------------------------------------------------------- backups: verify, rotate, list


def _fill(store: Store) -> None:
    insert(
        store,
        "disputes",
        [{"case_id": f"ZC-{i}", "district": "通州区", "accepted_date": dt.date(2026, 1, 2)} for i in range(3)],
    )


def test_backups_rotate_keeping_14_daily_and_the_weekly_ones(tiny_duck: Store, tmp_path: Path) -> None:
    _fill(tiny_duck)
    folder = tmp_path / "backups"
    (folder).mkdir()
    strangers = [folder / "kpi-2026-11-01.duckdb", folder / "notes.txt", folder / "kpi-20261101-0200.duckdb.bak"]
    for p in strangers:
        p.write_text("not made by the job")
    now = FakeClock(T(2026, 11, 1, 2, 30))
    s = Scheduler(
        tiny_duck, jobs={"backup": BACKUP}, now=now, backup=BackupSettings(folder, keep_daily=14, keep_weekly=8)
    )
    for day in range(20):  # 20 nightly backups, 2026-11-01 … 2026-11-20
        now.at = T(2026, 11, 1 + day, 2, 30)
        [run] = s.run_due()
        assert run["outcome"] == "ok", run["error"]
    kept = sorted(p.name for p in folder.glob("kpi-2026????-????.duckdb"))
    # the newest 14 (11-07 … 11-20) and the first of each ISO week: 11-01 (week 44), 11-02 (45), 11-09, 11-16
    assert kept == [f"kpi-202611{d:02d}-0200.duckdb" for d in (1, 2, *range(7, 21))]
    assert all(p.exists() for p in strangers)  # only the job's own files are rotated
    assert not (folder / "kpi-20261103-0200.duckdb.json").exists()
    for name in kept:
        meta = json.loads((folder / (name + ".json")).read_text(encoding="utf-8"))
        assert meta["verified"] and meta["counts"]["disputes"] == 3
        con = duckdb.connect(str(folder / name), read_only=True)
        try:
            assert con.execute("SELECT count(*) FROM disputes").fetchone() == (3,)
        finally:
            con.close()


def test_list_backups_for_the_admin_page(tiny_duck: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fill(tiny_duck)
    folder = tmp_path / "backups"
    monkeypatch.setenv("KPI_BACKUP_DIR", str(folder))
    settings = BackupSettings.for_db(tiny_duck.path)
    assert settings.folder == folder and (settings.keep_daily, settings.keep_weekly) == (14, 8)
    for day in (16, 17, 18):
        jobs.backup(tiny_duck, T(2026, 11, day, 2), settings)
    with clock.pinned(T(2026, 11, 18, 15, 4, 5)):
        record = run_now(tiny_duck, ADMIN, "backup")
    assert record["outcome"] == "ok" and record["triggered_by"] == "root.admin"
    listed = jobs.list_backups(tiny_duck, ADMIN)
    assert [(b["name"], b["kind"]) for b in listed] == [
        ("manual-kpi-20261118-150405.duckdb", "manual"),
        ("kpi-20261118-0200.duckdb", "daily"),
        ("kpi-20261117-0200.duckdb", "daily"),
        ("kpi-20261116-0200.duckdb", "weekly"),  # the first of ISO week 47
    ]
    assert all(b["verified"] and b["counts"]["disputes"] == 3 and b["size"] > 0 for b in listed)
    with pytest.raises(AccessDenied):
        jobs.list_backups(tiny_duck, HRSS)
    assert tiny_duck.execute("SELECT user_name, action, allowed FROM access_log") == [("hrss", "backup.run", False)]


def test_a_backup_whose_counts_differ_fails_verification(tiny_duck: Store, tmp_path: Path) -> None:
    _fill(tiny_duck)
    from metrics.storage.backup import backup

    out = tmp_path / "b.duckdb"
    copied = backup(tiny_duck, out)
    assert jobs.verify(out, copied) == copied
    with pytest.raises(jobs.BackupVerifyError, match="备份校验失败.*disputes"):
        jobs.verify(out, {**copied, "disputes": 4})
    with pytest.raises(jobs.BackupVerifyError, match="备份校验失败.*ghost"):
        jobs.verify(out, {**copied, "ghost": 1})


# --------------------------------------------------------------------------- run now, the runs list


def test_run_now_and_list_runs_are_for_administrators(tiny_duck: Store) -> None:
    with clock.pinned(T(2026, 11, 25, 16)):
        record = run_now(tiny_duck, ADMIN, "snapshot")
    assert (record["job"], record["label_zh"], record["outcome"], record["due"]) == (
        "snapshot",
        "每周指标快照",
        "ok",
        T(2026, 11, 25, 16),
    )
    assert snapshot_dates(tiny_duck) == [dt.date(2026, 11, 25)]
    assert tiny_duck.execute("SELECT user_name, entity, entity_key, action FROM change_log") == [
        ("root.admin", "job_runs", str(record["run_id"]), "run_job")
    ]
    [listed] = list_runs(tiny_duck, ADMIN)
    assert listed == record
    for call in (lambda: run_now(tiny_duck, HRSS, "backup"), lambda: list_runs(tiny_duck, Principal("o", "office"))):
        with pytest.raises(AccessDenied):
            call()
    assert tiny_duck.execute("SELECT user_name, action, allowed FROM access_log ORDER BY access_id") == [
        ("hrss", "jobs.run", False),
        ("o", "jobs.read", False),
    ]
    with pytest.raises(KeyError, match="no job"):
        run_now(tiny_duck, ADMIN, "nonsense")


# --------------------------------------------------------------------------- the briefing job, against aiosmtpd


def _secrets(path: Path, port: int) -> Path:
    path.write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nsender = "{SENDER}"\ntimeout = 5\n',
        encoding="utf-8",
    )
    return path


def test_the_briefing_job_mails_subscribers_once_and_retries_a_failed_send(
    tiny_duck: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from metrics.auth.users import create_demo_accounts
    from metrics.reports.subscriptions import subscribe

    with clock.pinned(T(2026, 11, 20, 9)):
        create_demo_accounts(tiny_duck)
        subscribe(tiny_duck, ADMIN, "leader", "leader@example.gov.cn", (), 1)  # Mondays, every programme
    now = FakeClock(T(2026, 11, 30, 7, 30, 20))
    briefing = Scheduler(tiny_duck, jobs={"briefing": JOBS["briefing"]}, now=now, backup=BackupSettings(tmp_path))
    # the SMTP server is down at 07:30: the run fails with the reader's error and is retried after a minute
    monkeypatch.setenv("KPI_SECRETS", str(_secrets(tmp_path / "secrets.toml", free_port())))
    [failed] = briefing.run_due()
    assert failed["outcome"] == "failed" and "leader" in failed["error"]
    assert failed["detail"]["as_of"] == "2026-11-29"
    with smtp_server() as srv:
        monkeypatch.setenv("KPI_SECRETS", str(_secrets(tmp_path / "secrets.toml", srv.port)))
        now.advance(minutes=4, seconds=59)
        assert briefing.run_due() == []  # the briefing waits as the delivery does: 5 minutes
        now.advance(seconds=1)
        [sent] = briefing.run_due()
        assert (sent["attempt"], sent["outcome"], sent["detail"]["result"]["sent"]) == (2, "ok", ["leader"])
        assert [rcpt for _, rcpt, _ in srv.received.messages] == [["leader@example.gov.cn"]]
        assert str(srv.received.messages[0][2]["subject"]) == "就业工作周报（截至2026年11月29日）"
        now.advance(hours=2)
        assert briefing.run_due() == []  # done for Monday
        now.at = T(2026, 12, 1, 7, 30, 5)  # Tuesday's run: Monday's reader already had this week's
        [tuesday] = briefing.run_due()
        assert tuesday["outcome"] == "ok" and tuesday["detail"]["result"]["already"] == ["leader"]
        assert len(srv.received.messages) == 1
