"""Simulators reproduce their parameters, and the pairing recovers them (tolerances stated)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.cycles import build_cycles
from analysis.permutation import permutation_test
from analysis.response import ResponseRule
from analysis.simulate import hawkes, hawkes_expected_counts, tit_for_tat


@pytest.fixture(scope="module")
def big():
    # ~2,000 spontaneous events per side over 80,000 days (to year 2239), plus their responses
    return tit_for_tat(days=80_000, base_rate=(0.025, 0.025), p_respond=(0.6, 0.3), delay_mean=(3.0, 4.0), seed=11)


def test_same_seed_same_table_other_seed_other_table():
    a = tit_for_tat(days=500, seed=5)
    pd.testing.assert_frame_equal(a, tit_for_tat(days=500, seed=5))
    assert not a.equals(tit_for_tat(days=500, seed=6))


def test_ground_truth_matches_the_parameters(big):
    parent_side = big["parent_id"].map(big.set_index("event_id")["side"])
    for side, p in (("A", 0.6), ("B", 0.3)):
        share = big.loc[big["side"] == side, "event_id"].isin(big["parent_id"]).mean()
        # binomial standard error with n > 2,000 is below 0.011: allow 4 of them
        assert share == pytest.approx(p, abs=0.045)
    delays = (big["date"] - big["parent_id"].map(big.set_index("event_id")["date"])).dt.days
    # geometric delays on 1, 2, ...: mean 3 -> median 2 (P(X<=1) = 0.33, P(X<=2) = 0.56);
    # mean 4 -> median 3 (P(X<=2) = 0.44, P(X<=3) = 0.58): each 4+ standard errors from 0.5
    assert delays[parent_side == "A"].median() == 2
    assert delays[parent_side == "B"].median() == 3


def test_pairing_recovers_response_probability_and_median_delay(big):
    end = big["date"].max()
    cycles = build_cycles(big, window_days=15, study_end=end)
    null = permutation_test(big, ResponseRule(window_days=15, study_end=end), study_start=big["date"].min(), k_days=15,
                            n_draws=99, seed=1).summary.set_index(["direction", "statistic"])
    for side, other, p, median in (("A", "B", 0.6, 2), ("B", "A", 0.3, 3)):
        mine = cycles[(cycles["trigger_side"] == side) & (cycles["censor_reason"].fillna("") != "study_end")]
        answered = (~mine["censored"]).mean()
        # answers by chance (the circular-shift null) are removed: p_hat = (R - q) / (1 - q);
        # delays beyond 15 days are rare (P = (2/3)^15 = 0.002 for mean 3, 0.75^15 = 0.013 for mean 4)
        q = null.loc[(f"{side} -> {other}", "response_ratio"), "null_mean"]
        p_hat = (answered - q) / (1 - q)
        assert p_hat == pytest.approx(p, abs=0.05)
        # chance answers are short as often as long: the median may move by a day at most
        assert abs(mine.loc[~mine["censored"], "interval_days"].median() - median) <= 1


def test_permutation_p_value_is_small_under_tit_for_tat():
    events = tit_for_tat(days=3000, base_rate=(0.02, 0.02), p_respond=(0.6, 0.3), delay_mean=(3, 5), seed=1)
    rule = ResponseRule(window_days=30, study_end=pd.Timestamp("2020-01-01") + pd.Timedelta(days=2999))
    result = permutation_test(events, rule, study_start="2020-01-01", k_days=7, n_draws=999, seed=3)
    p = result.summary.set_index(["direction", "statistic"])["p_value"]
    assert p[("A -> B", "response_ratio")] <= 0.01
    assert p[("A -> B", "median_interval")] <= 0.01


@pytest.mark.slow
def test_permutation_p_value_is_uniform_under_the_null():
    # 200 dyads of two independent Poisson processes (no response at all): the p-values of the
    # response ratio should be spread evenly over (0, 1]
    rng = np.random.default_rng(2024)
    start, days = pd.Timestamp("2020-01-01"), 2000
    p_values = []
    for i in range(200):
        n_a, n_b = rng.poisson(150), rng.poisson(150)
        frame = pd.DataFrame({
            "date": start + pd.to_timedelta(np.concatenate([rng.integers(0, days, n_a), rng.integers(0, days, n_b)]), unit="D"),
            "side": ["A"] * n_a + ["B"] * n_b,
        })
        frame["event_id"] = [f"e{j}" for j in range(len(frame))]
        frame["kind"] = "rocket"
        result = permutation_test(frame, ResponseRule(window_days=30, study_end=start + pd.Timedelta(days=days - 1)),
                                  study_start=start, k_days=7, n_draws=199, seed=i)
        p_values.append(result.summary.set_index(["direction", "statistic"]).loc[("A -> B", "response_ratio"), "p_value"])
    assert stats.kstest(p_values, "uniform").pvalue > 0.01
    assert 0.35 < np.mean(p_values) < 0.65


def test_hawkes_counts_match_the_stationary_expectation():
    mu, alpha = [0.1, 0.05], np.array([[0.2, 0.4], [0.3, 0.1]])
    events = hawkes(mu=mu, alpha=alpha, beta=0.5, horizon=20_000, seed=2)
    expected = hawkes_expected_counts(mu, alpha, 20_000)  # 3,667 and 2,333
    counts = events["side"].value_counts()
    # clustering inflates the variance; 6% is more than 4 standard errors at these counts
    assert counts["A"] == pytest.approx(expected[0], rel=0.06)
    assert counts["B"] == pytest.approx(expected[1], rel=0.06)
    # the date is the day of the event time
    assert (events["time_utc"].dt.normalize() == events["date"]).all()


def test_hawkes_refuses_an_explosive_branching_matrix():
    with pytest.raises(ValueError, match="spectral radius"):
        hawkes(mu=[0.1, 0.1], alpha=np.array([[0.6, 0.5], [0.5, 0.6]]), beta=1.0, horizon=10)
