"""Figures of a fitted bivariate Hawkes process (:mod:`analysis.hawkes`).

Each function takes a :class:`analysis.hawkes.HawkesFit` and an optional ``ax``, draws, and
returns the figure.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np

from analysis.hawkes import HawkesBootstrap, HawkesFit

__all__ = ["branching_matrix", "kernels"]

_STYLES = {(0, 0): ("#1f4e79", "-"), (1, 0): ("#1f4e79", "--"), (1, 1): ("#b22222", "-"), (0, 1): ("#b22222", "--")}


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
    for (i, j), (color, style) in _STYLES.items():
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
