"""How the main results move with the analyst's choices: the sensitivity grid.

For each combination of a response window, merging duplicate reports or not, a rule for
same-day events and a placing of week- and month-precision dates, the grid records per
direction the median interval to an answer (among answered events,
:func:`analysis.cycles.summarise_cycles`), the response ratio (share of events answered within
the window, :func:`analysis.permutation.response_ratio` with ``k_days`` = the window), and the
Hawkes cross-excitation (:func:`analysis.hawkes.fit_hawkes`); and, for each tolerance of the
severity ladder, the shares of answers that escalate, match and de-escalate
(:func:`analysis.severity.label_answers`). Every cell is the report's response rule with only
its window and tie rule changed, so the grid moves one choice at a time around the report's own
results.

The Hawkes fit does not depend on the window. Its treatment of same-day events follows the tie
rule: ``"exclude"`` (a same-day event never answers) is the discrete daily model, in which
same-day events do not excite each other; ``"include"`` places events at random times within the
day (seeded jitter), so half of same-day exchanges count as responses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from analysis.cycles import build_cycles, summarise_cycles
from analysis.hawkes import fit_hawkes
from analysis.permutation import response_ratio
from analysis.response import ResponseRule
from analysis.schema import imprecisely_dated, place_imprecise_dates
from analysis.severity import UNKNOWN, label_answers

__all__ = ["HAWKES_TIES", "sensitivity_grid"]

#: The Hawkes treatment of same-day events matching each tie rule of the pairing.
HAWKES_TIES = {"exclude": "discrete", "include": "jitter"}


def sensitivity_grid(
    events: Mapping[str, pd.DataFrame],
    rule: ResponseRule,
    *,
    sides: Sequence[str],
    study_start,
    windows: Sequence[int] = (7, 14, 30, 60),
    ties: Sequence[str] = ("exclude", "include"),
    imprecise_dates: Sequence[str] = ("midpoint",),
    tolerances: Sequence[int] = (),
    hawkes: bool = True,
    seed: int = 0,
) -> pd.DataFrame:
    """The results under every combination of window, dedup, tie rule, placing of imprecise dates
    and tolerance of the severity ladder.

    Parameters
    ----------
    events : mapping
        Dedup setting -> events, e.g. ``{"on": deduplicated, "off": undeduplicated}``.
    rule : ResponseRule
        The report's response rule (its study end is the grid's).
    sides : two str
    study_start : date
    windows : sequence of int
        Response windows in days.
    ties : sequence of {"exclude", "include"}
    imprecise_dates : sequence of {"midpoint", "dropped", "earliest", "latest"}
        Where events dated to a week or a month go: as they are (the middle of the week),
        left out, or at the first or last day they may have happened
        (:func:`analysis.schema.place_imprecise_dates`).
    tolerances : sequence of int
        Tolerances of the severity ladder (levels within which an answer matches its trigger);
        each adds the shares of answers that escalate, match and de-escalate. Empty: none
        (the events then need no severity columns; with tolerances they need those of
        :func:`analysis.severity.assign_severity`).
    hawkes : bool
        Whether to fit the Hawkes model (one fit per dedup x tie rule).
    seed : int
        Seed of the Hawkes jitter.

    Returns
    -------
    DataFrame
        One row per dedup x tie rule x placing of dates x window x direction: ``dedup``,
        ``ties``, ``dates``, ``window_days``, ``direction`` (``"<from> -> <to>"``), ``events``,
        ``median_days``, ``response_ratio``, ``hawkes_cross_excitation`` (expected events of
        ``to`` triggered by one event of ``from``; the Hawkes model reads day-precise events
        only, so it does not move with the placing of dates). With ``tolerances``, one row per
        tolerance too: ``tolerance``, ``answers_labelled`` (answers whose label the levels
        decide), ``answers_unknown`` (answers whose label is unknown: a level unknown and its
        bounds undecided) and ``share_escalate``, ``share_match``, ``share_de-escalate`` (of the
        labelled answers); the other columns repeat across tolerances.
    """
    if len(imprecise_dates) > 1 and not all(imprecisely_dated(frame).any() for frame in events.values()):
        # every placing leaves events without week or month dates as they are: their cells are
        # computed once and repeated for each placing, in the grid's order
        parts = []
        for dedup, frame in events.items():
            placings = imprecise_dates if imprecisely_dated(frame).any() else imprecise_dates[:1]
            for tie in ties:
                part = sensitivity_grid({dedup: frame}, rule, sides=sides, study_start=study_start, windows=windows,
                                        ties=[tie], imprecise_dates=placings, tolerances=tolerances, hawkes=hawkes,
                                        seed=seed)
                parts += [part] if len(placings) > 1 else [part.assign(dates=dates) for dates in imprecise_dates]
        return pd.concat(parts, ignore_index=True)
    a, b = sides
    study_end = rule.study_end
    rows = []
    for dedup, frame in events.items():
        sided = frame[frame["side"].isin([a, b])]
        for tie in ties:
            cross = {}
            if hawkes:
                day_only = sided[sided["date_precision"] == "day"]
                fit = fit_hawkes(day_only, sides=[a, b], ties=HAWKES_TIES[tie], seed=seed, start=study_start, end=study_end)
                cross = dict(zip(fit.excitation["direction"], fit.excitation["alpha"]))
            for dates in imprecise_dates:
                placed = place_imprecise_dates(sided, dates)
                for window in windows:
                    cell = rule.replace(window_days=window, ties=tie)
                    cycles = build_cycles(placed, cell)
                    summary = summarise_cycles(cycles).set_index("trigger_side")
                    ratios = response_ratio(placed, cell, k_days=window).set_index("from_side")
                    labels = {t: label_answers(cycles, placed, tolerance=t) for t in tolerances}
                    for src, dst in ((a, b), (b, a)):
                        direction = f"{src} -> {dst}"
                        row = {
                            "dedup": dedup, "ties": tie, "dates": dates, "window_days": window, "direction": direction,
                            "events": int(summary.loc[src, "triggers"]) if src in summary.index else 0,
                            "median_days": summary.loc[src, "median_days"] if src in summary.index else float("nan"),
                            "response_ratio": ratios.loc[src, "ratio"] if src in ratios.index else float("nan"),
                            "hawkes_cross_excitation": cross.get(direction, float("nan")),
                        }
                        if not tolerances:
                            rows.append(row)
                        for t, answers in labels.items():
                            label = answers.loc[answers["trigger_side"] == src, "escalation"].dropna()
                            known = label[label != UNKNOWN]
                            rows.append({**row, "tolerance": t, "answers_labelled": len(known),
                                         "answers_unknown": len(label) - len(known),
                                         **{f"share_{what}": float((known == what).mean()) if len(known) else float("nan")
                                            for what in ("escalate", "match", "de-escalate")}})
    return pd.DataFrame(rows)
