"""Manual entry (手工填报) with review, evidence files and the audit log."""

from __future__ import annotations
