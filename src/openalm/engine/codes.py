"""Small-integer codes of the enums the kernel reads (positions.md codes in a fixed order)."""

from __future__ import annotations

__all__ = [
    "AMORTISATION_TYPES",
    "INSTRUMENT_TYPES",
    "NOTIONAL_EXCHANGES",
    "RATE_TYPES",
    "SIDES",
]

# positions.md 4.1, in the table's order (the order is part of the group-key encoding)
INSTRUMENT_TYPES: tuple[str, ...] = (
    "cash",
    "central_bank_reserve",
    "central_bank_borrowing",
    "interbank_deposit",
    "interbank_lending",
    "reverse_repo",
    "repo",
    "loan",
    "bill_discount",
    "revolving_credit",
    "deposit_demand",
    "deposit_term",
    "deposit_notice",
    "debt_security",
    "equity_investment",
    "fund_investment",
    "other_asset",
    "other_liability",
    "equity_capital",
    "loan_commitment",
    "guarantee",
    "letter_of_credit",
    "acceptance",
    "derivative_leg",
)
SIDES: tuple[str, ...] = ("asset", "liability", "equity")
RATE_TYPES: tuple[str, ...] = ("fixed", "floating", "administered", "hybrid", "non_interest_bearing")
AMORTISATION_TYPES: tuple[str, ...] = (
    "bullet",
    "annuity",
    "annuity_fixed_payment",
    "linear",
    "schedule",
    "non_maturity",
)
NOTIONAL_EXCHANGES: tuple[str, ...] = ("none", "final", "initial_and_final")

# instrument types with no flows until drawn (behavioural models come later)
OFF_BALANCE_NO_FLOW = frozenset({"loan_commitment", "guarantee", "letter_of_credit", "acceptance"})
# instrument types whose undated rows go to the `undated` bucket with no interest
UNDATED_WHEN_NO_MATURITY = frozenset(
    {"equity_capital", "equity_investment", "fund_investment", "other_asset", "other_liability", "cash"}
)
