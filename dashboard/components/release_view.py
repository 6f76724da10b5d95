"""One release as the press sees it: headline figures, drafted statements, suppressed tables, charts, files.

Renders only the release's frozen content (never live data); used by the press page and by the office's
review of a draft, so the office approves exactly what the press will get.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.components.charts import breakdown_figure
from dashboard.i18n import t
from dashboard.service import (
    Release,
    chart_png,
    charts_available,
    press_pack,
    release_csv,
    release_xlsx,
    statements_text,
)
from metrics.present.format import format_date


@st.cache_data(show_spinner=False, max_entries=16)
def _pack(content_hash: str, _release: Release) -> bytes:
    """The ZIP press pack, made once per release content (charts take a few seconds)."""
    return press_pack(_release)


def _file_stem(rel: Release) -> str:
    return rel.release_no or f"draft-{rel.release_id}"


def meta_line(rel: Release) -> str:
    if rel.state == "published" and rel.published_at is not None:
        return t("release_meta").format(
            label=rel.label,
            as_of=format_date(rel.as_of),
            when=f"{rel.published_at:%Y-%m-%d %H:%M}",
            who=rel.published_by,
            hash=rel.content_hash[:12],
        )
    return t("release_draft_meta").format(
        rid=rel.release_id,
        as_of=format_date(rel.as_of),
        when=f"{rel.created_at:%Y-%m-%d %H:%M}",
        who=rel.created_by,
        hash=rel.content_hash[:12],
    )


def downloads(rel: Release) -> None:
    stem = _file_stem(rel)
    c1, c2, c3 = st.columns(3)
    c1.download_button(
        t("release_dl_zip"),
        data=lambda: _pack(rel.content_hash, rel),
        file_name=f"{stem}-新闻发布资料包.zip",
        mime="application/zip",
        icon=":material/folder_zip:",
        on_click="ignore",
        type="primary",
    )
    c2.download_button(
        t("release_dl_xlsx"),
        data=lambda: release_xlsx(rel),
        file_name=f"{stem}-统计表.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/table:",
        on_click="ignore",
    )
    c3.download_button(
        t("release_dl_text"),
        data=statements_text(rel).encode("utf-8"),
        file_name=f"{stem}-参考表述.txt",
        mime="text/plain",
        icon=":material/article:",
        on_click="ignore",
    )


def _headlines(programme: dict) -> None:
    heads = programme["headlines"]
    for start in range(0, len(heads), 3):
        cols = st.columns(3)
        for col, h in zip(cols, heads[start : start + 3], strict=False):
            with col.container(border=True):
                st.metric(h["name"], h["display"])
                parts = []
                if h["target_display"]:
                    parts.append(f"{t('release_target')}：{h['target_display']}")
                if h["completion"] is not None:
                    parts.append(f"{t('release_completion')}：{h['completion']:.1f}%")
                parts.append(f"{h['window_start']} ~ {h['window_end']}")
                st.caption(" · ".join(parts))


def _table(rel: Release, table: dict) -> None:
    with st.expander(table["title"], expanded=False):
        if table["withheld"]:
            st.info(t("release_withheld"))
            return
        frame = pd.DataFrame([*table["rows"], table["total"]], columns=table["columns"]).astype(str)
        st.dataframe(frame, hide_index=True, width="stretch")
        value_col = 1 if table["kind"] == "count" else 3
        shown = [(r[0], r[value_col]) for r in table["rows"] if isinstance(r[value_col], int | float)]
        if shown:
            share = table["kind"] != "count"
            df = pd.DataFrame({"group": [s[0] for s in shown], "value": [s[1] / 100 if share else s[1] for s in shown]})
            fig = breakdown_figure(
                df,
                "group",
                title=table["title"],
                unit="%" if share else table["unit"],
                dim_label=table["dimension_label"],
            )
            st.plotly_chart(fig, key=f"chart-{rel.release_id}-{table['key']}")
        for note in table["notes"]:
            st.caption(note)
        c1, c2 = st.columns(2)
        c1.download_button(
            t("release_dl_csv"),
            data=release_csv(rel, table["key"]),
            file_name=f"{_file_stem(rel)}-表{table['key'][1:]}.csv",
            mime="text/csv",
            key=f"csv-{rel.release_id}-{table['key']}",
            on_click="ignore",
        )

        if not charts_available():
            c2.caption(t("release_font_missing"))
            return
        c2.download_button(
            t("release_dl_png"),
            data=lambda: chart_png(rel, table["key"]) or b"",
            file_name=f"{_file_stem(rel)}-表{table['key'][1:]}.png",
            mime="image/png",
            key=f"png-{rel.release_id}-{table['key']}",
            on_click="ignore",
        )


def render(rel: Release) -> None:
    """The whole release: meta line, downloads, then a tab per programme."""
    st.subheader(rel.content["title"])
    st.caption(meta_line(rel))
    downloads(rel)
    with st.expander(t("release_source")):
        st.write(rel.content["source_note"])
    programmes = rel.content["programmes"]
    tabs = st.tabs([f"{p['district']}·{p['short_title']}" for p in programmes])
    for tab, p in zip(tabs, programmes, strict=True):
        with tab:
            st.markdown(f"#### {t('release_headlines')}")
            _headlines(p)
            st.markdown(f"#### {t('release_statements')}")
            st.code("\n".join(h["statement"] for h in p["headlines"]), language=None, wrap_lines=True)
            tables = [tb for tb in rel.content["tables"] if tb["programme"] == p["id"]]
            if tables:
                st.markdown(f"#### {t('release_tables')}")
                for tb in tables:
                    _table(rel, tb)
