"""Builds the demo: every record type as an Arrow table (`generate`), loaded into a new database file that
appears only when complete (`build_demo`), and the `python -m metrics.demo` command (`main`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from metrics.catalogue import Catalogue
from metrics.contract.errors import KpiError
from metrics.contract.records import RECORD_TYPES
from metrics.demo.aims import _load, _programmes
from metrics.demo.chunks import CHUNKED_FROM_SCALE, add_unscaled, load_pieces, pieces
from metrics.demo.context import Context, _employer_pool, _finish
from metrics.demo.generators.communities import _communities
from metrics.demo.generators.people import _placements, _trainings
from metrics.demo.generators.reports import _progress_reports
from metrics.demo.generators.subsidies import _applications
from metrics.demo.profiles import DISTRICT_PROFILES
from metrics.demo.seasons import DEFAULT_AS_OF, Calendar
from metrics.storage.store import Store


class DemoDatabaseExists(KpiError, FileExistsError):
    """build_demo was pointed at an existing file without replace=True (the message is Chinese, then English)."""


def generate(
    seed: int = 42,
    scale: float = 1.0,
    as_of: dt.date = DEFAULT_AS_OF,
    *,
    catalogues: Mapping[str, Catalogue] | None = None,
) -> dict[str, pa.Table]:
    """Every record type as an Arrow table (keys in records.py order); same arguments, same tables.

    scale multiplies placements, trainings and applications (1.0: about 100,000 placements and 20,000
    trainings); the other record types follow the catalogues' targets and do not scale.
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, not {scale}")
    cal = Calendar(as_of)
    programmes = _programmes(_load(catalogues))
    profiles = list(DISTRICT_PROFILES.values())
    ctx = Context(seed, scale, cal, programmes, {})
    for p in profiles:
        ctx.employers[p.name] = _employer_pool(seed, p, int(np.clip(ctx.placements(p) / 6, 500, 8000)))
    parts: dict[str, list[pa.Table]] = {name: [] for name in RECORD_TYPES}
    for prof in profiles:
        parts["communities"].append(_communities(ctx, prof))
    for prof in profiles:
        parts["placements"].append(_placements(ctx, prof))
        parts["trainings"].append(_trainings(ctx, prof))
        apps = _applications(ctx, prof, [p for p in programmes if p.profile.name == prof.name])
        if apps is not None:
            parts["applications"].append(apps)
        add_unscaled(ctx, prof, parts)
    parts["progress_reports"].append(_progress_reports(ctx))
    return {name: _finish(name, tables) for name, tables in parts.items()}


Progress = Callable[[str, int, int], None]


def _write(
    path: Path,
    tables: Mapping[str, pa.Table] | Iterator[dict[str, pa.Table]],
    *,
    replace: bool,
    progress: Progress | None,
) -> dict[str, int]:
    """Load the tables into a new database file next to `path`, then move it into place. A mapping is loaded
    in one transaction; an iterator of pieces (metrics/demo/chunks.py) one transaction per piece."""
    building = path.with_name(path.name + ".building")
    for leftover in (building, Path(f"{building}.wal")):
        leftover.unlink(missing_ok=True)
    try:
        with Store.open(building) as store:
            # a mapping: one transaction, one commit (docs/rollups.md "Bulk load"); pieces: one each
            counts = store.bulk_load(tables) if isinstance(tables, Mapping) else load_pieces(store, tables).counts
        if progress is not None:
            for i, name in enumerate(counts, 1):
                progress(name, i, len(counts))
    except BaseException:
        building.unlink(missing_ok=True)
        Path(f"{building}.wal").unlink(missing_ok=True)
        raise
    if path.exists():
        if not replace:
            building.unlink(missing_ok=True)
            raise DemoDatabaseExists(_exists_message(path))
        path.unlink()
    Path(f"{path}.wal").unlink(missing_ok=True)
    os.replace(building, path)
    return counts


def _exists_message(path: Path, how: str = "replace=True") -> str:
    return f"数据库文件已存在：{path}；如需重建演示数据请指定 {how}。/ {path} exists; pass {how} to rebuild it."


def build_demo(
    db: Path | str,
    *,
    seed: int = 42,
    scale: float = 1.0,
    as_of: dt.date = DEFAULT_AS_OF,
    progress: Progress | None = None,
    replace: bool = False,
    catalogues: Mapping[str, Catalogue] | None = None,
    chunked: bool | None = None,
) -> dict[str, int]:
    """Create a demo database file at `db` and return the rows written per record type.

    Refuses an existing file unless replace=True. progress(record_type, done, total) is called for each
    table once the load has committed; the file appears only when complete. chunked: generate and load in
    pieces of bounded memory (metrics/demo/chunks.py; other rows than `generate`'s, same profile); None
    chooses it from scale CHUNKED_FROM_SCALE up.
    """
    path = Path(db)
    if path.exists() and not replace:
        raise DemoDatabaseExists(_exists_message(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    if chunked is None:
        chunked = scale >= CHUNKED_FROM_SCALE
    if chunked:
        return _write(path, pieces(seed, scale, as_of, catalogues=catalogues), replace=replace, progress=progress)
    tables = generate(seed, scale, as_of, catalogues=catalogues)
    return _write(path, tables, replace=replace, progress=progress)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m metrics.demo [DB] [--scale N] [--seed N] [--as-of DATE] [--replace]`."""
    from metrics.storage.store import default_db_path

    parser = argparse.ArgumentParser(prog="python -m metrics.demo", description="Build the demo database.")
    parser.add_argument("db", nargs="?", type=Path, default=default_db_path())
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=DEFAULT_AS_OF)
    parser.add_argument("--replace", action="store_true", help="rebuild an existing file")
    parser.add_argument(
        "--chunked",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"generate and load in pieces of bounded memory (default: from scale {CHUNKED_FROM_SCALE:g} up)",
    )
    args = parser.parse_args(argv)
    if args.db.exists() and not args.replace:
        print(_exists_message(args.db, "--replace"), file=sys.stderr)
        return 1
    args.db.parent.mkdir(parents=True, exist_ok=True)
    chunked = args.scale >= CHUNKED_FROM_SCALE if args.chunked is None else args.chunked
    t0 = time.perf_counter()
    if chunked:
        counts = _write(args.db, pieces(args.seed, args.scale, args.as_of), replace=args.replace, progress=None)
        t1 = t2 = time.perf_counter()
    else:
        tables = generate(args.seed, args.scale, args.as_of)
        t1 = time.perf_counter()
        counts = _write(args.db, tables, replace=args.replace, progress=None)
        t2 = time.perf_counter()
    for name, rows in counts.items():
        print(f"{name:20s} {rows:>12,}")
    size = args.db.stat().st_size / 1e6
    if chunked:
        print(f"分块生成并导入 / generated and loaded in pieces {t2 - t0:.1f} s · {args.db} {size:,.0f} MB")
    else:
        print(f"generate {t1 - t0:.1f} s · load {t2 - t1:.1f} s · {args.db} {size:,.0f} MB")
    return 0
