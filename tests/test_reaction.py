import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.panel import daily_panel
from analysis.plots import impulse_responses, reaction_coefficients
from analysis.reaction import (
    FewEventsWarning,
    LagOrderWarning,
    NonStationaryWarning,
    lag_window_sums,
    reaction_function,
    var_analysis,
)
from tests.conftest import make_events

START = pd.Timestamp("2000-01-01")  # a Saturday


def panel_from(counts: dict[str, np.ndarray], start=START) -> pd.DataFrame:
    """A daily panel (date, side, events, incidence) from one array of daily counts per side."""
    sides = list(counts)
    n = len(counts[sides[0]])
    dates = pd.date_range(start, periods=n, freq="D")
    events = np.column_stack([np.asarray(counts[s], dtype="int64") for s in sides]).ravel()
    return pd.DataFrame({"date": np.repeat(dates, len(sides)), "side": pd.array(sides * n, dtype="string"),
                         "events": events, "incidence": (events > 0).astype("int64")})


def simulate(seed: int, days: int = 3000, alpha: float | None = None) -> pd.DataFrame:
    """A ignores B; B answers A: A_t ~ Poisson(0.3), B_t ~ Poisson(exp(log 0.3 + 0.5 A_{t-1} + 0.1 sum A_{t-7..t-2})),
    gamma-mixed into NB2 with overdispersion ``alpha`` when given."""
    rng = np.random.default_rng(seed)
    burn = 14
    a = rng.poisson(0.3, days + burn)
    lag1 = np.r_[0, a[:-1]]
    week = np.convolve(a, np.r_[0, 0, np.ones(6)])[: len(a)]  # sum of a[t-7] .. a[t-2]
    mu = np.exp(np.log(0.3) + 0.5 * lag1 + 0.1 * week)
    if alpha is not None:
        mu = mu * rng.gamma(1 / alpha, alpha, size=len(mu))
    b = rng.poisson(mu)
    return panel_from({"A": a[burn:], "B": b[burn:]})


@pytest.fixture(scope="module")
def sim():
    return simulate(seed=6)


@pytest.fixture(scope="module")
def b_on_a(sim):
    return reaction_function(sim, responder="B", trigger="A")


# --- lag windows ----------------------------------------------------------------------------


def test_lag_window_sums_by_hand():
    a = [1, 0, 2, 0, 0, 3, 1, 0, 0, 4]  # days 1..10
    panel = panel_from({"A": np.array(a), "B": np.zeros(10)})
    sums = lag_window_sums(panel, side="A", windows=((1, 1), (2, 7), (8, 14)))
    assert list(sums.columns) == ["A[t-1]", "A[t-2..t-7]", "A[t-8..t-14]"]
    day = lambda n: START + pd.Timedelta(days=n - 1)  # noqa: E731
    # day 9: t-1 is day 8 (0 events); t-2..t-7 are days 2..7: 0 + 2 + 0 + 0 + 3 + 1 = 6
    assert sums.loc[day(9), "A[t-1]"] == 0 and sums.loc[day(9), "A[t-2..t-7]"] == 6
    # day 8: t-1 is day 7 (1); t-2..t-7 are days 1..6: 1 + 0 + 2 + 0 + 0 + 3 = 6
    assert sums.loc[day(8), "A[t-1]"] == 1 and sums.loc[day(8), "A[t-2..t-7]"] == 6
    # day 10: days 3..8: 2 + 0 + 0 + 3 + 1 + 0 = 6; day 7 would need day 0: missing
    assert sums.loc[day(10), "A[t-2..t-7]"] == 6 and np.isnan(sums.loc[day(7), "A[t-2..t-7]"])
    # t-8..t-14 needs 14 earlier days: never complete in a 10-day panel
    assert sums["A[t-8..t-14]"].isna().all()
    # t-1 on day 1 precedes the panel; on days 2 and 3 it is day 1 (1 event) and day 2 (0)
    assert np.isnan(sums["A[t-1]"].iloc[0]) and sums["A[t-1]"].iloc[1:3].tolist() == [1, 0]


def test_lag_windows_from_events_through_daily_panel():
    # events -> daily_panel -> window: A has 2 events on Jan 2 and 1 on Jan 5; on Jan 9 the 2..7
    # window covers Jan 2..Jan 7, i.e. 3 events; the day before (Jan 8) has none
    events = make_events([("a1", "2020-01-02", "A", "rocket"), ("a2", "2020-01-02", "A", "rocket"),
                          ("a3", "2020-01-05", "A", "rocket"), ("b1", "2020-01-06", "B", "airstrike")])
    panel = daily_panel(events, sides=["A", "B"], start="2020-01-01", end="2020-01-10")
    sums = lag_window_sums(panel, side="A", windows=((1, 1), (2, 7)))
    assert sums.loc[pd.Timestamp("2020-01-09")].tolist() == [0, 3]


def test_design_rows_are_the_lag_windows_and_calendar(sim):
    before = sim.copy()
    result = reaction_function(sim, responder="B", trigger="A", family="poisson", time_effects=("dayofweek", "year"))
    pd.testing.assert_frame_equal(sim, before)  # the panel is not mutated
    design = result.design
    # the widest window reaches 14 days back, so the sample starts on day 15 (2000-01-15)
    assert design["date"].iloc[0] == pd.Timestamp("2000-01-15") and result.nobs == 3000 - 14
    first = design["date"].iloc[0]
    a = sim.loc[sim["side"] == "A"].set_index("date")["events"]
    assert design["A[t-2..t-7]"].iloc[0] == a.loc[first - pd.Timedelta(days=7): first - pd.Timedelta(days=2)].sum()
    # Monday and the first year are the references; 3000 days from 2000-01-01 end on 2008-03-18
    time_terms = result.coefficients.loc[result.coefficients["block"] == "time", "term"].tolist()
    assert time_terms == ["dow[Tue]", "dow[Wed]", "dow[Thu]", "dow[Fri]", "dow[Sat]", "dow[Sun]",
                          *[f"year[{y}]" for y in range(2001, 2009)]]
    assert design["dow[Sat]"].iloc[0] == 1 and design["dow[Sun]"].iloc[0] == 0


# --- reaction functions ---------------------------------------------------------------------


def test_reaction_function_recovers_the_lag_one_response(b_on_a):
    table = b_on_a.coefficients.set_index("term")
    # Tolerance: over seeds 0..199 of this simulation the lag-1 estimate had mean 0.496 and
    # standard deviation 0.038 (HAC standard errors averaged 0.039), largest deviation 0.157
    # (seed 198); 0.2 is ~5 standard deviations. A window off by one day would put the
    # 2..7-day effect (0.1) here instead, 0.4 away. Seed 6 gives 0.516.
    assert abs(table.loc["A[t-1]", "coef"] - 0.5) < 0.2
    # the 95% HAC interval covered 0.5 in 95.5% of the seeds
    assert table.loc["A[t-1]", "ci_low"] < 0.5 < table.loc["A[t-1]", "ci_high"]
    # the 2..7 window (true 0.1 per event): sd 0.021 over the seeds, largest deviation 0.067
    assert abs(table.loc["A[t-2..t-7]", "coef"] - 0.1) < 0.09
    np.testing.assert_allclose(table["irr"], np.exp(table["coef"]))
    assert list(table.loc[table["block"] == "trigger", "lag_to"]) == [1, 7, 14]
    # B answers A: the joint test of the three trigger windows rejects (largest p over the seeds 4e-19)
    trigger = b_on_a.tests.set_index("hypothesis").loc["trigger"]
    assert trigger["df"] == 3 and trigger["p"] < 1e-10 and b_on_a.wald_p == trigger["p"]


def test_joint_test_does_not_reject_when_the_responder_ignores_the_trigger(sim):
    # A ignores B: a true null, so p is uniform over seeds (6% of seeds 0..199 had p < 0.05); seed 6: 0.89
    result = reaction_function(sim, responder="A", trigger="B")
    assert result.wald_p > 0.05
    assert result.tests["hypothesis"].tolist() == ["trigger", "own"]


def test_nb_alpha_is_the_maximum_likelihood_estimate():
    # Reference: statsmodels' discrete NegativeBinomial (NB2) maximises the same likelihood
    # jointly in (beta, alpha); our profile-likelihood search must land on the same point.
    panel = simulate(seed=5, alpha=0.8)
    result = reaction_function(panel, responder="B", trigger="A", time_effects=("dayofweek",))
    X = sm.add_constant(result.design.drop(columns=["date", "y"]).to_numpy(dtype=float))
    joint = sm.NegativeBinomial(result.design["y"].to_numpy(dtype=float), X, loglike_method="nb2").fit(
        method="newton", tol=1e-12, maxiter=500, disp=0)
    np.testing.assert_allclose(result.alpha, joint.params[-1], rtol=1e-5)
    np.testing.assert_allclose(result.coefficients["coef"], joint.params[:-1], atol=1e-6)
    np.testing.assert_allclose(result.llf, joint.llf, rtol=1e-10)
    # overdispersed data, far from the Poisson boundary: over seeds 0..199 the estimate had mean
    # 0.78, sd 0.10, range 0.54..1.08 (true 0.8)
    assert 0.4 < result.alpha < 1.2


def test_hac_standard_errors_by_hand():
    # Newey-West by hand for the Poisson GLM: bread H = X' diag(mu) X, scores s_t = x_t (y_t - mu_t),
    # meat S = sum_t s_t s_t' + sum_{l=1..L} (1 - l/(L+1)) (G_l + G_l'), G_l = sum_t s_t s_{t-l}',
    # V = H^-1 S H^-1 with no small-sample factor.
    panel = simulate(seed=1, days=600)
    result = reaction_function(panel, responder="B", trigger="A", family="poisson", own_lags=(), time_effects=(), hac_lags=3)
    X = np.column_stack([np.ones(result.nobs), result.design.drop(columns=["date", "y"]).to_numpy(dtype=float)])
    y = result.design["y"].to_numpy(dtype=float)
    mu = np.exp(X @ result.coefficients["coef"].to_numpy())
    s = X * (y - mu)[:, None]
    meat = s.T @ s
    for lag in range(1, 4):
        g = s[lag:].T @ s[:-lag]
        meat += (1 - lag / 4) * (g + g.T)
    bread = np.linalg.inv(X.T @ (X * mu[:, None]))
    np.testing.assert_allclose(result.coefficients["se"], np.sqrt(np.diag(bread @ meat @ bread)), rtol=1e-8)


def test_logit_models_incidence(sim):
    result = reaction_function(sim, responder="B", trigger="A", family="logit", own_lags=((1, 1),), time_effects=())
    assert set(result.design["y"].unique()) == {0.0, 1.0} and np.isnan(result.alpha)
    table = result.coefficients.set_index("term")
    np.testing.assert_allclose(table["odds_ratio"], np.exp(table["coef"]))
    assert "irr" not in table.columns
    assert table.loc["A[t-1]", "coef"] > 0 and result.wald_p < 1e-10


def test_reaction_function_errors_name_the_problem(sim):
    with pytest.raises(ValueError, match=r"no \['deaths'\] column"):
        reaction_function(sim, responder="B", trigger="A", outcome="deaths")
    with pytest.raises(ValueError, match=r"side\(s\) \['C'\] not in"):
        reaction_function(sim, responder="C", trigger="A")
    with pytest.raises(ValueError, match="same side"):
        reaction_function(sim, responder="A", trigger="A")
    with pytest.raises(ValueError, match="1 <= first <= last"):
        reaction_function(sim, responder="B", trigger="A", lag_windows=((0, 1),))
    with pytest.raises(ValueError, match="family must be one of"):
        reaction_function(sim, responder="B", trigger="A", family="probit")
    gappy = sim[sim["date"] != pd.Timestamp("2000-02-01")]
    with pytest.raises(ValueError, match="1 day\\(s\\) missing"):
        reaction_function(gappy, responder="B", trigger="A")


def test_few_events_warn():
    # 60 days, B active on 5 of them: 5 informative days for 7 coefficients (< 10 each)
    a = np.random.default_rng(0).poisson(1.0, 60)
    b = np.zeros(60, dtype=int)
    b[[16, 25, 34, 43, 52]] = 1
    with pytest.warns(FewEventsWarning, match="5 informative days for 7 coefficients"):
        reaction_function(panel_from({"A": a, "B": b}), responder="B", trigger="A", family="poisson", time_effects=())


# --- VAR ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def var7(sim):
    return var_analysis(sim, sides=["A", "B"], lags=7)


def test_granger_both_ways_on_the_simulation(var7):
    granger = var7.granger.set_index(["causing", "caused"])
    # A drives B through lags 1..7 (largest p over seeds 0..199: 4e-19); B does not drive A, a
    # true null (4.5% of those seeds had p < 0.05; seed 6: 0.90)
    assert granger.loc[("A", "B"), "p"] < 0.01
    assert granger.loc[("B", "A"), "p"] > 0.05
    # F with 7 restrictions; statsmodels' denominator is neqs * (nobs - k * lags - 1) = 2 * (2993 - 15)
    assert granger.loc[("A", "B"), ["lags", "df_num", "df_denom"]].tolist() == [7, 7, 2 * (3000 - 7 - 15)]
    lag_order = var7.lag_order
    assert lag_order["criterion"].tolist() == ["aic", "bic", "hqic", "fpe"] and not lag_order["used"].any()


def test_lag_order_chosen_by_the_criterion(sim):
    year = sim.loc[sim["date"] < pd.Timestamp("2001-01-01")]
    result = var_analysis(year, sides=["A", "B"], maxlags=7, ic="aic", irf_periods=5)
    chosen = result.lag_order.set_index("criterion")
    assert chosen["used"].tolist() == [True, False, False, False]
    assert result.lags == chosen.loc["aic", "lags"] >= 1
    # BIC penalises harder and finds no dynamics in this year: one lag is fitted, with a warning
    assert chosen.loc["bic", "lags"] == 0
    with pytest.warns(LagOrderWarning, match="BIC chose 0 lags"):
        assert var_analysis(year, sides=["A", "B"], maxlags=7, ic="bic", irf_periods=5).lags == 1


def test_adf_table_and_white_noise_is_stationary(var7):
    adf = var7.adf
    assert adf.shape == (2, 6) and adf["series"].tolist() == ["A", "B"]
    # A is iid Poisson counts (white noise): the unit root is rejected far beyond 1%
    assert adf.set_index("series").loc["A", "p"] < 0.01


def test_random_walk_warns_non_stationary():
    rng = np.random.default_rng(3)
    walk = np.cumsum(rng.choice([-1, 1], size=500))
    panel = panel_from({"A": walk - walk.min(), "B": rng.poisson(1.0, 500)})
    with pytest.warns(NonStationaryWarning, match="'A'"):
        result = var_analysis(panel, sides=["A", "B"], maxlags=5, irf_periods=5)
    # a unit root is the ADF null: not rejected for the walk, rejected for the white noise
    assert result.adf.set_index("series")["p"].tolist()[0] > 0.05 > result.adf.set_index("series")["p"].tolist()[1]


def test_impulse_responses_match_the_var_coefficients(sim):
    short = sim.loc[sim["date"] < pd.Timestamp("2001-01-01")]
    result = var_analysis(short, sides=["A", "B"], lags=2, irf_periods=10, orth=False)
    irf = result.irf.set_index(["impulse", "response", "period"])
    assert len(result.irf) == 2 * 2 * 11
    # unit shocks: Phi_0 = I and Phi_1 = A_1 (Lütkepohl 2005, eq. 2.1.22), A_1[response, impulse]
    assert irf.loc[("A", "A", 0), "irf"] == 1 and irf.loc[("A", "B", 0), "irf"] == 0
    np.testing.assert_allclose(irf.loc[("A", "B", 1), "irf"], result.fit.coefs[0][1, 0])
    assert (result.irf["lower"] <= result.irf["irf"]).all() and (result.irf["irf"] <= result.irf["upper"]).all()
    # orthogonalised: period 0 is the lower Cholesky factor of the residual covariance (A first)
    orth = var_analysis(short, sides=["A", "B"], lags=2, irf_periods=10).irf.set_index(["impulse", "response", "period"])
    chol = np.linalg.cholesky(result.fit.sigma_u)
    np.testing.assert_allclose([orth.loc[("A", "B", 0), "irf"], orth.loc[("B", "A", 0), "irf"]], [chol[1, 0], 0])


def test_monte_carlo_bands_are_seeded(sim):
    short = sim.loc[sim["date"] < pd.Timestamp("2000-07-01")]
    kwargs = {"sides": ["A", "B"], "lags": 2, "irf_periods": 5, "bands": "mc", "repl": 30}
    first = var_analysis(short, seed=1, **kwargs).irf
    pd.testing.assert_frame_equal(first, var_analysis(short, seed=1, **kwargs).irf)
    assert not np.allclose(first["upper"], var_analysis(short, seed=2, **kwargs).irf["upper"])


def test_weekly_var_sums_complete_weeks(sim):
    result = var_analysis(sim, sides=["A", "B"], freq="W", maxlags=4, irf_periods=4)
    a = sim.loc[sim["side"] == "A"].set_index("date")["events"]
    # 2000-01-01 is a Saturday: the first complete week is Mon 2000-01-03 .. Sun 2000-01-09;
    # the last day, 2008-03-18, is a Tuesday: the last complete week starts Mon 2008-03-10
    assert result.series.index[0] == pd.Timestamp("2000-01-03") and result.series.index[-1] == pd.Timestamp("2008-03-10")
    assert result.series["A"].iloc[0] == a.loc["2000-01-03":"2000-01-09"].sum()
    assert len(result.series) == (pd.Timestamp("2008-03-10") - pd.Timestamp("2000-01-03")).days // 7 + 1


def test_var_errors():
    panel = panel_from({"A": np.r_[np.ones(50), np.zeros(50)].astype(int), "B": np.zeros(100, dtype=int)})
    with pytest.raises(ValueError, match=r"\['B'\] never vary"):
        var_analysis(panel, sides=["A", "B"])
    with pytest.raises(ValueError, match="at least two sides"):
        var_analysis(panel, sides=["A"])


# --- figures --------------------------------------------------------------------------------


def test_impulse_responses_grid(var7):
    fig = impulse_responses(var7.irf)
    # row B (response), column A (impulse)
    assert len(fig.axes) == 4 and fig.axes[2].get_title() == "A \u2192 B"
    plt.close(fig)


def test_reaction_coefficients_plot(b_on_a):
    fig = reaction_coefficients(b_on_a)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    # lag windows only, the first term at the top
    assert labels == ["B[t-8..t-14]", "B[t-2..t-7]", "B[t-1]", "A[t-8..t-14]", "A[t-2..t-7]", "A[t-1]"]
    plt.close(fig)


def test_reaction_functions_both_ways(sim, b_on_a):
    from analysis.reaction import reaction_functions

    coefficients, tests = reaction_functions(sim, sides=["A", "B"])  # the same defaults as b_on_a
    assert set(zip(tests["responder"], tests["trigger"])) == {("A", "B"), ("B", "A")}
    # the B-on-A half is the single-direction fit
    mine = coefficients[(coefficients["responder"] == "B") & (coefficients["term"] == "A[t-1]")]
    single = b_on_a.coefficients.set_index("term").loc["A[t-1]", "coef"]
    assert mine["coef"].iloc[0] == pytest.approx(single, rel=1e-9)
