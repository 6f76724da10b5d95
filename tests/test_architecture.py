"""Boundaries: the core runs without the UI; SQL lives under metrics/ only; pages hold no SQL."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_core_imports_no_ui_module_in_a_fresh_process() -> None:
    code = (
        "import sys, metrics.cli.main, metrics.kpi.engine, metrics.ingest, metrics.demo.generate, metrics.storage.store, metrics.present.format;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('streamlit', 'plotly', 'dashboard')];"
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_metrics_module_mentions_the_ui() -> None:
    for path in (ROOT / "metrics").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from)\s+(streamlit|plotly|dashboard)\b", text, re.M), path


def test_pages_hold_no_sql() -> None:
    for path in (ROOT / "dashboard").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(SELECT|INSERT|UPDATE|DELETE)\s+\S+.*\b(FROM|INTO|SET)\b", text), path
        assert "unsafe_allow_html" not in text, path


def test_streamlit_keeps_xsrf_protection() -> None:
    config = (ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    assert "enableXsrfProtection = true" in config


def test_every_data_file_the_core_reads_ships_in_the_package() -> None:
    """Catalogue YAML, source documents, measure SQL and migrations are package data, so an installed wheel
    finds them (the source documents once lived outside the package and would not have)."""
    import fnmatch
    import tomllib

    globs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    patterns = globs["metrics"]
    data = [
        p.relative_to(ROOT / "metrics").as_posix()
        for p in (ROOT / "metrics").rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ]
    assert {"catalogue/sources/tongzhou-2025.txt", "kpi/sql/contract_signing_rate.sql"} <= set(data)
    missing = [f for f in data if not any(fnmatch.fnmatchcase(f, g) for g in patterns)]
    assert missing == [], f"add these to [tool.setuptools.package-data] in pyproject.toml: {missing}"


TEST_MODULE_IMPORT = re.compile(
    r"^\s*(?:from\s+tests\.test_\w*\s+import|from\s+tests\s+import\s+test_|import\s+tests\.test_)", re.M
)


def test_no_test_module_imports_another_test_module() -> None:
    """Shared helpers live in tests/support.py and tests/browser_support.py, shared fixtures in conftest.py."""
    samples = [
        "from tests.test_browser import AS_OF",
        "    import tests.test_browser as tb",
        "from tests import test_ledger",
    ]
    assert all(TEST_MODULE_IMPORT.search(s) for s in samples)
    assert not TEST_MODULE_IMPORT.search("from tests.support import insert\nfrom tests.bench.run import main")
    offenders = [
        f"{path.relative_to(ROOT)}: {m.group(0).strip()}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for m in TEST_MODULE_IMPORT.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
