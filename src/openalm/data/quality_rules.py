"""The data-quality rule catalogue, severities and bank-defined rules (rules are data).

Every row rule of :mod:`openalm.data.validation` is an entry of the shipped catalogue
``openalm/rules/data_quality/rules.yaml``: a stable ``id`` (``POS-FK-001``), the reason code it
reports, the tables it runs on, a default ``severity`` and whether the bank may change it
(``adjustable``), the positions.md section it implements and a description in Chinese and English.

Severities:

* ``error``: the row is quarantined (a :class:`~openalm.data.rejects.Reject` per problem, left
  out of the run);
* ``warning``: the row is used and flagged (a flag per problem, kept with the result).

The run configuration (``data_quality`` of :class:`~openalm.config.RunConfig`) may override the
severity of an adjustable rule, by rule id or by reason code (a rule id wins over its reason), and
may add bank-defined rules: a SQL boolean expression over one table's columns that is TRUE on the
offending rows, evaluated vectorised by DuckDB over the Arrow table. Problems that make a row
unusable by the engine (unparseable cells, missing required values, duplicate keys, impossible
dates ...) are not adjustable: naming one is a :class:`~openalm.errors.ConfigError`.

Examples
--------
>>> rule_catalogue()["POS-RATE-001"].severity
'warning'
>>> sorted(severities_for(None).items())[0]
('CPTY-RPT-001', 'warning')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import yaml

from openalm.data.schema import TABLES
from openalm.errors import ConfigError

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "ALL_TABLES",
    "BANK_RULE_REASON",
    "SEVERITIES",
    "BankRule",
    "DataQualityConfig",
    "Rule",
    "Severity",
    "bank_rule_rows",
    "check_settings",
    "rule_catalogue",
    "severities_for",
]

Severity = Literal["error", "warning"]
#: The severities, most severe first.
SEVERITIES: Final[tuple[Severity, ...]] = ("error", "warning")
#: ``tables`` entry of a rule that runs on every table.
ALL_TABLES: Final = "*"
#: Reason code of the rejects and flags of bank-defined rules.
BANK_RULE_REASON: Final = "bank_rule"
#: Hidden row-number column of the table a bank rule's condition is evaluated on.
_INDEX: Final = "__dq_index"


@dataclass(frozen=True, slots=True)
class Rule:
    """One entry of the data-quality rule catalogue.

    Parameters
    ----------
    id:
        Stable identifier (``POS-FK-001``), quoted in rejects, flags and the report.
    reason:
        Reason code (a key of :data:`openalm.data.validation.REASONS`).
    tables:
        Contract tables the rule runs on; ``("*",)`` for every table.
    severity:
        Default severity: ``error`` quarantines the row, ``warning`` flags it.
    adjustable:
        Whether the configuration may change the severity (false: always ``error``).
    source:
        The positions.md section / section 10 rule the rule implements.
    description_zh, description_en:
        What the rule checks, for the data-quality report.
    params:
        Rule parameters (e.g. ``tolerance`` of the rate / fixing check).
    """

    id: str
    reason: str
    tables: tuple[str, ...]
    severity: Severity
    adjustable: bool
    source: str
    description_zh: str
    description_en: str
    params: Mapping[str, float] = field(default_factory=dict)

    def runs_on(self, table: str) -> bool:
        """True when the rule applies to ``table``."""
        return ALL_TABLES in self.tables or table in self.tables


class BankRule(Protocol):
    """What validation reads of a bank-defined rule (:class:`openalm.config.BankRuleSettings`)."""

    @property
    def id(self) -> str: ...
    @property
    def table(self) -> str: ...
    @property
    def condition(self) -> str: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def message_zh(self) -> str: ...
    @property
    def message_en(self) -> str: ...
    @property
    def column(self) -> str | None: ...


class DataQualityConfig(Protocol):
    """What validation reads of the ``data_quality`` settings (:class:`openalm.config.DataQualitySettings`)."""

    @property
    def severity(self) -> Mapping[str, Severity]: ...
    @property
    def rules(self) -> Sequence[BankRule]: ...
    @property
    def sample_rows(self) -> int: ...


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {key} must be a non-empty text, got {value!r}")
    return value


@cache
def rule_catalogue() -> Mapping[str, Rule]:
    """The shipped rule catalogue, ``rule id -> Rule``, in file order.

    Raises
    ------
    ValueError
        The catalogue file is malformed (a packaging error, not a user error): duplicate ids,
        unknown tables or severities, a non-adjustable rule whose default is not ``error``.
    """
    source = resources.files("openalm.rules.data_quality").joinpath("rules.yaml")
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    rules: dict[str, Rule] = {}
    for entry in data["rules"]:
        rule_id = _text(entry, "id", "rules.yaml")
        where = f"rules.yaml {rule_id}"
        if rule_id in rules:
            raise ValueError(f"{where}: id defined twice")
        tables = tuple(entry.get("tables") or ())
        unknown = [t for t in tables if t != ALL_TABLES and t not in TABLES]
        if not tables or unknown:
            raise ValueError(f"{where}: tables must name contract tables or '*', got {list(tables)}")
        severity = entry.get("severity")
        if severity not in SEVERITIES:
            raise ValueError(f"{where}: severity must be error or warning, got {severity!r}")
        adjustable = entry.get("adjustable")
        if not isinstance(adjustable, bool):
            raise ValueError(f"{where}: adjustable must be true or false, got {adjustable!r}")
        if not adjustable and severity != "error":
            raise ValueError(f"{where}: a non-adjustable rule must default to error")
        description = entry.get("description") or {}
        params = entry.get("params") or {}
        rules[rule_id] = Rule(
            id=rule_id,
            reason=_text(entry, "reason", where),
            tables=tables,
            severity=severity,
            adjustable=adjustable,
            source=_text(entry, "source", where),
            description_zh=_text(description, "zh", where),
            description_en=_text(description, "en", where),
            params=MappingProxyType({str(k): float(v) for k, v in params.items()}),
        )
    return MappingProxyType(rules)


def severities_for(settings: DataQualityConfig | None) -> dict[str, Severity]:
    """Effective severity of every catalogue rule under ``settings`` (``rule id -> severity``).

    An override names a rule id or a reason code; a rule id wins over its reason.

    Raises
    ------
    ConfigError
        An override names neither a catalogue rule nor a reason of one, names a bank-defined rule
        (set its ``severity`` in the rule instead), has a severity other than error / warning, or
        would change a non-adjustable rule.
    """
    catalogue = rule_catalogue()
    effective: dict[str, Severity] = {rule_id: rule.severity for rule_id, rule in catalogue.items()}
    if settings is None or not settings.severity:
        return effective
    bank_ids = {r.id for r in settings.rules}
    by_reason: dict[str, list[Rule]] = {}
    for rule in catalogue.values():
        by_reason.setdefault(rule.reason, []).append(rule)
    reason_level: dict[str, Severity] = {}
    rule_level: dict[str, Severity] = {}
    for key, severity in settings.severity.items():
        where = f"data_quality.severity.{key}"
        if severity not in SEVERITIES:
            raise ConfigError(f"{where}: severity {severity!r} is not error or warning")
        if key in catalogue:
            targets = [catalogue[key]]
            rule_level[key] = severity
        elif key in by_reason:
            targets = by_reason[key]
            reason_level[key] = severity
        elif key in bank_ids:
            raise ConfigError(f"{where}: {key} is a bank-defined rule; set its severity in data_quality.rules")
        else:
            raise ConfigError(
                f"{where}: {key!r} is neither a data-quality rule id nor a reason code; expected one of the ids of "
                "openalm/rules/data_quality/rules.yaml (e.g. POS-RATE-001) or a reason (e.g. implausible_rate)"
            )
        fixed = [r.id for r in targets if not r.adjustable and severity != r.severity]
        if fixed:
            raise ConfigError(
                f"{where}: cannot make {', '.join(fixed)} a {severity}: the engine cannot use a row failing it, "
                f"so it always quarantines the row (adjustable: false)"
            )
    for rule_id, rule in catalogue.items():
        if rule_id in rule_level:
            effective[rule_id] = rule_level[rule_id]
        elif rule.reason in reason_level:
            effective[rule_id] = reason_level[rule.reason]
    return effective


# --------------------------------------------------------------------------------------------
# bank-defined rules (DuckDB SQL over the Arrow table)
# --------------------------------------------------------------------------------------------


def _connect() -> duckdb.DuckDBPyConnection:
    import duckdb

    # conditions are config text: no file system or network access from inside them
    return duckdb.connect(config={"enable_external_access": False})


def _empty_table(name: str) -> pa.Table:
    schema = TABLES[name]
    fields = [pa.field(c.name, c.arrow_type) for c in schema.columns]
    fields += [pa.field("source_row", pa.int64()), pa.field(_INDEX, pa.int64())]
    return pa.schema(fields).empty_table()


def _query(rule: BankRule) -> str:
    return f"SELECT {_INDEX} FROM t WHERE ({rule.condition})"


def _check_condition(rule: BankRule, con: duckdb.DuckDBPyConnection) -> None:
    import duckdb

    where = f"data_quality.rules {rule.id}"
    try:
        statements = con.extract_statements(_query(rule))
        if len(statements) != 1:
            raise ConfigError(f"{where}: condition {rule.condition!r} must be one boolean expression")
        con.register("t", _empty_table(rule.table))
        kind = con.execute(f"DESCRIBE SELECT ({rule.condition}) AS c FROM t").fetchall()[0][1]
        con.execute(_query(rule) + " LIMIT 0").fetchall()
    except duckdb.Error as err:
        raise ConfigError(
            f"{where}: condition {rule.condition!r} is not valid SQL for table {rule.table}: {err}"
        ) from err
    finally:
        con.unregister("t")
    if kind != "BOOLEAN":
        raise ConfigError(
            f"{where}: condition {rule.condition!r} is of type {kind}; expected a boolean expression "
            "TRUE on the offending rows (e.g. product_code = 'LN01' AND current_rate < 0.02)"
        )


def check_settings(settings: DataQualityConfig) -> None:
    """Check ``data_quality`` settings against the catalogue and the contract.

    Severity overrides must name adjustable catalogue rules (or their reasons); bank-defined
    rules need a unique id (not a catalogue id or reason), a contract table, a column of that
    table to report and a condition DuckDB accepts as a boolean expression over the table.

    Raises
    ------
    ConfigError
        Naming the setting or the rule id and what was expected (DuckDB's message for an invalid
        condition).
    """
    catalogue = rule_catalogue()
    reasons = {r.reason for r in catalogue.values()}
    seen: set[str] = set()
    for rule in settings.rules:
        where = f"data_quality.rules {rule.id}"
        if rule.id in seen:
            raise ConfigError(f"{where}: id defined twice; bank rule ids must be unique")
        if rule.id in catalogue or rule.id in reasons:
            raise ConfigError(f"{where}: id clashes with a shipped rule or reason; choose another id")
        seen.add(rule.id)
        if rule.table not in TABLES:
            raise ConfigError(
                f"{where}: table {rule.table!r} is not a contract table; expected one of {', '.join(TABLES)}"
            )
        if rule.column is not None and rule.column not in TABLES[rule.table].names:
            raise ConfigError(f"{where}: column {rule.column!r} is not a column of {rule.table}")
        if rule.severity not in SEVERITIES:
            raise ConfigError(f"{where}: severity {rule.severity!r} is not error or warning")
    severities_for(settings)
    if settings.rules:
        con = _connect()
        try:
            for rule in settings.rules:
                _check_condition(rule, con)
        finally:
            con.close()


def bank_rule_rows(
    rules: Sequence[BankRule], table: pa.Table, con: duckdb.DuckDBPyConnection | None = None
) -> list[npt.NDArray[np.int64]]:
    """Rows (0-based positions in ``table``) on which each bank rule's condition is TRUE.

    Parameters
    ----------
    rules:
        Bank-defined rules of one table.
    table:
        Every row of the table with every contract column in its loaded type (absent columns
        all-null) and ``source_row``.
    con:
        A DuckDB connection to use (a private one is opened and closed otherwise).

    Raises
    ------
    ConfigError
        DuckDB fails on a condition (naming the rule id and DuckDB's message).
    """
    import duckdb

    own = con is None
    conn = _connect() if con is None else con
    indexed = table.append_column(_INDEX, pa.array(np.arange(table.num_rows, dtype=np.int64)))
    out: list[npt.NDArray[np.int64]] = []
    try:
        conn.register("t", indexed)
        for rule in rules:
            try:
                found = conn.execute(_query(rule)).fetchnumpy()[_INDEX]
            except duckdb.Error as err:
                raise ConfigError(
                    f"data_quality.rules {rule.id}: condition {rule.condition!r} failed on {rule.table}: {err}"
                ) from err
            out.append(np.sort(np.asarray(found, dtype=np.int64)))
        conn.unregister("t")
    finally:
        if own:
            conn.close()
    return out
