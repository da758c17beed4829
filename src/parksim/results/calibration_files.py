"""A calibration's files (``parksim calibrate``), and reading a calibrated posterior back (``--posterior DIR``).

posterior.parquet   draw, weight, a column per uncertain parameter (its key path; ``park:path`` in a portfolio) in
                    its unit, and ``uniform:path``: the uniform it is the quantile of, which runs read
calibration.csv     parameter, unit, prior and posterior 5/50/95% quantiles, the posterior's width as a share of the
                    prior's, the effective sample size
fit.csv             each observation against the prior's and the posterior's simulations (5/50/95%)
probabilities.csv   every target's P(met) (and ALL) under the prior and under the calibrated posterior, with common
                    random numbers, and their difference
calibration.png     the same two tables as figures; manifest.json: the scenario, seed, budget, generations, ESS, the
                    prior and calibrated P(all targets met)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from parksim.errors import InputError
from parksim.experiments.calibrate import PREDICTIVE, Calibration, weighted_quantile

Q = (0.05, 0.5, 0.95)
UNIFORM = "uniform:"


def posterior_frame(cal: Calibration):
    import pandas as pd

    cols = {"draw": np.arange(len(cal.weights)), "weight": cal.weights}
    for j, p in enumerate(cal.parameters):
        cols |= p.value(cal.uniforms[:, j])
    for j, p in enumerate(cal.parameters):
        cols[UNIFORM + p.path] = cal.uniforms[:, j]
    return pd.DataFrame(cols)


def calibration_table(cal: Calibration):
    import pandas as pd

    from parksim.scenario.assumptions import uncertain_parameters

    table = uncertain_parameters(cal.scenario)
    units = dict(zip(table.key, table.unit, strict=True)) if len(table) else {}
    rows = []
    for j, p in enumerate(cal.parameters):
        prior = p.value(np.array(Q))
        post_u = weighted_quantile(cal.uniforms[:, j], cal.weights, Q)
        post = p.value(post_u)
        for name in prior:
            unit = str(units.get(p.path, ""))
            lo, mid, hi = prior[name]
            plo, pmid, phi = post[name]
            width = (phi - plo) / (hi - lo) if hi > lo else np.nan
            rows.append((name, unit, lo, mid, hi, plo, pmid, phi, width, cal.ess))
    return pd.DataFrame(
        rows,
        columns=["parameter", "unit", "prior_p05", "prior_p50", "prior_p95", "post_p05", "post_p50", "post_p95", "width_ratio", "ess"],
    )


def predictive(cal: Calibration, replications: int = PREDICTIVE, jobs: int | None = None):
    """The prior's and the posterior's runs of ``replications`` (the fast engine, the calibration's seed: common random
    numbers, so that they differ by the parameters alone): ``(prior RunResult, posterior RunResult)``. The posterior's
    is the predictive check of :func:`fit_table` (``cal.observed.simulated(post)``)."""
    from parksim.experiments.montecarlo import simulate

    runs = []
    for scn in (cal.scenario, cal.posterior_scenario()):
        runs.append(simulate(scn, replications=replications, seed=cal.seed, jobs=jobs, quiet=True, engine="fast"))
    return runs[0], runs[1]


PROBABILITY_COLUMNS = [
    "target",
    "indicator",
    "year",
    "comparison",
    "threshold",
    "unit",
    "prior_p_met",
    "prior_ci_low",
    "prior_ci_high",
    "calibrated_p_met",
    "calibrated_ci_low",
    "calibrated_ci_high",
    "difference",
    "replications",
]


def probability_table(prior, posterior):
    """Every target's P(met) (Wilson 95% interval) under the prior and under the calibrated posterior, one row per
    target of ``prior.targets`` and a last row ``ALL``; ``difference`` is calibrated minus prior."""
    a, b = prior.targets, posterior.targets
    if list(a.target) != list(b.target):  # the same scenario's targets: a mismatch is a bug, not an input
        raise AssertionError(f"the prior's and the posterior's targets differ: {list(a.target)} vs {list(b.target)}")
    out = a[["target", "indicator", "year", "comparison", "threshold", "unit"]].copy()
    for side, t in (("prior", a), ("calibrated", b)):
        for col in ("p_met", "ci_low", "ci_high"):
            out[f"{side}_{col}"] = t[col].to_numpy(dtype=float)
    out["difference"] = out["calibrated_p_met"] - out["prior_p_met"]
    out["replications"] = a["replications"].to_numpy()
    return out[PROBABILITY_COLUMNS]


def fit_table(cal: Calibration, post_sim: np.ndarray):
    import pandas as pd

    o = cal.observed
    rows = []
    with np.errstate(invalid="ignore"):
        for k in range(len(o)):
            prior = np.nanquantile(cal.prior_simulated[:, k], Q) if np.isfinite(cal.prior_simulated[:, k]).any() else [np.nan] * 3
            post = np.nanquantile(post_sim[:, k], Q) if np.isfinite(post_sim[:, k]).any() else [np.nan] * 3
            park = o.park[k] if o.park[k] is not None else cal.scenario.name
            rows.append((o.indicator[k], int(o.year[k]), park, o.value[k], o.sd[k] or np.nan, *post, *prior))
    return pd.DataFrame(
        rows,
        columns=["indicator", "year", "park", "observed", "sd", "sim_p05", "sim_p50", "sim_p95", "prior_p05", "prior_p50", "prior_p95"],
    )


def calibration_manifest(cal: Calibration, predictive_replications: int, probabilities=None) -> dict:
    from parksim.results.report_files import _versions
    from parksim.scenario.loader import scenario_hash

    scn = cal.scenario
    return {
        "kind": "calibration",
        "scenario_name": scn.name,
        "scenario_file": scn._source,
        "scenario_sha256": scenario_hash(scn),
        "seed": cal.seed,
        "method": "ABC-SMC with MCMC replenishment (parksim.experiments.calibrate)",
        "observations": len(cal.observed),
        "parameters": [p.path for p in cal.parameters],
        "population": len(cal.weights),
        "simulations": cal.simulations,
        "stopped_by": cal.stopped_by,
        "ess": cal.ess,
        "final_tolerance": cal.generations[-1].tolerance if cal.generations else None,
        "generations": [
            {"tolerance": g.tolerance, "proposed": g.proposed, "accepted": g.accepted, "distinct": g.ess, "seconds": round(g.seconds, 3)}
            for g in cal.generations
        ],
        "predictive_replications": predictive_replications,
        **_headline(probabilities),
        "seconds": round(cal.seconds, 2),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": _versions(),
    }


def _headline(probabilities) -> dict:
    """P(all targets met) under the prior and the calibrated posterior (the last row of :func:`probability_table`)."""
    if probabilities is None or not len(probabilities):
        return {}
    row = probabilities.iloc[-1]
    return {
        "probabilities": "probabilities.csv",
        "prior_p_all": float(row.prior_p_met),
        "prior_p_all_ci": [float(row.prior_ci_low), float(row.prior_ci_high)],
        "calibrated_p_all": float(row.calibrated_p_met),
        "calibrated_p_all_ci": [float(row.calibrated_ci_low), float(row.calibrated_ci_high)],
    }


def calibration_figure(cal: Calibration, fit):
    """Left: each parameter's posterior 90% interval within its prior's (as quantiles of the prior); right: each
    observation against the prior's and the posterior's simulations (÷ the observed value)."""
    from parksim.results.plots import _pyplot, _text

    plt = _pyplot()
    n_p, n_o = len(cal.parameters), len(fit)
    h = max(3.0, 0.22 * max(n_p, n_o) + 1.2)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, h))
    for j in range(n_p):
        lo, mid, hi = weighted_quantile(cal.uniforms[:, j], cal.weights, Q)
        a1.plot([0.05, 0.95], [j, j], color="0.75", lw=6, solid_capstyle="butt")
        a1.plot([lo, hi], [j, j], color="tab:blue", lw=2.5)
        a1.plot([mid], [j], "o", color="tab:blue", ms=4)
    a1.set_yticks(range(n_p))
    a1.set_yticklabels([p.path for p in cal.parameters], fontsize=7)
    a1.invert_yaxis()
    a1.set_xlim(0, 1)
    a1.set_xlabel("quantile of the prior (grey: prior 90%; blue: posterior 90% and median)", fontsize=8)
    a1.set_title("parameters", fontsize=10)
    for k, r in enumerate(fit.itertuples()):
        ref = r.observed if r.observed else 1.0
        a2.plot([r.prior_p05 / ref, r.prior_p95 / ref], [k, k], color="0.75", lw=6, solid_capstyle="butt")
        a2.plot([r.sim_p05 / ref, r.sim_p95 / ref], [k, k], color="tab:blue", lw=2.5)
        a2.plot([r.sim_p50 / ref], [k], "o", color="tab:blue", ms=4)
    a2.axvline(1.0, color="tab:red", lw=1.5)
    a2.set_yticks(range(n_o))
    a2.set_yticklabels(
        [_text(f"{r.indicator} {r.year}" + (f" ({r.park})" if r.park != cal.scenario.name else "")) for r in fit.itertuples()], fontsize=7
    )
    a2.invert_yaxis()
    a2.set_xlabel("simulated ÷ observed (red: observed; grey: prior 90%; blue: posterior 90% and median)", fontsize=8)
    a2.set_title("fit to the observations", fontsize=10)
    fig.suptitle(
        _text(f"{cal.scenario.name}: calibrated to {len(cal.observed)} observations ({cal.simulations:,} simulations, ESS {cal.ess:,.0f})"),
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def write_calibration(cal: Calibration, out, predictive_replications: int = PREDICTIVE, jobs: int | None = None) -> list[Path]:
    """Write the calibration's files into ``out`` (manifest last: its presence says the files are complete)."""
    from parksim.results.report_files import write_folder

    prior, post = predictive(cal, predictive_replications, jobs)
    fit = fit_table(cal, cal.observed.simulated(post))
    probabilities = probability_table(prior, post)
    files = {
        "posterior.parquet": posterior_frame(cal),
        "calibration.csv": calibration_table(cal),
        "fit.csv": fit,
        "probabilities.csv": probabilities,
        "calibration.png": calibration_figure(cal, fit),
    }
    return write_folder(out, files, calibration_manifest(cal, predictive_replications, probabilities))


def load_posterior(folder, scenario):
    """The posterior in ``folder`` (a ``parksim calibrate`` output) as given parameters of ``scenario``
    (:class:`parksim.model.random.GivenUniforms`): a clear error if it is missing, incomplete, or of parameters the
    scenario does not have."""
    import pandas as pd

    from parksim.experiments.calibrate import parameters
    from parksim.model.random import GivenUniforms, key_of

    folder = Path(folder)
    path, man = folder / "posterior.parquet", folder / "manifest.json"
    if not path.exists() or not man.exists():
        raise InputError(
            f"--posterior {folder}: no calibration there (expected posterior.parquet and manifest.json from `parksim calibrate`)"
        )
    try:
        manifest = json.loads(man.read_text(encoding="utf-8"))
        frame = pd.read_parquet(path)
    except Exception as err:  # noqa: BLE001 - a damaged file is a user error here
        raise InputError(f"--posterior {folder}: cannot read the calibration ({type(err).__name__}: {err})") from None
    if manifest.get("kind") != "calibration" or "weight" not in frame:
        raise InputError(f"--posterior {folder}: not a calibration's output (manifest kind {manifest.get('kind')!r})")
    paths = [c[len(UNIFORM) :] for c in frame.columns if c.startswith(UNIFORM)]
    have = {p.path for p in parameters(scenario)}
    missing = [p for p in paths if p not in have]
    if missing:
        raise InputError(
            f"--posterior {folder}: parameters {missing} are not uncertain parameters of {scenario._source};"
            " expected a calibration of this scenario (run `parksim calibrate` on it)"
        )
    table = frame[[UNIFORM + p for p in paths]].to_numpy(dtype=float)
    meta = {
        "folder": str(folder),
        "observations": manifest.get("observations"),
        "scenario_sha256": manifest.get("scenario_sha256"),
        "ess": manifest.get("ess"),
    }
    return GivenUniforms([key_of(p) for p in paths], table, frame["weight"].to_numpy(dtype=float), meta=meta)
