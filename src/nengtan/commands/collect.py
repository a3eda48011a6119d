"""``nengtan collect --config FILE``: run the field-data collector until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import typer

from nengtan.commands.common import DbOption, engine, fail


def collect(config: Path = typer.Option(..., "--config", "-c", exists=True, dir_okay=False,
                                        help="Collector YAML (see docs/collection.md)."),
            db: str = DbOption,
            verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at debug level.")) -> None:
    """Run the collector: adapters (MQTT, Modbus TCP, OPC UA, HTTP/SQL pulls) into the store."""
    from nengtan.collect import config as collect_config
    from nengtan.collect.runtime import Collector
    from nengtan.collect.tagmap import TagMapError

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = collect_config.load(config)
    except collect_config.ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from None
    if db:
        cfg.collector.database = db
    eng = engine(cfg.collector.database)
    collector = Collector(cfg, eng)

    async def main() -> None:
        stop = asyncio.Event()
        ready = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        running = asyncio.create_task(collector.run(stop, ready))
        await asyncio.wait([running, asyncio.create_task(ready.wait())],
                           return_when=asyncio.FIRST_COMPLETED)
        if ready.is_set():
            typer.echo(f"collector {collector.name!r} running; health on "
                       f"http://{cfg.collector.health.host}:{collector.health_port}/health",
                       err=True)
        await running

    try:
        asyncio.run(main())
    except TagMapError as exc:
        fail(exc)
    typer.echo(f"collector {collector.name!r} stopped: {collector.snapshot()['totals']}", err=True)
