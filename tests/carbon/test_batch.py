"""The carbon batch calculator's CSV format and the `nengtan calc carbon` command, with the
shipped factor library (values of src/nengtan/reference/data); known answers by hand."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from nengtan.carbon import batch
from nengtan.cli import app
from nengtan.errors import InputError

from .test_engine_support import Lookup

GOOD = """source,kind,carrier,quantity,unit,ncv,carbon_content,oxidation_rate,emission_factor,gas,green_mwh
kiln coal,combustion,bituminous_coal,1000,t,,,,,,
genset,combustion,diesel,10,t,43,,,,,
own factor,combustion,bituminous_coal,100,t,,,,1.9,,
grid,electricity,,"1,000,000",kWh,,,,,,200
export pv,export_electricity,electricity,100,MWh,,,,,,
steam,heat,heat,1000,GJ,,,,,,
co2 sold,recovered,,10,t,,,,,,
chiller,fugitive,,10,kg,,,,,HFC-134a,
lime,process,calcium_carbonate,100,t,,,,,,
"""
# by hand (shipped library, national, 2023 grid factor 0.5306 tCO2/MWh):
#   kiln coal  1000 t × 19.570 GJ/t × 26.18 tC/TJ × 0.93 × 44/12 ÷ 1000 = 1747.088266
#   genset     10 t × 43 GJ/t (given) × 20.20 × 0.98 × 44/12 ÷ 1000      =   31.2116933
#   own factor 100 t × 1.9 tCO2/t (given)                                  =  190
#   grid       1000 MWh × 0.5306 = 530.6 (market: 800 × 0.5306 = 424.48)
#   export pv  −100 MWh × 0.5306 = −53.06
#   steam      1000 GJ × 0.11 = 110
#   co2 sold   −10
#   chiller    0.01 t HFC-134a × 1300 (AR5) = 13
#   lime       100 t × 0.4397 = 43.97
SCOPE1 = 1747.088266 + 31.21169333 + 190 - 10 + 13 + 43.97
SCOPE2 = 530.6 - 53.06 + 110
SCOPE2_MARKET = 424.48 - 53.06 + 110


def test_calculate_known_answers():
    from nengtan.carbon.factors import shipped_library

    data = batch.calculate(GOOD, shipped_library(2023, None, "AR5"), "AR5")
    assert data["scope1_tco2e"] == pytest.approx(SCOPE1, rel=1e-9)
    assert data["scope2_tco2e"] == pytest.approx(SCOPE2, rel=1e-9)
    assert data["total_tco2e"] == pytest.approx(SCOPE1 + SCOPE2, rel=1e-9)
    assert data["scope2_market_tco2e"] == pytest.approx(SCOPE2_MARKET, rel=1e-9)
    rows = {s["source"]: s for s in data["sources"]}
    assert [s["row"] for s in data["sources"]] == list(range(2, 11))
    coal = rows["kiln coal"]["lineage"]["parameters"]
    assert [(p["parameter"], p["origin"]) for p in coal] == [
        ("ncv", "library"), ("carbon_content", "library"), ("oxidation_rate", "library")]
    assert coal[0]["factor_id"].startswith("shipped:fuel_defaults:ncv:bituminous_coal")
    assert coal[0]["status"] == "unverified" and coal[0]["source"]
    genset = rows["genset"]["lineage"]["parameters"][0]
    assert (genset["parameter"], genset["value"], genset["unit"], genset["factor_id"],
            genset["source"]) == ("ncv", 43.0, "GJ/t", "given", "input file, row 3")
    assert rows["own factor"]["lineage"]["parameters"][0]["unit"] == "tCO2/t"
    grid = rows["grid"]["lineage"]["parameters"][0]
    assert grid["value"] == 0.5306 and grid["year"] == 2023
    assert rows["chiller"]["tco2e"] == pytest.approx(13.0)
    assert rows["co2 sold"]["tco2e"] == -10.0


def test_header_and_row_problems_are_all_reported():
    inputs, issues = batch.read_csv("source,kind,quantity,unit,colour\n")
    assert inputs == [] and [(i.row, i.field, i.rule) for i in issues] == [
        (1, "carrier", "rule.header_missing"), (1, "colour", "rule.header_unknown")]
    text = ("source,kind,carrier,quantity,unit,ncv\n"
            "a,combustion,diesel,1,t,\n"          # 2 fine
            "b,combustion,diesel,,t,\n"           # 3 quantity missing
            "c,combustion,diesel,x,t,\n"          # 4 not a number
            "d,combustion,diesel,1,t,abc\n"       # 5 ncv not a number
            "e,burning,diesel,1,t,\n"             # 6 kind
            "f,combustion,,1,t,\n"                # 7 carrier
            "g,electricity,,-1,MWh,\n"            # 8 negative
            "h,combustion,unobtainium,1,t,\n"     # 9 no library values
            "i,heat,,1,parsec,\n"                 # 10 unit
            "j,combustion,diesel,1,t,1,2\n")      # 11 cell without header
    with pytest.raises(InputError) as err:
        batch.calculate(text, Lookup())
    assert [(i.row, i.field, i.rule) for i in err.value.issues] == [
        (3, "quantity", "rule.required"),
        (4, "quantity", "rule.type_float"),
        (5, "ncv", "rule.type_float"),
        (6, "kind", "rule.choice"),
        (7, "carrier", "rule.required"),
        (8, "quantity", "rule.minimum"),
        (9, "ncv", "rule.carbon_param_missing"),
        (9, "carbon_content", "rule.carbon_param_missing"),
        (9, "oxidation_rate", "rule.carbon_param_missing"),
        (10, "unit", "rule.unit_unknown"),
        (11, None, "rule.no_header"),
    ]


def test_empty_files():
    with pytest.raises(InputError) as err:
        batch.calculate("", Lookup())
    assert err.value.issues[0].rule == "rule.file_empty"
    with pytest.raises(InputError) as err:
        batch.calculate("source,kind,carrier,quantity,unit\n\n", Lookup())
    assert err.value.issues[0].rule == "rule.carbon_no_rows"


def test_method_and_mass_balance_columns():
    # (50 − 20) tC × 44/12 = 110 tCO2; measured 77 tCO2
    text = ("source,kind,carrier,quantity,unit,method,carbon_in_t,carbon_out_t,facility\n"
            "smelter,process,coke,0,t,mass_balance,50,20,line 1\n"
            "stack,combustion,bituminous_coal,77,t,measurement,,,kiln\n")
    data = batch.calculate(text, Lookup())
    assert [s["tco2e"] for s in data["sources"]] == [pytest.approx(110.0), 77.0]
    assert [s["facility"] for s in data["sources"]] == ["line 1", "kiln"]


def test_cli_json(tmp_path):
    path = tmp_path / "sources.csv"
    path.write_text(GOOD, "utf-8")
    res = CliRunner().invoke(app, ["calc", "carbon", "--input", str(path), "--json",
                                   "--gwp", "AR4", "--year", "2023"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    # AR4: HFC-134a 1430 → 14.3 instead of 13
    assert data["total_tco2e"] == pytest.approx(SCOPE1 + SCOPE2 - 13 + 14.3, rel=1e-9)
    assert data["gwp_set"] == "AR4"
    assert {"total_tco2e", "scope1_tco2e", "scope2_tco2e", "scope2_market_tco2e",
            "sources"} <= set(data)
    assert all({"source", "tco2e", "lineage"} <= set(s) for s in data["sources"])
    genset = data["sources"][1]["lineage"]["parameters"][0]
    assert genset["source"] == "sources.csv, row 3"


def test_cli_table_and_methodology(tmp_path):
    path = tmp_path / "power.csv"
    path.write_text("source,kind,carrier,quantity,unit\nunit 1,combustion,bituminous_coal,1000,t\n",
                    "utf-8")
    res = CliRunner().invoke(app, ["calc", "carbon", "--input", str(path),
                                   "--methodology", "mee_power"])
    assert res.exit_code == 0, res.output
    # 19 570 GJ × 33.56 × 0.99 × 44/12 ÷ 1000 = 2384.0722 (high default carbon content)
    assert "2,384.0722" in res.stdout and "mee_power" in res.stdout


def test_cli_bad_rows_exit_non_zero(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("source,kind,carrier,quantity,unit\na,combustion,diesel,-1,t\n"
                    "b,heat,,1,parsec\n", "utf-8")
    res = CliRunner().invoke(app, ["calc", "carbon", "--input", str(path), "--json"])
    assert res.exit_code != 0
    assert "row 2" in res.output and "row 3" in res.output and "quantity" in res.output
    res = CliRunner().invoke(app, ["calc", "carbon", "--input", str(path), "--gwp", "AR9"])
    assert res.exit_code != 0 and "gwp" in res.output
