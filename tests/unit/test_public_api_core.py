"""The public surface of the top-level package, the engine and the reports layer is pinned."""

from __future__ import annotations

import openalm
import openalm.engine
import openalm.reports


def test_top_level() -> None:
    assert sorted(openalm.__all__) == sorted(
        [
            "ConfigError",
            "DataError",
            "MarketDataError",
            "ModelError",
            "OpenALMError",
            "OpenALMWarning",
            "SchemaError",
            "__version__",
        ]
    )


def test_engine() -> None:
    assert sorted(openalm.engine.__all__) == sorted(
        [
            "BUILTIN_SETS",
            "EXECUTORS",
            "Bucket",
            "BucketSet",
            "BucketSets",
            "ContractArrays",
            "EngineResult",
            "KernelFlows",
            "KernelParams",
            "MarketContext",
            "PartialResult",
            "PreparedBook",
            "ReferenceFlow",
            "ReferenceResult",
            "build_bucket_sets",
            "kernel_flows",
            "map_partition",
            "prepare_book",
            "project_contract",
            "run_engine",
        ]
    )
    for name in openalm.engine.__all__:
        assert hasattr(openalm.engine, name)


def test_reports() -> None:
    assert sorted(openalm.reports.__all__) == sorted(
        [
            "FLOW_KINDS",
            "atomic_write",
            "cashflow_ladder_table",
            "contract_results_table",
            "next_repricing_days",
            "write_json",
            "write_result_table",
            "write_result_tables",
        ]
    )
