"""Figures. Each function takes data and an optional ``ax``, draws, and returns the figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = ["coverage", "monthly_bars", "null_distributions", "timeline", "weekly_counts"]

_FALLBACK_COLORS = ("#1f4e79", "#b22222", "#2e7d32", "#6a1b9a")


def timeline(
    events: pd.DataFrame,
    *,
    sides: Sequence[str],
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    highlight: Mapping[str, str] | None = None,
    severity_col: str = "fatalities",
    period: tuple[object, object] | None = None,
    chains: Sequence[Sequence[str]] = (),
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Both sides' events on one time axis: the first side above the line, the second below.

    Each event is a stem whose height grows with ``log(1 + severity)`` (height 1 when severity
    is zero or unknown), so the alternation of strikes and responses reads at a glance.

    Parameters
    ----------
    events : DataFrame
        Events with ``date``, ``side`` and ``event_id``; rows of other sides are not drawn.
    sides : sequence of two str
        Side keys: ``sides[0]`` is drawn upwards, ``sides[1]`` downwards.
    labels, colors : mapping, optional
        Side key -> legend label / colour.
    highlight : mapping, optional
        ``event_id`` -> short text written beside that event's stem.
    severity_col : str
        Column giving stem height (missing values count as zero).
    period : (start, end), optional
        Dates the x-axis spans (e.g. the dyad's study period); by default the events' range.
    chains : sequence of sequences of event_id
        Strike -> response chains to draw as zigzag lines joining their events' stem tips.
    ax : Axes, optional
        Where to draw; a new 12 x 4.5 inch figure by default.
    """
    if len(sides) != 2:
        raise ValueError(f"timeline draws two sides, got {list(sides)}")
    labels = dict(labels or {})
    colors = dict(colors or {})
    highlight = dict(highlight or {})
    if ax is None:
        fig, ax = plt.subplots(figsize=(12, 4.5))
    else:
        fig = ax.figure
    severity = pd.to_numeric(events.get(severity_col, pd.Series(0, index=events.index)), errors="coerce").fillna(0)
    height = 1 + np.log1p(severity.astype(float))
    for sign, side, fallback in zip((1, -1), sides, _FALLBACK_COLORS):
        mask = (events["side"] == side).fillna(False).to_numpy()
        dates = pd.to_datetime(events.loc[mask, "date"])
        color = colors.get(side) or fallback
        ax.vlines(dates, 0, sign * height[mask], color=color, linewidth=1.2, alpha=0.8)
        ax.scatter(dates, sign * height[mask], s=12, color=color, zorder=3, label=f"{labels.get(side, side)} ({mask.sum()})")
    tips = pd.DataFrame({"date": pd.to_datetime(events["date"]).to_numpy(),
                         "y": np.where(events["side"].to_numpy() == sides[0], 1.0, -1.0) * height.to_numpy()},
                        index=events["event_id"].to_numpy())
    for i, chain in enumerate(chains):
        path = tips.loc[[e for e in chain if e in tips.index]]
        ax.plot(path["date"], path["y"], color="0.15", linewidth=0.9, alpha=0.75, zorder=4,
                label="longest chains" if i == 0 else None)
    shown = events[events["event_id"].isin(list(highlight))].sort_values("date", kind="stable")
    for i, (_, row) in enumerate(shown.iterrows()):
        sign = 1 if row["side"] == sides[0] else -1
        top = float(height.loc[row.name])
        ax.annotate(
            highlight[row["event_id"]],
            xy=(pd.Timestamp(row["date"]), sign * top),
            xytext=(0, sign * (12 + 11 * (i % 4))),
            textcoords="offset points",
            ha="center",
            va="bottom" if sign > 0 else "top",
            fontsize=7.5,
            arrowprops={"arrowstyle": "-", "color": "0.5", "linewidth": 0.6},
        )
    ax.axhline(0, color="0.3", linewidth=0.8)
    limit = float(height.max()) if len(height) else 1.0
    ax.set_ylim(-limit - 3, limit + 3)
    ax.set_yticks([])
    ax.set_ylabel(f"{labels.get(sides[1], sides[1])}  |  {labels.get(sides[0], sides[0])}", fontsize=8)
    if period is not None:
        ax.set_xlim(pd.Timestamp(period[0]), pd.Timestamp(period[1]))
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_minor_locator(mdates.MonthLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    for spine in ("left", "right", "top"):
        ax.spines[spine].set_visible(False)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=8, frameon=False)
    ax.set_title(f"stem height = 1 + log(1 + {severity_col})", fontsize=8, loc="right")
    fig.tight_layout()
    return fig


def null_distributions(null: pd.DataFrame, summary: pd.DataFrame, *, ax: plt.Axes | None = None) -> plt.Figure:
    """Histograms of the permutation null of each direction x statistic, observed value marked.

    Parameters
    ----------
    null, summary : DataFrame
        ``PermutationResult.null`` and ``PermutationResult.summary`` (see
        :func:`analysis.panel.permutation_test`).
    ax : Axes, optional
        Ignored unless there is a single panel; by default one panel per direction x statistic.
    """
    keys = list(summary[["direction", "statistic"]].itertuples(index=False, name=None))
    if ax is not None and len(keys) == 1:
        fig, axes = ax.figure, [ax]
    else:
        fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 2.6), squeeze=False)
        axes = list(axes[0])
    for a, (direction, stat) in zip(axes, keys):
        values = null.loc[(null["direction"] == direction) & (null["statistic"] == stat), "value"].dropna()
        row = summary[(summary["direction"] == direction) & (summary["statistic"] == stat)].iloc[0]
        a.hist(values, bins=30, color="0.75")
        a.axvline(row["observed"], color="#b22222", linewidth=1.5)
        a.set_title(f"{direction}\n{stat.replace('_', ' ')}: p = {row['p_value']:.3f}", fontsize=8)
        a.tick_params(labelsize=7)
        a.set_yticks([])
    fig.tight_layout()
    return fig


def weekly_counts(
    panel: pd.DataFrame,
    *,
    sides: Sequence[str],
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    marks: Mapping[str, object] | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Events per week by side from the daily panel, with vertical lines at named days.

    Parameters
    ----------
    panel : DataFrame
        Output of :func:`analysis.panel.daily_panel`.
    marks : mapping, optional
        Name -> date drawn as a labelled vertical line.
    """
    labels, colors, marks = dict(labels or {}), dict(colors or {}), dict(marks or {})
    if ax is None:
        fig, ax = plt.subplots(figsize=(12, 3.2))
    else:
        fig = ax.figure
    weekly = panel.pivot(index="date", columns="side", values="events").resample("W-MON", label="left", closed="left").sum()
    for side, fallback in zip(sides, _FALLBACK_COLORS):
        ax.step(weekly.index, weekly[side], where="post", color=colors.get(side) or fallback, linewidth=1,
                label=labels.get(side, side))
    top = float(weekly[list(sides)].to_numpy().max()) if len(weekly) else 1.0
    for i, (name, when) in enumerate(sorted(marks.items(), key=lambda kv: pd.Timestamp(kv[1]))):
        ax.axvline(pd.Timestamp(when), color="0.4", linewidth=0.6, linestyle=":")
        ax.text(pd.Timestamp(when), top * (0.95 - 0.09 * (i % 4)), f" {name}", fontsize=7, va="top")
    ax.set_ylabel("events per week", fontsize=8)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=8, frameon=False)
    for spine in ("right", "top"):
        ax.spines[spine].set_visible(False)
    fig.tight_layout()
    return fig


def monthly_bars(
    monthly: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Stacked bars of events per month, one colour per column of ``monthly``.

    Parameters
    ----------
    monthly : DataFrame
        Output of :func:`analysis.coverage.monthly_counts` with ``by=("side",)``.
    """
    labels, colors = dict(labels or {}), dict(colors or {})
    if ax is None:
        fig, ax = plt.subplots(figsize=(12, 3.2))
    else:
        fig = ax.figure
    x = monthly.index.to_timestamp()
    bottom = np.zeros(len(monthly))
    for col, fallback in zip(monthly.columns, _FALLBACK_COLORS):
        ax.bar(x, monthly[col], width=25, bottom=bottom, align="edge", color=colors.get(col) or fallback,
               label=labels.get(col, col))
        bottom += monthly[col].to_numpy()
    ax.set_ylabel("events per month", fontsize=8)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, fontsize=8, frameon=False)
    for spine in ("right", "top"):
        ax.spines[spine].set_visible(False)
    fig.tight_layout()
    return fig


def coverage(table: pd.DataFrame, *, ax: plt.Axes | None = None) -> plt.Figure:
    """Official running totals against our cumulative count, one line pair per series.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`analysis.coverage.coverage_table`. Lower-bound official figures
        ("more than") are drawn as open markers.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 3.4))
    else:
        fig = ax.figure
    series = table.groupby("since", sort=True)
    longest = max(series.groups, key=lambda k: len(series.groups[k]))
    for since, group in series:
        if since != longest:
            continue
        lower = group["bound"] == "upper"
        ax.plot(group["as_of"], group["official"], color="0.3", linewidth=1, label="official total")
        ax.scatter(group.loc[~lower, "as_of"], group.loc[~lower, "official"], color="0.3", s=14, zorder=3)
        ax.scatter(group.loc[lower, "as_of"], group.loc[lower, "official"], facecolors="white", edgecolors="0.3", s=14,
                   zorder=3, label="official lower bound")
        ax.plot(group["as_of"], group["ours"], color="#b22222", linewidth=1.2, marker="o", markersize=3, label="this dataset")
        ax.set_title(f"Attacks counted since {pd.Timestamp(since):%d %b %Y}", fontsize=9, loc="left")
    ax.set_ylabel("cumulative attacks", fontsize=8)
    ax.legend(fontsize=8, frameon=False)
    for spine in ("right", "top"):
        ax.spines[spine].set_visible(False)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig
