"""Liquidity limits: regulatory limits from the rule table, internal early-warning thresholds from
the config, and the status of each indicator (the ``ratios`` result table).

The regulatory limit and the direction of every indicator live in the ``limits`` rule table
(``openalm/rules/liquidity/<rule_set>/limits.yaml``: ``factor`` = limit, null for monitoring-only
indicators; ``direction`` ``min`` = the value must be at least the limit, higher is more liquid;
``max`` = at most). The bank's own thresholds come from :class:`LimitSettings`. A value exactly at
a limit or threshold passes (regulatory.md 0.2).

Status of an indicator with direction ``min`` (``max`` mirrored):

* ``breach``  value < limit (regulatory, or the bank's internal limit where there is none);
* ``warning`` limit <= value < warning threshold;
* ``ok``      otherwise (also for monitoring-only indicators without limit and threshold);
* ``n/a``     no value (None or NaN), or the indicator does not apply to the bank.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import polars as pl
from pydantic import BaseModel, Field

from openalm.errors import ConfigError
from openalm.measures.liquidity.rules import RuleTable, load_rule_table

__all__ = ["LIMITS_SCHEMA", "LimitSettings", "applicable_indicators", "evaluate"]

_THRESHOLD = "param.size_threshold_total_assets"

LIMITS_SCHEMA = {
    "indicator": pl.String,
    "value": pl.Float64,
    "limit": pl.Float64,
    "status": pl.String,
    "warning_threshold": pl.Float64,
    "direction": pl.String,
    "label_zh": pl.String,
    "label_en": pl.String,
    "regulatory": pl.Boolean,
    "applicable": pl.Boolean,
    "source": pl.String,
}


class LimitSettings(BaseModel, extra="forbid"):
    """The bank's limit settings (the lead adds them under ``liquidity.limits``).

    Attributes
    ----------
    warning_thresholds:
        Internal early-warning threshold per indicator (decimal, same direction as the limit; for
        a ``min`` indicator it must be at or above the limit). Defaults are illustrative internal
        buffers, not regulation: LCR 110%, NSFR 105%, HQLA adequacy 110%, liquidity ratio 30%,
        LMR 105%, core liability ratio 65%, gap ratio -5%, interbank funding share 30%.
    internal_limits:
        The bank's own hard limit for indicators without a regulatory one (e.g. ``ldr: 0.75``);
        a breach of it is reported with ``regulatory = false``.
    applicable:
        Forces the list of regulatory indicators that apply to the bank (instead of the size test).
    """

    warning_thresholds: dict[str, float] = Field(
        default_factory=lambda: {
            "lcr": 1.10,
            "nsfr": 1.05,
            "hqla_adequacy": 1.10,
            "liquidity_ratio": 0.30,
            "lmr": 1.05,
            "core_liability_ratio": 0.65,
            "liquidity_gap_ratio": -0.05,
            "interbank_funding_share": 0.30,
        }
    )
    internal_limits: dict[str, float] = Field(default_factory=dict)
    applicable: list[str] | None = None


def _table(rule_set: str, table: RuleTable | None) -> RuleTable:
    return table if table is not None else load_rule_table(rule_set, "limits")


def applicable_indicators(
    total_assets_rc: float,
    rule_set: str = "china",
    settings: LimitSettings | None = None,
    *,
    table: RuleTable | None = None,
) -> list[str]:
    """Regulatory indicators that apply to a bank of this size (regulatory.md 4.1).

    China: total assets >= 200 bn CNY -> LCR, NSFR, liquidity ratio, LMR; below -> HQLA adequacy
    ratio, liquidity ratio, LMR (threshold and lists in the ``limits`` table). Basel: LCR and NSFR
    for every bank. ``settings.applicable`` forces the list.
    """
    if settings is not None and settings.applicable is not None:
        return list(settings.applicable)
    rule = _table(rule_set, table).rule(_THRESHOLD)
    above = list(rule.extra.get("at_or_above", []))  # type: ignore[call-overload]
    below = list(rule.extra.get("below", []))  # type: ignore[call-overload]
    if rule.factor is None:
        return above
    if total_assets_rc is None or (isinstance(total_assets_rc, float) and math.isnan(total_assets_rc)):
        raise ConfigError("applicable_indicators: total assets are unknown; set liquidity.limits.applicable")
    return above if total_assets_rc >= rule.factor else below


def _check_settings(table: RuleTable, settings: LimitSettings) -> None:
    known = {c for c in table.rows if not c.startswith("param.")}
    for name, mapping in (
        ("warning_thresholds", settings.warning_thresholds),
        ("internal_limits", settings.internal_limits),
    ):
        if name not in settings.model_fields_set:
            continue  # shipped defaults name indicators of every rule set; only the bank's own are checked
        unknown = sorted(set(mapping) - known)
        if unknown:
            raise ConfigError(
                f"liquidity.limits.{name}: unknown indicators {unknown}; "
                f"known in {table.rule_set}/limits: {sorted(known)}"
            )
    unknown_app = sorted(set(settings.applicable or []) - known)
    if unknown_app:
        raise ConfigError(f"liquidity.limits.applicable: unknown indicators {unknown_app}")
    for code, warn in settings.warning_thresholds.items():
        if code not in known:
            continue
        rule = table.rule(code)
        limit = rule.factor if rule.factor is not None else settings.internal_limits.get(code)
        direction = rule.extra.get("direction", "min")
        if limit is None:
            continue
        if (direction == "min" and warn < limit) or (direction == "max" and warn > limit):
            raise ConfigError(
                f"liquidity.limits.warning_thresholds.{code} = {warn} is on the wrong side of the limit {limit} "
                f"(direction {direction}): an early warning must come before the limit"
            )


def _status(value: float | None, limit: float | None, warn: float | None, direction: str, applicable: bool) -> str:
    if value is None or math.isnan(value) or not applicable:
        return "n/a"
    below = direction == "min"
    if limit is not None and (value < limit if below else value > limit):
        return "breach"
    if warn is not None and (value < warn if below else value > warn):
        return "warning"
    return "ok"


def evaluate(
    values: Mapping[str, float | None],
    settings: LimitSettings | None = None,
    *,
    rule_set: str = "china",
    table: RuleTable | None = None,
    total_assets_rc: float | None = None,
) -> pl.DataFrame:
    """The status of each indicator against its limit and early-warning threshold.

    Parameters
    ----------
    values:
        Indicator code (as in the ``limits`` table: lcr, nsfr, hqla_adequacy, liquidity_ratio,
        lmr, ...) -> value as a decimal (None when it could not be computed).
    settings:
        :class:`LimitSettings` (warning thresholds, internal limits, forced applicability).
    rule_set, table:
        The ``limits`` table (``table`` carries config overrides when given).
    total_assets_rc:
        Total assets in the reporting currency, for :func:`applicable_indicators`; when None and
        ``settings.applicable`` is not set, every indicator counts as applicable.

    Returns
    -------
    polars.DataFrame
        :data:`LIMITS_SCHEMA` columns, one row per indicator of ``values`` in table order.
    """
    settings = settings or LimitSettings()
    tab = _table(rule_set, table)
    _check_settings(tab, settings)
    unknown = sorted(set(values) - set(tab.rows))
    if unknown:
        raise ConfigError(
            f"limits.evaluate: indicators {unknown} are not in the {tab.rule_set}/limits rule table; known: "
            f"{sorted(c for c in tab.rows if not c.startswith('param.'))}"
        )
    if settings.applicable is not None or total_assets_rc is not None:
        applies: set[str] | None = set(applicable_indicators(total_assets_rc or 0.0, rule_set, settings, table=tab))
    else:
        applies = None
    threshold_lists: set[str] = set()
    if _THRESHOLD in tab.rows:
        extra = tab.rule(_THRESHOLD).extra
        threshold_lists = set(extra.get("at_or_above", [])) | set(extra.get("below", []))  # type: ignore[call-overload]
    rows = []
    for code, rule in tab.rows.items():
        if code not in values:
            continue
        raw = values[code]
        value = None if raw is None or math.isnan(raw) else float(raw)
        regulatory = bool(rule.extra.get("regulatory", rule.factor is not None))
        limit = rule.factor
        if limit is None and code in settings.internal_limits:
            limit, regulatory = settings.internal_limits[code], False
        direction = str(rule.extra.get("direction", "min"))
        warn = settings.warning_thresholds.get(code)
        # indicators under the size test apply only when listed for this bank; others always apply
        applicable = applies is None or code in applies or code not in threshold_lists
        rows.append(
            (
                code,
                value,
                limit,
                _status(value, limit, warn, direction, applicable),
                warn,
                direction,
                rule.label_zh,
                rule.label_en,
                regulatory,
                applicable,
                rule.source,
            )
        )
    return pl.DataFrame(rows, schema=LIMITS_SCHEMA, orient="row")
