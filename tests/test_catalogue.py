"""The four programme catalogues load, pass every named check, and hold the documents' commitments."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from metrics.catalogue import CHECKS, CatalogueError, load_catalogue, load_catalogues, source_text
from metrics.catalogue.models import Catalogue, Subsidy

PROGRAMMES = {
    "changping-huitian-2022": "昌平区",
    "tongzhou-2025": "通州区",
    "xicheng-measures": "西城区",
    "haidian-2018": "海淀区",
}


def test_all_four_programmes_load_and_pass_checks() -> None:
    cats = load_catalogues()
    assert set(cats) == set(PROGRAMMES)
    for pid, cat in cats.items():
        assert cat.programme.district == PROGRAMMES[pid]
        assert cat.tasks and cat.kpis


def test_named_checks_exist() -> None:
    assert {
        "ids are unique",
        "quotes occur verbatim in the source document",
        "measures name known record types and columns",
    } <= set(CHECKS)


def test_every_quote_occurs_in_its_document_whitespace_insensitive() -> None:
    for pid, cat in load_catalogues().items():
        text = "".join(source_text(pid).split())
        for item in [*cat.kpis, *cat.subsidies]:
            quote = "".join(item.quote.split())
            assert quote.replace("*", "") in text.replace("*", "").replace("#", ""), f"{pid} {item.id}"


def _copy_with(tmp_path: Path, pid: str, mutate) -> Path:
    raw = yaml.safe_load((Path("metrics/catalogue") / f"{pid}.yaml").read_text(encoding="utf-8"))
    mutate(raw)
    p = tmp_path / f"{pid}.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return p


def test_a_changed_quote_is_caught(tmp_path: Path) -> None:
    def mutate(raw: dict) -> None:
        raw["kpis"][0]["quote"] = "每年开展各类招聘活动不少于3000场"

    with pytest.raises(CatalogueError, match="quote not found"):
        load_catalogue(_copy_with(tmp_path, "tongzhou-2025", mutate))


def test_unknown_keys_are_rejected(tmp_path: Path) -> None:
    def mutate(raw: dict) -> None:
        raw["kpis"][0]["targte"] = {"value": 1}

    with pytest.raises(CatalogueError, match="targte"):
        load_catalogue(_copy_with(tmp_path, "tongzhou-2025", mutate))


def test_unknown_column_and_enum_value_are_caught(tmp_path: Path) -> None:
    def mutate(raw: dict) -> None:
        raw["kpis"].append(
            {
                **raw["kpis"][0],
                "id": "tz-bad",
                "measure": {
                    "kind": "count",
                    "source": "events",
                    "filters": [{"column": "event_kind", "value": "招聘会"}],
                },
            }
        )
        raw["kpis"].append(
            {
                **raw["kpis"][0],
                "id": "tz-bad2",
                "measure": {
                    "kind": "count",
                    "source": "events",
                    "filters": [{"column": "event_type", "value": "茶话会"}],
                },
            }
        )

    with pytest.raises(CatalogueError) as exc:
        load_catalogue(_copy_with(tmp_path, "tongzhou-2025", mutate))
    assert "unknown column 'event_kind'" in str(exc.value) and "'茶话会' is not a value" in str(exc.value)


def test_duplicate_ids_are_caught(tmp_path: Path) -> None:
    def mutate(raw: dict) -> None:
        raw["kpis"].append(dict(raw["kpis"][0]))

    with pytest.raises(CatalogueError, match="used twice"):
        load_catalogue(_copy_with(tmp_path, "tongzhou-2025", mutate))


def test_kpi_needs_target_or_monitoring(tmp_path: Path) -> None:
    def mutate(raw: dict) -> None:
        raw["kpis"][0].pop("target", None)
        raw["kpis"][0]["monitoring"] = False

    with pytest.raises(CatalogueError, match="monitoring"):
        load_catalogue(_copy_with(tmp_path, "tongzhou-2025", mutate))


def _targets(cat: Catalogue) -> dict[tuple[float, str], str]:
    return {(k.target.value, k.target.period): k.id for k in cat.kpis if k.target}


def test_tongzhou_commitments_are_all_there() -> None:
    cat = load_catalogues()["tongzhou-2025"]
    got = _targets(cat)
    for value, period in [
        (40000, "year"),
        (1, "coverage"),
        (2, "month"),
        (300, "year"),
        (4000, "year"),
        (2.5e8, "year"),
        (30000, "cumulative"),
        (60, "cumulative"),
        (10000, "cumulative"),
        (9000, "cumulative"),
        (0.98, "rate"),
        (0.95, "rate"),
        (0.65, "rate"),
        (1500, "cumulative"),
        (100, "cumulative"),
        (500, "cumulative"),
        (1_000_000, "cumulative"),
    ]:
        assert (value, period) in got, (value, period)
    survey = [k for k in cat.kpis if k.measure.kind == "mean" and k.measure.source == "survey_responses"]
    assert len(survey) == 7 and all(k.monitoring for k in survey)


def test_changping_local_hiring_ratio_and_huitian_circle() -> None:
    cat = load_catalogues()["changping-huitian-2022"]
    assert (0.5, "rate") in _targets(cat)
    assert any("huitian_distance_km" in k.measure.model_dump_json() and k.monitoring for k in cat.kpis)


def _subsidy(pid: str, pred) -> Subsidy:
    found = [s for s in load_catalogues()[pid].subsidies if pred(s)]
    assert found, pid
    return found[0]


def test_subsidy_standards_are_structured() -> None:
    s = _subsidy("changping-huitian-2022", lambda s: s.amount == 1000 and s.basis == "per_person")
    assert "职业介绍" in s.name_zh
    s = _subsidy("changping-huitian-2022", lambda s: s.amount == 35)
    assert s.basis == "per_person_day" and s.max_days == 30
    s = _subsidy("changping-huitian-2022", lambda s: s.amount == 25)
    assert s.basis == "per_person_class_hour"
    s = _subsidy(
        "xicheng-measures", lambda s: s.tier_by == "year_index" and [t.amount for t in s.tiers] == [6000, 9000, 12000]
    )
    assert s.max_years == 3
    s = _subsidy("xicheng-measures", lambda s: s.cap_amount == 100000 and s.tier_by == "quantity")
    assert sorted(t.amount for t in s.tiers) == [800, 1000]
    s = _subsidy(
        "haidian-2018",
        lambda s: s.tier_by == "quantity" and sorted(t.amount for t in s.tiers) == [10000, 50000, 100000],
    )
    assert [t.min_quantity for t in sorted(s.tiers, key=lambda t: t.amount)] == [3, 6, 10]
