"""Strike -> response pairing and chains: the escalation-cycle dataset.

What counts as a response - the window, ties, matching, the own next event, trigger and response
kinds, minimum severity, theatre, distance - is the response rule,
:class:`analysis.response.ResponseRule` (its module notes define every option). This module
applies it: :func:`prepare_events` puts events in event order as arrays, :func:`pair_events`
finds each trigger's response (used as it is by the circular-shift null in
:mod:`analysis.permutation`), and :func:`build_cycles` returns the escalation-cycle dataset.

Event order
    Day, then known UTC time (unknown times last within their day), then input order.
Ties
    With day precision, a same-day event of the other side has an unknown order unless both
    carry ``time_utc`` (then the later one may answer the earlier, ``interval_days`` 0). A
    trigger with an eligible same-day event of unknown order (within the distance, when one is
    set) is marked ``order_ambiguous``; the rule's ``ties`` says whether such an event answers.
Censoring
    No response within the window: ``window_end`` when the whole window lies within the data,
    ``study_end`` when it runs past the last day observed, ``own_next_event`` when the rule lets
    the trigger side's own next event end the wait (the earliest of the three applies).
    ``interval_days`` then holds the follow-up time: read it with ``censored``, as survival data.
    Events after the study end are not analysed.
Imprecise dates
    Events dated to a week or a month are paired at their ``date`` (the middle of the week;
    see :func:`analysis.schema.date_bounds`). An answered interval that rests on such a date is
    flagged ``date_imprecise`` and bounded: ``interval_min_days`` is the shortest it can be
    (the answer's earliest day minus the trigger's latest; negative when the answer may even
    have come first) and ``interval_max_days`` the longest. Both equal ``interval_days`` for
    exact dates, and are missing for censored rows. The sensitivity grid moves such events to
    their earliest or latest day, or leaves them out (:func:`analysis.schema.place_imprecise_dates`).
Chain
    A maximal alternating sequence of triggers in which each answers the previous one. An event
    answered by several triggers (many-to-one) continues the chain of the latest of them; the
    earlier ones end their own chains there. Every trigger is in exactly one chain (a lone event
    is a chain of length 1); ``chain_id`` is the ``event_id`` of the chain's first event. With
    ``trigger_kinds``, a response that is not itself a trigger ends its chain. A chain runs
    forward in event order: under ``ties: include`` two same-day events of unknown order may
    answer each other, and only the answer to the first of them (in event order) links them.
Spatial scope
    Distances are great-circle distances on a sphere of the mean Earth radius, 6,371.0088 km
    (compared as chords of the sphere, which is exact). Candidates are bucketed in cubes of the
    chord's size, so a trigger is compared only with events in its own and the 26 neighbouring
    cubes, within its window: no loop over events, and memory bounded by processing pairs in
    batches.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from analysis.geo import Cubes, batches, chord_km, great_circle_km_between, xyz_columns_km, xyz_km
from analysis.response import ResponseRule
from analysis.schema import date_bounds

__all__ = [
    "CENSOR_REASONS",
    "CYCLE_COLUMNS",
    "Group",
    "Pairing",
    "PairingInput",
    "build_cycles",
    "pair_direction",
    "pair_events",
    "prepare_events",
    "response_scope",
    "summarise_chains",
    "summarise_cycles",
    "with_event_details",
]

CENSOR_REASONS = ("window_end", "study_end", "own_next_event")

#: Columns of the cycles table, in order (severity columns follow).
CYCLE_COLUMNS = (
    "trigger_id",
    "trigger_side",
    "trigger_date",
    "trigger_kind",
    "response_id",
    "response_side",
    "response_date",
    "response_kind",
    "interval_days",
    "interval_min_days",
    "interval_max_days",
    "date_imprecise",
    "distance_km",
    "censored",
    "censor_reason",
    "window_days",
    "order_ambiguous",
    "chain_id",
    "chain_position",
    "chain_length",
)

_NONE = -1
_DAY_US = 86_400 * 10**6
_BEFORE_US = 14 * 3_600 * 10**6  # a UTC time may precede its local date's midnight by up to 14 h
_SPAN_US = 52 * 3_600 * 10**6  # ... and follow it by up to 38 h
_THREADS_FROM = 50_000  # events from which the independent parts of the work run on two threads
_SLOT_BITS = 38
_SLOT = 2**_SLOT_BITS  # room for one local day's times in microseconds (52 h < 2**38 us); int64 keys last to year ~90,000


def _order_keys(day: np.ndarray, time: np.ndarray, ids: pd.Series | None = None) -> np.ndarray:
    """One int64 per event that sorts as (day, time to the microsecond, unknown time last,
    input order among unknown times); only events with identical known times share a key.

    Raises
    ------
    ValueError
        If a known time lies more than 14 h before or 38 h after the UTC midnight of its date,
        which no time zone explains (the message names the first such event).
    """
    timed = time != _NONE
    # unknown times after every known one, in input order (room for 8.8e10 events per day)
    offset = np.where(timed, time // 1_000 - day * _DAY_US + _BEFORE_US, _SPAN_US + np.arange(len(day)))
    bad = timed & ((offset < 0) | (offset >= _SPAN_US))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        label = f"event {ids.iloc[i]!r}" if ids is not None else f"row {i}"
        raise ValueError(
            f"{label}: time_utc {pd.Timestamp(time[i])} is too far from its date "
            f"{pd.Timestamp(day[i], unit='D').date()} for any time zone; check the date and the time"
        )
    return day * _SLOT + offset


def _key_parts(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The day, the offset within it and whether the time is known, of keys of :func:`_order_keys`
    (an unknown time's offset is past every known one)."""
    offset = key & (_SLOT - 1)
    return key >> _SLOT_BITS, offset, offset < _SPAN_US


def _unique(ids: pd.api.extensions.ExtensionArray) -> bool:
    """Whether an array of ids has no repeated value (a missing id repeats another missing one).

    Arrow-backed strings are first hashed to 64 bits (:func:`_string_hashes`): distinct hashes
    mean distinct ids. Only when two hashes are equal - a repeated id, or rarely two ids with
    the same hash - are the strings themselves compared, in Arrow's hash table. The answer is
    exact either way; the hashes make the usual case (no repeat) about three times as fast."""
    data = getattr(ids, "_pa_array", None)
    if data is None:
        return len(pd.unique(ids)) == len(ids)
    hashes = None if data.null_count else _string_hashes(data)
    if hashes is not None:
        hashes.sort()  # numpy sorts numbers by value faster than it builds a hash table of them
        if not (hashes[1:] == hashes[:-1]).any():
            return True
    import pyarrow.compute as pc

    return len(pc.unique(data)) == len(ids)


_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd, so multiplying by it permutes the 64-bit words
_FIRST_BYTES = np.array([(1 << 8 * k) - 1 for k in range(8)] + [2**64 - 1], dtype=np.uint64)  # masks keeping k bytes


def _string_hashes(data) -> np.ndarray | None:
    """A 64-bit hash of each string of an Arrow string array (None for other types), read 8
    bytes at a time. Two strings of the same length up to 8 bytes never share a hash."""
    import pyarrow as pa

    if isinstance(data, pa.ChunkedArray):
        data = data.combine_chunks()
    if pa.types.is_string(data.type):
        data = data.cast(pa.large_string())
    if not pa.types.is_large_string(data.type):
        return None
    _, offsets, chars = data.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int64, count=len(data) + 1, offset=8 * data.offset)
    size = 0 if chars is None else chars.size
    padded = np.zeros(size + 8, dtype=np.uint8)
    if size:
        padded[:size] = np.frombuffer(chars, dtype=np.uint8, count=size)
    # the 8 bytes from each position, as a little-endian word (a view of overlapping words)
    words = np.ndarray(shape=(size + 1,), dtype="<u8", buffer=padded, strides=(1,))
    start, length = bounds[:-1], np.diff(bounds)
    hashes = length.astype(np.uint64)  # the length first: "a" and "a\0" differ
    for k in range(0, int(length.max(initial=0)), 8):
        part = slice(None) if k == 0 else np.flatnonzero(length > k)
        word = words[start[part] + k] & _FIRST_BYTES[np.minimum(length[part] - k, 8)]
        hashes[part] = hashes[part] * _MIX + word
    return hashes


def _argsort_stable_ties(key: np.ndarray) -> np.ndarray:
    """``argsort(key, kind="stable")``, faster when few keys tie: a quicksort, then each run of
    equal keys put back in input order."""
    order = np.argsort(key)
    sorted_key = key[order]
    tied = np.flatnonzero(sorted_key[1:] == sorted_key[:-1])
    if len(tied):
        slots = np.unique(np.concatenate([tied, tied + 1]))  # sorted positions inside tie runs
        order[slots] = order[slots[np.lexsort((order[slots], sorted_key[slots]))]]
    return order


def _event_order(key: np.ndarray) -> np.ndarray:
    """``argsort(key, kind="stable")`` for keys of :func:`_order_keys`: the event order.

    Where the day, the time and the input position fit in 64 bits together - the usual case:
    known times in whole seconds or milliseconds, a span of days short of centuries - each event
    is packed into one such number (its input position last) and the numbers are sorted by
    value, which is faster than sorting positions by key. Otherwise :func:`_argsort_stable_ties`."""
    n = len(key)
    if n < 2:
        return np.arange(n)
    day, offset, timed = _key_parts(key)  # known times first, in microseconds, then unknown ones
    for unit in (1_000_000, 1_000, 1):  # the coarsest unit that keeps every known time whole
        if not ((offset % unit != 0) & timed).any():
            break
    first = int(day.min())
    at_bits = (n - 1).bit_length()
    time_bits = (_SPAN_US // unit).bit_length()  # unknown times take the last value, _SPAN_US // unit
    if (int(day.max()) - first).bit_length() + time_bits + at_bits > 64:
        return _argsort_stable_ties(key)
    day -= first
    packed = day.view(np.uint64) << np.uint64(time_bits + at_bits)
    np.minimum(offset, _SPAN_US, out=offset)
    offset //= unit
    packed |= offset.view(np.uint64) << np.uint64(at_bits)
    packed |= np.arange(n, dtype=np.uint64)
    packed.sort()
    packed &= np.uint64((1 << at_bits) - 1)
    return packed.view(np.int64)


def _day_ranges(t_day: np.ndarray, c_day: np.ndarray, c_timed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each trigger day: the first candidate on that day, the first on a later day, and the
    number of candidates of that day without a time. Candidates are sorted by day. Over a short
    span of days (the usual case) the candidates are counted per day, a pass over each array;
    else by binary search."""
    if not len(c_day):
        zero = np.zeros(len(t_day), dtype=np.int64)
        return zero, zero, zero
    d0 = int(min(c_day[0], t_day.min() if len(t_day) else c_day[0]))
    span = int(max(c_day[-1], t_day.max() if len(t_day) else c_day[-1])) - d0 + 1
    if span <= 4 * (len(c_day) + len(t_day)) + 4096:
        start = np.zeros(span + 1, dtype=np.int64)
        start[1:] = np.cumsum(np.bincount(c_day - d0, minlength=span))
        untimed = np.zeros(span + 1, dtype=np.int64)
        untimed[1:] = np.cumsum(np.bincount(c_day[~c_timed] - d0, minlength=span))
        at = t_day - d0
        return start[at], start[at + 1], untimed[at + 1] - untimed[at]
    day_lo = np.searchsorted(c_day, t_day, side="left")
    day_hi = np.searchsorted(c_day, t_day, side="right")
    untimed_cum = np.concatenate(([0], np.cumsum(~c_timed)))
    return day_lo, day_hi, untimed_cum[day_hi] - untimed_cum[day_lo]


def _first_after(
    t_day: np.ndarray, t_key: np.ndarray, t_timed: np.ndarray, c_day: np.ndarray, c_key: np.ndarray, c_timed: np.ndarray,
    ties: str, later_day_only: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """For each trigger, the index of the first candidate that answers it, and whether its order
    against some same-day candidate is unknown.

    Keys come from :func:`_order_keys` (candidates sorted by them). Returns ``(first,
    ambiguous)``; ``first`` is ``len(c_key)`` when no candidate follows. With
    ``later_day_only`` only candidates on a later day count (the own-next-event search).
    """
    day_lo, day_hi, untimed_day = _day_ranges(t_day, c_day, c_timed)
    if later_day_only:
        return day_hi, np.zeros(len(t_day), dtype=bool)
    timed_end = day_hi - untimed_day  # untimed candidates sort last within their day
    # a timed trigger is answered the same day by the first timed candidate strictly after it
    first = day_hi.copy()
    timed = np.flatnonzero(t_timed & (timed_end > day_lo))
    after = np.searchsorted(c_key, t_key[timed], side="right")
    first[timed] = np.where(after < timed_end[timed], after, day_hi[timed])
    ambiguous = np.where(t_timed, untimed_day > 0, day_hi > day_lo)
    if ties == "include":
        # an unordered same-day candidate answers at once: the first such one of the day
        unordered_first = np.where(t_timed, timed_end, day_lo)
        first = np.where(ambiguous & (unordered_first < first), unordered_first, first)
    return first, ambiguous


# -- events as arrays in event order ---------------------------------------------------------


@dataclass(frozen=True)
class PairingInput:
    """Events in event order, as the arrays the pairing reads (see :func:`prepare_events`).

    ``sided`` holds the analysed rows (a side, dated up to the study end) in input order;
    ``order`` lists them in event order, and every array is in event order: ``day`` (days since
    1970), ``timed`` (a known UTC time), ``key`` (:func:`_order_keys`), ``side`` and ``kind``
    (codes into ``sides`` and ``kinds``). ``trigger`` and ``response`` say which events the rule
    lets be triggers and responses; ``located`` which have coordinates; ``day_lo`` and ``day_hi``
    the earliest and latest day each may have happened (:func:`analysis.schema.date_bounds`);
    ``lat`` and ``lon`` their coordinates (NaN where unknown), and, under a distance limit,
    ``xyz`` their position on the sphere (km; an empty array without a limit).
    """

    sided: pd.DataFrame
    order: np.ndarray
    day: np.ndarray
    timed: np.ndarray
    key: np.ndarray
    side: np.ndarray
    sides: tuple[str, ...]
    kind: np.ndarray
    kinds: tuple[str, ...]
    trigger: np.ndarray
    response: np.ndarray
    located: np.ndarray
    day_lo: np.ndarray
    day_hi: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    xyz: np.ndarray
    end_day: int

    def __len__(self) -> int:
        return len(self.day)


def prepare_events(
    events: pd.DataFrame,
    rule: ResponseRule,
    *,
    id_col: str = "event_id",
    side_col: str = "side",
    date_col: str = "date",
    time_col: str = "time_utc",
    kind_col: str = "kind",
    country_col: str = "country",
    lat_col: str = "latitude",
    lon_col: str = "longitude",
    extra_cols: Iterable[str] = (),
) -> PairingInput:
    """Put the events a rule analyses in event order, as arrays.

    Events without a side, and events after the rule's study end, are left out. Raises a
    ``ValueError`` naming what is missing when a column the rule needs is absent, and when event
    ids repeat.
    """
    needed = [id_col, side_col, date_col, kind_col]
    if rule.theatre is not None:
        needed.append(country_col)
    if rule.max_distance_km is not None:
        needed += [lat_col, lon_col]
    absent = [c for c in needed if c not in events.columns]
    if absent:
        why = " (the rule's max_distance_km needs coordinates)" if {lat_col, lon_col} & set(absent) else ""
        raise ValueError(f"events has no {absent} column(s){why}; columns are: {', '.join(map(str, events.columns))}")
    missing_sev = [c for c in rule.severity if c not in events.columns]
    if missing_sev:
        raise ValueError(f"min_severity names column(s) {missing_sev} that events does not have")

    dates = pd.to_datetime(events[date_col])
    end = rule.study_end if rule.study_end is not None else (dates[events[side_col].notna()].max() if len(events) else None)
    keep = events[side_col].notna().to_numpy().copy()
    if end is not None and not pd.isna(end):
        keep &= (dates <= end).to_numpy()
    cols = list(dict.fromkeys([*needed, *rule.severity, *[c for c in (time_col, lat_col, lon_col) if c in events.columns],
                               *[c for c in extra_cols if c in events.columns]]))
    sided = events if keep.all() else events.loc[keep, cols]
    n = len(sided)
    ids, dates, sides, kinds = (sided[c] for c in (id_col, date_col, side_col, kind_col))
    times = sided[time_col] if time_col in sided.columns else None

    def order() -> tuple[np.ndarray, np.ndarray]:
        day = pd.to_datetime(dates).to_numpy(dtype="datetime64[D]").astype(np.int64)
        time = np.full(n, _NONE, dtype=np.int64)
        if times is not None:
            raw_time = pd.to_datetime(times).to_numpy(dtype="datetime64[ns]")
            time = np.where(np.isnat(raw_time), _NONE, raw_time.astype(np.int64))
        key = _order_keys(day, time, ids)
        return key, _event_order(key)

    def side_codes() -> tuple:
        side_code, side_names = pd.factorize(sides)
        by_name = np.argsort(np.asarray(side_names, dtype=str))  # sides in sorted order
        return np.argsort(by_name)[side_code], side_names[by_name]

    def kind_codes() -> tuple:
        kind_code, kind_names = pd.factorize(kinds)
        return kind_code, tuple(str(k) for k in kind_names)

    # on large data the ids are checked on one thread while the events are ordered on the
    # other; repeated ids are said before a bad time (results are taken in this order)
    _, (key, order), (side_code, side_names), (kind_code, kinds) = _together(
        partial(_require_unique, ids), order, side_codes, kind_codes, size=n)

    # which events the rule lets be triggers and responses, then every array in event order
    trigger = np.ones(n, dtype=bool)
    if rule.trigger_kinds is not None:
        trigger &= np.isin(kind_code, [i for i, k in enumerate(kinds) if k in rule.trigger_kinds])
    response = np.ones(n, dtype=bool)
    if rule.response_kinds is not None:
        response &= np.isin(kind_code, [i for i, k in enumerate(kinds) if k in rule.response_kinds])
    for col, minimum in rule.severity.items():
        values = pd.to_numeric(sided[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        response &= values >= minimum  # missing (NaN) never qualifies
    if rule.theatre is not None:
        response &= sided[country_col].isin(list(rule.theatre)).to_numpy()
    lat = lon = day_lo = day_hi = None  # no coordinates; exact dates
    if lat_col in sided.columns and lon_col in sided.columns:
        lat = pd.to_numeric(sided[lat_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        lon = pd.to_numeric(sided[lon_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if "date_precision" in sided.columns:
        low, high = date_bounds(sided.assign(date=sided[date_col]))
        day_lo, day_hi = low.astype(np.int64), high.astype(np.int64)
    key, side_code, kind_code, trigger, response, lat, lon, day_lo, day_hi = _together(
        *[lambda a=a: None if a is None else a[order]
          for a in (key, side_code, kind_code, trigger, response, lat, lon, day_lo, day_hi)], size=n)
    day, _, timed = _key_parts(key)
    if lat is None:
        lat = lon = np.full(n, np.nan)
    located = ~(np.isnan(lat) | np.isnan(lon))
    if day_lo is None:
        day_lo = day_hi = day
    if rule.max_distance_km is not None and rule.missing_coordinates == "exclude":
        trigger &= located
        response &= located

    known_end = end is not None and not pd.isna(end)
    end_day = int(pd.Timestamp(end).to_datetime64().astype("datetime64[D]").astype(np.int64)) if known_end else 0
    return PairingInput(
        sided=sided, order=order, day=day, timed=timed, key=key, side=side_code, sides=tuple(str(s) for s in side_names),
        kind=kind_code, kinds=kinds, trigger=trigger, response=response, located=located, day_lo=day_lo, day_hi=day_hi,
        lat=lat, lon=lon, xyz=xyz_km(lat, lon) if rule.max_distance_km is not None else np.empty((0, 3)), end_day=end_day,
    )


def _require_unique(ids: pd.Series) -> None:
    """Raise a ``ValueError`` naming some repeated ids, if any."""
    if not _unique(ids.array):
        dups = ids[ids.duplicated()].head(5).tolist()
        raise ValueError(f"events has duplicate '{ids.name}' values, e.g. {dups}")


def response_scope(events: pd.DataFrame, rule: ResponseRule, **columns) -> pd.DataFrame:
    """How many events of each side the rule analyses, and why the others are left out.

    Returns
    -------
    DataFrame
        One row per side: ``side``, ``events`` (with this side), ``after_study_end`` (not
        analysed), ``analysed``, ``no_coordinates`` (among the analysed), ``triggers`` and
        ``responses`` (events the rule lets be triggers, and answers), ``not_trigger_kind``,
        ``coordinates_rule`` (what events without coordinates are under a distance limit:
        ``exclude``, ``any`` or empty when no limit is set).
    """
    inp = prepare_events(events, rule, **columns)
    side_col = columns.get("side_col", "side")
    all_counts = events[side_col].dropna().astype(str).value_counts()
    kinds = np.asarray(inp.kinds, dtype=object)
    rows = []
    for code, s in enumerate(inp.sides):
        mine = inp.side == code
        kind_ok = np.ones(mine.sum(), dtype=bool) if rule.trigger_kinds is None else np.isin(kinds[inp.kind[mine]],
                                                                                             rule.trigger_kinds)
        rows.append({
            "side": s,
            "events": int(all_counts.get(s, 0)),
            "after_study_end": int(all_counts.get(s, 0) - mine.sum()),
            "analysed": int(mine.sum()),
            "no_coordinates": int((mine & ~inp.located).sum()),
            "triggers": int((mine & inp.trigger).sum()),
            "responses": int((mine & inp.response).sum()),
            "not_trigger_kind": int((~kind_ok).sum()),
            "coordinates_rule": rule.missing_coordinates if rule.max_distance_km is not None else "",
        })
    return pd.DataFrame(rows).astype({"side": "string", "coordinates_rule": "string"})


# -- searching for the first answer ----------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """Some events - the triggers of one side, or the events eligible to answer them - in event
    order, as the pairing of one direction reads them (see :func:`pair_direction`).

    ``pos`` gives each event's position in its :class:`PairingInput`; ``xyz`` is empty without a
    distance limit.
    """

    pos: np.ndarray
    day: np.ndarray
    key: np.ndarray
    timed: np.ndarray
    located: np.ndarray
    xyz: np.ndarray

    @classmethod
    def of(cls, inp: PairingInput, mask: np.ndarray) -> Group:
        """The events of ``inp`` where ``mask`` holds."""
        idx = np.flatnonzero(mask)
        return cls(pos=idx, day=inp.day[idx], key=inp.key[idx], timed=inp.timed[idx], located=inp.located[idx],
                   xyz=inp.xyz[idx] if len(inp.xyz) else inp.xyz)

    def __len__(self) -> int:
        return len(self.day)

    def take(self, idx: np.ndarray) -> Group:
        return Group(pos=self.pos[idx], day=self.day[idx], key=self.key[idx], timed=self.timed[idx],
                     located=self.located[idx], xyz=self.xyz[idx] if len(self.xyz) else self.xyz)


def _near_pairs(t: Group, c: Group, horizon: int, chord: float, later_day_only: bool):
    """Batches of (trigger index, candidate index, unordered, ordered after) for every candidate
    within ``horizon`` days and ``chord`` km of each trigger (the same day included unless
    ``later_day_only``). Both groups must have coordinates."""
    cubes = Cubes(c.xyz, np.arange(len(c)), len(c), chord)
    lo = np.searchsorted(c.day, t.day + (1 if later_day_only else 0), side="left")
    hi = np.searchsorted(c.day, t.day + horizon, side="right")
    for qi, at in batches(*cubes.ranges(t.xyz, lo, hi)):
        ci = cubes.index[at]
        near = ((t.xyz[qi] - c.xyz[ci]) ** 2).sum(axis=1) <= chord * chord
        qi, ci = qi[near], ci[near]
        same = c.day[ci] == t.day[qi]
        both = t.timed[qi] & c.timed[ci]
        yield qi, ci, same & ~both, ~same | (both & (c.key[ci] > t.key[qi]))


def _search(t: Group, c: Group, horizon: int, rule: ResponseRule, later_day_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """For each trigger, the index in ``c`` of the first candidate that follows it - answers it,
    or with ``later_day_only`` falls on a later day - within ``horizon`` days and the rule's
    distance (``len(c)`` where none does); and whether an eligible same-day candidate has an
    unknown order."""
    if rule.max_distance_km is None:
        return _first_after(t.day, t.key, t.timed, c.day, c.key, c.timed, rule.ties, later_day_only)
    first = np.full(len(t), len(c), dtype=np.int64)
    ambiguous = np.zeros(len(t), dtype=bool)
    t_xy, c_xy = np.flatnonzero(t.located), np.flatnonzero(c.located)
    if len(t_xy) and len(c_xy):
        chord = chord_km(rule.max_distance_km)
        for qi, ci, unordered, ordered_after in _near_pairs(t.take(t_xy), c.take(c_xy), horizon, chord, later_day_only):
            answers = ordered_after | (unordered & (rule.ties == "include")) if not later_day_only else np.ones(len(ci), bool)
            np.minimum.at(first, t_xy[qi[answers]], c_xy[ci[answers]])
            ambiguous[t_xy[qi[unordered]]] = True
    if rule.missing_coordinates == "any":  # an event without coordinates is near every event
        for rows, cands in ((np.arange(len(t)), np.flatnonzero(~c.located)), (np.flatnonzero(~t.located), c_xy)):
            if len(rows) and len(cands):
                sub, part = t.take(rows), c.take(cands)
                f, a = _first_after(sub.day, sub.key, sub.timed, part.day, part.key, part.timed, rule.ties, later_day_only)
                first[rows] = np.minimum(first[rows], np.append(cands, len(c))[f])
                ambiguous[rows] |= a
    return first, ambiguous


def _one_to_one(t: Group, c: Group, first: np.ndarray, deadline: np.ndarray, rule: ResponseRule) -> np.ndarray:
    """First come, first served: each trigger, in event order, takes the first answer not yet
    taken by an earlier trigger, up to its deadline day. Returns indices into ``c`` (``len(c)``:
    none).

    Without a distance limit the answers of a trigger are the candidates from its first answer
    on (skipping same-day ones that cannot answer it), and taken ones are skipped with a
    next-free pointer (union-find), in near-linear time; with a limit, the near answers of each
    trigger are listed first.
    """
    include = rule.ties == "include"
    matched = np.full(len(t), len(c), dtype=np.int64)
    limit = None if rule.max_distance_km is None else chord_km(rule.max_distance_km) ** 2

    def answers(i: int, j: int) -> bool:  # by order, and by distance where both are placed
        if limit is not None and t.located[i] and c.located[j] and float(((t.xyz[i] - c.xyz[j]) ** 2).sum()) > limit:
            return False
        if c.day[j] > t.day[i]:
            return True
        return bool(c.key[j] > t.key[i]) if t.timed[i] and c.timed[j] else include

    if limit is None or (rule.missing_coordinates == "any" and not (t.located.all() and c.located.all())):
        nxt = list(range(len(c) + 1))  # next candidate not yet taken (path-halving union-find)

        def free(j: int) -> int:
            while nxt[j] != j:
                nxt[j] = nxt[nxt[j]]
                j = nxt[j]
            return j

        c_day = c.day.tolist()
        for i, (f, last_day) in enumerate(zip(first.tolist(), deadline.tolist())):
            j = free(f)
            while j < len(c) and c_day[j] <= last_day:
                if answers(i, j):
                    matched[i] = j
                    nxt[j] = j + 1
                    break
                j = free(j + 1)
        return matched
    # a distance limit, every event placed: list each trigger's near answers in event order
    horizon = int((deadline - t.day).max()) if len(t) else 0
    lists: dict[int, list[int]] = {}
    for qi, ci, unordered, ordered_after in _near_pairs(t, c, max(horizon, 0), chord_km(rule.max_distance_km), False):
        ok = (ordered_after | (unordered & include)) & (c.day[ci] <= deadline[qi])
        for q, j in zip(qi[ok].tolist(), ci[ok].tolist()):
            lists.setdefault(q, []).append(j)
    taken: set[int] = set()
    for q in range(len(t)):
        for j in sorted(lists.get(q, ())):
            if j not in taken:
                taken.add(j)
                matched[q] = j
                break
    return matched


# -- the pairing -----------------------------------------------------------------------------

_FAR = np.iinfo(np.int64).max // 4  # the day of "no event"


def pair_direction(
    t: Group, c: Group, window: int, end_day: int | np.ndarray, rule: ResponseRule
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The response rule in one direction: for each trigger of ``t``, its answer among ``c``.

    ``end_day`` is the last day observed (one for all, or one per trigger).

    Returns
    -------
    tuple of arrays, one entry per trigger
        ``answer``: index in ``c`` of the response (``len(c)``: censored); ``follow``: days to
        the response, or the follow-up time when censored; ``reason``: 0 when answered, else
        ``1 +`` the index of the reason in :data:`CENSOR_REASONS`; ``ambiguous``.
    """
    WINDOW_END, STUDY_END, OWN_NEXT = (1 + CENSOR_REASONS.index(r) for r in CENSOR_REASONS)
    first, ambiguous = _search(t, c, window, rule)
    # when the wait ends without an answer: the earliest of window end, study end, own next event
    stop = np.full(len(t), window, dtype=np.int64)
    why = np.full(len(t), WINDOW_END, dtype=np.int8)
    to_end = end_day - t.day
    past_end = to_end < stop
    stop = np.where(past_end, np.maximum(to_end, 0), stop)
    why[past_end] = STUDY_END
    own_gap = np.full(len(t), _FAR, dtype=np.int64)
    if rule.own_event_ends_wait:
        nxt, _ = _search(t, t, window, rule, later_day_only=True)
        own_gap = np.where(nxt < len(t), np.append(t.day, _FAR)[nxt] - t.day, own_gap)
    if rule.matching == "one_to_one":
        first = _one_to_one(t, c, first, t.day + np.minimum(stop, own_gap), rule)
    interval = np.append(c.day, _FAR)[first] - t.day
    answered = (first < len(c)) & (interval <= np.minimum(stop, own_gap))
    cut = ~answered & (own_gap <= stop)
    stop = np.where(cut, own_gap, stop)
    why[cut] = OWN_NEXT
    return (np.where(answered, first, len(c)), np.where(answered, interval, stop), np.where(answered, 0, why).astype(np.int8),
            ambiguous)


@dataclass(frozen=True)
class Pairing:
    """The pairing of :func:`pair_events`, one entry per event in event order.

    ``response``: position of the response (``-1``: none); ``follow``: days to the response, or
    the follow-up time when censored; ``reason``: 0 when answered, else ``1 +`` the index of the
    reason in :data:`CENSOR_REASONS`, ``-1`` for events that are not triggers; ``ambiguous``;
    ``window``: the trigger's window in days.
    """

    response: np.ndarray
    follow: np.ndarray
    reason: np.ndarray
    ambiguous: np.ndarray
    window: np.ndarray


def pair_events(inp: PairingInput, rule: ResponseRule) -> Pairing:
    """Find the response to every trigger under ``rule`` (see :mod:`analysis.response`): for
    each side, :func:`pair_direction` of its triggers against the other sides' eligible events."""
    n = len(inp)
    response = np.full(n, _NONE, dtype=np.int64)
    follow = np.zeros(n, dtype=np.int64)
    reason = np.full(n, -1, dtype=np.int8)
    ambiguous = np.zeros(n, dtype=bool)
    window_of = np.zeros(n, dtype=np.int64)
    windows = rule.windows(inp.sides)

    def direction(code: int) -> tuple | None:
        """The pairing of one side's triggers (None when it has none)."""
        mine = inp.side == code
        t = Group.of(inp, mine & inp.trigger)
        if not len(t):
            return None
        c = Group.of(inp, ~mine & inp.response)
        return t, c, *pair_direction(t, c, windows[inp.sides[code]], inp.end_day, rule)

    # the directions are independent: on large data two threads share them
    for code, found in enumerate(_together(*[partial(direction, code) for code in range(len(inp.sides))], size=n)):
        if found is None:
            continue
        t, c, answer, t_follow, t_reason, t_amb = found
        answered = answer < len(c)
        response[t.pos[answered]] = c.pos[answer[answered]]
        follow[t.pos] = t_follow
        reason[t.pos] = t_reason
        ambiguous[t.pos] = t_amb
        window_of[t.pos] = windows[inp.sides[code]]
    return Pairing(response=response, follow=follow, reason=reason, ambiguous=ambiguous, window=window_of)


def build_cycles(
    events: pd.DataFrame,
    rule: ResponseRule | None = None,
    *,
    severity_cols: Iterable[str] = ("fatalities",),
    id_col: str = "event_id",
    side_col: str = "side",
    date_col: str = "date",
    time_col: str = "time_utc",
    kind_col: str = "kind",
    country_col: str = "country",
    lat_col: str = "latitude",
    lon_col: str = "longitude",
    **options,
) -> pd.DataFrame:
    """Pair every trigger with its response under the response rule, and link responses into chains.

    Parameters
    ----------
    events : DataFrame
        Canonical events with a side. Events whose side is missing, and events after the
        rule's study end, are neither triggers nor responses and are not in the output
        (:func:`response_scope` counts them). Not modified.
    rule : ResponseRule, optional
        The response rule. Instead of a rule, its fields may be given as keywords
        (``window_days=14, ties="include"``...), which build one; not both.
    severity_cols : iterable of str
        Columns copied as ``trigger_<col>`` and ``response_<col>``.
    id_col, side_col, date_col, time_col, kind_col, country_col, lat_col, lon_col : str
        Column names in ``events``; the time and coordinate columns may be absent (the
        coordinates are needed under a distance limit).

    Returns
    -------
    DataFrame
        One row per trigger (every analysed event, unless the rule limits trigger kinds or
        leaves out events without coordinates), keyed by ``trigger_id``, with the columns
        :data:`CYCLE_COLUMNS` then ``trigger_<sev>``/``response_<sev>``, in event order.
        ``interval_days`` is the days from trigger to response, or the follow-up time for
        censored rows; ``distance_km`` the great-circle distance to the response, where both
        have coordinates.

    Examples
    --------
    >>> ev = pd.DataFrame({"event_id": ["a", "b"], "side": ["us", "mil"], "kind": ["airstrike", "rocket"],
    ...                    "date": pd.to_datetime(["2020-01-01", "2020-01-05"])})
    >>> build_cycles(ev, window_days=30, study_end="2020-03-01")[["trigger_id", "response_id", "interval_days"]]
      trigger_id response_id  interval_days
    0          a           b              4
    1          b        <NA>             30
    """
    if rule is None:
        rule = ResponseRule(**options)
    elif options:
        raise TypeError(f"give a rule or its fields as keywords, not both (got a rule and {sorted(options)})")
    severity_cols = [c for c in severity_cols if c in events.columns]
    inp = prepare_events(events, rule, id_col=id_col, side_col=side_col, date_col=date_col, time_col=time_col,
                         kind_col=kind_col, country_col=country_col, lat_col=lat_col, lon_col=lon_col, extra_cols=severity_cols)
    paired = pair_events(inp, rule)
    return _cycles_table(inp, paired, severity_cols, id_col)


def _cycles_table(inp: PairingInput, paired: Pairing, severity_cols: list[str], id_col: str) -> pd.DataFrame:
    """The cycles table of :func:`build_cycles` (it may hold arrays of ``paired``)."""
    rows = np.flatnonzero(paired.reason >= 0)  # the triggers, in event order
    every = len(rows) == len(inp)  # every analysed event is a trigger: per-event arrays are per-trigger ones

    def at_rows(values):  # a per-event array (numpy or pandas), at the triggers
        return values if every else values[rows]

    row_of = np.full(len(inp) + 1, _NONE, dtype=np.int64)
    row_of[rows] = np.arange(len(rows))
    resp = at_rows(paired.response)
    has_resp = resp != _NONE
    r_fill = np.where(has_resp, resp, -1)  # -1: missing in the takes below

    def labels() -> dict:
        side_arr = pd.array(list(inp.sides), dtype="string")
        kind_arr = pd.array(list(inp.kinds), dtype="string")
        reason = at_rows(paired.reason).astype(np.int64)
        return {
            "trigger_side": side_arr.take(at_rows(inp.side)),
            "trigger_kind": kind_arr.take(at_rows(inp.kind)),
            "response_side": side_arr.take(np.where(has_resp, inp.side[r_fill], -1), allow_fill=True),
            "response_kind": kind_arr.take(np.where(has_resp, inp.kind[r_fill], -1), allow_fill=True),
            "censor_reason": pd.array(list(CENSOR_REASONS), dtype="string").take(reason - 1, allow_fill=True),
        }

    def days() -> dict:
        dates = inp.day.astype("datetime64[D]").astype("datetime64[ns]")
        # an interval that rests on a week or month date has bounds; censored rows have none
        if inp.day_lo is inp.day_hi:  # exact dates
            imprecise = np.zeros(len(rows), dtype=bool)
        else:
            imprecise = has_resp & ((at_rows(inp.day_lo) != at_rows(inp.day_hi)) | (inp.day_lo[r_fill] != inp.day_hi[r_fill]))
        return {
            "trigger_date": at_rows(dates),
            "response_date": np.where(has_resp, dates[r_fill], np.datetime64("NaT")),
            "interval_days": pd.array(at_rows(paired.follow), dtype="Int64"),
            "interval_min_days": pd.arrays.IntegerArray(inp.day_lo[r_fill] - at_rows(inp.day_hi), ~has_resp),
            "interval_max_days": pd.arrays.IntegerArray(inp.day_hi[r_fill] - at_rows(inp.day_lo), ~has_resp),
            "date_imprecise": imprecise,
            "censored": ~has_resp,
            "window_days": pd.array(at_rows(paired.window), dtype="Int64"),
            "order_ambiguous": at_rows(paired.ambiguous),
        }

    given_ids = inp.sided[id_col]

    def ids() -> tuple:
        in_order = pd.array(given_ids.array, dtype="string").take(inp.order)
        return at_rows(in_order), in_order.take(r_fill, allow_fill=True)

    # the longest parts first, so that two threads end together
    distance, (trigger_id, response_id), label_cols, day_cols, (chain_head, chain_pos, chain_len) = _together(
        lambda: _distances(inp, rows, r_fill, has_resp),
        ids,
        labels,
        days,
        lambda: _chains(np.where(has_resp, row_of[r_fill], _NONE)),
        size=len(inp),
    )
    columns = {
        "trigger_id": trigger_id,
        "response_id": response_id,
        "distance_km": distance,
        "chain_id": trigger_id.take(chain_head),
        "chain_position": pd.array(chain_pos, dtype="Int64"),
        "chain_length": pd.array(chain_len, dtype="Int64"),
        **label_cols,
        **day_cols,
    }
    out = pd.DataFrame({c: columns[c] for c in CYCLE_COLUMNS}, copy=False)  # every column is a new array
    for col in severity_cols:
        values = pd.array(inp.sided[col]).take(inp.order)
        out[f"trigger_{col}"] = at_rows(values)
        out[f"response_{col}"] = values.take(r_fill, allow_fill=True)
    return out


def _together(*calls, size: int):
    """The results of argument-less calls, in order; for ``size`` (events) of at least
    :data:`_THREADS_FROM`, run on two threads. Numpy and Arrow release the GIL in their loops,
    so on two cores the work on a large table takes little more than its longest call; the
    results do not depend on the threads. A call's exception is raised when its result is
    taken, after the results of the calls before it."""
    if size < _THREADS_FROM or len(calls) < 2 or (os.cpu_count() or 1) < 2:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return [f.result() for f in [pool.submit(call) for call in calls]]


def _distances(inp: PairingInput, rows: np.ndarray, r_fill: np.ndarray, has_resp: np.ndarray) -> np.ndarray:
    """Great-circle km from each trigger (``rows``) to its response, where both are placed."""
    distance = np.full(len(rows), np.nan)
    both = has_resp & inp.located[rows] & inp.located[r_fill]
    if not both.any():
        return distance
    columns = inp.xyz.T if len(inp.xyz) else xyz_columns_km(inp.lat, inp.lon)  # each event's point, once
    if both.all():
        return great_circle_km_between(columns, rows, r_fill)
    distance[both] = great_circle_km_between(columns, rows[both], r_fill[both])
    return distance


def _chains(response: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chain head, 1-based position and chain length for every trigger (rows in event order;
    ``response`` gives the row of each trigger's response, ``-1`` when it has none or its
    response is not a trigger).

    The successor of a trigger is its response, if that response comes later in event order and
    has no later trigger that it also answers; positions are found by pointer jumping
    (doubling), in O(n log L), each round on the triggers whose chain start is not yet found.
    """
    n = len(response)
    idx = np.arange(n)
    pred = np.full(n, _NONE, dtype=np.int64)
    has = response > idx  # a same-day answer listed before its trigger (ties: include) is no link
    # the latest trigger answered by each response becomes its predecessor (rows are in time order)
    np.maximum.at(pred, response[has], idx[has])
    linked = pred != _NONE  # not the first event of its chain
    head = np.where(linked, pred, idx)
    rank = linked.astype(np.int64)  # distance to ``head``
    # pointer jumping: after k rounds head points 2^k steps back, or to the chain's first event
    active = np.flatnonzero(linked & linked[head])
    while len(active):
        further = head[active]
        rank[active] += rank[further]  # the right-hand sides are read before anything is written
        further = head[further]
        head[active] = further
        active = active[linked[further]]
    return head, rank + 1, np.bincount(head, minlength=n)[head]  # a chain's length is its number of triggers


def summarise_chains(cycles: pd.DataFrame, *, min_length: int = 2) -> pd.DataFrame:
    """One row per chain of at least ``min_length`` events.

    Returns
    -------
    DataFrame
        ``chain_id``, ``length``, ``start_side``, ``end_side``, ``start_date``, ``end_date``,
        ``duration_days``, ``event_ids`` (space separated, in order), longest first (then by
        start date).
    """
    members = cycles.loc[cycles["chain_length"] >= min_length].sort_values(["chain_id", "chain_position"], kind="stable")
    if members.empty:
        return pd.DataFrame(columns=["chain_id", "length", "start_side", "end_side", "start_date", "end_date", "duration_days",
                                     "event_ids"])
    grouped = members.groupby("chain_id", sort=False)
    table = pd.DataFrame(
        {
            "length": grouped["chain_length"].first().astype("Int64"),
            "start_side": grouped["trigger_side"].first(),
            "end_side": grouped["trigger_side"].last(),
            "start_date": grouped["trigger_date"].first(),
            "end_date": grouped["trigger_date"].last(),
            "event_ids": grouped["trigger_id"].agg(" ".join),
        }
    )
    table["duration_days"] = (table["end_date"] - table["start_date"]).dt.days.astype("Int64")
    table = table.reset_index()[["chain_id", "length", "start_side", "end_side", "start_date", "end_date", "duration_days",
                                 "event_ids"]]
    return table.sort_values(["length", "start_date", "chain_id"], ascending=[False, True, True],
                             kind="stable").reset_index(drop=True)


def summarise_cycles(cycles: pd.DataFrame, *, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Per direction: triggers, responses, censoring, median and quartiles of the interval.

    The median here is over answered triggers only (censored ones are left out), so it is
    the typical delay *when* a response comes within the window; the survival module gives
    the Kaplan-Meier median that accounts for censoring.

    Parameters
    ----------
    cycles : DataFrame
        Output of :func:`build_cycles`.
    labels : mapping, optional
        Side key -> label for the ``direction`` column.

    Returns
    -------
    DataFrame
        One row per trigger side: ``direction``, ``trigger_side``, ``triggers``,
        ``responses``, ``censored_<reason>`` for each of :data:`CENSOR_REASONS`,
        ``share_censored``, ``median_days``, ``q25_days``, ``q75_days``, ``window_days``.
    """
    labels = dict(labels or {})
    rows = []
    every_side = set(cycles["trigger_side"].unique())  # not set(column): that walks a million rows in Python
    for side, group in cycles.groupby("trigger_side", sort=True):
        answered = group.loc[~group["censored"], "interval_days"].astype(float)
        others = sorted(every_side - {side})
        row = {
            "direction": f"{labels.get(side, side)} -> {', '.join(labels.get(o, o) for o in others)}",
            "trigger_side": side,
            "triggers": len(group),
            "responses": int((~group["censored"]).sum()),
        }
        for why in CENSOR_REASONS:
            row[f"censored_{why}"] = int((group["censor_reason"] == why).sum())
        row.update(
            {
                "share_censored": float(group["censored"].mean()) if len(group) else np.nan,
                "median_days": float(answered.median()) if len(answered) else np.nan,
                "q25_days": float(answered.quantile(0.25)) if len(answered) else np.nan,
                "q75_days": float(answered.quantile(0.75)) if len(answered) else np.nan,
                "window_days": ", ".join(str(w) for w in sorted(group["window_days"].dropna().unique())),
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def with_event_details(
    cycles: pd.DataFrame,
    events: pd.DataFrame,
    *,
    columns: Iterable[str] = ("location", "country"),
    id_col: str = "event_id",
) -> pd.DataFrame:
    """Return ``cycles`` with ``trigger_<col>`` and ``response_<col>`` taken from ``events``.

    For reading the strike -> response table: e.g. where each strike and its response happened.
    """
    by_id = events.set_index(id_col)
    out = cycles.copy()
    for col in columns:
        out[f"trigger_{col}"] = out["trigger_id"].map(by_id[col])
        out[f"response_{col}"] = out["response_id"].map(by_id[col])
    return out
