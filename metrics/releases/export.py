"""Press-ready files of a release: XLSX and CSV tables, PNG charts, statements, and one ZIP press pack.

Everything is made from the release's frozen content, never from the live data, so the files of a published
release are the same whenever they are downloaded. Every sheet and CSV starts with the release number, the
as-of date and the source note; text cells cannot run as formulas (metrics.present.export); charts are drawn with a
CJK font (the Noto CJK fonts of Debian's fonts-noto-cjk, or any other installed) and refuse to render tofu.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from typing import Any

import pandas as pd

from metrics.contract.errors import KpiError
from metrics.present.export import neutralise
from metrics.present.format import format_date
from metrics.releases.service import Release

__all__ = [
    "FontMissing",
    "chart_png",
    "charts_available",
    "headline_frame",
    "headline_png",
    "press_pack",
    "release_csv",
    "release_xlsx",
    "statements_text",
    "table_frame",
]

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
)


class FontMissing(KpiError, RuntimeError):
    """No font with Chinese glyphs is installed: charts would show empty boxes."""


def _meta(release: Release) -> list[tuple[str, str]]:
    c = release.content
    return [
        ("发布编号", release.label),
        ("数据截至", format_date(release.as_of)),
        ("来源说明", c["source_note"]),
    ]


def headline_frame(release: Release) -> pd.DataFrame:
    """One row per published headline figure, across programmes (the 主要指标 sheet)."""
    rows = []
    for p in release.content["programmes"]:
        for h in p["headlines"]:
            rows.append(
                {
                    "区": p["district"],
                    "政策文件": p["short_title"],
                    "指标": h["name"],
                    "数值": h["display"],
                    "发布值（数字）": h["value"] if h["value"] is not None else h["display"],
                    "单位": "%" if h["kind"] == "rate" else h["unit"],
                    "目标": h["target_display"] or "—",
                    "完成目标进度（%）": h["completion"] if h["completion"] is not None else "—",
                    "统计起止": f"{h['window_start']} 至 {h['window_end']}",
                    "条款": h["clause"],
                    "参考表述": h["statement"],
                }
            )
    return pd.DataFrame(rows)


def table_frame(table: dict[str, Any]) -> pd.DataFrame:
    """A release table with its total row (cells as published: numbers, '<10' or '*')."""
    rows = [*table["rows"], table["total"]]
    return pd.DataFrame(rows, columns=table["columns"])


def _table(release: Release, key: str) -> dict[str, Any]:
    for t in release.content["tables"]:
        if t["key"] == key:
            return t
    raise KeyError(f"release {release.label} has no table {key}")


def statements_text(release: Release) -> str:
    """The drafted statements, grouped by programme, ready to paste (新闻通稿参考表述)."""
    lines = [f"{release.content['title']}（{release.label}）", ""]
    for p in release.content["programmes"]:
        lines.append(f"【{p['district']}·{p['short_title']}】")
        lines += [h["statement"] for h in p["headlines"]]
        lines.append("")
    lines.append(release.content["source_note"])
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- CSV and XLSX


def _csv_cell(value: object) -> object:
    return neutralise(value) if isinstance(value, str) else value


def _frame_csv(release: Release, title: str, df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for k, v in _meta(release):
        w.writerow([_csv_cell(k), _csv_cell(v)])
    w.writerow([_csv_cell(title)])
    w.writerow([])
    w.writerow([_csv_cell(str(c)) for c in df.columns])
    for row in df.itertuples(index=False):
        w.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def release_csv(release: Release, key: str | None = None) -> bytes:
    """One table as CSV (UTF-8 with BOM); key None gives the headline figures."""
    if key is None:
        return _frame_csv(release, "主要指标", headline_frame(release))
    t = _table(release, key)
    return _frame_csv(release, t["title"], table_frame(t))


def release_xlsx(release: Release) -> bytes:
    """The whole release as one workbook: 说明, 主要指标, then one sheet per table (表01, 表02 …)."""
    import xlsxwriter

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    bold = wb.add_format({"bold": True})
    title_fmt = wb.add_format({"bold": True, "font_size": 13})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    head = wb.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})
    cell = wb.add_format({"border": 1})

    def write(ws: Any, r: int, c: int, v: object, fmt: Any = None) -> None:
        if isinstance(v, str):
            ws.write_string(r, c, str(neutralise(v)), fmt)
        elif v is None:
            ws.write_blank(r, c, None, fmt)
        else:
            ws.write_number(r, c, float(v), fmt)  # type: ignore[arg-type]

    def sheet(name: str, title: str, df: pd.DataFrame, notes: list[str] | None = None) -> None:
        ws = wb.add_worksheet(name)
        for i, (k, v) in enumerate(_meta(release)):
            write(ws, i, 0, k, bold)
            write(ws, i, 1, v)
        write(ws, 4, 0, title, title_fmt)
        r0 = 5
        for note in notes or []:
            write(ws, r0, 0, note)
            r0 += 1
        for j, col in enumerate(df.columns):
            write(ws, r0, j, str(col), head)
            ws.set_column(j, j, 28 if j == 0 else 16)
        for i, row in enumerate(df.itertuples(index=False), start=r0 + 1):
            for j, v in enumerate(row):
                write(ws, i, j, v, cell)

    info = wb.add_worksheet("说明")
    info.set_column(0, 0, 14)
    info.set_column(1, 1, 100)
    for i, (k, v) in enumerate(
        [*_meta(release), ("标题", release.content["title"]), ("内容校验值", release.content_hash)]
    ):
        write(info, i, 0, k, bold)
        write(info, i, 1, v, wrap)
    write(info, 7, 0, "表目录", bold)
    for i, t in enumerate(release.content["tables"], start=8):
        write(info, i, 0, f"表{t['key'][1:]}")
        write(info, i, 1, t["title"] + ("（不予公布）" if t["withheld"] else ""))
    sheet("主要指标", "主要指标", headline_frame(release))
    for t in release.content["tables"]:
        sheet(f"表{t['key'][1:]}", t["title"], table_frame(t), t["notes"])
    wb.close()
    return out.getvalue()


# --------------------------------------------------------------------------- charts


def charts_available() -> bool:
    """Whether a CJK font is installed, so chart images can be made."""
    try:
        _cjk_font()
    except FontMissing:
        return False
    return True


def _cjk_font() -> str:
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    raise FontMissing(
        "未找到中文字体，图表无法正确显示中文；请安装 fonts-noto-cjk（apt-get install fonts-noto-cjk）"
        " / no CJK font installed: install fonts-noto-cjk"
    )


def _figure(
    title: str, labels: list[str], values: list[float], unit: str, footer: str, *, target: float | None = None
) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = _cjk_font()
    with plt.rc_context({"font.family": "sans-serif", "font.sans-serif": [font], "axes.unicode_minus": False}):
        height = max(3.0, 0.38 * len(labels) + 1.6)
        fig, ax = plt.subplots(figsize=(8, height), dpi=120)
        y = list(range(len(labels)))[::-1]
        ax.barh(y, values, color="#2e86c1")
        ax.set_yticks(y, labels)
        for yi, v in zip(y, values, strict=True):
            ax.text(v, yi, f" {v:g}", va="center", fontsize=9)
        if target is not None:
            ax.axvline(target, color="#c0392b", linestyle="--", linewidth=1)
            ax.text(target, len(labels) - 0.45, f"目标 {target:g}{unit} ", color="#c0392b", fontsize=9, ha="right")
        ax.set_xlabel(f"单位：{unit}")
        ax.set_title(title, fontsize=12, loc="left")
        ax.spines[["top", "right"]].set_visible(False)
        fig.text(0.01, 0.01, footer, fontsize=7.5, color="#555555", wrap=True)
        fig.tight_layout(rect=(0, 0.05, 1, 1))
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        plt.close(fig)
    return buf.getvalue()


def chart_png(release: Release, key: str) -> bytes | None:
    """A bar chart of one table's published cells (suppressed cells named in the footer); None if withheld."""
    t = _table(release, key)
    if t["withheld"] or not t["rows"]:
        return None
    value_col = 1 if t["kind"] == "count" else 3
    shown = [(r[0], r[value_col]) for r in t["rows"] if isinstance(r[value_col], int | float)]
    hidden = [r[0] for r in t["rows"] if not isinstance(r[value_col], int | float)]
    unit = t["unit"] if t["kind"] == "count" else "%"
    footer = f"{release.label}，数据截至{format_date(release.as_of)}。"
    if hidden:
        footer += f"未显示（数值小于{release.threshold}或为防推算而隐藏）：{len(hidden)}个分组。"
    return _figure(t["title"], [s[0] for s in shown], [float(s[1]) for s in shown], unit, footer)


def headline_png(release: Release, programme_id: str) -> bytes | None:
    """A programme's progress towards its targets (完成目标进度, %), for KPIs with a count or amount target."""
    for p in release.content["programmes"]:
        if p["id"] == programme_id:
            rows = [h for h in p["headlines"] if h["completion"] is not None]
            if not rows:
                return None
            footer = f"{release.label}，数据截至{format_date(release.as_of)}。完成目标进度 = 实际值 ÷ 目标值。"
            title = f"{p['district']}·{p['short_title']}：主要指标完成目标进度"
            return _figure(title, [h["name"] for h in rows], [h["completion"] for h in rows], "%", footer, target=100)
    raise KeyError(programme_id)


# --------------------------------------------------------------------------- press pack


def _safe_name(text: str) -> str:
    return "".join(ch for ch in text if ch not in '\\/:*?"<>|\n\r\t').strip()[:60]


def press_pack(release: Release) -> bytes:
    """One ZIP: 说明.txt, 参考表述.txt, 统计表.xlsx, CSV and PNG files, release.json and SHA256SUMS.txt."""
    files: dict[str, bytes] = {}
    prefix = f"{release.release_no or 'draft-' + str(release.release_id)}"
    readme = "\n".join(f"{k}：{v}" for k, v in _meta(release)) + f"\n内容校验值（SHA-256）：{release.content_hash}\n"
    try:
        _cjk_font()
        charts = True
    except FontMissing as exc:
        charts = False
        readme += f"图表未生成 / charts left out: {exc}\n"
    files["说明.txt"] = readme.encode("utf-8")
    files["参考表述.txt"] = statements_text(release).encode("utf-8")
    files["统计表.xlsx"] = release_xlsx(release)
    files["csv/主要指标.csv"] = release_csv(release)
    for t in release.content["tables"]:
        files[f"csv/表{t['key'][1:]}_{_safe_name(t['title'])}.csv"] = release_csv(release, t["key"])
        png = chart_png(release, t["key"]) if charts else None
        if png is not None:
            files[f"图表/表{t['key'][1:]}_{_safe_name(t['title'])}.png"] = png
    for p in release.content["programmes"]:
        png = headline_png(release, p["id"]) if charts else None
        if png is not None:
            files[f"图表/主要指标_{_safe_name(p['district'] + p['short_title'])}.png"] = png
    files["release.json"] = json.dumps(release.content, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
    files["SHA256SUMS.txt"] = "".join(f"{hashlib.sha256(b).hexdigest()}  {n}\n" for n, b in files.items()).encode(
        "utf-8"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            info = zipfile.ZipInfo(
                f"{prefix}/{name}", date_time=(release.as_of.year, release.as_of.month, release.as_of.day, 0, 0, 0)
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            info.flag_bits |= 0x800  # UTF-8 file names
            z.writestr(info, data)
    return out.getvalue()
