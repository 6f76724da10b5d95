"""The seeded demo: record-level data for the four programmes (`generate`), ledger entries (`ledger`).
`make run` builds it on first start so a new user sees a living dashboard.

May import every other package of metrics but cli.
"""
