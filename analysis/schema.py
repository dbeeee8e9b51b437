"""The canonical events table: its columns, their dtypes, and the checks every loader passes.

Every source module (:mod:`analysis.sources`) produces this table; everything downstream
(dyads, cycles, reports) reads only this table. The column list follows ``DESIGN.md`` section 3.

Columns
-------
event_id : string
    Unique, non-missing key.
date : datetime64, normalised to midnight
    The local calendar day of the event in the theatre where it happened. A time-zone-aware
    value keeps its wall-clock day (01:30 at UTC+3 on 30 October is 30 October), never the
    day of its UTC instant; text is read by :func:`analysis.sources.dates.read_dates`.
date_precision : {"day", "week", "month"}
    How precisely ``date`` is known. A ``week`` or ``month`` date stands for a span of days
    (:func:`date_bounds`): ``date_earliest`` and ``date_latest`` (optional datetime64 columns)
    give it where the source does (UCDP's ``date_start`` and ``date_end``); otherwise a week
    date is its middle day (the span runs 3 days either side) and a month date any day of its
    calendar month.
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
    "DATE_PRECISIONS",
    "EVENT_COLUMNS",
    "KINDS",
    "KIND_SYNONYMS",
    "REJECT_COLUMNS",
    "REQUIRED_COLUMNS",
    "EventsValidationError",
    "check_kind_map",
    "conform_events",
    "date_bounds",
    "empty_events",
    "imprecisely_dated",
    "make_rejects",
    "normalise_kind",
    "place_imprecise_dates",
    "require_columns",
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

#: Words sources use for an event type, mapped to a canonical kind: the one table every loader
#: uses (a table source may add its own labels with ``kind_map``). Matching is on the
#: lower-cased, stripped value; anything else becomes "other" with the raw value kept in
#: ``source_type``. ACLED's sub-event types are here too (ACLED codebook, 2023): its "Attack"
#: (an armed group attacking civilians, any weapon) says nothing of the weapon and is ``other``,
#: as is a generic "attack" in any table; an "Armed clash" is an exchange of fire, ``shooting``.
KIND_SYNONYMS: dict[str, str] = {
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
    "suicide bomb": "ied",
    "shelling/artillery/missile attack": "rocket",
    "armed clash": "shooting",
    "government regains territory": "raid",
    "non-state actor overtakes territory": "raid",
    "grenade": "other",
    "chemical weapon": "other",
    "attack": "other",
}

#: A UTC time may precede the midnight of its local date by up to 14 hours (UTC+14) and follow
#: it by up to 38 hours (23:59 at UTC-12 is 11:59 the next day UTC, plus a day's span).
UTC_BEFORE_LOCAL_DAY = pd.Timedelta(hours=14)
UTC_AFTER_LOCAL_DAY = pd.Timedelta(hours=38)

#: Whole numbers above this cannot be held exactly once read as floating point (2**53).
LARGEST_COUNT = 2**53


class EventsValidationError(ValueError):
    """An events table breaks the canonical schema; the message names columns and rows."""


def require_columns(frame: pd.DataFrame, cols, *, what: str = "events", error: type[Exception] = ValueError) -> pd.DataFrame:
    """Check that ``frame`` has every column in ``cols``; the one "has no column" error.

    Parameters
    ----------
    frame : DataFrame
        The table to check. It is not modified.
    cols : iterable of str, or mapping of str to str
        The columns needed; a mapping gives, for each column, what it is needed for (shown in
        brackets: ``'Deaths' (for fatalities)``).
    what : str
        What to call the table in the message (a file name, "events", "cycles"...).
    error : exception class
        The exception raised (e.g. :class:`EventsValidationError`).

    Returns
    -------
    DataFrame
        ``frame`` itself, so the call can be chained.

    Raises
    ------
    error
        ``"<what> has no 'a' column; columns are: ..."`` (``'a', 'b' columns`` for several),
        naming every missing column and every column present.
    """
    purposes = dict(cols) if isinstance(cols, Mapping) else dict.fromkeys(cols)
    missing = [c for c in purposes if c not in frame.columns]
    if missing:
        named = ", ".join(repr(c) + (f" (for {purposes[c]})" if purposes[c] else "") for c in missing)
        plural = "s" if len(missing) > 1 else ""
        raise error(f"{what} has no {named} column{plural}; columns are: {', '.join(map(str, frame.columns))}")
    return frame


def empty_events() -> pd.DataFrame:
    """Return an events table with the canonical columns and dtypes and no rows."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in EVENT_COLUMNS.items()})


def check_kind_map(kind_map: Mapping[str, str] | None) -> dict[str, str]:
    """Check a source's ``kind_map`` (raw type label -> canonical kind) and key it for matching.

    Returns
    -------
    dict
        The lower-cased, stripped labels mapped to their kinds (the form :func:`normalise_kind`
        matches on).

    Raises
    ------
    ValueError
        If ``kind_map`` is not a mapping of text to text, a value is not one of :data:`KINDS`, or
        two labels differ only in case or surrounding spaces; the message names the key.
    """
    if kind_map is None:
        return {}
    if not isinstance(kind_map, Mapping):
        raise ValueError(f"kind_map must map raw type labels to kinds, got {type(kind_map).__name__} {kind_map!r}")
    keyed: dict[str, str] = {}
    for label, kind in kind_map.items():
        if not isinstance(label, str) or not isinstance(kind, str):
            raise ValueError(f"kind_map: {label!r}: {kind!r}: labels and kinds must be text")
        if kind not in KINDS:
            raise ValueError(f"kind_map: {label!r} maps to {kind!r}, which is not a kind; kinds are: {', '.join(KINDS)}")
        key = label.strip().lower()
        if key in keyed and keyed[key] != kind:
            raise ValueError(f"kind_map: {label!r} is given twice (labels are matched ignoring case and spaces)")
        keyed[key] = kind
    return keyed


def normalise_kind(values: pd.Series, kind_map: Mapping[str, str] | None = None) -> pd.Series:
    """Map source event types to canonical kinds.

    Parameters
    ----------
    values : Series
        Raw event types (any case, surrounding spaces allowed).
    kind_map : mapping, optional
        A source's own labels -> canonical kinds (checked by :func:`check_kind_map`); they come
        before the canonical kinds themselves and :data:`KIND_SYNONYMS`.

    Returns
    -------
    Series of string
        A canonical kind from :data:`KINDS` for every non-missing value; values that are neither
        in ``kind_map``, a kind, nor a known synonym become ``"other"`` (keep the raw value in
        ``source_type``). Missing values stay missing.
    """
    own = check_kind_map(kind_map)
    raw = values.astype("string").str.strip().str.lower()

    def kind(v: str) -> str:
        if v in own:
            return own[v]
        return v if v in KINDS else KIND_SYNONYMS.get(v, "other")

    table = {v: kind(v) for v in raw.dropna().unique()}  # each distinct label once
    return raw.map(table).astype("string")


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
                out[col] = _as_datetime(out[col], col)
            else:
                out[col] = out[col].astype(dtype)
        except (TypeError, ValueError) as exc:
            raise EventsValidationError(
                f"events column '{col}' cannot be read as {dtype}: {exc}"
            ) from exc
    extras = [c for c in out.columns if c not in EVENT_COLUMNS]
    return out[list(EVENT_COLUMNS) + extras]


def _as_datetime(values: pd.Series, col: str) -> pd.Series:
    """A date column as local days, or ``time_utc`` as naive UTC times (see the module notes).

    Text is read by :func:`analysis.sources.dates.read_dates`, so that a value with a UTC
    offset keeps its own (local) day and a column mixing offsets and plain dates is read value
    by value. A time-zone-aware column gives its wall-clock day for ``date`` and is converted
    to UTC for ``time_utc``.
    """
    present = values.dropna()
    textual = isinstance(values.dtype, pd.StringDtype) or (
        values.dtype == object and present.map(lambda v: isinstance(v, str)).all())
    if len(present) and textual:
        from analysis.sources.dates import read_dates

        parsed = read_dates(values.astype("string"))
        bad = parsed["problem"].notna()
        if bad.any():
            first = int(np.flatnonzero(bad.to_numpy())[0])
            more = f" and {int(bad.sum()) - 1} more row(s)" if bad.sum() > 1 else ""
            raise ValueError(f"{parsed['problem'].iat[first]} in row {first}{more}")
        if col == "date":
            return parsed["date"]
        # time_utc: a time with an offset gives its instant; a plain time is already UTC
        plain = pd.to_datetime(values.astype("string").where(parsed["time_utc"].isna()), format="ISO8601", errors="coerce")
        return parsed["time_utc"].fillna(plain.astype("datetime64[ns]")).astype("datetime64[ns]")
    converted = pd.to_datetime(values)
    if getattr(converted.dt, "tz", None) is not None:
        # the local day is the wall-clock day; the UTC time is the instant in UTC
        converted = converted.dt.tz_localize(None) if col == "date" else converted.dt.tz_convert("UTC").dt.tz_localize(None)
    converted = converted.astype("datetime64[ns]")
    return converted.dt.normalize() if col == "date" else converted


def _rows_text(events: pd.DataFrame, mask: pd.Series, limit: int = 5, *, show_id: bool = True) -> str:
    """Describe the offending rows by position, event_id and the line of the file they came from
    (``raw_file`` line ``raw_row``), at most ``limit`` of them."""
    idx = np.flatnonzero(np.asarray(mask, dtype=bool))
    ids = events["event_id"] if "event_id" in events.columns else None
    files = events["raw_file"] if "raw_file" in events.columns else None
    lines = events["raw_row"] if "raw_row" in events.columns else None
    parts = []
    for i in idx[:limit]:
        label = f"row {i}"
        about = []
        if show_id and ids is not None and not pd.isna(ids.iloc[i]):
            about.append(f"event_id {ids.iloc[i]!r}")
        if lines is not None and not pd.isna(lines.iloc[i]):
            where = f"{files.iloc[i]} " if files is not None and not pd.isna(files.iloc[i]) else ""
            about.append(f"{where}line {lines.iloc[i]}")
        if about:
            label += f" ({', '.join(about)})"
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
        ``count_columns``) finite, whole, >= 0 and at most 2**53; ``<count>_min`` <=
        ``<count>_max``; latitude and longitude finite and in range; ``weight`` finite;
        ``time_utc`` within 14 h before and 38 h after the midnight of ``date`` (the time zones
        of the world span UTC-12 to UTC+14).
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
        finite = values.notna() & np.isfinite(values.fillna(0).to_numpy(dtype=float))
        add(events[col].notna() & values.isna(), col, "not a number")
        add(values.notna() & ~finite, col, "not a finite number")
        add(finite & (values < 0), col, "negative count")
        add(finite & (values > LARGEST_COUNT), col, f"too large for a count (more than 2^53 = {LARGEST_COUNT:,})")
        add(finite & (values != values.round()), col, "not a whole number")
    for col in COUNT_COLUMNS:
        lo, hi = f"{col}_min", f"{col}_max"
        if lo in events.columns and hi in events.columns:
            add(pd.to_numeric(events[lo], errors="coerce") > pd.to_numeric(events[hi], errors="coerce"), lo, f"greater than {hi}")
    for col, bound in (("latitude", 90), ("longitude", 180)):
        if col in events.columns:
            values = pd.to_numeric(events[col], errors="coerce").astype("Float64")
            finite = values.notna() & np.isfinite(values.fillna(0).to_numpy(dtype=float))
            add(values.notna() & ~finite, col, "not a finite number")
            add(finite & (values.abs() > bound), col, f"outside [-{bound}, {bound}]")
    if "weight" in events.columns:
        values = pd.to_numeric(events["weight"], errors="coerce").astype("Float64")
        add(values.notna() & ~np.isfinite(values.fillna(0).to_numpy(dtype=float)), "weight", "not a finite number")
    if "date" in events.columns and "time_utc" in events.columns and pd.api.types.is_datetime64_any_dtype(events["date"]) \
            and pd.api.types.is_datetime64_any_dtype(events["time_utc"]):
        after = events["time_utc"] - events["date"].dt.normalize()
        add(after.notna() & ((after < -UTC_BEFORE_LOCAL_DAY) | (after >= UTC_AFTER_LOCAL_DAY)), "time_utc",
            "more than 14 h before or 38 h after the midnight of its date: no time zone puts it on that day")
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
    require_columns(events, REQUIRED_COLUMNS, what=name, error=EventsValidationError)

    problems: list[str] = []

    def check(mask: pd.Series, column: str, what: str) -> None:
        mask = pd.Series(mask, index=events.index).fillna(False).astype(bool)
        if mask.any():
            problems.append(f"column '{column}': {what} in {_rows_text(events, mask)}")

    for col in REQUIRED_COLUMNS:
        check(events[col].isna(), col, "missing value")

    ids = events["event_id"]
    repeated = ids.duplicated(keep=False) & ids.notna()
    if repeated.any():
        # each repeated id with every row holding it (rows of two files name both files)
        groups = [f"{value!r} in {_rows_text(events, ids == value, show_id=False)}" for value in ids[repeated].unique()[:5]]
        more = ids[repeated].nunique() - len(groups)
        problems.append("column 'event_id': duplicate id " + "; ".join(groups) + (f"; and {more} more ids" if more > 0 else ""))

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


#: How the events with an imprecise date can be placed in a sensitivity analysis
#: (:func:`place_imprecise_dates`).
IMPRECISE_PLACEMENTS: tuple[str, ...] = ("midpoint", "dropped", "earliest", "latest")


def date_bounds(events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The earliest and latest day each event may have happened, as ``datetime64[D]`` arrays.

    A ``day`` date is exact. ``date_earliest`` / ``date_latest``, where present and not
    missing, are the bounds the source gives. Otherwise a ``week`` date is the middle of its
    week (three days either side) and a ``month`` date may be any day of its calendar month.
    A bound never falls on the wrong side of ``date`` itself.
    """
    require_columns(events, ["date", "date_precision"], what="events")
    day = pd.to_datetime(events["date"]).to_numpy(dtype="datetime64[D]")
    precision = events["date_precision"].astype("string").fillna("day").to_numpy(dtype=object)
    low, high = day.copy(), day.copy()
    week = precision == "week"
    low[week], high[week] = day[week] - 3, day[week] + 3
    month = precision == "month"
    first = day.astype("datetime64[M]")
    low[month], high[month] = first[month].astype("datetime64[D]"), ((first[month] + 1).astype("datetime64[D]") - 1)
    for col, bound, pick in (("date_earliest", low, np.minimum), ("date_latest", high, np.maximum)):
        if col in events.columns:
            given = pd.to_datetime(events[col]).to_numpy(dtype="datetime64[D]")
            known = ~np.isnat(given)
            bound[known] = pick(given[known], day[known])
    return low, high


def imprecisely_dated(events: pd.DataFrame) -> np.ndarray:
    """Which events are dated only to a week or a month (``date_precision`` other than ``day``;
    a missing precision is a day). Every placing of :func:`place_imprecise_dates` leaves a table
    without them as it is."""
    return events["date_precision"].astype("string").fillna("day").ne("day").to_numpy()


def place_imprecise_dates(events: pd.DataFrame, how: str) -> pd.DataFrame:
    """The events with those whose date is not a day placed as ``how`` says, for a sensitivity
    analysis: ``"midpoint"`` leaves them as they are, ``"dropped"`` leaves them out,
    ``"earliest"`` / ``"latest"`` moves each to the first / last day it may have happened
    (:func:`date_bounds`; a time of day is dropped with it). A new table; ``events`` is not
    modified."""
    if how not in IMPRECISE_PLACEMENTS:
        raise ValueError(f"imprecise dates can be placed as {', '.join(IMPRECISE_PLACEMENTS)}; got {how!r}")
    imprecise = imprecisely_dated(events)
    if how == "midpoint" or not imprecise.any():
        return events.copy()
    if how == "dropped":
        return events.loc[~imprecise].reset_index(drop=True)
    low, high = date_bounds(events)
    out = events.copy()
    moved = (low if how == "earliest" else high)[imprecise].astype("datetime64[ns]")
    out.loc[imprecise, "date"] = moved
    if "time_utc" in out.columns:
        out.loc[imprecise, "time_utc"] = pd.NaT
    return out
