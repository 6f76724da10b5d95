"""The permission table: roles, own-unit and own-district rules, refusals."""

from __future__ import annotations

import pytest

from metrics.auth.access import ACTION_ZH, ACTIONS, OWN_DISTRICT, AccessDenied, Principal, allowed, check

HRSS = Principal("li", "department", unit="区人力社保局", district="西城区")


def test_department_acts_only_for_its_own_unit() -> None:
    check(HRSS, "ledger.write", unit="区人力社保局", district="西城区")
    with pytest.raises(AccessDenied, match="无权限"):
        check(HRSS, "ledger.write", unit="区商务局", district="西城区")
    assert allowed(HRSS, "ledger.update", units=frozenset({"区商务局", "区人力社保局"}), district="西城区")
    assert not allowed(HRSS, "ledger.update", units=frozenset({"区商务局"}), district="西城区")
    assert not allowed(Principal("x", "department"), "upload.write", unit="区人力社保局")  # no unit bound


def test_department_acts_only_in_its_own_district() -> None:
    # every district has a 区人力社保局: the unit alone does not decide
    with pytest.raises(AccessDenied, match="只能办理西城区的事项，不能修改任务台账（对象属于通州区）") as refused:
        check(HRSS, "ledger.write", unit="区人力社保局", district="通州区")
    assert refused.value.unit == "通州区" and refused.value.action == "ledger.write"
    for action in sorted(OWN_DISTRICT):
        units = frozenset({"区人力社保局"}) if action == "ledger.update" else None
        unit = None if units else "区人力社保局"
        assert allowed(HRSS, action, unit=unit, units=units, district="西城区"), action
        assert not allowed(HRSS, action, unit=unit, units=units, district="通州区"), action
        assert not allowed(HRSS, action, unit=unit, units=units), action  # a caller that forgot the district


def test_a_department_without_a_district_is_refused_every_district_bound_action() -> None:
    legacy = Principal("old", "department", unit="区人力社保局")  # made before accounts had districts
    with pytest.raises(AccessDenied, match="未绑定所属区"):
        check(legacy, "upload.write", unit="区人力社保局", district="通州区")
    assert allowed(legacy, "ledger.read") and allowed(legacy, "kpi.read")


def test_other_roles_are_not_bound_to_a_district() -> None:
    office = Principal("o", "office")
    assert allowed(office, "ledger.supervise", units=frozenset({"区人力社保局"}), district="通州区")
    assert allowed(office, "upload.write")


def test_refusals_name_the_action_in_chinese() -> None:
    assert set(ACTION_ZH) == set(ACTIONS)
    with pytest.raises(AccessDenied, match=r"不能查看变更记录（audit\.read）"):
        check(HRSS, "audit.read")


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
    p = Principal("u", role, unit="区人力社保局", district="西城区")  # type: ignore[arg-type]
    assert allowed(p, action, unit="区人力社保局", district="西城区") is ok


def test_unknown_action_is_an_error() -> None:
    with pytest.raises(KeyError):
        allowed(HRSS, "ledger.delete")
    assert "ledger.delete" not in ACTIONS
