"""Categories that could not be determined from the data: reported, never silently defaulted.

When a classification cannot tell a contract's category from its attributes (a deposit without a
counterparty type, a bond without an issuer rating, ...) the measure applies a documented, usually
conservative, assumption and records it here: how many contracts, how much, a sample of ids and
the assumption applied. ``openalm run`` writes the records to ``liquidity_assumptions.csv`` and
counts them in the manifest's warnings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

__all__ = ["ASSUMPTION_SCHEMA", "Assumption", "assumptions_frame", "record_assumption"]

SAMPLE_SIZE = 5


@dataclass(frozen=True)
class Assumption:
    """One kind of undetermined category, with the contracts it hit."""

    measure: str  # lcr, nsfr, ratios, stress, gap, ...
    code: str  # stable id of the situation, e.g. "lcr.deposit_without_counterparty_type"
    message: str  # what could not be determined (English; zh via the label catalogue when shown)
    assumption: str  # what was applied instead
    contracts: int
    amount_rc: float  # balance of the contracts in the reporting currency
    sample: tuple[str, ...]  # up to SAMPLE_SIZE position ids


ASSUMPTION_SCHEMA = {
    "measure": pl.String,
    "code": pl.String,
    "message": pl.String,
    "assumption": pl.String,
    "contracts": pl.Int64,
    "amount_rc": pl.Float64,
    "sample": pl.String,
}


def record_assumption(
    frame: pl.DataFrame,
    mask: pl.Expr | pl.Series,
    *,
    measure: str,
    code: str,
    message: str,
    assumption: str,
    out: list[Assumption],
) -> None:
    """Append an :class:`Assumption` for the rows of ``frame`` where ``mask`` holds (none: no-op)."""
    hit = frame.filter(mask)
    if hit.height == 0:
        return
    amount = hit.select((pl.col("balance").fill_null(0.0) * pl.col("fx_rc")).sum()).item()
    out.append(
        Assumption(
            measure=measure,
            code=code,
            message=message,
            assumption=assumption,
            contracts=hit.height,
            amount_rc=float(amount or 0.0),
            sample=tuple(hit["position_id"].head(SAMPLE_SIZE).to_list()),
        )
    )


def assumptions_frame(items: Sequence[Assumption]) -> pl.DataFrame:
    """The records as a table (``sample`` joined with ``;``)."""
    return pl.DataFrame(
        {
            "measure": [a.measure for a in items],
            "code": [a.code for a in items],
            "message": [a.message for a in items],
            "assumption": [a.assumption for a in items],
            "contracts": [a.contracts for a in items],
            "amount_rc": [a.amount_rc for a in items],
            "sample": [";".join(a.sample) for a in items],
        },
        schema=ASSUMPTION_SCHEMA,
    )
