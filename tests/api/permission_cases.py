"""The sample request of every API route for ``test_permissions.py``.

A :class:`Case` builds the request of one route for one *scope*: the enterprise whose object
the request names (``"CEM"`` the cement plant, ``"TEX"`` the dyeing plant), ``"CEM-X"``
(another inventory of CEM than the one the demo verifier may see), ``"QLP"`` (the park itself),
``"SELF"``/``"OTHER"`` (an object of the caller / of another user) or ``None`` (a route about
no object: lists, searches, shared catalogues).  The ids and codes come from the demo database
(:func:`collect_samples`), after :func:`prepare` added the few objects the demo lacks (a TEX
CEMS monitor, a CEM meter event and energy parameter, node-scoped benchmark links, a second
CEM inventory, an ingestion batch of TEX alone, a user to administer, a dead letter).

What each write sends is said in its ``note``.  A change of an object named in the path sends
a body that passes the request schema (so the endpoint runs and looks the object up: another
tenant's object answers 404) and then fails the service's own checks (422) or is a harmless
valid change.  A create that names its enterprise's objects in the body is valid (201), so
the other enterprise's variant can only be refused for naming an object the caller may not
see (the test checks that the 422 names it).  Every caller acts on its own copy of the
database, so a change by one role never shows in another role's answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from nengtan import reference
from nengtan.demo import users_demo
from nengtan.services import identity
from nengtan.services.audit import Actor
from nengtan.store.models.collect import DeadLetter

#: Enterprise scopes and their node codes (tenant nodes of the demo park).
ENTERPRISES = ("CEM", "TEX")
PARK = "QLP"
SETUP = Actor("permission-test-setup", "test")
PROBE_USER = "perm_probe"
PROBE_PASSWORD = "Probe@Passw0rd!"
DEMO_PASSWORD = users_demo.PASSWORD
#: one day of 15-minute data in the demo's last full month
DAY = {"start": "2026-10-05", "end": "2026-10-06"}
MONTH = "2026-10"

OK_READ = frozenset({200})
#: a write that may succeed (200/201/204) or be refused by the service's own rules (422)
OK_WRITE = frozenset({200, 201, 204, 422})
NOT_FOUND = frozenset({404})
#: a create naming another tenant's object in its body: that object does not exist for the
#: caller, which the service reports as an unknown reference (422) or 404
NOT_VISIBLE_REF = frozenset({404, 422})


@dataclass(frozen=True)
class Req:
    """One HTTP request (path with ids filled in)."""

    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    data: dict[str, Any] | None = None
    files: dict[str, Any] | None = None
    content: bytes | None = None
    headers: dict[str, str] | None = None


@dataclass(frozen=True)
class Case:
    """How to call one route: ``build(samples, scope) -> Req`` for each of ``scopes``
    (``()``: one call about no object)."""

    build: Callable[[Samples, str | None], Req]
    scopes: tuple[str, ...] = ()
    #: statuses that count as "allowed" for a caller who may reach the object
    ok: frozenset[int] = OK_READ
    #: statuses expected for an object outside the caller's scope
    out: frozenset[int] = NOT_FOUND
    #: the object belongs to an inventory (a verifier sees only the granted one)
    inventory: bool = False
    note: str = ""
    #: order of execution within a role: reads, writes, then deletions (later = higher)
    phase: int = 0


def _read(path: Callable[[dict, str | None], str], scopes=ENTERPRISES, params=None,
          **kw) -> Case:
    def build(s, e):
        p = params(s, e) if callable(params) else params
        return Req(path(s, e), params=p)
    return Case(build, scopes, **kw)


def _list(path: str, params=None, **kw) -> Case:
    return Case(lambda s, e: Req(path, params=params), (), **kw)


def _by_code(path: str, name: str, extra=None, scopes=ENTERPRISES, value=None, **kw) -> Case:
    """A GET naming its object by code in the query (``node=CEM``)."""
    def build(s, e):
        params = {name: value(s, e) if value else e, **(extra or {})}
        return Req(path, params=params)
    return Case(build, scopes, **kw)


def _write(build, scopes=ENTERPRISES, ok=OK_WRITE, phase=1, **kw) -> Case:
    return Case(build, scopes, ok=ok, phase=phase, **kw)


def _delete(path, scopes=ENTERPRISES, ok=frozenset({204, 200, 422}), phase=2, **kw) -> Case:
    return Case(lambda s, e: Req(path(s, e)), scopes, ok=ok, phase=phase, **kw)


def _csv_file(name: str, content: str) -> dict:
    return {"file": (name, content.encode("utf-8"), "text/csv")}


# -- the table: (method, route) -> Case --------------------------------------------------------
CASES: dict[tuple[str, str], Case] = {}


def case(method: str, route: str, c: Case) -> None:
    assert (method, route) not in CASES, (method, route)
    CASES[(method, route)] = c


# auth / identity (any logged-in user; login and password change are public)
case("POST", "/api/auth/token", Case(
    lambda s, e: Req("/api/auth/token", data={"username": "park_viewer",
                                              "password": DEMO_PASSWORD}),
    ok=frozenset({200}), phase=1, note="park_viewer's credentials: a new session"))
case("POST", "/api/auth/password", Case(
    lambda s, e: Req("/api/auth/password", json={"username": PROBE_USER,
                                                 "current_password": "x"}),
    ok=frozenset({422}), phase=1, note="no new_password: 422 before any check (a wrong "
                                       "password would count towards the lockout)"))
case("GET", "/api/auth/me", _list("/api/auth/me"))
case("POST", "/api/auth/logout", _write(
    lambda s, e: Req("/api/auth/logout", headers={
        "Authorization": "Bearer " + s["logout_token"]} if s["logout_token"] else None),
    (), ok=frozenset({204}), note="a second session of the caller (not the one in use)"))
case("POST", "/api/auth/totp", _write(lambda s, e: Req("/api/auth/totp"), (),
                                      ok=frozenset({200}), phase=3,
                                      note="starts a new enrolment (last: it unconfirms TOTP)"))
case("POST", "/api/auth/totp/confirm", _write(
    lambda s, e: Req("/api/auth/totp/confirm", json={"code": "00000x"}), (),
    ok=frozenset({422}), note="a malformed code: 422"))
case("GET", "/api/auth/api-tokens", _list("/api/auth/api-tokens"))
case("POST", "/api/auth/api-tokens", _write(
    lambda s, e: Req("/api/auth/api-tokens", json={"name": "permission test"}), (),
    ok=frozenset({201}), note="a new integration token"))
case("DELETE", "/api/auth/api-tokens/{token_id}", _delete(
    lambda s, e: f"/api/auth/api-tokens/{s['api_token'][e]}", ("SELF", "OTHER"),
    ok=frozenset({204}), note="the caller's own token / park_admin's (cement_manager's for "
                              "park_admin)"))
case("GET", "/api/roles", _list("/api/roles"))

# user administration (system administrator) and grants (security administrator)
case("GET", "/api/users", _list("/api/users"))
case("POST", "/api/users", _write(
    lambda s, e: Req("/api/users", json={"username": "perm_new", "password": "short"}), (),
    ok=frozenset({422}), note="a password against the policy: 422"))
for action in ("disable", "enable", "unlock"):
    case("POST", f"/api/users/{{username}}/{action}", _write(
        lambda s, e, a=action: Req(f"/api/users/{PROBE_USER}/{a}"), (),
        ok=frozenset({200}), note="the probe user"))
case("POST", "/api/users/{username}/password", _write(
    lambda s, e: Req(f"/api/users/{PROBE_USER}/password", json={"password": "short"}), (),
    ok=frozenset({422}), note="a password against the policy: 422"))
case("GET", "/api/users/{username}/grants", _list(f"/api/users/{PROBE_USER}/grants"))
case("POST", "/api/users/{username}/grants", _write(
    lambda s, e: Req(f"/api/users/{PROBE_USER}/grants", json={"role": "no_such_role"}), (),
    ok=frozenset({422}), note="an unknown role: 422"))
case("DELETE", "/api/grants/{grant_id}", _delete(
    lambda s, e: f"/api/grants/{s[None]['probe_grant']}", (), ok=frozenset({204}),
    note="the probe user's viewer grant"))

case("GET", "/api/status", _list("/api/status"))

# organisation tree
case("GET", "/api/nodes", _list("/api/nodes", {"limit": 1000}))
case("POST", "/api/nodes", _write(
    lambda s, e: Req("/api/nodes", json={"code": f"{e}-PERM-WS", "name_zh": "权限测试车间",
                                         "kind": "workshop", "parent": s[e]["site"]}),
    out=NOT_VISIBLE_REF, note="a workshop under the enterprise's site (201)"))
case("GET", "/api/nodes/tree", _by_code("/api/nodes/tree", "root",
                                        value=lambda s, e: s[e]["site"]))
case("GET", "/api/nodes/{node_id}", _read(lambda s, e: f"/api/nodes/{s[e]['node_id']}"))
case("PATCH", "/api/nodes/{node_id}", _write(
    lambda s, e: Req(f"/api/nodes/{s[e]['node_id']}", json={"kind": "equipment"}),
    note="an enterprise made equipment under a park: 422"))
case("DELETE", "/api/nodes/{node_id}", _delete(
    lambda s, e: f"/api/nodes/{s[e]['node_id']}", ok=frozenset({422}),
    note="the enterprise node, which has children: 422"))
case("GET", "/api/nodes/{node_id}/rollups", _read(
    lambda s, e: f"/api/nodes/{s[e]['site_id']}/rollups",
    params={"grain": "day", **DAY}))

# carriers (shared catalogue)
case("GET", "/api/carriers", _list("/api/carriers"))
case("POST", "/api/carriers", _write(
    lambda s, e: Req("/api/carriers", json={"code": "perm_test_fuel", "name_zh": "测试燃料",
                                            "name_en": "test fuel", "unit": "t",
                                            "category": "no_such_category", "source": "test"}),
    (), ok=frozenset({422}), note="an unknown category: 422"))
case("GET", "/api/carriers/{code}", _list("/api/carriers/electricity"))

# meters and events
case("GET", "/api/meters", _list("/api/meters", {"limit": 1000}))
case("POST", "/api/meters", _write(
    lambda s, e: Req("/api/meters", json={"code": f"{e}-PERM-M", "name_zh": "权限测试表",
                                          "node": s[e]["site"], "carrier": "electricity",
                                          "unit": "kWh"}),
    out=NOT_VISIBLE_REF, note="a new meter on the enterprise's site (201)"))
case("GET", "/api/meters/{meter_id}", _read(lambda s, e: f"/api/meters/{s[e]['meter_id']}"))
case("PATCH", "/api/meters/{meter_id}", _write(
    lambda s, e: Req(f"/api/meters/{s[e]['meter_id']}", json={"unit": "m3"}),
    note="a unit that does not convert to kWh: 422"))
case("DELETE", "/api/meters/{meter_id}", _delete(
    lambda s, e: f"/api/meters/{s[e]['spare_meter_id']}",
    note="a level-3 meter with readings: refused (422 has_readings)"))
case("GET", "/api/meters/{meter_id}/readings", _read(
    lambda s, e: f"/api/meters/{s[e]['meter_id']}/readings", params=DAY))
case("GET", "/api/meters/{meter_id}/intervals", _read(
    lambda s, e: f"/api/meters/{s[e]['meter_id']}/intervals", params=DAY))
case("GET", "/api/meters/{meter_id}/rollups", _read(
    lambda s, e: f"/api/meters/{s[e]['meter_id']}/rollups", params={"grain": "day", **DAY}))
case("GET", "/api/meters/{meter_id}/revisions", _read(
    lambda s, e: f"/api/meters/{s[e]['meter_id']}/revisions"))
case("GET", "/api/meters/{meter_id}/gaps", _read(
    lambda s, e: f"/api/meters/{s[e]['meter_id']}/gaps"))
case("GET", "/api/meter-events", _by_code("/api/meter-events", "meter",
                                          value=lambda s, e: s[e]["event_meter"]))
case("POST", "/api/meter-events", _write(
    lambda s, e: Req("/api/meter-events", json={"meter": s[e]["meter_code"],
                                                "ts": "2026-10-05T00:00:00+08:00",
                                                "kind": "reset"}),
    out=NOT_VISIBLE_REF, note="a register reset of the enterprise's meter (201)"))
case("GET", "/api/meter-events/{event_id}", _read(
    lambda s, e: f"/api/meter-events/{s[e]['event_id']}"))
case("DELETE", "/api/meter-events/{event_id}", _delete(
    lambda s, e: f"/api/meter-events/{s[e]['event_id']}", note="the event (204)"))

# readings and data quality
case("POST", "/api/readings", _write(
    lambda s, e: Req("/api/readings", json={"source": "api", "readings": [
        {"meter": s[e]["spare_meter_code"], "ts": "2026-10-05T00:00:00+08:00", "value": -1}]}),
    out=NOT_VISIBLE_REF, note="a revised reading of a level-3 meter of the enterprise (200)"))
case("GET", "/api/quality-events", _by_code("/api/quality-events", "meter",
                                            value=lambda s, e: s[e]["finding_meter"]))
case("GET", "/api/ingest-batches", _list("/api/ingest-batches"))
case("GET", "/api/quality/rules", _by_code("/api/quality/rules", "node"))
case("POST", "/api/quality/rules", _write(
    lambda s, e: Req("/api/quality/rules", json={"kind": "range", "meter": s[e]["meter_code"],
                                                 "params": {"min": 5, "max": 1}}),
    out=NOT_VISIBLE_REF, note="a range rule with min > max: 422"))
case("GET", "/api/quality/rules/{rule_id}", _read(
    lambda s, e: f"/api/quality/rules/{s[e]['rule_id']}"))
case("PATCH", "/api/quality/rules/{rule_id}", _write(
    lambda s, e: Req(f"/api/quality/rules/{s[e]['rule_id']}",
                     json={"description": "permission test"}), note="a new description"))
case("DELETE", "/api/quality/rules/{rule_id}", _delete(
    lambda s, e: f"/api/quality/rules/{s[e]['rule_id']}", note="the rule (204)"))
case("POST", "/api/quality/run", _write(
    lambda s, e: Req("/api/quality/run", json={**DAY, "meters": [s[e]["meter_code"]]}),
    out=NOT_VISIBLE_REF, note="the rules of one meter over one day"))
case("GET", "/api/quality/findings", _by_code("/api/quality/findings", "meter",
                                              extra={"origin": "all"},
                                              value=lambda s, e: s[e]["finding_meter"]))
case("PATCH", "/api/quality-events/{event_id}", _write(
    lambda s, e: Req(f"/api/quality-events/{s[e]['finding_id']}",
                     json={"status": "acknowledged", "comment": "permission test"}),
    note="acknowledge a finding"))
case("GET", "/api/quality/completeness", _by_code("/api/quality/completeness", "meter",
                                                  extra=DAY,
                                                  value=lambda s, e: s[e]["meter_code"]))
case("GET", "/api/quality/balance", _by_code("/api/quality/balance", "meter", extra=DAY,
                                             value=lambda s, e: s[e]["parent_meter"]))

# collection administration (system administrator; not tenant data)
case("GET", "/api/dead-letters", _list("/api/dead-letters"))
case("GET", "/api/dead-letters/{letter_id}", _read(
    lambda s, e: f"/api/dead-letters/{s[None]['letter_id']}", ()))
case("GET", "/api/dead-letters/{letter_id}/payload", _read(
    lambda s, e: f"/api/dead-letters/{s[None]['letter_id']}/payload", ()))
case("POST", "/api/dead-letters/{letter_id}/discard", _write(
    lambda s, e: Req(f"/api/dead-letters/{s[None]['letter_id']}/discard",
                     json={"user": "perm", "note": "permission test"}), (),
    ok=frozenset({200}), note="discard the test letter"))
case("GET", "/api/collector-events", _list("/api/collector-events"))
case("GET", "/api/collect-cursors", _list("/api/collect-cursors"))

# manual entries and evidence
case("GET", "/api/manual-entries", _by_code("/api/manual-entries", "tenant"))
case("POST", "/api/manual-entries", _write(
    lambda s, e: Req("/api/manual-entries", json={"kind": "reading", "payload": {
        "meter": s[e]["meter_code"], "ts": "2026-10-05T00:00:00+08:00", "value": 1.0}}),
    out=NOT_VISIBLE_REF, note="a draft reading entry for the enterprise's meter (201)"))
case("GET", "/api/manual-entries/fields", _list("/api/manual-entries/fields"))
case("GET", "/api/manual-entries/{entry_id}", _read(
    lambda s, e: f"/api/manual-entries/{s[e]['entry_id']}"))
case("PUT", "/api/manual-entries/{entry_id}", _write(
    lambda s, e: Req(f"/api/manual-entries/{s[e]['entry_id']}", json={"payload": {}}),
    note="an approved entry is no draft: 422"))
case("POST", "/api/manual-entries/{entry_id}/revise", _write(
    lambda s, e: Req(f"/api/manual-entries/{s[e]['entry_id']}/revise",
                     json={"payload": {}}), note="an empty payload: 422"))
for action in ("submit", "approve", "withdraw"):
    case("POST", f"/api/manual-entries/{{entry_id}}/{action}", _write(
        lambda s, e, a=action: Req(f"/api/manual-entries/{s[e]['entry_id']}/{a}", json={}),
        note="the entry is approved already: 422"))
case("POST", "/api/manual-entries/{entry_id}/reject", _write(
    lambda s, e: Req(f"/api/manual-entries/{s[e]['entry_id']}/reject",
                     json={"comment": "permission test"}),
    note="the entry is approved already: 422"))
case("POST", "/api/manual-entries/{entry_id}/evidence", _write(
    lambda s, e: Req(f"/api/manual-entries/{s[e]['entry_id']}/evidence",
                     files=_csv_file("perm.csv", "a,b\n1,2\n")),
    note="an upload to an approved entry (no open version): 422"))
case("PUT", "/api/manual-entries/{entry_id}/evidence/{evidence_id}", _write(
    lambda s, e: Req(f"/api/manual-entries/{s[e]['entry_id']}/evidence/{s[e]['evidence_id']}"),
    note="attach to an approved entry: 422"))
case("DELETE", "/api/manual-entries/{entry_id}/evidence/{evidence_id}", _delete(
    lambda s, e: f"/api/manual-entries/{s[e]['entry_id']}/evidence/{s[e]['evidence_id']}",
    note="detach from an approved entry: 422"))
case("GET", "/api/manual-entries/{entry_id}/audit", _read(
    lambda s, e: f"/api/manual-entries/{s[e]['entry_id']}/audit"))
case("POST", "/api/evidence", _write(
    lambda s, e: Req("/api/evidence", data={"tenant": e},
                     files=_csv_file(f"perm-{e}.csv", f"evidence of {e}\n")),
    out=NOT_VISIBLE_REF, note="a small CSV for the enterprise (201)"))
case("GET", "/api/evidence", _by_code("/api/evidence", "tenant"))
case("GET", "/api/evidence/verify", _list("/api/evidence/verify"))
case("GET", "/api/evidence/{evidence_id}", _read(
    lambda s, e: f"/api/evidence/{s[e]['evidence_id']}"))
case("GET", "/api/evidence/{evidence_id}/content", _read(
    lambda s, e: f"/api/evidence/{s[e]['evidence_id']}/content"))

# audit log (auditor)
case("GET", "/api/audit-log", _list("/api/audit-log"))
case("GET", "/api/audit-log/verify", _list("/api/audit-log/verify"))

# CEMS
case("GET", "/api/cems/monitors", _by_code("/api/cems/monitors", "node",
                                           value=lambda s, e: s[e]["monitor_node"]))
case("POST", "/api/cems/monitors", _write(
    lambda s, e: Req("/api/cems/monitors", json={"code": f"{e}-PERM-CEMS", "name_zh": "测试",
                                                 "node": s[e]["monitor_node"]}),
    out=NOT_VISIBLE_REF, note="a second monitor on the enterprise's stack (201)"))
case("GET", "/api/cems/monitors/{monitor_id}", _read(
    lambda s, e: f"/api/cems/monitors/{s[e]['monitor_id']}"))
case("PATCH", "/api/cems/monitors/{monitor_id}", _write(
    lambda s, e: Req(f"/api/cems/monitors/{s[e]['monitor_id']}",
                     json={"description": "permission test"}), note="a new description"))
case("POST", "/api/cems/samples", _write(
    lambda s, e: Req("/api/cems/samples", json={"monitor": s[e]["monitor_code"], "samples": [
        {"ts": "2026-10-05T08:00:00+08:00", "co2": -5}]}),
    out=NOT_VISIBLE_REF, note="one sample of the enterprise's monitor (stored: 200)"))
for sub in ("samples", "hours", "gaps"):
    case("GET", f"/api/cems/monitors/{{monitor_id}}/{sub}", _read(
        lambda s, e, x=sub: f"/api/cems/monitors/{s[e]['monitor_id']}/{x}", params=DAY))

# tariffs and products (shared catalogues)
case("GET", "/api/tariffs", _list("/api/tariffs"))
case("POST", "/api/tariffs", _write(
    lambda s, e: Req("/api/tariffs", json={"code": "PERM-T", "name_zh": "测试电价",
                                           "valid_from": "2026-01-01",
                                           "valid_to": "2025-01-01"}), (),
    note="valid_to before valid_from: 422"))
case("GET", "/api/tariffs/{tariff_id}", _read(
    lambda s, e: f"/api/tariffs/{s[None]['tariff_id']}", ()))
case("PUT", "/api/tariffs/{tariff_id}", _write(
    lambda s, e: Req(f"/api/tariffs/{s[None]['tariff_id']}", json={
        "code": "PERM-T", "name_zh": "测试电价", "valid_from": "2026-01-01",
        "valid_to": "2025-01-01"}), (), note="valid_to before valid_from: 422"))
case("PATCH", "/api/tariffs/{tariff_id}", _write(
    lambda s, e: Req(f"/api/tariffs/{s[None]['tariff_id']}", json={"valid_to": "2000-01-01"}),
    (), note="valid_to before valid_from: 422"))
case("DELETE", "/api/tariffs/{tariff_id}", _delete(
    lambda s, e: f"/api/tariffs/{s[None]['tariff_id']}", (), ok=frozenset({409, 422}),
    note="a tariff meters use: 422 (409 from the foreign key, as for products)"))
case("GET", "/api/products", _list("/api/products"))
case("POST", "/api/products", _write(
    lambda s, e: Req("/api/products", json={"code": "PERM-P", "name_zh": "测试产品",
                                            "unit": "no-such-unit"}), (),
    note="an unknown unit: 422"))
case("GET", "/api/products/{product_id}", _read(
    lambda s, e: f"/api/products/{s[None]['product_id']}", ()))
case("PATCH", "/api/products/{product_id}", _write(
    lambda s, e: Req(f"/api/products/{s[None]['product_id']}", json={"unit": "no-such-unit"}),
    (), note="an unknown unit: 422"))
case("DELETE", "/api/products/{product_id}", _delete(
    lambda s, e: f"/api/products/{s[None]['product_id']}", (), ok=frozenset({409, 422}),
    note="a product with production records: 422, or 409 from the database's foreign key "
         "when the records using it belong to tenants the caller does not see"))

# production, economics, fuel deliveries
for base, key, name in (("/api/production", "production_id", "record_id"),
                        ("/api/economics", "economic_id", "record_id"),
                        ("/api/fuel-deliveries", "delivery_id", "delivery_id")):
    case("GET", base, _by_code(base, "node"))
    case("GET", f"{base}/{{{name}}}", _read(lambda s, e, b=base, k=key: f"{b}/{s[e][k]}"))
    case("DELETE", f"{base}/{{{name}}}", _delete(
        lambda s, e, b=base, k=key: f"{b}/{s[e][k]}", note="the record (204)"))
case("POST", "/api/production", _write(
    lambda s, e: Req("/api/production", json={"node": e, "product": s[e]["product"],
                                              "period_start": "2026-10-05",
                                              "period_end": "2026-10-05", "quantity": 1}),
    out=NOT_VISIBLE_REF, note="one day's output of the enterprise (upsert: 200)"))
case("POST", "/api/economics", _write(
    lambda s, e: Req("/api/economics", json={"node": e, "period_start": "2026-10-05",
                                             "period_end": "2026-10-05", "output_value": 1}),
    out=NOT_VISIBLE_REF, note="one day's output value of the enterprise (201)"))
case("POST", "/api/fuel-deliveries", _write(
    lambda s, e: Req("/api/fuel-deliveries", json={"node": e, "carrier": "bituminous_coal",
                                                   "delivered_on": "2026-10-05",
                                                   "quantity": 1, "unit": "t"}),
    out=NOT_VISIBLE_REF, note="a delivery of 1 t of coal to the enterprise (201)"))

# energy accounting
ENERGY_NODE = {"period": MONTH}
for route in ("/api/energy/totals", "/api/energy/intensity", "/api/energy/structure",
              "/api/energy/cost", "/api/energy/balance", "/api/energy/balance.xlsx",
              "/api/energy/sankey", "/api/energy/query", "/api/energy/drilldown",
              "/api/energy/trace", "/api/energy/recommendations", "/api/reports/energy/data"):
    case("GET", route, _by_code(route, "node", extra=ENERGY_NODE))
case("GET", "/api/energy/product-intensity", Case(
    lambda s, e: Req("/api/energy/product-intensity",
                     params={"node": e, "product": s[e]["product"], "period": MONTH}),
    ENTERPRISES))
case("GET", "/api/energy/coefficients", _by_code("/api/energy/coefficients", "node",
                                                 extra=ENERGY_NODE))
case("GET", "/api/energy/parameters", _list("/api/energy/parameters"))
case("POST", "/api/energy/parameters", _write(
    lambda s, e: Req("/api/energy/parameters", json={"kind": "ncv", "carrier": "natural_gas",
                                                     "tenant": e, "value": 38.5,
                                                     "unit": "MJ/m3",
                                                     "valid_from": "2026-06-01",
                                                     "source": "permission test"}),
    out=NOT_VISIBLE_REF, note="a natural-gas calorific value of the enterprise (201)"))
case("GET", "/api/energy/parameters/{param_id}", _read(
    lambda s, e: f"/api/energy/parameters/{s[e]['param_id']}"))
case("POST", "/api/calc/energy", _write(
    lambda s, e: Req("/api/calc/energy", content=b"carrier,quantity,unit\nelectricity,100,kWh\n",
                     headers={"content-type": "text/csv"}), (), ok=frozenset({200}),
    note="a one-row batch calculation (a read)"))
case("GET", "/api/energy/realtime", _by_code("/api/energy/realtime", "node"))
case("GET", "/api/energy/load-profile", _by_code("/api/energy/load-profile", "meter",
                                                 extra=ENERGY_NODE,
                                                 value=lambda s, e: s[e]["meter_code"]))
case("GET", "/api/efficiency-indicators", _by_code("/api/efficiency-indicators", "node",
                                                   extra={"subtree": "true"}))
case("POST", "/api/efficiency-indicators", _write(
    lambda s, e: Req("/api/efficiency-indicators", json={
        "code": f"{e}-PERM-EI", "name_zh": "测试指标", "node": s[e]["site"],
        "kind": "specific_energy", "numerator": [s[e]["meter_code"]],
        "denominator": [s[e]["spare_meter_code"]],
        "params": {"numerator_unit": "kWh", "denominator_unit": "kWh"}}),
    out=NOT_VISIBLE_REF, note="a specific-energy indicator over two of its meters (201)"))
case("GET", "/api/efficiency-indicators/{indicator_id}", _read(
    lambda s, e: f"/api/efficiency-indicators/{s[e]['indicator_id']}"))
case("PATCH", "/api/efficiency-indicators/{indicator_id}", _write(
    lambda s, e: Req(f"/api/efficiency-indicators/{s[e]['indicator_id']}",
                     json={"description": "permission test"}), note="a new description"))
case("DELETE", "/api/efficiency-indicators/{indicator_id}", _delete(
    lambda s, e: f"/api/efficiency-indicators/{s[e]['indicator_id']}",
    note="the indicator (204)"))
case("GET", "/api/efficiency-indicators/{indicator_id}/values", _read(
    lambda s, e: f"/api/efficiency-indicators/{s[e]['indicator_id']}/values",
    params={"period": MONTH}))
case("GET", "/api/metering/compliance", _by_code("/api/metering/compliance", "node"))
case("PUT", "/api/metering/nodes/{node}", _write(
    lambda s, e: Req(f"/api/metering/nodes/{e}", json={"carriers": ["no_such_carrier"]}),
    note="an unknown carrier: 422"))

# benchmarks
case("GET", "/api/benchmarks", _list("/api/benchmarks"))
case("POST", "/api/benchmarks", _write(
    lambda s, e: Req("/api/benchmarks", json={"code": "perm.test", "unit": "kgce/t",
                                              "levels": {}, "source": "test",
                                              "status": "verified"}), (),
    note="no levels: 422"))
case("GET", "/api/benchmarks/links", _by_code("/api/benchmarks/links", "node"))
case("POST", "/api/benchmarks/links", _write(
    lambda s, e: Req("/api/benchmarks/links", json={"benchmark": "gb16780-2021.cement-clinker",
                                                    "product": s[e]["product"], "node": e}),
    out=NOT_VISIBLE_REF, note="a link of the enterprise's product to a benchmark (201)"))
case("GET", "/api/benchmarks/links/{link_id}", _read(
    lambda s, e: f"/api/benchmarks/links/{s[e]['link_id']}"))
case("PATCH", "/api/benchmarks/links/{link_id}", _write(
    lambda s, e: Req(f"/api/benchmarks/links/{s[e]['link_id']}",
                     json={"note": "permission test"}), note="a new note"))
case("DELETE", "/api/benchmarks/links/{link_id}", _delete(
    lambda s, e: f"/api/benchmarks/links/{s[e]['link_id']}", note="the scoped link (204)"))
case("GET", "/api/benchmarks/compare", Case(
    lambda s, e: Req("/api/benchmarks/compare", params={"node": e, "product": s[e]["product"],
                                                        "period": MONTH}), ENTERPRISES))
case("GET", "/api/benchmarks/ranking", _by_code("/api/benchmarks/ranking", "park",
                                                extra=ENERGY_NODE, scopes=(PARK,)))
case("GET", "/api/benchmarks/equipment", _by_code("/api/benchmarks/equipment", "node"))
case("PUT", "/api/benchmarks/equipment/{node}/nameplate", _write(
    lambda s, e: Req(f"/api/benchmarks/equipment/{s[e]['equipment']}/nameplate",
                     json={"motor": {"rated_kw": -1}}),
    note="a negative motor rating: 422"))
case("GET", "/api/benchmarks/{code}", _list("/api/benchmarks/ndrc.cement-clinker"))
case("GET", "/api/reports/energy", _by_code("/api/reports/energy", "node",
                                            extra={**ENERGY_NODE, "format": "xlsx"}))

# carbon: factors (shared catalogue), calculators
case("GET", "/api/factors", _list("/api/factors"))
case("GET", "/api/factors/select", _by_code("/api/factors/select", "tenant", extra={
    "parameter": "ncv", "subject": "natural_gas", "year": 2025}))
case("GET", "/api/factors/{factor_id}", _read(
    lambda s, e: f"/api/factors/{s[None]['factor_id']}", ()))
case("GET", "/api/factor-datasets", _list("/api/factor-datasets"))
case("POST", "/api/factor-datasets", _write(
    lambda s, e: Req("/api/factor-datasets", json={"code": "perm_test", "title": "t",
                                                   "values": [{"no": "such"}]}), (),
    note="a value without its fields: 422"))
case("GET", "/api/factor-datasets/{code}", _list("/api/factor-datasets/fuel_defaults"))
case("GET", "/api/gwp", _by_code("/api/gwp", "tenant"))
case("POST", "/api/calc/carbon", _write(
    lambda s, e: Req("/api/calc/carbon", json={"no_such": "field"}), (),
    ok=frozenset({422}), note="an invalid calculation body (a read): 422"))
case("GET", "/api/calc/carbon/methodologies", _list("/api/calc/carbon/methodologies"))

# inventories (the verifier sees the granted one only: scope CEM; CEM-X is another of CEM)
INV = ("CEM", "TEX", "CEM-X")
case("GET", "/api/inventories", _by_code("/api/inventories", "enterprise"))
case("POST", "/api/inventories", _write(
    lambda s, e: Req("/api/inventories", json={"code": f"INV-{e}-PERM", "name_zh": "测试",
                                               "enterprise": e, "period": "no-such-period"}),
    out=NOT_VISIBLE_REF, note="an invalid period: 422"))
for sub, params in (("", None), ("/sources", None), ("/results", None),
                    ("/results/scopes", None), ("/versions", None),
                    ("/diff", None), ("/lineage", None)):
    route = "/api/inventories/{inventory_id}" + (
        "/results/{view}" if sub == "/results/scopes" else sub)
    case("GET", route, _read(
        lambda s, e, x=sub: f"/api/inventories/{s[e]['inventory_id']}{x}", INV,
        inventory=True, ok=frozenset({200, 422}) if sub in ("/diff",) else OK_READ))
case("PATCH", "/api/inventories/{inventory_id}", _write(
    lambda s, e: Req(f"/api/inventories/{s[e]['inventory_id']}",
                     json={"period": "no-such-period"}), INV, inventory=True,
    note="an invalid period: 422"))
case("DELETE", "/api/inventories/{inventory_id}", _delete(
    lambda s, e: f"/api/inventories/{s[e]['inventory_id']}", INV, inventory=True,
    note="locked inventories are refused (422: CEM-X is locked by the lock case before)",
    phase=3))
case("POST", "/api/inventories/{inventory_id}/compute", _write(
    lambda s, e: Req(f"/api/inventories/{s[e]['inventory_id']}/compute"), INV,
    inventory=True, note="computes a new version (or 422)"))
case("POST", "/api/inventories/{inventory_id}/lock", _write(
    lambda s, e: Req(f"/api/inventories/{s[e]['inventory_id']}/lock",
                     json={"note": "permission test"}),
    INV, inventory=True, note="computes and locks a new version (200)"))
case("GET", "/api/inventory-sources", _by_code("/api/inventory-sources", "inventory",
                                               scopes=INV, inventory=True,
                                               value=lambda s, e: s[e]["inventory_code"]))
case("POST", "/api/inventory-sources", _write(
    lambda s, e: Req("/api/inventory-sources", json={
        "code": f"{e}-PERM-SRC", "name_zh": "测试", "inventory": s[e]["inventory_code"],
        "kind": "electricity", "links": [s.get_meter(e)]}), INV, inventory=True,
    out=NOT_VISIBLE_REF, note="a purchased-electricity source over one of its meters (201)"))
case("GET", "/api/inventory-sources/{source_id}", _read(
    lambda s, e: f"/api/inventory-sources/{s[e]['source_id']}", INV, inventory=True))
case("PATCH", "/api/inventory-sources/{source_id}", _write(
    lambda s, e: Req(f"/api/inventory-sources/{s[e]['source_id']}",
                     json={"kind": "no_such_kind"}), INV, inventory=True,
    note="an unknown kind: 422"))
case("DELETE", "/api/inventory-sources/{source_id}", _delete(
    lambda s, e: f"/api/inventory-sources/{s[e]['source_id']}", INV, inventory=True,
    note="a source of a locked inventory: refused (422)"))

# ledger (installation-wide: entries need a park-wide grant)
case("GET", "/api/ledger/entries", _list("/api/ledger/entries"))
case("GET", "/api/ledger/checkpoints", _list("/api/ledger/checkpoints"))
case("POST", "/api/ledger/checkpoints", _write(lambda s, e: Req("/api/ledger/checkpoints"), (),
                                               ok=frozenset({201}),
                                               note="a new signed checkpoint"))
case("GET", "/api/ledger/verify", _list("/api/ledger/verify"))
case("GET", "/api/ledger/status", _list("/api/ledger/status"))
case("GET", "/api/ledger/entries/{entry_id}/proof", _read(
    lambda s, e: f"/api/ledger/entries/{s[None]['ledger_entry_id']}/proof", ()))
case("GET", "/api/ledger/consistency", _list("/api/ledger/consistency", {"first": 1}))

# park carbon accounting and reports
case("GET", "/api/carbon/park-inventory", _by_code("/api/carbon/park-inventory", "park",
                                                   extra={"period": "2025"}, scopes=(PARK,)))
case("GET", "/api/carbon/park-items", _by_code("/api/carbon/park-items", "park",
                                               scopes=(PARK,)))
case("POST", "/api/carbon/park-items", _write(
    lambda s, e: Req("/api/carbon/park-items", params={"park": e}, json={
        "code": "PERM-ITEM", "term": "no_such_term", "name_zh": "测试",
        "period_start": "2025-01-01", "period_end": "2026-01-01", "source": "test"}),
    (PARK,), note="an unknown term: 422"))
case("GET", "/api/carbon/reports/ghg", _by_code(
    "/api/carbon/reports/ghg", "inventory", extra={"format": "xlsx"}, scopes=INV,
    inventory=True, value=lambda s, e: s[e]["inventory_code"],
    ok=frozenset({200, 422})))
case("GET", "/api/carbon/reports/ghg/park", _by_code(
    "/api/carbon/reports/ghg/park", "park", extra={"period": "2025", "format": "xlsx"},
    scopes=(PARK,)))
case("GET", "/api/carbon/verification-package", _by_code(
    "/api/carbon/verification-package", "inventory", extra={"version": 0}, scopes=INV,
    inventory=True, value=lambda s, e: s[e]["inventory_code"], ok=frozenset({422}),
    note="version 0 (422 once authorised: building a package takes ~10 s; the verifier's "
         "own package is fetched whole by test_verifier_sees_only_its_inventory)"))

# reference data (any logged-in user), import and export
case("GET", "/api/reference", _list("/api/reference"))
case("GET", "/api/reference/{name}", _read(
    lambda s, e: f"/api/reference/{next(iter(reference.DATASETS))}", ()))
case("POST", "/api/import", _write(
    lambda s, e: Req("/api/import", params={"kind": "production", "dry_run": "true"},
                     files=_csv_file("production.csv",
                                     "node,product,period_start,period_end,quantity\n"
                                     f"{e},{s[e]['product']},2026-10-05,2026-10-06,1\n")),
    out=NOT_VISIBLE_REF, note="a dry run of one production row of the enterprise (200)"))
case("GET", "/api/export/{kind}", _read(
    lambda s, e: "/api/export/readings",
    params=lambda s, e: {"meters": s[e]["meter_code"], **DAY},
    out=frozenset({404}), note="the readings of one meter over one day"))
case("GET", "/api/dashboard", _by_code("/api/dashboard", "node"))


# -- the demo database: objects the demo lacks, and the samples ---------------------------------
def prepare(engine, client_for_park_admin) -> None:
    """Add what the case table needs and the demo does not have, through the API as
    park_admin (``client_for_park_admin``) or, for identity objects, the services."""
    c = client_for_park_admin

    def must(r, *codes):
        assert r.status_code in codes, (r.request.method, r.request.url, r.status_code, r.text)
        return r.json()

    must(c.post("/api/cems/monitors", json={"code": "TEX-CEMS-BH", "name_zh": "锅炉房烟气监测",
                                            "node": "TEX-BH"}), 201)
    must(c.post("/api/meter-events", json={"meter": "CEM-E-333", "ts": "2026-10-20T10:00:00+08:00",
                                           "kind": "multiplier_change", "new_multiplier": 1.0,
                                           "note": "permission test"}), 201)
    for ent in ENTERPRISES:
        product = _scalar(engine, "select p.code from products p join production_records r "
                                  "on r.product_id = p.id where r.tenant_id = :t limit 1",
                          t=_tenant(engine, ent))
        must(c.post("/api/benchmarks/links", json={
            "benchmark": "ndrc.cement-clinker", "product": product, "node": ent,
            "note": "permission test"}), 201)
    must(c.post("/api/energy/parameters", json={
        "kind": "ncv", "carrier": "natural_gas", "tenant": "CEM", "value": 38.0, "unit": "MJ/m3",
        "valid_from": "2026-01-01", "source": "permission test"}), 201)
    must(c.post("/api/inventories", json={
        "code": "INV-CEM-PERM", "name_zh": "权限测试盘查", "enterprise": "CEM",
        "period": "2026"}), 201)
    must(c.post("/api/inventory-sources", json={
        "code": "CEM-PERM-GRID", "name_zh": "外购电力（测试）", "inventory": "INV-CEM-PERM",
        "kind": "electricity", "links": ["CEM-E-101"]}), 201)
    # an ingestion batch of TEX alone, its detail naming the meter as an upload would
    tex_meter = _scalar(engine, "select code from meters where tenant_id = :t and level = 3 "
                                "and kind = 'physical' order by id desc limit 1",
                        t=_tenant(engine, "TEX"))
    must(c.post("/api/readings", json={"source": "api", "detail": f"{tex_meter} 补录",
                                       "readings": [{"meter": tex_meter,
                                                     "ts": "2026-10-05T00:00:00+08:00",
                                                     "value": 0}]}), 200)
    extra = _scalar(engine, "select id from inventories where code = 'INV-CEM-PERM'")
    must(c.post(f"/api/inventories/{extra}/compute"), 200, 201)
    with Session(engine) as s, s.begin():
        identity.create_user(s, PROBE_USER, PROBE_PASSWORD, actor=SETUP)
        identity.grant(s, PROBE_USER, "viewer", node_code="CEM", actor=SETUP)
        s.add(DeadLetter(collector="perm-test", adapter="mqtt", source="nengtan/test",
                         reason="dead.not_json", payload=b"not json"))


def _scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def _tenant(engine, code: str) -> int:
    return _scalar(engine, "select tenant_id from nodes where code = :c", c=code)


@dataclass
class Samples:
    """Ids and codes per scope (``samples[scope][name]``)."""

    by_scope: dict[str | None, dict[str, Any]] = field(default_factory=dict)
    tenants: dict[str, int] = field(default_factory=dict)
    inventories: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, scope):
        return self.by_scope[scope]

    def get_meter(self, scope: str) -> str:
        """A meter code of the enterprise of ``scope`` (CEM-X: CEM's)."""
        return self.by_scope[scope.split("-")[0]]["meter_code"]


def collect_samples(engine) -> Samples:
    """Read the sample ids and codes of each scope from the (prepared) demo database."""
    def one(sql, **p):
        value = _scalar(engine, sql, **p)
        assert value is not None, (sql, p)
        return value

    out = Samples()
    for ent in ENTERPRISES:
        t = _tenant(engine, ent)
        out.tenants[ent] = t
        site = one("select code from nodes where tenant_id = :t and kind = 'site' "
                   "order by id limit 1", t=t)
        meter = "select id from meters where tenant_id = :t and kind = 'physical' and " \
                "carrier_code = 'electricity' and level = {} order by id limit 1"
        meter_id = one(meter.format(1), t=t)
        inv_id = one("select id from inventories where tenant_id = :t and code like :c "
                     "order by id limit 1", t=t, c=f"INV-{ent}-2%")
        entry = one("select e.id from manual_entries e where e.tenant_id = :t and "
                    "e.status = 'approved' and exists (select 1 from manual_entry_versions v "
                    "join manual_entry_evidence x on x.version_id = v.id "
                    "where v.entry_id = e.id) order by e.id limit 1", t=t)
        out.by_scope[ent] = {
            "node_id": one("select id from nodes where code = :c", c=ent),
            "site": site, "site_id": one("select id from nodes where code = :c", c=site),
            "meter_id": meter_id,
            "meter_code": one("select code from meters where id = :i", i=meter_id),
            "spare_meter_code": one("select code from meters where id = (select max(id) "
                                    "from meters where tenant_id = :t and kind = 'physical' "
                                    "and level = 3)", t=t),
            "spare_meter_id": one("select max(id) from meters where tenant_id = :t and "
                                  "kind = 'physical' and level = 3", t=t),
            "parent_meter": one("select p.code from meters p where p.tenant_id = :t and "
                                "exists (select 1 from meters m where m.parent_meter_id = "
                                "p.id) order by p.id limit 1", t=t),
            "event_id": one("select min(id) from meter_events where tenant_id = :t", t=t),
            "event_meter": one("select m.code from meter_events e join meters m on "
                               "m.id = e.meter_id where e.tenant_id = :t limit 1", t=t),
            "rule_id": one("select min(id) from quality_rules where tenant_id = :t", t=t),
            "finding_id": one("select min(id) from quality_events where tenant_id = :t", t=t),
            "finding_meter": one("select m.code from quality_events q join meters m on "
                                 "m.id = q.meter_id where q.tenant_id = :t order by q.id "
                                 "limit 1", t=t),
            "entry_id": entry,
            "evidence_id": one("select min(x.evidence_id) from manual_entry_versions v join "
                               "manual_entry_evidence x on x.version_id = v.id "
                               "where v.entry_id = :e", e=entry),
            "monitor_id": one("select min(id) from cems_monitors where tenant_id = :t", t=t),
            "monitor_code": one("select code from cems_monitors where tenant_id = :t "
                                "order by id limit 1", t=t),
            "monitor_node": one("select n.code from cems_monitors c join nodes n on "
                                "n.id = c.node_id where c.tenant_id = :t limit 1", t=t),
            "production_id": one("select min(id) from production_records where tenant_id = :t",
                                 t=t),
            "economic_id": one("select min(id) from economic_records where tenant_id = :t",
                               t=t),
            "delivery_id": one("select min(id) from fuel_deliveries where tenant_id = :t", t=t),
            "product": one("select p.code from products p join production_records r on "
                           "r.product_id = p.id where r.tenant_id = :t limit 1", t=t),
            "param_id": one("select min(id) from energy_parameters where tenant_id = :t", t=t),
            "indicator_id": one("select min(id) from efficiency_indicators where tenant_id = :t",
                                t=t),
            "link_id": one("select min(l.id) from benchmark_links l join nodes n on "
                           "n.id = l.node_id where n.tenant_id = :t", t=t),
            "equipment": one("select code from nodes where tenant_id = :t and "
                             "kind = 'equipment' order by id limit 1", t=t),
            "inventory_id": inv_id,
            "inventory_code": one("select code from inventories where id = :i", i=inv_id),
            "source_id": one("select min(id) from emission_sources where inventory_id = :i",
                             i=inv_id),
        }
        out.inventories[ent] = inv_id
    extra = one("select id from inventories where code = 'INV-CEM-PERM'")
    out.by_scope["CEM-X"] = {
        "inventory_id": extra, "inventory_code": "INV-CEM-PERM",
        "source_id": one("select min(id) from emission_sources where inventory_id = :i",
                         i=extra)}
    out.tenants["CEM-X"] = out.tenants["CEM"]
    out.inventories["CEM-X"] = extra
    out.tenants[PARK] = _tenant(engine, PARK)
    out.by_scope[PARK] = {}
    out.by_scope[None] = {
        "tariff_id": one("select min(id) from tariffs"),
        "product_id": one("select min(id) from products"),
        "factor_id": one("select min(id) from factor_values"),
        "ledger_entry_id": one("select min(id) from ledger_entries"),
        "letter_id": one("select min(id) from dead_letters"),
        "probe_grant": one("select g.id from role_grants g join users u on u.id = g.user_id "
                           "where u.username = :u", u=PROBE_USER),
    }
    return out
