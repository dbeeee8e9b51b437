"""analysis.heap: inside pages_kept the freed arrays of one draw serve the next (few page
faults); the results do not change."""

import resource
import warnings

import numpy as np
import pandas as pd
import pytest

from analysis import heap
from analysis.permutation import permutation_test
from analysis.response import ResponseRule
from tests.conftest import make_events


def _events(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("2015-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 3650, n)), unit="D")
    sides = rng.choice(["A", "B"], n, p=[0.2, 0.8])
    return make_events(list(zip([f"e{i}" for i in range(n)], days, sides, ["rocket"] * n)))


def _null(events, monkeypatch, kept: bool):
    """Minor page faults and the result of a 39-draw null, with or without pages kept."""
    if not kept:
        monkeypatch.setattr(heap, "_glibc", lambda: None)
    rule = ResponseRule(window_days=30, study_end=events["date"].max())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = permutation_test(events, rule, study_start=events["date"].min(), k_days=7, n_draws=39, seed=1, n_jobs=1)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    monkeypatch.undo()
    return faults, result


@pytest.mark.skipif(heap._glibc() is None, reason="not glibc: pages_kept does nothing here")
def test_the_null_reuses_its_pages_and_gives_the_same_draws(monkeypatch):
    events = _events(100_000)
    kept, with_pages = _null(events, monkeypatch, kept=True)
    plain, without = _null(events, monkeypatch, kept=False)
    # measured: 18,959 against 55,138 faults (each draw of 100,000 events faults its arrays in
    # again when glibc returns them on free; 60,768 in a fresh process). The plain run comes after
    # a block of pages kept, whose thresholds stay at glibc's largest dynamic ones; when the block
    # put them back to 128 KiB (until December 2026), the same plain run faulted 208,561 times
    assert kept < plain / 2
    pd.testing.assert_frame_equal(with_pages.null, without.null)
    pd.testing.assert_frame_equal(with_pages.summary, without.summary)
