"""OpenALM core engine (核心引擎层): contract arrays, the cash-flow kernel, bucket sets, partitioned runs.

:func:`prepare_book` packs a clean positions table and its market data for the kernel;
:meth:`PreparedBook.run` maps the numba kernel over partitions (executors ``local``, ``processes``,
``dask``) and reduces the additive results; :func:`kernel_flows` returns one contract's flows on
demand; :mod:`openalm.engine.reference` is the plain per-contract reference implementation.
"""

from __future__ import annotations

from openalm.engine.audit import KernelFlows, kernel_flows
from openalm.engine.book import PreparedBook, prepare_book
from openalm.engine.buckets import BUILTIN_SETS, Bucket, BucketSet, BucketSets, build_bucket_sets
from openalm.engine.contracts import ContractArrays, MarketContext
from openalm.engine.reference import ReferenceFlow, ReferenceResult, project_contract
from openalm.engine.run import EXECUTORS, EngineResult, KernelParams, PartialResult, map_partition, run_engine

__all__ = [
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
