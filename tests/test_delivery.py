"""政策兑现: expected amounts per basis and tier kind, per-subsidy delivery and the review list, all against
values computed by hand (real catalogue subsidies where they exist, small hand-built ones for edge cases)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import typing
from typing import Any

import pandas as pd
import pytest

from metrics.catalogue import load_catalogues
from metrics.catalogue.models import Catalogue, Subsidy, SubsidyBasis
from metrics.reports.delivery import (
    DELIVERY_COLUMNS,
    MANUAL_COLUMNS,
    REVIEW_COLUMNS,
    Expectation,
    delivery_by_measure,
    expected_amount,
    manual_review,
    review_list,
)
from metrics.storage.store import Store
from tests.support import insert, tiny_programme

D = dt.date


def real(subsidy_id: str) -> Subsidy:
    for cat in load_catalogues().values():
        for s in cat.subsidies:
            if s.id == subsidy_id:
                return s
    raise KeyError(subsidy_id)


def make(**kw: Any) -> Subsidy:
    base: dict[str, Any] = {
        "id": "t-sub",
        "clause": "1",
        "quote": "测试引文测试",
        "name_zh": "测试补贴",
        "recipient": "个人",
        "eligibility": "测试",
    }
    return Subsidy.model_validate({**base, **kw})


def expect(
    sub: Subsidy, quantity: float | None, year_index: int | None = None, level: str | None = None, **kw: Any
) -> Expectation:
    return expected_amount(sub, quantity, year_index, level, **kw)


# One hand-computed case per basis and tier kind (the tests below go into each in more detail).
HAND_CASES: list[tuple[str, float | None, int | None, str | None, float | None]] = [
    ("cp-job-referral", 3, None, None, 3000.0),  # per_person: 1000 × 3
    ("cp-on-job-training", 6, None, None, 3000.0),  # per_person_month: 500 × 6
    ("cp-custom-training-living", 45, None, None, 1050.0),  # per_person_day: 35 × min(45, 30)
    ("cp-custom-training-provider", 40, None, None, 1000.0),  # per_person_class_hour: 25 × 40
    ("xc-high-skill-wage", 5, None, None, 15000.0),  # per_person_year: 5000 × min(5, 3)
    ("xc-incubator-base-grant", None, None, None, 30000.0),  # one_off
    ("xc-full-employment-community", None, None, None, 10000.0),  # per_year
    ("xc-talent-intro", None, None, None, None),  # share_of_fee
    ("xc-welfare-org-post", 10, None, None, None),  # share_of_wage
    ("hd-loan-small-biz", None, None, None, None),  # loan
    ("xc-post-subsidy", 1, 2, None, 9000.0),  # tiers by year_index
    ("xc-startup-hiring-award", 130, None, None, 100000.0),  # tiers by quantity band, capped
    ("hd-expand-hire-award", 6, None, None, 50000.0),  # flat tiers by quantity band
    ("xc-contest-rank", None, None, "市级竞赛前三名", 30000.0),  # tiers by level
]


@pytest.mark.parametrize(("subsidy_id", "quantity", "year_index", "level", "amount"), HAND_CASES)
def test_hand_computed_case(
    subsidy_id: str, quantity: float | None, year_index: int | None, level: str | None, amount: float | None
) -> None:
    assert expected_amount(real(subsidy_id), quantity, year_index, level).amount == amount


def test_every_basis_and_tier_kind_has_a_hand_computed_case() -> None:
    subs = [real(case[0]) for case in HAND_CASES]
    assert {s.basis for s in subs} == set(typing.get_args(SubsidyBasis))
    assert {s.tier_by for s in subs if s.tier_by} == {"year_index", "quantity", "level"}


# --------------------------------------------------------------------------- per basis


def test_per_person_class_hour_changping_25_yuan_times_40_hours() -> None:
    e = expect(real("cp-custom-training-provider"), 40, None)
    assert e.amount == 1000.0  # 25 × 40
    assert e.rule_zh == "每人每课时25元 × 40课时 = 1,000元"
    assert e.rule_en == "25 yuan per person per class hour × 40 class hours = 1,000 yuan"
    assert not e.is_minimum and e.ceiling is None


def test_per_person_day_capped_at_30_days() -> None:
    sub = real("cp-custom-training-living")  # 每天35元不超过30天
    assert expect(sub, 20, None).amount == 700.0  # 35 × 20
    e = expect(sub, 45, None)
    assert e.amount == 1050.0  # 35 × 30, not 35 × 45 = 1,575
    assert e.rule_zh == "每人每天35元 × 30天 = 1,050元（申报45天，最长30天，按30天计）"
    assert "counted as 30" in e.rule_en
    assert expect(sub, 30, None).amount == 1050.0  # the limit itself is allowed


def test_per_person_month_rule_text_and_month_limit() -> None:
    sub = make(basis="per_person_month", amount=500, max_months=36)
    e = expect(sub, 6, None)
    assert e.amount == 3000.0
    assert e.rule_zh == "每人每月500元 × 6个月 = 3,000元（最长36个月）"
    assert e.rule_en == "500 yuan per person per month × 6 months = 3,000 yuan (at most 36 months)"
    assert expect(sub, 40, None).amount == 18000.0  # 500 × 36


def test_per_person_month_limit_from_max_years() -> None:
    sub = real("xc-internship-living")  # 每人每月2000元，不超过一年
    assert expect(sub, 6, None).amount == 12000.0
    e = expect(sub, 14, None)
    assert e.amount == 24000.0  # 2000 × 12
    assert "最长12个月" in e.rule_zh


def test_organisation_claim_sums_person_months_without_the_per_person_limit() -> None:
    sub = real("xc-rural-board-lodging")  # 每人每月1000元，最长三年; quantity 99 person-months of several people
    e = expect(sub, 99, None, single_person=False)
    assert e.amount == 99000.0
    assert "99人月" in e.rule_zh and "无法逐人核对" in e.rule_zh
    assert expect(sub, 99, None).amount == 36000.0  # one person: 36 months at most


def test_duration_basis_without_quantity_needs_review() -> None:
    e = expect(real("xc-internship-living"), None, None)
    assert e.amount is None and e.rule_zh.startswith("需人工核定")


def test_per_person_year_capped_at_max_years() -> None:
    sub = real("xc-high-skill-wage")  # 每人每年5000元，最长不超过三年
    assert expect(sub, 2, None).amount == 10000.0
    e = expect(sub, 5, None)
    assert e.amount == 15000.0  # 5000 × 3
    assert "最长3年" in e.rule_zh
    assert expect(sub, 5, None, single_person=False).amount == 25000.0  # 5 person-years of several people


def test_per_person_times_persons_and_missing_quantity_is_one() -> None:
    sub = real("cp-job-referral")  # 每人1000元
    assert expect(sub, 3, None).amount == 3000.0
    e = expect(sub, None, None)
    assert e.amount == 1000.0
    assert "按1人计" in e.rule_zh
    assert expect(sub, 0, None).amount == 0.0


def test_one_off_and_per_year_ignore_quantity() -> None:
    e = expect(real("xc-incubator-base-grant"), 7, None)
    assert e.amount == 30000.0 and e.rule_zh == "一次性30,000元"
    e = expect(real("hd-full-emp-street-award"), None, None)
    assert e.amount == 100000.0 and e.rule_zh == "每年100,000元"
    assert e.rule_en == "100,000 yuan per year"


@pytest.mark.parametrize(
    ("subsidy_id", "words"),
    [
        ("xc-talent-intro", "10%"),  # share_of_fee
        ("xc-welfare-org-post", "75%"),  # share_of_wage
        ("cp-high-skill-training-fee", "比例"),  # share_of_fee without a share
        ("tz-startup-guaranteed-loan", "贷款"),  # loan
        ("cp-training-living", "文件未规定标准"),  # per_person without a figure
        ("tz-gig-market-award", "文件未规定标准"),  # one_off without a figure
    ],
)
def test_shares_loans_and_missing_figures_need_manual_review(subsidy_id: str, words: str) -> None:
    e = expect(real(subsidy_id), 3, 1)
    assert e.amount is None and e.manual
    assert e.rule_zh.startswith("需人工核定") and words in e.rule_zh
    assert e.rule_en.startswith("needs manual review")
    assert e.deviation(123.0) is None


def test_loan_keeps_its_cap_as_a_ceiling() -> None:
    e = expect(real("hd-loan-individual"), None, None)  # 30万元至100万元
    assert e.amount is None and e.ceiling == 1_000_000
    assert "最高1,000,000元" in e.rule_zh
    assert e.deviation(500_000) is None
    assert e.deviation(1_200_000) == 200_000


def test_cap_only_standard_checks_the_cap() -> None:
    e = expect(real("xc-rent-xicheng"), None, None)  # 每年最高不超过4万元
    assert e.amount is None and e.ceiling == 40000
    assert e.deviation(40000) is None
    assert e.deviation(45000) == 5000


# --------------------------------------------------------------------------- tiers


@pytest.mark.parametrize(("year", "amount"), [(1, 6000.0), (2, 9000.0), (3, 12000.0)])
def test_xicheng_post_subsidy_by_year_index(year: int, amount: float) -> None:
    e = expect(real("xc-post-subsidy"), 1, year)
    assert e.amount == amount
    assert e.rule_zh.startswith(f"第{year}年标准：每人每年")


def test_year_tiers_times_persons_and_beyond_the_tiers() -> None:
    sub = real("xc-employment-award")
    assert expect(sub, 2, 3).amount == 24000.0  # 2 persons in their third year × 12,000
    assert expect(sub, None, 2).amount == 9000.0
    e = expect(sub, 1, 4)
    assert e.amount is None and "第4年超出标准档次" in e.rule_zh
    e = expect(sub, 1, None)
    assert e.amount is None and "未填补贴年度" in e.rule_zh


def test_year_tiers_on_a_flat_basis() -> None:
    sub = make(
        basis="one_off",
        tier_by="year_index",
        tiers=[{"year_index": 1, "amount": 100}, {"year_index": 2, "amount": 200}],
    )
    assert expect(sub, 50, 2).amount == 200.0
    assert expect(sub, 50, 3).amount is None


@pytest.mark.parametrize(
    ("persons", "amount"),
    [(10, 8000.0), (49, 39200.0), (50, 50000.0), (99, 99000.0), (100, 100000.0), (130, 100000.0)],
)
def test_xicheng_hiring_award_bands_per_person_with_the_cap(persons: int, amount: float) -> None:
    e = expect(real("xc-startup-hiring-award"), persons, None)  # 800 / 1000 per person, at most 10万
    assert e.amount == amount


def test_hiring_award_130_persons_rule_says_capped() -> None:
    e = expect(real("xc-startup-hiring-award"), 130, None)
    assert e.rule_zh == "数量50人及以上档：每人1,000元 × 130人 = 130,000元（最高100,000元，按100,000元计）"
    assert e.ceiling == 100000
    assert e.deviation(100000) == 0.0
    assert e.deviation(130000) == 30000.0
    assert expect(real("xc-startup-hiring-award"), 9, None).amount is None  # 不足10人不予奖励


@pytest.mark.parametrize(
    ("hires", "amount"), [(2, None), (3, 10000.0), (5, 10000.0), (6, 50000.0), (9, 50000.0), (10, 100000.0)]
)
def test_haidian_expand_hire_award_flat_bands(hires: int, amount: float | None) -> None:
    e = expect(real("hd-expand-hire-award"), hires, None)
    assert e.amount == amount


def test_haidian_two_hires_is_in_no_band() -> None:
    e = expect(real("hd-expand-hire-award"), 2, None)
    assert e.rule_zh.startswith("需人工核定") and "最低档3人" in e.rule_zh
    assert expect(real("hd-expand-hire-award"), None, None).amount is None
    assert expect(real("hd-expand-hire-award"), 6, None).rule_zh == "数量6人以上不足10人档：一次性50,000元"


def test_band_without_a_lower_bound() -> None:
    sub = make(
        basis="per_person",
        tier_by="quantity",
        tiers=[{"max_quantity": 5, "amount": 100}, {"min_quantity": 5, "amount": 150}],
    )
    assert expect(sub, 0, None).amount == 0.0
    assert expect(sub, 4, None).amount == 400.0
    assert expect(sub, 5, None).amount == 750.0  # min inclusive, max exclusive


def test_level_tiers_need_a_level() -> None:
    sub = real("xc-high-skill-cert")  # 高级工 2000, 技师 2500, 高级技师 3000 per person
    assert expect(sub, 2, None, "技师").amount == 5000.0
    assert expect(sub, None, None, "高级技师").amount == 3000.0
    e = expect(sub, 2, None, None)
    assert e.amount is None and e.rule_zh.startswith("需人工核定") and "技师2,500元" in e.rule_zh
    assert expect(sub, 2, None, "中级工").amount is None
    assert expect(real("xc-startup-contest-award"), None, None, "一等奖").amount == 80000.0


# --------------------------------------------------------------------------- minimum standard, cap last


def test_minimum_standard_500_ok_600_ok_400_flagged() -> None:
    sub = real("cp-public-post-subsidy")  # 每人每月不低于500元，最长3年
    e = expect(sub, 1, None)
    assert e.amount == 500.0 and e.is_minimum
    assert e.rule_zh == "每人每月不低于500元 × 1个月 = 不低于500元（最长36个月）"
    assert e.deviation(500) == 0.0
    assert e.deviation(600) == 0.0
    assert e.deviation(400) == -100.0
    assert expect(sub, 40, None).amount == 18000.0  # floor for 36 months


def test_minimum_with_a_cap_is_a_range() -> None:
    sub = make(basis="one_off", amount=300, amount_is_minimum=True, cap_amount=1000)
    e = expect(sub, None, None)
    assert (e.amount, e.is_minimum, e.ceiling) == (300.0, True, 1000.0)
    assert e.rule_zh == "一次性不低于300元（最高1,000元）"
    assert [e.deviation(x) for x in (299, 300, 1000, 1000.4, 1200)] == [-1.0, 0.0, 0.0, 0.0, 200.0]


def test_exact_deviation_tolerance_half_a_yuan() -> None:
    e = Expectation(1000.0, "r", "r")
    assert e.deviation(1000.5) == 0.0
    assert e.deviation(999.5) == 0.0
    assert e.deviation(1000.6) == pytest.approx(0.6)
    assert e.deviation(0) == -1000.0


def test_expectation_is_frozen_and_amount_rounded() -> None:
    e = expect(make(basis="per_person_day", amount=33.33), 3, None)
    assert e.amount == 99.99
    assert e.rule_zh == "每人每天33.33元 × 3天 = 99.99元"
    e = expect(make(basis="per_person_class_hour", amount=10), 2.5, None)
    assert e.amount == 25.0 and "2.5课时" in e.rule_zh
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.amount = 1.0  # type: ignore[misc]


def test_every_catalogue_subsidy_gives_an_expectation() -> None:
    subsidies = [s for cat in load_catalogues().values() for s in cat.subsidies]
    assert len(subsidies) >= 70
    for s in subsidies:
        for q, y, one in ((None, None, True), (1, 1, True), (12, 2, False), (5000, 3, True)):
            e = expected_amount(s, q, y, single_person=one)
            assert e.rule_zh and e.rule_en, s.id
            assert e.amount is None or (e.amount >= 0 and not math.isnan(e.amount)), s.id
            if s.cap_amount is not None and e.amount is not None:
                assert e.amount <= s.cap_amount, s.id
            if s.basis in ("share_of_fee", "share_of_wage", "loan"):
                assert e.amount is None, s.id


# --------------------------------------------------------------------------- the database functions


def catalogue(subsidies: list[dict[str, Any]], district: str = "西城区") -> Catalogue:
    base = {"clause": "1", "quote": "测试引文测试", "recipient": "个人", "eligibility": "测试"}
    return Catalogue.model_validate(
        {
            "programme": tiny_programme(district),
            "tasks": [],
            "kpis": [],
            "subsidies": [{**base, "name_zh": s["id"].upper(), **s} for s in subsidies],
        }
    )


def app(application_id: str, code: str, submitted: dt.date, status: str, **kw: Any) -> dict[str, Any]:
    return {
        "application_id": application_id,
        "district": "西城区",
        "measure_code": code,
        "applicant_type": "个人",
        "applicant_id": "P" + application_id,
        "submitted_date": submitted,
        "status": status,
        "amount_requested": kw.get("amount_approved") or 0.0,
        **kw,
    }


START, END = D(2025, 1, 1), D(2025, 12, 31)
DELIVERY_CAT = catalogue(
    [
        {"id": "t-referral", "basis": "per_person", "amount": 1000},
        {
            "id": "t-post",
            "basis": "per_person_year",
            "tier_by": "year_index",
            "tiers": [{"year_index": 1, "amount": 6000}, {"year_index": 2, "amount": 9000}],
        },
        {"id": "t-unused", "basis": "one_off", "amount": 30000},
    ]
)


def test_delivery_by_measure_by_hand(tiny_duck: Store) -> None:
    insert(
        tiny_duck,
        "applications",
        [
            # t-referral: decided after 10, 20, 4 days; paid after 30 days
            app("A1", "t-referral", D(2025, 2, 1), "已拨付", quantity=2, amount_requested=2000, amount_approved=2000,
                decision_date=D(2025, 2, 11), paid_date=D(2025, 3, 3)),
            app("A2", "t-referral", D(2025, 3, 1), "已审核", quantity=1, amount_requested=1000, amount_approved=1000,
                decision_date=D(2025, 3, 21)),
            app("A3", "t-referral", D(2025, 4, 1), "不予通过", quantity=3, amount_requested=3000,
                decision_date=D(2025, 4, 5)),
            app("A4", "t-referral", D(2025, 5, 1), "已受理", quantity=1, amount_requested=1000),
            # not counted: another district, before the window, after the window
            {**app("A5", "t-referral", D(2025, 5, 1), "已拨付", quantity=5, amount_approved=5000), "district": "海淀区"},
            app("A6", "t-referral", D(2024, 12, 31), "已拨付", quantity=1, amount_approved=1000),
            app("A7", "t-referral", D(2026, 1, 1), "已审核", quantity=1, amount_approved=1000),
            # t-post: decided after 7 and 10 days, paid after 20 and 25 days; the last day of the window counts
            app("B1", "t-post", D(2025, 6, 1), "已拨付", quantity=1, year_index=2, amount_requested=9000,
                amount_approved=9000, decision_date=D(2025, 6, 8), paid_date=D(2025, 6, 21)),
            app("B2", "t-post", D(2025, 12, 31), "已拨付", quantity=1, year_index=1, amount_requested=6000,
                amount_approved=5000, decision_date=D(2026, 1, 10), paid_date=D(2026, 1, 25)),
            # a code that is not in the programme: no row of its own
            app("C1", "xx-unknown", D(2025, 7, 1), "已审核", amount_requested=500, amount_approved=500),
        ],
    )  # fmt: skip
    df = delivery_by_measure(tiny_duck, DELIVERY_CAT, START, END)
    assert list(df.columns) == list(DELIVERY_COLUMNS)
    assert list(df["measure_code"]) == ["t-referral", "t-post", "t-unused"]
    assert list(df["name_zh"]) == ["T-REFERRAL", "T-POST", "T-UNUSED"]
    rows = df.set_index("measure_code").to_dict("index")

    ref = rows["t-referral"]
    assert (ref["received"], ref["approved"], ref["rejected"], ref["paid"], ref["pending"]) == (4, 2, 1, 1, 1)
    assert ref["quantity"] == 7.0  # 2 + 1 + 3 + 1
    assert ref["amount_requested"] == 7000.0
    assert ref["amount_approved"] == 3000.0  # A1 + A2
    assert ref["amount_paid"] == 2000.0  # A1
    assert ref["median_days_to_decision"] == 10.0  # median of 10, 20, 4
    assert ref["median_days_to_payment"] == 30.0

    post = rows["t-post"]
    assert (post["received"], post["approved"], post["rejected"], post["paid"], post["pending"]) == (2, 2, 0, 2, 0)
    assert post["quantity"] == 2.0
    assert post["amount_requested"] == 15000.0
    assert post["amount_approved"] == 14000.0
    assert post["amount_paid"] == 14000.0
    assert post["median_days_to_decision"] == 8.5  # median of 7 and 10
    assert post["median_days_to_payment"] == 22.5  # median of 20 and 25

    unused = rows["t-unused"]
    for col in ("received", "approved", "rejected", "paid", "pending"):
        assert unused[col] == 0
    for col in ("quantity", "amount_requested", "amount_approved", "amount_paid"):
        assert unused[col] == 0.0
    assert math.isnan(unused["median_days_to_decision"]) and math.isnan(unused["median_days_to_payment"])
    assert df["received"].dtype == "int64"


def test_delivery_by_measure_empty_database_and_real_catalogue(tiny_duck: Store) -> None:
    cat = load_catalogues()["haidian-2018"]
    df = delivery_by_measure(tiny_duck, cat, START, END)
    assert list(df["measure_code"]) == [s.id for s in cat.subsidies]
    assert int(df["received"].sum()) == 0 and float(df["amount_paid"].sum()) == 0.0
    empty = delivery_by_measure(tiny_duck, catalogue([]), START, END)
    assert empty.empty and list(empty.columns) == list(DELIVERY_COLUMNS)


REVIEW_CAT = catalogue(
    [
        {"id": "r-exact", "basis": "per_person", "amount": 1000},
        {"id": "r-min", "basis": "per_person_month", "amount": 500, "amount_is_minimum": True, "max_months": 36},
        {"id": "r-cap", "basis": "per_year", "cap_amount": 40000, "notes": "只规定上限"},
        {
            "id": "r-level",
            "basis": "one_off",
            "tier_by": "level",
            "tiers": [{"level": "一等奖", "amount": 80000}, {"level": "二等奖", "amount": 50000}],
        },
        {
            "id": "r-band",
            "basis": "per_person",
            "tier_by": "quantity",
            "tiers": [{"min_quantity": 10, "max_quantity": 50, "amount": 800}, {"min_quantity": 50, "amount": 1000}],
            "cap_amount": 100000,
        },
    ]
)


@pytest.fixture
def review_db(tiny_duck: Store) -> Store:
    day = D(2025, 6, 1)
    insert(
        tiny_duck,
        "applications",
        [
            app("R01", "r-exact", day, "已拨付", quantity=2, amount_approved=2000),  # ok
            app("R02", "r-exact", day, "已审核", quantity=2, amount_approved=2000.4),  # within 0.5
            app("R03", "r-exact", day, "已拨付", quantity=2, amount_approved=2600),  # +600
            app("R04", "r-min", day, "已拨付", quantity=1, amount_approved=500),  # = floor
            app("R05", "r-min", day, "已拨付", quantity=1, amount_approved=600),  # above floor
            app("R06", "r-min", day, "已拨付", quantity=1, amount_approved=400),  # -100
            # an employer's 80 person-months: 500 × 80 = 40,000 floor, no per-person 36-month cut
            {**app("R07", "r-min", day, "已拨付", quantity=80, amount_approved=40000), "applicant_type": "用人单位"},
            app("R08", "r-cap", day, "已拨付", amount_approved=30000),  # manual, under the cap
            app("R09", "r-cap", day, "已拨付", amount_approved=45000),  # +5,000 over the cap
            app("R10", "r-level", day, "已拨付", amount_approved=80000),  # manual: no level in the record
            app("R11", "r-band", day, "已拨付", quantity=130, amount_approved=100000),  # capped: ok
            app("R12", "r-band", day, "已拨付", quantity=130, amount_approved=130000),  # +30,000
            app("R13", "r-band", day, "已拨付", quantity=9, amount_approved=7200),  # manual: below every band
            app("R14", "xx-unknown", day, "已审核", amount_approved=500),  # unknown code
            app("R15", "r-exact", day, "已审核", quantity=2),  # manual: no approved amount
            # not reviewed: rejected, pending, another district, outside the window
            app("R16", "r-exact", day, "不予通过", quantity=2, amount_approved=0),
            app("R17", "r-exact", day, "已受理", quantity=2, amount_requested=9999),
            {**app("R18", "r-exact", day, "已拨付", quantity=2, amount_approved=9999), "district": "海淀区"},
            app("R19", "r-exact", D(2026, 2, 1), "已拨付", quantity=2, amount_approved=9999),
        ],
    )
    return tiny_duck


def test_review_list_by_hand(review_db: Store) -> None:
    df = review_list(review_db, REVIEW_CAT, START, END)
    assert list(df.columns) == list(REVIEW_COLUMNS)
    assert list(df["application_id"]) == ["R14", "R12", "R09", "R03", "R06"]
    rows = df.set_index("application_id").to_dict("index")

    assert rows["R14"]["rule_zh"] == "未知的政策项目代码"
    assert math.isnan(rows["R14"]["expected"]) and math.isnan(rows["R14"]["difference"])
    assert pd.isna(rows["R14"]["name_zh"])

    assert (rows["R12"]["expected"], rows["R12"]["difference"]) == (100000.0, 30000.0)
    assert rows["R12"]["name_zh"] == "R-BAND"
    assert rows["R12"]["quantity"] == 130.0
    assert (rows["R09"]["expected"], rows["R09"]["difference"]) == (40000.0, 5000.0)
    assert rows["R09"]["rule_zh"].startswith("核准金额超过上限40,000元")
    assert (rows["R03"]["expected"], rows["R03"]["difference"]) == (2000.0, 600.0)
    assert rows["R03"]["rule_zh"] == "每人1,000元 × 2人 = 2,000元"
    assert (rows["R06"]["expected"], rows["R06"]["difference"]) == (500.0, -100.0)
    assert rows["R06"]["rule_zh"].startswith("核准金额低于最低标准；每人每月不低于500元")
    assert rows["R06"]["rule_en"].startswith("approved amount below the minimum standard")


def test_manual_review_counts_what_review_list_leaves_out(review_db: Store) -> None:
    df = manual_review(review_db, REVIEW_CAT, START, END)
    assert list(df.columns) == list(MANUAL_COLUMNS)
    assert list(df["measure_code"]) == ["r-band", "r-cap", "r-exact", "r-level"]
    assert list(df["applications"]) == [1, 1, 1, 1]
    got = df.set_index("measure_code")
    assert got.loc["r-cap", "amount_approved"] == 30000.0
    assert got.loc["r-level", "rule_zh"].startswith("需人工核定：按等级核定")
    assert "数量9不在任何档次内" in got.loc["r-band", "rule_zh"]
    assert got.loc["r-exact", "rule_zh"].startswith("需人工核定：核准金额未填")
    # 15 approved or paid in the window = 5 listed + 4 manual + 6 consistent (R01 R02 R04 R05 R07 R11)
    assert int(df["applications"].sum()) == 4


def test_review_functions_on_an_empty_window(review_db: Store) -> None:
    df = review_list(review_db, REVIEW_CAT, D(2030, 1, 1), D(2030, 12, 31))
    assert df.empty and list(df.columns) == list(REVIEW_COLUMNS)
    m = manual_review(review_db, REVIEW_CAT, D(2030, 1, 1), D(2030, 12, 31))
    assert m.empty and list(m.columns) == list(MANUAL_COLUMNS)
