"""Display helpers: weekly change text, progress share, markdown escaping and clause highlighting, CSV safety."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import service
from dashboard.components.tables import overview_table
from dashboard.components.text import escape_markdown, highlighted_markdown, locate
from dashboard.components.tiles import change_text
from dashboard.i18n import STRINGS
from metrics.kpi.status import progress
from metrics.present.export import safe_csv
from metrics.present.format import format_number, format_value


def row(actual: float, unit: str, target: float = 300, comparator: str = ">=") -> pd.Series:
    return pd.Series({"actual": actual, "unit": unit, "target": target, "comparator": comparator})


ROWS = [
    {"actual": 150.0, "target": 300.0, "comparator": ">="},
    {"actual": 400.0, "target": 300.0, "comparator": ">="},
    {"actual": 120.0, "target": 100.0, "comparator": "<="},
    {"actual": float("nan"), "target": 300.0, "comparator": ">="},
    {"actual": 5.0, "target": None, "comparator": None},
]


def test_change_since_last_week() -> None:
    assert change_text(row(286, "场"), 280, "zh") == "+6场"
    assert change_text(row(31342, "个"), 30704, "zh") == "+638个"
    assert change_text(row(0.975, "%"), 0.972, "zh") == "+0.3个百分点"
    assert change_text(row(0.9720, "%"), 0.97201, "zh") == "与上周持平"
    assert change_text(row(280, "场"), 286, "en") == "-6"
    assert change_text(row(280, "场"), None, "zh") is None


def test_progress_share_is_the_status_rules_one() -> None:
    """Tiles and the overview table show metrics.kpi.status.progress: capped at 100 %, ceilings mirrored."""
    assert service.progress is progress
    share = [service.progress(r["actual"], r["target"], r["comparator"]) for r in ROWS]
    assert share[:3] == [0.5, 1.0, pytest.approx(100 / 120)] and share[3:] == [None, None]
    frame = pd.DataFrame(
        [
            {
                **r,
                "unit": "场",
                "programme_title_zh": "方案",
                "name_zh": "指标",
                "pace": None,
                "status": "on_track",
                "lead_unit": "区人力社保局",
                "window_start": "2026-01-01",
                "window_end": "2026-12-31",
            }
            for r in ROWS
        ]
    )
    shown = overview_table(frame, "zh")[STRINGS["progress"]["zh"]].tolist()
    assert shown[:3] == [0.5, 1.0, pytest.approx(100 / 120)] and [pd.isna(x) for x in shown[3:]] == [True, True]


def test_chinese_number_conventions() -> None:
    assert format_value(285, "场") == "285场"
    assert format_value(40000, "个") == "4万个"
    assert format_value(31342, "个") == "3.13万个"
    assert format_value(2.5e8, "元") == "2.5亿元"
    assert format_value(0.97199, "%") == "97.2%"
    assert format_number(1_000_000) == "100万"
    assert format_number(1_000_000, "en") == "1 million"


def test_markdown_is_escaped_and_the_quote_highlighted() -> None:
    hostile = "[点我](javascript:alert(1)) <script>x</script> **粗** :red[红]"
    esc = escape_markdown(hostile)
    assert "\\[" in esc and "\\<script" in esc and "\\*\\*" in esc and "\\:red" in esc
    doc = "第一段。\n\n确保就业直播活动每月不少于2期，\n每年开展各类招聘活动不少于300场。\n"
    assert locate(doc, "每年开展各类招聘活动不少于 300 场") is not None
    md = highlighted_markdown(doc, "不少于2期，每年开展")
    assert md.count(":orange-background[") == 2  # the quote spans a line break


def test_csv_export_neutralises_formulas() -> None:
    data = safe_csv(pd.DataFrame({"名称": ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "正常"], "数": [1, -2, 3, 4, 5]}))
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    assert "'=HYPERLINK" in text and "'+1" in text and "'-2" in text and "'@SUM" in text
    assert "\n正常,5" in text.replace("\r", "") and ",-2\n" in text.replace("\r", "")  # numbers stay numbers


@pytest.mark.parametrize(
    ("title", "lines"),
    [
        ("招聘活动场次", ["招聘活动场次"]),
        (
            "社区服务站就业专职工作者配备覆盖率：截至各期末累计值与应完成进度",
            ["社区服务站就业专职工作者配备覆盖率：", "截至各期末累计值与应完成进度"],
        ),
        # never broken inside brackets, even where a bracket would be nearer the end
        (
            "社区服务站就业专职工作者配备覆盖率（按街道（乡镇））",
            ["社区服务站就业专职工作者配备覆盖率", "（按街道（乡镇））"],
        ),
        # Latin letters count about half a CJK character
        (
            "Placements: value at each period end vs expected pace",
            ["Placements: value at each period end", "vs expected pace"],
        ),
    ],
)
def test_chart_titles_are_wrapped_to_a_phones_width(title: str, lines: list[str]) -> None:
    from dashboard.components.charts import TITLE_EMS, _ems, wrap_title

    got = wrap_title(title)
    assert got == lines
    assert "".join(got).replace(" ", "") == title.replace(" ", "")
    assert all(_ems(line) <= TITLE_EMS for line in got)
