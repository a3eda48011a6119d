"""``nengtan entries ...``: Manual entry (手工填报) with review, and evidence files.

    nengtan entries list [--status submitted] [--kind reading] [--tenant CEM] [--json]
    nengtan entries show 12 [--json]
    nengtan entries approve 12 --user liqiang [--comment "..."] [--version 2]
    nengtan entries reject 12 --user liqiang --comment "碳含量与化验报告不符"
    nengtan entries evidence verify [--dir PATH]     # exit 1 if a file is missing or changed
    nengtan entries audit verify                     # exit 1 if the hash chain is broken

Reviews from the command line are audited with the source ``cli``; ``--user`` names the
reviewer until the security issue brings logins.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from nengtan.commands.common import DbOption, engine, fail

app = typer.Typer(help="Manual entry (手工填报) with review, and evidence files.", no_args_is_help=True)
evidence_app = typer.Typer(help="Evidence files (证明材料).", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
app.add_typer(evidence_app, name="evidence")
app.add_typer(audit_app, name="audit")

UserOption = typer.Option(..., "--user", "-u", help="Acting user (the reviewer).")
DirOption = typer.Option(None, "--dir", help="Evidence directory (default: settings).")
SOURCE = "cli"


def _echo_json(data) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _payload_text(payload: dict | None) -> str:
    if payload is None:
        return "(retract)"
    return ", ".join(f"{k}={v}" for k, v in payload.items() if v not in (None, ""))


@app.command("list")
def list_entries(status: str = typer.Option(None, help="draft, submitted, approved, rejected, "
                                                        "withdrawn, retracted"),
                 kind: str = typer.Option(None, help="reading, production, economic, "
                                                     "fuel_delivery"),
                 tenant: str = typer.Option(None, help="Code of a node: its tenant's entries."),
                 limit: int = typer.Option(100, help="Most entries to list."),
                 as_json: bool = typer.Option(False, "--json", help="Print JSON."),
                 db: str = DbOption) -> None:
    """Entries, newest first (--status submitted is the review queue)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from nengtan.errors import InputError, Issue
    from nengtan.services import manual_entries as entries
    from nengtan.store.models import Node

    with Session(engine(db)) as s:
        tenant_id = None
        if tenant:
            node = s.scalar(select(Node).where(Node.code == tenant))
            if node is None:
                fail(InputError([Issue("rule.ref_unknown", field="tenant", value=tenant,
                                       params={"ref": "node"})]))
            tenant_id = node.tenant_id
        rows = list(s.scalars(entries.query(status=status, kind=kind, tenant_id=tenant_id)
                              .limit(limit)))
        items = entries.summaries(s, rows)
    if as_json:
        _echo_json(items)
        return
    for e in items:
        typer.echo(f"{e['id']:>6}  v{e['latest_version']:<3} {e['status']:<10} {e['kind']:<14} "
                   f"{e['tenant'] or '':<8} {e['created_by']:<12} {_payload_text(e['payload'])}")
    typer.echo(f"{len(items)} entr{'y' if len(items) == 1 else 'ies'}", err=True)


@app.command("show")
def show(entry_id: int = typer.Argument(..., help="Entry number."),
         as_json: bool = typer.Option(False, "--json", help="Print JSON."),
         db: str = DbOption) -> None:
    """One entry with every version, its reviews and evidence."""
    from sqlalchemy.orm import Session

    from nengtan.errors import NotFound
    from nengtan.services import manual_entries as entries

    with Session(engine(db)) as s:
        try:
            data = entries.as_dict(s, entries.get(s, entry_id))
        except NotFound as exc:
            fail(exc)
    if as_json:
        _echo_json(data)
        return
    typer.echo(f"entry {data['id']} ({data['kind']}, tenant {data['tenant']}): {data['status']}; "
               f"approved version: {data['approved_version'] or '-'}")
    for v in data["versions"]:
        typer.echo(f"  v{v['version']} {v['status']:<10} {_payload_text(v['payload'])}")
        typer.echo(f"     entered by {v['created_by']} at {v['created_at']}"
                   + (f"; submitted by {v['submitted_by']} at {v['submitted_at']}"
                      if v["submitted_by"] else ""))
        if v["reviewed_by"]:
            typer.echo(f"     reviewed by {v['reviewed_by']} at {v['reviewed_at']}"
                       + (f": {v['review_comment']}" if v["review_comment"] else ""))
        for f in v["evidence"]:
            typer.echo(f"     evidence {f['id']}: {f['filename']} ({f['size']} bytes, "
                       f"sha256 {f['sha256']})")


def _review(action: str, entry_id: int, user: str, db: str | None, **kwargs) -> None:
    from sqlalchemy.orm import Session

    from nengtan.errors import InputError, NotFound
    from nengtan.services import manual_entries as entries
    from nengtan.services.audit import Actor

    try:
        with Session(engine(db)) as s, s.begin():
            entry = getattr(entries, action)(s, entry_id, Actor(user, SOURCE), **kwargs)
            status, version = entry.status, entry.latest_version
    except (InputError, NotFound) as exc:
        fail(exc)
    typer.echo(f"entry {entry_id} v{version}: {status}")


@app.command()
def approve(entry_id: int = typer.Argument(..., help="Entry number."), user: str = UserOption,
            comment: str = typer.Option(None, help="Review comment."),
            version: int = typer.Option(None, help="Only if this is still the latest version."),
            db: str = DbOption) -> None:
    """Approve the submitted version: its values reach the target tables."""
    _review("approve", entry_id, user, db, comment=comment, version_no=version)


@app.command()
def reject(entry_id: int = typer.Argument(..., help="Entry number."), user: str = UserOption,
           comment: str = typer.Option(..., help="What the clerk must correct (required)."),
           version: int = typer.Option(None, help="Only if this is still the latest version."),
           db: str = DbOption) -> None:
    """Reject the submitted version with a comment; nothing is applied."""
    _review("reject", entry_id, user, db, comment=comment, version_no=version)


@evidence_app.command("verify")
def evidence_verify(directory: Path | None = DirOption,
                    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
                    db: str = DbOption) -> None:
    """Re-hash every stored evidence file; exit 1 if one is missing or changed."""
    from sqlalchemy.orm import Session

    from nengtan.config import get_settings
    from nengtan.services import evidence

    root = directory or get_settings().resolved_evidence_dir()
    with Session(engine(db)) as s:
        report = evidence.verify(s, root)
    if as_json:
        _echo_json(report.as_dict())
    else:
        for item in report.missing:
            typer.echo(f"missing: {item['sha256']} (uploads {item['ids']}: "
                       f"{', '.join(item['filenames'])})", err=True)
        for item in report.changed:
            typer.echo(f"changed: {item['sha256']} now hashes to {item['actual_sha256']} "
                       f"(uploads {item['ids']}: {', '.join(item['filenames'])})", err=True)
        for name in report.orphans:
            typer.echo(f"orphan (no record): {name}", err=True)
        typer.echo(f"{report.files} file(s) of {report.uploads} upload(s) in {report.directory}: "
                   + ("ok" if report.ok else
                      f"{len(report.missing)} missing, {len(report.changed)} changed"))
    if not report.ok:
        raise typer.Exit(code=1)


@audit_app.command("verify")
def audit_verify(as_json: bool = typer.Option(False, "--json", help="Print JSON."),
                 db: str = DbOption) -> None:
    """Re-hash the audit log's chain; exit 1 at the first changed, inserted or missing row."""
    from nengtan.services import audit

    with engine(db).connect() as conn:
        report = audit.verify_chain(conn)
    if as_json:
        _echo_json(report.as_dict())
    elif report.ok:
        typer.echo(f"ok: {report.checked} row(s), last hash {report.last_hash}")
    else:
        typer.echo(f"broken at row {report.first_bad_id}: {report.problem} (expected "
                   f"{report.expected}, found {report.found}); {report.checked} row(s) before "
                   "it are intact")
    if not report.ok:
        raise typer.Exit(code=1)
