"""Equipment grading from nameplates (GB 18613-2020 motors, GB 19153-2019 compressors).

The rows below are test data (IE3/IE4-like values), so the known answers do not depend on the
shipped, unverified tables.
"""

from __future__ import annotations

import pytest

from nengtan.benchmark import equipment as eq


def motor(poles, lo, hi, g2, g3, g1=None):
    return eq.GradeRow(f"m{poles}.{lo}", 1, "motor", "three_phase_induction", poles, lo, hi,
                       None, "%", "higher", (g1, g2, g3))


def compressor(kw, g1, g2, g3, pressure=0.8):
    return eq.GradeRow(f"c{kw}.{pressure}", 1, "compressor", "oil_injected_rotary", None, kw, kw,
                       pressure, "kW/(m3/min)", "lower", (g1, g2, g3))


ROWS = [motor(4, 4.0, 4.0, 91.1, 88.6), motor(4, 5.5, 5.5, 91.9, 89.6),
        motor(4, 200.0, 1000.0, 96.7, 96.0), motor(6, 200.0, 1000.0, 96.3, 95.8),
        compressor(55, 6.3, 7.0, 7.8), compressor(75, 6.1, 6.8, 7.6),
        compressor(75, 6.6, 7.4, 8.3, pressure=1.0)]


def test_motor_grades():
    g = eq.grade_motor(ROWS, {"rated_kw": 250, "poles": 4, "efficiency_pct": 96.2})
    assert (g["grade"], g["position"], g["meets_limit"]) == (3, "grade_3", True)
    assert g["row"]["code"] == "m4.200.0"
    grade2 = g["levels"][1]
    assert grade2["gap_points"] == pytest.approx(0.5)  # 96.7 − 96.2 percentage points
    assert eq.grade_motor(ROWS, {"rated_kw": 250, "poles": 4,
                                 "efficiency_pct": 96.8})["grade"] == 2
    below = eq.grade_motor(ROWS, {"rated_kw": 250, "poles": 4, "efficiency_pct": 95.6})
    assert (below["grade"], below["position"], below["meets_limit"]) == (None, "below_grade_3",
                                                                         False)


def test_intermediate_power_uses_the_next_larger_row_and_large_motors_have_none():
    # 5 kW lies between 4 and 5.5 kW: graded against 5.5 kW (grade 3 = 89.6 %)
    g = eq.grade_motor(ROWS, {"rated_kw": 5, "poles": 4, "efficiency_pct": 89.7})
    assert (g["row"]["code"], g["grade"]) == ("m4.5.5", 3)
    none = eq.grade_motor(ROWS, {"rated_kw": 3150, "poles": 6, "efficiency_pct": 96.6})
    assert (none["position"], none["grade"], none["row"]) == ("no_grade_row", None, None)


def test_motor_savings_to_a_better_grade():
    g = eq.grade_motor(ROWS, {"rated_kw": 250, "poles": 4, "efficiency_pct": 95.6,
                              "annual_hours": 7200, "load_factor": 0.8})
    g1, g2, g3 = g["levels"]
    # 250 kW × 0.8 × 7200 h/a × (100/95.6 − 100/96.0)
    #   = 1 440 000 × (1.0460251 − 1.0416667) = 6 276.15 kWh/a to reach grade 3
    assert g3["saving_kwh_per_year"] == pytest.approx(6276.150628, rel=1e-9)
    # to grade 2 (96.7 %): 1 440 000 × (100/95.6 − 100/96.7) = 17 134.48 kWh/a
    assert g2["saving_kwh_per_year"] == pytest.approx(17134.475343, rel=1e-9)
    assert g1["saving_kwh_per_year"] is None


def test_compressor_grades():
    # specific power = 84.5 kW / 13.2 m3/min = 6.40152 kW/(m3/min): ≤ 6.8 → grade 2
    g = eq.grade_compressor(ROWS, {"rated_kw": 75, "pressure_mpa": 0.8,
                                   "package_power_kw": 84.5, "flow_m3_min": 13.2})
    assert g["actual"] == pytest.approx(6.401515, abs=1e-6)
    assert (g["grade"], g["row"]["code"]) == (2, "c75.0.8")
    below = eq.grade_compressor(ROWS, {"rated_kw": 55, "pressure_mpa": 0.8,
                                       "specific_power": 8.1})
    assert below["position"] == "below_grade_3"
    # 0.9 MPa is not tabulated: the nearest lower pressure (0.8 MPa, stricter) applies
    assert eq.grade_compressor(ROWS, {"rated_kw": 75, "pressure_mpa": 0.9,
                                      "specific_power": 7.5})["row"]["code"] == "c75.0.8"
    # at 1.0 MPa: 7.3 ≤ 7.4 (grade 2 of the 1.0 MPa row)
    assert eq.grade_compressor(ROWS, {"rated_kw": 75, "pressure_mpa": 1.0,
                                      "specific_power": 7.3})["grade"] == 2
    assert eq.grade_compressor(ROWS, {"rated_kw": 75, "pressure_mpa": 0.7,
                                      "specific_power": 7.5})["position"] == "no_grade_row"


def test_incomplete_nameplates():
    with pytest.raises(eq.NameplateError) as exc:
        eq.grade_motor(ROWS, {"rated_kw": 250, "efficiency_pct": 96})
    assert exc.value.args == ("bm_nameplate_missing", "poles")
    with pytest.raises(eq.NameplateError):
        eq.grade_motor(ROWS, {"rated_kw": 250, "poles": 4, "efficiency_pct": 101})
    out = eq.grade(ROWS, {"compressor": {"rated_kw": 75, "pressure_mpa": 0.8}, "other": 1})
    assert out == [{"equipment": "compressor", "error": "bm_nameplate_missing",
                    "field": "specific_power", "grade": None,
                    "position": "nameplate_incomplete"}]


def test_nameplate_checks_and_the_demo_nameplates():
    from nengtan.demo.benchmark_demo import NAMEPLATES

    for code, attrs in NAMEPLATES.items():
        for kind, plate in attrs.items():
            assert eq.nameplate_issues(kind, plate) == [], code
    assert eq.nameplate_issues("motor", {"rated_kw": -1, "poles": 3.5,
                                         "efficiency_pct": 101, "load_factor": 2}) == [
        ("bm_nameplate_number", "rated_kw"), ("bm_nameplate_number", "efficiency_pct"),
        ("bm_nameplate_number", "poles"), ("bm_nameplate_number", "load_factor")]
    assert eq.nameplate_issues("compressor", {"rated_kw": 90, "pressure_mpa": 0.8,
                                              "flow_m3_min": 15}) == [
        ("bm_nameplate_missing", "package_power_kw")]
