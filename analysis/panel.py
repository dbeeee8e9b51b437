"""The daily dyad panel, event rates around named events, response ratios and their null.

Response ratio
    The share of side A's events followed by a side-B event within ``k_days`` (days after the
    event; a same-day B event counts only with ``ties="include"``). Only A events whose k-day
    follow-up ends by the study end are counted.
Circular-shift null (permutation test)
    Shifting all of one side's event dates by the same random number of days, wrapping around
    the study period, keeps each side's own clustering and rate but breaks any timing link
    between the sides. The p-value of an observed statistic is ``(1 + #draws at least as
    extreme) / (1 + draws)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["PermutationResult", "daily_panel", "permutation_test", "rates_around", "response_ratio"]


def _days(values) -> np.ndarray:
    return pd.to_datetime(values).to_numpy(dtype="datetime64[D]").astype(np.int64)


def _day(value) -> int:
    return int(pd.Timestamp(value).to_datetime64().astype("datetime64[D]").astype(np.int64))


def daily_panel(
    events: pd.DataFrame,
    *,
    sides: Sequence[str],
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    severity_cols: Sequence[str] = ("fatalities",),
    side_col: str = "side",
    date_col: str = "date",
) -> pd.DataFrame:
    """Daily counts per side, zero-filled over ``start``..``end``.

    Returns
    -------
    DataFrame
        Keyed by (``date``, ``side``), every day x side present: ``events``, ``incidence``
        (1 if any event), and the sum of each severity column over known values (an event with
        an unknown count adds nothing), sorted by date then side order.
    """
    dates = pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), freq="D")
    sided = events.loc[events[side_col].isin(list(sides))].copy()
    sided["_date"] = pd.to_datetime(sided[date_col]).dt.normalize()
    outside = ~sided["_date"].between(dates[0], dates[-1])
    if outside.any():
        raise ValueError(
            f"{int(outside.sum())} events fall outside the panel's {dates[0].date()}..{dates[-1].date()}; "
            "restrict them first (analysis.dyads.within_scope)"
        )
    index = pd.MultiIndex.from_product([dates, list(sides)], names=["date", "side"])
    grouped = sided.groupby(["_date", side_col])
    table = pd.DataFrame({"events": grouped.size()})
    for col in severity_cols:
        if col in sided.columns:
            table[col] = grouped[col].sum(min_count=0).astype("int64")
    table.index.names = ["date", "side"]
    panel = table.reindex(index, fill_value=0).reset_index()
    panel["date"] = panel["date"].astype("datetime64[ns]")
    panel["side"] = panel["side"].astype("string")
    panel["incidence"] = (panel["events"] > 0).astype("int64")
    return panel[["date", "side", "events", "incidence", *[c for c in severity_cols if c in panel.columns]]]


def _poisson_ci(count: np.ndarray, exposure: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) confidence interval for a Poisson rate ``count / exposure``."""
    count = np.asarray(count, dtype=float)
    lower = np.where(count > 0, stats.chi2.ppf(alpha / 2, 2 * count) / 2, 0.0)
    upper = stats.chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2
    return lower / exposure, upper / exposure


def rates_around(
    events: pd.DataFrame,
    at: Mapping[str, str | pd.Timestamp],
    *,
    sides: Sequence[str],
    before_days: int = 30,
    after_days: int = 30,
    study_start: str | pd.Timestamp | None = None,
    study_end: str | pd.Timestamp | None = None,
    alpha: float = 0.05,
    side_col: str = "side",
    date_col: str = "date",
) -> pd.DataFrame:
    """Each side's daily event rate before and after named days, with exact intervals.

    The named day itself belongs to neither window: "before" is the ``before_days`` days up to
    the day before, "after" the ``after_days`` days from the day after. Windows are clipped to
    the study period, and the clipped lengths are the exposures.

    Returns
    -------
    DataFrame
        One row per name x side: ``name``, ``date``, ``side``, ``before_events``,
        ``before_days``, ``before_rate`` (per day) with ``before_low``/``before_high``, the same
        for ``after``, the ``rate_ratio`` (after / before) with its exact conditional interval
        (``ratio_low``, ``ratio_high``) and the two-sided ``p_value`` of equal rates (exact
        binomial test given the total).
    """
    start = _day(study_start) if study_start is not None else -(2**62)
    end = _day(study_end) if study_end is not None else 2**62
    days = _days(events[date_col])
    side = events[side_col].to_numpy(dtype=object)
    rows = []
    for name, when in at.items():
        d = _day(when)
        b0, b1 = max(d - before_days, start), d - 1
        a0, a1 = d + 1, min(d + after_days, end)
        for s in sides:
            mine = days[side == s]
            nb = int(((mine >= b0) & (mine <= b1)).sum())
            na = int(((mine >= a0) & (mine <= a1)).sum())
            tb, ta = max(b1 - b0 + 1, 0), max(a1 - a0 + 1, 0)
            row = {"name": name, "date": pd.Timestamp(when).normalize(), "side": s,
                   "before_events": nb, "before_days": tb, "after_events": na, "after_days": ta}
            for part, k, t in (("before", nb, tb), ("after", na, ta)):
                low, high = _poisson_ci(np.array([k]), np.array([t]), alpha) if t else (np.array([np.nan]),) * 2
                row.update({f"{part}_rate": k / t if t else np.nan, f"{part}_low": float(low[0]), f"{part}_high": float(high[0])})
            total = nb + na
            if tb and ta and total:
                # given the total, the after-count is binomial with p = ta*r_a / (ta*r_a + tb*r_b)
                test = stats.binomtest(na, total, ta / (ta + tb))
                ci = test.proportion_ci(confidence_level=1 - alpha, method="exact")
                to_ratio = lambda p: (p / (1 - p)) * (tb / ta) if p < 1 else np.inf  # noqa: E731
                ratio = (na / ta) / (nb / tb) if nb else np.inf
                row.update({"rate_ratio": ratio, "ratio_low": to_ratio(ci.low), "ratio_high": to_ratio(ci.high), "p_value": test.pvalue})
            else:
                row.update({"rate_ratio": np.nan, "ratio_low": np.nan, "ratio_high": np.nan, "p_value": np.nan})
            rows.append(row)
    columns = ["name", "date", "side", "before_events", "before_days", "after_events", "after_days",
               "before_rate", "before_low", "before_high", "after_rate", "after_low", "after_high",
               "rate_ratio", "ratio_low", "ratio_high", "p_value"]
    return pd.DataFrame(rows, columns=columns).astype({"date": "datetime64[ns]", "side": "string", "name": "string"})


def _gaps(t_days: np.ndarray, c_sorted: np.ndarray, ties: str) -> np.ndarray:
    """Days from each trigger to the first candidate after it (inf when none)."""
    pos = np.searchsorted(c_sorted, t_days, side="left" if ties == "include" else "right")
    out = np.full(len(t_days), np.inf)
    ok = pos < len(c_sorted)
    out[ok] = c_sorted[pos[ok]] - t_days[ok]
    return out


def _direction_stats(gaps: np.ndarray, t_days: np.ndarray, *, k_days: int, window_days: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """Response ratio and median interval per row of a (draws x triggers) gap matrix."""
    eligible = t_days + k_days <= end
    followed = (gaps <= k_days) & eligible
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = followed.sum(axis=-1) / eligible.sum(axis=-1)
    answered = np.where(gaps <= window_days, gaps, np.nan)
    with warnings.catch_warnings():  # a draw with no answered trigger has no median: NaN
        warnings.simplefilter("ignore", category=RuntimeWarning)
        median = np.nanmedian(answered, axis=-1)
    return ratio, median


def response_ratio(
    events: pd.DataFrame,
    *,
    sides: Sequence[str],
    k_days: int = 7,
    study_end: str | pd.Timestamp | None = None,
    ties: str = "exclude",
    side_col: str = "side",
    date_col: str = "date",
) -> pd.DataFrame:
    """Share of each side's events followed by an event of the other side within ``k_days``.

    Returns
    -------
    DataFrame
        One row per direction: ``from_side``, ``to_side``, ``k_days``, ``triggers`` (events
        with a full k-day follow-up), ``followed``, ``ratio``.
    """
    a, b = sides
    days = _days(events[date_col])
    side = events[side_col].to_numpy(dtype=object)
    end = _day(study_end) if study_end is not None else int(days.max())
    rows = []
    for src, dst in ((a, b), (b, a)):
        t = np.sort(days[side == src])
        gaps = _gaps(t, np.sort(days[side == dst]), ties)
        eligible = t + k_days <= end
        followed = int(((gaps <= k_days) & eligible).sum())
        rows.append({"from_side": src, "to_side": dst, "k_days": k_days, "triggers": int(eligible.sum()),
                     "followed": followed, "ratio": followed / eligible.sum() if eligible.any() else np.nan})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class PermutationResult:
    """Observed statistics, their circular-shift null distributions and p-values.

    Attributes
    ----------
    summary : DataFrame
        One row per direction x statistic: ``observed``, ``null_mean``, ``null_low`` and
        ``null_high`` (2.5% and 97.5% quantiles), ``p_value`` and the ``alternative`` tested
        (response ratio greater than chance; median interval shorter than chance).
    null : DataFrame
        Every draw: ``draw``, ``shift_days``, ``direction``, ``statistic``, ``value``.
    """

    summary: pd.DataFrame
    null: pd.DataFrame


def permutation_test(
    events: pd.DataFrame,
    *,
    sides: Sequence[str],
    study_start: str | pd.Timestamp,
    study_end: str | pd.Timestamp,
    shift_side: str | None = None,
    k_days: int = 7,
    window_days: int = 30,
    n_draws: int = 999,
    seed: int = 0,
    ties: str = "exclude",
    side_col: str = "side",
    date_col: str = "date",
) -> PermutationResult:
    """Circular-shift permutation test of the response ratio and the median interval.

    Parameters
    ----------
    events : DataFrame
        Events of the two sides (others ignored), all within the study period.
    sides : sequence of two str
    study_start, study_end : date
        The period the shift wraps around.
    shift_side : str, optional
        Side whose dates are shifted (default: the second side).
    k_days : int
        Horizon of the response ratio.
    window_days : int
        Window of the median interval to the first response (as in :func:`~analysis.cycles.build_cycles`,
        at day precision).
    n_draws : int
        Number of shifts; each draw shifts by a uniform whole number of days in 1..T-1.
    seed : int
        Seed of the random shifts (``numpy.random.default_rng``).
    ties : {"exclude", "include"}
        Whether a same-day event of the other side counts.

    Returns
    -------
    PermutationResult
    """
    a, b = sides
    shift_side = shift_side or b
    if shift_side not in (a, b):
        raise ValueError(f"shift_side must be one of {list(sides)}, got {shift_side!r}")
    start, end = _day(study_start), _day(study_end)
    span = end - start + 1
    days = _days(events[date_col])
    side = events[side_col].to_numpy(dtype=object)
    if ((days < start) | (days > end))[np.isin(side, [a, b])].any():
        raise ValueError("every event must lie within the study period to be shifted around it")
    fixed_side = a if shift_side == b else b
    moving = np.sort(days[side == shift_side])
    fixed = np.sort(days[side == fixed_side])
    rng = np.random.default_rng(seed)
    shifts = rng.integers(1, span, size=n_draws)
    shifted = start + (moving[None, :] - start + shifts[:, None]) % span  # draws x events
    shifted.sort(axis=1)

    # stack draws on one number line, each in its own band, so one searchsorted serves them all
    band = np.arange(n_draws)[:, None] * (3 * span + 2 * window_days + 2 * k_days + 10)
    stacked = (shifted + band).ravel()
    # fixed -> shifted: the fixed side's events look for the shifted side's first response
    queries = (fixed[None, :] + band).ravel()
    pos = np.searchsorted(stacked, queries, side="left" if ties == "include" else "right")
    row_end = (np.arange(n_draws)[:, None] + 1) * shifted.shape[1]
    pos = pos.reshape(n_draws, -1)
    ok = pos < row_end
    gap_fixed = np.where(ok, stacked[np.minimum(pos, len(stacked) - 1)] - (fixed[None, :] + band), np.inf)
    # shifted -> fixed: each draw's shifted events look for the fixed side's first response
    gap_moving = _gaps(shifted.ravel(), fixed, ties).reshape(n_draws, -1)

    null_rows = []
    observed = {}
    for src, t_obs, t_null, gaps_null, c_obs in (
        (fixed_side, fixed, np.broadcast_to(fixed, gap_fixed.shape), gap_fixed, moving),
        (shift_side, moving, shifted, gap_moving, fixed),
    ):
        dst = shift_side if src == fixed_side else fixed_side
        direction = f"{src} -> {dst}"
        obs_ratio, obs_median = _direction_stats(_gaps(t_obs, c_obs, ties), t_obs, k_days=k_days, window_days=window_days, end=end)
        ratio, median = _direction_stats(gaps_null, t_null, k_days=k_days, window_days=window_days, end=end)
        observed[(direction, "response_ratio")] = (float(obs_ratio), ratio, "greater")
        observed[(direction, "median_interval")] = (float(obs_median), median, "less")
        for stat, values in (("response_ratio", ratio), ("median_interval", median)):
            null_rows.append(pd.DataFrame({"draw": np.arange(1, n_draws + 1), "shift_days": shifts, "direction": direction,
                                           "statistic": stat, "value": values}))
    summary = []
    for (direction, stat), (obs, values, alternative) in observed.items():
        finite = values[~np.isnan(values)]
        if alternative == "greater":
            extreme = np.sum(finite >= obs) if not np.isnan(obs) else n_draws
        else:  # a draw with no answered trigger has an infinitely long median: never as extreme
            extreme = np.sum(finite <= obs) if not np.isnan(obs) else n_draws
        summary.append({
            "direction": direction, "statistic": stat, "observed": obs,
            "null_mean": float(finite.mean()) if len(finite) else np.nan,
            "null_low": float(np.quantile(finite, 0.025)) if len(finite) else np.nan,
            "null_high": float(np.quantile(finite, 0.975)) if len(finite) else np.nan,
            "p_value": (1 + int(extreme)) / (1 + n_draws), "alternative": alternative,
            "draws": n_draws, "shift_side": shift_side, "k_days": k_days, "window_days": window_days,
        })
    return PermutationResult(summary=pd.DataFrame(summary), null=pd.concat(null_rows, ignore_index=True))
