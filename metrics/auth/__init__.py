"""Who may do what: roles and permissions (`access`), accounts (`accounts`), sign-in (`signin`), argon2 hashes
(`passwords`), the access and refusal log (`access_log`), the demo logins (`demo_accounts`; `users` re-exports
them all), and the audit trail reader (`audit`). Every service checks here, whatever the pages show.

May import metrics.kpi and below.
"""
