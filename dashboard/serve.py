"""`python -m dashboard.serve [streamlit options]`: serve the app with its caches filled at start.

Streamlit runs no code until the first visitor connects, so this launcher starts a thread that computes
the overview's results for today (or KPI_AS_OF) into the same process-wide caches the pages use.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import threading
from pathlib import Path

from metrics.storage import clock

APP = Path(__file__).resolve().parent / "app.py"
ROOT = APP.parents[1]


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


def _warm_when_running() -> None:
    """Wait for Streamlit's runtime (its cache storage is created with it), then warm."""
    import time

    from streamlit.runtime import Runtime

    deadline = time.monotonic() + 120
    while not Runtime.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    try:
        warm()
    except Exception:  # a failed warm-up only costs the first visitor time; never the server
        logging.getLogger(__name__).exception("cache warm-up failed")
    try:  # the upload worker's fork server, so the first upload does not wait for it (docs/uploads.md)
        from metrics.ingest import worker

        worker.start()
    except Exception:
        logging.getLogger(__name__).exception("upload worker server did not start; uploads will start it")


def main() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from streamlit.web import cli as stcli

    threading.Thread(target=_warm_when_running, name="cache-warmer", daemon=True).start()
    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    sys.exit(stcli.main())


if __name__ == "__main__":
    main()
