"""Did they hit back near where they were hit? The two-stream space-time interaction test.

Knox (1964) counted pairs of cases close in both space and time and compared the count with what
the two margins alone would give. For two event streams - one side's events A and the other
side's events B - the question is directional: how many (A event, then B event) pairs fall within
``d`` km and ``t`` days, against the count when the link between A's times and places and B's is
broken (Braithwaite & Johnson 2012, on insurgent attacks and counter-insurgency in Iraq, use
this form; PySAL's ``pointpats`` and R's ``surveillance`` test a single stream only).

Cells
    Distance bands ``[d_lo, d_hi)`` km (great-circle, :mod:`analysis.geo`) x time bands
    ``(t_lo, t_hi]`` days, where the lag is B's day minus A's day: same-day pairs (lag 0, order
    unknown at day precision) are counted only if a time band starts below 0.
Null
    A's dates are randomly permuted among A's events (``redraw="permute"``, the classic Knox
    null, the default): A keeps its calendar - its busy and quiet months, and so whatever season
    it shares with B - and loses only which place had which date, so an excess of close pairs
    means interaction in space *and* time. Or A's dates are shifted by one random whole number of
    days, wrapping around the study period (``redraw="shift"``, as in the response-ratio null):
    that also breaks the shared calendar, so on two streams that rise and fall together (a
    campaign, a war) every cell shows an excess, and the table measures co-timing as much as
    nearness. B and every place stay as they are. ``expected`` is the mean count over the draws,
    ``ratio`` = observed / expected, and the one-sided ``p_value`` = (1 + draws with a count >=
    observed) / (1 + draws). Draws are counted one after another: memory grows with the events,
    not with the draws.
Events
    A are the triggers of one side and B the events of the other side eligible as responses,
    under the response rule's kinds, severity and theatre (:func:`analysis.cycles.prepare_events`);
    the rule's window and distance are not used (the bands replace them). Events without
    coordinates cannot be placed and are left out (``events_without_coordinates`` counts them).

References
----------
Knox, E. G. (1964). The detection of space-time interactions. Journal of the Royal Statistical
Society, Series C, 13(1), 25-30.
Braithwaite, A., & Johnson, S. D. (2012). Space-time modeling of insurgency and
counterinsurgency in Iraq. Journal of Quantitative Criminology, 28(1), 31-48.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.cycles import prepare_events
from analysis.geo import Cubes, batches, chord_km, xyz_km
from analysis.heap import pages_kept
from analysis.response import ResponseRule

__all__ = ["OPTIONS", "REDRAWS", "SPACETIME_COLUMNS", "check_options", "knox_test"]

REDRAWS = ("shift", "permute")

#: Columns of the space-time table, in order.
SPACETIME_COLUMNS = ("direction", "from_side", "to_side", "d_lo_km", "d_hi_km", "t_lo_days", "t_hi_days", "observed",
                     "expected", "ratio", "p_value", "draws", "redraw", "pairs_from", "pairs_to", "events_without_coordinates")


#: The options a profile's ``spacetime`` section may give (keywords of :func:`knox_test`).
OPTIONS = ("distance_bands_km", "time_bands_days", "n_draws", "redraw")


def check_options(options: object, *, where: str = "spacetime") -> dict:
    """Check a profile's ``spacetime`` section; return it as keywords of :func:`knox_test`.

    Raises
    ------
    ValueError
        Naming ``where`` and the key, on an unknown key (with the closest valid one) or a value of
        the wrong type.
    """
    import difflib

    if not isinstance(options, dict):
        raise ValueError(f"{where}: must be a mapping with keys among {', '.join(OPTIONS)} (or null: no test), got {options!r}")
    for key, value in options.items():
        if key not in OPTIONS:
            close = difflib.get_close_matches(str(key), OPTIONS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"{where}: unknown key {key!r}{hint} (keys are: {', '.join(OPTIONS)})")
        if key == "n_draws" and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{where}: n_draws must be a whole number >= 1, got {value!r}")
        if key == "redraw" and value not in REDRAWS:
            raise ValueError(f"{where}: redraw must be one of {', '.join(REDRAWS)}, got {value!r}")
        if key in ("distance_bands_km", "time_bands_days"):
            if not isinstance(value, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                raise ValueError(f"{where}: {key} must be a list of numbers (band edges), got {value!r}")
            try:
                _edges(value, key)
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
    return dict(options)


def _edges(values: Sequence[float], what: str) -> np.ndarray:
    edges = np.asarray(values, dtype=float)
    if edges.ndim != 1 or len(edges) < 2 or not np.all(np.diff(edges) > 0):
        raise ValueError(f"{what} must be at least two increasing numbers (band edges), got {list(values)!r}")
    return edges


class _PairCounter:
    """Counts (A event, then B event) pairs per distance band x time band, for any dates of A.

    A and B keep their places; only A's dates change from draw to draw. When the pairs of A and
    B events within the largest distance number at most ``budget`` (whatever their dates), they
    are listed once, sorted by (A event, distance band, B's day), and each draw counts with
    one binary search per A event, distance band and time edge. Otherwise each draw lists the
    pairs close in time and space afresh, in batches (:mod:`analysis.geo`).
    """

    def __init__(self, a_xyz: np.ndarray, b_day: np.ndarray, b_xyz: np.ndarray, d_edges: np.ndarray,
                 t_edges: np.ndarray, *, first_day: int, budget: int):
        self.a_xyz, self.b_day, self.b_xyz = a_xyz, b_day, b_xyz
        self.n_d, self.n_t = len(d_edges) - 1, len(t_edges) - 1
        self.t_edges = t_edges.astype(np.int64)
        # a pair is in distance band i when chord_i <= chord < chord_{i+1} (chords keep the order)
        self.chord2 = np.array([chord_km(float(d)) ** 2 for d in d_edges])
        self.cubes = Cubes(b_xyz, np.arange(len(b_day)), len(b_day), chord_km(float(d_edges[-1])))
        self.first_day = first_day
        self.width = int(b_day.max() - first_day + 2) if len(b_day) else 1  # B's days, from first_day, fit below it
        query, start, stop = self.cubes.ranges(a_xyz, np.zeros(len(a_xyz), np.int64), np.full(len(a_xyz), len(b_day)))
        self.listed = int((stop - start).sum()) <= budget
        if self.listed:
            keys = []
            for qi, ci in batches(query, start, stop):
                bi = self.cubes.index[ci]
                band = self._band(qi, bi)
                ok = band >= 0
                group = qi[ok].astype(np.int64) * self.n_d + band[ok]
                keys.append(group * self.width + (b_day[bi[ok]] - first_day))
            self.keys = np.sort(np.concatenate(keys)) if keys else np.zeros(0, np.int64)

    def _band(self, qi: np.ndarray, bi: np.ndarray) -> np.ndarray:
        chord2 = ((self.a_xyz[qi] - self.b_xyz[bi]) ** 2).sum(axis=1)
        band = np.searchsorted(self.chord2, chord2, side="right") - 1  # [lo, hi)
        return np.where(band < self.n_d, band, -1)

    def counts(self, a_day: np.ndarray, block: int = 100_000) -> np.ndarray:
        """Pair counts, distance bands x time bands, with A on ``a_day``."""
        out = np.zeros((self.n_d, self.n_t), dtype=np.int64)
        if not len(a_day) or not len(self.b_day):
            return out
        if self.listed:
            # F(a, band, x): B events of that band with day <= a's day + x; a time band (lo, hi]
            # holds F(hi) - F(lo)
            for lo in range(0, len(a_day), block):
                days = a_day[lo:lo + block] - self.first_day
                group = (np.arange(lo, lo + len(days), dtype=np.int64)[:, None] * self.n_d + np.arange(self.n_d)[None, :])
                y = np.clip(days[:, None, None] + self.t_edges[None, None, :] + 1, 0, self.width)
                needles = group[:, :, None] * self.width + y
                found = np.searchsorted(self.keys, needles.ravel()).reshape(needles.shape)
                out += np.diff(found, axis=2).sum(axis=0)
            return out
        t_lo, t_hi = int(self.t_edges[0]), int(self.t_edges[-1])
        lo = np.searchsorted(self.b_day, a_day + t_lo, side="right")  # B's positions with day in (a + t_lo, a + t_hi]
        hi = np.searchsorted(self.b_day, a_day + t_hi, side="right")
        flat = np.zeros(self.n_d * self.n_t, dtype=np.int64)
        for qi, ci in batches(*self.cubes.ranges(self.a_xyz, lo, hi)):
            bi = self.cubes.index[ci]
            d_band = self._band(qi, bi)
            t_band = np.searchsorted(self.t_edges, self.b_day[bi] - a_day[qi], side="left") - 1  # (lo, hi]
            ok = (d_band >= 0) & (t_band >= 0) & (t_band < self.n_t)
            flat += np.bincount(d_band[ok] * self.n_t + t_band[ok], minlength=len(flat))
        return flat.reshape(self.n_d, self.n_t)


def knox_test(
    events: pd.DataFrame,
    rule: ResponseRule,
    *,
    study_start: str | pd.Timestamp,
    distance_bands_km: Sequence[float] = (0, 1, 5, 10, 25, 50),
    time_bands_days: Sequence[int] = (0, 1, 3, 7, 14, 30),
    n_draws: int = 199,
    seed: int = 0,
    redraw: str = "permute",
    pair_budget: int = 20_000_000,
    **columns,
) -> pd.DataFrame:
    """Two-stream Knox test in both directions: observed and expected pair counts per band.

    Parameters
    ----------
    events : DataFrame
        Canonical events of two sides with ``latitude`` and ``longitude``.
    rule : ResponseRule
        Says which events are triggers (A) and eligible answers (B), and the study end.
    study_start : date
        First day of the period a shift wraps around.
    distance_bands_km : sequence of float
        Edges of the distance bands, km (``[lo, hi)``).
    time_bands_days : sequence of int
        Edges of the time bands, days (``(lo, hi]``).
    n_draws : int
        Draws of the null.
    seed : int
        Seed of the draws (``numpy.random.default_rng``).
    redraw : {"shift", "permute"}
        How A's dates are redrawn (see the module notes).
    pair_budget : int
        Largest number of (A, B) pairs within the largest distance, whatever their dates, that
        are listed once and reused by every draw (about 16 bytes each); beyond it each draw lists
        the pairs close in time afresh (slower, less memory).

    Returns
    -------
    DataFrame
        One row per direction x distance band x time band: :data:`SPACETIME_COLUMNS`.
        ``pairs_from`` and ``pairs_to`` count the located A and B events.
    """
    if redraw not in REDRAWS:
        raise ValueError(f"redraw must be one of {REDRAWS}, got {redraw!r}")
    d_edges = _edges(distance_bands_km, "distance_bands_km")
    t_edges = _edges(time_bands_days, "time_bands_days")
    if d_edges[0] < 0:
        raise ValueError(f"distance_bands_km cannot start below 0, got {list(distance_bands_km)!r}")
    if np.any(t_edges != np.floor(t_edges)):
        raise ValueError(f"time_bands_days must be whole days, got {list(time_bands_days)!r}")
    inp = prepare_events(events, rule.replace(max_distance_km=None), **columns)
    if len(inp.sides) != 2:
        raise ValueError(f"the space-time test needs exactly two sides; the events have {list(inp.sides)}")
    start = int(pd.Timestamp(study_start).to_datetime64().astype("datetime64[D]").astype(np.int64))
    span = inp.end_day - start + 1
    if len(inp) and inp.day.min() < start:
        raise ValueError("every event must lie within the study period to be shifted around it")
    rng = np.random.default_rng(seed)
    rows = []
    for src in inp.sides:
        dst = next(s for s in inp.sides if s != src)
        a = (inp.side == inp.sides.index(src)) & inp.trigger
        b = (inp.side == inp.sides.index(dst)) & inp.response
        unplaced = int((a & ~inp.located).sum() + (b & ~inp.located).sum())
        a &= inp.located
        b &= inp.located
        a_day, a_xyz = inp.day[a], xyz_km(inp.lat[a], inp.lon[a])
        b_day, b_xyz = inp.day[b], xyz_km(inp.lat[b], inp.lon[b])  # in event order: days ascending
        counter = _PairCounter(a_xyz, b_day, b_xyz, d_edges, t_edges, first_day=start, budget=pair_budget)
        observed = counter.counts(a_day)
        draws = np.empty((n_draws, *observed.shape), dtype=np.int64)
        with pages_kept():  # each draw frees what the next one allocates (analysis/heap.py)
            for i in range(n_draws):
                if redraw == "shift":
                    moved = start + (a_day - start + rng.integers(1, span)) % span
                else:
                    moved = rng.permutation(a_day)
                draws[i] = counter.counts(moved)
        expected = draws.mean(axis=0) if n_draws else np.full(observed.shape, np.nan)
        extreme = (draws >= observed[None]).sum(axis=0)
        for i in range(len(d_edges) - 1):
            for j in range(len(t_edges) - 1):
                rows.append({
                    "direction": f"{src} -> {dst}", "from_side": src, "to_side": dst,
                    "d_lo_km": float(d_edges[i]), "d_hi_km": float(d_edges[i + 1]),
                    "t_lo_days": int(t_edges[j]), "t_hi_days": int(t_edges[j + 1]),
                    "observed": int(observed[i, j]), "expected": float(expected[i, j]),
                    "ratio": float(observed[i, j] / expected[i, j]) if expected[i, j] > 0 else np.nan,
                    "p_value": (1 + int(extreme[i, j])) / (1 + n_draws), "draws": n_draws, "redraw": redraw,
                    "pairs_from": int(a.sum()), "pairs_to": int(b.sum()), "events_without_coordinates": unplaced,
                })
    table = pd.DataFrame(rows, columns=list(SPACETIME_COLUMNS))
    return table.astype({"direction": "string", "from_side": "string", "to_side": "string", "redraw": "string"})
