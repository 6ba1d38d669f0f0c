"""Permanent random numbers (DESIGN.md, protocol "prn-order-v1", first paragraph)."""

from __future__ import annotations

import hashlib

import polars as pl
import pytest

from xkaohe.draw.prn import PROTOCOL, prn, prn_series


def reference_prn(seed: str, stage: str, key: str) -> float:
    """The protocol's formula, written out as DESIGN.md states it."""
    digest = hashlib.sha256(f"{seed}:{stage}:{key}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") + 0.5) / 2**64


# Worked examples printed in DESIGN.md, "The sampling protocol".
@pytest.mark.parametrize(
    ("stage", "key", "expected"),
    [
        pytest.param("village", "341221001001", 0.3762264605943124, id="village"),
        pytest.param("household", "00100100017", 0.14773288678130328, id="household"),
    ],
)
def test_worked_examples(stage: str, key: str, expected: float) -> None:
    assert prn("demo", stage, key) == expected
    assert prn_series("demo", stage, pl.Series([key]))[0] == expected


def test_protocol_name() -> None:
    assert PROTOCOL == "prn-order-v1"


KEYS = [
    "0", "00", "000123", "0000000001", "00100100017", "341221001001", "341221001001/3",
    "村民小组", "张庄村/第一组", "P-001/00100100017", "  padded ", "ä", "",
    *[f"{i:011d}" for i in range(0, 3000, 7)],
    *[f"一{i}组/{i:04d}" for i in range(300)],
]


@pytest.mark.parametrize("stage", ["village", "household", "group", "beneficiary", "helper"])
def test_prn_series_equals_prn(stage: str) -> None:
    got = prn_series("种子 2019", stage, pl.Series("key", KEYS, dtype=pl.String))
    assert got.dtype == pl.Float64
    assert got.len() == len(KEYS)
    expected = [prn("种子 2019", stage, k) for k in KEYS]
    assert got.to_list() == expected  # exact, bit for bit
    assert expected == [reference_prn("种子 2019", stage, k) for k in KEYS]


def test_prn_series_covers_the_whole_range() -> None:
    """Many random keys: top-bit-set and small 64-bit prefixes both convert exactly."""
    keys = [str(i) for i in range(20_000)]
    got = prn_series("s", "household", pl.Series(keys)).to_list()
    assert got == [reference_prn("s", "household", k) for k in keys]
    assert all(0.0 < x < 1.0 for x in got)


def test_prn_series_empty() -> None:
    got = prn_series("s", "village", pl.Series("k", [], dtype=pl.String))
    assert got.len() == 0
    assert got.dtype == pl.Float64


def test_leading_zeros_matter() -> None:
    assert prn("s", "household", "017") != prn("s", "household", "17")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(("s", "village", "1"), ("t", "village", "1"), id="seed"),
        pytest.param(("s", "village", "1"), ("s", "household", "1"), id="stage"),
        pytest.param(("s", "village", "1"), ("s", "village", "2"), id="key"),
    ],
)
def test_each_part_changes_the_number(a: tuple[str, str, str], b: tuple[str, str, str]) -> None:
    assert prn(*a) != prn(*b)
