"""Benchmark: the defences of issue 11 are cheap, and hostile inputs fail fast.

Usage: python benchmarks/hostile.py [--names 1000000] [--texts 20000]

Prints one line per measurement:

* ``yaml bomb``: parsing a 10-level "billion laughs" plan file (refused; before
  the fix 9 levels took 29 s and 3.2 GB);
* ``known names``: building :class:`xkaohe.privacy.KnownNames` from N names
  (a province's household heads are about 1.5 million);
* ``mask_text``: free texts per second with those names (problem descriptions
  of 60-120 characters holding an ID number, a phone and a name);
* ``mask_frame``: a findings-like table of the same texts (each distinct value
  masked once);
* ``safe_name``: names per second;
* ``atomic write``: small files per second through :func:`atomic_path` (fsync
  included) against a plain write.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import polars as pl

from xkaohe.errors import PlanError
from xkaohe.io.files import write_text
from xkaohe.io.paths import safe_name
from xkaohe.plan import parse_plan
from xkaohe.privacy import KnownNames, mask_frame, mask_text

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅春荣志国建文斌"


def billion_laughs(levels: int = 10) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def names(n: int, rng: random.Random) -> list[str]:
    return [
        rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=rng.choice([1, 2]))) for _ in range(n)
    ]


def texts(n: int, people: list[str], rng: random.Random) -> list[str]:
    out = []
    for i in range(n):
        person = rng.choice(people)
        out.append(
            f"入户核查发现，户主{person}家人均纯收入低于标准，身份证34012119630917{i % 1000:03d}X，"
            f"联系电话138 {i % 10000:04d} 5678，帮扶责任人未按要求落实帮扶措施，需整改。"
        )
    return out


def timed(label: str, fn, unit: str = "", count: int = 0) -> None:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    took = time.perf_counter() - start
    rate = f"  ({count / took:,.0f} {unit}/s)" if count else ""
    print(f"{label:<28} {took * 1000:10.1f} ms{rate}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=1_000_000)
    parser.add_argument("--texts", type=int, default=20_000)
    args = parser.parse_args()
    rng = random.Random(11)

    def bomb() -> None:
        try:
            parse_plan(billion_laughs(), "bomb.yaml")
        except PlanError:
            return
        raise SystemExit("the YAML bomb was accepted")

    timed("yaml bomb (refused)", bomb)
    people = names(args.names, rng)
    known: list[KnownNames] = []
    timed(f"known names ({args.names:,})", lambda: known.append(KnownNames.build(people)))
    sample = texts(args.texts, people, rng)
    timed("mask_text", lambda: [mask_text(t, known[0]) for t in sample], "texts", len(sample))
    df = pl.DataFrame({"description": sample, "suggestion": sample[::-1]})
    timed("mask_frame", lambda: mask_frame(df, known[0]), "rows", df.height)
    hostile = [f"../{p}/x'" for p in people[: args.texts]]
    timed("safe_name", lambda: [safe_name(h) for h in hostile], "names", len(hostile))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        timed(
            "atomic write (1,000 files)",
            lambda: [write_text(folder / f"a{i}.txt", "x" * 1000) for i in range(1000)],
            "files",
            1000,
        )
        timed(
            "plain write (1,000 files)",
            lambda: [(folder / f"p{i}.txt").write_text("x" * 1000) for i in range(1000)],
            "files",
            1000,
        )


if __name__ == "__main__":
    main()
