"""Hawkes maximum likelihood: the likelihood against direct sums, the gradient and Hessian
against finite differences, parameter recovery on simulated data (tolerances stated), decays
per kernel and their choice by AIC, the binned estimator against the continuous one, standard
errors against the bootstrap, goodness of fit, the tick cross-check and the figures."""

import math
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.hawkes import (
    ExplosiveFitWarning,
    FewEventsWarning,
    bootstrap,
    fit_hawkes,
    log_likelihood,
    standard_errors,
    time_rescaling,
    uncertainty,
)
from analysis.hawkes.inference import derived
from analysis.hawkes.likelihood import SHARED, derivatives
from analysis.plots import branching_matrix, kernels
from analysis.simulate import hawkes, hawkes_times

from .conftest import make_events

MU = np.array([0.1, 0.05])
ALPHA = np.array([[0.2, 0.4], [0.3, 0.1]])
BETA = 0.5
TRUTH = np.array([*MU, *ALPHA.ravel(), BETA])  # order of fit.params: mu A, mu B, alpha AA, AB, BA, BB, beta
HORIZON = 20_000


@pytest.fixture(scope="module")
def fits():
    """Exact-time fits of three seeded realisations (~6,000 events each) of the reference model."""
    out = []
    for seed in (2, 3, 4):
        events = hawkes(mu=MU, alpha=ALPHA, beta=BETA, horizon=HORIZON, seed=seed)
        out.append((events, fit_hawkes(events, sides=["A", "B"], end=float(HORIZON))))
    return out


def _frame(t, marks, sides=("A", "B")):
    """A table of exact times (days) and sides from simulated arrays."""
    return pd.DataFrame({"t": t, "side": pd.array(np.asarray(sides, dtype=object)[marks], dtype="string")})


def _small(t, sides, **kwargs):
    frame = pd.DataFrame({"t": np.asarray(t, dtype=float), "side": pd.array(sides, dtype="string")})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewEventsWarning)
        return fit_hawkes(frame, sides=["A", "B"], **kwargs)


# --- the likelihood -----------------------------------------------------------------------------


def test_log_likelihood_of_two_events_by_hand():
    # A at t = 1, B at t = 2, window [0, 3]; mu = (0.1, 0.2), alpha = [[0.3, 0.1], [0.4, 0.2]], beta = 1:
    #   lambda_A(1) = 0.1 (nothing before)
    #   lambda_B(2) = 0.2 + alpha_BA * 1 * exp(-1) = 0.347151776...
    #   compensator = (0.1 + 0.2) * 3
    #               + (alpha_AA + alpha_BA) (1 - exp(-2))  [the A event, 2 days before the end] = 0.605265...
    #               + (alpha_AB + alpha_BB) (1 - exp(-1))  [the B event, 1 day before the end]  = 0.189636...
    #   log L = log 0.1 + log 0.347151776 - 0.9 - 0.605265302 - 0.189636168 = -5.055479760879
    fit = _small([1.0, 2.0], ["A", "B"], start=0.0, end=3.0)
    value = log_likelihood(fit, mu=[0.1, 0.2], alpha=[[0.3, 0.1], [0.4, 0.2]], beta=1.0)
    assert_allclose(value, -5.055479760879033, rtol=0, atol=1e-12)


def _direct_loglik(t, side, horizon, mu, alpha, beta):
    """O(N^2) definition: every event against every earlier event, one at a time; ``beta`` is
    one decay or a 2 x 2 list (``beta[i][j]`` for side j -> side i)."""
    b = [[beta, beta], [beta, beta]] if np.ndim(beta) == 0 else beta
    total = 0.0
    for k in range(len(t)):
        i = side[k]
        lam = mu[i]
        for m in range(len(t)):
            if t[m] < t[k]:
                j = side[m]
                lam += alpha[i][j] * b[i][j] * math.exp(-b[i][j] * (t[k] - t[m]))
        total += math.log(lam)
    total -= (mu[0] + mu[1]) * horizon
    for m in range(len(t)):
        for i in (0, 1):
            j = side[m]
            total -= alpha[i][j] * (1 - math.exp(-b[i][j] * (horizon - t[m])))
    return total


def test_log_likelihood_matches_the_direct_double_sum():
    events = hawkes(mu=MU, alpha=ALPHA, beta=BETA, horizon=400, seed=7)
    t = events["t"].to_list()
    side = [0 if s == "A" else 1 for s in events["side"]]
    # a B event at the very time of an A event: they must not excite each other (t_l < t_k is strict)
    t.append(t[10])
    side.append(1 - side[10])
    fit = _small(t, ["A" if s == 0 else "B" for s in side], start=0.0, end=400.0)
    for mu, alpha, beta in (([0.1, 0.05], [[0.2, 0.4], [0.3, 0.1]], 0.5), ([0.3, 0.02], [[0.05, 0.9], [0.6, 0.01]], 3.0),
                            ([0.1, 0.05], [[0.2, 0.4], [0.3, 0.1]], [[2.0, 0.05], [0.3, 0.7]])):
        ours = log_likelihood(fit, mu=mu, alpha=alpha, beta=beta)
        direct = _direct_loglik(t, side, 400.0, mu, alpha, beta)
        assert_allclose(ours, direct, rtol=0, atol=1e-8)


def test_discrete_log_likelihood_matches_the_direct_poisson_sum():
    # events on days 0, 0, 1, 3 (A) and 1, 1, 4 (B) of a 6-day window
    rows = [(f"e{i}", f"2024-01-0{d + 1}", s, "other")
            for i, (d, s) in enumerate([(0, "A"), (0, "A"), (1, "A"), (3, "A"), (1, "B"), (1, "B"), (4, "B")])]
    events = make_events(rows)
    with pytest.warns(FewEventsWarning):
        fit = fit_hawkes(events, sides=["A", "B"], ties="discrete", start="2024-01-01", end="2024-01-06")
    mu, alpha, beta = np.array([0.3, 0.2]), np.array([[0.2, 0.5], [0.4, 0.1]]), 0.8
    y = np.zeros((6, 2))
    for d, s in [(0, 0), (0, 0), (1, 0), (3, 0), (1, 1), (1, 1), (4, 1)]:
        y[d, s] += 1
    direct = 0.0
    for d in range(6):
        for i in (0, 1):
            # expected count of day d: background + each earlier day's events through the daily kernel
            mean = mu[i] + sum(alpha[i, j] * y[e, j] * (1 - math.exp(-beta)) * math.exp(-beta * (d - e - 1))
                               for e in range(d) for j in (0, 1))
            direct += y[d, i] * math.log(mean) - mean - math.lgamma(y[d, i] + 1)
    assert_allclose(log_likelihood(fit, mu=mu, alpha=alpha, beta=beta), direct, rtol=0, atol=1e-10)


@pytest.mark.parametrize("how", [{}, {"time_col": "date"}, {"time_col": "date", "ties": "discrete"}])
def test_gradient_and_hessian_match_finite_differences(how):
    events = hawkes(mu=MU, alpha=ALPHA, beta=BETA, horizon=2_000, seed=3)
    fit = fit_hawkes(events, sides=["A", "B"], **how)
    # away from the maximum (no zero gradients), one decay per kernel
    theta = np.array([0.08, 0.07, 0.3, 0.2, 0.25, 0.15, 0.7, 0.4, 1.3, 0.9])
    value, grad, hess = derivatives(fit._data, theta)
    assert value == pytest.approx(log_likelihood(fit, mu=theta[:2], alpha=theta[2:6].reshape(2, 2),
                                                 beta=theta[6:].reshape(2, 2)), rel=1e-12)
    numeric_grad, numeric_hess = np.empty(10), np.empty((10, 10))
    for k in range(10):
        h = 1e-6 * theta[k]
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        numeric_grad[k] = (derivatives(fit._data, up)[0] - derivatives(fit._data, down)[0]) / (2 * h)
        numeric_hess[:, k] = (derivatives(fit._data, up)[1] - derivatives(fit._data, down)[1]) / (2 * h)
    # central differences: truncation ~h^2 f''' and rounding ~1e-16 |log L| / h, both below 1e-6
    # of the value here; the Hessian's columns are differences of the analytic gradient
    assert_allclose(grad, numeric_grad, rtol=1e-6)
    assert_allclose(hess, numeric_hess, rtol=1e-5, atol=1e-7 * np.abs(hess).max())
    assert_allclose(hess, hess.T, rtol=1e-12, atol=0)


def test_observed_information_of_a_shared_decay(fits):
    # the analytic Hessian restricted to beta_ij = beta (J'HJ) gives the standard errors that
    # central differences of the gradient in the 7 parameters give (relative steps of 1e-5)
    fit = fits[0][1]
    phi = np.array([*fit._theta[:6], fit.beta])
    numeric = np.empty((7, 7))
    for k in range(7):
        h = 1e-5 * phi[k]
        up, down = phi.copy(), phi.copy()
        up[k] += h
        down[k] -= h
        numeric[:, k] = SHARED.T @ (derivatives(fit._data, SHARED @ up)[1] - derivatives(fit._data, SHARED @ down)[1]) / (2 * h)
    se = np.sqrt(np.diag(np.linalg.inv(-(numeric + numeric.T) / 2)))
    assert_allclose(fit.params["se"], se, rtol=1e-4)
    assert (fit.params["se_method"] == "hessian").all()
    # at the maximum the score is zero: per event, below 1e-6 in every parameter
    _, grad, _ = derivatives(fit._data, fit._theta)
    assert np.abs(SHARED.T @ grad * np.concatenate([fit._theta[:6], [fit.beta]])).max() < 1e-6 * fit.n_events.sum()


# --- recovery -----------------------------------------------------------------------------------


def test_recovers_known_parameters_within_four_standard_errors(fits):
    # 3 seeds x 7 parameters; a correctly sized standard error puts |z| > 4 with probability
    # 6e-5 each, so 21 comparisons fail by chance with probability ~0.1%
    for _, fit in fits:
        assert fit.converged
        z = (fit.params["estimate"].to_numpy() - TRUTH) / fit.params["se"].to_numpy()
        assert np.abs(z).max() < 4, fit.params.assign(z=z)
    # the standard errors are relative: about 3% for mu A, 8-15% for the alphas at ~6,000 events
    se = fits[0][1].params["se"].to_numpy() / TRUTH
    assert (se < 0.2).all()


def test_branching_ratio_and_triggered_shares(fits):
    # truth: spectral radius of [[0.2, 0.4], [0.3, 0.1]] = (0.3 + sqrt(0.01 + 0.48)) / 2 = 0.5;
    # stationary rates m = (I - alpha)^-1 mu = (0.18333, 0.11667), so the triggered shares are
    # 1 - 0.1 / 0.18333 = 0.4545 (A) and 1 - 0.05 / 0.11667 = 0.5714 (B); bootstrap standard
    # errors at this size are ~0.013 (ratio) and ~0.015 (shares): 4 of them allowed
    for _, fit in fits:
        assert fit.branching_ratio == pytest.approx(0.5, abs=0.05)
        shares = fit.triggered.set_index("side")
        assert shares.loc["A", "triggered_share"] == pytest.approx(0.4545, abs=0.06)
        assert shares.loc["B", "triggered_share"] == pytest.approx(0.5714, abs=0.06)
        # score equation for mu at the maximum: sum_k 1 / lambda(t_k) = T, so 1 - mu T / N equals the
        # declustering shares summed over the source sides (an unconverged fit breaks this)
        assert_allclose(shares["from_A"] + shares["from_B"], shares["triggered_share"], atol=1e-6)
    fit = fits[0][1]
    excitation = fit.excitation.set_index("direction")
    # alpha_BA: B events per A event
    assert excitation.loc["A -> B", "alpha"] == fit.alpha[1, 0]
    assert excitation.loc["B -> A", "alpha"] == fit.alpha[0, 1]


def test_jittered_dates_recover_the_parameters(fits):
    # Cutting times to the day and jittering them blurs lags of a day or less: at beta = 0.5 (mean
    # delay 2 days) beta comes out ~1 standard error low over seeds; 4 standard errors still hold
    events = fits[0][0]
    fit = fit_hawkes(events, sides=["A", "B"], time_col="date")
    assert fit.times == "jitter" and fit.horizon == (events["date"].max() - events["date"].min()).days + 1
    z = (fit.params["estimate"].to_numpy() - TRUTH) / fit.params["se"].to_numpy()
    assert np.abs(z).max() < 4, fit.params.assign(z=z)


def test_jitter_is_seeded_and_free_of_row_order(fits):
    events = fits[0][0].iloc[:1500]
    first = fit_hawkes(events, sides=["A", "B"], time_col="date", seed=5)
    again = fit_hawkes(events.sample(frac=1.0, random_state=1), sides=["A", "B"], time_col="date", seed=5)
    other = fit_hawkes(events, sides=["A", "B"], time_col="date", seed=6)
    assert_allclose(first._data.t, again._data.t, rtol=0, atol=0)
    assert first.loglik == again.loglik
    assert not np.allclose(first._data.t, other._data.t)
    # each event stays within its own day
    assert (np.floor(first._data.t) == np.sort((events["date"] - events["date"].min()).dt.days.to_numpy())).all()


def test_discrete_model_recovers_its_parameters():
    # daily counts simulated from the discrete model itself (same-day events do not excite each other)
    t, marks = hawkes_times(mu=MU, alpha=ALPHA, beta=BETA, horizon=HORIZON, seed=8, daily=True)
    events = pd.DataFrame({"date": pd.Timestamp("2000-01-01") + pd.to_timedelta(t, unit="D"),
                           "side": np.where(marks == 0, "A", "B")})
    fit = fit_hawkes(events, sides=["A", "B"], ties="discrete", start="2000-01-01",
                     end=pd.Timestamp("2000-01-01") + pd.Timedelta(days=HORIZON - 1))
    assert fit.times == "discrete" and fit.horizon == HORIZON
    z = (fit.params["estimate"].to_numpy() - TRUTH) / fit.params["se"].to_numpy()
    assert np.abs(z).max() < 4, fit.params.assign(z=z)
    assert fit.gof["p_value"].min() > 0.01


def test_datetime_times_give_the_numeric_fit(fits):
    # time_utc = 2020-01-01 + t: the same times once converted to days since the window start
    events = fits[0][0]
    by_number = fit_hawkes(events, sides=["A", "B"], time_col="t", start=0.0, end=float(HORIZON))
    by_time = fit_hawkes(events, sides=["A", "B"], time_col="time_utc", start="2020-01-01",
                         end=pd.Timestamp("2020-01-01") + pd.Timedelta(days=HORIZON - 1))
    assert by_time.times == "exact" and by_time.horizon == HORIZON
    assert_allclose(by_time.params["estimate"], by_number.params["estimate"], rtol=1e-6)


def test_fixed_decay_is_kept():
    events = hawkes(mu=MU, alpha=ALPHA, beta=BETA, horizon=5_000, seed=1)
    fit = fit_hawkes(events, sides=["A", "B"], beta=0.5, end=5_000.0)
    assert fit.beta == 0.5 and fit.beta_fixed
    assert fit.cov.shape == (6, 6) and np.isnan(fit.params.set_index("label").loc["beta", "se"])
    assert fit.params.set_index("label").loc["beta", "se_method"] == "fixed" and fit.n_params == 6
    # the profile at the true decay is below the joint maximum (beta free adds a parameter)
    assert fit.loglik <= fit_hawkes(events, sides=["A", "B"], end=5_000.0).loglik + 1e-9


# --- goodness of fit ----------------------------------------------------------------------------


def test_time_rescaling_is_not_rejected_on_the_true_model(fits):
    for _, fit in fits:
        assert fit.gof["p_value"].min() > 0.01, fit.gof
        increments = time_rescaling(fit)
        # Exp(1): mean 1 with standard error 1 / sqrt(N) < 0.025 at N > 2,000
        for side in ("A", "B"):
            assert increments[side].mean() == pytest.approx(1.0, abs=0.1)


def test_time_rescaling_rejects_a_regular_process():
    # gamma(shape 4) gaps are far more regular than any Hawkes process, whose gaps are at least
    # as dispersed as Poisson ones: the rescaled gaps cannot look exponential
    rng = np.random.default_rng(3)
    gaps = rng.gamma(4.0, 1 / (4 * 0.1), size=(2, 2000))  # mean gap 10 days
    t = np.cumsum(gaps, axis=1)
    events = pd.DataFrame({"t": t.ravel(), "side": ["A"] * 2000 + ["B"] * 2000})
    fit = fit_hawkes(events, sides=["A", "B"], end=float(t[:, -1].min()))
    assert fit.gof["p_value"].max() < 1e-6


def test_time_rescaling_rejects_a_wrong_decay(fits):
    # the reference data (beta 0.5) fitted with the decay fixed 10 times too fast or too slow
    events = fits[0][0]
    for wrong in (5.0, 0.05):
        fit = fit_hawkes(events, sides=["A", "B"], beta=wrong, end=float(HORIZON))
        assert fit.gof["p_value"].max() < 1e-4, (wrong, fit.gof)


def test_a_trend_is_absorbed_by_a_near_critical_fit_and_flagged():
    # Poisson events whose rates grow tenfold over the window, with no excitation at all. A
    # stationary Hawkes model explains the trend by a very slow kernel with branching ratio near
    # or above 1 (time rescaling does not object); the explosive fit is flagged
    rng = np.random.default_rng(5)
    horizon = 10_000.0
    frames = []
    for side, (low, high) in (("A", (0.02, 0.4)), ("B", (0.02, 0.2))):
        t = rng.uniform(0, horizon, rng.poisson(high * horizon))
        keep = rng.uniform(0, high, len(t)) < low + (high - low) * t / horizon  # thinning to the trend
        frames.append(pd.DataFrame({"t": t[keep], "side": side}))
    with pytest.warns(ExplosiveFitWarning, match="branching ratio"):
        fit = fit_hawkes(pd.concat(frames, ignore_index=True), sides=["A", "B"], end=horizon)
    assert fit.beta < 0.01  # mean delay over 100 days
    with pytest.raises(ValueError, match="explodes"):
        bootstrap(fit, n=2)


# --- decays per kernel and the binned estimator -------------------------------------------------

# self kernels fast (mean delay 0.2 days), cross kernels slow (33 days): one decay cannot serve both
SPLIT_ALPHA = np.full((2, 2), 0.3)
SPLIT_BETA = np.array([[5.0, 0.03], [0.03, 5.0]])


@pytest.fixture(scope="module")
def split():
    t, marks = hawkes_times(mu=MU, alpha=SPLIT_ALPHA, beta=SPLIT_BETA, horizon=30_000, seed=1)  # ~11,000 events
    events = _frame(t, marks)
    return events, fit_hawkes(events, sides=["A", "B"], end=30_000.0, decays="auto")


def test_decays_per_kernel_are_recovered_and_chosen_by_aic(split):
    _, fit = split
    assert fit.decays == "per_kernel" and fit.converged and fit.n_params == 10
    truth = np.concatenate([MU, SPLIT_ALPHA.ravel(), SPLIT_BETA.ravel()])
    table = fit.params
    assert list(table["label"][6:]) == ["beta[A,A]", "beta[A,B]", "beta[B,A]", "beta[B,B]"]
    assert list(table["target"][6:]) == ["A", "A", "B", "B"] and list(table["source"][6:]) == ["A", "B", "A", "B"]
    # 10 parameters within 4 standard errors (each fails by chance with probability 6e-5)
    z = (table["estimate"].to_numpy() - truth) / table["se"].to_numpy()
    assert np.abs(z).max() < 4, table.assign(z=z)
    assert_allclose(fit.beta, table["estimate"].to_numpy()[6:].reshape(2, 2))
    # the shared decay settles on the self kernels and loses the cross-excitation (alpha < 0.02)
    selection = fit.selection.set_index("decays")
    assert selection.loc["shared", "alpha[A,B]"] < 0.02 and selection.loc["shared", "alpha[B,A]"] < 0.02
    # AIC = 2k - 2 log L; the per-kernel model nests the shared one, so its likelihood is higher
    assert_allclose(selection["aic"], 2 * selection["n_params"] - 2 * selection["loglik"])
    assert selection.loc["per_kernel", "loglik"] > selection.loc["shared", "loglik"]
    assert selection["chosen"].tolist() == [False, True] and selection.loc["per_kernel", "delta_aic"] == 0
    assert fit.aic == selection.loc["per_kernel", "aic"]


def test_per_kernel_fit_nests_the_shared_one(fits):
    # on data with one decay the per-kernel likelihood is at least the shared one, and the extra
    # decays stay within 4 standard errors of the truth
    events, shared = fits[0]
    per_kernel = fit_hawkes(events, sides=["A", "B"], end=float(HORIZON), decays="per_kernel")
    assert per_kernel.loglik >= shared.loglik - 1e-6
    z = (per_kernel.params["estimate"].to_numpy()[6:] - BETA) / per_kernel.params["se"].to_numpy()[6:]
    assert np.abs(z).max() < 4
    # the shared fit's own selection table has its one row
    assert shared.selection["decays"].tolist() == ["shared"] and shared.selection["chosen"].all()


def test_binned_estimate_within_the_continuous_interval():
    # mean delay 10 days: the binned model loses only same-day excitation (about beta / 2 = 5% of
    # alpha), a fraction of a standard error at 6,000 events; every parameter and derived
    # quantity of the binned fit lies within the continuous fit's 95% interval
    t, marks = hawkes_times(mu=MU, alpha=ALPHA, beta=0.1, horizon=HORIZON, seed=4)
    events = _frame(t, marks)
    continuous = fit_hawkes(events, sides=["A", "B"], start=0.0, end=float(HORIZON))
    binned = fit_hawkes(events, sides=["A", "B"], start=0.0, end=float(HORIZON), estimator="binned")
    assert binned.times == "discrete" and binned.estimator == "binned" and binned.horizon == HORIZON
    ours, theirs = standard_errors(binned), standard_errors(continuous)
    inside = (ours["estimate"] >= theirs["ci_low"]) & (ours["estimate"] <= theirs["ci_high"])
    assert inside.all(), pd.concat([ours["estimate"], theirs[["label", "estimate", "ci_low", "ci_high"]]], axis=1)
    # binning exact times by day is the discrete model of the same events given as dates
    dated = pd.DataFrame({"date": pd.Timestamp("2000-01-01") + pd.to_timedelta(np.floor(t), unit="D"),
                          "side": events["side"]})
    by_date = fit_hawkes(dated, sides=["A", "B"], ties="discrete", start="2000-01-01",
                         end=pd.Timestamp("2000-01-01") + pd.Timedelta(days=HORIZON - 1))
    assert by_date.loglik == pytest.approx(binned.loglik, rel=1e-12)
    assert_allclose(by_date.params["estimate"], binned.params["estimate"], rtol=1e-8)


def test_cluster_simulation_has_the_stationary_counts():
    # E N_i = T ((I - alpha)^-1 mu)_i less an edge effect of order one mean delay: over 20 runs of
    # 2,000 days the mean counts lie within 4 standard errors of 2,000 x (0.18333, 0.11667)
    runs = np.array([np.bincount(hawkes_times(mu=MU, alpha=ALPHA, beta=[[2.0, 0.5], [0.5, 2.0]], horizon=2_000,
                                              seed=s)[1], minlength=2) for s in range(20)])
    expected = 2_000 * np.linalg.solve(np.eye(2) - ALPHA, MU)
    assert (np.abs(runs.mean(axis=0) - expected) < 4 * runs.std(axis=0, ddof=1) / np.sqrt(20)).all()
    t, _marks = hawkes_times(mu=MU, alpha=ALPHA, beta=BETA, horizon=500, seed=3, daily=True)
    assert (t == np.floor(t)).all() and (np.diff(t) >= 0).all() and t.max() < 500
    with pytest.raises(ValueError, match="spectral radius"):
        hawkes_times(mu=MU, alpha=np.full((2, 2), 0.6), beta=1.0, horizon=10)


# --- standard errors and bootstrap --------------------------------------------------------------


def test_delta_method_gradients_match_finite_differences():
    mu, alpha = np.array([0.1, 0.05]), np.array([[0.2, 0.4], [0.3, 0.1]])
    n_events = np.array([3700.0, 2300.0])
    _, jac = derived(mu, alpha, 20_000.0, n_events)
    phi = np.concatenate([mu, alpha.ravel()])
    numeric = np.empty((5, 6))
    for k in range(6):
        h = 1e-7
        up, down = phi.copy(), phi.copy()
        up[k] += h
        down[k] -= h
        numeric[:, k] = (derived(up[:2], up[2:].reshape(2, 2), 20_000.0, n_events)[0]
                         - derived(down[:2], down[2:].reshape(2, 2), 20_000.0, n_events)[0]) / (2 * h)
    assert_allclose(jac, numeric, rtol=1e-6, atol=1e-9)
    # by hand: the Perron root of [[0.2, 0.4], [0.3, 0.1]] is 0.15 + sqrt(0.05^2 + 0.12) = 0.5
    assert derived(mu, alpha, 20_000.0, n_events)[0][0] == pytest.approx(0.5)


def test_standard_errors_table(fits):
    fit = fits[0][1]
    table = standard_errors(fit).set_index("label")
    assert list(table.index[7:]) == ["branching_ratio", "triggered_share[A]", "triggered_share[B]",
                                     "stationary_share[A]", "stationary_share[B]"]
    assert_allclose(table["se"].iloc[:7], fit.params["se"])
    # triggered share 1 - mu T / N: se = T se(mu) / N
    assert table.loc["triggered_share[A]", "se"] == pytest.approx(HORIZON * fit.params["se"].iloc[0] / fit.n_events[0])
    # log-scale Wald interval: estimate * exp(+-1.96 se / estimate)
    row = table.loc["alpha[A,B]"]
    factor = np.exp(1.959963984540054 * row["se"] / row["estimate"])
    assert_allclose([row["ci_low"], row["ci_high"]], [row["estimate"] / factor, row["estimate"] * factor])
    assert table.loc["stationary_share[A]", "ci_method"] == "wald"


@pytest.fixture(scope="module")
def boot_6000(fits):
    """200 bootstrap draws of the first reference fit (~6,000 events), over two processes."""
    return bootstrap(fits[0][1], n=200, seed=3, n_jobs=2)


def test_hessian_standard_errors_agree_with_the_bootstrap(fits, boot_6000):
    # The spread of 200 refits estimates a standard error to within 5% (1 / sqrt(2 x 199)); the
    # observed-information (and delta-method) standard errors agree within 20% (4 of those) for
    # every parameter, the branching ratio and the shares
    fit = fits[0][1]
    assert boot_6000.n_failed == 0 and boot_6000.draws["converged"].all()
    ours = standard_errors(fit)
    ratio = ours["se"].to_numpy() / boot_6000.table["boot_se"].to_numpy()
    assert ((ratio > 0.8) & (ratio < 1.2)).all(), pd.DataFrame({"label": ours["label"], "ratio": ratio})
    # the percentile intervals cover the truth of the seven parameters (seeded, checked)
    table = boot_6000.table.set_index("label")
    assert ((table["ci_low"].iloc[:7] <= TRUTH) & (table["ci_high"].iloc[:7] >= TRUTH)).all()


def test_bootstrap_does_not_depend_on_the_number_of_workers(fits):
    fit = fits[0][1]
    one, two = bootstrap(fit, n=6, seed=9, n_jobs=1), bootstrap(fit, n=6, seed=9, n_jobs=2)
    pd.testing.assert_frame_equal(one.draws, two.draws)
    pd.testing.assert_frame_equal(one.table, two.table)
    assert not one.draws.equals(bootstrap(fit, n=6, seed=10, n_jobs=1).draws)
    # draw k's seed is a word of the k-th child of SeedSequence(9): the first draws of a longer
    # run are the same draws
    pd.testing.assert_frame_equal(bootstrap(fit, n=3, seed=9).draws, one.draws.iloc[:3])


def test_bootstrap_keeps_a_fixed_decay_and_binned_fits():
    events = hawkes(mu=MU, alpha=ALPHA, beta=BETA, horizon=2_000, seed=4)
    fit = fit_hawkes(events, sides=["A", "B"], beta=0.5, time_col="date")
    boot = bootstrap(fit, n=3, seed=9)
    assert (boot.draws["beta"] == 0.5).all()
    assert boot.table.set_index("label").loc["beta", ["ci_low", "ci_high"]].tolist() == [0.5, 0.5]
    binned = fit_hawkes(events, sides=["A", "B"], time_col="date", ties="discrete", decays="per_kernel")
    draws = bootstrap(binned, n=2, seed=1).draws
    assert draws["converged"].all() and "beta[B,A]" in draws.columns


def test_uncertainty_table_by_method(fits, boot_6000):
    fit = fits[0][1]
    hessian = uncertainty(fit, method="hessian")
    assert list(hessian.columns) == ["label", "estimate", "boot_mean", "boot_se", "ci_low", "ci_high", "se",
                                     "se_method", "ci_method", "n_bootstrap"]
    assert hessian["boot_se"].isna().all() and (hessian["n_bootstrap"] == 0).all()
    both = uncertainty(fit, method="both", n_bootstrap=200, seed=3, n_jobs=2)
    assert_allclose(both["boot_se"], boot_6000.table["boot_se"])
    assert_allclose(both["se"], hessian["se"]) and (both["ci_method"] == "bootstrap percentile").all()
    only = uncertainty(fit, method="bootstrap", n_bootstrap=10, seed=3, n_jobs=1)
    assert_allclose(only["se"], only["boot_se"]) and (only["se_method"] == "bootstrap").all()
    assert (only["n_bootstrap"] == 10).all()
    with pytest.raises(ValueError, match="must be one of"):
        uncertainty(fit, method="sandwich")


# --- tick cross-check ---------------------------------------------------------------------------


def _tick_learner():
    tick_hawkes = pytest.importorskip("tick.hawkes", reason="tick is not installed (optional dev dependency)")
    try:
        # tick 0.8 registers its attributes by parsing docstrings with numpydoc, which it
        # declares only as a docs extra: without numpydoc no tick object can be built
        return tick_hawkes.HawkesExpKern(BETA, gofit="likelihood", penalty="none", solver="agd", step=1e-4,
                                         tol=1e-12, max_iter=5_000)
    except AttributeError as error:
        pytest.skip(f"tick is installed but unusable ({error}); tick 0.8 needs numpydoc at run time")


def test_fixed_decay_estimates_match_tick(fits):
    learner = _tick_learner()
    events = fits[0][0]
    t = events["t"].to_numpy()
    is_b = (events["side"] == "B").to_numpy()
    learner.fit([np.ascontiguousarray(t[~is_b]), np.ascontiguousarray(t[is_b])], start=0.1)
    # tick's window is [0, last event]: our default end for a numeric time column is the same;
    # tick's adjacency is our alpha, as its kernels are alpha beta exp(-beta t)
    ours = fit_hawkes(events, sides=["A", "B"], beta=BETA)
    assert_allclose(learner.baseline, ours.mu, rtol=0.01)
    assert_allclose(learner.adjacency, ours.alpha, rtol=0.01)


# --- input checks -------------------------------------------------------------------------------


def test_input_errors_name_the_problem():
    events = hawkes(mu=MU, alpha=ALPHA, beta=BETA, horizon=300, seed=1)
    with pytest.raises(ValueError, match="no 'when' column"):
        fit_hawkes(events, sides=["A", "B"], time_col="when")
    with pytest.raises(ValueError, match=r"\['C'\] have no events"):
        fit_hawkes(events, sides=["A", "C"])
    with pytest.raises(ValueError, match="ties must be one of"):
        fit_hawkes(events, sides=["A", "B"], ties="drop")
    with pytest.raises(ValueError, match="needs dates"):
        fit_hawkes(events, sides=["A", "B"], ties="discrete")  # 't' holds exact times
    with pytest.raises(ValueError, match="decays must be one of"):
        fit_hawkes(events, sides=["A", "B"], decays="each")
    with pytest.raises(ValueError, match="estimator must be one of"):
        fit_hawkes(events, sides=["A", "B"], estimator="daily")
    with pytest.raises(ValueError, match="pass estimator='binned'"):
        fit_hawkes(events, sides=["A", "B"], time_col="date", ties="discrete", estimator="continuous")
    with pytest.raises(ValueError, match="cannot be used with fixed decays"):
        fit_hawkes(events, sides=["A", "B"], decays="auto", beta=0.5)
    with pytest.raises(ValueError, match="shared decay is one number"):
        fit_hawkes(events, sides=["A", "B"], beta=[[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="must be a number"):
        fit_hawkes(events, sides=["A", "B"], start="2020-01-01")
    coarse = events.assign(date_precision=np.where(np.arange(len(events)) < 3, "month", "day"))
    with pytest.raises(ValueError, match="3 events are dated only to the week or month"):
        fit_hawkes(coarse, sides=["A", "B"], time_col="date")
    with pytest.warns(FewEventsWarning, match="few events"):
        fit_hawkes(events.iloc[:60], sides=["A", "B"])


def test_inputs_are_not_modified(fits):
    events = fits[0][0].iloc[:800]
    before = events.copy()
    fit_hawkes(events, sides=["A", "B"], time_col="date")
    pd.testing.assert_frame_equal(events, before)


# --- figures ------------------------------------------------------------------------------------


def test_kernels_draws_the_four_fitted_kernels(fits):
    fit = fits[0][1]
    fig = kernels(fit.params, days=30)
    ax = fig.axes[0]
    assert len(ax.lines) == 4
    # at lag 0 each kernel equals alpha_ij * beta
    heights = sorted(line.get_ydata()[0] for line in ax.lines)
    assert_allclose(heights, np.sort(fit.alpha.ravel() * fit.beta))
    assert ax.get_xlim() == (0.0, 30.0)
    plt.close(fig)


def test_branching_matrix_writes_alpha_in_its_cells(fits):
    fit = fits[0][1]
    fig, ax = plt.subplots()
    assert branching_matrix(fit.params, ax=ax) is fig
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    # row = target (triggered side), column = source
    assert texts == {(i, j): f"{fit.alpha[i, j]:.2f}" for i in (0, 1) for j in (0, 1)}
    assert "0.5" in ax.get_title()  # branching ratio ~0.50 to two decimals
    plt.close(fig)


def test_params_table_round_trips_to_the_fit(fits):
    from analysis.hawkes import params_matrix

    fit = fits[0][1]
    sides, alpha, beta = params_matrix(fit.params)
    assert sides == list(fit.sides) and beta == fit.beta
    assert_allclose(alpha, fit.alpha)


def test_per_kernel_params_round_trip_and_draw(split):
    from analysis.hawkes import params_matrix

    fit = split[1]
    _sides, alpha, beta = params_matrix(fit.params)
    assert_allclose(alpha, fit.alpha) and assert_allclose(beta, fit.beta)
    # each kernel at lag 0 is alpha_ij beta_ij; its integral is alpha_ij
    assert_allclose(fit.kernel([0.0])[0], fit.alpha * fit.beta)
    fig = kernels(fit.params, days=30)
    heights = sorted(line.get_ydata()[0] for line in fig.axes[0].lines)
    assert_allclose(heights, np.sort((fit.alpha * fit.beta).ravel()))
    plt.close(fig)


def test_kernel_sums_against_direct_sums_across_blocks(monkeypatch):
    # S, D, E at each distinct time: sums over earlier events of n exp(-beta lag) times 1, lag,
    # lag^2; the running log-sum-exp is cut into blocks (65,536 rows; 7 here) that must join up
    from analysis.hawkes import likelihood

    rng = np.random.default_rng(0)
    u = np.cumsum(rng.exponential(0.7, 60))
    n = rng.integers(0, 3, 60).astype(float)
    beta = 0.9
    lag = u[:, None] - u[None, :]
    weight = np.where(lag > 0, n[None, :] * np.exp(-beta * np.where(lag > 0, lag, 0.0)), 0.0)
    direct = [weight.sum(axis=1), (weight * lag).sum(axis=1), (weight * lag**2).sum(axis=1)]
    with np.errstate(divide="ignore"):
        log_n = np.log(n)
    whole = likelihood.kernel_sums(u, log_n, beta, 2)
    monkeypatch.setattr(likelihood, "_CHUNK", 7)
    blocks = likelihood.kernel_sums(u, log_n, beta, 2)
    for ours, cut, truth in zip(whole, blocks, direct):
        assert_allclose(ours, truth, rtol=1e-12, atol=1e-300)
        assert_allclose(cut, truth, rtol=1e-12, atol=1e-300)


def test_warm_start_from_a_fit(fits):
    events, fit = fits[0]
    again = fit_hawkes(events, sides=["A", "B"], end=float(HORIZON), x0=fit)
    # no decay grid: a few profile evaluations, the same maximum
    assert again.n_eval < fit.n_eval and again.loglik == pytest.approx(fit.loglik, abs=1e-6)
    assert_allclose(again.params["estimate"], fit.params["estimate"], rtol=1e-5)
    start = {"mu": fit.mu, "alpha": fit.alpha, "beta": fit.beta}
    assert fit_hawkes(events, sides=["A", "B"], end=float(HORIZON), x0=start).loglik == pytest.approx(fit.loglik, abs=1e-6)
    with pytest.raises(ValueError, match="x0 needs keys"):
        fit_hawkes(events, sides=["A", "B"], x0={"mu": fit.mu})
