"""Versioned liquidity rule tables: run-off, inflow and haircut factors, ASF/RSF factors, weights
and limits, as data.

Each table is one YAML file ``openalm/rules/liquidity/<rule_set>/<name>.yaml``::

    table: lcr_outflows
    rule_set: china
    version: "1104-2024"
    effective_date: 2024-01-01
    source: "1104-2024 G25_I template and filling instructions"
    rows:
      - code: retail_stable            # engine category code, unique in the table
        factor: 0.05                   # decimal (5% = 0.05); null where a row carries no factor
        line: "2.1.1.2"                # the regulatory form's row, when there is one
        label_zh: 零售存款-稳定存款
        label_en: Retail deposits - stable
        source: "1104-2024 G25_I row 2.1.1.2"
        status: V                      # V | S | UNVERIFIED (regulatory.md 0.1)

A run selects the rule set with ``rule_set`` and may override single factors in the config
(``liquidity.rule_overrides: {lcr_outflows: {retail_stable: 0.06}}``); every override is kept on
the row (``overridden``, ``default_factor``) and reported as a warning, never applied silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

import polars as pl
import yaml

from openalm.errors import ConfigError

__all__ = ["Rule", "RuleSet", "RuleTable", "load_rule_set", "load_rule_table", "rule_table_names"]

STATUSES = ("V", "S", "UNVERIFIED")


@dataclass(frozen=True)
class Rule:
    """One row of a rule table."""

    code: str
    factor: float | None
    label_zh: str
    label_en: str
    line: str | None = None
    source: str | None = None
    status: str = "UNVERIFIED"
    extra: Mapping[str, object] = field(default_factory=dict)
    overridden: bool = False
    default_factor: float | None = None

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


@dataclass(frozen=True)
class RuleTable:
    """A versioned table of rules, keyed by category code."""

    name: str
    rule_set: str
    version: str
    effective_date: dt.date | None
    source: str
    rows: Mapping[str, Rule]

    def __contains__(self, code: object) -> bool:
        return code in self.rows

    def rule(self, code: str) -> Rule:
        try:
            return self.rows[code]
        except KeyError:
            raise ConfigError(
                f"rule table {self.rule_set}/{self.name} has no row {code!r}; known: {sorted(self.rows)}"
            ) from None

    def factor(self, code: str) -> float:
        """The factor of ``code`` (an error when the row has none)."""
        value = self.rule(code).factor
        if value is None:
            raise ConfigError(f"rule {self.rule_set}/{self.name}/{code} carries no factor")
        return value

    def to_frame(self) -> pl.DataFrame:
        """The table as a polars frame (``code, factor, line, label_zh, label_en, source, status, ...``)."""
        rows = list(self.rows.values())
        return pl.DataFrame(
            {
                "code": [r.code for r in rows],
                "factor": [r.factor for r in rows],
                "line": [r.line for r in rows],
                "label_zh": [r.label_zh for r in rows],
                "label_en": [r.label_en for r in rows],
                "source": [r.source for r in rows],
                "status": [r.status for r in rows],
                "overridden": [r.overridden for r in rows],
                "default_factor": [r.default_factor for r in rows],
            },
            schema={
                "code": pl.String,
                "factor": pl.Float64,
                "line": pl.String,
                "label_zh": pl.String,
                "label_en": pl.String,
                "source": pl.String,
                "status": pl.String,
                "overridden": pl.Boolean,
                "default_factor": pl.Float64,
            },
        )

    def with_overrides(self, overrides: Mapping[str, float]) -> RuleTable:
        """A copy with some factors replaced (unknown codes are an error)."""
        rows = dict(self.rows)
        for code, value in overrides.items():
            old = self.rule(code)
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ConfigError(
                    f"liquidity.rule_overrides.{self.name}.{code}: expected a number (decimal), got {value!r}"
                )
            rows[code] = replace(old, factor=float(value), overridden=True, default_factor=old.factor)
        return replace(self, rows=rows)


def _folder(rule_set: str) -> Traversable:
    return resources.files("openalm.rules.liquidity").joinpath(rule_set)


def rule_table_names(rule_set: str) -> tuple[str, ...]:
    """Names of the tables shipped for ``rule_set``."""
    folder = _folder(rule_set)
    if not folder.is_dir():
        raise ConfigError(f"unknown liquidity rule set {rule_set!r}; expected china or basel")
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml")))


@cache
def _load(rule_set: str, name: str) -> RuleTable:
    path = _folder(rule_set).joinpath(f"{name}.yaml")
    if not path.is_file():
        raise ConfigError(
            f"liquidity rule table {rule_set}/{name}.yaml does not exist; known: {rule_table_names(rule_set)}"
        )
    where = f"openalm/rules/liquidity/{rule_set}/{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise ConfigError(f"{where}: expected a mapping with a 'rows' list")
    rows: dict[str, Rule] = {}
    for k, raw in enumerate(data["rows"], start=1):
        if not isinstance(raw, dict) or not raw.get("code"):
            raise ConfigError(f"{where}: row {k} has no code")
        code = str(raw["code"])
        if code in rows:
            raise ConfigError(f"{where}: row {k}: code {code!r} appears twice")
        status = str(raw.get("status", "UNVERIFIED"))
        if status not in STATUSES:
            raise ConfigError(f"{where}: row {k} ({code}): status {status!r} is not one of {STATUSES}")
        factor = raw.get("factor")
        if factor is not None and (isinstance(factor, bool) or not isinstance(factor, int | float)):
            raise ConfigError(f"{where}: row {k} ({code}): factor {factor!r} is not a number")
        known = {"code", "factor", "line", "label_zh", "label_en", "source", "status"}
        if not raw.get("label_zh") or not raw.get("label_en"):
            raise ConfigError(f"{where}: row {k} ({code}): label_zh and label_en are required")
        rows[code] = Rule(
            code=code,
            factor=None if factor is None else float(factor),
            label_zh=str(raw["label_zh"]),
            label_en=str(raw["label_en"]),
            line=None if raw.get("line") is None else str(raw["line"]),
            source=None if raw.get("source") is None else str(raw["source"]),
            status=status,
            extra={key: value for key, value in raw.items() if key not in known},
        )
    eff = data.get("effective_date")
    return RuleTable(
        name=str(data.get("table", name)),
        rule_set=rule_set,
        version=str(data.get("version", "")),
        effective_date=eff if isinstance(eff, dt.date) else None,
        source=str(data.get("source", "")),
        rows=rows,
    )


def load_rule_table(rule_set: str, name: str, overrides: Mapping[str, float] | None = None) -> RuleTable:
    """The shipped table ``name`` of ``rule_set``, with config overrides applied."""
    table = _load(rule_set, name)
    return table.with_overrides(overrides) if overrides else table


@dataclass(frozen=True)
class RuleSet:
    """All liquidity rule tables of one rule set, overrides applied."""

    rule_set: str
    tables: Mapping[str, RuleTable]

    def __getitem__(self, name: str) -> RuleTable:
        try:
            return self.tables[name]
        except KeyError:
            raise ConfigError(
                f"rule set {self.rule_set} has no liquidity table {name!r}; known: {sorted(self.tables)}"
            ) from None

    def overrides_applied(self) -> list[str]:
        """One message per overridden factor (for the run's warnings)."""
        out = []
        for t in self.tables.values():
            for r in t.rows.values():
                if r.overridden:
                    out.append(
                        f"liquidity rule override: {self.rule_set}/{t.name}/{r.code} = {r.factor} "
                        f"(shipped {r.default_factor})"
                    )
        return out


def load_rule_set(rule_set: str, overrides: Mapping[str, Mapping[str, float]] | None = None) -> RuleSet:
    """Every shipped liquidity table of ``rule_set`` with ``overrides[table][code] = factor`` applied."""
    names = rule_table_names(rule_set)
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ConfigError(f"liquidity.rule_overrides: unknown tables {unknown}; known for {rule_set}: {list(names)}")
    return RuleSet(rule_set, {n: load_rule_table(rule_set, n, overrides.get(n)) for n in names})
