"""Phone-size reading (issue 11 item 7): the overview and a KPI detail at 390×844, as a leader reads them.

No horizontal scrolling, no tile value or label cut to an ellipsis, the sidebar collapsed, every tile and
chart title inside the screen. Screenshots of the whole page land in artifacts/screenshots/phone-*.png for a
person to look at (docs/server.md, "Phone-size reading").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from metrics.storage import clock
from metrics.storage.store import Store
from tests.browser_support import AS_OF, DEMO_PASSWORDS, SHOTS, login, require_chromium, settle

pytestmark = pytest.mark.browser

require_chromium()

PHONE = {"width": 390, "height": 844}

# What a reader would call cut or off-screen, measured in the page: the document wider than the screen, a
# tile value or label whose text is wider than its box (an ellipsis), a tile or chart title past the right edge.
MEASURE = """() => {
  const right = window.innerWidth + 0.5;
  const texts = sel => [...document.querySelectorAll(sel)];
  const clipped = els => els.filter(e => e.scrollWidth > e.clientWidth + 0.5).map(e => e.innerText);
  const inside = sel => texts(sel).filter(e => e.getBoundingClientRect().right > right).map(
      e => e.getAttribute('data-testid') || e.getAttribute('class'));
  const metric = '[data-testid=stMetricValue], [data-testid=stMetricValue] *, '
               + '[data-testid=stMetricLabel], [data-testid=stMetricLabel] *';
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    values: texts('[data-testid=stMetricValue]').length,
    clipped: clipped(texts(metric)),
    outside: inside('[data-testid=stVerticalBlockBorderWrapper], [data-testid=stMetric], .gtitle, .main-svg'),
  };
}"""


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from metrics.auth.users import create_demo_accounts
    from metrics.demo.generate import build_demo
    from metrics.demo.ledger import seed_ledger
    from metrics.kpi.snapshots import backfill_snapshots

    db = tmp_path_factory.mktemp("phone") / "demo.duckdb"
    build_demo(db, seed=42, scale=0.05, as_of=AS_OF)
    with Store.open(db) as store:
        backfill_snapshots(store, AS_OF, weeks=6)  # sparklines and "change since last week" in the tiles
        create_demo_accounts(store)
        with clock.pinned(AS_OF):
            seed_ledger(store, AS_OF)
    return db


def phone_page(browser: Any, url: str) -> Any:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.goto(url + "/")
    login(page, "leader", DEMO_PASSWORDS["leader"])
    return page


def tall_shot(page: Any, name: str) -> None:
    """The whole page: Streamlit scrolls an inner element, so a full-page screenshot shows one screen only."""
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": PHONE["width"], "height": min(int(height), 12_000)})
    page.wait_for_timeout(800)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"phone-{name}.png"))
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(500)


def assert_legible(page: Any, name: str, values: int) -> None:
    got = page.evaluate(MEASURE)
    tall_shot(page, name)
    assert got["innerWidth"] == PHONE["width"]
    assert got["scrollWidth"] <= got["innerWidth"], f"{name}: the page scrolls sideways ({got['scrollWidth']} px)"
    assert got["values"] >= values, got
    assert got["clipped"] == [], f"{name}: cut to an ellipsis: {got['clipped']}"
    assert got["outside"] == [], f"{name}: past the screen's right edge: {got['outside']}"
    # collapsed: the sidebar is out of view (or absent), not drawn over the page
    box = page.locator("[data-testid=stSidebar]").bounding_box()
    assert box is None or box["x"] + box["width"] <= 1 or box["width"] <= 1, f"{name}: the sidebar is open: {box}"


def test_overview_at_phone_size(server: str, browser: Any, expected: dict[str, Any]) -> None:
    page = phone_page(browser, server)
    page.locator(".st-key-kpi_tiles [data-testid=stMetricValue]").first.wait_for(timeout=60_000)
    settle(page)
    targeted = [r for r in expected.values() if r.status != "monitoring"]
    tiles = page.locator(".st-key-kpi_tiles [data-testid=stMetricValue]")
    assert tiles.count() == len(targeted)  # every KPI with a target has its tile: a count of cut ones means something
    # the six status counts share lines on a phone instead of six screen-wide boxes
    counts = page.locator(".st-key-status_counts [data-testid=stMetric]")
    assert counts.count() == 6
    tops = {round(counts.nth(i).bounding_box()["y"]) for i in range(6)}
    assert len(tops) <= 2, tops
    assert_legible(page, "overview", values=len(targeted) + 6)
    page.context.close()


def test_kpi_detail_at_phone_size(server: str, browser: Any, expected: dict[str, Any]) -> None:
    from metrics.catalogue import load_catalogues

    # the tiled KPI with the longest name: its title, figures and chart titles are the likeliest to be cut
    names = {k.id: k.name_zh for c in load_catalogues().values() for k in c.kpis}
    longest = max((r.kpi_id for r in expected.values() if r.status != "monitoring"), key=lambda i: len(names[i]))
    page = phone_page(browser, server)
    link = page.locator(f".st-key-kpi_tiles a[href*='kpi={longest}']")
    link.wait_for(timeout=60_000)
    link.click()
    page.locator(".js-plotly-plot .gtitle").first.wait_for(timeout=60_000)
    settle(page)
    assert page.locator(".st-key-detail_figures [data-testid=stMetric]").count() == 6
    assert names[longest][:6] in page.locator(".js-plotly-plot .gtitle").first.text_content()
    assert_legible(page, "kpi-detail", values=6)
    page.context.close()
