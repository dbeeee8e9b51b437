"""Does one side answer the other more often, and sooner, than chance?

Response ratio
    The share of side A's triggers that the other side answers, under the response rule
    (:mod:`analysis.response`), within ``k_days`` days. Only triggers whose ``k_days``
    follow-up ends by the study end are counted. It is the share computed from the cycles
    table: ``~censored & (interval_days <= k_days)`` among those triggers.
Median interval
    The median number of days from a trigger to its answer, among answered triggers (within the
    rule's window).
Circular-shift null (permutation test)
    Shifting all of one side's event dates by the same random number of days, wrapping around
    the study period, keeps each side's own clustering, rate and places but breaks any timing
    link between the sides. Each draw pairs the shifted events with the same function as the
    cycles table (:func:`analysis.cycles.pair_events`), so the null answers the question under
    exactly the rule of the observed statistic. The p-value of an observed statistic is
    ``(1 + #draws at least as extreme) / (1 + draws)``. Draws are made one after another: memory
    grows with the number of events, not with events x draws.
Degenerate test
    When the other side acts so often that almost every event is followed by one of its events
    anyway, the null itself answers nearly every trigger: the response ratio cannot exceed it
    and the test has no power. The response-ratio row is marked ``degenerate`` when the null's
    2.5% quantile of the ratio is at least ``degenerate_threshold`` (0.95); the median-interval
    row when every draw gives the observed median and that median is the shortest possible
    (0 days when same-day answers can count, else 1): answers cannot come any sooner than
    chance brings them. The stage then warns
    (:class:`DegenerateTestWarning`) and the report says that timing alone cannot separate
    answers from background here: narrow the rule (``max_distance_km``, trigger and response
    kinds), and read the space-time interaction test and the daily-count models instead.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.cycles import _SLOT, Group, PairingInput, pair_direction, prepare_events
from analysis.heap import keep_pages, pages_kept
from analysis.response import ResponseRule
from analysis.warnings import DegenerateTestWarning

__all__ = ["DegenerateTestWarning", "PermutationResult", "permutation_test", "response_ratio"]



def _check_horizon(rule: ResponseRule, sides: Sequence[str], k_days: int) -> None:
    if isinstance(k_days, bool) or not isinstance(k_days, (int, np.integer)) or k_days < 0:
        raise ValueError(f"k_days must be a whole number of days >= 0, got {k_days!r}")
    for s in sides:
        if k_days > rule.window(s):
            raise ValueError(
                f"k_days ({k_days}) is longer than the response window of side {s!r} ({rule.window(s)} days): "
                "an answer after the window is not a response; shorten k_days or lengthen window_days"
            )


def _direction(src: str, sides: Sequence[str]) -> str:
    return f"{src} -> {', '.join(s for s in sides if s != src)}"


def _direction_stats(t_day: np.ndarray, follow: np.ndarray, reason: np.ndarray, k_days: int, end_day: int) -> tuple[float, float,
                                                                                                                    int, int]:
    """(response ratio, median interval, triggers with a full k-day follow-up, followed) of one
    direction, from :func:`analysis.cycles.pair_direction`'s answer for each trigger."""
    answered = reason == 0
    eligible = t_day + k_days <= end_day
    n_eligible = int(eligible.sum())
    n_followed = int((eligible & answered & (follow <= k_days)).sum())
    intervals = follow[answered]
    return (n_followed / n_eligible if n_eligible else np.nan, float(np.median(intervals)) if len(intervals) else np.nan,
            n_eligible, n_followed)


def _copies(group: Group, shifts: list[int], *, band: int, start_day: int, span_days: int) -> Group:
    """One copy of ``group`` per draw, as one group in event order: copy ``j`` has its dates
    shifted ``shifts[j]`` days later, wrapping around the ``span_days`` days from ``start_day``
    (the circular shift; 0 leaves it as it is), and is then moved ``j * band`` days later, so
    that draws pair in one call without meeting each other.

    A shift rotates a group: days ascend, so the events that wrap are its last ones, and they
    become its first. Times of day move with their dates: each key keeps its place in its day.
    ``pos`` of the copies is their position in the stack (they stand for no event of the input).
    """
    parts = {name: [] for name in ("day", "key", "timed", "located", "xyz")}
    for j, shift in enumerate(shifts):
        moved = group.day - start_day + shift
        k = len(group) - int(np.count_nonzero(moved >= span_days))  # the first event that wraps
        offset = j * band
        for name in ("timed", "located") + (("xyz",) if len(group.xyz) else ()):
            values = getattr(group, name)
            parts[name].append(values if k == len(group) else np.concatenate([values[k:], values[:k]]))
        if k == len(group):  # nothing wraps: the days move, the order stays
            day = group.day + (shift + offset)
            key = group.key + (shift + offset) * _SLOT
        else:
            day = np.concatenate([moved[k:] - span_days, moved[:k]]) + start_day
            key = np.concatenate([group.key[k:] + (shift - span_days) * _SLOT, group.key[:k] + shift * _SLOT]) + offset * _SLOT
            day = day + offset
        parts["day"].append(day)
        parts["key"].append(key)
    cat = {name: np.concatenate(values) if values else np.empty(0) for name, values in parts.items()}
    return Group(pos=np.arange(len(cat["day"])), day=cat["day"], key=cat["key"], timed=cat["timed"], located=cat["located"],
                 xyz=cat["xyz"] if len(group.xyz) else group.xyz)


class _Directions:
    """The groups each direction pairs: side s's triggers against the other sides' eligible answers."""

    def __init__(self, inp: PairingInput, rule: ResponseRule, k_days: int):
        self.sides, self.rule, self.k_days = inp.sides, rule, k_days
        self.end_day = inp.end_day
        self.triggers = {s: Group.of(inp, (inp.side == i) & inp.trigger) for i, s in enumerate(inp.sides)}
        self.answers = {s: Group.of(inp, (inp.side != i) & inp.response) for i, s in enumerate(inp.sides)}

    def observed(self) -> dict[str, tuple[float, float, int, int]]:
        """Per trigger side, the statistics of :func:`_direction_stats` on the events as they are."""
        out = {}
        for s in self.sides:
            t = self.triggers[s]
            _, follow, reason, _ = pair_direction(t, self.answers[s], self.rule.window(s), self.end_day, self.rule)
            out[s] = _direction_stats(t.day, follow, reason, self.k_days, self.end_day)
        return out

    def chunk(self, side: str, shift_side: str, shifts: list[int], start_day: int, span_days: int) -> tuple[np.ndarray,
                                                                                                            np.ndarray]:
        """Response ratio and median interval of ``side``'s triggers in each of a few draws.

        The draws' copies of the events are stacked on one time line, far enough apart
        (``span_days`` plus the window) that no answer crosses from one to the next, and paired
        in one call.
        """
        t, c = self.triggers[side], self.answers[side]
        window = self.rule.window(side)
        band = span_days + window + 1
        spread = {"band": band, "start_day": start_day, "span_days": span_days}
        fixed = [0] * len(shifts)
        ts = _copies(t, shifts if side == shift_side else fixed, **spread)
        cs = _copies(c, fixed if side == shift_side else shifts, **spread)
        offsets = np.repeat(np.arange(len(shifts), dtype=np.int64) * band, len(t))
        _, follow, reason, _ = pair_direction(ts, cs, window, self.end_day + offsets, self.rule)
        # each draw's triggers are one row: statistics row by row
        shape = (len(shifts), len(t))
        t_day = (ts.day - offsets).reshape(shape)
        follow, answered = follow.reshape(shape), (reason == 0).reshape(shape)
        eligible = t_day + self.k_days <= self.end_day
        n_eligible = eligible.sum(axis=1)
        followed = (eligible & answered & (follow <= self.k_days)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(n_eligible > 0, followed / n_eligible, np.nan)
        with warnings.catch_warnings():  # a draw with no answered trigger has no median
            warnings.simplefilter("ignore", RuntimeWarning)
            median = np.nanmedian(np.where(answered, follow, np.nan), axis=1) if len(t) else np.full(len(shifts), np.nan)
        return ratio, median

    def shifted(self, shift_side: str, shifts: np.ndarray, *, start_day: int, span_days: int,
                chunk_events: int = 2_000_000, n_jobs: int = 1) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per trigger side, the response ratio and the median interval of every draw, with
        ``shift_side``'s events shifted by each of ``shifts`` around the span.

        Draws are paired in chunks (:meth:`chunk`) of at most about ``chunk_events`` events, so
        memory grows with the events, not with the draws; with ``n_jobs`` > 1 chunks run in that
        many worker processes. The chunks are the same whatever ``n_jobs``, so the result is too.
        """
        tasks = []
        for s in self.sides:
            per_chunk = max(1, chunk_events // max(len(self.triggers[s]) + len(self.answers[s]), 1))
            tasks += [(s, shifts[lo:lo + per_chunk].tolist()) for lo in range(0, len(shifts), per_chunk)]
        if n_jobs > 1 and len(tasks) > 1:
            import concurrent.futures
            import multiprocessing

            with concurrent.futures.ProcessPoolExecutor(max_workers=n_jobs, mp_context=multiprocessing.get_context("spawn"),
                                                        initializer=_worker_init, initargs=(self,)) as pool:
                results = list(pool.map(_worker_chunk, [(s, shift_side, chunk, start_day, span_days) for s, chunk in tasks]))
        else:
            with pages_kept():  # each chunk frees what the next one allocates (analysis/heap.py)
                results = [self.chunk(s, shift_side, chunk, start_day, span_days) for s, chunk in tasks]
        out = {}
        for s in self.sides:
            mine = [r for (side, _), r in zip(tasks, results) if side == s]
            out[s] = (np.concatenate([r[0] for r in mine]), np.concatenate([r[1] for r in mine]))
        return out


_WORKER: _Directions | None = None


def _worker_init(directions: _Directions) -> None:
    global _WORKER
    _WORKER = directions
    keep_pages()  # the worker only draws: freed arrays stay for the next chunk (analysis/heap.py)


def _worker_chunk(args: tuple) -> tuple[np.ndarray, np.ndarray]:
    return _WORKER.chunk(*args)


def response_ratio(events: pd.DataFrame, rule: ResponseRule, *, k_days: int = 7, **columns) -> pd.DataFrame:
    """Share of each side's triggers answered under ``rule`` within ``k_days``.

    Returns
    -------
    DataFrame
        One row per trigger side: ``direction``, ``from_side``, ``k_days``, ``triggers``
        (triggers with a full k-day follow-up), ``followed``, ``ratio``.
    """
    inp = prepare_events(events, rule, **columns)
    _check_horizon(rule, inp.sides, k_days)
    stats = _Directions(inp, rule, k_days).observed()
    return pd.DataFrame([
        {"direction": _direction(s, inp.sides), "from_side": s, "k_days": k_days, "triggers": n, "followed": f, "ratio": r}
        for s, (r, _, n, f) in stats.items()
    ])


@dataclass(frozen=True)
class PermutationResult:
    """Observed statistics, their circular-shift null distributions and p-values.

    Attributes
    ----------
    summary : DataFrame
        One row per direction x statistic: ``observed``, ``null_mean``, ``null_low`` and
        ``null_high`` (2.5% and 97.5% quantiles), ``p_value``, the ``alternative`` tested
        (response ratio greater than chance; median interval shorter than chance), ``draws``,
        ``shift_side``, ``k_days``, ``window_days``, ``triggers`` (with a full k-day
        follow-up), and ``degenerate`` with its ``degenerate_reason`` (see the module notes).
    null : DataFrame
        Every draw: ``draw``, ``shift_days``, ``direction``, ``statistic``, ``value``.
    """

    summary: pd.DataFrame
    null: pd.DataFrame


def permutation_test(
    events: pd.DataFrame,
    rule: ResponseRule,
    *,
    study_start: str | pd.Timestamp,
    k_days: int = 7,
    n_draws: int = 999,
    seed: int = 0,
    shift_side: str | None = None,
    degenerate_threshold: float = 0.95,
    n_jobs: int | None = None,
    **columns,
) -> PermutationResult:
    """Circular-shift permutation test of the response ratio and the median interval.

    Parameters
    ----------
    events : DataFrame
        Events of two sides, all dated from ``study_start`` to the rule's study end.
    rule : ResponseRule
        The response rule; its ``study_end`` (or the last event's date) ends the period the
        shift wraps around.
    study_start : date
        First day of the period the shift wraps around.
    k_days : int
        Horizon of the response ratio (at most the rule's window of each side).
    n_draws : int
        Number of shifts; each draw shifts by a uniform whole number of days in 1..T-1.
    seed : int
        Seed of the random shifts (``numpy.random.default_rng``).
    shift_side : str, optional
        Side whose dates are shifted (default: the second side in sorted order).
    degenerate_threshold : float
        The null's 2.5% quantile of the response ratio at or above which the test is degenerate.
    n_jobs : int, optional
        Worker processes for the draws (1: none; None: one per core when the draws hold more
        than about 50 million events in all, else none). The result does not depend on it.
    **columns
        Column names, as for :func:`analysis.cycles.build_cycles`.

    Returns
    -------
    PermutationResult

    Warns
    -----
    DegenerateTestWarning
        For each direction whose test is degenerate.
    """
    inp = prepare_events(events, rule, **columns)
    if len(inp.sides) != 2:
        raise ValueError(f"the permutation test needs exactly two sides; the events have {list(inp.sides)}")
    _a, b = inp.sides
    shift_side = shift_side or b
    if shift_side not in inp.sides:
        raise ValueError(f"shift_side must be one of {list(inp.sides)}, got {shift_side!r}")
    _check_horizon(rule, inp.sides, k_days)
    start = int(pd.Timestamp(study_start).to_datetime64().astype("datetime64[D]").astype(np.int64))
    span = inp.end_day - start + 1
    if len(inp) and (inp.day.min() < start or inp.day.max() > inp.end_day):
        raise ValueError("every event must lie within the study period to be shifted around it")
    rng = np.random.default_rng(seed)
    shifts = rng.integers(1, span, size=n_draws)

    directions = _Directions(inp, rule, k_days)
    observed = directions.observed()
    if n_jobs is None:
        n_jobs = (os.cpu_count() or 1) if len(inp) * n_draws > 50_000_000 else 1
    null = directions.shifted(shift_side, shifts, start_day=start, span_days=span, n_jobs=n_jobs)
    ratios = np.column_stack([null[s][0] for s in inp.sides])
    medians = np.column_stack([null[s][1] for s in inp.sides])

    summary, null_rows = [], []
    for j, s in enumerate(inp.sides):
        direction = _direction(s, inp.sides)
        obs_ratio, obs_median, n_eligible, _ = observed[s]
        rows = []
        for stat, obs, values, alternative in (("response_ratio", obs_ratio, ratios[:, j], "greater"),
                                               ("median_interval", obs_median, medians[:, j], "less")):
            finite = values[~np.isnan(values)]
            if np.isnan(obs):
                extreme = n_draws
            elif alternative == "greater":
                extreme = int(np.sum(finite >= obs))
            else:  # a draw with no answered trigger has an infinitely long median: never as extreme
                extreme = int(np.sum(finite <= obs))
            rows.append({
                "direction": direction, "statistic": stat, "observed": obs,
                "null_mean": float(finite.mean()) if len(finite) else np.nan,
                "null_low": float(np.quantile(finite, 0.025)) if len(finite) else np.nan,
                "null_high": float(np.quantile(finite, 0.975)) if len(finite) else np.nan,
                "p_value": (1 + extreme) / (1 + n_draws), "alternative": alternative,
                "draws": n_draws, "shift_side": shift_side, "k_days": k_days, "window_days": rule.window(s),
                "triggers": n_eligible,
            })
            null_rows.append(pd.DataFrame({"draw": np.arange(1, n_draws + 1), "shift_days": shifts, "direction": direction,
                                           "statistic": stat, "value": values}))
        shortest = 0 if rule.ties == "include" or inp.timed.any() else 1
        for row in rows:
            reason = _degenerate_reason(row, s, inp.sides, k_days, degenerate_threshold, shortest)
            row.update({"degenerate": bool(reason), "degenerate_reason": reason})
            if reason:
                warnings.warn(f"{direction}: {reason}", DegenerateTestWarning, stacklevel=2)
        summary += rows
    return PermutationResult(summary=pd.DataFrame(summary).astype({"degenerate_reason": "string"}),
                             null=pd.concat(null_rows, ignore_index=True))


def _degenerate_reason(row: dict, side: str, sides: Sequence[str], k_days: int, threshold: float, shortest: int) -> str:
    """Why a statistic's test cannot discriminate, or "" when it can (see the module notes)."""
    # the direction names the sides wherever the reason is shown (warning, table row, report)
    if row["statistic"] == "response_ratio" and row["null_low"] >= threshold:
        return (f"by chance alone (95% of the circular-shift draws) {row['null_low']:.0%} to {row['null_high']:.0%} of "
                f"the triggers are followed by an event of the other side within {k_days} days, so the response ratio "
                f"cannot tell answers from background")
    if row["statistic"] == "median_interval" and row["null_low"] == row["null_high"] == row["observed"] == shortest:
        return (f"every draw of the null gives the observed median interval, {row['observed']:g} day(s), the shortest "
                f"possible: answers cannot come sooner than chance brings them")
    return ""
