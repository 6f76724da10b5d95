"""The weekly e-mail read on a phone: its HTML part for the demo database at 390×844 in Chromium. No horizontal
scrolling, no element past the screen's edge, no number cut off in its tile, every chart loaded. The cid:
images become data: URIs for the screenshot only (artifacts/screenshots/mail_phone.png)."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from metrics.auth.access import Principal
from metrics.catalogue import load_catalogues
from metrics.ledger.scorecard import overdue_tasks_frame
from metrics.reports.briefing import collect_briefing
from metrics.reports.charts_png import charts_available
from metrics.reports.mail import compose_weekly
from metrics.storage import clock
from metrics.storage.store import Store
from tests.browser_support import AS_OF, SHOTS, require_chromium
from tests.mail_support import SENDER

pytestmark = pytest.mark.browser

require_chromium()


@pytest.fixture(scope="module")
def mail_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from metrics.demo.generate import build_demo
    from metrics.demo.ledger import seed_ledger
    from metrics.kpi.snapshots import backfill_snapshots

    folder = tmp_path_factory.mktemp("mail_phone")
    db = folder / "demo.duckdb"
    build_demo(db, seed=42, scale=0.05, as_of=AS_OF)
    cats = load_catalogues()
    with Store.open(db) as store, clock.pinned(AS_OF + dt.timedelta(days=1)):
        backfill_snapshots(store, AS_OF, weeks=2)
        seed_ledger(store, AS_OF)
        leader = Principal("leader", "leader")
        data = collect_briefing(
            store, AS_OF, catalogues=cats, overdue_tasks=overdue_tasks_frame(store, leader, AS_OF, catalogues=cats)
        )
    msg = compose_weekly(data, cats, sender=SENDER, to="leader@example.gov.cn")
    html_text = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for part in msg.walk():
        cid = part.get("Content-ID")
        if cid and part.get_content_type() == "image/png":
            uri = "data:image/png;base64," + base64.b64encode(part.get_content()).decode("ascii")
            html_text = html_text.replace(f"cid:{cid.strip('<>')}", uri)
    assert "cid:" not in html_text
    out = folder / "mail.html"
    out.write_text(html_text, encoding="utf-8")
    return out


def test_the_mail_fits_a_phone_screen(browser: Any, mail_html: Path) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.goto(mail_html.as_uri())
        page.wait_for_load_state("load")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "mail_phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no horizontal scrolling
        past_edge = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)"
            ".map(e => e.tagName + ' ' + e.textContent.slice(0, 30))"
        )
        assert past_edge == []
        tiles = page.evaluate(
            "[...document.querySelectorAll('td[data-status] div div:first-child')]"
            ".map(e => [e.textContent, e.scrollWidth <= e.clientWidth, getComputedStyle(e).fontSize])"
        )
        assert len(tiles) == 5 and all(fits for _, fits, _ in tiles), tiles
        assert all(float(size.rstrip("px")) >= 24 for _, _, size in tiles)  # big numbers stay big
        images = page.evaluate(
            "[...document.images].map(i => [i.complete && i.naturalWidth > 0, i.getBoundingClientRect().width])"
        )
        if charts_available():
            assert len(images) == 2
        assert all(ok and 300 <= width <= 390 for ok, width in images), images
        assert "就业工作周报（截至2026年11月21日）" in page.inner_text("body")
    finally:
        page.close()
