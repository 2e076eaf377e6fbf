"""Run configuration defaults, validation and environment overrides; the bilingual catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from openalm.config import load_config
from openalm.errors import ConfigError
from openalm.i18n import label, labels


def test_defaults_follow_interfaces_md() -> None:
    cfg = load_config()
    assert cfg.reporting_currency == "CNY"
    assert cfg.rule_set == "china"
    assert cfg.scenarios == ["parallel_up", "parallel_down", "steepener", "flattener", "short_up", "short_down"]
    assert cfg.nii.horizon_months == 12 and cfg.nii.balance_sheet == "constant"
    assert cfg.shock_set_name == "cn_g33_2024"
    assert load_config(overrides={"rule_set": "basel"}).shock_set_name == "bcbs_d368_2016"


def test_yaml_file_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "c.yaml"
    good.write_text("reporting_currency: USD\nbucket_sets: {my_ladder: [1D, 30D, 1Y]}\n", encoding="utf-8")
    cfg = load_config(good)
    assert cfg.reporting_currency == "USD" and cfg.bucket_sets == {"my_ladder": ["1D", "30D", "1Y"]}
    bad = tmp_path / "bad.yaml"
    bad.write_text("reporting_curency: USD\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="reporting_curency"):
        load_config(bad)
    with pytest.raises(ConfigError, match="shares"):
        load_config(overrides={"non_maturity": {"profiles": {"default": {"1D": 0.5}}}})
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_environment_overrides_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENALM_ENGINE__PARTITION_SIZE", "1234")
    assert load_config().engine.partition_size == 1234


def test_every_label_is_bilingual() -> None:
    for key, entry in labels().items():
        assert entry["zh"].strip() and entry["en"].strip(), key
    assert label("scenario.steepener", "zh") == "变陡峭"
    assert label("bucket.monthly", "zh", n=12) == "第12个月"
