"""The bilingual label catalogue: every label users see exists in Chinese and English.

Examples
--------
>>> label("bucket.g21.next_day", "zh")
'次日'
>>> label("bucket.monthly", "en", n=3)
'Month 3'
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from typing import Literal

import yaml

__all__ = ["Language", "default_language", "label", "labels"]

Language = Literal["zh", "en"]


@cache
def labels() -> dict[str, dict[str, str]]:
    """The whole catalogue, ``key -> {"zh": ..., "en": ...}``."""
    text = resources.files("openalm.i18n").joinpath("labels.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    for key, entry in data.items():
        if set(entry) != {"zh", "en"}:
            raise ValueError(f"label {key!r} must have exactly zh and en, has {sorted(entry)}")
    return data  # type: ignore[no-any-return]


def default_language() -> Language:
    """``OPENALM_LANG`` (zh or en), default zh."""
    lang = os.environ.get("OPENALM_LANG", "zh").lower()
    return "en" if lang.startswith("en") else "zh"


def label(key: str, lang: Language | None = None, **fields: object) -> str:
    """The label of ``key`` in ``lang``, with ``{field}`` placeholders filled in."""
    entry = labels()[key]
    text = entry[lang or default_language()]
    return text.format(**fields) if fields else text
