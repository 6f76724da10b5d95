"""The demo built in pieces, for scales whose tables do not fit in memory (docs/rollups.md "Scale 1000"):
`generate` holds every table at once (about 3 GB at scale 100), `pieces` yields them a few million rows at a
time and `load_pieces` appends each with `Store.bulk_load`, which keeps the rollups, one transaction per piece.

What differs from `generate`: placements are cut by year and district (and into parts of at most `max_rows`
within a year), each piece drawing its rows from its own random stream; the days, person groups, employer
popularity and key projects are the district's, drawn as `generate` draws them, so the volumes, seasons and
mixes are the same and only the individual rows differ. Applications come in groups of subsidy measures, their
ids numbered on across groups; a district's trainings, when more than `max_rows`, as slices of the scale (each
slice a smaller draw of the same profile). Every other record type is exactly `generate`'s tables.
"""

from __future__ import annotations

import datetime as dt
import math
import resource
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from metrics.catalogue import Catalogue
from metrics.contract.records import RECORD_TYPES
from metrics.demo.aims import _load, _programmes
from metrics.demo.arrays import _rng
from metrics.demo.context import Context, _employer_pool, _finish
from metrics.demo.generators.communities import _communities, _graduate_followups
from metrics.demo.generators.enterprises import _contract_returns, _startups
from metrics.demo.generators.events import _disputes, _events, _vacancies
from metrics.demo.generators.people import (
    _placement_days,
    _placement_rows,
    _project_starts,
    _training_counts,
    _trainings,
)
from metrics.demo.generators.reports import _progress_reports, _survey_responses
from metrics.demo.generators.subsidies import _application_parts, _application_table
from metrics.demo.profiles import DISTRICT_PROFILES, DistrictProfile
from metrics.demo.seasons import DEFAULT_AS_OF, Calendar

# Rows of placements (and applications) per piece: about 0.3 GB of Arrow table and 1 GB while it is drawn.
CHUNK_ROWS = 2_000_000

# From this scale up, build_demo and `make bench` build in pieces (scale 100 still fits in memory).
CHUNKED_FROM_SCALE = 200.0

# DuckDB's own memory during a chunked load (it spills to disk beyond it); its default is 80 % of the machine.
DUCKDB_MEMORY_LIMIT = "4GB"

_SCALED = ("placements", "trainings", "applications")


def add_unscaled(ctx: Context, prof: Any, parts: dict[str, list[pa.Table]]) -> None:
    """One district's record types that do not scale (events … survey responses), appended to `parts` in the
    order `generate` draws them; both builds call this, so their small tables are the same."""
    parts["events"].append(_events(ctx, prof))
    parts["vacancies"].append(_vacancies(ctx, prof))
    parts["disputes"].append(_disputes(ctx, prof))
    parts["contract_returns"].append(_contract_returns(ctx, prof))
    parts["startups"].append(_startups(ctx, prof))
    parts["graduate_followups"].append(_graduate_followups(ctx, prof))
    survey = _survey_responses(ctx, prof)
    if survey is not None:
        parts["survey_responses"].append(survey)


def pieces(
    seed: int = 42,
    scale: float = 1.0,
    as_of: dt.date = DEFAULT_AS_OF,
    *,
    catalogues: Mapping[str, Catalogue] | None = None,
    max_rows: int = CHUNK_ROWS,
) -> Iterator[dict[str, pa.Table]]:
    """The demo as a sequence of {record type: table} pieces; at most about max_rows placements or
    applications in one. First every record type that does not scale (as `generate` makes them), then per
    district its trainings and applications, then the placements year by year."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, not {scale}")
    if max_rows < 1:
        raise ValueError(f"max_rows must be positive, not {max_rows}")
    cal = Calendar(as_of)
    programmes = _programmes(_load(catalogues))
    profiles = list(DISTRICT_PROFILES.values())
    ctx = Context(seed, scale, cal, programmes, {})
    for p in profiles:
        ctx.employers[p.name] = _employer_pool(seed, p, int(np.clip(ctx.placements(p) / 6, 500, 8000)))

    small: dict[str, list[pa.Table]] = {name: [] for name in RECORD_TYPES if name not in _SCALED}
    for prof in profiles:
        small["communities"].append(_communities(ctx, prof))  # fills the street and community ids applicants use
    for prof in profiles:
        add_unscaled(ctx, prof, small)
    small["progress_reports"].append(_progress_reports(ctx))
    yield {name: _finish(name, tables) for name, tables in small.items()}
    del small

    for prof in profiles:
        yield from ({"trainings": t} for t in _training_pieces(ctx, prof, max_rows))
        progs = [p for p in programmes if p.profile.name == prof.name]
        yield from ({"applications": t} for t in _application_pieces(ctx, prof, progs, max_rows))

    yield from ({"placements": t} for t in _placement_pieces(ctx, profiles, max_rows))


def _training_pieces(ctx: Context, prof: DistrictProfile, max_rows: int) -> Iterator[pa.Table]:
    """A district's trainings: `generate`'s table when it has at most max_rows rows, else as slices of the scale
    (each a draw of scale / k with its own stream, the district's person pool, ids numbered on per year)."""
    total = sum(count for _, _, count, _ in _training_counts(ctx, prof))
    k = max(1, math.ceil(total / max_rows))
    if k == 1:
        yield _finish("trainings", [_trainings(ctx, prof)])
        return
    part_ctx = Context(
        ctx.seed, ctx.scale / k, ctx.cal, ctx.programmes, ctx.employers, ctx.community_ids, ctx.street_codes
    )
    seq_start: dict[int, int] = {}
    for i in range(k):
        table = _trainings(part_ctx, prof, part=f"{i}/{k}", person_pool=ctx.person_pool(prof), seq_start=seq_start)
        _count_years(seq_start, table.column("start_date"))
        yield _finish("trainings", [table])


def _count_years(seq_start: dict[int, int], dates: pa.ChunkedArray) -> None:
    years, counts = np.unique(dates.to_numpy().astype("datetime64[Y]").astype(np.int64) + 1970, return_counts=True)
    for y, c in zip(years.tolist(), counts.tolist(), strict=True):
        seq_start[y] = seq_start.get(y, 0) + c


def _application_pieces(ctx: Context, prof: DistrictProfile, progs: list[Any], max_rows: int) -> Iterator[pa.Table]:
    """A district's applications, subsidy measures grouped into pieces of at most max_rows rows (a piece
    with one measure may have more)."""
    seq_start: dict[int, int] = {}
    group: list[dict[str, Any]] = []

    def flush() -> pa.Table:
        table = _application_table(ctx, prof, group, seq_start)
        _count_years(seq_start, table.column("submitted_date"))
        group.clear()
        return _finish("applications", [table])

    rows = 0
    for part in _application_parts(ctx, prof, progs):
        if group and rows + len(part["day"]) > max_rows:
            yield flush()
            rows = 0
        group.append(part)
        rows += len(part["day"])
    if group:
        yield flush()


@dataclass
class _DistrictPlacements:
    prof: DistrictProfile
    day: np.ndarray  # int16 day index, sorted
    group: np.ndarray  # int8 person group
    employer_order: np.ndarray
    project_starts: np.ndarray


def _placement_pieces(ctx: Context, profiles: list[DistrictProfile], max_rows: int) -> Iterator[pa.Table]:
    """Placements year by year, each year district by district in parts of at most max_rows rows. Year-major,
    so that a piece's rollup maintenance reads the rows of its own year only (docs/rollups.md)."""
    cal = ctx.cal
    if cal.n > np.iinfo(np.int16).max:
        raise ValueError(f"{cal.n} days do not fit the int16 day index")
    districts = []
    for prof in profiles:
        rng = _rng(ctx.seed, "placements", prof.name)
        day, group = _placement_days(ctx, prof, rng)
        districts.append(
            _DistrictPlacements(
                prof,
                day.astype(np.int16),  # the calendar has fewer than 32,767 days; 3 bytes a row instead of 8
                group.astype(np.int8),
                rng.permutation(len(ctx.employers[prof.name].ids)),  # as generate draws it
                _project_starts(ctx, _rng(ctx.seed, "projects", prof.name)),
            )
        )
        del day, group
    for year in cal.years:
        lo_day, hi_day = cal.year_span(year)
        for d in districts:
            lo, hi = np.searchsorted(d.day, [lo_day, hi_day])
            parts = max(1, math.ceil((hi - lo) / max_rows))
            bounds = np.linspace(lo, hi, parts + 1).astype(np.int64)
            for k in range(parts):
                a, b = int(bounds[k]), int(bounds[k + 1])
                if b <= a:
                    continue
                rng = _rng(ctx.seed, "placements", d.prof.name, f"{year}/{k}")
                yield _finish(
                    "placements",
                    [
                        _placement_rows(
                            ctx,
                            d.prof,
                            rng,
                            d.day[a:b].astype(np.int32),
                            d.group[a:b].astype(np.int32),
                            employer_order=d.employer_order,
                            project_starts=d.project_starts,
                            seq_start=a - int(lo),
                        )
                    ],
                )


@dataclass
class ChunkedLoad:
    """What load_pieces did: rows per record type, pieces, seconds drawing and loading, peak RSS."""

    counts: dict[str, int] = field(default_factory=dict)
    pieces: int = 0
    generate_s: float = 0.0
    load_s: float = 0.0
    peak_rss_mb: float = 0.0


PieceProgress = Callable[[int, Mapping[str, int]], None]


def load_pieces(
    store: Any, tables: Iterator[dict[str, pa.Table]], *, progress: PieceProgress | None = None
) -> ChunkedLoad:
    """Append each piece with `Store.bulk_load` (one transaction per piece, rollups kept in it), drawing the
    next piece only after the last is loaded, so one piece is in memory at a time. A failure leaves the
    pieces before it committed: for a file that appears only when complete (build_demo) or a benchmark file."""
    store.cursor().execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
    out = ChunkedLoad()
    while True:
        t0 = time.perf_counter()
        piece = next(tables, None)
        out.generate_s += time.perf_counter() - t0
        if piece is None:
            break
        t0 = time.perf_counter()
        counts = store.bulk_load(piece)
        out.load_s += time.perf_counter() - t0
        out.pieces += 1
        for name, rows in counts.items():
            out.counts[name] = out.counts.get(name, 0) + rows
        if progress is not None:
            progress(out.pieces, counts)
        del piece
    out.counts = {name: out.counts.get(name, 0) for name in RECORD_TYPES}
    out.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def build_chunked(
    path: Path,
    *,
    seed: int = 42,
    scale: float = 1.0,
    as_of: dt.date = DEFAULT_AS_OF,
    catalogues: Mapping[str, Catalogue] | None = None,
    max_rows: int = CHUNK_ROWS,
    progress: PieceProgress | None = None,
) -> ChunkedLoad:
    """Load the demo into the (new or empty) database file at `path` piece by piece."""
    from metrics.storage.store import Store

    with Store.open(path) as store:
        return load_pieces(
            store, pieces(seed, scale, as_of, catalogues=catalogues, max_rows=max_rows), progress=progress
        )
