"""`kpi release create|publish|discard|list|show|export`: press releases from the command line.

Each command acts as a named account (`--user`, looked up in the users table), so the same service-layer
checks apply as in the app: only the office creates and publishes; the press reads published releases only.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from metrics.auth.access import AccessDenied
from metrics.cli.common import DB_OPTION, account, open_store, user_option
from metrics.releases.disclosure import DEFAULT_THRESHOLD
from metrics.releases.service import (
    Release,
    ReleaseError,
    create_release,
    discard_release,
    get_release,
    list_releases,
    publish_release,
)

__all__ = ["release"]

_USER = user_option(required=True)


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@click.group("release")
def release() -> None:
    """统计发布 / press releases: create a draft from a snapshot, publish it, list and export."""


@release.command("create")
@DB_OPTION
@_USER
@click.option("--as-of", "as_of", required=True, help="周快照日期 YYYY-MM-DD / snapshot date")
@click.option("--title", default=None, help="发布标题 / title")
@click.option("--threshold", default=DEFAULT_THRESHOLD, show_default=True, help="小数抑制阈值 / suppression threshold")
@click.option("--kpi", "kpis", multiple=True, help="收入的指标（可重复；默认全部有目标且有数值的指标）")
def create_cmd(
    db: Path | None, user: str, as_of: str, title: str | None, threshold: int, kpis: tuple[str, ...]
) -> None:
    """Create a draft release from the weekly snapshot of --as-of."""
    try:
        day = dt.date.fromisoformat(as_of)
    except ValueError:
        raise click.BadParameter(f"日期格式应为 YYYY-MM-DD / expected YYYY-MM-DD: {as_of!r}") from None
    with open_store(db) as store:
        try:
            rid, warnings = create_release(
                store, account(store, user), day, title=title, kpi_ids=list(kpis) or None, threshold=threshold
            )
        except (ReleaseError, AccessDenied) as exc:
            raise _fail(exc) from exc
        rel = get_release(store, account(store, user), rid)
    click.echo(f"已生成草稿 #{rid}（{rel.content['title']}）：{_summary(rel)}")
    for w in warnings:
        click.echo(f"  提示：{w}")
    click.echo(f"审核后发布：kpi release publish {rid} --user {user}")


def _summary(rel: Release) -> str:
    n = sum(len(p["headlines"]) for p in rel.content["programmes"])
    return f"{n} 项主要指标，{len(rel.content['tables'])} 张分组表，内容校验值 {rel.content_hash[:12]}…"


@release.command("publish")
@DB_OPTION
@_USER
@click.argument("ref")
def publish_cmd(db: Path | None, user: str, ref: str) -> None:
    """Publish a draft (by id); it gets its number and never changes again."""
    with open_store(db) as store:
        try:
            number = publish_release(store, account(store, user), ref)
        except (ReleaseError, AccessDenied) as exc:
            raise _fail(exc) from exc
        rel = get_release(store, account(store, user), number)
    click.echo(f"已发布 {rel.label}（{number}）：{_summary(rel)}")


@release.command("discard")
@DB_OPTION
@_USER
@click.argument("ref")
def discard_cmd(db: Path | None, user: str, ref: str) -> None:
    """Discard a draft."""
    with open_store(db) as store:
        try:
            discard_release(store, account(store, user), ref)
        except (ReleaseError, AccessDenied) as exc:
            raise _fail(exc) from exc
    click.echo(f"草稿 {ref} 已作废")


@release.command("list")
@DB_OPTION
@_USER
@click.option("--drafts", is_flag=True, help="也列出草稿（office）/ include drafts")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def list_cmd(db: Path | None, user: str, drafts: bool, fmt: str) -> None:
    """The release archive, newest first."""
    with open_store(db) as store:
        try:
            rels = list_releases(store, account(store, user), include_drafts=drafts)
        except AccessDenied as exc:
            raise _fail(exc) from exc
    if fmt == "json":
        out = [
            {
                "release_id": r.release_id,
                "release_no": r.release_no,
                "label": r.label,
                "state": r.state,
                "as_of": r.as_of.isoformat(),
                "title": r.title,
                "content_hash": r.content_hash,
                "published_at": r.published_at.isoformat() if r.published_at else None,
            }
            for r in rels
        ]
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if not rels:
        click.echo("暂无发布 / no releases")
    for r in rels:
        when = f"{r.published_at:%Y-%m-%d %H:%M} {r.published_by}" if r.published_at else f"草稿，{r.created_by}"
        click.echo(f"{r.label:<12} #{r.release_id:<4} 截至 {r.as_of}  {r.title}  [{when}]  {r.content_hash[:12]}")


@release.command("export")
@DB_OPTION
@_USER
@click.argument("ref")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["zip", "xlsx", "json", "text"]),
    default="zip",
    show_default=True,
    help="zip = 新闻发布资料包（表格、CSV、图表、参考表述）",
)
def export_cmd(db: Path | None, user: str, ref: str, out: Path, fmt: str) -> None:
    """Write a release (by number, e.g. 2026-001 or 2026年第1期) as a press pack, workbook, JSON or statements."""
    from metrics.releases.export import FontMissing, press_pack, release_xlsx, statements_text

    with open_store(db) as store:
        try:
            rel = get_release(store, account(store, user), ref)
        except (ReleaseError, AccessDenied) as exc:
            raise _fail(exc) from exc
    try:
        if fmt == "zip":
            data = press_pack(rel)
        elif fmt == "xlsx":
            data = release_xlsx(rel)
        elif fmt == "json":
            data = json.dumps(rel.content, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
        else:
            data = statements_text(rel).encode("utf-8")
    except FontMissing as exc:
        raise _fail(exc) from exc
    tmp = out.with_name(out.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(out)
    click.echo(f"已导出 {rel.label} → {out}（{len(data):,} 字节）")
