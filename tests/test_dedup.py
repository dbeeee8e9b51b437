import pandas as pd
import pytest

from analysis.dedup import dedup_events, haversine_km
from tests.conftest import make_events


def reports():
    rows = [
        ("c1", "2020-01-01", "us", "airstrike"),  # curated: Al-Qaim, 19 killed
        ("a1", "2020-01-02", "us", "airstrike"),  # ACLED: "Al Qaim" a day later, 5 km away, 25 killed
        ("g1", "2020-01-01", "us", "airstrike"),  # GDELT: same name as c1, no coordinates, deaths unknown
        ("a2", "2020-01-01", "mil", "rocket"),  # other side: never merged with the US reports
        ("c2", "2020-01-01", "us", "airstrike"),  # a second curated strike at Al-Qaim the same day
        ("a3", "2020-01-05", "us", "airstrike"),  # four days later: too far apart
    ]
    return make_events(
        rows,
        source=["curated", "acled", "gdelt", "acled", "curated", "acled"],
        location=["Al-Qaim", "Al Qaim", "al-qaim", "Al-Qaim", "Al-Qaim", "Al-Qaim"],
        latitude=pd.array([34.37, 34.40, None, 34.37, None, 34.37], dtype="Float64"),
        longitude=pd.array([41.14, 41.10, None, 41.14, None, 41.14], dtype="Float64"),
        fatalities=pd.array([19, 25, None, 0, 2, 1], dtype="Int64"),
        url=["u1", "u2 u1", "u3", "u4", "u5", "u6"],
    )


def test_haversine_reference():
    # Baghdad (33.3152, 44.3661) to Erbil (36.1911, 44.0092): about 321 km
    assert haversine_km(33.3152, 44.3661, 36.1911, 44.0092) == pytest.approx(321, abs=2)


def test_clusters_merge_across_sources_only():
    result = dedup_events(reports(), date_tolerance_days=1, distance_km=25, prefer=["curated", "acled", "gdelt"])
    audit = result.audit.set_index("event_id")
    # c1, a1 (1 day, ~5 km) and g1 (same day, same name) are one event; c2 is curated too, so it
    # cannot join c1's cluster and stays apart; a2 is the other side; a3 is 4 days later
    assert audit["cluster_id"].to_dict() == {"c1": "c1", "a1": "c1", "g1": "c1", "a2": "a2", "c2": "c2", "a3": "a3"}
    assert audit.loc["a1", "role"] == "merged" and audit.loc["c1", "role"] == "kept"
    assert audit.loc["g1", "reason"] == "same side, 0 day(s) apart, same location"
    assert audit.loc["a1", "reason"].startswith("same side, 1 day(s) apart, ")
    assert audit.loc["a3", "reason"] == "no other report matched"
    merged = result.events.set_index("event_id")
    # the curated report is preferred: its 19 deaths, with the range 19-25 over the reports
    assert merged.loc["c1", ["fatalities", "fatalities_min", "fatalities_max", "cluster_size"]].tolist() == [19, 19, 25, 3]
    assert merged.loc["c1", "source"] == "acled+curated+gdelt"
    assert merged.loc["c1", "url"] == "u1 u2 u3"  # every URL once, in report order
    assert merged.loc["c1", "date"] == pd.Timestamp("2020-01-01")
    # rows in = rows out + rows merged
    assert len(reports()) == len(result.events) + (result.audit["role"] == "merged").sum()


def test_distance_limit():
    events = reports()
    far = dedup_events(events, date_tolerance_days=1, distance_km=1, prefer=["curated"])
    # 1 km: a1 (5 km away, other name) no longer joins; g1 still does by name
    assert far.audit.set_index("event_id").loc["a1", "cluster_id"] == "a1"
    assert far.audit.set_index("event_id").loc["g1", "cluster_id"] == "c1"


def test_nothing_to_merge_leaves_events_unchanged():
    events = make_events([("x", "2020-01-01", "us", "airstrike"), ("y", "2020-01-01", "us", "airstrike")],
                         source=["curated", "curated"], location=["A", "A"])
    result = dedup_events(events)
    assert result.events["event_id"].tolist() == ["x", "y"] and set(result.events["cluster_size"]) == {1}


def test_dedup_off_keeps_every_report():
    result = dedup_events(reports(), enabled=False)
    assert len(result.events) == len(reports()) and set(result.audit["reason"]) == {"dedup off"}
    assert (result.events["cluster_id"] == result.events["event_id"]).all()


# --- the blocked implementation against today's all-pairs one ------------------------------------


def _random_reports(seed: int, n: int) -> pd.DataFrame:
    """Reports crowded into a few days and places, so that every rule is exercised: several
    sources, both sides and none, names differing only in case and spaces, missing places and
    coordinates, points a few km apart, counts with and without ranges, repeated URLs."""
    import numpy as np

    rng = np.random.default_rng(seed)
    places = np.array(["Al-Qaim", "al-qaim ", "Erbil", "  ERBIL", "Baghdad", "", None], dtype=object)
    centres = np.array([[34.37, 41.14], [36.19, 44.01], [33.31, 44.37]])
    site = rng.integers(0, 3, n)
    jitter = rng.normal(0, 0.12, (n, 2))  # about 13 km: some within 25 km of each other, some not
    coords = centres[site] + jitter
    missing = rng.random(n) < 0.25
    rows = [(f"e{i:03d}", f"2020-01-{1 + int(d):02d}", s, "airstrike")
            for i, (d, s) in enumerate(zip(rng.integers(0, 4, n), rng.choice(["us", "mil", None], n, p=[0.45, 0.45, 0.1])))]
    events = make_events(
        rows,
        source=rng.choice(["curated", "acled", "gdelt", "ucdp"], n).tolist(),
        location=pd.array(places[rng.integers(0, len(places), n)], dtype="string"),
        latitude=pd.array(np.where(missing, np.nan, coords[:, 0]), dtype="Float64"),
        longitude=pd.array(np.where(missing, np.nan, coords[:, 1]), dtype="Float64"),
        fatalities=pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 30, n)), dtype="Int64"),
        url=rng.choice(["u1", "u2 u1", "u3", "", None, "u4  u4 ", "u5"], n).tolist(),
    )
    ranged = rng.random(n) < 0.1
    events["fatalities_min"] = pd.array(np.where(ranged, 0, None), dtype="Int64")
    events["fatalities_max"] = pd.array(np.where(ranged, 40, None), dtype="Int64")
    return events


@pytest.mark.parametrize("seed", range(12))
def test_identical_to_the_all_pairs_oracle(seed):
    from tests.dedup_oracle import dedup_events as oracle

    events = _random_reports(seed, 20 + 7 * seed)
    before = events.copy()
    for options in ({}, {"date_tolerance_days": 0, "distance_km": 5.0}, {"date_tolerance_days": 2, "distance_km": 40.0},
                    {"prefer": ["gdelt", "curated"]}, {"enabled": False}):
        ours, theirs = dedup_events(events, **options), oracle(events, **options)
        pd.testing.assert_frame_equal(ours.events, theirs.events)
        pd.testing.assert_frame_equal(ours.audit, theirs.audit)
    pd.testing.assert_frame_equal(events, before)  # input not modified
    merged = (dedup_events(events).audit["role"] == "merged").sum()
    assert merged > 0  # the tables do exercise the merging (checked for these seeds)


def test_one_source_forms_no_pairs():
    from analysis.dedup import _candidates

    events = make_events([(f"x{i}", "2020-01-01", "us", "airstrike") for i in range(200)],
                         source=["gdelt"] * 200, location=["Gaza"] * 200)
    # 200 reports of one source at one place on one day: 19,900 same-side pairs that the old
    # all-pairs table formed and discarded; none is a candidate now
    assert len(_candidates(events, 1, 25.0)["pos"]) == 0
    assert len(dedup_events(events).events) == 200
