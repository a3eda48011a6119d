"""/api/nodes: CRUD, tree, filters and every rule of the organisation tree."""

from __future__ import annotations

from .helpers import created, make_meter, ok, problems


def test_create_get_list_and_tree(client, site):
    s1 = ok(client.get(f"/api/nodes/{site['S1']}"))
    assert (s1["code"], s1["kind"], s1["parent"], s1["parent_id"]) == ("S1", "site", "E1",
                                                                       site["E1"])
    assert s1["tenant_id"] == site["E1"]  # the nearest enterprise owns the site's data
    assert s1["path"] == f"/{site['P']}/{site['E1']}/{site['S1']}/" and s1["depth"] == 2

    page = ok(client.get("/api/nodes"))
    assert page["total"] == 4 and [n["code"] for n in page["items"]] == ["P", "E1", "S1", "W1"]

    def codes(**params):
        return [n["code"] for n in ok(client.get("/api/nodes", params=params))["items"]]

    assert codes(limit=2, offset=1) == ["E1", "S1"]
    assert codes(kind="site") == ["S1"] and codes(parent="S1") == ["W1"]
    by_tenant = ok(client.get("/api/nodes", params={"tenant_id": site["E1"]}))
    assert {n["code"] for n in by_tenant["items"]} == {"E1", "S1", "W1"}

    tree = ok(client.get("/api/nodes/tree"))
    assert len(tree) == 1 and tree[0]["code"] == "P"
    assert tree[0]["children"][0]["children"][0]["children"][0]["code"] == "W1"
    sub = ok(client.get("/api/nodes/tree", params={"root": "S1"}))
    assert [(n["code"], [c["code"] for c in n["children"]]) for n in sub] == [("S1", ["W1"])]


def test_update_moves_subtree_and_delete(client, site):
    created(client.post("/api/nodes", json={"code": "E2", "name_zh": "企业二", "kind": "enterprise",
                                            "parent": "P"}))
    moved = ok(client.patch(f"/api/nodes/{site['S1']}", json={"parent": "E2", "name_en": "Site"}))
    assert moved["parent"] == "E2" and moved["name_en"] == "Site"
    w1 = ok(client.get(f"/api/nodes/{site['W1']}"))
    assert w1["tenant_id"] == moved["parent_id"]  # the subtree follows to the new tenant

    assert client.delete(f"/api/nodes/{site['W1']}").status_code == 204
    assert client.get(f"/api/nodes/{site['W1']}").status_code == 404
    assert ok(client.get("/api/nodes"))["total"] == 4


def test_invalid_nodes_are_rejected_with_row_field_rule(client, site):
    before = ok(client.get("/api/nodes"))["total"]
    r = client.post("/api/nodes", json={"code": "X", "name_zh": "x", "kind": "workshop",
                                        "parent": "NOPE"})
    assert set(problems(r)) == {(None, "parent", "ref_unknown"), (None, "parent", "parent_kind")}
    r = client.post("/api/nodes", json={"code": "X", "name_zh": "x", "kind": "workshop",
                                        "parent": "E1"})
    assert problems(r) == [(None, "parent", "parent_kind")]
    detail = r.json()["detail"][0]
    assert detail["value"] == "E1" and "site" in detail["message"] and detail["message_zh"]
    r = client.post("/api/nodes", json={"code": "S1", "name_zh": "dup", "kind": "site",
                                        "parent": "E1"})
    assert problems(r) == [(None, "code", "duplicate")]
    r = client.post("/api/nodes", json={"name_zh": "x", "kind": "castle", "sort_order": "a",
                                        "colour": "red"})
    assert set(problems(r)) == {(None, "colour", "unknown_field"), (None, "code", "required"),
                                (None, "kind", "choice"), (None, "sort_order", "type_int")}
    r = client.post("/api/nodes", json={"code": "S9", "name_zh": "x", "kind": "site",
                                        "parent": "E1", "timezone": "Asia/Kolkata"})
    assert problems(r) == [(None, "timezone", "timezone")]
    # E1 may become a site under P, but its child S1 (a site) cannot sit under a site
    r = client.patch(f"/api/nodes/{site['E1']}", json={"kind": "site"})
    assert problems(r) == [(None, "kind", "parent_kind")]
    assert ok(client.get(f"/api/nodes/{site['E1']}"))["kind"] == "enterprise"
    assert ok(client.get("/api/nodes"))["total"] == before


def test_cycle_children_and_attached_meters_block_changes(client, site):
    r = client.patch(f"/api/nodes/{site['S1']}", json={"parent": "W1"})
    assert ("parent", "cycle") in {(f, rule) for _, f, rule in problems(r)}
    assert problems(client.delete(f"/api/nodes/{site['S1']}")) == [(None, "id", "has_children")]
    make_meter(client, "M1", node="W1")
    assert problems(client.delete(f"/api/nodes/{site['W1']}")) == [(None, "id", "has_meters")]


def test_unknown_ids_and_bad_filters(client, site):
    for call in (client.get, client.delete):
        r = call("/api/nodes/999")
        assert problems(r, 404) == [(None, "id", "not_found")]
    assert client.patch("/api/nodes/999", json={"name_zh": "x"}).status_code == 404
    assert problems(client.get("/api/nodes", params={"parent": "NOPE"})) == [
        (None, "parent", "ref_unknown")]
    assert problems(client.get("/api/nodes", params={"kind": "castle"})) == [
        (None, "kind", "choice")]
    assert problems(client.get("/api/nodes/abc")) == [(None, "node_id", "type_int")]
    assert problems(client.get("/api/nodes/tree", params={"root": "NOPE"})) == [
        (None, "root", "ref_unknown")]
