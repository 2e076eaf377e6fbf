"""Deliberately damaged copies of a snapshot, to rehearse and test the data-quality path.

:func:`damage_snapshot` copies a CSV snapshot folder and injects known faults into
``positions.csv`` -- the faults banks meet in real extracts -- and returns the list of what it
did, so that a test (or a data team rehearsing its procedures) can check that every fault is
caught, named and quarantined, and that every other row still loads:

``duplicate_key``     a row given another row's ``position_id`` (both rows are ambiguous)
``unknown_code``      an instrument type the contract does not know (``loans``)
``bad_currency``      a currency that is not ISO 4217 (``RMB``)
``percent_rate``      a rate written in percent (3.45 for 0.0345)
``impossible_date``   a maturity of 30 February
``shifted_columns``   a row whose values slid one column to the right (a lost delimiter upstream)
``negative_amount``   a negative principal balance
``missing_required``  a blank currency
``ledger_break``      (``gl_balances.csv``) one ledger balance off by 1,000,000.00

Whole-file faults (a GBK-encoded file, a truncated file) are produced by :func:`reencode` and
:func:`truncate`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from openalm.errors import DataError

__all__ = ["FAULT_KINDS", "InjectedFault", "damage_snapshot", "reencode", "truncate"]

FAULT_KINDS: Final = (
    "duplicate_key",
    "unknown_code",
    "bad_currency",
    "percent_rate",
    "impossible_date",
    "shifted_columns",
    "negative_amount",
    "missing_required",
)


@dataclass(frozen=True)
class InjectedFault:
    """One fault put into a file: where, what was there, what is there now."""

    kind: str
    file: str
    row: int  # 1-based data row
    position_id: str
    column: str
    original: str
    damaged: str


def _read_text(path: Path) -> pa.Table:
    import csv

    with open(path, encoding="utf-8-sig", newline="") as handle:
        names = next(csv.reader(handle))
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False),
    )


def _write_text(table: pa.Table, path: Path) -> None:
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))


def damage_snapshot(
    source: str | Path, target: str | Path, *, seed: int = 7, per_kind: int = 3, ledger_break: bool = True
) -> list[InjectedFault]:
    """Copy the CSV snapshot ``source`` to ``target`` and inject ``per_kind`` faults of each kind.

    Faults go to distinct rows of dated, interest-bearing loans (so that every fault is a fault
    for the rules, not an accident of the row). Returns every injected fault.
    """
    src = Path(source)
    dst = Path(target)
    if not (src / "positions.csv").is_file():
        raise DataError("has no positions.csv; damage_snapshot works on CSV snapshots", file=str(src))
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    path = dst / "positions.csv"
    table = _read_text(path)
    cols = {n: table.column(n).to_pylist() for n in table.column_names}
    rng = np.random.default_rng(seed)
    eligible = [
        i for i in range(table.num_rows)
        if cols["instrument_type"][i] == "loan" and cols["maturity_date"][i] and cols["current_rate"][i]
        and cols["rate_type"][i] == "fixed" and float(cols["current_rate"][i] or 0) > 0.001
    ]  # fmt: skip
    need = per_kind * len(FAULT_KINDS) + per_kind
    if len(eligible) < need:
        raise DataError(f"has {len(eligible)} fixed-rate dated loans; damage_snapshot needs {need}", file=str(path))
    chosen = [int(i) for i in rng.choice(eligible, size=need, replace=False)]
    faults: list[InjectedFault] = []

    def put(kind: str, i: int, column: str, value: str) -> None:
        faults.append(InjectedFault(kind, "positions.csv", i + 1, cols["position_id"][i], column,
                                    cols[column][i], value))  # fmt: skip
        cols[column][i] = value

    names = table.column_names
    it = iter(chosen)
    for kind in FAULT_KINDS:
        for _ in range(per_kind):
            i = next(it)
            if kind == "duplicate_key":
                j = next(it)
                put(kind, i, "position_id", cols["position_id"][j])
                faults.append(InjectedFault(kind, "positions.csv", j + 1, cols["position_id"][j], "position_id",
                                            cols["position_id"][j], cols["position_id"][j]))  # fmt: skip
            elif kind == "unknown_code":
                put(kind, i, "instrument_type", "loans")
            elif kind == "bad_currency":
                put(kind, i, "currency", "RMB")
            elif kind == "percent_rate":
                put(kind, i, "current_rate", repr(round(float(cols["current_rate"][i]) * 100, 10)))
            elif kind == "impossible_date":
                year = (cols["maturity_date"][i] or "2030-01-01")[:4]
                put(kind, i, "maturity_date", f"{year}-02-30")
            elif kind == "shifted_columns":
                start = names.index("principal_balance")
                original = [cols[n][i] for n in names]
                shifted = [*original[:start], "", *original[start:-1]]
                for n, v in zip(names[start:], shifted[start:], strict=True):
                    cols[n][i] = v
                faults.append(InjectedFault(kind, "positions.csv", i + 1, cols["position_id"][i], "principal_balance",
                                            original[start], ""))  # fmt: skip
            elif kind == "negative_amount":
                put(kind, i, "principal_balance", "-" + cols["principal_balance"][i])
            elif kind == "missing_required":
                put(kind, i, "currency", "")
    _write_text(pa.table({n: pa.array(v, pa.string()) for n, v in cols.items()}), path)
    gl = dst / "gl_balances.csv"
    if ledger_break and gl.is_file():
        g = _read_text(gl)
        bal = g.column("balance").to_pylist()
        k = int(np.argmax([abs(float(b or 0)) for b in bal]))
        new = repr(float(bal[k]) + 1_000_000.0)
        faults.append(InjectedFault("ledger_break", "gl_balances.csv", k + 1, "", "balance", bal[k], new))
        bal[k] = new
        _write_text(g.set_column(g.column_names.index("balance"), "balance", pa.array(bal, pa.string())), gl)
    return faults


def reencode(path: str | Path, encoding: str = "gb18030") -> None:
    """Rewrite a UTF-8 text file in another encoding (as Chinese core systems export)."""
    p = Path(path)
    p.write_bytes(p.read_text(encoding="utf-8").encode(encoding))


def truncate(path: str | Path, fraction: float = 0.5) -> int:
    """Cut a file at ``fraction`` of its bytes, mid-row (as an interrupted transfer does); returns bytes kept."""
    p = Path(path)
    data = p.read_bytes()
    keep = int(len(data) * fraction)
    while keep < len(data) and data[keep - 1 : keep] in (b"\n",):
        keep += 1  # make sure the cut is inside a row
    p.write_bytes(data[:keep])
    return keep
