"""Time to retaliation as survival data: Kaplan-Meier curves, Cox regression, and a check of
proportional hazards.

(One module of about 800 lines on purpose: the three estimators read the cycles table the same
way, with the same censoring, groups and warnings, and a reader checks them against each other
and against R and Stata; more than a third of the lines are the docstrings stating the formulas.)

Each row of the cycles table (:func:`analysis.cycles.build_cycles`) is one trigger waiting for a
response from the other side. ``interval_days`` is the wait: the days to the response, or the
follow-up time when ``censored`` (no response within the window, or the data end first). The
*event* is a response; its indicator is ``~censored`` unless another column is named.

Kaplan-Meier estimate (Kaplan & Meier 1958)
    ``S(t)``: the share of triggers not yet answered ``t`` days after the trigger, per group
    (by default per trigger side, i.e. per direction of retaliation), from
    :class:`statsmodels.duration.survfunc.SurvfuncRight`. Standard errors by Greenwood's formula.
Confidence band
    ``band="pointwise"`` (default): pointwise intervals on the log-log scale,
    ``S(t) ** exp(+-z * se / (S(t) * |log S(t)|))`` (Kalbfleisch & Prentice 2002, sec. 1.3; R's
    ``survfit(conf.type="log-log")`` and Stata's ``sts list``), which stay within [0, 1], for any
    ``alpha``. ``band="hall-wellner"``: a simultaneous 95% band over the event times (Hall &
    Wellner 1980, log transform), from :meth:`SurvfuncRight.simultaneous_cb`; statsmodels only
    has it for ``alpha=0.05``.
Median time to response
    :meth:`SurvfuncRight.quantile`: the first event time at which ``S(t) < 0.5`` (a strict
    inequality, as statsmodels has it; where ``S`` equals 0.5 exactly over an interval, R and
    SAS report the midpoint of that interval instead). Its confidence interval inverts a test on
    the log-log scale (Brookmeyer & Crowley 1982; :meth:`SurvfuncRight.quantile_ci`,
    ``method="cloglog"``). ``NaN``: not reached (fewer than half the triggers answered within
    the follow-up, common with a short window).
Restricted mean survival time (RMST)
    The area under the Kaplan-Meier step curve from 0 to a horizon ``tau``: the mean wait
    counting every wait longer than ``tau`` as ``tau`` days. It exists even when the median is
    not reached. Its variance is the Greenwood-type sum
    ``sum_j A_j**2 * d_j / (n_j * (n_j - d_j))`` over event times ``t_j <= tau``, with
    ``A_j`` the area under the curve from ``t_j`` to ``tau`` (Klein & Moeschberger 2003,
    sec. 4.5). Intervals are normal (mean +- z se). ``tau`` defaults to the longest follow-up
    in the whole table (the window, when every direction shares one), so groups are compared
    over the same horizon; a group followed for less than ``tau`` whose curve has not reached
    0 has no RMST (``NaN``, with a :class:`ShortFollowUpWarning`).
Cox regression (Cox 1972)
    :class:`statsmodels.duration.hazard_regression.PHReg` with Breslow (default) or Efron ties.
    With day-resolution intervals ties are many; Efron's approximation is closer to the exact
    partial likelihood, Breslow's is what Stata and SAS use by default. Hazard ratios above 1
    mean a faster response.
Proportional hazards check
    Grambsch & Therneau (1994): if the effect of covariate ``j`` drifts with time, the scaled
    Schoenfeld residuals ``beta_j + d * (V r_k)_j`` (``r_k`` the Schoenfeld residual of event
    ``k``, ``V`` the model's covariance, ``d`` the number of events) trend against a
    transform ``g(t)`` of time. The test is their approximate score test, as R's ``cox.zph``
    computed it before survival 3.0 (2019): ``chi2_j = d * (V U)_j**2 / (V_jj * S_gg)``
    with ``U = sum_k (g_k - mean g) r_k`` and ``S_gg = sum_k (g_k - mean g)**2``, 1 df each,
    and a global ``d * U' V U / S_gg`` on ``p`` df. Current R (survival >= 3.0) uses the
    exact score test, whose values differ a little. ``rho`` is the correlation of ``g`` with the
    scaled residuals. The Schoenfeld residuals are statsmodels' (covariate minus its risk-set
    mean at the event time, Breslow weights; with Efron ties R averages within tied events, so
    R's residuals differ there).

References
----------
Brookmeyer R, Crowley J (1982). A confidence interval for the median survival time.
Biometrics 38:29-41.
Cox DR (1972). Regression models and life-tables. JRSS B 34:187-220.
Grambsch PM, Therneau TM (1994). Proportional hazards tests and diagnostics based on weighted
residuals. Biometrika 81:515-526.
Hall WJ, Wellner JA (1980). Confidence bands for a survival curve from censored data.
Biometrika 67:133-143.
Kalbfleisch JD, Prentice RL (2002). The Statistical Analysis of Failure Time Data, 2nd ed.
Klein JP, Moeschberger ML (2003). Survival Analysis, 2nd ed.
Peduzzi P, Concato J, Feinstein AR, Holford TR (1995). Importance of events per independent
variable in proportional hazards regression analysis II. J Clin Epidemiol 48:1503-1510.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg, PHRegResults
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.tools.sm_exceptions import ConvergenceWarning

# the named warnings (defined in analysis.warnings), importable from here as before
from analysis.warnings import (
    DroppedRowsWarning,
    FewEventsWarning,
    FitFailedWarning,
    ShortFollowUpWarning,
    SurvivalWarning,
    UntestableWarning,
)

__all__ = [
    "BANDS",
    "PH_TRANSFORMS",
    "CoxResult",
    "DroppedRowsWarning",
    "FewEventsWarning",
    "FitFailedWarning",
    "KMResult",
    "ShortFollowUpWarning",
    "SurvivalWarning",
    "UntestableWarning",
    "cox",
    "cox_models",
    "kaplan_meier",
    "ph_test",
    "scaled_schoenfeld",
    "trigger_covariates",
]

BANDS = ("pointwise", "hall-wellner")
PH_TRANSFORMS = ("km", "rank", "identity", "log")
TIES = ("breslow", "efron")

#: Columns of :attr:`KMResult.curve`.
CURVE_COLUMNS = ("group", "time", "n_at_risk", "n_events", "survival", "std_err", "lower", "upper")
#: Columns of :attr:`KMResult.summary`.
SUMMARY_COLUMNS = (
    "group", "n", "events", "censored", "max_time", "median", "median_lower", "median_upper",
    "tau", "survival_at_tau", "rmst", "rmst_se", "rmst_lower", "rmst_upper",
)


# ---------------------------------------------------------------------------------------------
# input checks


def _columns_present(frame: pd.DataFrame, cols: Iterable[str], what: str) -> None:
    absent = [c for c in cols if c not in frame.columns]
    if absent:
        raise ValueError(f"{what} has no {absent} column(s); columns are: {', '.join(map(str, frame.columns))}")


def _durations(frame: pd.DataFrame, duration_col: str) -> np.ndarray:
    values = pd.to_numeric(frame[duration_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(f"'{duration_col}' has {int(bad.sum())} missing or non-numeric value(s), e.g. at row(s) "
                         f"{list(frame.index[bad][:5])}")
    if (values < 0).any():
        raise ValueError(f"'{duration_col}' has negative durations, e.g. at row(s) {list(frame.index[values < 0][:5])}")
    return values


def _events(frame: pd.DataFrame, event_col: str | None) -> np.ndarray:
    """Event indicator (True: a response was observed)."""
    col = "censored" if event_col is None else event_col
    series = frame[col]
    if series.isna().any():
        raise ValueError(f"'{col}' has {int(series.isna().sum())} missing value(s); the censoring status must be known")
    values = series.to_numpy()
    if pd.api.types.is_bool_dtype(series):
        flags = values.astype(bool)
    else:
        numeric = pd.to_numeric(series, errors="coerce")
        if numeric.isna().any() or not numeric.isin([0, 1]).all():
            raise ValueError(f"'{col}' must be boolean or 0/1, got values such as {list(pd.unique(series))[:5]}")
        flags = numeric.to_numpy(dtype=float) == 1
    return ~flags if event_col is None else flags


def _survival_frame(cycles: pd.DataFrame, duration_col: str, event_col: str | None) -> tuple[np.ndarray, np.ndarray]:
    _columns_present(cycles, [duration_col, "censored" if event_col is None else event_col], "cycles")
    return _durations(cycles, duration_col), _events(cycles, event_col)


# ---------------------------------------------------------------------------------------------
# Kaplan-Meier


@dataclass(frozen=True)
class KMResult:
    """Kaplan-Meier curves and their summaries, one per group.

    Attributes
    ----------
    curve : DataFrame
        One row per group x event time (times at which at least one response happened):
        ``group``, ``time``, ``n_at_risk`` (waiting just before ``time``), ``n_events``,
        ``survival`` (share not yet answered just after ``time``), ``std_err`` (Greenwood),
        ``lower``, ``upper`` (the band, see ``band``). The curve starts at 1 at time 0, before
        the first row.
    summary : DataFrame
        One row per group: ``group``, ``n``, ``events``, ``censored``, ``max_time`` (longest
        follow-up), ``median`` with ``median_lower``/``median_upper``, ``tau``,
        ``survival_at_tau``, ``rmst`` with ``rmst_se``, ``rmst_lower``, ``rmst_upper``.
    alpha : float
        1 - confidence level of every interval.
    band : str
        ``"pointwise"`` (log-log) or ``"hall-wellner"`` (simultaneous, log transform).
    tau : float
        Horizon of the restricted mean.
    fits : dict
        Group -> the fitted :class:`~statsmodels.duration.survfunc.SurvfuncRight`.
    """

    curve: pd.DataFrame
    summary: pd.DataFrame
    alpha: float
    band: str
    tau: float
    fits: dict = field(default_factory=dict, repr=False)


def _loglog_band(surv: np.ndarray, se: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise interval on the log(-log S) scale (Kalbfleisch & Prentice 2002, sec. 1.3)."""
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = z * se / (surv * np.abs(np.log(surv)))
        lower, upper = surv ** np.exp(w), surv ** np.exp(-w)
    undefined = ~np.isfinite(w) | (surv <= 0)
    lower[undefined] = np.nan
    upper[undefined] = np.nan
    return lower, upper


def _rmst(times: np.ndarray, surv: np.ndarray, n_risk: np.ndarray, n_events: np.ndarray, tau: float) -> tuple[float, float]:
    """Area under the KM step curve on [0, tau] and its Greenwood-type standard error
    (Klein & Moeschberger 2003, sec. 4.5)."""
    inside = times <= tau
    t, s = times[inside], surv[inside]
    n, d = n_risk[inside].astype(float), n_events[inside].astype(float)
    knots = np.concatenate(([0.0], t, [tau]))
    heights = np.concatenate(([1.0], s))  # S on [0, t_1), [t_1, t_2), ..., [t_m, tau]
    pieces = heights * np.diff(knots)
    area = float(pieces.sum())
    # A_j: area from event time t_j to tau = the pieces after the j-th knot
    after = np.cumsum(pieces[::-1])[::-1][1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n > d, after**2 * d / (n * (n - d)), 0.0)  # n == d: S is 0 after, A_j = 0
    return area, float(np.sqrt(terms.sum()))


def kaplan_meier(
    cycles: pd.DataFrame,
    *,
    duration_col: str = "interval_days",
    event_col: str | None = None,
    group_col: str | None = "trigger_side",
    alpha: float = 0.05,
    band: str = "pointwise",
    tau: float | None = None,
    min_events: int = 5,
) -> KMResult:
    """Kaplan-Meier curve of the time to response, per group, with bands, median and RMST.

    Parameters
    ----------
    cycles : DataFrame
        One row per trigger, e.g. the output of :func:`analysis.cycles.build_cycles`. Not
        modified.
    duration_col : str
        Time to response, or follow-up time when censored (non-negative, no missing value).
    event_col : str, optional
        Column that is True/1 when a response was observed. By default the event is
        ``~cycles["censored"]``.
    group_col : str or None
        One curve per value (default: per trigger side, i.e. per direction). ``None``: one curve
        for all rows, in group ``"all"``. Rows with a missing group are left out, with a
        :class:`DroppedRowsWarning`.
    alpha : float
        1 - confidence level of bands and intervals.
    band : {"pointwise", "hall-wellner"}
        Pointwise log-log intervals, or the Hall-Wellner simultaneous band (``alpha`` must then
        be 0.05). See the module notes.
    tau : float, optional
        RMST horizon; default the longest follow-up in the table (all groups).
    min_events : int
        A group with fewer responses gets a :class:`FewEventsWarning`.

    Returns
    -------
    KMResult

    Raises
    ------
    ValueError
        If a column is absent, a duration is missing or negative, the censoring status is
        missing or not boolean, or ``band``/``alpha`` is not usable.

    Examples
    --------
    >>> cycles = pd.DataFrame({"interval_days": [1, 2, 2, 3, 4, 5],
    ...                        "censored": [False, False, True, False, True, False]})
    >>> km = kaplan_meier(cycles, group_col=None, min_events=1)
    >>> km.curve[["time", "n_at_risk", "survival"]].round(3)
       time  n_at_risk  survival
    0   1.0          6     0.833
    1   2.0          5     0.667
    2   3.0          3     0.444
    3   5.0          1     0.000
    """
    if band not in BANDS:
        raise ValueError(f"band must be one of {BANDS}, got {band!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie between 0 and 1, got {alpha}")
    if band == "hall-wellner" and not np.isclose(alpha, 0.05):
        raise ValueError("the Hall-Wellner band is available for alpha=0.05 only (statsmodels); use band='pointwise'")
    durations, events = _survival_frame(cycles, duration_col, event_col)
    if group_col is None:
        groups = np.full(len(cycles), "all", dtype=object)
    else:
        _columns_present(cycles, [group_col], "cycles")
        labels = cycles[group_col]
        missing = labels.isna().to_numpy()
        if missing.any():
            warnings.warn(f"{int(missing.sum())} row(s) with a missing '{group_col}' are left out", DroppedRowsWarning,
                          stacklevel=2)
        groups = labels.to_numpy(dtype=object)
        durations, events, groups = durations[~missing], events[~missing], groups[~missing]
    if len(durations) == 0:
        raise ValueError("cycles has no rows to estimate from")
    tau = float(durations.max()) if tau is None else float(tau)
    if tau <= 0:
        raise ValueError(f"tau must be positive, got {tau}")

    z = stats.norm.ppf(1 - alpha / 2)
    curves, rows, fits = [], [], {}
    for group in sorted(pd.unique(groups), key=str):
        mine = groups == group
        t, e = durations[mine], events[mine]
        n_events = int(e.sum())
        if n_events < min_events:
            warnings.warn(f"group {group!r} has {n_events} response(s) (< {min_events}): its curve, median and "
                          "RMST are very uncertain", FewEventsWarning, stacklevel=2)
        fit = SurvfuncRight(t, e.astype(float))
        fits[group] = fit
        surv, se = np.asarray(fit.surv_prob, dtype=float), np.asarray(fit.surv_prob_se, dtype=float)
        if band == "pointwise":
            lower, upper = _loglog_band(surv, se, alpha)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                lower, upper = (np.asarray(b, dtype=float) for b in fit.simultaneous_cb(alpha=0.05, transform="log"))
            undefined = ~np.isfinite(se) | (surv <= 0)
            lower[undefined], upper[undefined] = np.nan, np.nan
        curves.append(pd.DataFrame({
            "group": group, "time": np.asarray(fit.surv_times, dtype=float),
            "n_at_risk": np.asarray(fit.n_risk).astype(np.int64), "n_events": np.asarray(fit.n_events).astype(np.int64),
            "survival": surv, "std_err": se, "lower": lower, "upper": upper,
        }))

        with np.errstate(divide="ignore", invalid="ignore"):
            median = float(fit.quantile(0.5)) if n_events else np.nan
            m_low, m_high = fit.quantile_ci(0.5, alpha=alpha, method="cloglog") if n_events else (np.nan, np.nan)
        max_time = float(t.max())
        last = float(surv[-1]) if len(surv) else 1.0
        if tau > max_time and last > 0:
            warnings.warn(f"group {group!r} is followed for at most {max_time:g}, less than tau={tau:g}: its RMST "
                          "and survival at tau are unknown", ShortFollowUpWarning, stacklevel=2)
            rmst = rmst_se = at_tau = np.nan
        else:
            rmst, rmst_se = _rmst(np.asarray(fit.surv_times, dtype=float), surv, np.asarray(fit.n_risk),
                                  np.asarray(fit.n_events), tau)
            reached = np.asarray(fit.surv_times) <= tau
            at_tau = float(surv[reached][-1]) if reached.any() else 1.0
        rows.append({
            "group": group, "n": int(mine.sum()), "events": n_events, "censored": int((~e).sum()),
            "max_time": max_time, "median": median,
            "median_lower": float(m_low) if np.isfinite(m_low) else np.nan,
            "median_upper": float(m_high) if np.isfinite(m_high) else np.nan,
            "tau": tau, "survival_at_tau": at_tau, "rmst": rmst, "rmst_se": rmst_se,
            "rmst_lower": rmst - z * rmst_se, "rmst_upper": rmst + z * rmst_se,
        })
    curve = pd.concat(curves, ignore_index=True)[list(CURVE_COLUMNS)]
    summary = pd.DataFrame(rows)[list(SUMMARY_COLUMNS)]
    return KMResult(curve=curve, summary=summary, alpha=alpha, band=band, tau=tau, fits=fits)


# ---------------------------------------------------------------------------------------------
# covariates of the trigger


def _period_labels(dates: pd.Series, period_breaks: Sequence | Mapping) -> pd.Categorical:
    """Period of each date: ``[start_k, start_k+1)`` intervals, as an ordered categorical."""
    if isinstance(period_breaks, Mapping):
        names = list(period_breaks)
        starts = [pd.Timestamp(v) for v in period_breaks.values()]
    else:
        starts = [pd.Timestamp(v) for v in period_breaks]
        names = []
    if not starts:
        raise ValueError("period_breaks is empty")
    if any(b <= a for a, b in itertools.pairwise(starts)):
        raise ValueError(f"period_breaks must be strictly increasing dates, got {[s.date().isoformat() for s in starts]}")
    day = pd.Timedelta(days=1)
    # number of starts on or before each date: 0 before the first start
    position = np.searchsorted(np.array(starts, dtype="datetime64[ns]"),
                               pd.to_datetime(dates).to_numpy(dtype="datetime64[ns]"), side="right")
    if not names:  # a sequence of breaks: before the first, between each pair, from the last
        names = [f"before {starts[0].date()}"]
        names += [f"{a.date()} to {(b - day).date()}" for a, b in itertools.pairwise(starts)]
        names += [f"from {starts[-1].date()}"]
    else:  # named starts: dates before the first start belong to no period
        position = position - 1
    position = np.where(pd.isna(dates).to_numpy(), -1, position)
    return pd.Categorical.from_codes(position, categories=names, ordered=True)


def trigger_covariates(
    cycles: pd.DataFrame,
    events: pd.DataFrame,
    *,
    columns: Iterable[str] = ("fatalities", "country"),
    log1p: Iterable[str] = ("fatalities",),
    flags: Mapping[str, Iterable[str]] | None = None,
    period_breaks: Sequence | Mapping | None = None,
    id_col: str = "event_id",
) -> pd.DataFrame:
    """Return ``cycles`` with attributes of each trigger event, ready as Cox covariates.

    Parameters
    ----------
    cycles : DataFrame
        Output of :func:`analysis.cycles.build_cycles` (``trigger_id``, ``trigger_date``). Not
        modified.
    events : DataFrame
        The events the cycles were built from, keyed by ``id_col``.
    columns : iterable of str
        Event columns copied as ``trigger_<col>`` (replacing a column of that name).
    log1p : iterable of str
        Columns (among ``columns``, or already ``trigger_<col>`` in ``cycles``) also given as
        ``trigger_<col>_log1p`` = ``log(1 + value)``: severity counts are skewed, and a log
        scale makes the hazard ratio one per e-fold increase of ``1 + count``. Missing stays
        missing.
    flags : mapping, optional
        Name -> event ids: ``trigger_<name>`` is True for triggers among those ids (e.g.
        ``{"leader_killed": [...]}`` from a parameter file).
    period_breaks : sequence or mapping of dates, optional
        Adds ``trigger_period``, an ordered categorical (the first period is the Cox
        reference). A sequence of breaks ``[b1, b2]`` gives "before b1", "b1 to b2 - 1 day",
        "from b2"; a mapping ``{label: start}`` names periods starting at each date (triggers
        before the first start get no period, i.e. missing).
    id_col : str
        Key of ``events``.

    Returns
    -------
    DataFrame
        A copy of ``cycles`` with the added columns.

    Raises
    ------
    ValueError
        If a column is absent, ``events`` has duplicate ids, or a trigger is not in ``events``.
    """
    columns, log1p, flags = list(columns), list(log1p), dict(flags or {})
    _columns_present(cycles, ["trigger_id", "trigger_date"], "cycles")
    _columns_present(events, [id_col, *columns], "events")
    keys = pd.Index(events[id_col].astype("string"))
    if keys.has_duplicates:
        raise ValueError(f"events has duplicate '{id_col}' values, e.g. {list(keys[keys.duplicated()][:5])}")
    trigger_ids = pd.Index(cycles["trigger_id"].astype("string"))
    position = keys.get_indexer(trigger_ids)
    if (position < 0).any():
        raise ValueError(f"{int((position < 0).sum())} trigger(s) are not in events, e.g. {list(trigger_ids[position < 0][:5])}")
    out = cycles.copy()
    for col in columns:
        out[f"trigger_{col}"] = events[col].array.take(position)
    for col in log1p:
        source = f"trigger_{col}"
        if source not in out.columns:
            raise ValueError(f"log1p names '{col}', but neither columns nor cycles give '{source}'")
        values = pd.to_numeric(out[source], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if (values < 0).any():
            raise ValueError(f"'{source}' has negative values; log(1 + x) needs counts >= 0")
        out[f"{source}_log1p"] = np.log1p(values)
    for name, ids in flags.items():
        out[f"trigger_{name}"] = trigger_ids.isin(pd.Index(list(ids), dtype="string"))
    if period_breaks is not None:
        out["trigger_period"] = _period_labels(out["trigger_date"], period_breaks)
    return out


# ---------------------------------------------------------------------------------------------
# Cox regression


@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model and its table of hazard ratios.

    Attributes
    ----------
    table : DataFrame
        One row per model term: ``term``, ``coef`` (log hazard ratio), ``se``, ``hr``,
        ``lower``/``upper`` (interval of the hazard ratio), ``z``, ``p`` (Wald).
    results : PHRegResults
        The statsmodels fit (``results.model`` is the :class:`PHReg`).
    design : DataFrame
        The covariate matrix used (one column per term), indexed like the rows used.
    n, events, n_dropped : int
        Rows used, responses among them, rows left out for a missing value.
    ties : str
    strata : str or None
    alpha : float
    """

    table: pd.DataFrame
    results: PHRegResults = field(repr=False)
    design: pd.DataFrame = field(repr=False)
    n: int
    events: int
    n_dropped: int
    ties: str
    strata: str | None
    alpha: float


def _design(frame: pd.DataFrame, covariates: Sequence[str], reference: Mapping[str, object]) -> pd.DataFrame:
    """Numeric columns as they are, booleans as 0/1, text and categoricals as indicators of each
    level but the reference (``col[level]``)."""
    parts: dict[str, pd.Series] = {}
    for col in covariates:
        s = frame[col]
        if pd.api.types.is_bool_dtype(s.dtype):
            if col in reference:
                raise ValueError(f"'{col}' is boolean: it has no reference level to choose (False is the reference)")
            parts[col] = s.astype(float)
            continue
        if pd.api.types.is_datetime64_any_dtype(s.dtype) or isinstance(s.dtype, pd.PeriodDtype):
            raise ValueError(f"'{col}' holds dates; turn it into a period or a number first (see trigger_covariates)")
        if pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
            if col in reference:
                raise ValueError(f"'{col}' is numeric: a reference level applies to categorical covariates only")
            parts[col] = pd.Series(s.to_numpy(dtype=float, na_value=np.nan), index=s.index)
            continue
        present = set(pd.unique(s))
        if isinstance(s.dtype, pd.CategoricalDtype):
            levels = [c for c in s.cat.categories if c in present]
        else:
            levels = sorted(present, key=str)
        ref = reference.get(col, levels[0] if levels else None)
        if ref not in levels:
            raise ValueError(f"reference level {ref!r} of '{col}' does not occur; its levels are {levels}")
        if len(levels) < 2:
            raise ValueError(f"covariate '{col}' has a single value ({ref!r}) in the rows used: its effect cannot be estimated")
        for level in levels:
            if level != ref:
                parts[f"{col}[{level}]"] = (s == level).astype(float)
    design = pd.DataFrame(parts, index=frame.index)
    constant = [c for c in design.columns if design[c].nunique() < 2]
    if constant:
        raise ValueError(f"covariate term(s) {constant} do not vary in the rows used: their effect cannot be estimated")
    return design


def cox(
    cycles: pd.DataFrame,
    *,
    covariates: Sequence[str],
    duration_col: str = "interval_days",
    event_col: str | None = None,
    strata: str | None = None,
    ties: str = "breslow",
    reference: Mapping[str, object] | None = None,
    alpha: float = 0.05,
    min_events_per_parameter: int = 10,
) -> CoxResult:
    """Cox proportional hazards regression of the time to response on trigger covariates.

    Parameters
    ----------
    cycles : DataFrame
        One row per trigger (e.g. from :func:`trigger_covariates`). Not modified.
    covariates : sequence of str
        Columns of ``cycles``. Numbers enter as they are (transform them first, e.g.
        ``trigger_fatalities_log1p``); booleans as 0/1; text and categoricals as one indicator
        per level but the reference.
    duration_col, event_col : str
        As in :func:`kaplan_meier` (default event: ``~censored``).
    strata : str, optional
        Column whose values get each their own baseline hazard (e.g. ``"trigger_side"`` to
        compare covariate effects across both directions without assuming the two directions'
        waits have proportional hazards).
    ties : {"breslow", "efron"}
        Approximation of the partial likelihood for tied durations.
    reference : mapping, optional
        Column -> reference level; default the first category (categoricals) or the first value
        in sorted order (text).
    alpha : float
        1 - confidence level of the hazard-ratio intervals.
    min_events_per_parameter : int
        Fewer responses than this many per model term give a :class:`FewEventsWarning`
        (Peduzzi et al. 1995 found estimates biased and intervals unreliable below about 10).

    Returns
    -------
    CoxResult

    Raises
    ------
    ValueError
        If a column is absent, no response is observed, or a covariate does not vary.

    Notes
    -----
    Rows with a missing duration, status, covariate or stratum are left out (counted in
    ``n_dropped``, with a :class:`DroppedRowsWarning`).
    """
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}, got {ties!r}")
    covariates = list(covariates)
    if not covariates:
        raise ValueError("covariates is empty: name at least one column of cycles")
    reference = dict(reference or {})
    unknown = [c for c in reference if c not in covariates]
    if unknown:
        raise ValueError(f"reference names column(s) {unknown} that are not among the covariates {covariates}")
    status_col = "censored" if event_col is None else event_col
    needed = list(dict.fromkeys([duration_col, status_col, *covariates, *([strata] if strata else [])]))
    _columns_present(cycles, needed, "cycles")
    complete = cycles[needed].notna().all(axis=1).to_numpy()
    n_dropped = int((~complete).sum())
    if n_dropped:
        gaps = {c: int(cycles[c].isna().sum()) for c in needed if cycles[c].isna().any()}
        warnings.warn(f"{n_dropped} of {len(cycles)} row(s) left out of the Cox model for missing values ({gaps})",
                      DroppedRowsWarning, stacklevel=2)
    frame = cycles.loc[complete, needed]
    durations = _durations(frame, duration_col)
    events = _events(frame, event_col)
    n_events = int(events.sum())
    if n_events == 0:
        raise ValueError("no response is observed in the rows used: a Cox model needs events")
    design = _design(frame, covariates, reference)
    if n_events < min_events_per_parameter * design.shape[1]:
        warnings.warn(f"{n_events} responses for {design.shape[1]} model term(s) (< {min_events_per_parameter} per "
                      "term, Peduzzi et al. 1995): hazard ratios may be biased and intervals too narrow",
                      FewEventsWarning, stacklevel=2)
    model = PHReg(durations, design, status=events.astype(float), ties=ties,
                  strata=None if strata is None else frame[strata].astype(str).to_numpy())
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)  # reported below, in our words
        results = model.fit()
    params = np.asarray(results.params, dtype=float)
    se = np.asarray(results.bse, dtype=float)
    ci = np.asarray(results.conf_int(alpha=alpha), dtype=float)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    for w in caught:  # other warnings pass through unchanged
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if not converged or not np.all(np.isfinite(params)) or not np.all(np.isfinite(se)):
        warnings.warn(
            "the Cox fit did not converge to finite estimates: a covariate probably separates the "
            "responses (e.g. every trigger with it was answered first); drop or merge it. "
            "The estimates are set to missing",
            FitFailedWarning,
            stacklevel=2,
        )
        params, se, ci = np.full_like(params, np.nan), np.full_like(se, np.nan), np.full_like(ci, np.nan)
    table = pd.DataFrame({
        "term": list(design.columns), "coef": params, "se": se, "hr": np.exp(params),
        "lower": np.exp(ci[:, 0]), "upper": np.exp(ci[:, 1]), "z": params / se,
        "p": 2 * stats.norm.sf(np.abs(params / se)),
    })
    return CoxResult(table=table, results=results, design=design, n=len(frame), events=n_events, n_dropped=n_dropped,
                     ties=ties, strata=strata, alpha=alpha)


# ---------------------------------------------------------------------------------------------
# proportional hazards check


def _transformed_times(results: PHRegResults, times: np.ndarray, transform: str) -> np.ndarray:
    """``g(t)`` at each event time, as R's ``cox.zph`` defines it."""
    if transform == "identity":
        return times
    if transform == "rank":
        return stats.rankdata(times)  # ties get their average rank, as R's rank()
    if transform == "log":
        if (times <= 0).any():
            raise ValueError("transform='log' needs positive event times; some responses have interval 0")
        return np.log(times)
    # "km": 1 - the left-continuous KM estimate S(t-) of all rows used in the fit, pooled
    model = results.model
    pooled = SurvfuncRight(np.asarray(model.endog, dtype=float), np.asarray(model.status, dtype=float))
    knots = np.asarray(pooled.surv_times, dtype=float)
    before = np.searchsorted(knots, times, side="left") - 1
    s_minus = np.where(before >= 0, np.asarray(pooled.surv_prob)[np.maximum(before, 0)], 1.0)
    return 1 - s_minus


def _schoenfeld_parts(cox_result: CoxResult, transform: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Event times, g(t), unscaled Schoenfeld residuals (events x terms) and the covariance V."""
    if transform not in PH_TRANSFORMS:
        raise ValueError(f"transform must be one of {PH_TRANSFORMS}, got {transform!r}")
    results = cox_result.results
    model = results.model
    resid = np.asarray(results.schoenfeld_residuals, dtype=float)
    # censored rows, and rows in a stratum without events, have no residual
    keep = (np.asarray(model.status) == 1) & np.isfinite(resid).all(axis=1)
    times = np.asarray(model.endog, dtype=float)[keep]
    return times, _transformed_times(results, times, transform), resid[keep], np.asarray(results.cov_params(), dtype=float)


def scaled_schoenfeld(cox_result: CoxResult, *, transform: str = "km") -> pd.DataFrame:
    """Scaled Schoenfeld residuals ``beta + d * V r_k`` of every response, for plotting against
    time (a flat smooth supports proportional hazards; see :func:`ph_test`).

    Returns
    -------
    DataFrame
        One row per response x term: ``time``, ``g`` (the transformed time), ``term``,
        ``residual``.
    """
    times, g, resid, cov = _schoenfeld_parts(cox_result, transform)
    beta = np.asarray(cox_result.results.params, dtype=float)
    scaled = beta + len(times) * resid @ cov
    terms = list(cox_result.design.columns)
    return pd.DataFrame({
        "time": np.repeat(times, len(terms)), "g": np.repeat(g, len(terms)),
        "term": np.tile(terms, len(times)), "residual": scaled.ravel(),
    })


def ph_test(cox_result: CoxResult, *, transform: str = "km") -> pd.DataFrame:
    """Test of proportional hazards per term, from scaled Schoenfeld residuals.

    Grambsch & Therneau's (1994) approximate score test of a linear trend of each coefficient
    in ``g(t)``, as R's ``cox.zph`` computed it before survival 3.0 (see the module notes).

    Parameters
    ----------
    cox_result : CoxResult
        Output of :func:`cox`.
    transform : {"km", "rank", "identity", "log"}
        ``g(t)``: ``"km"`` (default, as R) is 1 minus the left-continuous Kaplan-Meier estimate
        of all rows pooled, which spreads the events evenly and is robust to a few long waits;
        ``"rank"`` the rank of the event time.

    Returns
    -------
    DataFrame
        One row per term, then ``"GLOBAL"`` when there are several: ``term``, ``rho``
        (correlation of ``g`` with the scaled residuals; empty for GLOBAL), ``chi2``, ``df``,
        ``p``. A small ``p`` says the hazard ratio changes with the time since the trigger.

    Warns
    -----
    UntestableWarning
        If all responses happen at the same ``g(t)`` (nothing to trend against): the table then
        has the terms with missing statistics, so a report can say the check was not possible.
    """
    times, g, resid, cov = _schoenfeld_parts(cox_result, transform)
    d = len(times)
    centred = g - g.mean()
    s_gg = float(centred @ centred)
    if d < 2 or s_gg <= 0:
        warnings.warn("the responses all happen at one time: proportional hazards cannot be checked",
                      UntestableWarning, stacklevel=2)
        terms = list(cox_result.table["term"])
        return pd.DataFrame({"term": terms, "rho": np.nan, "chi2": np.nan, "df": 1, "p": np.nan})
    beta = np.asarray(cox_result.results.params, dtype=float)
    u = centred @ resid  # sum_k (g_k - mean g) r_k
    vu = cov @ u
    chi2 = d * vu**2 / (np.diag(cov) * s_gg)
    scaled = beta + d * resid @ cov
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = [float(np.corrcoef(centred, scaled[:, j])[0, 1]) for j in range(scaled.shape[1])]
    terms = list(cox_result.design.columns)
    table = pd.DataFrame({"term": terms, "rho": rho, "chi2": chi2, "df": 1, "p": stats.chi2.sf(chi2, 1)})
    if len(terms) > 1:
        total = float(d * u @ cov @ u / s_gg)
        table = pd.concat([table, pd.DataFrame([{"term": "GLOBAL", "rho": np.nan, "chi2": total, "df": len(terms),
                                                 "p": stats.chi2.sf(total, len(terms))}])], ignore_index=True)
    return table


def cox_models(
    frame: pd.DataFrame,
    models: Sequence[Mapping[str, object]],
    *,
    side_col: str = "trigger_side",
    alpha: float = 0.05,
    where: str = "cox_models",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit one Cox model per direction and test proportional hazards for each.

    Parameters
    ----------
    frame : DataFrame
        Cycles with trigger covariates (:func:`trigger_covariates`).
    models : sequence of mappings
        Each with ``name``, ``trigger_side`` (the triggers modelled) and ``covariates``.
    side_col : str
        Column holding the trigger side.
    alpha : float
    where : str
        How messages name ``models`` (e.g. ``"notebooks/params/x.yaml: timing.cox_models"``).

    Returns
    -------
    (DataFrame, DataFrame)
        The hazard-ratio tables and the proportional-hazards tables of every model, each with a
        ``model`` column plus, for the first, ``n`` and ``events``; empty tables with those
        columns when ``models`` is empty.

    Raises
    ------
    ValueError
        When a model lacks one of its keys or names a trigger side that no row of ``frame``
        has (e.g. a model copied from another dyad's profile); the message names the model.
    """
    sides = sorted(frame[side_col].dropna().astype(str).unique())
    for i, model in enumerate(models):
        missing = [k for k in ("name", "trigger_side", "covariates") if k not in model]
        if missing:
            raise ValueError(f"{where}[{i}]: a Cox model needs name, trigger_side and covariates; "
                             f"{', '.join(missing)} missing")
        if model["trigger_side"] not in sides:
            raise ValueError(f"{where}[{i}] ({model['name']!r}): trigger_side {model['trigger_side']!r} is not a "
                             f"side of these cycles (sides: {', '.join(sides)})")
    tables, ph_tables = [], []
    for model in models:
        fit = cox(frame[frame[side_col] == model["trigger_side"]], covariates=list(model["covariates"]), alpha=alpha)
        tables.append(fit.table.assign(model=model["name"], n=fit.n, events=fit.events))
        ph_tables.append(ph_test(fit).assign(model=model["name"]))
    if not tables:
        return (pd.DataFrame(columns=["term", "coef", "se", "hr", "lower", "upper", "z", "p", "model", "n", "events"]),
                pd.DataFrame(columns=["term", "rho", "chi2", "df", "p", "model"]))
    return pd.concat(tables, ignore_index=True), pd.concat(ph_tables, ignore_index=True)
