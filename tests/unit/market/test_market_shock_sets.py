"""IRRBB shock parameter sets: shipped files, validation, scenario shocks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from openalm.errors import ConfigError
from openalm.market import SCENARIOS, Shock, ShockSet, basel_shock, basel_shocks
from openalm.rules import irrbb

# regulatory.md 3.2 (d368 Annex 2 Table 1; identical in the 1104-2024 G33 templates)
D368_TABLE_1 = {
    "CNY": (250, 300, 150),
    "USD": (200, 300, 150),
    "EUR": (200, 250, 100),
    "HKD": (200, 250, 100),
    "JPY": (100, 100, 100),
    "GBP": (250, 300, 150),
    "ARS": (400, 500, 300),
    "AUD": (300, 450, 200),
    "BRL": (400, 500, 300),
    "CAD": (200, 300, 150),
    "CHF": (100, 150, 100),
    "IDR": (400, 500, 350),
    "INR": (400, 500, 300),
    "KRW": (300, 400, 200),
    "MXN": (400, 500, 300),
    "RUB": (400, 500, 300),
    "SAR": (200, 300, 150),
    "SEK": (200, 300, 150),
    "SGD": (150, 200, 100),
    "TRY": (400, 500, 300),
    "ZAR": (400, 500, 300),
}


def test_shipped_sets() -> None:
    assert ShockSet.shipped() == ("bcbs_d368_2016", "cn_g33_2024")
    assert irrbb.shipped_names() == ShockSet.shipped()
    assert "d578" not in " ".join(ShockSet.shipped())  # not retrieved: must not be invented


@pytest.mark.parametrize("name", ["bcbs_d368_2016", "cn_g33_2024"])
def test_shipped_sizes_match_regulatory_table(name: str) -> None:
    s = ShockSet.load(name)
    assert s.id == name and s.x == 4.0 and isinstance(s.effective_from, dt.date)
    assert set(s.currencies) == set(D368_TABLE_1)
    for ccy, (p, sh, lo) in D368_TABLE_1.items():
        sz = s.sizes_of(ccy)
        assert (sz.parallel, sz.short, sz.long) == (p, sh, lo)
        assert sz.source
    assert s.source


def test_floors_and_rule_set_aliases() -> None:
    assert dict(ShockSet.load("basel").floors) == {}
    cn = ShockSet.load("china")
    assert dict(cn.floors) == {"CNY": 0.0}
    assert cn.floor("CNY") == 0.0 and cn.floor("USD") is None


def test_basel_shock_parameters() -> None:
    s = ShockSet.load("bcbs_d368_2016")
    rp, rs, rl = 0.025, 0.03, 0.015
    expected = {
        "base": Shock.none(),
        "parallel_up": Shock(rp, 0.0, 0.0),
        "parallel_down": Shock(-rp, 0.0, 0.0),
        "steepener": Shock(0.0, -0.65 * rs, 0.9 * rl),
        "flattener": Shock(0.0, 0.8 * rs, -0.6 * rl),
        "short_up": Shock(0.0, rs, 0.0),
        "short_down": Shock(0.0, -rs, 0.0),
    }
    assert tuple(basel_shocks(s, "CNY")) == SCENARIOS
    for name, shock in expected.items():
        assert basel_shock(s, "CNY", name) == shock


def test_china_set_floors_cny_scenarios_but_not_base_or_usd() -> None:
    cn = ShockSet.load("cn_g33_2024")
    assert basel_shock(cn, "CNY", "parallel_down").floor == 0.0
    assert basel_shock(cn, "CNY", "base").floor is None
    assert basel_shock(cn, "USD", "parallel_down").floor is None


def test_unknown_currency_and_scenario() -> None:
    s = ShockSet.load("bcbs_d368_2016")
    with pytest.raises(ConfigError, match=r"'bcbs_d368_2016'.*'NZD'"):
        basel_shock(s, "NZD", "parallel_up")
    with pytest.raises(ConfigError, match="twist"):
        basel_shock(s, "CNY", "twist")
    with pytest.raises(ConfigError, match="unknown IRRBB shock set"):
        ShockSet.load("bcbs_d578_2024")


def test_with_sizes_override() -> None:
    s = ShockSet.load("bcbs_d368_2016").with_sizes({"NZD": {"parallel": 300, "short": 400, "long": 200}})
    assert basel_shock(s, "NZD", "short_up") == Shock(0.0, 0.04, 0.0)
    assert s.version.endswith("+override")
    s2 = ShockSet.load("china").with_sizes({}, floors={"CNY": None, "JPY": -0.001})
    assert s2.floor("CNY") is None and s2.floor("JPY") == -0.001
    with pytest.raises(ConfigError):
        s.with_sizes({"NZD": {"parallel": 300, "short": 400}})


def test_from_yaml_user_file(tmp_path: Path) -> None:
    path = tmp_path / "my.yaml"
    path.write_text(
        "id: bank_2025\nversion: v1\neffective_from: 2025-01-01\nsource: internal ALCO\nx: 4\n"
        "floors: {CNY: 0.0}\ncurrencies:\n  CNY: {parallel: 300, short: 350, long: 200}\n",
        encoding="utf-8",
    )
    s = ShockSet.from_yaml(path)
    assert s.id == "bank_2025" and s.origin == str(path)
    assert basel_shock(s, "CNY", "parallel_up").parallel == 0.03


VALID = {
    "id": "t",
    "version": "1",
    "effective_from": "2025-01-01",
    "source": "s",
    "x": 4,
    "floors": {},
    "currencies": {"CNY": {"parallel": 250, "short": 300, "long": 150}},
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"x": 0}, "x must be > 0"),
        ({"x": "four"}, "x must be a finite number"),
        ({"unit": "decimal"}, "unit must be 'bp'"),
        ({"effective_from": "2025-13-01"}, "effective_from must be a date"),
        ({"id": None}, "id must be a non-empty text"),
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"floors": {"CNY": 50}}, "looks like basis points"),
        ({"floors": [0.0]}, "floors must be a mapping"),
        ({"currencies": {}}, "non-empty mapping"),
        ({"currencies": {"cny": {"parallel": 1, "short": 1, "long": 1}}}, "not an ISO currency code"),
        ({"currencies": {"CNY": {"parallel": 250, "short": 300}}}, "missing 'long'"),
        ({"currencies": {"CNY": {"parallel": -250, "short": 300, "long": 150}}}, "magnitudes"),
        ({"currencies": {"CNY": {"parallel": 0.025, "short": 300, "long": 150}}}, "looks like a decimal"),
        ({"currencies": {"CNY": {"parallel": "x", "short": 300, "long": 150}}}, "CNY.parallel must be"),
        ({"currencies": {"CNY": {"parallel": 1, "short": 1, "long": 1, "twist": 2}}}, "unknown key 'twist'"),
        ({"currencies": {"CNY": [250, 300, 150]}}, "must be a mapping"),
    ],
)
def test_validation_errors(change: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ShockSet.from_dict({**VALID, **change}, origin="test.yaml")


def test_validation_reports_all_problems_and_missing_keys() -> None:
    data = {k: v for k, v in VALID.items() if k not in ("source", "version")}
    data["x"] = -1
    with pytest.raises(ConfigError) as info:
        ShockSet.from_dict(data, origin="test.yaml")
    text = str(info.value)
    assert "test.yaml" in text and "3 problem(s)" in text
    assert "missing key 'version'" in text and "missing key 'source'" in text and "x must be > 0" in text


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        ShockSet.from_yaml(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        ShockSet.from_yaml(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="must be a mapping"):
        ShockSet.from_text("- a\n- b\n")
