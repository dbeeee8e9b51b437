import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.cycles import build_cycles
from analysis.permutation import DegenerateTestWarning, permutation_test, response_ratio
from analysis.response import ResponseRule
from analysis.simulate import dense_dyad
from tests.conftest import make_events

D = pd.Timestamp("2020-01-01")


def day(n):
    return D + pd.Timedelta(days=n - 1)


def _by_hand():
    return make_events(
        [
            ("a1", day(1), "A", "rocket"),  # B on day 3: followed within 7 days
            ("b3", day(3), "B", "airstrike"),
            ("a10", day(10), "A", "rocket"),  # next B on day 20: not within 7
            ("b20", day(20), "B", "airstrike"),
            ("a20", day(20), "A", "rocket"),  # same day as b20: counts only with ties="include"
            ("a28", day(28), "A", "rocket"),  # follow-up runs past the study end (day 30): left out
        ]
    )


def test_response_ratio_by_hand():
    rule = ResponseRule(window_days=30, study_end=day(30))
    table = response_ratio(_by_hand(), rule, k_days=7).set_index("from_side")
    assert table.loc["A", ["triggers", "followed"]].tolist() == [3, 1]
    assert table.loc["A", "ratio"] == pytest.approx(1 / 3)
    # B: b3 -> a10 (7 days: counts), b20 -> a28 (8 days: does not); b20 and a20 same day
    assert table.loc["B", ["triggers", "followed"]].tolist() == [2, 1]
    incl = response_ratio(_by_hand(), rule.replace(ties="include"), k_days=7).set_index("from_side")
    assert incl.loc["A", "followed"] == 2 and incl.loc["B", "followed"] == 2


def test_response_ratio_follows_the_rule_response_kinds_included():
    # the ratio and the cycles table use one rule: with response_kinds, both count only those kinds
    events = make_events([("a1", day(1), "A", "rocket"), ("b2", day(2), "B", "other"), ("b5", day(5), "B", "airstrike")])
    rule = ResponseRule(window_days=30, study_end=day(60), response_kinds=["airstrike"])
    cycles = build_cycles(events, rule).set_index("trigger_id")
    assert cycles.loc["a1", "response_id"] == "b5"  # b2 is not an eligible answer
    ratio = response_ratio(events, rule, k_days=3).set_index("from_side")
    assert ratio.loc["A", "followed"] == 0  # b5 comes after 4 days; b2 does not count
    assert response_ratio(events, rule, k_days=4).set_index("from_side").loc["A", "followed"] == 1


def test_response_ratio_equals_the_share_computed_from_the_cycles_table():
    rng = np.random.default_rng(11)
    for seed in range(30):
        n = int(rng.integers(5, 80))
        events = make_events([(f"e{i}", day(int(d)), "AB"[int(s)], "rocket") for i, (d, s) in
                              enumerate(zip(rng.integers(1, 90, n), rng.integers(0, 2, n)))])
        rule = ResponseRule(window_days={"A": int(rng.integers(5, 20)), "B": int(rng.integers(5, 20))},
                            ties=["exclude", "include"][seed % 2], matching=["many_to_one", "one_to_one"][seed % 3 % 2],
                            own_event_ends_wait=bool(seed % 3 == 0), study_end=day(90))
        k = int(rng.integers(0, 5))
        cycles = build_cycles(events, rule)
        full = cycles["trigger_date"] + pd.to_timedelta(k, unit="D") <= day(90)
        followed = ~cycles["censored"] & (cycles["interval_days"] <= k)
        ratio = response_ratio(events, rule, k_days=k).set_index("from_side")
        for side in ("A", "B"):
            mine = full & (cycles["trigger_side"] == side)
            if mine.any():
                assert ratio.loc[side, "ratio"] == pytest.approx((followed & mine).sum() / mine.sum())


def test_response_ratio_refuses_a_horizon_beyond_the_window():
    with pytest.raises(ValueError, match=r"k_days \(14\) is longer than the response window of side 'A' \(7 days\)"):
        response_ratio(_by_hand(), ResponseRule(window_days={"A": 7, "B": 30}, study_end=day(30)), k_days=14)


def test_permutation_observed_values_match_the_direct_computation_and_are_seeded():
    rng = np.random.default_rng(0)
    rows = [(f"e{i}", day(int(d)), "AB"[i % 2], "rocket") for i, d in enumerate(rng.integers(1, 366, 120))]
    events = make_events(rows)
    rule = ResponseRule(window_days=30, study_end=day(365))
    first = permutation_test(events, rule, study_start=day(1), k_days=7, n_draws=50, seed=9)
    pd.testing.assert_frame_equal(first.null, permutation_test(events, rule, study_start=day(1), k_days=7, n_draws=50,
                                                               seed=9).null)
    direct = response_ratio(events, rule, k_days=7).set_index("from_side")["ratio"]
    observed = first.summary.set_index(["direction", "statistic"])["observed"]
    assert observed[("A -> B", "response_ratio")] == pytest.approx(direct["A"])
    assert observed[("B -> A", "response_ratio")] == pytest.approx(direct["B"])
    assert set(first.null["shift_days"]) <= set(range(1, 365))
    # a p-value is (1 + draws at least as extreme) / (1 + draws)
    null = first.null.query("direction == 'A -> B' and statistic == 'response_ratio'")["value"]
    expected = (1 + (null >= observed[("A -> B", "response_ratio")]).sum()) / 51
    assert first.summary.set_index(["direction", "statistic"]).loc[("A -> B", "response_ratio"), "p_value"] == expected


def test_chunks_and_workers_do_not_change_the_null():
    # the same seeded draws whether paired one at a time, all at once, or in two worker processes
    from analysis.cycles import prepare_events
    from analysis.permutation import _Directions

    rng = np.random.default_rng(5)
    events = make_events([(f"e{i}", day(int(d)), "AB"[i % 3 % 2], "rocket") for i, d in enumerate(rng.integers(1, 200, 300))],
                         time_utc=pd.Series(pd.to_datetime(["2020-01-01 03:00"] * 300)).where(rng.random(300) < 0.3)
                         .to_numpy(dtype="datetime64[ns]"))
    events["time_utc"] = events["date"] + pd.to_timedelta(rng.integers(0, 20, 300), unit="h").where(events["time_utc"].notna())
    rule = ResponseRule(window_days={"A": 9, "B": 20}, ties="include", own_event_ends_wait=True, study_end=day(200))
    directions = _Directions(prepare_events(events, rule), rule, 5)
    shifts = np.random.default_rng(1).integers(1, 200, 23)
    kwargs = {"start_day": int(day(1).to_datetime64().astype("datetime64[D]").astype(np.int64)), "span_days": 200}
    whole = directions.shifted("B", shifts, **kwargs)
    for other in (directions.shifted("B", shifts, chunk_events=1, **kwargs), directions.shifted("B", shifts, n_jobs=2,
                                                                                                chunk_events=3000, **kwargs)):
        for side in ("A", "B"):
            np.testing.assert_array_equal(whole[side][0], other[side][0])
            np.testing.assert_array_equal(whole[side][1], other[side][1])


def test_each_null_draw_is_the_pairing_of_the_shifted_events():
    # draw i of the null equals build_cycles on B's dates shifted by that draw's shift, wrapped
    rng = np.random.default_rng(3)
    events = make_events([(f"e{i}", day(int(d)), "AB"[i % 2], "rocket") for i, d in enumerate(rng.integers(1, 61, 40))])
    rule = ResponseRule(window_days={"A": 5, "B": 9}, study_end=day(60))
    result = permutation_test(events, rule, study_start=day(1), k_days=4, n_draws=5, seed=2)
    for draw in result.null.query("statistic == 'response_ratio'").itertuples():
        moved = events.copy()
        b = moved["side"] == "B"
        moved.loc[b, "date"] = day(1) + pd.to_timedelta((moved.loc[b, "date"] - day(1)).dt.days.add(draw.shift_days) % 60,
                                                        unit="D")
        side = draw.direction[0]
        assert draw.value == pytest.approx(response_ratio(moved, rule, k_days=4).set_index("from_side").loc[side, "ratio"])


def test_per_direction_windows_go_through_the_null():
    # the crash of the old null: a window per side, passed through to every draw
    events = make_events([("a1", day(1), "A", "rocket"), ("b3", day(3), "B", "airstrike"), ("a9", day(9), "A", "rocket")])
    rule = ResponseRule(window_days={"A": 2, "B": 10}, study_end=day(30))
    summary = permutation_test(events, rule, study_start=day(1), k_days=2, n_draws=20, seed=1).summary
    row = summary.set_index(["direction", "statistic"])
    # A's window is 2 days: a1 -> b3 after 2 days; B's 10: b3 -> a9 after 6 days
    assert row.loc[("A -> B", "median_interval"), "observed"] == 2.0 and row.loc[("B -> A", "median_interval"), "observed"] == 6.0
    assert row.loc[("A -> B", "response_ratio"), "window_days"] == 2 and row.loc[("B -> A", "response_ratio"),
                                                                                 "window_days"] == 10


def test_permutation_needs_events_inside_the_study():
    events = make_events([("a", day(5), "A", "rocket"), ("b", day(20), "B", "airstrike")])
    with pytest.raises(ValueError, match="within the study period"):
        permutation_test(events, ResponseRule(study_end=day(30)), study_start=day(10))


# --- a dense dyad: timing alone cannot answer; distance can -------------------------------------


@pytest.fixture(scope="module")
def dense():
    # A ~8 events a day, B ~130 a day in a 400 x 400 km box, for 60 days; B answers half of A's
    # events within 10 km and 1-3 days
    return dense_dyad(days=60, p_answer=0.5, seed=7)


def test_dense_dyad_without_a_distance_is_degenerate(dense):
    rule = ResponseRule(window_days=7, study_end=day(60))
    with pytest.warns(DegenerateTestWarning, match="by chance alone"):
        result = permutation_test(dense, rule, study_start=day(1), k_days=7, n_draws=49, seed=1)
    ratio = result.summary.query("statistic == 'response_ratio'").set_index("direction")
    # with ~130 B events a day every A event is "answered" the next day, and the null agrees
    assert ratio["degenerate"].all() and (ratio["null_low"] >= 0.95).all()
    assert ratio.loc["A -> B", "observed"] == 1.0 and ratio.loc["A -> B", "p_value"] == 1.0
    assert "cannot tell answers from background" in ratio.loc["A -> B", "degenerate_reason"]


def test_dense_dyad_within_10_km_finds_the_planted_answers(dense):
    rule = ResponseRule(window_days=3, max_distance_km=10, study_end=day(60))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateTestWarning)  # not degenerate within 10 km
        result = permutation_test(dense, rule, study_start=day(1), k_days=3, n_draws=199, seed=1)
    row = result.summary.set_index(["direction", "statistic"])
    assert row.loc[("A -> B", "response_ratio"), "p_value"] < 0.01
    # background B events within 10 km and 1-3 days of an A event: 130 / 160,000 km2 x pi 10^2 x 3
    # = 0.77 expected, so 1 - e^-0.77 = 0.54 by chance; planted answers to half: 1 - 0.5 x 0.46 = 0.77
    assert row.loc[("A -> B", "response_ratio"), "null_mean"] == pytest.approx(0.54, abs=0.04)
    assert row.loc[("A -> B", "response_ratio"), "observed"] == pytest.approx(0.77, abs=0.04)
    # B -> A: nothing planted
    assert row.loc[("B -> A", "response_ratio"), "p_value"] > 0.05


@pytest.mark.slow
def test_dense_null_p_values_are_uniform_without_answers():
    # 200 small dense dyads with no answering at all. The null is right when the observed
    # response ratio is exchangeable with its draws: then the randomised permutation p-value,
    # (#draws above + U x (1 + #draws equal)) / (1 + draws) with U uniform on (0, 1), is uniform
    # on (0, 1) - exactly, ties and few draws included - and the reported p-value
    # (1 + #draws at least as large) / (1 + draws) is its conservative upper end.
    rng = np.random.default_rng(0)
    randomised, reported = [], []
    rule = ResponseRule(window_days=3, max_distance_km=10, study_end=day(30))
    for seed in range(200):
        events = dense_dyad(days=30, rate=(10.0, 5.0), box_km=100.0, p_answer=0.0, seed=seed)
        result = permutation_test(events, rule, study_start=day(1), k_days=3, n_draws=19, seed=seed)
        observed = result.summary.set_index(["direction", "statistic"]).loc[("A -> B", "response_ratio")]
        draws = result.null.query("direction == 'A -> B' and statistic == 'response_ratio'")["value"].to_numpy()
        above, equal = (draws > observed["observed"]).sum(), (draws == observed["observed"]).sum()
        randomised.append((above + rng.uniform() * (1 + equal)) / (1 + len(draws)))
        reported.append(observed["p_value"])
    assert stats.kstest(randomised, "uniform").pvalue > 0.01
    assert 0.4 < np.mean(randomised) < 0.6
    assert np.all(np.array(reported) >= np.array(randomised))
