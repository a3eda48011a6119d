"""Message catalogues: keys in code, texts in ``locales/zh-CN.json`` and ``locales/en.json``.

Each capability may keep its own keys in ``locales/<lang>/<capability>.json``; those files are
merged into the language's catalogue (a key defined twice is an error, so fragments cannot
silently override each other).

zh-CN is the default language.  ``t("rule.required", "en", field="code")`` formats the English
text of a key; a key missing from a catalogue falls back to the other language and then to the
key itself, so a missing translation is visible instead of crashing.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    root = resources.files("nengtan").joinpath("locales")
    merged: dict[str, str] = json.loads(root.joinpath(f"{lang}.json").read_text("utf-8"))
    fragments = root.joinpath(lang)
    if fragments.is_dir():
        for part in sorted(fragments.iterdir(), key=lambda p: p.name):
            if not part.name.endswith(".json"):
                continue
            for key, text in json.loads(part.read_text("utf-8")).items():
                if key in merged:
                    raise ValueError(f"locale key {key!r} defined twice ({lang}/{part.name})")
                merged[key] = text
    return merged


def normalise_language(lang: str | None) -> str:
    if not lang:
        return DEFAULT_LANGUAGE
    lang = lang.strip()
    if lang.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


def t(key: str, lang: str | None = None, **params: object) -> str:
    lang = normalise_language(lang)
    other = "en" if lang != "en" else DEFAULT_LANGUAGE
    template = catalogue(lang).get(key) or catalogue(other).get(key) or key
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def both(key: str, **params: object) -> dict[str, str]:
    """The message in every language, for API errors and stored findings."""
    return {lang: t(key, lang, **params) for lang in LANGUAGES}
