"""``nengtan backup`` and ``nengtan restore``: one archive of a whole installation.

Exit status: 0 done (and, for restore, verified); 1 restored but the verification found a
mismatch; 2 refused or failed (nothing written, the target untouched).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from nengtan.commands.common import DbOption
from nengtan.i18n import t

EvidenceDirOption = typer.Option(None, "--evidence-dir",
                                 help="Evidence directory (default: NENGTAN_EVIDENCE_DIR, "
                                      "else <home>/evidence).")
KeyOption = typer.Option(None, "--key",
                         help="Ledger signing key file (default: NENGTAN_LEDGER_KEY, else "
                              "<home>/ledger/ledger-ed25519.pem).")


def _both(msg: str, **params) -> str:
    return f"{t(msg, 'zh-CN', **params)} | {t(msg, 'en', **params)}"


def _locations(db: str | None, evidence_dir: Path | None, key: Path | None):
    from nengtan.config import get_settings
    from nengtan.services import ledger

    settings = get_settings()
    return (db or settings.resolved_database_url(),
            Path(evidence_dir) if evidence_dir else settings.resolved_evidence_dir(),
            Path(key) if key else ledger.key_path())


def _refuse(header: str, exc) -> None:
    typer.echo(_both(header), err=True)
    for problem in exc.problems:
        typer.echo(f"  {problem.text('zh-CN')}", err=True)
        typer.echo(f"  {problem.text('en')}", err=True)
    raise typer.Exit(code=2)


def backup(out: Path = typer.Option(..., "--out", "-o", dir_okay=False,
                                    help="Archive to write (tar.gz)."),
           db: str = DbOption,
           evidence_dir: Path = EvidenceDirOption,
           key: Path = KeyOption,
           no_keys: bool = typer.Option(False, "--no-keys",
                                        help="Leave the ledger's private signing key out."),
           as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON.")
           ) -> None:
    """Write one archive (tar.gz) of the installation: database, evidence files, ledger
    signing key (secret!) and a manifest with row counts and SHA-256 of every file."""
    from nengtan.services import backup as svc

    url, evidence_root, key_path = _locations(db, evidence_dir, key)
    try:
        report = svc.create(url, out, evidence_dir=evidence_root, key_path=key_path,
                            include_keys=not no_keys)
    except svc.BackupError as exc:
        _refuse("backup.cli.failed", exc)
    m = report.manifest
    for warning in report.warnings:
        typer.echo(f"{t('backup.cli.warning', 'zh-CN', text=warning.text('zh-CN'))} | "
                   f"{t('backup.cli.warning', 'en', text=warning.text('en'))}", err=True)
    if as_json:
        typer.echo(json.dumps(m, ensure_ascii=False, indent=2))
    else:
        typer.echo(_both("backup.cli.written", archive=report.archive,
                         size=report.archive.stat().st_size, backend=m["backend"],
                         tables=len(m["database"]["tables"]), rows=m["database"]["rows"],
                         files=m["evidence"]["files"]))
    if m["keys"]["included"]:
        typer.echo(_both("backup.cli.key_included", path=m["keys"]["private"]), err=True)
    else:
        typer.echo(_both("backup.cli.key_excluded"), err=True)


def restore(archive: Path = typer.Argument(..., dir_okay=False, help="Archive from "
                                                                      "`nengtan backup`."),
            db: str = DbOption,
            evidence_dir: Path = EvidenceDirOption,
            key: Path = KeyOption,
            force: bool = typer.Option(False, "--force",
                                       help="Overwrite a target database that holds data "
                                            "(all of it is replaced!)."),
            as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")
            ) -> None:
    """Check the archive, restore database, evidence files and signing key, then verify the
    result: row counts, audit chain, ledger, evidence hashes.  Exit 1 on any mismatch."""
    from nengtan.services import backup as svc

    url, evidence_root, key_path = _locations(db, evidence_dir, key)
    try:
        report = svc.restore(archive, url, evidence_dir=evidence_root, key_path=key_path,
                             force=force)
    except svc.BackupError as exc:
        _refuse("backup.cli.refused", exc)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        m = report.manifest
        typer.echo(_both("backup.cli.restored", archive=archive, created_at=m["created_at"],
                         backend=m["backend"]))
        if report.replaced_key:
            typer.echo(_both("backup.cli.key_replaced", path=report.replaced_key))
        for check in report.checks:
            mark = "ok" if check.ok else "FAIL"
            typer.echo(f"[{mark}] {check.summary.text('zh-CN')}")
            typer.echo(f"       {check.summary.text('en')}")
            for problem in check.problems:
                typer.echo(f"   - {problem.text('zh-CN')}")
                typer.echo(f"     {problem.text('en')}")
        typer.echo(_both("backup.cli.ok" if report.ok else "backup.cli.not_ok"))
    if not report.ok:
        raise typer.Exit(code=1)
