"""Broadcasting helper for the vectorised wrappers around numba loops."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


def broadcast_flat(
    values: tuple[Any, ...], dtypes: tuple[npt.DTypeLike, ...]
) -> tuple[tuple[int, ...], list[npt.NDArray[Any]]]:
    """Broadcast ``values`` together; return the shape and one flat C-contiguous array each.

    Arrays already of the full shape are only converted (no copy when the dtype matches);
    broadcast ones are materialised into fresh writable arrays, so numba never sees numpy's
    broadcast views (whose write flag is deprecated).
    """
    arrays = [np.asarray(v) for v in values]
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    flat: list[npt.NDArray[Any]] = []
    for a, dtype in zip(arrays, dtypes, strict=True):
        if a.shape == shape:
            flat.append(np.ascontiguousarray(a, dtype=dtype).reshape(-1))
        else:
            full = np.empty(shape, dtype=dtype)
            full[...] = a
            flat.append(full.reshape(-1))
    return shape, flat
