"""`kpi --help` loads no pandas, DuckDB, Arrow, upload or release code, and still lists every command with its
own help (issue 12: the command starts in tens of milliseconds, docs/rollups.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from metrics.cli.main import LAZY_COMMANDS, main

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "duckdb", "pyarrow", "numpy", "metrics.releases", "metrics.ingest", "metrics.storage.store")


def test_help_imports_nothing_heavy_and_lists_each_command_by_its_own_help() -> None:
    code = f"""
import sys
import click
from metrics.cli.main import LAZY_COMMANDS, main
ctx = click.Context(main, info_name="kpi")
lazy_help = main.get_help(ctx)
loaded = [m for m in {HEAVY!r} if m in sys.modules]
print("LOADED", loaded)
for name in LAZY_COMMANDS:
    main.get_command(ctx, name)
assert main.get_help(ctx) == lazy_help, (lazy_help, main.get_help(ctx))
print("SAME HELP")
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "LOADED []" in proc.stdout and "SAME HELP" in proc.stdout


def test_lazy_commands_run_and_show_their_help() -> None:
    for name in LAZY_COMMANDS:
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage: " in result.output and name in result.output
    listing = CliRunner().invoke(main, ["--help"]).output
    assert all(f"  {name} " in listing for name in [*LAZY_COMMANDS, "compute", "import", "demo"])
