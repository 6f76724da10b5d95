"""Which part of the demo each catalogue KPI depends on (its role, by the shape of its measure), and the
status the demo steers it to, decided by the engine's own rule (metrics.kpi.status, docs/kpi-semantics.md)
with each KPI's thresholds.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from metrics.catalogue import CATALOGUE_DIR, Catalogue, CatalogueError, Kpi, load_catalogue, load_catalogues
from metrics.catalogue.models import CoverageMeasure, RatioMeasure, ReportedMeasure, SqlMeasure, Target
from metrics.demo.profiles import _ROTATION, DISTRICT_PROFILES, REPORTED_AIMS, DistrictProfile
from metrics.demo.seasons import DEFAULT_AS_OF, START, Calendar
from metrics.kpi.status import expected_share, pace_status, share_status

log = logging.getLogger(__name__)


def _filter_values(filters: Iterable[Any], column: str) -> set[Any]:
    out: set[Any] = set()
    for f in filters:
        if f.column == column:
            out |= set(f.values or ([f.value] if f.value is not None else []))
    return out


def kpi_role(kpi: Kpi) -> str | None:
    """Which part of the demo a KPI with a target depends on, by the shape of its measure."""
    m = kpi.measure
    if kpi.target is None:
        return None
    if isinstance(m, ReportedMeasure):
        return "reported"
    if isinstance(m, SqlMeasure):
        return {
            "contract_signing_rate.sql": "contract_signing",
            "dispute_closure_rate.sql": "dispute_closure",
            "mediation_closure_rate.sql": "mediation_closure",
        }.get(m.file)
    if isinstance(m, CoverageMeasure):
        return {"communities": "community_coverage", "graduate_followups": "followup_coverage"}.get(m.source)
    if isinstance(m, RatioMeasure):
        cols = {f.column for f in m.numerator.filters} | {f.column for f in m.denominator.filters}
        if m.numerator.source == "placements" and {"project_id", "is_local"} <= cols:
            return "local_hiring"
        if m.numerator.source == "graduate_followups":
            return "followup_coverage"
        return None
    source, kind = m.source, m.kind
    date_column = getattr(m, "date_column", None)
    if source == "events" and kind == "count":
        types = _filter_values(m.filters, "event_type")
        if types == {"直播带岗"}:
            return "livestreams"
        if "招聘会" in types or "专场招聘" in types:
            return "recruitment_events"
    if source == "vacancies" and kind == "sum":
        return "vacancy_positions"
    if source == "startups" and kind == "count" and date_column == "first_insured_date":
        return "insured_startups"
    if source == "startups" and kind == "sum" and getattr(m, "column", None) == "guaranteed_loan_amount":
        return "loan_amount"
    if source == "trainings" and kind == "count":
        if _filter_values(m.filters, "skill_evaluated"):
            return "skill_evaluations"
        return "skills_training"
    return None


@dataclass
class Programme:
    """One catalogue with its district profile and the KPIs the generator steers, by role."""

    catalogue: Catalogue
    profile: DistrictProfile
    roles: dict[str, Kpi]

    @property
    def id(self) -> str:
        return self.catalogue.programme.id

    @property
    def start(self) -> dt.date:
        return max(self.catalogue.programme.valid_from, START)

    def target(self, role: str) -> Target | None:
        kpi = self.roles.get(role)
        return kpi.target if kpi is not None else None


def _programmes(catalogues: Mapping[str, Catalogue]) -> list[Programme]:
    out = []
    for pid in sorted(catalogues):
        cat = catalogues[pid]
        profile = DISTRICT_PROFILES.get(cat.programme.district)
        if profile is None:
            log.warning("demo: no district profile for %s (%s); its programme is skipped", pid, cat.programme.district)
            continue
        roles: dict[str, Kpi] = {}
        for kpi in cat.kpis:
            role = kpi_role(kpi)
            if role and role != "reported" and role not in roles:
                roles[role] = kpi
        out.append(Programme(cat, profile, roles))
    return out


def aimed_statuses(catalogues: Mapping[str, Catalogue] | None = None, as_of: dt.date = DEFAULT_AS_OF) -> dict[str, str]:
    """The status the demo data steers each KPI with a target to, as of `as_of`, at scale 1."""
    cats = _load(catalogues)
    cal = Calendar(as_of)
    out: dict[str, str] = {}
    for prog in _programmes(cats):
        p = prog.profile
        rotation = 0
        for kpi in prog.catalogue.kpis:
            t = kpi.target
            role = kpi_role(kpi)
            if t is None or role is None:
                continue
            if role == "reported":
                status = REPORTED_AIMS.get(kpi.id)
                if status is None:
                    status = _ROTATION[rotation % len(_ROTATION)]
                    rotation += 1
                out[kpi.id] = status
                continue
            value = {
                "contract_signing": p.signing_rate,
                "dispute_closure": p.dispute_closure,
                "mediation_closure": p.mediation_share,
                "community_coverage": p.community_coverage,
                "followup_coverage": p.followup_coverage,
                "local_hiring": p.local_hiring,
            }.get(role)
            if value is not None:
                out[kpi.id] = share_status(t, value)
            elif role == "livestreams":
                out[kpi.id] = "achieved"
            else:
                pace = p.aims.get(role, 1.0)
                share = expected_share(t, cal.as_of, prog.start)
                out[kpi.id] = "achieved" if pace * share >= 1.0 else pace_status(t, pace)
    return out


def _load(catalogues: Mapping[str, Catalogue] | None) -> Mapping[str, Catalogue]:
    if catalogues is not None:
        return catalogues
    try:
        return load_catalogues()
    except CatalogueError as exc:
        # One broken file should not stop a demo: use the programmes that load.
        log.warning("demo: catalogue problems, using the files that load: %s", exc)
        good: dict[str, Catalogue] = {}
        for path in sorted(CATALOGUE_DIR.glob("*.yaml")):
            try:
                good[path.stem] = load_catalogue(path)
            except CatalogueError:
                continue
        return good
