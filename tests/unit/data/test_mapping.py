"""Source-to-contract mapping: configuration, every mapping rule, export / hash, end to end."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError

from openalm.data import read_table, validate_tables
from openalm.data.mapping import (
    Correction,
    MappedTable,
    SourceMapping,
    TableMapping,
    apply_mapping,
    corrections_to_table,
    dump_mapping,
    load_mapping,
    mapping_hash,
)
from openalm.errors import ConfigError, DataError

FIVE_CLASS = {"01": "normal", "02": "special_mention", "03": "substandard", "04": "doubtful", "05": "loss"}
EXAMPLE = resources.files("openalm.rules") / "mappings" / "cn_core_banking_example.yaml"


def _apply(columns: dict[str, list[Any]], **mapping: Any) -> MappedTable:
    table = pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})
    return apply_mapping(table, TableMapping(**mapping), file="/data/loans.csv")


def _rules(result: MappedTable, rule: str) -> list[str]:
    return [str(c) for c in result.corrections if c.rule == rule]


# --------------------------------------------------------------------------------------------
# rate quote bases
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("basis", "daily_basis", "text", "expected"),
    [
        ("monthly_permille", 360, "3.75", 0.045),  # 月利率 3.75‰ x 12 / 1000
        ("daily_per_ten_thousand", 360, "1.25", 0.045),  # 日利率 1.25‱ x 360 / 10000
        ("daily_per_ten_thousand", 365, "1.25", 0.045625),  # x 365 / 10000
        ("annual_percent", 360, "3.45", 0.0345),
        ("annual_basis_points", 360, "-20", -0.002),
        ("monthly_permille", 360, " 2.875 ", 0.0345),  # surrounding spaces ignored, as for numbers
    ],
)
def test_quote_basis_to_annual_decimal(basis: str, daily_basis: int, text: str, expected: float) -> None:
    out = _apply(
        {"rate": [text]}, rename={"rate": "current_rate"}, quote_basis={"current_rate": basis}, daily_basis=daily_basis
    )
    assert float(out.table.column("current_rate")[0].as_py()) == expected
    assert out.rejects == []


def test_quote_basis_counts_and_rejects_bad_numbers() -> None:
    out = _apply(
        {"利率": ["3.75", "3,75", None, "4.2%", "1e1", "inf"]},
        rename={"利率": "current_rate"},
        quote_basis={"current_rate": "monthly_permille"},
    )
    assert out.table.column("current_rate").to_pylist() == ["0.045", None, None, None, "0.12", None]
    assert _rules(out, "quote_basis") == ["current_rate: quote_basis monthly_permille -> annual_decimal, 2 rows"]
    assert [(r.row, r.column, r.value, r.reason) for r in out.rejects] == [
        (2, "利率", "3,75", "bad_number"),
        (4, "利率", "4.2%", "bad_number"),
        (6, "利率", "inf", "bad_number"),
    ]
    assert "quoted as monthly_permille" in out.rejects[0].message


def test_annual_decimal_is_left_to_the_contract_parser() -> None:
    out = _apply({"current_rate": ["0.0345", "x"]}, quote_basis={"current_rate": "annual_decimal"})
    assert out.table.column("current_rate").to_pylist() == ["0.0345", "x"]
    assert out.corrections == [] and out.rejects == []


# --------------------------------------------------------------------------------------------
# code tables
# --------------------------------------------------------------------------------------------


def test_five_category_codes_and_unmapped_code_reject() -> None:
    table = pa.table({"借据号": ["L1", "L2", "L3", "L4", "L5"], "五级分类": ["03", "06", "01", " ", None]})
    tm = TableMapping(
        rename={"借据号": "position_id", "五级分类": "asset_quality_class"}, codes={"asset_quality_class": FIVE_CLASS}
    )
    out = apply_mapping(table, tm, file="/extracts/loans.csv", source_row=pa.array([2, 3, 5, 6, 9]).to_numpy())
    assert out.table.column("asset_quality_class").to_pylist() == ["substandard", None, "normal", None, None]
    assert _rules(out, "code") == [
        "asset_quality_class: code 01 -> normal, 1 rows",
        "asset_quality_class: code 03 -> substandard, 1 rows",
    ]
    assert len(out.rejects) == 1
    reject = out.rejects[0]
    assert (reject.file, reject.row, reject.column, reject.value, reject.reason, reject.position_id, reject.table) == (
        "loans.csv",
        3,
        "五级分类",
        "06",
        "unmapped_code",
        "L2",
        "positions",
    )
    assert reject.message == (
        "code '06' of source column '五级分类' has no mapping to asset_quality_class; "
        "mapped source codes: 01, 02, 03, 04, 05 (add it to codes.asset_quality_class of the mapping)"
    )
    # the same cell as a validation problem on the contract column, quoted with the source text
    column, problem = out.problems[0]
    assert (column, problem.reason, problem.mask.tolist()) == (
        "asset_quality_class",
        "unknown_code",
        [False, True, False, False, False],
    )
    assert out.rejected_text["asset_quality_class"].to_pylist() == ["substandard", "06", "normal", None, None]


def test_correction_text_and_labels() -> None:
    out = _apply(
        {"五级分类": ["02"] * 1234},
        rename={"五级分类": "asset_quality_class"},
        codes={"asset_quality_class": FIVE_CLASS},
    )
    correction = next(c for c in out.corrections if c.rule == "code")
    assert correction == Correction("asset_quality_class", "code", "02", "special_mention", 1234)
    assert str(correction) == "asset_quality_class: code 02 -> special_mention, 1,234 rows"
    assert correction.describe("zh") == "asset_quality_class：代码转换 02 -> special_mention，1,234 行"
    assert correction.describe("en") == "asset_quality_class: code 02 -> special_mention, 1,234 rows"
    table = corrections_to_table(out.corrections)
    assert table.column_names == ["column", "rule", "from_value", "to_value", "rows"]
    assert table.to_pylist()[-1] == {
        "column": "asset_quality_class",
        "rule": "code",
        "from_value": "02",
        "to_value": "special_mention",
        "rows": 1234,
    }


def test_rate_type_flags_and_null_targets() -> None:
    out = _apply(
        {"利率类型": ["RF01", "RF02", "RF01"], "自动转存": ["Y", "N", "Y"], "定价基准": ["99", "LPR5Y", "99"]},
        rename={"利率类型": "rate_type", "自动转存": "auto_rollover", "定价基准": "rate_index"},
        codes={
            "rate_type": {"RF01": "fixed", "RF02": "floating"},
            "auto_rollover": {"Y": "true", "N": "false"},
            "rate_index": {"LPR5Y": "CNY_LPR_5Y", "99": None},
        },
    )
    assert out.table.to_pydict() == {
        "rate_type": ["fixed", "floating", "fixed"],
        "rate_index": [None, "CNY_LPR_5Y", None],
        "auto_rollover": ["true", "false", "true"],
    }
    assert "rate_index: code 99 -> null, 2 rows" in _rules(out, "code")
    assert "rate_type: code RF01 -> fixed, 2 rows" in _rules(out, "code")


def test_identity_codes_are_not_corrections() -> None:
    out = _apply({"side": ["asset", "借"]}, codes={"side": {"asset": "asset", "借": "asset"}})
    assert _rules(out, "code") == ["side: code 借 -> asset, 1 rows"]


# --------------------------------------------------------------------------------------------
# dates
# --------------------------------------------------------------------------------------------


def test_sentinels_become_null_and_compact_dates_become_iso() -> None:
    out = _apply(
        {"到期日": ["20340315", "99991231", "00000000", "20260230", "2026063", "99991231", None]},
        rename={"到期日": "maturity_date"},
        date_format="%Y%m%d",
    )
    assert out.table.column("maturity_date").to_pylist() == ["2034-03-15", None, None, None, None, None, None]
    assert _rules(out, "sentinel") == [
        "maturity_date: sentinel 99991231 -> null, 2 rows",
        "maturity_date: sentinel 00000000 -> null, 1 rows",
    ]
    assert _rules(out, "date_format") == ["maturity_date: date_format %Y%m%d -> %Y-%m-%d, 1 rows"]
    assert [(r.row, r.column, r.value, r.reason) for r in out.rejects] == [
        (4, "到期日", "20260230", "bad_date"),  # not a calendar date (Arrow alone would say 2026-03-02)
        (5, "到期日", "2026063", "bad_date"),  # seven digits
    ]


def test_per_column_date_format_and_custom_sentinels() -> None:
    out = _apply(
        {"origination_date": ["15/03/2024", "01/01/1900"], "maturity_date": ["2034-03-15", "2099-12-31"]},
        date_format="iso",
        date_formats={"origination_date": "%d/%m/%Y"},
        sentinel_dates=("01/01/1900",),
    )
    assert out.table.column("origination_date").to_pylist() == ["2024-03-15", None]
    # 2099-12-31 is not in this mapping's sentinels: kept (the contract parser's own rule applies later)
    assert out.table.column("maturity_date").to_pylist() == ["2034-03-15", "2099-12-31"]
    assert _rules(out, "date_format") == ["origination_date: date_format %d/%m/%Y -> %Y-%m-%d, 1 rows"]


def test_auto_date_format_only_removes_sentinels() -> None:
    out = _apply({"maturity_date": ["20340315", "9999-12-31", "2034-03-15"]})
    assert out.table.column("maturity_date").to_pylist() == ["20340315", None, "2034-03-15"]


# --------------------------------------------------------------------------------------------
# amounts, constants, columns
# --------------------------------------------------------------------------------------------


def test_amount_scale_is_exact() -> None:
    out = _apply(
        {
            "余额(万元)": ["1.2345", "0.01", "-3", "1,234", "123456789.123456789"],
            "利息(分)": ["12345", "7", "0", "", "1.5"],
        },
        rename={"余额(万元)": "principal_balance", "利息(分)": "accrued_interest"},
        amount_scale={"principal_balance": 10000, "accrued_interest": 0.01},
    )
    assert out.table.column("principal_balance").to_pylist() == ["12345", "100", "-30000", None, "1234567891234.56789"]
    assert out.table.column("accrued_interest").to_pylist() == ["123.45", "0.07", "0", None, "0.015"]
    assert _rules(out, "amount_scale") == [
        "principal_balance: amount_scale x10000 -> x1, 4 rows",
        "accrued_interest: amount_scale x0.01 -> x1, 4 rows",
    ]
    assert [(r.row, r.column, r.value, r.reason) for r in out.rejects] == [(4, "余额(万元)", "1,234", "bad_number")]


def test_amount_scale_must_be_a_power_of_ten() -> None:
    with pytest.raises(ValidationError, match="not a power of ten"):
        TableMapping(amount_scale={"principal_balance": 3})


def test_constants_and_their_conflicts() -> None:
    out = _apply({"position_id": ["a", "b"]}, constants={"source_system": "cn_core", "on_balance_sheet": True})
    assert out.table.to_pydict() == {
        "position_id": ["a", "b"],
        "source_system": ["cn_core", "cn_core"],
        "on_balance_sheet": ["true", "true"],
    }
    assert _rules(out, "constant") == [
        "source_system: constant null -> cn_core, 2 rows",
        "on_balance_sheet: constant null -> true, 2 rows",
    ]
    with pytest.raises(DataError, match="constant 'x' for 'source_system' but the file has that column") as info:
        _apply({"source_system": ["core"]}, constants={"source_system": "x"})
    assert (info.value.file, info.value.column) == ("/data/loans.csv", "source_system")
    with pytest.raises(ValidationError, match="get both a constant and a renamed source column"):
        TableMapping(constants={"source_system": "x"}, rename={"系统": "source_system"})


def test_unmapped_dropped_and_colliding_columns() -> None:
    out = _apply(
        {"position_id": ["a"], "客户名称": ["张三"], "经办柜员": ["G1"], "备注": ["x"]}, drop_columns=("客户名称",)
    )
    assert out.table.column_names == ["position_id"]
    assert _rules(out, "drop_column") == ["客户名称: drop_column 客户名称 -> null, 1 rows"]
    assert out.warnings == [
        "source column(s) neither mapped nor contract columns, ignored: 经办柜员, 备注 "
        "(map them in rename, list them in drop_columns, or set keep_unmapped_in_attributes)"
    ]
    with pytest.raises(
        DataError, match="source columns '借据号' and 'position_id' both give contract column 'position_id'"
    ):
        _apply({"借据号": ["a"], "position_id": ["b"]}, rename={"借据号": "position_id"})
    absent = _apply({"position_id": ["a"]}, rename={"借据号": "position_id"}, drop_columns=("客户名称",))
    assert absent.warnings == ["mapped source column(s) not in the file: 借据号, 客户名称"]


def test_unmapped_columns_kept_in_attributes() -> None:
    out = _apply(
        {"position_id": ["a", "b", "c"], "经办柜员": ["G1", None, 'say "hi"'], "备注": ["line1\nline2", None, " "]},
        keep_unmapped_in_attributes=True,
    )
    values = out.table.column("attributes").to_pylist()
    assert values[1] is None
    assert [json.loads(v) for v in (values[0], values[2])] == [
        {"经办柜员": "G1", "备注": "line1\nline2"},
        {"经办柜员": 'say "hi"'},
    ]
    assert _rules(out, "attributes") == [
        "经办柜员: attributes 经办柜员 -> attributes, 2 rows",
        "备注: attributes 备注 -> attributes, 1 rows",
    ]
    assert out.warnings == []


def test_strip_whitespace_is_counted() -> None:
    out = _apply(
        {"五级分类": ["01  ", "02"]},
        rename={"五级分类": "asset_quality_class"},
        codes={"asset_quality_class": FIVE_CLASS},
        strip_whitespace=True,
    )
    assert out.table.column("asset_quality_class").to_pylist() == ["normal", "special_mention"]
    assert _rules(out, "strip_whitespace") == ["asset_quality_class: strip_whitespace null -> null, 1 rows"]


# --------------------------------------------------------------------------------------------
# configuration: validation, export, hash
# --------------------------------------------------------------------------------------------


def _mapping_yaml(tables: str) -> str:
    return f'name: src\nversion: "1"\ntables:\n{tables}'


@pytest.mark.parametrize(
    ("tables", "match"),
    [
        ("  positions:\n    rename: {借据号: positon_id}\n", "'positon_id' is not a column of positions"),
        ("  positions:\n    codes: {asset_quality_class: {'01': normall}}\n", "unknown code 'normall'"),
        ("  positions:\n    codes: {asset_quality_class: {01: normal}}\n", r"quote source codes in YAML \(\"01\""),
        (
            "  positions:\n    quote_basis: {principal_balance: annual_percent}\n",
            "is a amount column, expected a rate column",
        ),
        ("  positions:\n    quote_basis: {current_rate: percent}\n", "annual_percent"),
        ("  positions:\n    date_format: YYYYMMDD\n", "strftime pattern"),
        ("  positions:\n    encodign: gbk\n", "Extra inputs are not permitted"),
        ("  position:\n    file: x.csv\n", "'position' is not a contract table"),
        ("  counterparties:\n    keep_unmapped_in_attributes: true\n", "counterparties has no attributes column"),
        ("  positions:\n    constants: {currency: RMB}\n", "not an ISO 4217 currency code"),
    ],
)
def test_invalid_mapping_files(tmp_path: Path, tables: str, match: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(_mapping_yaml(tables), encoding="utf-8")
    with pytest.raises(ConfigError, match=match) as info:
        load_mapping(path)
    assert str(info.value).startswith(f"mapping file {path}")


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_mapping(path)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_mapping(tmp_path / "absent.yaml")


def test_apply_checks_the_mapping_against_the_table() -> None:
    with pytest.raises(ConfigError, match="'rate_type' is not a column of counterparties"):
        apply_mapping(
            pa.table({"x": ["1"]}), TableMapping(rename={"x": "rate_type"}), file="c.csv", schema="counterparties"
        )


def test_dump_load_round_trip_and_stable_hash(tmp_path: Path) -> None:
    mapping = load_mapping(EXAMPLE)
    text = dump_mapping(mapping)
    path = tmp_path / "exported.yaml"
    path.write_text(text, encoding="utf-8")
    again = load_mapping(path)
    assert again == mapping
    assert dump_mapping(again) == text
    assert mapping_hash(again) == mapping_hash(mapping)
    assert len(mapping_hash(mapping)) == 64 and int(mapping_hash(mapping), 16) >= 0

    # layout, comments and key order do not change the hash; content does
    reordered = tmp_path / "reordered.yaml"
    reordered.write_text(
        'tables:\n  positions:\n    codes: {side: {贷: liability, 借: asset}}  # comment\nversion: "1"\nname: s\n',
        encoding="utf-8",
    )
    plain = tmp_path / "plain.yaml"
    plain.write_text(
        'name: s\nversion: "1"\ntables:\n  positions:\n    codes:\n      side:\n        借: asset\n        贷: liability\n'
    )
    assert mapping_hash(load_mapping(reordered)) == mapping_hash(load_mapping(plain))
    changed = SourceMapping.model_validate(
        {"name": "s", "version": "2", "tables": {"positions": {"codes": {"side": {"借": "asset", "贷": "liability"}}}}}
    )
    assert mapping_hash(changed) != mapping_hash(load_mapping(plain))


def test_example_mapping_content() -> None:
    mapping = load_mapping(EXAMPLE)
    positions = mapping.tables["positions"]
    assert mapping.name == "cn_core_banking_example" and mapping.version == "2026.1"
    assert positions.encoding == "gbk"
    assert positions.codes["asset_quality_class"] == FIVE_CLASS
    assert positions.codes["interest_payment_frequency"] == {"M": "1M", "Q": "3M", "S": "6M", "Y": "1Y", "E": "T"}
    assert positions.quote_basis["current_rate"] == "monthly_permille"
    assert positions.source_column("asset_quality_class") == "五级分类"


# --------------------------------------------------------------------------------------------
# end to end: a GBK core-banking extract through the example mapping into validated positions
# --------------------------------------------------------------------------------------------

_HEADER = (
    "数据日期,法人行号,机构号,业务编号,产品代码,科目号,客户号,客户名称,业务类别,借贷方向,币种,余额,应计利息,逾期本金,"
    "起息日,到期日,利率类型,执行利率,浮动点差,定价基准,利率调整周期,下次重定价日,计息基础,还款方式,结息周期,还本周期,"
    "下次结息日,五级分类,担保方式,自动转存标志,提前支取标志,经办柜员"
)
_ROWS = [
    # fixed annuity mortgage, 月利率 3.75‰
    "20260630,E001,B0101,JJ2024001,DK0101,1301,C001,张三,01,借,156,1000000.00,1250.00,0.00,20240315,20340315,"
    "RF01,3.75,,99,,,A360,01,M,M,20260715,01,抵押,,,G007",
    # LPR 1Y - 20bp floater, 月利率 2.875‰
    "20260630,E001,B0101,JJ2025002,DK0201,1303,C002,某某科技有限公司,01,借,156,5000000.00,,,20250110,20280110,"
    "RF02,2.875,-20,LPR1Y,Y,20270110,A360,03,Q,E,20260921,02,保证,,,G008",
    # demand deposit: maturity 99991231
    "20260630,E001,B0102,6217000001,CK0101,2011,C001,张三,11,贷,156,80000.00,,,20200101,99991231,"
    "RF01,0.125,,,,,A360,09,,,,,,N,Y,",
    # USD term deposit
    "20260630,E001,B0102,6217000002,CK0201,2012,C002,某某科技有限公司,12,贷,840,200000.00,,,20260105,20270105,"
    "RF01,1.25,,,,,A360,03,E,E,,,,Y,Y,G009",
    # 五级分类 06 is not a code of the mapping
    "20260630,E001,B0101,JJ2024009,DK0101,1301,C001,张三,01,借,156,300000.00,,,20240601,20290601,"
    "RF01,3.5,,,,,A360,02,M,M,20260701,06,信用,,,",
]
_COUNTERPARTIES = [
    "数据日期,客户号,客户名称,客户类型,企业规模,国别,统一社会信用代码",
    "20260630,C001,张三,01,,CHN,",
    "20260630,C002,某某科技有限公司,03,CS03,CHN,91110000MA0000000X",
]


def test_example_mapping_end_to_end_on_a_gbk_extract(tmp_path: Path) -> None:
    mapping = load_mapping(EXAMPLE)
    positions_file = tmp_path / "positions.csv"
    positions_file.write_bytes(("\n".join([_HEADER, *_ROWS]) + "\n").encode("gbk"))
    cp_file = tmp_path / "counterparties.csv"
    cp_file.write_bytes(("\n".join(_COUNTERPARTIES) + "\n").encode("gbk"))

    positions = read_table(positions_file, "positions", mapping=mapping.tables["positions"])
    counterparties = read_table(cp_file, "counterparties", mapping=mapping.tables["counterparties"])
    assert positions.encoding == "gbk"
    assert positions.data.column("current_rate").to_pylist() == [0.045, 0.0345, 0.0015, 0.015, 0.042]
    assert positions.data.column("spread").to_pylist() == [None, -0.002, None, None, None]
    assert positions.data.column("maturity_date").to_pylist()[2] is None  # 99991231: non-maturity
    assert positions.data.column("instrument_type").to_pylist() == [
        "loan",
        "loan",
        "deposit_demand",
        "deposit_term",
        "loan",
    ]
    assert positions.data.column("side").to_pylist() == ["asset", "asset", "liability", "liability", "asset"]
    assert positions.data.column("currency").to_pylist() == ["CNY", "CNY", "CNY", "USD", "CNY"]
    assert positions.data.column("auto_rollover").to_pylist() == [None, None, False, True, None]
    assert positions.data.column("attributes").to_pylist()[0] == '{"经办柜员":"G007"}'
    shown = [str(c) for c in positions.corrections]
    assert "maturity_date: sentinel 99991231 -> null, 1 rows" in shown
    assert "current_rate: quote_basis monthly_permille -> annual_decimal, 5 rows" in shown
    assert "side: code 借 -> asset, 3 rows" in shown
    assert "客户名称: drop_column 客户名称 -> null, 5 rows" in shown
    assert [(r.row, r.column, r.value, r.reason, r.position_id) for r in positions.mapping_rejects] == [
        (5, "五级分类", "06", "unmapped_code", "JJ2024009")
    ]

    result = validate_tables({"positions": positions, "counterparties": counterparties}, dt.date(2026, 6, 30))
    assert result.counts == {
        "positions": {"read": 5, "rejected": 1, "used": 4},
        "counterparties": {"read": 2, "rejected": 0, "used": 2},
    }
    assert [(r.row, r.column, r.value, r.reason) for r in result.rejects] == [
        (5, "asset_quality_class", "06", "unknown_code")
    ]
    assert "source column '五级分类'" in result.rejects[0].message
    assert "positions.csv: decoded as GBK (declared)" in result.warnings
