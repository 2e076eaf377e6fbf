"""Reconciliation to the ledger of a positions dataset too large to hold: one part at a time.

:func:`openalm.data.reconciliation.reconcile` takes the positions as one table; on ten million
rows its exact decimal sums need about 3.5 GB. The sums it compares with the ledger are additive:
per key ``(reporting_entity_id, branch_id, gl_account, currency)`` the exact sum and the count of
linked amounts, plus counters that are row counts. :func:`reconcile_dataset` therefore runs the
same steps as ``reconcile`` -- with the same private building blocks of
:mod:`openalm.data.reconciliation` -- but groups the positions part file by part file (reading only
the columns the grouping uses) and adds the groups up in exact decimal arithmetic. The result is
the one ``reconcile`` gives for the whole table (the streaming test compares the reports byte for
byte).
"""

from __future__ import annotations

import decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from openalm.config import ReconciliationSettings
from openalm.data.reconciliation import (
    MEASURES,
    ReconciliationResult,
    _Counters,
    _Group,
    _position_groups,
    _read_map,
    _resolve_level,
    _result,
)

__all__ = ["reconcile_dataset"]

_KEYS = ("reporting_entity_id", "branch_id", "gl_account", "currency", "side", "source_row")


def _columns(folder: Path, gmap: pa.Table) -> tuple[list[Path], list[str]]:
    """Part files and the columns the grouping reads: keys, ``side``, ``source_row`` (named in
    errors) and the measures the map uses (``principal_balance`` always: unmapped accounts count it)."""
    parts = sorted(folder.glob("part-*.parquet"))
    available = set(pq.ParquetFile(parts[0]).schema_arrow.names) if parts else set()
    used = set(gmap.column("measure").drop_null().to_pylist()) if "measure" in gmap.column_names else set()
    wanted = [*_KEYS, *(m for m in MEASURES if m != "none" and (m in used or m == "principal_balance"))]
    return parts, [c for c in wanted if c in available]


def reconcile_dataset(
    folder: Path,
    gl_balances: pa.Table,
    gl_account_map: pa.Table,
    *,
    settings: ReconciliationSettings | None = None,
) -> ReconciliationResult:
    """:func:`~openalm.data.reconciliation.reconcile` of the positions in a dataset folder, part by part.

    Parameters
    ----------
    folder:
        A folder of ``part-NNNNN.parquet`` files of clean positions (as the workspace writes them).
    gl_balances, gl_account_map:
        The ledger tables (as for ``reconcile``).
    settings:
        Level, default tolerances and policy.

    Raises
    ------
    ReconciliationError, SchemaError, DataError
        As ``reconcile`` does.
    """
    settings = settings or ReconciliationSettings()
    accounts = _read_map(gl_account_map)
    parts, columns = _columns(folder, gl_account_map)
    level_columns = [c for c in ("branch_id", "source_row") if c in columns]
    branches = pa.concat_tables([pq.read_table(p, columns=level_columns) for p in parts]) if parts else pa.table({})
    level, reason = _resolve_level(settings.level, branches, gl_balances)
    del branches
    counters = _Counters()
    for acct in accounts.values():
        counters.defaulted_abs += acct.tol_abs is None
        counters.defaulted_rel += acct.tol_rel is None
        counters.defaulted_scope += acct.scope_defaulted
    pos_groups: dict[tuple[str | None, str | None, str | None, str | None], _Group] = {}
    # each part's sums are exact; adding them must stay exact too (no rounding to 28 digits)
    with decimal.localcontext(prec=100):
        for part in parts:
            table = pq.read_table(part, columns=columns)
            for key, group in _position_groups(table, accounts, level, counters).items():
                held = pos_groups.get(key)
                if held is None:
                    pos_groups[key] = _Group(group.total, group.count)
                else:
                    held.total += group.total
                    held.count += group.count
            del table
    return _result(pos_groups, gl_balances, accounts, level, reason, counters, settings, None, None)
