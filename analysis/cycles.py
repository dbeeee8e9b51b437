"""Strike -> response pairing: the escalation-cycle dataset.

Definitions (``DESIGN.md`` section 4):

Response
    The response to an event of side A is the first later event of another side B within
    ``window_days`` of it. An event exactly ``window_days`` days later still counts.
Ties
    With day precision, an event of side B on the same day as A's has an unknown order. When both
    carry ``time_utc`` they are ordered by it (B after A is a response, with ``interval_days``
    0). Otherwise the trigger is marked ``order_ambiguous`` and the ``ties`` rule decides:
    ``"exclude"`` (default) never counts an unordered same-day event as a response;
    ``"include"`` counts it, with ``interval_days`` 0.
Censoring
    With no response within the window, the trigger is censored: ``censor_reason`` is
    ``"window_end"`` when the whole window lies within the data, ``"study_end"`` when the window
    runs past ``study_end`` (the last day observed). ``interval_days`` then holds the follow-up
    time (``window_days``, or the days to ``study_end``), ready for survival analysis: read it
    together with ``censored``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

__all__ = ["CYCLE_COLUMNS", "TIE_RULES", "build_cycles", "summarise_cycles", "with_event_details"]

TIE_RULES = ("exclude", "include")

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
)


def _windows(window_days: int | Mapping[tuple[str, str], int] | Mapping[str, int], sides: list[str]) -> dict[str, int]:
    """Window per trigger side.

    ``window_days`` is one number for every direction, or a mapping keyed by trigger side
    (``{"us": 14, "militias": 30}``) or by direction (``{("us", "militias"): 14, ...}``).
    """
    if isinstance(window_days, Mapping):
        per_side: dict[str, int] = {}
        for key, value in window_days.items():
            side = key[0] if isinstance(key, tuple) else key
            per_side[side] = int(value)
        absent = [s for s in sides if s not in per_side]
        if absent:
            raise ValueError(f"window_days gives no window for trigger side(s) {absent}; it has {list(window_days)}")
        windows = per_side
    else:
        windows = {s: int(window_days) for s in sides}
    negative = {s: w for s, w in windows.items() if w < 0}
    if negative:
        raise ValueError(f"window_days must be >= 0, got {negative}")
    return windows


def build_cycles(
    events: pd.DataFrame,
    *,
    window_days: int | Mapping = 30,
    study_end: str | pd.Timestamp | None = None,
    ties: str = "exclude",
    response_kinds: Iterable[str] | None = None,
    severity_cols: Iterable[str] = ("fatalities",),
    id_col: str = "event_id",
    side_col: str = "side",
    date_col: str = "date",
    time_col: str = "time_utc",
    kind_col: str = "kind",
) -> pd.DataFrame:
    """Pair every event with the first response from the other side.

    Parameters
    ----------
    events : DataFrame
        Canonical events with a side. Events whose side is missing are neither triggers nor
        responses (count them before calling: they are not in the output). Not modified.
    window_days : int or mapping
        Days within which a response counts (inclusive). One number, or one per trigger side
        (``{"us": 14, "militias": 30}``; keys may also be ``(trigger_side, response_side)``).
    study_end : date, optional
        Last day observed. Defaults to the last event date; pass the dyad's ``period.end`` when
        the data are known to cover it.
    ties : {"exclude", "include"}
        What an unordered same-day event of the other side is (see module notes).
    response_kinds : iterable of str, optional
        Only events of these kinds count as responses (all events remain triggers).
    severity_cols : iterable of str
        Columns copied as ``trigger_<col>`` and ``response_<col>``.
    id_col, side_col, date_col, time_col, kind_col : str
        Column names in ``events``; ``time_col`` may be absent.

    Returns
    -------
    DataFrame
        One row per sided event, keyed by ``trigger_id``, with the columns
        :data:`CYCLE_COLUMNS` then ``trigger_<sev>``/``response_<sev>``, sorted by trigger date
        and id. ``interval_days`` is the days from trigger to response, or the follow-up time
        for censored rows.

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
    needed = [id_col, side_col, date_col, kind_col]
    absent = [c for c in needed if c not in events.columns]
    if absent:
        raise ValueError(f"events has no {absent} column(s); columns are: {', '.join(events.columns)}")
    severity_cols = [c for c in severity_cols if c in events.columns]

    ev = events.loc[events[side_col].notna()].copy()
    if ev[id_col].duplicated().any():
        dups = ev.loc[ev[id_col].duplicated(), id_col].head(5).tolist()
        raise ValueError(f"events has duplicate '{id_col}' values, e.g. {dups}")
    ev["_date"] = pd.to_datetime(ev[date_col]).dt.normalize().astype("datetime64[ns]")
    ev["_time"] = (
        pd.to_datetime(ev[time_col]).astype("datetime64[ns]") if time_col in ev.columns else pd.Series(pd.NaT, index=ev.index, dtype="datetime64[ns]")
    )
    ev = ev.sort_values(["_date", "_time", id_col], kind="stable", na_position="last").reset_index(drop=True)
    end = pd.Timestamp(study_end).normalize() if study_end is not None else ev["_date"].max()
    sides = sorted(ev[side_col].astype(str).unique())
    windows = _windows(window_days, sides)
    counts_as_response = ev[kind_col].isin(list(response_kinds)) if response_kinds is not None else pd.Series(True, index=ev.index)

    parts = []
    for side in sides:
        trig = ev.loc[ev[side_col] == side, [id_col, "_date", "_time"]].rename(columns={id_col: "trigger_id"})
        trig["_pos"] = np.arange(len(trig))
        cand_mask = (ev[side_col] != side) & counts_as_response
        cand = ev.loc[cand_mask, [id_col, "_date", "_time"]].rename(columns={id_col: "response_id"})

        # first candidate on a later day
        later = pd.merge_asof(
            trig.sort_values("_date", kind="stable"),
            cand.assign(_rdate=cand["_date"])[["_date", "_rdate", "response_id"]],
            on="_date",
            direction="forward",
            allow_exact_matches=False,
        ).sort_values("_pos", kind="stable")

        # same day, both times known, candidate strictly after the trigger
        timed_t = trig.dropna(subset=["_time"]).sort_values("_time", kind="stable")
        timed_c = cand.dropna(subset=["_time"]).sort_values("_time", kind="stable")
        same = pd.merge_asof(
            timed_t,
            timed_c.assign(_rtime=timed_c["_time"])[["_date", "_time", "_rtime", "response_id"]],
            on="_time",
            by="_date",
            direction="forward",
            allow_exact_matches=False,
        ).set_index("_pos")

        # same-day candidates whose order against the trigger is unknown
        same_day = trig[["_pos", "_date", "_time"]].merge(cand[["_date", "_time", "response_id"]], on="_date", suffixes=("", "_c"))
        unordered = same_day[same_day["_time"].isna() | same_day["_time_c"].isna()]
        first_unordered = unordered.groupby("_pos", sort=True)["response_id"].first()

        t = trig.set_index("_pos")
        resp = pd.Series(pd.NA, index=t.index, dtype="object")
        rdate = pd.Series(pd.NaT, index=t.index, dtype="datetime64[ns]")
        nxt = later.set_index("_pos")
        has_next = nxt["response_id"].notna()
        resp[has_next] = nxt.loc[has_next, "response_id"]
        rdate[has_next] = nxt.loc[has_next, "_rdate"]
        if ties == "include" and len(first_unordered):
            resp.loc[first_unordered.index] = first_unordered
            rdate.loc[first_unordered.index] = t.loc[first_unordered.index, "_date"]
        ordered = same["response_id"].dropna()
        resp.loc[ordered.index] = ordered
        rdate.loc[ordered.index] = t.loc[ordered.index, "_date"]

        window = windows[side]
        interval = (rdate - t["_date"]).dt.days
        answered = resp.notna() & (interval <= window)
        window_end = t["_date"] + pd.Timedelta(days=window)
        censored = ~answered
        reason = pd.Series(pd.NA, index=t.index, dtype="string")
        reason[censored & (window_end <= end)] = "window_end"
        reason[censored & (window_end > end)] = "study_end"
        follow_up = np.minimum(window, (end - t["_date"]).dt.days.clip(lower=0))

        parts.append(
            pd.DataFrame(
                {
                    "trigger_id": t["trigger_id"].to_numpy(),
                    "trigger_side": side,
                    "trigger_date": t["_date"].to_numpy(),
                    "response_id": resp.where(answered).to_numpy(),
                    "response_date": rdate.where(answered).to_numpy(),
                    "interval_days": interval.where(answered, follow_up).to_numpy(),
                    "censored": censored.to_numpy(),
                    "censor_reason": reason.to_numpy(),
                    "window_days": window,
                    "order_ambiguous": t.index.isin(first_unordered.index),
                }
            )
        )

    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=CYCLE_COLUMNS)
    by_id = ev.set_index(id_col)
    out["response_id"] = out["response_id"].astype("string")
    out["trigger_id"] = out["trigger_id"].astype("string")
    out["trigger_side"] = out["trigger_side"].astype("string")
    out["response_side"] = out["response_id"].map(by_id[side_col]).astype("string")
    out["trigger_kind"] = out["trigger_id"].map(by_id[kind_col]).astype("string")
    out["response_kind"] = out["response_id"].map(by_id[kind_col]).astype("string")
    out["interval_days"] = out["interval_days"].astype("Int64")
    out["censored"] = out["censored"].astype(bool)
    out["window_days"] = out["window_days"].astype("Int64")
    out["order_ambiguous"] = out["order_ambiguous"].astype(bool)
    out["censor_reason"] = out["censor_reason"].astype("string")
    out["trigger_date"] = out["trigger_date"].astype("datetime64[ns]")
    out["response_date"] = out["response_date"].astype("datetime64[ns]")
    for col in severity_cols:
        out[f"trigger_{col}"] = out["trigger_id"].map(by_id[col]).astype(by_id[col].dtype)
        out[f"response_{col}"] = out["response_id"].map(by_id[col]).astype(by_id[col].dtype)
    out = out[list(CYCLE_COLUMNS) + [c for c in out.columns if c not in CYCLE_COLUMNS]]
    return out.sort_values(["trigger_date", "trigger_id"], kind="stable").reset_index(drop=True)


def summarise_cycles(cycles: pd.DataFrame, *, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Per direction: triggers, responses, share censored, median and quartiles of the interval.

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
        ``responses``, ``censored_window_end``, ``censored_study_end``, ``share_censored``,
        ``median_days``, ``q25_days``, ``q75_days``, ``window_days``.
    """
    labels = dict(labels or {})
    rows = []
    for side, group in cycles.groupby("trigger_side", sort=True):
        answered = group.loc[~group["censored"], "interval_days"].astype(float)
        others = sorted(set(cycles["trigger_side"]) - {side})
        rows.append(
            {
                "direction": f"{labels.get(side, side)} -> {', '.join(labels.get(o, o) for o in others)}",
                "trigger_side": side,
                "triggers": len(group),
                "responses": int((~group["censored"]).sum()),
                "censored_window_end": int((group["censor_reason"] == "window_end").sum()),
                "censored_study_end": int((group["censor_reason"] == "study_end").sum()),
                "share_censored": float(group["censored"].mean()) if len(group) else np.nan,
                "median_days": float(answered.median()) if len(answered) else np.nan,
                "q25_days": float(answered.quantile(0.25)) if len(answered) else np.nan,
                "q75_days": float(answered.quantile(0.75)) if len(answered) else np.nan,
                "window_days": ", ".join(str(w) for w in sorted(group["window_days"].dropna().unique())),
            }
        )
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
