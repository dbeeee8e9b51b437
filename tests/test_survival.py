import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.cycles import build_cycles
from analysis.plots import hazard_ratios, km_curves
from analysis.survival import (
    DroppedRowsWarning,
    FewEventsWarning,
    ShortFollowUpWarning,
    cox,
    kaplan_meier,
    ph_test,
    scaled_schoenfeld,
    trigger_covariates,
)
from tests.conftest import make_events

Z975 = 1.959963984540054  # standard normal 97.5% quantile


def small():
    """Durations 1, 2, 2+, 3, 4+, 5 (+ = censored)."""
    return pd.DataFrame({"interval_days": [1, 2, 2, 3, 4, 5],
                         "censored": [False, False, True, False, True, False]})


def freireich():
    """Remission weeks of the 42 leukaemia patients of Freireich et al. (1963), as in Gehan
    (1965) and Klein & Moeschberger's drug6mp data; the listing (6-MP: 6 6 6 6+ 7 9+ 10 10+ 11+
    13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+; placebo: all relapsed) was checked against the
    KMsurv drug6mp table printed in E. Slud's Leukemia.exmp notes (math.umd.edu/~slud/s702)."""
    mp = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
    mp_relapse = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    placebo = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]
    return pd.DataFrame({"weeks": mp + placebo, "relapse": mp_relapse + [1] * 21,
                         "treat": ["6-MP"] * 21 + ["placebo"] * 21})


# --- Kaplan-Meier ---------------------------------------------------------------------------


def test_kaplan_meier_hand_worked_small_example():
    cycles = small()
    before = cycles.copy()
    km = kaplan_meier(cycles, group_col=None, min_events=1)
    pd.testing.assert_frame_equal(cycles, before)  # input untouched
    curve = km.curve
    # t=1: 6 at risk, 1 event        S = 5/6
    # t=2: 5 at risk (2+ still at risk on day 2), 1 event   S = 5/6 * 4/5 = 2/3
    # t=3: 3 at risk, 1 event        S = 2/3 * 2/3 = 4/9   (4+ leaves after day 4)
    # t=5: 1 at risk, 1 event        S = 0
    assert curve["time"].tolist() == [1, 2, 3, 5]
    assert curve["n_at_risk"].tolist() == [6, 5, 3, 1]
    assert curve["n_events"].tolist() == [1, 1, 1, 1]
    assert_allclose(curve["survival"], [5 / 6, 2 / 3, 4 / 9, 0])
    # Greenwood: se = S * sqrt(sum d / (n (n - d))); at t=1: 5/6 * sqrt(1/30)
    assert_allclose(curve["std_err"].iloc[0], 5 / 6 * np.sqrt(1 / 30))
    # log-log interval at t=1: w = z sqrt(1/30) / |log(5/6)| = 1.96268; S^exp(w) = 0.273123,
    # S^exp(-w) = 0.974712
    assert_allclose(curve[["lower", "upper"]].iloc[0], [0.273123, 0.974712], atol=1e-6)
    # no interval once S = 0
    assert curve[["lower", "upper"]].iloc[-1].isna().all()

    s = km.summary.iloc[0]
    assert (s["group"], s["n"], s["events"], s["censored"], s["max_time"]) == ("all", 6, 4, 2, 5)
    # median: the first time S < 0.5 -> 3 (S = 4/9)
    assert s["median"] == 3
    # RMST to tau = the longest follow-up, 5: 1*1 + 1*5/6 + 1*2/3 + 2*4/9 = 61/18
    assert s["tau"] == 5
    assert_allclose(s["rmst"], 61 / 18)
    assert s["survival_at_tau"] == 0


def test_restricted_mean_and_its_standard_error_by_hand():
    km = kaplan_meier(small(), group_col=None, tau=4, min_events=1)
    s = km.summary.iloc[0]
    # area on [0, 4]: 1 + 5/6 + 2/3 + 4/9 = 53/18
    assert_allclose(s["rmst"], 53 / 18)
    # Greenwood-type variance (Klein & Moeschberger 2003, sec. 4.5), A_j = area from t_j to 4:
    #   t=1: A = 5/6 + 2/3 + 4/9 = 35/18, d/(n(n-d)) = 1/30
    #   t=2: A = 2/3 + 4/9 = 10/9,        1/20
    #   t=3: A = 4/9,                     1/6
    # var = (35/18)^2/30 + (10/9)^2/20 + (4/9)^2/6 = 0.2206790 -> se 0.4697648
    assert_allclose(s["rmst_se"], 0.4697648, rtol=1e-6)
    assert_allclose([s["rmst_lower"], s["rmst_upper"]], [53 / 18 - Z975 * 0.4697648, 53 / 18 + Z975 * 0.4697648], rtol=1e-6)
    assert_allclose(s["survival_at_tau"], 4 / 9)  # the event at 5 is past tau


def test_freireich_6mp_curve_and_median():
    km = kaplan_meier(freireich(), duration_col="weeks", event_col="relapse", group_col="treat")
    mp = km.curve[km.curve["group"] == "6-MP"]
    # product-limit by hand: 18/21; *16/17; *14/15; *11/12; *10/11; *6/7; *5/6
    assert mp["time"].tolist() == [6, 7, 10, 13, 16, 22, 23]
    assert mp["n_at_risk"].tolist() == [21, 17, 15, 12, 11, 7, 6]
    assert_allclose(mp["survival"], [0.857143, 0.806723, 0.752941, 0.690196, 0.627451, 0.537815, 0.448179], atol=1e-6)
    s = km.summary.set_index("group")
    # median 23 weeks: S(22) = 0.538 >= 0.5, S(23) = 0.448 < 0.5
    assert s.loc["6-MP", "median"] == 23
    # its interval inverts |log(-log S) - log(-log 0.5)| / se <= 1.96 on the log-log scale:
    # the statistic is -1.98 at t=10, -1.50 at 13, ..., 0.39 at 23 (the last event time), so
    # [13, not reached)
    assert s.loc["6-MP", "median_lower"] == 13 and np.isnan(s.loc["6-MP", "median_upper"])
    assert s.loc["placebo", "median"] == 8
    # RMST of 6-MP to 23 weeks, by hand: 6*1 + 1*.857143 + 3*.806723 + 3*.752941 + 3*.690196
    #   + 6*.627451 + 1*.537815 = 17.909244
    assert_allclose(kaplan_meier(freireich(), duration_col="weeks", event_col="relapse", group_col="treat",
                                 tau=23).summary.set_index("group").loc["6-MP", "rmst"], 17.909244, atol=1e-6)


def test_freireich_placebo_band_matches_stata_sts_list():
    km = kaplan_meier(freireich(), duration_col="weeks", event_col="relapse", group_col="treat")
    placebo = km.curve[km.curve["group"] == "placebo"].head(2)
    # Stata `sts list, by(group)` on the Gehan data (Greenwood se, log-log 95% interval), in
    # G. Rodriguez, "Kaplan-Meier Survival", data.princeton.edu/eco572/KaplanMeier.html:
    #   Control  1  21  2  0.9048  0.0641  0.6700  0.9753
    #            2  19  2  0.8095  0.0857  0.5689  0.9239
    assert placebo["n_at_risk"].tolist() == [21, 19] and placebo["n_events"].tolist() == [2, 2]
    assert_allclose(placebo["survival"], [0.9048, 0.8095], atol=5e-5)
    assert_allclose(placebo["std_err"], [0.0641, 0.0857], atol=5e-5)
    assert_allclose(placebo["lower"], [0.6700, 0.5689], atol=5e-5)
    assert_allclose(placebo["upper"], [0.9753, 0.9239], atol=5e-5)


def test_bands_contain_the_curve_and_hall_wellner_needs_alpha_05():
    data = freireich()
    for band in ("pointwise", "hall-wellner"):
        curve = kaplan_meier(data, duration_col="weeks", event_col="relapse", group_col="treat", band=band).curve.dropna()
        assert ((curve["lower"] <= curve["survival"]) & (curve["survival"] <= curve["upper"])).all()
    narrow = kaplan_meier(data, duration_col="weeks", event_col="relapse", group_col="treat", alpha=0.5).curve.dropna()
    wide = kaplan_meier(data, duration_col="weeks", event_col="relapse", group_col="treat").curve.dropna()
    assert ((narrow["upper"] - narrow["lower"]) < (wide["upper"] - wide["lower"])).all()
    with pytest.raises(ValueError, match=r"alpha=0\.05 only"):
        kaplan_meier(data, duration_col="weeks", event_col="relapse", group_col="treat", band="hall-wellner", alpha=0.1)


def test_few_events_warning_per_group():
    cycles = pd.DataFrame({"interval_days": [1, 2, 3, 4, 5, 6, 30, 30],
                           "censored": [False] * 6 + [True, True],
                           "trigger_side": ["A"] * 6 + ["B"] * 2})
    with pytest.warns(FewEventsWarning, match="'B' has 0 response"):
        km = kaplan_meier(cycles)
    # B never answered: S = 1 throughout, RMST = tau = 30 with no uncertainty, no median
    b = km.summary.set_index("group").loc["B"]
    assert (b["events"], b["rmst"], b["rmst_se"], b["survival_at_tau"]) == (0, 30, 0, 1)
    assert np.isnan(b["median"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kaplan_meier(cycles[cycles["trigger_side"] == "A"])  # 6 responses: no warning


def test_short_follow_up_has_no_rmst():
    cycles = pd.DataFrame({"interval_days": [1, 2, 10, 3, 5, 30], "censored": [False, False, True, False, False, True],
                           "trigger_side": ["A", "A", "A", "B", "B", "B"]})
    with pytest.warns(ShortFollowUpWarning, match="'A'"):
        km = kaplan_meier(cycles, min_events=1)
    s = km.summary.set_index("group")
    # A is followed 10 days with S = 1/3 > 0 at the end: unknown on (10, 30]
    assert np.isnan(s.loc["A", "rmst"]) and s.loc["A", "tau"] == 30
    # B (3, 5, 30+): S = 1 on [0, 3), 2/3 on [3, 5), 1/3 on [5, 30]: 3 + 2*(2/3) + 25*(1/3) = 12.667
    assert_allclose(s.loc["B", "rmst"], 3 + 2 * 2 / 3 + 25 / 3)


def test_kaplan_meier_on_built_cycles():
    events = make_events([
        ("a1", "2020-01-01", "A", "rocket"), ("b1", "2020-01-04", "B", "airstrike"),
        ("a2", "2020-01-10", "A", "rocket"), ("b2", "2020-02-20", "B", "airstrike"),
    ])
    cycles = build_cycles(events, window_days=30, study_end="2020-12-31")
    # A: a1 answered after 3 days, a2 censored at 30 (b2 is 41 days later); B: b1 answered by a2
    # after 6 days, b2 censored at 30
    with pytest.warns(FewEventsWarning):
        km = kaplan_meier(cycles)
    s = km.summary.set_index("group")
    assert s["events"].to_dict() == {"A": 1, "B": 1}
    assert km.tau == 30
    # A: S = 1/2 from day 3 -> RMST to 30 = 3 + 27/2 = 16.5; B: 6 + 24/2 = 18
    assert_allclose(s["rmst"], [16.5, 18])


def test_kaplan_meier_errors_name_the_problem():
    with pytest.raises(ValueError, match="no \\['interval_days'\\] column"):
        kaplan_meier(pd.DataFrame({"censored": [True]}), group_col=None)
    with pytest.raises(ValueError, match="negative"):
        kaplan_meier(pd.DataFrame({"interval_days": [-1, 2], "censored": [False, False]}), group_col=None)
    with pytest.raises(ValueError, match="'censored' has 1 missing"):
        kaplan_meier(pd.DataFrame({"interval_days": [1, 2], "censored": pd.array([pd.NA, False], dtype="boolean")}),
                     group_col=None)
    with pytest.raises(ValueError, match="boolean or 0/1"):
        kaplan_meier(pd.DataFrame({"interval_days": [1, 2], "hit": [2, 0]}), event_col="hit", group_col=None)


# --- Cox ------------------------------------------------------------------------------------


def test_cox_freireich_matches_stata_breslow():
    data = freireich().assign(treated=lambda d: d["treat"] == "6-MP")
    before = data.copy()
    fit = cox(data, covariates=["treated"], duration_col="weeks", event_col="relapse")
    pd.testing.assert_frame_equal(data, before)
    row = fit.table.iloc[0]
    # Stata `stcox treated` (Breslow ties) on the Gehan data, in G. Rodriguez, "Cox Regression
    # Analysis of the Gehan Data" (Princeton WWS 509): Haz. Ratio .2210887, Std. Err. .0905501
    # (delta method: hr * se(coef)), 95% CI .0990706 .4933877, z -3.68, log likelihood -86.379622
    assert row["term"] == "treated"
    assert_allclose(row["hr"], 0.2210887, rtol=1e-6)
    assert_allclose(row["hr"] * row["se"], 0.0905501, rtol=1e-5)
    assert_allclose([row["lower"], row["upper"]], [0.0990706, 0.4933877], rtol=1e-5)
    assert_allclose(row["z"], -3.68, atol=5e-3)
    assert_allclose(fit.results.llf, -86.379622, rtol=1e-8)
    assert (fit.n, fit.events, fit.n_dropped) == (42, 30, 0)


def test_cox_categorical_levels_reference_and_efron():
    data = freireich()
    breslow = cox(data, covariates=["treat"], duration_col="weeks", event_col="relapse")
    # text covariate: indicator of each level but the first in sorted order ("6-MP" is reference)
    assert breslow.table["term"].tolist() == ["treat[placebo]"]
    assert_allclose(breslow.table["hr"].iloc[0], 1 / 0.2210887, rtol=1e-6)
    efron = cox(data, covariates=["treat"], duration_col="weeks", event_col="relapse", ties="efron",
                reference={"treat": "placebo"})
    assert efron.table["term"].tolist() == ["treat[6-MP]"]
    # Efron's approximation moves the estimate away from 0 with these many ties: -1.572 for
    # 6-MP against placebo, where Breslow's gives -1.509 (the coefficient of placebo above, +1.509)
    assert efron.table["coef"].iloc[0] < -breslow.table["coef"].iloc[0] < 0
    with pytest.raises(ValueError, match="reference level 'nope'"):
        cox(data, covariates=["treat"], duration_col="weeks", event_col="relapse", reference={"treat": "nope"})


def test_cox_recovers_a_known_hazard_ratio_with_strata_and_categoricals():
    rng = np.random.default_rng(7)
    n = 1200
    country = rng.choice(["Iraq", "Syria", "Jordan"], n)
    leader = rng.random(n) < 0.3
    side = rng.choice(["A", "B"], n)
    # log hazard: 0.7 for a leader killed, +0.5 in Syria, -0.4 in Jordan (Iraq reference);
    # baseline rate differs by side (a stratum)
    linear = 0.7 * leader + 0.5 * (country == "Syria") - 0.4 * (country == "Jordan")
    rate = 0.05 * np.where(side == "A", 1.0, 2.5) * np.exp(linear)
    wait = rng.exponential(1 / rate)
    cycles = pd.DataFrame({"interval_days": np.minimum(wait, 30), "censored": wait > 30, "trigger_country": country,
                           "trigger_leader_killed": leader, "trigger_side": side})
    fit = cox(cycles, covariates=["trigger_leader_killed", "trigger_country"], strata="trigger_side",
              reference={"trigger_country": "Iraq"})
    table = fit.table.set_index("term")
    assert list(table.index) == ["trigger_leader_killed", "trigger_country[Jordan]", "trigger_country[Syria]"]
    assert_allclose(table["coef"], [0.7, -0.4, 0.5], atol=3 * table["se"].max())
    assert (table["lower"] < np.exp([0.7, -0.4, 0.5])).all() and (np.exp([0.7, -0.4, 0.5]) < table["upper"]).all()


def test_cox_drops_missing_rows_and_rejects_constant_covariates():
    data = freireich().assign(treated=lambda d: (d["treat"] == "6-MP").astype("boolean"))
    data.loc[[0, 30], "treated"] = pd.NA
    with pytest.warns(DroppedRowsWarning, match="2 of 42"):
        fit = cox(data, covariates=["treated"], duration_col="weeks", event_col="relapse")
    assert (fit.n, fit.n_dropped) == (40, 2)
    with pytest.raises(ValueError, match="single value"), pytest.warns(DroppedRowsWarning):
        cox(data.assign(country="Iraq"), covariates=["treated", "country"], duration_col="weeks", event_col="relapse")
    with pytest.raises(ValueError, match="no \\['nope'\\] column"):
        cox(data, covariates=["nope"], duration_col="weeks", event_col="relapse")


def test_cox_few_events_per_parameter_warning():
    data = freireich().assign(treated=lambda d: d["treat"] == "6-MP")
    with pytest.warns(FewEventsWarning, match="30 responses for 1"):
        cox(data, covariates=["treated"], duration_col="weeks", event_col="relapse", min_events_per_parameter=31)


# --- proportional hazards -------------------------------------------------------------------


def simulated(seed, *, proportional, n=300):
    """Waits in whole days, censored at a 30-day window. Proportional: exponential hazards
    0.1 and 0.2 (ratio 2 at every time). Not proportional by construction: x=1 waits are
    Weibull with shape 3 (a hazard rising as t^2) against a flat exponential hazard for x=0, so
    the hazard ratio grows with time."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n).astype(bool)
    if proportional:
        wait = rng.exponential(1 / np.where(x, 0.2, 0.1))
    else:
        wait = np.where(x, 10 * rng.weibull(3.0, n), rng.exponential(10, n))
    return pd.DataFrame({"interval_days": np.ceil(np.minimum(wait, 30)).astype(int), "censored": wait > 30, "x": x})


def test_ph_test_does_not_reject_when_hazards_are_proportional():
    fit = cox(simulated(0, proportional=True), covariates=["x"])
    for transform in ("km", "rank"):
        table = ph_test(fit, transform=transform)
        assert table["term"].tolist() == ["x"]
        assert table["p"].iloc[0] > 0.1


def test_ph_test_rejects_when_the_hazard_ratio_grows_with_time():
    fit = cox(simulated(0, proportional=False), covariates=["x"])
    for transform in ("km", "rank", "identity"):
        row = ph_test(fit, transform=transform).iloc[0]
        assert row["p"] < 1e-6
        assert row["rho"] > 0  # the coefficient of x increases with time


def test_ph_test_against_a_direct_computation():
    # Schoenfeld residuals from explicit risk sets, and the statistic of Grambsch & Therneau
    # (1994) as in R's cox.zph (survival < 3.0): chi2_j = d (V U)_j^2 / (V_jj S_gg)
    rng = np.random.default_rng(3)
    n = 40
    data = pd.DataFrame({"interval_days": rng.integers(1, 12, n), "censored": rng.random(n) < 0.3,
                         "a": rng.normal(size=n), "b": rng.random(n) < 0.5, "s": rng.choice(["p", "q"], n)})
    fit = cox(data, covariates=["a", "b"], strata="s", ties="breslow", min_events_per_parameter=0)
    beta = np.asarray(fit.results.params)
    cov = np.asarray(fit.results.cov_params())
    x = data[["a", "b"]].to_numpy(float)
    t, event, stratum = data["interval_days"].to_numpy(), ~data["censored"].to_numpy(), data["s"].to_numpy()
    w = np.exp(x @ beta)
    rows, times = [], []
    for i in np.flatnonzero(event):
        risk = (t >= t[i]) & (stratum == stratum[i])
        rows.append(x[i] - (w[risk, None] * x[risk]).sum(0) / w[risk].sum())
        times.append(t[i])
    r, times = np.array(rows), np.array(times, dtype=float)
    g = pd.Series(times).rank().to_numpy()  # average ranks, as R's rank()
    c = g - g.mean()
    d = len(times)
    u = c @ r
    expected = d * (cov @ u) ** 2 / (np.diag(cov) * (c @ c))
    expected_global = d * u @ cov @ u / (c @ c)
    table = ph_test(fit, transform="rank")
    assert table["term"].tolist() == ["a", "b", "GLOBAL"]
    assert_allclose(table["chi2"], [*expected, expected_global], rtol=1e-8)
    assert table["df"].tolist() == [1, 1, 2]
    scaled = scaled_schoenfeld(fit, transform="rank")
    assert len(scaled) == 2 * d
    assert_allclose(np.sort(scaled.loc[scaled["term"] == "a", "residual"]), np.sort(beta[0] + d * (r @ cov)[:, 0]), rtol=1e-8)


def test_km_transform_is_one_minus_the_left_continuous_km():
    # events at 1, 2, 2, 3 and one censored at 4; pooled KM: S(1) = 4/5, S(2) = 4/5 * 2/4 = 2/5,
    # so S(1-) = 1, S(2-) = 4/5, S(3-) = 2/5 and g = 1 - S(t-) = 0, 1/5, 1/5, 3/5
    data = pd.DataFrame({"interval_days": [1, 2, 2, 3, 4], "censored": [False, False, False, False, True],
                         "x": [0.0, 1.0, 0.0, 1.0, 0.5]})
    fit = cox(data, covariates=["x"], min_events_per_parameter=0)
    g = scaled_schoenfeld(fit, transform="km").sort_values("time")["g"].to_numpy()
    assert_allclose(g, [0, 1 / 5, 1 / 5, 3 / 5])


# --- covariates of the trigger --------------------------------------------------------------


def test_trigger_covariates_join_transform_flag_and_period():
    events = make_events(
        [("a1", "2020-01-01", "A", "rocket"), ("b1", "2020-01-04", "B", "airstrike"),
         ("a2", "2021-03-10", "A", "rocket"), ("b2", "2021-03-12", "B", "airstrike")],
        fatalities=pd.array([0, 3, pd.NA, 1], dtype="Int64"), country=["Iraq", "Syria", "Iraq", "Iraq"],
    )
    cycles = build_cycles(events, window_days=30, study_end="2021-12-31")
    before = cycles.copy()
    out = trigger_covariates(cycles, events, flags={"leader_killed": ["b1"]},
                             period_breaks={"first": "2020-01-01", "second": "2021-01-20"})
    pd.testing.assert_frame_equal(cycles, before)
    by_id = out.set_index("trigger_id")
    assert by_id["trigger_country"].to_dict() == {"a1": "Iraq", "b1": "Syria", "a2": "Iraq", "b2": "Iraq"}
    # log(1 + 0) = 0, log(1 + 3) = 1.386294, missing stays missing, log(2) = 0.693147
    assert_allclose(by_id["trigger_fatalities_log1p"].to_numpy(), [0, np.log(4), np.nan, np.log(2)])
    assert by_id["trigger_leader_killed"].tolist() == [False, True, False, False]
    assert by_id["trigger_period"].astype(str).tolist() == ["first", "first", "second", "second"]
    assert list(out["trigger_period"].cat.categories) == ["first", "second"]
    # unnamed breaks: before / between / from
    auto = trigger_covariates(cycles, events, period_breaks=["2020-01-03", "2021-03-11"])
    assert auto["trigger_period"].astype(str).tolist() == [
        "before 2020-01-03", "2020-01-03 to 2021-03-10", "2020-01-03 to 2021-03-10", "from 2021-03-11"]
    # and the table goes straight into the Cox model (the missing fatality row left out)
    with pytest.warns((DroppedRowsWarning, FewEventsWarning)):
        cox(out.assign(interval_days=[1, 5, 2, 9], censored=[False, False, False, True]),
            covariates=["trigger_fatalities_log1p"], min_events_per_parameter=0)


def test_trigger_covariates_errors():
    events = make_events([("a1", "2020-01-01", "A", "rocket"), ("b1", "2020-01-04", "B", "airstrike")])
    cycles = build_cycles(events, window_days=30)
    with pytest.raises(ValueError, match="not in events"):
        trigger_covariates(cycles, events.iloc[:1], columns=(), log1p=())
    with pytest.raises(ValueError, match="strictly increasing"):
        trigger_covariates(cycles, events, columns=(), log1p=(), period_breaks=["2021-01-01", "2020-01-01"])


# --- figures --------------------------------------------------------------------------------


def test_km_curves_draw_one_step_curve_and_band_per_group():
    km = kaplan_meier(freireich(), duration_col="weeks", event_col="relapse", group_col="treat")
    fig = km_curves(km, labels={"6-MP": "6-MP", "placebo": "placebo"}, colors={"placebo": "#444444"})
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and len(ax.collections) == 2
    mp = ax.lines[0]
    # from (0, 1) to the last follow-up, 35 weeks, at the last value 0.448
    assert (mp.get_xdata()[0], mp.get_ydata()[0]) == (0.0, 1.0)
    assert mp.get_xdata()[-1] == 35 and mp.get_ydata()[-1] == pytest.approx(0.448179, abs=1e-6)
    assert "median 23 d" in ax.get_legend().get_texts()[0].get_text()
    plt.close(fig)
    fig, ax = plt.subplots()
    assert km_curves(km, ax=ax) is fig
    plt.close(fig)


def test_hazard_ratios_forest_plot():
    fit = cox(freireich(), covariates=["treat"], duration_col="weeks", event_col="relapse")
    fig = hazard_ratios(fit)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["treat[placebo]"]
    assert any("4.52" in t.get_text() for t in ax.texts)  # 1 / 0.2210887
    plt.close(fig)


def test_ph_test_warns_when_every_response_is_at_one_time():
    from analysis.survival import UntestableWarning

    # every trigger answered after exactly 1 day: nothing to trend against
    cycles = pd.DataFrame({"interval_days": [1, 1, 1, 1, 1, 1, 2, 3], "censored": [False] * 6 + [True, True],
                           "x": [0.0, 1.0, 2.0, 0.5, 1.5, 3.0, 1.0, 0.0]})
    with pytest.warns(FewEventsWarning):
        fit = cox(cycles, covariates=["x"])
    with pytest.warns(UntestableWarning, match="cannot be checked"):
        table = ph_test(fit)
    assert table["term"].tolist() == ["x"] and table["p"].isna().all()


def test_a_separating_covariate_is_reported_not_hidden():
    from analysis.survival import FitFailedWarning

    # x = 1 exactly for the triggers answered first: the likelihood grows without bound in beta
    cycles = pd.DataFrame({"interval_days": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
                           "censored": [False] * 12, "x": [1] * 6 + [0] * 6})
    with pytest.warns(FitFailedWarning, match="did not converge"):
        fit = cox(cycles, covariates=["x"])
    assert fit.table["hr"].isna().all() or not np.isfinite(fit.table["coef"]).all()


def test_cox_models_one_per_direction():
    from analysis.survival import cox_models

    rng = np.random.default_rng(4)
    n = 120
    frame = pd.DataFrame({"trigger_side": ["A"] * n + ["B"] * n, "x": rng.normal(size=2 * n),
                          "interval_days": rng.exponential(5, 2 * n).round() + 1, "censored": rng.random(2 * n) < 0.2})
    table, ph = cox_models(frame, [{"name": "B answering A", "trigger_side": "A", "covariates": ["x"]},
                                   {"name": "A answering B", "trigger_side": "B", "covariates": ["x"]}])
    assert table["model"].tolist() == ["B answering A", "A answering B"]
    assert table["n"].tolist() == [n, n]
    # each model is the plain cox() fit of its own side's triggers
    alone = cox(frame[frame["trigger_side"] == "B"], covariates=["x"]).table
    assert table.loc[1, "coef"] == pytest.approx(alone.loc[0, "coef"])
    assert set(ph["model"]) == {"B answering A", "A answering B"}
    empty, empty_ph = cox_models(frame, [])
    assert empty.empty and "model" in empty.columns and empty_ph.empty


def test_cox_models_name_a_model_whose_side_is_not_in_the_data():
    """A profile for a new dyad that keeps the default dyad's models (trigger_side 'us') used to
    fail with "no response is observed in the rows used", naming neither the model nor the side."""
    from analysis.survival import cox_models

    frame = pd.DataFrame({"trigger_side": ["army", "rebels"] * 5, "x": range(10), "interval_days": 3.0,
                          "censored": False})
    models = [{"name": "militias answering US strikes", "trigger_side": "us", "covariates": ["x"]}]
    with pytest.raises(ValueError, match=r"^p.yaml: timing.cox_models\[0\] \('militias answering US strikes'\): "
                                         r"trigger_side 'us' is not a side of these cycles \(sides: army, rebels\)$"):
        cox_models(frame, models, where="p.yaml: timing.cox_models")
    with pytest.raises(ValueError, match=r"^cox_models\[0\]: a Cox model needs name, trigger_side and covariates; "
                                         r"covariates missing$"):
        cox_models(frame, [{"name": "m", "trigger_side": "army"}])
