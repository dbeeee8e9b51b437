"""Bivariate Hawkes process with exponential kernels: maximum likelihood, standard errors,
bootstrap, model choice of the decays, fit checks.

Model
    The conditional intensity of side ``i`` (``i = 0, 1`` for ``sides[0]``, ``sides[1]``) is

    ``lambda_i(t) = mu_i + sum_j sum_{t_k^j < t} alpha_ij * beta_ij * exp(-beta_ij (t - t_k^j))``,

    the parametrisation of :func:`analysis.simulate.hawkes`: ``mu_i`` is the background rate
    per day, ``alpha_ij`` the expected number of side-``i`` events one side-``j`` event
    triggers (the branching matrix; ``alpha[B, A]`` is how many B events one A event
    triggers) and ``beta_ij`` the decay rate per day of the kernel ``j -> i`` (mean delay
    ``1 / beta_ij``). By default the four kernels share one decay ``beta``
    (``decays="shared"``); ``decays="per_kernel"`` estimates the four. The process is
    stationary when the spectral radius of ``alpha`` (the branching ratio) is below 1. Time
    is in days since the start of the observation window.
Likelihood
    ``log L = sum_k log lambda_{m_k}(t_k) - sum_i Lambda_i(T)`` on ``[0, T]`` (Ogata 1978),
    with the compensator ``Lambda_i(T) = mu_i T + sum_j alpha_ij sum_{k in j} (1 - exp(-beta_ij
    (T - t_k)))``. The excitation ``S_j(t_k) = sum_{t_l^j < t_k} exp(-beta (t_k - t_l))`` obeys
    Ozaki's (1979) recursion ``S(k) = exp(-beta (t_k - t_{k-1})) (S(k-1) + [m_{k-1} = j])``,
    solved in O(N) as a cumulative log-sum-exp, which never overflows; so are the sums with
    one and two powers of the lag that the first and second derivatives in ``beta`` need.
    Gradient and Hessian are analytic (:mod:`analysis.hawkes.likelihood`). Events at the very
    same time do not excite each other (``t_l < t_k`` is strict).
Maximisation
    The log-likelihood splits into one term per target side, each concave in ``(mu_i,
    alpha_i0, alpha_i1)`` for fixed decays: those are maximised by projected Newton steps, and
    the decays by L-BFGS-B on the resulting profile likelihood, started from the best point of
    a grid of decays (:data:`BETA_GRID`, 0.01 to 100 per day; at most 30 for the discrete
    model; 9 x 9 pairs per target side with one decay per kernel), as the profile is not
    concave in the decays.
Choice of decays
    ``decays="auto"`` fits both the shared decay (7 parameters) and one decay per kernel
    (10), and keeps the one with the lower AIC (``2 k - 2 log L``; ties keep the shared one);
    :attr:`HawkesFit.selection` lists both fits. One decay per kernel is needed when
    cross-excitation works on another time scale than self-excitation: with self kernels of
    mean delay 0.2 days and cross kernels of 33 days (all ``alpha = 0.3``), the shared decay
    makes the cross ``alpha`` vanish (below 0.02).
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
    standard error at 6,000 events. ``ties="discrete"`` is the binned estimator below.
Estimators
    ``estimator="continuous"`` (default) maximises the point-process likelihood of the event
    times. ``estimator="binned"`` fits the discrete-time model of the daily counts (dates, or
    times binned into days ``[0, 1), [1, 2), ...`` of the window): the counts ``y_i(d)`` are
    Poisson with mean ``mu_i + sum_j alpha_ij sum_{d' < d} y_j(d') (1 - exp(-beta_ij))
    exp(-beta_ij (d - d' - 1))``, which is the continuous model with every event placed at the
    end of its day and integrated over each day: same-day events never excite each other (a
    same-day response counts as background), and the log-likelihood is the Poisson one of
    the daily counts (with its ``log y!`` terms). Its cost grows with the number of days with
    events rather than of events, which suits day-precision or very dense data; its
    parameters estimate the continuous ones when the mean delays are well above a day.
Standard errors
    By default from the inverse observed information (the analytic Hessian at the maximum),
    with the delta method for the branching ratio and the shares
    (:func:`standard_errors`); the parametric bootstrap (:func:`bootstrap`) is an option,
    warm-started from the estimate, run over several processes and seeded per draw so that it
    does not depend on their number. :func:`uncertainty` gives either or both in one table.
Triggered share
    ``1 - mu_i T / N_i``: the share of side ``i``'s events not explained by the background.
    At the maximum likelihood the score equation for ``mu_i`` gives ``sum_k 1 / lambda_i(t_k)
    = T``, so this equals the mean probability that an event was triggered, ``1 - mean_k
    mu_i / lambda_i(t_k)`` (stochastic declustering, Zhuang, Ogata & Vere-Jones 2002), which
    splits by source side: the share of side ``i``'s events triggered by side ``j`` is
    ``mean_k alpha_ij beta_ij S_j(t_k) / lambda_i(t_k)``. The stationary share, ``1 - mu_i /
    m_i`` with the stationary rates ``m = (I - alpha)^-1 mu``, is reported beside it.
Goodness of fit
    Time rescaling (Ogata 1988; Brown et al. 2002): under the model the compensator
    increments ``Lambda_i(t_{k+1}^i) - Lambda_i(t_k^i)`` between consecutive side-``i``
    events are independent Exp(1); the Kolmogorov-Smirnov test of each side is reported
    (with estimated parameters the test is somewhat conservative). For the discrete model,
    the randomised probability integral transforms of the daily counts (Smith 1985) are
    tested against Uniform(0, 1) instead.
Limitations (seen on simulated data)
    Responses after a fixed delay (10 days) come out as short-lag self-excitation between
    the responses that share a trigger; time rescaling does not flag it. A trend in the
    background rates is absorbed by a very slow kernel with a branching ratio near or above 1
    (:class:`ExplosiveFitWarning`). A decay of a kernel whose ``alpha`` is near 0 is not
    identified (no standard error).

Modules: :mod:`~analysis.hawkes.likelihood` (recursions, derivatives, maximisation),
:mod:`~analysis.hawkes.fit` (input, :func:`fit_hawkes`, tables),
:mod:`~analysis.hawkes.inference` (standard errors, bootstrap), :mod:`~analysis.hawkes.gof`.

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
Akaike, H. (1974). A new look at the statistical model identification. IEEE Transactions on
Automatic Control 19, 716-723.
"""

from analysis.hawkes.fit import (
    DECAYS,
    ESTIMATORS,
    MIN_EVENTS,
    TIE_RULES,
    ExplosiveFitWarning,
    FewEventsWarning,
    HawkesConvergenceWarning,
    HawkesFit,
    fit_hawkes,
    kernel_values,
    log_likelihood,
    params_matrix,
    time_rescaling,
)
from analysis.hawkes.inference import SE_METHODS, HawkesBootstrap, bootstrap, standard_errors, uncertainty
from analysis.hawkes.likelihood import BETA_GRID

__all__ = [
    "BETA_GRID",
    "DECAYS",
    "ESTIMATORS",
    "MIN_EVENTS",
    "SE_METHODS",
    "TIE_RULES",
    "ExplosiveFitWarning",
    "FewEventsWarning",
    "HawkesBootstrap",
    "HawkesConvergenceWarning",
    "HawkesFit",
    "bootstrap",
    "fit_hawkes",
    "kernel_values",
    "log_likelihood",
    "params_matrix",
    "standard_errors",
    "time_rescaling",
    "uncertainty",
]
