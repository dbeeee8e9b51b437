"""The gazetteer of a dyad: places kept as data (a CSV named by the spec's ``news.gazetteer``),
with their level, coordinates and the side that holds a site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.paths import display_path, resolve

__all__ = ["LEVEL_RANK", "Gazetteer", "load_gazetteer", "spec_gazetteer"]


# --------------------------------------------------------------------------------------------
# Gazetteer

#: Place levels, most specific first (a rule keeps the most specific place a sentence names).
LEVEL_RANK = {"site": 0, "area": 1, "city": 2, "province": 3, "region": 3, "country": 4}


@dataclass(frozen=True)
class Gazetteer:
    """Places with the patterns that find them in text. See :func:`load_gazetteer`."""

    places: pd.DataFrame
    path: str | None = None
    patterns: tuple[tuple[str, re.Pattern], ...] = field(default=(), repr=False)

    def ancestors(self, location: str) -> list[str]:
        """``location`` and every place it is part of, innermost first."""
        chain, seen = [], set()
        parent = self.places["part_of"].to_dict()
        while location and location not in seen and location in parent:
            chain.append(location)
            seen.add(location)
            location = parent[location] or ""
        return chain

    def nested(self, a: str | None, b: str | None) -> bool:
        """True when either place is missing or one lies within the other."""
        return a is None or b is None or a in self.ancestors(b) or b in self.ancestors(a)

    def rank(self, location: str) -> int:
        return LEVEL_RANK.get(str(self.places.at[location, "level"]), 5)


def load_gazetteer(path: str | Path) -> Gazetteer:
    """Read a gazetteer CSV.

    Columns: ``location`` (the name events get), ``pattern`` (a case-insensitive regular
    expression), ``level`` (site, area, city, province, region or country), optional
    ``part_of`` (the location it lies in), ``held_by`` (the dyad side whose site it is),
    ``latitude``, ``longitude``, ``admin1``, ``country``, ``source_url``, ``note``.

    Raises
    ------
    ValueError
        Naming the file, row and column, for a missing column, a duplicate location, an unknown
        level, a pattern that is not a regular expression or a ``part_of`` that is not a
        location of the file.
    """
    path = Path(path)
    places = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in ("location", "pattern", "level"):
        if col not in places.columns:
            raise ValueError(f"{path}: gazetteer has no '{col}' column; columns are: {', '.join(places.columns)}")
    for col in ("part_of", "held_by", "latitude", "longitude", "admin1", "country", "source_url"):
        if col not in places.columns:
            places[col] = ""
    compiled = []
    for row, place in enumerate(places.itertuples(index=False), start=2):
        if place.level not in LEVEL_RANK:
            raise ValueError(f"{path}, row {row}, column level: {place.level!r} is not one of {', '.join(LEVEL_RANK)}")
        try:
            compiled.append((place.location, re.compile(place.pattern, re.IGNORECASE)))
        except re.error as exc:
            raise ValueError(f"{path}, row {row}, column pattern: not a regular expression ({exc})") from exc
        if place.part_of and place.part_of not in set(places["location"]):
            raise ValueError(f"{path}, row {row}, column part_of: {place.part_of!r} is not a location of the gazetteer")
    dup = places["location"].duplicated()
    if dup.any():
        row = int(dup.to_numpy().nonzero()[0][0]) + 2
        raise ValueError(f"{path}, row {row}, column location: {places['location'][row - 2]!r} appears twice")
    for col in ("latitude", "longitude"):
        places[col] = pd.to_numeric(places[col].replace("", pd.NA), errors="raise").astype("Float64")
    return Gazetteer(places.set_index("location", drop=False), display_path(path), tuple(compiled))


def spec_gazetteer(spec) -> Gazetteer:
    """The gazetteer a dyad spec names in ``news.gazetteer`` (a path from the project root)."""
    path = (spec.raw.get("news") or {}).get("gazetteer")
    if not path:
        raise ValueError(f"{spec.path}: the spec has no news.gazetteer (a CSV of places, see load_gazetteer)")
    return load_gazetteer(resolve(path))


