"""Hostile and damaged inputs (issue 11): names, YAML bombs, damaged stores, long garbage."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from xkaohe.errors import InputError, PlanError
from xkaohe.io.files import MAX_TEXT_BYTES, read_text
from xkaohe.io.plan_file import load_plan
from xkaohe.plan import parse_plan
from xkaohe.run.stages import load_run_params
from xkaohe.yamltext import MAX_DEPTH, excerpt, load_yaml_text

REPO = Path(__file__).resolve().parents[1]
PLAN = REPO / "params" / "plan-2019.yaml"

# ----------------------------------------------------------------- bounded YAML


def billion_laughs(levels: int = 10) -> str:
    """The classic alias bomb: 9**levels strings from a file of about 1 KB."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*l{i - 1}"] * 9)
        lines.append(f"l{i}: &l{i} [{refs}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "parse",
    [
        pytest.param(lambda t: parse_plan(t, "bomb.yaml"), id="plan"),
        pytest.param(lambda t: load_yaml_text(t, "bomb.yaml"), id="yaml"),
    ],
)
def test_billion_laughs_fails_fast_with_a_clear_message(parse: object) -> None:
    text = billion_laughs()
    assert len(text) < 2000
    start = time.perf_counter()
    with pytest.raises(PlanError, match=r"bomb\.yaml, line 2, .*aliases \(\*l0\) are not allowed"):
        parse(text)  # type: ignore[operator]
    assert time.perf_counter() - start < 1.0  # measured: well under a millisecond


def test_run_parameter_file_refuses_aliases(tmp_path: Path) -> None:
    params = tmp_path / "run.yaml"
    params.write_text(f"run: &r {tmp_path}\nplan: *r\nseed: s\n", encoding="utf-8")
    with pytest.raises(PlanError, match="aliases"):
        load_run_params(params)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a: " + "[" * 20_000 + "]" * 20_000, id="flow"),
        pytest.param("a:\n" + "".join(" " * i + "- \n" for i in range(1, 200)), id="block"),
    ],
)
def test_deep_nesting_is_refused(text: str) -> None:
    with pytest.raises(PlanError, match=f"nested more than {MAX_DEPTH}|nested too deeply"):
        load_yaml_text(text, "deep.yaml")


def test_plan_file_size_is_capped(tmp_path: Path) -> None:
    big = tmp_path / "plan.yaml"
    big.write_text("# " + "x" * MAX_TEXT_BYTES + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"at most 1,048,576 bytes; found a larger one"):
        load_plan(big)
    assert read_text(PLAN)  # the real plan fits


def test_messages_quote_only_an_excerpt_of_a_bad_value() -> None:
    text = PLAN.read_text(encoding="utf-8").replace("title:", f"title_x: {'长' * 100_000}\ntitle:")
    with pytest.raises(PlanError) as err:
        parse_plan(text, "p.yaml")
    assert len(str(err.value)) < 400


def test_excerpt_is_bounded_for_huge_shared_values() -> None:
    row = ["lol"] * 9
    for _ in range(12):  # 9**12 leaves, shared: a full repr would never finish
        row = [row] * 9
    start = time.perf_counter()
    out = excerpt({"k": row, "s": "长" * 10_000})
    assert len(out) <= 80 and time.perf_counter() - start < 0.1
