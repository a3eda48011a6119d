"""Manual entry (手工填报): enter → submit → review (approve / reject), with versions.

A data clerk enters a record by hand — a meter reading, a production output, economic
output (产值/增加值) or a fuel delivery with its lab analysis — as an *entry*.  Nothing
reaches the tables the calculations read until a reviewer approves it, so only approved values
count.  Each entry keeps every version:

* ``draft`` → ``submitted`` → ``approved`` | ``rejected`` (a rejection needs a comment);
  a draft or submitted version can be ``withdrawn`` by whoever created or submitted it.
* A rejected, withdrawn or approved entry is corrected by a *revision*: a new version with the
  same entry number and ``version + 1``; earlier versions stay as they were, read-only.
* Approving version n+1 of an entry whose version m was approved writes the new values into
  the target and marks version m ``superseded``.  A revision with ``retract`` takes the approved
  values back out (the record is deleted; a reading is marked rejected) once it is approved.
* Four-eyes rule: the reviewer is neither who entered nor who submitted the version.
* An entry's ``status`` is that of its latest version, except ``retracted`` once an approved
  retraction has taken its values out.

The payload of each kind has exactly the fields of that record's import template, and it is
checked at create, at submit and again at approval by the target's own service (the same rules
and messages as the API and file imports), so a clerk learns of a bad value at once, with the
field and the rule.  On approval:

==============  ============================================================================
kind            target
==============  ============================================================================
reading         ``readings`` through :func:`nengtan.services.ingest.ingest`, source
                ``manual``, quality MANUAL, batch detail naming the entry and version; a
                changed value keeps the old one in ``reading_revisions``
production      ``production_records`` (:func:`production.upsert_production`)
economic        ``economic_records`` (:func:`production.upsert_economic`)
fuel_delivery   ``fuel_deliveries`` (:func:`production.add_fuel_delivery`); a later approved
                version updates the same delivery row
==============  ============================================================================

Every step is written to the audit log (:mod:`nengtan.services.audit`) with the user, the
time and the client address.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Select, and_, exists, select
from sqlalchemy.orm import Session

from nengtan.errors import InputError, Issue, NotFound
from nengtan.exchange.kinds import READING_FIELDS
from nengtan.quality.flags import Quality
from nengtan.services import audit, evidence, ingest, production
from nengtan.services.audit import Actor
from nengtan.services.fields import FieldSpec, coerce_record, to_utc
from nengtan.services.meter_specs import effective_timezones
from nengtan.store.base import utcnow
from nengtan.store.models import (
    EconomicRecord,
    FuelDelivery,
    Meter,
    Node,
    ProductionRecord,
    Reading,
)
from nengtan.store.models.manual import (
    ENTRY_KINDS,
    EvidenceFile,
    ManualEntry,
    ManualEntryEvidence,
    ManualEntryVersion,
)
from nengtan.store.types import to_us
from nengtan.timeseries.calendar import from_us

#: Fields of a manual reading: those of the readings template except ``quality``, which is
#: always MANUAL.
READING_ENTRY_FIELDS = [s for s in READING_FIELDS if s.name != "quality"]

FIELDS: dict[str, list[FieldSpec]] = {
    "reading": READING_ENTRY_FIELDS,
    "production": production.PRODUCTION_FIELDS,
    "economic": production.ECONOMIC_FIELDS,
    "fuel_delivery": production.FUEL_DELIVERY_FIELDS,
}
TARGET_TABLE = {"reading": "readings", "production": "production_records",
                "economic": "economic_records", "fuel_delivery": "fuel_deliveries"}
_RECORDS = {"production": (ProductionRecord, production.upsert_production),
            "economic": (EconomicRecord, production.upsert_economic),
            "fuel_delivery": (FuelDelivery, production.add_fuel_delivery)}
OPEN = ("draft", "submitted")
OBJECT = "manual_entry"
SOURCE = "manual"


# -- validation ----------------------------------------------------------------------------
def _in_payload(exc: InputError) -> InputError:
    """Issues of a single record as issues of the request's ``payload`` object."""
    return InputError([dataclasses.replace(
        i, row=None, field=f"payload.{i.field}" if i.field else "payload") for i in exc.issues])


def _reading(session: Session, payload: dict,
             reason: str | None) -> tuple[ingest.ReadingBatch, int]:
    """A one-row batch of quality MANUAL for a reading entry, and the meter's tenant; raises
    InputError with the same rules as ``POST /api/readings``."""
    data = coerce_record(READING_ENTRY_FIELDS, payload)
    conn = session.connection()
    meter = conn.execute(select(Meter.id, Meter.node_id, Meter.tenant_id)
                         .where(Meter.code == data["meter"])).first()
    if meter is None:
        raise InputError([Issue("rule.ref_unknown", field="meter", value=data["meter"],
                                params={"ref": "meter"})])
    tz = ZoneInfo(effective_timezones(conn, {meter.node_id})[meter.node_id])
    try:
        ts_us = to_us(to_utc(data["ts"], tz))
    except (OverflowError, ValueError):
        raise InputError([Issue("rule.ts_range", field="ts", value=str(data["ts"]))]) from None
    text = "; ".join(t for t in (reason, data.get("reason")) if t) or None
    batch = ingest.ReadingBatch(
        meter_id=np.array([meter.id], np.int64), ts=np.array([ts_us], np.int64),
        value=np.array([data["value"]], np.float64), quality=np.array([int(Quality.MANUAL)], np.int16),
        reason=np.array([text], object),
        unit=np.array([data["unit"]], object) if data.get("unit") else None,
        row=np.array([0], np.int64))
    ingest.check(conn, batch)
    return batch, int(meter.tenant_id)


def check(session: Session, kind: str, payload: object) -> int:
    """Validate ``payload`` for ``kind`` with the target's own rules, writing nothing.

    Returns the tenant id (enterprise or park) the record belongs to; raises InputError with
    issues whose ``field`` is ``payload.<field>``.
    """
    if kind not in ENTRY_KINDS:
        raise InputError([Issue("rule.choice", field="kind", value=kind,
                                params={"choices": ", ".join(ENTRY_KINDS)})])
    if not isinstance(payload, dict):
        raise InputError([Issue("rule.type_object", field="payload", value=None)])
    try:
        if kind == "reading":
            return _reading(session, payload, None)[1]
        # The target's service is the validator: run it inside a savepoint and undo it.
        savepoint = session.begin_nested()
        try:
            record = _RECORDS[kind][1](session, payload)
            return int(record.tenant_id)
        finally:
            savepoint.rollback()
    except InputError as exc:
        raise _in_payload(exc) from None


# -- loading -------------------------------------------------------------------------------
def get(session: Session, entry_id: int) -> ManualEntry:
    entry = session.get(ManualEntry, entry_id)
    if entry is None:
        raise NotFound("manual entry", entry_id)
    return entry


def versions(session: Session, entry: ManualEntry) -> list[ManualEntryVersion]:
    return list(session.scalars(select(ManualEntryVersion).where(
        ManualEntryVersion.entry_id == entry.id).order_by(ManualEntryVersion.version)))


def version(session: Session, entry: ManualEntry, number: int | None = None) -> ManualEntryVersion:
    number = entry.latest_version if number is None else number
    found = session.scalar(select(ManualEntryVersion).where(
        ManualEntryVersion.entry_id == entry.id, ManualEntryVersion.version == number))
    if found is None:
        raise NotFound("manual entry version", f"{entry.id} v{number}")
    return found


def query(*, status: str | None = None, kind: str | None = None, tenant_id: int | None = None,
          submitter: str | None = None, created_by: str | None = None) -> Select:
    """Entries matching the filters, newest first; ``submitter`` matches any version."""
    q = select(ManualEntry)
    if status:
        q = q.where(ManualEntry.status == status)
    if kind:
        q = q.where(ManualEntry.kind == kind)
    if tenant_id is not None:
        q = q.where(ManualEntry.tenant_id == tenant_id)
    if created_by:
        q = q.where(ManualEntry.created_by == created_by)
    if submitter:
        q = q.where(exists().where(ManualEntryVersion.entry_id == ManualEntry.id,
                                   ManualEntryVersion.submitted_by == submitter))
    return q.order_by(ManualEntry.id.desc())


# -- workflow ------------------------------------------------------------------------------
def _actor(actor: Actor) -> None:
    user = (actor.user or "").strip()
    if not user:
        raise InputError([Issue("rule.manual_user_required", field="user")])
    if len(actor.user) > 100:
        raise InputError([Issue("rule.max_length", field="user", value=actor.user,
                                params={"max": 100})])


def _expect(entry: ManualEntry, latest: ManualEntryVersion, allowed: tuple[str, ...],
            action: str, number: int | None = None) -> None:
    if number is not None and number != entry.latest_version:
        raise InputError([Issue("rule.manual_version_stale", field="version", value=number,
                                params={"latest": entry.latest_version})])
    if latest.status not in allowed:
        raise InputError([Issue("rule.manual_status", field="status", value=latest.status,
                                params={"action": action, "allowed": ", ".join(allowed)})])


def _log(session: Session, entry: ManualEntry, actor: Actor, action: str, now: datetime,
         **detail) -> None:
    audit.record(session, user=actor.user, action=f"entry.{action}", object_type=OBJECT,
                 object_id=entry.id, tenant_id=entry.tenant_id, source=actor.source, ts=now,
                 detail={"kind": entry.kind, **detail})


def _set_status(entry: ManualEntry, ver: ManualEntryVersion, status: str, now: datetime) -> None:
    ver.status = status
    if ver.version == entry.latest_version:
        entry.status = status
    entry.updated_at = now


def create(session: Session, kind: str, payload: dict, actor: Actor, *, note: str | None = None,
           submit: bool = False, evidence_ids: tuple[int, ...] | list[int] = ()) -> ManualEntry:
    """A new entry (version 1, a draft or, with ``submit``, submitted)."""
    _actor(actor)
    tenant_id = check(session, kind, payload)
    now = utcnow()
    entry = ManualEntry(kind=kind, tenant_id=tenant_id, status="draft", latest_version=1,
                        created_by=actor.user, created_at=now, updated_at=now)
    session.add(entry)
    session.flush()
    ver = ManualEntryVersion(entry_id=entry.id, version=1, status="draft",
                             payload=audit.jsonable(payload), retract=False, note=note,
                             created_by=actor.user, created_at=now)
    session.add(ver)
    session.flush()
    _log(session, entry, actor, "create", now, version=1, payload=ver.payload, note=note)
    for evidence_id in evidence_ids:
        attach(session, entry.id, evidence_id, actor)
    if submit:
        _submit(session, entry, ver, actor, utcnow())
    return entry


def update_draft(session: Session, entry_id: int, payload: dict, actor: Actor, *,
                 note: str | None = None, version_no: int | None = None) -> ManualEntry:
    """Replace the payload of a draft (only its creator may; nobody has reviewed it yet)."""
    _actor(actor)
    entry = get(session, entry_id)
    latest = version(session, entry)
    _expect(entry, latest, ("draft",), "update", version_no)
    if actor.user != latest.created_by:
        raise InputError([Issue("rule.manual_not_creator", field="user", value=actor.user,
                                params={"creator": latest.created_by})])
    if latest.retract:
        raise InputError([Issue("rule.manual_retract_payload", field="payload")])
    _same_tenant(entry, check(session, entry.kind, payload))
    now = utcnow()
    latest.payload = audit.jsonable(payload)
    if note is not None:
        latest.note = note
    entry.updated_at = now
    _log(session, entry, actor, "update", now, version=latest.version, payload=latest.payload,
         note=note)
    return entry


def _same_tenant(entry: ManualEntry, tenant_id: int) -> None:
    if tenant_id != entry.tenant_id:
        raise InputError([Issue("rule.manual_tenant_change", field="payload", value=tenant_id,
                                params={"expected": entry.tenant_id})])


def revise(session: Session, entry_id: int, actor: Actor, *, payload: dict | None = None,
           retract: bool = False, note: str | None = None, submit: bool = False,
           version_no: int | None = None) -> ManualEntry:
    """A new version of a reviewed or withdrawn entry; the evidence of the latest version is
    carried over.  ``retract`` makes a version that takes the approved values out."""
    _actor(actor)
    entry = get(session, entry_id)
    latest = version(session, entry)
    _expect(entry, latest, ("approved", "rejected", "withdrawn"), "revise", version_no)
    if retract:
        if payload is not None:
            raise InputError([Issue("rule.manual_retract_payload", field="payload")])
        if entry.approved_version is None:
            raise InputError([Issue("rule.manual_nothing_approved", field="retract")])
    else:
        if payload is None:
            raise InputError([Issue("rule.required", field="payload")])
        _same_tenant(entry, check(session, entry.kind, payload))
    now = utcnow()
    ver = ManualEntryVersion(entry_id=entry.id, version=latest.version + 1, status="draft",
                             payload=None if retract else audit.jsonable(payload),
                             retract=retract, note=note, created_by=actor.user, created_at=now)
    session.add(ver)
    session.flush()
    carried = []
    for link in session.scalars(select(ManualEntryEvidence).where(
            ManualEntryEvidence.version_id == latest.id)):
        session.add(ManualEntryEvidence(version_id=ver.id, evidence_id=link.evidence_id,
                                        attached_by=actor.user, attached_at=now))
        carried.append(link.evidence_id)
    entry.latest_version = ver.version
    _set_status(entry, ver, "draft", now)
    session.flush()
    _log(session, entry, actor, "revise", now, version=ver.version, payload=ver.payload,
         retract=retract, note=note, evidence_ids=carried)
    if submit:
        _submit(session, entry, ver, actor, utcnow())
    return entry


def _submit(session: Session, entry: ManualEntry, ver: ManualEntryVersion, actor: Actor,
            now: datetime) -> None:
    if not ver.retract:
        _same_tenant(entry, check(session, entry.kind, ver.payload))
    ver.submitted_by, ver.submitted_at = actor.user, now
    _set_status(entry, ver, "submitted", now)
    session.flush()
    _log(session, entry, actor, "submit", now, version=ver.version)


def submit(session: Session, entry_id: int, actor: Actor,
           version_no: int | None = None) -> ManualEntry:
    """Send the draft for review; its payload is checked again first."""
    _actor(actor)
    entry = get(session, entry_id)
    latest = version(session, entry)
    _expect(entry, latest, ("draft",), "submit", version_no)
    _submit(session, entry, latest, actor, utcnow())
    return entry


def _review(session: Session, entry_id: int, actor: Actor, action: str,
            version_no: int | None) -> tuple[ManualEntry, ManualEntryVersion]:
    _actor(actor)
    entry = get(session, entry_id)
    latest = version(session, entry)
    _expect(entry, latest, ("submitted",), action, version_no)
    if actor.user in (latest.created_by, latest.submitted_by):
        raise InputError([Issue("rule.manual_four_eyes", field="user", value=actor.user)])
    return entry, latest


def approve(session: Session, entry_id: int, actor: Actor, *, comment: str | None = None,
            version_no: int | None = None) -> ManualEntry:
    """Approve the submitted version and write its values into the target (or take the
    approved values out, for a retraction)."""
    entry, ver = _review(session, entry_id, actor, "approve", version_no)
    now = utcnow()
    previous = (version(session, entry, entry.approved_version)
                if entry.approved_version is not None else None)
    _apply(session, entry, ver, previous, actor)
    ver.reviewed_by, ver.reviewed_at, ver.review_comment = actor.user, now, comment
    _set_status(entry, ver, "approved", now)
    if previous is not None:
        previous.status = "superseded"
    entry.approved_version = None if ver.retract else ver.version
    if ver.retract:
        entry.status = "retracted"
    session.flush()
    _log(session, entry, actor, "approve", now, version=ver.version, comment=comment,
         retract=ver.retract, supersedes=previous.version if previous else None,
         target=applied(ver))
    return entry


def reject(session: Session, entry_id: int, actor: Actor, comment: str | None,
           version_no: int | None = None) -> ManualEntry:
    """Send the submitted version back with a comment (required); nothing is applied."""
    if comment is None or not comment.strip():
        raise InputError([Issue("rule.manual_reject_comment", field="comment")])
    entry, ver = _review(session, entry_id, actor, "reject", version_no)
    now = utcnow()
    ver.reviewed_by, ver.reviewed_at, ver.review_comment = actor.user, now, comment.strip()
    _set_status(entry, ver, "rejected", now)
    session.flush()
    _log(session, entry, actor, "reject", now, version=ver.version, comment=ver.review_comment)
    return entry


def withdraw(session: Session, entry_id: int, actor: Actor, *, comment: str | None = None,
             version_no: int | None = None) -> ManualEntry:
    """Pull a draft or submitted version back (its creator or submitter only).  An approved
    earlier version stays in force; to take it out, revise with ``retract``."""
    _actor(actor)
    entry = get(session, entry_id)
    latest = version(session, entry)
    _expect(entry, latest, OPEN, "withdraw", version_no)
    if actor.user not in (latest.created_by, latest.submitted_by):
        raise InputError([Issue("rule.manual_not_owner", field="user", value=actor.user)])
    now = utcnow()
    latest.review_comment = comment
    _set_status(entry, latest, "withdrawn", now)
    session.flush()
    _log(session, entry, actor, "withdraw", now, version=latest.version, comment=comment)
    return entry


# -- applying approved values --------------------------------------------------------------
def applied(ver: ManualEntryVersion) -> dict | None:
    """What an approved version wrote (table, row id, reading time, ingest batch)."""
    if ver.target_table is None:
        return None
    return {"table": ver.target_table, "id": ver.target_id, "ts": audit.iso(ver.target_ts),
            "batch_id": ver.batch_id}


def _apply(session: Session, entry: ManualEntry, ver: ManualEntryVersion,
           previous: ManualEntryVersion | None, actor: Actor) -> None:
    ver.target_table = TARGET_TABLE[entry.kind]
    if entry.kind == "reading":
        _apply_reading(session, entry, ver, previous, actor)
        return
    model, write = _RECORDS[entry.kind]
    old = session.get(model, previous.target_id) if previous and previous.target_id else None
    if ver.retract:
        ver.target_id = previous.target_id if previous else None
        if old is not None and not _shared(session, ver.target_table, old.id, entry.id):
            session.delete(old)
        session.flush()
        return
    try:
        if entry.kind == "fuel_delivery" and old is not None:
            # A delivery has no natural key: update the row the entry made, keeping its id.
            new = write(session, ver.payload)
            for column in model.__table__.columns:
                if column.key not in ("id", "created_at"):
                    setattr(old, column.key, getattr(new, column.key))
            session.delete(new)
            record = old
        else:
            record = write(session, ver.payload)
    except InputError as exc:
        raise _in_payload(exc) from None
    if old is not None and old.id != record.id and not _shared(session, ver.target_table,
                                                                old.id, entry.id):
        session.delete(old)  # the revision moved the record to another key
    session.flush()
    ver.target_id = record.id


def _shared(session: Session, table: str, target_id: int, entry_id: int) -> bool:
    """Does another entry's approved version also stand behind this row?"""
    return bool(session.scalar(select(ManualEntryVersion.id).where(
        ManualEntryVersion.status == "approved", ManualEntryVersion.retract.is_(False),
        ManualEntryVersion.entry_id != entry_id,
        ManualEntryVersion.target_table == table,
        ManualEntryVersion.target_id == target_id).limit(1)))


def _apply_reading(session: Session, entry: ManualEntry, ver: ManualEntryVersion,
                   previous: ManualEntryVersion | None, actor: Actor) -> None:
    conn = session.connection()
    label = f"manual entry {entry.id} v{ver.version}, approved by {actor.user}"
    if ver.retract:
        ver.target_id, ver.target_ts = previous.target_id, previous.target_ts
        ver.batch_id = _reject_reading(session, previous, label)
        return
    try:
        batch, _tenant = _reading(session, ver.payload, f"manual entry {entry.id} v{ver.version}")
    except InputError as exc:
        raise _in_payload(exc) from None
    result = ingest.ingest(conn, batch, SOURCE, label)
    if previous is not None and previous.target_ts is not None and (
            previous.target_id, to_us(previous.target_ts)) != (int(batch.meter_id[0]),
                                                               int(batch.ts[0])):
        _reject_reading(session, previous, f"{label}: moved to another meter or time")
    ver.target_id, ver.target_ts = int(batch.meter_id[0]), from_us(int(batch.ts[0]))
    ver.batch_id = result.batch_id


def _reject_reading(session: Session, previous: ManualEntryVersion, reason: str) -> int | None:
    """Mark the reading an earlier approval stored as rejected: it stops counting, its value
    stays visible, and the store records the change as a revision.  A reading that another
    batch has replaced since (or that the approval found already stored) is not the entry's
    to take back and is left alone."""
    if previous.target_ts is None or previous.batch_id is None:
        return None
    stored = session.execute(select(Reading.value, Reading.batch_id).where(
        Reading.meter_id == previous.target_id, Reading.ts == previous.target_ts)).first()
    if stored is None or stored.batch_id != previous.batch_id:
        return None
    batch = ingest.ReadingBatch(
        meter_id=np.array([previous.target_id], np.int64),
        ts=np.array([to_us(previous.target_ts)], np.int64),
        value=np.array([stored.value], np.float64),
        quality=np.array([int(Quality.REJECTED)], np.int16),
        reason=np.array([f"retracted: {reason}"], object))
    return ingest.ingest(session.connection(), batch, SOURCE, reason).batch_id


# -- evidence ------------------------------------------------------------------------------
def open_version(session: Session, entry: ManualEntry, action: str) -> ManualEntryVersion:
    """The latest version if it is a draft or submitted, else InputError (status)."""
    latest = version(session, entry)
    _expect(entry, latest, OPEN, action)
    return latest


def attach(session: Session, entry_id: int, evidence_id: int, actor: Actor) -> ManualEntry:
    """Attach an uploaded file to the entry's open (draft or submitted) version."""
    _actor(actor)
    entry = get(session, entry_id)
    ev = evidence.get(session, evidence_id)
    latest = open_version(session, entry, "attach")
    if ev.tenant_id is not None and ev.tenant_id != entry.tenant_id:
        raise InputError([Issue("rule.manual_evidence_tenant", field="evidence_id",
                                value=evidence_id)])
    if session.get(ManualEntryEvidence, (latest.id, ev.id)) is not None:
        raise InputError([Issue("rule.manual_evidence_attached", field="evidence_id",
                                value=evidence_id)])
    now = utcnow()
    session.add(ManualEntryEvidence(version_id=latest.id, evidence_id=ev.id,
                                    attached_by=actor.user, attached_at=now))
    entry.updated_at = now
    session.flush()
    _log(session, entry, actor, "attach", now, version=latest.version, evidence_id=ev.id,
         sha256=ev.sha256, filename=ev.filename)
    return entry


def detach(session: Session, entry_id: int, evidence_id: int, actor: Actor) -> ManualEntry:
    """Take a file off the open version (the file itself stays in the store)."""
    _actor(actor)
    entry = get(session, entry_id)
    latest = open_version(session, entry, "detach")
    link = session.get(ManualEntryEvidence, (latest.id, evidence_id))
    if link is None:
        raise InputError([Issue("rule.manual_evidence_not_attached", field="evidence_id",
                                value=evidence_id)])
    ev = evidence.get(session, evidence_id)
    now = utcnow()
    session.delete(link)
    entry.updated_at = now
    session.flush()
    _log(session, entry, actor, "detach", now, version=latest.version, evidence_id=ev.id,
         sha256=ev.sha256, filename=ev.filename)
    return entry


# -- answers -------------------------------------------------------------------------------
def tenant_codes(session: Session, ids) -> dict[int, str]:
    """Tenant id → code of the tenant node, for answers."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(Node.id, Node.code).where(Node.id.in_(ids))).all())


def _version_dict(v: ManualEntryVersion, files: list[dict]) -> dict:
    return {"version": v.version, "status": v.status, "payload": v.payload,
            "retract": v.retract, "note": v.note, "created_by": v.created_by,
            "created_at": audit.iso(v.created_at), "submitted_by": v.submitted_by,
            "submitted_at": audit.iso(v.submitted_at), "reviewed_by": v.reviewed_by,
            "reviewed_at": audit.iso(v.reviewed_at), "review_comment": v.review_comment,
            "applied": applied(v), "evidence": files}


def _entry_dict(entry: ManualEntry, latest: ManualEntryVersion, tenants: dict[int, str]) -> dict:
    return {"id": entry.id, "kind": entry.kind, "status": entry.status,
            "tenant_id": entry.tenant_id, "tenant": tenants.get(entry.tenant_id),
            "latest_version": entry.latest_version, "approved_version": entry.approved_version,
            "payload": latest.payload, "retract": latest.retract,
            "submitted_by": latest.submitted_by, "created_by": entry.created_by,
            "created_at": audit.iso(entry.created_at), "updated_at": audit.iso(entry.updated_at)}


def as_dict(session: Session, entry: ManualEntry) -> dict:
    """The entry with every version, each with its evidence files."""
    vers = versions(session, entry)
    files: dict[int, list[dict]] = {v.id: [] for v in vers}
    rows = session.execute(
        select(ManualEntryEvidence, EvidenceFile)
        .join(EvidenceFile, EvidenceFile.id == ManualEntryEvidence.evidence_id)
        .where(ManualEntryEvidence.version_id.in_(list(files)))
        .order_by(ManualEntryEvidence.attached_at, EvidenceFile.id)).all()
    tenants = tenant_codes(session, [entry.tenant_id, *(f.tenant_id for _, f in rows)])
    for link, ev in rows:
        files[link.version_id].append({**evidence.as_dict(ev, tenants),
                                       "attached_by": link.attached_by,
                                       "attached_at": audit.iso(link.attached_at)})
    out = _entry_dict(entry, vers[-1], tenants)
    out["versions"] = [_version_dict(v, files[v.id]) for v in vers]
    return out


def summaries(session: Session, entries: list[ManualEntry]) -> list[dict]:
    """List items: each entry with the payload of its latest version."""
    if not entries:
        return []
    latest = {v.entry_id: v for v in session.scalars(
        select(ManualEntryVersion).join(ManualEntry, and_(
            ManualEntry.id == ManualEntryVersion.entry_id,
            ManualEntry.latest_version == ManualEntryVersion.version))
        .where(ManualEntry.id.in_([e.id for e in entries])))}
    tenants = tenant_codes(session, [e.tenant_id for e in entries])
    return [_entry_dict(e, latest[e.id], tenants) for e in entries]


def field_catalogue() -> dict[str, list[dict]]:
    """Fields of each kind's payload (for building entry forms)."""
    return {kind: [{"name": s.name, "kind": s.kind, "label_zh": s.label_zh,
                    "label_en": s.label_en, "required": s.required and s.default is None,
                    "default": s.default, "unit": s.unit, "ref": s.ref,
                    "choices": list(s.choices) or None, "minimum": s.minimum,
                    "exclusive_minimum": s.exclusive_minimum, "maximum": s.maximum,
                    "max_length": s.max_length, "help": s.help_en or None}
                   for s in specs] for kind, specs in FIELDS.items()}
