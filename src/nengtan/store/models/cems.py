"""Continuous emission monitoring (CEMS, 实测法): monitors, samples and hourly results."""

from __future__ import annotations
