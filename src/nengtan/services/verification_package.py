"""The verification package (核查资料包): one zip a third-party verifier can check offline.

For one version of an enterprise inventory (:mod:`nengtan.services.inventories`; the latest
locked version by default) the package holds::

    README.md                      how to check each part offline (zh-CN and en)
    manifest.json                  every file with its SHA-256 and size, the inventory, the
                                   version, its digest and the ledger checkpoint
    SHA256SUMS                     the same hashes for ``sha256sum -c SHA256SUMS``
    report/…-zh-CN.pdf|.xlsx       the GHG emission report (MEE structure), each language
    report/…-en.pdf|.xlsx
    data/activity.csv              activity data per source, per month and per link (meter
                                   codes, approved manual entries, production, CEMS, values)
    data/parameters.csv            every parameter each source used, with origin, source
                                   document and status
    data/factors.csv               the factor library values used (document, clause, year,
                                   region, status, dataset version)
    data/lab_records.csv           lab analyses of fuel deliveries (NCV, carbon content)
    evidence/index.csv             evidence files: SHA-256, name, size, uploader, time
    evidence/<sha256>/<file name>  the files, from the evidence store
    lineage/result.json            the locked result: every figure with its lineage
    lineage/version-record.json    the exact bytes whose SHA-256 is the ledgered digest of
                                   the locked version (check with ``--data``)
    ledger/entries.csv             every ledger entry the version rests on (readings per
                                   meter-day, manual entries, fuel deliveries, evidence files,
                                   factor values, source definitions, the result)
    ledger/proofs/<entry id>.json  an inclusion proof of each entry to the signed checkpoint
                                   of the lock (format ``nengtan-ledger-proof/1``)
    ledger/checkpoint.json         that checkpoint (signed tree head)
    ledger/public-key.pem          the ledger's Ed25519 public key

A draft (unlocked) version can be packaged too; it has no ledger part and the README says so.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, select

from nengtan import __version__
from nengtan.config import get_settings
from nengtan.services import audit, evidence, ghg_report
from nengtan.store.models.manual import EvidenceFile

FORMAT = "nengtan-verification-package/1"
LANGS = ("zh-CN", "en")
#: Fixed time stamp of the zip members, so the same content gives the same bytes.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


@dataclass
class Package:
    content: bytes
    filename: str
    manifest: dict
    media_type: str = "application/zip"


# -- ledger part -----------------------------------------------------------------------------
def _keys(conn: Connection, inv, ver) -> list[tuple[str, str]]:
    """(kind, key) of every ledger record the version rests on (as the lock appended them)."""
    from nengtan.services import inventories

    rec = inventories.records_of(ver.result)
    keys: list[tuple[str, str]] = []
    start, end = inv.period_start, inv.period_end
    days = [(start + timedelta(days=i)).isoformat() for i in range((end - start).days)]
    for mid in sorted(rec["meters"]):
        keys += [("readings", f"{mid}/{d}") for d in days]
    keys += [("manual_entry", f"{e}/v{n}") for e, n in sorted(rec["manual"])]
    keys += [("fuel_delivery", str(i)) for i in sorted(rec["fuel"])]
    keys += [("evidence_file", str(i)) for i in sorted(rec["evidence"])]
    keys += [("factor_value", str(f["factor_id"] if isinstance(f, dict) else f))
             for f in rec["factors"]]
    keys += [("inventory_source", f"{s}/r{r}") for s, r in rec["sources"]]
    keys.append(("inventory_result", f"{inv.code}/v{ver.version}"))
    return keys


def ledger_entries(conn: Connection, inv, ver) -> tuple[list, object | None]:
    """The latest entry of each record the version rests on, up to the checkpoint signed at
    the lock, and that checkpoint (None for a draft)."""
    from nengtan.store.models.ledger import LedgerCheckpoint, LedgerEntry

    cp_id = ((ver.ledger or {}).get("checkpoint") or {}).get("id")
    if ver.status != "locked" or cp_id is None:
        return [], None
    cp = conn.execute(select(LedgerCheckpoint.__table__).where(
        LedgerCheckpoint.id == cp_id)).first()
    if cp is None:
        return [], None
    wanted = _keys(conn, inv, ver)
    by_kind: dict[str, list[str]] = {}
    for kind, key in wanted:
        by_kind.setdefault(kind, []).append(key)
    latest: dict[tuple[str, str], object] = {}
    t = LedgerEntry.__table__
    for kind, keys in by_kind.items():
        for i in range(0, len(keys), 500):
            for row in conn.execute(select(t).where(
                    t.c.kind == kind, t.c.key.in_(keys[i:i + 500]),
                    t.c.id <= cp.tree_size).order_by(t.c.id)):
                latest[(row.kind, row.key)] = row
    return sorted(latest.values(), key=lambda r: r.id), cp


def proofs(conn: Connection, rows: list, cp) -> list[dict]:
    """Inclusion proofs of many entries to one checkpoint (one tree built for all)."""
    from nengtan.services import ledger

    return ledger.proofs(conn, [r.id for r in rows], cp.id)


def version_record_bytes(inv, ver) -> bytes | None:
    """The canonical JSON whose SHA-256 is the version's ledgered digest (None when it cannot
    be reproduced, which the README then says)."""
    from nengtan.services import inventories, ledger

    try:
        data = ledger.canonical_bytes(inventories.version_record(inv.code, ver))
    except (AttributeError, KeyError, TypeError, ValueError):  # pragma: no cover
        return None
    return data if hashlib.sha256(data).hexdigest() == ver.digest else None


# -- data files ------------------------------------------------------------------------------
def _csv(header: list[str], rows: list[list]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    # BOM: Excel opens UTF-8 CSV with Chinese text correctly
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _link_reference(lk: dict) -> str:
    kind = lk.get("kind")
    if kind == "meter":
        return lk.get("meter") or ""
    if kind == "manual_entry":
        return f"manual entry #{lk.get('manual_entry')}"
    if kind == "production":
        return f"product {lk.get('product')}"
    if kind == "cems":
        return f"CEMS {lk.get('monitor')}"
    if kind == "fuel_deliveries":
        return "fuel deliveries"
    return str(lk.get("reference") or lk.get("source") or "")


def activity_csv(result: dict) -> bytes:
    """Per source, per month (and the whole period), per activity-data link."""
    header = ["source", "name_zh", "name_en", "kind", "period", "start", "end",
              "source_quantity", "source_unit", "source_coverage", "tco2e", "link_kind",
              "reference", "link_quantity", "link_unit", "link_coverage", "manual_entries",
              "evidence_sha256", "readings_url"]
    sources = {s["source"]: s for s in result.get("sources", [])}
    extra: dict[tuple[str, str], tuple[str, str]] = {}
    rows = []
    period = result["inventory"]["period"]
    for code, s in sources.items():
        act = s["lineage"].get("activity_data") or {}
        for lk in act.get("links") or [{}]:
            entries = ghg_report._manual_entries_of(lk)
            ev = ghg_report._evidence_of_link(lk)
            me = "; ".join(f"#{e['manual_entry']} v{e['version']} ({e.get('reviewed_by')})"
                           for e in entries)
            shas = "; ".join(dict.fromkeys(e["sha256"] for e in ev))
            extra[(code, _link_reference(lk))] = (me, shas)
            rows.append([code, s.get("name_zh"), s.get("name_en"), s["kind"], period["label"],
                         period["start"], period["end"], s.get("quantity"),
                         s.get("quantity_unit"), s.get("coverage"), s["tco2e"], lk.get("kind"),
                         _link_reference(lk), lk.get("quantity"),
                         lk.get("quantity_unit") or lk.get("unit"), lk.get("coverage"), me, shas,
                         lk.get("readings") or lk.get("url")])
    for month in result.get("trend") or []:
        if (month["start"], month["end"]) == (period["start"], period["end"]):
            continue  # a one-month period: its month is the period row
        for part in month.get("sources") or []:
            s = sources.get(part["source"], {})
            for lk in part.get("links") or [{}]:
                me, shas = extra.get((part["source"], _link_reference(lk)), ("", ""))
                rows.append([part["source"], s.get("name_zh"), s.get("name_en"), s.get("kind"),
                             month["month"], month["start"], month["end"], part["quantity"],
                             part.get("unit"), part.get("coverage"), part["tco2e"],
                             lk.get("kind"), _link_reference(lk), lk.get("quantity"),
                             lk.get("quantity_unit"), lk.get("coverage"), me, shas,
                             lk.get("readings") or lk.get("url")])
    return _csv(header, rows)


def parameters_csv(data: dict) -> bytes:
    return _csv(["source", "parameter", "value", "unit", "origin", "document", "status",
                 "factor_id"],
                [[p["source"], p["parameter"], p["value"], p["unit"], p["origin"],
                  p["document"], p["status"], p["factor_id"]] for p in data["parameters"]])


def lab_records_csv(result: dict) -> bytes:
    """Lab analyses of fuel deliveries behind measured NCVs and carbon contents."""
    cols = ["fuel_delivery", "delivered_on", "lot_no", "quantity", "unit", "ncv", "ncv_unit",
            "ncv_mj_per_unit", "carbon_content_pct", "lab", "report_no", "test_method"]
    rows, seen = [], set()
    for s in result.get("sources") or []:
        for p in s["lineage"].get("given_parameters") or []:
            for r in p.get("lab_records") or []:
                if "delivered_on" not in r or (s["source"], r["fuel_delivery"]) in seen:
                    continue
                seen.add((s["source"], r["fuel_delivery"]))
                rows.append([s["source"], p["parameter"]] + [r.get(c) for c in cols])
    return _csv(["source", "parameter"] + cols, rows)


def factors_csv(result: dict) -> bytes:
    cols = ["factor_id", "parameter", "subject", "value", "unit", "document", "clause", "year",
            "region", "status", "dataset", "version", "source"]
    return _csv(cols + ["used_by"], [[f.get(c) for c in cols] + ["; ".join(f.get("used_by", []))]
                                     for f in result.get("factor_values") or []])


# -- the package -----------------------------------------------------------------------------
def _readme(inv, ver, data: dict, parts: dict) -> bytes:
    from nengtan.i18n import t

    name = data["subject"]
    lines = []
    for lang in LANGS:
        def tr(key, lang=lang, **kw):
            return t(f"ghg.package.{key}", lang, **kw)
        lines += [f"# {tr('readme_title')}", "",
                  tr("readme_intro", entity=f"{name['code']} "
                     f"{name['name_zh'] if lang != 'en' else (name['name_en'] or name['name_zh'])}",
                     inventory=inv.code, version=ver.version,
                     status=t(f"report.ghg.version_status.{ver.status}", lang),
                     period=data["period"]["label"],
                     total=f"{ver.total_tco2e:,.3f}", digest=ver.digest), ""]
        lines += [f"## {tr('readme_contents')}", "", tr("readme_files"), ""]
        lines += [f"## {tr('readme_checks')}", ""]
        steps = ["check_manifest", "check_report", "check_activity", "check_factors",
                 "check_evidence"]
        if parts.get("proofs"):
            steps += ["check_proofs", "check_result"]
        else:
            steps += ["check_no_ledger"]
        for k, step in enumerate(steps, start=1):
            lines += [f"{k}. " + tr(step, result_entry=parts.get("result_entry") or "",
                                   evidence_entry=parts.get("evidence_entry") or "<id>",
                                   sha=parts.get("evidence_sha") or "<sha256>",
                                   name=parts.get("evidence_name") or "<file>",
                                   entries=parts.get("proofs", 0),
                                   tree_size=parts.get("tree_size") or "",
                                   root=parts.get("root_hash") or ""), ""]
        if parts.get("missing_evidence"):
            lines += [tr("missing_evidence", files=", ".join(parts["missing_evidence"])), ""]
        if not parts.get("version_record"):
            lines += [tr("no_version_record"), ""]
        lines += ["---", ""]
    lines.append(f"nengtan {__version__} · {FORMAT}")
    return "\n".join(lines).encode("utf-8")


def _version_row(conn: Connection, inventory: str | int, version: int | None):
    inv = ghg_report._inventory_row(conn, inventory)
    return inv, ghg_report._version_row(conn, inv, version)


def build(conn: Connection, inventory: str | int, version: int | None = None,
          langs: tuple[str, ...] = LANGS, evidence_root: Path | None = None) -> Package:
    """The verification package of a version of an inventory (code or id; the latest locked
    version when ``version`` is None) as zip bytes with its manifest."""
    inv, ver = _version_row(conn, inventory, version)
    data = ghg_report.enterprise_data(conn, inv.id, ver.version)
    result = ver.result or {}
    files: dict[str, bytes] = {}
    for lang in langs:
        for fmt in ghg_report.FORMATS:
            out = ghg_report.render_data(data, fmt, lang)
            files[f"report/{out.filename}"] = out.content
    files["data/activity.csv"] = activity_csv(result)
    files["data/parameters.csv"] = parameters_csv(data)
    files["data/factors.csv"] = factors_csv(result)
    files["data/lab_records.csv"] = lab_records_csv(result)
    files["lineage/result.json"] = json.dumps(
        {"inventory": inv.code, "version": ver.version, "status": ver.status,
         "digest": ver.digest, "total_tco2e": ver.total_tco2e, "unit": "tCO2e",
         "result": result}, ensure_ascii=False, indent=1, default=str).encode("utf-8")
    parts: dict = {}
    record = version_record_bytes(inv, ver) if ver.status == "locked" else None
    if record is not None:
        files["lineage/version-record.json"] = record
        parts["version_record"] = True
    # evidence files, by SHA-256, from the evidence store
    root = Path(evidence_root) if evidence_root else get_settings().resolved_evidence_dir()
    ev_rows = {e["sha256"]: e for e in data["quality"]["evidence"]}
    ids = [e["evidence_id"] for e in ev_rows.values() if e.get("evidence_id")]
    stored = {r.id: r for r in conn.execute(select(EvidenceFile.__table__).where(
        EvidenceFile.id.in_(ids or [-1])))}
    index, missing = [], []
    for sha, e in sorted(ev_rows.items()):
        row = stored.get(e.get("evidence_id"))
        name = evidence.clean_filename((row.filename if row else e.get("filename")) or sha)
        path = evidence.path_of(root, sha)
        ok = path.is_file() and evidence.hash_file(path)[0] == sha
        member = f"evidence/{sha}/{name}"
        if ok:
            files[member] = path.read_bytes()
        else:
            missing.append(f"{sha} ({name})")
        index.append([sha, name, row.size if row else e.get("size"),
                      row.content_type if row else "", row.uploaded_by if row else
                      e.get("uploaded_by"), audit.iso(row.uploaded_at) if row else
                      e.get("uploaded_at"), e.get("evidence_id"), member if ok else "MISSING"])
        if ok and "evidence_sha" not in parts:
            parts.update(evidence_sha=sha, evidence_name=name, evidence_id=e.get("evidence_id"))
    files["evidence/index.csv"] = _csv(["sha256", "filename", "size", "content_type",
                                        "uploaded_by", "uploaded_at", "evidence_id", "file"],
                                       index)
    parts["missing_evidence"] = missing
    # ledger: entries, proofs, checkpoint, public key
    rows, cp = ledger_entries(conn, inv, ver)
    if cp is not None:
        docs = proofs(conn, rows, cp)
        entry_rows = []
        for row, doc in zip(rows, docs):
            name = f"ledger/proofs/{row.id}.json"
            files[name] = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
            meta = row.meta or {}
            entry_rows.append([row.id, row.kind, row.key, row.digest, meta.get("label"),
                               meta.get("label_zh"), name])
            if row.kind == "inventory_result":
                parts["result_entry"] = row.id
            if row.kind == "evidence_file" and str(parts.get("evidence_id")) == row.key:
                parts["evidence_entry"] = row.id
        files["ledger/entries.csv"] = _csv(["entry_id", "kind", "key", "digest", "label",
                                            "label_zh", "proof"], entry_rows)
        files["ledger/checkpoint.json"] = json.dumps({
            "id": cp.id, "tree_size": cp.tree_size, "root_hash": cp.root_hash,
            "hash_alg": cp.hash_alg, "note": cp.note, "signature": cp.signature,
            "public_key": cp.public_key, "key_id": cp.key_id,
            "created_at": audit.iso(cp.created_at)}, ensure_ascii=False, indent=1).encode()
        if docs:
            files["ledger/public-key.pem"] = docs[0]["public_key"]["pem"].encode()
        parts.update(proofs=len(docs), tree_size=cp.tree_size, root_hash=cp.root_hash)
    files["README.md"] = _readme(inv, ver, data, parts)
    manifest = {
        "format": FORMAT, "created_at": datetime.now(UTC).isoformat(),
        "software": f"nengtan {__version__}",
        "inventory": {"id": inv.id, "code": inv.code, "enterprise": data["subject"]["code"],
                      "period": data["period"], "version": ver.version, "status": ver.status,
                      "digest": ver.digest, "total_tco2e": ver.total_tco2e, "unit": "tCO2e"},
        "ledger": ({"checkpoint_id": cp.id, "tree_size": cp.tree_size,
                    "root_hash": cp.root_hash, "hash_alg": cp.hash_alg,
                    "entries": parts.get("proofs", 0),
                    "result_entry": parts.get("result_entry")} if cp is not None else None),
        "missing_evidence": missing,
        "files": [{"path": p, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b)}
                  for p, b in sorted(files.items())],
    }
    sums = "".join(f"{f['sha256']}  {f['path']}\n" for f in manifest["files"])
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
    files["SHA256SUMS"] = sums.encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, files[path])
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in inv.code)
    return Package(buf.getvalue(), f"nengtan-verification-{safe}-v{ver.version}.zip", manifest)
