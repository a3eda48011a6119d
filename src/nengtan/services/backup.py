"""Backup and restore of a whole installation: database, evidence files, ledger signing key.

One archive (``tar.gz``) holds everything an installation needs to be rebuilt elsewhere:

* ``database/nengtan.sqlite3`` — SQLite: a consistent copy made with SQLite's online backup
  API (readers and writers may keep working meanwhile); or ``database/nengtan.pgdump`` —
  PostgreSQL: ``pg_dump --format=custom`` of the URL's database, taken in an exported snapshot
  so that the row counts of the manifest describe exactly the dumped data;
* ``evidence/...`` — every file of the evidence directory (``NENGTAN_EVIDENCE_DIR``), copied
  after the database snapshot: an evidence file is written before the row that refers to it is
  committed, so every file the snapshot refers to is already on disk;
* ``keys/<name>`` and ``keys/<name>.pub`` — the ledger's Ed25519 signing key
  (``NENGTAN_LEDGER_KEY``) and its public key.  The private key is SECRET: whoever holds it can
  sign ledger checkpoints.  ``include_keys=False`` leaves it out (the public key is kept);
* ``manifest.json`` (the last member) — format, nengtan version, creation time (UTC), backend,
  Alembic revision, row count of every table, and the SHA-256 and size of every other member.

:func:`restore` checks every member against the manifest before it touches the target,
refuses to overwrite a target that holds data unless forced, restores, and then verifies the
result (:func:`verify_installation`): row counts equal the manifest's, the audit chain and the
ledger verify, every evidence file has the SHA-256 of its database row.

The archive is created with mode 0600 (it holds the signing key and all business data) and
written to ``<out>.partial`` first, renamed only when complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path, PurePosixPath

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from nengtan import __version__
from nengtan.i18n import t

FORMAT = "nengtan-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DB_SQLITE = "database/nengtan.sqlite3"
DB_PG = "database/nengtan.pgdump"
EVIDENCE = "evidence/"
KEYS = "keys/"
_INCOMING = ".incoming"  # evidence uploads in progress (services.evidence)
_CHUNK = 1 << 20


# -- problems and errors -----------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One reason to refuse or to fail: an i18n key (``backup.*``) and its parameters."""

    code: str
    params: dict = field(default_factory=dict)

    def text(self, lang: str | None = None) -> str:
        return t(f"backup.{self.code}", lang, **self.params)

    def __str__(self) -> str:
        return f"{self.text('zh-CN')} | {self.text('en')}"


class BackupError(Exception):
    """Nothing was written (backup) or the target was not touched (restore refusals)."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = problems if isinstance(problems, list) else [problems]
        super().__init__("; ".join(p.text("en") for p in self.problems))


# -- database helpers --------------------------------------------------------------------------
def backend_of(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(Problem("unsupported_backend", {"backend": name}))
    return name


def _sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(Problem("sqlite_memory", {"url": url}))
    return Path(database).expanduser().resolve()


def table_names(conn: Connection) -> list[str]:
    """Every table of the database (PostgreSQL: the current schema, partitions counted in
    their parent table), sorted."""
    if conn.dialect.name == "postgresql":
        sql = ("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
               "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
               "AND NOT c.relispartition ORDER BY 1")
    else:
        sql = ("SELECT name FROM sqlite_master WHERE type = 'table' "
               "AND name NOT LIKE 'sqlite_%' ORDER BY 1")
    return [r[0] for r in conn.execute(text(sql))]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_counts(conn: Connection) -> dict[str, int]:
    """Rows per table, in the connection's current transaction (snapshot)."""
    return {name: int(conn.execute(text(f"SELECT count(*) FROM {_quote(name)}")).scalar())
            for name in table_names(conn)}


def _revision(conn: Connection, tables) -> str | None:
    if "alembic_version" not in tables:
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _plain_engine(url: str) -> Engine:
    """An engine that neither migrates nor seeds (backup and restore must not write)."""
    from nengtan.store import db

    return db.make_engine(url)


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(Problem("tool_missing", {"tool": name}))
    return path


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """(connection URI for pg_dump/pg_restore, environment); the password goes into
    ``PGPASSWORD``, never onto a command line that ``ps`` shows."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False)
    return uri, env


def _run_tool(args: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise BackupError(Problem("tool_failed", {
            "tool": Path(args[0]).name, "code": proc.returncode,
            "stderr": (proc.stderr or proc.stdout).strip()[-2000:]}))


# -- files -------------------------------------------------------------------------------------
def sha256_file(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size in bytes."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def evidence_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(relative POSIX name, path) of every regular file under the evidence directory, in name
    order; uploads in progress (``.incoming``) and symbolic links are left out."""
    root = Path(root)
    if not root.is_dir():
        return
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != _INCOMING)
        for name in filenames:
            path = Path(dirpath) / name
            if stat.S_ISREG(path.lstat().st_mode):
                found.append((path.relative_to(root).as_posix(), path))
    yield from sorted(found)


class _Hashing:
    """A read-only file wrapper that hashes and counts what tarfile reads from it."""

    def __init__(self, fh):
        self.fh, self.digest, self.size = fh, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


class _Writer:
    """Adds members to the archive, recording SHA-256 and size of each."""

    def __init__(self, tar: tarfile.TarFile, mtime: float):
        self.tar, self.mtime, self.files = tar, mtime, {}

    def add_file(self, name: str, path: Path, secret: bool = False) -> None:
        with open(path, "rb") as fh:
            info = self._info(name, os.fstat(fh.fileno()).st_size, secret)
            wrapped = _Hashing(fh)
            self.tar.addfile(info, wrapped)
        self.files[name] = {"sha256": wrapped.digest.hexdigest(), "size": wrapped.size}
        if secret:
            self.files[name]["secret"] = True

    def add_bytes(self, name: str, data: bytes) -> None:
        import io

        self.tar.addfile(self._info(name, len(data), False), io.BytesIO(data))

    def _info(self, name: str, size: int, secret: bool) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size, info.mtime = size, self.mtime
        info.mode = 0o600 if secret else 0o644
        info.uname = info.gname = ""
        return info


# -- backup ------------------------------------------------------------------------------------
@dataclass
class _Snapshot:
    member: str
    path: Path
    revision: str | None
    tables: dict[str, int]
    #: SHA-256 → file names of the evidence uploads the snapshot refers to
    evidence: dict[str, list[str]]


def _evidence_refs(conn: Connection, tables) -> dict[str, list[str]]:
    refs: dict[str, list[str]] = {}
    if tables.get("evidence_files"):
        for sha, name in conn.execute(text("SELECT sha256, filename FROM evidence_files "
                                           "ORDER BY id")):
            refs.setdefault(sha, []).append(name)
    return refs


def _snapshot_sqlite(url: str, staging: Path) -> _Snapshot:
    source = _sqlite_file(url)
    if not source.is_file():
        raise BackupError(Problem("db_missing", {"path": str(source)}))
    copy = staging / "nengtan.sqlite3"
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(copy)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst)  # online backup API: a consistent copy even while others write
    finally:
        dst.close()
        src.close()
    eng = create_engine(f"sqlite:///{copy}")
    try:
        with eng.connect() as conn:
            tables = table_counts(conn)
            revision = _revision(conn, tables)
            refs = _evidence_refs(conn, tables)
    finally:
        eng.dispose()
    return _Snapshot(DB_SQLITE, copy, revision, tables, refs)


def _snapshot_postgres(url: str, staging: Path) -> _Snapshot:
    pg_dump = _pg_tool("pg_dump")
    dump = staging / "nengtan.pgdump"
    eng = _plain_engine(url)
    try:
        with eng.connect().execution_options(isolation_level="REPEATABLE READ") as conn, \
                conn.begin():
            # The dump runs in this transaction's snapshot (pg_dump --snapshot), so the
            # counts below describe exactly what is dumped, whatever is written meanwhile.
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar()
            tables = table_counts(conn)
            revision = _revision(conn, tables)
            refs = _evidence_refs(conn, tables)
            uri, env = _libpq(url)
            _run_tool([pg_dump, "--format=custom", f"--snapshot={snapshot}",
                       f"--file={dump}", f"--dbname={uri}"], env)
    finally:
        eng.dispose()
    return _Snapshot(DB_PG, dump, revision, tables, refs)


@dataclass
class BackupReport:
    """What :func:`create` wrote: the archive, its manifest and warnings (evidence files the
    database refers to but the directory lacks: the backup is as damaged as its source)."""

    archive: Path
    manifest: dict
    warnings: list[Problem] = field(default_factory=list)


def create(url: str, out: Path, *, evidence_dir: Path, key_path: Path,
           include_keys: bool = True) -> BackupReport:
    """Write one archive of the installation at ``url`` to ``out`` (see the module)."""
    backend = backend_of(url)
    out = Path(out).expanduser().resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    created = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix=".nengtan-backup-", dir=out.parent) as tmp:
        staging = Path(tmp)
        snap = (_snapshot_sqlite if backend == "sqlite" else _snapshot_postgres)(url, staging)
        partial = out.with_name(out.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        evidence_bytes = 0
        keys: dict = {"included": False, "private": None, "public": None}
        try:
            with os.fdopen(fd, "wb") as raw, \
                    tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6,
                                 format=tarfile.PAX_FORMAT) as tar:
                writer = _Writer(tar, created.timestamp())
                writer.add_file(snap.member, snap.path)
                for name, path in evidence_files(evidence_dir):
                    writer.add_file(EVIDENCE + name, path)
                    evidence_bytes += writer.files[EVIDENCE + name]["size"]
                key_path = Path(key_path)
                pub = key_path.with_name(key_path.name + ".pub")
                if include_keys and key_path.is_file():
                    writer.add_file(KEYS + key_path.name, key_path, secret=True)
                    keys.update(included=True, private=KEYS + key_path.name)
                if pub.is_file():
                    writer.add_file(KEYS + pub.name, pub)
                    keys["public"] = KEYS + pub.name
                manifest = {
                    "format": FORMAT, "format_version": FORMAT_VERSION,
                    "nengtan_version": __version__,
                    "created_at": created.isoformat().replace("+00:00", "Z"),
                    "backend": backend,
                    "database": {"file": snap.member, "alembic_revision": snap.revision,
                                 "tables": snap.tables, "rows": sum(snap.tables.values())},
                    "evidence": {"files": sum(1 for n in writer.files if n.startswith(EVIDENCE)),
                                 "bytes": evidence_bytes},
                    "keys": keys,
                    "files": writer.files,
                }
                writer.add_bytes(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2,
                                                      sort_keys=True).encode("utf-8"))
            os.replace(partial, out)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupReport(out, manifest, _missing_evidence(snap, manifest["files"]))


def _missing_evidence(snap: _Snapshot, files: dict) -> list[Problem]:
    """Evidence uploads of the snapshot whose file is not in the archive with its SHA-256
    (lost or damaged at the source: the archive is as incomplete as the installation)."""
    out = []
    for sha, names in snap.evidence.items():
        member = files.get(f"{EVIDENCE}{sha[:2]}/{sha}")
        if member is None or member["sha256"] != sha:
            out.append(Problem("evidence_missing_at_source", {"sha256": sha,
                                                              "files": ", ".join(names)}))
    return out


# -- reading an archive ------------------------------------------------------------------------
def _safe_member(info: tarfile.TarInfo, directory: bool = False) -> bool:
    """A regular file (or, with ``directory``, a folder) with a relative name inside one of
    the archive's folders: never a link, a device, an absolute path or ``..``."""
    path = PurePosixPath(info.name)
    kind_ok = info.isdir() if directory else info.isfile()
    return (kind_ok and not path.is_absolute() and ".." not in path.parts
            and bool(path.parts) and (str(path) == MANIFEST or path.parts[0] in
                                      ("database", "evidence", "keys")))


def unpack(archive: Path, staging: Path) -> dict:
    """Extract ``archive`` into ``staging`` and check every member against the manifest;
    return the manifest.  Raises :class:`BackupError` naming each damaged, missing or
    unexpected member (and the member being read when the archive itself is unreadable)."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(Problem("archive_missing", {"archive": str(archive)}))
    actual: dict[str, dict] = {}
    unsafe: list[Problem] = []
    current = "-"
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for info in tar:
                current = info.name
                if info.isdir() and (not PurePosixPath(info.name).parts
                                     or _safe_member(info, directory=True)):
                    continue  # an archive re-packed by other tools may list its folders
                if not _safe_member(info):
                    unsafe.append(Problem("member_unsafe", {"member": info.name}))
                    continue
                name = str(PurePosixPath(info.name))  # "./evidence/x" (re-packed) → "evidence/x"
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(info)
                digest, size = hashlib.sha256(), 0
                with open(target, "wb") as out:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                actual[name] = {"sha256": digest.hexdigest(), "size": size}
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(Problem("archive_unreadable", {
            "archive": str(archive), "member": current, "error": str(exc) or type(exc).__name__})
        ) from None
    if unsafe:
        raise BackupError(unsafe)
    if MANIFEST not in actual:
        raise BackupError(Problem("manifest_missing", {"archive": str(archive)}))
    try:
        manifest = json.loads((staging / MANIFEST).read_text("utf-8"))
        fmt, version = manifest["format"], int(manifest["format_version"])
        files = manifest["files"]
        for key in ("file", "tables", "alembic_revision"):
            if key not in manifest["database"]:
                raise KeyError(f"database.{key}")
        if not isinstance(files, dict) or manifest["database"]["file"] not in files:
            raise KeyError("files")
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(Problem("manifest_invalid", {"archive": str(archive),
                                                       "error": str(exc)})) from None
    if fmt != FORMAT or version > FORMAT_VERSION:
        raise BackupError(Problem("format_unsupported", {"format": fmt, "version": version}))
    problems = []
    for name, want in sorted(files.items()):
        got = actual.get(name)
        if got is None:
            problems.append(Problem("member_missing", {"member": name}))
        elif got["sha256"] != want["sha256"] or got["size"] != want["size"]:
            problems.append(Problem("member_changed", {"member": name,
                                                       "expected": want["sha256"],
                                                       "actual": got["sha256"]}))
    for name in sorted(set(actual) - set(files) - {MANIFEST}):
        problems.append(Problem("member_extra", {"member": name}))
    if problems:
        raise BackupError(problems)
    return manifest


def read_manifest(archive: Path) -> dict:
    """The manifest of an archive after checking every member (nothing is restored)."""
    with tempfile.TemporaryDirectory(prefix=".nengtan-check-") as tmp:
        return unpack(archive, Path(tmp))


# -- the target --------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def fresh_install_counts() -> dict[str, int]:
    """Rows per table of a freshly migrated and seeded database (the shipped carriers, the
    schema revision ...): a target holding no more than this holds no data of its own."""
    from sqlalchemy.orm import Session

    from nengtan.services import meters
    from nengtan.store import db

    with tempfile.TemporaryDirectory(prefix=".nengtan-fresh-") as tmp:
        eng = db.make_engine(f"sqlite:///{Path(tmp) / 'fresh.db'}")
        try:
            db.upgrade(eng)
            with Session(eng) as s, s.begin():
                meters.seed_carriers(s)
            with eng.connect() as conn:
                return {k: v for k, v in table_counts(conn).items() if v}
        finally:
            eng.dispose()


def _data_tables(conn: Connection) -> list[str]:
    """Tables holding more rows than a fresh install has in them."""
    fresh = fresh_install_counts()
    out = []
    for name in table_names(conn):
        if name in fresh:
            n = conn.execute(text(f"SELECT count(*) FROM {_quote(name)}")).scalar()
            if n > fresh[name]:
                out.append(name)
        elif conn.execute(text(f"SELECT 1 FROM {_quote(name)} LIMIT 1")).first() is not None:
            out.append(name)
    return out


def _maintenance_url(url: str) -> tuple[str, str]:
    """(URL of a maintenance database on the same server, target database name)."""
    parsed = make_url(url)
    name = parsed.database
    if not name:
        raise BackupError(Problem("pg_no_database", {"url": url}))
    other = "template1" if name == "postgres" else "postgres"
    return parsed.set(database=other).render_as_string(hide_password=False), name


def _pg_exists(url: str) -> bool:
    admin_url, name = _maintenance_url(url)
    admin = create_engine(_psycopg(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                {"n": name}).first() is not None
    finally:
        admin.dispose()


def _psycopg(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def target_data(url: str) -> list[str]:
    """Tables of the target database that hold data of their own ([] for a missing or fresh
    database)."""
    if backend_of(url) == "sqlite":
        path = _sqlite_file(url)
        if not path.is_file() or path.stat().st_size == 0:
            return []
    elif not _pg_exists(url):
        return []
    eng = _plain_engine(url)
    try:
        with eng.connect() as conn:
            return _data_tables(conn)
    finally:
        eng.dispose()


def _restore_sqlite(url: str, staged: Path) -> None:
    target = _sqlite_file(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{staged}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _restore_postgres(url: str, staged: Path) -> None:
    pg_restore = _pg_tool("pg_restore")
    admin_url, name = _maintenance_url(url)
    admin = create_engine(_psycopg(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {_quote(name)} TEMPLATE template0 "
                              "ENCODING 'UTF8'"))
    finally:
        admin.dispose()
    uri, env = _libpq(url)
    # One transaction: a failing restore leaves an empty database, never half of one.  Owners
    # and grants of the source server are not reproduced; the restoring role owns everything.
    _run_tool([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error",
               "--single-transaction", f"--dbname={uri}", str(staged)], env)


def _place_evidence(staging: Path, manifest: dict, root: Path) -> int:
    """Move the archive's evidence files into ``root``; a file already there with the same
    bytes stays, one with other bytes (damaged) is replaced.  Returns files written."""
    written = 0
    for name, meta in manifest["files"].items():
        if not name.startswith(EVIDENCE):
            continue
        final = root / name[len(EVIDENCE):]
        if final.is_file() and sha256_file(final)[0] == meta["sha256"]:
            continue
        final.parent.mkdir(parents=True, exist_ok=True)
        final.unlink(missing_ok=True)
        shutil.move(staging / name, final)
        os.chmod(final, 0o444)  # evidence is never rewritten in place (services.evidence)
        written += 1
    return written


def _key_conflict(staging: Path, manifest: dict, key_path: Path) -> bool:
    private = manifest.get("keys", {}).get("private")
    return bool(private and key_path.is_file()
                and key_path.read_bytes() != (staging / private).read_bytes())


def _place_key(staging: Path, manifest: dict, key_path: Path, stamp: str) -> str | None:
    """Install the archive's signing key at ``key_path``; a different key already there is
    kept as ``<name>.replaced-<stamp>`` (never deleted).  Returns where the old key went."""
    private = manifest.get("keys", {}).get("private")
    if not private:
        return None
    pub = key_path.with_name(key_path.name + ".pub")
    moved = None
    if key_path.is_file() and key_path.read_bytes() != (staging / private).read_bytes():
        moved = key_path.with_name(f"{key_path.name}.replaced-{stamp}")
        os.replace(key_path, moved)
        if pub.is_file():
            os.replace(pub, moved.with_name(moved.name + ".pub"))
    key_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write((staging / private).read_bytes())
    os.chmod(key_path, 0o600)  # also when an existing file was rewritten
    public = manifest["keys"].get("public")
    if public:
        pub.write_bytes((staging / public).read_bytes())
    return str(moved) if moved else None


# -- verification ------------------------------------------------------------------------------
@dataclass
class Check:
    """One verification of a restored installation: ``name`` (i18n ``backup.check.<name>``),
    ``ok``, and the problems found."""

    name: str
    ok: bool
    summary: Problem
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"check": self.name, "ok": self.ok,
                "summary": {"zh-CN": self.summary.text("zh-CN"), "en": self.summary.text("en")},
                "problems": [{"zh-CN": p.text("zh-CN"), "en": p.text("en")}
                             for p in self.problems]}


def verify_installation(url: str, manifest: dict, *, evidence_dir: Path,
                        key_path: Path) -> list[Check]:
    """Compare a restored installation with the manifest it came from and verify its chains:
    row counts and schema revision, the audit log's hash chain, the ledger (every record
    recomputed, every checkpoint's signature), every evidence file against its row."""
    from sqlalchemy.orm import Session

    from nengtan.services import audit, evidence, ledger

    checks: list[Check] = []
    eng = _plain_engine(url)
    try:
        with eng.connect() as conn:
            counts = table_counts(conn)
            revision = _revision(conn, counts)
        want = manifest["database"]["tables"]
        problems = [Problem("count_mismatch", {"table": name, "expected": want.get(name, "-"),
                                               "actual": counts.get(name, "-")})
                    for name in sorted(set(want) | set(counts))
                    if want.get(name) != counts.get(name)]
        checks.append(Check("tables", not problems, Problem("check.tables", {
            "tables": len(counts), "rows": sum(counts.values())}), problems))
        expected_rev = manifest["database"].get("alembic_revision")
        checks.append(Check("revision", revision == expected_rev, Problem("check.revision", {
            "revision": revision, "expected": expected_rev})))
        with Session(eng) as s:
            if "audit_log" in counts:
                chain = audit.verify_chain(s)
                checks.append(Check("audit", chain.ok, Problem("check.audit", {
                    "rows": chain.checked}), [] if chain.ok else [Problem("audit_broken", {
                        "id": chain.first_bad_id, "problem": chain.problem})]))
            if "ledger_entries" in counts:
                rep = ledger.verify(s, evidence_root=Path(evidence_dir), key=Path(key_path))
                problems = ([Problem("ledger_item", {"text": m["message"], "text_zh":
                                                     m["message_zh"]})
                             for m in rep["mismatches"]]
                            + [Problem("ledger_item", {"text": f"#{p['entry_id']} {p['message']}",
                                                       "text_zh": p["message_zh"]})
                               for p in rep["entry_problems"]]
                            + [Problem("ledger_item", {
                                "text": f"checkpoint #{p['checkpoint_id']}: {p['message']}",
                                "text_zh": f"检查点 #{p['checkpoint_id']}：{p['message_zh']}"})
                               for p in rep["checkpoint_problems"]])
                checks.append(Check("ledger", bool(rep["ok"]), Problem("check.ledger", {
                    "entries": rep["entries"], "checkpoints": rep["checkpoints"]}), problems))
            if "evidence_files" in counts:
                ev = evidence.verify(s, Path(evidence_dir))
                problems = ([Problem("evidence_missing", {"sha256": i["sha256"],
                                                          "files": ", ".join(i["filenames"])})
                             for i in ev.missing]
                            + [Problem("evidence_changed", {"sha256": i["sha256"],
                                                            "files": ", ".join(i["filenames"])})
                               for i in ev.changed])
                checks.append(Check("evidence", ev.ok, Problem("check.evidence", {
                    "files": ev.files, "uploads": ev.uploads}), problems))
    finally:
        eng.dispose()
    return checks


# -- restore -----------------------------------------------------------------------------------
@dataclass
class RestoreReport:
    """Result of :func:`restore`: the manifest restored, the checks, and what was replaced."""

    manifest: dict
    checks: list[Check]
    evidence_written: int
    replaced_key: str | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "backend": self.manifest["backend"],
                "created_at": self.manifest["created_at"],
                "alembic_revision": self.manifest["database"]["alembic_revision"],
                "evidence_written": self.evidence_written, "replaced_key": self.replaced_key,
                "checks": [c.as_dict() for c in self.checks]}


def restore(archive: Path, url: str, *, evidence_dir: Path, key_path: Path,
            force: bool = False) -> RestoreReport:
    """Restore ``archive`` into the database at ``url``, ``evidence_dir`` and ``key_path``,
    then verify the result (see the module).  Raises :class:`BackupError`, with the target
    untouched, when the archive is damaged, made for another backend, or the target holds
    data and ``force`` is not given."""
    backend = backend_of(url)
    evidence_dir, key_path = Path(evidence_dir).resolve(), Path(key_path).resolve()
    # Staged next to the evidence directory (same file system: files are moved, not copied),
    # in its nearest existing ancestor, so that a refused restore creates nothing.
    work = next(p for p in evidence_dir.parents if p.is_dir())
    with tempfile.TemporaryDirectory(prefix=".nengtan-restore-", dir=work) as tmp:
        staging = Path(tmp)
        manifest = unpack(archive, staging)
        if manifest["backend"] != backend:
            raise BackupError(Problem("backend_mismatch", {"archive": manifest["backend"],
                                                           "target": backend}))
        if not force:
            refusals = []
            tables = target_data(url)
            if tables:
                shown = ", ".join(tables[:8]) + (f" (+{len(tables) - 8})" if len(tables) > 8 else "")
                refusals.append(Problem("target_db_not_empty", {"target": _shown(url),
                                                                "tables": shown}))
            present = sum(1 for _ in evidence_files(evidence_dir))
            if present:
                refusals.append(Problem("target_evidence_not_empty", {
                    "path": str(evidence_dir), "files": present}))
            if _key_conflict(staging, manifest, key_path):
                refusals.append(Problem("target_key_differs", {"path": str(key_path)}))
            if refusals:
                raise BackupError(refusals)
        db_file = staging / manifest["database"]["file"]
        if backend == "sqlite":
            _restore_sqlite(url, db_file)
        else:
            _restore_postgres(url, db_file)
        written = _place_evidence(staging, manifest, evidence_dir)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        replaced = _place_key(staging, manifest, key_path, stamp)
    checks = verify_installation(url, manifest, evidence_dir=evidence_dir, key_path=key_path)
    return RestoreReport(manifest, checks, written, replaced)


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
