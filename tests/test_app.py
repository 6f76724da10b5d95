"""Every page runs under AppTest and shows the engine's numbers for a small fixed database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics.auth.access import Principal
from metrics.auth.users import add_user
from metrics.kpi.engine import Engine
from metrics.present.format import STATUS_LABELS, format_value, status_label
from metrics.storage.store import Store
from tests.support import insert

AS_OF = dt.date(2026, 11, 21)
APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


@pytest.fixture
def small_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "app.duckdb"
    with Store.open(db) as store:
        insert(
            store,
            "events",
            [
                {
                    "event_id": f"E{i}",
                    "district": "通州区",
                    "event_type": "招聘会",
                    "event_date": dt.date(2026, 1 + i % 10, 5),
                    "title": "招聘会",
                    "organiser": "区人力社保局",
                }
                for i in range(37)
            ],
        )
        insert(
            store,
            "contract_returns",
            [
                {
                    "enterprise_id": "91110112MA00000001",
                    "district": "通州区",
                    "street": "新华街道",
                    "report_month": dt.date(2026, 10, 1),
                    "employees": 200,
                    "contracts_signed": 195,
                },
            ],
        )
        for name, role, unit, district in (
            ("leader", "leader", None, None),
            ("press", "press", None, None),
            ("hrss", "department", "区人力社保局", "通州区"),
            ("office", "office", None, None),
            ("admin", "admin", None, None),
        ):
            add_user(store, None, name, role, unit=unit, district=district)  # no password: sessions set directly
    monkeypatch.setenv("KPI_DB", str(db))
    return db


LEADER = Principal("leader", "leader")


def run_app(lang: str = "zh", principal: Principal | None = LEADER) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["as_of"] = AS_OF
    if principal is not None:
        at.session_state["principal"] = principal
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    return at


def test_overview_status_counts_equal_the_engine(small_db: Path) -> None:
    at = run_app()
    with Store.open(small_db) as store:
        results = Engine(store).compute(AS_OF)
    shown = {m.label: m.value for m in at.metric}
    for status in STATUS_LABELS:
        assert shown[status_label(status)] == str(sum(r.status == status for r in results)), status


def test_overview_tiles_show_engine_values(small_db: Path) -> None:
    at = run_app()
    with Store.open(small_db) as store:
        engine = Engine(store)
        events = engine.compute_kpi("tz-recruitment-events", AS_OF)
        rate = engine.compute_kpi("tz-contract-signing-rate", AS_OF)
    tiles = {m.label: m.value for m in at.metric}
    assert events.actual == 37 and tiles["年度招聘活动场次"] == format_value(37, "场") == "37场"
    assert rate.actual == 195 / 200 and tiles["企业职工劳动合同签订率"] == "97.5%"
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    with Store.open(small_db) as store:
        targeted = [r for r in Engine(store).compute(AS_OF) if r.status != "monitoring"]
    assert len(badges) == len(targeted)
    assert badges.count(f":red-badge[{status_label('off_track')}]") == sum(r.status == "off_track" for r in targeted)


def test_overview_in_english(small_db: Path) -> None:
    at = run_app("en")
    assert at.title[0].value == "Employment programme KPIs"
    assert "Off track" in {m.label for m in at.metric}


def test_missing_database_says_how_to_build_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_DB", str(tmp_path / "none.duckdb"))
    at = run_app()
    assert "make run" in at.error[0].value


def run_page(page: str, lang: str = "zh", principal: Principal = LEADER, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["as_of"] = AS_OF
    at.session_state["principal"] = principal
    at.session_state["lang"] = lang
    for k, v in query.items():
        at.query_params[k] = v
    at.run()  # pages registered by st.navigation are known after the first run
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def test_kpi_detail_shows_values_why_and_the_clause(small_db: Path) -> None:
    at = run_page("views/kpi_detail.py", kpi="tz-contract-signing-rate")
    shown = {m.label: m.value for m in at.metric}
    assert shown["实际"] == "97.5%" and shown["目标"] == "≥ 98.0%"
    text = "\n".join(m.value for m in at.markdown)
    assert "orange-background" in text and "劳动合同签订率达98" in text.replace("\\", "")
    assert any("195" in str(j.value) for j in at.json)  # inputs: numerator 195, denominator 200
    assert at.title[0].value == "企业职工劳动合同签订率"


def test_kpi_detail_count_kpi_projection(small_db: Path) -> None:
    at = run_page("views/kpi_detail.py", kpi="tz-recruitment-events")
    shown = {m.label: m.value for m in at.metric}
    with Store.open(small_db) as store:
        r = Engine(store).compute_kpi("tz-recruitment-events", AS_OF)
    assert shown["实际"] == "37场"
    assert shown["按当前进度预计期末"] == format_value(r.projection, "场")
    assert shown["每周还需完成"] == format_value(r.required_weekly, "场")


def test_programmes_page_lists_tasks_and_subsidies(small_db: Path) -> None:
    at = run_page("views/programmes.py")
    assert at.header[0].value.startswith("关于聚焦社会领域就业资源")
    labels = [e.label for e in at.expander]
    assert any(label.startswith("一、（一）") for label in labels)


def test_delivery_page_counts_equal_the_computation(small_db: Path) -> None:
    from metrics.catalogue import load_catalogues
    from metrics.reports.delivery import delivery_by_measure

    with Store.open(small_db) as store:
        insert(
            store,
            "applications",
            [
                {
                    "application_id": f"A{i}",
                    "district": "昌平区",
                    "measure_code": "cp-job-referral",
                    "applicant_type": "人力资源机构",
                    "applicant_id": "H1",
                    "submitted_date": dt.date(2026, 3, 1),
                    "quantity": 2,
                    "amount_requested": 2000,
                    "amount_approved": 2000 if i else 1500,
                    "status": "已拨付",
                    "decision_date": dt.date(2026, 3, 11),
                    "paid_date": dt.date(2026, 3, 21),
                }
                for i in range(3)
            ],
        )
        expected = delivery_by_measure(store, load_catalogues()["changping-huitian-2022"], dt.date(2026, 1, 1), AS_OF)
    at = run_page("views/delivery.py")
    shown = {m.label: m.value for m in at.metric}
    assert shown["受理"] == str(int(expected["received"].sum())) == "3"
    assert shown["核准金额"] == "5,500元"
    assert any("需复核（1）" in s.value for s in at.subheader)


def test_sidebar_programme_filter_scopes_the_counts(small_db: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["as_of"] = AS_OF
    at.session_state["principal"] = LEADER
    at.session_state["programmes"] = ["tongzhou-2025"]
    at.run()
    assert not at.exception
    with Store.open(small_db) as store:
        results = Engine(store).compute(AS_OF, "tongzhou-2025")
    shown = {m.label: m.value for m in at.metric}
    assert shown[status_label("monitoring")] == str(sum(r.status == "monitoring" for r in results))
    assert "重点项目就近吸纳就业人员比例" not in shown  # a Changping KPI


def test_warm_up_fills_the_caches_the_pages_read(small_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    from dashboard import serve, state

    st.cache_data.clear()
    serve.warm(AS_OF)

    def no_compute(*args: object, **kwargs: object) -> None:
        raise AssertionError("the overview recomputed instead of using the warmed cache")

    monkeypatch.setattr(Engine, "compute", no_compute)
    from metrics.catalogue import load_catalogues

    assert len(state.results(AS_OF)) == sum(len(c.kpis) for c in load_catalogues().values())


def test_signed_out_visitors_only_see_the_login_page(small_db: Path) -> None:
    at = run_app(principal=None)
    assert at.title[0].value == "登录就业工作指标看板"
    assert not at.metric


def test_press_sees_only_releases_and_is_refused_kpis_by_url(small_db: Path) -> None:
    press = Principal("press", "press")
    at = run_app(principal=press)
    assert at.title[0].value == "统计发布" and not at.metric
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["as_of"] = AS_OF
    at.session_state["principal"] = press
    at.run()
    with pytest.raises(ValueError, match="overview"):  # the overview is not among the press role's pages
        at.switch_page("views/overview.py").run()


HRSS = Principal("hrss", "department", unit="区人力社保局", district="通州区")


def test_department_opens_a_task_account_in_the_ledger_page(small_db: Path) -> None:
    at = run_page("views/ledger.py", principal=HRSS)
    at.selectbox(key="ledger_task").set_value("tz-t02").run()
    assert any("尚未建账" in i.value for i in at.info)
    at.text_area[0].set_value("<script>alert(1)</script> 每月两场直播")
    at.text_input[0].set_value("张三")
    at.button[0].click().run()  # the form's submit button: 建账
    assert not at.exception, at.exception
    with Store.open(small_db) as store:
        row = store.execute("SELECT plan, owner, opened_by, version FROM task_accounts WHERE task_id = 'tz-t02'")
    assert row == [("<script>alert(1)</script> 每月两场直播", "张三", "hrss", 1)]
    assert any(t.value.startswith("<script>") for t in at.text)  # shown as text, not HTML


def test_office_pages_are_refused_to_a_department_at_the_service_layer(small_db: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["as_of"] = AS_OF
    at.session_state["principal"] = HRSS
    at.run()
    with pytest.raises(ValueError, match="audit"):  # not among a department's pages
        at.switch_page("views/audit.py").run()
    # the page's own check refuses too, and the refusal is logged
    from dashboard import state  # noqa: F401
    from metrics.auth.access import AccessDenied
    from metrics.auth.users import guarded

    with Store.open(small_db) as store:
        with pytest.raises(AccessDenied):
            guarded(store, HRSS, "audit.read")
        assert store.execute("SELECT user_name, action, allowed FROM access_log WHERE action = 'audit.read'") == [
            ("hrss", "audit.read", False)
        ]


def test_scorecard_and_audit_pages_run(small_db: Path) -> None:
    from metrics.catalogue import load_catalogues
    from metrics.ledger.scorecard import department_scorecard

    office = Principal("office", "office")
    at = run_page("views/scorecard.py", principal=office)
    assert at.title[0].value.startswith("部门考评")
    with Store.open(small_db) as store:
        card = department_scorecard(store, office, AS_OF, catalogues=load_catalogues())
    assert len(card) > 0 and len(at.dataframe[0].value) == len(card)  # one row per department, none dropped
    at = run_page("views/audit.py", principal=Principal("office", "office"))
    assert at.title[0].value.startswith("变更记录")


def test_uploads_page_offers_a_template(small_db: Path) -> None:
    at = run_page("views/uploads.py", principal=HRSS)
    assert at.title[0].value.startswith("数据上传")
    assert at.selectbox(key="upload_type").value == "placements"


def test_a_link_to_an_office_page_is_refused_after_signing_in_and_logged(small_db: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["as_of"] = AS_OF
    at.session_state["principal"] = HRSS
    at.session_state["after_login"] = ("audit", {})  # the link the visitor followed before signing in
    at.run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["无权限访问“变更记录”页面，已转到本账号的首页。此次访问已记录。"]
    assert at.title[0].value == "就业工作指标总览"
    with Store.open(small_db) as store:
        assert store.execute("SELECT user_name, action, allowed FROM access_log") == [("hrss", "audit.read", False)]


def shown_tables(at: AppTest) -> list[tuple[list[str], dict[str, str], str]]:
    """(columns shown, their labels, placeholder for missing values) of every st.dataframe on the page."""
    import json

    out = []
    for frame in at.dataframe:
        config = json.loads(frame.proto.columns or "{}")
        labels = {name: str(c.get("label", name)) for name, c in config.items()}
        out.append((list(frame.proto.column_order), labels, frame.proto.placeholder))
    return out


def test_workspace_tables_have_chinese_labels_and_show_missing_values_as_a_dash(small_db: Path) -> None:
    import re

    from metrics import ledger
    from metrics.ingest import parse_bytes
    from metrics.ingest.uploads import upload

    with Store.open(small_db) as store:
        ledger.open_account(store, HRSS, "tz-t02", "计划", "张三", [("节点", dt.date(2026, 12, 1))], [])
        ledger.append_update(store, HRSS, "tz-t02", None, "", None, [("a.txt", b"a")])  # empty cells to show
        csv = "岗位信息编号,所属区,统一社会信用代码,采集日期,所属行业,岗位数量\nV1,通州区,91110112MA00000001,2026-03-01,制造业,2\n"
        upload(store, HRSS, parse_bytes(csv.encode(), "vacancies.csv"))
    at = run_page("views/ledger.py", principal=HRSS)
    at.selectbox(key="ledger_task").set_value("tz-t02").run()
    ledger_tables = shown_tables(at)
    at = run_page("views/uploads.py", principal=HRSS)
    upload_tables = shown_tables(at)
    at = run_page("views/scorecard.py", principal=HRSS)
    scorecard_tables = shown_tables(at)
    assert len(ledger_tables) == 3 and len(upload_tables) == 1 and len(scorecard_tables) == 1  # list, nodes, updates
    for order, labels, placeholder in ledger_tables + upload_tables + scorecard_tables:
        assert placeholder == "—"
        for name in order:
            assert re.search(r"[\u4e00-\u9fff]", labels[name]), (name, labels[name])  # a Chinese label
    assert "报送时间" in ledger_tables[2][1].values() and "上传时间" in upload_tables[0][1].values()


def test_open_account_form_speaks_chinese(small_db: Path) -> None:
    at = run_page("views/ledger.py", principal=HRSS)
    at.selectbox(key="ledger_task").set_value("tz-t02").run()
    (kpis,) = [m for m in at.multiselect if m.label == "关联指标"]
    assert kpis.proto.placeholder == "选择关联指标（可多选，可不选）"
    assert kpis.proto.select_all == 0  # Streamlit's English "Select all" is off
    assert kpis.options[0].endswith("（本任务指标）")  # the task's own KPIs first


@pytest.mark.parametrize(
    ("page", "title"),
    [
        ("views/ledger.py", "Task ledger: open · supervise · close"),
        ("views/uploads.py", "Upload data: validated, then imported in one transaction"),
        ("views/scorecard.py", "Department scorecard"),
    ],
)
def test_workspace_pages_in_english(small_db: Path, page: str, title: str) -> None:
    at = run_page(page, "en", principal=HRSS)
    assert at.title[0].value == title  # this page's own title, not any of the three
    for order, labels, _ in shown_tables(at):
        assert all(labels[name].isascii() for name in order)  # English labels throughout


OFFICE = Principal("office", "office")


def _snapshot(db: Path) -> None:
    from metrics.kpi.snapshots import take_snapshot

    with Store.open(db) as store:
        take_snapshot(store, AS_OF)


def test_office_creates_reviews_and_publishes_a_release(small_db: Path) -> None:
    _snapshot(small_db)
    at = run_page("views/releases.py", principal=OFFICE)
    assert at.title[0].value == "发布管理"
    at.button[0].click().run()  # the form's submit button: 生成草稿 (defaults: latest snapshot, targeted KPIs)
    assert not at.exception, at.exception
    assert any("已生成草稿 #1" in s.value for s in at.success)
    publish = next(b for b in at.button if b.label == "发布")
    assert publish.disabled  # not before the reviewer ticks the confirmation
    at.checkbox(key="confirm-1").check().run()
    next(b for b in at.button if b.label == "发布").click().run()
    assert any("已发布：" in s.value and "第1期" in s.value for s in at.success)
    with Store.open(small_db) as store:
        assert store.execute("SELECT state, release_no FROM releases")[0][0] == "published"


def test_press_page_shows_the_published_release_only(small_db: Path) -> None:
    from metrics.releases.service import create_release, publish_release

    _snapshot(small_db)
    with Store.open(small_db) as store:
        rid, _ = create_release(store, OFFICE, AS_OF)
        publish_release(store, OFFICE, rid)
        create_release(store, OFFICE, AS_OF, title="未发布草稿")
    at = run_app(principal=Principal("press", "press"))
    assert at.selectbox[0].value.release_no.endswith("-001")
    assert [o for o in at.selectbox[0].options if "未发布草稿" in o] == []
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["年度招聘活动场次"] == "37场"
    statements = "\n".join(c.value for c in at.code)
    assert "截至2026年11月21日，全区今年已开展各类招聘活动37场，完成年度目标的12.3%。" in statements


def test_department_is_refused_the_release_desk_and_press_page(small_db: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["as_of"] = AS_OF
    at.session_state["principal"] = HRSS
    at.run()
    for page in ("views/releases.py", "views/press.py"):
        with pytest.raises(ValueError):  # not among a department's pages
            at.switch_page(page).run()


ROLE_PRINCIPALS = {
    "leader": LEADER,
    "office": OFFICE,
    "department": HRSS,
    "admin": Principal("admin", "admin"),
    "press": Principal("press", "press"),
}


def registered_pages(at: AppTest) -> set[str]:
    """The page files st.navigation registered in the last run (what the navigation shows)."""
    return {Path(str(info["script_path"])).name for info in at._registered_pages.values()}


@pytest.mark.parametrize("role", sorted(ROLE_PRINCIPALS))
def test_navigation_shows_exactly_the_pages_whose_action_the_role_holds(small_db: Path, role: str) -> None:
    from dashboard.navigation import PAGES
    from metrics.auth.access import ACTIONS

    principal = ROLE_PRINCIPALS[role]
    at = run_app(principal=principal)
    expected = {p.file for p in PAGES if role in ACTIONS[p.action]}
    assert registered_pages(at) == expected
    assert expected  # every role has a home page
    for spec in PAGES:
        if spec.file not in expected:  # not in the navigation: opening it by path is refused
            with pytest.raises(ValueError):
                at.switch_page(f"views/{spec.file}")


def test_every_page_in_the_admins_navigation_runs(small_db: Path) -> None:
    """The admin holds kpi, ledger and release reads in metrics.auth.access; its pages run without refusal."""
    from dashboard.navigation import pages_for

    admin = ROLE_PRINCIPALS["admin"]
    for spec in pages_for("admin"):
        at = run_page(f"views/{spec.file}", principal=admin)
        assert not at.error, (spec.file, [e.value for e in at.error])
        assert at.title, spec.file


def test_the_page_table_names_known_actions_and_every_page_file() -> None:
    from dashboard.navigation import PAGES
    from metrics.auth.access import ACTIONS

    views = Path(APP).parent / "views"
    assert {p.file for p in PAGES} == {f.name for f in views.glob("*.py")} - {"login.py", "__init__.py"}
    for spec in PAGES:
        assert spec.action in ACTIONS, spec
        source = (views / spec.file).read_text(encoding="utf-8")
        assert f'require("{spec.action}"' in source, spec  # the page's own check asks for the same action
