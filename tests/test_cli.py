"""The `kpi` command's output contracts and exit statuses."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from metrics.cli.main import main
from metrics.storage.store import Store
from tests.support import EVENT, JSON_CONTRACT, insert


def test_catalogue_json_contract() -> None:
    r = CliRunner().invoke(main, ["catalogue", "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    ids = [p["id"] for p in data["programmes"]]
    assert sorted(ids) == ["changping-huitian-2022", "haidian-2018", "tongzhou-2025", "xicheng-measures"]
    p = next(p for p in data["programmes"] if p["id"] == "tongzhou-2025")
    assert {"id", "title", "district", "valid_from", "valid_to", "tasks", "kpis", "subsidies"} <= set(p)
    assert p["district"] == "通州区" and p["valid_to"] == "2027-12-31"
    k = next(k for k in p["kpis"] if k["id"] == "tz-contract-signing-rate")
    assert {"id", "name_zh", "name_en", "unit", "clause", "quote", "lead_unit", "target"} <= set(k)
    assert k["target"] == {"value": 0.98, "comparator": ">=", "period": "rate", "start": None, "deadline": None}
    assert any(k["target"] is None for k in p["kpis"])  # monitoring KPIs
    s = p["subsidies"][0] if p["subsidies"] else None
    assert s is None or {"id", "name_zh", "clause", "quote", "basis"} <= set(s)


def test_compute_json_contract(tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    with Store.open(db) as store:
        insert(store, "events", [EVENT])
    r = CliRunner().invoke(
        main, ["compute", "--db", str(db), "--as-of", "2026-11-21", "--programme", "tongzhou-2025", "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert rows and all(tuple(row) == JSON_CONTRACT for row in rows)
    ev = next(row for row in rows if row["kpi_id"] == "tz-recruitment-events")
    assert ev["actual"] == 1 and ev["target"] == 300 and ev["status"] == "off_track"
    assert ev["window_start"] == "2026-01-01" and ev["window_end"] == "2026-11-21"
    rate = next(row for row in rows if row["kpi_id"] == "tz-contract-signing-rate")
    assert rate["status"] == "no_data" and rate["actual"] is None and rate["target"] == 0.98


def test_compute_table_is_chinese(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["compute", "--db", str(tmp_path / "k.duckdb"), "--as-of", "2026-11-21"])
    assert r.exit_code == 1 and "数据库文件不存在" in r.output  # read-only compute does not create a file
    Store.open(tmp_path / "k.duckdb").close()
    r = CliRunner().invoke(main, ["compute", "--db", str(tmp_path / "k.duckdb"), "--as-of", "2026-11-21"])
    assert r.exit_code == 0 and "截至2026年11月21日" in r.output and "无数据" in r.output


def test_unknown_programme_and_bad_date(tmp_path: Path) -> None:
    Store.open(tmp_path / "k.duckdb").close()
    r = CliRunner().invoke(main, ["compute", "--db", str(tmp_path / "k.duckdb"), "--programme", "nope"])
    assert r.exit_code == 1 and "unknown programme" in r.output
    r = CliRunner().invoke(main, ["compute", "--db", str(tmp_path / "k.duckdb"), "--as-of", "21/11/2026"])
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.output


def test_import_exit_status_and_messages(tmp_path: Path) -> None:
    good, bad = tmp_path / "vacancies_ok.csv", tmp_path / "vacancies_bad.csv"
    head = ["岗位信息编号", "所属区", "统一社会信用代码", "采集日期", "所属行业", "岗位数量"]
    rows = [["V1", "通州区", "91110112MA00000001", "2026-03-01", "制造业", "5"]]
    for path, extra in ((good, []), (bad, [["V2", "通州区", "91110112MA0000001", "2026-03-01", "制造业", "0"]])):
        with path.open("w", encoding="gb18030", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(head)
            w.writerows(rows + extra)
    db = str(tmp_path / "k.duckdb")
    r = CliRunner().invoke(main, ["import", "--db", db, str(good), str(bad)])
    assert r.exit_code == 1
    assert "新增 1" in r.output and "vacancies_bad.csv" in r.output
    assert "第3行" in r.output and "统一社会信用代码" in r.output and "岗位数量" in r.output
    with Store.open(db, read_only=True) as store:
        assert store.count("vacancies") == 1  # the good file landed, the bad one wrote nothing


def _vacancies(path: Path, district: str) -> Path:
    head = ["岗位信息编号", "所属区", "统一社会信用代码", "采集日期", "所属行业", "岗位数量"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([head, [f"V-{district}", district, "91110112MA00000001", "2026-03-01", "制造业", "5"]])
    return path


def test_each_command_acts_as_an_account_or_as_the_operator(tmp_path: Path, monkeypatch) -> None:
    """--user names an active account and gets the app's checks; without it an operator command is recorded
    as cli:<login>; a command that needs an account refuses without one (docs/architecture.md)."""
    from metrics.auth.users import create_demo_accounts

    monkeypatch.setenv("USER", "zhang.ops")
    db = str(tmp_path / "k.duckdb")
    with Store.open(db) as store:
        create_demo_accounts(store)
    xicheng, tongzhou = (
        _vacancies(tmp_path / "vacancies_xc.csv", "西城区"),
        _vacancies(tmp_path / "vacancies_tz.csv", "通州区"),
    )
    run = CliRunner().invoke
    # hrss is 西城区人力社保局: its own district's file imports, another district's is refused and logged
    assert run(main, ["import", "--db", db, "--user", "hrss", str(xicheng)]).exit_code == 0
    r = run(main, ["import", "--db", db, "--user", "hrss", str(tongzhou)])
    assert r.exit_code == 1 and "只能上传西城区的数据" in r.output
    r = run(main, ["import", "--db", db, "--user", "nobody", str(tongzhou)])
    assert r.exit_code == 1 and "账号不存在或已停用：nobody" in r.output
    assert run(main, ["import", "--db", db, str(tongzhou)]).exit_code == 0  # the operator
    with Store.open(db, read_only=True) as store:
        assert store.execute("SELECT user_name, unit_name, district FROM uploads ORDER BY upload_id") == [
            ("hrss", "区人力社保局", "西城区"),
            ("cli:zhang.ops", None, None),
        ]
        assert store.execute("SELECT user_name, allowed FROM access_log WHERE action = 'upload.write'") == [
            ("hrss", False)
        ]
    out = tmp_path / "b.html"
    r = run(main, ["report", "weekly", "--db", db, "--as-of", "2026-11-21", "--out", str(out)])
    assert r.exit_code == 2 and "--user" in r.output  # the briefing lists tasks: it needs an account
    r = run(main, ["report", "weekly", "--db", db, "--as-of", "2026-11-21", "--out", str(out), "--user", "press"])
    assert r.exit_code == 1 and "无权限" in r.output and not out.exists()
    r = run(main, ["report", "weekly", "--db", db, "--as-of", "2026-11-21", "--out", str(out), "--user", "leader"])
    assert r.exit_code == 0 and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_refused_backup_is_logged_and_points_to_the_admin_page(tmp_path: Path) -> None:
    """Without a server: kpi backup --user by a department account is refused, written to access_log, and the
    message names the admin page's backups; the operator's backup (no --user) works."""
    from metrics.auth.users import create_demo_accounts

    db = str(tmp_path / "k.duckdb")
    with Store.open(db) as store:
        create_demo_accounts(store)
    run = CliRunner().invoke
    r = run(main, ["backup", "--db", db, "--out", str(tmp_path / "b.duckdb"), "--user", "hrss"])
    assert r.exit_code == 1 and "无权限" in r.output and "系统管理" in r.output and "/admin" in r.output
    assert not (tmp_path / "b.duckdb").exists()
    r = run(main, ["backup", "--db", db, "--out", str(tmp_path / "b.duckdb")])
    assert r.exit_code == 0 and "已备份" in r.output
    with Store.open(db, read_only=True) as store:
        assert store.execute("SELECT user_name, action, allowed FROM access_log") == [("hrss", "backup.run", False)]
