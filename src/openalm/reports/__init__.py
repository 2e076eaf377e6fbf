"""OpenALM reports layer (展示层): result tables of a run and their writers."""

from __future__ import annotations

from openalm.reports.tables import FLOW_KINDS, cashflow_ladder_table, contract_results_table, next_repricing_days
from openalm.reports.writers import atomic_write, write_json, write_result_table, write_result_tables

__all__ = [
    "FLOW_KINDS",
    "atomic_write",
    "cashflow_ladder_table",
    "contract_results_table",
    "next_repricing_days",
    "write_json",
    "write_result_table",
    "write_result_tables",
]
