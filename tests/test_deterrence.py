import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.deterrence import (
    ITS_OPTIONS,
    PlaceboWarning,
    SparseSegmentWarning,
    _design,
    _poisson_coef,
    check_its_options,
    check_named_days,
    interrupted_time_series,
    segmented_regression,
)

START = pd.Timestamp("2020-01-01")


def panel_of(rates_by_side, *, days, seed=0):
    """A daily panel (date, side, events) of Poisson counts with the given daily rates."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(START, periods=days, freq="D")
    frames = []
    for side, rate in rates_by_side.items():
        rate = np.broadcast_to(np.asarray(rate, dtype=float), (days,))
        frames.append(pd.DataFrame({"date": dates, "side": side, "events": rng.poisson(rate)}))
    return pd.concat(frames, ignore_index=True).sort_values(["date", "side"], kind="stable").reset_index(drop=True)


@pytest.mark.filterwarnings("ignore:Perfect separation or prediction:statsmodels.tools.sm_exceptions.PerfectSeparationWarning")
def test_noiseless_series_gives_back_its_parameters():
    # log E[y] = 1.0 + 0.002 t - 0.7 post - 0.004 t post, t = -90..-1, 1..90
    t = np.r_[np.arange(-90, 0), np.arange(1, 91)]
    truth = np.array([1.0, 0.002, -0.7, -0.004])
    y = np.exp(_design(t, None) @ truth)  # expected counts as data: the Poisson MLE is the truth
    fit = segmented_regression(y, t)
    np.testing.assert_allclose(fit["params"], truth, atol=1e-8)
    np.testing.assert_allclose([fit["level_change"], fit["slope_change"], fit["pre_trend"]], np.exp(truth[[2, 3, 1]]), rtol=1e-8)
    # the counterfactual carries the "before" line on: exp(1.0 + 0.002 t)
    np.testing.assert_allclose(fit["counterfactual"], np.exp(1.0 + 0.002 * t), rtol=1e-8)
    np.testing.assert_allclose(fit["fitted"], y, rtol=1e-8)


def test_fast_placebo_fit_equals_statsmodels():
    rng = np.random.default_rng(3)
    t = np.r_[np.arange(-60, 0), np.arange(1, 61)]
    X = _design(t, None)
    for _ in range(50):
        rate = rng.uniform(0.05, 4) * np.where(t > 0, rng.uniform(0.1, 3), 1.0)
        y = rng.poisson(rate).astype(float)
        if y[t < 0].sum() == 0 or y[t > 0].sum() == 0:
            continue
        oracle = sm.GLM(y, X, family=sm.families.Poisson()).fit().params
        np.testing.assert_allclose(_poisson_coef(y, X), oracle, atol=1e-7)
        assert segmented_regression(y, t, coef_only=True)["coef_level"] == pytest.approx(oracle[2], abs=1e-7)


def test_planted_level_drop_is_recovered():
    # side A: 2 events a day, halving the day after 1 Jan 2021; side B: 1 a day throughout
    days = 3 * 365
    named = START + pd.Timedelta(days=366)
    t = np.arange(days) - 366
    panel = panel_of({"A": np.where(t > 0, 1.0, 2.0), "B": 1.0}, days=days, seed=11)
    result = interrupted_time_series(panel, {"drop": named}, n_placebos=99, seed=5)
    a = result.summary.set_index("side").loc["A"]
    assert a["level_low"] < 0.5 < a["level_high"] and a["level_high"] < 1  # the planted rate ratio, and a drop
    assert a["slope_low"] < 1 < a["slope_high"]  # no slope change was planted
    assert a["placebo_p"] == pytest.approx(1 / 100)  # no placebo window drops as much
    b = result.summary.set_index("side").loc["B"]
    assert b["level_low"] < 1 < b["level_high"]
    assert (a["days_before"], a["days_after"]) == (90, 90)
    # the fitted table has both segments of each window, the named day left out
    window = result.fitted.loc[result.fitted["side"] == "A"]
    assert len(window) == 180 and (window["t"] != 0).all()
    assert len(result.placebos) == 2 * 99


def test_interval_covers_the_planted_drop_in_most_seeds():
    # 95% HAC intervals of the level change: coverage over 60 seeds (binomial sd ~ 2.8%)
    t = np.r_[np.arange(-90, 0), np.arange(1, 91)]
    rng = np.random.default_rng(2024)
    covered = 0
    for _ in range(60):
        y = rng.poisson(np.where(t > 0, 1.5, 3.0))
        fit = segmented_regression(y, t)
        covered += fit["level_low"] <= 0.5 <= fit["level_high"]
    assert covered >= 51  # 85%: HAC errors are a little liberal in windows of this length


@pytest.mark.slow
def test_no_effect_gives_placebo_p_above_005_in_90_of_100_seeds():
    # a long panel: with only a few non-overlapping windows the placebo null is lumpy (module notes)
    days = 3000
    named = {"nothing": START + pd.Timedelta(days=1500)}
    above = 0
    for seed in range(100):
        panel = panel_of({"A": 1.0}, days=days, seed=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = interrupted_time_series(panel, named, n_placebos=39, seed=seed)
        above += result.summary["placebo_p"].iloc[0] > 0.05
    # under no effect P(p <= 0.05) = 2/40 = 5%: about 95 of 100 expected
    assert above >= 90


def test_empty_after_segment_is_an_infinite_drop():
    days = 720
    t = np.arange(days) - 360
    panel = panel_of({"A": np.where((t > 0) & (t <= 90), 0.0, 1.0)}, days=days, seed=1)
    with pytest.warns(SparseSegmentWarning, match="no events in the after segment"):
        result = interrupted_time_series(panel, {"stop": START + pd.Timedelta(days=360)}, n_placebos=39, seed=0)
    row = result.summary.iloc[0]
    assert row["level_change"] == 0.0 and np.isnan(row["level_low"])
    # no placebo window of a rate-1 series is empty: only the observed one is this extreme
    assert row["placebo_p"] == pytest.approx(1 / 40) and row["events_after"] == 0


def test_a_lone_event_at_a_segment_end_has_no_finite_estimate():
    # after the named day: no event for 29 days, then one on day 30. The "after" segment's
    # likelihood grows without bound as its slope rises (all its mass on the last day)
    t = np.r_[np.arange(-30, 0), np.arange(1, 31)]
    y = np.where(t < 0, 1.0, 0.0)
    y[-1] = 1.0
    fit = segmented_regression(y, t)
    assert not fit["finite"] and np.isnan(fit["level_change"]) and np.isnan(fit["level_low"])
    # one event in the middle of the segment: a finite estimate, a drop
    y = np.where(t < 0, 1.0, 0.0)
    y[t == 15] = 1.0
    fit = segmented_regression(y, t)
    assert fit["finite"] and fit["level_change"] < 1
    events = np.insert(np.where(t < 0, 1, 0), 30, 0)
    panel = pd.DataFrame({"date": pd.date_range(START, periods=61), "side": "A", "events": events})
    panel.loc[60, "events"] = 1
    with pytest.warns(SparseSegmentWarning, match="no finite estimate"):
        row = interrupted_time_series(panel, {"x": START + pd.Timedelta(days=30)}, before_days=30, after_days=30,
                                      n_placebos=0).summary.iloc[0]
    assert np.isnan(row["level_change"]) and np.isnan(row["placebo_p"])
    # the lone event in the middle instead: an estimate, flagged sparse (1 < min_segment_events)
    panel.loc[60, "events"] = 0
    panel.loc[45, "events"] = 1
    with pytest.warns(SparseSegmentWarning, match="30 events before and 1 after; with fewer than 5"):
        row = interrupted_time_series(panel, {"x": START + pd.Timedelta(days=30)}, before_days=30, after_days=30,
                                      n_placebos=0).summary.iloc[0]
    assert row["sparse"] and row["level_change"] < 1


def test_one_sided_placebo_p():
    days = 3 * 365
    t = np.arange(days) - 366
    panel = panel_of({"A": np.where(t > 0, 4.0, 2.0)}, days=days, seed=2)  # a rise, not a drop
    named = {"rise": START + pd.Timedelta(days=366)}
    less = interrupted_time_series(panel, named, n_placebos=49, alternative="less", seed=0).summary.iloc[0]
    greater = interrupted_time_series(panel, named, n_placebos=49, alternative="greater", seed=0).summary.iloc[0]
    assert greater["placebo_p"] == pytest.approx(1 / 50) and less["placebo_p"] > 0.9


def test_negative_binomial_on_overdispersed_counts():
    rng = np.random.default_rng(8)
    days = 3 * 365
    t = np.arange(days) - 366
    mean = np.where(t > 0, 1.0, 2.0)
    counts = rng.poisson(mean * rng.gamma(shape=2.0, scale=0.5, size=days))  # NB2 with alpha = 0.5
    panel = pd.DataFrame({"date": pd.date_range(START, periods=days), "side": "A", "events": counts})
    row = interrupted_time_series(panel, {"drop": START + pd.Timedelta(days=366)}, family="negbin", n_placebos=0).summary.iloc[0]
    assert row["level_low"] < 0.5 < row["level_high"]
    assert 0.2 < row["alpha_nb"] < 1.0


def test_placebos_are_seeded_and_kept_away_from_named_days():
    days = 720
    panel = panel_of({"A": 1.0}, days=days, seed=4)
    named = {"x": START + pd.Timedelta(days=300), "y": START + pd.Timedelta(days=420)}
    # eligible: days 90..629, more than 180 days from days 300 and 420: 90..119 and 601..629
    one = interrupted_time_series(panel, named, n_placebos=20, seed=9)
    two = interrupted_time_series(panel, named, n_placebos=20, seed=9)
    pd.testing.assert_frame_equal(one.placebos, two.placebos)
    named_days = np.array(list(named.values()), dtype="datetime64[ns]")
    gaps = np.abs(np.subtract.outer(one.placebos["placebo_date"].to_numpy(), named_days))
    assert (gaps > np.timedelta64(180, "D")).all()  # no placebo window meets a named day's window
    first = one.placebos["placebo_date"].min() - START
    last = START + pd.Timedelta(days=days - 1) - one.placebos["placebo_date"].max()
    assert first >= pd.Timedelta(days=90) and last >= pd.Timedelta(days=90)


def test_few_placebo_dates_warn():
    panel = panel_of({"A": 1.0}, days=400, seed=0)
    # days 90..309 fit a whole window, but all are within 180 days of day 200
    with pytest.warns(PlaceboWarning) as record:
        interrupted_time_series(panel, {"x": START + pd.Timedelta(days=200)}, n_placebos=199)
    assert [str(w.message) for w in record] == [
        "x, side 'A': only 0 placebo dates are eligible (asked for 199)",
        "x, side 'A': 0 usable placebo fits; the placebo p-value cannot go below 1.000",
    ]


def test_panel_errors_are_plain():
    panel = panel_of({"A": 1.0}, days=400, seed=0)
    with pytest.raises(ValueError, match="outside the panel"):
        interrupted_time_series(panel, {"x": "2030-01-01"}, n_placebos=0)
    with pytest.raises(ValueError, match="panel skips 1 days for side 'A'"):
        interrupted_time_series(panel.drop(index=5), {"x": START + pd.Timedelta(days=200)}, n_placebos=0)
    with pytest.raises(ValueError, match=r"panel has no side\(s\) \['C'\]; its sides are \['A'\]"):
        interrupted_time_series(panel, {"x": START + pd.Timedelta(days=200)}, sides=["C"])
    with pytest.raises(ValueError, match="family must be one of"):
        interrupted_time_series(panel, {"x": START + pd.Timedelta(days=200)}, family="logit")
    with pytest.raises(ValueError, match="panel has no \\['fatalities'\\] column"):
        interrupted_time_series(panel, {"x": START + pd.Timedelta(days=200)}, outcome="fatalities")


def test_panel_is_not_modified():
    panel = panel_of({"A": 1.0, "B": 2.0}, days=800, seed=0)
    before = panel.copy()
    interrupted_time_series(panel, {"x": START + pd.Timedelta(days=400)}, n_placebos=19, seed=1)
    pd.testing.assert_frame_equal(panel, before)


def test_interrupted_series_figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis import plots

    days = 3 * 365
    t = np.arange(days) - 366
    panel = panel_of({"A": np.where(t > 0, 1.0, 2.0)}, days=days, seed=11)
    named = START + pd.Timedelta(days=366)
    result = interrupted_time_series(panel, {"drop": named}, n_placebos=0)
    fig = plots.interrupted_series(result.fitted, name="drop", side="A", freq=None)
    ax = fig.axes[0]
    window = result.fitted.loc[result.fitted["side"] == "A"]
    np.testing.assert_allclose(ax.collections[0].get_offsets()[:, 1], window["observed"])  # every day's count
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    # the counterfactual runs over the 90 days after only
    assert len(dashed) == 1 and len(dashed[0].get_xdata()) == 90
    vertical = [ln for ln in ax.lines if ln.get_linestyle() == ":"]
    assert pd.Timestamp(vertical[0].get_xdata()[0]) == named
    with pytest.raises(ValueError, match="no rows for 'drop' and side 'B'"):
        plots.interrupted_series(result.fitted, name="drop", side="B")
    weekly = plots.interrupted_series(result.fitted, name="drop", side="A")  # weekly averages draw too
    assert weekly.axes[0].get_legend() is not None
    plt.close("all")


def test_placebo_p_by_hand():
    from analysis.deterrence import _placebo_p

    placebos = np.array([-2.0, 0.5, 1.5, -0.2, np.inf])
    # |b| >= 1: -2, 1.5, inf -> (1 + 3) / (1 + 5)
    assert _placebo_p(-1.0, placebos, "two-sided") == pytest.approx(4 / 6)
    # b <= -1: -2 -> 2 / 6 ; b >= -1: 0.5, 1.5, -0.2, inf -> 5 / 6
    assert _placebo_p(-1.0, placebos, "less") == pytest.approx(2 / 6)
    assert _placebo_p(-1.0, placebos, "greater") == pytest.approx(5 / 6)
    # an empty "after" segment (-inf) is matched only by placebos as extreme
    assert _placebo_p(-np.inf, placebos, "two-sided") == pytest.approx(2 / 6)
    assert np.isnan(_placebo_p(np.nan, placebos, "two-sided")) and np.isnan(_placebo_p(-1.0, np.array([]), "less"))


def test_its_options_are_the_functions_keywords_with_its_defaults():
    import inspect

    signature = inspect.signature(interrupted_time_series).parameters
    assert {k: signature[k].default for k in ITS_OPTIONS} == ITS_OPTIONS


def test_check_its_options_passes_good_settings_and_names_the_file_and_key_of_bad_ones():
    good = {"sides": ["b"], "outcome": "events", "before_days": 60, "after_days": 30, "family": "negbin", "hac_lags": 7,
            "day_of_week": True, "n_placebos": 99, "placebo_exclusion_days": None, "alternative": "less",
            "min_segment_events": 5}
    assert check_its_options(good, sides=["a", "b"], outcomes=["events", "fatalities"]) == good
    # one side may be written without a list; null means every side
    assert check_its_options({"sides": "a"}, sides=["a", "b"])["sides"] == ["a"]
    assert check_its_options({"sides": None}, sides=["a", "b"])["sides"] is None
    where = {"sides": ["a", "b"], "outcomes": ["events"], "where": "p.yaml: escalation", "key_prefix": "its_"}
    for options, message in [
        ({"sides": ["c"]}, "p.yaml: escalation.its_sides: must list sides of the dyad (a, b)"),
        ({"outcome": "deaths"}, "p.yaml: escalation.its_outcome: must be a column of the daily panel (events), got 'deaths'"),
        ({"before_days": 1}, "p.yaml: escalation.its_before_days: must be a whole number >= 2, got 1"),
        ({"n_placebos": 9.5}, "p.yaml: escalation.its_n_placebos: must be a whole number >= 0, got 9.5"),
        ({"hac_lags": True}, "p.yaml: escalation.its_hac_lags: must be a whole number >= 0, got True"),
        ({"family": "poison"}, "p.yaml: escalation.its_family: must be one of poisson, negbin, got 'poison'"),
        ({"alternative": "lower"}, "p.yaml: escalation.its_alternative: must be one of two-sided, less, greater"),
        ({"day_of_week": "yes"}, "p.yaml: escalation.its_day_of_week: must be true or false"),
        ({"n_placebo": 9}, "p.yaml: escalation.its_n_placebo: unknown option; did you mean its_n_placebos?"),
    ]:
        with pytest.raises(ValueError) as err:
            check_its_options(options, **where)
        assert str(err.value).startswith(message), str(err.value)


def test_interrupted_series_panels_one_per_named_day_titled_with_the_estimates():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis import plots
    from analysis.plots import check_figure

    panel = panel_of({"A": np.r_[np.full(300, 2.0), np.full(300, 0.5)], "B": 1.0}, days=600, seed=4)
    result = interrupted_time_series(panel, {"drop": START + pd.Timedelta(days=300), "later": START + pd.Timedelta(days=450)},
                                     sides=["A"], before_days=60, after_days=60, n_placebos=19, seed=1)
    fig = plots.interrupted_series_panels(result.fitted, result.summary, labels={"A": "side A"}, ncols=2)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 2
    first = result.summary.iloc[0]
    assert shown[0].get_title(loc="left") == (f"drop (27 Oct 2020)\nlevel change {first['level_change']:.2f} "
                                              f"({first['level_low']:.2f}\u2013{first['level_high']:.2f}), "
                                              f"placebo p = {first['placebo_p']:.2f}")
    # one legend for the figure, none over the panels; nothing a report would refuse
    assert len(fig.legends) == 1 and all(ax.get_legend() is None for ax in fig.axes)
    assert check_figure(fig) == []
    plt.close("all")


def test_check_named_days_refuses_days_without_two_days_each_side_naming_the_key():
    days = check_named_days({"x": "2020-01-03", "y": pd.Timestamp("2020-06-01 13:00")}, start="2020-01-01", end="2020-12-31")
    # 1 and 2 Jan before x: enough; y is normalised to its day
    assert days == {"x": pd.Timestamp("2020-01-03"), "y": pd.Timestamp("2020-06-01")}
    where = "p.yaml: cycles.named_events"
    for at, message in [
        ({"early": "2020-01-02"}, "p.yaml: cycles.named_events: 'early' (2020-01-02) leaves fewer than 2 days"),
        ({"late": "2020-12-30"}, "p.yaml: cycles.named_events: 'late' (2020-12-30) leaves fewer than 2 days"),
        ({"outside": "2019-06-01"}, "p.yaml: cycles.named_events: 'outside' (2019-06-01) leaves fewer than 2 days"),
        ({"bad": "soon"}, "p.yaml: cycles.named_events: 'bad': 'soon' is not a date"),
    ]:
        with pytest.raises(ValueError) as err:
            check_named_days(at, start="2020-01-01", end="2020-12-31", where=where)
        assert str(err.value).startswith(message), str(err.value)
