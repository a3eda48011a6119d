"""HTTP/JSON pulls against a real HTTP server (http.server on 127.0.0.1 in a thread), through a
real collector writing into SQLite and PostgreSQL.

The server plays an energy-management system's REST API whose data grow between pulls; its
request log shows which cursor each pull sent.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from nengtan.collect import config as collect_config
from nengtan.collect import cursors
from nengtan.collect.cursors import CursorSettings, time_us
from nengtan.collect.http_pull import _MISSING, json_path
from nengtan.services import collect_admin, production, query
from nengtan.store.types import to_us

T0 = datetime(2026, 1, 1, tzinfo=UTC)
Q = timedelta(minutes=15)
TOKEN = "s3cret-token"


class Api:
    """A small REST API of another system; ``records[path]`` grows while the test runs."""

    def __init__(self):
        self.records: dict[str, list] = {"readings": [], "changes": [], "output": []}
        self.log: list[dict] = []
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output quiet
                pass

            def do_GET(self):
                api.handle(self, None)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                api.handle(self, orjson.loads(self.rfile.read(n)) if n else None)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add(self, name: str, *records) -> None:
        with self.lock:
            self.records[name] += records

    def requests(self, path: str) -> list[dict]:
        with self.lock:
            return [r for r in self.log if r["path"] == path]

    def handle(self, h: BaseHTTPRequestHandler, body) -> None:
        url = urlsplit(h.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        with self.lock:
            self.log.append({"path": url.path, "params": params, "body": body,
                             "auth": h.headers.get("Authorization")})
            status, answer = self.route(url.path, params, body, h.headers.get("Authorization"))
        data = answer if isinstance(answer, bytes) else orjson.dumps(answer)
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def route(self, path: str, params: dict, body, auth):
        if path == "/api/v1/readings":  # id cursor, ?since=&limit=, bearer token required
            if auth != f"Bearer {TOKEN}":
                return 401, {"error": "unauthorized"}
            since, limit = int(params["since"]), int(params.get("limit", 1000))
            rows = [r for r in self.records["readings"]  # bad records are always sent
                    if not isinstance(r, dict) or not isinstance(r.get("id"), int)
                    or r["id"] > since]
            return 200, {"data": {"items": rows[:limit]}}
        if path == "/api/v1/changes":  # updated_at >= since, pages of 2 with a next token
            since = datetime.fromisoformat(params["since"])
            rows = [r for r in self.records["changes"]
                    if datetime.fromisoformat(r["updated_at"]) >= since]
            start = int(params.get("page_token", 0))
            more = start + 2 < len(rows)
            return 200, {"items": rows[start:start + 2], "next": str(start + 2) if more else None}
        if path == "/erp/output":  # POST {"plant": ..., "after": seq}
            rows = [r for r in self.records["output"] if r["seq"] > int(body["after"])]
            return 200, {"plant": body["plant"], "result": {"rows": rows}}
        if path == "/maintenance":
            return 200, b"<html>down for maintenance</html>"
        if path == "/no-list":
            return 200, {"data": {"items": {"not": "a list"}}}
        return 503, {"error": "service unavailable"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def api():
    server = Api()
    yield server
    server.close()


def reading(i: int, tag: str, k: int, value: float, **more) -> dict:
    """Record ``i`` of the readings API: ``tag`` at T0 + k quarter hours, epoch ms."""
    return {"id": i, "meter_tag": tag, "time": to_us(T0 + k * Q) // 1000, "kwh": value, **more}


def readings_adapter(api: Api, **more) -> dict:
    return {"type": "http", "name": "ems", "url": f"{api.url}/api/v1/readings",
            "bearer_token_env": "EMS_TOKEN", "params": {"limit": 3}, "page_size": 3,
            "cursor_param": "since", "cursor": {"field": "id", "type": "int"},
            "records": "data.items", "interval_s": 0.05,
            "readings": {"tag": "meter_tag", "ts": "time", "value": "kwh"},
            "tags": {"meter-1/kwh": "E1", "meter-2/wh": {"meter": "E2", "unit": "Wh"}}, **more}


def run_to_end(start_collector, *adapters: dict) -> dict:
    """A collector whose adapters all have ``once: true`` stops by itself when they finish."""
    c = start_collector({"collector": {"name": "plant-a", "flush": {"max_delay_s": 0.05}},
                         "adapters": [{**a, "once": True} for a in adapters]})
    c.thread.join(60)
    return c.stop()


def values(engine, meter_id: int) -> list[tuple[str, float]]:
    with engine.connect() as conn:
        rows = query.raw_readings(conn, meter_id, query.Window(to_us(T0), to_us(T0 + 96 * Q)))
    return [(r["ts"], r["value"]) for r in rows["readings"]]


def stored_cursor(engine, adapter: str) -> str | None:
    with engine.connect() as conn:
        return cursors.load(conn, "plant-a", adapter)


def letters(engine) -> list[dict]:
    with Session(engine) as s:
        return sorted(collect_admin.dead_letters(s), key=lambda d: d["id"])


# -- end to end ------------------------------------------------------------------------------

def test_pulls_are_incremental_and_a_restart_resumes_from_the_stored_cursor(
        engine, site, start_collector, api, monkeypatch):
    monkeypatch.setenv("EMS_TOKEN", TOKEN)
    for k in range(3):  # E1 +1 kWh, E2 +2000 Wh per quarter hour
        api.add("readings", reading(2 * k + 1, "meter-1/kwh", k, 100.0 + k),
                reading(2 * k + 2, "meter-2/wh", k, 200_000.0 + 2000 * k))
    c = start_collector({"collector": {"name": "plant-a", "flush": {"max_delay_s": 0.05}},
                         "adapters": [readings_adapter(api)]})
    c.wait_until(lambda s: s["totals"]["stored"] == 6 and stored_cursor(engine, "ems") == "6")
    api.add("readings", reading(7, "meter-1/kwh", 3, 103.0), reading(8, "meter-2/wh", 3, 206_000))
    c.wait_until(lambda s: s["totals"]["stored"] == 8 and stored_cursor(engine, "ems") == "8")
    snap = c.stop()
    assert snap["adapters"]["ems"]["duplicates"] == 0  # nothing was pulled twice
    assert snap["adapters"]["ems"]["devices"]["ems"]["received"] == 8
    sent = [r["params"]["since"] for r in api.requests("/api/v1/readings")]
    # 0 → a full page of 3 → at once again after 3 → again after 6 (a short page: wait) ...
    assert sent[:3] == ["0", "3", "6"]
    assert set(sent) <= {"0", "3", "6", "8"} and sent == sorted(sent, key=int)
    assert {r["auth"] for r in api.requests("/api/v1/readings")} == {f"Bearer {TOKEN}"}

    # Stopped; the source moves on; a new collector with the same name starts after id 8.
    api.add("readings", reading(9, "meter-1/kwh", 4, 104.0))
    before = len(api.log)
    snap = run_to_end(start_collector, readings_adapter(api))
    assert api.log[before]["params"]["since"] == "8"
    assert snap["adapters"]["ems"]["stored"] == 1 and snap["adapters"]["ems"]["duplicates"] == 0
    assert stored_cursor(engine, "ems") == "9"
    iso = [f"2026-01-01T{h:02d}:{m:02d}:00Z" for h, m in ((0, 0), (0, 15), (0, 30), (0, 45),
                                                         (1, 0))]
    assert values(engine, site["E1"]) == list(zip(iso, [100.0, 101.0, 102.0, 103.0, 104.0]))
    assert values(engine, site["E2"]) == list(zip(iso[:4], [200.0, 202.0, 204.0, 206.0]))  # Wh→kWh
    assert letters(engine) == []


def test_a_lost_cursor_commit_repulls_and_stores_nothing_twice(
        engine, site, start_collector, api, monkeypatch):
    monkeypatch.setenv("EMS_TOKEN", TOKEN)
    api.add("readings", *[reading(k + 1, "meter-1/kwh", k, 10.0 * k) for k in range(5)])
    first = run_to_end(start_collector, readings_adapter(api))
    assert first["adapters"]["ems"]["stored"] == 5 and stored_cursor(engine, "ems") == "5"
    # A crash after the readings' commit and before the cursor's leaves the old cursor.
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM collect_cursors"))
    again = run_to_end(start_collector, readings_adapter(api))
    assert again["adapters"]["ems"]["duplicates"] == 5  # all pulled again, none stored again
    assert stored_cursor(engine, "ems") == "5"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM readings")).scalar() == 5


def test_bad_records_are_dead_lettered_and_the_pull_goes_on(
        engine, site, start_collector, api, monkeypatch):
    monkeypatch.setenv("EMS_TOKEN", TOKEN)
    naive = (T0 + 8 * Q).replace(tzinfo=None).isoformat()
    api.add("readings",
            reading(1, "meter-1/kwh", 0, 1.0),
            reading(2, "meter-1/kwh", 1, "n/a"),                        # not a number
            {**reading(3, "meter-1/kwh", 2, 3.0), "time": naive},      # no offset, no timezone
            {**reading(4, "x", 3, 4.0), "meter_tag": None},            # no tag
            reading(5, "meter-9/kwh", 4, 5.0),                         # tag not mapped (sink)
            reading("abc", "meter-1/kwh", 5, 6.0),                     # cursor not an int
            reading(7, "meter-1/kwh", 6, 7.0, q="weird"),              # bad quality code
            reading(8, "meter-1/kwh", 7, 8.0, q="estimated"),
            42)                                                        # not a record
    snap = run_to_end(start_collector, readings_adapter(api, page_size=None, params={},
                                                        readings={"tag": "meter_tag",
                                                                  "ts": "time", "value": "kwh",
                                                                  "quality": "q"}))
    ems = snap["adapters"]["ems"]
    assert (ems["received"], ems["stored"], ems["rejected"], ems["dead_lettered"]) == (9, 2, 7, 7)
    assert stored_cursor(engine, "ems") == "8"  # past the bad records
    with engine.connect() as conn:
        got = query.raw_readings(conn, site["E1"], query.Window(to_us(T0), to_us(T0 + 9 * Q)))
    assert [(r["ts"], r["value"], r["quality"]) for r in got["readings"]] == [
        ("2026-01-01T00:00:00Z", 1.0, "measured"), ("2026-01-01T01:45:00Z", 8.0, "estimated")]
    found = {(d["reason"], d["detail"].get("field")): d for d in letters(engine)}
    assert set(found) == {
        ("dead.pull_bad_number", "kwh"), ("dead.pull_bad_time", "time"),
        ("dead.pull_missing_field", "meter_tag"), ("dead.unknown_tag", None),
        ("dead.pull_bad_cursor", "id"), ("dead.pull_bad_quality", "q"),
        ("dead.pull_not_record", None)}
    bad_number = found[("dead.pull_bad_number", "kwh")]
    assert orjson.loads(bad_number["preview"]) == reading(2, "meter-1/kwh", 1, "n/a")
    assert bad_number["source"] == f"{api.url}/api/v1/readings"
    assert bad_number["detail"] == {"index": 1, "field": "kwh", "value": "n/a", "device": "ems"}
    assert bad_number["message"] == {
        "en": "Field kwh of the pulled record is not a finite number: n/a",
        "zh-CN": "拉取的记录中字段 kwh 不是有限数值：n/a"}
    assert found[("dead.pull_bad_cursor", "id")]["detail"]["type"] == "int"
    assert found[("dead.unknown_tag", None)]["detail"]["tags"] == ["meter-9/kwh"]


def test_token_pages_datetime_cursor_wide_records_and_local_times(
        engine, site, start_collector, api):
    local = ZoneInfo("Asia/Shanghai")

    def change(k: int, imp: float, exp: float) -> dict:  # local time without offset
        return {"updated_at": (T0 + k * Q).astimezone(local).replace(tzinfo=None).isoformat(),
                "device": "meter-1", "kwh_import": imp, "kwh_export": exp}

    api.add("changes", *[change(k, 50.0 + k, 5.0 + 0.5 * k) for k in range(5)])
    adapter = {"type": "http", "name": "changes", "url": f"{api.url}/api/v1/changes",
               "cursor_param": "since", "records": "items", "timezone": "Asia/Shanghai",
               "cursor": {"field": "updated_at", "type": "datetime",
                          "initial": "2026-01-01T00:00:00"},
               "page_token": {"path": "next", "param": "page_token"},
               "readings": {"ts": "updated_at", "values": ["kwh_import", "kwh_export"],
                            "prefix": "device"},
               "tags": {"meter-1/kwh_import": "E1", "meter-1/kwh_export": "E3"}}
    snap = run_to_end(start_collector, adapter)
    pages = [r["params"] for r in api.requests("/api/v1/changes")]
    assert pages == [{"since": "2026-01-01T00:00:00"},
                     {"since": "2026-01-01T00:00:00", "page_token": "2"},
                     {"since": "2026-01-01T00:00:00", "page_token": "4"}]
    assert snap["adapters"]["changes"]["stored"] == 10
    # 08:00 in Shanghai (UTC+8) is 00:00 UTC; the cursor keeps the source's own notation.
    assert stored_cursor(engine, "changes") == "2026-01-01T09:00:00"
    assert values(engine, site["E1"])[0] == ("2026-01-01T00:00:00Z", 50.0)
    assert [v for _, v in values(engine, site["E3"])] == [5.0, 5.5, 6.0, 6.5, 7.0]

    # updated_at >= since: the next pull reads the last record again; it is stored once.
    api.add("changes", change(5, 55.0, 7.5))
    again = run_to_end(start_collector, adapter)
    assert api.requests("/api/v1/changes")[-1]["params"] == {"since": "2026-01-01T09:00:00"}
    assert (again["adapters"]["changes"]["stored"],
            again["adapters"]["changes"]["duplicates"]) == (4, 2)
    assert len(values(engine, site["E1"])) == 6


def test_production_records_from_an_erp_post_api_exactly_once(
        engine, site, start_collector, api):
    with Session(engine) as s, s.begin():
        production.upsert_product(s, {"code": "CLK", "name_zh": "熟料", "unit": "t"})
    api.add("output",
            {"seq": 1, "line": "S", "item": "CLK", "day": "2026-01-01", "qty": 100.5, "uom": "t"},
            {"seq": 2, "line": "S", "item": "CLK", "day": "2026-01-02", "qty": 98000, "uom": "kg"},
            {"seq": 3, "line": "S", "item": "XXX", "day": "2026-01-02", "qty": 1.0},
            {"seq": 4, "line": "S", "item": "CLK", "day": "2026-01-03", "qty": "lots"},
            {"seq": 5, "line": "S", "item": "CLK", "qty": 7.0})
    adapter = {"type": "http", "name": "erp", "url": f"{api.url}/erp/output", "method": "POST",
               "body": {"plant": "A"}, "cursor_param": "after", "records": "result.rows",
               "cursor": {"field": "seq"}, "target": "production",
               "production": {"node": "line", "product": "item", "period_start": "day",
                              "quantity": "qty", "unit": "uom", "defaults": {"source": "ERP"}}}
    snap = run_to_end(start_collector, adapter)
    assert api.requests("/erp/output")[0]["body"] == {"plant": "A", "after": "0"}
    erp = snap["adapters"]["erp"]
    assert (erp["received"], erp["stored"], erp["dead_lettered"]) == (5, 2, 3)
    assert stored_cursor(engine, "erp") == "5"
    refused = letters(engine)
    assert [(d["detail"]["index"], d["detail"]["rule"], d["detail"]["field"]) for d in refused] == [
        (2, "rule.ref_unknown", "product"), (3, "rule.type_float", "quantity"),
        (4, "rule.required", "period_start")]
    assert {d["reason"] for d in refused} == {"dead.pull_production_refused"}
    assert orjson.loads(refused[0]["preview"])["item"] == "XXX"
    assert refused[0]["detail"]["issues"][0]["message"] == "no product with this code"

    # A correction of day 1 (same node, product and period) replaces the first figure.
    api.add("output",
            {"seq": 6, "line": "S", "item": "CLK", "day": "2026-01-01", "qty": 101.0, "uom": "t"})
    run_to_end(start_collector, adapter)
    assert api.requests("/erp/output")[-1]["body"] == {"plant": "A", "after": "5"}
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT period_start, period_end, quantity, unit, source FROM production_records "
            "ORDER BY period_start")).all()
        n_letters = conn.execute(text("SELECT count(*) FROM dead_letters")).scalar()
    assert [(str(a), str(b), q, u, src) for a, b, q, u, src in rows] == [
        ("2026-01-01", "2026-01-01", 101.0, "t", "ERP"),
        ("2026-01-02", "2026-01-02", 98000.0, "kg", "ERP")]
    assert n_letters == 3 and stored_cursor(engine, "erp") == "6"


def test_unusable_answers_are_dead_lettered_and_failures_back_off(
        engine, site, start_collector, api):
    common = {"type": "http", "interval_s": 0.05, "cursor": {"field": "id"},
              "cursor_param": "since", "records": "data.items"}
    c = start_collector({
        "collector": {"name": "plant-a", "flush": {"max_delay_s": 0.05},
                      "backoff": {"initial_s": 0.05, "max_s": 0.2}},
        "adapters": [
            {**common, "name": "html", "url": f"{api.url}/maintenance"},
            {**common, "name": "shape", "url": f"{api.url}/no-list"},
            {**common, "name": "down", "url": f"{api.url}/gone"},
            {**common, "name": "no-token", "url": f"{api.url}/api/v1/readings"},
            {**common, "name": "refused", "url": "http://127.0.0.1:9/x", "timeout_s": 2}]})
    snap = c.wait_until(lambda s: all(
        s["adapters"][a]["reconnects"] >= 2 for a in ("down", "no-token", "refused"))
        and s["adapters"]["html"]["dead_lettered"] and s["adapters"]["shape"]["dead_lettered"])
    c.stop()
    assert "HTTP 503" in snap["adapters"]["down"]["last_error"]
    assert "HTTP 401" in snap["adapters"]["no-token"]["last_error"]
    assert snap["adapters"]["refused"]["last_error"].startswith("ConnectionError")
    by_adapter = {}
    for d in letters(engine):
        by_adapter.setdefault(d["adapter"], d)
    assert by_adapter["html"]["reason"] == "dead.not_json"
    assert by_adapter["html"]["preview"] == "<html>down for maintenance</html>"
    assert by_adapter["html"]["detail"]["request"] == {"since": "0"}
    assert by_adapter["shape"]["reason"] == "dead.bad_shape"
    assert by_adapter["shape"]["detail"]["field"] == "data.items"
    assert set(by_adapter) == {"html", "shape"}
    with engine.connect() as conn:
        kinds = conn.execute(text(
            "SELECT DISTINCT kind FROM collector_events WHERE adapter = 'down'")).scalars().all()
        assert conn.execute(text("SELECT count(*) FROM collect_cursors")).scalar() == 0
    assert set(kinds) == {"disconnected"}


# -- configuration and pure helpers ------------------------------------------------------------

def test_configuration_errors_are_named():
    base = {"type": "http", "url": "http://h/x"}
    with pytest.raises(collect_config.ConfigError) as err:
        collect_config.parse({"adapters": [
            {**base, "name": "a", "cursor": {"field": "id"}},
            {**base, "name": "b", "url": "ftp://h/x"},
            {**base, "name": "c", "body": {"x": 1}},
            {**base, "name": "d", "readings": {"prefix": "dev"}},
            {**base, "name": "e", "target": "production", "production": {"defaults": {"x": 1}}},
            {**base, "name": "f", "timezone": "Mars/Olympus"},
            {**base, "name": "g", "cursor": {"field": "id", "initial": "zero"},
             "cursor_param": "since"},
            {**base, "name": "h", "interval": 5},
        ]})
    lines = str(err.value).splitlines()[1:]
    expected = [("(a)", "cursor needs cursor_param"), ("(b).url", "http(s)://host"),
                ("(c)", "body is only sent with method POST"), ("(d).readings", "prefix"),
                ("(e).production.defaults", "unknown key(s) ['x']"),
                ("(f).timezone", "unknown timezone"), ("(g).cursor", "'zero' is not a cursor"),
                ("(h).interval", "Extra inputs")]
    assert len(lines) == len(expected)
    for i, (line, (where, what)) in enumerate(zip(lines, expected)):
        assert line.strip().startswith(f"adapters[{i}] {where}") and what in line


def test_the_example_configuration_is_valid():
    cfg = collect_config.load(Path(__file__).parents[2] / "examples" / "collect" /
                              "interfaces.yaml")
    kinds = [(settings.type, settings.target) for _, settings in cfg.adapters]
    assert ("http", "readings") in kinds and ("sql", "production") in kinds


def test_json_paths_times_and_cursor_values():
    doc = {"data": {"items": [{"id": 1}, {"id": 2}]}, "next": None}
    assert json_path(doc, "data.items.1.id") == 2
    assert json_path(doc, "data.items.-1") == {"id": 2}
    assert json_path(doc, "") is doc
    assert json_path(doc, "next") is None
    assert json_path(doc, "data.rows") is _MISSING and json_path(doc, "data.items.5") is _MISSING
    # 2026-01-01T00:00:00Z is 1,767,225,600 s after the epoch (56 years incl. 14 leap days:
    # (56 × 365 + 14) × 86,400 = 1,767,225,600).
    assert time_us(1_767_225_600, None, "s") == 1_767_225_600_000_000
    assert time_us(1_767_225_600_000, None, "ms") == 1_767_225_600_000_000
    assert time_us("2026-01-01T08:00:00+08:00", None, "ms") == 1_767_225_600_000_000
    assert time_us("2026-01-01 08:00", ZoneInfo("Asia/Shanghai"), "ms") == 1_767_225_600_000_000
    with pytest.raises(ValueError):
        time_us("2026-01-01 08:00", None, "ms")
    with pytest.raises(TypeError):
        time_us(True, None, "ms")
    c = CursorSettings(field="updated_at", type="datetime")
    naive, aware = c.parse("2026-01-01T00:00:00"), c.parse("2026-01-01T00:00:01Z")
    assert c.key(naive) < c.key(aware) and c.dump(aware) == "2026-01-01T00:00:01+00:00"
    assert c.first() == datetime(1970, 1, 1)
    i = CursorSettings(field="id")
    assert (i.parse("17"), i.parse(17.0), i.dump(17), i.first()) == (17, 17, "17", 0)
    for bad in (True, 1.5, "x", None):
        with pytest.raises((TypeError, ValueError)):
            i.parse(bad)
