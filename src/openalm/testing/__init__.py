"""Test and benchmark helpers of OpenALM (no test framework needed to import them).

:mod:`openalm.testing.quantlib` builds the QuantLib counterpart of a positions row (schedule,
legs, curves, scenarios) -- the yardstick of ``tests/reference`` and of ``openalm bench``.
QuantLib itself is a test dependency: it is imported only when a QuantLib object is built.
"""

from __future__ import annotations

from openalm.testing.quantlib import (
    QL_DAY_COUNTS,
    QlContract,
    QlFlow,
    QlPricing,
    QuantLibPricer,
    UnsupportedContractError,
    quantlib_available,
    regular_period_fraction,
)

__all__ = [
    "QL_DAY_COUNTS",
    "QlContract",
    "QlFlow",
    "QlPricing",
    "QuantLibPricer",
    "UnsupportedContractError",
    "quantlib_available",
    "regular_period_fraction",
]
