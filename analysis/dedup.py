"""Reports of the same event from several sources, clustered and merged, with an audit trail.

Two events are reports of the same event when they come from different sources, have the same
side, dates at most ``date_tolerance_days`` apart, and the same place: the same location name
(case-insensitive), or coordinates at most ``distance_km`` apart. Clusters are the connected
groups of such pairs, joined closest pair first (fewest days apart, then shortest distance), and
never so that two events of one source end up together: a source that lists two attacks at a
site on one day means two attacks.

The merged event takes its fields from the cluster's preferred report (the first source in
``prefer``, then the earliest date, then the event id), its date is the earliest reported date,
and for each count (fatalities, injuries, munitions) it keeps the preferred report's figure with
``<count>_min`` / ``<count>_max`` over all reports (a report's own ``_min``/``_max`` range, where
it has one, counts as well as its figure); ``url`` joins every report's URLs and
``source`` every source.

Blocking
    The candidate pairs are found without an all-pairs table: for every pair of sources, an
    equi-join on (side, place, day) per day shift finds the same-place pairs, and one on
    (side, day, cell) over a grid of cells as wide as the distance finds the near pairs (the
    exact rule then keeps those within ``distance_km``); reports of one source are never
    paired. The clustering settles each connected component of the pairs on its own, and runs
    the closest-first union-find only where a source repeats. Time O(N log N + P) and memory
    O(N + P) for P matching pairs; 1e6 reports of one source form no pair at all. The output
    equals that of the all-pairs implementation it replaced (``tests/dedup_oracle.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from analysis.schema import COUNT_COLUMNS

__all__ = ["Dedup", "dedup_events", "haversine_km"]

_EARTH_KM = 6371.0088


class Dedup(NamedTuple):
    """Result of :func:`dedup_events`: merged events and the audit of every contributing row."""

    events: pd.DataFrame
    audit: pd.DataFrame


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km (mean Earth radius 6,371.0088 km)."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(x, dtype=float)) for x in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_KM * np.arcsin(np.sqrt(a))


def _keys(events: pd.DataFrame) -> dict:
    """The columns the matching rule reads, as arrays: side and place codes (-1: missing),
    day, coordinates, source codes."""
    side = pd.factorize(events["side"], use_na_sentinel=True)[0]
    place = events["location"].astype("string").str.strip().str.lower()
    return {
        "side": side,
        "day": pd.to_datetime(events["date"]).to_numpy(dtype="datetime64[D]").astype(np.int64),
        "place": pd.factorize(place, use_na_sentinel=True)[0],
        "lat": pd.to_numeric(events["latitude"], errors="coerce").to_numpy(dtype=float, na_value=np.nan),
        "lon": pd.to_numeric(events["longitude"], errors="coerce").to_numpy(dtype=float, na_value=np.nan),
        "source": pd.factorize(events["source"], use_na_sentinel=False)[0],
    }


class _Sorted:
    """Int64 keys sorted once, for equi-joins against many shifted left keys."""

    def __init__(self, keys: np.ndarray):
        self.order = np.argsort(keys, kind="stable")
        self.keys = keys[self.order]

    def join(self, left: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions ``(i, j)`` of every pair with ``left[i] == keys[j]``, in O(n log m +
        pairs): each left key's run found by binary search."""
        low = np.searchsorted(self.keys, left, side="left")
        counts = np.searchsorted(self.keys, left, side="right") - low
        hit = np.flatnonzero(counts)
        if not len(hit):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        low, counts = low[hit], counts[hit]
        i = np.repeat(hit, counts)
        # position within each run: a running index reset at each left key's start
        starts = np.repeat(low - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        return i, self.order[starts + np.arange(len(i))]


def _cross_source_join(keys: np.ndarray, usable: np.ndarray, groups: list[np.ndarray], deltas) -> tuple:
    """Pairs ``(p, q)`` of usable events of two different sources with ``keys[p] + delta ==
    keys[q]`` for some ``delta``: each source's keys sorted once, every pair of sources
    joined for every delta."""
    found = [], []
    members = [g[usable[g]] for g in groups]
    # each source's events in key order: sorted queries make the binary searches cache-friendly
    members = [m[np.argsort(keys[m], kind="stable")] for m in members]
    for a_index, a in enumerate(members):
        for b in members[a_index + 1:]:
            if not (len(a) and len(b)):
                continue
            right, left = _Sorted(keys[b]), keys[a]
            for delta in deltas:
                i, j = right.join(left + delta)
                found[0].append(a[i])
                found[1].append(b[j])
    return _concat(found)


def _same_place_pairs(k: dict, tolerance: int, groups: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of events of two different sources with the same side and place, dates at most
    ``tolerance`` days apart: an equi-join on (side, place, day) per pair of sources and day
    shift, so that reports of one source are never paired with each other."""
    usable = (k["side"] >= 0) & (k["place"] >= 0)
    day = k["day"] - k["day"].min() + tolerance  # from tolerance to span - tolerance - 1
    span = int(day.max()) + tolerance + 1
    key = (k["side"].astype(np.int64) * (int(k["place"].max()) + 1) + k["place"]) * span + day
    return _cross_source_join(key, usable, groups, range(-tolerance, tolerance + 1))


def _near_pairs(k: dict, tolerance: int, distance_km: float, groups: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs of events of two different sources with the same side, dates at most
    ``tolerance`` days apart and coordinates possibly within ``distance_km``.

    Points on the unit sphere are binned on a grid of cells as wide as the chord of
    ``distance_km`` in the two coordinates (of x, y, z) that vary most; two points within the
    distance lie in the same or adjacent cells, so an equi-join on (side, day, cell) over the
    day shifts and the 9 cell offsets finds every pair within the distance (and some others,
    which :func:`_candidates` drops by the exact rule).
    """
    lat, lon = np.radians(k["lat"]), np.radians(k["lon"])
    usable = (k["side"] >= 0) & np.isfinite(lat) & np.isfinite(lon)
    if not usable.any():
        return _concat(([], []))
    chord = 2 * np.sin(min(distance_km / (2 * _EARTH_KM), np.pi / 2)) * (1 + 1e-9) + 1e-12
    xyz = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    axes = np.argsort(-np.nanstd(xyz[usable], axis=0))[:2]
    cells = np.where(usable[:, None], np.floor(np.nan_to_num(xyz[:, axes]) / chord), 0).astype(np.int64)
    cells -= cells[usable].min(axis=0) - 1  # from 1, so that the cells around stay in range
    width = cells[usable].max(axis=0) + 2
    day = k["day"] - k["day"].min() + tolerance
    days = int(day.max()) + tolerance + 1
    sides = int(k["side"].max()) + 1
    if float(sides) * days * float(width[0]) * float(width[1]) >= 2.0**62:
        raise ValueError(f"distance_km={distance_km} is too small for a grid over these coordinates and dates")
    key = ((k["side"].astype(np.int64) * days + day) * width[0] + cells[:, 0]) * width[1] + cells[:, 1]
    deltas = [(shift * width[0] + dx) * width[1] + dy
              for shift in range(-tolerance, tolerance + 1) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    return _cross_source_join(key, usable, groups, deltas)


def _concat(found) -> tuple[np.ndarray, np.ndarray]:
    if not found[0]:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(found[0]).astype(np.int64), np.concatenate(found[1]).astype(np.int64)


def _candidates(events: pd.DataFrame, tolerance: int, distance_km: float) -> dict:
    """Every pair of reports of the same event under the rule of the module notes, as arrays
    ``pos``, ``pos_b`` (``pos`` the earlier date, or the lower position on the same day),
    ``days_apart``, ``km`` (0 for the same place) and ``same_place``, in the order the clusters
    are joined: fewest days apart, then shortest distance, then positions.

    Blocking by source pair, side and day (and place or space) finds them in O(N log N + P)
    time and O(N + P) memory for P matching pairs, never forming the pairs of one source or of
    unrelated events.
    """
    k = _keys(events)
    groups = [np.flatnonzero(k["source"] == s) for s in range(int(k["source"].max()) + 1)] if len(events) else []
    name_i, name_j = _same_place_pairs(k, tolerance, groups)
    near_i, near_j = _near_pairs(k, tolerance, distance_km, groups)
    i, j = np.concatenate([name_i, near_i]), np.concatenate([name_j, near_j])
    # orient: earlier day first; on the same day, lower position first
    swap = (k["day"][i] > k["day"][j]) | ((k["day"][i] == k["day"][j]) & (i > j))
    pos, pos_b = np.where(swap, j, i), np.where(swap, i, j)
    n = max(len(events), 1)
    unique = np.unique(pos * n + pos_b)
    pos, pos_b = unique // n, unique % n
    days_apart = k["day"][pos_b] - k["day"][pos]
    same_place = (k["place"][pos] >= 0) & (k["place"][pos] == k["place"][pos_b])
    km = np.where(same_place, 0.0, haversine_km(k["lat"][pos], k["lon"][pos], k["lat"][pos_b], k["lon"][pos_b]))
    keep = (days_apart <= tolerance) & (same_place | (np.nan_to_num(km, nan=np.inf) <= distance_km))
    pos, pos_b, days_apart, km, same_place = pos[keep], pos_b[keep], days_apart[keep], km[keep], same_place[keep]
    order = np.lexsort((pos_b, pos, km, days_apart))
    return {"pos": pos[order], "pos_b": pos_b[order], "days_apart": days_apart[order], "km": km[order],
            "same_place": same_place[order]}


def _reasons(pairs: dict, index: np.ndarray) -> np.ndarray:
    """The audit's reason of the pairs at ``index``, e.g. "same side, 1 day(s) apart, 4.9 km
    apart" (the distance rounded to 0.1 km)."""
    same = pairs["same_place"][index]
    km = pd.Series(np.round(pairs["km"][index], 1)).astype(str).to_numpy(dtype=object)
    where = np.where(same, "same location", km + " km apart")
    days = pd.Series(pairs["days_apart"][index]).astype(str).to_numpy(dtype=object)
    return "same side, " + days + " day(s) apart, " + where


def _clusters(n: int, pairs: dict | None, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union-find over ``pairs`` in order, refusing a union that would put one source twice in
    a cluster. Returns cluster labels and, per event, the reason of the pair that first
    joined it to another ("" for none).

    Unions in different connected components of the pairs' graph never meet, so each
    component is settled on its own. In a component whose events all come from different
    sources no union is refused: the cluster is the component, and each event's first pair
    (in order) is the one that joined it, as the event is still alone when that pair comes.
    Only components where a source repeats go through the union-find, pair by pair.
    """
    why = np.full(n, "", dtype=object)
    if pairs is None or not len(pairs["pos"]):
        return np.arange(n, dtype=np.int64), why
    pos, pos_b = pairs["pos"], pairs["pos_b"]
    graph = sparse.coo_matrix((np.ones(len(pos), dtype=np.int8), (pos, pos_b)), shape=(n, n))
    _, component = csgraph.connected_components(graph, directed=False)
    source_code = pd.factorize(pd.Series(sources, dtype=object))[0].astype(np.int64)
    n_sources = int(source_code.max()) + 1
    size = np.bincount(component)
    distinct = np.bincount(np.unique(component * n_sources + source_code) // n_sources, minlength=len(size))
    repeats = distinct < size  # a component holding two events of one source
    # each event's first pair in order
    first = np.full(n, len(pos), dtype=np.int64)
    order = np.arange(len(pos), dtype=np.int64)
    np.minimum.at(first, pos, order)
    np.minimum.at(first, pos_b, order)
    simple = np.flatnonzero((first < len(pos)) & ~repeats[component])
    why[simple] = _reasons(pairs, first[simple])
    root = component.astype(np.int64)
    hard = np.flatnonzero(repeats[component[pos]])
    if len(hard):
        parent = list(range(n))
        # sources of each root's cluster as a bit set (codes < 62) or a Python set
        masks = [1 << c for c in source_code.tolist()] if n_sources < 62 else [{c} for c in source_code.tolist()]
        texts = _reasons(pairs, hard).tolist()
        joined = {}

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for text, a, b in zip(texts, pos[hard].tolist(), pos_b[hard].tolist()):
            ra, rb = find(a), find(b)
            if ra == rb or masks[ra] & masks[rb]:
                continue
            parent[rb] = ra
            masks[ra] = masks[ra] | masks[rb]
            joined.setdefault(a, text)
            joined.setdefault(b, text)
        if joined:
            why[list(joined)] = list(joined.values())
        involved = np.flatnonzero(repeats[component])
        # roots of the union-find, numbered after the components so that they never collide
        root[involved] = len(size) + np.array([find(i) for i in involved.tolist()], dtype=np.int64)
    return np.unique(root, return_inverse=True)[1].ravel(), why


def _first_per_group(label: np.ndarray, pref: np.ndarray, source: np.ndarray, date: np.ndarray,
                     event_id: np.ndarray) -> np.ndarray:
    """Position of the preferred report of each cluster (first by preference, source, date,
    event id; then position), indexed by cluster label."""
    order = np.lexsort((np.arange(len(label)), event_id, date, source, pref, label))
    first = np.ones(len(order), dtype=bool)
    first[1:] = label[order][1:] != label[order][:-1]
    return order[first]


def dedup_events(
    events: pd.DataFrame,
    *,
    date_tolerance_days: int = 1,
    distance_km: float = 25.0,
    prefer: Sequence[str] = (),
    enabled: bool = True,
) -> Dedup:
    """Cluster reports of the same event across sources and merge each cluster.

    Parameters
    ----------
    events : DataFrame
        Canonical events with ``side`` (events without a side are never merged). Not modified.
    date_tolerance_days : int
        Largest gap between the dates of two reports of one event.
    distance_km : float
        Largest distance between two reports' coordinates (used when the location names differ).
    prefer : sequence of str
        Sources in order of preference for the merged event's fields; others come after, by
        name.
    enabled : bool
        False leaves every event its own cluster (the audit says "dedup off"), so that the
        pipeline's tables have the same columns either way.

    Returns
    -------
    Dedup
        ``events``: one row per cluster (singletons unchanged), with ``cluster_id``,
        ``cluster_size`` and ``<count>_min``/``<count>_max``; in the input's order of preferred
        reports. ``audit``: one row per input event with ``cluster_id``, ``event_id``,
        ``source``, ``date``, ``location``, ``side``, the counts, ``role`` (``kept`` or
        ``merged``), ``kept_event_id`` and ``reason`` (why it joined the cluster).
        ``len(events in) == len(events) + (audit.role == "merged").sum()``.
    """
    n = len(events)
    sources = events["source"].to_numpy()
    pairs = _candidates(events, date_tolerance_days, distance_km) if (n and enabled) else None
    label, why = _clusters(n, pairs, sources)

    rank = {s: i for i, s in enumerate(prefer)}
    pref = events["source"].map(rank).fillna(len(rank)).to_numpy(dtype=np.int64)
    kept_pos = _first_per_group(  # preferred report per cluster, indexed by label
        label, pref, pd.factorize(events["source"], sort=True)[0],
        pd.to_datetime(events["date"]).to_numpy(), pd.factorize(events["event_id"], sort=True)[0])
    kept_of = kept_pos[label]
    cluster_id = events["event_id"].to_numpy()[kept_of]
    size = np.bincount(label, minlength=len(kept_pos))
    kept_sorted = np.sort(kept_pos)
    labels_kept = label[kept_sorted]
    several = size[label] > 1  # reports in clusters of two or more: the only ones to combine

    merged = events.iloc[kept_sorted].copy()
    grouped = events.assign(_label=label).groupby("_label", sort=False)
    merged["date"] = grouped["date"].min().reindex(labels_kept).to_numpy()
    for col in COUNT_COLUMNS:
        if col in events.columns:
            best = pd.to_numeric(events[col], errors="coerce")
            # a report that already carries a range (its own _min/_max) contributes the range
            low = pd.to_numeric(events.get(f"{col}_min", best), errors="coerce").fillna(best)
            high = pd.to_numeric(events.get(f"{col}_max", best), errors="coerce").fillna(best)
            merged[f"{col}_min"] = low.groupby(label).min().reindex(labels_kept).astype("Int64").to_numpy()
            merged[f"{col}_max"] = high.groupby(label).max().reindex(labels_kept).astype("Int64").to_numpy()
            merged[col] = merged[col].fillna(merged[f"{col}_max"])
    if "url" in events.columns:
        text = events["url"].fillna("")
        spaced = text.astype(str).str.contains(r"\s", regex=True).to_numpy(dtype=bool)
        urls = _per_cluster(text, label, several, _join_urls, redo=spaced)
        merged["url"] = pd.Series(urls[labels_kept], dtype=object).replace("", pd.NA).to_numpy()
    joined_sources = _per_cluster(events["source"], label, several, lambda s: "+".join(sorted(set(s))))
    merged["source"] = joined_sources[labels_kept]
    merged["cluster_id"] = cluster_id[kept_sorted]
    merged["cluster_size"] = size[labels_kept]

    audit_cols = [c for c in ("event_id", "source", "date", "location", "side", *COUNT_COLUMNS) if c in events.columns]
    audit = events[audit_cols].reset_index(drop=True).copy()
    audit.insert(0, "cluster_id", cluster_id)
    audit["role"] = np.where(np.arange(n) == kept_of, "kept", "merged")
    audit["kept_event_id"] = cluster_id
    audit["reason"] = np.where(several, why, "no other report matched" if enabled else "dedup off")
    audit = audit.sort_values(["cluster_id", "role", "event_id"], kind="stable").reset_index(drop=True)
    return Dedup(merged.reset_index(drop=True), audit)


def _join_urls(urls) -> str:
    """Every URL once, in report order (a report's field may hold several, space-separated)."""
    return " ".join(dict.fromkeys(" ".join(urls).split()))


def _per_cluster(values: pd.Series, label: np.ndarray, several: np.ndarray, combine, *,
                 redo: np.ndarray | None = None) -> np.ndarray:
    """``combine`` of each cluster's values (in input order), indexed by label. A single
    report keeps its value unless ``redo`` marks it (its value could change through
    ``combine``), so that a million singletons cost no Python call each."""
    out = np.empty(int(label.max()) + 1 if len(label) else 0, dtype=object)
    single = ~several
    out[label[single]] = values[single].astype(object).to_numpy()
    again = single & redo if redo is not None else np.zeros(len(label), dtype=bool)
    if again.any():
        out[label[again]] = [combine([v]) for v in values[again].astype(object)]
    if several.any():
        rows = np.flatnonzero(several)
        rows = rows[np.argsort(label[rows], kind="stable")]  # by cluster, in input order within one
        labels = label[rows]
        texts = values.to_numpy(dtype=object)[rows].tolist()
        bounds = [0, *(np.flatnonzero(labels[1:] != labels[:-1]) + 1).tolist(), len(rows)]
        out[labels[bounds[:-1]]] = [combine(texts[a:b]) for a, b in itertools.pairwise(bounds)]
    return out
