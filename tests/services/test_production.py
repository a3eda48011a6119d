"""Products, production, economic data and fuel deliveries."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nengtan.errors import InputError
from nengtan.services import production, tariffs
from nengtan.store.models import EconomicRecord, ProductionRecord


def test_production_upserts_by_key_and_checks_units(plant):
    with Session(plant.engine) as s, s.begin():
        production.upsert_product(s, {"code": "CLK", "name_zh": "熟料", "unit": "t"})
        rec = {"node": "S1", "product": "CLK", "period_start": "2025-01-01",
               "period_end": "2025-01-01", "quantity": 4850}
        production.upsert_production(s, rec)
        production.upsert_production(s, {**rec, "quantity": 4900})
        assert s.scalar(select(func.count()).select_from(ProductionRecord)) == 1
        assert s.scalar(select(ProductionRecord.quantity)) == 4900
        with pytest.raises(InputError) as err:
            production.upsert_production(s, {**rec, "unit": "kWh"}, row=3)
        assert err.value.issues[0].as_dict()["rule"] == "unit_mismatch"
        with pytest.raises(InputError) as err:
            production.upsert_production(s, {**rec, "period_end": "2024-12-31"})
        assert err.value.issues[0].rule == "rule.period"


def test_economic_data_in_ten_thousand_yuan_is_stored_in_yuan(plant):
    with Session(plant.engine) as s, s.begin():
        production.upsert_economic(s, {"node": "E1", "period_start": "2025-01-01",
                                       "period_end": "2025-01-31", "output_value": 1234.5,
                                       "added_value": 300, "unit": "万元"})
        rec = s.scalar(select(EconomicRecord))
        assert (rec.output_value, rec.added_value) == (12_345_000.0, 3_000_000.0)


def test_fuel_delivery_ncv_per_unit(plant):
    with Session(plant.engine) as s, s.begin():
        d = production.add_fuel_delivery(s, {
            "node": "S1", "carrier": "bituminous_coal", "delivered_on": "2025-01-03",
            "quantity": 2500, "unit": "t", "ncv": 5200, "ncv_unit": "kcal/kg",
            "carbon_content_pct": 58.2, "method": "GB/T 213-2008"})
        assert d.ncv_mj_per_unit == pytest.approx(5200 * 4.1868)  # MJ per tonne
        with pytest.raises(InputError) as err:
            production.add_fuel_delivery(s, {"node": "S1", "carrier": "natural_gas",
                                             "delivered_on": "2025-01-03", "quantity": 1,
                                             "unit": "t", "ncv": 35, "ncv_unit": "MJ/m3"})
        assert {i.field for i in err.value.issues} == {"unit", "ncv_unit"}


def test_tariff_periods_must_cover_every_hour(plant):
    base = {"code": "SD-TOU", "name_zh": "山东分时电价", "valid_from": "2025-01-01",
            "bands": [{"band": "peak", "price": 1.0}, {"band": "flat", "price": 0.7},
                      {"band": "valley", "price": 0.3}]}
    ok = [{"start": "00:00", "end": "08:00", "band": "valley"},
          {"start": "08:00", "end": "17:00", "band": "flat"},
          {"start": "17:00", "end": "22:00", "band": "peak"},
          {"start": "22:00", "end": "24:00", "band": "flat"}]
    with Session(plant.engine) as s, s.begin():
        t = tariffs.save(s, {**base, "periods": ok})
        assert tariffs.schedule(t).band_at(1, 18 * 60) == "peak"
        with pytest.raises(InputError) as err:
            tariffs.save(s, {**base, "code": "X", "periods": ok[:3]})
        assert err.value.issues[0].rule == "rule.tariff_cover"
        with pytest.raises(InputError) as err:
            tariffs.save(s, {**base, "code": "Y", "periods": ok + [
                {"start": "12:00", "end": "13:00", "band": "sharp"}]})
        assert {i.rule for i in err.value.issues} == {"rule.band_unknown"}
