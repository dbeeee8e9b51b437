"""Loaders: one module per input format, each returning a :class:`LoadResult`.

Every loader keeps the accounting identity ``read == accepted + rejected``: a record that cannot
become a canonical event goes to the rejects table with its row, column and reason, never away.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["FORMATS", "LoadResult", "load_source"]


@dataclass(frozen=True)
class LoadResult:
    """Accepted events, rejected records and the counts of one load.

    Attributes
    ----------
    events : DataFrame
        Canonical events (see :mod:`analysis.schema`).
    rejects : DataFrame
        One row per rejected input record: ``raw_file, raw_row, column, value, reason``.
    source : str
        What was read (a file name).
    read : int
        Number of input records read.
    """

    events: pd.DataFrame
    rejects: pd.DataFrame
    source: str
    read: int
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.read != len(self.events) + len(self.rejects):
            raise AssertionError(
                f"{self.source}: read {self.read} records but accepted {len(self.events)} "
                f"and rejected {len(self.rejects)}; every record must be accounted for"
            )

    @property
    def counts(self) -> dict[str, object]:
        """``{"source", "read", "accepted", "rejected"}`` for reports."""
        return {
            "source": self.source,
            "read": self.read,
            "accepted": len(self.events),
            "rejected": len(self.rejects),
        }

    def summary(self) -> str:
        """One line: ``<source>: read N, accepted A, rejected R``."""
        c = self.counts
        return f"{c['source']}: read {c['read']}, accepted {c['accepted']}, rejected {c['rejected']}"


#: Source formats a dyad spec can list, and the loader for each.
FORMATS = {"table": "analysis.sources.table:load_table"}


def load_source(entry: dict, *, root: str | None = None) -> LoadResult:
    """Load one ``sources:`` entry of a dyad spec.

    Parameters
    ----------
    entry : dict
        ``format`` (one of :data:`FORMATS`), ``path`` (relative to the project root), an
        optional ``obtain`` text saying how to get the file, and the loader's own keyword
        arguments (e.g. ``column_map``, ``defaults``, ``source``).

    Raises
    ------
    FileNotFoundError
        If the file is missing; the message includes the entry's ``obtain`` text.
    ValueError
        If the format is unknown.
    """
    from importlib import import_module

    from analysis.paths import resolve

    options = {k: v for k, v in entry.items() if k not in {"format", "path", "obtain", "name"}}
    fmt = entry.get("format")
    if fmt not in FORMATS:
        raise ValueError(f"source {entry.get('path')!r}: unknown format {fmt!r}; known formats: {', '.join(FORMATS)}")
    path = resolve(entry["path"], root)
    if not path.exists():
        how = entry.get("obtain") or "check the path in the dyad spec's sources list"
        raise FileNotFoundError(f"{entry['path']}: file not found. {how}")
    module, func = FORMATS[fmt].split(":")
    return getattr(import_module(module), func)(path, **options)
