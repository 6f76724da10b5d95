"""Press releases: built from a snapshot, suppressed, numbered, immutable, readable by the press only once
published — with every figure checked against values worked out by hand on small fixed data."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.auth.access import AccessDenied, Principal
from metrics.auth.users import add_user
from metrics.cli.main import main
from metrics.kpi.snapshots import take_snapshot
from metrics.releases.export import (
    FontMissing,
    chart_png,
    headline_png,
    press_pack,
    release_csv,
    release_xlsx,
    statements_text,
)
from metrics.releases.service import (
    ReleaseError,
    ReleaseIntegrityError,
    create_release,
    discard_release,
    get_release,
    list_releases,
    publish_release,
)
from metrics.storage import clock
from metrics.storage.store import Store
from tests.support import attacker_values, insert, tiny_catalogue

D = dt.date
AS_OF = D(2026, 10, 31)
OFFICE = Principal("office", "office")
PRESS = Principal("press", "press")
LEADER = Principal("leader", "leader")
DEPT = Principal("hrss", "department", unit="区人力社保局")

EVENTS = {
    "id": "tz-events",
    "name_zh": "年度招聘活动场次",
    "unit": "场",
    "statement_zh": "已开展各类招聘活动",
    "measure": {"kind": "count", "source": "events"},
    "target": {"value": 300, "period": "year"},
    "dimensions": ["event_type", "organiser"],  # organiser is not a press dimension: no table
}
SIGNED = {
    "id": "tz-signed",
    "name_zh": "劳动合同签订率",
    "unit": "%",
    "measure": {
        "kind": "ratio",
        "numerator": {
            "kind": "count",
            "source": "placements",
            "filters": [{"column": "contract_signed", "op": "eq", "value": True}],
        },
        "denominator": {"kind": "count", "source": "placements"},
    },
    "target": {"value": 0.98, "period": "rate"},
    "dimensions": ["street"],
}


def ev(i: int, event_type: str, organiser: str = "区人力社保局", day: dt.date = D(2026, 5, 1)) -> dict:
    return {
        "event_id": f"E{i}",
        "district": "通州区",
        "event_type": event_type,
        "event_date": day,
        "title": "招聘会",
        "organiser": organiser,
    }


def pl(i: int, street: str, signed: bool) -> dict:
    return {
        "placement_id": f"P{i}",
        "person_id": f"R{i}",
        "district": "通州区",
        "street": street,
        "placement_date": D(2026, 6, 1),
        "employer_id": "X",
        "employer_name": "某公司",
        "channel": "招聘活动",
        "person_group": "其他",
        "is_local": True,
        "is_beijing_hukou": True,
        "contract_signed": signed,
        "social_insurance": True,
    }


@pytest.fixture
def cats() -> dict:
    return {"tiny": tiny_catalogue([EVENTS, SIGNED])}


@pytest.fixture
def store(tiny_duck: Store, cats: dict) -> Store:
    """285 events (280 job fairs, 3 special, 2 live-stream) and
    placements in two streets: 中仓街道 40 of 41 signed, 北苑街道 5 of 5 signed."""
    events = [ev(i, "招聘会") for i in range(280)]
    events += [ev(300 + i, "专场招聘") for i in range(3)]
    events += [ev(400 + i, "直播带岗") for i in range(2)]
    insert(tiny_duck, "events", events)
    insert(
        tiny_duck,
        "placements",
        [pl(i, "中仓街道", i != 0) for i in range(41)] + [pl(100 + i, "北苑街道", True) for i in range(5)],
    )
    for name, role in (("office", "office"), ("press", "press"), ("leader", "leader")):
        add_user(tiny_duck, None, name, role, None, None)
    take_snapshot(tiny_duck, AS_OF, catalogues=cats)
    return tiny_duck


def _publish(store: Store, cats: dict, **kw: object) -> str:
    rid, _ = create_release(store, OFFICE, AS_OF, catalogues=cats, **kw)  # type: ignore[arg-type]
    return publish_release(store, OFFICE, rid, now=lambda: dt.datetime(2026, 11, 2, 9, 0))


# --------------------------------------------------------------------------- figures by hand


def test_statement_in_the_issue_form(store: Store, cats: dict) -> None:
    rel = get_release(store, PRESS, _publish(store, cats))
    h = {h["kpi_id"]: h for h in rel.content["programmes"][0]["headlines"]}
    # 285 / 300 = 95.0 %
    assert h["tz-events"]["statement"] == "截至2026年10月31日，全区今年已开展各类招聘活动285场，完成年度目标的95.0%。"
    assert h["tz-events"]["value"] == 285 and h["tz-events"]["completion"] == 95.0
    # 45 / 46 = 97.826… % → 97.8 %, 0.2 points short of 98 %
    assert h["tz-signed"]["display"] == "97.8%"
    assert h["tz-signed"]["statement"] == (
        "截至2026年10月31日，全区今年劳动合同签订率为97.8%，目标为不低于98%，相差0.2个百分点。"
    )


def test_count_table_suppresses_and_keeps_the_total(store: Store, cats: dict) -> None:
    rel = get_release(store, PRESS, _publish(store, cats))
    t = next(t for t in rel.content["tables"] if t["kpi_id"] == "tz-events" and t["dimension"] == "event_type")
    rows = dict((r[0], r[1]) for r in t["rows"])
    # 3 and 2 are small; together 5 = 285 − 280, each could be 1…4: no secondary cell needed
    assert rows == {"专场招聘": "<10", "招聘会": 280, "直播带岗": "<10"}
    assert t["total"] == ["合计", 285]


def test_rate_table_suppresses_rates_of_suppressed_counts(store: Store, cats: dict) -> None:
    rel = get_release(store, PRESS, _publish(store, cats))
    t = next(t for t in rel.content["tables"] if t["kpi_id"] == "tz-signed")
    assert t["columns"] == ["街道（乡镇）", "分子", "分母", "比率（%）"]
    # 北苑 5/5 is small → '<10'; 中仓 40/41 is then recoverable from the totals 45/46 → hidden ('*'), rate too
    assert t["rows"] == [["中仓街道", "*", "*", "*"], ["北苑街道", "<10", "<10", "*"]]
    assert t["total"] == ["合计", 45, 46, 97.8]


def test_secondary_suppression_in_a_release(tiny_duck: Store, cats: dict) -> None:
    events = [ev(i, "招聘会") for i in range(270)] + [ev(300 + i, "专场招聘") for i in range(12)]
    events += [ev(400 + i, "直播带岗") for i in range(3)]
    insert(tiny_duck, "events", events)
    take_snapshot(tiny_duck, AS_OF, catalogues=cats)
    rid, _ = create_release(tiny_duck, OFFICE, AS_OF, catalogues=cats, kpi_ids=["tz-events"])
    t = get_release(tiny_duck, OFFICE, rid).content["tables"][0]
    assert dict((r[0], r[1]) for r in t["rows"]) == {"专场招聘": "*", "招聘会": 270, "直播带岗": "<10"}


def test_small_headline_of_people_is_suppressed_and_said_as_fewer_than_ten(tiny_duck: Store) -> None:
    people = {**EVENTS, "id": "tz-visits", "name_zh": "年度服务人次", "unit": "人次", "statement_zh": "已服务求职者"}
    cats = {"tiny": tiny_catalogue([people])}
    insert(tiny_duck, "events", [ev(i, "招聘会") for i in range(7)])
    take_snapshot(tiny_duck, AS_OF, catalogues=cats)
    rid, _ = create_release(tiny_duck, OFFICE, AS_OF, catalogues=cats)
    content = get_release(tiny_duck, OFFICE, rid).content
    h = content["programmes"][0]["headlines"][0]
    assert h["value"] is None and h["display"] == "<10人次" and h["completion"] is None
    assert h["statement"] == "截至2026年10月31日，全区今年已服务求职者不足10人次。"
    assert content["tables"][0]["rows"] == [["招聘会", "<10"]]  # total "<10" too: 1…9, not pinned down
    assert content["tables"][0]["total"] == ["合计", "<10人次"]


def test_small_headline_of_events_is_published_and_its_table_withheld(tiny_duck: Store, cats: dict) -> None:
    insert(tiny_duck, "events", [ev(i, "招聘会") for i in range(7)])
    take_snapshot(tiny_duck, AS_OF, catalogues=cats)
    rid, _ = create_release(tiny_duck, OFFICE, AS_OF, catalogues=cats, kpi_ids=["tz-events"])
    content = get_release(tiny_duck, OFFICE, rid).content
    h = content["programmes"][0]["headlines"][0]
    # 7 events reveal nobody: published, 7 / 300 = 2.3 %
    assert (
        h["value"] == 7 and h["statement"] == "截至2026年10月31日，全区今年已开展各类招聘活动7场，完成年度目标的2.3%。"
    )
    # but the breakdown would show one cell of 7 next to a total of 7: withheld
    (table,) = content["tables"]
    assert table["withheld"] and table["rows"] == []


def test_threshold_is_configurable(store: Store, cats: dict) -> None:
    rid, _ = create_release(store, OFFICE, AS_OF, catalogues=cats, threshold=3, kpi_ids=["tz-events"])
    t = get_release(store, OFFICE, rid).content["tables"][0]
    # with threshold 3 only the 2 is small; 3 would give it away (285 − 280 − 3) → 3 hidden as well
    assert dict((r[0], r[1]) for r in t["rows"]) == {"专场招聘": "*", "招聘会": 280, "直播带岗": "<3"}
    with pytest.raises(ReleaseError, match="阈值"):
        create_release(store, OFFICE, AS_OF, catalogues=cats, threshold=2)


# --------------------------------------------------------------------------- lifecycle


def test_numbered_immutable_and_listed(store: Store, cats: dict) -> None:
    first = _publish(store, cats)
    second = _publish(store, cats)
    assert (first, second) == ("2026-001", "2026-002")
    with pytest.raises(ReleaseError, match="已发布，不是草稿"):
        publish_release(store, OFFICE, first)
    with pytest.raises(ReleaseError, match="不是草稿"):
        discard_release(store, OFFICE, first)
    draft, _ = create_release(store, OFFICE, AS_OF, catalogues=cats)
    assert [r.release_no for r in list_releases(store, PRESS)] == ["2026-002", "2026-001"]
    assert [r.state for r in list_releases(store, OFFICE, include_drafts=True)][0] == "draft"
    discard_release(store, OFFICE, draft)
    assert all(r.state == "published" for r in list_releases(store, OFFICE, include_drafts=True))
    assert get_release(store, PRESS, "2026年第2期").release_no == "2026-002"
    log = store.execute("SELECT action FROM change_log WHERE entity = 'releases' ORDER BY change_id")
    assert [a for (a,) in log] == ["create", "publish", "create", "publish", "create", "discard"]


def test_a_correction_after_publishing_changes_nothing(store: Store, cats: dict) -> None:
    number = _publish(store, cats)
    before = get_release(store, PRESS, number)
    csv_before = release_csv(before, "T01")
    insert(store, "events", [ev(900 + i, "招聘会") for i in range(20)])  # late uploads for earlier dates
    after = get_release(store, PRESS, number)
    assert after.content == before.content and after.content_hash == before.content_hash
    assert release_csv(after, "T01") == csv_before
    assert after.content["programmes"][0]["headlines"][0]["value"] == 285


def test_data_corrected_between_snapshot_and_draft(store: Store, cats: dict) -> None:
    insert(store, "events", [ev(900, "招聘会")])
    rid, warns = create_release(store, OFFICE, AS_OF, catalogues=cats)
    rel = get_release(store, OFFICE, rid)
    assert rel.content["programmes"][0]["headlines"][0]["value"] == 285  # the snapshot, as leadership saw it
    assert not any(t["kpi_id"] == "tz-events" for t in rel.content["tables"])  # would not add up to 285
    assert any("与快照不一致" in w for w in warns)


def test_no_snapshot_no_release(store: Store, cats: dict) -> None:
    with pytest.raises(ReleaseError, match="没有周快照"):
        create_release(store, OFFICE, D(2026, 10, 1), catalogues=cats)


def test_tampered_release_is_not_served(store: Store, cats: dict) -> None:
    number = _publish(store, cats)
    with store.transaction() as cur:
        cur.execute("UPDATE releases SET content = replace(content, '285', '295')")
    with pytest.raises(ReleaseIntegrityError, match="校验值"):
        get_release(store, PRESS, number)


# --------------------------------------------------------------------------- permissions


def test_press_cannot_read_a_draft_and_the_attempt_is_logged(store: Store, cats: dict) -> None:
    rid, _ = create_release(store, OFFICE, AS_OF, catalogues=cats)
    with pytest.raises(AccessDenied):
        get_release(store, PRESS, rid)
    with pytest.raises(AccessDenied):
        list_releases(store, PRESS, include_drafts=True)
    refused = store.execute("SELECT user_name, action FROM access_log WHERE NOT allowed")
    assert ("press", "release.manage") in refused


@pytest.mark.parametrize("who", [PRESS, LEADER, DEPT])
def test_only_the_office_creates_and_publishes(store: Store, cats: dict, who: Principal) -> None:
    with pytest.raises(AccessDenied):
        create_release(store, who, AS_OF, catalogues=cats)
    rid, _ = create_release(store, OFFICE, AS_OF, catalogues=cats)
    with pytest.raises(AccessDenied):
        publish_release(store, who, rid)
    assert store.execute("SELECT state FROM releases")[0][0] == "draft"


def test_departments_do_not_read_releases(store: Store, cats: dict) -> None:
    _publish(store, cats)
    with pytest.raises(AccessDenied):
        list_releases(store, DEPT)


# --------------------------------------------------------------------------- files


def _rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_has_release_metadata_and_is_injection_safe(tiny_duck: Store, cats: dict) -> None:
    evil = '=HYPERLINK("http://x","点我")'
    insert(tiny_duck, "events", [ev(i, "招聘会") for i in range(280)] + [ev(500 + i, evil) for i in range(15)])
    take_snapshot(tiny_duck, AS_OF, catalogues=cats)
    rel = get_release(tiny_duck, OFFICE, _publish(tiny_duck, cats))
    rows = _rows(release_csv(rel, "T01"))
    assert rows[0] == ["发布编号", "2026年第1期"]
    assert rows[1] == ["数据截至", "2026年10月31日"]
    assert rows[2][0] == "来源说明" and "<10" in rows[2][1]
    cells = [r[0] for r in rows[5:]]
    assert '\'=HYPERLINK("http://x","点我")' in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for r in rows for c in r)


def test_xlsx_every_sheet_carries_number_date_and_source(store: Store, cats: dict) -> None:
    rel = get_release(store, PRESS, _publish(store, cats))
    wb = openpyxl.load_workbook(io.BytesIO(release_xlsx(rel)))
    assert wb.sheetnames[:2] == ["说明", "主要指标"] and len(wb.sheetnames) == 2 + len(rel.content["tables"])
    for ws in wb.worksheets:
        assert ws["A1"].value == "发布编号" and ws["B1"].value == "2026年第1期"
        assert ws["A2"].value == "数据截至" and ws["B2"].value == "2026年10月31日"
        assert ws["A3"].value == "来源说明"
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} is a formula"
                if isinstance(c.value, str):
                    assert not c.value.startswith(("=", "+", "-", "@"))
    main_sheet = wb["主要指标"]
    values = [[c.value for c in r] for r in main_sheet.iter_rows(min_row=7)]
    assert values[0][2:7] == ["年度招聘活动场次", "285场", 285, "场", "300场"]


def _cjk_available() -> bool:
    try:
        from metrics.releases.export import _cjk_font

        _cjk_font()
    except FontMissing:
        return False
    return True


@pytest.mark.skipif(
    not _cjk_available() and os.environ.get("CI") != "true",
    reason="no CJK font: apt-get install fonts-noto-cjk (required when CI=true)",
)
def test_png_charts_render_chinese_without_missing_glyphs(store: Store, cats: dict) -> None:
    rel = get_release(store, PRESS, _publish(store, cats))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font" for tofu
        png = chart_png(rel, "T01")
        head = headline_png(rel, "tiny")
    assert png is not None and png.startswith(b"\x89PNG") and head is not None and head.startswith(b"\x89PNG")


@pytest.mark.skipif(not _cjk_available() and os.environ.get("CI") != "true", reason="no CJK font installed")
def test_press_pack_zip(store: Store, cats: dict) -> None:
    rel = get_release(store, PRESS, _publish(store, cats))
    z = zipfile.ZipFile(io.BytesIO(press_pack(rel)))
    names = z.namelist()
    assert all(n.startswith("2026-001/") for n in names)
    for must in ("说明.txt", "参考表述.txt", "统计表.xlsx", "csv/主要指标.csv", "release.json", "SHA256SUMS.txt"):
        assert f"2026-001/{must}" in names
    assert any(n.endswith(".png") for n in names)
    sums = z.read("2026-001/SHA256SUMS.txt").decode().splitlines()
    for line in sums:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(z.read(f"2026-001/{name}")).hexdigest() == digest
    assert "285场" in z.read("2026-001/参考表述.txt").decode()
    assert statements_text(rel) == z.read("2026-001/参考表述.txt").decode()


# --------------------------------------------------------------------------- CLI


def test_cli_create_publish_list_export(store: Store, tmp_path: Path) -> None:
    # the real catalogues: tz-recruitment-events counts the 285 fixture events
    take_snapshot(store, AS_OF, replace=True)
    path = str(store.path)
    store.close()
    r = CliRunner()
    base = ["--db", path]
    res = r.invoke(main, ["release", "create", *base, "--user", "press", "--as-of", "2026-10-31"])
    assert res.exit_code != 0 and "无权限" in res.output
    res = r.invoke(main, ["release", "list", *base, "--user", "nobody"])
    assert res.exit_code != 0 and "账号不存在" in res.output
    res = r.invoke(main, ["release", "create", *base, "--user", "office", "--as-of", "2026-10-31"])
    assert res.exit_code == 0 and "已生成草稿 #1" in res.output, res.output
    res = r.invoke(main, ["release", "export", "1", *base, "--user", "press", "--out", str(tmp_path / "x.zip")])
    assert res.exit_code != 0 and "无权限" in res.output  # a draft is not the press's
    res = r.invoke(main, ["release", "publish", "1", *base, "--user", "office"])
    assert res.exit_code == 0 and f"{clock.today().year}-001" in res.output, res.output
    res = r.invoke(main, ["release", "list", *base, "--user", "press", "--format", "json"])
    assert [x["state"] for x in json.loads(res.output)] == ["published"]
    out = tmp_path / "statements.txt"
    number = json.loads(res.output)[0]["release_no"]
    res = r.invoke(main, ["release", "export", number, *base, "--user", "press", "--format", "text", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "截至2026年10月31日，全区今年已开展各类招聘活动285场，完成年度目标的95.0%。" in out.read_text(
        encoding="utf-8"
    )


# --------------------------------------------------------------------------- property


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(counts=st.lists(st.integers(min_value=0, max_value=30), min_size=2, max_size=5))
def test_published_breakdown_reveals_no_small_count(
    tmp_path_factory: pytest.TempPathFactory, counts: list[int]
) -> None:
    """From the published table alone (cells, labels and the headline total), no hidden count is pinned down."""
    if sum(counts) == 0:
        return
    cats = {"tiny": tiny_catalogue([{**EVENTS, "dimensions": ["event_type"]}])}
    store = Store.memory()
    types = ["招聘会", "专场招聘", "直播带岗", "供需洽谈", "其他"][: len(counts)]
    insert(
        store,
        "events",
        [ev(100 * k + i, t) for k, (t, n) in enumerate(zip(types, counts, strict=True)) for i in range(n)],
    )
    take_snapshot(store, AS_OF, catalogues=cats)
    rid, _ = create_release(store, OFFICE, AS_OF, catalogues=cats)
    rel = get_release(store, OFFICE, rid)
    t = rel.content["tables"][0]
    h = rel.content["programmes"][0]["headlines"][0]
    if t["withheld"]:
        assert t["rows"] == []
        return
    truth = dict(zip(types, counts, strict=True))
    shown = [r[1] if isinstance(r[1], int) else None for r in t["rows"]]
    labels = [None if isinstance(r[1], int) else ("primary" if r[1] == "<10" else "secondary") for r in t["rows"]]
    possible = attacker_values(shown, labels, 10, h["value"])
    for row, options, lab in zip(t["rows"], possible, labels, strict=True):
        assert truth[row[0]] in options
        if lab is not None:
            assert len(options) >= 2, f"{truth}: {row} can be derived"


def test_without_a_cjk_font_charts_are_refused_not_drawn_as_boxes(
    store: Store, cats: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    import metrics.releases.export as rx

    monkeypatch.setattr(rx, "CJK_FONTS", ("No Such Font SC",))
    rel = get_release(store, PRESS, _publish(store, cats))
    assert not rx.charts_available()
    with pytest.raises(FontMissing, match="fonts-noto-cjk"):
        chart_png(rel, "T01")
    z = zipfile.ZipFile(io.BytesIO(press_pack(rel)))
    assert not any(n.endswith(".png") for n in z.namelist())
    assert "图表未生成" in z.read("2026-001/说明.txt").decode()


def test_release_changes_read_in_chinese_in_the_audit_trail(store: Store, cats: dict) -> None:
    from metrics.auth.audit import ACTIONS_ZH, field_label

    _publish(store, cats)
    actions = [a for (a,) in store.execute("SELECT action FROM change_log WHERE entity = 'releases' ORDER BY 1")]
    assert [ACTIONS_ZH[a] for a in actions] == ["生成草稿", "发布"]
    assert field_label("releases", "release_no") == "发布编号"


def test_a_draft_identical_to_a_published_release_is_flagged(store: Store, cats: dict) -> None:
    _publish(store, cats)
    _, warns = create_release(store, OFFICE, AS_OF, catalogues=cats)
    assert warns == ["内容与已发布的2026年第1期完全相同，无需重复发布"]
