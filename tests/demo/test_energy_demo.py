"""What the demo park shows for energy accounting (issue: "How we will know")."""

import pytest
from sqlalchemy import select

from nengtan.services import benchmarking, energy_data, energy_flow, energy_totals
from nengtan.services.energy_data import parse_period
from nengtan.store.models import Node


@pytest.fixture(scope="module")
def demo(full_demo):
    engine, report = full_demo
    with engine.connect() as conn:
        ids = dict(conn.execute(select(Node.code, Node.id)).all())
    year = parse_period(f"{report.start.year}")
    return engine, ids, year


def test_clinker_between_benchmark_and_baseline(demo):
    engine, ids, year = demo
    with engine.connect() as conn:
        intensity = energy_totals.product_intensity(conn, ids["CEM"], "CLINKER", year)
        cmp = benchmarking.compare_product(conn, ids["CEM"], "CLINKER", year)
    assert 100 < intensity["kgce_per_unit"] < 117
    ndrc = next(c for c in cmp["comparisons"] if c["kind"] == "indicator")
    levels = {lv["key"]: lv for lv in ndrc["levels"]}
    assert (levels["benchmark"]["value"], levels["baseline"]["value"]) == (100, 117)
    assert not levels["benchmark"]["reached"] and levels["baseline"]["reached"]
    assert ndrc["status"] == "verified"
    gap = levels["benchmark"]["energy_gap"]["tce_per_year"]
    assert gap == pytest.approx((intensity["kgce_per_unit"] - 100)
                                * cmp["actual"]["annual_output"] / 1000, rel=1e-9)


def test_sankey_shows_losses(demo):
    engine, ids, year = demo
    with engine.connect() as conn:
        s = energy_flow.sankey(conn, ids["CEM"], parse_period(f"{year.label}-10"))
    losses = [link for link in s["links"] if link["kind"] == "loss"]
    assert sum(link["value_tce"] for link in losses) > 0
    assert any(link["carrier"] == "electricity" and link["value_tce"] > 0 for link in losses)


def test_park_total_reconciles_with_enterprises(demo):
    engine, ids, year = demo
    month = parse_period(f"{year.label}-10")
    with engine.connect() as conn:
        park = energy_data.node_energy(conn, ids["QLP"], month).totals.total_tce
        children = conn.execute(select(Node.id).where(Node.parent_id == ids["QLP"])).scalars()
        parts = sum(energy_data.node_energy(conn, c, month).totals.total_tce for c in children)
    # boundaries of the children cover the park without overlap: the substation's part is
    # its transformer and line losses, each facility its own use
    assert park == pytest.approx(parts, rel=1e-9)
    # the cement plant's coal is converted with its own lab NCVs
    with engine.connect() as conn:
        ne = energy_data.node_energy(conn, ids["CEM"], month)
    coal = next(r for r in ne.totals.rows if r.input.carrier == "bituminous_coal")
    assert coal.coefficient.method == "measured_ncv" and coal.coefficient.evidence
