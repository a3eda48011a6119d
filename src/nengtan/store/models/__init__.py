"""All ORM models; importing this module registers every table on ``Base.metadata``."""

from nengtan.store.base import Base
from nengtan.store.models import benchmark as _benchmark  # noqa: F401  (registers its tables)
from nengtan.store.models import cems as _cems  # noqa: F401
from nengtan.store.models import efficiency as _efficiency  # noqa: F401
from nengtan.store.models import energy as _energy  # noqa: F401
from nengtan.store.models import factors as _factors  # noqa: F401
from nengtan.store.models import inventory as _inventory  # noqa: F401
from nengtan.store.models import ledger as _ledger  # noqa: F401
from nengtan.store.models import park_carbon as _park_carbon  # noqa: F401
from nengtan.store.models import manual as _manual  # noqa: F401
from nengtan.store.models import quality_rules as _quality_rules  # noqa: F401
from nengtan.store.models import security as _security  # noqa: F401
from nengtan.store.models.collect import DEAD_LETTER_STATUSES, CollectCursor, CollectorEvent, DeadLetter
from nengtan.store.models.metering import EVENT_KINDS, METER_KINDS, METERING_LEVELS, REGISTER_KINDS, Meter, MeterEvent
from nengtan.store.models.org import NODE_KINDS, TENANT_KINDS, Node
from nengtan.store.models.production import EconomicRecord, FuelDelivery, Product, ProductionRecord
from nengtan.store.models.readings import (
    GapSpan,
    IngestBatch,
    Meta,
    MeterTail,
    QualityEvent,
    Reading,
    ReadingRevision,
    RollupDay,
    RollupHour,
    RollupMonth,
)
from nengtan.store.models.reference import CARRIER_CATEGORIES, Carrier
from nengtan.store.models.tariffs import BANDS, Tariff, TariffBand, TariffPeriod

__all__ = [
    "BANDS", "CARRIER_CATEGORIES", "DEAD_LETTER_STATUSES", "CollectCursor", "CollectorEvent",
    "DeadLetter", "EVENT_KINDS", "METERING_LEVELS", "METER_KINDS", "NODE_KINDS",
    "REGISTER_KINDS", "TENANT_KINDS", "Base", "Carrier", "EconomicRecord", "FuelDelivery",
    "GapSpan", "IngestBatch", "Meta", "Meter", "MeterEvent", "MeterTail", "Node", "Product",
    "ProductionRecord", "QualityEvent", "Reading", "ReadingRevision", "RollupDay", "RollupHour",
    "RollupMonth", "Tariff", "TariffBand", "TariffPeriod",
]
