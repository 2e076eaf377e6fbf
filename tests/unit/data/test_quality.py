"""Data-quality layer: rule catalogue, severities, bank-defined rules, rule 8, the DQ report."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from _snapshot_builders import AS_OF, DEPOSIT, LOAN, row
from typer.testing import CliRunner

import openalm.data._cells as cells_module
import openalm.data.mapping as mapping_module
import openalm.data.validation as validation_module
from openalm.config import DataQualitySettings, load_config
from openalm.data import REASONS, Snapshot, read_snapshot, validate
from openalm.data.flags import FLAG_COLUMNS, flag_list
from openalm.data.quality import REPORT_SCHEMA, quality_report, write_quality_report
from openalm.data.quality_rules import BANK_RULE_REASON, rule_catalogue, severities_for
from openalm.errors import ConfigError

Folder = Callable[..., Path]


def settings(**values: Any) -> DataQualitySettings:
    return DataQualitySettings(**values)


# --------------------------------------------------------------------------------------------
# the catalogue
# --------------------------------------------------------------------------------------------

_RULE_ID = re.compile(r'"([A-Z]+-[A-Z]+-\d{3})"')


def test_every_catalogue_rule_is_implemented_and_every_emitted_reason_is_catalogued() -> None:
    catalogue = rule_catalogue()
    source = Path(validation_module.__file__).read_text(encoding="utf-8")
    # rule ids the validation code raises findings for == the catalogue
    assert set(_RULE_ID.findall(source)) == set(catalogue)
    # reasons: the registry and the catalogue agree (bank rules have their own reason)
    assert set(REASONS) == {r.reason for r in catalogue.values()} | {BANK_RULE_REASON}
    # every reason a reader can attach to a cell has a rule (parsers, source mapping)
    emitted = set(re.findall(r'Problem\(\s*"([a-z_]+)"', Path(cells_module.__file__).read_text(encoding="utf-8")))
    emitted |= {"bad_country"}  # passed through _parse_pattern
    emitted |= {"unknown_code", "bad_date", "bad_number"}  # mapping failures registered as cell problems
    mapping_source = Path(mapping_module.__file__).read_text(encoding="utf-8")
    assert all(f'"{reason}"' in mapping_source for reason in ("bad_date", "bad_number", "unknown_code"))
    cell_rules = {reason: rule_id for reason, (rule_id, _) in validation_module._CELL_RULES.items()}
    assert emitted <= set(cell_rules)
    assert all(catalogue[rule_id].reason == reason for reason, rule_id in cell_rules.items())


def test_catalogue_entries_are_complete() -> None:
    catalogue = rule_catalogue()
    assert len(catalogue) == 65
    for rule in catalogue.values():
        assert rule.description_zh and rule.description_en and rule.source.startswith("positions.md")
        if not rule.adjustable:
            assert rule.severity == "error", rule.id
    assert catalogue["POS-RATE-001"].severity == "warning"
    assert catalogue["POS-RATE-001"].params == {"tolerance": 0.0005}
    assert catalogue["GEN-KEY-001"].adjustable is False
    assert catalogue["GEN-RATE-001"].adjustable is True


def test_clean_snapshot_evaluates_rules_without_failures(load: Callable[..., Snapshot]) -> None:
    snap = load([LOAN, DEPOSIT])
    assert snap.rejects == [] and snap.flags.num_rows == 0
    assert snap.flagged == {"positions": 0, "counterparties": 0}
    results = {(r["rule_id"], r["table"]): r for r in snap.rule_results.to_pylist()}
    assert results[("GEN-REQ-001", "positions")]["rows_checked"] == 2
    assert results[("POS-COND-003", "positions")]["rows_checked"] == 2  # both interest-bearing
    assert results[("POS-FK-001", "positions")]["rows_checked"] == 2
    assert all(r["rows_failed"] == 0 for r in results.values())


# --------------------------------------------------------------------------------------------
# severities
# --------------------------------------------------------------------------------------------


def test_severity_override_moves_rows_between_flagged_and_rejected(snapshot_dir: Folder) -> None:
    no_gl = row(LOAN, position_id="L2", gl_account="")
    folder = snapshot_dir([LOAN, no_gl, DEPOSIT, row(DEPOSIT, position_id="D2", gl_account="")])

    default = read_snapshot(folder, AS_OF)
    assert default.counts["positions"] == {"read": 4, "rejected": 0, "used": 4}
    assert default.flagged["positions"] == 2
    assert [(f.row, f.rule_id, f.column, f.value) for f in flag_list(default.flags)] == [
        (2, "POS-RPT-001", "gl_account", ""),
        (4, "POS-RPT-001", "gl_account", ""),
    ]
    assert default.positions.num_rows == 4

    strict = read_snapshot(folder, AS_OF, dq=settings(severity={"POS-RPT-001": "error"}))
    assert strict.counts["positions"] == {"read": 4, "rejected": 2, "used": 2}
    assert strict.flagged["positions"] == 0 and strict.flags.num_rows == 0
    assert [(r.row, r.rule_id, r.reason) for r in strict.rejects] == [
        (2, "POS-RPT-001", "missing_report_field"),
        (4, "POS-RPT-001", "missing_report_field"),
    ]
    assert strict.positions.column("position_id").to_pylist() == ["L1", "D1"]

    # by reason, then back to warning by rule id (the rule id wins over its reason)
    back = read_snapshot(
        folder, AS_OF, dq=settings(severity={"missing_report_field": "error", "POS-RPT-001": "warning"})
    )
    assert back.counts["positions"] == default.counts["positions"]
    assert back.flagged == default.flagged
    assert back.flags.equals(default.flags)


def test_error_rule_made_a_warning_keeps_the_row(snapshot_dir: Folder) -> None:
    folder = snapshot_dir([LOAN, row(LOAN, position_id="L2", current_rate="3.85")])
    assert read_snapshot(folder, AS_OF).counts["positions"] == {"read": 2, "rejected": 1, "used": 1}
    snap = read_snapshot(folder, AS_OF, dq=settings(severity={"implausible_rate": "warning"}))
    assert snap.counts["positions"] == {"read": 2, "rejected": 0, "used": 2}
    assert snap.flagged["positions"] == 1
    (flag,) = flag_list(snap.flags)
    assert (flag.row, flag.position_id, flag.rule_id, flag.severity, flag.value) == (
        2, "L2", "GEN-RATE-001", "warning", "3.85",
    )  # fmt: skip
    assert flag.message.startswith("3.85 is outside -5%..50% p.a.")
    assert snap.positions.column("current_rate").to_pylist() == [0.0385, 3.85]  # used as given, not fixed
    assert any("1 row(s) flagged by GEN-RATE-001" in w for w in snap.warnings)
    # strict mode stops on errors only
    assert read_snapshot(folder, AS_OF, strict=True, dq=settings(severity={"GEN-RATE-001": "warning"})).rejects == []


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"GEN-KEY-001": "warning"}, "cannot make GEN-KEY-001 a warning"),
        ({"missing_required": "warning"}, "cannot make GEN-REQ-001 a warning"),
        ({"exceeds_principal_balance": "warning"}, "cannot make POS-AMT-002 a warning"),
        ({"POS-NOPE-001": "warning"}, "'POS-NOPE-001' is neither a data-quality rule id nor a reason"),
    ],
)
def test_bad_severity_override_is_a_config_error(override: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(expected)):
        settings(severity=override)


def test_non_adjustable_override_in_a_config_file(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("data_quality:\n  severity:\n    duplicate_key: warning\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="GEN-KEY-001"):
        load_config(path)
    path.write_text("data_quality:\n  severity:\n    POS-AMT-003: warning\n  sample_rows: 2\n", encoding="utf-8")
    cfg = load_config(path)
    assert cfg.data_quality.sample_rows == 2
    assert severities_for(cfg.data_quality)["POS-AMT-003"] == "warning"
    assert severities_for(cfg.data_quality)["POS-AMT-002"] == "error"


# --------------------------------------------------------------------------------------------
# bank-defined rules
# --------------------------------------------------------------------------------------------

LOW_LN01 = {
    "id": "BANK-LN01-RATE",
    "condition": "product_code = 'LN01' AND current_rate < 0.02",
    "message_zh": "LN01 利率低于 2%",
    "message_en": "LN01 rate below 2%",
    "column": "current_rate",
}


def test_bank_rule_flags_exactly_the_offending_rows(snapshot_dir: Folder) -> None:
    rows = [
        row(LOAN, position_id="A", product_code="LN01", current_rate="0.015"),  # flagged
        row(LOAN, position_id="B", product_code="LN01", current_rate="0.02"),  # not < 0.02
        row(LOAN, position_id="C", product_code="LN02", current_rate="0.01"),  # other product
        row(LOAN, position_id="D", product_code="LN01", current_rate="0.0199"),  # flagged
        row(LOAN, position_id="E", product_code="LN01", current_rate="abc"),  # unparseable: rejected, null
    ]
    folder = snapshot_dir(rows)
    snap = read_snapshot(folder, AS_OF, dq=settings(rules=[LOW_LN01]))
    assert [(f.row, f.position_id, f.rule_id, f.column, f.value, f.message) for f in flag_list(snap.flags)] == [
        (1, "A", "BANK-LN01-RATE", "current_rate", "0.015", "LN01 rate below 2% [BANK-LN01-RATE]"),
        (4, "D", "BANK-LN01-RATE", "current_rate", "0.0199", "LN01 rate below 2% [BANK-LN01-RATE]"),
    ]
    assert snap.counts["positions"] == {"read": 5, "rejected": 1, "used": 4}
    assert snap.flagged["positions"] == 2
    result = [r for r in snap.rule_results.to_pylist() if r["rule_id"] == "BANK-LN01-RATE"]
    assert result == [
        {"rule_id": "BANK-LN01-RATE", "table": "positions", "reason": "bank_rule", "severity": "warning",
         "rows_checked": 5, "rows_failed": 2, "description_zh": "LN01 利率低于 2%",
         "description_en": "LN01 rate below 2%"}
    ]  # fmt: skip

    as_error = read_snapshot(folder, AS_OF, dq=settings(rules=[{**LOW_LN01, "severity": "error"}]))
    assert as_error.counts["positions"] == {"read": 5, "rejected": 3, "used": 2}
    bank = [(r.row, r.reason, r.rule_id) for r in as_error.rejects if r.rule_id == "BANK-LN01-RATE"]
    assert bank == [(1, "bank_rule", "BANK-LN01-RATE"), (4, "bank_rule", "BANK-LN01-RATE")]


@pytest.mark.parametrize(
    ("condition", "duckdb_says"),
    [
        ("no_such_column > 1", "Binder Error"),
        ("current_rate <", "Parser Error"),
        ("principal_balance + 1", "is of type DOUBLE; expected a boolean expression"),
    ],
)
def test_invalid_condition_is_a_config_error_naming_the_rule(condition: str, duckdb_says: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings(rules=[{**LOW_LN01, "condition": condition}])
    text = str(info.value)
    assert "data_quality.rules BANK-LN01-RATE" in text
    assert duckdb_says in text


def test_bank_rule_checks(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="clashes with a shipped rule"):
        settings(rules=[{**LOW_LN01, "id": "POS-FK-001"}])
    with pytest.raises(ConfigError, match="not a contract table"):
        settings(rules=[{**LOW_LN01, "table": "loans"}])
    with pytest.raises(ConfigError, match="not a column of positions"):
        settings(rules=[{**LOW_LN01, "column": "rate"}])
    with pytest.raises(ConfigError, match=re.escape("set its severity in data_quality.rules")):
        settings(rules=[LOW_LN01], severity={"BANK-LN01-RATE": "error"})
    # no file access from inside a condition
    with pytest.raises(ConfigError, match="BANK-LN01-RATE"):
        settings(rules=[{**LOW_LN01, "condition": f"current_rate IN (SELECT 1 FROM read_csv('{tmp_path}/x.csv'))"}])


# --------------------------------------------------------------------------------------------
# section 10 rule 8: current_rate vs fixing x multiplier + spread
# --------------------------------------------------------------------------------------------

FLOATER = row(
    LOAN,
    rate_type="floating",
    rate_index="CNY_LPR_1Y",
    spread="0.005",
    reset_frequency="1Y",
    next_reset_date="2027-01-01",
    last_reset_date="2026-06-25",
    reset_lag_days="0",
)
INDICES = [{"index_code": "CNY_LPR_1Y", "currency": "CNY", "family": "lpr", "tenor": "1Y", "fixing_lag_days": "2"}]
FIXINGS = [
    {"index_code": "CNY_LPR_1Y", "fixing_date": d, "value": v}
    for d, v in [("2025-12-20", "0.0300"), ("2026-05-20", "0.0305"), ("2026-06-20", "0.0310"), ("2026-06-29", "0.0400")]
]


def test_rate_fixing_rule(load: Callable[..., Snapshot]) -> None:
    rows = [
        row(FLOATER, position_id="OK", current_rate="0.036"),  # 3.10 % + 0.50 %
        row(FLOATER, position_id="OFF", current_rate="0.046"),  # 1 % too high
        # no last_reset_date: 2027-01-01 - 1Y = 2026-01-01, lag from rate_indices (2 days) -> 2025-12-30
        row(FLOATER, position_id="ROLLED", current_rate="0.035", last_reset_date="", reset_lag_days=""),
        row(FLOATER, position_id="MULT", current_rate="0.036", rate_multiplier="1.1", spread="0.0019"),  # 3.41+0.19
        row(FLOATER, position_id="CAPPED", current_rate="0.035", rate_cap="0.035"),
        row(FLOATER, position_id="EARLY", current_rate="0.09", last_reset_date="2025-01-01"),  # no fixing known
    ]
    snap = load(rows, rate_indices=INDICES, index_fixings=FIXINGS)
    assert snap.rejects == []
    (flag,) = flag_list(snap.flags)
    assert (flag.row, flag.position_id, flag.rule_id, flag.column, flag.value) == (
        2, "OFF", "POS-RATE-001", "current_rate", "0.046",
    )  # fmt: skip
    assert flag.message == (
        "current_rate 0.046 differs from rate_multiplier x fixing + spread = 0.036000 by more than 0.0005 "
        "(CNY_LPR_1Y fixing 0.031000 of 2026-06-20, spread 0.005)"
    )
    (result,) = [r for r in snap.rule_results.to_pylist() if r["rule_id"] == "POS-RATE-001"]
    assert (result["rows_checked"], result["rows_failed"], result["severity"]) == (5, 1, "warning")
    assert snap.counts["positions"]["used"] == 6 and snap.flagged["positions"] == 1


def test_rate_fixing_rule_without_fixings_is_skipped_with_a_warning(load: Callable[..., Snapshot]) -> None:
    snap = load([row(FLOATER, current_rate="0.09")], rate_indices=INDICES)
    assert snap.flags.num_rows == 0
    assert any("no index_fixings table" in w for w in snap.warnings)


# --------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------


def faulty_snapshot(snapshot_dir: Folder) -> Path:
    rows = [
        LOAN,  # 1 clean
        row(LOAN, position_id="L2", current_rate="3.85"),  # 2 error GEN-RATE-001
        row(LOAN, position_id="L3", gl_account=""),  # 3 warning POS-RPT-001
        row(LOAN, position_id="L4", currency="rmb", gl_account=""),  # 4 error GEN-CELL-008 + warning
        row(LOAN, position_id="L5", gl_account=""),  # 5 warning POS-RPT-001
        row(DEPOSIT, product_subtype="green_loan"),  # 6 warning POS-CODE-001
        row(DEPOSIT, position_id="D7", product_subtype="<script>alert(1)</script>"),  # 7 error GEN-CELL-007
        row(DEPOSIT, position_id="D8", current_rate="1.5"),  # 8 error GEN-RATE-001
    ]
    return snapshot_dir(rows)


def test_report_counts_and_samples_are_exact(snapshot_dir: Folder) -> None:
    folder = faulty_snapshot(snapshot_dir)
    report = quality_report(validate(folder, AS_OF), sample_rows=2)
    assert report.summary["positions"] == {
        "read": 8, "used": 4, "rejected": 4, "flagged": 3, "errors": 4, "warnings": 4,
    }  # fmt: skip
    assert report.summary["counterparties"] == {
        "read": 1, "used": 1, "rejected": 0, "flagged": 0, "errors": 0, "warnings": 0,
    }  # fmt: skip
    assert report.rules.schema == REPORT_SCHEMA
    failing = report.failing.to_pylist()
    # errors first, most rows first (ties in catalogue order), then warnings by count
    assert [(r["rule_id"], r["severity"], r["rows_checked"], r["rows_failed"]) for r in failing] == [
        ("GEN-RATE-001", "error", 8, 2),
        ("GEN-CELL-007", "error", 8, 1),
        ("GEN-CELL-008", "error", 8, 1),
        ("POS-RPT-001", "warning", 8, 3),
        ("POS-CODE-001", "warning", 1, 1),  # checked: the one valid product_subtype
    ]
    assert failing[0]["share_failed"] == pytest.approx(2 / 8, rel=1e-12)
    assert failing[3]["share_failed"] == pytest.approx(3 / 8, rel=1e-12)
    assert json.loads(failing[0]["sample"]) == [
        {"row": 2, "position_id": "L2", "column": "current_rate", "value": "3.85"},
        {"row": 8, "position_id": "D8", "column": "current_rate", "value": "1.5"},
    ]
    assert json.loads(failing[1]["sample"]) == [
        {"row": 7, "position_id": "D7", "column": "product_subtype", "value": "<script>alert(1)</script>"}
    ]
    assert json.loads(failing[3]["sample"]) == [  # the first two of three, by row
        {"row": 3, "position_id": "L3", "column": "gl_account", "value": ""},
        {"row": 4, "position_id": "L4", "column": "gl_account", "value": ""},
    ]
    assert failing[3]["description_en"] == "On-balance row without gl_account (GL reconciliation)"
    assert failing[3]["description_zh"] == "表内业务缺少总账科目（影响总账核对）"
    passing = report.rules.to_pylist()[len(failing) :]
    assert passing and all(r["rows_failed"] == 0 and r["sample"] == "[]" for r in passing)
    # the same from a snapshot and from the validation result of the same files
    assert quality_report(read_snapshot(folder, AS_OF), sample_rows=2).rules.equals(report.rules)


def test_write_quality_report_files(snapshot_dir: Folder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENALM_LANG", raising=False)
    report = quality_report(read_snapshot(faulty_snapshot(snapshot_dir), AS_OF))
    out = tmp_path / "dq"
    written = write_quality_report(report, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["data_quality.csv", "data_quality.parquet", "data_quality.html", "flags.csv"]
    )  # nothing left behind by the atomic writes
    assert set(written) == {p.name for p in out.iterdir()}
    assert pq.read_table(out / "data_quality.parquet").equals(report.rules)
    csv_rules = pacsv.read_csv(out / "data_quality.csv")
    assert csv_rules.column_names == REPORT_SCHEMA.names
    assert csv_rules.column("rule_id").to_pylist() == report.rules.column("rule_id").to_pylist()
    flags = pacsv.read_csv(out / "flags.csv", convert_options=pacsv.ConvertOptions(strings_can_be_null=False))
    assert tuple(flags.column_names) == FLAG_COLUMNS
    assert flags.column("row").to_pylist() == [3, 4, 5, 6]
    assert flags.column("rule_id").to_pylist() == ["POS-RPT-001"] * 3 + ["POS-CODE-001"]
    assert flags.column("message").to_pylist()[3] == (
        "product_subtype 'green_loan' is outside the positions.md 4.2 starter list; accepted, check the product mapping"
    )

    html_zh = (out / "data_quality.html").read_text(encoding="utf-8")
    for text in ("数据质量报告", "未通过的规则", "隔离行数", "表内业务缺少总账科目", '<html lang="zh-CN">'):
        assert text in html_zh
    assert "Data quality report" not in html_zh
    write_quality_report(report, out, "en")
    html_en = (out / "data_quality.html").read_text(encoding="utf-8")
    for text in ("Data quality report", "Failing rules", "Quarantined", "On-balance row without gl_account"):
        assert text in html_en
    assert "数据质量报告" not in html_en
    for html in (html_zh, html_en):
        assert "http" not in html  # self-contained: no external assets
        assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the value is escaped
        assert "@media (max-width" in html and 'name="viewport"' in html
        # failing rules come first, in the report's order
        rules = ("GEN-RATE-001", "GEN-CELL-007", "POS-RPT-001", "POS-CODE-001")
        positions = [html.index(f"<code>{rule}</code> <span") for rule in rules]
        assert positions == sorted(positions)


def test_validate_command_writes_the_report(snapshot_dir: Folder, tmp_path: Path) -> None:
    from openalm.cli import app

    folder = faulty_snapshot(snapshot_dir)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["validate", str(folder), "--as-of", AS_OF.isoformat(), "--out", str(out)],
                                env={"OPENALM_LANG": "en", "COLUMNS": "200"})  # fmt: skip
    assert result.exit_code == 1, result.output  # rows were rejected
    assert {"rejects.csv", "data_quality.csv", "data_quality.parquet", "data_quality.html", "flags.csv"} <= {
        p.name for p in out.iterdir()
    }
    assert "Errors" in result.output and "Warnings" in result.output
    line = next(x for x in result.output.splitlines() if "positions" in x)
    assert [int(n) for n in re.findall(r"\b\d+\b", line)] == [8, 4, 4, 3, 4, 4]
