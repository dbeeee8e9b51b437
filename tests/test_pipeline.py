"""End to end: `make -j2 reports` on a copy of the project, through papermill, on the default data.

Checks the build graph as a user meets it: a full build with one console line per stage, a
second build that does nothing (`make -q` agrees), an edit of `analysis/plots.py` that reruns only
the stages importing it, an edit of `window_days` that reruns only the cycles stage and what
reads its tables, a notebook run as in JupyterLab that changes nothing make built, a clean
rebuild that gives byte-identical tables and pages, and the messages of a misspelt parameter and
a failing stage. The copy's default profile is a cheap one written here (few permutations and
bootstrap draws), copied into the notebooks by `make sync-params` as a user would.
"""

import difflib
import hashlib
import itertools
import os
import re
import shutil
import subprocess

import pandas as pd
import pytest
import yaml

from analysis.stages import read_stages
from tests.conftest import ROOT

pytestmark = pytest.mark.pipeline

# the default data only: user downloads under data/external (e.g. B'Tselem records) are not copied
SKIP = {".venv", ".git", "data/processed", "data/external", "data/interim", "reports", ".pytest_cache", "__pycache__",
        ".ruff_cache"}
STAGES = [s.name for s in read_stages(ROOT)]
LINE = re.compile(r"^\[(\w+)\] (\S+) \.\.\. \d+\.\d s$", flags=re.M)
#: what makes the test profile cheap: draws of the permutation null and the Hawkes bootstrap
CHEAP = {"cycles": {"n_permutations": 49}, "hawkes": {"n_bootstrap": 10}, "sensitivity": {"windows": [7, 30]}}


def _copy_project(dest):
    """Copy the project's sources, keeping modification times, and share its .venv."""
    for folder, dirs, files in os.walk(ROOT):
        rel = os.path.relpath(folder, ROOT)
        dirs[:] = [d for d in dirs if os.path.normpath(os.path.join(rel, d)) not in SKIP and d not in SKIP
                   and not d.endswith(".egg-info")]
        os.makedirs(dest / rel, exist_ok=True)
        for name in files:
            shutil.copy2(os.path.join(folder, name), dest / rel / name)
    for folder in ("data/processed", "data/external", "reports"):
        (dest / folder).mkdir(parents=True, exist_ok=True)
    (dest / ".venv").symlink_to(ROOT / ".venv")


def _env(project):
    """The environment of the builds: git must not find a repository above the copy (the report's
    provenance names the commit; another process's repository in /tmp would make it drift), and
    the builds are not sub-makes of `make test` (whose job server pytest does not pass on)."""
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}}
    return {**env, "GIT_CEILING_DIRECTORIES": str(project.parent)}


def _make(project, *args, check=True):
    done = subprocess.run(["make", *args], cwd=project, capture_output=True, text=True, env=_env(project))
    if check:
        assert done.returncode == 0, f"make {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _stages(output):
    return sorted(stage for stage, report in LINE.findall(output))


def _digests(project):
    """SHA-256 of every table and page the build wrote."""
    files = sorted((project / "data" / "processed").glob("*/*.parquet")) + sorted((project / "reports").glob("*.html"))
    return {f.relative_to(project).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    if not (ROOT / ".venv" / ".setup-stamp").exists():
        pytest.skip("no .venv: run through `make test`, which sets it up")
    if shutil.which("make") is None:
        pytest.skip("GNU make is not installed")
    dest = tmp_path_factory.mktemp("project")
    _copy_project(dest)
    profile = dest / "notebooks" / "params" / "default.yaml"
    settings = yaml.safe_load(profile.read_text())
    for section, values in CHEAP.items():
        settings[section].update(values)
    profile.write_text(yaml.safe_dump(settings, sort_keys=False, allow_unicode=True))
    assert "rewritten" in _make(dest, "sync-params").stdout
    return dest


def test_make_reports_builds_every_stage_quietly(project):
    done = _make(project, "-j2", "reports")
    console = (done.stdout + done.stderr).splitlines()
    assert _stages(done.stdout) == sorted(STAGES)  # every stage once, coverage and news included
    assert len(console) < 40, "\n".join(console)
    assert console[-1].startswith("Built ") and console[-1].endswith("; open reports/index.html")
    assert "reports/us-iran-proxies.html" in console[-1]
    assert not any("encryption" in line or "papermill" in line for line in console)
    # the copy has no data/external/: the replication profile is skipped, and make says why
    assert "not building reports/israel-palestinians.html: its data are not here " \
           "(data/external/israel-palestinians/fatalities.csv;" in done.stdout
    for stage in STAGES:  # the commands and the kernels' output are in the logs
        log = (project / "data" / "processed" / "us-iran-proxies" / "logs" / f"{stage}.log").read_text()
        assert log.startswith(f"# stage {stage}, report us-iran-proxies") and "\npapermill notebooks/" in log

    html = (project / "reports" / "us-iran-proxies.html").read_text()
    for heading in ("The data", "Timeline", "Time to response", "Strike", "Provenance"):
        assert heading in html
    assert "data:image/png;base64" in html  # the timeline figure
    assert "sha256 data/raw/us-iran-proxies/events.csv" in html
    assert "def " not in html and "import pandas" not in html  # no code in the report
    index = (project / "reports" / "index.html").read_text()
    assert 'href="us-iran-proxies.html"' in index and 'href="us-iran-proxies--coverage.html"' in index
    coverage = (project / "reports" / "us-iran-proxies--coverage.html").read_text()
    for heading in ("Events per month", "Against the official running totals", "Known gaps"):
        assert heading in coverage

    news = (project / "reports" / "us-iran-proxies--news.html").read_text()
    for heading in ("Candidates", "The evidence behind each field", "Precision and recall", "Review",
                    "One event, several reports"):
        assert heading in news
    # the copy has no ../shared: the seed reports are said to be missing, without a local path
    assert "the <em>seed reports</em> set" in news and "../shared" not in news

    folder = project / "data" / "processed" / "us-iran-proxies"
    names = ("news_candidates", "news_merged", "load_counts", "events", "excluded", "cycles", "permutation_null")
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in names}
    # the hand-made articles: every candidate reviewed; the three reports of the 8 Dec 2023
    # embassy attack (3, 14 and about 7 projectiles) merge with the curated row and keep each count
    assert set(tables["news_candidates"]["article_id"]) >= {"h01-green-zone-rockets.md", "h18-embassy-mortar-rounds.md"}
    embassy = tables["news_merged"].set_index("event_id").loc["usi-2023-12-08-2"]
    assert embassy["source"] == ("curated+news:h16-embassy-three-katyushas+news:h17-embassy-fourteen-rockets"
                                 "+news:h18-embassy-mortar-rounds")
    assert (embassy["munitions_min"], embassy["munitions_max"]) == (3, 14)
    curated = pd.read_csv(project / "data" / "raw" / "us-iran-proxies" / "events.csv")
    counts = tables["load_counts"].iloc[0]
    # every record of the curated file is accounted for
    assert counts["read"] == len(curated) == counts["accepted"] + counts["rejected"]
    assert len(tables["events"]) + len(tables["excluded"]) == counts["accepted"]
    # one cycles row per sided event
    assert len(tables["cycles"]) == tables["events"]["side"].notna().sum()
    draws = tables["permutation_null"].groupby(["direction", "statistic"]).size()
    assert draws.eq(CHEAP["cycles"]["n_permutations"]).all()  # the test profile ran


def test_second_build_does_nothing(project):
    assert _make(project, "-q", "reports", check=False).returncode == 0  # make agrees that everything is up to date
    dry = _make(project, "-n", "reports").stdout
    assert "analysis.build run" not in dry
    output = _make(project, "reports").stdout  # how long it takes: benchmarks/bench_build.py
    assert "Nothing to be done" in output and _stages(output) == []


def test_editing_plots_reruns_only_the_stages_importing_it(project):
    plots = project / "analysis" / "plots.py"
    stat = plots.stat()
    plots.touch()
    try:
        dry = _make(project, "-n", "reports").stdout
        rerun = sorted(re.findall(r"analysis\.build run \S+ notebooks/(\S+)\.ipynb", dry))
        # the pages that draw figures; not the Hawkes fit or the permutation null
        assert rerun == ["05-news-to-events", "11-dataset-coverage", "40-report"]
    finally:
        os.utime(plots, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _make(project, "-q", "reports", check=False).returncode == 0


def test_changing_window_days_rebuilds_only_what_depends_on_it(project):
    params = project / "notebooks" / "params" / "default.yaml"
    text = params.read_text()
    assert "  response: {}\n" in text  # the dyad spec's rule: a 30-day window
    params.write_text(text.replace("  response: {}\n", "  response: {window_days: 14}\n"))
    try:
        output = _make(project, "-j2", "reports").stdout
        # the cycles stage and what reads its tables (timing: cycles; reaction: the panel;
        # sensitivity: the response rule; escalation: cycles, panel, rates); not the events, the
        # Hawkes fit, the replications or the coverage report
        assert _stages(output) == ["cycles", "escalation", "reaction", "report", "sensitivity", "timing"]
        cycles = pd.read_parquet(project / "data" / "processed" / "us-iran-proxies" / "cycles.parquet")
        assert set(cycles["window_days"]) == {14}
    finally:
        params.write_text(text)
    assert _stages(_make(project, "-j2", "reports").stdout) == ["cycles", "escalation", "reaction", "report", "sensitivity",
                                                                "timing"]


def test_a_misspelt_parameter_stops_the_build_with_its_place_and_the_closest_key(project):
    variant = project / "notebooks" / "params" / "us-iran-proxies--typo.yaml"
    variant.write_text("cycles:\n  quiet_day: 14\n")
    try:
        done = _make(project, "reports", check=False)
    finally:
        variant.unlink()
    assert done.returncode != 0
    assert done.stderr.splitlines()[0] == (
        "error: notebooks/params/us-iran-proxies--typo.yaml: section 'cycles', key 'quiet_day' is not a parameter of "
        "notebooks/20-build-cycles.ipynb (stage 'cycles'); did you mean 'quiet_days'?")


def test_a_failing_stage_shows_the_cells_error_first(project):
    variant = project / "notebooks" / "params" / "us-iran-proxies--broken.yaml"
    variant.write_text("cycles:\n  response: {window_days: -1}\n")  # a bad value inside the response rule
    try:
        done = _make(project, "data/processed/us-iran-proxies--broken/cycles.parquet", check=False)
    finally:
        variant.unlink()
        shutil.rmtree(project / "data" / "processed" / "us-iran-proxies--broken")
    assert done.returncode != 0
    lines = done.stderr.splitlines()
    assert re.fullmatch(r"\[cycles\] us-iran-proxies--broken FAILED after \d+\.\d s", lines[0])
    assert lines[1] == ("  RuleError: notebooks/params/us-iran-proxies--broken.yaml: cycles.response: window_days must be at "
                        "least 1 day, got -1")
    assert lines[3] == "  full log: data/processed/us-iran-proxies--broken/logs/cycles.log"
    assert len(done.stdout.splitlines()) + len(lines) < 10


def test_a_lab_run_then_make_equals_a_clean_build(project):
    """Run a notebook as JupyterLab would (its own defaults, from the project root), then make:
    nothing make built changes, and a clean rebuild gives the same bytes."""
    before = _digests(project)
    pages = {p.name: p.read_bytes() for p in (project / "reports").glob("*.html")}
    lab = subprocess.run([str(project / ".venv" / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                          "--ExecutePreprocessor.kernel_name=escalation",
                          "--output-dir", str(project / "data" / "interim"),
                          "notebooks/20-build-cycles.ipynb"], cwd=project, capture_output=True, text=True,
                         env=_env(project))
    assert lab.returncode == 0, lab.stderr[-3000:]
    # the lab's own tables
    assert (project / "data" / "interim" / "lab" / "us-iran-proxies" / "cycles.parquet").is_file()
    assert _stages(_make(project, "-j2", "reports").stdout) == []
    assert _digests(project) == before
    _make(project, "clean")
    assert not (project / "reports" / "us-iran-proxies.html").exists()
    _make(project, "-j2", "reports")
    rebuilt = _digests(project)
    assert sorted(rebuilt) == sorted(before)
    for name, digest in before.items():
        if rebuilt[name] != digest:
            page = pages.get(name.removeprefix("reports/"))
            detail = _first_difference(page, (project / name).read_bytes()) if page is not None else ""
            pytest.fail(f"{name} differs after a clean rebuild\n{detail}")


def _first_difference(before: bytes, after: bytes, context: int = 3) -> str:
    """The changed lines of two builds of a page (a unified diff, cut short), not pytest's byte dump."""
    diff = difflib.unified_diff(before.decode(errors="replace").splitlines(),
                                after.decode(errors="replace").splitlines(),
                                "first build", "clean rebuild", n=context, lineterm="")
    return "\n".join(line[:300] for line in itertools.islice(diff, 80))
