"""Park carbon items (transport, new infrastructure, waste, sinks, CCUS): validation,
versions, period shares and the evidence ledger.  The park formula itself is tested by hand
in tests/carbon/test_park_inventory.py."""

from datetime import date

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nengtan.errors import InputError, NotFound
from nengtan.services import ledger, org, park_inventory
from nengtan.services.energy_data import parse_period
from nengtan.store.models import Node
from nengtan.store.models.park_carbon import ParkCarbonItem

SINK = {"code": "GREEN", "term": "sink", "category": "green_space", "name_zh": "园区绿地碳汇",
        "name_en": "Park green space", "period_start": "2026-01-01",
        "period_end": "2027-01-01", "tco2e": 365.0, "source": "survey", "status": "estimated"}


@pytest.fixture
def park(engine):
    with Session(engine) as s, s.begin():
        org.create(s, {"code": "P", "name_zh": "园区", "kind": "park"})
        org.create(s, {"code": "F", "name_zh": "设施", "kind": "facility", "parent": "P"})
        org.create(s, {"code": "E", "name_zh": "企业", "kind": "enterprise", "parent": "P"})
        org.create(s, {"code": "Q", "name_zh": "另一园区", "kind": "park"})
    with engine.connect() as conn:
        return engine, dict(conn.execute(select(Node.code, Node.id)).all())


def test_versions_and_period_share(park):
    engine, ids = park
    with engine.begin() as conn:
        v1 = park_inventory.save_item(conn, "P", SINK)
        v2 = park_inventory.save_item(conn, "P", SINK | {"tco2e": 400.0, "status": "measured"})
        assert (v1["version"], v2["version"]) == (1, 2)
        # October: 31 of 365 days of the item's year
        (item,) = park_inventory.load_items(conn, ids["P"], parse_period("2026-10"))
        assert item["tco2e"] == 400.0 and item["share"] == pytest.approx(31 / 365)
        assert park_inventory.load_items(conn, ids["P"], parse_period("2025")) == []
        assert len(park_inventory.load_items(conn, ids["P"], history=True)) == 2
        park_inventory.save_item(conn, "P", SINK | {"active": False})
        assert park_inventory.load_items(conn, ids["P"], parse_period("2026")) == []
        bus = park_inventory.save_item(conn, "P", {
            "code": "BUS", "term": "transport", "name_zh": "通勤班车", "node": "F",
            "period_start": date(2026, 1, 1), "period_end": date(2027, 1, 1),
            "kind": "combustion", "carrier": "diesel", "quantity": 12.0, "unit": "t",
            "source": "fuel cards"})
        assert bus["node"] == "F" and bus["status"] == "unverified" and bus["tco2e"] is None


def test_every_problem_is_named(park):
    engine, _ = park
    with engine.begin() as conn:
        with pytest.raises(InputError) as exc:
            park_inventory.save_item(conn, "P", {
                "code": "", "term": "wind", "name_zh": "", "period_start": "2026-13-01",
                "period_end": "2026-01-01", "tco2e": -1, "source": "", "status": "maybe",
                "evidence_sha256": "abc", "node": "Q", "colour": "red"})
        got = {(i.field, i.rule) for i in exc.value.issues}
        assert got == {("colour", "rule.ghg_item_field"), ("code", "rule.required"),
                       ("term", "rule.choice"), ("name_zh", "rule.required"),
                       ("source", "rule.required"), ("status", "rule.choice"),
                       ("period_start", "rule.ghg_item_date"),
                       ("tco2e", "rule.ghg_item_positive"), ("node", "rule.ghg_item_node"),
                       ("evidence_sha256", "rule.ghg_item_sha256")}
        with pytest.raises(InputError) as exc:
            park_inventory.save_item(conn, "P", SINK | {"quantity": 3.0, "kind": "combustion",
                                                        "unit": "t", "carrier": "diesel"})
        assert {i.rule for i in exc.value.issues} == {"rule.ghg_item_amount",
                                                      "rule.ghg_item_removal"}
        with pytest.raises(InputError) as exc:
            park_inventory.save_item(conn, "P", {
                "code": "X", "term": "transport", "name_zh": "x", "period_start": "2026-01-01",
                "period_end": "2026-02-01", "kind": "export_heat", "quantity": 1,
                "unit": "furlong", "source": "s"})
        assert {(i.field, i.rule) for i in exc.value.issues} == {
            ("kind", "rule.choice"), ("unit", "rule.ghg_item_unit")}
        with pytest.raises(InputError) as exc:
            park_inventory.save_item(conn, "P", {
                "code": "X", "term": "transport", "name_zh": "x", "period_start": "2026-01-01",
                "period_end": "2026-02-01", "kind": "combustion", "quantity": 1, "unit": "t",
                "source": "s"})
        assert {(i.field, i.rule) for i in exc.value.issues} == {("carrier", "rule.required")}
        with pytest.raises(InputError):
            park_inventory.save_item(conn, "E", SINK)  # not a park
        with pytest.raises(NotFound):
            park_inventory.save_item(conn, "NOPE", SINK)
        assert conn.execute(select(ParkCarbonItem.id)).first() is None


def test_items_are_in_the_ledger_and_tampering_is_named(park):
    engine, _ = park
    with engine.begin() as conn:
        item = park_inventory.save_item(conn, "P", SINK)
        entry = ledger.latest_entry(conn, park_inventory.LEDGER_KIND, str(item["id"]))
        assert entry["digest"] == park_inventory.item_digest(conn, item["id"]).hex()
        assert ledger.verify(conn)["mismatches"] == []
        conn.execute(update(ParkCarbonItem).where(ParkCarbonItem.id == item["id"])
                     .values(tco2e=36.5))
        bad = ledger.verify(conn)["mismatches"]
        assert [(m["kind"], m["key"], m["problem"]) for m in bad] == [
            ("park_item", str(item["id"]), "changed")]
        assert "GREEN" in bad[0]["label"] and "GREEN" in bad[0]["label_zh"]
