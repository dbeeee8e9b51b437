"""Bivariate Hawkes process with exponential kernels: maximum likelihood, bootstrap, fit checks.

Model
    The conditional intensity of side ``i`` (``i = 0, 1`` for ``sides[0]``, ``sides[1]``) is

    ``lambda_i(t) = mu_i + sum_j sum_{t_k^j < t} alpha_ij * beta * exp(-beta (t - t_k^j))``,

    the parametrisation of :func:`analysis.simulate.hawkes`: ``mu_i`` is the background rate
    per day, ``alpha_ij`` the expected number of side-``i`` events one side-``j`` event
    triggers (the branching matrix; ``alpha[B, A]`` is how many B events one A event
    triggers) and ``beta`` the decay rate per day, common to the four kernels (mean delay
    ``1 / beta``). The process is stationary when the spectral radius of ``alpha`` (the
    branching ratio) is below 1. Time is in days since the start of the observation window.
Likelihood
    ``log L = sum_k log lambda_{m_k}(t_k) - sum_i Lambda_i(T)`` on ``[0, T]`` (Ogata 1978),
    with the compensator ``Lambda_i(T) = mu_i T + sum_j alpha_ij sum_{k in j}
    (1 - exp(-beta (T - t_k)))``. The excitation ``S_j(t_k) = sum_{t_l^j < t_k}
    exp(-beta (t_k - t_l))`` obeys Ozaki's (1979) recursion ``S(k) = exp(-beta (t_k -
    t_{k-1})) (S(k-1) + [m_{k-1} = j])``, a first-order linear recurrence whose solution is
    ``exp(-beta t_k) * sum_{l < k} exp(beta t_l)``: it is computed in O(N) as a cumulative
    log-sum-exp (``numpy.logaddexp.accumulate``), which never overflows. The derivative in
    ``beta`` needs ``D_j(t_k) = sum_{t_l^j < t_k} (t_k - t_l) exp(-beta (t_k - t_l))``, which
    obeys ``D(k) = exp(-beta (t_k - t_{k-1})) D(k-1) + (t_k - t_{k-1}) S(k)``: another linear
    recurrence with non-negative inputs, computed the same way (no cancellation). The
    gradient is analytic; the maximum is found by L-BFGS-B on the logarithms of the
    parameters. Events at the very same time do not excite each other (``t_l < t_k`` is
    strict).
Decay
    The log-likelihood is concave in ``(mu, alpha)`` for a fixed ``beta`` but not in ``beta``.
    Unless a starting point is given, ``(mu, alpha)`` are first maximised on a grid of decays
    (:data:`BETA_GRID`, 0.01 to 100 per day; at most 30 for the discrete model) by EM (40 steps
    each; Veen & Schoenberg 2008) and the joint maximisation starts from the best.
Ties (events known only to the day)
    When the time is a date (a datetime column whose values are all midnight, e.g. ``date``),
    the order of the events of one day is unknown. ``ties="jitter"`` (default) places each
    event at ``day + U`` with ``U ~ Uniform(0, 1)`` drawn from ``numpy.random.default_rng(
    seed)``, the draws assigned after sorting the events by day, side and ``event_id`` (so
    the same events give the same times whatever the row order). Same-day events of both
    sides are then ordered at random, and half the same-day exchanges count as responses on
    average; delays shorter than a day are not identified (a fitted ``beta`` well above 1 per
    day says that the excitation is mostly within the day, whose timing the jitter invents).
    On data simulated with ``beta = 0.5``, jitter lowers the fitted ``beta`` by about one
    standard error at 6,000 events. ``ties="discrete"`` fits the discrete-time
    model instead: the counts ``y_i(d)`` of each day are Poisson with mean ``mu_i + sum_j
    alpha_ij sum_{d' < d} y_j(d') (1 - exp(-beta)) exp(-beta (d - d' - 1))``, which is the
    continuous model with every event placed at the end of its day and integrated over each
    day: same-day events never excite each other (a same-day response counts as
    background), and the log-likelihood is the Poisson one of the daily counts (with its
    ``log y!`` terms). With exact times (a numeric column such as ``t`` of
    :func:`analysis.simulate.hawkes`, in days, or a datetime column with times of day)
    ``ties`` is not used.
Triggered share
    ``1 - mu_i T / N_i``: the share of side ``i``'s events not explained by the background.
    At the maximum likelihood the score equation for ``mu_i`` gives ``sum_k 1 / lambda_i(t_k)
    = T``, so this equals the mean probability that an event was triggered, ``1 - mean_k
    mu_i / lambda_i(t_k)`` (stochastic declustering, Zhuang, Ogata & Vere-Jones 2002), which
    splits by source side: the share of side ``i``'s events triggered by side ``j`` is
    ``mean_k alpha_ij beta S_j(t_k) / lambda_i(t_k)``. The stationary share, ``1 - mu_i /
    m_i`` with the stationary rates ``m = (I - alpha)^-1 mu``, is reported beside it.
Goodness of fit
    Time rescaling (Ogata 1988; Brown et al. 2002): under the model the compensator
    increments ``Lambda_i(t_{k+1}^i) - Lambda_i(t_k^i)`` between consecutive side-``i``
    events are independent Exp(1); the Kolmogorov-Smirnov test of each side is reported
    (with estimated parameters the test is somewhat conservative). For the discrete model,
    the randomised probability integral transforms of the daily counts (Smith 1985) are
    tested against Uniform(0, 1) instead.
Limitations (seen on simulated data)
    One exponential decay serves all four kernels. Cross-excitation on another time scale than
    self-excitation can vanish from the fit (self kernels with mean delay 0.2 days and cross
    kernels with mean delay 33 days, all ``alpha = 0.3``: the cross ``alpha`` come out below
    0.02), and responses after a fixed delay (10 days) come out as short-lag self-excitation
    between the responses that share a trigger. Time rescaling does not flag either case.
    A trend in the background rates is absorbed by a very slow kernel with a branching ratio
    near or above 1 (:class:`ExplosiveFitWarning`).

References
----------
Ogata, Y. (1978). The asymptotic behaviour of maximum likelihood estimators for stationary
point processes. Annals of the Institute of Statistical Mathematics 30, 243-261.
Ozaki, T. (1979). Maximum likelihood estimation of Hawkes' self-exciting point processes.
Annals of the Institute of Statistical Mathematics 31, 145-155.
Ogata, Y. (1988). Statistical models for earthquake occurrences and residual analysis for
point processes. Journal of the American Statistical Association 83, 9-27.
Brown, E. N., Barbieri, R., Ventura, V., Kass, R. E. & Frank, L. M. (2002). The
time-rescaling theorem and its application to neural spike train data analysis. Neural
Computation 14, 325-346.
Veen, A. & Schoenberg, F. P. (2008). Estimation of space-time branching process models in
seismology using an EM-type algorithm. Journal of the American Statistical Association 103,
614-624.
Zhuang, J., Ogata, Y. & Vere-Jones, D. (2002). Stochastic declustering of space-time
earthquake occurrences. Journal of the American Statistical Association 97, 369-380.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from analysis.simulate import hawkes as simulate_hawkes
from analysis.warnings import ExplosiveFitWarning, FewEventsWarning, HawkesConvergenceWarning  # re-exported

__all__ = [
    "kernel_values",
    "params_matrix",
    "BETA_GRID",
    "TIE_RULES",
    "ExplosiveFitWarning",
    "FewEventsWarning",
    "HawkesBootstrap",
    "HawkesConvergenceWarning",
    "HawkesFit",
    "bootstrap",
    "fit_hawkes",
    "log_likelihood",
    "time_rescaling",
]

TIE_RULES = ("jitter", "discrete")

#: Decays (per day) at which ``(mu, alpha)`` are profiled to start the joint maximisation.
BETA_GRID = np.geomspace(0.01, 100.0, 9)

#: Fewer events than this on a side draw a :class:`FewEventsWarning`.
MIN_EVENTS = 50

_LOG_BOUNDS = (-30.0, 12.0)  # log-parameter bounds: 1e-13 .. 1.6e5
_DISCRETE_MAX_BETA = 30.0  # exp(beta) - 1 stays finite and meaningful


# ---------------------------------------------------------------------------------------------
# likelihood


class _Data:
    """Event times of one realisation, on ``[0, horizon]``, arranged for the recursions.

    Continuous model: ``u`` are the distinct event times and ``n[r, j]`` the number of side-j
    events at ``u[r]``. Discrete model: ``u`` are the days ``0 .. horizon - 1`` (all of them,
    for the daily Poisson terms) and ``n[d, j]`` the day's counts.
    """

    def __init__(self, t: np.ndarray, marks: np.ndarray, horizon: float, *, discrete: bool):
        order = np.argsort(t, kind="stable")
        t, marks = np.asarray(t, dtype=float)[order], np.asarray(marks, dtype=np.int64)[order]
        self.t, self.marks, self.horizon, self.discrete = t, marks, float(horizon), discrete
        if discrete:
            self.u = np.arange(int(round(horizon)), dtype=float)
            inverse = t.astype(np.int64)
        else:
            self.u, inverse = np.unique(t, return_inverse=True)
        self.n = np.column_stack([np.bincount(inverse[marks == j], minlength=len(self.u)) for j in (0, 1)]).astype(float)
        self.n_events = self.n.sum(axis=0)
        # time from each event to the end of the window, over which its kernel is integrated
        # (discrete: the event acts from the end of its day)
        shift = 1.0 if discrete else 0.0
        self.lags = [self.horizon - shift - t[marks == j] for j in (0, 1)]
        self.log_factorial = float(special.gammaln(self.n + 1).sum()) if discrete else 0.0
        self._cache: dict = {}

    def kappa(self, beta: float) -> tuple[float, float]:
        """Kernel factor and its derivative: ``beta`` (continuous), ``exp(beta) - 1`` (daily)."""
        if self.discrete:
            return float(np.expm1(beta)), float(np.exp(beta))
        return beta, 1.0

    def terms(self, beta: float, derivative: bool) -> tuple:
        """``S`` (and ``D``) at every ``u``, the compensator sums ``C_j`` and ``dC_j / dbeta``."""
        key = (beta, derivative)
        if (beta, True) in self._cache:
            return self._cache[(beta, True)]
        if key not in self._cache:
            self._cache.clear()
            self._cache[key] = self._terms(beta, derivative)
        return self._cache[key]

    def _terms(self, beta: float, derivative: bool) -> tuple:
        u, n = self.u, self.n
        bu = beta * u
        S = np.zeros_like(n)
        D = np.zeros_like(n) if derivative else None
        gaps = np.diff(u)
        with np.errstate(divide="ignore"):
            for j in (0, 1):
                # Ozaki's recursion solved as exp(-beta u_r) * sum_{s < r} n_s exp(beta u_s),
                # the sum kept as a running log-sum-exp
                running = np.logaddexp.accumulate(np.log(n[:, j]) + bu)
                S[1:, j] = np.exp(running[:-1] - bu[1:])
                if derivative:
                    # D_r = exp(-beta gap_r) D_{r-1} + gap_r S_r, solved the same way
                    inputs = np.concatenate([[-np.inf], np.log(gaps * S[1:, j])])
                    D[:, j] = np.exp(np.logaddexp.accumulate(inputs + bu) - bu)
        C = np.array([-np.expm1(-beta * lag).sum() for lag in self.lags])
        dC = np.array([(lag * np.exp(-beta * lag)).sum() for lag in self.lags]) if derivative else None
        return S, D, C, dC


def _combine(X: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``X @ alpha.T`` for two columns, written out: a BLAS call here would wake OpenBLAS's
    worker threads, whose spinning slows the optimiser's own small BLAS calls many times over."""
    return X[:, :1] * alpha[:, 0] + X[:, 1:] * alpha[:, 1]


def _loglik(data: _Data, mu: np.ndarray, alpha: np.ndarray, beta: float, *, grad: bool = False):
    """Log-likelihood and, with ``grad``, its gradient ``(d mu, d alpha, d beta)``."""
    S, D, C, dC = data.terms(beta, grad)
    kappa, dkappa = data.kappa(beta)
    lam = mu + kappa * _combine(S, alpha)  # lam[r, i] = mu_i + kappa sum_j alpha_ij S[r, j]
    n = data.n
    present = n > 0
    value = float((n[present] * np.log(lam[present])).sum() - mu.sum() * data.horizon - (alpha * C).sum()
                  - data.log_factorial)
    if not grad:
        return value
    w = np.where(present, n / lam, 0.0)
    g_mu = w.sum(axis=0) - data.horizon
    g_alpha = kappa * np.einsum("ri,rj->ij", w, S) - C[None, :]
    g_beta = float((w * _combine(dkappa * S - kappa * D, alpha)).sum() - (alpha * dC).sum())
    return value, (g_mu, g_alpha, g_beta)


def _unpack(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    return theta[:2], theta[2:6].reshape(2, 2), float(theta[6])


def _pack(mu, alpha, beta) -> np.ndarray:
    return np.concatenate([np.asarray(mu, dtype=float), np.asarray(alpha, dtype=float).ravel(), [float(beta)]])


def _maximise(data: _Data, theta0: np.ndarray, *, fix_beta: bool, ftol: float = 1e-13, gtol: float = 1e-9,
              maxiter: int = 5000):
    """Maximise over log-parameters with L-BFGS-B; the objective is ``-log L / N``."""
    scale = max(float(data.n_events.sum()), 1.0)
    k = 6 if fix_beta else 7
    beta_fixed = float(theta0[6])

    def objective(x):
        theta = np.exp(x)
        mu, alpha = theta[:2], theta[2:6].reshape(2, 2)
        beta = beta_fixed if fix_beta else float(theta[6])
        value, (g_mu, g_alpha, g_beta) = _loglik(data, mu, alpha, beta, grad=True)
        g = np.concatenate([g_mu, g_alpha.ravel(), [g_beta]])[:k] * theta  # chain rule for log-parameters
        return -value / scale, -g / scale

    bounds = [_LOG_BOUNDS] * k
    if not fix_beta and data.discrete:
        bounds[6] = (_LOG_BOUNDS[0], np.log(_DISCRETE_MAX_BETA))
    x0 = np.clip(np.log(np.maximum(theta0[:k], 1e-300)), [b[0] for b in bounds], [b[1] for b in bounds])
    result = optimize.minimize(objective, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                               options={"maxiter": maxiter, "ftol": ftol, "gtol": gtol, "maxcor": 20})
    theta = theta0.astype(float).copy()
    theta[:k] = np.exp(result.x)
    return theta, -result.fun * scale, result


def _default_start(data: _Data, beta: float) -> np.ndarray:
    mu = 0.5 * np.maximum(data.n_events, 1.0) / data.horizon
    return _pack(mu, np.full((2, 2), 0.2), beta)


def _em_profile(data: _Data, beta: float, *, iterations: int = 40) -> tuple[np.ndarray, float]:
    """Maximise over ``(mu, alpha)`` at a fixed ``beta`` by EM (stochastic declustering; Veen &
    Schoenberg 2008): each event is split between the background and the sides that may have
    triggered it in proportion to their shares of its intensity, and ``mu_i`` and ``alpha_ij``
    are re-estimated as expected counts over exposures (``T`` and ``C_j``). Each step raises
    the likelihood, which is concave in ``(mu, alpha)`` at a fixed ``beta``."""
    S, _, C, _ = data.terms(beta, False)
    kappa, _ = data.kappa(beta)
    theta = _default_start(data, beta)
    mu, alpha = theta[:2], theta[2:6].reshape(2, 2)
    n = data.n
    exposure = np.where(C > 0, C, np.inf)  # a side whose events all fall at the window end triggers nothing
    for _ in range(iterations):
        lam = mu + kappa * _combine(S, alpha)
        w = np.where(n > 0, n / lam, 0.0)
        mu = mu * w.sum(axis=0) / data.horizon
        alpha = alpha * kappa * np.einsum("ri,rj->ij", w, S) / exposure[None, :]
    theta = _pack(mu, alpha, beta)
    return theta, _loglik(data, mu, alpha, beta)


def _estimate(data: _Data, *, beta: float | None, theta0: np.ndarray | None):
    """Maximum likelihood: returns ``theta``, the log-likelihood, the final optimiser result
    and the total number of likelihood evaluations (EM steps of the decay grid included)."""
    evaluations = 0
    if theta0 is None:
        if beta is not None:
            theta0 = _em_profile(data, beta)[0]
            evaluations += 40
        else:
            grid = BETA_GRID[BETA_GRID <= _DISCRETE_MAX_BETA] if data.discrete else BETA_GRID
            profiles = [_em_profile(data, b) for b in grid]
            evaluations += 40 * len(grid)
            theta0 = max(profiles, key=lambda profile: profile[1])[0]
    elif beta is not None:
        theta0 = theta0.copy()
        theta0[6] = beta
    theta, value, result = _maximise(data, theta0, fix_beta=beta is not None)
    return theta, value, result, evaluations + result.nfev


def _gradient(data: _Data, theta: np.ndarray) -> np.ndarray:
    mu, alpha, beta = _unpack(theta)
    _, (g_mu, g_alpha, g_beta) = _loglik(data, mu, alpha, beta, grad=True)
    return np.concatenate([g_mu, g_alpha.ravel(), [g_beta]])


def _covariance(data: _Data, theta: np.ndarray, k: int) -> np.ndarray:
    """Inverse observed information of the first ``k`` parameters: the Hessian by central
    differences of the analytic gradient (relative steps of 1e-5); NaN when it is not
    negative definite."""
    hessian = np.empty((k, k))
    for p in range(k):
        h = 1e-5 * theta[p]
        up, down = theta.copy(), theta.copy()
        up[p] += h
        down[p] -= h
        hessian[:, p] = (_gradient(data, up)[:k] - _gradient(data, down)[:k]) / (2 * h)
    information = -(hessian + hessian.T) / 2
    try:
        np.linalg.cholesky(information)
    except np.linalg.LinAlgError:
        return np.full((k, k), np.nan)
    return np.linalg.inv(information)


# ---------------------------------------------------------------------------------------------
# goodness of fit


def _intensity_terms(data: _Data, mu, alpha, beta):
    S, _, _, _ = data.terms(beta, False)
    kappa, _ = data.kappa(beta)
    contributions = kappa * alpha[None, :, :] * S[:, None, :]  # [r, i, j]
    lam = mu + contributions.sum(axis=2)
    return S, lam, contributions


def _rescaled(data: _Data, mu, alpha, beta) -> list[np.ndarray]:
    """Compensator increments between consecutive events of each side (time rescaling)."""
    S, _, _, _ = data.terms(beta, False)
    before = np.cumsum(data.n, axis=0) - data.n  # events of each side strictly before u_r
    # Lambda_i(u_r) = mu_i u_r + sum_j alpha_ij sum_{t_l^j < u_r} (1 - exp(-beta (u_r - t_l)))
    compensator = mu * data.u[:, None] + _combine(before - S, alpha)
    out = []
    for i in (0, 1):
        at_events = np.repeat(compensator[:, i], data.n[:, i].astype(np.int64))
        out.append(np.diff(at_events, prepend=0.0))
    return out


def _gof(data: _Data, mu, alpha, beta, sides, seed: int) -> pd.DataFrame:
    rows = []
    if data.discrete:
        _, lam, _ = _intensity_terms(data, mu, alpha, beta)
        rng = np.random.default_rng(seed)
        for i, side in enumerate(sides):
            y = data.n[:, i]
            low = stats.poisson.cdf(y - 1, lam[:, i])
            high = stats.poisson.cdf(y, lam[:, i])
            pit = low + rng.uniform(size=len(y)) * (high - low)  # randomised PIT (Smith 1985)
            test = stats.kstest(pit, "uniform")
            rows.append((side, "randomised PIT of daily counts", len(y), test.statistic, test.pvalue))
    else:
        for side, increments in zip(sides, _rescaled(data, mu, alpha, beta)):
            test = stats.kstest(increments, "expon")
            rows.append((side, "time rescaling", len(increments), test.statistic, test.pvalue))
    frame = pd.DataFrame(rows, columns=["side", "method", "n", "ks_statistic", "p_value"])
    frame["side"] = frame["side"].astype("string")
    return frame


# ---------------------------------------------------------------------------------------------
# results


def _labels(sides: Sequence[str]) -> list[str]:
    a, b = sides
    return [f"mu[{a}]", f"mu[{b}]", f"alpha[{a},{a}]", f"alpha[{a},{b}]", f"alpha[{b},{a}]", f"alpha[{b},{b}]", "beta"]


def _spectral_radius(alpha: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(alpha))))


def _stationary_share(mu: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    if _spectral_radius(alpha) >= 1:
        return np.full(2, np.nan)
    rates = np.linalg.solve(np.eye(2) - alpha, mu)
    return 1 - mu / rates


@dataclass(frozen=True, eq=False)
class HawkesFit:
    """A fitted bivariate exponential Hawkes process (returned by :func:`fit_hawkes`).

    Attributes
    ----------
    sides : (str, str)
        Side keys; index 0 and 1 of ``mu`` and ``alpha``.
    mu : ndarray, shape (2,)
        Background rates per day.
    alpha : ndarray, shape (2, 2)
        ``alpha[i, j]``: expected number of side-``i`` events triggered by one side-``j``
        event.
    beta : float
        Decay rate per day (estimated unless ``beta_fixed``).
    beta_fixed : bool
    loglik : float
        Maximised log-likelihood (continuous: the point-process density; discrete: the
        Poisson log-likelihood of the daily counts).
    n_events : ndarray, shape (2,)
    horizon : float
        Length ``T`` of the observation window in days.
    start, end
        The window as given or defaulted (dates, or numbers for a numeric time column).
    time_col : str
    times : {"exact", "jitter", "discrete"}
        How event times were obtained (see the module notes on ties).
    seed : int
    cov : ndarray
        Inverse observed information of ``(mu_0, mu_1, alpha_00, alpha_01, alpha_10,
        alpha_11, beta)`` (6 x 6 when ``beta`` is fixed); NaN when not negative definite.
        Unreliable for parameters near zero: prefer :func:`bootstrap` there.
    converged : bool
    n_iter : int
        Iterations of the final (joint) L-BFGS-B run.
    n_eval : int
        Log-likelihood evaluations in all, counting the EM steps of the start (40 per decay).
    message : str
    params : DataFrame
        ``label``, ``parameter``, ``target``, ``source``, ``estimate``, ``se``.
    triggered : DataFrame
        One row per side: ``side``, ``n_events``, ``expected_background`` (``mu_i T``),
        ``triggered_share`` (``1 - mu_i T / N_i``), ``from_<side>`` (share of the side's
        events triggered by each side, stochastic declustering) and ``stationary_share``.
    gof : DataFrame
        One row per side: ``side``, ``method``, ``n``, ``ks_statistic``, ``p_value``.
    """

    sides: tuple[str, str]
    mu: np.ndarray
    alpha: np.ndarray
    beta: float
    beta_fixed: bool
    loglik: float
    n_events: np.ndarray
    horizon: float
    start: object
    end: object
    time_col: str
    times: str
    seed: int
    cov: np.ndarray = field(repr=False)
    converged: bool
    n_iter: int
    n_eval: int
    message: str
    params: pd.DataFrame = field(repr=False)
    triggered: pd.DataFrame = field(repr=False)
    gof: pd.DataFrame = field(repr=False)
    _data: _Data = field(repr=False)

    @property
    def branching_ratio(self) -> float:
        """Spectral radius of ``alpha``: the mean number of events (of either side) one event
        triggers in the long run; below 1 for a stationary process."""
        return _spectral_radius(self.alpha)

    @property
    def excitation(self) -> pd.DataFrame:
        """One row per direction ``source -> target``: ``alpha`` (target events per source
        event) and its ``se``."""
        table = self.params[self.params["parameter"] == "alpha"]
        out = pd.DataFrame({
            "direction": (table["source"] + " -> " + table["target"]).to_numpy(),
            "source": table["source"].to_numpy(),
            "target": table["target"].to_numpy(),
            "alpha": table["estimate"].to_numpy(),
            "se": table["se"].to_numpy(),
        })
        return out.astype({"direction": "string", "source": "string", "target": "string"})

    def kernel(self, lags) -> np.ndarray:
        """Fitted kernels at ``lags`` (days): array ``[lag, i, j]`` of ``alpha_ij beta
        exp(-beta lag)`` (continuous), or for the discrete model the expected side-``i`` events
        on the day ``lag >= 1`` days after a side-``j`` event, ``alpha_ij (1 - exp(-beta))
        exp(-beta (lag - 1))``."""
        return kernel_values(self.alpha, self.beta, lags, discrete=self.times == "discrete")


def kernel_values(alpha, beta: float, lags, *, discrete: bool = False) -> np.ndarray:
    """Kernels at ``lags`` (days): array ``[lag, i, j]`` of ``alpha_ij beta exp(-beta lag)``
    (continuous), or for the discrete model the expected side-``i`` events on the day
    ``lag >= 1`` days after a side-``j`` event, ``alpha_ij (1 - exp(-beta)) exp(-beta (lag - 1))``."""
    lags = np.asarray(lags, dtype=float)
    if discrete:
        shape = np.where(lags >= 1, -np.expm1(-beta) * np.exp(-beta * (lags - 1)), 0.0)
    else:
        shape = np.where(lags >= 0, beta * np.exp(-beta * lags), 0.0)
    return shape[:, None, None] * np.asarray(alpha, dtype=float)[None, :, :]


def params_matrix(params: pd.DataFrame) -> tuple[list[str], np.ndarray, float]:
    """Sides, the branching matrix ``alpha[target, source]`` and ``beta`` from a parameter
    table (``HawkesFit.params``: ``parameter``, ``target``, ``source``, ``estimate``)."""
    mu = params[params["parameter"] == "mu"]
    sides = [str(s) for s in mu["target"]]
    index = {s: k for k, s in enumerate(sides)}
    alpha = np.zeros((len(sides), len(sides)))
    for row in params[params["parameter"] == "alpha"].itertuples():
        alpha[index[str(row.target)], index[str(row.source)]] = row.estimate
    beta = float(params.loc[params["parameter"] == "beta", "estimate"].iloc[0])
    return sides, alpha, beta


def log_likelihood(fit: HawkesFit, *, mu=None, alpha=None, beta: float | None = None) -> float:
    """Log-likelihood of the fitted data at other parameter values (defaults: the estimates).

    Uses the same event times as the fit (the same jitter), so likelihood-ratio comparisons
    between nested parameter values are meaningful.
    """
    mu = fit.mu if mu is None else np.asarray(mu, dtype=float)
    alpha = fit.alpha if alpha is None else np.asarray(alpha, dtype=float)
    beta = fit.beta if beta is None else float(beta)
    return _loglik(fit._data, mu, alpha, beta)


def time_rescaling(fit: HawkesFit) -> dict[str, np.ndarray]:
    """Compensator increments between consecutive events of each side (the first from the
    window start); Exp(1) and independent under the model (Ogata 1988). Continuous fits only."""
    if fit.times == "discrete":
        raise ValueError("time rescaling needs event times; this fit used the discrete daily model (see fit.gof)")
    return dict(zip(fit.sides, _rescaled(fit._data, fit.mu, fit.alpha, fit.beta)))


def _params_table(sides, theta: np.ndarray, cov: np.ndarray) -> pd.DataFrame:
    a, b = sides
    se = np.full(7, np.nan)
    with np.errstate(invalid="ignore"):
        se[: len(cov)] = np.sqrt(np.diag(cov))
    frame = pd.DataFrame({
        "label": _labels(sides),
        "parameter": ["mu", "mu", "alpha", "alpha", "alpha", "alpha", "beta"],
        "target": [a, b, a, a, b, b, None],
        "source": [None, None, a, b, a, b, None],
        "estimate": theta,
        "se": se,
    })
    return frame.astype({"label": "string", "parameter": "string", "target": "string", "source": "string"})


def _triggered_table(data: _Data, sides, mu, alpha, beta) -> pd.DataFrame:
    _, lam, contributions = _intensity_terms(data, mu, alpha, beta)
    n = data.n
    frame = pd.DataFrame({
        "side": pd.array(list(sides), dtype="string"),
        "n_events": data.n_events.astype(np.int64),
        "expected_background": mu * data.horizon,
        "triggered_share": 1 - mu * data.horizon / data.n_events,
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        for j, source in enumerate(sides):
            # mean over side-i events of the probability that side j triggered them
            frame[f"from_{source}"] = (n * contributions[:, :, j] / lam).sum(axis=0) / data.n_events
    frame["stationary_share"] = _stationary_share(mu, alpha)
    return frame


# ---------------------------------------------------------------------------------------------
# input


def _is_datetime(series: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(series)


def _prepare(events, *, sides, time_col, side_col, ties, seed, start, end):
    """Event times in days since the window start, marks, horizon, and the resolved settings."""
    if ties not in TIE_RULES:
        raise ValueError(f"ties must be one of {TIE_RULES}, got {ties!r}")
    sides = tuple(sides)
    if len(sides) != 2 or sides[0] == sides[1]:
        raise ValueError(f"a bivariate Hawkes fit needs two distinct sides, got {list(sides)}")
    if time_col is None:
        time_col = "t" if "t" in events.columns else "date"
    for col in (time_col, side_col):
        if col not in events.columns:
            raise ValueError(f"events has no {col!r} column; columns are: {list(events.columns)}")
    mine = events.loc[events[side_col].isin(list(sides)).fillna(False).to_numpy()]
    values = mine[time_col]
    if values.isna().any():
        raise ValueError(f"{int(values.isna().sum())} events of sides {list(sides)} have no {time_col!r}; "
                         "drop them or choose another time_col")
    marks = (mine[side_col] == sides[1]).to_numpy(dtype=bool).astype(np.int64)

    if _is_datetime(values):
        stamps = pd.to_datetime(values).to_numpy(dtype="datetime64[ns]")
        days = stamps.astype("datetime64[D]")
        day_precision = bool((stamps == days.astype("datetime64[ns]")).all())
        if "date_precision" in mine.columns:
            coarse = (mine["date_precision"].fillna("day") != "day").to_numpy(dtype=bool)
            if day_precision and coarse.any():
                raise ValueError(f"{int(coarse.sum())} events are dated only to the week or month "
                                 "(date_precision); a Hawkes fit needs day precision: drop them first")
        first = pd.Timestamp(start if start is not None else (days.min() if len(days) else "1970-01-01")).normalize()
        last = pd.Timestamp(end if end is not None else (days.max() if len(days) else first)).normalize()
        if last < first:
            raise ValueError(f"end {last.date()} is before start {first.date()}")
        horizon = float((last - first).days + 1)  # whole days, end day included
        origin = first.to_datetime64().astype("datetime64[ns]")
        if day_precision:
            day = (days - first.to_datetime64().astype("datetime64[D]")).astype(np.int64)
            inside = (day >= 0) & (day < horizon)
            day, marks = day[inside], marks[inside]
            if ties == "discrete":
                t, how = day.astype(float), "discrete"
            else:
                # jitter drawn in (day, side, event_id) order: independent of the row order
                ids = mine["event_id"].to_numpy(dtype=str)[inside] if "event_id" in mine.columns else np.arange(len(day))
                order = np.lexsort((ids, marks, day))
                t = np.empty(len(day))
                t[order] = day[order] + np.random.default_rng(seed).uniform(0.0, 1.0, len(day))
                how = "jitter"
        else:
            t = (stamps - origin) / np.timedelta64(1, "D")
            inside = (t >= 0) & (t <= horizon)
            t, marks, how = t[inside], marks[inside], "exact"
        start, end = first, last
    elif pd.api.types.is_numeric_dtype(values):
        if ties == "discrete":
            raise ValueError(f"ties='discrete' needs dates (day precision); {time_col!r} holds exact times. "
                             "Pass time_col='date' for the daily model")
        t = values.to_numpy(dtype=float)
        for name, value in (("start", start), ("end", end)):
            if value is not None and not isinstance(value, (int, float, np.number)):
                raise ValueError(f"{time_col!r} is numeric (days), so {name} must be a number, got {value!r}")
        lo = float(start) if start is not None else min(0.0, float(t.min()) if len(t) else 0.0)
        hi = float(end) if end is not None else (float(t.max()) if len(t) else lo)
        if hi <= lo:
            raise ValueError(f"end ({hi}) must be after start ({lo})")
        inside = (t >= lo) & (t <= hi)
        t, marks, horizon, how = t[inside] - lo, marks[inside], hi - lo, "exact"
        start, end = lo, hi
    else:
        raise ValueError(f"time column {time_col!r} must hold dates/times or numbers (days), not {values.dtype}")
    return t, marks, horizon, how, time_col, start, end, sides


def _start_from(x0, sides) -> np.ndarray | None:
    if x0 is None:
        return None
    if isinstance(x0, HawkesFit):
        return _pack(x0.mu, x0.alpha, x0.beta)
    if isinstance(x0, Mapping):
        missing = [k for k in ("mu", "alpha", "beta") if k not in x0]
        if missing:
            raise ValueError(f"x0 needs keys 'mu', 'alpha' and 'beta'; missing {missing}")
        theta = _pack(x0["mu"], x0["alpha"], x0["beta"])
    else:
        theta = np.asarray(x0, dtype=float)
    if theta.shape != (7,) or not (theta > 0).all():
        raise ValueError(f"x0 must give 2 mu, 2 x 2 alpha and beta, all positive; got {theta}")
    return theta


def fit_hawkes(
    events: pd.DataFrame,
    *,
    sides: Sequence[str],
    time_col: str | None = None,
    side_col: str = "side",
    ties: str = "jitter",
    seed: int = 0,
    start=None,
    end=None,
    beta: float | None = None,
    x0: Mapping | HawkesFit | np.ndarray | None = None,
) -> HawkesFit:
    """Fit a bivariate Hawkes process with exponential kernels by maximum likelihood.

    Parameters
    ----------
    events : DataFrame
        Events with a side column and a time column; rows of other sides (or none) are left
        out. Not modified.
    sides : two str
        Side keys, in the order of the rows and columns of ``alpha``.
    time_col : str, optional
        Column giving event times: a numeric column in days (e.g. ``t`` of
        :func:`analysis.simulate.hawkes`), a datetime column with times of day (e.g.
        ``time_utc``), or a date column (all midnight, e.g. ``date``: ties then apply).
        Default: ``"t"`` if present, else ``"date"``.
    side_col : str
        Column of side keys.
    ties : {"jitter", "discrete"}
        Treatment of events known only to the day (see the module notes): ``"jitter"``
        (default) places them at ``day + U(0, 1)`` drawn with ``seed``; ``"discrete"`` fits
        the daily-count model. Ignored with exact times.
    seed : int
        Seed of the jitter (and of the randomised PIT of the discrete goodness of fit).
    start, end : optional
        The observation window. For dates and datetimes: the first and last day included
        (default: the first and last event's day); the window runs from ``start`` at midnight
        to the midnight after ``end``. For a numeric column: numbers in days (default: 0, or
        the first time if earlier, and the last time). Events outside the window are left
        out, and so is their excitation of events inside it.
    beta : float, optional
        A fixed decay per day; by default the decay is estimated.
    x0 : mapping, HawkesFit or array, optional
        Starting point: ``{"mu": ..., "alpha": ..., "beta": ...}``, a previous fit, or the
        seven numbers ``(mu_0, mu_1, alpha_00, alpha_01, alpha_10, alpha_11, beta)``. By
        default ``(mu, alpha)`` are first profiled on :data:`BETA_GRID`.

    Returns
    -------
    HawkesFit

    Warns
    -----
    FewEventsWarning
        A side has fewer than 50 events in the window.
    HawkesConvergenceWarning
        L-BFGS-B stopped without meeting its criterion.
    ExplosiveFitWarning
        The fitted branching ratio is 1 or more.

    Raises
    ------
    ValueError
        A column is missing, times are missing, the window is empty or a side has no event.
    """
    t, marks, horizon, how, time_col, start, end, sides = _prepare(
        events, sides=sides, time_col=time_col, side_col=side_col, ties=ties, seed=seed, start=start, end=end)
    counts = np.bincount(marks, minlength=2)
    if (counts == 0).any():
        empty = [s for s, c in zip(sides, counts) if c == 0]
        raise ValueError(f"side(s) {empty} have no events in the window {start}..{end}; "
                         "a Hawkes fit needs events of both sides")
    few = [f"{s} ({c})" for s, c in zip(sides, counts) if c < MIN_EVENTS]
    if few:
        warnings.warn(f"few events for a 7-parameter Hawkes fit: {', '.join(few)}; estimates will be imprecise",
                      FewEventsWarning, stacklevel=2)
    if beta is not None and not beta > 0:
        raise ValueError(f"beta must be positive, got {beta}")
    if beta is not None and how == "discrete" and beta > _DISCRETE_MAX_BETA:
        raise ValueError(f"the discrete model needs beta <= {_DISCRETE_MAX_BETA} per day, got {beta}")
    data = _Data(t, marks, horizon, discrete=how == "discrete")
    theta, value, result, n_eval = _estimate(data, beta=beta, theta0=_start_from(x0, sides))
    if not result.success:
        warnings.warn(f"the Hawkes likelihood maximisation did not converge: {result.message}",
                      HawkesConvergenceWarning, stacklevel=2)
    mu, alpha, b = _unpack(theta)
    if _spectral_radius(alpha) >= 1:
        warnings.warn(f"the fitted branching ratio is {_spectral_radius(alpha):.3f} >= 1: the fitted process is "
                      "not stationary (trend or change in the rates?)", ExplosiveFitWarning, stacklevel=2)
    k = 6 if beta is not None else 7
    cov = _covariance(data, theta, k)
    return HawkesFit(
        sides=sides, mu=mu, alpha=alpha, beta=b, beta_fixed=beta is not None, loglik=value,
        n_events=data.n_events.astype(np.int64), horizon=horizon, start=start, end=end, time_col=time_col,
        times=how, seed=seed, cov=cov, converged=bool(result.success), n_iter=int(result.nit), n_eval=int(n_eval),
        message=str(result.message), params=_params_table(sides, theta, cov),
        triggered=_triggered_table(data, sides, mu, alpha, b), gof=_gof(data, mu, alpha, b, sides, seed), _data=data,
    )


# ---------------------------------------------------------------------------------------------
# parametric bootstrap


@dataclass(frozen=True, eq=False)
class HawkesBootstrap:
    """Parametric bootstrap of a :class:`HawkesFit` (returned by :func:`bootstrap`).

    Attributes
    ----------
    fit : HawkesFit
    draws : DataFrame
        One row per simulated realisation: ``draw``, ``seed``, ``converged``, ``n_<side>``,
        then one column per label of :attr:`table` (NaN when the refit failed).
    table : DataFrame
        ``label``, ``estimate`` (of the fit), ``boot_mean``, ``boot_se`` (standard deviation
        of the draws), ``ci_low``, ``ci_high`` (percentile interval at ``level``).
    level : float
    n_failed : int
        Draws whose refit raised (e.g. a side without events); left out of the table.
    """

    fit: HawkesFit
    draws: pd.DataFrame = field(repr=False)
    table: pd.DataFrame = field(repr=False)
    level: float
    n_failed: int


def _summaries(sides, mu, alpha, beta, data: _Data) -> list[float]:
    shares = 1 - mu * data.horizon / data.n_events
    return [*_pack(mu, alpha, beta), _spectral_radius(alpha), *shares, *_stationary_share(mu, alpha)]


def _summary_labels(sides) -> list[str]:
    return [*_labels(sides), "branching_ratio", *[f"triggered_share[{s}]" for s in sides],
            *[f"stationary_share[{s}]" for s in sides]]


def _simulate_discrete(mu, alpha, beta, days: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Daily counts of the discrete model, one day at a time."""
    decay, kappa = np.exp(-beta), np.expm1(beta)
    state = np.zeros(2)  # sum_{d' < d} y_j(d') exp(-beta (d - d'))
    counts = np.zeros((days, 2), dtype=np.int64)
    for d in range(days):
        counts[d] = rng.poisson(mu + kappa * (alpha @ state))  # 2 x 2: no BLAS threads
        state = decay * (state + counts[d])
    day = np.repeat(np.tile(np.arange(days), 2), counts.T.ravel())
    marks = np.repeat([0, 1], counts.sum(axis=0))
    return day.astype(float), marks


def bootstrap(fit: HawkesFit, *, n: int = 200, seed: int = 0, level: float = 0.95) -> HawkesBootstrap:
    """Parametric bootstrap: simulate the fitted model over the same window, refit, and take
    percentile intervals.

    Each draw simulates with :func:`analysis.simulate.hawkes` over ``fit.horizon`` days and
    observes the result as the data were: exact times stay exact; for a ``"jitter"`` fit the
    times are cut to the day and jittered afresh; a ``"discrete"`` fit is simulated with the
    discrete model itself. Refits start from the fitted values and keep ``beta`` fixed when
    the fit did. (:func:`analysis.simulate.hawkes` dates its events from 2020-01-01 in
    nanoseconds, so windows longer than about 106,000 days cannot be simulated.)

    Parameters
    ----------
    fit : HawkesFit
    n : int
        Number of draws (each costs one simulation and one fit).
    seed : int
        Seed of the draws (each draw's seed is derived from it).
    level : float
        Coverage of the percentile intervals.

    Returns
    -------
    HawkesBootstrap

    Raises
    ------
    ValueError
        If the fitted branching ratio is 1 or more (the fitted process cannot be simulated).
    """
    if fit.branching_ratio >= 1:
        raise ValueError(f"the fitted branching ratio is {fit.branching_ratio:.3f} >= 1: the fitted process "
                         "explodes and cannot be simulated; the bootstrap needs a stationary fit")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    labels = _summary_labels(fit.sides)
    theta0 = _pack(fit.mu, fit.alpha, fit.beta)
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n)]
    rows = []
    for draw, draw_seed in enumerate(seeds):
        rng = np.random.default_rng(draw_seed)
        if fit.times == "discrete":
            t, marks = _simulate_discrete(fit.mu, fit.alpha, fit.beta, int(fit.horizon), rng)
        else:
            simulated = simulate_hawkes(mu=fit.mu, alpha=fit.alpha, beta=fit.beta, horizon=fit.horizon,
                                        sides=fit.sides, seed=draw_seed)
            t = simulated["t"].to_numpy(dtype=float)
            marks = (simulated["side"] == fit.sides[1]).to_numpy(dtype=bool).astype(np.int64)
            if fit.times == "jitter":
                t = np.floor(t) + rng.uniform(0.0, 1.0, len(t))
        counts = np.bincount(marks, minlength=2)
        row = {"draw": draw, "seed": draw_seed, "converged": False,
               **{f"n_{s}": int(c) for s, c in zip(fit.sides, counts)}}
        if (counts > 0).all():
            data = _Data(t, marks, fit.horizon, discrete=fit.times == "discrete")
            theta, _, result, _ = _estimate(data, beta=fit.beta if fit.beta_fixed else None, theta0=theta0)
            mu, alpha, b = _unpack(theta)
            row["converged"] = bool(result.success)
            row.update(zip(labels, _summaries(fit.sides, mu, alpha, b, data)))
        rows.append(row)
    draws = pd.DataFrame(rows).reindex(columns=["draw", "seed", "converged", *[f"n_{s}" for s in fit.sides], *labels])
    ok = draws[labels[0]].notna()  # refitted (a draw without events of a side is not)
    values = draws.loc[ok, labels].to_numpy(dtype=float)
    tail = (1 - level) / 2 * 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns (e.g. a fixed beta)
        table = pd.DataFrame({
            "label": pd.array(labels, dtype="string"),
            "estimate": _summaries(fit.sides, fit.mu, fit.alpha, fit.beta, fit._data),
            "boot_mean": np.nanmean(values, axis=0) if len(values) else np.nan,
            "boot_se": np.nanstd(values, axis=0, ddof=1) if len(values) > 1 else np.nan,
            "ci_low": np.nanpercentile(values, tail, axis=0) if len(values) else np.nan,
            "ci_high": np.nanpercentile(values, 100 - tail, axis=0) if len(values) else np.nan,
        })
    if fit.beta_fixed:
        table.loc[table["label"] == "beta", ["boot_se", "ci_low", "ci_high"]] = [0.0, fit.beta, fit.beta]
    return HawkesBootstrap(fit=fit, draws=draws, table=table, level=level, n_failed=int((~ok).sum()))
