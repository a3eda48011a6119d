"""Selection rules of the factor library (pure), worked by hand on small value sets."""

from __future__ import annotations

from datetime import date

import pytest

from nengtan.carbon.factors import (
    Library,
    LibraryValue,
    grid_basis_for,
    normalize_gas,
    normalize_region,
    shipped_library,
    valid_in_year,
)
from nengtan.carbon.model import FactorLookup, FactorValue
from nengtan.reference.carbon import shipped_datasets, shipped_values


def fv(value, *, parameter="grid_factor", subject="electricity", region=None, year=None,
       valid_from=None, valid_to=None, id=None, gwp_set=None, **kw):
    return LibraryValue(id=id or f"{subject}-{region}-{year}-{value}", dataset="t", version=1,
                        parameter=parameter, subject=subject, value=value, unit="tCO2/MWh",
                        document="doc", status="unverified", year=year, region=region,
                        valid_from=valid_from, valid_to=valid_to, gwp_set=gwp_set, **kw)


GRID = [
    fv(0.60, region="national", year=2020),
    fv(0.57, region="national", year=2022),
    fv(0.53, region="national", year=2023),
    fv(0.70, region="shandong", year=2021),
    fv(0.64, region="shandong", year=2022),
    fv(0.75, region="hebei", year=2024),
]


def test_exact_region_latest_year_not_after_the_inventory_year():
    # shandong has 2021 and 2022; for 2025 the latest ≤ 2025 is 2022 → 0.64
    lib = Library(GRID, 2025, "shandong")
    v = lib.get("grid_factor", "electricity")
    assert (v.value, v.year, v.rule, v.tier) == (0.64, 2022, "region_latest_year", "shipped")
    # for 2021 the latest ≤ 2021 is 2021 → 0.70 (2022 is after the inventory year)
    assert Library(GRID, 2021, "shandong").get("grid_factor", "electricity").value == 0.70


def test_region_earliest_year_when_all_its_years_are_later():
    # hebei only has 2024; an inventory of 2022 takes hebei's earliest (2024), not national
    v = Library(GRID, 2022, "hebei").get("grid_factor", "electricity")
    assert (v.value, v.rule) == (0.75, "region_earliest_year")


def test_national_when_the_region_has_no_value():
    # jiangsu has nothing: national latest ≤ 2022 → 2022 (0.57)
    v = Library(GRID, 2022, "jiangsu").get("grid_factor", "electricity")
    assert (v.value, v.region, v.rule) == (0.57, "national", "national_latest_year")
    # national earliest when every national year is later: 2019 → 2020 (0.60)
    v = Library(GRID, 2019, "jiangsu").get("grid_factor", "electricity")
    assert (v.value, v.rule) == (0.60, "national_earliest_year")
    # no region at all: national
    assert Library(GRID, 2024, None).get("grid_factor", "electricity").value == 0.53


def test_lineage_says_why():
    lin = Library(GRID, 2025, "山东省").get("grid_factor", "electricity").lineage()
    assert lin["rule"] == "region_latest_year" and lin["tier"] == "shipped"
    assert "shandong" in lin["why"] and "2025" in lin["why"] and "2025" in lin["why_zh"]
    assert {"factor_id", "value", "unit", "document", "status", "year", "region"} <= set(lin)


def test_validity_dates_are_respected():
    values = [
        fv(0.61, region="national", year=2019, valid_from=date(2019, 1, 1),
           valid_to=date(2021, 1, 1)),
        fv(0.58, region="national", year=2021, valid_from=date(2021, 1, 1),
           valid_to=date(2022, 1, 1)),
    ]
    # 2020: the 2021 value is not valid yet, the 2019 one is → 0.61
    assert Library(values, 2020).get("grid_factor", "electricity").value == 0.61
    # 2021: the 2019 value expired on 2021-01-01 (exclusive) → 0.58
    assert Library(values, 2021).get("grid_factor", "electricity").value == 0.58
    # 2023: both expired → nothing, even though "latest year" would pick 2021
    assert Library(values, 2023).get("grid_factor", "electricity") is None
    v = values[0]
    assert valid_in_year(v, 2019) and valid_in_year(v, 2020) and not valid_in_year(v, 2021)
    assert valid_in_year(v, None)


def test_undated_values_rank_after_dated_ones_not_later_than_the_year():
    values = [fv(19.57, parameter="ncv", subject="coal", region="national"),
              fv(20.1, parameter="ncv", subject="coal", region="national", year=2023),
              fv(21.0, parameter="ncv", subject="coal", region="national", year=2026)]
    assert Library(values, 2024).get("ncv", "coal").value == 20.1
    # 2022: nothing dated ≤ 2022, the undated default beats the later 2023/2026 values
    v = Library(values, 2022).get("ncv", "coal")
    assert (v.value, v.rule) == (19.57, "region_undated")


def test_user_values_before_shipped_and_tenant_before_installation():
    shipped = [fv(0.64, region="shandong", year=2022)]
    installation = [fv(0.66, region="national", year=2020, id="inst")]
    tenant = [fv(0.50, region="national", year=2024, id="own")]
    # the installation's national value beats the shipped exact-region one: tier first
    v = Library(shipped, 2025, "shandong", installation=installation) \
        .get("grid_factor", "electricity")
    assert (v.id, v.tier, v.rule) == ("inst", "installation", "national_latest_year")
    v = Library(shipped, 2025, "shandong", installation=installation, tenant=tenant) \
        .get("grid_factor", "electricity")
    assert (v.id, v.tier) == ("own", "tenant")
    # a user value not valid for the year does not count: the next tier answers
    expired = [fv(0.40, region="national", year=2015, valid_to=date(2016, 1, 1), id="old")]
    v = Library(shipped, 2025, "shandong", tenant=expired).get("grid_factor", "electricity")
    assert (v.value, v.tier) == (0.64, "shipped")
    assert "user value" in Library(shipped, 2025, installation=installation) \
        .get("grid_factor", "electricity").why


def test_a_user_value_of_another_region_is_not_used():
    shipped = [fv(0.57, region="national", year=2022)]
    v = Library(shipped, 2025, "jiangsu", installation=[fv(0.9, region="hebei", year=2024)]) \
        .get("grid_factor", "electricity")
    assert (v.value, v.tier) == (0.57, "shipped")


def test_ties_go_to_the_value_given_last():
    a = fv(0.50, region="national", year=2022, id="a")
    b = fv(0.51, region="national", year=2022, id="b")
    assert Library([a, b], 2024).get("grid_factor", "electricity").id == "b"
    assert Library([b, a], 2024).get("grid_factor", "electricity").id == "a"


def test_no_year_takes_the_latest_and_says_so():
    v = Library(GRID, None, "shandong").get("grid_factor", "electricity")
    assert (v.value, v.rule) == (0.64, "region_no_year")


def test_grid_basis_ets_general_lca():
    values = GRID + [
        fv(0.5703, subject="electricity_ets", region="national", year=2022,
           valid_from=date(2022, 1, 1), valid_to=date(2026, 1, 1)),
        fv(0.5777, subject="electricity_lca", region="national", year=2024),
    ]
    general = Library(values, 2024, "shandong")
    assert general.get("grid_factor", "electricity").value == 0.64
    ets = Library(values, 2024, "shandong", grid_basis="ets").get("grid_factor", "electricity")
    assert (ets.value, ets.subject) == (0.5703, "electricity_ets")
    # the ETS value is not valid in 2027: the general factor, and the lineage says so
    v = Library(values, 2027, "shandong", grid_basis="ets").get("grid_factor", "electricity")
    assert (v.value, v.subject) == (0.64, "electricity") and "electricity_ets" in v.why
    lca = Library(values, 2024, grid_basis="lca").get("grid_factor", "electricity")
    assert lca.value == 0.5777
    # asking for a subject directly bypasses the basis
    assert general.get("grid_factor", "electricity_ets").value == 0.5703
    with pytest.raises(ValueError):
        Library(values, 2024, grid_basis="market")


def test_grid_basis_default_by_industry():
    # cement 3011, thermal power 4411, steel 3120, aluminium 3216 → ETS reporting value
    assert [grid_basis_for(c) for c in ("3011", "4411", "3120", "3216")] == ["ets"] * 4
    # textiles 1713, electronics 3971, unknown → general
    assert [grid_basis_for(c) for c in ("1713", "3971", None)] == ["general"] * 3


def test_gwp_sets_from_the_shipped_table():
    # gwp.csv: CH4 21/25/28/27.9, N2O 310/298/265/273, SF6 23900/22800/23500/25200
    expected = {"SAR": (21, 310, 23900), "AR4": (25, 298, 22800), "AR5": (28, 265, 23500),
                "AR6": (27.9, 273, 25200)}
    for gwp_set, (ch4, n2o, sf6) in expected.items():
        lib = shipped_library(2024, gwp_set=gwp_set)
        assert (lib.gwp("CH4").value, lib.gwp("N2O").value, lib.gwp("SF6").value) \
            == (ch4, n2o, sf6)
        assert lib.gwp("CO2").value == 1.0
        lin = lib.gwp("CH4").lineage()
        assert lin["gwp_set"] == gwp_set and lin["rule"] == "gwp_set" and lin["unit"] == "tCO2e/t"
    # NF3 has no SAR value; gas names match loosely
    assert shipped_library(gwp_set="SAR").gwp("NF3") is None
    assert shipped_library(gwp_set="AR5").gwp("hfc134a").value == 1300
    assert normalize_gas("HFC-134a") == normalize_gas("hfc 134a") == "HFC134A"
    with pytest.raises(ValueError):
        shipped_library(gwp_set="AR7")


def test_user_gwp_beats_shipped_and_a_value_without_set_fits_every_set():
    mine = fv(30.0, parameter="gwp", subject="CH4", id="mine")
    lib = Library(shipped_values(), gwp_set="AR6", installation=[mine])
    assert (lib.gwp("CH4").id, lib.gwp("CH4").tier) == ("mine", "installation")
    ar4 = fv(26.0, parameter="gwp", subject="CH4", gwp_set="AR4", id="ar4")
    assert Library(shipped_values(), gwp_set="AR6", installation=[ar4]).gwp("CH4").value == 27.9


def test_shipped_values_carry_provenance():
    values = shipped_values()
    assert all(v.document and v.status in ("verified", "unverified") for v in values)
    assert len({v.id for v in values}) == len(values)
    codes = [d.code for d in shipped_datasets()]
    assert codes == ["fuel_defaults", "grid_factors", "ets_grid_factors", "process_factors",
                     "gwp", "combustion_non_co2"]
    lib = shipped_library(2024, "shandong")
    lookup: FactorLookup = lib  # the protocol the engine asks
    assert callable(lookup.get) and callable(lookup.gwp)
    # fuel_defaults.csv: bituminous coal 19.570 GJ/t, 26.18 tC/TJ, 0.93
    assert [lib.get(p, "bituminous_coal").value for p in
            ("ncv", "carbon_content", "oxidation_rate")] == [19.570, 26.18, 0.93]
    assert lib.get("ncv", "natural_gas").unit == "GJ/10^4 Nm3"
    assert lib.get("ncv", "bituminous_coal").status == "unverified"
    # grid_factors.csv: shandong 2022 0.6410; national 2023 general 0.5306 for jiangsu 2025
    assert lib.get("grid_factor", "electricity").value == 0.6410
    assert shipped_library(2025, "jiangsu").get("grid_factor", "electricity").value == 0.5306
    # the life-cycle row is not a general factor: 2024 national general is still 2023's
    assert shipped_library(2024).get("grid_factor", "electricity").value == 0.5306
    assert shipped_library(2024, grid_basis="lca").get("grid_factor", "electricity").value \
        == 0.5777
    # ETS: 0.5703 for 2024 (notice on 2023-2025 reporting), 0.5810 for 2021, 0.6101 for 2020
    for year, value in ((2024, 0.5703), (2021, 0.5810), (2020, 0.6101)):
        assert shipped_library(year, "shandong", grid_basis="ets") \
            .get("grid_factor", "electricity").value == value
    # process_factors.csv: CaCO3 0.4397, clinker CaO 0.7848; purchased heat 0.11 tCO2/GJ
    assert lib.get("process_factor", "calcium_carbonate").value == 0.4397
    assert lib.get("process_factor", "clinker_cao").value == 0.7848
    heat = lib.get("heat_factor", "heat")
    assert (heat.value, heat.unit) == (0.11, "tCO2/GJ")
    # combustion_non_co2.csv: natural gas CH4 1 kg/TJ = 0.001 t/TJ
    ch4 = lib.get("emission_factor", "natural_gas:CH4")
    assert (ch4.value, ch4.unit) == (0.001, "t/TJ")
    assert lib.get("ncv", "unobtainium") is None


def test_plain_factor_values_are_accepted():
    plain = FactorValue(id="p1", dataset="d", version=1, parameter="ncv", subject="coal",
                        value=20.0, unit="GJ/t", document="lab", status="measured")
    v = Library([plain], 2024).get("ncv", "coal")
    assert isinstance(v, FactorValue) and v.value == 20.0 and v.rule == "any_region"


def test_region_names_are_normalised():
    assert normalize_region("山东") == normalize_region("山东省") == "shandong"
    assert normalize_region("Shandong") == "shandong"
    assert normalize_region(None) == normalize_region("全国") == normalize_region("") \
        == "national"
    assert normalize_region("内蒙古自治区") == "inner_mongolia"


def test_candidates_explain_exclusions():
    values = [fv(0.61, region="national", year=2019, valid_to=date(2021, 1, 1), id="old"),
              fv(0.57, region="national", year=2022, id="new")]
    cands = {c["id"]: c for c in Library(values, 2023).candidates("grid_factor", "electricity")}
    assert cands["old"]["eligible"] is False and cands["old"]["excluded_by"] == "validity"
    assert cands["new"]["eligible"] is True
    sel = Library(values, 2023).select("grid_factor", "electricity").as_dict()
    assert sel["rule"] == "region_latest_year" and sel["considered"]["shipped"] == 1
