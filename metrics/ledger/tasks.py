"""The catalogue's tasks as the ledger sees them (TaskRef: task, programme, district, KPIs) and who may see
them: the role gate every ledger call makes first, and the department rule (tasks they lead or cooperate on,
in their own district). Reads and writes both start here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from metrics.auth.access import ACTIONS, AccessDenied, Principal, check
from metrics.catalogue import Catalogue, Kpi, Task, load_catalogues
from metrics.ledger.errors import LedgerError

__all__ = ["Catalogues", "TaskRef", "find_task", "task_refs"]

Catalogues = Mapping[str, Catalogue]


@dataclass(frozen=True)
class TaskRef:
    """A catalogue task with its programme, the programme's district and the programme's KPIs by id."""

    programme: str
    district: str
    task: Task
    kpis: Mapping[str, Kpi]

    @property
    def lead_units(self) -> frozenset[str]:
        return frozenset(self.task.lead_units)

    @property
    def parties(self) -> frozenset[str]:
        """Lead and cooperating units: those who may append progress updates."""
        return frozenset(self.task.lead_units) | frozenset(self.task.cooperating_units)

    @property
    def lead_text(self) -> str:
        return "、".join(self.task.lead_units)


def task_refs(catalogues: Catalogues | None = None) -> dict[str, TaskRef]:
    """Every catalogue task by id, in catalogue order (task ids are unique across programmes)."""
    cats = catalogues if catalogues is not None else load_catalogues()
    refs: dict[str, TaskRef] = {}
    for pid, cat in cats.items():
        kpis = {k.id: k for k in cat.kpis}
        for task in cat.tasks:
            refs[task.id] = TaskRef(pid, cat.programme.district, task, kpis)
    return refs


def find_task(task_id: str, catalogues: Catalogues | None = None) -> TaskRef:
    ref = task_refs(catalogues).get(task_id)
    if ref is None:
        raise LedgerError(f"未知任务：{task_id}（目录中没有此任务）。")
    return ref


# --------------------------------------------------------------------------- permissions


def _gate(principal: Principal, action: str) -> None:
    """The role part of a check, made before anything is read; the unit part follows once it is known."""
    if principal.role not in ACTIONS[action]:
        raise AccessDenied(principal, action)


def _visible(principal: Principal, ref: TaskRef) -> bool:
    """Departments see the ledgers of tasks they lead or cooperate on in their own district (docs/architecture.md, who may do what);
    other readers see all."""
    if principal.role != "department":
        return True
    return principal.unit is not None and principal.unit in ref.parties and principal.district == ref.district


def _check_read(principal: Principal, ref: TaskRef) -> None:
    check(principal, "ledger.read")
    if principal.role == "department" and principal.district != ref.district:
        raise AccessDenied(
            principal,
            "ledger.read",
            ref.district,
            reason=(
                f"无权限：{principal.display} 只能查看{principal.district}的任务台账，"
                f"任务 {ref.task.id}「{ref.task.title}」属于{ref.district}。"
                if principal.district
                else f"无权限：账号 {principal.display} 未绑定所属区，不能查看任务台账。请联系系统管理员绑定所属区。"
            ),
        )
    if not _visible(principal, ref):
        raise AccessDenied(principal, "ledger.read", ref.lead_text)
