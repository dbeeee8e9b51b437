"""The build's own logic: stages read from the Makefile, notebooks' parameters, the import graph,
profiles checked, the graph make includes, scrubbing and the index."""

import ast
import datetime as dt
import json
import os
import shutil
import subprocess

import nbformat
import pytest
import yaml

from analysis.build import scrub_run, write_index
from analysis.makegraph import _literal, sync_parameters, write_graph, write_stage_parameters
from analysis.stages import (
    DEFAULT_PROFILE,
    LAB,
    check_profile,
    code_dependencies,
    declared_parameters,
    lab_path,
    make_path,
    read_stages,
    section_settings,
    setting_names,
)
from tests.conftest import ROOT

STAGES = read_stages(ROOT)
DEFAULTS = yaml.safe_load((ROOT / DEFAULT_PROFILE).read_text())
DECLARED = {s.name: declared_parameters(s.notebook, ROOT) for s in STAGES}


# ---- stages and notebooks ---------------------------------------------------------------------

def test_every_notebook_is_a_stage_of_the_makefile():
    notebooks = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(s.notebook for s in STAGES) == notebooks
    # each stage reads its own profile section first; the news report also reads the events stage's dedup settings
    assert all(s.sections[0] == s.name for s in STAGES)
    assert {s.name: s.sections for s in STAGES}["news"] == ("news", "events")
    # every section of the default profile is read by a stage
    assert set(DEFAULTS) - {"common"} <= {sec for s in STAGES for sec in s.sections}


def test_read_stages_refuses_a_rule_without_its_own_section(tmp_path):
    (tmp_path / "Makefile").write_text("x := 1\n$(a_OUT): notebooks/a.ipynb \\\n  $(P)/params/b.yaml\n\t$(RUN)\n")
    with pytest.raises(ValueError, match=r"Makefile:2: stage 'a' must list \$\(P\)/params/a.yaml as its first"):
        read_stages(tmp_path)
    (tmp_path / "Makefile").write_text("$(a_OUT): notebooks/a.ipynb $(P)/params/a.yaml\n"
                                       "$(b_OUT): notebooks/a.ipynb $(P)/params/b.yaml\n")
    with pytest.raises(ValueError, match=r"Makefile:2: stage 'b' \(notebooks/a.ipynb\) repeats the rule on line 1"):
        read_stages(tmp_path)


def test_parameters_cells_equal_default_yaml():
    """The acceptance test of the lab: every setting a notebook declares has default.yaml's value."""
    for stage in STAGES:
        declared = DECLARED[stage.name]
        for section in ("common", *stage.sections):
            for key, value in (DEFAULTS.get(section) or {}).items():
                assert key in declared, f"{stage.notebook} lacks {section}.{key}: run `make sync-params`"
                assert declared[key] == value, f"{stage.notebook}: {key} = {declared[key]!r}, default.yaml: {value!r}"


def test_parameters_cells_are_what_sync_params_writes():
    assert sync_parameters(ROOT, check=True) == [], "run `make sync-params`"


def test_notebooks_write_to_the_lab_folder_and_read_the_build():
    for stage in STAGES:
        settings = setting_names(stage, DEFAULTS)
        for name, value in DECLARED[stage.name].items():
            if name.endswith("_out") and name not in settings:
                assert value.startswith(f"{LAB}/us-iran-proxies/"), f"{stage.notebook}: {name} = {value}"
            if name.endswith("_in") and name not in settings:
                assert value.startswith("data/processed/us-iran-proxies/"), f"{stage.notebook}: {name} = {value}"


def test_make_path_and_lab_path():
    kw = {"report": "x--w14", "profile": "notebooks/params/x--w14.yaml"}
    assert make_path("cycles_out", f"{LAB}/us-iran-proxies/cycles.parquet", **kw) == \
        "data/processed/x--w14/cycles.parquet"
    assert make_path("events_in", "data/processed/us-iran-proxies/events_undeduped.parquet", **kw) == \
        "data/processed/x--w14/events_undeduped.parquet"
    assert make_path("dyad_spec", "dyads/us-iran-proxies.yaml", **kw) == "dyads/x.yaml"  # the dyad, not the variant
    assert make_path("profile", DEFAULT_PROFILE, **kw) == "notebooks/params/x--w14.yaml"
    assert make_path("codebook", "data/raw/us-iran-proxies/README.md", **kw) == "data/raw/x/README.md"
    with pytest.raises(ValueError, match=r"'alpha' = 0\.05 is neither a setting of the profile nor a path"):
        make_path("alpha", 0.05, **kw)
    lab = f"{LAB}/us-iran-proxies"
    assert lab_path("cycles_out", "data/processed/us-iran-proxies/cycles.parquet") == f"{lab}/cycles.parquet"
    assert lab_path("review_template_out", "x/news_review_template.csv") == f"{lab}/news_review_template.csv"


@pytest.mark.parametrize("value", [None, True, 0, -3, 25.0, "a \"quoted\" é\nline", [], {}, [[1, 1], [2, 7]],
                                   {"k": {"folder": "a" * 60, "labels": "b" * 60}, "n": [1, 2]}])
def test_literal_round_trips(value):
    text = _literal(value, "here")
    assert ast.literal_eval(text) == value
    assert all(len(line) <= 110 for line in text.splitlines()) or len(text.splitlines()) == 1


def test_literal_refuses_an_unquoted_yaml_date():
    with pytest.raises(ValueError, match=r"here: datetime.date\(2020, 1, 3\) \(date\) cannot be a notebook parameter"):
        _literal(dt.date(2020, 1, 3), "here")


def test_declared_parameters_refuses_code(tmp_path):
    cell = nbformat.v4.new_code_cell("a = 1\nb = f(2)", metadata={"tags": ["parameters"]})
    nb = nbformat.v4.new_notebook(cells=[cell])
    nbformat.write(nb, tmp_path / "n.ipynb")
    with pytest.raises(ValueError, match=r"n.ipynb: parameters cell, line 2: the value of 'b' is not a literal"):
        declared_parameters(tmp_path / "n.ipynb")


# ---- the import graph --------------------------------------------------------------------------

def test_code_dependencies_follow_imports_lazy_imports_and_module_strings(tmp_path):
    pkg = tmp_path / "analysis"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from analysis.b import f\n")
    (pkg / "b.py").write_text("def f():\n    from . import c\n")  # a lazy, relative import
    (pkg / "c.py").write_text("LOADERS = {'x': 'analysis.sub.d:load'}\n")  # a registry read by import_module
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "d.py").write_text("import os\n")
    (pkg / "unused.py").write_text("import analysis.a\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%matplotlib inline\nfrom analysis import a")])
    nbformat.write(nb, tmp_path / "n.ipynb")
    # a -> b -> c (lazy) -> sub.d (by name); each package's __init__ runs; unused.py is not reached
    assert code_dependencies("n.ipynb", tmp_path) == [
        "analysis/__init__.py", "analysis/a.py", "analysis/b.py", "analysis/c.py", "analysis/sub/__init__.py",
        "analysis/sub/d.py"]


def test_only_the_stages_that_import_plots_depend_on_it():
    importers = sorted(s.name for s in STAGES if "analysis/plots.py" in code_dependencies(s.notebook, ROOT))
    assert importers == ["coverage", "news", "report"]  # the pages that draw figures (through analysis.render)
    # the events stage runs every loader, named in the registry analysis.sources.FORMATS
    assert "analysis/sources/news/rules.py" in code_dependencies("notebooks/10-build-events.ipynb", ROOT)


# ---- profiles ----------------------------------------------------------------------------------

def _check(tmp_path, text):
    (tmp_path / "notebooks" / "params").mkdir(parents=True, exist_ok=True)
    path = tmp_path / "notebooks" / "params" / "x.yaml"
    path.write_text(text)
    return check_profile("notebooks/params/x.yaml", STAGES, DECLARED, DEFAULTS, tmp_path)


def test_a_misspelt_key_names_the_profile_section_key_and_closest(tmp_path):
    message = (r"^notebooks/params/x.yaml: section 'cycles', key 'quiet_day' is not a parameter "
               r"of notebooks/20-build-cycles.ipynb \(stage 'cycles'\); did you mean 'quiet_days'\?$")
    with pytest.raises(ValueError, match=message):
        _check(tmp_path, "cycles:\n  quiet_day: 14\n")
    with pytest.raises(ValueError, match=r"unknown section\(s\) \['cycle'\].*did you mean 'cycles'\?"):
        _check(tmp_path, "cycle:\n  quiet_days: 14\n")
    # the keys of the response rule are checked when the rule is built (analysis.response), naming
    # the profile's section and key in the same way
    # a key of the response rule written directly in the section (as the README once showed):
    # the message says where it belongs, not the nearest setting of the section (rate_window_days)
    message = (r"^notebooks/params/x.yaml: section 'cycles', key 'window_days' is not a parameter of "
               r"notebooks/20-build-cycles.ipynb \(stage 'cycles'\); 'window_days' is a key of the response "
               r"rule: write it under 'cycles.response' \(response: \{window_days: 14\}\)$")
    with pytest.raises(ValueError, match=message):
        _check(tmp_path, "cycles:\n  window_days: 14\n")
    with pytest.raises(ValueError, match=r"key 'windw_days' .*'window_days' is a key of the response rule"):
        _check(tmp_path, "cycles:\n  windw_days: 14\n")
    with pytest.raises(ValueError, match=r"key 'events_in' is a path, which make passes itself,"):
        _check(tmp_path, "cycles:\n  events_in: x.parquet\n")
    with pytest.raises(ValueError, match=r"section 'cycles' repeats common key\(s\) \['seed'\]"):
        _check(tmp_path, "common: {seed: 1}\ncycles: {seed: 1}\nevents: {}\n")


def test_the_profiles_in_the_repository_pass():
    for profile in sorted((ROOT / "notebooks" / "params").glob("*.yaml")):
        check_profile(profile.relative_to(ROOT).as_posix(), STAGES, DECLARED, DEFAULTS, ROOT)


def test_stage_parameter_files_are_rewritten_only_when_they_change(tmp_path):
    settings = {"common": {"shared": 1}, "cycles": {"window_days": 30}, "report": {"highlight": {"a": "A"}}}
    out = tmp_path / "params"
    written = write_stage_parameters(settings, STAGES, "p.yaml", out)
    assert set(written) == {sec for s in STAGES for sec in s.sections} and all(written.values())
    assert "window_days: 30" in (out / "cycles.yaml").read_text()
    assert "shared: 1" in (out / "report.yaml").read_text()
    os.utime(out / "events.yaml", ns=(1, 1))  # an old file, to see whether it is rewritten
    settings["cycles"]["window_days"] = 14
    assert write_stage_parameters(settings, STAGES, "p.yaml", out) == {sec: sec == "cycles" for sec in written}
    assert (out / "events.yaml").stat().st_mtime_ns == 1


# ---- the graph -----------------------------------------------------------------------------------

@pytest.fixture
def project(tmp_path):
    """The files the graph reads: Makefile, notebooks, profiles, specs, analysis/ and the raw data."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    for folder in ("notebooks", "dyads", "analysis", "data/raw"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _rules(graph_text):
    rules = {}
    for line in graph_text.splitlines():
        if ": " in line and not line.startswith("#") and ":=" not in line:
            targets, _, prereqs = line.partition(": ")
            for target in targets.split():
                rules[target] = prereqs.split()
    return rules


@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")
def test_a_skipped_report_asked_for_by_name_says_why(project):
    """`make reports/<report>.html` for a profile whose data are absent used to run its stages
    without their inputs and fail with "notebooks/20-build-cycles.ipynb reads dyads/x.yaml
    (dyad_spec), which the stage's rule (Makefile line 110) does not list"."""
    write_graph("data/processed/graph.mk", project)
    for target in ("reports/israel-palestinians.html", "data/processed/israel-palestinians/cycles.parquet"):
        done = subprocess.run(["make", "-f", "data/processed/graph.mk", target], cwd=project, capture_output=True,
                              text=True)
        assert done.returncode != 0
        assert done.stderr.splitlines()[0] == (
            "error: cannot build reports/israel-palestinians.html: its data are not here "
            "(data/external/israel-palestinians/fatalities.csv; dyads/israel-palestinians.yaml and "
            "data/external/README.md say how to get them)")


def test_graph_names_each_reports_inputs_and_skips_a_profile_without_data(project):
    spec = project / "dyads" / "us-iran-proxies.yaml"
    (project / "dyads" / "extra").mkdir()
    # a source outside data/{raw,external}/<dyad>/
    (project / "dyads" / "extra" / "more.csv").write_text("date,actor\n")
    entry = "  - {format: table, path: dyads/extra/more.csv, column_map: {}}\n"
    spec.write_text(spec.read_text().replace("sources:\n", "sources:\n" + entry))
    reports, changed = write_graph("data/processed/graph.mk", project)
    assert changed
    assert [(r.name, r.skipped is None) for r in reports] == [("us-iran-proxies", True), ("israel-palestinians", False)]
    assert "data/external/israel-palestinians/fatalities.csv" in reports[1].skipped
    text = (project / "data" / "processed" / "graph.mk").read_text()
    assert "REPORT_NAMES := us-iran-proxies\n" in text and "SKIPPED := israel-palestinians\n" in text
    assert "cycles_CODE := analysis/__init__.py analysis/cycles.py analysis/dyads.py" in text
    rules = _rules(text)
    events = rules["data/processed/us-iran-proxies/rejects.parquet"]
    assert {"dyads/extra/more.csv", "data/raw/us-iran-proxies/events.csv", "dyads/us-iran-proxies.yaml",
            "dyads/gazetteers/us-iran-proxies.csv"} <= set(events)
    # documentation and news articles are not event inputs
    assert not any(p.endswith(".md") or "/news/" in p for p in events)
    assert "notebooks/params/default.yaml" in rules["reports/us-iran-proxies.html"]  # the report's provenance reads it
    news = rules["reports/us-iran-proxies--news.html"]
    assert "data/raw/us-iran-proxies/news/reviews.csv" in news
    assert "data/raw/us-iran-proxies/news/articles/h01-green-zone-rockets.md" in news
    # the per-section parameter files of the built report; a second run changes nothing
    params = project / "data" / "processed" / "us-iran-proxies" / "params"
    assert sorted(p.name for p in params.iterdir()) == sorted(f"{s.name}.yaml" for s in STAGES)
    assert "response: {}\ntolerance: 0\nquiet_days: 7\n" in (params / "cycles.yaml").read_text()
    assert not (project / "data" / "processed" / "israel-palestinians").exists()
    assert write_graph("data/processed/graph.mk", project)[1] is False


def test_graph_refuses_a_misspelt_profile(project):
    (project / "notebooks" / "params" / "us-iran-proxies--w14.yaml").write_text("cycles:\n  k_day: 14\n")
    with pytest.raises(ValueError, match=r"--w14\.yaml: section 'cycles', key 'k_day'.*'k_days'"):
        write_graph("data/processed/graph.mk", project)


# ---- scrub and index -----------------------------------------------------------------------------

def test_scrub_run_removes_clock_values(tmp_path):
    path = tmp_path / "run.ipynb"
    nb = {
        "cells": [{"cell_type": "code", "metadata": {"execution": {"iopub.status.busy": "2026-01-01T00:00"},
                   "papermill": {"duration": 1.5, "start_time": "x", "end_time": "y", "status": "completed",
                                 "exception": False}},
                   "source": "", "execution_count": 1, "outputs": [], "id": "3f9a1c"}],
        "metadata": {"papermill": {"start_time": "x", "end_time": "y", "duration": 3.2, "parameters": {"a": 1}}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb))
    scrub_run(path, title="t")
    text = path.read_text()
    for word in ("start_time", "end_time", "duration", "iopub", "status"):
        assert word not in text
    out = json.loads(text)
    assert out["metadata"]["papermill"] == {"parameters": {"a": 1}}
    assert out["metadata"]["title"] == "t"
    assert out["cells"][0]["id"] == "cell-00"  # papermill's random id replaced


def test_scrub_run_joins_a_stream_cut_in_two(tmp_path):
    """Two prints either side of a slow step: one stdout output on one run, two on another (the
    kernel flushes on a timer). After scrubbing, both runs hold the same single output."""
    def cell(outputs):
        return {"cell_type": "code", "metadata": {}, "source": "", "execution_count": 1, "id": "x", "outputs": outputs}

    def stream(name, text):
        return {"output_type": "stream", "name": name, "text": text}

    table = {"output_type": "display_data", "data": {"text/plain": "t"}, "metadata": {}}
    one = [stream("stdout", "29 in scope\n309 + 29 -> 311\n"), table]
    two = [stream("stdout", ["29 in scope\n"]), stream("stdout", "309 + 29 -> 311\n"), table,
           stream("stderr", "w1\n"), stream("stdout", "after\n"), stream("stderr", "w2\n"), stream("stderr", ["w3\n"])]
    texts = []
    for i, outputs in enumerate((one, two)):
        path = tmp_path / f"run{i}.ipynb"
        path.write_text(json.dumps({"cells": [cell(outputs)], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
        scrub_run(path)
        texts.append(nbformat.read(path, as_version=4).cells[0].outputs)  # texts read back as whole strings
    assert texts[0] == [stream("stdout", "29 in scope\n309 + 29 -> 311\n"), table]
    # joined only where the same stream runs on; a table or another stream in between keeps them apart
    assert texts[1] == [stream("stdout", "29 in scope\n309 + 29 -> 311\n"), table, stream("stderr", "w1\n"),
                        stream("stdout", "after\n"), stream("stderr", "w2\nw3\n")]


def test_index_links_every_report(tmp_path):
    (tmp_path / "b-dyad.html").write_text("<html><head><title>B report</title></head></html>")
    (tmp_path / "a-dyad--w14.html").write_text("<html><head><title>A variant</title></head></html>")
    index = write_index(tmp_path).read_text()
    assert index.index('href="a-dyad--w14.html"') < index.index('href="b-dyad.html"')
    assert "B report" in index and "index.html" not in index.split("<ul>")[1]


def test_section_settings_layer_the_profile_on_default_yaml(tmp_path):
    (tmp_path / "notebooks" / "params").mkdir(parents=True)
    (tmp_path / "notebooks" / "params" / "default.yaml").write_text("common: {}\ntiming: {alpha: 0.05, flags: {}}\n")
    (tmp_path / "notebooks" / "params" / "x.yaml").write_text("timing: {alpha: 0.1}\n")
    # the report of profile x reads the timing stage's alpha as that stage ran: 0.1 from x, flags from default.yaml
    assert section_settings("notebooks/params/x.yaml", "timing", tmp_path) == {"alpha": 0.1, "flags": {}}
    assert section_settings("notebooks/params/default.yaml", "timing", tmp_path)["alpha"] == 0.05


def test_no_import_cycle_in_the_package():
    """Module-level imports between analysis/ modules form no cycle (a lazy import inside a
    function is how a module may use one that imports it)."""
    import ast as _ast

    graph = {}
    for path in sorted((ROOT / "analysis").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        deps = set()
        for node in _ast.parse(path.read_text()).body:  # top level only
            if isinstance(node, _ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("analysis"):
                deps.add(node.module)
            elif isinstance(node, _ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("analysis"))
        graph[name] = deps
    state = {}

    def visit(name, trail):
        if state.get(name) == "done" or name not in graph:
            return
        assert state.get(name) != "open", f"import cycle: {' -> '.join([*trail, name])}"
        state[name] = "open"
        for dep in sorted(graph[name]):
            visit(dep, [*trail, name])
        state[name] = "done"

    for name in sorted(graph):
        visit(name, [])
    assert "analysis.newsreview" in graph["analysis.sources.news"]  # the loader reviews at import time now


def test_a_profile_that_is_not_yaml_is_named_with_its_line_and_column(tmp_path, monkeypatch, capsys):
    """A YAML syntax error in a profile or spec stopped make with a Python traceback."""
    import analysis.makegraph
    from analysis.build import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "notebooks" / "params").mkdir(parents=True)
    bad = tmp_path / "notebooks" / "params" / "x--y.yaml"
    bad.write_text("cycles:\n  quiet_days: 7\n   k_days: 3\n")  # one space too many on line 3

    def write_graph(out):
        with bad.open() as fh:  # as the graph reads a profile: the stream names its file
            return yaml.safe_load(fh)

    monkeypatch.setattr(analysis.makegraph, "write_graph", write_graph)
    assert main(["graph", "graph.mk"]) == 1
    assert capsys.readouterr().err == ("error: notebooks/params/x--y.yaml, line 3, column 10: not valid YAML: "
                                       "mapping values are not allowed here\n")
