"""The hand-made records every measure kind is checked on, and the tiny catalogue over them: tests/test_engine.py
runs them on both DuckDB paths, tests/test_spark.py on Spark."""

from __future__ import annotations

import datetime as dt

from metrics.storage.store import Store
from tests.support import insert

D = dt.date
AS_OF = D(2026, 11, 21)
E1, E2, E3 = "91110112MA00000001", "91110112MA00000002", "91110112MA00000003"

KPIS = [
    {
        "id": "events",
        "measure": {
            "kind": "count",
            "source": "events",
            "filters": [{"column": "event_type", "op": "in", "values": ["招聘会", "专场招聘", "直播带岗"]}],
        },
        "target": {"value": 10, "period": "year"},
        "dimensions": ["event_type"],
    },
    {
        "id": "livestreams",
        "measure": {"kind": "count", "source": "events", "filters": [{"column": "event_type", "value": "直播带岗"}]},
        "target": {"value": 2, "period": "month"},
    },
    {
        "id": "positions",
        "measure": {"kind": "sum", "source": "vacancies", "column": "positions"},
        "target": {"value": 100, "period": "year"},
    },
    {
        "id": "people-trained",
        "measure": {"kind": "count_distinct", "source": "trainings", "column": "person_id"},
        "target": {"value": 5, "period": "cumulative", "start": D(2025, 1, 1), "deadline": D(2027, 12, 31)},
    },
    {
        "id": "local-ratio",
        "measure": {
            "kind": "ratio",
            "numerator": {
                "kind": "count",
                "source": "placements",
                "filters": [{"column": "project_id", "op": "not_null"}, {"column": "is_local", "value": True}],
            },
            "denominator": {
                "kind": "count",
                "source": "placements",
                "filters": [{"column": "project_id", "op": "not_null"}],
            },
        },
        "target": {"value": 0.5, "period": "rate"},
        "dimensions": ["street"],
    },
    {
        "id": "contract-rate",
        "measure": {"kind": "sql", "file": "contract_signing_rate.sql", "source": "contract_returns"},
        "target": {"value": 0.98, "period": "rate"},
        "dimensions": ["street"],
    },
    {
        "id": "closure-rate",
        "measure": {"kind": "sql", "file": "dispute_closure_rate.sql", "source": "disputes"},
        "target": {"value": 0.95, "period": "rate"},
    },
    {
        "id": "mediation-rate",
        "measure": {"kind": "sql", "file": "mediation_closure_rate.sql", "source": "disputes"},
        "target": {"value": 0.65, "period": "rate"},
        "dimensions": ["closure_method"],
    },
    {
        "id": "specialists",
        "measure": {
            "kind": "coverage",
            "source": "communities",
            "unit_column": "community_id",
            "condition": [{"column": "specialists", "op": "ge", "value": 1}],
            "snapshot_column": "as_of",
        },
        "target": {"value": 1.0, "period": "coverage"},
        "dimensions": ["street"],
    },
    {
        "id": "housing",
        "measure": {"kind": "reported"},
        "target": {"value": 1500, "period": "cumulative", "start": D(2025, 1, 1), "deadline": D(2027, 12, 31)},
    },
    {
        "id": "survey-service",
        "measure": {"kind": "mean", "source": "survey_responses", "column": "service"},
        "monitoring": True,
    },
    {
        "id": "startups-unreported",
        "measure": {"kind": "count", "source": "startups", "date_column": "first_insured_date"},
        "target": {"value": 4000, "period": "year"},
    },
]


def ev(i: int, date: dt.date, kind: str, district: str = "通州区") -> dict:
    return {
        "event_id": f"E{i}",
        "district": district,
        "event_type": kind,
        "event_date": date,
        "title": "t",
        "organiser": "o",
    }


def fill(s: Store) -> None:
    """The hand-made records every measure kind is checked on (tests/test_spark.py runs them on Spark too)."""
    insert(
        s,
        "events",
        [
            ev(1, D(2026, 1, 10), "招聘会"),
            ev(2, D(2026, 3, 5), "专场招聘"),
            ev(3, D(2026, 11, 2), "直播带岗"),
            ev(4, D(2026, 11, 21), "招聘会"),  # on the as-of day: counted
            ev(5, D(2026, 11, 22), "招聘会"),  # after the as-of day: not counted
            ev(6, D(2025, 12, 31), "招聘会"),  # last year
            ev(7, D(2026, 6, 1), "职业指导"),  # not a recruitment event
            ev(8, D(2026, 6, 1), "招聘会", district="昌平区"),  # another district
        ],
    )
    insert(
        s,
        "vacancies",
        [
            {
                "vacancy_id": "V1",
                "district": "通州区",
                "employer_id": E1,
                "collected_date": D(2026, 2, 1),
                "industry": "x",
                "positions": 30,
            },
            {
                "vacancy_id": "V2",
                "district": "通州区",
                "employer_id": E1,
                "collected_date": D(2026, 9, 1),
                "industry": "x",
                "positions": 12,
            },
            {
                "vacancy_id": "V3",
                "district": "海淀区",
                "employer_id": E1,
                "collected_date": D(2026, 9, 1),
                "industry": "x",
                "positions": 99,
            },
        ],
    )
    tr = {
        "district": "通州区",
        "provider": "p",
        "course_category": "家政",
        "class_hours": 10,
        "completed": True,
        "skill_evaluated": False,
    }
    insert(
        s,
        "trainings",
        [
            {**tr, "training_id": "T1", "person_id": "P1", "start_date": D(2025, 3, 1)},
            {**tr, "training_id": "T2", "person_id": "P1", "start_date": D(2026, 3, 1)},  # same person again
            {**tr, "training_id": "T3", "person_id": "P2", "start_date": D(2026, 4, 1)},
            {**tr, "training_id": "T4", "person_id": "P3", "start_date": D(2024, 12, 31)},  # before the start
        ],
    )
    pl = {
        "district": "通州区",
        "person_id": "P",
        "placement_date": D(2026, 5, 1),
        "employer_id": E1,
        "employer_name": "n",
        "channel": "其他",
        "person_group": "其他",
        "is_beijing_hukou": True,
        "contract_signed": True,
        "social_insurance": True,
    }
    insert(
        s,
        "placements",
        [
            {**pl, "placement_id": "L1", "street": "甲街道", "project_id": "X1", "is_local": True},
            {**pl, "placement_id": "L2", "street": "甲街道", "project_id": "X1", "is_local": False},
            {**pl, "placement_id": "L3", "street": "乙街道", "project_id": "X2", "is_local": True},
            {
                **pl,
                "placement_id": "L4",
                "street": "乙街道",
                "project_id": None,
                "is_local": False,
            },  # not a project hire
        ],
    )
    cr = {"district": "通州区", "street": "甲街道"}
    insert(
        s,
        "contract_returns",
        [
            {**cr, "enterprise_id": E1, "report_month": D(2026, 3, 1), "employees": 100, "contracts_signed": 95},
            {**cr, "enterprise_id": E1, "report_month": D(2026, 9, 1), "employees": 120, "contracts_signed": 118},
            {
                **cr,
                "enterprise_id": E2,
                "street": "乙街道",
                "report_month": D(2025, 12, 1),
                "employees": 50,
                "contracts_signed": 50,
            },
            {
                **cr,
                "enterprise_id": E2,
                "street": "乙街道",
                "report_month": D(2026, 11, 1),
                "employees": 80,
                "contracts_signed": 76,
            },
            {**cr, "enterprise_id": E3, "report_month": D(2025, 6, 1), "employees": 10, "contracts_signed": 0},
        ],
    )
    dp = {"district": "通州区"}
    insert(
        s,
        "disputes",
        [
            {
                **dp,
                "case_id": "C1",
                "accepted_date": D(2025, 12, 10),
                "closed_date": D(2026, 1, 5),
                "closure_method": "调解",
            },
            {
                **dp,
                "case_id": "C2",
                "accepted_date": D(2025, 11, 1),
                "closed_date": D(2025, 12, 20),
                "closure_method": "裁决",
            },
            {
                **dp,
                "case_id": "C3",
                "accepted_date": D(2026, 2, 1),
                "closed_date": D(2026, 3, 1),
                "closure_method": "裁决",
            },
            {**dp, "case_id": "C4", "accepted_date": D(2026, 5, 1)},
            {**dp, "case_id": "C5", "accepted_date": D(2026, 11, 22)},
            {**dp, "case_id": "C6", "accepted_date": D(2025, 6, 1)},
            {
                **dp,
                "case_id": "C7",
                "accepted_date": D(2026, 10, 1),
                "closed_date": D(2026, 11, 25),
                "closure_method": "调解",
            },
        ],
    )
    cm = {"district": "通州区", "community_name": "c"}
    insert(
        s,
        "communities",
        [
            {**cm, "community_id": "M1", "street": "甲街道", "specialists": 0, "as_of": D(2026, 1, 1)},
            {
                **cm,
                "community_id": "M1",
                "street": "甲街道",
                "specialists": 2,
                "as_of": D(2026, 10, 1),
            },  # latest: meets
            {**cm, "community_id": "M2", "street": "甲街道", "specialists": 1, "as_of": D(2026, 1, 1)},
            {**cm, "community_id": "M2", "street": "甲街道", "specialists": 0, "as_of": D(2026, 6, 1)},  # latest: fails
            {**cm, "community_id": "M3", "street": "乙街道", "specialists": 1, "as_of": D(2026, 6, 1)},
            {**cm, "community_id": "M4", "street": "乙街道", "specialists": 3, "as_of": D(2026, 12, 1)},  # after D
        ],
    )
    insert(
        s,
        "progress_reports",
        [
            {
                "kpi_id": "housing",
                "district": "通州区",
                "period_end": D(2026, 6, 30),
                "value": 700,
                "unit_name": "区住建委",
            },
            {
                "kpi_id": "housing",
                "district": "通州区",
                "period_end": D(2026, 10, 31),
                "value": 900,
                "unit_name": "区住建委",
            },
            {
                "kpi_id": "housing",
                "district": "通州区",
                "period_end": D(2026, 11, 30),
                "value": 1000,
                "unit_name": "区住建委",
            },
            {"kpi_id": "housing", "district": "昌平区", "period_end": D(2026, 10, 31), "value": 5000, "unit_name": "x"},
        ],
    )
    insert(
        s,
        "survey_responses",
        [
            {"response_id": "S1", "district": "通州区", "response_date": D(2026, 4, 1), "service": 4},
            {"response_id": "S2", "district": "通州区", "response_date": D(2026, 4, 2), "service": 5},
            {"response_id": "S3", "district": "通州区", "response_date": D(2026, 4, 3), "service": None},
        ],
    )
