"""The OpenAPI document, the offline /docs page and the console at /."""

from __future__ import annotations

import json
import re

from nengtan.api.routers import ROUTERS

from .helpers import ok

#: The endpoints the API promises (issue "REST API").
PROMISED = {
    ("GET", "/api/status"),
    ("POST", "/api/auth/token"), ("GET", "/api/auth/me"), ("POST", "/api/auth/logout"),
    ("POST", "/api/auth/password"), ("POST", "/api/auth/totp"),
    ("POST", "/api/auth/totp/confirm"), ("GET", "/api/auth/api-tokens"),
    ("POST", "/api/auth/api-tokens"), ("DELETE", "/api/auth/api-tokens/{token_id}"),
    ("GET", "/api/roles"), ("GET", "/api/users"), ("POST", "/api/users"),
    ("POST", "/api/users/{username}/disable"), ("POST", "/api/users/{username}/enable"),
    ("POST", "/api/users/{username}/unlock"), ("POST", "/api/users/{username}/password"),
    ("GET", "/api/users/{username}/grants"), ("POST", "/api/users/{username}/grants"),
    ("DELETE", "/api/grants/{grant_id}"), ("GET", "/api/dashboard"),
    ("GET", "/api/nodes"), ("POST", "/api/nodes"), ("GET", "/api/nodes/tree"),
    ("GET", "/api/nodes/{node_id}"), ("PATCH", "/api/nodes/{node_id}"),
    ("DELETE", "/api/nodes/{node_id}"), ("GET", "/api/nodes/{node_id}/rollups"),
    ("GET", "/api/carriers"), ("POST", "/api/carriers"), ("GET", "/api/carriers/{code}"),
    ("GET", "/api/meters"), ("POST", "/api/meters"), ("GET", "/api/meters/{meter_id}"),
    ("PATCH", "/api/meters/{meter_id}"), ("DELETE", "/api/meters/{meter_id}"),
    ("GET", "/api/meters/{meter_id}/readings"), ("GET", "/api/meters/{meter_id}/intervals"),
    ("GET", "/api/meters/{meter_id}/rollups"), ("GET", "/api/meters/{meter_id}/revisions"),
    ("GET", "/api/meters/{meter_id}/gaps"),
    ("GET", "/api/meter-events"), ("POST", "/api/meter-events"),
    ("GET", "/api/meter-events/{event_id}"), ("DELETE", "/api/meter-events/{event_id}"),
    ("POST", "/api/readings"), ("GET", "/api/quality-events"), ("GET", "/api/ingest-batches"),
    ("GET", "/api/tariffs"), ("POST", "/api/tariffs"), ("GET", "/api/tariffs/{tariff_id}"),
    ("PUT", "/api/tariffs/{tariff_id}"), ("PATCH", "/api/tariffs/{tariff_id}"),
    ("DELETE", "/api/tariffs/{tariff_id}"),
    ("GET", "/api/products"), ("POST", "/api/products"), ("GET", "/api/products/{product_id}"),
    ("PATCH", "/api/products/{product_id}"), ("DELETE", "/api/products/{product_id}"),
    ("GET", "/api/production"), ("POST", "/api/production"),
    ("GET", "/api/production/{record_id}"), ("DELETE", "/api/production/{record_id}"),
    ("GET", "/api/economics"), ("POST", "/api/economics"),
    ("GET", "/api/economics/{record_id}"), ("DELETE", "/api/economics/{record_id}"),
    ("GET", "/api/fuel-deliveries"), ("POST", "/api/fuel-deliveries"),
    ("GET", "/api/fuel-deliveries/{delivery_id}"),
    ("DELETE", "/api/fuel-deliveries/{delivery_id}"),
    ("GET", "/api/reference"), ("GET", "/api/reference/{name}"),
    ("POST", "/api/import"), ("GET", "/api/export/{kind}"),
    ("GET", "/api/dead-letters"), ("GET", "/api/dead-letters/{letter_id}"),
    ("GET", "/api/dead-letters/{letter_id}/payload"),
    ("POST", "/api/dead-letters/{letter_id}/discard"),
    ("GET", "/api/collector-events"), ("GET", "/api/collect-cursors"),
    ("GET", "/api/manual-entries"), ("POST", "/api/manual-entries"),
    ("GET", "/api/manual-entries/fields"), ("GET", "/api/manual-entries/{entry_id}"),
    ("PUT", "/api/manual-entries/{entry_id}"), ("POST", "/api/manual-entries/{entry_id}/revise"),
    ("POST", "/api/manual-entries/{entry_id}/submit"),
    ("POST", "/api/manual-entries/{entry_id}/approve"),
    ("POST", "/api/manual-entries/{entry_id}/reject"),
    ("POST", "/api/manual-entries/{entry_id}/withdraw"),
    ("POST", "/api/manual-entries/{entry_id}/evidence"),
    ("PUT", "/api/manual-entries/{entry_id}/evidence/{evidence_id}"),
    ("DELETE", "/api/manual-entries/{entry_id}/evidence/{evidence_id}"),
    ("GET", "/api/manual-entries/{entry_id}/audit"),
    ("POST", "/api/evidence"), ("GET", "/api/evidence"), ("GET", "/api/evidence/verify"),
    ("GET", "/api/evidence/{evidence_id}"), ("GET", "/api/evidence/{evidence_id}/content"),
    ("GET", "/api/audit-log"), ("GET", "/api/audit-log/verify"),
    ("GET", "/api/cems/monitors"), ("POST", "/api/cems/monitors"),
    ("GET", "/api/cems/monitors/{monitor_id}"), ("PATCH", "/api/cems/monitors/{monitor_id}"),
    ("POST", "/api/cems/samples"), ("GET", "/api/cems/monitors/{monitor_id}/samples"),
    ("GET", "/api/cems/monitors/{monitor_id}/hours"),
    ("GET", "/api/cems/monitors/{monitor_id}/gaps"),
    ("GET", "/api/quality/rules"), ("POST", "/api/quality/rules"),
    ("GET", "/api/quality/rules/{rule_id}"), ("PATCH", "/api/quality/rules/{rule_id}"),
    ("DELETE", "/api/quality/rules/{rule_id}"), ("POST", "/api/quality/run"),
    ("GET", "/api/quality/findings"), ("PATCH", "/api/quality-events/{event_id}"),
    ("GET", "/api/quality/completeness"), ("GET", "/api/quality/balance"),
    ("GET", "/api/energy/totals"), ("GET", "/api/energy/intensity"),
    ("GET", "/api/energy/product-intensity"), ("GET", "/api/energy/coefficients"),
    ("GET", "/api/energy/parameters"), ("POST", "/api/energy/parameters"),
    ("GET", "/api/energy/parameters/{param_id}"), ("POST", "/api/calc/energy"),
    ("GET", "/api/energy/structure"), ("GET", "/api/energy/cost"),
    ("GET", "/api/energy/load-profile"),
    ("GET", "/api/efficiency-indicators"), ("POST", "/api/efficiency-indicators"),
    ("GET", "/api/efficiency-indicators/{indicator_id}"),
    ("PATCH", "/api/efficiency-indicators/{indicator_id}"),
    ("DELETE", "/api/efficiency-indicators/{indicator_id}"),
    ("GET", "/api/efficiency-indicators/{indicator_id}/values"),
    ("GET", "/api/energy/query"), ("GET", "/api/energy/drilldown"),
    ("GET", "/api/energy/realtime"), ("GET", "/api/energy/trace"),
    ("GET", "/api/energy/recommendations"),
    ("GET", "/api/energy/balance"), ("GET", "/api/energy/balance.xlsx"),
    ("GET", "/api/energy/sankey"),
    ("GET", "/api/benchmarks"), ("POST", "/api/benchmarks"), ("GET", "/api/benchmarks/{code}"),
    ("GET", "/api/benchmarks/links"), ("POST", "/api/benchmarks/links"),
    ("GET", "/api/benchmarks/links/{link_id}"), ("PATCH", "/api/benchmarks/links/{link_id}"),
    ("DELETE", "/api/benchmarks/links/{link_id}"),
    ("GET", "/api/benchmarks/compare"), ("GET", "/api/benchmarks/ranking"),
    ("GET", "/api/benchmarks/equipment"), ("PUT", "/api/benchmarks/equipment/{node}/nameplate"),
    ("GET", "/api/metering/compliance"), ("PUT", "/api/metering/nodes/{node}"),
    ("GET", "/api/reports/energy"), ("GET", "/api/reports/energy/data"),
    ("GET", "/api/factors"), ("GET", "/api/factors/select"), ("GET", "/api/factors/{factor_id}"),
    ("GET", "/api/factor-datasets"), ("POST", "/api/factor-datasets"),
    ("GET", "/api/factor-datasets/{code}"), ("GET", "/api/gwp"),
    ("POST", "/api/calc/carbon"), ("GET", "/api/calc/carbon/methodologies"),
    ("GET", "/api/ledger/entries"), ("GET", "/api/ledger/checkpoints"),
    ("POST", "/api/ledger/checkpoints"), ("GET", "/api/ledger/verify"),
    ("GET", "/api/ledger/status"), ("GET", "/api/ledger/entries/{entry_id}/proof"),
    ("GET", "/api/ledger/consistency"),
    ("GET", "/api/inventories"), ("POST", "/api/inventories"),
    ("GET", "/api/inventories/{inventory_id}"), ("PATCH", "/api/inventories/{inventory_id}"),
    ("DELETE", "/api/inventories/{inventory_id}"),
    ("GET", "/api/inventories/{inventory_id}/sources"),
    ("GET", "/api/inventory-sources"), ("POST", "/api/inventory-sources"),
    ("GET", "/api/inventory-sources/{source_id}"), ("PATCH", "/api/inventory-sources/{source_id}"),
    ("DELETE", "/api/inventory-sources/{source_id}"),
    ("POST", "/api/inventories/{inventory_id}/compute"),
    ("GET", "/api/inventories/{inventory_id}/results"),
    ("GET", "/api/inventories/{inventory_id}/results/{view}"),
    ("POST", "/api/inventories/{inventory_id}/lock"),
    ("GET", "/api/inventories/{inventory_id}/versions"),
    ("GET", "/api/inventories/{inventory_id}/diff"),
    ("GET", "/api/inventories/{inventory_id}/lineage"),
    ("GET", "/api/carbon/park-inventory"), ("GET", "/api/carbon/park-items"),
    ("POST", "/api/carbon/park-items"), ("GET", "/api/carbon/reports/ghg"),
    ("GET", "/api/carbon/reports/ghg/park"), ("GET", "/api/carbon/verification-package"),
}


def _operations(document: dict) -> dict[tuple[str, str], dict]:
    return {(method.upper(), path): op for path, ops in document["paths"].items()
            for method, op in ops.items()}


def test_openapi_lists_every_route_documented(client):
    operations = _operations(ok(client.get("/openapi.json")))
    routed = {(m, r.path) for router in ROUTERS for r in router.routes for m in r.methods}
    assert set(operations) == routed == PROMISED
    for key, op in operations.items():
        assert op.get("summary") and " / " in op["summary"], key  # bilingual summary
        assert op.get("description"), key  # the endpoint's docstring


def test_schemas_come_from_the_field_specs(client):
    schemas = ok(client.get("/openapi.json"))["components"]["schemas"]
    meter_in = schemas["MeterIn"]
    assert meter_in["required"] == ["code", "name_zh", "node", "carrier", "unit"]
    assert meter_in["additionalProperties"] is False
    multiplier = meter_in["properties"]["multiplier"]
    assert (multiplier["default"], multiplier["exclusiveMinimum"]) == (1.0, 0)
    assert multiplier["description"].startswith("multiplier (CT×PT) / 倍率")
    assert meter_in["properties"]["register"]["enum"][:2] == ["cumulative", "interval"]
    assert "required" not in schemas["MeterPatch"]
    assert schemas["FuelDeliveryIn"]["properties"]["carbon_content_pct"]["x-unit"] == "%"
    assert set(schemas["Meter"]["properties"]) >= {"id", "node", "node_id", "tenant_id"}
    assert "bands" in schemas["TariffIn"]["properties"]


def test_docs_page_is_offline(client):
    r = client.get("/docs")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    html = r.text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "http://" not in html and "https://" not in html
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert {"/static/swagger/swagger-ui-bundle.js", "/static/swagger/swagger-ui.css",
            "/static/swagger/favicon-32x32.png"} <= set(assets)
    for url in assets:
        assert client.get(url).status_code == 200, url
    assert '"validatorUrl": null' in html  # else Swagger UI fetches a badge from the internet
    assert "url: '/docs/openapi-3.0.json'" in html


def test_docs_read_an_openapi_30_rendering(client):
    full = ok(client.get("/openapi.json"))
    doc = ok(client.get("/docs/openapi-3.0.json"))
    assert full["openapi"].startswith("3.1") and doc["openapi"] == "3.0.3"
    assert set(_operations(doc)) == set(_operations(full))
    text = json.dumps(doc)
    assert '"null"' not in text and '"const"' not in text

    def walk(node):
        if isinstance(node, dict):
            assert not isinstance(node.get("type"), list), node
            assert not isinstance(node.get("exclusiveMinimum"), (int, float)) or isinstance(
                node["exclusiveMinimum"], bool), node
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    name = doc["components"]["schemas"]["NodeIn"]["properties"]["name_en"]
    assert (name["type"], name["nullable"]) == ("string", True)
    upload = [s for k, s in doc["components"]["schemas"].items() if "import_file" in k][0]
    assert upload["properties"]["file"]["format"] == "binary"


def test_root_is_the_console(client):
    anonymous = client.get("/", headers={"Authorization": ""}, follow_redirects=False)
    assert anonymous.status_code in (302, 303, 307)
    assert anonymous.headers["location"].startswith("/login")
    page = client.get("/login")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "能碳" in page.text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page.text)
