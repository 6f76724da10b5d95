"""Task ledgers (建账-督办-销账): accounts, updates with evidence, supervision notices and closure in
`accounts`, and the department scorecard in `scorecard`. Every write checks the principal again.

May import metrics.auth and below.

>>> from metrics import ledger
>>> ledger.open_account(store, principal, "tz-t01", plan, owner, milestones, kpi_ids)
"""

from metrics.ledger.accounts import *  # noqa: F403 - the ledger's public API is accounts' __all__
from metrics.ledger.accounts import __all__ as __all__
