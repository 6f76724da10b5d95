"""The repository explains itself: code cites docs/ files that exist, never design files outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    p for d in ("metrics", "dashboard", "tests") for ext in ("*.py", "*.sql") for p in sorted((ROOT / d).rglob(ext))
]
SOURCES += [ROOT / "README.md", ROOT / "GLOSSARY.md", ROOT / "Makefile", *sorted((ROOT / "docs").glob("*.md"))]
OUTSIDE = re.compile(r"DESIGN §|DESIGN\.md|DATA_CONTRACT|STYLE\.md|\.\./shared|shared/")
CITED = re.compile(r"docs/([\w.-]+\.md)")


def test_nothing_cites_a_file_outside_the_repository() -> None:
    found = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()[:80]}"
        for p in SOURCES
        if p != Path(__file__).resolve()
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert found == [], "cite docs/ instead:\n" + "\n".join(found)


def test_every_cited_document_exists() -> None:
    cited = {m for p in SOURCES for m in CITED.findall(p.read_text(encoding="utf-8"))}
    assert {"architecture.md", "kpi-semantics.md", "data-contract.md", "time.md", "uploads.md"} <= cited
    missing = sorted(name for name in cited if not (ROOT / "docs" / name).exists())
    assert missing == [], f"cited but not in docs/: {missing}"
