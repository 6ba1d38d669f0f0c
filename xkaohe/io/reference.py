"""Public reference tables shipped in ``data/reference/``."""

from __future__ import annotations

from pathlib import Path

import polars as pl

REFERENCE_DIR = Path(__file__).resolve().parent.parent.parent / "data" / "reference"


def read_anhui_counties() -> pl.DataFrame:
    """Anhui's county-level divisions (2019): text columns, two booleans, null for empty."""
    return pl.read_csv(
        REFERENCE_DIR / "anhui_counties.csv",
        infer_schema=False,
        schema_overrides={"has_poverty_task": pl.Boolean, "synthetic": pl.Boolean},
    )
