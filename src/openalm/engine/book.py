"""One call from in-memory tables to everything the kernel needs (used by the run, explain, tests)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa

from openalm.config import RunConfig
from openalm.conventions import to_day
from openalm.engine.buckets import BucketSets, build_bucket_sets
from openalm.engine.contracts import (
    ContractArrays,
    MarketContext,
    build_contract_arrays,
    build_market_context,
)
from openalm.engine.run import EngineResult, KernelParams, run_engine
from openalm.market import CurveSet, Fixings, FxRates, ShockSet

__all__ = ["BookUniverse", "PreparedBook", "book_universe", "prepare_book"]


def _unique(table: pa.Table, column: str) -> list[str]:
    if column not in table.column_names:
        return []
    return sorted(str(v) for v in table.column(column).drop_null().unique().to_pylist())


@dataclass(frozen=True)
class BookUniverse:
    """The currencies, holiday calendars and rate indices a book uses (sorted)."""

    currencies: tuple[str, ...]
    calendars: tuple[str, ...]
    indices: tuple[str, ...]


def book_universe(positions: pa.Table) -> BookUniverse:
    """The universe of a positions table."""
    return BookUniverse(
        tuple(_unique(positions, "currency")),
        tuple(_unique(positions, "holiday_calendar")),
        tuple(_unique(positions, "rate_index")),
    )


@dataclass(frozen=True)
class PreparedBook:
    """A book ready for the kernel: market context, contract arrays, bucket sets, kernel params."""

    ctx: MarketContext
    arrays: ContractArrays
    buckets: BucketSets
    params: KernelParams

    def run(self, config: RunConfig, *, executor: str | None = None, partition_size: int | None = None,
            workers: int | None = None, scheduler: str | None = None) -> EngineResult:  # fmt: skip
        """Run the kernel over the whole book with the config's (or the given) execution settings."""
        return run_engine(
            self.arrays,
            self.params,
            executor=executor or config.engine.executor,
            workers=workers or config.engine.workers,
            scheduler=scheduler or config.engine.scheduler,
            partition_size=partition_size or config.engine.partition_size,
        )


def prepare_book(
    positions: pa.Table,
    *,
    as_of: dt.date,
    config: RunConfig,
    curves: CurveSet,
    fx: FxRates | None = None,
    rate_indices: pa.Table | None = None,
    fixings: Fixings | None = None,
    cash_flow_schedule: pa.Table | None = None,
    rate_schedule: pa.Table | None = None,
    universe: BookUniverse | None = None,
) -> PreparedBook:
    """Pack a clean positions table and its market data for the kernel.

    ``universe`` fixes the currencies, calendars and indices the market context is built for; by
    default those of ``positions``. A run over part of a book (an incremental run recomputing a
    few partitions) passes the whole book's universe so that its ladder groups and market arrays
    are exactly those of a full run.
    """
    universe = universe or book_universe(positions)
    ctx = build_market_context(
        as_of=as_of,
        config=config,
        curves=curves,
        currencies=list(universe.currencies),
        rate_indices=rate_indices,
        fixings=fixings,
        fx=fx,
        calendar_codes=list(universe.calendars),
        index_codes=list(universe.indices),
        scenarios=config.scenarios,
        shock_set=ShockSet.load(config.shock_set_name),
    )
    arrays = build_contract_arrays(positions, ctx, cash_flow_schedule=cash_flow_schedule, rate_schedule=rate_schedule)
    buckets = build_bucket_sets(as_of, config.bucket_sets)
    params = KernelParams.build(
        ctx, buckets, config.engine.ladder_scenarios, to_day(as_of), horizon_days=arrays.horizon_days(to_day(as_of))
    )
    return PreparedBook(ctx, arrays, buckets, params)
