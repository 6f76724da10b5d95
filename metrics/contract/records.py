"""The upload data contract as data (docs/data-contract.md is generated from it).

Every other part reads record types from here: the DuckDB schema, the import validators, the XLSX
templates, the catalogue cross-checks and the demo generator. Nothing here touches a database or a file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

ColumnKind = Literal["text", "district", "date", "month", "bool", "int", "decimal", "amount", "enum"]

# Which dates a date or month column accepts. Every date and month column names one (docs/data-contract.md):
# "occurred"  - something that has happened: a placement, an event, an acceptance, a payment ... It cannot lie
#               after the day of the upload, nor before 1990 (no programme or ledger goes back further).
# "scheduled" - a date that may lie ahead, such as a training's planned 结业日期: 1990 to 2100.
# A month column compares months: "occurred" accepts the month of the upload and earlier ones.
DateKind = Literal["occurred", "scheduled"]


@dataclass(frozen=True)
class DateRange:
    """The dates a kind of date column accepts; `latest` None means the upload day (metrics.storage.clock.today())."""

    kind: DateKind
    earliest: dt.date
    latest: dt.date | None
    meaning_zh: str
    meaning_en: str

    def bounds(self, today: dt.date) -> tuple[dt.date, dt.date]:
        """The first and last allowed day for an upload on `today`."""
        return self.earliest, self.latest if self.latest is not None else today


EARLIEST_DATE = dt.date(1990, 1, 1)
LATEST_SCHEDULED_DATE = dt.date(2100, 12, 31)
DATE_RANGES: dict[DateKind, DateRange] = {
    "occurred": DateRange("occurred", EARLIEST_DATE, None, "已发生的事", "something that has happened"),
    "scheduled": DateRange("scheduled", EARLIEST_DATE, LATEST_SCHEDULED_DATE, "可能在未来的日期", "may lie ahead"),
}

DISTRICTS: tuple[str, ...] = (
    "东城区",
    "西城区",
    "朝阳区",
    "丰台区",
    "石景山区",
    "海淀区",
    "门头沟区",
    "房山区",
    "通州区",
    "顺义区",
    "昌平区",
    "大兴区",
    "怀柔区",
    "平谷区",
    "密云区",
    "延庆区",
)

# DuckDB column type for each kind; amounts are yuan with two decimals.
SQL_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "district": "VARCHAR",
    "enum": "VARCHAR",
    "date": "DATE",
    "month": "DATE",  # stored as the first day of the month
    "bool": "BOOLEAN",
    "int": "BIGINT",
    "decimal": "DOUBLE",
    "amount": "DECIMAL(18,2)",
}


@dataclass(frozen=True)
class Column:
    """One column of a record type: English name, Chinese header and how a cell is read."""

    name: str
    header_zh: str
    kind: ColumnKind
    required: bool = True
    choices: tuple[str, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    length: int | None = None  # exact length for codes such as the 18-character credit code
    aliases: tuple[str, ...] = ()  # further headers seen in real ledgers
    date_kind: DateKind | None = None  # date and month columns only: which dates they accept (DATE_RANGES)

    def __post_init__(self) -> None:
        is_date = self.kind in ("date", "month")
        if is_date and self.date_kind not in DATE_RANGES:
            raise ValueError(f"date column {self.name} must name its date_kind: one of {', '.join(DATE_RANGES)}")
        if not is_date and self.date_kind is not None:
            raise ValueError(f"{self.kind} column {self.name} cannot have a date_kind")

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]

    @property
    def date_range(self) -> DateRange | None:
        """The dates this column accepts; None for a column that is neither a date nor a month."""
        return DATE_RANGES[self.date_kind] if self.date_kind is not None else None


@dataclass(frozen=True)
class CrossRule:
    """A rule between two columns of the same row, checked after each cell is valid."""

    kind: Literal["not_before", "not_above", "required_if_set"]
    column: str
    other: str
    message_zh: str


@dataclass(frozen=True)
class RecordType:
    name: str
    title_zh: str
    natural_key: tuple[str, ...]
    columns: tuple[Column, ...]
    rules: tuple[CrossRule, ...] = ()
    date_column: str | None = None  # the column that places a record in time
    expected_frequency_days: int = 31  # an upload is stale after this many days
    notes: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def required_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)


def _c(name: str, header_zh: str, kind: ColumnKind, **kw: object) -> Column:
    return Column(name, header_zh, kind, **kw)  # type: ignore[arg-type]


CHANNELS = ("公共就业服务", "经营性人力资源机构", "招聘活动", "直播带岗", "自主就业", "其他")
PERSON_GROUPS = (
    "高校毕业生",
    "登记失业人员",
    "农村劳动力",
    "就业困难人员",
    "残疾人",
    "退役军人",
    "低保人员",
    "其他",
)
COURSE_CATEGORIES = ("家政", "养老", "托育", "技能培训", "创业培训", "定制培训", "以工代训", "线上培训", "其他")
CERTIFICATE_LEVELS = ("无", "专项职业能力", "初级工", "中级工", "高级工", "技师", "高级技师")
APPLICANT_TYPES = ("个人", "用人单位", "人力资源机构", "培训机构", "街道", "社区")
APPLICATION_STATUSES = ("已受理", "已审核", "不予通过", "已拨付")
EVENT_TYPES = ("招聘会", "专场招聘", "直播带岗", "职业指导", "技能竞赛", "创业活动", "其他")
CLOSURE_METHODS = ("调解", "裁决", "撤诉", "其他")
ENTITY_TYPES = ("有限责任公司", "股份有限公司", "个体工商户", "民办非企业单位", "合伙企业", "其他")
FOLLOWUP_OUTCOMES = ("已就业", "求职中", "升学", "暂不就业", "其他")
SURVEY_DIMENSIONS = (
    ("opportunity", "就业机会感知度"),
    ("environment", "就业环境满意度"),
    ("ability", "就业能力认同感"),
    ("service", "就业服务便捷度"),
    ("labour_relations", "劳动关系和谐指数"),
    ("policy_awareness", "政策知晓率"),
    ("participation", "公众参与度"),
)

RECORD_TYPES: dict[str, RecordType] = {
    rt.name: rt
    for rt in (
        RecordType(
            "placements",
            "就业安置记录",
            ("placement_id",),
            (
                _c("placement_id", "就业记录编号", "text"),
                _c("person_id", "人员编号", "text"),
                _c("district", "所属区", "district"),
                _c("street", "街道（乡镇）", "text", aliases=("街道", "街道(乡镇)", "乡镇街道")),
                _c("placement_date", "就业日期", "date", date_kind="occurred"),
                _c("employer_id", "统一社会信用代码", "text", length=18),
                _c("employer_name", "用人单位名称", "text"),
                _c("channel", "就业渠道", "enum", choices=CHANNELS),
                _c("person_group", "人员类别", "enum", choices=PERSON_GROUPS),
                _c("is_local", "是否本地人员", "bool"),
                _c("is_beijing_hukou", "是否本市户籍", "bool"),
                _c("project_id", "重点项目编号", "text", required=False),
                _c("contract_signed", "是否签订劳动合同", "bool"),
                _c("contract_months", "合同期限（月）", "int", required=False, min_value=0),
                _c("social_insurance", "是否参保", "bool"),
                _c("monthly_wage", "月工资（元）", "amount", required=False, min_value=0),
                _c("public_service_post", "是否公共服务类岗位", "bool", required=False),
                _c("work_lat", "工作地纬度", "decimal", required=False, min_value=-90, max_value=90),
                _c("work_lon", "工作地经度", "decimal", required=False, min_value=-180, max_value=180),
                _c("stable_6m", "稳定就业6个月以上", "bool", required=False),
            ),
            date_column="placement_date",
        ),
        RecordType(
            "trainings",
            "培训记录",
            ("training_id",),
            (
                _c("training_id", "培训记录编号", "text"),
                _c("person_id", "人员编号", "text"),
                _c("district", "所属区", "district"),
                _c("provider", "培训机构", "text"),
                _c("course_category", "培训类别", "enum", choices=COURSE_CATEGORIES),
                _c("start_date", "开班日期", "date", date_kind="occurred"),  # reported once the class has begun
                # The planned 结业日期 is known when a class begins, so it may lie ahead.
                _c("end_date", "结业日期", "date", required=False, date_kind="scheduled"),
                _c("class_hours", "课时", "int", min_value=0),
                _c("completed", "是否结业", "bool"),
                _c("certificate_level", "证书等级", "enum", required=False, choices=CERTIFICATE_LEVELS),
                _c("skill_evaluated", "是否参加技能评价", "bool"),
                _c("employed_within_3m", "三个月内就业", "bool", required=False),
            ),
            rules=(CrossRule("not_before", "end_date", "start_date", "结业日期不得早于开班日期"),),
            date_column="start_date",
        ),
        RecordType(
            "applications",
            "补贴申请",
            ("application_id",),
            (
                _c("application_id", "申请编号", "text"),
                _c("district", "所属区", "district"),
                _c("measure_code", "政策项目代码", "text"),
                _c("applicant_type", "申请主体类型", "enum", choices=APPLICANT_TYPES),
                _c("applicant_id", "申请主体编号", "text"),
                _c("submitted_date", "申请日期", "date", date_kind="occurred"),
                _c("quantity", "数量", "decimal", required=False, min_value=0),
                _c("year_index", "补贴年度", "int", required=False, min_value=1, max_value=3),
                _c("amount_requested", "申请金额（元）", "amount", min_value=0),
                _c("amount_approved", "核准金额（元）", "amount", required=False, min_value=0),
                _c("status", "状态", "enum", choices=APPLICATION_STATUSES),
                _c("decision_date", "审核日期", "date", required=False, date_kind="occurred"),
                _c("paid_date", "拨付日期", "date", required=False, date_kind="occurred"),
            ),
            rules=(
                CrossRule("not_before", "decision_date", "submitted_date", "审核日期不得早于申请日期"),
                CrossRule("not_before", "paid_date", "submitted_date", "拨付日期不得早于申请日期"),
            ),
            date_column="submitted_date",
        ),
        RecordType(
            "events",
            "招聘及服务活动",
            ("event_id",),
            (
                _c("event_id", "活动编号", "text"),
                _c("district", "所属区", "district"),
                _c("event_type", "活动类型", "enum", choices=EVENT_TYPES),
                _c("event_date", "活动日期", "date", date_kind="occurred"),  # counted once held, not when planned
                _c("title", "活动名称", "text"),
                _c("organiser", "主办单位", "text"),
                _c("employers", "参与单位数", "int", required=False, min_value=0),
                _c("vacancies_offered", "提供岗位数", "int", required=False, min_value=0),
                _c("attendees", "参与人数", "int", required=False, min_value=0),
                _c("intents", "达成意向数", "int", required=False, min_value=0),
            ),
            date_column="event_date",
        ),
        RecordType(
            "vacancies",
            "空岗信息采集",
            ("vacancy_id",),
            (
                _c("vacancy_id", "岗位信息编号", "text"),
                _c("district", "所属区", "district"),
                _c("employer_id", "统一社会信用代码", "text", length=18),
                _c("collected_date", "采集日期", "date", date_kind="occurred"),
                _c("industry", "所属行业", "text"),
                _c("positions", "岗位数量", "int", min_value=1),
            ),
            date_column="collected_date",
        ),
        RecordType(
            "disputes",
            "劳动人事争议案件",
            ("case_id",),
            (
                _c("case_id", "案件编号", "text"),
                _c("district", "所属区", "district"),
                _c("accepted_date", "受理日期", "date", date_kind="occurred"),
                _c("closed_date", "结案日期", "date", required=False, date_kind="occurred"),
                _c("closure_method", "结案方式", "enum", required=False, choices=CLOSURE_METHODS),
            ),
            rules=(
                CrossRule("not_before", "closed_date", "accepted_date", "结案日期不得早于受理日期"),
                CrossRule("required_if_set", "closure_method", "closed_date", "已填结案日期时必须填写结案方式"),
            ),
            date_column="accepted_date",
        ),
        RecordType(
            "contract_returns",
            "劳动合同签订情况报表",
            ("enterprise_id", "report_month"),
            (
                _c("enterprise_id", "统一社会信用代码", "text", length=18),
                _c("district", "所属区", "district"),
                _c("street", "街道（乡镇）", "text", aliases=("街道", "街道(乡镇)", "乡镇街道")),
                _c("report_month", "报告月份", "month", date_kind="occurred"),  # up to the month of the upload
                _c("employees", "职工人数", "int", min_value=0),
                _c("contracts_signed", "签订劳动合同人数", "int", min_value=0),
            ),
            rules=(CrossRule("not_above", "contracts_signed", "employees", "签订劳动合同人数不得大于职工人数"),),
            date_column="report_month",
        ),
        RecordType(
            "startups",
            "创业主体",
            ("entity_id",),
            (
                _c("entity_id", "统一社会信用代码", "text", length=18),
                _c("district", "所属区", "district"),
                _c("registered_date", "注册日期", "date", date_kind="occurred"),
                _c("first_insured_date", "首次参保日期", "date", required=False, date_kind="occurred"),
                _c("entity_type", "主体类型", "enum", choices=ENTITY_TYPES),
                _c("jobs_created", "带动就业人数", "int", min_value=0),
                _c("local_jobs_created", "带动本市户籍就业人数", "int", required=False, min_value=0),
                _c("guaranteed_loan_amount", "创业担保贷款金额（元）", "amount", required=False, min_value=0),
                _c("loan_date", "贷款发放日期", "date", required=False, date_kind="occurred"),
                _c("incubator", "孵化机构", "text", required=False),
            ),
            rules=(
                CrossRule(
                    "not_above", "local_jobs_created", "jobs_created", "带动本市户籍就业人数不得大于带动就业人数"
                ),
                CrossRule(
                    "required_if_set", "loan_date", "guaranteed_loan_amount", "已填贷款金额时必须填写贷款发放日期"
                ),
            ),
            date_column="registered_date",
        ),
        RecordType(
            "communities",
            "社区（村）就业服务力量",
            ("community_id", "as_of"),
            (
                _c("community_id", "社区编号", "text"),
                _c("district", "所属区", "district"),
                _c("street", "街道（乡镇）", "text", aliases=("街道", "街道(乡镇)", "乡镇街道")),
                _c("community_name", "社区（村）名称", "text"),
                _c("specialists", "就业服务专员人数", "int", min_value=0),
                _c("as_of", "统计日期", "date", date_kind="occurred"),  # a head count taken, not forecast
            ),
            date_column="as_of",
            expected_frequency_days=92,
        ),
        RecordType(
            "graduate_followups",
            "离校未就业高校毕业生回访",
            ("person_id", "graduation_year"),
            (
                _c("person_id", "人员编号", "text"),
                _c("district", "所属区", "district"),
                _c("graduation_year", "毕业年份", "int", min_value=1990, max_value=2100),
                _c("followed_up", "是否已回访", "bool"),
                _c("followup_date", "回访日期", "date", required=False, date_kind="occurred"),
                _c("outcome", "回访结果", "enum", required=False, choices=FOLLOWUP_OUTCOMES),
            ),
            date_column="followup_date",
        ),
        RecordType(
            "progress_reports",
            "指标进度填报",
            ("kpi_id", "district", "period_end"),
            (
                _c("kpi_id", "指标编号", "text"),
                _c("district", "所属区", "district"),
                # A reporting period's end: a quarter or a year reported before it closes (截至 2026-12-31) lies ahead.
                _c("period_end", "截至日期", "date", date_kind="scheduled"),
                _c("value", "数值", "decimal"),
                _c("unit_name", "填报单位", "text"),
                _c("note", "说明", "text", required=False),
            ),
            date_column="period_end",
        ),
        RecordType(
            "survey_responses",
            "就业友好社会评价问卷",
            ("response_id",),
            (
                _c("response_id", "问卷编号", "text"),
                _c("district", "所属区", "district"),
                _c("response_date", "填答日期", "date", date_kind="occurred"),
                *(_c(name, zh, "int", required=False, min_value=1, max_value=5) for name, zh in SURVEY_DIMENSIONS),
            ),
            date_column="response_date",
            expected_frequency_days=183,
        ),
    )
}


def record_type(name: str) -> RecordType:
    """Look a record type up by name, with a message that lists the known ones."""
    try:
        return RECORD_TYPES[name]
    except KeyError:
        known = ", ".join(RECORD_TYPES)
        raise KeyError(f"unknown record type {name!r}; known: {known}") from None


# Columns computed from stored ones, usable in catalogue filters and dimensions like stored columns.
# Huitian centre: midway between 回龙观 and 天通苑 (WGS-84), the centre of the 10 km circle of the
# Changping document's 附件2 §2.
HUITIAN_CENTRE = (40.075, 116.375)
DERIVED_COLUMNS: dict[str, dict[str, str]] = {
    "placements": {
        "huitian_distance_km": (
            "6371.0 * 2 * asin(sqrt(pow(sin(radians(work_lat - 40.075) / 2), 2) + "
            "cos(radians(40.075)) * cos(radians(work_lat)) * "
            "pow(sin(radians(work_lon - 116.375) / 2), 2)))"
        ),
    },
}


def known_columns(record: str) -> set[str]:
    """Stored and derived column names of a record type."""
    return set(record_type(record).column_names) | set(DERIVED_COLUMNS.get(record, {}))
