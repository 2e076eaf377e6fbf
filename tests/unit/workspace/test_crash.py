"""A process killed (SIGKILL) in the middle of a load or a run leaves the workspace at its last good state.

The load / run runs in a child process with ``OPENALM_PAUSE_AT`` naming a point of the write
(:func:`openalm.workspace._files.checkpoint`); the child writes a flag file when it gets there and
sleeps, and the test kills it at that exact moment. The workspace must then open, show exactly the
versions and runs committed before, and accept the next load / run, which sweeps up the leftovers.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from openalm.config import load_config
from openalm.data.synthetic import generate_bank, write_snapshot
from openalm.workspace import Workspace, read_run_table, run_in_workspace

AS_OF = dt.date(2026, 6, 30)

_CHILD = """
import datetime as dt, sys
from openalm.config import load_config
from openalm.workspace import Workspace, run_in_workspace
ws = Workspace.open(sys.argv[1])
cfg = load_config(None, {"engine": {"partition_size": 300, "workers": 1}})
if sys.argv[2] == "load":
    ws.load(sys.argv[3], dt.date(2026, 6, 30), config=cfg)
else:
    run_in_workspace(ws, dt.date(2026, 6, 30), cfg)
"""


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("crash")
    a = generate_bank(1200)
    b = generate_bank(1200, seed=99)
    write_snapshot(a, root / "a", "parquet")
    write_snapshot(b, root / "b", "parquet")
    return root / "a", root / "b"


def _kill_at(point: str, args: list[str], tmp: Path) -> None:
    flag = tmp / f"paused-{point}"
    env = {**os.environ, "OPENALM_PAUSE_AT": point, "OPENALM_PAUSE_FILE": str(flag), "OPENALM_PAUSE_SECONDS": "60"}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, *args], env=env)
    deadline = time.monotonic() + 120
    while not flag.exists():
        if child.poll() is not None:
            raise AssertionError(f"child ended ({child.returncode}) before reaching {point}")
        if time.monotonic() > deadline:
            child.kill()
            raise AssertionError(f"child never reached {point}")
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


@pytest.mark.parametrize("point", ["load_read", "snapshot_staged", "snapshot_moved", "snapshot_committing"])
def test_killed_load_leaves_the_last_good_version(point: str, snapshots: tuple[Path, Path], tmp_path: Path) -> None:
    first, second = snapshots
    ws = Workspace.init(tmp_path / "ws")
    cfg = load_config(None, {"engine": {"partition_size": 300, "workers": 1}})
    v1 = ws.load(first, AS_OF, config=cfg).snapshot
    before = ws.read_table(v1, "positions")
    _kill_at(point, [str(ws.root), "load", str(second)], tmp_path)
    ws = Workspace.open(tmp_path / "ws")
    assert [s.version for s in ws.snapshots(AS_OF)] == [1]  # the killed load never happened
    assert ws.read_table(v1, "positions").equals(before)
    assert ws.catalog.verify_audit() == []
    # the next writer sweeps up and loads normally
    v2 = ws.load(second, AS_OF, config=cfg).snapshot
    assert v2.version == 2
    assert not list((ws.root / ".staging").iterdir())
    on_disk = {
        p.parent.name.split("=")[1]
        for p in (ws.root / "data" / "positions").glob("as_of=*/snapshot=*/part-00000.parquet")
    }
    assert on_disk == {v1.snapshot_id, v2.snapshot_id}


@pytest.mark.parametrize("point", ["run_partials_written", "run_staged", "run_moved"])
def test_killed_run_leaves_the_last_good_run(point: str, snapshots: tuple[Path, Path], tmp_path: Path) -> None:
    first, _ = snapshots
    ws = Workspace.init(tmp_path / "ws")
    cfg = load_config(None, {"engine": {"partition_size": 300, "workers": 1}})
    ws.load(first, AS_OF, config=cfg)
    good = run_in_workspace(ws, AS_OF, cfg, full=True)
    ladder = read_run_table(ws, good.run_id, "cashflow_ladder")
    _kill_at(point, [str(ws.root), "run"], tmp_path)
    ws = Workspace.open(tmp_path / "ws")
    assert [r["run_id"] for r in ws.catalog.query("SELECT run_id FROM runs")] == [good.run_id]
    assert read_run_table(ws, good.run_id, "cashflow_ladder").equals(ladder)
    again = run_in_workspace(ws, AS_OF, cfg)
    assert again.kind == "incremental" and again.recomputed == []
    assert read_run_table(ws, again.run_id, "cashflow_ladder").equals(ladder)
    runs_on_disk = {p.name.split("=")[1] for p in (ws.root / "results").glob("as_of=*/run=*")}
    assert runs_on_disk == {good.run_id, again.run_id}
