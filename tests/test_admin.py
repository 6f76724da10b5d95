"""The admin page 系统管理 and its services: every admin function refuses a non-admin (and logs it), account
changes and backups go to the change log, a restore brings the backup's data back with the service paused
and no cached result of the old file served after it, and the page renders its sections for an admin only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest

import metrics.auth.passwords as passwords_mod
from dashboard import process, service
from metrics.auth import admin, admin_accounts, signin, web_sessions
from metrics.auth.access import AccessDenied, Principal
from metrics.auth.users import UserError, add_user, list_users
from metrics.ops import jobs, scheduler
from metrics.reports import mail_test, subscriptions
from metrics.reports.mail import MailError, SmtpSettings
from metrics.storage import clock
from metrics.storage.backup import Restored
from metrics.storage.store import Store
from tests.mail_support import smtp_server
from tests.support import insert

AS_OF = dt.date(2026, 11, 21)
AT = dt.datetime(2026, 11, 21, 10, 0)
APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
ADMIN = Principal("admin", "admin")
OFFICE = Principal("office", "office")
HRSS = Principal("hrss", "department", unit="区人力社保局", district="通州区")
PW = "Vq7!plateau-orchid-42"


@pytest.fixture(autouse=True)
def fast_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still argon2id, but cheap."""
    monkeypatch.setattr(passwords_mod, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def _events(n: int, prefix: str = "E") -> list[dict[str, Any]]:
    return [
        {
            "event_id": f"{prefix}{i}",
            "district": "通州区",
            "event_type": "招聘会",
            "event_date": dt.date(2026, 1 + i % 10, 5),
            "title": "招聘会",
            "organiser": "区人力社保局",
        }
        for i in range(n)
    ]


@pytest.fixture
def admin_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A database with 10 events and one account per role; served to the dashboard as KPI_DB, backups beside."""
    db = tmp_path / "data" / "kpi.duckdb"
    with Store.open(db) as store, clock.pinned(AT):
        insert(store, "events", _events(10))
        for name, role, unit, district in (
            ("leader", "leader", None, None),
            ("office", "office", None, None),
            ("hrss", "department", "区人力社保局", "通州区"),
            ("admin", "admin", None, None),
        ):
            add_user(store, None, name, role, unit=unit, district=district)
    monkeypatch.setenv("KPI_DB", str(db))
    monkeypatch.delenv("KPI_BACKUP_DIR", raising=False)
    monkeypatch.setenv("KPI_SECRETS", str(tmp_path / "secrets.toml"))  # no mail server unless a test writes one
    yield db


def refusals(store: Store, user: str) -> list[str]:
    return [a for (a,) in store.execute("SELECT action FROM access_log WHERE NOT allowed AND user_name = ?", [user])]


def changes(store: Store, action: str) -> list[tuple[Any, ...]]:
    return store.execute(
        "SELECT user_name, entity, entity_key, old_values, new_values FROM change_log WHERE action = ? "
        "ORDER BY change_id",
        [action],
    )


def _no_swap(replace: Callable[[Path], Restored]) -> tuple[Restored, Store]:
    raise AssertionError("a refused restore must not touch the database")


# --------------------------------------------------------------------------- refusals, at the service layer

ADMIN_CALLS: dict[str, Callable[[Store, Principal, Path], object]] = {
    "account_table": lambda s, p, f: admin_accounts.account_table(s, p),
    "add_user": lambda s, p, f: add_user(s, p, "new.user", "leader", password=PW),
    "set_role": lambda s, p, f: admin_accounts.set_role(s, p, "leader", "office"),
    "set_unit": lambda s, p, f: admin_accounts.set_unit(s, p, "hrss", "区商务局", "通州区"),
    "list_backups": lambda s, p, f: jobs.list_backups(s, p),
    "backup_content": lambda s, p, f: admin.backup_content(s, p, f, "x.duckdb"),
    "restore": lambda s, p, f: admin.restore_as(s, p, f, "x.duckdb", admin.CONFIRM_RESTORE, swap=_no_swap),
    "revoke_sessions": lambda s, p, f: web_sessions.revoke_user(s, p, "leader", "test"),
    "accounts_under_attack": lambda s, p, f: signin.accounts_under_attack(s, p, AT),
    "list_runs": lambda s, p, f: scheduler.list_runs(s, p),
    "run_now": lambda s, p, f: scheduler.run_now(s, p, "backup"),
    "subscribe": lambda s, p, f: subscriptions.subscribe(s, p, "someone", "x@example.gov.cn", catalogues={}),
    "list_deliveries": lambda s, p, f: subscriptions.list_deliveries(s, p),
    "send_test_mail": lambda s, p, f: mail_test.send_test_mail(s, p, SETTINGS, "a@example.gov.cn"),
}
# nothing listens on port 9 of the loopback: a send that got past the check would fail loudly, not hang
SETTINGS = SmtpSettings(host="127.0.0.1", port=9, security="none", sender="kpi@example.gov.cn", timeout=5)


@pytest.mark.parametrize("who", [OFFICE, HRSS, Principal("leader", "leader")], ids=lambda p: p.role)
@pytest.mark.parametrize("call", list(ADMIN_CALLS))
def test_every_admin_function_refuses_a_non_admin_and_logs_it(
    tiny_duck: Store, tmp_path: Path, who: Principal, call: str
) -> None:
    folder = tmp_path / "backups"
    add_user(tiny_duck, None, "leader", "leader")
    before = list_users(tiny_duck, None), tiny_duck.change_version()
    with pytest.raises(AccessDenied):
        ADMIN_CALLS[call](tiny_duck, who, folder)
    assert len(refusals(tiny_duck, who.user)) == 1, call
    assert (list_users(tiny_duck, None), tiny_duck.change_version()) == before  # nothing changed or logged
    assert not folder.exists()  # no backup made


# --------------------------------------------------------------------------- accounts


def test_set_role_moves_unit_and_district_with_the_role_and_is_logged(admin_db: Path) -> None:
    with Store.open(admin_db) as store:
        changed = admin_accounts.set_role(store, ADMIN, "leader", "department", unit="区商务局", district="通州")
        assert (changed.role, changed.unit, changed.district) == ("department", "区商务局", "通州区")
        back = admin_accounts.set_role(store, ADMIN, "leader", "leader")
        assert (back.role, back.unit, back.district) == ("leader", None, None)
        with pytest.raises(UserError, match="单位和所属区"):
            admin_accounts.set_role(store, ADMIN, "leader", "department", unit="区商务局")
        with pytest.raises(UserError, match="不能指定"):
            admin_accounts.set_role(store, ADMIN, "leader", "office", unit="区商务局")
        with pytest.raises(UserError, match="最后一个"):
            admin_accounts.set_role(store, ADMIN, "admin", "office")
        rows = changes(store, "set_role")
        assert [r[:3] for r in rows] == [("admin", "users", "leader")] * 2
        assert '"unit": "区商务局"' in rows[0][4] and '"role": "leader"' in rows[0][3]


def test_set_unit_only_for_departments(admin_db: Path) -> None:
    with Store.open(admin_db) as store:
        moved = admin_accounts.set_unit(store, ADMIN, "hrss", "区商务局", "西城区")
        assert (moved.unit, moved.district) == ("区商务局", "西城区")
        with pytest.raises(UserError, match="请先修改角色"):
            admin_accounts.set_unit(store, ADMIN, "office", "区商务局", "西城区")
        assert len(changes(store, "set_unit")) == 1


def test_account_table_shows_last_sign_in_and_methods(admin_db: Path) -> None:
    from metrics.auth.users import authenticate, reset_password

    with Store.open(admin_db) as store, clock.pinned(AT):
        reset_password(store, None, "office", PW)
        assert authenticate(store, "office", PW) is not None
        table = admin_accounts.account_table(store, ADMIN).set_index("user_name")
    assert table.loc["office", "last_sign_in"] == AT
    assert bool(table.loc["office", "has_password"]) and not bool(table.loc["leader", "has_password"])
    assert table["last_sign_in"].isna().sum() == len(table) - 1
    assert list(table.columns) == list(admin_accounts.ACCOUNT_COLUMNS[1:])


# --------------------------------------------------------------------------- backups and restore


def backup_now() -> Path:
    """A backup made as the admin page's 立即备份 makes it: the scheduler's backup job, run now."""
    run = service.backup_now(ADMIN)
    assert run["outcome"] == "ok", run
    return Path(run["detail"]["file"])


def test_backup_now_lists_downloads_and_logs(admin_db: Path) -> None:
    with clock.pinned(AT):
        made = backup_now()
    assert made.name == "manual-kpi-20261121-100000.duckdb"
    assert made.parent == admin_db.parent / "backups"
    [listed] = service.list_backups(ADMIN)
    assert (listed["name"], listed["kind"], listed["verified"]) == (made.name, "manual", True)
    assert listed["counts"]["events"] == 10
    assert service.backup_content(ADMIN, made.name) == made.read_bytes()
    for bad in ("../kpi.duckdb", "/etc/passwd", "kpi.duckdb.wal", "missing.duckdb"):
        with pytest.raises(service.AdminError):
            service.backup_content(ADMIN, bad)
    store = process.store()
    assert store is not None
    assert changes(store, "run_job")[0][:2] == ("admin", "job_runs")
    assert store.execute("SELECT action, allowed, detail FROM access_log WHERE action = 'backup.download'") == [
        ("backup.download", True, made.name)
    ]


def _event_count() -> int:
    result = service.results(AS_OF)
    return int(result.loc[result["kpi_id"] == "tz-recruitment-events", "actual"].iloc[0])


def test_restore_brings_the_backup_back_and_no_cache_serves_the_old_file(admin_db: Path) -> None:
    assert _event_count() == 10
    store = process.store()
    assert store is not None
    token = web_sessions.create(store, Principal("leader", "leader"), client="127.0.0.1", user_agent="test")
    made = backup_now()
    insert(store, "events", _events(5, prefix="N"))
    assert _event_count() == 15
    version_after_insert = store.data_version()

    with pytest.raises(service.AdminError, match="确认恢复"):
        service.restore_backup(ADMIN, made.name, "yes")
    assert process.store() is store  # nothing paused, nothing replaced

    restored = service.restore_backup(ADMIN, made.name, made.name)
    new = process.store()
    assert new is not store and new is not None
    assert new.count("events") == 10
    assert restored.previous is not None and restored.previous.exists()
    with Store.open(restored.previous, read_only=True) as kept:
        assert kept.count("events") == 15  # the replaced database, kept aside
    # the restored file's data version may equal one the old file had; no cached result of it survives
    assert new.data_version() <= version_after_insert
    assert _event_count() == 10
    assert changes(new, "restore")[0][:2] == ("admin", "database")
    assert f'"backup": "{made.name}"' in changes(new, "restore")[0][4]
    assert new.execute("SELECT allowed FROM access_log WHERE action = 'backup.restore'") == [(True,)]
    # the session in the backup does not come back to life: everyone signs in again
    assert web_sessions.resolve(new, token) == web_sessions.SessionEnd.REVOKED
    assert [r[:3] for r in changes(new, "revoke_sessions")] == [("admin", "users", "leader")]


def test_a_restore_by_typing_confirm_and_a_refused_one(admin_db: Path) -> None:
    made = backup_now()
    with pytest.raises(AccessDenied):
        service.restore_backup(OFFICE, made.name, admin.CONFIRM_RESTORE)
    store = process.store()
    assert store is not None and refusals(store, "office") == ["backup.restore"]
    service.restore_backup(ADMIN, made.name, admin.CONFIRM_RESTORE)
    assert process.store() is not store


def test_a_failed_restore_reopens_the_old_database(admin_db: Path) -> None:
    folder = admin_db.parent / "backups"
    folder.mkdir()
    (folder / "broken.duckdb").write_bytes(b"not a database")
    with pytest.raises(service.KpiError, match="无法读取备份文件"):
        service.restore_backup(ADMIN, "broken.duckdb", admin.CONFIRM_RESTORE)
    store = process.store()
    assert store is not None and store.count("events") == 10


# --------------------------------------------------------------------------- the page (AppTest)


def run_admin(principal: Principal, tab: str | None = None) -> AppTest:
    """The admin page as `principal` sees it, on its first tab or on `tab` (only the open tab's section runs)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["as_of"] = AS_OF
    at.session_state["principal"] = principal
    if tab is not None:
        at.session_state["admin_tab"] = tab
    at.run()
    if principal.role == "admin":
        at.switch_page("views/admin.py").run()
    assert not at.exception, at.exception
    return at


def test_the_admin_page_renders_its_sections_for_an_admin(admin_db: Path) -> None:
    at = run_admin(ADMIN)
    assert at.title[0].value == "系统管理"
    assert [tab.label for tab in at.tabs] == ["账号", "订阅", "定时任务", "备份", "邮件测试"]
    table = at.dataframe[0].value
    assert set(table["user_name"]) == {"leader", "office", "hrss", "admin"}
    assert dict(zip(table["user_name"], table["role_label"], strict=True))["hrss"] == "部门"
    assert "adm_backup_now" not in {b.key for b in at.button}  # only the open tab's section runs
    at.session_state["admin_tab"] = "备份"
    at.run()
    at.button(key="adm_backup_now").click().run()
    assert not at.exception, at.exception
    assert any("已生成备份 manual-kpi-" in s.value.replace("\\", "") for s in at.success), at.success


def test_the_admin_page_adds_an_account_and_refuses_a_weak_or_mismatched_password(admin_db: Path) -> None:
    at = run_admin(ADMIN)
    at.text_input(key="adm_add_name").input("zhang.san")
    at.text_input(key="adm_add_pw").input(PW)
    at.text_input(key="adm_add_pw2").input(PW + "x")
    at.button(key="adm_add_btn").click().run()
    assert [e.value for e in at.error] == ["两次输入的密码不一致。"]
    at.text_input(key="adm_add_pw").input("aaaaaaaaaa")
    at.text_input(key="adm_add_pw2").input("aaaaaaaaaa")
    at.button(key="adm_add_btn").click().run()
    assert at.error, "a weak password must be refused"
    at.text_input(key="adm_add_pw").input(PW)
    at.text_input(key="adm_add_pw2").input(PW)
    at.button(key="adm_add_btn").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "zhang.san" in set(at.dataframe[0].value["user_name"])


def test_the_admin_page_is_refused_to_the_office_and_logged(admin_db: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["as_of"] = AS_OF
    at.session_state["principal"] = OFFICE
    at.run()
    with pytest.raises(ValueError, match="admin"):  # not among the office's pages
        at.switch_page("views/admin.py")
    at2 = AppTest.from_file(APP, default_timeout=60)
    at2.session_state["as_of"] = AS_OF
    at2.session_state["principal"] = OFFICE
    at2.session_state["after_login"] = ("admin", {})  # a link to the admin page, followed after signing in
    at2.run()
    assert not at2.exception, at2.exception
    assert any("系统管理" in e.value for e in at2.error)
    store = process.store()
    assert store is not None and "users.manage" in refusals(store, "office")


def test_other_users_see_maintenance_while_a_restore_runs(admin_db: Path) -> None:
    seen: list[str] = []

    def during(db: Path) -> Restored:
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["as_of"] = AS_OF
        at.session_state["principal"] = Principal("leader", "leader")
        at.run()
        seen.extend(i.value for i in at.info)
        assert not at.exception and not at.metric  # no page ran against the half-swapped database
        return Restored(db=db, counts={}, previous=None, schema_version=0)

    process.store()
    process.replace_database(during)
    assert seen == ["系统维护中：管理员正在恢复数据备份，请稍候片刻再刷新页面。"]
    at = run_admin(Principal("leader", "leader"))
    assert at.metric  # the overview runs again after the pause


# --------------------------------------------------------------------------- the SMTP test, against aiosmtpd


def _secrets(port: int) -> str:
    return f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nsender = "kpi@example.gov.cn"\ntimeout = 5\n'


def test_the_smtp_test_sends_through_the_settings_and_is_logged(admin_db: Path, tmp_path: Path) -> None:
    with pytest.raises(MailError, match="未配置邮件服务器"):
        service.send_test_mail(ADMIN, "chen@example.gov.cn")
    with smtp_server() as server:
        (tmp_path / "secrets.toml").write_text(_secrets(server.port), encoding="utf-8")
        with pytest.raises(MailError, match="邮箱地址无效"):
            service.send_test_mail(ADMIN, "chen@example.gov.cn\nBcc: x@example.com")
        result = service.send_test_mail(ADMIN, "chen@example.gov.cn")
        assert result.sent and result.error_zh is None
        [(mail_from, to, msg)] = server.received.messages
        assert (mail_from, to, msg["Subject"]) == (
            "kpi@example.gov.cn",
            ["chen@example.gov.cn"],
            "就业工作周报邮件测试",
        )
    # the server is gone: the same test now fails, and says why in Chinese
    failed = service.send_test_mail(ADMIN, "chen@example.gov.cn")
    assert not failed.sent and failed.error_zh is not None and "连接被拒绝" in failed.error_zh
    store = process.store()
    assert store is not None
    rows = changes(store, "send_test_mail")
    assert [(r[0], r[1], r[2]) for r in rows] == [("admin", "mail", "chen@example.gov.cn")] * 2
    assert '"sent": true' in rows[0][4] and '"sent": false' in rows[1][4]


def test_the_mail_tab_shows_success_and_the_server_error(admin_db: Path, tmp_path: Path) -> None:
    with smtp_server() as server:
        (tmp_path / "secrets.toml").write_text(_secrets(server.port), encoding="utf-8")
        at = run_admin(ADMIN, "邮件测试")
        at.text_input(key="adm_mail_to").input("chen@example.gov.cn")
        at.button(key="adm_mail_btn").click().run()
        assert not at.exception, at.exception
        assert any("测试邮件已发送至 chen@example" in s.value.replace("\\", "") for s in at.success)
        assert len(server.received.messages) == 1
    at.button(key="adm_mail_btn").click().run()
    assert any("测试邮件发送失败" in e.value and "连接被拒绝" in e.value for e in at.error)


# --------------------------------------------------------------------------- jobs and subscriptions tabs


def test_run_now_from_the_jobs_tab_records_the_run(admin_db: Path) -> None:
    at = run_admin(ADMIN, "定时任务")
    assert any("每周指标快照" in m.value for m in at.markdown)
    at.button(key="adm_run_snapshot").click().run()
    assert not at.exception, at.exception
    assert any("已运行任务：每周指标快照（成功）" in s.value for s in at.success), [s.value for s in at.success]
    runs = service.list_runs(ADMIN)
    assert [(r["job"], r["outcome"], r["triggered_by"]) for r in runs] == [("snapshot", "ok", "admin")]
    store = process.store()
    assert store is not None and len(changes(store, "run_job")) == 1
    shown = at.dataframe[-1].value
    assert list(shown["label_zh"]) == ["每周指标快照"]


def test_subscriptions_tab_adds_lists_and_removes(admin_db: Path) -> None:
    at = run_admin(ADMIN, "订阅")
    at.selectbox(key="adm_sub_user").select("leader")
    at.text_input(key="adm_sub_email").input("leader@example.gov.cn")
    at.selectbox(key="adm_sub_weekday").select(1)
    at.button(key="adm_sub_btn").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    [sub] = service.list_subscriptions(ADMIN)
    assert (sub.user_name, sub.email, sub.weekday, sub.active) == ("leader", "leader@example.gov.cn", 1, True)
    frames = [d.value for d in at.dataframe if "email" in d.value.columns]
    assert list(frames[0]["weekday"]) == ["星期一"]
    at.button(key="adm_unsub_btn").click().run()
    assert not at.exception
    assert [s.active for s in service.list_subscriptions(ADMIN)] == [False]


def test_revoke_sessions_and_accounts_under_attack_on_the_users_tab(admin_db: Path) -> None:
    store = process.store()
    assert store is not None
    web_sessions.create(store, Principal("leader", "leader"), client="127.0.0.1", user_agent="test", clock=lambda: AT)
    for k in range(6):  # an hour apart: never throttled, every one a counted failure
        signin.sign_in(
            store, "leader", "wrong-password-123", client="10.0.0.9", clock=lambda k=k: AT + dt.timedelta(hours=k)
        )
    with clock.pinned(AT + dt.timedelta(hours=7)):
        at = run_admin(ADMIN)
    attacked = next(d.value for d in at.dataframe if "failures" in d.value.columns)
    assert list(attacked["user_name"]) == ["leader"] and int(attacked["failures"].iloc[0]) >= 5
    with clock.pinned(AT + dt.timedelta(hours=7)):
        at.selectbox(key="adm_edit_user").select("leader").run()
        at.button(key="adm_revoke_leader").click().run()
    assert not at.exception, at.exception
    assert any("已注销 1 个登录会话" in s.value for s in at.success), [s.value for s in at.success]
    assert len(changes(store, "revoke_sessions")) == 1


def test_restore_from_the_backups_tab_needs_the_confirmation_each_time(admin_db: Path) -> None:
    made = backup_now()
    at = run_admin(ADMIN, "备份")
    at.button(key="adm_restore_btn").click().run()
    assert any("确认恢复" in e.value for e in at.error)  # nothing typed: refused, nothing replaced
    before = process.store()
    at.text_input(key="adm_restore_confirm_0").input(made.name)
    at.button(key="adm_restore_btn").click().run()
    assert not at.exception, at.exception
    assert any("已从 " in s.value and "before" in s.value for s in at.success), [s.value for s in at.success]
    assert any("需重新登录" in s.value for s in at.success)
    assert process.store() is not before
    at.run()
    assert at.text_input(key="adm_restore_confirm_1").value == ""  # the next restore is confirmed anew
    at.button(key="adm_restore_btn").click().run()
    assert any("确认恢复" in e.value for e in at.error)
    assert process.store() is not before and not at.exception


def test_the_admin_page_in_english(admin_db: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["as_of"] = AS_OF
    at.session_state["principal"] = ADMIN
    at.session_state["lang"] = "en"
    at.run()
    at.switch_page("views/admin.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Administration"
    assert [tab.label for tab in at.tabs] == ["Users", "Subscriptions", "Scheduled jobs", "Backups", "Mail test"]
    assert "Leadership" in set(at.dataframe[0].value["role_label"])


def test_a_failed_delivery_is_shown_with_its_error_and_next_attempt(admin_db: Path) -> None:
    """A briefing sent to a mail server that is down (nothing listens on the port) is shown failed, with the
    attempts, the error and when it is tried again."""
    store = process.store()
    assert store is not None
    monday = dt.datetime(2026, 11, 23, 8, 0)
    with clock.pinned(monday):
        service.subscribe(ADMIN, "leader", "leader@example.gov.cn", [], 1)
        summary = subscriptions.deliver_due(store, SETTINGS, AS_OF, now=monday)
        assert [user for user, _ in summary.failed] == ["leader"]
        at = run_admin(ADMIN, "订阅")
    assert not at.exception, at.exception
    failed = next(d.value for d in at.dataframe if "last_error" in d.value.columns)
    assert list(failed["user_name"]) == ["leader"] and list(failed["status_zh"]) == ["发送失败"]
    assert int(failed["attempts"].iloc[0]) == 1 and failed["next_attempt_at"].iloc[0] > monday
    assert "Connection refused" in failed["last_error"].iloc[0] or "拒绝" in failed["last_error"].iloc[0]
