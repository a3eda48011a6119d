"""Enterprise carbon inventories on a small plant: known answers computed by hand, months
that add up to the period, scopes that partition the total, lineage, locks, versions, diffs.

The plant (``build_plant``): park P (region shandong) → enterprise E1 → site S1 → kiln K,
and enterprise E2; daily cumulative meters from 2025-01-01 for the 59 days of January and
February 2025:

* COAL bituminous coal into S1, 10 t/day → 590 t;
* ELEC grid electricity into S1, 5 000 kWh/day → 295 MWh;
* EXP electricity from S1 to the grid, 200 kWh/day → 11.8 MWh;
* two coal deliveries with lab analyses: 1 000 t at 20 000 kJ/kg and 50 % C (2025-01-05),
  3 000 t at 24 000 kJ/kg and 60 % C (2025-02-10);
* clinker output 100 t/day at E1 → 5 900 t; output value 1 000 000 CNY per month;
* a manual entry (approved) of limestone 1 000 t used in the period, with an evidence file.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from nengtan.config import get_settings
from nengtan.errors import InputError, NotFound
from nengtan.services import evidence, ingest, inventories, meters, org, production
from nengtan.services import inventory_sources as sources
from nengtan.services import manual_entries as entries
from nengtan.services.audit import Actor
from nengtan.store.models.inventory import InventoryVersion

US = 1_000_000
DAY = 86400 * US
T0 = 1_735_660_800 * US  # 2025-01-01 00:00 Asia/Shanghai
DAYS = 59
PERIOD = "2025-01-01/2025-03-01"
CLERK, REVIEWER = Actor("clerk", "test"), Actor("reviewer", "test")

# -- the answers, by hand --------------------------------------------------------------------
# coal: NCV = (1000 × 20 + 3000 × 24) / 4000 = 23 GJ/t;
#       CC = (1000 × 0.50 + 3000 × 0.60) tC / (92 000 GJ = 92 TJ) = 2 300 / 92 = 25 tC/TJ;
#       OF = 0.93 (library default of bituminous coal);
#       E = 590 t × 23 GJ/t × 25 × 0.93 × 44/12 / 1000 = 13 570 GJ × 0.08525 = 1156.8425 tCO2
COAL_T = 1156.8425
# clinker (cement methodology): 5 900 t × (0.65 × 0.7848 + 0.02 × 1.092) = 5 900 × 0.53196
CLINKER_T = 3138.564
# limestone: 1 000 t × 0.4397 tCO2/t (CaCO3 stoichiometry) = 439.7
LIME_T = 439.7
# electricity: 295 MWh × 0.6410 (Shandong 2022, latest ≤ 2025) = 189.095;
#   market-based with 100 MWh of certificates: 195 × 0.641 = 124.995
ELEC_T, ELEC_MARKET_T = 189.095, 124.995
# exported: −11.8 MWh × 0.641 = −7.5638
EXPORT_T = -7.5638
SCOPE1 = COAL_T + CLINKER_T + LIME_T
SCOPE2 = ELEC_T + EXPORT_T


@pytest.fixture(autouse=True)
def _ledger_key(tmp_path, monkeypatch):
    monkeypatch.setenv("NENGTAN_LEDGER_KEY", str(tmp_path / "ledger.pem"))


def build_plant(engine) -> dict[str, int]:
    """The plant of the module docstring; returns meter and node ids by code."""
    root = get_settings().resolved_evidence_dir()
    with Session(engine) as s, s.begin():
        meters.seed_carriers(s)
        org.create(s, {"code": "P", "name_zh": "园区", "kind": "park", "region": "shandong"})
        for code, kind, parent in (("E1", "enterprise", "P"), ("S1", "site", "E1"),
                                   ("K", "workshop", "S1"), ("E2", "enterprise", "P")):
            org.create(s, {"code": code, "name_zh": f"节点{code}", "kind": kind,
                           "parent": parent})
        ids = {}
        for code, node, carrier, unit, flow in (
                ("COAL", "K", "bituminous_coal", "t", (None, "K")),
                ("ELEC", "S1", "electricity", "kWh", (None, "S1")),
                ("EXP", "S1", "electricity", "kWh", ("S1", None)),
                ("OTHER", "E2", "electricity", "kWh", (None, "E2"))):
            ids[code] = meters.create(s, {
                "code": code, "name_zh": code, "node": node, "carrier": carrier, "unit": unit,
                "interval_s": 86400, "level": 1, "flow_from": flow[0], "flow_to": flow[1]}).id
        production.upsert_product(s, {"code": "CLK", "name_zh": "熟料", "unit": "t"})
        production.upsert_product(s, {"code": "LIME", "name_zh": "石灰石", "unit": "t"})
        for k in range(DAYS):
            day = date(2025, 1, 1) + timedelta(days=k)
            production.upsert_production(s, {"node": "E1", "product": "CLK",
                                             "period_start": day, "period_end": day,
                                             "quantity": 100.0})
        for month, end in ((1, 31), (2, 28)):
            production.upsert_economic(s, {"node": "E1", "period_start": date(2025, month, 1),
                                           "period_end": date(2025, month, end),
                                           "output_value": 1_000_000.0})
        for day, qty, ncv, carbon in ((date(2025, 1, 5), 1000.0, 20000.0, 50.0),
                                      (date(2025, 2, 10), 3000.0, 24000.0, 60.0)):
            production.add_fuel_delivery(s, {
                "node": "E1", "carrier": "bituminous_coal", "delivered_on": day,
                "quantity": qty, "unit": "t", "ncv": ncv, "ncv_unit": "kJ/kg",
                "carbon_content_pct": carbon, "lab": "plant lab",
                "report_no": f"LAB-{day:%m%d}"})
        file_id = evidence.store(s, root, b"limestone ledger 2025-01/02\n1000 t\n",
                                 filename="limestone.csv", actor=CLERK, tenant="E1").id
        entry = entries.create(s, "production", {
            "node": "E1", "product": "LIME", "period_start": "2025-01-01",
            "period_end": "2025-02-28", "quantity": 1000.0, "unit": "t",
            "source": "raw material ledger"}, CLERK, submit=True, evidence_ids=[file_id])
        entries.approve(s, entry.id, REVIEWER)
        ids["entry"] = entry.id
        ids["evidence"] = file_id
    daily = {"COAL": 10.0, "ELEC": 5000.0, "EXP": 200.0, "OTHER": 1.0}
    ts = T0 + np.arange(DAYS + 1, dtype=np.int64) * DAY
    batch = ingest.ReadingBatch(
        np.concatenate([np.full(DAYS + 1, ids[c]) for c in daily]), np.tile(ts, len(daily)),
        np.concatenate([1000.0 + np.arange(DAYS + 1) * v for v in daily.values()]))
    with engine.begin() as conn:
        ingest.ingest(conn, batch, "test")
    return ids


SOURCES = [
    {"code": "COAL", "name_zh": "燃煤", "kind": "combustion", "carrier": "bituminous_coal",
     "facility": "K", "links": [{"kind": "meter", "meter": "COAL"},
                                {"kind": "fuel_deliveries", "use": "params"}]},
    {"code": "CLINKER", "name_zh": "熟料", "kind": "process", "carrier": "clinker",
     "facility": "K",
     "params": {"cao_content": {"value": 65, "unit": "%", "source": "lab XRF"},
                "mgo_content": {"value": 0.02, "unit": "fraction", "source": "lab XRF"}},
     "links": [{"kind": "production", "product": "CLK"}]},
    {"code": "GRID", "name_zh": "外购电", "kind": "electricity",
     "links": ["ELEC", {"kind": "green_certificate", "value": 100, "unit": "MWh",
                        "source": "GEC list", "reference": "GEC-1"}]},
    {"code": "EXPORT", "name_zh": "上网电量", "kind": "export_electricity", "links": ["EXP"]},
]


def make_inventory(engine, ids, **extra) -> int:
    """Inventory INV-E1 (cement methodology) with the sources above and the limestone."""
    with Session(engine) as s, s.begin():
        inv = inventories.create(s, {"code": "INV-E1", "name_zh": "一号企业盘查",
                                     "enterprise": "E1", "period": PERIOD,
                                     "methodology": "cement", "target_tco2e": 2000,
                                     "target_period": "month", **extra})
        for k, src in enumerate(SOURCES):
            sources.create(s, {**src, "inventory": "INV-E1", "sort_order": k})
        sources.create(s, {"code": "LIME", "name_zh": "石灰石分解", "enterprise": "E1",
                           "kind": "process", "carrier": "calcium_carbonate",
                           "links": [{"kind": "manual_entry", "manual_entry": ids["entry"]}]})
        return inv.id


@pytest.fixture
def plant(engine):
    ids = build_plant(engine)
    return engine, ids, make_inventory(engine, ids)


def compute(engine, inv_id):
    with Session(engine) as s, s.begin():
        return inventories.version_dict(inventories.compute(s, inv_id, "tester"))


def by_source(result) -> dict[str, dict]:
    return {e["source"]: e for e in result["sources"]}


def test_known_answers(plant):
    engine, _ids, inv_id = plant
    r = compute(engine, inv_id)["result"]
    got = by_source(r)
    assert got["COAL"]["quantity"] == pytest.approx(590.0)
    assert got["COAL"]["tco2e"] == pytest.approx(COAL_T, rel=1e-9)
    assert got["CLINKER"]["tco2e"] == pytest.approx(CLINKER_T, rel=1e-9)
    assert got["LIME"]["tco2e"] == pytest.approx(LIME_T, rel=1e-9)
    assert got["GRID"]["tco2e"] == pytest.approx(ELEC_T, rel=1e-9)
    assert got["GRID"]["tco2e_market"] == pytest.approx(ELEC_MARKET_T, rel=1e-9)
    assert got["EXPORT"]["tco2e"] == pytest.approx(EXPORT_T, rel=1e-9)
    t = r["totals"]
    assert t["scope1_tco2e"] == pytest.approx(SCOPE1, rel=1e-9)
    assert t["scope2_tco2e"] == pytest.approx(SCOPE2, rel=1e-9)
    assert t["total_tco2e"] == pytest.approx(SCOPE1 + SCOPE2, rel=1e-9)
    assert t["total_market_tco2e"] == pytest.approx(SCOPE1 + ELEC_MARKET_T + EXPORT_T)
    # the measured parameters: quantity-weighted lab values
    params = {p["parameter"]: p for p in got["COAL"]["lineage"]["parameters"]}
    assert params["ncv"]["value"] == pytest.approx(23.0)
    assert params["carbon_content"]["value"] == pytest.approx(25.0)
    assert params["ncv"]["status"] == "measured"
    assert params["oxidation_rate"]["origin"] == "library"
    # intensity: 5 900 t of clinker, 2 × 10^6 CNY
    total = t["total_tco2e"]
    clk = next(p for p in r["intensity"]["products"] if p["product"] == "CLK")
    assert clk["tco2e_per_unit"] == pytest.approx(total / 5900.0)
    assert r["intensity"]["output_value"]["tco2e_per_10k_cny"] == pytest.approx(total / 200.0)


def test_scopes_partition_and_months_add_up(plant):
    engine, _ids, inv_id = plant
    r = compute(engine, inv_id)["result"]
    t = r["totals"]
    assert t["scope1_tco2e"] + t["scope2_tco2e"] == pytest.approx(t["total_tco2e"])
    assert sum(e["tco2e"] for e in r["sources"]) == pytest.approx(t["total_tco2e"])
    assert sum(x["tco2e"] for x in r["by_facility"]) == pytest.approx(t["total_tco2e"])
    assert sum(x["tco2e"] for x in r["by_gas"]) == pytest.approx(t["total_tco2e"])
    assert sum(x["tco2e"] for x in r["by_kind"]) == pytest.approx(t["total_tco2e"])
    assert [m["month"] for m in r["trend"]] == ["2025-01", "2025-02"]
    assert sum(m["total_tco2e"] for m in r["trend"]) == pytest.approx(t["total_tco2e"])
    assert r["trend"][-1]["cumulative_tco2e"] == pytest.approx(t["total_tco2e"])
    # January: 31 of 59 days of every daily-uniform activity
    jan = {p["source"]: p for p in r["trend"][0]["sources"]}
    assert jan["COAL"]["quantity"] == pytest.approx(310.0)
    assert jan["COAL"]["tco2e"] == pytest.approx(COAL_T * 310 / 590)
    assert jan["LIME"]["quantity"] == pytest.approx(1000.0 * 31 / 59)


def test_alerts_against_a_monthly_budget(plant):
    engine, _ids, inv_id = plant
    r = compute(engine, inv_id)["result"]
    alerts = r["alerts"]
    # 2 000 tCO2e per month; January ≈ 31/59 of ≈ 4 916 = 2 583 > 2 000
    jan = alerts["items"][0]
    assert jan["budget_to_date_tco2e"] == pytest.approx(2000.0)
    assert jan["cumulative_tco2e"] == pytest.approx(r["trend"][0]["total_tco2e"])
    assert jan["above"] is True and alerts["status"] == "above"
    assert alerts["items"][1]["budget_to_date_tco2e"] == pytest.approx(4000.0)


def test_lineage_reaches_readings_entries_and_evidence(plant):
    engine, ids, inv_id = plant
    r = compute(engine, inv_id)["result"]
    got = by_source(r)
    meter = got["COAL"]["lineage"]["activity_data"]["links"][0]
    assert meter["meter"] == "COAL" and meter["coverage"] == pytest.approx(1.0)
    assert meter["readings"] == (f"/api/meters/{ids['COAL']}/readings"
                                 "?start=2025-01-01&end=2025-03-01")
    labs = got["COAL"]["lineage"]["given_parameters"][0]["lab_records"]
    assert [x["report_no"] for x in labs] == ["LAB-0105", "LAB-0210"]
    entry = got["LIME"]["lineage"]["activity_data"]["links"][0]
    assert entry["manual_entry"] == ids["entry"] and entry["reviewed_by"] == "reviewer"
    ev = entry["evidence"][0]
    assert ev["evidence_id"] == ids["evidence"] and ev["uploaded_by"] == "clerk"
    assert len(ev["sha256"]) == 64
    clinker = {p["parameter"]: p for p in got["CLINKER"]["lineage"]["parameters"]}
    assert clinker["cao_content"]["source"] == "lab XRF"
    assert clinker["cao_content"]["value"] == pytest.approx(0.65)
    assert {f["parameter"] for f in r["factor_values"]} >= {"oxidation_rate", "grid_factor"}


def test_lock_freezes_and_recalculation_makes_a_diff(plant):
    engine, _ids, inv_id = plant
    with Session(engine) as s, s.begin():
        v1 = inventories.lock(s, inv_id, "carbon-manager")
        assert v1.status == "locked" and v1.version == 1
        assert v1.ledger["entries"]["inventory_result"] == 1
        assert v1.ledger["entries"]["evidence_file"] == 1
        assert v1.ledger["entries"]["manual_entry"] == 1
        assert v1.ledger["entries"]["fuel_delivery"] == 2
        assert v1.ledger["checkpoint"]["tree_size"] > 0
        locked = (v1.digest, v1.total_tco2e)
    # a new lab lot in February changes the coal parameters; compute → version 2 (draft)
    with Session(engine) as s, s.begin():
        production.add_fuel_delivery(s, {
            "node": "E1", "carrier": "bituminous_coal", "delivered_on": date(2025, 2, 20),
            "quantity": 4000.0, "unit": "t", "ncv": 23000.0, "ncv_unit": "kJ/kg",
            "carbon_content_pct": 57.5, "report_no": "LAB-0220"})
    v2 = compute(engine, inv_id)
    assert v2["version"] == 2 and v2["status"] == "draft"
    with Session(engine) as s:
        v1 = inventories.version(s, inv_id, 1)
        assert (v1.digest, v1.total_tco2e) == locked
        assert v1.digest == inventories.version_digest("INV-E1", v1).hex()
        d = inventories.diff(s, inv_id)
    assert d["from"]["version"] == 1 and d["to"]["version"] == 2
    assert d["changed_sources"] == ["COAL"]
    coal = next(x for x in d["sources"] if x["source"] == "COAL")
    # NCV (1000×20 + 3000×24 + 4000×23)/8000 = 23 GJ/t; C (500 + 1800 + 2300) / 184 TJ = 25
    # → the same figures: the lots changed, the parameter values did not
    assert coal["status"] in ("inputs_changed", "unchanged")
    # a second recalculation with a changed oxidation rate entered with the source
    with Session(engine) as s, s.begin():
        src = s.scalar(select(sources.EmissionSource).where(
            sources.EmissionSource.code == "COAL"))
        sources.update(s, src.id, {"params": {"oxidation_rate": {
            "value": 0.98, "unit": "fraction", "source": "plant test"}}})
    compute(engine, inv_id)
    with Session(engine) as s:
        d = inventories.diff(s, inv_id, 1, 2)
    coal = next(x for x in d["sources"] if x["source"] == "COAL")
    assert coal["status"] == "changed"
    assert coal["new_tco2e"] == pytest.approx(COAL_T / 0.93 * 0.98)
    assert coal["delta_tco2e"] == pytest.approx(COAL_T / 0.93 * 0.05)
    why = {w["parameter"]: w for w in coal["why"] if w["what"] == "parameter"}
    # the lab values are now of three lots (same values, new source text); OF was entered
    assert sorted(why) == ["carbon_content", "ncv", "oxidation_rate"]
    assert why["ncv"]["old"]["value"] == pytest.approx(why["ncv"]["new"]["value"])
    of = why["oxidation_rate"]
    assert of["old"]["value"] == pytest.approx(0.93) and of["new"]["value"] == 0.98
    assert of["old"]["factor_id"] not in (None, "given") and of["new"]["factor_id"] == "given"
    assert of["new"]["source"] == "plant test"
    assert d["totals"]["total_tco2e"]["delta"] == pytest.approx(coal["delta_tco2e"])


def test_a_changed_reading_shows_in_the_diff(plant):
    engine, ids, inv_id = plant
    with Session(engine) as s, s.begin():
        inventories.lock(s, inv_id, "carbon-manager")
    # the register at the end rises by 5 t: February's last day counts 15 t
    batch = ingest.ReadingBatch(np.array([ids["COAL"]]), np.array([T0 + DAYS * DAY]),
                                np.array([1000.0 + DAYS * 10.0 + 5.0]))
    with engine.begin() as conn:
        ingest.ingest(conn, batch, "test")
    compute(engine, inv_id)
    with Session(engine) as s:
        d = inventories.diff(s, inv_id)
    coal = next(x for x in d["sources"] if x["source"] == "COAL")
    link = next(w for w in coal["why"] if w["what"] == "activity_link")
    assert link["link"] == "meter COAL"
    assert (link["old"], link["new"]) == (pytest.approx(590.0), pytest.approx(595.0))


def test_locked_inventories_keep_their_identity(plant):
    engine, _ids, inv_id = plant
    with Session(engine) as s, s.begin():
        inventories.lock(s, inv_id, "carbon-manager")
    with Session(engine) as s, s.begin(), pytest.raises(InputError) as exc:
        inventories.delete(s, inv_id)
    assert exc.value.issues[0].rule == "rule.inv_locked_delete"
    with Session(engine) as s, s.begin(), pytest.raises(InputError) as exc:
        inventories.update(s, inv_id, {"code": "INV-X"})
    assert exc.value.issues[0].rule == "rule.inv_locked_field"
    with Session(engine) as s, s.begin():
        inv = inventories.update(s, inv_id, {"gwp_set": "AR6"})
        assert inv.gwp_set == "AR6"
    with Session(engine) as s, s.begin(), pytest.raises(InputError) as exc:
        src = s.scalar(select(sources.EmissionSource).where(
            sources.EmissionSource.code == "LIME"))
        sources.delete(s, src.id)
    assert exc.value.issues[0].rule == "rule.inv_source_locked"


def test_direct_changes_are_caught_by_the_ledger(plant):
    from nengtan.services import ledger

    engine, _ids, inv_id = plant
    with Session(engine) as s, s.begin():
        inventories.lock(s, inv_id, "carbon-manager")
    with engine.begin() as conn:
        assert ledger.verify(conn)["ok"]
        conn.execute(text("UPDATE inventory_versions SET total_tco2e = total_tco2e + 1"))
        conn.execute(text("UPDATE emission_sources SET unit = 'kg' WHERE code = 'LIME'"))
    with engine.begin() as conn:
        report = ledger.verify(conn)
    named = sorted(m["kind"] + " " + m["key"] for m in report["mismatches"])
    lime = None
    with Session(engine) as s:
        lime = s.scalar(select(sources.EmissionSource.id).where(
            sources.EmissionSource.code == "LIME"))
    assert named == ["inventory_result INV-E1/v1", f"inventory_source {lime}/r1"]


def test_an_unapproved_entry_counts_nothing(plant):
    engine, ids, inv_id = plant
    with Session(engine) as s, s.begin():
        entries.revise(s, ids["entry"], CLERK, retract=True, submit=True)
        entries.approve(s, ids["entry"], REVIEWER)
    r = compute(engine, inv_id)["result"]
    lime = by_source(r)["LIME"]
    assert lime["tco2e"] == 0.0
    assert [w["rule"] for w in r["warnings"]] == ["inv_manual_not_approved"]
    assert "retracted" in r["warnings"][0]["message"]


def test_the_engine_names_the_source(engine):
    ids = build_plant(engine)
    with Session(engine) as s, s.begin():
        inventories.create(s, {"code": "INV-G", "name_zh": "通用", "enterprise": "E1",
                               "period": PERIOD})
        sources.create(s, {**SOURCES[1], "inventory": "INV-G"})  # cement params, gbt32150
    with Session(engine) as s, pytest.raises(InputError) as exc:
        inventories.compute(s, inventories.by_code(s, "INV-G").id)
    fields = {i.field for i in exc.value.issues}
    assert "sources.CLINKER.cao_content" in fields
    assert ids


def test_versions_results_and_lineage_lookup(plant):
    engine, _ids, inv_id = plant
    with Session(engine) as s, pytest.raises(NotFound):
        inventories.version(s, inv_id)
    compute(engine, inv_id)
    compute(engine, inv_id)  # replaces the draft
    with Session(engine) as s:
        assert [v.version for v in inventories.versions(s, inv_id)] == [1]
        found = inventories.lineage(s, inv_id, "facility:K")
        assert sorted(x["source"] for x in found["sources"]) == ["CLINKER", "COAL"]
        assert found["value"] == pytest.approx(COAL_T + CLINKER_T)
        month = inventories.lineage(s, inv_id, "month:2025-02")
        assert month["month"]["month"] == "2025-02"
        with pytest.raises(InputError):
            inventories.lineage(s, inv_id, "planet:mars")
        view = inventories.view(inventories.version(s, inv_id), "scopes")
        assert [(x["scope"], x["basis"]) for x in view["items"]] == [
            (1, None), (2, "location"), (2, "market")]
    with Session(engine) as s:
        assert s.scalar(select(InventoryVersion.status)) == "draft"


def test_scope3_and_alongside_sources_stay_out_of_the_total(plant):
    engine, _ids, inv_id = plant
    before = compute(engine, inv_id)["result"]["totals"]["total_tco2e"]
    with Session(engine) as s, s.begin():
        # contracted trucks' diesel (upstream transport, scope 3 category 4): 2 t of diesel
        sources.create(s, {"code": "TRUCKS", "name_zh": "外包运输柴油", "inventory": "INV-E1",
                           "kind": "combustion", "carrier": "diesel", "scope3_category": 4,
                           "links": [{"kind": "value", "value": 2000, "unit": "kg",
                                      "source": "carrier's fuel statement"}]})
        sources.create(s, {"code": "COAL-CHECK", "name_zh": "燃煤复核", "inventory": "INV-E1",
                           "kind": "combustion", "carrier": "bituminous_coal",
                           "counted": False, "links": ["COAL"]})
    r = compute(engine, inv_id)["result"]
    assert r["totals"]["total_tco2e"] == pytest.approx(before)
    # 2 t × 42.652 GJ/t × 20.2 tC/TJ × 0.98 × 44/12 / 1000 = 6.191792... tCO2
    trucks = r["scope3"]["sources"][0]
    assert trucks["scope"] == 3 and trucks["scope3_category"] == 4
    assert trucks["tco2e"] == pytest.approx(2 * 42.652 * 20.2 * 0.98 * 44 / 12 / 1000)
    assert r["scope3"]["categories"][0]["category"] == 4
    check = r["alongside"][0]
    # the check uses the library defaults (no lab link): 590 × 19.570 × 26.18 × 0.93 × 44/12
    assert check["tco2e"] == pytest.approx(590 * 19.570 * 26.18 * 0.93 * 44 / 12 / 1000)
    assert "TRUCKS" not in r["totals"]["lineage"]["sum_of"]
