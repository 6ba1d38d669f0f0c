"""The layout of a run folder, and light readers for what reports need.

::

    runs/<run>/
      SYNTHETIC          present when the inputs are synthetic demo data
      frame/ roster/     inputs (a registry extract and the assessor pool)
      sample/            the sample package (xkaohe sample)
      lottery/           teams and pairs (xkaohe lottery)
      notebooks/         executed notebooks
      reports/           rendered HTML, index.html, assets/
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from xkaohe import schemas
from xkaohe.io.files import write_text
from xkaohe.io.memo import remembered
from xkaohe.io.tables import read_tables

SYNTHETIC_MARKER = "SYNTHETIC"


def mark_synthetic(run: Path, text: str) -> None:
    write_text(run / SYNTHETIC_MARKER, text + "\n")


def is_synthetic(run: Path) -> bool:
    return (run / SYNTHETIC_MARKER).exists()


def read_counties(frame_dir: Path) -> pl.DataFrame:
    """Only the counties table of a frame (fast, for reports; read once while unchanged)."""

    def load() -> pl.DataFrame:
        tables, _ = read_tables(frame_dir, (schemas.COUNTIES,), "frame")
        return schemas.normalise_counties(tables["counties"])

    return remembered("counties", _table_files(frame_dir, "counties"), load).clone()


def read_villages(frame_dir: Path) -> pl.DataFrame:
    """Only the villages table of a frame (read once while unchanged)."""

    def load() -> pl.DataFrame:
        tables, _ = read_tables(frame_dir, (schemas.VILLAGES,), "frame")
        return tables["villages"]

    return remembered("villages", _table_files(frame_dir, "villages"), load).clone()


def read_household_statuses(frame_dir: Path) -> pl.DataFrame:
    """``village_code, status`` of the frame's households (read once while unchanged)."""

    def load() -> pl.DataFrame:
        only = {"households": frozenset({"village_code", "status"})}
        tables, _ = read_tables(frame_dir, (schemas.HOUSEHOLDS,), "frame", only, hashed=False)
        return tables["households"].select("village_code", "status")

    return remembered("statuses", _table_files(frame_dir, "households"), load).clone()


def _table_files(frame_dir: Path, name: str) -> list[Path]:
    """The folder (a file added or removed changes it) and the files that may hold ``name``."""
    return [frame_dir, *sorted(frame_dir.glob(f"{name}.*"))] if frame_dir.is_dir() else []


def read_village_names(frame_dir: Path, county_codes: list[str]) -> pl.DataFrame:
    """Village and township names of the given counties (the results store keeps codes)."""
    return (
        read_villages(frame_dir)
        .filter(pl.col("county_code").is_in(county_codes))
        .select("village_code", "village_name", "township_name")
    )
