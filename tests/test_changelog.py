"""One change-log writer (metrics.storage.changelog): every path that changes data logs through it, with an
action from the one enum, stamped by the one clock; every action has a Chinese label and is in docs/audit.md."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from metrics.auth.access import Principal
from metrics.auth.audit import ACTION_LABELS_ZH, ACTIONS_ZH, change_history
from metrics.auth.users import add_user, authenticate, disable_user, enable_user, reset_password, set_district
from metrics.auth.web_sessions import revoke_user
from metrics.ingest.load import import_file
from metrics.kpi.snapshots import take_snapshot
from metrics.ledger import open_account
from metrics.releases.service import create_release, discard_release, publish_release
from metrics.storage import changelog, clock
from metrics.storage.changelog import Action
from metrics.storage.store import Store
from tests.support import insert, tiny_catalogue, write_disputes_csv

ROOT = Path(__file__).resolve().parents[1]
AT = dt.datetime(2026, 3, 1, 9)
ADMIN = Principal("root", "admin")
OFFICE = Principal("office", "office")


def log(store: Store, entity: str) -> list[tuple[Any, ...]]:
    return store.execute(
        "SELECT changed_at, user_name, entity_key, action, old_values, new_values, upload_id FROM change_log "
        "WHERE entity = ? ORDER BY change_id",
        [entity],
    )


def assert_logged_through_the_writer(rows: list[tuple[Any, ...]], *actions: Action) -> None:
    assert [r[3] for r in rows] == [a.value for a in actions]
    assert all(r[0] == AT for r in rows), [r[0] for r in rows]
    assert all(Action(r[3]) in Action for r in rows)


# --------------------------------------------------------------------------- each writer path


def test_user_management_and_sign_in_log_through_the_writer(tiny_duck: Store) -> None:
    with clock.pinned(AT):
        add_user(tiny_duck, None, "zhang.san", "department", "区人力社保局", "a-long-password-1", district="通州区")
        set_district(tiny_duck, ADMIN, "zhang.san", "大兴区")
        disable_user(tiny_duck, ADMIN, "zhang.san")
        enable_user(tiny_duck, ADMIN, "zhang.san")
        reset_password(tiny_duck, ADMIN, "zhang.san", "another-long-password-2", clock=lambda: AT)
        assert authenticate(tiny_duck, "zhang.san", "wrong password!", clock=lambda: AT) is None
        assert authenticate(tiny_duck, "zhang.san", "another-long-password-2", clock=lambda: AT) is not None
        revoke_user(tiny_duck, ADMIN, "zhang.san", "手机遗失", clock=lambda: AT)
    rows = log(tiny_duck, "users")
    assert_logged_through_the_writer(
        rows,
        Action.ADD,
        Action.SET_DISTRICT,
        Action.DISABLE,
        Action.ENABLE,
        Action.RESET_PASSWORD,
        Action.REVOKE_SESSIONS,  # sign-in itself writes no change row (throttling: login_attempts)
    )
    assert {r[2] for r in rows} == {"zhang.san"} and rows[1][1] == "root"
    # Dates and times are ISO text, as the one encoder writes them; no hash is ever logged.
    assert json.loads(rows[4][5])["password_changed_at"] == AT.isoformat()
    assert all("argon2" not in (r[4] or "") + (r[5] or "") for r in rows)


def test_a_cleared_legacy_lock_and_oidc_binding_log_through_the_writer(tiny_duck: Store) -> None:
    from metrics.auth.users import principal_for_oidc

    with clock.pinned(AT):
        add_user(tiny_duck, None, "li.si@example.cn", "office", None, "a-long-password-1")
        tiny_duck.execute("UPDATE users SET failed_logins = 3")  # left by the lock-out before schema 8
        for _ in range(5):  # wrong passwords touch no account row: no lock, no change row
            authenticate(tiny_duck, "li.si@example.cn", "wrong password!", clock=lambda: AT)
        assert authenticate(tiny_duck, "li.si@example.cn", "a-long-password-1", client="elsewhere") is not None
        assert principal_for_oidc(tiny_duck, "sub-1", "li.si@example.cn", clock=lambda: AT) is not None
    rows = log(tiny_duck, "users")
    assert_logged_through_the_writer(rows, Action.ADD, Action.LOGIN, Action.BIND_OIDC)


def test_ledger_writes_log_through_the_writer(tiny_duck: Store) -> None:
    housing = Principal("wang.wu", "department", unit="区住房城乡建设委", district="通州区")
    with clock.pinned(AT):
        open_account(
            tiny_duck,
            housing,
            "tz-t08",
            "2026年筹集“城市建设者之家”房源1500套。",
            "张三",
            [("完成房源筹集方案", dt.date(2026, 3, 31))],
            ["tz-affordable-rental-housing"],
        )
    accounts, milestones = log(tiny_duck, "task_accounts"), log(tiny_duck, "milestones")
    assert_logged_through_the_writer(accounts, Action.INSERT)
    assert_logged_through_the_writer(milestones, Action.INSERT)
    assert accounts[0][1] == "wang.wu" and accounts[0][2] == "tz-t08"


def test_release_writes_log_through_the_writer(tiny_duck: Store) -> None:
    cats = {
        "tiny": tiny_catalogue(
            [
                {
                    "id": "tz-events",
                    "name_zh": "年度招聘活动场次",
                    "unit": "场",
                    "measure": {"kind": "count", "source": "events"},
                    "target": {"value": 300, "period": "year"},
                }
            ]
        )
    }
    insert(
        tiny_duck,
        "events",
        [
            {
                "event_id": f"E{i}",
                "district": "通州区",
                "event_type": "招聘会",
                "event_date": dt.date(2026, 2, 1),
                "title": "招聘会",
                "organiser": "区人力社保局",
            }
            for i in range(20)
        ],
    )
    as_of = dt.date(2026, 2, 28)
    with clock.pinned(AT):
        take_snapshot(tiny_duck, as_of, catalogues=cats)
        first, _ = create_release(tiny_duck, OFFICE, as_of, catalogues=cats)
        publish_release(tiny_duck, OFFICE, first)
        second, _ = create_release(tiny_duck, OFFICE, as_of, catalogues=cats)
        discard_release(tiny_duck, OFFICE, second)
    rows = log(tiny_duck, "releases")
    assert_logged_through_the_writer(rows, Action.CREATE, Action.PUBLISH, Action.CREATE, Action.DISCARD)
    assert rows[0][4] is None and json.loads(rows[1][4]) == {"state": "draft"}


def test_uploads_log_through_the_writer_set_based(tiny_duck: Store, tmp_path: Path) -> None:
    rows = [["C1", "通州区", "2026-01-05", "2026-02-01", "调解"], ["C2", "通州区", "2026/2/1", "", ""]]
    with clock.pinned(AT):
        first = import_file(
            tiny_duck, write_disputes_csv(tmp_path / "disputes_1.csv", rows), user="张三", today=AT.date()
        )
        rows[1] = ["C2", "通州区", "2026/2/1", "2026-02-20", "撤诉"]
        second = import_file(
            tiny_duck, write_disputes_csv(tmp_path / "disputes_2.csv", rows), user="李四", today=AT.date()
        )
    assert first.ok and second.ok and (second.new, second.changed) == (0, 1), second
    logged = log(tiny_duck, "disputes")
    assert_logged_through_the_writer(logged, Action.INSERT, Action.INSERT, Action.UPDATE)
    assert [r[6] for r in logged] == [first.upload_id, first.upload_id, second.upload_id]
    stamps = tiny_duck.execute("SELECT uploaded_at FROM uploads ORDER BY upload_id")
    assert stamps == [(AT,), (AT,)]  # the upload row and its log rows carry one stamp


# --------------------------------------------------------------------------- one writer, one list


def _sources(*folders: str) -> list[Path]:
    return [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]


def test_only_the_changelog_module_writes_change_log_rows() -> None:
    insert_into = re.compile(r"INSERT\s+INTO\s+(\w+\.)?change_log\b", re.IGNORECASE)
    writers = [p.relative_to(ROOT) for p in _sources("metrics", "dashboard") if insert_into.search(p.read_text())]
    assert writers == [Path("metrics/storage/changelog.py")]


def test_every_action_is_used_by_a_writer() -> None:
    code = "\n".join(p.read_text() for p in _sources("metrics") if p.name != "changelog.py")
    unused = [a.name for a in Action if f"Action.{a.name}" not in code]
    assert unused == []


def test_every_action_has_a_chinese_label() -> None:
    assert set(ACTION_LABELS_ZH) == set(Action)
    assert set(ACTIONS_ZH) == {a.value for a in Action}
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert all(cjk.search(label) for label in ACTION_LABELS_ZH.values())
    assert len(set(ACTION_LABELS_ZH.values())) == len(Action)  # no two actions read alike


def test_docs_audit_lists_every_action_with_its_label() -> None:
    doc = (ROOT / "docs" / "audit.md").read_text(encoding="utf-8")
    for action in Action:
        assert re.search(rf"\|\s*`{action.value}`\s*\|\s*{ACTION_LABELS_ZH[action]}\s*\|", doc), action


def test_the_history_spells_user_actions_in_chinese(tiny_duck: Store) -> None:
    with clock.pinned(AT):
        add_user(tiny_duck, None, "wang.er", "press", None, "a-long-password-1")
        disable_user(tiny_duck, ADMIN, "wang.er")
    history = change_history(tiny_duck, OFFICE, entity="users")
    assert list(history["action"].map(ACTIONS_ZH)) == ["停用账号", "新建账号"]


def test_the_writer_refuses_an_unknown_action(tiny_duck: Store) -> None:
    with tiny_duck.transaction() as cur, pytest.raises(ValueError, match="drop"):
        changelog.record(cur, "u", "users", "u", "drop", None, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        changelog.action_case("TRUE", "insert'; --", Action.UPDATE)  # type: ignore[arg-type]
    assert tiny_duck.execute("SELECT count(*) FROM change_log") == [(0,)]


def test_values_are_encoded_one_way() -> None:
    from decimal import Decimal

    encoded = changelog.encode({"d": dt.date(2026, 3, 1), "t": AT, "n": Decimal("6500.00"), "s": "通州区"})
    assert encoded == '{"d": "2026-03-01", "t": "2026-03-01T09:00:00", "n": 6500.0, "s": "通州区"}'
    assert changelog.encode(None) is None
