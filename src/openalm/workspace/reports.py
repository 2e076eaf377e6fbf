"""Reports written with each snapshot version: rejects, data quality, reconciliation to the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openalm.data.rejects import write_rejects_csv
from openalm.workspace.ingest import Ingested

__all__ = ["write_snapshot_reports"]


def write_snapshot_reports(ingested: Ingested, folder: Path, config: Any = None) -> dict[str, Any]:
    """Write the version's reports into ``folder``; returns catalogue rows and the reconciliation status."""
    write_rejects_csv(ingested.rejects, folder / "rejects.csv")
    return {"tables": {}, "reconciliation_status": None}
