"""Validating a positions table chunk by chunk with exactly the answers of one whole-table validation.

Almost every row rule of :mod:`openalm.data.validation` looks at one row (and the companion
tables). Three look across rows of the positions table:

* ``GEN-KEY-001`` (``duplicate_key``): every row whose (``reporting_entity_id``, ``position_id``)
  occurs more than once -- the duplicates may sit in different chunks;
* ``POS-DEAL-001`` (``incomplete_deal``): a swap / forward leg whose deal has fewer than two legs
  -- the legs may sit in different chunks;
* ``SCH-LINK-001`` / ``SCH-LINK-002`` on the schedule tables: whether a schedule row's position was
  read at all, and whether it was rejected -- over every chunk.

The streaming load makes them exact in two passes. Pass 1 (:class:`KeyScan`) reads only the key
columns of every row and works out the whole-table answers (:class:`WholeTableFacts`: a boolean
per row for each rule, a few hundred MB for ten million rows). Pass 2 validates each chunk with
:func:`~openalm.data.validation.validate_tables` (positions chunk + the companion tables the
positions rules read) and then replaces the chunk's own answers to the two positions rules with
the whole-table ones (:func:`validate_chunk`), *before* the chunk's clean rows and quarantine are
written: nothing has to be fixed afterwards. The findings keep the order the whole-table
validation gives them, so rejects, their order within a row, flags and the per-rule counts are
the same. :class:`ValidationMerger` adds the chunks up and validates the companion tables once,
with the schedule links taken over every chunk, into a :class:`StreamedValidation` (what the
data-quality report reads).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from openalm.data._cells import coerce_typed
from openalm.data.flags import FLAG_SCHEMA, empty_flags
from openalm.data.loaders import ParsedTable
from openalm.data.quality_rules import BankRule, Severity, rule_catalogue, severities_for
from openalm.data.rejects import Reject
from openalm.data.schema import TABLE_ORDER, TABLES, Level
from openalm.data.validation import (
    _TWO_LEG_DERIVATIVES,
    RULE_RESULT_SCHEMA,
    Finding,
    TableResult,
    _duplicated,
    _flags,
    _rejects,
    _rule_results,
    _warning_summaries,
    validate_tables,
)

__all__ = [
    "KEY_COLUMNS",
    "POSITION_COMPANIONS",
    "ChunkOutcome",
    "KeyScan",
    "StreamedValidation",
    "ValidationMerger",
    "WholeTableFacts",
    "validate_chunk",
]

BoolMask = npt.NDArray[np.bool_]

#: Positions columns pass 1 reads.
KEY_COLUMNS: Final = ("reporting_entity_id", "position_id", "deal_id", "instrument_type", "derivative_type")
#: Companion tables the positions rules read (validated with every chunk).
POSITION_COMPANIONS: Final = ("counterparties", "rate_indices", "index_fixings", "cash_flow_schedule")
_SCHEDULES: Final = ("cash_flow_schedule", "rate_schedule")
_KEY_RULE: Final = "GEN-KEY-001"
_DEAL_RULE: Final = "POS-DEAL-001"
_LINK_RULES: Final = ("SCH-LINK-001", "SCH-LINK-002")
# the texts of validation._schedule_links (the merger rebuilds those findings with whole-table ids)
_LINK_MESSAGES: Final = {
    "SCH-LINK-001": "position_id {value!r} is not in positions",
    "SCH-LINK-002": "position_id {value!r}: its positions row was rejected, so its schedule cannot be used",
}
_EXAMPLES_RULE: Final = "POS-CODE-001"


def _numpy_bool(values: pa.Array | pa.ChunkedArray) -> BoolMask:
    filled = pc.fill_null(values, False)
    if isinstance(filled, pa.ChunkedArray):
        filled = filled.combine_chunks() if filled.num_chunks else pa.array([], pa.bool_())
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def _failed(parsed: ParsedTable, columns: Sequence[str]) -> BoolMask:
    out = np.zeros(parsed.num_rows, dtype=bool)
    for name, problem in parsed.problems:
        if name in columns:
            out |= problem.mask
    return out


def _severities(dq: Any) -> tuple[dict[str, Severity], list[BankRule]]:
    """Effective severities (catalogue + overrides + bank rules) and the bank rules, as validation has them."""
    severities: dict[str, Severity] = severities_for(dq)
    bank = list(dq.rules) if dq is not None else []
    for rule in bank:
        severities[rule.id] = rule.severity
    return severities, bank


# --------------------------------------------------------------------------------------------
# pass 1: the key columns of every row
# --------------------------------------------------------------------------------------------


@dataclass
class WholeTableFacts:
    """Whole-table answers of the cross-row positions rules, one boolean per usable row (file order).

    ``duplicated``: the row's key occurs more than once and both key cells are given;
    ``incomplete``: the row is a two-leg derivative leg with a ``deal_id`` whose deal has fewer
    than two such legs (``reporting_entity_id`` + ``deal_id``); ``schedule_ids``: the
    ``position_id`` values of the schedule tables, ``schedule_read``: which of them some
    positions row carries.
    """

    rows: int
    duplicated: BoolMask
    incomplete: BoolMask
    schedule_ids: pa.Array | None = None
    schedule_read: BoolMask | None = None


class KeyScan:
    """Pass 1: collects the key columns chunk by chunk and works out :class:`WholeTableFacts`."""

    def __init__(self, schedule_ids: pa.Array | None = None) -> None:
        self._schema = TABLES["positions"]
        self._entities: list[pa.Array] = []
        self._ids: list[pa.Array] = []
        self._leg_rows: list[npt.NDArray[np.int64]] = []
        self._leg_entities: list[pa.Array] = []
        self._leg_deals: list[pa.Array] = []
        self._has_deal = False
        self._rows = 0
        self._schedule_ids = schedule_ids
        self._schedule_read = None if schedule_ids is None else np.zeros(len(schedule_ids), dtype=bool)

    def _typed(self, raw: pa.Table, name: str, file: str) -> pa.Array:
        if name not in raw.column_names:
            return pa.nulls(raw.num_rows, self._schema.column(name).arrow_type)
        values = coerce_typed(raw.column(name), self._schema.column(name), file).values
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks() if values.num_chunks else pa.array([], values.type)
        return values

    def add(self, raw: pa.Table, file: str) -> None:
        """Add one chunk (the key columns as read, any subset of :data:`KEY_COLUMNS`)."""
        n = raw.num_rows
        entity = self._typed(raw, "reporting_entity_id", file)
        ids = self._typed(raw, "position_id", file)
        self._entities.append(entity)
        self._ids.append(ids)
        if "deal_id" in raw.column_names:
            self._has_deal = True
            inst = self._typed(raw, "instrument_type", file)
            kind = self._typed(raw, "derivative_type", file)
            legs = _numpy_bool(pc.equal(inst, "derivative_leg")) & _numpy_bool(
                pc.is_in(kind, value_set=pa.array(_TWO_LEG_DERIVATIVES))
            )
            where = np.flatnonzero(legs)
            if where.size:
                take = pa.array(where, pa.int64())
                self._leg_rows.append(where.astype(np.int64) + self._rows)
                self._leg_entities.append(entity.take(take))
                self._leg_deals.append(self._typed(raw, "deal_id", file).take(take))
        if self._schedule_ids is not None and self._schedule_read is not None:
            self._schedule_read |= _numpy_bool(pc.is_in(self._schedule_ids, value_set=pc.drop_null(ids)))
        self._rows += n

    def finish(self) -> WholeTableFacts:
        """The whole-table answers (the collected key columns are released)."""
        n = self._rows
        entity = pa.chunked_array(self._entities, pa.string())
        ids = pa.chunked_array(self._ids, pa.string())
        self._entities, self._ids = [], []
        if n:
            # as validation._duplicates: null equals null, then rows with a null key cell drop out
            duplicated = _duplicated(pa.table({"reporting_entity_id": entity, "position_id": ids}))
            for column, values in (("reporting_entity_id", entity), ("position_id", ids)):
                if self._schema.column(column).level is Level.R:
                    duplicated &= _numpy_bool(pc.is_valid(values))
        else:
            duplicated = np.zeros(0, dtype=bool)
        del entity, ids
        incomplete = np.zeros(n, dtype=bool)
        if self._has_deal and self._leg_rows:
            rows = np.concatenate(self._leg_rows)
            frame = pl.from_arrow(
                pa.table(
                    {
                        "e": pa.chunked_array(self._leg_entities, pa.string()),
                        "d": pa.chunked_array(self._leg_deals, pa.string()),
                    }
                )
            )
            assert isinstance(frame, pl.DataFrame)
            counts = frame.select(pl.len().over(["e", "d"])).to_series().to_numpy()
            deal_given = frame.get_column("d").is_not_null().to_numpy()
            incomplete[rows[deal_given & (np.asarray(counts) < 2)]] = True
        return WholeTableFacts(n, duplicated, incomplete, self._schedule_ids, self._schedule_read)


# --------------------------------------------------------------------------------------------
# pass 2: one chunk
# --------------------------------------------------------------------------------------------


@dataclass
class ChunkOutcome:
    """One validated chunk: its table result (whole-table answers in), rejects, flags and report pieces."""

    result: TableResult
    rejects: list[Reject]
    flags: pa.Table
    rule_rows: list[dict[str, Any]]
    links: list[str]
    summaries: list[tuple[Hashable, int, str, list[str]]]
    generic: list[tuple[str, int]]
    notes: list[str]
    extra_columns: tuple[str, ...]


def _key_finding(parsed: ParsedTable, mask: BoolMask, severity: Severity) -> Finding:
    key = parsed.schema.key
    shown = " + ".join(key)
    rule = rule_catalogue()[_KEY_RULE]
    message = f"another row has the same key ({shown}); every row sharing it is rejected, keep one"
    return Finding(key[-1], rule.reason, mask, message, rule_id=_KEY_RULE, severity=severity)


def _patch_positions(
    findings: list[Finding], parsed: ParsedTable, facts: WholeTableFacts, start: int, severity: Severity
) -> list[Finding]:
    """The chunk's findings with the whole-table answers of GEN-KEY-001 and POS-DEAL-001."""
    n = parsed.num_rows
    key = parsed.schema.key
    dup = facts.duplicated[start : start + n] & ~_failed(parsed, (key[-1], *key))
    out: list[Finding] = []
    placed = False
    common = {r for r in rule_catalogue() if r.startswith("GEN-")}
    for finding in findings:
        if finding.rule_id == _KEY_RULE:
            if dup.any():
                out.append(dataclasses.replace(finding, mask=dup))
            placed = True
            continue
        if not placed and finding.rule_id not in common:
            # GEN-KEY-001 is the last rule common to all tables: it goes before the first positions rule
            if dup.any():
                out.append(_key_finding(parsed, dup, severity))
            placed = True
        if finding.rule_id == _DEAL_RULE:
            # the whole-table answer is a subset of the chunk's (a chunk sees at most the deal's legs)
            mask = finding.mask & facts.incomplete[start : start + n]
            if mask.any():
                out.append(dataclasses.replace(finding, mask=mask))
            continue
        out.append(finding)
    if not placed and dup.any():
        out.append(_key_finding(parsed, dup, severity))
    return out


def _table_result(parsed: ParsedTable, findings: list[Finding], checked: dict[str, int]) -> TableResult:
    rejected = np.zeros(parsed.num_rows, dtype=bool)
    warned = np.zeros(parsed.num_rows, dtype=bool)
    for finding in findings:
        if finding.severity == "error":
            rejected |= finding.mask
        else:
            warned |= finding.mask
    return TableResult(parsed, findings, rejected, warned & ~rejected, checked)


def _summary_items(result: TableResult) -> tuple[list[tuple[Hashable, int, str, list[str]]], list[tuple[str, int]]]:
    """Counted warnings of one table, as validation._warning_summaries builds them, with their counts."""
    summaries: list[tuple[Hashable, int, str, list[str]]] = []
    generic: dict[str, BoolMask] = {}
    for finding in result.findings:
        if finding.severity != "warning":
            continue
        if finding.summary is not None:
            examples: list[str] = []
            if finding.rule_id == _EXAMPLES_RULE and finding.column in result.parsed.data.column_names:
                chosen = pc.filter(result.parsed.data.column(finding.column), pa.array(finding.mask))
                examples = [str(v) for v in pc.unique(chosen).to_pylist()]
            summaries.append(((finding.rule_id, finding.column), int(finding.mask.sum()), finding.summary, examples))
        else:
            prev = generic.get(finding.rule_id)
            generic[finding.rule_id] = finding.mask if prev is None else (prev | finding.mask)
    return summaries, [(rule_id, int(mask.sum())) for rule_id, mask in generic.items()]


def _subset(parsed: ParsedTable, keep: BoolMask) -> ParsedTable:
    """The rows ``keep`` of a parsed table (cell problems cut to them; notes and extra columns kept)."""
    if keep.all():
        return parsed
    mask = pa.array(keep)
    return dataclasses.replace(
        parsed,
        data=parsed.data.filter(mask),
        raw={name: values.filter(mask) for name, values in parsed.raw.items()},
        problems=[(name, dataclasses.replace(p, mask=p.mask[keep])) for name, p in parsed.problems],
        ragged=[],
    )


def _referenced(companions: Mapping[str, ParsedTable], parsed: ParsedTable) -> dict[str, ParsedTable]:
    """The companion rows a positions chunk can refer to: every row of the counterparties and
    schedules it names (all rows of such an id, so duplicates stay duplicates), the other tables whole.

    The positions rules only ask whether a chunk's ids are among a companion table's usable / read
    ids; rows with other ids cannot change the answer, and counterparties and schedules have no
    rule linking their rows to rows of other ids. Saves validating a large counterparties table
    with every chunk.
    """
    out = dict(companions)
    for table, column in (("counterparties", "counterparty_id"), ("cash_flow_schedule", "position_id")):
        comp = out.get(table)
        if comp is None or column not in comp.data.column_names:
            continue
        if column in parsed.data.column_names:
            wanted = pc.unique(pc.drop_null(parsed.data.column(column)).combine_chunks())
        else:
            wanted = pa.array([], pa.string())
        out[table] = _subset(comp, _numpy_bool(pc.is_in(comp.data.column(column), value_set=wanted)))
    return out


def validate_chunk(
    parsed: ParsedTable,
    companions: Mapping[str, ParsedTable],
    as_of: dt.date,
    facts: WholeTableFacts,
    start: int,
    *,
    dq: Any = None,
) -> ChunkOutcome:
    """Validate one positions chunk (usable rows ``start ..``) with the whole-table answers in.

    ``companions`` are the parsed companion tables of :data:`POSITION_COMPANIONS` that the
    snapshot has. Returns what the whole-table validation would say about these rows.
    """
    kwargs: dict[str, Any] = {} if dq is None else {"dq": dq}
    passed = {"positions": parsed, **_referenced(companions, parsed)}
    result = validate_tables(passed, as_of, **kwargs)
    severities, bank = _severities(dq)
    own = result.tables["positions"]
    findings = _patch_positions(own.findings, parsed, facts, start, severities[_KEY_RULE])
    patched = _table_result(parsed, findings, dict(own.checked))
    tables = {"positions": patched}
    # the warnings of validate_tables: notes, extra columns, bank rules on absent tables, the
    # positions rules' own warnings, counted warnings; keep the positions rules' own ones
    banked = {r.table for r in bank}
    head = sum(len(p.notes) for p in passed.values()) + sum(1 for p in passed.values() if p.extra_columns)
    head += sum(1 for name in banked if name not in passed)
    tail = len(_warning_summaries(result.tables))
    links = result.warnings[head : len(result.warnings) - tail]
    summaries, generic = _summary_items(patched)
    rule_rows = _rule_results(tables, severities, bank).to_pylist()
    return ChunkOutcome(
        patched,
        _rejects(tables),
        _flags(tables),
        rule_rows,
        links,
        summaries,
        generic,
        list(parsed.notes),
        parsed.extra_columns,
    )


# --------------------------------------------------------------------------------------------
# adding the chunks up
# --------------------------------------------------------------------------------------------


@dataclass
class StreamedValidation:
    """The validation outcome of a streamed snapshot: what the data-quality report reads.

    The same attributes as :class:`~openalm.data.validation.ValidationResult` minus the per-row
    table results (which do not fit in memory for a large file).
    """

    as_of: dt.date
    rejects: list[Reject]
    warnings: list[str]
    flags: pa.Table
    rule_results: pa.Table
    counts: dict[str, dict[str, int]]
    flagged: dict[str, int]


def _merge_order(known: list[Hashable], seen: Sequence[Hashable], rank: Callable[[Hashable], Any]) -> None:
    """Insert the new items of ``seen`` into ``known``, both subsequences of one (unknown) order.

    Each new item goes after its predecessors and before its successors in ``seen``; where that
    leaves a choice (items never seen together), ``rank`` decides.
    """
    for k, item in enumerate(seen):
        if item in known:
            continue
        lo = max((known.index(x) + 1 for x in seen[:k] if x in known), default=0)
        hi = min((known.index(x) for x in seen[k + 1 :] if x in known), default=len(known))
        at = lo
        while at < hi and rank(known[at]) <= rank(item):
            at += 1
        known.insert(at, item)


def _link_rank(text: Hashable) -> int:
    """Order of the positions rules' own warnings (validation._position_links, then the rate rule)."""
    for k, word in enumerate(("counterparty_id not checked", "rate_index not checked", "floaters not checked")):
        if word in str(text):
            return k
    return 3


@dataclass
class ValidationMerger:
    """Adds up :class:`ChunkOutcome` s; :meth:`finish` validates the companions and returns the whole."""

    as_of: dt.date
    dq: Any = None
    _rejects: list[Reject] = field(default_factory=list)
    _flags: list[pa.Table] = field(default_factory=list)
    _rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    _checks: list[Hashable] = field(default_factory=list)
    _links: list[Hashable] = field(default_factory=list)
    _summary_order: list[Hashable] = field(default_factory=list)
    _summary: dict[Hashable, list[Any]] = field(default_factory=dict)
    _generic_order: list[Hashable] = field(default_factory=list)
    _generic: dict[Hashable, int] = field(default_factory=dict)
    _notes: list[str] = field(default_factory=list)
    _extra: set[str] = field(default_factory=set)
    _counts: dict[str, int] = field(default_factory=lambda: {"read": 0, "rejected": 0, "used": 0})
    _flagged: int = 0

    def add(self, chunk: ChunkOutcome) -> None:
        """Add one chunk (chunks in file order)."""
        self._rejects.extend(chunk.rejects)
        if chunk.flags.num_rows:
            self._flags.append(chunk.flags)
        for row in chunk.rule_rows:
            held = self._rules.get(row["rule_id"])
            if held is None:
                self._rules[row["rule_id"]] = dict(row)
            else:
                held["rows_checked"] += row["rows_checked"]
                held["rows_failed"] += row["rows_failed"]
        _merge_order(self._checks, list(chunk.result.checked), lambda _: 0)
        _merge_order(self._links, chunk.links, _link_rank)
        _merge_order(self._summary_order, [key for key, *_ in chunk.summaries], self._site_rank)
        for key, count, text, examples in chunk.summaries:
            held_summary = self._summary.get(key)
            if held_summary is None:
                self._summary[key] = [count, text, count, examples[:5]]
            else:
                held_summary[0] += count
                held_summary[3] = list(dict.fromkeys([*held_summary[3], *examples]))[:5]
        _merge_order(self._generic_order, [rule for rule, _ in chunk.generic], self._site_rank)
        for rule_id, count in chunk.generic:
            self._generic[rule_id] = self._generic.get(rule_id, 0) + count
        for note in chunk.notes:
            if note not in self._notes:
                self._notes.append(note)
        self._extra.update(chunk.extra_columns)
        for k, v in chunk.result.counts.items():
            self._counts[k] += v
        self._flagged += chunk.result.flagged_rows

    def _site_rank(self, key: Hashable) -> tuple[int, int]:
        """Where a warning's rule (and column) is evaluated: first check of the rule, column order."""
        rule_id, column = key if isinstance(key, tuple) else (key, "")
        checks = self._checks.index(rule_id) if rule_id in self._checks else len(self._checks)
        names = TABLES["positions"].names
        return checks, names.index(column) if column in names else len(names)

    @property
    def notes(self) -> list[str]:
        """The positions chunks' parse notes, each once, in first-seen order."""
        return list(self._notes)

    def extra_columns(self, header: Sequence[str]) -> tuple[str, ...]:
        """Extra columns any chunk reported, in header order."""
        return tuple(name for name in header if name in self._extra)

    def rejects_of_positions(self) -> list[Reject]:
        return self._rejects

    def _summaries(self) -> list[str]:
        out: list[str] = []
        for key in self._summary_order:
            total, text, first_count, examples = self._summary[key]
            prefix = f"positions: {first_count} row(s)"
            if text.startswith(prefix):
                text = f"positions: {total} row(s)" + text[len(prefix) :]
            rule_id = key[0] if isinstance(key, tuple) else ""
            if rule_id == _EXAMPLES_RULE:
                start = text.find("(e.g. ")
                end = text.find("); accepted", start)
                if start >= 0 and end > start:
                    text = text[: start + len("(e.g. ")] + ", ".join(examples) + text[end:]
            out.append(text)
        catalogue = rule_catalogue()
        for rule_id in self._generic_order:
            rule = catalogue.get(str(rule_id))
            what = rule.description_en if rule is not None else "bank-defined rule"
            out.append(f"positions: {self._generic[rule_id]} row(s) flagged by {rule_id} ({what}); used, see flags")
        return out

    def finish(
        self,
        empty_positions: ParsedTable,
        companions: Mapping[str, ParsedTable],
        facts: WholeTableFacts,
        used_ids: pa.Array | None,
    ) -> tuple[StreamedValidation, dict[str, TableResult]]:
        """Validate the companion tables once and put everything together.

        ``empty_positions`` is a zero-row positions table carrying the merged notes and extra
        columns (so the warnings come out in the whole-table order); ``used_ids`` the schedule
        position ids some clean positions row carries.
        """
        kwargs: dict[str, Any] = {} if self.dq is None else {"dq": self.dq}
        passed = {"positions": empty_positions, **companions}
        result = validate_tables(passed, self.as_of, **kwargs)
        severities, bank = _severities(self.dq)
        tables: dict[str, TableResult] = {}
        for name, own in result.tables.items():
            if name == "positions":
                continue
            if name in _SCHEDULES:
                own = self._relink(own, facts, used_ids, severities)
            tables[name] = own
        comp_summaries = _warning_summaries(result.tables)
        head = result.warnings[: len(result.warnings) - len(comp_summaries)]
        warnings = [*head, *[str(w) for w in self._links], *self._summaries(), *_warning_summaries(tables)]
        rejects = sorted(self._rejects, key=lambda r: r.row)  # stable: the order within a row is kept
        rejects.extend(_rejects(tables))
        flag_parts = [*self._flags]
        companion_flags = _flags(tables)
        if companion_flags.num_rows:
            flag_parts.append(companion_flags)
        flags = pa.concat_tables(flag_parts).cast(FLAG_SCHEMA) if flag_parts else empty_flags()
        catalogue = rule_catalogue()
        rank = {rule_id: k for k, rule_id in enumerate([*catalogue, *(r.id for r in bank)])}
        rows = sorted(self._rules.values(), key=lambda r: rank[r["rule_id"]])
        rule_results = pa.concat_tables(
            [pa.Table.from_pylist(rows, schema=RULE_RESULT_SCHEMA), _rule_results(tables, severities, bank)]
        )
        counts = {"positions": dict(self._counts)}
        flagged = {"positions": self._flagged}
        for name in TABLE_ORDER:
            if name in tables:
                counts[name] = tables[name].counts
                flagged[name] = tables[name].flagged_rows
        outcome = StreamedValidation(self.as_of, rejects, warnings, flags, rule_results, counts, flagged)
        return outcome, tables

    @staticmethod
    def _relink(
        own: TableResult, facts: WholeTableFacts, used_ids: pa.Array | None, severities: Mapping[str, Severity]
    ) -> TableResult:
        """A schedule table's result with SCH-LINK-001/002 over every positions row."""
        parsed = own.parsed
        ids = facts.schedule_ids if facts.schedule_ids is not None else pa.array([], pa.string())
        read_mask = facts.schedule_read if facts.schedule_read is not None else np.zeros(len(ids), dtype=bool)
        read_ids = ids.filter(pa.array(read_mask))
        used = used_ids if used_ids is not None else pa.array([], pa.string())
        pid = parsed.data.column("position_id") if "position_id" in parsed.data.column_names else None
        if pid is None:
            return own
        valid = _numpy_bool(pc.is_valid(pid))
        read = _numpy_bool(pc.is_in(pid, value_set=read_ids))
        usable = _numpy_bool(pc.is_in(pid, value_set=used))
        ok = ~_failed(parsed, ("position_id",))
        masks = {"SCH-LINK-001": valid & ~read & ok, "SCH-LINK-002": valid & read & ~usable & ok}
        catalogue = rule_catalogue()
        fresh = [
            Finding("position_id", catalogue[r].reason, m, _LINK_MESSAGES[r], rule_id=r, severity=severities[r])
            for r, m in masks.items()
            if m.any()
        ]
        findings: list[Finding] = []
        placed = False
        for finding in own.findings:
            if finding.rule_id in _LINK_RULES:
                if not placed:
                    findings.extend(fresh)
                    placed = True
                continue
            findings.append(finding)
        if not placed:
            # no row linked in the zero-row validation: only possible when no row has a position_id
            findings.extend(fresh)
        return _table_result(parsed, findings, dict(own.checked))
