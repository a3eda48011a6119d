"""The demo park's inventory for the last calendar year (park_carbon_demo, after the locked
tenant inventories of carbon_demo)."""

import json

import pytest

from nengtan.demo.carbon_demo import reporting_period
from nengtan.services import ghg_report, park_inventory
from nengtan.store import meta


@pytest.fixture(scope="module")
def demo_park(full_demo):
    engine, report = full_demo
    label, _first, _end = reporting_period(report.start, report.end)
    with engine.connect() as conn:
        inv = park_inventory.park_inventory(conn, "QLP", label)
        stored = json.loads(meta.get(conn, "park_carbon_demo"))
    return engine, inv, stored, label


def test_items_tenants_and_total(demo_park):
    _engine, inv, stored, label = demo_park
    assert stored["period"] == label
    assert stored["total_tco2e"] == pytest.approx(inv.total_tco2e, abs=1e-3)
    assert {i["code"]: i["status"] for i in inv.items} == {
        "BUS-DIESEL": "demo", "5G-BS": "demo", "WWTP-N2O": "demo", "GREEN-SPACE": "demo"}
    assert {t.code: t.origin for t in inv.tenants} == {"CEM": "locked", "TEX": "locked",
                                                      "ELE": "locked"}
    t = inv.term_tco2e
    assert t["enterprises"] == pytest.approx(sum(x.total_tco2e for x in inv.tenants))
    assert t["sink"] == pytest.approx(159.6) and t["transport"] > 0 and t["new_infra"] > 0
    assert inv.total_tco2e == pytest.approx(
        sum(park_inventory.TERMS[k] * v for k, v in t.items()))
    assert sum(s["tco2e"] for s in inv.sectors()) == pytest.approx(inv.total_tco2e)


def test_no_intra_park_double_counting(demo_park):
    """Every electricity transfer between the park grid and a tenant is counted by the
    tenant's locked inventory and deducted by the park (or received from ELE's export, which
    ELE deducts): no correction is needed in the demo."""
    _, inv, _, _ = demo_park
    transfers = {t.meter: t for t in inv.transfers}
    assert set(transfers) == {"CEM-E-101", "CEM-E-102", "TEX-E-101", "ELE-E-101", "ELE-E-102"}
    assert all(t.correction_sign == 0 and t.receiver_counts for t in transfers.values())
    facilities = {f["node"]: f for f in inv.facilities}
    assert facilities["QLP-SUB"]["end_use"] is False
    assert facilities["QLP-WWTP"]["end_use"] is True


def test_park_report_renders(demo_park):
    engine, inv, _, label = demo_park
    with engine.connect() as conn:
        data = ghg_report.park_data(conn, "QLP", label, inventory=inv)
    out = ghg_report.render_data(data, "xlsx", "zh-CN")
    assert out.filename == f"nengtan-ghg-report-QLP-{label}-zh-CN.xlsx"
