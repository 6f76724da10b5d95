"""Task-ledger entries for the demo database, written through the ledger service like a department would.

So a new user sees the 建账-督办-销账 cycle at work: accounts with done, overdue and coming milestones, an
update with evidence, an unanswered supervision notice past its reply date, and a closure awaiting approval.
"""

from __future__ import annotations

import datetime as dt

from metrics import ledger
from metrics.access import Principal
from metrics.store import Store

HRSS = Principal("hrss", "department", unit="区人力社保局")
COMMERCE = Principal("commerce", "department", unit="区商务局")
OFFICE = Principal("office", "office")


def seed_ledger(store: Store, as_of: dt.date) -> int:
    """Open three Tongzhou task accounts and walk them through the cycle; returns the accounts opened."""
    d = lambda days: as_of + dt.timedelta(days=days)  # noqa: E731
    ledger.open_account(
        store, HRSS, "tz-t02", "全年开展招聘活动不少于300场，每月直播带岗不少于2期；社区就业服务专员全覆盖。", "王敏",
        [("一季度招聘活动 75 场", d(-235)), ("社区专员配备排查", d(-20)), ("全年 300 场", d(40))],
        ["tz-recruitment-events", "tz-livestreams-monthly"],
    )  # fmt: skip
    first = ledger.account_detail(store, HRSS, "tz-t02").milestones.iloc[0]
    ledger.complete_milestone(store, HRSS, int(first["milestone_id"]), int(first["version"]), done_date=d(-240))
    ledger.append_update(
        store, HRSS, "tz-t02", 85, "截至本周累计开展各类招聘活动 286 场，其中直播带岗 28 期；专员排查进行中。",
        evidence=[("招聘活动台账截图说明.txt", "10月活动清单共 31 场，附主办单位盖章页。".encode())],
    )  # fmt: skip
    ledger.open_account(
        store, HRSS, "tz-t14", "建成马驹桥零工市场并出台规范化建设意见，2027年底服务灵活就业者超百万人次。", "李强",
        [("出台零工市场规范化建设意见", d(-45)), ("零工驿站覆盖各街乡", d(60))],
        ["tz-gig-market-services"],
    )  # fmt: skip
    # issued ten days ago with a week to reply: unanswered and now overdue
    real_now = ledger.now
    ledger.now = lambda: dt.datetime.combine(d(-10), dt.time(9, 30))  # type: ignore[assignment]
    try:
        ledger.supervision_notice(
            store, OFFICE, "tz-t14", "规范化建设意见已逾期 35 天未出台，请说明原因并报送时间表。", d(-3)
        )
    finally:
        ledger.now = real_now  # type: ignore[assignment]
    ledger.open_account(
        store, COMMERCE, "tz-t10", "倡导品牌餐饮企业推出“暖心餐”，到2027年累计协商门店不少于100家。", "赵丽",
        [("协商门店达到 100 家", d(-10))], ["tz-warm-meal-restaurants"],
    )  # fmt: skip
    row = ledger.account_detail(store, COMMERCE, "tz-t10").milestones.iloc[0]
    ledger.complete_milestone(store, COMMERCE, int(row["milestone_id"]), int(row["version"]), done_date=d(-12))
    ledger.request_closure(
        store, COMMERCE, "tz-t10", "已累计协商暖心餐门店 106 家，超过 100 家的目标，申请销账。",
        [("暖心餐门店名单.txt", "门店名单共 106 家（略）".encode())],
    )  # fmt: skip
    return 3
