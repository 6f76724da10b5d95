"""The weekly briefing e-mail and its SMTP connection: the composed message's parts (subject, plain text, the
phone-sized HTML with its inline PNG charts, the printable briefing attached), the [smtp] settings, and
sending through a real SMTP server (aiosmtpd) over STARTTLS with a login, implicit TLS and plain SMTP."""

from __future__ import annotations

import email
import email.policy
import re
import ssl
import tomllib
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path

import pytest
import trustme

from metrics.reports.briefing import collect_briefing, render_briefing
from metrics.reports.charts_png import charts_available
from metrics.reports.mail import (
    MailError,
    SmtpSettings,
    attachment_name,
    check_address,
    compose_weekly,
    send_test,
    smtp_send,
)
from metrics.storage.store import Store
from tests.mail_support import AS_OF, HOSTILE, MONDAY, SENDER, mail_catalogues, seed_mail_db, smtp_server, write_ca

SUBJECT = "就业工作周报（截至2026年11月29日）"


@pytest.fixture(scope="module")
def briefed() -> tuple[Store, dict]:
    store = Store.memory()
    cats = mail_catalogues()
    seed_mail_db(store, cats)
    return store, cats


def compose(briefed: tuple[Store, dict], programmes: tuple[str, ...] = ()) -> tuple[EmailMessage, str]:
    store, cats = briefed
    data = collect_briefing(store, AS_OF, catalogues=cats, generated_at=MONDAY)
    msg = compose_weekly(data, cats, sender=SENDER, to="leader@example.gov.cn", programmes=programmes)
    return msg, render_briefing(data, cats)


def received_form(msg: EmailMessage) -> EmailMessage:
    """The message as a mail client parses it from the wire."""
    return email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)  # type: ignore[return-value]


def test_subject_is_rfc2047_encoded_and_decodes_to_the_chinese_title(briefed: tuple[Store, dict]) -> None:
    msg, _ = compose(briefed)
    raw = msg.as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # every header is 7-bit on the wire
    subject_line = re.search(r"^Subject: ([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", head, re.M)
    assert subject_line and "=?utf-8?" in subject_line.group(1)
    assert str(make_header(decode_header(subject_line.group(1)))) == SUBJECT
    parsed = received_form(msg)
    assert parsed["Subject"] == SUBJECT
    assert parsed["To"] == "leader@example.gov.cn"
    assert parsed["From"].addresses[0].addr_spec == "kpi@example.gov.cn"
    assert parsed["From"].addresses[0].display_name == "就业工作周报"
    assert parsed["Date"].datetime.isoformat() == "2026-11-30T07:30:00+08:00"  # Beijing time, with its offset
    assert re.fullmatch(r"<[^@<>\s]+@example\.gov\.cn>", parsed["Message-ID"])


def test_parts_text_html_inline_pngs_and_the_briefing_attached(briefed: tuple[Store, dict]) -> None:
    msg, briefing = compose(briefed)
    parsed = received_form(msg)
    assert parsed.get_content_type() == "multipart/mixed"
    kinds = [p.get_content_type() for p in parsed.walk()]
    assert kinds[:4] == ["multipart/mixed", "multipart/alternative", "text/plain", "multipart/related"]
    plain = parsed.get_body(("plain",))
    html_part = parsed.get_body(("html",))
    assert plain is not None and html_part is not None
    text, html_text = plain.get_content(), html_part.get_content()
    assert text.startswith(SUBJECT) and "西城招聘会场次" in text and "新达标：通州活动场次" in text
    assert "max-width:600px" in html_text and "viewport" in html_text

    # every cid: in the HTML is an inline image/png part with that Content-ID, and every such part is used
    cids = set(re.findall(r'src="cid:([^"]+)"', html_text))
    images = {
        p["Content-ID"].strip("<>"): p
        for p in parsed.walk()
        if p.get_content_type() == "image/png" and p.get_content_disposition() == "inline"
    }
    if charts_available():  # CI installs fonts-noto-cjk; without a CJK font the charts are left out
        assert len(cids) == 2
    assert cids == set(images)
    for part in images.values():
        assert part.get_content()[:8] == b"\x89PNG\r\n\x1a\n"

    attachments = [p for p in parsed.iter_attachments() if p.get_content_disposition() == "attachment"]
    assert [a.get_filename() for a in attachments] == [attachment_name(AS_OF)] == ["就业工作周报-2026-11-29.html"]
    assert attachments[0].get_content_type() == "text/html"
    assert attachments[0].get_content() == briefing  # the printable briefing itself, byte for byte


def test_html_escapes_catalogue_text_and_orders_off_track_first(briefed: tuple[Store, dict]) -> None:
    msg, _ = compose(briefed)
    html_text = received_form(msg).get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert HOSTILE not in html_text and "<img src=x" not in html_text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;招聘会&amp;场次" in html_text
    assert "<script" not in html_text and "<style" not in html_text  # mail clients drop both: inline styles only
    tiles = dict(re.findall(r'data-status="(\w+)" data-count="(\d+)"', html_text))
    assert tiles == {"achieved": "1", "on_track": "0", "at_risk": "0", "off_track": "2", "no_data": "0"}
    attention = html_text.split("二、滞后和有风险的指标")[1].split("三、本周变化")[0]
    assert attention.count("滞后</span>") == 2 and "已达标" not in attention


def test_the_body_shows_the_subscribed_programmes_and_the_attachment_all(briefed: tuple[Store, dict]) -> None:
    msg, briefing = compose(briefed, programmes=("other",))
    parsed = received_form(msg)
    html_text = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for body in (html_text, text):
        assert "西城招聘会场次" in body and "通州活动场次" not in body and "订阅项目：西城测试" in body
    attached = next(p for p in parsed.iter_attachments() if p.get_filename()).get_content()
    assert "通州活动场次" in attached and "西城招聘会场次" in attached and attached == briefing


# --------------------------------------------------------------------------- settings


def test_settings_from_the_smtp_table_with_the_usual_ports(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[smtp]\nhost = "mail.example.gov.cn"\nsecurity = "ssl"\nuser = "kpi"\npassword = "not-in-logs"\n'
        'sender = "就业工作周报 <kpi@example.gov.cn>"\n',
        encoding="utf-8",
    )
    s = SmtpSettings.from_file(secrets)
    assert s is not None and (s.host, s.port, s.security, s.timeout) == ("mail.example.gov.cn", 465, "ssl", 30.0)
    assert s.sender_address == "kpi@example.gov.cn"
    assert "not-in-logs" not in repr(s) and "not-in-logs" not in str(s)
    assert SmtpSettings.load(tomllib.loads(secrets.read_text(encoding="utf-8"))) == s  # the whole secrets
    assert SmtpSettings.load({"host": "h.example.cn", "sender": "a@example.cn"}).port == 587  # STARTTLS default
    assert SmtpSettings.load({"host": "h.example.cn", "sender": "a@example.cn", "security": "none"}).port == 25
    assert SmtpSettings.from_file(tmp_path / "absent.toml") is None
    assert SmtpSettings.load(secrets) == SmtpSettings.load(str(secrets)) == s  # the scheduler passes the path
    secrets.write_text('[auth]\nredirect_uri = "x"\n', encoding="utf-8")
    with pytest.raises(MailError, match="未配置邮件服务器"):
        SmtpSettings.load(secrets)


@pytest.mark.parametrize(
    "table",
    [
        {"sender": "a@example.cn"},  # no host
        {"host": "h", "sender": "a@example.cn", "security": "tls"},
        {"host": "h", "sender": "a@example.cn\r\nBcc: spy@example.com"},
        {"host": "h", "sender": "a@example.cn, b@example.cn"},
        {"host": "h", "sender": "a@example.cn", "port": 70000},
        {"host": "h", "sender": "a@example.cn", "colour": "red"},  # a misspelt key is not ignored
    ],
)
def test_bad_settings_are_refused_in_chinese(table: dict) -> None:
    with pytest.raises(MailError, match="邮件服务器设置有误"):
        SmtpSettings.load({"smtp": table})


@pytest.mark.parametrize(
    "address",
    ["", "leader", "leader@localhost", "a b@example.cn", "leader@example.cn\r\nBcc: spy@example.com",
     "a@example.cn, b@example.cn", "领导 <leader@example.cn>", "领导@example.cn"],
)  # fmt: skip
def test_an_address_is_one_plain_address(address: str) -> None:
    with pytest.raises(MailError, match="邮箱地址无效"):
        check_address(address)
    assert check_address(" leader.zhang+weekly@example.gov.cn ") == "leader.zhang+weekly@example.gov.cn"


# --------------------------------------------------------------------------- sending


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    return ctx


def test_starttls_with_a_login_delivers_the_weekly_message(
    briefed: tuple[Store, dict], ca: trustme.CA, tmp_path: Path
) -> None:
    msg, _ = compose(briefed)
    with smtp_server(starttls=server_context(ca), login=("kpi", "s3cret-Passw0rd")) as srv:
        settings = SmtpSettings.load(
            {"host": srv.host, "port": srv.port, "security": "starttls", "user": "kpi", "password": "s3cret-Passw0rd",
             "sender": SENDER, "ca_file": str(write_ca(ca, tmp_path)), "timeout": 10}
        )  # fmt: skip
        smtp_send(settings, msg)
        [(mail_from, rcpt, got)] = srv.received.messages
    assert (mail_from, rcpt) == ("kpi@example.gov.cn", ["leader@example.gov.cn"])
    assert got["Subject"] == SUBJECT and got["Message-ID"] == msg["Message-ID"]


def test_a_wrong_password_or_an_untrusted_certificate_is_an_error(ca: trustme.CA, tmp_path: Path) -> None:
    import smtplib

    with smtp_server(starttls=server_context(ca), login=("kpi", "right")) as srv:
        base = {"host": srv.host, "port": srv.port, "user": "kpi", "sender": SENDER, "timeout": 10}
        with pytest.raises(ssl.SSLCertVerificationError):  # no ca_file: the private CA is not trusted
            send_test(SmtpSettings.load({**base, "password": "right"}), "a@example.gov.cn")
        with pytest.raises(smtplib.SMTPAuthenticationError):
            send_test(SmtpSettings.load({**base, "password": "wrong", "ca_file": str(write_ca(ca, tmp_path))}), "a@example.gov.cn")  # fmt: skip
        assert srv.received.messages == []


def test_implicit_tls_and_plain_smtp_deliver_the_test_message(ca: trustme.CA, tmp_path: Path) -> None:
    with smtp_server(implicit_tls=server_context(ca)) as srv:
        send_test(
            SmtpSettings.load({"host": srv.host, "port": srv.port, "security": "ssl", "sender": SENDER,
                               "ca_file": str(write_ca(ca, tmp_path))}),
            "admin@example.gov.cn",
        )  # fmt: skip
        [(_, rcpt, got)] = srv.received.messages
    assert rcpt == ["admin@example.gov.cn"] and got["Subject"] == "就业工作周报邮件测试"
    assert "测试邮件" in got.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    with smtp_server() as srv:
        send_test(
            SmtpSettings.load({"host": srv.host, "port": srv.port, "security": "none", "sender": SENDER}),
            "a@example.cn",
        )
        assert len(srv.received.messages) == 1


def test_a_closed_port_fails_within_the_timeout() -> None:
    from tests.browser_support import free_port

    settings = SmtpSettings.load(
        {"host": "127.0.0.1", "port": free_port(), "security": "none", "sender": SENDER, "timeout": 3}
    )
    with pytest.raises(ConnectionRefusedError):
        send_test(settings, "a@example.cn")


def test_every_smtp_setting_is_documented_and_the_secrets_file_is_never_committed() -> None:
    root = Path(__file__).resolve().parents[1]
    doc = (root / "docs" / "server.md").read_text(encoding="utf-8")
    section = doc.split("## E-mail subscriptions", 1)[1].split("\n## ", 1)[0]
    sample = section.split("```toml", 1)[1].split("```", 1)[0]
    documented = {line.lstrip("# ").split(" ", 1)[0] for line in sample.splitlines() if "=" in line}
    assert documented == set(SmtpSettings.model_fields)
    assert ".streamlit/secrets.toml" in (root / ".gitignore").read_text(encoding="utf-8").splitlines()
