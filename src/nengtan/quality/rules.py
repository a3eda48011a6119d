"""Configurable data-quality rules: the checks themselves, pure (numpy in, findings out).

The readings pipeline (:mod:`nengtan.quality.normalize`) already reports what follows from
how registers work — gaps longer than the meter's gap threshold, register decreases, glitches,
rollovers.  The rules here are what an energy manager configures on top, per meter or per
node (issue 3, item 8):

``range``
    A value outside ``[min, max]``: interval values (carrier unit, scaled to the meter's
    nominal interval) or raw readings (meter unit, as received).
``rate_of_change``
    A series changing faster than ``max_per_hour`` between consecutive samples.
``stuck``
    The same raw value (within a tolerance) for at least N readings and/or a duration, while
    the meter is expected to move.
``missing``
    No reading for longer than ``max_gap_s`` — including "silent since" at the end of the
    data, which the pipeline cannot see because nothing arrives.
``negative_interval``
    An interval value below zero on an *interval* register.  Decreases of cumulative
    registers are the pipeline's ``register_decrease`` findings and are not repeated here.
``balance``
    A parent meter against the sum of its sub-meters per hour, day or month, with a
    tolerance in %.  GB 17167-2006 (用能单位能源计量器具配备和管理通则) has energy metered at
    three levels — the unit, its secondary units, its main equipment — so that the levels can
    be checked against each other; GB/T 3484-2009 (企业能量平衡通则) balances supply against
    use plus losses.  A period where either side is not fully covered by data is *not
    assessable*, never an imbalance.

Times are ``int64`` microseconds since 1970-01-01 UTC; a finding spans ``[start_us, end_us]``
(``end_us`` = ``start_us`` for a single reading).  Every function returns
:class:`RuleFinding` objects with the measured value and the limit it broke.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

US = 1_000_000
HOUR_US = 3600 * US

KINDS = ("range", "rate_of_change", "stuck", "missing", "negative_interval", "balance")
SEVERITIES = ("info", "warning", "error")
BALANCE_PERIODS = ("hour", "day", "month")
#: Status of a balance period.
OK, IMBALANCE, NOT_ASSESSABLE = "ok", "imbalance", "not_assessable"


@dataclass(frozen=True)
class RuleFinding:
    """One violation: ``measured`` broke ``limit`` over ``[start_us, end_us]``."""

    rule: str
    severity: str
    start_us: int
    end_us: int
    measured: float
    limit: float
    detail: dict = field(default_factory=dict)


def runs(mask) -> tuple[np.ndarray, np.ndarray]:
    """First index and end index (exclusive) of every maximal run of True in ``mask``."""
    m = np.asarray(mask, bool)
    edges = np.diff(np.concatenate(([0], m.astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _sorted(findings: list[RuleFinding]) -> list[RuleFinding]:
    return sorted(findings, key=lambda f: (f.start_us, f.end_us))


# -- range -----------------------------------------------------------------------------------
def range_check(start, end, value, *, minimum: float | None = None,
                maximum: float | None = None, severity: str = "warning") -> list[RuleFinding]:
    """Samples with ``value < minimum`` or ``value > maximum``.

    ``start``/``end`` bound each sample (the same array for raw readings, which are
    instants).  Consecutive samples on the same side form one finding whose ``measured`` is
    the most extreme value; ``detail`` gives the side and the number of samples.
    """
    start, end = np.asarray(start, np.int64), np.asarray(end, np.int64)
    value = np.asarray(value, np.float64)
    out = []
    for side, limit, bad, pick in (("above", maximum, lambda v, x: v > x, np.max),
                                   ("below", minimum, lambda v, x: v < x, np.min)):
        if limit is None:
            continue
        for i0, i1 in zip(*runs(bad(value, limit))):
            out.append(RuleFinding("range", severity, int(start[i0]), int(end[i1 - 1]),
                                   float(pick(value[i0:i1])), float(limit),
                                   {"side": side, "count": int(i1 - i0)}))
    return _sorted(out)


# -- rate of change --------------------------------------------------------------------------
def rate_of_change(ts, value, *, max_per_hour: float, max_dt_us: int | None = None,
                   exclude=None, severity: str = "warning") -> list[RuleFinding]:
    """Consecutive samples whose change per hour, ``|v[i] − v[i−1]| / Δt[h]``, exceeds
    ``max_per_hour``.

    Pairs further apart than ``max_dt_us`` (across a gap), and pairs marked in ``exclude``
    (one bool per pair: a register reset or rollover between them), are not judged.  Consecutive
    violating pairs form one finding from the first to the last sample involved, so a single
    spike (up, then down) is one finding; ``measured`` is the largest rate in it.
    """
    ts, value = np.asarray(ts, np.int64), np.asarray(value, np.float64)
    if len(ts) < 2:
        return []
    dt = np.diff(ts)
    judged = dt > 0
    if max_dt_us is not None:
        judged &= dt <= max_dt_us
    if exclude is not None:
        judged &= ~np.asarray(exclude, bool)
    rate = np.zeros(len(dt))
    rate[judged] = np.abs(np.diff(value))[judged] / (dt[judged] / HOUR_US)
    out = []
    for k0, k1 in zip(*runs(judged & (rate > max_per_hour))):
        out.append(RuleFinding("rate_of_change", severity, int(ts[k0]), int(ts[k1]),
                               float(rate[k0:k1].max()), float(max_per_hour),
                               {"pairs": int(k1 - k0)}))
    return out


# -- stuck -----------------------------------------------------------------------------------
def stuck(ts, value, *, min_count: int | None = None, min_duration_us: int | None = None,
          tolerance: float = 0.0, expected=None, ignore_zero: bool = False,
          severity: str = "warning") -> list[RuleFinding]:
    """Runs of consecutive readings that stay within ``tolerance`` of the run's first value.

    A run is flagged when it has at least ``min_count`` readings and lasts at least
    ``min_duration_us`` (first to last reading); give either or both.  ``expected`` (bool per
    reading) says when the meter is expected to move: only those readings count towards
    ``min_count``, and a run without any is never flagged.  ``ignore_zero`` skips runs at
    zero (an interval register of a plant that is off).
    """
    if min_count is None and min_duration_us is None:
        raise ValueError("stuck needs min_count or min_duration_us")
    ts, value = np.asarray(ts, np.int64), np.asarray(value, np.float64)
    moving = np.ones(len(ts), bool) if expected is None else np.asarray(expected, bool)
    if len(ts) < 2:
        return []
    need = max(min_count or 2, 2)
    out = []
    # Steps within the tolerance are necessary for a run; candidates are then split so that
    # every reading stays within the tolerance of the run's first value (no slow drift).
    s0, s1 = runs(np.abs(np.diff(value)) <= tolerance)
    for a, b in zip(s0, s1 + 1):
        if b - a < need and min_count is not None:
            continue
        for r0, r1 in _anchored(value, int(a), int(b), tolerance):
            count = r1 - r0
            counted = int(moving[r0:r1].sum())
            duration = int(ts[r1 - 1] - ts[r0])
            if count < 2 or counted == 0:
                continue
            if min_count is not None and counted < min_count:
                continue
            if min_duration_us is not None and duration < min_duration_us:
                continue
            if ignore_zero and abs(value[r0]) <= tolerance:
                continue
            by_count = min_count is not None
            out.append(RuleFinding(
                "stuck", severity, int(ts[r0]), int(ts[r1 - 1]),
                float(counted if by_count else duration // US),
                float(min_count if by_count else min_duration_us // US),
                {"value": float(value[r0]), "count": int(count), "expected_count": counted,
                 "duration_s": duration // US}))
    return out


def _anchored(value: np.ndarray, a: int, b: int, tolerance: float):
    if tolerance == 0:
        return [(a, b)]
    pieces, j = [], a
    while j < b:
        far = np.flatnonzero(np.abs(value[j:b] - value[j]) > tolerance)
        k = j + int(far[0]) if len(far) else b
        pieces.append((j, k))
        j = k
    return pieces


# -- missing ---------------------------------------------------------------------------------
def missing(ts, *, first_us: int, last_us: int, max_gap_us: int, open_end: bool = True,
            severity: str = "warning") -> list[RuleFinding]:
    """Stretches longer than ``max_gap_us`` without a reading.

    ``ts`` are the readings' times; ``first_us`` and ``last_us`` bound the stretch judged:
    the previous reading (or the start of the period if the meter never reported) and the
    next reading, or — ``open_end`` — the present, when no later reading exists.  A gap up
    to an open end is "silent since" (``detail.open_end``).
    """
    ts = np.asarray(ts, np.int64)
    ts = ts[(ts > first_us) & (ts < last_us)]
    points = np.concatenate(([first_us], ts, [last_us]))
    gaps = np.diff(points)
    out = []
    for k in np.flatnonzero(gaps > max_gap_us):
        duration = int(gaps[k])
        out.append(RuleFinding("missing", severity, int(points[k]), int(points[k + 1]),
                               float(duration // US), float(max_gap_us // US),
                               {"duration_s": duration // US,
                                "open_end": bool(open_end and k == len(gaps) - 1)}))
    return out


# -- negative interval -----------------------------------------------------------------------
def negative_interval(start, end, value, *, tolerance: float = 0.0,
                      severity: str = "error") -> list[RuleFinding]:
    """Interval values below ``−tolerance``; consecutive ones form one finding whose
    ``measured`` is the most negative value."""
    start, end = np.asarray(start, np.int64), np.asarray(end, np.int64)
    value = np.asarray(value, np.float64)
    out = []
    for i0, i1 in zip(*runs(value < -tolerance)):
        out.append(RuleFinding("negative_interval", severity, int(start[i0]), int(end[i1 - 1]),
                               float(value[i0:i1].min()), float(-tolerance),
                               {"count": int(i1 - i0), "total": float(value[i0:i1].sum())}))
    return out


# -- balance ---------------------------------------------------------------------------------
@dataclass
class Balance:
    """Per period: parent, sum of sub-meters, difference (parent − sum), % of the parent,
    the higher side, and the status; NaN where a side is not fully covered."""

    start: np.ndarray
    end: np.ndarray
    parent: np.ndarray
    children: np.ndarray
    difference: np.ndarray
    pct: np.ndarray  # NaN when not assessable; ±inf when the parent is 0 and the sum is not
    higher: list[str]  # parent | children | equal | "" (not assessable)
    status: list[str]
    #: Per period, indices of the sides lacking data: -1 = the parent, k = sub-meter k.
    incomplete: list[list[int]]
    findings: list[RuleFinding]


def balance(start, end, parent, parent_complete, children, children_complete, *,
            tolerance_pct: float, min_abs: float = 0.0, severity: str = "warning",
            labels: tuple[str, ...] = ()) -> Balance:
    """Compare a parent meter with the sum of its sub-meters, period by period.

    ``parent``/``parent_complete`` have one entry per period; ``children`` and
    ``children_complete`` are (sub-meters × periods).  Values in one unit.  For each period
    where every series is complete::

        difference = parent − Σ children
        pct        = 100 × difference / parent

    and the period is an imbalance when ``|pct| > tolerance_pct`` and
    ``|difference| > min_abs`` (``min_abs`` keeps small loads at night from raising alarms
    on a few kWh).  A positive difference is the loss or unmetered use between the levels
    (GB/T 3484 supply = use + losses); a negative one means the sub-meters record more than
    the parent, which no loss explains.  A period with a side not fully covered is
    ``not_assessable``.  Each imbalanced period is one finding (``measured`` = pct, or the
    difference when the parent is 0).
    """
    start, end = np.asarray(start, np.int64), np.asarray(end, np.int64)
    parent = np.asarray(parent, np.float64)
    n = len(parent)
    kids = np.asarray(children, np.float64).reshape(-1, n)
    kids_ok = np.asarray(children_complete, bool).reshape(-1, n)
    parent_ok = np.asarray(parent_complete, bool) & np.isfinite(parent)
    kids_ok = kids_ok & np.isfinite(kids)
    assessable = parent_ok & kids_ok.all(axis=0) & (len(kids) > 0)
    total = np.where(assessable, np.nan_to_num(kids).sum(axis=0), np.nan)
    diff = np.where(assessable, parent - total, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(assessable, 100.0 * diff / parent, np.nan)
    pct[assessable & (parent == 0) & (diff == 0)] = 0.0
    bad = assessable & (np.abs(pct) > tolerance_pct) & (np.abs(diff) > min_abs)
    higher, status, incomplete, findings = [], [], [], []
    for k in range(n):
        if not assessable[k]:
            higher.append("")
            status.append(NOT_ASSESSABLE)
            incomplete.append(([] if parent_ok[k] else [-1])
                              + [int(i) for i in np.flatnonzero(~kids_ok[:, k])])
            continue
        side = "parent" if diff[k] > 0 else "children" if diff[k] < 0 else "equal"
        higher.append(side)
        status.append(IMBALANCE if bad[k] else OK)
        incomplete.append([])
        if bad[k]:
            finite = bool(np.isfinite(pct[k]))
            findings.append(RuleFinding(
                "balance", severity, int(start[k]), int(end[k]),
                float(pct[k]) if finite else float(diff[k]),
                float(tolerance_pct) if finite else float(min_abs),
                {"parent": float(parent[k]), "children": float(total[k]),
                 "difference": float(diff[k]), "pct": float(pct[k]) if finite else None,
                 "higher": side,
                 "by_child": {(labels[i] if i < len(labels) else str(i)): float(kids[i, k])
                              for i in range(len(kids))}}))
    return Balance(start, end, parent, total, diff, pct, higher, status, incomplete, findings)
