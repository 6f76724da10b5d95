"""What the server does when it starts and stops (called from the `st.App` lifespan in dashboard.server).

Start-up never fails the server: a failed warm-up costs the first visitor time, a failed worker start is
retried by the first upload, a scheduler that cannot start is logged. Start-up also writes the operators'
endpoint's token file beside the database, and stop removes it. See docs/server.md.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import os
import threading

from metrics.ops import endpoint
from metrics.ops.scheduler import Scheduler
from metrics.storage import clock
from metrics.storage.store import default_db_path

__all__ = ["default_as_of", "scheduler", "start", "start_scheduler", "stop", "warm"]

log = logging.getLogger(__name__)

_lock = threading.Lock()
_scheduler: Scheduler | None = None


def default_as_of() -> dt.date:
    pinned = os.environ.get("KPI_AS_OF")
    return dt.date.fromisoformat(pinned) if pinned else clock.today()


def warm(as_of: dt.date | None = None) -> None:
    """Do before the first visitor what the first overview would: load the modules its run imports and fill
    the caches it reads, with the keys a new session asks for (Chinese, every programme and district in
    scope, the date `default_as_of` gives app.py). docs/page-speed.md."""
    # Outside a script run Streamlit logs a harmless 'missing ScriptRunContext' warning per call.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)
    import streamlit.emojis  # noqa: F401 - the emoji catalogue the first st.info/st.success with CJK text loads

    import dashboard.auth
    import dashboard.components.gate  # noqa: F401
    from dashboard import state
    from dashboard.components import tiles

    day = as_of or default_as_of()
    if state.store() is None:
        return
    tiles.overview(day, "zh", [], [])  # results, tile context, stale data and the monitoring table within it
    # The process's first element makes Streamlit ask whether it runs in a REPL (streamlit.env_util.is_repl),
    # an inspect.stack() that maps every loaded module to its file (~0.1 s). inspect keeps that map: made
    # here, after the imports above, the first page finds it.
    inspect.stack()


def _background_start() -> None:
    try:
        warm()
    except Exception:  # a failed warm-up only costs the first visitor time; never the server
        log.exception("cache warm-up failed")
    try:  # the upload worker's fork server, so the first upload does not wait for it (docs/uploads.md)
        from metrics.ingest import worker

        worker.start()
    except Exception:
        log.exception("upload worker server did not start; uploads will start it")
    try:  # after the warm-up: the catch-up's snapshot should not slow the first page
        start_scheduler()
    except Exception:
        log.exception("scheduler did not start")


def start_scheduler() -> bool:
    """Start the process's one scheduler on the process's store (docs/server.md, "Scheduler"); False when one
    already runs, when KPI_SCHEDULER=off, or while there is no database file."""
    global _scheduler
    if os.environ.get("KPI_SCHEDULER", "on").lower() in ("off", "0", "false", "no"):
        log.info("scheduler off (KPI_SCHEDULER)")
        return False
    from dashboard import process

    with _lock:
        if _scheduler is not None:
            return False
        if process.store() is None:
            return False
        _scheduler = Scheduler(process.store)  # the current Store at each pass (a restore reopens it)
        return _scheduler.start()


def scheduler() -> Scheduler | None:
    """The running scheduler, if any."""
    return _scheduler


def _endpoint_address() -> tuple[str, int]:
    """Where the `kpi` commands reach this server: its port, on the loopback address it listens on."""
    from streamlit import config

    address = str(config.get_option("server.address") or "")
    host = "::1" if address == "::1" else "127.0.0.1"
    return host, int(config.get_option("server.port"))


def start() -> bool:
    """Called once from the lifespan: write the endpoint's token file, then warm caches, start the worker and
    the scheduler in a thread (the server answers at once). Returns True when started."""
    try:
        host, port = _endpoint_address()
        endpoint.open_endpoint(default_db_path(), host, port)
    except Exception:  # the commands then say the server cannot be reached; the app itself is unaffected
        log.exception("operators' endpoint token file not written")
    threading.Thread(target=_background_start, name="server-start", daemon=True).start()
    return True


def stop() -> None:
    """Called once when the server shuts down: stop the scheduler (letting a running job finish) and remove
    the token file."""
    global _scheduler
    endpoint.close()
    with _lock:
        running, _scheduler = _scheduler, None
    if running is not None:
        running.stop(timeout=60)
