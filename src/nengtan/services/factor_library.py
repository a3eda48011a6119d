"""Emission factor library in the database: versioned datasets, user values, selection
(issue 5, item 1).  The selection rules themselves are the pure :class:`nengtan.carbon.factors.Library`.

* **Shipped datasets** (``factor_datasets.origin = shipped``) are built from the reference
  files by :func:`nengtan.reference.carbon.shipped_datasets` and loaded on first use
  (:func:`ensure_loaded`).  Loading is idempotent; a dataset whose shipped content changed in a
  new nengtan release gets a new version holding all its values (new rows); nothing is edited.
* **User datasets** are posted with their values (:func:`create_dataset`); posting an existing
  code makes its next version (complete: the values of the new version replace the old ones
  for selection; the old version stays readable).  A user dataset belongs to the installation
  or to one tenant (enterprise or park).  Shipped codes are not writable: a user's own dataset
  takes precedence over the shipped values anyway.
* **Selection** (:func:`lookup`): the current version of every dataset → a ``Library`` for an
  inventory's year, region, GWP set, grid basis and tenant.  Value ids in lineage are the
  database ids of ``factor_values`` (as strings); old ids stay resolvable.
* **Ledger** — :func:`digest` is the SHA-256 of the canonical JSON of a stored value, the
  record kind ``factor_value`` of the evidence ledger.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from nengtan import reference
from nengtan.carbon import factors as lib
from nengtan.carbon.model import GWP_SETS
from nengtan.errors import InputError, Issue, NotFound
from nengtan.reference import carbon as shipped
from nengtan.services.fields import FieldSpec, coerce_record
from nengtan.store import meta
from nengtan.store.models import Node
from nengtan.store.models.factors import FactorDataset, FactorValueRow

META_KEY = "factor_library"
#: Bump when the mapping of reference rows to factor values changes (forces a re-check).
LOADER_VERSION = "1"
LEDGER_KIND = "factor_value"
STATUSES = ("verified", "unverified", "measured", "user")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")
#: Fields that make a value's content (compared between versions, hashed for the ledger).
CONTENT = ("parameter", "subject", "gwp_set", "value", "unit", "document", "clause", "year",
           "region", "valid_from", "valid_to", "status", "note")

DATASET_FIELDS = [
    FieldSpec("code", "str", "数据集编码", "code", required=True, max_length=100,
              help_en="letters, digits and . _ : -; an existing code gets a new version"),
    FieldSpec("title", "str", "名称", "title", required=True, max_length=300),
    FieldSpec("document", "str", "依据文件", "document", max_length=500,
              help_en="main document; the default document of its values"),
    FieldSpec("tenant", "str", "企业（或园区）编码", "enterprise or park code", ref="node",
              max_length=64, help_en="empty: the values apply to every tenant"),
    FieldSpec("note", "str", "备注", "note"),
    FieldSpec("created_by", "str", "创建人", "created by", max_length=100),
]
VALUE_FIELDS = [
    FieldSpec("parameter", "choice", "参数", "parameter", required=True,
              choices=tuple(lib.PARAMETERS),
              help_en="ncv GJ/unit; carbon_content tC/TJ; oxidation_rate fraction; "
                      "emission_factor t gas/unit; grid_factor tCO2/MWh; heat_factor tCO2/GJ; "
                      "process_factor tCO2/t; gwp tCO2e/t"),
    FieldSpec("subject", "str", "对象", "subject", required=True, max_length=100,
              help_en="carrier code, material, gas, or electricity / electricity_ets / "
                      "electricity_lca for grid factors; <carrier>:<gas> for non-CO2 "
                      "combustion factors"),
    FieldSpec("value", "float", "数值", "value", required=True, minimum=0),
    FieldSpec("unit", "str", "单位", "unit", required=True, max_length=40,
              help_en="e.g. GJ/t, GJ/10^4 Nm3, tC/TJ, fraction, tCO2/t, tCO2/MWh, t/TJ"),
    FieldSpec("document", "str", "依据文件", "document", max_length=500,
              help_en="default: the dataset's document"),
    FieldSpec("clause", "str", "条款", "clause", max_length=300),
    FieldSpec("year", "int", "年份", "year", minimum=1900, maximum=2200),
    FieldSpec("region", "str", "地区", "region", max_length=40,
              help_en="province code (shandong) or name (山东); empty: national"),
    FieldSpec("valid_from", "date", "生效日期", "valid from"),
    FieldSpec("valid_to", "date", "失效日期", "valid to", help_en="exclusive; empty: open"),
    FieldSpec("status", "choice", "核实状态", "status", default="unverified",
              choices=STATUSES),
    FieldSpec("gwp_set", "choice", "GWP 版本", "GWP set", choices=GWP_SETS,
              help_en="gwp values only: SAR, AR4, AR5 or AR6"),
    FieldSpec("note", "str", "备注", "note"),
]


def _now() -> datetime:
    return datetime.now(ZoneInfo("UTC"))


# -- shipped datasets ----------------------------------------------------------------------
def _shipped_digest() -> str:
    h = hashlib.sha256(f"{reference.DATASET_VERSION}/{LOADER_VERSION}".encode())
    for ds in shipped.shipped_datasets():
        h.update(ds.sha256.encode())
    return h.hexdigest()


def _content(obj) -> dict:
    get = obj.get if isinstance(obj, dict) else (lambda k: getattr(obj, k))
    out = {k: get(k) for k in CONTENT}
    for k in ("valid_from", "valid_to"):
        if out[k] is not None:
            out[k] = out[k].isoformat()
    out["value"] = float(out["value"])
    return out


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def _value_rows(values) -> dict[str, dict]:
    out = {}
    for v in values:
        key = shipped.value_key(v.parameter, v.subject, v.gwp_set, v.region, v.year)
        out[key] = {k: getattr(v, k) for k in CONTENT}
    return out


def ensure_loaded(conn: Connection) -> dict:
    """Load the shipped factor datasets unless this database has them at this version.

    Returns ``{"inserted": datasets new to the database, "new_versions": datasets whose
    content changed, "skipped": bool}``.  Never updates a row.
    """
    _register_with_ledger()
    digest = _shipped_digest()
    if meta.get(conn, META_KEY) == digest:
        return {"inserted": 0, "new_versions": 0, "skipped": True}
    inserted = new_versions = 0
    for ds in shipped.shipped_datasets():
        rows = _value_rows(ds.values)
        latest = conn.execute(select(FactorDataset).where(FactorDataset.code == ds.code)
                              .order_by(FactorDataset.version.desc()).limit(1)).first()
        if latest is not None:
            old = {r.key: _content(r) for r in conn.execute(
                select(FactorValueRow).where(FactorValueRow.dataset_id == latest.id))}
            new = {k: _content(v) for k, v in rows.items()}
            if _canonical(old) == _canonical(new) and latest.title == ds.title \
                    and latest.document == ds.document:
                continue
        version = latest.version + 1 if latest is not None else 1
        try:
            with conn.begin_nested():
                dataset_id = conn.execute(insert(FactorDataset).values(
                    code=ds.code, version=version, title=ds.title, document=ds.document,
                    origin="shipped", tenant_id=None,
                    reference_version=reference.DATASET_VERSION, content_sha256=ds.sha256,
                    created_by="nengtan", created_at=_now())
                    .returning(FactorDataset.id)).scalar_one()
                conn.execute(insert(FactorValueRow), [
                    {**row, "key": key, "dataset_id": dataset_id} for key, row in rows.items()])
        except IntegrityError:
            # another process loaded the same version at the same moment
            continue
        if latest is None:
            inserted += 1
        else:
            new_versions += 1
    meta.put(conn, META_KEY, digest)
    return {"inserted": inserted, "new_versions": new_versions, "skipped": False}


# -- reading --------------------------------------------------------------------------------
_V = FactorValueRow.__table__
_D = FactorDataset.__table__


def _joined():
    """Values with their dataset's columns (prefixed ``ds_``): split rows with :func:`_split`."""
    return select(_V, *[c.label(f"ds_{c.name}") for c in _D.c]).join_from(
        _V, _D, _V.c.dataset_id == _D.c.id)


def _split(r) -> tuple[SimpleNamespace, SimpleNamespace]:
    m = r._mapping
    row = SimpleNamespace(**{c.name: m[c.name] for c in _V.c})
    ds = SimpleNamespace(**{c.name: m[f"ds_{c.name}"] for c in _D.c})
    return row, ds


def _current_datasets():
    latest = (select(FactorDataset.code, func.max(FactorDataset.version).label("v"))
              .group_by(FactorDataset.code).subquery())
    return latest, and_(FactorDataset.code == latest.c.code,
                        FactorDataset.version == latest.c.v)


def to_value(row, ds) -> lib.LibraryValue:
    """A stored value as a library value (id = the row id as text)."""
    return lib.LibraryValue(
        id=str(row.id), dataset=ds.code, version=ds.version, parameter=row.parameter,
        subject=row.subject, value=row.value, unit=row.unit, document=row.document,
        status=row.status, clause=row.clause, year=row.year, region=row.region,
        valid_from=row.valid_from, valid_to=row.valid_to, note=row.note, gwp_set=row.gwp_set,
        origin=ds.origin, tenant_id=ds.tenant_id)


def lookup(conn: Connection, year: int | None = None, region: str | None = None,
           gwp_set: str = "AR5", *, tenant_id: int | None = None,
           grid_basis: str = "general") -> lib.Library:
    """The library for an inventory: the current version of every shipped dataset, of the
    installation's user datasets and of ``tenant_id``'s own datasets (other tenants' values
    are never used).  ``grid_basis``: general, ets or lca (see
    :func:`nengtan.carbon.factors.grid_basis_for` for the default by industry)."""
    ensure_loaded(conn)
    latest, cond = _current_datasets()
    tiers: dict[str, list] = {"tenant": [], "installation": [], "shipped": []}
    query = (_joined().join(latest, cond)
             .order_by(FactorDataset.created_at, FactorDataset.id, FactorValueRow.id))
    query = query.where(or_(FactorDataset.tenant_id.is_(None),
                            FactorDataset.tenant_id == tenant_id) if tenant_id is not None
                        else FactorDataset.tenant_id.is_(None))
    for row, ds in map(_split, conn.execute(query)):
        if ds.origin == "shipped":
            tier = "shipped"
        elif ds.tenant_id is None:
            tier = "installation"
        else:
            tier = "tenant"
        tiers[tier].append(to_value(row, ds))
    return lib.Library(tiers["shipped"], year, region, gwp_set,
                       installation=tiers["installation"], tenant=tiers["tenant"],
                       grid_basis=grid_basis)


def _tenant_codes(conn: Connection, ids) -> dict[int, str]:
    ids = [i for i in set(ids) if i is not None]
    if not ids:
        return {}
    return dict(conn.execute(select(Node.id, Node.code).where(Node.id.in_(ids))).all())


def _max_versions(conn: Connection, codes) -> dict[str, int]:
    codes = list(set(codes))
    if not codes:
        return {}
    return dict(conn.execute(select(FactorDataset.code, func.max(FactorDataset.version))
                             .where(FactorDataset.code.in_(codes))
                             .group_by(FactorDataset.code)).all())


def dataset_dict(ds, current_version: int | None = None, tenant: str | None = None,
                 n_values: int | None = None) -> dict:
    return {"id": ds.id, "code": ds.code, "version": ds.version, "title": ds.title,
            "document": ds.document, "origin": ds.origin, "tenant": tenant,
            "tenant_id": ds.tenant_id, "reference_version": ds.reference_version,
            "content_sha256": ds.content_sha256, "note": ds.note,
            "created_by": ds.created_by, "created_at": ds.created_at,
            "current": current_version is None or ds.version == current_version,
            "values_count": n_values}


def value_dict(row, ds, current_version: int | None = None) -> dict:
    out = {"id": row.id, "key": row.key, "dataset": ds.code, "dataset_id": ds.id,
           "version": ds.version, "origin": ds.origin, "tenant_id": ds.tenant_id,
           "current": current_version is None or ds.version == current_version}
    out.update({k: getattr(row, k) for k in CONTENT})
    return out


def list_values(conn: Connection, parameter: str | None = None, subject: str | None = None,
                region: str | None = None, year: int | None = None,
                dataset: str | None = None, status: str | None = None,
                all_versions: bool = False, limit: int = 100,
                offset: int = 0) -> tuple[list[dict], int]:
    """Values of the current dataset versions (every version with ``all_versions``) matching
    the filters, by dataset, version and id.  ``region`` matches after normalisation
    (山东 = shandong; national also matches values without a region); ``year`` matches the
    value's year exactly."""
    ensure_loaded(conn)
    query = _joined()
    if not all_versions:
        latest, cond = _current_datasets()
        query = query.join(latest, cond)
    if parameter:
        query = query.where(FactorValueRow.parameter == parameter)
    if subject:
        query = query.where(FactorValueRow.subject == subject)
    if region:
        code = lib.normalize_region(region)
        query = query.where(FactorValueRow.region == code if code != lib.NATIONAL else
                            or_(FactorValueRow.region == code, FactorValueRow.region.is_(None)))
    if year is not None:
        query = query.where(FactorValueRow.year == year)
    if dataset:
        query = query.where(FactorDataset.code == dataset)
    if status:
        query = query.where(FactorValueRow.status == status)
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar() or 0
    rows = [_split(r) for r in conn.execute(
        query.order_by(FactorDataset.code, FactorDataset.version, FactorValueRow.id)
        .limit(limit).offset(offset))]
    current = _max_versions(conn, [ds.code for _, ds in rows])
    return [value_dict(r, ds, current.get(ds.code)) for r, ds in rows], int(total)


def _resolve_id(conn: Connection, factor_id) -> int | None:
    """Row id of ``factor_id``: a database id (int or digits) or a shipped id
    ``shipped:<dataset>:<key>`` (the current shipped version's value with that key)."""
    text = str(factor_id).strip()
    if text.isdigit():
        return int(text)
    if text.startswith("shipped:"):
        parts = text.split(":", 2)
        if len(parts) != 3:
            return None
        _, code, key = parts
        return conn.execute(
            select(FactorValueRow.id)
            .join(FactorDataset, FactorValueRow.dataset_id == FactorDataset.id)
            .where(FactorDataset.code == code, FactorDataset.origin == "shipped",
                   FactorValueRow.key == key)
            .order_by(FactorDataset.version.desc()).limit(1)).scalar()
    return None


def _row(conn: Connection, factor_id):
    ensure_loaded(conn)
    rid = _resolve_id(conn, factor_id)
    found = None if rid is None else conn.execute(
        _joined().where(FactorValueRow.id == rid)).first()
    if found is None:
        raise NotFound("factor value", factor_id)
    return _split(found)


def get_value(conn: Connection, factor_id) -> lib.LibraryValue:
    """A stored value (any version) as a library value; NotFound otherwise."""
    row, ds = _row(conn, factor_id)
    return to_value(row, ds)


def value_detail(conn: Connection, factor_id) -> dict:
    """A value with its dataset and its history: the same key in every version of the
    dataset (``value`` None in a version that dropped it)."""
    row, ds = _row(conn, factor_id)
    versions = conn.execute(select(FactorDataset).where(FactorDataset.code == ds.code)
                            .order_by(FactorDataset.version)).all()
    by_dataset = {r.dataset_id: r for r in conn.execute(
        select(FactorValueRow).where(FactorValueRow.key == row.key,
                                     FactorValueRow.dataset_id.in_([d.id for d in versions])))}
    history = []
    for d in versions:
        r = by_dataset.get(d.id)
        history.append({"version": d.version, "dataset_id": d.id, "created_at": d.created_at,
                        "id": r.id if r else None, "value": r.value if r else None,
                        "unit": r.unit if r else None, "status": r.status if r else None})
    tenant = _tenant_codes(conn, [ds.tenant_id]).get(ds.tenant_id)
    return {**value_dict(row, ds, versions[-1].version),
            "dataset_info": dataset_dict(ds, versions[-1].version, tenant),
            "lineage": to_value(row, ds).lineage(), "history": history,
            "sha256": digest_row(row, ds).hex()}


# -- datasets -------------------------------------------------------------------------------
def list_datasets(conn: Connection, origin: str | None = None, tenant: str | None = None,
                  all_versions: bool = False) -> list[dict]:
    """Datasets (current versions unless ``all_versions``) by code and version."""
    ensure_loaded(conn)
    query = select(FactorDataset)
    if not all_versions:
        latest, cond = _current_datasets()
        query = query.join(latest, cond)
    if origin:
        query = query.where(FactorDataset.origin == origin)
    if tenant:
        tid = _tenant_id(conn, tenant)
        query = query.where(FactorDataset.tenant_id == tid)
    rows = conn.execute(query.order_by(FactorDataset.code, FactorDataset.version)).all()
    counts = dict(conn.execute(select(FactorValueRow.dataset_id, func.count())
                               .where(FactorValueRow.dataset_id.in_([r.id for r in rows]))
                               .group_by(FactorValueRow.dataset_id)).all()) if rows else {}
    current = _max_versions(conn, [r.code for r in rows])
    tenants = _tenant_codes(conn, [r.tenant_id for r in rows])
    return [dataset_dict(r, current.get(r.code), tenants.get(r.tenant_id), counts.get(r.id, 0))
            for r in rows]


def dataset_detail(conn: Connection, code: str, version: int | None = None) -> dict:
    """A dataset version with its values, every version number, and the changes from the
    previous version (keys added, removed and changed)."""
    ensure_loaded(conn)
    versions = conn.execute(select(FactorDataset).where(FactorDataset.code == code)
                            .order_by(FactorDataset.version)).all()
    if not versions:
        raise NotFound("factor dataset", code)
    chosen = versions[-1] if version is None else next(
        (d for d in versions if d.version == version), None)
    if chosen is None:
        raise NotFound("factor dataset", f"{code} v{version}")
    rows = conn.execute(select(FactorValueRow).where(FactorValueRow.dataset_id == chosen.id)
                        .order_by(FactorValueRow.id)).all()
    previous = next((d for d in reversed(versions) if d.version < chosen.version), None)
    changes = None
    if previous is not None:
        old = {r.key: _content(r) for r in conn.execute(
            select(FactorValueRow).where(FactorValueRow.dataset_id == previous.id))}
        new = {r.key: _content(r) for r in rows}
        changes = {"from_version": previous.version,
                   "added": sorted(set(new) - set(old)),
                   "removed": sorted(set(old) - set(new)),
                   "changed": sorted(k for k in set(new) & set(old)
                                     if _canonical(new[k]) != _canonical(old[k]))}
    tenant = _tenant_codes(conn, [chosen.tenant_id]).get(chosen.tenant_id)
    last = versions[-1].version
    return {**dataset_dict(chosen, last, tenant, len(rows)),
            "versions": [d.version for d in versions],
            "values": [value_dict(r, chosen, last) for r in rows], "changes": changes}


def _tenant_id(conn: Connection, code: str, issues: list | None = None) -> int | None:
    tid = conn.execute(select(Node.id).where(Node.code == code)).scalar()
    if tid is None:
        issue = Issue("rule.ref_unknown", field="tenant", value=code, params={"ref": "node"})
        if issues is None:
            raise InputError([issue])
        issues.append(issue)
    return tid


def _check_values(raw, default_document: str | None) -> tuple[dict[str, dict], list[Issue]]:
    """Coerce and check the values of a posted dataset; keyed by value key.  Rows are the
    0-based index in ``values``."""
    issues: list[Issue] = []
    if not isinstance(raw, list) or not raw:
        return {}, [Issue("rule.factor_values_required", field="values", value=None)]
    out: dict[str, dict] = {}
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            issues.append(Issue("rule.type_object", row=i, field="values", value=None))
            continue
        try:
            v = coerce_record(VALUE_FIELDS, item, row=i)
        except InputError as exc:
            issues.extend(exc.issues)
            continue
        if not math.isfinite(v["value"]):
            issues.append(Issue("rule.type_float", row=i, field="value", value=v["value"]))
        if v["document"] is None:
            v["document"] = default_document
            if v["document"] is None:
                issues.append(Issue("rule.factor_document", row=i, field="document"))
        if v["parameter"] == "gwp":
            if v["gwp_set"] is None:
                issues.append(Issue("rule.factor_gwp_set", row=i, field="gwp_set"))
        elif v["gwp_set"] is not None:
            issues.append(Issue("rule.factor_gwp_set_only", row=i, field="gwp_set",
                                value=v["gwp_set"]))
        if v["parameter"] == "oxidation_rate" and v["value"] > 1:
            issues.append(Issue("rule.factor_fraction", row=i, field="value", value=v["value"]))
        if v["valid_from"] and v["valid_to"] and v["valid_to"] <= v["valid_from"]:
            issues.append(Issue("rule.factor_validity", row=i, field="valid_to",
                                value=v["valid_to"]))
        if v["region"] is not None:
            v["region"] = lib.normalize_region(v["region"])
        key = shipped.value_key(v["parameter"], v["subject"], v["gwp_set"], v["region"],
                                v["year"])
        if v["valid_from"] is not None:
            key += f":from={v['valid_from'].isoformat()}"
        if key in out:
            issues.append(Issue("rule.factor_duplicate", row=i, field="subject",
                                value=v["subject"], params={"value_key": key}))
            continue
        out[key] = {k: v[k] for k in CONTENT}
    return out, issues


def create_dataset(conn: Connection, payload: dict) -> tuple[dict, bool]:
    """A new user dataset, or the next version of ``code``, with its values; returns
    ``(detail, created)``.  Values identical to the current version create nothing."""
    ensure_loaded(conn)
    payload = dict(payload or {})
    raw_values = payload.pop("values", None)
    issues: list[Issue] = []
    try:
        data = coerce_record(DATASET_FIELDS, payload)
    except InputError as exc:
        issues.extend(exc.issues)
        data = None
    values, value_issues = _check_values(raw_values, data["document"] if data else None)
    issues.extend(value_issues)
    if data is None:
        raise InputError(issues)
    code = data["code"]
    shipped_codes = {ds.code for ds in shipped.shipped_datasets()}
    if not _CODE.match(code):
        issues.append(Issue("rule.factor_dataset_code", field="code", value=code))
    elif code in shipped_codes or conn.execute(
            select(FactorDataset.id).where(FactorDataset.code == code,
                                           FactorDataset.origin == "shipped")).first():
        issues.append(Issue("rule.factor_dataset_shipped", field="code", value=code))
    tenant_id = _tenant_id(conn, data["tenant"], issues) if data["tenant"] else None
    current = conn.execute(select(FactorDataset).where(FactorDataset.code == code)
                           .order_by(FactorDataset.version.desc()).limit(1)).first()
    tenant_known = not data["tenant"] or tenant_id is not None
    if current is not None and tenant_known and current.tenant_id != tenant_id:
        # the tenant is part of a dataset's identity: its versions cannot move between tenants
        issues.append(Issue("rule.factor_dataset_tenant", field="tenant", value=data["tenant"]))
    if issues:
        raise InputError(issues)
    if current is not None:
        old = {r.key: _content(r) for r in conn.execute(
            select(FactorValueRow).where(FactorValueRow.dataset_id == current.id))}
        new = {k: _content(v) for k, v in values.items()}
        if _canonical(old) == _canonical(new) and current.title == data["title"] \
                and current.document == data["document"]:
            return dataset_detail(conn, code), False
    version = current.version + 1 if current is not None else 1
    dataset_id = conn.execute(insert(FactorDataset).values(
        code=code, version=version, title=data["title"], document=data["document"],
        origin="user", tenant_id=tenant_id, note=data["note"],
        created_by=data["created_by"], created_at=_now())
        .returning(FactorDataset.id)).scalar_one()
    conn.execute(insert(FactorValueRow), [{**v, "key": k, "dataset_id": dataset_id}
                                          for k, v in values.items()])
    return dataset_detail(conn, code), True


# -- selection and GWPs ---------------------------------------------------------------------
def select_value(conn: Connection, parameter: str, subject: str, year: int | None = None,
                 region: str | None = None, gwp_set: str = "AR5",
                 tenant: str | None = None, grid_basis: str = "general") -> dict:
    """What an inventory of ``year`` in ``region`` would use for ``parameter`` and
    ``subject``, the rule that chose it, and every candidate with the reason it was or was
    not eligible."""
    issues: list[Issue] = []
    if parameter not in lib.PARAMETERS:
        issues.append(Issue("rule.choice", field="parameter", value=parameter,
                            params={"choices": ", ".join(lib.PARAMETERS)}))
    tenant_id = _tenant_id(conn, tenant, issues) if tenant else None
    if issues:
        raise InputError(issues)
    library = lookup(conn, year, region, gwp_set, tenant_id=tenant_id, grid_basis=grid_basis)
    selection = library.select(parameter, subject)
    chosen = selection.value.id if selection.value else None
    candidates = [{**c, "chosen": c["id"] == chosen}
                  for c in library.candidates(parameter, subject)]
    return {**selection.as_dict(), "settings": library.settings(), "candidates": candidates}


def gwp_table(conn: Connection, gwp_set: str = "AR5", tenant: str | None = None) -> dict:
    """Every gas's GWP-100 in ``gwp_set`` as the library would choose it."""
    tenant_id = _tenant_id(conn, tenant) if tenant else None
    library = lookup(conn, None, None, gwp_set, tenant_id=tenant_id)
    gases = []
    for v in library.values():
        if v.parameter == "gwp" and v.subject not in gases:
            gases.append(v.subject)
    rows = []
    for gas in gases:
        chosen = library.gwp(gas)
        if chosen is not None:
            rows.append({"gas": gas, "value": chosen.value, "unit": chosen.unit,
                         "factor_id": chosen.id, "document": chosen.document,
                         "clause": chosen.clause, "status": chosen.status,
                         "tier": chosen.tier, "lineage": chosen.lineage()})
    return {"gwp_set": library.gwp_set, "unit": "tCO2e/t", "values": rows}


# -- ledger ----------------------------------------------------------------------------------
def digest_row(row, ds) -> bytes:
    record = {"id": row.id, "key": row.key, "dataset": ds.code, "dataset_id": ds.id,
              "version": ds.version, "origin": ds.origin, "tenant_id": ds.tenant_id,
              **_content(row)}
    return hashlib.sha256(_canonical(record).encode("utf-8")).digest()


def digest(conn: Connection, factor_id) -> bytes | None:
    """SHA-256 of the canonical JSON of the stored value ``factor_id`` (and its dataset's
    code, version, origin and tenant), or None when no such value is stored: the record
    kind ``factor_value`` of the evidence ledger."""
    rid = _resolve_id(conn, factor_id)
    if rid is None:
        return None
    found = conn.execute(_joined().where(FactorValueRow.id == rid)).first()
    return None if found is None else digest_row(*_split(found))


def digest_many(conn: Connection, keys: list[str]) -> dict[str, bytes | None]:
    """:func:`digest` of many values at once (the ledger's bulk recompute)."""
    out: dict[str, bytes | None] = {}
    ids = {int(k): k for k in keys if str(k).strip().isdigit()}
    for chunk in _chunks(sorted(ids), 500):
        for r in conn.execute(_joined().where(FactorValueRow.id.in_(chunk))):
            row, ds = _split(r)
            out[ids[row.id]] = digest_row(row, ds)
    for k in keys:
        if k not in out:
            out[k] = None if str(k).strip().isdigit() else digest(conn, k)
    return out


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


_registered = False


def _register_with_ledger() -> None:
    """Register :func:`digest` with the ledger service, when it exists (imported lazily: the
    ledger does not depend on the factor library)."""
    global _registered
    if _registered:
        return
    try:
        from nengtan.services import ledger
    except ImportError:
        return
    register = getattr(ledger, "register", None)
    if register is None:
        return
    register(LEDGER_KIND, digest, bulk=digest_many)
    _registered = True


_register_with_ledger()
