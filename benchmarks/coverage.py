"""Benchmark: coverage of the county intervals of :mod:`xkaohe.analyse.estimate` on synthetic draws.

Usage: python benchmarks/coverage.py [--counties 2000] [--seed 2019] [--cluster-sd 0.7]

For each true wrong-exit level p in {0, 0.01, 0.02, 0.05, 0.1} it builds
``--counties`` synthetic counties (a finite population of 30 villages with
exited households of two statuses), draws the plan's sample from each (4
villages by sequential Poisson sampling tilted toward remote villages, then 4
households of each exited status per village: about 30 exited households),
weights it with :func:`xkaohe.estimate.design_weights` and computes the
persons-weighted wrong-exit rate with both interval methods. The truth is the
finite-population rate of each county. Village effects make bad households
cluster (log-normal, sd 0.7) and remote villages, which are drawn more often,
are worse, so that both the clustering and the weights matter.

Prints, per method and level: coverage of the 95% interval (and how often the
truth lies below or above it), mean width, mean upper bound, the share of
counties estimated at exactly 0, and at the end the time of 6 rates x 70
counties. Every random number comes from one seeded numpy Generator.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from xkaohe.analyse.estimate import METHODS, count_frame, design_weights, ratio_intervals

LEVELS = (0.0, 0.01, 0.02, 0.05, 0.1)
VILLAGES = 30  # villages per county in the population
DRAWN = 4  # villages drawn per county
PER_STATUS = 4  # households drawn per village and status
STATUSES = ("exited_2019", "exited_2016_2018")
STATUS_MEAN = (14.0, 24.0)  # mean households per village and status
STATUS_RISK = (1.4, 0.76)  # relative risk of a wrong exit by status
CLUSTER_SD = 0.7  # sd of the log village effect
REMOTE_SLOPE = 1.0  # log risk per unit of remoteness


def population(
    rng: np.random.Generator, counties: int, p: float, cluster_sd: float = CLUSTER_SD
) -> pl.DataFrame:
    """Every exited household of ``counties`` synthetic counties at level ``p``."""
    n_v = counties * VILLAGES
    county = np.repeat(np.arange(counties), VILLAGES)
    remote = rng.uniform(0.0, 1.0, n_v)
    effect = np.exp(
        cluster_sd * rng.standard_normal(n_v) + REMOTE_SLOPE * (remote - 0.5) - cluster_sd**2 / 2
    )
    parts = []
    for status, mean, risk in zip(STATUSES, STATUS_MEAN, STATUS_RISK, strict=True):
        size_v = 1 + rng.poisson(mean - 1, n_v)
        village = np.repeat(np.arange(n_v), size_v)
        rate = np.minimum(1.0, p * risk * effect[village])
        parts.append(
            pl.DataFrame(
                {
                    "county_code": county[village],
                    "village_code": village,
                    "status": status,
                    "household_size": 1 + rng.poisson(1.2, village.size),
                    "bad": rng.uniform(0.0, 1.0, village.size) < rate,
                    "tilt": 1.0 + remote[village],
                }
            )
        )
    households = pl.concat(parts).with_columns(
        household_id=pl.int_range(pl.len()), county_code=pl.col("county_code").cast(pl.String)
    )
    return households.with_columns(village_code=pl.col("village_code").cast(pl.String))


def draw(rng: np.random.Generator, pop: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Sampled villages (with ``inclusion_prob``) and surveyed households."""
    villages = pop.group_by("county_code", "village_code").agg(pl.col("tilt").first())
    villages = villages.sort("village_code").with_columns(
        key=pl.Series(rng.uniform(0.0, 1.0, villages.height)),
    )
    villages = villages.with_columns(
        key=pl.col("key") / pl.col("tilt"),
        inclusion_prob=pl.min_horizontal(
            1.0, DRAWN * pl.col("tilt") / pl.col("tilt").sum().over("county_code")
        ),
    )
    drawn = villages.filter(pl.col("key").rank("ordinal").over("county_code") <= DRAWN)
    in_drawn = pop.join(drawn.select("village_code"), on="village_code", how="semi")
    surveyed = in_drawn.sort("household_id").with_columns(
        key=pl.Series(rng.uniform(0.0, 1.0, in_drawn.height))
    )
    surveyed = surveyed.filter(
        pl.col("key").rank("ordinal").over("village_code", "status") <= PER_STATUS
    )
    return drawn.select("county_code", "village_code", "inclusion_prob"), surveyed


def one_level(rng: np.random.Generator, counties: int, p: float, cluster_sd: float) -> pl.DataFrame:
    """Intervals and truth of every county at level ``p``, both methods."""
    pop = population(rng, counties, p, cluster_sd)
    truth = pop.group_by("county_code").agg(
        truth=(pl.col("household_size") * pl.col("bad")).sum() / pl.col("household_size").sum()
    )
    villages, surveyed = draw(rng, pop)
    frame = pop.join(villages.select("village_code"), on="village_code", how="semi")
    counts = count_frame(
        frame.group_by("village_code").agg(households_total=pl.len()),
        frame.select("village_code", "status"),
    )
    weighted = design_weights(
        surveyed.with_columns(registered=pl.lit(True)), villages, counts
    ).with_columns(bad_persons=pl.col("household_size") * pl.col("bad"))
    out = []
    for method in METHODS:
        ci = ratio_intervals(
            weighted,
            numerator="bad_persons",
            denominator="household_size",
            weight="weight",
            method=method,
        )
        out.append(ci.join(truth, on="county_code").with_columns(method=pl.lit(method), p=p))
    return pl.concat(out)


def summary(results: pl.DataFrame) -> pl.DataFrame:
    """Coverage and width per method and level, then overall."""
    stats = [
        pl.len().alias("counties"),
        ((pl.col("low") <= pl.col("truth")) & (pl.col("truth") <= pl.col("high")))
        .mean()
        .alias("coverage"),
        (pl.col("truth") < pl.col("low")).mean().alias("truth_below"),
        (pl.col("truth") > pl.col("high")).mean().alias("truth_above"),
        (pl.col("high") - pl.col("low")).mean().alias("mean_width"),
        pl.col("high").mean().alias("mean_high"),
        (pl.col("est") == 0).mean().alias("est_zero"),
        pl.col("truth").mean().alias("mean_truth"),
    ]
    by_level = results.group_by("method", "p").agg(stats).sort("method", "p")
    overall = (
        results.group_by("method")
        .agg(stats)
        .with_columns(p=pl.lit(None, pl.Float64))
        .select(by_level.columns)
        .sort("method")
    )
    return pl.concat([by_level, overall])


def timing(rng: np.random.Generator) -> tuple[float, float]:
    """Seconds for 6 rates x 70 counties: first call, then the mean of the next runs."""
    sample = draw(rng, population(rng, 70, 0.02))[1].with_columns(
        weight=pl.lit(1.0), bad_persons=pl.col("household_size") * pl.col("bad")
    )

    def six() -> float:
        start = time.perf_counter()
        for _ in range(6):
            ratio_intervals(
                sample, numerator="bad_persons", denominator="household_size", weight="weight"
            )
        return time.perf_counter() - start

    first = six()
    return first, sum(six() for _ in range(5)) / 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=2000, help="counties per level")
    parser.add_argument("--seed", type=int, default=2019, help="seed of the numpy Generator")
    parser.add_argument(
        "--cluster-sd", type=float, default=CLUSTER_SD, help="sd of the log village effect"
    )
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    first, warm = timing(rng)  # first: the first call in this process
    start = time.perf_counter()
    results = pl.concat([one_level(rng, args.counties, p, args.cluster_sd) for p in LEVELS])
    table = summary(results)
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=140, float_precision=4):
        print(table)
    print(
        f"{args.counties} counties x {len(LEVELS)} levels (cluster sd {args.cluster_sd}) in "
        f"{time.perf_counter() - start:.1f} s; "
        f"6 rates x 70 counties: {first:.3f} s (first call), {warm:.3f} s (warm)"
    )


if __name__ == "__main__":
    main()
