"""Row rules: each bad-input class is rejected with file, row, column, value and reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from _snapshot_builders import AS_OF, CASH, COUNTERPARTY, DEPOSIT, LOAN, row

from openalm.data import REASONS, Snapshot, read_snapshot
from openalm.errors import DataError

Load = Callable[..., Snapshot]


def problems(snap: Snapshot, table: str = "positions") -> set[tuple[int, str, str, str]]:
    """(row, column, value, reason) of the rejects of one table."""
    return {(r.row, r.column, r.value, r.reason) for r in snap.rejects if r.table == table}


def only(load: Load, bad: dict[str, Any], **tables: Any) -> set[tuple[int, str, str, str]]:
    """Rejects of a snapshot whose row 2 is ``bad`` (row 1 is a valid loan, row 3 a valid deposit)."""
    snap = load([LOAN, bad, DEPOSIT], **tables)
    found = problems(snap)
    assert all(r == 2 for r, *_ in found), found
    assert snap.counts["positions"] == {"read": 3, "rejected": 1 if found else 0, "used": 2 if found else 3}
    return {(c, v, reason) for _, c, v, reason in found}  # type: ignore[misc]


L2 = {"position_id": "L2"}


def test_clean_snapshot_has_no_rejects(load: Load) -> None:
    snap = load([LOAN, DEPOSIT, CASH])
    assert snap.rejects == []
    assert snap.counts["positions"] == {"read": 3, "rejected": 0, "used": 3}


def test_reject_record_names_file_row_column_value(load: Load) -> None:
    snap = load([LOAN, row(LOAN, **L2, principal_balance="1,000.00")])
    (reject,) = snap.rejects
    assert reject.file == "positions.csv"
    assert reject.row == 2
    assert reject.column == "principal_balance"
    assert reject.value == "1,000.00"
    assert reject.reason == "bad_number"
    assert reject.position_id == "L2"
    assert "'1,000.00'" in reject.message


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"maturity_date": "2034-02-30"}, ("maturity_date", "2034-02-30", "impossible_date")),
        ({"maturity_date": "15/03/2034"}, ("maturity_date", "15/03/2034", "bad_date")),
        ({"current_rate": "3.85%"}, ("current_rate", "3.85%", "bad_number")),
        ({"on_balance_sheet": "yes"}, ("on_balance_sheet", "yes", "bad_bool")),
        ({"instrument_type": "Loan"}, ("instrument_type", "Loan", "unknown_code")),
        ({"day_count": "ACT/360"}, ("day_count", "ACT/360", "unknown_code")),
        ({"currency": "rmb"}, ("currency", "rmb", "bad_currency")),
        ({"interest_payment_frequency": "monthly"}, ("interest_payment_frequency", "monthly", "bad_tenor")),
        ({"branch_id": ""}, ("branch_id", "", "missing_required")),
        ({"principal_balance": "-5"}, ("principal_balance", "-5", "negative_amount")),
        ({"as_of_date": "2026-06-29"}, ("as_of_date", "2026-06-29", "as_of_mismatch")),
        ({"current_rate": "3.85"}, ("current_rate", "3.85", "implausible_rate")),
        ({"current_rate": "-0.06"}, ("current_rate", "-0.06", "implausible_rate")),
        ({"side": "liability"}, ("side", "liability", "side_not_allowed")),
        ({"on_balance_sheet": "false"}, ("on_balance_sheet", "false", "on_balance_sheet_mismatch")),
        ({"overdue_principal": "1000000.01"}, ("overdue_principal", "1000000.01", "exceeds_principal_balance")),
        ({"undrawn_amount": "20", "limit_amount": "10"}, ("undrawn_amount", "20", "undrawn_exceeds_limit")),
        ({"origination_date": "2035-01-01"}, ("origination_date", "2035-01-01", "origination_after_maturity")),
        ({"maturity_date": ""}, ("maturity_date", "", "missing_conditional")),
        ({"maturity_date": "99991231"}, ("maturity_date", "99991231", "missing_conditional")),
        ({"origination_date": ""}, ("origination_date", "", "missing_conditional")),
        ({"counterparty_id": ""}, ("counterparty_id", "", "missing_conditional")),
        ({"current_rate": ""}, ("current_rate", "", "missing_conditional")),
        ({"day_count": ""}, ("day_count", "", "missing_conditional")),
        ({"interest_payment_frequency": ""}, ("interest_payment_frequency", "", "missing_conditional")),
        ({"principal_payment_frequency": ""}, ("principal_payment_frequency", "", "missing_conditional")),
        (
            {"next_interest_payment_date": "2026-06-30"},
            ("next_interest_payment_date", "2026-06-30", "date_not_after_as_of"),
        ),
        (
            {"next_principal_payment_date": "2034-04-15"},
            ("next_principal_payment_date", "2034-04-15", "date_after_maturity"),
        ),
        (
            {"last_interest_payment_date": "2026-07-01"},
            ("last_interest_payment_date", "2026-07-01", "date_after_as_of"),
        ),
        ({"maturity_date": "2026-06-29"}, ("maturity_date", "2026-06-29", "matured_not_overdue")),
        ({"pool_count": "0"}, ("pool_count", "0", "out_of_range")),
        ({"accrued_interest": "-1"}, ("accrued_interest", "-1", "negative_amount")),
        ({"call_type": "issuer"}, ("next_call_date", "", "missing_conditional")),
        ({"counterparty_id": "C9"}, ("counterparty_id", "C9", "unknown_counterparty")),
        ({"attributes": "{not json"}, ("attributes", "{not json", "bad_json")),
    ],
)
def test_each_bad_input_class(load: Load, changes: dict[str, str], expected: tuple[str, str, str]) -> None:
    assert only(load, row(LOAN, **L2, **changes)) == {expected}


def test_every_problem_of_a_row_is_listed(load: Load) -> None:
    bad = row(LOAN, **L2, currency="cny", current_rate="", book="Banking", origination_date="2040-01-01")
    found = only(load, bad)
    assert {reason for *_, reason in found} == {
        "bad_currency", "missing_conditional", "unknown_code", "origination_after_maturity",
    }  # fmt: skip
    snap = load([bad])
    assert len(snap.rejects) == 4
    assert snap.counts["positions"]["rejected"] == 1


def test_unparseable_cell_does_not_trigger_dependent_rules(load: Load) -> None:
    # a bad maturity is one problem, not also "missing maturity" or "origination after maturity"
    assert only(load, row(LOAN, **L2, maturity_date="2034-13-01")) == {
        ("maturity_date", "2034-13-01", "impossible_date")
    }


def test_matured_row_is_allowed_when_fully_overdue(load: Load) -> None:
    ok = row(LOAN, **L2, maturity_date="2026-06-01", overdue_principal="1000000.00",
             next_interest_payment_date="2026-06-01")  # fmt: skip
    assert only(load, ok) == set()


def test_non_maturity_rows_need_no_maturity(load: Load) -> None:
    demand = row(DEPOSIT, position_id="D2", instrument_type="deposit_demand", amortisation_type="non_maturity",
                 maturity_date="", origination_date="", interest_payment_frequency="3M")  # fmt: skip
    assert only(load, demand) == set()
    assert only(load, row(CASH, position_id="C2")) == set()


def test_side_rules_of_section_4_1(load: Load) -> None:
    equity = row(CASH, position_id="E0", instrument_type="equity_capital", side="asset")
    assert only(load, equity) == {("side", "asset", "side_not_allowed")}
    borrowed = row(DEPOSIT, position_id="I1", instrument_type="interbank_lending", side="liability")
    assert only(load, borrowed) == set()
    demand = row(DEPOSIT, position_id="D2", instrument_type="deposit_demand", side="asset",
                 amortisation_type="non_maturity")  # fmt: skip
    (reject,) = only(load, demand)
    assert reject == ("side", "asset", "side_not_allowed")


def test_side_message_lists_allowed_sides(load: Load) -> None:
    snap = load([row(LOAN, side="liability")])
    assert "allowed: asset" in snap.rejects[0].message


def test_floating_rows(load: Load) -> None:
    floating = {"rate_type": "floating", "rate_index": "CNY_LPR_5Y", "spread": "-0.002",
                "reset_frequency": "1Y", "next_reset_date": "2027-01-01"}  # fmt: skip
    assert only(load, row(LOAN, **L2, **floating)) == set()
    no_spread = row(LOAN, **L2, **{**floating, "spread": ""})
    assert only(load, no_spread) == {("spread", "", "missing_conditional")}
    bare = row(LOAN, **L2, rate_type="floating")
    assert {c for c, *_ in only(load, bare)} == {"rate_index", "spread", "reset_frequency", "next_reset_date"}


def test_hybrid_rows(load: Load) -> None:
    fixed_then_fixed = row(LOAN, **L2, rate_type="hybrid", reversion_rate="0.045", initial_rate_end_date="2029-03-15")
    assert only(load, fixed_then_fixed) == set()
    neither = row(LOAN, **L2, rate_type="hybrid")
    assert only(load, neither) == {("rate_index", "", "missing_conditional")}
    indexed = row(LOAN, **L2, rate_type="hybrid", rate_index="CNY_LPR_5Y")
    assert {c for c, *_ in only(load, indexed)} == {"spread", "reset_frequency", "next_reset_date"}


def test_duplicate_keys_reject_every_row_sharing_the_key(load: Load) -> None:
    snap = load([LOAN, row(LOAN, principal_balance="5"), DEPOSIT, row(LOAN, reporting_entity_id="E2")])
    assert problems(snap) == {(1, "position_id", "L1", "duplicate_key"), (2, "position_id", "L1", "duplicate_key")}
    assert snap.counts["positions"] == {"read": 4, "rejected": 2, "used": 2}


def test_counterparty_check_skipped_without_the_table(load: Load) -> None:
    snap = load([row(LOAN, counterparty_id="nobody")], counterparties=None)
    assert snap.rejects == []
    assert any("no counterparties table" in w for w in snap.warnings)
    assert snap.counterparties is None


def test_position_whose_counterparty_row_was_rejected(load: Load) -> None:
    snap = load([LOAN], counterparties=[row(COUNTERPARTY, counterparty_type="company")])
    assert problems(snap, "counterparties") == {(1, "counterparty_type", "company", "unknown_code")}
    (reject,) = [r for r in snap.rejects if r.table == "positions"]
    assert reject.reason == "unknown_counterparty"
    assert "rejected" in reject.message


def test_rate_index_foreign_key(load: Load) -> None:
    floating = row(LOAN, rate_type="floating", rate_index="CNY_LPR_5Y", spread="0", reset_frequency="1Y",
                   next_reset_date="2027-01-01")  # fmt: skip
    indices = [{"index_code": "CNY_LPR_1Y", "currency": "CNY", "family": "lpr", "tenor": "1Y"}]
    snap = load([floating], rate_indices=indices)
    assert problems(snap) == {(1, "rate_index", "CNY_LPR_5Y", "unknown_rate_index")}
    snap = load([floating], rate_indices=[{**indices[0], "index_code": "CNY_LPR_5Y"}])
    assert snap.rejects == []


def schedule_rows(pid: str, *amounts: str, flow_type: str = "principal") -> list[dict[str, str]]:
    return [
        {"as_of_date": "2026-06-30", "position_id": pid, "flow_date": f"{2027 + i}-01-15", "flow_type": flow_type,
         "amount": a}
        for i, a in enumerate(amounts)
    ]  # fmt: skip


def test_schedule_amortisation(load: Load) -> None:
    sched = row(LOAN, **L2, amortisation_type="schedule", principal_payment_frequency="")
    snap = load([LOAN, sched], cash_flow_schedule=schedule_rows("L2", "400000", "600000"))
    assert snap.rejects == []
    assert snap.counts["cash_flow_schedule"] == {"read": 2, "rejected": 0, "used": 2}
    snap = load([LOAN, sched], cash_flow_schedule=schedule_rows("L2", "400000", "500000"))
    assert problems(snap) == {(2, "amortisation_type", "schedule", "schedule_sum_mismatch")}
    assert "900000.00" in snap.rejects[0].message
    # its flows cannot be used either, and a flow of an unknown position is rejected
    assert problems(snap, "cash_flow_schedule") == {
        (1, "position_id", "L2", "position_rejected"),
        (2, "position_id", "L2", "position_rejected"),
    }
    snap = load([LOAN, sched])
    assert problems(snap) == {(2, "amortisation_type", "schedule", "missing_schedule")}
    snap = load([LOAN], cash_flow_schedule=schedule_rows("X9", "1"))
    assert problems(snap, "cash_flow_schedule") == {(1, "position_id", "X9", "unknown_position")}


def test_schedule_rows_in_the_past_are_rejected(load: Load) -> None:
    flows = schedule_rows("L1", "1")
    flows[0]["flow_date"] = "2026-06-30"
    snap = load([LOAN], cash_flow_schedule=flows)
    assert problems(snap, "cash_flow_schedule") == {(1, "flow_date", "2026-06-30", "date_not_after_as_of")}


def test_derivative_legs(load: Load) -> None:
    leg = row(LOAN, position_id="S1-PAY", instrument_type="derivative_leg", side="liability",
              on_balance_sheet="false", amortisation_type="bullet", principal_payment_frequency="T",
              interest_payment_frequency="3M", day_count="act_365f", deal_id="S1", derivative_type="irs",
              notional_exchange="none")  # fmt: skip
    receive = row(leg, position_id="S1-REC", side="asset", rate_type="floating", rate_index="CNY_FR007",
                  spread="0", reset_frequency="1W", next_reset_date="2026-07-07")  # fmt: skip
    assert problems(load([leg, receive])) == set()
    assert problems(load([leg])) == {(1, "deal_id", "S1", "incomplete_deal")}
    assert problems(load([row(leg, derivative_type="", deal_id="")])) == {
        (1, "derivative_type", "", "missing_conditional"),
        (1, "deal_id", "", "missing_conditional"),
    }
    cap = row(leg, derivative_type="cap")
    assert problems(load([cap])) == {(1, "strike", "", "missing_conditional")}


def test_product_subtype_outside_starter_list_is_a_warning(load: Load) -> None:
    snap = load([row(LOAN, product_subtype="green_loan"), row(DEPOSIT, product_subtype="large_cd")])
    assert snap.rejects == []
    assert any("1 row(s) use product_subtype" in w and "green_loan" in w for w in snap.warnings)


def test_report_only_conditions_are_counted_warnings(load: Load) -> None:
    bond = row(LOAN, position_id="B1", instrument_type="debt_security", amortisation_type="bullet",
               principal_payment_frequency="T", gl_account="")  # fmt: skip
    snap = load([bond])
    assert snap.rejects == []
    text = " | ".join(snap.warnings)
    assert "1 row(s) lack gl_account" in text
    assert "1 row(s) lack accounting_classification" in text


def test_companion_table_rejects(load: Load) -> None:
    curves = [
        {"as_of_date": "2026-06-30", "curve_id": "CNY_RFR", "currency": "CNY", "curve_type": "zero",
         "tenor": t, "value": v, "compounding": "continuous", "day_count": "act_365f"}
        for t, v in [("1M", "0.014"), ("1Y", "1.6"), ("1Y", "0.016"), ("T", "0.02")]
    ]  # fmt: skip
    fx = [
        {
            "as_of_date": "2026-06-30",
            "base_currency": "USD",
            "quote_currency": "CNY",
            "rate": "0",
            "rate_type": "closing",
        }
    ]
    snap = load([LOAN], curves=curves, fx_rates=fx)
    assert problems(snap, "curves") == {
        (2, "value", "1.6", "implausible_rate"),
        (2, "tenor", "1Y", "duplicate_key"),
        (3, "tenor", "1Y", "duplicate_key"),
        (4, "tenor", "T", "bad_tenor"),
    }
    assert snap.counts["curves"] == {"read": 4, "rejected": 3, "used": 1}
    assert problems(snap, "fx_rates") == {(1, "rate", "0", "out_of_range")}
    assert snap.curves is not None and snap.curves.num_rows == 1


def test_strict_mode_raises_on_first_reject(snapshot_dir: Callable[..., Any]) -> None:
    folder = snapshot_dir([LOAN, row(LOAN, **L2, current_rate="abc")])
    with pytest.raises(DataError, match="strict") as info:
        read_snapshot(folder, AS_OF, strict=True)
    assert (info.value.row, info.value.column, info.value.value) == (2, "current_rate", "abc")
    assert read_snapshot(folder, dt.date(2026, 6, 30)).counts["positions"]["rejected"] == 1


def test_every_reason_is_registered(load: Load) -> None:
    snap = load([row(LOAN, side="equity", currency="x", pool_count="0", maturity_date="2026-01-01")])
    assert {r.reason for r in snap.rejects} <= set(REASONS)
