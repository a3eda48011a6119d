"""Benchmark engines: comparison of indicators with benchmark levels and grades (pure)."""
