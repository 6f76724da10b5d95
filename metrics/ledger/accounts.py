"""The ledger's public API under its former module name, for callers that import metrics.ledger.accounts.

The ledger is split by job (see metrics/ledger/__init__.py): tasks, commands, queries, and beneath them
checks, writes, rows and errors. New code imports from metrics.ledger.
"""

from metrics.ledger import *  # noqa: F403 - the ledger's public API, as before the split
from metrics.ledger import __all__ as __all__
