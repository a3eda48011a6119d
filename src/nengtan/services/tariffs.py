"""Time-of-use tariffs: price bands, daily periods by month, demand and capacity charges."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan import units
from nengtan.energy import tou
from nengtan.errors import InputError, Issue, NotFound
from nengtan.services.fields import FieldSpec, coerce_record
from nengtan.store.models import BANDS, Carrier, Meter, Tariff, TariffBand, TariffPeriod

TARIFF_FIELDS = [
    FieldSpec("code", "str", "编码", "code", required=True, max_length=64),
    FieldSpec("name_zh", "str", "名称", "name (Chinese)", required=True, max_length=200),
    FieldSpec("name_en", "str", "英文名称", "name (English)", max_length=200),
    FieldSpec("carrier", "str", "能源品种", "carrier code", default="electricity", ref="carrier"),
    FieldSpec("unit", "unit", "计价单位", "priced unit", default="kWh"),
    FieldSpec("currency", "choice", "币种", "currency", default="CNY", choices=("CNY",)),
    FieldSpec("demand_charge", "float", "需量电价", "demand charge", minimum=0,
              unit="CNY/(kW·month)"),
    FieldSpec("capacity_charge", "float", "容量电价", "capacity charge", minimum=0,
              unit="CNY/(kVA·month)"),
    FieldSpec("valid_from", "date", "生效日期", "valid from", required=True),
    FieldSpec("valid_to", "date", "失效日期", "valid to"),
    FieldSpec("region", "str", "地区", "region", max_length=40),
    FieldSpec("source", "str", "依据文件", "source document"),
]
BAND_FIELDS = [
    FieldSpec("band", "choice", "时段", "band", required=True, choices=BANDS),
    FieldSpec("price", "float", "电价", "price", required=True, minimum=0, unit="CNY per unit"),
]
PERIOD_FIELDS = [
    FieldSpec("months", "str", "适用月份", "months", default="",
              help_en="comma-separated 1-12; empty means every month"),
    FieldSpec("start", "str", "开始时刻", "start", required=True, help_en="HH:MM"),
    FieldSpec("end", "str", "结束时刻", "end", required=True, help_en="HH:MM, 24:00 allowed"),
    FieldSpec("band", "choice", "时段", "band", required=True, choices=BANDS),
    FieldSpec("note", "str", "备注", "note"),
]


def _validate(session: Session, data: dict, bands: list[dict], periods: list[dict],
              tariff: Tariff | None) -> list[tou.Period]:
    issues: list[Issue] = []
    if tariff is None or data.get("code", tariff.code) != tariff.code:
        if session.scalar(select(Tariff.id).where(Tariff.code == data.get("code"))):
            issues.append(Issue("rule.duplicate", field="code", value=data.get("code")))
    carrier = session.get(Carrier, data.get("carrier") or (tariff.carrier_code if tariff else None))
    if carrier is None:
        issues.append(Issue("rule.ref_unknown", field="carrier", value=data.get("carrier"),
                            params={"ref": "carrier"}))
    elif data.get("unit"):
        try:
            units.factor(data["unit"], carrier.unit)
        except units.UnitError:
            issues.append(Issue("rule.unit_mismatch", field="unit", value=data["unit"],
                                params={"expected": carrier.unit}))
    if data.get("valid_to") and data.get("valid_from") and data["valid_to"] < data["valid_from"]:
        issues.append(Issue("rule.date_order", field="valid_to", value=data["valid_to"]))
    priced = {b["band"] for b in bands}
    parsed: list[tou.Period] = []
    for i, p in enumerate(periods):
        try:
            start, end = tou.parse_hhmm(p["start"]), tou.parse_hhmm(p["end"])
        except (ValueError, TypeError):
            issues.append(Issue("rule.time_of_day", row=i, field="periods.start", value=p["start"]))
            continue
        try:
            months = tou.parse_months(p.get("months"))
        except (ValueError, TypeError):
            issues.append(Issue("rule.months", row=i, field="periods.months", value=p.get("months")))
            continue
        if p["band"] not in priced:
            issues.append(Issue("rule.band_unknown", row=i, field="periods.band", value=p["band"]))
        parsed.append(tou.Period(months, start, end, p["band"]))
    if parsed and not issues:
        for month, problem in tou.check(parsed):
            issues.append(Issue(f"rule.tariff_{'cover' if problem == 'hole' else 'overlap'}",
                                field="periods", value=None, params={"month": month}))
    if issues:
        raise InputError(issues)
    return parsed


def save(session: Session, payload: dict, tariff_id: int | None = None) -> Tariff:
    """Create (``tariff_id`` None) or replace a tariff with its bands and periods."""
    payload = dict(payload)
    raw_bands = payload.pop("bands", None) or []
    raw_periods = payload.pop("periods", None) or []
    data = coerce_record(TARIFF_FIELDS, payload)
    errors: list[Issue] = []
    bands, periods = [], []
    for i, b in enumerate(raw_bands):
        try:
            bands.append(coerce_record(BAND_FIELDS, b, row=i))
        except InputError as exc:
            errors += exc.issues
    for i, p in enumerate(raw_periods):
        try:
            periods.append(coerce_record(PERIOD_FIELDS, p, row=i))
        except InputError as exc:
            errors += exc.issues
    if errors:
        raise InputError(errors)
    tariff = None
    if tariff_id is not None:
        tariff = session.get(Tariff, tariff_id)
        if tariff is None:
            raise NotFound("tariff", tariff_id)
    _validate(session, data, bands, periods, tariff)
    values = {k: v for k, v in data.items() if k != "carrier"}
    values["carrier_code"] = data["carrier"]
    if tariff is None:
        tariff = Tariff(**values)
        session.add(tariff)
    else:
        for k, v in values.items():
            setattr(tariff, k, v)
        # Remove the old rows first: a flush inserts before it deletes, and (tariff, band) is
        # unique, so replacing a band by itself would otherwise violate the constraint.
        tariff.bands.clear()
        tariff.periods.clear()
        session.flush()
    tariff.bands = [TariffBand(**b) for b in bands]
    tariff.periods = [TariffPeriod(**p) for p in periods]
    session.flush()
    return tariff


def get(session: Session, tariff_id: int) -> Tariff:
    tariff = session.get(Tariff, tariff_id)
    if tariff is None:
        raise NotFound("tariff", tariff_id)
    return tariff


def delete(session: Session, tariff_id: int) -> None:
    """Delete a tariff no meter uses (the foreign key would silently unset the meters')."""
    tariff = get(session, tariff_id)
    users = list(session.scalars(select(Meter.code).where(Meter.tariff_id == tariff.id)))
    if users:
        raise InputError([Issue("rule.has_records", field="id", value=tariff.code,
                                params={"table": "meters (" + ", ".join(users[:10]) + ")"})])
    session.delete(tariff)
    session.flush()


def schedule(tariff: Tariff) -> tou.Schedule:
    return tou.Schedule([tou.Period(tou.parse_months(p.months), tou.parse_hhmm(p.start),
                                    tou.parse_hhmm(p.end), p.band) for p in tariff.periods])


def as_dict(tariff: Tariff) -> dict:
    return {
        "id": tariff.id, "code": tariff.code, "name_zh": tariff.name_zh,
        "name_en": tariff.name_en, "carrier": tariff.carrier_code, "unit": tariff.unit,
        "currency": tariff.currency, "demand_charge": tariff.demand_charge,
        "capacity_charge": tariff.capacity_charge, "valid_from": tariff.valid_from,
        "valid_to": tariff.valid_to, "region": tariff.region, "source": tariff.source,
        "bands": [{"band": b.band, "price": b.price} for b in tariff.bands],
        "periods": [{"months": p.months, "start": p.start, "end": p.end, "band": p.band,
                     "note": p.note} for p in tariff.periods],
    }
