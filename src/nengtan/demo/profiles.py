"""Load-shape building blocks for the demo park (pure numpy, no I/O).

Arrays are indexed (day, slot): 96 quarter-hour slots per local day (UTC+8, no daylight
saving).  Powers are mean kW over the slot, temperatures °C, irradiance W/m².

Solar geometry uses Cooper's declination and Spencer's equation of time (Duffie & Beckman,
*Solar Engineering of Thermal Processes*, 4th ed., 1.6); clear-sky global horizontal
irradiance uses Haurwitz's model, GHI = 1098 cos Z exp(−0.057 / cos Z) W/m² (Haurwitz 1945;
pvlib ``clearsky.haurwitz``).
"""

from __future__ import annotations

import numpy as np

SLOTS = 96
SLOT_H = 0.25
LATITUDE_DEG = 36.5  # central Shandong (Zibo, Jinan)
LONGITUDE_DEG = 118.0
STANDARD_MERIDIAN_DEG = 120.0  # UTC+8


def slot_hours() -> np.ndarray:
    """Local clock hour at the start of each slot, shape (96,)."""
    return np.arange(SLOTS) * SLOT_H


def window(start_h: float, end_h: float, ramp_h: float = 0.25) -> np.ndarray:
    """Daily on/off shape, shape (96,): 1 between ``start_h`` and ``end_h`` (may wrap past
    midnight), with linear ramps of ``ramp_h`` hours at both edges, sampled at slot middles."""
    t = slot_hours() + SLOT_H / 2
    length = (end_h - start_h) % 24 or 24.0
    since = (t - start_h) % 24
    up = np.clip(since / ramp_h, 0, 1) if ramp_h else (since >= 0).astype(float)
    down = np.clip((length - since) / ramp_h, 0, 1) if ramp_h else (since < length).astype(float)
    return np.where(since < length, np.minimum(up, down), 0.0)


def smooth_noise(rng: np.random.Generator, n_days: int, sigma: float,
                 knots_per_day: int = 24) -> np.ndarray:
    """Zero-mean noise varying smoothly within the day: normal values at ``knots_per_day``
    evenly spaced knots, linearly interpolated to slots.  Shape (n_days, 96)."""
    knots = rng.normal(0.0, sigma, n_days * knots_per_day + 1)
    x = np.arange(n_days * SLOTS) * (knots_per_day / SLOTS)
    return np.interp(x, np.arange(len(knots)), knots).reshape(n_days, SLOTS)


def ar1(rng: np.random.Generator, n: int, sigma: float, phi: float) -> np.ndarray:
    """Stationary AR(1) series with marginal standard deviation ``sigma``."""
    e = rng.normal(0.0, sigma * np.sqrt(1 - phi * phi), n)
    out = np.empty(n)
    prev = rng.normal(0.0, sigma)
    for i in range(n):
        prev = phi * prev + e[i]
        out[i] = prev
    return out


def daily_temperature(rng: np.random.Generator, doy: np.ndarray) -> np.ndarray:
    """Daily mean air temperature, °C: a Jinan-like annual cycle (January ≈ −0.5 °C,
    July ≈ 27.5 °C) plus persistent weather anomalies."""
    season = 13.5 - 14.0 * np.cos(2 * np.pi * (doy - 18) / 365.25)
    return season + ar1(rng, len(doy), 2.2, 0.75)


def cooling_degree(temp: np.ndarray, base: float = 18.0) -> np.ndarray:
    return np.maximum(temp - base, 0.0)


def heating_degree(temp: np.ndarray, base: float = 12.0) -> np.ndarray:
    return np.maximum(base - temp, 0.0)


def sun_sine_elevation(doy: np.ndarray) -> np.ndarray:
    """Sine of the solar elevation at the middle of every slot, shape (n_days, 96)."""
    n = doy.astype(float)[:, None]
    decl = np.radians(23.45) * np.sin(2 * np.pi * (284 + n) / 365)
    b = 2 * np.pi * (n - 81) / 364
    eot_min = 9.87 * np.sin(2 * b) - 7.53 * np.cos(b) - 1.5 * np.sin(b)
    clock = slot_hours()[None, :] + SLOT_H / 2
    solar_time = clock + (4 * (LONGITUDE_DEG - STANDARD_MERIDIAN_DEG) + eot_min) / 60
    omega = np.radians(15 * (solar_time - 12))
    lat = np.radians(LATITUDE_DEG)
    return np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(omega)


def clear_sky_ghi(sin_elev: np.ndarray) -> np.ndarray:
    """Haurwitz clear-sky global horizontal irradiance, W/m²; zero with the sun down."""
    cz = np.clip(sin_elev, 1e-6, None)
    return np.where(sin_elev > 0, 1098.0 * cz * np.exp(-0.057 / cz), 0.0)


#: Monthly probabilities of a clear and of an overcast day in central Shandong: dry, sunny
#: springs and autumns, a rainy July-August (plum rain and monsoon), hazy winters.
_P_CLEAR = np.array([0, .40, .38, .40, .45, .45, .32, .20, .22, .42, .50, .45, .40])
_P_OVERCAST = np.array([0, .22, .22, .20, .15, .15, .25, .35, .33, .20, .15, .18, .22])


def cloudiness(rng: np.random.Generator, month: np.ndarray) -> np.ndarray:
    """Clear-sky fraction of irradiance for every slot, shape (n_days, 96), in [0.05, 1].

    Each day is clear (0.88-1.0), overcast (0.12-0.35) or broken cloud (mean 0.45-0.85 with
    passing clouds varying within the hour).
    """
    n_days = len(month)
    u = rng.random(n_days)
    clear = u < _P_CLEAR[month]
    overcast = ~clear & (u > 1 - _P_OVERCAST[month])
    level = np.where(clear, rng.uniform(0.88, 1.0, n_days),
                     np.where(overcast, rng.uniform(0.12, 0.35, n_days),
                              rng.uniform(0.45, 0.85, n_days)))
    passing = smooth_noise(rng, n_days, 0.22, knots_per_day=96)
    swing = np.where(clear | overcast, 0.15, 1.0)[:, None]
    return np.clip(level[:, None] * (1 + swing * passing), 0.05, 1.0)


def pv_power(kwp: float, ghi: np.ndarray, temp: np.ndarray) -> np.ndarray:
    """AC output of a rooftop array, kW: a performance ratio of 0.86 at 25 °C cell temperature,
    −0.37 %/K above it (crystalline silicon), cells 28 K above ambient at 1000 W/m²."""
    cell = temp[:, None] + 28.0 * ghi / 1000.0
    pr = 0.86 * (1 - 0.0037 * (cell - 25.0))
    return kwp * ghi / 1000.0 * pr


def lagged(x: np.ndarray, slots: int) -> np.ndarray:
    """Trailing moving average over ``slots`` slots along the flattened time axis (the
    thermal inertia of a kiln or a boiler), same shape as ``x``."""
    flat = x.ravel()
    c = np.concatenate(([0.0], np.cumsum(flat)))
    idx = np.arange(len(flat)) + 1
    lo = np.maximum(idx - slots, 0)
    return ((c[idx] - c[lo]) / (idx - lo)).reshape(x.shape)
