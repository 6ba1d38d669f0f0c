"""One masking of personal data (xkaohe.privacy): property tests generate the written variants.

Reference for the check character: GB 11643-1999 (ISO 7064 MOD 11-2); the worked
example 11010519491231002X is the standard's own.
"""

from __future__ import annotations

import datetime as dt
import html
import shutil
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xkaohe.io.paths import report_stem
from xkaohe.privacy import (
    KnownNames,
    id_checksum_ok,
    mask_frame,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_text,
)
from xkaohe.run.batch import run_jobs
from xkaohe.run.stages import report_jobs

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_FULL = str.maketrans("0123456789Xx+-() ", "０１２３４５６７８９Ｘｘ＋－（）\u3000")
_NOT_DIGIT_OR_LETTER = "身份证号码：，。；户主电话联系人为（）、 \n"


def check_char(body: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def digits_of(text: str) -> str:
    """The digits and X of ``text`` after folding full-width forms, separators dropped."""
    folded = text.translate(str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx"))
    return "".join(c for c in folded if c.isdigit() or c in "Xx*")


regions = st.sampled_from(["340121", "341221", "110105", "653101", "440305", "522701"])
births = st.dates(dt.date(1925, 1, 1), dt.date(2012, 12, 31))


@st.composite
def id18(draw: st.DrawFn, valid: bool = True) -> str:
    body = draw(regions) + draw(births).strftime("%Y%m%d") + f"{draw(st.integers(0, 999)):03d}"
    right = check_char(body)
    if valid:
        return body + right
    return body + draw(st.sampled_from([c for c in "0123456789X" if c != right]))


@st.composite
def id15(draw: st.DrawFn) -> str:
    return draw(regions) + draw(births).strftime("%y%m%d") + f"{draw(st.integers(0, 999)):03d}"


def grouped(number: str, sizes: tuple[int, ...], sep: str) -> str:
    out, i = [], 0
    for n in sizes:
        out.append(number[i : i + n])
        i += n
    if i < len(number):
        out.append(number[i:])
    return sep.join(p for p in out if p)


@st.composite
def written(draw: st.DrawFn, number: str, groupings: list[tuple[int, ...]]) -> str:
    """``number`` as people write it: grouped with spaces or dashes, maybe full-width."""
    sizes = draw(st.sampled_from([(len(number),), *groupings]))
    sep = draw(st.sampled_from([" ", "-", " - ", "  ", "\u3000", "－"]))
    text = grouped(number, sizes, sep)
    if draw(st.booleans()):
        text = text.translate(_FULL)
    return text


context = st.text(alphabet=_NOT_DIGIT_OR_LETTER, max_size=8)


# ------------------------------------------------------------------ ID numbers


def test_check_character_of_the_standards_example() -> None:
    assert id_checksum_ok("11010519491231002X") and id_checksum_ok("11010519491231002x")
    assert not id_checksum_ok("110105194912310021")


@given(st.data())
def test_every_written_form_of_an_id_number_is_masked(data: st.DataObject) -> None:
    number = data.draw(st.one_of(id18(), id18(valid=False), id15()), label="id")
    if number[-1] == "X" and data.draw(st.booleans()):
        number = number[:-1] + "x"
    groupings = [(6, 8, 4), (4, 4, 4, 4, 2), (6, 4, 4, 4), (3, 3, 4, 4, 4)]
    shown = data.draw(written(number, groupings), label="written")
    text = data.draw(context) + shown + data.draw(context)
    out = mask_text(text)
    assert len(out) == len(text)
    kept = digits_of(out)
    assert number.upper() not in kept.upper()
    assert kept.count("*") == len(number) - 8  # 6 kept in front, 2 at the end
    assert mask_text(out) == out  # masking twice changes nothing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("身份证34012119630917894X。", "身份证340121**********4X。", id="id-X"),
        pytest.param("340121196309178943", "340121**********43", id="id-digits"),
        pytest.param("3401 2119 6309 1789 4x", "3401 21** **** **** 4x", id="id-spaced"),
        pytest.param("证号340121630917894", "证号340121*******94", id="id-15"),
        pytest.param("户3401210010010001", "户3401210010010001", id="household-id-kept"),
        pytest.param("H340121001001001", "H340121001001001", id="helper-id-kept"),
        pytest.param("村340121001001", "村340121001001", id="village-code-kept"),
        pytest.param("项目341221-C001", "项目341221-C001", id="project-id-kept"),
        pytest.param("资金94500元，2019-11-24", "资金94500元，2019-11-24", id="amount-date-kept"),
        pytest.param("2016-2018年脱贫户", "2016-2018年脱贫户", id="year-range-kept"),
        pytest.param("999999999999999999", "999999999999999999", id="18-digits-no-prefix-no-check"),
        pytest.param(
            "340121196309178943 13812345678",
            "340121**********43 138****5678",
            id="id-then-mobile",
        ),
        pytest.param("13812345678，13912345678", "138****5678，139****5678", id="two-mobiles"),
    ],
)
def test_mask_text_examples(text: str, expected: str) -> None:
    assert mask_text(text) == expected


# ---------------------------------------------------------------------- phones


@st.composite
def mobile(draw: st.DrawFn) -> str:
    return f"1{draw(st.integers(3, 9))}{draw(st.integers(0, 10**9 - 1)):09d}"


@given(st.data())
def test_every_written_form_of_a_mobile_number_is_masked(data: st.DataObject) -> None:
    number = data.draw(mobile(), label="mobile")
    shown = data.draw(written(number, [(3, 4, 4), (3, 8), (7, 4)]), label="written")
    prefix = data.draw(
        st.sampled_from(["", "+86", "+86 ", "0086 ", "86-", "(+86)", "（+86）", "+86-"])
    )
    text = data.draw(context) + prefix + shown + data.draw(context)
    out = mask_text(text)
    kept = digits_of(out)
    assert number not in kept
    assert kept.count("*") == 4 and number[:3] in kept and number[-4:] in kept
    assert mask_text(out) == out


@st.composite
def landline(draw: st.DrawFn) -> tuple[str, str]:
    area = draw(st.sampled_from(["010", "021", "0551", "0558", "0564"]))
    width = draw(st.sampled_from([7, 8]))
    local = str(draw(st.integers(2, 9))) + "".join(
        str(draw(st.integers(0, 9))) for _ in range(width - 1)
    )
    return area, local


@given(st.data())
def test_every_written_form_of_a_landline_is_masked(data: st.DataObject) -> None:
    area, local = data.draw(landline(), label="landline")
    form = data.draw(
        st.sampled_from(["{a}{l}", "{a}-{l}", "({a}){l}", "（{a}）{l}", "{a} {l}", "+86 {a1} {l}"])
    )
    split = local[:4] + data.draw(st.sampled_from(["", " ", "-"])) + local[4:]
    text = form.format(a=area, a1=area[1:], l=split)
    if data.draw(st.booleans()):
        text = text.translate(_FULL)
    out = mask_text(data.draw(context) + text + data.draw(context))
    kept = digits_of(out)
    assert local not in kept and local[-2:] in kept
    assert kept.count("*") == len(local) - 2


def test_a_local_number_is_masked_only_when_announced() -> None:
    assert mask_text("联系电话：6512345") == "联系电话：*****45"
    assert mask_text("Tel 6512-3456") == "Tel ****-**56"
    assert mask_text("资金6512345元") == "资金6512345元"


# ----------------------------------------------------------------------- names

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
names = st.builds(
    lambda s, g: s + g,
    st.sampled_from(list(_SURNAMES)),
    st.text(alphabet=_GIVEN, min_size=1, max_size=2),
)


@given(st.lists(names, min_size=1, max_size=5, unique=True), st.data())
def test_known_names_are_masked_also_when_spaced(people: list[str], data: st.DataObject) -> None:
    known = KnownNames.build(people)
    name = data.draw(st.sampled_from(people))
    spaced = data.draw(st.sampled_from(["", " ", "\u3000", "  "])).join(name)
    text = data.draw(st.text(alphabet="走访了说，。的", max_size=6)) + spaced + "户"
    out = mask_text(text, known)
    assert name not in "".join(out.split())
    assert name[0] in out and out.count("*") >= len(name) - 1


def test_names_keep_surnames_and_spare_place_names() -> None:
    known = KnownNames.build(
        ["张三", "张三丰", "黄山", "刘林", "王", None], keep=["黄山市", "刘林村"]
    )
    text = "张三丰和张三在黄山市刘林村见到黄山和刘林；王"
    assert mask_text(text, known) == "张**和张*在黄山市刘林村见到黄*和刘*；王"
    assert mask_text("张 三 丰来了", known) == "张 * *来了"
    assert mask_text("张三", KnownNames.build(["张三"], keep=["张三"])) == "张三"
    assert mask_text(text) == text  # no names known: numbers only


# ----------------------------------------------------------- columns and frames


def test_column_masks() -> None:
    assert mask_name("张三丰") == "张**"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0551-65123456") == "0551-******56"
    assert mask_id_number("340121196309178943") == "340121**********43"
    assert mask_id_number("12345") == "*****"


def test_mask_frame_masks_columns_by_kind_and_text_everywhere_nulls_stay() -> None:
    df = pl.DataFrame(
        {
            "head_name": ["张三丰", None],
            "phone": ["13812345678", None],
            "head_id_number": ["340121196309178943", None],
            "household_id": ["3412210010010017", "2"],
            "description": ["户主张三丰，电话138 1234 5678，身份证340121196309178943", None],
            "n": [1, 2],
        }
    )
    out = mask_frame(df, KnownNames.build(["张三丰"]))
    assert out.row(0) == (
        "张**",
        "138****5678",
        "340121**********43",
        "3412210010010017",
        "户主张**，电话138 **** 5678，身份证340121**********43",
        1,
    )
    assert out.row(1) == (None, None, None, "2", None, 2)
    only = mask_frame(df, ["张三丰"], columns=[])
    assert only["description"].to_list() == df["description"].to_list()
    assert only["head_name"][0] == "张**"  # personal columns always


def test_long_runs_of_separated_digits_do_not_blow_up() -> None:
    text = "1 " * 20_000 + "2-" * 20_000
    assert len(mask_text(text)) == len(text)  # linear: no catastrophic backtracking


# ------------------------------------------- end to end: free text in a rendered report

PLANTED_ID = "34012119630917894X"
PLANTED_PHONE = "13812345678"


def test_free_text_reaches_the_county_report_masked(small_run: Path, tmp_path: Path) -> None:
    """An ID number, a phone and a household head's name written into a problem's text."""
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    findings = pl.read_parquet(run / "results" / "findings.parquet")
    shown = findings.filter(
        pl.col("confirmed") & pl.col("in_report") & pl.col("county_code").is_not_null()
    )
    target, county = shown.row(0, named=True)["problem_id"], shown["county_code"][0]
    heads = pl.read_csv(run / "frame" / "households.csv", infer_schema=False)["head_name"]
    person = sorted(n for n in heads.drop_nulls().unique().to_list() if len(n) == 3)[0]
    planted = {
        "description": f"户主{' '.join(person)}，身份证{PLANTED_ID[:6]} {PLANTED_ID[6:14]} "
        f"{PLANTED_ID[14:]}，电话（+86）138-1234-5678",
        "evidence": f"联系电话 {PLANTED_PHONE.translate(_FULL)}；{PLANTED_ID.lower()}",
        "suggestion": f"请联系{person}（{PLANTED_PHONE}）",
    }
    findings.with_columns(
        pl.when(pl.col("problem_id") == target).then(pl.lit(v)).otherwise(pl.col(c)).alias(c)
        for c, v in planted.items()
    ).write_parquet(run / "results" / "findings.parquet")
    jobs = [s.job for s in report_jobs(run, county) if s.job.stem == report_stem("county", county)]
    (result,) = run_jobs(jobs, run, workers=1, progress=False)
    assert result.ok, result.error
    page = html.unescape(Path(result.html).read_text(encoding="utf-8"))
    text = digits_of(page).upper()
    assert PLANTED_ID not in text and PLANTED_PHONE not in text
    assert person not in "".join(page.split())
    assert f"{person[0]}**" in "".join(page.split())  # the problem is shown, masked
