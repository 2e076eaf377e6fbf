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
    """The whole catalogue, ``key -> {"zh": ..., "en": ...}``.

    The catalogue is ``labels.yaml`` plus one ``labels_<area>.yaml`` per functional area, merged;
    a key defined twice is an error, so the files together form one catalogue.
    """
    folder = resources.files("openalm.i18n")
    names = sorted(p.name for p in folder.iterdir() if p.name.startswith("labels") and p.name.endswith(".yaml"))
    data: dict[str, dict[str, str]] = {}
    for name in names:
        part = yaml.safe_load(folder.joinpath(name).read_text(encoding="utf-8")) or {}
        for key, entry in part.items():
            if key in data:
                raise ValueError(f"label {key!r} is defined twice (again in {name})")
            if not isinstance(entry, dict) or set(entry) != {"zh", "en"}:
                raise ValueError(f"label {key!r} in {name} must have exactly zh and en, has {entry!r}")
            data[key] = entry
    return data


def default_language() -> Language:
    """``OPENALM_LANG`` (zh or en), default zh."""
    lang = os.environ.get("OPENALM_LANG", "zh").lower()
    return "en" if lang.startswith("en") else "zh"


def label(key: str, lang: Language | None = None, **fields: object) -> str:
    """The label of ``key`` in ``lang``, with ``{field}`` placeholders filled in."""
    entry = labels()[key]
    text = entry[lang or default_language()]
    return text.format(**fields) if fields else text
