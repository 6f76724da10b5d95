"""The one server process: Streamlit's pages (dashboard/app.py) served through `st.App` on Starlette, with
the routes of `dashboard.web` beside them and the scheduler started from the lifespan. See docs/server.md.

`python -m dashboard.serve` (what `make run` calls) runs `streamlit run` on this file; Streamlit finds the
`app` below and serves it with uvicorn. The process owns the database file (DuckDB: one read-write process),
so everything that writes — pages, sign-in, scheduled jobs, the operators' loopback endpoint — shares
`dashboard.process.store()`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import streamlit as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run dashboard/server.py` puts dashboard/ on the path, not the root
    sys.path.insert(0, str(ROOT))

from dashboard import lifecycle  # noqa: E402
from dashboard.web import routes  # noqa: E402

log = logging.getLogger(__name__)


def site_secrets() -> dict[str, Any] | None:
    """The file KPI_SECRETS names (a deployment's, e.g. /etc/kpi-dashboard/secrets.toml), as `st.App` secrets:
    so st.secrets and st.login see its [auth] and [smtp] as they see .streamlit/secrets.toml, which Streamlit
    reads by itself from the working directory. None when unset or absent (docs/server.md, "Single sign-on")."""
    named = os.environ.get("KPI_SECRETS")
    if not named or not Path(named).is_file():
        return None
    with Path(named).open("rb") as f:
        return tomllib.load(f)  # a file that does not parse stops the server: better than SSO silently off


@contextlib.asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[dict[str, Any]]:
    """Start-up: warm the caches, start the upload worker and the scheduler; shut-down: stop the scheduler."""
    started = lifecycle.start()
    try:
        yield {"started": started}
    finally:
        lifecycle.stop()


app = st.App(
    Path(__file__).resolve().parent / "app.py",
    routes=routes.all_routes(),
    middleware=routes.middleware(),
    lifespan=lifespan,
    secrets=site_secrets(),
)
