"""``nengtan quality ...``: Data-quality rules, completeness and balance checks."""

from __future__ import annotations

import typer

app = typer.Typer(help="Data-quality rules, completeness and balance checks.", no_args_is_help=True)
