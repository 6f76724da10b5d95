"""The department workspace (issue 4) in a real browser, on a freshly built small demo database.

The acceptance path: the department (hrss, 西城区人力社保局) opens a task account with a milestone, appends an
update with an evidence file, uploads a messy ledger, reads the error table, fixes it and re-uploads, asks
for closure; the office issues a supervision notice and approves the closure; the leader sees the task
closed and the scorecard. Also: an office page opened by URL is refused, and a save from a second session
over a newer version is refused with 已被他人修改. Screenshots: artifacts/screenshots/workspace-*.png.

Uses the app server and browser fixtures of tests/conftest.py and the helpers of tests/browser_support.py
(required when CI=true, skipped with a message when Chromium is missing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from metrics.storage import clock
from metrics.storage.store import Store
from tests.browser_support import AS_OF, attach, body, open_page, require_chromium, settle, shot, wait_text

pytestmark = pytest.mark.browser

require_chromium()

TASK = "xc-t09"  # 三、9 鼓励青年积极参与就业见习: led by 区人力社保局 in 西城区, no account in the demo
TASK_TITLE = "鼓励青年积极参与就业见习"
SEEDED_TITLE = "推动新就业形态持续健康有序发展"  # xc-t11, opened by the demo ledger for hrss (owner 李强)

HEAD = "岗位信息编号,所属区,统一社会信用代码,采集日期,所属行业,岗位数量"
# a department's ledger as it comes: a title row, GB18030, mixed date formats, and four mistakes
MESSY = "\r\n".join(
    [
        "西城区空岗信息采集台账（2026年11月）,,,,,",
        HEAD,
        "XC-GW-2611-001,西城区,91110102MA01ABCD1X,2026-11-02,信息传输、软件和信息技术服务业,12",
        "XC-GW-2611-002,西城区,91110102MA01ABCD,2026/11/05,批发和零售业,3",
        "XC-GW-2611-003,西城区,91110102MA01ABCD2Y,2026-13-08,住宿和餐饮业,5",
        "XC-GW-2611-004,西城区,91110102MA01ABCD3Z,2026年11月9日,,0",
    ]
)
FIXED = "\r\n".join(
    [
        "西城区空岗信息采集台账（2026年11月）,,,,,",
        HEAD,
        "XC-GW-2611-001,西城区,91110102MA01ABCD1X,2026-11-02,信息传输、软件和信息技术服务业,12",
        "XC-GW-2611-002,西城区,91110102MA01ABCD0W,2026/11/05,批发和零售业,3",
        "XC-GW-2611-003,西城区,91110102MA01ABCD2Y,2026-11-08,住宿和餐饮业,5",
        "XC-GW-2611-004,西城区,91110102MA01ABCD3Z,2026年11月9日,居民服务业,1",
    ]
)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh small demo database for this module (the server fixture of tests/conftest.py serves it)."""
    from metrics.auth.users import create_demo_accounts
    from metrics.demo.generate import build_demo
    from metrics.demo.ledger import seed_ledger

    db = tmp_path_factory.mktemp("workspace") / "demo.duckdb"
    build_demo(db, seed=42, scale=0.05, as_of=AS_OF)
    with Store.open(db) as store:
        create_demo_accounts(store)
        seed_ledger(store, clock.today())
    return db


# --------------------------------------------------------------------------- helpers


def choose(page: Any, label: str, text: str) -> None:
    """Pick the option of a select box whose label contains `text` (typed into its search field)."""
    box = page.get_by_label(label, exact=True)
    box.click()
    box.fill(text)
    page.get_by_role("option").filter(has_text=text).first.click()
    page.keyboard.press("Escape")  # a multiselect stays open after a choice
    settle(page)


def expand(page: Any, title: str) -> None:
    page.locator("[data-testid='stExpander'] summary").filter(has_text=title).first.click()
    page.wait_for_timeout(300)


def press(page: Any, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).first.click()
    settle(page)


def sign_in_at(browser: Any, url: str, path: str, user: str, wait_for: str) -> Any:
    page = open_page(browser, url, path, user=user)
    wait_text(page, wait_for)
    return page


# --------------------------------------------------------------------------- the acceptance path


def test_department_office_and_leader_walk_the_ledger_cycle(server: str, browser: Any) -> None:
    # 1. the department signs in on the ledger page and sees its district's tasks only
    hrss = sign_in_at(browser, server, "ledger", "hrss", "任务台账：建账")
    assert "本账号（西城区 区人力社保局）" in body(hrss)
    shot(hrss, "workspace-01-ledger-department")

    # 2. 建账: plan, owner, one milestone, a linked KPI
    choose(hrss, "选择任务", TASK_TITLE)
    wait_text(hrss, "尚未建账")
    hrss.get_by_label("工作计划").fill("全年组织就业见习不少于200人，重点帮扶困难家庭毕业生。<b>不应加粗</b>")
    hrss.get_by_label("责任人").fill("赵敏")
    hrss.get_by_label("节点 1 名称").fill("完成2027年见习单位认定")
    choose(hrss, "关联指标", "参加就业见习人数")
    shot(hrss, "workspace-02-open-account-form")
    press(hrss, "建账")
    wait_text(hrss, "已保存。")
    text = body(hrss)
    assert "在办" in text and "赵敏" in text and "<b>不应加粗</b>" in text  # stored and shown verbatim
    shot(hrss, "workspace-03-account-opened")

    # 3. 进展 with an evidence file and a reported value
    expand(hrss, "报送进展")
    hrss.get_by_label("进展情况").fill("已认定见习单位 18 家，发布见习岗位 230 个。")
    hrss.get_by_label("填报数值：参加就业见习人数").fill("46")
    attach(hrss, "佐证材料（", "见习单位认定名单.txt", "见习单位认定名单（18 家）".encode())
    hrss.locator("[data-testid='stForm']").filter(has_text="进展情况").get_by_role("button", name="报送进展").click()
    settle(hrss)
    wait_text(hrss, "已保存。")
    assert "下载 见习单位认定名单.txt" in body(hrss)
    shot(hrss, "workspace-04-update-with-evidence")

    # 4. a messy ledger upload: every error as row, column, value; nothing written
    hrss.get_by_role("link", name="数据上传").click()
    wait_text(hrss, "下载填报模板")
    choose(hrss, "数据类型", "空岗信息采集")
    attach(hrss, "选择文件", "空岗信息采集_11月.csv", MESSY.encode("gb18030"), "text/csv")
    wait_text(hrss, "处错误，文件不会被导入")
    errors = body(hrss)
    for expected_cell in ("91110102MA01ABCD", "2026-13-08", "岗位数量", "所属行业"):
        assert expected_cell in errors, expected_cell
    assert "暂无上传记录" in errors  # the rejected file wrote nothing
    shot(hrss, "workspace-05-upload-errors")

    # 5. a valid file with another district's row: listed before any import button, and not imported
    other = FIXED.replace("XC-GW-2611-004,西城区", "XC-GW-2611-004,通州区")
    attach(hrss, "选择文件", "空岗信息采集_含通州.csv", other.encode("gb18030"), "text/csv")
    wait_text(hrss, "文件中有 1 行的“所属区”不是西城区")
    assert hrss.get_by_role("button", name="确认导入").count() == 0
    shot(hrss, "workspace-06-upload-other-district")

    # 6. the fixed file validates, imports, and appears in the history
    attach(hrss, "选择文件", "空岗信息采集_11月_修改.csv", FIXED.encode("gb18030"), "text/csv")
    wait_text(hrss, "校验通过：4 行")
    press(hrss, "确认导入")
    wait_text(hrss, "已导入")
    assert "新增 4" in body(hrss)
    shot(hrss, "workspace-07-upload-imported")

    # 7. 销账申请 with evidence
    hrss.get_by_role("link", name="任务台账").click()
    wait_text(hrss, "任务台账：建账")
    choose(hrss, "选择任务", TASK_TITLE)
    wait_text(hrss, "赵敏")
    expand(hrss, "申请销账")
    hrss.get_by_label("完成情况说明").fill("全年见习目标已完成，申请销账。")
    attach(hrss, "佐证材料（", "见习总结.txt", "见习人数 212 人".encode())
    hrss.locator("[data-testid='stForm']").filter(has_text="完成情况说明").get_by_role(
        "button", name="申请销账"
    ).click()
    settle(hrss)
    wait_text(hrss, "已保存。")
    assert "销账审核中" in body(hrss) and "待审核" in body(hrss)
    shot(hrss, "workspace-08-closure-requested")

    # 8. the office: 督办, then approves the closure
    office = sign_in_at(browser, server, "ledger", "office", "任务台账：建账")
    choose(office, "选择任务", TASK_TITLE)
    wait_text(office, "销账审核中")
    expand(office, "下发督办")
    office.get_by_label("督办事由").fill("请在批准销账前补报 12 月见习人数。")
    office.locator("[data-testid='stForm']").filter(has_text="督办事由").get_by_role("button", name="下发督办").click()
    settle(office)
    wait_text(office, "已保存。")
    assert "请在批准销账前补报" in body(office) and "待回复" in body(office)
    shot(office, "workspace-09-office-notice")
    press(office, "同意销账")
    wait_text(office, "已批准销账")
    assert "已销账" in body(office)
    shot(office, "workspace-10-office-approved")

    # 9. the leader sees the task closed and the scorecard
    leader = sign_in_at(browser, server, "ledger", "leader", "任务台账：建账")
    choose(leader, "选择任务", TASK_TITLE)
    wait_text(leader, "已批准销账")
    text = body(leader)
    assert "已销账" in text and "已批准销账" in text
    assert leader.locator("[data-testid='stForm'], [data-testid='stExpander']").count() == 0  # read only
    version = leader.locator("[data-testid='stMetric']").filter(has_text="版本")
    assert version.inner_text().split()[-1] == "3"  # opened 1, closure requested 2, approved 3
    shot(leader, "workspace-11-leader-closed-task")
    leader.get_by_role("link", name="部门考评").click()
    wait_text(leader, "部门考评：")
    shot(leader, "workspace-12-leader-scorecard")

    # (the database itself is held by the server; the pages above showed what it holds)


# --------------------------------------------------------------------------- refusals


def test_a_department_opening_an_office_page_by_url_is_refused(server: str, browser: Any) -> None:
    page = open_page(browser, server, "audit", user="hrss")
    wait_text(page, "无权限访问“变更记录”页面")
    assert "变更记录（只读" not in body(page)
    shot(page, "workspace-13-refused-office-page")


def test_a_second_session_saving_a_stale_version_is_refused(server: str, browser: Any) -> None:
    first = sign_in_at(browser, server, "ledger", "hrss", "任务台账：建账")
    choose(first, "选择任务", SEEDED_TITLE)
    wait_text(first, "李强")
    expand(first, "修改台账")  # the first session reads version 1 and starts editing

    second = sign_in_at(browser, server, "ledger", "hrss", "任务台账：建账")
    choose(second, "选择任务", SEEDED_TITLE)
    wait_text(second, "李强")
    expand(second, "修改台账")
    second.locator("[data-testid='stForm']").filter(has_text="工作计划").get_by_label("责任人").fill("周婷")
    second.get_by_role("button", name="保存", exact=True).click()
    settle(second)
    wait_text(second, "已保存。")

    first.locator("[data-testid='stForm']").filter(has_text="工作计划").get_by_label("责任人").fill("王芳")
    first.get_by_role("button", name="保存", exact=True).click()
    settle(first)
    wait_text(first, "已被他人修改")
    text = body(first)
    assert "责任人：王芳" in text  # what the first session typed is shown back, not lost
    shot(first, "workspace-14-stale-save-refused")
