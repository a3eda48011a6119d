"""The energy balance table (企业能量平衡表) as an Excel workbook, zh-CN or en.

Layout of GB/T 28751-2012: one row pair per carrier (physical quantity, then tce at the
equivalent value), columns by stage — purchase & storage (purchased, exported), processing &
conversion (input and output of each conversion unit), transmission & distribution (supplied,
delivered, loss/unmetered), end use (main, auxiliary, ancillary, total) — and at the foot the
stage rows of GB/T 3484-2009: supplied, effective, losses and utilisation rate.

Sheets: the table; details (stage of every node, distribution points, conversion and end-use
units with their meters); checks and notes (identities, reconciliation with the comprehensive
energy consumption, coefficients, notes).  Built from the JSON answer of
:func:`nengtan.services.energy_flow.balance`, so the workbook and the API say the same.
"""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from nengtan.energy.balance import END_USES
from nengtan.i18n import normalise_language, t

QTY = "#,##0.0"
TCE = "#,##0.000"
PCT = "0.0"
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD = PatternFill("solid", fgColor="DDE7F0")
_FOOT = PatternFill("solid", fgColor="F2F2F2")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


class _Text:
    def __init__(self, lang: str):
        self.lang = lang

    def __call__(self, key: str, **params) -> str:
        return t(f"eflow.{key}", self.lang, **params)

    def name(self, obj: dict) -> str:
        if self.lang == "en":
            return obj.get("name_en") or obj.get("name_zh") or obj.get("node") or ""
        return obj.get("name_zh") or obj.get("name_en") or obj.get("node") or ""


def workbook(table: dict, lang: str | None = None) -> bytes:
    """The workbook of a balance answer (:func:`energy_flow.balance`) as xlsx bytes."""
    lang = normalise_language(lang)
    tx = _Text(lang)
    wb = Workbook()
    ws = wb.active
    ws.title = tx("xlsx.sheet_balance")
    _balance_sheet(ws, table, tx)
    _details_sheet(wb.create_sheet(tx("xlsx.sheet_details")), table, tx)
    _checks_sheet(wb.create_sheet(tx("xlsx.sheet_checks")), table, tx)
    wb.properties.title = f"{tx('xlsx.title')} {table['node']} {table['period']['label']}"
    wb.properties.creator = "nengtan"
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- the table -----------------------------------------------------------------------------
def _by_carrier(rows: list[dict]) -> dict[str, dict]:
    return {r["carrier"]: r for r in rows}


def _columns(table: dict, tx: _Text) -> list[dict]:
    """Columns after the two label columns: stage, head, sub-head and a getter giving
    ``{quantity, tce}`` for a carrier (or a primary-input row)."""
    st = table["stages"]
    p_rows = _by_carrier(st["purchase"]["rows"])
    cols = [
        {"stage": "purchase", "head": tx("xlsx.purchased"),
         "get": lambda c: p_rows.get(c, {}).get("supplied")},
        {"stage": "purchase", "head": tx("xlsx.exported"),
         "get": lambda c: p_rows.get(c, {}).get("exported")},
    ]
    for u in st["conversion"]["units"]:
        inputs, outputs = _by_carrier(u["inputs"]), _by_carrier(u["outputs"])
        primary = {f"primary:{p['kind']}": p for p in u["primary"]}
        cols.append({"stage": "conversion", "head": tx.name(u), "sub": tx("xlsx.input"),
                     "unit": u["node"],
                     "get": lambda c, i=inputs, p=primary: i.get(c) or p.get(c)})
        cols.append({"stage": "conversion", "head": tx.name(u), "sub": tx("xlsx.output"),
                     "unit": u["node"], "get": lambda c, o=outputs: o.get(c)})
    d_rows = _by_carrier(st["distribution"]["rows"])
    for key, head in (("supplied", "xlsx.supplied"), ("effective", "xlsx.delivered"),
                      ("losses", "xlsx.loss_unmetered")):
        cols.append({"stage": "distribution", "head": tx(head), "key": key,
                     "get": lambda c, k=key: d_rows.get(c, {}).get(k)})
    for cat in END_USES:
        rows = _by_carrier(st["end_use"]["categories"][cat]["rows"])
        cols.append({"stage": "end_use", "head": tx(f"stage.{cat}"), "category": cat,
                     "get": lambda c, r=rows: r.get(c, {}).get("supplied")})
    e_rows = _by_carrier(st["end_use"]["rows"])
    cols.append({"stage": "end_use", "head": tx("xlsx.total"), "category": "total",
                 "get": lambda c: e_rows.get(c, {}).get("supplied")})
    return cols


def _carriers(table: dict) -> list[dict]:
    """Carrier rows in the order the stages list them (each stage is sorted alike)."""
    st = table["stages"]
    seen: dict[str, dict] = {}
    lists = [st["purchase"]["rows"], st["distribution"]["rows"], st["end_use"]["rows"]]
    for u in st["conversion"]["units"]:
        lists += [u["inputs"], u["outputs"]]
    for rows in lists:
        for r in rows:
            if r["carrier"] not in seen:
                seen[r["carrier"]] = {"carrier": r["carrier"], "name_zh": r["name_zh"],
                                      "name_en": r["name_en"], "unit": r.get("unit")}
    return list(seen.values())


def _cell(ws, row: int, col: int, value, fmt: str | None = None, bold: bool = False,
          fill=None, align=None):
    c = ws.cell(row=row, column=col, value=value)
    c.border = _BORDER
    if fmt and isinstance(value, (int, float)):
        c.number_format = fmt
    if bold:
        c.font = Font(bold=True)
    if fill is not None:
        c.fill = fill
    if align is not None:
        c.alignment = align
    return c


def _balance_sheet(ws, table: dict, tx: _Text) -> None:
    cols = _columns(table, tx)
    ncol = 2 + len(cols)
    ws.cell(row=1, column=1, value=f"{tx('xlsx.title')} — {tx.name(table)} ({table['node']})"
            ).font = Font(bold=True, size=14)
    per = table["period"]
    ws.cell(row=2, column=1, value=f"{tx('xlsx.period')}: {per['label']} "
                                   f"({per['start']} – {per['end']}, end exclusive)"
            if tx.lang == "en" else
            f"{tx('xlsx.period')}：{per['label']}（{per['start']} 至 {per['end']}，不含）")
    ws.cell(row=3, column=1, value=tx("xlsx.standard"))
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(ncol, 4))
    # header: stage (row 5), item (row 6), input/output (row 7)
    for col, key in ((1, "xlsx.carrier"), (2, "xlsx.unit")):
        _cell(ws, 5, col, tx(key), bold=True, fill=_HEAD, align=_CENTER)
        ws.merge_cells(start_row=5, start_column=col, end_row=7, end_column=col)
    c = 3
    for stage in ("purchase", "conversion", "distribution", "end_use"):
        span = [i for i, x in enumerate(cols) if x["stage"] == stage]
        if not span:
            continue
        first, last = 3 + span[0], 3 + span[-1]
        _cell(ws, 5, first, tx(f"stage.{stage}"), bold=True, fill=_HEAD, align=_CENTER)
        if last > first:
            ws.merge_cells(start_row=5, start_column=first, end_row=5, end_column=last)
    for i, x in enumerate(cols):
        c = 3 + i
        if "sub" in x:
            _cell(ws, 7, c, x["sub"], bold=True, fill=_HEAD, align=_CENTER)
            if x["sub"] == tx("xlsx.input"):
                _cell(ws, 6, c, x["head"], bold=True, fill=_HEAD, align=_CENTER)
                ws.merge_cells(start_row=6, start_column=c, end_row=6, end_column=c + 1)
        else:
            _cell(ws, 6, c, x["head"], bold=True, fill=_HEAD, align=_CENTER)
            ws.merge_cells(start_row=6, start_column=c, end_row=7, end_column=c)
    # carrier rows: physical, then tce
    row = 8
    tce_rows = []
    entries = [(tx.name(cr), cr["carrier"], cr.get("unit")) for cr in _carriers(table)]
    primary = table["stages"]["conversion"].get("primary", {})
    for kind in ("recovered", "renewable"):
        p = primary.get(kind) or {}
        if p.get("meters"):
            entries.append((tx(f"xlsx.primary_{kind}"), f"primary:{kind}", p.get("unit")))
    for label, key, unit in entries:
        _cell(ws, row, 1, label, bold=True)
        _cell(ws, row, 2, unit or "")
        _cell(ws, row + 1, 1, label)
        _cell(ws, row + 1, 2, "tce")
        for i, x in enumerate(cols):
            v = x["get"](key)
            q = v.get("quantity") if v else None
            tce = v.get("tce") if v else None
            _cell(ws, row, 3 + i, q if q else None, QTY)
            if v and tce is None and q:
                _cell(ws, row + 1, 3 + i, tx("xlsx.no_coefficient"))
            else:
                _cell(ws, row + 1, 3 + i, tce if tce else None, TCE)
        tce_rows.append(row + 1)
        row += 2
    _cell(ws, row, 1, tx("xlsx.total_tce"), bold=True, fill=_FOOT)
    _cell(ws, row, 2, "tce", fill=_FOOT)
    for i, x in enumerate(cols):
        total = 0.0
        for r in tce_rows:
            v = ws.cell(row=r, column=3 + i).value
            if isinstance(v, (int, float)):
                total += v
        _cell(ws, row, 3 + i, total if total else None, TCE, bold=True, fill=_FOOT)
    row += 1
    _stage_rows(ws, row, cols, table, tx)
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 8
    for i in range(len(cols)):
        ws.column_dimensions[get_column_letter(3 + i)].width = 15
    ws.freeze_panes = "C8"


def _stage_rows(ws, row: int, cols: list[dict], table: dict, tx: _Text) -> None:
    """供入 / 有效 / 损失 / 利用率 under each stage's (or unit's, category's) columns."""
    st = table["stages"]
    labels = ("xlsx.row_supplied", "xlsx.row_effective", "xlsx.row_losses",
              "xlsx.row_utilisation")
    for k, key in enumerate(labels):
        _cell(ws, row + k, 1, tx(key), bold=True, fill=_FOOT)
        _cell(ws, row + k, 2, "%" if k == 3 else "tce", fill=_FOOT)
    groups = []  # (first col, last col, figures)
    idx = {i: x for i, x in enumerate(cols)}
    p = [i for i, x in idx.items() if x["stage"] == "purchase"]
    groups.append((p[0], p[-1], st["purchase"] | {"_why": "xlsx.no_coefficient"}))
    units = {u["node"]: u for u in st["conversion"]["units"]}
    conv = [i for i, x in idx.items() if x["stage"] == "conversion"]
    for i in conv[::2]:
        groups.append((i, i + 1, units[idx[i]["unit"]] | {"_why": "xlsx.no_coefficient"}))
    d = [i for i, x in idx.items() if x["stage"] == "distribution"]
    groups.append((d[0], d[-1], st["distribution"] | {"_why": "xlsx.no_coefficient"}))
    for i, x in idx.items():
        if x["stage"] == "end_use":
            cat = x["category"]
            figures = st["end_use"] if cat == "total" else st["end_use"]["categories"][cat]
            groups.append((i, i, figures))
    for first, last, fig in groups:
        values = (fig.get("supplied_tce"), fig.get("effective_tce"), fig.get("losses_tce"),
                  None if fig.get("utilisation") is None else fig["utilisation"] * 100)
        for k, v in enumerate(values):
            c0, c1 = 3 + first, 3 + last
            if v is None and k > 0 and fig.get("supplied_tce"):
                # conversion and distribution figures are unknown only for want of a
                # coefficient; end-use effective energy for want of a measured efficiency
                _cell(ws, row + k, c0, tx(fig.get("_why", "xlsx.not_measured")), fill=_FOOT,
                      align=_CENTER)
            else:
                _cell(ws, row + k, c0, v, PCT if k == 3 else TCE, fill=_FOOT, align=_CENTER)
            for c in range(c0 + 1, c1 + 1):
                _cell(ws, row + k, c, None, fill=_FOOT)
            if c1 > c0:
                ws.merge_cells(start_row=row + k, start_column=c0, end_row=row + k,
                               end_column=c1)


# -- details -------------------------------------------------------------------------------
def _header(ws, row: int, titles: list[str]) -> None:
    for i, h in enumerate(titles):
        _cell(ws, row, 1 + i, h, bold=True, fill=_HEAD, align=_CENTER)


def _details_sheet(ws, table: dict, tx: _Text) -> None:
    st = table["stages"]
    row = 1
    ws.cell(row=row, column=1, value=tx("xlsx.stage_of_nodes")).font = Font(bold=True, size=12)
    row += 1
    _header(ws, row, [tx("xlsx.node"), tx("xlsx.name"), tx("xlsx.stage"), tx("xlsx.rule"),
                      tx("xlsx.detail"), tx("xlsx.balance_unit")])
    for n in table["nodes"]:
        row += 1
        for i, v in enumerate([n["node"], ("  " * n["depth"]) + tx.name(n),
                               tx(f"stage.{n['stage']}"), n["rule"],
                               n["detail"] if tx.lang == "en" else n["detail_zh"],
                               n["unit"] if n["unit"] != n["node"] else ""]):
            _cell(ws, row, 1 + i, v)
    row += 2
    ws.cell(row=row, column=1, value=tx("xlsx.distribution_points")).font = Font(bold=True,
                                                                                 size=12)
    row += 1
    _header(ws, row, [tx("xlsx.node"), tx("xlsx.carrier"), tx("xlsx.unit"),
                      tx("xlsx.supplied"), tx("xlsx.delivered"), tx("xlsx.loss_unmetered"),
                      f"{tx('xlsx.loss_unmetered')} (tce)", tx("xlsx.meters")])
    for p in st["distribution"]["points"]:
        row += 1
        meters = f"in: {', '.join(p['supplied'].get('meters', []))}; " \
                 f"out: {', '.join(p['effective'].get('meters', []))}"
        for i, (v, fmt) in enumerate([(p["node"], None), (tx.name(p), None), (p["unit"], None),
                                      (p["supplied"]["quantity"], QTY),
                                      (p["effective"]["quantity"], QTY),
                                      (p["losses"]["quantity"], QTY),
                                      (p["losses"]["tce"], TCE), (meters, None)]):
            _cell(ws, row, 1 + i, v, fmt)
    row += 2
    ws.cell(row=row, column=1, value=tx("xlsx.conversion_units")).font = Font(bold=True, size=12)
    row += 1
    _header(ws, row, [tx("xlsx.node"), tx("xlsx.input"), tx("xlsx.output"),
                      tx("xlsx.row_supplied"), tx("xlsx.row_effective"), tx("xlsx.row_losses"),
                      tx("xlsx.row_utilisation")])
    for u in st["conversion"]["units"]:
        row += 1

        def listing(items):
            return "; ".join(f"{tx.name(i) if 'name_zh' in i else i.get('kind')}: "
                             f"{i['quantity']:,.1f} {i.get('unit') or ''}" for i in items)
        for i, (v, fmt) in enumerate([
                (f"{u['node']} {tx.name(u)}", None),
                (listing(u["inputs"] + u["primary"]), None), (listing(u["outputs"]), None),
                (u["supplied_tce"], TCE), (u["effective_tce"], TCE), (u["losses_tce"], TCE),
                (None if u["utilisation"] is None else u["utilisation"] * 100, PCT)]):
            _cell(ws, row, 1 + i, v, fmt)
    row += 2
    ws.cell(row=row, column=1, value=tx("xlsx.end_use_units")).font = Font(bold=True, size=12)
    row += 1
    _header(ws, row, [tx("xlsx.node"), tx("xlsx.category"), tx("xlsx.carrier"), tx("xlsx.unit"),
                      tx("xlsx.supplied"), f"{tx('xlsx.supplied')} (tce)",
                      tx("xlsx.efficiency"), tx("xlsx.source"), tx("xlsx.row_effective")])
    for u in st["end_use"]["units"]:
        eff = u["efficiency"]
        for r in u["rows"]:
            row += 1
            name = f"{u['node']} {tx.name(u)}" + (f" ({tx('xlsx.own_use')})" if u["own_use"]
                                                   else "")
            for i, (v, fmt) in enumerate([
                    (name, None), (tx(f"stage.{u['category']}"), None), (tx.name(r), None),
                    (r["unit"], None), (r["supplied"]["quantity"], QTY),
                    (r["supplied"]["tce"], TCE), (eff["value"] if eff else None, "0.00"),
                    (eff["source"] if eff else tx("xlsx.not_measured"), None),
                    (r["effective"]["tce"] if r["effective"] else tx("xlsx.not_measured"),
                     TCE)]):
                _cell(ws, row, 1 + i, v, fmt)
    for col, width in zip("ABCDEFGHI", (28, 32, 18, 10, 16, 16, 16, 30, 40)):
        ws.column_dimensions[col].width = width


def _checks_sheet(ws, table: dict, tx: _Text) -> None:
    row = 1
    ws.cell(row=row, column=1, value=tx("xlsx.identity")).font = Font(bold=True, size=12)
    row += 1
    _header(ws, row, [tx("xlsx.identity"), tx("xlsx.scope"), tx("xlsx.lhs"), tx("xlsx.rhs"),
                      tx("xlsx.residual"), tx("xlsx.ok")])
    for ch in table["checks"]:
        row += 1
        scope = ch["scope"]
        if scope in ("purchase", "conversion", "distribution", "end_use"):
            scope = tx(f"stage.{scope}")
        for i, (v, fmt) in enumerate([(t(ch["key"], tx.lang), None), (scope, None),
                                      (ch["lhs"], TCE), (ch["rhs"], TCE),
                                      (ch["residual"], "0.000000"),
                                      (tx("xlsx.yes") if ch["ok"] else tx("xlsx.no"), None)]):
            _cell(ws, row, 1 + i, v, fmt)
    row += 2
    rec = table.get("reconciliation") or {}
    ws.cell(row=row, column=1, value=tx("xlsx.reconciliation")).font = Font(bold=True, size=12)
    for key, label in (("node_energy_total_tce", "xlsx.node_energy_total"),
                       ("balance_total_tce", "xlsx.balance_total"),
                       ("difference_tce", "xlsx.difference")):
        row += 1
        _cell(ws, row, 1, tx(label))
        _cell(ws, row, 2, rec.get(key), TCE)
    statement = rec.get("statement") or {}
    row += 1
    ws.cell(row=row, column=1, value=statement.get("en" if tx.lang == "en" else "zh-CN"))
    row += 2
    ws.cell(row=row, column=1, value=tx("xlsx.notes")).font = Font(bold=True, size=12)
    for n in table["notes"]:
        row += 1
        ws.cell(row=row, column=1, value=n["message_en" if tx.lang == "en" else "message_zh"])
    row += 1
    ws.cell(row=row, column=1, value=f"{tx('xlsx.coverage')}: "
                                     f"{table['coverage'] * 100:.1f} %")
    row += 2
    ws.cell(row=row, column=1, value=tx("xlsx.coefficients")).font = Font(bold=True, size=12)
    row += 1
    _header(ws, row, [tx("xlsx.carrier"), tx("xlsx.coefficient"), tx("xlsx.unit"),
                      tx("xlsx.method"), tx("xlsx.source"), tx("xlsx.status")])
    for carrier, c in sorted(table["lineage"]["coefficients"].items()):
        row += 1
        for i, (v, fmt) in enumerate([(carrier, None), (c.get("kgce_per_unit"), "0.0000"),
                                      (c.get("unit"), None), (c.get("method"), None),
                                      (c.get("source"), None), (c.get("status"), None)]):
            _cell(ws, row, 1 + i, v, fmt)
    row += 1
    ws.cell(row=row, column=1, value=table["lineage"]["method"])
    for col, width in zip("ABCDEF", (60, 22, 16, 16, 16, 12)):
        ws.column_dimensions[col].width = width
