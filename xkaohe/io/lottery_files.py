"""Files of the lottery (DESIGN.md, "Roster and the lottery"): write, read back, compare.

An output directory holds ``teams.csv``, ``members.csv``, ``pairs.csv``
(UTF-8, ``\\n`` line ends, rows in a fixed order, so the same roster, plan and
seed give byte-identical files), ``team_lists.xlsx`` (one printable sheet per
team, Chinese headers, for the field teams) and ``certificate.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from xkaohe.errors import InputError, Problem
from xkaohe.inputs import LOTTERY_SCHEMAS, Lottery
from xkaohe.io import files
from xkaohe.io.files import sha256_file, write_bytes, write_json
from xkaohe.io.xlsx import Sheet, write_workbook
from xkaohe.plan import Teams

TABLES = ("teams", "members", "pairs")
CERTIFICATE = "certificate.json"
XLSX = "team_lists.xlsx"
_MAX_LISTED = 20  # differing rows listed per file


def csv_text(df: pl.DataFrame) -> str:
    """The exact text a table is written as."""
    return df.write_csv(line_terminator="\n")


def xlsx_path(out_dir: str | Path) -> Path:
    """Where the printable team lists of a lottery directory are."""
    return Path(out_dir) / XLSX


def output_table(out_dir: str | Path) -> pl.DataFrame:
    """The files of a lottery directory with what each holds (Chinese), for reports.

    Each is located relative to the run (``lottery/teams.csv``): a report names
    no absolute path of the machine it was rendered on, and stays the same when
    the run moves.
    """
    out = Path(out_dir)
    described = [
        (XLSX, "各考核组名单（每组一页，可直接打印）"),
        ("teams.csv", "考核组：组长、副组长、被考核市、人数"),
        ("members.csv", "考核组成员及角色"),
        ("pairs.csv", "入户走访两人小组"),
        (CERTIFICATE, "抽签证书：种子、规程、输入文件哈希"),
    ]
    return pl.DataFrame(
        [(name, text, f"{out.name}/{name}") for name, text in described if (out / name).is_file()],
        schema={"文件": pl.String, "内容": pl.String, "位置": pl.String},
        orient="row",
    )


def write_lottery(
    out_dir: str | Path, lottery: Lottery, certificate: dict[str, Any], team_lists: list[Sheet]
) -> None:
    """Write the three CSVs, the printable ``team_lists`` and ``certificate.json`` (with hashes)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frames = {"teams": lottery.teams, "members": lottery.members, "pairs": lottery.pairs}
    for name, df in frames.items():
        write_bytes(out / f"{name}.csv", csv_text(df).encode("utf-8"))
    write_workbook(out / XLSX, team_lists, title="市际交叉考核 考核组名单")
    cert = dict(certificate)
    cert["outputs"] = {f"{name}.csv": sha256_file(out / f"{name}.csv") for name in TABLES}
    cert["outputs"][XLSX] = sha256_file(out / XLSX)  # recorded; verification compares the CSVs
    write_json(out / CERTIFICATE, cert)


def locate_input(given: str, resolved: str) -> Path:
    """An input recorded in a certificate: the path as given if it exists, else as resolved."""
    path = Path(given)
    return path if path.exists() else Path(resolved)


def read_certificate(out_dir: str | Path) -> dict[str, Any]:
    """``certificate.json`` of a lottery directory; InputError if missing or not an object."""
    return files.read_certificate(out_dir, "lottery")


def _read_table(path: Path, name: str) -> pl.DataFrame:
    schema = LOTTERY_SCHEMAS[name]
    if not path.is_file():
        raise InputError(
            Problem(str(path), None, None, f"the lottery's {name}.csv", "no such file")
        )
    try:
        df = pl.read_csv(path, infer_schema=False)
    except Exception as exc:  # a damaged file: report it, don't crash
        raise InputError(
            Problem(str(path), None, None, "a readable CSV", str(exc).splitlines()[0])
        ) from None
    missing = [c for c in schema if c not in df.columns]
    if missing:
        raise InputError(
            Problem(
                str(path),
                1,
                ", ".join(missing),
                "these columns",
                "columns: " + ", ".join(df.columns),
            )
        )
    try:
        return df.select([pl.col(c).cast(t) for c, t in schema.items()])
    except pl.exceptions.PolarsError as exc:
        raise InputError(
            Problem(
                str(path), None, None, "numbers in the numeric columns", str(exc).splitlines()[0]
            )
        ) from None


def read_lottery(out_dir: str | Path) -> Lottery:
    """Read a lottery directory back into a :class:`~xkaohe.lottery.Lottery`."""
    out = Path(out_dir)
    cert = read_certificate(out)
    frames = {name: _read_table(out / f"{name}.csv", name) for name in TABLES}
    try:
        rules = Teams.model_validate(cert["rules"])
        search = cert.get("search", {})
        return Lottery(
            teams=frames["teams"],
            members=frames["members"],
            pairs=frames["pairs"],
            seed=str(cert["seed"]),
            rules=rules,
            leader_rejections=int(search.get("leader_rejections", 0)),
            pool_skips=int(search.get("pool_skips", 0)),
            protocol=str(cert["protocol"]),
        )
    except (KeyError, ValueError) as exc:
        raise InputError(
            Problem(
                str(out / CERTIFICATE),
                None,
                None,
                "a lottery certificate",
                f"a missing or bad entry ({exc})",
            )
        ) from None


def compare_outputs(
    out_dir: str | Path, lottery: Lottery, certificate: dict[str, Any]
) -> list[Problem]:
    """Differences between a re-derived lottery and the CSVs on disk, row by row."""
    out = Path(out_dir)
    recorded = certificate.get("outputs", {})
    frames = {"teams": lottery.teams, "members": lottery.members, "pairs": lottery.pairs}
    problems: list[Problem] = []
    for name, df in frames.items():
        path = out / f"{name}.csv"
        if not path.is_file():
            problems.append(
                Problem(str(path), None, None, f"the lottery's {name}.csv", "no such file")
            )
            continue
        want = csv_text(df).splitlines()
        got = path.read_bytes().decode("utf-8", errors="replace").splitlines()
        rows = [
            i
            for i in range(max(len(want), len(got)))
            if i >= len(want) or i >= len(got) or want[i] != got[i]
        ]
        for i in rows[:_MAX_LISTED]:
            expected = f"re-derived {want[i]!r}" if i < len(want) else "no row"
            found = repr(got[i]) if i < len(got) else "no row"
            problems.append(Problem(str(path), i + 1, None, expected, found))
        if len(rows) > _MAX_LISTED:
            problems.append(
                Problem(
                    str(path),
                    None,
                    None,
                    "rows as re-derived",
                    f"{len(rows) - _MAX_LISTED} more differing rows",
                )
            )
        cert_hash = recorded.get(f"{name}.csv")
        if not rows and cert_hash is not None and cert_hash != sha256_file(path):
            problems.append(
                Problem(
                    str(out / CERTIFICATE),
                    None,
                    f"outputs.{name}.csv",
                    "the sha256 of the file on disk",
                    cert_hash,
                )
            )
    return problems


__all__ = [
    "CERTIFICATE",
    "TABLES",
    "XLSX",
    "compare_outputs",
    "csv_text",
    "locate_input",
    "output_table",
    "read_certificate",
    "read_lottery",
    "write_lottery",
    "xlsx_path",
]
