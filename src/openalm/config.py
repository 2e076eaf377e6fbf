"""Typed run configuration (the YAML file of ``--config``), with ``OPENALM_*`` environment overrides.

Every key has a documented default (README, "Configuration"); the names that other systems rely on
are those of ``shared/spec/interfaces.md``: ``reporting_currency``, ``rule_set``,
``discount_curves``, ``bucket_sets``, ``scenarios``, ``nii``.

Environment variables override the file: ``OPENALM_REPORTING_CURRENCY=USD``,
``OPENALM_ENGINE__PARTITION_SIZE=50000`` (nested keys joined by ``__``).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from openalm.errors import ConfigError

__all__ = [
    "BankRuleSettings",
    "DataQualitySettings",
    "EngineSettings",
    "NiiSettings",
    "NonMaturitySettings",
    "ReconciliationSettings",
    "RunConfig",
    "load_config",
]

BASEL_SCENARIOS = ("parallel_up", "parallel_down", "steepener", "flattener", "short_up", "short_down")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NiiSettings(_Strict):
    """NII horizon settings (used by the NII measure; recorded in the manifest)."""

    horizon_months: int = Field(12, ge=1, le=120)
    balance_sheet: Literal["constant", "runoff"] = "constant"


class NonMaturitySettings(_Strict):
    """Run-off profiles of non-maturity rows until the behavioural models arrive.

    ``profiles`` maps a key -- a ``behavioural_class``, a ``product_subtype`` or an
    ``instrument_type``, looked up in that order, then ``default`` -- to either ``"undated"`` or a
    mapping ``tenor -> share`` whose shares sum to 1 (e.g. ``{"1D": 0.3, "1Y": 0.7}``).
    """

    profiles: dict[str, dict[str, float] | Literal["undated"]] = Field(
        default_factory=lambda: {"default": {"1D": 1.0}, "required_reserve": "undated"}
    )

    @field_validator("profiles")
    @classmethod
    def _shares_sum_to_one(cls, value: dict[str, dict[str, float] | str]) -> dict[str, dict[str, float] | str]:
        for key, profile in value.items():
            if isinstance(profile, dict):
                total = sum(profile.values())
                if abs(total - 1.0) > 1e-9 or any(s < 0 for s in profile.values()):
                    raise ValueError(f"non_maturity profile {key!r}: shares must be >= 0 and sum to 1, got {total}")
        if "default" not in value:
            value = {**value, "default": {"1D": 1.0}}
        return value


class EngineSettings(_Strict):
    """How the run is executed (never changes a figure)."""

    partition_size: int = Field(50_000, ge=1)
    executor: Literal["local", "processes", "dask"] = "local"
    workers: int | None = Field(None, ge=1)
    scheduler: str | None = None
    ladder_scenarios: list[str] = Field(default_factory=lambda: ["base"])
    #: Workspace runs: the locality columns a stable partition plan orders contracts by (then the
    #: contract key), so that contracts corrected together share partitions.
    partition_key: list[str] = Field(default_factory=lambda: ["source_system", "product_code", "branch_id"])


class ReconciliationSettings(_Strict):
    """Positions-to-ledger reconciliation (positions.md 5.5; :mod:`openalm.data.reconciliation`).

    ``level``: ``branch`` compares per branch, ``entity`` per legal entity, ``auto`` per branch
    when both positions and ledger carry ``branch_id`` on every row. Tolerances (in the account's
    currency) apply where ``gl_account_map`` leaves them empty: a break is
    ``|difference| > max(tolerance_abs, tolerance_rel x |GL balance|)``. ``policy``: ``block``
    raises ``ReconciliationError`` on breaks, ``warn`` reports them.
    """

    level: Literal["auto", "branch", "entity"] = "auto"
    tolerance_abs: Decimal = Field(default=Decimal("0.01"), ge=0, allow_inf_nan=False)
    tolerance_rel: Decimal = Field(default=Decimal("0"), ge=0, allow_inf_nan=False)
    policy: Literal["warn", "block"] = "warn"


class BankRuleSettings(_Strict):
    """A bank-defined data-quality rule (:mod:`openalm.data.quality_rules`).

    ``condition`` is a SQL boolean expression over the columns of ``table`` (DuckDB dialect), TRUE
    on the offending rows, e.g. ``product_code = 'LN01' AND current_rate < 0.02``; ``column`` is
    the column quoted as the value (default: the last key column of the table).
    """

    id: str = Field(min_length=1)
    table: str = "positions"
    condition: str = Field(min_length=1)
    severity: Literal["error", "warning"] = "warning"
    message_zh: str = Field(min_length=1)
    message_en: str = Field(min_length=1)
    column: str | None = None


class DataQualitySettings(_Strict):
    """Data-quality rules: severity overrides, bank-defined rules, report samples.

    ``severity`` maps a rule id (``POS-RATE-001``) or a reason code (``implausible_rate``) to
    ``error`` (quarantine the row) or ``warning`` (use and flag it); only adjustable rules of
    ``openalm/rules/data_quality/rules.yaml`` may be changed (ConfigError otherwise).
    """

    severity: dict[str, Literal["error", "warning"]] = Field(default_factory=dict)
    rules: list[BankRuleSettings] = Field(default_factory=list)
    sample_rows: int = Field(5, ge=0, le=1000)

    @model_validator(mode="after")
    def _check(self) -> DataQualitySettings:
        if self.severity or self.rules:
            # imported here: the catalogue pulls in the data layer, which plain settings do not need
            from openalm.data.quality_rules import check_settings

            check_settings(self)
        return self


from openalm.measures.liquidity.cn_ratios import CnRatioSettings  # noqa: E402
from openalm.measures.liquidity.concentration import ConcentrationSettings  # noqa: E402
from openalm.measures.liquidity.lcr import LcrSettings  # noqa: E402
from openalm.measures.liquidity.limits import LimitSettings  # noqa: E402
from openalm.measures.liquidity.nsfr import NsfrSettings  # noqa: E402
from openalm.measures.liquidity.stress import StressSettings  # noqa: E402


class LiquiditySettings(_Strict):
    """The liquidity module (ladders and gaps, LCR, NSFR, Chinese ratios, stress tests, returns).

    ``rule_overrides`` replaces single factors of the shipped rule tables
    (``{table: {category code: factor}}``, decimals; every override is reported in the manifest's
    warnings). ``cn_ratios.demand_deposit_stable_balance`` / ``demand_deposit_stable_share`` give
    the stable part of demand deposits (G21 memo rows 7/17: the lowest balance of the past 12
    months; the share is a placeholder until balance history is loaded) used by the behavioural gap
    and the liquidity matching ratio. ``daily_days`` is the length of the daily liquidity ladder
    the stress tests use.
    """

    enabled: bool = True
    rule_overrides: dict[str, dict[str, float]] = Field(default_factory=dict)
    lcr: LcrSettings = Field(default_factory=LcrSettings)
    nsfr: NsfrSettings = Field(default_factory=NsfrSettings)
    cn_ratios: CnRatioSettings = Field(default_factory=CnRatioSettings)
    concentration: ConcentrationSettings = Field(default_factory=ConcentrationSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    stress: StressSettings = Field(default_factory=StressSettings)
    daily_days: int = Field(90, ge=1, le=731)
    returns: bool = True


class RunConfig(BaseSettings):
    """The assumption set of a run.

    Examples
    --------
    >>> RunConfig().reporting_currency
    'CNY'
    """

    model_config = SettingsConfigDict(env_prefix="OPENALM_", env_nested_delimiter="__", extra="forbid", frozen=True)

    reporting_currency: str = "CNY"
    rule_set: Literal["china", "basel"] = "china"
    shock_set: str | None = None
    discount_curves: dict[str, str] = Field(default_factory=dict)
    bucket_sets: dict[str, list[str]] = Field(default_factory=dict)
    scenarios: list[str] = Field(default_factory=lambda: list(BASEL_SCENARIOS))
    nii: NiiSettings = Field(default_factory=NiiSettings)
    non_maturity: NonMaturitySettings = Field(default_factory=NonMaturitySettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    liquidity: LiquiditySettings = Field(default_factory=LiquiditySettings)
    reconciliation: ReconciliationSettings = Field(default_factory=ReconciliationSettings)
    data_quality: DataQualitySettings = Field(default_factory=DataQualitySettings)
    on_reject: Literal["continue", "stop"] = "continue"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # environment first: OPENALM_* overrides what the YAML file says
        return env_settings, init_settings

    @model_validator(mode="after")
    def _check(self) -> RunConfig:
        if len(self.reporting_currency) != 3 or not self.reporting_currency.isupper():
            raise ValueError(f"reporting_currency must be an ISO 4217 code, got {self.reporting_currency!r}")
        reserved = {"monthly", "g21", "irrbb"}
        clash = reserved & set(self.bucket_sets)
        if clash:
            raise ValueError(f"bucket_sets: {sorted(clash)} are built in; choose another name")
        return self

    @property
    def shock_set_name(self) -> str:
        """The IRRBB shock parameter set: configured, else by rule set."""
        if self.shock_set:
            return self.shock_set
        return "cn_g33_2024" if self.rule_set == "china" else "bcbs_d368_2016"


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Read a YAML config file (or defaults) into a validated :class:`RunConfig`.

    Raises
    ------
    ConfigError
        The file is missing, not YAML, not a mapping, or a key/value is invalid (the message names
        the key and what was expected).
    """
    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"cannot read config file {path}: {err}") from err
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ConfigError(f"config file {path} is not valid YAML: {err}") from err
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path}: expected a mapping of keys, got {type(loaded).__name__}")
        data = loaded
    if overrides:
        data = {**data, **overrides}
    try:
        return RunConfig(**data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']} (got {e.get('input')!r})"
            for e in err.errors()
        )
        raise ConfigError(f"config {source}: {problems}") from err
