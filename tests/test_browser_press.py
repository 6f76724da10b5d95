"""The press office in a real browser: the office publishes a reviewed draft; the press sees published
releases only, downloads the press pack and finds suppressed, injection-safe tables and Chinese charts; a
forged link to a draft is refused. Chromium is Debian's (tests/browser_support.py)."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from metrics.auth.access import Principal
from metrics.releases.service import create_release, demo_release
from metrics.storage import clock
from metrics.storage.store import Store
from tests.browser_support import AS_OF, open_page, require_chromium, settle, shot

pytestmark = pytest.mark.browser

require_chromium()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo: snapshots, accounts, release YYYY-001 (this year) published and two drafts waiting for review."""
    from metrics.auth.users import create_demo_accounts
    from metrics.demo.generate import build_demo
    from metrics.kpi.snapshots import backfill_snapshots

    db = tmp_path_factory.mktemp("press") / "demo.duckdb"
    build_demo(db, seed=7, scale=0.05, as_of=AS_OF)
    with Store.open(db) as store:
        days = backfill_snapshots(store, AS_OF, weeks=3)
        create_demo_accounts(store)
        demo_release(store, days[-2])
        office = Principal("office", "office")
        create_release(store, office, days[-1], title="保留的草稿")  # #2 stays a draft
        create_release(store, office, days[-1], title="第2期待审核")  # #3 is reviewed and published
    return db


def _year() -> int:
    """Release numbers follow the year of publication: today's, on the server as here (docs/time.md)."""
    return clock.today().year


@pytest.fixture(scope="module")
def expected() -> dict[str, object]:
    return {}


def _download(page: object, button: str) -> bytes:
    with page.expect_download(timeout=60_000) as info:  # type: ignore[attr-defined]
        page.get_by_role("button", name=button).first.click()  # type: ignore[attr-defined]
    return Path(info.value.path()).read_bytes()


def test_office_reviews_and_publishes_then_press_downloads(server: str, browser: object) -> None:
    office = open_page(browser, server, "releases", wait_text="待审核草稿", user="office")
    office.get_by_text("第2期待审核").first.wait_for(timeout=60_000)
    settle(office)
    shot(office, "releases-office-draft")
    publish = office.get_by_role("button", name="发布", exact=True).first
    assert publish.is_disabled()  # not before the reviewer confirms
    office.get_by_text("我已审核").first.click()
    settle(office)
    office.get_by_role("button", name="发布", exact=True).first.click()
    office.get_by_text(f"已发布：{_year()}年第2期").first.wait_for(timeout=60_000)
    shot(office, "releases-office-published")
    office.close()

    press = open_page(browser, server, "press", wait_text="主要指标", user="press")
    press.get_by_text("全区今年").first.wait_for(timeout=60_000)  # the drafted statements have rendered
    settle(press)
    shot(press, "press-release")
    body = press.inner_text("body")  # type: ignore[attr-defined]
    assert f"{_year()}年第2期" in body and "保留的草稿" not in body
    assert "总览" not in body and "发布管理" not in body  # the press sees its page only
    assert "截至" in body and "全区" in body  # drafted statements
    shot(press, "press-release")

    pack = zipfile.ZipFile(io.BytesIO(_download(press, "下载新闻发布资料包（ZIP）")))
    names = pack.namelist()
    root = f"{_year()}-002/"
    assert f"{root}统计表.xlsx" in names and any(n.endswith(".png") for n in names)
    wb = openpyxl.load_workbook(io.BytesIO(pack.read(f"{root}统计表.xlsx")))
    for ws in wb.worksheets:
        assert ws["B1"].value == f"{_year()}年第2期" and ws["A3"].value == "来源说明"
        assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)
    csvs = [n for n in names if n.startswith(f"{root}csv/表")]
    assert csvs
    seen_small = False
    for name in csvs:
        raw = pack.read(name)
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert rows[0] == ["发布编号", f"{_year()}年第2期"]
        for r in rows[5:]:
            for cell in r[1:]:
                seen_small |= cell in ("<10", "*")
                if cell.isdigit():
                    assert not 1 <= int(cell) <= 9, f"{name}: small count {cell} published"
    assert seen_small  # the demo's streets have small cells: suppression is visible
    png = next(n for n in names if n.endswith(".png"))
    assert pack.read(png).startswith(b"\x89PNG")
    press.close()


def test_forged_link_to_a_draft_is_refused(server: str, browser: object) -> None:
    press = open_page(browser, server, "press?release=2", wait_text="无权限", user="press")
    body = press.inner_text("body")  # type: ignore[attr-defined]
    assert "保留的草稿" not in body
    shot(press, "press-forged-draft")
    press.close()


def test_press_archive_lists_published_only(server: str, browser: object) -> None:
    press = open_page(browser, server, "press", wait_text="主要指标", user="press")
    settle(press)
    press.get_by_text("发布档案").first.click()
    settle(press)
    archive = press.get_by_text("发布档案").first.locator("xpath=ancestor::details")
    text = archive.inner_text()
    assert f"{_year()}年第1期" in text and f"{_year()}年第2期" in text  # every published release
    assert "保留的草稿" not in text  # and no draft
    press.close()
