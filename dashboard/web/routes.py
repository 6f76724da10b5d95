"""Every route and middleware the server mounts beside Streamlit, gathered in one place."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from dashboard.web import health, signin
from dashboard.web import ops as ops_routes

__all__ = ["all_routes", "middleware"]


def all_routes() -> list[BaseRoute]:
    return [*health.ROUTES, *signin.ROUTES, *ops_routes.ROUTES]


def middleware() -> list[Middleware]:
    return [Middleware(signin.RequireSession)]
