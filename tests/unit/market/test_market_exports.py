"""Pin the public surface of openalm.market."""

from __future__ import annotations

import openalm.market as market

EXPECTED = {
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
}


def test_public_surface() -> None:
    assert set(market.__all__) == EXPECTED
    for name in EXPECTED:
        assert hasattr(market, name)


def test_kernel_module_surface() -> None:
    from openalm.market import _kernel

    assert {"discount_packed", "zero_rate_packed", "shocked_zero_packed", "latest_fixing_packed"} <= set(
        _kernel.__all__
    )
