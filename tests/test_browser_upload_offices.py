"""Files as offices send them, and an outlier, through the 数据上传 page in a real browser (issue 12, docs/uploads.md).

The department hrss (西城区人力社保局) uploads an .xlsx made like an office's (instructions sheet first, title row,
序号, a 合计 row with summed numbers and blank ids) whose October count for 新街口街道 is far above the street's
history: the page shows the warning, keeps 确认导入 disabled until the user ticks the confirmation, then
imports, and the upload history lists the warning with who accepted it. Then a legacy .xls with a 合计 row and no
outlier imports at once. Screenshots: artifacts/screenshots/upload-offices-*.png.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import statistics
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from metrics.storage.store import Store
from tests.browser_support import AS_OF, attach, body, open_page, require_chromium, settle, shot, wait_text
from tests.support import PLACEMENT_HEAD, office_workbook, placement_rows

pytestmark = pytest.mark.browser

require_chromium()

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLS = "application/vnd.ms-excel"
STREET = "新街口街道"
MONTHLY = [28, 30, 31, 29, 30, 32, 30, 27, 33]  # January to September 2026: median 30
EXPECTED: dict[str, str] = {}  # the warning, worked out from the database before the server opens it


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo database, with nine months of placements for 新街口街道 (written like an import, so every
    table kept at import stays consistent)."""
    from metrics.auth.users import create_demo_accounts
    from metrics.demo.generate import build_demo
    from metrics.ingest.load import write_records
    from tests.support import rows_to_table

    db = tmp_path_factory.mktemp("upload-offices") / "demo.duckdb"
    build_demo(db, seed=42, scale=0.05, as_of=AS_OF)
    rows = [
        {
            "placement_id": f"XJK-{m}-{i}",
            "person_id": f"XJKP-{m}-{i}",
            "district": "西城区",
            "street": STREET,
            "placement_date": dt.date(2026, m, 12),
            "employer_id": "91110102MA01ABCD1X",
            "employer_name": "北京某某商贸有限公司",
            "channel": "公共就业服务",
            "person_group": "登记失业人员",
            "is_local": True,
            "is_beijing_hukou": True,
            "contract_signed": True,
            "social_insurance": True,
        }
        for m, n in enumerate(MONTHLY, start=1)
        for i in range(n)
    ]
    table: pa.Table = rows_to_table("placements", rows)
    with Store.open(db) as store:
        create_demo_accounts(store)
        write_records(
            store, "placements", table, file_name="history.csv", sha256=hashlib.sha256(b"h").hexdigest(), user="demo"
        )
        # The demo has a few placements of its own in the street: October after the upload, and the median of the
        # months with records from October 2025 to September 2026, worked out here by hand.
        by_month = dict(
            store.execute(
                "SELECT date_trunc('month', placement_date)::DATE, count(*) FROM placements "
                "WHERE district = '西城区' AND street = ? AND placement_date >= DATE '2025-10-01' GROUP BY 1",
                [STREET],
            )
        )
    october = by_month.get(dt.date(2026, 10, 1), 0) + 400
    median = statistics.median(n for m, n in by_month.items() if m < dt.date(2026, 10, 1))
    EXPECTED["warning"] = f"{STREET} 2026年10月 就业人数 {october:,}，为近12个月中位数的 {october / median:.1f} 倍"
    return db


def test_an_outlier_is_confirmed_then_imported_and_an_xls_with_a_totals_row_imports(
    server: str, browser: Any, tmp_path: Path
) -> None:
    hrss = open_page(browser, server, "uploads", user="hrss")
    wait_text(hrss, "下载填报模板")  # the record type selector starts at 就业安置记录 (placements)

    # 1. an office's .xlsx: instructions sheet, title, 序号, a 合计 row; 400 placements in October for the street
    rows = placement_rows(400, prefix="XO", district="西城区", street=STREET, day=dt.date(2026, 10, 15))
    xlsx = office_workbook(
        tmp_path / "placements_10.xlsx", "2026年10月就业安置记录", PLACEMENT_HEAD, rows, sheet="就业安置记录"
    )
    attach(hrss, "选择文件", xlsx.name, xlsx.read_bytes(), XLSX)
    wait_text(hrss, "异常值提示")
    warning = EXPECTED["warning"]
    text = body(hrss)
    assert warning in text and "第403行为合计行，已跳过" in text and "校验通过：400 行" in text
    button = hrss.get_by_role("button", name="确认导入")
    assert button.is_disabled()  # not before the user has ticked the confirmation
    shot(hrss, "upload-offices-01-outlier-warning")
    hrss.get_by_text("我已逐条核对以上异常值提示，数据无误，确认导入").click()
    settle(hrss)
    assert button.is_enabled()
    button.click()
    wait_text(hrss, "已导入")
    text = body(hrss)
    assert "新增 400" in text
    assert "以下上传在确认异常值提示后导入" in text and text.count(warning) >= 2  # preview and the history
    history = hrss.locator("[data-testid='stTable']").filter(has_text=warning).last  # the history, below the preview
    assert "hrss" in history.inner_text()
    shot(hrss, "upload-offices-02-imported-with-warning")

    # 2. a legacy .xls with a 合计 row and nothing unusual: imports at once
    rows = placement_rows(5, prefix="XL", district="西城区", street="什刹海街道", day=dt.date(2026, 10, 20))
    xls = office_workbook(
        tmp_path / "placements_10b.xls", "2026年10月就业安置记录", PLACEMENT_HEAD, rows, sheet="就业安置记录"
    )
    attach(hrss, "选择文件", xls.name, xls.read_bytes(), XLS)
    wait_text(hrss, "校验通过：5 行")
    text = body(hrss)
    assert "第8行为合计行，已跳过" in text and "第10行为表尾说明，已跳过" in text
    assert "我已逐条核对以上异常值提示" not in text
    hrss.get_by_role("button", name="确认导入").click()
    wait_text(hrss, "新增 5")
    assert "placements_10b.xls" in body(hrss)
    shot(hrss, "upload-offices-03-xls-imported")
