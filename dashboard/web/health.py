"""`GET /healthz`: 200 when the database answers a query, 503 otherwise (for systemd, nginx, monitoring)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dashboard import process

__all__ = ["ROUTES"]


def _probe() -> dict[str, object]:
    store = process.store()
    if store is None:
        return {"status": "no-database"}
    version = store.schema_version()
    store.cursor().execute("SELECT 1").fetchone()
    return {"status": "ok", "schema_version": version}


async def healthz(request: Request) -> JSONResponse:
    try:
        body = await asyncio.to_thread(_probe)
    except Exception as exc:  # the probe reports, never raises
        return JSONResponse({"status": "error", "error": type(exc).__name__}, status_code=503)
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


ROUTES = [Route("/healthz", healthz, methods=["GET"])]
