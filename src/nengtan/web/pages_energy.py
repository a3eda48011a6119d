"""The console's energy pages: query, totals and intensity, cost and structure, energy flow,
benchmarking, recommendations and report downloads (see :mod:`nengtan.web.pages`).

Every page is a shell whose script reads the energy API (``/api/energy/...``,
``/api/benchmarks/...``, ``/api/metering/...``, ``/api/reports/...``); each needs
``energy.read``, the permission those endpoints check, so a page is linked exactly when its
data can be read.  The reports page shows the carbon (GHG) downloads only to a user who also
holds ``carbon.read``.
"""

from __future__ import annotations

from nengtan.web.pages import Page

PAGES: list[Page] = [
    Page("energy_query", "/energy/query", "pages/energy_query.html",
         "web.energy.query.title", "energy", "energy.read", icon="⌕"),
    Page("energy_totals", "/energy/totals", "pages/energy_totals.html",
         "web.energy.totals.title", "energy", "energy.read", icon="Σ"),
    Page("energy_analysis", "/energy/analysis", "pages/energy_analysis.html",
         "web.energy.analysis.title", "energy", "energy.read", icon="¥"),
    Page("energy_flow", "/energy/flow", "pages/energy_flow.html",
         "web.energy.flow.title", "energy", "energy.read", icon="⇶"),
    Page("benchmarking", "/energy/benchmarking", "pages/benchmarking.html",
         "web.energy.benchmarking.title", "energy", "energy.read", icon="≶"),
    Page("recommendations", "/energy/recommendations", "pages/recommendations.html",
         "web.energy.recommendations.title", "energy", "energy.read", icon="✎"),
    Page("reports", "/reports", "pages/reports.html",
         "web.energy.reports.title", "energy", "energy.read", icon="⤓"),
]
