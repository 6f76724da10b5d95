"""A hostile upload in a real browser (issue 9 §2, docs/uploads.md): the file fails, the server does not.

The department (hrss) uploads on 数据上传 a 1.5 KB workbook with one cell at XFD1048576, which makes the
reader allocate 512 GB: without the sheet's declared range the limited worker runs out of its memory and is
killed; with the range declared (A1:XFD1048576) the structural checks refuse it before any parser runs. Each
time the page shows the refusal with its reason, and afterwards another signed-in user (leader, in a second
browser context) still gets the overview. Parsed in the server's own process, the first file used to abort
the whole dashboard. Screenshots: artifacts/screenshots/upload-guard-*.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from metrics.storage.store import Store
from tests.browser_support import AS_OF, attach, body, open_page, require_chromium, shot, wait_text
from tests.support import far_cell

pytestmark = pytest.mark.browser

require_chromium()

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh small demo database for this module (the server fixture of tests/conftest.py serves it)."""
    from metrics.auth.users import create_demo_accounts
    from metrics.demo.generate import build_demo

    db = tmp_path_factory.mktemp("upload-guard") / "demo.duckdb"
    build_demo(db, seed=42, scale=0.05, as_of=AS_OF)
    with Store.open(db) as store:
        create_demo_accounts(store)
    return db


def test_a_far_cell_workbook_is_refused_and_the_server_answers_another_user(
    server: str, browser: Any, tmp_path: Path
) -> None:
    hrss = open_page(browser, server, "uploads", user="hrss")
    wait_text(hrss, "下载填报模板")

    # 1. no declared range: only the worker's memory limit stops the reader
    content = far_cell(tmp_path / "placements_far_nodim.xlsx", dimension=False).read_bytes()
    assert len(content) < 2_000
    attach(hrss, "选择文件", "placements_a.xlsx", content, XLSX)
    wait_text(hrss, "文件过大或结构异常，已拒绝：解析时内存超过上限")
    text = body(hrss)
    assert "文件不会被导入" in text and "确认导入" not in text
    shot(hrss, "upload-guard-01-memory-limit")

    # 2. the declared range A1:XFD1048576: refused before any parser runs
    content = far_cell(tmp_path / "placements_far.xlsx", dimension=True).read_bytes()
    attach(hrss, "选择文件", "placements_b.xlsx", content, XLSX)
    wait_text(hrss, "声明的工作表范围 A1:XFD1048576 超过上限")
    assert "文件过大或结构异常，已拒绝：" in body(hrss)
    assert "暂无上传记录" in body(hrss)  # nothing was written
    shot(hrss, "upload-guard-02-declared-range")

    # 3. the server lives on: the leader, in another browser context, gets the overview
    leader = open_page(browser, server, "", user="leader")
    wait_text(leader, "目标指标")
    assert "企业职工劳动合同签订率" in body(leader)
    shot(leader, "upload-guard-03-leader-overview")
