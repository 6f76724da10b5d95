"""The `kpi` command line: catalogue, compute, import, demo (and later snapshot, report, release).

Machine-readable output (`--format json`) is a contract other tools read; `--format table` is for people,
in Chinese. Errors go to stderr with a non-zero exit status.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from metrics.cli.common import DB_OPTION, account, open_store, operator_name, user_option
from metrics.ingest.guard import MAX_UPLOAD_MB
from metrics.storage import clock
from metrics.storage.store import Store, default_db_path


def _as_of(value: str | None) -> dt.date:
    if value is None:
        return clock.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"日期格式应为 YYYY-MM-DD / expected YYYY-MM-DD: {value!r}") from None


_open = open_store


def _json_default(o: Any) -> Any:
    if isinstance(o, dt.date):
        return o.isoformat()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """就业项目 KPI 看板命令行 / Employment programme KPI dashboard CLI."""


# --------------------------------------------------------------------------- catalogue


@main.command()
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table")
def catalogue(fmt: str) -> None:
    """List every programme's tasks, KPIs and subsidies (checked)."""
    from metrics.catalogue import CatalogueError, load_catalogues

    try:
        cats = load_catalogues()
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from exc
    if fmt == "json":
        out = {"programmes": [catalogue_record(c) for c in cats.values()]}
        click.echo(json.dumps(out, ensure_ascii=False, indent=2, default=_json_default))
        return
    for cat in cats.values():
        p = cat.programme
        click.echo(
            f"{p.id}  {p.short_title_zh}（{p.district}）  {len(cat.tasks)} 项任务，{len(cat.kpis)} 个指标，"
            f"{len(cat.subsidies)} 项补贴标准"
        )
        for k in cat.kpis:
            t = k.target
            tgt = f"{t.comparator} {t.value:g}（{t.period}）" if t else "监测"
            click.echo(f"  {k.id:<40} {k.name_zh}  {tgt}")


def catalogue_record(cat: Any) -> dict[str, Any]:
    """One programme in the `kpi catalogue --format json` contract."""
    p = cat.programme
    return {
        "id": p.id,
        "title": p.title,
        "district": p.district,
        "valid_from": p.valid_from,
        "valid_to": p.valid_to,
        "document_no": p.document_no,
        "tasks": [t.model_dump(mode="json") for t in cat.tasks],
        "kpis": [
            {
                "id": k.id,
                "name_zh": k.name_zh,
                "name_en": k.name_en,
                "unit": k.unit,
                "clause": k.clause,
                "quote": k.quote,
                "lead_unit": k.lead_unit,
                "task": k.task,
                "monitoring": k.monitoring,
                "measure": k.measure.model_dump(mode="json"),
                "dimensions": k.dimensions,
                "target": None
                if k.target is None
                else {
                    "value": k.target.value,
                    "comparator": k.target.comparator,
                    "period": k.target.period,
                    "start": k.target.start,
                    "deadline": k.target.deadline,
                },
            }
            for k in cat.kpis
        ],
        "subsidies": [s.model_dump(mode="json") for s in cat.subsidies],
    }


# --------------------------------------------------------------------------- compute


@main.command()
@DB_OPTION
@click.option("--as-of", "as_of", default=None, help="Date YYYY-MM-DD (default: today).")
@click.option("--programme", default=None, help="One programme id (default: all).")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table")
def compute(db: Path | None, as_of: str | None, programme: str | None, fmt: str) -> None:
    """Every KPI's actual, target, expected, pace and status as of a date."""
    from metrics.kpi.engine import Engine

    day = _as_of(as_of)
    with _open(db, read_only=True) as store:
        try:
            results = Engine(store).compute(day, programme)
        except KeyError as exc:
            raise click.ClickException(str(exc.args[0])) from exc
    if fmt == "json":
        click.echo(json.dumps([r.contract() for r in results], ensure_ascii=False, indent=2))
        return
    _compute_table(results, day)


def _compute_table(results: list[Any], day: dt.date) -> None:
    from rich.console import Console
    from rich.table import Table

    from metrics.catalogue import load_catalogues
    from metrics.present.format import format_date, format_value, status_label

    names = {k.id: k.name_zh for c in load_catalogues().values() for k in c.kpis}
    table = Table(title=f"截至{format_date(day)}各项指标完成情况", show_lines=False)
    for col in ("方案", "指标", "实际", "目标", "应完成", "进度比", "状态", "统计期"):
        table.add_column(col, overflow="fold")
    for r in results:
        table.add_row(
            r.programme,
            names.get(r.kpi_id, r.kpi_id),
            format_value(r.actual, r.unit),
            f"{r.comparator} {format_value(r.target, r.unit)}" if r.target is not None else "—",
            format_value(r.expected, r.unit) if r.period not in ("rate", "coverage") else "—",
            f"{r.pace:.2f}" if r.pace is not None else "—",
            status_label(r.status),
            f"{r.window_start}～{r.window_end}",
        )
    Console(width=200).print(table)


# --------------------------------------------------------------------------- import


@main.command(name="import")
@DB_OPTION
@click.option("--type", "record_type", default=None, help="Record type (default: from the file name).")
@user_option(required=False)
@click.option(
    "--unit", default=None, help="Uploading unit without --user, e.g. 区人力社保局 (with --user: the account's)."
)
@click.option(
    "--max-size",
    "max_size",
    type=click.FloatRange(min=0, min_open=True),
    default=MAX_UPLOAD_MB,
    show_default=True,
    help="Refuse a file bigger than this many MB before reading it (the app's upload limit).",
)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(
    db: Path | None,
    record_type: str | None,
    user: str | None,
    unit: str | None,
    max_size: float,
    files: tuple[Path, ...],
) -> None:
    """Validate each file whole and write it in one transaction; any bad row rejects the file.

    Each file is read in a worker process with memory, CPU and time limits (docs/uploads.md). With --user the
    file goes through the same permission-checked upload as the app's 数据上传 page (a department account
    imports its own district's rows only)."""
    from rich.progress import Progress

    from metrics.auth.access import AccessDenied
    from metrics.ingest.guard import GuardLimits
    from metrics.ingest.load import ImportReport, import_parsed
    from metrics.ingest.uploads import upload
    from metrics.ingest.worker import WorkerLimits, parse_isolated

    try:
        limits = WorkerLimits.from_env(guard=GuardLimits(max_file_mb=max_size))
    except ValueError as exc:  # a KPI_IMPORT_MAX_* variable that is not a positive number
        raise click.ClickException(str(exc)) from None

    failed = 0
    with _open(db) as store, Progress(transient=True, disable=not sys.stderr.isatty()) as bar:
        principal = account(store, user) if user is not None else None
        for path in files:
            task = bar.add_task(f"校验 {path.name}", total=None)

            def progress(done: int, total: int, task: Any = task) -> None:
                bar.update(task, completed=done, total=total)

            parsed = parse_isolated(path, path.name, record_type, limits=limits, progress=progress)
            bar.remove_task(task)
            report: ImportReport
            if principal is None:
                report = import_parsed(store, parsed, user=operator_name(), unit=unit)
            else:
                try:
                    report = upload(store, principal, parsed)
                except AccessDenied as exc:  # refused and logged by the service; nothing written
                    failed += 1
                    click.echo(f"{path.name}：{exc} / refused for {principal.user}", err=True)
                    continue
            for w in report.warnings:
                click.echo(f"警告 / warning: {path.name}: {w}", err=True)
            if report.ok:
                click.echo(f"{report.summary_zh()}\n  {report.summary_en()}")
                continue
            failed += 1
            click.echo(f"{report.summary_zh()}\n  {report.summary_en()}", err=True)
            for e in report.errors:
                where = f"第{e.row}行" if e.row is not None else "整个文件"
                col = f"「{e.column}」" if e.column else ""
                val = f" 值“{e.value}”" if e.value not in (None, "") else ""
                click.echo(f"  {e.file} {where}{col}{val}：{e.message_zh}  / {e.message_en}", err=True)
    if failed:
        sys.exit(1)


# --------------------------------------------------------------------------- snapshot


@main.command()
@DB_OPTION
@click.option("--as-of", "as_of", default=None, help="Snapshot date YYYY-MM-DD (default: today).")
@click.option("--replace", is_flag=True, help="Replace a snapshot already stored for that date.")
def snapshot(db: Path | None, as_of: str | None, replace: bool) -> None:
    """Store every KPI's value as of a date (the weekly snapshot leadership compares with)."""
    from metrics.kpi.snapshots import SnapshotExists, take_snapshot

    day = _as_of(as_of)
    with _open(db) as store:
        try:
            n = take_snapshot(store, day, replace=replace)
        except SnapshotExists as exc:
            raise click.ClickException(f"{exc}（如需覆盖请加 --replace / use --replace to overwrite）") from exc
    click.echo(f"已保存 {day} 的快照：{n} 个指标 / snapshot of {n} KPIs stored for {day}")


# --------------------------------------------------------------------------- report


@main.group()
def report() -> None:
    """Reports for leadership."""


@report.command()
@DB_OPTION
@click.option("--as-of", "as_of", default=None, help="Briefing date YYYY-MM-DD (default: today).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="HTML file.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@user_option(required=True)
def weekly(db: Path | None, as_of: str | None, out: Path, lang: str, user: str) -> None:
    """One self-contained, printable HTML page: status counts, changes since last week, stale data, and the
    overdue tasks the account may see (--user, e.g. leader)."""
    from metrics.auth.access import AccessDenied
    from metrics.ledger.scorecard import overdue_tasks_frame
    from metrics.reports.briefing import weekly_briefing

    day = _as_of(as_of)
    with _open(db, read_only=True) as store:
        try:
            overdue = overdue_tasks_frame(store, account(store, user), day)
        except AccessDenied as exc:
            raise click.ClickException(str(exc)) from None
        html = weekly_briefing(store, day, lang=lang, overdue_tasks=overdue)
    out.write_text(html, encoding="utf-8")
    click.echo(f"周报已生成 / weekly briefing written: {out} ({len(html.encode('utf-8')) / 1024:.0f} KB)")


# --------------------------------------------------------------------------- demo


@main.command()
@DB_OPTION
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--scale", default=1.0, show_default=True, type=float, help="1 ≈ 100k placements; 100 ≈ 10M.")
@click.option("--as-of", "as_of", default=None, help="Last day of generated data (default: today).")
@click.option("--replace", is_flag=True, help="Overwrite an existing database file.")
@click.option("--snapshots", default=52, show_default=True, type=int, help="Weekly snapshots to back-fill.")
def demo(db: Path | None, seed: int, scale: float, as_of: str | None, replace: bool, snapshots: int) -> None:
    """Build a seeded demo database with all four programmes' data."""
    import time

    from metrics.demo.generate import build_demo

    path = db or default_db_path()
    t0 = time.perf_counter()
    day = _as_of(as_of)
    counts = build_demo(path, seed=seed, scale=scale, as_of=day, replace=replace)
    total = sum(counts.values())
    from metrics.auth.users import create_demo_accounts
    from metrics.demo.ledger import seed_ledger

    with Store.open(path) as store:
        accounts = create_demo_accounts(store)
        seed_ledger(store, clock.today())  # ledger entries are stamped with the product's clock
    click.echo("演示账号 / demo accounts: " + ", ".join(f"{u} / {p}" for u, p in accounts.items()))
    if snapshots:
        from metrics.kpi.snapshots import backfill_snapshots

        with Store.open(path) as store:
            taken = backfill_snapshots(store, day, weeks=snapshots)
        click.echo(f"已生成 {len(taken)} 个周快照 / {len(taken)} weekly snapshots stored ({taken[0]}…{taken[-1]})")
        from metrics.releases.service import demo_release

        with Store.open(path) as store:
            number = demo_release(store, taken[-1])
        click.echo(f"已发布演示统计发布 / demo release published: {number}（截至 {taken[-1]}）")
    click.echo(f"演示数据库已生成 / demo database built: {path} — {total:,} rows in {time.perf_counter() - t0:.1f}s")
    for name, n in counts.items():
        click.echo(f"  {name:<20} {n:>12,}")


def _register() -> None:
    from metrics.cli.admin import backup_cmd, restore_cmd
    from metrics.cli.release import release
    from metrics.cli.users import user

    main.add_command(user)
    main.add_command(release)
    main.add_command(backup_cmd, "backup")
    main.add_command(restore_cmd, "restore")


_register()

if __name__ == "__main__":
    main()
