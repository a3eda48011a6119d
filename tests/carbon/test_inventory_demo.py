"""The demo's carbon inventories (short build) and the ``nengtan carbon`` commands on them."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from nengtan.cli import app
from nengtan.config import get_settings
from nengtan.demo import build_demo
from nengtan.demo.carbon_demo import reporting_period
from nengtan.services import inventories
from nengtan.store import db

TAG = "20261101"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A 20-day demo build (2026-11-01..20) with its own evidence directory and key."""
    tmp = tmp_path_factory.mktemp("carbon-demo")
    mp = pytest.MonkeyPatch()
    mp.setenv("NENGTAN_EVIDENCE_DIR", str(tmp / "evidence"))
    mp.setenv("NENGTAN_LEDGER_KEY", str(tmp / "ledger.pem"))
    get_settings.cache_clear()
    url = f"sqlite:///{tmp / 'demo.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    build_demo(engine, today=date(2026, 11, 21), seed=2025, start=date(2026, 11, 1))
    yield engine, url
    engine.dispose()
    mp.undo()
    get_settings.cache_clear()


def test_reporting_period():
    assert reporting_period(date(2025, 1, 1), date(2026, 11, 20)) == (
        "2025", date(2025, 1, 1), date(2026, 1, 1))
    assert reporting_period(date(2025, 1, 1), date(2025, 12, 31)) == (
        "2025", date(2025, 1, 1), date(2026, 1, 1))
    assert reporting_period(date(2026, 11, 1), date(2026, 11, 20)) == (
        "2026-11-01/2026-11-21", date(2026, 11, 1), date(2026, 11, 21))


def test_the_demo_locks_three_inventories(demo):
    engine, _ = demo
    with Session(engine) as s:
        got = {}
        for e in ("CEM", "TEX", "ELE"):
            inv = inventories.by_code(s, f"INV-{e}-{TAG}")
            v = inventories.version(s, inv.id)
            assert v.status == "locked" and v.ledger["checkpoint"]["tree_size"] > 0
            got[e] = v.result
    cem = {x["source"]: x for x in got["CEM"]["sources"]}
    assert set(cem) == {"CEM-COAL", "CEM-CLINKER", "CEM-DIESEL", "CEM-GRID"}
    # clinker: 0.65 × 0.7848 + 0.02 × 1.092 = 0.53196 tCO2 per t of clinker
    assert cem["CEM-CLINKER"]["tco2e"] == pytest.approx(cem["CEM-CLINKER"]["quantity"] * 0.53196)
    per_t = got["CEM"]["intensity"]["products"][0]["tco2e_per_unit"]
    assert 0.7 < per_t < 0.95  # cement clinker: about 0.8 tCO2e/t
    coal = {p["parameter"]: p for p in cem["CEM-COAL"]["lineage"]["parameters"]}
    assert coal["ncv"]["status"] == "measured" and coal["carbon_content"]["status"] == "measured"
    # the kiln stack CEMS has data in the window: shown alongside, not in the total
    cems = got["CEM"]["alongside"][0]
    assert cems["source"] == "CEM-CEMS" and cems["tco2e"] > 0
    assert got["CEM"]["totals"]["total_tco2e"] == pytest.approx(
        sum(x["tco2e"] for x in cem.values()))
    ele = got["ELE"]
    assert ele["totals"]["scope2_market_tco2e"] < ele["totals"]["scope2_tco2e"]
    assert ele["renewables"]["self_used_mwh"] > 0
    assert {x["kind"] for x in ele["sources"]} == {"electricity", "export_electricity"}
    assert [x["source"] for x in got["TEX"]["sources"]] == ["TEX-GAS", "TEX-GRID"]


def test_carbon_commands(demo):
    _, url = demo
    runner = CliRunner()
    out = runner.invoke(app, ["carbon", "list", "--db", url])
    assert out.exit_code == 0, out.output
    assert f"INV-CEM-{TAG}" in out.output and "locked" in out.output
    out = runner.invoke(app, ["carbon", "compute", f"INV-TEX-{TAG}", "--db", url])
    assert out.exit_code == 0, out.output
    assert "version 2 (draft)" in out.output and "TEX-GAS" in out.output
    out = runner.invoke(app, ["carbon", "diff", f"INV-TEX-{TAG}", "--db", url, "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert (d["from"]["version"], d["to"]["version"]) == (1, 2)
    assert d["totals"]["total_tco2e"]["delta"] == pytest.approx(0.0, abs=1e-9)
    out = runner.invoke(app, ["carbon", "lock", f"INV-TEX-{TAG}", "--db", url, "--user",
                              "sunhao"])
    assert out.exit_code == 0, out.output
    assert f"locked INV-TEX-{TAG} version 2" in out.output
    out = runner.invoke(app, ["carbon", "lineage", f"INV-TEX-{TAG}", "--figure",
                              "source:TEX-GAS", "--db", url])
    assert out.exit_code == 0 and json.loads(out.output)["figure"] == "source:TEX-GAS"
    out = runner.invoke(app, ["carbon", "lock", "NOPE", "--db", url, "--user", "x"])
    assert out.exit_code == 2
    out = runner.invoke(app, ["ledger", "verify", "--db", url])
    assert out.exit_code == 0, out.output


def test_scaled_monthly_trend_equals_engine_runs(full_demo, monkeypatch):
    """Months scaled from the period result (proportional sources) are the engine's figures."""
    from sqlalchemy import select

    from nengtan.store.models.inventory import Inventory

    engine, _ = full_demo
    with Session(engine) as s:
        invs = list(s.execute(select(Inventory)).scalars())
        conn = s.connection()
        fast = {i.code: inventories.evaluate(conn, i)["trend"] for i in invs}
        monkeypatch.setattr(inventories, "_proportional", lambda *a: False)
        slow = {i.code: inventories.evaluate(conn, i)["trend"] for i in invs}
    assert fast and fast.keys() == slow.keys()
    for code in fast:
        for a, b in zip(fast[code], slow[code], strict=True):
            for key in ("total_tco2e", "total_market_tco2e", "scope1_tco2e", "scope2_tco2e"):
                assert a[key] == pytest.approx(b[key], rel=1e-12, abs=1e-9), (code, a["month"])
            for pa, pb in zip(a["sources"], b["sources"], strict=True):
                assert pa["tco2e"] == pytest.approx(pb["tco2e"], rel=1e-12, abs=1e-9)
