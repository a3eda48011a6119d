"""``nengtan cems ...``: Continuous emission monitoring (CEMS): monitors, samples, hourly CO2."""

from __future__ import annotations

import typer

app = typer.Typer(help="Continuous emission monitoring (CEMS): monitors, samples, hourly CO2.", no_args_is_help=True)
