"""A million-event dyad through make: each stage's time and peak memory, and the report's size.

Generates a dense synthetic dyad (:func:`analysis.simulate.dense_dyad`: side A about 8 events a
day, side B about 130, answers of B near A's events, points in a 400 km box; a seeded count of
deaths per event) of about ``--events`` events as two plain CSV files, one per side, read by
the table loader (``format: table`` with ``column_map``, ``kind_map`` and ``defaults: {actor:
...}``), with a dyad spec ``dyads/sim-dense.yaml`` and a profile
``notebooks/params/sim-dense.yaml``. The profile sets what names this dyad (its sides in the
Cox models, its dates, no event ids to flag or label) and one setting, ``cycles.spacetime:
null`` (no space-time test; ``--spacetime`` keeps the default one); every other setting is
``notebooks/params/default.yaml``'s (999 permutation draws, Hawkes with both decay models, the
sensitivity grid with its Hawkes refits...). Then ``make reports/sim-dense.html`` runs in a
copy of the project (its sources, sharing .venv) as a user runs it (two stages at a time,
JOBS=2); the default dyad is not built.

Why no space-time test: the two-stream Knox test counts, for every draw of its null, the pairs
of events close in time (30 days) within its largest distance band, here 500 km, wider than
the 400 km box: some 4e8 pairs a draw at a million events, 199 draws. Measured on this dyad
(analysis.spacetime at the time of writing): the observed counts and one draw took 64 s with
bands to 50 km and 21 s to 10 km (6.7 s a draw, 22 minutes for 199); at 20,000 events the
default test took 307 s. It is a test for sparse events in a wide theatre; a dense dyad needs
narrow bands and few draws, or a faster pair count (noted in the issue).

Time per stage is the runner's console line (``[stage] report ... 12.3 s``). Memory is read
from ``/proc`` every 0.1 s (Linux only) for every process under make: a stage's peak is the
largest sum of resident memory (RSS) of its processes (the runner, which runs papermill, and
the notebook's kernel) seen at one poll, and ``kernel`` is the kernel's own high-water mark
(``VmHWM``, exact up to its last 0.1 s); the build's peak is the largest sum over all of
make's processes at one poll (two stages at once included). Also printed: the HTML report's
size, the CSV files beside it, and how many table rows and figures the page holds.

Target (issue 16, 2-core 24 GB machine): the build under 10 minutes and 8 GB peak in total, the
report readable (weekly timeline, tables cut with links to the whole CSV).

    python -m benchmarks.bench_pipeline [--events 1000000] [--keep DIR]

``make bench`` leaves this one out (a build of several minutes): ``make bench-pipeline``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import yaml

from benchmarks.bench_build import copy_project

DYAD = "sim-dense"
#: events a day of the simulation at its default rates: 8 (A) + 130 (B) + about 4 answers
EVENTS_PER_DAY = 8.0 + 130.0 + 0.5 * 8.0
START = "2000-01-01"
LINE = re.compile(r"^\[(\w[\w-]*)\] (\S+) \.\.\. (\d+\.\d) s$", flags=re.M)


# ---- the dyad -----------------------------------------------------------------------------------

def write_dyad(project: Path, n_events: int, seed: int = 16, *, spacetime: bool = False) -> dict:
    """Write the simulated dyad's CSV files, spec and profile into ``project``; return counts."""
    from analysis.simulate import dense_dyad

    days = max(30, round(n_events / EVENTS_PER_DAY))
    events = dense_dyad(days=days, start=START, seed=seed)
    rng = np.random.default_rng(seed)
    # deaths per event: A's strikes kill more often than B's attacks (a covariate for the Cox models)
    deaths = np.where(events["side"].eq("A"), rng.poisson(0.6, len(events)), rng.poisson(0.2, len(events)))
    table = events.assign(day=events["date"].dt.strftime("%Y-%m-%d"), killed=deaths,
                          lat=events["latitude"].round(5), lon=events["longitude"].round(5),
                          type=np.where(events["side"].eq("A"), "air strike", "rocket fire"))
    folder = project / "data" / "external" / DYAD
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for side in ("A", "B"):
        path = folder / f"side-{side.lower()}.csv"
        table.loc[table["side"].eq(side), ["day", "lat", "lon", "type", "killed"]].to_csv(path, index=False)
        files[side] = path.relative_to(project).as_posix()
    end = str(np.datetime64(START) + np.timedelta64(days - 1, "D"))
    spec = {
        "name": DYAD,
        "title": "A dense synthetic dyad (benchmark)",
        "description": "Simulated by analysis.simulate.dense_dyad for benchmarks/bench_pipeline.py: side B answers "
                       "half of side A's strikes within 10 km and 3 days, among its own background attacks.",
        "period": {"start": START, "end": end},
        "theatre": ["Iraq"],
        "sides": {
            "a": {"label": "Side A", "color": "#1f4e79", "actors": ["^Side A"]},
            "b": {"label": "Side B", "color": "#b22222", "actors": ["^Side B"]},
        },
        "sources": [
            {"format": "table", "path": files[side], "source": f"side-{side.lower()}",
             "column_map": {"date": "day", "latitude": "lat", "longitude": "lon", "kind": "type", "fatalities": "killed"},
             "kind_map": {"air strike": "airstrike", "rocket fire": "rocket"},
             "defaults": {"actor": f"Side {side} forces", "country": "Iraq", "date_precision": "day"}}
            for side in ("A", "B")
        ],
    }
    (project / "dyads" / f"{DYAD}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    third = np.datetime64(START) + np.timedelta64(days // 3, "D")
    profile = {
        "cycles": {"named_events": {"a day a third in": str(third)}},
        "timing": {
            "flags": {},
            "period_breaks": {"first third": START, "the rest": str(third)},
            "cox_models": [
                {"name": "B answering A", "trigger_side": "a", "covariates": ["trigger_fatalities_log1p", "trigger_period"]},
                {"name": "A answering B", "trigger_side": "b", "covariates": ["trigger_fatalities_log1p", "trigger_period"]},
            ],
        },
        "escalation": {"its_sides": None},
        "report": {"highlight": {}},
    }
    if not spacetime:
        profile["cycles"]["spacetime"] = None
    header = ("# benchmarks/bench_pipeline.py: the default profile's settings but what names the dyad and, unless\n"
              "# --spacetime, the space-time test (hours at a million events: see the benchmark's notes)\n")
    (project / "notebooks" / "params" / f"{DYAD}.yaml").write_text(
        header + yaml.safe_dump(profile, sort_keys=False), encoding="utf-8")
    return {"events": len(events), "days": days, "A": int(events["side"].eq("A").sum()),
            "B": int(events["side"].eq("B").sum())}


# ---- memory of make's processes ---------------------------------------------------------------

def _status(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in bytes; (0, 0) when it is gone or has none (a zombie)."""
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmRSS:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith(b"VmHWM:"):
                    hwm = int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return rss, hwm


def _parents() -> dict[int, int]:
    parents = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as fh:
                    parents[int(entry.name)] = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
    return parents


class Monitor(threading.Thread):
    """Polls the memory of every process under ``root_pid``, grouped by the stage it runs."""

    def __init__(self, root_pid: int, stages_by_notebook: dict[str, str], interval: float = 0.1):
        super().__init__(daemon=True)
        self.root_pid, self.stages, self.interval = root_pid, stages_by_notebook, interval
        self.stop = threading.Event()
        self.total_peak = 0
        self.stage_peak: dict[str, int] = {}
        self.kernel_hwm: dict[str, int] = {}
        self._stage_of: dict[int, str | None] = {}

    def _runner_stage(self, pid: int) -> str | None:
        """The stage a runner process (``python -m analysis.build run REPORT NOTEBOOK ...``) runs."""
        if pid not in self._stage_of:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    argv = fh.read().decode(errors="replace").split("\0")
            except (FileNotFoundError, ProcessLookupError):
                return None
            stage = None
            if "analysis.build" in argv and "run" in argv:
                at = argv.index("run")
                stage = self.stages.get(argv[at + 2]) if len(argv) > at + 2 else None
            self._stage_of[pid] = stage
        return self._stage_of[pid]

    def run(self) -> None:
        while not self.stop.is_set():
            parents = _parents()
            children: dict[int, list[int]] = {}
            for pid, ppid in parents.items():
                children.setdefault(ppid, []).append(pid)
            total, per_stage = 0, {}
            todo = [(self.root_pid, None)]
            while todo:
                pid, stage = todo.pop()
                own = self._runner_stage(pid) if stage is None else stage
                rss, hwm = _status(pid)
                total += rss
                if own is not None:
                    per_stage[own] = per_stage.get(own, 0) + rss
                    if stage is not None:  # under the runner: the kernel (papermill runs in the runner)
                        self.kernel_hwm[own] = max(self.kernel_hwm.get(own, 0), hwm)
                todo.extend((child, own) for child in children.get(pid, []))
            self.total_peak = max(self.total_peak, total)
            for stage, rss in per_stage.items():
                self.stage_peak[stage] = max(self.stage_peak.get(stage, 0), rss)
            self.stop.wait(self.interval)


# ---- the build ----------------------------------------------------------------------------------

def _env(project: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}}
    env["GIT_CEILING_DIRECTORIES"] = str(project.parent)  # no repository above the copy
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


def build(project: Path, target: str, jobs: int) -> tuple[float, str, Monitor]:
    from analysis.stages import read_stages

    stages = {s.notebook: s.name for s in read_stages(project)}
    start = time.perf_counter()
    make = subprocess.Popen(["make", f"JOBS={jobs}", target], cwd=project, env=_env(project), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    monitor = Monitor(make.pid, stages)
    monitor.start()
    output = make.communicate()[0]
    seconds = time.perf_counter() - start
    monitor.stop.set()
    monitor.join()
    if make.returncode != 0:
        sys.exit(f"make {target} failed after {seconds:.0f} s:\n{output[-4000:]}")
    return seconds, output, monitor


def page_figures(page: Path) -> dict[str, int]:
    """How much a reader meets in the page: table rows and figures."""
    text = page.read_text(encoding="utf-8")
    return {"table rows": text.count("<tr"), "figures": text.count("data:image/png;base64")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=float, default=1e6, help="events of the dyad, about (default 1e6)")
    parser.add_argument("--jobs", type=int, default=2, help="stages run side by side (make JOBS=; default 2)")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it (default: a temporary one)")
    parser.add_argument("--spacetime", action="store_true", help="keep the default profile's space-time test (hours at 1e6)")
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").is_file():
        sys.exit("bench_pipeline reads memory from /proc: Linux only")
    gb = 1024**3
    with tempfile.TemporaryDirectory() as tmp:
        project = args.keep.resolve() if args.keep else Path(tmp) / "project"
        if project.exists():
            shutil.rmtree(project)
        project.parent.mkdir(parents=True, exist_ok=True)
        copy_project(project)
        began = time.perf_counter()
        counts = write_dyad(project, int(args.events), spacetime=args.spacetime)
        csv_mb = sum(f.stat().st_size for f in (project / "data" / "external" / DYAD).glob("*.csv")) / 1024**2
        print(f"dyad {DYAD}: {counts['events']:,} events ({counts['A']:,} of A, {counts['B']:,} of B) over "
              f"{counts['days']:,} days; two CSV files, {csv_mb:.0f} MB; written in {time.perf_counter() - began:.0f} s; "
              f"space-time test {'as in the default profile' if args.spacetime else 'off (cycles.spacetime: null)'}",
              flush=True)
        seconds, output, monitor = build(project, f"reports/{DYAD}.html", args.jobs)
        times = {stage: float(s) for stage, report, s in LINE.findall(output) if report == DYAD}
        print(f"\nmake JOBS={args.jobs} reports/{DYAD}.html in a copy of the project ({os.cpu_count()} cores):")
        print(f"  {'stage':<12} {'seconds':>8} {'peak GB':>8} {'kernel GB':>10}")
        for stage, secs in times.items():
            print(f"  {stage:<12} {secs:>8.1f} {monitor.stage_peak.get(stage, 0) / gb:>8.2f} "
                  f"{monitor.kernel_hwm.get(stage, 0) / gb:>10.2f}")
        print(f"  {'build':<12} {seconds:>8.1f} {monitor.total_peak / gb:>8.2f}   (all of make's processes at once)")
        page = project / "reports" / f"{DYAD}.html"
        csvs = sorted((project / "reports" / DYAD).glob("*.csv"))
        shown = page_figures(page)
        print(f"\nreport {page.relative_to(project)}: {page.stat().st_size / 1024**2:.2f} MB, {shown['table rows']:,} table "
              f"rows, {shown['figures']} figures; beside it {len(csvs)} CSV files, "
              f"{sum(f.stat().st_size for f in csvs) / 1024**2:.0f} MB "
              f"({', '.join(f'{f.name} {f.stat().st_size / 1024**2:.0f} MB' for f in csvs)})")
        ok_time, ok_memory = seconds < 600, monitor.total_peak < 8 * gb
        print(f"target: under 600 s ({'met' if ok_time else 'NOT met'}) and under 8 GB "
              f"({'met' if ok_memory else 'NOT met'})")
        if args.keep:
            print(f"the build is kept in {project}")


if __name__ == "__main__":
    main()
