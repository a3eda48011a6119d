"""Energy analysis of a node over a period: structure by carrier, cost with time-of-use
tariffs, load profiles and the base-load waste at idle times.

* **Structure** (能源消费结构): the node's comprehensive energy consumption
  (:func:`nengtan.services.energy_data.node_energy`, GB/T 2589-2020) split per carrier, tce
  and share of the total, with the physical quantity; and the same split for each direct
  child node, each from its own boundary.
* **Cost** (能源成本): every meter on the node's boundary that brings energy in (role ``in``)
  and has a tariff (``Meter.tariff_id``) is priced from its interval values: energy per price
  band (:mod:`nengtan.energy.cost`), demand charge from the monthly maximum 15-minute demand,
  capacity charge from a contracted capacity; per meter, per month and for the node.
* **Load profile** (负荷曲线): hourly electricity of a meter or of the node's boundary, average
  day profiles per day type, base load, peak, load factor, night and idle shares and the
  energy used at idle times above a reference base load (:mod:`nengtan.energy.load_profile`).

Rules stated in every answer's lineage:

* exports (role ``out``) are credited at zero unless an export tariff is named (node attribute
  ``export_tariff`` or the ``export_tariff`` argument): the export meter's own tariff is an
  import tariff and is not used for a credit;
* electricity generated inside the boundary (role ``generated``, e.g. rooftop PV) has no
  purchase cost;
* a meter with no tariff is listed as "no price", never costed at zero;
* the basic charge is by demand unless the node attribute (or argument) ``basic_charge`` is
  ``capacity`` and a contracted capacity (``contracted_kva``) is known;
* demand is per metering point (each meter's own monthly maximum); a node's demand charge is
  the sum over its meters;
* monthly charges over part of a month are prorated by days.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, select

from nengtan import i18n, units
from nengtan.energy import cost as cost_engine
from nengtan.energy import load_profile as lp_engine
from nengtan.energy import tou
from nengtan.errors import InputError, Issue, NotFound
from nengtan.quality.normalize import Intervals
from nengtan.services import energy_data, meter_specs, query
from nengtan.services.energy_data import FlowMeter, Period
from nengtan.store.models import Carrier, Meter, Node, Tariff, TariffBand, TariffPeriod
from nengtan.store.types import from_us
from nengtan.timeseries.calendar import HOUR_US, US, day_bounds, next_month, utc_day
from nengtan.timeseries.rollup import bucketize

ELECTRIC = ("electricity", "renewable_electricity", "recovered_electricity")
BASIC_CHARGE = ("demand", "capacity")
#: Longest period the cost and load-profile analyses read interval values for.
MAX_DAYS = 1100
METHOD = {
    "structure": "GB/T 2589-2020 comprehensive energy consumption split by carrier; "
                 "nengtan energy analysis 1",
    "cost": cost_engine.METHOD_VERSION,
    "load_profile": lp_engine.METHOD_VERSION,
}


# -- references ----------------------------------------------------------------------------
def node_id(conn: Connection, ref: str | int) -> int:
    """The id of the node with code ``ref``, else with id ``ref``; NotFound otherwise."""
    text = str(ref).strip()
    found = conn.execute(select(Node.id).where(Node.code == text)).scalar()
    if found is None and text.isdigit():
        found = conn.execute(select(Node.id).where(Node.id == int(text))).scalar()
    if found is None:
        raise NotFound("node", ref)
    return int(found)


def meter_id(conn: Connection, ref: str | int) -> int:
    """The id of the meter with code ``ref``, else with id ``ref``; NotFound otherwise."""
    text = str(ref).strip()
    found = conn.execute(select(Meter.id).where(Meter.code == text)).scalar()
    if found is None and text.isdigit():
        found = conn.execute(select(Meter.id).where(Meter.id == int(text))).scalar()
    if found is None:
        raise NotFound("meter", ref)
    return int(found)


def _message(key: str, **params) -> dict:
    """A stable code and its text in both languages."""
    texts = i18n.both(f"ea.{key}", **params)
    return {"code": key, "message": texts["en"], "message_zh": texts["zh-CN"]}


def _node_info(conn: Connection, nid: int) -> dict:
    row = conn.execute(select(Node.id, Node.code, Node.name_zh, Node.name_en, Node.kind,
                              Node.attributes).where(Node.id == nid)).first()
    if row is None:
        raise NotFound("node", nid)
    return {"node": row.code, "node_id": row.id, "name_zh": row.name_zh,
            "name_en": row.name_en, "kind": row.kind, "attributes": dict(row.attributes or {})}


def _check_length(period: Period) -> None:
    if period.days > MAX_DAYS:
        raise InputError([Issue("rule.ea_period_length", field="period", value=period.label,
                                params={"max_days": MAX_DAYS})])


# -- structure -----------------------------------------------------------------------------
def _carrier_names(conn: Connection) -> dict[str, tuple[str, str]]:
    return {r.code: (r.name_zh, r.name_en)
            for r in conn.execute(select(Carrier.code, Carrier.name_zh, Carrier.name_en))}


def _split(ne: energy_data.NodeEnergy, names: dict) -> dict:
    """Net quantity and tce per carrier (in + generated − out), shares of the total."""
    total = ne.totals.total_tce
    total_ev = ne.totals.total_tce_equal_value
    carriers: dict[str, dict] = {}
    feedstock: dict[str, dict] = {}
    for flow, row in zip(ne.flows, ne.totals.rows):
        q = row.input.quantity
        if row.sign == 0:
            f = feedstock.setdefault(row.input.carrier, {
                "carrier": row.input.carrier, "quantity": 0.0, "unit": row.input.unit,
                "tce": 0.0, "meters": []})
            f["quantity"] += q
            f["tce"] += row.tce
            f["meters"] += [m["meter"] for m in flow.meters]
            continue
        c = carriers.setdefault(row.input.carrier, {
            "carrier": row.input.carrier, "name_zh": names.get(row.input.carrier, ("",))[0],
            "name_en": names.get(row.input.carrier, ("", ""))[1], "category": row.category,
            "quantity": 0.0, "unit": row.input.unit, "tce": 0.0, "tce_equal_value": 0.0,
            "flows": []})
        c["quantity"] += row.sign * q
        c["tce"] += row.sign * row.tce
        c["tce_equal_value"] += row.sign * row.tce_equal_value
        c["flows"].append({"role": flow.role, "use": row.input.use, "quantity": q,
                           "unit": row.input.unit, "tce": row.sign * row.tce,
                           "coefficient_kgce_per_unit": row.kgce_per_input_unit,
                           "coefficient": row.coefficient.lineage(),
                           "meters": [m["meter"] for m in flow.meters]})
    for c in carriers.values():
        c["share_pct"] = 100.0 * c["tce"] / total if total else None
        c["share_equal_value_pct"] = 100.0 * c["tce_equal_value"] / total_ev if total_ev else None
    ordered = sorted(carriers.values(), key=lambda c: -c["tce"])
    return {"total_tce": total, "total_tce_equal_value": total_ev, "unit": "tce",
            "carriers": ordered, "feedstock": list(feedstock.values()),
            "coverage": round(ne.coverage, 6), "complete": ne.coverage >= 0.999}


def structure(conn: Connection, nid: int, period: Period, children: bool = True) -> dict:
    """能源消费结构 of a node: tce and share per carrier, and the split of each direct child.

    Shares are of the node's comprehensive energy consumption (GB/T 2589-2020 4.1/4.2:
    equivalent value, exports deducted, feedstock excluded); the equal-value shares use the
    total with grid electricity at equal value.  A child's figures come from its own
    boundary, so the children need not add up to the node: the remainder
    (``unallocated_tce``) is energy of the node outside every child's boundary (distribution
    and conversion losses, use metered at the node itself) less energy that children supply
    to each other.
    """
    info = _node_info(conn, nid)
    info.pop("attributes")
    ne = energy_data.node_energy(conn, nid, period)
    names = _carrier_names(conn)
    out = {**info, "period": period.as_dict(), **_split(ne, names)}
    lineage = ne.as_dict()["lineage"]
    lineage.update({
        "analysis": METHOD["structure"],
        "share": "carrier tce (in + generated − out) ÷ node total tce × 100",
        "quantity": "net physical quantity in the carrier's unit: in + generated − out",
    })
    if children:
        kids = conn.execute(select(Node.id, Node.code, Node.name_zh, Node.name_en, Node.kind)
                            .where(Node.parent_id == nid)
                            .order_by(Node.sort_order, Node.code)).all()
        libraries = dict(ne.libraries)
        rows = []
        for k in kids:
            kne = energy_data.node_energy(conn, k.id, period, libraries=libraries)
            libraries.update(kne.libraries)
            split = _split(kne, names)
            rows.append({"node": k.code, "node_id": k.id, "name_zh": k.name_zh,
                         "name_en": k.name_en, "kind": k.kind, **split})
        kids_total = sum(r["total_tce"] for r in rows)
        for r in rows:
            r["share_of_children_pct"] = 100.0 * r["total_tce"] / kids_total if kids_total else None
            r["share_of_node_pct"] = (100.0 * r["total_tce"] / ne.totals.total_tce
                                      if ne.totals.total_tce else None)
        out["children"] = rows
        out["children_total_tce"] = kids_total if rows else None
        out["unallocated_tce"] = ne.totals.total_tce - kids_total if rows else None
        lineage["children"] = ("each direct child's own boundary (node_energy of the child); "
                               "unallocated = node total − Σ children")
    out["lineage"] = lineage
    return out


# -- tariffs -------------------------------------------------------------------------------
def load_terms(conn: Connection, tariff_ids) -> dict[int, cost_engine.Terms]:
    """Tariffs as :class:`nengtan.energy.cost.Terms`, by id."""
    ids = sorted({int(t) for t in tariff_ids if t is not None})
    if not ids:
        return {}
    prices: dict[int, dict[str, float]] = {i: {} for i in ids}
    for r in conn.execute(select(TariffBand.tariff_id, TariffBand.band, TariffBand.price)
                          .where(TariffBand.tariff_id.in_(ids))):
        prices[r.tariff_id][r.band] = float(r.price)
    periods: dict[int, list[tou.Period]] = {i: [] for i in ids}
    for r in conn.execute(select(TariffPeriod).where(TariffPeriod.tariff_id.in_(ids))
                          .order_by(TariffPeriod.id)):
        periods[r.tariff_id].append(tou.Period(tou.parse_months(r.months),
                                               tou.parse_hhmm(r.start), tou.parse_hhmm(r.end),
                                               r.band))
    out = {}
    for t in conn.execute(select(Tariff.id, Tariff.code, Tariff.carrier_code, Tariff.unit,
                                 Tariff.demand_charge, Tariff.capacity_charge, Tariff.currency,
                                 Tariff.source, Tariff.valid_from, Tariff.valid_to,
                                 Tariff.name_zh, Tariff.name_en).where(Tariff.id.in_(ids))):
        out[t.id] = cost_engine.Terms(
            code=t.code, carrier=t.carrier_code, unit=t.unit, prices=prices[t.id],
            periods=tuple(periods[t.id]), demand_charge=t.demand_charge,
            capacity_charge=t.capacity_charge, currency=t.currency, source=t.source,
            valid_from=t.valid_from, valid_to=t.valid_to, name_zh=t.name_zh, name_en=t.name_en)
    return out


def _tariff_by_code(conn: Connection, code: str, field: str) -> int:
    tid = conn.execute(select(Tariff.id).where(Tariff.code == code)).scalar()
    if tid is None:
        raise InputError([Issue("rule.ref_unknown", field=field, value=code,
                                params={"ref": "tariff"})])
    return int(tid)


def in_unit(terms: cost_engine.Terms, unit: str) -> cost_engine.Terms:
    """The tariff with prices per ``unit`` (the carrier's unit, in which meters are summed)."""
    if unit == terms.unit:
        return terms
    f = units.factor(unit, terms.unit)  # tariff units in one ``unit``
    return replace(terms, unit=unit, prices={b: p * f for b, p in terms.prices.items()})


def _valley_price(terms: cost_engine.Terms | None) -> float | None:
    """The valley price (CNY per carrier unit); the lowest price if there is no valley band."""
    if terms is None or not terms.prices:
        return None
    return terms.prices.get("valley", min(terms.prices.values()))


# -- local calendar and slot values --------------------------------------------------------
@dataclass(frozen=True)
class _Calendar:
    tz: ZoneInfo
    days: list[date]
    bounds: np.ndarray  # UTC µs of local midnights, len(days) + 1
    months: list[date]  # first day of each local month touched
    month_of_day: np.ndarray  # index into months, per day
    calendar_month: np.ndarray  # 1-12, per day

    @property
    def t0(self) -> int:
        return int(self.bounds[0])

    @property
    def t1(self) -> int:
        return int(self.bounds[-1])

    def days_in(self, k: int) -> int:
        return int((self.month_of_day == k).sum())

    @staticmethod
    def month_length(m: date) -> int:
        nxt = next_month(m)
        return (nxt - m).days

    def slots(self, step_us: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """(n, day index, calendar month, minute of day) of the slots of ``step_us``."""
        n = (self.t1 - self.t0) // step_us
        day, month, minute = cost_engine.local_slots(self.bounds, self.calendar_month,
                                                     self.t0, step_us, n)
        return n, day, month, minute


def _calendar(tz: ZoneInfo, period: Period) -> _Calendar:
    days, bounds = day_bounds(period.start, period.end - timedelta(days=1), tz)
    months = sorted({d.replace(day=1) for d in days})
    index = {m: i for i, m in enumerate(months)}
    return _Calendar(tz, days, bounds, months,
                     np.array([index[d.replace(day=1)] for d in days]),
                     np.array([d.month for d in days]))


def _intervals(conn: Connection, info: meter_specs.MeterInfo, t0: int, t1: int) -> Intervals:
    return query.interval_values(conn, info, query.Window(t0, t1))


def _local_iso(us: int, tz: ZoneInfo) -> str:
    return from_us(us).astimezone(tz).isoformat()


# -- cost ----------------------------------------------------------------------------------
@dataclass
class _MeterCost:
    meter: FlowMeter
    status: str
    terms: cost_engine.Terms | None = None  # in the carrier's unit
    native: cost_engine.Terms | None = None  # as recorded
    bills: list[cost_engine.Bill | None] | None = None  # one per calendar month
    coverage: float = 0.0
    month_coverage: list[float] | None = None
    gap_quantity: float = 0.0
    notes: list[dict] | None = None
    reason: dict | None = None

    @property
    def sign(self) -> int:
        return -1 if self.meter.role == "out" else 1


def _price_meter(conn: Connection, mc: _MeterCost, info: meter_specs.MeterInfo,
                 cal: _Calendar, demand: bool) -> None:
    """Bills per month of one meter from its interval values."""
    terms = mc.terms
    iv = _intervals(conn, info, cal.t0, cal.t1)
    regular = iv.select(~iv.gap)
    gaps = iv.select(iv.gap)
    months_touched = sorted({m.month for m in cal.months})
    slot_min = terms.slot_minutes(months_touched)
    step = slot_min * 60 * US
    n, day, month, minute = cal.slots(step)
    b = bucketize(regular, cal.t0, step, n)
    spread = cost_engine.spread_evenly(gaps.start, gaps.end, gaps.value, cal.t0, step, n)
    values = np.nan_to_num(b.value) + spread
    bands = cost_engine.classify(terms, month, minute)
    slot_month = cal.month_of_day[day]
    notes = mc.notes if mc.notes is not None else []
    interval_s = info.spec.interval_s
    if interval_s > slot_min * 60 and terms.single_band is None:
        notes.append(_message("note.coarse_bands", interval_s=interval_s, slot=slot_min))
    mc.coverage = float(b.coverage_us.sum() / ((cal.t1 - cal.t0) or 1))
    mc.gap_quantity = float(spread.sum())
    if mc.gap_quantity:
        notes.append(_message("note.gap", quantity=round(mc.gap_quantity, 3), unit=terms.unit))
    d_val = d_start = d_ok = d_month = None
    if demand:
        if interval_s >= 86400:
            notes.append(_message("note.no_demand", interval_s=interval_s))
            demand = False
        else:
            if interval_s > cost_engine.DEMAND_INTERVAL_S:
                notes.append(_message("note.coarse_demand", interval_s=interval_s))
            dstep = cost_engine.DEMAND_INTERVAL_S * US
            dn, dday, _, _ = cal.slots(dstep)
            b15 = bucketize(regular, cal.t0, dstep, dn)
            # demand is in kW, so interval energy must be in kWh whatever the carrier unit
            d_val = b15.value * units.factor(mc.meter.unit, "kWh")
            d_ok = b15.coverage_us >= dstep
            d_start = cal.t0 + np.arange(dn, dtype=np.int64) * dstep
            d_month = cal.month_of_day[dday]
    bills: list[cost_engine.Bill | None] = []
    mc.month_coverage = []
    for k, m in enumerate(cal.months):
        sel = slot_month == k
        mc.month_coverage.append(float(b.coverage_us[sel].sum() / (int(sel.sum()) * step or 1)))
        totals = cost_engine.band_totals(bands[sel], values[sel])
        dem = None
        if demand:
            dsel = d_month == k
            dem = cost_engine.max_demand(d_val[dsel], d_start[dsel], d_ok[dsel])
        fraction = cal.days_in(k) / cal.month_length(m)
        bills.append(cost_engine.bill(terms, totals, dem, fraction))
    mc.bills = bills
    mc.notes = notes


def _demand_dict(d: cost_engine.Demand | None, tz: ZoneInfo) -> dict | None:
    if d is None:
        return None
    return {"kw": d.kw, "start": _local_iso(d.start_us, tz), "end": _local_iso(d.end_us, tz),
            "interval_s": d.interval_s, "complete_intervals": d.intervals,
            "p99_kw": d.p99_kw}


def _meter_answer(mc: _MeterCost, cal: _Calendar, basis: str) -> dict:
    m = mc.meter
    out = {"meter": m.code, "meter_id": m.id, "name_zh": m.name_zh, "name_en": m.name_en,
           "node_id": m.node_id, "carrier": m.carrier, "role": m.role, "status": mc.status,
           "tariff": mc.native.code if mc.native else None, "unit": m.unit,
           "reason": mc.reason, "notes": mc.notes or []}
    if not mc.bills:
        return out
    bills = mc.bills
    bands = cost_engine.add_bands(*(b.bands for b in bills))
    band_cny = cost_engine.add_bands(*(b.band_cny for b in bills))
    figures = cost_engine.bill_figures(m.unit, bands, band_cny, mc.terms.prices)
    demands = [b.demand for b in bills if b.demand is not None]
    peak = max(demands, key=lambda d: d.kw) if demands else None
    charges = [b.demand_charge_cny for b in bills if b.demand_charge_cny is not None]
    demand_charge = float(sum(charges)) if charges else None
    sign = mc.sign
    energy = sign * figures["energy_cny"]
    billed_demand = demand_charge if (basis == "demand" and mc.status == "priced") else None
    months = []
    for k, (mo, b) in enumerate(zip(cal.months, bills)):
        f = b.as_dict()
        e = sign * f["energy_cny"]
        dc = b.demand_charge_cny if (basis == "demand" and mc.status == "priced") else None
        months.append({
            "month": f"{mo:%Y-%m}", "month_fraction": b.month_fraction,
            "quantity": f["quantity"], "unit": m.unit, "energy_cny": e,
            "peak_sharp_share_pct": f["peak_sharp_share_pct"],
            "average_price_cny_per_unit": f["average_price_cny_per_unit"],
            "bands": f["bands"], "demand": _demand_dict(b.demand, cal.tz),
            "demand_charge_cny": b.demand_charge_cny, "total_cny": e + (dc or 0.0),
            "coverage": round(mc.month_coverage[k], 6)})
    out.update({
        "quantity": figures["quantity"], "energy_cny": energy,
        "average_price_cny_per_unit": figures["average_price_cny_per_unit"],
        "peak_sharp_share_pct": figures["peak_sharp_share_pct"], "bands": figures["bands"],
        "demand": _demand_dict(peak, cal.tz), "demand_kw": peak.kw if peak else None,
        "demand_charge_cny": demand_charge,
        "demand_charge_billed": billed_demand is not None,
        "total_cny": energy + (billed_demand or 0.0),
        "coverage": round(mc.coverage, 6), "gap_quantity": mc.gap_quantity,
        "months": months,
    })
    return out


def cost(conn: Connection, nid: int, period: Period, contracted_kva: float | None = None,
         basic_charge: str | None = None, export_tariff: str | None = None) -> dict:
    """能源成本 of a node over a period, CNY, per meter, per month and in total.

    Energy charge per band from interval values bucketed into local slots of the tariff
    (60 min when bands switch on the hour, 30/15 min for half/quarter hours), demand charge
    from each meter's monthly maximum 15-minute demand, capacity charge from the contracted
    capacity (argument, else node attribute ``contracted_kva``).  See the module docstring
    for the rules on exports, generation, missing tariffs and the basic-charge basis.
    """
    _check_length(period)
    node = _node_info(conn, nid)
    attrs = node.pop("attributes")
    issues: list[Issue] = []
    basis = basic_charge if basic_charge is not None else attrs.get("basic_charge", "demand")
    if basis not in BASIC_CHARGE:
        issues.append(Issue("rule.choice", field="basic_charge", value=basis,
                            params={"choices": ", ".join(BASIC_CHARGE)}))
    kva = contracted_kva if contracted_kva is not None else attrs.get("contracted_kva")
    kva_source = ("parameter" if contracted_kva is not None
                  else "node attribute contracted_kva" if kva is not None else None)
    if kva is not None:
        try:
            kva = float(kva)
            if not kva > 0:
                raise ValueError
        except (TypeError, ValueError):
            issues.append(Issue("rule.exclusive_minimum", field="contracted_kva", value=kva,
                                params={"min": 0}))
    export_code = export_tariff if export_tariff is not None else attrs.get("export_tariff")
    export_id = None
    if export_code:
        try:
            export_id = _tariff_by_code(conn, export_code, "export_tariff")
        except InputError as exc:
            issues += exc.issues
    if issues:
        raise InputError(issues)

    b = energy_data.boundary(conn, nid)
    tz = ZoneInfo(meter_specs.effective_timezones(conn, [nid])[nid])
    cal = _calendar(tz, period)
    meters = [m for m in b.by_role("in", "out", "generated")]
    tariff_of = dict(conn.execute(select(Meter.id, Meter.tariff_id)
                                  .where(Meter.id.in_([m.id for m in meters]))).all())
    terms = load_terms(conn, list(tariff_of.values()) + [export_id])
    infos = meter_specs.load(conn, [m.id for m in meters])

    costs: list[_MeterCost] = []
    for m in meters:
        electric = m.category in ELECTRIC
        if m.role == "generated":
            costs.append(_MeterCost(m, "self_generated",
                                    reason=_message("reason.self_generated")))
            continue
        if m.role == "out":
            if export_id is None:
                costs.append(_MeterCost(m, "export_zero", reason=_message("reason.export_zero")))
                continue
            t = terms[export_id]
            status, reason = "export_credited", _message("reason.export_credited", tariff=t.code)
        else:
            tid = tariff_of.get(m.id)
            if tid is None:
                costs.append(_MeterCost(m, "no_price",
                                        reason=_message("reason.no_tariff", meter=m.code)))
                continue
            t, status, reason = terms[tid], "priced", None
        if t.carrier != m.carrier:
            costs.append(_MeterCost(m, "no_price", native=t, reason=_message(
                "reason.tariff_carrier", tariff=t.code, tariff_carrier=t.carrier,
                carrier=m.carrier)))
            continue
        try:
            converted = in_unit(t, m.unit)
        except units.UnitError:
            costs.append(_MeterCost(m, "no_price", native=t, reason=_message(
                "reason.tariff_unit", tariff=t.code, unit=t.unit, carrier_unit=m.unit)))
            continue
        mc = _MeterCost(m, status, converted, t, reason=reason, notes=[])
        if not t.covers(period.start, period.end):
            mc.notes.append(_message("note.tariff_validity", tariff=t.code,
                                     valid_from=t.valid_from, valid_to=t.valid_to or "…"))
        _price_meter(conn, mc, infos[m.id], cal, demand=electric and m.role == "in")
        costs.append(mc)

    return _cost_answer(node, period, cal, costs, basis, kva, kva_source)


def _capacity(costs: list[_MeterCost], kva: float | None, kva_source: str | None,
              cal: _Calendar) -> dict:
    rates = [(mc.meter.code, mc.native) for mc in costs
             if mc.status == "priced" and mc.meter.category in ELECTRIC
             and mc.native.capacity_charge is not None]
    out = {"contracted_kva": kva, "source": kva_source, "rate": None,
           "rate_unit": "CNY/(kVA·month)", "tariff": None, "charge_cny": None, "months": [],
           "computed": False, "reason": None}
    if kva is None:
        out["reason"] = _message("capacity.no_kva")
        return out
    if not rates:
        out["reason"] = _message("capacity.no_rate")
        return out
    tariff = rates[0][1]
    out.update({"rate": tariff.capacity_charge, "tariff": tariff.code, "computed": True})
    if len({t.capacity_charge for _, t in rates}) > 1:
        out["reason"] = _message("capacity.several_rates", tariff=tariff.code)
    total = 0.0
    for k, m in enumerate(cal.months):
        fraction = cal.days_in(k) / cal.month_length(m)
        c = cost_engine.capacity_charge(tariff.capacity_charge, kva, fraction)
        out["months"].append({"month": f"{m:%Y-%m}", "month_fraction": fraction,
                              "charge_cny": c})
        total += c
    out["charge_cny"] = total
    return out


def _cost_answer(node: dict, period: Period, cal: _Calendar, costs: list[_MeterCost],
                 basis: str, kva: float | None, kva_source: str | None) -> dict:
    capacity = _capacity(costs, kva, kva_source, cal)
    basis_note = None
    if basis == "capacity" and not capacity["computed"]:
        basis, basis_note = "demand", _message("basis.fallback")
    answers = [_meter_answer(mc, cal, basis) for mc in costs]
    priced = [(mc, a) for mc, a in zip(costs, answers) if mc.bills]
    purchased = [(mc, a) for mc, a in priced if mc.status == "priced"]
    credited = [(mc, a) for mc, a in priced if mc.status == "export_credited"]

    elec = [(mc, a) for mc, a in purchased if mc.meter.category in ELECTRIC]
    e_bands = cost_engine.add_bands(*(cost_engine.add_bands(*(b.bands for b in mc.bills))
                                      for mc, _ in elec))
    e_cny = cost_engine.add_bands(*(cost_engine.add_bands(*(b.band_cny for b in mc.bills))
                                    for mc, _ in elec))
    e_fig = cost_engine.bill_figures("kWh", e_bands, e_cny, {})
    for row in e_fig["bands"]:
        row.pop("price")
        row["average_price_cny_per_kwh"] = row["cny"] / row["quantity"] if row["quantity"] else None
    demand_charge = sum(a["demand_charge_cny"] or 0.0 for _, a in elec)
    basic = (demand_charge if basis == "demand" else capacity["charge_cny"]) or 0.0
    energy_cny = sum(a["energy_cny"] for _, a in purchased)
    credit_cny = -sum(a["energy_cny"] for _, a in credited)
    total = energy_cny - credit_cny + basic
    kwh = e_fig["quantity"]

    months = []
    for k, m in enumerate(cal.months):
        me = sum(mc.bills[k].energy_cny for mc, _ in purchased)
        mcred = sum(mc.bills[k].energy_cny for mc, _ in credited)
        mdem = sum(mc.bills[k].demand_charge_cny or 0.0 for mc, _ in elec)
        mcap = capacity["months"][k]["charge_cny"] if capacity["computed"] else None
        mbasic = (mdem if basis == "demand" else mcap) or 0.0
        mb = cost_engine.add_bands(*(mc.bills[k].bands for mc, _ in elec))
        share = cost_engine.peak_share(mb)
        months.append({
            "month": f"{m:%Y-%m}", "month_fraction": cal.days_in(k) / cal.month_length(m),
            "electricity_kwh": float(sum(mb.values())),
            "peak_sharp_share_pct": None if share is None else 100 * share,
            "energy_cny": me, "export_credit_cny": mcred, "demand_charge_cny": mdem,
            "capacity_charge_cny": mcap, "basic_charge_cny": mbasic,
            "total_cny": me - mcred + mbasic})

    carriers: dict[str, dict] = {}
    for mc, a in zip(costs, answers):
        if mc.status not in ("priced", "no_price"):
            continue
        c = carriers.setdefault(mc.meter.carrier, {
            "carrier": mc.meter.carrier, "unit": mc.meter.unit, "priced_quantity": 0.0,
            "energy_cny": 0.0, "priced_meters": [], "no_price_meters": []})
        if mc.status == "priced":
            c["priced_quantity"] += a["quantity"]
            c["energy_cny"] += a["energy_cny"]
            c["priced_meters"].append(mc.meter.code)
        else:
            c["no_price_meters"].append(mc.meter.code)
    for c in carriers.values():
        c["status"] = ("no_price" if not c["priced_meters"] else
                       "partly_priced" if c["no_price_meters"] else "priced")
        c["average_price_cny_per_unit"] = (c["energy_cny"] / c["priced_quantity"]
                                           if c["priced_quantity"] else None)
    no_price = [{"carrier": mc.meter.carrier, "meter": mc.meter.code, "unit": mc.meter.unit,
                 "reason": mc.reason} for mc in costs if mc.status == "no_price"]
    tariffs = {mc.native.code: mc.native for mc in costs if mc.native is not None}
    peak = e_fig["peak_sharp_share_pct"]
    return {
        **node, "period": period.as_dict(), "timezone": cal.tz.key, "currency": "CNY",
        "totals": {
            "energy_cny": energy_cny, "export_credit_cny": credit_cny,
            "demand_charge_cny": demand_charge if elec else None,
            "capacity_charge_cny": capacity["charge_cny"],
            "basic_charge_basis": basis, "basic_charge_cny": basic, "basis_note": basis_note,
            "total_cny": total,
        },
        "electricity": {
            "quantity_kwh": kwh, "energy_cny": e_fig["energy_cny"],
            "bands": e_fig["bands"], "peak_sharp_share_pct": peak,
            "average_price_cny_per_kwh": e_fig["energy_cny"] / kwh if kwh else None,
            "all_in_price_cny_per_kwh": (e_fig["energy_cny"] + basic) / kwh if kwh else None,
            "demand_kw": sum(a["demand_kw"] or 0.0 for _, a in elec) if elec else None,
            "demand_charge_cny": demand_charge if elec else None,
            "meters": [mc.meter.code for mc, _ in elec],
        },
        "capacity": capacity,
        "carriers": list(carriers.values()),
        "no_price": no_price,
        "months": months,
        "meters": answers,
        "lineage": {
            "method": METHOD["cost"],
            "tariffs": [t.lineage() for t in tariffs.values()],
            "meters": [{"meter": mc.meter.code, "role": mc.meter.role, "status": mc.status,
                        "tariff": mc.native.code if mc.native else None} for mc in costs],
            "rules": [
                ("energy charge = Σ band quantity × band price; quantities from interval "
                 "values bucketed into local slots of the tariff (60/30/15 min), classified "
                 "by the tariff periods (local month, time of day)"),
                "data gaps known only as a total are spread evenly over the gap time",
                ("demand = max over complete 15-minute intervals of kWh × 4 (kW), per meter "
                 "and month; demand charge = kW × CNY/(kW·month)"),
                "capacity charge = contracted kVA × CNY/(kVA·month); needs contracted_kva",
                f"basic charge in the total: by {basis}",
                "monthly charges over part of a month × days in period ÷ days in month",
                ("exports (role out) credited at zero unless an export tariff is named "
                 "(node attribute or parameter export_tariff)"),
                "generated inside the boundary (role generated): no purchase cost",
                "meters without a tariff: listed as no price, not costed at zero",
            ],
        },
    }


# -- load profiles -------------------------------------------------------------------------
def _profile_meters(conn: Connection, nid: int | None, mid: int | None
                    ) -> tuple[dict, list[tuple[int, int, str]], ZoneInfo, int | None]:
    """(target, [(meter id, sign, code)], timezone, tariff id for the valley price)."""
    if (nid is None) == (mid is None):
        raise InputError([Issue("rule.ea_target", field="node")])
    if mid is not None:
        info = query.meter_info(conn, mid)
        row = conn.execute(select(Meter.code, Meter.name_zh, Meter.name_en, Meter.tariff_id,
                                  Carrier.category)
                           .join(Carrier, Carrier.code == Meter.carrier_code)
                           .where(Meter.id == mid)).first()
        if row.category not in ELECTRIC:
            raise InputError([Issue("rule.ea_not_electric", field="meter", value=row.code,
                                    params={"carrier": info.carrier_code})])
        target = {"meter": row.code, "meter_id": mid, "name_zh": row.name_zh,
                  "name_en": row.name_en}
        return target, [(mid, 1, row.code)], info.tz, row.tariff_id
    node = _node_info(conn, nid)
    node.pop("attributes")
    b = energy_data.boundary(conn, nid)
    sign = {"in": 1, "generated": 1, "out": -1}
    chosen = [m for m in b.by_role("in", "generated", "out") if m.category in ELECTRIC]
    tz = ZoneInfo(meter_specs.effective_timezones(conn, [nid])[nid])
    tariffs = dict(conn.execute(select(Meter.id, Meter.tariff_id)
                                .where(Meter.id.in_([m.id for m in chosen]))).all())
    tariff = next((tariffs[m.id] for m in chosen if m.role == "in" and tariffs.get(m.id)), None)
    return node, [(m.id, sign[m.role], m.code) for m in chosen], tz, tariff


def _hourly(conn: Connection, meters: list[tuple[int, int, str]], cal: _Calendar) -> np.ndarray:
    """(days, 24) kWh of the signed sum of ``meters`` per local hour; NaN unless every meter
    measured the whole hour (rollup_hour)."""
    ndays = len(cal.days)
    out = np.full((ndays, 24), np.nan)
    if not meters:
        return out
    ids, hours, value, cov = query.hourly_matrix(conn, [m[0] for m in meters],
                                                 utc_day(cal.t0), utc_day(cal.t1 - 1))
    keep = (hours >= cal.t0) & (hours < cal.t1)
    signs = {m[0]: m[1] for m in meters}
    total = np.zeros(int(keep.sum()))
    for row, mid in enumerate(ids):
        v = np.where(cov[row, keep] >= 3600, value[row, keep], np.nan)
        total = total + signs[int(mid)] * v
    n, day, _, minute = cal.slots(HOUR_US)
    hour = minute // 60
    out[day[:n], hour[:n]] = total[:n]
    return out


def _lp_params(night: tuple[int, int], percentile: float, reference_kw: float | None) -> None:
    issues = []
    a, b = night
    if not (0 <= a <= 23 and 0 <= b <= 24 and a != b):
        issues.append(Issue("rule.ea_night", field="night", value=f"{a}-{b}"))
    if not 0 <= percentile <= 100:
        issues.append(Issue("rule.maximum" if percentile > 100 else "rule.minimum",
                            field="percentile", value=percentile,
                            params={"max": 100, "min": 0}))
    if reference_kw is not None and reference_kw < 0:
        issues.append(Issue("rule.minimum", field="reference_kw", value=reference_kw,
                            params={"min": 0}))
    if issues:
        raise InputError(issues)


def _analyse(conn: Connection, period: Period, nid: int | None, mid: int | None,
             night: tuple[int, int], percentile: float, reference_kw: float | None):
    _check_length(period)
    _lp_params(night, percentile, reference_kw)
    target, meters, tz, tariff_id = _profile_meters(conn, nid, mid)
    cal = _calendar(tz, period)
    kwh = _hourly(conn, meters, cal)
    terms = load_terms(conn, [tariff_id]).get(tariff_id) if tariff_id else None
    if terms is not None:
        try:
            terms = in_unit(terms, "kWh")
        except units.UnitError:
            terms = None
    valley = _valley_price(terms)
    result = lp_engine.analyse(kwh, cal.days, night, percentile, reference_kw, valley)
    return target, meters, cal, terms, result


def load_profile(conn: Connection, period: Period, nid: int | None = None,
                 mid: int | None = None, night: tuple[int, int] = lp_engine.NIGHT_HOURS,
                 percentile: float = lp_engine.BASE_PERCENTILE,
                 reference_kw: float | None = None, hourly: bool = False) -> dict:
    """负荷曲线 of a meter or of a node's boundary electricity over a period.

    A node's load is the electricity crossing its boundary: meters ``in`` + ``generated``
    (renewable generated inside and used there) − ``out`` (exports); waste-heat power generated
    and used inside is internal and not part of it.  An hour counts only when every meter
    measured all of it.  See :mod:`nengtan.energy.load_profile` for the definitions.
    """
    target, meters, cal, terms, r = _analyse(conn, period, nid, mid, night, percentile,
                                             reference_kw)
    out = {**target, "period": period.as_dict(), "timezone": cal.tz.key, "unit": "kW",
           "energy_unit": "kWh", **r.as_dict()}
    out["holidays"] = [d.isoformat() for d, t in zip(cal.days, r.types) if t == "holiday"]
    if hourly:
        out["hourly_kw"] = [{"date": d.isoformat(), "type": str(t),
                             "kw": [None if not np.isfinite(v) else float(v) for v in row]}
                            for d, t, row in zip(cal.days, r.types, r.kw)]
    if not meters:
        out["note"] = _message("note.no_electric_meters")
    out["lineage"] = {
        "method": METHOD["load_profile"],
        "meters": [{"meter": code, "sign": sign} for _, sign, code in meters],
        "values": "rollup_hour (interval values summed per UTC hour, = local hour in "
                  "whole-hour zones); an hour counts only when complete for every meter",
        "day_types": "holidays.China: statutory holidays and days off in exchange = holiday; "
                     "Mon-Fri and weekend days worked in exchange (调休) = working; "
                     "other Sat/Sun = weekend",
        "night_hours": f"{night[0]:02d}:00-{night[1]:02d}:00 local",
        "idle_hours": "night hours of every day + every hour of a public holiday",
        "base_load": f"P{percentile:g} of hourly mean power over idle hours "
                     "(linear interpolation, Hyndman & Fan type 7)",
        "load_factor": "average kW (Σ kWh ÷ measured hours) ÷ peak hourly kW",
        "waste": "Σ over idle hours of max(P − reference, 0) × 1 h; CNY at the valley price",
        "reference_kw": "given" if reference_kw is not None else "the base load",
        "tariff": terms.lineage() if terms else None,
        "valley_price": ("valley band price" if terms and "valley" in terms.prices
                         else "lowest band price" if terms else "no tariff: CNY not computed"),
    }
    return out


def base_load_waste(conn: Connection, period: Period, nid: int | None = None,
                    mid: int | None = None, reference_kw: float | None = None,
                    night: tuple[int, int] = lp_engine.NIGHT_HOURS,
                    percentile: float = lp_engine.BASE_PERCENTILE) -> dict:
    """The base-load waste estimate as plain numbers (for recommendations).

    ``waste_kwh`` = Σ over idle hours (night hours of every day, all hours of public holidays)
    of max(P − reference_kw, 0) × 1 h; ``waste_cny`` = waste_kwh × valley price (None without
    a tariff).  ``reference_kw`` defaults to the base load (P5 of idle-hour power).
    ``annual_waste_kwh``/``annual_waste_cny`` scale the period's figure to 365 days.
    """
    _, _, cal, terms, r = _analyse(conn, period, nid, mid, night, percentile, reference_kw)
    w = r.waste
    scale = 365.0 / len(cal.days) if cal.days else 0.0
    return {
        "days": len(cal.days), "energy_kwh": r.energy_kwh, "base_load_kw": r.base_load_kw,
        "reference_kw": w.reference_kw if w else None,
        "idle_hours": w.idle_hours if w else 0, "idle_kwh": r.idle_kwh,
        "idle_share_pct": None if r.idle_share is None else 100 * r.idle_share,
        "idle_to_active_ratio": r.idle_to_active_ratio,
        "continuous_operation": r.continuous_operation,
        "waste_kwh": w.waste_kwh if w else None,
        "valley_price_cny_per_kwh": _valley_price(terms),
        "waste_cny": w.waste_cny if w else None,
        "annual_waste_kwh": w.waste_kwh * scale if w else None,
        "annual_waste_cny": (w.waste_cny * scale if w and w.waste_cny is not None else None),
        "tariff": terms.code if terms else None,
        "coverage": r.measured_hours / r.hours if r.hours else 0.0,
    }


__all__ = ["base_load_waste", "cost", "load_profile", "load_terms", "meter_id", "node_id",
           "structure"]
