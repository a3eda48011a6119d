"""Quality rules on stored and incoming data, on SQLite and PostgreSQL: validation, findings
replaced without duplicates, acknowledged findings kept, completeness and balance."""

from datetime import date, datetime

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan.errors import InputError
from nengtan.services import meters
from nengtan.services import quality_rules as qr
from nengtan.store.models.quality_rules import QualityRule
from nengtan.store.types import to_us

from .conftest import T0, US, Q, quarter_hours

H = 3600 * US
DAY = 24 * H
LATER = T0 + 400 * DAY  # "now" for evaluations: long after the data


def add_rule(plant, **payload):
    with Session(plant.engine) as s, s.begin():
        return qr.create(s, {"severity": "warning", **payload}).id


def run(plant, start=T0 - DAY, end=T0 + 5 * DAY, now=LATER, **kw):
    with plant.engine.begin() as conn:
        return qr.evaluate(conn, start, end, now_us=now, **kw)


def open_findings(plant, kind=None):
    with plant.engine.connect() as conn:
        rows = qr.findings(conn, status="open")
    return [(f["meter"], f["rule"], (us(f["start"]) - T0) // Q, (us(f["end"]) - T0) // Q,
             f["detail"]["measured"])
            for f in rows if kind is None or f["rule"] == kind]


def us(iso: str) -> int:
    return to_us(datetime.fromisoformat(iso))


def problems(exc) -> list[tuple]:
    return [(i.field, i.rule) for i in exc.value.issues]


def children(plant):
    """P (interval register) with sub-meters C1, C2 on site S1."""
    with Session(plant.engine) as s, s.begin():
        for code, parent in (("P", None), ("C1", "P"), ("C2", "P")):
            m = meters.create(s, {"code": code, "name_zh": code, "node": "S1",
                                  "carrier": "electricity", "unit": "kWh",
                                  "register": "interval", "parent_meter": parent})
            plant.ids[code] = m.id


# -- configuration ---------------------------------------------------------------------------
def test_rules_are_validated_whole_and_nothing_is_stored(plant):
    with Session(plant.engine) as s, s.begin():
        bad = [
            ({"kind": "range", "params": {"max": 5}}, [("node", "rule.qr_scope")]),
            ({"kind": "range", "meter": "MAIN", "node": "S1", "params": {"max": 5}},
             [("meter", "rule.qr_scope")]),
            ({"kind": "range", "meter": "NOPE", "params": {}},
             [("meter", "rule.ref_unknown"), ("params", "rule.qr_range_bounds")]),
            ({"kind": "range", "meter": "INT", "params": {"min": 5, "max": 1}},
             [("params.max", "rule.qr_range_order")]),
            ({"kind": "range", "meter": "INT", "carrier": "electricity", "params": {"max": 1}},
             [("carrier", "rule.qr_carrier_scope")]),
            ({"kind": "negative_interval", "meter": "MAIN"},
             [("meter", "rule.qr_negative_cumulative")]),
            ({"kind": "balance", "meter": "MAIN", "params": {"tolerance_pct": 2}},
             [("meter", "rule.qr_balance_children")]),
            ({"kind": "balance", "meter": "MAIN", "params": {"period": "week"}},
             [("params.period", "rule.choice"), ("params.tolerance_pct", "rule.required")]),
            ({"kind": "stuck", "node": "S1", "params": {"tolerance": -1}},
             [("params.tolerance", "rule.minimum")]),
            ({"kind": "stuck", "node": "S1", "params": {"active_hours": "8-18"}},
             [("params", "rule.qr_stuck_limit"), ("params.active_hours", "rule.qr_active_hours")]),
            ({"kind": "missing", "node": "S1", "params": {"max_gap_s": 60, "extra": 1}},
             [("params.extra", "rule.unknown_field")]),
            ({"kind": "missing", "node": "S1", "params": [1]}, [("params", "rule.type_object")]),
            ({"kind": "sideways", "node": "S1", "severity": "fatal"},
             [("kind", "rule.choice"), ("severity", "rule.choice")]),
        ]
        for payload, expected in bad:
            with pytest.raises(InputError) as exc:
                qr.create(s, payload)
            assert problems(exc) == expected, payload
        assert s.scalar(select(QualityRule.id)) is None


def test_create_update_delete(plant):
    rid = add_rule(plant, kind="stuck", node="S1", carrier="electricity", name="frozen",
                   params={"min_count": "8", "active_hours": "22:00-06:00",
                           "active_weekdays": "1-5"})
    with Session(plant.engine) as s, s.begin():
        rule = qr.get(s, rid)
        d = qr.as_dict(s, rule)
        assert (d["node"], d["meter"], d["carrier"], d["subtree"], d["params"]) == (
            "S1", None, "electricity", True,
            {"min_count": 8, "tolerance": 0.0, "ignore_zero": False,
             "active_hours": "22:00-06:00", "active_weekdays": "1-5"})
        assert d["tenant_id"] == rule.tenant_id and rule.tenant_id is not None
        # moving the scope to a meter needs the node (and carrier) cleared
        with pytest.raises(InputError) as exc:
            qr.update(s, rid, {"meter": "INT"})
        assert ("meter", "rule.qr_scope") in problems(exc)
        qr.update(s, rid, {"meter": "INT", "node": None, "carrier": None, "enabled": False})
        assert (rule.meter_id, rule.node_id, rule.enabled) == (plant.ids["INT"], None, False)
        qr.delete_rule(s, rid)
    with Session(plant.engine) as s, pytest.raises(qr.NotFound):
        qr.get(s, rid)


# -- raw-data rules --------------------------------------------------------------------------
def test_range_on_interval_values_replaced_not_duplicated_and_acknowledged_kept(plant):
    values = np.full(16, 5.0)
    values[[3, 4, 10]] = [40.0, 55.0, -2.0]
    plant.ingest("INT", quarter_hours(16), values)
    rid = add_rule(plant, kind="range", meter="INT", params={"min": 0, "max": 30},
                   severity="error")
    first = run(plant)
    # slots 3-4 above 30 (one finding, measured the larger 55), slot 10 below 0
    assert open_findings(plant) == [("INT", "range", 3, 5, 55.0), ("INT", "range", 10, 11, -2.0)]
    assert (first.inserted, first.unchanged, first.removed) == (2, 0, 0)
    with plant.engine.connect() as conn:
        ids = [f["id"] for f in qr.findings(conn, rule_id=rid)]
        f = qr.finding_dict(conn, ids[0])
    assert f["severity"] == "error" and f["origin"] == "rules"
    assert (f["detail"]["limit"], f["detail"]["unit"], f["detail"]["side"]) == (30.0, "kWh",
                                                                                 "above")
    again = run(plant)
    assert (again.inserted, again.unchanged, again.removed) == (0, 2, 0)
    with plant.engine.connect() as conn:
        assert [f["id"] for f in qr.findings(conn, rule_id=rid)] == ids  # same rows
    with plant.engine.begin() as conn:
        acked = qr.set_status(conn, ids[0], "acknowledged", "CT wiring checked", by="zhang")
    assert acked["status"] == "acknowledged"
    assert acked["detail"]["history"][0]["comment"] == "CT wiring checked"
    third = run(plant)
    assert (third.inserted, third.unchanged, third.kept_acknowledged) == (0, 1, 1)
    assert open_findings(plant) == [("INT", "range", 10, 11, -2.0)]
    # the reading is corrected: the open finding goes, the acknowledged one stays as history
    plant.ingest("INT", [T0 + 10 * Q], [5.0])
    assert open_findings(plant) == []
    assert plant.scalar("SELECT count(*) FROM quality_events WHERE origin = 'rules'") == 1
    with plant.engine.begin() as conn, pytest.raises(InputError):
        qr.set_status(conn, ids[0], "resolved")


def test_incoming_data_is_checked_on_ingest(plant):
    plant.ingest("INT", quarter_hours(4), [1.0, 2.0, 3.0, 4.0])
    assert plant.scalar("SELECT count(*) FROM quality_events") == 0
    add_rule(plant, kind="negative_interval", meter="INT", severity="error")
    add_rule(plant, kind="range", node="S1", params={"max": 100, "on": "raw"})
    plant.ingest("INT", quarter_hours(4, T0 + 4 * Q), [5.0, -1.5, -0.5, 150.0])
    assert sorted(open_findings(plant)) == [("INT", "negative_interval", 5, 7, -1.5),
                                            ("INT", "range", 7, 7, 150.0)]
    # a meter no rule watches costs nothing and finds nothing
    plant.ingest("MAIN", quarter_hours(4), [1.0, 2.0, 3.0, 4.0])
    assert len(open_findings(plant)) == 2


def test_rate_of_change_on_raw_register_skips_a_recorded_reset(plant):
    # MAIN's register normally advances 2 per quarter hour (8 per hour); at slot 6 it jumps by
    # 60 (240 per hour), at slot 10 the register was reset (a recorded event): not a rate.
    reg = np.array([0, 2, 4, 6, 8, 10, 70, 72, 74, 76, 1, 3, 5.0])
    plant.ingest("MAIN", quarter_hours(13), reg)
    with Session(plant.engine) as s, s.begin():
        meters.add_event(s, {"meter": "MAIN", "ts": qr.query.iso(T0 + 9 * Q + Q // 2),
                             "kind": "reset", "old_final_value": 77, "new_initial_value": 0})
    add_rule(plant, kind="rate_of_change", meter="MAIN", params={"max_per_hour": 100})
    run(plant)
    assert open_findings(plant) == [("MAIN", "rate_of_change", 5, 6, 240.0)]


def test_stuck_register_only_while_expected_to_move(plant):
    # 2025-01-01 is a Wednesday.  The register stands still 02:00-05:00 local (13 readings)
    # and moves otherwise.
    n = 32
    reg = np.cumsum(np.r_[0, np.ones(n - 1)])
    reg[8:21] = reg[8]
    plant.ingest("WRAP", quarter_hours(n), reg)
    rid = add_rule(plant, kind="stuck", meter="WRAP", params={"min_count": 8})
    run(plant)
    found = open_findings(plant)
    assert found == [("WRAP", "stuck", 8, 20, 13.0)]
    # expected to move only 04:00-08:00: 5 of the readings (04:00-05:00) count, below 8
    with Session(plant.engine) as s, s.begin():
        qr.update(s, rid, {"params": {"min_count": 8, "active_hours": "04:00-08:00"}})
    run(plant)
    assert open_findings(plant) == []
    with Session(plant.engine) as s, s.begin():
        qr.update(s, rid, {"params": {"min_count": 5, "active_hours": "04:00-08:00",
                                      "active_weekdays": "3"}})
    run(plant)
    assert open_findings(plant) == [("WRAP", "stuck", 8, 20, 5.0)]


def test_a_run_split_by_new_data_replaces_the_old_finding(plant):
    reg = np.cumsum(np.r_[0, np.ones(31)])
    reg[8:21] = reg[8]  # readings 8-20 stand still
    plant.ingest("WRAP", quarter_hours(32), reg)
    add_rule(plant, kind="stuck", meter="WRAP", params={"min_count": 5})
    run(plant)
    assert [(s, e) for _, _, s, e, _ in open_findings(plant)] == [(8, 20)]
    # reading 15 is corrected: two shorter runs, 8-14 and 16-20, found on ingest; they
    # replace the old finding although only reading 15 changed
    plant.ingest("WRAP", [T0 + 15 * Q], [reg[8] + 0.5])
    assert [(s, e, n) for _, _, s, e, n in open_findings(plant)] == [(8, 14, 7.0),
                                                                    (16, 20, 5.0)]


def test_missing_data_silent_since_is_replaced_when_data_arrives(plant):
    add_rule(plant, kind="missing", meter="MAIN", params={"max_gap_s": 3600})
    plant.ingest("MAIN", quarter_hours(9), np.arange(9.0))  # 00:00-02:00
    run(plant, now=T0 + 10 * H)
    assert [(s, e) for _, _, s, e, _ in open_findings(plant)] == [(8, 40)]  # 02:00 until now
    with plant.engine.connect() as conn:
        detail = qr.findings(conn)[0]["detail"]
    assert (detail["open_end"], detail["duration_s"], detail["limit"]) == (True, 28800, 3600)
    # data resumes at 06:00: the stretch 02:00-06:00 is a closed gap; the "silent since"
    # finding moves to the new last reading (its end is the real present)
    plant.ingest("MAIN", quarter_hours(9, T0 + 6 * H), 20 + np.arange(9.0))
    found = open_findings(plant)
    assert [(s, e) for _, _, s, e, _ in found][:1] == [(8, 24)] and len(found) == 2
    assert found[1][2] == 32  # from 08:00
    run(plant, now=T0 + 9 * H + 2 * Q)  # a re-run changes nothing but the open end
    assert [(s, e) for _, _, s, e, _ in open_findings(plant)] == [(8, 24), (32, 38)]
    run(plant, now=T0 + 9 * H)  # exactly max_gap_s since the last reading: not missing yet
    assert [(s, e) for _, _, s, e, _ in open_findings(plant)] == [(8, 24)]


# -- node scope ------------------------------------------------------------------------------
def test_node_rule_applies_to_every_fitting_meter(plant):
    with Session(plant.engine) as s, s.begin():
        meters.create(s, {"code": "V", "name_zh": "虚拟", "node": "S1", "carrier": "electricity",
                          "unit": "kWh", "kind": "virtual", "formula": "{INT} + {MAIN}"})
    add_rule(plant, kind="missing", node="E1", carrier="electricity",
             params={"max_gap_s": 7200})
    add_rule(plant, kind="negative_interval", node="S1")
    result = run(plant)
    # missing: MAIN, SUB, INT, WRAP (not the virtual V); negative_interval: INT only
    assert result.checks == 5
    assert sorted({m for m, *_ in open_findings(plant)}) == ["INT", "MAIN", "SUB", "WRAP"]
    only = run(plant, meters=[plant.ids["INT"]])
    assert (only.checks, only.inserted, only.unchanged) == (2, 0, 1)


# -- balance ---------------------------------------------------------------------------------
def balance_data(plant):
    """Three local days; P: 10 kWh per quarter hour (960 a day).  C1: 6 (576 a day).
    C2: 3.8 on day 1 (364.8), 3.5 on day 2 (336), day 3 with one quarter hour missing."""
    children(plant)
    ts = quarter_hours(288)
    plant.ingest("P", ts, np.full(288, 10.0))
    plant.ingest("C1", ts, np.full(288, 6.0))
    c2 = np.r_[np.full(96, 3.8), np.full(96, 3.5), np.full(96, 3.8)]
    keep = np.ones(288, bool)
    keep[200] = False
    plant.ingest("C2", ts[keep], c2[keep])


def test_balance_by_day_known_answer(plant):
    balance_data(plant)
    with plant.engine.connect() as conn:
        out = qr.balance(conn, plant.ids["P"], T0, T0 + 3 * DAY, "day", tolerance_pct=3)
    # day 1: 960 − (576 + 364.8) = 19.2 → 2 %: ok
    # day 2: 960 − (576 + 336) = 48 → 5 % > 3 %: imbalance, the parent higher
    # day 3: C2 lacks a quarter hour → not assessable
    pts = out["points"]
    assert [p["period"] for p in pts] == ["2025-01-01", "2025-01-02", "2025-01-03"]
    assert [p["status"] for p in pts] == ["ok", "imbalance", "not_assessable"]
    assert pts[0]["difference"] == pytest.approx(19.2) and pts[0]["pct"] == pytest.approx(2.0)
    assert (pts[1]["parent"], pts[1]["children_sum"], pts[1]["higher"]) == (960.0, 912.0,
                                                                            "parent")
    assert pts[1]["pct"] == pytest.approx(5.0)
    assert (pts[2]["pct"], pts[2]["incomplete"]) == (None, ["C2"])
    assert out["summary"] == {"ok": 1, "imbalance": 1, "not_assessable": 1}
    assert [c["meter"] for c in out["children"]] == ["C1", "C2"]
    with plant.engine.connect() as conn, pytest.raises(InputError):
        qr.balance(conn, plant.ids["C1"], T0, T0 + DAY)  # no sub-meters


def test_balance_rule_findings_follow_the_data(plant):
    balance_data(plant)
    add_rule(plant, kind="balance", meter="P", params={"period": "day", "tolerance_pct": 3})
    result = run(plant, start=T0, end=T0 + 3 * DAY)
    assert (result.inserted, result.not_assessable) == (1, 1)
    [(meter, kind, start, end, measured)] = open_findings(plant)
    assert (meter, kind, start, end) == ("P", "balance", 96, 192)
    assert measured == pytest.approx(5.0)
    with plant.engine.connect() as conn:
        detail = qr.findings(conn)[0]["detail"]
    assert detail["higher"] == "parent" and detail["by_child"]["C2"] == pytest.approx(336.0)
    # hourly: every hour of day 2 is 40 − 38 = 2 kWh → 5 %
    hourly = add_rule(plant, kind="balance", meter="P",
                      params={"period": "hour", "tolerance_pct": 4.5})
    run(plant, start=T0, end=T0 + 3 * DAY, rule_ids=[hourly])
    assert len(open_findings(plant, "balance")) == 1 + 24
    # a run over day 3 alone leaves the adjacent findings of day 2 alone
    again = run(plant, start=T0 + 2 * DAY, end=T0 + 3 * DAY)
    assert (again.inserted, again.removed) == (0, 0)
    assert len(open_findings(plant, "balance")) == 1 + 24
    # the sub-meter is corrected on ingest: both rules re-evaluate day 2, findings go
    plant.ingest("C2", quarter_hours(96, T0 + DAY), np.full(96, 3.8))
    assert open_findings(plant) == []


# -- completeness ----------------------------------------------------------------------------
def test_completeness_of_a_meter_and_a_node(plant):
    with Session(plant.engine) as s, s.begin():
        meters.create(s, {"code": "V", "name_zh": "虚拟", "node": "S1", "carrier": "electricity",
                          "unit": "kWh", "kind": "virtual", "formula": "{INT}"})
        meters.create(s, {"code": "NEW", "name_zh": "新表", "node": "S1", "carrier": "electricity",
                          "unit": "kWh", "installed_on": "2025-01-02"})
    ts = quarter_hours(96)
    keep = np.ones(96, bool)
    keep[40:48] = False  # 10:00-12:00 missing: 8 quarter hours
    plant.ingest("INT", ts[keep], np.ones(88))
    with plant.engine.connect() as conn:
        one = qr.completeness(conn, meter_id=plant.ids["INT"], start=date(2025, 1, 1),
                              end=date(2025, 1, 3), period="day", now_us=LATER)
        node = qr.completeness(conn, node_id=plant.rows("SELECT id FROM nodes WHERE code='S1'")
                               [0][0], start=date(2025, 1, 1), end=date(2025, 1, 2),
                               period="day", now_us=LATER)
        hours = qr.completeness(conn, meter_id=plant.ids["INT"], start=date(2025, 1, 1),
                                end=date(2025, 1, 2), period="hour", now_us=LATER)
        so_far = qr.completeness(conn, meter_id=plant.ids["INT"], start=date(2025, 1, 1),
                                 end=date(2025, 1, 3), period="day", now_us=T0 + 12 * H)
    # day 1: 88 of 96 intervals = 91.667 %; day 2: nothing
    assert [(p["period"], p["expected"], p["present"], p["pct"]) for p in one["points"]] == [
        ("2025-01-01", 96.0, 88.0, 91.667), ("2025-01-02", 96.0, 0.0, 0.0)]
    assert (one["total"]["expected"], one["total"]["present"]) == (192.0, 88.0)
    # node S1: INT, MAIN, SUB, WRAP count (4 × 96 expected); NEW was installed the next day
    # (nothing expected yet) and the virtual V does not count
    assert (node["total"]["expected"], node["total"]["present"], node["total"]["pct"]) == (
        384.0, 88.0, 22.917)
    assert node["excluded_virtual"] == ["V"]
    assert [(m["meter"], m["expected"]) for m in node["meters"]][-1] == ("NEW", 0.0)
    assert [p["present"] for p in hours["points"]][9:13] == [4.0, 0.0, 0.0, 4.0]
    # "now" at 12:00 local on day 1: 48 intervals were expected so far, 40 present
    assert [(p["expected"], p["present"]) for p in so_far["points"]] == [(48.0, 40.0),
                                                                         (0.0, 0.0)]
    assert so_far["points"][1]["pct"] is None
