"""Show document text safely: markdown-escaped (never raw HTML), with a clause highlighted."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def escape_markdown(text: str) -> str:
    """Text shown through st.markdown exactly as written (no markup, links, directives or HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _loose_pattern(quote: str) -> re.Pattern[str]:
    """The quote with any whitespace or markdown emphasis allowed between its characters."""
    chars = [re.escape(c) for c in re.sub(r"\s+", "", quote)]
    return re.compile(r"[\s*#]*".join(chars))


def locate(document: str, quote: str) -> tuple[int, int] | None:
    """Start and end of the quote in the document, ignoring whitespace and markup; None if absent."""
    m = _loose_pattern(quote).search(document)
    return (m.start(), m.end()) if m else None


def paragraph_around(document: str, span: tuple[int, int]) -> tuple[str, str, str]:
    """The paragraph holding the span, split into before / quote / after."""
    start = document.rfind("\n", 0, span[0]) + 1
    end = document.find("\n", span[1])
    end = len(document) if end < 0 else end
    return document[start : span[0]], document[span[0] : span[1]], document[span[1] : end]


def highlighted_markdown(document: str, quote: str) -> str:
    """The whole document as escaped markdown paragraphs, the quote on a yellow background."""
    span = locate(document, quote)
    if span is None:
        return "\n\n".join(escape_markdown(p) for p in document.splitlines() if p.strip())
    before, hit, after = document[: span[0]], document[span[0] : span[1]], document[span[1] :]
    hit = "\x01\n\x00".join(hit.split("\n"))  # a quote across paragraphs is highlighted in each
    marked = before + "\x00" + hit + "\x01" + after
    paras = []
    for p in marked.splitlines():
        if not p.strip():
            continue
        esc = escape_markdown(p)
        esc = esc.replace("\x00", ":orange-background[**").replace("\x01", "**]")
        esc = esc.replace(":orange-background[****]", "")
        paras.append(esc)
    return "\n\n".join(paras)
