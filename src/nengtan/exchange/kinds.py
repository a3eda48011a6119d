"""What each importable kind of file holds: its columns, key, sheet names and headers.

Columns come from the services' field specs (:mod:`nengtan.services.fields`), the single
source of truth also used by the API; only readings, which have no record service, declare
their columns here.  A header may be written as the field name (``code``), the Chinese label
(``编码``) or the English label (``code``); matching ignores case, surrounding spaces and the
difference between full-width and ASCII parentheses, which Chinese input methods mix.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from nengtan.quality.flags import Quality
from nengtan.services.fields import FieldSpec
from nengtan.services.meters import EVENT_FIELDS, METER_FIELDS
from nengtan.services.org import NODE_FIELDS
from nengtan.services.production import (
    ECONOMIC_FIELDS,
    FUEL_DELIVERY_FIELDS,
    PRODUCT_FIELDS,
    PRODUCTION_FIELDS,
)

QUALITY_NAMES = tuple(q.name.lower() for q in Quality)

READING_FIELDS = [
    FieldSpec("meter", "str", "表计编码", "meter code", required=True, ref="meter", max_length=64),
    FieldSpec("ts", "datetime", "时间", "time", required=True,
              help_en="ISO 8601; without an offset it is read in the site's timezone"),
    FieldSpec("value", "float", "读数", "value", required=True,
              help_en="register (cumulative) or interval value, in the unit column or the "
                      "meter's unit"),
    FieldSpec("unit", "unit", "计量单位", "unit",
              help_en="default: the meter's unit; other units of the same kind are converted"),
    FieldSpec("quality", "choice", "质量标记", "quality", default="measured",
              choices=QUALITY_NAMES, help_en="or its code: 0 measured, 1 estimated, 2 manual, "
                                             "3 rejected"),
    FieldSpec("reason", "str", "原因", "reason",
              help_en="why a reading is estimated, manual or rejected (required if rejected)"),
]

#: Headers accepted for the time column of a wide readings sheet (ts, then one column per meter).
WIDE_TS_HEADERS = ("ts", "time", "timestamp", "datetime", "时间", "日期时间", "采集时间")

#: Sheets with these names document a workbook and are never imported.
README_SHEET = "说明 README"
_README_NAMES = {"readme", "说明", "说明 readme", "说明readme"}


@dataclass(frozen=True)
class Kind:
    """One kind of importable file."""

    name: str
    label_zh: str
    label_en: str
    fields: tuple[FieldSpec, ...]
    #: Fields that identify a record: duplicates in a file are refused; in the database the
    #: record with the same key is updated (upsert) or, for added kinds, compared.
    key: tuple[str, ...]
    #: How rows are applied: "upsert" (update the record with the same key), "add" (add unless
    #: an identical record exists) or "readings" (the ingestion pipeline).
    apply: str
    #: Further accepted sheet names (besides ``name``, ``label_zh`` and ``label_en``).
    aliases: tuple[str, ...] = ()

    @cached_property
    def specs(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.fields}

    @cached_property
    def headers(self) -> dict[str, str]:
        """Normalised header text → field name (field name, Chinese and English label)."""
        out: dict[str, str] = {}
        for spec in self.fields:
            for text in (spec.name, spec.label_zh, spec.label_en):
                key = normalise_header(text)
                if out.setdefault(key, spec.name) != spec.name:
                    raise ValueError(f"{self.name}: header {text!r} names two fields")
        return out

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    def sheet_title(self, lang: str) -> str:
        return self.label_zh if lang == "zh-CN" else self.name

    def header(self, field: str, lang: str) -> str:
        """The column header of ``field`` as exports and templates write it."""
        return self.specs[field].label_zh if lang == "zh-CN" else field


KIND_LIST = (
    Kind("nodes", "组织机构", "organisation tree", tuple(NODE_FIELDS), ("code",), "upsert",
         ("组织树", "节点", "organisation", "organization")),
    Kind("meters", "计量器具", "meters", tuple(METER_FIELDS), ("code",), "upsert",
         ("表计", "计量点", "测点")),
    Kind("meter_events", "表计事件", "meter events", tuple(EVENT_FIELDS), ("meter", "ts", "kind"),
         "add", ("换表记录", "events")),
    Kind("products", "产品", "products", tuple(PRODUCT_FIELDS), ("code",), "upsert"),
    Kind("production", "产量", "production", tuple(PRODUCTION_FIELDS),
         ("node", "product", "period_start", "period_end"), "upsert", ("生产数据", "产品产量")),
    Kind("economics", "经济数据", "economic data", tuple(ECONOMIC_FIELDS),
         ("node", "period_start", "period_end", "price_basis"), "upsert",
         ("产值", "经济指标", "economic")),
    Kind("fuel_deliveries", "燃料到货", "fuel deliveries", tuple(FUEL_DELIVERY_FIELDS),
         tuple(f.name for f in FUEL_DELIVERY_FIELDS), "add",
         ("燃料批次", "燃料化验", "燃料进厂", "fuel")),
    Kind("readings", "读数", "readings", tuple(READING_FIELDS), ("meter", "ts"), "readings",
         ("抄表数据", "采集数据", "表计读数", "meter readings")),
)

#: Every kind, in the order a workbook's sheets are applied (referenced objects first).
KINDS: tuple[str, ...] = tuple(k.name for k in KIND_LIST)
BY_NAME = {k.name: k for k in KIND_LIST}


def normalise_header(text: object) -> str:
    """Header text as compared: lower case, single spaces, ASCII parentheses."""
    if text is None:
        return ""
    out = str(text).replace("（", "(").replace("）", ")").replace("\u3000", " ").strip().lower()
    return " ".join(out.split())


def is_readme(sheet_name: str) -> bool:
    return normalise_header(sheet_name) in _README_NAMES


def kind_of_sheet(sheet_name: str) -> str | None:
    """The kind a worksheet is named for (``meters``, ``计量器具``, ``Meters`` ...), else None."""
    wanted = normalise_header(sheet_name)
    for kind in KIND_LIST:
        names = (kind.name, kind.label_zh, kind.label_en, *kind.aliases)
        if wanted in {normalise_header(n) for n in names}:
            return kind.name
    return None


@dataclass
class HeaderMatch:
    """How the header row of a sheet maps onto the fields of one kind."""

    kind: Kind
    #: Column index → field name, for recognised columns.
    columns: dict[int, str]
    #: Column index → header text, for columns that name no field.
    unknown: dict[int, str]
    #: Field name → indices of the columns naming it, when named more than once.
    repeated: dict[str, list[int]]
    missing: list[str]
    #: True when most recognised headers are the Chinese labels (messages then use them).
    chinese: bool

    @property
    def complete(self) -> bool:
        return not self.missing


def match_header(kind: Kind, header: list[str]) -> HeaderMatch:
    columns: dict[int, str] = {}
    unknown: dict[int, str] = {}
    seen: dict[str, list[int]] = {}
    zh = 0
    for i, text in enumerate(header):
        key = normalise_header(text)
        if not key:
            continue
        field = kind.headers.get(key)
        if field is None:
            unknown[i] = str(text).strip()
            continue
        seen.setdefault(field, []).append(i)
        if len(seen[field]) == 1:
            columns[i] = field
        if key == normalise_header(kind.specs[field].label_zh) and key != field:
            zh += 1
    repeated = {f: idx for f, idx in seen.items() if len(idx) > 1}
    missing = [f for f in kind.required if f not in seen]
    return HeaderMatch(kind, columns, unknown, repeated, missing, chinese=zh * 2 > len(columns))


def detect_kind(header: list[str]) -> Kind | None:
    """The kind whose required columns are all present and that leaves the fewest columns
    unexplained (then: that explains the most); None if no kind fits or two fit equally."""
    scored = []
    for kind in KIND_LIST:
        match = match_header(kind, header)
        if match.complete and match.columns:
            scored.append((len(match.unknown), -len(match.columns), kind.name))
    if not scored:
        return None
    scored.sort()
    if len(scored) > 1 and scored[0][:2] == scored[1][:2]:
        return None
    return BY_NAME[scored[0][2]]


def is_wide_ts_header(text: object) -> bool:
    return normalise_header(text) in WIDE_TS_HEADERS
