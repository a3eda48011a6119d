"""Evidence files: content-addressed storage, limits, no overwrite, verification."""

from __future__ import annotations

import hashlib
import os

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from nengtan.errors import InputError
from nengtan.services import evidence, org
from nengtan.services.audit import Actor
from nengtan.store.models.manual import EvidenceFile

CLERK = Actor("wangfang", "10.0.0.7")
# SHA-256 of b"abc" (FIPS 180-2, appendix B.1).
ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.fixture
def tree(engine):
    with Session(engine) as s, s.begin():
        org.create(s, {"code": "P", "name_zh": "园区", "kind": "park"})
        org.create(s, {"code": "E1", "name_zh": "企业", "kind": "enterprise", "parent": "P"})
        org.create(s, {"code": "S1", "name_zh": "厂区", "kind": "site", "parent": "E1"})
    return engine


def _store(engine, root, data, name="report.pdf", **kw):
    with Session(engine, expire_on_commit=False) as s, s.begin():
        return evidence.store(s, root, data, filename=name, actor=CLERK, **kw)


def _writable(path):
    os.chmod(path, 0o644)
    return path


def test_stored_under_its_sha256(tree, tmp_path):
    root = tmp_path / "ev"
    row = _store(tree, root, b"abc", name="C:\\fakepath\\化验报告.pdf", tenant="S1")
    path = root / "ba" / ABC
    assert row.sha256 == ABC and path.read_bytes() == b"abc" and row.size == 3
    assert row.filename == "化验报告.pdf" and row.content_type == "application/pdf"
    with Session(tree) as s:
        enterprise = org.by_code(s, "E1").id
        assert row.tenant_id == enterprise  # the site's tenant
        audited = s.execute(text("SELECT user_name, action, object_id, source FROM audit_log")
                            ).all()
    assert [tuple(a) for a in audited] == [("wangfang", "evidence.upload", str(row.id),
                                            "10.0.0.7")]
    assert not os.access(path, os.W_OK) or os.geteuid() == 0  # stored read-only


def test_same_content_is_stored_once(tree, tmp_path):
    a = _store(tree, tmp_path, b"abc", name="a.csv")
    b = _store(tree, tmp_path, b"abc", name="b.csv", content_type="text/csv")
    assert a.id != b.id and a.sha256 == b.sha256 == ABC
    assert sorted(p.name for p in (tmp_path / "ba").iterdir()) == [ABC]
    assert not any((tmp_path / ".incoming").iterdir())


def test_streams_from_a_file_object(tree, tmp_path):
    data = os.urandom(3 * evidence.CHUNK + 17)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    with open(src, "rb") as fh:
        row = _store(tree, tmp_path / "ev", fh, name="big.bin")
    assert row.sha256 == hashlib.sha256(data).hexdigest() and row.size == len(data)


def test_size_limit_and_empty_files_store_nothing(tree, tmp_path):
    root = tmp_path / "ev"
    with pytest.raises(InputError) as exc:
        _store(tree, root, b"x" * 11, max_bytes=10)
    assert [(i.rule, i.field, i.params) for i in exc.value.issues] == [
        ("rule.manual_evidence_too_large", "file", {"max": 10})]
    with pytest.raises(InputError) as exc:
        _store(tree, root, b"")
    assert exc.value.issues[0].rule == "rule.manual_evidence_empty"
    with pytest.raises(InputError) as exc:
        _store(tree, root, b"abc", name="", tenant="NOPE")
    assert [(i.rule, i.field) for i in exc.value.issues] == [
        ("rule.required", "filename"), ("rule.ref_unknown", "tenant")]
    with Session(tree) as s:
        assert s.scalar(select(func.count()).select_from(EvidenceFile)) == 0
    leftovers = [p for p in root.rglob("*") if p.is_file()]
    assert leftovers == []


def test_never_overwrites_a_different_file(tree, tmp_path):
    bad = tmp_path / "ba" / ABC
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"tampered")
    with pytest.raises(evidence.EvidenceStoreError) as exc:
        _store(tree, tmp_path, b"abc")
    assert exc.value.issue.rule == "rule.manual_evidence_collision"
    assert bad.read_bytes() == b"tampered"


def test_verify_names_missing_changed_and_orphan_files(tree, tmp_path):
    rows = [_store(tree, tmp_path, data, name=f"{i}.txt")
            for i, data in enumerate((b"one", b"two", b"three"))]
    with Session(tree) as s:
        assert evidence.verify(s, tmp_path).as_dict()["ok"]
    evidence.path_of(tmp_path, rows[0].sha256).unlink()
    _writable(evidence.path_of(tmp_path, rows[1].sha256)).write_bytes(b"tw0")
    orphan = hashlib.sha256(b"orphan").hexdigest()
    (tmp_path / orphan[:2]).mkdir(exist_ok=True)
    (tmp_path / orphan[:2] / orphan).write_bytes(b"orphan")
    with Session(tree) as s:
        report = evidence.verify(s, tmp_path)
    assert not report.ok and (report.files, report.uploads) == (3, 3)
    assert report.missing == [{"sha256": rows[0].sha256, "ids": [rows[0].id],
                               "filenames": ["0.txt"]}]
    assert [(c["sha256"], c["actual_sha256"]) for c in report.changed] == [
        (rows[1].sha256, hashlib.sha256(b"tw0").hexdigest())]
    assert report.orphans == [orphan]


def test_verified_path(tree, tmp_path):
    row = _store(tree, tmp_path, b"abc")
    assert evidence.verified_path(tmp_path, row).read_bytes() == b"abc"
    _writable(evidence.path_of(tmp_path, ABC)).write_bytes(b"abd")
    with pytest.raises(evidence.EvidenceStoreError) as exc:
        evidence.verified_path(tmp_path, row)
    assert exc.value.issue.rule == "rule.manual_evidence_changed"
    evidence.path_of(tmp_path, ABC).unlink()
    with pytest.raises(evidence.EvidenceStoreError) as exc:
        evidence.verified_path(tmp_path, row)
    assert exc.value.issue.rule == "rule.manual_evidence_missing"


def test_long_names_keep_their_extension():
    name = "报" * 300 + ".pdf"
    cleaned = evidence.clean_filename(name)
    assert len(cleaned) == 255 and cleaned.endswith(".pdf")
    assert evidence.clean_filename("/etc/../x/ledger.csv") == "ledger.csv"
