"""Sign-in figures (docs/server.md, "Measured"): the cost per page run of resolving the session cookie, and
the server's memory after 50 sign-ins. Usage:
    python -m tests.bench.sessions [--db data/kpi.duckdb] [--resolves 1000] [--sign-ins 50]

Works on a copy of the database. The resolve figure is measured in this process on a table holding many
sessions and sign-in attempts (a year of a district's use, roughly); the memory figure starts the real
server (dashboard/server.py) on another copy and signs in over HTTP, reading the server's RSS from /proc.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from metrics.auth.access import Principal
from metrics.auth.demo_accounts import DEMO_ACCOUNTS
from metrics.auth.web_sessions import create, resolve
from metrics.storage import clock
from metrics.storage.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _fill(store: Store, sessions: int, attempts: int) -> None:
    """Old sessions and attempts, so the lookups run on tables of a realistic size."""
    start = clock.now() - dt.timedelta(days=365)
    with store.transaction() as cur:
        cur.execute(
            "INSERT INTO web_sessions (token_hash, user_name, created_at, last_seen_at, expires_at, revoked_at, "
            "revoked_by, revoke_reason) SELECT sha256(i::VARCHAR), 'user' || (i % 300), ts, ts, ts + INTERVAL 12 HOUR, "
            "ts + INTERVAL 1 HOUR, 'user' || (i % 300), '退出登录' FROM (SELECT i, ? + i * INTERVAL 5 MINUTE AS ts "
            "FROM range(?) t(i))",
            [start, sessions],
        )
        cur.execute(
            "INSERT INTO login_attempts (attempted_at, user_name, client, ok) SELECT ? + i * INTERVAL 1 MINUTE, "
            "'user' || (i % 300), '10.0.' || (i % 250) || '.' || (i % 7), i % 5 <> 0 FROM range(?) t(i)",
            [start, attempts],
        )


def resolve_cost(db: Path, n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy.duckdb"
        shutil.copy(db, copy)
        with Store.open(copy) as store:
            _fill(store, sessions=50_000, attempts=200_000)
            token = create(store, Principal("leader", "leader"), client="127.0.0.1", user_agent="bench")
            times = []
            for _ in range(n):
                t0 = time.perf_counter()
                got = resolve(store, token)
                times.append(time.perf_counter() - t0)
                assert isinstance(got, Principal), got
    times.sort()
    return {
        "median_ms": statistics.median(times) * 1000,
        "p95_ms": times[int(len(times) * 0.95)] * 1000,
        "max_ms": times[-1] * 1000,
    }


def _rss_kib(pid: int) -> int:
    found = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(found.group(1)) if found else 0


def _sign_in(url: str, user: str, password: str) -> bool:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{url}/signin", timeout=30).read().decode()
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    assert csrf, page[:300]
    body = urllib.parse.urlencode({"csrf": csrf.group(1), "user_name": user, "password": password, "next": "/"})
    request = urllib.request.Request(f"{url}/signin", data=body.encode(), headers={"Origin": url}, method="POST")

    opener.open(request, timeout=60).read()  # 303 to "/" on success, followed
    return any(c.name == "kpi_session" for c in jar)


def server_memory(db: Path, sign_ins: int) -> dict[str, float]:
    from tests.browser_support import free_port

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy.duckdb"
        shutil.copy(db, copy)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "KPI_DB": str(copy)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "server.py"), "--server.port",
             str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                try:
                    urllib.request.urlopen(f"{url}/healthz", timeout=2).read()  # noqa: S310 - loopback
                    break
                except OSError:
                    time.sleep(0.5)
            time.sleep(5)  # the start-up warm-up thread
            before = _rss_kib(proc.pid)
            accounts = [(a.user_name, a.password) for a in DEMO_ACCOUNTS]
            t0 = time.perf_counter()
            ok = sum(_sign_in(url, *accounts[i % len(accounts)]) for i in range(sign_ins))
            seconds = time.perf_counter() - t0
            after = _rss_kib(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return {
        "sign_ins_ok": ok,
        "rss_before_mib": before / 1024,
        "rss_after_mib": after / 1024,
        "mean_sign_in_s": seconds / sign_ins,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="data/kpi.duckdb")
    ap.add_argument("--resolves", type=int, default=1000)
    ap.add_argument("--sign-ins", type=int, default=50)
    args = ap.parse_args()
    cost = resolve_cost(Path(args.db), args.resolves)
    print(
        f"resolve a session ({args.resolves} runs, 50,000 old sessions, 200,000 attempts): "
        f"median {cost['median_ms']:.2f} ms, p95 {cost['p95_ms']:.2f} ms, max {cost['max_ms']:.2f} ms"
    )
    mem = server_memory(Path(args.db), args.sign_ins)
    print(
        f"server RSS: {mem['rss_before_mib']:.0f} MiB at start, {mem['rss_after_mib']:.0f} MiB after "
        f"{mem['sign_ins_ok']}/{args.sign_ins} sign-ins over HTTP (mean {mem['mean_sign_in_s'] * 1000:.0f} ms each, "
        "argon2 included)"
    )


if __name__ == "__main__":
    main()
