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
    from analysis.reaction import ReactionResult
    from analysis.survival import CoxResult, KMResult

__all__ = ["branching_matrix", "coverage", "hazard_ratios", "impulse_responses", "kernels", "km_curves", "monthly_bars", "null_distributions", "reaction_coefficients", "sensitivity", "spacetime_heatmap", "timeline", "weekly_counts"]

_FALLBACK_COLORS = ("#1f4e79", "#b22222", "#2e7d32", "#6a1b9a")


def _figure(ax: plt.Axes | None, figsize: tuple[float, float]) -> tuple[plt.Figure, plt.Axes]:
    """The figure of ``ax``, or a new figure of ``figsize`` inches with one axes."""
    if ax is None:
        return plt.subplots(figsize=figsize)
    return ax.figure, ax


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
    fig, ax = _figure(ax, (12, 4.5))
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
    fig, ax = _figure(ax, (12, 3.2))
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
    fig, ax = _figure(ax, (12, 3.2))
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
    fig, ax = _figure(ax, (8, 3.4))
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
    fig, ax = _figure(ax, (6.5, 4))
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
    fig, ax = _figure(ax, (6.5, 1.0 + 0.35 * len(table)))
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
    params: pd.DataFrame,
    *,
    days: float = 30.0,
    labels: Mapping[str, str] | None = None,
    discrete: bool = False,
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
    params : DataFrame
        A Hawkes parameter table (``HawkesFit.params``, or as stored by the 32-hawkes notebook).
    days : float
        Longest lag shown.
    labels : mapping, optional
        Side key -> label in the legend.
    discrete : bool
        Whether the fit was the discrete (daily counts) model.
    ax : Axes, optional
        Where to draw; a new 7 x 4 inch figure by default.
    """
    from analysis.hawkes import kernel_values, params_matrix

    labels = dict(labels or {})
    fig, ax = _figure(ax, (7, 4))
    sides, alpha, beta = params_matrix(params)
    lags = np.arange(1, int(days) + 1, dtype=float) if discrete else np.linspace(0.0, days, 301)
    values = kernel_values(alpha, beta, lags, discrete=discrete)
    names = [labels.get(s, s) for s in sides]
    for (i, j), (color, style) in _KERNEL_STYLES.items():
        label = f"{names[j]} \u2192 {names[i]} (\u03b1 = {alpha[i, j]:.2f})"
        if np.ndim(beta) == 2:
            label = f"{label[:-1]}, mean delay {1 / beta[i, j]:.3g} days)"
        if discrete:
            ax.step(lags, values[:, i, j], where="mid", color=color, linestyle=style, label=label)
        else:
            ax.plot(lags, values[:, i, j], color=color, linestyle=style, label=label)
    ax.set_xlim(0, days)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("days after the source event")
    ax.set_ylabel("expected events per day" if discrete else "added intensity (events per day)")
    if np.ndim(beta) == 0:
        ax.set_title(f"Fitted kernels (\u03b2 = {beta:.3g} per day, mean delay {1 / beta:.3g} days)")
    else:  # one decay per kernel: mean delays in the legend
        ax.set_title("Fitted kernels (one decay per kernel)")
    ax.legend(frameon=False)
    return fig


def branching_matrix(
    params: pd.DataFrame,
    *,
    bootstrap: pd.DataFrame | None = None,
    labels: Mapping[str, str] | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """The branching matrix ``alpha`` as a 2 x 2 heatmap with its values written in.

    Rows are the triggered (target) side, columns the triggering (source) side: the cell in
    row B, column A is the expected number of B events one A event triggers. The title gives
    the branching ratio (spectral radius). With ``bootstrap``, each cell also shows its
    percentile interval.

    Parameters
    ----------
    params : DataFrame
        A Hawkes parameter table (``HawkesFit.params``).
    bootstrap : DataFrame, optional
        A bootstrap table (``HawkesBootstrap.table``: ``label``, ``ci_low``, ``ci_high``).
    labels : mapping, optional
        Side key -> axis label.
    ax : Axes, optional
        Where to draw; a new 4.5 x 4 inch figure by default.
    """
    from analysis.hawkes import params_matrix

    labels = dict(labels or {})
    fig, ax = _figure(ax, (4.5, 4))
    sides, alpha, _ = params_matrix(params)
    names = [labels.get(s, s) for s in sides]
    top = max(1.0, float(alpha.max()))
    image = ax.imshow(alpha, cmap="Reds", vmin=0, vmax=top)
    intervals = bootstrap.set_index("label") if bootstrap is not None else None
    for i, target in enumerate(sides):
        for j, source in enumerate(sides):
            value = alpha[i, j]
            text = f"{value:.2f}"
            if intervals is not None:
                row = intervals.loc[f"alpha[{target},{source}]"]
                text += f"\n[{row['ci_low']:.2f}, {row['ci_high']:.2f}]"
            ax.text(j, i, text, ha="center", va="center", color="white" if value > 0.6 * top else "black")
    ax.set_xticks(range(len(sides)), names)
    ax.set_yticks(range(len(sides)), names)
    ax.set_xlabel("source (triggering side)")
    ax.set_ylabel("target (triggered side)")
    ax.set_title(f"Branching matrix (ratio {np.max(np.abs(np.linalg.eigvals(alpha))):.2f})")
    fig.colorbar(image, ax=ax, label="events triggered per source event")
    return fig


def impulse_responses(
    irf: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    unit: str = "days",
    title: str | None = None,
) -> plt.Figure:
    """Impulse responses with their bands: a grid, response in rows and impulse in columns.

    Parameters
    ----------
    irf : DataFrame
        ``impulse``, ``response``, ``period``, ``irf``, ``lower``, ``upper`` (``VarResult.irf``,
        or as stored by the 31-reaction-functions notebook).
    labels : mapping, optional
        Side key -> label in the panel titles.
    unit : str
        What a period is ("days" or "weeks").
    title : str, optional
        The figure's title.
    """
    labels = dict(labels or {})
    sides = list(dict.fromkeys(irf["impulse"]))
    k = len(sides)
    fig, axes = plt.subplots(k, k, figsize=(3.2 * k, 2.4 * k), sharex=True, squeeze=False)
    for i, response in enumerate(sides):
        for j, impulse in enumerate(sides):
            rows = irf[(irf["impulse"] == impulse).to_numpy() & (irf["response"] == response).to_numpy()]
            ax = axes[i, j]
            ax.fill_between(rows["period"], rows["lower"], rows["upper"], color=_FALLBACK_COLORS[0], alpha=0.2, linewidth=0)
            ax.plot(rows["period"], rows["irf"], color=_FALLBACK_COLORS[0], linewidth=1.2)
            ax.axhline(0, color="0.3", linewidth=0.6)
            ax.set_title(f"{labels.get(impulse, impulse)} \u2192 {labels.get(response, response)}", fontsize=8)
            ax.tick_params(labelsize=7)
            if i == k - 1:
                ax.set_xlabel(f"{unit} after the shock", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def reaction_coefficients(reaction_result: ReactionResult, *, ax: plt.Axes | None = None) -> plt.Figure:
    """Rate (or odds) ratios of the lag windows with their intervals, on a log axis.

    Trigger windows are drawn in red, the responder's own windows in grey; calendar effects and
    the intercept are left out. A ratio of 1 (the vertical line) is no effect.

    Parameters
    ----------
    reaction_result : ReactionResult
        Output of :func:`analysis.reaction.reaction_function`.
    ax : Axes, optional
        Where to draw; a new figure by default.
    """
    table = reaction_result.coefficients
    lags = table[table["block"].isin(["trigger", "own"]).to_numpy()].iloc[::-1]
    logit = reaction_result.family == "logit"
    ratio, low, high = ("odds_ratio", "or_low", "or_high") if logit else ("irr", "irr_low", "irr_high")
    fig, ax = _figure(ax, (5.5, 0.45 * len(lags) + 1.2))
    y = np.arange(len(lags))
    colors = [_FALLBACK_COLORS[1] if b == "trigger" else "0.45" for b in lags["block"]]
    ax.hlines(y, lags[low], lags[high], colors=colors, linewidth=1.5)
    ax.scatter(lags[ratio], y, color=colors, s=18, zorder=3)
    ax.axvline(1.0, color="0.3", linewidth=0.6, linestyle=":")
    ax.set_xscale("log")
    # ratios read as plain numbers (0.8, 1, 1.5), not powers of ten
    low_lim, high_lim = ax.get_xlim()
    nice = np.array([0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.67, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 2, 3, 5, 10, 20, 50, 100])
    shown = nice[(nice >= low_lim) & (nice <= high_lim)]
    if len(shown) > 7:  # keep every other tick, always with 1
        shown = shown[(np.arange(len(shown)) - int(np.argmin(np.abs(np.log(shown))))) % 2 == 0]
    ax.set_xticks(shown, [f"{v:g}" for v in shown])
    ax.xaxis.set_minor_locator(mticker.NullLocator())
    ax.set_xlim(low_lim, high_lim)
    ax.set_yticks(y, list(lags["term"]), fontsize=8)
    kind = "odds ratio" if logit else "incidence-rate ratio"
    ax.set_xlabel(f"{kind} per unit of the window sum (HAC {100 * reaction_result.ci_level:g}% interval)", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(
        f"{reaction_result.responder} {reaction_result.outcome} on {reaction_result.trigger} ({reaction_result.family}); "
        f"trigger windows jointly: p = {reaction_result.wald_p:.3g}",
        fontsize=8,
    )
    fig.tight_layout()
    return fig


def sensitivity(grid: pd.DataFrame, *, labels: Mapping[str, str] | None = None) -> plt.Figure:
    """The sensitivity grid: median interval, response ratio and Hawkes cross-excitation against
    the window, one column per direction; colour for dedup, line style for the tie rule.

    Parameters
    ----------
    grid : DataFrame
        Output of :func:`analysis.sensitivity.sensitivity_grid`.
    labels : mapping, optional
        Side key -> label (directions are written ``"<from> -> <to>"`` with side keys).
    """
    labels = dict(labels or {})
    directions = list(dict.fromkeys(grid["direction"]))
    measures = [("median_days", "median days to an answer"), ("response_ratio", "share answered in the window"),
                ("hawkes_cross_excitation", "Hawkes cross-excitation")]
    fig, axes = plt.subplots(len(measures), len(directions), figsize=(4.2 * len(directions), 2.4 * len(measures)),
                             sharex=True, squeeze=False)
    styles = {"exclude": "-", "include": "--"}
    for j, direction in enumerate(directions):
        src, dst = direction.split(" -> ")
        for i, (column, name) in enumerate(measures):
            ax = axes[i, j]
            for k, ((dedup, tie), rows) in enumerate(grid[grid["direction"] == direction].groupby(["dedup", "ties"], sort=True)):
                ax.plot(rows["window_days"], rows[column], marker="o", markersize=3,
                        color=_FALLBACK_COLORS[sorted(set(grid["dedup"])).index(dedup) % len(_FALLBACK_COLORS)],
                        linestyle=styles.get(tie, ":"), label=f"dedup {dedup}, ties {tie}")
            ax.set_ylabel(name, fontsize=8)
            ax.tick_params(labelsize=7)
            if i == 0:
                ax.set_title(f"{labels.get(src, src)} \u2192 {labels.get(dst, dst)}", fontsize=9)
            if i == len(measures) - 1:
                ax.set_xlabel("window (days)", fontsize=8)
    axes[0, 0].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def spacetime_heatmap(table: pd.DataFrame, *, labels: Mapping[str, str] | None = None, alpha: float = 0.05) -> plt.Figure:
    """The two-stream Knox table (:func:`analysis.spacetime.knox_test`) as one heat map per
    direction: observed / expected pairs by distance band (rows) and time band (columns), on a
    log colour scale centred on 1 (as many pairs as chance); cells with ``p_value < alpha`` are
    outlined and every cell carries its ratio."""
    from matplotlib.colors import LogNorm

    labels = dict(labels or {})
    directions = list(dict.fromkeys(table["direction"]))
    fig, axes = plt.subplots(1, max(len(directions), 1), figsize=(5.4 * max(len(directions), 1), 4.2), squeeze=False,
                             constrained_layout=True)
    ratios = table["ratio"].replace([np.inf, 0], np.nan).dropna()
    span = float(np.exp(np.abs(np.log(ratios)).max())) if len(ratios) else 2.0
    norm = LogNorm(vmin=1 / max(span, 1.5), vmax=max(span, 1.5))
    image = None
    for ax, direction in zip(axes[0], directions):
        rows = table[table["direction"] == direction]
        d_bands = list(dict.fromkeys(zip(rows["d_lo_km"], rows["d_hi_km"])))
        t_bands = list(dict.fromkeys(zip(rows["t_lo_days"], rows["t_hi_days"])))
        grid = rows.pivot_table(index=["d_lo_km", "d_hi_km"], columns=["t_lo_days", "t_hi_days"], values="ratio", sort=False)
        grid = grid.reindex(index=d_bands, columns=t_bands)
        p = rows.pivot_table(index=["d_lo_km", "d_hi_km"], columns=["t_lo_days", "t_hi_days"], values="p_value",
                             sort=False).reindex(index=d_bands, columns=t_bands)
        values = grid.to_numpy(dtype=float)
        image = ax.imshow(np.where(values > 0, values, np.nan), cmap="RdBu_r", norm=norm, aspect="auto")
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                text = "–" if np.isnan(values[i, j]) else f"{values[i, j]:.2f}"
                dark = values[i, j] > 0 and abs(np.log(values[i, j])) > 0.6 * np.log(norm.vmax)  # a deep colour
                ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if dark else "black")
                if p.iat[i, j] < alpha:
                    ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.6))
        ax.set_xticks(range(len(t_bands)), [f"{lo:g}–{hi:g}" for lo, hi in t_bands], fontsize=8)
        ax.set_yticks(range(len(d_bands)), [f"{lo:g}–{hi:g}" for lo, hi in d_bands], fontsize=8)
        ax.set_xlabel("days after the first event")
        if ax is axes[0][0]:
            ax.set_ylabel("distance (km)")
        src, dst = (s.strip() for s in direction.split("->"))
        ax.set_title(f"{labels.get(src, src)} \u2192 {labels.get(dst, dst)}", fontsize=10)
    if image is not None:
        bar = fig.colorbar(image, ax=axes[0].tolist(), label="observed / expected pairs (log scale)", shrink=0.9)
        bar.ax.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
        bar.ax.yaxis.set_minor_formatter(mticker.NullFormatter())
    fig.suptitle(f"Pairs close in space and time against chance (outlined: p < {alpha:g})", fontsize=11)


# --- escalation: severity ladder, response curves, deterrence (issue 15) ----------------------

import textwrap  # noqa: E402  (level names are long: wrapped on the axes)

__all__ += ["episode_levels", "interrupted_series", "response_curves"]


def episode_levels(
    events: pd.DataFrame,
    *,
    sides: Sequence[str],
    start: object,
    end: object,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Both sides' severity levels over one episode: one marker per event, a line per side.

    Parameters
    ----------
    events : DataFrame
        Output of :func:`analysis.severity.assign_severity` (``date``, ``side``,
        ``severity_rank``, ``severity_level``); only events from ``start`` to ``end`` are drawn.
    sides : sequence of two str
    start, end : date
        The episode's first and last day (``episodes`` table's ``start_date``/``end_date``).
    labels, colors : mapping, optional
        Side key -> legend label / colour.

    Notes
    -----
    Events of unknown level are drawn as open markers on a row of their own, below level 0.
    Same-day events of one side are spread a little sideways so that each shows.
    """
    labels, colors = dict(labels or {}), dict(colors or {})
    fig, ax = _figure(ax, (10, 3.6))
    dates = pd.to_datetime(events["date"])
    inside = events.loc[(dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))]
    level_names = [c for c in events["severity_level"].cat.categories if c != "unknown"]
    offsets = {sides[0]: -0.12, sides[1]: 0.12}
    for side, fallback in zip(sides, _FALLBACK_COLORS):
        mine = inside.loc[inside["side"] == side].sort_values("date", kind="stable")
        color = colors.get(side) or fallback
        when = pd.to_datetime(mine["date"]) + pd.to_timedelta(offsets[side], unit="D")
        rank = mine["severity_rank"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        known = ~np.isnan(rank)
        ax.plot(when[known], rank[known], color=color, linewidth=0.9, alpha=0.6)
        ax.scatter(when[known], rank[known], color=color, s=22, zorder=3, label=f"{labels.get(side, side)} ({known.sum()})")
        if (~known).any():
            ax.scatter(when[~known], np.full((~known).sum(), -1.0), facecolors="white", edgecolors=color, s=22, zorder=3,
                       label=f"{labels.get(side, side)}: level unknown ({(~known).sum()})")
    ax.set_yticks(range(-1, len(level_names)))
    ax.set_yticklabels(["unknown", *(textwrap.fill(n, 24) for n in level_names)], fontsize=7)
    ax.set_ylim(-1.6, len(level_names) - 0.4)
    ax.axhline(-0.5, color="0.8", linewidth=0.6)
    ax.set_xlim(pd.Timestamp(start) - pd.Timedelta(days=1), pd.Timestamp(end) + pd.Timedelta(days=1))
    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.tick_params(axis="x", labelsize=7)
    for spine in ("right", "top"):
        ax.spines[spine].set_visible(False)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def response_curves(
    curve: pd.DataFrame,
    predictions: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
) -> plt.Figure:
    """Response curves per direction: share answered, and the answer's level, by the trigger's level.

    Parameters
    ----------
    curve : DataFrame
        Output of :func:`analysis.severity.response_curve` (binned estimates with intervals,
        drawn as points with bars; the ``unknown`` bin is left out).
    predictions : DataFrame
        ``ResponseModels.predictions`` of :func:`analysis.severity.response_models` (the
        logit and ordered-logit curves, drawn as lines with bands).
    labels, colors : mapping, optional
        Side key -> label / colour; a direction is drawn in the trigger side's colour.
    """
    labels, colors = dict(labels or {}), dict(colors or {})
    known = curve.loc[curve["trigger_rank"].notna()]
    level_names = [c for c in curve["trigger_level"].cat.categories if c != "unknown"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    sides = list(dict.fromkeys(known["trigger_side"]))
    for k, (side, fallback) in enumerate(zip(sides, _FALLBACK_COLORS)):
        color = colors.get(side) or fallback
        shift = (k - (len(sides) - 1) / 2) * 0.08
        mine = known.loc[known["trigger_side"] == side]
        pred = predictions.loc[predictions["trigger_side"] == side]
        x = mine["trigger_rank"].astype(float).to_numpy() + shift
        name = f"after {labels.get(side, side)}"
        for ax, est, lo, hi, p_est, p_lo, p_hi in (
            (left, "share_answered", "share_low", "share_high", "p_answered", "p_low", "p_high"),
            (right, "mean_response_rank", "mean_low", "mean_high", "expected_response_rank", "expected_low", "expected_high"),
        ):
            y = mine[est].to_numpy(dtype=float)
            err = np.vstack([y - mine[lo].to_numpy(dtype=float), mine[hi].to_numpy(dtype=float) - y])
            ax.errorbar(x, y, yerr=err, fmt="o", color=color, markersize=4, capsize=2, linewidth=1, label=name)
            if pred[p_est].notna().any():
                ax.plot(pred["trigger_rank"], pred[p_est], color=color, linewidth=1)
                ax.fill_between(pred["trigger_rank"], pred[p_lo], pred[p_hi], color=color, alpha=0.15, linewidth=0)
    left.set_ylim(-0.02, 1.02)
    left.set_ylabel("share answered within the window", fontsize=8)
    right.set_ylabel("level of the answer", fontsize=8)
    wrapped = [textwrap.fill(n, 18) for n in level_names]
    right.set_yticks(range(len(level_names)))
    right.set_yticklabels(wrapped, fontsize=7)
    right.set_ylim(-0.5, len(level_names) - 0.5)
    for ax in (left, right):
        ax.set_xticks(range(len(level_names)))
        ax.set_xticklabels(wrapped, fontsize=6.5)
        ax.set_xlabel("level of the trigger", fontsize=8)
        for spine in ("right", "top"):
            ax.spines[spine].set_visible(False)
    left.legend(fontsize=7, frameon=False)
    left.set_title("points: binned, Wilson 95%; line: logit", fontsize=8, loc="left")
    right.set_title("points: mean, t 95%; line: ordered logit", fontsize=8, loc="left")
    fig.tight_layout()
    return fig


def interrupted_series(
    fitted: pd.DataFrame,
    *,
    name: str,
    side: str,
    freq: str | None = "W",
    label: str | None = None,
    color: str | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """An interrupted time series: observed counts, the fitted segments and the counterfactual.

    Parameters
    ----------
    fitted : DataFrame
        ``ITSResult.fitted`` of :func:`analysis.deterrence.interrupted_time_series`.
    name, side : str
        The named day and the side to draw.
    freq : str or None
        ``"W"`` draws weekly totals of the observed counts as daily averages (a step per
        week, split at the named day), ``None`` every day's count.
    label, color : str, optional
        The side's label and colour.
    """
    rows = fitted.loc[(fitted["name"] == name) & (fitted["side"] == side)].sort_values("date")
    if rows.empty:
        raise ValueError(f"fitted has no rows for {name!r} and side {side!r}")
    fig, ax = _figure(ax, (9, 3.4))
    color = color or _FALLBACK_COLORS[1]
    named_day = rows["date"].iloc[0] - pd.Timedelta(days=int(rows["t"].iloc[0]))  # t counts days from it
    if freq is None:
        ax.scatter(rows["date"], rows["observed"], color="0.55", s=6, label="observed (per day)")
    else:
        for segment, part in rows.groupby("segment", sort=False):
            weekly = part.set_index("date")["observed"].resample(freq).agg(["sum", "size"])
            ax.step(weekly.index, weekly["sum"] / weekly["size"], where="post", color="0.55", linewidth=1,
                    label="observed (daily average per week)" if segment == "before" else None)
    for segment, part in rows.groupby("segment", sort=False):
        ax.plot(part["date"], part["fitted"], color=color, linewidth=1.8, label="fitted segments" if segment == "before" else None)
    after = rows.loc[rows["segment"] == "after"]
    ax.plot(after["date"], after["counterfactual"], color=color, linewidth=1.2, linestyle="--", label="earlier trend carried on")
    ax.axvline(named_day, color="0.3", linewidth=0.8, linestyle=":")
    ax.text(named_day, ax.get_ylim()[1], f" {name}", fontsize=7, va="top")
    ax.set_ylabel(f"{label or side}: events per day", fontsize=8)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.tick_params(labelsize=7)
    for spine in ("right", "top"):
        ax.spines[spine].set_visible(False)
    ax.legend(fontsize=7, frameon=False, loc="upper right")
    fig.tight_layout()
    return fig
