"""End to end: `make reports` on a copy of the project, through papermill, on the default data.

Checks the build graph as a user meets it: a full build, a second build that does nothing, an
edit of `window_days` that reruns only the cycles and the report, and a clean rebuild that gives
identical tables and identical HTML.
"""

import difflib
import itertools
import os
import re
import shutil
import subprocess
import time

import pandas as pd
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.pipeline

# the default data only: user downloads under data/external (e.g. B'Tselem records) are not copied
SKIP = {".venv", ".git", "data/processed", "data/external", "reports", ".pytest_cache", "__pycache__"}
TABLES = ("events", "rejects", "unmatched_actors", "excluded", "load_counts", "dedup_audit", "events_undeduped", "cycles", "chains", "episodes",
          "pauses", "pause_enders", "panel", "response_ratio", "permutation_null", "rates", "coverage", "monthly",
          "news_candidates", "news_evidence", "news_scores", "news_merged", "news_merge_audit")


def _copy_project(dest):
    """Copy the project's sources, keeping modification times, and share its .venv."""
    for folder, dirs, files in os.walk(ROOT):
        rel = os.path.relpath(folder, ROOT)
        dirs[:] = [d for d in dirs if os.path.normpath(os.path.join(rel, d)) not in SKIP and d not in SKIP and not d.endswith(".egg-info")]
        os.makedirs(dest / rel, exist_ok=True)
        for name in files:
            shutil.copy2(os.path.join(folder, name), dest / rel / name)
    for folder in ("data/processed", "data/external", "reports"):
        (dest / folder).mkdir(parents=True, exist_ok=True)
    (dest / ".venv").symlink_to(ROOT / ".venv")


def _make(project, *targets):
    done = subprocess.run(["make", *targets], cwd=project, capture_output=True, text=True)
    assert done.returncode == 0, f"make {' '.join(targets)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _stages(output):
    return sorted(re.findall(r"^(events|cycles|timing|reaction|hawkes|replication|sensitivity|report|coverage|news) +->", output, flags=re.M))


def _tables(project):
    folder = project / "data" / "processed" / "us-iran-proxies"
    return {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    if not (ROOT / ".venv" / ".setup-stamp").exists():
        pytest.skip("no .venv: run through `make test`, which sets it up")
    if shutil.which("make") is None:
        pytest.skip("GNU make is not installed")
    dest = tmp_path_factory.mktemp("project")
    _copy_project(dest)
    return dest


def test_make_reports_builds_every_stage(project):
    output = _make(project, "reports")
    assert _stages(output) == sorted(["events", "coverage", "cycles", "timing", "reaction", "hawkes", "replication",
                                      "sensitivity", "report", "news"])
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
    for heading in ("Candidates", "The evidence behind each field", "Precision and recall", "Review", "One event, several reports"):
        assert heading in news
    # the copy has no ../shared: the seed reports are said to be missing, without a local path
    assert "the <em>seed reports</em> set" in news and "../shared" not in news

    tables = _tables(project)
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


def test_second_build_does_nothing(project):
    start = time.perf_counter()
    output = _make(project, "reports")
    elapsed = time.perf_counter() - start
    assert "Nothing to be done" in output and _stages(output) == []
    assert elapsed < 2.0


def test_changing_window_days_rebuilds_only_what_depends_on_it(project):
    params = project / "notebooks" / "params" / "default.yaml"
    text = params.read_text()
    assert "  window_days: 30\n" in text
    params.write_text(text.replace("  window_days: 30\n", "  window_days: 14\n"))
    try:
        output = _make(project, "reports")
        # the cycles stage and what reads its tables (timing: cycles; reaction: the panel);
        # not the events, the Hawkes fit, the replications or the coverage report
        assert _stages(output) == ["cycles", "reaction", "report", "timing"]
        assert set(_tables(project)["cycles"]["window_days"]) == {14}
    finally:
        params.write_text(text)
    assert _stages(_make(project, "reports")) == ["cycles", "reaction", "report", "timing"]


def test_clean_rebuilds_are_identical(project):
    pages = ("us-iran-proxies.html", "us-iran-proxies--coverage.html", "us-iran-proxies--news.html", "index.html")
    before_tables = _tables(project)
    before_html = {page: (project / "reports" / page).read_bytes() for page in pages}
    _make(project, "clean")
    assert not (project / "reports" / "us-iran-proxies.html").exists()
    _make(project, "reports")
    after_tables = _tables(project)
    for name in TABLES:
        assert before_tables[name].equals(after_tables[name]), name
    for page in pages:
        after = (project / "reports" / page).read_bytes()
        assert after == before_html[page], f"{page} differs after a clean rebuild:\n{_first_difference(before_html[page], after)}"


def _first_difference(before: bytes, after: bytes, context: int = 3) -> str:
    """The changed lines of two builds of a page (a unified diff, cut short), not pytest's byte dump."""
    diff = difflib.unified_diff(before.decode(errors="replace").splitlines(), after.decode(errors="replace").splitlines(),
                                "first build", "clean rebuild", n=context, lineterm="")
    return "\n".join(line[:300] for line in itertools.islice(diff, 80))


def test_make_passes_only_parameters_the_notebooks_declare(project):
    """Papermill injects any -p name silently: a misspelt one would leave the notebook writing to
    its default path. Every name make passes must be in the notebook's parameters cell."""
    import json

    import yaml

    dry = subprocess.run(["make", "-n", "-B", "reports"], cwd=project, capture_output=True, text=True).stdout
    commands = [line for line in dry.replace("\\\n", " ").splitlines() if "papermill" in line]
    assert len(commands) >= 10  # events, coverage, cycles, timing, reaction, hawkes, replication, sensitivity, report, news
    for line in commands:
        notebook = re.search(r"(notebooks/\S+\.ipynb)", line).group(1)
        cells = json.loads((project / notebook).read_text())["cells"]
        source = "".join("".join(c["source"]) for c in cells if "parameters" in c["metadata"].get("tags", []))
        declared = set(re.findall(r"^(\w+) =", source, flags=re.M))
        passed = set(re.findall(r"-p (\w+) ", line))
        for params_file in re.findall(r"-f (\S+)", line):  # the stage's section of the profile
            passed |= set(yaml.safe_load((project / params_file).read_text()) or {})
        assert passed <= declared, f"{notebook}: make passes undeclared {sorted(passed - declared)}"
