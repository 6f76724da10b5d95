"""Every route and middleware the server mounts beside Streamlit, gathered in one place."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from dashboard.web import health

__all__ = ["all_routes", "middleware"]


def all_routes() -> list[BaseRoute]:
    return [*health.ROUTES]


def middleware() -> list[Middleware]:
    return []
