"""One router per capability, in the order they appear on the OpenAPI page."""

from nengtan.api.routers import (
    carriers,
    economics,
    exchange,
    fuel_deliveries,
    meters,
    nodes,
    production,
    products,
    quality,
    readings,
    reference,
    status,
    tariffs,
)

ROUTERS = [
    status.router, nodes.router, carriers.router, meters.router, readings.router,
    quality.router, tariffs.router, products.router, production.router, economics.router,
    fuel_deliveries.router, reference.router, exchange.router,
]
