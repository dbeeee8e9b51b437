"""GDELT through the build: a throwaway dyad whose spec lists a GDELT source gets its report from
`make`, with the default (DuckDB) engine, in a temporary copy of the project.

The loader used to fail in every papermill kernel: DuckDB refuses any change to its progress-bar
setting inside Jupyter when ipywidgets is missing ("'ipywidgets' is missing, which is needed to
render progress bars in Jupyter"). The first test runs the loader in the project's kernel; the
second builds a whole report.

The GDELT file is synthetic, in GDELT 2.0's layout (61 tab-separated columns, no header): a
seeded bivariate Hawkes dyad (analysis.simulate.hawkes) of US forces (CAMEO actor code USA) and
Iraqi militias (IRQMIL) over two years, written one GDELT line per event, among lines the filter
leaves out on purpose and one line with an impossible date.
"""

import shutil
import subprocess
import textwrap

import numpy as np
import pandas as pd
import pytest

from analysis.sources.gdelt import COLUMNS
from tests.conftest import ROOT
from tests.test_pipeline import _copy_project, _make, _stages

DYAD = "gdelt-e2e"
KERNEL = "escalation"
CODES = ["183", "190", "193", "194", "195"]  # CAMEO: bombing, force, small arms, artillery, aerial


def _line(values: dict) -> str:
    return "\t".join(str(values.get(c, "")) for c in COLUMNS)


def gdelt_lines(seed: int = 7) -> tuple[list[str], dict]:
    """Synthetic GDELT 2.0 lines and what the loader must make of them.

    Returns
    -------
    lines, expected
        ``expected``: ``read`` (lines), ``dyad`` (lines of the dyad's events, in order),
        ``filtered`` (same-side fights and non-violent rows), ``bad_line`` (the impossible date).
    """
    from analysis.simulate import hawkes

    events = hawkes(mu=[0.12, 0.15], alpha=np.array([[0.2, 0.3], [0.35, 0.2]]), beta=0.4, horizon=730,
                    sides=("us", "militias"), start="2019-01-01", seed=seed)
    rng = np.random.default_rng(seed)
    actors = {"us": ("USA", "UNITED STATES", "USA"), "militias": ("IRQMIL", "MILITIA", "IRQ")}
    other = {"us": "militias", "militias": "us"}
    lines, dyad, filtered = [], [], 0
    for i, row in enumerate(events.itertuples()):
        day = row.date
        code = CODES[rng.integers(len(CODES))]
        a1, a2 = actors[row.side], actors[other[row.side]]
        lines.append(_line({
            "GLOBALEVENTID": 800_000_000 + 10 * i, "SQLDATE": day.strftime("%Y%m%d"), "MonthYear": day.strftime("%Y%m"),
            "Year": day.year, "FractionDate": round(day.year + day.day_of_year / 365, 4),
            "Actor1Code": a1[0], "Actor1Name": a1[1], "Actor1CountryCode": a1[2],
            "Actor2Code": a2[0], "Actor2Name": a2[1], "Actor2CountryCode": a2[2],
            "IsRootEvent": 1, "EventCode": code, "EventBaseCode": code, "EventRootCode": code[:2], "QuadClass": 4,
            "GoldsteinScale": -10.0, "NumMentions": 4, "NumSources": 1, "NumArticles": 4, "AvgTone": -5.5,
            "ActionGeo_Type": 4, "ActionGeo_FullName": "Baghdad, Baghdad, Iraq", "ActionGeo_CountryCode": "IZ",
            "ActionGeo_ADM1Code": "IZ07", "ActionGeo_Lat": 33.3386, "ActionGeo_Long": 44.3939,
            "DATEADDED": day.strftime("%Y%m%d") + "120000", "SOURCEURL": f"https://example.org/news/{i}",
        }))
        dyad.append(len(lines))
        fields = dict(zip(COLUMNS, lines[-1].split("\t")))
        if i % 10 == 5:  # a statement (CAMEO 010) between the sides: not a fight
            lines.append(_line({**fields, "GLOBALEVENTID": 800_000_001 + 10 * i, "EventCode": "010",
                                "EventBaseCode": "010", "EventRootCode": "01", "QuadClass": 1}))
            filtered += 1
        if i % 10 == 7:  # two militias fighting: both actors on one side
            lines.append(_line({**fields, "GLOBALEVENTID": 800_000_002 + 10 * i, "Actor1Code": "IRQMIL",
                                "Actor2Code": "IRQMIL"}))
            filtered += 1
    # an impossible date in a dyad row: quarantined with its line
    bad = dict(zip(COLUMNS, lines[dyad[3] - 1].split("\t")))
    lines.append(_line({**bad, "GLOBALEVENTID": 899_999_999, "SQLDATE": "20190231"}))
    return lines, {"read": len(lines), "dyad": dyad, "filtered": filtered, "bad_line": len(lines)}


def test_gdelt_lines_are_what_the_loader_reads(tmp_path):
    """The generator's own account (which lines are the dyad's) agrees with the loader."""
    from analysis.sources.gdelt import load_gdelt

    lines, expected = gdelt_lines()
    path = tmp_path / "events.export.CSV"
    path.write_text("".join(line + "\n" for line in lines))
    result = load_gdelt(path, actor_codes={"us": ["USA"], "militias": ["IRQMIL"]})
    assert result.read == expected["read"] and result.filtered == expected["filtered"]
    assert result.events["raw_row"].tolist() == expected["dyad"]
    assert result.rejects["raw_row"].tolist() == [expected["bad_line"]]
    assert result.rejects["reason"].iloc[0] == "cannot read date (expected YYYYMMDD)"
    assert len(expected["dyad"]) > 300  # enough for the models; 442 with this seed


def _kernel_ready():
    if not (ROOT / ".venv" / ".setup-stamp").exists():
        pytest.skip("no .venv: run through `make test`, which sets it up")


@pytest.mark.pipeline
def test_loader_runs_inside_the_projects_kernel(tmp_path):
    """The regression itself: load_gdelt in a papermill kernel, as make runs notebooks."""
    _kernel_ready()
    import nbformat
    import papermill

    lines, expected = gdelt_lines()
    path = tmp_path / "events.export.CSV"
    path.write_text("".join(line + "\n" for line in lines))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(textwrap.dedent(f"""\
        from analysis.sources.gdelt import load_gdelt
        result = load_gdelt({str(path)!r}, actor_codes={{"us": ["USA"], "militias": ["IRQMIL"]}})
        print(result.read, len(result.events), len(result.rejects))
        """))]
    nbformat.write(notebook, tmp_path / "in.ipynb")
    papermill.execute_notebook(str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"), kernel_name=KERNEL,
                               cwd=str(ROOT), progress_bar=False)
    outputs = nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[0].outputs
    printed = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
    assert printed.split() == [str(expected["read"]), str(len(expected["dyad"])), "1"]
    assert not [o for o in outputs if o.get("name") == "stderr"]  # no warning either (tqdm.auto's)


SPEC = f"""\
name: {DYAD}
title: Synthetic GDELT dyad (test)
description: A simulated exchange between US forces and Iraqi militias, written as GDELT 2.0 lines.
period: {{start: 2019-01-01, end: 2020-12-31}}
theatre: [Iraq]
response: {{window_days: 30}}
sides:
  us: {{label: US forces, color: "#1f4e79", actors: ['\\bUSA\\b']}}
  militias: {{label: Iraqi militias, color: "#b22222", actors: ['\\bIRQMIL\\b']}}
gdelt:
  actor_codes: {{us: [USA], militias: [IRQMIL]}}
sources:
  - format: gdelt
    path: data/external/{DYAD}/events.export.CSV
"""

# a tiny profile: few permutation and bootstrap draws, no sensitivity Hawkes refits
PROFILE = """\
common: {}
events:
  dedup: false
  date_tolerance_days: 1
  distance_km: 25.0
  source_priority: [gdelt]
cycles:
  response:
    window_days: 30
    ties: exclude
  quiet_days: 7
  k_days: 7
  n_permutations: 19
  seed: 1
  spacetime: null
  named_events: {}
  rate_window_days: 30
timing:
  alpha: 0.05
  covariate_columns: [fatalities]
  log1p_columns: [fatalities]
  flags: {}
  period_breaks: null
  cox_models: []
reaction:
  reaction_outcome: events
  family: poisson
  lag_windows: [[1, 1], [2, 7]]
  own_lags: [[1, 1], [2, 7]]
  time_effects: [dayofweek]
  hac_lags: 7
  var_outcome: events
  var_freq: D
  var_maxlags: 7
  var_lags: null
  irf_periods: 10
  seed: 1
hawkes:
  ties: jitter
  seed: 1
  n_bootstrap: 5
  study_end: null
replication: {}
sensitivity:
  windows: [7, 30]
  ties: [exclude]
  hawkes: false
  seed: 1
report:
  chains_drawn: 2
  highlight: {}
"""


@pytest.mark.pipeline
def test_make_builds_a_report_from_a_gdelt_source(tmp_path):
    _kernel_ready()
    if shutil.which("make") is None:
        pytest.skip("GNU make is not installed")
    project = tmp_path / "project"
    _copy_project(project)
    lines, expected = gdelt_lines()
    (project / "dyads" / f"{DYAD}.yaml").write_text(SPEC)
    (project / "notebooks" / "params" / f"{DYAD}.yaml").write_text(PROFILE)
    (project / "data" / "external" / DYAD).mkdir(parents=True)
    (project / "data" / "external" / DYAD / "events.export.CSV").write_text("".join(line + "\n" for line in lines))

    # `make reports` builds it (the report is one of its prerequisites); build only this one here,
    # the default dyad's are tested by test_pipeline.py
    planned = subprocess.run(["make", "-n", "reports"], cwd=project, capture_output=True, text=True, check=True).stdout
    assert f"run {DYAD} notebooks/40-report.ipynb" in planned
    output = _make(project, f"reports/{DYAD}.html")
    assert _stages(output) == sorted(["events", "cycles", "timing", "reaction", "hawkes", "replication", "sensitivity", "report"])

    processed = project / "data" / "processed" / DYAD
    counts = pd.read_parquet(processed / "load_counts.parquet").iloc[0]
    # every line accounted for: the dyad's events, the same-side and non-violent rows, one bad date
    assert (counts["source"], counts["read"], counts["accepted"], counts["rejected"], counts["filtered"]) == (
        f"data/external/{DYAD}/events.export.CSV", expected["read"], len(expected["dyad"]), 1, expected["filtered"])
    rejects = pd.read_parquet(processed / "rejects.parquet")
    assert rejects[["raw_row", "column", "value"]].values.tolist() == [[expected["bad_line"], "SQLDATE", "20190231"]]
    events = pd.read_parquet(processed / "events.parquet")
    assert len(events) == len(expected["dyad"]) and set(events["side"]) == {"us", "militias"}
    assert (events["source"] == "gdelt").all()
    html = (project / "reports" / f"{DYAD}.html").read_text()
    assert "Synthetic GDELT dyad (test)" in html and "data:image/png;base64" in html
    assert f"data/external/{DYAD}/events.export.CSV" in html  # the source, its counts and its hash
