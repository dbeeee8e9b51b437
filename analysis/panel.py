"""The daily dyad panel, and event rates around named events.

Response ratios and their circular-shift null, which pair events under the response rule, are in
:mod:`analysis.permutation`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["daily_panel", "rates_around"]


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


def _odds_to_ratio(p: float, before_days: int, after_days: int) -> float:
    """The after/before rate ratio for a share ``p`` of the events falling after (conditional
    binomial): odds ``p / (1 - p)`` times the exposure ratio."""
    return (p / (1 - p)) * (before_days / after_days) if p < 1 else np.inf


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
    the day before, "after" the ``after_days`` days from the day after. Both windows are clipped
    to the study period at both ends (a named day after the study end has a "before" window
    that stops at the end, and no "after" window), and the clipped lengths are the exposures.

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
        b0, b1 = max(d - before_days, start), min(d - 1, end)
        a0, a1 = max(d + 1, start), min(d + after_days, end)
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
                ratio = (na / ta) / (nb / tb) if nb else np.inf
                row.update({"rate_ratio": ratio, "ratio_low": _odds_to_ratio(ci.low, tb, ta),
                            "ratio_high": _odds_to_ratio(ci.high, tb, ta), "p_value": test.pvalue})
            else:
                row.update({"rate_ratio": np.nan, "ratio_low": np.nan, "ratio_high": np.nan, "p_value": np.nan})
            rows.append(row)
    columns = ["name", "date", "side", "before_events", "before_days", "after_events", "after_days",
               "before_rate", "before_low", "before_high", "after_rate", "after_low", "after_high",
               "rate_ratio", "ratio_low", "ratio_high", "p_value"]
    return pd.DataFrame(rows, columns=columns).astype({"date": "datetime64[ns]", "side": "string", "name": "string"})
