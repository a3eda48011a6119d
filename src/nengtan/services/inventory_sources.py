"""Emission sources of carbon inventories (排放源) and their activity data.

A source is registered for one inventory, or for an enterprise (no inventory) and then used by
every inventory of that enterprise.  It names its kind (:data:`nengtan.carbon.model.SOURCE_KINDS`:
combustion, process, purchased electricity ...), the carrier / material / gas the factor
library keys on, the method (emission factor, mass balance, measurement), the unit of its
activity data, an optional facility (a node of the enterprise) and parameters entered with
their source (``{"cao_content": {"value": 0.65, "unit": "fraction", "source": "lab report
HY-2025-12", "status": "measured"}}``).

Activity data come from *links*, each an object with a ``kind``:

==================  =========================================================================
kind                activity data
==================  =========================================================================
meter               the meter's rollups over the period (:func:`energy_data.period_values`),
                    carrier unit converted to the source's unit; ``sign`` −1 subtracts it
manual_entry        an approved manual entry (fuel delivery or production): the record the
                    approval wrote, with the evidence files of the approved version; entries
                    not (or no longer) approved count nothing and are reported
fuel_deliveries     the enterprise's deliveries of the source's fuel in the period: their
                    quantity (``use`` quantity), the quantity-weighted measured NCV and carbon
                    content of the lab analyses (``use`` params, GB/T 32151.1 / MEE guideline
                    实测), or both
production          output of a product of the enterprise (or the facility) in the period,
                    records spanning the period edge prorated by days (clinker output ...)
cems                hourly CO2 of a CEMS monitor, valid hours only (measurement method,
                    HJ 75/76-2017)
value               a value entered with its source (and optional evidence file and dates it
                    covers, prorated by days)
green_certificate   MWh of green-electricity certificates / green power contracts for the
                    market-based scope 2 view (electricity sources only)
==================  =========================================================================

Every link is validated when the source is saved (unknown meter, carrier mismatch, kind and
method combinations, units) and every issue names its field (``links[2].meter`` ...).  Each
change of a source writes a revision (``emission_source_revisions``): what a locked inventory
used stays provable.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, or_, select
from sqlalchemy.orm import Session

from nengtan import units
from nengtan.carbon.model import GASES, METHODS, SOURCE_KINDS, Param
from nengtan.errors import InputError, Issue, NotFound
from nengtan.services import audit, energy_data, energy_totals
from nengtan.services.energy_data import Period
from nengtan.services.fields import FieldSpec, coerce, coerce_record
from nengtan.services.meter_specs import effective_timezones
from nengtan.store.models import Carrier, FuelDelivery, Meter, Node, Product
from nengtan.store.models.cems import CemsMonitor
from nengtan.store.models.inventory import (
    LINK_KINDS,
    EmissionSource,
    EmissionSourceLink,
    EmissionSourceRevision,
    Inventory,
)
from nengtan.store.models.manual import (
    EvidenceFile,
    ManualEntry,
    ManualEntryEvidence,
    ManualEntryVersion,
)
from nengtan.timeseries.calendar import local_midnight_us

#: Kinds whose activity is fuel or material (library keyed on ``carrier``).
MATERIAL_KINDS = ("combustion", "process", "fugitive", "recovered")
ELECTRICITY_KINDS = ("electricity", "export_electricity")
HEAT_KINDS = ("heat", "export_heat")
#: Carrier categories a meter may have for each kind of energy source.
_METER_CATEGORIES = {
    "electricity": ("electricity",),
    "export_electricity": ("electricity", "renewable_electricity", "recovered_electricity"),
    "heat": ("heat",),
    "export_heat": ("heat",),
}
#: Methods each kind may use.
KIND_METHODS = {
    "combustion": ("factor", "mass_balance", "measurement"),
    "process": ("factor", "mass_balance", "measurement"),
    "fugitive": ("factor", "measurement"),
    "recovered": ("factor", "measurement"),
    "electricity": ("factor",),
    "heat": ("factor",),
    "export_electricity": ("factor",),
    "export_heat": ("factor",),
}
PARAM_STATUSES = ("measured", "verified", "unverified", "user", "default")
FUEL_USES = ("quantity", "params", "both")
_PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

FIELDS = [
    FieldSpec("code", "str", "编码", "code", required=True, max_length=64,
              help_en="unique within the enterprise"),
    FieldSpec("name_zh", "str", "中文名称", "Chinese name", required=True, max_length=200),
    FieldSpec("name_en", "str", "英文名称", "English name", max_length=200),
    FieldSpec("enterprise", "str", "企业", "enterprise", ref="node",
              help_en="enterprise node code; may be left out when `inventory` is given"),
    FieldSpec("inventory", "str", "盘查", "inventory",
              help_en="inventory code: the source belongs to that inventory only; without it "
                      "the source is the enterprise's and every inventory of it uses it"),
    FieldSpec("kind", "choice", "排放源类别", "kind", required=True,
              choices=tuple(SOURCE_KINDS)),
    FieldSpec("carrier", "str", "能源/物料/气体", "carrier, material or gas", max_length=64,
              help_en="what the factor library keys on: a fuel carrier code (bituminous_coal, "
                      "natural_gas, diesel ...), a process material (clinker, "
                      "calcium_carbonate ...) or a gas; electricity and heat default to "
                      "`electricity` / `heat`"),
    FieldSpec("gas", "choice", "温室气体", "gas", default="CO2", choices=GASES),
    FieldSpec("method", "choice", "核算方法", "method", default="factor", choices=METHODS,
              help_en="factor (排放因子法), mass_balance (物料平衡法), measurement (实测法)"),
    FieldSpec("unit", "unit", "活动数据单位", "activity data unit",
              help_en="default: the carrier's unit (fuels), MWh (electricity), GJ (heat), "
                      "t (process, fugitive, recovered)"),
    FieldSpec("facility", "str", "设施", "facility", ref="node",
              help_en="node of the enterprise where the source is (for results by facility)"),
    FieldSpec("params", "json", "参数", "parameters",
              help_en='{"name": {"value", "unit", "source", "status"}} entered with their '
                      "source; status one of measured, verified, unverified, user, default"),
    FieldSpec("links", "json", "活动数据来源", "activity data links",
              help_en="list of objects with `kind`: meter (meter, sign), manual_entry "
                      "(manual_entry: id), fuel_deliveries (use: quantity | params | both, "
                      "carrier), production (product), cems (monitor), value (value, unit, "
                      "source, reference, period_start, period_end, evidence_id, sign), "
                      "green_certificate (value, unit, source, reference, period_start, "
                      "period_end, evidence_id)"),
    FieldSpec("scope3_category", "int", "范围三类别", "scope 3 category", minimum=1, maximum=15,
              help_en="GHG Protocol scope 3 category: reported apart, not in scopes 1 and 2"),
    FieldSpec("counted", "bool", "计入总量", "counted", default=True,
              help_en="false: computed and shown alongside (e.g. a CEMS cross-check) but not "
                      "in the totals"),
    FieldSpec("active", "bool", "启用", "active", default=True),
    FieldSpec("sort_order", "int", "排序", "sort order", default=0),
    FieldSpec("description", "str", "说明", "description"),
    FieldSpec("created_by", "str", "创建人", "created by", max_length=100),
]
_LINK_FIELDS = {
    "meter": {"kind", "meter", "sign"},
    "manual_entry": {"kind", "manual_entry"},
    "fuel_deliveries": {"kind", "use", "carrier"},
    "production": {"kind", "product"},
    "cems": {"kind", "monitor"},
    "value": {"kind", "value", "unit", "source", "reference", "period_start", "period_end",
              "evidence_id", "sign"},
    "green_certificate": {"kind", "value", "unit", "source", "reference", "period_start",
                          "period_end", "evidence_id"},
}


# == definitions ============================================================================
def default_unit(kind: str, carrier_unit: str | None) -> str:
    if kind in ELECTRICITY_KINDS:
        return "MWh"
    if kind in HEAT_KINDS:
        return "GJ"
    if kind == "combustion" and carrier_unit:
        return carrier_unit
    return "t"


def tenant_of(node) -> int:
    return node.tenant_id or node.id


def _enterprise(session: Session, data: dict, inventory: Inventory | None,
                issues: list[Issue]) -> Node | None:
    if inventory is not None:
        node = session.get(Node, inventory.node_id)
        if data.get("enterprise") and data["enterprise"] != node.code:
            issues.append(Issue("rule.inv_source_enterprise", field="enterprise",
                                value=data["enterprise"], params={"expected": node.code}))
        return node
    if not data.get("enterprise"):
        issues.append(Issue("rule.required", field="enterprise"))
        return None
    node = session.scalar(select(Node).where(Node.code == data["enterprise"]))
    if node is None:
        issues.append(Issue("rule.ref_unknown", field="enterprise", value=data["enterprise"],
                            params={"ref": "node"}))
        return None
    if node.kind not in ("enterprise", "park"):
        issues.append(Issue("rule.inv_node_kind", field="enterprise", value=node.code,
                            params={"kind": node.kind}))
        return None
    return node


def _params(raw, issues: list[Issue]) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        issues.append(Issue("rule.type_object", field="params"))
        return {}
    out = {}
    for name, p in raw.items():
        where = f"params.{name}"
        if not isinstance(name, str) or not _PARAM_NAME.match(name):
            issues.append(Issue("rule.inv_param_name", field=where, value=str(name)))
            continue
        if not isinstance(p, dict):
            issues.append(Issue("rule.type_object", field=where))
            continue
        unknown = set(p) - {"value", "unit", "source", "status", "note"}
        for key in sorted(unknown):
            issues.append(Issue("rule.unknown_field", field=f"{where}.{key}"))
        try:
            value = coerce(FieldSpec("value", "float", "值", "value", required=True),
                           p.get("value"))
        except InputError:
            issues.append(Issue("rule.type_float", field=f"{where}.value", value=p.get("value")))
            continue
        unit = p.get("unit")
        if not isinstance(unit, str) or not unit.strip():
            issues.append(Issue("rule.required", field=f"{where}.unit"))
            continue
        source = p.get("source")
        if not isinstance(source, str) or not source.strip():
            issues.append(Issue("rule.inv_param_source", field=f"{where}.source"))
            continue
        status = p.get("status") or "measured"
        if status not in PARAM_STATUSES:
            issues.append(Issue("rule.choice", field=f"{where}.status", value=status,
                                params={"choices": ", ".join(PARAM_STATUSES)}))
            continue
        out[name] = {"value": value, "unit": unit.strip(), "source": source.strip(),
                     "status": status}
        if p.get("note"):
            out[name]["note"] = str(p["note"])
    return out


def _convertible(a: str, b: str) -> bool:
    try:
        units.factor(a, b)
        return True
    except units.UnitError:
        return False


def _date_field(item: dict, name: str, where: str, issues: list[Issue]) -> date | None:
    try:
        return coerce(FieldSpec(name, "date", name, name), item.get(name))
    except InputError:
        issues.append(Issue("rule.type_date", field=f"{where}.{name}", value=item.get(name)))
        return None


def _links(session: Session, raw, src: dict, tenant_id: int,
           issues: list[Issue]) -> list[dict]:
    """Column values of each link; issues name ``links[i].field``."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        issues.append(Issue("rule.inv_links_list", field="links"))
        return []
    kind, method, unit, carrier = src["kind"], src["method"], src["unit"], src["carrier"]
    out = []
    for i, item in enumerate(raw):
        where = f"links[{i}]"
        if isinstance(item, str):  # a bare meter code
            item = {"kind": "meter", "meter": item}
        if not isinstance(item, dict) or item.get("kind") not in LINK_KINDS:
            issues.append(Issue("rule.inv_link_kind", field=f"{where}.kind",
                                value=item.get("kind") if isinstance(item, dict) else None,
                                params={"choices": ", ".join(LINK_KINDS)}))
            continue
        lk = item["kind"]
        for key in sorted(set(item) - _LINK_FIELDS[lk]):
            issues.append(Issue("rule.unknown_field", field=f"{where}.{key}"))
        row = {"position": i, "kind": lk, "sign": 1}
        n_before = len(issues)
        if "sign" in item:
            sign = item["sign"]
            if isinstance(sign, bool) or sign not in (1, -1):
                issues.append(Issue("rule.inv_sign", field=f"{where}.sign", value=sign))
            else:
                row["sign"] = int(sign)
        if lk == "meter":
            _meter_link(session, item, row, where, kind, unit, carrier, tenant_id, issues)
        elif lk == "manual_entry":
            _manual_link(session, item, row, where, kind, unit, carrier, tenant_id, issues)
        elif lk == "fuel_deliveries":
            use = item.get("use") or "both"
            if use not in FUEL_USES:
                issues.append(Issue("rule.choice", field=f"{where}.use", value=use,
                                    params={"choices": ", ".join(FUEL_USES)}))
            if kind != "combustion":
                issues.append(Issue("rule.inv_link_for_kind", field=f"{where}.kind", value=lk,
                                    params={"kinds": "combustion"}))
            fuel = item.get("carrier") or carrier
            c = session.get(Carrier, fuel) if fuel else None
            if c is None:
                issues.append(Issue("rule.ref_unknown", field=f"{where}.carrier", value=fuel,
                                    params={"ref": "carrier"}))
            elif fuel != carrier:
                issues.append(Issue("rule.inv_carrier_mismatch", field=f"{where}.carrier",
                                    value=fuel, params={"expected": carrier}))
            elif use != "params" and not _convertible(c.unit, unit):
                issues.append(Issue("rule.inv_link_unit", field=f"{where}.carrier",
                                    value=c.unit, params={"unit": unit}))
            row["use"] = use
        elif lk == "production":
            product = session.scalar(select(Product).where(Product.code == item.get("product")))
            if product is None:
                issues.append(Issue("rule.ref_unknown", field=f"{where}.product",
                                    value=item.get("product"), params={"ref": "product"}))
            else:
                if kind != "process":
                    issues.append(Issue("rule.inv_link_for_kind", field=f"{where}.kind",
                                        value=lk, params={"kinds": "process"}))
                if not _convertible(product.unit, unit):
                    issues.append(Issue("rule.inv_link_unit", field=f"{where}.product",
                                        value=product.unit, params={"unit": unit}))
                row["product_id"] = product.id
        elif lk == "cems":
            monitor = session.scalar(select(CemsMonitor).where(
                CemsMonitor.code == item.get("monitor")))
            if monitor is None:
                issues.append(Issue("rule.ref_unknown", field=f"{where}.monitor",
                                    value=item.get("monitor"), params={"ref": "cems_monitor"}))
            else:
                if monitor.tenant_id != tenant_id:
                    issues.append(Issue("rule.inv_link_tenant", field=f"{where}.monitor",
                                        value=monitor.code))
                if method != "measurement":
                    issues.append(Issue("rule.inv_cems_method", field=f"{where}.kind",
                                        value=method))
                if src["gas"] != "CO2":
                    issues.append(Issue("rule.inv_cems_gas", field="gas", value=src["gas"]))
                if not _convertible("t", unit):
                    issues.append(Issue("rule.inv_link_unit", field=f"{where}.monitor",
                                        value="t", params={"unit": unit}))
                row["cems_monitor_id"] = monitor.id
        else:  # value, green_certificate
            _value_link(session, item, row, where, lk, kind, unit, tenant_id, issues)
        if len(issues) == n_before:
            out.append(row)
    return out


def _meter_link(session, item, row, where, kind, unit, carrier, tenant_id, issues) -> None:
    code = item.get("meter")
    m = session.execute(select(Meter.id, Meter.code, Meter.tenant_id, Meter.carrier_code,
                               Carrier.unit, Carrier.category)
                        .join(Carrier, Carrier.code == Meter.carrier_code)
                        .where(Meter.code == code)).first() if isinstance(code, str) else None
    if m is None:
        issues.append(Issue("rule.ref_unknown", field=f"{where}.meter", value=code,
                            params={"ref": "meter"}))
        return
    row["meter_id"] = m.id
    if m.tenant_id != tenant_id:
        issues.append(Issue("rule.inv_link_tenant", field=f"{where}.meter", value=code))
    allowed = _METER_CATEGORIES.get(kind)
    if allowed is not None:
        if m.category not in allowed:
            issues.append(Issue("rule.inv_meter_category", field=f"{where}.meter", value=code,
                                params={"carrier": m.carrier_code, "kind": kind}))
            return
    elif carrier is None:
        return  # reported as carrier_required
    elif m.carrier_code != carrier:
        issues.append(Issue("rule.inv_carrier_mismatch", field=f"{where}.meter", value=code,
                            params={"expected": carrier, "actual": m.carrier_code}))
        return
    if not _convertible(m.unit, unit):
        issues.append(Issue("rule.inv_link_unit", field=f"{where}.meter", value=m.unit,
                            params={"unit": unit}))


def _manual_link(session, item, row, where, kind, unit, carrier, tenant_id, issues) -> None:
    entry_id = item.get("manual_entry")
    entry = session.get(ManualEntry, entry_id) if isinstance(entry_id, int) \
        and not isinstance(entry_id, bool) else None
    if entry is None:
        issues.append(Issue("rule.inv_manual_unknown", field=f"{where}.manual_entry",
                            value=entry_id))
        return
    if entry.tenant_id != tenant_id:
        issues.append(Issue("rule.inv_link_tenant", field=f"{where}.manual_entry",
                            value=entry_id))
    if entry.kind not in ("fuel_delivery", "production"):
        issues.append(Issue("rule.inv_manual_kind", field=f"{where}.manual_entry",
                            value=entry_id, params={"kind": entry.kind}))
        return
    if entry.approved_version is None:
        issues.append(Issue("rule.inv_manual_not_approved", field=f"{where}.manual_entry",
                            value=entry_id, params={"status": entry.status}))
        return
    ver = session.scalar(select(ManualEntryVersion).where(
        ManualEntryVersion.entry_id == entry.id,
        ManualEntryVersion.version == entry.approved_version))
    payload = ver.payload or {}
    if entry.kind == "fuel_delivery":
        if kind != "combustion":
            issues.append(Issue("rule.inv_link_for_kind", field=f"{where}.kind",
                                value="manual_entry fuel_delivery",
                                params={"kinds": "combustion"}))
        elif payload.get("carrier") != carrier:
            issues.append(Issue("rule.inv_carrier_mismatch", field=f"{where}.manual_entry",
                                value=entry_id,
                                params={"expected": carrier, "actual": payload.get("carrier")}))
    elif kind != "process":
        issues.append(Issue("rule.inv_link_for_kind", field=f"{where}.kind",
                            value="manual_entry production", params={"kinds": "process"}))
    got = payload.get("unit")
    if got and not _convertible(got, unit):
        issues.append(Issue("rule.inv_link_unit", field=f"{where}.manual_entry", value=got,
                            params={"unit": unit}))
    row["manual_entry_id"] = entry.id


def _value_link(session, item, row, where, lk, kind, unit, tenant_id, issues) -> None:
    try:
        row["value"] = coerce(FieldSpec("value", "float", "值", "value", required=True,
                                        minimum=0), item.get("value"))
    except InputError as exc:
        issues += [Issue(i.rule, field=f"{where}.value", value=i.value, params=i.params)
                   for i in exc.issues]
    target = "MWh" if lk == "green_certificate" else unit
    raw_unit = item.get("unit") or target
    try:
        row["unit"] = units.canonical(raw_unit)
        if not _convertible(row["unit"], target):
            issues.append(Issue("rule.inv_link_unit", field=f"{where}.unit", value=raw_unit,
                                params={"unit": target}))
    except (units.UnitError, TypeError):
        issues.append(Issue("rule.unit_unknown", field=f"{where}.unit", value=raw_unit))
    source = item.get("source")
    if not isinstance(source, str) or not source.strip():
        issues.append(Issue("rule.inv_value_source", field=f"{where}.source"))
    else:
        row["source"] = source.strip()
    if item.get("reference") is not None:
        row["reference"] = str(item["reference"])[:100]
    if lk == "green_certificate" and kind != "electricity":
        issues.append(Issue("rule.inv_link_for_kind", field=f"{where}.kind", value=lk,
                            params={"kinds": "electricity"}))
    row["period_start"] = _date_field(item, "period_start", where, issues)
    row["period_end"] = _date_field(item, "period_end", where, issues)
    if (row["period_start"] is None) != (row["period_end"] is None):
        issues.append(Issue("rule.inv_value_dates", field=f"{where}.period_end"))
    elif row["period_start"] and row["period_end"] < row["period_start"]:
        issues.append(Issue("rule.inv_value_dates", field=f"{where}.period_end",
                            value=str(row["period_end"])))
    ev_id = item.get("evidence_id")
    if ev_id is not None:
        ev = session.get(EvidenceFile, ev_id) if isinstance(ev_id, int) else None
        if ev is None:
            issues.append(Issue("rule.inv_evidence_unknown", field=f"{where}.evidence_id",
                                value=ev_id))
        elif ev.tenant_id is not None and ev.tenant_id != tenant_id:
            issues.append(Issue("rule.inv_link_tenant", field=f"{where}.evidence_id",
                                value=ev_id))
        else:
            row["evidence_id"] = ev.id


def _validated(session: Session, payload: dict, current: EmissionSource | None = None) -> dict:
    """Column values and link rows of a source; raises InputError naming every issue."""
    data = coerce_record(FIELDS, payload)
    issues: list[Issue] = []
    inventory = None
    if data.get("inventory"):
        inventory = session.scalar(select(Inventory).where(Inventory.code == data["inventory"]))
        if inventory is None:
            issues.append(Issue("rule.inv_unknown", field="inventory", value=data["inventory"]))
    node = _enterprise(session, data, inventory, issues)
    if node is None:
        raise InputError(issues or [Issue("rule.required", field="enterprise")])
    tenant_id = tenant_of(node)
    taken = session.scalar(select(EmissionSource.id).where(
        EmissionSource.tenant_id == tenant_id, EmissionSource.code == data["code"]))
    if taken is not None and (current is None or taken != current.id):
        issues.append(Issue("rule.duplicate", field="code", value=data["code"]))
    kind, method, gas = data["kind"], data["method"], data["gas"]
    carrier = data.get("carrier")
    carrier_unit = None
    if kind in ELECTRICITY_KINDS:
        carrier = carrier or "electricity"
    elif kind in HEAT_KINDS:
        carrier = carrier or "heat"
    elif kind in ("combustion", "process") and not carrier:
        issues.append(Issue("rule.inv_carrier_required", field="carrier",
                            params={"kind": kind}))
    if kind == "combustion" and carrier:
        c = session.get(Carrier, carrier)
        if c is None:
            issues.append(Issue("rule.ref_unknown", field="carrier", value=carrier,
                                params={"ref": "carrier"}))
        elif not c.is_energy or c.category not in (
                "solid_fossil", "liquid_fossil", "gaseous_fossil", "other_fuel"):
            issues.append(Issue("rule.inv_not_fuel", field="carrier", value=carrier,
                                params={"category": c.category}))
        else:
            carrier_unit = c.unit
    if method not in KIND_METHODS[kind]:
        issues.append(Issue("rule.inv_kind_method", field="method", value=method,
                            params={"kind": kind, "allowed": ", ".join(KIND_METHODS[kind])}))
    if gas != "CO2" and kind not in ("combustion", "process", "fugitive"):
        issues.append(Issue("rule.inv_kind_gas", field="gas", value=gas, params={"kind": kind}))
    unit = data.get("unit") or default_unit(kind, carrier_unit)
    facility = None
    if data.get("facility"):
        facility = session.scalar(select(Node).where(Node.code == data["facility"]))
        if facility is None:
            issues.append(Issue("rule.ref_unknown", field="facility", value=data["facility"],
                                params={"ref": "node"}))
        elif not facility.path.startswith(node.path):
            issues.append(Issue("rule.inv_facility_outside", field="facility",
                                value=data["facility"], params={"enterprise": node.code}))
    params = _params(data.get("params"), issues)
    src = {"kind": kind, "method": method, "unit": unit, "carrier": carrier, "gas": gas}
    links = _links(session, data.get("links"), src, tenant_id, issues)
    if not issues:
        issues += _check_activity(kind, method, links, params)
    if issues:
        raise InputError(issues)
    return {
        "columns": {
            "code": data["code"], "name_zh": data["name_zh"], "name_en": data.get("name_en"),
            "node_id": node.id, "tenant_id": tenant_id,
            "inventory_id": inventory.id if inventory else None, "kind": kind,
            "carrier": carrier, "gas": gas, "method": method, "unit": unit,
            "facility_node_id": facility.id if facility else None, "params": params or None,
            "scope3_category": data.get("scope3_category"), "counted": data["counted"],
            "active": data["active"], "sort_order": data["sort_order"] or 0,
            "description": data.get("description"), "created_by": data.get("created_by"),
        },
        "links": links,
    }


def _check_activity(kind: str, method: str, links: list[dict], params: dict) -> list[Issue]:
    """Kind and method combinations: where the activity (or the measurement) comes from."""
    kinds = {lk["kind"] for lk in links}
    quantity_links = [lk for lk in links if lk["kind"] in ("meter", "manual_entry", "production",
                                                           "value")
                      or (lk["kind"] == "fuel_deliveries" and lk["use"] != "params")]
    if method == "measurement":
        if "cems" not in kinds and "measured_t" not in params:
            return [Issue("rule.inv_measurement_source", field="links", params={"kind": kind})]
        if len(links) != sum(lk["kind"] == "cems" for lk in links):
            return [Issue("rule.inv_measurement_only", field="links")]
        return []
    if method == "mass_balance":
        return []
    if not quantity_links:
        return [Issue("rule.inv_no_activity", field="links", params={"kind": kind})]
    if sum(lk["kind"] == "fuel_deliveries" for lk in links) > 1:
        return [Issue("rule.inv_fuel_deliveries_once", field="links")]
    return []


# == storage ================================================================================
def _write(session: Session, source: EmissionSource, values: dict, actor: str | None) -> None:
    for col, value in values["columns"].items():
        setattr(source, col, value)
    session.add(source)
    session.flush()
    for old in session.scalars(select(EmissionSourceLink).where(
            EmissionSourceLink.source_id == source.id)):
        session.delete(old)
    session.flush()
    for row in values["links"]:
        session.add(EmissionSourceLink(source_id=source.id, **row))
    session.flush()
    session.add(EmissionSourceRevision(source_id=source.id, revision=source.revision,
                                       snapshot=snapshot(session, source),
                                       created_by=actor))
    session.flush()


def create(session: Session, payload: dict) -> EmissionSource:
    values = _validated(session, payload)
    source = EmissionSource(revision=1)
    _write(session, source, values, values["columns"].get("created_by"))
    return source


def update(session: Session, source_id: int, payload: dict) -> EmissionSource:
    """Change some fields (``params`` and ``links``, when given, replace the stored ones
    whole); validated like a new source; a new revision."""
    source = get(session, source_id)
    current = as_dict(session, source)
    merged = {k: current[k] for k in (s.name for s in FIELDS) if k in current}
    # the answer's links carry ids next to the codes: the codes are what is validated
    merged["links"] = [{k: v for k, v in lk.items()
                        if k not in ("meter_id", "product_id", "monitor_id") and v is not None}
                       for lk in merged["links"]]
    merged.update(payload)
    values = _validated(session, merged, source)
    source.revision = (source.revision or 1) + 1
    _write(session, source, values, payload.get("created_by") or source.created_by)
    return source


def delete(session: Session, source_id: int) -> None:
    """Delete a source that no locked inventory used (its revisions are in the ledger:
    retire such a source with ``active`` false instead)."""
    from nengtan.store.models.ledger import LedgerEntry

    source = get(session, source_id)
    used = session.scalar(select(LedgerEntry.id).where(
        LedgerEntry.kind == "inventory_source",
        LedgerEntry.key.like(f"{source.id}/r%")).limit(1))
    if used is not None:
        raise InputError([Issue("rule.inv_source_locked", field="source", value=source.code)])
    session.delete(source)
    session.flush()


def list_query(enterprise_id: int | None = None, inventory_id: int | None = None):
    q = select(EmissionSource)
    if enterprise_id is not None:
        q = q.where(EmissionSource.node_id == enterprise_id)
    if inventory_id is not None:
        q = q.where(or_(EmissionSource.inventory_id == inventory_id,
                        EmissionSource.inventory_id.is_(None)),
                    EmissionSource.tenant_id == select(Inventory.tenant_id).where(
                        Inventory.id == inventory_id).scalar_subquery())
    return q.order_by(EmissionSource.tenant_id, EmissionSource.sort_order, EmissionSource.code)


def get(session: Session, source_id: int) -> EmissionSource:
    source = session.get(EmissionSource, source_id)
    if source is None:
        raise NotFound("emission source", source_id)
    return source


def for_inventory(session_or_conn, inventory: Inventory, active_only: bool = True) -> list:
    """The inventory's own sources and its enterprise's shared ones, in order."""
    q = select(EmissionSource).where(
        EmissionSource.tenant_id == inventory.tenant_id,
        or_(EmissionSource.inventory_id == inventory.id,
            EmissionSource.inventory_id.is_(None)))
    if active_only:
        q = q.where(EmissionSource.active.is_(True))
    q = q.order_by(EmissionSource.sort_order, EmissionSource.code)
    if isinstance(session_or_conn, Session):
        return list(session_or_conn.scalars(q))
    return list(session_or_conn.execute(select(EmissionSource.__table__).where(
        q.whereclause).order_by(EmissionSource.sort_order, EmissionSource.code)))


def link_rows(conn, source_ids) -> dict[int, list]:
    out: dict[int, list] = {sid: [] for sid in source_ids}
    if not out:
        return out
    for r in conn.execute(select(EmissionSourceLink.__table__).where(
            EmissionSourceLink.source_id.in_(list(out))).order_by(
            EmissionSourceLink.source_id, EmissionSourceLink.position)):
        out[r.source_id].append(r)
    return out


def _codes(conn, model, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(conn.execute(select(model.id, model.code).where(model.id.in_(ids))).all())


def link_dict(r, names: dict) -> dict:
    """A link as the API shows it (codes, not ids, plus the ids)."""
    out = {"kind": r.kind}
    if r.kind == "meter":
        out.update(meter=names["meter"].get(r.meter_id), meter_id=r.meter_id, sign=r.sign)
    elif r.kind == "manual_entry":
        out.update(manual_entry=r.manual_entry_id)
    elif r.kind == "fuel_deliveries":
        out.update(use=r.use)
    elif r.kind == "production":
        out.update(product=names["product"].get(r.product_id), product_id=r.product_id)
    elif r.kind == "cems":
        out.update(monitor=names["cems"].get(r.cems_monitor_id),
                   monitor_id=r.cems_monitor_id)
    else:
        out.update(value=r.value, unit=r.unit, source=r.source, reference=r.reference,
                   period_start=r.period_start.isoformat() if r.period_start else None,
                   period_end=r.period_end.isoformat() if r.period_end else None,
                   evidence_id=r.evidence_id)
        if r.kind == "value":
            out["sign"] = r.sign
    return out


def _link_names(conn, rows) -> dict:
    return {"meter": _codes(conn, Meter, [r.meter_id for r in rows]),
            "product": _codes(conn, Product, [r.product_id for r in rows]),
            "cems": _codes(conn, CemsMonitor, [r.cems_monitor_id for r in rows])}


def as_dict(session: Session, source: EmissionSource) -> dict:
    conn = session.connection()
    links = link_rows(conn, [source.id])[source.id]
    names = _link_names(conn, links)
    nodes = _codes(conn, Node, [source.node_id, source.facility_node_id])
    inventory = session.get(Inventory, source.inventory_id) if source.inventory_id else None
    return {
        "id": source.id, "code": source.code, "name_zh": source.name_zh,
        "name_en": source.name_en, "enterprise": nodes.get(source.node_id),
        "node_id": source.node_id, "tenant_id": source.tenant_id,
        "inventory": inventory.code if inventory else None,
        "inventory_id": source.inventory_id, "kind": source.kind,
        "scope": SOURCE_KINDS[source.kind] if source.scope3_category is None else 3,
        "carrier": source.carrier, "gas": source.gas, "method": source.method,
        "unit": source.unit, "facility": nodes.get(source.facility_node_id),
        "facility_node_id": source.facility_node_id, "params": source.params or {},
        "links": [link_dict(r, names) for r in links],
        "scope3_category": source.scope3_category, "counted": source.counted,
        "active": source.active, "sort_order": source.sort_order,
        "description": source.description, "revision": source.revision,
        "created_by": source.created_by, "created_at": audit.iso(source.created_at),
        "updated_at": audit.iso(source.updated_at),
    }


def snapshot(session_or_conn, source) -> dict:
    """The definition of a source that a result depends on (hashed into the ledger)."""
    conn = session_or_conn.connection() if isinstance(session_or_conn, Session) \
        else session_or_conn
    links = link_rows(conn, [source.id])[source.id]
    names = _link_names(conn, links)
    return audit.jsonable({
        "id": source.id, "code": source.code, "tenant_id": source.tenant_id,
        "inventory_id": source.inventory_id, "kind": source.kind, "carrier": source.carrier,
        "gas": source.gas, "method": source.method, "unit": source.unit,
        "facility_node_id": source.facility_node_id, "params": source.params or {},
        "scope3_category": source.scope3_category, "counted": bool(source.counted),
        "active": bool(source.active), "revision": source.revision,
        "links": [link_dict(r, names) for r in links],
    })


# == activity data ==========================================================================
@dataclass
class Activity:
    """A source's activity data over one slice of the period, in the source's unit."""

    quantity: float = 0.0
    green_mwh: float = 0.0
    coverage: float = 1.0
    links: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)


@dataclass
class SourceParams:
    params: dict[str, Param] = field(default_factory=dict)
    lineage: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)


def _overlap_share(start: date, end_incl: date, lo: date, hi: date) -> float:
    """Share of the days [start, end_incl] inside [lo, hi)."""
    total = (end_incl - start).days + 1
    a, b = max(start, lo), min(end_incl + timedelta(days=1), hi)
    return max((b - a).days, 0) / total if total > 0 else 0.0


def _approved_versions(target_table: str):
    """Approved manual-entry versions that wrote into ``target_table``: the entry, the
    version and who entered and reviewed it (add the caller's conditions with ``where``)."""
    return (select(ManualEntry.id, ManualEntry.kind, ManualEntryVersion.id.label("vid"),
                   ManualEntryVersion.version, ManualEntryVersion.status,
                   ManualEntryVersion.created_by, ManualEntryVersion.submitted_by,
                   ManualEntryVersion.reviewed_by, ManualEntryVersion.reviewed_at,
                   ManualEntryVersion.target_id, ManualEntryVersion.target_ts)
            .join(ManualEntry, ManualEntry.id == ManualEntryVersion.entry_id)
            .where(ManualEntryVersion.target_table == target_table,
                   ManualEntryVersion.status == "approved"))


def _evidence_of_versions(conn, version_ids) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    if not version_ids:
        return out
    for r in conn.execute(select(ManualEntryEvidence.version_id, EvidenceFile.id,
                                 EvidenceFile.sha256, EvidenceFile.filename,
                                 EvidenceFile.size, EvidenceFile.uploaded_by,
                                 EvidenceFile.uploaded_at)
                          .join(EvidenceFile, EvidenceFile.id == ManualEntryEvidence.evidence_id)
                          .where(ManualEntryEvidence.version_id.in_(list(version_ids)))
                          .order_by(EvidenceFile.id)):
        out[r.version_id].append(evidence_dict(r))
    return out


def evidence_dict(r) -> dict:
    return {"evidence_id": r.id, "sha256": r.sha256, "filename": r.filename, "size": r.size,
            "uploaded_by": r.uploaded_by, "uploaded_at": audit.iso(r.uploaded_at),
            "url": f"/api/evidence/{r.id}"}


def _entry_dict(e, ver, evidence: list[dict]) -> dict:
    return {"manual_entry": e.id, "entry_kind": e.kind, "version": ver.version,
            "status": ver.status, "entered_by": ver.created_by,
            "submitted_by": ver.submitted_by, "reviewed_by": ver.reviewed_by,
            "reviewed_at": audit.iso(ver.reviewed_at), "evidence": evidence,
            "url": f"/api/manual-entries/{e.id}"}


class Gatherer:
    """Activity data of many sources over several slices of one period, with few queries:
    one ``period_values`` per slice for all meters of all sources."""

    def __init__(self, conn: Connection, period: Period, tenant_id: int):
        self.conn = conn
        self.period = period
        self.tenant_id = tenant_id

    # -- the period's parameters ----------------------------------------------------------
    def params(self, source, links: list) -> SourceParams:
        out = SourceParams()
        for lk in links:
            if lk.kind == "fuel_deliveries" and lk.use in ("params", "both"):
                self._delivery_params(source, out)
        for name, p in (source.params or {}).items():
            if name in out.params:
                out.warnings.append({"rule": "inv_param_override", "source": source.code,
                                     "parameter": name})
            out.params[name] = Param(float(p["value"]), p["unit"], p["source"],
                                     p.get("status", "measured"))
            out.lineage.append({"parameter": name, "origin": "entered with the source",
                                **p})
        return out

    def deliveries(self, carrier: str, start: date, end: date) -> list:
        return list(self.conn.execute(select(FuelDelivery.__table__).where(
            FuelDelivery.tenant_id == self.tenant_id, FuelDelivery.carrier_code == carrier,
            FuelDelivery.delivered_on >= start, FuelDelivery.delivered_on < end)
            .order_by(FuelDelivery.delivered_on, FuelDelivery.id)))

    def _delivery_evidence(self, ids) -> dict[int, list[dict]]:
        """Deliveries written by approved manual entries: the entry and its files."""
        if not ids:
            return {}
        rows = self.conn.execute(_approved_versions("fuel_deliveries").where(
            ManualEntryVersion.target_id.in_(list(ids)))).all()
        files = _evidence_of_versions(self.conn, [r.vid for r in rows])
        out: dict[int, list[dict]] = defaultdict(list)
        for r in rows:
            out[r.target_id].append(_entry_dict(r, r, files.get(r.vid, [])))
        return out

    def _delivery_params(self, source, out: SourceParams) -> None:
        """Quantity-weighted NCV (GJ per source unit) and carbon content (tC/TJ) of the lab
        analyses of the period's deliveries: NCV = Σ qᵢ·NCVᵢ / Σ qᵢ; CC = Σ qᵢ·Cᵢ /
        Σ qᵢ·NCVᵢ (carbon per heat, MEE guideline 实测: CC = C_ar / NCV_ar)."""
        p = self.period
        rows = [d for d in self.deliveries(source.carrier, p.start, p.end)
                if d.ncv_mj_per_unit is not None]
        if not rows:
            out.warnings.append({"rule": "inv_no_lab_data", "source": source.code,
                                 "carrier": source.carrier})
            return
        qty = energy_gj = 0.0
        carbon_t = 0.0
        carbon_ok = True
        for d in rows:
            q = d.quantity * units.factor(d.unit, source.unit)
            # ncv_mj_per_unit is per delivery unit: per source unit it scales inversely
            ncv_gj = d.ncv_mj_per_unit / 1000.0 / units.factor(d.unit, source.unit)
            qty += q
            energy_gj += q * ncv_gj
            if d.carbon_content_pct is None or not _convertible(d.unit, "t"):
                carbon_ok = False
            else:
                carbon_t += d.quantity * units.factor(d.unit, "t") * d.carbon_content_pct / 100
        if qty <= 0:
            return
        evidence = self._delivery_evidence([d.id for d in rows])
        labs = [{"fuel_delivery": d.id, "delivered_on": d.delivered_on.isoformat(),
                 "lot_no": d.lot_no, "quantity": d.quantity, "unit": d.unit, "ncv": d.ncv,
                 "ncv_unit": d.ncv_unit, "ncv_mj_per_unit": d.ncv_mj_per_unit,
                 "carbon_content_pct": d.carbon_content_pct, "lab": d.lab,
                 "report_no": d.report_no, "test_method": d.method,
                 "url": f"/api/fuel-deliveries/{d.id}",
                 **({"manual_entries": evidence[d.id]} if d.id in evidence else {})}
                for d in rows]
        span = f"{p.start}..{p.end - timedelta(days=1)}"
        ncv = energy_gj / qty
        unit = f"GJ/{source.unit}"
        label = f"quantity-weighted NCV of {len(rows)} lab-analysed deliveries {span}"
        out.params["ncv"] = Param(ncv, unit, label, "measured")
        out.lineage.append({"parameter": "ncv", "value": ncv, "unit": unit, "source": label,
                            "status": "measured", "origin": "fuel deliveries (lab analyses)",
                            "formula": "Σ qᵢ·NCVᵢ / Σ qᵢ", "lab_records": labs})
        if carbon_ok and energy_gj > 0:
            cc = carbon_t / (energy_gj / 1000.0)
            label_cc = (f"carbon content per heat of {len(rows)} lab-analysed deliveries "
                        f"{span} (element carbon Σ qᵢ·Cᵢ / Σ qᵢ·NCVᵢ)")
            out.params["carbon_content"] = Param(cc, "tC/TJ", label_cc, "measured")
            out.lineage.append({"parameter": "carbon_content", "value": cc, "unit": "tC/TJ",
                                "source": label_cc, "status": "measured",
                                "origin": "fuel deliveries (lab analyses)",
                                "formula": "Σ qᵢ·Cᵢ / Σ qᵢ·NCVᵢ",
                                "lab_records": [{"fuel_delivery": x["fuel_delivery"],
                                                 "report_no": x["report_no"]} for x in labs]})

    # -- activity per slice ------------------------------------------------------------------
    def activity(self, sources: list, links: dict[int, list], slices: list[Period],
                 detail: bool = True) -> dict[int, list[Activity]]:
        """Per source id, one :class:`Activity` per slice.  ``detail``: lineage of the links
        (manual entries and evidence of meters) for the first slice (the whole period)."""
        conn = self.conn
        out = {s.id: [Activity() for _ in slices] for s in sources}
        meter_ids = {lk.meter_id for ls in links.values() for lk in ls if lk.kind == "meter"}
        meters = {r.id: r for r in conn.execute(
            select(Meter.id, Meter.code, Meter.tenant_id, Meter.node_id, Meter.carrier_code,
                   Carrier.unit).join(Carrier, Carrier.code == Meter.carrier_code)
            .where(Meter.id.in_(list(meter_ids))))} if meter_ids else {}
        values = [energy_data.period_values(conn, [(m.id, m.tenant_id) for m in meters.values()],
                                            sl.start, sl.end) for sl in slices]
        reading_entries = self._reading_entries(list(meters), slices[0]) if detail else {}
        for s in sources:
            for lk in links.get(s.id, []):
                for k, sl in enumerate(slices):
                    act = out[s.id][k]
                    first = k == 0 and detail
                    if lk.kind == "meter":
                        m = meters[lk.meter_id]
                        pv = values[k][m.id]
                        q = pv.value * units.factor(m.unit, s.unit) * lk.sign
                        act.quantity += q
                        act.coverage = min(act.coverage, pv.coverage)
                        item = {"kind": "meter", "meter": m.code, "meter_id": m.id,
                                "sign": lk.sign, "value": pv.value, "unit": m.unit,
                                "quantity": q, "quantity_unit": s.unit,
                                "coverage": round(pv.coverage, 6), "flags": pv.flags,
                                "has_data": pv.has_data,
                                "rollups": (f"/api/meters/{m.id}/rollups?grain=day"
                                            f"&start={sl.start}&end={sl.end}"),
                                "readings": (f"/api/meters/{m.id}/readings"
                                             f"?start={sl.start}&end={sl.end}")}
                        if first and reading_entries.get(m.id):
                            item["manual_entries"] = reading_entries[m.id]
                        act.links.append(item)
                        if not pv.has_data:
                            act.warnings.append({"rule": "inv_meter_no_data",
                                                 "source": s.code, "meter": m.code})
                    elif lk.kind == "manual_entry":
                        self._manual(s, lk, sl, act, first)
                    elif lk.kind == "fuel_deliveries":
                        if lk.use in ("quantity", "both"):
                            rows = self.deliveries(s.carrier, sl.start, sl.end)
                            q = sum(d.quantity * units.factor(d.unit, s.unit) for d in rows)
                            act.quantity += q
                            act.links.append({
                                "kind": "fuel_deliveries", "carrier": s.carrier,
                                "deliveries": len(rows), "quantity": q,
                                "quantity_unit": s.unit,
                                "records": [{"fuel_delivery": d.id,
                                             "delivered_on": d.delivered_on.isoformat(),
                                             "quantity": d.quantity, "unit": d.unit,
                                             "lot_no": d.lot_no,
                                             "url": f"/api/fuel-deliveries/{d.id}"}
                                            for d in rows] if first else None,
                                "url": (f"/api/fuel-deliveries?carrier={s.carrier}"
                                        f"&from={sl.start}&to={sl.end - timedelta(days=1)}")})
                    elif lk.kind == "production":
                        self._production(s, lk, sl, act)
                    elif lk.kind == "cems":
                        self._cems(s, lk, sl, act)
                    else:
                        self._value(s, lk, sl, act)
        return out

    def _reading_entries(self, meter_ids: list[int], sl: Period) -> dict[int, list[dict]]:
        """Approved manual readings of the meters in the period, with their evidence."""
        if not meter_ids:
            return {}
        tzs = effective_timezones(self.conn, {self.tenant_id})
        tz = ZoneInfo(tzs.get(self.tenant_id, "Asia/Shanghai"))
        from nengtan.timeseries.calendar import from_us
        lo = from_us(local_midnight_us(sl.start, tz))
        hi = from_us(local_midnight_us(sl.end, tz))
        rows = self.conn.execute(_approved_versions("readings").where(
            ManualEntryVersion.retract.is_(False), ManualEntryVersion.target_id.in_(meter_ids),
            ManualEntryVersion.target_ts >= lo, ManualEntryVersion.target_ts <= hi)
            .order_by(ManualEntryVersion.target_ts)).all()
        files = _evidence_of_versions(self.conn, [r.vid for r in rows])
        out: dict[int, list[dict]] = defaultdict(list)
        for r in rows:
            out[r.target_id].append({**_entry_dict(r, r, files.get(r.vid, [])),
                                     "reading_ts": audit.iso(r.target_ts)})
        return out

    def _manual(self, s, lk, sl: Period, act: Activity, first: bool) -> None:
        conn = self.conn
        e = conn.execute(select(ManualEntry.__table__).where(
            ManualEntry.id == lk.manual_entry_id)).first()
        if e.approved_version is None:
            act.links.append({"kind": "manual_entry", "manual_entry": e.id, "quantity": 0.0,
                              "quantity_unit": s.unit, "status": e.status,
                              "counted": False, "url": f"/api/manual-entries/{e.id}"})
            act.warnings.append({"rule": "inv_manual_not_approved", "source": s.code,
                                 "manual_entry": e.id, "status": e.status})
            return
        ver = conn.execute(select(ManualEntryVersion.__table__).where(
            ManualEntryVersion.entry_id == e.id,
            ManualEntryVersion.version == e.approved_version)).first()
        q = 0.0
        record = None
        if e.kind == "fuel_delivery" and ver.target_id is not None:
            d = conn.execute(select(FuelDelivery.__table__).where(
                FuelDelivery.id == ver.target_id)).first()
            if d is not None and sl.start <= d.delivered_on < sl.end:
                q = d.quantity * units.factor(d.unit, s.unit)
            record = {"table": "fuel_deliveries", "id": ver.target_id,
                      "url": f"/api/fuel-deliveries/{ver.target_id}"}
        elif e.kind == "production" and ver.target_id is not None:
            from nengtan.store.models import ProductionRecord
            r = conn.execute(select(ProductionRecord.__table__).where(
                ProductionRecord.id == ver.target_id)).first()
            if r is not None:
                share = _overlap_share(r.period_start, r.period_end, sl.start, sl.end)
                q = r.quantity * units.factor(r.unit, s.unit) * share
            record = {"table": "production_records", "id": ver.target_id,
                      "url": f"/api/production/{ver.target_id}"}
        act.quantity += q
        item = {"kind": "manual_entry", "manual_entry": e.id, "version": ver.version,
                "quantity": q, "quantity_unit": s.unit, "record": record,
                "url": f"/api/manual-entries/{e.id}"}
        if first:
            files = _evidence_of_versions(conn, [ver.id]).get(ver.id, [])
            item.update(_entry_dict(e, ver, files))
        act.links.append(item)

    def _production(self, s, lk, sl: Period, act: Activity) -> None:
        conn = self.conn
        product = conn.execute(select(Product.code, Product.unit).where(
            Product.id == lk.product_id)).first()
        # output of the organisational boundary (the facility only places the source)
        node_id = s.node_id
        rows = energy_totals.production(conn, node_id, sl, product.code)
        output = sum(r["output"] for r in rows)
        records = sum(r["records"] for r in rows)
        q = output * units.factor(product.unit, s.unit)
        act.quantity += q
        node = conn.execute(select(Node.code).where(Node.id == node_id)).scalar()
        act.links.append({"kind": "production", "product": product.code, "node": node,
                          "output": output, "unit": product.unit, "quantity": q,
                          "quantity_unit": s.unit, "records": records,
                          "prorated_records": sum(r["prorated_records"] for r in rows),
                          "url": (f"/api/production?node={node}&product={product.code}"
                                  f"&from={sl.start}&to={sl.end - timedelta(days=1)}")})
        if not records:
            act.warnings.append({"rule": "inv_production_none", "source": s.code,
                                 "product": product.code})

    def _cems(self, s, lk, sl: Period, act: Activity) -> None:
        from nengtan.carbon import cems as cems_engine
        from nengtan.services import cems

        conn = self.conn
        monitor = conn.execute(select(CemsMonitor).where(
            CemsMonitor.id == lk.cems_monitor_id)).first()
        tz = cems.monitor_tz(conn, monitor.id)
        lo, hi = cems.expected_hours(monitor, local_midnight_us(sl.start, tz),
                                     local_midnight_us(sl.end, tz))
        summary = cems_engine.summarise(cems.stored_hours(conn, monitor.id, lo, hi))
        q = summary.co2_t * units.factor("t", s.unit)
        act.quantity += q
        act.coverage = min(act.coverage, (summary.data_capture_pct or 0.0) / 100.0
                           if summary.hours else 0.0)
        act.links.append({"kind": "cems", "monitor": monitor.code, "monitor_id": monitor.id,
                          "co2_t": summary.co2_t, "quantity": q, "quantity_unit": s.unit,
                          "summary": summary.as_dict(),
                          "hours": (f"/api/cems/monitors/{monitor.id}/hours"
                                    f"?start={sl.start}&end={sl.end}"),
                          "method": cems.lineage(monitor)})
        if not summary.valid_hours:
            act.warnings.append({"rule": "inv_cems_no_data", "source": s.code,
                                 "monitor": monitor.code})

    def _value(self, s, lk, sl: Period, act: Activity) -> None:
        if lk.period_start is not None:
            share = _overlap_share(lk.period_start, lk.period_end, sl.start, sl.end)
        else:
            p = self.period
            share = _overlap_share(p.start, p.end - timedelta(days=1), sl.start, sl.end)
        target = "MWh" if lk.kind == "green_certificate" else s.unit
        q = lk.value * units.factor(lk.unit, target) * share * (lk.sign or 1)
        if lk.kind == "green_certificate":
            act.green_mwh += q
        else:
            act.quantity += q
        item = {"kind": lk.kind, "value": lk.value, "unit": lk.unit, "share": share,
                "quantity": q, "quantity_unit": target, "source": lk.source,
                "reference": lk.reference, "sign": lk.sign,
                "period_start": lk.period_start.isoformat() if lk.period_start else None,
                "period_end": lk.period_end.isoformat() if lk.period_end else None}
        if lk.evidence_id is not None:
            ev = self.conn.execute(select(EvidenceFile.__table__).where(
                EvidenceFile.id == lk.evidence_id)).first()
            item["evidence"] = [evidence_dict(ev)]
        act.links.append(item)
