"""Fitting a bivariate Hawkes process to an events table: input, :func:`fit_hawkes` with the
choice of decays, and the fit's tables (see :mod:`analysis.hawkes` for the model)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.hawkes.gof import gof_table, rescaled
from analysis.hawkes.inference import covariance, derived
from analysis.hawkes.likelihood import (
    DISCRETE_MAX_BETA,
    EventData,
    maximise,
    pack,
    unpack,
)
from analysis.hawkes.likelihood import log_likelihood as _log_likelihood
from analysis.warnings import ExplosiveFitWarning, FewEventsWarning, HawkesConvergenceWarning

__all__ = [
    "DECAYS",
    "ESTIMATORS",
    "MIN_EVENTS",
    "TIE_RULES",
    "ExplosiveFitWarning",
    "FewEventsWarning",
    "HawkesConvergenceWarning",
    "HawkesFit",
    "fit_hawkes",
    "kernel_values",
    "log_likelihood",
    "params_matrix",
    "time_rescaling",
]

TIE_RULES = ("jitter", "discrete")
DECAYS = ("shared", "per_kernel", "auto")
ESTIMATORS = ("continuous", "binned")

#: Fewer events than this on a side draw a :class:`FewEventsWarning`.
MIN_EVENTS = 50





# ---------------------------------------------------------------------------------------------
# results


def _labels(sides: Sequence[str], decays: str) -> list[str]:
    a, b = sides
    pairs = [(a, a), (a, b), (b, a), (b, b)]
    betas = ["beta"] if decays == "shared" else [f"beta[{i},{j}]" for i, j in pairs]
    return [f"mu[{a}]", f"mu[{b}]", *[f"alpha[{i},{j}]" for i, j in pairs], *betas]


def _spectral_radius(alpha: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(alpha))))


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
    beta : float or ndarray, shape (2, 2)
        Decay rate per day: one number (``decays == "shared"``) or one per kernel
        (``beta[i, j]`` for side ``j`` -> side ``i``).
    decays : {"shared", "per_kernel"}
    beta_fixed : bool
        Whether the decays were given rather than estimated.
    loglik : float
        Maximised log-likelihood (continuous: the point-process density; binned: the Poisson
        log-likelihood of the daily counts).
    n_params : int
        Estimated parameters (6 + 1 shared decay, or 6 + 4; 6 with the decays fixed).
    aic : float
        ``2 n_params - 2 loglik``.
    n_events : ndarray, shape (2,)
    horizon : float
        Length ``T`` of the observation window in days.
    start, end
        The window as given or defaulted (dates, or numbers for a numeric time column).
    time_col : str
    times : {"exact", "jitter", "discrete"}
        How event times were obtained (see the notes on ties and estimators).
    estimator : {"continuous", "binned"}
    seed : int
    cov : ndarray
        Inverse observed information of ``(mu_0, mu_1, alpha_00, alpha_01, alpha_10,
        alpha_11)`` and the estimated decay(s), from the analytic Hessian; NaN where it cannot
        be computed (see ``params.se_method``). Unreliable for parameters near zero: prefer the
        bootstrap there.
    converged : bool
    n_iter : int
        Iterations of the decay search (L-BFGS-B; summed over the targets per kernel).
    n_eval : int
        Profile-likelihood evaluations (inner maximisations over ``(mu, alpha)``), grid
        included.
    message : str
    params : DataFrame
        ``label``, ``parameter``, ``target``, ``source``, ``estimate``, ``se``, ``se_method``
        (``"hessian"``: inverse observed information; no standard error for a parameter ``"at
        bound"`` 0, ``"not identified"``, or with ``"singular information"``; ``"fixed"``: a
        decay given).
    triggered : DataFrame
        One row per side: ``side``, ``n_events``, ``expected_background`` (``mu_i T``),
        ``triggered_share`` (``1 - mu_i T / N_i``), ``from_<side>`` (share of the side's
        events triggered by each side, stochastic declustering) and ``stationary_share``.
    gof : DataFrame
        One row per side: ``side``, ``method``, ``n``, ``ks_statistic``, ``p_value``.
    selection : DataFrame
        One row per model fitted (both with ``decays="auto"``): ``decays``, ``n_params``,
        ``loglik``, ``aic``, ``delta_aic`` (from the lowest), ``chosen``, ``converged``, then
        the estimates of every parameter in the per-kernel layout (a shared decay repeated in
        the four ``beta[...]`` columns).
    """

    sides: tuple[str, str]
    mu: np.ndarray
    alpha: np.ndarray
    beta: float | np.ndarray
    decays: str
    beta_fixed: bool
    loglik: float
    n_params: int
    aic: float
    n_events: np.ndarray
    horizon: float
    start: object
    end: object
    time_col: str
    times: str
    estimator: str
    seed: int
    cov: np.ndarray = field(repr=False)
    converged: bool
    n_iter: int
    n_eval: int
    message: str
    params: pd.DataFrame = field(repr=False)
    triggered: pd.DataFrame = field(repr=False)
    gof: pd.DataFrame = field(repr=False)
    selection: pd.DataFrame = field(repr=False)
    _theta: np.ndarray = field(repr=False)
    _data: EventData = field(repr=False)

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
        """Fitted kernels at ``lags`` (days): see :func:`kernel_values`."""
        return kernel_values(self.alpha, self.beta, lags, discrete=self.times == "discrete")


def kernel_values(alpha, beta, lags, *, discrete: bool = False) -> np.ndarray:
    """Kernels at ``lags`` (days): array ``[lag, i, j]`` of ``alpha_ij beta_ij exp(-beta_ij
    lag)`` (continuous), or for the discrete model the expected side-``i`` events on the day
    ``lag >= 1`` days after a side-``j`` event, ``alpha_ij (1 - exp(-beta_ij)) exp(-beta_ij
    (lag - 1))``. ``beta`` is one decay or a 2 x 2 array of them."""
    lags = np.asarray(lags, dtype=float)[:, None, None]
    beta = np.broadcast_to(np.asarray(beta, dtype=float), (2, 2))[None, :, :]
    if discrete:
        shape = np.where(lags >= 1, -np.expm1(-beta) * np.exp(-beta * (lags - 1)), 0.0)
    else:
        shape = np.where(lags >= 0, beta * np.exp(-beta * lags), 0.0)
    return shape * np.asarray(alpha, dtype=float)[None, :, :]


def params_matrix(params: pd.DataFrame) -> tuple[list[str], np.ndarray, float | np.ndarray]:
    """Sides, the branching matrix ``alpha[target, source]`` and the decay from a parameter
    table (``HawkesFit.params``: ``parameter``, ``target``, ``source``, ``estimate``): one
    number for a shared decay, a 2 x 2 array ``beta[target, source]`` for one per kernel."""
    mu = params[params["parameter"] == "mu"]
    sides = [str(s) for s in mu["target"]]
    index = {s: k for k, s in enumerate(sides)}
    alpha = np.zeros((len(sides), len(sides)))
    for row in params[params["parameter"] == "alpha"].itertuples():
        alpha[index[str(row.target)], index[str(row.source)]] = row.estimate
    decays = params[params["parameter"] == "beta"]
    if len(decays) == 1:
        return sides, alpha, float(decays["estimate"].iloc[0])
    beta = np.zeros((len(sides), len(sides)))
    for row in decays.itertuples():
        beta[index[str(row.target)], index[str(row.source)]] = row.estimate
    return sides, alpha, beta


def log_likelihood(fit: HawkesFit, *, mu=None, alpha=None, beta=None) -> float:
    """Log-likelihood of the fitted data at other parameter values (defaults: the estimates).

    Uses the same event times as the fit (the same jitter), so likelihood-ratio comparisons
    between nested parameter values are meaningful. ``beta``: one decay or a 2 x 2 array.
    """
    mu = fit.mu if mu is None else mu
    alpha = fit.alpha if alpha is None else alpha
    beta = fit.beta if beta is None else beta
    return _log_likelihood(fit._data, pack(mu, alpha, beta))


def time_rescaling(fit: HawkesFit) -> dict[str, np.ndarray]:
    """Compensator increments between consecutive events of each side (the first from the
    window start); Exp(1) and independent under the model (Ogata 1988). Continuous fits only."""
    if fit.times == "discrete":
        raise ValueError("time rescaling needs event times; this fit used the discrete daily model (see fit.gof)")
    return dict(zip(fit.sides, rescaled(fit._data, fit._theta)))


def _params_table(sides, theta: np.ndarray, cov: np.ndarray, status: list[str], decays: str) -> pd.DataFrame:
    a, b = sides
    values = theta[:7] if decays == "shared" else theta
    se = np.full(len(values), np.nan)
    with np.errstate(invalid="ignore"):
        se[: len(cov)] = np.sqrt(np.diag(cov))
    method = status
    shared = decays == "shared"
    frame = pd.DataFrame({
        "label": _labels(sides, decays),
        "parameter": ["mu", "mu", "alpha", "alpha", "alpha", "alpha", *["beta"] * (1 if shared else 4)],
        "target": [a, b, a, a, b, b, *([None] if shared else [a, a, b, b])],
        "source": [None, None, a, b, a, b, *([None] if shared else [a, b, a, b])],
        "estimate": values,
        "se": se,
        "se_method": method,
    })
    return frame.astype({"label": "string", "parameter": "string", "target": "string", "source": "string",
                         "se_method": "string"})


def _triggered_table(data: EventData, sides, theta: np.ndarray) -> pd.DataFrame:
    mu, alpha, beta = unpack(theta)
    values = derived(mu, alpha, data.horizon, data.n_events)[0]
    frame = pd.DataFrame({
        "side": pd.array(list(sides), dtype="string"),
        "n_events": data.n_events.astype(np.int64),
        "expected_background": mu * data.horizon,
        "triggered_share": values[1:3],
    })
    shares = np.zeros((2, 2))
    for i in (0, 1):
        rows, counts = data.rows[i], data.counts[i]
        parts = [alpha[i, j] * data.kappa(beta[i, j])[0] * data.sums(j, beta[i, j], 0)[0][rows] for j in (0, 1)]
        lam = mu[i] + parts[0] + parts[1]
        for j in (0, 1):
            # mean over side-i events of the probability that side j triggered them
            shares[i, j] = float(counts @ (parts[j] / lam)) / data.n_events[i]
    for j, source in enumerate(sides):
        frame[f"from_{source}"] = shares[:, j]
    frame["stationary_share"] = values[3:]
    return frame


def _selection_row(sides, decays: str, theta: np.ndarray, loglik: float, n_params: int, converged: bool) -> dict:
    row = {"decays": decays, "n_params": n_params, "loglik": loglik, "aic": 2 * n_params - 2 * loglik,
           "converged": converged}
    row.update(zip(_labels(sides, "per_kernel"), theta))
    return row


def _selection_table(rows: list[dict], chosen: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame.insert(4, "delta_aic", frame["aic"] - frame["aic"].min())
    frame.insert(5, "chosen", frame["decays"] == chosen)
    return frame.astype({"decays": "string"})


# ---------------------------------------------------------------------------------------------
# input


def _is_datetime(series: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(series)


def _prepare(events, *, sides, time_col, side_col, ties, binned, seed, start, end):
    """Event times in days since the window start (whole days when ``binned``), marks,
    horizon, and the resolved settings."""
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
        if day_precision or binned:
            day = (days - first.to_datetime64().astype("datetime64[D]")).astype(np.int64)
            inside = (day >= 0) & (day < horizon)
            day, marks = day[inside], marks[inside]
            if binned:
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
                             "Pass time_col='date' for the daily model, or estimator='binned' to bin the times by day")
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
        if binned:
            # days [0, 1), [1, 2), ...: a last partial day counts as a whole one
            horizon = float(np.ceil(horizon))
            t, how = np.minimum(np.floor(t), horizon - 1), "discrete"
        start, end = lo, hi
    else:
        raise ValueError(f"time column {time_col!r} must hold dates/times or numbers (days), not {values.dtype}")
    return t, marks, horizon, how, time_col, start, end, sides


def _start_from(x0) -> np.ndarray | None:
    if x0 is None:
        return None
    if isinstance(x0, HawkesFit):
        return x0._theta.copy()
    if isinstance(x0, Mapping):
        missing = [k for k in ("mu", "alpha", "beta") if k not in x0]
        if missing:
            raise ValueError(f"x0 needs keys 'mu', 'alpha' and 'beta'; missing {missing}")
        theta = pack(x0["mu"], x0["alpha"], x0["beta"])
    else:
        theta = np.asarray(x0, dtype=float)
        if theta.shape == (7,):
            theta = pack(theta[:2], theta[2:6], theta[6])
    if theta.shape != (10,) or not (theta > 0).all():
        raise ValueError(f"x0 must give 2 mu, 2 x 2 alpha and the decay(s) (1 or 2 x 2), all positive; got {theta}")
    return theta


def _resolve_estimator(estimator, ties) -> str:
    if ties not in TIE_RULES:
        raise ValueError(f"ties must be one of {TIE_RULES}, got {ties!r}")
    if estimator is None:
        return "binned" if ties == "discrete" else "continuous"
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    if estimator == "continuous" and ties == "discrete":
        raise ValueError("ties='discrete' is the binned (daily counts) estimator; pass estimator='binned', "
                         "or ties='jitter' for the continuous one")
    return estimator


def _fixed_decays(beta, decays: str, discrete: bool):
    if beta is None:
        return None
    if decays == "auto":
        raise ValueError("decays='auto' compares fitted decays; it cannot be used with fixed decays (beta)")
    beta = np.asarray(beta, dtype=float)
    if decays == "shared" and beta.shape != ():
        raise ValueError(f"a shared decay is one number, got beta of shape {beta.shape}; "
                         "pass decays='per_kernel' for a 2 x 2 array")
    if decays == "per_kernel" and beta.shape not in ((), (2, 2)):
        raise ValueError(f"per-kernel decays are one number or a 2 x 2 array, got shape {beta.shape}")
    if not (beta > 0).all():
        raise ValueError(f"beta must be positive, got {beta.tolist()}")
    if discrete and (beta > DISCRETE_MAX_BETA).any():
        raise ValueError(f"the discrete model needs beta <= {DISCRETE_MAX_BETA} per day, got {beta.tolist()}")
    return np.broadcast_to(beta, (2, 2))


# ---------------------------------------------------------------------------------------------
# the fit


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
    beta=None,
    x0: Mapping | HawkesFit | np.ndarray | None = None,
    decays: str = "shared",
    estimator: str | None = None,
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
        (default) places them at ``day + U(0, 1)`` drawn with ``seed``; ``"discrete"`` is the
        binned estimator (``estimator="binned"``). Ignored with exact times.
    seed : int
        Seed of the jitter (and of the randomised PIT of the discrete goodness of fit).
    start, end : optional
        The observation window. For dates and datetimes: the first and last day included
        (default: the first and last event's day); the window runs from ``start`` at midnight
        to the midnight after ``end``. For a numeric column: numbers in days (default: 0, or
        the first time if earlier, and the last time). Events outside the window are left
        out, and so is their excitation of events inside it.
    beta : float or 2 x 2 array, optional
        Fixed decay(s) per day (a 2 x 2 array with ``decays="per_kernel"``); by default the
        decays are estimated.
    x0 : mapping, HawkesFit or array, optional
        Starting point instead of the grid search: ``{"mu": ..., "alpha": ..., "beta": ...}``,
        a previous fit, or the numbers ``(mu_0, mu_1, alpha_00, alpha_01, alpha_10, alpha_11,
        beta)`` (7) or with four decays (10).
    decays : {"shared", "per_kernel", "auto"}
        One decay for the four kernels (default), one per kernel (``beta[i, j]``), or both
        fitted and the one with the lower AIC returned (``selection`` lists both).
    estimator : {"continuous", "binned"}, optional
        The point-process likelihood of the event times (default), or the daily-counts
        likelihood of the discrete model (events binned by day; cost grows with the days with
        events, not the events). Default: ``"binned"`` when ``ties="discrete"``.

    Returns
    -------
    HawkesFit

    Warns
    -----
    FewEventsWarning
        A side has fewer than 50 events in the window.
    HawkesConvergenceWarning
        An optimiser stopped without meeting its criterion.
    ExplosiveFitWarning
        The fitted branching ratio is 1 or more.

    Raises
    ------
    ValueError
        A column is missing, times are missing, the window is empty, a side has no event, or
        options contradict each other.
    """
    if decays not in DECAYS:
        raise ValueError(f"decays must be one of {DECAYS}, got {decays!r}")
    estimator = _resolve_estimator(estimator, ties)
    binned = estimator == "binned"
    t, marks, horizon, how, time_col, start, end, sides = _prepare(
        events, sides=sides, time_col=time_col, side_col=side_col, ties=ties, binned=binned, seed=seed,
        start=start, end=end)
    fixed = _fixed_decays(beta, decays, binned)
    counts = np.bincount(marks, minlength=2)
    if (counts == 0).any():
        empty = [s for s, c in zip(sides, counts) if c == 0]
        raise ValueError(f"side(s) {empty} have no events in the window {start}..{end}; "
                         "a Hawkes fit needs events of both sides")
    few = [f"{s} ({c})" for s, c in zip(sides, counts) if c < MIN_EVENTS]
    if few:
        warnings.warn(f"few events for a Hawkes fit with {'10' if decays != 'shared' else '7'} parameters: "
                      f"{', '.join(few)}; estimates will be imprecise", FewEventsWarning, stacklevel=2)
    data = EventData(t, marks, horizon, discrete=binned)
    theta0 = _start_from(x0)

    candidates = ["shared", "per_kernel"] if decays == "auto" else [decays]
    results = {}
    for model in candidates:
        # per kernel after the shared fit: its decay is a start beside the grid's best
        hint = results["shared"].theta if "shared" in results else None
        results[model] = maximise(data, decays=model, beta=fixed, start=theta0, hint=hint)
    n_params = {m: 6 if fixed is not None else (7 if m == "shared" else 10) for m in candidates}
    chosen = min(candidates, key=lambda m: (2 * n_params[m] - 2 * results[m].loglik, n_params[m]))
    estimate = results[chosen]
    if not estimate.converged:
        warnings.warn(f"the Hawkes likelihood maximisation did not converge: {estimate.message}",
                      HawkesConvergenceWarning, stacklevel=2)
    theta = estimate.theta
    mu, alpha, b = unpack(theta)
    if _spectral_radius(alpha) >= 1:
        warnings.warn(f"the fitted branching ratio is {_spectral_radius(alpha):.3f} >= 1: the fitted process is "
                      "not stationary (trend or change in the rates?)", ExplosiveFitWarning, stacklevel=2)
    cov, status = covariance(data, theta, decays=chosen, beta_fixed=fixed is not None)
    selection = _selection_table([_selection_row(sides, m, results[m].theta, results[m].loglik, n_params[m],
                                                 results[m].converged) for m in candidates], chosen)
    return HawkesFit(
        sides=sides, mu=mu, alpha=alpha, beta=float(b[0, 0]) if chosen == "shared" else b, decays=chosen,
        beta_fixed=fixed is not None, loglik=estimate.loglik, n_params=n_params[chosen],
        aic=2 * n_params[chosen] - 2 * estimate.loglik, n_events=data.n_events.astype(np.int64), horizon=horizon,
        start=start, end=end, time_col=time_col, times=how, estimator=estimator, seed=seed, cov=cov,
        converged=estimate.converged, n_iter=estimate.n_iter, n_eval=estimate.n_eval, message=estimate.message,
        params=_params_table(sides, theta, cov, status, chosen),
        triggered=_triggered_table(data, sides, theta), gof=gof_table(data, theta, sides, seed),
        selection=selection, _theta=theta, _data=data,
    )

