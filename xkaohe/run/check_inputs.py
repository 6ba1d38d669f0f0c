"""``xkaohe check-inputs DIR``: how a frame, roster or field folder reads, before any run.

Per file: how each column was mapped (file header -> canonical name, with a
unit scale), which needed columns are missing (with the column-map line that
fixes each), which headers no command reads, what was skipped (totals rows,
sheets without the table), and every row problem. The checks are the
commands' own (:func:`xkaohe.io.tables.inspect_table`, the frame's
cross-table checks, the roster's), run with the columns the commands read
(:data:`xkaohe.io.frame.SAMPLING_COLUMNS`, :data:`~xkaohe.io.frame.INDICATOR_COLUMNS`),
so a clean bill here means the commands read the folder (issue 15, item 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xkaohe import schemas
from xkaohe.errors import InputError, Problem
from xkaohe.inputs import Frame
from xkaohe.io.columns import ColumnMap, load_column_map
from xkaohe.io.frame import INDICATOR_COLUMNS, SAMPLING_COLUMNS, check_frame
from xkaohe.io.roster import load_roster
from xkaohe.io.tables import EXTENSIONS, TableRead, find_table, inspect_table

KINDS: dict[str, tuple[schemas.TableSpec, ...]] = {
    "frame": schemas.FRAME_TABLES,
    "roster": schemas.ROSTER_TABLES,
    "field": schemas.FIELD_TABLES,
}
"""The folders check-inputs knows, and their tables (a field folder's tables are optional)."""
_PROBLEMS_SHOWN = 50  # row problems printed per file


@dataclass(frozen=True)
class InputReport:
    """What check-inputs prints, and whether anything would stop a run (exit 2)."""

    lines: list[str]
    blocking: bool
    problems: tuple[Problem, ...] = ()


def _needed(kind: str, name: str) -> frozenset[str] | None:
    """The columns any command reads of a table (None: all of them)."""
    if kind != "frame":
        return None
    parts = [m[name] for m in (SAMPLING_COLUMNS, INDICATOR_COLUMNS) if name in m]
    if len(parts) < 2:  # a table some command reads whole
        return None
    return frozenset().union(*parts)


def _kinds(directory: Path) -> list[str]:
    """Which kinds of folder ``directory`` holds tables of (usually one)."""
    return [
        kind
        for kind, specs in KINDS.items()
        if any(find_table(directory, s.name) is not None for s in specs)
    ]


def _file_lines(read: TableRead) -> list[str]:
    rows = f": {read.df.height:,} rows" if read.df is not None and not read.problems else ""
    head = f"{read.path.name} ({read.spec.name})" if read.path else f"{read.spec.name}: no file"
    lines = [head + rows]
    if read.mapped:
        shown = [
            (c if h == c else f"{c} <- {h}")
            + (f" (x {read.scales[c]:,g})" if read.scales.get(c, 1.0) != 1.0 else "")
            for c, h in read.mapped.items()
        ]
        lines.append(f"  columns: {', '.join(shown)}")
    if read.ignored:
        lines.append(f"  not read (no command uses them): {', '.join(read.ignored)}")
    lines += [f"  note: {n}" for n in read.notes]
    for p in read.problems[:_PROBLEMS_SHOWN]:
        lines.append(f"  PROBLEM {p}")
    if len(read.problems) > _PROBLEMS_SHOWN:
        lines.append(f"  ... and {len(read.problems) - _PROBLEMS_SHOWN} more problems")
    return lines


def _cross_checks(
    kind: str, directory: Path, reads: list[TableRead], columns: ColumnMap
) -> list[Problem]:
    """The commands' checks across tables, once every table reads on its own."""
    if any(r.problems for r in reads):
        return []
    tables = {r.spec.name: r.df for r in reads if r.df is not None}
    if kind == "frame" and len(tables) == len(schemas.FRAME_TABLES):
        tables["counties"] = schemas.normalise_counties(tables["counties"])
        frame = Frame(**tables)  # type: ignore[arg-type]
        return check_frame(frame, {r.spec.name: str(r.path) for r in reads})
    if kind == "roster" and len(tables) == len(schemas.ROSTER_TABLES):
        try:
            load_roster(directory, columns)
        except InputError as exc:
            return exc.problems
    return []


def check_inputs(directory: Path, columns: Path | None = None) -> InputReport:
    """Read every table of a frame, roster or field folder as the commands do; report it all.

    Raises
    ------
    InputError
        ``directory`` is not a folder, or holds no table check-inputs knows.
    """
    header_map = load_column_map(columns)
    if not directory.is_dir():
        raise InputError(Problem(str(directory), None, None, "a directory", "no such directory"))
    kinds = _kinds(directory)
    if not kinds:
        known = ", ".join(s.name for specs in KINDS.values() for s in specs)
        raise InputError(
            Problem(
                str(directory),
                None,
                None,
                f"tables of a frame, roster or field folder ({known}; {'/'.join(EXTENSIONS)})",
                "none of them",
            )
        )
    lines: list[str] = []
    problems: list[Problem] = []
    for kind in kinds:
        lines.append(f"{directory} ({kind}{', column map ' + str(columns) if columns else ''}):")
        reads = [
            inspect_table(
                directory,
                spec,
                required=kind != "field",
                only=_needed(kind, spec.name),
                columns=header_map,
            )
            for spec in KINDS[kind]
        ]
        for read in reads:
            if read.path is None and not read.problems:
                lines.append(f"{read.spec.name}: no file (reads as empty)")
                continue
            lines += _file_lines(read)
            problems += read.problems
        cross = _cross_checks(kind, directory, reads, header_map)
        if cross:
            lines.append("across tables:")
            lines += [f"  PROBLEM {p}" for p in cross[:_PROBLEMS_SHOWN]]
            problems += cross
    if problems:
        lines.append(f"{len(problems)} problem(s): a run would stop here (exit 2)")
    else:
        lines.append("clean: every table reads; nothing would stop a run")
    return InputReport(lines, bool(problems), tuple(problems))
