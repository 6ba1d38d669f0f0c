"""The personal names a run knows, for the one masker (:mod:`xkaohe.privacy`).

Free text (a problem's description, evidence, suggestion, an interview
claim) can name anyone the run knows: a household head of the registry
extract, a helper, a cadre or an assessor. The masker finds such names only
when it is given them, so every loader that shows free text builds its
:class:`~xkaohe.privacy.KnownNames` from :func:`read_known_names` (plus, if
it likes, names it already holds).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from xkaohe import schemas
from xkaohe.errors import InputError
from xkaohe.io.memo import remembered
from xkaohe.io.tables import read_table
from xkaohe.privacy import KnownNames


def _column(directory: Path, spec: schemas.TableSpec, columns: frozenset[str]) -> pl.DataFrame:
    if not directory.is_dir():
        return pl.DataFrame()
    # names are looked up, never certified: no hash (a national extract costs seconds)
    df, _, problems = read_table(directory, spec, required=False, only=columns, hashed=False)
    if problems:
        raise InputError(problems)
    return pl.DataFrame() if df is None else df


def read_known_names(run: Path, county_codes: list[str] | None = None) -> list[str]:
    """Household heads of the run's frame (of ``county_codes``; None: all), assessors, the
    places' liaisons, team members.

    Parameters
    ----------
    run
        The run folder; ``frame/``, ``roster/`` and ``lottery/members.csv`` are
        read when present.
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
    liaisons = _column(run / "roster", schemas.LIAISONS, frozenset({"name"}))  # 联络员, 四(二)
    members = run / "lottery" / "members.csv"  # the teams drawn (their roster may live elsewhere)
    drawn = pl.read_csv(members, infer_schema=False) if members.is_file() else pl.DataFrame()
    names = [
        *(heads["head_name"].drop_nulls().to_list() if heads.height else []),
        *(assessors["name"].drop_nulls().to_list() if assessors.height else []),
        *(liaisons["name"].drop_nulls().to_list() if liaisons.height else []),
        *(drawn["name"].drop_nulls().to_list() if "name" in drawn.columns else []),
    ]
    return sorted(set(names))


def _sources(run: Path) -> list[Path]:
    """The folders and files the names come from (a file added, changed or removed counts)."""
    out: list[Path] = []
    for folder, table in (
        ("frame", "households"),
        ("roster", "assessors"),
        ("roster", "liaisons"),
        ("lottery", "members"),
    ):
        d = run / folder
        out += [d, *sorted(d.glob(f"{table}.*"))] if d.is_dir() else [d]
    return out


def known_names(run: Path, keep: Iterable[str | None] = ()) -> KnownNames:
    """:class:`~xkaohe.privacy.KnownNames` of every name the run knows, sparing ``keep``.

    All of the run's household heads and assessors, whatever the report's
    scope: a county's problem may name someone registered elsewhere. Built
    once per warm kernel while the files and ``keep`` are unchanged
    (:mod:`xkaohe.io.memo`): a province's 1.5 million names take about a
    second to build.
    """
    words = sorted({k for k in keep if k})
    digest = hashlib.sha256("\n".join(words).encode("utf-8")).hexdigest()
    sources = _sources(run)
    # The names are read once whatever is spared (30 million heads nationally).
    names = remembered("known_names", sources, lambda: read_known_names(run))
    return remembered(f"known_names:{digest}", sources, lambda: KnownNames.build(names, words))


__all__ = ["known_names", "read_known_names"]
