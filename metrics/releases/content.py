"""What a press release publishes (统计发布的内容): headline figures with drafted Chinese statements, and
breakdown tables already suppressed and rounded (metrics.releases.disclosure), from one weekly snapshot.

Pure content: it reads the snapshot and the engine's breakdowns and writes nothing. Freezing, numbering,
hashing and permissions are the service's (metrics.releases.service).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from metrics.catalogue import Catalogue, Kpi, load_catalogues
from metrics.catalogue.models import (
    CountDistinctMeasure,
    CountMeasure,
    CoverageMeasure,
    RatioMeasure,
    SqlMeasure,
)
from metrics.contract.errors import KpiError
from metrics.contract.records import RECORD_TYPES
from metrics.kpi.engine import Engine
from metrics.kpi.snapshots import load_snapshot
from metrics.present.format import SHARE_UNITS, format_date, format_value
from metrics.releases.disclosure import DEFAULT_THRESHOLD, MIN_THRESHOLD, Flag, round_half_up, suppress_counts
from metrics.storage.store import Store

__all__ = [
    "PRIMARY_LABEL",
    "SECONDARY_LABEL",
    "ReleaseError",
    "build_content",
    "default_kpis",
    "dimension_label",
    "source_note",
    "statement_zh",
]

FORMAT_VERSION = 1
SECONDARY_LABEL = "*"
PRIMARY_LABEL = "<{threshold}"
# Breakdowns the press may see, in order of preference; identifying ones (employer, project) never.
PRESS_DIMENSIONS = (
    "street",
    "person_group",
    "channel",
    "event_type",
    "course_category",
    "entity_type",
    "industry",
    "closure_method",
    "applicant_type",
    "outcome",
    "certificate_level",
    "graduation_year",
    "is_local",
    "completed",
)
TABLES_PER_KPI = 2
# Headline counts of people (or one-person businesses, 户) from 1 to threshold−1 are suppressed; a headline of
# 2 recruitment events or 6 restaurants reveals nobody and is published. Breakdown cells are suppressed
# whatever they count, with the published headline as their known total.
PEOPLE_UNITS = frozenset({"人", "人次", "户", "名"})
COUNT_MEASURES = (CountMeasure, CountDistinctMeasure)
RATE_MEASURES = (RatioMeasure, CoverageMeasure, SqlMeasure)


class ReleaseError(KpiError, ValueError):
    """A release request that cannot be done (no snapshot, not a draft …); the message is Chinese."""


def dimension_label(kpi: Kpi, dimension: str, lang: str = "zh") -> str:
    """A breakdown dimension as a person reads it: the upload template's Chinese header, or its name."""
    m = kpi.measure
    source = getattr(m, "source", None) or getattr(getattr(m, "numerator", None), "source", None)
    if lang == "zh" and source in RECORD_TYPES and dimension in RECORD_TYPES[source].column_names:
        return RECORD_TYPES[source].column(dimension).header_zh
    return dimension.replace("_", " ")


def _kind(kpi: Kpi) -> str:
    if isinstance(kpi.measure, COUNT_MEASURES):
        return "count"
    if isinstance(kpi.measure, RATE_MEASURES) or kpi.unit in SHARE_UNITS:
        return "rate"
    return "amount"


def default_kpis(store: Store, as_of: dt.date, catalogues: dict[str, Catalogue] | None = None) -> list[str]:
    """The KPIs a release carries unless the office picks others: every targeted KPI with a value."""
    cats = catalogues or load_catalogues()
    snap = load_snapshot(store, as_of)
    with_value = set(snap.loc[snap["actual"].notna(), "kpi_id"])
    return [k.id for cat in cats.values() for k in cat.kpis if k.target is not None and k.id in with_value]


def _published_number(value: float, kind: str, unit: str) -> float | int:
    """The one rounding rule of releases: counts whole, rates in % to one decimal, amounts to two decimals."""
    if kind == "count":
        return int(round_half_up(value, 0))
    if kind == "rate" or unit in SHARE_UNITS:
        return round_half_up(value * 100, 1)
    return round_half_up(value, 2)


def _time_phrase(kpi: Kpi, start: dt.date, as_of: dt.date) -> str:
    period = kpi.target.period if kpi.target else None
    if period == "cumulative" or (period is None and start.year < as_of.year):
        return f"自{format_date(start)}以来"
    if period == "month" or (start.day == 1 and start.month == as_of.month and start.month != 1):
        return "本月"
    if period == "coverage":
        return ""
    return "今年"


def _percent(value: float) -> str:
    """A goal as people write it: 98% or 97.5% (an achieved value keeps its decimal: 95.0%)."""
    v = round_half_up(value, 1)
    return f"{v:.0f}%" if v == int(v) else f"{v:.1f}%"


def _name_without_period(name: str) -> str:
    for prefix in ("年度", "每月", "累计"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def statement_zh(kpi: Kpi, headline: dict[str, Any], as_of: dt.date) -> str:
    """A drafted sentence for the press, e.g. '截至2026年10月31日，全区今年已开展各类招聘活动285场，完成年度目标的95.0%。'"""
    start = dt.date.fromisoformat(headline["window_start"])
    when = _time_phrase(kpi, start, as_of)
    if headline["kind"] == "rate" and when.startswith("自"):
        when = ""  # a share "since 2025" reads oddly: the share as of the date
    cumulative = when.startswith("自")
    value_text = "不足" + headline["display"].lstrip("<") if headline["suppressed"] else headline["display"]
    if kpi.statement_zh:
        core = f"{when}{kpi.statement_zh}{value_text}"
    else:
        name = _name_without_period(kpi.name_zh)
        core = f"{when}{'累计' if cumulative and not name.startswith('累计') else ''}{name}为{value_text}"
    tail = ""
    t = kpi.target
    if t is not None and not headline["suppressed"]:
        if headline["kind"] == "rate" or t.period in ("rate", "coverage"):
            goal = _percent(t.value * 100)
            word = "不低于" if t.comparator == ">=" else "不高于"
            actual = headline["value"]
            met = actual >= round_half_up(t.value * 100, 1) if t.comparator == ">=" else actual <= t.value * 100
            if met:
                tail = f"，达到{word}{goal}的目标"
            else:
                gap = round_half_up(abs(t.value * 100 - actual), 1)
                tail = f"，目标为{word}{goal}，相差{gap:.1f}个百分点"
        elif headline["completion"] is not None:
            goal_name = {"year": "年度目标", "month": "月度目标"}.get(t.period)
            if goal_name is None:
                goal_name = f"{t.deadline.year}年目标" if t.deadline else "目标"
            tail = f"，完成{goal_name}的{headline['completion']:.1f}%"
    return f"截至{format_date(as_of)}，全区{core}{tail}。"


def _headline(kpi: Kpi, row: dict[str, Any], threshold: int, as_of: dt.date) -> dict[str, Any]:
    kind = _kind(kpi)
    actual = float(row["actual"])
    num, den = row.get("numerator"), row.get("denominator")
    num, den = _number(num), _number(den)
    suppressed = False
    if kind == "count":
        suppressed = kpi.unit in PEOPLE_UNITS and 1 <= actual < threshold
    elif kind == "rate" and isinstance(kpi.measure, RATE_MEASURES):
        suppressed = any(v is not None and 1 <= v < threshold for v in (num, den))
    value = _published_number(actual, kind, kpi.unit)
    label = PRIMARY_LABEL.format(threshold=threshold)
    if suppressed:
        display = label + (kpi.unit if kind == "count" else "")
        if kind == "rate":
            display = SECONDARY_LABEL
    elif kind == "rate" or kpi.unit in SHARE_UNITS:
        display = f"{value:.1f}%"
    else:
        display = format_value(float(value), kpi.unit).replace(",", "")
    target = kpi.target.value if kpi.target else None
    completion = None
    if target and not suppressed and kind != "rate" and kpi.unit not in SHARE_UNITS:
        # The raw ratio, not metrics.kpi.status.progress (capped at 100%, ceilings mirrored): the published
        # statement says "完成年度目标的112.3%" when a target is beaten, and the press pack's chart footer defines
        # 完成目标进度 = 实际值 ÷ 目标值. Capping would change what releases publish. Every count or amount target
        # in the catalogues is a floor (>=), so the mirrored ceiling rule would not apply here anyway.
        completion = round_half_up(actual / target * 100, 1)
    h: dict[str, Any] = {
        "kpi_id": kpi.id,
        "name": kpi.name_zh,
        "unit": kpi.unit,
        "kind": kind,
        "value": None if suppressed else value,
        "display": display,
        "suppressed": suppressed,
        "numerator": None if suppressed or num is None or kind != "rate" else int(round_half_up(num, 0)),
        "denominator": None if suppressed or den is None or kind != "rate" else int(round_half_up(den, 0)),
        "target": None if target is None else _published_number(target, kind, kpi.unit),
        "target_display": None
        if target is None
        else (
            _percent(target * 100)
            if kind == "rate" or kpi.unit in SHARE_UNITS
            else format_value(target, kpi.unit).replace(",", "")
        ),
        "comparator": kpi.target.comparator if kpi.target else None,
        "completion": completion,
        "window_start": str(row["window_start"])[:10],
        "window_end": str(row["window_end"])[:10],
        "clause": kpi.clause,
    }
    h["statement"] = statement_zh(kpi, h, as_of)
    return h


def _number(value: object) -> float | None:
    """A stored number, or None for NULL / NaN (pandas reads NULL doubles as NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)  # type: ignore[arg-type]


def _cell_label(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "未填报"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _shown(value: float, flag: Flag, threshold: int) -> int | str:
    if flag == "primary":
        return PRIMARY_LABEL.format(threshold=threshold)
    if flag == "secondary":
        return SECONDARY_LABEL
    return int(round_half_up(value, 0))


def _mismatch(kpi: Kpi, dim_label: str) -> str:
    return (
        f"{kpi.name_zh}：按{dim_label}的分组合计与快照不一致（快照后数据有更正，或同一对象计入多个分组），"
        "该表未收入，以免合计与主要指标对不上"
    )


def _table(
    engine: Engine,
    cat: Catalogue,
    kpi: Kpi,
    dimension: str,
    headline: dict[str, Any],
    snap: dict[str, Any],
    threshold: int,
    as_of: dt.date,
) -> tuple[dict[str, Any] | None, str | None]:
    """One suppressed breakdown table, or (None, why not) when it cannot be published consistently."""
    df = engine.breakdown(kpi.id, dimension, as_of)
    dim_label = dimension_label(kpi, dimension)
    labels = [_cell_label(v) for v in df[dimension]]
    nums = [int(round_half_up(float(v), 0)) for v in df["numerator"].fillna(0.0)]
    table: dict[str, Any] = {
        "programme": cat.programme.id,
        "kpi_id": kpi.id,
        "title": f"{kpi.name_zh}：按{dim_label}",
        "dimension": dimension,
        "dimension_label": dim_label,
        "kind": headline["kind"],
        "unit": kpi.unit,
        "withheld": False,
        "notes": [],
    }
    snap_num = snap["actual"] if headline["kind"] == "count" else snap.get("numerator")
    if snap_num is None or int(round_half_up(float(snap_num), 0)) != sum(nums):
        return None, _mismatch(kpi, dim_label)
    if headline["kind"] == "count":
        res = suppress_counts(nums, threshold=threshold, total_public=not headline["suppressed"])
        table["columns"] = [dim_label, f"{_name_without_period(kpi.name_zh)}（{kpi.unit}）"]
        table["rows"] = [[lab, _shown(v, f, threshold)] for lab, v, f in zip(labels, nums, res.flags, strict=True)]
        table["total"] = ["合计", headline["value"] if not headline["suppressed"] else headline["display"]]
        withheld = res.withheld
    else:
        dens = [int(round_half_up(float(v), 0)) for v in df["denominator"].fillna(0.0)]
        snap_den = snap.get("denominator")
        if snap_den is None or int(round_half_up(float(snap_den), 0)) != sum(dens):
            return None, _mismatch(kpi, dim_label)
        total_num, total_den = sum(nums), sum(dens)
        rn = suppress_counts(nums, threshold=threshold, total_public=not 1 <= total_num < threshold)
        rd = suppress_counts(dens, threshold=threshold, total_public=not 1 <= total_den < threshold)
        table["columns"] = [dim_label, "分子", "分母", "比率（%）"]
        rows = []
        for lab, n, d, fn, fd in zip(labels, nums, dens, rn.flags, rd.flags, strict=True):
            rate: float | str = SECONDARY_LABEL if fn or fd or d == 0 else round_half_up(n / d * 100, 1)
            if d == 0 and not (fn or fd):
                rate = "—"
            rows.append([lab, _shown(n, fn, threshold), _shown(d, fd, threshold), rate])
        table["rows"] = rows
        table["total"] = [
            "合计",
            headline["numerator"] if headline["numerator"] is not None else SECONDARY_LABEL,
            headline["denominator"] if headline["denominator"] is not None else SECONDARY_LABEL,
            headline["value"] if not headline["suppressed"] else SECONDARY_LABEL,
        ]
        withheld = rn.withheld or rd.withheld
    if withheld:
        table["rows"] = []
        table["withheld"] = True
        table["notes"].append("分组数值过小，无法在不泄露个体信息的前提下公布，本表不予公布分组数据。")
    return table, None


def source_note(as_of: dt.date, threshold: int) -> str:
    return (
        f"数据截至{format_date(as_of)}。来源：就业工作指标监测平台汇总的各部门业务记录，经就业工作领导小组办公室审核发布。"
        f"为保护个人信息，1至{threshold - 1}的数值显示为“<{threshold}”（场次、家数等不涉及个人的总数照常公布），"
        "为防止推算而隐藏的数值及由其计算的比率显示为“*”；"
        "比率以百分比表示，保留一位小数（四舍五入）。"
    )


def build_content(
    store: Store,
    as_of: dt.date,
    *,
    kpi_ids: list[str] | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    title: str | None = None,
    catalogues: dict[str, Catalogue] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Everything a release publishes, from the snapshot of `as_of`; and the reviewer's warnings."""
    if threshold < MIN_THRESHOLD:
        raise ReleaseError(f"小数抑制阈值至少为{MIN_THRESHOLD} / threshold must be at least {MIN_THRESHOLD}")
    cats = catalogues or load_catalogues()
    snap_df = load_snapshot(store, as_of)
    if snap_df.empty:
        raise ReleaseError(f"{format_date(as_of)}没有周快照，请先生成快照 / no snapshot for {as_of}")
    snap: dict[str, dict[str, Any]] = {
        str(r["kpi_id"]): {str(k): v for k, v in r.items()} for r in snap_df.to_dict("records")
    }
    chosen = kpi_ids if kpi_ids is not None else default_kpis(store, as_of, cats)
    known = {k.id for c in cats.values() for k in c.kpis}
    unknown = [k for k in chosen if k not in known]
    if unknown:
        raise ReleaseError(f"未知指标 / unknown KPIs: {', '.join(unknown)}")
    warnings: list[str] = []
    engine = Engine(store, cats)
    programmes: list[dict[str, Any]] = []
    tables: list[dict[str, Any]] = []
    for cat in cats.values():
        headlines = []
        for kpi in cat.kpis:
            if kpi.id not in chosen:
                continue
            row = snap.get(kpi.id)
            if row is None or _number(row["actual"]) is None:
                warnings.append(f"{kpi.name_zh}：快照中无数值，未收入")
                continue
            h = _headline(kpi, row, threshold, as_of)
            headlines.append(h)
            if h["kind"] == "amount":
                continue
            dims = [d for d in PRESS_DIMENSIONS if d in kpi.dimensions][:TABLES_PER_KPI]
            for dim in dims:
                try:
                    t, why = _table(engine, cat, kpi, dim, h, row, threshold, as_of)
                except ValueError as exc:
                    t, why = None, f"{kpi.name_zh}：按{dimension_label(kpi, dim)}无法分组（{exc}）"
                if why:
                    warnings.append(why)
                if t is not None:
                    t["key"] = f"T{len(tables) + 1:02d}"
                    tables.append(t)
        if headlines:
            p = cat.programme
            programmes.append(
                {
                    "id": p.id,
                    "title": p.title,
                    "short_title": p.short_title_zh,
                    "district": p.district,
                    "issuer": p.issuer,
                    "headlines": headlines,
                }
            )
    if not programmes:
        raise ReleaseError("所选指标在该快照中均无数值，无法生成发布 / nothing to publish")
    content = {
        "format": FORMAT_VERSION,
        "title": title or f"就业工作主要指标（截至{format_date(as_of)}）",
        "as_of": as_of.isoformat(),
        "threshold": threshold,
        "source_note": source_note(as_of, threshold),
        "programmes": programmes,
        "tables": tables,
    }
    return content, warnings
