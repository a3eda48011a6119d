"""docs/data-formats.md documents every column of every kind, with its Chinese header."""

from __future__ import annotations

from pathlib import Path

import pytest

from nengtan.exchange.kinds import KIND_LIST

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-formats.md"


@pytest.mark.parametrize("kind", KIND_LIST, ids=lambda k: k.name)
def test_every_column_is_documented(kind):
    text = DOC.read_text("utf-8")
    assert f"`{kind.name}` — {kind.label_zh}" in text
    for spec in kind.fields:
        assert f"| `{spec.name}` | {spec.label_zh} |" in text, spec.name
    # Headers are unambiguous within a kind (building the map raises otherwise).
    assert set(kind.headers.values()) == {f.name for f in kind.fields}
