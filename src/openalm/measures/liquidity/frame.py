"""The per-contract liquidity frame: the one input every liquidity measure reads.

One row per position (in positions order), built by :func:`build_frame` from the positions, the
counterparties, the FX rates and the cash-flow engine's per-contract liquidity bands. Measures are
pure functions of this frame (plus rule tables and config), so they are tested on small frames
made with :func:`frame_from_records`. The run's frame holds the low-cardinality code columns as
``Categorical`` (``build.CATEGORICAL_COLUMNS``); measures must work on both (compare with string
literals, no ``.str`` operations on those columns).

Columns (``FRAME_SCHEMA``):

* identity and dimensions: ``row`` (index in positions), ``position_id``, ``reporting_entity_id``,
  ``branch_id``, ``business_line``, ``product_code``, ``gl_account``, ``counterparty_id``,
  ``facility_id``, ``deal_id``, ``instrument_type``, ``product_subtype``, ``side``
  (asset/liability/equity), ``on_balance_sheet``, ``currency``, ``book``,
  ``accounting_classification``;
* counterparty (joined from ``counterparties``; null when the table or the row is missing):
  ``counterparty_type``, ``fi_subtype``, ``counterparty_name``, ``group_id``, ``enterprise_size``,
  ``is_intragroup``, ``external_rating``, ``country_of_residence``, ``cp_class`` (see
  :data:`CP_CLASSES`; ``unknown`` when the type is missing);
* amounts in the contract currency: ``balance`` (principal_balance), ``carrying_amount``,
  ``fair_value`` (signed), ``market_value`` (abs(fair_value), else carrying_amount, else
  balance), ``accrued_interest``, ``overdue_principal``, ``undrawn_amount``, ``limit_amount``,
  ``insured_amount``, ``operational_excess_amount``, ``encumbered_amount``,
  ``collateral_market_value``, ``provision_amount``, ``ltv``, ``risk_weight`` (null until the
  capital module assigns it), ``current_rate`` and ``early_withdrawal_rate`` (decimals p.a.; an
  early withdrawal is penalty-free when the rate paid on it is not below the contract rate);
* ``fx_rc``: contract currency -> reporting currency (NaN when no rate is known);
* day offsets from the as-of date (Int32, null when the date is missing): ``maturity_days``,
  ``origination_days``, ``next_call_days``, ``next_withdrawal_days``, ``encumbrance_end_days``,
  ``notice_period_days``, ``days_past_due``;
* flags (nullable Boolean): ``is_transactional``, ``is_operational``,
  ``has_established_relationship``, ``early_withdrawal_allowed``, ``auto_rollover``,
  ``unconditionally_cancellable``, ``is_central_bank_eligible``, ``hqla_operational_ok``,
  ``collateral_rehypothecable``, ``is_defaulted``, ``is_centrally_cleared``, ``is_brokered``;
* codes (String): ``listing_market``, ``encumbrance_type``, ``collateral_hqla_level``,
  ``repo_type``, ``asset_quality_class``, ``capital_tier``, ``seniority``, ``derivative_type``,
  ``call_type``, ``credit_support_type``, ``property_type``, ``behavioural_class``,
  ``hqla_level_override``, ``lcr_category_override``, ``nsfr_category_override``;
* contractual flows from the engine, contract currency, >= 0, per liquidity band (see
  :data:`BANDS`): ``principal_<band>`` and ``interest_<band>`` = the flows falling due in
  ``(previous band end, band end]`` days after the as-of date (base scenario). Overdue principal
  is not in the bands (``overdue_principal``). ``undated`` marks contracts without a contractual
  maturity (cash, reserves, equity, non-maturity deposits, undated items); non-maturity deposits
  still show their run-off profile's flows in the bands (the config's ``non_maturity.profiles``,
  by default the whole balance on the next day, as G21 slots them);
* ``performing``: not substandard/doubtful/loss, not defaulted, at most 90 days past due.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

__all__ = [
    "BANDS",
    "CP_CLASSES",
    "FRAME_SCHEMA",
    "HQLA_LEVELS",
    "band_columns",
    "band_ends",
    "cp_class_expr",
    "frame_from_records",
    "ordered_group_by",
]

#: Liquidity bands of the per-contract flows: (name, upper bound as a tenor). Bounds in months and
#: years are calendar arithmetic from the as-of date (as the G21 bucket set); "beyond" is open-ended.
BANDS: tuple[tuple[str, str | None], ...] = (
    ("d1", "1D"),
    ("d7", "7D"),
    ("d30", "30D"),
    ("d90", "90D"),
    ("m6", "6M"),
    ("y1", "1Y"),
    ("y5", "5Y"),
    ("y10", "10Y"),
    ("beyond", None),
)

#: HQLA levels (the ``hqla_level_override`` / ``collateral_hqla_level`` codes of positions.md 3.I;
#: the same tuple as ``openalm.data.schema.HQLA_LEVELS``, kept here so that measures do not import
#: the data layer at import time).
HQLA_LEVELS: tuple[str, ...] = ("level_1", "level_2a", "level_2b", "non_hqla")

#: Counterparty classes used by the daily liquidity ladder and the stress tests.
CP_CLASSES: tuple[str, ...] = (
    "retail",
    "small_business",
    "corporate",
    "sovereign",
    "central_bank",
    "bank",
    "other_financial",
    "other",
    "unknown",
)

_CP_CLASS_OF_TYPE = {
    "retail_individual": "retail",
    "small_business": "small_business",
    "non_financial_corporate": "corporate",
    "sovereign": "sovereign",
    "sub_sovereign": "sovereign",
    "pse": "sovereign",
    "mdb": "sovereign",
    "intl_org": "sovereign",
    "central_bank": "central_bank",
    "bank": "bank",
    "securities_firm": "other_financial",
    "insurance": "other_financial",
    "pension_fund": "other_financial",
    "investment_fund": "other_financial",
    "other_financial": "other_financial",
    "fmu": "other_financial",
    "spv": "other_financial",
    "other": "other",
}


def ordered_group_by(df: pl.DataFrame, *keys: str | list[str]) -> Any:
    """``df.group_by(keys)`` whose sums are the same bit for bit in every run.

    A parallel hash ``group_by`` adds a group's values in a thread-dependent order, so float sums
    can differ in the last bit between two runs of the same inputs. Here the rows are first
    sorted by the keys (stable: within a group they keep their order) and the groups are taken
    one after another, so every group is summed in row order.
    """
    flat: list[str] = []
    for k in keys:
        flat.extend([k] if isinstance(k, str) else list(k))
    return df.sort(flat, maintain_order=True, nulls_last=True).group_by(flat, maintain_order=True)


def band_columns(kind: str = "principal") -> list[str]:
    """``principal_d1`` ... ``principal_beyond`` (or ``interest_...``)."""
    return [f"{kind}_{name}" for name, _ in BANDS]


def band_ends(as_of: dt.date) -> list[int]:
    """Upper bound of each band in days after ``as_of`` (the last one a large sentinel)."""
    from openalm.conventions import Tenor, to_day
    from openalm.conventions.dates import add_tenor

    base = to_day(as_of)
    out: list[int] = []
    for _name, tenor in BANDS:
        if tenor is None:
            out.append(10**9)
            continue
        t = Tenor.parse(tenor)
        out.append(add_tenor(base, t.count, int(t.unit), False) - base)
    return out


def cp_class_expr(col: str = "counterparty_type") -> pl.Expr:
    """The counterparty class (:data:`CP_CLASSES`) of a counterparty type column."""
    return pl.col(col).replace_strict(_CP_CLASS_OF_TYPE, default="unknown", return_dtype=pl.String)


_STR = [
    "position_id",
    "reporting_entity_id",
    "branch_id",
    "business_line",
    "product_code",
    "gl_account",
    "counterparty_id",
    "facility_id",
    "deal_id",
    "instrument_type",
    "product_subtype",
    "side",
    "currency",
    "book",
    "accounting_classification",
    "counterparty_type",
    "fi_subtype",
    "counterparty_name",
    "group_id",
    "enterprise_size",
    "external_rating",
    "country_of_residence",
    "cp_class",
    "listing_market",
    "encumbrance_type",
    "collateral_hqla_level",
    "repo_type",
    "asset_quality_class",
    "capital_tier",
    "seniority",
    "derivative_type",
    "call_type",
    "credit_support_type",
    "property_type",
    "behavioural_class",
    "hqla_level_override",
    "lcr_category_override",
    "nsfr_category_override",
]
_F64 = [
    "balance",
    "carrying_amount",
    "fair_value",
    "market_value",
    "accrued_interest",
    "overdue_principal",
    "undrawn_amount",
    "limit_amount",
    "insured_amount",
    "operational_excess_amount",
    "encumbered_amount",
    "collateral_market_value",
    "provision_amount",
    "current_rate",
    "early_withdrawal_rate",
    "ltv",
    "risk_weight",
    "fx_rc",
]
_DAYS = [
    "maturity_days",
    "origination_days",
    "next_call_days",
    "next_withdrawal_days",
    "encumbrance_end_days",
    "notice_period_days",
    "days_past_due",
]
_BOOL = [
    "on_balance_sheet",
    "is_intragroup",
    "is_transactional",
    "is_operational",
    "has_established_relationship",
    "early_withdrawal_allowed",
    "auto_rollover",
    "unconditionally_cancellable",
    "is_central_bank_eligible",
    "hqla_operational_ok",
    "collateral_rehypothecable",
    "is_defaulted",
    "is_centrally_cleared",
    "is_brokered",
    "undated",
    "performing",
]

FRAME_SCHEMA: dict[str, Any] = {"row": pl.UInt32}
FRAME_SCHEMA.update({c: pl.String for c in _STR})
FRAME_SCHEMA.update({c: pl.Float64 for c in _F64})
FRAME_SCHEMA.update({c: pl.Int32 for c in _DAYS})
FRAME_SCHEMA.update({c: pl.Boolean for c in _BOOL})
FRAME_SCHEMA.update({c: pl.Float64 for c in band_columns("principal") + band_columns("interest")})

# defaults of frame_from_records for columns a test record leaves out
_DEFAULTS: dict[str, Any] = {
    "on_balance_sheet": True,
    "currency": "CNY",
    "book": "banking",
    "fx_rc": 1.0,
    "balance": 0.0,
}


def frame_from_records(records: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """A liquidity frame from a few hand-written records (tests, examples).

    Missing columns take their default (``currency = CNY``, ``fx_rc = 1``, ``on_balance_sheet``,
    ``book = banking``, zero flows, else null); ``market_value`` defaults to ``balance``;
    ``cp_class`` is derived from ``counterparty_type``; ``undated`` is true when the record gives
    no flows and no ``maturity_days``; ``performing`` follows the frame's definition unless given.
    A flow may be given by band (``principal_d30=...``) or, for convenience, as
    ``principal_due={days: amount}``, ``interest_due={days: amount}`` together with ``as_of``
    (a date, default 2026-06-30) to place it in its band.
    """
    as_of = dt.date(2026, 6, 30)
    ends = None
    rows: list[dict[str, Any]] = []
    for k, rec in enumerate(records):
        rec = dict(rec)
        if "as_of" in rec:
            as_of = rec.pop("as_of")
        row: dict[str, Any] = {c: _DEFAULTS.get(c) for c in FRAME_SCHEMA}
        for c in band_columns("principal") + band_columns("interest"):
            row[c] = 0.0
        row["row"] = k
        row["position_id"] = f"P{k + 1}"
        for kind in ("principal", "interest"):
            due = rec.pop(f"{kind}_due", None)
            if due:
                ends = ends or band_ends(as_of)
                for days, amount in due.items():
                    b = next(j for j, e in enumerate(ends) if days <= e)
                    row[f"{kind}_{BANDS[b][0]}"] += float(amount)
        unknown = set(rec) - set(FRAME_SCHEMA)
        if unknown:
            raise KeyError(f"frame_from_records: unknown columns {sorted(unknown)}")
        row.update(rec)
        if row["market_value"] is None:
            fv = row["fair_value"]
            row["market_value"] = abs(fv) if fv is not None else (row["carrying_amount"] or row["balance"])
        if "cp_class" not in rec:
            row["cp_class"] = _CP_CLASS_OF_TYPE.get(row["counterparty_type"] or "", "unknown")
        has_flows = any(row[c] for c in band_columns("principal") + band_columns("interest"))
        if "undated" not in rec:
            row["undated"] = not has_flows and row["maturity_days"] is None
        if "performing" not in rec:
            row["performing"] = (
                row["asset_quality_class"] not in ("substandard", "doubtful", "loss")
                and not row["is_defaulted"]
                and (row["days_past_due"] or 0) <= 90
            )
        rows.append(row)
    return pl.DataFrame(rows, schema=FRAME_SCHEMA)
