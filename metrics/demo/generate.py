"""The demo's public names in one place, where callers have always imported them from: the generator and
the database build (metrics.demo.build), the district profiles, the calendar, credit codes and the aims.
The work is done by the package's modules, one job each (see metrics/demo/__init__.py).
"""

from __future__ import annotations

from metrics.demo.aims import aimed_statuses, kpi_role
from metrics.demo.build import DemoDatabaseExists, Progress, build_demo, generate, main
from metrics.demo.ids import credit_code_valid, credit_codes
from metrics.demo.profiles import DISTRICT_PROFILES, PLACEMENTS_PER_YEAR, REPORTED_AIMS, DistrictProfile, Street
from metrics.demo.seasons import DEFAULT_AS_OF, LUNAR_NEW_YEAR, MINIMUM_WAGE, START

__all__ = [
    "DEFAULT_AS_OF",
    "DISTRICT_PROFILES",
    "LUNAR_NEW_YEAR",
    "MINIMUM_WAGE",
    "PLACEMENTS_PER_YEAR",
    "REPORTED_AIMS",
    "START",
    "DemoDatabaseExists",
    "DistrictProfile",
    "Progress",
    "Street",
    "aimed_statuses",
    "build_demo",
    "credit_code_valid",
    "credit_codes",
    "generate",
    "kpi_role",
    "main",
]
