"""Positions-to-ledger reconciliation (positions.md 5.5, section 10 rule 9).

Every expected figure is worked out by hand in the test (debit-positive ledger; asset rows +,
liability and equity rows -, provisions always -, fair values as signed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from openalm.config import RunConfig, load_config
from openalm.data.reconciliation import (
    AMOUNT_TYPE,
    RECONCILIATION_COLUMNS,
    ReconciliationResult,
    ReconciliationSettings,
    expected_balances,
    labelled_table,
    reconcile,
    write_reconciliation,
)
from openalm.data.snapshot import read_snapshot
from openalm.data.synthetic import generate_bank, write_snapshot
from openalm.errors import ConfigError, DataError, OpenALMWarning, ReconciliationError, SchemaError

D = Decimal
AMOUNTS = (
    "principal_balance",
    "accrued_interest",
    "provision_amount",
    "fair_value",
    "carrying_amount",
    "undrawn_amount",
)


# --------------------------------------------------------------------------------------------
# builders
# --------------------------------------------------------------------------------------------


def pos(
    gl: str | None,
    side: str,
    principal: float = 0.0,
    *,
    branch: str | None = "B1",
    ccy: str = "CNY",
    entity: str = "E1",
    **amounts: float | None,
) -> dict[str, Any]:
    return {
        "reporting_entity_id": entity,
        "branch_id": branch,
        "gl_account": gl,
        "currency": ccy,
        "side": side,
        "principal_balance": principal,
        **amounts,
    }


def positions(rows: Sequence[dict[str, Any]], amount_type: pa.DataType | None = None) -> pa.Table:
    amount_type = amount_type or pa.float64()
    strings = ("reporting_entity_id", "branch_id", "gl_account", "currency", "side")
    cols: dict[str, pa.Array] = {c: pa.array([r.get(c) for r in rows], pa.string()) for c in strings}
    for c in AMOUNTS:
        values = [r.get(c) for r in rows]
        if amount_type != pa.float64():
            values = [None if v is None else D(repr(v)) for v in values]
        cols[c] = pa.array(values, amount_type)
    return pa.table(cols)


def ledger(rows: Sequence[tuple[str, str | None, str, str, float]], *, branch: bool = True) -> pa.Table:
    cols: dict[str, pa.Array] = {
        "reporting_entity_id": pa.array([r[0] for r in rows], pa.string()),
        "gl_account": pa.array([r[2] for r in rows], pa.string()),
        "currency": pa.array([r[3] for r in rows], pa.string()),
        "balance": pa.array([r[4] for r in rows], pa.float64()),
    }
    if branch:
        cols["branch_id"] = pa.array([r[1] for r in rows], pa.string())
    return pa.table(cols)


def account_map(rows: Sequence[tuple[Any, ...]]) -> pa.Table:
    """Rows ``(gl_account, measure, sign, line[, in_scope[, tolerance_abs[, tolerance_rel]]])``."""
    full = [tuple(r) + (None,) * (7 - len(r)) for r in rows]
    return pa.table(
        {
            "gl_account": pa.array([r[0] for r in full], pa.string()),
            "measure": pa.array([r[1] for r in full], pa.string()),
            "sign": pa.array([r[2] for r in full], pa.int64()),
            "balance_sheet_line": pa.array([r[3] for r in full], pa.string()),
            "in_scope": pa.array([r[4] for r in full], pa.bool_()),
            "tolerance_abs": pa.array([r[5] for r in full], pa.float64()),
            "tolerance_rel": pa.array([r[6] for r in full], pa.float64()),
        }
    )


def rows_by_account(result: ReconciliationResult) -> dict[tuple[str | None, str | None], dict[str, Any]]:
    return {(r["gl_account"], r["branch_id"]): r for r in result.table.to_pylist()}


# The hand-built bank: one entity, branch B1, CNY.
BANK_MAP = account_map(
    [
        ("130301", "principal_balance", 1, "loans"),
        ("132101", "accrued_interest", 1, "loans"),
        ("130401", "provision_amount", -1, "loans"),
        ("201101", "principal_balance", -1, "deposits"),
        ("223101", "accrued_interest", -1, "deposits"),
        ("700101", "undrawn_amount", 1, "commitments"),
        ("400101", "principal_balance", -1, "equity"),
        ("110101", "fair_value", 1, "trading"),
        ("730101", "none", 1, "derivatives"),
        ("310101", "fair_value", 1, "derivatives"),
        ("999999", "principal_balance", 1, "entrusted", False),
    ]
)
BANK_POSITIONS = [
    pos("130301", "asset", 1000.00, accrued_interest=5.25, provision_amount=20.00),  # loan L1
    pos("130301", "asset", 500.50, accrued_interest=2.75),  # loan L2, no allowance
    pos("201101", "liability", 800.00, accrued_interest=1.10),  # deposit
    pos("700101", "asset", 300.00, undrawn_amount=300.00),  # credit line granted (off-balance)
    pos("700101", "liability", 100.00, undrawn_amount=100.00),  # standby facility received
    pos("400101", "equity", 50.00),  # paid-in capital
    pos("110101", "asset", 100.00, fair_value=99.40, accrued_interest=0.60),  # FVTPL bond
    pos("730101", "asset", 1000.00, fair_value=12.30),  # IRS receive leg
    pos("730101", "liability", 1000.00, fair_value=-4.00),  # IRS pay leg
    pos("999999", "asset", 77.00, accrued_interest=1.00),  # entrusted loan, out of scope
]
# debit-positive ledger equal to the hand sums
BANK_LEDGER = [
    ("E1", "B1", "130301", "CNY", 1500.50),  # 1000.00 + 500.50
    ("E1", "B1", "132101", "CNY", 8.00),  # 5.25 + 2.75 (the loans line only)
    ("E1", "B1", "130401", "CNY", -20.00),  # contra-asset: credit
    ("E1", "B1", "201101", "CNY", -800.00),  # liability: credit
    ("E1", "B1", "223101", "CNY", -1.10),  # accrued interest payable: credit
    ("E1", "B1", "700101", "CNY", 200.00),  # +300 granted - 100 received
    ("E1", "B1", "400101", "CNY", -50.00),  # equity: credit
    ("E1", "B1", "110101", "CNY", 99.40),  # fair value as signed
    ("E1", "B1", "310101", "CNY", 8.30),  # 12.30 - 4.00 through the derivatives line
    ("E1", "B1", "999999", "CNY", 77.00),  # out of scope: shown, not compared
]


# --------------------------------------------------------------------------------------------
# signs and links
# --------------------------------------------------------------------------------------------


def test_hand_built_bank_reconciles_with_the_documented_signs_and_links() -> None:
    result = reconcile(positions(BANK_POSITIONS), ledger(BANK_LEDGER), BANK_MAP)
    rows = rows_by_account(result)
    expected = {
        "130301": (D("1500.50"), 2),
        "132101": (D("8.00"), 2),
        "130401": (D("-20.00"), 1),  # L2 has no allowance (null): not counted
        "201101": (D("-800.00"), 1),
        "223101": (D("-1.10"), 1),
        "700101": (D("200.00"), 2),
        "400101": (D("-50.00"), 1),
        "110101": (D("99.40"), 1),
        "310101": (D("8.30"), 2),
    }
    for acct, (amount, count) in expected.items():
        row = rows[(acct, "B1")]
        assert (row["positions_amount"], row["position_count"], row["status"]) == (amount, count, "matched"), acct
        assert row["difference"] == 0 and row["tolerance"] == D("0.01")
    notional = rows[("730101", "B1")]
    assert (notional["status"], notional["measure"], notional["positions_amount"], notional["position_count"]) == (
        "out_of_scope",
        "none",
        None,
        2,
    )
    entrusted = rows[("999999", "B1")]
    assert (entrusted["status"], entrusted["gl_balance"], entrusted["positions_amount"]) == (
        "out_of_scope",
        D("77"),
        D("77"),
    )
    assert entrusted["difference"] is None
    # the bond's accrued interest has no account on its line and the entrusted loan is out of scope
    assert ("132101", "B1") in rows and rows[("132101", "B1")]["positions_amount"] == D("8.00")
    assert result.status == "ok" and result.breaks.num_rows == 0
    s = result.summary
    assert s["status_counts"] == {
        "matched": 9,
        "break": 0,
        "gl_only": 0,
        "positions_only": 0,
        "unmapped": 0,
        "out_of_scope": 2,
    }
    assert (s["positions"], s["positions_reconciled"], s["positions_out_of_scope"], s["positions_unmapped"]) == (
        10,
        7,
        3,
        0,
    )
    assert s["abnormal_direction"] == 0 and s["level"] == "branch"
    assert s["defaulted"] == {"tolerance_abs": 11, "tolerance_rel": 11, "in_scope": 10}
    assert result.table.column_names == list(RECONCILIATION_COLUMNS)
    assert result.table.schema.field("gl_balance").type == AMOUNT_TYPE


@pytest.mark.parametrize(
    ("measure", "side", "value", "expected"),
    [
        ("principal_balance", "asset", 10.0, "10"),
        ("principal_balance", "liability", 10.0, "-10"),
        ("principal_balance", "equity", 10.0, "-10"),
        ("accrued_interest", "asset", 2.5, "2.5"),
        ("accrued_interest", "liability", 2.5, "-2.5"),
        ("accrued_interest", "asset", -0.75, "-0.75"),  # negative rate: the flow reverses
        ("carrying_amount", "asset", 98.5, "98.5"),
        ("carrying_amount", "liability", 98.5, "-98.5"),
        ("undrawn_amount", "asset", 40.0, "40"),  # commitment granted: debit memo
        ("undrawn_amount", "liability", 40.0, "-40"),  # facility received: credit memo
        ("provision_amount", "asset", 3.0, "-3"),  # contra-asset
        ("provision_amount", "liability", 3.0, "-3"),  # provision for an off-balance exposure
        ("fair_value", "asset", 5.5, "5.5"),  # already signed
        ("fair_value", "liability", -5.5, "-5.5"),
    ],
)
def test_each_sign_rule(measure: str, side: str, value: float, expected: str) -> None:
    row = pos("A1", side, value) if measure == "principal_balance" else pos("A1", side, 100.0, **{measure: value})
    table = positions([row])
    implied = expected_balances(table, account_map([("A1", measure, 1, None)]))
    assert implied.to_pylist() == [
        {"reporting_entity_id": "E1", "branch_id": "B1", "gl_account": "A1", "currency": "CNY", "balance": D(expected)}
    ]


def test_line_accounts_skip_siblings_and_ambiguous_lines_are_refused() -> None:
    amap = account_map(
        [
            ("P1", "principal_balance", 1, "loans"),
            ("P2", "principal_balance", 1, "loans"),  # sibling: receives nothing from P1's rows
            ("AI", "accrued_interest", 1, "loans"),
        ]
    )
    implied = expected_balances(positions([pos("P1", "asset", 10.0, accrued_interest=1.0)]), amap)
    assert {r["gl_account"]: r["balance"] for r in implied.to_pylist()} == {"P1": D(10), "AI": D(1)}
    ambiguous = account_map(
        [
            ("P1", "principal_balance", 1, "loans"),
            ("AI", "accrued_interest", 1, "loans"),
            ("AI2", "accrued_interest", 1, "loans"),
        ]
    )
    with pytest.raises(DataError, match=r"AI,AI2 are all mapped to accrued_interest on balance_sheet_line 'loans'"):
        expected_balances(positions([pos("P1", "asset", 10.0)]), ambiguous)


# --------------------------------------------------------------------------------------------
# exactness
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("amount_type", [pa.float64(), pa.decimal128(38, 6)])
def test_sums_are_exact_decimals(amount_type: pa.DataType) -> None:
    rows = [pos("A1", "asset", 0.1) for _ in range(10)] + [pos("A1", "asset", 0.2) for _ in range(10)]
    assert sum([0.1] * 10 + [0.2] * 10) != 3.0  # the binary float sum misses
    settings = ReconciliationSettings(tolerance_abs=D(0))  # no tolerance: only an exact sum matches
    result = reconcile(
        positions(rows, amount_type),
        ledger([("E1", "B1", "A1", "CNY", 3.00)]),
        account_map([("A1", "principal_balance", 1, "x")]),
        settings=settings,
    )
    row = result.table.to_pylist()[0]
    assert (row["positions_amount"], row["difference"], row["status"]) == (D("3.000000"), D(0), "matched")


def test_large_amounts_are_exact_and_over_precise_amounts_refused() -> None:
    big = [pos("A1", "asset", 12_345_678_901.23), pos("A1", "liability", 9_999_999_999.99)]  # above 2**33
    implied = expected_balances(positions(big), account_map([("A1", "principal_balance", 1, None)]))
    assert implied.column("balance").to_pylist() == [D("2345678901.24")]
    table = positions([pos("A1", "asset", 1.0), pos("A1", "asset", 0.1 + 0.2)]).append_column(
        "source_row", pa.array([7, 8], pa.int64())
    )
    with pytest.raises(
        DataError, match=r"file positions, row 8, column 'principal_balance', value 0\.3000000000000000"
    ):
        expected_balances(table, account_map([("A1", "principal_balance", 1, None)]))


# --------------------------------------------------------------------------------------------
# tolerance
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "tol_abs", "status"),
    [
        (1000.01, 0.01, "matched"),  # |difference| = tolerance
        (1000.010001, 0.01, "break"),  # one millionth above
        (999.99, 0.01, "matched"),
        (999.989999, 0.01, "break"),
        (1000.01, None, "matched"),  # settings default 0.01
        (1000.010001, None, "break"),
    ],
)
def test_absolute_tolerance_boundary(amount: float, tol_abs: float | None, status: str) -> None:
    amap = account_map([("A1", "principal_balance", 1, "x", True, tol_abs)])
    with _maybe_warns(status):
        result = reconcile(positions([pos("A1", "asset", amount)]), ledger([("E1", "B1", "A1", "CNY", 1000.00)]), amap)
    row = result.table.to_pylist()[0]
    assert row["status"] == status
    assert row["difference"] == D(repr(amount)) - D(1000) and row["tolerance"] == D("0.01")


@pytest.mark.parametrize(
    ("amount", "tol_abs", "status", "tolerance"),
    [
        (1_001_000.00, None, "matched", "1000"),  # 0.001 x 1,000,000 = 1,000.00 exactly
        (1_001_000.000001, None, "break", "1000"),
        (998_999.999999, None, "break", "1000"),
        (1_001_500.00, 2000.0, "matched", "2000"),  # the larger of abs and rel applies
    ],
)
def test_relative_tolerance_boundary(amount: float, tol_abs: float | None, status: str, tolerance: str) -> None:
    amap = account_map([("A1", "principal_balance", 1, "x", True, tol_abs, 0.001)])
    with _maybe_warns(status):
        result = reconcile(positions([pos("A1", "asset", amount)]), ledger([("E1", "B1", "A1", "CNY", 1e6)]), amap)
    row = result.table.to_pylist()[0]
    assert (row["status"], row["tolerance"]) == (status, D(tolerance))


def test_settings_relative_default_applies() -> None:
    settings = ReconciliationSettings(tolerance_rel=D("0.01"))
    result = reconcile(
        positions([pos("A1", "liability", 1010.0)]),
        ledger([("E1", "B1", "A1", "CNY", -1000.0)]),
        account_map([("A1", "principal_balance", -1, "x")]),
        settings=settings,
    )
    row = result.table.to_pylist()[0]
    assert (row["difference"], row["tolerance"], row["status"]) == (D(-10), D(10), "matched")


def _maybe_warns(status: str) -> contextlib.AbstractContextManager[Any]:
    """``pytest.warns(OpenALMWarning)`` when a break is expected (policy warn), else nothing."""
    return pytest.warns(OpenALMWarning) if status != "matched" else contextlib.nullcontext()


# --------------------------------------------------------------------------------------------
# row kinds, levels
# --------------------------------------------------------------------------------------------


def test_gl_only_positions_only_unmapped_and_out_of_scope_rows() -> None:
    amap = account_map(
        [
            ("A1", "principal_balance", 1, "x"),
            ("L1", "principal_balance", -1, "y"),
            ("Z0", "principal_balance", 1, "z"),
            ("OS", "principal_balance", 1, "w", False),
        ]
    )
    table = positions(
        [
            pos("A1", "asset", 10.0),
            pos("L1", "liability", 25.0, branch="B3"),  # no ledger row at B3
            pos("XX", "asset", 4.0),  # account absent from the map
            pos("XX", "liability", 1.5),
            pos(None, "asset", 2.0, ccy="USD"),  # no account at all
            pos("OS", "asset", 9.0),
        ]
    )
    gl = ledger(
        [
            ("E1", "B1", "A1", "CNY", 10.0),
            ("E1", "B2", "A1", "CNY", 70.0),  # no position at B2
            ("E1", "B1", "Z0", "CNY", 0.0),  # empty ledger account, no positions: nothing to explain
            ("E1", "B1", "OS", "CNY", 5.0),
            ("E1", "B1", "GG", "CNY", 123.0),  # ledger account absent from the map
        ]
    )
    with pytest.warns(OpenALMWarning, match="2 GL reconciliation break"):
        result = reconcile(table, gl, amap)
    rows = rows_by_account(result)
    assert rows[("A1", "B1")]["status"] == "matched"
    gl_only = rows[("A1", "B2")]
    assert (gl_only["status"], gl_only["positions_amount"], gl_only["difference"], gl_only["position_count"]) == (
        "gl_only",
        D(0),
        D(-70),
        0,
    )
    only = rows[("L1", "B3")]
    assert (only["status"], only["gl_balance"], only["positions_amount"], only["difference"]) == (
        "positions_only",
        None,
        D(-25),
        D(-25),
    )
    assert rows[("Z0", "B1")]["status"] == "matched"
    unmapped = rows[("XX", "B1")]
    assert (unmapped["status"], unmapped["positions_amount"], unmapped["position_count"]) == ("unmapped", D("2.5"), 2)
    assert unmapped["measure"] is None and unmapped["difference"] is None
    assert rows[(None, "B1")]["status"] == "unmapped" and rows[(None, "B1")]["currency"] == "USD"
    assert (rows[("GG", "B1")]["status"], rows[("GG", "B1")]["gl_balance"]) == ("unmapped", D(123))
    assert rows[("OS", "B1")]["status"] == "out_of_scope"
    assert {r["gl_account"] for r in result.breaks.to_pylist()} == {"A1", "L1"}
    s = result.summary
    assert s["status_counts"] == {
        "matched": 2,
        "break": 0,
        "gl_only": 1,
        "positions_only": 1,
        "unmapped": 3,
        "out_of_scope": 1,
    }
    assert (s["positions_unmapped"], s["unmapped_amount"]) == (3, {"CNY": "2.500000", "USD": "2.000000"})
    assert result.status == "breaks" and s["breaks"] == 2
    assert any("3 position(s) on accounts absent from gl_account_map" in w for w in result.warnings)


def _two_branches() -> tuple[pa.Table, pa.Table, pa.Table]:
    table = positions([pos("A1", "asset", 100.0, branch="B1"), pos("A1", "asset", 200.0, branch="B2")])
    gl = ledger([("E1", "B1", "A1", "CNY", 150.0), ("E1", "B2", "A1", "CNY", 150.0)])
    return table, gl, account_map([("A1", "principal_balance", 1, "x")])


def test_branch_level_sees_what_entity_level_nets() -> None:
    table, gl, amap = _two_branches()
    with pytest.warns(OpenALMWarning):
        by_branch = reconcile(table, gl, amap)  # auto: both carry branch_id
    assert by_branch.summary["level"] == "branch"
    assert [(r["branch_id"], r["difference"], r["status"]) for r in by_branch.table.to_pylist()] == [
        ("B1", D(-50), "break"),
        ("B2", D(50), "break"),
    ]
    by_entity = reconcile(table, gl, amap, settings=ReconciliationSettings(level="entity"))
    assert [
        (r["branch_id"], r["positions_amount"], r["gl_balance"], r["status"]) for r in by_entity.table.to_pylist()
    ] == [(None, D(300), D(300), "matched")]


def test_auto_level_falls_back_to_entity_and_branch_level_demands_branch_ids() -> None:
    table, _, amap = _two_branches()
    gl = ledger([("E1", None, "A1", "CNY", 300.0)], branch=False)
    result = reconcile(table, gl, amap)
    assert (
        result.summary["level"] == "entity" and "gl_balances has no branch_id column" in result.summary["level_reason"]
    )
    assert result.status == "ok"
    with pytest.raises(DataError, match="level is branch but gl_balances has no branch_id column"):
        reconcile(table, gl, amap, settings=ReconciliationSettings(level="branch"))
    no_branch = positions([pos("A1", "asset", 300.0, branch=None)])
    gl_b = ledger([("E1", "B1", "A1", "CNY", 300.0)])
    assert reconcile(no_branch, gl_b, amap).summary["level_reason"].startswith("auto: positions row 1 has no branch_id")


# --------------------------------------------------------------------------------------------
# policy, FX
# --------------------------------------------------------------------------------------------


def _breaking() -> tuple[pa.Table, pa.Table, pa.Table]:
    table = positions([pos("A1", "asset", 1100.0), pos("L1", "liability", 200.5), pos("U1", "asset", 20.0, ccy="USD")])
    gl = ledger([("E1", "B1", "A1", "CNY", 1000.0), ("E1", "B1", "L1", "CNY", -200.0), ("E1", "B1", "U1", "USD", 0.0)])
    amap = account_map(
        [("A1", "principal_balance", 1, "x"), ("L1", "principal_balance", -1, "y"), ("U1", "principal_balance", 1, "z")]
    )
    return table, gl, amap


def test_block_policy_raises_naming_the_worst_break() -> None:
    with pytest.raises(ReconciliationError) as info:
        reconcile(*_breaking(), settings=ReconciliationSettings(policy="block"))
    text = str(info.value)
    assert text.startswith("3 GL reconciliation break(s) exceed tolerance at branch level; worst by own-currency")
    assert "account A1 CNY at E1/B1 (principal_balance, break): positions 1,100.00 vs ledger 1,000.00, " in text
    assert text.index("account A1") < text.index("account U1") < text.index("account L1")
    assert "difference +100.00 > tolerance 0.01" in text


def test_warn_policy_returns_the_breaks() -> None:
    with pytest.warns(OpenALMWarning, match="3 GL reconciliation break"):
        result = reconcile(*_breaking())
    assert result.status == "breaks" and result.breaks.num_rows == 3
    assert result.warnings[0].startswith("3 GL reconciliation break(s)")
    assert result.summary["max_abs_difference"] == "100.000000"


class _Fx:
    reporting_currency = "CNY"

    def rate(self, from_ccy: str, to_ccy: str) -> float:
        return {"USD": 7.1, "CNY": 1.0}[from_ccy]


def test_fx_ranks_breaks_in_the_reporting_currency() -> None:
    with pytest.raises(ReconciliationError, match="worst by reporting-currency difference: account U1 USD") as info:
        reconcile(*_breaking(), settings=ReconciliationSettings(policy="block"), fx=_Fx())
    assert str(info.value).index("account U1") < str(info.value).index("account A1")  # 20 USD = 142 CNY > 100 CNY
    with pytest.warns(OpenALMWarning):
        result = reconcile(*_breaking(), fx=_Fx())
    assert result.table.column("difference_reporting").to_pylist() == pytest.approx([100.0, -0.5, 142.0])


def test_fx_without_reporting_currency_is_a_config_error() -> None:
    class Bare:
        def rate(self, from_ccy: str, to_ccy: str) -> float:
            return 1.0

    with pytest.raises(ConfigError, match="no reporting_currency"):
        reconcile(*_breaking(), fx=Bare())


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


def test_bad_inputs_are_named() -> None:
    amap = account_map([("A1", "principal_balance", 1, "x")])
    gl = ledger([("E1", "B1", "A1", "CNY", 1.0)])
    with pytest.raises(DataError, match=r"file positions, row 2, column 'side', value 'assets': unknown side"):
        reconcile(positions([pos("A1", "asset", 1.0), pos("A1", "assets", 1.0)]), gl, amap)
    with pytest.raises(DataError, match=r"file gl_account_map, row 2, column 'gl_account', value 'A1': appears twice"):
        reconcile(positions([pos("A1", "asset", 1.0)]), gl, account_map([("A1", "principal_balance", 1, "x")] * 2))
    with pytest.raises(DataError, match=r"file gl_account_map, row 1, column 'measure', value 'balance'"):
        reconcile(positions([pos("A1", "asset", 1.0)]), gl, account_map([("A1", "balance", 1, "x")]))
    with pytest.raises(DataError, match=r"file gl_account_map, row 1, column 'sign', value 0"):
        reconcile(positions([pos("A1", "asset", 1.0)]), gl, account_map([("A1", "principal_balance", 0, "x")]))
    with pytest.raises(DataError, match=r"file gl_balances, row 2, column 'gl_account', value 'A1': duplicates"):
        reconcile(positions([pos("A1", "asset", 1.0)]), ledger([("E1", "B1", "A1", "CNY", 1.0)] * 2), amap)
    with pytest.raises(SchemaError, match=r"lacks required column\(s\) side"):
        reconcile(positions([pos("A1", "asset", 1.0)]).drop_columns(["side"]), gl, amap)
    with pytest.raises(SchemaError, match="has type string; expected an amount"):
        reconcile(positions([pos("A1", "asset", 1.0)]), gl.set_column(3, "balance", pa.array(["1.0"])), amap)


# --------------------------------------------------------------------------------------------
# writing, labels, configuration
# --------------------------------------------------------------------------------------------


def test_write_reconciliation_and_labelled_table(tmp_path: Path) -> None:
    result = reconcile(positions(BANK_POSITIONS), ledger(BANK_LEDGER), BANK_MAP)
    paths = write_reconciliation(result, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["reconciliation.csv", "reconciliation.parquet"]
    assert pq.read_table(paths["parquet"]).equals(result.table)
    csv = pacsv.read_csv(paths["csv"], convert_options=pacsv.ConvertOptions(column_types={"gl_account": pa.string()}))
    first = csv.filter(pc.equal(csv.column("gl_account"), "130401")).to_pylist()[0]
    assert (first["positions_amount"], first["status"]) == (-20.0, "matched")
    zh = labelled_table(result.table, "zh")
    assert zh.column_names[:4] == ["法人机构", "机构号", "科目号", "币种"]
    assert set(zh.column("核对结果").to_pylist()) == {"相符", "不参与核对"}
    en = labelled_table(result.table, "en")
    assert (
        "Difference (positions minus ledger)" in en.column_names
        and "Not reconciled" in en.column("Measure").to_pylist()
    )


def test_settings_live_in_the_run_config() -> None:
    cfg = RunConfig()
    assert cfg.reconciliation == ReconciliationSettings()
    assert (cfg.reconciliation.level, cfg.reconciliation.tolerance_abs, cfg.reconciliation.policy) == (
        "auto",
        D("0.01"),
        "warn",
    )
    loaded = load_config(overrides={"reconciliation": {"policy": "block", "tolerance_rel": 0.001}})
    assert (loaded.reconciliation.policy, loaded.reconciliation.tolerance_rel) == ("block", D("0.001"))
    with pytest.raises(ConfigError, match=r"reconciliation\.tolerances: Extra inputs"):
        load_config(overrides={"reconciliation": {"tolerances": 1}})
    with pytest.raises(ConfigError, match=r"reconciliation\.tolerance_abs: Input should be greater than or equal to 0"):
        load_config(overrides={"reconciliation": {"tolerance_abs": -1}})


# --------------------------------------------------------------------------------------------
# the synthetic bank
# --------------------------------------------------------------------------------------------

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def bank() -> dict[str, pa.Table]:
    return generate_bank(3_000, as_of=AS_OF)


def test_synthetic_bank_reconciles_with_zero_breaks(bank: dict[str, pa.Table]) -> None:
    result = reconcile(bank["positions"], bank["gl_balances"], bank["gl_account_map"])
    s = result.summary
    assert result.status == "ok" and s["breaks"] == 0 and s["level"] == "branch"
    assert s["status_counts"]["matched"] == bank["gl_balances"].num_rows  # every ledger row is explained
    assert s["status_counts"]["unmapped"] == 0 and s["positions_unmapped"] == 0
    assert s["status_counts"]["out_of_scope"] > 0  # derivative notional memo accounts (measure none)
    assert s["abnormal_direction"] == 0 and result.warnings == []
    accrued = result.table.filter(pc.equal(result.table.column("measure"), "accrued_interest"))
    assert accrued.num_rows > 0 and set(accrued.column("status").to_pylist()) == {"matched"}
    assert "700102" in result.table.column("gl_account").to_pylist()  # undrawn card limits via the loans line


def test_synthetic_snapshot_read_back_reconciles(bank: dict[str, pa.Table], tmp_path: Path) -> None:
    write_snapshot(bank, tmp_path / "snap")
    snap = read_snapshot(tmp_path / "snap", AS_OF)
    assert snap.gl_balances is not None and snap.gl_account_map is not None
    assert snap.counts["gl_balances"]["rejected"] == 0 and snap.counts["gl_account_map"]["rejected"] == 0
    result = reconcile(snap.positions, snap.gl_balances, snap.gl_account_map)
    assert result.status == "ok" and result.summary["status_counts"]["matched"] == bank["gl_balances"].num_rows


def test_synthetic_bank_with_one_changed_position_breaks_once(bank: dict[str, pa.Table]) -> None:
    table = bank["positions"]
    loans = pc.and_(pc.equal(table.column("gl_account"), "130301"), pc.equal(table.column("currency"), "CNY"))
    i = int(pc.index(loans, True).as_py())
    row = table.slice(i, 1).to_pylist()[0]
    principal = table.column("principal_balance").to_pylist()
    principal[i] = float(D(repr(principal[i])) + D(100))
    changed = table.set_column(
        table.schema.get_field_index("principal_balance"), "principal_balance", pa.array(principal, pa.float64())
    )
    with pytest.warns(OpenALMWarning, match="1 GL reconciliation break"):
        result = reconcile(changed, bank["gl_balances"], bank["gl_account_map"])
    breaks = result.breaks.to_pylist()
    assert len(breaks) == 1
    b = breaks[0]
    assert (b["reporting_entity_id"], b["branch_id"], b["gl_account"], b["currency"]) == (
        row["reporting_entity_id"],
        row["branch_id"],
        "130301",
        "CNY",
    )
    assert (b["status"], b["difference"]) == ("break", D("100.000000"))
