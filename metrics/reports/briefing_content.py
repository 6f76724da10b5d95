"""The weekly briefing's content: engine results, status counts, what changed since last week's snapshot,
the biggest movers in progress (metrics.kpi.status.progress), off-track and at-risk KPIs, stale data,
overdue tasks, and the method notes (built from the status rule's thresholds). No HTML here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from metrics.catalogue import Catalogue, load_catalogues
from metrics.kpi.engine import Engine, KpiResult
from metrics.kpi.freshness import REPORTED_WITHIN_DAYS, stale_data, stale_reported_kpis
from metrics.kpi.snapshots import load_snapshot, previous_snapshot_date
from metrics.kpi.status import (
    AT_RISK_PACE,
    ON_TRACK_PACE,
    STATUSES,
    TOLERANCE,
    URGENCY,
    pace_bands,
    progress,
    rule_notes,
)
from metrics.storage import clock
from metrics.storage.store import Store

__all__ = ["BriefingData", "Mover", "StatusChange", "collect_briefing", "method_notes"]

TOP_MOVERS = 8
BAD = ("at_risk", "off_track")
OVERDUE_COLUMNS = ("task_id", "title", "lead_unit", "due_date", "days_overdue")


@dataclass
class StatusChange:
    """A KPI whose status moved since last week's snapshot into one the briefing reports."""

    kpi_id: str
    programme: str
    kind: str  # newly_off_track | newly_at_risk | newly_achieved
    before: str | None  # status in the snapshot; None: the KPI was not in it
    after: str
    result: KpiResult


@dataclass
class Mover:
    """A KPI's progress (actual ÷ target) last week and now."""

    kpi_id: str
    programme: str
    before_actual: float
    after_actual: float
    before_progress: float
    after_progress: float
    result: KpiResult
    series: pd.DataFrame | None = None  # date, actual, expected (Engine.series)

    @property
    def change(self) -> float:
        return self.after_progress - self.before_progress


@dataclass
class BriefingData:
    """Everything the page shows, computed once; render_briefing turns it into HTML in either language."""

    as_of: dt.date
    results: list[KpiResult]
    counts: dict[str, int]
    programme_counts: dict[str, dict[str, int]]
    previous_date: dt.date | None
    changes: list[StatusChange]
    movers: list[Mover]
    attention: list[KpiResult]
    stale: pd.DataFrame
    stale_reported: pd.DataFrame
    overdue: pd.DataFrame | None
    data_version: int
    generated_at: dt.datetime
    skipped_new_period: list[str] = field(default_factory=list)


def _count(results: list[KpiResult]) -> dict[str, int]:
    c = Counter(r.status for r in results)
    return {s: c.get(s, 0) for s in STATUSES}


def _snapshot_map(store: Store, day: dt.date) -> dict[str, dict[str, Any]]:
    df = load_snapshot(store, day)
    out: dict[str, dict[str, Any]] = {}
    for raw in df.to_dict("records"):
        rec = {str(k): (None if _isna(v) else v) for k, v in raw.items()}
        out[str(rec["kpi_id"])] = rec
    return out


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _as_date(v: Any) -> dt.date | None:
    if v is None or _isna(v):
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return pd.Timestamp(v).date()
    except (TypeError, ValueError):
        return None


def _change_kind(before: str | None, after: str) -> str | None:
    if after == "off_track" and before != "off_track":
        return "newly_off_track"
    if after == "at_risk" and before not in BAD:
        return "newly_at_risk"
    if after == "achieved" and before != "achieved":
        return "newly_achieved"
    return None


def _sparkline_series(engine: Engine, r: KpiResult, as_of: dt.date) -> pd.DataFrame | None:
    weeks = (r.window_end - r.window_start).days / 7
    grain = "week" if weeks <= 26 else "month"
    try:
        return engine.series(r.kpi_id, as_of, grain)
    except (KeyError, ValueError):  # pragma: no cover - a KPI the engine cannot trend
        return None


def collect_briefing(
    store: Store,
    as_of: dt.date,
    *,
    catalogues: dict[str, Catalogue] | None = None,
    overdue_tasks: pd.DataFrame | None = None,
    generated_at: dt.datetime | None = None,
    sparklines: bool = True,
) -> BriefingData:
    """Compute the briefing's numbers: engine results, changes against last week's snapshot, stale data."""
    cats = catalogues if catalogues is not None else load_catalogues()
    engine = Engine(store, cats)
    results = engine.compute(as_of)
    counts = _count(results)
    programme_counts = {pid: _count([r for r in results if r.programme == pid]) for pid in cats}

    previous = previous_snapshot_date(store, as_of)
    changes: list[StatusChange] = []
    movers: list[Mover] = []
    skipped: list[str] = []
    if previous is not None:
        before = _snapshot_map(store, previous)
        for r in results:
            b = before.get(r.kpi_id)
            kind = _change_kind(b["status"] if b else None, r.status)
            if kind is not None:
                changes.append(StatusChange(r.kpi_id, r.programme, kind, b["status"] if b else None, r.status, r))
            if b is None:
                continue
            if _as_date(b["window_start"]) != r.window_start:
                skipped.append(r.kpi_id)  # a new period began: progress is not comparable
                continue
            p0, p1 = progress(b["actual"], b["target"], r.comparator), progress(r.actual, r.target, r.comparator)
            if p0 is None or p1 is None or abs(p1 - p0) < 1e-12:
                continue
            movers.append(Mover(r.kpi_id, r.programme, float(b["actual"]), float(r.actual or 0.0), p0, p1, r))
        order = {"newly_off_track": 0, "newly_at_risk": 1, "newly_achieved": 2}
        changes.sort(key=lambda c: order[c.kind])
        movers.sort(key=lambda m: -abs(m.change))
        movers = movers[:TOP_MOVERS]
        if sparklines:
            for m in movers:
                m.series = _sparkline_series(engine, m.result, as_of)

    attention = sorted((r for r in results if r.status in BAD), key=lambda r: URGENCY[r.status])
    overdue = None
    if overdue_tasks is not None:
        missing = [c for c in OVERDUE_COLUMNS if c not in overdue_tasks.columns]
        if missing:
            raise ValueError(f"overdue_tasks lacks columns {missing}; expected {list(OVERDUE_COLUMNS)}")
        overdue = overdue_tasks.sort_values("days_overdue", ascending=False, kind="stable")
    return BriefingData(
        as_of=as_of,
        results=results,
        counts=counts,
        programme_counts=programme_counts,
        previous_date=previous,
        changes=changes,
        movers=movers,
        attention=attention,
        stale=stale_data(store, as_of, cats),
        stale_reported=stale_reported_kpis(store, as_of, cats),
        overdue=overdue,
        data_version=store.data_version(),
        generated_at=generated_at or clock.now().replace(microsecond=0),
        skipped_new_period=skipped,
    )


METHOD: dict[str, list[str]] = {
    "zh": [
        "无数据：统计期内没有记录，不视为零进度。监测指标不设目标、不评状态。",
        "完成进度 = 实际 ÷ 目标，最高100%；上限类指标未超过上限为100%，超过时为上限 ÷ 实际。"
        "“上周”指统计截至日前至少6天的最近一次周快照，所示为当时的数值，此后的数据更正不改变快照；"
        "进入新统计期的指标不参与变化比较。",
        "数据时效：按该区最近一次上传该类数据的时间计算；未经上传导入的数据（如演示数据）按数据本身的最新日期计算；"
        f"超过该类数据的应更新周期即列为未按时更新。填报类指标{REPORTED_WITHIN_DAYS}天内没有填报即列出。",
        "数字按中文习惯显示（万、亿），百分比保留一位小数；导出数据保留原始数值。",
    ],
    "en": [
        "No data: no records in the window, not shown as zero progress. Monitoring KPIs have no target and no status.",
        "Progress = actual ÷ target, at most 100%; a ceiling is 100% while the actual is under it, else ceiling ÷ "
        "actual. 'Last week' is the latest weekly snapshot at least six days before the date, as stored then; later "
        "corrections do not change it. KPIs that entered a new period are not compared.",
        "Freshness: days since the district's last upload of that record type; rows loaded without an upload (demo "
        "data) count from their latest data date; beyond the record type's expected frequency the data is stale. "
        f"Reported KPIs are listed after {REPORTED_WITHIN_DAYS} days without a report.",
    ],
}


def method_notes(cats: dict[str, Catalogue], lang: str) -> list[str]:
    """The page's method notes: the status rule with its default thresholds, the KPIs that override them
    in their catalogue, then the notes on progress, snapshots, freshness and numbers."""
    notes = rule_notes(lang)
    overrides = []
    for cat in cats.values():
        for k in cat.kpis:
            t = k.target
            if t is None:
                continue
            name = k.name_zh if lang == "zh" else k.name_en
            if t.period in ("rate", "coverage"):
                if t.tolerance != TOLERANCE:
                    pts = f"{t.tolerance * 100:g}"
                    overrides.append(f"{name}（{pts}个百分点）" if lang == "zh" else f"{name} ({pts} points)")
            elif (t.on_track_pace, t.at_risk_pace) != (ON_TRACK_PACE, AT_RISK_PACE):
                on, risk = pace_bands(t)
                sign = "≥" if t.higher_is_better else "≤"
                overrides.append(
                    f"{name}（{sign}{on:.2f} 正常，{sign}{risk:.2f} 有风险）"
                    if lang == "zh"
                    else f"{name} ({sign} {on:.2f} on track, {sign} {risk:.2f} at risk)"
                )
    if overrides:
        head = "目录另有规定的指标：" if lang == "zh" else "KPIs with their own thresholds in the catalogue: "
        notes.append(head + ("；" if lang == "zh" else "; ").join(overrides) + ("。" if lang == "zh" else "."))
    return notes + METHOD[lang]
