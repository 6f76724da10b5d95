"""Strict pydantic models of a programme catalogue (one YAML file per policy document).

A catalogue is declarative data written by people from the policy text: tasks, KPIs and subsidy
standards, each citing its clause and quoting its sentence verbatim. Unknown keys are errors.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", min_length=2, max_length=64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- measures

FilterOp = Literal["eq", "ne", "in", "not_in", "is_null", "not_null", "ge", "gt", "le", "lt"]


class Filter(Strict):
    """A condition on one column of the measure's record type (or one of its derived columns)."""

    column: str
    op: FilterOp = "eq"
    value: str | int | float | bool | None = None
    values: list[str | int | float | bool] | None = None

    @model_validator(mode="after")
    def _operand(self) -> Filter:
        if self.op in ("in", "not_in"):
            if not self.values:
                raise ValueError(f"filter on {self.column}: op {self.op} needs 'values'")
        elif self.op in ("is_null", "not_null"):
            if self.value is not None or self.values:
                raise ValueError(f"filter on {self.column}: op {self.op} takes no operand")
        elif self.value is None:
            raise ValueError(f"filter on {self.column}: op {self.op} needs 'value'")
        return self


class BaseMeasure(Strict):
    """Counted over `source` rows whose `date_column` falls in the window (None: no date filter)."""

    source: str
    filters: list[Filter] = []
    date_column: str | None = None  # defaults to the record type's date column

    @property
    def sources(self) -> tuple[str, ...]:
        """The record types this measure reads (for freshness and 'no data')."""
        return (self.source,)


class CountMeasure(BaseMeasure):
    kind: Literal["count"]


class CountDistinctMeasure(BaseMeasure):
    kind: Literal["count_distinct"]
    column: str


class SumMeasure(BaseMeasure):
    kind: Literal["sum"]
    column: str


class MeanMeasure(BaseMeasure):
    """Mean of a column over the rows (for survey scores, monitoring only)."""

    kind: Literal["mean"]
    column: str


SimpleMeasure = Annotated[
    CountMeasure | CountDistinctMeasure | SumMeasure,
    Field(discriminator="kind"),
]


class RatioMeasure(Strict):
    """Σ numerator / Σ denominator, each a simple measure; rates roll up from the sums."""

    kind: Literal["ratio"]
    numerator: SimpleMeasure
    denominator: SimpleMeasure

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([self.numerator.source, self.denominator.source]))


class CoverageMeasure(Strict):
    """Share of units (e.g. communities) whose latest row as of the date meets the condition."""

    kind: Literal["coverage"]
    source: str
    unit_column: str
    condition: list[Filter]
    filters: list[Filter] = []
    snapshot_column: str | None = None  # the "as of" date of each row (latest ≤ D per unit); None: no date filter

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source,)


class ReportedMeasure(Strict):
    """Values a department reports in progress_reports for this KPI id.

    cumulative: the latest report ≤ D is the value to date; per_period: reports in the window are summed.
    """

    kind: Literal["reported"]
    value_is: Literal["cumulative", "per_period"] = "cumulative"

    @property
    def sources(self) -> tuple[str, ...]:
        return ("progress_reports",)


class SqlMeasure(Strict):
    """A named query under metrics/kpi/sql/ that yields one row per record with numerator/denominator
    contributions and the dimension columns; the engine sums them like any ratio."""

    kind: Literal["sql"]
    file: str
    source: str  # the record type whose rows decide 'no data'
    ratio: bool = True

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source,)


Measure = Annotated[
    CountMeasure
    | CountDistinctMeasure
    | SumMeasure
    | MeanMeasure
    | RatioMeasure
    | CoverageMeasure
    | ReportedMeasure
    | SqlMeasure,
    Field(discriminator="kind"),
]


# --------------------------------------------------------------------------- targets

PeriodKind = Literal["year", "month", "cumulative", "rate", "coverage"]


class Target(Strict):
    value: float
    comparator: Literal[">=", "<="] = ">="
    period: PeriodKind
    start: dt.date | None = None  # for cumulative targets: when counting starts
    deadline: dt.date | None = None  # for cumulative targets: when the value is due
    # status thresholds (docs/kpi-semantics.md), overridable per KPI
    on_track_pace: float = 0.95
    at_risk_pace: float = 0.80
    tolerance: float = 0.02  # rates and coverage: at_risk within this many points below
    window: Literal["year_to_date", "cumulative", "month_to_date"] | None = None  # rates only
    note: str | None = None  # how a vague phrase ('约', '超') was read

    @model_validator(mode="after")
    def _period_fields(self) -> Target:
        if self.period == "cumulative" and (self.start is None or self.deadline is None):
            raise ValueError("a cumulative target needs start and deadline")
        if self.start and self.deadline and self.deadline <= self.start:
            raise ValueError("deadline must be after start")
        if self.period in ("rate", "coverage") and not 0 <= self.value <= 1:
            raise ValueError("rates and coverage are fractions: 98% is 0.98")
        if not 0 < self.at_risk_pace <= self.on_track_pace:
            raise ValueError("need 0 < at_risk_pace <= on_track_pace")
        return self

    @property
    def higher_is_better(self) -> bool:
        return self.comparator == ">="


# --------------------------------------------------------------------------- KPIs, tasks, subsidies


class Kpi(Strict):
    id: Id
    task: str
    clause: str
    quote: str = Field(min_length=4)
    name_zh: str
    name_en: str
    unit: str  # display unit: 场, 个, 人次, 户, 元, 套, 家, 平方米, %, 分
    lead_unit: str
    measure: Measure
    target: Target | None = None
    monitoring: bool = False  # computed and shown, no status
    dimensions: list[str] = []
    description: str | None = None
    # the verb phrase of the press statement, e.g. 已开展各类招聘活动 → "全区今年已开展各类招聘活动285场"
    statement_zh: str | None = None

    @model_validator(mode="after")
    def _target_or_monitoring(self) -> Kpi:
        if self.monitoring and self.target is not None:
            raise ValueError(f"{self.id}: a monitoring KPI has no target")
        if not self.monitoring and self.target is None:
            raise ValueError(f"{self.id}: give a target or mark the KPI monitoring: true")
        return self


class Task(Strict):
    id: Id
    clause: str
    title: str
    lead_units: list[str] = Field(min_length=1)
    cooperating_units: list[str] = []
    quote: str | None = None  # the task's heading sentence, verbatim


SubsidyBasis = Literal[
    "one_off",  # a single payment per applicant
    "per_person",  # once per person
    "per_person_month",
    "per_person_year",
    "per_person_day",
    "per_person_class_hour",
    "per_year",  # per applicant per year (an organisation)
    "share_of_fee",  # a percentage of a fee or cost
    "share_of_wage",  # a percentage of a reference wage
    "loan",  # a loan amount, not a grant
]


class Tier(Strict):
    """One tier of a standard: chosen by year of entitlement, by headcount band, by level or rank."""

    amount: float | None = None  # yuan, per the basis
    share: float | None = None  # for share_of_fee tiers
    year_index: int | None = None
    min_quantity: float | None = None  # inclusive lower bound of the band
    max_quantity: float | None = None  # exclusive upper bound; None: open
    level: str | None = None  # e.g. 高级工, 一等奖, AAA级


class Subsidy(Strict):
    id: Id
    task: str | None = None
    clause: str
    quote: str = Field(min_length=4)
    name_zh: str
    name_en: str | None = None
    recipient: str  # who receives it: 个人, 用人单位, 培训机构, 经营性人力资源机构, 街道, 社区 …
    basis: SubsidyBasis
    amount: float | None = None  # yuan per basis unit; None when the document gives tiers or no figure
    amount_is_minimum: bool = False  # '不低于500元'
    share: float | None = None  # for share_of_fee / share_of_wage: 0.75 is 75%
    tiers: list[Tier] = []
    tier_by: Literal["year_index", "quantity", "level"] | None = None
    cap_amount: float | None = None  # max total per application, yuan
    max_months: int | None = None
    max_days: int | None = None
    max_years: int | None = None
    eligibility: str
    notes: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Subsidy:
        if self.tiers and self.tier_by is None:
            raise ValueError(f"{self.id}: tiers need tier_by")
        if self.tier_by is not None and not self.tiers:
            raise ValueError(f"{self.id}: tier_by without tiers")
        return self


class Programme(Strict):
    id: Id
    title: str
    short_title_zh: str
    short_title_en: str
    document_no: str | None = None
    issuer: str
    issued: dt.date | None = None
    district: str
    valid_from: dt.date
    valid_to: dt.date | None = None
    dates_note: str | None = None  # how valid_from/valid_to were read where the text is silent


class Catalogue(Strict):
    programme: Programme
    tasks: list[Task]
    kpis: list[Kpi]
    subsidies: list[Subsidy] = []
