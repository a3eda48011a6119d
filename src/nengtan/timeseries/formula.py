"""Virtual-meter formulas: arithmetic over other meters, evaluated on aligned intervals.

Syntax: meter codes in braces, numbers, ``+ - * /`` and parentheses, e.g.
``{E-101} + {E-102} - 0.5 * ({E-103} / 2)``.  Nothing else is accepted (no names, calls or
attributes), so a formula can never execute code.  Division by zero gives NaN (no value).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import numpy as np

_REF = re.compile(r"\{([^{}]+)\}")
_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load,
            ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub, ast.UAdd)


class FormulaError(ValueError):
    """A formula that is not arithmetic over {meter} references."""


@dataclass(frozen=True)
class Formula:
    text: str
    codes: tuple[str, ...]  # referenced meter codes, in order of first appearance
    _tree: ast.Expression

    def evaluate(self, operands: dict[str, np.ndarray]) -> np.ndarray:
        """Evaluate element-wise; every referenced code must be in ``operands``."""
        env = {f"m{i}": np.asarray(operands[c], dtype=np.float64) for i, c in enumerate(self.codes)}
        with np.errstate(divide="ignore", invalid="ignore"):
            out = _eval(self._tree.body, env)
        out = np.asarray(out, dtype=np.float64)
        return np.where(np.isfinite(out), out, np.nan)


def parse(text: str) -> Formula:
    if not text or not text.strip():
        raise FormulaError("empty formula")
    codes: list[str] = []

    def sub(match: re.Match) -> str:
        code = match.group(1).strip()
        if code not in codes:
            codes.append(code)
        return f" m{codes.index(code)} "

    source = _REF.sub(sub, text)
    if "{" in source or "}" in source:
        raise FormulaError("unbalanced braces in formula")
    if not codes:
        raise FormulaError("formula references no meter; write codes as {CODE}")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"invalid formula: {exc.msg}") from exc
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise FormulaError(f"not allowed in a formula: {type(node).__name__}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise FormulaError("only numbers and {meter} references are allowed")
        if isinstance(node, ast.Name) and not re.fullmatch(r"m\d+", node.id):
            raise FormulaError(f"unknown name {node.id!r}; write meter codes as {{CODE}}")
    return Formula(text, tuple(codes), tree)


def _eval(node: ast.AST, env: dict[str, np.ndarray]):
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, env)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, env), _eval(node.right, env)
        if isinstance(node.op, ast.Add):
            return a + b
        if isinstance(node.op, ast.Sub):
            return a - b
        if isinstance(node.op, ast.Mult):
            return a * b
        return np.divide(a, b)
    raise FormulaError(f"not allowed in a formula: {type(node).__name__}")
