"""The personal names a run knows, for the one masker (:mod:`xkaohe.privacy`).

Free text (a problem's description, evidence, suggestion, an interview
claim) can name anyone the run knows: a household head of the registry
extract, a helper, a cadre or an assessor. The masker finds such names only
when it is given them, so every loader that shows free text builds its
:class:`~xkaohe.privacy.KnownNames` from :func:`read_known_names` (plus, if
it likes, names it already holds).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from xkaohe import schemas
from xkaohe.errors import InputError
from xkaohe.io.tables import read_table


def _column(directory: Path, spec: schemas.TableSpec, columns: frozenset[str]) -> pl.DataFrame:
    if not directory.is_dir():
        return pl.DataFrame()
    df, _, problems = read_table(directory, spec, required=False, only=columns)
    if problems:
        raise InputError(problems)
    return pl.DataFrame() if df is None else df


def read_known_names(run: Path, county_codes: list[str] | None = None) -> list[str]:
    """Household heads of the run's frame (of ``county_codes``; None: all) and its assessors.

    Parameters
    ----------
    run
        The run folder; ``frame/`` and ``roster/`` are read when present.
    county_codes
        Only these counties' household heads (a county report names its own
        people); assessors are always included (they travel between cities).

    Returns
    -------
    list[str]
        Distinct names, sorted (a run without a frame or roster gives fewer or none).
    """
    heads = _column(run / "frame", schemas.HOUSEHOLDS, frozenset({"head_name", "village_code"}))
    if county_codes is not None and heads.height:
        villages = _column(run / "frame", schemas.VILLAGES, frozenset({"county_code"}))
        mine = villages.filter(pl.col("county_code").is_in(county_codes))["village_code"]
        heads = heads.filter(pl.col("village_code").is_in(mine.implode()))
    assessors = _column(run / "roster", schemas.ASSESSORS, frozenset({"name"}))
    names = [
        *(heads["head_name"].drop_nulls().to_list() if heads.height else []),
        *(assessors["name"].drop_nulls().to_list() if assessors.height else []),
    ]
    return sorted(set(names))


__all__ = ["read_known_names"]
