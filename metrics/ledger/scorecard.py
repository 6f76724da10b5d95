"""Department scorecard: for each lead unit (牵头单位), how its tasks and reports stand on a date.

Leadership and the office compare units (each district's unit on its own row); a department sees its own row. The figures come from the task
ledger (metrics.ledger.queries) and, for reporting timeliness, from the same 45-day rule as the stale-data list
(metrics.kpi.freshness), so every page counts alike. Also the overdue-task frame the weekly briefing takes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pandas as pd

from metrics.auth.access import AccessDenied, Principal, check
from metrics.auth.users import logged_refusals
from metrics.catalogue import load_catalogues
from metrics.catalogue.models import ReportedMeasure
from metrics.kpi.freshness import stale_reported_kpis
from metrics.ledger.queries import overdue_milestones, task_ledger
from metrics.ledger.tasks import Catalogues, task_refs
from metrics.storage.store import Store

__all__ = ["OVERDUE_TASK_COLUMNS", "SCORECARD_COLUMNS", "department_scorecard", "overdue_tasks_frame"]

SCORECARD_COLUMNS = (
    "district",
    "unit",
    "tasks_led",
    "accounts_opened",
    "not_opened",
    "open",
    "closure_requested",
    "closed",
    "overdue_milestones",
    "open_notices",
    "overdue_notices",
    "last_update",
    "days_since_update",
    "reported_kpis",
    "reported_on_time",
    "reporting_timeliness",
)
OVERDUE_TASK_COLUMNS = ("task_id", "title", "lead_unit", "due_date", "days_overdue")

Where = tuple[str, str]  # (district, unit): units of the same name in different districts are different bodies


@logged_refusals
def department_scorecard(
    store: Store,
    principal: Principal,
    as_of: dt.date,
    unit: str | None = None,
    *,
    district: str | None = None,
    catalogues: Catalogues | None = None,
) -> pd.DataFrame:
    """One row per (district, unit) that leads a task or a reported KPI of a programme of that district (or
    only `unit` / `district`); departments get their own row.

    A 区人力社保局 of Xicheng and one of Tongzhou are different bureaus, so each district's unit is scored on
    its district's programmes only.

    - tasks_led: catalogue tasks with the unit among their lead units; accounts_opened / not_opened and the
      account statuses open / closure_requested / closed split them.
    - overdue_milestones: milestones of those tasks due before as_of and not done (accounts not closed).
    - open_notices / overdue_notices: unanswered supervision notices on those tasks, and those past reply_by.
    - last_update / days_since_update: the unit's latest progress update on a task of its district on or
      before as_of.
    - reported_kpis / reported_on_time / reporting_timeliness: KPIs measured by reported numbers whose lead
      unit is the unit, those with a progress report whose period ends in the 45 days up to as_of, and their
      share (None when the unit leads no reported KPI).
    """
    check(principal, "ledger.read")
    if principal.role == "department":
        if principal.unit is None or principal.district is None:
            raise AccessDenied(principal, "ledger.read", unit)
        if (unit is not None and unit != principal.unit) or (district is not None and district != principal.district):
            raise AccessDenied(principal, "ledger.read", " ".join(x for x in (district, unit) if x))
        unit, district = principal.unit, principal.district
    cats = catalogues if catalogues is not None else load_catalogues()
    refs = task_refs(cats)

    pairs: list[Where] = []
    reported_led: Counter[Where] = Counter()
    for cat in cats.values():
        d = cat.programme.district
        for task in cat.tasks:
            pairs.extend((d, u) for u in task.lead_units if (d, u) not in pairs)
        for kpi in cat.kpis:
            if isinstance(kpi.measure, ReportedMeasure):
                reported_led[(d, kpi.lead_unit)] += 1
                if (d, kpi.lead_unit) not in pairs:
                    pairs.append((d, kpi.lead_unit))
    pairs = [(d, u) for d, u in pairs if (unit is None or u == unit) and (district is None or d == district)]
    if not pairs and unit is not None and district is not None:
        pairs = [(district, unit)]

    ledger = task_ledger(store, principal, as_of=as_of, catalogues=cats)
    statuses: dict[Where, Counter[str]] = defaultdict(Counter)
    overdue: Counter[Where] = Counter()
    for rec in ledger.itertuples(index=False):
        lref = refs[str(rec.task_id)]
        for u in lref.task.lead_units:
            statuses[(lref.district, u)][str(rec.status)] += 1
            overdue[(lref.district, u)] += int(rec.overdue_milestones)  # type: ignore[arg-type]

    open_n: Counter[Where] = Counter()
    late_n: Counter[Where] = Counter()
    for task_id, reply_by in store.execute("SELECT task_id, reply_by FROM supervision_notices WHERE status = 'open'"):
        ref = refs.get(task_id)
        if ref is None:
            continue
        for u in ref.task.lead_units:
            open_n[(ref.district, u)] += 1
            late_n[(ref.district, u)] += int(reply_by < as_of)

    last_update: dict[Where, dt.date] = {}
    for task_id, u, at in store.execute(
        "SELECT task_id, unit, max(reported_at) FROM task_updates WHERE unit IS NOT NULL AND reported_at < ? "
        "GROUP BY task_id, unit",
        [dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())],
    ):
        ref = refs.get(task_id)
        if ref is None:
            continue
        key = (ref.district, str(u))
        last_update[key] = max(last_update.get(key, at.date()), at.date())
    stale_frame = stale_reported_kpis(store, as_of, dict(cats))
    stale = Counter(zip(stale_frame["district"].astype(str), stale_frame["lead_unit"].astype(str), strict=True))

    rows = []
    for where in pairs:
        st = statuses.get(where, Counter())
        led = sum(st.values())
        last = last_update.get(where)
        on_time = reported_led[where] - stale[where]
        rows.append(
            {
                "district": where[0],
                "unit": where[1],
                "tasks_led": led,
                "accounts_opened": led - st["not_opened"],
                "not_opened": st["not_opened"],
                "open": st["open"],
                "closure_requested": st["closure_requested"],
                "closed": st["closed"],
                "overdue_milestones": overdue[where],
                "open_notices": open_n[where],
                "overdue_notices": late_n[where],
                "last_update": last,
                "days_since_update": (as_of - last).days if last else None,
                "reported_kpis": reported_led[where],
                "reported_on_time": on_time,
                "reporting_timeliness": on_time / reported_led[where] if reported_led[where] else None,
            }
        )
    df = pd.DataFrame(rows, columns=list(SCORECARD_COLUMNS))
    df["days_since_update"] = df["days_since_update"].astype("Int64")
    df["reporting_timeliness"] = df["reporting_timeliness"].astype("Float64")
    return df.sort_values(["tasks_led", "district", "unit"], ascending=[False, True, True], kind="stable").reset_index(
        drop=True
    )


@logged_refusals
def overdue_tasks_frame(
    store: Store, principal: Principal, as_of: dt.date, *, catalogues: Catalogues | None = None
) -> pd.DataFrame:
    """One row per task with an overdue milestone: its earliest such due date and the days since; most overdue
    first. Exactly the columns metrics.reports.briefing expects (task_id, title, lead_unit, due_date, days_overdue)."""
    ms = overdue_milestones(store, principal, as_of, catalogues=catalogues)
    rows: dict[str, dict[str, object]] = {}
    for rec in ms.to_dict("records"):  # ordered by due date: a task's first row is its earliest overdue milestone
        task_id = str(rec["task_id"])
        if task_id not in rows:
            rows[task_id] = {
                "task_id": task_id,
                "title": rec["task_title"],
                "lead_unit": rec["lead_units"],
                "due_date": rec["due_date"],
                "days_overdue": int(rec["days_overdue"]),
            }
    df = pd.DataFrame(list(rows.values()), columns=list(OVERDUE_TASK_COLUMNS))
    return df.sort_values(["days_overdue", "task_id"], ascending=[False, True], kind="stable").reset_index(drop=True)
