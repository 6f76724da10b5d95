"""The ledger's errors: a request that cannot be carried out as asked (LedgerError, its message Chinese, for
the user), and a save over a row someone else changed since it was read (ConcurrentEdit).
"""

from __future__ import annotations

from metrics.contract.errors import KpiError

__all__ = ["ConcurrentEdit", "LedgerError"]


class LedgerError(KpiError, ValueError):
    """A ledger request that cannot be carried out as asked; the message is Chinese, for the user."""


class ConcurrentEdit(LedgerError):
    """The row was saved by someone else since the caller read it (its version moved on)."""

    def __init__(self, current_version: int):
        self.current_version = current_version
        super().__init__(f"已被他人修改，请刷新后重试（当前版本 {current_version}）")
