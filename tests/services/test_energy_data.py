"""Node energy from boundary meters, coefficients per tenant, totals and intensity.

A small park on both databases: enterprise A (site A1 with workshop W1 and a PV plant) and
enterprise B, daily interval meters with constant values over October 2026 (31 days).
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan.errors import InputError
from nengtan.services import energy_data, energy_params, energy_totals, ingest, meters, org
from nengtan.services import production as prod
from nengtan.services.energy_data import parse_period
from nengtan.store.models import Node

TZ = ZoneInfo("Asia/Shanghai")
DAYS = 31
DAILY = {  # meter: (node, carrier, unit, flow_from, flow_to, per day, extra)
    "A-IN": ("A1", "electricity", "kWh", None, "A1", 10_000.0, {"level": 1}),
    "A-EXP": ("A1", "electricity", "kWh", "A1", None, 1_000.0, {"level": 1}),
    "A-W1": ("W1", "electricity", "kWh", "A1", "W1", 6_000.0, {"level": 2}),
    "A-PV": ("PV", "electricity_pv", "kWh", "PV", "A1", 2_000.0, {"level": 2}),
    "A-GAS": ("A1", "natural_gas", "m3", None, "A1", 1_000.0, {"level": 1}),
    "A-FEED": ("A1", "natural_gas", "m3", None, "A1", 500.0,
               {"level": 1, "energy_use": "feedstock"}),
    "B-IN": ("B1", "electricity", "kWh", None, "B1", 3_000.0, {"level": 1}),
    "B-W": ("B1", "water", "t", None, "B1", 50.0, {"level": 1}),
}


@pytest.fixture
def park(engine):
    with Session(engine) as s, s.begin():
        for code, kind, parent in (("P", "park", None), ("A", "enterprise", "P"),
                                   ("A1", "site", "A"), ("W1", "workshop", "A1"),
                                   ("PV", "facility", "A1"), ("B", "enterprise", "P"),
                                   ("B1", "site", "B")):
            org.create(s, {"code": code, "name_zh": code, "kind": kind, "parent": parent})
        ids = {}
        for code, (node, carrier, unit, frm, to, _, extra) in DAILY.items():
            ids[code] = meters.create(s, {
                "code": code, "name_zh": code, "node": node, "carrier": carrier, "unit": unit,
                "register": "interval", "interval_s": 86400, "flow_from": frm, "flow_to": to,
                **extra}).id
        prod.upsert_product(s, {"code": "X", "name_zh": "产品X", "unit": "t"})
        prod.upsert_production(s, {"node": "A", "product": "X", "period_start": date(2026, 10, 1),
                                   "period_end": date(2026, 10, 31), "quantity": 500.0})
        prod.upsert_economic(s, {"node": "A", "period_start": date(2026, 10, 1),
                                 "period_end": date(2026, 10, 31), "output_value": 2_000_000.0,
                                 "added_value": 500_000.0})
    start = int(datetime(2026, 10, 1, tzinfo=TZ).timestamp()) * 1_000_000
    ts = start + np.arange(DAYS, dtype=np.int64) * 86400 * 1_000_000
    n = len(DAILY) * DAYS
    batch = ingest.ReadingBatch(
        np.repeat([ids[c] for c in DAILY], DAYS), np.tile(ts, len(DAILY)),
        np.repeat([v[5] for v in DAILY.values()], DAYS), np.zeros(n, np.int16))
    with engine.begin() as conn:
        ingest.ingest(conn, batch, "test")
    with engine.connect() as conn:
        nodes = dict(conn.execute(select(Node.code, Node.id)).all())
    return engine, nodes


OCT = parse_period("2026-10")
E = 0.1229 / 1000  # tce per kWh, equivalent value
G = 1.2143 / 1000  # tce per m3 natural gas (Annex A gas field)


def test_boundary_roles(park):
    engine, n = park
    with engine.connect() as conn:
        roles = {m.code: m.role for m in energy_data.boundary(conn, n["A"]).meters}
        assert roles == {"A-IN": "in", "A-EXP": "out", "A-W1": "internal",
                         "A-PV": "generated", "A-GAS": "in", "A-FEED": "in"}
        roles = {m.code: m.role for m in energy_data.boundary(conn, n["PV"]).meters}
        assert roles == {"A-PV": "out"}
        roles = {m.code: m.role for m in energy_data.boundary(conn, n["W1"]).meters}
        assert roles == {"A-W1": "in"}


def test_family_is_the_boundary_of_the_node_and_of_each_child(park):
    engine, n = park
    with engine.connect() as conn:
        for code in ("P", "A", "A1", "B"):
            head, kids = energy_data.family(conn, n[code])
            assert head == energy_data.boundary(conn, n[code])
            assert [k.node_id for k in kids] == _children(conn, n[code])
            assert kids == [energy_data.boundary(conn, k.node_id) for k in kids]


def _children(conn, node_id: int) -> list[int]:
    return list(conn.execute(select(Node.id).where(Node.parent_id == node_id)
                             .order_by(Node.sort_order, Node.code)).scalars())


def test_kept_libraries_follow_every_change_of_their_inputs(park):
    """Libraries kept between calls are keyed by the content of their inputs: a delivery with
    a lab NCV and a new parameter are used by the next call, exactly as a fresh library."""
    engine, n = park
    with engine.connect() as conn:
        tenant = energy_data.node_row(conn, n["A"]).tenant_id
        before = energy_data.node_energy(conn, n["A"], OCT).totals.total_tce
    with Session(engine) as s, s.begin():
        prod.add_fuel_delivery(s, {"node": "A", "carrier": "natural_gas",
                                   "delivered_on": date(2026, 10, 5), "quantity": 1_000,
                                   "unit": "m3", "ncv": 36.0, "ncv_unit": "MJ/m3"})
    with engine.connect() as conn:
        kept = energy_data.Libraries(conn).get(tenant, OCT.start, OCT.end)
        fresh = energy_data.library_for(conn, tenant, OCT.start, OCT.end)
        assert kept.coefficient("natural_gas") == fresh.coefficient("natural_gas")
        assert kept.coefficient("natural_gas").method == "measured_ncv"
        after = energy_data.node_energy(conn, n["A"], OCT).totals.total_tce
    assert after - before == pytest.approx(1_000 * DAYS * (36.0 / 29.3076 / 1000 - G))
    with Session(engine) as s, s.begin():
        energy_params.record(s, {"kind": "equal_value", "value": 0.3,
                                 "valid_from": date(2026, 1, 1), "source": "bulletin"})
    with engine.connect() as conn:
        assert energy_data.Libraries(conn).get(
            tenant, OCT.start, OCT.end).equal_value.kgce_per_kwh == 0.3


def test_enterprise_totals_by_hand(park):
    engine, n = park
    with engine.connect() as conn:
        ne = energy_data.node_energy(conn, n["A"], OCT)
    t = ne.totals
    # electricity: (10 000 − 1 000 + 2 000 PV) × 31 kWh; gas 1 000 × 31 m3; feedstock apart
    assert t.total_tce == pytest.approx((10_000 - 1_000 + 2_000) * DAYS * E + 1_000 * DAYS * G)
    assert t.feedstock_tce == pytest.approx(500 * DAYS * G)
    assert t.renewable_tce == pytest.approx(2_000 * DAYS * E)
    assert t.export_tce == pytest.approx(1_000 * DAYS * E)
    assert ne.coverage == pytest.approx(1.0)
    # equal value: grid electricity (10 000 − 1 000) × 31 at the 2022 table value 0.3007
    assert t.total_tce_equal_value == pytest.approx(
        9_000 * DAYS * 0.3007 / 1000 + 2_000 * DAYS * E + 1_000 * DAYS * G)


def test_park_total_is_the_sum_of_its_enterprises_when_nothing_flows_between_them(park):
    engine, n = park
    with engine.connect() as conn:
        p = energy_data.node_energy(conn, n["P"], OCT).totals.total_tce
        a = energy_data.node_energy(conn, n["A"], OCT).totals.total_tce
        b = energy_data.node_energy(conn, n["B"], OCT).totals.total_tce
        w1 = energy_data.node_energy(conn, n["W1"], OCT).totals.total_tce
    assert p == pytest.approx(a + b)
    assert b == pytest.approx(3_000 * DAYS * E)  # water is not energy
    assert w1 == pytest.approx(6_000 * DAYS * E)


def test_partial_period_and_missing_data(park):
    engine, n = park
    with engine.connect() as conn:
        week = energy_data.node_energy(conn, n["B"], parse_period("2026-10-25/2026-11-04"))
    # 7 days with data (25..31 October) out of 10
    assert week.totals.total_tce == pytest.approx(3_000 * 7 * E)
    assert week.coverage == pytest.approx(0.7)


def test_measured_ncv_of_deliveries_and_parameters(park):
    engine, n = park
    with Session(engine) as s, s.begin():
        for day, qty, ncv in ((2, 20_000, 36.0), (20, 10_000, 33.0)):
            prod.add_fuel_delivery(s, {"node": "A", "carrier": "natural_gas",
                                       "delivered_on": date(2026, 10, day), "quantity": qty,
                                       "unit": "m3", "ncv": ncv, "ncv_unit": "MJ/m3",
                                       "report_no": f"LAB-{day}"})
        energy_params.record(s, {"kind": "equal_value", "value": 0.2990,
                                 "valid_from": date(2026, 1, 1), "source": "bulletin"})
    with engine.connect() as conn:
        ne = energy_data.node_energy(conn, n["A"], OCT)
    # weighted NCV (20 000 × 36 + 10 000 × 33) / 30 000 = 35.0 MJ/m3 → 35 / 29.3076 kgce/m3
    gas = 35.0 / 29.3076 / 1000
    t = ne.totals
    assert t.total_tce == pytest.approx(11_000 * DAYS * E + 1_000 * DAYS * gas)
    assert t.feedstock_tce == pytest.approx(500 * DAYS * gas)
    coef = next(r for r in t.rows if r.input.carrier == "natural_gas").coefficient
    assert coef.method == "measured_ncv" and len(coef.evidence) == 2
    assert "LAB-2" in coef.evidence[0]
    assert t.equal_value.kgce_per_kwh == 0.2990
    assert t.total_tce_equal_value == pytest.approx(
        9_000 * DAYS * 0.2990 / 1000 + 2_000 * DAYS * E + 1_000 * DAYS * gas)


def test_parameters_are_versions_never_edits(park):
    engine, n = park
    with Session(engine) as s, s.begin():
        first = energy_params.record(s, {"kind": "coefficient", "carrier": "natural_gas",
                                         "tenant": "A", "value": 1.30, "unit": "kgce/m3",
                                         "valid_from": date(2026, 1, 1), "source": "old"})
        energy_params.record(s, {"kind": "coefficient", "carrier": "natural_gas",
                                 "tenant": "A", "value": 1.25, "valid_from": date(2026, 1, 1),
                                 "source": "new"})
        with pytest.raises(InputError) as err:
            energy_params.record(s, {"kind": "ncv", "carrier": "natural_gas", "value": 36,
                                     "unit": "MJ/kWh", "valid_from": date(2026, 1, 1),
                                     "source": "x"})
        assert err.value.issues[0].field == "unit"
        first_id = first.id
    with Session(engine) as s:
        assert len(energy_params.listing(s, "coefficient")) == 2
        assert energy_params.get(s, first_id).value == 1.30
    with engine.connect() as conn:
        lib = energy_data.library_for(conn, n["A"], OCT.start, OCT.end)
        assert lib.coefficient("natural_gas").kgce_per_unit == 1.25
        assert lib.coefficient("natural_gas").method == "user"
        other = energy_data.library_for(conn, n["B"], OCT.start, OCT.end)
        assert other.coefficient("natural_gas").method == "reference"


def test_intensity_by_hand(park):
    engine, n = park
    with engine.connect() as conn:
        data = energy_totals.intensity(conn, n["A"], OCT)
        one = energy_totals.product_intensity(conn, n["A"], "X", OCT)
        half = energy_totals.product_intensity(conn, n["A"], "X",
                                               parse_period("2026-10-01/2026-10-16"))
    tce = (11_000 * DAYS * E + 1_000 * DAYS * G)
    assert one["kgce_per_unit"] == pytest.approx(tce * 1000 / 500)
    assert one["unit"] == "kgce/t"
    # 15 of 31 days: output prorated 500 × 15 / 31
    assert half["output"] == pytest.approx(500 * 15 / 31)
    assert data["tce_per_10k_cny_output"] == pytest.approx(tce / 200)
    assert data["tce_per_10k_cny_added"] == pytest.approx(tce / 50)


def test_totals_compare_with_previous_periods(park):
    engine, n = park
    with engine.connect() as conn:
        out = energy_totals.node_totals(conn, n["B"], OCT)
    assert out["previous"]["period"]["label"] == "2026-09"
    assert out["previous"]["total_tce"] == 0 and out["previous"]["change_pct"] is None
    assert out["year_before"]["period"]["label"] == "2025-10"


def test_periods():
    assert parse_period("2026").days == 365
    assert parse_period("2026-Q1").end == date(2026, 4, 1)
    assert parse_period("2026-02").previous().label == "2026-01"
    assert parse_period("2026-01").previous().label == "2025-12"
    assert parse_period("2024-02-29").shifted(years=-1).start == date(2023, 2, 28)
    assert parse_period("2026-10").shifted(years=-1).label == "2025-10"
    for bad in ("2026-13", "26-10", "2026-10-01/2026-09-01", ""):
        with pytest.raises(InputError):
            parse_period(bad)
