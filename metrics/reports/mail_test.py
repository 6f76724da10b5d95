"""The admin page's SMTP test message, with its outcome in Chinese and in the change log (docs/admin.md).

`subscriptions.send_test_as` checks the permission (a refusal is logged) and sends; this module turns what
the mail server answered into a sentence an administrator can act on, and records the test — sent or not —
as one change_log row (entity 'mail', key the address).
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass

from metrics.auth.access import AccessDenied, Principal
from metrics.reports.mail import SmtpSettings
from metrics.reports.subscriptions import send_test_as
from metrics.storage import changelog
from metrics.storage.changelog import Action
from metrics.storage.store import Store

__all__ = ["MailTest", "explain", "send_test_mail"]


@dataclass(frozen=True)
class MailTest:
    """What a test send did: sent, or the reason in Chinese (with the server's own words)."""

    to: str
    server: str
    sent: bool
    error_zh: str | None = None


def explain(exc: BaseException, settings: SmtpSettings) -> str:
    """Why a send failed, in Chinese, naming the server; the exception's own text follows in brackets."""
    where = f"{settings.host}:{settings.port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        why = f"邮件服务器 {where} 拒绝了用户名或密码"
    elif isinstance(exc, smtplib.SMTPSenderRefused):
        why = f"邮件服务器 {where} 拒绝了发件人地址 {settings.sender}"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        why = f"邮件服务器 {where} 拒收该收件地址"
    elif isinstance(exc, smtplib.SMTPNotSupportedError):
        why = f"邮件服务器 {where} 不支持所设置的加密方式（{settings.security}）或登录"
    elif isinstance(exc, smtplib.SMTPServerDisconnected):
        why = f"邮件服务器 {where} 中途断开了连接（加密方式 {settings.security} 是否与端口相符？）"
    elif isinstance(exc, smtplib.SMTPException):
        why = f"邮件服务器 {where} 拒绝发送"
    elif isinstance(exc, ssl.SSLError):
        why = f"与邮件服务器 {where} 建立加密连接失败（证书或加密方式 {settings.security} 不对）"
    elif isinstance(exc, socket.gaierror):
        why = f"找不到邮件服务器 {settings.host}（域名无法解析）"
    elif isinstance(exc, ConnectionRefusedError):
        why = f"无法连接邮件服务器 {where}（连接被拒绝：地址、端口或防火墙设置不对）"
    elif isinstance(exc, TimeoutError):
        why = f"连接邮件服务器 {where} 超时（{settings.timeout:g} 秒）"
    else:
        why = f"连接邮件服务器 {where} 失败"
    detail = str(exc).strip() or type(exc).__name__
    return f"{why}（{detail[:300]}）"


def send_test_mail(store: Store, actor: Principal, settings: SmtpSettings, to: str) -> MailTest:
    """Send the test message (permission subscriptions.manage; an invalid address raises MailError before
    anything is sent) and record it; a failure of the server is returned, not raised."""
    server = f"{settings.host}:{settings.port}"
    try:
        send_test_as(store, actor, settings, to)
        result = MailTest(to.strip(), server, True)
    except AccessDenied:  # a PermissionError, so an OSError too: a refusal, never a failed send
        raise
    except (smtplib.SMTPException, OSError) as exc:
        result = MailTest(to.strip(), server, False, explain(exc, settings))
    with store.transaction() as cur:
        changelog.record(
            cur,
            actor.user,
            "mail",
            result.to,
            Action.SEND_TEST_MAIL,
            None,
            {"server": server, "security": settings.security, "sent": result.sent, "error": result.error_zh},
        )
    return result
