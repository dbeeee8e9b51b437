"""Replications of published results on a dyad's data, set side by side with the published figures.

Jaeger & Paserman (2008), "The Cycle of Violence? An Empirical Analysis of Fatalities in the
Palestinian-Israeli Conflict", American Economic Review 98(4)
    Granger tests, both ways, in VARs of the daily fatalities each side inflicts (and of daily
    incidence, whether anyone was killed), with 7 and 14 lags, September 2000 - January 2005.
    Published finding: one side's killings Granger-cause the other's, not the reverse.
Kanwisher, Haushofer & Biletzki (2009), "Reigniting violence: How do ceasefires end?"
    Who kills first after a pause (one or more days in which nobody is killed), for all pauses
    and for pauses longer than a week and longer than nine days, September 2000 - October 2008.

The published figures themselves are parameters (with their sources), so that a report states
where each number comes from; :func:`comparison` lines them up with ours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.episodes import pause_enders_at_least, pauses
from analysis.panel import daily_panel
from analysis.reaction import var_analysis

__all__ = ["comparison", "granger_replication", "pause_replication"]


def _between(events: pd.DataFrame, start, end, date_col: str = "date") -> pd.DataFrame:
    dates = pd.to_datetime(events[date_col])
    return events.loc[(dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))]


def granger_replication(
    events: pd.DataFrame,
    *,
    sides: Sequence[str],
    start,
    end,
    lags: Sequence[int] = (7, 14),
    outcomes: Sequence[str] = ("fatalities", "incidence"),
) -> pd.DataFrame:
    """Granger tests both ways in daily VARs of each side's fatalities (or incidence).

    Parameters
    ----------
    events : DataFrame
        Events with ``side``, ``date`` and ``fatalities`` (the deaths each event's perpetrator
        side inflicted).
    sides : two str
    start, end : date
        The period (inclusive); days without events count as zeros.
    lags : sequence of int
        VAR lag orders (Jaeger & Paserman use 7 and 14 days).
    outcomes : sequence of {"fatalities", "incidence", "events"}
        Daily series modelled: people killed, or whether anyone was killed (incidence).

    Returns
    -------
    DataFrame
        One row per outcome x lags x direction: ``outcome``, ``lags``, ``causing``, ``caused``,
        ``F``, ``df_num``, ``df_denom``, ``p``.
    """
    sub = _between(events.loc[events["side"].isin(list(sides))], start, end)
    panel = daily_panel(sub, sides=sides, start=start, end=end, severity_cols=("fatalities",))
    rows = []
    for outcome in outcomes:
        for lag in lags:
            result = var_analysis(panel, sides=sides, outcome=outcome, lags=int(lag))
            rows.append(result.granger.assign(outcome=outcome))
    table = pd.concat(rows, ignore_index=True)
    return table[["outcome", "lags", "causing", "caused", "F", "df_num", "df_denom", "p"]]


def pause_replication(
    events: pd.DataFrame,
    *,
    sides: Sequence[str],
    start,
    end,
    min_lengths: Sequence[int] = (1, 8, 10),
) -> pd.DataFrame:
    """Who ends pauses of at least ``n`` days in ``start``..``end`` (see
    :func:`analysis.episodes.pause_enders_at_least`)."""
    sub = _between(events.loc[events["side"].isin(list(sides))], start, end)
    table = pauses(sub, sides=sides, study_start=start, study_end=end)
    return pause_enders_at_least(table, sides=sides, min_lengths=min_lengths)


def comparison(
    published: Sequence[Mapping[str, object]],
    *,
    granger: pd.DataFrame | None = None,
    pause_table: pd.DataFrame | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Published figures beside ours.

    Parameters
    ----------
    published : sequence of mappings
        Each with ``study``, ``quantity`` (what is compared), ``published`` (the value as
        published, text or number), ``source`` (URL) and one of:
        ``granger: {outcome, lags (optional), causing, caused}`` (ours: whether the test rejects
        at ``alpha``, with F and p; with no ``lags``, every lag order), or
        ``pauses: {min_length_days, share_of}`` (ours: the share of those pauses ended by
        ``share_of``, a side or ``both``, and the count).
    granger, pause_table : DataFrame, optional
        Outputs of :func:`granger_replication` and :func:`pause_replication`.
    alpha : float
        Level at which a Granger test counts as a rejection.

    Returns
    -------
    DataFrame
        ``study``, ``quantity``, ``published``, ``ours``, ``agrees`` (for Granger tests:
        whether our verdict matches a published "yes"/"no"; else empty), ``source``.
    """
    rows = []
    for item in published:
        ours, agrees = "", pd.NA
        if isinstance(item["published"], bool):  # YAML reads a bare yes/no as a boolean
            item = {**item, "published": "yes" if item["published"] else "no"}
        if "granger" in item and granger is not None:
            spec = item["granger"]
            hit = granger[(granger["outcome"] == spec["outcome"]) & (granger["causing"] == spec["causing"])
                          & (granger["caused"] == spec["caused"])]
            if "lags" in spec:
                hit = hit[hit["lags"] == spec["lags"]]
            verdicts = [f"{'yes' if p < alpha else 'no'} (lags {lag}: F = {f:.2f}, p = {p:.3g})"
                        for lag, f, p in zip(hit["lags"], hit["F"], hit["p"])]
            ours = "; ".join(verdicts)
            published_yes = str(item["published"]).strip().lower().startswith("yes")
            agrees = bool(len(hit)) and all((p < alpha) == published_yes for p in hit["p"])
        elif "pauses" in item and pause_table is not None:
            spec = item["pauses"]
            row = pause_table[pause_table["min_length_days"] == spec["min_length_days"]].iloc[0]
            share = row[f"share_{spec['share_of']}"]
            ours = f"{share:.0%} of {int(row['pauses'])} pauses" if np.isfinite(share) else "no pauses"
        rows.append({"study": item["study"], "quantity": item["quantity"], "published": str(item["published"]),
                     "ours": ours, "agrees": agrees, "source": item["source"]})
    return pd.DataFrame(rows, columns=["study", "quantity", "published", "ours", "agrees", "source"])
