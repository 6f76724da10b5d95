"""The weekly briefing page: counts equal the engine's, changes against last week's snapshot, escaping,
no external resources, English, stale data and overdue tasks."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter
from html.parser import HTMLParser

import pandas as pd
import pytest

from metrics.kpi import status
from metrics.kpi.engine import Engine
from metrics.kpi.snapshots import take_snapshot
from metrics.kpi.status import STATUSES
from metrics.reports.briefing import collect_briefing, weekly_briefing
from metrics.storage.store import Store
from tests.support import insert, tiny_catalogue

D = dt.date
AS_OF = D(2026, 11, 21)  # Saturday; 325 of 365 days of the year elapsed (89.04%)
GENERATED = dt.datetime(2026, 11, 22, 8, 0)


def ev(i: int, kind: str, day: dt.date) -> dict:
    return {
        "event_id": f"E{i}",
        "district": "通州区",
        "event_type": kind,
        "event_date": day,
        "title": "t",
        "organiser": "o",
    }


def count_kpi(kid: str, value: float, types: list[str] | None = None, **kw: object) -> dict:
    measure: dict = {"kind": "count", "source": "events"}
    if types:
        measure["filters"] = [{"column": "event_type", "op": "in", "values": types}]
    return {"id": kid, "measure": measure, "target": {"value": value, "period": "year"}, **kw}


# One KPI per status, computed by hand as of 21 November 2026 (expected = target × 325/365):
STATUS_KPIS = [
    count_kpi("all-events", 5),  # 11 ≥ 5: achieved
    count_kpi("fairs-special", 3.3, ["招聘会", "专场招聘"]),  # 3 / 2.938 = 1.02: on track
    count_kpi(
        "live", 10, ["直播带岗"], name_zh="直播带岗场次", name_en="Livestream job fairs"
    ),  # 8 / 8.904 = 0.90: at risk
    count_kpi("big-fairs", 100, ["招聘会"], lead_unit="区就业中心"),  # 2 / 89.04: off track
    {"id": "watch", "measure": {"kind": "count", "source": "events"}, "monitoring": True},  # monitoring
    {
        "id": "reported",
        "measure": {"kind": "reported"},
        "target": {"value": 5, "period": "year"},
        "lead_unit": "区商务局",
    },
]
HAND_COUNTS = {"achieved": 1, "on_track": 1, "at_risk": 1, "off_track": 1, "no_data": 1, "monitoring": 1}


def status_events() -> list[dict]:
    rows = [ev(i, "直播带岗", D(2026, 3, 1) + dt.timedelta(days=20 * i)) for i in range(8)]
    rows += [ev(8, "招聘会", D(2026, 4, 2)), ev(9, "招聘会", D(2026, 9, 9)), ev(10, "专场招聘", D(2026, 11, 10))]
    return rows


class Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def with_attr(self, name: str, **match: str) -> list[dict[str, str | None]]:
        return [a for _, a in self.tags if name in a and all(a.get(k) == v for k, v in match.items())]


@pytest.fixture
def status_db(tiny_duck: Store) -> tuple[Store, dict]:
    insert(tiny_duck, "events", status_events())
    return tiny_duck, {"tiny": tiny_catalogue(STATUS_KPIS)}


def test_counts_equal_the_engine(status_db: tuple[Store, dict]) -> None:
    store, cats = status_db
    page = weekly_briefing(store, AS_OF, catalogues=cats, generated_at=GENERATED)
    engine = Counter(r.status for r in Engine(store, cats).compute(AS_OF))
    p = Elements(page)
    overall = {
        a["data-status"]: int(a["data-count"] or 0) for a in p.with_attr("data-count", **{"data-scope": "overall"})
    }
    assert overall == {s: engine.get(s, 0) for s in STATUSES} == HAND_COUNTS
    per_programme = {
        a["data-status"]: int(a["data-count"] or 0)
        for a in p.with_attr("data-count", **{"data-scope": "programme", "data-programme": "tiny"})
    }
    assert per_programme == HAND_COUNTS
    # the bar chart's segments say the same
    segments = {a["data-status"]: int(a["data-count"] or 0) for _, a in p.tags if _ == "rect" and "data-count" in a}
    assert segments == HAND_COUNTS
    # the off-track and at-risk table: off track first, with the rule that set the status
    rows = p.with_attr("data-status", **{"data-kpi": "big-fairs"}) + p.with_attr("data-status", **{"data-kpi": "live"})
    assert [a["data-status"] for a in rows] == ["off_track", "at_risk"]
    order = [a["data-kpi"] for a in p.with_attr("data-kpi") if a.get("data-status")]
    assert order == ["big-fairs", "live"]
    live = next(r for r in Engine(store, cats).compute(AS_OF) if r.kpi_id == "live")
    assert html.escape(live.rule_zh) in page and "直播带岗场次" in page and "区就业中心" in page
    assert "就业工作周报（截至2026年11月21日）" in page
    assert "暂无上周快照，无法比较" in page  # no snapshot stored
    assert "任务台账尚未启用" in page  # no task ledger passed
    assert f'id="data-version">{store.data_version()}<' in page and "2026年11月22日 08:00" in page
    assert "口径说明" in page and "@media print" in page
    assert '"Noto Sans CJK SC","Microsoft YaHei",sans-serif' in page
    assert len(page.encode()) < 300_000


# Snapshot on Saturday 14 November (318/365 elapsed), then a correction: one livestream was a job fair.
CHANGE_KPIS = [
    count_kpi("steady", 5),  # 11 events: achieved both weeks
    count_kpi("live", 10, ["直播带岗"]),  # 9 / 8.712 = 1.03 on track → 8 / 8.904 = 0.90 at risk
    count_kpi("live12", 12, ["直播带岗"]),  # 9 / 10.45 = 0.86 at risk → 8 / 10.68 = 0.75 off track
    count_kpi("fairs3", 3, ["招聘会"]),  # 2 / 2.614 = 0.77 off track → 3 ≥ 3 achieved
]


def test_newly_at_risk_off_track_and_achieved_against_last_weeks_snapshot(tiny_duck: Store) -> None:
    cats = {"tiny": tiny_catalogue(CHANGE_KPIS)}
    rows = [ev(i, "直播带岗", D(2026, 2, 1) + dt.timedelta(days=30 * i)) for i in range(9)]  # up to 29 September
    rows += [ev(9, "招聘会", D(2026, 5, 5)), ev(10, "招聘会", D(2026, 10, 10))]
    insert(tiny_duck, "events", rows)
    take_snapshot(tiny_duck, D(2026, 11, 14), catalogues=cats)
    tiny_duck.execute("UPDATE events SET event_type = '招聘会' WHERE event_id = 'E0'")

    data = collect_briefing(tiny_duck, AS_OF, catalogues=cats, generated_at=GENERATED)
    assert data.previous_date == D(2026, 11, 14)
    assert {(c.kpi_id, c.before, c.after, c.kind) for c in data.changes} == {
        ("live", "on_track", "at_risk", "newly_at_risk"),
        ("live12", "at_risk", "off_track", "newly_off_track"),
        ("fairs3", "off_track", "achieved", "newly_achieved"),
    }
    # biggest movers: progress = actual / target, largest change first; 'steady' did not move
    assert [(m.kpi_id, round(m.before_progress, 4), round(m.after_progress, 4)) for m in data.movers] == [
        ("fairs3", 0.6667, 1.0),
        ("live", 0.9, 0.8),
        ("live12", 0.75, 0.6667),
    ]

    page = weekly_briefing(tiny_duck, AS_OF, catalogues=cats, generated_at=GENERATED)
    p = Elements(page)
    changes = {a["data-kpi"]: a["data-change"] for a in p.with_attr("data-change")}
    assert changes == {"live": "newly_at_risk", "live12": "newly_off_track", "fairs3": "newly_achieved"}
    assert [a["data-kpi"] for a in p.with_attr("data-mover")] == ["fairs3", "live", "live12"]
    assert "与2026年11月14日周快照比较" in page
    assert "暂无上周快照" not in page
    assert "9个 → 8个" in page and "90.0% → 80.0%" in page and "−10.0个百分点" in page
    assert page.count('class="spark"') == 3  # a sparkline per mover

    # a week is not yet a week: on 19 November the 14 November snapshot is too recent to compare with
    early = collect_briefing(tiny_duck, D(2026, 11, 19), catalogues=cats, generated_at=GENERATED)
    assert early.previous_date is None and early.changes == [] and early.movers == []


def test_a_new_period_is_not_compared(tiny_duck: Store) -> None:
    cats = {"tiny": tiny_catalogue([count_kpi("live", 10, ["直播带岗"])])}
    insert(tiny_duck, "events", [ev(1, "直播带岗", D(2026, 12, 30)), ev(2, "直播带岗", D(2027, 1, 2))])
    take_snapshot(tiny_duck, D(2026, 12, 31), catalogues=cats)
    data = collect_briefing(tiny_duck, D(2027, 1, 7), catalogues=cats)
    assert data.previous_date == D(2026, 12, 31)
    assert data.movers == [] and data.skipped_new_period == ["live"]


def test_catalogue_and_user_text_is_escaped(tiny_duck: Store) -> None:
    evil = "<script>alert('x')</script>"
    cats = {"tiny": tiny_catalogue([count_kpi("bad", 100, name_zh=evil, name_en=evil, lead_unit="A&B<i>")])}
    insert(tiny_duck, "events", [ev(1, "招聘会", D(2026, 3, 3))])
    tasks = pd.DataFrame(
        [
            {
                "task_id": "T<1>",
                "title": '<b onclick="x()">建账</b>',
                "lead_unit": "区<人社>局",
                "due_date": D(2026, 10, 1),
                "days_overdue": 51,
            },
            {"task_id": "T2", "title": "督办", "lead_unit": "区商务局", "due_date": "2026-11-01", "days_overdue": 20},
        ]
    )
    for lang in ("zh", "en"):
        page = weekly_briefing(tiny_duck, AS_OF, catalogues=cats, lang=lang, overdue_tasks=tasks)
        assert "<script" not in page and "<b onclick" not in page and "<i>" not in page and "<人社>" not in page
        assert html.escape(evil) in page and "A&amp;B&lt;i&gt;" in page and "&lt;b onclick=" in page
        assert Elements(page).with_attr("data-kpi", **{"data-status": "off_track"})[0]["data-kpi"] == "bad"
    p = Elements(page)
    assert [a["data-task"] for a in p.with_attr("data-task")] == ["T<1>", "T2"]  # most overdue first
    assert "The task ledger is not in use yet" not in page


def test_no_external_resources(status_db: tuple[Store, dict]) -> None:
    store, cats = status_db
    for lang in ("zh", "en"):
        page = weekly_briefing(store, AS_OF, catalogues=cats, lang=lang)
        assert "http://" not in page and "https://" not in page and "//" not in re.sub(r"<[^>]*>", "", page)
        p = Elements(page)
        tags = {t for t, _ in p.tags}
        assert not tags & {"script", "link", "img", "iframe", "object", "embed", "audio", "video", "source", "image"}
        for tag, attrs in p.tags:
            assert "src" not in attrs and "srcset" not in attrs, tag
            href = attrs.get("href")
            assert href is None or href.startswith("#"), href
        assert not re.search(r"src\s*=", re.sub(r"&lt;.*?&gt;", "", page))
        assert "url(" not in page and "@import" not in page and "@font-face" not in page
        assert "<svg" in page and "<style>" in page


def test_english_variant(status_db: tuple[Store, dict]) -> None:
    store, cats = status_db
    page = weekly_briefing(store, AS_OF, catalogues=cats, lang="en", generated_at=GENERATED)
    assert '<html lang="en">' in page
    assert "Employment weekly briefing (as of 2026-11-21)" in page
    for label in ("Achieved", "On track", "At risk", "Off track", "No data", "Monitoring"):
        assert f'<span class="lbl">{label}</span>' in page
    assert "Status at a glance" in page and "Off-track and at-risk KPIs" in page and "Method notes" in page
    assert "No snapshot from last week; nothing to compare with." in page
    assert "The task ledger is not in use yet." in page
    assert "Livestream job fairs" in page and "直播带岗场次" not in page
    assert "总体情况" not in page and "已达标" not in page and "口径说明" not in page
    live = next(r for r in Engine(store, cats).compute(AS_OF) if r.kpi_id == "live")
    assert html.escape(live.rule_en) in page
    overall = {
        a["data-status"]: int(a["data-count"] or 0)
        for a in Elements(page).with_attr("data-count", **{"data-scope": "overall"})
    }
    assert overall == HAND_COUNTS
    with pytest.raises(ValueError, match="lang"):
        weekly_briefing(store, AS_OF, catalogues=cats, lang="fr")


def test_stale_data_and_unreported_kpis_are_listed(tiny_duck: Store) -> None:
    kpis = [
        count_kpi("live", 10, ["直播带岗"]),
        {
            "id": "cases",
            "measure": {"kind": "count", "source": "disputes"},
            "target": {"value": 10, "period": "year"},
            "lead_unit": "区仲裁院",
        },
        {
            "id": "reported",
            "measure": {"kind": "reported"},
            "target": {"value": 5, "period": "year"},
            "lead_unit": "区商务局",
        },
    ]
    cats = {"tiny": tiny_catalogue(kpis)}
    insert(tiny_duck, "events", [ev(1, "直播带岗", D(2026, 11, 10))])  # demo-style, 11 days old: fresh
    insert(tiny_duck, "disputes", [{"case_id": "C1", "district": "通州区", "accepted_date": D(2026, 9, 1)}])  # 81 days
    page = weekly_briefing(tiny_duck, AS_OF, catalogues=cats)
    p = Elements(page)
    assert [a["data-stale"] for a in p.with_attr("data-stale")] == ["tiny|disputes", "tiny|progress_reports"]
    assert "劳动人事争议案件" in page and "区仲裁院" in page and "2026年9月1日" in page
    assert [a["data-kpi"] for a in p.with_attr("data-stale-report")] == ["reported"]
    assert "从未填报" in page and "区商务局" in page
    # once everything is fresh the section says so
    insert(tiny_duck, "disputes", [{"case_id": "C2", "district": "通州区", "accepted_date": D(2026, 11, 20)}])
    insert(
        tiny_duck,
        "progress_reports",
        [
            {
                "kpi_id": "reported",
                "district": "通州区",
                "period_end": D(2026, 10, 31),
                "value": 2.0,
                "unit_name": "区商务局",
            }
        ],
    )
    page = weekly_briefing(tiny_duck, AS_OF, catalogues=cats)
    assert 'id="no-stale"' in page and "各类数据均已按期更新" in page and "填报类指标均已按时填报" in page


def test_overdue_tasks_table_and_empty_ledger(status_db: tuple[Store, dict]) -> None:
    store, cats = status_db
    empty = pd.DataFrame(columns=["task_id", "title", "lead_unit", "due_date", "days_overdue"])
    page = weekly_briefing(store, AS_OF, catalogues=cats, overdue_tasks=empty)
    assert "暂无逾期任务" in page and "任务台账尚未启用" not in page
    with pytest.raises(ValueError, match="days_overdue"):
        weekly_briefing(store, AS_OF, catalogues=cats, overdue_tasks=pd.DataFrame({"task_id": ["T1"]}))


def test_status_follows_a_kpis_own_thresholds(tiny_duck: Store) -> None:
    """'live' runs at pace 0.90: at risk by default, on track under its catalogue's own 0.85 / 0.70."""
    kpis = [dict(STATUS_KPIS[2], target={"value": 10, "period": "year", "on_track_pace": 0.85, "at_risk_pace": 0.7})]
    kpis.append(count_kpi("big-fairs", 100, ["招聘会"], name_zh="大型招聘会", name_en="Big fairs"))
    cats = {"tiny": tiny_catalogue(kpis)}
    insert(tiny_duck, "events", status_events())
    store = tiny_duck
    engine = {r.kpi_id: r.status for r in Engine(store, cats).compute(AS_OF)}
    assert engine == {"live": "on_track", "big-fairs": "off_track"}
    data = collect_briefing(store, AS_OF, catalogues=cats, generated_at=GENERATED)
    assert {r.kpi_id: r.status for r in data.results} == engine
    assert [r.kpi_id for r in data.attention] == ["big-fairs"]
    for lang in ("zh", "en"):
        p = Elements(weekly_briefing(store, AS_OF, catalogues=cats, lang=lang, generated_at=GENERATED))
        overall = {
            a["data-status"]: int(a["data-count"] or 0) for a in p.with_attr("data-count", **{"data-scope": "overall"})
        }
        assert overall == {s: Counter(engine.values()).get(s, 0) for s in STATUSES}
        assert [a["data-kpi"] for a in p.with_attr("data-kpi") if a.get("data-status")] == ["big-fairs"]
    # the method notes name the KPI with its own thresholds, and only that one
    page = weekly_briefing(store, AS_OF, catalogues=cats, generated_at=GENERATED)
    method = page[page.index('id="method"') :]
    assert "直播带岗场次（≥0.85 正常，≥0.70 有风险）" in method and "大型招聘会" not in method


def test_method_notes_state_the_thresholds_of_the_status_rule(status_db: tuple[Store, dict]) -> None:
    """The thresholds in the text are the ones the status rule uses: read from the module, not typed here."""
    store, cats = status_db
    for lang in ("zh", "en"):
        page = weekly_briefing(store, AS_OF, catalogues=cats, lang=lang, generated_at=GENERATED)
        method = html.unescape(page[page.index('id="method"') : page.index('id="footer"')])
        for pace in (status.ON_TRACK_PACE, status.AT_RISK_PACE, 2 - status.ON_TRACK_PACE, 2 - status.AT_RISK_PACE):
            assert f"{pace:.2f}" in method, (lang, pace)
        assert f"{status.TOLERANCE * 100:g}" in method
        for note in status.rule_notes(lang):
            assert note in method
        assert "目录另有规定的指标" not in method and "own thresholds" not in method  # no KPI overrides them


def test_method_notes_change_with_the_rule(monkeypatch: pytest.MonkeyPatch, status_db: tuple[Store, dict]) -> None:
    store, cats = status_db
    monkeypatch.setattr(status, "ON_TRACK_PACE", 0.9)
    monkeypatch.setattr(status, "TOLERANCE", 0.03)
    page = weekly_briefing(store, AS_OF, catalogues=cats, lang="en", generated_at=GENERATED)
    assert "≥ 0.90 on track" in page and "within 3 points below" in page and "≥ 0.95 on track" not in page


def test_movers_progress_is_capped_and_mirrors_ceilings(tiny_duck: Store) -> None:
    """Progress is metrics.kpi.status.progress: a target met stops moving; a ceiling counts down once passed."""
    kpis = [
        count_kpi("over", 2, ["招聘会"]),
        count_kpi("ceiling", 10, ["直播带岗"], target={"value": 4, "period": "year", "comparator": "<="}),
    ]
    cats = {"tiny": tiny_catalogue(kpis)}
    rows = [ev(i, "直播带岗", D(2026, 2, 1) + dt.timedelta(days=30 * i)) for i in range(5)]
    rows += [ev(9, "招聘会", D(2026, 5, 5)), ev(10, "招聘会", D(2026, 10, 10)), ev(11, "招聘会", D(2026, 10, 11))]
    insert(tiny_duck, "events", rows)
    take_snapshot(tiny_duck, D(2026, 11, 14), catalogues=cats)
    insert(tiny_duck, "events", [ev(12, "招聘会", D(2026, 11, 16)), ev(13, "直播带岗", D(2026, 11, 16))])
    data = collect_briefing(tiny_duck, AS_OF, catalogues=cats, generated_at=GENERATED, sparklines=False)
    # 'over': 3 → 4 fairs against 2, both 100%: not a mover; 'ceiling': 5 → 6 livestreams against ≤ 4
    assert [(m.kpi_id, m.before_progress, m.after_progress) for m in data.movers] == [("ceiling", 4 / 5, 4 / 6)]
