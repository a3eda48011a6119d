"""Factor library in the database: loading, versions, user values, tenants, ledger digest."""

from __future__ import annotations

import sys
import types
from dataclasses import replace

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

import nengtan.services as services_pkg
from nengtan.errors import InputError, NotFound
from nengtan.reference import carbon as shipped
from nengtan.services import factor_library as fl
from nengtan.services import org
from nengtan.store.models.factors import FactorDataset, FactorValueRow

NCV = {"parameter": "ncv", "subject": "bituminous_coal", "value": 21.5, "unit": "GJ/t",
       "year": 2025, "status": "measured"}


@pytest.fixture
def tenants(engine):
    with Session(engine) as s, s.begin():
        org.create(s, {"code": "P", "name_zh": "园区", "kind": "park"})
        e1 = org.create(s, {"code": "E1", "name_zh": "一号企业", "kind": "enterprise",
                            "parent": "P"})
        e2 = org.create(s, {"code": "E2", "name_zh": "二号企业", "kind": "enterprise",
                            "parent": "P"})
        s.flush()
        return {"E1": e1.id, "E2": e2.id}


def rules(exc: InputError) -> list[tuple]:
    return [(i.row, i.field, i.rule) for i in exc.issues]


def test_shipped_datasets_load_once(engine):
    with engine.begin() as conn:
        first = fl.ensure_loaded(conn)
        assert first == {"inserted": 6, "new_versions": 0, "skipped": False}
        assert fl.ensure_loaded(conn)["skipped"] is True
        n = conn.execute(select(func.count()).select_from(FactorValueRow)).scalar()
        assert n == len(shipped.shipped_values())
        # forgetting the marker re-checks the content: nothing new, nothing edited
        conn.execute(text("DELETE FROM meta WHERE key = 'factor_library'"))
        assert fl.ensure_loaded(conn) == {"inserted": 0, "new_versions": 0, "skipped": False}
        assert conn.execute(select(func.count()).select_from(FactorValueRow)).scalar() == n


def test_a_changed_shipped_value_becomes_a_new_version(engine, monkeypatch):
    with engine.begin() as conn:
        fl.ensure_loaded(conn)
        v1 = fl.lookup(conn, 2025, "shandong").get("grid_factor", "electricity")
        assert (v1.value, v1.version) == (0.641, 1)
    original = shipped.shipped_datasets()
    changed = []
    for ds in original:
        if ds.code == "grid_factors":
            values = tuple(replace(v, value=0.6500) if v.region == "shandong" else v
                           for v in ds.values)
            ds = replace(ds, values=values, sha256="changed")
        changed.append(ds)
    monkeypatch.setattr(shipped, "shipped_datasets", lambda: tuple(changed))
    with engine.begin() as conn:
        assert fl.ensure_loaded(conn) == {"inserted": 0, "new_versions": 1, "skipped": False}
        v2 = fl.lookup(conn, 2025, "shandong").get("grid_factor", "electricity")
        assert (v2.value, v2.version) == (0.65, 2) and v2.id != v1.id
        # v1 is still readable, by id and in the history of the value
        old = fl.get_value(conn, v1.id)
        assert (old.value, old.version) == (0.641, 1)
        history = fl.value_detail(conn, v2.id)["history"]
        assert [(h["version"], h["value"]) for h in history] == [(1, 0.641), (2, 0.65)]
        detail = fl.dataset_detail(conn, "grid_factors")
        assert detail["versions"] == [1, 2]
        assert detail["changes"]["changed"] == ["grid_factor:electricity:shandong:2022"]
        assert detail["changes"]["added"] == detail["changes"]["removed"] == []
        assert fl.dataset_detail(conn, "grid_factors", 1)["current"] is False
        # the shipped id names the current shipped version's value
        assert fl.get_value(conn, "shipped:grid_factors:grid_factor:electricity:shandong:2022") \
            .value == 0.65


def test_user_dataset_versions(engine):
    with engine.begin() as conn:
        d1, created = fl.create_dataset(conn, {"code": "lab-2025", "title": "煤质化验",
                                               "document": "lab report 2025-03",
                                               "values": [NCV]})
        assert created and d1["version"] == 1 and d1["origin"] == "user"
        assert d1["values"][0]["document"] == "lab report 2025-03"  # dataset's document
        same, created = fl.create_dataset(conn, {"code": "lab-2025", "title": "煤质化验",
                                                 "document": "lab report 2025-03",
                                                 "values": [NCV]})
        assert not created and same["version"] == 1
        d2, created = fl.create_dataset(conn, {"code": "lab-2025", "title": "煤质化验",
                                               "document": "lab report 2025-03",
                                               "values": [{**NCV, "value": 22.0}]})
        assert created and d2["version"] == 2
        assert d2["changes"]["changed"] == ["ncv:bituminous_coal:2025"]
        chosen = fl.lookup(conn, 2025, "shandong").get("ncv", "bituminous_coal")
        assert (chosen.value, chosen.tier, chosen.dataset, chosen.version) == \
            (22.0, "installation", "lab-2025", 2)
        first = d1["values"][0]["id"]
        assert fl.get_value(conn, first).value == 21.5  # v1 still readable
        assert [h["value"] for h in fl.value_detail(conn, first)["history"]] == [21.5, 22.0]
        assert [d["version"] for d in fl.list_datasets(conn, all_versions=True)
                if d["code"] == "lab-2025"] == [1, 2]


def test_tenant_values_are_used_for_their_tenant_only(engine, tenants):
    with engine.begin() as conn:
        fl.create_dataset(conn, {"code": "e1-grid", "title": "E1 direct supply",
                                 "document": "PPA", "tenant": "E1", "values": [{
                                     "parameter": "grid_factor", "subject": "electricity",
                                     "value": 0.3, "unit": "tCO2/MWh", "year": 2024}]})
        fl.create_dataset(conn, {"code": "site-grid", "title": "installation",
                                 "document": "provincial notice", "values": [{
                                     "parameter": "grid_factor", "subject": "electricity",
                                     "value": 0.62, "unit": "tCO2/MWh", "year": 2024,
                                     "region": "山东"}]})
        def grid(tenant_id):
            return fl.lookup(conn, 2025, "shandong", tenant_id=tenant_id) \
                .get("grid_factor", "electricity")
        assert (grid(tenants["E1"]).value, grid(tenants["E1"]).tier) == (0.3, "tenant")
        assert (grid(tenants["E2"]).value, grid(tenants["E2"]).tier) == (0.62, "installation")
        assert grid(None).value == 0.62
        assert [d["code"] for d in fl.list_datasets(conn, tenant="E1")] == ["e1-grid"]
        with pytest.raises(InputError) as exc:  # versions stay with their tenant
            fl.create_dataset(conn, {"code": "e1-grid", "title": "x", "document": "y",
                                     "tenant": "E2", "values": [NCV]})
        assert rules(exc.value) == [(None, "tenant", "rule.factor_dataset_tenant")]


def test_bad_datasets_name_each_problem(engine):
    with engine.begin() as conn:
        with pytest.raises(InputError) as exc:
            fl.create_dataset(conn, {"code": "gwp", "title": "mine", "values": [
                {**NCV, "document": "x"},
                {"parameter": "gwp", "subject": "CH4", "value": 30, "unit": "tCO2e/t"},
                {"parameter": "oxidation_rate", "subject": "coal", "value": 1.2,
                 "unit": "fraction", "document": "x", "gwp_set": "AR5"},
                {**NCV, "document": "x"},
                {**NCV, "year": 2024, "valid_from": "2024-05-01", "valid_to": "2024-01-01"},
                {"parameter": "mystery", "subject": "x", "value": -1, "unit": "x"},
            ]})
        assert sorted(rules(exc.value), key=str) == sorted([
            (1, "document", "rule.factor_document"),
            (1, "gwp_set", "rule.factor_gwp_set"),
            (2, "gwp_set", "rule.factor_gwp_set_only"),
            (2, "value", "rule.factor_fraction"),
            (3, "subject", "rule.factor_duplicate"),
            (4, "document", "rule.factor_document"),
            (4, "valid_to", "rule.factor_validity"),
            (5, "parameter", "rule.choice"),
            (5, "value", "rule.minimum"),
            (None, "code", "rule.factor_dataset_shipped"),
        ], key=str)
        with pytest.raises(InputError) as exc:
            fl.create_dataset(conn, {"code": "ok", "title": "t", "tenant": "NOPE",
                                     "values": []})
        assert rules(exc.value) == [(None, "values", "rule.factor_values_required"),
                                    (None, "tenant", "rule.ref_unknown")]
        assert conn.execute(select(func.count()).select_from(FactorDataset)
                            .where(FactorDataset.origin == "user")).scalar() == 0
        with pytest.raises(NotFound):
            fl.value_detail(conn, 10**9)
        with pytest.raises(NotFound):
            fl.dataset_detail(conn, "nope")
        with pytest.raises(NotFound):
            fl.dataset_detail(conn, "gwp", 9)


def test_digest_names_a_tampered_value(engine):
    with engine.begin() as conn:
        fl.ensure_loaded(conn)
        v = fl.lookup(conn, 2024).gwp("CH4")
        before = fl.digest(conn, v.id)
        assert isinstance(before, bytes) and len(before) == 32
        assert fl.digest(conn, int(v.id)) == before == fl.digest(conn, "shipped:gwp:gwp:CH4:AR5")
        conn.execute(update(FactorValueRow).where(FactorValueRow.id == int(v.id))
                     .values(value=30.0))
        assert fl.digest(conn, v.id) != before
        assert fl.digest(conn, 10**9) is None and fl.digest(conn, "nonsense") is None
        many = fl.digest_many(conn, [v.id, "shipped:gwp:gwp:CH4:AR5", str(10**9), "nonsense"])
        assert many == {v.id: fl.digest(conn, v.id), str(10**9): None, "nonsense": None,
                        "shipped:gwp:gwp:CH4:AR5": fl.digest(conn, v.id)}


def test_registers_with_the_ledger_when_present(engine, monkeypatch):
    calls = []
    fake = types.ModuleType("nengtan.services.ledger")
    fake.register = lambda kind, recompute, bulk=None: calls.append((kind, recompute, bulk))
    monkeypatch.setitem(sys.modules, "nengtan.services.ledger", fake)
    monkeypatch.setattr(services_pkg, "ledger", fake, raising=False)
    monkeypatch.setattr(fl, "_registered", False)
    with engine.begin() as conn:
        fl.ensure_loaded(conn)
    assert calls == [("factor_value", fl.digest, fl.digest_many)]


def test_select_value_lists_candidates(engine):
    with engine.begin() as conn:
        out = fl.select_value(conn, "grid_factor", "electricity", 2024, "山东", grid_basis="ets")
        assert out["value"]["value"] == 0.5703 and out["rule"] == "national_latest_year"
        assert out["settings"]["grid_basis"] == "ets"
        chosen = [c for c in out["candidates"] if c["chosen"]]
        assert len(chosen) == 1 and chosen[0]["subject"] == "electricity_ets"
        # the 2019-2020 and 2021 ETS values are candidates excluded by their validity
        excluded = {c["value"] for c in out["candidates"] if c["excluded_by"] == "validity"}
        assert excluded == {0.6101, 0.5810}
        with pytest.raises(InputError):
            fl.select_value(conn, "nope", "x")
        table = fl.gwp_table(conn, "AR4")
        assert {r["gas"]: r["value"] for r in table["values"]}["N2O"] == 298


def test_the_ledger_service_knows_the_factor_value_kind():
    ledger = pytest.importorskip("nengtan.services.ledger")
    if not hasattr(ledger, "registered"):
        pytest.skip("the ledger service has no registry yet")
    ledger._load_providers()
    assert ledger.registered()["factor_value"].recompute is fl.digest
