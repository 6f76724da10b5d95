"""Who may do what: roles, the principal making a request, and the one permission check every service calls.

Permissions are checked here, in the service layer, on every read and write — hiding a page is only a
convenience. A refused request raises AccessDenied and is written to the access log by the caller's store.
A department account is bound to a unit and a district: the four programmes are in different districts and
share unit names (every district has a 区人力社保局), so its writes must name the district they touch.

    >>> p = Principal("li.si", "department", unit="区人力社保局", district="西城区")
    >>> check(p, "ledger.write", unit="区人力社保局", district="西城区")   # passes
    >>> check(p, "ledger.write", unit="区人力社保局", district="通州区")   # raises AccessDenied
    >>> check(p, "ledger.write", unit="区商务局", district="西城区")       # raises AccessDenied
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from metrics.contract.errors import KpiError

__all__ = [
    "ACTIONS",
    "ACTION_ZH",
    "OWN_DISTRICT",
    "ROLES",
    "AccessDenied",
    "Principal",
    "Role",
    "allowed",
    "check",
    "role_allows",
]

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
    "backup.restore": frozenset({"admin"}),
    "subscriptions.manage": frozenset({"admin"}),  # everyone's weekly-briefing e-mail subscriptions
    "subscriptions.own": frozenset({"leader", "office", "department", "admin"}),  # one's own (kpi.read roles)
    "jobs.run": frozenset({"admin"}),  # the scheduler's "run now"
    "jobs.read": frozenset({"admin"}),  # the job runs list
}
# Actions a department may only take for its own unit (the resource's unit is passed to check()).
OWN_UNIT = frozenset({"ledger.write", "ledger.reply", "upload.write", "upload.read"})
# Actions a department may only take in its own district: check() must be given the resource's district, and
# a department account without a district is refused (fail closed — accounts made before districts existed).
OWN_DISTRICT = frozenset({"ledger.write", "ledger.update", "ledger.reply", "upload.write", "upload.read"})

# What each action means, for refusal messages an official can read.
ACTION_ZH: dict[str, str] = {
    "kpi.read": "查看指标",
    "ledger.read": "查看任务台账",
    "ledger.write": "修改任务台账",
    "ledger.update": "报送任务进展",
    "ledger.supervise": "下发督办",
    "ledger.reply": "答复督办",
    "ledger.approve": "审核销账",
    "upload.write": "上传数据",
    "upload.read": "查看上传记录",
    "audit.read": "查看变更记录",
    "settings.tolerance": "修改容差设置",
    "release.read_published": "查看统计发布",
    "release.manage": "管理统计发布",
    "users.manage": "管理账号",
    "backup.run": "备份数据",
    "backup.restore": "恢复备份",
    "subscriptions.manage": "管理周报邮件订阅",
    "subscriptions.own": "订阅周报邮件",
    "jobs.run": "立即运行定时任务",
    "jobs.read": "查看定时任务记录",
}


class AccessDenied(KpiError, PermissionError):
    """A request the principal's role, unit or district does not allow. The message is Chinese for the UI.

    `unit` is what the access log records as the resource (a unit, or a district for district refusals).
    """

    def __init__(self, principal: Principal, action: str, unit: str | None = None, *, reason: str | None = None):
        self.principal, self.action, self.unit = principal, action, unit
        if reason is None:
            target = f"（{unit}）" if unit else ""
            reason = f"无权限：{principal.display} 不能{ACTION_ZH.get(action, '执行')}（{action}）{target}"
        super().__init__(reason)


@dataclass(frozen=True)
class Principal:
    """The user behind a request: login name, role, and for departments the unit and district they belong to."""

    user: str
    role: Role
    unit: str | None = None
    district: str | None = None

    @property
    def display(self) -> str:
        where = " ".join(x for x in (self.district, self.unit) if x)
        return f"{self.user}（{where}）" if where else self.user


def _refusal(
    principal: Principal, action: str, unit: str | None, units: frozenset[str] | None, district: str | None
) -> AccessDenied | None:
    """Why the principal may not take `action`, or None if it may."""
    roles = ACTIONS.get(action)
    if roles is None:
        raise KeyError(f"unknown action {action!r}")
    target = unit or (", ".join(sorted(units)) if units else None)
    if principal.role not in roles:
        return AccessDenied(principal, action, target)
    if principal.role != "department":
        return None
    if action in OWN_UNIT or action == "ledger.update":
        ok = principal.unit is not None and (principal.unit in units if units is not None else unit == principal.unit)
        if not ok:
            return AccessDenied(principal, action, target)
    if action in OWN_DISTRICT:
        doing = ACTION_ZH[action]
        if principal.district is None:
            return AccessDenied(
                principal,
                action,
                district,
                reason=f"无权限：账号 {principal.display} 未绑定所属区，不能{doing}。请联系系统管理员绑定所属区"
                "（kpi user district 用户名 区名）。",
            )
        if district != principal.district:
            where = f"对象属于{district}" if district else "未指明对象所属的区"
            return AccessDenied(
                principal,
                action,
                district,
                reason=f"无权限：{principal.display} 只能办理{principal.district}的事项，不能{doing}（{where}）。",
            )
    return None


def role_allows(role: str, action: str) -> bool:
    """Whether `role` holds `action` at all — for some resource (a department: its own unit and district).

    What the dashboard's navigation shows; every request is still checked with `check` on its resource.
    """
    roles = ACTIONS.get(action)
    if roles is None:
        raise KeyError(f"unknown action {action!r}")
    return role in roles


def allowed(
    principal: Principal,
    action: str,
    *,
    unit: str | None = None,
    units: frozenset[str] | None = None,
    district: str | None = None,
) -> bool:
    """Whether the principal may take `action` on a resource of `unit` (or of any of `units`) in `district`."""
    return _refusal(principal, action, unit, units, district) is None


def check(
    principal: Principal,
    action: str,
    *,
    unit: str | None = None,
    units: frozenset[str] | None = None,
    district: str | None = None,
) -> None:
    """Raise AccessDenied (with the reason in Chinese) unless `allowed`."""
    refusal = _refusal(principal, action, unit, units, district)
    if refusal is not None:
        raise refusal
