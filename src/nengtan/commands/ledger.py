"""Tamper-evident evidence ledger: append, checkpoint, verify, proofs."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from nengtan.commands.common import DbOption

app = typer.Typer(no_args_is_help=True,
                  help="Tamper-evident evidence ledger: append, checkpoint, verify, proofs.")

APPEND_KINDS = ("manual_entry", "fuel_delivery", "evidence_file", "energy_parameter",
                "factor_value")


def _echo(data) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _run(db: str | None, fn, write: bool = False):
    from sqlalchemy.orm import Session

    from nengtan.commands.common import engine, fail
    from nengtan.errors import InputError, NotFound

    eng = engine(db)
    try:
        with Session(eng, expire_on_commit=False) as s:
            if write:
                with s.begin():
                    return fn(s)
            return fn(s)
    except (InputError, NotFound) as exc:
        fail(exc)


@app.command("verify")
def verify(db: str = DbOption,
           as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
           evidence_dir: Path = typer.Option(None, "--evidence-dir",
                                             help="Evidence directory (default: settings).")
           ) -> None:
    """Recompute every ledgered record and the Merkle tree, check every checkpoint; name each
    record that no longer matches.  Exit status 1 when anything mismatches."""
    from nengtan.services import ledger

    report = _run(db, lambda s: ledger.verify(s, evidence_root=evidence_dir))
    if as_json:
        _echo(report)
    else:
        typer.echo(f"ledger: {report['entries']} entries ({report['hash_alg']}), "
                   f"{report['records']} records, {report['checked']} recomputed, "
                   f"{report['checkpoints']} checkpoints (signed up to {report['signed_size']})")
        typer.echo(f"root {report['root_hash']}")
        for m in report["mismatches"]:
            typer.echo(f"  MISMATCH #{m['entry_id']} {m['kind']} {m['key']}: {m['message']}")
            typer.echo(f"           {m['message_zh']}")
        for p in report["entry_problems"]:
            typer.echo(f"  ENTRY #{p['entry_id']} {p['problem']}: {p['message']} "
                       f"({p['detail']}) | {p['message_zh']}")
        for p in report["checkpoint_problems"]:
            typer.echo(f"  CHECKPOINT #{p['checkpoint_id']} (size {p['tree_size']}) "
                       f"{p['problem']}: {p['message']} | {p['message_zh']}")
        for w in report["warnings"]:
            typer.echo(f"  note: {w['message']} | {w['message_zh']}")
        typer.echo("OK: every record matches / 全部记录与存证一致" if report["ok"]
                   else "FAILED: see above / 校验未通过，见上")
    if not report["ok"]:
        raise typer.Exit(code=1)


@app.command("checkpoint")
def checkpoint(db: str = DbOption,
               user: str = typer.Option("cli", "--user", help="Who signs (recorded).")) -> None:
    """Sign the current tree head with the installation's Ed25519 key (JSON)."""
    from nengtan.services import ledger

    _echo(_run(db, lambda s: ledger.checkpoint(s, created_by=user), write=True))


@app.command("proof")
def proof(entry_id: int = typer.Argument(..., help="Ledger entry id (sequence number)."),
          output: Path = typer.Option(..., "-o", "--output", help="Write the proof JSON here."),
          checkpoint_id: int = typer.Option(None, "--checkpoint",
                                            help="Checkpoint id (default: latest covering)."),
          db: str = DbOption) -> None:
    """Export the inclusion proof of an entry for offline verification."""
    from nengtan.services import ledger

    doc = _run(db, lambda s: ledger.proof(s, entry_id, checkpoint_id))
    output.write_text(ledger.dumps(doc) + "\n", encoding="utf-8")
    typer.echo(f"proof of entry {entry_id} ({doc['entry']['kind']} {doc['entry']['key']}) "
               f"against checkpoint {doc['checkpoint']['id']} (size "
               f"{doc['checkpoint']['tree_size']}) written to {output}")


@app.command("verify-proof")
def verify_proof(file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                             help="Proof JSON (from `nengtan ledger proof`)."),
                 public_key: Path = typer.Option(None, "--public-key", exists=True,
                                                 dir_okay=False,
                                                 help="The ledger's published public key (PEM "
                                                      "or raw hex); default: the key in the "
                                                      "proof."),
                 data: Path = typer.Option(None, "--data", exists=True, dir_okay=False,
                                           help="The record's file (evidence): its SHA-256 "
                                                "must be the entry's digest."),
                 as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Check a proof offline (no database, no server).  Exit status 1 when it fails."""
    from nengtan.ledger import verify_proof as check

    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        typer.echo(f"error: {file} is not JSON: {exc}", err=True)
        raise typer.Exit(code=2) from None
    result = check(doc, public_key=public_key.read_text() if public_key else None,
                   data=data.read_bytes() if data else None)
    if as_json:
        _echo(result)
    else:
        e = result.get("entry") or {}
        typer.echo(f"entry {e.get('id')} {e.get('kind')} {e.get('key')} digest {e.get('digest')}")
        for c in result["checks"]:
            typer.echo(f"  [{'ok' if c['ok'] else 'FAIL'}] {c['check']}: {c['detail']}")
        typer.echo("VALID / 证明有效" if result["ok"] else "INVALID / 证明无效")
    if not result["ok"]:
        raise typer.Exit(code=1)


@app.command("status")
def status(db: str = DbOption,
           as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Entries per kind, latest checkpoint, entries not yet signed, public key."""
    from nengtan.services import ledger

    st = _run(db, ledger.status)
    if as_json:
        _echo(st)
        return
    typer.echo(f"entries {st['entries']} ({st['hash_alg']}), unsigned {st['unsigned_entries']}")
    for kind, n in st["by_kind"].items():
        typer.echo(f"  {kind:<20} {n:>8}")
    cp = st["latest_checkpoint"]
    typer.echo(f"latest checkpoint: #{cp['id']} size {cp['tree_size']} root {cp['root_hash']} "
               f"at {cp['created_at']}" if cp else "latest checkpoint: none")
    pub = st["public_key"]
    typer.echo(f"public key {pub['key_id']} ({pub['path']})" if pub else "public key: none yet")


@app.command("append-readings")
def append_readings(meters: str = typer.Option(..., "--meters", help="Meter codes, comma-separated."),
                    start: str = typer.Option(..., "--start", help="First local date YYYY-MM-DD."),
                    end: str = typer.Option(..., "--end", help="End date (exclusive)."),
                    db: str = DbOption) -> None:
    """Ledger each meter's readings per local day (one entry per meter-day with data)."""
    from sqlalchemy import select

    from nengtan.errors import InputError, Issue
    from nengtan.services import ledger
    from nengtan.store.models import Meter

    def go(s):
        codes = [c.strip() for c in meters.split(",") if c.strip()]
        ids = dict(s.execute(select(Meter.code, Meter.id).where(Meter.code.in_(codes))).all())
        unknown = [c for c in codes if c not in ids]
        if unknown:
            raise InputError([Issue("rule.ref_unknown", field="meters", value=c,
                                    params={"ref": "meter"}) for c in unknown])
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError as exc:
            raise InputError([Issue("rule.type_date", field="start/end",
                                    value=f"{start}/{end}")]) from exc
        return ledger.append_readings(s, [ids[c] for c in codes], first, last, created_by="cli")

    entries = _run(db, go, write=True)
    typer.echo(f"{len(entries)} meter-day entries appended"
               + (f" (#{entries[0]['id']}..#{entries[-1]['id']})" if entries else ""))


@app.command("append")
def append(kind: str = typer.Argument(..., help=f"One of {', '.join(APPEND_KINDS)}."),
           record_id: str = typer.Argument(..., help="Record id (manual entry: id or id/vN)."),
           db: str = DbOption) -> None:
    """Ledger one record (JSON of the entry)."""
    from nengtan.errors import InputError, Issue
    from nengtan.services import ledger

    def go(s):
        try:
            if kind == "manual_entry":
                eid, _, ver = record_id.partition("/v")
                return ledger.append_manual_entry(s, int(eid), int(ver) if ver else None,
                                                  created_by="cli")
            if kind == "factor_value":
                return ledger.append_factor_value(s, record_id, created_by="cli")
            fn = {"fuel_delivery": ledger.append_fuel_delivery,
                  "evidence_file": ledger.append_evidence,
                  "energy_parameter": ledger.append_energy_parameter}.get(kind)
            if fn is None:
                raise InputError([Issue("rule.choice", field="kind", value=kind,
                                        params={"choices": ", ".join(APPEND_KINDS)})])
            return fn(s, int(record_id), created_by="cli")
        except ValueError:
            raise InputError([Issue("rule.type_int", field="record_id", value=record_id)]) from None

    _echo(_run(db, go, write=True))
