"""Figures. Each function takes data (or a model result) and an optional ``ax``, draws, and returns
the figure.

A report figure explains itself: a title, both axes labelled with their units, a legend that
covers no data, and no two pieces of text on top of each other. :func:`check_figure` says what a
figure lacks; :func:`analysis.render.figure` runs it before putting a figure on a page, where it
also gets its caption and alt text.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import matplotlib.transforms as mtransforms
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text

from analysis.warnings import FigureWarning

if TYPE_CHECKING:  # result types, for annotations only
    from analysis.reaction import ReactionResult
    from analysis.survival import CoxResult, KMResult

__all__ = [
    "FigureWarning", "branching_matrix", "check_figure", "coverage", "hazard_ratios", "impulse_responses", "kernels",
    "km_curves", "monthly_bars", "null_distributions", "reaction_coefficients", "response_intervals", "sensitivity",
    "spacetime_heatmap", "timeline", "weekly_counts",
]

_FALLBACK_COLORS = ("#1f4e79", "#b22222", "#2e7d32", "#6a1b9a")

#: Above this many events of the two sides, :func:`timeline` draws weekly counts, not one stem each.
TIMELINE_MAX_STEMS = 1500



def _figure(ax: plt.Axes | None, figsize: tuple[float, float]) -> tuple[plt.Figure, plt.Axes]:
    """The figure of ``ax``, or a new figure of ``figsize`` inches with one axes."""
    if ax is None:
        return plt.subplots(figsize=figsize)
    return ax.figure, ax


def _wrap(text: str, width: int = 16) -> str:
    """A label broken into lines of at most ``width`` characters (tick labels that would run together)."""
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def _is_colorbar(ax: plt.Axes) -> bool:
    return getattr(ax, "_colorbar", None) is not None


def _has_data(ax: plt.Axes) -> bool:
    return bool(ax.lines or ax.collections or ax.patches or ax.images)


def _shown_ticklabels(axis) -> bool:
    return any(t.get_visible() and t.get_text().strip() for t in axis.get_ticklabels())


def _data_paths(ax: plt.Axes):
    """The drawn data of ``ax`` in display coordinates: (kind, Path) pairs."""
    from matplotlib.path import Path

    for line in ax.lines:
        if line.get_visible() and len(line.get_xydata()):
            yield "line", line.get_transform().transform_path(line.get_path())
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        if isinstance(coll, PathCollection):  # scatter: the points
            offsets = coll.get_offset_transform().transform(coll.get_offsets())
            if len(offsets):
                yield "points", Path(offsets)
        elif isinstance(coll, (LineCollection, PolyCollection)):
            for path in coll.get_paths():
                yield "line", coll.get_transform().transform_path(path)
    for patch in ax.patches:
        if patch.get_visible() and isinstance(patch, Rectangle) and patch.get_height() != 0:
            yield "box", patch.get_window_extent()


def check_figure(fig: plt.Figure) -> list[str]:
    """What a figure lacks to explain itself; an empty list when nothing.

    Checks that the figure has a title (a figure title or an axes title); that every axes with
    data has a labelled x and y axis (an axis label, the figure's ``supxlabel``/``supylabel``,
    or, for a shared axis, tick labels hidden because a neighbour carries them); that no legend
    lies over a drawn point, line, band or bar; and that no two visible texts overlap (tick
    labels, annotations, titles, legend entries). Problems about legends start with
    ``"legend"``; text overlaps with ``"text"``.
    """
    problems = []
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axes = [ax for ax in fig.axes if ax.get_visible() and not _is_colorbar(ax)]
    suptitle = fig.get_suptitle().strip()
    if not suptitle and not any(ax.get_title(loc=loc).strip() for ax in axes for loc in ("left", "center", "right")):
        problems.append("no title (figure or axes)")
    supx, supy = fig.get_supxlabel().strip(), fig.get_supylabel().strip()
    for i, ax in enumerate(axes):
        if not _has_data(ax):
            continue
        if not (ax.get_xlabel().strip() or supx) and _shown_ticklabels(ax.xaxis):
            problems.append(f"axes {i}: no x-axis label")
        if not (ax.get_ylabel().strip() or supy) and _shown_ticklabels(ax.yaxis):
            problems.append(f"axes {i}: no y-axis label")
    legends = [(ax, ax.get_legend()) for ax in fig.axes if ax.get_legend() is not None] + [(None, lg) for lg in fig.legends]
    for _owner, legend in legends:
        box = legend.get_window_extent(renderer).padded(-1)
        for j, ax in enumerate(axes):
            if not ax.get_window_extent(renderer).overlaps(box):
                continue
            for kind, shape in _data_paths(ax):
                if kind == "box":
                    hit = shape.overlaps(box)
                elif kind == "points":
                    vertices = shape.vertices
                    hit = bool(((vertices[:, 0] > box.x0) & (vertices[:, 0] < box.x1) & (vertices[:, 1] > box.y0)
                                & (vertices[:, 1] < box.y1)).any())
                else:
                    hit = shape.intersects_bbox(box, filled=False)
                if hit:
                    name = legend.get_texts()[0].get_text() if legend.get_texts() else ""
                    problems.append(f"legend '{name}' covers data in axes {j}")
                    break
    # every visible text once; tick labels only for ticks inside the view (others are not drawn)
    tick_labels, drawn_ticks = set(), []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                for label in (tick.label1, tick.label2):
                    tick_labels.add(id(label))
                    slack = 1e-9 * abs(high - low)
                    if label.get_visible() and tick.get_visible() and low - slack <= tick.get_loc() <= high + slack:
                        drawn_ticks.append(label)
    texts, seen = [], set()
    for t in list(fig.findobj(Text)) + drawn_ticks:
        if id(t) in seen or (id(t) in tick_labels and t not in drawn_ticks):
            continue
        seen.add(id(t))
        if t.get_visible() and str(t.get_text()).strip():
            texts.append(t)
    boxes = []
    for t in texts:
        try:
            # the text's own box (an annotation's extent would include its arrow)
            boxes.append((t, Text.get_window_extent(t, renderer).padded(-1)))
        except (RuntimeError, ValueError):
            continue
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            (ta, ba), (tb, bb) = boxes[a], boxes[b]
            if ta.get_text() == tb.get_text() and np.allclose(ba.bounds, bb.bounds):
                continue  # one text reached through two containers (a legend entry)
            if ba.width > 0 and bb.width > 0 and ba.overlaps(bb):
                problems.append(f"text '{ta.get_text()}' overlaps text '{tb.get_text()}'")
    return problems


def _stack_labels(ax: plt.Axes, xs: Sequence[float], texts: Sequence[str], *, fontsize: float, pad_px: float = 6.0) -> list[int]:
    """A level (0, 1, 2...) for each label so that labels on one level do not overlap.

    Labels are centred at their x positions (in data coordinates) and placed in date order:
    each goes on the lowest level whose last label ends (plus ``pad_px`` pixels) before it
    starts. Widths are measured with the figure's renderer.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    centres = ax.transData.transform(np.column_stack([np.asarray(xs, float), np.zeros(len(xs))]))[:, 0] if len(xs) else []
    ends: list[float] = []
    levels = []
    for centre, text in zip(centres, texts):
        probe = ax.text(0, 0, text, fontsize=fontsize)
        half = probe.get_window_extent(renderer).width / 2
        probe.remove()
        for level, end in enumerate(ends):
            if centre - half > end + pad_px:
                ends[level] = centre + half
                levels.append(level)
                break
        else:
            ends.append(centre + half)
            levels.append(len(ends) - 1)
    return levels


def _date_axis(ax: plt.Axes, span_days: float) -> None:
    if span_days > 3 * 365:
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_minor_locator(mdates.MonthLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    else:
        locator = mdates.AutoDateLocator(maxticks=10)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


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
    max_stems: int = TIMELINE_MAX_STEMS,
    title: str | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Both sides' events on one time axis: the first side above the line, the second below.

    With at most ``max_stems`` events, each event is a stem whose height grows with
    ``log(1 + severity)`` (height 1 when severity is zero or unknown), so the alternation of
    strikes and responses reads at a glance. With more (a GDELT dyad has tens of thousands),
    stems would merge into a solid block: each side's events per week are drawn as bars instead,
    above and below the axis, and chains are not drawn.

    Highlighted events are labelled in date order on as many rows as needed for no two labels
    to overlap (:func:`_stack_labels`).

    Parameters
    ----------
    events : DataFrame
        Events with ``date``, ``side`` and ``event_id``; rows of other sides are not drawn.
    sides : sequence of two str
        Side keys: ``sides[0]`` is drawn upwards, ``sides[1]`` downwards.
    labels, colors : mapping, optional
        Side key -> legend label / colour.
    highlight : mapping, optional
        ``event_id`` -> short text written beside that event.
    severity_col : str
        Column giving stem height (missing values count as zero).
    period : (start, end), optional
        Dates the x-axis spans (e.g. the dyad's study period); by default the events' range.
    chains : sequence of sequences of event_id
        Strike -> response chains to draw as zigzag lines joining their events' stem tips.
    max_stems : int
        Most events drawn one by one; above it, weekly counts.
    title : str, optional
        The figure's title (a default says what is drawn).
    ax : Axes, optional
        Where to draw; a new 12 x 4.8 inch figure by default.
    """
    if len(sides) != 2:
        raise ValueError(f"timeline draws two sides, got {list(sides)}")
    labels = dict(labels or {})
    colors = dict(colors or {})
    highlight = dict(highlight or {})
    fig, ax = _figure(ax, (12, 4.8))
    events = events[events["side"].isin(list(sides)).fillna(False).to_numpy()]
    dates_all = pd.to_datetime(events["date"])
    start = pd.Timestamp(period[0]) if period is not None else (dates_all.min() if len(events) else pd.Timestamp("2000-01-01"))
    end = pd.Timestamp(period[1]) if period is not None else (dates_all.max() if len(events) else start + pd.Timedelta(days=1))
    dense = len(events) > max_stems
    sign_of = {sides[0]: 1.0, sides[1]: -1.0}
    if dense:
        weeks = dates_all.dt.to_period("W-SUN").dt.start_time
        counts = pd.crosstab(weeks, events["side"]).reindex(columns=list(sides), fill_value=0)
        # every week of the span (0 where a side did nothing), drawn as one stepped patch per side
        edges = pd.date_range(counts.index.min(), counts.index.max() + pd.Timedelta(days=7), freq="7D")
        counts = counts.reindex(edges[:-1], fill_value=0)
        for side, fallback in zip(sides, _FALLBACK_COLORS):
            ax.stairs(sign_of[side] * counts[side].to_numpy(float), mdates.date2num(edges), fill=True, baseline=0,
                      color=colors.get(side) or fallback, linewidth=0,
                      label=f"{labels.get(side, side)} ({int(counts[side].sum()):,} events)")
        height = pd.Series(np.nan, index=events.index)
        tip = {}
        top = float(counts.to_numpy().max()) if len(counts) else 1.0
        marked = events["event_id"].isin(list(highlight)).to_numpy()
        for eid, week, side in zip(events["event_id"][marked], weeks[marked], events["side"][marked]):
            tip[eid] = sign_of[side] * float(counts.loc[week, side])
        ylabel = "events per week"
    else:
        severity = pd.to_numeric(events.get(severity_col, pd.Series(0, index=events.index)), errors="coerce").fillna(0)
        height = 1 + np.log1p(severity.astype(float).clip(lower=0))
        for side, fallback in zip(sides, _FALLBACK_COLORS):
            mask = (events["side"] == side).to_numpy()
            dates = dates_all[mask]
            color = colors.get(side) or fallback
            ax.vlines(dates, 0, sign_of[side] * height[mask], color=color, linewidth=1.2, alpha=0.8)
            ax.scatter(dates, sign_of[side] * height[mask], s=12, color=color, zorder=3,
                       label=f"{labels.get(side, side)} ({mask.sum()})")
        tips = pd.DataFrame({"date": dates_all.to_numpy(), "y": events["side"].map(sign_of).to_numpy(float) * height.to_numpy()},
                            index=events["event_id"].to_numpy())
        for i, chain in enumerate(chains):
            path = tips.loc[[e for e in chain if e in tips.index]]
            ax.plot(path["date"], path["y"], color="0.15", linewidth=0.9, alpha=0.75, zorder=4,
                    label="longest chains" if i == 0 else None)
        tip = tips["y"].to_dict()
        top = float(height.max()) if len(height) else 1.0
        ylabel = f"1 + log(1 + {severity_col.replace('_', ' ')})"
    ax.axhline(0, color="0.3", linewidth=0.8)
    ax.set_xlim(start, end)
    _date_axis(ax, (end - start).days)
    fontsize = 7.5
    shown = events[events["event_id"].isin(list(highlight))].sort_values("date", kind="stable")
    fig.canvas.draw()
    levels = {}
    for side in sides:
        rows = shown[shown["side"] == side]
        xs = mdates.date2num(pd.to_datetime(rows["date"]))
        stacked = _stack_labels(ax, xs, [highlight[e] for e in rows["event_id"]], fontsize=fontsize)
        for eid, level in zip(rows["event_id"], stacked):
            levels[eid] = level
    n_levels = {s: 1 + max([levels[e] for e in shown.loc[shown["side"] == s, "event_id"]], default=-1) for s in sides}
    limit = top * 1.08 if top > 0 else 1.0
    step_pt = 12.0  # one level of labels, in points (7.5-point text and its white box)
    for _, row in shown.iterrows():
        sign = sign_of[row["side"]]
        when = mdates.date2num(pd.Timestamp(row["date"]))
        # the label sits `level` steps beyond the tallest stem (above for the first side, below for the second)
        offset = mtransforms.ScaledTranslation(0, sign * (4 + step_pt * levels[row["event_id"]]) / 72, fig.dpi_scale_trans)
        ax.annotate(
            highlight[row["event_id"]],
            xy=(when, tip.get(row["event_id"], 0.0)),
            xytext=(when, sign * limit),
            textcoords=ax.transData + offset,
            ha="center",
            va="bottom" if sign > 0 else "top",
            fontsize=fontsize,
            arrowprops={"arrowstyle": "-", "color": "0.6", "linewidth": 0.5, "shrinkA": 0, "shrinkB": 1},
            annotation_clip=False,
            # lower levels drawn last, on a white box, so a higher label's line never strikes through them
            zorder=6 + n_levels[row["side"]] - levels[row["event_id"]],
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.4},
        )
    if dense:
        ax.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{abs(v):g}"))
        below, above = labels.get(sides[1], sides[1]), labels.get(sides[0], sides[0])
        ax.set_ylabel(f"events per week\n\u2193 {below}   |   {above} \u2191", fontsize=8)
    else:
        ax.set_yticks([])
        below, above = _wrap(labels.get(sides[1], sides[1]), 24), _wrap(labels.get(sides[0], sides[0]), 24)
        ax.set_ylabel(f"\u2193 {below}  |  {above} \u2191\nstem height: {ylabel}", fontsize=8)
    ax.set_xlabel("date (local day of the event)", fontsize=8)
    for spine in ("left", "right", "top"):
        ax.spines[spine].set_visible(dense and spine == "left")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, fontsize=8, frameon=False)
    what = "events per week (too many to draw one by one)" if dense else "one stem per event"
    ax.set_title(title or f"Events of both sides over time: {what}", fontsize=9, loc="right")
    # room for the labels, once the layout has fixed the axes' height: points -> data units
    margin_pt = {s: 8 + step_pt * n_levels[s] for s in sides}
    for _ in range(2):
        fig.tight_layout()
        ax_height_pt = ax.get_window_extent().height * 72 / fig.dpi
        per_pt = 2 * limit / max(ax_height_pt - sum(margin_pt.values()), 0.3 * ax_height_pt)
        ax.set_ylim(-limit - margin_pt[sides[1]] * per_pt, limit + margin_pt[sides[0]] * per_pt)
    return fig


_STATISTIC_AXIS = {
    "response_ratio": "share of events answered within {k} days",
    "median_interval": "median days to an answer (within {w} days)",
}


def null_distributions(null: pd.DataFrame, summary: pd.DataFrame, *, labels: Mapping[str, str] | None = None,
                       ax: plt.Axes | None = None) -> plt.Figure:
    """Histograms of the permutation null of each direction x statistic, observed value marked.

    The grey bars are the values of the statistic over the circular shifts (what the two
    sides' own rhythms alone give); the red line is the value observed. A red line far in the
    tail (right for the response ratio, left for the median interval) is a small p-value.

    Parameters
    ----------
    null, summary : DataFrame
        ``PermutationResult.null`` and ``PermutationResult.summary`` (see
        :func:`analysis.panel.permutation_test`).
    labels : mapping, optional
        Side key -> label (directions are written ``"<from> -> <to>"`` with side keys).
    ax : Axes, optional
        Ignored unless there is a single panel; by default one panel per direction x statistic.
    """
    labels = dict(labels or {})
    keys = list(summary[["direction", "statistic"]].itertuples(index=False, name=None))
    if ax is not None and len(keys) == 1:
        fig, axes = ax.figure, [ax]
    else:
        fig, axes = plt.subplots(1, len(keys), figsize=(3.3 * len(keys), 3.1), squeeze=False)
        axes = list(axes[0])
    for a, (direction, stat) in zip(axes, keys):
        values = null.loc[(null["direction"] == direction) & (null["statistic"] == stat), "value"].dropna()
        row = summary[(summary["direction"] == direction) & (summary["statistic"] == stat)].iloc[0]
        a.hist(values, bins=30, color="0.75", label="shifted dates")
        a.axvline(row["observed"], color="#b22222", linewidth=1.5, label="observed")
        src, _, dst = str(direction).partition(" -> ")
        name = f"{labels.get(src, src)} \u2192 {labels.get(dst, dst)}" if dst else str(direction)
        a.set_title(f"{_wrap(name, 30)}\n{stat.replace('_', ' ')}: p = {row['p_value']:.3f}", fontsize=8)
        k = int(row["k_days"]) if "k_days" in row and pd.notna(row["k_days"]) else "k"
        w = int(row["window_days"]) if "window_days" in row and pd.notna(row["window_days"]) else "the window's"
        a.set_xlabel(_wrap(_STATISTIC_AXIS.get(stat, stat.replace("_", " ")).format(k=k, w=w), 28), fontsize=8)
        a.tick_params(labelsize=7)
    axes[0].set_ylabel("shifted draws", fontsize=8)
    for a in axes[1:]:
        a.set_ylabel("shifted draws", fontsize=8)
    handles = [Patch(color="0.75", label="circular-shift null (one side's dates shifted at random)"),
               Line2D([], [], color="#b22222", linewidth=1.5, label="observed value")]
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False, bbox_to_anchor=(0.5, 0.0))
    fig.suptitle("Observed statistics against their permutation null", fontsize=9)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def weekly_counts(
    panel: pd.DataFrame,
    *,
    sides: Sequence[str],
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    marks: Mapping[str, object] | None = None,
    title: str | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Events per week by side from the daily panel, with vertical lines at named days.

    Parameters
    ----------
    panel : DataFrame
        Output of :func:`analysis.panel.daily_panel`.
    marks : mapping, optional
        Name -> date drawn as a labelled vertical line (labels stacked so none overlap).
    title : str, optional
        The figure's title.
    """
    labels, colors, marks = dict(labels or {}), dict(colors or {}), dict(marks or {})
    fig, ax = _figure(ax, (12, 3.4))
    weekly = panel.pivot(index="date", columns="side", values="events").resample("W-MON", label="left", closed="left").sum()
    for side, fallback in zip(sides, _FALLBACK_COLORS):
        ax.step(weekly.index, weekly[side], where="post", color=colors.get(side) or fallback, linewidth=1,
                label=labels.get(side, side))
    top = float(weekly[list(sides)].to_numpy().max()) if len(weekly) else 1.0
    top = top if top > 0 else 1.0
    ordered = sorted(marks.items(), key=lambda kv: pd.Timestamp(kv[1]))
    if len(weekly):
        _date_axis(ax, (weekly.index.max() - weekly.index.min()).days)
    fig.canvas.draw()
    levels = _stack_labels(ax, mdates.date2num([pd.Timestamp(w) for _, w in ordered]), [f"{n}" for n, _ in ordered], fontsize=7)
    n_levels = 1 + max(levels, default=-1)
    ax.set_ylim(0, top * (1.08 + 0.11 * n_levels))
    for (name, when), level in zip(ordered, levels):
        ax.axvline(pd.Timestamp(when), color="0.4", linewidth=0.6, linestyle=":")
        ax.text(pd.Timestamp(when), top * (1.06 + 0.11 * (n_levels - 1 - level)), name, fontsize=7, va="bottom", ha="center",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
    ax.set_ylabel("events per week", fontsize=8)
    ax.set_xlabel("week (starting Monday)", fontsize=8)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=8, frameon=False)
    ax.set_title(title or "Events per week, with the named days as dotted lines", fontsize=9, loc="right")
    for spine in ("right", "top"):
        ax.spines[spine].set_visible(False)
    fig.tight_layout()
    return fig


def monthly_bars(
    monthly: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    title: str | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Stacked bars of events per month, one colour per column of ``monthly``.

    Parameters
    ----------
    monthly : DataFrame
        Output of :func:`analysis.coverage.monthly_counts` with ``by=("side",)``.
    title : str, optional
        The figure's title.
    """
    labels, colors = dict(labels or {}), dict(colors or {})
    fig, ax = _figure(ax, (12, 3.4))
    x = monthly.index.to_timestamp()
    bottom = np.zeros(len(monthly))
    for col, fallback in zip(monthly.columns, _FALLBACK_COLORS):
        ax.bar(x, monthly[col], width=25, bottom=bottom, align="edge", color=colors.get(col) or fallback,
               label=labels.get(col, col))
        bottom += monthly[col].to_numpy()
    ax.set_ylabel("events per month", fontsize=8)
    ax.set_xlabel("month", fontsize=8)
    if len(x):
        _date_axis(ax, (x.max() - x.min()).days)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, fontsize=8, frameon=False)
    ax.set_title(title or "Events per month, by side", fontsize=9, loc="right")
    for spine in ("right", "top"):
        ax.spines[spine].set_visible(False)
    fig.tight_layout()
    return fig


def coverage(table: pd.DataFrame, *, counted: str = "attacks", ax: plt.Axes | None = None) -> plt.Figure:
    """Official running totals against our cumulative count, for the longest series.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`analysis.coverage.coverage_table`. Lower-bound official figures
        ("more than") are drawn as open markers.
    counted : str
        What the totals count, for the axis label.
    """
    fig, ax = _figure(ax, (8, 3.6))
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
        ax.set_title(f"Cumulative {counted} since {pd.Timestamp(since):%d %b %Y}: official totals and this dataset",
                     fontsize=9, loc="left")
        _date_axis(ax, (group["as_of"].max() - group["as_of"].min()).days)
    ax.set_ylabel(f"cumulative {counted}", fontsize=8)
    ax.set_xlabel("date of the official statement", fontsize=8)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    for spine in ("right", "top"):
        ax.spines[spine].set_visible(False)
    fig.tight_layout()
    return fig


def km_curves(
    km_result: KMResult,
    *,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    xlabel: str = "days since the trigger",
    ylabel: str = "share not yet answered",
    title: str | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Kaplan-Meier step curves with their bands, one per group (direction of retaliation).

    Each curve starts at 1 on day 0, steps down at every day with a response, and runs flat to
    the group's longest follow-up. The shaded band is the one the result carries
    (``km_result.band``: pointwise log-log or Hall-Wellner), and the legend (below the plot, so
    it covers no curve) gives each group's triggers, responses and median wait.

    Parameters
    ----------
    km_result : KMResult
        Output of :func:`analysis.survival.kaplan_meier`.
    labels, colors : mapping, optional
        Group -> legend label / colour.
    xlabel, ylabel : str
        Axis labels.
    title : str, optional
        The figure's title (by default the estimator and its band).
    ax : Axes, optional
        Where to draw; a new 7 x 4.6 inch figure by default.
    """
    labels, colors = dict(labels or {}), dict(colors or {})
    fig, ax = _figure(ax, (7, 4.6))
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
    ax.set_title(title or f"Kaplan-Meier estimate of the wait for an answer; shaded: {level}% {band} band",
                 fontsize=8, loc="left")
    for spine in ("right", "top"):
        ax.spines[spine].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.14), fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def response_intervals(
    cycles: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    title: str | None = None,
) -> plt.Figure:
    """The distribution of the days to an answer, one panel per direction, censored shown.

    Bars count the answered events by the number of days to the first event of the other side
    (0 only when same-day events count as answers); a hatched bar at the right counts the
    events with no answer within the window (censored: the window ended, the data ended, or
    the side's own next event came first).

    Parameters
    ----------
    cycles : DataFrame
        The cycles table (``trigger_side``, ``response_side``, ``interval_days``, ``censored``,
        ``window_days``).
    labels, colors : mapping, optional
        Side key -> label / colour (a panel takes its trigger side's colour).
    title : str, optional
        The figure's title.
    """
    labels, colors = dict(labels or {}), dict(colors or {})
    sides = sorted(cycles["trigger_side"].dropna().unique(), key=lambda s: list(labels).index(s) if s in labels else len(labels))
    fig, axes = plt.subplots(1, max(1, len(sides)), figsize=(5.4 * max(1, len(sides)), 3.3), squeeze=False)
    axes = list(axes[0])
    for i, (ax, side) in enumerate(zip(axes, sides)):
        rows = cycles[cycles["trigger_side"] == side]
        answered = rows.loc[~rows["censored"].astype(bool), "interval_days"].astype(float)
        window = int(pd.to_numeric(rows["window_days"], errors="coerce").max()) if len(rows) else 30
        color = colors.get(side) or _FALLBACK_COLORS[i % len(_FALLBACK_COLORS)]
        counts = answered.round().astype(int).value_counts().reindex(range(0, window + 1), fill_value=0)
        ax.bar(counts.index, counts.to_numpy(), width=0.85, color=color, label=f"answered ({len(answered)})")
        censored = int(rows["censored"].astype(bool).sum())
        ax.bar([window + 3], [censored], width=2.5, color="white", edgecolor=color, hatch="///",
               label=f"no answer within {window} days ({censored})")
        others = sorted(set(sides) - {side})
        name = f"{labels.get(side, side)} \u2192 {', '.join(labels.get(o, o) for o in others)}"
        ax.set_title(_wrap(name, 48), fontsize=8, pad=30)
        ax.set_xlabel("days to the other side's first event", fontsize=8)
        ax.set_ylabel(f"events of {_wrap(labels.get(side, side), 28)}", fontsize=8)
        ticks = list(range(0, window + 1, 5 if window <= 40 else 10))
        ax.set_xticks(ticks + [window + 3], [str(t) for t in ticks] + ["none"])
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2)
        for spine in ("right", "top"):
            ax.spines[spine].set_visible(False)
    fig.suptitle(title or "Days from an event to the other side's first event, per direction", fontsize=9)
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
        Where to draw; a new 8 x 5 inch figure by default.
    """
    from analysis.hawkes import kernel_values, params_matrix

    labels = dict(labels or {})
    fig, ax = _figure(ax, (8, 5))
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
        ax.set_title(f"Fitted kernels (\u03b2 = {beta:.3g} per day, mean delay {1 / beta:.3g} days)", fontsize=9)
    else:  # one decay per kernel: mean delays in the legend
        ax.set_title("Fitted kernels (one decay per kernel)", fontsize=9)
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1,
              title="source \u2192 target", title_fontsize=8)
    fig.tight_layout()
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
    fig, ax = _figure(ax, (5.2, 4.4))
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
    # side labels are long ("US and coalition forces"): wrapped so neighbours do not run together
    ax.set_xticks(range(len(sides)), [_wrap(n, 14) for n in names], fontsize=8)
    ax.set_yticks(range(len(sides)), [_wrap(n, 14) for n in names], fontsize=8)
    ax.set_xlabel("source (the side whose event triggers)", fontsize=8)
    ax.set_ylabel("target (the side whose events are triggered)", fontsize=8)
    ax.set_title(f"Branching matrix (ratio {np.max(np.abs(np.linalg.eigvals(alpha))):.2f})", fontsize=9)
    fig.colorbar(image, ax=ax, label="events triggered per source event")
    fig.tight_layout()
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
    fig, axes = plt.subplots(k, k, figsize=(3.4 * k + 0.6, 2.5 * k + 0.4), sharex=True, sharey="row", squeeze=False)
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
            if j == 0:
                per = unit[:-1] if unit.endswith("s") else unit
                ax.set_ylabel(_wrap(f"{labels.get(response, response)}: change in events per {per}", 26), fontsize=8)
    fig.suptitle(title or "Impulse responses", fontsize=9)
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


def sensitivity(grid: pd.DataFrame, *, labels: Mapping[str, str] | None = None,
                colors: Mapping[str, str] | None = None) -> plt.Figure:
    """The sensitivity grid: median interval, response ratio, Hawkes cross-excitation and (with
    tolerances) the share of answers that escalate, against the window, one column per direction.

    Colour is the direction's trigger side (as everywhere in a report), line style the tie rule
    (solid: a same-day event never answers; dashed: it answers with interval 0), marker the
    dedup setting (filled: duplicates merged; open: not). When merging changes nothing (one
    source), one line per tie rule is drawn and the legend says so. Only the grid's first
    placing of imprecise dates (``dates``) and its first ``tolerance`` are drawn, the report's
    own choices; the title says which, and the table gives the rest.

    Parameters
    ----------
    grid : DataFrame
        Output of :func:`analysis.sensitivity.sensitivity_grid`.
    labels, colors : mapping, optional
        Side key -> label / colour (directions are written ``"<from> -> <to>"`` with side keys).
    """
    labels, colors = dict(labels or {}), dict(colors or {})
    drawn_choices = []
    for column, name in (("dates", "imprecise dates at their {}"), ("tolerance", "ladder tolerance {}")):
        if column in grid.columns and len(grid):
            first = grid[column].iloc[0]
            grid = grid[grid[column] == first]
            drawn_choices.append(name.format(first))
    directions = list(dict.fromkeys(grid["direction"]))
    measures = [("median_days", "median days\nto an answer"), ("response_ratio", "share answered\nwithin the window"),
                ("hawkes_cross_excitation", "Hawkes\ncross-excitation")]
    if "share_escalate" in grid.columns:
        measures.append(("share_escalate", "share of labelled\nanswers escalating"))
    fig, axes = plt.subplots(len(measures), len(directions), figsize=(4.4 * len(directions), 2.3 * len(measures) + 0.9),
                             sharex=True, squeeze=False)
    styles = {"exclude": "-", "include": "--"}
    values = [m for m, _ in measures]
    dedups = sorted(set(grid["dedup"]), key=lambda d: (d != "on", str(d)))
    same = len(dedups) > 1 and all(
        grid[grid["dedup"] == d].sort_values(["direction", "ties", "window_days"])[values].reset_index(drop=True)
        .equals(grid[grid["dedup"] == dedups[0]].sort_values(["direction", "ties", "window_days"])[values].reset_index(drop=True))
        for d in dedups[1:])
    drawn = dedups[:1] if same else dedups
    for j, direction in enumerate(directions):
        src, dst = direction.split(" -> ")
        color = colors.get(src) or _FALLBACK_COLORS[j % len(_FALLBACK_COLORS)]
        for i, (column, name) in enumerate(measures):
            ax = axes[i, j]
            rows = grid[(grid["direction"] == direction) & grid["dedup"].isin(drawn)]
            for (dedup, tie), group in rows.groupby(["dedup", "ties"], sort=True):
                group = group.sort_values("window_days")
                filled = dedup == dedups[0]
                ax.plot(group["window_days"], group[column], marker="o", markersize=4, color=color,
                        markerfacecolor=color if filled else "white", linestyle=styles.get(tie, ":"), linewidth=1.2)
            ax.set_ylabel(name, fontsize=8)
            ax.tick_params(labelsize=7)
            if i == 0:
                ax.set_title(f"{labels.get(src, src)} \u2192 {labels.get(dst, dst)}", fontsize=9, color=color)
            if i == len(measures) - 1:
                ax.set_xlabel("response window (days)", fontsize=8)
    tie_names = {"exclude": "same-day event: not an answer (ties: exclude)",
                 "include": "same-day event: an answer (ties: include)"}
    handles = [Line2D([], [], color="0.3", linestyle=styles[t], label=tie_names[t]) for t in styles if t in set(grid["ties"])]
    if same:
        handles.append(Line2D([], [], color="0.3", marker="o", linestyle="none",
                              label=f"dedup {' = '.join(map(str, dedups))} (identical results)"))
    else:
        handles += [Line2D([], [], color="0.3", marker="o", linestyle="none",
                           markerfacecolor="0.3" if d == dedups[0] else "white", label=f"dedup {d}") for d in dedups]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False, bbox_to_anchor=(0.5, 0.0))
    shown = f"\ndrawn with {', '.join(drawn_choices)} (the table gives the other choices)" if drawn_choices else ""
    fig.suptitle("How the results move with the window, the tie rule and dedup (colour: the side whose events are answered)"
                 + shown, fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
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
        # a time band (lo, hi] holds days lo + 1 .. hi
        ax.set_xticks(range(len(t_bands)), [f"{lo + 1:g}" if lo + 1 == hi else f"{lo + 1:g}–{hi:g}" for lo, hi in t_bands],
                      fontsize=8)
        ax.set_yticks(range(len(d_bands)), [f"{lo:g}–{hi:g}" for lo, hi in d_bands], fontsize=8)
        ax.set_xlabel("days after the first event (inclusive)")
        ax.set_ylabel("distance (km)")
        src, dst = (s.strip() for s in direction.split("->"))
        ax.set_title(f"{labels.get(src, src)} \u2192 {labels.get(dst, dst)}", fontsize=10)
    if image is not None:
        bar = fig.colorbar(image, ax=axes[0].tolist(), label="observed / expected pairs (log scale)", shrink=0.9)
        bar.ax.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
        bar.ax.yaxis.set_minor_formatter(mticker.NullFormatter())
    fig.suptitle(f"Pairs close in space and time against chance (outlined: p < {alpha:g})", fontsize=11)
    return fig


# --- escalation: severity ladder, response curves, deterrence (issue 15) ----------------------

__all__ += ["episode_levels", "interrupted_series", "response_curves"]


def episode_levels(
    events: pd.DataFrame,
    *,
    sides: Sequence[str],
    start: object,
    end: object,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    title: str | None = None,
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
    title : str, optional
        The figure's title (above the legend); by default the episode's first and last day.

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
    ax.set_xlabel("date", fontsize=8)
    ax.set_ylabel("severity level", fontsize=8)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=7, frameon=False)
    ax.set_title(title or f"Episode of {pd.Timestamp(start):%d %b %Y} to {pd.Timestamp(end):%d %b %Y}", fontsize=9, loc="left",
                 pad=28)
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
        ax.plot(part["date"], part["fitted"], color=color, linewidth=1.8,
                label="fitted segments" if segment == "before" else None)
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


__all__ += ["interrupted_series_panels"]


def interrupted_series_panels(
    fitted: pd.DataFrame,
    summary: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    ncols: int = 2,
) -> plt.Figure:
    """Every interrupted time series of a report, one panel per named day and side.

    Each panel is :func:`interrupted_series` (observed weekly averages, the fitted segments and
    the earlier trend carried on), titled with the named day, its level change with the
    interval and its placebo p-value; one legend, above the panels, names the lines.

    Parameters
    ----------
    fitted, summary : DataFrame
        ``ITSResult.fitted`` and ``ITSResult.summary`` of
        :func:`analysis.deterrence.interrupted_time_series`; panels follow the summary's rows.
    labels, colors : mapping, optional
        Side key -> label / colour.
    ncols : int
        Panels per row.
    """
    labels, colors = dict(labels or {}), dict(colors or {})
    rows = summary.reset_index(drop=True)
    if rows.empty:
        raise ValueError("the interrupted time series summary is empty: no named day to draw")
    ncols = max(1, min(ncols, len(rows)))
    nrows = -(-len(rows) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(6 * ncols, 3.0 * nrows), squeeze=False)
    for k, row in rows.iterrows():
        ax = axes[k // ncols, k % ncols]
        interrupted_series(fitted, name=row["name"], side=row["side"], label=labels.get(row["side"], row["side"]),
                           color=colors.get(row["side"]), ax=ax)
        for text in list(ax.texts):  # the named day is in the title
            text.remove()
        change = row["level_change"]
        if np.isfinite(change) and np.isfinite(row["level_low"]):
            estimate = f"level change {change:.2f} ({row['level_low']:.2f}\u2013{row['level_high']:.2f})"
        elif change == 0 or np.isposinf(change):
            estimate = "no event in a segment"
        else:
            estimate = "no finite estimate"
        placebo = f"placebo p = {row['placebo_p']:.2f}" if np.isfinite(row["placebo_p"]) else "no placebo p"
        day = pd.Timestamp(row["date"])
        ax.set_title(f"{row['name']} ({day.day} {day:%b %Y})\n{estimate}, {placebo}", fontsize=8, loc="left")
        ax.xaxis.set_major_locator(mdates.MonthLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
        if k == 0:
            handles, names = ax.get_legend_handles_labels()
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    for k in range(len(rows), nrows * ncols):
        axes[k // ncols, k % ncols].set_visible(False)
    fig.supxlabel("date", fontsize=8)
    top = 1 - 0.45 / fig.get_figheight()  # room for the legend: about 0.45 inch
    fig.legend(handles, names, loc="upper center", ncol=len(names), fontsize=8, frameon=False, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, top))
    return fig
