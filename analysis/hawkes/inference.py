"""Uncertainty of a Hawkes fit: standard errors from the observed information with the delta
method for derived quantities (the default), and the parametric bootstrap, run in parallel
(see :mod:`analysis.hawkes` for the model).

Observed information
    The Hessian of the log-likelihood is analytic (:func:`analysis.hawkes.likelihood.
    derivatives`), so the inverse observed information costs one pass over the events with the
    second-order recursions. Parameters the data cannot identify (the decay of a kernel whose
    ``alpha`` is 0) get no standard error, and the others are computed without them; when the
    information is not positive definite no standard error is given.
Delta method
    For the branching ratio (the Perron root ``rho = (a + d) / 2 + sqrt(((a - d) / 2)^2 + bc)``
    of ``alpha = [[a, b], [c, d]]``), the triggered shares ``1 - mu_i T / N_i`` and the
    stationary shares ``1 - mu_i / m_i`` (``m = (I - alpha)^-1 mu``), the gradients are
    analytic: ``dm / dmu = G``, ``dm_i / d alpha_kl = G_ik m_l`` with ``G = (I - alpha)^-1``.
    Intervals are Wald intervals: on the log scale for the positive quantities (rates,
    ``alpha``, decays, branching ratio: ``estimate * exp(+-z se / estimate)``, which stay
    positive), on the natural scale for the shares.
Bootstrap
    Each draw simulates the fitted model over the window through its cluster representation
    (:func:`analysis.simulate.hawkes_times`), observes it as the data were (exact times stay
    exact; a ``"jitter"`` fit's times are cut to the day and jittered afresh; a discrete fit is
    simulated as daily counts) and refits from the estimate (warm start: no decay grid). Draw
    ``k`` uses the ``k``-th child of ``numpy.random.SeedSequence(seed)``, so the draws do not
    depend on how many processes share them.
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from analysis.hawkes.likelihood import SHARED, EventData, derivatives, maximise, unpack
from analysis.simulate import hawkes_times

if TYPE_CHECKING:
    from analysis.hawkes.fit import HawkesFit

__all__ = ["SE_METHODS", "HawkesBootstrap", "bootstrap", "covariance", "derived", "standard_errors", "uncertainty"]

SE_METHODS = ("hessian", "bootstrap", "both")


# ---------------------------------------------------------------------------------------------
# observed information


def covariance(data: EventData, theta: np.ndarray, *, decays: str, beta_fixed: bool) -> tuple[np.ndarray, list[str]]:
    """Inverse observed information of the estimated parameters: ``(mu, alpha)`` (6), then the
    decay (shared: 7) or the four decays (per kernel: 10) unless they were fixed; and how
    each standard error was obtained.

    A parameter estimated at its bound 0 (``"at bound"``: the usual asymptotics do not hold
    there) or absent from the likelihood (``"not identified"``: all-zero information, e.g. the
    decay of a kernel whose ``alpha`` is 0) is left out, and the others are computed without
    it (``"hessian"``); their rows and columns are NaN. All are NaN when the information of
    the others is not positive definite (``"singular information"``). Fixed decays:
    ``"fixed"``.
    """
    _, _, hessian = derivatives(data, theta)
    values = np.asarray(theta, dtype=float)
    if decays == "shared":
        hessian = SHARED.T @ hessian @ SHARED
        values = values[:7]
    k = 6 if beta_fixed else len(hessian)
    information = -hessian[:k, :k]
    scale = np.abs(information).max(axis=0)
    identified = scale > 1e-12 * max(scale.max(), 1e-300)
    inside = values[:k] > 0
    keep = identified & inside
    status = ["hessian" if kept else ("not identified" if not ident else "at bound")
              for kept, ident in zip(keep, identified)]
    status += ["fixed"] * (len(values) - k)
    cov = np.full((k, k), np.nan)
    block = information[np.ix_(keep, keep)]
    try:
        np.linalg.cholesky(block)
    except np.linalg.LinAlgError:
        return cov, [("singular information" if s == "hessian" else s) for s in status]
    cov[np.ix_(keep, keep)] = np.linalg.inv(block)
    return cov, status


def derived(mu: np.ndarray, alpha: np.ndarray, horizon: float, n_events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The derived quantities ``(branching_ratio, triggered_share[0], triggered_share[1],
    stationary_share[0], stationary_share[1])`` and their gradient (5 x 6) in ``(mu_0, mu_1,
    alpha_00, alpha_01, alpha_10, alpha_11)``."""
    (a, b), (c, d) = alpha
    root = np.sqrt(((a - d) / 2) ** 2 + b * c)
    rho = (a + d) / 2 + root
    jac = np.zeros((5, 6))
    with np.errstate(divide="ignore", invalid="ignore"):
        # Perron root of a non-negative 2 x 2 matrix; not differentiable where root = 0
        jac[0, 2:] = [0.5 + (a - d) / (4 * root), c / (2 * root), b / (2 * root), 0.5 - (a - d) / (4 * root)]
    triggered = 1 - mu * horizon / n_events
    jac[1, 0], jac[2, 1] = -horizon / n_events[0], -horizon / n_events[1]
    if rho < 1:
        G = np.linalg.inv(np.eye(2) - alpha)
        m = G @ mu
        stationary = 1 - mu / m
        for i in (0, 1):
            jac[3 + i, :2] = mu[i] * G[i] / m[i] ** 2
            jac[3 + i, i] -= 1 / m[i]
            jac[3 + i, 2:] = (mu[i] / m[i] ** 2) * np.outer(G[i], m).ravel()  # d m_i / d alpha_kl = G_ik m_l
    else:
        stationary = np.full(2, np.nan)
        jac[3:] = np.nan
    return np.concatenate([[rho], triggered, stationary]), jac


def derived_labels(sides) -> list[str]:
    return ["branching_ratio", *[f"triggered_share[{s}]" for s in sides], *[f"stationary_share[{s}]" for s in sides]]


_POSITIVE = ("mu", "alpha", "beta", "branching_ratio")


def _wald(labels, estimate, se, level) -> tuple[np.ndarray, np.ndarray, list[str]]:
    z = stats.norm.ppf(0.5 + level / 2)
    low, high, how = np.full(len(labels), np.nan), np.full(len(labels), np.nan), []
    for k, label in enumerate(labels):
        if label.split("[")[0] in _POSITIVE:
            how.append("wald (log scale)")
            if estimate[k] > 0:
                factor = np.exp(z * se[k] / estimate[k])
                low[k], high[k] = estimate[k] / factor, estimate[k] * factor
        else:
            how.append("wald")
            low[k], high[k] = estimate[k] - z * se[k], min(estimate[k] + z * se[k], 1.0)
    return low, high, how


def standard_errors(fit: HawkesFit, *, level: float = 0.95) -> pd.DataFrame:
    """Standard errors and Wald intervals of every parameter and derived quantity.

    Returns
    -------
    DataFrame
        ``label`` (the parameters of ``fit.params``, then ``branching_ratio``,
        ``triggered_share[<side>]``, ``stationary_share[<side>]``), ``estimate``, ``se``,
        ``se_method`` (``"hessian"``: inverse observed information; ``"delta"``: the delta
        method on it; ``"fixed"``: a decay given, not estimated; no standard error for a
        parameter ``"at bound"`` 0 or ``"not identified"``, nor for a derived quantity that
        depends on one), ``ci_low``, ``ci_high``, ``ci_method`` (missing without a standard
        error).
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    params = fit.params
    values, jac = derived(fit.mu, fit.alpha, fit.horizon, fit.n_events.astype(float))
    cov6 = fit.cov[:6, :6]
    # a derived quantity has no standard error when one of the parameters it moves with has none
    missing = np.isnan(np.diag(cov6))
    lost = (np.abs(jac[:, missing]) > 0).any(axis=1) | np.isnan(jac).any(axis=1)
    with np.errstate(invalid="ignore"):
        derived_se = np.sqrt(np.einsum("ka,ab,kb->k", np.nan_to_num(jac), np.nan_to_num(cov6), np.nan_to_num(jac)))
    derived_se[lost] = np.nan
    labels = [*params["label"].astype(str), *derived_labels(fit.sides)]
    estimate = np.concatenate([params["estimate"].to_numpy(dtype=float), values])
    se = np.concatenate([params["se"].to_numpy(dtype=float), derived_se])
    method = [*params["se_method"].astype(str), *["delta"] * len(values)]
    low, high, how = _wald(labels, estimate, se, level)
    fixed = np.array([m == "fixed" for m in method])
    low[fixed], high[fixed] = estimate[fixed], estimate[fixed]
    ci_method = ["fixed" if f else (h if np.isfinite(e) else None) for f, h, e in zip(fixed, how, se)]
    return pd.DataFrame({
        "label": pd.array(labels, dtype="string"), "estimate": estimate, "se": se,
        "se_method": pd.array(method, dtype="string"), "ci_low": low, "ci_high": high,
        "ci_method": pd.array(ci_method, dtype="string"),
    })


# ---------------------------------------------------------------------------------------------
# parametric bootstrap


@dataclass(frozen=True, eq=False)
class HawkesBootstrap:
    """Parametric bootstrap of a :class:`~analysis.hawkes.HawkesFit` (returned by
    :func:`bootstrap`).

    Attributes
    ----------
    fit : HawkesFit
    draws : DataFrame
        One row per simulated realisation: ``draw``, ``seed``, ``converged``, ``n_<side>``,
        then one column per label of :attr:`table` (NaN when a side had no events).
    table : DataFrame
        ``label``, ``estimate`` (of the fit), ``boot_mean``, ``boot_se`` (standard deviation
        of the draws), ``ci_low``, ``ci_high`` (percentile interval at ``level``).
    level : float
    n_failed : int
        Draws that could not be refitted (a side without events); left out of the table.
    """

    fit: HawkesFit
    draws: pd.DataFrame = field(repr=False)
    table: pd.DataFrame = field(repr=False)
    level: float
    n_failed: int


def _draw(task: tuple) -> dict:
    """One bootstrap draw (a module-level function, so that worker processes can run it)."""
    spec, draw = task
    rng = np.random.default_rng(spec["seeds"][draw])
    mu, alpha, beta = unpack(spec["theta"])
    discrete = spec["times"] == "discrete"
    t, marks = hawkes_times(mu=mu, alpha=alpha, beta=beta, horizon=spec["horizon"], seed=rng, daily=discrete)
    if spec["times"] == "jitter":
        t = np.floor(t) + rng.uniform(0.0, 1.0, len(t))
    counts = np.bincount(marks, minlength=2)
    row = {"draw": draw, "seed": spec["seeds"][draw], "converged": False,
           **{f"n_{s}": int(c) for s, c in zip(spec["sides"], counts)}}
    if (counts > 0).all():
        data = EventData(t, marks, spec["horizon"], discrete=discrete)
        fixed = beta if spec["beta_fixed"] else None
        estimate = maximise(data, decays=spec["decays"], beta=fixed, start=spec["theta"])
        m, a, b = unpack(estimate.theta)
        row["converged"] = estimate.converged
        values = [*spec["select"](m, a, b), *derived(m, a, spec["horizon"], data.n_events)[0]]
        row.update(zip(spec["labels"], values))
    return row


def _params_of(decays: str):
    if decays == "shared":
        return _shared_values
    return _per_kernel_values


def _shared_values(mu, alpha, beta):
    return [*mu, *alpha.ravel(), beta[0, 0]]


def _per_kernel_values(mu, alpha, beta):
    return [*mu, *alpha.ravel(), *beta.ravel()]


#: With ``n_jobs=None``, processes are started only for more event-refits than this in all (each
#: process costs about a second and a half to start; a refit about 1e-5 s per event).
PARALLEL_MIN_WORK = 1_000_000


def _workers(n_jobs: int | None, n: int, events: int) -> int:
    if n_jobs is None:
        n_jobs = (os.cpu_count() or 1) if n * events > PARALLEL_MIN_WORK else 1
    elif n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    if not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive number of processes, -1 (all cores) or None (automatic), "
                         f"got {n_jobs!r}")
    return int(max(1, min(n_jobs, n)))


def _context():
    """Worker processes forked from a fork server that has imported this module once (safe in
    a threaded parent such as a Jupyter kernel, and no import per worker); spawned where there
    is no fork server (Windows)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


def bootstrap(fit: HawkesFit, *, n: int = 200, seed: int = 0, level: float = 0.95,
              n_jobs: int | None = None) -> HawkesBootstrap:
    """Parametric bootstrap: simulate the fitted model over the same window, refit, and take
    percentile intervals.

    Parameters
    ----------
    fit : HawkesFit
    n : int
        Number of draws (each costs one simulation and one fit from the estimate).
    seed : int
        Seed of the draws: draw ``k`` is seeded with a word of the ``k``-th child of
        ``numpy.random.SeedSequence(seed)`` (column ``seed`` of :attr:`HawkesBootstrap.draws`).
    level : float
        Coverage of the percentile intervals.
    n_jobs : int or None
        Worker processes: 1 runs the draws in this process, -1 one process per core, ``None``
        one per core when ``n`` times the events exceeds :data:`PARALLEL_MIN_WORK`, else 1.
        The draws are the same whatever the number.

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
    if n < 1:
        raise ValueError(f"n must be at least 1 draw, got {n}")
    labels = [*fit.params["label"].astype(str), *derived_labels(fit.sides)]
    spec = {"theta": fit._theta, "horizon": fit.horizon, "times": fit.times, "sides": list(fit.sides),
            "decays": fit.decays, "beta_fixed": fit.beta_fixed, "labels": labels, "select": _params_of(fit.decays),
            "seeds": [int(child.generate_state(1)[0]) for child in np.random.SeedSequence(seed).spawn(n)]}
    tasks = [(spec, k) for k in range(n)]
    workers = _workers(n_jobs, n, int(fit.n_events.sum()))
    if workers == 1:
        rows = [_draw(task) for task in tasks]
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
            rows = list(pool.map(_draw, tasks, chunksize=max(1, n // (4 * workers))))
    draws = pd.DataFrame(rows).reindex(columns=["draw", "seed", "converged", *[f"n_{s}" for s in fit.sides], *labels])
    ok = draws[labels[0]].notna()  # refitted (a draw without events of a side is not)
    values = draws.loc[ok, labels].to_numpy(dtype=float)
    tail = (1 - level) / 2 * 100
    estimate = [*fit.params["estimate"].to_numpy(dtype=float),
                *derived(fit.mu, fit.alpha, fit.horizon, fit.n_events.astype(float))[0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns (e.g. a stationary share)
        table = pd.DataFrame({
            "label": pd.array(labels, dtype="string"),
            "estimate": estimate,
            "boot_mean": np.nanmean(values, axis=0) if len(values) else np.nan,
            "boot_se": np.nanstd(values, axis=0, ddof=1) if len(values) > 1 else np.nan,
            "ci_low": np.nanpercentile(values, tail, axis=0) if len(values) else np.nan,
            "ci_high": np.nanpercentile(values, 100 - tail, axis=0) if len(values) else np.nan,
        })
    if fit.beta_fixed:
        decay = table["label"].str.startswith("beta").to_numpy(dtype=bool)
        table.loc[decay, "boot_se"] = 0.0
        table.loc[decay, "ci_low"] = table.loc[decay, "estimate"]
        table.loc[decay, "ci_high"] = table.loc[decay, "estimate"]
    return HawkesBootstrap(fit=fit, draws=draws, table=table, level=level, n_failed=int((~ok).sum()))


def uncertainty(fit: HawkesFit, *, method: str = "hessian", n_bootstrap: int = 200, seed: int = 0,
                level: float = 0.95, n_jobs: int | None = None) -> pd.DataFrame:
    """The uncertainty table of a fit: every parameter and derived quantity with its standard
    error and interval, by the observed information, the bootstrap, or both.

    Parameters
    ----------
    fit : HawkesFit
    method : {"hessian", "bootstrap", "both"}
        ``"hessian"``: :func:`standard_errors` (Wald intervals); ``"bootstrap"``:
        :func:`bootstrap` (``se`` is the bootstrap standard deviation, percentile
        intervals); ``"both"``: ``se`` from the observed information, ``boot_se`` and the
        percentile intervals from the bootstrap.
    n_bootstrap, seed, n_jobs
        Passed to :func:`bootstrap` (unused with ``"hessian"``).
    level : float
        Coverage of the intervals.

    Returns
    -------
    DataFrame
        ``label``, ``estimate``, ``boot_mean``, ``boot_se``, ``ci_low``, ``ci_high`` (the
        columns of :attr:`HawkesBootstrap.table`; the bootstrap's are NaN without it, and for
        a parameter the data do not identify, whose refits stay where they start), then
        ``se``, ``se_method`` (as in :func:`standard_errors`, or ``"bootstrap"``),
        ``ci_method`` (``"wald"``, ``"wald (log scale)"``, ``"bootstrap percentile"``,
        ``"fixed"``; missing without an interval) and ``n_bootstrap`` (draws refitted; 0
        without).
    """
    if method not in SE_METHODS:
        raise ValueError(f"method (the 'se' parameter) must be one of {SE_METHODS}, got {method!r}")
    table = standard_errors(fit, level=level)
    out = table[["label", "estimate"]].assign(boot_mean=np.nan, boot_se=np.nan, ci_low=table["ci_low"],
                                              ci_high=table["ci_high"], se=table["se"], se_method=table["se_method"],
                                              ci_method=table["ci_method"], n_bootstrap=0)
    if method == "hessian":
        return out
    boot = bootstrap(fit, n=n_bootstrap, seed=seed, level=level, n_jobs=n_jobs)
    out["boot_mean"] = boot.table["boot_mean"].to_numpy()
    out["boot_se"] = boot.table["boot_se"].to_numpy()
    out["ci_low"] = boot.table["ci_low"].to_numpy()
    out["ci_high"] = boot.table["ci_high"].to_numpy()
    out["n_bootstrap"] = int(n_bootstrap - boot.n_failed)
    fixed = (out["se_method"] == "fixed").to_numpy(dtype=bool)
    out["ci_method"] = pd.array(np.where(fixed, "fixed", "bootstrap percentile"), dtype="string")
    # refits started at the estimate do not move along a flat likelihood: no spread to report
    flat = (out["se_method"] == "not identified").to_numpy(dtype=bool)
    out.loc[flat, ["boot_mean", "boot_se", "ci_low", "ci_high"]] = np.nan
    out.loc[flat, "ci_method"] = pd.NA
    if method == "bootstrap":
        out["se"] = out["boot_se"]
        out["se_method"] = pd.array(np.where(fixed, "fixed", "bootstrap"), dtype="string")
    return out
