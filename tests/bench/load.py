"""Concurrent users without a browser: Streamlit's own websocket protocol, driven from asyncio.

A browser spends most of its time rendering; ten Chromium contexts on two cores measure Chromium, not the
server. This client does what the browser's Streamlit frontend does on the wire and nothing more:

1. signs in through the server's `/signin` form (GET for the form token, POST with it), keeping the
   `kpi_session` cookie the server sets;
2. opens `/_stcore/stream` with that cookie (subprotocol "streamlit", as the frontend sends it);
3. for each page, sends a `BackMsg.rerun_script` naming the page, and waits for the server's
   `ForwardMsg.script_finished` — the moment the page's last element has been sent.

The time of a step is from sending the request to `script_finished`. Each simulated user runs sign-in,
overview and three KPI detail pages; all users start together. See docs/server.md ("Measured").

Usage: python -m tests.bench.load --url http://127.0.0.1:8501 --users 10 [--user office --password ...]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINISHED_OK = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_EARLY_FOR_RERUN}


@dataclass
class Timings:
    steps: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, step: str, seconds: float) -> None:
        self.steps.setdefault(step, []).append(seconds)


def sign_in(base: str, user: str, password: str, client: str | None = None) -> str:
    """The `kpi_session` cookie from the server's sign-in form (blocking; run in a thread).

    `client`: sent as X-Forwarded-For, as the reverse proxy does for each browser (the server counts it only
    with KPI_TRUST_PROXY=1, as deployed behind nginx: docs/server.md).
    """
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    if client:
        opener.addheaders = [("X-Forwarded-For", client)]
    with opener.open(f"{base}/signin", timeout=30) as resp:
        page = resp.read().decode("utf-8")
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    if token is None:
        raise RuntimeError("no csrf form token in the sign-in form")
    body = urllib.parse.urlencode(
        {"user_name": user, "password": password, "csrf": token.group(1), "next": "/"}
    ).encode()
    req = urllib.request.Request(f"{base}/signin", data=body, headers={"Origin": base})  # noqa: S310
    with opener.open(req, timeout=60) as resp:
        resp.read()
    for cookie in jar:
        if cookie.name == "kpi_session":
            return str(cookie.value)
    raise RuntimeError(f"sign-in as {user} set no kpi_session cookie")


async def run_page(ws: websockets.ClientConnection, page: str, query: str = "") -> int:
    """Ask for one page and wait until the server says the script finished; returns deltas received."""
    msg = BackMsg()
    msg.rerun_script.CopyFrom(ClientState(query_string=query, page_name=page))
    await ws.send(msg.SerializeToString())
    deltas = 0
    while True:
        fwd = ForwardMsg()
        fwd.ParseFromString(await ws.recv())
        kind = fwd.WhichOneof("type")
        if kind == "delta":
            deltas += 1
        elif kind == "script_finished":
            if fwd.script_finished not in FINISHED_OK:
                raise RuntimeError(f"page {page!r} finished with status {fwd.script_finished}")
            if fwd.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                return deltas


async def one_user(
    base: str, user: str, password: str, kpis: list[str], timings: Timings, client: str | None = None
) -> None:
    t0 = time.perf_counter()
    cookie = await asyncio.to_thread(sign_in, base, user, password, client)
    timings.add("sign-in (HTTP form)", time.perf_counter() - t0)
    ws_url = base.replace("http", "ws", 1) + "/_stcore/stream"
    async with websockets.connect(
        ws_url, subprotocols=["streamlit"], additional_headers={"Cookie": f"kpi_session={cookie}"}, max_size=None
    ) as ws:
        t1 = time.perf_counter()
        deltas = await run_page(ws, "overview")
        if deltas < 10:
            timings.errors.append(f"overview sent only {deltas} elements (signed out?)")
        timings.add("overview", time.perf_counter() - t1)
        timings.add("sign-in → overview", time.perf_counter() - t0)
        for kpi in kpis:
            t2 = time.perf_counter()
            await run_page(ws, "kpi", f"kpi={kpi}")
            timings.add("KPI detail", time.perf_counter() - t2)


def _pct(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


# The demo's accounts that read KPIs. Users are spread over them because the sign-in throttle counts a
# client's attempts in flight as failures until they are checked (docs/server.md): ten parallel sign-ins to
# one account from one address is what a guessing script does, not what an office does.
DEMO_READERS = (
    ("leader", "demo-leader-2026"),
    ("office", "demo-office-2026"),
    ("hrss", "demo-hrss-2026"),
    ("commerce", "demo-commerce-2026"),
    ("admin", "demo-admin-2026"),
)


async def main_async(
    base: str, users: int, accounts: list[tuple[str, str]], kpis: list[str], *, clients: bool = False
) -> Timings:
    timings = Timings()
    results = await asyncio.gather(
        *(
            one_user(base, *accounts[i % len(accounts)], kpis, timings, f"10.0.0.{i + 1}" if clients else None)
            for i in range(users)
        ),
        return_exceptions=True,
    )
    timings.errors.extend(repr(r) for r in results if isinstance(r, BaseException))
    return timings


def report(timings: Timings, users: int) -> str:
    lines = [f"{users} concurrent users (websocket client, no rendering)"]
    for step, values in timings.steps.items():
        lines.append(
            f"  {step:<22} n={len(values):>3}  p50 {statistics.median(values) * 1000:8.0f} ms"
            f"  p95 {_pct(values, 95) * 1000:8.0f} ms  max {max(values) * 1000:8.0f} ms"
        )
    for err in timings.errors:
        lines.append(f"  error: {err}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8501")
    ap.add_argument("--users", type=int, default=10)
    ap.add_argument("--user", help="one account for every simulated user (default: the demo's readers in turn)")
    ap.add_argument("--password")
    ap.add_argument(
        "--clients", action="store_true", help="each user from its own address (X-Forwarded-For; KPI_TRUST_PROXY=1)"
    )
    ap.add_argument("--kpi", action="append", default=None, help="KPI ids for the detail pages (three by default)")
    args = ap.parse_args()
    kpis = args.kpi or ["xc-project-placements", "tz-recruitment-events", "hd-placements-total"]
    accounts = [(args.user, args.password)] if args.user else list(DEMO_READERS)
    timings = asyncio.run(main_async(args.url.rstrip("/"), args.users, accounts, kpis, clients=args.clients))
    print(report(timings, args.users))


if __name__ == "__main__":
    main()
