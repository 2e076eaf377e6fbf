"""Tiny snapshot builders shared by the data-layer tests (imported by the tests and conftest)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

AS_OF = dt.date(2026, 6, 30)

#: A valid fixed-rate annuity loan (text cells as in a CSV extract).
LOAN: dict[str, str] = {
    "as_of_date": "2026-06-30",
    "position_id": "L1",
    "source_system": "core",
    "reporting_entity_id": "E1",
    "branch_id": "B001",
    "product_code": "LOAN",
    "gl_account": "1301",
    "counterparty_id": "C1",
    "instrument_type": "loan",
    "side": "asset",
    "on_balance_sheet": "true",
    "currency": "CNY",
    "book": "banking",
    "principal_balance": "1000000.00",
    "origination_date": "2024-03-15",
    "maturity_date": "2034-03-15",
    "rate_type": "fixed",
    "current_rate": "0.0385",
    "day_count": "30_360_us",
    "amortisation_type": "annuity",
    "interest_payment_frequency": "1M",
    "principal_payment_frequency": "1M",
}

#: A valid term deposit (bullet, interest with principal).
DEPOSIT: dict[str, str] = {
    **LOAN,
    "position_id": "D1",
    "gl_account": "2011",
    "instrument_type": "deposit_term",
    "side": "liability",
    "principal_balance": "800000.00",
    "origination_date": "2026-01-05",
    "maturity_date": "2027-01-05",
    "current_rate": "0.015",
    "day_count": "act_360",
    "amortisation_type": "bullet",
    "interest_payment_frequency": "T",
    "principal_payment_frequency": "T",
}

#: Cash: no counterparty, no rate, no maturity.
CASH: dict[str, str] = {
    **{k: "" for k in LOAN},
    "as_of_date": "2026-06-30",
    "position_id": "C0",
    "source_system": "core",
    "reporting_entity_id": "E1",
    "branch_id": "B001",
    "product_code": "CASH",
    "gl_account": "1001",
    "instrument_type": "cash",
    "side": "asset",
    "on_balance_sheet": "true",
    "currency": "CNY",
    "book": "banking",
    "principal_balance": "50000.00",
    "rate_type": "non_interest_bearing",
    "amortisation_type": "non_maturity",
}

COUNTERPARTY: dict[str, str] = {
    "as_of_date": "2026-06-30",
    "counterparty_id": "C1",
    "counterparty_type": "non_financial_corporate",
    "country_of_residence": "CN",
    "enterprise_size": "large",
}


def row(base: dict[str, str], **changes: str) -> dict[str, str]:
    """``base`` with some cells changed."""
    return {**base, **changes}


def write_csv(path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> Path:
    """Write dict rows as a CSV file (missing cells empty)."""
    cols = list(columns) if columns is not None else list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(cols)
        for r in rows:
            writer.writerow(["" if r.get(c) is None else r.get(c) for c in cols])
    return path


def write_parquet_text(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Write dict rows as a Parquet file of string columns."""
    cols = list(dict.fromkeys(k for r in rows for k in r))
    table = pa.table({c: pa.array([r.get(c) or None for r in rows], pa.string()) for c in cols})
    pq.write_table(table, path)
    return path
