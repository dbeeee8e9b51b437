"""Loaders: one module per input format, each returning a :class:`LoadResult`.

Every loader keeps the accounting identity ``read == accepted + rejected + filtered + merged``: a
record that cannot become a canonical event goes to the rejects table with its row, column and
reason; a record a loader leaves out on purpose (e.g. a GDELT event outside the dyad) is counted
as filtered; a record combined with others into one event (e.g. per-fatality rows summed into an
event) is counted as merged; nothing goes away uncounted.

Loaders that infer who initiated an event (ACLED's actor1 is not always the attacker) put the
initiator in ``actor``, the other party in ``target``, and why in ``initiator_reason``;
:func:`analysis.dyads.assign_sides` then adds the side pattern that matched.
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
    filtered : int
        Records read and deliberately left out (outside the dyad, the period...), not errors.
    merged : int
        Records combined into an event made from several records (each such event counts once
        as accepted; its other records count here).
    notes : tuple of str
        Anything the reader should know about this load (e.g. a skipped HXL row).
    """

    events: pd.DataFrame
    rejects: pd.DataFrame
    source: str
    read: int
    filtered: int = 0
    merged: int = 0
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.read != len(self.events) + len(self.rejects) + self.filtered + self.merged:
            raise AssertionError(
                f"{self.source}: read {self.read} records but accepted {len(self.events)}, "
                f"rejected {len(self.rejects)}, filtered {self.filtered} and merged {self.merged}; "
                "every record must be accounted for"
            )

    @property
    def counts(self) -> dict[str, object]:
        """``{"source", "read", "accepted", "rejected", "filtered", "merged"}`` for reports."""
        return {
            "source": self.source,
            "read": self.read,
            "accepted": len(self.events),
            "rejected": len(self.rejects),
            "filtered": self.filtered,
            "merged": self.merged,
        }

    def summary(self) -> str:
        """One line: ``<source>: read N, accepted A, rejected R[, filtered F][, merged M]``."""
        c = self.counts
        line = f"{c['source']}: read {c['read']}, accepted {c['accepted']}, rejected {c['rejected']}"
        return line + "".join(f", {k} {c[k]}" for k in ("filtered", "merged") if c[k])


#: Source formats a dyad spec can list, and the loader for each. Every loader takes the file
#: path first, accepts ``spec=`` (the dyad spec, for loaders that infer initiators or filter to
#: the dyad) and returns a :class:`LoadResult`.
FORMATS = {
    "table": "analysis.sources.table:load_table",
    "acled": "analysis.sources.acled:load_acled",
    "ucdp": "analysis.sources.ucdp:load_ucdp",
    "gdelt": "analysis.sources.gdelt:load_gdelt",
    "fatalities": "analysis.sources.fatalities:load_fatalities",
    "news": "analysis.sources.news:load_news",
}

#: Loaders that use the dyad spec (the others are format readers only).
USES_SPEC = {"acled", "ucdp", "gdelt", "fatalities", "news"}


def load_source(entry: dict, *, spec=None, root: str | None = None) -> LoadResult:
    """Load one ``sources:`` entry of a dyad spec.

    Parameters
    ----------
    entry : dict
        ``format`` (one of :data:`FORMATS`), ``path`` (relative to the project root), an
        optional ``obtain`` text saying how to get the file, and the loader's own keyword
        arguments (e.g. ``column_map``, ``defaults``, ``source``).
    spec : DyadSpec, optional
        Passed to the loaders that use it (:data:`USES_SPEC`).

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
    if fmt in USES_SPEC:
        options.setdefault("spec", spec)
    return getattr(import_module(module), func)(path, **options)
