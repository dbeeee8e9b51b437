"""The response rule written as a plain loop over events: the definition the fast code must equal.

:func:`oracle_cycles` reads like the rule in ``analysis/response.py``: for each trigger, in event
order, walk the later events one by one and take the first that answers it. It is quadratic and
plain on purpose (no arrays, no grid; only a binary search to find the trigger's day in the
sorted list): tests compare :func:`analysis.cycles.build_cycles` with it on random tables, and
``benchmarks/bench_cycles.py`` times the fast code against it.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right

import pandas as pd

from analysis.response import ResponseRule

EARTH_RADIUS_KM = 6371.0088
EPOCH = pd.Timestamp("1970-01-01")


def haversine_km(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance on a sphere of the mean Earth radius (haversine formula)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _events(frame: pd.DataFrame) -> list[dict]:
    rows = []
    for i, r in enumerate(frame.to_dict("records")):
        if pd.isna(r["side"]):
            continue
        t = r.get("time_utc")
        lat, lon = r.get("latitude"), r.get("longitude")
        rows.append({
            **r,
            "i": i,
            "day": (pd.Timestamp(r["date"]).normalize() - EPOCH).days,  # whole days
            "time": None if t is None or pd.isna(t) else pd.Timestamp(t).value,  # ns
            "xy": None if lat is None or lon is None or pd.isna(lat) or pd.isna(lon) else (float(lat), float(lon)),
        })
    # event order: day, then known time (unknown times last), then input order
    rows.sort(key=lambda e: (e["day"], e["time"] is None, e["time"] or 0, e["i"]))
    return rows


def oracle_cycles(events: pd.DataFrame, rule: ResponseRule) -> pd.DataFrame:
    """One row per trigger: its response (or censoring), by the rule's definition, one event at a time."""
    rows = _events(events)
    end = (rule.study_end - EPOCH).days if rule.study_end is not None else max(e["day"] for e in rows)
    rows = [e for e in rows if e["day"] <= end]  # events after the last day observed are not analysed
    limited = rule.max_distance_km is not None

    def located(e) -> bool:  # may take part at all under a distance limit
        return not limited or e["xy"] is not None or rule.missing_coordinates == "any"

    def is_trigger(e) -> bool:
        return located(e) and (rule.trigger_kinds is None or e["kind"] in rule.trigger_kinds)

    def is_response(e) -> bool:
        if not located(e) or (rule.response_kinds is not None and e["kind"] not in rule.response_kinds):
            return False
        if rule.theatre is not None and e.get("country") not in rule.theatre:
            return False
        for col, minimum in rule.severity.items():
            value = e.get(col)
            if value is None or pd.isna(value) or not float(value) >= minimum:
                return False
        return True

    def near(a, b) -> bool:
        if not limited or a["xy"] is None or b["xy"] is None:  # "any": no coordinates, no limit
            return True
        return haversine_km(*a["xy"], *b["xy"]) <= rule.max_distance_km

    def relation(t, c) -> str:
        if c["day"] > t["day"]:
            return "after"
        if t["time"] is not None and c["time"] is not None:
            return "after" if c["time"] > t["time"] else "before"
        return "unordered"

    days = [e["day"] for e in rows]  # sorted
    taken: dict[str, set[int]] = {}  # per trigger side: each event answers at most one trigger of a side
    out = []
    for t in (e for e in rows if is_trigger(e)):
        w = rule.window(t["side"])
        deadline = t["day"] + w
        own_day = None
        window = rows[bisect_left(days, t["day"]):bisect_right(days, deadline)]  # the events of days t .. t + w
        if rule.own_event_ends_wait:
            later = rows[bisect_right(days, t["day"]):]
            own = next((e for e in later if e["side"] == t["side"] and is_trigger(e) and near(t, e)), None)
            own_day = own["day"] if own is not None else None
        nearby = [c for c in window if c["side"] != t["side"] and is_response(c) and near(t, c)]
        ambiguous = any(relation(t, c) == "unordered" for c in nearby)
        answers = [c for c in nearby if relation(t, c) == "after" or (relation(t, c) == "unordered" and rule.ties == "include")]
        if own_day is not None:
            answers = [c for c in answers if c["day"] <= own_day]  # an answer on the own event's day still counts
        if rule.matching == "one_to_one":
            answers = [c for c in answers if c["i"] not in taken.setdefault(t["side"], set())]
        if answers:
            r = answers[0]
            taken.setdefault(t["side"], set()).add(r["i"])
            out.append((t["event_id"], r["event_id"], r["day"] - t["day"], False, None, ambiguous, w))
            continue
        stop, why = w, "window_end"
        if end - t["day"] < stop:
            stop, why = max(end - t["day"], 0), "study_end"
        if own_day is not None and own_day - t["day"] <= stop:
            stop, why = own_day - t["day"], "own_next_event"
        out.append((t["event_id"], None, stop, True, why, ambiguous, w))
    return pd.DataFrame(out, columns=["trigger_id", "response_id", "interval_days", "censored", "censor_reason",
                                      "order_ambiguous", "window_days"])
