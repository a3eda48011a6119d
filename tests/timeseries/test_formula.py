import numpy as np
import pytest

from nengtan.timeseries.formula import FormulaError, parse


def test_evaluates_elementwise_on_meter_codes():
    f = parse("{E-101} + {E-102} - 0.5 * ({E-103} / 2)")
    assert f.codes == ("E-101", "E-102", "E-103")
    out = f.evaluate({"E-101": np.array([1.0, 2.0]), "E-102": np.array([3.0, 4.0]),
                      "E-103": np.array([4.0, 8.0])})
    assert out.tolist() == [3.0, 4.0]


def test_division_by_zero_and_missing_values_give_no_value():
    f = parse("{A} / {B}")
    out = f.evaluate({"A": np.array([1.0, np.nan]), "B": np.array([0.0, 1.0])})
    assert np.isnan(out).all()


@pytest.mark.parametrize("text", ["", "1 + 2", "{A} + __import__('os')", "{A} ** 2",
                                  "{A}.real", "{A} + x", "{A", "max({A})", "{A} + 'x'"])
def test_anything_but_arithmetic_is_refused(text):
    with pytest.raises(FormulaError):
        parse(text)
