"""The operators' loopback endpoint, both ends of it: the token file the server writes next to the database,
and the client the `kpi` commands use to reach the server that holds the database (docs/server.md,
"Operators' endpoint"). The routes themselves are dashboard/web/ops.py.

The token file `<db>.server.json` (mode 0600, removed at stop) holds the server's loopback address, port and a
random token; whoever can read it is the database file's operator. The server keeps the same token in memory
and compares it with hmac.compare_digest.

    >>> call(db, "snapshot", {"day": "2026-11-29", "operator": "cli:zhang"})   # ServerUnavailable: no server
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from metrics.contract.errors import KpiError

__all__ = [
    "ADMIN_PAGE_ZH",
    "CONNECT_TIMEOUT",
    "RESPONSE_TIMEOUT",
    "ServerRefused",
    "ServerTimeout",
    "ServerUnavailable",
    "call",
    "close",
    "current_token",
    "open_endpoint",
    "read_token_file",
    "token_file",
    "token_matches",
]

# Where the same actions are in the app (the admin page, url path /admin): what a command says when it cannot
# reach the server. Here, in a light module, so the CLI can name it without loading the commands' code.
ADMIN_PAGE_ZH = "看板的“系统管理”页面（/admin）"
CONNECT_TIMEOUT = 3.0
# A command gives up waiting for the server's answer after this long: with the connect time it stays under the
# 20 s the issue allows (a long backup may still finish in the server; the admin page shows it).
RESPONSE_TIMEOUT = float(os.environ.get("KPI_OPS_TIMEOUT", "15"))

_current: dict[str, str] = {}  # the running server's token and file, set by open_endpoint


class ServerUnavailable(KpiError):
    """No server answers for this database (no token file, or nothing listening): open the file directly."""


class ServerRefused(KpiError, RuntimeError):
    """The server answered and said no (a refused permission, an existing snapshot …): its message."""


class ServerTimeout(KpiError, TimeoutError):
    """The server took the request but did not answer in time."""


def token_file(db: Path) -> Path:
    """`<db>.server.json` beside the database file."""
    db = Path(db)
    return db.with_name(db.name + ".server.json")


def open_endpoint(db: Path, host: str, port: int) -> str:
    """At server start: a fresh random token, kept in memory and written to the token file (0600)."""
    token = secrets.token_urlsafe(32)
    path = token_file(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"host": host, "port": port, "token": token, "pid": os.getpid()}, fh)
    os.chmod(tmp, 0o600)  # whatever the umask
    os.replace(tmp, path)
    _current.update(token=token, file=str(path))
    return token


def close() -> None:
    """At server stop: remove the token file if it is still ours, forget the token."""
    path, token = _current.get("file"), _current.get("token")
    _current.clear()
    if path and token:
        found = read_token_file(Path(path), is_token_file=True)
        if found is not None and hmac.compare_digest(str(found.get("token", "")), token):
            with contextlib.suppress(FileNotFoundError):
                Path(path).unlink()


def current_token() -> str | None:
    return _current.get("token")


def token_matches(authorization: str | None) -> bool:
    """Whether an `Authorization: Bearer <token>` header carries this server's token (constant time)."""
    token = current_token()
    if not token or not authorization or not authorization.startswith("Bearer "):
        return False
    return hmac.compare_digest(authorization[len("Bearer ") :].encode(), token.encode())


def read_token_file(db: Path, *, is_token_file: bool = False) -> dict[str, Any] | None:
    """The token file's content for database `db`, or None when there is none (or it is unreadable)."""
    path = Path(db) if is_token_file else token_file(db)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and {"host", "port", "token"} <= set(data) else None


def _url(info: dict[str, Any], action: str, params: dict[str, str] | None) -> str:
    host = str(info["host"])
    host = f"[{host}]" if ":" in host else host
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    return f"http://{host}:{int(info['port'])}/api/ops/{action}{query}"


def call(
    db: Path,
    action: str,
    body: dict[str, Any] | None = None,
    *,
    data: bytes | None = None,
    params: dict[str, str] | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """POST to the server's /api/ops/<action> (JSON `body`, or raw `data` with query `params`); its JSON answer.

    ServerUnavailable when no server answers (fall back to opening the file), ServerRefused with the server's
    message, ServerTimeout when it does not answer in time."""
    info = read_token_file(db)
    if info is None:
        raise ServerUnavailable(f"no token file {token_file(db)}")
    payload = data if data is not None else json.dumps(body or {}, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - http to the loopback address from the token file
        _url(info, action, params),
        data=payload,
        method="POST",
        headers={
            "Authorization": f"Bearer {info['token']}",
            "Content-Type": "application/octet-stream" if data is not None else "application/json",
        },
    )
    try:
        # connect quickly or not at all: a stale token file (a killed server) must not cost the command its time
        with socket.create_connection((str(info["host"]), int(info["port"])), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise ServerUnavailable(f"nothing listens on {info['host']}:{info['port']}: {exc}") from exc
    try:
        with urllib.request.urlopen(request, timeout=timeout or RESPONSE_TIMEOUT) as response:  # noqa: S310
            return dict(json.loads(response.read().decode("utf-8")))
    except urllib.error.HTTPError as exc:
        try:
            answer = json.loads(exc.read().decode("utf-8"))
            message = str(answer.get("error") or answer)
        except ValueError:
            message = f"HTTP {exc.code}"
        raise ServerRefused(message) from None
    except TimeoutError as exc:
        raise ServerTimeout(str(exc)) from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise ServerTimeout(str(exc.reason)) from exc
        raise ServerUnavailable(str(exc.reason)) from exc
