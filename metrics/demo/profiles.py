"""The four districts as the demo draws them: streets and towns with their centres, industries, volumes per
year at scale 1, the rates and paces each programme's KPIs are steered to, and the status each reported
KPI is aimed at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Placements per year across the four districts at scale 1 and 2023's level (growth scales other years):
# about 100,000 from 2022-01-01 to the default as_of.
PLACEMENTS_PER_YEAR = 19_500


@dataclass(frozen=True)
class Street:
    """A street (街道) or town (镇/乡): approximate centre (WGS-84) and relative population."""

    name: str
    lat: float
    lon: float
    weight: float = 1.0


@dataclass(frozen=True)
class DistrictProfile:
    """What a district's demo data looks like; `aims` are paces (counts) or values (rates) for its KPIs."""

    name: str
    code: str  # administrative division code, also inside credit codes
    short: str
    streets: tuple[Street, ...]
    placement_share: float
    trainings_per_year: float  # scale 1, 2023 level
    recruitment_events_per_year: float
    vacancy_positions_per_year: float
    insured_startups_per_year: float
    loans_per_year: float  # yuan
    disputes_per_year: float
    enterprises: int  # filing monthly contract returns
    graduates_per_year: float  # 离校未就业 graduates followed up
    industries: tuple[tuple[str, float], ...]
    incubators: tuple[str, ...]
    project_prefix: str
    project_share: float
    commute: tuple[tuple[float, float, float], ...]  # (lat, lon, share of placements working there)
    rural_share: float
    signing_rate: float
    dispute_closure: float
    mediation_share: float
    community_coverage: float
    followup_coverage: float
    local_hiring: float
    aims: Mapping[str, float] = field(default_factory=dict)  # role -> pace for count/sum KPIs with targets
    survey: bool = False


def _streets(*rows: tuple[str, float, float, float]) -> tuple[Street, ...]:
    return tuple(Street(*r) for r in rows)


_INDUSTRIES_GENERIC = (
    ("信息传输、软件和信息技术服务业", 1.0),
    ("批发和零售业", 1.2),
    ("住宿和餐饮业", 1.1),
    ("居民服务、修理和其他服务业", 1.0),
    ("租赁和商务服务业", 1.0),
    ("卫生和社会工作", 0.6),
    ("教育", 0.5),
    ("建筑业", 0.6),
    ("制造业", 0.6),
    ("交通运输、仓储和邮政业", 0.7),
    ("科学研究和技术服务业", 0.6),
    ("金融业", 0.3),
    ("房地产业", 0.5),
    ("文化、体育和娱乐业", 0.4),
)


def _industries(**boost: float) -> tuple[tuple[str, float], ...]:
    keys = {
        "it": "信息传输、软件和信息技术服务业",
        "finance": "金融业",
        "build": "建筑业",
        "retail": "批发和零售业",
        "care": "居民服务、修理和其他服务业",
        "research": "科学研究和技术服务业",
        "manufacture": "制造业",
        "logistics": "交通运输、仓储和邮政业",
        "culture": "文化、体育和娱乐业",
        "business": "租赁和商务服务业",
    }
    wanted = {keys[k]: v for k, v in boost.items()}
    return tuple((name, wanted.get(name, w)) for name, w in _INDUSTRIES_GENERIC)


DISTRICT_PROFILES: dict[str, DistrictProfile] = {
    p.name: p
    for p in (
        DistrictProfile(
            name="昌平区",
            code="110114",
            short="昌平",
            streets=_streets(
                ("城北街道", 40.228, 116.235, 1.0),
                ("城南街道", 40.205, 116.245, 1.0),
                ("回龙观街道", 40.078, 116.335, 2.2),
                ("龙泽园街道", 40.070, 116.310, 1.6),
                ("史各庄街道", 40.098, 116.305, 1.2),
                ("天通苑北街道", 40.085, 116.425, 2.0),
                ("天通苑南街道", 40.065, 116.418, 1.8),
                ("霍营街道", 40.075, 116.365, 1.4),
                ("东小口镇", 40.060, 116.400, 1.5),
                ("南口镇", 40.240, 116.130, 0.6),
                ("马池口镇", 40.190, 116.180, 0.5),
                ("沙河镇", 40.140, 116.285, 1.3),
                ("阳坊镇", 40.140, 116.140, 0.3),
                ("小汤山镇", 40.180, 116.395, 0.6),
                ("南邵镇", 40.230, 116.290, 0.4),
                ("崔村镇", 40.250, 116.350, 0.3),
                ("百善镇", 40.170, 116.340, 0.3),
                ("北七家镇", 40.120, 116.425, 1.4),
                ("兴寿镇", 40.270, 116.400, 0.3),
                ("流村镇", 40.230, 116.030, 0.2),
                ("十三陵镇", 40.270, 116.230, 0.3),
                ("延寿镇", 40.330, 116.340, 0.15),
            ),
            placement_share=0.27,
            trainings_per_year=780,
            recruitment_events_per_year=210,
            vacancy_positions_per_year=36_000,
            insured_startups_per_year=2_100,
            loans_per_year=1.2e8,
            disputes_per_year=1_800,
            enterprises=340,
            graduates_per_year=650,
            industries=_industries(it=1.4, research=0.9, manufacture=0.8),
            incubators=("回天地区创业孵化基地", "昌平区大学生创业园", "未来科学城创新创业中心", "沙河高教园孵化器"),
            project_prefix="HTXM",
            project_share=0.15,
            commute=((40.035, 116.305, 0.12), (40.100, 116.450, 0.06)),  # 上地, 未来科学城
            rural_share=0.13,
            signing_rate=0.986,
            dispute_closure=0.95,
            mediation_share=0.66,
            community_coverage=0.992,
            followup_coverage=0.975,
            local_hiring=0.53,
        ),
        DistrictProfile(
            name="通州区",
            code="110112",
            short="通州",
            streets=_streets(
                ("中仓街道", 39.905, 116.665, 1.4),
                ("新华街道", 39.910, 116.655, 1.0),
                ("北苑街道", 39.905, 116.640, 1.2),
                ("玉桥街道", 39.885, 116.670, 1.5),
                ("潞源街道", 39.915, 116.720, 0.8),
                ("通运街道", 39.895, 116.700, 0.7),
                ("文景街道", 39.880, 116.710, 0.6),
                ("九棵树街道", 39.890, 116.640, 0.9),
                ("临河里街道", 39.875, 116.655, 0.8),
                ("杨庄街道", 39.920, 116.625, 0.8),
                ("潞邑街道", 39.935, 116.690, 0.7),
                ("永顺镇", 39.925, 116.660, 1.6),
                ("梨园镇", 39.870, 116.650, 1.8),
                ("宋庄镇", 39.955, 116.730, 1.0),
                ("张家湾镇", 39.840, 116.710, 0.8),
                ("漷县镇", 39.770, 116.800, 0.5),
                ("马驹桥镇", 39.760, 116.560, 1.2),
                ("西集镇", 39.790, 116.880, 0.4),
                ("台湖镇", 39.835, 116.610, 0.9),
                ("永乐店镇", 39.690, 116.790, 0.4),
                ("于家务回族乡", 39.730, 116.700, 0.3),
            ),
            placement_share=0.25,
            trainings_per_year=900,
            recruitment_events_per_year=240,
            vacancy_positions_per_year=31_000,
            insured_startups_per_year=3_000,
            loans_per_year=1.8e8,
            disputes_per_year=1_500,
            enterprises=320,
            graduates_per_year=520,
            industries=_industries(build=1.1, retail=1.4, logistics=1.0, business=1.2),
            incubators=(
                "通州区创业孵化基地",
                "北京城市副中心创新创业园",
                "运河商务区创业服务中心",
                "宋庄文创孵化中心",
                "张家湾设计小镇孵化器",
            ),
            project_prefix="FZXXM",
            project_share=0.05,
            commute=((39.910, 116.460, 0.15),),  # CBD
            rural_share=0.14,
            signing_rate=0.972,
            dispute_closure=0.96,
            mediation_share=0.58,
            community_coverage=0.986,
            followup_coverage=0.97,
            local_hiring=0.6,
            aims={
                "recruitment_events": 1.07,
                "vacancy_positions": 0.88,
                "insured_startups": 0.97,
                "loan_amount": 1.03,
                "skills_training": 1.02,
                "skill_evaluations": 0.72,
            },
            survey=True,
        ),
        DistrictProfile(
            name="西城区",
            code="110102",
            short="西城",
            streets=_streets(
                ("西长安街街道", 39.905, 116.375, 0.7),
                ("新街口街道", 39.945, 116.365, 1.1),
                ("月坛街道", 39.915, 116.345, 1.2),
                ("展览路街道", 39.930, 116.340, 1.3),
                ("德胜街道", 39.955, 116.375, 1.2),
                ("金融街街道", 39.915, 116.360, 1.0),
                ("什刹海街道", 39.940, 116.385, 1.0),
                ("大栅栏街道", 39.895, 116.395, 0.5),
                ("天桥街道", 39.885, 116.395, 0.5),
                ("椿树街道", 39.895, 116.380, 0.4),
                ("陶然亭街道", 39.880, 116.375, 0.6),
                ("广安门内街道", 39.895, 116.360, 0.9),
                ("牛街街道", 39.885, 116.360, 0.6),
                ("白纸坊街道", 39.875, 116.355, 0.9),
                ("广安门外街道", 39.890, 116.330, 1.4),
            ),
            placement_share=0.17,
            trainings_per_year=620,
            recruitment_events_per_year=150,
            vacancy_positions_per_year=24_000,
            insured_startups_per_year=900,
            loans_per_year=6e7,
            disputes_per_year=950,
            enterprises=260,
            graduates_per_year=330,
            industries=_industries(finance=1.6, business=1.3, culture=0.7, build=0.2, manufacture=0.1),
            incubators=("西城区大学生创业园", "金融街创新创业中心", "德胜科技园孵化器", "广安产业园孵化基地"),
            project_prefix="XCXM",
            project_share=0.03,
            commute=((39.915, 116.360, 0.15),),  # 金融街
            rural_share=0.015,
            signing_rate=0.991,
            dispute_closure=0.955,
            mediation_share=0.7,
            community_coverage=1.0,
            followup_coverage=0.991,
            local_hiring=0.65,
        ),
        DistrictProfile(
            name="海淀区",
            code="110108",
            short="海淀",
            streets=_streets(
                ("万寿路街道", 39.905, 116.290, 1.2),
                ("永定路街道", 39.910, 116.265, 0.7),
                ("羊坊店街道", 39.900, 116.320, 1.1),
                ("甘家口街道", 39.925, 116.330, 0.9),
                ("八里庄街道", 39.935, 116.295, 1.1),
                ("紫竹院街道", 39.945, 116.310, 0.9),
                ("北下关街道", 39.955, 116.335, 1.1),
                ("北太平庄街道", 39.970, 116.370, 1.0),
                ("学院路街道", 39.995, 116.355, 1.4),
                ("中关村街道", 39.985, 116.315, 1.3),
                ("海淀街道", 39.980, 116.300, 1.1),
                ("青龙桥街道", 40.000, 116.270, 0.6),
                ("清华园街道", 40.005, 116.325, 0.5),
                ("燕园街道", 39.995, 116.305, 0.4),
                ("香山街道", 39.995, 116.195, 0.3),
                ("清河街道", 40.030, 116.340, 1.2),
                ("花园路街道", 39.980, 116.365, 1.0),
                ("西三旗街道", 40.055, 116.340, 1.1),
                ("马连洼街道", 40.035, 116.275, 0.8),
                ("田村路街道", 39.930, 116.255, 0.8),
                ("上地街道", 40.035, 116.305, 0.9),
                ("曙光街道", 39.965, 116.280, 0.9),
                ("四季青镇", 39.965, 116.250, 0.9),
                ("温泉镇", 40.040, 116.190, 0.5),
                ("西北旺镇", 40.050, 116.250, 0.8),
                ("苏家坨镇", 40.100, 116.160, 0.4),
                ("上庄镇", 40.100, 116.220, 0.4),
            ),
            placement_share=0.31,
            trainings_per_year=820,
            recruitment_events_per_year=260,
            vacancy_positions_per_year=58_000,
            insured_startups_per_year=3_400,
            loans_per_year=3e8,
            disputes_per_year=2_400,
            enterprises=420,
            graduates_per_year=1_100,
            industries=_industries(it=2.4, research=1.6, culture=0.6, build=0.3, manufacture=0.3),
            incubators=(
                "中关村海淀留学人员创业园",
                "海淀区大学生创业园",
                "上地信息产业孵化基地",
                "清河创新创业服务中心",
                "中关村软件园孵化器",
            ),
            project_prefix="HDXM",
            project_share=0.02,
            commute=(),
            rural_share=0.03,
            signing_rate=0.984,
            dispute_closure=0.94,
            mediation_share=0.62,
            community_coverage=0.965,
            followup_coverage=0.98,
            local_hiring=0.62,
        ),
    )
}


# Reported KPIs (progress_reports) with a target: the status each is steered to as of the default date.
# KPIs not named here rotate through on_track, achieved, at_risk, off_track.
REPORTED_AIMS: dict[str, str] = {
    "tz-affordable-rental-housing": "achieved",
    "tz-warm-meal-restaurants": "achieved",
    "tz-startup-space-sqm": "on_track",
    "tz-gig-market-services": "on_track",
    "tz-warm-meal-coverage": "at_risk",
    "tz-incubated-enterprises": "off_track",
    "tz-friendly-scenes": "no_data",
    "tz-family-tour-served": "no_data",
}


_STATUS_PACE = {"achieved": 1.0, "on_track": 1.05, "at_risk": 0.88, "off_track": 0.62}


_ROTATION = ("on_track", "achieved", "at_risk", "off_track")


# Typical magnitude of a monitoring KPI's cumulative report, by display unit.
_REPORTED_MAGNITUDE = {
    "个": (20, 200),
    "家": (10, 90),
    "场": (20, 80),
    "人": (300, 3000),
    "套": (500, 3000),
    "人次": (20_000, 200_000),
    "平方米": (5_000, 30_000),
    "%": (0.3, 0.9),
}
