"""Positions (a typed pyarrow table) -> plain arrays the kernel reads, plus the market context.

The conversion is vectorised over the whole book once; partitions are then row slices of the
arrays (:meth:`ContractArrays.partition`), so the partitioning never changes what a contract
looks like to the kernel.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from openalm.config import RunConfig
from openalm.conventions import (
    NO_DATE,
    BusinessDayConvention,
    Calendar,
    DayCount,
    Tenor,
    TenorUnit,
    parse_tenors,
    to_day,
)
from openalm.engine import kernel as K
from openalm.engine.codes import (
    AMORTISATION_TYPES,
    INSTRUMENT_TYPES,
    NOTIONAL_EXCHANGES,
    OFF_BALANCE_NO_FLOW,
    RATE_TYPES,
    SIDES,
    UNDATED_WHEN_NO_MATURITY,
)
from openalm.errors import MarketDataError, ModelError
from openalm.market import CurveSet, Fixings, FxRates, Shock, ShockSet, ZeroCurve, basel_shock, pack_curves

__all__ = ["ContractArrays", "MarketContext", "build_contract_arrays", "build_market_context"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: scenarios every run computes: base and the +-1bp bumps of the effective duration
DURATION_BUMP = 0.0001
FIXED_SCENARIOS = ("base", "bump_down_1bp", "bump_up_1bp")


@dataclass(frozen=True)
class MarketContext:
    """Everything market- and assumption-related the kernel needs, packed once per run."""

    as_of: dt.date
    currencies: tuple[str, ...]
    curve_ids: tuple[str, ...]
    c_off: IntArray
    c_t: FloatArray
    c_z: FloatArray
    curve_ccy: IntArray  # currency index of each packed curve (-1: not a currency of the book)
    discount_curve: Mapping[str, int]
    projection_curve: Mapping[str, int]
    index_tenor: Mapping[str, tuple[int, int]]
    fixings: Fixings
    calendar_codes: tuple[str, ...]
    cal_first: int
    cal_next: npt.NDArray[np.int32]
    cal_prev: npt.NDArray[np.int32]
    scenarios: tuple[str, ...]
    shocks: FloatArray  # [scenario, currency, 5]
    fx: FxRates | None
    reporting_currency: str
    profile_keys: tuple[str, ...]
    prof_off: IntArray
    prof_n: IntArray
    prof_u: IntArray
    prof_share: FloatArray
    profile_undated: frozenset[str]
    warnings: tuple[str, ...] = ()


def _col(table: pa.Table, name: str) -> pa.ChunkedArray | None:
    return table.column(name) if name in table.column_names else None


def _codes(table: pa.Table, name: str, values: Sequence[str], default: int = -1) -> IntArray:
    col = _col(table, name)
    n = table.num_rows
    if col is None:
        return np.full(n, default, dtype=np.int64)
    idx = pc.index_in(pc.cast(col, pa.string()), value_set=pa.array(list(values), pa.string()))
    return np.asarray(idx.fill_null(default).to_numpy(zero_copy_only=False), dtype=np.int64)


def _days(table: pa.Table, name: str) -> IntArray:
    col = _col(table, name)
    n = table.num_rows
    if col is None:
        return np.full(n, NO_DATE, dtype=np.int64)
    arr = pc.cast(col, pa.date32())
    ints = pc.cast(arr, pa.int32()).fill_null(NO_DATE)
    return np.asarray(ints.to_numpy(zero_copy_only=False), dtype=np.int64)


def _floats(table: pa.Table, name: str) -> FloatArray:
    col = _col(table, name)
    n = table.num_rows
    if col is None:
        return np.full(n, np.nan, dtype=np.float64)
    arr = pc.cast(col, pa.float64())
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)


def _ints(table: pa.Table, name: str, default: int) -> IntArray:
    col = _col(table, name)
    n = table.num_rows
    if col is None:
        return np.full(n, default, dtype=np.int64)
    return np.asarray(pc.cast(col, pa.int64()).fill_null(default).to_numpy(zero_copy_only=False), dtype=np.int64)


def _bools(table: pa.Table, name: str) -> npt.NDArray[np.bool_]:
    col = _col(table, name)
    n = table.num_rows
    if col is None:
        return np.zeros(n, dtype=np.bool_)
    return np.asarray(pc.cast(col, pa.bool_()).fill_null(False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _strings(table: pa.Table, name: str) -> npt.NDArray[np.object_]:
    col = _col(table, name)
    if col is None:
        return np.full(table.num_rows, None, dtype=object)
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=object)


def _is(table: pa.Table, name: str, values: Sequence[str]) -> npt.NDArray[np.bool_]:
    """Rows whose string column ``name`` is one of ``values`` (null: False), without Python objects."""
    idx, distinct = _dictionary(table, name)
    hits = [k for k, v in enumerate(distinct) if v in values]
    return np.isin(idx, hits) if hits else np.zeros(table.num_rows, dtype=np.bool_)


_DICT_CACHE: dict[tuple[int, str], tuple[IntArray, list[str]]] = {}


def _dictionary(table: pa.Table, name: str) -> tuple[IntArray, list[str]]:
    """Integer codes (-1 = null) and the distinct values of a string column (memoised while
    :func:`build_contract_arrays` runs)."""
    key = (id(table), name)
    if key in _DICT_CACHE:
        return _DICT_CACHE[key]
    out = _dictionary_uncached(table, name)
    _DICT_CACHE[key] = out
    return out


def _dictionary_uncached(table: pa.Table, name: str) -> tuple[IntArray, list[str]]:
    col = _col(table, name)
    if col is None:
        return np.full(table.num_rows, -1, dtype=np.int64), []
    enc = pc.cast(col, pa.string()).combine_chunks().dictionary_encode()
    idx = np.asarray(enc.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    return idx, [str(v) for v in enc.dictionary.to_pylist()]


def _tenor_codes(table: pa.Table, name: str) -> tuple[IntArray, IntArray]:
    idx, values = _dictionary(table, name)
    if not values:
        return np.zeros(table.num_rows, np.int64), np.full(table.num_rows, -1, np.int64)
    counts, units = parse_tenors(values)
    c = np.append(np.asarray(counts, np.int64), 0)
    u = np.append(np.asarray(units, np.int64), -1)
    return c[idx], u[idx]


_SUFFIX = re.compile(r"_(ON|TN|SN|\d+[DWMY])$", re.IGNORECASE)
_FAMILY_TENOR = {"FR001": "1D", "FR007": "7D", "FR014": "14D", "DR001": "1D", "DR007": "7D", "DR014": "14D"}


def index_tenor_of(index_code: str, indices: pa.Table | None) -> str | None:
    """The tenor of a rate index: ``rate_indices.tenor``, else the code's suffix (``CNY_SHIBOR_3M``
    -> 3M, ``CNY_FR007`` -> 7D), else None (the caller uses the reset frequency)."""
    if indices is not None and "index_code" in indices.column_names and "tenor" in indices.column_names:
        codes = indices.column("index_code").to_pylist()
        tenors = indices.column("tenor").to_pylist()
        for c, t in zip(codes, tenors, strict=True):
            if c == index_code and t:
                return str(t)
    m = _SUFFIX.search(index_code)
    if m:
        return m.group(1).upper()
    family = index_code.split("_", 1)[-1].upper()
    if family in _FAMILY_TENOR:
        return _FAMILY_TENOR[family]
    if family in ("SOFR", "ESTR", "SONIA", "TONA", "SARON"):
        return "1D"
    return None


def _discount_curve(curves: CurveSet, ccy: str, configured: Mapping[str, str], projection_ids: set[str]) -> ZeroCurve:
    try:
        return curves.base_discount_curve(ccy, configured)
    except MarketDataError:
        # the interfaces rule "its only zero curve", ignoring the curves that rate_indices name
        # as projection curves (a documented disambiguation)
        candidates = [curves[c] for c in curves if curves[c].currency == ccy and c not in projection_ids]
        if len(candidates) == 1:
            return candidates[0]
        raise


def build_market_context(
    *,
    as_of: dt.date,
    config: RunConfig,
    curves: CurveSet,
    currencies: Sequence[str],
    rate_indices: pa.Table | None,
    fixings: Fixings | None,
    fx: FxRates | None,
    calendar_codes: Sequence[str],
    index_codes: Sequence[str],
    scenarios: Sequence[str],
    shock_set: ShockSet,
) -> MarketContext:
    """Pack curves, shocks, calendars and run-off profiles for the kernel.

    Scenario 0 is the base curve, 1 and 2 the -1bp / +1bp parallel bumps of the effective
    duration, then the configured scenarios (Basel names use the shock set's currency sizes).
    """
    warnings: list[str] = []
    proj_table: dict[str, str] = {}
    if rate_indices is not None and "projection_curve_id" in rate_indices.column_names:
        for code, cid in zip(
            rate_indices.column("index_code").to_pylist(),
            rate_indices.column("projection_curve_id").to_pylist(),
            strict=True,
        ):
            if cid:
                proj_table[str(code)] = str(cid)
    curve_list: list[ZeroCurve] = []
    curve_pos: dict[str, int] = {}

    def add(curve: ZeroCurve) -> int:
        if curve.curve_id not in curve_pos:
            curve_pos[curve.curve_id] = len(curve_list)
            curve_list.append(curve.unshocked() if curve.shock is not None else curve)
        return curve_pos[curve.curve_id]

    disc: dict[str, int] = {}
    for ccy in currencies:
        disc[ccy] = add(_discount_curve(curves, ccy, config.discount_curves, set(proj_table.values())))
    proj: dict[str, int] = {}
    tenors: dict[str, tuple[int, int]] = {}
    for code in index_codes:
        cid = proj_table.get(code) or (code if code in curves else None)
        if cid is not None and cid in curves:
            proj[code] = add(curves[cid])
        else:
            ccy = code.split("_", 1)[0]
            if ccy in disc:
                proj[code] = disc[ccy]
                warnings.append(
                    f"rate index {code}: no projection curve (rate_indices.projection_curve_id or a curve "
                    f"named {code}); projected from the {ccy} discount curve"
                )
        tenor_text = index_tenor_of(code, rate_indices)
        if tenor_text:
            t = Tenor.parse(tenor_text)
            tenors[code] = (int(t.count), int(t.unit))
    c_off, c_t, c_z = pack_curves(curve_list)

    # scenarios x currencies shock rows
    names = [*FIXED_SCENARIOS, *[s for s in scenarios if s not in FIXED_SCENARIOS]]
    shocks = np.zeros((len(names), len(currencies), 5), dtype=np.float64)
    shocks[:, :, 3] = 4.0
    shocks[:, :, 4] = np.nan
    for j, ccy in enumerate(currencies):
        for s, name in enumerate(names):
            if name == "base":
                continue
            if name == "bump_down_1bp":
                sh = Shock(parallel=-DURATION_BUMP)
            elif name == "bump_up_1bp":
                sh = Shock(parallel=DURATION_BUMP)
            else:
                try:
                    sh = basel_shock(shock_set, ccy, name)
                except Exception as err:  # unknown currency in the shock set -> no shock, warned
                    warnings.append(f"scenario {name}: {err}; {ccy} left unshocked")
                    continue
            shocks[s, j] = sh.as_row()

    # calendars
    cals = [Calendar.from_code(code) for code in calendar_codes]
    if cals:
        first = min(c.first_day for c in cals)
        last = max(c.last_day for c in cals)
        width = last - first + 1
        cal_next = np.empty((len(cals), width), dtype=np.int32)
        cal_prev = np.empty((len(cals), width), dtype=np.int32)
        for k, c in enumerate(cals):
            f0, _bd, nxt, prv = c.lookup_table()
            if f0 != first or len(nxt) != width:
                raise ModelError("calendars of one run must share their year range")
            cal_next[k] = nxt
            cal_prev[k] = prv
    else:
        first = 0
        cal_next = np.zeros((1, 1), dtype=np.int32)
        cal_prev = np.zeros((1, 1), dtype=np.int32)

    # run-off profiles of non-maturity rows
    keys: list[str] = []
    off = [0]
    pn: list[int] = []
    pu: list[int] = []
    ps: list[float] = []
    undated: set[str] = set()
    for key, profile in config.non_maturity.profiles.items():
        if profile == "undated":
            undated.add(key)
            continue
        keys.append(key)
        for tenor_text, share in profile.items():
            t = Tenor.parse(tenor_text)
            if t.unit == TenorUnit.T:
                raise ModelError(f"non_maturity profile {key!r}: tenor T has no date; use a dated tenor")
            pn.append(int(t.count))
            pu.append(int(t.unit))
            ps.append(float(share))
        off.append(len(pn))
    return MarketContext(
        as_of=as_of,
        currencies=tuple(currencies),
        curve_ids=tuple(c.curve_id for c in curve_list),
        c_off=c_off,
        c_t=c_t,
        c_z=c_z,
        curve_ccy=np.array(
            [list(currencies).index(c.currency) if c.currency in currencies else -1 for c in curve_list], np.int64
        ),
        discount_curve=disc,
        projection_curve=proj,
        index_tenor=tenors,
        fixings=fixings if fixings is not None else Fixings.empty(),
        calendar_codes=tuple(calendar_codes),
        cal_first=int(first),
        cal_next=cal_next,
        cal_prev=cal_prev,
        scenarios=tuple(names),
        shocks=shocks,
        fx=fx,
        reporting_currency=config.reporting_currency,
        profile_keys=tuple(keys),
        prof_off=np.asarray(off, np.int64),
        prof_n=np.asarray(pn, np.int64),
        prof_u=np.asarray(pu, np.int64),
        prof_share=np.asarray(ps, np.float64),
        profile_undated=frozenset(undated),
        warnings=tuple(warnings),
    )


@dataclass(frozen=True)
class Csr:
    """Per-contract rows of a companion table (schedule rows, rate steps) in CSR form."""

    offsets: IntArray
    dates: IntArray
    a: FloatArray
    b: FloatArray

    @classmethod
    def empty(cls, n: int) -> Csr:
        z = np.zeros(0, np.float64)
        return cls(np.zeros(n + 1, np.int64), np.zeros(0, np.int64), z, z)

    def slice(self, lo: int, hi: int) -> Csr:
        s, e = int(self.offsets[lo]), int(self.offsets[hi])
        return Csr(self.offsets[lo : hi + 1] - s, self.dates[s:e], self.a[s:e], self.b[s:e])

    def take(self, index: IntArray) -> Csr:
        """The rows of the contracts ``index`` (in that order)."""
        start = self.offsets[index]
        count = self.offsets[index + 1] - start
        offsets = np.zeros(len(index) + 1, np.int64)
        np.cumsum(count, out=offsets[1:])
        if offsets[-1] == 0:
            z = np.zeros(0, np.float64)
            return Csr(offsets, np.zeros(0, np.int64), z, z)
        pick = np.repeat(start - offsets[:-1], count) + np.arange(offsets[-1], dtype=np.int64)
        return Csr(offsets, self.dates[pick], self.a[pick], self.b[pick])


@dataclass(frozen=True)
class ContractArrays:
    """The book (or a partition of it) as kernel arrays; row ``k`` is contract ``k``."""

    ci: IntArray
    cf: FloatArray
    schedule: Csr
    steps: Csr
    max_events: IntArray  # per contract upper bound of schedule events
    row: IntArray  # row number in the positions table
    currencies: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def n(self) -> int:
        return int(self.ci.shape[0])

    def work_estimate(self, n_scenarios: int) -> npt.NDArray[np.float64]:
        """Relative work per contract: its schedule events, walked once or once per scenario."""
        walks = np.where(self.ci[:, K.I_FLOATING] != 0, 1.0 + 0.5 * (n_scenarios - 1), 1.0)
        return np.asarray((8.0 + self.max_events) * walks, dtype=np.float64)

    def horizon_days(self, as_of_day: int) -> int:
        """Days from as-of to the latest maturity plus the longest index tenor (DF table size)."""
        mat = self.ci[:, K.I_MAT]
        dated = mat[mat != NO_DATE]
        last = int(dated.max()) - as_of_day if dated.size else 0
        u = self.ci[:, K.I_IDX_U]
        n = self.ci[:, K.I_IDX_N]
        tenor = np.where(u == K.UNIT_Y, 366 * n, np.where(u == K.UNIT_M, 31 * n, np.where(u == K.UNIT_W, 7 * n, n)))
        floating = self.ci[:, K.I_FLOATING] != 0
        longest = int(tenor[floating].max()) if floating.any() else 0
        return min(max(last, 0) + longest + 7, 60 * 366)

    def take(self, index: IntArray) -> ContractArrays:
        """The contracts ``index`` (row numbers of this book), in that order."""
        index = np.asarray(index, np.int64)
        return ContractArrays(
            ci=self.ci[index],
            cf=self.cf[index],
            schedule=self.schedule.take(index),
            steps=self.steps.take(index),
            max_events=self.max_events[index],
            row=self.row[index],
            currencies=self.currencies,
        )

    def partition(self, lo: int, hi: int) -> ContractArrays:
        return ContractArrays(
            ci=self.ci[lo:hi],
            cf=self.cf[lo:hi],
            schedule=self.schedule.slice(lo, hi),
            steps=self.steps.slice(lo, hi),
            max_events=self.max_events[lo:hi],
            row=self.row[lo:hi],
            currencies=self.currencies,
        )


def group_key(ccy: IntArray, side: IntArray, itype: IntArray) -> IntArray:
    """Ladder group of (currency, side, instrument type)."""
    return (ccy * len(SIDES) + side) * len(INSTRUMENT_TYPES) + itype


def decode_group(g: int, currencies: Sequence[str]) -> tuple[str, str, str]:
    it = g % len(INSTRUMENT_TYPES)
    rest = g // len(INSTRUMENT_TYPES)
    return currencies[rest // len(SIDES)], SIDES[rest % len(SIDES)], INSTRUMENT_TYPES[it]


def _csr(table: pa.Table | None, positions: pa.Table, date_col: str, a_col: str, b_col: str) -> Csr:
    """Rows of a companion table per position (CSR, sorted by position then date)."""
    n = positions.num_rows
    if table is None or table.num_rows == 0:
        return Csr.empty(n)
    t = table
    ids = positions.column("position_id")
    pos_index = pc.index_in(pc.cast(t.column("position_id"), pa.string()), value_set=pc.cast(ids, pa.string()))
    row = np.asarray(pos_index.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
    keep = row >= 0
    dates = _days(t, date_col)[keep]
    a = _floats(t, a_col)[keep] if a_col else np.full(int(keep.sum()), np.nan)
    b = _floats(t, b_col)[keep] if b_col else np.full(int(keep.sum()), np.nan)
    row = row[keep]
    order = np.lexsort((dates, row))
    row, dates, a, b = row[order], dates[order], a[order], b[order]
    counts = np.bincount(row, minlength=n)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    return Csr(offsets, dates, a, b)


def _schedule_csr(schedule: pa.Table | None, positions: pa.Table) -> Csr:
    """cash_flow_schedule -> per (position, date): principal sum, interest sum (NaN if none)."""
    n = positions.num_rows
    if schedule is None or schedule.num_rows == 0:
        return Csr.empty(n)
    kind = _strings(schedule, "flow_type")
    amount = _floats(schedule, "amount")
    prin = np.where((kind == "principal") | (kind == "notional_exchange"), amount, 0.0)
    intr = np.where(kind == "interest", amount, np.nan)
    t = pa.table(
        {
            "position_id": schedule.column("position_id"),
            "flow_date": schedule.column("flow_date"),
            "p": pa.array(prin),
            "i": pa.array(intr),
        }
    )
    grouped = t.group_by(["position_id", "flow_date"]).aggregate([("p", "sum"), ("i", "sum")])
    # interest: sum ignores nulls; NaN marks "no interest row" -> recompute which dates have one
    has_i = t.group_by(["position_id", "flow_date"]).aggregate([("i", "count")])
    grouped = grouped.join(has_i, ["position_id", "flow_date"])
    i_sum = np.where(_ints(grouped, "i_count", 0) > 0, np.nan_to_num(_floats(grouped, "i_sum"), nan=0.0), np.nan)
    g = pa.table(
        {
            "position_id": grouped.column("position_id"),
            "flow_date": grouped.column("flow_date"),
            "p": grouped.column("p_sum"),
            "i": pa.array(i_sum),
        }
    )
    return _csr(g, positions, "flow_date", "p", "i")


def _span_events(start: IntArray, end: IntArray, n: IntArray, u: IntArray) -> IntArray:
    """Upper bound of schedule dates of tenor (n, u) in (start, end]."""
    span = np.maximum(end - start, 0)
    min_days = np.select(
        [u == K.UNIT_D, u == K.UNIT_W, u == K.UNIT_M, u == K.UNIT_Y],
        [np.maximum(n, 1), 7 * np.maximum(n, 1), 28 * np.maximum(n, 1), 365 * np.maximum(n, 1)],
        default=0,
    )
    out = np.where(min_days > 0, span // np.maximum(min_days, 1) + 3, 2)
    return out.astype(np.int64)


def build_contract_arrays(
    positions: pa.Table,
    ctx: MarketContext,
    *,
    cash_flow_schedule: pa.Table | None = None,
    rate_schedule: pa.Table | None = None,
) -> ContractArrays:
    """Convert the clean positions table into kernel arrays (see :mod:`openalm.engine.kernel`)."""
    _DICT_CACHE.clear()
    try:
        return _build_contract_arrays(positions, ctx, cash_flow_schedule, rate_schedule)
    finally:
        _DICT_CACHE.clear()


def _build_contract_arrays(
    positions: pa.Table, ctx: MarketContext, cash_flow_schedule: pa.Table | None, rate_schedule: pa.Table | None
) -> ContractArrays:
    n = positions.num_rows
    a = to_day(ctx.as_of)
    # filled column by column (Fortran order), handed to the kernel row-major (one copy)
    ci = np.zeros((n, len(K.CI_COLUMNS)), dtype=np.int64, order="F")
    cf = np.full((n, len(K.CF_COLUMNS)), np.nan, dtype=np.float64, order="F")
    warnings: list[str] = []

    itype = _codes(positions, "instrument_type", INSTRUMENT_TYPES)
    side = _codes(positions, "side", SIDES)
    ccy_idx = _codes(positions, "currency", ctx.currencies)
    if (itype < 0).any() or (side < 0).any() or (ccy_idx < 0).any():
        raise ModelError("positions reached the engine with unknown instrument_type, side or currency codes")
    rt = _codes(positions, "rate_type", RATE_TYPES, default=0)
    amort = _codes(positions, "amortisation_type", AMORTISATION_TYPES, default=0)
    orig = _days(positions, "origination_date")
    mat = _days(positions, "maturity_date")
    dc_idx, dc_values = _dictionary(positions, "day_count")
    dc_map = np.array([int(DayCount.parse(v)) for v in dc_values] + [int(DayCount.ACT_365F)], np.int64)
    dc = dc_map[dc_idx]
    if (dc == int(DayCount.BUS_252)).any():
        raise ModelError("day count bus_252 is not supported by the cash-flow engine yet")
    if_n, if_u = _tenor_codes(positions, "interest_payment_frequency")
    pf_n, pf_u = _tenor_codes(positions, "principal_payment_frequency")
    next_int = _days(positions, "next_interest_payment_date")
    next_prin = _days(positions, "next_principal_payment_date")
    # a missing interest frequency follows the principal schedule, and vice versa
    no_if = if_u < 0
    no_pf = pf_u < 0
    if_n, if_u, next_int = (
        np.where(no_if, pf_n, if_n),
        np.where(no_if, pf_u, if_u),
        np.where(no_if & (next_int == NO_DATE), next_prin, next_int),
    )
    pf_n, pf_u, next_prin = (
        np.where(no_pf, if_n, pf_n),
        np.where(no_pf, if_u, pf_u),
        np.where(no_pf & (next_prin == NO_DATE), next_int, next_prin),
    )
    rf_n, rf_u = _tenor_codes(positions, "reset_frequency")
    bdc_idx, bdc_values = _dictionary(positions, "business_day_convention")
    bdc_map = np.array([int(BusinessDayConvention.parse(v)) for v in bdc_values] + [0], np.int64)
    cal_idx, cal_values = _dictionary(positions, "holiday_calendar")
    cal_map = np.array([ctx.calendar_codes.index(v) for v in cal_values] + [-1], np.int64)
    idx_idx, idx_values = _dictionary(positions, "rate_index")
    nx = _codes(positions, "notional_exchange", NOTIONAL_EXCHANGES, default=-1)
    is_deriv = itype == INSTRUMENT_TYPES.index("derivative_leg")
    default_nx = np.where(
        _is(positions, "derivative_type", ["fx_forward", "fx_spot"]),
        1,
        np.where(_is(positions, "derivative_type", ["fx_swap", "ccs"]), 2, 0),
    )
    nx = np.where(is_deriv, np.where(nx < 0, default_nx, nx), -1)

    bal = _floats(positions, "principal_balance")
    overdue = np.nan_to_num(_floats(positions, "overdue_principal"), nan=0.0)

    # categories
    no_flow = np.isin(itype, [INSTRUMENT_TYPES.index(t) for t in OFF_BALANCE_NO_FLOW])
    undated_types = np.isin(itype, [INSTRUMENT_TYPES.index(t) for t in UNDATED_WHEN_NO_MATURITY])
    no_mat = mat == NO_DATE
    non_mat = (amort == AMORTISATION_TYPES.index("non_maturity")) | no_mat
    cat = np.full(n, K.CAT_DATED, np.int64)
    cat[non_mat] = K.CAT_NON_MATURITY
    cat[non_mat & undated_types] = K.CAT_UNDATED
    cat[side == SIDES.index("equity")] = K.CAT_UNDATED
    cat[no_flow] = K.CAT_NO_FLOWS
    # a dated row whose maturity has passed is fully overdue (validated): the kernel finds no
    # future dates and emits only its overdue principal
    # run-off profile: behavioural_class, then product_subtype, then instrument_type, then default
    profile = np.full(n, ctx.profile_keys.index("default") if "default" in ctx.profile_keys else -1, np.int64)
    undated_profile = np.zeros(n, dtype=np.bool_)
    for col in ("instrument_type", "product_subtype", "behavioural_class"):  # later wins
        for key in ctx.profile_keys:
            hit = _is(positions, col, [key])
            profile[hit] = ctx.profile_keys.index(key)
            undated_profile[hit] = False
        for key in ctx.profile_undated:
            hit = _is(positions, col, [key])
            undated_profile[hit] = True
    profile[undated_profile] = -1

    floating_rt = (rt == RATE_TYPES.index("floating")) | (rt == RATE_TYPES.index("hybrid"))
    proj = np.full(n, -1, np.int64)
    idx_n = np.zeros(n, np.int64)
    idx_u = np.full(n, -1, np.int64)
    known = np.full(n, np.nan)
    if idx_values:
        pmap = np.array([ctx.projection_curve.get(v, -1) for v in idx_values] + [-1], np.int64)
        proj = np.where(floating_rt, pmap[idx_idx], -1)
        tn = np.array([ctx.index_tenor.get(v, (0, -1))[0] for v in idx_values] + [0], np.int64)
        tu = np.array([ctx.index_tenor.get(v, (0, -1))[1] for v in idx_values] + [-1], np.int64)
        idx_n, idx_u = tn[idx_idx], tu[idx_idx]
    # overnight RFR indices (tenor 1D) with rate_averaging compounded_in_arrears / simple_average: the
    # projected rate of a reset period is the compounded overnight rate over that period, i.e. the
    # simple forward over the period itself (positions.md default single_fixing: a one-day forward)
    averaging = _is(positions, "rate_averaging", ["compounded_in_arrears", "simple_average"])
    overnight = (idx_u == K.UNIT_D) & (idx_n == 1) & averaging
    idx_u = np.where(overnight, -1, idx_u)
    # index tenor: rate_indices / code suffix, else the reset, else the interest frequency, else 3M
    for fb_n, fb_u in ((rf_n, rf_u), (if_n, if_u)):
        missing_tenor = (idx_u < 0) | (idx_u == int(TenorUnit.T))
        idx_n = np.where(missing_tenor, fb_n, idx_n)
        idx_u = np.where(missing_tenor, fb_u, idx_u)
    missing_tenor = (idx_u < 0) | (idx_u == int(TenorUnit.T))
    idx_n = np.where(missing_tenor, 3, idx_n)
    idx_u = np.where(missing_tenor, K.UNIT_M, idx_u)
    disc = np.array([ctx.discount_curve[c] for c in ctx.currencies], np.int64)[ccy_idx]
    lost = floating_rt & (proj < 0) & (rt == RATE_TYPES.index("floating"))
    if lost.any():
        warnings.append(f"{int(lost.sum())} floating rows without a projection curve use their discount curve")
        proj = np.where(lost, disc, proj)
    floating = floating_rt & (proj >= 0)

    # known fixings: first reset whose fixing day is on or before the as-of date
    lag = _ints(positions, "reset_lag_days", 0)
    next_reset = _days(positions, "next_reset_date")
    fix_day = next_reset - lag
    need = floating & (next_reset != NO_DATE) & (fix_day <= a)
    if need.any() and idx_values:
        codes = np.array([*idx_values, ""], dtype=object)[idx_idx]
        for k in np.nonzero(need)[0]:
            fixing = ctx.fixings.latest(str(codes[k]), int(fix_day[k]))
            if fixing is not None:
                known[k] = fixing[1]

    # IntArray columns
    ci[:, K.I_CAT] = cat
    ci[:, K.I_SIDE] = np.where(side == 0, 1, np.where(side == 1, -1, 0))
    ci[:, K.I_GROUP] = group_key(ccy_idx, side, itype)
    ci[:, K.I_CCY] = ccy_idx
    ci[:, K.I_ORIG] = orig
    ci[:, K.I_MAT] = mat
    ci[:, K.I_RT] = rt
    ci[:, K.I_DC] = dc
    ci[:, K.I_AMORT] = amort
    ci[:, K.I_IF_N] = if_n
    ci[:, K.I_IF_U] = if_u
    ci[:, K.I_PF_N] = pf_n
    ci[:, K.I_PF_U] = pf_u
    ci[:, K.I_NEXT_INT] = next_int
    ci[:, K.I_NEXT_PRIN] = next_prin
    ci[:, K.I_LAST_INT] = _days(positions, "last_interest_payment_date")
    ci[:, K.I_RF_N] = rf_n
    ci[:, K.I_RF_U] = rf_u
    ci[:, K.I_NEXT_RESET] = next_reset
    ci[:, K.I_LAG] = lag
    ci[:, K.I_INIT_END] = _days(positions, "initial_rate_end_date")
    timing_idx, _timing = _dictionary(positions, "interest_timing")
    bill = itype == INSTRUMENT_TYPES.index("bill_discount")
    advance = _is(positions, "interest_timing", ["advance"]) | (bill & (timing_idx < 0))
    ci[:, K.I_ADVANCE] = advance.astype(np.int64)
    notice = _ints(positions, "notice_period_days", 0)
    ci[:, K.I_NOTICE] = np.where(itype == INSTRUMENT_TYPES.index("deposit_notice"), notice, 0)
    ci[:, K.I_LGRP] = -1  # liquidity group of the daily ladder, assigned by the liquidity module
    ci[:, K.I_IO_END] = _days(positions, "interest_only_end_date")
    ci[:, K.I_AMORT_TERM] = _ints(positions, "amortisation_term_months", 0)
    ci[:, K.I_NON_ACCRUAL] = _is(positions, "accrual_status", ["non_accrual"]).astype(np.int64)
    ci[:, K.I_NX] = nx
    ci[:, K.I_EOM] = _bools(positions, "end_of_month_rule").astype(np.int64)
    ci[:, K.I_BDC] = bdc_map[bdc_idx]
    ci[:, K.I_CAL] = cal_map[cal_idx]
    ci[:, K.I_DISC] = disc
    ci[:, K.I_PROJ] = proj
    ci[:, K.I_IDX_N] = idx_n
    ci[:, K.I_IDX_U] = idx_u
    ci[:, K.I_PROFILE] = profile
    ci[:, K.I_FLOATING] = floating.astype(np.int64)

    cf[:, K.F_BAL] = bal
    cf[:, K.F_OVERDUE] = overdue
    cf[:, K.F_ACCRUED] = _floats(positions, "accrued_interest")
    cf[:, K.F_RATE] = _floats(positions, "current_rate")
    cf[:, K.F_MULT] = _floats(positions, "rate_multiplier")
    cf[:, K.F_SPREAD] = _floats(positions, "spread")
    cf[:, K.F_CAP] = _floats(positions, "rate_cap")
    cf[:, K.F_FLOOR] = _floats(positions, "rate_floor")
    cf[:, K.F_PCAP] = _floats(positions, "periodic_cap")
    cf[:, K.F_PFLOOR] = _floats(positions, "periodic_floor")
    cf[:, K.F_REV] = _floats(positions, "reversion_rate")
    cf[:, K.F_INSTALLMENT] = np.where(
        amort == AMORTISATION_TYPES.index("annuity_fixed_payment"),
        _floats(positions, "installment_amount"),
        np.nan,
    )
    cf[:, K.F_INIT_EXCH] = _floats(positions, "initial_exchange_amount")
    cf[:, K.F_FIXING] = known

    schedule = _schedule_csr(cash_flow_schedule, positions)
    steps = _csr(rate_schedule, positions, "effective_date", "new_rate", "new_spread")
    lower = np.where((orig != NO_DATE) & (orig > a), orig, a)
    end = np.where(mat == NO_DATE, a, mat)
    ev = (
        _span_events(lower, end, if_n, if_u)
        + _span_events(lower, end, pf_n, pf_u)
        + _span_events(lower, end, rf_n, rf_u)
        + np.diff(schedule.offsets)
        + np.diff(steps.offsets)
        + 4
    )
    ci = np.ascontiguousarray(ci)
    cf = np.ascontiguousarray(cf)
    return ContractArrays(
        ci=ci,
        cf=cf,
        schedule=schedule,
        steps=steps,
        max_events=ev,
        row=np.arange(n, dtype=np.int64),
        currencies=ctx.currencies,
        warnings=tuple(warnings),
    )
