"""One router per capability, in the order they appear on the OpenAPI page."""

from nengtan.api.routers import (
    benchmarks,
    carriers,
    cems,
    collect,
    economics,
    efficiency,
    energy,
    energy_analysis,
    energy_flow,
    energy_query,
    exchange,
    fuel_deliveries,
    manual_entries,
    metering,
    meters,
    nodes,
    production,
    products,
    quality,
    quality_rules,
    readings,
    recommendations,
    reference,
    reports,
    status,
    tariffs,
)

ROUTERS = [
    status.router, nodes.router, carriers.router, meters.router, readings.router,
    quality.router, quality_rules.router, collect.router, manual_entries.router, cems.router,
    tariffs.router, products.router, production.router, economics.router,
    fuel_deliveries.router, energy.router, energy_query.router, energy_analysis.router,
    efficiency.router, energy_flow.router, metering.router, benchmarks.router, recommendations.router,
    reports.router, reference.router, exchange.router,
]
