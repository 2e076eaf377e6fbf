"""IRRBB standardised shock-size parameter sets shipped with OpenALM.

Each ``*.yaml`` file of this package is one dated, versioned set (``id``, ``version``,
``effective_from``, ``source``, ``unit``, ``x``, ``floors``, ``currencies``), with the source
paragraph beside every currency. They are parsed and validated by
:class:`openalm.market.shocks.ShockSet`; this module only finds and reads the files.
"""

from __future__ import annotations

from importlib import resources

__all__ = ["read_text", "shipped_names"]


def shipped_names() -> tuple[str, ...]:
    """Names (file stems) of the shipped shock sets, sorted, e.g. ``('bcbs_d368_2016', ...)``."""
    root = resources.files(__name__)
    return tuple(sorted(p.name[: -len(".yaml")] for p in root.iterdir() if p.name.endswith(".yaml")))


def read_text(name: str) -> str:
    """The YAML text of shipped set ``name`` (file stem). ``FileNotFoundError`` when unknown."""
    resource = resources.files(__name__).joinpath(f"{name}.yaml")
    if not resource.is_file():
        raise FileNotFoundError(f"no shipped IRRBB shock set {name!r}; shipped: {list(shipped_names())}")
    return resource.read_text(encoding="utf-8")
