"""The schema exists once: the migrated record tables are exactly the upload contract (metrics/contract),
column by column — name, SQL type, NOT NULL for required columns. (Natural keys are kept unique by the
import's upsert, not by a constraint: docs/data-contract.md.)"""

from __future__ import annotations

import pytest

from metrics.contract.records import RECORD_TYPES
from metrics.storage.store import Store


@pytest.fixture(scope="module")
def columns() -> dict[str, list[tuple[str, str, bool]]]:
    with Store.memory() as store:
        rows = store.execute(
            "SELECT table_name, column_name, data_type, is_nullable = 'YES' FROM information_schema.columns "
            "ORDER BY table_name, ordinal_position"
        )
    tables: dict[str, list[tuple[str, str, bool]]] = {}
    for table, column, sql_type, nullable in rows:
        tables.setdefault(table, []).append((column, sql_type, nullable))
    return tables


@pytest.mark.parametrize("record", list(RECORD_TYPES))
def test_each_record_table_is_its_contract(columns: dict[str, list[tuple[str, str, bool]]], record: str) -> None:
    rt = RECORD_TYPES[record]
    expected = [(c.name, c.sql_type, not c.required) for c in rt.columns] + [("upload_id", "BIGINT", True)]
    assert columns[record] == expected


def test_no_record_table_outside_the_contract(columns: dict[str, list[tuple[str, str, bool]]]) -> None:
    """A table with a record's shape (an upload_id column) that the contract does not know would be a second
    schema the import never fills."""
    with_upload_id = {t for t, cols in columns.items() if any(c == "upload_id" for c, _, _ in cols)}
    assert with_upload_id - {"uploads", "change_log", "upload_warnings"} == set(RECORD_TYPES)  # warnings: of an upload


def test_the_contract_document_shows_the_contract_as_it_is() -> None:
    """docs/data-contract.md's record-type tables are generated from the contract (python -m metrics.contract)."""
    from pathlib import Path

    from metrics.contract.document import BEGIN, replace_generated

    doc = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"
    text = doc.read_text(encoding="utf-8")
    assert BEGIN in text
    assert replace_generated(text) == text, "run `python -m metrics.contract` and commit docs/data-contract.md"
    assert "| `monthly_wage` | 月工资（元） | amount (元) | optional |" in text
