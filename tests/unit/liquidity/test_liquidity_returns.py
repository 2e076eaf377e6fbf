"""Liquidity returns as workbooks: every figure read back with openpyxl ties to the input frame / unit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from openalm.errors import ConfigError
from openalm.measures.liquidity.frame import frame_from_records
from openalm.measures.liquidity.g21 import G21_COLUMNS, g21_lines
from openalm.reports.liquidity_returns import (
    write_g21,
    write_g22,
    write_g23,
    write_g24,
    write_g25,
    write_liquidity_returns,
)

AS_OF = dt.date(2026, 6, 30)
LETTERS = list(G21_COLUMNS)  # A..K


@pytest.fixture(scope="module")
def ladder() -> pl.DataFrame:
    frame = frame_from_records(
        [
            {"instrument_type": "cash", "side": "asset", "balance": 10_000.0},
            {
                "instrument_type": "loan",
                "side": "asset",
                "balance": 1_234_567.89,
                "principal_due": {100: 1_000_000.0, 1000: 234_567.89},
            },
            {"instrument_type": "deposit_demand", "side": "liability", "balance": 2_000_000.0},
            {
                "instrument_type": "deposit_term",
                "side": "liability",
                "currency": "USD",
                "fx_rc": 7.1,
                "balance": 100_000.0,
                "principal_due": {20: 100_000.0},
            },
        ]
    )
    return g21_lines(frame, as_of=AS_OF)[0]


RATIOS = pl.DataFrame(
    {
        "indicator": ["lmr", "liquidity_ratio"],
        "value": [1.0401, 0.3071],
        "limit": [1.0, 0.25],
        "status": ["pass", "fail"],
        "label_zh": ["流动性匹配率", "流动性比例"],
        "label_en": ["Liquidity matching ratio", "Liquidity ratio"],
    }
)


def _rows(ws) -> dict[str, tuple]:
    """Data rows of a sheet keyed by the text in column A (line code)."""
    out = {}
    for row in ws.iter_rows(min_row=4, values_only=True):
        if row[0] not in (None, ""):
            out[str(row[0])] = row
    return out


def _line(ladder: pl.DataFrame, view: str, line: str) -> dict:
    return ladder.filter((pl.col("currency") == view) & (pl.col("line") == line)).row(0, named=True)


def test_write_g21_ties_back_to_the_ladder(tmp_path, ladder):
    path = write_g21(tmp_path / "G21.xlsx", ladder, RATIOS, as_of=AS_OF)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["G21_CNY", "G21_FX", "G21_ALL", "G21_II"]
    ws = wb["G21_ALL"]
    assert ws["A1"].value == "G21 流动性期限缺口统计表"
    assert "2026-06-30" in ws["A2"].value and "万元" in ws["A2"].value and "本外币合计" in ws["A2"].value
    header = [c.value for c in ws[4]]
    assert header[:4] == ["项目代码", "项目", "次日", "2日至7日"] and header[-3:] == ["未定期限", "逾期", "总计"]
    assert [c.value for c in ws[5]][2:] == LETTERS
    rows = _rows(ws)
    for view, sheet in (("ALL", "G21_ALL"), ("FX", "G21_FX"), ("CNY", "G21_CNY")):
        rows = _rows(wb[sheet])
        for line in ("1", "1.1", "1.6", "3", "3.5.1", "3.5.2", "4", "5", "6"):
            exp = _line(ladder, view, line)
            got = rows[line]
            for j, c in enumerate(LETTERS, start=2):
                if exp[c] is None:
                    assert got[j] is None, (view, line, c)
                else:
                    assert got[j] == pytest.approx(exp[c] / 10_000), (view, line, c)
    rows = _rows(ws)
    # hand figures (万元): loan 100 in E + 23.456789 in F; USD deposit 100,000 x 7.1 = 71 in C
    assert rows["1.6"][2 + LETTERS.index("E")] == pytest.approx(100.0)
    assert rows["1.6"][2 + LETTERS.index("F")] == pytest.approx(23.456789)
    assert rows["3.5.1"][2 + LETTERS.index("C")] == pytest.approx(71.0)
    for line in ("1", "1.6", "3", "3.5"):  # total column K = A + ... + J on the sheet
        assert rows[line][12] == pytest.approx(sum(rows[line][2:12]))
    assert rows["5"][10:13] == (None, None, None)  # gap rows: columns A-H only
    assert rows["1"][2 + LETTERS.index("A")] == pytest.approx(1.0)  # cash 10,000 = 1 万元
    assert ws.cell(row=6, column=3).number_format == "#,##0.00"
    ratios = _rows(wb["G21_II"])
    assert ratios["lmr"][1:] == ("流动性匹配率", pytest.approx(1.0401), pytest.approx(1.0), "达标")
    assert ratios["liquidity_ratio"][4] == "未达标"


def test_write_g21_csv_has_the_same_figures(tmp_path, ladder):
    path = write_g21(tmp_path / "G21.xlsx", ladder, as_of=AS_OF)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["G21.xlsx", "G21_ALL.csv", "G21_CNY.csv", "G21_FX.csv"]
    csv = pl.read_csv(tmp_path / "G21_ALL.csv", schema_overrides={"line": pl.String})
    assert csv.columns == ["line", "item", *LETTERS]
    sheet = _rows(openpyxl.load_workbook(path)["G21_ALL"])
    for rec in csv.iter_rows(named=True):
        got = sheet[rec["line"]]
        assert got[1] == rec["item"]
        for j, c in enumerate(LETTERS, start=2):
            assert got[j] == (pytest.approx(rec[c]) if rec[c] is not None else None)


def test_write_g21_english_in_units(tmp_path, ladder):
    path = write_g21(tmp_path / "g21_en.xlsx", ladder, lang="en", unit=1, csv=False)
    ws = openpyxl.load_workbook(path)["G21_ALL"]
    assert ws["A1"].value == "G21 Liquidity maturity gap statement"
    assert "Unit: CNY" in ws["A2"].value and "All currencies" in ws["A2"].value
    assert [c.value for c in ws[4]][:3] == ["Line", "Item", "Next day"]
    rows = _rows(ws)
    assert rows["1.1"][1] == "Cash"
    assert rows["3.5.2"][2] == pytest.approx(2_000_000.0)
    assert not any(p.suffix == ".csv" for p in tmp_path.iterdir())
    with pytest.raises(ConfigError, match="expected zh or en"):
        write_g21(tmp_path / "x.xlsx", ladder, lang="fr")
    with pytest.raises(ConfigError, match="positive number"):
        write_g21(tmp_path / "x.xlsx", ladder, unit=0)


G22 = pl.DataFrame(
    {
        "code": ["cash", "marketable_bond", "marketable_equity_fund", "liquid_assets", "demand_deposit", "ratio"] * 1,
        "line": ["1.1", "1.8", "1.8", "1.10", "2.1", "3"],
        "label_zh": [
            "现金",
            "可随时变现的证券投资 - 债券",
            "可随时变现的证券投资 - 上市股票和基金",
            "流动性资产总和",
            "活期存款",
            "流动性比例",
        ],
        "label_en": [
            "Cash",
            "Marketable securities - bonds",
            "Marketable securities - equities",
            "Total liquid assets",
            "Demand deposits",
            "Liquidity ratio",
        ],
        "currency_column": ["C"] * 6,
        "amount": [100_000.0, 300_000.0, 50_000.0, 450_000.0, 1_500_000.0, 0.3],
        "contracts": [1, 2, 1, 4, 3, 0],
    }
)


def test_write_g22_lines_and_ratio(tmp_path):
    a_rows = G22.with_columns(pl.lit("A").alias("currency_column"), (pl.col("amount") / 2).alias("amount"))
    path = write_g22(tmp_path / "G22.xlsx", pl.concat([a_rows, G22]), RATIOS.head(1), as_of=AS_OF)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["G22", "G22_II"]
    ws = wb["G22"]
    assert ws["A1"].value == "G22 流动性比例监测表"
    assert [c.value for c in ws[4]][2:] == ["人民币", "外币折人民币", "本外币合计"]
    rows = _rows(ws)
    assert [k for k in rows if k != "项目代码"] == ["1.1", "1.8", "1.10", "2.1", "3"]  # header row left out
    assert rows["1.8"][1] == "可随时变现的证券投资"  # the two 1.8 categories on one row
    assert rows["1.8"][2:] == (pytest.approx(17.5), None, pytest.approx(35.0))  # (300,000 + 50,000) / 10,000
    assert rows["1.10"][4] == pytest.approx(45.0)
    assert rows["3"][2:] == (pytest.approx(0.15), None, pytest.approx(0.3))  # ratio: not divided by the unit
    r3 = next(r for r in ws.iter_rows(min_row=5) if r[0].value == "3")
    assert r3[4].number_format == "0.00%"
    assert _rows(wb["G22_II"])["lmr"][2] == pytest.approx(1.0401)
    assert (tmp_path / "G22.csv").exists() and (tmp_path / "G22_II.csv").exists()


def _lcr_lines() -> pl.DataFrame:
    rows = [
        ("ALL", "hqla", "l1_cash", "1.1.1", "现金", "Cash", 2_000_000.0, 1.0, 2_000_000.0, 3),
        ("ALL", "outflow", "retail_stable", "2.1.1.2", "稳定存款", "Stable deposits", 10_000_000.0, 0.05, 500_000.0, 9),
        ("ALL", "inflow", "retail_loans", "2.2.2.1", "零售贷款", "Retail loans", 800_000.0, 0.5, 400_000.0, 4),
        ("ALL", "hqla", "hqla_total", None, "合格优质流动性资产", "HQLA", 2_000_000.0, None, 2_000_000.0, None),
        (
            "ALL",
            "net_outflow",
            "net_outflows",
            None,
            "现金净流出量",
            "Net outflows",
            1_600_000.0,
            None,
            1_600_000.0,
            None,
        ),
        ("ALL", "ratio", "lcr", None, "流动性覆盖率", "LCR", 2_000_000.0, None, 1.25, None),
        ("CNY", "ratio", "lcr", None, "流动性覆盖率", "LCR", 1.0, None, 9.99, None),
    ]
    cols = [
        "currency",
        "component",
        "category",
        "line",
        "label_zh",
        "label_en",
        "amount",
        "factor",
        "weighted_amount",
        "contracts",
    ]
    return pl.DataFrame(rows, schema=cols, orient="row").with_columns(pl.lit("china").alias("rule_set"))


def _nsfr_lines() -> pl.DataFrame:
    rows = [
        ("ALL", "asf", "capital", "1.1", "资本", "Capital", "ge_1y", 5_000_000.0, 1.0, 5_000_000.0),
        ("ALL", "asf", "retail_stable", "1.2", "稳定存款", "Stable deposits", "lt_6m", 2_000_000.0, 0.95, 1_900_000.0),
        ("ALL", "asf", "retail_stable", "1.2", "稳定存款", "Stable deposits", "6m_1y", 1_000_000.0, 0.95, 950_000.0),
        (
            "ALL",
            "asf",
            "total",
            "1",
            "可用的稳定资金",
            "Available stable funding",
            "none",
            8_000_000.0,
            None,
            7_850_000.0,
        ),
        ("ALL", "rsf", "loans", "2.1", "贷款", "Loans", "ge_1y", 6_000_000.0, 0.85, 5_100_000.0),
        (
            "ALL",
            "rsf",
            "total",
            "2",
            "所需的稳定资金",
            "Required stable funding",
            "none",
            6_000_000.0,
            None,
            5_100_000.0,
        ),
        ("ALL", "ratio", "nsfr", "3", "净稳定资金比例", "NSFR", "none", None, None, 7_850_000.0 / 5_100_000.0),
    ]
    cols = [
        "currency",
        "component",
        "category",
        "line",
        "label_zh",
        "label_en",
        "maturity",
        "amount",
        "factor",
        "weighted_amount",
    ]
    return pl.DataFrame(rows, schema=cols, orient="row").with_columns(pl.lit(1, dtype=pl.Int64).alias("contracts"))


def test_write_g25_lcr_and_nsfr_sheets(tmp_path):
    lcr, nsfr = _lcr_lines(), _nsfr_lines()
    path = write_g25(tmp_path / "G25.xlsx", lcr, nsfr, as_of=AS_OF)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["G25_I", "G25_II"]
    ws = wb["G25_I"]
    assert ws["A1"].value == "G25_I 流动性覆盖率情况表"
    data = list(ws.iter_rows(min_row=5, values_only=True))
    assert [r[1] for r in data] == [
        "现金",
        "合格优质流动性资产",
        "稳定存款",
        "零售贷款",
        "现金净流出量",
        "流动性覆盖率",
    ]
    assert data[2] == ("2.1.1.2", "稳定存款", pytest.approx(1000.0), pytest.approx(0.05), pytest.approx(50.0))
    ratio = data[-1]
    lcr_ratio = lcr.filter((pl.col("currency") == "ALL") & (pl.col("component") == "ratio"))["weighted_amount"][0]
    assert ratio[4] == pytest.approx(lcr_ratio) == pytest.approx(1.25)  # the LCR cell, not 9.99 (CNY)
    assert ratio[2] is None and ratio[3] is None
    assert ws.cell(row=5 + len(data) - 1, column=5).number_format == "0.00%"

    rows = _rows(wb["G25_II"])
    # columns: line, item, <6m, 6-12m, >=1y, none, total, weighted
    assert rows["1.2"][2:] == (
        pytest.approx(200.0),
        pytest.approx(100.0),
        None,
        None,
        pytest.approx(300.0),
        pytest.approx(285.0),
    )
    # total ASF broken down by the maturities of the ASF lines
    assert rows["1"][2:] == (
        pytest.approx(200.0),
        pytest.approx(100.0),
        pytest.approx(500.0),
        None,
        pytest.approx(800.0),
        pytest.approx(785.0),
    )
    assert rows["3"][7] == pytest.approx(7_850_000.0 / 5_100_000.0)
    assert (tmp_path / "G25_I.csv").exists() and (tmp_path / "G25_II.csv").exists()
    only_lcr = write_g25(tmp_path / "only" / "G25.xlsx", lcr, None, csv=False)
    assert openpyxl.load_workbook(only_lcr).sheetnames == ["G25_I"]
    with pytest.raises(ConfigError, match="no rows for currency 'EUR'"):
        write_g25(tmp_path / "e.xlsx", lcr, None, currency="EUR")


def test_write_g23_g24_generic_columns(tmp_path):
    top = pl.DataFrame(
        {
            "rank": [1, 2],
            "counterparty_name": ["甲公司", "乙集团"],
            "deposit_balance": [50_000_000.0, 30_000_000.0],
            "term_deposits": [20_000_000.0, 0.0],
            "share_of_total_deposits": [0.05, 0.03],
            "my_extra": [12_345.0, 0.0],
        }
    )
    ws = openpyxl.load_workbook(write_g23(tmp_path / "G23.xlsx", top, as_of=AS_OF))["G23"]
    assert ws["A1"].value == "G23 最大十家存款客户情况表"
    assert [c.value for c in ws[4]] == [
        "排名",
        "客户名称",
        "存款余额",
        "其中：定期存款",
        "占各项存款的比例",
        "my_extra",
    ]
    assert [c.value for c in ws[5]] == [
        1,
        "甲公司",
        pytest.approx(5000.0),
        pytest.approx(2000.0),
        pytest.approx(0.05),
        pytest.approx(1.2345),
    ]
    fi = pl.DataFrame(
        {"rank": [1], "counterparty_id": ["B001"], "interbank_borrowing": [1_000_000.0], "repo": [500_000.0]}
    )
    ws = openpyxl.load_workbook(write_g24(tmp_path / "G24.xlsx", fi, lang="en", unit=1))["G24"]
    assert ws["A1"].value.startswith("G24 ")
    assert [c.value for c in ws[4]] == ["Rank", "Counterparty id", "Interbank borrowing", "Repos"]
    assert [c.value for c in ws[5]] == [1, "B001", 1_000_000.0, 500_000.0]


def test_write_liquidity_returns_writes_what_it_has(tmp_path, ladder):
    out = write_liquidity_returns(
        tmp_path / "returns",
        {"g21_ladder": ladder, "ratios": RATIOS, "lcr_lines": _lcr_lines(), "nsfr_lines": None, "g22_lines": G22},
        as_of=AS_OF,
    )
    assert sorted(out) == [
        "G21",
        "G21:G21_ALL",
        "G21:G21_CNY",
        "G21:G21_FX",
        "G21:G21_II",
        "G22",
        "G22:G22",
        "G25",
        "G25:G25_I",
    ]
    assert out["G21"] == Path(tmp_path / "returns" / "G21.xlsx") and out["G25:G25_I"].name == "G25_I.csv"
    assert all(p.exists() for p in out.values())
    lcr_csv = pl.read_csv(out["G25:G25_I"])
    assert lcr_csv["weighted_amount"][-1] == pytest.approx(1.25)
    with pytest.raises(ConfigError, match="unknown inputs"):
        write_liquidity_returns(tmp_path, {"g99": ladder})


def test_a_ratio_without_a_denominator_is_written_as_text_not_a_number(tmp_path):
    """No net outflows: the LCR is infinite; the workbook cell says so instead of failing."""
    lcr = _lcr_lines().with_columns(
        pl.when(pl.col("component") == "ratio").then(float("inf")).otherwise(pl.col("weighted_amount"))
        .alias("weighted_amount")
    )  # fmt: skip
    path = write_g25(tmp_path / "G25.xlsx", lcr, _nsfr_lines(), as_of=AS_OF)
    data = list(openpyxl.load_workbook(path)["G25_I"].iter_rows(min_row=5, values_only=True))
    assert data[-1][1] == "流动性覆盖率" and data[-1][4] == "∞"
