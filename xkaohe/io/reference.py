"""Public reference tables shipped in ``data/reference/`` (found by :mod:`xkaohe.io.resources`)."""

from __future__ import annotations

import polars as pl

from xkaohe.io.resources import reference_dir


def read_anhui_counties() -> pl.DataFrame:
    """Anhui's county-level divisions (2019): text and boolean columns, null for empty.

    Columns and which values are demo assumptions: ``data/reference/README.md``.
    """
    return pl.read_csv(
        reference_dir() / "anhui_counties.csv",
        infer_schema=False,
        schema_overrides={
            c: pl.Boolean
            for c in ("has_poverty_task", "deep_poverty", "deep_poverty_guess", "synthetic")
        },
    )
