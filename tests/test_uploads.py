"""Uploads through the service layer: own unit only, history scoped to the unit, concurrent units both land."""

from __future__ import annotations

import threading

import pytest

from metrics.access import AccessDenied, Principal
from metrics.ingest import parse_bytes
from metrics.store import Store
from metrics.uploads import upload, upload_history

HEAD = "岗位信息编号,所属区,统一社会信用代码,采集日期,所属行业,岗位数量\n"
HRSS = Principal("li", "department", unit="区人力社保局")
COMMERCE = Principal("wang", "department", unit="区商务局")


def vacancies(prefix: str, n: int) -> bytes:
    rows = "".join(f"{prefix}{i},通州区,91110112MA00000001,2026-03-01,制造业,{i + 1}\n" for i in range(n))
    return (HEAD + rows).encode("utf-8")


def test_upload_records_the_unit_and_history_is_scoped(tiny_duck: Store) -> None:
    r = upload(tiny_duck, HRSS, parse_bytes(vacancies("A", 3), "vacancies_a.csv"))
    assert r.ok and r.new == 3
    upload(tiny_duck, COMMERCE, parse_bytes(vacancies("B", 2), "vacancies_b.csv"))
    mine = upload_history(tiny_duck, HRSS)
    assert list(mine["unit_name"]) == ["区人力社保局"] and int(mine["new_rows"].iloc[0]) == 3
    assert len(upload_history(tiny_duck, Principal("o", "office"))) == 2


def test_roles_without_upload_rights_are_refused(tiny_duck: Store) -> None:
    with pytest.raises(AccessDenied):
        upload(tiny_duck, Principal("p", "press"), parse_bytes(vacancies("A", 1), "vacancies.csv"))
    with pytest.raises(AccessDenied):
        upload(tiny_duck, Principal("d", "department"), parse_bytes(vacancies("A", 1), "vacancies.csv"))
    assert tiny_duck.count("vacancies") == 0


def test_concurrent_uploads_from_two_units_both_land_whole(tiny_duck: Store) -> None:
    files = [
        (HRSS, parse_bytes(vacancies("A", 500), "vacancies_a.csv")),
        (COMMERCE, parse_bytes(vacancies("B", 700), "vacancies_b.csv")),
    ]
    results: list[object] = []
    threads = [threading.Thread(target=lambda p=p, f=f: results.append(upload(tiny_duck, p, f))) for p, f in files]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert tiny_duck.count("vacancies") == 1200
    assert sorted(r.new for r in results) == [500, 700]  # type: ignore[attr-defined]
    assert tiny_duck.execute("SELECT count(*) FROM change_log WHERE entity = 'vacancies'") == [(1200,)]


def test_a_forged_ledger_write_is_refused_and_logged(tiny_duck: Store) -> None:
    import datetime as dt

    from metrics import ledger

    with pytest.raises(AccessDenied):  # tz-t10 is led by 区商务局, not 区人力社保局
        ledger.open_account(tiny_duck, HRSS, "tz-t10", "plan", "owner", [("m", dt.date(2027, 1, 1))])
    assert tiny_duck.execute("SELECT count(*) FROM task_accounts") == [(0,)]
    logged = tiny_duck.execute("SELECT user_name, action, unit, allowed, detail FROM access_log")
    assert logged == [("li", "ledger.write", "区商务局", False, "open_account")]
