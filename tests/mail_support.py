"""For the e-mail tests: a real SMTP server (aiosmtpd's Controller on 127.0.0.1, in a thread of its own, with a
handler that keeps every message it accepts or answers 451 "try again later" while told to fail), and a small
database with two programmes, last week's snapshot and an account of every role to brief on."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from metrics.auth.accounts import add_user
from metrics.catalogue import Catalogue
from metrics.kpi.snapshots import take_snapshot
from metrics.storage.store import Store
from tests.browser_support import free_port
from tests.support import insert, tiny_catalogue


@dataclass
class Received:
    """What the server got: (MAIL FROM, RCPT TOs, message) per message; `fail` 451s the next n DATA commands."""

    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    fail: int = 0
    refused: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fail:
            self.fail -= 1
            self.refused += 1
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 2.0.0 OK"


@dataclass
class Server:
    host: str
    port: int
    received: Received


def _check_login(user: str, password: str) -> Any:
    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    return authenticator


@contextmanager
def smtp_server(
    *,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    login: tuple[str, str] | None = None,
) -> Iterator[Server]:
    """Serve SMTP on a free loopback port until the block ends. starttls: offer and require STARTTLS with
    this server context; implicit_tls: TLS from the first byte (port-465 style); login: require AUTH."""
    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's own deprecation notes on AUTH
    received = Received()
    port = free_port()
    kwargs: dict[str, Any] = {}
    if starttls is not None:
        kwargs.update(tls_context=starttls, require_starttls=True)
    if login is not None:
        kwargs.update(authenticator=_check_login(*login), auth_required=True, auth_require_tls=starttls is not None)
    controller = Controller(received, hostname="127.0.0.1", port=port, ssl_context=implicit_tls, **kwargs)
    controller.start()
    try:
        yield Server("127.0.0.1", port, received)
    finally:
        controller.stop()


def write_ca(ca: Any, folder: Path) -> Path:
    """A trustme CA's certificate as a PEM file (what SmtpSettings.ca_file names)."""
    path = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


# --------------------------------------------------------------------------- a small database to brief on

AS_OF = dt.date(2026, 11, 29)  # Sunday: the briefing's date
MONDAY = dt.datetime(2026, 11, 30, 7, 30)  # the Monday after, when the weekly job runs
SENDER = "就业工作周报 <kpi@example.gov.cn>"
HOSTILE = '<img src=x onerror="alert(1)">招聘会&场次'  # a KPI name as a catalogue author could write it


def _count(kid: str, name: str, value: float, types: list[str] | None = None) -> dict[str, Any]:
    measure: dict[str, Any] = {"kind": "count", "source": "events"}
    if types:
        measure["filters"] = [{"column": "event_type", "op": "in", "values": types}]
    return {"id": kid, "name_zh": name, "measure": measure, "target": {"value": value, "period": "year"}}


def mail_catalogues() -> dict[str, Catalogue]:
    """Two programmes in two districts: 通州 (tiny) with an achieved and an off-track KPI, 西城 (other) with
    one off-track KPI of its own."""
    tz = tiny_catalogue([_count("tz-all-events", "通州活动场次", 5), _count("tz-fairs", HOSTILE, 100, ["招聘会"])])
    d = tiny_catalogue([_count("xc-fairs", "西城招聘会场次", 50, ["招聘会"])], district="西城区").model_dump()
    d["programme"].update(id="other", short_title_zh="西城测试", title="西城测试方案")
    return {"tiny": tz, "other": Catalogue.model_validate(d)}


def _event(i: int, district: str, kind: str, day: dt.date) -> dict[str, Any]:
    return {
        "event_id": f"E{i}",
        "district": district,
        "event_type": kind,
        "event_date": day,
        "title": "t",
        "organiser": "o",
    }


def seed_mail_db(store: Store, cats: dict[str, Catalogue]) -> None:
    """Events, last week's snapshot (通州活动场次 at risk then, achieved now), and accounts of every role."""
    insert(
        store,
        "events",
        [_event(i, "通州区", "招聘会", dt.date(2026, 3, 1) + dt.timedelta(days=9 * i)) for i in range(4)],
    )
    insert(store, "events", [_event(10 + i, "西城区", "招聘会", dt.date(2026, 5, 1)) for i in range(3)])
    take_snapshot(store, AS_OF - dt.timedelta(days=7), catalogues=cats)
    insert(store, "events", [_event(20, "通州区", "宣讲会", dt.date(2026, 11, 25))])
    for name, role, unit, district in (
        ("admin", "admin", None, None),
        ("leader", "leader", None, None),
        ("office", "office", None, None),
        ("press", "press", None, None),
        ("hrss", "department", "区人力社保局", "通州区"),
    ):
        add_user(store, None, name, role, unit, None, district=district)
