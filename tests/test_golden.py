"""The demo's outputs before and after a change: nothing moves unless a commit says why.

Issue 9 asks that a refactor leave "behaviour and outputs otherwise unchanged
(a test compares the demo's results store before and after, apart from
intended fixes)". ``tests/data/golden-small.json`` holds a fingerprint of the
small demo (seed ``demo``, plan-2019) as main last accepted it:

- every sample-package CSV, byte for byte (DESIGN.md fixes the package's
  bytes: ``verify-sample`` on an old package must still agree);
- every results table, column by column: its type and a digest of its values,
  floats rounded to 10 significant digits so a last-bit difference between
  library versions is not mistaken for a change of result.

When a change is intended (a fix, a new column, a new planted case), rewrite
the fingerprint and say in the commit which tables moved and why::

    .venv/bin/python tests/test_golden.py --update

The failure message names each table and column that moved, so a refactor
that silently changed a number is caught where it happened.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

GOLDEN = Path(__file__).parent / "data" / "golden-small.json"
SIGNIFICANT = 10


def _column_digest(col: pl.Series) -> str:
    """A digest of one column's values in row order (floats to SIGNIFICANT digits)."""
    if col.dtype.is_float():
        text = [None if v is None else f"{v:.{SIGNIFICANT - 1}e}" for v in col.to_list()]
    else:
        text = [None if v is None else repr(v) for v in col.to_list()]
    return hashlib.sha256(json.dumps(text, ensure_ascii=False).encode()).hexdigest()[:16]


def fingerprint(run: Path) -> dict[str, Any]:
    """The sample package's CSV digests and each results table's shape and column digests."""
    sample = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16]
        for p in sorted((run / "sample").glob("*.csv"))
    }
    results: dict[str, Any] = {}
    for path in sorted((run / "results").glob("*.parquet")):
        df = pl.read_parquet(path)
        results[path.stem] = {
            "rows": df.height,
            "columns": {c: [str(df[c].dtype), _column_digest(df[c])] for c in df.columns},
        }
    return {"sample": sample, "results": results}


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """One line per file, table or column that differs between two fingerprints."""
    out: list[str] = []
    for name in sorted(old["sample"].keys() | new["sample"].keys()):
        if old["sample"].get(name) != new["sample"].get(name):
            out.append(f"sample/{name}: bytes differ (or the file is new or gone)")
    for name in sorted(old["results"].keys() | new["results"].keys()):
        a, b = old["results"].get(name), new["results"].get(name)
        if a is None or b is None:
            out.append(f"results/{name}: table {'added' if a is None else 'removed'}")
            continue
        if a["rows"] != b["rows"]:
            out.append(f"results/{name}: {a['rows']} rows before, {b['rows']} now")
        for col in sorted(a["columns"].keys() | b["columns"].keys()):
            x, y = a["columns"].get(col), b["columns"].get(col)
            if x is None or y is None:
                out.append(f"results/{name}.{col}: column {'added' if x is None else 'removed'}")
            elif x[0] != y[0]:
                out.append(f"results/{name}.{col}: type {x[0]} before, {y[0]} now")
            elif x[1] != y[1]:
                out.append(f"results/{name}.{col}: values differ")
    return out


def test_the_demo_outputs_are_what_main_last_accepted(small_run: Path) -> None:
    old = json.loads(GOLDEN.read_text(encoding="utf-8"))
    moved = differences(old, fingerprint(small_run))
    assert not moved, (
        "the small demo's outputs changed:\n  "
        + "\n  ".join(moved)
        + "\nIf intended, run `.venv/bin/python tests/test_golden.py --update` and say why "
        "in the commit."
    )


def test_a_changed_value_is_named_by_table_and_column(small_run: Path) -> None:
    """The comparison is not blind: one changed rate shows up as that table and column."""
    old = fingerprint(small_run)
    new = json.loads(json.dumps(old))
    new["results"]["county_indicators"]["columns"]["wrong_exit_rate"][1] = "0" * 16
    assert differences(old, new) == ["results/county_indicators.wrong_exit_rate: values differ"]


def _update() -> None:
    """Rebuild the small demo in a temporary folder and write its fingerprint."""
    from xkaohe.run.stages import prepare_demo_run  # slow import, only for --update

    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        prepare_demo_run(run)
        text = json.dumps(fingerprint(run), ensure_ascii=False, indent=1, sort_keys=True)
    GOLDEN.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/test_golden.py --update")
    _update()
