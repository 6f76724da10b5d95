"""Communities and villages per street with quarterly headcounts of employment specialists, and the follow-up
of each year's graduates not yet employed (离校未就业), steered to the coverage targets.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from metrics.contract.records import FOLLOWUP_OUTCOMES
from metrics.demo.arrays import _dictionary, _pick, _rng
from metrics.demo.context import Context, _dates, _district_column, _person_base
from metrics.demo.ids import _person_ids
from metrics.demo.profiles import DistrictProfile

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


def _communities(ctx: Context, prof: DistrictProfile) -> pa.Table:
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


def _graduate_followups(ctx: Context, prof: DistrictProfile) -> pa.Table:
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
