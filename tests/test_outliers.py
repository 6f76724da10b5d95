"""Outlier warnings on upload (issue 12 item 5, docs/uploads.md): the rule by hand on small fixed data, counts per
street and month against the store, amounts against the catalogue standard and the measure's history, and the
paths that import only once the warnings are accepted (service, `kpi import --accept-warnings`), keeping them
with the upload and in the audit trail."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from metrics.auth.access import Principal
from metrics.auth.audit import change_history
from metrics.catalogue import load_catalogues
from metrics.cli.main import main
from metrics.ingest import WarningsNotAccepted, import_parsed, parse_file
from metrics.ingest.outliers import (
    MIN_COUNT,
    RATIO_THRESHOLD,
    Z_CONSTANT,
    Z_THRESHOLD,
    find_outliers,
    score,
)
from metrics.ingest.uploads import outlier_warnings, upload, upload_history, upload_warnings
from metrics.reports.ceiling import standard_ceiling
from metrics.storage import clock
from metrics.storage.store import Store
from tests.support import PLACEMENT_HEAD, insert, placement_rows, write_csv

D = dt.date
TODAY = D(2026, 11, 20)  # the upload day: November 2026 is still open
HISTORY = [118, 125, 124, 130, 120, 131, 124, 119, 127]  # 霍营街道, January to September 2026: median 124
OFFICE = Principal("o", "office")
CP = Principal("li", "department", unit="区人力社保局", district="昌平区")


# --- the rule by hand -------------------------------------------------------------------------------


def test_the_thresholds_are_the_documented_ones() -> None:
    assert (Z_CONSTANT, Z_THRESHOLD, RATIO_THRESHOLD, MIN_COUNT) == (0.6745, 3.5, 3.0, 20)
    doc = (Path(__file__).resolve().parents[1] / "docs" / "uploads.md").read_text(encoding="utf-8")
    for figure in ("0.6745", "3.5", "3 times", "12 months", "fewer than 3", "20"):
        assert figure in doc, figure


def test_modified_z_by_hand() -> None:
    # history 8 9 10 11 12: median 10; |deviations| 2 1 0 1 2 → MAD 1
    s = score(40, [10, 12, 8, 11, 9])
    assert s is not None and (s.median, s.mad) == (10, 1)
    assert s.z == pytest.approx(0.6745 * 30 / 1) and s.ratio == 4.0 and s.flagged
    far_but_small = score(25, [10, 12, 8, 11, 9])  # z 10.1, but only 2.5 times the median
    assert far_but_small is not None and far_but_small.z == pytest.approx(10.1175) and not far_but_small.flagged
    low = score(2, [10, 12, 8, 11, 9])  # z −5.4 and a fifth of the median
    assert low is not None and low.z == pytest.approx(-5.396) and low.flagged
    assert score(2, [10, 12, 8, 11, 9], low_side=False).flagged is False  # type: ignore[union-attr]


def test_a_wide_history_absorbs_a_large_value() -> None:
    # 5 10 30 50 80: median 30, |deviations| 25 20 0 20 50 → MAD 20; 95 is 3.2 times the median but z 2.2
    s = score(95, [5, 50, 10, 80, 30])
    assert s is not None and (s.median, s.mad) == (30, 20)
    assert s.z == pytest.approx(0.6745 * 65 / 20) and s.ratio == pytest.approx(95 / 30) and not s.flagged


def test_mad_zero_falls_back_to_the_ratio() -> None:
    s = score(60, [20, 20, 20, 21])  # median 20, MAD 0
    assert s is not None and s.mad == 0 and s.z is None and s.ratio == 3.0 and s.flagged
    assert not score(59, [20, 20, 20]).flagged  # type: ignore[union-attr]
    assert score(6, [20, 20, 20]).flagged  # type: ignore[union-attr]  # at most a third


def test_fewer_than_three_months_of_history_gives_no_warning() -> None:
    # Nothing to compare with: no score, so no warning however large the value.
    assert score(10_000, [100, 110]) is None and score(10_000, []) is None


# --- counts per street and month against the store ---------------------------------------------------


def _history(store: Store, counts: dict[tuple[str, int], int], district: str = "昌平区") -> None:
    """`counts[(street, month of 2026)]` placements on the 10th of that month."""
    rows: list[dict[str, Any]] = []
    for (street, month), n in counts.items():
        for i in range(n):
            rows.append(
                {
                    "placement_id": f"H-{street}-{month}-{i}",
                    "person_id": f"HP-{street}-{month}-{i}",
                    "district": district,
                    "street": street,
                    "placement_date": D(2026, month, 10),
                    "employer_id": "91110114MA01ABCD1X",
                    "employer_name": "北京某某科技有限公司",
                    "channel": "公共就业服务",
                    "person_group": "高校毕业生",
                    "is_local": True,
                    "is_beijing_hukou": True,
                    "contract_signed": True,
                    "social_insurance": True,
                }
            )
    insert(store, "placements", rows)


@pytest.fixture
def huoying(tiny_duck: Store) -> Store:
    """霍营街道 with nine months of history; 回龙观街道 with two (too little to compare)."""
    _history(tiny_duck, {("霍营街道", m + 1): n for m, n in enumerate(HISTORY)})
    _history(tiny_duck, {("回龙观街道", 8): 30, ("回龙观街道", 9): 31})
    return tiny_duck


def _october(tmp_path: Path, huoying_n: int, huilongguan_n: int = 0, day: str = "2026-10-15") -> Any:
    rows = placement_rows(huoying_n, prefix="HY", day=day)
    rows += placement_rows(huilongguan_n, prefix="HL", street="回龙观街道", day=day)
    path = write_csv(tmp_path / "placements_2026-10.csv", PLACEMENT_HEAD, [[str(v) for v in r] for r in rows])
    parsed = parse_file(path, today=TODAY)
    assert parsed.ok, parsed.errors[:3]
    return parsed


def test_a_street_month_far_above_its_history_is_flagged(huoying: Store, tmp_path: Path) -> None:
    parsed = _october(tmp_path, 1240, 900)
    [warning] = find_outliers(huoying, parsed, today=TODAY)  # 回龙观街道: two months of history, no warning
    assert warning.message_zh == "霍营街道 2026年10月 就业人数 1,240，为近12个月中位数的 10.0 倍"
    assert warning.message_en.startswith("霍营街道 2026-10 placements 1,240: 10.0 times the median of the last 12")
    # median 124; |deviations| 6 1 0 6 4 7 0 5 3 → MAD 4; z = 0.6745 × 1116 / 4
    assert (warning.kind, warning.subject, warning.period, warning.measure) == (
        "count",
        "霍营街道",
        D(2026, 10, 1),
        "就业人数",
    )
    assert warning.reference == 124 and warning.z == pytest.approx(188.1855) and warning.ratio == 10.0


def test_an_ordinary_month_and_a_replaced_upload_give_no_warning(huoying: Store, tmp_path: Path) -> None:
    assert find_outliers(huoying, _october(tmp_path, 130), today=TODAY) == []
    # The same 130 rows uploaded again replace themselves: still 130 for October, not 260.
    import_parsed(huoying, _october(tmp_path, 130), user="t")
    assert find_outliers(huoying, _october(tmp_path, 130), today=TODAY) == []


def test_low_counts_are_flagged_only_for_months_that_have_ended(huoying: Store, tmp_path: Path) -> None:
    [low] = find_outliers(huoying, _october(tmp_path, 30), today=TODAY)
    assert low.message_zh == "霍营街道 2026年10月 就业人数 30，为近12个月中位数的 0.2 倍"
    november = _october(tmp_path, 30, day="2026-11-05")  # the month of the upload is still filling up
    assert find_outliers(huoying, november, today=TODAY) == []


def test_small_numbers_are_not_compared(tiny_duck: Store, tmp_path: Path) -> None:
    _history(tiny_duck, {("霍营街道", m): 2 for m in range(1, 10)})
    assert find_outliers(tiny_duck, _october(tmp_path, 19), today=TODAY) == []  # 9.5 times, but under 20
    assert len(find_outliers(tiny_duck, _october(tmp_path, 20), today=TODAY)) == 1


def test_a_record_type_without_streets_is_compared_per_district(tiny_duck: Store, tmp_path: Path) -> None:
    rows = [
        {"event_id": f"E{m}-{i}", "district": "通州区", "event_type": "招聘会", "event_date": D(2026, m, 3)}
        | {"title": "春风行动", "organiser": "区人力社保局"}
        for m in range(4, 10)
        for i in range(25)
    ]
    insert(tiny_duck, "events", rows)
    head = ["活动编号", "所属区", "活动类型", "活动日期", "活动名称", "主办单位"]
    file = [[f"N{i}", "通州区", "招聘会", "2026-10-08", "金秋招聘", "区人力社保局"] for i in range(100)]
    parsed = parse_file(write_csv(tmp_path / "events.csv", head, file), today=TODAY)
    [warning] = find_outliers(tiny_duck, parsed, today=TODAY)
    assert warning.message_zh == "通州区 2026年10月 活动场次 100，为近12个月中位数的 4.0 倍"


# --- amounts per subsidy measure --------------------------------------------------------------------

APP_HEAD = [
    "申请编号",
    "所属区",
    "政策项目代码",
    "申请主体类型",
    "申请主体编号",
    "申请日期",
    "数量",
    "申请金额（元）",
    "状态",
]


def _applications(tmp_path: Path, rows: list[list[Any]]) -> Any:
    path = write_csv(tmp_path / "applications.csv", APP_HEAD, [[str(v) for v in r] for r in rows])
    parsed = parse_file(path, today=TODAY)
    assert parsed.ok, parsed.errors[:3]
    return parsed


def test_an_amount_above_the_catalogue_standard(tiny_duck: Store, tmp_path: Path) -> None:
    # xc-incubator-base-grant: one-off 30,000 yuan (metrics/catalogue/xicheng-measures.yaml)
    parsed = _applications(
        tmp_path,
        [
            ["A1", "西城区", "xc-incubator-base-grant", "用人单位", "U1", "2026-10-09", "", "300000", "已受理"],
            ["A2", "西城区", "xc-incubator-base-grant", "用人单位", "U2", "2026-10-09", "", "30000", "已受理"],
        ],
    )
    standard = standard_ceiling(load_catalogues().values())
    [warning] = find_outliers(tiny_duck, parsed, standard=standard, today=TODAY)
    assert warning.kind == "amount_standard" and warning.row == 2 and warning.reference == 30000
    assert warning.message_zh.startswith(
        "申请编号 A1（政策项目 xc-incubator-base-grant）申请金额 300,000 元，超过政策标准 30,000 元（"
    )
    assert find_outliers(tiny_duck, parsed, today=TODAY) == []  # without the standard, no history either


def test_an_amount_far_from_the_measures_history(tiny_duck: Store, tmp_path: Path) -> None:
    past = [
        {"application_id": f"P{i}", "district": "昌平区", "measure_code": "cp-job-referral"}
        | {"applicant_type": "个人", "applicant_id": f"X{i}", "submitted_date": D(2026, 6, 1)}
        | {"amount_requested": 1000, "status": "已受理"}
        for i in range(5)
    ]
    insert(tiny_duck, "applications", past)
    parsed = _applications(
        tmp_path, [["N1", "昌平区", "cp-job-referral", "个人", "Y1", "2026-10-09", "", "10000", "已受理"]]
    )
    [warning] = find_outliers(tiny_duck, parsed, today=TODAY)  # all 1,000 before: MAD 0, ratio 10
    assert warning.kind == "amount_history" and warning.z is None and warning.ratio == 10.0
    assert warning.message_zh == (
        "申请编号 N1（政策项目 cp-job-referral）申请金额 10,000 元，为近12个月同一政策项目金额中位数的 10.0 倍"
    )


# --- imported only when accepted, and kept with the upload ------------------------------------------


def test_import_refuses_unaccepted_warnings_and_keeps_accepted_ones(huoying: Store, tmp_path: Path) -> None:
    parsed = _october(tmp_path, 1240)
    with clock.pinned(dt.datetime(2026, 11, 20, 10, 30)):
        outliers = outlier_warnings(huoying, CP, parsed)
        assert len(outliers) == 1
        before = huoying.count("placements")
        with pytest.raises(WarningsNotAccepted, match="文件有 1 条异常值提示，须确认后才能导入"):
            upload(huoying, CP, parsed, outliers=outliers)
        assert huoying.count("placements") == before and upload_history(huoying, OFFICE).empty
        report = upload(huoying, CP, parsed, outliers=outliers, accept=True)
    assert report.ok and report.new == 1240 and report.accepted_by == "li"
    history = upload_history(huoying, CP)
    assert history["warning_count"].tolist() == [1] and history["accepted_by"].tolist() == ["li"]
    assert history["warnings_accepted"].iloc[0] == outliers[0].message_zh
    kept = upload_warnings(huoying, OFFICE, int(history["upload_id"].iloc[0]))
    assert kept[["kind", "subject", "accepted_by"]].values.tolist() == [["count", "霍营街道", "li"]]
    assert kept["accepted_at"].iloc[0] == dt.datetime(2026, 11, 20, 10, 30)
    audit = change_history(huoying, OFFICE, entity="uploads")
    assert audit["action"].tolist() == ["accept_warnings"] and audit["user_name"].tolist() == ["li"]
    assert outliers[0].message_zh in audit["changes"].iloc[0]


def test_kpi_import_refuses_without_accept_warnings_and_imports_with_it(tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    with Store.open(db) as store:
        _history(store, {("霍营街道", m + 1): n for m, n in enumerate(HISTORY)})
    rows = [[str(v) for v in r] for r in placement_rows(1240, prefix="HY", day="2026-10-15")]
    path = write_csv(tmp_path / "placements_2026-10.csv", PLACEMENT_HEAD, rows)
    with clock.pinned(TODAY):
        refused = CliRunner().invoke(main, ["import", "--db", str(db), str(path)])
        assert refused.exit_code == 1
        assert "霍营街道 2026年10月 就业人数 1,240，为近12个月中位数的 10.0 倍" in refused.output
        assert "未导入；核对无误后加 --accept-warnings 重新导入" in refused.output
        with Store.open(db, read_only=True) as store:
            assert store.count("placements") == sum(HISTORY)
        accepted = CliRunner().invoke(main, ["import", "--db", str(db), "--accept-warnings", str(path)])
    assert accepted.exit_code == 0, accepted.output
    assert "新增 1240" in accepted.output
    with Store.open(db, read_only=True) as store:
        assert store.count("placements") == sum(HISTORY) + 1240
        [(kind, subject, accepted_by)] = store.execute("SELECT kind, subject, accepted_by FROM upload_warnings")
        assert (kind, subject) == ("count", "霍营街道") and accepted_by.startswith("cli:")


def test_the_servers_import_checks_the_same_warnings(huoying: Store, tmp_path: Path) -> None:
    # metrics.ops.commands.import_file is what the operators' endpoint runs when `kpi import` reaches the server.
    from metrics.ops.commands import import_file, report_json

    rows = [[str(v) for v in r] for r in placement_rows(1240, prefix="HY", day="2026-10-15")]
    data = write_csv(tmp_path / "placements_2026-10.csv", PLACEMENT_HEAD, rows).read_bytes()
    with clock.pinned(TODAY):
        refused = import_file(huoying, CP, data, "placements_2026-10.csv", None)
        assert not refused.ok and refused.upload_id is None and len(refused.outliers) == 1
        answer = report_json(refused)
        assert (
            answer["summary_zh"] == "placements_2026-10.csv：有 1 条异常值提示须确认，文件未导入，数据库未作任何更改。"
        )
        assert [e["message_zh"] for e in answer["errors"]] == [
            "异常值提示：霍营街道 2026年10月 就业人数 1,240，为近12个月中位数的 10.0 倍",
            "有 1 条异常值提示，未导入；核对无误后加 --accept-warnings 重新导入",
        ]
        assert huoying.count("placements") == sum(HISTORY) + 61  # the fixture's 回龙观街道 rows
        accepted = import_file(huoying, CP, data, "placements_2026-10.csv", None, accept_warnings=True)
    assert accepted.ok and accepted.new == 1240 and accepted.accepted_by == "li"
    assert "已确认的异常值提示：霍营街道 2026年10月 就业人数 1,240，为近12个月中位数的 10.0 倍" in accepted.warnings
