"""Emission sources: validation of kinds, methods and activity-data links; revisions."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan.errors import InputError
from nengtan.services import inventories, meters
from nengtan.services import inventory_sources as sources
from nengtan.services import manual_entries as entries
from nengtan.store.models.inventory import EmissionSourceRevision

from .test_inventories import CLERK, PERIOD, build_plant


@pytest.fixture
def plant(sqlite_engine):
    ids = build_plant(sqlite_engine)
    with Session(sqlite_engine) as s, s.begin():
        ids["PV"] = meters.create(s, {"code": "PV", "name_zh": "光伏", "node": "S1",
                                      "carrier": "electricity_pv", "unit": "kWh",
                                      "flow_to": "S1"}).id
        for code in ("INV-A", "INV-B"):
            inventories.create(s, {"code": code, "name_zh": code, "enterprise": "E1",
                                   "period": PERIOD})
    return sqlite_engine, ids


def problems(engine, payload) -> list[tuple]:
    with Session(engine) as s, pytest.raises(InputError) as exc:
        sources.create(s, payload)
    return sorted((i.field, i.rule.removeprefix("rule.")) for i in exc.value.issues)


BASE = {"code": "X", "name_zh": "源", "enterprise": "E1"}


def test_links_are_checked_one_by_one(plant):
    engine, _ = plant
    got = problems(engine, {**BASE, "kind": "combustion", "carrier": "bituminous_coal", "links": [
        {"kind": "meter", "meter": "NOPE"},
        {"kind": "meter", "meter": "ELEC"},
        {"kind": "meter", "meter": "COAL", "sign": 2},
        {"kind": "cems", "monitor": "NOPE"},
        {"kind": "green_certificate", "value": 1, "source": "GEC"},
        {"kind": "value", "value": 1, "unit": "t"},
        {"kind": "value", "value": 1, "unit": "kWh", "source": "invoice"},
        {"kind": "teleport"},
        {"kind": "production", "product": "CLK"},
        {"kind": "meter", "meter": "OTHER"},
    ]})
    assert got == [
        ("links[0].meter", "ref_unknown"),
        ("links[1].meter", "inv_carrier_mismatch"),
        ("links[2].sign", "inv_sign"),
        ("links[3].monitor", "ref_unknown"),
        ("links[4].kind", "inv_link_for_kind"),
        ("links[5].source", "inv_value_source"),
        ("links[6].unit", "inv_link_unit"),
        ("links[7].kind", "inv_link_kind"),
        ("links[8].kind", "inv_link_for_kind"),
        ("links[9].meter", "inv_carrier_mismatch"),
        ("links[9].meter", "inv_link_tenant"),
    ]


def test_kinds_methods_and_carriers(plant):
    engine, _ = plant
    assert problems(engine, {**BASE, "kind": "electricity", "method": "measurement",
                             "links": ["ELEC"]}) == [("method", "inv_kind_method")]
    assert problems(engine, {**BASE, "kind": "combustion", "carrier": "bituminous_coal",
                             "method": "measurement", "links": ["COAL"]}) == [
        ("links", "inv_measurement_source")]
    assert problems(engine, {**BASE, "kind": "combustion", "links": ["COAL"]}) == [
        ("carrier", "inv_carrier_required")]
    assert problems(engine, {**BASE, "kind": "combustion", "carrier": "water",
                             "links": []}) == [("carrier", "inv_not_fuel")]
    assert problems(engine, {**BASE, "kind": "combustion", "carrier": "bituminous_coal",
                             "links": []}) == [("links", "inv_no_activity")]
    assert problems(engine, {**BASE, "kind": "electricity", "gas": "CH4",
                             "links": ["ELEC"]}) == [("gas", "inv_kind_gas")]
    # purchased electricity is grid electricity; exported may be PV
    assert problems(engine, {**BASE, "kind": "electricity", "links": ["PV"]}) == [
        ("links[0].meter", "inv_meter_category")]
    with Session(engine) as s, s.begin():
        src = sources.create(s, {**BASE, "kind": "export_electricity", "links": ["PV"]})
        assert src.unit == "MWh" and src.carrier == "electricity"


def test_facility_parameters_and_codes(plant):
    engine, _ = plant
    assert problems(engine, {**BASE, "kind": "process", "carrier": "clinker", "facility": "E2",
                             "params": {"cao_content": {"value": 0.65, "unit": "fraction"},
                                        "Bad Name": {"value": 1, "unit": "t", "source": "x"}},
                             "links": [{"kind": "production", "product": "CLK"}]}) == [
        ("facility", "inv_facility_outside"), ("params.Bad Name", "inv_param_name"),
        ("params.cao_content.source", "inv_param_source")]
    with Session(engine) as s, s.begin():
        sources.create(s, {**BASE, "kind": "electricity", "links": ["ELEC"]})
    assert problems(engine, {**BASE, "kind": "electricity", "links": ["ELEC"]}) == [
        ("code", "duplicate")]
    assert problems(engine, {**BASE, "enterprise": "S1", "kind": "electricity",
                             "links": ["ELEC"]}) == [("enterprise", "inv_node_kind")]
    assert problems(engine, {**BASE, "code": "Y", "inventory": "NOPE", "kind": "electricity",
                             "links": ["ELEC"]}) == [("inventory", "inv_unknown")]


def test_only_approved_activity_entries(plant):
    engine, ids = plant
    with Session(engine) as s, s.begin():
        draft = entries.create(s, "production", {
            "node": "E1", "product": "LIME", "period_start": "2025-01-01",
            "period_end": "2025-01-31", "quantity": 5.0, "source": "x"}, CLERK).id
        reading = entries.create(s, "reading", {"meter": "COAL", "ts": "2025-01-02T00:00:00",
                                                "value": 1010.0}, CLERK).id
    base = {**BASE, "kind": "process", "carrier": "calcium_carbonate"}
    assert problems(engine, {**base, "links": [{"kind": "manual_entry",
                                                "manual_entry": draft}]}) == [
        ("links[0].manual_entry", "inv_manual_not_approved")]
    assert problems(engine, {**base, "links": [{"kind": "manual_entry",
                                                "manual_entry": reading}]}) == [
        ("links[0].manual_entry", "inv_manual_kind")]
    assert problems(engine, {**base, "links": [{"kind": "manual_entry",
                                                "manual_entry": 999}]}) == [
        ("links[0].manual_entry", "inv_manual_unknown")]
    with Session(engine) as s, s.begin():
        src = sources.create(s, {**base, "links": [{"kind": "manual_entry",
                                                    "manual_entry": ids["entry"]}]})
        assert src.unit == "t"


def test_shared_sources_serve_every_inventory_and_revisions_are_kept(plant):
    engine, _ = plant
    with Session(engine) as s, s.begin():
        shared = sources.create(s, {**BASE, "code": "GRID", "kind": "electricity",
                                    "links": ["ELEC"]})
        own = sources.create(s, {**BASE, "code": "EXP", "inventory": "INV-A",
                                 "kind": "export_electricity", "links": ["EXP"]})
        a, b = inventories.by_code(s, "INV-A"), inventories.by_code(s, "INV-B")
        assert [x.code for x in sources.for_inventory(s, a)] == ["EXP", "GRID"]
        assert [x.code for x in sources.for_inventory(s, b)] == ["GRID"]
        assert sources.as_dict(s, own)["inventory"] == "INV-A"
        updated = sources.update(s, shared.id, {"links": [
            "ELEC", {"kind": "green_certificate", "value": 10, "source": "GEC-9"}]})
        assert updated.revision == 2
        out = sources.as_dict(s, updated)
        assert [lk["kind"] for lk in out["links"]] == ["meter", "green_certificate"]
        assert out["links"][0]["meter"] == "ELEC"
        revs = s.scalars(select(EmissionSourceRevision).where(
            EmissionSourceRevision.source_id == shared.id)
            .order_by(EmissionSourceRevision.revision)).all()
        assert [r.revision for r in revs] == [1, 2]
        assert len(revs[0].snapshot["links"]) == 1 and len(revs[1].snapshot["links"]) == 2
        # unchanged update keeps the links (ids in the answer are not input)
        again = sources.update(s, shared.id, {"name_zh": "外购电力"})
        assert again.revision == 3 and len(sources.as_dict(s, again)["links"]) == 2
        sources.delete(s, own.id)
        assert [x.code for x in sources.for_inventory(s, a)] == ["GRID"]
