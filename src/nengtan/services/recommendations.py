"""Energy strategy recommendations (用能策略推荐) of an enterprise or of every enterprise of a park.

For each enterprise, over a year of data (default: the last 12 whole months), this gathers
what was measured — energy by tariff band and the tariff's prices, the monthly maximum and the
99th percentile of 15-minute demand, idle-time load, unit product consumption against the
linked benchmark, the grid purchase — and node facts (``attributes``: ``power_factor`` from
the utility bill, ``roof_area_m2``, ``shiftable_share``), and hands them to the pure engine
:mod:`nengtan.energy.recommend`, which quantifies each measure in CNY, tce and tCO2 per year
and shows its arithmetic.  Assumed values are listed with their source; a measure without the
data it needs is listed under ``not_assessed`` with the reason, never guessed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import Connection, select

from nengtan import units
from nengtan.carbon import screening
from nengtan.energy import recommend as engine
from nengtan.energy.gbt2589 import MJ_PER_KGCE
from nengtan.energy.recommend import Assumption
from nengtan.i18n import t
from nengtan.services import energy_analysis, energy_data
from nengtan.services.energy_data import Period
from nengtan.store.models import Meter, Node

#: Defaults for values an enterprise has not given; each says where it comes from.
SHIFTABLE = Assumption(
    "shiftable_share", 0.10, "share of peak+sharp kWh",
    "nengtan default: flexible loads (mills with spare capacity, compressed-air storage, "
    "cold/heat storage) seldom exceed 10 % of peak energy; set node attribute "
    "shiftable_share after an energy audit")
DEMAND_TARGET = Assumption(
    "demand_target_percentile", 99.0, "percentile of 15-min demand",
    "nengtan default: the top 1 % of quarter hours (~7 h a month) can be shaved by demand "
    "control without stopping production")
PF_TARGET = Assumption("target_power_factor", 0.95, "-",
                       "《功率因数调整电费办法》: 0.95 earns the largest reward")
CAPACITOR = Assumption("capacitor_cost", 120.0, "CNY/kvar",
                       "nengtan default: low-voltage automatic compensation installed, "
                       "indicative market price; confirm with a quotation")
PV_DENSITY = Assumption("pv_kwp_per_m2", 0.15, "kWp/m2",
                        "nengtan default: usable roof with row spacing, ~150 W/m2")
PV_CAPEX = Assumption("pv_capex", 3.0, "CNY/Wp",
                      "nengtan default: indicative turnkey price of commercial rooftop PV")
PV_YIELD_DEFAULT = Assumption("pv_yield", 1200.0, "kWh/kWp·a",
                              "nengtan default for north China; replaced by the park's measured "
                              "PV yield when a PV plant with attribute pv_kwp is metered")
FUEL_PRICE = Assumption("fuel_price", 1000.0, "CNY/tce",
                        "nengtan default for carriers without a tariff: thermal coal at about "
                        "800 CNY/t of 5500 kcal/kg (≈ 1020 CNY/tce); record a tariff for the "
                        "carrier to use its price", status="unverified")
GREEN_SHARE = Assumption("green_power_share", 0.30, "share of grid kWh",
                         "nengtan default: share to buy as green power (绿电交易)")
GREEN_PREMIUM = Assumption("green_power_premium", 0.03, "CNY/kWh",
                           "nengtan default: indicative green-power premium; use the contract "
                           "price", status="unverified")


def last_twelve_months(today: date) -> Period:
    """The 12 whole local months before ``today``'s month."""
    end = date(today.year, today.month, 1)
    start = date(end.year - 1, end.month, 1)
    return Period(start, end, f"{start}/{end}", "custom")


def _enterprises(conn: Connection, node_id: int) -> list:
    node = energy_data.node_row(conn, node_id)
    if node.kind == "park":
        return list(conn.execute(select(Node.id, Node.code, Node.attributes, Node.region)
                                 .where(Node.path.startswith(node.path),
                                        Node.kind == "enterprise").order_by(Node.code)))
    return list(conn.execute(select(Node.id, Node.code, Node.attributes, Node.region)
                             .where(Node.id == node_id)))


def _region(conn: Connection, node_id: int) -> str | None:
    """The node's region, else its nearest ancestor's."""
    path = conn.execute(select(Node.path).where(Node.id == node_id)).scalar()
    chain = [int(x) for x in path.strip("/").split("/") if x]
    regions = dict(conn.execute(select(Node.id, Node.region).where(Node.id.in_(chain))).all())
    return next((regions[i] for i in reversed(chain) if regions.get(i)), None)


def _demand_by_month(cost: dict, meter_ids: list[int]) -> tuple[list[float], list[float]]:
    """Per month: Σ over the meters of the maximum and of the 99th percentile of 15-minute
    demand (kW), as the cost analysis measured them."""
    maxima: dict[str, float] = defaultdict(float)
    targets: dict[str, float] = defaultdict(float)
    for m in cost.get("meters", []):
        if m.get("meter_id") not in meter_ids:
            continue
        for month in m.get("months", []):
            d = month.get("demand")
            if d and d.get("p99_kw") is not None:
                maxima[month["month"]] += d["kw"]
                targets[month["month"]] += d["p99_kw"]
    keys = sorted(maxima)
    return [maxima[k] for k in keys], [targets[k] for k in keys]


def _tco2_per_tce(ne: energy_data.NodeEnergy, region: str | None, year: int) -> tuple[float, list]:
    """tCO2 per tce of the node's own energy mix (screening factors), with the parts used."""
    co2 = tce = 0.0
    parts = []
    grid = screening.grid_per_mwh(region, year)
    for row in ne.totals.rows:
        if row.sign <= 0 or row.tce <= 0:
            continue
        if row.category in ("electricity", "renewable_electricity", "recovered_electricity"):
            kwh = row.input.quantity * units.quantity_factor(row.input.unit, "kWh")
            f = 0.0 if row.category != "electricity" else grid.value
            c = kwh / 1000.0 * f
            src = grid if row.category == "electricity" else None
        else:
            fuel = screening.fuel_per_gj(row.input.carrier)
            if fuel is None:
                continue
            c = row.tce * MJ_PER_KGCE * fuel.value  # tce × 29.3076 GJ/tce × tCO2/GJ
            src = fuel
        co2 += c
        tce += row.tce
        parts.append({"carrier": row.input.carrier, "tce": row.tce, "tco2": c,
                      "factor": src.as_dict() if src else None})
    return (co2 / tce if tce else 0.0), parts


def _measured_pv_yield(conn: Connection, period: Period, node_id: int) -> Assumption:
    """kWh/kWp over the period of metered PV plants that state their ``pv_kwp``, within the
    node's own subtree (a tenant's recommendations never quote another tenant's plants)."""
    path = conn.execute(select(Node.path).where(Node.id == node_id)).scalar_one()
    plants = conn.execute(select(Node.id, Node.code, Node.attributes)
                          .where(Node.path.startswith(path))).all()
    total_kwh = total_kwp = 0.0
    used = []
    for nid, code, attrs in plants:
        kwp = (attrs or {}).get("pv_kwp")
        if not kwp:
            continue
        b = energy_data.boundary(conn, nid)
        meters = [m for m in b.by_role("out") if m.category == "renewable_electricity"]
        values = energy_data.period_values(conn, meters, period.start, period.end)
        if meters and all(values[m.id].coverage > 0.95 for m in meters):
            total_kwh += sum(values[m.id].value for m in meters)
            total_kwp += float(kwp)
            used.append(code)
    if not total_kwp:
        return PV_YIELD_DEFAULT
    scale = 365.0 / period.days
    return Assumption("pv_yield", total_kwh / total_kwp * scale, "kWh/kWp·a",
                      f"measured: generation of {', '.join(used)} {period.label} ÷ pv_kwp",
                      status="measured")


def for_enterprise(conn: Connection, ent, period: Period, pv_yield: Assumption) -> dict:
    attrs = ent.attributes or {}
    ne = energy_data.node_energy(conn, ent.id, period)
    region = _region(conn, ent.id)
    grid = screening.grid_per_mwh(region, period.start.year)
    grid_a = Assumption("grid_factor", grid.value, grid.unit, grid.source, grid.status)
    out: list[engine.Recommendation] = []
    missing: list[dict] = []
    scale = 365.0 / period.days  # figures are per year

    cost = energy_analysis.cost(conn, ent.id, period)
    elec = cost.get("electricity") or {}
    bands = {b["band"]: b["quantity"] * scale for b in elec.get("bands", [])}
    prices = {b["band"]: b["average_price_cny_per_kwh"] for b in elec.get("bands", [])}
    all_in = elec.get("all_in_price_cny_per_kwh")
    annual_bill = (cost.get("totals") or {}).get("total_cny")

    shift = SHIFTABLE
    if attrs.get("shiftable_share") is not None:
        shift = Assumption("shiftable_share", float(attrs["shiftable_share"]),
                           SHIFTABLE.unit, "node attribute shiftable_share", "user")
    if bands:
        out.append(engine.valley_shift(ent.code, bands, prices, shift))
    else:
        missing.append(_missing("valley_shift", "no_price"))

    incoming = [m["meter_id"] for m in cost.get("meters", [])
                if m.get("carrier") == "electricity" and m.get("role") == "in"
                and m.get("status") == "priced"]
    tariff_ids = [t for t in {_meter_tariff(conn, mid) for mid in incoming} if t]
    terms = energy_analysis.load_terms(conn, tariff_ids) if tariff_ids else {}
    demand_charge = next((t.demand_charge for t in terms.values() if t.demand_charge), None)
    if incoming and demand_charge:
        maxima, targets = _demand_by_month(cost, incoming)
        if maxima:
            k = 12.0 / len(maxima)  # a year of months
            out.append(engine.demand_reduction(ent.code, [x * k for x in maxima],
                                               [x * k for x in targets], demand_charge,
                                               DEMAND_TARGET))
    else:
        missing.append(_missing("demand_reduction", "no_demand"))

    pf = attrs.get("power_factor")
    if pf is not None and annual_bill:
        out.append(engine.power_factor(ent.code, float(pf), annual_bill * scale,
                                       elec.get("quantity_kwh", 0.0) * scale, PF_TARGET,
                                       CAPACITOR))
    else:
        missing.append(_missing("power_factor", "no_power_factor"))

    tco2_per_tce, mix = _tco2_per_tce(ne, region, period.start.year)
    price = _price_per_tce(ne, cost)
    for gap in _benchmark_gaps(conn, ent, period):
        out.append(engine.benchmark_gap(
            ent.code, gap["product"], gap["actual"], gap["level"], gap["level_name"],
            gap["unit"], gap["annual_output"], price,
            Assumption("co2_intensity", tco2_per_tce, "tCO2/tce",
                       "the enterprise's own energy mix with screening factors", "computed")))

    roof = attrs.get("roof_area_m2")
    if roof and all_in:
        out.append(engine.rooftop_pv(ent.code, float(roof), PV_DENSITY, pv_yield, all_in, grid_a,
                                     PV_CAPEX))
    else:
        missing.append(_missing("rooftop_pv", "no_roof"))

    waste = energy_analysis.base_load_waste(conn, period, nid=ent.id)
    if waste.get("continuous_operation"):
        missing.append(_missing("idle_base_load", "continuous"))
    elif waste.get("annual_waste_kwh") and waste.get("valley_price_cny_per_kwh"):
        ref = Assumption("idle_reference_load", waste["reference_kw"], "kW",
                         "measured base load (5th percentile of idle-hour power)", "measured")
        out.append(engine.idle_base_load(ent.code, waste["annual_waste_kwh"],
                                         waste["valley_price_cny_per_kwh"], grid_a, ref))

    grid_kwh = sum(f.quantity for f in ne.flows if f.carrier == "electricity" and f.role == "in")
    out.append(engine.green_power(ent.code, grid_kwh * scale, GREEN_SHARE, GREEN_PREMIUM, grid_a))

    recs = sorted((r for r in out if r is not None), key=lambda r: -r.cny_per_year)
    return {
        "node": ent.code, "node_id": ent.id, "period": period.as_dict(),
        "recommendations": [r.as_dict() for r in recs],
        "not_assessed": missing,
        "totals": {"cny_per_year": sum(r.cny_per_year for r in recs if r.cny_per_year > 0),
                   "tce_per_year": sum(r.tce_per_year for r in recs
                                       if r.code != "green_power"),
                   "tco2_per_year": sum(r.tco2_per_year for r in recs)},
        "co2_intensity": {"tco2_per_tce": tco2_per_tce, "parts": mix},
    }


def _price_per_tce(ne: energy_data.NodeEnergy, cost: dict) -> Assumption:
    """CNY per tce of the enterprise's energy mix: priced carriers at what they cost in the
    period, the others at :data:`FUEL_PRICE`."""
    priced_cny = priced_tce = other_tce = 0.0
    by_carrier = {c["carrier"]: c for c in cost.get("carriers", [])}
    for row in ne.totals.rows:
        if row.sign <= 0:
            continue
        c = by_carrier.get(row.input.carrier)
        if c and c.get("status") == "priced" and row.category == "electricity":
            priced_tce += row.tce
        else:
            other_tce += row.tce
    priced_cny = sum(c.get("energy_cny") or 0.0 for c in by_carrier.values()
                     if c.get("status") == "priced")
    total = priced_tce + other_tce
    if not total:
        return FUEL_PRICE
    value = (priced_cny + other_tce * FUEL_PRICE.value) / total
    return Assumption("energy_price", value, "CNY/tce",
                      f"mix: {priced_tce:,.0f} tce priced by tariff ({priced_cny:,.0f} CNY), "
                      f"{other_tce:,.0f} tce at {FUEL_PRICE.value:,.0f} CNY/tce ({FUEL_PRICE.source})",
                      "computed")


def _missing(code: str, reason: str) -> dict:
    return {"code": code, "reason": reason, "message": t(f"rec.{reason}", "en"),
            "message_zh": t(f"rec.{reason}", "zh-CN")}


def _meter_tariff(conn: Connection, meter_id: int) -> int | None:
    return conn.execute(select(Meter.tariff_id).where(Meter.id == meter_id)).scalar()


def _benchmark_gaps(conn: Connection, ent, period: Period) -> list[dict]:
    """Products of the enterprise compared with their linked benchmark (worse than the
    benchmark level → a gap to close)."""
    from nengtan.services import benchmarking

    out = []
    for line in benchmarking.node_comparisons(conn, ent.id, period)["products"]:
        for cmp in line["comparisons"]:
            if cmp["kind"] != "indicator" or cmp["actual"] is None:
                continue
            level = next((lv for lv in cmp["levels"] if not lv["reached"]
                          and lv["key"] == "benchmark"), None)
            if level is None:
                continue
            out.append({"product": line["product"], "actual": cmp["actual"],
                        "level": level["value"], "level_name": level["name_zh"],
                        "unit": cmp["unit"],
                        "annual_output": line["actual"]["annual_output"],
                        "benchmark": cmp["benchmark"], "source": cmp["source"]})
    return out


def recommend(conn: Connection, node_id: int, period: Period | None = None,
              today: date | None = None) -> dict:
    """Recommendations for an enterprise, or for every enterprise of a park (ranked)."""
    period = period or last_twelve_months(today or date.today())
    pv_yield = _measured_pv_yield(conn, period, node_id)
    node = energy_data.node_row(conn, node_id)
    results = [for_enterprise(conn, e, period, pv_yield) for e in _enterprises(conn, node_id)]
    ranked = sorted((r for res in results for r in res["recommendations"]),
                    key=lambda r: -r["cny_per_year"])
    return {
        "node": node.code, "node_id": node.id, "period": period.as_dict(),
        "enterprises": results, "ranked": ranked,
        "totals": {k: sum(res["totals"][k] for res in results)
                   for k in ("cny_per_year", "tce_per_year", "tco2_per_year")},
        "lineage": {"method": "nengtan recommendations 1 (energy/recommend.py)",
                    "pv_yield": pv_yield.as_dict(),
                    "note": "figures are per year; load shifting and demand control save money, "
                            "not energy; green power lowers control totals and CO2"},
    }
