"""Reading FIRE JSON records into the snapshot tables of the input contract (positions.md section 6).

FIRE, the Financial Regulatory data standard (``SuadeLabs/fire``), describes a bank's book as JSON
records: one per loan, account, security or derivative leg, plus customers and issuers, curves,
exchange rates and cash flows. :func:`read_fire` reads one JSON file or a folder of them,
validates every record against its FIRE JSON schema (the schemas ship in
``openalm/rules/fire_schemas``; their ``$ref`` URLs are resolved to those files, never fetched)
and maps each record onto the canonical tables (``positions``, ``counterparties``,
``cash_flow_schedule``, ``curves``, ``fx_rates``) as Arrow tables that
:func:`openalm.data.loaders.parse_arrow_table` parses like any other snapshot file.

Every record ends in exactly one of three states, so ``read = mapped + rejected + skipped``:

* **mapped**: it produced rows (a repo's asset leg counts as mapped: it is folded into the row
  of its cash leg);
* **rejected**: it cannot be used; each problem is a :class:`~openalm.data.rejects.Reject` naming
  the JSON file, the record number (1-based, in file order), the FIRE field at fault, its value,
  a ``fire_*`` reason code (:data:`FIRE_REASONS`) and what OpenALM would need;
* **skipped**: it is not a position (``pnl`` / ``oci`` accounts, index and reference securities,
  loan transactions), its table is not in the contract yet (agreements, collateral) or it is a
  settled past cash flow. Skips are listed in :attr:`FireResult.skipped` with their reason.

The FIRE pitfalls of positions.md 6.7 and how they are handled:

* **Minor units.** FIRE monetary fields are integers in minor units: divided by
  ``10 ** e`` with ``e`` the ISO 4217 exponent of the currency (:func:`minor_unit_exponent`:
  CNY / USD / EUR / GBP 2, JPY / KRW 0, KWD / BHD 3). The absolute value is taken (some FIRE
  records carry negative balances), the direction comes from ``asset_liability`` / ``position``;
  each record with a negative amount is counted in :attr:`FireResult.warnings`. Only
  ``fair_value`` stays signed.
* **Percent rates.** ``rate``, ``reversion_rate``, ``lifetime_rate_cap`` / ``_floor``, cash-flow
  ``forward_rate`` and curve values are percentages in FIRE (3.5 means 3.5 %) and are divided by
  100; ``spread`` is integer basis points, divided by 10,000. :attr:`FireSettings.rates_in`
  chooses per source: ``percent``, ``decimal`` or ``auto``. In ``auto`` the rates of one *source
  group* (one file and one record kind) are read as decimals when every non-zero one is below
  :attr:`FireSettings.auto_decimal_below` (0.1: a whole file of percentages below 0.1 % is
  implausible), else all as percent, so one source is never read half one way, half the other.
  The FIRE examples' IRS legs (``rate: 0.01``, ``0.0025``) are so read as 1 % and 0.25 %; each
  record read as decimal is counted. The rule misreads a book whose rates really are all below
  0.1 % (JPY deposits): set ``rates_in = percent`` for such a source. With ``percent`` the rates
  below the threshold are counted as suspicious. Only interest rates take part: a future's price
  or an option premium in ``rate`` is neither converted nor counted. Out-of-range results are
  left to the contract's plausibility rule (``implausible_rate``).
* **Balances with accrued interest.** A security's ``balance`` includes accrued interest: the
  principal is ``|balance| - |accrued_interest|`` (a negative result is rejected). A derivative
  leg's principal is its ``notional_amount``. Loans follow
  :attr:`FireSettings.loan_balance_includes_accrued` (subtracting ``accrued_interest_balance``).
* **Two-record repos.** Security records with ``sft_type`` repo / rev_repo (and sell_buy_back /
  buy_sell_back, term_funding_scheme) come as a cash leg (``movement = cash``) and an asset leg
  (``movement = asset``). They are paired on (``deal_id``, ``sft_type``); legs without
  ``deal_id`` are paired by the id rule :attr:`FireSettings.repo_leg_id_pattern` (``repo_cash_leg``
  and ``repo_asset_leg`` form deal ``repo``). The pair becomes one repo / reverse_repo row from the
  cash leg with ``collateral_security_id``, ``collateral_market_value`` (absolute asset-leg
  ``mtm_dirty``), ``collateral_currency``, ``collateral_hqla_level`` and
  ``collateral_rehypothecable`` from the asset leg. A cash leg without asset leg still gives its
  row (without collateral, counted); an asset leg without cash leg is rejected
  (``fire_repo_unpaired``). The pledged holding's encumbrance is never derived: a holding of the
  pledged ISIN without ``encumbrance_amount`` is counted in the warnings.
* **Undrawn commitments.** FIRE shows an undrawn committed loan as ``asset_liability =
  liability``, off balance sheet; positions.md 2.2 wants the side the bank takes once drawn, so
  such rows become ``loan_commitment`` / ``asset`` (:attr:`FireSettings.undrawn_liability_is_granted`),
  counted. Guarantees, letters of credit and acceptances issued (FIRE ``liability``) are re-sided
  the same way; one FIRE shows as ``asset`` (received) has no place in the contract and is rejected.
* **Date-times** are truncated to their written date part (``2021-06-01T00:00:00+08:00`` is
  2021-06-01, no time-zone conversion).
* **pnl / oci** accounts are not positions (skipped).
* **Ambiguous day counts** (``act_act``, ``std_30_360``) are translated by
  :attr:`FireSettings.day_count_defaults` per product group and counted.
* **Gaps.** FIRE has no branch, product code, notice period, reset lag, business-day rule; a
  derivative record has no day count or payment frequency. Required columns get the documented
  defaults of :class:`FireSettings` (counted); anything else a product needs comes from
  :attr:`FireSettings.product_defaults` (the product mapping of positions.md 5.8), applied only to
  empty cells and counted. Nothing else is invented: a row that still lacks what the engine needs
  is rejected by :func:`openalm.data.validation.validate_tables` with that table's reason codes.

FIRE fields without a canonical column go to ``attributes`` (a JSON object of strings), as do the
raw FIRE codes that were translated (``type``, ``asset_liability``, ``impairment_status`` ...).

Examples
--------
>>> minor_unit_exponent("JPY"), minor_unit_exponent("USD"), minor_unit_exponent("KWD")
(0, 2, 3)
>>> FireSettings().rates_in
'auto'
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from openalm.data.loaders import ParsedTable, parse_arrow_table
from openalm.data.rejects import Reject
from openalm.data.schema import (
    DAY_COUNTS,
    FINANCIAL_COUNTERPARTY_TYPES,
    OFF_BALANCE_INSTRUMENTS,
    POSITIONS,
    TABLES,
    Column,
    LogicalType,
)
from openalm.errors import ConfigError, DataError

__all__ = [
    "FIRE_KINDS",
    "FIRE_REASONS",
    "FireResult",
    "FireSettings",
    "minor_unit_exponent",
    "read_fire",
]

# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------

#: Record kinds of FIRE (one JSON schema each), as used for batch keys and file names.
FIRE_KINDS: Final = (
    "account",
    "adjustment",
    "agreement",
    "collateral",
    "curve",
    "customer",
    "derivative",
    "derivative_cash_flow",
    "entity",
    "exchange_rate",
    "guarantor",
    "issuer",
    "loan",
    "loan_cash_flow",
    "loan_transaction",
    "risk_rating",
    "security",
)

#: Reason codes of FIRE rejects and skips, with their meaning (labels: ``fire.reason.<code>``).
FIRE_REASONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "fire_schema": "the record fails its FIRE JSON schema",
        "fire_unknown_kind": "the record kind (batch key or file name) is not a FIRE schema",
        "fire_missing_field": "a FIRE field OpenALM needs for this record is missing",
        "fire_bad_value": "a FIRE field has the wrong type (records read without schema validation)",
        "fire_bad_date": "a FIRE date(-time) does not start with a calendar date YYYY-MM-DD",
        "fire_bad_currency": "the currency has no ISO 4217 minor unit (XAU, XDR ...): amounts cannot be scaled",
        "fire_unsupported": "the product has no place in the contract (CDS, commodity / equity derivatives ...)",
        "fire_unmapped_index": "the floating-rate index is not in FireSettings.index_map",
        "fire_repo_unpaired": "a repo asset leg without its cash leg",
        "fire_repo_ambiguous": "repo legs that cannot be paired one to one",
        "fire_parent_missing": "a cash flow whose contract is not among the usable records",
        "fire_flow_direction": "an interest flow whose sign contradicts its leg's side",
        "fire_negative_principal": "a security balance smaller than its accrued interest",
        "fire_as_of_mismatch": "the record's date differs from the requested as-of date",
        "fire_rate_absent": "no rate on an interest-bearing product (FireSettings.rate_absent = reject)",
        "fire_not_position": "skipped: not a position (pnl / oci, index or reference security, transaction)",
        "fire_no_table": "skipped: the contract has no table for this record kind yet",
        "fire_settled_flow": "skipped: a cash flow paid on or before the record's date",
    }
)

# ISO 4217 minor units: 2 unless listed. Codes without a minor unit (metals, XDR, test codes) are
# not amounts OpenALM can scale.
_EXPONENT_0: Final = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
_EXPONENT_3: Final = frozenset(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"])
_EXPONENT_4: Final = frozenset(["CLF", "UYW"])
_NO_MINOR_UNIT: Final = frozenset(
    ["XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"]
)


def minor_unit_exponent(currency: str) -> int | None:
    """ISO 4217 exponent of ``currency`` (number of minor-unit digits), None when it has none.

    FIRE amounts are integers in minor units; the amount in major units is ``value / 10 ** e``.
    """
    code = currency.upper()
    if code in _NO_MINOR_UNIT:
        return None
    if code in _EXPONENT_0:
        return 0
    if code in _EXPONENT_3:
        return 3
    if code in _EXPONENT_4:
        return 4
    return 2


_FIRE_BASE_URL: Final = "https://raw.githubusercontent.com/SuadeLabs/fire/master/schemas/"
_SCHEMA_PACKAGE: Final = "openalm.rules"
_SCHEMA_FOLDER: Final = "fire_schemas"

_FREQUENCIES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "daily": "1D",
        "weekly": "1W",
        "bi_weekly": "2W",
        "monthly": "1M",
        "bi_monthly": "2M",
        "quarterly": "3M",
        "semi_annually": "6M",
        "annually": "1Y",
        "sesquiennially": "18M",
        "biennially": "2Y",
        "at_maturity": "T",
    }
)

_DEFAULT_DAY_COUNTS: Final[Mapping[str, str]] = MappingProxyType(
    {"act_act": "act_act_isda", "security.act_act": "act_act_icma", "std_30_360": "30_360_us"}
)
#: Unambiguous FIRE day counts.
_DAY_COUNTS: Final[Mapping[str, str]] = MappingProxyType(
    {"act_360": "act_360", "act_365": "act_365f", "std_30_365": "30_365"}
)
_AMBIGUOUS_DAY_COUNTS: Final = ("act_act", "std_30_360")

#: FIRE base_rate / underlying_index (normalised: lower case, ``_`` separators) -> rate_index.
#: ``{tenor}`` is replaced by the index tenor (``3M``, ``1Y``, ``ON``): from the FIRE code
#: (``euribor_3m``) or from ``underlying_index_tenor``.
_DEFAULT_INDEX_MAP: Final[Mapping[str, str]] = MappingProxyType(
    {
        "euribor": "EUR_EURIBOR_{tenor}",
        "eur_libor": "EUR_LIBOR_{tenor}",
        "usd_libor": "USD_LIBOR_{tenor}",
        "usd_libor_bba": "USD_LIBOR_{tenor}",
        "gbp_libor": "GBP_LIBOR_{tenor}",
        "chf_libor": "CHF_LIBOR_{tenor}",
        "jpy_libor": "JPY_LIBOR_{tenor}",
        "bbsw": "AUD_BBSW_{tenor}",
        "hibor": "HKD_HIBOR_{tenor}",
        "shibor": "CNY_SHIBOR_{tenor}",
        "lpr": "CNY_LPR_{tenor}",
        "fr007": "CNY_FR007",
        "dr007": "CNY_DR007",
        "sofr": "USD_SOFR",
        "sofr_1m": "USD_TERM_SOFR_1M",
        "sofr_3m": "USD_TERM_SOFR_3M",
        "sofr_6m": "USD_TERM_SOFR_6M",
        "sofr_1y": "USD_TERM_SOFR_1Y",
        "estr": "EUR_ESTR",
        "eonia": "EUR_EONIA",
        "sonia": "GBP_SONIA",
        "tona": "JPY_TONA",
        "saron": "CHF_SARON",
        "honia": "HKD_HONIA",
        "sora": "SGD_SORA",
    }
)

_DEFAULT_MIC_MAP: Final[Mapping[str, str]] = MappingProxyType(
    {"XSHG": "cn_exchange", "XSHE": "cn_exchange", "XOFF": "otc"}
)

_DEFAULT_REPO_PATTERN: Final = r"^(?P<deal>.+?)[_:\-](?:cash|asset|collateral)(?:[_:\-]leg)?$"

_TENOR_RE: Final = re.compile(r"^(on|[1-9][0-9]*[dwmy])$")
_CODE_TENOR_RE: Final = re.compile(r"^(?P<family>.+?)_(?P<tenor>on|[1-9][0-9]*[dwmy])$")
_DATE_RE: Final = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:$|[T ])")


# --------------------------------------------------------------------------------------------
# Settings and result
# --------------------------------------------------------------------------------------------


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


def _norm_key(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


@dataclass(frozen=True)
class FireSettings:
    """Per-source settings of the FIRE loader. Every default is counted when it is applied.

    Parameters
    ----------
    rates_in:
        Unit of FIRE rate fields in this source: ``percent`` (the FIRE documentation: 3.5 means
        3.5 %), ``decimal`` (0.035), or ``auto`` (percent, except a source group -- one file and
        one record kind -- whose non-zero rates are all below ``auto_decimal_below``, read as
        decimals and counted).
    auto_decimal_below:
        Threshold of the ``auto`` rule (absolute value, default 0.1).
    loan_balance_includes_accrued:
        FIRE loan ``balance`` includes ``accrued_interest_balance`` (subtracted when true).
    day_count_defaults:
        Translation of FIRE day counts, keys ``<code>``, ``<kind>.<code>`` or
        ``<kind>:<type>.<code>`` (most specific wins), values OpenALM day-count codes. Defaults:
        ``act_act`` -> ``act_act_isda`` (``act_act_icma`` for securities), ``std_30_360`` ->
        ``30_360_us``. Used for the ambiguous codes ``act_act`` / ``std_30_360`` (counted) and to
        override the unambiguous ones.
    index_map:
        FIRE ``base_rate`` / ``underlying_index`` -> OpenALM ``rate_index``; keys case-insensitive,
        ``<name>`` or ``<name>|<tenor>`` (``euribor|3m``); ``{tenor}`` in a value is replaced by the
        tenor (``3M``, ``1Y``, ``ON``). Merged over the built-in table (EURIBOR, LIBORs, SOFR,
        ESTR, SONIA, SHIBOR, LPR ...). FIRE ``pboc`` needs an entry (benchmark tenor by product).
    reporting_entity_id, source_system, branch_id:
        Values of these required columns when a record has no ``reporting_id`` / ``source``
        (FIRE has no branch at all).
    default_book:
        ``book`` when ``regulatory_book`` is absent.
    undrawn_liability_is_granted:
        An off-balance loan commitment with ``asset_liability = liability`` is a facility the bank
        granted (FIRE's idiom) and becomes ``side = asset``; false: a facility received.
    rate_absent:
        A product record with neither ``rate``, ``rate_type`` nor index: ``non_interest_bearing``
        (counted) or ``reject``.
    sme_counterparty_type:
        ``counterparty_type`` of FIRE SME types (the LCR small-business test needs data FIRE does
        not carry); ``non_financial_corporate`` is the conservative choice.
    product_defaults:
        The product mapping (positions.md 5.8): ``{selector: {column: value}}`` filling empty
        ``positions`` cells; selectors are a ``product_code``, ``<kind>:<fire type>``
        (``derivative:vanilla_swap``, ``account:savings``) or ``<kind>`` (most specific wins).
        E.g. ``{"derivative": {"day_count": "act_360"}, "account:savings":
        {"notice_period_days": 30}}``. A notice period turns a notice candidate (deposit with
        ``next_withdrawal_date`` and no ``end_date``) into ``deposit_notice``.
    security_type_map:
        FIRE security ``type`` -> ``instrument_type`` or ``instrument_type:product_subtype``,
        overriding the built-in table.
    mic_map:
        MIC code -> ``listing_market``.
    repo_leg_id_pattern:
        Regular expression with a group ``deal``: pairs repo legs without ``deal_id`` by id.
    rate_curve_type:
        ``curve_type`` of FIRE curves of type ``rate`` (FIRE does not say zero / par / forward).
    fx_rate_type:
        ``rate_type`` of FIRE exchange rates.
    record_kind:
        Record kind of files whose layout and name do not say it (a list of records, one
        record, or a FIRE batch ``{"name", "data": [...]}``).
    """

    rates_in: Literal["percent", "decimal", "auto"] = "auto"
    auto_decimal_below: float = 0.1
    loan_balance_includes_accrued: bool = False
    day_count_defaults: Mapping[str, str] = field(default_factory=lambda: _frozen(_DEFAULT_DAY_COUNTS))
    index_map: Mapping[str, str] = field(default_factory=lambda: _frozen({}))
    reporting_entity_id: str = "default"
    source_system: str = "fire"
    branch_id: str = "head_office"
    default_book: Literal["banking", "trading"] = "banking"
    undrawn_liability_is_granted: bool = True
    rate_absent: Literal["non_interest_bearing", "reject"] = "non_interest_bearing"
    sme_counterparty_type: Literal["small_business", "non_financial_corporate"] = "non_financial_corporate"
    product_defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: _frozen({}))
    security_type_map: Mapping[str, str] = field(default_factory=lambda: _frozen({}))
    mic_map: Mapping[str, str] = field(default_factory=lambda: _frozen(_DEFAULT_MIC_MAP))
    repo_leg_id_pattern: str = _DEFAULT_REPO_PATTERN
    rate_curve_type: str = "zero"
    fx_rate_type: Literal["closing", "official_fixing", "average"] = "closing"
    record_kind: str | None = None

    def __post_init__(self) -> None:
        if self.rates_in not in ("percent", "decimal", "auto"):
            raise ConfigError(f"FireSettings.rates_in {self.rates_in!r}: expected percent, decimal or auto")
        if not (self.auto_decimal_below > 0):
            raise ConfigError(f"FireSettings.auto_decimal_below {self.auto_decimal_below!r} must be > 0")
        for key, code in self.day_count_defaults.items():
            if code not in DAY_COUNTS:
                raise ConfigError(
                    f"FireSettings.day_count_defaults[{key!r}] = {code!r} is not an OpenALM day count "
                    f"({', '.join(DAY_COUNTS)})"
                )
        try:
            pattern = re.compile(self.repo_leg_id_pattern)
        except re.error as err:
            raise ConfigError(f"FireSettings.repo_leg_id_pattern does not compile: {err}") from err
        if "deal" not in pattern.groupindex:
            raise ConfigError("FireSettings.repo_leg_id_pattern needs a named group (?P<deal>...)")
        if self.record_kind is not None and self.record_kind not in FIRE_KINDS:
            raise ConfigError(f"FireSettings.record_kind {self.record_kind!r}: expected one of {', '.join(FIRE_KINDS)}")
        if self.rate_curve_type not in TABLES["curves"].column("curve_type").allowed:
            raise ConfigError(f"FireSettings.rate_curve_type {self.rate_curve_type!r} is not a curve_type code")
        defaults: dict[str, dict[str, Any]] = {}
        for selector, values in self.product_defaults.items():
            converted: dict[str, Any] = {}
            for name, value in values.items():
                if name not in POSITIONS:
                    raise ConfigError(
                        f"FireSettings.product_defaults[{selector!r}]: {name!r} is not a positions column"
                    )
                converted[name] = _default_value(POSITIONS.column(name), value, selector)
            defaults[selector] = converted
        object.__setattr__(self, "product_defaults", MappingProxyType(defaults))
        merged = {_norm_key(k): v for k, v in _DEFAULT_INDEX_MAP.items()}
        merged.update({_norm_key(k): v for k, v in self.index_map.items()})
        object.__setattr__(self, "_index_lookup", MappingProxyType(merged))
        for fire_type, target in self.security_type_map.items():
            instrument = target.split(":", 1)[0]
            if instrument not in POSITIONS.column("instrument_type").allowed:
                raise ConfigError(
                    f"FireSettings.security_type_map[{fire_type!r}] = {target!r}: {instrument!r} is not an "
                    "instrument_type"
                )


def _default_value(column: Column, value: Any, selector: str) -> Any:
    """A product default converted to the column's Python type (ConfigError when it cannot be)."""
    kind = column.type
    where = f"FireSettings.product_defaults[{selector!r}][{column.name!r}] = {value!r}"
    try:
        if kind is LogicalType.DATE:
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        if kind in (LogicalType.AMOUNT, LogicalType.RATE, LogicalType.DECIMAL):
            return float(value)
        if kind is LogicalType.INT:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError("not a whole number")
            return int(value)
        if kind is LogicalType.BOOL:
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "false"):
                return str(value).lower() == "true"
            raise ValueError("not a boolean")
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where}: {err}") from err
    text = str(value)
    if column.allowed and not column.extensible and text not in column.allowed:
        raise ConfigError(f"{where}: not one of {', '.join(column.allowed)}")
    return text


@dataclass(frozen=True)
class FireResult:
    """Canonical tables read from FIRE JSON, with the fate of every record.

    Attributes
    ----------
    tables:
        Table name -> Arrow table whose columns are named and typed as in the contract
        (:data:`openalm.data.schema.TABLES`). ``positions`` is always present (maybe empty);
        other tables only when they have rows.
    source_rows:
        Per table, the 1-based record number (in its JSON file) each row came from.
    source_files:
        Per table, the JSON file name each row came from (parallel to ``source_rows``).
    rejects:
        Records that cannot be used (one :class:`Reject` per problem; ``file`` = JSON file name,
        ``row`` = record number, ``column`` = the FIRE field at fault, ``position_id`` = the
        record id, ``table`` = the target table).
    skipped:
        Records deliberately not loaded, with reason ``fire_not_position``, ``fire_no_table`` or
        ``fire_settled_flow`` (same fields as rejects).
    warnings:
        Counted decisions: defaults applied, translations, plausibility rescues, re-siding.
    counts:
        ``read``, ``mapped``, ``rejected``, ``skipped`` (``read = mapped + rejected + skipped``),
        and ``skipped_not_position``, ``skipped_no_table``, ``skipped_settled_flow``.
    as_of_dates:
        Distinct dates (``date`` field) of the mapped records.
    """

    tables: dict[str, pa.Table]
    source_rows: dict[str, npt.NDArray[np.int64]]
    source_files: dict[str, tuple[str, ...]]
    rejects: list[Reject]
    skipped: list[Reject]
    warnings: list[str]
    counts: dict[str, int]
    as_of_dates: tuple[dt.date, ...]

    def parsed(self, file: str = "<fire>") -> dict[str, ParsedTable]:
        """Every table parsed by :func:`~openalm.data.loaders.parse_arrow_table`.

        The parsed tables keep the record numbers as ``source_row``; ``file`` names them in the
        validation rejects (the JSON file of each row is in :attr:`source_files`).
        """
        return {
            name: parse_arrow_table(table, name, file=file, source_row=self.source_rows[name])
            for name, table in self.tables.items()
        }


# --------------------------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------------------------


@cache
def _validators() -> dict[str, Any]:
    """One JSON-schema validator per FIRE kind, ``$ref`` resolved to the shipped schema files."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    folder = resources.files(_SCHEMA_PACKAGE).joinpath(_SCHEMA_FOLDER)
    contents: dict[str, Any] = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            contents[entry.name[: -len(".json")]] = json.loads(entry.read_text(encoding="utf-8"))

    # A Registry without a retrieve function never fetches: a $ref outside the shipped folder is an
    # Unresolvable error, not a network request.
    registry: Registry[Any] = Registry().with_resources(
        (_FIRE_BASE_URL + name + ".json", Resource.from_contents(schema, default_specification=DRAFT7))
        for name, schema in contents.items()
    )
    out: dict[str, Any] = {}
    for kind in FIRE_KINDS:
        schema = contents[kind]
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
        out[kind] = cls(schema, registry=registry)
    return out


def _schema_message(error: Any) -> str:
    message = str(error.message)
    if error.validator == "enum":
        allowed = list(error.validator_value)
        shown = ", ".join(map(str, allowed[:8])) + (" ..." if len(allowed) > 8 else "")
        message = f"{error.instance!r} is not one of the {len(allowed)} codes of the FIRE schema ({shown})"
    elif len(message) > 200:
        message = message[:200] + " ..."
    return message


# --------------------------------------------------------------------------------------------
# Reading files into records
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Record:
    """One FIRE record as read: its kind, fields, file, 1-based number in the file, JSON path."""

    kind: str
    data: Any
    file: str
    number: int
    path: str
    issues: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def id(self) -> str:
        value = self.data.get("id") if isinstance(self.data, dict) else None
        return "" if value is None else str(value)

    def get(self, name: str) -> Any:
        return self.data.get(name) if isinstance(self.data, dict) else None

    def issue(self, column: str, value: Any, reason: str, message: str) -> None:
        """Record a problem; a record with problems is rejected."""
        self.issues.append((column, _text(value), reason, message))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _kind_from_name(stem: str) -> str | None:
    stem = stem.lower()
    plural = {"securities": "security", "entities": "entity"}
    for word, kind in plural.items():
        if stem == word or stem.startswith(word + "_") or stem.startswith(word + "-"):
            return kind
    for kind in sorted(FIRE_KINDS, key=len, reverse=True):
        if stem == kind:
            return kind
        rest = stem[len(kind) :] if stem.startswith(kind) else None
        if rest is not None and (rest[:1] in ("_", "-", ".") or rest == "s" or rest[:2] in ("s_", "s-")):
            return kind
    return None


def _batch_kind(key: str) -> str | None:
    key = key.lower()
    if key in FIRE_KINDS:
        return key
    if key.endswith("s") and key[:-1] in FIRE_KINDS:
        return key[:-1]
    return {"securities": "security", "entities": "entity"}.get(key)


def _json_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".json")
        if not files:
            raise DataError("holds no .json file; expected FIRE JSON records", file=str(path))
        return files
    if not path.is_file():
        raise DataError("does not exist; expected a FIRE JSON file or a folder of them", file=str(path))
    return [path]


def _read_records(path: Path, settings: FireSettings) -> list[_Record]:
    name = path.name
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as err:
        raise DataError("is not UTF-8 text; FIRE JSON must be UTF-8", file=str(path)) from err
    except json.JSONDecodeError as err:
        raise DataError(
            f"is not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})", file=str(path)
        ) from err
    records: list[_Record] = []

    def add(kind: str, data: Any, where: str) -> None:
        records.append(_Record(kind, data, name, len(records) + 1, where))

    def fixed_kind() -> str:
        kind = settings.record_kind or _kind_from_name(path.stem)
        if kind is None:
            raise DataError(
                "the record kind cannot be told from the file: name the file after the kind "
                f"(loans.json, security_2024.json ...; kinds: {', '.join(FIRE_KINDS)}), wrap the records as "
                '{"data": {"loan": [...]}}, or set FireSettings.record_kind',
                file=str(path),
            )
        return kind

    if isinstance(document, dict) and isinstance(document.get("data"), dict):
        for key, items in document["data"].items():
            kind = _batch_kind(str(key)) or f"?{key}"
            values = items if isinstance(items, list) else [items]
            for i, item in enumerate(values):
                add(kind, item, f"data.{key}[{i}]")
    elif isinstance(document, dict) and isinstance(document.get("data"), list):
        kind = fixed_kind()
        for i, item in enumerate(document["data"]):
            add(kind, item, f"data[{i}]")
    elif isinstance(document, list):
        kind = fixed_kind()
        for i, item in enumerate(document):
            add(kind, item, f"[{i}]")
    elif isinstance(document, dict):
        add(fixed_kind(), document, "$")
    else:
        raise DataError(
            "holds neither FIRE records nor a batch; expected an object or a list of objects", file=str(path)
        )
    return records


# --------------------------------------------------------------------------------------------
# Small conversions
# --------------------------------------------------------------------------------------------


def _parse_date(value: Any) -> dt.date | None:
    """The written date part of a FIRE date-time (no time-zone conversion); None if unreadable."""
    if not isinstance(value, str):
        return None
    match = _DATE_RE.match(value.strip())
    if match is None:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _months_tenor(months: int) -> str:
    return f"{months // 12}Y" if months % 12 == 0 else f"{months}M"


def _tenor_parts(tenor: str) -> tuple[int, str] | None:
    match = re.match(r"^([1-9][0-9]*)([DWMY])$", tenor)
    return (int(match.group(1)), match.group(2)) if match else None


def _multiply_tenor(tenor: str, times: int) -> str | None:
    """``times`` x a frequency tenor (``4 x 3M = 1Y``); None when it cannot be expressed."""
    if tenor == "T" or times < 1:
        return None
    parts = _tenor_parts(tenor)
    if parts is None:
        return None
    n, unit = parts
    if unit == "Y":
        return f"{n * times}Y"
    if unit == "M":
        return _months_tenor(n * times)
    return f"{n * times}{unit}"


def _fire_tenor(text: str, *, frequency: bool) -> str | None:
    """FIRE tenor (``3m``, ``12m``, ``1d``, ``o_n``) as an OpenALM tenor / index tenor."""
    value = text.strip().lower().replace("_", "")
    if value in ("on", "o/n"):
        return "1D" if frequency else "ON"
    if value == "tn":
        return None if frequency else "TN"
    if value == "sn":
        return None if frequency else "SN"
    match = re.match(r"^([1-9][0-9]*)([dwmy])$", value)
    if match is None:
        return None
    n, unit = int(match.group(1)), match.group(2)
    if unit == "d":
        if n == 1:
            return "1D" if frequency else "ON"
        if n % 7 == 0:
            return f"{n // 7}W"
        return f"{n}D"
    if unit == "m":
        return _months_tenor(n)
    return f"{n}{unit.upper()}"


# --------------------------------------------------------------------------------------------
# Code tables (positions.md 6.1 - 6.6)
# --------------------------------------------------------------------------------------------

_BOOKS: Final = MappingProxyType({"banking_book": "banking", "trading_book": "trading"})
_AMORTISED: Final = frozenset({"amortised_cost", "held_to_maturity", "loans_and_recs"})
_FVOCI: Final = frozenset({"fv_oci", "available_for_sale"})
_FVTPL_PREFIXES: Final = ("fv_thru_pnl", "held_for_trading", "fv_mandatorily")
_QUALITY: Final = MappingProxyType(
    {
        "normal": "normal",
        "performing": "normal",
        "watch": "special_mention",
        "substandard": "substandard",
        "doubtful": "doubtful",
        "loss": "loss",
    }
)
_ENCUMBRANCE: Final = MappingProxyType(
    {
        "abs": "securitisation",
        "cb_funding": "central_bank",
        "covered_bond": "covered_bond",
        "repo": "repo",
        "derivative": "derivative_margin",
        "other": "other",
        "real_estate": "other",
    }
)
_HEDGES: Final = MappingProxyType(
    {
        "fv_hedge": "fair_value",
        "portfolio_fv_hedge": "fair_value",
        "cf_hedge": "cash_flow",
        "portfolio_cf_hedge": "cash_flow",
        "net_inv_hedge": "net_investment",
        "fv_hedge_eco": "economic",
        "cf_hedge_eco": "economic",
        "portfolio_fv_hedge_eco": "economic",
        "portfolio_cf_hedge_eco": "economic",
        "natural_hedge": "economic",
        "financial_hedge": "economic",
        "unhedged": "none",
    }
)
_CAPITAL_TIERS: Final = MappingProxyType(
    {
        "ce_tier_1": "cet1",
        "cet1_grandfathered": "cet1",
        "add_tier_1": "at1",
        "at1_grandfathered": "at1",
        "tier_1": "at1",
        "tier_2": "t2",
        "t2_grandfathered": "t2",
        "bas_tier_2": "t2",
        "anc_tier_2": "t2",
        "ce_tier_1_ineligible": "none",
    }
)
_SENIORITY: Final = MappingProxyType(
    {
        "senior_secured": "senior_secured",
        "senior_unsecured": "senior_unsecured",
        "subordinated_secured": "subordinated",
        "subordinated_unsecured": "subordinated",
        "mezzanine": "subordinated",
        "first_loss_secured": "subordinated",
    }
)
_HQLA: Final = MappingProxyType({"i": "level_1", "iia": "level_2a", "iib": "level_2b", "ineligible": "non_hqla"})

_COUNTERPARTY_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        **dict.fromkeys(("natural_person", "individual"), "retail_individual"),
        **dict.fromkeys(
            ("corporate", "public_corporation", "partnership", "unincorporated_biz", "charity"),
            "non_financial_corporate",
        ),
        **dict.fromkeys(("central_govt", "sovereign"), "sovereign"),
        "central_bank": "central_bank",
        **dict.fromkeys(("regional_govt", "local_authority"), "sub_sovereign"),
        **dict.fromkeys(("pse", "other_pse", "statutory_board", "social_security_fund"), "pse"),
        "mdb": "mdb",
        "intl_org": "intl_org",
        **dict.fromkeys(
            (
                "credit_institution",
                "national_bank",
                "state_owned_bank",
                "state_member_bank",
                "non_member_bank",
                "building_society",
                "credit_union",
                "federal_credit_union",
                "state_credit_union",
                "promotional_lender",
            ),
            "bank",
        ),
        "investment_firm": "securities_firm",
        "insurer": "insurance",
        "pension_fund": "pension_fund",
        **dict.fromkeys(
            (
                "fund",
                "hedge_fund",
                "mmkt_fund",
                "ciu",
                "private_equity_fund",
                "real_estate_fund",
                "private_fund",
                "unincorp_inv_fund",
            ),
            "investment_fund",
        ),
        **dict.fromkeys(("ccp", "qccp"), "fmu"),
        **dict.fromkeys(("sspe", "property_spe"), "spv"),
        **dict.fromkeys(
            ("financial", "other_financial", "financial_holding", "unregulated_financial", "deposit_broker"),
            "other_financial",
        ),
    }
)
_SME_TYPES: Final = MappingProxyType(
    {"sme": None, "supported_sme": None, "small_sme": "small", "micro_sme": "micro", "medium_sme": "medium"}
)
_FI_SUBTYPES: Final = MappingProxyType(
    {"ccp": "ccp", "qccp": "ccp", "insurer": "insurance", "investment_firm": "securities"}
)
_RATING_AGENCIES: Final = (("snp_lt", "snp"), ("moodys_lt", "moodys"), ("fitch_lt", "fitch"), ("dbrs_lt", "dbrs"))

# loan type -> (instrument_type, product_subtype); facilities handled apart
_LOAN_TYPES: Final[Mapping[str, tuple[str, str | None]]] = MappingProxyType(
    {
        "commercial_property": ("loan", "commercial_real_estate"),
        **dict.fromkeys(("credit_card", "charge_card", "corporate_card"), ("revolving_credit", "credit_card")),
        "overdraft": ("revolving_credit", "overdraft"),
        **dict.fromkeys(("trade_finance", "import", "export"), ("loan", "trade_finance")),
        "financial_lease": ("loan", "finance_lease"),
        "nostro": ("interbank_deposit", "nostro"),
        **dict.fromkeys(("personal", "auto", "new_auto", "used_auto", "education"), ("loan", "consumer")),
    }
)
_FACILITY_TYPES: Final = MappingProxyType(
    {
        "credit_facility": "credit_facility",
        "liquidity_facility": "liquidity_facility",
        "multiccy_facility": "credit_facility",
    }
)
_COMMITMENT_SUBTYPES: Final = MappingProxyType(
    {
        "credit_card": "card_line",
        "charge_card": "card_line",
        "corporate_card": "card_line",
        "overdraft": "overdraft_line",
    }
)
_REPAYMENT: Final = MappingProxyType(
    {
        "french": "annuity",
        "repayment": "annuity",
        "fixed": "linear",
        "interest_only": "bullet",
        "option_arm": "annuity_fixed_payment",
    }
)

_DEMAND_ACCOUNTS: Final = frozenset(
    {
        "current",
        "current_io",
        "savings",
        "savings_io",
        "internet_only",
        "isa",
        "isa_current",
        "isa_current_io",
        "isa_io",
        "prepaid_card",
        "money_market",
        "call",
        "third_party_savings",
        "ira",
    }
)
_TERM_ACCOUNTS: Final = frozenset({"time_deposit", "time_deposit_io", "isa_time_deposit", "isa_time_deposit_io", "cd"})
_ISSUED_ACCOUNTS: Final = frozenset({"bonds", "debt_securities_issued", "retail_bonds"})
_OPERATIONAL_PURPOSES: Final = frozenset({"operational", "clearing", "custody", "cash_management", "ips"})

# security type -> (instrument_type, product_subtype)
_SECURITY_TYPES: Final[Mapping[str, tuple[str, str | None]]] = MappingProxyType(
    {
        **dict.fromkeys(("bond", "frn", "debt", "struct_note", "pibs", "index_linked"), ("debt_security", None)),
        **dict.fromkeys(("mtn", "emtn"), ("debt_security", "mtn")),
        "cd": ("debt_security", "ncd"),
        "commercial_paper": ("debt_security", "commercial_paper"),
        "covered_bond": ("debt_security", "covered_bond"),
        "treasury": ("debt_security", "government_bond"),
        "convertible_bond": ("debt_security", "convertible"),
        **dict.fromkeys(
            (
                "abs",
                "abs_auto",
                "abs_cc",
                "abs_consumer",
                "abs_corp",
                "abs_lease",
                "abs_other",
                "abs_sme",
                "abs_sme_corp",
                "abs_sme_retail",
                "abs_student",
                "abs_trade_rec",
                "abs_wholesale",
                "mbs",
                "nha_mbs",
                "rmbs",
                "rmbs_income",
                "rmbs_trans",
                "cmbs",
                "cmbs_income",
            ),
            ("debt_security", "abs"),
        ),
        **dict.fromkeys(
            ("share", "equity", "common", "pref_share", "main_index_equity", "share_agg"), ("equity_investment", None)
        ),
        "ciu_cash_cb": ("fund_investment", "money_market_fund"),
        **dict.fromkeys(
            ("ciu_corp_bond", "ciu_public_sec", "ciu_cov_bond", "ciu_secs_excl_cov"), ("fund_investment", "bond_fund")
        ),
        **dict.fromkeys(("ciu_abs_oth", "ciu_rmbs_auto", "ciu_shares"), ("fund_investment", "other_fund")),
        "cb_reserve": ("central_bank_reserve", None),
        "cb_restricted_reserve": ("central_bank_reserve", "required_reserve"),
        "cash_ratio_deposit": ("central_bank_reserve", "other_cb_deposit"),
        **dict.fromkeys(("financial_guarantee", "guarantee"), ("guarantee", "financial_guarantee")),
        **dict.fromkeys(
            ("performance", "performance_bond", "performance_guarantee", "warranty"),
            ("guarantee", "performance_guarantee"),
        ),
        **dict.fromkeys(("standby", "financial_sloc", "performance_sloc"), ("guarantee", "standby_lc")),
        **dict.fromkeys(("letter_of_credit", "documentary"), ("letter_of_credit", None)),
        "dividend": ("other_asset", None),
    }
)
#: Remaining FIRE security types: defaulted (positions.md 6.4), with a counted warning.
_SECURITY_DEBT_LIKE: Final = frozenset(
    {
        "trups",
        "trups_usg_pref",
        "securitisation",
        "re_securitisation",
        "cdo",
        "clo",
        "loan_pool",
        "spv_mortgages",
        "spv_other",
        "ars",
        "urp",
        "financial",
        "other",
        "cb_facility",
    }
)
_SECURITY_EQUITY_LIKE: Final = frozenset(
    {
        "cpp",
        "cpp_tarp_pref",
        "ncpp",
        "ncpp_convertible",
        "reit_pref",
        "cs_usg",
        "cs_warrant",
        "mcp",
        "mcp_usg",
        "speculative_unlisted",
    }
)
_CONTINGENT_SECURITIES: Final = frozenset({"guarantee", "letter_of_credit", "acceptance"})
#: Instrument types for which a missing rate is normal (not counted, never rejected).
_INTEREST_FREE: Final = frozenset(
    {
        "cash",
        "equity_investment",
        "fund_investment",
        "equity_capital",
        "other_asset",
        "other_liability",
        "guarantee",
        "letter_of_credit",
        "acceptance",
        "loan_commitment",
    }
)
_COLLATERAL_PURPOSES: Final = frozenset(
    {
        "independent_collateral_amount",
        "variation_margin",
        "collateral",
        "derivative_collateral",
        "default_fund",
        "single_collateral_pool",
    }
)
_SFT_INSTRUMENTS: Final = MappingProxyType(
    {
        "repo": ("repo", None),
        "rev_repo": ("reverse_repo", None),
        "sell_buy_back": ("repo", "outright"),
        "buy_sell_back": ("reverse_repo", "outright"),
        "term_funding_scheme": ("central_bank_borrowing", None),
    }
)

# derivative (asset_class family, type) -> derivative_type
_IR_DERIVATIVES: Final = MappingProxyType(
    {
        "vanilla_swap": "irs",
        "ois": "ois",
        "fra": "fra",
        "swaption": "swaption",
        "option": "other_option",
        "xccy": "ccs",
    }
)
_FX_DERIVATIVES: Final = MappingProxyType(
    {
        "forward": "fx_forward",
        "ndf": "fx_forward",
        "spot": "fx_spot",
        "vanilla_swap": "fx_swap",
        "xccy": "ccs",
        "option": "other_option",
    }
)
_NOTIONAL_EXCHANGE: Final = MappingProxyType(
    {"fx_forward": "final", "fx_spot": "final", "fx_swap": "initial_and_final", "ccs": "initial_and_final"}
)
_INTEREST_LEGS: Final = frozenset({"irs", "ois", "ccs", "fra", "basis_swap"})

_NO_TABLE_KINDS: Final = MappingProxyType(
    {
        "agreement": "netting agreements belong in netting_sets (positions.md 5.8), not yet a table of the contract",
        "collateral": "collateral belongs in collateral / collateral_links (positions.md 5.8), not yet contract tables",
        "risk_rating": "risk-rating scales have no table in the contract",
    }
)
_NOT_POSITION_KINDS: Final = MappingProxyType(
    {
        "loan_transaction": "a loan transaction is a movement, not a position",
        "adjustment": "an accounting adjustment is not a position",
    }
)
_ENTITY_KINDS: Final = frozenset({"customer", "issuer", "guarantor", "entity"})


# --------------------------------------------------------------------------------------------
# Per-record field access
# --------------------------------------------------------------------------------------------


class _Fields:
    """A record's fields with use tracking: fields not taken go to ``attributes``."""

    def __init__(self, record: _Record) -> None:
        self.record = record
        self.data: dict[str, Any] = record.data
        self.used: set[str] = set()

    def take(self, name: str) -> Any:
        """A field represented by a canonical column (not repeated in attributes)."""
        self.used.add(name)
        return self.data.get(name)

    def peek(self, name: str) -> Any:
        """A field read for a translation; its raw value stays in attributes."""
        return self.data.get(name)

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def attributes(self, extra: Mapping[str, Any] | None = None) -> str | None:
        out = {k: _text(v) for k, v in self.data.items() if k not in self.used and v is not None}
        if extra:
            out.update({k: _text(v) for k, v in extra.items() if v is not None})
        return json.dumps(out, ensure_ascii=False, sort_keys=True) if out else None


# --------------------------------------------------------------------------------------------
# The loader
# --------------------------------------------------------------------------------------------


class _Notes:
    """Counted decisions: message -> records (a few shown in the warning)."""

    def __init__(self) -> None:
        self._records: dict[str, dict[int, _Record]] = defaultdict(dict)

    def add(self, message: str, record: _Record) -> None:
        self._records[message][id(record)] = record

    def render(self, counted: set[int]) -> list[str]:
        """One line per decision, counting the records in ``counted`` (the mapped ones)."""
        out = []
        for message, records in self._records.items():
            ids = [f"{r.file}#{r.number}" for key, r in records.items() if key in counted]
            if ids:
                shown = ", ".join(ids[:3]) + (" ..." if len(ids) > 3 else "")
                out.append(f"fire: {len(ids)} record(s): {message} (e.g. {shown})")
        return out


_RATE_FIELDS: Final = ("rate", "reversion_rate", "lifetime_rate_cap", "lifetime_rate_floor", "forward_rate")


def _carries_interest_rates(record: _Record) -> bool:
    """False for derivatives whose ``rate`` is a price or premium (futures, options, CDS, FX legs)."""
    if record.kind != "derivative":
        return True
    asset_class, fire_type = record.get("asset_class"), record.get("type")
    if asset_class == "ir":
        return fire_type in _IR_DERIVATIVES and _IR_DERIVATIVES[fire_type] in _INTEREST_LEGS
    return asset_class == "fx" and fire_type == "xccy"


class _Loader:
    """Maps validated FIRE records onto the contract tables (one instance per :func:`read_fire`)."""

    def __init__(
        self, records: list[_Record], settings: FireSettings, as_of: dt.date | None, *, validate: bool
    ) -> None:
        self.records = records
        self.s = settings
        self.as_of = as_of
        self.validate = validate
        self.pledged: list[tuple[str, _Record]] = []
        self.merged_counterparties = 0
        self.notes = _Notes()
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.origin: dict[str, list[tuple[str, int, int]]] = defaultdict(list)  # file, record number, order
        self.order = {id(rec): i for i, rec in enumerate(records)}
        self.rejects: list[Reject] = []
        self.skipped: list[Reject] = []
        self.state: dict[int, str] = {}
        self.dates: set[dt.date] = set()
        self.entities: dict[str, _Record] = {}
        self.underlyings: dict[str, str] = {}
        self.loan_flow_ids: set[str] = set()
        self.legs: dict[str, str | None] = {}  # derivative id -> side of its mapped leg (None: rejected)
        self.loans: set[str] = set()
        self.holding_isins: dict[str, list[_Record]] = defaultdict(list)
        self.decimal_groups: set[tuple[str, str]] = set()
        self._index()

    # ---- bookkeeping ------------------------------------------------------------------------

    def _index(self) -> None:
        groups: dict[tuple[str, str], list[float]] = defaultdict(list)
        for r in self.records:
            if not isinstance(r.data, dict):
                continue
            if r.kind in _ENTITY_KINDS and r.id and r.id not in self.entities:
                self.entities[r.id] = r
            if r.kind == "derivative":
                ref = r.get("underlying_security_id")
                if isinstance(ref, str):
                    self.underlyings.setdefault(ref, r.id)
            if r.kind == "loan_cash_flow" and isinstance(r.get("loan_id"), str):
                self.loan_flow_ids.add(r.get("loan_id"))
            values: list[Any] = [r.get(name) for name in _RATE_FIELDS] if _carries_interest_rates(r) else []
            if r.kind == "curve" and isinstance(r.get("values"), list):
                values += [v.get("value") for v in r.get("values") if isinstance(v, dict)]
            for v in values:
                if isinstance(v, (int, float)) and not isinstance(v, bool) and v != 0:
                    groups[(r.file, r.kind)].append(abs(float(v)))
        threshold = self.s.auto_decimal_below
        self.decimal_groups = {key for key, vals in groups.items() if vals and max(vals) < threshold}

    def _state(self, record: _Record, state: str) -> None:
        self.state[id(record)] = state

    def do_reject(self, record: _Record, table: str) -> None:
        for column, value, reason, message in record.issues:
            self.rejects.append(Reject(record.file, record.number, column, value, reason, message, record.id, table))
        self._state(record, "rejected")

    def skip(self, record: _Record, reason: str, column: str, message: str, table: str = "") -> None:
        value = _text(record.get(column)) if column else ""
        self.skipped.append(Reject(record.file, record.number, column, value, reason, message, record.id, table))
        self._state(record, reason)

    def emit(self, table: str, row: dict[str, Any], record: _Record) -> None:
        self.rows[table].append(row)
        self.origin[table].append((record.file, record.number, self.order[id(record)]))
        self._state(record, "mapped")
        date = row.get("as_of_date")
        if isinstance(date, dt.date):
            self.dates.add(date)

    # ---- value helpers ----------------------------------------------------------------------

    def date(self, f: _Fields, name: str, *, keep: bool = False) -> dt.date | None:
        value = f.peek(name) if keep else f.take(name)
        if value is None:
            return None
        if value == "":
            self.notes.add(f"empty string in date field {name!r} read as absent", f.record)
            return None
        parsed = _parse_date(value)
        if parsed is None:
            f.record.issue(
                name,
                value,
                "fire_bad_date",
                f"{name} {value!r} does not start with a calendar date YYYY-MM-DD (FIRE date-times are "
                "YYYY-MM-DDTHH:MM:SSZ; only the date part is used)",
            )
        return parsed

    def number(self, f: _Fields, name: str, *, keep: bool = False) -> float | None:
        value = f.peek(name) if keep else f.take(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            f.record.issue(name, value, "fire_bad_value", f"{name} {value!r} is not a number")
            return None
        return float(value)

    def string(self, f: _Fields, name: str, *, keep: bool = False) -> str | None:
        value = f.peek(name) if keep else f.take(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            f.record.issue(name, value, "fire_bad_value", f"{name} {value!r} is not a string")
            return None
        return value

    def exponent(self, f: _Fields, currency: str | None, name: str = "currency_code") -> int | None:
        if currency is None:
            return None
        e = minor_unit_exponent(currency)
        if e is None:
            f.record.issue(
                name,
                currency,
                "fire_bad_currency",
                f"{currency} has no ISO 4217 minor unit, so FIRE minor-unit amounts cannot be scaled; "
                "OpenALM amounts need a currency (metals and XDR are not supported)",
            )
        return e

    def amount(self, f: _Fields, name: str, e: int | None, *, keep: bool = False, signed: bool = False) -> float | None:
        """A FIRE minor-unit amount in major units (absolute unless ``signed``)."""
        value = self.number(f, name, keep=keep)
        if value is None or e is None:
            return None
        if value < 0 and not signed:
            self.notes.add("negative monetary amounts: absolute value taken, direction from the side", f.record)
        scaled = value / 10**e
        return scaled if signed else abs(scaled)

    def rate(self, f: _Fields, name: str) -> float | None:
        """A FIRE rate (percent unless the source says otherwise) as a decimal per annum."""
        value = self.number(f, name)
        return None if value is None else self.rate_value(value, f.record, name)

    def rate_value(self, value: float, record: _Record, name: str) -> float:
        mode = self.s.rates_in
        if mode == "decimal":
            return value
        small = 0 < abs(value) < self.s.auto_decimal_below
        if mode == "auto" and (record.file, record.kind) in self.decimal_groups:
            self.notes.add(
                f"rates_in=auto: {name} values of this file and kind are all below {self.s.auto_decimal_below:g} "
                "and were read as decimals, not percent",
                record,
            )
            return value
        if mode == "percent" and small:
            self.notes.add(
                f"{name} below {self.s.auto_decimal_below:g} read as percent (rates_in=percent): "
                "looks like a decimal already",
                record,
            )
        return value / 100.0

    def day_count(self, f: _Fields, kind: str, fire_type: str | None) -> str | None:
        code = self.string(f, "day_count_convention", keep=True)
        if code is None:
            return None
        keys = [f"{kind}:{fire_type}.{code}", f"{kind}.{code}", code] if fire_type else [f"{kind}.{code}", code]
        for key in keys:
            if key in self.s.day_count_defaults:
                if code in _AMBIGUOUS_DAY_COUNTS:
                    self.notes.add(
                        f"ambiguous day_count_convention {code!r} read as {self.s.day_count_defaults[key]!r} "
                        f"(FireSettings.day_count_defaults[{key!r}])",
                        f.record,
                    )
                return self.s.day_count_defaults[key]
        if code in _DAY_COUNTS:
            return _DAY_COUNTS[code]
        self.notes.add(f"day_count_convention {code!r} has no default; left empty", f.record)
        return None

    def index(self, name: str, tenor: str | None) -> str | None:
        """OpenALM rate_index of a FIRE index name (+ tenor), None when not mapped."""
        lookup: Mapping[str, str] = self.s._index_lookup  # type: ignore[attr-defined]
        key = _norm_key(name)
        tenor_key = tenor.strip().lower() if tenor else None
        if tenor_key and f"{key}|{tenor_key}" in lookup:
            return lookup[f"{key}|{tenor_key}"]
        template = lookup.get(key)
        if template is None:
            match = _CODE_TENOR_RE.match(key)
            if match is not None:
                template = lookup.get(match.group("family"))
                tenor_key = tenor_key or match.group("tenor")
        if template is None:
            return None
        if "{tenor}" in template:
            code = _fire_tenor(tenor_key, frequency=False) if tenor_key else None
            return template.replace("{tenor}", code) if code else None
        return template

    def entity_type(self, entity_id: str | None) -> str | None:
        record = self.entities.get(entity_id) if entity_id else None
        value = record.get("type") if record is not None else None
        return self.counterparty_type(value) if isinstance(value, str) else None

    def counterparty_type(self, fire_type: str) -> str:
        if fire_type in _SME_TYPES:
            return self.s.sme_counterparty_type
        return _COUNTERPARTY_TYPES.get(fire_type, "other")

    # ---- common record handling -------------------------------------------------------------

    def record_date(self, f: _Fields) -> dt.date | None:
        day = self.date(f, "date")
        if day is not None and self.as_of is not None and day != self.as_of:
            f.record.issue(
                "date",
                f.peek("date"),
                "fire_as_of_mismatch",
                f"record date {day.isoformat()} differs from the requested as-of {self.as_of.isoformat()}; "
                "read this record with its own as-of date",
            )
        return day

    def require(self, f: _Fields, name: str, why: str) -> Any:
        value = f.peek(name)
        if value is None or value == "":
            f.record.issue(name, "", "fire_missing_field", f"{name} is required {why} and is absent")
        return value

    def product_defaults(self, row: dict[str, Any], record: _Record, fire_type: str | None) -> None:
        selectors = [record.kind]
        if fire_type:
            selectors.append(f"{record.kind}:{fire_type}")
        if row.get("product_code"):
            selectors.append(str(row["product_code"]))
        merged: dict[str, tuple[Any, str]] = {}
        for selector in selectors:
            for name, value in self.s.product_defaults.get(selector, {}).items():
                merged[name] = (value, selector)
        for name, (value, selector) in merged.items():
            if row.get(name) is None:
                row[name] = value
                self.notes.add(f"{name} = {value!r} from FireSettings.product_defaults[{selector!r}]", record)

    def common(self, f: _Fields, fire_type: str | None) -> dict[str, Any]:
        """Identity, organisation, valuation and credit columns shared by product records."""
        rec = f.record
        row: dict[str, Any] = {"as_of_date": self.record_date(f), "position_id": f.take("id")}
        source = self.string(f, "source")
        if source is None:
            source = self.s.source_system
            self.notes.add(f"no source: source_system = {source!r} (FireSettings.source_system)", rec)
        row["source_system"] = source
        entity = self.string(f, "reporting_id")
        if entity is None:
            entity = self.s.reporting_entity_id
            self.notes.add(f"no reporting_id: reporting_entity_id = {entity!r} (FireSettings.reporting_entity_id)", rec)
        row["reporting_entity_id"] = entity
        row["branch_id"] = self.s.branch_id
        self.notes.add(f"FIRE has no branch: branch_id = {self.s.branch_id!r} (FireSettings.branch_id)", rec)
        product = self.string(f, "product_name")
        if product is None:
            product = f"fire_{rec.kind}_{fire_type or 'none'}"
            self.notes.add("no product_name: product_code = fire_<kind>_<type>", rec)
        row["product_code"] = product
        row["gl_account"] = self.string(f, "ledger_code")
        row["cost_center"] = self.string(f, "cost_center_code")
        row["deal_id"] = self.string(f, "deal_id")
        row["facility_id"] = self.string(f, "facility_id")
        row["hedge_id"] = self.string(f, "hedge_id")
        mna, csa = self.string(f, "mna_id", keep=True), self.string(f, "csa_id", keep=True)
        if mna or csa:
            f.take("mna_id" if mna else "csa_id")
            row["netting_set_id"] = mna or csa
        book = self.string(f, "regulatory_book", keep=True)
        if book is not None and book in _BOOKS:
            f.take("regulatory_book")
            row["book"] = _BOOKS[book]
        else:
            row["book"] = self.s.default_book
            self.notes.add(f"no regulatory_book: book = {self.s.default_book!r} (FireSettings.default_book)", rec)
        treatment = self.string(f, "accounting_treatment", keep=True)
        if treatment is not None:
            if treatment in _AMORTISED:
                row["accounting_classification"] = "amortised_cost"
            elif treatment in _FVOCI:
                row["accounting_classification"] = "fvoci"
            elif treatment.startswith(_FVTPL_PREFIXES) or treatment == "trading_gaap":
                row["accounting_classification"] = "fvtpl"
            else:
                self.notes.add(f"accounting_treatment {treatment!r} has no IFRS 9 category; kept in attributes", rec)
        currency = self.string(f, "currency_code")
        if currency is None:
            self.require(f, "currency_code", "for every position (amounts are in minor units of it)")
        row["currency"] = currency
        hedge = self.string(f, "hedge_type", keep=True)
        if hedge is not None and hedge in _HEDGES:
            row["hedge_designation"] = _HEDGES[hedge]
        count = self.number(f, "count")
        row["pool_count"] = None if count is None else int(count)
        status = self.string(f, "impairment_status", keep=True)
        if status is not None:
            self._impairment(row, status, rec)
        accrual = self.string(f, "accrual_status", keep=True)
        if accrual in ("accrual", "non_accrual"):
            row["accrual_status"] = accrual
        row["behavioural_class"] = self.string(f, "behavioral_curve_id")
        row["behavioural_maturity_date"] = self.date(f, "behavioral_end_date")
        row["risk_weight_override"] = self.number(f, "risk_weight_std")
        row["ccf_override"] = self.number(f, "ccf")
        row["trade_date"] = self.date(f, "trade_date")
        row["origination_date"] = self.date(f, "start_date")
        row["next_interest_payment_date"] = self.date(f, "next_payment_date")
        row["last_interest_payment_date"] = self.date(f, "prev_payment_date")
        row["next_reset_date"] = self.date(f, "next_repricing_date")
        return row

    def _impairment(self, row: dict[str, Any], status: str, rec: _Record) -> None:
        match = re.match(r"^stage_([123])(?:_(\w+))?$", status)
        if match is not None:
            row["ifrs9_stage"] = int(match.group(1))
            if match.group(2) in _QUALITY:
                row["asset_quality_class"] = _QUALITY[match.group(2)]
        elif status in _QUALITY:
            row["asset_quality_class"] = _QUALITY[status]
        else:
            self.notes.add(
                f"impairment_status {status!r} needs a per-source rule (five-category class unknown); kept in "
                "attributes",
                rec,
            )

    def credit(self, f: _Fields, row: dict[str, Any], e: int | None) -> None:
        """Credit-quality and encumbrance columns (loans, accounts, securities)."""
        rec = f.record
        provision = self.amount(f, "provision_amount", e)
        if provision is None:
            provision = self.amount(f, "impairment_amount", e)
        row["provision_amount"] = provision
        row["overdue_principal"] = self.amount(f, "arrears_balance", e)
        first = self.date(f, "first_arrears_date", keep=True)
        day = row.get("as_of_date")
        if first is not None and isinstance(day, dt.date) and first <= day:
            row["days_past_due"] = (day - first).days
        default = self.date(f, "default_date", keep=True)
        if default is not None and isinstance(day, dt.date) and default <= day:
            row["is_defaulted"] = True
        if self.date(f, "forbearance_date", keep=True) is not None:
            row["is_restructured"] = True
        row["encumbered_amount"] = self.amount(f, "encumbrance_amount", e)
        row["encumbrance_end_date"] = self.date(f, "encumbrance_end_date")
        kind = self.string(f, "encumbrance_type", keep=True)
        if kind is not None and kind in _ENCUMBRANCE:
            row["encumbrance_type"] = _ENCUMBRANCE[kind]
        elif kind == "none" and row["encumbered_amount"]:
            self.notes.add("encumbrance_type 'none' with an encumbrance_amount: type left empty", rec)

    def interest(self, f: _Fields, row: dict[str, Any], kind: str, fire_type: str | None) -> None:
        """Rate terms of loans, accounts and securities (positions.md 2.4, 2.10, 6.2)."""
        rec = f.record
        rate = self.rate(f, "rate")
        rtype = self.string(f, "rate_type", keep=True)
        base = self.string(f, "base_rate", keep=True)
        index = self.index(base, None) if base else None
        row["current_rate"] = rate
        row["day_count"] = self.day_count(f, kind, fire_type)
        spread = self.number(f, "spread")
        row["spread"] = None if spread is None else spread / 10_000.0
        row["rate_cap"] = self.rate(f, "lifetime_rate_cap")
        row["rate_floor"] = self.rate(f, "lifetime_rate_floor")
        row["reversion_rate"] = self.rate(f, "reversion_rate")
        row["initial_rate_end_date"] = self.date(f, "reversion_date")
        if rtype in ("fixed", "fixed_to_fixed", "step_up"):
            row["rate_type"] = "fixed" if rtype == "fixed" else "hybrid"
        elif rtype == "tracker":
            row["rate_type"] = "floating"
        elif rtype in ("variable", "preferential"):
            row["rate_type"] = "floating" if base else "administered"
        elif rtype in ("combined", "fixed_to_float"):
            row["rate_type"] = "hybrid"
        elif rate is None and base is None:
            row["rate_type"] = "non_interest_bearing"
            if row.get("instrument_type") in _INTEREST_FREE:
                pass  # cash, equity, other assets / liabilities, contingents: no rate is the normal case
            elif self.s.rate_absent == "reject":
                rec.issue(
                    "rate",
                    "",
                    "fire_rate_absent",
                    "no rate, rate_type or base_rate on an interest-bearing product (FireSettings.rate_absent = "
                    "reject); give the rate in percent",
                )
            else:
                self.notes.add("no rate, rate_type or base_rate: rate_type = non_interest_bearing", rec)
        elif base is not None:
            row["rate_type"] = "floating"
            self.notes.add("no rate_type but a base_rate: rate_type = floating", rec)
        else:
            row["rate_type"] = "fixed"
            self.notes.add("no rate_type: a rate without base_rate read as fixed", rec)
        if base is not None:
            if index is not None:
                row["rate_index"] = index
            elif row["rate_type"] in ("floating", "hybrid"):
                rec.issue(
                    "base_rate",
                    base,
                    "fire_unmapped_index",
                    f"base_rate {base!r} has no entry in FireSettings.index_map; OpenALM needs a rate_index code "
                    "such as CNY_LPR_1Y (add e.g. {'" + base + "': 'CNY_PBOC_LOAN_BM_1Y'})",
                )
            else:
                self.notes.add(f"base_rate {base!r} not in the index map (fixed row): kept in attributes", rec)

    def frequencies(self, f: _Fields, row: dict[str, Any], *, interest_falls_back: bool) -> None:
        principal = self.string(f, "repayment_frequency", keep=True)
        interest = self.string(f, "interest_repayment_frequency")
        pfreq = _FREQUENCIES.get(principal) if principal else None
        ifreq = _FREQUENCIES.get(interest) if interest else None
        if ifreq is None and interest_falls_back and pfreq is not None:
            ifreq = pfreq  # FIRE: interest_repayment_frequency only "if different from principal"
        if principal is not None:
            f.take("repayment_frequency")
        row["principal_payment_frequency"] = pfreq
        row["interest_payment_frequency"] = ifreq
        times = self.number(f, "int_reset_freq")
        if times is not None and ifreq is not None and times.is_integer():
            row["reset_frequency"] = _multiply_tenor(ifreq, int(times))

    def finish(
        self, row: dict[str, Any], f: _Fields, fire_type: str | None, extra: Mapping[str, Any] | None = None
    ) -> None:
        rec = f.record
        self.product_defaults(row, rec, fire_type)
        row["attributes"] = f.attributes(extra)

    # ---- kinds ------------------------------------------------------------------------------

    def run(self) -> None:
        """Map every record: schema check, companions, securities (repos first), products, flows."""
        validators = _validators() if self.validate else None
        for rec in self.records:
            if rec.kind.startswith("?"):
                rec.issue(
                    "data",
                    rec.kind[1:],
                    "fire_unknown_kind",
                    f"batch key {rec.kind[1:]!r} is not a FIRE record kind; expected one of {', '.join(FIRE_KINDS)}",
                )
            elif not isinstance(rec.data, dict):
                rec.issue("", rec.data, "fire_schema", f"{rec.path}: a FIRE record is a JSON object")
            elif validators is not None:
                errors = validators[rec.kind].iter_errors(rec.data)
                for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
                    where = "/".join(map(str, error.absolute_path))
                    rec.issue(where, error.instance, "fire_schema", f"{rec.path}/{where}: {_schema_message(error)}")
            if rec.issues:
                self.do_reject(rec, _target_table(rec.kind))
        for rec in self.pending():
            if rec.kind in _ENTITY_KINDS:
                self.entity(rec)
            elif rec.kind in _NO_TABLE_KINDS:
                self.skip(rec, "fire_no_table", "", f"{rec.kind}: {_NO_TABLE_KINDS[rec.kind]}")
            elif rec.kind in _NOT_POSITION_KINDS:
                self.skip(rec, "fire_not_position", "", _NOT_POSITION_KINDS[rec.kind])
            elif rec.kind == "curve":
                self.curve(rec)
            elif rec.kind == "exchange_rate":
                self.exchange_rate(rec)
        self._dedupe_counterparties()
        self.securities()
        for rec in self.pending():
            if rec.kind == "loan":
                self.loan(rec)
            elif rec.kind == "account":
                self.account(rec)
            elif rec.kind == "derivative":
                self.derivative(rec)
        for rec in self.pending():
            if rec.kind == "derivative_cash_flow":
                self.derivative_flow(rec)
            elif rec.kind == "loan_cash_flow":
                self.loan_flow(rec)

    def pending(self) -> Iterator[_Record]:
        """Records without an outcome yet (evaluated lazily: mapping one may settle another)."""
        for rec in self.records:
            if id(rec) not in self.state:
                yield rec

    def _finalise(self, rec: _Record, table: str, row: dict[str, Any]) -> bool:
        """Emit ``row`` unless the record has problems (then reject it). True when emitted."""
        if rec.issues:
            self.do_reject(rec, table)
            return False
        self.emit(table, row, rec)
        return True

    # ---- companions -------------------------------------------------------------------------

    def entity(self, rec: _Record) -> None:
        f = _Fields(rec)
        row: dict[str, Any] = {"as_of_date": self.record_date(f), "counterparty_id": f.take("id")}
        fire_type = self.string(f, "type", keep=True)
        if fire_type is None:
            self.require(f, "type", "to set counterparty_type")
        else:
            row["counterparty_type"] = self.counterparty_type(fire_type)
            if fire_type not in _COUNTERPARTY_TYPES and fire_type not in _SME_TYPES:
                self.notes.add(f"entity type {fire_type!r} mapped to counterparty_type 'other'", rec)
            if fire_type in _SME_TYPES:
                row["enterprise_size"] = _SME_TYPES[fire_type]
                self.notes.add(
                    f"SME type {fire_type!r}: counterparty_type = {self.s.sme_counterparty_type!r} "
                    "(FireSettings.sme_counterparty_type; the LCR small-business test needs deposit data)",
                    rec,
                )
            row["fi_subtype"] = _FI_SUBTYPES.get(fire_type)
            if fire_type in ("ccp", "qccp"):
                row["is_qualifying_ccp"] = fire_type == "qccp"
        row["name"] = self.string(f, "name") or self.string(f, "legal_entity_name")
        country = self.string(f, "country_code")
        if country is None:
            self.require(f, "country_code", "for a counterparty (country_of_residence)")
        elif len(country) > 2:
            self.notes.add("subdivision country codes (US-NY) cut to the country (US)", rec)
        row["country_of_residence"] = country[:2] if country else None
        risk = self.string(f, "risk_country_code")
        row["country_of_risk"] = risk[:2] if risk else None
        row["lei"] = self.string(f, "lei_code")
        row["national_id"] = self.string(f, "national_id")
        row["national_id_type"] = self.string(f, "national_id_type")
        row["parent_id"] = self.string(f, "parent_id")
        row["ultimate_parent_id"] = self.string(f, "ultimate_parent_id")
        row["group_id"] = self.string(f, "risk_group_id")
        intra = f.take("intra_group")
        row["is_intragroup"] = intra if isinstance(intra, bool) else None
        if f.peek("status") == "established":
            row["has_established_relationship"] = True
        for name, agency in _RATING_AGENCIES:
            rating = self.string(f, name, keep=True)
            if rating:
                row["external_rating"], row["rating_agency"] = rating, agency
                f.take(name)
                break
        cqs = self.number(f, "cqs_standardised")
        row["credit_quality_step"] = None if cqs is None else int(cqs)
        row["scra_grade"] = self.string(f, "scra")
        row["internal_rating"] = self.string(f, "internal_rating")
        row["pd"] = self.number(f, "pd_irb")
        impaired = f.peek("credit_impaired")
        if isinstance(impaired, bool):
            row["is_defaulted"] = impaired
            self.notes.add("credit_impaired read as is_defaulted (approximation, positions.md 6.6)", rec)
        for name in ("nace_code", "naics_code", "sic_code"):
            value = f.peek(name)
            if value is not None:
                row["industry_code"] = _text(value)
                break
        currency = self.string(f, "currency_code", keep=True)
        if f.has("turnover") or f.has("total_assets"):
            if currency is None:
                self.notes.add(
                    "turnover / total_assets without currency_code: minor units unknown, kept in attributes", rec
                )
            else:
                f.take("currency_code")
                e = self.exponent(f, currency)
                row["annual_turnover"] = self.amount(f, "turnover", e, signed=True)
                row["total_assets"] = self.amount(f, "total_assets", e, signed=True)
                row["financials_currency"] = currency
        if f.attributes() is not None:
            # the counterparties contract has no attributes column to keep them in
            self.notes.add(
                "entity fields without a counterparties column (addresses, further ratings ...) not kept: the "
                "counterparties table has no attributes column",
                rec,
            )
        self._finalise(rec, "counterparties", row)

    def _dedupe_counterparties(self) -> None:
        rows, origin = self.rows.get("counterparties", []), self.origin.get("counterparties", [])
        seen: dict[str, int] = {}
        keep_rows: list[dict[str, Any]] = []
        keep_origin: list[tuple[str, int, int]] = []
        merged = 0
        for row, src in zip(rows, origin, strict=True):
            signature = json.dumps({k: _text(v) for k, v in row.items()}, sort_keys=True)
            if signature in seen:
                merged += 1
                continue
            seen[signature] = len(keep_rows)
            keep_rows.append(row)
            keep_origin.append(src)
        if merged:
            self.rows["counterparties"], self.origin["counterparties"] = keep_rows, keep_origin
            self.merged_counterparties = merged

    def curve(self, rec: _Record) -> None:
        f = _Fields(rec)
        day = self.record_date(f)
        fire_type = self.string(f, "type", keep=True)
        if fire_type in ("behavioral", "risk_rating", "volatility"):
            where = "assumption tables" if fire_type == "behavioral" else "no table (out of scope in v1)"
            self.skip(rec, "fire_no_table", "type", f"{fire_type} curve: goes to {where}", "curves")
            return
        currency = self.string(f, "currency_code")
        if currency is None:
            self.require(f, "currency_code", "for a curve")
        values = f.take("values")
        rows = []
        for i, point in enumerate(values if isinstance(values, list) else []):
            reference = point.get("reference") if isinstance(point, dict) else None
            value = point.get("value") if isinstance(point, dict) else None
            tenor = _fire_tenor(reference, frequency=False) if isinstance(reference, str) else None
            if tenor is None:
                rec.issue(
                    f"values/{i}/reference",
                    reference,
                    "fire_bad_value",
                    "curve pillar is not a FIRE tenor (o_n, 3m, 36m ...)",
                )
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                rec.issue(f"values/{i}/value", value, "fire_bad_value", "a rate curve value must be a number")
                continue
            rows.append(
                {
                    "as_of_date": day,
                    "curve_id": rec.id,
                    "currency": currency,
                    "curve_type": self.s.rate_curve_type,
                    "tenor": tenor,
                    "value": self.rate_value(float(value), rec, "values.value"),
                    "source": self.string(f, "source"),
                }
            )
        self.notes.add(f"FIRE rate curve: curve_type = {self.s.rate_curve_type!r} (FireSettings.rate_curve_type)", rec)
        if rec.issues:
            self.do_reject(rec, "curves")
            return
        for row in rows:
            self.emit("curves", row, rec)

    def exchange_rate(self, rec: _Record) -> None:
        f = _Fields(rec)
        row = {
            "as_of_date": self.record_date(f),
            "base_currency": self.string(f, "base_currency_code"),
            "quote_currency": self.string(f, "quote_currency_code"),
            "rate": self.number(f, "quote"),
            "rate_type": self.s.fx_rate_type,
            "source": self.string(f, "source"),
        }
        self.notes.add(f"exchange rate: rate_type = {self.s.fx_rate_type!r} (FireSettings.fx_rate_type)", rec)
        self._finalise(rec, "fx_rates", row)

    # ---- loans ------------------------------------------------------------------------------

    def loan(self, rec: _Record) -> None:
        f = _Fields(rec)
        fire_type = self.string(f, "type", keep=True)
        row = self.common(f, fire_type)
        e = self.exponent(f, row["currency"])
        side = self.string(f, "asset_liability", keep=True)
        if side is None:
            self.require(f, "asset_liability", "to set side")
        elif side in ("pnl", "oci"):
            self.skip(
                rec, "fire_not_position", "asset_liability", f"asset_liability {side}: profit and loss, not a position"
            )
            return
        status = self.string(f, "status", keep=True)
        on_bs = f.take("on_balance_sheet")
        off_balance = on_bs is False or status == "committed"
        balance = self.amount(f, "balance", e)
        if balance is None:
            self.require(f, "balance", "for a loan (principal_balance)")
        accrued = self.amount(f, "accrued_interest_balance", e)
        row["accrued_interest"] = accrued
        if self.s.loan_balance_includes_accrued and balance is not None and accrued is not None:
            balance -= accrued
            if balance < 0:
                rec.issue(
                    "balance",
                    f.peek("balance"),
                    "fire_negative_principal",
                    "balance minus accrued_interest_balance is negative (FireSettings.loan_balance_includes_accrued)",
                )
        row["original_amount"] = self.amount(f, "notional_amount", e)
        limit = self.amount(f, "limit_amount", e)
        row["limit_amount"] = limit
        instrument, subtype = _LOAN_TYPES.get(fire_type or "", ("loan", None))
        if fire_type and fire_type.startswith("mortgage"):
            subtype = "mortgage_residential"
        facility = _FACILITY_TYPES.get(fire_type or "")
        row["principal_balance"] = balance
        if off_balance:
            instrument = "loan_commitment"
            subtype = facility or _COMMITMENT_SUBTYPES.get(fire_type or "", "credit_facility")
            row["undrawn_amount"] = balance
            if side == "liability" and self.s.undrawn_liability_is_granted:
                side = "asset"
                self.notes.add(
                    "off-balance commitment shown as liability (FIRE idiom): re-sided to asset, the side the bank "
                    "takes once drawn (positions.md 2.2; FireSettings.undrawn_liability_is_granted)",
                    rec,
                )
        elif facility is not None:
            instrument, subtype = "revolving_credit", "revolving_loan"
            if limit is not None and balance is not None:
                if limit >= balance:
                    row["undrawn_amount"] = limit - balance
                else:
                    self.notes.add("limit_amount below balance: undrawn_amount left empty", rec)
        if status == "cancellable":
            row["unconditionally_cancellable"] = True
        if status == "defaulted":
            row["is_defaulted"] = True
        row["instrument_type"], row["product_subtype"], row["side"] = instrument, subtype, side
        row["on_balance_sheet"] = not off_balance and instrument not in OFF_BALANCE_INSTRUMENTS
        row["counterparty_id"] = self._loan_customer(f)
        row["maturity_date"] = self.date(f, "end_date")
        row["interest_only_end_date"] = self.date(f, "interest_only_end_date")
        secured = f.peek("secured")
        if isinstance(secured, bool):
            row["credit_support_type"] = "mixed" if secured else "unsecured"
        row["loan_purpose"] = self.string(f, "purpose", keep=True)
        self.credit(f, row, e)
        self.interest(f, row, "loan", fire_type)
        self.frequencies(f, row, interest_falls_back=True)
        repayment = self.string(f, "repayment_type", keep=True)
        if instrument in ("loan_commitment",):
            row["amortisation_type"] = "bullet" if row["maturity_date"] else "non_maturity"
            row["principal_payment_frequency"] = None
        elif instrument in ("revolving_credit", "interbank_deposit"):
            row["amortisation_type"] = "bullet" if row["maturity_date"] else "non_maturity"
        elif repayment is not None and repayment in _REPAYMENT:
            row["amortisation_type"] = _REPAYMENT[repayment]
        elif repayment in ("combined", "other"):
            if rec.id in self.loan_flow_ids:
                row["amortisation_type"] = "schedule"
            else:
                row["amortisation_type"] = "bullet"
                self.notes.add(
                    f"repayment_type {repayment!r} without loan_cash_flow records: bullet (data-quality warning)", rec
                )
        else:
            row["amortisation_type"] = "annuity"
            self.notes.add("no repayment_type: annuity (FIRE assumes every loan is repaid, 'repayment')", rec)
        if row["amortisation_type"] in ("annuity", "linear", "annuity_fixed_payment"):
            row["next_principal_payment_date"] = row.get("next_interest_payment_date")
        if row["amortisation_type"] == "bullet":
            row["principal_payment_frequency"] = None
        self.finish(row, f, fire_type)
        if self._finalise(rec, "positions", row):
            self.loans.add(rec.id)

    def _loan_customer(self, f: _Fields) -> str | None:
        customer = self.string(f, "customer_id")
        customers = f.peek("customers")
        if customer is None and isinstance(customers, list) and customers:
            first = customers[0].get("id") if isinstance(customers[0], dict) else None
            if isinstance(first, str):
                customer = first
                if len(customers) > 1:
                    self.notes.add(
                        "joint borrowers: counterparty_id is the first of customers[] (all kept in attributes)",
                        f.record,
                    )
        return customer

    # ---- accounts ---------------------------------------------------------------------------

    def account(self, rec: _Record) -> None:
        f = _Fields(rec)
        side = self.string(f, "asset_liability", keep=True)
        if side in ("pnl", "oci"):
            self.skip(
                rec, "fire_not_position", "asset_liability", f"asset_liability {side}: profit and loss, not a position"
            )
            return
        fire_type = self.string(f, "type", keep=True) or ""
        row = self.common(f, fire_type or None)
        e = self.exponent(f, row["currency"])
        if side is None:
            self.require(f, "asset_liability", "to set side")
        customer = self.string(f, "customer_id")
        financial = self.entity_type(customer) in FINANCIAL_COUNTERPARTY_TYPES
        notice_candidate = False
        subtype: str | None = None
        if side == "equity":
            instrument = "equity_capital"
        elif side == "liability":
            if fire_type in _DEMAND_ACCOUNTS:
                instrument = "interbank_deposit" if financial else "deposit_demand"
                subtype = "savings" if fire_type.startswith(("savings", "isa")) and not financial else None
                notice_candidate = f.has("next_withdrawal_date") and not f.has("end_date")
            elif fire_type in _TERM_ACCOUNTS:
                instrument = "interbank_deposit" if financial else "deposit_term"
                subtype = "large_cd" if fire_type == "cd" and not financial else ("term" if financial else None)
            elif fire_type == "vostro":
                instrument, subtype = "interbank_deposit", "vostro"
            elif fire_type in _ISSUED_ACCOUNTS:
                instrument = "debt_security"
            else:
                instrument = "other_liability"
        else:
            if fire_type == "vostro":
                instrument, subtype = "interbank_deposit", "vostro"
            elif fire_type in _DEMAND_ACCOUNTS or fire_type in _TERM_ACCOUNTS:
                if financial:
                    instrument, subtype = "interbank_deposit", "nostro"
                else:
                    instrument = "revolving_credit"
                    subtype = "credit_card" if fire_type == "prepaid_card" else "overdraft"
            elif fire_type == "credit_card":
                instrument, subtype = "revolving_credit", "credit_card"
            elif fire_type == "loans_and_advances":
                instrument = "loan"
            elif fire_type == "financial_lease":
                instrument, subtype = "loan", "finance_lease"
            else:
                instrument = "other_asset"
        on_bs = f.take("on_balance_sheet")
        row["instrument_type"], row["product_subtype"], row["side"] = instrument, subtype, side
        row["on_balance_sheet"] = on_bs if isinstance(on_bs, bool) else instrument not in OFF_BALANCE_INSTRUMENTS
        row["counterparty_id"] = customer
        balance = self.amount(f, "balance", e)
        if balance is None:
            self.require(f, "balance", "for an account (principal_balance)")
        row["principal_balance"] = balance
        row["accrued_interest"] = self.amount(f, "accrued_interest", e)
        row["limit_amount"] = self.amount(f, "limit_amount", e)
        row["maturity_date"] = self.date(f, "end_date")
        row["next_withdrawal_date"] = self.date(f, "next_withdrawal_date")
        self.credit(f, row, e)
        self.interest(f, row, "account", fire_type or None)
        self.frequencies(f, row, interest_falls_back=False)
        row["principal_payment_frequency"] = None
        row["amortisation_type"] = "bullet" if row["maturity_date"] else "non_maturity"
        if instrument in ("loan",):
            row["amortisation_type"] = "bullet"
        status = self.string(f, "status", keep=True)
        if status == "transactional":
            row["is_transactional"] = True
        purpose = self.string(f, "purpose", keep=True)
        if purpose in _OPERATIONAL_PURPOSES:
            row["is_operational"] = True
        elif purpose == "operational_excess":
            row["is_operational"] = True
            row["operational_excess_amount"] = balance
        row["insured_amount"] = self.amount(f, "guarantee_amount", e)
        if row["insured_amount"] is not None:
            f.take("guarantee_scheme")
        if instrument == "deposit_term" and (row["next_withdrawal_date"] or f.has("withdrawal_penalty")):
            row["early_withdrawal_allowed"] = True
        self._calls(f, row, "holder")
        if self.date(f, "rollover_date", keep=True) is not None:
            row["auto_rollover"] = True
        self.finish(row, f, fire_type or None)
        if notice_candidate:
            if row.get("notice_period_days") is not None:
                row["instrument_type"] = "deposit_notice"
            else:
                self.notes.add(
                    "deposit with next_withdrawal_date and no end_date is a notice candidate; no notice_period_days "
                    "in FireSettings.product_defaults, kept as demand deposit",
                    rec,
                )
        self._finalise(rec, "positions", row)

    def _calls(self, f: _Fields, row: dict[str, Any], who: str) -> None:
        dates: list[dt.date] = []
        for name in ("call_dates", "break_dates"):
            values = f.peek(name)
            if isinstance(values, list):
                dates += [d for d in (_parse_date(v) for v in values) if d is not None]
        day = row.get("as_of_date")
        future = sorted(d for d in dates if isinstance(day, dt.date) and d > day)
        if future:
            row["call_type"], row["next_call_date"] = who, future[0]
            self.notes.add(
                f"call_dates / break_dates: call_type = {who!r}, next_call_date = first future date", f.record
            )

    # ---- securities -------------------------------------------------------------------------

    def securities(self) -> None:
        """Security records: repos paired first, then every other security."""
        legs: dict[tuple[str, str], list[_Record]] = defaultdict(list)
        pattern = re.compile(self.s.repo_leg_id_pattern)
        for rec in self.records:
            if rec.kind != "security" or id(rec) in self.state:
                continue
            sft = rec.get("sft_type")
            if sft is None:
                continue
            if sft not in _SFT_INSTRUMENTS:
                rec.issue(
                    "sft_type",
                    sft,
                    "fire_unsupported",
                    f"sft_type {sft!r} (securities lending / borrowing, margin loans) has no place in the contract; "
                    "OpenALM takes repo, rev_repo, sell_buy_back, buy_sell_back, term_funding_scheme",
                )
                self.do_reject(rec, "positions")
                continue
            deal = rec.get("deal_id")
            if not isinstance(deal, str) or not deal:
                match = pattern.match(rec.id)
                deal = f"id:{match.group('deal')}" if match else f"record:{rec.file}#{rec.number}"
            legs[(deal, sft)].append(rec)
        for (deal, sft), group in legs.items():
            cash = [r for r in group if r.get("movement") == "cash"]
            assets = [r for r in group if r.get("movement") == "asset"]
            other = [r for r in group if r.get("movement") not in ("cash", "asset")]
            for rec in other:
                rec.issue(
                    "movement",
                    rec.get("movement"),
                    "fire_missing_field" if rec.get("movement") is None else "fire_unsupported",
                    "a repo leg needs movement 'cash' (cash leg) or 'asset' (collateral leg)",
                )
                self.do_reject(rec, "positions")
            shown = deal.split(":", 1)[1] if deal.startswith(("id:", "record:")) else deal
            if len(cash) > 1 or len(assets) > 1:
                for rec in cash + assets:
                    rec.issue(
                        "deal_id",
                        rec.get("deal_id"),
                        "fire_repo_ambiguous",
                        f"deal {shown!r} ({sft}) has {len(cash)} cash leg(s) and {len(assets)} asset leg(s); "
                        "OpenALM pairs one cash leg with one asset leg (give each repo its own deal_id)",
                    )
                    self.do_reject(rec, "positions")
                continue
            if not cash:
                for rec in assets:
                    rec.issue(
                        "deal_id",
                        rec.get("deal_id"),
                        "fire_repo_unpaired",
                        f"asset leg of deal {shown!r} ({sft}) has no cash leg with the same deal_id and sft_type; "
                        "its collateral data belong on the cash leg's row (check the deal_id of both legs)",
                    )
                    self.do_reject(rec, "positions")
                continue
            self.repo(cash[0], assets[0] if assets else None, sft)
        for rec in self.records:
            if rec.kind == "security" and id(rec) not in self.state:
                self.security(rec)
        self._encumbrance_notes()

    def repo(self, cash: _Record, asset: _Record | None, sft: str) -> None:
        f = _Fields(cash)
        fire_type = self.string(f, "type", keep=True)
        row = self.common(f, fire_type)
        e = self.exponent(f, row["currency"])
        instrument, repo_type = _SFT_INSTRUMENTS[sft]
        f.take("sft_type")
        f.take("movement")
        side = self.string(f, "asset_liability", keep=True)
        if side is None:
            self.require(f, "asset_liability", "to set side")
        else:
            f.take("asset_liability")
        row["instrument_type"], row["side"], row["repo_type"] = instrument, side, repo_type
        on_bs = f.take("on_balance_sheet")
        row["on_balance_sheet"] = on_bs if isinstance(on_bs, bool) else True
        row["counterparty_id"] = self.string(f, "customer_id")
        balance = self.amount(f, "balance", e)
        accrued = self.amount(f, "accrued_interest", e)
        if balance is None:
            self.require(f, "balance", "on a repo cash leg (principal_balance)")
        elif accrued is not None:
            balance = self._net_of_accrued(f, balance, accrued)
        row["principal_balance"], row["accrued_interest"] = balance, accrued
        row["maturity_date"] = self.date(f, "end_date")
        self.interest(f, row, "security", fire_type)
        self.frequencies(f, row, interest_falls_back=False)
        if row["rate_type"] != "non_interest_bearing" and row["interest_payment_frequency"] is None:
            row["interest_payment_frequency"] = "T"
            self.notes.add("repo without interest frequency: interest paid at maturity ('T')", cash)
        row["principal_payment_frequency"] = None
        row["amortisation_type"] = "bullet"
        extra: dict[str, Any] = {}
        if asset is None:
            self.notes.add("repo cash leg without asset leg: collateral columns left empty", cash)
        else:
            g = _Fields(asset)
            self.record_date(g)
            ccy = self.string(g, "currency_code")
            ae = self.exponent(g, ccy)
            hqla = self.string(g, "hqla_class")
            rehyp = g.take("rehypothecation")
            collateral = {
                "collateral_security_id": self.string(g, "isin_code"),
                "collateral_market_value": self.amount(g, "mtm_dirty", ae),
                "collateral_currency": ccy,
                "collateral_hqla_level": _HQLA.get(hqla.removesuffix("_non_op")) if hqla else None,
                "collateral_rehypothecable": rehyp if isinstance(rehyp, bool) else None,
            }
            if asset.issues:
                self.do_reject(asset, "positions")
                self.notes.add("repo asset leg rejected: the cash leg's collateral columns left empty", cash)
                asset = None
            else:
                row.update(collateral)
                for name in ("id", "date", "sft_type", "movement", "deal_id", "end_date", "start_date", "trade_date"):
                    g.take(name)
                extra = {"fire_asset_leg_id": asset.id, "fire_asset_leg_record": asset.number}
                asset_attrs = g.attributes()
                if asset_attrs:
                    extra["fire_asset_leg"] = asset_attrs
                if instrument == "repo" and collateral["collateral_security_id"]:
                    self.pledged.append((str(collateral["collateral_security_id"]), cash))
        self.finish(row, f, fire_type, extra)
        if self._finalise(cash, "positions", row):
            if asset is not None:
                self._state(asset, "mapped")
        elif asset is not None:
            asset.issue(
                "deal_id",
                asset.get("deal_id"),
                "fire_repo_unpaired",
                f"its cash leg {cash.id!r} was rejected, so the pair cannot be loaded",
            )
            self.do_reject(asset, "positions")

    def _encumbrance_notes(self) -> None:
        for isin, cash in self.pledged:
            for holding in self.holding_isins.get(isin, []):
                if holding.get("encumbrance_amount") is None:
                    self.notes.add(
                        f"security {isin} is pledged in repo {cash.id!r} but its holding has no encumbrance_amount; "
                        "not derived (positions.md 6.4: the holding's FIRE encumbrance_amount sets it)",
                        holding,
                    )

    def _net_of_accrued(self, f: _Fields, balance: float, accrued: float) -> float:
        net = balance - accrued
        if net < 0:
            f.record.issue(
                "balance",
                f.peek("balance"),
                "fire_negative_principal",
                f"balance {balance:g} minus accrued_interest {accrued:g} is negative; FIRE security balances include "
                "accrued interest, so the principal cannot be derived",
            )
        return net

    def security(self, rec: _Record) -> None:
        f = _Fields(rec)
        fire_type = self.string(f, "type", keep=True) or ""
        purpose = self.string(f, "purpose", keep=True)
        side = self.string(f, "asset_liability", keep=True)
        if fire_type == "index":
            self.skip(
                rec, "fire_not_position", "type", "an index security describes a derivative underlying, not a holding"
            )
            return
        if purpose == "reference":
            self.skip(rec, "fire_not_position", "purpose", "purpose reference: a reference security, not a holding")
            return
        if rec.id in self.underlyings and side is None and not f.has("balance") and not f.has("notional_amount"):
            self.skip(
                rec,
                "fire_not_position",
                "id",
                f"underlying of derivative {self.underlyings[rec.id]!r} without side or amount: not a holding",
            )
            return
        if side in ("pnl", "oci"):
            self.skip(
                rec, "fire_not_position", "asset_liability", f"asset_liability {side}: profit and loss, not a position"
            )
            return
        if side == "liability" and purpose in _COLLATERAL_PURPOSES and fire_type != "cash":
            self.skip(
                rec,
                "fire_no_table",
                "purpose",
                f"non-cash collateral received (purpose {purpose}) is not the bank's position; it belongs in "
                "netting_sets / collateral, not yet tables of the contract",
                "positions",
            )
            return
        row = self.common(f, fire_type or None)
        e = self.exponent(f, row["currency"])
        if side is None:
            self.require(f, "asset_liability", "to set side")
        on_bs = f.take("on_balance_sheet")
        target = self.s.security_type_map.get(fire_type)
        subtype: str | None
        if target is not None:
            instrument, _, sub = target.partition(":")
            subtype = sub or None
        elif fire_type in ("acceptance", "bill_of_exchange"):
            instrument, subtype = (
                ("bill_discount", None) if side == "asset" and on_bs is not False else ("acceptance", None)
            )
        elif fire_type == "cash":
            plain = side == "asset" and not f.has("end_date") and purpose is None and not f.has("customer_id")
            instrument, subtype = (
                ("cash", None) if plain else ("other_asset" if side == "asset" else "other_liability", None)
            )
        elif fire_type in _SECURITY_TYPES:
            instrument, subtype = _SECURITY_TYPES[fire_type]
        elif fire_type in _SECURITY_EQUITY_LIKE:
            instrument, subtype = "equity_investment", None
            self.notes.add(f"security type {fire_type!r} defaulted to equity_investment (positions.md 6.4)", rec)
        else:
            instrument, subtype = "debt_security", None
            self.notes.add(f"security type {fire_type!r} defaulted to debt_security (positions.md 6.4)", rec)
        if side == "equity":
            instrument, subtype = "equity_capital", None
        elif instrument in _CONTINGENT_SECURITIES:
            if side == "liability":
                side = "asset"
                self.notes.add(
                    f"{instrument} issued (FIRE liability) re-sided to asset: the side the bank takes once it pays "
                    "(positions.md 2.2)",
                    rec,
                )
            elif side == "asset":
                rec.issue(
                    "asset_liability",
                    "asset",
                    "fire_unsupported",
                    f"a {instrument} received (asset_liability = asset) has no place in the contract: OpenALM "
                    f"{instrument} rows are instruments the bank issued",
                )
        elif side == "liability" and instrument in ("debt_security", "equity_investment", "fund_investment"):
            if instrument != "debt_security":
                self.notes.add(
                    f"security type {fire_type!r} shown as a liability read as an issued debt security "
                    "(debt_security is the contract's only issued-security type)",
                    rec,
                )
                instrument = "debt_security"
            subtype = subtype if subtype in ("ncd", "mtn", "commercial_paper", "covered_bond") else None
        seniority = self.string(f, "seniority", keep=True)
        tier = self.string(f, "capital_tier", keep=True)
        if seniority is not None and seniority in _SENIORITY:
            row["seniority"] = _SENIORITY[seniority]
        if tier is not None and tier in _CAPITAL_TIERS:
            row["capital_tier"] = _CAPITAL_TIERS[tier]
        issuer = self.string(f, "issuer_id", keep=True)
        customer = self.string(f, "customer_id", keep=True)
        if instrument == "debt_security" and subtype is None:
            subtype = self._bond_subtype(side, row, issuer)
        row["instrument_type"], row["product_subtype"], row["side"] = instrument, subtype, side
        default_obs = instrument not in OFF_BALANCE_INSTRUMENTS
        row["on_balance_sheet"] = on_bs if isinstance(on_bs, bool) else default_obs
        held = side == "asset" and instrument in (
            "debt_security",
            "equity_investment",
            "fund_investment",
            "other_asset",
        )
        if held and issuer is not None and not (instrument == "other_asset" and customer):
            f.take("issuer_id")
            row["counterparty_id"] = issuer
        elif customer is not None:
            f.take("customer_id")
            row["counterparty_id"] = customer
        balance = self.amount(f, "balance", e, keep=True)
        accrued = self.amount(f, "accrued_interest", e)
        if balance is not None:
            f.take("balance")
            if accrued is not None:
                balance = self._net_of_accrued(f, balance, accrued)
        else:
            balance = self.amount(f, "notional_amount", e, keep=True)
            if balance is not None:
                f.take("notional_amount")
                self.notes.add("security without balance: principal_balance = notional_amount", rec)
            else:
                self.require(f, "balance", "for a security (principal_balance = balance - accrued_interest)")
        row["principal_balance"], row["accrued_interest"] = balance, accrued
        mtm = self.amount(f, "mtm_dirty", e)
        if mtm is not None:
            row["fair_value"] = mtm if side == "asset" else -mtm
        row["security_id"] = self.string(f, "isin_code")
        maturity = self.date(f, "maturity_date")
        end = self.date(f, "end_date", keep=maturity is not None)
        row["maturity_date"] = maturity or end
        hqla = self.string(f, "hqla_class", keep=True)
        if hqla:
            level = _HQLA.get(hqla.removesuffix("_non_op"))
            if level:
                row["hqla_level_override"] = level
            if hqla.endswith("_non_op") or hqla == "exclude":
                row["hqla_operational_ok"] = False
        mic = self.string(f, "mic_code", keep=True)
        if mic:
            row["listing_market"] = self.s.mic_map.get(mic.upper())
            if row["listing_market"] is None:
                self.notes.add(f"mic_code {mic!r} not in FireSettings.mic_map: listing_market left empty", rec)
        rehyp = f.peek("rehypothecation")
        if isinstance(rehyp, bool):
            row["collateral_rehypothecable"] = rehyp
        if f.has("cb_haircut"):
            row["is_central_bank_eligible"] = True
        self.credit(f, row, e)
        posted = side == "asset" and purpose in _COLLATERAL_PURPOSES and instrument == "debt_security"
        if posted and row.get("encumbered_amount") is None and balance is not None:
            row["encumbered_amount"] = balance
            row["encumbrance_type"] = "derivative_margin" if (f.has("csa_id") or f.has("mna_id")) else "other"
            self.notes.add(
                f"security posted as collateral (purpose {purpose}): whole holding encumbered "
                f"({row['encumbrance_type']})",
                rec,
            )
        self.interest(f, row, "security", fire_type or None)
        self.frequencies(f, row, interest_falls_back=False)
        row["principal_payment_frequency"] = None
        dated = instrument in ("debt_security", "central_bank_borrowing")
        row["amortisation_type"] = "bullet" if (row["maturity_date"] or dated) else "non_maturity"
        self._calls(f, row, "issuer")
        self.finish(row, f, fire_type or None)
        if self._finalise(rec, "positions", row) and side == "asset" and row.get("security_id"):
            self.holding_isins[str(row["security_id"])].append(rec)

    def _bond_subtype(self, side: str | None, row: Mapping[str, Any], issuer: str | None) -> str | None:
        if row.get("seniority") == "subordinated" or row.get("capital_tier") in ("at1", "t2"):
            return "subordinated_bond"
        if side == "liability":
            return "financial_bond"
        return {
            "sovereign": "government_bond",
            "central_bank": "central_bank_bill",
            "sub_sovereign": "local_government_bond",
            "bank": "financial_bond",
            "non_financial_corporate": "corporate_bond",
        }.get(self.entity_type(issuer) or "")

    # ---- derivatives ------------------------------------------------------------------------

    def derivative(self, rec: _Record) -> None:
        f = _Fields(rec)
        fire_type = self.string(f, "type", keep=True) or ""
        asset_class = self.string(f, "asset_class", keep=True) or ""
        leg_type = self.string(f, "leg_type", keep=True)
        kind: str | None
        if asset_class == "ir":
            kind = _IR_DERIVATIVES.get(fire_type)
            if fire_type == "cap_floor":
                kind = {"call": "cap", "put": "floor"}.get(leg_type or "")
            elif fire_type == "future":
                kind = "bond_forward" if f.has("underlying_security_id") else "ir_future"
        elif asset_class == "fx":
            kind = _FX_DERIVATIVES.get(fire_type)
        else:
            kind = None
        if kind is None:
            what = f"asset_class {asset_class or '(none)'!r}, type {fire_type or '(none)'!r}"
            if fire_type == "cap_floor":
                what += f", leg_type {leg_type!r} (a cap is leg_type call, a floor put)"
            rec.issue(
                "type",
                fire_type,
                "fire_unsupported",
                f"derivative ({what}) has no place in the contract: OpenALM v1 models interest-rate and FX "
                "derivatives (irs, ois, ccs, fra, cap / floor, swaption, ir / bond futures, FX forwards, spots, "
                "swaps and options); credit, equity, commodity and inflation derivatives are not modelled",
            )
            self.do_reject(rec, "positions")
            self.legs[rec.id] = None
            return
        row = self.common(f, fire_type)
        e = self.exponent(f, row["currency"])
        position = self.string(f, "position")
        if position is None:
            self.require(f, "position", "to set the leg's side (long = receive = asset, short = pay = liability)")
        side = {"long": "asset", "short": "liability"}.get(position or "")
        row["instrument_type"], row["side"], row["derivative_type"] = "derivative_leg", side, kind
        on_bs = f.take("on_balance_sheet")
        if on_bs is True:
            self.notes.add(
                "derivative on_balance_sheet=true refers to its fair value; the leg's notional is off-balance", rec
            )
        row["on_balance_sheet"] = False
        row["notional_exchange"] = _NOTIONAL_EXCHANGE.get(kind, "none")
        row["counterparty_id"] = self.string(f, "customer_id")
        if self.entity_type(row["counterparty_id"]) == "fmu":
            row["is_centrally_cleared"] = True
        if row["deal_id"] is None:
            row["deal_id"] = rec.id
            self.notes.add("derivative without deal_id: deal_id = its id (a one-record deal)", rec)
        notional = self.amount(f, "notional_amount", e)
        if notional is None:
            self.require(f, "notional_amount", "for a derivative leg (principal_balance)")
        row["principal_balance"] = notional
        row["accrued_interest"] = self.amount(f, "accrued_interest", e)
        mtm = self.amount(f, "mtm_dirty", e, signed=True)
        row["fair_value"] = mtm
        row["strike"] = self.number(f, "strike")
        row["maturity_date"] = self.date(f, "end_date")
        row["next_reset_date"] = self.date(f, "next_reset_date")
        row["amortisation_type"] = "bullet"
        index_name = self.string(f, "underlying_index", keep=True)
        index_tenor = self.string(f, "underlying_index_tenor", keep=True)
        code = self.index(index_name, index_tenor) if index_name else None
        if kind in _INTEREST_LEGS:
            rate = self.rate(f, "rate")
            row["current_rate"] = rate
            row["day_count"] = self.day_count(f, "derivative", fire_type)
            spread = self.number(f, "spread")
            row["spread"] = None if spread is None else spread / 10_000.0
            if leg_type == "floating":
                row["rate_type"] = "floating"
                if code is None:
                    rec.issue(
                        "underlying_index",
                        index_name or "",
                        "fire_unmapped_index" if index_name else "fire_missing_field",
                        f"floating leg index {index_name!r} (tenor {index_tenor!r}) has no entry in "
                        "FireSettings.index_map; OpenALM needs a rate_index code such as EUR_EURIBOR_3M",
                    )
                if kind == "ois":
                    row["rate_averaging"] = "compounded_in_arrears"
                tenor = _fire_tenor(index_tenor, frequency=True) if index_tenor else None
                if tenor is not None:
                    row["reset_frequency"] = tenor
                    row["interest_payment_frequency"] = tenor
                    self.notes.add(
                        "floating leg: reset and payment frequency taken from underlying_index_tenor "
                        "(FIRE derivatives carry no frequency)",
                        rec,
                    )
            elif leg_type == "fixed" or (kind == "fra" and leg_type in (None, "indexed")):
                # an FRA is one record: its fixed contract rate against the index
                row["rate_type"] = "fixed"
                if rate is None:
                    self.notes.add("fixed leg without rate: current_rate left empty", rec)
            else:
                rec.issue(
                    "leg_type",
                    leg_type or "",
                    "fire_unsupported" if leg_type else "fire_missing_field",
                    f"an {kind} leg must be leg_type fixed or floating (got {leg_type!r}); index-linked legs "
                    "(inflation, equity) are not modelled",
                )
            if code is not None:
                row["rate_index"] = code
        else:
            row["rate_type"] = "non_interest_bearing"
            if code is not None:
                row["rate_index"] = code
        self.finish(row, f, fire_type)
        if self._finalise(rec, "positions", row):
            self.legs[rec.id] = str(side)
        else:
            self.legs[rec.id] = None

    # ---- cash flows -------------------------------------------------------------------------

    def _flow_common(self, f: _Fields, date_field: str) -> tuple[dt.date | None, dt.date | None]:
        day = self.record_date(f)
        pay = self.date(f, date_field)
        if pay is None and not f.record.issues:
            self.require(f, date_field, "for a cash flow (flow_date)")
        return day, pay

    def derivative_flow(self, rec: _Record) -> None:
        f = _Fields(rec)
        day, pay = self._flow_common(f, "payment_date")
        if not rec.issues and day is not None and pay is not None and pay <= day:
            self.skip(
                rec, "fire_settled_flow", "payment_date", f"paid on {pay.isoformat()}, on or before the record date"
            )
            return
        parent = self.string(f, "derivative_id")
        leg = self.legs.get(parent or "")
        if parent is None:
            self.require(f, "derivative_id", "to link the flow to its leg")
        elif leg is None:
            why = "was rejected" if parent in self.legs else "is not among the derivative records read"
            rec.issue(
                "derivative_id",
                parent,
                "fire_parent_missing",
                f"derivative {parent!r} {why}; its side is needed to orient the flow",
            )
        currency = self.string(f, "currency_code")
        e = self.exponent(f, currency)
        balance = self.number(f, "balance")
        if balance is None:
            self.require(
                f,
                "balance",
                "for a derivative cash flow (the signed flow amount; notional-only schedule rows of amortising "
                "swaps are not supported in v1)",
            )
        purpose = self.string(f, "purpose")
        if purpose is None:
            self.require(f, "purpose", "to tell principal (notional exchange) from interest")
        elif purpose not in ("principal", "interest"):
            rec.issue(
                "purpose", purpose, "fire_unsupported", f"flow purpose {purpose!r}: expected principal or interest"
            )
        flow_type = None
        if leg is not None and balance is not None and purpose in ("principal", "interest"):
            received = balance > 0
            consistent = balance == 0 or received == (leg == "asset")
            if purpose == "principal":
                flow_type = "notional_exchange" if consistent else "drawdown"
            elif consistent:
                flow_type = "interest"
            else:
                rec.issue(
                    "balance",
                    balance,
                    "fire_flow_direction",
                    f"interest flow {'received' if received else 'paid'} on a leg the bank "
                    f"{'receives' if leg == 'asset' else 'pays'}; cash_flow_schedule amounts follow the "
                    "leg's side (split the leg or fix the sign)",
                )
        forward = self.number(f, "forward_rate")
        row = {
            "as_of_date": day,
            "position_id": parent,
            "flow_date": pay,
            "flow_type": flow_type,
            "amount": None if balance is None or e is None else abs(balance) / 10**e,
            "currency": currency,
            "accrual_start_date": self.date(f, "reset_date"),
            "period_rate": None if forward is None else self.rate_value(forward, rec, "forward_rate"),
        }
        self._finalise(rec, "cash_flow_schedule", row)

    def loan_flow(self, rec: _Record) -> None:
        f = _Fields(rec)
        day, pay = self._flow_common(f, "payment_date")
        if not rec.issues and day is not None and pay is not None and pay <= day:
            self.skip(
                rec, "fire_settled_flow", "payment_date", f"paid on {pay.isoformat()}, on or before the record date"
            )
            return
        parent = self.string(f, "loan_id")
        if parent is not None and parent not in self.loans:
            rec.issue(
                "loan_id",
                parent,
                "fire_parent_missing",
                f"loan {parent!r} is not among the usable loan records (absent or rejected)",
            )
        currency = self.string(f, "currency_code")
        e = self.exponent(f, currency)
        amount = self.amount(f, "amount", e)
        flow_type = self.string(f, "type")
        if flow_type not in ("principal", "interest"):
            rec.issue("type", flow_type or "", "fire_missing_field", "a loan cash flow is type principal or interest")
        row = {
            "as_of_date": day,
            "position_id": parent,
            "flow_date": pay,
            "flow_type": flow_type,
            "amount": amount,
            "currency": currency,
        }
        self._finalise(rec, "cash_flow_schedule", row)


def _target_table(kind: str) -> str:
    if kind in ("loan", "account", "security", "derivative"):
        return "positions"
    if kind in _ENTITY_KINDS:
        return "counterparties"
    if kind in ("derivative_cash_flow", "loan_cash_flow"):
        return "cash_flow_schedule"
    return {"curve": "curves", "exchange_rate": "fx_rates"}.get(kind, "")


# --------------------------------------------------------------------------------------------
# Assembling the tables
# --------------------------------------------------------------------------------------------


def _arrow_table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows -> Arrow table with the contract's types: required columns always, others when used."""
    schema = TABLES[name]
    arrays: dict[str, pa.Array] = {}
    for column in schema.columns:
        values = [row.get(column.name) for row in rows]
        if column.level.value != "R" and all(v is None for v in values):
            continue
        arrays[column.name] = pa.array(values, type=column.arrow_type)
    return pa.table(arrays)


def _iter_outcome(loader: _Loader) -> Iterator[tuple[_Record, str]]:
    for rec in loader.records:
        yield rec, loader.state.get(id(rec), "unhandled")


def read_fire(
    path: str | os.PathLike[str],
    *,
    as_of: dt.date | None = None,
    settings: FireSettings | None = None,
    validate_schema: bool = True,
) -> FireResult:
    """Read FIRE JSON records and map them onto the contract tables (positions.md section 6).

    Parameters
    ----------
    path:
        A JSON file or a folder of ``*.json`` files (read in name order). A file holds an example
        batch ``{"data": {"loan": [...], "customer": [...]}}``, a FIRE batch ``{"name": ...,
        "data": [...]}``, a list of records or one record; the kind of the last three comes from
        the file name (``loans.json``) or :attr:`FireSettings.record_kind`.
    as_of:
        Requested as-of date: records whose ``date`` differs are rejected
        (``fire_as_of_mismatch``). None: every record keeps its own date.
    settings:
        Per-source settings (:class:`FireSettings`).
    validate_schema:
        Validate each record against its FIRE JSON schema first (``fire_schema`` rejects).

    Returns
    -------
    FireResult
        Tables, record lineage, rejects, skips, counted decisions and counts.

    Raises
    ------
    DataError
        A file is missing, not JSON, or of a kind that cannot be told (see ``path``).
    """
    settings = settings or FireSettings()
    root = Path(path)
    records: list[_Record] = []
    for file in _json_files(root):
        records.extend(_read_records(file, settings))
    loader = _Loader(records, settings, as_of, validate=validate_schema)
    loader.run()
    states = Counter(state for _, state in _iter_outcome(loader))
    unhandled = states.pop("unhandled", 0)
    if unhandled:  # pragma: no cover - every kind is handled above
        raise AssertionError(f"{unhandled} FIRE record(s) left without outcome")
    tables: dict[str, pa.Table] = {}
    source_rows: dict[str, npt.NDArray[np.int64]] = {}
    source_files: dict[str, tuple[str, ...]] = {}
    for name in TABLES:
        rows = loader.rows.get(name, [])
        if not rows and name != "positions":
            continue
        origin = loader.origin.get(name, [])
        ordered = sorted(range(len(rows)), key=lambda i: origin[i][2])  # input order (stable within a record)
        tables[name] = _arrow_table(name, [rows[i] for i in ordered])
        source_rows[name] = np.asarray([origin[i][1] for i in ordered], dtype=np.int64)
        source_files[name] = tuple(origin[i][0] for i in ordered)
    warnings = loader.notes.render({key for key, state in loader.state.items() if state == "mapped"})
    merged = loader.merged_counterparties
    if merged:
        warnings.append(f"fire: {merged} identical counterparty record(s) (same id, same content) merged into one row")
    skipped = {
        "skipped_not_position": states.get("fire_not_position", 0),
        "skipped_no_table": states.get("fire_no_table", 0),
        "skipped_settled_flow": states.get("fire_settled_flow", 0),
    }
    counts = {
        "read": len(records),
        "mapped": states.get("mapped", 0),
        "rejected": states.get("rejected", 0),
        "skipped": sum(skipped.values()),
        **skipped,
    }
    return FireResult(
        tables=tables,
        source_rows=source_rows,
        source_files=source_files,
        rejects=loader.rejects,
        skipped=loader.skipped,
        warnings=warnings,
        counts=counts,
        as_of_dates=tuple(sorted(loader.dates)),
    )
