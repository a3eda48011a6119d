"""/api/import and /api/export/{kind}: files through nengtan.exchange."""

from __future__ import annotations

import csv
import io

from .helpers import make_meter, ok, post_readings, problems

NODES = "code,name_zh,kind,parent\nP,园区,park,\nE1,企业,enterprise,P\n"


def _upload(client, text: str, name: str = "nodes.csv", **params):
    return client.post("/api/import", params=params,
                       files={"file": (name, text.encode("utf-8"), "text/csv")})


def test_import_dry_run_then_for_real(client):
    report = ok(_upload(client, NODES, dry_run=True))
    assert (report["kinds"], report["created"], report["dry_run"]) == (["nodes"], 2, True)
    assert ok(client.get("/api/nodes"))["total"] == 0
    report = ok(_upload(client, NODES, kind="nodes"))
    assert (report["created"], report["file"]) == (2, "nodes.csv")
    assert [n["code"] for n in ok(client.get("/api/nodes"))["items"]] == ["P", "E1"]
    assert ok(_upload(client, NODES))["unchanged"] == 2


def test_import_rejects_bad_files_whole(client):
    bad = NODES + "W,车间,workshop,NOPE\n"
    assert set(problems(_upload(client, bad))) == {(4, "parent", "ref_unknown"),
                                                   (4, "parent", "parent_kind")}
    assert ok(client.get("/api/nodes"))["total"] == 0
    assert problems(_upload(client, NODES, kind="spells")) == [(None, "kind", "choice")]
    assert problems(client.post("/api/import")) == [(None, "file", "required")]


def test_export_files(client, site):
    r = client.get("/api/export/nodes", params={"lang": "en"})
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == 'attachment; filename="nengtan-nodes.csv"'
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"))))
    assert rows[0][:4] == ["code", "name_zh", "name_en", "kind"]
    assert [row[0] for row in rows[1:]] == ["P", "E1", "S1", "W1"]
    zh = client.get("/api/export/nodes", headers={"accept-language": "zh-CN"})
    assert zh.content.decode("utf-8-sig").startswith("编码,名称")  # header in the caller's language

    t = client.get("/api/export/meters", params={"template": True, "format": "xlsx"})
    assert t.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert t.headers["content-disposition"] == 'attachment; filename="nengtan-meters-template.xlsx"'
    assert t.content[:2] == b"PK"  # a zip container


def test_export_readings_round_trip(client, site):
    make_meter(client, "M1", register="interval", interval_s=3600)
    make_meter(client, "M2", register="interval", interval_s=3600)
    post_readings(client, [{"meter": m, "ts": f"2025-01-0{d}T00:00", "value": v}
                           for m in ("M1", "M2") for d, v in ((1, 10), (2, 20), (3, 30))])
    r = client.get("/api/export/readings", params={"lang": "en", "meters": "M1",
                                                   "start": "2025-01-02", "end": "2025-01-03"})
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"))))
    assert rows[0][:3] == ["meter", "ts", "value"]
    assert [(row[0], float(row[2])) for row in rows[1:]] == [("M1", 20.0)]
    everything = client.get("/api/export/readings", params={"lang": "en"}).content.decode()
    report = ok(_upload(client, everything, name="readings.csv"))
    assert (report["readings"]["rows"], report["readings"]["unchanged"]) == (6, 6)
    assert problems(client.get("/api/export/readings", params={"meters": "M1,NOPE"})) == [
        (None, "meters", "meter_unknown")]


def test_export_bad_requests(client):
    assert problems(client.get("/api/export/spells"), 404) == [(None, "id", "not_found")]
    assert problems(client.get("/api/export/nodes", params={"format": "pdf"})) == [
        (None, "format", "choice")]
    assert problems(client.get("/api/export/readings", params={"start": "soon"})) == [
        (None, "start", "type_datetime")]
