"""Hawkes speed: fit and standard errors at 1e4, 7e4 and 1e6 events, and the ratio to tick.

Events come from :func:`analysis.simulate.hawkes_times` (cluster representation) with mu =
(1, 0.5) per day, alpha = [[0.2, 0.4], [0.3, 0.1]] and beta = 0.5 (3 events a day in all),
over n / 3 days. For each size, in one run:

- ``fit+SE s``: :func:`analysis.hawkes.fit_hawkes` with the decay estimated (decay grid,
  profile maximisation, analytic Hessian, goodness of fit, tables) followed by
  :func:`analysis.hawkes.standard_errors` (delta method included): the default uncertainty;
- ``binned s``: the same with ``estimator="binned"`` (daily counts);
- ``per-kernel s``: the same with one decay per kernel (up to ``--per-kernel-max`` events);
- ``fixed s`` and ``tick s``: ours and tick's HawkesExpKern (likelihood, AGD) with the decay
  fixed at the truth, interleaved, medians of ``--repeat`` runs; their ratio and the largest
  relative difference between the two sets of estimates (tick's window ends at the last
  event, so ours does too).

Then the parametric bootstrap at ``--boot-events`` events: seconds per draw with 1 and with 2
worker processes (the draws are identical; the fork server already started), and the time
200 draws would take.
Targets (2-core machine): fit + uncertainty on 7e4 events in < 60 s; 1e6 events fit in < 60 s.

    python benchmarks/bench_hawkes.py [--sizes 10000 70000 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from analysis.hawkes import bootstrap, fit_hawkes, standard_errors
from analysis.simulate import hawkes_times

MU = (1.0, 0.5)
ALPHA = np.array([[0.2, 0.4], [0.3, 0.1]])
BETA = 0.5
RATE = 3.0  # stationary events per day: sum((I - alpha)^-1 mu)


def _timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def _tick():
    """tick's learner class, or the reason it cannot be used."""
    try:
        from tick.hawkes import HawkesExpKern
    except ImportError:
        return None, "tick is not installed"
    try:
        HawkesExpKern(BETA)
    except AttributeError as error:  # tick 0.8 without numpydoc
        return None, f"tick is installed but unusable without numpydoc ({error})"
    return HawkesExpKern, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 70_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--per-kernel-max", type=int, default=70_000)
    parser.add_argument("--boot-events", type=int, default=70_000)
    parser.add_argument("--boot-draws", type=int, default=16)
    args = parser.parse_args()
    learner, why_not = _tick()
    print(f"{'events':>9} {'sim s':>6} {'fit+SE s':>8} {'binned s':>8} {'per-kernel s':>12} {'fixed s':>7} {'tick s':>7}"
          f" {'ours/tick':>9} {'max rel diff':>12}")
    for n in args.sizes:
        horizon = n / RATE
        simulated, (t, marks) = _timed(lambda: hawkes_times(mu=MU, alpha=ALPHA, beta=BETA, horizon=horizon, seed=n))
        events = pd.DataFrame({"t": t, "side": np.where(marks == 0, "A", "B")})
        free, (fit, table) = _timed(lambda: (lambda f: (f, standard_errors(f)))(fit_hawkes(events, sides=["A", "B"],
                                                                                           end=horizon)))
        binned, _ = _timed(lambda: standard_errors(fit_hawkes(events, sides=["A", "B"], end=horizon, estimator="binned")))
        per_kernel = float("nan")
        if n <= args.per_kernel_max:
            per_kernel, _ = _timed(lambda: standard_errors(fit_hawkes(events, sides=["A", "B"], end=horizon,
                                                                      decays="per_kernel")))
        fixed_runs, tick_runs, ours, model = [], [], None, None
        timestamps = [np.ascontiguousarray(t[marks == 0]), np.ascontiguousarray(t[marks == 1])]
        for _ in range(args.repeat):  # interleaved: ours, then tick's, on the same events
            seconds, ours = _timed(lambda: fit_hawkes(events, sides=["A", "B"], beta=BETA))
            fixed_runs.append(seconds)
            if learner is not None:
                def run_tick():
                    fitted = learner(BETA, gofit="likelihood", penalty="none", solver="agd", step=1e-4, tol=1e-10,
                                     max_iter=5_000)
                    return fitted.fit(timestamps, start=0.1)

                seconds, model = _timed(run_tick)
                tick_runs.append(seconds)
        fixed = statistics.median(fixed_runs)
        line = (f"{len(events):>9,} {simulated:>6.2f} {free:>8.2f} {binned:>8.2f} {per_kernel:>12.2f} {fixed:>7.2f}")
        if learner is not None:
            tick_s = statistics.median(tick_runs)
            theirs = np.concatenate([model.baseline, model.adjacency.ravel()])
            mine = np.concatenate([ours.mu, ours.alpha.ravel()])
            line += f" {tick_s:>7.2f} {fixed / tick_s:>9.2f} {np.max(np.abs(theirs / mine - 1)):>12.1e}"
        print(line, flush=True)
        se = table.set_index("label")["se"]
        print(f"{'':>9} estimates (beta free): mu {np.round(fit.mu, 3)}, alpha {np.round(fit.alpha.ravel(), 3)}, "
              f"beta {fit.beta:.3f} (se {se['beta']:.3f}); branching ratio {fit.branching_ratio:.3f} "
              f"(se {se['branching_ratio']:.3f}); truth mu {MU}, alpha {ALPHA.ravel()}, beta {BETA}")
    if why_not:
        print(f"tick: {why_not}")
    print("targets: fit + SE on 7e4 events < 60 s; 1e6 events fit < 60 s")

    horizon = args.boot_events / RATE
    t, marks = hawkes_times(mu=MU, alpha=ALPHA, beta=BETA, horizon=horizon, seed=1)
    fit = fit_hawkes(pd.DataFrame({"t": t, "side": np.where(marks == 0, "A", "B")}), sides=["A", "B"], end=horizon)
    start_up, _ = _timed(lambda: bootstrap(fit, n=2, seed=0, n_jobs=2))  # starts the fork server
    one, first = _timed(lambda: bootstrap(fit, n=args.boot_draws, seed=1, n_jobs=1))
    two, second = _timed(lambda: bootstrap(fit, n=args.boot_draws, seed=1, n_jobs=2))
    same = first.draws.equals(second.draws)
    print(f"bootstrap, {len(t):,} events, {args.boot_draws} draws: {one / args.boot_draws:.2f} s a draw in 1 process,"
          f" {two / args.boot_draws:.2f} s with 2 (draws identical: {same}; the first parallel call of a session also"
          f" starts the fork server: {start_up:.1f} s for 2 draws); 200 draws ~ {200 * min(one, two) / args.boot_draws:.0f} s")


if __name__ == "__main__":
    main()
