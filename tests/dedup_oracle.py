"""The test oracle for analysis.dedup: its implementation at commit 40e1918, before blocking.

It forms every same-side pair of events within the date tolerance (an all-pairs table per day),
so it is quadratic in the events of a day; kept verbatim (below this paragraph) as the reference
the blocked implementation must equal on small tables.

Reports of the same event from several sources, clustered and merged, with an audit trail.

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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

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


def _pairs(events: pd.DataFrame, tolerance: int, distance_km: float) -> pd.DataFrame:
    """Candidate duplicate pairs (positions i < j) with the reason they match."""
    frame = pd.DataFrame(
        {
            "pos": np.arange(len(events)),
            "side": events["side"].to_numpy(),
            "day": pd.to_datetime(events["date"]).to_numpy(dtype="datetime64[D]").astype(np.int64),
            "place": events["location"].astype("string").str.strip().str.lower().to_numpy(),
            "lat": pd.to_numeric(events["latitude"], errors="coerce").to_numpy(dtype=float, na_value=np.nan),
            "lon": pd.to_numeric(events["longitude"], errors="coerce").to_numpy(dtype=float, na_value=np.nan),
            "source": events["source"].to_numpy(),
        }
    )
    frame = frame[frame["side"].notna()]
    found = []
    for shift in range(tolerance + 1):  # pair each event with those `shift` days later
        later = frame.assign(day=frame["day"] - shift)
        joined = frame.merge(later, on=["side", "day"], suffixes=("", "_b"))
        joined = joined[(joined["source"] != joined["source_b"]) & ((shift > 0) | (joined["pos"] < joined["pos_b"]))]
        found.append(joined.assign(days_apart=shift))
    pairs = pd.concat(found, ignore_index=True)
    same_place = (pairs["place"] == pairs["place_b"]).fillna(False).astype(bool)
    km = haversine_km(pairs["lat"], pairs["lon"], pairs["lat_b"], pairs["lon_b"])
    near = np.nan_to_num(km, nan=np.inf) <= distance_km
    keep = same_place.to_numpy() | near
    pairs = pairs.assign(km=np.where(same_place.to_numpy(), 0.0, km))[keep]
    pairs["reason"] = (
        "same side, " + pairs["days_apart"].astype(str) + " day(s) apart, "
        + np.where(same_place.to_numpy()[keep], "same location", pairs["km"].round(1).astype(str) + " km apart")
    )
    return pairs.sort_values(["days_apart", "km", "pos", "pos_b"], kind="stable")[["pos", "pos_b", "reason"]]


def _clusters(n: int, pairs: pd.DataFrame, sources: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
    """Union-find over ``pairs`` in order, refusing a union that would put one source twice in
    a cluster. Returns cluster labels and, per joined event, the pair reason that joined it."""
    parent = list(range(n))
    members_sources = [{sources[i]} for i in range(n)]
    reason: dict[int, str] = {}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b, why in pairs.itertuples(index=False):
        ra, rb = root(int(a)), root(int(b))
        if ra == rb or members_sources[ra] & members_sources[rb]:
            continue
        parent[rb] = ra
        members_sources[ra] |= members_sources[rb]
        reason.setdefault(int(a), why)
        reason.setdefault(int(b), why)
    labels = np.array([root(i) for i in range(n)], dtype=np.int64)
    return np.unique(labels, return_inverse=True)[1], reason


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
    no_pairs = pd.DataFrame(columns=["pos", "pos_b", "reason"])
    pairs = _pairs(events, date_tolerance_days, distance_km) if (n and enabled) else no_pairs
    label, joined_by = _clusters(n, pairs, events["source"].to_numpy())

    rank = {s: i for i, s in enumerate(prefer)}
    order_key = pd.DataFrame(
        {
            "label": label,
            "pref": events["source"].map(lambda s: rank.get(s, len(rank))).to_numpy(),
            "source": events["source"].to_numpy(),
            "date": pd.to_datetime(events["date"]).to_numpy(),
            "event_id": events["event_id"].to_numpy(),
            "pos": np.arange(n),
        }
    ).sort_values(["label", "pref", "source", "date", "event_id"], kind="stable")
    kept_pos = order_key.groupby("label", sort=False)["pos"].first()  # preferred report per cluster
    kept_of = kept_pos.reindex(label).to_numpy()
    cluster_id = events["event_id"].to_numpy()[kept_of]
    size = np.bincount(label, minlength=len(kept_pos))

    merged = events.iloc[np.sort(kept_pos.to_numpy())].copy()
    labels_kept = label[np.sort(kept_pos.to_numpy())]
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
        urls = events["url"].fillna("").groupby(label).agg(lambda u: " ".join(dict.fromkeys(" ".join(u).split())))
        merged["url"] = urls.reindex(labels_kept).replace("", pd.NA).to_numpy()
    sources = events["source"].groupby(label).agg(lambda s: "+".join(sorted(set(s))))
    merged["source"] = sources.reindex(labels_kept).to_numpy()
    merged["cluster_id"] = cluster_id[np.sort(kept_pos.to_numpy())]
    merged["cluster_size"] = size[labels_kept]

    why = np.array([joined_by.get(i, "") for i in range(n)], dtype=object)
    audit_cols = [c for c in ("event_id", "source", "date", "location", "side", *COUNT_COLUMNS) if c in events.columns]
    audit = events[audit_cols].reset_index(drop=True).copy()
    audit.insert(0, "cluster_id", cluster_id)
    audit["role"] = np.where(np.arange(n) == kept_of, "kept", "merged")
    audit["kept_event_id"] = cluster_id
    audit["reason"] = np.where(size[label] > 1, why, "no other report matched" if enabled else "dedup off")
    audit = audit.sort_values(["cluster_id", "role", "event_id"], kind="stable").reset_index(drop=True)
    return Dedup(merged.reset_index(drop=True), audit)
