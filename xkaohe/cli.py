"""The ``xkaohe`` command (DESIGN.md, "Command line contract").

Exit status: 0 success; 2 bad input or usage (one clear message, no
traceback); 1 an internal error (a bug: the traceback is printed).
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from xkaohe import __version__
from xkaohe.errors import XkaoheError

if TYPE_CHECKING:
    from xkaohe.run.batch import JobResult, JobRunner

Handler = Callable[[argparse.Namespace], int]
COLUMNS_HELP = "header map: office headers -> canonical columns per table (params/columns.yaml)"
REJECTS_SHOWN = 10  # rejected rows quoted on the terminal; the rest are in rejects.csv


@contextlib.contextmanager
def _writing(args: argparse.Namespace, out: Path) -> Iterator[None]:
    """Hold the write lock of the run ``out`` belongs to (one writer per run folder)."""
    from xkaohe.io.lock import lock_folder, run_lock

    with run_lock(lock_folder(out), getattr(args, "command_line", f"xkaohe {args.command}")):
        yield


def _print_rejects(rejects: pl.DataFrame, where: Path) -> None:
    """How many field rows were rejected, per table, and where the list is (stderr)."""
    if rejects.height == 0:
        return
    per_table = rejects.group_by("table").len().sort("table")
    counts = ", ".join(f"{t} {n:,}" for t, n in per_table.iter_rows())
    print(
        f"rejected field rows: {rejects.height:,} ({counts}); every one is listed in {where}",
        file=sys.stderr,
    )
    for r in rejects.head(REJECTS_SHOWN).iter_rows(named=True):
        print(
            f"  {r['file']}, row {r['row']}, column '{r['column']}': expected "
            f"{r['expected']}; found {str(r['found'])[:80]}",
            file=sys.stderr,
        )
    if rejects.height > REJECTS_SHOWN:
        print(f"  ... and {rejects.height - REJECTS_SHOWN:,} more", file=sys.stderr)


def _print_note(text: str) -> None:
    """A note from reading the user's tables (io.notes): one line on stderr, as check-inputs
    words it; the exit status does not change."""
    print(f"note: {text}", file=sys.stderr)


def _quiet(text: str) -> None:
    """A listener that drops the note (check-inputs prints the notes in its own report)."""


def _cmd_synth(args: argparse.Namespace) -> int:
    from xkaohe.run.commands import run_synth

    with _writing(args, Path(args.out)):
        written = run_synth(Path(args.out), args.scale, args.seed)
    print(f"synthetic {args.scale} province (seed {args.seed!r}) written to {args.out}:")
    for name, rows in written.items():
        print(f"  {name}: {rows:,} rows")
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from xkaohe.run.sample import run_sample

    with _writing(args, Path(args.out)):
        package = run_sample(
            Path(args.frame),
            Path(args.plan),
            args.seed,
            Path(args.out),
            args.county or None,
            field_lists=not args.no_field_lists,
            columns=_columns(args),
        )
    n_counties = package.villages["county_code"].n_unique()
    print(
        f"sample drawn for {n_counties} counties: {package.villages.height} villages, "
        f"{package.households.height} households, {package.projects.height} projects "
        f"-> {args.out}"
    )
    return 0


def _cmd_verify_sample(args: argparse.Namespace) -> int:
    from xkaohe.run.sample import verify_sample

    for line in verify_sample(Path(args.directory)):
        print(line)
    return 0


def _cmd_lottery(args: argparse.Namespace) -> int:
    from xkaohe.run.commands import run_lottery

    with _writing(args, Path(args.out)):
        lottery = run_lottery(
            Path(args.roster), Path(args.plan), args.seed, Path(args.out), _columns(args)
        )
    print(f"{lottery.teams.height} teams drawn -> {args.out}")
    return 0


def _cmd_verify_lottery(args: argparse.Namespace) -> int:
    from xkaohe.run.commands import verify_lottery

    verify_lottery(Path(args.directory))
    print(f"lottery in {args.directory} re-derived and identical")
    return 0


def _cmd_indicators(args: argparse.Namespace) -> int:
    import datetime as dt

    from xkaohe.run.commands import run_indicators

    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
    with _writing(args, Path(args.out)):
        results = run_indicators(
            Path(args.frame),
            Path(args.sample),
            Path(args.field),
            Path(args.plan),
            Path(args.out),
            as_of,
            _columns(args),
        )
    ind = results["county_indicators"]
    counts = {
        s: ind.filter(pl.col("wrong_exit_rate_status") == s).height
        for s in ("fail", "not_found", "pass")
    }
    print(
        f"{ind.height} counties; wrong-exit status: {counts['fail']} fail, "
        f"{counts['not_found']} no breach found, {counts['pass']} pass; "
        f"{results['findings'].height} findings -> {args.out}"
    )
    _print_rejects(results["rejects"], Path(args.out) / "rejects.csv")
    return 0


def _columns(args: argparse.Namespace) -> Path | None:
    """The ``--columns`` header map file, if given."""
    return Path(args.columns) if getattr(args, "columns", None) else None


def _cmd_check_inputs(args: argparse.Namespace) -> int:
    from xkaohe.run.check_inputs import check_inputs

    report = check_inputs(Path(args.directory), _columns(args))
    for line in report.lines:
        print(line)
    return 2 if report.blocking else 0


def _report_summary(results: list[JobResult], run: Path) -> int:
    """What the run did: reports rendered, skipped and failed, rejected field rows; exit status."""
    from xkaohe.io.results import read_rejects

    index = run / "reports" / "index.html"
    failed = [r for r in results if not r.ok]
    skipped = sum(r.skipped for r in results)
    ran = len(results) - skipped - len(failed)
    if results:
        print(
            f"reports: {ran} rendered, {skipped} unchanged (skipped), {len(failed)} failed; "
            f"open {index}"
        )
    for r in failed:
        print(f"  FAILED {r.job.notebook} {r.job.parameters}: {r.error}", file=sys.stderr)
    rejects = read_rejects(run)
    if rejects is not None:
        _print_rejects(rejects, run / "results" / "rejects.csv")
    return 1 if failed else 0


def _cmd_run(args: argparse.Namespace) -> int:
    from xkaohe.run.stages import STAGES, load_run_params, run_stages

    params = load_run_params(Path(args.params))
    if args.workers:
        params = params.model_copy(update={"workers": args.workers})
    if args.executor or args.scheduler:
        given = {"executor": args.executor, "scheduler": args.scheduler}
        params = params.model_copy(update={k: v for k, v in given.items() if v})
    stages = tuple(args.stage) if args.stage else STAGES
    runner = _dask_runner(params.executor, params.scheduler)
    with _writing(args, params.run):
        results = run_stages(params, stages, args.only, explicit=bool(args.stage), runner=runner)
    return _report_summary(results, params.run)


def _dask_runner(executor: str, scheduler: str | None) -> JobRunner | None:
    """The Dask cluster's runner for ``executor: dask``; None (this machine) otherwise."""
    from xkaohe.errors import InputError, Problem

    if executor != "dask":
        return None
    if not scheduler:
        expected = "the Dask scheduler's address (tcp://host:8786) with --executor dask"
        raise InputError(Problem("--scheduler", None, None, expected, "none given"))
    try:
        from xkaohe.run.dask_executor import DaskRunner
    except ImportError as exc:  # the optional extra is not installed
        expected = "Dask installed: pip install 'xkaohe[dask]'"
        raise InputError(
            Problem("--executor dask", None, None, expected, f"no module {exc.name}")
        ) from None
    return DaskRunner(scheduler)


def _cmd_demo(args: argparse.Namespace) -> int:
    from xkaohe.run.stages import run_demo

    out = Path(args.out)
    with _writing(args, out):  # the cycle, then the demo's sign-off (run_demo does both)
        results = run_demo(out, args.scale, args.workers, args.seed)
    code = _report_summary(results, out)
    print(
        f"re-run one city after a correction: xkaohe run --params {out / 'run.yaml'} "
        "--stage reports index --only 阜阳市"
    )
    return code


def _passphrase(confirm: bool = False) -> bytes:
    """The key passphrase: from the environment (never the command line), else a prompt."""
    import getpass
    import os

    from xkaohe.errors import InputError
    from xkaohe.io.signatures import PASSPHRASE_ENV

    given = os.environ.get(PASSPHRASE_ENV)
    if given:
        return given.encode("utf-8")
    if not sys.stdin.isatty():
        raise InputError(f"{PASSPHRASE_ENV}: expected the key passphrase; found nothing set")
    first = getpass.getpass("passphrase: ")
    if confirm and getpass.getpass("again: ") != first:
        raise InputError("passphrase: expected the same text twice; found two different")
    return first.encode("utf-8")


def _cmd_keys(args: argparse.Namespace) -> int:
    from xkaohe.run.signoff import make_keys

    made = make_keys(
        args.name,
        Path(args.out),
        _passphrase(confirm=True),
        Path(args.run) if args.run else None,
        args.person_id,
    )
    print(
        f"key pair for {made['name']} ({made['person_id'] or 'no person id'}): {args.out} "
        f"(private, keep it), {made['public_file']} (public); fingerprint {made['fingerprint']}"
        + (f"; registered in {args.run}" if args.run else "")
    )
    return 0


def _cmd_sign(args: argparse.Namespace) -> int:
    from xkaohe.run.signoff import sign_report
    from xkaohe.run.stages import refresh_index

    run = Path(args.run)
    entry = sign_report(run, args.report, Path(args.key), _passphrase())
    payload = entry["payload"]
    refresh_index(run)
    print(
        f"{args.report} signed by {payload['signer']['name']} ({payload['role']}) at "
        f"{payload['signed_at']}: html {payload['html_sha256'][:12]}…, "
        f"results {payload['results_sha256'][:12]}…"
    )
    return 0


def _cmd_verify_signatures(args: argparse.Namespace) -> int:
    from xkaohe.run.signoff import verify_signatures

    for line in verify_signatures(Path(args.run)):
        print(line)
    return 0


def _cmd_release_feedback(args: argparse.Namespace) -> int:
    import datetime as dt

    from xkaohe.errors import InputError
    from xkaohe.run.signoff import release_feedback

    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else dt.date.today()
    written, refused = release_feedback(Path(args.run), args.by, as_of, args.city or ())
    for e in written:
        print(f"released {e['city']} ({len(e['files'])} files) by {e['released_by']}")
    if refused:
        raise InputError("refused to release:\n" + "\n".join(f"  {r}" for r in refused))
    if not written:
        print("nothing new to release")
    return 0


def _cmd_rectification_import(args: argparse.Namespace) -> int:
    from xkaohe.run.rectification import import_registers

    rows = import_registers(Path(args.run), [Path(f) for f in args.files])
    print(f"{len(args.files)} register(s) imported; {rows.height} rows in the store of {args.run}")
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from xkaohe.io.ledger import day_heads
    from xkaohe.run.commands import run_ingest

    run = Path(args.run)
    for r in run_ingest(run, [Path(p) for p in args.delivery]):
        if r.identical:
            print(f"{r.team_id} {r.field_date}: identical to entry {r.seq}; nothing changed")
            continue
        print(
            f"{r.team_id} {r.field_date}: entry {r.seq}, {r.records:,} records "
            f"({r.new:,} new, {r.corrected:,} corrected, {r.unchanged:,} unchanged, "
            f"{r.superseded:,} older than what the ledger has), {r.media:,} media files"
        )
        for c in r.changes.head(10).iter_rows(named=True):
            old, new = (("(empty)" if v is None else v) for v in (c["old"], c["new"]))
            what = " (review result)" if c["review_result"] else ""
            print(f"  {c['table']} {c['record_key']} {c['column']}: {old} -> {new}{what}")
        if r.changes.height > 10:
            print(f"  ... and {r.changes.height - 10:,} more changed cells")
        if r.rejects.height:
            print(
                f"  {r.rejects.height:,} rows cannot be used (recorded; see the field progress "
                "report)",
                file=sys.stderr,
            )
    for day, seq, head in day_heads(run):
        print(f"chain head {day}: entry {seq} {head}")
    return 0


def _cmd_verify_ledger(args: argparse.Namespace) -> int:
    from xkaohe.run.commands import run_verify_ledger

    result = run_verify_ledger(Path(args.run))
    print(
        f"field ledger of {args.run}: {result.entries:,} entries, {result.records:,} records, "
        f"{result.files:,} files; every hash and link checks out"
    )
    for day, seq, head in result.heads.iter_rows():
        print(f"chain head {day}: entry {seq} {head}")
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xkaohe",
        description="交叉考核 workbench: draw teams and samples, ingest returns, report.",
    )
    parser.add_argument("--version", action="version", version=f"xkaohe {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("synth", help="write a synthetic province (frame, roster)")
    p.add_argument("--out", required=True, help="directory to write into")
    p.add_argument("--scale", default="small", choices=["small", "province", "national"])
    p.add_argument("--seed", default="demo", help="seed text (default: demo)")
    p.set_defaults(handler=_cmd_synth)

    p = sub.add_parser("sample", help="draw the sample package (protocol prn-order-v1)")
    p.add_argument("--frame", required=True, help="frame directory (registry extract)")
    p.add_argument("--plan", required=True, help="plan file, e.g. params/plan-2019.yaml")
    p.add_argument("--seed", required=True, help="the published seed text")
    p.add_argument("--out", required=True, help="directory for the sample package")
    p.add_argument(
        "--county",
        nargs="+",
        action="extend",
        metavar="CODE",
        help="only these county codes (default: all)",
    )
    p.add_argument(
        "--no-field-lists", action="store_true", help="skip the per-county xlsx field lists"
    )
    p.add_argument("--columns", metavar="FILE", help=COLUMNS_HELP)
    p.set_defaults(handler=_cmd_sample)

    p = sub.add_parser("verify-sample", help="re-derive a sample; exit 0 iff identical")
    p.add_argument("directory", help="sample package directory")
    p.set_defaults(handler=_cmd_verify_sample)

    p = sub.add_parser("lottery", help="form the teams and draw team -> city")
    p.add_argument("--roster", required=True, help="roster directory (cities, assessors)")
    p.add_argument("--plan", required=True, help="plan file")
    p.add_argument("--seed", required=True, help="the published seed text")
    p.add_argument("--out", required=True, help="directory for the lottery results")
    p.add_argument("--columns", metavar="FILE", help=COLUMNS_HELP)
    p.set_defaults(handler=_cmd_lottery)

    p = sub.add_parser("verify-lottery", help="re-derive a lottery; exit 0 iff identical")
    p.add_argument("directory", help="lottery directory")
    p.set_defaults(handler=_cmd_verify_lottery)

    p = sub.add_parser("indicators", help="rates with intervals, cross-checks, findings")
    p.add_argument("--frame", required=True, help="frame directory")
    p.add_argument("--sample", required=True, help="sample package directory")
    p.add_argument("--field", required=True, help="field returns directory")
    p.add_argument("--plan", required=True, help="plan file")
    p.add_argument("--out", required=True, help="results directory")
    p.add_argument("--as-of", help="date the review status is judged on (default: report deadline)")
    p.add_argument("--columns", metavar="FILE", help=COLUMNS_HELP)
    p.set_defaults(handler=_cmd_indicators)

    p = sub.add_parser(
        "check-inputs", help="how a frame, roster or field folder reads; exit 2 if a run would stop"
    )
    p.add_argument("directory", help="a frame, roster or field-returns directory")
    p.add_argument("--columns", metavar="FILE", help=COLUMNS_HELP)
    p.set_defaults(handler=_cmd_check_inputs)

    p = sub.add_parser("run", help="the whole cycle of a run, by stages (papermill batch)")
    p.add_argument("--params", required=True, help="run parameter file (YAML)")
    p.add_argument(
        "--stage",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="sample, lottery, indicators, reports, feedback, index (default: all)",
    )
    p.add_argument("--workers", type=int, help="parallel notebooks (default: from the file)")
    p.add_argument(
        "--only",
        metavar="CODE_OR_CITY",
        help="reports of one county (code) or one city (name) only",
    )
    p.add_argument(
        "--executor",
        choices=["local", "dask"],
        help="where the reports run: this machine (local) or a Dask cluster (default: the file)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="the Dask scheduler, e.g. tcp://host:8786 (the run folder on a shared filesystem)",
    )
    p.set_defaults(handler=_cmd_run)

    p = sub.add_parser("demo", help="the whole cycle on a synthetic province")
    p.add_argument("--out", default="runs/demo", help="run folder (default: runs/demo)")
    p.add_argument("--scale", default="small", choices=["small", "province", "national"])
    p.add_argument("--seed", default="demo", help="seed text (default: demo)")
    p.add_argument("--workers", type=int, default=2, help="parallel notebooks (default: 2)")
    p.set_defaults(handler=_cmd_demo)

    p = sub.add_parser("ingest", help="record field deliveries in the run's field ledger")
    p.add_argument("--run", required=True, help="run folder (with its sample)")
    p.add_argument(
        "delivery", nargs="+", help="deliveries/<team_id>/<YYYY-MM-DD>/ folders or .zip files"
    )
    p.set_defaults(handler=_cmd_ingest)

    p = sub.add_parser("verify-ledger", help="recompute the field ledger's hashes and links")
    p.add_argument("--run", required=True, help="run folder")
    p.set_defaults(handler=_cmd_verify_ledger)
    p = sub.add_parser("keys", help="make a leader's or deputy's signing key pair")
    p.add_argument("--name", required=True, help="the holder's name (as in the lottery)")
    p.add_argument("--out", required=True, help="private key file to write (FILE.pub beside it)")
    p.add_argument("--run", help="register the public key in this run (looks the name up)")
    p.add_argument("--person-id", help="the holder's person id (when two share a name)")
    p.set_defaults(handler=_cmd_keys)

    p = sub.add_parser("sign", help="sign a team report (its HTML and results slice)")
    p.add_argument("--run", required=True, help="run folder")
    p.add_argument("--report", required=True, metavar="STEM", help="report stem, e.g. county_X")
    p.add_argument("--key", required=True, help="private key file (passphrase from env/prompt)")
    p.set_defaults(handler=_cmd_sign)

    p = sub.add_parser("verify-signatures", help="check every team report's signatures")
    p.add_argument("--run", required=True, help="run folder")
    p.set_defaults(handler=_cmd_verify_signatures)

    p = sub.add_parser("rectification", help="returned rectification registers (整改台账)")
    rect = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = rect.add_parser("import", help="check returned registers; store them only if all pass")
    q.add_argument("--run", required=True, help="run folder")
    q.add_argument("files", nargs="+", metavar="FILE", help="returned 整改台账.xlsx files")
    q.set_defaults(handler=_cmd_rectification_import)

    p = sub.add_parser("release-feedback", help="release signed cities' feedback packages")
    p.add_argument("--run", required=True, help="run folder")
    p.add_argument("--by", required=True, help="who releases (recorded)")
    p.add_argument("--city", nargs="+", action="extend", help="only these cities")
    p.add_argument("--as-of", help="today's date for the field-week rule (default: today)")
    p.set_defaults(handler=_cmd_release_feedback)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(words)
    args.command_line = shlex.join(["xkaohe", *words])  # shown to a second writer of the run
    handler: Handler = args.handler
    from xkaohe.io.notes import listening

    # check-inputs lists the notes of each file itself; every other command prints them
    say = _quiet if handler is _cmd_check_inputs else _print_note
    try:
        with listening(say):
            return handler(args)
    except XkaoheError as exc:
        print(f"xkaohe {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"xkaohe {args.command}: interrupted; what finished is kept "
            "(run the same command again to resume)",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
