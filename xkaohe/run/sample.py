"""``xkaohe sample`` and ``xkaohe verify-sample``: load the frame, draw, write the package.

Apart from :mod:`xkaohe.run.commands` (which re-exports these functions) so that
the sample commands import only what drawing needs: the draw, the readers and
the writers, not the analysis and report stack (issue 16: a fast start).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl

from xkaohe import __version__
from xkaohe.draw.prn import PROTOCOL
from xkaohe.draw.sampling import Draw, SamplePackage, inclusion_record
from xkaohe.errors import InputError, Problem, VerificationError
from xkaohe.inputs import Frame
from xkaohe.io.columns import load_column_map, parse_column_map
from xkaohe.io.files import sha256_file
from xkaohe.io.frame import SAMPLING_COLUMNS, load_frame
from xkaohe.io.paths import inside, safe_name
from xkaohe.io.plan_file import load_plan
from xkaohe.io.sample_package import (
    FIELD_LIST_TABLES,
    FIELD_LISTS,
    compare_csv,
    csv_bytes,
    field_list_sheets,
    read_certificate,
    write_package,
)
from xkaohe.io.xlsx import Sheet, write_workbooks
from xkaohe.plan import Plan
from xkaohe.schemas import check_sample_package


def sample_certificate(
    frame: Frame,
    plan_path: Path,
    seed: str,
    counties: list[str] | None,
    package: SamplePackage,
    frame_dir: Path,
    out: Path,
    plan: Plan,
) -> dict[str, Any]:
    """What a reviewer needs to re-derive the draw, and hashes that show tampering."""
    tables = package.tables()
    return {
        "protocol": PROTOCOL,
        "inclusion": inclusion_record(plan),
        "package_version": __version__,
        "seed": seed,
        "counties": counties or "all",
        "plan": {"path": str(plan_path.resolve()), "sha256": sha256_file(plan_path)},
        "frame": {
            "directory": str(frame_dir.resolve()),
            "directory_relative": _relative(frame_dir, out),
            "files": {f.name: {"file": f.path.name, "sha256": f.sha256} for f in frame.files},
        },
        "row_counts": {name: df.height for name, df in tables.items()},
        "outputs": {f"{name}.csv": _sha(csv_bytes(df)) for name, df in tables.items()},
    }


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _relative(target: Path, start: Path) -> str:
    return os.path.relpath(target.resolve(), start.resolve())


def write_field_lists(out: Path, frame: Frame, package: SamplePackage) -> list[Path]:
    """One printable xlsx per county (DESIGN.md: the field team's list)."""
    drawn = pl.concat(
        [df.select("village_code") for df in package.tables().values() if "village_code" in df]
    ).unique()  # the names the lists print: a few hundred villages of the frame's 128,000
    names = frame.villages.select("village_code", "village_name").join(
        drawn, on="village_code", how="semi"
    )
    books = []
    counties = (
        package.villages.select("county_code")
        .unique()
        .join(frame.counties.select("county_code", "county_name"), on="county_code")
        .sort("county_code")
    )
    # The sheets of every county at once (their columns are row by row), then each
    # county's rows: the same sheets as per county, without 800 rounds of polars work.
    # A table's rows are gathered once, county after county; a county's sheet is a slice.
    every = field_list_sheets(package.tables(), names)
    codes = counties["county_code"].to_list()
    rows = package.county_rows(codes)
    sheets: dict[str, list[Sheet]] = {code: [] for code in codes}
    for table, sheet in zip(FIELD_LIST_TABLES, every, strict=True):
        mine = [rows[code][table] for code in codes]
        gathered = sheet.table.select(pl.all().gather(pl.concat(mine))) if mine else sheet.table
        start = 0
        for code, positions in zip(codes, mine, strict=True):
            sheets[code].append(replace(sheet, table=gathered.slice(start, len(positions))))
            start += len(positions)
    for code, name in counties.iter_rows():
        path = inside(out, out / FIELD_LISTS / f"{safe_name(f'{code}_{name}')}.xlsx")
        books.append((path, sheets[code], f"{name}交叉考核抽样清单"))
    write_workbooks(books)
    return [path for path, _, _ in books]


def run_sample(
    frame_dir: Path,
    plan_path: Path,
    seed: str,
    out: Path,
    counties: list[str] | None = None,
    field_lists: bool = True,
    columns: Path | None = None,
) -> SamplePackage:
    """``xkaohe sample``: draw, write the package, the certificate and the field lists.

    ``columns``: the user's header map file; its mapping is recorded in the
    certificate, so ``verify-sample`` reads the frame the same way.
    """
    plan = load_plan(plan_path)
    header_map = load_column_map(columns)
    draw = Draw(plan, seed, counties)  # begun as soon as the villages are read
    frame = load_frame(frame_dir, SAMPLING_COLUMNS, header_map, draw.households_wanted)
    package = draw.sample(frame)
    check_sample_package(package.tables())
    cert = sample_certificate(frame, plan_path, seed, counties, package, frame_dir, out, plan)
    if header_map.tables:
        cert["columns"] = {"path": header_map.source, "map": header_map.as_dict()}
    write_package(out, package.tables(), cert)
    if field_lists:
        write_field_lists(out, frame, package)
    return package


def _locate(recorded: dict[str, Any], key: str, rel_key: str, base: Path) -> Path:
    path = Path(recorded[key])
    if not path.exists() and rel_key in recorded:
        path = (base / recorded[rel_key]).resolve()
    return path


def verify_sample(directory: Path) -> list[str]:
    """``xkaohe verify-sample``: re-derive the sample; raise if anything differs.

    Returns the lines of a short report when everything is identical.
    """
    cert = read_certificate(directory)
    where = str(directory / "certificate.json")
    try:
        seed = str(cert["seed"])
        plan_rec, frame_rec = cert["plan"], cert["frame"]
        counties = None if cert["counties"] == "all" else list(cert["counties"])
    except (KeyError, TypeError) as exc:
        raise InputError(
            Problem(
                where,
                None,
                str(exc),
                "a certificate written by xkaohe sample",
                "a missing or malformed field",
            )
        ) from None
    if cert.get("protocol") != PROTOCOL:
        raise VerificationError(
            Problem(where, None, "protocol", PROTOCOL, repr(cert.get("protocol")))
        )
    differences: list[str] = []
    plan_path = Path(plan_rec["path"])
    if not plan_path.exists():
        raise InputError(
            Problem(
                where,
                None,
                "plan.path",
                "the plan file used for the draw",
                f"{plan_path}, which does not exist",
            )
        )
    if sha256_file(plan_path) != plan_rec["sha256"]:
        differences.append(f"plan file {plan_path} changed since the draw (SHA-256 differs)")
    frame_dir = _locate(frame_rec, "directory", "directory_relative", directory)
    for rec in frame_rec["files"].values():
        path = frame_dir / rec["file"]
        if not path.exists():
            differences.append(f"frame file {path} is missing")
        elif sha256_file(path) != rec["sha256"]:
            differences.append(f"frame file {path} changed since the draw (SHA-256 differs)")
    if differences:
        raise VerificationError("; ".join(differences))
    plan: Plan = load_plan(plan_path)
    recorded_map = cert.get("columns") or {}
    header_map = parse_column_map(recorded_map.get("map"), f"{where} (columns)")
    draw = Draw(plan, seed, counties)
    frame = load_frame(frame_dir, SAMPLING_COLUMNS, header_map, draw.households_wanted)
    package = draw.sample(frame)
    # Step 6 is re-derived with the draw (the CSVs compare it exactly); the
    # certificate must name the same method, R and generator.
    method, written = inclusion_record(plan), cert.get("inclusion") or {}
    for key in ("method", "replicates", "generator"):
        if written.get(key) != method[key]:
            differences.append(
                f"{where}: inclusion.{key}: expected {method[key]!r}; found {written.get(key)!r}"
            )
    for name, df in package.tables().items():
        difference = compare_csv(directory / f"{name}.csv", df)
        if difference:
            differences.append(difference)
    recorded = cert.get("outputs", {})
    for name, df in package.tables().items():
        if recorded.get(f"{name}.csv") not in (None, _sha(csv_bytes(df))):
            differences.append(f"certificate's hash of {name}.csv does not match the draw")
    if differences:
        raise VerificationError("\n".join(differences))
    return [
        f"sample in {directory} re-derived and identical",
        f"protocol {PROTOCOL}, seed {seed!r}, {len(package.tables())} tables, "
        f"{package.villages.height} villages, {package.households.height} households",
        f"inclusion probabilities {method['method']}, R = {method['replicates']}, "
        f"{method['generator']} (numpy {method['numpy']}; drawn with {written.get('numpy')})",
    ]
