"""Distances on the Earth, and finding the events near others without comparing every pair.

Distances are great-circle distances on a sphere of the mean Earth radius (6,371.0088 km, IUGG).
A point is kept as its position in space (km from the Earth's centre); two points are within a
great-circle distance ``d`` exactly when the straight line between them (the chord) is at most
``2 R sin(d / 2R)``, which needs no trigonometry per pair.

To find the events near a point, events are bucketed in cubes whose side is twice the chord:
every event within the chord of a point lies in the point's cube or in one of the 7 cubes on the
point's nearer side. Queries return ranges of a sorted array, which :func:`batches` expands into pairs a few million at a
time, so memory stays bounded however many pairs there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product

import numpy as np

__all__ = [
    "EARTH_RADIUS_KM",
    "Cubes",
    "batches",
    "chord_km",
    "great_circle_km",
    "great_circle_km_between",
    "xyz_columns_km",
    "xyz_km",
]

#: Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088
_PAIR_BATCH = 2_000_000  # pairs expanded at once
_DENSE_CUBES = 4_000_000  # cubes in a look-up table (32 MB) at most


def xyz_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the sphere of radius :data:`EARTH_RADIUS_KM`, in km (rows of NaN where unknown)."""
    return np.column_stack(xyz_columns_km(lat, lon))


def xyz_columns_km(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The columns of :func:`xyz_km` (x, y, z), each a contiguous array."""
    la, lo = np.radians(np.asarray(lat, dtype=float)), np.radians(np.asarray(lon, dtype=float))
    cos_la = np.cos(la)
    return EARTH_RADIUS_KM * (cos_la * np.cos(lo)), EARTH_RADIUS_KM * (cos_la * np.sin(lo)), EARTH_RADIUS_KM * np.sin(la)


def chord_km(distance_km: float) -> float:
    """The straight-line length through the sphere of a great-circle distance (at most the diameter)."""
    return 2 * EARTH_RADIUS_KM * np.sin(min(distance_km / (2 * EARTH_RADIUS_KM), np.pi / 2))


def great_circle_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle distances between rows of two arrays of :func:`xyz_km` points."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    return _arc_km(d[..., 0] ** 2 + d[..., 1] ** 2 + d[..., 2] ** 2)


def great_circle_km_between(columns: Sequence[np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Great-circle distances from point ``i`` to point ``j`` (index arrays) of points given by
    their coordinate ``columns`` (:func:`xyz_columns_km`, or ``xyz.T``), the same values as
    :func:`great_circle_km`: a coordinate at a time, four times faster than taking rows."""
    squares = None
    for coordinate in columns:
        coordinate = np.ascontiguousarray(coordinate)
        d = coordinate[i] - coordinate[j]
        d *= d
        squares = d if squares is None else squares + d
    return _arc_km(squares)


def _arc_km(chord_squared: np.ndarray) -> np.ndarray:
    """The great-circle length of chords, given their squares."""
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(chord_squared) / (2 * EARTH_RADIUS_KM)))


class Cubes:
    """Points bucketed in cubes, each point with an order key, to find fast the points near a
    query that fall in a range of keys.

    The cubes' side is twice the largest chord a query asks about, so the points within that
    chord of a query lie in the query's own cube or in one of the 7 cubes on its nearer side
    (per axis: the neighbour on the side of the cube's centre the query is on), 8 look-ups
    instead of 27. Cubes are found in a table over the points' bounding box when it is small
    enough (a few million cubes), else by binary search among the occupied cubes.

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
        The largest distance (as a chord, km) a query will ask about.
    """

    def __init__(self, xyz: np.ndarray, key: np.ndarray, key_bound: int, cell: float):
        self.side = 2 * max(float(cell), 0.005)
        grid = np.floor(np.asarray(xyz) / self.side).astype(np.int64)
        # a box of cubes around the points, one cube of margin on each side
        self.low = grid.min(axis=0) - 1 if len(grid) else np.zeros(3, np.int64)
        self.shape = (grid.max(axis=0) + 2 - self.low) if len(grid) else np.ones(3, np.int64)
        code = self._code(grid)
        by_cube = np.lexsort((key, code))
        code = code[by_cube]
        #: position of each point (in the input) in cube order
        self.index = by_cube
        cubes, first = np.unique(code, return_index=True)
        rank = np.repeat(np.arange(len(cubes)), np.diff(np.append(first, len(code))))
        self.bound = int(key_bound)
        self.sorted_key = rank * self.bound + np.asarray(key)[by_cube]  # ascending: by cube, then key
        size = int(np.prod(self.shape))
        if size <= _DENSE_CUBES:
            self.table = np.full(size, -1, dtype=np.int64)  # cube code -> rank, or -1 when empty
            self.table[cubes] = np.arange(len(cubes))
            self.cubes = None
        else:
            self.table, self.cubes = None, cubes

    def _code(self, grid: np.ndarray) -> np.ndarray:
        """Codes of cubes inside the box; -1 for cubes outside it."""
        g = grid - self.low
        inside = ((g >= 0) & (g < self.shape)).all(axis=1)
        code = (g[:, 0] * self.shape[1] + g[:, 1]) * self.shape[2] + g[:, 2]
        return np.where(inside, code, -1)

    def _rank(self, code: np.ndarray) -> np.ndarray:
        """Rank of each cube among the occupied ones, -1 when empty or outside the box."""
        if self.table is not None:
            return np.where(code >= 0, self.table[np.maximum(code, 0)], -1)
        idx = np.searchsorted(self.cubes, code)
        found = (code >= 0) & (idx < len(self.cubes))
        found[found] = self.cubes[idx[found]] == code[found]
        return np.where(found, idx, -1)

    def ranges(self, xyz: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each query point and each of the 8 cubes that may hold points near it, the points
        whose key lies in ``[lo, hi)``.

        Returns ``(query, start, stop)``: the query's row, and a range of :attr:`index`.
        Queries are searched sorted by (cube, ``lo``), so each binary search starts near where
        the previous one ended.
        """
        scaled = np.asarray(xyz) / self.side
        grid = np.floor(scaled).astype(np.int64)
        toward = np.where(scaled - grid < 0.5, -1, 1)  # the nearer neighbour on each axis
        lo, hi = np.asarray(lo), np.asarray(hi)
        order = np.lexsort((lo, self._code(grid)))
        grid, toward, lo, hi = grid[order], toward[order], lo[order], hi[order]
        out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for step in product((0, 1), repeat=3):
            rank = self._rank(self._code(grid + toward * np.asarray(step)))
            rows = np.flatnonzero(rank >= 0)
            base = rank[rows] * self.bound
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
