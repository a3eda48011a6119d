"""Hourly CO2 mass from continuous emission monitoring (CEMS) data — measurement method (实测法).

A CEMS on a stack reports, every minute (or any fixed interval), the CO2 concentration, the
flue-gas flow, temperature, pressure and moisture, each with the analyser's status flag.  This
engine turns those samples into hourly CO2 masses with a validity verdict per hour.  Nothing
is filled in: an hour without enough valid data has no CO2 figure, only the partial mass of
its valid minutes, shown apart.

Per sample interval (slot) of ``Δt`` hours, with the configured bases (:class:`MonitorConfig`):

* flow at standard conditions, dry (GB/T 16157-1996, 排气流量 — clause 7 "排气流速、流量的测定";
  HJ 75-2017 uses the same conversion)::

      Q_sd = Q_s × 273.15 / (273.15 + t_s) × P_abs / 101.325 × (1 − X_sw)        [m³/h]

  with ``t_s`` the flue-gas temperature (°C), ``P_abs`` its absolute pressure (kPa; a gauge
  static pressure is added to the barometric pressure) and ``X_sw`` the moisture volume
  fraction.  A flow already reported at standard dry conditions is used as is;
* concentration on a dry basis::

      C_dry = C_wet / (1 − X_sw)

* volume percent to mass concentration at standard conditions (ideal gas, molar volume
  22.414 L/mol at 273.15 K and 101.325 kPa, M(CO2) = 44.01 g/mol)::

      C [mg/m³] = C [vol-%] × 10⁴ × 44.01 / 22.414     (1 vol-% ≈ 19 635.0 mg/m³)

* CO2 mass of the slot::

      m = C [mg/m³] × Q_sd [m³/h] × Δt [h] × 10⁻⁹        [t]

Validity (all flags and thresholds are in :data:`VALID_FLAG`, :data:`MIN_VALID_MINUTES`):

* a sample counts only with the analyser status ``N`` (HJ 212-2017, 6.6.4 "数据标记", table 8:
  N 正常; F 停运 stopped; M 维护 maintenance; S 手工输入的设定值 manual set value; D 故障
  fault; C 校准 calibration; T 超测上限 above range; B 通讯异常 communication fault) and a value
  inside the physical range of its parameter (:data:`RANGES`);
* a slot is valid when every parameter the configuration needs has a counted sample in it;
* an hour is valid with at least 45 minutes of valid data (HJ 76-2017, Annex B, data
  recording and processing: an hourly value needs at least 45 min of valid minute data; the
  same rule is applied by HJ 75-2017 in its data review, clause 12 — the clause number there
  is not verified here).  Its CO2 mass is the mean mass rate of its valid slots over the
  whole hour (the hourly value is the mean of the valid minute values, HJ 76-2017 Annex B),
  i.e. ``Σ m × slots per hour / valid slots``; with every slot valid that is simply ``Σ m``;
* an hour with samples but fewer valid minutes is *invalid*: ``co2_t`` is None and the
  mass of its valid slots is reported as ``measured_co2_t``; an hour without any sample is
  *missing*.

Hours are clock hours in UTC (µs since the epoch, like the whole store); in zones with
whole-hour offsets (Asia/Shanghai) they are also local clock hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

PARAMS = ("co2", "flow", "temp", "pressure", "moisture")
#: Units of the parameters as stored (CO2 per monitor: vol-% or mg/m³).
PARAM_UNITS = {"co2": "vol-% | mg/m3", "flow": "m3/h", "temp": "degC", "pressure": "kPa",
               "moisture": "vol-%"}
CO2_BASES = ("dry", "wet")
CO2_UNITS = ("pct", "mg/m3")
FLOW_BASES = ("actual", "std_dry")
PRESSURE_BASES = ("absolute", "gauge")
STATUSES = ("valid", "invalid", "missing")

T0_K = 273.15
P0_KPA = 101.325
M_CO2_G_MOL = 44.01
MOLAR_VOLUME_L_MOL = 22.414
#: mg/m³ (standard conditions) of 1 vol-% CO2.
MG_M3_PER_PCT = 1e4 * M_CO2_G_MOL / MOLAR_VOLUME_L_MOL
#: The analyser status of a normal sample (HJ 212-2017 table 8).
VALID_FLAG = "N"
#: Minutes of valid data an hour needs (HJ 76-2017 Annex B).
MIN_VALID_MINUTES = 45.0
#: Physical ranges of the raw values (pressure: absolute, after adding the barometric pressure
#: to a gauge value; CO2 in vol-%, scaled for mg/m³).  Outside them a sample is not counted.
RANGES = {"co2": (0.0, 100.0), "flow": (0.0, math.inf), "temp": (-50.0, 1000.0),
          "pressure": (50.0, 150.0), "moisture": (0.0, 100.0)}
METHOD_VERSION = "cems-1"
#: Keys of the hourly input averages: CO2 and flow as measured (the monitor's unit and basis),
#: temperature (°C), absolute pressure (kPa), moisture (vol-%).
AVERAGE_KEYS = {"co2": "co2", "flow": "flow_m3_h", "temp": "temp_c",
                "pressure": "pressure_abs_kpa", "moisture": "moisture_pct"}
US_PER_S = 1_000_000
HOUR_US = 3600 * US_PER_S


@dataclass(frozen=True)
class MonitorConfig:
    """How a monitor measures: bases and units of its CO2 and flow, its sample interval.

    ``co2_basis`` wet | dry, ``co2_unit`` pct (vol-%) | mg/m3 (at 273.15 K, 101.325 kPa);
    ``flow_basis`` actual (at stack conditions, wet, m³/h) | std_dry (already at 273.15 K,
    101.325 kPa, dry); ``pressure_basis`` absolute | gauge (static pressure relative to the
    ambient ``barometric_kpa``); ``interval_s`` seconds per sample, a divisor of 3600.
    """

    co2_basis: str = "dry"
    co2_unit: str = "pct"
    flow_basis: str = "actual"
    pressure_basis: str = "absolute"
    barometric_kpa: float = P0_KPA
    interval_s: int = 60

    def __post_init__(self) -> None:
        for name, allowed in (("co2_basis", CO2_BASES), ("co2_unit", CO2_UNITS),
                              ("flow_basis", FLOW_BASES), ("pressure_basis", PRESSURE_BASES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}")
        if not (isinstance(self.interval_s, int) and 0 < self.interval_s <= 3600
                and 3600 % self.interval_s == 0):
            raise ValueError("interval_s must divide 3600")
        if not (self.barometric_kpa > 0):
            raise ValueError("barometric_kpa must be positive")

    @property
    def required(self) -> tuple[str, ...]:
        """The parameters needed for the CO2 mass of a slot."""
        need = {"co2", "flow"}
        if self.flow_basis == "actual":
            need |= {"temp", "pressure", "moisture"}
        elif self.co2_basis == "wet":
            need.add("moisture")
        return tuple(p for p in PARAMS if p in need)

    @property
    def slots_per_hour(self) -> int:
        return 3600 // self.interval_s


@dataclass
class Samples:
    """One parameter's samples: times (int64 µs UTC), values (float64) and status flags
    (strings; None: all ``N``)."""

    ts: np.ndarray
    value: np.ndarray
    flag: np.ndarray | None = None


@dataclass
class Hour:
    """One clock hour of one monitor.

    ``co2_t`` — CO2 of the hour (t), None unless valid; ``measured_co2_t`` — CO2 of the
    valid slots only (t; the partial mass of an invalid hour), None without valid slots;
    ``reasons`` — why minutes were not counted, and why the hour is not valid, as dicts with a
    ``code`` (no_samples, no_data, missing_param, flag, out_of_range, too_few_minutes) and
    its parameters; ``averages`` — means of the inputs over their counted slots
    (``co2_dry_pct``, ``co2_dry_mg_m3`` and ``flow_sd_m3_h`` over the valid slots).
    """

    start_us: int
    status: str
    co2_t: float | None
    measured_co2_t: float | None
    valid_minutes: float
    expected_minutes: float = 60.0
    reasons: list[dict] = field(default_factory=list)
    averages: dict[str, float | None] = field(default_factory=dict)


@dataclass
class Summary:
    """Totals of a period: hours by status, CO2 of the valid hours (t), partial CO2 of the
    invalid hours (t, never part of ``co2_t``) and data capture = valid / expected hours (%)."""

    hours: int
    valid_hours: int
    invalid_hours: int
    missing_hours: int
    co2_t: float
    partial_co2_t: float
    valid_minutes: float
    data_capture_pct: float | None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def hourly(config: MonitorConfig, samples: dict[str, Samples], start_us: int,
           end_us: int) -> list[Hour]:
    """Every clock hour in [start_us, end_us) (whole UTC hours) with its CO2 and validity.

    ``samples`` maps parameter names (:data:`PARAMS`) to their samples; a sample at ``ts``
    belongs to the slot ``floor(ts / interval)`` (several samples of one parameter in a slot
    are averaged).  Samples outside the period are ignored.
    """
    if start_us % HOUR_US or end_us % HOUR_US or end_us < start_us:
        raise ValueError("the period must be whole UTC hours")
    n_hours = (end_us - start_us) // HOUR_US
    spm = config.slots_per_hour
    n = n_hours * spm
    slot_min = config.interval_s / 60.0
    grid = _Grid(config, start_us, n)
    for param in PARAMS:
        if param in samples:
            grid.add(param, samples[param])
    valid, mass, derived = grid.combine()
    any_data = grid.present_any.reshape(n_hours, spm).any(axis=1)
    valid_slots = valid.reshape(n_hours, spm).sum(axis=1)
    measured = np.where(valid, mass, 0.0).reshape(n_hours, spm).sum(axis=1)
    out = []
    for h in range(n_hours):
        minutes = float(valid_slots[h] * slot_min)
        t0 = start_us + h * HOUR_US
        if not any_data[h]:
            out.append(Hour(t0, "missing", None, None, 0.0, reasons=[{"code": "no_samples"}]))
            continue
        reasons = grid.reasons(h, slot_min)
        part = float(measured[h]) if valid_slots[h] else None
        if minutes >= MIN_VALID_MINUTES:
            status, co2 = "valid", float(measured[h]) * spm / float(valid_slots[h])
        else:
            status, co2 = "invalid", None
            reasons.append({"code": "too_few_minutes", "valid_minutes": minutes,
                            "required": MIN_VALID_MINUTES})
        out.append(Hour(t0, status, co2, part, minutes, reasons=reasons,
                        averages=grid.averages(h, derived, valid)))
    return out


def summarise(hours: list[Hour]) -> Summary:
    """Totals of ``hours`` (:class:`Summary`)."""
    valid = [h for h in hours if h.status == "valid"]
    invalid = [h for h in hours if h.status == "invalid"]
    return Summary(
        hours=len(hours), valid_hours=len(valid), invalid_hours=len(invalid),
        missing_hours=sum(1 for h in hours if h.status == "missing"),
        co2_t=float(sum(h.co2_t or 0.0 for h in valid)),
        partial_co2_t=float(sum(h.measured_co2_t or 0.0 for h in invalid)),
        valid_minutes=float(sum(h.valid_minutes for h in hours)),
        data_capture_pct=100.0 * len(valid) / len(hours) if hours else None)


def mass_t(config: MonitorConfig, co2: float, flow: float, temp: float | None = None,
           pressure: float | None = None, moisture: float | None = None,
           hours: float = 1.0) -> float:
    """CO2 (t) of one steady sample held for ``hours``: the formulas above for one point."""
    x = 0.0 if moisture is None else moisture / 100.0
    q = flow if config.flow_basis == "std_dry" else (
        flow * T0_K / (T0_K + temp) * _absolute(config, pressure) / P0_KPA * (1.0 - x))
    c = co2 / (1.0 - x) if config.co2_basis == "wet" else co2
    if config.co2_unit == "pct":
        c *= MG_M3_PER_PCT
    return c * q * hours * 1e-9


def _absolute(config: MonitorConfig, pressure):
    return pressure + config.barometric_kpa if config.pressure_basis == "gauge" else pressure


class _Grid:
    """The samples of each parameter bucketed into the slots of the period."""

    def __init__(self, config: MonitorConfig, start_us: int, n: int):
        self.config = config
        self.start_us = start_us
        self.n = n
        self.spm = config.slots_per_hour
        self.present_any = np.zeros(n, bool)
        self.present: dict[str, np.ndarray] = {}
        self.mean: dict[str, np.ndarray] = {}  # mean of counted samples, NaN if none
        self.flagged: dict[str, list[tuple[str, np.ndarray]]] = {}  # (flag, slots)
        self.out_of_range: dict[str, np.ndarray] = {}

    def add(self, param: str, s: Samples) -> None:
        step = self.config.interval_s * US_PER_S
        ts = np.asarray(s.ts, np.int64)
        keep = (ts >= self.start_us) & (ts < self.start_us + self.n * step)
        idx = (ts[keep] - self.start_us) // step
        value = np.asarray(s.value, np.float64)[keep]
        if param == "pressure":
            value = _absolute(self.config, value)
        lo, hi = RANGES[param]
        if param == "co2" and self.config.co2_unit == "mg/m3":
            lo, hi = lo * MG_M3_PER_PCT, hi * MG_M3_PER_PCT
        # moisture must stay below 100 % (it divides by 1 − X); the others include the bound
        inside = (value >= lo) & ((value < hi) if param == "moisture" else (value <= hi))
        flags = (np.full(len(idx), VALID_FLAG, dtype=object) if s.flag is None
                 else np.asarray(s.flag, dtype=object)[keep])
        normal = flags == VALID_FLAG
        counted = normal & inside
        present = np.bincount(idx, minlength=self.n) > 0
        count = np.bincount(idx[counted], minlength=self.n)
        total = np.bincount(idx[counted], weights=value[counted], minlength=self.n)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.mean[param] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        self.present[param] = present
        self.present_any |= present
        lost = present & (count == 0)  # slots where this parameter has nothing counted
        self.flagged[param] = []
        for flag in sorted({str(f) for f in flags[~normal]}):
            slots = np.zeros(self.n, bool)
            slots[idx[flags == flag]] = True
            self.flagged[param].append((flag, slots & lost))
        any_flag = np.zeros(self.n, bool)
        any_flag[idx[~normal]] = True
        self.out_of_range[param] = lost & ~any_flag

    def combine(self):
        """(valid slots, CO2 t per slot, derived means) — see the module docstring."""
        cfg = self.config
        nan = np.full(self.n, np.nan)
        valid = np.ones(self.n, bool)
        for param in cfg.required:
            valid &= ~np.isnan(self.mean.get(param, nan))
        x = self.mean.get("moisture", nan) / 100.0 if "moisture" in cfg.required else 0.0
        flow = self.mean.get("flow", nan)
        if cfg.flow_basis == "std_dry":
            q_sd = flow
        else:
            q_sd = (flow * T0_K / (T0_K + self.mean.get("temp", nan))
                    * self.mean.get("pressure", nan) / P0_KPA * (1.0 - x))
        co2 = self.mean.get("co2", nan)
        c_dry = co2 / (1.0 - x) if cfg.co2_basis == "wet" else co2
        pct = c_dry if cfg.co2_unit == "pct" else c_dry / MG_M3_PER_PCT
        # a wet reading can exceed 100 % once put on a dry basis: the inputs disagree
        too_high = valid & (pct > RANGES["co2"][1])
        self.out_of_range.setdefault("co2", np.zeros(self.n, bool))
        self.out_of_range["co2"] = self.out_of_range["co2"] | too_high
        valid &= ~too_high
        mg = pct * MG_M3_PER_PCT
        mass = np.where(valid, mg * q_sd * (cfg.interval_s / 3600.0) * 1e-9, 0.0)
        derived = {"co2_dry_pct": pct, "co2_dry_mg_m3": mg, "flow_sd_m3_h": q_sd}
        return valid, mass, derived

    def _hour(self, a: np.ndarray, h: int) -> np.ndarray:
        return a[h * self.spm:(h + 1) * self.spm]

    def reasons(self, h: int, slot_min: float) -> list[dict]:
        out: list[dict] = []
        anyd = self._hour(self.present_any, h)
        silent = int((~anyd).sum())
        if silent:
            out.append({"code": "no_data", "minutes": silent * slot_min})
        for param in self.config.required:
            present = self.present.get(param)
            absent = anyd if present is None else anyd & ~self._hour(present, h)
            if absent.any():
                out.append({"code": "missing_param", "param": param,
                            "minutes": int(absent.sum()) * slot_min})
            for flag, slots in self.flagged.get(param, []):
                k = int(self._hour(slots, h).sum())
                if k:
                    out.append({"code": "flag", "param": param, "flag": flag,
                                "minutes": k * slot_min})
            bad = self.out_of_range.get(param)
            if bad is not None and self._hour(bad, h).any():
                out.append({"code": "out_of_range", "param": param,
                            "minutes": int(self._hour(bad, h).sum()) * slot_min})
        return out

    def averages(self, h: int, derived: dict[str, np.ndarray], valid: np.ndarray) -> dict:
        out: dict[str, float | None] = {
            key: _nanmean(self._hour(self.mean[param], h)) if param in self.mean else None
            for param, key in AVERAGE_KEYS.items()}
        ok = self._hour(valid, h)
        for key, values in derived.items():
            out[key] = float(self._hour(values, h)[ok].mean()) if ok.any() else None
        return out


def _nanmean(a: np.ndarray) -> float | None:
    a = a[~np.isnan(a)]
    return float(a.mean()) if len(a) else None
