"""What leadership reads: the weekly briefing (HTML), the same briefing by e-mail to subscribers (mail,
subscriptions), and policy delivery (subsidies applied for, paid, days to decision and payment, amounts
that differ from the standard).

May import metrics.ledger, metrics.releases, metrics.ingest and below: a subscriber's briefing carries the
overdue tasks that reader may see, which the ledger knows (docs/architecture.md).
"""
