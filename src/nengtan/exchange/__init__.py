"""Import and export of CSV and Excel (xlsx) files: organisation tree, meters, meter events,
products, production, economic data, fuel deliveries and readings.

A file is validated whole and applied all-or-nothing; every error names its sheet, row (the
header is row 1), column and rule.  Exports are in the formats the import reads, so a file can
be exported, edited and imported back.  The file formats are described in
``docs/data-formats.md``.

Modules: :mod:`.kinds` (what each kind's columns are), :mod:`.tables` (reading files),
:mod:`.records` and :mod:`.readings` (parsing and applying), :mod:`.importer` (the
all-or-nothing run), :mod:`.exporter` and :mod:`.writers` (writing files).
"""

from nengtan.exchange.exporter import export, template
from nengtan.exchange.importer import ImportReport, import_bytes, import_file
from nengtan.exchange.kinds import KINDS

__all__ = ["KINDS", "ImportReport", "export", "import_bytes", "import_file", "template"]
