"""Reports written with each snapshot version: rejects, data quality, reconciliation to the ledger.

They are written into the version's report folder (``reports/as_of=<date>/snapshot=<id>/``) before
the version is committed, and their summary rows go into the catalogue (``quality_results``,
``reconciliations``) in the same transaction as the version.
"""

from __future__ import annotations

import warnings as _warnings
from pathlib import Path
from typing import Any

import pyarrow as pa

from openalm.data.rejects import write_rejects_csv
from openalm.errors import DataError, OpenALMWarning
from openalm.i18n import default_language
from openalm.workspace.ingest import Ingested

__all__ = ["write_snapshot_reports"]

_RECON_CATALOG_COLUMNS = (
    "reporting_entity_id", "branch_id", "gl_account", "currency", "measure", "gl_balance", "positions_amount",
    "difference", "tolerance", "status", "position_count",
)  # fmt: skip


def _reconcile(ingested: Ingested, folder: Path, config: Any) -> tuple[str | None, pa.Table | None]:
    """Reconcile the clean positions to the ledger when the snapshot holds both ledger tables."""
    from openalm.data.reconciliation import reconcile, write_reconciliation

    gl = ingested.clean.get("gl_balances")
    gmap = ingested.clean.get("gl_account_map")
    positions = ingested.clean.get("positions")
    written = ingested.written.get("positions")
    if gl is None or gmap is None or (positions is None and written is None):
        return None, None
    settings = getattr(config, "reconciliation", None)
    if settings is not None:
        # the policy applies when a run uses the version, not when it is loaded: record, never block here
        settings = settings.model_copy(update={"policy": "warn"})
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore", OpenALMWarning)
            if positions is not None:
                result = reconcile(positions, gl, gmap, settings=settings)
            else:
                # a streamed positions file: grouped part by part, the same result in bounded memory
                from openalm.workspace._chunked_reconciliation import reconcile_dataset

                assert written is not None
                result = reconcile_dataset(written.folder, gl, gmap, settings=settings)
    except DataError as err:
        ingested.warnings.append(f"reconciliation could not be done: {err}")
        return "error", None
    write_reconciliation(result, folder)
    ingested.warnings.extend(result.warnings)
    table = result.table
    cols = [c for c in _RECON_CATALOG_COLUMNS if c in table.column_names]
    out = table.select(cols)
    for c in ("gl_balance", "positions_amount", "difference", "tolerance"):
        if c in out.column_names and not pa.types.is_floating(out.schema.field(c).type):
            out = out.set_column(out.column_names.index(c), c, out.column(c).cast(pa.float64()))
    return result.status, out


def _quality(ingested: Ingested, folder: Path, config: Any) -> pa.Table | None:
    """The data-quality report (per rule) as files and catalogue rows, when the DQ module is present."""
    try:
        from openalm.data.quality import quality_report, write_quality_report
    except ImportError:  # pragma: no cover - the module ships with the package
        return None
    if ingested.validation is None:
        return None
    dq = getattr(config, "data_quality", None)
    sample = getattr(dq, "sample_rows", 5) if dq is not None else 5
    report = quality_report(ingested.validation, sample_rows=sample)
    write_quality_report(report, folder, default_language())
    rules = report.rules
    cols = ["rule_id", "table", "reason", "severity", "rows_checked", "rows_failed", "sample"]
    present = [c for c in cols if c in rules.column_names]
    out = rules.select(present)
    if "table" in out.column_names:
        out = out.rename_columns(["table_name" if c == "table" else c for c in out.column_names])
    return out


def write_snapshot_reports(
    ingested: Ingested, folder: Path, config: Any = None, *, progress: Any = None
) -> dict[str, Any]:
    """Write the version's reports into ``folder``; returns catalogue rows and the reconciliation status.

    ``progress(stage, done, total)`` hears ``reports`` 0 / 2 -> 2 / 2 (data quality, reconciliation).
    """
    if progress is not None:
        progress("reports", 0, 2)
    write_rejects_csv(ingested.rejects, folder / "rejects.csv")
    corrections = ingested.extra.get("mapping_corrections")
    if corrections is not None:
        import pyarrow.csv as pacsv

        pacsv.write_csv(corrections, folder / "mapping_corrections.csv")
    quality = _quality(ingested, folder, config)
    if progress is not None:
        progress("reports", 1, 2)
    status, recon = _reconcile(ingested, folder, config)
    if progress is not None:
        progress("reports", 2, 2)
    return {"tables": {"quality_results": quality, "reconciliations": recon}, "reconciliation_status": status}
