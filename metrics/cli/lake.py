"""`kpi lake export` and `kpi lake import`: the record tables as a lake folder of Hive-partitioned Parquet with a
manifest, the hand-off to a municipal data lake (docs/spark.md "The lake folder"). Registered lazily on the `kpi`
group by metrics.cli.main; the work is metrics.lake.parquet's.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from metrics.cli.common import DB_OPTION, open_store, operator_name

__all__ = ["lake_group"]


@click.group("lake")
def lake_group() -> None:
    """数据湖交换 / Parquet hand-off to a data lake: export and import the record tables.

    The folder's layout and manifest are described in docs/spark.md ("The lake folder").
    """


@lake_group.command("export")
@DB_OPTION
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="输出文件夹 / the lake folder to write",
)
@click.option(
    "--force", is_flag=True, help="覆盖以前导出的数据湖文件夹 / replace an earlier lake folder (nothing else)"
)
@click.option(
    "--record",
    "records",
    multiple=True,
    help="只导出这些数据类型（可重复）/ export only these record types (repeatable); default: all",
)
def export_cmd(db: Path | None, out: Path, force: bool, records: tuple[str, ...]) -> None:
    """Write every record table as DIR/<record>/district=<d>/year=<yyyy>/part-0.parquet with DIR/manifest.json."""
    from metrics.lake.parquet import LakeError, export_lake

    t0 = time.perf_counter()
    with open_store(db, read_only=True) as store:
        try:
            manifest = export_lake(store, out, records=records or None, force=force)
        except LakeError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{'数据类型 / record':<22}{'行数 rows':>12}{'文件 files':>12}{'MB':>10}")
    total_bytes = 0
    for name, entry in manifest.records.items():
        size = sum((out / f.path).stat().st_size for f in entry.files)
        total_bytes += size
        click.echo(f"{name:<22}{entry.rows:>12,}{len(entry.files):>12}{size / 1e6:>10.2f}")
    files = sum(len(e.files) for e in manifest.records.values())
    click.echo(f"{'合计 / total':<22}{manifest.total_rows:>12,}{files:>12}{total_bytes / 1e6:>10.2f}")
    click.echo(
        f"已导出到 {out}（结构版本 {manifest.schema_version}，数据版本 {manifest.data_version}）"
        f" / exported to {out} (schema version {manifest.schema_version}, data version {manifest.data_version})"
        f" in {time.perf_counter() - t0:.1f} s"
    )


@lake_group.command("import")
@DB_OPTION
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="数据湖文件夹 / the lake folder to read",
)
@click.option(
    "--replace",
    is_flag=True,
    help="先删除这些数据类型的现有数据（同一事务）/ delete these record types' rows first, in the same transaction",
)
def import_cmd(db: Path | None, source: Path, replace: bool) -> None:
    """Check the folder against its manifest, then load every record type in one transaction."""
    from metrics.lake.parquet import LakeError, import_lake

    t0 = time.perf_counter()
    with open_store(db) as store:
        try:
            result = import_lake(store, source, replace=replace, user=operator_name())
        except LakeError as exc:
            raise click.ClickException(f"{exc}\n未导入任何数据 / nothing was imported") from None
    click.echo(f"{'数据类型 / record':<22}{'导入 loaded':>12}{'替换 replaced':>14}")
    for name, rows in result.loaded.items():
        click.echo(f"{name:<22}{rows:>12,}{result.deleted.get(name, 0):>14,}")
    click.echo(
        f"已导入 {sum(result.loaded.values()):,} 行 / imported {sum(result.loaded.values()):,} rows "
        f"in {time.perf_counter() - t0:.1f} s"
    )
