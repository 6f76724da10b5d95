"""What every record generator shares for one build: the calendar, the programmes, each district's
employer pool (names, credit codes, streets, industries) and the volume rules (placements, yearly totals
from a KPI's target while its programme runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from metrics.contract.records import RECORD_TYPES
from metrics.demo.aims import Programme
from metrics.demo.arrays import _dictionary, _pick, _rng
from metrics.demo.ids import _unique_credit_codes
from metrics.demo.profiles import DISTRICT_PROFILES, PLACEMENTS_PER_YEAR, DistrictProfile
from metrics.demo.seasons import Calendar

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
class Employers:
    """A district's employers: credit code, name, street and industry (index into the profile's list)."""

    ids: np.ndarray
    names: np.ndarray
    street: np.ndarray
    industry: np.ndarray


def _employer_pool(seed: int, prof: DistrictProfile, size: int) -> Employers:
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
    return Employers(
        ids=_unique_credit_codes(rng, np.full(size, 91), prof.code, size),
        names=names,
        street=_pick(rng, weights, size),
        industry=industry.astype(np.int32),
    )


def _popular(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    """n draws from 0..size-1 where a few employers take a large share (as in real ledgers)."""
    return np.minimum((size * rng.random(n) ** 2.2).astype(np.int64), size - 1)


@dataclass
class Context:
    seed: int
    scale: float
    cal: Calendar
    programmes: list[Programme]
    employers: dict[str, Employers]
    community_ids: dict[str, np.ndarray] = field(default_factory=dict)
    street_codes: dict[str, np.ndarray] = field(default_factory=dict)

    def programme_of(self, district: str) -> Programme | None:
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


def _dates(cal: Calendar, day: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(cal.days[np.clip(day, 0, cal.n - 1)], mask=null)


def _seq_in_year(year: np.ndarray) -> np.ndarray:
    """0, 1, 2 … restarting each year, for rows sorted by date."""
    first = np.searchsorted(year, year, side="left")
    return np.arange(len(year)) - first


def _seq_from(cal: Calendar, year: np.ndarray, seq_start: Mapping[int, int] | None) -> np.ndarray:
    """_seq_in_year, each year's numbers going on from seq_start[year] (a chunked build's earlier pieces)."""
    seq = _seq_in_year(year)
    if not seq_start:
        return seq
    return seq + np.array([seq_start.get(y, 0) for y in cal.years], dtype=np.int64)[year - cal.years[0]]


def _yearly_total(
    ctx: Context, prog: Programme | None, role: str, base: float, year: int, past_pace: float = 1.04
) -> float:
    """A year's volume: from the KPI target while the programme runs, else the district's base with growth."""
    cal = ctx.cal
    target = prog.target(role) if prog is not None else None
    elapsed = cal.year_elapsed(year)
    if target is not None and prog is not None and year >= prog.start.year:
        pace = prog.profile.aims.get(role, 1.0) if year == cal.as_of.year else past_pace
        return target.value * pace * elapsed
    return base * cal.growth[year] * elapsed


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
