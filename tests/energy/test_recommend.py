"""Recommendation arithmetic by hand."""

import math

import pytest

from nengtan.energy import recommend as rec
from nengtan.energy.recommend import Assumption

A = Assumption


def test_valley_shift():
    r = rec.valley_shift("E", {"sharp": 100_000, "peak": 400_000, "flat": 1, "valley": 1},
                         {"sharp": 1.248, "peak": 1.04, "flat": 0.65, "valley": 0.26},
                         A("share", 0.1, "-", "test"))
    # 0.1 × (100 000 × (1.248 − 0.26) + 400 000 × (1.04 − 0.26)) = 0.1 × (98 800 + 312 000)
    assert r.cny_per_year == pytest.approx(41_080)
    assert r.tce_per_year == 0 and r.tco2_per_year == 0
    assert len(r.steps) == 2 and r.assumptions[0].name == "share"
    assert rec.valley_shift("E", {"peak": 1.0}, {"peak": 1.0}, A("s", 0.1, "-", "t")) is None


def test_demand_reduction():
    r = rec.demand_reduction("E", [1000, 1200, 900], [950, 1000, 950], 38.0, A("p", 99, "%", "t"))
    # (50 + 200 + 0) kW·month × 38 = 9500
    assert r.cny_per_year == pytest.approx(9500)
    assert rec.demand_reduction("E", [900], [950], 38.0, A("p", 99, "%", "t")) is None


@pytest.mark.parametrize("pf, pct", [(0.90, 0), (0.86, 2.0), (0.70, 10.0), (0.68, 12.0),
                                     (0.65, 15.0), (0.64, 17.0), (0.92, -0.3), (0.94, -0.6),
                                     (0.95, -0.75), (0.99, -0.75)])
def test_power_factor_adjustment_table(pf, pct):
    assert rec.pf_adjustment_pct(pf) == pytest.approx(pct)


def test_power_factor_correction():
    r = rec.power_factor("E", 0.86, 6_000_000, 8_760_000, A("pf", 0.95, "-", "t"),
                         A("c", 120, "CNY/kvar", "t"))
    # (2.0 − (−0.75)) % × 6 000 000 = 165 000 CNY
    assert r.cny_per_year == pytest.approx(165_000)
    # P̄ = 1000 kW; kvar = 1000 × (tan(acos .86) − tan(acos .95))
    kvar = 1000 * (math.tan(math.acos(0.86)) - math.tan(math.acos(0.95)))
    assert r.investment_cny == pytest.approx(kvar * 120)
    assert r.payback_years == pytest.approx(kvar * 120 / 165_000)


def test_benchmark_gap():
    r = rec.benchmark_gap("CEM", "CLINKER", 107.7, 100, "标杆", "kgce/t", 1_200_000,
                          A("price", 1500, "CNY/tce", "t"), A("co2", 2.5, "tCO2/tce", "t"))
    # (107.7 − 100) × 1 200 000 ÷ 1000 = 9240 tce; × 1500 = 13 860 000 CNY; × 2.5 = 23 100 t
    assert r.tce_per_year == pytest.approx(9240)
    assert r.cny_per_year == pytest.approx(13_860_000)
    assert r.tco2_per_year == pytest.approx(23_100)
    assert rec.benchmark_gap("CEM", "X", 99, 100, "标杆", "kgce/t", 1e6, A("p", 1, "", ""),
                             A("c", 1, "", "")) is None


def test_rooftop_pv():
    r = rec.rooftop_pv("TEX", 10_000, A("d", 0.15, "kWp/m2", "t"), A("y", 1100, "kWh/kWp", "t"),
                       0.7, A("g", 0.641, "tCO2/MWh", "t"), A("c", 3.0, "CNY/Wp", "t"))
    # 1500 kWp × 1100 = 1 650 000 kWh; × 0.7 = 1 155 000 CNY; × 0.1229 / 1000 = 202.785 tce;
    # 1650 MWh × 0.641 = 1057.65 tCO2; invest 1 500 000 W × 3 = 4 500 000 CNY
    assert r.cny_per_year == pytest.approx(1_155_000)
    assert r.tce_per_year == pytest.approx(202.785)
    assert r.tco2_per_year == pytest.approx(1057.65)
    assert r.investment_cny == pytest.approx(4_500_000)


def test_idle_base_load_and_green_power():
    r = rec.idle_base_load("E", 100_000, 0.26, A("g", 0.6, "tCO2/MWh", "t"), A("r", 50, "kW", "t"))
    assert (r.cny_per_year, r.tce_per_year, r.tco2_per_year) == pytest.approx((26_000, 12.29, 60))
    g = rec.green_power("E", 1_000_000, A("s", 0.3, "", ""), A("p", 0.03, "", ""),
                        A("g", 0.6, "tCO2/MWh", ""))
    assert g.cny_per_year == pytest.approx(-9000) and g.tco2_per_year == pytest.approx(180)
