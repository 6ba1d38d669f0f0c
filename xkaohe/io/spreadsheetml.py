"""The parts of an xlsx file (Office Open XML SpreadsheetML, ECMA-376 Part 1) and its zip.

What :mod:`xkaohe.io.xlsx` prints and nothing more: sheets of text, numbers and
blank cells in three styles (header, cell, percent), shared strings, column
widths, a frozen header row, an autofilter, A4 print setup fitted to the page
width with the header row repeated, a page header and footer, and the
workbook's title, author and date.

Each part is written as the xlsxwriter library (3.x) wrote it for the same
workbook, element for element, and zipped the same way (deflated at zlib's
default level, dated 1980-01-01), so the field lists kept their bytes when this
module replaced it (issue 16: xlsxwriter spent about 10 ms on a field list,
most of it on a Python object for each cell; here a cell is one f-string). The
theme part, ``xlsx_theme.xml``, is the Office default theme as xlsxwriter ships
it. Where xlsxwriter erred this does not (a text that reads like rich-text
markup stays text; a tab named with ``!`` is listed whole among the document's
parts), and a tab name holding a symbol xlsxwriter took for an emoji (© ® ™
...) is quoted in formulas, which Excel reads as well.

Text is escaped as Excel expects (ECMA-376 Part 1, the type ST_Xstring):
``& < >`` as entities, control characters as ``_xHHHH_`` (a literal
``_xHHHH_`` gets its underscore escaped as ``_x005F``), a leading or trailing
space kept with ``xml:space="preserve"``; a text longer than a cell holds
(32,767 UTF-16 units) is cut.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006"
_RELS = f"{_DOCUMENT}/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006"
_OFFICE = "application/vnd.openxmlformats-officedocument"
_THEME = files("xkaohe.io").joinpath("xlsx_theme.xml").read_bytes()
_CELL_TEXT = 32767  # UTF-16 units a cell holds
_PADDING = 182 / 256  # characters Excel adds to a column's width: 5 pixels of 7 a digit
_SELECTED = ' tabSelected="1"'
_HIDDEN = ' hidden="1"'
_PERCENT = '<numFmts count="1"><numFmt numFmtId="164" formatCode="0.0%"/></numFmts>'


@dataclass(frozen=True)
class Grid:
    """One worksheet as plain values: what :func:`xlsx_bytes` writes for it."""

    tab: str  # a legal tab name, unique in its workbook
    headers: list[str]  # row 1 ("" leaves the cell blank)
    columns: list[list[Any]]  # below it, one list per column: None (blank), str, int or float
    widths: list[int]  # of each column, in characters
    percent: list[bool]  # for each column: shares, printed as 65.0%
    landscape: bool
    header: str  # printed at the top of every page, in Excel's &-codes
    footer: str  # and at its foot


def xlsx_bytes(grids: list[Grid], title: str, author: str, created: dt.datetime) -> bytes:
    """The xlsx file of ``grids``; the first sheet is the one shown when it opens."""
    styles = _styles_used(grids)
    strings = _SharedStrings()
    sheets = [_sheet(grid, n == 0, styles, strings) for n, grid in enumerate(grids)]
    names = _defined_names(grids)
    texts = bool(strings.texts)
    return _zip(
        [  # in xlsxwriter's order; parts that repeat from workbook to workbook deflated once
            ("[Content_Types].xml", _once(_content_types(len(grids), texts))),
            ("_rels/.rels", _once(_ROOT_RELS)),
            ("xl/_rels/workbook.xml.rels", _once(_workbook_rels(len(grids), texts))),
            *((f"xl/worksheets/sheet{n}.xml", _deflate(xml)) for n, xml in enumerate(sheets, 1)),
            ("xl/workbook.xml", _deflate(_workbook(grids, names))),
            *[("xl/sharedStrings.xml", _deflate(strings.xml()))] * texts,
            ("xl/styles.xml", _once(_styles(styles))),
            ("xl/theme/theme1.xml", _once(_THEME)),
            ("docProps/core.xml", _deflate(_core(title, author, created))),
            ("docProps/app.xml", _deflate(_app(grids, names))),
        ]
    )


@dataclass(frozen=True)
class _Packed:
    """A part deflated: what the zip holds of it."""

    crc: int
    size: int
    data: bytes


def _deflate(xml: str | bytes) -> _Packed:
    raw = xml.encode() if isinstance(xml, str) else xml
    return _Packed(zlib.crc32(raw), len(raw), zlib.compress(raw, wbits=-15))


@functools.lru_cache(maxsize=64)
def _once(raw: bytes) -> _Packed:
    """:func:`_deflate` of a part that repeats from workbook to workbook."""
    return _deflate(raw)


_LOCAL = struct.Struct("<4s5H3L2H")  # PKWARE APPNOTE.TXT 4.3.7
_CENTRAL = struct.Struct("<4s4B4H3L5H2L")  # 4.3.12
_END = struct.Struct("<4s4H2LH")  # 4.3.16
_DOS_DATE = 33  # 1980-01-01 (at 00:00): the date Excel gives the parts


def _zip(parts: list[tuple[str, _Packed]]) -> bytes:
    """The zip of ``parts``, in order: deflated, made on Unix, read-write for the owner."""
    out, directory, offset = [], [], 0
    for name, part in parts:
        path = name.encode()
        fields = (8, 0, _DOS_DATE, part.crc, len(part.data), part.size, len(path), 0)
        out += [_LOCAL.pack(b"PK\3\4", 20, 0, *fields), path, part.data]
        central = _CENTRAL.pack(b"PK\1\2", 20, 3, 20, 0, 0, *fields, 0, 0, 0, 0o600 << 16, offset)
        directory += [central, path]
        offset += _LOCAL.size + len(path) + len(part.data)
    listing = b"".join(directory)
    end = _END.pack(b"PK\5\6", 0, 0, len(parts), len(parts), len(listing), offset, 0)
    return b"".join([*out, listing, end])


# ---------------------------------------------------------------- sheets


def _styles_used(grids: list[Grid]) -> dict[str, int]:
    """Style -> its number in the file, numbered in the order of first use, row by row."""
    used: dict[str, int] = {}
    for grid in grids:
        if grid.headers:
            used.setdefault("head", len(used) + 1)
        if grid.columns and grid.columns[0]:
            for percent in grid.percent:
                used.setdefault("percent" if percent else "cell", len(used) + 1)
    return used


def _sheet(grid: Grid, first: bool, styles: dict[str, int], strings: _SharedStrings) -> str:
    width, height = len(grid.headers), len(grid.columns[0]) if grid.columns else 0
    corner = f"{_column(width - 1)}{height + 1}" if width else "A1"
    parts = [
        f'{_DECLARATION}<worksheet xmlns="{_MAIN}" xmlns:r="{_RELS}">'
        '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<dimension ref="{"A1" if corner == "A1" else "A1:" + corner}"/>'
        f'<sheetViews><sheetView{_SELECTED if first else ""} workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
    ]
    if width:
        spans, head = f' spans="1:{width}">', styles["head"]
        headers = [
            f'<c r="{_column(c)}1" s="{head}" t="s"><v>{strings.number(text)}</v></c>'
            if text
            else f'<c r="{_column(c)}1" s="{head}"/>'
            for c, text in enumerate(grid.headers)
        ]
        columns = [
            _cells(c, values, styles.get("percent" if percent else "cell", 0), strings)
            for c, (values, percent) in enumerate(zip(grid.columns, grid.percent, strict=True))
        ]
        parts += [
            f"<cols>{_cols(grid.widths)}</cols><sheetData>",
            f'<row r="1"{spans}{"".join(headers)}</row>',
            *(f'<row r="{r}"{spans}{"".join(cells)}</row>' for r, cells in _rows(columns)),
            "</sheetData>",
            f'<autoFilter ref="A1:{corner}"/>' if height else "",
        ]
    else:
        parts.append("<sheetData/>")
    page = f"<oddHeader>{_text(grid.header)}</oddHeader>" if grid.header else ""
    page += f"<oddFooter>{_text(grid.footer)}</oddFooter>" if grid.footer else ""
    parts.append(
        '<printOptions horizontalCentered="1"/><pageMargins left="0.7" right="0.7" '
        'top="0.75" bottom="0.75" header="0.3" footer="0.3"/><pageSetup paperSize="9" '
        f'fitToHeight="0" orientation="{"landscape" if grid.landscape else "portrait"}"/>'
        f"{f'<headerFooter>{page}</headerFooter>' if page else ''}</worksheet>"
    )
    return "".join(parts)


def _rows(columns: list[list[str]]) -> Iterator[tuple[int, tuple[str, ...]]]:
    """The rows of ``columns`` (of one length), numbered from 2."""
    return enumerate(zip(*columns, strict=True), 2)


def _cells(column: int, values: list[Any], style: int, strings: _SharedStrings) -> list[str]:
    """The ``<c>`` elements of one column below its header, from row 2 (the inner loop)."""
    ref, blank = f'<c r="{_column(column)}', f'" s="{style}"/>'
    text, number = f'" s="{style}" t="s"><v>', f'" s="{style}"><v>'
    table, add = strings.table, strings.add
    out, texts = [], 0
    for row, value in enumerate(values, 2):
        if value is None:
            out.append(f"{ref}{row}{blank}")
        elif isinstance(value, str):
            n = table.get(value)
            out.append(f"{ref}{row}{text}{add(value) if n is None else n}</v></c>")
            texts += 1
        elif math.isfinite(value):
            out.append(f"{ref}{row}{number}{value:.16G}</v></c>")
        else:
            raise ValueError(f"cell {_column(column)}{row}: a number cannot be {value}")
    strings.count += texts
    return out


def _cols(widths: list[int]) -> str:
    """The ``<col>`` elements: each run of neighbours of one width in one element."""
    out, start = [], 0
    for c in range(1, len(widths) + 1):
        if c == len(widths) or widths[c] != widths[start]:
            chars = widths[start] + _PADDING
            out.append(f'<col min="{start + 1}" max="{c}" width="{chars:.16g}" customWidth="1"/>')
            start = c
    return "".join(out)


class _SharedStrings:
    """The workbook's texts, each once, numbered in the order cells first use them."""

    def __init__(self) -> None:
        self.table: dict[str, int] = {}  # cell value -> number
        self.texts: list[str] = []  # number -> the text stored (cut to what a cell holds)
        self.count = 0  # cells that hold a text

    def number(self, value: str) -> int:
        """The number of ``value``, counted as one more cell."""
        self.count += 1
        n = self.table.get(value)
        return self.add(value) if n is None else n

    def add(self, value: str) -> int:
        """The number of a value not in :attr:`table` yet."""
        text = _cut(value) if len(value) > _CELL_TEXT // 2 else value
        if text is not value and text in self.table:  # two long texts cut to one
            n = self.table[text]
        else:
            n = len(self.texts)
            self.texts.append(text)
        self.table[value] = n
        return n

    def xml(self) -> str:
        texts = self.texts
        if _CONTROL.search(joined := "".join(texts)) or "_x" in joined:
            texts = [_escape_codes(text) for text in texts]
        items = [
            f'<si><t xml:space="preserve">{_entities(text)}</t></si>'
            if text[:1].isspace() or text[-1:].isspace()
            else f"<si><t>{_entities(text)}</t></si>"
            for text in texts
        ]
        return (
            f'{_DECLARATION}<sst xmlns="{_MAIN}" count="{self.count}" '
            f'uniqueCount="{len(texts)}">{"".join(items)}</sst>'
        )


# ---------------------------------------------------------------- workbook


@dataclass(frozen=True)
class _Name:
    """A defined name of a sheet: its autofilter range (hidden) or its print titles."""

    name: str  # _xlnm._FilterDatabase or _xlnm.Print_Titles
    sheet: int
    range: str  # e.g. 抽样户!$1:$1
    hidden: bool

    @property
    def order(self) -> str:
        """Excel's order of defined names: the name, then the range, ignoring case."""
        return self.name.replace("_xlnm.", "").lower() + "::" + self.range.lstrip("'").lower()


def _defined_names(grids: list[Grid]) -> list[_Name]:
    names = []
    for n, grid in enumerate(grids):
        tab, height = _quoted(grid.tab), len(grid.columns[0]) if grid.columns else 0
        if grid.headers and height:
            corner = f"${_column(len(grid.headers) - 1)}${height + 1}"
            names.append(_Name("_xlnm._FilterDatabase", n, f"{tab}!$A$1:{corner}", True))
        names.append(_Name("_xlnm.Print_Titles", n, f"{tab}!$1:$1", False))
    return sorted(names, key=lambda name: name.order)


def _workbook(grids: list[Grid], names: list[_Name]) -> str:
    sheets = "".join(
        f'<sheet name="{_attribute(grid.tab)}" sheetId="{n}" r:id="rId{n}"/>'
        for n, grid in enumerate(grids, 1)
    )
    defined = "".join(
        f'<definedName name="{name.name}" localSheetId="{name.sheet}"'
        f"{_HIDDEN if name.hidden else ''}>{_text(name.range)}</definedName>"
        for name in names
    )
    return (
        f'{_DECLARATION}<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}">'
        '<fileVersion appName="xl" lastEdited="4" lowestEdited="4" rupBuild="4505"/>'
        '<workbookPr defaultThemeVersion="124226"/><bookViews><workbookView xWindow="240" '
        'yWindow="15" windowWidth="16095" windowHeight="9660"/></bookViews>'
        f"<sheets>{sheets}</sheets>"
        f"{f'<definedNames>{defined}</definedNames>' if defined else ''}"
        '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
    )


_FONT = '<sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/>'
_FONT += '<scheme val="minor"/>'
_THIN = "".join(
    f'<{e} style="thin"><color auto="1"/></{e}>' for e in ("left", "right", "top", "bottom")
)
_XF = {  # the cell styles: font 1 is bold, fill 2 light blue, border 1 thin
    "head": '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" '
    'applyFill="1" applyBorder="1" applyAlignment="1"><alignment vertical="center" '
    'wrapText="1"/></xf>',
    "cell": '<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1" '
    'applyAlignment="1"><alignment vertical="center"/></xf>',
    "percent": '<xf numFmtId="164" fontId="0" fillId="0" borderId="1" xfId="0" '
    'applyNumberFormat="1" applyBorder="1" applyAlignment="1"><alignment vertical="center"/>'
    "</xf>",
}


def _styles(used: dict[str, int]) -> bytes:
    """The fonts, fills, borders and number format the styles in use need, then the styles."""
    head, percent = "head" in used, "percent" in used
    fonts = [f"<font>{_FONT}</font>", *[f"<font><b/>{_FONT}</font>"] * head]
    fills = [
        '<fill><patternFill patternType="none"/></fill>',
        '<fill><patternFill patternType="gray125"/></fill>',
        *['<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/>'
          '<bgColor indexed="64"/></patternFill></fill>'] * head,
    ]  # fmt: skip
    borders = ["<border><left/><right/><top/><bottom/><diagonal/></border>"]
    borders += [f"<border>{_THIN}<diagonal/></border>"] * bool(used)
    xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>']
    xfs += [_XF[style] for style in sorted(used, key=used.__getitem__)]
    return (
        f'{_DECLARATION}<styleSheet xmlns="{_MAIN}">'
        f"{_PERCENT if percent else ''}"
        f'<fonts count="{len(fonts)}">{"".join(fonts)}</fonts>'
        f'<fills count="{len(fills)}">{"".join(fills)}</fills>'
        f'<borders count="{len(borders)}">{"".join(borders)}</borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        f'</cellStyleXfs><cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9" '
        'defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
    ).encode()


def _content_types(sheets: int, texts: bool) -> bytes:
    sml = f"{_OFFICE}.spreadsheetml"
    kinds = [
        ("/docProps/app.xml", f"{_OFFICE}.extended-properties+xml"),
        ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
        ("/xl/styles.xml", f"{sml}.styles+xml"),
        ("/xl/theme/theme1.xml", f"{_OFFICE}.theme+xml"),
        ("/xl/workbook.xml", f"{sml}.sheet.main+xml"),
        *((f"/xl/worksheets/sheet{n}.xml", f"{sml}.worksheet+xml") for n in range(1, sheets + 1)),
        *[("/xl/sharedStrings.xml", f"{sml}.sharedStrings+xml")] * texts,
    ]
    overrides = "".join(f'<Override PartName="{p}" ContentType="{k}"/>' for p, k in kinds)
    return (
        f'{_DECLARATION}<Types xmlns="{_PACKAGE}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f"{overrides}</Types>"
    ).encode()


def _relationships(targets: list[tuple[str, str]]) -> bytes:
    items = "".join(
        f'<Relationship Id="rId{n}" Type="{kind}" Target="{target}"/>'
        for n, (kind, target) in enumerate(targets, 1)
    )
    xml = f'{_DECLARATION}<Relationships xmlns="{_PACKAGE}/relationships">{items}</Relationships>'
    return xml.encode()


_ROOT_RELS = _relationships(
    [
        (f"{_RELS}/officeDocument", "xl/workbook.xml"),
        (f"{_PACKAGE}/relationships/metadata/core-properties", "docProps/core.xml"),
        (f"{_RELS}/extended-properties", "docProps/app.xml"),
    ]
)


def _workbook_rels(sheets: int, texts: bool) -> bytes:
    return _relationships(
        [
            *((f"{_RELS}/worksheet", f"worksheets/sheet{n}.xml") for n in range(1, sheets + 1)),
            (f"{_RELS}/theme", "theme/theme1.xml"),
            (f"{_RELS}/styles", "styles.xml"),
            *[(f"{_RELS}/sharedStrings", "sharedStrings.xml")] * texts,
        ]
    )


def _core(title: str, author: str, created: dt.datetime) -> str:
    when = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f'{_DECLARATION}<cp:coreProperties xmlns:cp="{_PACKAGE}/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{_text(title)}</dc:title><dc:creator>{_text(author)}</dc:creator>"
        f"<cp:lastModifiedBy>{_text(author)}</cp:lastModifiedBy>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{when}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{when}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def _app(grids: list[Grid], names: list[_Name]) -> str:
    """The document's parts as Excel lists them: the sheets, then their print titles."""
    titles = [grid.tab for grid in grids]
    titles += [n.range.rsplit("!", 1)[0] + "!Print_Titles" for n in names if not n.hidden]
    counts = [("Worksheets", len(grids)), ("Named Ranges", len(titles) - len(grids))]
    pairs = [(kind, count) for kind, count in counts if count]
    heading = "".join(
        f"<vt:variant><vt:lpstr>{kind}</vt:lpstr></vt:variant>"
        f"<vt:variant><vt:i4>{count}</vt:i4></vt:variant>"
        for kind, count in pairs
    )
    parts = "".join(f"<vt:lpstr>{_text(title)}</vt:lpstr>" for title in titles)
    return (
        f'{_DECLARATION}<Properties xmlns="{_DOCUMENT}/extended-properties" '
        f'xmlns:vt="{_DOCUMENT}/docPropsVTypes"><Application>Microsoft Excel</Application>'
        "<DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop><HeadingPairs>"
        f'<vt:vector size="{2 * len(pairs)}" baseType="variant">{heading}</vt:vector>'
        f'</HeadingPairs><TitlesOfParts><vt:vector size="{len(titles)}" baseType="lpstr">'
        f"{parts}</vt:vector></TitlesOfParts><Company></Company>"
        "<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
        "<HyperlinksChanged>false</HyperlinksChanged><AppVersion>12.0000</AppVersion></Properties>"
    )


# ---------------------------------------------------------------- text


_UNDERSCORE = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_PLAIN_TAB = re.compile(r"(?![\d.])[\w.]+")  # a word that starts with no digit or dot
_A1 = re.compile(r"([A-Z]{1,3})(\d+)")
_R1C1 = re.compile(r"R(\d+)|R?C(\d+)")
_ROWS, _COLUMNS = 1_048_576, 16_384


def _text(text: str) -> str:
    """``text`` as the content of an element."""
    return _entities(_escape_codes(text))


def _escape_codes(text: str) -> str:
    """Control characters as ``_xHHHH_``, and a literal ``_xHHHH_`` kept literal."""
    if "_x" in text:
        text = _UNDERSCORE.sub(r"_x005F\1", text)
    return _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def _entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute(text: str) -> str:
    """``text`` as the value of an attribute."""
    for char, entity in (("&", "&amp;"), ('"', "&quot;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(char, entity)
    return text.replace("\n", "&#xA;")


def _cut(text: str) -> str:
    """``text`` cut to what a cell holds, counted in UTF-16 units (an emoji counts 2)."""
    units = 0
    for n, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > _CELL_TEXT:
            return text[:n]
    return text


def _column(n: int) -> str:
    """Column ``n`` (from 0) as Excel names it: A ... Z, AA ..."""
    name = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        name = chr(65 + rest) + name
    return name


def _quoted(tab: str) -> str:
    """A tab name as a formula names it: quoted unless it is a word that Excel could not
    read as a cell (A1, R1C1 or a part of one: R, C, RC)."""
    upper = tab.upper()
    if not _PLAIN_TAB.fullmatch(tab):
        quote = True
    elif a1 := _A1.fullmatch(upper):
        quote = 1 <= int(a1[2]) <= _ROWS and _column_number(a1[1]) <= _COLUMNS
    elif r1c1 := _R1C1.match(upper):
        quote = 0 < int(r1c1[1]) <= _ROWS if r1c1[1] else 0 < int(r1c1[2]) <= _COLUMNS
    else:
        quote = upper in ("R", "C", "RC")
    return "'" + tab.replace("'", "''") + "'" if quote else tab


def _column_number(letters: str) -> int:
    """A column's number (from 1) from its letters: A is 1, AA is 27."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number
