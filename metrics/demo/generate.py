"""Seeded demo data: every record type for the four programmes' districts, 2022-01-01 up to `as_of`.

Real streets and communities, Spring Festival dips, graduation peaks and year-on-year growth, subsidy
amounts from the catalogues' standards, and volumes tuned so the KPIs show a mix of statuses. Built with
numpy and Arrow, never row by row, so `scale=100` (10 million placements) builds in well under a minute.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import math
import os
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from metrics.catalogue import CATALOGUE_DIR, Catalogue, CatalogueError, Kpi, Subsidy, load_catalogue, load_catalogues
from metrics.catalogue.models import CoverageMeasure, RatioMeasure, ReportedMeasure, SqlMeasure, Target
from metrics.contract.records import (
    APPLICANT_TYPES,
    CERTIFICATE_LEVELS,
    CHANNELS,
    CLOSURE_METHODS,
    COURSE_CATEGORIES,
    ENTITY_TYPES,
    EVENT_TYPES,
    FOLLOWUP_OUTCOMES,
    PERSON_GROUPS,
    RECORD_TYPES,
    SURVEY_DIMENSIONS,
)
from metrics.kpi.status import expected_share, pace_status, share_status
from metrics.storage.store import Store

__all__ = [
    "DEFAULT_AS_OF",
    "DISTRICT_PROFILES",
    "DemoDatabaseExists",
    "aimed_statuses",
    "build_demo",
    "credit_code_valid",
    "credit_codes",
    "generate",
    "kpi_role",
    "main",
]

log = logging.getLogger(__name__)

DEFAULT_AS_OF = dt.date(2026, 11, 21)
START = dt.date(2022, 1, 1)

# 春节 (lunar new year's day); the dip runs from about ten days before to two weeks after.
LUNAR_NEW_YEAR: dict[int, dt.date] = {
    2022: dt.date(2022, 2, 1),
    2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
}

# Beijing's minimum monthly wage (yuan) by the date it took effect: the floor of generated wages and the
# reference wage of share_of_wage subsidies.
MINIMUM_WAGE: tuple[tuple[dt.date, float], ...] = (
    (dt.date(2021, 9, 1), 2320.0),
    (dt.date(2023, 9, 1), 2420.0),
    (dt.date(2025, 9, 1), 2540.0),
)

# Placements per year across the four districts at scale 1 and 2023's level (growth scales other years):
# about 100,000 from 2022-01-01 to the default as_of.
PLACEMENTS_PER_YEAR = 19_500


class DemoDatabaseExists(FileExistsError):
    """build_demo was pointed at an existing file without replace=True."""


# =========================================================================== geography and profiles


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


# =========================================================================== small helpers


def _rng(seed: int, *key: str) -> np.random.Generator:
    """An independent, stable stream per table and district: adding a table shifts no other table."""
    return np.random.default_rng([seed, *(zlib.crc32(k.encode("utf-8")) for k in key)])


def _fixed_strings(parts: Sequence[str | tuple[np.ndarray, int]], n: int) -> pa.Array:
    """Build n equal-length strings from constant text and zero-padded numbers, straight into an Arrow buffer.

    Digits are written column by column (contiguous) and transposed once: ten million ids take about a
    second, a fraction of formatting them or of Arrow's string kernels.
    """
    encoded = [p.encode("utf-8") if isinstance(p, str) else p for p in parts]
    width = sum(len(p) if isinstance(p, bytes) else p[1] for p in encoded)
    by_column = np.empty((width, n), dtype=np.uint8)
    col = 0
    for p in encoded:
        if isinstance(p, bytes):
            by_column[col : col + len(p)] = np.frombuffer(p, dtype=np.uint8)[:, None]
            col += len(p)
            continue
        numbers, digits = p
        rest = np.asarray(numbers, dtype=np.int64).copy()
        if n and (rest.min() < 0 or rest.max() >= 10**digits):
            raise ValueError(f"number does not fit {digits} digits: {rest.min()}..{rest.max()}")
        for k in range(digits - 1, -1, -1):
            np.remainder(rest, 10, out=by_column[col + k], casting="unsafe")
            rest //= 10
        by_column[col : col + digits] += 48
        col += digits
    buf = np.ascontiguousarray(by_column.T)
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    if offsets[-1] < 2**31:
        return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(buf)])
    return pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(buf)])


def _dictionary(indices: np.ndarray, values: Sequence[str] | np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Text column with few distinct values, dictionary-encoded (cheap to build, cheap to load)."""
    idx = pa.array(np.asarray(indices, dtype=np.int32), mask=null)
    return pa.DictionaryArray.from_arrays(idx, pa.array(list(values), type=pa.string()))


def _texts(values: Iterable[str]) -> pa.Array:
    return pa.array(list(values), type=pa.string())


def _person_numbers(k: np.ndarray) -> np.ndarray:
    """Pseudonymous 10-digit person numbers: a bijection of 0..9e9, so distinct k give distinct ids."""
    return 1_000_000_000 + (np.asarray(k, dtype=np.int64) * 2_654_435_761 + 97_531) % 9_000_000_000


def _person_ids(k: np.ndarray) -> pa.Array:
    return _fixed_strings(["P", (_person_numbers(k), 10)], len(k))


def _pick(rng: np.random.Generator, p: Sequence[float] | np.ndarray, n: int) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int32)


def _pick_rows(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each row r, one category drawn with probabilities probs[rows[r]] (no Python loop)."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(rows))
    out = np.zeros(len(rows), dtype=np.int32)
    for j in range(probs.shape[1] - 1):
        out += u > cum[rows, j]
    return out


def _force_total(
    rng: np.random.Generator, values: np.ndarray, mask: np.ndarray, total: int, lo: int, hi: int | np.ndarray
) -> None:
    """Nudge values[mask] by ±1 steps (within lo..hi) until they add up to total exactly."""
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return
    upper = np.broadcast_to(np.asarray(hi), values.shape)
    for _ in range(500):
        diff = int(total - values[idx].sum())
        if diff == 0:
            return
        room = idx[values[idx] < upper[idx]] if diff > 0 else idx[values[idx] > lo]
        if len(room) == 0:
            return
        step = rng.choice(room, size=min(abs(diff), len(room)), replace=False)
        values[step] += 1 if diff > 0 else -1


def _decimal(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Yuan as DECIMAL(18,2), built from integer cents (a float cast is slow on ten million rows)."""
    n = len(values)
    words = np.empty((n, 2), dtype=np.int64)  # 128-bit little-endian two's complement
    words[:, 0] = np.round(np.nan_to_num(np.asarray(values, dtype=float)) * 100)
    words[:, 1] = words[:, 0] >> 63
    nulls = 0 if null is None else int(np.count_nonzero(null))
    validity = pa.py_buffer(np.packbits(~null, bitorder="little")) if null is not None and nulls else None
    return pa.Array.from_buffers(pa.decimal128(18, 2), n, [validity, pa.py_buffer(words)], null_count=nulls)


def _minimum_wage(day: np.ndarray, days: np.ndarray) -> np.ndarray:
    out = np.full(len(day), MINIMUM_WAGE[0][1])
    for since, wage in MINIMUM_WAGE[1:]:
        out[days[day] >= np.datetime64(since)] = wage
    return out


# =========================================================================== credit codes

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CREDIT_LUT = np.frombuffer(_CREDIT_CHARS.encode(), dtype=np.uint8)


def credit_codes(rng: np.random.Generator, prefix: np.ndarray | int, district_code: str, n: int) -> np.ndarray:
    """n unified social credit codes (统一社会信用代码, GB 32100-2015) with valid check characters.

    prefix: 登记管理部门 and 机构类别 as a number (91 company, 92 个体工商户, 52 民办非企业单位), one or per code.
    The organisation code (GB 11714) is "MA" + 6 characters for newer entities, 8 digits for older ones.
    """
    pre = np.broadcast_to(np.asarray(prefix, dtype=np.int64), (n,))
    idx = np.empty((n, 17), dtype=np.int64)  # positions in _CREDIT_CHARS
    idx[:, 0] = pre // 10
    idx[:, 1] = pre % 10
    idx[:, 2:8] = np.frombuffer(district_code.encode(), dtype=np.uint8) - 48
    newer = rng.random(n) < 0.7
    body = rng.integers(0, 31, size=(n, 8))
    body[:, 0] = np.where(newer, _CREDIT_CHARS.index("M"), rng.integers(5, 9, n))
    body[:, 1] = np.where(newer, _CREDIT_CHARS.index("A"), rng.integers(0, 10, n))
    body[:, 2] = np.where(newer, np.array([0, 0, 0, 0, 0, 1, 7, 9])[rng.integers(0, 8, n)], body[:, 2])
    body[:, 2:] = np.where(newer[:, None], body[:, 2:], rng.integers(0, 10, (n, 6)))
    # GB 11714 weighs letters by alphabet position (A=10 … Z=35), not by the credit-code alphabet.
    letters = _CREDIT_LUT[body].astype(np.int64)
    values = np.where(letters >= 65, letters - 55, letters - 48)
    org_check = 11 - (values * _ORG_WEIGHTS).sum(axis=1) % 11
    idx[:, 8:16] = body
    idx[:, 16] = np.where(org_check == 11, 0, np.where(org_check == 10, _CREDIT_CHARS.index("X"), org_check))
    check = (31 - (idx * _CREDIT_WEIGHTS).sum(axis=1) % 31) % 31
    chars = np.concatenate([_CREDIT_LUT[idx], _CREDIT_LUT[check][:, None]], axis=1)
    return np.ascontiguousarray(chars).view("S18").ravel().astype("U18")


def _unique_credit_codes(rng: np.random.Generator, prefix: np.ndarray, district_code: str, n: int) -> np.ndarray:
    codes = credit_codes(rng, prefix, district_code, n)
    for _ in range(10):
        _, first = np.unique(codes, return_index=True)
        dup = np.setdiff1d(np.arange(n), first)
        if len(dup) == 0:
            break
        codes[dup] = credit_codes(rng, prefix[dup], district_code, len(dup))
    return codes


def credit_code_valid(code: str) -> bool:
    """True when an 18-character code's check character (GB 32100-2015) is right."""
    if len(code) != 18 or any(c not in _CREDIT_CHARS for c in code):
        return False
    total = sum(_CREDIT_CHARS.index(c) * int(w) for c, w in zip(code[:17], _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31] == code[17]


# =========================================================================== calendar


class _Calendar:
    """Every day from START to as_of with the seasonal weights used to place records in time."""

    def __init__(self, as_of: dt.date) -> None:
        if as_of < START:
            raise ValueError(f"as_of {as_of} is before the demo's start {START}")
        self.as_of = as_of
        self.n = (as_of - START).days + 1
        self.days = np.datetime64(START, "D") + np.arange(self.n)
        self.year = self.days.astype("datetime64[Y]").astype(np.int64) + 1970
        self.month = self.days.astype("datetime64[M]").astype(np.int64) % 12 + 1
        self.dom = (self.days - self.days.astype("datetime64[M]")).astype(np.int64) + 1
        self.weekday = (self.days.astype(np.int64) + 3) % 7  # 0 = Monday
        self.years = list(range(START.year, as_of.year + 1))
        growth = {2022: 0.84, 2023: 1.0, 2024: 1.07, 2025: 1.14, 2026: 1.21}
        self.growth = {y: growth.get(y, 1.21 * 1.06 ** (y - 2026)) for y in self.years}

        spring = np.ones(self.n)
        for lny in LUNAR_NEW_YEAR.values():
            off = (self.days - np.datetime64(lny, "D")).astype(np.int64)
            spring = np.where((off >= -10) & (off < -3), 0.55, spring)
            spring = np.where((off >= -3) & (off <= 6), 0.12, spring)
            spring = np.where((off > 6) & (off <= 15), 0.6, spring)
        holiday = np.where((self.month == 10) & (self.dom <= 7), 0.2, 1.0)
        holiday = np.where((self.month == 5) & (self.dom <= 5), 0.4, holiday)
        # Beijing's 2022 lockdown spells (late April–May, late November–December).
        d = self.days
        covid = np.where((d >= np.datetime64("2022-04-25")) & (d <= np.datetime64("2022-05-31")), 0.6, 1.0)
        covid = np.where((d >= np.datetime64("2022-11-15")) & (d <= np.datetime64("2022-12-31")), 0.45, covid)
        self.seasonal = spring * holiday * covid
        self.year_growth = np.array([self.growth[int(y)] for y in self.years])[self.year - START.year]

    def index(self, day: dt.date) -> int:
        return (day - START).days

    def year_span(self, year: int) -> tuple[int, int]:
        """[lo, hi) day indices of a calendar year, clipped to START..as_of."""
        lo = max(self.index(dt.date(year, 1, 1)), 0)
        hi = min(self.index(dt.date(year, 12, 31)) + 1, self.n)
        return lo, max(lo, hi)

    def year_elapsed(self, year: int) -> float:
        lo, hi = self.year_span(year)
        days_in_year = 366 if year % 4 == 0 else 365
        return (hi - lo) / days_in_year

    def weights(self, kind: str) -> np.ndarray:
        """Daily weights: 'activity' (placements), 'graduate', 'office' (filings), 'event', 'training'."""
        wd = self.weekday
        if kind in ("activity", "graduate"):
            month = np.array([0.92, 0.9, 1.22, 1.1, 1.02, 1.0, 1.04, 0.96, 1.12, 0.9, 1.0, 0.92])[self.month - 1]
            day = np.where(wd < 5, 1.0, np.where(wd == 5, 0.3, 0.18))
            w = month * day * self.seasonal * self.year_growth
            if kind == "graduate":
                w = w * np.array([0.7, 0.55, 0.8, 0.8, 0.95, 2.2, 2.9, 2.1, 1.2, 0.8, 0.75, 0.7])[self.month - 1]
            return w
        if kind == "office":
            return np.where(wd < 5, 1.0, 0.03) * self.seasonal
        if kind == "event":
            month = np.array([0.7, 0.6, 1.4, 1.1, 1.2, 1.2, 1.15, 0.8, 1.25, 0.85, 1.0, 0.8])[self.month - 1]
            return month * np.where(wd < 5, 1.0, np.where(wd == 5, 0.45, 0.1)) * self.seasonal
        if kind == "training":
            month = np.array([0.8, 0.6, 1.3, 1.2, 1.1, 1.0, 0.75, 0.7, 1.25, 1.05, 1.1, 0.85])[self.month - 1]
            return month * np.where(wd < 5, 1.0, 0.25) * self.seasonal
        raise ValueError(kind)


def _sample_days(
    rng: np.random.Generator, weights: np.ndarray, n: int, lo: int = 0, hi: int | None = None
) -> np.ndarray:
    """n day indices in [lo, hi) drawn with the given daily weights, sorted (exactly n of them)."""
    hi = len(weights) if hi is None else hi
    if n <= 0 or hi <= lo:
        return np.zeros(0, dtype=np.int32)
    w = weights[lo:hi]
    counts = rng.multinomial(n, w / w.sum())
    return (np.repeat(np.arange(lo, hi, dtype=np.int32), counts)).astype(np.int32)


# =========================================================================== catalogue roles and aims


def _filter_values(filters: Iterable[Any], column: str) -> set[Any]:
    out: set[Any] = set()
    for f in filters:
        if f.column == column:
            out |= set(f.values or ([f.value] if f.value is not None else []))
    return out


def kpi_role(kpi: Kpi) -> str | None:
    """Which part of the demo a KPI with a target depends on, by the shape of its measure."""
    m = kpi.measure
    if kpi.target is None:
        return None
    if isinstance(m, ReportedMeasure):
        return "reported"
    if isinstance(m, SqlMeasure):
        return {
            "contract_signing_rate.sql": "contract_signing",
            "dispute_closure_rate.sql": "dispute_closure",
            "mediation_closure_rate.sql": "mediation_closure",
        }.get(m.file)
    if isinstance(m, CoverageMeasure):
        return {"communities": "community_coverage", "graduate_followups": "followup_coverage"}.get(m.source)
    if isinstance(m, RatioMeasure):
        cols = {f.column for f in m.numerator.filters} | {f.column for f in m.denominator.filters}
        if m.numerator.source == "placements" and {"project_id", "is_local"} <= cols:
            return "local_hiring"
        if m.numerator.source == "graduate_followups":
            return "followup_coverage"
        return None
    source, kind = m.source, m.kind
    date_column = getattr(m, "date_column", None)
    if source == "events" and kind == "count":
        types = _filter_values(m.filters, "event_type")
        if types == {"直播带岗"}:
            return "livestreams"
        if "招聘会" in types or "专场招聘" in types:
            return "recruitment_events"
    if source == "vacancies" and kind == "sum":
        return "vacancy_positions"
    if source == "startups" and kind == "count" and date_column == "first_insured_date":
        return "insured_startups"
    if source == "startups" and kind == "sum" and getattr(m, "column", None) == "guaranteed_loan_amount":
        return "loan_amount"
    if source == "trainings" and kind == "count":
        if _filter_values(m.filters, "skill_evaluated"):
            return "skill_evaluations"
        return "skills_training"
    return None


@dataclass
class _Programme:
    """One catalogue with its district profile and the KPIs the generator steers, by role."""

    catalogue: Catalogue
    profile: DistrictProfile
    roles: dict[str, Kpi]

    @property
    def id(self) -> str:
        return self.catalogue.programme.id

    @property
    def start(self) -> dt.date:
        return max(self.catalogue.programme.valid_from, START)

    def target(self, role: str) -> Target | None:
        kpi = self.roles.get(role)
        return kpi.target if kpi is not None else None


def _programmes(catalogues: Mapping[str, Catalogue]) -> list[_Programme]:
    out = []
    for pid in sorted(catalogues):
        cat = catalogues[pid]
        profile = DISTRICT_PROFILES.get(cat.programme.district)
        if profile is None:
            log.warning("demo: no district profile for %s (%s); its programme is skipped", pid, cat.programme.district)
            continue
        roles: dict[str, Kpi] = {}
        for kpi in cat.kpis:
            role = kpi_role(kpi)
            if role and role != "reported" and role not in roles:
                roles[role] = kpi
        out.append(_Programme(cat, profile, roles))
    return out


def aimed_statuses(catalogues: Mapping[str, Catalogue] | None = None, as_of: dt.date = DEFAULT_AS_OF) -> dict[str, str]:
    """The status the demo data steers each KPI with a target to, as of `as_of`, at scale 1."""
    cats = _load(catalogues)
    cal = _Calendar(as_of)
    out: dict[str, str] = {}
    for prog in _programmes(cats):
        p = prog.profile
        rotation = 0
        for kpi in prog.catalogue.kpis:
            t = kpi.target
            role = kpi_role(kpi)
            if t is None or role is None:
                continue
            if role == "reported":
                status = REPORTED_AIMS.get(kpi.id)
                if status is None:
                    status = _ROTATION[rotation % len(_ROTATION)]
                    rotation += 1
                out[kpi.id] = status
                continue
            value = {
                "contract_signing": p.signing_rate,
                "dispute_closure": p.dispute_closure,
                "mediation_closure": p.mediation_share,
                "community_coverage": p.community_coverage,
                "followup_coverage": p.followup_coverage,
                "local_hiring": p.local_hiring,
            }.get(role)
            if value is not None:
                out[kpi.id] = share_status(t, value)
            elif role == "livestreams":
                out[kpi.id] = "achieved"
            else:
                pace = p.aims.get(role, 1.0)
                share = expected_share(t, cal.as_of, prog.start)
                out[kpi.id] = "achieved" if pace * share >= 1.0 else pace_status(t, pace)
    return out


def _load(catalogues: Mapping[str, Catalogue] | None) -> Mapping[str, Catalogue]:
    if catalogues is not None:
        return catalogues
    try:
        return load_catalogues()
    except CatalogueError as exc:
        # One broken file should not stop a demo: use the programmes that load.
        log.warning("demo: catalogue problems, using the files that load: %s", exc)
        good: dict[str, Catalogue] = {}
        for path in sorted(CATALOGUE_DIR.glob("*.yaml")):
            try:
                good[path.stem] = load_catalogue(path)
            except CatalogueError:
                continue
        return good


# =========================================================================== shared pools

_BRAND_FIRST = "金汇鼎宏瑞博恒中安佳嘉锦凯立龙美明启润盛天万祥新亚永优远正志华京燕东北泰信达和德"
_BRAND_SECOND = "泰通盛达丰远信和康禾业程源立腾家德航泽华成邦祥元辉昌智景诚宇"
_TRADE_WORDS = (
    "科技",
    "信息技术",
    "网络科技",
    "物业管理",
    "餐饮管理",
    "养老服务",
    "家政服务",
    "建筑工程",
    "商贸",
    "医药",
    "文化传媒",
    "教育咨询",
    "物流",
    "人力资源服务",
    "环保科技",
    "生物技术",
    "电子商务",
    "酒店管理",
    "汽车服务",
    "健康管理",
    "装饰工程",
    "广告",
    "供应链管理",
    "智能科技",
)
_COMPANY_FORMS = ("有限公司", "有限责任公司", "股份有限公司")
_INDUSTRY_OF_TRADE = (0, 0, 0, 3, 2, 5, 3, 7, 1, 1, 13, 6, 9, 4, 10, 10, 1, 2, 3, 5, 7, 4, 9, 0)


@dataclass
class _Employers:
    """A district's employers: credit code, name, street and industry (index into the profile's list)."""

    ids: np.ndarray
    names: np.ndarray
    street: np.ndarray
    industry: np.ndarray


def _employer_pool(seed: int, prof: DistrictProfile, size: int) -> _Employers:
    rng = _rng(seed, "employers", prof.name)
    n_first, n_second = len(_BRAND_FIRST), len(_BRAND_SECOND)
    combos = n_first * n_second * len(_TRADE_WORDS) * len(_COMPANY_FORMS)
    pick = rng.choice(combos, size=size, replace=False)
    form = pick % len(_COMPANY_FORMS)
    pick //= len(_COMPANY_FORMS)
    trade = pick % len(_TRADE_WORDS)
    pick //= len(_TRADE_WORDS)
    brand = np.array([a + b for a in _BRAND_FIRST for b in _BRAND_SECOND])[pick]
    names = np.char.add(
        np.char.add(np.char.add("北京", brand), np.array(_TRADE_WORDS)[trade]),
        np.array(_COMPANY_FORMS)[np.where(rng.random(size) < 0.82, 0, form)],
    )
    weights = np.array([s.weight for s in prof.streets])
    # industry follows the trade word, nudged towards the district's mix
    mix = np.array([w for _, w in prof.industries])
    industry = np.where(rng.random(size) < 0.6, np.array(_INDUSTRY_OF_TRADE)[trade], _pick(rng, mix, size))
    return _Employers(
        ids=_unique_credit_codes(rng, np.full(size, 91), prof.code, size),
        names=names,
        street=_pick(rng, weights, size),
        industry=industry.astype(np.int32),
    )


def _popular(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    """n draws from 0..size-1 where a few employers take a large share (as in real ledgers)."""
    return np.minimum((size * rng.random(n) ** 2.2).astype(np.int64), size - 1)


@dataclass
class _Context:
    seed: int
    scale: float
    cal: _Calendar
    programmes: list[_Programme]
    employers: dict[str, _Employers]
    community_ids: dict[str, np.ndarray] = field(default_factory=dict)
    street_codes: dict[str, np.ndarray] = field(default_factory=dict)

    def programme_of(self, district: str) -> _Programme | None:
        for p in self.programmes:
            if p.profile.name == district:
                return p
        return None

    def person_pool(self, prof: DistrictProfile) -> int:
        return max(int(self.placements(prof) * 0.85), 50)

    def placements(self, prof: DistrictProfile) -> int:
        years = sum(self.cal.growth[y] * self.cal.year_elapsed(y) for y in self.cal.years)
        return round(PLACEMENTS_PER_YEAR * prof.placement_share * self.scale * years)


def _person_base(prof: DistrictProfile) -> int:
    return list(DISTRICT_PROFILES).index(prof.name) * 200_000_000


def _district_column(prof: DistrictProfile, n: int) -> pa.Array:
    return _dictionary(np.zeros(n, dtype=np.int32), [prof.name])


def _dates(cal: _Calendar, day: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(cal.days[np.clip(day, 0, cal.n - 1)], mask=null)


def _seq_in_year(year: np.ndarray) -> np.ndarray:
    """0, 1, 2 … restarting each year, for rows sorted by date."""
    first = np.searchsorted(year, year, side="left")
    return np.arange(len(year)) - first


# =========================================================================== placements

_GROUP_CHANNELS = np.array(
    [
        [0.18, 0.24, 0.26, 0.06, 0.14, 0.12],  # 高校毕业生
        [0.38, 0.18, 0.18, 0.04, 0.12, 0.10],  # 登记失业人员
        [0.40, 0.12, 0.18, 0.04, 0.18, 0.08],  # 农村劳动力
        [0.60, 0.08, 0.12, 0.02, 0.06, 0.12],  # 就业困难人员
        [0.62, 0.06, 0.12, 0.02, 0.08, 0.10],  # 残疾人
        [0.40, 0.15, 0.22, 0.03, 0.12, 0.08],  # 退役军人
        [0.62, 0.06, 0.12, 0.02, 0.06, 0.12],  # 低保人员
        [0.22, 0.22, 0.22, 0.06, 0.16, 0.12],  # 其他
    ]
)
_GROUP_LOCAL = np.array([0.45, 0.72, 0.88, 0.82, 0.85, 0.70, 0.90, 0.50])
_GROUP_PUBLIC_POST = np.array([0.02, 0.06, 0.20, 0.30, 0.25, 0.05, 0.30, 0.02])
_GROUP_WAGE = np.array([7600, 5600, 4600, 4200, 3800, 6300, 3900, 6000], dtype=float)
_GROUP_STABLE = np.array([0.82, 0.85, 0.88, 0.90, 0.90, 0.88, 0.88, 0.84])
_WAGE_LEVEL = {"海淀区": 1.12, "西城区": 1.10, "昌平区": 1.0, "通州区": 0.95}
_CHANNEL_SELF = 4


def _placements(ctx: _Context, prof: DistrictProfile) -> pa.Table:
    cal, rng = ctx.cal, _rng(ctx.seed, "placements", prof.name)
    n = ctx.placements(prof)
    other = 1.0 - 0.30 - 0.25 - prof.rural_share - 0.09 - 0.02 - 0.045 - 0.015
    group_p = np.array([0.30, 0.25, prof.rural_share, 0.09, 0.02, 0.045, 0.015, other])
    per_group = rng.multinomial(n, group_p / group_p.sum())
    w_all, w_grad = cal.weights("activity"), cal.weights("graduate")
    day = np.concatenate([_sample_days(rng, w_grad if g == 0 else w_all, int(c)) for g, c in enumerate(per_group)])
    group = np.repeat(np.arange(8, dtype=np.int32), per_group)
    order = np.argsort(day, kind="stable")
    day, group = day[order], group[order]
    year = cal.year[day]

    emp = ctx.employers[prof.name]
    employer = rng.permutation(len(emp.ids))[_popular(rng, len(emp.ids), n)]
    channel = _pick_rows(rng, _GROUP_CHANNELS, group)
    self_employed = channel == _CHANNEL_SELF

    is_local = rng.random(n) < _GROUP_LOCAL[group]
    project_no = np.full(n, -1, dtype=np.int64)
    projects: list[str] = []
    prog = ctx.programme_of(prof.name)
    if prof.project_share > 0:
        # a programme judged on project hiring counts project placements from its start
        since = cal.index(prog.start) if prog is not None and "local_hiring" in prog.roles else 0
        n_proj = 36
        starts = np.sort(rng.integers(cal.years[0] - 1, cal.years[-1] + 1, n_proj))
        projects = [f"{prof.project_prefix}-{s}-{k + 1:03d}" for k, s in enumerate(starts)]
        active = np.searchsorted(starts, year, side="right")
        has = (rng.random(n) < prof.project_share) & (day >= since) & (active > 0) & ~self_employed
        project_no[has] = (rng.random(int(has.sum())) * active[has]).astype(np.int64)
        # local hiring among key-project placements: exactly the profile's share, year by year
        for y in cal.years:
            rows = np.flatnonzero(has & (year == y))
            k = round(prof.local_hiring * len(rows))
            chosen = rng.permutation(rows)
            is_local[chosen[:k]] = True
            is_local[chosen[k:]] = False
    hukou_p = np.where(is_local, 0.80, 0.30)
    hukou_p = np.where(group == 0, np.where(is_local, 0.55, 0.25), hukou_p)
    hukou_p = np.where(group == 2, 0.97, hukou_p)
    is_hukou = rng.random(n) < hukou_p

    signed = rng.random(n) < np.where(self_employed, 0.08, np.where(group == 3, 0.97, 0.955))
    months = np.array([12, 24, 36, 60])[_pick(rng, [0.38, 0.17, 0.35, 0.10], n)]
    insured = rng.random(n) < np.where(signed, 0.97, 0.35)
    wage = _GROUP_WAGE[group] * _WAGE_LEVEL.get(prof.name, 1.0) * 1.04 ** (year - 2022)
    wage = wage * rng.lognormal(0.0, 0.33, n)
    wage = np.round(np.maximum(wage, _minimum_wage(day, cal.days)) / 10) * 10
    wage_null = rng.random(n) < np.where(self_employed, 0.4, 0.05)
    public_post = rng.random(n) < _GROUP_PUBLIC_POST[group]
    post_null = rng.random(n) < 0.07

    street = _pick(rng, [s.weight for s in prof.streets], n)
    lat = np.array([s.lat for s in prof.streets])[street] + rng.normal(0, 0.012, n)
    lon = np.array([s.lon for s in prof.streets])[street] + rng.normal(0, 0.012, n)
    u = rng.random(n)
    edge = 0.0
    for c_lat, c_lon, share in prof.commute:
        away = (u >= edge) & (u < edge + share)
        lat[away] = c_lat + rng.normal(0, 0.02, int(away.sum()))
        lon[away] = c_lon + rng.normal(0, 0.02, int(away.sum()))
        edge += share
    geo_null = rng.random(n) < 0.08
    too_recent = day > cal.n - 1 - 183
    stable = rng.random(n) < _GROUP_STABLE[group]

    return pa.table(
        {
            "placement_id": _fixed_strings(["JY", prof.code, (year, 4), (_seq_in_year(year), 7)], n),
            "person_id": _person_ids(_person_base(prof) + rng.integers(0, ctx.person_pool(prof), n)),
            "district": _district_column(prof, n),
            "street": _dictionary(street, [s.name for s in prof.streets]),
            "placement_date": _dates(cal, day),
            "employer_id": _dictionary(employer, emp.ids),
            "employer_name": _dictionary(employer, emp.names),
            "channel": _dictionary(channel, CHANNELS),
            "person_group": _dictionary(group, PERSON_GROUPS),
            "is_local": pa.array(is_local),
            "is_beijing_hukou": pa.array(is_hukou),
            "project_id": _dictionary(np.maximum(project_no, 0), projects or ["-"], null=project_no < 0),
            "contract_signed": pa.array(signed),
            "contract_months": pa.array(months.astype(np.int64), mask=~signed),
            "social_insurance": pa.array(insured),
            "monthly_wage": _decimal(wage, wage_null),
            "public_service_post": pa.array(public_post, mask=post_null),
            "work_lat": pa.array(np.round(lat, 5), mask=geo_null),
            "work_lon": pa.array(np.round(lon, 5), mask=geo_null),
            "stable_6m": pa.array(stable, mask=too_recent),
        }
    )


# =========================================================================== trainings

_CATEGORY_HOURS = (
    ((40, 56, 64, 80, 120), (0.2, 0.2, 0.25, 0.25, 0.1)),  # 家政
    ((64, 80, 120, 160), (0.2, 0.35, 0.3, 0.15)),  # 养老
    ((64, 80, 120), (0.3, 0.4, 0.3)),  # 托育
    ((40, 64, 80, 120, 160, 200), (0.15, 0.2, 0.25, 0.2, 0.12, 0.08)),  # 技能培训
    ((24, 56, 80), (0.3, 0.3, 0.4)),  # 创业培训 (GYB, SYB)
    ((16, 24, 40, 64, 80), (0.15, 0.25, 0.3, 0.2, 0.1)),  # 定制培训
    ((160, 320, 480), (0.5, 0.3, 0.2)),  # 以工代训 (months on the job)
    ((8, 16, 24, 40, 64), (0.2, 0.25, 0.25, 0.2, 0.1)),  # 线上培训
    ((16, 24, 40), (0.4, 0.4, 0.2)),  # 其他
)
_CATEGORY_MIX = np.array([0.12, 0.10, 0.06, 0.34, 0.10, 0.07, 0.06, 0.11, 0.04])
_CATEGORY_MIX_CARE = np.array([0.17, 0.17, 0.12, 0.30, 0.07, 0.05, 0.04, 0.06, 0.02])  # Tongzhou's 家政/养老/托育 push
_CATEGORY_EVAL = np.array([0.65, 0.65, 0.60, 0.60, 0.02, 0.45, 0.30, 0.08, 0.20])
_CATEGORY_EMPLOYED = np.array([0.70, 0.72, 0.68, 0.60, 0.45, 0.80, 0.92, 0.40, 0.50])
_CERT_LEVELS_P = (0.0, 0.28, 0.30, 0.26, 0.13, 0.025, 0.005)  # over CERTIFICATE_LEVELS; 无 for not evaluated


def _training_providers(seed: int, prof: DistrictProfile) -> list[str]:
    rng = _rng(seed, "providers", prof.name)
    brands = [a + b for a in _BRAND_FIRST for b in _BRAND_SECOND]
    chosen = [brands[i] for i in rng.choice(len(brands), size=12, replace=False)]
    kinds = ("职业技能培训学校", "家政服务有限公司", "养老服务职业技能培训学校", "教育科技有限公司")
    return [f"北京市{prof.name}职业技能公共实训基地", f"北京市{prof.name}就业训练中心"] + [
        f"北京{b}{kinds[i % len(kinds)]}" for i, b in enumerate(chosen)
    ]


def _training_counts(ctx: _Context, prof: DistrictProfile) -> list[tuple[int, int, int, bool]]:
    """(lo, hi, count, programme_mix) spans of start dates; a skills-training target sets the programme window."""
    cal = ctx.cal
    prog = ctx.programme_of(prof.name)
    target = prog.target("skills_training") if prog is not None else None
    kpi = prog.roles.get("skills_training") if prog is not None else None
    spans: list[tuple[int, int, int, bool]] = []
    window_start = cal.n
    if prog is not None and target is not None and kpi is not None:
        window_start = cal.index(max(target.start or prog.start, START))
    base = prof.trainings_per_year * ctx.scale
    for y in cal.years:
        lo, hi = cal.year_span(y)
        cut = min(max(window_start, lo), hi)
        if cut > lo:
            spans.append((lo, cut, round(base * cal.growth[y] * (cut - lo) / 365), False))
        if hi > cut:
            spans.append((cut, hi, 0, True))
    if prog is not None and target is not None and kpi is not None:
        cats = _filter_values(kpi.measure.filters, "course_category") or set(COURSE_CATEGORIES)  # type: ignore[union-attr]
        share_in = sum(p for c, p in zip(COURSE_CATEGORIES, _CATEGORY_MIX_CARE, strict=True) if c in cats)
        wanted = prof.aims.get("skills_training", 1.0) * target.value * expected_share(target, cal.as_of, prog.start)
        total = wanted * ctx.scale / max(share_in, 1e-6)
        weights = [(hi - lo) * cal.growth[int(cal.year[lo])] for lo, hi, _, mix in spans if mix]
        counts = np.round(total * np.array(weights) / max(sum(weights), 1e-9)).astype(int) if weights else []
        it = iter(counts)
        spans = [(lo, hi, int(next(it)) if mix else c, mix) for lo, hi, c, mix in spans]
    return spans


def _trainings(ctx: _Context, prof: DistrictProfile) -> pa.Table:
    cal, rng = ctx.cal, _rng(ctx.seed, "trainings", prof.name)
    weights = cal.weights("training")
    spans = _training_counts(ctx, prof)
    day = np.concatenate([_sample_days(rng, weights, c, lo, hi) for lo, hi, c, _ in spans] or [np.zeros(0, np.int32)])
    care = np.concatenate([np.full(c, mix) for _, _, c, mix in spans] or [np.zeros(0, bool)])
    n = len(day)
    year = cal.year[day]
    mix = np.where(care[:, None], _CATEGORY_MIX_CARE[None, :], _CATEGORY_MIX[None, :])
    mix = np.where(
        (year == 2022)[:, None], mix * np.array([1, 1, 1, 1, 1, 1, 1, 2.2, 1])[None, :], mix
    )  # online in 2022
    category = _pick_rows_matrix(rng, mix)

    hours_opts = np.zeros((9, 6), dtype=np.int64)
    hours_p = np.zeros((9, 6))
    for k, (opts, probs) in enumerate(_CATEGORY_HOURS):
        hours_opts[k, : len(opts)] = opts
        hours_p[k, : len(probs)] = probs
    hours = hours_opts[category, _pick_rows(rng, hours_p, category)]
    per_day = np.where(category == 7, 2.0, np.where(category == 6, 8.0, 6.0))
    duration = np.ceil(hours / per_day * 7 / 5).astype(np.int64)
    end = day + duration
    completed = (end <= cal.n - 1) & (rng.random(n) < np.where(category == 7, 0.82, 0.9))

    p_eval = _CATEGORY_EVAL[category]
    prog = ctx.programme_of(prof.name)
    target = prog.target("skill_evaluations") if prog is not None else None
    if prog is not None and target is not None:
        in_window = day >= cal.index(max(target.start or prog.start, START))
        wanted = prof.aims.get("skill_evaluations", 1.0) * target.value * expected_share(target, cal.as_of, prog.start)
        expected = float((p_eval * completed * in_window).sum())
        if expected > 0:
            p_eval = np.where(in_window, np.minimum(p_eval * wanted * ctx.scale / expected, 0.97), p_eval)
    evaluated = completed & (rng.random(n) < p_eval)
    level = np.where(evaluated, _pick(rng, _CERT_LEVELS_P, n), 0)
    employed_known = completed & (end <= cal.n - 1 - 90)
    employed = rng.random(n) < _CATEGORY_EMPLOYED[category]
    providers = _training_providers(ctx.seed, prof)
    provider = _pick(rng, [3, 2] + [1] * (len(providers) - 2), n)
    order = np.argsort(day, kind="stable")
    cols = {
        "day": day,
        "category": category,
        "hours": hours,
        "end": end,
        "completed": completed,
        "evaluated": evaluated,
        "level": level,
        "employed_known": employed_known,
        "employed": employed,
        "provider": provider,
    }
    c = {k: v[order] for k, v in cols.items()}
    year = cal.year[c["day"]]
    return pa.table(
        {
            "training_id": _fixed_strings(["PX", prof.code, (year, 4), (_seq_in_year(year), 7)], n),
            "person_id": _person_ids(_person_base(prof) + rng.integers(0, ctx.person_pool(prof), n)),
            "district": _district_column(prof, n),
            "provider": _dictionary(c["provider"], providers),
            "course_category": _dictionary(c["category"], COURSE_CATEGORIES),
            "start_date": _dates(cal, c["day"]),
            "end_date": _dates(cal, c["end"], ~c["completed"]),
            "class_hours": pa.array(c["hours"].astype(np.int64)),
            "completed": pa.array(c["completed"]),
            "certificate_level": _dictionary(c["level"], CERTIFICATE_LEVELS, null=~c["completed"]),
            "skill_evaluated": pa.array(c["evaluated"]),
            "employed_within_3m": pa.array(c["employed"], mask=~c["employed_known"]),
        }
    )


def _pick_rows_matrix(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row, with a row of probabilities per row."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(probs))
    return (u[:, None] > cum[:, :-1]).sum(axis=1).astype(np.int32)


# =========================================================================== applications

_RATE_PER_YEAR = {"个人": 150.0, "用人单位": 60.0, "人力资源机构": 25.0, "培训机构": 20.0, "街道": 4.0, "社区": 25.0}
_STAND_IN_UNIT = {  # yuan per basis unit where the document defers to the city standard
    "per_person": 1000.0,
    "per_person_month": 1000.0,
    "per_person_year": 6000.0,
    "per_person_day": 50.0,
    "per_person_class_hour": 20.0,
    "per_year": 50000.0,
    "one_off": 20000.0,
}


def _applicant_mix(recipient: str) -> list[tuple[str, float]]:
    if "个人" in recipient and any(w in recipient for w in ("企业", "团队", "单位")):
        return [("个人", 0.7), ("用人单位", 0.3)]
    if "个人" in recipient or "创业者" in recipient:
        return [("个人", 1.0)]
    if "人力资源" in recipient:
        return [("人力资源机构", 1.0)]
    if "培训" in recipient:
        return [("培训机构", 1.0)]
    if "街道" in recipient or "街镇" in recipient:
        return [("街道", 1.0)]
    if "社区" in recipient:
        return [("社区", 1.0)]
    return [("用人单位", 1.0)]


def _subsidy_amounts(
    rng: np.random.Generator, sub: Subsidy, org: np.ndarray, day: np.ndarray, cal: _Calendar
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(quantity or NaN, year_index or 0, standard amount or NaN when open, requested amount) per application."""
    n = len(org)
    qty = np.full(n, np.nan)
    year_index = np.zeros(n, dtype=np.int64)
    persons = np.where(org, np.minimum(rng.geometric(0.18, n), 80), 1).astype(float)
    stand_in = sub.amount is None and not sub.tiers and sub.share is None
    unit = np.full(n, sub.amount if sub.amount is not None else _STAND_IN_UNIT.get(sub.basis, 1000.0))
    if sub.amount_is_minimum and sub.amount is not None:
        unit = unit * np.array([1.0, 1.0, 1.0, 1.2, 1.6])[rng.integers(0, 5, n)]
    tiers = list(sub.tiers)
    lump = sub.basis in ("one_off", "per_year")
    if sub.tier_by == "year_index" and tiers:
        tiers.sort(key=lambda t: t.year_index or 0)
        k = _pick(rng, [0.5, 0.3, 0.2][: len(tiers)], n)
        unit = np.array([t.amount or 0.0 for t in tiers])[k]
        year_index = np.array([t.year_index or i + 1 for i, t in enumerate(tiers)], dtype=np.int64)[k]
    elif sub.tier_by == "level" and tiers:
        tiers.sort(key=lambda t: t.amount or 0.0)
        k = _pick(rng, [0.5, 0.3, 0.2, 0.1, 0.05][: len(tiers)], n)
        unit = np.array([t.amount or 0.0 for t in tiers])[k]
    elif sub.tier_by == "quantity" and tiers:
        tiers.sort(key=lambda t: t.min_quantity or 0.0)
        k = _pick(rng, [0.55, 0.3, 0.15, 0.1][: len(tiers)], n)
        lo = np.array([t.min_quantity or 1.0 for t in tiers])[k]
        hi = np.array([t.max_quantity or (t.min_quantity or 1.0) * 1.8 for t in tiers])[k]
        qty = np.floor(lo + rng.random(n) * (hi - lo))
        unit = np.array([t.amount or 0.0 for t in tiers])[k]
        persons = qty
    if sub.basis == "loan":
        lo_amt = sub.amount or np.where(org, 500_000.0, 100_000.0)
        hi_amt = sub.cap_amount or np.where(org, 3_000_000.0, 500_000.0)
        requested = np.round((lo_amt + rng.random(n) ** 1.6 * (hi_amt - lo_amt)) / 10_000) * 10_000
        return qty, year_index, np.full(n, np.nan), requested
    if sub.basis in ("share_of_fee", "share_of_wage"):
        share = sub.share if sub.share is not None else 0.5
        if sub.basis == "share_of_wage":
            months = rng.integers(1, 13, n)
            qty = persons * months
            standard = share * _minimum_wage(day, cal.days) * qty
        else:
            fee = np.where(org, rng.lognormal(math.log(60_000), 0.6, n), rng.lognormal(math.log(3_000), 0.5, n))
            standard = share * np.round(fee / 10) * 10
        return qty, year_index, np.round(standard, 2), np.round(standard, 2)
    if stand_in and sub.cap_amount is not None:
        # "up to N yuan": the claim is what was spent, the standard is the claim capped
        requested = np.round(sub.cap_amount * (0.3 + rng.random(n)) / 100) * 100
        return qty, year_index, np.minimum(requested, sub.cap_amount), requested
    if sub.basis == "per_person_month":
        months = rng.integers(1, min(sub.max_months or 12, 12) + 1, n)
        qty = persons * months
    elif sub.basis == "per_person_day":
        qty = persons * rng.integers(5, (sub.max_days or 30) + 1, n)
    elif sub.basis == "per_person_class_hour":
        qty = rng.integers(15, 46, n) * np.array([40, 64, 80, 120])[rng.integers(0, 4, n)].astype(float)
    elif sub.basis in ("per_person", "per_person_year"):
        qty = persons
    standard = unit if lump else unit * qty
    if sub.cap_amount is not None:
        standard = np.minimum(standard, sub.cap_amount)
    return qty, year_index, standard, standard.copy()


def _applications(ctx: _Context, prof: DistrictProfile, progs: list[_Programme]) -> pa.Table | None:
    cal = ctx.cal
    weights = cal.weights("office")
    parts: list[dict[str, Any]] = []
    for prog in progs:
        # a programme that starts within the span takes a month to receive its first applications
        lo = cal.index(prog.start + dt.timedelta(days=30)) if prog.start > START else 0
        valid_to = prog.catalogue.programme.valid_to
        hi = cal.n if valid_to is None or valid_to >= cal.as_of else cal.index(valid_to) + 1
        if hi <= lo:
            continue
        years = sum(cal.growth[int(cal.year[d])] for d in range(lo, hi, 30)) * 30 / 365
        for sub in prog.catalogue.subsidies:
            rng = _rng(ctx.seed, "applications", prog.id, sub.id)
            mix = _applicant_mix(sub.recipient)
            kind_p = np.array([p for _, p in mix])
            rate = sum(_RATE_PER_YEAR[k] * p for k, p in mix)
            if sub.basis in ("one_off", "per_year") and mix[0][0] != "个人":
                rate = {"街道": 3.0, "社区": 15.0}.get(mix[0][0], 6.0)
            if sub.basis == "loan":
                rate = 90.0
            n = max(round(rate * years * ctx.scale), 1)
            day = _sample_days(rng, weights, n, lo, hi)
            kind = np.array([APPLICANT_TYPES.index(k) for k, _ in mix])[_pick(rng, kind_p, n)]
            org = kind != APPLICANT_TYPES.index("个人")
            qty, year_index, standard, requested = _subsidy_amounts(rng, sub, org, day, cal)
            over = rng.random(n) < 0.05
            requested = np.where(
                over & ~np.isnan(standard), np.round(requested * (1.1 + 0.4 * rng.random(n)), -1), requested
            )
            approved = np.where(np.isnan(standard), requested * np.where(rng.random(n) < 0.1, 0.8, 1.0), standard)
            # a few percent deliberately differ from the standard, so the review list has content
            odd = rng.random(n) < 0.03
            factor = np.array([0.5, 0.8, 1.2, 1.5, 2.0])[rng.integers(0, 5, n)]
            approved = np.where(odd, np.round(approved * factor, -1), approved)
            decision = day + 5 + rng.gamma(2.0, 8.0, n).astype(np.int64)
            paid = decision + 7 + rng.gamma(2.0, 10.0, n).astype(np.int64)
            rejected = rng.random(n) < np.where(org, 0.09, 0.06)
            last = cal.n - 1
            status = np.where(decision > last, 0, np.where(rejected, 2, np.where(paid > last, 1, 3)))
            parts.append(
                {
                    "day": day,
                    "kind": kind,
                    "qty": qty,
                    "year_index": year_index,
                    "requested": requested,
                    "approved": approved,
                    "status": status,
                    "decision": decision,
                    "paid": paid,
                    "code": np.full(n, len(parts)),
                    "measure": sub.id,
                    "applicant": _applicant_ids(ctx, prof, rng, kind),
                }
            )
    if not parts:
        return None
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0] if k not in ("measure", "applicant")}
    measures = [p["measure"] for p in parts]
    order = np.argsort(cat["day"], kind="stable")
    c = {k: v[order] for k, v in cat.items()}
    applicant = pa.concat_arrays([p["applicant"] for p in parts]).take(pa.array(order))
    n = len(order)
    year = cal.year[c["day"]]
    status = c["status"]
    no_decision = status == 0
    no_amount = (status == 0) | (status == 2)
    return pa.table(
        {
            "application_id": _fixed_strings(["SQ", prof.code, (year, 4), (_seq_in_year(year), 7)], n),
            "district": _district_column(prof, n),
            "measure_code": _dictionary(c["code"], measures),
            "applicant_type": _dictionary(c["kind"], APPLICANT_TYPES),
            "applicant_id": applicant,
            "submitted_date": _dates(cal, c["day"]),
            "quantity": pa.array(c["qty"], mask=np.isnan(c["qty"])),
            "year_index": pa.array(c["year_index"], mask=c["year_index"] == 0),
            "amount_requested": _decimal(c["requested"]),
            "amount_approved": _decimal(np.nan_to_num(c["approved"]), no_amount),
            "status": _dictionary(status, ("已受理", "已审核", "不予通过", "已拨付")),
            "decision_date": _dates(cal, c["decision"], no_decision),
            "paid_date": _dates(cal, c["paid"], status != 3),
        }
    )


def _applicant_ids(ctx: _Context, prof: DistrictProfile, rng: np.random.Generator, kind: np.ndarray) -> pa.Array:
    """Who applied: a person id, an employer's credit code, a street code or a community id."""
    n = len(kind)
    emp = ctx.employers[prof.name]
    providers = credit_codes(_rng(ctx.seed, "provider-codes", prof.name), 52, prof.code, 14)
    pools: dict[str, np.ndarray | None] = {
        "街道": ctx.street_codes.get(prof.name),
        "社区": ctx.community_ids.get(prof.name),
        "培训机构": providers,
    }
    arrays: list[pa.Array] = []
    index = np.empty(n, dtype=np.int64)
    offset = 0
    for k, name in enumerate(APPLICANT_TYPES):
        rows = np.flatnonzero(kind == k)
        m = len(rows)
        if m == 0:
            continue
        pool = pools.get(name)
        if name == "个人":
            values = _person_ids(_person_base(prof) + rng.integers(0, ctx.person_pool(prof), m))
        elif pool is not None and len(pool):
            values = pa.array(pool[rng.integers(0, len(pool), m)], type=pa.string())
        else:
            values = pa.array(emp.ids[_popular(rng, len(emp.ids), m)], type=pa.string())
        arrays.append(values)
        index[rows] = offset + np.arange(m)
        offset += m
    return pa.concat_arrays(arrays).take(pa.array(index)) if arrays else pa.array([], type=pa.string())


# =========================================================================== events

_FAIR_THEMES = (
    "就业援助月",
    "就业援助月",
    "春风行动",
    "春风行动",
    "民营企业招聘月",
    "高校毕业生就业服务",
    "高校毕业生就业服务",
    "高校毕业生就业服务",
    "金秋招聘月",
    "金秋招聘月",
    "岁末送岗",
    "岁末送岗",
)
_SPECIAL_THEMES = (
    "高校毕业生",
    "退役军人",
    "残疾人",
    "就业困难人员",
    "家政养老行业",
    "数字经济人才",
    "商贸服务业",
    "建筑业",
    "青年人才",
    "社会领域",
)
_GUIDANCE = (
    "职业指导进校园",
    "求职能力提升训练营",
    "职业生涯规划讲座",
    "青年就业启航计划职业指导",
    "就业政策宣讲进社区",
)
_CONTEST_TRADES = (
    "养老护理员",
    "育婴员",
    "家政服务员",
    "电工",
    "网络安全管理员",
    "人工智能训练师",
    "中式烹调师",
    "快递员",
)
_STARTUP_EVENTS = ("创业沙龙", "创业项目路演", "创业指导进社区", "“创业北京”政策宣讲", "创新创业大赛")
_OTHER_EVENTS = ("劳动权益保护宣传", "就业政策宣讲会", "根治欠薪宣传活动", "人力资源服务供需对接会")
_OTHER_TYPES_PER_YEAR = {3: 55.0, 4: 6.0, 5: 18.0, 6: 16.0}  # per 200 recruitment events, 2023 level


def _month_spans(cal: _Calendar, year: int) -> list[tuple[int, int, int]]:
    out = []
    for m in range(1, 13):
        lo = cal.index(dt.date(year, m, 1))
        if lo >= cal.n:
            break
        nxt = dt.date(year + m // 12, m % 12 + 1, 1)
        out.append((m, max(lo, 0), min(cal.index(nxt), cal.n)))
    return out


def _events(ctx: _Context, prof: DistrictProfile) -> pa.Table:
    cal, rng = ctx.cal, _rng(ctx.seed, "events", prof.name)
    weights = cal.weights("event")
    prog = ctx.programme_of(prof.name)
    recruit = prog.target("recruitment_events") if prog is not None else None
    live = prog.target("livestreams") if prog is not None else None
    factor = prof.recruitment_events_per_year / 200
    days: list[np.ndarray] = []
    types: list[np.ndarray] = []
    for y in cal.years:
        lo, hi = cal.year_span(y)
        if hi <= lo:
            continue
        live_days = []
        for m, mlo, mhi in _month_spans(cal, y):
            count = int(rng.choice([1, 2, 3, 4], p=[0.1, 0.4, 0.35, 0.15]) if y > 2022 else rng.choice([0, 1, 2]))
            if (y, m) == (cal.as_of.year, cal.as_of.month):
                full = (dt.date(y + m // 12, m % 12 + 1, 1) - dt.date(y, m, 1)).days
                count = math.ceil(live.value) + 1 if live is not None else round(count * (mhi - mlo) / full)
            workdays = np.arange(mlo, mhi)[cal.weekday[mlo:mhi] < 5]
            if len(workdays):
                live_days.append(np.sort(rng.choice(workdays, size=min(count, len(workdays)), replace=False)))
        live_y = np.concatenate(live_days) if live_days else np.zeros(0, dtype=np.int64)
        elapsed = cal.year_elapsed(y)
        if recruit is not None and prog is not None and y >= prog.start.year:
            pace = prof.aims.get("recruitment_events", 1.0) if y == cal.as_of.year else 1.04
            total = round(recruit.value * pace * elapsed)
        else:
            total = round(prof.recruitment_events_per_year * cal.growth[y] * elapsed)
        fairs_and_special = max(total - len(live_y), 0)
        fairs = int(rng.binomial(fairs_and_special, 0.62))
        plan = {0: fairs, 1: fairs_and_special - fairs}
        for t, per_year in _OTHER_TYPES_PER_YEAR.items():
            plan[t] = round(per_year * factor * cal.growth[y] * elapsed)
        for t, count in plan.items():
            days.append(_sample_days(rng, weights, count, lo, hi))
            types.append(np.full(count, t, dtype=np.int32))
        days.append(live_y.astype(np.int32))
        types.append(np.full(len(live_y), 2, dtype=np.int32))
    day = np.concatenate(days)
    kind = np.concatenate(types)
    order = np.lexsort((kind, day))
    day, kind = day[order], kind[order]
    n = len(day)
    year = cal.year[day]

    street_names = np.array([s.name for s in prof.streets])
    street = street_names[_pick(rng, [s.weight for s in prof.streets], n)]
    at_street = rng.random(n) < np.array([0.5, 0.35, 0.0, 0.7, 0.0, 0.5, 0.6])[kind]
    place = np.where(at_street, street, "")
    where = np.where(at_street, street, prof.name)
    ys = year.astype(str)
    theme = np.array(_FAIR_THEMES)[cal.month[day] - 1]
    specials = list(_SPECIAL_THEMES) + (["回天地区社会领域人才"] if prof.name == "昌平区" else [])
    special = np.array(specials)[rng.integers(0, len(specials), n)]
    live_no = np.cumsum(kind == 2).astype(str)

    def cat(*parts: Any) -> np.ndarray:
        out = np.broadcast_to(np.asarray(parts[0]).astype(str), (n,))
        for p in parts[1:]:
            out = np.char.add(out, np.asarray(p).astype(str))
        return out

    titles = {
        0: cat(ys, "年", prof.name, "“", theme, "”", place, "招聘会"),
        1: cat(where, special, "专场招聘会"),
        2: cat("“", prof.short, "就业直播间”第", live_no, "期直播带岗"),
        3: cat(np.array(_GUIDANCE)[rng.integers(0, len(_GUIDANCE), n)], "（", where, "）"),
        4: cat(ys, "年", prof.name, "职业技能竞赛（", np.array(_CONTEST_TRADES)[rng.integers(0, 8, n)], "）"),
        5: cat(np.array(_STARTUP_EVENTS)[rng.integers(0, len(_STARTUP_EVENTS), n)], "（", where, "）"),
        6: cat(np.array(_OTHER_EVENTS)[rng.integers(0, len(_OTHER_EVENTS), n)], "（", where, "）"),
    }
    title = np.select([kind == t for t in titles], list(titles.values()), "")
    street_office = np.char.add(street, np.where(np.char.endswith(street, "街道"), "办事处", "人民政府"))
    district_units = np.array([f"{prof.name}人力资源和社会保障局", f"{prof.name}公共就业服务中心"])
    organiser = np.where(at_street, street_office, district_units[rng.integers(0, 2, n)])
    organiser = np.where((kind == 1) & (special == "退役军人"), f"{prof.name}退役军人事务局", organiser)
    organiser = np.where((kind == 1) & (special == "残疾人"), f"{prof.name}残疾人联合会", organiser)
    organiser = np.where((kind == 4) & (rng.random(n) < 0.4), f"{prof.name}总工会", organiser)

    fair, special_fair, stream = kind == 0, kind == 1, kind == 2
    employers = np.select(
        [fair, special_fair, stream, kind == 4],
        [
            np.clip(rng.lognormal(math.log(70), 0.5, n), 20, 250),
            np.clip(rng.lognormal(math.log(25), 0.5, n), 5, 80),
            rng.integers(5, 26, n),
            rng.integers(5, 41, n),
        ],
        0,
    ).astype(np.int64)
    vacancies = np.round(employers * np.where(stream, rng.uniform(10, 40, n), rng.uniform(8, 25, n))).astype(np.int64)
    attendees = np.select(
        [fair, special_fair, stream],
        [
            vacancies * rng.uniform(0.8, 2.0, n),
            vacancies * rng.uniform(0.6, 1.5, n),
            np.clip(rng.lognormal(math.log(15000), 0.8, n), 2000, 120000),
        ],
        rng.integers(20, 300, n),
    ).astype(np.int64)
    intents = np.where(stream, rng.integers(30, 400, n), attendees * rng.uniform(0.12, 0.3, n)).astype(np.int64)
    recruiting = fair | special_fair | stream
    return pa.table(
        {
            "event_id": _fixed_strings(["HD", prof.code, (year, 4), (_seq_in_year(year), 4)], n),
            "district": _district_column(prof, n),
            "event_type": _dictionary(kind, EVENT_TYPES),
            "event_date": _dates(cal, day),
            "title": pa.array(title, type=pa.string()),
            "organiser": pa.array(organiser, type=pa.string()),
            "employers": pa.array(employers, mask=~(recruiting | (kind == 4))),
            "vacancies_offered": pa.array(vacancies, mask=~recruiting),
            "attendees": pa.array(attendees, mask=rng.random(n) < 0.03),
            "intents": pa.array(intents, mask=~recruiting),
        }
    )


# =========================================================================== vacancies, disputes


def _yearly_total(
    ctx: _Context, prog: _Programme | None, role: str, base: float, year: int, past_pace: float = 1.04
) -> float:
    """A year's volume: from the KPI target while the programme runs, else the district's base with growth."""
    cal = ctx.cal
    target = prog.target(role) if prog is not None else None
    elapsed = cal.year_elapsed(year)
    if target is not None and prog is not None and year >= prog.start.year:
        pace = prog.profile.aims.get(role, 1.0) if year == cal.as_of.year else past_pace
        return target.value * pace * elapsed
    return base * cal.growth[year] * elapsed


def _vacancies(ctx: _Context, prof: DistrictProfile) -> pa.Table:
    cal, rng = ctx.cal, _rng(ctx.seed, "vacancies", prof.name)
    prog = ctx.programme_of(prof.name)
    weights = cal.weights("office")
    days, positions = [], []
    for y in cal.years:
        lo, hi = cal.year_span(y)
        total = round(_yearly_total(ctx, prog, "vacancy_positions", prof.vacancy_positions_per_year, y, 1.05))
        rows = max(round(total / 5.0), 1) if hi > lo else 0
        pos = np.minimum(rng.geometric(0.2, rows), 200).astype(np.int64)
        _force_total(rng, pos, np.ones(rows, dtype=bool), total, 1, 500)
        days.append(_sample_days(rng, weights, rows, lo, hi))
        positions.append(pos)
    day = np.concatenate(days)
    n = len(day)
    year = cal.year[day]
    emp = ctx.employers[prof.name]
    employer = _popular(rng, len(emp.ids), n)
    return pa.table(
        {
            "vacancy_id": _fixed_strings(["KG", prof.code, (year, 4), (_seq_in_year(year), 7)], n),
            "district": _district_column(prof, n),
            "employer_id": _dictionary(employer, emp.ids),
            "collected_date": _dates(cal, day),
            "industry": _dictionary(emp.industry[employer], [name for name, _ in prof.industries]),
            "positions": pa.array(np.concatenate(positions)),
        }
    )


_CLOSURE_DAYS = ((5.0, 2.0, 7.0), (25.0, 3.0, 9.0), (3.0, 2.0, 6.0), (10.0, 2.0, 10.0))  # offset, gamma k, θ


def _disputes(ctx: _Context, prof: DistrictProfile) -> pa.Table:
    cal, rng = ctx.cal, _rng(ctx.seed, "disputes", prof.name)
    weights = cal.weights("office")
    day = np.concatenate(
        [
            _sample_days(
                rng, weights, round(prof.disputes_per_year * cal.growth[y] * cal.year_elapsed(y)), *cal.year_span(y)
            )
            for y in cal.years
        ]
    )
    n = len(day)
    last = cal.n - 1
    method = _pick(rng, [prof.mediation_share, 0.26, 0.10, max(0.64 - prof.mediation_share, 0.02)], n)
    params = np.array(_CLOSURE_DAYS)[method]
    closed = day + (params[:, 0] + rng.gamma(params[:, 1], params[:, 2])).astype(np.int64)
    closed = np.where(closed > last, -1, closed)

    # Steer this year's closure rate (DESIGN §3) and mediation share to the profile's values.
    y0 = cal.year_span(cal.as_of.year)[0]
    in_window = day >= y0
    open_at_start = (day < y0) & ((closed < 0) | (closed >= y0))
    denominator = int((in_window | open_at_start).sum())
    numerator = int((closed >= y0).sum())
    need = round(prof.dispute_closure * denominator) - numerator
    if need > 0:
        pool = np.flatnonzero(in_window & (closed < 0))
        pick = rng.choice(pool, size=min(need, len(pool)), replace=False)
        closed[pick] = day[pick] + (rng.random(len(pick)) * (last - day[pick] + 1)).astype(np.int64)
    elif need < 0:
        pool = np.flatnonzero(in_window & (closed >= y0))
        pool = pool[np.argsort(-closed[pool], kind="stable")][: max(-need * 3, 1)]
        closed[rng.choice(pool, size=min(-need, len(pool)), replace=False)] = -1
    closed_now = np.flatnonzero(closed >= y0)
    mediated = int((method[closed_now] == 0).sum())
    want = round(prof.mediation_share * len(closed_now))
    if want > mediated:
        flip = rng.choice(closed_now[method[closed_now] != 0], size=want - mediated, replace=False)
        method[flip] = 0
    elif want < mediated:
        flip = rng.choice(closed_now[method[closed_now] == 0], size=mediated - want, replace=False)
        method[flip] = _pick(rng, [0.6, 0.3, 0.1], len(flip)) + 1

    year = cal.year[day]
    seq = _seq_in_year(year) + 1
    case_id = pc.binary_join_element_wise(
        f"京{prof.short[0]}劳人仲字〔", pa.array(year.astype(str)), "〕第", pa.array(seq.astype(str)), "号", ""
    )
    return pa.table(
        {
            "case_id": case_id,
            "district": _district_column(prof, n),
            "accepted_date": _dates(cal, day),
            "closed_date": _dates(cal, closed, closed < 0),
            "closure_method": _dictionary(method, CLOSURE_METHODS, null=closed < 0),
        }
    )


# =========================================================================== contract returns, startups


def _contract_returns(ctx: _Context, prof: DistrictProfile) -> pa.Table:
    cal, rng = ctx.cal, _rng(ctx.seed, "contract_returns", prof.name)
    emp = ctx.employers[prof.name]
    n_ent = min(prof.enterprises, len(emp.ids))
    ent_pool = rng.choice(len(emp.ids), size=n_ent, replace=False)
    last_month = (cal.as_of.year - START.year) * 12 + cal.as_of.month - 1  # returns cover completed months
    months = max(last_month, 1)
    join = np.where(rng.random(n_ent) < 0.85, 0, rng.integers(0, months, n_ent))
    leave = np.where(
        rng.random(n_ent) < 0.06, join + 1 + (rng.random(n_ent) * (months - join - 1)).astype(np.int64), months
    )
    counts = leave - join
    ent = np.repeat(np.arange(n_ent), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    month = join[ent] + np.arange(len(ent)) - starts
    n = len(ent)
    walk = rng.normal(0, 0.03, n)
    cum = np.cumsum(walk)
    walk = cum - np.repeat(cum[np.cumsum(counts) - counts] - walk[np.cumsum(counts) - counts], counts)
    base = np.clip(rng.lognormal(math.log(45), 1.0, n_ent), 3, 5000)
    year_of = START.year + month // 12
    employees = np.maximum(np.round(base[ent] * np.exp(walk) * 1.03 ** (year_of - START.year)), 1).astype(np.int64)
    rate = prof.signing_rate - 0.004 * (cal.as_of.year - year_of)
    unsigned_share = np.clip((1 - rate) * rng.gamma(0.8, 1 / 0.8, n_ent)[ent], 0, 0.6)
    unsigned = rng.binomial(employees, unsigned_share)
    # each enterprise's latest return this year carries the rate the profile aims for (DESIGN §3)
    this_year = year_of == cal.as_of.year
    latest = np.zeros(n, dtype=bool)
    rows = np.flatnonzero(this_year)
    if len(rows):
        last_row = {int(e): int(r) for e, r in zip(ent[rows], rows, strict=True)}
        latest[list(last_row.values())] = True
        total = round((1 - prof.signing_rate) * employees[latest].sum())
        _force_total(rng, unsigned, latest, total, 0, employees)
    report = np.datetime64(f"{START.year}-01", "M") + month
    return pa.table(
        {
            "enterprise_id": _dictionary(ent_pool[ent], emp.ids),
            "district": _district_column(prof, n),
            "street": _dictionary(emp.street[ent_pool[ent]], [s.name for s in prof.streets]),
            "report_month": pa.array(report.astype("datetime64[D]")),
            "employees": pa.array(employees),
            "contracts_signed": pa.array(employees - unsigned),
        }
    )


_ENTITY_P_INSURED = (0.62, 0.03, 0.20, 0.04, 0.05, 0.06)
_ENTITY_P_UNINSURED = (0.30, 0.01, 0.60, 0.02, 0.03, 0.04)
_ENTITY_PREFIX = np.array([91, 91, 92, 52, 91, 91])


def _startups(ctx: _Context, prof: DistrictProfile) -> pa.Table:
    cal, rng = ctx.cal, _rng(ctx.seed, "startups", prof.name)
    prog = ctx.programme_of(prof.name)
    weights = cal.weights("office")
    insured_days, registered_plain = [], []
    for y in cal.years:
        lo, hi = cal.year_span(y)
        insured = round(_yearly_total(ctx, prog, "insured_startups", prof.insured_startups_per_year, y, 1.03))
        insured_days.append(_sample_days(rng, weights, insured, lo, hi))
        plain = round(0.3 * prof.insured_startups_per_year * cal.growth[y] * cal.year_elapsed(y))
        registered_plain.append(_sample_days(rng, weights, plain, lo, hi))
    first_insured = np.concatenate(insured_days).astype(np.int64)
    lag = (10 + rng.gamma(2.0, 18.0, len(first_insured))).astype(np.int64)
    early = first_insured - lag < 0  # insured in early 2022: registered between START and then
    lag[early] = (rng.random(int(early.sum())) * first_insured[early]).astype(np.int64)
    registered = np.concatenate([first_insured - lag, np.concatenate(registered_plain)])
    n_insured = len(first_insured)
    n = len(registered)
    insured_date = np.concatenate([first_insured, np.full(n - n_insured, -1)])
    is_insured = insured_date >= 0
    etype = np.where(is_insured, _pick(rng, _ENTITY_P_INSURED, n), _pick(rng, _ENTITY_P_UNINSURED, n))
    individual = etype == 2
    jobs = np.where(individual, rng.integers(1, 4, n), np.minimum(rng.geometric(0.25, n), 60)).astype(np.int64)
    local_jobs = rng.binomial(jobs, 0.55)
    incubated = ~individual & (rng.random(n) < 0.18)
    incubator = rng.integers(0, len(prof.incubators), n)

    # guaranteed loans: number and total per year, placed on startups registered 20–400 days before
    order = np.argsort(registered, kind="stable")
    reg_sorted = registered[order]
    loan_amount = np.zeros(n, dtype=np.int64)  # in 万元
    loan_day = np.full(n, -1, dtype=np.int64)
    for y in cal.years:
        lo, hi = cal.year_span(y)
        total = round(_yearly_total(ctx, prog, "loan_amount", prof.loans_per_year, y, 1.02) / 10_000)
        count = round(total / 55)
        days = _sample_days(rng, weights, count, lo, hi).astype(np.int64)
        a = np.searchsorted(reg_sorted, days - 400)
        b = np.searchsorted(reg_sorted, days - 20, side="right")
        ok = b > a
        drawn = order[a[ok] + (rng.random(int(ok.sum())) * (b[ok] - a[ok])).astype(np.int64)]
        drawn, first = np.unique(drawn, return_index=True)
        fresh = loan_day[drawn] < 0  # one loan per startup
        pick, days = drawn[fresh], days[ok][first][fresh]
        if len(pick) == 0:
            continue
        amount = np.where(
            individual[pick], rng.integers(10, 51, len(pick)), np.minimum(30 + rng.gamma(1.2, 30.0, len(pick)), 300)
        ).astype(np.int64)
        mask = np.ones(len(pick), dtype=bool)
        _force_total(rng, amount, mask, total, 10, 300)
        loan_amount[pick] = amount
        loan_day[pick] = days
    has_loan = loan_day >= 0

    codes = _unique_credit_codes(rng, _ENTITY_PREFIX[etype], prof.code, n)
    out_order = np.argsort(registered, kind="stable")
    o = out_order
    return pa.table(
        {
            "entity_id": pa.array(codes[o], type=pa.string()),
            "district": _district_column(prof, n),
            "registered_date": _dates(cal, registered[o]),
            "first_insured_date": _dates(cal, insured_date[o], ~is_insured[o]),
            "entity_type": _dictionary(etype[o], ENTITY_TYPES),
            "jobs_created": pa.array(jobs[o]),
            "local_jobs_created": pa.array(local_jobs[o], mask=rng.random(n) < 0.08),
            "guaranteed_loan_amount": _decimal(loan_amount[o] * 10_000.0, ~has_loan[o]),
            "loan_date": _dates(cal, loan_day[o], ~has_loan[o]),
            "incubator": _dictionary(incubator[o], prof.incubators, null=~incubated[o]),
        }
    )


# =========================================================================== communities, graduates

_CN_DIGITS = "零一二三四五六七八九"
_VILLAGES = (
    "辛庄",
    "东关",
    "西关",
    "南关",
    "北关",
    "大营",
    "小营",
    "前屯",
    "后屯",
    "王庄",
    "李庄",
    "张各庄",
    "马坊",
    "沙岭",
    "上庄",
    "下庄",
    "东营",
    "西营",
    "高庄",
    "石槽",
    "新城",
    "太平庄",
    "兴隆庄",
    "东沙",
    "西沙",
    "南庄",
    "北庄",
    "大东庄",
    "小东庄",
    "柳林",
    "杨家庄",
    "刘各庄",
    "白庙",
    "南街",
    "北街",
)


def _cn(k: int) -> str:
    """Chinese numeral for 1..99 as used in community names (第十二社区)."""
    tens, ones = divmod(k, 10)
    head = "" if tens == 0 else "十" if tens == 1 else _CN_DIGITS[tens] + "十"
    return head + (_CN_DIGITS[ones] if ones else "")


def _communities(ctx: _Context, prof: DistrictProfile) -> pa.Table:
    """社区 and 村 per street with quarterly headcounts of employment specialists; a few have none."""
    cal, rng = ctx.cal, _rng(ctx.seed, "communities", prof.name)
    names: list[str] = []
    ids: list[str] = []
    street_of: list[int] = []
    for i, st in enumerate(prof.streets):
        k = 5 + round(st.weight * 5) + int(rng.integers(0, 4))
        street_code = f"{prof.code}{i + 1:03d}"
        if st.name.endswith("街道"):
            stem, n_comm = st.name[: -len("街道")], k
        else:
            stem = st.name.removesuffix("回族乡").removesuffix("镇").removesuffix("乡")
            n_comm = max(1, k // 3)
        for j in range(n_comm):
            names.append(f"{stem}第{_cn(j + 1)}社区")
            ids.append(f"{street_code}{j + 1:03d}")
        villages: list[int] = rng.choice(len(_VILLAGES), size=k - n_comm, replace=False).tolist() if k > n_comm else []
        for j, v in enumerate(villages):
            names.append(f"{_VILLAGES[v]}村")
            ids.append(f"{street_code}{200 + j + 1:03d}")
        street_of += [i] * k
    ctx.street_codes[prof.name] = np.array([f"{prof.code}{i + 1:03d}" for i in range(len(prof.streets))])
    ctx.community_ids[prof.name] = np.array(ids)

    quarter_ends = [
        dt.date(y, m, d)
        for y in cal.years
        for m, d in ((3, 31), (6, 30), (9, 30), (12, 31))
        if dt.date(y, m, d) <= cal.as_of
    ]
    n_comm_total, n_snap = len(ids), len(quarter_ends)
    base = 1 + rng.binomial(2, 0.4, n_comm_total)
    change = rng.integers(-1, 2, (n_comm_total, n_snap)) * (rng.random((n_comm_total, n_snap)) < 0.15)
    spec = np.maximum(base[:, None] + change, 1)
    vacant = rng.random((n_comm_total, n_snap)) < np.linspace(0.06, 0.01, n_snap)[None, :]
    spec = np.where(vacant, 0, spec)
    if n_snap:
        spec[:, -1] = np.maximum(spec[:, -1], 1)
        zero = round((1 - prof.community_coverage) * n_comm_total)
        spec[rng.choice(n_comm_total, size=zero, replace=False), -1] = 0
    community = np.repeat(np.arange(n_comm_total), n_snap)
    snap = np.tile(np.arange(n_snap), n_comm_total)
    n = len(community)
    return pa.table(
        {
            "community_id": _dictionary(community, ids),
            "district": _district_column(prof, n),
            "street": _dictionary(np.array(street_of, dtype=np.int32)[community], [s.name for s in prof.streets]),
            "community_name": _dictionary(community, names),
            "specialists": pa.array(spec.ravel().astype(np.int64)),
            "as_of": pa.array(
                np.array(quarter_ends, dtype="datetime64[D]")[snap] if n_snap else np.zeros(0, "datetime64[D]")
            ),
        }
    )


_OUTCOMES_P = (0.62, 0.18, 0.08, 0.08, 0.04)


def _graduate_followups(ctx: _Context, prof: DistrictProfile) -> pa.Table:
    """离校未就业 graduates of each year, followed up from July; the latest cohort is still being reached."""
    cal, rng = ctx.cal, _rng(ctx.seed, "graduate_followups", prof.name)
    cohorts = [y for y in cal.years if dt.date(y, 7, 1) <= cal.as_of]
    sizes = [round(prof.graduates_per_year * cal.growth[y]) for y in cohorts]
    grad_year = np.repeat(np.array(cohorts, dtype=np.int64), sizes)
    n = len(grad_year)
    person = (
        _person_base(prof)
        + 150_000_000
        + (grad_year - 2000) * 100_000
        + np.concatenate([np.arange(s) for s in sizes] or [np.zeros(0, np.int64)])
    )
    start = np.array([cal.index(dt.date(int(y), 7, 1)) for y in cohorts], dtype=np.int64)
    day = np.repeat(start, sizes) + np.minimum(rng.gamma(2.0, 20.0, n), 170).astype(np.int64)
    missed = np.zeros(n, dtype=bool)
    missing = round((1 - prof.followup_coverage) * n)
    if n and missing:
        latest = np.flatnonzero(grad_year == grad_year.max())
        recent_share = min(round(missing * 0.7), len(latest))
        missed[rng.choice(latest, size=recent_share, replace=False)] = True
        rest = np.flatnonzero(~missed)
        missed[rng.choice(rest, size=min(missing - recent_share, len(rest)), replace=False)] = True
    missed |= day > cal.n - 1
    outcome = _pick(rng, _OUTCOMES_P, n)
    outcome = np.where((grad_year == cal.as_of.year) & (rng.random(n) < 0.15), 1, outcome)
    return pa.table(
        {
            "person_id": _person_ids(person),
            "district": _district_column(prof, n),
            "graduation_year": pa.array(grad_year),
            "followed_up": pa.array(~missed),
            "followup_date": _dates(cal, day, missed),
            "outcome": _dictionary(outcome, FOLLOWUP_OUTCOMES, null=missed),
        }
    )


# =========================================================================== progress reports, survey


def _month_ends(cal: _Calendar, since: dt.date) -> list[dt.date]:
    out: list[dt.date] = []
    y, m = since.year, since.month
    while True:
        end = dt.date(y + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1)
        if end > cal.as_of:
            return out
        out.append(end)
        y, m = y + m // 12, m % 12 + 1


def _progress_reports(ctx: _Context) -> pa.Table:
    """Monthly reports of every reported KPI, steered to REPORTED_AIMS; 'no_data' KPIs get none."""
    cal = ctx.cal
    aims = aimed_statuses({p.id: p.catalogue for p in ctx.programmes}, cal.as_of)
    kpi_ids: list[str] = []
    districts: list[str] = []
    period_end: list[dt.date] = []
    values: list[np.ndarray] = []
    units: list[str] = []
    for prog in ctx.programmes:
        for kpi in prog.catalogue.kpis:
            if not isinstance(kpi.measure, ReportedMeasure):
                continue
            status = aims.get(kpi.id)
            if status == "no_data":
                continue
            rng = _rng(ctx.seed, "progress", kpi.id)
            t = kpi.target
            since = max(t.start, START) if t is not None and t.start else prog.start
            ends = _month_ends(cal, since)
            if not ends:
                continue
            fraction = kpi.unit == "%" or (t is not None and t.value <= 1.0)
            if t is not None and status is not None:
                share = expected_share(t, cal.as_of, prog.start)
                if status == "achieved":
                    final = t.value * (1.0 if fraction else rng.uniform(1.02, 1.1))
                else:
                    final = t.value * share * _STATUS_PACE[status]
            else:
                lo, hi = _REPORTED_MAGNITUDE.get(kpi.unit, (10, 100))
                final = rng.uniform(lo, hi)
            steps = rng.gamma(2.0, 1.0, len(ends)) * np.linspace(0.7, 1.3, len(ends))
            period = t.period if t is not None else "cumulative"
            if kpi.measure.value_is == "per_period" or period == "month":
                path = final * steps / steps.sum() * len(ends) / 12 if period != "month" else np.full(len(ends), final)
            elif period in ("rate", "coverage"):
                path = np.clip(final + rng.normal(0, 0.01, len(ends)) * np.linspace(3, 0, len(ends)), 0, 1)
            elif period == "year":  # year-to-date values that restart each January
                year_of = np.array([e.year for e in ends])
                path = np.zeros(len(ends))
                for y in np.unique(year_of):
                    rows = year_of == y
                    goal = final if y == cal.as_of.year else (t.value if t is not None else final) * 1.02
                    path[rows] = goal * np.cumsum(steps[rows]) / steps[rows].sum()
            else:
                path = final * np.cumsum(steps) / steps.sum()
            path = np.round(path, 3) if fraction else np.round(path)
            keep = rng.random(len(ends)) > 0.04
            keep[-1] = True
            for e, v, k in zip(ends, path, keep, strict=True):
                if k:
                    kpi_ids.append(kpi.id)
                    districts.append(prog.profile.name)
                    period_end.append(e)
                    values.append(v)
                    units.append(kpi.lead_unit)
    n = len(kpi_ids)
    notes = np.where(np.array([e.month % 3 == 0 for e in period_end], dtype=bool), "季度核实数", "")
    return pa.table(
        {
            "kpi_id": _texts(kpi_ids),
            "district": _texts(districts),
            "period_end": pa.array(period_end, type=pa.date32()),
            "value": pa.array(np.array(values, dtype=float)),
            "unit_name": _texts(units),
            "note": pa.array(notes if n else np.zeros(0, dtype=str), type=pa.string(), mask=notes == "" if n else None),
        }
    )


_SURVEY_MEANS = np.array([3.7, 3.8, 3.9, 4.1, 3.9, 3.5, 3.3])


def _survey_responses(ctx: _Context, prof: DistrictProfile) -> pa.Table | None:
    """就业友好社会评价 waves each June and November while the district's programme runs."""
    prog = ctx.programme_of(prof.name)
    if not prof.survey or prog is None:
        return None
    cal, rng = ctx.cal, _rng(ctx.seed, "survey", prof.name)
    flat = np.ones(cal.n)
    days, waves = [], []
    wave = 0
    for y in range(prog.start.year, cal.as_of.year + 1):
        for m, d in ((6, 8), (11, 9)):
            lo = cal.index(dt.date(y, m, d))
            if lo >= cal.n:
                continue
            hi = min(lo + 21, cal.n)
            count = round(1300 * (hi - lo) / 21)
            days.append(_sample_days(rng, flat, count, lo, hi))
            waves.append(np.full(count, wave))
            wave += 1
    if not days:
        return None
    day, wave_no = np.concatenate(days), np.concatenate(waves)
    n = len(day)
    year, month = cal.year[day], cal.month[day]
    cols: dict[str, pa.Array] = {
        "response_id": _fixed_strings(
            ["WJ", prof.code, (year, 4), (month, 2), (_seq_in_year(year * 100 + month), 5)], n
        ),
        "district": _district_column(prof, n),
        "response_date": _dates(cal, day),
    }
    for k, (name, _) in enumerate(SURVEY_DIMENSIONS):
        score = np.clip(np.round(rng.normal(_SURVEY_MEANS[k] + 0.08 * wave_no, 0.85)), 1, 5).astype(np.int64)
        cols[name] = pa.array(score, mask=rng.random(n) < 0.02)
    return pa.table(cols)


# =========================================================================== assembly


def _arrow_type(kind: str) -> pa.DataType:
    return {
        "date": pa.date32(),
        "month": pa.date32(),
        "bool": pa.bool_(),
        "int": pa.int64(),
        "decimal": pa.float64(),
        "amount": pa.decimal128(18, 2),
    }.get(kind, pa.string())


def _finish(record: str, tables: list[pa.Table]) -> pa.Table:
    """One table per record type, columns exactly as records.py in its order."""
    rt = RECORD_TYPES[record]
    tables = [t for t in tables if t.num_rows]
    if not tables:
        return pa.schema([(c.name, _arrow_type(c.kind)) for c in rt.columns]).empty_table()
    table = pa.concat_tables(tables)
    if set(table.column_names) != set(rt.column_names):
        raise AssertionError(f"{record}: generated {sorted(table.column_names)}, spec {sorted(rt.column_names)}")
    return table.select(list(rt.column_names))


def generate(
    seed: int = 42,
    scale: float = 1.0,
    as_of: dt.date = DEFAULT_AS_OF,
    *,
    catalogues: Mapping[str, Catalogue] | None = None,
) -> dict[str, pa.Table]:
    """Every record type as an Arrow table (keys in records.py order); same arguments, same tables.

    scale multiplies placements, trainings and applications (1.0: about 100,000 placements and 20,000
    trainings); the other record types follow the catalogues' targets and do not scale.
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, not {scale}")
    cal = _Calendar(as_of)
    programmes = _programmes(_load(catalogues))
    profiles = list(DISTRICT_PROFILES.values())
    ctx = _Context(seed, scale, cal, programmes, {})
    for p in profiles:
        ctx.employers[p.name] = _employer_pool(seed, p, int(np.clip(ctx.placements(p) / 6, 500, 8000)))
    parts: dict[str, list[pa.Table]] = {name: [] for name in RECORD_TYPES}
    for prof in profiles:
        parts["communities"].append(_communities(ctx, prof))
    for prof in profiles:
        parts["placements"].append(_placements(ctx, prof))
        parts["trainings"].append(_trainings(ctx, prof))
        apps = _applications(ctx, prof, [p for p in programmes if p.profile.name == prof.name])
        if apps is not None:
            parts["applications"].append(apps)
        parts["events"].append(_events(ctx, prof))
        parts["vacancies"].append(_vacancies(ctx, prof))
        parts["disputes"].append(_disputes(ctx, prof))
        parts["contract_returns"].append(_contract_returns(ctx, prof))
        parts["startups"].append(_startups(ctx, prof))
        parts["graduate_followups"].append(_graduate_followups(ctx, prof))
        survey = _survey_responses(ctx, prof)
        if survey is not None:
            parts["survey_responses"].append(survey)
    parts["progress_reports"].append(_progress_reports(ctx))
    return {name: _finish(name, tables) for name, tables in parts.items()}


Progress = Callable[[str, int, int], None]


def _write(path: Path, tables: Mapping[str, pa.Table], *, replace: bool, progress: Progress | None) -> dict[str, int]:
    """Load the tables into a new database file next to `path`, then move it into place."""
    building = path.with_name(path.name + ".building")
    for leftover in (building, Path(f"{building}.wal")):
        leftover.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    try:
        with Store.open(building) as store:
            for i, (name, table) in enumerate(tables.items(), 1):
                counts[name] = store.bulk_insert(name, table)
                if progress is not None:
                    progress(name, i, len(tables))
    except BaseException:
        building.unlink(missing_ok=True)
        raise
    if path.exists():
        if not replace:
            building.unlink(missing_ok=True)
            raise DemoDatabaseExists(_exists_message(path))
        path.unlink()
    Path(f"{path}.wal").unlink(missing_ok=True)
    os.replace(building, path)
    return counts


def _exists_message(path: Path, how: str = "replace=True") -> str:
    return f"数据库文件已存在：{path}；如需重建演示数据请指定 {how}。/ {path} exists; pass {how} to rebuild it."


def build_demo(
    db: Path | str,
    *,
    seed: int = 42,
    scale: float = 1.0,
    as_of: dt.date = DEFAULT_AS_OF,
    progress: Progress | None = None,
    replace: bool = False,
    catalogues: Mapping[str, Catalogue] | None = None,
) -> dict[str, int]:
    """Create a demo database file at `db` and return the rows written per record type.

    Refuses an existing file unless replace=True. progress(record_type, done, total) is called after each
    table; the file appears only when complete.
    """
    path = Path(db)
    if path.exists() and not replace:
        raise DemoDatabaseExists(_exists_message(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tables = generate(seed, scale, as_of, catalogues=catalogues)
    return _write(path, tables, replace=replace, progress=progress)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m metrics.demo [DB] [--scale N] [--seed N] [--as-of DATE] [--replace]`."""
    from metrics.storage.store import default_db_path

    parser = argparse.ArgumentParser(prog="python -m metrics.demo", description="Build the demo database.")
    parser.add_argument("db", nargs="?", type=Path, default=default_db_path())
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=DEFAULT_AS_OF)
    parser.add_argument("--replace", action="store_true", help="rebuild an existing file")
    args = parser.parse_args(argv)
    if args.db.exists() and not args.replace:
        print(_exists_message(args.db, "--replace"), file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    tables = generate(args.seed, args.scale, args.as_of)
    t1 = time.perf_counter()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    counts = _write(args.db, tables, replace=args.replace, progress=None)
    t2 = time.perf_counter()
    for name, rows in counts.items():
        print(f"{name:20s} {rows:>12,}")
    size = args.db.stat().st_size / 1e6
    print(f"generate {t1 - t0:.1f} s · load {t2 - t1:.1f} s · {args.db} {size:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
