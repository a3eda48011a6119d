"""Configured data-quality rules (range, rate of change, stuck, balance ...)."""

from __future__ import annotations
