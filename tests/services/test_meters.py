"""Meters: validation, register events, virtual meters, recomputation after a change."""

import numpy as np
import pytest
from sqlalchemy.orm import Session

from nengtan.errors import InputError
from nengtan.services import meters

from .conftest import quarter_hours


def day_sum(plant, code):
    return plant.scalar("SELECT sum(value) FROM rollup_day WHERE meter_id = :m", m=plant.ids[code])


@pytest.mark.parametrize("payload,field,rule", [
    ({"unit": "m3"}, "unit", "unit_mismatch"),
    ({"node": "NOPE"}, "node", "ref_unknown"),
    ({"carrier": "unobtainium"}, "carrier", "ref_unknown"),
    ({"level": 4}, "level", "maximum"),
    ({"multiplier": 0}, "multiplier", "exclusive_minimum"),
    ({"kind": "virtual", "formula": "{MAIN} + {NOPE}"}, "formula", "ref_unknown"),
    ({"kind": "virtual", "formula": "{MAIN} ** 2"}, "formula", "formula"),
    ({"formula": "{MAIN}"}, "formula", "formula_not_virtual"),
    ({"code": "MAIN"}, "code", "duplicate"),
])
def test_invalid_meters(plant, payload, field, rule):
    base = {"code": "NEW", "name_zh": "新表", "node": "S1", "carrier": "electricity", "unit": "kWh"}
    with Session(plant.engine) as s, s.begin():
        with pytest.raises(InputError) as err:
            meters.create(s, {**base, **payload})
    assert {(i.field, i.rule.removeprefix("rule.")) for i in err.value.issues} >= {(field, rule)}


def test_replacement_event_recomputes_the_interval(plant):
    plant.ingest("MAIN", quarter_hours(8), [100, 101, 102, 103, 2, 3, 4, 5])
    assert day_sum(plant, "MAIN") == 6 * 80  # the 103 → 2 interval is excluded
    assert plant.scalar("SELECT count(*) FROM quality_events WHERE rule = 'register_decrease'") == 1
    with Session(plant.engine) as s, s.begin():
        meters.add_event(s, {"meter": "MAIN", "ts": "2025-01-01T00:50:00+08:00",
                             "kind": "replacement", "old_final_value": 103.5,
                             "new_initial_value": 1.0})
    assert day_sum(plant, "MAIN") == (6 + 0.5 + 1) * 80
    rules = {r for (r,) in plant.rows("SELECT rule FROM quality_events")}
    assert "register_decrease" not in rules and "reset_applied" in rules


def test_multiplier_change_applies_after_its_time(plant):
    plant.ingest("SUB", quarter_hours(5), [0, 1000, 2000, 3000, 4000])  # Wh → 1 kWh per quarter
    with Session(plant.engine) as s, s.begin():
        meters.add_event(s, {"meter": "SUB", "ts": "2025-01-01T00:30:00+08:00", "kind": "multiplier_change",
                             "new_multiplier": 3})
    assert day_sum(plant, "SUB") == 1 + 1 + 3 + 3


def test_changing_the_multiplier_rebuilds_history(plant):
    plant.ingest("MAIN", quarter_hours(5), [0, 1, 2, 3, 4])
    with Session(plant.engine) as s, s.begin():
        meters.update(s, plant.ids["MAIN"], {"multiplier": 10})
    assert day_sum(plant, "MAIN") == 40


def test_virtual_meter_follows_its_operands(plant):
    with Session(plant.engine) as s, s.begin():
        v = meters.create(s, {"code": "LOSS", "name_zh": "线损", "node": "S1",
                              "carrier": "electricity", "unit": "kWh", "kind": "virtual",
                              "formula": "{MAIN} - {SUB}"})
        plant.ids["LOSS"] = v.id
    n = 96 + 1
    plant.ingest("MAIN", quarter_hours(n), 0.5 * np.arange(n))  # 40 kWh per quarter
    plant.ingest("SUB", quarter_hours(n), 38_000.0 * np.arange(n))  # 38 kWh per quarter
    assert day_sum(plant, "LOSS") == pytest.approx(2 * 96)
    with pytest.raises(InputError):
        plant.ingest("LOSS", quarter_hours(2), [1, 2])


def test_meters_with_readings_are_not_deleted(plant):
    plant.ingest("INT", quarter_hours(2), [1, 2])
    with Session(plant.engine) as s, s.begin():
        with pytest.raises(InputError) as err:
            meters.delete(s, plant.ids["INT"])
    assert err.value.issues[0].rule == "rule.has_readings"
