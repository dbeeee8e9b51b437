"""The circular-shift null and the space-time test: time and peak memory as the dyad grows.

For 1e4, 1e5 and 1e6 simulated events (benchmarks.bench_cycles.simulate: two sides over ten
years, half with a UTC time, points in a 400 km box), each measured in a fresh subprocess (so
its peak resident memory is its own): the permutation test of the response ratio with 999
draws (window 30 days, k 7 days), the same under a 10 km distance limit, and the two-stream
Knox test (bands to 50 km and 30 days, 99 draws); the two spatial tests at the sizes of
``--spatial-sizes`` (1e4 and 1e5: a distance search at 1e6 events and 999 draws is hours, not a
benchmark). Prints seconds and peak memory (GB) of the process and of its largest worker.

Targets (2-core machine, issue 16): the null at 1e6 events with 999 draws under 60 s and 2 GB.

    python -m benchmarks.bench_permutation [--sizes 10000 100000 1000000] [--draws 999]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def child(task: str, n: int, draws: int) -> None:
    import warnings

    from analysis.permutation import permutation_test
    from analysis.response import ResponseRule
    from analysis.spacetime import knox_test
    from benchmarks.bench_cycles import simulate

    warnings.simplefilter("ignore")
    events = simulate(n, seed=n)
    start, end = events["date"].min(), events["date"].max()
    rule = ResponseRule(window_days=30, study_end=end)
    began = time.perf_counter()
    if task == "null":
        permutation_test(events, rule, study_start=start, k_days=7, n_draws=draws, seed=1)
    elif task == "null-10km":
        permutation_test(events, rule.replace(max_distance_km=10.0), study_start=start, k_days=7, n_draws=draws, seed=1)
    else:
        knox_test(events, rule, study_start=start, distance_bands_km=[0, 1, 5, 10, 25, 50], n_draws=draws, seed=1)
    seconds = time.perf_counter() - began
    # Linux: kilobytes; the worker processes of a large null are not in RUSAGE_SELF, so the
    # largest of them is reported too (with n workers the machine holds main + n x worker at most)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    worker_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    print(json.dumps({"seconds": seconds, "peak_gb": peak_gb, "worker_gb": worker_gb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--draws", type=int, default=999)
    parser.add_argument("--spatial-sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--spatial-draws", type=int, default=99)
    parser.add_argument("--knox-draws", type=int, default=99)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), int(args.child[2]))
        return
    print(f"{'events':>10} {'test':<28} {'seconds':>8} {'peak GB':>8} {'worker GB':>9}")
    for n in args.sizes:
        tasks = [("null", args.draws, f"null, {args.draws} draws")]
        if n in args.spatial_sizes:
            tasks += [("null-10km", args.spatial_draws, f"null within 10 km, {args.spatial_draws}"),
                      ("knox", args.knox_draws, f"Knox, {args.knox_draws} draws")]
        for task, draws, label in tasks:
            done = subprocess.run([sys.executable, "-m", "benchmarks.bench_permutation", "--child", task, str(n), str(draws)],
                                  capture_output=True, text=True, check=True)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            worker = f"{result['worker_gb']:>9.2f}" if result["worker_gb"] else f"{'-':>9}"  # no worker ran
            print(f"{n:>10,} {label:<28} {result['seconds']:>8.1f} {result['peak_gb']:>8.2f} {worker}", flush=True)
    print("target: the null at 1e6 events with 999 draws under 60 s and 2 GB")


if __name__ == "__main__":
    main()
