"""``liquidity_gap``: contractual and behavioural ladders from the cash-flow ladder (hand-computed)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pyarrow as pa
import pytest

from openalm.engine.buckets import build_bucket_sets
from openalm.measures.liquidity.gap import liquidity_gap_table

AS_OF = dt.date(2026, 6, 30)


def _ladder(rows: list[tuple[str, str, str, str, float]]) -> pa.Table:
    """(bucket_set, bucket, currency, side/kind, amount) -> a cashflow_ladder-shaped table."""
    out = []
    for bset, bucket, ccy, side_kind, amount in rows:
        side, kind = side_kind.split("/")
        out.append(
            {
                "bucket_set": bset,
                "bucket": bucket,
                "currency": ccy,
                "side": side,
                "instrument_type": "loan",
                "flow_kind": kind,
                "scenario": "base",
                "amount": amount,
            }
        )
    out.append({**out[0], "currency": "ALL", "amount": 1e12})  # ALL rows of the ladder are ignored
    out.append({**out[0], "scenario": "parallel_up", "amount": 1e12})  # so are other scenarios
    return pa.Table.from_pylist(out)


@pytest.fixture(scope="module")
def gap() -> pl.DataFrame:
    ladder = _ladder(
        [
            ("g21", "next_day", "CNY", "asset/principal", 100.0),
            ("g21", "next_day", "CNY", "liability/principal", 300.0),  # demand deposits
            ("g21", "2d_7d", "CNY", "asset/drawdown", 50.0),  # a commitment drawn: an outflow
            ("g21", "8d_30d", "CNY", "liability/interest", 10.0),
            ("g21", "8d_30d", "CNY", "liability/drawdown", 4.0),  # forward funding received: an inflow
            ("g21", "91d_1y", "USD", "asset/principal", 10.0),
            ("g21", "undated", "CNY", "equity/principal", 999.0),  # equity is not a flow
        ]
    )
    return liquidity_gap_table(
        ladder,
        build_bucket_sets(AS_OF),
        fx_rc={"CNY": 1.0, "USD": 7.0},
        reporting_currency="CNY",
        demand_balances={"CNY": 300.0},
        demand_stable={"CNY": 150.0},
    )


def _col(gap: pl.DataFrame, basis: str, ccy: str, column: str) -> dict[str, float]:
    g = gap.filter((pl.col("basis") == basis) & (pl.col("currency") == ccy) & (pl.col("bucket_set") == "g21"))
    return dict(zip(g["bucket"].to_list(), g[column].to_list(), strict=True))


def test_contractual_gap_and_cumulative_gap_by_hand(gap: pl.DataFrame) -> None:
    inflow = _col(gap, "contractual", "CNY", "inflow")
    outflow = _col(gap, "contractual", "CNY", "outflow")
    cum = _col(gap, "contractual", "CNY", "cumulative_gap")
    assert list(inflow) == [
        "next_day", "2d_7d", "8d_30d", "31d_90d", "91d_1y", "1y_5y", "5y_10y", "over_10y", "overdue", "undated",
    ]  # fmt: skip
    assert (inflow["next_day"], outflow["next_day"]) == (100.0, 300.0)
    assert (inflow["2d_7d"], outflow["2d_7d"]) == (0.0, 50.0)
    assert (inflow["8d_30d"], outflow["8d_30d"]) == (4.0, 10.0)
    assert outflow["undated"] == 0.0  # equity left out
    assert cum["next_day"] == -200.0
    assert cum["2d_7d"] == -250.0
    assert cum["8d_30d"] == -256.0
    assert cum["undated"] == -256.0


def test_fx_and_all_rows_convert_to_the_reporting_currency(gap: pl.DataFrame) -> None:
    assert _col(gap, "contractual", "USD", "inflow")["91d_1y"] == 10.0
    assert _col(gap, "contractual", "FX", "inflow")["91d_1y"] == 70.0
    assert _col(gap, "contractual", "ALL", "inflow")["91d_1y"] == 70.0
    assert _col(gap, "contractual", "ALL", "cumulative_gap")["undated"] == -256.0 + 70.0
    assert _col(gap, "contractual", "FX", "inflow")["next_day"] == 0.0


def test_behavioural_demand_slotting_g21_memo_row_7(gap: pl.DataFrame) -> None:
    """Demand 300, stable share 50%: 150 to 1y-5y; 150 spread over days 1..360 by bucket length
    (1, 6, 23, 60 and 270 days of 360), replacing the 300 in "next day"."""
    out = _col(gap, "behavioural", "CNY", "outflow")
    assert out["next_day"] == pytest.approx(150 * 1 / 360)
    assert out["2d_7d"] == pytest.approx(50 + 150 * 6 / 360)
    assert out["8d_30d"] == pytest.approx(10 + 150 * 23 / 360)
    assert out["31d_90d"] == pytest.approx(150 * 60 / 360)
    assert out["91d_1y"] == pytest.approx(150 * 270 / 360)
    assert out["1y_5y"] == pytest.approx(150.0)
    assert sum(out.values()) == pytest.approx(sum(_col(gap, "contractual", "CNY", "outflow").values()))
    assert _col(gap, "behavioural", "USD", "outflow") == _col(gap, "contractual", "USD", "outflow")


def test_every_bucket_set_is_written(gap: pl.DataFrame) -> None:
    sets = set(gap["bucket_set"].unique().to_list())
    assert {"g21", "irrbb", "monthly"} <= sets
    monthly = gap.filter((pl.col("bucket_set") == "monthly") & (pl.col("basis") == "behavioural"))
    # the stable part lands in the month holding day 366 (M013 for a 30 June as-of)
    stable = monthly.filter(pl.col("currency") == "CNY").sort("bucket_start_day")
    row = stable.filter(pl.col("bucket") == "M013")
    assert row["outflow"].item() == pytest.approx(150.0)


def test_readme_liquidity_configuration_example_is_valid(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from openalm.config import load_config

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Liquidity risk") :]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "c.yaml").write_text(block, encoding="utf-8")
    config = load_config(tmp_path / "c.yaml")
    assert config.liquidity.rule_overrides == {"lcr_outflows": {"retail_less_stable_uninsured": 0.12}}
    assert config.liquidity.cn_ratios.demand_deposit_stable_balance == {"CNY": 1.2e11}
    assert config.liquidity.stress.reverse_target_days == 30
    assert config.liquidity.limits.internal_limits == {"ldr": 0.75}


def test_hqla_levels_of_the_frame_are_the_data_contract_levels() -> None:
    from openalm.data.schema import HQLA_LEVELS as CONTRACT
    from openalm.measures.liquidity.frame import HQLA_LEVELS

    assert HQLA_LEVELS == CONTRACT
