"""Readings → interval values: the meter-data pipeline's pure core (no I/O).

Times are ``int64`` microseconds since 1970-01-01 UTC.  Input readings of one meter are sorted
by time with unique timestamps (the store guarantees both).

Cumulative registers
    An interval runs from one valid reading to the next; its value is the register difference
    × multiplier × unit factor (meter unit → carrier unit), labelled by its start.  Handling:

    * rejected readings are skipped (the interval spans them, flag ``REJECTED_SKIPPED``);
    * an isolated implausible value — one reading below its predecessor while the next is back
      at or above the predecessor, or one reading above a successor that is itself at or above
      the predecessor — is skipped (``GLITCH_SKIPPED``, finding ``register_glitch``);
    * a recorded ``reset``/``replacement`` event inside an interval splits the difference at
      the event: (old final − previous) + (next − new initial) (``RESET``);
    * a decrease larger than half of ``rollover_at`` is a counter wrap:
      next + rollover_at − previous (``ROLLOVER``);
    * any other decrease excludes the interval (``DECREASE_EXCLUDED``, finding
      ``register_decrease``: record a reset event to include it);
    * the multiplier is the meter's, or that of the last ``multiplier_change`` event at or
      before the interval start;
    * an interval longer than the gap threshold is a *gap*: its total is known but not how it
      spreads, so it stays whole (``gap`` = True) unless the meter asks for estimation, which
      splits it over the meter's regular grid in proportion to time (``ESTIMATED``).

Interval registers
    Each valid reading is the quantity of [ts, ts + interval_s).  Missing slots are a gap
    (finding ``gap``); with estimation they are filled by linear interpolation between the
    neighbouring values (``ESTIMATED``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nengtan.quality.flags import Flag, Quality

US = 1_000_000


@dataclass(frozen=True)
class MeterSpec:
    register: str = "cumulative"  # cumulative | interval
    interval_s: int = 900
    multiplier: float = 1.0
    #: Factor from the meter's unit to the carrier's unit (1 when they are the same).
    unit_factor: float = 1.0
    rollover_at: float | None = None
    gap_threshold_s: int | None = None
    estimate_gaps: bool = False

    @property
    def gap_threshold_us(self) -> int:
        return int((self.gap_threshold_s or self.interval_s * 1.5) * US)


@dataclass(frozen=True)
class RegisterEvent:
    ts_us: int
    kind: str  # reset | replacement | multiplier_change
    old_final: float | None = None
    new_initial: float | None = None
    new_multiplier: float | None = None


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str  # info | warning | error
    start_us: int
    end_us: int
    detail: dict = field(default_factory=dict)


@dataclass
class Intervals:
    start: np.ndarray
    end: np.ndarray
    value: np.ndarray
    flags: np.ndarray
    #: True for a gap span: value known for [start, end) as a whole only.
    gap: np.ndarray

    def __len__(self) -> int:
        return len(self.start)

    @staticmethod
    def empty() -> Intervals:
        return Intervals(
            np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64),
            np.empty(0, np.int32), np.empty(0, bool),
        )

    def select(self, mask: np.ndarray) -> Intervals:
        return Intervals(self.start[mask], self.end[mask], self.value[mask], self.flags[mask],
                         self.gap[mask])


def to_intervals(
    ts: np.ndarray,
    value: np.ndarray,
    quality: np.ndarray,
    spec: MeterSpec,
    events: list[RegisterEvent] | tuple[RegisterEvent, ...] = (),
) -> tuple[Intervals, list[Finding]]:
    """Interval values and findings for one meter's readings (see module docstring)."""
    ts = np.asarray(ts, dtype=np.int64)
    value = np.asarray(value, dtype=np.float64)
    quality = np.asarray(quality, dtype=np.int16)
    if spec.register == "interval":
        return _interval_register(ts, value, quality, spec, events)
    return _cumulative_register(ts, value, quality, spec, sorted(events, key=lambda e: e.ts_us))


def _quality_flags(quality: np.ndarray) -> np.ndarray:
    out = np.zeros(len(quality), np.int32)
    out[quality == Quality.ESTIMATED] |= int(Flag.ESTIMATED)
    out[quality == Quality.MANUAL] |= int(Flag.MANUAL)
    return out


def _multipliers(starts: np.ndarray, spec: MeterSpec, events) -> np.ndarray:
    mult = np.full(len(starts), float(spec.multiplier))
    for ev in events:
        if ev.kind == "multiplier_change" and ev.new_multiplier is not None:
            mult[starts >= ev.ts_us] = ev.new_multiplier
    return mult


def _cumulative_register(ts, value, quality, spec: MeterSpec, events):
    findings: list[Finding] = []
    valid = quality != Quality.REJECTED
    rejected_seen = np.cumsum(~valid)
    t, v, qf = ts[valid], value[valid], _quality_flags(quality[valid])
    rej = rejected_seen[valid]
    if len(t) < 2:
        return Intervals.empty(), findings

    resets = [e for e in events if e.kind in ("reset", "replacement")]
    reset_ts = np.array([e.ts_us for e in resets], dtype=np.int64)

    def has_reset(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """For pairs (lo, hi]: is there a reset event inside?"""
        if not len(reset_ts):
            return np.zeros(len(lo), bool)
        return np.searchsorted(reset_ts, hi, "right") > np.searchsorted(reset_ts, lo, "right")

    def wraps(prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        if not spec.rollover_at:
            return np.zeros(len(prev), bool)
        return (prev - nxt) > spec.rollover_at / 2

    # Isolated implausible values, judged against their immediate valid neighbours only, so
    # the result of any interval depends on a bounded neighbourhood (incremental recompute).
    d = np.diff(v)
    explained = has_reset(t[:-1], t[1:]) | wraps(v[:-1], v[1:])
    dec = (d < 0) & ~explained
    glitch = np.zeros(len(t), bool)
    if len(t) >= 3:
        inner = np.arange(1, len(t) - 1)
        back_up = v[inner + 1] >= v[inner - 1]
        low = dec[inner - 1] & back_up & ~explained[inner]
        high = dec[inner] & back_up & ~explained[inner - 1]
        glitch[inner] = low | high
    for i in np.flatnonzero(glitch):
        findings.append(Finding("register_glitch", "warning", int(t[i]), int(t[i]),
                                {"value": float(v[i]), "previous": float(v[i - 1]),
                                 "next": float(v[i + 1])}))
    skipped_glitches = np.cumsum(glitch)
    keep = ~glitch
    t, v, qf, rej, gl = t[keep], v[keep], qf[keep], rej[keep], skipped_glitches[keep]

    start, end = t[:-1], t[1:]
    delta = np.diff(v)
    flags = qf[:-1] | qf[1:]
    flags[np.diff(rej) > 0] |= int(Flag.REJECTED_SKIPPED)
    flags[np.diff(gl) > 0] |= int(Flag.GLITCH_SKIPPED)
    excluded = np.zeros(len(start), bool)

    with_reset = has_reset(start, end)
    for k in np.flatnonzero(with_reset):
        current = v[k]
        total = 0.0
        for ev in resets:
            if start[k] < ev.ts_us <= end[k]:
                final = ev.old_final if ev.old_final is not None else current
                if ev.old_final is None:
                    flags[k] |= int(Flag.ESTIMATED)
                total += final - current
                current = ev.new_initial if ev.new_initial is not None else 0.0
        delta[k] = total + (v[k + 1] - current)
        flags[k] |= int(Flag.RESET)
        findings.append(Finding("reset_applied", "info", int(start[k]), int(end[k]),
                                {"delta": float(delta[k])}))

    wrapped = ~with_reset & wraps(v[:-1], v[1:])
    if wrapped.any():
        delta[wrapped] += spec.rollover_at
        flags[wrapped] |= int(Flag.ROLLOVER)
        for k in np.flatnonzero(wrapped):
            findings.append(Finding("rollover", "info", int(start[k]), int(end[k]),
                                    {"previous": float(v[k]), "next": float(v[k + 1]),
                                     "rollover_at": spec.rollover_at}))

    negative = delta < 0
    if negative.any():
        excluded |= negative
        for k in np.flatnonzero(negative):
            findings.append(Finding("register_decrease", "error", int(start[k]), int(end[k]),
                                    {"previous": float(v[k]), "next": float(v[k + 1])}))

    values = delta * _multipliers(start, spec, events) * spec.unit_factor
    keep = ~excluded
    out = Intervals(start[keep], end[keep], values[keep], flags[keep],
                    np.zeros(int(keep.sum()), bool))
    return _handle_long_intervals(out, spec, findings), findings


def _handle_long_intervals(iv: Intervals, spec: MeterSpec, findings: list[Finding]) -> Intervals:
    long = (iv.end - iv.start) > spec.gap_threshold_us
    if not long.any():
        return iv
    if not spec.estimate_gaps:
        iv.gap[long] = True
        iv.flags[long] |= int(Flag.GAP)
        for k in np.flatnonzero(long):
            findings.append(Finding("gap", "warning", int(iv.start[k]), int(iv.end[k]),
                                    {"duration_s": int((iv.end[k] - iv.start[k]) // US),
                                     "value": float(iv.value[k])}))
        return iv
    pieces = [iv.select(~long)]
    step = spec.interval_s * US
    for k in np.flatnonzero(long):
        s, e = int(iv.start[k]), int(iv.end[k])
        grid = np.arange((s // step + 1) * step, e, step, dtype=np.int64)
        edges = np.concatenate(([s], grid, [e]))
        share = np.diff(edges) / (e - s)
        n = len(edges) - 1
        pieces.append(Intervals(edges[:-1], edges[1:], iv.value[k] * share,
                                np.full(n, iv.flags[k] | int(Flag.ESTIMATED), np.int32),
                                np.zeros(n, bool)))
        findings.append(Finding("gap_estimated", "info", s, e,
                                {"duration_s": (e - s) // US, "value": float(iv.value[k])}))
    return _concat_sorted(pieces)


def _concat_sorted(pieces: list[Intervals]) -> Intervals:
    out = Intervals(*(np.concatenate([getattr(p, f) for p in pieces])
                      for f in ("start", "end", "value", "flags", "gap")))
    order = np.argsort(out.start, kind="stable")
    return out.select(order)


def _interval_register(ts, value, quality, spec: MeterSpec, events):
    findings: list[Finding] = []
    valid = quality != Quality.REJECTED
    t, v, flags = ts[valid], value[valid], _quality_flags(quality[valid])
    if not len(t):
        return Intervals.empty(), findings
    step = spec.interval_s * US
    values = v * _multipliers(t, spec, events) * spec.unit_factor
    iv = Intervals(t.copy(), t + step, values, flags, np.zeros(len(t), bool))
    if len(t) < 2:
        return iv, findings
    spacing = np.diff(t)
    for k in np.flatnonzero(spacing < step):
        findings.append(Finding("interval_overlap", "warning", int(t[k]), int(t[k + 1]),
                                {"interval_s": spec.interval_s}))
    missing = np.flatnonzero(spacing > step)
    if not len(missing):
        return iv, findings
    pieces = [iv]
    for k in missing:
        gap_start, gap_end = int(t[k] + step), int(t[k + 1])
        if not spec.estimate_gaps:
            findings.append(Finding("gap", "warning", gap_start, gap_end,
                                    {"duration_s": (gap_end - gap_start) // US}))
            continue
        slots = np.arange(gap_start, gap_end, step, dtype=np.int64)
        slots = slots[slots + step <= gap_end]
        if not len(slots):
            continue
        # Linear interpolation between the neighbouring interval values.
        frac = (slots - t[k]) / (t[k + 1] - t[k])
        fill = values[k] + (values[k + 1] - values[k]) * frac
        pieces.append(Intervals(slots, slots + step, fill,
                                np.full(len(slots), int(Flag.ESTIMATED), np.int32),
                                np.zeros(len(slots), bool)))
        findings.append(Finding("gap_estimated", "info", gap_start, gap_end,
                                {"duration_s": (gap_end - gap_start) // US, "slots": len(slots)}))
    return (_concat_sorted(pieces) if len(pieces) > 1 else iv), findings
