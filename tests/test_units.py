import pytest
from hypothesis import given
from hypothesis import strategies as st

from nengtan import units


@pytest.mark.parametrize("text,code", [("度", "kWh"), ("kW·h", "kWh"), ("万m3", "10^4 m3"),
                                       ("吨标准煤", "tce"), ("大卡", "kcal"), ("Nm³", "Nm3"),
                                       ("万元", "10^4 CNY"), (" MWh ", "MWh")])
def test_chinese_and_common_spellings(text, code):
    assert units.canonical(text) == code


def test_known_conversions():
    assert units.convert(1, "MWh", "kWh") == 1000
    assert units.convert(1, "kWh", "MJ") == pytest.approx(3.6)
    assert units.convert(2.5, "10^4 m3", "m3") == 25_000
    assert units.convert(1, "tce", "kgce") == 1000
    assert units.ratio_factor("kJ/kg", "MJ", "t") == pytest.approx(1.0)
    assert units.ratio_factor("kcal/kg", "MJ", "t") * 5000 == pytest.approx(20_934.0)


def test_dimensions_never_mix():
    with pytest.raises(units.UnitError):
        units.factor("kWh", "t")
    with pytest.raises(units.UnitError):
        units.factor("m3", "Nm3")  # normal volume needs temperature and pressure
    with pytest.raises(units.UnitError):
        units.factor("kgce", "MJ")  # standard coal is not a physical unit here
    with pytest.raises(units.UnitError):
        units.get_unit("furlong")


codes = st.sampled_from([u.code for u in units.all_units()])


@given(codes, codes, st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
def test_round_trip(a, b, x):
    try:
        y = units.convert(x, a, b)
    except units.UnitError:
        return
    assert units.convert(y, b, a) == pytest.approx(x, rel=1e-12, abs=1e-9)
