"""`POST /api/ops/<action>`: the operators' loopback endpoint, so `kpi snapshot | backup | report weekly |
import` work while this server holds the database (docs/server.md, "Operators' endpoint").

Only a loopback client that was not forwarded by a proxy, with the token of metrics.ops.endpoint
(`Authorization: Bearer …`), is served. The work is metrics.ops.commands on the process's store, as the
named account (`user`: permission checked there, refusals logged) or as the operator (`operator`, cli:<login>).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dashboard import process
from metrics.auth.access import AccessDenied, Principal
from metrics.auth.users import refresh_principal
from metrics.contract.errors import KpiError
from metrics.ingest.guard import MAX_UPLOAD_MB
from metrics.kpi.snapshots import SnapshotExists
from metrics.ops import commands, endpoint
from metrics.storage.store import Store

__all__ = ["ROUTES", "is_loopback_client"]

log = logging.getLogger(__name__)

_FORWARDED = ("forwarded", "x-forwarded-for", "x-real-ip")
_OPERATOR = re.compile(r"cli:[\w.@-]{1,64}")
MAX_IMPORT_BYTES = int(MAX_UPLOAD_MB * 1024 * 1024)


class BadRequest(ValueError):
    pass


def is_loopback_client(request: Request) -> bool:
    """A client on this machine that no proxy forwarded (nginx adds X-Forwarded-For / X-Real-IP)."""
    if any(h in request.headers for h in _FORWARDED) or request.client is None:
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


def _actor(store: Store, fields: dict[str, Any]) -> Principal | str:
    user = fields.get("user")
    if user:
        found = refresh_principal(store, Principal(str(user).strip().lower(), "press"))  # role from the table
        if found is None:
            raise BadRequest(f"账号不存在或已停用：{user} / no active account {user!r}")
        return found
    operator = str(fields.get("operator") or "")
    if not _OPERATOR.fullmatch(operator):
        raise BadRequest("operator 应为 cli:<登录名> / operator must be cli:<login>")
    return operator


def _day(fields: dict[str, Any]) -> dt.date:
    try:
        return dt.date.fromisoformat(str(fields["day"]))
    except (KeyError, ValueError):
        raise BadRequest("day 应为 YYYY-MM-DD / day must be YYYY-MM-DD") from None


def _snapshot(store: Store, fields: dict[str, Any], _data: bytes) -> dict[str, Any]:
    try:
        return commands.snapshot(store, _actor(store, fields), _day(fields), replace=bool(fields.get("replace")))
    except SnapshotExists as exc:
        raise SnapshotExists(f"{exc}（如需覆盖请加 --replace / use --replace to overwrite）") from None


def _backup(store: Store, fields: dict[str, Any], _data: bytes) -> dict[str, Any]:
    out = Path(str(fields.get("out") or ""))
    if not out.is_absolute():
        raise BadRequest("out 应为绝对路径 / out must be an absolute path")
    counts = commands.backup(store, _actor(store, fields), out, overwrite=bool(fields.get("force")))
    return {"out": str(out), "counts": counts}


def _report(store: Store, fields: dict[str, Any], _data: bytes) -> dict[str, Any]:
    actor = _actor(store, fields)
    if not isinstance(actor, Principal):
        raise BadRequest("周报需要 --user 账号 / the briefing needs --user")
    lang = "en" if fields.get("lang") == "en" else "zh"
    return {"html": commands.weekly_report(store, actor, _day(fields), lang=lang)}


def _import(store: Store, fields: dict[str, Any], data: bytes) -> dict[str, Any]:
    name = Path(str(fields.get("name") or "upload")).name
    record_type = fields.get("type") or None
    report = commands.import_file(
        store,
        _actor(store, fields),
        data,
        name,
        record_type,
        unit=fields.get("unit") or None,
        accept_warnings=fields.get("accept_warnings") == "1",
    )
    return commands.report_json(report)


Handler = Callable[[Store, dict[str, Any], bytes], dict[str, Any]]


def _work(handler: Handler, fields: dict[str, Any], data: bytes) -> tuple[dict[str, Any], int]:
    store = process.store()
    if store is None:
        return {"error": "数据库文件不存在 / no database"}, 503
    try:
        return {"ok": True, **handler(store, fields, data)}, 200
    except BadRequest as exc:
        return {"error": str(exc)}, 400
    except AccessDenied as exc:
        return {"error": str(exc), "refused": True}, 403
    except KpiError as exc:  # an existing snapshot or backup file, a failed backup: the message says why
        return {"error": str(exc)}, 409
    except Exception as exc:  # reported to the command, logged here; never the server
        log.exception("operators' endpoint %s failed", handler.__name__)
        return {"error": f"服务器内部错误 / server error: {type(exc).__name__}: {exc}"}, 500


def _route(handler: Handler, *, raw: bool = False) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def serve(request: Request) -> JSONResponse:
        if not is_loopback_client(request):
            return JSONResponse({"error": "仅限本机访问 / loopback only"}, status_code=403)
        if not endpoint.token_matches(request.headers.get("authorization")):
            return JSONResponse({"error": "令牌无效 / bad token"}, status_code=401)
        data = b""
        if raw:
            fields: dict[str, Any] = dict(request.query_params)
            data = await request.body()
            if len(data) > MAX_IMPORT_BYTES:
                return JSONResponse({"error": f"文件超过 {MAX_UPLOAD_MB:g} MB / file too big"}, status_code=413)
        else:
            try:
                fields = json.loads(await request.body() or b"{}")
            except ValueError:
                return JSONResponse({"error": "请求不是 JSON / body is not JSON"}, status_code=400)
            if not isinstance(fields, dict):
                return JSONResponse({"error": "请求不是 JSON 对象 / body is not a JSON object"}, status_code=400)
        body, status = await asyncio.to_thread(_work, handler, fields, data)
        return JSONResponse(body, status_code=status)

    return serve


ROUTES = [
    Route("/api/ops/snapshot", _route(_snapshot), methods=["POST"]),
    Route("/api/ops/backup", _route(_backup), methods=["POST"]),
    Route("/api/ops/report", _route(_report), methods=["POST"]),
    Route("/api/ops/import", _route(_import, raw=True), methods=["POST"]),
]
