"""Pages say nothing in Chinese of their own: every UI text is in dashboard/i18n.py, with its English."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "dashboard" / "views").glob("*.py"))
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def chinese_literals(source: str) -> list[tuple[int, str]]:
    """String literals (f-string parts included) holding Chinese characters; docstrings and comments allowed."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and HAN.search(node.value)
    ]


def test_no_page_holds_a_chinese_string_literal() -> None:
    assert PAGES
    found = [
        f"{p.relative_to(ROOT)}:{line}: {text!r}"
        for p in PAGES
        for line, text in chinese_literals(p.read_text("utf-8"))
    ]
    assert found == [], "move these texts to dashboard/i18n.py (with an English text):\n" + "\n".join(found)


def test_the_scan_finds_literals_but_not_docstrings_or_comments() -> None:
    sample = '"""总览 docstring."""\n# 注释\nx = "元"\ny = f"{x}（截至）"\n\ndef f():\n    """函数说明"""\n    return t("ok")\n'
    assert [line for line, _ in chinese_literals(sample)] == [3, 4]


def test_every_text_has_chinese_and_english() -> None:
    from dashboard.i18n import STRINGS

    for key, texts in STRINGS.items():
        assert set(texts) == {"zh", "en"} and all(texts.values()), key
