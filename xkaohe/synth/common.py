"""Small pieces the synthetic field week and its claims share (no plan numbers here)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

EXITED = ("exited_2019", "exited_2016_2018")
"""The frame statuses of exited households (the wrong-exit rate's population)."""

LEVEL_ORDER = {"city": 0, "county": 1, "village": 2, "helper": 3}
"""Interview and claim levels, top down (a complete sort key)."""


def smallest(key: Floats, n: int) -> Bools:
    """Mask of the ``n`` smallest keys."""
    out = np.zeros(len(key), dtype=bool)
    out[np.argsort(key, kind="stable")[:n]] = True
    return out
