"""The weekly e-mail's charts as PNG: mail clients do not render inline SVG, so the pictures the briefing
draws in SVG are drawn here again with matplotlib (Agg backend) in a CJK font, sized for a phone screen.

Each function returns PNG bytes, or None when there is nothing to draw. Without an installed CJK font the
charts are left out (Chinese labels would be empty boxes); the e-mail's tables carry the same numbers.

    >>> png = status_png({"西城区就业工作措施": {"achieved": 2, "off_track": 1}})
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from metrics.kpi.status import STATUSES
from metrics.present.format import STATUS_COLORS, status_label
from metrics.releases.export import _cjk_font, charts_available

__all__ = ["ASSESSED", "WIDTH_INCHES", "Bar", "attention_png", "charts_available", "status_png"]

# The statuses a target is assessed by; monitoring KPIs have no target and would swamp the bars.
ASSESSED = tuple(s for s in STATUSES if s != "monitoring")
# 4.2 in at 200 dpi = 840 px, shown 100 % wide (at most 560 px): 11-pt text stays ≥ 13 px on a 390-px phone.
WIDTH_INCHES = 4.2
DPI = 200


@dataclass(frozen=True)
class Bar:
    """One KPI on the progress chart: its completion (0..1), the share expected by now, and its status."""

    label: str
    progress: float
    expected: float | None
    status: str


def _png(fig: object) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]
    return buf.getvalue()


def _style() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    return {"font.family": "sans-serif", "font.sans-serif": [_cjk_font()], "axes.unicode_minus": False}


def status_png(counts_by_programme: Mapping[str, Mapping[str, int]]) -> bytes | None:
    """One 100 % stacked bar per programme (label above it), a segment per assessed status with its count."""
    rows = [(name, c) for name, c in counts_by_programme.items() if sum(c.get(s, 0) for s in ASSESSED)]
    if not rows or not charts_available():
        return None
    import matplotlib.pyplot as plt

    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(WIDTH_INCHES, 0.62 + 0.72 * len(rows)))
        for i, (name, counts) in enumerate(rows):
            y = -i
            total = sum(counts.get(s, 0) for s in ASSESSED)
            left = 0.0
            for s in ASSESSED:
                n = counts.get(s, 0)
                if not n:
                    continue
                w = n / total
                ax.barh(y, w, left=left, height=0.42, color=STATUS_COLORS[s])
                if w >= 0.07:
                    ax.text(left + w / 2, y, str(n), ha="center", va="center", color="white", fontsize=11)
                left += w
            ax.text(0, y + 0.3, name, ha="left", va="bottom", fontsize=11)
        handles = [plt.Rectangle((0, 0), 1, 1, color=STATUS_COLORS[s]) for s in ASSESSED]
        fig.legend(
            handles,
            [status_label(s) for s in ASSESSED],
            loc="upper center",
            ncol=len(ASSESSED),
            fontsize=9.5,
            frameon=False,
            handlelength=0.9,
            columnspacing=0.8,
        )
        ax.set_xlim(0, 1)
        ax.set_ylim(-len(rows) + 0.5, 0.85)
        ax.axis("off")
        fig.subplots_adjust(left=0.02, right=0.98, top=1 - 0.42 / (0.62 + 0.72 * len(rows)), bottom=0.02)
        return _png(fig)


def attention_png(bars: Sequence[Bar], *, wrap: int = 22) -> bytes | None:
    """Completion of the KPIs that need attention, worst first: a bar in the status colour, a tick where the
    time elapsed says it should be by now, the percentage at the bar's end."""
    if not bars or not charts_available():
        return None
    import matplotlib.pyplot as plt

    with plt.rc_context(_style()):
        labels = [textwrap.fill(b.label, wrap) for b in bars]
        lines = sum(label.count("\n") + 1 for label in labels)
        fig, ax = plt.subplots(figsize=(WIDTH_INCHES, 0.5 + 0.34 * lines + 0.3 * len(bars)))
        y = 0.0
        for b, label in zip(bars, labels, strict=True):
            height = label.count("\n") + 1
            ax.text(0, y, label, ha="left", va="top", fontsize=10.5)
            bar_y = y - 0.42 * height - 0.4
            ax.barh(bar_y, 1.0, height=0.42, color="#e5e8ec")
            ax.barh(bar_y, max(b.progress, 0.004), height=0.42, color=STATUS_COLORS.get(b.status, "#7f8c8d"))
            if b.expected is not None:
                ax.plot([b.expected, b.expected], [bar_y - 0.3, bar_y + 0.3], color="#222222", linewidth=1.6)
            share = f"{b.progress * 100:.1f}%"
            if b.progress > 0.8:  # no room after the bar: the number goes inside it, in white
                ax.text(b.progress - 0.02, bar_y, share, va="center", ha="right", fontsize=10.5, color="white")
            else:
                ax.text(b.progress + 0.02, bar_y, share, va="center", fontsize=10.5)
            y = bar_y - 0.6
        ax.set_xlim(0, 1)
        ax.set_ylim(y, 0.1)
        ax.axis("off")
        fig.subplots_adjust(left=0.02, right=0.98, top=0.99, bottom=0.01)
        return _png(fig)
