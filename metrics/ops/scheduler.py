"""The scheduler inside the server: a plain thread that runs each job once per due time, records every attempt
in job_runs, catches up at start, and retries a failed run with backoff. See docs/server.md, "Scheduler".

A plain thread rather than APScheduler: job_runs is the one record of what ran (the admin page reads it),
and a claim in it — one transaction — is what makes a run happen once; APScheduler's own job store and
misfire rules would be a second, competing record. The clock and the sleep are injected, so tests drive a
week in milliseconds.

    >>> s = Scheduler(store, now=clock.now)
    >>> s.run_due()          # what is due now (at start: the catch-up), each claimed once
    >>> s.start(); s.stop()  # the server's thread (dashboard/lifecycle.py)
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from metrics.auth.access import Principal, check
from metrics.auth.access_log import logged_refusals
from metrics.ops import jobs as job_bodies
from metrics.ops.schedule import JOBS, BackupSettings, Job, due_times, latest_due
from metrics.storage import changelog, clock
from metrics.storage.store import Store

__all__ = ["BACKOFF", "MAX_ATTEMPTS", "Scheduler", "claim", "list_runs", "run_now"]

log = logging.getLogger(__name__)

# A failed run is tried again after 1, 5 and 15 minutes: four attempts per due time at most (a job may set its
# own waits: the briefing uses the mail delivery's).
BACKOFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=15))
MAX_ATTEMPTS = 1 + len(BACKOFF)
DONE = ("ok", "running", "skipped")  # a due time with one of these is never started again
POLL_SECONDS = 30.0

_COLUMNS = "run_id, job, due, attempt, started_at, finished_at, outcome, error, detail, triggered_by"

Now = Callable[[], dt.datetime]


def _record(row: tuple[Any, ...]) -> dict[str, Any]:
    rec = dict(zip(_COLUMNS.split(", "), row, strict=True))
    rec["detail"] = json.loads(rec["detail"]) if rec["detail"] else None
    job = JOBS.get(rec["job"])
    rec["label_zh"] = job.label_zh if job else rec["job"]
    return rec


def _get(store: Store, run_id: int) -> dict[str, Any]:
    rows = store.execute(f"SELECT {_COLUMNS} FROM job_runs WHERE run_id = ?", [run_id])  # noqa: S608
    return _record(rows[0])


def claim(
    store: Store,
    job: str,
    due: dt.datetime,
    triggered_by: str,
    now: dt.datetime,
    *,
    wait_backoff: bool = True,
    backoff: tuple[dt.timedelta, ...] = BACKOFF,
) -> int | None:
    """Start attempt n+1 of (job, due) in one transaction, or None when it must not start: done already
    (ok, running, skipped), out of attempts (1 + len(backoff)), or still inside the backoff after the last
    failure."""
    with store.transaction() as cur:
        rows = cur.execute(
            "SELECT attempt, outcome, finished_at FROM job_runs WHERE job = ? AND due = ? ORDER BY attempt",
            [job, due],
        ).fetchall()
        if any(outcome in DONE for _, outcome, _ in rows) or len(rows) > len(backoff):
            return None
        if rows and wait_backoff and now < rows[-1][2] + backoff[len(rows) - 1]:
            return None
        row = cur.execute(
            "INSERT INTO job_runs (job, due, attempt, started_at, outcome, triggered_by, pid) "
            "VALUES (?, ?, ?, ?, 'running', ?, ?) RETURNING run_id",
            [job, due, len(rows) + 1, now, triggered_by, os.getpid()],
        ).fetchone()
        assert row is not None
        if triggered_by not in ("schedule", "catch-up"):  # a person's "run now" is in the change log
            changelog.record(
                cur, triggered_by, "job_runs", row[0], changelog.Action.RUN_JOB, None, {"job": job, "due": due}
            )
    return int(row[0])


def _finish(
    store: Store, run_id: int, now: dt.datetime, outcome: str, error: str | None, detail: Mapping[str, Any] | None
) -> None:
    with store.transaction() as cur:
        cur.execute(
            "UPDATE job_runs SET finished_at = ?, outcome = ?, error = ?, detail = ?::JSON WHERE run_id = ?",
            [now, outcome, error, json.dumps(detail, ensure_ascii=False) if detail is not None else None, run_id],
        )


def _interrupted(store: Store, now: dt.datetime) -> int:
    """Runs left 'running' by a process that is gone (only one process holds the database): failed, so
    they are retried."""
    with store.transaction() as cur:
        rows = cur.execute(
            "UPDATE job_runs SET outcome = 'failed', finished_at = ?, "
            "error = '服务在运行中停止，任务未完成 / interrupted: the server stopped during the run' "
            "WHERE outcome = 'running' AND pid <> ? RETURNING run_id",
            [now, os.getpid()],
        ).fetchall()
    return len(rows)


def _execute(
    store: Store, job: Job, due: dt.datetime, run_id: int, now: Now, backup: BackupSettings, *, manual: bool
) -> dict[str, Any]:
    """Run the job's body for claimed run `run_id` and record how it ended; never raises."""
    outcome, error, detail = "ok", None, None
    try:
        if job.name == "snapshot":
            detail = job_bodies.snapshot(store, due)
        elif job.name == "backup":
            detail = job_bodies.backup(store, due, backup, manual=manual, now=now())
        elif job.name == "briefing":
            detail = job_bodies.briefing(store, due, now())
        else:
            raise KeyError(f"no body for job {job.name!r}")
    except job_bodies.Skipped as exc:
        outcome, error = "skipped", str(exc)
    except job_bodies.BriefingFailed as exc:
        outcome, error, detail = "failed", str(exc)[:4000], exc.detail
    except Exception as exc:  # a failed run is recorded with its error text and retried; never the thread
        log.warning("job %s (due %s) failed: %s", job.name, due, exc)
        outcome, error = "failed", f"{type(exc).__name__}: {exc}"[:4000]
    _finish(store, run_id, now(), outcome, error, detail)
    return _get(store, run_id)


class Scheduler:
    """Runs `jobs` on `store`: at start the most recent due time each job missed (once), then each new due
    time, and failed runs again after their backoff. `now` and `sleep` are injectable."""

    def __init__(
        self,
        store: Store | Callable[[], Store | None],
        *,
        jobs: Mapping[str, Job] | None = None,
        now: Now = clock.now,
        sleep: Callable[[float], bool] | None = None,
        backup: BackupSettings | None = None,
        poll_seconds: float = POLL_SECONDS,
    ):
        # a function gives the process's current Store at each pass: a restore on the admin page reopens it
        self._store = store
        self.jobs = dict(jobs if jobs is not None else JOBS)
        self.now = now
        self._backup = backup
        self.poll_seconds = poll_seconds
        self._stopping = threading.Event()
        # sleep(seconds) -> True when asked to stop; the default wakes at once on stop()
        self._sleep = sleep or self._stopping.wait
        self._thread: threading.Thread | None = None
        self._started_at: dt.datetime | None = None

    @property
    def store(self) -> Store:
        store = self._store if isinstance(self._store, Store) else self._store()
        if store is None:
            raise RuntimeError("no database")
        return store

    @property
    def backup(self) -> BackupSettings:
        return self._backup or BackupSettings.for_db(self.store.path)

    def run_due(self) -> list[dict[str, Any]]:
        """Claim and run what is due now: for each job its most recent due time (a catch-up at start; one run,
        not one per missed time), if not done and not in backoff. Returns the runs made."""
        now, store = self.now(), self.store
        if self._started_at is None:
            self._started_at = now
            _interrupted(store, now)
        backup = self._backup or BackupSettings.for_db(store.path)
        made = []
        for job in self.jobs.values():
            due = latest_due(job, now)
            trigger = "catch-up" if due < self._started_at else "schedule"
            # the pass's `now` picks the due times; the claim stamps its own start (jobs run one after another)
            run_id = claim(store, job.name, due, trigger, self.now(), backoff=job.backoff or BACKOFF)
            if run_id is None:
                continue
            if job.catch_up_within is not None and now - due > job.catch_up_within:
                _finish(store, run_id, now, "skipped", f"错过时间过久，不再补做 / missed by {now - due}", None)
                made.append(_get(store, run_id))
                continue
            made.append(_execute(store, job, due, run_id, self.now, backup, manual=False))
        return made

    def seconds_to_next(self) -> float:
        """How long the thread may sleep: until the next due time, at most poll_seconds (retries are polled)."""
        now = self.now()
        nexts = [due_times(j, now, now + j.cadence.period)[0] for j in self.jobs.values()]
        wait = (min(nexts) - now).total_seconds() if nexts else self.poll_seconds
        return max(1.0, min(self.poll_seconds, wait))

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_due()
            except Exception:  # the database briefly unavailable, say: try again at the next wake-up
                log.exception("scheduler pass failed")
            if self._sleep(self.seconds_to_next()):
                break

    def start(self) -> bool:
        """Start the thread (once; a second call does nothing and returns False)."""
        if self._thread is not None:
            return False
        self._thread = threading.Thread(target=self._loop, name="kpi-scheduler", daemon=True)
        self._thread.start()
        return True

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop and wait for the job it may be running."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


@logged_refusals
def run_now(store: Store, actor: Principal, job_name: str) -> dict[str, Any]:
    """Run a job now for an administrator (permission jobs.run), in the caller's thread; returns its run
    record. A backup made this way is a manual one, never rotated. Due time: this second."""
    check(actor, "jobs.run")
    job = JOBS.get(job_name)
    if job is None:
        raise KeyError(f"没有这个定时任务 / no job {job_name!r}: {sorted(JOBS)}")
    now = clock.now()
    due = now.replace(microsecond=0)
    run_id = claim(store, job.name, due, actor.user, now, wait_backoff=False)
    if run_id is None:  # the same second's second click: the run it started
        rows = store.execute(
            f"SELECT {_COLUMNS} FROM job_runs WHERE job = ? AND due = ? ORDER BY attempt DESC LIMIT 1",  # noqa: S608
            [job.name, due],
        )
        return _record(rows[0])
    backup = BackupSettings.for_db(store.path)
    return _execute(store, job, due, run_id, clock.now, backup, manual=True)


@logged_refusals
def list_runs(store: Store, actor: Principal, limit: int = 100) -> list[dict[str, Any]]:
    """The newest job runs first, for the admin page (permission jobs.read): run_id, job, label_zh, due,
    attempt, started_at, finished_at, outcome, error, detail, triggered_by."""
    check(actor, "jobs.read")
    rows = store.execute(
        f"SELECT {_COLUMNS} FROM job_runs ORDER BY run_id DESC LIMIT ?",  # noqa: S608
        [max(1, min(int(limit), 10_000))],
    )
    return [_record(r) for r in rows]
