"""``xkaohe rectification import``: returned registers checked, then stored all at once (七(二))."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from xkaohe.analyse.rectification import progress, summary, validate
from xkaohe.errors import InputError, Problem
from xkaohe.io.rectification import read_register, read_registers, write_registers
from xkaohe.io.results import run_plan
from xkaohe.report.feedback import REGISTER_COLUMNS
from xkaohe.run.feedback_files import read_manifest

HEADERS = {k: v for k, v in REGISTER_COLUMNS.items()}


def import_registers(run: Path, files: Sequence[Path]) -> pl.DataFrame:
    """Check every returned register; store them only if all pass.

    Raises
    ------
    InputError
        Every problem of every file (file, row, column, expected, found);
        nothing is imported then.
    """
    if not files:
        raise InputError(Problem("FILE", None, None, "one or more returned registers", "none"))
    plan = run_plan(run)
    packages = read_manifest(run)
    parts: list[pl.DataFrame] = []
    problems: list[Problem] = []
    for f in files:
        rows = read_register(Path(f), HEADERS)
        clean, found = validate(rows, str(f), HEADERS, packages, plan)
        parts.append(clean)
        problems += found
    new = pl.concat(parts, how="vertical")
    dup = new.filter(pl.struct("package_id", "problem_id").is_duplicated())
    for r in dup.iter_rows(named=True):
        problems.append(
            Problem(
                r["file"], r["row"], HEADERS["problem_id"], "each problem once", r["problem_id"]
            )
        )
    if problems:
        raise InputError(problems)
    old = read_registers(run)
    if old is not None:
        new = pl.concat(
            [old.join(new, on=["package_id", "problem_id"], how="anti"), new], how="vertical"
        )
    new = new.sort("package_id", "problem_id")
    write_registers(run, new, [Path(f) for f in files])
    return new


def rectification_progress(run: Path, as_of: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per problem and per unit: how the rectification stands on ``as_of``."""
    plan = run_plan(run)
    packages = read_manifest(run)
    register = read_registers(run)
    if register is None:
        register = validate(
            pl.DataFrame({"_row": []}, schema={"_row": pl.Int64}), "", {}, {}, plan
        )[0]
    table = progress(register, packages, plan, as_of)
    return table, summary(table, plan)


__all__ = ["HEADERS", "import_registers", "rectification_progress"]
