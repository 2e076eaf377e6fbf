"""`openalm demo` generates the synthetic bank, runs it and prints the bilingual summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openalm.cli import app


@pytest.mark.parametrize("lang, needle", [("zh", "经济价值"), ("en", "Economic value")])
def test_demo_runs_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str, needle: str) -> None:
    monkeypatch.setenv("OPENALM_LANG", lang)
    result = CliRunner().invoke(app, ["demo", "--contracts", "3000", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert needle in result.output
    manifest = json.loads((tmp_path / "demo" / "results" / "manifest.json").read_text())
    assert manifest["rows"]["positions"] == {"read": 3000, "rejected": 0, "used": 3000}
    assert manifest["engine"]["flows_projected"] > 3000
    assert (tmp_path / "demo" / "snapshot" / "positions.parquet").exists()
