"""Episodes of violence and the pauses between them.

Episode (Abrahams, Berman, Khadka, Klor & Powell)
    Events of either side whose successive dates are less than ``quiet_days`` apart belong to
    one episode; a gap of ``quiet_days`` or more ends it. For each episode: who starts it, who
    ends it (a side, or ``"both"`` when both sides act on its first or last day), whether it is
    one-sided, how often the initiative alternates, how long it lasts and how long the calm after.
Alternations
    Counted on days. A day with one side's events continues or switches the initiative; a day
    with both sides counts one alternation, and the order of its events is taken to be the one
    giving the fewest alternations (the previous day's side first), so the count is a lower bound
    where times are unknown.
Pause (Kanwisher, Haushofer & Biletzki 2009)
    A run of one or more days with no event of either side. Its length is the number of empty
    days; it is ended by the side(s) acting on the first day after it (``"both"`` when both act
    that day). The run before the first event is left-censored and the run after the last event
    is right-censored (no one ends it); both are kept, flagged.

Both functions need exactly two sides: group further sides into one in the dyad spec.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["episodes", "pause_enders", "pause_enders_at_least", "pauses", "side_days"]

BOTH = "both"


def side_days(events: pd.DataFrame, *, sides: Sequence[str], side_col: str = "side", date_col: str = "date") -> pd.DataFrame:
    """One row per day with at least one event of the two sides.

    Returns
    -------
    DataFrame
        ``date``, ``n_<side>`` for each side, ``who`` (a side key or ``"both"``), in date order.
    """
    if len(sides) != 2:
        raise ValueError(f"episodes and pauses need exactly two sides, got {list(sides)}; group the others in the dyad spec")
    a, b = sides
    sided = events.loc[events[side_col].isin([a, b]), [date_col, side_col]]
    counts = (
        pd.crosstab(pd.to_datetime(sided[date_col]).dt.normalize(), sided[side_col])
        .reindex(columns=[a, b], fill_value=0)
        .sort_index()
    )
    out = pd.DataFrame({"date": counts.index.astype("datetime64[ns]"),
                        f"n_{a}": counts[a].to_numpy(), f"n_{b}": counts[b].to_numpy()})
    out["who"] = np.where((out[f"n_{a}"] > 0) & (out[f"n_{b}"] > 0), BOTH, np.where(out[f"n_{a}"] > 0, a, b))
    return out


def _alternations(who: np.ndarray, episode: np.ndarray, a: str) -> np.ndarray:
    """Alternations per episode from day labels (see module notes), vectorised.

    Between two single-side days with k both-days in between, the initiative flips k times, so
    the later day alternates iff its side differs from the earlier side flipped k times.
    """
    n_ep = int(episode.max()) + 1 if len(episode) else 0
    both = who == BOTH
    total = np.bincount(episode, weights=both, minlength=n_ep)
    single = np.flatnonzero(~both)
    if len(single) > 1:
        both_cum = np.cumsum(both)
        prev, cur = single[:-1], single[1:]
        same_episode = episode[prev] == episode[cur]
        flips = both_cum[cur] - both_cum[prev]
        prev_side = who[prev] == a
        expected = np.where(flips % 2 == 0, prev_side, ~prev_side)
        switched = same_episode & (expected != (who[cur] == a))
        total += np.bincount(episode[cur], weights=switched, minlength=n_ep)
    return total.astype(np.int64)


def episodes(
    events: pd.DataFrame,
    *,
    sides: Sequence[str],
    quiet_days: int = 7,
    study_end: str | pd.Timestamp | None = None,
    side_col: str = "side",
    date_col: str = "date",
) -> pd.DataFrame:
    """Split the two sides' events into episodes separated by at least ``quiet_days``.

    Parameters
    ----------
    events : DataFrame
        Events with a side and a date; rows of other sides are ignored. Not modified.
    sides : sequence of two str
        The dyad's sides, e.g. ``spec.side_keys``.
    quiet_days : int
        A gap of this many days or more between successive event dates ends an episode (so
        ``quiet_days=7`` allows up to six empty days inside an episode).
    study_end : date, optional
        Last day observed; the calm after the last episode runs to it (right-censored).
        Defaults to the last event date.

    Returns
    -------
    DataFrame
        One row per episode, keyed by ``episode_id`` (1, 2, ...): ``start_date``, ``end_date``,
        ``duration_days`` (first to last day, inclusive), ``event_days``, ``n_events``,
        ``n_<side>``, ``start_side`` and ``end_side`` (a side or ``"both"``), ``one_sided``,
        ``alternations``, ``calm_after_days`` (empty days until the next episode or study end)
        and ``calm_after_censored`` (True for the last episode).
    """
    if quiet_days < 1:
        raise ValueError(f"quiet_days must be >= 1, got {quiet_days}")
    days = side_days(events, sides=sides, side_col=side_col, date_col=date_col)
    a, b = sides
    columns = ["episode_id", "start_date", "end_date", "duration_days", "event_days", "n_events", f"n_{a}", f"n_{b}",
               "start_side", "end_side", "one_sided", "alternations", "calm_after_days", "calm_after_censored"]
    if days.empty:
        return pd.DataFrame(columns=columns)
    gap = days["date"].diff().dt.days.fillna(np.inf).to_numpy()
    episode = np.cumsum(gap >= quiet_days) - 1
    who = days["who"].to_numpy(dtype=object)
    grouped = days.assign(episode=episode).groupby("episode", sort=True)
    out = pd.DataFrame(
        {
            "episode_id": np.arange(1, episode.max() + 2),
            "start_date": grouped["date"].first().to_numpy(),
            "end_date": grouped["date"].last().to_numpy(),
            "event_days": grouped.size().to_numpy(),
            f"n_{a}": grouped[f"n_{a}"].sum().to_numpy(),
            f"n_{b}": grouped[f"n_{b}"].sum().to_numpy(),
            "start_side": grouped["who"].first().to_numpy(),
            "end_side": grouped["who"].last().to_numpy(),
        }
    )
    out["n_events"] = out[f"n_{a}"] + out[f"n_{b}"]
    out["duration_days"] = (out["end_date"] - out["start_date"]).dt.days + 1
    out["one_sided"] = (out[f"n_{a}"] == 0) | (out[f"n_{b}"] == 0)
    out["alternations"] = _alternations(who, episode, a)
    end = pd.Timestamp(study_end).normalize() if study_end is not None else out["end_date"].iloc[-1]
    next_start = out["start_date"].shift(-1)
    calm = (next_start - out["end_date"]).dt.days - 1
    calm.iloc[-1] = max((end - out["end_date"].iloc[-1]).days, 0)
    out["calm_after_days"] = calm.astype("int64")
    out["calm_after_censored"] = np.arange(len(out)) == len(out) - 1
    return out[columns]


def pauses(
    events: pd.DataFrame,
    *,
    sides: Sequence[str],
    study_start: str | pd.Timestamp | None = None,
    study_end: str | pd.Timestamp | None = None,
    side_col: str = "side",
    date_col: str = "date",
) -> pd.DataFrame:
    """Every run of days with no event of either side, and who ends it.

    Parameters
    ----------
    events : DataFrame
        Events with a side and a date; rows of other sides are ignored. Not modified.
    sides : sequence of two str
        The dyad's sides.
    study_start, study_end : date, optional
        First and last days observed. When given, the empty days before the first event and
        after the last event are pauses too, flagged ``left_censored`` / ``right_censored``.

    Returns
    -------
    DataFrame
        One row per pause, keyed by ``pause_id``: ``start_date``, ``end_date`` (first and last
        empty day), ``length_days``, ``after_side`` (who acted on the day before; missing when
        left-censored), ``ended_by`` (a side, ``"both"``, or missing when right-censored),
        ``left_censored``, ``right_censored``.
    """
    days = side_days(events, sides=sides, side_col=side_col, date_col=date_col)
    dates = days["date"].to_numpy(dtype="datetime64[D]")
    who = days["who"].to_numpy(dtype=object)
    one = np.timedelta64(1, "D")
    starts, ends, after, ended, left, right = [], [], [], [], [], []
    if len(dates):
        gap = np.diff(dates).astype(np.int64) - 1
        inner = np.flatnonzero(gap >= 1)
        starts += list(dates[inner] + one)
        ends += list(dates[inner + 1] - one)
        after += list(who[inner])
        ended += list(who[inner + 1])
        left += [False] * len(inner)
        right += [False] * len(inner)
        if study_start is not None:
            s0 = np.datetime64(pd.Timestamp(study_start).date(), "D")
            if dates[0] > s0:
                starts.insert(0, s0)
                ends.insert(0, dates[0] - one)
                after.insert(0, None)
                ended.insert(0, who[0])
                left.insert(0, True)
                right.insert(0, False)
        if study_end is not None:
            s1 = np.datetime64(pd.Timestamp(study_end).date(), "D")
            if dates[-1] < s1:
                starts.append(dates[-1] + one)
                ends.append(s1)
                after.append(who[-1])
                ended.append(None)
                left.append(False)
                right.append(True)
    out = pd.DataFrame(
        {
            "start_date": pd.to_datetime(np.array(starts, dtype="datetime64[D]")).astype("datetime64[ns]"),
            "end_date": pd.to_datetime(np.array(ends, dtype="datetime64[D]")).astype("datetime64[ns]"),
            "after_side": pd.array(after, dtype="string"),
            "ended_by": pd.array(ended, dtype="string"),
            "left_censored": np.array(left, dtype=bool),
            "right_censored": np.array(right, dtype=bool),
        }
    )
    out.insert(0, "pause_id", np.arange(1, len(out) + 1))
    out.insert(3, "length_days", ((out["end_date"] - out["start_date"]).dt.days + 1).astype("int64"))
    return out


def pause_enders(
    pause_table: pd.DataFrame,
    *,
    sides: Sequence[str],
    bins: Sequence[int] = (1, 2, 4, 8, 15, 31),
) -> pd.DataFrame:
    """Who ends pauses, by pause length: the table of Kanwisher, Haushofer & Biletzki (2009).

    Parameters
    ----------
    pause_table : DataFrame
        Output of :func:`pauses`. Censored pauses are left out (no one, or no known start).
    sides : sequence of two str
    bins : sequence of int
        Lower edges of the length classes, in days; the last class is open-ended.

    Returns
    -------
    DataFrame
        One row per length class (``"1"``, ``"2-3"``, ..., ``"31+"``): ``pauses``, the number
        ended by each side and by both, and each side's share of the pauses it ends
        (``share_<side>``; ``both`` counts for neither).
    """
    a, b = sides
    done = pause_table.loc[~pause_table["left_censored"] & ~pause_table["right_censored"]]
    edges = list(bins) + [np.inf]
    labels = [f"{lo}" if hi - lo == 1 else (f"{lo}+" if hi == np.inf else f"{lo}-{hi - 1}")
              for lo, hi in itertools.pairwise(edges)]
    klass = pd.cut(done["length_days"], bins=edges, right=False, labels=labels)
    table = pd.crosstab(klass, done["ended_by"]).reindex(index=labels, columns=[a, b, BOTH], fill_value=0)
    table.index.name = "pause_length_days"
    table.columns = [f"ended_by_{c}" for c in table.columns]
    table.insert(0, "pauses", table.sum(axis=1))
    for side in (a, b):
        table[f"share_{side}"] = table[f"ended_by_{side}"] / table["pauses"].where(table["pauses"] > 0)
    return table.reset_index()


def pause_enders_at_least(
    pause_table: pd.DataFrame,
    *,
    sides: Sequence[str],
    min_lengths: Sequence[int] = (1, 8, 10),
) -> pd.DataFrame:
    """Who ends pauses of at least ``n`` days, for each ``n``: cumulative classes, as published
    by Kanwisher, Haushofer & Biletzki (2009) ("all pauses", "longer than a week" = 8+ days...).

    Censored pauses are left out, as in :func:`pause_enders`.

    Returns
    -------
    DataFrame
        One row per ``n``: ``min_length_days``, ``pauses``, ``ended_by_<side>`` for each side and
        ``ended_by_both``, and ``share_<side>`` / ``share_both`` of all those pauses.
    """
    a, b = sides
    done = pause_table.loc[~pause_table["left_censored"] & ~pause_table["right_censored"]]
    rows = []
    for n in min_lengths:
        long_enough = done.loc[done["length_days"] >= n, "ended_by"]
        row = {"min_length_days": n, "pauses": len(long_enough)}
        for who in (a, b, BOTH):
            row[f"ended_by_{who}"] = int((long_enough == who).sum())
        for who in (a, b, BOTH):
            row[f"share_{who}"] = row[f"ended_by_{who}"] / row["pauses"] if row["pauses"] else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


# --- the severity trajectory of each episode (issue 15) ---------------------------------------

ESCALATED = "escalation"
DE_ESCALATED = "de-escalation"
NO_CHANGE = "no change"

__all__ += ["episode_severity"]


def episode_severity(
    episode_table: pd.DataFrame,
    events: pd.DataFrame,
    *,
    sides: Sequence[str],
    side_col: str = "side",
    date_col: str = "date",
    rank_col: str = "severity_rank",
    level_col: str = "severity_level",
) -> pd.DataFrame:
    """The severity trajectory of each episode: first, peak and last level, who escalated first.

    Levels come from :func:`analysis.severity.assign_severity`. They are read per day: a side's
    level on a day is the highest known level of its events that day, and the episode's level
    on a day the higher of the two sides'. Events of unknown level are left out of the
    trajectory and counted (``events_unknown``); ``trajectory_complete`` says whether there
    were none.

    First, peak, last
        The episode's level on its first and last day with a known level, and its highest.
    Who escalated first (Abrahams, Berman, Khadka, Klor & Powell 2020)
        The first side whose level on a day exceeds every level of the episode's earlier days
        (``"both"`` when both sides do on the same day; ``"none"`` when the episode never rises
        above its first day).
    Ended after
        The direction of the episode's last change of level from one day to the next:
        ``"escalation"``, ``"de-escalation"``, or ``"no change"`` when the level never changed.

    Parameters
    ----------
    episode_table : DataFrame
        Output of :func:`episodes` over the same events (``episode_id``, ``start_date``,
        ``end_date``). Each event belongs to the episode whose days span its date.
    events : DataFrame
        Events with ``severity_rank`` and ``severity_level``; rows of other sides are ignored.
        Not modified.
    sides : sequence of two str

    Returns
    -------
    DataFrame
        One row per episode: ``episode_id``, ``events_known``, ``events_unknown``,
        ``trajectory_complete``, ``first_rank``, ``peak_rank``, ``last_rank`` (Int64, missing
        when no event of the episode has a known level) and their labels ``first_level``,
        ``peak_level``, ``last_level``, ``peak_rank_<side>`` for each side, ``peak_side`` (who
        first reached the peak: a side or ``"both"``), ``escalated_first``,
        ``first_escalation_date`` and ``ended_after``.
    """
    if len(sides) != 2:
        raise ValueError(f"episodes need exactly two sides, got {list(sides)}; group the others in the dyad spec")
    absent = [c for c in (side_col, date_col, rank_col, level_col) if c not in events.columns]
    if absent:
        raise ValueError(f"events has no {absent} column(s) (place them with analysis.severity.assign_severity first); "
                         f"columns are: {', '.join(map(str, events.columns))}")
    a, b = sides
    labels = [c for c in events[level_col].cat.categories if c != "unknown"] if hasattr(events[level_col], "cat") else None
    sided = events.loc[events[side_col].isin([a, b]), [side_col, date_col, rank_col]]
    day = pd.to_datetime(sided[date_col]).dt.normalize().to_numpy(dtype="datetime64[ns]")
    starts = episode_table["start_date"].to_numpy(dtype="datetime64[ns]")
    ends = episode_table["end_date"].to_numpy(dtype="datetime64[ns]")
    pos = np.searchsorted(starts, day, side="right") - 1
    inside = (pos >= 0) & (day <= ends[np.maximum(pos, 0)])
    if not inside.all():
        raise ValueError(f"{int((~inside).sum())} events fall in no episode: build episode_table from the same events")
    frame = pd.DataFrame({"episode": episode_table["episode_id"].to_numpy()[pos], "date": day,
                          "side": sided[side_col].astype(str).to_numpy(),
                          "rank": sided[rank_col].astype("Float64").to_numpy(dtype=float, na_value=np.nan)})
    unknown = frame.groupby("episode")["rank"].apply(lambda r: int(r.isna().sum()))
    known = frame.loc[frame["rank"].notna()]
    per_day = known.pivot_table(index=["episode", "date"], columns="side", values="rank", aggfunc="max")
    per_day = per_day.reindex(columns=[a, b])

    rows = []
    for episode_id in episode_table["episode_id"]:
        row = {"episode_id": episode_id, "events_known": 0, "events_unknown": int(unknown.get(episode_id, 0))}
        days = per_day.loc[episode_id] if episode_id in per_day.index.get_level_values(0) else None
        if days is None or days.empty:
            row.update({"first_rank": pd.NA, "peak_rank": pd.NA, "last_rank": pd.NA, f"peak_rank_{a}": pd.NA,
                        f"peak_rank_{b}": pd.NA, "peak_side": pd.NA, "escalated_first": pd.NA,
                        "first_escalation_date": pd.NaT, "ended_after": pd.NA})
            rows.append(row)
            continue
        row["events_known"] = int((known["episode"] == episode_id).sum())
        ra, rb = days[a].to_numpy(dtype=float), days[b].to_numpy(dtype=float)
        level = np.fmax(ra, rb)
        peak = np.nanmax(level)
        at_peak = np.flatnonzero(level == peak)[0]
        reached = [s for s, r in ((a, ra[at_peak]), (b, rb[at_peak])) if r == peak]
        escalated, when = "none", pd.NaT
        running = level[0]
        for i in range(1, len(level)):
            up = [s for s, r in ((a, ra[i]), (b, rb[i])) if r > running]  # NaN > x is False
            if up:
                escalated, when = (up[0] if len(up) == 1 else BOTH), days.index[i]
                break
            running = max(running, level[i])
        changes = np.flatnonzero(np.diff(level) != 0)
        if len(changes):
            last = changes[-1]
            ended = ESCALATED if level[last + 1] > level[last] else DE_ESCALATED
        else:
            ended = NO_CHANGE
        row.update({
            "first_rank": int(level[0]), "peak_rank": int(peak), "last_rank": int(level[-1]),
            f"peak_rank_{a}": int(np.nanmax(ra)) if not np.isnan(ra).all() else pd.NA,
            f"peak_rank_{b}": int(np.nanmax(rb)) if not np.isnan(rb).all() else pd.NA,
            "peak_side": reached[0] if len(reached) == 1 else BOTH,
            "escalated_first": escalated, "first_escalation_date": when, "ended_after": ended,
        })
        rows.append(row)
    out = pd.DataFrame(rows)
    out["trajectory_complete"] = out["events_unknown"] == 0
    for col in ("first_rank", "peak_rank", "last_rank", f"peak_rank_{a}", f"peak_rank_{b}"):
        out[col] = out[col].astype("Int64")
    for col in ("peak_side", "escalated_first", "ended_after"):
        out[col] = out[col].astype("string")
    out["first_escalation_date"] = pd.to_datetime(out["first_escalation_date"]).astype("datetime64[ns]")
    for what in ("first", "peak", "last"):
        ranks = out[f"{what}_rank"]
        named = [labels[int(r)] if labels is not None and not pd.isna(r) else (pd.NA if pd.isna(r) else str(int(r)))
                 for r in ranks]
        out[f"{what}_level"] = pd.array(named, dtype="string")
    columns = ["episode_id", "events_known", "events_unknown", "trajectory_complete", "first_rank", "peak_rank", "last_rank",
               "first_level", "peak_level", "last_level", f"peak_rank_{a}", f"peak_rank_{b}", "peak_side",
               "escalated_first", "first_escalation_date", "ended_after"]
    return out[columns]
