"""Write and read a sample package: CSVs, certificate.json and the field lists.

CSV files are written deterministically (UTF-8, fixed column order, rows
sorted by the protocol's order), so the same frame, plan and seed give
byte-identical files; ``verify-sample`` relies on that.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import polars as pl

from xkaohe import codes
from xkaohe.errors import InputError, Problem
from xkaohe.io import files
from xkaohe.io.files import write_json
from xkaohe.io.memo import remembered
from xkaohe.io.xlsx import Sheet

CERTIFICATE = "certificate.json"
FIELD_LISTS = "field_lists"

# Chinese headers for the printable field lists (the CSVs keep canonical names).
_SHEETS: dict[str, tuple[str, dict[str, str]]] = {
    "villages": (
        "抽样村",
        {
            "walk_order": "序号",
            "township_name": "乡镇",
            "village_name": "村",
            "village_code": "村代码",
            "village_type_zh": "村类型",
            "substituted_for_zh": "替代",
            "relaxed_township": "同乡镇放宽",
            "distance_to_township_km": "距乡镇(公里)",
            "remoteness": "偏远指数",
            "inclusion_prob": "入样概率(近似)",
        },
    ),
    "households": (
        "抽样户",
        {
            "village_name": "村",
            "villager_group": "村民小组",
            "household_id": "户编号",
            "head_name": "户主姓名",
            "phone": "联系电话",
            "household_size": "人口",
            "status_zh": "户类型",
            "selected_as_zh": "抽样类别",
            "helper_id": "帮扶责任人编号",
            "visited": "已走访(√)",
        },
    ),
    "villager_groups": (
        "全覆盖村民小组",
        {
            "village_name": "村",
            "village_code": "村代码",
            "villager_group": "村民小组",
            "households_registered": "建档立卡户数",
            "is_poor_village": "贫困村",
        },
    ),
    "projects": (
        "抽查项目",
        {
            "level_zh": "层级",
            "village_name": "村",
            "project_id": "项目编号",
            "name": "项目名称",
            "kind_zh": "项目类型",
            "funds_yuan": "资金(元)",
            "beneficiaries_drawn": "抽查受益户数",
            "few_beneficiaries": "受益户不足2户",
        },
    ),
    "project_households": (
        "合作项目受益户",
        {
            "project_id": "项目编号",
            "household_id": "户编号",
            "head_name": "户主姓名",
            "village_code": "村代码",
            "villager_group": "村民小组",
        },
    ),
    "interviewees": (
        "访谈对象",
        {
            "level_zh": "层级",
            "village_name": "村",
            "label": "访谈对象",
            "count": "人数",
            "helper_id": "帮扶责任人编号",
        },
    ),
    "general_quota": (
        "一般农户",
        {
            "village_name": "村",
            "village_code": "村代码",
            "count": "随机走访户数",
        },
    ),
}

FIELD_LIST_TABLES = tuple(_SHEETS)
"""The package tables a field list prints, in the order of its sheets."""

_LABELS = {
    "village_type": codes.VILLAGE_TYPE,
    "substituted_for": codes.VILLAGE_TYPE,
    "status": codes.HOUSEHOLD_STATUS,
    "selected_as": codes.SAMPLE_CATEGORY,
    "kind": codes.PROJECT_KIND,
    "level": codes.PROJECT_LEVEL,
}
"""The code set of each coded column of the field lists (labels: :mod:`xkaohe.codes`)."""


def write_csv(df: pl.DataFrame, path: Path) -> None:
    """Deterministic UTF-8 CSV (no BOM; empty cell for null), written atomically."""
    with files.atomic_path(path) as tmp:
        df.write_csv(tmp, null_value="", float_precision=None, line_terminator="\n")


def write_tables(out: Path, tables: dict[str, pl.DataFrame]) -> None:
    """Write each table as ``out/<name>.csv``."""
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        write_csv(df, out / f"{name}.csv")


def write_package(out: Path, tables: dict[str, pl.DataFrame], certificate: dict[str, Any]) -> None:
    """Write every table as CSV and the certificate."""
    write_tables(out, tables)
    write_json(out / CERTIFICATE, certificate)


def csv_bytes(df: pl.DataFrame) -> bytes:
    """The bytes :func:`write_csv` would write."""
    return df.write_csv(null_value="", float_precision=None, line_terminator="\n").encode("utf-8")


def compare_csv(path: Path, df: pl.DataFrame) -> str | None:
    """None when ``path`` holds exactly what :func:`write_csv` writes for ``df``; else why not."""
    if not path.exists():
        return f"{path} is missing"
    expected, found = csv_bytes(df), path.read_bytes()
    if found == expected:
        return None
    exp = expected.decode("utf-8").splitlines()
    got = found.decode("utf-8", errors="replace").splitlines()
    ops = difflib.SequenceMatcher(a=exp, b=got, autojunk=False).get_opcodes()
    for op, i1, _, j1, _ in ops:
        if op != "equal":
            want = exp[i1] if i1 < len(exp) else "(no line)"
            have = got[j1] if j1 < len(got) else "(no line)"
            return (
                f"{path} differs from the re-derived draw: row {j1 + 1}: "
                f"expected {want!r}; found {have!r}"
            )
    return f"{path} differs from the re-derived draw: line endings or encoding differ"


def read_certificate(directory: Path) -> dict[str, Any]:
    return files.read_certificate(directory, "sample package")


def field_list_sheets(tables: dict[str, pl.DataFrame], village_names: pl.DataFrame) -> list[Sheet]:
    """The printable sheets of one county's field list, Chinese headers."""
    sheets = []
    names = village_names.select("village_code", "village_name")
    for name, (title, headers) in _SHEETS.items():
        df = tables[name]
        if "village_name" not in df.columns and "village_code" in df.columns:
            df = df.join(names, on="village_code", how="left", maintain_order="left")
        df = df.with_columns(
            [
                labels.expr(pl.col(c), short=c == "level").alias(f"{c}_zh")
                for c, labels in _LABELS.items()
                if c in df.columns
            ]
        )
        if name == "households":
            df = df.with_columns(visited=pl.lit(""))
        cols = [c for c in headers if c in df.columns]
        sheets.append(Sheet(title, df.select(cols).rename({c: headers[c] for c in cols})))
    return sheets


_FLOAT = {
    "prn",
    "tilt_weight",
    "inclusion_prob",
    "inclusion_prob_se",
    "distance_to_township_km",
    "infrastructure_gap",
    "public_service_gap",
    "distance_percentile",
    "remoteness",
    "xi",
    "group_village_prn",
    "funds_yuan",
}
_INT = {
    "walk_order",
    "registered_poor_people",
    "household_size",
    "households_registered",
    "beneficiaries_drawn",
    "count",
}
_BOOL = {"relaxed_township", "is_poor_village", "few_beneficiaries", "from_sample", "drawn"}


def _typed(df: pl.DataFrame) -> pl.DataFrame:
    casts = []
    for c in df.columns:
        if c in _FLOAT:
            casts.append(pl.col(c).cast(pl.Float64))
        elif c in _INT:
            casts.append(pl.col(c).cast(pl.Int64))
        elif c in _BOOL:
            casts.append(pl.col(c) == "true")
    return df.with_columns(casts)


def read_package(directory: Path) -> dict[str, pl.DataFrame]:
    """Read a sample package back; codes and ids stay text (read once while unchanged)."""
    paths = sorted(directory.glob("*.csv"))

    def load() -> dict[str, pl.DataFrame]:
        return {p.stem: _typed(pl.read_csv(p, infer_schema=False)) for p in paths}

    kept = remembered("sample package", [directory, *paths], load)
    out = {name: df.clone() for name, df in kept.items()}
    if "villages" not in out:
        raise InputError(
            Problem(
                str(directory), None, None, "a sample package (villages.csv ...)", "no villages.csv"
            )
        )
    return out
