"""The contract as data: columns, types, levels and code lists of positions.md."""

from __future__ import annotations

import pyarrow as pa
import pytest

from openalm.data import POSITIONS, TABLES, Level, LogicalType, arrow_type
from openalm.data.schema import DATED_INSTRUMENTS, INSTRUMENT_SIDES, OFF_BALANCE_INSTRUMENTS

# positions.md section 10: the minimal first extract must all be contract columns.
MINIMAL_EXTRACT = [
    "as_of_date", "position_id", "source_system", "reporting_entity_id", "branch_id", "product_code",
    "gl_account", "counterparty_id", "instrument_type", "side", "on_balance_sheet", "currency", "book",
    "principal_balance", "accrued_interest", "origination_date", "maturity_date", "rate_type", "current_rate",
    "day_count", "amortisation_type", "interest_payment_frequency", "principal_payment_frequency",
    "next_interest_payment_date", "next_principal_payment_date", "rate_index", "spread", "reset_frequency",
    "next_reset_date", "overdue_principal", "asset_quality_class", "undrawn_amount",
]  # fmt: skip


def test_minimal_extract_columns_are_in_the_contract() -> None:
    missing = [c for c in MINIMAL_EXTRACT if c not in POSITIONS]
    assert missing == []


def test_positions_has_every_section_3_group() -> None:
    # one column from each of 3.A .. 3.P
    for name in [
        "netting_set_id", "accounting_classification", "installment_amount", "amortisation_term_months",
        "reversion_rate", "end_of_month_rule", "maturity_optionality", "is_brokered", "capital_tier",
        "is_income_producing_re", "unconditionally_cancellable", "hedge_id", "loan_purpose",
        "ftp_method_override", "attributes", "ccf_override",
    ]:  # fmt: skip
        assert name in POSITIONS
    assert len(POSITIONS.columns) > 120


def test_required_columns_of_positions() -> None:
    assert set(POSITIONS.required_names) == {
        "as_of_date", "position_id", "source_system", "reporting_entity_id", "branch_id", "product_code",
        "instrument_type", "side", "on_balance_sheet", "currency", "book", "principal_balance", "rate_type",
        "amortisation_type",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("logical", "expected"),
    [
        (LogicalType.DATE, pa.date32()),
        (LogicalType.AMOUNT, pa.float64()),
        (LogicalType.RATE, pa.float64()),
        (LogicalType.DECIMAL, pa.float64()),
        (LogicalType.INT, pa.int64()),
        (LogicalType.BOOL, pa.bool_()),
        (LogicalType.ENUM, pa.string()),
        (LogicalType.TENOR, pa.string()),
        (LogicalType.CCY, pa.string()),
        (LogicalType.COUNTRY, pa.string()),
        (LogicalType.MAP, pa.string()),
        (LogicalType.STRING, pa.string()),
    ],
)
def test_arrow_type_of_each_logical_type(logical: LogicalType, expected: pa.DataType) -> None:
    assert arrow_type(logical) == expected


def test_enum_code_lists() -> None:
    assert POSITIONS.column("day_count").allowed == (
        "act_360", "act_365f", "act_act_isda", "act_act_icma", "30_360_us", "30e_360", "30e_360_isda",
        "30_365", "bus_252",
    )  # fmt: skip
    assert set(POSITIONS.column("amortisation_type").allowed) == {
        "bullet", "annuity", "annuity_fixed_payment", "linear", "schedule", "non_maturity",
    }  # fmt: skip
    assert POSITIONS.column("side").allowed == ("asset", "liability", "equity")
    assert len(POSITIONS.column("instrument_type").allowed) == 24
    assert POSITIONS.column("product_subtype").extensible
    assert "mortgage_residential" in POSITIONS.column("product_subtype").allowed


def test_every_enum_has_codes_and_every_code_is_snake_case() -> None:
    for table in TABLES.values():
        for column in table.columns:
            if column.type is LogicalType.ENUM:
                assert column.allowed, (table.name, column.name)
                for code in column.allowed:
                    assert code == code.lower() and " " not in code, (table.name, column.name, code)


def test_instrument_rules_are_consistent() -> None:
    assert set(INSTRUMENT_SIDES) == set(POSITIONS.column("instrument_type").allowed)
    assert INSTRUMENT_SIDES["deposit_demand"] == ("liability",)
    assert INSTRUMENT_SIDES["equity_capital"] == ("equity",)
    assert set(INSTRUMENT_SIDES["interbank_lending"]) == {"asset", "liability"}
    assert set(INSTRUMENT_SIDES) >= OFF_BALANCE_INSTRUMENTS
    assert set(INSTRUMENT_SIDES) >= DATED_INSTRUMENTS


def test_companion_tables() -> None:
    assert set(TABLES) == {
        "positions", "counterparties", "curves", "fx_rates", "rate_indices", "index_fixings",
        "cash_flow_schedule", "rate_schedule", "gl_balances", "gl_account_map",
    }  # fmt: skip
    assert TABLES["curves"].column("tenor").tenor_specials == ("ON", "TN", "SN")
    assert TABLES["fx_rates"].column("rate_type").allowed == ("closing", "official_fixing", "average")
    assert TABLES["cash_flow_schedule"].column("amount").minimum == 0
    assert TABLES["counterparties"].column("counterparty_type").level is Level.R
    assert not TABLES["rate_indices"].has_as_of


def test_arrow_schema_lists_every_column() -> None:
    schema = POSITIONS.arrow_schema()
    assert schema.names == list(POSITIONS.names)
    assert schema.field("maturity_date").type == pa.date32()
