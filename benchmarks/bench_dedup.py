"""Dedup speed and memory: analysis.dedup.dedup_events on 1e6 synthetic reports.

Two tables of ``--events`` reports (default 1e6) over ten years, two sides and 2,000 place
names with coordinates:

``one source``
    every report from one source (a GDELT-like dense dyad): nothing can merge;
``three sources``
    events told by one to three of three sources, each report a day late with probability 0.3,
    ~5 km off, its place name in lower case one time in four: about half the reports merge.

Each run is a fresh process (``--child``): the wall and CPU time of ``dedup_events`` in one
(CPU time is the steadier figure on a shared machine), its peak memory in another
(``tracemalloc``: the Python and numpy allocations made during the call), and the process's
peak resident memory (``ru_maxrss``, the input table included). Then the blocked
implementation against the all-pairs one it replaced (``tests/dedup_oracle.py``) on
``--compare`` reports at 200 a day, interleaved, medians of ``--repeat`` runs (at 1e6 reports
over ten years, 137 a side a day, the all-pairs table would hold ~4e8 rows: more than this
machine's memory). Target: 1e6 reports in under 60
s, memory O(N).

    python benchmarks/bench_dedup.py [--events 1000000] [--compare 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def reports(n: int, scenario: str, days: int = 3_650, seed: int = 0) -> pd.DataFrame:
    """The synthetic table of ``scenario`` with ``n`` reports over ``days`` days (the
    canonical columns dedup reads)."""
    rng = np.random.default_rng(seed)
    names = np.array([f"Place {k}" for k in range(2_000)], dtype=object)
    centres = np.column_stack([rng.uniform(29, 37, 2_000), rng.uniform(34, 48, 2_000)])
    if scenario == "one source":
        site = rng.integers(0, 2_000, n)
        day = rng.integers(0, days, n)
        side = rng.integers(0, 2, n)
        source = np.full(n, "gdelt", dtype=object)
        shift, offset, lower = np.zeros(n, dtype=np.int64), np.zeros((n, 2)), np.zeros(n, dtype=bool)
    else:
        copies = rng.integers(1, 4, n)
        copies = copies[: np.searchsorted(np.cumsum(copies), n) + 1]
        events = len(copies)
        parent = np.repeat(np.arange(events), copies)[:n]
        rank = np.arange(len(parent)) - np.repeat(np.cumsum(copies) - copies, copies)[:n]  # 0, 1, 2 within an event
        source = np.array(["curated", "acled", "gdelt"], dtype=object)[(rank + parent) % 3]
        site, day, side = rng.integers(0, 2_000, events)[parent], rng.integers(0, days, events)[parent], \
            rng.integers(0, 2, events)[parent]
        shift = (rng.random(n) < 0.3).astype(np.int64)
        offset = rng.normal(0, 0.05, (n, 2))
        lower = rng.random(n) < 0.25
    place = np.where(lower, np.char.lower(names[site].astype(str)).astype(object), names[site])
    return pd.DataFrame({
        "event_id": [f"r{k:07d}" for k in range(n)],
        "date": pd.Timestamp("2014-01-01") + pd.to_timedelta(day + shift, unit="D"),
        "side": pd.array(np.array(["a", "b"], dtype=object)[side], dtype="string"),
        "source": source,
        "location": pd.array(place, dtype="string"),
        "latitude": centres[site, 0] + offset[:, 0],
        "longitude": centres[site, 1] + offset[:, 1],
        "fatalities": pd.array(rng.integers(0, 5, n), dtype="Int64"),
        "url": [f"https://example.org/{k}" for k in range(n)],
    })


def _child(scenario: str, n: int, days: int, implementation: str, measure: str) -> None:
    if implementation == "oracle":
        sys.path.insert(0, str(ROOT))
        from tests.dedup_oracle import dedup_events
    else:
        from analysis.dedup import dedup_events
    table = reports(n, scenario, days)
    if measure == "memory":
        import tracemalloc

        tracemalloc.start()
        result = dedup_events(table, prefer=["curated", "acled", "gdelt"])
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        seconds = cpu = float("nan")
    else:
        start, start_cpu = time.perf_counter(), time.process_time()
        result = dedup_events(table, prefer=["curated", "acled", "gdelt"])
        seconds, cpu, peak = time.perf_counter() - start, time.process_time() - start_cpu, float("nan")
    print(json.dumps({"seconds": seconds, "cpu": cpu, "traced_mb": peak / 2**20,
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "merged": int((result.audit["role"] == "merged").sum())}))


def _run(scenario: str, n: int, implementation: str, measure: str, days: int = 3_650) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", scenario, str(n), str(days), implementation, measure],
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--compare", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        scenario, n, days, implementation, measure = args.child
        _child(scenario, int(n), int(days), implementation, measure)
        return
    print(f"{'scenario':<14} {'reports':>10} {'merged':>8} {'dedup s':>8} {'cpu s':>6} {'traced peak MB':>15}"
          f" {'process peak MB':>16}")
    for scenario in ("one source", "three sources"):
        timed = _run(scenario, args.events, "blocked", "time")
        traced = _run(scenario, args.events, "blocked", "memory")
        print(f"{scenario:<14} {args.events:>10,} {timed['merged']:>8,} {timed['seconds']:>8.1f} {timed['cpu']:>6.1f}"
              f" {traced['traced_mb']:>15.0f} {timed['rss_mb']:>16.0f}")
    print(f"target: {args.events:,} reports in < 60 s")
    # the all-pairs oracle against the blocked implementation on a dense table (200 reports a
    # day), interleaved runs, medians
    days = max(1, args.compare // 200)
    for scenario in ("one source", "three sources"):
        runs = {"oracle": [], "blocked": []}
        memory = {name: _run(scenario, args.compare, name, "memory", days)["traced_mb"] for name in runs}
        for _ in range(args.repeat):
            for name in runs:
                runs[name].append(_run(scenario, args.compare, name, "time", days)["seconds"])
        old, new = statistics.median(runs["oracle"]), statistics.median(runs["blocked"])
        print(f"{scenario}, {args.compare:,} reports over {days} days: all-pairs {old:.2f} s, {memory['oracle']:.0f} MB;"
              f" blocked {new:.2f} s, {memory['blocked']:.0f} MB; time ratio {old / new:.1f} (medians of {args.repeat})")


if __name__ == "__main__":
    main()
