"""Console pages of the data part (数据管理): organisation, meters, manual entry, data quality.

Each page is a shell whose script reads the JSON API with the user's session (see
:mod:`nengtan.web.render`); the permission here only decides whether the page is linked and
served.  Editing controls appear only for users who hold the matching write permission, and
the API checks every request again (``org.write`` for the tree and meters, ``data.submit`` and
``data.approve`` for manual entries, ``quality.write`` for findings).

Detail pages (one meter, one entry) stay out of the side navigation (``nav=False``); a meter's
page takes its id in the path, an entry's in the query (``/data/entry?id=7``) so that the
review queue can link it with the entry's version.
"""

from __future__ import annotations

from nengtan.web.pages import Page

PAGES: list[Page] = [
    Page("org", "/data/org", "pages/org.html", "web.data.org.title", "data", "org.read",
         icon="⌂"),
    Page("meters", "/data/meters", "pages/meters.html", "web.data.meters.title", "data",
         "org.read", icon="◔"),
    Page("meter", "/data/meters/{meter_id}", "pages/meter.html", "web.data.meter.title", "data",
         "org.read", nav=False),
    Page("entries", "/data/entries", "pages/entries.html", "web.data.entries.title", "data",
         "data.read", icon="✎"),
    Page("entry", "/data/entry", "pages/entry.html", "web.data.entry.title", "data",
         "data.read", nav=False),
    Page("quality", "/data/quality", "pages/quality.html", "web.data.quality.title", "data",
         "data.read", icon="✔"),
]
