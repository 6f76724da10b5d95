"""The admin page 系统管理 in Debian's Chromium: an administrator signs in, sees the five tabs, makes a backup
and restores it (the service paused and back), and another user's pages keep working after the restore.
Screenshots land in artifacts/screenshots/admin-*.png for people to look at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from metrics.storage import clock
from metrics.storage.store import Store
from tests.browser_support import AS_OF, body, open_page, require_chromium, settle, shot, wait_text

pytestmark = pytest.mark.browser

require_chromium()

SERVER_ENV: dict[str, str] = {}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from metrics.auth.users import create_demo_accounts
    from metrics.demo.generate import build_demo
    from metrics.kpi.snapshots import backfill_snapshots

    folder = tmp_path_factory.mktemp("browser_admin")
    db = folder / "demo.duckdb"
    build_demo(db, seed=42, scale=0.05, as_of=AS_OF)
    with Store.open(db) as store, clock.pinned(AS_OF):
        backfill_snapshots(store, AS_OF, weeks=2)
        create_demo_accounts(store)
    SERVER_ENV["KPI_BACKUP_DIR"] = str(folder / "backups")
    SERVER_ENV["KPI_SECRETS"] = str(folder / "secrets.toml")  # no mail server: the mail tab says how to set one
    return db


def _tab(page: object, name: str) -> None:
    """Open a tab of the page: only its section runs (st.tabs on_change="rerun"), so wait for the run."""
    page.get_by_role("tab", name=name).click()  # type: ignore[attr-defined]
    settle(page)


def test_admin_signs_in_backs_up_and_restores(server: str, browser: object) -> None:
    page = open_page(browser, server, "admin", user="admin")
    wait_text(page, "新建账号")
    text = body(page)
    for tab in ("账号", "订阅", "定时任务", "备份", "邮件测试"):
        assert tab in text
    assert "疑似遭受密码攻击的账号" in text and "修改账号" in text
    shot(page, "admin-users")

    _tab(page, "定时任务")
    wait_text(page, "每周指标快照")
    assert "每日数据库备份" in body(page) and "立即运行" in body(page)
    shot(page, "admin-jobs")

    _tab(page, "邮件测试")
    assert "尚未配置邮件服务器" in body(page)

    _tab(page, "订阅")
    wait_text(page, "新增订阅")
    assert "还没有订阅" in body(page) and "没有发送失败的周报" in body(page)
    shot(page, "admin-subscriptions")

    _tab(page, "备份")
    wait_text(page, "立即备份")
    assert "备份文件夹中还没有备份" in body(page)
    page.get_by_role("button", name="立即备份").click()
    wait_text(page, "已生成备份")
    name = re.search(r"manual-kpi-\d{8}-\d{6}\.duckdb", body(page))
    assert name is not None
    assert (Path(SERVER_ENV["KPI_BACKUP_DIR"]) / name.group(0)).is_file()
    _tab(page, "备份")
    wait_text(page, "恢复所选备份")
    shot(page, "admin-backups")

    page.get_by_label("确认：请输入备份文件名或“确认恢复”").fill("确认恢复")
    page.keyboard.press("Tab")
    page.get_by_role("button", name="恢复所选备份").click()
    wait_text(page, f"已从 {name.group(0)} 恢复")
    assert "before-restore" in body(page) and "需重新登录" in body(page)
    shot(page, "admin-restored")
    # the restore ended every session, this one too: a reload goes to the sign-in page
    page.reload()
    page.wait_for_url("**/signin**", timeout=60_000)

    # another user, signed in after the restore, gets the overview from the restored database
    leader = open_page(browser, server, "", user="leader")
    wait_text(leader, "就业工作指标总览")
    assert "系统维护中" not in body(leader)
    leader.close()
    page.close()
