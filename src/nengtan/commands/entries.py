"""``nengtan entries ...``: Manual entry (手工填报) with review, and evidence files."""

from __future__ import annotations

import typer

app = typer.Typer(help="Manual entry (手工填报) with review, and evidence files.", no_args_is_help=True)
