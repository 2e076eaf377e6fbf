"""The workspace (embedded default storage): versioned snapshots, corrections, runs, lineage, audit.

A workspace is a folder of Parquet datasets partitioned by as-of date plus one DuckDB catalogue
(:mod:`openalm.workspace.catalog`). ``openalm workspace init`` creates one; ``openalm load``,
``correct``, ``diff``, ``run --workspace``, ``trace`` and ``log`` work on it.
"""

from __future__ import annotations

from openalm.workspace.catalog import Catalog, current_user
from openalm.workspace.runs import PartitionPlan, WorkspaceRun, export_run, load_run, read_run_table, run_in_workspace
from openalm.workspace.store import LoadOutcome, SnapshotVersion, Workspace

__all__ = [
    "Catalog",
    "LoadOutcome",
    "PartitionPlan",
    "SnapshotVersion",
    "Workspace",
    "WorkspaceRun",
    "current_user",
    "export_run",
    "load_run",
    "read_run_table",
    "run_in_workspace",
]
