"""The ``parksim`` command: parse, load, dispatch. No model logic lives here."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from parksim.engines.contract import CHOICES, ENGINES
from parksim.errors import InputError, ParameterWarning, ScenarioError
from parksim.results import figure_helper

#: ``--engine``'s help, from the registry
ENGINE_HELP = "; ".join(f"{e.name}: {e.summary}" for e in ENGINES.values()) + "; auto (default): the first of these that can run it"

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
#: a run's checkpoint in its output folder
CHECKPOINT = "checkpoint.blocks"


def _add_scenario(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a scenario value (TOML syntax), repeatable; validated like the file",
    )


def _parser() -> argparse.ArgumentParser:
    from parksim import __version__

    ap = argparse.ArgumentParser(prog="parksim", description="Will the park meet its targets? A park simulation.")
    ap.add_argument("--version", action="version", version=f"parksim {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check a scenario file (and its CSV inputs); exit 0 if valid, 2 if not")
    _add_scenario(p)

    p = sub.add_parser("simulate", help="simulate one replication and print its yearly indicators")
    _add_scenario(p)
    p.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    p.add_argument("--replication", type=int, default=0, help="replication of the seed (default 0)")
    p.add_argument("--out", type=Path, help="also write the tidy table (year, indicator, value) to this CSV file")
    p.add_argument("--all", action="store_true", help="print every indicator, not only the headline ones")
    p.add_argument(
        "--engine",
        choices=["auto", "fast", "simpy"],
        default="auto",
        help="the engine to replay (default auto, as parksim run): replication R here is replication R of a run with that engine",
    )
    p.add_argument("--park", metavar="NAME", help="for a portfolio: the park to show (the portfolio is simulated whole)")

    p = sub.add_parser("run", help="Monte Carlo: probability of meeting each target, with 95%% intervals")
    _add_scenario(p)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--replications", "-n", type=int, help="number of replications (default 200)")
    g.add_argument("--precision", type=float, metavar="E", help="add replications until the 95%% half-width of P(all) <= E")
    p.add_argument("--max-replications", type=int, default=20_000, help="cap for --precision (default 20000)")
    p.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    p.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        help="worker threads (fast engine) or processes (SimPy engine); default: all cores; results do not depend on it",
    )
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="output directory (default: out/<scenario name>)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from DIR/checkpoint.blocks (same scenario and seed)")
    p.add_argument("--engine", choices=CHOICES, default="auto", help=ENGINE_HELP)
    p.add_argument("--posterior", type=Path, metavar="DIR", help=POSTERIOR_HELP)
    p.add_argument(
        "--given-observations",
        action="store_true",
        help="nowcast: keep only the replications consistent with the scenario's [[observations]] (e.g. P(2024 target | 2023 figures)); prints the effective sample size",
    )
    p.add_argument("--given-until", type=int, metavar="YEAR", help="with --given-observations: only the observations of years up to YEAR")
    p.add_argument("--cluster", metavar="ADDRESS", help=CLUSTER_HELP)

    p = sub.add_parser("compare", help="compare variants with a base scenario, with common random numbers")
    p.add_argument("base", help="base scenario TOML file")
    p.add_argument("variants", nargs="+", help="variant scenario files (e.g. scenarios/levers/*.toml)")
    p.add_argument("--replications", "-n", type=int, default=200, help="replications per scenario (default 200)")
    p.add_argument("--seed", type=int, default=1, help="seed shared by every scenario (default 1)")
    p.add_argument("--jobs", "-j", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="output directory (default: out/compare-<base>)")
    p.add_argument("--engine", choices=CHOICES, default="auto", help=ENGINE_HELP)
    p.add_argument(
        "--target",
        default="ALL",
        metavar="LABEL",
        help='outcome to rank the variants by (a target label, ALL, or "status NAME after YEAR"); default ALL',
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--posterior", type=Path, metavar="DIR", help=POSTERIOR_HELP)
    p.add_argument("--cluster", metavar="ADDRESS", help=CLUSTER_HELP)

    p = sub.add_parser("calibrate", help="calibrate the uncertain parameters to the scenario's [[observations]] (ABC-SMC)")
    _add_scenario(p)
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="output directory (default: out/<scenario>-calibration)")
    p.add_argument("--budget", type=int, default=20_000, metavar="N", help="most simulations (one replication each; default 20000)")
    p.add_argument("--population", type=int, default=500, metavar="N", help="particles per generation (default 500)")
    p.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    p.add_argument("--jobs", "-j", type=int, default=None, help="worker threads (default: all cores); results do not depend on it")
    p.add_argument(
        "--predictive",
        type=int,
        default=1000,
        metavar="R",
        help="replications of the fit check and of probabilities.csv's prior and calibrated runs (default 1000)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")

    p = sub.add_parser("backtest", help="rolling-origin backtest: forecast each observed year from the years before it, and score it")
    _add_scenario(p)
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="output directory (default: out/<scenario>-backtest)")
    p.add_argument("--replications", "-n", type=int, default=2000, help="replications of the run every origin conditions (default 2000)")
    p.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    p.add_argument("--jobs", "-j", type=int, default=None, help="worker threads (default: all cores); results do not depend on it")
    p.add_argument("--engine", choices=CHOICES, default="auto", help=ENGINE_HELP)
    p.add_argument(
        "--posterior", type=Path, metavar="DIR", help=POSTERIOR_HELP + " (scored on the observations it was calibrated to: in-sample)"
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    p = sub.add_parser("explore", help="stress-test: which assumptions drive P(targets), and under which the targets are met")
    _add_scenario(p)
    p.add_argument("--design", choices=["lhs", "sobol", "morris"], default="lhs", help="design of the varied inputs (default lhs)")
    p.add_argument(
        "--points",
        type=int,
        default=None,
        metavar="N",
        help="lhs: points (default 256); sobol: base points, a power of 2 (N x (2d+2) points; default 64); morris: trajectories (N x (d+1); default 20)",
    )
    p.add_argument("--replications", "-n", type=int, default=100, help="replications at every point, the same at each (default 100)")
    p.add_argument("--vary", action="append", default=[], metavar="KEY=LOW:HIGH", help="also vary this key over [LOW, HIGH] (repeatable)")
    p.add_argument(
        "--params",
        nargs="+",
        metavar="KEY",
        help="vary only these uncertain parameters (default: all); the others stay drawn per replication",
    )
    p.add_argument("--p", type=float, default=0.8, help="scenario discovery: the points where P(met) >= P (default 0.8)")
    p.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    p.add_argument("--jobs", "-j", type=int, default=None, help="worker threads (default: all cores); results do not depend on it")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="output directory (default: out/<scenario>-explore)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted exploration from DIR/checkpoint.blocks")
    p.add_argument("--cluster", metavar="ADDRESS", help="run on a Dask cluster (tcp://HOST:8786, or local:N)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    p = sub.add_parser(
        "threshold", help="what it would take: the smallest (or largest) value of a key at which P(target) >= p, with a 95%% interval"
    )
    _add_scenario(p)
    p.add_argument(
        "--vary",
        required=True,
        metavar="KEY=LOW:HIGH",
        help="the numeric key to search and its range, e.g. pipeline.signings_per_month=2:12",
    )
    p.add_argument(
        "--target",
        default="ALL",
        metavar="LABEL",
        help='the outcome (a target label, ALL, or "status NAME after YEAR"); default ALL',
    )
    p.add_argument("--p", type=float, default=0.8, help="the probability asked for (default 0.8)")
    p.add_argument("--replications", "-n", type=int, default=500, help="replications at every value, the same at each (default 500)")
    p.add_argument("--seed", type=int, default=1, help="seed shared by every value (common random numbers; default 1)")
    p.add_argument("--jobs", "-j", type=int, default=None, help="worker threads (default: all cores); results do not depend on it")
    p.add_argument("--engine", choices=CHOICES, default="fast", help="fast (default), simpy or auto")
    p.add_argument("--tolerance", type=float, default=None, help="width of the final cell holding the answer (default (HIGH-LOW)/100)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="output directory (default: out/<scenario>-threshold)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")

    p = sub.add_parser("report", help="write a self-contained HTML report into a run, compare, calibration or backtest directory")
    p.add_argument("directory", type=Path, help="the --out directory of parksim run, compare, calibrate or backtest")

    p = sub.add_parser("trace", help="write one replication's event log DIR/events.csv")
    _add_scenario(p)
    p.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    p.add_argument("--replication", type=int, default=0, help="replication of the seed (default 0)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")
    p.add_argument("--park", metavar="NAME", help="for a portfolio: the park whose events to write (the portfolio is simulated whole)")

    p = sub.add_parser("params", help="print every scenario parameter with unit, default and source (Markdown)")
    p.add_argument("--out", type=Path, help="write to this file instead of the terminal")

    sub.add_parser("indicators", help="list the yearly indicators with units")
    return ap


CLUSTER_HELP = (
    "run on a Dask cluster: its scheduler's address (tcp://HOST:8786, from `dask scheduler`), or local:N for N worker processes"
    " on this machine; results equal a local run's (needs pip install 'parksim[cluster]')"
)
POSTERIOR_HELP = "draw the uncertain parameters from a calibrated posterior (the --out folder of parksim calibrate) instead of their priors"

HEADLINE = [
    "total_output",
    "output_growth",
    "value_added",
    "firms",
    "hnte_valid",
    "new_hnte",
    "tech_based_share",
    "institutions",
    "hightech_service_share",
    "rd_intensity",
    "rd_gdp_intensity",
    "industrial_workers",
    "output_per_km2",
    "above_size_firms",
    "new_above_size",
    "projects_signed",
    "projects_producing",
    "factory_utilisation",
]


def _warn(scn) -> None:
    """Print the scenario's values outside their plausible range (accepted, but most often a unit slip)."""
    for problem in scn.warnings:
        print(f"parksim: warning: {problem}", file=sys.stderr)


def _one_replication(scn) -> None:
    """simulate and trace replay one SimPy replication: refuse one that cannot fit in memory, announce a long one."""
    from parksim.experiments.estimate import check_memory, estimate

    est = estimate(scn, 1, "simpy", 1)
    check_memory(est)
    if est.seconds > 60:
        print(f"note: estimated {est.describe()}", file=sys.stderr, flush=True)


def _cmd_validate(args) -> int:
    from parksim.engines.simpy import ParkModel
    from parksim.experiments.estimate import SECONDS_PER_FIRM, VALIDATE_MAX_SECONDS, check_memory, estimate
    from parksim.experiments.montecarlo import resolve_engine
    from parksim.model.random import Streams
    from parksim.scenario.assumptions import active_levers, uncertain_parameters
    from parksim.scenario.loader import load_scenario

    scn = load_scenario(args.scenario, args.overrides)
    _warn(scn)
    members = scn._members or [(scn.name, scn)]
    engine = resolve_engine(scn, "auto", quiet=True)
    est = estimate(scn, 200, engine, os.cpu_count() or 1)
    check_memory(estimate(scn, 1, "simpy", 1))  # one replication must fit, or nothing can run
    start = None
    build_s = est.start_firms * SECONDS_PER_FIRM["simpy"]
    if build_s <= VALIDATE_MAX_SECONDS:
        for _, member in members:  # builds each starting state: catches inconsistencies a run would meet
            start = ParkModel(member, Streams(0, 0))
    n_reg = 0 if scn._register is None else len(scn._register)
    n_proj = 0 if scn._projects is None else len(scn._projects)
    unc = uncertain_parameters(scn)
    print(f"{args.scenario}: valid — {scn.name}")
    print(f"  {scn.simulation.years} years from {scn.simulation.start_year}; sectors: {', '.join(scn.sectors)}")
    print(f"  register rows: {n_reg}; known projects: {n_proj}; uncertain parameters: {len(unc)}")
    if scn.warnings:
        print(f"  {len(scn.warnings)} value(s) outside their plausible range (see the warnings above)")
    if start is not None:
        print(f"  starting state (replication 0): {start.firms.n * start.w} firms; {len(scn.targets)} targets")
    else:
        print(
            f"  starting state not built: {est.start_firms:,} simulated starting firms would take about {build_s:.0f} s"
            f" (raise simulation.weight to simulate fewer); {len(scn.targets)} targets"
        )
    print(f"  a run of 200 replications: {est.describe()}")
    if scn.portfolio is not None:
        print(f"  portfolio of {len(members)} parks: {', '.join(name for name, _ in members)}")
        counts = [f"{name} {len(m.targets)}" for name, m in members]
        print(f"  targets per park (a target with a `parks` list holds only those parks): {', '.join(counts)}")
        if scn.portfolio.targets:
            print(f"  targets of the parks together (portfolio) {len(scn.portfolio.targets)}")
    from parksim.scenario.loader import targets_replaced

    for note in targets_replaced(args.scenario):
        print(f"  note: {note}")
    for r in unc.itertuples(index=False):
        rng = "" if r.p5 != r.p5 else f"; 90% between {r.p5:.4g} and {r.p95:.4g}"
        print(f"    {r.key} = {r.distribution}{rng} {r.unit}".rstrip())
    on = active_levers(scn)
    print(f"  policy levers on: {', '.join(on) if on else 'none'} (parameters of levers that are off are not listed: they have no effect)")
    return EXIT_OK


def _cmd_simulate(args) -> int:
    import pandas as pd

    from parksim.engines.replay import format_value, replay
    from parksim.results.output import atomic_write_text, csv_text
    from parksim.rules.indicators import INDICATORS
    from parksim.scenario.loader import load_scenario

    if args.out is not None:
        if args.out.is_dir():
            raise InputError(f"--out {args.out}: is a directory; expected the path of a CSV file to write")
        _out_dir(args.out.parent)
    scn = load_scenario(args.scenario, args.overrides)
    _warn(scn)
    _one_replication(scn)
    rp = replay(scn, seed=args.seed, replication=args.replication, engine=args.engine, park=args.park)
    df = rp.indicators
    wide = df.pivot(index="indicator", columns="year", values="value")
    names = list(INDICATORS) if args.all else HEADLINE
    wide = wide.loc[[n for n in names if n in wide.index]]
    shown = pd.DataFrame(
        {y: [format_value(v, INDICATORS[n][0]) for n, v in wide[y].items()] for y in wide.columns},
        index=[f"{n} [{INDICATORS[n][0]}]" for n in wide.index],
    )
    where = f"{rp.park} (a park of {scn.name})" if scn.portfolio is not None else scn.name
    print(f"{where} — replication {rp.replication} of seed {rp.seed}, {rp.engine} engine")
    print(
        f"  the same as replication {rp.replication} of `parksim run --seed {rp.seed} --engine {rp.engine}`;"
        " the engines agree in distribution, not draw by draw"
    )
    with pd.option_context("display.width", 160, "display.max_columns", 50):
        print(shown.to_string())
    if len(rp.targets):
        n_met = int(rp.targets.met.sum())
        print(f"targets met in this replication: {n_met} of {len(rp.targets)}")
        from parksim.results.gaps import display_width, pad

        width = max(display_width(t) for t in rp.targets.target)
        for r in rp.targets.itertuples(index=False):
            unit = r.unit
            mark = "met   " if r.met else "missed"
            need = f"{r.comparison} {r.threshold:,.10g} in {r.year}"
            print(f"  {mark} {pad(r.target, width)}  {format_value(r.value, unit)} {unit} (needs {need})")
    if len(rp.statuses):
        print("assessment status after each year's assessment: " + ", ".join(f"{y} {st}" for y, st in rp.statuses.itertuples(index=False)))
    if args.out:
        atomic_write_text(args.out, csv_text(df))
        print(f"wrote {args.out}")
    return EXIT_OK


def _prepare_outputs() -> None:
    """Load what writing a run's files needs (pandas, pyarrow's Parquet writer, and matplotlib with the Agg backend and
    the CJK font unless the figure helper draws the figures): on a thread of its own while the fast engine runs in
    compiled code on the others, instead of after it.

    It waits for the engine to start: until then this process is loading modules on one thread, and loading these
    at the same time would only delay that (the measured start of the engine came 0.1-0.4 s later).
    The command never shows a window, so the backend is Agg from the start (no search for a GUI backend). An
    optimisation only: on any failure the writing step imports these itself and reports what fails."""
    from parksim.engines.contract import ENGINE_STARTED

    ENGINE_STARTED.wait(timeout=60)
    try:
        import pandas  # noqa: F401 - the result's tables
        import pyarrow.parquet  # noqa: F401

        from parksim.results.report_files import _versions

        _versions()  # (the manifest's package versions: 0.04 s)

        if not figure_helper.started():  # (the figure helper, if running, draws the figures)
            import matplotlib

            matplotlib.use("Agg")
            from parksim.results.plots import _pyplot, warm_up

            _pyplot()
            warm_up()
    except Exception:  # noqa: BLE001 - an optimisation only
        pass


def _cmd_run(args) -> int:
    import threading

    from parksim.experiments.lock import output_lock
    from parksim.experiments.montecarlo import simulate
    from parksim.scenario.loader import load_scenario

    threading.Thread(target=_prepare_outputs, name="parksim-prepare-outputs", daemon=True).start()

    scn = load_scenario(args.scenario, args.overrides)
    _warn(scn)
    if args.posterior is not None:
        from parksim.experiments.montecarlo import with_posterior

        scn = with_posterior(scn, args.posterior)
        print(f"parameters drawn from the posterior in {args.posterior} (calibrated to {scn._given.meta.get('observations')} observations)")
    if args.replications is not None and args.replications < 1:
        raise InputError(f"--replications must be >= 1, got {args.replications}")
    if args.given_until is not None and not args.given_observations:
        raise InputError("--given-until needs --given-observations")
    if args.given_observations:
        if args.precision is not None:
            raise InputError("--precision with --given-observations: the stopping rule reads every replication, not the kept ones; give -n")
        from parksim.experiments.calibrate import Observed
        from parksim.experiments.nowcast import select

        observed = select(Observed.of(scn), args.given_until)  # no observations: said before the run
        if not len(observed):
            raise InputError(f"--given-until {args.given_until}: {args.scenario} has no observation of a year up to it")
    out = _out_dir(args.out or Path("out") / Path(args.scenario).stem)
    ckpt = out / CHECKPOINT
    with output_lock(out):  # one run at a time in a folder: a second one refuses, naming the holder
        if ckpt.exists() and not args.resume:
            print(f"note: {ckpt} holds an interrupted run; starting afresh (use --resume to continue it)")
        if args.resume and not ckpt.exists():  # said even under -q: the user asked for something that cannot be done
            print(f"note: --resume: no checkpoint at {ckpt}; starting afresh", file=sys.stderr)
        try:
            res = simulate(
                scn,
                replications=args.replications,
                precision=args.precision,
                max_replications=args.max_replications,
                seed=args.seed,
                jobs=args.jobs,
                quiet=args.quiet,
                checkpoint=ckpt,
                resume=args.resume,
                engine=args.engine,
                cluster=args.cluster,
            )
        except KeyboardInterrupt:
            print(_interrupted(args, ckpt), file=sys.stderr)
            return 130
        if args.given_observations:
            res = _condition(res, args.given_until)
        written = res.write(out)
        ckpt.unlink(missing_ok=True)  # the run's files are complete
    print(f"{scn.name}: {res.replications} replications, seed {res.seed}")
    if args.precision is not None:
        hw = (res.targets.ci_high.iloc[-1] - res.targets.ci_low.iloc[-1]) / 2
        if res.stopped_by == "precision":
            print(f"stopped at 95% half-width {hw:.4f} <= {args.precision:g} for P(all targets met)")
        else:
            print(f"reached --max-replications {res.replications} with half-width {hw:.4f} > {args.precision:g} (not the precision asked)")
    _print_answer(res)
    print(f"wrote {out}/: {', '.join(p.name for p in written)}")
    return EXIT_OK


def _condition(res, until):
    """The run conditioned on its observations, its effective sample size said (and warned about when small)."""
    from parksim.experiments.nowcast import WARN_ESS, condition

    simulated = res.replications
    res = condition(res, until=until, warn=False)
    print(res.conditioning.describe())
    if res.conditioning.ess < WARN_ESS:
        print(
            f"warning: only {res.conditioning.ess} replications of {simulated:,} are consistent with the observations"
            f" (fewer than {WARN_ESS}): the probabilities have wide intervals; run more replications (-n)",
            file=sys.stderr,
        )
    return res


def _out_dir(path: Path, option: str = "--out") -> Path:
    """``path`` as an output directory: an error naming the option if it, or a folder above it, is a file."""
    for p in (path, *path.parents):
        if p.exists():
            if not p.is_dir():
                what = "is a file" if p == path else f"is inside {p}, which is a file"
                raise InputError(f"{option} {path}: {what}; expected a directory (created if missing)")
            break
    return path


def _interrupted(args, ckpt: Path) -> str:
    """What Ctrl-C leaves: the replications kept in the checkpoint, and the command that continues the run."""
    import shlex

    if not ckpt.exists():
        return "parksim: interrupted before the first batch of replications was complete; no checkpoint was kept"
    from parksim.experiments.checkpoint import saved_replications

    n = saved_replications(ckpt)
    cmd = ["parksim", "run", args.scenario, "--seed", str(args.seed), "--out", str(ckpt.parent), "--engine", args.engine]
    if args.replications is not None:
        cmd += ["-n", str(args.replications)]
    if args.precision is not None:
        cmd += ["--precision", f"{args.precision:g}", "--max-replications", str(args.max_replications)]
    for o in args.overrides:
        cmd += ["--set", o]
    if args.posterior is not None:
        cmd += ["--posterior", str(args.posterior)]
    if args.given_observations:
        cmd += ["--given-observations"] + (["--given-until", str(args.given_until)] if args.given_until is not None else [])
    if args.cluster is not None:
        cmd += ["--cluster", args.cluster]
    return f"parksim: interrupted; {n} replications are kept in {ckpt}. Continue the run with:\n  {shlex.join([*cmd, '--resume'])}"


def _print_answer(res) -> None:
    """The run's answer: every target's gap (the one holding the park back most first), P(all), the assessment."""
    from parksim.results.gaps import format_assessment, format_gaps

    gaps = res.gaps
    if len(gaps):
        print("targets, the one that holds the park back most first (gap at median: how much more the median needs):")
        print(format_gaps(gaps))
    else:
        print("the scenario has no [[targets]]")
    r = res.targets.iloc[-1]
    print(f"ALL (every target met together): P(met) {r.p_met:.3f}  95% CI [{r.ci_low:.3f}, {r.ci_high:.3f}]")
    text = format_assessment(res.assessment_result)
    if text:
        print(text)


def _cmd_calibrate(args) -> int:
    import json

    from parksim.experiments.calibrate import calibrate
    from parksim.results.calibration_files import write_calibration
    from parksim.scenario.loader import load_scenario

    scn = load_scenario(args.scenario, args.overrides)
    _warn(scn)
    if args.predictive < 1:
        raise InputError(f"--predictive must be >= 1, got {args.predictive}")
    out = _out_dir(args.out or Path("out") / f"{Path(args.scenario).stem}-calibration")
    cal = calibrate(scn, budget=args.budget, population=args.population, seed=args.seed, jobs=args.jobs, quiet=args.quiet)
    written = write_calibration(cal, out, args.predictive, args.jobs)
    from parksim.results.calibration_files import calibration_table

    table = calibration_table(cal)
    print(
        f"{scn.name}: calibrated to {len(cal.observed)} observations with {cal.simulations:,} simulations"
        f" ({len(cal.generations) - 1} generations, stopped by {cal.stopped_by}); final ESS {cal.ess:,.0f}"
    )
    informed = table[table.width_ratio < 0.75].sort_values("width_ratio")
    if len(informed):
        print("parameters the observations inform (posterior 90% interval narrower than 3/4 of the prior's):")
        for r in informed.itertuples():
            print(
                f"  {r.parameter}: {r.post_p05:.4g} to {r.post_p95:.4g} (prior {r.prior_p05:.4g} to {r.prior_p95:.4g}; width x{r.width_ratio:.2f})"
            )
    else:
        print("no parameter's 90% interval narrowed below 3/4 of the prior's: the observations inform none strongly")
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    if "prior_p_all" in man:
        (plo, phi), (clo, chi) = man["prior_p_all_ci"], man["calibrated_p_all_ci"]
        print(
            f"P(all targets met): prior {man['prior_p_all']:.2f} [{plo:.2f}, {phi:.2f}] -> calibrated"
            f" {man['calibrated_p_all']:.2f} [{clo:.2f}, {chi:.2f}] ({args.predictive:,} replications each)"
        )
    print(f"wrote {out}/: {', '.join(p.name for p in written)}")
    print(f"use it: parksim run {args.scenario} --posterior {out}")
    return EXIT_OK


def _cmd_backtest(args) -> int:
    from parksim.experiments.backtest import backtest
    from parksim.experiments.calibrate import Observed
    from parksim.experiments.nowcast import RELATIVE_ERROR
    from parksim.results.backtest_files import write_backtest
    from parksim.scenario.loader import load_scenario

    scn = load_scenario(args.scenario, args.overrides)
    _warn(scn)
    if args.replications < 1:
        raise InputError(f"--replications must be >= 1, got {args.replications}")
    Observed.of(scn)  # no observations: said before the run
    out = _out_dir(args.out or Path("out") / f"{Path(args.scenario).stem}-backtest")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        bt = backtest(
            scn,
            replications=args.replications,
            seed=args.seed,
            jobs=args.jobs,
            posterior=args.posterior,
            quiet=args.quiet,
            engine=args.engine,
        )
    for w in caught:
        if not issubclass(w.category, ParameterWarning):
            print(f"note: {w.message}", file=sys.stderr)
    written = write_backtest(bt, out, RELATIVE_ERROR)
    cov = bt.coverage()
    origins = sorted({int(o) for o in bt.table.origin.dropna()})
    print(
        f"{scn.name}: {bt.forecasts} forecasts of {len(bt.table)} observations from {bt.replications:,} replications"
        f" (origins: prior{''.join(f', given to {o}' for o in origins)})"
    )
    for r in cov.itertuples():
        print(f"  inside the {r.interval} interval: {r.covered} of {r.forecasts} ({r.share:.2f}; nominal {r.nominal:.2f})")
    if bt.forecasts:
        out90 = bt.table[bt.table.covered90.eq(False)]
        missed = ", ".join(f"{r.indicator} {r.year} = {r.observed:g} (90%: {r.p05:.4g} to {r.p95:.4g})" for r in out90.itertuples())
        print(f"  mean PIT {bt.table.pit.mean():.2f} (0.5 when unbiased); outside the 90% interval: {missed or 'none'}")
    print(f"wrote {out}/: {', '.join(p.name for p in written)}")
    return EXIT_OK


def _cmd_explore(args) -> int:
    import time

    from parksim.experiments.explore import explore
    from parksim.experiments.lock import output_lock
    from parksim.results.explore_files import write_exploration

    points = args.points if args.points is not None else {"lhs": 256, "sobol": 64, "morris": 20}[args.design]
    if not 0 < args.p < 1:
        raise InputError(f"--p {args.p:g}: a probability between 0 and 1 expected")
    out = _out_dir(args.out or Path("out") / f"{Path(args.scenario).stem}-explore")
    ckpt = out / CHECKPOINT
    t0 = time.perf_counter()
    with output_lock(out):
        try:
            ex = explore(
                args.scenario,
                design_kind=args.design,
                points=points,
                replications=args.replications,
                vary=args.vary,
                params=args.params,
                overrides=args.overrides,
                seed=args.seed,
                jobs=args.jobs,
                quiet=args.quiet,
                checkpoint=ckpt,
                resume=args.resume,
                cluster=args.cluster,
            )
        except KeyboardInterrupt:
            print(
                f"parksim: interrupted; the finished replications are kept in {ckpt}: run the same command with --resume", file=sys.stderr
            )
            return 130
        seconds = time.perf_counter() - t0
        written, sentences = write_exploration(ex, out, args.p, seconds, args.cluster)
        ckpt.unlink(missing_ok=True)
    n = ex.points * ex.replications
    print(
        f"{ex.scenario.name}: {ex.kind} design of {len(ex.inputs)} inputs, {ex.points:,} points x {ex.replications} replications"
        f" (common random numbers) in {seconds:.1f} s ({ex.points / seconds:,.1f} points/s, {n / seconds:,.0f} replications/s)"
    )
    sens = ex.sensitivity()
    main_index = {"sobol": "ST", "morris": "mu_star", "lhs": "S1"}[ex.kind]
    top = sens[(sens.output == "P(ALL)") & (sens["index"] == main_index)].sort_values("value", ascending=False).head(5)
    if len(top) and top.value.notna().any():
        print(f"what drives P(ALL) most ({main_index}, 95% interval):")
        for r in top.itertuples():
            print(f"  {r.parameter}: {r.value:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]")
    var = ex.variance()
    for r in var.itertuples():
        if r.target == "ALL" and r.share_inputs == r.share_inputs:
            print(
                f"P(ALL) {r.p_mean:.3f} on average; {r.share_inputs:.0%} of its variance comes from the varied inputs, {r.share_replications:.0%} from replication noise"
            )
    for s in sentences:
        print(f"  {s}")
    print(f"wrote {out}/: {', '.join(p.name for p in written)}")
    return EXIT_OK


def _parse_vary(text: str) -> tuple[str, float, float]:
    """``KEY=LOW:HIGH`` as (key, low, high); whole numbers stay integers (for an integer key)."""
    example = "expected KEY=LOW:HIGH, e.g. pipeline.signings_per_month=2:12"
    key, sep, rng = text.partition("=")
    lo_t, sep2, hi_t = rng.partition(":")
    if not sep or not sep2 or not key.strip() or not lo_t.strip() or not hi_t.strip():
        raise InputError(f"--vary {text!r}: {example}")
    ends = []
    for name, t in (("LOW", lo_t.strip()), ("HIGH", hi_t.strip())):
        try:
            ends.append(int(t) if t.lstrip("+-").isdigit() else float(t))
        except ValueError:
            raise InputError(f"--vary {text!r}: {name} {t!r} is not a number; {example}") from None
    return key.strip(), ends[0], ends[1]


def _cmd_threshold(args) -> int:
    from parksim.experiments.threshold import threshold
    from parksim.results.threshold_files import write_threshold
    from parksim.scenario.loader import load_scenario

    key, low, high = _parse_vary(args.vary)
    scn = load_scenario(args.scenario, args.overrides)
    _warn(scn)
    out = _out_dir(args.out or Path("out") / f"{Path(args.scenario).stem}-threshold")
    progress = None if args.quiet else (lambda line: print(f"  {line}", file=sys.stderr, flush=True))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ParameterWarning)
        th = threshold(
            args.scenario,
            key,
            low,
            high,
            target=args.target,
            p=args.p,
            replications=args.replications,
            seed=args.seed,
            jobs=args.jobs,
            engine=args.engine,
            tolerance=args.tolerance,
            overrides=args.overrides,
            progress=progress,
        )
    for w in caught:  # the values of the key outside its plausible range (e.g. LOW or HIGH), once each
        if issubclass(w.category, ParameterWarning):
            print(f"parksim: warning: {w.message}", file=sys.stderr)
    written = write_threshold(th, out)
    print(
        f"{scn.name}: P({th.target}) against {key} over [{th.fmt(th.low)}, {th.fmt(th.high)}], {th.evaluations} evaluations"
        f" of {th.replications} replications, seed {th.seed} (common random numbers; engine {th.engine});"
        f" P {'rises' if th.direction == 'increasing' else 'falls'} as {key} grows"
    )
    for note in th.notes:
        print(f"note: {note}")
    print(th.sentence())
    print(f"wrote {out}/: {', '.join(p.name for p in written)}")
    return EXIT_OK


def _cmd_compare(args) -> int:
    import numpy as np

    from parksim.experiments.compare import compare, rank_order
    from parksim.experiments.lock import output_lock
    from parksim.scenario.loader import load_scenario

    if args.replications < 1:
        raise InputError(f"--replications must be >= 1, got {args.replications}")
    base = load_scenario(args.base)
    variants = [load_scenario(v) for v in args.variants]
    for s in (base, *variants):
        _warn(s)
    out = _out_dir(args.out or Path("out") / f"compare-{Path(args.base).stem}")
    with output_lock(out):
        cmp = compare(
            base,
            variants,
            replications=args.replications,
            seed=args.seed,
            jobs=args.jobs,
            quiet=args.quiet,
            engine=args.engine,
            posterior=args.posterior,
            cluster=args.cluster,
        )
        table = cmp.table
        if args.target not in set(table.target):
            raise InputError(f"--target {args.target!r} is not an outcome of this comparison; expected one of {sorted(set(table.target))}")
        written = cmp.write(out, args.target)
    t = table[table.target == args.target]
    n_var = len(variants)
    print(
        f"{base.name}: {n_var} variant{'s' if n_var != 1 else ''} vs {cmp.names[0]}, {args.replications} replications each,"
        f" seed {args.seed} (common random numbers; engine: {', '.join(sorted(set(cmp.engines.values())))})"
    )
    print(f"ranked by percentage points of P({args.target}) gained per 100 million yuan:")
    width = max(len(n) for n in cmp.names)
    print(f"{'scenario':{width}s}  {'P':>6s}  {'change [95% CI], pp':>24s}  {'cost, yuan':>14s}  {'pp/100m':>8s}")
    order = rank_order(t)
    for r in order.itertuples(index=False):
        change = (
            "(base)"
            if r.scenario == cmp.names[0]
            else f"{100 * r.diff_vs_base:+.1f} [{100 * r.diff_ci_low:+.1f}, {100 * r.diff_ci_high:+.1f}]"
        )
        per = "" if np.isnan(r.pp_per_100m_yuan) else f"{r.pp_per_100m_yuan:8.1f}"
        print(f"{r.scenario:{width}s}  {r.p_met:6.3f}  {change:>24s}  {r.cost_yuan:14,.0f}  {per:>8s}")
    hint = _pick_target_hint(table, t, args.target, cmp.names[0])
    if hint:
        print(hint)
    from parksim.results.levels import format_level_changes

    only = None if args.target == "ALL" or args.target.startswith("status ") else args.target
    print("effect on the targeted indicators' levels (paired change vs the base, mean [95% CI]; cost per unit gained):")
    for name in [n for n in order.scenario if n != cmp.names[0]]:
        rows = table[(table.scenario == name) & (table.target != args.target)]
        lines = format_level_changes(cmp.levels, name, only_target=only)
        if len(rows) and rows.diff_vs_base.abs().max() > 0:
            top = rows.loc[rows.diff_vs_base.abs().idxmax()]
            lines.append(
                f"largest other change {100 * top.diff_vs_base:+.1f} pp [{100 * top.diff_ci_low:+.1f}, {100 * top.diff_ci_high:+.1f}]"
                f" in P({top.target})"
            )
        print(f"  {name}:" + ("" if lines else " no clear change"))
        for line in lines:
            print(f"    {line}")
    print(f"wrote {out}/: {', '.join(p.name for p in written if p.parent == out)}")
    return EXIT_OK


def _pick_target_hint(table, t, target: str, base: str) -> str:
    """When the ranked outcome does not move (e.g. P(ALL) = 0 in every scenario), say so and name outcomes that do."""
    if len(t) < 2 or (t.diff_vs_base != 0).any():
        return ""
    others = table[(table.scenario != base) & (table.target != target) & (table.target != "ALL") & ~table.target.str.startswith("status ")]
    moved = others.assign(a=others.diff_vs_base.abs()).groupby("target", sort=False).a.max().sort_values(ascending=False)
    moved = moved[moved > 0]
    suggest = ", ".join(repr(x) for x in moved.index[:3])
    how = "rank by one target with --target LABEL" if target == "ALL" else "rank by another outcome with --target"
    return (
        f"note: P({target}) = {t.p_met.iloc[0]:.3f} in every scenario, so this ranking says nothing; {how}"
        + (f", e.g. {suggest} (the targets the levers move most)" if suggest else "")
        + ", and read the changes in the indicators' levels below"
    )


def _cmd_report(args) -> int:
    from parksim.results.report_html import build_report

    path = build_report(args.directory)
    print(f"wrote {path} (self-contained: open it in any browser, no network needed)")
    return EXIT_OK


def _cmd_trace(args) -> int:
    from parksim.api import trace
    from parksim.results.output import atomic_write_text, csv_text
    from parksim.scenario.loader import load_scenario

    scn = load_scenario(args.scenario, args.overrides)
    _warn(scn)
    _one_replication(scn)
    _out_dir(args.out)
    ev = trace(scn, seed=args.seed, replication=args.replication, park=args.park)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "events.csv"
    atomic_write_text(path, csv_text(ev))
    counts = ev.event.value_counts()
    park = f" ({args.park})" if args.park else ""
    print(f"wrote {path}: {len(ev)} events of replication {args.replication}, seed {args.seed}{park}, SimPy engine")
    for name, n in counts.items():
        print(f"  {name:20s} {n}")
    return EXIT_OK


def _cmd_params(args) -> int:
    from parksim.results.output import atomic_write_text
    from parksim.scenario.docs import parameters_markdown

    text = parameters_markdown()
    if args.out:
        atomic_write_text(args.out, text)
    else:
        print(text)
    return EXIT_OK


def _cmd_indicators(args) -> int:
    from parksim.rules.indicators import INDICATORS

    for name, (unit, doc) in INDICATORS.items():
        print(f"{name:34s} {unit:10s} {doc}")
    return EXIT_OK


COMMANDS = {
    "validate": _cmd_validate,
    "simulate": _cmd_simulate,
    "run": _cmd_run,
    "compare": _cmd_compare,
    "report": _cmd_report,
    "trace": _cmd_trace,
    "calibrate": _cmd_calibrate,
    "backtest": _cmd_backtest,
    "explore": _cmd_explore,
    "threshold": _cmd_threshold,
    "params": _cmd_params,
    "indicators": _cmd_indicators,
}


def entry() -> None:
    """The ``parksim`` command (and ``python -m parksim``): :func:`main`, then exit at once with its status.

    By then every output file is written (atomically) and closed, the process pool is shut down and the
    compile helper has ended; what is left is the interpreter's teardown, which frees the compiled engine's
    objects one by one and collects them: measured 0.9 s after a first run, on a run of about 15 s.
    A compile helper that no run took (the command failed first) is ended here.
    """
    from parksim.engines.fast import compiling as _compiling

    code = main(compile_early=True)
    _compiling.stop(_compiling.take())
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (``| head``) or a closed stream: nothing more to write
            pass
    os._exit(code)


def main(argv: list[str] | None = None, compile_early: bool = False) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input).

    ``compile_early`` (the ``parksim`` command): for a run or comparison that may use the fast engine, start
    its compile helper process before loading anything (:func:`parksim.engines.fast.compiling.start_early`), unless
    the engine's compiled code is cached; for a run, start the figure helper process
    (:mod:`parksim.results.figure_helper`), which loads matplotlib meanwhile and draws the run's figures.
    """
    args = _parser().parse_args(argv)
    if (
        compile_early
        and args.command in ("run", "compare", "calibrate", "explore", "threshold", "backtest")
        and getattr(args, "engine", "fast") != "simpy"
    ):
        from parksim.engines.fast import compiling as _compiling

        _compiling.start_early(args.jobs)
    if compile_early and args.command == "run":
        figure_helper.start_early()
    try:
        with warnings.catch_warnings():  # the commands print the scenario's warnings themselves, once
            warnings.simplefilter("ignore", ParameterWarning)
            return COMMANDS[args.command](args)
    except ScenarioError as err:
        print(f"parksim: error: invalid scenario input\n{err}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. `parksim run ... | head`: stop quietly (before OSError, its base class)
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except (InputError, OSError) as err:
        print(f"parksim: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("parksim: interrupted", file=sys.stderr)
        return 130
    finally:
        figure_helper.stop(figure_helper.take())  # one the command started and no run took (it failed first)
