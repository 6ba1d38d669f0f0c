"""The input tables as typed records: what ``io`` reads and every stage takes.

These live below ``io`` and the stages so both sides can name them without
importing each other: ``io`` fills them, ``draw``, ``field`` and ``analyse``
read them. Every table carries ``_row`` (:data:`ROW`), the row of the file it
came from, so a message can name file, row and column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from dataclasses import field as dataclass_field
from pathlib import Path

import polars as pl

from xkaohe.plan import Teams

ROW = "_row"
"""The column every input table carries: its 1-based row in the file (header = 1)."""


@dataclass(frozen=True)
class TableFile:
    """Which file a table came from, and its hash (for certificates; None: not hashed,
    the command that read it records no hash)."""

    name: str
    path: Path
    sha256: str | None


@dataclass(frozen=True)
class HouseholdsWanted:
    """The households a caller needs whole: every household of ``villages``, and ``ids``."""

    villages: pl.Series
    ids: pl.Series

    def rows(self, village: str = "village_code", household: str = "household_id") -> pl.Expr:
        """Whether a household is wanted, by its columns ``village`` and ``household``."""
        return pl.col(village).is_in(self.villages.implode()) | pl.col(household).is_in(
            self.ids.implode()
        )


@dataclass(frozen=True)
class Frame:
    """The five frame tables, typed and canonical, with the files they came from."""

    counties: pl.DataFrame
    villages: pl.DataFrame
    households: pl.DataFrame
    projects: pl.DataFrame
    project_beneficiaries: pl.DataFrame
    files: tuple[TableFile, ...] = ()

    @staticmethod
    def from_tables(tables: dict[str, pl.DataFrame]) -> Frame:
        """A Frame from in-memory tables with canonical columns (tests, synth)."""
        with_rows = {
            name: df
            if ROW in df.columns
            else df.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
            for name, df in tables.items()
        }
        return Frame(
            counties=with_rows["counties"],
            villages=with_rows["villages"],
            households=with_rows["households"],
            projects=with_rows["projects"],
            project_beneficiaries=with_rows["project_beneficiaries"],
        )


@dataclass(frozen=True)
class Field:
    """The field tables, typed and canonical, each with ``_row``.

    ``claims`` (issue 13) is empty when none were delivered; a hand-built
    Field without it has a table with no columns.
    """

    household_survey: pl.DataFrame
    interviews: pl.DataFrame
    project_checks: pl.DataFrame
    problems: pl.DataFrame
    experiences: pl.DataFrame
    files: tuple[TableFile, ...] = ()
    claims: pl.DataFrame = dataclass_field(default_factory=pl.DataFrame)

    def tables(self) -> dict[str, pl.DataFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "files"}


@dataclass(frozen=True)
class Roster:
    """``cities`` and ``assessors`` as DESIGN.md's roster contract defines them.

    Optional tables (None when the roster has no such file): ``liaisons``,
    the assessed places' liaisons (联络员, 四(二)); ``office_members``, the
    office's own team lists (``teams.selection: office_list``, 六(一)).
    """

    cities: pl.DataFrame
    assessors: pl.DataFrame
    files: tuple[TableFile, ...] = ()
    liaisons: pl.DataFrame | None = None
    office_members: pl.DataFrame | None = None


LOTTERY_PROTOCOL = "lottery-prn-v1"
CITY_SEP = ";"  # separates the cities of ``teams.target_cities``
_S, _I, _F = pl.String(), pl.Int64(), pl.Float64()
LOTTERY_SCHEMAS: Mapping[str, Mapping[str, pl.DataType]] = {
    "teams": {
        "team_id": _S,
        "leader_id": _S,
        "deputy_id": _S,
        "target_group": _S,
        "target_cities": _S,
        "size": _I,
        "source_city": _S,
        "counties": _I,
        "grassroots": _I,
        "grassroots_min": _I,
        "grassroots_share": _F,
    },
    "members": {
        "team_id": _S,
        "person_id": _S,
        "role": _S,
        "level": _S,
        "home_city": _S,
        "name": _S,
        "unit": _S,
        "kind": _S,
        "prn": _F,
    },
    "pairs": {
        "team_id": _S,
        "person_a": _S,
        "person_b": _S,
        "pair_no": _I,
        "level_a": _S,
        "level_b": _S,
    },
}


@dataclass(frozen=True, eq=False)
class Lottery:
    """The drawn teams, their members and household-visit pairs.

    ``rules`` is the plan's ``teams:`` section the draw applied;
    ``leader_rejections`` and ``pool_skips`` count the look-ahead pass-overs
    of protocol steps 2 and 3-5 (both 0 when the plain walk reproduces the draw).
    """

    teams: pl.DataFrame
    members: pl.DataFrame
    pairs: pl.DataFrame
    seed: str
    rules: Teams
    leader_rejections: int = 0
    pool_skips: int = 0
    protocol: str = LOTTERY_PROTOCOL

    @property
    def row_counts(self) -> dict[str, int]:
        """Rows of each output table."""
        return {
            "teams": self.teams.height,
            "members": self.members.height,
            "pairs": self.pairs.height,
        }
