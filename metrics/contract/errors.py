"""The one base class of the product's own errors.

Every exception class the product defines derives from `KpiError` (tests/test_errors.py walks metrics/ and
checks it), so a caller that wants "anything the product refuses or cannot do" catches one class:

    KpiError                    the product's own errors; message_zh for people, message_en for logs
    ├── CatalogueError          (ValueError)       metrics.catalogue: a catalogue file that does not load
    ├── StoreError              (RuntimeError)     metrics.storage.store: a database that cannot be opened
    ├── BackupError             (RuntimeError)     metrics.storage.backup: a backup or restore refused
    ├── SnapshotExists          (ValueError)       metrics.kpi.snapshots: that date's snapshot is stored
    ├── AccessDenied            (PermissionError)  metrics.auth.access: a role, unit or district refusal
    ├── UserError               (ValueError)       metrics.auth.users: an account request refused
    ├── OutOfDistrict                              metrics.ingest.load: rows of another district
    ├── KeptValuesConflict                         metrics.ingest.load: kept values break a rule
    ├── WarningsNotAccepted     (ValueError)       metrics.ingest.load: outlier warnings nobody accepted
    ├── LedgerError             (ValueError)       metrics.ledger.errors: a ledger request refused
    │   └── ConcurrentEdit                         the row was saved by someone else meanwhile
    ├── ReleaseError            (ValueError)       metrics.releases.service: a release request refused
    │   └── ReleaseIntegrityError                  a stored release whose content no longer matches its hash
    ├── FontMissing             (RuntimeError)     metrics.releases.export: no font with Chinese glyphs
    └── DemoDatabaseExists      (FileExistsError)  metrics.demo.build: the demo database file is already there

The builtin base in brackets is kept (multiple inheritance) so that code catching ValueError,
PermissionError or RuntimeError keeps working. `str(error)` is the Chinese message, as before.

Lives in metrics.contract, the bottom layer, so that every package may import it; imports nothing.
"""

from __future__ import annotations

__all__ = ["KpiError"]


class KpiError(Exception):
    """Base class of every error the product raises on purpose.

    `message_zh` is what a person reads (page, CLI); `message_en` is for logs and operators and defaults to
    the Chinese text when the raiser gives none. `str(error)` and `error.args` hold `message_zh`.
    """

    message_zh: str
    message_en: str

    def __init__(self, message_zh: str = "", message_en: str | None = None) -> None:
        self.message_zh = message_zh
        self.message_en = message_zh if message_en is None else message_en
        super().__init__(message_zh)
