"""Known answers of the level comparison, computed by hand from the formulas:

gap % = (actual − level) / |level| × 100 (lower is better), (level − actual) / |level| × 100
(higher is better); energy gap tce/a = (actual − level) × annual output ÷ 1000 (kgce → tce).
"""

from __future__ import annotations

import pytest

from nengtan.benchmark.levels import (
    Level,
    LevelSet,
    annualise,
    compare,
    energy_gap,
    gap_pct,
    level_issues,
    position_of,
)

NDRC = LevelSet("ndrc.cement-clinker", "kgce/t", "lower",
                (Level("benchmark", 100.0), Level("baseline", 117.0)), status="verified")
GRADES = LevelSet("gb16780", "kgce/t", "lower",
                  (Level("grade_1", 100.0), Level("grade_2", 105.0), Level("grade_3", 117.0)),
                  kind="limit")


def test_between_benchmark_and_baseline_with_gaps_in_percent_and_tce():
    c = compare(NDRC, 110.0, annual_output=1_200_000, output_unit="t").as_dict()
    assert (c["reached"], c["position"], c["action"]) == ("baseline", "baseline",
                                                           "improve_to_benchmark")
    bench, base = c["levels"]
    # (110 − 100) / 100 × 100 = 10 %;  (110 − 100) kgce/t × 1 200 000 t/a ÷ 1000 = 12 000 tce/a
    assert bench["reached"] is False
    assert bench["gap"] == pytest.approx(10.0)
    assert bench["gap_pct"] == pytest.approx(10.0)
    assert bench["energy_gap"]["tce_per_year"] == pytest.approx(12_000.0)
    assert "1.2e+06 t/a" in bench["energy_gap"]["formula"]
    # (110 − 117) / 117 × 100 = −5.98291 %;  (110 − 117) × 1 200 000 ÷ 1000 = −8 400 tce/a
    assert base["reached"] is True
    assert base["gap_pct"] == pytest.approx(-5.982906, abs=1e-6)
    assert base["energy_gap"]["tce_per_year"] == pytest.approx(-8_400.0)


def test_positions_at_the_edges():
    assert position_of(NDRC, 98.0) == ("benchmark", "benchmark")
    assert position_of(NDRC, 100.0) == ("benchmark", "benchmark")  # equal counts as reached
    assert position_of(NDRC, 117.0) == ("baseline", "baseline")
    assert position_of(NDRC, 117.01) == (None, "below_baseline")
    worse = compare(NDRC, 120.0, 1_200_000, "t").as_dict()
    assert worse["action"] == "upgrade_or_retire"
    # (120 − 117) × 1 200 000 ÷ 1000 = 3 600 tce/a to reach the baseline
    assert worse["levels"][1]["energy_gap"]["tce_per_year"] == pytest.approx(3_600.0)


def test_limit_grades():
    assert position_of(GRADES, 104.0) == ("grade_2", "grade_2")
    assert position_of(GRADES, 99.0) == ("grade_1", "grade_1")
    assert position_of(GRADES, 118.0) == (None, "below_grade_3")
    assert compare(GRADES, 118.0).as_dict()["action"] == "below_limit"


def test_higher_is_better_with_an_unknown_level():
    motor = LevelSet("m", "%", "higher",
                     (Level("grade_1", None), Level("grade_2", 96.7), Level("grade_3", 96.0)))
    c = compare(motor, 96.2).as_dict()
    assert c["position"] == "grade_3"
    g1, g2, g3 = c["levels"]
    assert g1["reached"] is None and g1["gap_pct"] is None
    # (96.7 − 96.2) / 96.7 × 100 = 0.517063 % short of grade 2
    assert g2["gap_pct"] == pytest.approx(0.517063, abs=1e-6)
    assert g3["reached"] is True and g3["gap_pct"] == pytest.approx(-0.208333, abs=1e-6)
    assert g2["energy_gap"] is None  # no tce for an efficiency


def test_electricity_indicator_converts_at_the_equivalent_value():
    # 13 200 kWh/t vs 13 000: 200 kWh/t × 100 000 t/a = 20 000 000 kWh/a;
    # × 0.1229 kgce/kWh ÷ 1000 = 2 458 tce/a
    gap = energy_gap(13_200.0, 13_000.0, "kWh/t", 100_000.0, "t")
    assert gap["quantity_per_year"] == pytest.approx(20_000_000.0)
    assert gap["tce_per_year"] == pytest.approx(2_458.0)


def test_output_units_are_converted_and_unknown_ones_refused():
    # 10 kgce/t × 1 200 000 000 kg/a = 10 × 1 200 000 t/a → 12 000 tce/a
    assert energy_gap(110.0, 100.0, "kgce/t", 1.2e9, "kg")["tce_per_year"] == pytest.approx(12_000)
    assert energy_gap(110.0, 100.0, "kgce/t", 1.0, "pcs") is None
    assert energy_gap(10.0, 8.0, "kgce/weight box", 5.0, "weight box")["tce_per_year"] == \
        pytest.approx(0.01)  # (10 − 8) × 5 ÷ 1000
    assert energy_gap(600.0, 590.0, "kgoe/t", 1.0, "t") is None  # kgoe: not converted


def test_negative_levels():
    steel = LevelSet("converter", "kgce/t", "lower",
                     (Level("benchmark", -30.0), Level("baseline", -10.0)))
    assert position_of(steel, -20.0) == ("baseline", "baseline")
    # (−20 − (−30)) / |−30| × 100 = 33.333 %
    assert gap_pct(-20.0, -30.0, "lower") == pytest.approx(33.33333, abs=1e-5)
    assert gap_pct(5.0, 0.0, "lower") is None


def test_level_checks():
    assert level_issues([("benchmark", 100), ("baseline", 117)], "lower") == []
    assert level_issues([("benchmark", 117), ("baseline", 100)], "lower") == ["bm_levels_order"]
    assert level_issues([("grade_1", 96.0), ("grade_2", 96.7)], "higher") == ["bm_levels_order"]
    assert level_issues([("a", None)], "lower") == ["bm_levels_empty"]
    assert level_issues([("a", 1), ("a", 2)], "lower") == ["bm_levels_duplicate"]


def test_annualise():
    # 9 000 t in 30 days → 9 000 × 365 / 30 = 109 500 t/a
    assert annualise(9_000.0, 30) == pytest.approx(109_500.0)
    assert compare(NDRC, None).as_dict()["position"] is None
