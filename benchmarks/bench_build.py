"""Build speed: a cold `make reports` of the default dyad against its floor, kernel starts.

The floor is what any papermill build of the same notebook stages must spend: one papermill run
of an empty notebook (start Python, import papermill, start a kernel, stop it) per stage the
default dyad's build runs (the Makefile's stages, ``analysis.stages.read_stages``). The build is
`make clean && make reports` in a copy of the project (its sources only, sharing .venv), as it
runs by default (two stages at a time, JOBS=2) and one stage at a time (JOBS=1). Runs are
interleaved (floor, JOBS=1, JOBS=2, floor, ...) and the medians compared, since the machine's
speed drifts. Also timed: a build with nothing to do (the graph step every make run pays) and
`import analysis.build`. Goal (issue 18): the build within 2x of its floor.

    python benchmarks/bench_build.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from analysis.stages import read_stages

ROOT = Path(__file__).resolve().parents[1]
SKIP = {".venv", ".git", "data/processed", "data/external", "data/interim", "reports", ".pytest_cache", "__pycache__",
        ".ruff_cache"}
EMPTY = {"cells": [{"cell_type": "code", "execution_count": None, "id": "empty", "metadata": {}, "outputs": [],
                    "source": ""}],
         "metadata": {"kernelspec": {"name": "escalation", "display_name": "Python (escalation)",
                                     "language": "python"}},
         "nbformat": 4, "nbformat_minor": 5}


def copy_project(dest: Path) -> None:
    """The project's sources (not its data, reports or environment) in ``dest``, sharing .venv."""
    for folder, dirs, files in os.walk(ROOT):
        rel = os.path.relpath(folder, ROOT)
        dirs[:] = [d for d in dirs if os.path.normpath(os.path.join(rel, d)) not in SKIP and d not in SKIP
                   and not d.endswith(".egg-info")]
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for name in files:
            shutil.copy2(os.path.join(folder, name), dest / rel / name)
    for folder in ("data/processed", "reports"):
        (dest / folder).mkdir(parents=True, exist_ok=True)
    (dest / ".venv").symlink_to(ROOT / ".venv")


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}}
    env["GIT_CEILING_DIRECTORIES"] = str(cwd.parent)  # no repository above the copy
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def floor(work: Path, runs: int) -> float:
    """``runs`` papermill runs of an empty notebook, one after the other."""
    notebook = work / "empty.ipynb"
    notebook.write_text(json.dumps(EMPTY))
    papermill = str(ROOT / ".venv" / "bin" / "papermill")
    return sum(timed([papermill, str(notebook), str(work / "out.ipynb"), "--kernel", "escalation", "--log-level",
                      "WARNING", "--no-progress-bar"], work) for _ in range(runs))


def cold_build(project: Path, *jobs: str) -> float:
    timed(["make", "clean"], project)
    return timed(["make", *jobs, "reports"], project)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians are reported)")
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    results: dict[str, list[float]] = {"floor": [], "serial": [], "-j2": [], "no-op": [], "import": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        project = work / "project"
        copy_project(project)
        python = str(ROOT / ".venv" / "bin" / "python")
        stages = len(read_stages(ROOT))  # the default dyad runs every one (coverage and news too)
        for round_ in range(args.rounds):
            results["floor"].append(floor(work, stages))
            results["serial"].append(cold_build(project, "JOBS=1"))
            results["-j2"].append(cold_build(project))  # the default: JOBS=2
            results["no-op"].append(timed(["make", "reports"], project))
            results["import"].append(timed([python, "-c", "import analysis.build"], project))
            print(f"round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in results.items()), flush=True)
    median = {k: statistics.median(v) for k, v in results.items()}
    print(f"\nmedians of {args.rounds} interleaved round(s), this machine ({os.cpu_count()} cores):")
    print(f"  floor: {stages} papermill runs of an empty notebook  {median['floor']:6.1f} s")
    print(f"  cold make reports (default, JOBS=2)             {median['-j2']:6.1f} s  "
          f"ratio {median['-j2'] / median['floor']:.2f}x  (goal <= 2x)")
    print(f"  cold make JOBS=1 reports (one stage at a time)  {median['serial']:6.1f} s  "
          f"ratio {median['serial'] / median['floor']:.2f}x")
    print(f"  make reports with nothing to do                 {median['no-op']:6.2f} s")
    print(f"  python -c 'import analysis.build'               {median['import']:6.2f} s")


if __name__ == "__main__":
    main()
