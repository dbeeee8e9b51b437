"""Pairing speed: ``build_cycles`` against its floor (a stable sort) and against the per-event loop.

For each size, simulated events: two sides over ten years, half with a UTC time (so same-day
ties are frequent), at random points of a 400 x 400 km box. In interleaved rounds it times, one
after another, the floor - ``numpy.argsort(kind="stable")`` of the events' int64 timestamps,
which any pairing must at least do - then ``build_cycles`` without a distance limit, then with
``max_distance_km`` (10 km); it prints medians over the rounds and each one's ratio to the floor
measured in the same run. For the sizes in ``--loop-sizes`` it also times the per-event loop
that defines the rule (``tests/oracle.py``), the same number of rounds, interleaved with
``build_cycles``, and checks that both give the same table.

Targets (2-core machine): ``build_cycles`` within 3x its floor at 1e6 events; at least 100x the
loop at 1e5; 1e6 events with a distance limit under 30 s.

    python -m benchmarks.bench_cycles [--sizes 10000 100000 1000000] [--loop-sizes 10000 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from analysis.cycles import build_cycles
from analysis.response import ResponseRule
from tests.oracle import oracle_cycles

COLUMNS = ["trigger_id", "response_id", "interval_days", "censored", "censor_reason", "order_ambiguous"]


def simulate(n: int, *, years: int = 10, box_km: float = 400.0, seed: int = 0) -> pd.DataFrame:
    """``n`` events of sides A and B over ``years``; half carry a UTC time; points in a box."""
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 365 * years, n)
    date = (np.datetime64("2015-01-01", "D") + days).astype("datetime64[ns]")
    seconds = rng.integers(0, 86_400, n)
    timed = rng.random(n) < 0.5
    time_utc = np.where(timed, date + (seconds * 10**9).astype("timedelta64[ns]") - np.timedelta64(3, "h"), np.datetime64("NaT"))
    km = 111.195  # per degree of latitude
    return pd.DataFrame(
        {
            "event_id": pd.array(np.char.add("e", np.arange(n).astype(str)), dtype="string"),
            "date": date,
            "time_utc": time_utc.astype("datetime64[ns]"),
            "side": np.where(rng.random(n) < 0.5, "A", "B"),
            "kind": "rocket",
            "latitude": 33.0 + rng.uniform(-box_km / 2, box_km / 2, n) / km,
            "longitude": 44.0 + rng.uniform(-box_km / 2, box_km / 2, n) / (km * np.cos(np.radians(33.0))),
        }
    )


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def same_output(fast: pd.DataFrame, slow: pd.DataFrame) -> bool:
    a = fast[COLUMNS].astype(object).where(fast[COLUMNS].notna(), None).reset_index(drop=True)
    b = slow[COLUMNS].astype(object).where(slow[COLUMNS].notna(), None).reset_index(drop=True)
    return bool(a.equals(b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--loop-sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--loop-rounds", type=int, default=3)
    parser.add_argument("--window", type=int, default=30)
    parser.add_argument("--distance", type=float, default=10.0)
    args = parser.parse_args()
    print(f"medians of {args.rounds} interleaved rounds (loop: {args.loop_rounds})")
    print(f"{'events':>10} {'floor s':>9} {'pairing s':>10} {'x floor':>8} {'10 km s':>9} {'x floor':>8}"
          f" {'loop s':>8} {'x loop':>7}  same")
    for n in args.sizes:
        events = simulate(n, seed=n)
        end = events["date"].max()
        plain = ResponseRule(window_days=args.window, study_end=end)
        near = plain.replace(max_distance_km=args.distance)
        stamps = events["date"].to_numpy().view("int64")
        floor, fast, spatial = [], [], []
        for _ in range(args.rounds):
            floor.append(timed(lambda: np.argsort(stamps, kind="stable"))[0])
            fast.append(timed(lambda: build_cycles(events, plain))[0])
            spatial.append(timed(lambda: build_cycles(events, near))[0])
        f, p, s = (statistics.median(x) for x in (floor, fast, spatial))
        line = f"{n:>10,} {f:>9.3f} {p:>10.3f} {p / f:>7.1f}x {s:>9.3f} {s / f:>7.1f}x"
        if n in args.loop_sizes:
            loop, paired, same = [], [], True
            for _ in range(args.loop_rounds):
                t_fast, out_fast = timed(lambda: build_cycles(events, plain))
                t_loop, out_loop = timed(lambda: oracle_cycles(events, plain))
                paired.append(t_fast)
                loop.append(t_loop)
                same &= same_output(out_fast, out_loop)
            ml, mp = statistics.median(loop), statistics.median(paired)
            line += f" {ml:>8.2f} {ml / mp:>6.0f}x  {same}"
        else:
            line += f" {'-':>8} {'-':>7}  (loop not run)"
        print(line, flush=True)
    print("targets: pairing <= 3x its floor at 1e6; >= 100x the loop at 1e5; 1e6 with a distance limit < 30 s")


if __name__ == "__main__":
    main()
