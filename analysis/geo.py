"""Distances on the Earth, and finding the events near others without comparing every pair.

Distances are great-circle distances on a sphere of the mean Earth radius (6,371.0088 km, IUGG).
A point is kept as its position in space (km from the Earth's centre); two points are within a
great-circle distance ``d`` exactly when the straight line between them (the chord) is at most
``2 R sin(d / 2R)``, which needs no trigonometry per pair.

To find the events near a point, events are bucketed in cubes whose side is the chord: every
event within the chord of a point lies in the point's cube or one of the 26 around it. Queries
return ranges of a sorted array, which :func:`batches` expands into pairs a few million at a
time, so memory stays bounded however many pairs there are.
"""

from __future__ import annotations

from itertools import product

import numpy as np

__all__ = ["EARTH_RADIUS_KM", "Cubes", "batches", "chord_km", "great_circle_km", "xyz_km"]

#: Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088
_PAIR_BATCH = 2_000_000  # pairs expanded at once
_NEEDLES = 200_000  # cube look-ups made at once


def xyz_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the sphere of radius :data:`EARTH_RADIUS_KM`, in km (rows of NaN where unknown)."""
    la, lo = np.radians(np.asarray(lat, dtype=float)), np.radians(np.asarray(lon, dtype=float))
    return EARTH_RADIUS_KM * np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def chord_km(distance_km: float) -> float:
    """The straight-line length through the sphere of a great-circle distance (at most the diameter)."""
    return 2 * EARTH_RADIUS_KM * np.sin(min(distance_km / (2 * EARTH_RADIUS_KM), np.pi / 2))


def great_circle_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle distances between rows of two arrays of :func:`xyz_km` points."""
    chord = np.sqrt(((np.asarray(a) - np.asarray(b)) ** 2).sum(axis=-1))
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, chord / (2 * EARTH_RADIUS_KM)))


class Cubes:
    """Points bucketed in cubes of side ``cell`` km, each with an order key, to find fast the
    points near a query that fall in a range of keys.

    Parameters
    ----------
    xyz : array (n, 3)
        The points (:func:`xyz_km`), none missing.
    key : array of int
        A non-negative order key per point below ``key_bound`` (e.g. its position in event
        order); within a cube, points are kept sorted by it.
    key_bound : int
        One more than the largest key.
    cell : float
        Side of the cubes in km: the largest distance (as a chord) a query will ask about.
    """

    def __init__(self, xyz: np.ndarray, key: np.ndarray, key_bound: int, cell: float):
        self.cell = max(float(cell), 0.01)  # keeps cube codes within int64
        self.m = int(np.ceil(EARTH_RADIUS_KM / self.cell)) + 2
        self.k = 2 * self.m + 1
        code = self._code(xyz)
        by_cube = np.lexsort((key, code))
        code = code[by_cube]
        #: position of each point (in the input) in cube order
        self.index = by_cube
        self.cubes, first = np.unique(code, return_index=True)
        rank = np.repeat(np.arange(len(self.cubes)), np.diff(np.append(first, len(code))))
        self.bound = int(key_bound)
        self.sorted_key = rank * self.bound + np.asarray(key)[by_cube]  # ascending: by cube, then key
        k = self.k
        self.offsets = np.array([(dx * k + dy) * k + dz for dx, dy, dz in product((-1, 0, 1), repeat=3)], dtype=np.int64)

    def _code(self, xyz: np.ndarray) -> np.ndarray:
        g = np.floor(np.asarray(xyz) / self.cell).astype(np.int64) + self.m
        return (g[:, 0] * self.k + g[:, 1]) * self.k + g[:, 2]

    def ranges(self, xyz: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each query point and each cube around it, the points whose key lies in ``[lo, hi)``.

        Returns ``(query, start, stop)``: the query's row, and a range of :attr:`index`.
        Queries are searched sorted by (cube, ``lo``), one neighbouring cube at a time, so each
        binary search starts where the previous one ended.
        """
        code = self._code(xyz)
        lo, hi = np.asarray(lo), np.asarray(hi)
        order = np.lexsort((lo, code))
        code, lo, hi = code[order], lo[order], hi[order]
        out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        # few queries: all 27 cubes in one search; many: one cube at a time (sorted needles)
        step = int(np.clip(_NEEDLES // max(len(code), 1), 1, len(self.offsets)))
        for first in range(0, len(self.offsets), step):
            offsets = self.offsets[first:first + step]
            near = (code[None, :] + offsets[:, None]).ravel()
            rows = np.tile(np.arange(len(code)), len(offsets))
            idx = np.searchsorted(self.cubes, near)
            found = idx < len(self.cubes)
            found[found] = self.cubes[idx[found]] == near[found]
            rows, idx = rows[found], idx[found]
            base = idx * self.bound
            start = np.searchsorted(self.sorted_key, base + lo[rows])
            stop = np.searchsorted(self.sorted_key, base + hi[rows])
            keep = stop > start
            out.append((order[rows[keep]], start[keep], stop[keep]))
        return tuple(np.concatenate(parts) for parts in zip(*out))


def batches(query: np.ndarray, start: np.ndarray, stop: np.ndarray, limit: int = _PAIR_BATCH):
    """Expand ranges into ``(query, index)`` pairs, at most about ``limit`` pairs at a time
    (a single range longer than ``limit`` comes whole)."""
    counts = stop - start
    ends = np.cumsum(counts)
    begin = 0
    while begin < len(counts):
        base = ends[begin - 1] if begin else 0
        end = max(int(np.searchsorted(ends, base + limit, side="right")), begin + 1)
        c = counts[begin:end]
        rep = np.repeat(np.arange(begin, end), c)
        within = np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)
        yield query[rep], start[rep] + within
        begin = end
