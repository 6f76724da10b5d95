"""Uploads through the service layer: own unit and district only, history scoped to them, concurrent units both
land."""

from __future__ import annotations

import threading

import pytest

from metrics.auth.access import AccessDenied, Principal
from metrics.ingest import parse_bytes
from metrics.ingest.uploads import OUT_OF_DISTRICT_COLUMNS, out_of_district_rows, upload, upload_history
from metrics.storage.store import Store

HEAD = "岗位信息编号,所属区,统一社会信用代码,采集日期,所属行业,岗位数量\n"
HRSS = Principal("li", "department", unit="区人力社保局", district="通州区")
COMMERCE = Principal("wang", "department", unit="区商务局", district="通州区")
XC_HRSS = Principal("zhou", "department", unit="区人力社保局", district="西城区")
OFFICE = Principal("o", "office")


def vacancies(prefix: str, n: int, district: str = "通州区", others: dict[int, str] | None = None) -> bytes:
    """n rows of 岗位信息, all of `district` except rows i → others[i]."""
    rows = "".join(
        f"{prefix}{i},{(others or {}).get(i, district)},91110112MA00000001,2026-03-01,制造业,{i + 1}\n"
        for i in range(n)
    )
    return (HEAD + rows).encode("utf-8")


def access_log(store: Store) -> list[tuple[object, ...]]:
    return store.execute("SELECT user_name, action, unit, allowed, detail FROM access_log ORDER BY access_id")


def test_upload_records_the_unit_and_history_is_scoped(tiny_duck: Store) -> None:
    r = upload(tiny_duck, HRSS, parse_bytes(vacancies("A", 3), "vacancies_a.csv"))
    assert r.ok and r.new == 3
    upload(tiny_duck, COMMERCE, parse_bytes(vacancies("B", 2), "vacancies_b.csv"))
    mine = upload_history(tiny_duck, HRSS)
    assert list(mine["unit_name"]) == ["区人力社保局"] and int(mine["new_rows"].iloc[0]) == 3
    assert len(upload_history(tiny_duck, OFFICE)) == 2
    assert upload_history(tiny_duck, OFFICE)["district"].tolist() == ["通州区", "通州区"]


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


# --------------------------------------------------------------------------- districts


def test_rows_of_another_district_are_refused_logged_and_nothing_is_written(tiny_duck: Store) -> None:
    parsed = parse_bytes(vacancies("X", 8, "西城区", others={2: "通州区", 5: "海淀区"}), "vacancies.csv")
    assert parsed.ok  # a valid file: only the district makes it someone else's
    with pytest.raises(AccessDenied) as refused:
        upload(tiny_duck, XC_HRSS, parsed)
    assert str(refused.value) == (
        "无权限：zhou（西城区 区人力社保局） 只能上传西城区的数据；文件第 4、7 行的所属区为 海淀区、通州区，文件未导入。"
    )
    assert tiny_duck.count("vacancies") == 0
    assert tiny_duck.execute("SELECT count(*) FROM uploads") == [(0,)]
    assert tiny_duck.execute("SELECT count(*) FROM change_log") == [(0,)]
    assert access_log(tiny_duck) == [("zhou", "upload.write", "海淀区、通州区", False, "upload")]
    shown = out_of_district_rows(parsed, "西城区")
    assert shown.values.tolist() == [
        [4, "所属区", "通州区", "本账号只能上传西城区的数据"],
        [7, "所属区", "海淀区", "本账号只能上传西城区的数据"],
    ]
    assert tuple(shown.columns) == OUT_OF_DISTRICT_COLUMNS


def test_many_foreign_rows_are_summarised(tiny_duck: Store) -> None:
    parsed = parse_bytes(vacancies("X", 9, "通州区"), "vacancies.csv")
    with pytest.raises(AccessDenied, match=r"文件第 2、3、4、5、6 行等 9 行的所属区为 通州区"):
        upload(tiny_duck, XC_HRSS, parsed)


def test_another_districts_records_cannot_be_overwritten(tiny_duck: Store) -> None:
    """Same natural key, own district in the file: still refused, the stored record is Tongzhou's."""
    assert upload(tiny_duck, HRSS, parse_bytes(vacancies("A", 3), "vacancies_tz.csv")).new == 3
    before = tiny_duck.execute("SELECT * FROM vacancies ORDER BY vacancy_id")
    takeover = parse_bytes(vacancies("A", 3, "西城区"), "vacancies_xc.csv")
    with pytest.raises(AccessDenied) as refused:
        upload(tiny_duck, XC_HRSS, takeover)
    assert "编号 A0、A1、A2 已是通州区的记录，不能覆盖" in str(refused.value)
    assert tiny_duck.execute("SELECT * FROM vacancies ORDER BY vacancy_id") == before
    assert tiny_duck.execute("SELECT count(*) FROM uploads") == [(1,)]
    assert access_log(tiny_duck)[-1] == ("zhou", "upload.write", "通州区", False, "upload")


def test_own_district_uploads_land_and_histories_are_per_district(tiny_duck: Store) -> None:
    assert upload(tiny_duck, HRSS, parse_bytes(vacancies("A", 3), "vacancies_tz.csv")).new == 3
    assert upload(tiny_duck, XC_HRSS, parse_bytes(vacancies("B", 2, "西城区"), "vacancies_xc.csv")).new == 2
    # the same unit name in two districts: each sees its own uploads only
    assert upload_history(tiny_duck, HRSS)["file_name"].tolist() == ["vacancies_tz.csv"]
    assert upload_history(tiny_duck, XC_HRSS)["file_name"].tolist() == ["vacancies_xc.csv"]
    # the office uploads for any district, as before
    assert upload(tiny_duck, OFFICE, parse_bytes(vacancies("C", 2, "海淀区"), "vacancies_hd.csv")).new == 2
    assert upload_history(tiny_duck, OFFICE)["district"].fillna("—").tolist() == ["—", "西城区", "通州区"]
    assert access_log(tiny_duck) == []


def test_a_department_without_a_district_cannot_upload_or_see_history(tiny_duck: Store) -> None:
    legacy = Principal("old", "department", unit="区人力社保局")
    with pytest.raises(AccessDenied, match="未绑定所属区"):
        upload(tiny_duck, legacy, parse_bytes(vacancies("A", 1), "vacancies.csv"))
    with pytest.raises(AccessDenied, match="未绑定所属区"):
        upload_history(tiny_duck, legacy)
    assert tiny_duck.count("vacancies") == 0
    assert [r[:4] for r in access_log(tiny_duck)] == [
        ("old", "upload.write", None, False),
        ("old", "upload.read", None, False),
    ]
