"""Who may do what: roles and permissions (`access`), accounts and sign-in (`users`, argon2), the refusal
log, and the audit trail reader (`audit`). Every service checks here, whatever the pages show.

May import metrics.kpi and below.
"""
