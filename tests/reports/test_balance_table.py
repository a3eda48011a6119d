"""The balance table workbook (GB/T 28751 layout), zh-CN and en, opened with openpyxl.

Plant (one period): grid 100 000 kWh → substation SUB → W1 60 000 + W2 37 000 kWh (3 000 kWh
= 3 % unmetered); gas 10 000 m3 → boiler house BH → 100 t steam → W2.  Electricity 0.1229
kgce/kWh, gas 1.2143 kgce/m3, steam 100 kgce/t.
"""

from io import BytesIO

import pytest
from openpyxl import load_workbook

from nengtan.energy import balance as bal
from nengtan.reports import balance_table

CARRIERS = {
    "electricity": bal.Carrier("electricity", "电力", "Electricity", "kWh", "electricity"),
    "natural_gas": bal.Carrier("natural_gas", "天然气", "Natural gas", "m3", "gaseous_fossil"),
    "steam": bal.Carrier("steam", "蒸汽", "Steam", "t", "heat"),
}
COEF = {"electricity": 0.1229, "natural_gas": 1.2143, "steam": 100.0}
PERIOD = {"start": "2026-10-01", "end": "2026-11-01", "label": "2026-10", "grain": "month"}


def answer(steam=True) -> dict:
    def n(i, code, kind, parent, zh, en):
        return bal.TreeNode(i, code, zh, en, kind, parent)

    def f(meter, carrier, qty, src, dst):
        c = CARRIERS[carrier]
        k = COEF[carrier] if steam or carrier != "steam" else None
        return bal.MeteredFlow(meter, carrier, c.category, c.unit, qty, src, dst, k,
                               {"kgce_per_unit": k, "unit": c.unit, "method": "reference",
                                "source": "GB/T 2589-2020", "status": "verified"} if k else None)
    nodes = [n(1, "E", "enterprise", None, "示范企业", "Demo enterprise"),
             n(2, "S", "site", 1, "厂区", "Site"),
             n(3, "SUB", "facility", 2, "10kV变电站", "10 kV substation"),
             n(4, "W1", "workshop", 2, "一车间", "Workshop 1"),
             n(5, "W2", "workshop", 2, "二车间", "Workshop 2"),
             n(6, "BH", "workshop", 2, "锅炉房", "Boiler house")]
    flows = [f("M-IN", "electricity", 100_000.0, None, 3), f("M-W1", "electricity", 60_000.0, 3, 4),
             f("M-W2", "electricity", 37_000.0, 3, 5), f("M-GAS", "natural_gas", 10_000.0, None, 6),
             f("M-STEAM", "steam", 100.0, 6, 5)]
    out = bal.build_balance(1, nodes, flows, CARRIERS).as_dict()
    out["period"] = PERIOD
    out["reconciliation"] = {"node_energy_total_tce": 24.433, "balance_total_tce": 24.433,
                             "difference_tce": 0.0,
                             "statement": {"zh-CN": "综合能耗核对", "en": "reconciled"}}
    return out


def book(lang, **kw):
    return load_workbook(BytesIO(balance_table.workbook(answer(**kw), lang)))


def find(ws, text, rows=range(1, 60), cols=range(1, 20)):
    for r in rows:
        for c in cols:
            if ws.cell(r, c).value == text:
                return r, c
    raise AssertionError(f"{text!r} not found in {ws.title}")


@pytest.mark.parametrize("lang,names,texts", [
    ("zh-CN", ["能量平衡表", "明细", "核对与说明"],
     {"title": "企业能量平衡表", "td": "输送分配", "loss": "损失及未计量", "conv": "加工转换",
      "unit": "锅炉房", "util": "能量利用率（%）", "eff": "有效能量（tce）",
      "nm": "未测定", "sup": "供入能量（tce）", "yes": "是", "elec": "电力", "total": "合计"}),
    ("en", ["Energy balance", "Details", "Checks and notes"],
     {"title": "Energy balance table", "td": "Transmission & distribution",
      "loss": "Loss / unmetered", "conv": "Processing & conversion", "unit": "Boiler house",
      "util": "Utilisation rate (%)", "eff": "Effective energy (tce)", "nm": "not measured",
      "sup": "Supplied energy (tce)", "yes": "yes", "elec": "Electricity", "total": "Total"}),
])
def test_workbook_layout_and_figures(lang, names, texts):
    wb = book(lang)
    assert wb.sheetnames == names
    ws = wb[names[0]]
    name = "示范企业" if lang == "zh-CN" else "Demo enterprise"
    assert ws["A1"].value == f"{texts['title']} — {name} (E)"
    assert "2026-10" in ws["A2"].value
    # stage header row 5, items row 6, input/output row 7
    assert find(ws, texts["td"])[0] == 5 and find(ws, texts["conv"])[0] == 5
    assert find(ws, texts["unit"])[0] == 6
    _, loss_col = find(ws, texts["loss"])
    # electricity rows: physical (kWh) then tce
    elec = next(r for r in range(8, 30) if ws.cell(r, 1).value == texts["elec"]
                and ws.cell(r, 2).value == "kWh")
    assert ws.cell(elec + 1, 2).value == "tce"
    assert ws.cell(elec, loss_col).value == pytest.approx(3_000)
    assert ws.cell(elec + 1, loss_col).value == pytest.approx(0.3687)
    # stage rows: distribution utilisation 97 %, supplied 12.29 tce; end use not measured
    util_row, _ = find(ws, texts["util"])
    _, td_col = find(ws, texts["td"])
    assert ws.cell(util_row, td_col).value == pytest.approx(97.0)
    sup_row, _ = find(ws, texts["sup"])
    assert ws.cell(sup_row, td_col).value == pytest.approx(12.29)
    eff_row, _ = find(ws, texts["eff"])
    _, total_col = find(ws, texts["total"], rows=range(6, 7))
    assert ws.cell(eff_row, total_col).value == texts["nm"]
    # boiler house: supplied 12.143, effective 10 tce, utilisation 82.35 %
    _, bh_col = find(ws, texts["unit"])
    assert ws.cell(sup_row, bh_col).value == pytest.approx(12.143)
    assert ws.cell(eff_row, bh_col).value == pytest.approx(10.0)
    assert ws.cell(util_row, bh_col).value == pytest.approx(100 * 10 / 12.143)
    # details and checks
    details = wb[names[1]]
    assert find(details, "SUB")
    checks = wb[names[2]]
    assert find(checks, texts["yes"], cols=range(6, 7))


def test_missing_coefficient_is_written_not_hidden():
    for lang, text in (("zh-CN", "无折标系数"), ("en", "no coefficient")):
        ws = book(lang, steam=False).worksheets[0]
        steam = next(r for r in range(8, 30) if ws.cell(r, 2).value == "t")
        cells = [ws.cell(steam + 1, c).value for c in range(3, 16)]
        assert text in cells
        # the steam quantities are still there
        assert 100 in [ws.cell(steam, c).value for c in range(3, 16)]
        notes = [c.value for c in ws.parent.worksheets[2]["A"] if c.value]
        assert any("steam" in str(v) or "蒸汽" in str(v) for v in notes)
