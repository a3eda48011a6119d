"""One router per capability, in the order they appear on the OpenAPI page."""

from nengtan.api.routers import (
    carriers,
    cems,
    collect,
    economics,
    exchange,
    fuel_deliveries,
    manual_entries,
    meters,
    nodes,
    production,
    products,
    quality,
    quality_rules,
    readings,
    reference,
    status,
    tariffs,
)

ROUTERS = [
    status.router, nodes.router, carriers.router, meters.router, readings.router,
    quality.router, quality_rules.router, collect.router, manual_entries.router, cems.router,
    tariffs.router, products.router, production.router, economics.router,
    fuel_deliveries.router, reference.router, exchange.router,
]
