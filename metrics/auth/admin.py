"""Administration done by a signed-in person: the same operations as `kpi backup`, with the permission
checked first (storage knows nothing of principals; the layers put the check here).
"""

from __future__ import annotations

from pathlib import Path

from metrics.auth.access import Principal, check
from metrics.storage.backup import backup
from metrics.storage.store import Store

__all__ = ["backup_as"]


def backup_as(store: Store, principal: Principal, out: Path, *, overwrite: bool = False) -> dict[str, int]:
    """`backup` for the app: administrators only (permission backup.run); returns rows per table copied."""
    check(principal, "backup.run")
    return backup(store, out, overwrite=overwrite)
