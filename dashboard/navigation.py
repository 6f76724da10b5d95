"""The one page table: each page, the permission its own check asks for, and who sees it in the navigation.

A role's navigation is every page whose action the role holds in metrics.auth.access — there is no second list
of roles here. The page checks the principal again when it runs (components.gate.require, logged on refusal), and the
service layer checks every read and write a third time.
"""

from __future__ import annotations

from dataclasses import dataclass

from metrics.auth.access import role_allows


@dataclass(frozen=True)
class PageSpec:
    file: str  # under dashboard/views/
    title: str  # i18n key
    icon: str
    url: str
    action: str  # what the page's gate.require asks for


# In navigation order; a role's first page is its home page.
PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview.py", "nav_overview", ":material/dashboard:", "overview", "kpi.read"),
    PageSpec("kpi_detail.py", "nav_detail", ":material/query_stats:", "kpi", "kpi.read"),
    PageSpec("programmes.py", "nav_programmes", ":material/description:", "programmes", "kpi.read"),
    PageSpec("delivery.py", "nav_delivery", ":material/payments:", "delivery", "kpi.read"),
    PageSpec("ledger.py", "nav_ledger", ":material/assignment:", "ledger", "ledger.read"),
    PageSpec("scorecard.py", "nav_scorecard", ":material/leaderboard:", "scorecard", "ledger.read"),
    PageSpec("uploads.py", "nav_uploads", ":material/upload_file:", "uploads", "upload.write"),
    PageSpec("releases.py", "nav_releases", ":material/approval:", "releases", "release.manage"),
    PageSpec("press.py", "nav_press", ":material/campaign:", "press", "release.read_published"),
    PageSpec("audit.py", "nav_audit", ":material/history:", "audit", "audit.read"),
    PageSpec("admin.py", "nav_admin", ":material/admin_panel_settings:", "admin", "users.manage"),
)
BY_URL: dict[str, PageSpec] = {p.url: p for p in PAGES}


def pages_for(role: str) -> list[PageSpec]:
    """The pages a role's navigation shows: those whose action the role holds."""
    return [p for p in PAGES if role_allows(role, p.action)]
