"""Message catalogues: keys in code, texts in ``locales/zh-CN.json`` and ``locales/en.json``.

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
    text = resources.files("nengtan").joinpath("locales", f"{lang}.json").read_text("utf-8")
    return json.loads(text)


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
