"""Benchmark: the field ledger — each day's deliveries of all 13 teams, then verify-ledger.

Usage: python benchmarks/ingest.py [--scale small]

Builds (once) a synthetic run under benchmarks/out/ledger-<scale>/ (frame,
sample, lottery and the week's deliveries with their recordings and photos),
removes its ledger, then ingests the week day by day — each day, all teams'
deliveries in one ``xkaohe ingest``, in a fresh process — and runs
``xkaohe verify-ledger`` on the whole week (every chain link, record hash and
stored file hash, the stored tables read again). Targets (issue 12): one
day of all 13 teams in under 3 s; verify-ledger of the week, media
included, in under 10 s. Prints wall and CPU time, peak memory of each
step's process and the machine's load (the figures depend on it); asserts
nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLAN = HERE.parent / "params" / "plan-2019.yaml"


def child(run: Path, work: str) -> None:
    """One measured step in this (fresh) process: a day's ingest or verify-ledger."""
    from xkaohe.run.commands import run_ingest, run_verify_ledger

    out: dict[str, float] = {"import_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    start, cpu = time.perf_counter(), time.process_time()
    if work == "verify":
        result = run_verify_ledger(run)
        out |= {"entries": result.entries, "files": result.files, "records": result.records}
        out["problems"] = len(result.problems)
    else:
        deliveries = sorted(run.glob(f"deliveries/*/{work}"))
        results = run_ingest(run, deliveries)
        out["teams"] = len(deliveries)
        out["records"] = sum(r.records for r in results)
        out["media"] = sum(r.media for r in results)
    out["wall_s"] = time.perf_counter() - start
    out["cpu_s"] = time.process_time() - cpu  # user + system time of the step
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def _in_child(run: Path, work: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(run), work],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--child", nargs=2, metavar=("RUN", "WORK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1])
        return
    run = HERE / "out" / f"ledger-{args.scale}"
    if not (run / "lottery" / "certificate.json").exists():
        from xkaohe.run.commands import run_lottery, run_synth
        from xkaohe.run.sample import run_sample

        print(f"building the synthetic run in {run} ...", flush=True)
        run_synth(run, args.scale, "bench", PLAN)
        run_sample(run / "frame", PLAN, "bench", run / "sample", field_lists=False)
        run_lottery(run / "roster", PLAN, "bench", run / "lottery")
    shutil.rmtree(run / "ledger", ignore_errors=True)
    days = sorted({p.name for p in run.glob("deliveries/*/*")})
    files = sum(1 for p in run.glob("deliveries/**/*") if p.is_file())
    print(f"{len(days)} delivery days, {files:,} delivered files; load average {os.getloadavg()}")
    print(
        f"{'day':<12}{'teams':>6}{'records':>9}{'media':>7}{'wall s':>8}{'cpu s':>7}{'peak MB':>9}"
    )
    worst: dict[str, float] = {}
    for day in days:
        m = _in_child(run, day)
        print(
            f"{day:<12}{m['teams']:>6.0f}{m['records']:>9,.0f}{m['media']:>7,.0f}"
            f"{m['wall_s']:>8.2f}{m['cpu_s']:>7.2f}{m['peak_mb']:>9.0f}"
        )
        if m["teams"] >= 13 and m["wall_s"] > worst.get("wall_s", 0):
            worst = m | {"day": day}  # type: ignore[dict-item]
    v = _in_child(run, "verify")
    print(
        f"\none day of all 13 teams, slowest ({worst.get('day')}): {worst.get('wall_s', 0):.2f} s "
        f"wall, {worst.get('cpu_s', 0):.2f} s CPU, peak {worst.get('peak_mb', 0):.0f} MB "
        "(target < 3 s)"
    )
    print(
        f"verify-ledger of the week: {v['wall_s']:.2f} s wall, {v['cpu_s']:.2f} s CPU, "
        f"peak {v['peak_mb']:.0f} MB; {v['entries']:.0f} entries, {v['records']:,.0f} records, "
        f"{v['files']:,.0f} files, {v['problems']:.0f} problems (target < 10 s)"
    )
    print(f"(peak memory is the whole process's; the imports alone take {v['import_mb']:.0f} MB)")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
