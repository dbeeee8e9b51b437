"""The canonical events table: its columns, their dtypes, and the checks every loader passes.

Every source module (:mod:`analysis.sources`) produces this table; everything downstream
(dyads, cycles, reports) reads only this table. The column list follows ``DESIGN.md`` section 3.

Columns
-------
event_id : string
    Unique, non-missing key.
date : datetime64, normalised to midnight
    The local calendar day of the event in the theatre where it happened.
date_precision : {"day", "week", "month"}
    How precisely ``date`` is known.
time_utc : datetime64 (UTC, tz-naive), optional
    Full UTC timestamp where the time of day is known, used to order same-day events.
side, target_side : string
    A side key of the dyad spec, or missing (set by :func:`analysis.dyads.assign_sides`).
actor, target : string
    Names as the source gives them.
kind : string
    One of :data:`KINDS`; the source's own type is kept in ``source_type``.
location, admin1, country : string
latitude, longitude : Float64
fatalities, injuries, munitions : Int64
    Best estimates; ``<name>_min`` / ``<name>_max`` columns may carry the range where reports
    disagree.
weight : Float64
    An optional intensity score (e.g. GDELT's Goldstein scale).
source, source_id, url, evidence, raw_file : string
    Provenance: which loader, the source's own id, one or more URLs (space separated), a short
    text, the file the row came from.
raw_row : Int64
    The row of ``raw_file`` the event came from, numbered as a spreadsheet shows it (header = 1).
side_reason : string
    Why the event has its side (written by side assignment).

Other columns are allowed and kept after the canonical ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

__all__ = [
    "EVENT_COLUMNS",
    "REQUIRED_COLUMNS",
    "KINDS",
    "DATE_PRECISIONS",
    "REJECT_COLUMNS",
    "EventsValidationError",
    "conform_events",
    "empty_events",
    "make_rejects",
    "normalise_kind",
    "validate_events",
    "value_problems",
]

#: Canonical columns in order, with their pandas dtypes.
EVENT_COLUMNS: dict[str, str] = {
    "event_id": "string",
    "date": "datetime64[ns]",
    "date_precision": "string",
    "time_utc": "datetime64[ns]",
    "side": "string",
    "actor": "string",
    "target_side": "string",
    "target": "string",
    "kind": "string",
    "source_type": "string",
    "location": "string",
    "admin1": "string",
    "country": "string",
    "latitude": "Float64",
    "longitude": "Float64",
    "fatalities": "Int64",
    "injuries": "Int64",
    "munitions": "Int64",
    "weight": "Float64",
    "source": "string",
    "source_id": "string",
    "url": "string",
    "evidence": "string",
    "raw_file": "string",
    "raw_row": "Int64",
    "side_reason": "string",
}

#: Columns that must be present and non-missing in every events table.
REQUIRED_COLUMNS: tuple[str, ...] = ("event_id", "date", "date_precision", "kind", "source")

#: Severity counts: non-negative integers, with optional ``_min`` / ``_max`` companions.
COUNT_COLUMNS: tuple[str, ...] = ("fatalities", "injuries", "munitions")

KINDS: tuple[str, ...] = (
    "airstrike",
    "drone_strike",
    "rocket",
    "mortar",
    "drone",
    "missile",
    "ied",
    "raid",
    "shooting",
    "other",
)

DATE_PRECISIONS: tuple[str, ...] = ("day", "week", "month")

#: Columns of every loader's rejects table: one row per rejected input record.
REJECT_COLUMNS: dict[str, str] = {
    "raw_file": "string",
    "raw_row": "Int64",
    "column": "string",
    "value": "string",
    "reason": "string",
}

# Words sources use for an event type, mapped to a canonical kind. Matching is on the
# lower-cased, stripped value; anything else becomes "other" with the raw value kept.
_KIND_SYNONYMS: dict[str, str] = {
    "air strike": "airstrike",
    "air strikes": "airstrike",
    "airstrikes": "airstrike",
    "air/drone strike": "airstrike",
    "drone strike": "drone_strike",
    "uav strike": "drone_strike",
    "rockets": "rocket",
    "rocket attack": "rocket",
    "katyusha": "rocket",
    "mortars": "mortar",
    "mortar attack": "mortar",
    "uav": "drone",
    "drones": "drone",
    "one-way attack drone": "drone",
    "drone attack": "drone",
    "missiles": "missile",
    "ballistic missile": "missile",
    "missile attack": "missile",
    "roadside bomb": "ied",
    "remote explosive/landmine/ied": "ied",
    "shelling/artillery/missile attack": "rocket",
    "armed clash": "shooting",
    "attack": "other",
}


class EventsValidationError(ValueError):
    """An events table breaks the canonical schema; the message names columns and rows."""


def empty_events() -> pd.DataFrame:
    """Return an events table with the canonical columns and dtypes and no rows."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in EVENT_COLUMNS.items()})


def normalise_kind(values: pd.Series) -> pd.Series:
    """Map source event types to canonical kinds.

    Parameters
    ----------
    values : Series
        Raw event types (any case, surrounding spaces allowed).

    Returns
    -------
    Series of string
        A canonical kind from :data:`KINDS` for every non-missing value; values that are neither
        a kind nor a known synonym become ``"other"`` (keep the raw value in ``source_type``).
        Missing values stay missing.
    """
    raw = values.astype("string").str.strip().str.lower()
    mapped = raw.map(lambda v: v if v in KINDS else _KIND_SYNONYMS.get(v, "other"), na_action="ignore")
    return mapped.astype("string")


def conform_events(events: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with every canonical column, canonical dtypes and canonical column order.

    Missing canonical columns are added as all-missing; extra columns are kept after the
    canonical ones in their original order. Dates are normalised to midnight.

    Raises
    ------
    EventsValidationError
        If a column cannot be converted to its canonical dtype (the message names it).
    """
    out = events.copy()
    for col, dtype in EVENT_COLUMNS.items():
        if col not in out.columns:
            out[col] = pd.Series(pd.NA, index=out.index, dtype=dtype)
            continue
        try:
            if dtype.startswith("datetime64"):
                converted = pd.to_datetime(out[col])
                if getattr(converted.dt, "tz", None) is not None:
                    converted = converted.dt.tz_convert("UTC").dt.tz_localize(None)
                converted = converted.astype("datetime64[ns]")
                out[col] = converted.dt.normalize() if col == "date" else converted
            else:
                out[col] = out[col].astype(dtype)
        except (TypeError, ValueError) as exc:
            raise EventsValidationError(
                f"events column '{col}' cannot be read as {dtype}: {exc}"
            ) from exc
    extras = [c for c in out.columns if c not in EVENT_COLUMNS]
    return out[list(EVENT_COLUMNS) + extras]


def _rows_text(events: pd.DataFrame, mask: pd.Series, limit: int = 5) -> str:
    """Describe the offending rows by position and event_id, at most ``limit`` of them."""
    idx = np.flatnonzero(np.asarray(mask, dtype=bool))
    ids = events["event_id"] if "event_id" in events.columns else None
    parts = []
    for i in idx[:limit]:
        label = f"row {i}"
        if ids is not None and not pd.isna(ids.iloc[i]):
            label += f" (event_id {ids.iloc[i]!r})"
        parts.append(label)
    more = f" and {len(idx) - limit} more" if len(idx) > limit else ""
    return ", ".join(parts) + more


def value_problems(
    events: pd.DataFrame, *, count_columns: Iterable[str] = ()
) -> list[tuple[pd.Series, str, str]]:
    """The value checks shared by :func:`validate_events` and the loaders.

    Parameters
    ----------
    events : DataFrame
        A table whose present canonical columns hold parsed values (numbers as numbers).
    count_columns : iterable of str
        Extra columns that must hold whole numbers >= 0, as the severity counts do.

    Returns
    -------
    list of (mask, column, reason)
        One entry per failing check: a boolean Series marking the offending rows, the column,
        and the reason. Checks: ``date_precision`` and ``kind`` in their vocabularies; counts
        (``fatalities``, ``injuries``, ``munitions``, their ``_min``/``_max`` and
        ``count_columns``) whole and >= 0; ``<count>_min`` <= ``<count>_max``; latitude and
        longitude in range.
    """
    found: list[tuple[pd.Series, str, str]] = []

    def add(mask: pd.Series, column: str, reason: str) -> None:
        mask = pd.Series(mask, index=events.index).fillna(False).astype(bool)
        if mask.any():
            found.append((mask, column, reason))

    if "date_precision" in events.columns:
        col = events["date_precision"]
        add(col.notna() & ~col.isin(DATE_PRECISIONS), "date_precision", f"value not in {DATE_PRECISIONS}")
    if "kind" in events.columns:
        add(events["kind"].notna() & ~events["kind"].isin(KINDS), "kind", f"value not in {KINDS}")
    bounded = [c for c in COUNT_COLUMNS if c in events.columns]
    bounded += [f"{c}_{b}" for c in COUNT_COLUMNS for b in ("min", "max") if f"{c}_{b}" in events.columns]
    for col in bounded + [c for c in count_columns if c in events.columns]:
        values = pd.to_numeric(events[col], errors="coerce").astype("Float64")
        add(events[col].notna() & values.isna(), col, "not a number")
        add(values < 0, col, "negative count")
        add(values.notna() & (values != values.round()), col, "not a whole number")
    for col in COUNT_COLUMNS:
        lo, hi = f"{col}_min", f"{col}_max"
        if lo in events.columns and hi in events.columns:
            add(pd.to_numeric(events[lo], errors="coerce") > pd.to_numeric(events[hi], errors="coerce"), lo, f"greater than {hi}")
    for col, bound in (("latitude", 90), ("longitude", 180)):
        if col in events.columns:
            add(pd.to_numeric(events[col], errors="coerce").abs() > bound, col, f"outside [-{bound}, {bound}]")
    return found


def validate_events(
    events: pd.DataFrame,
    *,
    sides: Iterable[str] | None = None,
    name: str = "events",
) -> pd.DataFrame:
    """Check an events table against the canonical schema.

    Parameters
    ----------
    events : DataFrame
        The table to check. It is not modified.
    sides : iterable of str, optional
        Allowed side keys (e.g. ``spec.side_keys``). When given, ``side`` and ``target_side``
        must be one of them or missing.
    name : str
        What to call the table in error messages (e.g. a file name).

    Returns
    -------
    DataFrame
        ``events`` itself, so the call can be chained.

    Raises
    ------
    EventsValidationError
        Listing every problem found: missing columns (with the columns present), and for each
        failing check the column and the first offending rows by position and ``event_id``.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in events.columns]
    if missing:
        raise EventsValidationError(
            f"{name} has no {', '.join(repr(c) for c in missing)} column"
            f"{'s' if len(missing) > 1 else ''}; columns are: {', '.join(map(str, events.columns))}"
        )

    problems: list[str] = []

    def check(mask: pd.Series, column: str, what: str) -> None:
        mask = pd.Series(mask, index=events.index).fillna(False).astype(bool)
        if mask.any():
            problems.append(f"column '{column}': {what} in {_rows_text(events, mask)}")

    for col in REQUIRED_COLUMNS:
        check(events[col].isna(), col, "missing value")

    ids = events["event_id"]
    check(ids.duplicated(keep=False) & ids.notna(), "event_id", "duplicate id")

    if not pd.api.types.is_datetime64_any_dtype(events["date"]):
        problems.append(f"column 'date': dtype is {events['date'].dtype}, expected datetime64")
    else:
        dates = events["date"]
        check(dates.notna() & (dates != dates.dt.normalize()), "date", "time of day set (dates are days)")

    for mask, column, what in value_problems(events):
        check(mask, column, what)

    if sides is not None:
        allowed = list(sides)
        for col in ("side", "target_side"):
            if col in events.columns:
                check(
                    events[col].notna() & ~events[col].isin(allowed),
                    col,
                    f"not a side of the dyad ({', '.join(allowed)})",
                )

    if problems:
        raise EventsValidationError(f"{name} breaks the events schema:\n  - " + "\n  - ".join(problems))
    return events


def make_rejects(records: Iterable[Mapping[str, object]] = ()) -> pd.DataFrame:
    """Build a rejects table (columns :data:`REJECT_COLUMNS`) from dict-like records."""
    frame = pd.DataFrame(list(records), columns=list(REJECT_COLUMNS))
    return frame.astype(REJECT_COLUMNS)
