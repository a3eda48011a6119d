"""Invalid files: every issue names its row (header = 1), column and rule, all issues of the
file are reported at once, and the database is left exactly as it was."""

from __future__ import annotations

import pytest

from nengtan import exchange
from nengtan.errors import InputError
from nengtan.exchange.issues import MAX_ISSUES


def where(exc: InputError) -> list[tuple]:
    return [(i.sheet, i.row, i.field, i.rule) for i in exc.issues]


def refused(engine, path, **kw) -> InputError:
    with pytest.raises(InputError) as info:
        exchange.import_file(engine, path, **kw)
    return info.value


def test_every_bad_row_is_named_and_nothing_is_written(engine, write, counts):
    exchange.import_file(engine, write("base.csv", "code,name_zh,kind\nBASE,基地,park\n"))
    before = counts(engine)
    path = write("nodes.csv", "code,name_zh,kind,parent,sort_order\n"
                              "P1,园区,park,,\n"            # row 2: fine (but not stored)
                              "E1,,enterprise,P1,\n"        # row 3: name missing
                              "S1,厂,site,NOPE,\n"          # row 4: unknown parent
                              "W1,车间,workshop,S1,x\n"     # row 5: not a whole number
                              "P1,重复,park,,\n"            # row 6: code repeated
                              "X1,设备,equipment,P1,\n")    # row 7: not allowed under a park
    exc = refused(engine, path)
    assert sorted(where(exc), key=lambda w: (w[1], w[2], w[3])) == [
        (None, 3, "name_zh", "rule.required"),
        (None, 4, "parent", "rule.parent_kind"),
        (None, 4, "parent", "rule.ref_unknown"),
        (None, 5, "sort_order", "rule.type_int"),
        (None, 6, "code", "rule.duplicate_in_file"),
        (None, 7, "parent", "rule.parent_kind"),
    ]
    assert counts(engine) == before
    messages = {i.rule: i.as_dict() for i in exc.issues}
    assert messages["rule.required"]["message_zh"] == "必填项为空"
    assert messages["rule.ref_unknown"]["value"] == "NOPE"


def test_columns_are_named_as_the_file_writes_them(engine, write):
    exc = refused(engine, write("zh.csv", "编码,名称,类型\nP1,,park\nP2,园区,城市\n"))
    assert where(exc) == [(None, 2, "名称", "rule.required"), (None, 3, "类型", "rule.choice")]


def test_gbk_file_errors(engine, write, counts):
    before = counts(engine)
    content = "编码,名称,类型,上级编码\n园区甲,示范园区,park,\n企业乙,示范企业,enterprise,园区丙\n"
    exc = refused(engine, write("gbk.csv", content, "gbk"))
    assert where(exc) == [(None, 3, "上级编码", "rule.ref_unknown")]
    assert exc.issues[0].value == "园区丙"
    assert counts(engine) == before


def test_header_missing_and_unknown(engine, write):
    path = write("h.csv", "code,name_zh,colour\nP1,园区,red\n")
    assert where(refused(engine, path)) == [(None, 1, None, "rule.file_kind")]
    exc = refused(engine, path, kind="nodes")
    assert where(exc) == [(None, 1, "kind", "rule.header_missing"),
                          (None, 1, "colour", "rule.header_unknown")]
    repeated = write("r.csv", "code,name_zh,kind,编码\nP1,园区,park,P1\n")
    assert where(refused(engine, repeated)) == [(None, 1, "编码", "rule.header_duplicate")]


def test_unknown_columns_are_reported_with_good_rows(engine, write, counts):
    before = counts(engine)
    exc = refused(engine, write("u.csv", "code,name_zh,kind,备注\nP1,园区,park,x\n"))
    assert where(exc) == [(None, 1, "备注", "rule.header_unknown")]
    assert counts(engine) == before


def test_value_without_header(engine, write):
    exc = refused(engine, write("x.csv", "code,name_zh,kind\nP1,园区,park\nP2,园区二,park,extra\n"))
    assert where(exc) == [(None, 3, "D", "rule.no_header")]


def test_file_kind_format_and_empty(engine, write, tmp_path):
    assert where(refused(engine, write("what.csv", "foo,bar\n1,2\n"))) == [
        (None, 1, None, "rule.file_kind")]
    assert where(refused(engine, write("nodes.txt", "code\n"))) == [
        (None, None, "file", "rule.file_format")]
    assert where(refused(engine, write("broken.xlsx", "not a zip"))) == [
        (None, None, "file", "rule.file_format")]
    assert where(refused(engine, write("empty.csv", ""))) == [(None, 1, None, "rule.file_empty")]
    exc = refused(engine, write("n.csv", "code,name_zh,kind\n"), kind="bogus")
    assert where(exc) == [(None, None, "kind", "rule.choice")]


def test_cycle_in_file(engine, write, counts):
    before = counts(engine)
    path = write("c.csv", "code,name_zh,kind,parent\n"
                          "A,甲,equipment,B\n"
                          "B,乙,equipment,A\n"
                          "C,丙,equipment,A\n"   # below the cycle: fails with it, silently
                          "D,丁,equipment,D\n")  # its own parent
    exc = refused(engine, path)
    assert where(exc) == [(None, 2, "parent", "rule.cycle"), (None, 3, "parent", "rule.cycle"),
                          (None, 5, "parent", "rule.cycle")]
    assert counts(engine) == before


def test_workbook_is_all_or_nothing_across_sheets(engine, workbook, counts):
    before = counts(engine)
    path = workbook("w.xlsx", {
        "组织机构": [["code", "name_zh", "kind"], ["P1", "园区", "park"]],
        "计量器具": [["code", "name_zh", "node", "carrier", "unit"],
                 ["M1", "表", "P1", "electricity", "kWh"],
                 ["M2", "表", "P1", "no_such_carrier", "kWh"],
                 ["M3", "表", "P1", "natural_gas", "kWh"]],
    })
    exc = refused(engine, path)
    assert where(exc) == [("计量器具", 3, "carrier", "rule.ref_unknown"),
                          ("计量器具", 4, "unit", "rule.unit_mismatch")]
    assert counts(engine) == before


def test_meter_rows_on_a_failed_node_are_not_reported_twice(engine, workbook):
    path = workbook("w.xlsx", {
        "nodes": [["code", "name_zh", "kind"], ["P1", "园区", "nonsense"]],
        "meters": [["code", "name_zh", "node", "carrier", "unit"],
                   ["M1", "表", "P1", "electricity", "kWh"]],
    })
    assert where(refused(engine, path)) == [("nodes", 2, "kind", "rule.choice")]


def test_event_conflict(engine, write, counts):
    exchange.import_file(engine, write("n.csv", "code,name_zh,kind\nP1,园区,park\n"))
    exchange.import_file(engine, write("m.csv", "code,name_zh,node,carrier,unit\n"
                                                "M1,表,P1,electricity,kWh\n"))
    exchange.import_file(engine, write("e.csv", "meter,ts,kind,old_final_value,new_initial_value\n"
                                                "M1,2025-01-01 00:00,reset,100,0\n"))
    before = counts(engine)
    exc = refused(engine, write("e2.csv", "meter,ts,kind,old_final_value,new_initial_value\n"
                                          "M1,2025-01-01T00:00:00+08:00,reset,101,0\n"))
    assert where(exc) == [(None, 2, "ts", "rule.event_conflict")]
    assert counts(engine) == before


def test_issue_list_is_capped_with_a_count(engine, write):
    exchange.import_file(engine, write("n.csv", "code,name_zh,kind\nP1,园区,park\n"))
    exchange.import_file(engine, write("m.csv", "code,name_zh,node,carrier,unit\n"
                                                "M1,表,P1,electricity,kWh\n"))
    rows = "".join(f"M1,2025-01-01 00:{i % 60:02d},n/a\n" for i in range(1000))
    exc = refused(engine, write("r.csv", "meter,ts,value\n" + rows))
    assert len(exc.issues) == MAX_ISSUES + 1
    assert exc.issues[0].row == 2 and exc.issues[0].rule == "rule.type_float"
    last = exc.issues[-1]
    assert last.rule == "rule.issues_truncated" and last.params == {"count": 1000 - MAX_ISSUES}
    assert "700" in last.message("en") and "700" in last.message("zh-CN")
