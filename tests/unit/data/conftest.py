"""Fixtures of the data-layer tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from _snapshot_builders import AS_OF, COUNTERPARTY, write_csv

from openalm.data import Snapshot, read_snapshot


@pytest.fixture
def as_of() -> dt.date:
    return AS_OF


@pytest.fixture
def snapshot_dir(tmp_path: Path) -> Callable[..., Path]:
    """Write a new snapshot folder of CSV files: ``positions`` rows plus companion tables.

    Companion tables are given as keyword arguments (``counterparties=[...]``); counterparties
    default to one row for ``C1``; pass ``counterparties=None`` to leave the file out.
    """

    calls = iter(range(1_000_000))

    def make(positions: Sequence[dict[str, Any]], **tables: Sequence[dict[str, Any]] | None) -> Path:
        folder = tmp_path / f"snap{next(calls)}"
        folder.mkdir()
        write_csv(folder / "positions.csv", positions)
        tables.setdefault("counterparties", [COUNTERPARTY])
        for name, rows in tables.items():
            if rows is not None:
                write_csv(folder / f"{name}.csv", rows)
        return folder

    return make


@pytest.fixture
def load(snapshot_dir: Callable[..., Path]) -> Callable[..., Snapshot]:
    """Write a CSV snapshot (see ``snapshot_dir``) and read it at the as-of date."""

    def run(positions: Sequence[dict[str, Any]], **tables: Sequence[dict[str, Any]] | None) -> Snapshot:
        return read_snapshot(snapshot_dir(positions, **tables), AS_OF)

    return run
