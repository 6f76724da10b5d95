"""Press releases (统计发布): the office freezes a weekly snapshot into a numbered, immutable release.

A draft holds everything the press will see — headline figures, breakdown tables already suppressed and
rounded, drafted Chinese statements, all built by metrics.releases.content — as one canonical JSON document
with its SHA-256.
Publishing numbers it (2026年第3期) and never changes it again, so a later data correction cannot alter
a published figure; every read checks the hash. Only published releases reach the press role, and every
call checks the principal's role here in the service layer.

    >>> draft = create_release(store, office, dt.date(2026, 11, 15))
    >>> number = publish_release(store, office, draft)
    >>> get_release(store, press, number).content["programmes"][0]["headlines"][0]["statement"]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from metrics.auth.access import Principal, check
from metrics.auth.access_log import logged_refusals
from metrics.catalogue import Catalogue
from metrics.releases.content import (
    PRIMARY_LABEL,
    SECONDARY_LABEL,
    ReleaseError,
    build_content,
    default_kpis,
    dimension_label,
    statement_zh,
)
from metrics.releases.disclosure import DEFAULT_THRESHOLD
from metrics.storage import changelog, clock
from metrics.storage.changelog import Action
from metrics.storage.store import Store

__all__ = [
    "PRIMARY_LABEL",
    "SECONDARY_LABEL",
    "Release",
    "ReleaseError",
    "ReleaseIntegrityError",
    "build_content",
    "create_release",
    "default_kpis",
    "demo_release",
    "dimension_label",
    "discard_release",
    "get_release",
    "list_releases",
    "publish_release",
    "release_label",
    "statement_zh",
]


class ReleaseIntegrityError(ReleaseError):
    """A stored release whose content no longer matches its hash: it is not served."""


@dataclass(frozen=True)
class Release:
    release_id: int
    release_no: str | None
    as_of: dt.date
    title: str
    state: str
    threshold: int
    content: dict[str, Any]
    content_hash: str
    data_version: int
    created_by: str
    created_at: dt.datetime
    published_by: str | None
    published_at: dt.datetime | None

    @property
    def label(self) -> str:
        return release_label(self.release_no) if self.release_no else f"草稿 #{self.release_id}"


def release_label(release_no: str) -> str:
    """'2026-003' → '2026年第3期'."""
    year, _, seq = release_no.partition("-")
    return f"{year}年第{int(seq)}期"


def _canonical(content: dict[str, Any]) -> str:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _row_to_release(row: tuple[Any, ...], cols: list[str]) -> Release:
    r = dict(zip(cols, row, strict=True))
    if _hash(r["content"]) != r["content_hash"]:
        raise ReleaseIntegrityError(
            f"发布 #{r['release_id']} 的内容与其校验值不符，已停止提供 / release content does not match its hash"
        )
    return Release(
        release_id=int(r["release_id"]),
        release_no=r["release_no"],
        as_of=r["as_of"],
        title=r["title"],
        state=r["state"],
        threshold=int(r["threshold"]),
        content=json.loads(r["content"]),
        content_hash=r["content_hash"],
        data_version=int(r["data_version"]),
        created_by=r["created_by"],
        created_at=r["created_at"],
        published_by=r["published_by"],
        published_at=r["published_at"],
    )


_COLUMNS = (
    "release_id, release_no, as_of, title, state, threshold, content, content_hash, data_version, "
    "created_by, created_at, published_by, published_at"
)


def _fetch(cur: Any, ref: int | str) -> Release | None:
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        res = cur.execute(f"SELECT {_COLUMNS} FROM releases WHERE release_id = ?", [int(ref)])  # noqa: S608
    else:
        res = cur.execute(f"SELECT {_COLUMNS} FROM releases WHERE release_no = ?", [_number_from(ref)])  # noqa: S608
    cols = [d[0] for d in res.description]
    row = res.fetchone()
    return _row_to_release(row, cols) if row else None


def _number_from(ref: str) -> str:
    """Accept '2026-003' or '2026年第3期'."""
    ref = ref.strip()
    if "年第" in ref and ref.endswith("期"):
        year, _, seq = ref.removesuffix("期").partition("年第")
        if year.isdigit() and seq.isdigit():
            return f"{year}-{int(seq):03d}"
    return ref


def _draft(cur: Any, ref: int | str) -> Release:
    """The release `ref`, which must exist and still be a draft (read inside the writing transaction)."""
    rel = _fetch(cur, ref)
    if rel is None:
        raise ReleaseError(f"没有发布 {ref} / no release {ref}")
    if rel.state != "draft":
        done = "已发布" if rel.state == "published" else "已作废"
        raise ReleaseError(f"{rel.label}{done}，不是草稿，不能再发布、作废或修改 / not a draft")
    return rel


def _log(
    cur: Any, principal: Principal, release_id: int, action: Action, old: dict[str, Any] | None, new: dict[str, Any]
) -> None:
    changelog.record(cur, principal.user, "releases", release_id, action, old, new)


@logged_refusals
def create_release(
    store: Store,
    principal: Principal,
    as_of: dt.date,
    *,
    title: str | None = None,
    kpi_ids: list[str] | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    catalogues: dict[str, Catalogue] | None = None,
    now: Any = clock.now,
) -> tuple[int, list[str]]:
    """A draft from the snapshot of `as_of` (office only); returns its id and the reviewer's warnings."""
    check(principal, "release.manage")
    content, warnings = build_content(
        store, as_of, kpi_ids=kpi_ids, threshold=threshold, title=title, catalogues=catalogues
    )
    text = _canonical(content)
    with store.transaction() as cur:
        same = cur.execute(
            "SELECT release_no FROM releases WHERE state = 'published' AND content_hash = ? ORDER BY release_no",
            [_hash(text)],
        ).fetchall()
        warnings += [f"内容与已发布的{release_label(no)}完全相同，无需重复发布" for (no,) in same]
        row = cur.execute(
            "INSERT INTO releases (as_of, title, state, threshold, content, content_hash, data_version, created_by, "
            "created_at) VALUES (?, ?, 'draft', ?, ?, ?, (SELECT version FROM data_version), ?, ?) RETURNING release_id",
            [as_of, content["title"], threshold, text, _hash(text), principal.user, now()],
        ).fetchone()
        assert row is not None
        release_id = int(row[0])
        _log(
            cur,
            principal,
            release_id,
            Action.CREATE,
            None,
            {"as_of": as_of.isoformat(), "state": "draft", "content_hash": _hash(text)},
        )
    return release_id, warnings


@logged_refusals
def publish_release(store: Store, principal: Principal, ref: int | str, *, now: Any = clock.now) -> str:
    """Number and publish a draft (office only); returns the release number. A published release never changes."""
    check(principal, "release.manage")
    with store.transaction() as cur:
        rel = _draft(cur, ref)
        at = now()
        prefix = f"{at.year}-"
        last = cur.execute("SELECT max(release_no) FROM releases WHERE release_no LIKE ?", [prefix + "%"]).fetchone()
        seq = int(last[0].partition("-")[2]) + 1 if last and last[0] else 1
        number = f"{at.year}-{seq:03d}"
        cur.execute(
            "UPDATE releases SET state = 'published', release_no = ?, published_by = ?, published_at = ? "
            "WHERE release_id = ? AND state = 'draft'",
            [number, principal.user, at, rel.release_id],
        )
        _log(
            cur,
            principal,
            rel.release_id,
            Action.PUBLISH,
            {"state": "draft"},
            {"state": "published", "release_no": number, "content_hash": rel.content_hash},
        )
    return number


@logged_refusals
def discard_release(store: Store, principal: Principal, ref: int | str) -> None:
    """Mark a draft discarded (office only); published releases cannot be discarded."""
    check(principal, "release.manage")
    with store.transaction() as cur:
        rel = _draft(cur, ref)
        cur.execute(
            "UPDATE releases SET state = 'discarded' WHERE release_id = ? AND state = 'draft'", [rel.release_id]
        )
        _log(cur, principal, rel.release_id, Action.DISCARD, {"state": "draft"}, {"state": "discarded"})


@logged_refusals
def list_releases(store: Store, principal: Principal, *, include_drafts: bool = False) -> list[Release]:
    """The release archive, newest first: published ones for everyone allowed; drafts for the office only."""
    check(principal, "release.read_published")
    states = ["published"]
    if include_drafts:
        check(principal, "release.manage")
        states.append("draft")
    res = store.cursor().execute(
        f"SELECT {_COLUMNS} FROM releases WHERE list_contains(?, state) "  # noqa: S608
        "ORDER BY (state = 'draft') DESC, release_no DESC NULLS FIRST, release_id DESC",
        [states],
    )
    cols = [d[0] for d in res.description]
    return [_row_to_release(r, cols) for r in res.fetchall()]


@logged_refusals
def get_release(store: Store, principal: Principal, ref: int | str) -> Release:
    """One release by id or number. Anyone but the office gets published releases only — an unpublished one is
    refused (and logged) exactly like a missing permission, whatever page or script asked."""
    check(principal, "release.read_published")
    rel = _fetch(store.cursor(), ref)
    if rel is None:
        raise ReleaseError(f"没有发布 {ref} / no release {ref}")
    if rel.state != "published":
        check(principal, "release.manage")
    return rel


def demo_release(store: Store, as_of: dt.date) -> str:
    """The demo database's first published release, from its latest snapshot (made as the demo office)."""
    office = Principal("office", "office")
    rid, _ = create_release(store, office, as_of)
    return publish_release(store, office, rid)
