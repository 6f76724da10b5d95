"""Load the programme catalogues (this folder's YAML files) and run the named cross-checks.

>>> from metrics.catalogue import load_catalogues
>>> cats = load_catalogues()          # every programme, checked
>>> cats["tongzhou-2025"].kpis[0].target
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import yaml
from pydantic import ValidationError

from metrics.catalogue.models import (
    BaseMeasure,
    Catalogue,
    CoverageMeasure,
    Filter,
    Kpi,
    MeanMeasure,
    Programme,
    RatioMeasure,
    ReportedMeasure,
    SqlMeasure,
    Subsidy,
    Target,
    Task,
)
from metrics.contract.errors import KpiError
from metrics.contract.records import DISTRICTS, RECORD_TYPES, known_columns

__all__ = [
    "CATALOGUE_DIR",
    "SOURCES_DIR",
    "Catalogue",
    "CatalogueError",
    "Kpi",
    "Programme",
    "Subsidy",
    "Target",
    "Task",
    "catalogue_version",
    "check_catalogue",
    "load_catalogue",
    "load_catalogues",
    "source_text",
]

CATALOGUE_DIR = Path(__file__).parent
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SOURCES_DIR = Path(__file__).resolve().parent / "sources"  # package data: found in a wheel too
SQL_DIR = Path(__file__).resolve().parents[1] / "kpi" / "sql"


def catalogue_version() -> str:
    """The definitions' fingerprint: SHA-256 (first 12 hex digits) of the catalogue files and the named query
    files, in name order. Results computed elsewhere carry it (docs/spark.md "Results written back"), so a reader
    can tell which definitions produced a figure."""
    h = hashlib.sha256()
    for path in sorted([*CATALOGUE_DIR.glob("*.yaml"), *SQL_DIR.glob("*.sql")], key=lambda p: p.name):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:12]


class CatalogueError(KpiError, ValueError):
    """A catalogue file that does not load or breaks a cross-check; lists every problem."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{path}:\n  " + "\n  ".join(problems))


def _squash(text: str) -> str:
    """Whitespace- and markup-insensitive form for 'does the quote occur in the document'."""
    return re.sub(r"[\s*#\u3000]+", "", text)


@functools.cache
def source_text(programme_id: str) -> str:
    """The full text of a programme's source document, as kept under metrics/catalogue/sources/."""
    return (SOURCES_DIR / f"{programme_id}.txt").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- named cross-checks

Check = Callable[[Catalogue], Iterator[str]]
CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        CHECKS[name] = fn
        return fn

    return register


@check("ids are unique")
def _unique_ids(cat: Catalogue) -> Iterator[str]:
    seen: set[str] = set()
    for kind, items in (("task", cat.tasks), ("kpi", cat.kpis), ("subsidy", cat.subsidies)):
        for item in items:
            if item.id in seen:
                yield f"{kind} id {item.id!r} is used twice"
            seen.add(item.id)


@check("district is a Beijing district")
def _district(cat: Catalogue) -> Iterator[str]:
    if cat.programme.district not in DISTRICTS:
        yield f"programme district {cat.programme.district!r} is not one of Beijing's 16 districts"


@check("references point to known tasks")
def _task_refs(cat: Catalogue) -> Iterator[str]:
    tasks = {t.id for t in cat.tasks}
    for kpi in cat.kpis:
        if kpi.task not in tasks:
            yield f"kpi {kpi.id}: unknown task {kpi.task!r}"
    for sub in cat.subsidies:
        if sub.task is not None and sub.task not in tasks:
            yield f"subsidy {sub.id}: unknown task {sub.task!r}"


def _filters_ok(where: str, source: str, filters: Iterable[Filter]) -> Iterator[str]:
    cols = known_columns(source)
    for f in filters:
        if f.column not in cols:
            yield f"{where}: unknown column {f.column!r} of {source}"
            continue
        if f.column in RECORD_TYPES[source].column_names:
            col = RECORD_TYPES[source].column(f.column)
            if col.choices:
                operands = f.values or ([f.value] if f.value is not None else [])
                for v in operands:
                    if v not in col.choices:
                        yield f"{where}: {v!r} is not a value of {source}.{f.column}"


def _simple_ok(where: str, m: BaseMeasure) -> Iterator[str]:
    source = m.source
    if source not in RECORD_TYPES:
        yield f"{where}: unknown record type {source!r}"
        return
    cols = known_columns(source)
    for attr in ("column", "date_column"):
        col = getattr(m, attr, None)
        if col is not None and col not in cols:
            yield f"{where}: unknown {attr} {col!r} of {source}"
    if getattr(m, "date_column", None) is None and RECORD_TYPES[source].date_column is None:
        yield f"{where}: {source} has no date column; name one"
    yield from _filters_ok(where, source, getattr(m, "filters", []))


@check("measures name known record types and columns")
def _measures(cat: Catalogue) -> Iterator[str]:
    for kpi in cat.kpis:
        m = kpi.measure
        where = f"kpi {kpi.id}"
        if isinstance(m, RatioMeasure):
            yield from _simple_ok(where + " numerator", m.numerator)
            yield from _simple_ok(where + " denominator", m.denominator)
            sources = {m.numerator.source, m.denominator.source}
        elif isinstance(m, CoverageMeasure):
            if m.source not in RECORD_TYPES:
                yield f"{where}: unknown record type {m.source!r}"
                continue
            for col in (m.unit_column, m.snapshot_column):
                if col is not None and col not in known_columns(m.source):
                    yield f"{where}: unknown column {col!r} of {m.source}"
            yield from _filters_ok(where, m.source, [*m.condition, *m.filters])
            sources = {m.source}
        elif isinstance(m, ReportedMeasure):
            sources = {"progress_reports"}
        elif isinstance(m, SqlMeasure):
            if not (SQL_DIR / m.file).is_file():
                yield f"{where}: no SQL file metrics/kpi/sql/{m.file}"
            if m.source not in RECORD_TYPES:
                yield f"{where}: unknown record type {m.source!r}"
            sources = {m.source}
        else:
            yield from _simple_ok(where, m)
            sources = {m.source}
        for dim in kpi.dimensions:
            if not all(s in RECORD_TYPES and dim in known_columns(s) for s in sources):
                yield f"{where}: dimension {dim!r} is not a column of {', '.join(sorted(sources))}"


@check("every KPI has a target or is marked monitoring; kinds fit periods")
def _targets(cat: Catalogue) -> Iterator[str]:
    for kpi in cat.kpis:
        m, t = kpi.measure, kpi.target
        if isinstance(m, MeanMeasure) and not kpi.monitoring:
            yield f"kpi {kpi.id}: mean measures are monitoring only"
        if t is None:
            continue
        if isinstance(m, ReportedMeasure):
            continue  # a reported number may be a count, a share or a coverage
        is_share = isinstance(m, RatioMeasure | CoverageMeasure) or (isinstance(m, SqlMeasure) and m.ratio)
        if is_share != (t.period in ("rate", "coverage")):
            yield f"kpi {kpi.id}: a {m.kind} measure does not fit a {t.period} target"
        if isinstance(m, CoverageMeasure) != (t.period == "coverage"):
            yield f"kpi {kpi.id}: coverage targets go with coverage measures"


@check("quotes occur verbatim in the source document")
def _quotes(cat: Catalogue) -> Iterator[str]:
    try:
        text = _squash(source_text(cat.programme.id))
    except FileNotFoundError:
        yield f"no source document metrics/catalogue/sources/{cat.programme.id}.txt"
        return
    items: list[tuple[str, str | None]] = [(f"kpi {k.id}", k.quote) for k in cat.kpis]
    items += [(f"subsidy {s.id}", s.quote) for s in cat.subsidies]
    items += [(f"task {t.id}", t.quote) for t in cat.tasks]
    for where, quote in items:
        if quote is not None and _squash(quote) not in text:
            yield f"{where}: quote not found in the source document: {quote[:40]}…"


@check("subsidies carry an amount, a share or tiers, unless the document gives none")
def _subsidy_amounts(cat: Catalogue) -> Iterator[str]:
    for s in cat.subsidies:
        if s.amount is None and s.share is None and not s.tiers and not s.notes:
            yield f"subsidy {s.id}: no amount, share or tiers; say why in notes"


def check_catalogue(cat: Catalogue) -> list[str]:
    """Every problem the named checks find, as '<check>: <problem>' lines."""
    return [f"{name}: {problem}" for name, fn in CHECKS.items() for problem in fn(cat)]


def load_catalogue(path: Path | str) -> Catalogue:
    """Parse and check one catalogue file; raises CatalogueError listing every problem."""
    path = Path(path)
    try:
        # libyaml's parser where PyYAML has it: the pure-Python one took half a second for the four files,
        # which every `kpi compute` pays (docs/rollups.md, "the command line")
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
        cat = Catalogue.model_validate(raw)
    except yaml.YAMLError as exc:
        raise CatalogueError(path, [f"YAML: {exc}"]) from exc
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise CatalogueError(path, problems) from exc
    problems = check_catalogue(cat)
    if cat.programme.id != path.stem:
        problems.append(f"programme id {cat.programme.id!r} does not match the file name")
    if problems:
        raise CatalogueError(path, problems)
    return cat


@functools.cache
def load_catalogues(folder: Path | None = None) -> dict[str, Catalogue]:
    """All programmes, keyed by id, in file-name order; checks ids are unique across programmes."""
    cats = {p.stem: load_catalogue(p) for p in sorted((folder or CATALOGUE_DIR).glob("*.yaml"))}
    seen: dict[str, str] = {}
    clashes = []
    for pid, cat in cats.items():
        items: list[Task | Kpi | Subsidy] = [*cat.tasks, *cat.kpis, *cat.subsidies]
        for item in items:
            if item.id in seen and seen[item.id] != pid:
                clashes.append(f"id {item.id!r} used in {seen[item.id]} and {pid}")
            seen[item.id] = pid
    if clashes:
        raise CatalogueError(folder or CATALOGUE_DIR, clashes)
    return cats
