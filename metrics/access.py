"""Who may do what: roles, the principal making a request, and the one permission check every service calls.

Permissions are checked here, in the service layer, on every read and write — hiding a page is only a
convenience. A refused request raises AccessDenied and is written to the access log by the caller's store.

    >>> p = Principal("li.si", "department", unit="区人力社保局")
    >>> check(p, "ledger.write", unit="区人力社保局")     # passes
    >>> check(p, "ledger.write", unit="区商务局")         # raises AccessDenied
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ACTIONS", "ROLES", "AccessDenied", "Principal", "Role", "allowed", "check"]

Role = Literal["leader", "office", "department", "press", "admin"]
ROLES: tuple[Role, ...] = ("leader", "office", "department", "press", "admin")

# action → roles allowed; "own unit" actions additionally need the principal's unit to match (see check).
ACTIONS: dict[str, frozenset[str]] = {
    "kpi.read": frozenset({"leader", "office", "department", "admin"}),
    "ledger.read": frozenset({"leader", "office", "department", "admin"}),
    "ledger.write": frozenset({"department"}),  # lead unit only: open account, milestones, request closure
    "ledger.update": frozenset({"department"}),  # lead or cooperating unit: append progress updates
    "ledger.supervise": frozenset({"office"}),  # issue supervision notices (督办)
    "ledger.reply": frozenset({"department"}),  # the lead unit replies to a notice
    "ledger.approve": frozenset({"office"}),  # approve or return a closure request (销账)
    "upload.write": frozenset({"department", "office", "admin"}),
    "upload.read": frozenset({"office", "admin", "department"}),
    "audit.read": frozenset({"office", "admin"}),
    "settings.tolerance": frozenset({"office"}),
    "release.read_published": frozenset({"press", "office", "leader", "admin"}),
    "release.manage": frozenset({"office"}),
    "users.manage": frozenset({"admin"}),
    "backup.run": frozenset({"admin"}),
}
# Actions a department may only take for its own unit (the resource's unit is passed to check()).
OWN_UNIT = frozenset({"ledger.write", "ledger.reply", "upload.write", "upload.read"})


class AccessDenied(PermissionError):
    """A request the principal's role or unit does not allow. The message is Chinese for the UI."""

    def __init__(self, principal: Principal, action: str, unit: str | None = None):
        self.principal, self.action, self.unit = principal, action, unit
        target = f"（{unit}）" if unit else ""
        super().__init__(f"无权限：{principal.display} 不能执行 {action}{target}")


@dataclass(frozen=True)
class Principal:
    """The user behind a request: login name, role, and for departments the unit they belong to."""

    user: str
    role: Role
    unit: str | None = None

    @property
    def display(self) -> str:
        return f"{self.user}（{self.unit}）" if self.unit else self.user


def allowed(principal: Principal, action: str, *, unit: str | None = None, units: frozenset[str] | None = None) -> bool:
    """Whether the principal may take `action` on a resource of `unit` (or of any of `units`)."""
    roles = ACTIONS.get(action)
    if roles is None:
        raise KeyError(f"unknown action {action!r}")
    if principal.role not in roles:
        return False
    if principal.role == "department" and (action in OWN_UNIT or action == "ledger.update"):
        if principal.unit is None:
            return False
        if units is not None:
            return principal.unit in units
        return unit is not None and unit == principal.unit
    return True


def check(principal: Principal, action: str, *, unit: str | None = None, units: frozenset[str] | None = None) -> None:
    """Raise AccessDenied unless `allowed`."""
    if not allowed(principal, action, unit=unit, units=units):
        raise AccessDenied(principal, action, unit or (", ".join(sorted(units)) if units else None))
