"""The batch calculator's input: a CSV of energy quantities → :class:`EnergyInput` rows (pure).

Header ``carrier,quantity,unit`` and optional ``use`` (fuel | feedstock | export | renewable;
default fuel) and ``ncv_mj_per_unit`` (measured net calorific value per unit of quantity, MJ),
optional ``label``.  Rows are numbered as a user sees them in a spreadsheet: the header is row 1.
Every problem of every row is reported together; nothing is computed from a bad file.
"""

from __future__ import annotations

from nengtan.batchfile import number, records
from nengtan.energy.gbt2589 import EnergyInput
from nengtan.errors import InputError, Issue

REQUIRED = ("carrier", "quantity", "unit")
OPTIONAL = ("use", "ncv_mj_per_unit", "label")


def parse_csv(text: str) -> list[EnergyInput]:
    """Rows of the CSV ``text`` as energy inputs, or an InputError naming every bad row."""
    inputs, issues = read_csv(text)
    if issues:
        raise InputError(issues)
    return inputs


def read_csv(text: str) -> tuple[list[EnergyInput], list[Issue]]:
    """Rows of the CSV ``text`` (UTF-8, a BOM is ignored) as energy inputs, and the problems
    of the rows that could not be read (the good rows are still returned, so that a caller can
    check them too and report every problem of the file at once)."""
    rows, issues = records(text, REQUIRED, OPTIONAL)
    inputs: list[EnergyInput] = []
    for k, rec in rows:
        for name in REQUIRED:
            if not rec[name]:
                issues.append(Issue("rule.required", row=k, field=name))
        if any(not rec[name] for name in REQUIRED):
            continue
        quantity = number(rec["quantity"], k, "quantity", issues)
        ncv = (number(rec["ncv_mj_per_unit"], k, "ncv_mj_per_unit", issues)
               if rec.get("ncv_mj_per_unit") else None)
        if quantity is None:
            continue
        inputs.append(EnergyInput(carrier=rec["carrier"], quantity=quantity, unit=rec["unit"],
                                  use=(rec.get("use") or "fuel").lower(), ncv_mj_per_unit=ncv,
                                  label=rec.get("label") or None, row=k))
    if not inputs and not issues:
        issues.append(Issue("rule.energy_no_rows", row=2))
    return inputs, issues


def calculate(text: str, library):
    """Parse and convert a batch file; every problem of every row in one InputError."""
    from nengtan.energy.gbt2589 import convert

    inputs, issues = read_csv(text)
    result = None
    try:
        result = convert(inputs, library)
    except InputError as exc:
        issues = issues + exc.issues
    if issues:
        raise InputError(sorted(issues, key=lambda i: (i.row or 0)))
    return result
