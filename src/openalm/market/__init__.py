"""OpenALM market layer: zero curves, scenario shocks, IRRBB shock sets, FX rates and fixings.

Market objects are immutable and carry their as-of date; applying a scenario returns a new object.
Curve convention (interfaces.md): continuous zero rates, ACT/365F time from the as-of date, linear
on the zero rate between pillars, flat beyond the ends. The numba kernel reads packed curves
(:func:`pack_curves`, :func:`pack_shocks`) with the functions of :mod:`openalm.market._kernel`.
"""

from __future__ import annotations

from openalm.market.curves import (
    CURVE_TYPES,
    DISCOUNT_CURVE_TYPES,
    CurvePoints,
    CurveSet,
    Shock,
    ZeroCurve,
    curves_from_table,
    pack_curves,
    pack_shocks,
)
from openalm.market.fixings import Fixings
from openalm.market.fx import FX_RATE_TYPES, FxRates
from openalm.market.shocks import (
    RULE_SET_SHOCKS,
    SCENARIOS,
    ShockSet,
    ShockSizes,
    basel_shock,
    basel_shocks,
)

__all__ = [
    "CURVE_TYPES",
    "DISCOUNT_CURVE_TYPES",
    "FX_RATE_TYPES",
    "RULE_SET_SHOCKS",
    "SCENARIOS",
    "CurvePoints",
    "CurveSet",
    "Fixings",
    "FxRates",
    "Shock",
    "ShockSet",
    "ShockSizes",
    "ZeroCurve",
    "basel_shock",
    "basel_shocks",
    "curves_from_table",
    "pack_curves",
    "pack_shocks",
]
