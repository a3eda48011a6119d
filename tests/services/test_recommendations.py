"""Recommendations on the demo park (full build, shared with other demo tests)."""

from datetime import date

import pytest
from sqlalchemy import select

from nengtan.services import recommendations
from nengtan.services.energy_data import parse_period
from nengtan.store.models import Node


@pytest.fixture(scope="module")
def park_recs(full_demo):
    engine, report = full_demo
    with engine.connect() as conn:
        park = conn.execute(select(Node.id).where(Node.code == "QLP")).scalar()
        return recommendations.recommend(conn, park, today=report.today)


def test_at_least_three_quantified_recommendations(park_recs):
    ranked = park_recs["ranked"]
    quantified = [r for r in ranked if r["cny_per_year"] > 0]
    assert len(quantified) >= 3
    codes = {r["code"] for r in ranked}
    assert {"valley_shift", "demand_reduction", "power_factor", "rooftop_pv"} <= codes
    for r in ranked:
        assert r["steps"] and all({"formula", "value", "unit"} <= set(s) for s in r["steps"])
        assert {"cny_per_year", "tce_per_year", "tco2_per_year"} <= set(r)
    # ranked by money saved
    assert [r["cny_per_year"] for r in ranked] == sorted(
        (r["cny_per_year"] for r in ranked), reverse=True)
    assert park_recs["period"]["start"].endswith("-01")


def test_textile_power_factor_from_its_bill(park_recs):
    tex = next(e for e in park_recs["enterprises"] if e["node"] == "TEX")
    pf = next(r for r in tex["recommendations"] if r["code"] == "power_factor")
    # demo bill power factor 0.86: +2 % penalty, 0.95 earns −0.75 %: 2.75 % of the bill
    assert pf["steps"][0]["value"] == pytest.approx(2.0)
    assert pf["steps"][1]["value"] == pytest.approx(-0.75)
    assert pf["investment_cny"] > 0 and pf["payback_years"] < 5


def test_measured_pv_yield_used(park_recs):
    pv = park_recs["lineage"]["pv_yield"]
    assert pv["status"] == "measured" and 800 < pv["value"] < 1600


def test_not_assessed_says_why(park_recs):
    cem = next(e for e in park_recs["enterprises"] if e["node"] == "CEM")
    reasons = {m["code"]: m for m in cem["not_assessed"]}
    assert reasons["idle_base_load"]["reason"] == "continuous"
    assert reasons["idle_base_load"]["message_zh"]


def test_last_twelve_months():
    p = recommendations.last_twelve_months(date(2026, 11, 21))
    assert (p.start, p.end) == (date(2025, 11, 1), date(2026, 11, 1))
    assert parse_period(p.label).days == 365
