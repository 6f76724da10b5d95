"""E-mail subscriptions and their delivery against a real SMTP server (aiosmtpd on 127.0.0.1): who may subscribe
whom, the change log, one message per reader and week however often the job runs, a failed send retried after
its backoff and then sent once, and an interrupted send never repeated."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest

from metrics.auth.access import AccessDenied, Principal
from metrics.auth.accounts import disable_user
from metrics.auth.audit import ACTIONS_ZH
from metrics.ledger.scorecard import overdue_tasks_frame
from metrics.reports.briefing import weekly_briefing
from metrics.reports.mail import SmtpSettings
from metrics.reports.subscriptions import (
    BACKOFF,
    MAX_ATTEMPTS,
    SubscriptionError,
    deliver_due,
    list_deliveries,
    list_subscriptions,
    send_test_as,
    subscribe,
    unsubscribe,
    week_of,
)
from metrics.storage import clock
from metrics.storage.store import Store
from tests.browser_support import free_port
from tests.mail_support import AS_OF, MONDAY, SENDER, Server, mail_catalogues, seed_mail_db, smtp_server

ADMIN = Principal("admin", "admin")
LEADER = Principal("leader", "leader")
OFFICE = Principal("office", "office")
PRESS = Principal("press", "press")
SUBJECT = "就业工作周报（截至2026年11月29日）"


@pytest.fixture
def db(tiny_duck: Store) -> tuple[Store, dict]:
    cats = mail_catalogues()
    with clock.pinned(MONDAY - dt.timedelta(days=7)):  # accounts and subscriptions exist from the week before
        seed_mail_db(tiny_duck, cats)
    return tiny_duck, cats


@pytest.fixture
def smtp() -> Server:
    with smtp_server() as srv:
        yield srv


def settings_for(srv: Server) -> SmtpSettings:
    return SmtpSettings.load({"host": srv.host, "port": srv.port, "security": "none", "sender": SENDER, "timeout": 5})


def sub(store: Store, cats: dict, user: str = "leader", weekday: int = 1, programmes: tuple[str, ...] = ()) -> None:
    with clock.pinned(MONDAY - dt.timedelta(days=7)):
        subscribe(store, ADMIN, user, f"{user}@example.gov.cn", programmes, weekday, catalogues=cats)


def deliveries(store: Store) -> list[tuple]:
    return store.execute(
        "SELECT user_name, week, status, attempts, next_attempt_at, last_error IS NOT NULL FROM mail_deliveries "
        "ORDER BY user_name"
    )


# --------------------------------------------------------------------------- subscriptions


def test_admin_manages_anyone_and_a_reader_their_own(db: tuple[Store, dict]) -> None:
    store, cats = db
    s = subscribe(store, ADMIN, "Leader", "leader@example.gov.cn", ["other", "tiny", "tiny"], 3, catalogues=cats)
    assert (s.user_name, s.email, s.programmes, s.weekday, s.active, s.weekday_zh) == (
        "leader", "leader@example.gov.cn", ("other", "tiny"), 3, True, "星期三"
    )  # fmt: skip
    own = subscribe(store, OFFICE, "office", "office@example.gov.cn", catalogues=cats)
    assert own.programmes == () and own.weekday == 1  # all programmes, Mondays
    with pytest.raises(AccessDenied):
        subscribe(store, LEADER, "office", "spy@example.com", catalogues=cats)  # someone else's: admins only
    with pytest.raises(AccessDenied):
        unsubscribe(store, OFFICE, "leader")
    refused = store.execute("SELECT user_name, action, allowed FROM access_log WHERE NOT allowed ORDER BY access_id")
    assert refused == [("leader", "subscriptions.manage", False), ("office", "subscriptions.manage", False)]
    assert [x.user_name for x in list_subscriptions(store, ADMIN)] == ["leader", "office"]
    assert [x.user_name for x in list_subscriptions(store, OFFICE)] == ["office"]
    with pytest.raises(AccessDenied):
        list_subscriptions(store, PRESS)
    with pytest.raises(AccessDenied):
        list_deliveries(store, LEADER, 10)


def test_press_accounts_and_bad_input_are_refused_in_chinese(db: tuple[Store, dict]) -> None:
    store, cats = db
    with pytest.raises(SubscriptionError, match="宣传账号只看已发布"):  # the briefing holds unpublished KPIs
        subscribe(store, ADMIN, "press", "press@example.gov.cn", catalogues=cats)
    with pytest.raises(SubscriptionError, match="账号不存在或已停用"):
        subscribe(store, ADMIN, "nobody", "n@example.gov.cn", catalogues=cats)
    with pytest.raises(SubscriptionError, match="邮箱地址无效"):
        subscribe(store, ADMIN, "leader", "leader@example.gov.cn\r\nBcc: spy@example.com", catalogues=cats)
    with pytest.raises(SubscriptionError, match="没有这些项目：nowhere"):
        subscribe(store, ADMIN, "leader", "leader@example.gov.cn", ["nowhere"], catalogues=cats)
    for day in (0, 8, True, "1"):
        with pytest.raises(SubscriptionError, match="发送日"):
            subscribe(store, ADMIN, "leader", "leader@example.gov.cn", (), day, catalogues=cats)  # type: ignore[arg-type]
    assert store.execute("SELECT count(*) FROM subscriptions") == [(0,)]


def test_every_change_is_in_the_change_log_with_chinese_labels(db: tuple[Store, dict]) -> None:
    store, cats = db
    subscribe(store, ADMIN, "leader", "leader@example.gov.cn", catalogues=cats)
    subscribe(store, ADMIN, "leader", "leader@example.gov.cn", catalogues=cats)  # no change: no row
    subscribe(store, LEADER, "leader", "zhang@example.gov.cn", ["tiny"], 5, catalogues=cats)
    unsubscribe(store, ADMIN, "leader")
    assert unsubscribe(store, ADMIN, "leader").active is False  # type: ignore[union-attr]
    subscribe(store, ADMIN, "leader", "zhang@example.gov.cn", ["tiny"], 5, catalogues=cats)
    rows = store.execute(
        "SELECT user_name, action, old_values->>'email', new_values->>'email', new_values->>'active' FROM change_log "
        "WHERE entity = 'subscriptions' ORDER BY change_id"
    )
    assert rows == [
        ("admin", "subscribe", None, "leader@example.gov.cn", "true"),
        ("leader", "update", "leader@example.gov.cn", "zhang@example.gov.cn", "true"),
        ("admin", "unsubscribe", "zhang@example.gov.cn", None, "false"),
        ("admin", "subscribe", "zhang@example.gov.cn", "zhang@example.gov.cn", "true"),
    ]
    assert {ACTIONS_ZH[a] for _, a, *_ in rows} == {"订阅周报邮件", "修改", "退订周报邮件"}


# --------------------------------------------------------------------------- delivery


def test_the_weekly_message_as_received(db: tuple[Store, dict], smtp: Server) -> None:
    store, cats = db
    sub(store, cats, "leader")
    with clock.pinned(MONDAY):
        summary = deliver_due(store, settings_for(smtp), AS_OF, now=MONDAY, catalogues=cats)
        expected_briefing = weekly_briefing(
            store, AS_OF, catalogues=cats, overdue_tasks=overdue_tasks_frame(store, LEADER, AS_OF, catalogues=cats),
            generated_at=MONDAY,
        )  # fmt: skip
    assert summary.sent == ["leader"] and summary.ok and "发送1封" in str(summary)
    [(mail_from, rcpt, msg)] = smtp.received.messages
    assert (mail_from, rcpt) == ("kpi@example.gov.cn", ["leader@example.gov.cn"])
    assert msg["Subject"] == SUBJECT
    plain, html_part = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and html_part is not None and "通州活动场次" in plain.get_content()
    cids = set(re.findall(r'src="cid:([^"]+)"', html_part.get_content()))
    inline = {p["Content-ID"].strip("<>") for p in msg.walk() if p.get_content_type() == "image/png"}
    assert cids == inline
    [attached] = [p for p in msg.iter_attachments() if p.get_content_disposition() == "attachment"]
    assert attached.get_filename() == "就业工作周报-2026-11-29.html"
    assert attached.get_content() == expected_briefing  # the leader's own briefing (their overdue tasks)
    [row] = store.execute("SELECT week, as_of, email, status, attempts, sent_at, message_id FROM mail_deliveries")
    assert row == (dt.date(2026, 11, 30), AS_OF, "leader@example.gov.cn", "sent", 1, MONDAY, msg["Message-ID"])


def test_running_again_the_same_week_sends_nothing(db: tuple[Store, dict], smtp: Server) -> None:
    store, cats = db
    sub(store, cats, "leader")
    sub(store, cats, "office")
    settings = settings_for(smtp)
    first = deliver_due(store, settings, AS_OF, now=MONDAY, catalogues=cats)
    assert sorted(first.sent) == ["leader", "office"]
    for later in (MONDAY + dt.timedelta(minutes=1), MONDAY + dt.timedelta(days=2), MONDAY + dt.timedelta(days=6)):
        again = deliver_due(store, settings, AS_OF + dt.timedelta(days=1), now=later, catalogues=cats)
        assert again.sent == [] and sorted(again.already) == ["leader", "office"]
    sub(store, cats, "leader", weekday=3)  # moved to Wednesday after Monday's message: still one this week
    assert deliver_due(store, settings, AS_OF, now=MONDAY + dt.timedelta(days=2), catalogues=cats).sent == []
    assert len(smtp.received.messages) == 2
    next_week = deliver_due(
        store, settings, AS_OF + dt.timedelta(days=7), now=MONDAY + dt.timedelta(days=7), catalogues=cats
    )
    assert next_week.sent == ["office"]  # Monday; the leader's Wednesday has not come yet
    assert deliver_due(store, settings, AS_OF, now=MONDAY + dt.timedelta(days=9), catalogues=cats).sent == ["leader"]


def test_a_reader_is_due_on_their_weekday_and_catches_up_later_that_week(db: tuple[Store, dict], smtp: Server) -> None:
    store, cats = db
    sub(store, cats, "leader", weekday=3)
    settings = settings_for(smtp)
    assert deliver_due(store, settings, AS_OF, now=MONDAY, catalogues=cats).sent == []  # Monday: not yet
    friday = MONDAY + dt.timedelta(days=4)  # the server was down on Wednesday
    assert deliver_due(store, settings, AS_OF, now=friday, catalogues=cats).sent == ["leader"]
    assert week_of(friday.date()) == dt.date(2026, 11, 30)


def test_a_451_is_recorded_retried_after_the_backoff_and_sent_once(db: tuple[Store, dict], smtp: Server) -> None:
    store, cats = db
    sub(store, cats, "leader")
    settings = settings_for(smtp)
    smtp.received.fail = 1
    first = deliver_due(store, settings, AS_OF, now=MONDAY, catalogues=cats)
    assert first.sent == [] and [u for u, _ in first.failed] == ["leader"] and "451" in first.failed[0][1]
    assert deliveries(store) == [("leader", dt.date(2026, 11, 30), "failed", 1, MONDAY + BACKOFF[0], True)]
    [row] = list_deliveries(store, ADMIN, 10).to_dict("records")
    assert row["status_zh"] == "发送失败" and "451" in row["last_error"]
    early = deliver_due(store, settings, AS_OF, now=MONDAY + BACKOFF[0] - dt.timedelta(seconds=1), catalogues=cats)
    assert early.waiting == ["leader"] and early.sent == [] and smtp.received.refused == 1
    retry = deliver_due(store, settings, AS_OF, now=MONDAY + BACKOFF[0], catalogues=cats)
    assert retry.sent == ["leader"]
    assert deliveries(store) == [("leader", dt.date(2026, 11, 30), "sent", 2, None, False)]
    deliver_due(store, settings, AS_OF, now=MONDAY + dt.timedelta(hours=3), catalogues=cats)
    assert len(smtp.received.messages) == 1


def test_a_server_that_is_down_is_tried_five_times_then_given_up(db: tuple[Store, dict]) -> None:
    store, cats = db
    sub(store, cats, "leader")
    closed = SmtpSettings.load({"host": "127.0.0.1", "port": free_port(), "security": "none", "sender": SENDER})
    now = MONDAY
    for attempt in range(1, MAX_ATTEMPTS + 1):
        summary = deliver_due(store, closed, AS_OF, now=now, catalogues=cats)
        assert "ConnectionRefusedError" in summary.failed[0][1]
        [(_, _, status, attempts, next_at, _)] = deliveries(store)
        assert (status, attempts) == ("failed", attempt)
        if attempt < MAX_ATTEMPTS:
            assert next_at == now + BACKOFF[attempt - 1]
            now = next_at
        else:
            assert next_at is None  # given up: the admin page shows it as failed
    assert deliver_due(store, closed, AS_OF, now=now + dt.timedelta(days=1), catalogues=cats).already == ["leader"]


def test_a_send_cut_off_midway_is_not_repeated(db: tuple[Store, dict], smtp: Server) -> None:
    store, cats = db
    sub(store, cats, "leader")
    with store.transaction() as cur:  # what a server stopped between claiming and recording leaves behind
        cur.execute(
            "INSERT INTO mail_deliveries (user_name, week, as_of, email, status, attempts, claimed_at) "
            "VALUES ('leader', ?, ?, 'leader@example.gov.cn', 'pending', 1, ?)",
            [dt.date(2026, 11, 30), AS_OF, MONDAY],
        )
    settings = settings_for(smtp)
    assert deliver_due(store, settings, AS_OF, now=MONDAY + dt.timedelta(minutes=5), catalogues=cats).skipped == [
        "leader"
    ]  # still being sent, perhaps
    later = deliver_due(store, settings, AS_OF, now=MONDAY + dt.timedelta(hours=1), catalogues=cats)
    assert later.sent == [] and smtp.received.messages == []
    [(_, _, status, _, next_at, has_error)] = deliveries(store)
    assert (status, next_at, has_error) == ("failed", None, True)


def test_disabled_readers_are_not_sent_to(db: tuple[Store, dict], smtp: Server) -> None:
    store, cats = db
    sub(store, cats, "leader")
    disable_user(store, ADMIN, "leader")
    summary = deliver_due(store, settings_for(smtp), AS_OF, now=MONDAY, catalogues=cats)
    assert summary.skipped == ["leader"] and smtp.received.messages == [] and deliveries(store) == []


def test_two_runs_at_once_send_one_message(db: tuple[Store, dict], smtp: Server) -> None:
    store, cats = db
    sub(store, cats, "leader")
    settings = settings_for(smtp)
    barrier = threading.Barrier(2)
    results = []

    def run() -> None:
        barrier.wait()
        results.append(deliver_due(store, settings, AS_OF, now=MONDAY, catalogues=cats))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(len(r.sent) for r in results) == [0, 1]
    assert len(smtp.received.messages) == 1


def test_the_smtp_test_message_is_for_administrators(db: tuple[Store, dict], smtp: Server) -> None:
    store, _ = db
    with pytest.raises(AccessDenied):
        send_test_as(store, LEADER, settings_for(smtp), "leader@example.gov.cn")
    send_test_as(store, ADMIN, settings_for(smtp), "admin@example.gov.cn")
    assert [rcpt for _, rcpt, _ in smtp.received.messages] == [["admin@example.gov.cn"]]


def test_one_briefing_per_run_with_each_readers_overdue_tasks_is_their_own_briefing(db: tuple[Store, dict]) -> None:
    """deliver_due computes the briefing once and swaps in each reader's overdue tasks: the attachment must be
    exactly what weekly_briefing makes for that reader."""
    import pandas as pd

    from metrics.reports.briefing import collect_briefing, render_briefing
    from metrics.reports.subscriptions import _with_overdue

    store, cats = db
    tasks = pd.DataFrame(
        {
            "task_id": ["t1", "t2", "t3"],
            "title": ["甲任务", "乙任务", "丙任务"],
            "lead_unit": ["区人力社保局"] * 3,
            "due_date": [dt.date(2026, 11, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)],
            "days_overdue": [28, 59, 28],
        }
    )
    common = collect_briefing(store, AS_OF, catalogues=cats, generated_at=MONDAY)
    mine = render_briefing(_with_overdue(common, tasks), cats)
    assert mine == weekly_briefing(store, AS_OF, catalogues=cats, overdue_tasks=tasks, generated_at=MONDAY)
    assert mine.index("乙任务") < mine.index("甲任务") < mine.index("丙任务")
    assert render_briefing(_with_overdue(common, None), cats) == weekly_briefing(
        store, AS_OF, catalogues=cats, generated_at=MONDAY
    )
