"""Figures of the time to retaliation: Kaplan-Meier curves and a forest plot of hazard ratios.

Each function takes a result of :mod:`analysis.survival` and an optional ``ax``, draws, and
returns the figure (to be merged into :mod:`analysis.plots`).
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import matplotlib.transforms as mtransforms
import numpy as np
import pandas as pd

from analysis.survival import CoxResult, KMResult

__all__ = ["hazard_ratios", "km_curves"]

_COLORS = ("#1f4e79", "#b22222", "#2e7d32", "#6a1b9a")


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
        color = colors.get(group) or _COLORS[i % len(_COLORS)]
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
