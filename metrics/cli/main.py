"""The `kpi` command line: catalogue, compute, import, demo (and later snapshot, report, release).

Machine-readable output (`--format json`) is a contract other tools read; `--format table` is for people,
in Chinese. Errors go to stderr with a non-zero exit status.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from metrics.cli.common import DB_OPTION, account, acting_as, open_store, operator_name, through_server, user_option
from metrics.contract.errors import KpiError
from metrics.contract.limits import MAX_UPLOAD_MB
from metrics.storage import clock

# Imports of pandas, DuckDB, Arrow and the release code happen inside the commands that need them, and the
# command groups of other modules load when run (_LazyGroup): `kpi --help` stays fast (docs/rollups.md).


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


class _LazyGroup(click.Group):
    """A group whose sub-commands from other modules are imported only when one of them runs or shows its own
    help; `kpi --help` lists them by the help kept here (tests/test_cli_lazy.py checks it is theirs)."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy  # name -> ("module:attribute", the first paragraph of its help)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            import importlib

            module, attribute = self.lazy[cmd_name][0].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            if name in self.lazy and name not in self.commands:
                rows.append((name, click.Command(name, help=self.lazy[name][1]).get_short_help_str(limit)))
                continue
            cmd = super().get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


# The command groups kept in modules of their own, with the first paragraph of their docstrings.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "backup": (
        "metrics.cli.admin:backup_cmd",
        "Copy the database to a backup file (consistent snapshot; written whole, then renamed). While the server "
        "runs, the server makes the copy.",
    ),
    "lake": (
        "metrics.cli.lake:lake_group",
        "数据湖交换 / Parquet hand-off to a data lake: export and import the record tables.",
    ),
    "release": (
        "metrics.cli.release:release",
        "统计发布 / press releases: create a draft from a snapshot, publish it, list and export.",
    ),
    "restore": ("metrics.cli.admin:restore_cmd", "Bring a backup back as the database; stop the dashboard first."),
    "rollup": (
        "metrics.cli.rollup:rollup_group",
        "汇总表（按日预聚合）的校验与重建 / check and rebuild the rollup tables.",
    ),
    "user": ("metrics.cli.users:user", "账号管理 / Manage user accounts."),
}


@click.group(cls=_LazyGroup, lazy=LAZY_COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option(
    "--engine",
    "engine_name",
    type=click.Choice(["duckdb", "spark"]),
    default="duckdb",
    show_default=True,
    help="Where the SQL runs: the DuckDB file (--db), or Apache Spark over a lake folder or named tables (docs/spark.md).",
)
@click.option(
    "--lake",
    default=None,
    help="Spark: a folder written by `kpi lake export`: a local path or a URI Spark reads (hdfs://…, s3a://…).",
)
@click.option(
    "--tables",
    "tables_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Spark: a YAML file mapping record types to the metastore's table names (docs/spark.md).",
)
@click.option(
    "--master",
    default=None,
    help="Spark: master URL (local[N], yarn, spark://…); default spark-submit's, else local[2].",
)
@click.option("--remote", default=None, help="Spark: a Spark Connect URL (sc://host:15002) instead of --master.")
@click.option(
    "--results-path",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Spark: also write the results as Parquet here, partitioned by as_of (docs/spark.md).",
)
@click.option("--results-table", default=None, help="Spark: also write the results to this metastore table.")
def compute(
    db: Path | None,
    as_of: str | None,
    programme: str | None,
    fmt: str,
    engine_name: str,
    lake: str | None,
    tables_file: Path | None,
    master: str | None,
    remote: str | None,
    results_path: Path | None,
    results_table: str | None,
) -> None:
    """Every KPI's actual, target, expected, pace and status as of a date."""
    from metrics.kpi.engine import Engine

    day = _as_of(as_of)
    if engine_name == "spark":
        if db is not None or (lake is None) == (tables_file is None):
            raise click.UsageError("--engine spark reads --lake DIR or --tables FILE (one of them), not --db")
        from metrics.lake.spark import spark_engine, unprovided, write_results

        try:
            engine = spark_engine(lake=lake, tables_file=tables_file, master=master, remote=remote)
            for source, kpis in unprovided(engine).items():
                click.echo(
                    f"警告：数据湖中没有 {source}，这些指标将显示无数据 / warning: no {source} in the lake or the table "
                    f"mapping; these KPIs will say no data: {', '.join(kpis)}",
                    err=True,
                )
            results = engine.compute(day, programme)
            if results_path is not None or results_table is not None:
                spark = engine.backend.spark  # type: ignore[attr-defined]
                if results_path is not None:
                    write_results(spark, results, day, path=results_path)
                if results_table is not None:
                    write_results(spark, results, day, table=results_table)
        except (KpiError, KeyError, ValueError, FileNotFoundError) as exc:
            raise click.ClickException(str(exc.args[0]) if isinstance(exc, KeyError) else str(exc)) from exc
    else:
        if lake is not None or tables_file is not None or results_path is not None or results_table is not None:
            raise click.UsageError("--lake, --tables and --results-* go with --engine spark")
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
@click.option(
    "--accept-warnings",
    is_flag=True,
    help="Import a file despite its outlier warnings (printed first; kept with the upload, docs/uploads.md).",
)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(
    db: Path | None,
    record_type: str | None,
    user: str | None,
    unit: str | None,
    max_size: float,
    accept_warnings: bool,
    files: tuple[Path, ...],
) -> None:
    """Validate each file whole and write it in one transaction; any bad row rejects the file.

    Each file is read in a worker process with memory, CPU and time limits (docs/uploads.md). With --user the
    file goes through the same permission-checked upload as the app's 数据上传 page (a department account
    imports its own district's rows only)."""
    from rich.progress import Progress

    from metrics.auth.access import AccessDenied
    from metrics.ingest.guard import GuardLimits
    from metrics.ingest.worker import WorkerLimits, parse_isolated
    from metrics.ops.commands import import_parsed_file, report_json

    try:
        limits = WorkerLimits.from_env(guard=GuardLimits(max_file_mb=max_size))
    except ValueError as exc:  # a KPI_IMPORT_MAX_* variable that is not a positive number
        raise click.ClickException(str(exc)) from None

    failed = 0
    remote = _import_through_server(db, record_type, user, unit, max_size, files, accept_warnings)
    if remote is not None:
        failed = remote
        files = ()  # the server imported them
    with contextlib.ExitStack() as stack:
        if files:
            store = stack.enter_context(_open(db))
            bar = stack.enter_context(Progress(transient=True, disable=not sys.stderr.isatty()))
            principal = account(store, user) if user is not None else None
        for path in files:
            task = bar.add_task(f"校验 {path.name}", total=None)

            def progress(done: int, total: int, task: Any = task) -> None:
                bar.update(task, completed=done, total=total)

            parsed = parse_isolated(path, path.name, record_type, limits=limits, progress=progress)
            bar.remove_task(task)
            actor = principal if principal is not None else operator_name()
            try:  # outlier warnings (docs/uploads.md): listed, and the file imported only when accepted
                report = import_parsed_file(store, actor, parsed, unit=unit, accept_warnings=accept_warnings)
            except AccessDenied as exc:  # refused and logged by the service; nothing written
                failed += 1
                click.echo(f"{path.name}：{exc} / refused for {user}", err=True)
                continue
            if not _print_report(report_json(report), path):
                failed += 1
    if failed:
        sys.exit(1)


def _print_report(report: dict[str, Any], path: Path) -> bool:
    """An import report (metrics.ops.commands.report_json) for people; True when the file was imported."""
    for w in report["warnings"]:
        click.echo(f"警告 / warning: {path.name}: {w}", err=True)
    text = f"{report['summary_zh']}\n  {report['summary_en']}"
    if report["ok"]:
        click.echo(text)
        return True
    click.echo(text, err=True)
    for e in report["errors"]:
        where = f"第{e['row']}行" if e["row"] is not None else "整个文件"
        col = f"「{e['column']}」" if e["column"] else ""
        val = f" 值“{e['value']}”" if e["value"] not in (None, "") else ""
        click.echo(f"  {e['file']} {where}{col}{val}：{e['message_zh']}  / {e['message_en']}", err=True)
    return False


def _import_through_server(
    db: Path | None,
    record_type: str | None,
    user: str | None,
    unit: str | None,
    max_size: float,
    files: tuple[Path, ...],
    accept_warnings: bool = False,
) -> int | None:
    """Import each file through the running server (the app's upload code, in the server); the number of files
    that failed, or None when no server answers (the command then opens the database itself)."""
    failed, oversized, answered = 0, [], False
    for path in files:
        if path.stat().st_size > max_size * 1024 * 1024:
            oversized.append(path)
            continue
        params = {"name": path.name, "type": record_type or "", "unit": unit or "", **acting_as(user)}
        params["accept_warnings"] = "1" if accept_warnings else ""
        answer = through_server(db, "import", data=path.read_bytes(), params=params)
        if answer is None:
            if not answered:
                return None
            raise click.ClickException("看板服务在导入过程中停止 / the server stopped during the import")
        answered = True
        if answer.get("refused"):
            failed += 1
            click.echo(f"{path.name}：{answer['refused']} / refused for {user}", err=True)
        elif not _print_report(answer, path):
            failed += 1
    if not answered:
        return None  # nothing was sent: the command's own checks speak for every file
    for path in oversized:
        failed += 1
        click.echo(
            f"{path.name}：文件超过 {max_size:g} MB，未导入 / larger than {max_size:g} MB, not imported", err=True
        )
    return failed


# --------------------------------------------------------------------------- snapshot


@main.command()
@DB_OPTION
@click.option("--as-of", "as_of", default=None, help="Snapshot date YYYY-MM-DD (default: today).")
@click.option("--replace", is_flag=True, help="Replace a snapshot already stored for that date.")
@user_option(required=False)
def snapshot(db: Path | None, as_of: str | None, replace: bool, user: str | None) -> None:
    """Store every KPI's value as of a date (the weekly snapshot leadership compares with). While the server
    runs, the server takes it (the scheduler also takes one every Sunday, docs/server.md)."""
    from metrics.auth.access import AccessDenied
    from metrics.kpi.snapshots import SnapshotExists
    from metrics.ops import commands

    day = _as_of(as_of)
    hint = "（如需覆盖请加 --replace / use --replace to overwrite）"
    answer = through_server(db, "snapshot", {"day": day.isoformat(), "replace": replace, **acting_as(user)})
    if answer is None:
        with _open(db) as store:
            try:
                actor = account(store, user) if user else operator_name()
                answer = commands.snapshot(store, actor, day, replace=replace)
            except SnapshotExists as exc:
                raise click.ClickException(f"{exc}{hint}") from exc
            except AccessDenied as exc:
                raise click.ClickException(str(exc)) from None
    n = answer["kpis"]
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
    from metrics.ops import commands

    day = _as_of(as_of)
    answer = through_server(db, "report", {"day": day.isoformat(), "lang": lang, "user": user})
    if answer is not None:
        html = str(answer["html"])
    else:
        with _open(db, read_only=True) as store:
            try:
                html = commands.weekly_report(store, account(store, user), day, lang=lang)
            except AccessDenied as exc:
                raise click.ClickException(str(exc)) from None
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
    from metrics.storage.store import Store, default_db_path

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


if __name__ == "__main__":
    main()
