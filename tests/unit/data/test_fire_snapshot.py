"""A folder of FIRE JSON records is a snapshot folder too (interfaces.md "Inputs")."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from openalm.data.snapshot import is_fire_source, read_snapshot

FIRE = Path(__file__).resolve().parents[4] / "shared" / "data" / "fire-examples"
pytestmark = pytest.mark.skipif(not FIRE.is_dir(), reason="FIRE examples (../shared/data/fire-examples) not present")


def test_fire_folder_reads_as_a_snapshot(tmp_path: Path) -> None:
    shutil.copy(FIRE / "time_deposit_1year.json", tmp_path)
    assert is_fire_source(tmp_path)
    snap = read_snapshot(tmp_path, dt.date(2017, 6, 30))
    assert snap.counts["positions"] == {"read": 1, "rejected": 0, "used": 1}
    row = snap.positions.to_pylist()[0]
    # FIRE balance 30000 in minor units of GBP -> 300.00; a liability time deposit
    assert (row["instrument_type"], row["side"], row["currency"], row["principal_balance"]) == (
        "deposit_term", "liability", "GBP", 300.0,
    )  # fmt: skip
    assert snap.files["time_deposit_1year.json"]["sha256"]


def test_fire_records_of_another_date_are_rejected_not_dropped(tmp_path: Path) -> None:
    shutil.copy(FIRE / "time_deposit_1year.json", tmp_path)
    snap = read_snapshot(tmp_path, dt.date(2026, 6, 30))
    assert snap.positions.num_rows == 0
    assert [r.reason for r in snap.rejects] == ["fire_as_of_mismatch"]
    assert snap.rejects[0].file == "time_deposit_1year.json" and snap.rejects[0].row == 1
