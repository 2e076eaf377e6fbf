"""Per-contract cash-flow rows from the fast kernel, on demand (audit, tests, small books).

The run never materialises contracts x flows; this module walks single contracts with the same
compiled code the run uses and returns their flows as a table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openalm.engine.contracts import ContractArrays
from openalm.engine.kernel import walk_contract
from openalm.engine.run import KernelParams

__all__ = ["KernelFlows", "kernel_flows"]

KINDS = ("principal", "interest", "drawdown")


@dataclass(frozen=True)
class KernelFlows:
    """The flows of one contract: pay day numbers, kinds, amounts (>= 0) and directions (+1/-1)."""

    days: npt.NDArray[np.int64]
    kinds: tuple[str, ...]
    amounts: npt.NDArray[np.float64]
    directions: npt.NDArray[np.int64]

    @property
    def signed(self) -> npt.NDArray[np.float64]:
        return self.amounts * self.directions


def kernel_flows(arrays: ContractArrays, params: KernelParams, i: int, scenario: int = 0) -> KernelFlows:
    """Walk contract ``i`` of ``arrays`` under scenario ``scenario``; its flows in emission order.

    Contracts the kernel does not walk (no flows, undated) return no flows.
    """
    from openalm.engine import kernel as K

    cat = int(arrays.ci[i, K.I_CAT])
    if cat in (K.CAT_NO_FLOWS, K.CAT_UNDATED) or (cat == K.CAT_NON_MATURITY and arrays.ci[i, K.I_PROFILE] < 0):
        e = np.zeros(0)
        return KernelFlows(e.astype(np.int64), (), e, e.astype(np.int64))
    m = int(arrays.max_events[i]) + 8
    fl_day = np.empty(8 * m, np.int64)
    fl_amt = np.empty(8 * m, np.float64)
    fl_kind = np.empty(8 * m, np.int64)
    fl_dir = np.empty(8 * m, np.int64)
    ccy = int(arrays.ci[i, K.I_CCY])
    n = walk_contract(
        i, arrays.ci, arrays.cf, params.as_of_day, params.shocks[scenario, ccy], params.c_off, params.c_t, params.c_z,
        params.df_tab, params.curve_ccy, scenario,
        params.cal_first, params.cal_next, params.cal_prev,
        arrays.schedule.offsets, arrays.schedule.dates, arrays.schedule.a, arrays.schedule.b,
        arrays.steps.offsets, arrays.steps.dates, arrays.steps.a, arrays.steps.b,
        params.prof_off, params.prof_n, params.prof_u, params.prof_share,
        fl_day, fl_amt, fl_kind, fl_dir, m,
    )  # fmt: skip
    return KernelFlows(fl_day[:n].copy(), tuple(KINDS[k] for k in fl_kind[:n]), fl_amt[:n].copy(), fl_dir[:n].copy())
