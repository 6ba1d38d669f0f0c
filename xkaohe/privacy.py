"""One masking of personal data: structured columns and free text (plan 八, discipline).

Plan 八 forbids leaking household, project and interview material, and
DESIGN.md requires that personal data never reach a report, the explorer or
a feedback package unmasked. Every such text passes :func:`mask_text` (one
string) or :func:`mask_frame` (a table); nothing else in xkaohe masks.

What is found, and how it is masked
-----------------------------------
Text is first *folded* one character for one character (full-width digits,
letters, brackets and the ideographic space become ASCII; dashes and
zero-width or no-break spaces become ``-`` and a space), so that every
written form is matched by one set of patterns while the output keeps the
writer's own characters. Only the hidden characters change: each becomes
``*``; separators, prefixes and the kept characters stay as written.

* **ID numbers** (GB 11643): 18 characters (17 digits and a digit or ``X``)
  or 15 digits (the first-generation number), written whole or with a space,
  two spaces or a dash (optionally spaced) between any two characters, not
  inside a longer run of digits. The first 6 and the last 2 characters stay:
  ``340121**********4X``. An 18-character candidate is masked when its check
  character is right **or** when it is plausible (a province prefix that
  exists and a real birth date): a number with a wrong check character still
  identifies its holder, so a typo must not unmask it. The checksum decides
  the rest: 18 digits that are neither (no real prefix or date, wrong check
  character) are left alone. A 15-digit candidate must be plausible (prefix
  and a 19YYMMDD date) and must not follow a Latin letter, so that helper ids
  such as ``H340121001001001`` stay readable.
* **Mobile numbers**: ``1[3-9]`` and 9 more digits, with the same separators,
  optionally preceded by ``+86``, ``0086``, ``86`` or ``(+86)``; the first 3
  and the last 4 digits stay: ``138****5678``.
* **Landline numbers**: an area code (``010``, ``02x`` or ``0`` and 3 digits,
  in brackets or not, or after ``+86`` without its ``0``) and a 7–8 digit local number
  starting with 2–9; the area code and the last 2 digits stay
  (``0551-******56``). A local number without area code (7–8 digits) is
  masked only right after a word that announces it (电话, 手机, 座机, 联系方式,
  号码, tel, phone), because such runs are otherwise amounts and codes.
* **Names** the run knows (:class:`KnownNames`: household heads, helpers,
  cadres, assessors): matched also when spaces are written between the
  characters; the surname character stays, every other character becomes
  ``*`` (``张**``). Place names and plan labels given as ``keep`` are never
  masked, even when they contain a name (黄山 in 黄山市), because the county
  needs them. Names the run does not know are not found: the mask is a safety
  net, teams still must not write names.

Kept as they are: registry codes (household, village, county, helper and
project ids), amounts and dates. They contain digit runs that a looser
pattern would cut up, and they identify a person only to whoever already
holds the registry. Numbers written in Chinese numerals are not found.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import polars as pl

# ------------------------------------------------------------------ folding

_FOLD: dict[int, str] = {0xFF01 + i: chr(0x21 + i) for i in range(94)}  # full-width ASCII
_FOLD.update({c: " " for c in (0x3000, 0x00A0, 0x2007, 0x202F, 0x200B, 0x200C, 0x200D, 0xFEFF)})
_FOLD.update({c: "-" for c in (0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xFE63)})
_FOLD_TABLE = str.maketrans(_FOLD)


def _fold(text: str) -> str:
    """``text`` with one ASCII (or space) character for each full-width or exotic one."""
    return text.translate(_FOLD_TABLE)


# ------------------------------------------------------------------ numbers

_SEP = r"(?:[ \t]{1,2}|[ \t]?[-.][ \t]?)?"
"""At most one separator between two characters of a number (never ambiguous: no backtracking
blow-up on long runs of digits)."""


def _run(first: str, rest: int, last: str = "[0-9]") -> str:
    """``first``, ``rest`` digits and ``last``, each after an optional separator."""
    return first + f"(?:{_SEP}[0-9]){{{rest}}}" + _SEP + last


_ID18 = re.compile(r"(?<![0-9])" + _run("[0-9]", 16, "[0-9Xx]") + r"(?![0-9])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])" + _run("[0-9]", 13) + r"(?![0-9])")
_MOBILE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)?86" + _SEP + r"|\(\+?86\)" + _SEP + r")?"
    r"(?P<n>1" + _SEP + r"[3-9](?:" + _SEP + r"[0-9]){9})(?![0-9])"
)
_AREA = r"(?:10|2[0-9]|[3-9][0-9]{2})"
"""An area code without its 0: 010 and 02x have 3 digits with the 0, every other 4 (GB/T 19778)."""
_LANDLINE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)86" + _SEP + r"\(?0?" + _AREA + r"\)?"
    r"|\([ \t]?0"
    + _AREA
    + r"[ \t]?\)|0"
    + _AREA
    + ")"
    + _SEP
    + r"(?P<n>[2-9](?:"
    + _SEP
    + r"[0-9]){6,7})(?![0-9])"
)
_ANNOUNCED = re.compile(
    r"(?:电话|手机|座机|联系方式|号码|tel|phone)[:： \t]*(?P<n>[0-9](?:"
    + _SEP
    + r"[0-9]){6,7})(?![0-9])",
    re.IGNORECASE,
)

_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)
"""The first two digits of every GB/T 2260 province-level code (and 83, Taiwan residents)."""
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_checksum_ok(id_number: str) -> bool:
    """True when ``id_number`` is 17 digits and its right GB 11643 check character."""
    s = _fold(id_number).upper()
    if len(s) != 18 or not s[:17].isascii() or not s[:17].isdigit():
        return False
    return _CHECK[sum(int(d) * w for d, w in zip(s[:17], _WEIGHTS, strict=True)) % 11] == s[17]


def _real_date(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def _plausible_id(chars: str) -> bool:
    """A real province prefix and birth date (18: 1900–2099; 15: 19YY)."""
    if int(chars[:2]) not in _PROVINCES:
        return False
    if len(chars) == 18:
        year, rest = int(chars[6:10]), chars[10:14]
        if not 1900 <= year <= 2099:
            return False
    else:
        year, rest = 1900 + int(chars[6:8]), chars[8:12]
    return _real_date(year, int(rest[:2]), int(rest[2:]))


def _hide(out: list[str], view: list[str], positions: list[int]) -> None:
    for i in positions:
        out[i] = "*"
        view[i] = "*"


def _digits_at(view: list[str], start: int, end: int) -> list[int]:
    """Positions of the number characters (digits, X) in ``view[start:end]``."""
    return [i for i in range(start, end) if view[i].isdigit() or view[i] in "Xx"]


def _mask_numbers(out: list[str], view: list[str]) -> None:
    """Hide ID, mobile and landline numbers in place (``view`` is the folded ``out``)."""
    for pattern in (_ID18, _ID15):
        for m in list(pattern.finditer("".join(view))):
            pos = _digits_at(view, m.start(), m.end())
            chars = "".join(view[i] for i in pos).upper()
            if _plausible_id(chars) or (len(chars) == 18 and id_checksum_ok(chars)):
                _hide(out, view, pos[6:-2])
    for m in list(_MOBILE.finditer("".join(view))):
        _hide(out, view, _digits_at(view, m.start("n"), m.end("n"))[3:7])
    for pattern in (_LANDLINE, _ANNOUNCED):
        for m in list(pattern.finditer("".join(view))):
            _hide(out, view, _digits_at(view, m.start("n"), m.end("n"))[:-2])


# -------------------------------------------------------------------- names


_FOLDABLE = re.compile("[\\s" + "".join(re.escape(chr(c)) for c in _FOLD) + "]")


def _compact(word: str) -> str:
    """``word`` folded, without whitespace (most names need neither: checked first, fast)."""
    return "".join(_fold(word).split()) if _FOLDABLE.search(word) else word


@dataclass(frozen=True)
class KnownNames:
    """The personal names a run knows, and the words never masked.

    Build it once per run with :meth:`build` (sets: millions of names cost a
    hash lookup per character of text, not a pattern each).
    """

    names: frozenset[str] = frozenset()
    keep: frozenset[str] = frozenset()
    _longest: int = field(init=False, repr=False, compare=False)
    _longest_keep: int = field(init=False, repr=False, compare=False)
    _starts: frozenset[str] = field(init=False, repr=False, compare=False)

    @classmethod
    def build(cls, names: Iterable[str | None], keep: Iterable[str | None] = ()) -> KnownNames:
        """Names (two characters or more; nulls ignored) and protected words such as place names.

        Spaces inside a name or word are dropped: it is matched with or without them.
        """
        kept = frozenset(w for w in (_compact(k) for k in keep if k) if len(w) >= 2)
        people = frozenset(w for w in (_compact(n) for n in names if n) if len(w) >= 2)
        return cls(people - kept, kept)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_longest", max(map(len, self.names), default=0))
        object.__setattr__(self, "_longest_keep", max(map(len, self.keep), default=0))
        object.__setattr__(self, "_starts", frozenset(w[0] for w in self.names | self.keep))

    def mask(self, out: list[str], view: list[str]) -> None:
        """Hide every known name in place, leftmost first, protected words before names.

        At each position a protected word (longest) is skipped whole, else the
        longest name starting there is masked, else the scan moves one character.
        """
        if not self.names:
            return
        starts, longest, longest_keep = self._starts, self._longest, self._longest_keep
        where = [i for i, c in enumerate(view) if not c.isspace()]
        text = "".join(view[i] for i in where)
        i, n = 0, len(text)
        while i < n:
            if text[i] not in starts:
                i += 1
                continue
            step = next(
                (k for k in range(min(longest_keep, n - i), 1, -1) if text[i : i + k] in self.keep),
                0,
            )
            if step:
                i += step
                continue
            size = next(
                (k for k in range(min(longest, n - i), 1, -1) if text[i : i + k] in self.names),
                0,
            )
            if size:
                _hide(out, view, where[i + 1 : i + size])
                i += size
            else:
                i += 1


def _as_known(known_names: KnownNames | Iterable[str | None]) -> KnownNames:
    if isinstance(known_names, KnownNames):
        return known_names
    if isinstance(known_names, str):
        return KnownNames.build([known_names])
    return KnownNames.build(known_names)


# --------------------------------------------------------------- public API


def mask_text(text: str, known_names: KnownNames | Iterable[str | None] = ()) -> str:
    """``text`` with ID numbers, phone numbers and known names masked (see the module docstring).

    Parameters
    ----------
    text
        Any free text (a problem description, evidence, a suggestion, a claim).
    known_names
        The run's :class:`KnownNames`, or plain names (then built on each call:
        build once for many texts).

    Returns
    -------
    str
        The same length as ``text``; only hidden characters changed, to ``*``.
    """
    if not text:
        return text
    out = list(text)
    view = list(_fold(text))
    if sum(c.isdigit() for c in view) >= 7:
        _mask_numbers(out, view)
    _as_known(known_names).mask(out, view)
    return "".join(out)


def mask_name(name: str) -> str:
    """张三丰 -> 张**: the first character stays, every other non-space one is hidden."""
    s = name.strip()
    return s[:1] + "".join(c if c.isspace() else "*" for c in s[1:])


def mask_phone(phone: str) -> str:
    """A phone column value: as in free text (``138****5678``); anything else keeps its last 2."""
    masked = mask_text(phone)
    if masked != phone:
        return masked
    digits = [i for i, c in enumerate(_fold(phone)) if c.isdigit()]
    hide = set(digits[:-2]) if len(digits) > 2 else set(range(len(phone)))
    return "".join("*" if i in hide else c for i, c in enumerate(phone))


def mask_id_number(id_number: str) -> str:
    """An ID number column value: the first 6 and last 2 characters stay (short: all hidden)."""
    chars = [i for i, c in enumerate(_fold(id_number)) if c.isalnum()]
    hide = set(chars[6:-2]) if len(chars) >= 15 else set(chars)
    return "".join("*" if i in hide else c for i, c in enumerate(id_number))


PERSONAL_COLUMNS: dict[str, Callable[[str], str]] = {
    "head_name": mask_name,
    "phone": mask_phone,
    "head_id_number": mask_id_number,
}
"""Columns that hold personal data whole, and how each value is masked."""


def mask_frame(
    df: pl.DataFrame,
    known_names: KnownNames | Iterable[str | None] = (),
    columns: Iterable[str] | None = None,
) -> pl.DataFrame:
    """``df`` with personal columns masked by kind and text columns by :func:`mask_text`.

    Parameters
    ----------
    df
        Any table; nulls stay null, non-string columns are untouched.
    known_names
        The run's :class:`KnownNames` (or plain names).
    columns
        The free-text columns to mask; default every string column that is not
        in :data:`PERSONAL_COLUMNS` (safe; name only the text columns of a big
        table to save time). Unknown names are ignored.

    Returns
    -------
    pl.DataFrame
        Same shape, columns and order. Each distinct value is masked once.
    """
    known = _as_known(known_names)
    strings = [c for c, t in df.schema.items() if t == pl.String]
    chosen = [c for c in strings if c not in PERSONAL_COLUMNS] if columns is None else list(columns)
    how: dict[str, Callable[[str], str]] = {
        c: (lambda v: mask_text(v, known)) for c in chosen if c in strings
    }
    how.update({c: f for c, f in PERSONAL_COLUMNS.items() if c in strings})
    updates = []
    for c, f in how.items():
        values = df[c].drop_nulls().unique().to_list()
        changed = {v: m for v in values if (m := f(v)) != v}
        if changed:
            updates.append(
                pl.col(c).replace_strict(changed, default=pl.col(c), return_dtype=pl.String)
            )
    return df.with_columns(updates) if updates else df


__all__ = [
    "PERSONAL_COLUMNS",
    "KnownNames",
    "id_checksum_ok",
    "mask_frame",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "mask_text",
]
