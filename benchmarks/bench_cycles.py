"""Pairing speed: analysis.cycles.build_cycles against a per-event Python loop.

For 1e4, 1e5 and 1e6 simulated events (two sides over ten years, half of them with a UTC time,
so same-day ties are frequent), prints the time of ``build_cycles`` (best of five), and for the
sizes given to ``--loop-sizes`` the time of a straightforward per-event loop on the same data,
their ratio, and whether both give identical output. Targets (2-core machine): 1e6 events in
under 1 s; at least 100x the loop at 1e5.

    python benchmarks/bench_cycles.py [--sizes 10000 100000 1000000] [--loop-sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import time
from bisect import bisect_left

import numpy as np
import pandas as pd

from analysis.cycles import build_cycles


def simulate(n: int, *, years: int = 10, seed: int = 0) -> pd.DataFrame:
    """``n`` events of sides A and B spread over ``years``; half carry a UTC time of day."""
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 365 * years, n)
    start = np.datetime64("2015-01-01", "D")
    date = (start + days).astype("datetime64[ns]")
    seconds = rng.integers(0, 86_400, n)
    timed = rng.random(n) < 0.5
    time_utc = np.where(timed, date + (seconds * 10**9).astype("timedelta64[ns]") - np.timedelta64(3, "h"), np.datetime64("NaT"))
    return pd.DataFrame(
        {
            "event_id": pd.array(np.char.add("e", np.arange(n).astype(str)), dtype="string"),
            "date": date,
            "time_utc": time_utc.astype("datetime64[ns]"),
            "side": np.where(rng.random(n) < 0.5, "A", "B"),
            "kind": "rocket",
        }
    )


def loop_cycles(events: pd.DataFrame, *, window_days: int, study_end: pd.Timestamp) -> pd.DataFrame:
    """The same definition as build_cycles' defaults, one event at a time."""
    day = events["date"].to_numpy(dtype="datetime64[D]").astype(np.int64).tolist()
    raw = events["time_utc"].to_numpy(dtype="datetime64[ns]")
    time_ns = [None if np.isnat(t) else int(t.astype(np.int64)) for t in raw]
    side = events["side"].tolist()
    ids = events["event_id"].tolist()
    order = sorted(range(len(ids)), key=lambda i: (day[i], time_ns[i] is None, time_ns[i] or 0, i))
    sday = [day[i] for i in order]
    end = int(study_end.to_datetime64().astype("datetime64[D]").astype(np.int64))
    rows = []
    for i in order:
        d, t, s = day[i], time_ns[i], side[i]
        response, ambiguous = None, False
        j = bisect_left(sday, d)  # first event of the trigger's day
        while j < len(order) and sday[j] <= d + window_days:
            k = order[j]
            if side[k] != s:
                if day[k] == d:
                    if t is not None and time_ns[k] is not None:
                        if time_ns[k] > t and response is None:
                            response = k
                    else:
                        ambiguous = True
                elif response is None:
                    response = k
                    break
            j += 1
        if response is not None:
            rows.append((ids[i], ids[response], day[response] - d, False, None, ambiguous))
        elif d + window_days <= end:
            rows.append((ids[i], None, window_days, True, "window_end", ambiguous))
        else:
            rows.append((ids[i], None, max(end - d, 0), True, "study_end", ambiguous))
    return pd.DataFrame(rows, columns=["trigger_id", "response_id", "interval_days", "censored", "censor_reason", "order_ambiguous"])


def same_output(fast: pd.DataFrame, slow: pd.DataFrame) -> bool:
    cols = ["trigger_id", "response_id", "interval_days", "censored", "censor_reason", "order_ambiguous"]
    a = fast[cols].astype(object).where(fast[cols].notna(), None).reset_index(drop=True)
    b = slow[cols].astype(object).where(slow[cols].notna(), None).reset_index(drop=True)
    return bool((a.to_numpy() == b.to_numpy()).all())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--loop-sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--window", type=int, default=30)
    args = parser.parse_args()
    print(f"{'events':>10} {'build_cycles s':>15} {'loop s':>9} {'ratio':>8}  same output")
    for n in args.sizes:
        events = simulate(n, seed=n)
        end = events["date"].max()
        timings = []
        for _ in range(5):
            start = time.perf_counter()
            fast = build_cycles(events, window_days=args.window, study_end=end)
            timings.append(time.perf_counter() - start)
        best = min(timings)
        if n in args.loop_sizes:
            start = time.perf_counter()
            slow = loop_cycles(events, window_days=args.window, study_end=end)
            loop = time.perf_counter() - start
            print(f"{n:>10,} {best:>15.3f} {loop:>9.2f} {loop / best:>7.0f}x  {same_output(fast, slow)}")
        else:
            print(f"{n:>10,} {best:>15.3f} {'-':>9} {'-':>8}  (loop not run)")
    print("targets: 1e6 events < 1 s; >= 100x the loop at 1e5")


if __name__ == "__main__":
    main()
