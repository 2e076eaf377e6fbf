"""Liquidity limits: status edge cases, applicability by size, settings validation."""

from __future__ import annotations

import pytest

from openalm.errors import ConfigError
from openalm.measures.liquidity.limits import LIMITS_SCHEMA, LimitSettings, applicable_indicators, evaluate
from openalm.measures.liquidity.rules import load_rule_table


def _status(values: dict[str, float | None], settings: LimitSettings | None = None, **kw: object) -> dict[str, str]:
    df = evaluate(values, settings, **kw)  # type: ignore[arg-type]
    return dict(zip(df["indicator"].to_list(), df["status"].to_list(), strict=True))


def test_exactly_at_limit_passes_and_band_edges() -> None:
    settings = LimitSettings(warning_thresholds={"lcr": 1.10, "liquidity_ratio": 0.30, "interbank_funding_share": 0.30})
    got = _status(
        {
            "lcr": 1.00,  # exactly at the regulatory minimum: not a breach, inside the warning band
            "liquidity_ratio": 0.30,  # exactly at the warning threshold: ok
            "interbank_funding_share": 1 / 3,  # exactly at the 1/3 maximum: passes, above warning 0.30
        },
        settings,
    )
    assert got == {"lcr": "warning", "liquidity_ratio": "ok", "interbank_funding_share": "warning"}


def test_breach_warning_ok_and_na() -> None:
    got = _status(
        {
            "lcr": 0.9999,
            "nsfr": 1.07,  # default warning 1.05 -> ok
            "lmr": 1.02,  # limit 1.00, default warning 1.05 -> warning
            "liquidity_gap_ratio": -0.1001,  # limit -10% -> breach
            "core_liability_ratio": None,
            "liquidity_ratio": float("nan"),
            "interbank_funding_share": 0.34,  # > 1/3 -> breach (direction max)
        }
    )
    assert got == {
        "lcr": "breach",
        "nsfr": "ok",
        "lmr": "warning",
        "core_liability_ratio": "n/a",
        "liquidity_ratio": "n/a",
        "liquidity_gap_ratio": "breach",
        "interbank_funding_share": "breach",
    }


def test_columns_labels_and_monitoring_indicator() -> None:
    df = evaluate({"ldr": 0.80, "liquidity_ratio": 0.3071})
    assert df.schema == LIMITS_SCHEMA
    rows = {r["indicator"]: r for r in df.iter_rows(named=True)}
    assert list(rows) == ["liquidity_ratio", "ldr"]  # table order
    ldr = rows["ldr"]
    assert ldr["indicator"] == "ldr" and ldr["limit"] is None and ldr["status"] == "ok"
    assert ldr["regulatory"] is False and ldr["label_zh"] == "存贷比" and ldr["direction"] == "max"
    lr = rows["liquidity_ratio"]
    assert lr["limit"] == 0.25 and lr["regulatory"] is True and lr["label_en"] == "Liquidity ratio"
    assert "G22" in lr["source"]
    # the bank's own LDR limit: 80% > 75% breaches, not regulatory
    df2 = evaluate({"ldr": 0.80}, LimitSettings(internal_limits={"ldr": 0.75}))
    assert df2["status"].item() == "breach" and df2["limit"].item() == 0.75 and df2["regulatory"].item() is False


def test_applicability_by_size_and_forced() -> None:
    assert applicable_indicators(200e9) == ["lcr", "nsfr", "liquidity_ratio", "lmr"]
    assert applicable_indicators(199.99e9) == ["hqla_adequacy", "liquidity_ratio", "lmr"]
    assert applicable_indicators(1.0, "basel") == ["lcr", "nsfr"]
    assert applicable_indicators(1.0, settings=LimitSettings(applicable=["lcr"])) == ["lcr"]
    # a small bank: the LCR (below 100%) does not apply -> n/a; HQLA adequacy applies
    df = evaluate({"lcr": 0.8, "hqla_adequacy": 0.95}, total_assets_rc=50e9)
    got = dict(
        zip(
            df["indicator"].to_list(), zip(df["status"].to_list(), df["applicable"].to_list(), strict=True), strict=True
        )
    )
    assert got == {"lcr": ("n/a", False), "hqla_adequacy": ("breach", True)}


def test_settings_validation_and_overrides() -> None:
    with pytest.raises(ConfigError, match="wrong side"):
        evaluate({"lcr": 1.2}, LimitSettings(warning_thresholds={"lcr": 0.95}))
    with pytest.raises(ConfigError, match="unknown indicators"):
        evaluate({"lcr": 1.2}, LimitSettings(warning_thresholds={"lcx": 1.1}))
    with pytest.raises(ConfigError, match="not in the china/limits"):
        evaluate({"lcx": 1.2})
    with pytest.raises(ValueError):
        LimitSettings(bogus=1)  # type: ignore[call-arg]
    # a limit override from the config (rules.py overrides) is used as the limit
    table = load_rule_table("china", "limits", {"lcr": 1.05})
    df = evaluate({"lcr": 1.04}, LimitSettings(warning_thresholds={}), table=table)
    assert df["limit"].item() == 1.05 and df["status"].item() == "breach"


def test_basel_defaults_do_not_trip_on_china_only_thresholds() -> None:
    df = evaluate({"lcr": 1.05, "nsfr": 0.99}, rule_set="basel")
    assert df["status"].to_list() == ["warning", "breach"]
    with pytest.raises(ConfigError):
        evaluate({"liquidity_ratio": 0.3}, rule_set="basel")
