"""The API contract: request and response models of every resource.

Entity models are generated from the services' field specs (:mod:`nengtan.api.schemas`);
answers of the read side (series, findings, status) are declared here by hand, following the
dicts of :mod:`nengtan.services.query`.  Every quantity names its unit and every series
carries ``lineage``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from nengtan.api import readings_body
from nengtan.api.schemas import OPEN, input_model, output_model, page_model
from nengtan.services import meters, org, production, tariffs

_ID = int | None
_TENANT = (_ID, "tenant (enterprise or park node id) the object's data belongs to")
_CREATED = (datetime | None, "when the record was stored (UTC)")

# -- organisation tree ---------------------------------------------------------------------
NodeIn = input_model("NodeIn", org.NODE_FIELDS, doc="A new node; `parent` is the parent's code.")
NodePatch = input_model("NodePatch", org.NODE_FIELDS, partial=True,
                        doc="Fields to change; a new `parent` moves the node and its subtree.")
Node = output_model("Node", org.NODE_FIELDS, {
    "parent_id": (_ID, "id of the parent node"), "tenant_id": _TENANT,
    "path": (str | None, "materialised path of ids, e.g. /1/4/9/"),
    "depth": (int | None, "0 for a root")}, doc="A node of the organisation tree.")
NodePage = page_model(Node)


class NodeTree(BaseModel):
    """A node with its children, recursively."""

    id: int
    code: str
    name_zh: str
    name_en: str | None = None
    kind: str
    active: bool = True
    children: list[NodeTree] = Field(default_factory=list)


# -- carriers, meters, events -------------------------------------------------------------
CarrierIn = input_model("CarrierIn", meters.CARRIER_FIELDS, doc="A user-defined energy carrier.")
Carrier = output_model("Carrier", meters.CARRIER_FIELDS, {
    "builtin": (bool | None, "shipped with nengtan (reference data) rather than user-defined"),
    "dataset_version": (str | None, "version of the shipped catalogue, or `user`")},
    id_type=None, doc="An energy carrier (能源品种) with its provenance.")
CarrierPage = page_model(Carrier)

MeterIn = input_model("MeterIn", meters.METER_FIELDS,
                      doc="A new meter; `node`, `carrier`, `tariff`, ... are codes.")
MeterPatch = input_model("MeterPatch", meters.METER_FIELDS, partial=True,
                         doc="Fields to change; computational changes recompute the rollups.")
Meter = output_model("Meter", meters.METER_FIELDS, {
    "node_id": (_ID, "id of the node"), "tenant_id": _TENANT}, doc="A meter (measurement point).")
MeterPage = page_model(Meter)

MeterEventIn = input_model("MeterEventIn", meters.EVENT_FIELDS,
                           doc="A register reset, meter replacement or multiplier change.")
MeterEvent = output_model("MeterEvent", meters.EVENT_FIELDS, {
    "meter_id": (_ID, "id of the meter"), "tenant_id": _TENANT,
    "created_by": (str | None, "who recorded it"), "created_at": _CREATED},
    doc="A recorded register event (times in UTC).")
MeterEventPage = page_model(MeterEvent)

# -- tariffs -------------------------------------------------------------------------------
TariffBandIn = input_model("TariffBandIn", tariffs.BAND_FIELDS, doc="Price of one band.")
TariffPeriodIn = input_model("TariffPeriodIn", tariffs.PERIOD_FIELDS,
                             doc="A daily time window priced at a band.")
_NESTED = {
    "bands": (list[TariffBandIn] | None, Field(None, description="price per band; replaces "
                                                                  "all bands")),
    "periods": (list[TariffPeriodIn] | None, Field(None, description="daily periods; together "
                                                                      "they must cover 24 h of "
                                                                      "every month exactly once")),
}
TariffIn = input_model("TariffIn", tariffs.TARIFF_FIELDS, doc="A time-of-use tariff, whole.",
                       **_NESTED)
TariffPatch = input_model("TariffPatch", tariffs.TARIFF_FIELDS, partial=True,
                          doc="Fields to change; `bands`/`periods`, when given, replace the "
                              "lists.", **_NESTED)
TariffBand = output_model("TariffBand", tariffs.BAND_FIELDS, id_type=None)
TariffPeriod = output_model("TariffPeriod", tariffs.PERIOD_FIELDS, id_type=None)
Tariff = output_model("Tariff", tariffs.TARIFF_FIELDS, {
    "bands": (list[TariffBand] | None, "price per band"),
    "periods": (list[TariffPeriod] | None, "daily periods by month")},
    doc="A time-of-use tariff (分时电价).")
TariffPage = page_model(Tariff)

# -- products, production, economics, fuel ---------------------------------------------------
ProductIn = input_model("ProductIn", production.PRODUCT_FIELDS, doc="A new product.")
ProductPatch = input_model("ProductPatch", production.PRODUCT_FIELDS, partial=True,
                           doc="Fields to change.")
Product = output_model("Product", production.PRODUCT_FIELDS, doc="A product.")
ProductPage = page_model(Product)

ProductionIn = input_model("ProductionIn", production.PRODUCTION_FIELDS,
                           doc="Output of a product at a node over a period; a record with the "
                               "same node, product and period is replaced.")
Production = output_model("Production", production.PRODUCTION_FIELDS, {
    "node_id": (_ID, "id of the node"), "product_id": (_ID, "id of the product"),
    "tenant_id": _TENANT, "created_at": _CREATED}, doc="A production record.")
ProductionPage = page_model(Production)

EconomicIn = input_model("EconomicIn", production.ECONOMIC_FIELDS,
                         doc="产值/增加值 of a node over a period; a record with the same node, "
                             "period and price basis is replaced.")
Economic = output_model("Economic", production.ECONOMIC_FIELDS, {
    "node_id": (_ID, "id of the node"), "tenant_id": _TENANT, "created_at": _CREATED},
    doc="An economic record; money in CNY (`unit` is always CNY in answers).")
EconomicPage = page_model(Economic)

FuelDeliveryIn = input_model("FuelDeliveryIn", production.FUEL_DELIVERY_FIELDS,
                             doc="A fuel delivery with its lab analysis.")
FuelDelivery = output_model("FuelDelivery", production.FUEL_DELIVERY_FIELDS, {
    "node_id": (_ID, "id of the node"), "tenant_id": _TENANT,
    "ncv_mj_per_unit": (float | None, "NCV converted to MJ per delivery unit"),
    "created_at": _CREATED}, doc="A fuel delivery.")
FuelDeliveryPage = page_model(FuelDelivery)

# -- readings ingestion ----------------------------------------------------------------------
ReadingIn = input_model("ReadingIn", readings_body.READING_FIELDS, doc="One reading.")


class ReadingsIn(BaseModel):
    """A batch of readings, validated as a whole: any bad row rejects the batch."""

    model_config = ConfigDict(extra="forbid")
    source: str = Field("api", max_length=40, description="where the readings come from")
    detail: str | None = Field(None, max_length=400, description="e.g. gateway or file name")
    readings: list[ReadingIn] = Field(description="the readings; an issue's `row` is the "  # type: ignore[valid-type]
                                                  "index in this list (0-based)")


class IngestResult(BaseModel):
    """What an ingestion stored."""

    batch_id: int = Field(description="id of the ingest batch (see /api/ingest-batches)")
    rows: int = Field(description="rows received")
    inserted: int = Field(description="new readings stored")
    unchanged: int = Field(description="readings already stored with the same value and quality")
    revised: int = Field(description="readings that replaced a different stored value (the old "
                                     "one is kept in the meter's revisions)")
    meters: int = Field(description="distinct meters in the batch")


# -- read side -------------------------------------------------------------------------------
class _Open(BaseModel):
    model_config = OPEN


class Window(_Open):
    start: str = Field(description="inclusive: UTC time, or local date for day/month grains")
    end: str = Field(description="exclusive")


class RawReading(_Open):
    ts: datetime = Field(description="UTC")
    value: float = Field(description="as received, in the meter's unit, before the multiplier")
    quality: str
    reason: str | None = None
    batch_id: int
    source: str
    ingested_at: datetime


class RawReadings(_Open):
    meter: str
    unit: str = Field(description="the meter's unit")
    window: Window
    truncated: bool = Field(description="more readings exist in the window than `limit`")
    readings: list[RawReading]


class IntervalValue(_Open):
    start: datetime
    end: datetime
    value: float = Field(description="in the carrier's unit, multiplier applied")
    flags: list[str]
    gap: bool = Field(description="spans a gap: total known, distribution unknown")


class Finding(_Open):
    rule: str
    severity: str
    start: datetime
    end: datetime
    detail: dict[str, Any] | None = None


class Intervals(_Open):
    meter: str
    unit: str = Field(description="the carrier's unit")
    window: Window
    intervals: list[IntervalValue]
    findings: list[Finding]
    lineage: dict[str, Any]


class RollupPoint(_Open):
    period: str = Field(description="local hour start (ISO with offset), day or month (first day)")
    value: float | None = Field(None, description="total of a complete period, else null")
    partial_value: float | None = Field(None, description="total of the covered part of an "
                                                          "incomplete period")
    coverage: float = Field(description="covered fraction of the period, 0-1")
    complete: bool
    flags: list[str]


class RollupSummary(_Open):
    complete_periods: int
    periods: int
    sum_complete: float = Field(description="sum of complete periods, in `unit`")


class Rollups(_Open):
    meter: str
    meter_id: int
    grain: str
    unit: str = Field(description="the carrier's unit")
    timezone: str
    window: Window
    points: list[RollupPoint]
    summary: RollupSummary
    lineage: dict[str, Any]


class CarrierRollups(_Open):
    carrier: str
    meters: list[Rollups]


class NodeRollups(_Open):
    node: str
    node_id: int
    grain: str
    subtree: bool
    carriers: list[CarrierRollups]


class Revision(_Open):
    meter: str
    ts: datetime
    old_value: float
    old_quality: str
    old_batch_id: int | None = None
    old_reason: str | None = None
    new_value: float
    new_quality: str
    new_batch_id: int | None = None
    revised_at: datetime


class GapSpan(_Open):
    start: datetime
    end: datetime
    value: float
    unit: str
    flags: list[str]


class QualityEvent(_Open):
    id: int
    meter: str
    meter_id: int
    rule: str
    severity: str
    start: datetime
    end: datetime
    status: str
    origin: str
    detail: dict[str, Any] | None = None


class IngestBatch(_Open):
    id: int
    source: str
    source_detail: str | None = None
    received_at: datetime
    rows: int
    inserted: int
    unchanged: int
    revised: int
    sha256: str | None = None


class Status(_Open):
    nodes: int
    meters: int
    readings: int = Field(description="raw readings stored")
    first_reading: datetime | None = None
    last_reading: datetime | None = None
    database: str = Field(description="sqlite or postgresql")
    version: str


class DatasetInfo(_Open):
    name: str
    title: str
    version: str
    rows: int
    columns: list[str]
    sha256: str


class Dataset(DatasetInfo):
    data: list[dict[str, str]] = Field(description="rows as shipped; `source` and `status` "
                                                   "(verified/unverified) on every row")


class ImportReport(_Open):
    """What an import stored (or, with ``dry_run``, would store)."""

    kinds: list[str] = Field(description="kinds of data found in the file")
    rows: int
    created: int
    updated: int
    unchanged: int
    readings: dict[str, Any] | None = Field(None, description="readings: rows, inserted, "
                                                              "unchanged, revised, meters")
    dry_run: bool
    file: str
    sha256: str
    by_kind: dict[str, dict[str, Any]] = Field(default_factory=dict)
