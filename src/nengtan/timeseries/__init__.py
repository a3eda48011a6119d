"""Pure time-series engines: calendar buckets, rollups, virtual-meter formulas."""
