"""Deterrence around named strikes: an interrupted time series with placebo dates.

Did a side attack less after a named strike? The descriptive answer (rates before and after,
:func:`analysis.panel.rates_around`) ignores the trend the series was already on and says
nothing of how often such a change happens on an ordinary day. This module fits the
segmented regression of an interrupted time series and compares it with the same model at
dates when nothing named happened.

Segmented regression (Bernal, Cummins & Gasparrini 2017)
    For one side's daily counts ``y_t`` from ``before_days`` before to ``after_days`` after
    the named day ``T`` (the day itself belongs to neither segment, as in ``rates_around``)::

        log E[y_t] = b0 + b1 t + b2 post_t + b3 t post_t   (+ day-of-week terms)

    with ``t`` the days since ``T`` and ``post_t = 1`` after it. ``exp(b2)`` is the level
    change: the rate just after ``T`` over the rate the earlier trend projects for it;
    ``exp(b3)`` the change of the daily trend (per day); ``exp(b1)`` the trend before.
Model and errors
    Poisson (quasi-)maximum likelihood by default, or a negative binomial (NB2) fitted by
    maximum likelihood; standard errors are heteroskedasticity- and autocorrelation-
    consistent (Newey & West 1987, Bartlett kernel, ``hac_lags`` days), so neither
    overdispersion nor serial correlation of the daily counts narrows the intervals.
Sparse segments
    When a segment has no event at all the level change is not finite (the maximum
    likelihood estimate of ``b2`` is -infinity when the "after" segment is empty, +infinity
    when the "before" one is): the row says so (``level_change`` 0 or infinity, no interval).
    When a segment's few events sit so that its slope runs off to infinity (one event, on the
    segment's first or last day), no finite estimate exists: the row has none. Either way a
    :class:`SparseSegmentWarning` is raised.
Placebo dates (in-time placebos; Abadie, Diamond & Hainmueller 2015)
    The same model, on the same side's series, at ``n_placebos`` days drawn at random (seeded)
    among the days whose whole window lies in the panel and that are more than
    ``placebo_exclusion_days`` from every named day (by default ``before_days + after_days``,
    so that no placebo window shares a day with a named day's window). The empirical p-value of the level
    change is ``(1 + #placebos with |b2| >= |b2 observed|) / (1 + #placebos)``; one-sided with
    ``alternative="less"`` (a drop: placebos with ``b2 <= b2 observed``) or ``"greater"``.
    A placebo window with an empty segment counts with an infinite ``b2`` of its sign; one
    with no event at all, or without a finite estimate, is left out (counted in
    ``placebos_no_estimate``).
    Placebo windows overlap one another, so the placebos are worth fewer independent draws
    than their number: the p-value is approximate, and anti-conservative when the eligible
    days hold only a few non-overlapping windows (``independent_windows``). Simulated
    Poisson series with no effect and 90-day segments gave p <= 0.05 in 7.5% of 400 panels of
    720 days and in 5.25% of 400 panels of 3,000 days (39 placebos each).

References
----------
Abadie, A., Diamond, A. & Hainmueller, J. (2015). Comparative politics and the synthetic
control method. American Journal of Political Science 59(2), 495-510 (in-time placebos).
Bernal, J. L., Cummins, S. & Gasparrini, A. (2017). Interrupted time series regression for
the evaluation of public health interventions: a tutorial. International Journal of
Epidemiology 46(1), 348-355.
Newey, W. K. & West, K. D. (1987). A simple, positive semi-definite, heteroskedasticity and
autocorrelation consistent covariance matrix. Econometrica 55(3), 703-708.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from analysis.warnings import PlaceboWarning, SparseSegmentWarning

__all__ = [
    "FAMILIES",
    "ITS_OPTIONS",
    "ITSResult",
    "PlaceboWarning",
    "SparseSegmentWarning",
    "check_its_options",
    "interrupted_time_series",
    "segmented_regression",
]

FAMILIES = ("poisson", "negbin")
ALTERNATIVES = ("two-sided", "less", "greater")




#: Options of :func:`interrupted_time_series` a profile may set, and their defaults there.
ITS_OPTIONS = {"sides": None, "outcome": "events", "before_days": 90, "after_days": 90, "family": "poisson", "hac_lags": 7,
               "day_of_week": False, "n_placebos": 199, "placebo_exclusion_days": None, "alternative": "two-sided",
               "min_segment_events": 5}


def check_its_options(
    options: Mapping[str, object],
    *,
    sides: Sequence[str],
    outcomes: Sequence[str] | None = None,
    where: str = "its",
    key_prefix: str = "",
) -> dict:
    """Check a profile's settings of the interrupted time series; return them as keywords.

    Parameters
    ----------
    options : mapping
        Option -> value, options among :data:`ITS_OPTIONS` (those not given keep the defaults
        of :func:`interrupted_time_series`).
    sides : sequence of str
        The dyad's analysed sides: ``sides`` must name some of them (None: every side).
    outcomes : sequence of str, optional
        Columns of the panel ``outcome`` may name.
    where, key_prefix : str
        Where the settings were written, for messages: ``"<where>.<key_prefix><option>"``, e.g.
        ``"notebooks/params/default.yaml: escalation"`` and ``"its_"``.

    Returns
    -------
    dict
        Keyword arguments of :func:`interrupted_time_series`.

    Raises
    ------
    ValueError
        Naming the file and the key: an unknown option, a side the dyad does not analyse, an
        outcome the panel lacks, a family or alternative not offered, a segment shorter than 2
        days, a count that is not a whole number.
    """

    def error(key: str, message: str) -> ValueError:
        return ValueError(f"{where}.{key_prefix}{key}: {message}")

    def whole(key: str, value: object, low: int) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise error(key, f"must be a whole number >= {low}, got {value!r}")
        return int(value)

    out = {}
    for key, value in options.items():
        if key not in ITS_OPTIONS:
            close = difflib.get_close_matches(str(key), list(ITS_OPTIONS), n=1)
            hint = f"; did you mean {key_prefix}{close[0]}?" if close else ""
            raise error(key, f"unknown option{hint} (options are: {', '.join(key_prefix + k for k in ITS_OPTIONS)})")
        if key == "sides" and value is not None:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, Sequence) or not value or any(v not in sides for v in value):
                raise error(key, f"must list sides of the dyad ({', '.join(sides)}), or be null for every side; got {value!r}")
            value = list(value)
        elif key == "outcome" and (not isinstance(value, str) or (outcomes is not None and value not in outcomes)):
            raise error(key, f"must be a column of the daily panel ({', '.join(outcomes or ())}), got {value!r}")
        elif key in ("before_days", "after_days"):
            value = whole(key, value, 2)
        elif key in ("hac_lags", "n_placebos", "min_segment_events") or (key == "placebo_exclusion_days" and value is not None):
            value = whole(key, value, 0)
        elif key == "family" and value not in FAMILIES:
            raise error(key, f"must be one of {', '.join(FAMILIES)}, got {value!r}")
        elif key == "alternative" and value not in ALTERNATIVES:
            raise error(key, f"must be one of {', '.join(ALTERNATIVES)}, got {value!r}")
        elif key == "day_of_week" and not isinstance(value, bool):
            raise error(key, f"must be true or false, got {value!r}")
        out[key] = value
    return out


def check_named_days(
    at: Mapping[str, object],
    *,
    start: object,
    end: object,
    where: str = "named_events",
) -> dict[str, pd.Timestamp]:
    """Check the named days of an interrupted time series against the study period.

    Parameters
    ----------
    at : mapping
        Name -> day (e.g. the rates table's ``name`` and ``date``, from the profile's
        ``cycles.named_events``).
    start, end : date
        The first and last day of the daily panel (the study period).
    where : str
        Where the days were set, for messages (``"<profile>: cycles.named_events"``).

    Returns
    -------
    dict
        Name -> day (normalised Timestamps), in the given order.

    Raises
    ------
    ValueError
        Naming ``where``, the name and the day: a day that is not a date, or one that leaves
        fewer than 2 days of the period before or after it (a segment needs 2 days to fit a
        line).
    """
    first, last = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    out = {}
    for name, day in at.items():
        try:
            when = pd.Timestamp(day).normalize()
        except (TypeError, ValueError):
            raise ValueError(f"{where}: {name!r}: {day!r} is not a date like 2024-02-03") from None
        if (when - first).days < 2 or (last - when).days < 2:
            raise ValueError(f"{where}: {name!r} ({when.date()}) leaves fewer than 2 days of the study period "
                             f"({first.date()} to {last.date()}) before or after it: an interrupted time series cannot be "
                             "fitted; move it or take it out of the list")
        out[str(name)] = when
    return out


class ITSResult(NamedTuple):
    """Result of :func:`interrupted_time_series`.

    Attributes
    ----------
    summary : DataFrame
        One row per named day x side: ``name``, ``date``, ``side``, ``outcome``, ``family``,
        ``days_before``, ``days_after``, ``events_before``, ``events_after``, ``sparse`` (a
        segment has fewer than ``min_segment_events``), ``pre_trend``
        (rate ratio per day before), ``level_change`` (rate ratio) with ``level_low``,
        ``level_high`` and the HAC ``level_p``, ``slope_change`` (rate ratio per day) with
        ``slope_low``, ``slope_high``, ``slope_p``, ``alpha_nb`` (the NB2 dispersion, NaN for
        Poisson), ``hac_lags``, ``placebos`` (used), ``placebos_no_estimate``, ``placebo_p``,
        ``alternative``, ``independent_windows`` (eligible placebo days / window length:
        about how many non-overlapping windows the placebos are drawn from).
    fitted : DataFrame
        One row per named day x side x day of the window: ``name``, ``side``, ``date``, ``t``,
        ``segment`` (``before``/``after``), ``observed``, ``fitted`` and ``counterfactual`` (the
        "before" segment's line carried on, with the same day-of-week terms).
    placebos : DataFrame
        Every placebo fit: ``name``, ``side``, ``placebo_date``, ``coef_level`` (``b2``).
    """

    summary: pd.DataFrame
    fitted: pd.DataFrame
    placebos: pd.DataFrame


def _design(t: np.ndarray, dates: pd.DatetimeIndex | None) -> np.ndarray:
    post = (t > 0).astype(float)
    cols = [np.ones(len(t)), t.astype(float), post, t * post]
    if dates is not None:
        dow = np.asarray(dates.dayofweek)
        cols += [(dow == d).astype(float) for d in range(1, 7)]  # Monday is the reference
    return np.column_stack(cols)


def _poisson_coef(y: np.ndarray, X: np.ndarray, *, tol: float = 1e-10, max_iter: int = 100) -> np.ndarray | None:
    """Poisson maximum likelihood by Newton-Raphson, with step halving.

    The same estimator as statsmodels' Poisson GLM (``tests/test_deterrence.py`` checks that
    they agree), used for the placebo fits and to check that a finite estimate exists:
    returns None when Newton's method does not converge, which on these designs means the
    maximum likelihood estimate runs off to infinity (e.g. a segment whose only event falls
    on its first or last day). statsmodels' IRLS stops on the deviance there and returns
    large finite numbers instead.
    """
    beta = np.zeros(X.shape[1])
    beta[0] = np.log(max(y.mean(), 1e-10))
    loglik = np.sum(y * (X @ beta) - np.exp(X @ beta))
    for _ in range(max_iter):
        mu = np.exp(X @ beta)
        try:
            step = np.linalg.solve((X * mu[:, None]).T @ X, X.T @ (y - mu))
        except np.linalg.LinAlgError:  # the information matrix degenerates as the estimate runs off
            return None
        for _ in range(30):  # step halving keeps the log-likelihood rising
            trial = beta + step
            eta = X @ trial
            new = np.sum(y * eta - np.exp(eta)) if np.all(eta < 700) else -np.inf
            if new >= loglik - 1e-12:
                break
            step /= 2
        beta, loglik = trial, new
        if np.max(np.abs(step)) < tol:
            return beta
    return None


def _fit(y: np.ndarray, X: np.ndarray, family: str, cov: dict | None, *, start: np.ndarray):
    """Poisson GLM or NB2 by maximum likelihood, from the Poisson estimate ``start``; ``cov``
    the statsmodels covariance options."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning

    cov = cov or {}
    if family == "poisson":
        return sm.GLM(y, X, family=sm.families.Poisson()).fit(start_params=start, **cov)
    with warnings.catch_warnings():
        # the line search may visit overflowing points; convergence is checked by the caller
        # (mle_retvals), which turns a failure into a SparseSegmentWarning or a missing placebo
        for category in (RuntimeWarning, ConvergenceWarning, HessianInversionWarning):
            warnings.simplefilter("ignore", category=category)
        return sm.NegativeBinomial(y, X, loglike_method="nb2").fit(start_params=np.append(start, 0.5), disp=False,
                                                                    maxiter=200, **cov)


def segmented_regression(
    counts: np.ndarray | Sequence[float],
    t: np.ndarray | Sequence[int],
    *,
    family: str = "poisson",
    hac_lags: int = 7,
    dates: pd.DatetimeIndex | None = None,
    alpha: float = 0.05,
    coef_only: bool = False,
) -> dict:
    """Fit the segmented regression to one window of daily counts.

    Parameters
    ----------
    counts : array
        Daily counts (non-negative).
    t : array of int
        Days since the named day (negative before, positive after; 0 is not allowed: the
        named day belongs to neither segment).
    family : {"poisson", "negbin"}
    hac_lags : int
        Maximum lag of the Newey-West covariance.
    dates : DatetimeIndex, optional
        The days, when day-of-week terms are wanted.
    alpha : float
        1 - confidence level of the intervals.
    coef_only : bool
        Only the level-change coefficient (placebo fits): skip the covariance.

    Returns
    -------
    dict
        ``coef_level``, ``coef_slope``, ``coef_trend`` and, unless ``coef_only``, their rate
        ratios with intervals and p-values (see :class:`ITSResult`), ``alpha_nb``, ``params``,
        ``empty`` (``"before"``, ``"after"``, ``"both"`` or ``""``) and ``finite`` (False when
        no finite estimate exists; the estimates are then NaN).
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    y = np.asarray(counts, dtype=float)
    t = np.asarray(t, dtype=np.int64)
    if np.any(t == 0):
        raise ValueError("t = 0 is the named day, which belongs to neither segment; leave it out")
    if np.any(y < 0) or np.any(np.isnan(y)):
        raise ValueError("counts must be non-negative numbers")
    before, after = y[t < 0].sum(), y[t > 0].sum()
    empty = "both" if before == 0 and after == 0 else ("before" if before == 0 else ("after" if after == 0 else ""))
    nan = float("nan")
    out = {"coef_level": nan, "coef_slope": nan, "coef_trend": nan, "empty": empty, "finite": not empty, "alpha_nb": nan,
           "params": None}
    missing = {"level_change": nan, "level_low": nan, "level_high": nan, "level_p": nan, "slope_change": nan,
               "slope_low": nan, "slope_high": nan, "slope_p": nan, "pre_trend": nan}
    if empty:
        out["coef_level"] = {"before": np.inf, "after": -np.inf, "both": nan}[empty]
        if not coef_only:
            out.update(missing, level_change=float(np.exp(out["coef_level"])))
        return out
    X = _design(t, dates)
    mle = _poisson_coef(y, X)
    if mle is None:  # no finite maximum likelihood estimate (see _poisson_coef)
        out["finite"] = False
        if not coef_only:
            out.update(missing)
        return out
    if coef_only and family == "poisson":
        out.update(coef_trend=float(mle[1]), coef_level=float(mle[2]), coef_slope=float(mle[3]), params=mle)
        return out
    cov = None if coef_only else {"cov_type": "HAC", "cov_kwds": {"maxlags": int(hac_lags)}}
    fit = _fit(y, X, family, cov, start=mle)
    if family == "negbin" and not fit.mle_retvals.get("converged", False):
        out["finite"] = False  # the NB2 likelihood has no interior maximum here (e.g. alpha -> 0)
        if not coef_only:
            out.update(missing)
        return out
    params = np.asarray(fit.params)
    out.update(coef_trend=float(params[1]), coef_level=float(params[2]), coef_slope=float(params[3]), params=params)
    if family == "negbin":
        out["alpha_nb"] = float(params[-1])
    if coef_only:
        return out
    z = stats.norm.ppf(1 - alpha / 2)
    se = np.sqrt(np.clip(np.diag(np.asarray(fit.cov_params())), 0.0, None))  # rounding can leave -1e-19
    for name, j in (("level", 2), ("slope", 3)):
        out[f"{name}_change"] = float(np.exp(params[j]))
        out[f"{name}_low"] = float(np.exp(params[j] - z * se[j]))
        out[f"{name}_high"] = float(np.exp(params[j] + z * se[j]))
        out[f"{name}_p"] = float(2 * stats.norm.sf(abs(params[j]) / se[j]))
    out["pre_trend"] = float(np.exp(params[1]))
    out["fitted"] = np.exp(X @ params[: X.shape[1]])
    counter = X.copy()
    counter[:, 2:4] = 0.0  # the "before" line carried on: no level or slope change
    out["counterfactual"] = np.exp(counter @ params[: X.shape[1]])
    return out


def _placebo_p(observed: float, placebos: np.ndarray, alternative: str) -> float:
    """Empirical p-value of the observed level change among the placebos' (module notes)."""
    if not len(placebos) or np.isnan(observed):
        return float("nan")
    if alternative == "two-sided":
        extreme = np.abs(placebos) >= abs(observed)
    elif alternative == "less":
        extreme = placebos <= observed
    else:
        extreme = placebos >= observed
    return (1 + int(extreme.sum())) / (1 + len(placebos))


def _series(panel: pd.DataFrame, side: str, outcome: str, side_col: str, date_col: str) -> pd.Series:
    mine = panel.loc[panel[side_col] == side, [date_col, outcome]]
    series = pd.Series(mine[outcome].to_numpy(dtype=float), index=pd.to_datetime(mine[date_col]).dt.normalize()).sort_index()
    if series.index.has_duplicates:
        raise ValueError(f"panel has several rows for side {side!r} on one day; pass analysis.panel.daily_panel's output")
    full = pd.date_range(series.index.min(), series.index.max(), freq="D")
    if len(full) != len(series):
        raise ValueError(f"panel skips {len(full) - len(series)} days for side {side!r}; it must have every day "
                         "(analysis.panel.daily_panel zero-fills them)")
    return series


def interrupted_time_series(
    panel: pd.DataFrame,
    at: Mapping[str, str | pd.Timestamp],
    *,
    sides: Sequence[str] | None = None,
    outcome: str = "events",
    before_days: int = 90,
    after_days: int = 90,
    family: str = "poisson",
    hac_lags: int = 7,
    day_of_week: bool = False,
    n_placebos: int = 199,
    placebo_exclusion_days: int | None = None,
    alternative: str = "two-sided",
    min_segment_events: int = 5,
    seed: int = 0,
    alpha: float = 0.05,
    side_col: str = "side",
    date_col: str = "date",
) -> ITSResult:
    """Interrupted time series of each side's daily counts around each named day, with placebos.

    Parameters
    ----------
    panel : DataFrame
        Output of :func:`analysis.panel.daily_panel` (``date``, ``side``, ``events``, ...):
        every day of the study for every side. Not modified.
    at : mapping
        Name -> day (e.g. ``{"2 Feb 2024 strikes": "2024-02-03"}``, the profile's
        ``named_events``). Every named day also keeps placebo dates away.
    sides : sequence of str, optional
        Sides whose series are modelled (default: every side of the panel).
    outcome : str
        Panel column to model (``events``, ``incidence``, ``fatalities``...).
    before_days, after_days : int
        Days in each segment; the window is clipped to the panel, and the clipped lengths are
        reported.
    family : {"poisson", "negbin"}
    hac_lags : int
        Newey-West maximum lag, in days.
    day_of_week : bool
        Add day-of-week terms.
    n_placebos : int
        Placebo dates per named day and side (0: none).
    placebo_exclusion_days : int, optional
        A placebo date must be more than this many days from every named day (default:
        ``before_days + after_days``, so no placebo window shares a day with a named day's).
    alternative : {"two-sided", "less", "greater"}
        Of the placebo p-value (``"less"``: deterrence, a drop).
    min_segment_events : int
        A segment with fewer events is flagged ``sparse`` (with a warning): Wald intervals
        from so few events mean little.
    seed : int
        Seed of the placebo draws (``numpy.random.default_rng``, one stream per side and named
        day).
    alpha : float
        1 - confidence level.

    Returns
    -------
    ITSResult

    Warns
    -----
    SparseSegmentWarning
        A segment of a named day's window has no event, or fewer than
        ``min_segment_events``, or the model has no finite estimate.
    PlaceboWarning
        Fewer eligible placebo dates than ``n_placebos`` (all are used), or fewer than 19
        (the p-value cannot reach 0.05).
    """
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    if before_days < 2 or after_days < 2:
        raise ValueError(f"each segment needs at least 2 days to fit a line, got before_days={before_days}, "
                         f"after_days={after_days}")
    absent = [c for c in (side_col, date_col, outcome) if c not in panel.columns]
    if absent:
        raise ValueError(f"panel has no {absent} column(s); columns are: {', '.join(map(str, panel.columns))}")
    present = sorted(panel[side_col].dropna().unique())
    sides = list(sides) if sides is not None else present
    if unknown := [s for s in sides if s not in present]:
        raise ValueError(f"panel has no side(s) {unknown}; its sides are {present}")
    exclusion = before_days + after_days if placebo_exclusion_days is None else int(placebo_exclusion_days)
    named_days = {name: pd.Timestamp(day).normalize() for name, day in at.items()}
    rows, fitted_rows, placebo_rows = [], [], []
    for s_index, side in enumerate(sides):
        series = _series(panel, side, outcome, side_col, date_col)
        first, last = series.index[0], series.index[-1]
        values = series.to_numpy()
        day_no = (series.index - first).days.to_numpy()
        # placebo candidates: the full window inside the panel, far from every named day
        candidates = series.index[before_days:len(series) - after_days]
        far = np.ones(len(candidates), dtype=bool)
        for day in named_days.values():
            far &= np.abs((candidates - day).days.to_numpy()) > exclusion
        candidates = candidates[far]
        for n_index, (name, day) in enumerate(named_days.items()):
            if not first <= day <= last:
                raise ValueError(f"named day {name!r} ({day.date()}) is outside the panel ({first.date()}..{last.date()})")
            lo, hi = max(day - pd.Timedelta(days=before_days), first), min(day + pd.Timedelta(days=after_days), last)
            window = (series.index >= lo) & (series.index <= hi) & (series.index != day)
            t = (series.index[window] - day).days.to_numpy()
            y = values[window]
            dates = series.index[window] if day_of_week else None
            if (t < 0).sum() < 2 or (t > 0).sum() < 2:
                raise ValueError(f"named day {name!r} ({day.date()}) leaves fewer than 2 panel days on one side")
            fit = segmented_regression(y, t, family=family, hac_lags=hac_lags, dates=dates, alpha=alpha)
            if fit["empty"]:
                warnings.warn(f"{name} ({day.date()}), side {side!r}: no {outcome} in the {fit['empty']} segment(s); the level "
                              "change is not finite", SparseSegmentWarning, stacklevel=2)
            elif not fit["finite"]:
                warnings.warn(f"{name} ({day.date()}), side {side!r}: the segmented {family} model has no finite estimate "
                              f"(too few {outcome}, or they sit at a segment's end)", SparseSegmentWarning, stacklevel=2)
            sparse = min(y[t < 0].sum(), y[t > 0].sum()) < min_segment_events
            if sparse and not fit["empty"] and fit["finite"]:
                warnings.warn(f"{name} ({day.date()}), side {side!r}: {y[t < 0].sum():g} {outcome} before and "
                              f"{y[t > 0].sum():g} after; with fewer than {min_segment_events} in a segment the HAC interval "
                              "is unreliable: read the placebo p-value", SparseSegmentWarning, stacklevel=2)
            row = {"name": name, "date": day, "side": side, "outcome": outcome, "family": family,
                   "days_before": int((t < 0).sum()), "days_after": int((t > 0).sum()),
                   "events_before": float(y[t < 0].sum()), "events_after": float(y[t > 0].sum()), "sparse": bool(sparse)}
            for key in ("pre_trend", "level_change", "level_low", "level_high", "level_p", "slope_change", "slope_low",
                        "slope_high", "slope_p", "alpha_nb"):
                row[key] = fit.get(key, np.nan)
            row["hac_lags"] = hac_lags

            # placebos: the same model, same side, same window lengths
            rng = np.random.default_rng([seed, s_index, n_index])
            k = min(n_placebos, len(candidates))
            if n_placebos and k < n_placebos:
                warnings.warn(f"{name}, side {side!r}: only {len(candidates)} placebo dates are eligible "
                              f"(asked for {n_placebos})", PlaceboWarning, stacklevel=2)
            picked = np.sort(rng.choice(len(candidates), size=k, replace=False)) if k else np.array([], dtype=int)
            coefs = []
            for p_day in candidates[picked]:
                p_no = (p_day - first).days
                sel = (day_no >= p_no - before_days) & (day_no <= p_no + after_days) & (day_no != p_no)
                pt = day_no[sel] - p_no
                p_fit = segmented_regression(values[sel], pt, family=family, dates=series.index[sel] if day_of_week else None,
                                             coef_only=True)
                coefs.append(p_fit["coef_level"])
                placebo_rows.append({"name": name, "side": side, "placebo_date": p_day, "coef_level": p_fit["coef_level"]})
            coefs = np.asarray(coefs, dtype=float)
            usable = coefs[~np.isnan(coefs)]
            p_value = _placebo_p(fit["coef_level"], usable, alternative)
            if n_placebos and len(usable) < 19:
                warnings.warn(f"{name}, side {side!r}: {len(usable)} usable placebo fits; the placebo p-value cannot go below "
                              f"{1 / (1 + len(usable)):.3f}", PlaceboWarning, stacklevel=2)
            row.update(placebos=len(usable), placebos_no_estimate=int(np.isnan(coefs).sum()), placebo_p=p_value,
                       alternative=alternative, independent_windows=len(candidates) / (before_days + after_days + 1))
            rows.append(row)

            fitted_rows.append(pd.DataFrame({"name": name, "side": side, "date": series.index[window], "t": t,
                                             "segment": np.where(t < 0, "before", "after"), "observed": y,
                                             "fitted": fit.get("fitted", np.nan),
                                             "counterfactual": fit.get("counterfactual", np.nan)}))
    summary = pd.DataFrame(rows, columns=["name", "date", "side", "outcome", "family", "days_before", "days_after",
                                          "events_before", "events_after", "sparse", "pre_trend", "level_change", "level_low",
                                          "level_high", "level_p", "slope_change", "slope_low", "slope_high", "slope_p",
                                          "alpha_nb", "hac_lags", "placebos", "placebos_no_estimate", "placebo_p", "alternative",
                                          "independent_windows"])
    summary = summary.astype({"name": "string", "side": "string", "date": "datetime64[ns]"})
    fitted = (pd.concat(fitted_rows, ignore_index=True) if fitted_rows else
              pd.DataFrame(columns=["name", "side", "date", "t", "segment", "observed", "fitted", "counterfactual"]))
    placebos = pd.DataFrame(placebo_rows, columns=["name", "side", "placebo_date", "coef_level"])
    placebos["placebo_date"] = pd.to_datetime(placebos["placebo_date"]).astype("datetime64[ns]")
    return ITSResult(summary, fitted, placebos)
