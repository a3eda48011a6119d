"""Energy accounting parameters: equal-value coefficients, user coefficients and NCVs.

Recording is append-only: a new value for the same kind, carrier and tenant is a new row (a
new version) that takes precedence from its ``valid_from``; nothing is overwritten, so a
figure computed last year can still say which value it used (``energy_parameter:<id>``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan import units
from nengtan.errors import InputError, Issue, NotFound
from nengtan.services.fields import FieldSpec, coerce_record
from nengtan.store.models import Carrier, Node
from nengtan.store.models.energy import PARAMETER_KINDS, EnergyParameter

FIELDS = [
    FieldSpec("kind", "choice", "参数类型", "kind", required=True, choices=PARAMETER_KINDS,
              help_en="equal_value: kgce/kWh of grid electricity (等价值); coefficient: kgce per "
                      "carrier unit; ncv: MJ per carrier unit (net calorific value, or the "
                      "enthalpy of steam counted as heat)"),
    FieldSpec("carrier", "str", "能源品种", "carrier code", ref="carrier"),
    FieldSpec("tenant", "str", "企业（或园区）编码", "enterprise or park code", ref="node",
              help_en="empty: applies to every tenant"),
    FieldSpec("value", "float", "数值", "value", required=True, exclusive_minimum=0),
    FieldSpec("unit", "str", "单位", "unit", max_length=30,
              help_en="kgce/kWh, kgce/<unit> or MJ/<unit> (GJ/t, kJ/kg ... accepted for ncv); "
                      "default: the carrier's unit"),
    FieldSpec("valid_from", "date", "生效日期", "valid from", required=True),
    FieldSpec("valid_to", "date", "失效日期", "valid to", help_en="exclusive; empty: open"),
    FieldSpec("source", "str", "来源", "source", required=True,
              help_en="document, clause, lab report or statistics bulletin"),
    FieldSpec("status", "choice", "核实状态", "status", default="unverified",
              choices=("verified", "unverified", "measured")),
    FieldSpec("note", "str", "备注", "note"),
]


def record(session: Session, payload: dict, created_by: str | None = None,
           row: int | None = None) -> EnergyParameter:
    """Record a parameter (a new version; older values stay)."""
    data = coerce_record(FIELDS, payload, row)
    issues: list[Issue] = []
    kind = data["kind"]
    carrier = None
    if data.get("carrier"):
        carrier = session.get(Carrier, data["carrier"])
        if carrier is None:
            issues.append(Issue("rule.ref_unknown", row=row, field="carrier",
                                value=data["carrier"], params={"ref": "carrier"}))
    elif kind != "equal_value":
        issues.append(Issue("rule.energy_parameter_carrier", row=row, field="carrier",
                            params={"kind": kind}))
    tenant_id = None
    if data.get("tenant"):
        node = session.scalar(select(Node).where(Node.code == data["tenant"]))
        if node is None:
            issues.append(Issue("rule.ref_unknown", row=row, field="tenant",
                                value=data["tenant"], params={"ref": "node"}))
        else:
            tenant_id = node.tenant_id
    if data.get("valid_to") and data["valid_to"] <= data["valid_from"]:
        issues.append(Issue("rule.date_order", row=row, field="valid_to", value=data["valid_to"]))
    unit = (data.get("unit") or "").replace(" ", "")
    if kind == "equal_value":
        unit = unit or "kgce/kWh"
        if unit != "kgce/kWh":
            issues.append(Issue("rule.energy_parameter_unit", row=row, field="unit", value=unit,
                                params={"expected": "kgce/kWh"}))
    elif carrier is not None:
        head = "kgce" if kind == "coefficient" else "MJ"
        unit = unit or f"{head}/{carrier.unit}"
        num, _, den = unit.partition("/")
        try:
            ok = bool(den) and units.get_unit(den).dimension == units.get_unit(
                carrier.unit).dimension and (num == "kgce" if kind == "coefficient"
                                             else units.get_unit(num).dimension == "energy")
        except units.UnitError:
            ok = False
        if not ok:
            issues.append(Issue("rule.energy_parameter_unit", row=row, field="unit", value=unit,
                                params={"expected": f"{head}/{carrier.unit}"}))
    if issues:
        raise InputError(issues)
    param = EnergyParameter(
        tenant_id=tenant_id, kind=kind, carrier_code=carrier.code if carrier else None,
        value=data["value"], unit=unit, valid_from=data["valid_from"],
        valid_to=data.get("valid_to"), source=data["source"], status=data["status"],
        note=data.get("note"), created_by=created_by)
    session.add(param)
    session.flush()
    return param


def get(session: Session, param_id: int) -> EnergyParameter:
    p = session.get(EnergyParameter, param_id)
    if p is None:
        raise NotFound("energy_parameter", param_id)
    return p


def as_dict(p: EnergyParameter, tenant_codes: dict[int, str] | None = None) -> dict:
    return {"id": p.id, "kind": p.kind, "carrier": p.carrier_code,
            "tenant": (tenant_codes or {}).get(p.tenant_id) if p.tenant_id else None,
            "tenant_id": p.tenant_id, "value": p.value, "unit": p.unit,
            "valid_from": p.valid_from, "valid_to": p.valid_to, "source": p.source,
            "status": p.status, "note": p.note, "created_by": p.created_by,
            "created_at": p.created_at}


def tenant_codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Node.id, Node.code)).all())


def listing(session: Session, kind: str | None = None, carrier: str | None = None) -> list[dict]:
    q = select(EnergyParameter)
    if kind:
        q = q.where(EnergyParameter.kind == kind)
    if carrier:
        q = q.where(EnergyParameter.carrier_code == carrier)
    codes = tenant_codes(session)
    return [as_dict(p, codes) for p in session.scalars(q.order_by(EnergyParameter.id))]


def library_listing(library) -> list[dict]:
    """Every carrier's coefficient in ``library`` with its provenance."""
    out = []
    for code in sorted(library.categories):
        coef = library.coefficient(code)
        out.append({"carrier": code, "category": library.category(code),
                    **(coef.lineage() if coef else {"kgce_per_unit": None, "method": None,
                                                    "note": "needs a measured NCV or a "
                                                            "coefficient parameter"})})
    return out
