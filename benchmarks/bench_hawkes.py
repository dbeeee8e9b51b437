"""Hawkes fitting speed: analysis.hawkes.fit_hawkes on 1e4 and 1e5 simulated events.

Events come from analysis.simulate.hawkes with mu = (1, 0.5) per day, alpha = [[0.2, 0.4],
[0.3, 0.1]] and beta = 0.5 (3 events a day in all), over n / 3 days. For each size it prints
the best of ``--repeat`` wall times of ``fit_hawkes`` with the decay estimated (the whole fit:
decay grid, L-BFGS-B, observed information, goodness of fit), its L-BFGS-B iterations and
likelihood evaluations, and the time of a fit with the decay fixed at the truth. When tick is
importable and usable, tick's HawkesExpKern (likelihood, decay fixed) runs on the same events
in the same run: its time, the ratio of ours (fixed decay) to it, and the largest relative
difference between the two sets of estimates. Target: 1e5 events in under 5 s (2-core machine).

    python benchmarks/bench_hawkes.py [--sizes 10000 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from analysis.hawkes import fit_hawkes
from analysis.simulate import hawkes

MU = (1.0, 0.5)
ALPHA = np.array([[0.2, 0.4], [0.3, 0.1]])
BETA = 0.5
RATE = 3.0  # stationary events per day: sum((I - alpha)^-1 mu)


def _best(function, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


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
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    learner, why_not = _tick()
    print(f"{'events':>8} {'simulate s':>10} {'fit s':>7} {'iters':>6} {'evals':>6} {'fixed-beta s':>12}"
          f" {'tick s':>7} {'ours/tick':>9} {'max rel diff':>12}")
    for n in args.sizes:
        horizon = n / RATE
        start = time.perf_counter()
        events = hawkes(mu=MU, alpha=ALPHA, beta=BETA, horizon=horizon, seed=n)
        simulated = time.perf_counter() - start
        free, fit = _best(lambda: fit_hawkes(events, sides=["A", "B"], end=horizon), args.repeat)
        # fixed decay, window [0, last event] as tick uses
        fixed, ours = _best(lambda: fit_hawkes(events, sides=["A", "B"], beta=BETA), args.repeat)
        line = (f"{len(events):>8,} {simulated:>10.2f} {free:>7.2f} {fit.n_iter:>6} {fit.n_eval:>6} {fixed:>12.2f}")
        if learner is not None:
            t = events["t"].to_numpy()
            is_b = (events["side"] == "B").to_numpy()
            timestamps = [np.ascontiguousarray(t[~is_b]), np.ascontiguousarray(t[is_b])]

            def run_tick():
                model = learner(BETA, gofit="likelihood", penalty="none", solver="agd", step=1e-4, tol=1e-10,
                                max_iter=5_000)
                return model.fit(timestamps, start=0.1)

            tick_s, model = _best(run_tick, args.repeat)
            theirs = np.concatenate([model.baseline, model.adjacency.ravel()])
            mine = np.concatenate([ours.mu, ours.alpha.ravel()])
            line += f" {tick_s:>7.2f} {fixed / tick_s:>9.2f} {np.max(np.abs(theirs / mine - 1)):>12.1e}"
        print(line)
        print(f"{'':>8} estimates (beta free): mu {np.round(fit.mu, 3)}, alpha {np.round(fit.alpha.ravel(), 3)}, "
              f"beta {fit.beta:.3f}; truth mu {MU}, alpha {ALPHA.ravel()}, beta {BETA}")
    if why_not:
        print(f"tick: {why_not}")
    print("target: 1e5 events (beta estimated) in < 5 s")


if __name__ == "__main__":
    main()
