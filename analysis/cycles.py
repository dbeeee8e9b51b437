"""Strike -> response pairing and chains: the escalation-cycle dataset.

Definitions (``DESIGN.md`` section 4), each controlled by a parameter of :func:`build_cycles`:

Response
    The response to an event of side A is the first later event of another side B within
    ``window_days`` of it (inclusive: an event exactly ``window_days`` later counts). Which
    events may answer is narrowed by ``response_kinds``, ``min_severity`` and ``theatre``.
Matching
    ``"many_to_one"`` (default): several A events may share one response. ``"one_to_one"``:
    each B event answers at most one A event, the earliest one still waiting (first come,
    first served); a later A event then waits for the next B event.
Own next event
    With ``own_event_ends_wait=True``, the wait of an A event ends at A's own next event on a
    later day: if B has not answered by then, the event is censored (``own_next_event``). A
    response on the same day as A's next event still counts.
Ties
    With day precision, a B event on the same day as A's has an unknown order. When both carry
    ``time_utc`` they are ordered by it (B after A is a response, ``interval_days`` 0).
    Otherwise the trigger is marked ``order_ambiguous`` and ``ties`` decides: ``"exclude"``
    (default) never counts an unordered same-day event as a response; ``"include"`` counts it
    with ``interval_days`` 0.
Censoring
    No response within the window: ``window_end`` when the whole window lies within the data,
    ``study_end`` when it runs past the last day observed, ``own_next_event`` as above (the
    earliest of the three applies). ``interval_days`` then holds the follow-up time: read it
    with ``censored``, as survival data.
Chain
    A maximal alternating sequence in which each event answers the previous one. An event
    answered by several triggers (many-to-one) continues the chain of the latest of them; the
    earlier ones end their own chains there. Every event is in exactly one chain (a lone event
    is a chain of length 1); ``chain_id`` is the ``event_id`` of the chain's first event.

Events with the same date and time keep their input order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

__all__ = [
    "CENSOR_REASONS",
    "CYCLE_COLUMNS",
    "MATCHING",
    "TIE_RULES",
    "build_cycles",
    "summarise_chains",
    "summarise_cycles",
    "with_event_details",
]

TIE_RULES = ("exclude", "include")
MATCHING = ("many_to_one", "one_to_one")
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
    "censored",
    "censor_reason",
    "window_days",
    "order_ambiguous",
    "chain_id",
    "chain_position",
    "chain_length",
)

_NONE = -1


def _windows(window_days: int | Mapping, sides: list[str]) -> dict[str, int]:
    """Window per trigger side from one number or a mapping keyed by side or (side, other)."""
    if isinstance(window_days, Mapping):
        windows = {(k[0] if isinstance(k, tuple) else k): int(v) for k, v in window_days.items()}
        absent = [s for s in sides if s not in windows]
        if absent:
            raise ValueError(f"window_days gives no window for trigger side(s) {absent}; it has {list(window_days)}")
    else:
        windows = {s: int(window_days) for s in sides}
    negative = {s: w for s, w in windows.items() if w < 0}
    if negative:
        raise ValueError(f"window_days must be >= 0, got {negative}")
    return windows


_DAY_US = 86_400 * 10**6
_BEFORE_US = 14 * 3_600 * 10**6  # a UTC time may precede its local date's midnight by up to 14 h
_SPAN_US = 52 * 3_600 * 10**6  # ... and follow it by up to 38 h
_SLOT = 2**38  # room for one local day's times in microseconds (52 h < 2**38 us); int64 keys last to year ~90,000


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


def _unique(values: pd.api.extensions.ExtensionArray) -> bool:
    """Whether an id array has no repeated value (factorizing is the fastest hash pandas offers)."""
    return len(pd.factorize(values)[1]) == len(values)


def _first_after(
    t_day: np.ndarray, t_key: np.ndarray, t_timed: np.ndarray, c_day: np.ndarray, c_key: np.ndarray, c_timed: np.ndarray, ties: str
) -> tuple[np.ndarray, np.ndarray]:
    """For each trigger, the position of the first candidate that answers it, and whether its
    order against some same-day candidate is unknown.

    Keys come from :func:`_order_keys` (candidates sorted by them). Returns ``(first,
    ambiguous)``; ``first`` is ``len(c_key)`` when no candidate follows.
    """
    day_lo = np.searchsorted(c_day, t_day, side="left")  # first candidate on the trigger's day
    day_hi = np.searchsorted(c_day, t_day, side="right")  # first candidate on a later day
    untimed_cum = np.concatenate(([0], np.cumsum(~c_timed)))
    n_untimed_day = untimed_cum[day_hi] - untimed_cum[day_lo]  # they sort last within their day
    timed_end = day_hi - n_untimed_day
    # a timed trigger is answered the same day by the first timed candidate strictly after it
    after = np.searchsorted(c_key, t_key, side="right")
    first = np.where(t_timed & (after < timed_end), after, day_hi)
    ambiguous = np.where(t_timed, n_untimed_day > 0, day_hi > day_lo)
    if ties == "include":
        # an unordered same-day candidate answers at once: the first such one of the day
        unordered_first = np.where(t_timed, timed_end, day_lo)
        first = np.where(ambiguous & (unordered_first < first), unordered_first, first)
    return first, ambiguous


def _one_to_one(first: np.ndarray, t_day: np.ndarray, c_day: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Greedy first-come-first-served matching: each trigger, in time order, takes the earliest
    eligible candidate not yet taken, if it falls within its window."""
    n_c = len(c_day)
    matched = np.full(len(first), n_c, dtype=np.int64)
    last = -1
    c_day_list = c_day.tolist()
    for i, (f, d, w) in enumerate(zip(first.tolist(), t_day.tolist(), window.tolist())):
        p = f if f > last else last + 1
        if p < n_c and c_day_list[p] - d <= w:
            matched[i] = p
            last = p
    return matched


def build_cycles(
    events: pd.DataFrame,
    *,
    window_days: int | Mapping = 30,
    study_end: str | pd.Timestamp | None = None,
    ties: str = "exclude",
    matching: str = "many_to_one",
    own_event_ends_wait: bool = False,
    response_kinds: Iterable[str] | None = None,
    min_severity: Mapping[str, float] | None = None,
    theatre: Iterable[str] | None = None,
    severity_cols: Iterable[str] = ("fatalities",),
    id_col: str = "event_id",
    side_col: str = "side",
    date_col: str = "date",
    time_col: str = "time_utc",
    kind_col: str = "kind",
    country_col: str = "country",
) -> pd.DataFrame:
    """Pair every event with the response from the other side, and link responses into chains.

    Parameters
    ----------
    events : DataFrame
        Canonical events with a side. Events whose side is missing are neither triggers nor
        responses and are not in the output (count them before calling). Not modified.
    window_days : int or mapping
        Days within which a response counts (inclusive). One number, or one per trigger side
        (``{"us": 14, "militias": 30}``; keys may also be ``(trigger_side, response_side)``).
    study_end : date, optional
        Last day observed. Defaults to the last event date; pass the dyad's ``period.end`` when
        the data are known to cover it.
    ties : {"exclude", "include"}
        What an unordered same-day event of the other side is (see module notes).
    matching : {"many_to_one", "one_to_one"}
        Whether one event may answer several triggers (see module notes).
    own_event_ends_wait : bool
        Whether the trigger side's own next event (on a later day) ends the wait.
    response_kinds : iterable of str, optional
        Only events of these kinds may be responses (every event remains a trigger).
    min_severity : mapping, optional
        Column -> minimum, e.g. ``{"fatalities": 1}``: only events at or above every minimum may
        be responses; an event whose value is missing does not qualify.
    theatre : iterable of str, optional
        Countries: only events in them may be responses.
    severity_cols : iterable of str
        Columns copied as ``trigger_<col>`` and ``response_<col>``.
    id_col, side_col, date_col, time_col, kind_col, country_col : str
        Column names in ``events``; ``time_col`` may be absent.

    Returns
    -------
    DataFrame
        One row per sided event, keyed by ``trigger_id``, with the columns
        :data:`CYCLE_COLUMNS` then ``trigger_<sev>``/``response_<sev>``, in event order (date,
        time, input order). ``interval_days`` is the days from trigger to response, or the
        follow-up time for censored rows.

    Examples
    --------
    >>> ev = pd.DataFrame({"event_id": ["a", "b"], "side": ["us", "mil"], "kind": ["airstrike", "rocket"],
    ...                    "date": pd.to_datetime(["2020-01-01", "2020-01-05"])})
    >>> build_cycles(ev, window_days=30, study_end="2020-03-01")[["trigger_id", "response_id", "interval_days"]]
      trigger_id response_id  interval_days
    0          a           b              4
    1          b        <NA>             30
    """
    if ties not in TIE_RULES:
        raise ValueError(f"ties must be one of {TIE_RULES}, got {ties!r}")
    if matching not in MATCHING:
        raise ValueError(f"matching must be one of {MATCHING}, got {matching!r}")
    absent = [c for c in (id_col, side_col, date_col, kind_col) if c not in events.columns]
    if absent:
        raise ValueError(f"events has no {absent} column(s); columns are: {', '.join(map(str, events.columns))}")
    min_severity = dict(min_severity or {})
    missing_sev = [c for c in min_severity if c not in events.columns]
    if missing_sev:
        raise ValueError(f"min_severity names column(s) {missing_sev} that events does not have")
    if theatre is not None and country_col not in events.columns:
        raise ValueError(f"a theatre filter needs a '{country_col}' column in events")
    severity_cols = [c for c in severity_cols if c in events.columns]

    needed = [id_col, side_col, date_col, kind_col, *severity_cols, *min_severity]
    needed += [c for c in (time_col,) if c in events.columns] + ([country_col] if theatre is not None else [])
    has_side = events[side_col].notna()
    # the sided rows' columns, without copying the frame when every event has a side
    sided = events if has_side.all() else events.loc[has_side, list(dict.fromkeys(needed))]
    ids_in = pd.array(sided[id_col], dtype="string")
    if not _unique(ids_in):
        dups = pd.Series(ids_in)[pd.Series(ids_in).duplicated()].head(5).tolist()
        raise ValueError(f"events has duplicate '{id_col}' values, e.g. {dups}")

    # event order: day, then known time (unknown last), then input order
    day = pd.to_datetime(sided[date_col]).to_numpy(dtype="datetime64[D]").astype(np.int64)
    if time_col in sided.columns:
        raw_time = pd.to_datetime(sided[time_col]).to_numpy(dtype="datetime64[ns]")
        time = np.where(np.isnat(raw_time), _NONE, raw_time.astype(np.int64))
    else:
        time = np.full(len(sided), _NONE, dtype=np.int64)
    key = _order_keys(day, time, sided[id_col])
    order = _argsort_stable_ties(key)
    day, time, key = day[order], time[order], key[order]
    ids = ids_in.take(order)
    side_code, side_names = pd.factorize(sided[side_col])
    by_name = np.argsort(np.asarray(side_names, dtype=str))  # sides in sorted order
    side_code, side_names = np.argsort(by_name)[side_code], side_names[by_name]
    kind_code, kind_names = pd.factorize(sided[kind_col])
    side_code, kind_code = side_code[order], kind_code[order]
    n = len(day)

    end_day = (
        pd.Timestamp(study_end).to_datetime64().astype("datetime64[D]").astype(np.int64)
        if study_end is not None
        else (day.max() if n else 0)
    )
    sides = [str(x) for x in side_names]
    windows = _windows(window_days, sides)

    eligible = np.ones(n, dtype=bool)
    if response_kinds is not None:
        eligible &= np.isin(kind_code, [i for i, k in enumerate(kind_names) if k in set(response_kinds)])
    for col, minimum in min_severity.items():
        values = pd.to_numeric(sided[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)[order]
        eligible &= values >= minimum  # missing (NaN) never qualifies
    if theatre is not None:
        eligible &= sided[country_col].isin(list(theatre)).to_numpy()[order]

    response = np.full(n, _NONE, dtype=np.int64)  # position (in event order) of the response
    follow = np.zeros(n, dtype=np.int64)
    reason = np.zeros(n, dtype=np.int8)  # 0 answered, else 1 + index in CENSOR_REASONS
    ambiguous = np.zeros(n, dtype=bool)
    window_of = np.zeros(n, dtype=np.int64)
    timed = time != _NONE
    WINDOW_END, STUDY_END, OWN_NEXT = (1 + CENSOR_REASONS.index(r) for r in CENSOR_REASONS)

    for code, s in enumerate(sides):
        mine = side_code == code
        t_pos = np.flatnonzero(mine)
        c_pos = np.flatnonzero(~mine & eligible)
        t_day, c_day = day[t_pos], day[c_pos]
        w = windows[s]
        first, amb = _first_after(t_day, key[t_pos], timed[t_pos], c_day, key[c_pos], timed[c_pos], ties)
        if matching == "one_to_one":
            first = _one_to_one(first, t_day, c_day, np.full(len(t_pos), w))
        has = first < len(c_pos)
        r_day = np.append(c_day, 0)[first]  # 0 where no candidate follows (masked by ``has``)
        interval = r_day - t_day
        answered = has & (interval <= w)

        # when the wait ends without an answer: the earliest of window end, study end, own next event
        stop = np.full(len(t_pos), w, dtype=np.int64)
        why = np.full(len(t_pos), WINDOW_END, dtype=np.int8)
        to_end = end_day - t_day
        past_end = to_end < stop
        stop = np.where(past_end, np.maximum(to_end, 0), stop)
        why[past_end] = STUDY_END
        if own_event_ends_wait:
            nxt = np.searchsorted(t_day, t_day, side="right")  # own next event on a later day
            has_next = nxt < len(t_day)
            own_gap = np.where(has_next, t_day[np.minimum(nxt, len(t_day) - 1)] - t_day, np.iinfo(np.int64).max)
            ended = own_gap <= stop
            cut = ended & ~(answered & (interval <= own_gap))
            answered &= ~(ended & (interval > own_gap))
            stop = np.where(cut, own_gap, stop)
            why[cut] = OWN_NEXT

        response[t_pos[answered]] = c_pos[first[answered]]
        follow[t_pos] = np.where(answered, interval, stop)
        reason[t_pos] = np.where(answered, 0, why)
        ambiguous[t_pos] = amb
        window_of[t_pos] = w

    chain_id, chain_pos, chain_len = _chains(response, day)

    has_resp = response != _NONE
    r_fill = np.where(has_resp, response, -1)  # -1: missing in the takes below
    side_arr = pd.array(side_names, dtype="string")
    kind_arr = pd.array(kind_names, dtype="string")
    kind_r = np.where(has_resp, np.append(kind_code, -1)[r_fill], -1)
    dates = day.astype("datetime64[D]").astype("datetime64[ns]")
    out = pd.DataFrame(
        {
            "trigger_id": ids,
            "trigger_side": side_arr.take(side_code),
            "trigger_date": dates,
            "trigger_kind": kind_arr.take(kind_code, allow_fill=True),
            "response_id": ids.take(r_fill, allow_fill=True),
            "response_side": side_arr.take(np.where(has_resp, np.append(side_code, -1)[r_fill], -1), allow_fill=True),
            "response_date": np.where(has_resp, np.append(dates, np.datetime64("NaT"))[r_fill], np.datetime64("NaT")),
            "response_kind": kind_arr.take(kind_r, allow_fill=True),
            "interval_days": pd.array(follow, dtype="Int64"),
            "censored": ~has_resp,
            "censor_reason": pd.array(list(CENSOR_REASONS), dtype="string").take(reason.astype(np.int64) - 1, allow_fill=True),
            "window_days": pd.array(window_of, dtype="Int64"),
            "order_ambiguous": ambiguous,
            "chain_id": ids.take(chain_id),
            "chain_position": pd.array(chain_pos, dtype="Int64"),
            "chain_length": pd.array(chain_len, dtype="Int64"),
        }
    )
    for col in severity_cols:
        values = pd.array(sided[col]).take(order)
        out[f"trigger_{col}"] = values
        out[f"response_{col}"] = values.take(r_fill, allow_fill=True)
    return out


def _chains(response: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chain head, 1-based position and chain length for every event.

    The successor of an event is its response, if that response has no later trigger that it
    also answers; positions are found by pointer jumping (doubling), in O(n log L).
    """
    n = len(response)
    idx = np.arange(n)
    pred = np.full(n, _NONE, dtype=np.int64)
    has = response != _NONE
    # the latest trigger answered by each response becomes its predecessor (events are in time order)
    np.maximum.at(pred, response[has], idx[has])  # the latest trigger a response answers
    head = np.where(pred == _NONE, idx, pred)
    rank = (pred != _NONE).astype(np.int64)  # distance to ``head``
    # pointer jumping: after k rounds head points 2^k steps back, or to the chain's first event
    while True:
        nxt = head[head]
        if np.array_equal(nxt, head):
            break
        rank = rank + rank[head]
        head = nxt
    position = rank + 1
    length = np.zeros(n, dtype=np.int64)
    np.maximum.at(length, head, position)
    return head, position, length[head]


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
        return pd.DataFrame(columns=["chain_id", "length", "start_side", "end_side", "start_date", "end_date", "duration_days", "event_ids"])
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
    table = table.reset_index()[["chain_id", "length", "start_side", "end_side", "start_date", "end_date", "duration_days", "event_ids"]]
    return table.sort_values(["length", "start_date", "chain_id"], ascending=[False, True, True], kind="stable").reset_index(drop=True)


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
    for side, group in cycles.groupby("trigger_side", sort=True):
        answered = group.loc[~group["censored"], "interval_days"].astype(float)
        others = sorted(set(cycles["trigger_side"]) - {side})
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
