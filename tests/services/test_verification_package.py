"""The verification package of a locked inventory: contents, manifest hashes, offline proofs,
the evidence file, the locked result's bytes, the GHG report inside (Excel cells, PDF text).

A small enterprise on both databases: park P (region shandong) → enterprise E → site S, with
a daily electricity meter ELEC (grid → S, 1 000 kWh/day over January 2025 = 31 MWh) and
diesel entered as a value with its evidence file (2 t for January, from the fuel card
statement).  Shipped factors: Shandong grid 0.641 tCO2/MWh (2022, the latest ≤ 2025) →
31 × 0.641 = 19.871 tCO2; diesel NCV 42.652 GJ/t, 20.2 tC/TJ, oxidation 0.98 →
2 × 42.652 × 20.2 × 0.98 × 44/12 / 1000 = 6.19200... tCO2.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import numpy as np
import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from nengtan.config import get_settings
from nengtan.errors import InputError, NotFound
from nengtan.ledger import verify_proof
from nengtan.services import evidence, ingest, inventories, meters, org
from nengtan.services import inventory_sources as sources
from nengtan.services import verification_package as vp
from nengtan.services.audit import Actor

US = 1_000_000
DAY = 86400 * US
T0 = 1_735_660_800 * US  # 2025-01-01 00:00 Asia/Shanghai
GRID_T = 31 * 0.641
DIESEL_T = 2 * 42.652 * 20.2 * 0.98 * 44 / 12 / 1000
EVIDENCE = "加油卡月结单 2025-01\n柴油 2.000 t\n".encode()


@pytest.fixture(autouse=True)
def _ledger_key(tmp_path, monkeypatch):
    monkeypatch.setenv("NENGTAN_LEDGER_KEY", str(tmp_path / "ledger.pem"))


def build(engine, lock: bool = True) -> int:
    root = get_settings().resolved_evidence_dir()
    with Session(engine) as s, s.begin():
        org.create(s, {"code": "P", "name_zh": "园区", "kind": "park", "region": "shandong"})
        org.create(s, {"code": "E", "name_zh": "示范企业", "name_en": "Demo Co.",
                       "kind": "enterprise", "parent": "P", "industry_code": "3399"})
        org.create(s, {"code": "S", "name_zh": "厂区", "kind": "site", "parent": "E"})
        mid = meters.create(s, {"code": "ELEC", "name_zh": "进线", "node": "S",
                                "carrier": "electricity", "unit": "kWh", "interval_s": 86400,
                                "level": 1, "flow_to": "S"}).id
        ev = evidence.store(s, root, EVIDENCE, filename="加油卡月结单.txt",
                            actor=Actor("clerk", "test"), tenant="E").id
        inv_id = inventories.create(s, {"code": "INV-E", "name_zh": "示范企业盘查",
                                        "enterprise": "E", "period": "2025-01"}).id
        sources.create(s, {"code": "GRID", "name_zh": "外购电力", "kind": "electricity",
                           "inventory": "INV-E", "links": ["ELEC"]})
        sources.create(s, {"code": "DIESEL", "name_zh": "叉车柴油", "kind": "combustion",
                           "carrier": "diesel", "unit": "t", "inventory": "INV-E",
                           "links": [{"kind": "value", "value": 2.0, "unit": "t",
                                      "source": "fuel card statement 2025-01",
                                      "evidence_id": ev}]})
    ts = T0 + np.arange(32, dtype=np.int64) * DAY
    with engine.begin() as conn:
        ingest.ingest(conn, ingest.ReadingBatch(np.full(32, mid), ts,
                                                1000.0 + np.arange(32) * 1000.0), "test")
    with Session(engine) as s, s.begin():
        if lock:
            inventories.lock(s, inv_id, "verifier-prep")
        else:
            inventories.compute(s, inv_id, "tester")
    return inv_id


def _zip(pkg) -> dict[str, bytes]:
    z = zipfile.ZipFile(io.BytesIO(pkg.content))
    return {n: z.read(n) for n in z.namelist()}


def test_contents_and_manifest(engine):
    build(engine)
    with engine.connect() as conn:
        pkg = vp.build(conn, "INV-E")
    files = _zip(pkg)
    assert pkg.filename == "nengtan-verification-INV-E-v1.zip"
    for name in ("README.md", "manifest.json", "SHA256SUMS", "data/activity.csv",
                 "data/parameters.csv", "data/factors.csv", "evidence/index.csv",
                 "lineage/result.json", "lineage/version-record.json", "ledger/entries.csv",
                 "ledger/checkpoint.json", "ledger/public-key.pem",
                 "report/nengtan-ghg-report-E-2025-01-v1-zh-CN.pdf",
                 "report/nengtan-ghg-report-E-2025-01-v1-en.xlsx"):
        assert name in files, name
    manifest = json.loads(files["manifest.json"])
    listed = {f["path"]: f for f in manifest["files"]}
    # every file but the manifest and the sums is listed, with its SHA-256 and size
    assert set(listed) == set(files) - {"manifest.json", "SHA256SUMS"}
    for path, f in listed.items():
        assert hashlib.sha256(files[path]).hexdigest() == f["sha256"], path
        assert len(files[path]) == f["size"]
    sums = dict(reversed(line.split("  ", 1)) for line in
                files["SHA256SUMS"].decode().splitlines())
    assert sums == {p: f["sha256"] for p, f in listed.items()}
    assert manifest["inventory"]["status"] == "locked"
    assert manifest["inventory"]["total_tco2e"] == pytest.approx(GRID_T + DIESEL_T)
    # the evidence file, by its SHA-256
    sha = hashlib.sha256(EVIDENCE).hexdigest()
    assert files[f"evidence/{sha}/加油卡月结单.txt"] == EVIDENCE
    readme = files["README.md"].decode()
    assert "nengtan ledger verify-proof" in readme and "sha256sum -c SHA256SUMS" in readme
    assert "离线核对步骤" in readme and "How to check it offline" in readme


def test_activity_and_factor_files(engine):
    build(engine)
    with engine.connect() as conn:
        files = _zip(vp.build(conn, "INV-E", langs=("zh-CN",)))
    rows = [r.split(",") for r in files["data/activity.csv"].decode("utf-8-sig").splitlines()]
    head = rows[0]
    got = [dict(zip(head, r)) for r in rows[1:]]
    grid = [r for r in got if r["source"] == "GRID"]
    # the period row and the one month (January) of the meter link
    assert {r["period"] for r in grid} == {"2025-01"}
    assert all(r["reference"] == "ELEC" and float(r["link_quantity"]) == pytest.approx(31.0)
               for r in grid)
    diesel = next(r for r in got if r["source"] == "DIESEL")
    assert diesel["evidence_sha256"] == hashlib.sha256(EVIDENCE).hexdigest()
    factors = files["data/factors.csv"].decode("utf-8-sig")
    assert "grid_factor,electricity,0.641" in factors and "unverified" in factors
    params = files["data/parameters.csv"].decode("utf-8-sig")
    assert "DIESEL,ncv,42.652,GJ/t,library" in params


def test_every_proof_verifies_offline(engine):
    build(engine)
    with engine.connect() as conn:
        pkg = vp.build(conn, "INV-E", langs=("zh-CN",))
    files = _zip(pkg)
    pem = files["ledger/public-key.pem"].decode()
    entries = files["ledger/entries.csv"].decode("utf-8-sig").splitlines()[1:]
    kinds = {line.split(",")[1] for line in entries}
    # readings of the meter per day, the evidence file, factor values, sources, the result
    assert {"readings", "evidence_file", "factor_value", "inventory_source",
            "inventory_result"} <= kinds
    proofs = [n for n in files if n.startswith("ledger/proofs/")]
    assert len(proofs) == len(entries) == pkg.manifest["ledger"]["entries"]
    for name in proofs:
        assert verify_proof(json.loads(files[name]), public_key=pem)["ok"], name
    # the locked result: lineage/version-record.json is the ledgered record, byte for byte
    result_entry = pkg.manifest["ledger"]["result_entry"]
    doc = json.loads(files[f"ledger/proofs/{result_entry}.json"])
    check = verify_proof(doc, public_key=pem, data=files["lineage/version-record.json"])
    assert check["ok"] and check["entry"]["kind"] == "inventory_result"
    record = json.loads(files["lineage/version-record.json"])
    assert record["result"] == json.loads(files["lineage/result.json"])["result"]
    # the evidence file against its entry
    sha = hashlib.sha256(EVIDENCE).hexdigest()
    ev = next(line.split(",")[0] for line in entries if ",evidence_file," in line)
    doc = json.loads(files[f"ledger/proofs/{ev}.json"])
    assert verify_proof(doc, public_key=pem, data=files[f"evidence/{sha}/加油卡月结单.txt"])["ok"]
    assert not verify_proof(doc, public_key=pem, data=b"something else")["ok"]


def test_report_inside_the_package(engine, tmp_path):
    import shutil
    import subprocess

    build(engine)
    with engine.connect() as conn:
        files = _zip(vp.build(conn, "INV-E"))
    wb = load_workbook(io.BytesIO(files["report/nengtan-ghg-report-E-2025-01-v1-zh-CN.xlsx"]))
    assert wb.sheetnames[:2] == ["封面", "基本信息"]
    assert wb["封面"]["A1"].value == "示范企业温室气体排放报告"
    rows = list(wb["排放量"].iter_rows(values_only=True))
    totals = {r[0]: r[1] for r in rows if r and isinstance(r[1], float)}
    assert totals["直接排放（范围一）"] == pytest.approx(DIESEL_T)
    assert totals["间接排放（范围二，基于位置）"] == pytest.approx(GRID_T)
    assert totals["排放总量"] == pytest.approx(GRID_T + DIESEL_T)
    factors = list(wb["排放因子"].iter_rows(values_only=True))
    assert any(r[1] == "电网排放因子" and r[2] == 0.641 and r[6] == "未核实" for r in factors)
    en = load_workbook(io.BytesIO(files["report/nengtan-ghg-report-E-2025-01-v1-en.xlsx"]))
    assert en["Cover"]["A1"].value == "Demo Co. — greenhouse gas emission report"
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "r.pdf"
    path.write_bytes(files["report/nengtan-ghg-report-E-2025-01-v1-zh-CN.pdf"])
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "示范企业温室气体排放报告" in text
    for title in ("一、基本信息", "二、核算边界", "三、排放源", "四、活动数据", "五、排放因子",
                  "六、排放量", "七、数据质量管理"):
        assert title in text


def test_draft_version_has_no_ledger_part(engine):
    build(engine, lock=False)
    with engine.connect() as conn:
        pkg = vp.build(conn, "INV-E", langs=("en",))
        with pytest.raises(NotFound):
            vp.build(conn, "INV-NOPE")
        with pytest.raises(NotFound):
            vp.build(conn, "INV-E", version=7)
    files = _zip(pkg)
    assert pkg.manifest["ledger"] is None
    assert not any(n.startswith("ledger/") for n in files)
    assert "not locked" in files["README.md"].decode()


def test_no_version_yet(engine):
    with Session(engine) as s, s.begin():
        org.create(s, {"code": "E", "name_zh": "企业", "kind": "enterprise"})
        inventories.create(s, {"code": "INV-0", "name_zh": "空", "enterprise": "E",
                               "period": "2025"})
    with engine.connect() as conn, pytest.raises(InputError) as exc:
        vp.build(conn, "INV-0")
    assert exc.value.issues[0].rule == "rule.ghg_no_version"
