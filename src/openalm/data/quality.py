"""The data-quality report: per rule, how many rows it checked and failed, with sample rows.

Built from a validation outcome (:class:`~openalm.data.validation.ValidationResult`,
:class:`~openalm.data.snapshot.ValidationReport` or :class:`~openalm.data.snapshot.Snapshot`):
one row per data-quality rule evaluated on a table (positions.md 10: "each produces a count and a
sample in the data-quality report") plus the summary counts per table. Written by
:func:`write_quality_report` as ``data_quality.csv``, ``data_quality.parquet``, ``flags.csv``
and a self-contained ``data_quality.html`` (inline CSS, no scripts, readable on a phone) with
headings from the label catalogue in Chinese or English.

Examples
--------
>>> report = quality_report(read_snapshot("snapshot/", "2026-06-30"))  # doctest: +SKIP
>>> write_quality_report(report, "out/", "en")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final, Protocol

import jinja2
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from openalm.data.flags import FLAG_SCHEMA
from openalm.data.quality_rules import SEVERITIES
from openalm.data.rejects import Reject
from openalm.i18n import Language, default_language, labels

__all__ = ["REPORT_SCHEMA", "DataQualityReport", "quality_report", "render_html", "write_quality_report"]

#: Columns of ``data_quality.csv`` / ``.parquet``, in order.
REPORT_SCHEMA: Final = pa.schema(
    [
        pa.field("rule_id", pa.string()),
        pa.field("table", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("severity", pa.string()),
        pa.field("rows_checked", pa.int64()),
        pa.field("rows_failed", pa.int64()),
        pa.field("share_failed", pa.float64()),
        pa.field("description_zh", pa.string()),
        pa.field("description_en", pa.string()),
        pa.field("sample", pa.string()),
    ]
)
_SUMMARY_KEYS: Final = ("read", "used", "rejected", "flagged", "errors", "warnings")
_TEMPLATE: Final = "data_quality.html"


class _Validated(Protocol):
    """What the report reads of a validation outcome (result, report or snapshot)."""

    @property
    def as_of(self) -> dt.date: ...
    @property
    def rejects(self) -> list[Reject]: ...
    @property
    def counts(self) -> dict[str, dict[str, int]]: ...
    @property
    def flagged(self) -> dict[str, int]: ...
    @property
    def flags(self) -> pa.Table: ...
    @property
    def rule_results(self) -> pa.Table: ...


@dataclass(frozen=True)
class DataQualityReport:
    """The data-quality report of a snapshot.

    Attributes
    ----------
    as_of:
        The run's as-of date.
    rules:
        One row per rule evaluated on a table (:data:`REPORT_SCHEMA`): failing rules first,
        errors before warnings, then by rows failed (most first); passing rules after, in
        catalogue order. ``share_failed = rows_failed / rows_checked`` (0 when nothing was
        checked); ``sample`` is a JSON list of the first failing problems,
        ``[{"row", "position_id", "column", "value"}]`` by row.
    summary:
        ``{table: {"read", "used", "rejected", "flagged", "errors", "warnings"}}``: rows
        (``read = used + rejected``; ``flagged`` are used rows with a warning) and problems
        (``errors`` rejects, ``warnings`` flags).
    flags:
        Every warning of a row (:data:`~openalm.data.flags.FLAG_SCHEMA`).
    """

    as_of: dt.date
    rules: pa.Table
    summary: dict[str, dict[str, int]]
    flags: pa.Table

    @property
    def failing(self) -> pa.Table:
        """The rules with at least one failing row."""
        return self.rules.filter(pc.greater(self.rules.column("rows_failed"), 0))


def _samples(source: _Validated, failing: Sequence[tuple[str, str, str]], n: int) -> dict[tuple[str, str], str]:
    """JSON sample of each failing (table, rule, severity): first ``n`` problems by row."""
    out: dict[tuple[str, str], str] = {}
    wanted_errors = {(t, r) for t, r, s in failing if s == "error"}
    by_rule: dict[tuple[str, str], list[dict[str, Any]]] = {}
    if wanted_errors and n > 0:
        for reject in sorted(source.rejects, key=lambda r: r.row):  # stable: rule order kept within a row
            key = (reject.table, reject.rule_id)
            if key in wanted_errors:
                items = by_rule.setdefault(key, [])
                if len(items) < n:
                    items.append({"row": reject.row, "position_id": reject.position_id, "column": reject.column,
                                  "value": reject.value})  # fmt: skip
    flags = source.flags
    for table, rule_id, severity in failing:
        key = (table, rule_id)
        if severity == "warning" and n > 0:
            mask = pc.and_(pc.equal(flags.column("table"), table), pc.equal(flags.column("rule_id"), rule_id))
            rows = flags.filter(mask).slice(0, n).select(["row", "position_id", "column", "value"]).to_pylist()
            by_rule[key] = rows
        out[key] = json.dumps(by_rule.get(key, []), ensure_ascii=False)
    return out


def quality_report(source: _Validated, *, sample_rows: int = 5) -> DataQualityReport:
    """Build the data-quality report of a validation outcome.

    Parameters
    ----------
    source:
        A :class:`~openalm.data.validation.ValidationResult`, a
        :class:`~openalm.data.snapshot.ValidationReport` or a :class:`~openalm.data.snapshot.Snapshot`.
    sample_rows:
        Failing problems quoted per rule (``data_quality.sample_rows`` of the config).

    Returns
    -------
    DataQualityReport
        Rules table (failing first) and summary counts per table.
    """
    if sample_rows < 0:
        raise ValueError(f"sample_rows must be >= 0, got {sample_rows}")
    results = source.rule_results.to_pylist()
    failing = [(r["table"], r["rule_id"], r["severity"]) for r in results if r["rows_failed"] > 0]
    samples = _samples(source, failing, sample_rows)
    order = {s: k for k, s in enumerate(SEVERITIES)}
    ranked = sorted(
        enumerate(results),
        key=lambda item: (
            item[1]["rows_failed"] == 0,
            order.get(item[1]["severity"], len(order)) if item[1]["rows_failed"] else 0,
            -item[1]["rows_failed"],
            item[0],
        ),
    )
    rows: list[dict[str, Any]] = []
    for _, r in ranked:
        checked = int(r["rows_checked"])
        rows.append(
            {
                **{k: r[k] for k in ("rule_id", "table", "reason", "severity", "rows_checked", "rows_failed")},
                "share_failed": r["rows_failed"] / checked if checked else 0.0,
                "description_zh": r["description_zh"],
                "description_en": r["description_en"],
                "sample": samples.get((r["table"], r["rule_id"]), "[]"),
            }
        )
    rules = pa.Table.from_pylist(rows, schema=REPORT_SCHEMA)
    errors: dict[str, int] = {}
    for reject in source.rejects:
        errors[reject.table] = errors.get(reject.table, 0) + 1
    warnings: dict[str, int] = {}
    if source.flags.num_rows:
        counted = source.flags.group_by("table").aggregate([("row", "count")])
        warnings = dict(zip(counted.column("table").to_pylist(), counted.column("row_count").to_pylist(), strict=True))
    summary = {
        table: {
            "read": c["read"],
            "used": c["used"],
            "rejected": c["rejected"],
            "flagged": int(source.flagged.get(table, 0)),
            "errors": errors.get(table, 0),
            "warnings": int(warnings.get(table, 0)),
        }
        for table, c in source.counts.items()
    }
    return DataQualityReport(source.as_of, rules, summary, source.flags.cast(FLAG_SCHEMA))


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then move it over ``path``."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _csv(table: pa.Table) -> Callable[[Path], None]:
    options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    return lambda tmp: pacsv.write_csv(table, tmp, write_options=options)


def _share(value: float) -> str:
    return f"{value:.2%}" if value >= 0.0001 or value == 0 else f"{value:.4%}"


def render_html(report: DataQualityReport, lang: Language) -> str:
    """The report as one self-contained HTML page (labels in ``lang``, every value escaped)."""
    catalogue = labels()
    text = {key: entry[lang] for key, entry in catalogue.items() if key.startswith("dq.")}
    severity_label = {s: text[f"dq.severity.{s}"] for s in SEVERITIES}
    failing: list[dict[str, Any]] = []
    passing: list[dict[str, Any]] = []
    for r in report.rules.to_pylist():
        item = {
            **r,
            "severity_label": severity_label.get(r["severity"], r["severity"]),
            "description": r[f"description_{lang}"],
            "share": _share(r["share_failed"]),
            "sample": json.loads(r["sample"]),
        }
        (failing if r["rows_failed"] else passing).append(item)
    summary = [{"table": t, **counts} for t, counts in report.summary.items()]
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    source = resources.files("openalm").joinpath("templates", _TEMPLATE).read_text(encoding="utf-8")
    template = env.from_string(source)
    return template.render(
        L=text,
        html_lang="zh-CN" if lang == "zh" else "en",
        as_of=report.as_of.isoformat(),
        summary=summary,
        failing=failing,
        passing=passing,
    )


def write_quality_report(
    report: DataQualityReport, folder: str | os.PathLike[str], lang: Language | None = None
) -> Mapping[str, Path]:
    """Write ``data_quality.csv``, ``data_quality.parquet``, ``flags.csv`` and ``data_quality.html``.

    Each file is written under a temporary name in ``folder`` and moved into place
    (:func:`os.replace`), so a reader never sees half a file.

    Parameters
    ----------
    report:
        The report (:func:`quality_report`).
    folder:
        Output folder (created when missing).
    lang:
        Language of the HTML page (``zh`` or ``en``); default ``OPENALM_LANG``, else ``zh``.

    Returns
    -------
    Mapping[str, Path]
        The path of each file written, by file name.
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    language: Language = lang or default_language()
    html = render_html(report, language)
    paths = {
        "data_quality.csv": _csv(report.rules),
        "data_quality.parquet": lambda tmp: pq.write_table(report.rules, tmp, compression="zstd"),
        "flags.csv": _csv(report.flags.select(list(FLAG_SCHEMA.names))),
        "data_quality.html": lambda tmp: tmp.write_text(html, encoding="utf-8"),
    }
    written: dict[str, Path] = {}
    for name, write in paths.items():
        _atomic_write(root / name, write)
        written[name] = root / name
    return written
