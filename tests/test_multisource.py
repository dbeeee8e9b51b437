"""Notebook 10 on a dyad spec that lists several real-format sources (the shared fixtures)."""

import textwrap

import pandas as pd
import pytest

from tests.conftest import ROOT, SHARED

pytestmark = pytest.mark.pipeline
FIX = SHARED / "fixtures"


def test_events_notebook_reads_every_listed_source(tmp_path):
    papermill = pytest.importorskip("papermill")
    acled, ucdp = FIX / "acled" / "acled_iraq_2024-01_excerpt.csv", FIX / "ucdp" / "ged_iraq_hdx.csv"
    if not (acled.exists() and ucdp.exists()):
        pytest.skip(f"shared fixtures not found at {FIX}")
    if not (ROOT / ".venv" / ".setup-stamp").exists():
        pytest.skip("no .venv: run through `make test`, which sets it up")
    spec = tmp_path / "iraq.yaml"
    spec.write_text(textwrap.dedent(
        f"""
        name: iraq-test
        period: {{start: 2014-01-01, end: 2024-12-31}}
        theatre: [Iraq]
        sides:
          government: {{actors: ['Government of Iraq', 'Military Forces of Iraq', 'Police Forces of Iraq']}}
          insurgents: {{actors: ['^IS$', 'Unidentified Armed Group']}}
        sources:
          - {{format: acled, path: {acled}}}
          - {{format: ucdp, path: {ucdp}}}
        """
    ))
    out = {name: tmp_path / f"{name}.parquet" for name in
           ("events", "rejects", "unmatched_actors", "excluded", "load_counts", "dedup_audit", "events_undeduped")}
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "10-build-events.ipynb"), str(tmp_path / "run.ipynb"),
        parameters={"dyad_spec": str(spec), **{f"{k}_out": str(v) for k, v in out.items()}},
        kernel_name="escalation", cwd=str(ROOT), progress_bar=False,
    )
    counts = pd.read_parquet(out["load_counts"]).set_index("source")
    assert counts["read"].tolist() == [20, 7473]  # ACLED excerpt rows; UCDP records (HXL row skipped)
    assert (counts["read"] == counts["accepted"] + counts["rejected"] + counts["filtered"] + counts["merged"]).all()
    events = pd.read_parquet(out["events"])
    audit = pd.read_parquet(out["dedup_audit"])
    excluded = pd.read_parquet(out["excluded"])
    # every accepted record is an event, outside the scope, or merged into another report
    assert counts["accepted"].sum() == len(events) + len(excluded) + (audit["role"] == "merged").sum()
    assert set(events["source"].str.split("+").explode()) == {"acled", "ucdp"}
    assert set(events["side"].dropna()) == {"government", "insurgents"}
