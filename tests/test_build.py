import json
import os

import nbformat
import pytest

from analysis.build import STAGES, scrub_run, split_params, write_index

PROFILE = """\
common:
  shared: 1
events: {}
cycles:
  window_days: 30
report:
  highlight: {a: "A"}
"""


def test_split_params_rewrites_only_changed_stages(tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE)
    out = tmp_path / "params"
    assert split_params(profile, out) == {stage: True for stage in STAGES}
    assert "window_days: 30" in (out / "cycles.yaml").read_text()
    assert "shared: 1" in (out / "report.yaml").read_text()
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    os.utime(out / "events.yaml", ns=(1, 1))  # an old file, to see whether it is rewritten
    profile.write_text(PROFILE.replace("window_days: 30", "window_days: 14"))
    assert split_params(profile, out) == {stage: stage == "cycles" for stage in STAGES}
    assert (out / "events.yaml").stat().st_mtime_ns == 1
    assert (out / "report.yaml").stat().st_mtime_ns == mtimes["report.yaml"]
    assert "window_days: 14" in (out / "cycles.yaml").read_text()


def test_split_params_rejects_unknown_sections_and_clashes(tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_text("cycle:\n  window_days: 7\n")
    with pytest.raises(ValueError, match=r"unknown section\(s\) \['cycle'\]"):
        split_params(profile, tmp_path / "out")
    profile.write_text("common: {window_days: 7}\ncycles: {window_days: 7}\n")
    with pytest.raises(ValueError, match=r"section 'cycles' repeats common key\(s\) \['window_days'\]"):
        split_params(profile, tmp_path / "out")


def test_scrub_run_removes_clock_values(tmp_path):
    path = tmp_path / "run.ipynb"
    nb = {
        "cells": [{"cell_type": "code", "metadata": {"execution": {"iopub.status.busy": "2026-01-01T00:00"},
                   "papermill": {"duration": 1.5, "start_time": "x", "end_time": "y", "status": "completed", "exception": False}},
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
