"""The input contract of ``positions.md`` as data: every column of every snapshot table.

One declarative table per snapshot table lists each column with its logical type (positions.md
2.1), its required level (R / C / O), the allowed codes of enums and simple value bounds. The
loaders parse cells by these declarations, the validation applies the row rules on top of them,
and the engine relies on the Arrow types they produce.

Arrow type of each logical type after loading (:func:`arrow_type`):

============================================  =====================================
logical type                                  Arrow type in the loaded table
============================================  =====================================
``date``                                      ``date32``
``amount``, ``rate``, ``decimal``             ``float64``
``int``                                       ``int64``
``bool``                                      ``bool``
``string``, ``enum``, ``tenor``, ``ccy``,     ``string`` (UTF-8)
``country``
``map``                                       ``string`` holding a JSON object
============================================  =====================================

Amounts: positions.md 11.4 proposes decimal on disk and float64 in the engine. Decimal columns
(e.g. Parquet ``decimal(38,6)``) are accepted and converted to float64 here; the reconciliation
re-reads and sums the decimals where exactness matters.

Examples
--------
>>> POSITIONS.column("principal_balance").type
<LogicalType.AMOUNT: 'amount'>
>>> "loan" in POSITIONS.column("instrument_type").allowed
True
>>> POSITIONS.required_names[:3]
('as_of_date', 'position_id', 'source_system')
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

import pyarrow as pa

__all__ = [
    "CASH_FLOW_SCHEDULE",
    "COUNTERPARTIES",
    "CURVES",
    "DATED_INSTRUMENTS",
    "DATE_SENTINELS",
    "FX_RATES",
    "GL_ACCOUNT_MAP",
    "GL_BALANCES",
    "INDEX_FIXINGS",
    "INSTRUMENT_SIDES",
    "OFF_BALANCE_INSTRUMENTS",
    "POSITIONS",
    "PRODUCT_SUBTYPES",
    "RATE_INDICES",
    "RATE_PLAUSIBLE_RANGE",
    "RATE_SCHEDULE",
    "TABLES",
    "TABLE_ORDER",
    "Column",
    "Level",
    "LogicalType",
    "TableSchema",
    "arrow_type",
]


class LogicalType(enum.StrEnum):
    """Logical column types of positions.md 2.1."""

    STRING = "string"
    ENUM = "enum"
    DATE = "date"
    AMOUNT = "amount"
    RATE = "rate"
    DECIMAL = "decimal"
    INT = "int"
    BOOL = "bool"
    TENOR = "tenor"
    CCY = "ccy"
    COUNTRY = "country"
    MAP = "map"


class Level(enum.StrEnum):
    """Required level: R always required, C required when a condition holds, O optional."""

    R = "R"
    C = "C"
    O = "O"  # noqa: E741 - the letter used by positions.md


_ARROW: Final[Mapping[LogicalType, pa.DataType]] = MappingProxyType(
    {
        LogicalType.STRING: pa.string(),
        LogicalType.ENUM: pa.string(),
        LogicalType.DATE: pa.date32(),
        LogicalType.AMOUNT: pa.float64(),
        LogicalType.RATE: pa.float64(),
        LogicalType.DECIMAL: pa.float64(),
        LogicalType.INT: pa.int64(),
        LogicalType.BOOL: pa.bool_(),
        LogicalType.TENOR: pa.string(),
        LogicalType.CCY: pa.string(),
        LogicalType.COUNTRY: pa.string(),
        LogicalType.MAP: pa.string(),
    }
)


def arrow_type(logical: LogicalType) -> pa.DataType:
    """Arrow type a column of this logical type has after loading.

    ``date`` -> ``date32``; ``amount``/``rate``/``decimal`` -> ``float64`` (decimal on disk is
    accepted and converted, positions.md 11.4); ``int`` -> ``int64``; ``bool`` -> ``bool``; every
    code-like type -> ``string``; ``map`` -> ``string`` holding a JSON object.
    """
    return _ARROW[logical]


#: Tenor specials allowed in payment / reset frequency columns (``T`` = once, at maturity).
FREQUENCY_SPECIALS: Final = ("T",)
#: Tenor specials allowed in curve pillars and index tenors.
PILLAR_SPECIALS: Final = ("ON", "TN", "SN")


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a snapshot table.

    Parameters
    ----------
    name:
        Column name, exactly as in the file header.
    type:
        Logical type (positions.md 2.1).
    level:
        Required level; the condition of a ``C`` column is in ``condition`` (text) and is
        enforced by :mod:`openalm.data.validation`.
    allowed:
        Allowed codes of an ``enum`` (exact, lower snake_case); for an extensible enum the
        starter list (other snake_case codes are accepted and counted in a warning).
    extensible:
        The enum accepts any snake_case code (``product_subtype``).
    minimum, maximum:
        Inclusive bounds of a numeric column (``amount`` with ``minimum = 0`` is "≥ 0", §2.2).
    tenor_specials:
        Special tenor codes allowed besides ``<n><D|W|M|Y>`` (``T`` or ``ON/TN/SN``).
    condition:
        Text of the condition of a ``C`` column.
    """

    name: str
    type: LogicalType
    level: Level
    allowed: tuple[str, ...] = ()
    extensible: bool = False
    minimum: float | None = None
    maximum: float | None = None
    tenor_specials: tuple[str, ...] = ()
    condition: str = ""

    @property
    def arrow_type(self) -> pa.DataType:
        """Arrow type of the column after loading."""
        return arrow_type(self.type)


@dataclass(frozen=True)
class TableSchema:
    """A snapshot table: its name (the file stem), its columns and its key.

    Parameters
    ----------
    name:
        Table name and file stem (``positions`` -> ``positions.csv`` / ``.parquet`` / ``.xlsx``).
    columns:
        Every column of the contract, in contract order.
    key:
        Columns that identify a row; rows sharing a key are all rejected (``duplicate_key``).
    has_as_of:
        The table carries ``as_of_date`` that must equal the run's as-of.
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    has_as_of: bool = True

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(names) != len(set(names)):
            raise AssertionError(f"duplicate column in schema {self.name}")
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})

    @functools.cached_property
    def names(self) -> tuple[str, ...]:
        """All column names in contract order."""
        return tuple(c.name for c in self.columns)

    @property
    def required_names(self) -> tuple[str, ...]:
        """Names of the ``R`` columns (a file lacking one cannot be used)."""
        return tuple(c.name for c in self.columns if c.level is Level.R)

    def column(self, name: str) -> Column:
        """The column called ``name`` (``KeyError`` if the contract has none)."""
        by_name: dict[str, Column] = self._by_name  # type: ignore[attr-defined]
        return by_name[name]

    def __contains__(self, name: object) -> bool:
        by_name: dict[str, Column] = self._by_name  # type: ignore[attr-defined]
        return name in by_name

    def arrow_schema(self) -> pa.Schema:
        """Arrow schema of the loaded table (every contract column, without ``source_row``)."""
        return pa.schema([pa.field(c.name, c.arrow_type) for c in self.columns])


# --------------------------------------------------------------------------------------------
# Code lists (positions.md sections 2 and 4)
# --------------------------------------------------------------------------------------------

#: positions.md 4.1: instrument type -> sides allowed.
INSTRUMENT_SIDES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "cash": ("asset",),
        "central_bank_reserve": ("asset",),
        "central_bank_borrowing": ("liability",),
        "interbank_deposit": ("asset", "liability"),
        "interbank_lending": ("asset", "liability"),
        "reverse_repo": ("asset",),
        "repo": ("liability",),
        "loan": ("asset",),
        "bill_discount": ("asset",),
        "revolving_credit": ("asset",),
        "deposit_demand": ("liability",),
        "deposit_term": ("liability",),
        "deposit_notice": ("liability",),
        "debt_security": ("asset", "liability"),
        "equity_investment": ("asset",),
        "fund_investment": ("asset",),
        "other_asset": ("asset",),
        "other_liability": ("liability",),
        "equity_capital": ("equity",),
        "loan_commitment": ("asset", "liability"),
        "guarantee": ("asset",),
        "letter_of_credit": ("asset",),
        "acceptance": ("asset",),
        "derivative_leg": ("asset", "liability"),
    }
)

#: positions.md 4.1 "On-BS = no": these rows must have ``on_balance_sheet = false``; every other
#: instrument type must have ``true``.
OFF_BALANCE_INSTRUMENTS: Final = frozenset(
    {"loan_commitment", "guarantee", "letter_of_credit", "acceptance", "derivative_leg"}
)

#: Instruments with a contractual maturity: ``maturity_date`` and ``origination_date`` are required
#: unless ``amortisation_type = non_maturity`` (positions.md 3.D, 4.1).
DATED_INSTRUMENTS: Final = frozenset(
    {
        "loan",
        "deposit_term",
        "interbank_lending",
        "repo",
        "reverse_repo",
        "debt_security",
        "bill_discount",
        "central_bank_borrowing",
        "derivative_leg",
    }
)

#: positions.md 4.2 starter list; other snake_case codes are accepted with a counted warning.
PRODUCT_SUBTYPES: Final = (
    # central_bank_reserve
    "required_reserve",
    "excess_reserve",
    "other_cb_deposit",
    # interbank_*
    "nostro",
    "vostro",
    "call",
    "term",
    "interbank_loan",
    "settlement",
    # loan
    "mortgage_residential",
    "commercial_real_estate",
    "consumer",
    "individual_business",
    "working_capital",
    "fixed_asset",
    "project_finance",
    "trade_finance",
    "syndicated",
    "finance_lease",
    "advance",
    "on_lending",
    # revolving_credit
    "overdraft",
    "credit_card",
    "revolving_loan",
    # deposit_*
    "savings",
    "corporate_settlement",
    "agreement_deposit",
    "large_cd",
    "structured",
    "margin_deposit",
    "fiscal",
    "escrow",
    # debt_security
    "government_bond",
    "central_bank_bill",
    "policy_bank_bond",
    "local_government_bond",
    "financial_bond",
    "ncd",
    "corporate_bond",
    "mtn",
    "commercial_paper",
    "abs",
    "covered_bond",
    "subordinated_bond",
    "perpetual_bond",
    "convertible",
    # fund_investment
    "money_market_fund",
    "bond_fund",
    "other_fund",
    "asset_mgmt_plan",
    "trust_plan",
    # loan_commitment
    "credit_facility",
    "liquidity_facility",
    "overdraft_line",
    "card_line",
    # guarantee
    "financial_guarantee",
    "performance_guarantee",
    "standby_lc",
)

#: positions.md 2.5: "none" sentinels written by core systems; loaded as null. The ISO spellings
#: of the same dates are treated alike.
DATE_SENTINELS: Final = ("99991231", "20991231", "19000101", "00000000")

#: positions.md 10 rule 7: plausible annual decimal rates; outside -> "looks like percent".
RATE_PLAUSIBLE_RANGE: Final = (-0.05, 0.50)

SIDES: Final = ("asset", "liability", "equity")
DAY_COUNTS: Final = (
    "act_360",
    "act_365f",
    "act_act_isda",
    "act_act_icma",
    "30_360_us",
    "30e_360",
    "30e_360_isda",
    "30_365",
    "bus_252",
)
AMORTISATION_TYPES: Final = (
    "bullet",
    "annuity",
    "annuity_fixed_payment",
    "linear",
    "schedule",
    "non_maturity",
)
RATE_TYPES: Final = ("fixed", "floating", "administered", "hybrid", "non_interest_bearing")
BUSINESS_DAY_CONVENTIONS: Final = (
    "none",
    "following",
    "modified_following",
    "preceding",
    "modified_preceding",
)
HQLA_LEVELS: Final = ("level_1", "level_2a", "level_2b", "non_hqla")
COUNTERPARTY_TYPES: Final = (
    "retail_individual",
    "small_business",
    "non_financial_corporate",
    "sovereign",
    "central_bank",
    "sub_sovereign",
    "pse",
    "mdb",
    "intl_org",
    "bank",
    "securities_firm",
    "insurance",
    "pension_fund",
    "investment_fund",
    "other_financial",
    "fmu",
    "spv",
    "other",
)
#: Counterparty types for which ``fi_subtype`` is expected (positions.md 5.1, "financial types").
FINANCIAL_COUNTERPARTY_TYPES: Final = frozenset(
    {"bank", "securities_firm", "insurance", "pension_fund", "investment_fund", "other_financial", "fmu"}
)

# --------------------------------------------------------------------------------------------
# Column constructors (keep the tables below one line per column)
# --------------------------------------------------------------------------------------------

_T = LogicalType
_R, _C, _O = Level.R, Level.C, Level.O


def _col(name: str, type_: LogicalType, level: Level, condition: str = "", **kw: object) -> Column:
    return Column(name, type_, level, condition=condition, **kw)  # type: ignore[arg-type]


def _enum(name: str, level: Level, allowed: tuple[str, ...], condition: str = "") -> Column:
    return Column(name, LogicalType.ENUM, level, allowed=allowed, condition=condition)


def _amount(name: str, level: Level, condition: str = "", *, signed: bool = False) -> Column:
    return Column(name, LogicalType.AMOUNT, level, minimum=None if signed else 0.0, condition=condition)


def _freq(name: str, level: Level, condition: str = "") -> Column:
    return Column(name, LogicalType.TENOR, level, tenor_specials=FREQUENCY_SPECIALS, condition=condition)


# --------------------------------------------------------------------------------------------
# positions (section 3)
# --------------------------------------------------------------------------------------------

_POSITIONS_COLUMNS: tuple[Column, ...] = (
    # 3.A identity, organisation, links
    _col("as_of_date", _T.DATE, _R),
    _col("position_id", _T.STRING, _R),
    _col("source_system", _T.STRING, _R),
    _col("reporting_entity_id", _T.STRING, _R),
    _col("branch_id", _T.STRING, _R),
    _col("business_line", _T.STRING, _O),
    _col("product_code", _T.STRING, _R),
    _col("gl_account", _T.STRING, _C, "on-balance rows"),
    _col("cost_center", _T.STRING, _O),
    _col("counterparty_id", _T.STRING, _C, "all except cash, other_*, equity_capital, issued securities"),
    _col("contract_id", _T.STRING, _O),
    _col("facility_id", _T.STRING, _O),
    _col("deal_id", _T.STRING, _C, "derivative legs and other multi-row deals"),
    _col("linked_position_id", _T.STRING, _O),
    _col("netting_set_id", _T.STRING, _O),
    # 3.B classification
    _enum("instrument_type", _R, tuple(INSTRUMENT_SIDES)),
    Column("product_subtype", _T.ENUM, _O, allowed=PRODUCT_SUBTYPES, extensible=True),
    _enum("side", _R, SIDES),
    _col("on_balance_sheet", _T.BOOL, _R),
    _col("currency", _T.CCY, _R),
    _enum("book", _R, ("banking", "trading")),
    _enum(
        "accounting_classification",
        _C,
        ("amortised_cost", "fvoci", "fvtpl", "not_applicable"),
        "securities, loans held for sale",
    ),
    # 3.C amounts and valuation
    _amount("principal_balance", _R),
    _amount("original_amount", _O),
    _amount("accrued_interest", _O, signed=True),  # negative only with a negative rate (§2.2)
    _amount("carrying_amount", _O),
    _amount("fair_value", _C, "derivatives; FV-measured securities", signed=True),
    _col("clean_price", _T.DECIMAL, _O),
    _amount("provision_amount", _O),
    _amount("overdue_principal", _O),
    _amount("overdue_interest", _O),
    _amount("undrawn_amount", _C, "loan_commitment; revolving_credit with committed limit"),
    _amount("limit_amount", _O),
    _amount("installment_amount", _O),
    # 3.D dates and term
    _col("origination_date", _T.DATE, _C, "dated instruments"),
    _col("trade_date", _T.DATE, _O),
    _col("maturity_date", _T.DATE, _C, "dated instruments unless non_maturity"),
    _col("original_maturity_date", _T.DATE, _O),
    _col("next_interest_payment_date", _T.DATE, _C, "periodic interest"),
    _col("last_interest_payment_date", _T.DATE, _O),
    _col("next_principal_payment_date", _T.DATE, _C, "annuity, linear"),
    _col("interest_only_end_date", _T.DATE, _O),
    _col("amortisation_term_months", _T.INT, _O, minimum=1),
    # 3.E interest terms
    _enum("rate_type", _R, RATE_TYPES),
    _col("current_rate", _T.RATE, _C, "interest-bearing"),
    _enum("day_count", _C, DAY_COUNTS, "interest-bearing"),
    _enum("interest_timing", _O, ("arrears", "advance", "set_in_arrears")),
    _col("interest_capitalised", _T.BOOL, _O),
    _col("rate_index", _T.STRING, _C, "floating, hybrid"),
    _col("spread", _T.RATE, _C, "floating, hybrid"),
    _col("rate_multiplier", _T.DECIMAL, _O),
    _freq("reset_frequency", _C, "floating, hybrid"),
    _col("next_reset_date", _T.DATE, _C, "floating, hybrid"),
    _col("last_reset_date", _T.DATE, _O),
    _col("reset_lag_days", _T.INT, _O),
    _enum("rate_averaging", _O, ("single_fixing", "compounded_in_arrears", "simple_average")),
    _col("rate_cap", _T.RATE, _O),
    _col("rate_floor", _T.RATE, _O),
    _col("periodic_cap", _T.RATE, _O, minimum=0.0),
    _col("periodic_floor", _T.RATE, _O, minimum=0.0),
    _col("initial_rate_end_date", _T.DATE, _O),
    _col("reversion_rate", _T.RATE, _O),
    # 3.F payments and amortisation
    _enum("amortisation_type", _R, AMORTISATION_TYPES),
    _freq("interest_payment_frequency", _C, "interest-bearing"),
    _freq("principal_payment_frequency", _C, "annuity, linear"),
    _enum("business_day_convention", _O, BUSINESS_DAY_CONVENTIONS),
    _col("holiday_calendar", _T.STRING, _O),
    _col("end_of_month_rule", _T.BOOL, _O),
    # 3.G optionality and behaviour
    _col("behavioural_class", _T.STRING, _O),
    _col("behavioural_maturity_date", _T.DATE, _O),
    _col("prepayment_allowed", _T.BOOL, _O),
    _enum("prepayment_penalty_type", _O, ("none", "fixed_amount", "percent_of_balance", "rate_differential")),
    _col("early_withdrawal_allowed", _T.BOOL, _O),
    _col("early_withdrawal_rate", _T.RATE, _O),
    _col("notice_period_days", _T.INT, _C, "deposit_notice", minimum=0),
    _col("next_withdrawal_date", _T.DATE, _O),
    _col("auto_rollover", _T.BOOL, _O),
    _enum("call_type", _O, ("none", "issuer", "holder", "both")),
    _col("next_call_date", _T.DATE, _C, "call_type other than none"),
    _enum(
        "maturity_optionality",
        _O,
        ("none", "evergreen", "extendible", "accelerated_counterparty", "accelerated_bank"),
    ),
    # 3.H deposit and funding attributes
    _col("is_transactional", _T.BOOL, _C, "retail / small-business deposits"),
    _col("has_established_relationship", _T.BOOL, _O),
    _col("is_operational", _T.BOOL, _O),
    _amount("operational_excess_amount", _O),
    _amount("insured_amount", _O),
    _col("is_brokered", _T.BOOL, _O),
    # 3.I securities and HQLA
    _col("security_id", _T.STRING, _C, "debt_security, equity_investment, fund_investment"),
    _enum("listing_market", _O, ("cn_interbank", "cn_exchange", "foreign_listed", "otc", "unlisted")),
    _col("is_central_bank_eligible", _T.BOOL, _O),
    _col("hqla_operational_ok", _T.BOOL, _O),
    _amount("encumbered_amount", _O),
    _enum(
        "encumbrance_type",
        _C,
        (
            "repo",
            "central_bank",
            "derivative_margin",
            "covered_bond",
            "securitisation",
            "deposit_collateral",
            "other",
        ),
        "encumbered_amount > 0",
    ),
    _col("encumbrance_end_date", _T.DATE, _C, "encumbered_amount > 0"),
    _enum("seniority", _O, ("senior_secured", "senior_unsecured", "subordinated", "equity")),
    _enum("capital_tier", _O, ("none", "cet1", "at1", "t2", "tlac_eligible")),
    # 3.J secured financing and collateral
    _col("collateral_security_id", _T.STRING, _C, "repo, reverse_repo"),
    _amount("collateral_market_value", _C, "repo, reverse_repo"),
    _col("collateral_currency", _T.CCY, _O),
    _enum("collateral_hqla_level", _C, HQLA_LEVELS, "repo, reverse_repo"),
    _enum("repo_type", _O, ("pledged", "outright", "triparty")),
    _col("collateral_rehypothecable", _T.BOOL, _O),
    _enum(
        "credit_support_type",
        _C,
        ("unsecured", "guaranteed", "mortgage", "pledge", "mixed"),
        "loans of CN entities",
    ),
    _amount("collateral_value", _O),
    _col("ltv", _T.DECIMAL, _C, "real-estate-secured loans", minimum=0.0),
    _enum("property_type", _C, ("residential", "commercial", "land", "none"), "real-estate-secured loans"),
    _col("is_income_producing_re", _T.BOOL, _O),
    # 3.K off-balance-sheet items
    _col("unconditionally_cancellable", _T.BOOL, _C, "loan_commitment, revolving_credit"),
    # 3.L derivatives
    _enum(
        "derivative_type",
        _C,
        (
            "irs",
            "ois",
            "basis_swap",
            "ccs",
            "fx_forward",
            "fx_swap",
            "fx_spot",
            "fra",
            "cap",
            "floor",
            "swaption",
            "bond_forward",
            "ir_future",
            "other_option",
        ),
        "derivative_leg",
    ),
    _enum("notional_exchange", _C, ("none", "final", "initial_and_final"), "derivative_leg"),
    _amount("initial_exchange_amount", _O),
    _col("strike", _T.DECIMAL, _C, "caps, floors, options"),
    _col("is_centrally_cleared", _T.BOOL, _O),
    _enum("hedge_designation", _O, ("none", "fair_value", "cash_flow", "net_investment", "economic")),
    _col("hedge_id", _T.STRING, _O),
    # 3.M credit quality
    _enum(
        "asset_quality_class",
        _C,
        ("normal", "special_mention", "substandard", "doubtful", "loss"),
        "credit exposures of CN entities",
    ),
    _col("ifrs9_stage", _T.INT, _O, minimum=1, maximum=3),
    _col("days_past_due", _T.INT, _O, minimum=0),
    _col("is_defaulted", _T.BOOL, _O),
    _col("is_restructured", _T.BOOL, _O),
    _enum("accrual_status", _O, ("accrual", "non_accrual")),
    _col("is_transactor", _T.BOOL, _O),
    _col("loan_purpose", _T.STRING, _O),
    # 3.N funds transfer pricing
    _col("ftp_rate", _T.RATE, _O),
    _enum(
        "ftp_method_override",
        _O,
        (
            "matched_maturity",
            "repricing_term",
            "cash_flow_weighted",
            "duration",
            "nmd_pool",
            "moving_average",
            "none",
        ),
    ),
    # 3.O lineage and extension
    _col("pool_count", _T.INT, _O, minimum=1),
    _col("attributes", _T.MAP, _O),
    # 3.P regulatory overrides
    _enum("hqla_level_override", _O, HQLA_LEVELS),
    _col("lcr_category_override", _T.STRING, _O),
    _col("nsfr_category_override", _T.STRING, _O),
    _enum(
        "exposure_class_override",
        _O,
        (
            "sovereign",
            "pse",
            "mdb",
            "bank",
            "securities_firm",
            "corporate",
            "sme_corporate",
            "retail",
            "residential_re",
            "commercial_re",
            "land_adc",
            "subordinated",
            "equity",
            "other",
        ),
    ),
    _col("risk_weight_override", _T.DECIMAL, _O, minimum=0.0, maximum=12.5),
    _col("ccf_override", _T.DECIMAL, _O, minimum=0.0, maximum=1.0),
)

POSITIONS: Final = TableSchema("positions", _POSITIONS_COLUMNS, key=("reporting_entity_id", "position_id"))

# --------------------------------------------------------------------------------------------
# Companion tables (section 5)
# --------------------------------------------------------------------------------------------

COUNTERPARTIES: Final = TableSchema(
    "counterparties",
    (
        _col("as_of_date", _T.DATE, _R),
        _col("counterparty_id", _T.STRING, _R),
        _col("name", _T.STRING, _O),
        _enum("counterparty_type", _R, COUNTERPARTY_TYPES),
        _enum(
            "fi_subtype",
            _C,
            (
                "policy_bank",
                "large_commercial_bank",
                "joint_stock_bank",
                "city_commercial_bank",
                "rural_bank",
                "foreign_bank",
                "trust",
                "securities",
                "insurance",
                "fund_manager",
                "finance_company",
                "financial_leasing",
                "consumer_finance",
                "auto_finance",
                "amc",
                "ccp",
                "other",
            ),
            "financial types",
        ),
        _col("cn_sector_code", _T.STRING, _O),
        _col("industry_code", _T.STRING, _O),
        _enum("enterprise_size", _C, ("large", "medium", "small", "micro"), "corporates of CN entities"),
        _amount("annual_turnover", _O, signed=True),
        _amount("total_assets", _O, signed=True),
        _col("financials_currency", _T.CCY, _C, "turnover or assets given"),
        _col("country_of_residence", _T.COUNTRY, _R),
        _col("country_of_risk", _T.COUNTRY, _O),
        _col("lei", _T.STRING, _O),
        _col("national_id", _T.STRING, _O),
        # "e.g. uscc, tin, other": an open list, so any snake_case code is accepted.
        Column("national_id_type", _T.ENUM, _O, allowed=("uscc", "tin", "other"), extensible=True),
        _col("parent_id", _T.STRING, _O),
        _col("ultimate_parent_id", _T.STRING, _O),
        _col("group_id", _T.STRING, _O),
        _col("is_intragroup", _T.BOOL, _O),
        _col("is_related_party", _T.BOOL, _O),
        _col("has_established_relationship", _T.BOOL, _O),
        _col("external_rating", _T.STRING, _O),
        _col("rating_agency", _T.STRING, _O),
        _col("credit_quality_step", _T.INT, _O, minimum=1, maximum=6),
        _enum("scra_grade", _O, ("a_plus", "a", "b", "c")),
        _col("internal_rating", _T.STRING, _O),
        _col("pd", _T.DECIMAL, _O, minimum=0.0, maximum=1.0),
        _col("is_defaulted", _T.BOOL, _O),
        _col("is_gsib", _T.BOOL, _O),
        _col("is_qualifying_ccp", _T.BOOL, _O),
    ),
    key=("counterparty_id",),
)

CURVE_TYPES: Final = (
    "zero",
    "par",
    "discount_factor",
    "forward",
    "spread",
    "ftp_base",
    "ftp_liquidity_premium",
)

CURVES: Final = TableSchema(
    "curves",
    (
        _col("as_of_date", _T.DATE, _R),
        _col("curve_id", _T.STRING, _R),
        _col("currency", _T.CCY, _R),
        _enum("curve_type", _R, CURVE_TYPES),
        Column("tenor", _T.TENOR, _R, tenor_specials=PILLAR_SPECIALS),
        _col("tenor_date", _T.DATE, _O),
        _col("value", _T.DECIMAL, _R),
        _enum("compounding", _C, ("continuous", "annual", "semi_annual", "quarterly", "simple"), "rate curves"),
        _enum("day_count", _C, DAY_COUNTS, "rate curves"),
        _enum("interpolation", _O, ("linear_zero", "log_linear_df", "flat_forward", "monotone_cubic")),
        _col("source", _T.STRING, _O),
    ),
    key=("curve_id", "tenor"),
)

FX_RATES: Final = TableSchema(
    "fx_rates",
    (
        _col("as_of_date", _T.DATE, _R),
        _col("base_currency", _T.CCY, _R),
        _col("quote_currency", _T.CCY, _R),
        _col("rate", _T.DECIMAL, _R),
        _enum("rate_type", _R, ("closing", "official_fixing", "average")),
        _col("source", _T.STRING, _O),
    ),
    key=("base_currency", "quote_currency", "rate_type"),
)

RATE_INDICES: Final = TableSchema(
    "rate_indices",
    (
        _col("index_code", _T.STRING, _R),
        _col("currency", _T.CCY, _R),
        _enum(
            "family",
            _O,
            (
                "lpr",
                "shibor",
                "fr",
                "dr",
                "pboc_benchmark",
                "hibor",
                "sofr",
                "estr",
                "euribor",
                "sonia",
                "tona",
                "bond_yield",
                "other",
            ),
        ),
        Column("tenor", _T.TENOR, _O, tenor_specials=PILLAR_SPECIALS),
        _enum("day_count", _O, DAY_COUNTS),
        _col("fixing_lag_days", _T.INT, _O),
        _col("fixing_calendar", _T.STRING, _O),
        _col("is_overnight_rfr", _T.BOOL, _O),
        _col("is_administered", _T.BOOL, _O),
        _col("projection_curve_id", _T.STRING, _O),
        _col("publication_rule", _T.STRING, _O),
        _col("description", _T.STRING, _O),
    ),
    key=("index_code",),
    has_as_of=False,
)

INDEX_FIXINGS: Final = TableSchema(
    "index_fixings",
    (
        _col("index_code", _T.STRING, _R),
        _col("fixing_date", _T.DATE, _R),
        _col("value", _T.RATE, _R),
        _col("source", _T.STRING, _O),
    ),
    key=("index_code", "fixing_date"),
    has_as_of=False,
)

GL_BALANCES: Final = TableSchema(
    "gl_balances",
    (
        _col("as_of_date", _T.DATE, _R),
        _col("reporting_entity_id", _T.STRING, _R),
        _col("branch_id", _T.STRING, _O),
        _col("gl_account", _T.STRING, _R),
        _col("currency", _T.CCY, _R),
        _amount("balance", _R, signed=True),
        _col("description", _T.STRING, _O),
    ),
    key=("reporting_entity_id", "branch_id", "gl_account", "currency"),
)

GL_ACCOUNT_MAP: Final = TableSchema(
    "gl_account_map",
    (
        _col("gl_account", _T.STRING, _R),
        _enum(
            "measure",
            _R,
            (
                "principal_balance",
                "accrued_interest",
                "provision_amount",
                "fair_value",
                "carrying_amount",
                "undrawn_amount",
                "none",
            ),
        ),
        _col("sign", _T.INT, _R, minimum=-1, maximum=1),
        _col("balance_sheet_line", _T.STRING, _O),
        _col("in_scope", _T.BOOL, _O),
        _amount("tolerance_abs", _O),
        _col("tolerance_rel", _T.DECIMAL, _O, minimum=0.0),
    ),
    key=("gl_account",),
    has_as_of=False,
)

CASH_FLOW_SCHEDULE: Final = TableSchema(
    "cash_flow_schedule",
    (
        _col("as_of_date", _T.DATE, _R),
        _col("position_id", _T.STRING, _R),
        _col("flow_date", _T.DATE, _R),
        _enum("flow_type", _R, ("principal", "interest", "fee", "notional_exchange", "drawdown")),
        _amount("amount", _R),
        _col("currency", _T.CCY, _O),
        _col("accrual_start_date", _T.DATE, _O),
        _col("accrual_end_date", _T.DATE, _O),
        _col("period_rate", _T.RATE, _O),
        _col("is_amount_fixed", _T.BOOL, _O),
    ),
)

RATE_SCHEDULE: Final = TableSchema(
    "rate_schedule",
    (
        _col("as_of_date", _T.DATE, _R),
        _col("position_id", _T.STRING, _R),
        _col("effective_date", _T.DATE, _R),
        _col("new_rate", _T.RATE, _O),
        _col("new_spread", _T.RATE, _O),
        _enum("new_rate_type", _O, RATE_TYPES),
    ),
    key=("position_id", "effective_date"),
)

#: Every snapshot table by name (= file stem), in the order they are read and reported.
TABLES: Final[Mapping[str, TableSchema]] = MappingProxyType(
    {
        t.name: t
        for t in (
            POSITIONS,
            COUNTERPARTIES,
            CURVES,
            FX_RATES,
            RATE_INDICES,
            INDEX_FIXINGS,
            CASH_FLOW_SCHEDULE,
            RATE_SCHEDULE,
            GL_BALANCES,
            GL_ACCOUNT_MAP,
        )
    }
)
TABLE_ORDER: Final = tuple(TABLES)
