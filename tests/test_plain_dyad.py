"""A new dyad as the README's "Using your own data" describes it: two plain CSV files without an
actor column, one per side (date, latitude, longitude, type), a dyad spec and a profile, and
nothing else. `make reports/<dyad>.html` in a temporary copy of the project builds its report,
with the space-time section.

The files are simulated (:func:`analysis.simulate.dense_dyad`, small): a government army
strikes about 4 times a day and rebels shell about 30 times a day at random places in a
400 x 400 km box over 120 days; half of the army's strikes draw a planted answer from the rebels
within 10 km and 1-3 days. The truth to find: the space-time table's largest observed/expected
ratio is in the 0-10 km, 1-3 day band, army -> rebels. The raw type labels ("air raid",
"shelling"...) are turned into canonical kinds by the sources' ``kind_map``, and each file's
actor comes from its ``defaults``.
"""

import re
import shutil

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT
from tests.test_pipeline import STAGES, _copy_project, _make, _stages

pytestmark = pytest.mark.pipeline

DYAD = "plain-csv"
#: raw type labels of each side's file (case and spaces as a user's file might have them) and
#: the kind each must become
LABELS = {"army": {"air raid": "airstrike", "Air Raid": "airstrike", "drone attack": "drone_strike"},
          "rebels": {"shelling": "mortar", "Shelling ": "mortar", "rocket fire": "rocket"}}

# the dyad spec: the README's two-file example, with the response rule's distance limit
SPEC = f"""\
name: {DYAD}
title: Government army and rebels (simulated, two plain CSV files)
description: One CSV file per side with date, latitude, longitude and type; no actor column.
period: {{start: 2021-01-01, end: 2021-04-30}}
theatre: [Iraq]
response:
  window_days: 7
  max_distance_km: 10
sides:
  army: {{label: Government army, actors: ['Government army']}}
  rebels: {{label: Rebel fighters, actors: ['\\brebel']}}
sources:
  - {{format: table, path: data/external/{DYAD}/army.csv, source: army,
     defaults: {{actor: Government army}}, column_map: {{kind: type}},
     kind_map: {{"air raid": airstrike, "drone attack": drone_strike}}}}
  - {{format: table, path: data/external/{DYAD}/rebels.csv, source: rebels,
     defaults: {{actor: Rebel fighters}}, column_map: {{kind: type}},
     kind_map: {{shelling: mortar, "rocket fire": rocket}}}}
"""

# a cheap profile: few permutation draws, no Hawkes refits in the sensitivity grid, and the
# settings of default.yaml that name the default dyad's days, events and sides replaced (the
# README lists them)
PROFILE = """\
cycles:
  n_permutations: 49
  spacetime:
    distance_bands_km: [0, 10, 50, 100, 250]
    time_bands_days: [0, 3, 7, 14]
    n_draws: 49
    redraw: permute
  named_events: {}
timing:
  flags: {}
  period_breaks: null
  cox_models: []
hawkes:
  n_bootstrap: 10
escalation:
  its_sides: null
sensitivity:
  windows: [7, 14]
  hawkes: false
report:
  highlight: {}
"""


def write_files(folder, seed: int = 11) -> dict:
    """Write ``army.csv`` and ``rebels.csv`` from a simulated dense dyad; return the truth."""
    from analysis.simulate import dense_dyad

    events = dense_dyad(days=120, rate=(4.0, 30.0), p_answer=0.5, answer_km=10.0, answer_days=3,
                        sides=("army", "rebels"), start="2021-01-01", seed=seed)
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows, kinds = {}, {}
    for side, labels in LABELS.items():
        part = events[events["side"] == side]
        table = pd.DataFrame({"date": part["date"].dt.strftime("%Y-%m-%d"),
                              "latitude": part["latitude"].round(5), "longitude": part["longitude"].round(5),
                              "type": np.asarray(list(labels))[rng.integers(0, len(labels), len(part))]})
        table.to_csv(folder / f"{side}.csv", index=False)
        rows[side] = len(table)
        kinds[side] = table["type"].map(labels).value_counts().to_dict()
    return {"rows": rows, "kinds": kinds, "planted": int(events["planted"].sum())}


def _section(html: str, heading: str) -> str:
    """The HTML from the ``<h2>`` containing ``heading`` to the next ``<h2>``."""
    start = re.search(rf"<h2[^>]*>{re.escape(heading)}", html).start()
    end = html.find("<h2", start + 1)
    return html[start:end if end != -1 else len(html)]


def _rows(table_html: str) -> list[list[str]]:
    """The cells of an HTML table, row by row (header row included), as text."""
    rows = []
    for row in re.findall(r"<tr.*?>(.*?)</tr>", table_html, flags=re.S):
        cells = re.findall(r"<t[hd].*?>(.*?)</t[hd]>", row, flags=re.S)
        rows.append([re.sub(r"<.*?>", "", c).strip() for c in cells])
    return rows


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A copy of the project with the new dyad's files, spec and profile, after
    `make reports/<dyad>.html`: (project, console output, truth)."""
    if not (ROOT / ".venv" / ".setup-stamp").exists():
        pytest.skip("no .venv: run through `make test`, which sets it up")
    if shutil.which("make") is None:
        pytest.skip("GNU make is not installed")
    project = tmp_path_factory.mktemp("plain") / "project"
    _copy_project(project)
    truth = write_files(project / "data" / "external" / DYAD)
    (project / "dyads" / f"{DYAD}.yaml").write_text(SPEC)
    (project / "notebooks" / "params" / f"{DYAD}.yaml").write_text(PROFILE)
    # `make reports` builds it too; build only this report (the default dyad's are tested by
    # test_pipeline.py)
    output = _make(project, f"reports/{DYAD}.html").stdout
    return project, output, truth


def test_make_builds_the_report_of_the_new_dyad_only(built):
    project, output, _ = built
    # every stage but the two pages the dyad has no data for (official counts, news articles)
    assert _stages(output) == sorted(set(STAGES) - {"coverage", "news"})
    assert "us-iran-proxies" not in output
    assert (project / "reports" / f"{DYAD}.html").is_file()


def test_every_row_is_read_with_the_actor_and_kind_the_spec_gives(built):
    project, _, truth = built
    processed = project / "data" / "processed" / DYAD
    counts = pd.read_parquet(processed / "load_counts.parquet").set_index("source")
    for side, n in truth["rows"].items():
        row = counts.loc[f"data/external/{DYAD}/{side}.csv"]
        assert (row["read"], row["accepted"], row["rejected"], row["filtered"], row["merged"]) == (n, n, 0, 0, 0)
    events = pd.read_parquet(processed / "events.parquet")
    assert len(events) == sum(truth["rows"].values())
    # the actor from the file's defaults, the side from the spec's patterns
    assert events.groupby("side")["actor"].unique().map(list).to_dict() == {
        "army": ["Government army"], "rebels": ["Rebel fighters"]}
    # kinds from the kind_map (case and surrounding spaces ignored), raw labels kept (stripped)
    for side, kinds in truth["kinds"].items():
        assert events.loc[events["side"] == side, "kind"].value_counts().to_dict() == kinds
    assert set(events["source_type"]) == {label.strip() for labels in LABELS.values() for label in labels}
    # the report's load table says so: read = accepted for both files
    html = (project / "reports" / f"{DYAD}.html").read_text()
    for table in re.findall(r"<table.*?</table>", _section(html, "The data"), flags=re.S):
        rows = _rows(table)
        if rows and rows[0][:3] == ["source", "read", "accepted"]:
            shown = {r[0]: (r[1], r[2]) for r in rows[1:]}
            break
    else:
        pytest.fail("no load-count table in the section 'The data'")
    assert shown == {f"data/external/{DYAD}/{side}.csv": (str(n), str(n)) for side, n in truth["rows"].items()}


def test_the_response_rule_is_the_dyad_specs(built):
    """The profile has no cycles.response: the spec's response section is the rule."""
    project, _, _ = built
    rule = pd.read_parquet(project / "data" / "processed" / DYAD / "response_rule.parquet").set_index("key")["value"]
    assert (rule["window_days"], rule["max_distance_km"]) == ("7", "10.0")
    html = (project / "reports" / f"{DYAD}.html").read_text()
    assert "A response is the first event of the other side within 7 days; within 10 km of it" in html


def test_the_space_time_section_finds_the_planted_band(built):
    project, _, _ = built
    spacetime = pd.read_parquet(project / "data" / "processed" / DYAD / "spacetime.parquet")
    top = spacetime.loc[spacetime["ratio"].idxmax()]
    # the planted answers: army -> rebels, 0-10 km, 1-3 days
    assert (top["from_side"], top["to_side"], top["d_lo_km"], top["d_hi_km"], top["t_lo_days"], top["t_hi_days"]) == (
        "army", "rebels", 0, 10, 0, 3)
    # background alone: 30 rebel events a day in a 10 km disc of a 400 km box (pi 10^2 / 400^2 =
    # 0.2%) over 3 days, 0.18 per army strike; the planted answers add about 0.5 (221 answers to
    # 451 strikes with this seed): a ratio near (0.18 + 0.49) / 0.18 = 3.7
    assert 2.5 < top["ratio"] < 5 and top["p_value"] <= 0.05

    html = (project / "reports" / f"{DYAD}.html").read_text()
    section = _section(html, "Did they hit back near where they were hit?")
    assert "data:image/png;base64" in section  # the heat map
    tables = re.findall(r"<table.*?</table>", section, flags=re.S)
    assert tables, "no table in the space-time section"
    rows = _rows(tables[-1])
    assert {"direction", "observed", "expected", "ratio", "p"} <= set(rows[0])
    first = dict(zip(rows[0], rows[1]))  # the cells by ratio, the largest first
    assert first["direction"] == "Government army → Rebel fighters"
    assert float(first["ratio"]) == pytest.approx(top["ratio"], abs=1e-3)


def test_the_provenance_lists_every_setting_the_stages_ran_with(built):
    """The profile keeps only what it changes: the footer shows default.yaml's settings merged
    with it, and both files' checksums."""
    project, _, _ = built
    html = (project / "reports" / f"{DYAD}.html").read_text()
    rows = {r[0]: r[1] for table in re.findall(r"<table.*?</table>", _section(html, "Provenance"), flags=re.S)
            for r in _rows(table) if len(r) == 2}
    assert "'n_permutations': 49" in rows["parameter cycles"] and "'k_days': 7" in rows["parameter cycles"]
    assert "'alpha': 0.05" in rows["parameter timing"]  # default.yaml's, the profile's timing section has none
    assert {f"sha256 notebooks/params/{name}.yaml" for name in ("default", DYAD)} <= set(rows)
