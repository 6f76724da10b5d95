"""The scheduled jobs as data: what runs, when (Beijing time), and how long a missed run may still be caught up.

Times are naive Beijing time like every stamp of the product (metrics.storage.clock, docs/time.md); Beijing
has no daylight saving, so a cadence is plain calendar arithmetic. `due_times` is pure and hand-tested.

    >>> due_times(JOBS["snapshot"], dt.datetime(2026, 11, 28), dt.datetime(2026, 11, 30, 8))
    [datetime.datetime(2026, 11, 29, 23, 0)]
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from metrics.reports.subscriptions import BACKOFF as MAIL_BACKOFF

__all__ = [
    "JOBS",
    "BackupSettings",
    "Cadence",
    "Job",
    "due_times",
    "latest_due",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@dataclass(frozen=True)
class Cadence:
    """Daily at a time, or weekly on a weekday (0 = Monday … 6 = Sunday) at a time."""

    kind: Literal["daily", "weekly"]
    at: dt.time
    weekday: int | None = None

    @classmethod
    def parse(cls, text: str) -> Cadence:
        """'daily 02:00' or 'weekly sun 23:00' (how KPI_SCHEDULE_<JOB> spells a cadence)."""
        m = re.fullmatch(r"\s*(daily|weekly)\s+(?:(mon|tue|wed|thu|fri|sat|sun)\s+)?(\d{1,2}):(\d{2})\s*", text.lower())
        if not m or (m.group(1) == "weekly") != (m.group(2) is not None):
            raise ValueError(
                f"计划格式应为 'daily HH:MM' 或 'weekly sun HH:MM' / expected 'daily HH:MM' or 'weekly sun HH:MM': {text!r}"
            )
        at = dt.time(int(m.group(3)), int(m.group(4)))
        if m.group(1) == "daily":
            return cls("daily", at)
        return cls("weekly", at, WEEKDAYS.index(m.group(2)))

    @property
    def period(self) -> dt.timedelta:
        return dt.timedelta(days=1 if self.kind == "daily" else 7)

    def describe_zh(self) -> str:
        when = self.at.strftime("%H:%M")
        if self.kind == "daily":
            return f"每天 {when}"
        assert self.weekday is not None
        return f"每{WEEKDAYS_ZH[self.weekday]} {when}"


@dataclass(frozen=True)
class Job:
    """One scheduled job: its name in job_runs, its Chinese label (admin page), when it is due, and how late a
    missed run may still be made at start (None: whenever; one run for the most recent due time only)."""

    name: str
    label_zh: str
    cadence: Cadence
    catch_up_within: dt.timedelta | None = None
    backoff: tuple[dt.timedelta, ...] | None = None  # waits before each retry (None: the scheduler's default)


def due_times(job: Job | Cadence, since: dt.datetime, now: dt.datetime) -> list[dt.datetime]:
    """Every due time t of the cadence with since < t <= now, oldest first (naive Beijing times)."""
    cadence = job.cadence if isinstance(job, Job) else job
    if now <= since:
        return []
    day = since.date()
    if cadence.kind == "weekly":
        assert cadence.weekday is not None
        day -= dt.timedelta(days=(day.weekday() - cadence.weekday) % 7)  # the cadence's weekday on or before
    out = []
    t = dt.datetime.combine(day, cadence.at)
    while t <= now:
        if t > since:
            out.append(t)
        t += cadence.period
    return out


def latest_due(job: Job | Cadence, now: dt.datetime) -> dt.datetime:
    """The most recent due time at or before `now` (what the scheduler runs, or catches up at start)."""
    cadence = job.cadence if isinstance(job, Job) else job
    return due_times(cadence, now - cadence.period, now)[-1]


def _cadence(name: str, default: str) -> Cadence:
    return Cadence.parse(os.environ.get(f"KPI_SCHEDULE_{name.upper()}", default))


def _jobs() -> dict[str, Job]:
    jobs = (
        Job("snapshot", "每周指标快照", _cadence("snapshot", "weekly sun 23:00")),
        Job("backup", "每日数据库备份", _cadence("backup", "daily 02:00")),
        # Daily: each reader's subscription names the weekday (Monday by default); deliver_due sends to those
        # whose day has come this week and who have not had it, so a missed morning is made up the next.
        # A failed send is retried on the delivery's own waits, so each retry of the run finds it due.
        Job("briefing", "每周工作简报邮件", _cadence("briefing", "daily 07:30"), backoff=MAIL_BACKOFF),
    )
    return {j.name: j for j in jobs}


# name → definition; the defaults can be moved by KPI_SCHEDULE_SNAPSHOT / _BACKUP / _BRIEFING (docs/server.md).
JOBS: dict[str, Job] = _jobs()


@dataclass(frozen=True)
class BackupSettings:
    """Where scheduled backups go and how many are kept (KPI_BACKUP_DIR, KPI_BACKUP_KEEP_DAILY, _WEEKLY)."""

    folder: Path
    keep_daily: int = 14
    keep_weekly: int = 8

    @classmethod
    def for_db(cls, db: Path | None) -> BackupSettings:
        """The settings for the database at `db`: default folder `<db folder>/backups`."""
        env = os.environ.get("KPI_BACKUP_DIR")
        folder = Path(env) if env else (Path(db).resolve().parent if db is not None else Path("data")) / "backups"
        keep = cls(folder)
        daily = os.environ.get("KPI_BACKUP_KEEP_DAILY")
        weekly = os.environ.get("KPI_BACKUP_KEEP_WEEKLY")
        if daily:
            keep = replace(keep, keep_daily=max(1, int(daily)))
        if weekly:
            keep = replace(keep, keep_weekly=max(0, int(weekly)))
        return keep
