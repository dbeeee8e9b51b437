"""Figures. Each function takes data (or a model result) and an optional ``ax``, draws, and returns
the figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import matplotlib.transforms as mtransforms
import numpy as np
import pandas as pd

if TYPE_CHECKING:  # result types, for annotations only
    from analysis.hawkes import HawkesBootstrap, HawkesFit
    from analysis.survival import CoxResult, KMResult

__all__ = ["branching_matrix", "coverage", "hazard_ratios", "kernels", "km_curves", "monthly_bars", "null_distributions", "timeline", "weekly_counts"]

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


def km_curves(
    km_result: KMResult,
    *,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    xlabel: str = "days since the trigger",
    ylabel: str = "share not yet answered",
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Kaplan-Meier step curves with their bands, one per group (direction of retaliation).

    Each curve starts at 1 on day 0, steps down at every day with a response, and runs flat to
    the group's longest follow-up. The shaded band is the one the result carries
    (``km_result.band``: pointwise log-log or Hall-Wellner), and the legend gives each group's
    triggers, responses and median wait.

    Parameters
    ----------
    km_result : KMResult
        Output of :func:`analysis.survival.kaplan_meier`.
    labels, colors : mapping, optional
        Group -> legend label / colour.
    xlabel, ylabel : str
        Axis labels.
    ax : Axes, optional
        Where to draw; a new 6.5 x 4 inch figure by default.
    """
    labels, colors = dict(labels or {}), dict(colors or {})
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 4))
    else:
        fig = ax.figure
    curve, summary = km_result.curve, km_result.summary.set_index("group")
    level = round(100 * (1 - km_result.alpha))
    for i, group in enumerate(summary.index):
        rows = curve[curve["group"] == group]
        info = summary.loc[group]
        end = max(float(info["max_time"]), float(rows["time"].max()) if len(rows) else 0.0)
        last = rows.iloc[-1] if len(rows) else None
        # the step function from (0, 1) through every event time to the end of follow-up
        time = np.concatenate(([0.0], rows["time"].to_numpy(float), [end]))
        surv = np.concatenate(([1.0], rows["survival"].to_numpy(float), [last["survival"] if last is not None else 1.0]))
        low = np.concatenate(([1.0], rows["lower"].to_numpy(float), [last["lower"] if last is not None else 1.0]))
        high = np.concatenate(([1.0], rows["upper"].to_numpy(float), [last["upper"] if last is not None else 1.0]))
        color = colors.get(group) or _FALLBACK_COLORS[i % len(_FALLBACK_COLORS)]
        median = "not reached" if pd.isna(info["median"]) else f"{info['median']:g} d"
        label = f"{labels.get(group, group)} (n={int(info['n'])}, responses={int(info['events'])}, median {median})"
        ax.step(time, surv, where="post", color=color, linewidth=1.6, label=label)
        ax.fill_between(time, low, high, step="post", color=color, alpha=0.18, linewidth=0)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    band = "pointwise log-log" if km_result.band == "pointwise" else "Hall-Wellner simultaneous"
    ax.set_title(f"Kaplan-Meier; shaded: {level}% {band} band", fontsize=8, loc="right")
    for spine in ("right", "top"):
        ax.spines[spine].set_visible(False)
    ax.legend(loc="best", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def hazard_ratios(cox_result: CoxResult, *, ax: plt.Axes | None = None) -> plt.Figure:
    """Forest plot: each term's hazard ratio with its interval, on a log axis, line at 1.

    A ratio above 1 means a faster response. The value and interval are written at the right.

    Parameters
    ----------
    cox_result : CoxResult
        Output of :func:`analysis.survival.cox`.
    ax : Axes, optional
        Where to draw; by default a new figure sized to the number of terms.
    """
    table = cox_result.table
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 1.0 + 0.35 * len(table)))
    else:
        fig = ax.figure
    y = np.arange(len(table))[::-1]  # first term on top
    hr, low, high = (table[c].to_numpy(float) for c in ("hr", "lower", "upper"))
    ax.errorbar(hr, y, xerr=[hr - low, high - hr], fmt="s", color="#1f4e79", ecolor="0.35", markersize=5,
                capsize=2.5, linewidth=1.1)
    ax.axvline(1.0, color="0.4", linewidth=0.8, linestyle=":")
    ax.set_xscale("log")
    plain = mticker.FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(plain)
    ax.tick_params(axis="x", which="both", labelsize=7)
    ax.set_yticks(y)
    ax.set_yticklabels(table["term"], fontsize=8)
    ax.set_ylim(-0.7, len(table) - 0.3)
    level = round(100 * (1 - cox_result.alpha))
    ax.set_xlabel(f"hazard ratio of a response ({level}% interval, log scale)", fontsize=9)
    text_at = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
    for yi, row in zip(y, table.itertuples()):
        ax.text(1.02, yi, f"{row.hr:.2f} ({row.lower:.2f}-{row.upper:.2f})", transform=text_at, fontsize=7.5,
                va="center", ha="left")
    ax.set_title(f"Cox model, {cox_result.ties} ties: {cox_result.n} triggers, {cox_result.events} responses",
                 fontsize=8, loc="left")
    for spine in ("right", "top"):
        ax.spines[spine].set_visible(False)
    fig.tight_layout()
    return fig


_KERNEL_STYLES = {(0, 0): ("#1f4e79", "-"), (1, 0): ("#1f4e79", "--"), (1, 1): ("#b22222", "-"), (0, 1): ("#b22222", "--")}


def kernels(
    fit: HawkesFit,
    *,
    days: float = 30.0,
    labels: Mapping[str, str] | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """The four fitted kernels ``alpha_ij beta exp(-beta t)`` against the lag in days.

    A kernel's height at lag ``t`` is the rate (events per day) at which one event of the
    source side raises the target side's intensity ``t`` days later; its area is ``alpha_ij``.
    Lines are coloured by source side, solid for self-excitation and dashed for the other
    side. For a discrete (daily) fit, the expected events on each day after the source event
    are drawn as steps.

    Parameters
    ----------
    fit : HawkesFit
    days : float
        Longest lag shown.
    labels : mapping, optional
        Side key -> label in the legend.
    ax : Axes, optional
        Where to draw; a new 7 x 4 inch figure by default.
    """
    labels = dict(labels or {})
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4))
    else:
        fig = ax.figure
    discrete = fit.times == "discrete"
    lags = np.arange(1, int(days) + 1, dtype=float) if discrete else np.linspace(0.0, days, 301)
    values = fit.kernel(lags)
    names = [labels.get(s, s) for s in fit.sides]
    for (i, j), (color, style) in _KERNEL_STYLES.items():
        label = f"{names[j]} \u2192 {names[i]} (\u03b1 = {fit.alpha[i, j]:.2f})"
        if discrete:
            ax.step(lags, values[:, i, j], where="mid", color=color, linestyle=style, label=label)
        else:
            ax.plot(lags, values[:, i, j], color=color, linestyle=style, label=label)
    ax.set_xlim(0, days)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("days after the source event")
    ax.set_ylabel("expected events per day" if discrete else "added intensity (events per day)")
    ax.set_title(f"Fitted kernels (\u03b2 = {fit.beta:.3g} per day, mean delay {1 / fit.beta:.3g} days)")
    ax.legend(frameon=False)
    return fig


def branching_matrix(
    fit: HawkesFit,
    *,
    boot: HawkesBootstrap | None = None,
    labels: Mapping[str, str] | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """The branching matrix ``alpha`` as a 2 x 2 heatmap with its values written in.

    Rows are the triggered (target) side, columns the triggering (source) side: the cell in
    row B, column A is the expected number of B events one A event triggers. The title gives
    the branching ratio (spectral radius). With ``boot``, each cell also shows its percentile
    interval.

    Parameters
    ----------
    fit : HawkesFit
    boot : HawkesBootstrap, optional
        A bootstrap of ``fit`` (:func:`analysis.hawkes.bootstrap`).
    labels : mapping, optional
        Side key -> axis label.
    ax : Axes, optional
        Where to draw; a new 4.5 x 4 inch figure by default.
    """
    labels = dict(labels or {})
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 4))
    else:
        fig = ax.figure
    names = [labels.get(s, s) for s in fit.sides]
    top = max(1.0, float(fit.alpha.max()))
    image = ax.imshow(fit.alpha, cmap="Reds", vmin=0, vmax=top)
    intervals = boot.table.set_index("label") if boot is not None else None
    for i, target in enumerate(fit.sides):
        for j, source in enumerate(fit.sides):
            value = fit.alpha[i, j]
            text = f"{value:.2f}"
            if intervals is not None:
                row = intervals.loc[f"alpha[{target},{source}]"]
                text += f"\n[{row['ci_low']:.2f}, {row['ci_high']:.2f}]"
            ax.text(j, i, text, ha="center", va="center", color="white" if value > 0.6 * top else "black")
    ax.set_xticks([0, 1], names)
    ax.set_yticks([0, 1], names)
    ax.set_xlabel("source (triggering side)")
    ax.set_ylabel("target (triggered side)")
    ax.set_title(f"Branching matrix (ratio {fit.branching_ratio:.2f})")
    fig.colorbar(image, ax=ax, label="events triggered per source event")
    return fig
