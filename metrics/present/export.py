"""Exports people open in Excel: CSV with a BOM, and cells that cannot run as formulas.

A text cell starting with =, +, -, @ (or a tab / carriage return) is prefixed with an apostrophe so a
spreadsheet shows it as text instead of evaluating it (OWASP CSV injection). Numbers stay numbers.
"""

from __future__ import annotations

import io

import pandas as pd

__all__ = ["neutralise", "safe_csv", "safe_frame"]

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    out.columns = [str(neutralise(str(c))) for c in out.columns]
    return out


def safe_csv(df: pd.DataFrame) -> bytes:
    """UTF-8 with BOM (Excel opens Chinese correctly), formula-injection safe."""
    buf = io.StringIO()
    safe_frame(df).to_csv(buf, index=False)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
