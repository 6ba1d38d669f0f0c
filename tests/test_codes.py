"""The code-set registry: one label per code, accepted spellings, scope wording, no other dicts."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polars as pl
import pytest

from xkaohe import codes, schemas
from xkaohe.io.plan_file import load_plan
from xkaohe.io.tables import parse_table

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "xkaohe"
PLAN = REPO / "params" / "plan-2019.yaml"
CJK = re.compile(r"[\u4e00-\u9fff]")
HEX = re.compile(r"^#[0-9a-f]{6}$")


@pytest.mark.parametrize("code_set", [pytest.param(s, id=n) for n, s in codes.CODE_SETS.items()])
def test_each_set_has_unique_codes_labels_and_valid_colours(code_set: codes.CodeSet) -> None:
    assert code_set.codes and CJK.search(code_set.title)
    assert len(set(code_set.order)) == len(code_set.order)
    labels = list(code_set.labels().values())
    assert len(set(labels)) == len(labels)  # a label names one code
    assert all(CJK.search(label) for label in labels)
    assert all(HEX.match(colour) for colour in code_set.colours().values())


def test_labels_through_polars_pass_unknown_codes_and_keep_nulls() -> None:
    s = pl.Series(["confirmed", "odd", None])
    out = pl.select(codes.REVIEW_OUTCOME.expr(pl.lit(s))).to_series().to_list()
    assert out == ["属实", "odd", None]
    ranks = pl.select(codes.REVIEW_OUTCOME.rank(pl.lit(s))).to_series().to_list()
    assert ranks == [1, 3, 3]


@pytest.mark.parametrize(
    "written",
    [
        pytest.param("exited_2016_2018", id="code"),
        pytest.param("2016—2018年脱贫户", id="em-dash-as-the-plan-writes"),
        pytest.param("2016-2018年脱贫户", id="hyphen"),
        pytest.param("2016～2018年脱贫户", id="tilde"),
    ],
)
def test_every_spelling_of_a_status_reads_as_its_code(written: str) -> None:
    raw = pl.DataFrame(
        {
            "household_id": ["1"],
            "village_code": ["v"],
            "villager_group": ["1"],
            "status": [written],
            "household_size": ["3"],
        }
    )
    spec = schemas.HOUSEHOLDS.narrowed(frozenset(raw.columns))
    df, problems = parse_table(raw.with_row_index("_row", 2), spec, Path("households.csv"))
    assert not problems
    assert df["status"].to_list() == ["exited_2016_2018"]


def test_the_plan_writes_year_ranges_with_the_em_dash() -> None:
    assert codes.HOUSEHOLD_STATUS.label("exited_2016_2018") == "2016—2018年脱贫户"
    assert codes.SAMPLE_CATEGORY.label("new_2018_2019") == "2018—2019年新识别贫困户"


def test_resolved_conflicts() -> None:
    assert codes.FINDING_SOURCE.label("team") == "考核组发现"
    assert codes.REVIEW_OUTCOME.label("confirmed") == "属实"
    assert codes.REVIEW_STATE.label("pending", short=True) == "待复核"
    greys = {s.colour("no_data") for s in codes.CODE_SETS.values() if "no_data" in s}
    assert greys == {codes.NO_DATA_COLOUR}  # one "no data" colour


def test_plan_categories_and_rates_use_the_registry_labels() -> None:
    plan = load_plan(PLAN)
    for category in plan.county_categories:
        assert codes.COUNTY_CATEGORY.label(category.code) == category.label
    assert set(plan.indicators.thresholds) <= set(codes.RATE.order)


def test_verdict_and_status_codes_are_the_contracts() -> None:
    assert set(codes.VERDICT.order) == set(codes.VERDICT_REFERENCE.order)
    assert set(codes.VERDICT.order) == {"fail", "no_data", "not_found", "pass"}
    assert {"fail", "not_found", "pass"} <= set(codes.RATE_STATUS.order)
    assert set(codes.VERDICT_SCOPE.order) == {"exit_standard", "reference"}


def test_reference_counties_are_never_called_failing_on_rates_alone() -> None:
    forbidden = ("未达标", "需重点整改", "不达标")
    for code_set in (codes.RATE_STATUS_REFERENCE, codes.VERDICT_REFERENCE):
        for c in code_set:
            text = c.label + c.short_label + c.description
            assert not any(word in text for word in forbidden), c
    assert codes.verdict_label("fail", "reference") == "有指标超出参考线"
    assert codes.verdict_label("fail", "exit_standard") == "未达到贫困县退出标准"
    assert codes.status_label("fail", None) == codes.status_label("fail", "reference")
    assert codes.status_label(None, "exit_standard") == "无样本"
    frame = pl.DataFrame({"s": ["fail", None], "scope": ["reference", "exit_standard"]})
    out = frame.select(codes.by_scope(pl.col("s"), pl.col("scope"), short=True))
    assert out.to_series().to_list() == ["超出参考线", "无样本"]


# Dicts of Chinese text that are not code labels, each with its reason.
_NOT_LABELS = {
    ("io/sample_package.py", "_SHEETS"),  # printable column headers of the field lists
    ("report/feedback.py", "REGISTER_COLUMNS"),  # the rectification register's headers
    ("synth/claims.py", "_DOCUMENT"),  # names of synthetic documents, not codes
}


def _label_dicts(path: Path) -> list[tuple[str, int]]:
    """Dict literals in ``path`` mapping two or more codes to Chinese text (name, line)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict) or len(node.keys) < 2:
            continue
        keys = [k.value if isinstance(k, ast.Constant) else None for k in node.keys]
        values = [v.value if isinstance(v, ast.Constant) else None for v in node.values]
        if all(isinstance(k, str) and re.fullmatch(r"[a-z][a-z0-9_]*", k) for k in keys) and all(
            isinstance(v, str) and CJK.search(v) for v in values
        ):
            found.append(node.lineno)
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            for child in ast.walk(node):
                if isinstance(child, ast.Dict) and child.lineno in found:
                    names[child.lineno] = target.id if isinstance(target, ast.Name) else "?"
    return [(names.get(line, "?"), line) for line in found]


def test_no_other_module_keeps_a_code_label_dict() -> None:
    stray = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "codes.py":
            continue
        for name, line in _label_dicts(path):
            if (rel, name) not in _NOT_LABELS:
                stray.append(f"{rel}:{line} {name}")
    assert not stray, "code -> Chinese label dicts outside xkaohe/codes.py: " + ", ".join(stray)
