"""The weekly briefing as an e-mail, and the SMTP connection that sends it (docs/server.md, "E-mail
subscriptions").

`compose_weekly` is pure: briefing content in, `email.message.EmailMessage` out — a multipart/mixed message
holding multipart/alternative (text/plain; multipart/related: the phone-sized text/html and its charts as
inline image/png parts, each referenced by `cid:`) and the printable HTML briefing as an attachment. The
policy (email.policy.SMTP) writes the Chinese subject and file name in RFC 2047 / RFC 2231 encoding.
`smtp_send` hands a message to the server in `SmtpSettings` (STARTTLS, implicit TLS or plain, with a timeout).

    >>> settings = SmtpSettings.load(st.secrets)          # the [smtp] table of .streamlit/secrets.toml
    >>> msg = compose_weekly(data, cats, sender=settings.sender, to="leader@example.gov.cn")
    >>> smtp_send(settings, msg)
"""

from __future__ import annotations

import datetime as dt
import email.policy
import re
import smtplib
import ssl
import tomllib
from collections.abc import Collection, Mapping
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from metrics.catalogue import Catalogue
from metrics.contract.errors import KpiError
from metrics.reports.briefing_content import BriefingData
from metrics.reports.briefing_html import render_briefing
from metrics.reports.charts_png import attention_png, status_png
from metrics.reports.mail_html import attention_bars, for_programmes, render_html, render_text, subject
from metrics.storage import clock

__all__ = [
    "SECRETS_FILE",
    "MailError",
    "SmtpSettings",
    "attachment_name",
    "check_address",
    "compose_weekly",
    "send_test",
    "smtp_send",
]

SECRETS_FILE = Path(".streamlit/secrets.toml")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
MAX_ADDRESS = 254
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+", re.ASCII)


class MailError(KpiError, ValueError):
    """Mail settings or an address that cannot be used; the message is Chinese for the admin page."""


def check_address(value: object) -> str:
    """One plain ASCII address (name@domain.tld), trimmed; MailError otherwise. No display names, lists or
    line breaks: the address goes into a header, where a line break would let a caller add headers."""
    text = str(value or "").strip()
    if len(text) > MAX_ADDRESS or not _ADDRESS.fullmatch(text):
        raise MailError(f"邮箱地址无效：{text[:60]!r}（应为 name@example.gov.cn 形式的一个地址）")
    return text


class SmtpSettings(BaseModel):
    """How to reach the mail server: the [smtp] table of .streamlit/secrets.toml (docs/server.md).

    security: 'starttls' (port 587 unless given), 'ssl' (implicit TLS, 465) or 'none' (25; only for a relay
    on the same host). ca_file adds a certificate authority for a server with a private certificate.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=0, ge=0, le=65535)  # 0: the security mode's usual port
    security: Literal["starttls", "ssl", "none"] = "starttls"
    user: str | None = None
    password: SecretStr | None = None
    sender: str = Field(min_length=3, max_length=320)  # an address, or 名称 <address>
    timeout: float = Field(default=30.0, gt=0, le=300)
    ca_file: Path | None = None

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("sender has a line break")
        check_address(_addr_spec(value))
        return value

    @model_validator(mode="after")
    def _port(self) -> SmtpSettings:
        if self.port == 0:
            object.__setattr__(self, "port", DEFAULT_PORTS[self.security])
        return self

    @classmethod
    def load(cls, source: Mapping[str, Any] | Path | str) -> SmtpSettings:
        """From the secrets (st.secrets or a parsed secrets.toml: its [smtp] table), the table itself, or the
        path of a secrets.toml file; MailError when the settings are missing or wrong."""
        if isinstance(source, Path | str):
            found = cls.from_file(Path(source))
            if found is None:
                raise MailError(f"未配置邮件服务器：{source} 中没有 [smtp]（见 docs/server.md）")
            return found
        table = source.get("smtp", source)
        try:
            return cls.model_validate(dict(table))
        except ValidationError as exc:
            fields = "、".join(".".join(str(x) for x in e["loc"]) or "smtp" for e in exc.errors())
            raise MailError(f"邮件服务器设置有误（.streamlit/secrets.toml 的 [smtp]：{fields}）") from exc

    @classmethod
    def from_file(cls, path: Path = SECRETS_FILE) -> SmtpSettings | None:
        """The [smtp] table of a secrets.toml file; None when the file or the table is absent."""
        if not path.is_file():
            return None
        with path.open("rb") as f:
            secrets = tomllib.load(f)
        return cls.load(secrets) if "smtp" in secrets else None

    @property
    def sender_address(self) -> str:
        return _addr_spec(self.sender)


def _addr_spec(sender: str) -> str:
    """The address in 'name@domain' or '名称 <name@domain>'; '' when it is not one address."""
    addresses: list[Any] = list(getattr(HeaderRegistry()("from", sender), "addresses", ()))
    return str(addresses[0].addr_spec) if len(addresses) == 1 else ""


def attachment_name(as_of: dt.date) -> str:
    """就业工作周报-2026-11-29.html"""
    return f"就业工作周报-{as_of.isoformat()}.html"


def _new_message(sender: str, to: str, subject_text: str, domain: str, at: dt.datetime) -> EmailMessage:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Subject"] = subject_text
    msg["From"] = sender
    msg["To"] = check_address(to)
    msg["Date"] = format_datetime(at.replace(tzinfo=clock.TIMEZONE) if at.tzinfo is None else at)
    msg["Message-ID"] = make_msgid(domain=domain)
    return msg


def _charts(data: BriefingData, cats: Mapping[str, Catalogue]) -> dict[str, bytes | None]:
    names = {p: f"{cats[p].programme.short_title_zh}（{cats[p].programme.district}）" for p in data.programme_counts}
    return {
        "status": status_png({names[p]: c for p, c in data.programme_counts.items()}),
        "attention": attention_png(attention_bars(data, cats)),
    }


def compose_weekly(
    data: BriefingData,
    cats: Mapping[str, Catalogue],
    *,
    sender: str,
    to: str,
    programmes: Collection[str] = (),
    charts: bool = True,
    chart_cache: dict[tuple[str, ...], dict[str, bytes | None]] | None = None,
) -> EmailMessage:
    """The weekly briefing e-mail for one reader.

    data: the briefing's content for the reader (collect_briefing with their own overdue tasks); the body
    shows the `programmes` they subscribed to (empty: all), the attachment is the whole printable briefing.
    chart_cache: a dict kept across the readers of one run, so readers of the same programmes share the
    charts (they do not depend on the reader) instead of drawing them again.
    """
    domain = check_address(_addr_spec(sender)).rsplit("@", 1)[1]
    msg = _new_message(sender, to, subject(data.as_of), domain, data.generated_at)
    mine = for_programmes(data, programmes)
    images: dict[str, tuple[str, bytes]] = {}
    if charts:
        key = tuple(sorted(programmes))
        pngs = chart_cache.get(key) if chart_cache is not None else None
        if pngs is None:
            pngs = _charts(mine, cats)
            if chart_cache is not None:
                chart_cache[key] = pngs
        for name, png in pngs.items():
            if png is not None:
                images[name] = (make_msgid(idstring=name, domain=domain)[1:-1], png)
    msg.set_content(render_text(mine, cats, programmes))
    msg.add_alternative(render_html(mine, cats, programmes, {k: cid for k, (cid, _) in images.items()}), subtype="html")
    html_part = cast(EmailMessage, msg.get_payload()[1])  # type: ignore[index]
    for name, (cid, png) in images.items():
        html_part.add_related(
            png, maintype="image", subtype="png", cid=f"<{cid}>", disposition="inline", filename=f"{name}.png"
        )
    # as bytes (base64), so the file a reader saves is byte for byte the briefing the dashboard downloads
    msg.add_attachment(
        render_briefing(data, dict(cats), "zh").encode("utf-8"),
        maintype="text",
        subtype="html",
        filename=attachment_name(data.as_of),
        params={"charset": "utf-8"},
    )
    return msg


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.ca_file is not None:
        context.load_verify_locations(cafile=str(settings.ca_file))
    return context


def smtp_send(settings: SmtpSettings, message: EmailMessage) -> None:
    """Hand `message` to the server; raises smtplib.SMTPException or OSError (refused, timed out, TLS)."""
    smtp: smtplib.SMTP
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=_tls_context(settings))
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with smtp:
        smtp.ehlo()
        if settings.security == "starttls":
            smtp.starttls(context=_tls_context(settings))
            smtp.ehlo()
        if settings.user:
            smtp.login(settings.user, settings.password.get_secret_value() if settings.password else "")
        smtp.send_message(message, from_addr=settings.sender_address)


def send_test(settings: SmtpSettings, to: str) -> None:
    """The admin page's "SMTP test message": a short Chinese message to `to`; raises what smtp_send raises."""
    now = clock.now().replace(microsecond=0)
    msg = _new_message(settings.sender, to, "就业工作周报邮件测试", settings.sender_address.rsplit("@", 1)[-1], now)
    msg.set_content(
        f"这是一封测试邮件，发送于{now:%Y-%m-%d %H:%M}（北京时间）。\n"
        f"收到它说明邮件服务器 {settings.host}:{settings.port}（{settings.security}）的设置可用，"
        "订阅的就业工作周报可以送达。\n"
    )
    smtp_send(settings, msg)
