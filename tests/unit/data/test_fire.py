"""Tests of the FIRE JSON loader (``openalm.data.fire``, positions.md section 6).

The example files read from ``../shared/data/fire-examples`` are the example records of the FIRE
financial regulatory data standard (``SuadeLabs/fire``, commit b81070d). Licence note of those
files (Apache License 2.0, the LICENSE file beside them):

    Licensed under the Apache License, Version 2.0 (the "License"); you may not use this file
    except in compliance with the License. You may obtain a copy of the License at
    http://www.apache.org/licenses/LICENSE-2.0. Unless required by applicable law or agreed to in
    writing, software distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the License for the
    specific language governing permissions and limitations under the License.

They are read in place, never copied into the package. Every other input here is a small FIRE
record written by the test, with values checked by hand against positions.md 2.3, 2.4, 2.5, 2.2
and 6.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from openalm.data.fire import FIRE_KINDS, FIRE_REASONS, FireResult, FireSettings, minor_unit_exponent, read_fire
from openalm.data.loaders import parse_arrow_table
from openalm.data.schema import TABLES
from openalm.data.validation import validate_tables
from openalm.errors import ConfigError, DataError
from openalm.i18n import label, labels


def _shared_folder() -> Path | None:
    """``/work/shared`` beside the repository (repo = parents[3] of this file), if present."""
    repo = Path(__file__).resolve().parents[3]
    for candidate in (repo.parent / "shared", repo / "shared"):
        if (candidate / "data" / "fire-examples").is_dir():
            return candidate
    return None


SHARED = _shared_folder()
EXAMPLES = SHARED / "data" / "fire-examples" if SHARED else None
needs_examples = pytest.mark.skipif(
    EXAMPLES is None, reason="../shared/data/fire-examples (the FIRE example records) is not beside the repository"
)

# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def write(tmp_path: Path, name: str = "batch.json", **kinds: list[dict[str, Any]]) -> Path:
    """A FIRE example-style batch file ``{"data": {kind: [records]}}``."""
    path = tmp_path / name
    path.write_text(json.dumps({"title": name, "comment": "test", "data": kinds}), encoding="utf-8")
    return path


def rows(result: FireResult, table: str = "positions") -> list[dict[str, Any]]:
    return result.tables[table].to_pylist() if table in result.tables else []


def one(result: FireResult, table: str = "positions") -> dict[str, Any]:
    out = rows(result, table)
    assert len(out) == 1, out
    return out[0]


def reasons(result: FireResult) -> set[str]:
    return {r.reason for r in result.rejects}


def warned(result: FireResult, text: str) -> int:
    """Number of records a counted warning containing ``text`` covers (0 if none)."""
    hits = [w for w in result.warnings if text in w]
    assert len(hits) <= 1, hits
    return int(hits[0].split(" record(s)")[0].removeprefix("fire: ")) if hits else 0


def validate(result: FireResult) -> Any:
    """Parse every table and apply the contract's row rules at the records' as-of date."""
    parsed = {
        name: parse_arrow_table(table, name, file=f"{name}.fire", source_row=result.source_rows[name])
        for name, table in result.tables.items()
    }
    as_of = result.as_of_dates[0] if result.as_of_dates else dt.date(2020, 1, 1)
    return validate_tables(parsed, as_of)


def loan(**fields: Any) -> dict[str, Any]:
    base = {
        "id": "L1",
        "date": "2024-06-30T00:00:00Z",
        "asset_liability": "asset",
        "currency_code": "USD",
        "balance": 100000,
        "customer_id": "C1",
        "start_date": "2020-06-30T00:00:00Z",
    }
    base.update(fields)
    return base


def customer(cid: str = "C1", kind: str = "corporate", country: str = "GB", **fields: Any) -> dict[str, Any]:
    return {"id": cid, "date": "2024-06-30T00:00:00Z", "type": kind, "country_code": country, **fields}


def security(**fields: Any) -> dict[str, Any]:
    base = {
        "id": "S1",
        "date": "2024-06-30T00:00:00Z",
        "asset_liability": "asset",
        "currency_code": "GBP",
        "type": "bond",
        "issuer_id": "ISS",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def derivative(**fields: Any) -> dict[str, Any]:
    base = {
        "id": "D1",
        "date": "2024-06-30T00:00:00Z",
        "asset_class": "ir",
        "type": "vanilla_swap",
        "currency_code": "EUR",
        "notional_amount": 1000000,
        "start_date": "2024-01-02T00:00:00",
        "end_date": "2029-01-02T00:00:00",
        "customer_id": "C1",
    }
    base.update(fields)
    return base


def check_counts(result: FireResult) -> None:
    c = result.counts
    assert c["read"] == c["mapped"] + c["rejected"] + c["skipped"]
    assert c["skipped"] == c["skipped_not_position"] + c["skipped_no_table"] + c["skipped_settled_flow"]
    assert c["rejected"] == len({(r.file, r.row) for r in result.rejects})
    assert c["skipped"] == len(result.skipped)


# --------------------------------------------------------------------------------------------
# amounts in minor units (positions.md 2.3)
# --------------------------------------------------------------------------------------------


def test_minor_unit_exponents_follow_iso_4217() -> None:
    assert [minor_unit_exponent(c) for c in ("CNY", "USD", "EUR", "GBP", "JPY", "KRW", "KWD", "BHD")] == [
        2,
        2,
        2,
        2,
        0,
        0,
        3,
        3,
    ]
    assert minor_unit_exponent("XAU") is None


@pytest.mark.parametrize(
    ("currency", "balance", "expected"),
    [("USD", 100000, 1000.00), ("JPY", 100000, 100000.0), ("KWD", 100000, 100.0), ("CNY", 12345, 123.45)],
)
def test_balances_are_divided_by_the_currency_exponent(
    tmp_path: Path, currency: str, balance: int, expected: float
) -> None:
    result = read_fire(write(tmp_path, loan=[loan(currency_code=currency, balance=balance, rate=4.0)]))
    row = one(result)
    assert row["currency"] == currency
    assert row["principal_balance"] == pytest.approx(expected, abs=1e-12)


def test_negative_balance_is_taken_absolute_and_counted(tmp_path: Path) -> None:
    result = read_fire(write(tmp_path, loan=[loan(balance=-250000), loan(id="L2", balance=50)]))
    assert [r["principal_balance"] for r in rows(result)] == [2500.0, 0.5]
    assert [r["side"] for r in rows(result)] == ["asset", "asset"]
    assert warned(result, "negative monetary amounts") == 1


def test_currency_without_minor_unit_is_rejected(tmp_path: Path) -> None:
    result = read_fire(write(tmp_path, loan=[loan(currency_code="XAU")]))
    assert rows(result) == []
    [reject] = result.rejects
    assert (reject.file, reject.row, reject.column, reject.value, reject.reason) == (
        "batch.json",
        1,
        "currency_code",
        "XAU",
        "fire_bad_currency",
    )


# --------------------------------------------------------------------------------------------
# rates (positions.md 2.4)
# --------------------------------------------------------------------------------------------


def test_percent_rate_and_basis_point_spread(tmp_path: Path) -> None:
    record = loan(rate=3.5, spread=150, rate_type="tracker", base_rate="euribor_3m", lifetime_rate_cap=8.0)
    row = one(read_fire(write(tmp_path, loan=[record])))
    assert row["current_rate"] == pytest.approx(0.035, abs=1e-15)
    assert row["spread"] == pytest.approx(0.015, abs=1e-15)
    assert row["rate_cap"] == pytest.approx(0.08, abs=1e-15)
    assert (row["rate_type"], row["rate_index"]) == ("floating", "EUR_EURIBOR_3M")


def test_auto_reads_a_source_of_small_rates_as_decimals_and_counts_it(tmp_path: Path) -> None:
    legs = [
        derivative(id="fix", deal_id="S", leg_type="fixed", position="long", rate=0.01),
        derivative(
            id="flt",
            deal_id="S",
            leg_type="floating",
            position="short",
            rate=0.0025,
            underlying_index="EURIBOR",
            underlying_index_tenor="3m",
        ),
    ]
    result = read_fire(write(tmp_path, derivative=legs))
    assert [r["current_rate"] for r in rows(result)] == [0.01, 0.0025]
    assert warned(result, "read as decimals") == 2


def test_auto_keeps_percent_when_the_source_has_percent_like_rates(tmp_path: Path) -> None:
    # one rate of 4.2 makes the file a percent source: 0.05 is then 0.05 % (0.0005)
    result = read_fire(write(tmp_path, loan=[loan(rate=4.2), loan(id="L2", rate=0.05)]))
    assert [r["current_rate"] for r in rows(result)] == pytest.approx([0.042, 0.0005], abs=1e-15)
    assert warned(result, "read as decimals") == 0


def test_rates_in_percent_counts_decimal_looking_values(tmp_path: Path) -> None:
    settings = FireSettings(rates_in="percent")
    result = read_fire(write(tmp_path, loan=[loan(rate=0.01)]), settings=settings)
    assert one(result)["current_rate"] == pytest.approx(0.0001, abs=1e-15)
    assert warned(result, "looks like a decimal already") == 1


def test_rates_in_decimal_keeps_values_and_validation_flags_percent(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        loan=[
            loan(
                rate=3.5,
                day_count_convention="act_360",
                repayment_type="interest_only",
                interest_repayment_frequency="quarterly",
                end_date="2026-06-30",
            )
        ],
        customer=[customer()],
    )
    result = read_fire(path, settings=FireSettings(rates_in="decimal"))
    assert one(result)["current_rate"] == 3.5
    assert {r.reason for r in validate(result).rejects} == {"implausible_rate"}


# --------------------------------------------------------------------------------------------
# dates (positions.md 2.5)
# --------------------------------------------------------------------------------------------


def test_date_times_are_truncated_to_their_written_date(tmp_path: Path) -> None:
    record = loan(
        date="2021-06-01T00:00:00+08:00",
        start_date="2020-01-31T23:59:59-05:00",
        end_date="2025-12-31 00:00:00",
        trade_date="2020-01-30",
    )
    row = one(read_fire(write(tmp_path, loan=[record])))
    assert row["as_of_date"] == dt.date(2021, 6, 1)
    assert row["origination_date"] == dt.date(2020, 1, 31)
    assert row["maturity_date"] == dt.date(2025, 12, 31)
    assert row["trade_date"] == dt.date(2020, 1, 30)


def test_unreadable_date_is_rejected_naming_the_field(tmp_path: Path) -> None:
    result = read_fire(write(tmp_path, loan=[loan(end_date="2021_07_31T00:00:00")]))
    [reject] = result.rejects
    assert (reject.column, reject.value, reject.reason, reject.position_id) == (
        "end_date",
        "2021_07_31T00:00:00",
        "fire_bad_date",
        "L1",
    )
    assert "YYYY-MM-DD" in reject.message


def test_as_of_mismatch_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, loan=[loan(), loan(id="L2", date="2024-05-31T00:00:00Z")])
    result = read_fire(path, as_of=dt.date(2024, 6, 30))
    assert [r["position_id"] for r in rows(result)] == ["L1"]
    assert [(r.row, r.reason) for r in result.rejects] == [(2, "fire_as_of_mismatch")]
    assert result.as_of_dates == (dt.date(2024, 6, 30),)


# --------------------------------------------------------------------------------------------
# sides, commitments, guarantees (positions.md 2.2)
# --------------------------------------------------------------------------------------------


def test_undrawn_committed_loan_is_resided_to_asset(tmp_path: Path) -> None:
    record = loan(
        asset_liability="liability", on_balance_sheet=False, status="committed", balance=100000, type="personal"
    )
    result = read_fire(write(tmp_path, loan=[record], customer=[customer(kind="natural_person")]))
    row = one(result)
    assert (row["instrument_type"], row["side"], row["on_balance_sheet"]) == ("loan_commitment", "asset", False)
    assert (row["undrawn_amount"], row["principal_balance"]) == (1000.0, 1000.0)
    assert json.loads(row["attributes"])["asset_liability"] == "liability"
    assert warned(result, "re-sided to asset") == 1
    assert validate(result).rejects == []


def test_commitment_side_kept_when_the_source_means_received(tmp_path: Path) -> None:
    record = loan(asset_liability="liability", on_balance_sheet=False, status="committed")
    settings = FireSettings(undrawn_liability_is_granted=False)
    row = one(read_fire(write(tmp_path, loan=[record]), settings=settings))
    assert (row["instrument_type"], row["side"]) == ("loan_commitment", "liability")


def test_guarantee_issued_is_resided_and_guarantee_received_rejected(tmp_path: Path) -> None:
    issued = security(
        id="G1",
        type="financial_guarantee",
        asset_liability="liability",
        on_balance_sheet=False,
        balance=100000,
        customer_id="C1",
    )
    received = security(id="G2", type="financial_guarantee", asset_liability="asset", balance=5)
    result = read_fire(write(tmp_path, security=[issued, received]))
    row = one(result)
    assert (row["position_id"], row["instrument_type"], row["side"], row["product_subtype"]) == (
        "G1",
        "guarantee",
        "asset",
        "financial_guarantee",
    )
    assert (row["counterparty_id"], row["principal_balance"], row["on_balance_sheet"]) == ("C1", 1000.0, False)
    assert [(r.row, r.column, r.reason) for r in result.rejects] == [(2, "asset_liability", "fire_unsupported")]


def test_pnl_and_oci_accounts_are_skipped_not_dropped(tmp_path: Path) -> None:
    records = [
        {"id": "P1", "date": "2024-06-30", "currency_code": "GBP", "balance": 5, "asset_liability": "pnl"},
        {"id": "P2", "date": "2024-06-30", "currency_code": "GBP", "balance": 5, "asset_liability": "oci"},
    ]
    result = read_fire(write(tmp_path, account=records))
    assert rows(result) == []
    assert [(s.row, s.reason, s.position_id) for s in result.skipped] == [
        (1, "fire_not_position", "P1"),
        (2, "fire_not_position", "P2"),
    ]
    assert result.counts["skipped_not_position"] == 2
    check_counts(result)


# --------------------------------------------------------------------------------------------
# securities and repos (positions.md 6.4)
# --------------------------------------------------------------------------------------------


def test_security_principal_is_balance_minus_accrued_interest(tmp_path: Path) -> None:
    record = security(
        balance=1025000,
        accrued_interest=25000,
        mtm_dirty=1030000,
        isin_code="GB00BK5CVX03",
        maturity_date="2030-01-01T00:00:00Z",
        rate=4.0,
        day_count_convention="act_act",
        hqla_class="iia_non_op",
    )
    result = read_fire(write(tmp_path, security=[record], issuer=[customer("ISS", "central_govt")]))
    row = one(result)
    assert (row["principal_balance"], row["accrued_interest"], row["fair_value"]) == (10000.0, 250.0, 10300.0)
    assert (row["instrument_type"], row["product_subtype"], row["counterparty_id"]) == (
        "debt_security",
        "government_bond",
        "ISS",
    )
    assert (row["security_id"], row["maturity_date"]) == ("GB00BK5CVX03", dt.date(2030, 1, 1))
    assert row["day_count"] == "act_act_icma"  # securities default of the ambiguous act_act
    assert (row["hqla_level_override"], row["hqla_operational_ok"]) == ("level_2a", False)
    assert warned(result, "ambiguous day_count_convention 'act_act'") == 1


def test_issued_security_fair_value_is_negative(tmp_path: Path) -> None:
    record = security(asset_liability="liability", balance=500000, mtm_dirty=510000, issuer_id="ME")
    row = one(read_fire(write(tmp_path, security=[record])))
    assert (row["instrument_type"], row["side"], row["fair_value"]) == ("debt_security", "liability", -5100.0)
    assert row.get("counterparty_id") is None


def test_balance_below_accrued_interest_is_rejected(tmp_path: Path) -> None:
    result = read_fire(write(tmp_path, security=[security(balance=100, accrued_interest=200)]))
    assert [(r.column, r.reason) for r in result.rejects] == [("balance", "fire_negative_principal")]


def _repo_legs(**cash_fields: Any) -> list[dict[str, Any]]:
    common = {
        "date": "2021-06-15T00:00:00",
        "currency_code": "GBP",
        "sft_type": "repo",
        "type": "bond",
        "start_date": "2021-06-01T00:00:00Z",
        "end_date": "2021-07-01T00:00:00Z",
        "deal_id": "R1",
    }
    cash = {
        **common,
        "id": "cash",
        "movement": "cash",
        "asset_liability": "liability",
        "balance": 1500000,
        "customer_id": "BANK1",
        "rate": 2.0,
    }
    cash.update(cash_fields)
    asset = {
        **common,
        "id": "asset",
        "movement": "asset",
        "asset_liability": "asset",
        "mtm_dirty": -1400000,
        "isin_code": "GB00B24FF097",
        "hqla_class": "i",
        "rehypothecation": True,
    }
    return [cash, asset]


def test_repo_legs_are_paired_into_one_row_with_collateral(tmp_path: Path) -> None:
    result = read_fire(write(tmp_path, security=_repo_legs()))
    row = one(result)
    assert (row["position_id"], row["instrument_type"], row["side"], row["deal_id"]) == (
        "cash",
        "repo",
        "liability",
        "R1",
    )
    assert (row["principal_balance"], row["current_rate"], row["rate_type"]) == (15000.0, 0.02, "fixed")
    assert (row["collateral_security_id"], row["collateral_market_value"], row["collateral_currency"]) == (
        "GB00B24FF097",
        14000.0,
        "GBP",
    )
    assert (row["collateral_hqla_level"], row["collateral_rehypothecable"]) == ("level_1", True)
    assert (row["maturity_date"], row["amortisation_type"], row["interest_payment_frequency"]) == (
        dt.date(2021, 7, 1),
        "bullet",
        "T",
    )
    assert json.loads(row["attributes"])["fire_asset_leg_id"] == "asset"
    assert result.counts == {
        "read": 2,
        "mapped": 2,
        "rejected": 0,
        "skipped": 0,
        "skipped_not_position": 0,
        "skipped_no_table": 0,
        "skipped_settled_flow": 0,
    }
    assert list(result.source_rows["positions"]) == [1]


def test_repo_legs_without_deal_id_pair_by_the_id_rule(tmp_path: Path) -> None:
    legs = _repo_legs()
    for leg in legs:
        del leg["deal_id"]
    legs[0]["id"], legs[1]["id"] = "R7_cash_leg", "R7_asset_leg"
    legs[1]["sft_type"] = legs[0]["sft_type"] = "rev_repo"
    legs[0]["asset_liability"] = "asset"
    row = one(read_fire(write(tmp_path, security=legs)))
    assert (row["position_id"], row["instrument_type"], row["side"], row["collateral_market_value"]) == (
        "R7_cash_leg",
        "reverse_repo",
        "asset",
        14000.0,
    )


def test_unpaired_asset_leg_is_rejected_and_lone_cash_leg_kept(tmp_path: Path) -> None:
    cash, asset = _repo_legs()
    asset["deal_id"] = "OTHER"
    result = read_fire(write(tmp_path, security=[cash, asset]))
    row = one(result)
    assert row["position_id"] == "cash"
    assert row.get("collateral_market_value") is None
    assert [(r.row, r.column, r.reason) for r in result.rejects] == [(2, "deal_id", "fire_repo_unpaired")]
    assert warned(result, "without asset leg") == 1


def test_pledged_holding_without_encumbrance_is_warned_not_derived(tmp_path: Path) -> None:
    holding = security(id="H", balance=2000000, isin_code="GB00B24FF097", maturity_date="2030-01-01")
    result = read_fire(write(tmp_path, security=[holding, *_repo_legs()]))
    held = next(r for r in rows(result) if r["position_id"] == "H")
    assert held.get("encumbered_amount") is None
    assert warned(result, "is pledged in repo 'cash'") == 1


# --------------------------------------------------------------------------------------------
# derivatives (positions.md 6.5)
# --------------------------------------------------------------------------------------------


def test_fx_swap_legs_get_side_from_position(tmp_path: Path) -> None:
    legs = [
        derivative(
            id="S:aud",
            deal_id="S",
            asset_class="fx",
            type="vanilla_swap",
            leg_type="fixed",
            position="short",
            currency_code="AUD",
            notional_amount=1000000,
            mtm_dirty=-200,
        ),
        derivative(
            id="S:usd",
            deal_id="S",
            asset_class="fx",
            type="vanilla_swap",
            leg_type="fixed",
            position="long",
            currency_code="USD",
            notional_amount=1027500,
        ),
    ]
    result = read_fire(write(tmp_path, derivative=legs, customer=[customer()]))
    got = [
        (
            r["position_id"],
            r["side"],
            r["derivative_type"],
            r["notional_exchange"],
            r["principal_balance"],
            r["instrument_type"],
            r["on_balance_sheet"],
            r["rate_type"],
        )
        for r in rows(result)
    ]
    assert got == [
        (
            "S:aud",
            "liability",
            "fx_swap",
            "initial_and_final",
            10000.0,
            "derivative_leg",
            False,
            "non_interest_bearing",
        ),
        ("S:usd", "asset", "fx_swap", "initial_and_final", 10275.0, "derivative_leg", False, "non_interest_bearing"),
    ]
    assert [r.get("fair_value") for r in rows(result)] == [-2.0, None]
    assert validate(result).rejects == []


def test_irs_legs_map_to_derivative_legs(tmp_path: Path) -> None:
    legs = [
        derivative(id="fix", deal_id="S", leg_type="fixed", position="short", rate=3.1),
        derivative(
            id="flt",
            deal_id="S",
            leg_type="floating",
            position="long",
            rate=3.6,
            spread=25,
            underlying_index="EURIBOR",
            underlying_index_tenor="6m",
            next_reset_date="2024-07-02",
        ),
    ]
    settings = FireSettings(
        product_defaults={"derivative": {"day_count": "act_360"}, "derivative:vanilla_swap": {}},
    )
    path = write(tmp_path, derivative=legs, customer=[customer(kind="credit_institution")])
    result = read_fire(path, settings=settings)
    fixed, floating = rows(result)
    assert (fixed["side"], fixed["rate_type"], fixed["current_rate"], fixed["derivative_type"]) == (
        "liability",
        "fixed",
        pytest.approx(0.031),
        "irs",
    )
    assert (floating["side"], floating["rate_type"], floating["rate_index"], floating["spread"]) == (
        "asset",
        "floating",
        "EUR_EURIBOR_6M",
        pytest.approx(0.0025),
    )
    assert (floating["reset_frequency"], floating["interest_payment_frequency"]) == ("6M", "6M")
    assert (fixed["notional_exchange"], fixed["day_count"], fixed["principal_balance"]) == ("none", "act_360", 10000.0)
    assert warned(result, "day_count = 'act_360' from FireSettings.product_defaults['derivative']") == 2
    # the fixed leg has no payment frequency in FIRE: validation names what is missing
    found = {(r.position_id, r.column, r.reason) for r in validate(result).rejects}
    assert found == {("fix", "interest_payment_frequency", "missing_conditional")}


@pytest.mark.parametrize(
    ("asset_class", "fire_type"),
    [("cr_single", "cds"), ("eq", "vanilla_swap"), ("metals", "option"), ("fx", "future"), ("ir", "variance_swap")],
)
def test_unsupported_derivatives_are_rejected_with_a_reason(tmp_path: Path, asset_class: str, fire_type: str) -> None:
    result = read_fire(
        write(tmp_path, derivative=[derivative(asset_class=asset_class, type=fire_type, position="long")])
    )
    [reject] = result.rejects
    assert (reject.column, reject.value, reject.reason) == ("type", fire_type, "fire_unsupported")
    assert "interest-rate and FX derivatives" in reject.message


def test_derivative_cash_flows_become_schedule_rows(tmp_path: Path) -> None:
    leg = derivative(
        id="L",
        deal_id="X",
        asset_class="fx",
        type="xccy",
        leg_type="fixed",
        position="long",
        rate=1.0,
        currency_code="AUD",
    )
    flows = [
        {
            "id": "f1",
            "date": "2024-06-30",
            "derivative_id": "L",
            "currency_code": "AUD",
            "payment_date": "2024-01-02",
            "balance": -1000000,
            "purpose": "principal",
        },
        {
            "id": "f2",
            "date": "2024-06-30",
            "derivative_id": "L",
            "currency_code": "AUD",
            "payment_date": "2029-01-02",
            "balance": 1000000,
            "purpose": "principal",
        },
        {
            "id": "f3",
            "date": "2024-06-30",
            "derivative_id": "L",
            "currency_code": "AUD",
            "payment_date": "2025-01-02",
            "balance": 10000,
            "purpose": "interest",
            "forward_rate": 1.0,
        },
        {
            "id": "f4",
            "date": "2024-06-30",
            "derivative_id": "L",
            "currency_code": "AUD",
            "payment_date": "2026-01-02",
            "balance": -10000,
            "purpose": "interest",
        },
        {
            "id": "f5",
            "date": "2024-06-30",
            "derivative_id": "nope",
            "currency_code": "AUD",
            "payment_date": "2026-01-02",
            "balance": 5,
            "purpose": "interest",
        },
    ]
    result = read_fire(write(tmp_path, derivative=[leg], derivative_cash_flow=flows))
    got = [(r["flow_date"], r["flow_type"], r["amount"], r["period_rate"]) for r in rows(result, "cash_flow_schedule")]
    assert got == [
        (dt.date(2029, 1, 2), "notional_exchange", 10000.0, None),
        (dt.date(2025, 1, 2), "interest", 100.0, 0.01),
    ]
    assert [(s.row, s.reason) for s in result.skipped] == [(2, "fire_settled_flow")]
    assert sorted((r.row, r.reason) for r in result.rejects) == [(5, "fire_flow_direction"), (6, "fire_parent_missing")]
    check_counts(result)


# --------------------------------------------------------------------------------------------
# loans, accounts, counterparties
# --------------------------------------------------------------------------------------------


def test_loan_terms(tmp_path: Path) -> None:
    record = loan(
        rate=4.35,
        rate_type="fixed",
        repayment_type="fixed",
        repayment_frequency="monthly",
        day_count_convention="std_30_360",
        end_date="2030-06-30",
        start_date="2020-06-30",
        next_payment_date="2024-07-31",
        arrears_balance=500,
        first_arrears_date="2024-06-20",
        impairment_status="stage_2_watch",
        notional_amount=200000,
        type="mortgage",
        regulatory_book="banking_book",
        accounting_treatment="amortised_cost",
    )
    result = read_fire(write(tmp_path, loan=[record], customer=[customer(kind="natural_person")]))
    row = one(result)
    assert (row["instrument_type"], row["product_subtype"], row["amortisation_type"]) == (
        "loan",
        "mortgage_residential",
        "linear",
    )
    assert (row["principal_payment_frequency"], row["interest_payment_frequency"], row["day_count"]) == (
        "1M",
        "1M",
        "30_360_us",
    )
    assert (row["next_interest_payment_date"], row["next_principal_payment_date"]) == (dt.date(2024, 7, 31),) * 2
    assert (row["overdue_principal"], row["days_past_due"], row["original_amount"]) == (5.0, 10, 2000.0)
    assert (row["asset_quality_class"], row["ifrs9_stage"]) == ("special_mention", 2)
    assert (row["book"], row["accounting_classification"]) == ("banking", "amortised_cost")
    assert validate(result).rejects == []


def test_loan_balance_includes_accrued_setting(tmp_path: Path) -> None:
    path = write(tmp_path, loan=[loan(balance=100000, accrued_interest_balance=2500)])
    assert one(read_fire(path))["principal_balance"] == 1000.0
    settings = FireSettings(loan_balance_includes_accrued=True)
    row = one(read_fire(path, settings=settings))
    assert (row["principal_balance"], row["accrued_interest"]) == (975.0, 25.0)


def test_rate_absent_setting(tmp_path: Path) -> None:
    cash = security(id="CASH", type="cash", balance=500, issuer_id=None)
    path = write(tmp_path, loan=[loan()], security=[cash])
    default = read_fire(path)
    assert [r["rate_type"] for r in rows(default)] == ["non_interest_bearing", "non_interest_bearing"]
    assert warned(default, "rate_type = non_interest_bearing") == 1  # the loan; cash without rate is normal
    strict = read_fire(path, settings=FireSettings(rate_absent="reject"))
    assert [r["position_id"] for r in rows(strict)] == ["CASH"]
    assert [(r.position_id, r.column, r.reason) for r in strict.rejects] == [("L1", "rate", "fire_rate_absent")]


def test_loan_with_other_repayment_and_cash_flows_is_a_schedule(tmp_path: Path) -> None:
    def flow(fid: str, day: str, amount: int, kind: str = "principal") -> dict[str, Any]:
        return {
            "id": fid,
            "date": "2024-06-30",
            "loan_id": "L1",
            "currency_code": "USD",
            "payment_date": day,
            "amount": amount,
            "type": kind,
        }

    record = loan(
        rate=5.0,
        rate_type="fixed",
        repayment_type="other",
        end_date="2025-06-30",
        day_count_convention="act_365",
        interest_repayment_frequency="semi_annually",
    )
    flows = [
        flow("p0", "2024-03-31", 10000),
        flow("p1", "2024-12-31", 60000),
        flow("p2", "2025-06-30", 40000),
        flow("i1", "2024-12-31", 2500, "interest"),
    ]
    result = read_fire(write(tmp_path, loan=[record], loan_cash_flow=flows, customer=[customer()]))
    assert one(result)["amortisation_type"] == "schedule"
    got = [(r["flow_date"], r["flow_type"], r["amount"]) for r in rows(result, "cash_flow_schedule")]
    assert got == [
        (dt.date(2024, 12, 31), "principal", 600.0),
        (dt.date(2025, 6, 30), "principal", 400.0),
        (dt.date(2024, 12, 31), "interest", 25.0),
    ]
    assert [(s.position_id, s.reason) for s in result.skipped] == [("p0", "fire_settled_flow")]
    assert validate(result).rejects == []  # 600 + 400 = the balance 1000.00
    short = read_fire(write(tmp_path, "b2.json", loan=[record], loan_cash_flow=flows[:2], customer=[customer()]))
    # 600 alone does not make the balance: the loan is rejected, and with it its flows
    assert {(r.table, r.reason) for r in validate(short).rejects} == {
        ("positions", "schedule_sum_mismatch"),
        ("cash_flow_schedule", "position_rejected"),
    }
    no_flows = read_fire(write(tmp_path, "b3.json", loan=[record], customer=[customer()]))
    assert one(no_flows)["amortisation_type"] == "bullet"
    assert warned(no_flows, "without loan_cash_flow records: bullet") == 1


def test_unmapped_floating_index_is_rejected_until_configured(tmp_path: Path) -> None:
    path = write(tmp_path, loan=[loan(rate=3.45, rate_type="tracker", base_rate="pboc")])
    result = read_fire(path)
    assert [(r.column, r.value, r.reason) for r in result.rejects] == [("base_rate", "pboc", "fire_unmapped_index")]
    settings = FireSettings(index_map={"pboc": "CNY_PBOC_LOAN_BM_1Y"})
    assert one(read_fire(path, settings=settings))["rate_index"] == "CNY_PBOC_LOAN_BM_1Y"


def test_accounts_map_to_deposits(tmp_path: Path) -> None:
    base = {"date": "2024-06-30", "currency_code": "GBP", "asset_liability": "liability", "balance": 30000}
    records = [
        {
            **base,
            "id": "A1",
            "type": "current",
            "customer_id": "C1",
            "status": "transactional",
            "guarantee_amount": 8500,
        },
        {
            **base,
            "id": "A2",
            "type": "time_deposit",
            "customer_id": "C1",
            "end_date": "2025-06-30",
            "next_withdrawal_date": "2024-12-31",
        },
        {**base, "id": "A3", "type": "savings", "customer_id": "BANK", "purpose": "operational"},
        {**base, "id": "A4", "type": "current", "customer_id": "C1", "asset_liability": "asset", "balance": -1000},
        {**base, "id": "A5", "type": "reserve", "asset_liability": "equity"},
    ]
    entities = [customer("C1", "natural_person"), customer("BANK", "credit_institution")]
    result = read_fire(write(tmp_path, account=records, customer=entities))
    got = {r["position_id"]: (r["instrument_type"], r["side"], r["amortisation_type"]) for r in rows(result)}
    assert got == {
        "A1": ("deposit_demand", "liability", "non_maturity"),
        "A2": ("deposit_term", "liability", "bullet"),
        "A3": ("interbank_deposit", "liability", "non_maturity"),
        "A4": ("revolving_credit", "asset", "non_maturity"),
        "A5": ("equity_capital", "equity", "non_maturity"),
    }
    by_id = {r["position_id"]: r for r in rows(result)}
    assert (by_id["A1"]["is_transactional"], by_id["A1"]["insured_amount"]) == (True, 85.0)
    assert (by_id["A2"]["early_withdrawal_allowed"], by_id["A2"]["next_withdrawal_date"]) == (
        True,
        dt.date(2024, 12, 31),
    )
    assert by_id["A3"]["is_operational"] is True
    assert (by_id["A4"]["product_subtype"], by_id["A4"]["principal_balance"]) == ("overdraft", 10.0)


def test_notice_candidate_uses_the_product_mapping(tmp_path: Path) -> None:
    record = {
        "id": "N",
        "date": "2024-06-30",
        "currency_code": "GBP",
        "asset_liability": "liability",
        "balance": 100,
        "type": "savings",
        "customer_id": "C1",
        "next_withdrawal_date": "2024-07-30",
    }
    path = write(tmp_path, account=[record])
    plain = read_fire(path)
    assert one(plain)["instrument_type"] == "deposit_demand"
    assert warned(plain, "notice candidate") == 1
    settings = FireSettings(product_defaults={"account:savings": {"notice_period_days": 30}})
    row = one(read_fire(path, settings=settings))
    assert (row["instrument_type"], row["notice_period_days"]) == ("deposit_notice", 30)


@pytest.mark.parametrize(
    ("fire_type", "expected", "size"),
    [
        ("natural_person", "retail_individual", None),
        ("credit_institution", "bank", None),
        ("qccp", "fmu", None),
        ("central_govt", "sovereign", None),
        ("regional_govt", "sub_sovereign", None),
        ("investment_firm", "securities_firm", None),
        ("mmkt_fund", "investment_fund", None),
        ("sspe", "spv", None),
        ("small_sme", "non_financial_corporate", "small"),
        ("pic", "other", None),
    ],
)
def test_customer_types_map_to_counterparty_types(
    tmp_path: Path, fire_type: str, expected: str, size: str | None
) -> None:
    record = customer("X", fire_type, "US-NY", lei_code="5493001KJTIIGC8Y1R12", snp_lt="a_plus", cqs_standardised=2)
    row = one(read_fire(write(tmp_path, customer=[record])), "counterparties")
    assert (row["counterparty_type"], row.get("enterprise_size")) == (expected, size)
    assert (row["country_of_residence"], row["lei"], row["external_rating"], row["rating_agency"]) == (
        "US",
        "5493001KJTIIGC8Y1R12",
        "a_plus",
        "snp",
    )
    assert row["credit_quality_step"] == 2
    if fire_type == "qccp":
        assert (row["is_qualifying_ccp"], row["fi_subtype"]) == (True, "ccp")


def test_identical_counterparties_are_merged_and_counted(tmp_path: Path) -> None:
    path = write(tmp_path, customer=[customer("C1")], issuer=[customer("C1")])
    result = read_fire(path)
    assert len(rows(result, "counterparties")) == 1
    assert any("1 identical counterparty record(s)" in w for w in result.warnings)


def test_curves_and_exchange_rates(tmp_path: Path) -> None:
    curve = {
        "id": "GBP_OIS",
        "date": "2024-06-30",
        "currency_code": "GBP",
        "type": "rate",
        "values": [{"reference": "o_n", "value": 5.2}, {"reference": "36m", "value": 4.1}],
    }
    fx = {
        "id": "GBPUSD",
        "date": "2024-06-30",
        "base_currency_code": "GBP",
        "quote_currency_code": "USD",
        "quote": 1.2645,
    }
    result = read_fire(write(tmp_path, curve=[curve], exchange_rate=[fx]))
    assert [(r["tenor"], r["value"], r["curve_type"]) for r in rows(result, "curves")] == [
        ("ON", pytest.approx(0.052), "zero"),
        ("3Y", pytest.approx(0.041), "zero"),
    ]
    fx_row = one(result, "fx_rates")
    assert (fx_row["base_currency"], fx_row["quote_currency"], fx_row["rate"], fx_row["rate_type"]) == (
        "GBP",
        "USD",
        1.2645,
        "closing",
    )
    assert validate(result).rejects == []


# --------------------------------------------------------------------------------------------
# schema validation, layouts, settings, shipped files
# --------------------------------------------------------------------------------------------


def test_schema_failures_are_rejected_with_the_json_path(tmp_path: Path) -> None:
    result = read_fire(write(tmp_path, loan=[loan(balance="1000", currency_code="XYZ")]))
    found = [(r.column, r.value, r.reason) for r in result.rejects]
    assert found == [("balance", "1000", "fire_schema"), ("currency_code", "XYZ", "fire_schema")]
    assert "data.loan[0]/balance" in result.rejects[0].message
    assert "is not one of the" in result.rejects[1].message
    # without schema validation the loader still refuses a text amount
    loose = read_fire(write(tmp_path, "b2.json", loan=[loan(balance="1000")]), validate_schema=False)
    assert [(r.column, r.reason) for r in loose.rejects] == [("balance", "fire_bad_value")]


def test_unknown_batch_key_is_rejected(tmp_path: Path) -> None:
    result = read_fire(write(tmp_path, loanz=[loan()]))
    assert [(r.column, r.value, r.reason) for r in result.rejects] == [("data", "loanz", "fire_unknown_kind")]
    check_counts(result)


def test_file_layouts_and_folder_lineage(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "loans.json").write_text(json.dumps([loan(id="A"), loan(id="B")]))
    (folder / "security_2024.json").write_text(json.dumps({"name": "b1", "data": [security(balance=100)]}))
    (folder / "customer.json").write_text(json.dumps(customer("C1")))
    (folder / "notes.txt").write_text("ignored: not JSON")
    result = read_fire(folder)
    assert [r["position_id"] for r in rows(result)] == ["A", "B", "S1"]
    assert result.source_files["positions"] == ("loans.json", "loans.json", "security_2024.json")
    assert list(result.source_rows["positions"]) == [1, 2, 1]
    assert result.source_files["counterparties"] == ("customer.json",)
    (folder / "mystery.json").write_text(json.dumps([loan()]))
    with pytest.raises(DataError, match="record kind cannot be told"):
        read_fire(folder)
    assert [
        r["position_id"] for r in rows(read_fire(folder / "mystery.json", settings=FireSettings(record_kind="loan")))
    ] == ["L1"]


def test_unreadable_files_raise(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        read_fire(tmp_path / "bad.json")
    with pytest.raises(DataError, match="does not exist"):
        read_fire(tmp_path / "missing.json")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=r"holds no \.json file"):
        read_fire(empty)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rates_in": "basis_points"},
        {"day_count_defaults": {"act_act": "actual"}},
        {"product_defaults": {"loan": {"no_such_column": 1}}},
        {"product_defaults": {"loan": {"notice_period_days": "thirty"}}},
        {"product_defaults": {"loan": {"day_count": "act_999"}}},
        {"repo_leg_id_pattern": "(no group)"},
        {"security_type_map": {"trups": "bond"}},
        {"record_kind": "loans"},
    ],
)
def test_invalid_settings_raise_config_error(kwargs: Mapping[str, Any]) -> None:
    with pytest.raises(ConfigError):
        FireSettings(**kwargs)


def test_schemas_ship_with_the_package_and_resolve_offline() -> None:
    folder = resources.files("openalm.rules").joinpath("fire_schemas")
    names = {p.name for p in folder.iterdir()}
    assert {f"{k}.json" for k in FIRE_KINDS} | {"common.json", "LICENSE"} <= names
    assert "Apache License" in folder.joinpath("LICENSE").read_text(encoding="utf-8")
    refs = set()
    for name in names - {"LICENSE", "README.md"}:
        text = folder.joinpath(name).read_text(encoding="utf-8")
        refs |= {part.split('"')[0] for part in text.split('"$ref": "')[1:]}
    base = "https://raw.githubusercontent.com/SuadeLabs/fire/master/schemas/"
    # every $ref points into the shipped folder (the validator registry maps these URLs to it)
    assert all(ref.startswith(base) and ref[len(base) :].split("#")[0] in names for ref in refs)


def test_reason_codes_have_bilingual_labels() -> None:
    catalogue = labels()
    for code in FIRE_REASONS:
        key = f"fire.reason.{code}"
        assert key in catalogue
        assert label(key, "zh") and label(key, "en")


def test_every_output_table_is_in_the_contract(tmp_path: Path) -> None:
    result = read_fire(write(tmp_path, loan=[loan()], customer=[customer()]))
    for name, table in result.tables.items():
        assert isinstance(table, pa.Table)
        assert set(table.column_names) <= set(TABLES[name].names)
        for column in table.column_names:
            assert table.schema.field(column).type == TABLES[name].column(column).arrow_type


# --------------------------------------------------------------------------------------------
# every FIRE example: expected outcome
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """Outcome of one example file: read_fire counts and reasons, then validation of its rows."""

    mapped: int
    rejected: int = 0
    skipped: int = 0
    fire_reasons: frozenset[str] = frozenset()
    skip_reasons: frozenset[str] = frozenset()
    used: Mapping[str, frozenset[str]] = field(default_factory=dict)  # table -> ids passing validation
    invalid: frozenset[str] = frozenset()  # validation reasons (stated data gaps of the example)


def _e(
    mapped: int,
    rejected: int = 0,
    skipped: int = 0,
    *,
    fire: str = "",
    skip: str = "",
    positions: str = "",
    counterparties: str = "",
    schedule: str = "",
    invalid: str = "",
) -> Expect:
    used = {
        name: frozenset(ids.split("|"))
        for name, ids in (
            ("positions", positions),
            ("counterparties", counterparties),
            ("cash_flow_schedule", schedule),
        )
        if ids
    }
    return Expect(
        mapped, rejected, skipped, frozenset(fire.split()), frozenset(skip.split()), used, frozenset(invalid.split())
    )


NO_CPTY = "missing_conditional"  # counterparty_id / day_count / frequency gaps of the examples
EXPECTED: dict[str, Expect] = {
    # loads cleanly
    "bank_guarantee_issued.json": _e(1, positions="bank_guarantee"),
    "cash_on_hand.json": _e(1, positions="cash_on_hand"),
    "cash_payable.json": _e(1, positions="cash_payable"),
    "cash_receivable.json": _e(1, positions="cash_receivable"),
    "cet_1_capital.json": _e(1, positions="Core Equity Tier one capital"),
    "collateral_independent_amount_bond_received.json": _e(
        2, 0, 2, skip="fire_no_table", counterparties="Asian Development Bank|corporate"
    ),
    "collateral_initial_margin_bond_posted.json": _e(
        3, 0, 2, skip="fire_no_table", positions="im_posted_bond", counterparties="French Republic|credit_insitution"
    ),
    "collateral_variation_margin_cash_posted.json": _e(
        2, 0, 2, skip="fire_no_table", positions="vm_cash_posted", counterparties="qccp"
    ),
    "collateral_variation_margin_cash_received.json": _e(
        2, 0, 2, skip="fire_no_table", positions="vm_cash_received", counterparties="qccp"
    ),
    "current_account.json": _e(1, positions="current_account"),
    "current_account_with_guarantee.json": _e(1, positions="current_account_with_guarantee"),
    "dividend_from_equity.json": _e(1, positions="dividend_from_equity"),
    "outright_debt_security.json": _e(2, positions="outright_debt_security", counterparties="debt_security_issuer"),
    "savings_account.json": _e(1, positions="savings_account"),
    "savings_account_with_30days_notice.json": _e(1, positions="savings_account_with_30days_notice"),
    "time_deposit_1year.json": _e(1, positions="time_deposit_1year"),
    "time_deposit_1year_with_6_month_withdrawal_option.json": _e(
        1, positions="time_deposit_1year_with_6_month_withdrawal_option"
    ),
    "undrawn_committed_loan.json": _e(2, positions="undrawn_committed_loan", counterparties="undrawn_loan_customer"),
    "encumbrance_set.json": _e(
        8,
        2,
        2,
        fire="fire_repo_unpaired fire_missing_field",
        skip="fire_no_table",
        positions="outright_debt_security|repo_cash|reverse_repo_cash",
        counterparties="debt_security_issuer|repo_customer|reverse_repo_customer|derivative_customer",
    ),
    # rejected by read_fire (no place in the contract, or fields FIRE omitted)
    "bond_future.json": _e(0, 1, fire="fire_missing_field"),
    "bond_future2.json": _e(0, 1, fire="fire_missing_field"),
    "cds_index.json": _e(0, 1, 1, fire="fire_unsupported", skip="fire_not_position"),
    "cds_single_name.json": _e(1, 1, 1, fire="fire_unsupported", skip="fire_not_position", counterparties="us_corp"),
    "commodity_asian_option.json": _e(0, 1, fire="fire_unsupported"),
    "commodity_option.json": _e(0, 1, fire="fire_unsupported"),
    "eq_index_basket_option.json": _e(0, 3, 1, fire="fire_unsupported", skip="fire_not_position"),
    "equity_option.json": _e(0, 1, 1, fire="fire_unsupported", skip="fire_not_position"),
    "equity_total_return_swap.json": _e(0, 2, 1, fire="fire_unsupported", skip="fire_not_position"),
    "fx_future.json": _e(0, 1, fire="fire_unsupported"),
    "loan_with_2_customers.json": _e(0, 1, fire="fire_missing_field"),  # no currency_code, no asset_liability
    "overdraft_account.json": _e(1, 1, fire="fire_missing_field", counterparties="overdraft_customer"),  # no currency
    "pnl_interest_income.json": _e(0, 0, 1, skip="fire_not_position"),
    "pnl_salary_expenses.json": _e(0, 0, 1, skip="fire_not_position"),
    # mapped, then rejected by validation for data the example lacks
    "bbl_loans.json": _e(3, invalid=NO_CPTY),  # no customer_id, no day count
    "bermudan_swaption.json": _e(1, invalid=NO_CPTY),
    "usd_payer_swaption.json": _e(1, invalid=NO_CPTY),
    "fra_6x12.json": _e(1, invalid=NO_CPTY),
    "fx_option.json": _e(1, invalid=NO_CPTY),
    "fx_option_long_call.json": _e(1, invalid=NO_CPTY),
    "fx_option_long_put.json": _e(1, invalid=NO_CPTY),
    "fx_option_short_call.json": _e(1, invalid=NO_CPTY),
    "fx_option_short_put.json": _e(1, invalid=NO_CPTY),
    "fx_forward.json": _e(2, invalid=NO_CPTY),
    "fx_spot.json": _e(2, invalid=NO_CPTY),
    "fx_swap.json": _e(2, invalid=f"{NO_CPTY} duplicate_key"),  # both legs have id audusd_swap:aud
    "interest_rate_swap.json": _e(2, invalid=f"{NO_CPTY} incomplete_deal"),  # legs' deal_ids differ
    "interest_rate_swap_amortising.json": _e(
        2, 6, fire="fire_missing_field fire_bad_date", invalid=f"{NO_CPTY} incomplete_deal"
    ),
    "ir_future.json": _e(1, invalid=NO_CPTY),
    "ir_cap_floor.json": _e(2, 0, 6, skip="fire_settled_flow", invalid=f"{NO_CPTY} matured_not_overdue"),
    "ir_digital_floor.json": _e(2, 0, 6, skip="fire_settled_flow", invalid=f"{NO_CPTY} matured_not_overdue"),
    "margined_netting_agreement.json": _e(
        6,
        0,
        2,
        skip="fire_no_table",
        positions="vm_eur_received|im_bond_posted",
        counterparties="ccp_1|French Republic",
        invalid=f"{NO_CPTY} incomplete_deal unknown_counterparty",
    ),
    "unmargined_netting_agreement.json": _e(
        5,
        0,
        1,
        skip="fire_no_table",
        positions="im_bond_posted",
        counterparties="ccp_1|French Republic",
        invalid=f"{NO_CPTY} incomplete_deal unknown_counterparty",
    ),
    "repo.json": _e(2, invalid=NO_CPTY),  # no customer_id on the cash leg
    "rev_repo.json": _e(2, invalid=NO_CPTY),
    "encumbered_loan.json": _e(2, counterparties="encumbered_loan_customer", invalid=NO_CPTY),  # no repayment_frequency
    "security_collateral_posted_ccp_non_deriv.json": _e(
        2, 0, 1, skip="fire_no_table", counterparties="customer_ccp", invalid=NO_CPTY
    ),  # bond without maturity
    "subordinated_debt.json": _e(2, counterparties="subordianted_debt_issuer", invalid=NO_CPTY),  # no day count
    "vostro_account.json": _e(1, positions="Vostro account at your bank"),
    "xccy_swap.json": _e(8, 0, 2, skip="fire_settled_flow", invalid=f"{NO_CPTY} position_rejected"),
}


def _example_files() -> list[str]:
    return sorted(p.name for p in EXAMPLES.glob("*.json")) if EXAMPLES else []


@needs_examples
def test_every_example_has_an_expectation() -> None:
    assert sorted(EXPECTED) == _example_files()


@needs_examples
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fire_example(name: str) -> None:
    assert EXAMPLES is not None
    expect = EXPECTED[name]
    result = read_fire(EXAMPLES / name)
    check_counts(result)
    c = result.counts
    assert (c["mapped"], c["rejected"], c["skipped"]) == (expect.mapped, expect.rejected, expect.skipped)
    assert reasons(result) == expect.fire_reasons
    assert {s.reason for s in result.skipped} == expect.skip_reasons
    for reject in [*result.rejects, *result.skipped]:
        assert reject.file == name and reject.row >= 1 and reject.message
        assert reject.reason in FIRE_REASONS
    if not result.as_of_dates:
        assert expect.used == {} and expect.invalid == frozenset()
        return
    assert len(result.as_of_dates) == 1
    report = validate(result)
    key = {"positions": "position_id", "counterparties": "counterparty_id", "cash_flow_schedule": "position_id"}
    for table in ("positions", "counterparties", "cash_flow_schedule"):
        if table not in report.tables:
            assert table not in expect.used
            continue
        res = report.tables[table]
        data = res.parsed.data.to_pylist()
        used = {row[key[table]] for row, bad in zip(data, res.rejected, strict=True) if not bad}
        assert used == expect.used.get(table, frozenset()), table
    assert {r.reason for r in report.rejects} == expect.invalid


@needs_examples
def test_all_examples_as_one_folder() -> None:
    assert EXAMPLES is not None
    result = read_fire(EXAMPLES)
    check_counts(result)
    per_file = [read_fire(EXAMPLES / n).counts for n in _example_files()]
    assert result.counts["read"] == sum(c["read"] for c in per_file) == 149
    assert len(set(result.source_files["positions"])) > 20
