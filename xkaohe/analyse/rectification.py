"""Rectification follow-up: checking returned registers and measuring progress (plan 七(二)).

Plan 七(二): 省扶贫办…一对一地反馈给各市、县，并督促各地抓好整改落实. Each
feedback package carries a register template (整改台账,
:func:`xkaohe.report.feedback.register_template`); the recipient fills in
measure, responsible unit, deadline, status and evidence and returns it.
This module decides, once, whether a returned row is acceptable and how the
rectification stands; :mod:`xkaohe.run.rectification` reads and stores.

A returned row is refused (all problems reported at once, nothing imported) when
----------------------------------------------------------------------------
* its package id is not one of the run's packages, or its unit code is not
  that package's recipient;
* its problem id is unknown, or belongs to another package (a county
  answering for another);
* the deadline is missing or not a date (YYYY-MM-DD);
* the status is not one of the plan's ``rectification.statuses`` (code or label).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import polars as pl

from xkaohe.errors import Problem
from xkaohe.inputs import ROW
from xkaohe.plan import Plan

COLUMNS = (
    "package_id",
    "unit_code",
    "problem_id",
    "description",
    "measure",
    "responsible_unit",
    "deadline",
    "status",
    "evidence",
)
"""Canonical register columns, in the template's order."""
REQUIRED = ("package_id", "unit_code", "problem_id", "deadline", "status")


def validate(
    rows: pl.DataFrame,
    file: str,
    headers: Mapping[str, str],
    packages: Mapping[str, Mapping[str, Any]],
    plan: Plan,
) -> tuple[pl.DataFrame, list[Problem]]:
    """Check one returned register; return its rows (typed) and every problem found.

    Parameters
    ----------
    rows
        Canonical columns (text) and ``_row`` (the spreadsheet row).
    file
        The file name, for messages.
    headers
        Canonical name -> the header as written (for messages).
    packages
        The feedback manifest: package id -> ``code``, ``problems``, ...
    plan
        The plan: the rectification statuses.
    """
    problems: list[Problem] = []
    owner = {str(p): pid for pid, info in packages.items() for p in info.get("problems", [])}
    statuses = {s.code: s.code for s in plan.rectification.statuses}
    statuses |= {s.label: s.code for s in plan.rectification.statuses}
    out: list[dict[str, Any]] = []
    for r in rows.iter_rows(named=True):
        row = int(r[ROW])

        def bad(col: str, expected: str, found: object, row: int = row) -> None:
            problems.append(Problem(file, row, headers.get(col, col), expected, repr(found)))

        pid = (r.get("package_id") or "").strip()
        info = packages.get(pid)
        if info is None:
            bad("package_id", "a package id of this run's feedback", pid)
        elif (r.get("unit_code") or "").strip() != str(info["code"]):
            bad("unit_code", f"{info['code']} (the recipient of {pid})", r.get("unit_code"))
        prob = (r.get("problem_id") or "").strip()
        if prob not in owner:
            bad("problem_id", "a problem id fed back in this run", prob)
        elif info is not None and owner[prob] != pid:
            other = packages[owner[prob]]
            bad(
                "problem_id",
                f"a problem of package {pid} (a unit answers only for its own problems)",
                f"{prob}, a problem of {other.get('recipient', owner[prob])}",
            )
        text = (r.get("deadline") or "").strip()
        deadline = None
        try:
            deadline = dt.date.fromisoformat(text[:10]) if text else None
        except ValueError:
            deadline = None
        if deadline is None:
            bad("deadline", "a deadline as YYYY-MM-DD", text)
        status = statuses.get((r.get("status") or "").strip())
        if status is None:
            bad(
                "status",
                "one of " + "、".join(s.label for s in plan.rectification.statuses),
                r.get("status"),
            )
        out.append(
            {
                "package_id": pid,
                "unit_code": (r.get("unit_code") or "").strip(),
                "problem_id": prob,
                "measure": r.get("measure"),
                "responsible_unit": r.get("responsible_unit"),
                "deadline": deadline,
                "status": status,
                "evidence": (r.get("evidence") or None),
                "file": file,
                "row": row,
            }
        )
    schema = {
        "package_id": pl.String,
        "unit_code": pl.String,
        "problem_id": pl.String,
        "measure": pl.String,
        "responsible_unit": pl.String,
        "deadline": pl.Date,
        "status": pl.String,
        "evidence": pl.String,
        "file": pl.String,
        "row": pl.Int64,
    }
    return pl.DataFrame(out, schema=schema, orient="row"), problems


def progress(
    register: pl.DataFrame, packages: Mapping[str, Mapping[str, Any]], plan: Plan, as_of: dt.date
) -> pl.DataFrame:
    """Per problem fed back: its returned row (if any), ``overdue`` and ``done_without_evidence``.

    ``stage`` places each problem once (:data:`xkaohe.codes.RECTIFICATION_STAGE`):
    ``not_returned``, else ``overdue``, else ``done_without_evidence``, else
    ``done``, else ``in_progress``.

    A problem is overdue when it is not done and its deadline is before
    ``as_of``; done without evidence when its status is the plan's done
    status and no evidence is named (with ``rectification.evidence_required``).
    """
    fed = pl.DataFrame(
        [
            (pid, str(info["kind"]), str(info["city"]), str(info["code"]), str(p))
            for pid, info in packages.items()
            for p in info.get("problems", [])
        ],
        schema={c: pl.String for c in ("package_id", "kind", "city", "unit_code", "problem_id")},
        orient="row",
    )
    done = plan.rectification.done_status
    joined = fed.join(
        register.select("package_id", "problem_id", "measure", "deadline", "status", "evidence"),
        on=["package_id", "problem_id"],
        how="left",
    )
    return (
        joined.with_columns(
            returned=pl.col("status").is_not_null(),
            overdue=(pl.col("status") != done) & (pl.col("deadline") < as_of),
            done_without_evidence=(pl.col("status") == done)
            & pl.lit(plan.rectification.evidence_required)
            & (pl.col("evidence").is_null() | (pl.col("evidence").str.strip_chars() == "")),
        )
        .with_columns(pl.col("overdue", "done_without_evidence").fill_null(False))
        .with_columns(
            pl.when(~pl.col("returned"))
            .then(pl.lit("not_returned"))
            .when(pl.col("overdue"))
            .then(pl.lit("overdue"))
            .when(pl.col("done_without_evidence"))
            .then(pl.lit("done_without_evidence"))
            .when(pl.col("status") == done)
            .then(pl.lit("done"))
            .otherwise(pl.lit("in_progress"))
            .alias("stage")
        )
    )


def follow_up_date(plan: Plan, synthetic: bool, today: dt.date) -> dt.date:
    """The day rectification is judged on when none is given.

    Today for a real run: follow-up is about what is late now. Synthetic demo
    data has no today of its own; it is judged on the plan's provincial
    report deadline (六: 12月20日前), when the office first takes stock, so the
    same demo always shows the same overdue items.
    """
    return plan.timeline.provincial_report_by if synthetic else today


def summary(progress_table: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """Per unit: problems fed back, returned, done, overdue, done without evidence."""
    done = plan.rectification.done_status
    return (
        progress_table.group_by("city", "kind", "unit_code")
        .agg(
            pl.len().alias("problems"),
            pl.col("returned").sum().alias("returned"),
            (pl.col("status") == done).sum().alias("done"),
            pl.col("overdue").sum().alias("overdue"),
            pl.col("done_without_evidence").sum().alias("done_without_evidence"),
        )
        .sort("city", "kind", "unit_code")
    )


__all__ = ["COLUMNS", "REQUIRED", "follow_up_date", "progress", "summary", "validate"]
