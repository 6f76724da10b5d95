"""Task-ledger entries for the demo database, written through the ledger service like a department would.

So a new user sees the 建账-督办-销账 cycle at work: accounts with done, overdue and coming milestones, an
update with evidence, an unanswered supervision notice past its reply date, and a closure awaiting approval.
"""

from __future__ import annotations

import datetime as dt

from metrics import ledger
from metrics.auth.access import Principal
from metrics.storage import clock
from metrics.storage.store import Store

# The demo accounts (metrics.auth.users.DEMO_ACCOUNTS): 西城区人力社保局 and 通州区商务局.
HRSS = Principal("hrss", "department", unit="区人力社保局", district="西城区")
COMMERCE = Principal("commerce", "department", unit="区商务局", district="通州区")
OFFICE = Principal("office", "office")


def seed_ledger(store: Store, as_of: dt.date) -> int:
    """Open two Xicheng task accounts (西城区人力社保局) and one Tongzhou account (通州区商务局) and walk them
    through the cycle; returns the accounts opened."""
    d = lambda days: as_of + dt.timedelta(days=days)  # noqa: E731
    ledger.open_account(
        store, HRSS, "xc-t08", "对本区户籍离校未就业高校毕业生100%摸查回访；每季度开展网络招聘专项活动；困难家庭毕业生“一生一策”。",
        "王敏",
        [("一季度网络招聘专项活动", d(-235)), ("离校未就业毕业生摸查回访", d(-20)), ("全年回访全覆盖", d(40))],
        ["xc-graduate-followup-coverage", "xc-graduate-online-recruitment-events"],
    )  # fmt: skip
    first = ledger.account_detail(store, HRSS, "xc-t08").milestones.iloc[0]
    ledger.complete_milestone(store, HRSS, int(first["milestone_id"]), int(first["version"]), done_date=d(-240))
    ledger.append_update(
        store, HRSS, "xc-t08", 85, "截至本周已回访离校未就业毕业生 412 人，开展网络招聘专项活动 6 场；剩余回访进行中。",
        evidence=[("回访台账说明.txt", "10月回访名单共 58 人，附街道盖章页。".encode())],
    )  # fmt: skip
    ledger.open_account(
        store, HRSS, "xc-t11", "加强新就业形态招聘信息采集发布，组织平台企业开展技能和法律知识培训，即时开展职业指导。",
        "李强",
        [("出台新就业形态招聘信息采集办法", d(-45)), ("平台企业培训覆盖各街道", d(60))],
        ["xc-new-form-vacancies", "xc-career-guidance-events"],
    )  # fmt: skip
    # issued ten days ago with a week to reply: unanswered and now overdue
    with clock.pinned(dt.datetime.combine(d(-10), dt.time(9, 30))):
        ledger.supervision_notice(
            store, OFFICE, "xc-t11", "招聘信息采集办法已逾期 35 天未出台，请说明原因并报送时间表。", d(-3)
        )
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
