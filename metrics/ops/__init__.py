"""Running the product as a service: the scheduled jobs (snapshot, backup, briefing subscriptions), the
scheduler that runs them inside the server, and the operators' loopback endpoint the `kpi` commands reach
while the server holds the database. See docs/server.md, "Scheduler" and "Operators' endpoint".

It sits beside metrics.demo, below the CLI: it may use every metrics package under it, never the UI.
"""
