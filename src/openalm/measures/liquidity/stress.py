"""Liquidity stress tests: stressed daily ladder, counterbalancing capacity, survival horizon,
stressed LCR and the reverse stress test (流动性压力测试, 最短生存期, 反向压力测试).

Inputs are the per-contract liquidity frame (:mod:`.frame`) and the engine's DAILY contractual
ladder (``currency, side, instrument_type, cp_class, performing, day, principal, interest``: the
flows falling due on ``day`` = 1..H after the as-of date, contract currency, >= 0). A
:class:`StressScenario` (templates in ``openalm/rules/liquidity/stress_scenarios.yaml``) turns
them into a stressed daily ladder. For each currency and day ``d`` (amounts >= 0):

* ``inflow``   = performing asset principal x (1 - asset rollover) + performing asset interest.
  Non-performing assets bring nothing (as in the LCR). Asset rollover = share of repayments that
  must be re-lent; the templates set it to 1 for securities, cash and reserves, whose value comes
  in through the CBC instead (counting their maturities too would count them twice).
* ``outflow``  = liability and equity principal x min(1, (1 - funding rollover) x m) + interest.
* ``runoff``   = sum over liability contracts of base x min(1, rate x m) x (C(d) - C(d-1)), where the
  base is the balance of non-maturity liabilities (``undated``) and, with ``callable_runoff``, the
  principal due after day 90 (bands m6 and later) of dated liabilities with
  ``early_withdrawal_allowed`` (what falls due earlier is in the daily ladder and treated by the
  rollover rates). ``C`` is the run-off profile: piecewise linear through (0, 0), (7, share_7d),
  (30, share_30d), (H, 1); even (C(d) = d / H) when no shares are given. ``rate`` is the run-off
  over the whole horizon.
* ``drawdown`` = sum over asset-side contracts with an ``undrawn_amount`` of undrawn x min(1, rate x m)
  x (C(d) - C(d-1)) (facilities granted; facilities received bring no inflow, as in the LCR).
* ``downgrade`` = on the scenario's day: a fixed amount (reporting currency) plus a share of the
  market value of liabilities of the listed instrument types (derivatives, secured funding).
* ``cbc``      = counterbalancing capacity monetised that day: per asset contract (performing, on
  balance sheet, not defaulted) in a CBC class, market_value x (1 - encumbered share) x (1 -
  haircut), spread evenly over the class's days first_day..last_day; during a market closure the
  matched contracts are not monetised and the amount of the closed days comes on the first open
  day (lost when that is after the horizon).
* ``net_flow = inflow - outflow - runoff - drawdown - downgrade``; ``cumulative_gap`` = its running
  sum; ``cumulative_with_cbc = cumulative_gap + running sum of cbc``.

``m`` is the scenario's ``runoff_multiplier`` (1 in the templates; varied by the reverse stress
test). Each rate is capped at 100% after multiplying. ``currency = "ALL"`` rows convert every
currency with ``fx_rc`` (the frame's rate of that currency; the reporting currency is 1);
amounts without a known rate are left out of ALL and recorded as an assumption.

Survival horizon (生存期): the first day on which ``cumulative_with_cbc`` of the ALL ladder is
negative (below -1e-6 currency units, to ignore rounding noise); ``None`` when the bank survives
the whole horizon (shown as "> H days").

Stressed LCR: with window W = min(lcr_window_days, H) (30 days)::

    stressed_lcr = CBC monetised in days 1..W
                   / (O - min(I, lcr_inflow_cap x O))

with O = sum over days 1..W of outflow + runoff + drawdown + downgrade and I = sum of inflow
(i.e. the larger of the net stressed outflow and (1 - cap) = 25% of the gross stressed outflow,
as in BCBS 238 para 69); ``None`` when the denominator is 0.

Reverse stress test: the smallest multiplier ``m`` of the run-off, funding non-rollover and
drawdown rates at which the survival horizon falls below ``target_days``; found by bisection
between 0 and the multiplier at which every such rate reaches 100%, to an absolute tolerance on
``m`` (default 1e-4). ``None`` when even full run-off survives ``target_days``.

Category matching: every rule list (run-off, rollover, drawdown, HQLA proxy, CBC classes, market
closures) matches rows on the keys it gives (``instrument_type``, ``product_subtype``,
``cp_class``, ...; a list means any of); the most specific rule (most keys) wins, ties go to the
first listed. Rows no rule matches get the conservative extreme (run-off and drawdown 100%,
funding rollover 0, asset rollover 1, i.e. no inflow) and an assumption is recorded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, ClassVar

import numpy as np
import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from openalm.errors import ConfigError, DataError, SchemaError
from openalm.measures.liquidity.assumptions import Assumption, record_assumption
from openalm.measures.liquidity.frame import CP_CLASSES, HQLA_LEVELS, ordered_group_by

__all__ = [
    "DAILY_COLUMNS",
    "LADDER_COLUMNS",
    "CbcClass",
    "DowngradeOutflow",
    "DrawdownRule",
    "HqlaProxyRule",
    "MarketClosure",
    "RolloverRule",
    "RunoffRule",
    "StressResult",
    "StressScenario",
    "StressSettings",
    "StressSuiteResult",
    "StressTemplates",
    "load_stress_templates",
    "reverse_stress",
    "run_stress",
    "run_stress_suite",
]

#: Columns of the engine's daily contractual ladder.
DAILY_COLUMNS: dict[str, Any] = {
    "currency": pl.String,
    "side": pl.String,
    "instrument_type": pl.String,
    "cp_class": pl.String,
    "performing": pl.Boolean,
    "day": pl.Int32,
    "principal": pl.Float64,
    "interest": pl.Float64,
}

#: Amount columns of the stressed ladder, in order.
LADDER_COLUMNS = (
    "inflow",
    "outflow",
    "runoff",
    "drawdown",
    "downgrade",
    "cbc",
    "net_flow",
    "cumulative_gap",
    "cumulative_with_cbc",
)
_COMPONENTS = ("inflow", "outflow", "runoff", "drawdown", "downgrade", "cbc")
_SIGN = {"inflow": 1.0, "cbc": 1.0, "outflow": -1.0, "runoff": -1.0, "drawdown": -1.0, "downgrade": -1.0}
#: the run-off profile's breakpoints (days) for share_7d and share_30d
_PROFILE_DAYS = (7, 30)
#: principal bands falling due after day 90: the callable run-off base (the daily ladder holds the rest)
_CALLABLE_BANDS = ("m6", "y1", "y5", "y10", "beyond")
#: "negative" for the survival test: below this many currency units (rounding noise)
_NEGATIVE = -1e-6
_MEASURE = "stress"
_SIDES = ("asset", "liability", "equity")

_Key = str | list[str] | None


# ---------------------------------------------------------------------------------------------
# scenario model


class _Matcher(BaseModel):
    """A rule that matches rows on the keys it gives (a list = any of; absent = any value)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1)
    instrument_type: _Key = None
    product_subtype: _Key = None
    cp_class: _Key = None
    source: str = ""
    assumption: bool = False

    _KEYS: ClassVar[tuple[str, ...]] = ("instrument_type", "product_subtype", "cp_class")

    @field_validator("cp_class")
    @classmethod
    def _known_cp_class(cls, value: _Key) -> _Key:
        for v in [value] if isinstance(value, str) else value or []:
            if v not in CP_CLASSES:
                raise ValueError(f"cp_class {v!r} is not one of {CP_CLASSES}")
        return value

    def criteria(self) -> dict[str, list[str]]:
        """``column -> allowed values`` for the keys this rule gives."""
        out: dict[str, list[str]] = {}
        for key in self._KEYS:
            value = getattr(self, key)
            if value is not None:
                out[key] = [value] if isinstance(value, str) else list(value)
        return out


class _Profiled(_Matcher):
    rate: float = Field(ge=0.0, le=1.0)
    share_7d: float | None = Field(None, ge=0.0, le=1.0)
    share_30d: float | None = Field(None, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _profile(self) -> _Profiled:
        if (self.share_7d is None) != (self.share_30d is None):
            raise ValueError(f"{self.code}: give both share_7d and share_30d, or neither (even profile)")
        if self.share_7d is not None and self.share_30d is not None and self.share_7d > self.share_30d:
            raise ValueError(f"{self.code}: share_7d {self.share_7d} exceeds share_30d {self.share_30d}")
        return self


class RunoffRule(_Profiled):
    """Run-off over the horizon of non-maturity / callable liabilities of a category."""


class DrawdownRule(_Profiled):
    """Share of undrawn committed amounts drawn over the horizon, by facility type / counterparty."""


class RolloverRule(_Matcher):
    """Share of maturing principal that is renewed (funding) or must be re-lent (assets)."""

    rate: float = Field(ge=0.0, le=1.0)

    @field_validator("product_subtype")
    @classmethod
    def _no_subtype(cls, value: _Key) -> _Key:
        if value is not None:
            raise ValueError("rollover rules match the daily ladder, which has no product_subtype")
        return value


class HqlaProxyRule(_Matcher):
    """Fallback HQLA level of a category when no level is known."""

    level: str

    @field_validator("level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value not in HQLA_LEVELS:
            raise ValueError(f"level {value!r} is not one of {HQLA_LEVELS}")
        return value


class CbcClass(_Matcher):
    """A class of the counterbalancing capacity: haircut and the days over which it is monetised."""

    label_zh: str
    label_en: str
    hqla_level: _Key = None
    listing_market: _Key = None
    haircut: float = Field(ge=0.0, le=1.0)
    first_day: int = Field(ge=1)
    last_day: int = Field(ge=1)

    _KEYS: ClassVar[tuple[str, ...]] = (
        "instrument_type",
        "product_subtype",
        "cp_class",
        "hqla_level",
        "listing_market",
    )

    @field_validator("hqla_level")
    @classmethod
    def _levels(cls, value: _Key) -> _Key:
        for v in [value] if isinstance(value, str) else value or []:
            if v not in HQLA_LEVELS:
                raise ValueError(f"hqla_level {v!r} is not one of {HQLA_LEVELS}")
        return value

    @model_validator(mode="after")
    def _days(self) -> CbcClass:
        if self.last_day < self.first_day:
            raise ValueError(f"{self.code}: last_day {self.last_day} < first_day {self.first_day}")
        return self


class MarketClosure(_Matcher):
    """No monetisation of the matched CBC contracts on days from_day..to_day."""

    listing_market: _Key = None
    cbc_class: _Key = None
    from_day: int = Field(ge=1)
    to_day: int = Field(ge=1)

    _KEYS: ClassVar[tuple[str, ...]] = ("instrument_type", "product_subtype", "cp_class", "listing_market", "cbc_class")

    @model_validator(mode="after")
    def _window(self) -> MarketClosure:
        if self.to_day < self.from_day:
            raise ValueError(f"{self.code}: to_day {self.to_day} < from_day {self.from_day}")
        if not self.criteria():
            raise ValueError(f"{self.code}: a market closure needs at least one key (instrument_type, ...)")
        return self


class DowngradeOutflow(BaseModel):
    """Rating-downgrade outflow on ``day``: ``amount`` (reporting currency) plus ``share`` of the
    market value of liabilities of ``instrument_type`` (derivatives, secured funding)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    day: int = Field(1, ge=1)
    amount: float = Field(0.0, ge=0.0)
    share: float = Field(0.0, ge=0.0, le=1.0)
    instrument_type: list[str] = Field(default_factory=lambda: ["derivative_leg", "repo"])
    source: str = ""
    assumption: bool = False


class StressScenario(BaseModel):
    """A liquidity stress scenario (see the module docstring for how each part is applied)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    label_zh: str
    label_en: str
    severity: int = 0
    description: str = ""
    runoff: list[RunoffRule] = Field(default_factory=list)
    funding_rollover: list[RolloverRule] = Field(default_factory=list)
    asset_rollover: list[RolloverRule] = Field(default_factory=list)
    drawdown: list[DrawdownRule] = Field(default_factory=list)
    cbc: list[CbcClass] = Field(default_factory=list)
    market_closures: list[MarketClosure] = Field(default_factory=list)
    downgrade: DowngradeOutflow | None = None
    #: run off callable dated liabilities (principal due after day 90) with the run-off rules
    callable_runoff: bool = True
    #: multiplies run-off, funding non-rollover and drawdown rates (each capped at 100%)
    runoff_multiplier: float = Field(1.0, ge=0.0)
    #: stressed LCR window (days) and inflow cap (BCBS 238 para 69: 75%)
    lcr_window_days: int = Field(30, ge=1)
    lcr_inflow_cap: float = Field(0.75, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _consistent(self) -> StressScenario:
        for part in ("runoff", "funding_rollover", "asset_rollover", "drawdown", "cbc", "market_closures"):
            codes = [r.code for r in getattr(self, part)]
            dupes = sorted({c for c in codes if codes.count(c) > 1})
            if dupes:
                raise ValueError(f"scenario {self.name}: {part} codes {dupes} appear twice")
        classes = {c.code for c in self.cbc}
        for closure in self.market_closures:
            unknown = sorted(set(closure.criteria().get("cbc_class", [])) - classes)
            if unknown:
                raise ValueError(f"scenario {self.name}: closure {closure.code} names unknown cbc classes {unknown}")
        return self


def _default_scenarios() -> list[str | StressScenario]:
    return ["mild", "moderate", "severe", "combined"]


class StressSettings(BaseModel):
    """``liquidity.stress`` settings of a run.

    ``scenarios``: template names (``mild``, ``moderate``, ``severe``, ``combined``) and/or inline
    scenarios (mappings in the :class:`StressScenario` format); ``horizon_days``: the stress horizon
    (90); ``currencies``: currencies that also get their own ladder rows besides ``ALL`` (reporting
    currency), ``["*"]`` for every currency; ``reverse_target_days``: the survival target of the
    reverse stress test (30); ``reverse_tolerance``: bisection tolerance on the multiplier.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenarios: list[str | StressScenario] = Field(default_factory=_default_scenarios)
    horizon_days: int = Field(90, ge=31, le=3660)
    currencies: list[str] = Field(default_factory=list)
    reverse_target_days: int = Field(30, ge=1)
    reverse_tolerance: float = Field(1e-4, gt=0.0)

    @model_validator(mode="after")
    def _target(self) -> StressSettings:
        if self.reverse_target_days > self.horizon_days:
            raise ValueError(f"reverse_target_days {self.reverse_target_days} exceeds horizon_days {self.horizon_days}")
        return self


@dataclass(frozen=True)
class StressTemplates:
    """The shipped scenario templates and the fallback HQLA classification."""

    version: str
    source: str
    hqla_proxy: tuple[HqlaProxyRule, ...]
    scenarios: Mapping[str, StressScenario]


@cache
def load_stress_templates() -> StressTemplates:
    """The templates of ``openalm/rules/liquidity/stress_scenarios.yaml``."""
    where = "openalm/rules/liquidity/stress_scenarios.yaml"
    path = resources.files("openalm.rules.liquidity").joinpath("stress_scenarios.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("scenarios"), dict):
        raise ConfigError(f"{where}: expected a mapping with 'scenarios'")
    try:
        proxy = tuple(HqlaProxyRule.model_validate(r) for r in data.get("hqla_proxy") or [])
        scenarios = {
            str(name): StressScenario.model_validate({"name": str(name), **body})
            for name, body in data["scenarios"].items()
        }
    except ValidationError as err:
        raise ConfigError(f"{where}: {err}") from err
    return StressTemplates(str(data.get("version", "")), str(data.get("source", "")), proxy, scenarios)


# ---------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class StressResult:
    """One scenario's stressed ladder and survival figures.

    ``ladder``: ``currency, day`` and :data:`LADDER_COLUMNS` for every currency and ``ALL``, days
    1..H. ``contributions``: one row per contract and mechanism (``runoff``, ``drawdown``,
    ``downgrade``, ``cbc``) with ``code`` (rule / class), ``rate`` (effective rate, or 1 - haircut
    for the CBC), ``base``, ``amount`` (over the horizon) and ``amount_30d`` (within the LCR window),
    contract currency; contractual flows are aggregated in the daily ladder and have no rows here.
    """

    scenario: StressScenario
    horizon_days: int
    ladder: pl.DataFrame
    survival_days: int | None
    stressed_lcr: float | None
    min_cumulative_with_cbc: float
    day_of_min: int
    contributions: pl.DataFrame
    assumptions: tuple[Assumption, ...]

    @property
    def survives_horizon(self) -> bool:
        """True when the cumulative position with CBC never turns negative within the horizon."""
        return self.survival_days is None


@dataclass(frozen=True)
class StressSuiteResult:
    """``tables``: ``liquidity_stress`` and ``liquidity_survival``; per-scenario results."""

    tables: Mapping[str, pl.DataFrame]
    results: Mapping[str, StressResult]
    reverse_multipliers: Mapping[str, float | None]
    assumptions: tuple[Assumption, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------------------------------------
# matching and profiles


def _match(rules: Sequence[_Matcher], columns: Sequence[str], where: str) -> pl.Expr:
    """Index (Int32) of the most specific matching rule, null when none matches."""
    order = sorted(range(len(rules)), key=lambda k: (-len(rules[k].criteria()), k))
    expr: Any = None
    for k in order:
        crit = rules[k].criteria()
        missing = sorted(set(crit) - set(columns))
        if missing:
            raise ConfigError(f"{where}: rule {rules[k].code!r} uses keys {missing} the data does not have")
        cond = pl.lit(True)
        for col, values in crit.items():
            cond = cond & pl.col(col).is_in(values)
        expr = pl.when(cond) if expr is None else expr.when(cond)
        expr = expr.then(pl.lit(k, dtype=pl.Int32))
    if expr is None:
        return pl.lit(None, dtype=pl.Int32)
    return expr.otherwise(pl.lit(None, dtype=pl.Int32))


def _lookup(idx: str, values: Sequence[float | None], default: float) -> pl.Expr:
    """``values[idx]`` (``default`` where ``idx`` is null)."""
    mapping = {k: (default if v is None else float(v)) for k, v in enumerate(values)}
    if not mapping:
        return pl.lit(default, dtype=pl.Float64)
    return pl.col(idx).replace_strict(mapping, default=default, return_dtype=pl.Float64)


def _cumulative_profile(rule: _Profiled | None, horizon: int) -> np.ndarray:
    """C(d) for d = 0..H (see the module docstring)."""
    days = np.arange(horizon + 1, dtype=np.float64)
    if rule is None or rule.share_7d is None or rule.share_30d is None:
        return days / horizon
    if horizon <= _PROFILE_DAYS[1]:
        raise ConfigError(
            f"rule {rule.code}: share_7d/share_30d need a horizon above {_PROFILE_DAYS[1]} days, got {horizon}"
        )
    xp = [0.0, float(_PROFILE_DAYS[0]), float(_PROFILE_DAYS[1]), float(horizon)]
    return np.interp(days, xp, [0.0, rule.share_7d, rule.share_30d, 1.0])


def _cbc_schedule(cls: CbcClass, closure: MarketClosure | None, horizon: int) -> np.ndarray:
    """Share of a class's value monetised on days 1..H (index 0 = day 1)."""
    out = np.zeros(horizon + 1)
    span = cls.last_day - cls.first_day + 1
    for d in range(cls.first_day, min(cls.last_day, horizon) + 1):
        out[d] = 1.0 / span
    if closure is not None and closure.from_day <= horizon:
        lo, hi = closure.from_day, min(closure.to_day, horizon)
        deferred = float(out[lo : hi + 1].sum())
        out[lo : hi + 1] = 0.0
        if closure.to_day + 1 <= horizon:
            out[closure.to_day + 1] += deferred
    return out[1:]


# ---------------------------------------------------------------------------------------------
# input checks


_FRAME_NEEDS = (
    "row",
    "position_id",
    "currency",
    "fx_rc",
    "side",
    "on_balance_sheet",
    "instrument_type",
    "product_subtype",
    "cp_class",
    "balance",
    "market_value",
    "undrawn_amount",
    "encumbered_amount",
    "undated",
    "early_withdrawal_allowed",
    "performing",
    "is_defaulted",
    "listing_market",
    "hqla_level_override",
    *(f"principal_{b}" for b in _CALLABLE_BANDS),
)


def _check_frame(frame: pl.DataFrame, hqla_level: pl.Series | None) -> None:
    missing = [c for c in _FRAME_NEEDS if c not in frame.columns]
    if missing:
        raise SchemaError(f"liquidity frame lacks columns {missing}", file="liquidity frame")
    if hqla_level is None:
        return
    if hqla_level.len() != frame.height:
        raise DataError(
            f"hqla_level has {hqla_level.len()} values, expected one per frame row ({frame.height})",
            file="hqla_level",
            column="hqla_level",
        )
    bad = hqla_level.cast(pl.String).is_not_null() & ~hqla_level.cast(pl.String).is_in(list(HQLA_LEVELS))
    if bad.any():
        k = int(bad.arg_max() or 0)
        raise DataError(
            f"expected one of {HQLA_LEVELS} or null",
            file="hqla_level",
            row=k + 1,
            column="hqla_level",
            value=hqla_level[k],
        )


def _check_daily(daily: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in DAILY_COLUMNS if c not in daily.columns]
    if missing:
        raise SchemaError(f"daily ladder lacks columns {missing}; expected {list(DAILY_COLUMNS)}", file="daily ladder")
    try:
        daily = daily.select(pl.col(c).cast(t, strict=True) for c, t in DAILY_COLUMNS.items())
    except pl.exceptions.PolarsError as err:
        raise SchemaError(f"daily ladder column types: {err}", file="daily ladder") from err
    checks: list[tuple[str, pl.Expr, str]] = [
        ("side", ~pl.col("side").is_in(list(_SIDES)) | pl.col("side").is_null(), f"one of {_SIDES}"),
        ("cp_class", ~pl.col("cp_class").is_in(list(CP_CLASSES)) | pl.col("cp_class").is_null(), "a CP_CLASSES code"),
        ("currency", pl.col("currency").is_null(), "a currency code"),
        ("day", pl.col("day").is_null() | (pl.col("day") < 1), "a day >= 1"),
        ("performing", pl.col("performing").is_null(), "true or false"),
    ]
    for col in ("principal", "interest"):
        checks.append((col, pl.col(col).is_null() | pl.col(col).is_nan() | (pl.col(col) < 0), "a finite amount >= 0"))
    for col, bad_expr, expected in checks:
        bad = daily.select(bad_expr.fill_null(True).alias("bad"))["bad"]
        if bad.any():
            k = int(bad.arg_max() or 0)
            raise DataError(f"expected {expected}", file="daily ladder", row=k + 1, column=col, value=daily[col][k])
    return daily


def _fx_by_currency(frame: pl.DataFrame, reporting_currency: str) -> dict[str, float]:
    """The frame's ``fx_rc`` of each currency (an error when one currency has several rates)."""
    rates = (
        frame.lazy()
        .filter(pl.col("fx_rc").is_not_null() & pl.col("fx_rc").is_not_nan())
        .group_by("currency")
        .agg(pl.col("fx_rc").min().alias("lo"), pl.col("fx_rc").max().alias("hi"))
        .collect()
    )
    out: dict[str, float] = {}
    for ccy, lo, hi in rates.iter_rows():
        if not math.isclose(lo, hi, rel_tol=1e-12):
            raise DataError(
                f"currency {ccy} has several fx_rc values ({lo} .. {hi}); expected one rate per currency",
                file="liquidity frame",
                column="fx_rc",
                value=ccy,
            )
        out[str(ccy)] = float(lo)
    out[reporting_currency] = 1.0
    return out


# ---------------------------------------------------------------------------------------------
# preparation: every stressed amount as base x factor(m) "terms"


_TERM_SCHEMA: dict[str, Any] = {
    "currency": pl.String,
    "day": pl.Int32,
    "component": pl.String,
    "rate": pl.Float64,
    "scalable": pl.Boolean,
    "base": pl.Float64,
    "base_rc": pl.Float64,
}
_CONTRIB_SCHEMA: dict[str, Any] = {
    "row": pl.UInt32,
    "position_id": pl.String,
    "currency": pl.String,
    "mechanism": pl.String,
    "code": pl.String,
    "rate": pl.Float64,
    "scalable": pl.Boolean,
    "base": pl.Float64,
    "share_h": pl.Float64,
    "share_30d": pl.Float64,
}


@dataclass(frozen=True)
class _Prepared:
    scenario: StressScenario
    horizon: int
    window: int
    terms: pl.DataFrame
    contrib: pl.DataFrame
    assumptions: tuple[Assumption, ...]


def _rc(expr: pl.Expr) -> pl.Expr:
    """Sum in the reporting currency over the rows with a known rate."""
    fx_ok = pl.col("fx_rc").is_not_null() & pl.col("fx_rc").is_not_nan()
    return pl.when(fx_ok).then(expr * pl.col("fx_rc")).otherwise(0.0).sum()


def _expand(
    groups: pl.DataFrame, rules: Sequence[_Profiled], component: str, horizon: int, scalable: bool
) -> pl.DataFrame:
    """Spread each (currency, rule) base over days 1..H with the rule's profile."""
    if groups.height == 0:
        return pl.DataFrame(schema=_TERM_SCHEMA)
    idx = sorted({int(i) for i in groups["rule"].to_list()})
    prof_rows = []
    for i in idx:
        rule = rules[i] if i >= 0 else None
        inc = np.diff(_cumulative_profile(rule, horizon))
        prof_rows.append(
            pl.DataFrame(
                {
                    "rule": np.full(horizon, i, dtype=np.int32),
                    "day": np.arange(1, horizon + 1, dtype=np.int32),
                    "inc": inc,
                }
            )
        )
    prof = pl.concat(prof_rows)
    return (
        groups.join(prof, on="rule", how="inner")
        .filter(pl.col("inc") > 0)
        .select(
            pl.col("currency"),
            pl.col("day").cast(pl.Int32),
            pl.lit(component).alias("component"),
            pl.col("rate"),
            pl.lit(scalable).alias("scalable"),
            (pl.col("base") * pl.col("inc")).alias("base"),
            (pl.col("base_rc") * pl.col("inc")).alias("base_rc"),
        )
    )


def _profiled_part(
    cand: pl.DataFrame,
    rules: Sequence[_Profiled],
    mechanism: str,
    component: str,
    horizon: int,
    window: int,
    where: str,
    unmatched_code: str,
    out: list[Assumption],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Terms and contributions of run-off or drawdown candidates (``cand`` has a ``base``)."""
    cand = cand.with_columns(_match(rules, cand.columns, where).alias("rule"))
    record_assumption(
        cand,
        pl.col("rule").is_null(),
        measure=_MEASURE,
        code=unmatched_code,
        message=f"no {mechanism} rule of the scenario matches these contracts",
        assumption=f"{mechanism} rate 100% (conservative)",
        out=out,
    )
    cand = cand.with_columns(pl.col("rule").fill_null(-1))
    rates = [r.rate for r in rules]
    cum = {i: _cumulative_profile(rules[i] if i >= 0 else None, horizon) for i in range(-1, len(rules))}
    cand = cand.with_columns(
        _lookup("rule", rates, 1.0).alias("rate"),
        _lookup("rule", [float(cum[i][window]) for i in range(len(rules))], float(cum[-1][window])).alias("c30"),
        pl.col("rule")
        .replace_strict({i: r.code for i, r in enumerate(rules)}, default="unmatched", return_dtype=pl.String)
        .alias("code"),
    )
    groups = ordered_group_by(cand, "currency", "rule").agg(
        pl.col("rate").first(), pl.col("base").sum(), _rc(pl.col("base")).alias("base_rc")
    )
    terms = _expand(groups, [*rules], component, horizon, scalable=True)
    contrib = cand.select(
        "row",
        "position_id",
        "currency",
        pl.lit(mechanism).alias("mechanism"),
        "code",
        "rate",
        pl.lit(True).alias("scalable"),
        "base",
        pl.lit(1.0).alias("share_h"),
        pl.col("c30").alias("share_30d"),
    )
    return terms, contrib


def _prepare(
    frame: pl.DataFrame,
    daily: pl.DataFrame,
    scenario: StressScenario,
    *,
    hqla_level: pl.Series | None,
    hqla_proxy: Sequence[HqlaProxyRule] | None,
    reporting_currency: str,
    horizon_days: int,
) -> _Prepared:
    if horizon_days < 1:
        raise ConfigError(f"horizon_days must be >= 1, got {horizon_days}")
    _check_frame(frame, hqla_level)
    daily = _check_daily(daily)
    horizon = horizon_days
    window = min(scenario.lcr_window_days, horizon)
    out: list[Assumption] = []
    terms: list[pl.DataFrame] = []
    contribs: list[pl.DataFrame] = []
    fx = _fx_by_currency(frame, reporting_currency)
    # only the columns used: filtering 1M rows of the full frame would copy every column
    f = (
        frame.lazy()
        .select(_FRAME_NEEDS)
        .with_columns(
            pl.coalesce(
                pl.lit(hqla_level.cast(pl.String)) if hqla_level is not None else pl.lit(None, pl.String),
                pl.col("hqla_level_override"),
            ).alias("_given")
        )
        .filter(pl.col("balance").is_not_null() | pl.col("undrawn_amount").is_not_null())
    )

    # 1. contractual flows (daily ladder) after rollover
    d = daily.filter(pl.col("day") <= horizon)
    liab = pl.col("side").is_in(["liability", "equity"])
    d = d.with_columns(
        pl.when(liab)
        .then(_match(scenario.funding_rollover, d.columns, f"scenario {scenario.name}: funding_rollover"))
        .otherwise(_match(scenario.asset_rollover, d.columns, f"scenario {scenario.name}: asset_rollover"))
        .alias("rule")
    )
    unmatched = d.filter(pl.col("rule").is_null() & (pl.col("principal") > 0) & (liab | pl.col("performing")))
    if unmatched.height:
        for side, what in (
            ("liability", "funding rollover 0 (everything leaves)"),
            ("asset", "asset rollover 1 (no inflow)"),
        ):
            hit = unmatched.filter(pl.col("side").is_in(["liability", "equity"]) == (side == "liability"))
            if hit.height:
                amount = hit.select(
                    (
                        pl.col("principal")
                        * pl.col("currency").replace_strict(fx, default=math.nan, return_dtype=pl.Float64)
                    ).sum()
                ).item()
                out.append(
                    Assumption(
                        measure=_MEASURE,
                        code=f"stress.{side}_rollover_unmatched",
                        message=f"no {side} rollover rule matches {hit.height} daily ladder rows",
                        assumption=what,
                        contracts=hit.height,
                        amount_rc=float(amount),
                        sample=(),
                    )
                )
    fund_rates = [1.0 - r.rate for r in scenario.funding_rollover]
    asset_rates = [1.0 - r.rate for r in scenario.asset_rollover]
    d = d.with_columns(
        pl.when(liab).then(_lookup("rule", fund_rates, 1.0)).otherwise(_lookup("rule", asset_rates, 0.0)).alias("rate"),
        pl.col("currency").replace_strict(fx, default=None, return_dtype=pl.Float64).alias("fx"),
    )
    keep = liab | pl.col("performing")
    component = pl.when(liab).then(pl.lit("outflow")).otherwise(pl.lit("inflow"))
    principal = d.filter(keep).select(
        "currency",
        "day",
        component.alias("component"),
        "rate",
        liab.alias("scalable"),
        pl.col("principal").alias("base"),
        "fx",
    )
    interest = d.filter(keep).select(
        "currency",
        "day",
        component.alias("component"),
        pl.lit(1.0).alias("rate"),
        pl.lit(False).alias("scalable"),
        pl.col("interest").alias("base"),
        "fx",
    )
    flows = (
        ordered_group_by(
            pl.concat([principal, interest]).filter(pl.col("base") > 0),
            "currency",
            "day",
            "component",
            "rate",
            "scalable",
        )
        .agg(pl.col("base").sum(), pl.col("fx").first())
        .with_columns((pl.col("base") * pl.col("fx").fill_null(math.nan)).alias("base_rc"))
        .select(list(_TERM_SCHEMA))
    )
    no_fx = flows.filter(pl.col("base_rc").is_nan())
    if no_fx.height:
        out.append(
            Assumption(
                measure=_MEASURE,
                code="stress.daily_currency_without_fx",
                message=f"no fx_rc for currencies {sorted(set(no_fx['currency']))} of the daily ladder",
                assumption="left out of the ALL (reporting currency) ladder",
                contracts=no_fx.height,
                amount_rc=math.nan,
                sample=(),
            )
        )
    terms.append(flows)

    # 2. behavioural run-off of non-maturity and callable liabilities
    is_liab = (pl.col("side") == "liability") & pl.col("on_balance_sheet").fill_null(True)
    callable_base = pl.sum_horizontal([pl.col(f"principal_{b}").fill_null(0.0) for b in _CALLABLE_BANDS])
    runoff_base: Any = pl.when(pl.col("undated").fill_null(False)).then(pl.col("balance").fill_null(0.0))
    if scenario.callable_runoff:
        runoff_base = runoff_base.when(pl.col("early_withdrawal_allowed").fill_null(False)).then(callable_base)
    cand = f.filter(is_liab).with_columns(runoff_base.otherwise(0.0).alias("base")).filter(pl.col("base") > 0).collect()
    record_assumption(
        cand,
        pl.col("cp_class") == "unknown",
        measure=_MEASURE,
        code="stress.runoff_cp_class_unknown",
        message="counterparty class unknown for liabilities subject to run-off",
        assumption="run-off rule for cp_class 'unknown' (or the instrument's catch-all) applied",
        out=out,
    )
    t, c = _profiled_part(
        cand,
        scenario.runoff,
        "runoff",
        "runoff",
        horizon,
        window,
        f"scenario {scenario.name}: runoff",
        "stress.runoff_unmatched",
        out,
    )
    terms.append(t)
    contribs.append(c)

    # 3. drawdowns of committed facilities granted
    is_asset = pl.col("side") == "asset"
    no_undrawn = (pl.col("instrument_type") == "loan_commitment") & pl.col("undrawn_amount").is_null()
    cand = (
        f.filter(is_asset)
        .with_columns(
            pl.when(no_undrawn)
            .then(pl.col("balance").fill_null(0.0))
            .otherwise(pl.col("undrawn_amount").fill_null(0.0))
            .alias("base")
        )
        .filter(pl.col("base") > 0)
        .collect()
    )
    record_assumption(
        cand,
        no_undrawn,
        measure=_MEASURE,
        code="stress.commitment_without_undrawn_amount",
        message="loan commitment without undrawn_amount",
        assumption="the balance is the undrawn committed amount",
        out=out,
    )
    t, c = _profiled_part(
        cand,
        scenario.drawdown,
        "drawdown",
        "drawdown",
        horizon,
        window,
        f"scenario {scenario.name}: drawdown",
        "stress.drawdown_unmatched",
        out,
    )
    terms.append(t)
    contribs.append(c)

    # 4. rating downgrade
    dg = scenario.downgrade
    if dg is not None and dg.day <= horizon:
        if dg.amount > 0:
            terms.append(
                pl.DataFrame(
                    [[reporting_currency, dg.day, "downgrade", 1.0, False, dg.amount, dg.amount]],
                    schema=_TERM_SCHEMA,
                    orient="row",
                )
            )
        if dg.share > 0:
            cand = (
                f.filter((pl.col("side") == "liability") & pl.col("instrument_type").is_in(dg.instrument_type))
                .with_columns(pl.col("market_value").abs().fill_null(0.0).alias("base"))
                .filter(pl.col("base") > 0)
                .collect()
            )
            groups = ordered_group_by(cand, "currency").agg(pl.col("base").sum(), _rc(pl.col("base")).alias("base_rc"))
            terms.append(
                groups.select(
                    "currency",
                    pl.lit(dg.day, dtype=pl.Int32).alias("day"),
                    pl.lit("downgrade").alias("component"),
                    pl.lit(dg.share).alias("rate"),
                    pl.lit(False).alias("scalable"),
                    "base",
                    "base_rc",
                )
            )
            contribs.append(
                cand.select(
                    "row",
                    "position_id",
                    "currency",
                    pl.lit("downgrade").alias("mechanism"),
                    pl.lit("downgrade").alias("code"),
                    pl.lit(dg.share).alias("rate"),
                    pl.lit(False).alias("scalable"),
                    "base",
                    pl.lit(1.0).alias("share_h"),
                    pl.lit(1.0 if dg.day <= window else 0.0).alias("share_30d"),
                )
            )

    # 5. counterbalancing capacity
    t, c = _cbc_part(f, scenario, hqla_proxy, horizon, window, out)
    terms.append(t)
    contribs.append(c)

    all_terms = pl.concat([x.select(list(_TERM_SCHEMA)).cast(_TERM_SCHEMA) for x in terms])  # type: ignore[arg-type]
    all_contrib = pl.concat([x.select(list(_CONTRIB_SCHEMA)).cast(_CONTRIB_SCHEMA) for x in contribs])  # type: ignore[arg-type]
    return _Prepared(scenario, horizon, window, all_terms, all_contrib, tuple(out))


def _cbc_part(
    f: pl.LazyFrame,
    scenario: StressScenario,
    hqla_proxy: Sequence[HqlaProxyRule] | None,
    horizon: int,
    window: int,
    out: list[Assumption],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    proxy = list(load_stress_templates().hqla_proxy if hqla_proxy is None else hqla_proxy)
    eligible = (
        (pl.col("side") == "asset")
        & pl.col("on_balance_sheet").fill_null(True)
        & pl.col("performing").fill_null(False)
        & ~pl.col("is_defaulted").fill_null(False)
    )
    columns = [*f.collect_schema().names(), "hqla_level", "cbc_class"]
    bal = pl.col("balance").fill_null(0.0)
    enc = pl.col("encumbered_amount").fill_null(0.0)
    enc_share = pl.when(bal > 0).then((enc / bal).clip(0.0, 1.0)).otherwise(pl.when(enc > 0).then(1.0).otherwise(0.0))
    levels = {i: r.level for i, r in enumerate(proxy)}
    codes = {i: c.code for i, c in enumerate(scenario.cbc)}
    cand = (
        f.filter(eligible & (pl.col("market_value").abs().fill_null(0.0) > 0))
        .with_columns(
            pl.coalesce(
                pl.col("_given"),
                _match(proxy, columns, "hqla_proxy").replace_strict(levels, default="non_hqla", return_dtype=pl.String),
            ).alias("hqla_level")
        )
        .with_columns(_match(scenario.cbc, columns, f"scenario {scenario.name}: cbc").alias("cls"))
        .filter(pl.col("cls").is_not_null())
        .with_columns(pl.col("cls").replace_strict(codes, return_dtype=pl.String).alias("cbc_class"))
        .with_columns(
            _match(scenario.market_closures, columns, f"scenario {scenario.name}: market_closures")
            .fill_null(-1)
            .alias("closure"),
            (pl.col("market_value").abs() * (1.0 - enc_share)).alias("base"),
            _lookup("cls", [1.0 - c.haircut for c in scenario.cbc], 0.0).alias("rate"),
        )
        .collect()
    )
    record_assumption(
        cand,
        pl.col("_given").is_null(),
        measure=_MEASURE,
        code="stress.hqla_level_proxy",
        message="no HQLA level from the LCR classification or hqla_level_override",
        assumption="HQLA level from the stress templates' hqla_proxy (else non_hqla)",
        out=out,
    )
    cand = cand.filter(pl.col("base") > 0)
    keys = sorted(cand.select("cls", "closure").unique().iter_rows())
    sched_rows = []
    share_h: dict[tuple[int, int], float] = {}
    share_w: dict[tuple[int, int], float] = {}
    for cls_i, clo_i in keys:
        closure = scenario.market_closures[clo_i] if clo_i >= 0 else None
        sched = _cbc_schedule(scenario.cbc[cls_i], closure, horizon)
        share_h[(cls_i, clo_i)] = float(sched.sum())
        share_w[(cls_i, clo_i)] = float(sched[:window].sum())
        sched_rows.append(
            pl.DataFrame(
                {
                    "cls": np.full(horizon, cls_i, dtype=np.int32),
                    "closure": np.full(horizon, clo_i, dtype=np.int32),
                    "day": np.arange(1, horizon + 1, dtype=np.int32),
                    "inc": sched,
                }
            )
        )
    if not keys:
        return pl.DataFrame(schema=_TERM_SCHEMA), pl.DataFrame(schema=_CONTRIB_SCHEMA)
    groups = ordered_group_by(cand, "currency", "cls", "closure").agg(
        (pl.col("base") * pl.col("rate")).sum().alias("base"),
        _rc(pl.col("base") * pl.col("rate")).alias("base_rc"),
    )
    terms = (
        groups.join(pl.concat(sched_rows), on=["cls", "closure"], how="inner")
        .filter(pl.col("inc") > 0)
        .select(
            "currency",
            "day",
            pl.lit("cbc").alias("component"),
            pl.lit(1.0).alias("rate"),
            pl.lit(False).alias("scalable"),
            (pl.col("base") * pl.col("inc")).alias("base"),
            (pl.col("base_rc") * pl.col("inc")).alias("base_rc"),
        )
    )
    key_expr = pl.col("cls").cast(pl.Int64) * 100_000 + pl.col("closure").cast(pl.Int64)
    contrib = cand.select(
        "row",
        "position_id",
        "currency",
        pl.lit("cbc").alias("mechanism"),
        "cbc_class",
        "rate",
        pl.lit(False).alias("scalable"),
        "base",
        key_expr.replace_strict({a * 100_000 + b: v for (a, b), v in share_h.items()}, return_dtype=pl.Float64).alias(
            "share_h"
        ),
        key_expr.replace_strict({a * 100_000 + b: v for (a, b), v in share_w.items()}, return_dtype=pl.Float64).alias(
            "share_30d"
        ),
    ).rename({"cbc_class": "code"})
    return terms, contrib


# ---------------------------------------------------------------------------------------------
# evaluation


def _factor(m: float) -> pl.Expr:
    return pl.when(pl.col("scalable")).then((pl.col("rate") * m).clip(upper_bound=1.0)).otherwise(pl.col("rate"))


def _ladder(prep: _Prepared, m: float) -> pl.DataFrame:
    t = prep.terms.with_columns(_factor(m).alias("f"))
    sums = [(pl.col("amount").filter(pl.col("component") == comp).sum()).alias(comp) for comp in _COMPONENTS]
    per_ccy = ordered_group_by(t.with_columns((pl.col("base") * pl.col("f")).alias("amount")), "currency", "day").agg(
        sums
    )
    all_rows = (
        ordered_group_by(
            t.filter(pl.col("base_rc").is_not_nan()).with_columns((pl.col("base_rc") * pl.col("f")).alias("amount")),
            "day",
        )
        .agg(sums)
        .with_columns(pl.lit("ALL").alias("currency"))
    )
    currencies = [*sorted(set(prep.terms["currency"].to_list())), "ALL"]
    grid = pl.DataFrame({"currency": currencies}).join(
        pl.DataFrame({"day": np.arange(1, prep.horizon + 1, dtype=np.int32)}), how="cross"
    )
    lad = (
        grid.join(pl.concat([per_ccy, all_rows.select(per_ccy.columns)]), on=["currency", "day"], how="left")
        .with_columns(pl.col(c).fill_null(0.0) for c in _COMPONENTS)
        .sort("currency", "day")
        .with_columns(
            (pl.col("inflow") - pl.col("outflow") - pl.col("runoff") - pl.col("drawdown") - pl.col("downgrade")).alias(
                "net_flow"
            )
        )
        .with_columns(pl.col("net_flow").cum_sum().over("currency").alias("cumulative_gap"))
        .with_columns(
            (pl.col("cumulative_gap") + pl.col("cbc").cum_sum().over("currency")).alias("cumulative_with_cbc")
        )
    )
    return lad.select("currency", "day", *LADDER_COLUMNS)


def _survival(cumulative: np.ndarray) -> int | None:
    neg = np.flatnonzero(cumulative < _NEGATIVE)
    return int(neg[0]) + 1 if neg.size else None


def _all_arrays(prep: _Prepared) -> tuple[np.ndarray, ...]:
    t = prep.terms.filter(pl.col("base_rc").is_not_nan())
    sign = t["component"].replace_strict(_SIGN, return_dtype=pl.Float64).to_numpy()
    return (
        t["day"].to_numpy().astype(np.int64),
        sign * t["base_rc"].to_numpy(),
        t["rate"].to_numpy(),
        t["scalable"].to_numpy(),
    )


def _survival_at(arrays: tuple[np.ndarray, ...], horizon: int, m: float) -> int | None:
    day, signed, rate, scalable = arrays
    f = np.where(scalable, np.minimum(rate * m, 1.0), rate)
    per_day = np.bincount(day, weights=signed * f, minlength=horizon + 1)[1 : horizon + 1]
    return _survival(np.cumsum(per_day))


def _reverse(prep: _Prepared, target_days: int, tolerance: float) -> float | None:
    if not 1 <= target_days <= prep.horizon:
        raise ConfigError(f"target_days must be in 1..{prep.horizon} (the horizon), got {target_days}")
    arrays = _all_arrays(prep)

    def fails(m: float) -> bool:
        s = _survival_at(arrays, prep.horizon, m)
        return s is not None and s < target_days

    rate, scalable = arrays[2], arrays[3]
    positive = rate[scalable & (rate > 0)]
    if fails(0.0):
        return 0.0
    if positive.size == 0:
        return None
    hi = 1.0 / float(positive.min())
    if not fails(hi):
        return None
    lo = 0.0
    while hi - lo > tolerance:
        mid = 0.5 * (lo + hi)
        if fails(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _result(prep: _Prepared, m: float) -> StressResult:
    lad = _ladder(prep, m)
    all_rows = lad.filter(pl.col("currency") == "ALL").sort("day")
    cum = all_rows["cumulative_with_cbc"].to_numpy()
    w = all_rows.filter(pl.col("day") <= prep.window)
    outflows = float(w.select(pl.sum_horizontal("outflow", "runoff", "drawdown", "downgrade").sum()).item())
    inflows = float(w["inflow"].sum())
    denominator = outflows - min(inflows, prep.scenario.lcr_inflow_cap * outflows)
    lcr = float(w["cbc"].sum()) / denominator if denominator > 0 else None
    k = int(np.argmin(cum))
    contrib = prep.contrib.with_columns(
        pl.when(pl.col("scalable"))
        .then((pl.col("rate") * m).clip(upper_bound=1.0))
        .otherwise(pl.col("rate"))
        .alias("rate")
    ).select(
        "row",
        "position_id",
        "currency",
        "mechanism",
        "code",
        "rate",
        "base",
        (pl.col("base") * pl.col("rate") * pl.col("share_h")).alias("amount"),
        (pl.col("base") * pl.col("rate") * pl.col("share_30d")).alias("amount_30d"),
    )
    return StressResult(
        scenario=prep.scenario,
        horizon_days=prep.horizon,
        ladder=lad,
        survival_days=_survival(cum),
        stressed_lcr=lcr,
        min_cumulative_with_cbc=float(cum[k]),
        day_of_min=k + 1,
        contributions=contrib,
        assumptions=prep.assumptions,
    )


# ---------------------------------------------------------------------------------------------
# public API


def run_stress(
    frame: pl.DataFrame,
    daily: pl.DataFrame,
    scenario: StressScenario,
    *,
    hqla_level: pl.Series | None = None,
    hqla_proxy: Sequence[HqlaProxyRule] | None = None,
    reporting_currency: str = "CNY",
    horizon_days: int = 90,
) -> StressResult:
    """Stressed daily ladder, survival horizon and stressed LCR of one scenario.

    Parameters
    ----------
    frame:
        The per-contract liquidity frame (:data:`~.frame.FRAME_SCHEMA`).
    daily:
        The daily contractual ladder (:data:`DAILY_COLUMNS`; days after ``horizon_days`` are ignored).
    scenario:
        The scenario; its ``runoff_multiplier`` scales run-off, funding non-rollover and drawdown
        rates (capped at 100%).
    hqla_level:
        HQLA level per frame row (``level_1``, ``level_2a``, ``level_2b``, ``non_hqla``) from the
        LCR classification; null entries and an absent series fall back to
        ``hqla_level_override``, then to ``hqla_proxy`` (default: the templates'), recorded as the
        assumption ``stress.hqla_level_proxy``.
    reporting_currency:
        Currency of the ``ALL`` rows.
    horizon_days:
        Stress horizon H; run-off and drawdown rates are totals over H days.

    Returns
    -------
    StressResult
        See the module docstring for the formulas.
    """
    prep = _prepare(
        frame,
        daily,
        scenario,
        hqla_level=hqla_level,
        hqla_proxy=hqla_proxy,
        reporting_currency=reporting_currency,
        horizon_days=horizon_days,
    )
    return _result(prep, scenario.runoff_multiplier)


def reverse_stress(
    frame: pl.DataFrame,
    daily: pl.DataFrame,
    scenario: StressScenario,
    target_days: int = 30,
    *,
    hqla_level: pl.Series | None = None,
    hqla_proxy: Sequence[HqlaProxyRule] | None = None,
    reporting_currency: str = "CNY",
    horizon_days: int = 90,
    tolerance: float = 1e-4,
) -> float | None:
    """The smallest run-off multiplier at which the survival horizon falls below ``target_days``.

    Bisection on ``m`` in [0, 1 / smallest positive scalable rate] (where every run-off, funding
    non-rollover and drawdown rate reaches 100%): the returned ``m`` fails (survival <
    ``target_days``) and ``m - tolerance`` survives at least ``target_days`` days. Returns 0.0 when
    even contractual flows alone fail, ``None`` when full run-off still survives. The scenario's
    own ``runoff_multiplier`` is ignored. Other parameters as :func:`run_stress`.
    """
    if tolerance <= 0:
        raise ConfigError(f"tolerance must be > 0, got {tolerance}")
    prep = _prepare(
        frame,
        daily,
        scenario,
        hqla_level=hqla_level,
        hqla_proxy=hqla_proxy,
        reporting_currency=reporting_currency,
        horizon_days=horizon_days,
    )
    return _reverse(prep, target_days, tolerance)


_STRESS_TABLE = ("scenario", "day", "currency", *LADDER_COLUMNS)
_SURVIVAL_SCHEMA: dict[str, Any] = {
    "scenario": pl.String,
    "label_zh": pl.String,
    "label_en": pl.String,
    "survival_days": pl.Int32,
    "survives_horizon": pl.Boolean,
    "stressed_lcr": pl.Float64,
    "min_cumulative_with_cbc": pl.Float64,
    "day_of_min": pl.Int32,
    "reverse_multiplier": pl.Float64,
}


def _scenarios(settings: StressSettings, templates: StressTemplates) -> list[StressScenario]:
    out: list[StressScenario] = []
    for item in settings.scenarios:
        if isinstance(item, str):
            if item not in templates.scenarios:
                raise ConfigError(
                    f"liquidity.stress.scenarios: unknown template {item!r}; known: {sorted(templates.scenarios)}"
                )
            out.append(templates.scenarios[item])
        else:
            out.append(item)
    names = [s.name for s in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"liquidity.stress.scenarios: scenario names {dupes} appear twice")
    return out


def run_stress_suite(
    frame: pl.DataFrame,
    daily: pl.DataFrame,
    settings: StressSettings,
    *,
    hqla_level: pl.Series | None = None,
    reporting_currency: str = "CNY",
    templates: StressTemplates | None = None,
) -> StressSuiteResult:
    """Every scenario of ``settings``: the ``liquidity_stress`` and ``liquidity_survival`` tables.

    ``liquidity_stress``: ``scenario, day, currency`` and :data:`LADDER_COLUMNS` for ``ALL`` and the
    currencies of ``settings.currencies``. ``liquidity_survival``: one row per scenario with
    ``survival_days`` (null when it survives the horizon), ``survives_horizon``, ``stressed_lcr``,
    ``min_cumulative_with_cbc``, ``day_of_min`` (ALL ladder) and ``reverse_multiplier`` (the
    :func:`reverse_stress` multiplier for ``settings.reverse_target_days``).
    """
    templates = templates or load_stress_templates()
    results: dict[str, StressResult] = {}
    reverse: dict[str, float | None] = {}
    ladders: list[pl.DataFrame] = []
    rows: list[dict[str, Any]] = []
    assumptions: list[Assumption] = []
    for scenario in _scenarios(settings, templates):
        prep = _prepare(
            frame,
            daily,
            scenario,
            hqla_level=hqla_level,
            hqla_proxy=templates.hqla_proxy,
            reporting_currency=reporting_currency,
            horizon_days=settings.horizon_days,
        )
        res = _result(prep, scenario.runoff_multiplier)
        rev = _reverse(prep, settings.reverse_target_days, settings.reverse_tolerance)
        results[scenario.name] = res
        reverse[scenario.name] = rev
        assumptions.extend(prep.assumptions)
        lad = res.ladder
        if "*" not in settings.currencies:
            lad = lad.filter(pl.col("currency").is_in(["ALL", *settings.currencies]))
        ladders.append(lad.with_columns(pl.lit(scenario.name).alias("scenario")).select(_STRESS_TABLE))
        rows.append(
            {
                "scenario": scenario.name,
                "label_zh": scenario.label_zh,
                "label_en": scenario.label_en,
                "survival_days": res.survival_days,
                "survives_horizon": res.survives_horizon,
                "stressed_lcr": res.stressed_lcr,
                "min_cumulative_with_cbc": res.min_cumulative_with_cbc,
                "day_of_min": res.day_of_min,
                "reverse_multiplier": rev,
            }
        )
    empty: dict[str, Any] = {"scenario": pl.String, "day": pl.Int32, "currency": pl.String}
    empty.update(dict.fromkeys(LADDER_COLUMNS, pl.Float64))
    stress = pl.concat(ladders) if ladders else pl.DataFrame(schema=empty)
    survival = pl.DataFrame(rows, schema=_SURVIVAL_SCHEMA)
    return StressSuiteResult(
        tables={"liquidity_stress": stress, "liquidity_survival": survival},
        results=results,
        reverse_multipliers=reverse,
        assumptions=tuple(dict.fromkeys(assumptions)),  # identical records of several scenarios once
    )
