"""Header maps: an office's own column headers mapped to canonical names (issue 15, item 2).

Offices export the same table under many headers (``资金``, ``资金规模（万元）``,
``资金规模 (元)``). Matching compares *header keys* (:func:`header_key`):
full-width characters folded to half-width (NFKC), spaces dropped, lower
case, and a trailing unit cut off — bracketed (``（万元）``, ``[元]``, any
trailing bracketed note such as ``（必填）``) or bare (``资金规模元``). The unit is
kept: a header in 万元 for a column held in 元 scales the values by 10,000
(:func:`unit_scale`).

A user's map (``params/columns.yaml`` or ``--columns FILE``) names, per table,
the office header of each canonical column::

    projects:
      资金: funds_yuan
      项目代码: project_id

Map keys are matched by header key too, so ``资金: funds_yuan`` also matches a
header ``资金（万元）`` (and scales it).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xkaohe import schemas
from xkaohe.errors import InputError, Problem
from xkaohe.io.files import read_text
from xkaohe.yamltext import excerpt, load_yaml_text

UNITS: dict[str, tuple[str, float]] = {
    "元": ("money", 1.0),
    "千元": ("money", 1e3),
    "万元": ("money", 1e4),
    "万": ("money", 1e4),
    "亿元": ("money", 1e8),
    "公里": ("distance", 1.0),
    "千米": ("distance", 1.0),
    "km": ("distance", 1.0),
    "米": ("distance", 1e-3),
    "m": ("distance", 1e-3),
}
"""Units a header may carry: family and factor to the family's base unit."""

# Bare units cut from the end of a header (longest first); one-character
# units other than 元 are too ambiguous to cut without brackets.
_BARE_UNITS = ("亿元", "千元", "万元", "公里", "千米", "元")
_TRAILING_BRACKETS = re.compile(r"^(.+?)[(\[【〔<《]([^()\[\]【】〔〕<>《》]*)[)\]】〕>》]$")

ALL_TABLES: dict[str, schemas.TableSpec] = {
    s.name: s for s in (*schemas.FRAME_TABLES, *schemas.ROSTER_TABLES, *schemas.FIELD_TABLES)
}


def header_key(text: str) -> tuple[str, str | None]:
    """The key a header is matched by, and the unit it names (None if none known).

    >>> header_key("资金规模（万元）")
    ('资金规模', '万元')
    >>> header_key(" 户 编号 ")
    ('户编号', None)
    """
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()
    unit: str | None = None
    m = _TRAILING_BRACKETS.match(s)
    if m:
        s, inside = m.group(1), m.group(2)
        top = inside.split("/")[0]  # 元/人: money per person
        unit = top if top in UNITS else None
    for bare in _BARE_UNITS:
        if s.endswith(bare) and len(s) > len(bare):
            s = s[: -len(bare)]
            unit = unit or bare
            break
    return s, unit


def base_unit(col: schemas.Column) -> str | None:
    """The unit a column's values are held in, read off its Chinese header (``资金规模元``)."""
    return header_key(col.alias)[1]


def unit_scale(col: schemas.Column, header: str) -> tuple[float, str | None]:
    """Factor turning values under ``header`` into the column's unit, and a problem text.

    A header without a unit, or a column without one, reads as is (factor 1).
    A unit of another kind (公里 for an amount of money) is a problem.
    """
    given, held = header_key(header)[1], base_unit(col)
    if given is None or held is None:
        return 1.0, None
    (kind, factor), (held_kind, held_factor) = UNITS[given], UNITS[held]
    if kind != held_kind:
        return 1.0, f"a header in {held} (or another unit of {held_kind})"
    return factor / held_factor, None


@dataclass(frozen=True)
class ColumnMap:
    """Per table, office header -> canonical column name; ``source`` names the map file."""

    tables: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    source: str | None = None

    def headers(self, table: str, canonical: str) -> list[str]:
        """The office headers the map gives for one canonical column."""
        return [h for h, c in self.tables.get(table, {}).items() if c == canonical]

    def as_dict(self) -> dict[str, dict[str, str]]:
        """Plain data (recorded in certificates so a re-derivation reads the same way)."""
        return {t: dict(m) for t, m in sorted(self.tables.items()) if m}


NO_MAP = ColumnMap()


def parse_column_map(data: Any, source: str) -> ColumnMap:
    """Validate a column map's data: known tables, known canonical columns, text headers."""
    if data is None:
        return ColumnMap({}, source)
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise InputError(
            Problem(source, None, None, "a mapping table -> {header: column}", excerpt(data))
        )
    tables: dict[str, dict[str, str]] = {}
    for table, mapping in data.items():
        spec = ALL_TABLES.get(str(table))
        if spec is None:
            problems.append(
                Problem(
                    source,
                    None,
                    excerpt(table),
                    f"a table name, one of {', '.join(sorted(ALL_TABLES))}",
                    "an unknown table",
                )
            )
            continue
        if mapping is None:
            continue
        if not isinstance(mapping, dict):
            problems.append(
                Problem(source, None, str(table), "header: column lines", excerpt(mapping))
            )
            continue
        names = {c.name for c in spec.columns}
        tables[spec.name] = {}
        for header, canonical in mapping.items():
            if str(canonical) not in names:
                close = difflib.get_close_matches(str(canonical), sorted(names), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                problems.append(
                    Problem(
                        source,
                        None,
                        f"{table}.{excerpt(header)}",
                        f"a column of {table}: {', '.join(c.name for c in spec.columns)}",
                        f"{excerpt(canonical)}{hint}",
                    )
                )
                continue
            tables[spec.name][str(header)] = str(canonical)
    if problems:
        raise InputError(problems)
    return ColumnMap(tables, source)


def load_column_map(path: str | Path | None) -> ColumnMap:
    """Read a column map file; ``None`` is the empty map (canonical and Chinese headers only)."""
    if path is None:
        return NO_MAP
    p = Path(path)
    if not p.is_file():
        raise InputError(Problem(str(p), None, None, "a column map file (YAML)", "no such file"))
    return parse_column_map(load_yaml_text(read_text(p), str(p)), str(p))


def closest_headers(
    wanted: list[str], headers: list[str], n: int = 3, cutoff: float = 0.4
) -> list[str]:
    """The file's headers most like any of ``wanted`` (difflib on header keys, ratio >= cutoff)."""
    keys = {header_key(h)[0]: h for h in headers}
    scores: dict[str, float] = {}
    for w in wanted:
        wk = header_key(w)[0]
        for k, h in keys.items():
            ratio = difflib.SequenceMatcher(None, wk, k).ratio()
            if ratio >= cutoff:
                scores[h] = max(scores.get(h, 0.0), ratio)
    return [h for h, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def map_line(table: str, header: str, canonical: str) -> str:
    """The line to add to the column map for ``header`` to read as ``canonical``."""
    return f"{table}: {{{header}: {canonical}}}"


__all__ = [
    "ALL_TABLES",
    "NO_MAP",
    "UNITS",
    "ColumnMap",
    "base_unit",
    "closest_headers",
    "header_key",
    "load_column_map",
    "map_line",
    "parse_column_map",
    "unit_scale",
]
