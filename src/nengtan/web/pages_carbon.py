"""Console pages of the carbon part (碳管理): inventories with drill-down to the evidence, the
park inventory, the factor library and the evidence ledger.

Every page needs ``carbon.read`` only: a third-party verifier (核查员), who holds
``carbon.read`` on named inventories, uses the inventory detail, its drill-down down to the
evidence files, the factor library and the ledger.  Buttons that change something (compute,
lock, sign a checkpoint) are shown only to users with ``carbon.write``; the API checks every
request again (:mod:`nengtan.api.policy`).

The inventory detail is a page of its own out of the side navigation
(``/carbon/inventory?id=1``), linked from the list, the park inventory and the ledger.
"""

from __future__ import annotations

from nengtan.web.pages import Page

PAGES: list[Page] = [
    Page("inventories", "/carbon/inventories", "pages/inventories.html",
         "web.carbon.inventories.title", "carbon", "carbon.read", icon="◍"),
    Page("inventory", "/carbon/inventory", "pages/inventory.html",
         "web.carbon.inventory.title", "carbon", "carbon.read", nav=False),
    Page("park_carbon", "/carbon/park", "pages/park_carbon.html",
         "web.carbon.park.title", "carbon", "carbon.read", icon="⬡"),
    Page("factors", "/carbon/factors", "pages/factors.html",
         "web.carbon.factors.title", "carbon", "carbon.read", icon="ƒ"),
    Page("ledger", "/carbon/ledger", "pages/ledger.html",
         "web.carbon.ledger.title", "carbon", "carbon.read", icon="▤"),
]
