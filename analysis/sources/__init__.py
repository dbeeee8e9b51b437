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

import difflib
import inspect
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["FORMATS", "LoadResult", "OptionError", "SourceError", "load_source"]


class SourceError(ValueError):
    """A file, or a record of it, cannot be read; the message names the file, line and column.

    Attributes
    ----------
    file : str
        The file, as the tables name it (:func:`analysis.paths.display_path`).
    line : int or None
        The line of the file (1-based, the header is line 1 when it comes first).
    column : str or None
        The column of the file, by its header name (or a character position, as text).
    """

    def __init__(self, file: str, message: str, *, line: int | None = None, column: str | None = None):
        self.file, self.line, self.column = file, line, column
        where = file + (f", line {line}" if line is not None else "") + (f", column {column}" if column else "")
        super().__init__(f"{where}: {message}")


class OptionError(ValueError):
    """A loader option (a key of a source entry in a dyad spec) is wrong; the message names the key.

    :func:`load_source` adds the dyad spec's file and the entry's path to the message.
    """

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(message)


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


#: Keys of a source entry read by :func:`load_source` itself, not passed to the loader.
ENTRY_KEYS = ("format", "path", "obtain", "name")


def loader_options(fmt: str) -> tuple[str, ...]:
    """The keys a source entry of format ``fmt`` may give, besides :data:`ENTRY_KEYS`."""
    from importlib import import_module

    module, func = FORMATS[fmt].split(":")
    params = inspect.signature(getattr(import_module(module), func)).parameters
    return tuple(k for k, p in params.items() if p.kind is p.KEYWORD_ONLY and k != "spec")


def load_source(entry: dict, *, spec=None, root: str | None = None) -> LoadResult:
    """Load one ``sources:`` entry of a dyad spec.

    Parameters
    ----------
    entry : dict
        ``format`` (one of :data:`FORMATS`), ``path`` (relative to the project root), an
        optional ``obtain`` text saying how to get the file, and the loader's own keyword
        arguments (e.g. ``column_map``, ``defaults``, ``source``).
    spec : DyadSpec, optional
        Passed to the loaders that use it (:data:`USES_SPEC`); its file is named in errors
        about the entry's keys.

    Raises
    ------
    FileNotFoundError
        If the file is missing; the message includes the entry's ``obtain`` text.
    OptionError
        If the format is unknown, a key is not one the format's loader takes (with the closest
        valid key), or the loader refuses a value; the message names the dyad spec's file, the
        entry's path and the key.
    SourceError
        If the file cannot be read; every error of a loader names the file (an error that does
        not is given the file's name here).
    """
    from importlib import import_module

    from analysis.paths import display_path, resolve

    where = f"{spec.path}: " if spec is not None and getattr(spec, "path", None) else ""
    if not isinstance(entry, dict):
        raise OptionError("sources", f"{where}a sources entry must be a mapping (format, path, ...), got {entry!r}")
    fmt = entry.get("format")
    if fmt not in FORMATS:
        raise OptionError("format", f"{where}source {entry.get('path')!r}: unknown format {fmt!r}; "
                                    f"known formats: {', '.join(FORMATS)}")
    if "path" not in entry:
        raise OptionError("path", f"{where}a {fmt} source has no 'path'")
    where += f"source {entry['path']}: "
    allowed = loader_options(fmt)
    for key in entry:
        if key not in ENTRY_KEYS and key not in allowed:
            close = difflib.get_close_matches(str(key), [*allowed, *ENTRY_KEYS], n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise OptionError(str(key), f"{where}unknown key '{key}'{hint}; "
                                        f"a {fmt} source takes: {', '.join([*ENTRY_KEYS, *allowed])}")
    options = {k: v for k, v in entry.items() if k not in ENTRY_KEYS}
    path = resolve(entry["path"], root)
    if not path.exists():
        how = entry.get("obtain") or "Check the path, or put the file there."
        raise FileNotFoundError(f"{where}file not found. {how}")
    module, func = FORMATS[fmt].split(":")
    if fmt in USES_SPEC:
        options.setdefault("spec", spec)
    try:
        return getattr(import_module(module), func)(path, **options)
    except OptionError as exc:
        raise OptionError(exc.key, f"{where}{exc}") from exc
    except (SourceError, FileNotFoundError):
        raise
    except Exception as exc:  # an error that does not name the file gets its name here
        name = display_path(path)
        if name in str(exc) or str(path) in str(exc):
            raise
        raise SourceError(name, f"cannot be read as {fmt}: {type(exc).__name__}: {exc}") from exc
