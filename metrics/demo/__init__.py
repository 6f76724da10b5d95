"""The seeded demo: record-level data for the four programmes, one module per job — `profiles` (districts and
programme parameters), `seasons` (the calendar), `ids`, `arrays`, `aims` (KPI roles and the statuses aimed
at, by metrics.kpi.status), `context`, `generators/` (one function per record type), `build` (generate,
build_demo, the command), `chunks` (the same built in pieces of bounded memory, for scale 1000) and
`ledger` (ledger entries); `generate` re-exports the public names.
`make run` builds it on first start so a new user sees a living dashboard. May import all of metrics but cli.
"""
