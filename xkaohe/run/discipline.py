"""The discipline register in a run (plan 八(二)(三)): read, check, keep the evidence, count.

The indicators stage calls :func:`check_register` before it computes
anything (a bad register stops the stage with every problem named and nothing
written) and :func:`keep_register` just before the results are written: the
evidence files go into the run's object store and the three tables
(``incidents``, ``incident_evidence``, ``discipline_summary``) into the
results store with the rest. A run without a register gets the tables empty
(every unit with zero incidents).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from xkaohe.analyse.discipline import (
    discipline_summary,
    empty_incidents,
    evidence_names,
    validate_incidents,
)
from xkaohe.errors import InputError
from xkaohe.io.discipline import hash_evidence, object_name, read_incidents, store_evidence
from xkaohe.io.lottery_files import CERTIFICATE, read_lottery
from xkaohe.plan import Plan
from xkaohe.results_spec import Result


@dataclass(frozen=True)
class Register:
    """A checked register, ready to be kept."""

    folder: Path
    source: dict[str, str | None] | None  # file and sha256 of the incidents table, for the manifest
    tables: dict[str, pl.DataFrame]


def check_register(folder: Path, run: Path, counties: pl.DataFrame, plan: Plan) -> Register:
    """Read and check the register in ``folder`` against the run's counties and lottery.

    Raises
    ------
    InputError
        Every bad cell and row of the register (file, row, column, expected, found).
    """
    rows, info = read_incidents(folder)
    lottery = run / "lottery"
    teams = read_lottery(lottery).teams if (lottery / CERTIFICATE).is_file() else None
    if rows is None or info is None:
        incidents, evidence = empty_incidents()
        source = None
    else:
        hashed = hash_evidence(folder, evidence_names(rows))
        incidents, evidence, problems = validate_incidents(
            rows, str(info.path), plan, counties, teams, hashed
        )
        if problems:
            raise InputError(problems)
        source = {"file": str(info.path), "sha256": info.sha256}
    evidence = evidence.with_columns(
        pl.col("sha256").map_elements(object_name, return_dtype=pl.String).alias("object")
    )
    tables = {
        Result.INCIDENTS: incidents,
        Result.INCIDENT_EVIDENCE: evidence,
        Result.DISCIPLINE_SUMMARY: discipline_summary(
            incidents, counties.select("county_code", "city_name"), teams
        ),
    }
    return Register(folder, source, {str(k): v for k, v in tables.items()})


def keep_register(run: Path, register: Register) -> dict[str, pl.DataFrame]:
    """Store the register's evidence in the run; return its results tables."""
    evidence = register.tables[Result.INCIDENT_EVIDENCE]
    store_evidence(run, register.folder, dict(evidence.select("file", "sha256").iter_rows()))
    return register.tables


__all__ = ["Register", "check_register", "keep_register"]
