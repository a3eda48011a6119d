"""Organisation tree rules, tenants and moves."""

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan.errors import InputError
from nengtan.services import meters, org
from nengtan.store.models import Meter, Node


def build(s):
    org.create(s, {"code": "P", "name_zh": "园区", "kind": "park"})
    org.create(s, {"code": "A", "name_zh": "甲企业", "kind": "enterprise", "parent": "P"})
    org.create(s, {"code": "B", "name_zh": "乙企业", "kind": "enterprise", "parent": "P"})
    org.create(s, {"code": "A-S", "name_zh": "甲厂区", "kind": "site", "parent": "A"})
    org.create(s, {"code": "A-W", "name_zh": "甲车间", "kind": "workshop", "parent": "A-S"})
    org.create(s, {"code": "PUB", "name_zh": "公共设施", "kind": "site", "parent": "P"})


def node(s, code):
    return s.scalar(select(Node).where(Node.code == code))


def test_paths_and_tenants(engine):
    with Session(engine) as s, s.begin():
        build(s)
        p, a, w, pub = node(s, "P"), node(s, "A"), node(s, "A-W"), node(s, "PUB")
        assert w.path == f"/{p.id}/{a.id}/{node(s, 'A-S').id}/{w.id}/" and w.depth == 3
        assert w.tenant_id == a.id  # the nearest enterprise
        assert pub.tenant_id == p.id  # park facilities belong to the park
        assert set(org.subtree_ids(s, a)) == {a.id, node(s, "A-S").id, w.id}


@pytest.mark.parametrize("payload,field,rule", [
    ({"code": "X", "name_zh": "x", "kind": "workshop", "parent": "P"}, "parent", "parent_kind"),
    ({"code": "X", "name_zh": "x", "kind": "site", "parent": "NOPE"}, "parent", "ref_unknown"),
    ({"code": "A", "name_zh": "x", "kind": "enterprise", "parent": "P"}, "code", "duplicate"),
    ({"code": "X", "name_zh": "x", "kind": "plant"}, "kind", "choice"),
    ({"code": "X", "kind": "park"}, "name_zh", "required"),
    ({"code": "X", "name_zh": "x", "kind": "park", "timezone": "Asia/Kolkata"}, "timezone", "timezone"),
])
def test_invalid_nodes_name_field_and_rule(engine, payload, field, rule):
    with Session(engine) as s, s.begin():
        build(s)
        with pytest.raises(InputError) as err:
            org.create(s, payload, row=7)
        issue = err.value.issues[0].as_dict()
        assert (issue["row"], issue["field"], issue["rule"]) == (7, field, rule)


def test_moving_a_site_moves_its_subtree_and_its_meters_tenant(engine):
    with Session(engine) as s, s.begin():
        build(s)
        meters.create(s, {"code": "M", "name_zh": "表", "node": "A-W", "carrier": "electricity",
                          "unit": "kWh"})
        site = node(s, "A-S")
        org.update(s, site.id, {"parent": "B"})
        b = node(s, "B")
        assert node(s, "A-W").path.startswith(b.path) and node(s, "A-W").tenant_id == b.id
        assert s.scalar(select(Meter.tenant_id).where(Meter.code == "M")) == b.id
        with pytest.raises(InputError) as err:
            org.update(s, b.id, {"parent": "A-W"})
        assert err.value.issues[0].rule == "rule.parent_kind" or err.value.issues[0].rule == "rule.cycle"


def test_delete_refuses_nodes_in_use(engine):
    with Session(engine) as s, s.begin():
        build(s)
        meters.create(s, {"code": "M", "name_zh": "表", "node": "A-W", "carrier": "electricity",
                          "unit": "kWh"})
        with pytest.raises(InputError) as err:
            org.delete(s, node(s, "A").id)
        assert err.value.issues[0].rule == "rule.has_children"
        with pytest.raises(InputError) as err:
            org.delete(s, node(s, "A-W").id)
        assert err.value.issues[0].rule == "rule.has_meters"
        org.delete(s, node(s, "PUB").id)
        assert node(s, "PUB") is None
