"""What the server does when it starts and stops (called from the `st.App` lifespan in dashboard.server).

Start-up never fails the server: a failed warm-up costs the first visitor time, a failed worker start is
retried by the first upload. See docs/server.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading

from metrics.storage import clock

__all__ = ["default_as_of", "start", "stop", "warm"]

log = logging.getLogger(__name__)


def default_as_of() -> dt.date:
    pinned = os.environ.get("KPI_AS_OF")
    return dt.date.fromisoformat(pinned) if pinned else clock.today()


def warm(as_of: dt.date | None = None) -> None:
    """Fill the caches of the overview (results, tiles, stale data) for one date."""
    # Outside a script run Streamlit logs a harmless 'missing ScriptRunContext' warning per call.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)
    from dashboard import state

    day = as_of or default_as_of()
    if state.store() is None:
        return
    state.results(day)
    state.tile_context(day)
    state.stale(day)


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


def start() -> bool:
    """Called once from the lifespan: warm caches and start the worker in a thread (the server answers at
    once). Returns True when started."""
    threading.Thread(target=_background_start, name="server-start", daemon=True).start()
    return True


def stop() -> None:
    """Called once when the server shuts down."""
