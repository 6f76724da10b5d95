"""The `kpi` commands while the real server holds the database: they reach it through the operators' loopback
endpoint (token file, Bearer token, loopback only) or fail within 20 s with a message naming the admin page;
the server keeps serving. Also the token file and the endpoint's refusals, and the scheduler's catch-up at
the real server's start."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from metrics.auth.users import create_demo_accounts
from metrics.cli.common import operator_name
from metrics.ops import endpoint
from metrics.storage.store import Store
from tests.browser_support import ROOT, free_port, serve
from tests.support import write_csv

LIMIT_SECONDS = 20


def kpi(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run the real `kpi` command in its own process; its result and how long it took."""
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "metrics.cli.main", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, time.monotonic() - t0


def get(url: str, **headers: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def post(url: str, body: dict[str, Any], **headers: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ops") / "kpi.duckdb"
    with Store.open(path) as store:
        create_demo_accounts(store)
    return path


@pytest.fixture(scope="module")
def served(db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`python -m dashboard.serve` (what `make run` runs) on a free loopback port, holding `db`, scheduler on."""
    logs = tmp_path_factory.mktemp("ops-server")
    backups = logs / "backups"
    env = {
        "KPI_DB": str(db),
        "KPI_BACKUP_DIR": str(backups),
        "KPI_SECRETS": str(logs / "no-secrets.toml"),
        "KPI_SCHEDULER": "on",
    }
    ready = lambda s: get(s.url + "/healthz")[0] == 200 and endpoint.token_file(db).exists()  # noqa: E731
    with serve(env, logs / "server.log", ready=ready) as s:
        yield {"url": s.url, "port": s.port, "proc": s.proc, "backups": backups, "log": s.log}


def test_the_token_file_is_private_and_names_the_loopback_port(db: Path, served: dict[str, Any]) -> None:
    path = endpoint.token_file(db)
    assert path.name == "kpi.duckdb.server.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    info = json.loads(path.read_text())
    assert (info["host"], info["port"], info["pid"]) == ("127.0.0.1", served["port"], served["proc"].pid)
    assert len(info["token"]) >= 40


def test_the_endpoint_wants_the_token_and_a_loopback_client(db: Path, served: dict[str, Any]) -> None:
    url = served["url"] + "/api/ops/snapshot"
    token = json.loads(endpoint.token_file(db).read_text())["token"]
    body = {"day": "2026-11-01", "operator": "cli:tester"}
    assert post(url, body)[0] == 401
    assert post(url, body, Authorization="Bearer " + token[:-1] + "x")[0] == 401
    assert post(url, body, Authorization=token)[0] == 401  # not a Bearer header
    # what nginx forwards from a browser is not a loopback client, token or not
    status, answer = post(url, body, Authorization="Bearer " + token, **{"X-Forwarded-For": "203.0.113.9"})
    assert status == 403 and "仅限本机" in answer["error"]
    status, answer = post(url, {"day": "2026-11-01", "operator": "root; rm -rf"}, Authorization="Bearer " + token)
    assert status == 400 and "cli:" in answer["error"]


def test_kpi_commands_work_through_the_running_server(db: Path, served: dict[str, Any], tmp_path: Path) -> None:
    done, took = kpi("snapshot", "--db", str(db), "--as-of", "2026-11-21")
    assert done.returncode == 0, done.stderr
    assert "已保存 2026-11-21 的快照" in done.stdout and took < LIMIT_SECONDS
    done, took = kpi("snapshot", "--db", str(db), "--as-of", "2026-11-21")
    assert done.returncode == 1 and "已存在" in done.stderr and "--replace" in done.stderr and took < LIMIT_SECONDS
    assert kpi("snapshot", "--db", str(db), "--as-of", "2026-11-21", "--replace")[0].returncode == 0

    out = tmp_path / "copy.duckdb"
    done, took = kpi("backup", "--db", str(db), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "已备份" in done.stdout and "kpi_snapshots" in done.stdout and took < LIMIT_SECONDS
    with Store.open(out, read_only=True) as copy:
        assert copy.execute(
            "SELECT count(DISTINCT snapshot_date) FROM kpi_snapshots WHERE snapshot_date = ?", ["2026-11-21"]
        ) == [(1,)]
        assert copy.execute("SELECT count(*) FROM users WHERE user_name = 'hrss'") == [(1,)]

    # a department account may not back up: refused, logged (checked after the server stops), pointed to /admin
    done, took = kpi("backup", "--db", str(db), "--out", str(tmp_path / "no.duckdb"), "--user", "hrss")
    assert done.returncode == 1 and "无权限" in done.stderr and "/admin" in done.stderr and took < LIMIT_SECONDS
    assert not (tmp_path / "no.duckdb").exists()

    html = tmp_path / "weekly.html"
    done, _ = kpi("report", "weekly", "--db", str(db), "--as-of", "2026-11-21", "--out", str(html), "--user", "leader")
    assert done.returncode == 0, done.stderr
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    done, _ = kpi("report", "weekly", "--db", str(db), "--out", str(tmp_path / "p.html"), "--user", "press")
    assert done.returncode == 1 and "无权限" in done.stderr

    head = ["岗位信息编号", "所属区", "统一社会信用代码", "采集日期", "所属行业", "岗位数量"]
    own = write_csv(
        tmp_path / "vacancies.csv", head, [["V-OPS-1", "西城区", "91110112MA00000001", "2026-03-01", "制造业", "5"]]
    )
    other = write_csv(
        tmp_path / "vacancies_tz.csv", head, [["V-OPS-2", "通州区", "91110112MA00000001", "2026-03-01", "制造业", "5"]]
    )
    done, took = kpi("import", "--db", str(db), "--user", "hrss", str(own))
    assert done.returncode == 0 and "新增 1" in done.stdout + done.stderr, done.stdout + done.stderr
    assert took < LIMIT_SECONDS
    done, _ = kpi("import", "--db", str(db), "--user", "hrss", str(other))
    assert done.returncode == 1 and "只能上传西城区的数据" in done.stderr
    done, _ = kpi("import", "--db", str(db), str(other))  # the operator
    assert done.returncode == 0, done.stderr

    status, health = get(served["url"] + "/healthz")
    assert status == 200 and health["status"] == "ok"  # the server kept serving


def test_after_the_server_stops(db: Path, served: dict[str, Any], tmp_path: Path) -> None:
    """Stop the server: the token file goes, the refusals and uploads are recorded, the start-up catch-up ran;
    then a stale token file is ignored, and a database held without an endpoint fails in time with the message."""
    proc = served["proc"]
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert not endpoint.token_file(db).exists()
    with Store.open(db, read_only=True) as store:
        assert ("hrss", "backup.run", False) in store.execute("SELECT user_name, action, allowed FROM access_log")
        assert store.execute("SELECT user_name, district FROM uploads ORDER BY upload_id") == [
            ("hrss", "西城区"),
            (operator_name(), None),
        ]
        jobs = {
            job: outcome for job, outcome, trigger in store.execute("SELECT job, outcome, triggered_by FROM job_runs")
        }
        assert jobs.get("snapshot") == "ok" and jobs.get("backup") == "ok", jobs  # caught up at start
    assert any(served["backups"].glob("kpi-*.duckdb"))

    # a token file left by a killed server: nothing listens, so the command opens the file itself
    endpoint.token_file(db).write_text(json.dumps({"host": "127.0.0.1", "port": free_port(), "token": "x", "pid": 1}))
    try:
        done, took = kpi("snapshot", "--db", str(db), "--as-of", "2026-11-08")
        assert done.returncode == 0, done.stderr
        assert took < LIMIT_SECONDS
    finally:
        endpoint.token_file(db).unlink()

    # a process that holds the database and has no endpoint (an older server, say): the default wait, then a
    # message in Chinese and English that names the admin page
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; from metrics.storage.store import Store; s=Store.open(sys.argv[1]); print('held', flush=True); time.sleep(120)",
            str(db),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        for args in (["snapshot", "--as-of", "2026-11-15"], ["backup", "--out", str(tmp_path / "held.duckdb")]):
            done, took = kpi(*args, "--db", str(db))
            assert done.returncode == 1 and took < LIMIT_SECONDS, (args, took, done.stderr)
            assert "系统管理" in done.stderr and "/admin" in done.stderr and "admin page" in done.stderr
        assert not (tmp_path / "held.duckdb").exists()
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()


def test_the_server_starts_one_scheduler_however_often_asked(
    tiny_duck: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lifecycle.start_scheduler from several threads at once: one scheduler thread, one catch-up run per job;
    stop() ends it and a later start makes a new one."""
    import threading

    from dashboard import lifecycle, process

    monkeypatch.setattr(process, "store", lambda: tiny_duck)
    monkeypatch.setenv("KPI_BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setenv("KPI_SECRETS", str(tmp_path / "none.toml"))
    monkeypatch.delenv("KPI_SCHEDULER", raising=False)
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(lifecycle.start_scheduler())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert sorted(results) == [False, False, False, True]
        running = lifecycle.scheduler()
        assert running is not None and running.running
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline
            and len(tiny_duck.execute("SELECT 1 FROM job_runs WHERE outcome <> 'running'")) < 3
        ):
            time.sleep(0.2)
        assert sorted(tiny_duck.execute("SELECT job, attempt, triggered_by FROM job_runs")) == [
            ("backup", 1, "catch-up"),
            ("briefing", 1, "catch-up"),
            ("snapshot", 1, "catch-up"),
        ]
    finally:
        lifecycle.stop()
    assert lifecycle.scheduler() is None and not running.running
    monkeypatch.setenv("KPI_SCHEDULER", "off")
    assert lifecycle.start_scheduler() is False
