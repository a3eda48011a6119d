"""CEMS endpoints: monitors, JSON and CSV uploads, hourly CO2, gaps, errors."""

from __future__ import annotations

import pytest

from .helpers import created, ok, problems

# 18 % CO2 wet with 10 % moisture = 20 % dry = 392 700.99 mg/m³; 400 000 m³/h at 120 °C and
# 99 kPa = 244 379.07 m³/h standard dry; one hour = 392 700.99 × 244 379.07 × 10⁻⁹ = 95.9679 t
HOURLY_T = 95.9679


@pytest.fixture
def monitor(client, site):
    return created(client.post("/api/cems/monitors", json={
        "code": "K1", "name_zh": "窑尾CEMS", "name_en": "Kiln stack", "node": "W1",
        "co2_basis": "wet"}))


def rows(minutes, hour="08", **fields):
    base = {"co2": 18, "flow": 400000, "temp": 120, "pressure": 99, "moisture": 10}
    return [{"monitor": "K1", "ts": f"2025-01-01T{hour}:{m:02d}:00+08:00", **base, **fields}
            for m in minutes]


def test_monitor_crud(client, site, monitor):
    assert monitor["node"] == "W1" and monitor["node_id"] == site["W1"]
    assert monitor["tenant_id"] == site["E1"] and monitor["interval_s"] == 60
    assert monitor["required_params"] == ["co2", "flow", "temp", "pressure", "moisture"]
    assert ok(client.get(f"/api/cems/monitors/{monitor['id']}"))["code"] == "K1"
    listed = ok(client.get("/api/cems/monitors", params={"node": "W1"}))
    assert listed["total"] == 1 and listed["items"][0]["code"] == "K1"
    changed = ok(client.patch(f"/api/cems/monitors/{monitor['id']}",
                              json={"flow_basis": "std_dry", "co2_basis": "dry"}))
    assert changed["required_params"] == ["co2", "flow"]
    assert problems(client.post("/api/cems/monitors", json={
        "code": "K1", "name_zh": "x", "node": "NOPE", "interval_s": 7})) == [
        (None, "code", "duplicate"), (None, "node", "ref_unknown"),
        (None, "interval_s", "cems_interval")]
    missing = client.get("/api/cems/monitors/999")
    assert missing.status_code == 404
    assert "烟气在线监测点" in missing.json()["detail"][0]["message_zh"]


def test_json_upload_hours_and_resend(client, monitor):
    body = {"source": "dcs", "samples": rows(range(60))}
    out = ok(client.post("/api/cems/samples", json=body))
    assert (out["rows"], out["samples"], out["inserted"], out["hours"]) == (60, 300, 300, 1)
    again = ok(client.post("/api/cems/samples", json=body))
    assert (again["inserted"], again["unchanged"], again["hours"]) == (0, 300, 0)
    hours = ok(client.get(f"/api/cems/monitors/{monitor['id']}/hours",
                          params={"start": "2025-01-01T08:00", "end": "2025-01-01T10:00"}))
    assert hours["timezone"] == "Asia/Shanghai" and hours["start"] == "2025-01-01T00:00:00Z"
    first, second = hours["hours"]
    assert first["status"] == "valid" and first["co2_t"] == pytest.approx(HOURLY_T, abs=1e-4)
    assert first["averages"]["co2_dry_pct"] == pytest.approx(20.0)
    assert first["start_local"] == "2025-01-01T08:00:00+08:00"
    assert second["status"] == "missing" and second["co2_t"] is None
    assert hours["summary"]["data_capture_pct"] == 50
    assert "HJ 76-2017" in " ".join(hours["lineage"]["standards"])


def test_csv_upload_with_flags_and_gaps(client, monitor):
    csv_text = "ts,co2,flow,temp,pressure,moisture,status\n" + "\n".join(
        f"2025-01-01 08:{m:02d},18,400000,120,99,10,{'D' if m < 30 else 'N'}" for m in range(60))
    r = client.post("/api/cems/samples", params={"monitor": "K1", "source": "file"},
                    content=csv_text.encode(), headers={"content-type": "text/csv"})
    assert ok(r)["inserted"] == 300
    g = ok(client.get(f"/api/cems/monitors/{monitor['id']}/gaps",
                      params={"start": "2025-01-01", "end": "2025-01-01T09:00"}))
    # 00:00-08:00 local: missing; 08:00: invalid (30 valid min, partial 95.9679/2 = 47.9840 t)
    assert [(x["status"], x["hours"]) for x in g["gaps"]] == [("missing", 8), ("invalid", 1)]
    invalid = g["gaps"][1]
    assert invalid["partial_co2_t"] == pytest.approx(HOURLY_T / 2, abs=1e-4)
    assert {r["param"] for r in invalid["reasons"]} == {"co2", "flow", "temp", "pressure",
                                                        "moisture"}
    assert all(r["flag"] == "D" and r["minutes"] == 30 for r in invalid["reasons"])
    assert "故障" in invalid["reasons"][0]["message_zh"]
    raw = ok(client.get(f"/api/cems/monitors/{monitor['id']}/samples",
                        params={"start": "2025-01-01T08:00", "end": "2025-01-01T08:01",
                                "param": "co2"}))
    assert [(s["value"], s["status"]) for s in raw["samples"]] == [(18.0, "D")]


def test_upload_errors_name_row_field_and_rule(client, monitor):
    bad = rows([0, 1, 2])
    bad[0]["co2"] = "abc"
    bad[1]["monitor"] = "NOPE"
    bad[2]["status"] = "N/A"
    r = client.post("/api/cems/samples", json={"samples": bad, "extra": 1},
                    headers={"accept-language": "en"})
    assert problems(r) == [(None, "extra", "unknown_field")]
    r = client.post("/api/cems/samples", json={"samples": bad})
    assert sorted(problems(r), key=str) == sorted([
        (0, "co2", "type_float"), (1, "monitor", "ref_unknown"),
        (2, "status", "cems_status")], key=str)
    csv_bad = "ts,co2,so2\n2025-01-01 08:00,18,1\n"
    r = client.post("/api/cems/samples", params={"monitor": "K1"}, content=csv_bad.encode(),
                    headers={"content-type": "text/csv"})
    assert problems(r) == [(1, "so2", "header_unknown")]
    r = client.post("/api/cems/samples", content=b"x", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    r = client.get(f"/api/cems/monitors/{monitor['id']}/hours",
                   params={"start": "2025-01-02", "end": "2025-01-01"})
    assert problems(r) == [(None, "end", "period")]
    empty = ok(client.get(f"/api/cems/monitors/{monitor['id']}/samples",
                          params={"start": "2025-01-01", "end": "2025-01-02"}))
    assert empty["samples"] == []
