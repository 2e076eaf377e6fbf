"""Partitioned execution of the cash-flow kernel: map partitions -> additive partials -> reduce.

The same map function (:func:`map_partition`) runs in-process on a thread pool (``local``: the
numba kernel releases the GIL), in a local process pool (``processes``) or on a Dask distributed
cluster (``dask``; an existing one via ``scheduler``, else a local cluster is started). Partitions
are fixed row ranges of the book and the reduce sums partials in partition order, so every
executor gives bit-identical results; a different partition size changes only the order of
floating-point additions (tests check equality to 1e-12 relative).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openalm.engine.buckets import BucketSets
from openalm.engine.contracts import ContractArrays, MarketContext
from openalm.engine.kernel import N_KINDS, build_df_table, run_partition_kernel
from openalm.errors import ConfigError

__all__ = [
    "EXECUTORS",
    "EngineResult",
    "KernelParams",
    "PartialResult",
    "map_partition",
    "plan_partitions",
    "reduce_partials",
    "run_engine",
    "run_partitions",
]

EXECUTORS = ("local", "processes", "dask")


@dataclass(frozen=True)
class KernelParams:
    """The run-wide (not per-partition) inputs of the kernel, shipped once to each worker."""

    as_of_day: int
    shocks: npt.NDArray[np.float64]
    ladder_slot: npt.NDArray[np.int64]
    c_off: npt.NDArray[np.int64]
    c_t: npt.NDArray[np.float64]
    c_z: npt.NDArray[np.float64]
    curve_ccy: npt.NDArray[np.int64]
    df_tab: npt.NDArray[np.float64]  # [curve, scenario, day] discount factors (see build_df_table)
    cal_first: int
    cal_next: npt.NDArray[np.int32]
    cal_prev: npt.NDArray[np.int32]
    prof_off: npt.NDArray[np.int64]
    prof_n: npt.NDArray[np.int64]
    prof_u: npt.NDArray[np.int64]
    prof_share: npt.NDArray[np.float64]
    lookup: npt.NDArray[np.int32]
    overdue_idx: npt.NDArray[np.int32]
    undated_idx: npt.NDArray[np.int32]
    n_groups: int
    n_buckets: int
    band_end: npt.NDArray[np.int64]  # per-contract liquidity bands: upper bounds in days after as-of
    n_liq_groups: int = 0  # groups of the daily liquidity ladder (ci[:, I_LGRP])
    daily_days: int = 0  # days of the daily liquidity ladder (1..daily_days)

    @classmethod
    def build(
        cls,
        ctx: MarketContext,
        buckets: BucketSets,
        ladder_scenarios: Sequence[str],
        as_of_day: int,
        horizon_days: int = 0,
        band_end: Sequence[int] | None = None,
        n_liq_groups: int = 0,
        daily_days: int = 0,
    ) -> KernelParams:
        """Run-wide kernel inputs; ``horizon_days`` sizes the discount-factor table (the longest
        pay or fixing-end day of the book; later days are computed directly). ``band_end`` are the
        upper bounds (days after as-of, ascending) of the per-contract liquidity bands (default one
        open band); ``n_liq_groups`` x ``daily_days`` sizes the daily liquidity ladder."""
        unknown = [s for s in ladder_scenarios if s not in ctx.scenarios]
        if unknown:
            raise ConfigError(
                f"engine.ladder_scenarios: {unknown} are not scenarios of this run; known: {list(ctx.scenarios)}"
            )
        slot = np.full(len(ctx.scenarios), -1, np.int64)
        for k, name in enumerate(ladder_scenarios):
            slot[ctx.scenarios.index(name)] = k
        from openalm.engine.codes import INSTRUMENT_TYPES, SIDES

        return cls(
            as_of_day=as_of_day,
            shocks=ctx.shocks,
            ladder_slot=slot,
            c_off=ctx.c_off,
            c_t=ctx.c_t,
            c_z=ctx.c_z,
            curve_ccy=ctx.curve_ccy,
            df_tab=build_df_table(
                ctx.c_off, ctx.c_t, ctx.c_z, ctx.curve_ccy, ctx.shocks, max(int(horizon_days), 1) + 1
            ),
            cal_first=ctx.cal_first,
            cal_next=ctx.cal_next,
            cal_prev=ctx.cal_prev,
            prof_off=ctx.prof_off,
            prof_n=ctx.prof_n,
            prof_u=ctx.prof_u,
            prof_share=ctx.prof_share,
            lookup=buckets.lookup,
            overdue_idx=buckets.overdue_index,
            undated_idx=buckets.undated_index,
            n_groups=len(ctx.currencies) * len(SIDES) * len(INSTRUMENT_TYPES),
            n_buckets=buckets.n_buckets,
            band_end=np.asarray(band_end if band_end is not None else [10**9], np.int64),
            n_liq_groups=int(n_liq_groups),
            daily_days=int(daily_days),
        )

    @property
    def n_ladders(self) -> int:
        return int((self.ladder_slot >= 0).sum())


@dataclass(frozen=True)
class PartialResult:
    """What one partition contributes: additive ladder sums and its contracts' PVs."""

    index: int
    ladder: npt.NDArray[np.float64]  # [ladder scenario, group, bucket, kind]
    pv: npt.NDArray[np.float64]  # [contract, scenario]
    n_flows: int
    cband: npt.NDArray[np.float64] | None = None  # [contract, liquidity band, kind]
    daily: npt.NDArray[np.float64] | None = None  # [liquidity group, day, kind]


@dataclass(frozen=True)
class EngineResult:
    """The reduced result of a run of the kernel over the whole book."""

    ladder: npt.NDArray[np.float64]
    pv: npt.NDArray[np.float64]
    n_flows: int
    partitions: int
    executor: str
    cband: npt.NDArray[np.float64] | None = None  # [contract, liquidity band, kind]
    daily: npt.NDArray[np.float64] | None = None  # [liquidity group, day, kind]


def plan_partitions(n: int, size: int, cost: npt.NDArray[np.float64] | None = None) -> list[tuple[int, int]]:
    """Contiguous row ranges ``[lo, hi)``: ``ceil(n / size)`` of them, cut at equal cumulative
    ``cost`` (the estimated work per contract) so that the partitions take about the same time.

    The plan depends only on the data and ``size``, never on the executor, so every executor sums
    the same partials in the same order.
    """
    if size < 1:
        raise ConfigError(f"engine.partition_size must be >= 1, got {size}")
    if n == 0:
        return [(0, 0)]
    k = -(-n // size)
    if cost is None or k == 1:
        return [(lo, min(lo + size, n)) for lo in range(0, n, size)]
    cum = np.cumsum(cost, dtype=np.float64)
    targets = cum[-1] * np.arange(1, k) / k
    cuts = np.searchsorted(cum, targets, side="left") + 1
    bounds = np.unique(np.concatenate(([0], np.clip(cuts, 1, n - 1), [n])))
    return [(int(lo), int(hi)) for lo, hi in itertools.pairwise(bounds)]


def map_partition(index: int, part: ContractArrays, params: KernelParams) -> PartialResult:
    """Run the kernel on one partition (the map step; pure, picklable inputs and outputs)."""
    n = part.n
    n_scen = params.shocks.shape[0]
    ladder = np.zeros((max(params.n_ladders, 1), params.n_groups, params.n_buckets, N_KINDS), np.float64)
    pv = np.zeros((n, n_scen), np.float64)
    cband = np.zeros((n, params.band_end.shape[0], N_KINDS), np.float64)
    daily = np.zeros((params.n_liq_groups, params.daily_days + 1 if params.n_liq_groups else 0, N_KINDS), np.float64)
    stats = np.zeros(4, np.int64)
    if n:
        run_partition_kernel(
            part.ci, part.cf, params.as_of_day, params.shocks, params.ladder_slot,
            params.c_off, params.c_t, params.c_z, params.df_tab, params.curve_ccy,
            params.cal_first, params.cal_next, params.cal_prev,
            part.schedule.offsets, part.schedule.dates, part.schedule.a, part.schedule.b,
            part.steps.offsets, part.steps.dates, part.steps.a, part.steps.b,
            params.prof_off, params.prof_n, params.prof_u, params.prof_share,
            params.lookup, params.overdue_idx, params.undated_idx, int(part.max_events.max()),
            params.band_end, ladder, pv, cband, daily, stats,
        )  # fmt: skip
    return PartialResult(index, ladder, pv, int(stats[0]), cband, daily)


def _reduce(partials: Sequence[PartialResult], executor: str) -> EngineResult:
    ordered = sorted(partials, key=lambda p: p.index)
    ladder = ordered[0].ladder.copy()
    for p in ordered[1:]:
        ladder += p.ladder
    pv = np.concatenate([p.pv for p in ordered], axis=0)
    bands = [p.cband for p in ordered if p.cband is not None]
    cband = np.concatenate(bands, axis=0) if len(bands) == len(ordered) else None
    days = [p.daily for p in ordered if p.daily is not None]
    daily: npt.NDArray[np.float64] | None = None
    if len(days) == len(ordered):
        daily = days[0].copy()
        for d in days[1:]:
            daily += d
    return EngineResult(ladder, pv, sum(p.n_flows for p in ordered), len(ordered), executor, cband, daily)


def _dask_map(
    parts: list[ContractArrays], numbers: list[int], params: KernelParams, workers: int, scheduler: str | None,
    on_done: Callable[[int], None],
) -> list[PartialResult]:  # fmt: skip
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        )
        client = Client(cluster)
    try:
        p_future = client.scatter(params, broadcast=True)
        futures = [client.submit(map_partition, numbers[k], part, p_future, pure=False) for k, part in enumerate(parts)]
        out: list[PartialResult] = []
        for fut in as_completed(futures):
            out.append(fut.result())
            on_done(len(out))
        return out
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_partitions(
    arrays: ContractArrays,
    params: KernelParams,
    ranges: Sequence[tuple[int, int]] | None = None,
    *,
    parts: Sequence[ContractArrays] | None = None,
    indices: Sequence[int] | None = None,
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[PartialResult]:
    """Map the kernel over partitions (the map step only, no reduce).

    The partitions are row ranges of ``arrays`` or, when ``parts`` is given, those contract arrays
    (e.g. ``arrays.take(rows)`` of a stable partition plan). ``indices`` numbers the partials
    (default ``0..n-1``): an incremental run maps only the partitions whose contracts changed and
    numbers them as in the full plan, so that :func:`reduce_partials` can merge them with the
    stored partials of the other partitions.
    """
    if executor not in EXECUTORS:
        raise ConfigError(f"executor must be one of {EXECUTORS}, got {executor!r}")
    if parts is None:
        parts = [arrays.partition(lo, hi) for lo, hi in (ranges or [])]
    parts = list(parts)
    numbers = list(range(len(parts))) if indices is None else list(indices)
    if len(numbers) != len(parts):
        raise ValueError("indices and partitions differ in length")
    total = len(parts)
    n_workers = workers or os.cpu_count() or 1

    def done(k: int) -> None:
        if on_progress is not None:
            on_progress(k, total)

    partials: list[PartialResult] = []
    if total == 0:
        return partials
    if executor == "local":
        if n_workers == 1 or total == 1:
            for k, part in enumerate(parts):
                partials.append(map_partition(numbers[k], part, params))
                done(k + 1)
        else:
            with ThreadPoolExecutor(max_workers=n_workers) as pool:
                futures = [pool.submit(map_partition, numbers[k], part, params) for k, part in enumerate(parts)]
                for k, fut in enumerate(futures):
                    partials.append(fut.result())
                    done(k + 1)
    elif executor == "processes":
        import multiprocessing as mp

        with ProcessPoolExecutor(max_workers=n_workers, mp_context=mp.get_context("spawn")) as ppool:
            pfutures = [ppool.submit(map_partition, numbers[k], part, params) for k, part in enumerate(parts)]
            for k, fut in enumerate(pfutures):
                partials.append(fut.result())
                done(k + 1)
    else:
        partials = _dask_map(parts, numbers, params, n_workers, scheduler, done)
    return partials


def reduce_partials(partials: Sequence[PartialResult], executor: str) -> EngineResult:
    """Sum partial ladders in partition order and stack PVs (the reduce step; deterministic)."""
    return _reduce(partials, executor)


def run_engine(
    arrays: ContractArrays,
    params: KernelParams,
    *,
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    partition_size: int = 100_000,
    on_progress: Callable[[int, int], None] | None = None,
) -> EngineResult:
    """Map the kernel over the partitions of the book with the chosen executor, then reduce."""
    if executor not in EXECUTORS:
        raise ConfigError(f"executor must be one of {EXECUTORS}, got {executor!r}")
    ranges = plan_partitions(arrays.n, partition_size, arrays.work_estimate(params.shocks.shape[0]))
    partials = run_partitions(
        arrays, params, ranges, executor=executor, workers=workers, scheduler=scheduler, on_progress=on_progress
    )
    return _reduce(partials, executor)
