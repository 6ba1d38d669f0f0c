"""Benchmark: the county wrong-exit interval and status on the real design, against a planted truth.

Usage: python benchmarks/coverage.py [--replicates 30] [--scale small] [--seed 2019]
                                     [--cluster-sd 0.7] [--remote-slope 1.5]

The population is a synthetic frame (:func:`xkaohe.synth.frame.synthesize_frame`,
70 counties at ``small`` scale). For each true wrong-exit level p in
{0.5, 1, 2, 5, 10}% every exited household of the frame is planted bad with
probability ``p * status risk * village effect``: a log-normal village effect
(sd ``--cluster-sd``) times ``exp(--remote-slope * (remoteness - 0.5))``, so
that remote villages — which the plan's walk favours (向边远村倾斜) — are
riskier and the design weights matter; the village effects are scaled so the
mean household probability is p. The population is fixed; the sample is drawn
``--replicates`` times with :func:`xkaohe.draw.sampling.draw_sample` (the
package's own walk, substitution and Monte Carlo inclusion probabilities,
seed ``coverage-<seed>-<r>``), each surveyed household answers as planted
(a bad household is below the income line), and the package computes the
real weights (:func:`xkaohe.analyse.indicators.weighted`), estimates,
intervals, statuses and detection limits
(:func:`xkaohe.analyse.indicators.county_indicators`).

The truth of a county is its persons-weighted wrong-exit rate among the
exited households of its candidate villages (poor villages and non-poor
villages with many poor people), the population ``R_est`` estimates
(``candidate_household_share``); the whole-county rate is shown beside it.
Per level the script prints: the coverage of the 95% interval (truth below /
above it), its mean width, the relative bias of ``R_est`` (mean estimate /
mean truth - 1), the share of counties-by-draws in each status
(fail / not_found / pass, and 样本不足), and the mean detection limit. The
target of issue 10 is a coverage of 93-99% at 1-10%. Every random number comes
from a generator seeded from ``--seed``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from xkaohe.analyse.estimate import count_frame
from xkaohe.analyse.indicators import classify, county_indicators, weighted
from xkaohe.draw.prn import seeded_rng
from xkaohe.draw.sampling import draw_sample, village_candidates
from xkaohe.inputs import Frame
from xkaohe.io.plan_file import load_plan
from xkaohe.io.resources import default_plan
from xkaohe.synth.frame import synthesize_frame

LEVELS = (0.005, 0.01, 0.02, 0.05, 0.10)
EXITED = ("exited_2019", "exited_2016_2018")
STATUS_RISK = {"exited_2019": 1.4, "exited_2016_2018": 0.76}  # recent exits are riskier
RATE = "wrong_exit_rate"


def plant(
    frame: dict[str, pl.DataFrame],
    remoteness: pl.DataFrame,
    level: float,
    cluster_sd: float,
    remote_slope: float,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """``household_id, bad`` for every exited household of the frame at ``level``."""
    villages = frame["villages"].select("village_code").join(remoteness, on="village_code")
    effect = np.exp(
        cluster_sd * rng.standard_normal(villages.height)
        + remote_slope * (villages["remoteness"].to_numpy() - 0.5)
    )
    exited = (
        frame["households"]
        .filter(pl.col("status").is_in(EXITED))
        .select("household_id", "village_code", "status")
        .join(villages.with_columns(_effect=pl.Series(effect)), on="village_code")
        .with_columns(_risk=pl.col("status").replace_strict(STATUS_RISK, return_dtype=pl.Float64))
    )
    raw = exited["_effect"].to_numpy() * exited["_risk"].to_numpy()
    p = np.minimum(1.0, level * raw / raw.mean())
    return exited.select("household_id", pl.Series("bad", rng.random(exited.height) < p))


def truth(frame: dict[str, pl.DataFrame], bad: pl.DataFrame, drawable: pl.Series) -> pl.DataFrame:
    """Per county: the planted rate in the candidate villages, and in the whole county."""
    hh = (
        frame["households"]
        .join(bad, on="household_id")
        .join(frame["villages"].select("village_code", "county_code"), on="village_code")
        .with_columns(_bad=pl.col("household_size") * pl.col("bad"))
    )
    cand = pl.col("village_code").is_in(drawable.implode())
    return hh.group_by("county_code").agg(
        truth=pl.col("_bad").filter(cand).sum() / pl.col("household_size").filter(cand).sum(),
        truth_county=pl.col("_bad").sum() / pl.col("household_size").sum(),
    )


def surveyed(frame: dict[str, pl.DataFrame], plan_seed: str, plan: object) -> pl.DataFrame:
    """One draw: the sampled registered households with their weights (answers added later)."""
    fr = Frame.from_tables(frame)
    sample = draw_sample(fr, plan, plan_seed)  # type: ignore[arg-type]
    villages = sample.villages
    sampled = villages.select("village_code")
    counts = count_frame(
        fr.villages.join(sampled, on="village_code", how="semi"),
        fr.households.join(sampled, on="village_code", how="semi"),
    )
    hh = sample.households.select(
        "county_code",
        "village_code",
        "household_id",
        "household_size",
        pl.col("status").alias("frame_status"),
        registered=pl.lit(True),
    )
    return weighted(hh, villages, counts).with_columns(_draw=pl.lit(plan_seed))


def answers(draws: pl.DataFrame, bad: pl.DataFrame, line: float) -> pl.DataFrame:
    """The questionnaires the planted truth gives: bad households below the income line."""
    wrong = pl.col("bad").fill_null(False)
    return draws.join(bad, on="household_id", how="left").with_columns(
        income_per_capita_yuan=pl.when(wrong).then(line - 500.0).otherwise(line + 2000.0),
        food_clothing_ok=pl.lit(True),
        education_ok=pl.lit(True),
        medical_ok=pl.lit(True),
        housing_safe=pl.lit(True),
        water_safe=pl.lit(True),
        ineligible_evidence=pl.lit(False),
        knows_helper=pl.lit(True),
        approval=pl.lit("approve"),
        # Each draw's counties and villages are their own domains and PSUs.
        county_code=pl.format("{}|{}", "county_code", "_draw"),
        village_code=pl.format("{}|{}", "village_code", "_draw"),
    )


def summarise(ind: pl.DataFrame, truths: pl.DataFrame) -> dict[str, float]:
    r = RATE
    df = ind.with_columns(pl.col("county_code").str.split("|").list.first().alias("_c")).join(
        truths, left_on="_c", right_on="county_code"
    )
    t = pl.col("truth")
    status = pl.col(f"{r}_status")
    row = df.select(
        coverage=((pl.col(f"{r}_low") <= t) & (t <= pl.col(f"{r}_high"))).mean(),
        below=(t < pl.col(f"{r}_low")).mean(),
        above=(t > pl.col(f"{r}_high")).mean(),
        width=(pl.col(f"{r}_high") - pl.col(f"{r}_low")).mean(),
        bias=pl.col(f"{r}_est").mean() / t.mean() - 1.0,
        bias_county=pl.col(f"{r}_est").mean() / pl.col("truth_county").mean() - 1.0,
        fail=(status == "fail").mean(),
        not_found=(status == "not_found").mean(),
        passed=(status == "pass").mean(),
        insufficient=pl.col(f"{r}_insufficient").mean(),
        detect=pl.col(f"{r}_detect").mean(),
        truth=t.mean(),
        n=pl.len(),
    )
    return row.row(0, named=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=30)
    parser.add_argument("--scale", default="small")
    parser.add_argument("--seed", default="2019")
    parser.add_argument("--cluster-sd", type=float, default=0.7)
    parser.add_argument("--remote-slope", type=float, default=1.5)
    args = parser.parse_args()
    start = time.perf_counter()
    plan = load_plan(default_plan())
    frame = synthesize_frame(args.scale, f"coverage-{args.seed}")
    candidates = village_candidates(Frame.from_tables(frame), plan, args.seed)
    remoteness = candidates.select("village_code", "remoteness")
    drawable = candidates.filter(pl.col("village_type").is_not_null())["village_code"]
    t = time.perf_counter()
    draws = pl.concat(
        [surveyed(frame, f"coverage-{args.seed}-{r}", plan) for r in range(args.replicates)]
    )
    per_draw = (time.perf_counter() - t) / args.replicates
    print(
        f"{frame['counties'].height} counties, {args.replicates} draws of the plan's sample "
        f"({draws.height / args.replicates:,.0f} registered households each, "
        f"draw_sample + weights {per_draw:.1f} s per draw); village effect sd {args.cluster_sd}, "
        f"remote slope {args.remote_slope}; truth = rate in the candidate villages"
    )
    header = (
        f"{'true p':>6} {'truth':>6} {'cover':>6} {'below':>6} {'above':>6} {'width':>6} "
        f"{'bias':>6} {'bias*':>6} {'fail':>6} {'n.f.':>6} {'pass':>6} {'insuf':>6} "
        f"{'detect':>6} {'n':>6}"
    )
    print(header)
    line = plan.indicators.income_line_yuan
    counties = draws.select(pl.format("{}|{}", "county_code", "_draw").alias("county_code"))
    for i, level in enumerate(LEVELS):
        rng = seeded_rng(args.seed, f"coverage/plant/{i}")
        bad = plant(frame, remoteness, level, args.cluster_sd, args.remote_slope, rng)
        truths = truth(frame, bad, drawable)
        survey = classify(answers(draws, bad, line), plan)
        ind = county_indicators(survey, counties.unique(), plan).filter(
            pl.col(f"{RATE}_n").is_not_null()
        )
        s = summarise(ind, truths)
        print(
            f"{level:>6.1%} {s['truth']:>6.2%} {s['coverage']:>6.1%} {s['below']:>6.1%} "
            f"{s['above']:>6.1%} {s['width']:>6.3f} {s['bias']:>+6.1%} {s['bias_county']:>+6.1%} "
            f"{s['fail']:>6.1%} {s['not_found']:>6.1%} {s['passed']:>6.1%} "
            f"{s['insufficient']:>6.1%} {s['detect']:>6.2%} {s['n']:>6}"
        )
    print(
        "cover: truth inside the 95% interval; below/above: truth below/above it; bias: "
        "mean R_est / mean truth - 1 (bias*: against the whole-county rate); fail / n.f. "
        "(not_found) / pass: the status; insuf: df < 1 (样本不足); detect: mean detection limit"
    )
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
