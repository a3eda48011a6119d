"""The batch calculator's CSV format and the `nengtan calc energy` command."""

import json

import pytest
from typer.testing import CliRunner

from nengtan.cli import app
from nengtan.energy import batch
from nengtan.errors import InputError
from nengtan.reference.energy import shipped_library

GOOD = """carrier,quantity,unit,use,ncv_mj_per_unit,label
raw_coal,1200,t,,,原煤
bituminous_coal,5000,t,,22400,烟煤（化验）
electricity,2500,MWh,,,外购电
electricity,150000,kWh,export,,余电上网
natural_gas,10,10^4 m3,feedstock,,原料气
"""
# by hand: 1200 × 714.3 / 1000 = 857.16; 5000 × 22 400 / 29.3076 / 1000 = 3821.5343;
# 2 500 000 × 0.1229 / 1000 = 307.25; export 150 000 × 0.1229 / 1000 = 18.435;
# feedstock 100 000 × 1.2143 / 1000 = 121.43 (excluded)
TOTAL = 857.16 + 5000 * 22_400 / 29.3076 / 1000 + 307.25 - 18.435


def test_parse_and_calculate():
    r = batch.calculate(GOOD, shipped_library(2022))
    assert r.total_tce == pytest.approx(TOTAL)
    assert r.feedstock_tce == pytest.approx(121.43)
    assert [x.input.row for x in r.rows] == [2, 3, 4, 5, 6]
    # equal value (2022, 0.3007): electricity (2 500 000 − 150 000) × 0.3007 / 1000
    assert r.total_tce_equal_value == pytest.approx(
        857.16 + 5000 * 22_400 / 29.3076 / 1000 + 2_350_000 * 0.3007 / 1000)


def test_file_problems_all_reported():
    text = "carrier,quantity,unit,colour\n"
    with pytest.raises(InputError) as err:
        batch.parse_csv(text)
    assert {(i.row, i.field, i.rule) for i in err.value.issues} == {
        (1, "colour", "rule.header_unknown")}
    with pytest.raises(InputError) as err:
        batch.calculate("carrier,quantity,unit\ncoal,,t\nraw_coal,x,t\nnope,1,t\n",
                        shipped_library())
    assert [(i.row, i.field) for i in err.value.issues] == [
        (2, "quantity"), (3, "quantity"), (4, "carrier")]
    with pytest.raises(InputError) as err:
        batch.parse_csv("carrier,quantity,unit\n")
    assert err.value.issues[0].rule == "rule.energy_no_rows"


def test_cli_json(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(GOOD, "utf-8")
    res = CliRunner().invoke(app, ["calc", "energy", "--input", str(path), "--json",
                                   "--year", "2022"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["total_tce"] == pytest.approx(TOTAL)
    assert data["feedstock_tce"] == pytest.approx(121.43)
    assert {"total_tce_equal_value", "rows"} <= set(data)
    row = data["rows"][1]
    assert row["row"] == 3 and row["coefficient"]["method"] == "measured_ncv"
    assert row["coefficient_kgce_per_unit"] == pytest.approx(22_400 / 29.3076)
    assert data["rows"][0]["source"].startswith("GB/T 2589")


def test_cli_bad_row_exits_non_zero(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("carrier,quantity,unit\nelectricity,5,kWh\nelectricity,-5,kWh\n", "utf-8")
    res = CliRunner().invoke(app, ["calc", "energy", "--input", str(path), "--json"])
    assert res.exit_code != 0
    assert "row 3" in res.output and "quantity" in res.output
