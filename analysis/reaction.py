"""Reaction functions and vector autoregressions on the daily dyad panel.

(One module of about 700 lines on purpose: both models are the two halves of Jaeger & Paserman's
analysis, read the panel through the same lag windows and series helpers, and share their
warnings; a third of the lines are the docstrings stating the estimators and their references.)

Both models read the panel of :func:`analysis.panel.daily_panel` (rows keyed by ``date`` and
``side``, one row per day and side, zero-filled) and ask whether one side's violence follows the
other's, in the manner of Jaeger & Paserman (2008), "The Cycle of Violence? An Empirical Analysis
of Fatalities in the Palestinian-Israeli Conflict", *American Economic Review* 98(4), 1591-1604.

Lag window
    A window ``(lo, hi)`` of a side's outcome on day ``t`` is the sum of that outcome over days
    ``t-hi`` .. ``t-lo``. The default windows ``(1, 1), (2, 7), (8, 14)`` are the day before, the
    rest of the week before and the week before that. Days whose widest window reaches before
    the first day of the panel are left out of the estimation sample.
Reaction function
    The responder's outcome on day ``t`` regressed on the trigger side's lag windows, the
    responder's own lag windows (its persistence) and calendar effects: a negative binomial
    (NB2) or Poisson count model with log link, or a logit for incidence (outcome > 0).
    Coefficients of count models read as incidence-rate ratios ``exp(coef)`` per extra unit of
    the window sum; those of the logit as odds ratios. Standard errors are Newey-West (HAC,
    Bartlett kernel), as the daily outcomes of a conflict are serially correlated beyond what
    the lag windows absorb. "The trigger side does not move the responder" is the joint Wald
    test that every trigger-window coefficient is zero (a Granger-type test).
VAR
    Both (or all) sides' outcomes, daily or weekly, in a vector autoregression with a constant:
    augmented Dickey-Fuller tests of each series, lag order chosen by an information criterion
    (or fixed; Jaeger & Paserman use 7 and 14 days), Granger-causality F-tests in both
    directions and impulse responses with confidence bands.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, stats
from statsmodels.tsa.api import VAR
from statsmodels.tsa.stattools import adfuller

# the named warnings (defined in analysis.warnings), importable from here as before
from analysis.warnings import FewEventsWarning, LagOrderWarning, NonStationaryWarning

__all__ = [
    "FewEventsWarning",
    "LagOrderWarning",
    "NonStationaryWarning",
    "ReactionResult",
    "VarResult",
    "lag_window_sums",
    "reaction_function",
    "reaction_functions",
    "var_analysis",
]

_FAMILIES = ("negbin", "poisson", "logit")
_TIME_EFFECTS = ("dayofweek", "month", "year")
_CRITERIA = ("aic", "bic", "hqic", "fpe")
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# bounds of the NB2 overdispersion search: from practically Poisson to a variance of ~ mu^2 * 1e3
_LOG_ALPHA_BOUNDS = (np.log(1e-8), np.log(1e3))


# ---------------------------------------------------------------------------------------------
# the panel as one series per side


def _check_columns(panel: pd.DataFrame, needed: Sequence[str]) -> None:
    missing = [c for c in needed if c not in panel.columns]
    if missing:
        raise ValueError(f"panel has no {missing} column(s); columns are: {list(panel.columns)}")


def _wide(
    panel: pd.DataFrame, *, sides: Sequence[str], outcome: str, date_col: str, side_col: str
) -> pd.DataFrame:
    """The outcome as a date x side table over consecutive days, checked, never mutating ``panel``."""
    _check_columns(panel, [date_col, side_col, outcome])
    sides = list(sides)
    if len(set(sides)) != len(sides):
        raise ValueError(f"sides must be distinct, got {sides}")
    present = set(panel[side_col].dropna().astype(str))
    absent = [s for s in sides if s not in present]
    if absent:
        raise ValueError(f"side(s) {absent} not in the panel's {side_col!r} column; it has {sorted(present)}")
    rows = panel.loc[panel[side_col].isin(sides).fillna(False).to_numpy(), [date_col, side_col, outcome]]
    dates = pd.to_datetime(rows[date_col])
    if dates.isna().any():
        raise ValueError(f"panel has {int(dates.isna().sum())} missing {date_col!r} values")
    if (dates != dates.dt.normalize()).any():
        raise ValueError(f"{date_col!r} must hold whole days (one row per day and side, as daily_panel builds)")
    values = pd.to_numeric(rows[outcome], errors="coerce")
    if values.isna().any():
        raise ValueError(f"{outcome!r} has {int(values.isna().sum())} missing or non-numeric values among the sides {sides}")
    if (values < 0).any():
        raise ValueError(f"{outcome!r} has negative values; an outcome is a count or an incidence")
    frame = pd.DataFrame({"date": dates.to_numpy(), "side": rows[side_col].astype(str).to_numpy(),
                          "y": values.to_numpy(dtype=float)})
    dup = frame.duplicated(["date", "side"])
    if dup.any():
        first = frame.loc[dup].iloc[0]
        raise ValueError(f"panel has {int(dup.sum())} repeated (date, side) rows, e.g. {first['date'].date()} {first['side']}")
    wide = frame.pivot(index="date", columns="side", values="y").sort_index()
    full = pd.date_range(wide.index[0], wide.index[-1], freq="D")
    if len(full) != len(wide) or wide.isna().any().any():
        gaps = len(full) - len(wide)
        raise ValueError(
            f"panel is not a complete daily panel of {sides}: {gaps} day(s) missing between "
            f"{full[0].date()} and {full[-1].date()} or a side missing on some days; "
            "lag windows count days, so build it with analysis.panel.daily_panel (zero-filled)"
        )
    wide = wide[sides]
    wide.index.name = "date"
    wide.columns.name = None
    return wide


def _check_windows(windows: Sequence[Sequence[int]], name: str) -> list[tuple[int, int]]:
    out = []
    for w in windows:
        try:
            lo, hi = (int(v) for v in w)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be (first, last) day pairs such as (2, 7), got {w!r}") from None
        if not 1 <= lo <= hi:
            raise ValueError(f"{name} window {w!r} must satisfy 1 <= first <= last (days before t; day t itself is the outcome)")
        out.append((lo, hi))
    return out


def _window_name(side: str, lo: int, hi: int) -> str:
    return f"{side}[t-{lo}]" if lo == hi else f"{side}[t-{lo}..t-{hi}]"


def _window_sums(series: pd.Series, side: str, windows: Sequence[tuple[int, int]]) -> pd.DataFrame:
    # window (lo, hi) on day t: sum of days t-hi .. t-lo (missing when any of them precedes the panel)
    return pd.DataFrame(
        {_window_name(side, lo, hi): series.shift(lo).rolling(hi - lo + 1, min_periods=hi - lo + 1).sum() for lo, hi in windows},
        index=series.index,
    )


def lag_window_sums(
    panel: pd.DataFrame,
    *,
    side: str,
    outcome: str = "events",
    windows: Sequence[Sequence[int]] = ((1, 1), (2, 7), (8, 14)),
    date_col: str = "date",
    side_col: str = "side",
) -> pd.DataFrame:
    """Sums of one side's daily outcome over windows of past days.

    Parameters
    ----------
    panel : DataFrame
        Daily panel (:func:`analysis.panel.daily_panel`): one row per day and side, no day missing.
    side : str
        The side whose outcome is summed.
    outcome : str
        Column summed (``events``, ``fatalities``, ``incidence``...).
    windows : sequence of (int, int)
        ``(lo, hi)``: the window on day ``t`` sums days ``t-hi`` .. ``t-lo`` (``1 <= lo <= hi``).
    date_col, side_col : str
        Key columns of the panel.

    Returns
    -------
    DataFrame
        Indexed by ``date`` (every day of the panel), one column per window named
        ``"<side>[t-1]"`` or ``"<side>[t-2..t-7]"``; missing where the window reaches before the
        panel's first day.
    """
    wins = _check_windows(windows, "windows")
    wide = _wide(panel, sides=[side], outcome=outcome, date_col=date_col, side_col=side_col)
    return _window_sums(wide[side], side, wins)


# ---------------------------------------------------------------------------------------------
# reaction functions


@dataclass(frozen=True)
class ReactionResult:
    """A fitted reaction function.

    Attributes
    ----------
    coefficients : DataFrame
        One row per term: ``term``, ``block`` (``intercept``, ``trigger``, ``own``, ``time``),
        ``lag_from`` and ``lag_to`` (the window, for lag terms), ``coef``, ``se`` (HAC),
        ``z``, ``p``, ``ci_low``, ``ci_high``, and ``irr`` with ``irr_low``/``irr_high``
        (count families) or ``odds_ratio`` with ``or_low``/``or_high`` (logit): ``exp`` of
        the coefficient and its interval.
    tests : DataFrame
        Joint Wald (chi-square) tests with the HAC covariance: ``hypothesis`` (``trigger`` - all
        trigger windows zero; ``own`` - all own windows zero, when there are any), ``terms``,
        ``statistic``, ``df``, ``p``.
    nobs : int
        Days in the estimation sample.
    family : str
        ``negbin``, ``poisson`` or ``logit``.
    alpha : float
        NB2 overdispersion (variance ``mu + alpha * mu**2``) estimated by maximum likelihood;
        NaN for the other families.
    responder, trigger, outcome : str
        The model: ``responder``'s ``outcome`` on ``trigger``'s.
    hac_lags : int
        Bartlett-kernel truncation lag of the Newey-West covariance.
    ci_level : float
        Level of the intervals in ``coefficients``.
    design : DataFrame
        The estimation sample: ``date``, the dependent variable ``y`` and every regressor.
    llf : float
        Log-likelihood at the estimate.
    fit : statsmodels results
        The underlying ``GLMResults`` (counts) or ``LogitResults`` (incidence).
    """

    coefficients: pd.DataFrame
    tests: pd.DataFrame
    nobs: int
    family: str
    alpha: float
    responder: str
    trigger: str
    outcome: str
    hac_lags: int
    ci_level: float
    design: pd.DataFrame
    llf: float
    fit: Any

    @property
    def wald_p(self) -> float:
        """p-value of the joint test that all trigger-window coefficients are zero."""
        return float(self.tests.set_index("hypothesis").loc["trigger", "p"])


def _time_dummies(dates: pd.DatetimeIndex, effects: Sequence[str]) -> pd.DataFrame:
    """Calendar indicators, each leaving out its first category (Monday, January, first year)."""
    out = {}
    for effect in effects:
        if effect == "dayofweek":
            codes, names = dates.day_of_week, {i: f"dow[{n}]" for i, n in enumerate(_DAY_NAMES)}
        elif effect == "month":
            codes, names = dates.month, {i + 1: f"month[{n}]" for i, n in enumerate(_MONTH_NAMES)}
        else:
            codes = dates.year
            names = {y: f"year[{y}]" for y in sorted(set(codes))}
        levels = sorted(set(codes))
        for level in levels[1:]:  # the first level present is the reference
            out[names[level]] = (np.asarray(codes) == level).astype(float)
    return pd.DataFrame(out, index=dates)


def _nb_profile_alpha(y: np.ndarray, X: np.ndarray, start: np.ndarray) -> float:
    """Maximum-likelihood NB2 ``alpha``: maximise the profile log-likelihood ``max_beta l(beta, alpha)``.

    For each trial ``alpha`` the GLM (IRLS) gives the ML ``beta``; a bounded Brent search over
    ``log(alpha)`` then maximises the profile, which is the joint maximum likelihood estimate.
    """
    def negative_profile(log_alpha: float) -> float:
        model = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=float(np.exp(log_alpha))))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the search visits extreme alphas
            res = model.fit(start_params=start, maxiter=200)
        return -res.llf if np.isfinite(res.llf) else np.inf

    best = optimize.minimize_scalar(negative_profile, bounds=_LOG_ALPHA_BOUNDS, method="bounded",
                                    options={"xatol": 1e-5})
    return float(np.exp(best.x))


def reaction_function(
    panel: pd.DataFrame,
    *,
    responder: str,
    trigger: str,
    outcome: str = "events",
    lag_windows: Sequence[Sequence[int]] = ((1, 1), (2, 7), (8, 14)),
    own_lags: Sequence[Sequence[int]] = ((1, 1), (2, 7), (8, 14)),
    family: str = "negbin",
    time_effects: Sequence[str] = ("dayofweek", "month"),
    hac_lags: int = 14,
    ci_level: float = 0.95,
    date_col: str = "date",
    side_col: str = "side",
) -> ReactionResult:
    """Fit the responder's daily outcome on the trigger side's recent outcomes.

    Parameters
    ----------
    panel : DataFrame
        Daily panel (:func:`analysis.panel.daily_panel`): one row per day and side, no day
        missing, with the ``outcome`` column.
    responder, trigger : str
        Side keys: the side whose outcome is explained, and the side whose past is tested.
    outcome : str
        Column modelled: ``events`` or ``fatalities`` (any non-negative count). The trigger's and
        the responder's lag windows sum this same column.
    lag_windows : sequence of (int, int)
        Trigger windows ``(lo, hi)``: the sum over days ``t-hi`` .. ``t-lo``. At least one.
    own_lags : sequence of (int, int)
        The responder's own windows (may be empty).
    family : {"negbin", "poisson", "logit"}
        ``negbin``: GLM negative binomial (NB2, log link) with ``alpha`` estimated by maximum
        likelihood (profile likelihood, see Notes); ``poisson``: GLM Poisson (log link);
        ``logit``: incidence ``outcome > 0`` by logit (regressors stay the window sums).
    time_effects : sequence of {"dayofweek", "month", "year"}
        Calendar indicators, each without its first category present (Monday, January, the
        first year); indicators constant over the sample are dropped. Empty for none.
    hac_lags : int
        Truncation lag of the Newey-West (Bartlett kernel) covariance; 14 matches the widest
        default window.
    ci_level : float
        Level of the Wald intervals.
    date_col, side_col : str
        Key columns of the panel.

    Returns
    -------
    ReactionResult

    Notes
    -----
    The covariance is statsmodels' ``cov_type="HAC"`` with ``maxlags=hac_lags``: the sandwich
    ``H^-1 S H^-1`` with ``H`` the observed Hessian and ``S = sum_l w_l (G_l + G_l')``, ``G_l`` the lag-``l``
    cross-products of the observation scores, Bartlett weights ``w_l = 1 - l / (hac_lags + 1)``
    (Newey & West 1987), and no small-sample factor. Inference is by the normal distribution.

    For ``negbin`` the overdispersion ``alpha`` is fixed at its ML estimate before the HAC fit,
    so the standard errors do not carry its uncertainty; in NB2 ``alpha`` and the mean
    parameters are asymptotically independent (block-diagonal information; Cameron & Trivedi
    2013, section 3.3), so this costs nothing in large samples.

    Warns
    -----
    FewEventsWarning
        Fewer than ten days with a nonzero outcome (logit: the rarer outcome) per coefficient.
    """
    if family not in _FAMILIES:
        raise ValueError(f"family must be one of {list(_FAMILIES)}, got {family!r}")
    if responder == trigger:
        raise ValueError(f"responder and trigger are the same side ({responder!r}); a reaction function needs two sides")
    bad = [e for e in time_effects if e not in _TIME_EFFECTS]
    if isinstance(time_effects, str) or bad:
        raise ValueError(f"time_effects must be a sequence drawn from {list(_TIME_EFFECTS)}, got {time_effects!r}")
    if not 0 < ci_level < 1:
        raise ValueError(f"ci_level must lie between 0 and 1, got {ci_level!r}")
    if int(hac_lags) != hac_lags or hac_lags < 0:
        raise ValueError(f"hac_lags must be a non-negative whole number, got {hac_lags!r}")
    trig_w = _check_windows(lag_windows, "lag_windows")
    own_w = _check_windows(own_lags, "own_lags")
    if not trig_w:
        raise ValueError("lag_windows is empty: at least one trigger window is needed to test a reaction")

    wide = _wide(panel, sides=[responder, trigger], outcome=outcome, date_col=date_col, side_col=side_col)
    trig = _window_sums(wide[trigger], trigger, trig_w)
    own = _window_sums(wide[responder], responder, own_w)
    widest = max(hi for _, hi in trig_w + own_w)
    y = wide[responder].iloc[widest:]
    if len(y) == 0:
        raise ValueError(f"the panel has {len(wide)} days, not more than the widest lag window ({widest} days)")
    regressors = pd.concat([trig, own], axis=1).iloc[widest:]
    calendar = _time_dummies(y.index, list(dict.fromkeys(time_effects)))
    calendar = calendar.loc[:, calendar.std() > 0]
    X = pd.concat([pd.DataFrame({"const": 1.0}, index=y.index), regressors, calendar], axis=1)
    blocks = {"const": "intercept"} | dict.fromkeys(trig, "trigger") | dict.fromkeys(own, "own") | dict.fromkeys(calendar, "time")
    windows = {_window_name(trigger, lo, hi): (lo, hi) for lo, hi in trig_w}
    windows |= {_window_name(responder, lo, hi): (lo, hi) for lo, hi in own_w}

    y_model = (y > 0).astype(float) if family == "logit" else y
    if family != "logit" and (y != np.round(y)).any():
        raise ValueError(f"{outcome!r} of {responder!r} has non-whole values; count families need counts")
    if family == "logit":
        rare = int(min(y_model.sum(), len(y_model) - y_model.sum()))
    else:
        rare = int((y > 0).sum())
    if rare == 0:
        what = f"{outcome!r} > 0 on every day or on none" if family == "logit" else f"no nonzero {outcome!r}"
        raise ValueError(f"{responder!r} has {what} in the estimation sample: nothing to fit")
    flat = [c for c in regressors if regressors[c].nunique() < 2]
    if flat:
        raise ValueError(f"lag window(s) {flat} never vary over the sample (a side without {outcome!r}?): not estimable")
    if np.linalg.matrix_rank(X.to_numpy(dtype=float)) < X.shape[1]:
        raise ValueError(f"the regressors {list(X.columns)} are collinear; drop overlapping windows or time effects")

    if rare < 10 * X.shape[1]:
        warnings.warn(
            f"{rare} informative days for {X.shape[1]} coefficients (fewer than 10 per coefficient): "
            "estimates and intervals are unreliable; drop time effects or windows, or aggregate",
            FewEventsWarning, stacklevel=2,
        )
    yv, Xv = y_model.to_numpy(dtype=float), X.to_numpy(dtype=float)
    hac = {"cov_type": "HAC", "cov_kwds": {"maxlags": int(hac_lags)}}
    alpha = np.nan
    if family == "logit":
        fit = sm.Logit(yv, Xv).fit(disp=0, maxiter=200, **hac)
    else:
        fit = sm.GLM(yv, Xv, family=sm.families.Poisson()).fit(**hac)
        if family == "negbin":
            # the Poisson estimate is consistent for the mean: it starts every NB2 fit
            alpha = _nb_profile_alpha(yv, Xv, fit.params)
            fit = sm.GLM(yv, Xv, family=sm.families.NegativeBinomial(alpha=alpha)).fit(start_params=fit.params, **hac)

    params, se = np.asarray(fit.params), np.asarray(fit.bse)
    zcrit = stats.norm.ppf(0.5 + ci_level / 2)
    names = list(X.columns)
    table = pd.DataFrame({
        "term": pd.array(names, dtype="string"),
        "block": pd.array([blocks[n] for n in names], dtype="string"),
        "lag_from": pd.array([windows.get(n, (None, None))[0] for n in names], dtype="Int64"),
        "lag_to": pd.array([windows.get(n, (None, None))[1] for n in names], dtype="Int64"),
        "coef": params, "se": se, "z": params / se, "p": 2 * stats.norm.sf(np.abs(params / se)),
        "ci_low": params - zcrit * se, "ci_high": params + zcrit * se,
    })
    ratio, low, high = ("odds_ratio", "or_low", "or_high") if family == "logit" else ("irr", "irr_low", "irr_high")
    table[ratio], table[low], table[high] = np.exp(table["coef"]), np.exp(table["ci_low"]), np.exp(table["ci_high"])

    tests = []
    for hypothesis, cols in (("trigger", list(trig.columns)), ("own", list(own.columns))):
        if not cols:
            continue
        R = np.zeros((len(cols), len(names)))
        for i, c in enumerate(cols):
            R[i, names.index(c)] = 1.0
        wald = fit.wald_test(R, use_f=False, scalar=True)
        tests.append({"hypothesis": hypothesis, "terms": ", ".join(cols), "statistic": float(wald.statistic),
                      "df": len(cols), "p": float(wald.pvalue)})
    design = pd.concat([pd.DataFrame({"y": y_model}), X.drop(columns="const")], axis=1).reset_index()
    return ReactionResult(
        coefficients=table, tests=pd.DataFrame(tests), nobs=int(fit.nobs), family=family, alpha=alpha,
        responder=responder, trigger=trigger, outcome=outcome, hac_lags=int(hac_lags), ci_level=float(ci_level), design=design,
        llf=float(fit.llf), fit=fit,
    )


# ---------------------------------------------------------------------------------------------
# VAR


@dataclass(frozen=True)
class VarResult:
    """Unit-root tests, lag order, Granger tests and impulse responses of a VAR.

    Attributes
    ----------
    series : DataFrame
        The modelled series, indexed by ``date`` (day, or the Monday starting each week), one
        column per side.
    adf : DataFrame
        One row per series: ``series``, ``adf_stat``, ``p``, ``used_lags``, ``nobs``,
        ``crit_5pct`` (augmented Dickey-Fuller with a constant, lags by AIC).
    lag_order : DataFrame
        ``criterion`` (aic, bic, hqic, fpe), ``lags`` it selects (up to ``maxlags``), ``used``
        (the criterion that set the order; all False when ``lags`` was fixed).
    lags : int
        Lag order of the fitted VAR.
    granger : DataFrame
        One row per ordered pair of sides: ``causing``, ``caused``, ``lags``, ``F``,
        ``df_num``, ``df_denom``, ``p`` (H0: ``causing`` does not Granger-cause ``caused``).
    irf : DataFrame
        ``impulse``, ``response``, ``period`` (0..``irf_periods``), ``irf``, ``lower``,
        ``upper``.
    orth : bool
        Whether impulses are orthogonalised (Cholesky, in the order of ``sides``).
    bands : str
        ``asymptotic`` or ``mc``.
    freq : str
        ``D`` or ``W``.
    outcome : str
    fit : statsmodels VARResults
    """

    series: pd.DataFrame
    adf: pd.DataFrame
    lag_order: pd.DataFrame
    lags: int
    granger: pd.DataFrame
    irf: pd.DataFrame
    orth: bool
    bands: str
    freq: str
    outcome: str
    fit: Any


def _errband_mc(irf, *, orth: bool, repl: int, signif: float, seed: int):
    """Monte Carlo IRF bands, seeded (statsmodels >= 0.15 takes ``rng``, older versions ``seed``)."""
    if "rng" in inspect.signature(irf.errband_mc).parameters:
        band = irf.errband_mc(orth=orth, repl=repl, signif=signif, rng=np.random.default_rng(seed))
    else:  # pragma: no cover - statsmodels 0.14
        band = irf.errband_mc(orth=orth, repl=repl, signif=signif, seed=seed)
    lower, upper = band
    return np.asarray(lower), np.asarray(upper)


def _adf(x: np.ndarray) -> tuple[float, float, int, int, dict]:
    """ADF with a constant and the lag order chosen by AIC (the plain tuple in every statsmodels)."""
    kwargs = {"result_object": False} if "result_object" in inspect.signature(adfuller).parameters else {}
    stat, p, used, nobs, crit, _ = adfuller(x, regression="c", autolag="AIC", **kwargs)
    return stat, p, used, nobs, crit


def var_analysis(
    panel: pd.DataFrame,
    *,
    sides: Sequence[str],
    outcome: str = "events",
    freq: str = "D",
    maxlags: int = 14,
    ic: str = "aic",
    lags: int | None = None,
    irf_periods: int = 30,
    orth: bool = True,
    bands: str = "asymptotic",
    repl: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    date_col: str = "date",
    side_col: str = "side",
) -> VarResult:
    """Vector autoregression of the sides' outcomes: ADF, lag order, Granger, impulse responses.

    Parameters
    ----------
    panel : DataFrame
        Daily panel (:func:`analysis.panel.daily_panel`), complete over its days.
    sides : sequence of str
        Two or more sides; their order is the Cholesky order of orthogonalised impulses (the
        first side does not react within the period to the others' shocks).
    outcome : str
        Column modelled (``events``, ``fatalities``...).
    freq : {"D", "W"}
        Daily, or weekly sums over Monday..Sunday weeks (incomplete weeks at either end dropped).
    maxlags : int
        Largest order tried by the information criteria.
    ic : {"aic", "bic", "hqic", "fpe"}
        Criterion that sets the order when ``lags`` is None.
    lags : int, optional
        Fixed order (Jaeger & Paserman use 7 and 14 days); the criteria are still reported.
    irf_periods : int
        Impulse responses for periods 0..``irf_periods``.
    orth : bool
        Orthogonalised impulses (one standard deviation, Cholesky) rather than unit shocks.
    bands : {"asymptotic", "mc"}
        ``asymptotic``: ``irf +- z * stderr`` with the delta-method standard errors of
        Lütkepohl (2005, section 3.7); ``mc``: Monte Carlo percentile bands
        (``errband_mc``: ``repl`` Gaussian simulations of the fitted VAR, seeded by ``seed``).
    repl : int
        Monte Carlo replications (``bands="mc"``).
    alpha : float
        Bands cover ``1 - alpha``.
    seed : int
        Seed of the Monte Carlo bands.
    date_col, side_col : str
        Key columns of the panel.

    Returns
    -------
    VarResult

    Warns
    -----
    NonStationaryWarning
        A series whose ADF test does not reject a unit root at 5%.
    LagOrderWarning
        The criterion chose zero lags (one is used).
    """
    sides = list(sides)
    if len(sides) < 2:
        raise ValueError(f"a VAR needs at least two sides, got {sides}")
    if freq not in ("D", "W"):
        raise ValueError(f"freq must be 'D' (daily) or 'W' (weekly), got {freq!r}")
    if ic not in _CRITERIA:
        raise ValueError(f"ic must be one of {list(_CRITERIA)}, got {ic!r}")
    if bands not in ("asymptotic", "mc"):
        raise ValueError(f"bands must be 'asymptotic' or 'mc', got {bands!r}")
    if lags is not None and (int(lags) != lags or lags < 1):
        raise ValueError(f"lags must be a positive whole number or None, got {lags!r}")
    if int(maxlags) != maxlags or maxlags < 1:
        raise ValueError(f"maxlags must be a positive whole number, got {maxlags!r}")

    series = _wide(panel, sides=sides, outcome=outcome, date_col=date_col, side_col=side_col)
    if freq == "W":
        weekly = series.resample("W-MON", label="left", closed="left")
        days = weekly.size()
        series = weekly.sum().loc[days == 7].asfreq("W-MON")  # a partial week would look like a lull
    else:
        series = series.asfreq("D")
    constant = [s for s in sides if series[s].nunique() < 2]
    if constant:
        raise ValueError(f"series {constant} never vary over the {len(series)} periods; a VAR needs variation")
    k = len(sides)
    order_max = max(int(maxlags), int(lags or 0))
    if len(series) <= order_max * (k + 1) + 10:
        raise ValueError(
            f"{len(series)} periods are too few for {order_max} lags of {k} series; lower maxlags/lags or use freq='D'"
        )

    adf_rows = []
    for s in sides:
        stat, p, used, nobs, crit = _adf(series[s].to_numpy(dtype=float))
        adf_rows.append({"series": s, "adf_stat": float(stat), "p": float(p), "used_lags": int(used),
                         "nobs": int(nobs), "crit_5pct": float(crit["5%"])})
        if p > 0.05:
            warnings.warn(f"ADF does not reject a unit root in {s!r} (p = {p:.3f}); a VAR in levels "
                          "gives unreliable Granger tests and bands", NonStationaryWarning, stacklevel=2)
    adf = pd.DataFrame(adf_rows)

    model = VAR(series.astype(float))
    selected = model.select_order(maxlags=int(maxlags), trend="c").selected_orders
    lag_order = pd.DataFrame({"criterion": list(_CRITERIA), "lags": [int(selected[c]) for c in _CRITERIA],
                              "used": [lags is None and c == ic for c in _CRITERIA]})
    if lags is None:
        p_lags = int(selected[ic])
        if p_lags == 0:
            warnings.warn(f"{ic.upper()} chose 0 lags (no dynamics detected); fitting 1 lag", LagOrderWarning, stacklevel=2)
            p_lags = 1
    else:
        p_lags = int(lags)
    fit = model.fit(p_lags, trend="c")

    granger = []
    for causing in sides:
        for caused in sides:
            if causing == caused:
                continue
            test = fit.test_causality(caused, [causing], kind="f")
            df_num, df_denom = test.df
            granger.append({"causing": causing, "caused": caused, "lags": p_lags, "F": float(test.test_statistic),
                            "df_num": int(df_num), "df_denom": int(df_denom), "p": float(test.pvalue)})

    irf = fit.irf(int(irf_periods))
    point = irf.orth_irfs if orth else irf.irfs  # [period, response, impulse]
    if bands == "asymptotic":
        half = stats.norm.ppf(1 - alpha / 2) * irf.stderr(orth=orth)
        lower, upper = point - half, point + half
    else:
        lower, upper = _errband_mc(irf, orth=orth, repl=int(repl), signif=alpha, seed=seed)
    periods = np.arange(point.shape[0])
    rows = []
    for j, impulse in enumerate(sides):
        for i, response in enumerate(sides):
            rows.append(pd.DataFrame({"impulse": impulse, "response": response, "period": periods,
                                      "irf": point[:, i, j], "lower": lower[:, i, j], "upper": upper[:, i, j]}))
    irf_table = pd.concat(rows, ignore_index=True)
    for col in ("impulse", "response"):
        irf_table[col] = irf_table[col].astype("string")
    return VarResult(series=series, adf=adf, lag_order=lag_order, lags=p_lags, granger=pd.DataFrame(granger),
                     irf=irf_table, orth=bool(orth), bands=bands, freq=freq, outcome=outcome, fit=fit)


def reaction_functions(panel: pd.DataFrame, *, sides: Sequence[str], **options) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`reaction_function` both ways: each side as responder to the other.

    Parameters
    ----------
    panel : DataFrame
        The daily panel.
    sides : two str
    **options
        Passed to :func:`reaction_function` (``outcome``, ``lag_windows``, ``family``...).

    Returns
    -------
    (DataFrame, DataFrame)
        The coefficient tables and the joint tests of both directions, each with ``responder``
        and ``trigger`` columns (and ``nobs`` and ``family`` for the coefficients).
    """
    a, b = sides
    coefficients, tests = [], []
    for responder, trigger in ((a, b), (b, a)):
        result = reaction_function(panel, responder=responder, trigger=trigger, **options)
        coefficients.append(result.coefficients.assign(responder=responder, trigger=trigger, nobs=result.nobs,
                                                       family=result.family))
        tests.append(result.tests.assign(responder=responder, trigger=trigger))
    return pd.concat(coefficients, ignore_index=True), pd.concat(tests, ignore_index=True)
