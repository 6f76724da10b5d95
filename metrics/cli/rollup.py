"""`kpi rollup verify` and `kpi rollup rebuild`: the operator's commands for the rollup tables the engine answers
from (docs/rollups.md). Registered on the `kpi` group by metrics.cli.main.

verify recomputes every rollup from the base tables and compares group by group: exit status 0 when all agree,
1 with a report of each difference. rebuild recomputes them all in one transaction.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from metrics.cli.common import DB_OPTION, open_store

__all__ = ["rollup_group"]


@click.group("rollup")
def rollup_group() -> None:
    """汇总表（按日预聚合）的校验与重建 / check and rebuild the rollup tables."""


@rollup_group.command("verify")
@DB_OPTION
def verify_cmd(db: Path | None) -> None:
    """Recompute every rollup from the base tables and compare; exit 1 on any difference."""
    from metrics.storage import rollup

    t0 = time.perf_counter()
    with open_store(db) as store:
        names = [r.name for r in rollup.registered(store.cursor())]
        differences = rollup.verify(store.cursor())
    took = time.perf_counter() - t0
    if not differences:
        click.echo(
            f"汇总表与明细数据一致：{len(names)} 张表 / all {len(names)} rollups match the base tables ({took:.1f} s)"
        )
        return
    click.echo(
        f"汇总表与明细数据不一致：{len(differences)} 张表 / {len(differences)} of {len(names)} rollups differ "
        "from the base tables",
        err=True,
    )
    for d in differences:
        click.echo(
            f"  {d.rollup}: 缺少或不同的分组 {d.missing} 个，多余的分组 {d.extra} 个 / "
            f"{d.missing} group(s) missing or different, {d.extra} extra",
            err=True,
        )
        for example in d.examples:
            click.echo(f"    {example}", err=True)
    click.echo("请运行 kpi rollup rebuild 重建 / run `kpi rollup rebuild` to rebuild them", err=True)
    sys.exit(1)


@rollup_group.command("rebuild")
@DB_OPTION
def rebuild_cmd(db: Path | None) -> None:
    """Recompute every rollup from the base tables, in one transaction."""
    from metrics.storage import rollup

    t0 = time.perf_counter()
    with open_store(db) as store, store.transaction() as cur:
        built = rollup.rebuild(cur)
    click.echo(f"已重建 {len(built)} 张汇总表 / rebuilt {len(built)} rollups ({time.perf_counter() - t0:.1f} s)")
    for name in built:
        click.echo(f"  {name}")
