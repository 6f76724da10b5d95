"""The permission table: roles, own-unit rules, refusals."""

from __future__ import annotations

import pytest

from metrics.access import ACTIONS, AccessDenied, Principal, allowed, check

HRSS = Principal("li", "department", unit="区人力社保局")


def test_department_acts_only_for_its_own_unit() -> None:
    check(HRSS, "ledger.write", unit="区人力社保局")
    with pytest.raises(AccessDenied, match="无权限"):
        check(HRSS, "ledger.write", unit="区商务局")
    assert allowed(HRSS, "ledger.update", units=frozenset({"区商务局", "区人力社保局"}))
    assert not allowed(HRSS, "ledger.update", units=frozenset({"区商务局"}))
    assert not allowed(Principal("x", "department"), "upload.write", unit="区人力社保局")  # no unit bound


@pytest.mark.parametrize(
    ("role", "action", "ok"),
    [
        ("office", "ledger.supervise", True),
        ("department", "ledger.supervise", False),
        ("office", "ledger.approve", True),
        ("leader", "ledger.approve", False),
        ("leader", "kpi.read", True),
        ("press", "kpi.read", False),
        ("press", "release.read_published", True),
        ("department", "audit.read", False),
        ("admin", "users.manage", True),
        ("office", "users.manage", False),
    ],
)
def test_role_table(role: str, action: str, ok: bool) -> None:
    assert allowed(Principal("u", role, unit="区人力社保局"), action, unit="区人力社保局") is ok  # type: ignore[arg-type]


def test_unknown_action_is_an_error() -> None:
    with pytest.raises(KeyError):
        allowed(HRSS, "ledger.delete")
    assert "ledger.delete" not in ACTIONS
