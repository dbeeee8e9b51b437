import numpy as np
import pandas as pd
import pytest

from analysis.cycles import CYCLE_COLUMNS, build_cycles, response_scope, summarise_chains, summarise_cycles, with_event_details
from analysis.response import ResponseRule
from tests.conftest import make_events
from tests.oracle import oracle_cycles


def pairs(cycles):
    """trigger_id -> (response_id or None, interval_days, censor_reason or None)."""
    return {
        r.trigger_id: (None if pd.isna(r.response_id) else r.response_id, int(r.interval_days),
                       None if pd.isna(r.censor_reason) else r.censor_reason)
        for r in cycles.itertuples()
    }


def test_first_later_event_of_the_other_side():
    events = make_events(
        [
            ("a1", "2020-01-01", "A", "rocket"),
            ("a2", "2020-01-03", "A", "rocket"),
            ("b1", "2020-01-06", "B", "airstrike"),
            ("b2", "2020-01-07", "B", "airstrike"),
            ("a3", "2020-01-20", "A", "drone"),
        ]
    )
    cycles = build_cycles(events, window_days=30, study_end="2020-12-31")
    assert list(cycles.columns[: len(CYCLE_COLUMNS)]) == list(CYCLE_COLUMNS)
    assert pairs(cycles) == {
        "a1": ("b1", 5, None),  # 1 Jan -> 6 Jan; A's own a2 in between does not end the wait
        "a2": ("b1", 3, None),  # many-to-one: b1 answers a1 and a2
        "b1": ("a3", 14, None),  # 6 Jan -> 20 Jan
        "b2": ("a3", 13, None),
        "a3": (None, 30, "window_end"),  # nothing from B by 19 Feb, which is inside the data
    }
    assert cycles["trigger_id"].tolist() == ["a1", "a2", "b1", "b2", "a3"]  # sorted by date


def test_response_exactly_on_day_window_days_counts():
    events = make_events(
        [
            ("a", "2020-01-01", "A", "rocket"),
            ("b", "2020-01-31", "B", "airstrike"),  # 30 days later
            ("c", "2020-03-01", "A", "rocket"),  # 30 days after b (2020 is a leap year)
        ]
    )
    assert pairs(build_cycles(events, window_days=30, study_end="2020-12-31"))["a"] == ("b", 30, None)
    assert pairs(build_cycles(events, window_days=30, study_end="2020-12-31"))["b"] == ("c", 30, None)
    # with a 29-day window, b comes one day too late: censored at the window's end
    assert pairs(build_cycles(events, window_days=29, study_end="2020-12-31"))["a"] == (None, 29, "window_end")


def test_censoring_at_the_end_of_the_data():
    events = make_events([("a", "2020-01-01", "A", "rocket"), ("b", "2020-01-20", "B", "airstrike")])
    # study_end defaults to the last event: b's 30-day window runs past 20 Jan -> study_end,
    # followed up for 0 days; a is answered after 19 days
    assert pairs(build_cycles(events, window_days=30)) == {"a": ("b", 19, None), "b": (None, 0, "study_end")}
    # with the study running to 10 Feb, b is followed for 21 days, still short of 30
    assert pairs(build_cycles(events, window_days=30, study_end="2020-02-10"))["b"] == (None, 21, "study_end")
    # and to 19 Feb (exactly 30 days): the whole window was observed -> window_end
    assert pairs(build_cycles(events, window_days=30, study_end="2020-02-19"))["b"] == (None, 30, "window_end")


def test_same_day_events_without_times_are_ambiguous():
    events = make_events(
        [
            ("a", "2020-01-01", "A", "rocket"),
            ("b", "2020-01-01", "B", "airstrike"),
            ("a2", "2020-01-04", "A", "rocket"),
        ]
    )
    excl = build_cycles(events, window_days=30, study_end="2020-12-31")
    # default rule: an unordered same-day event is not a response
    assert pairs(excl) == {"a": (None, 30, "window_end"), "b": ("a2", 3, None), "a2": (None, 30, "window_end")}
    assert excl.set_index("trigger_id")["order_ambiguous"].to_dict() == {"a": True, "b": True, "a2": False}
    incl = build_cycles(events, window_days=30, study_end="2020-12-31", ties="include")
    # "include": each answers the other on the same day, interval 0
    assert pairs(incl) == {"a": ("b", 0, None), "b": ("a", 0, None), "a2": (None, 30, "window_end")}


def test_same_day_events_with_times_are_ordered():
    events = make_events(
        [
            ("a", "2020-01-01", "A", "rocket"),
            ("b", "2020-01-01", "B", "airstrike"),
            ("a2", "2020-01-05", "A", "rocket"),
        ],
        time_utc=pd.to_datetime(["2020-01-01 02:00", "2020-01-01 09:30", None]),
    )
    cycles = build_cycles(events, window_days=30, study_end="2020-12-31")
    # a at 02:00 then b at 09:30: b answers a within the day; a came before b, so b waits for a2
    assert pairs(cycles) == {"a": ("b", 0, None), "b": ("a2", 4, None), "a2": (None, 30, "window_end")}
    assert not cycles["order_ambiguous"].any()


def test_local_day_spanning_two_utc_days_is_ordered_by_utc_time():
    # both on local day 1 Jan (UTC+3): a at 01:00 local = 22:00 UTC on 31 Dec, b at 10:00 local
    events = make_events(
        [("a", "2020-01-01", "A", "rocket"), ("b", "2020-01-01", "B", "airstrike")],
        time_utc=pd.to_datetime(["2019-12-31 22:00", "2020-01-01 07:00"]),
    )
    assert pairs(build_cycles(events, window_days=30, study_end="2020-12-31"))["a"] == ("b", 0, None)


def test_per_side_windows_and_response_kinds():
    events = make_events(
        [
            ("a", "2020-01-01", "A", "rocket"),
            ("b", "2020-01-11", "B", "other"),
            ("b2", "2020-01-15", "B", "airstrike"),
            ("a2", "2020-01-31", "A", "rocket"),
        ]
    )
    cycles = build_cycles(events, window_days={"A": 10, "B": 30}, study_end="2020-12-31")
    # A's window is 10 days: b on day 10 counts; B's triggers wait up to 30 days
    assert pairs(cycles)["a"] == ("b", 10, None)
    assert pairs(cycles)["b2"] == ("a2", 16, None)
    assert cycles.set_index("trigger_id")["window_days"].to_dict() == {"a": 10, "b": 30, "b2": 30, "a2": 10}
    # only airstrikes answer: b ("other") is skipped, b2 on day 14 is past A's 10-day window
    only = build_cycles(events, window_days={"A": 10, "B": 30}, study_end="2020-12-31", response_kinds=["airstrike"])
    assert pairs(only)["a"] == (None, 10, "window_end")
    with pytest.raises(ValueError, match=r"window_days gives no window for trigger side 'B'"):
        build_cycles(events, window_days={"A": 10})


def test_unsided_events_are_left_out_and_inputs_untouched():
    events = make_events(
        [("a", "2020-01-01", "A", "rocket"), ("x", "2020-01-02", pd.NA, "rocket"), ("b", "2020-01-03", "B", "airstrike")]
    )
    before = events.copy()
    cycles = build_cycles(events, window_days=30, study_end="2020-12-31")
    assert cycles["trigger_id"].tolist() == ["a", "b"]
    pd.testing.assert_frame_equal(events, before)


def test_severity_columns_and_details():
    events = make_events(
        [("a", "2020-01-01", "A", "rocket"), ("b", "2020-01-03", "B", "airstrike")],
        fatalities=pd.array([1, 25], dtype="Int64"),
        location=["K-1 Air Base", "Al-Qaim"],
    )
    cycles = build_cycles(events, window_days=30, study_end="2020-12-31")
    row = cycles.set_index("trigger_id").loc["a"]
    assert (row["trigger_fatalities"], row["response_fatalities"]) == (1, 25)
    detailed = with_event_details(cycles, events, columns=["location"]).set_index("trigger_id")
    assert detailed.loc["a", "response_location"] == "Al-Qaim"
    assert pd.isna(detailed.loc["b", "response_location"])


def test_summary_per_direction():
    events = make_events(
        [
            ("a1", "2020-01-01", "A", "rocket"),
            ("b1", "2020-01-03", "B", "airstrike"),  # answers a1 after 2 days
            ("a2", "2020-01-07", "A", "rocket"),  # answers b1 after 4 days
            ("b2", "2020-01-15", "B", "airstrike"),  # answers a2 after 8 days
            ("a3", "2020-03-01", "A", "rocket"),  # b2: 46 days later, outside 30 -> censored
        ]
    )
    summary = summarise_cycles(build_cycles(events, window_days=30, study_end="2020-12-31"), labels={"A": "Alpha"})
    a = summary.set_index("trigger_side").loc["A"]
    # A's triggers: a1 -> 2 days, a2 -> 8 days, a3 censored (window_end)
    assert (a["triggers"], a["responses"], a["censored_window_end"]) == (3, 2, 1)
    assert a["median_days"] == 5.0 and a["share_censored"] == pytest.approx(1 / 3)
    assert a["direction"] == "Alpha -> B"
    b = summary.set_index("trigger_side").loc["B"]
    assert (b["triggers"], b["responses"], b["median_days"]) == (2, 1, 4.0)


def test_bad_arguments():
    events = make_events([("a", "2020-01-01", "A", "rocket"), ("a", "2020-01-02", "B", "rocket")])
    with pytest.raises(ValueError, match="duplicate 'event_id'"):
        build_cycles(events)
    with pytest.raises(ValueError, match="ties must be one of"):
        build_cycles(events, ties="random")
    with pytest.raises(ValueError, match="events has no \\['side'\\] column"):
        build_cycles(events.drop(columns=["side"]))


# --- matching, own next event, response filters, chains -------------------------------------

def _abab():
    # A1 day 1, A2 day 3, B1 day 6, B2 day 20
    return make_events(
        [
            ("A1", "2020-01-01", "A", "rocket"),
            ("A2", "2020-01-03", "A", "rocket"),
            ("B1", "2020-01-06", "B", "airstrike"),
            ("B2", "2020-01-20", "B", "airstrike"),
        ]
    )


def test_two_triggers_before_one_response_many_to_one_vs_one_to_one():
    many = pairs(build_cycles(_abab(), window_days=30, study_end="2020-12-31"))
    # many-to-one: B1 answers both A1 (5 days) and A2 (3 days)
    assert many["A1"] == ("B1", 5, None) and many["A2"] == ("B1", 3, None)
    one = pairs(build_cycles(_abab(), window_days=30, study_end="2020-12-31", matching="one_to_one"))
    # one-to-one, first come first served: A1 takes B1; A2 waits for B2 (17 days)
    assert one["A1"] == ("B1", 5, None) and one["A2"] == ("B2", 17, None)
    # with a 14-day window, B2 (17 days after A2) is too late: A2 is censored at 14 days
    short = pairs(build_cycles(_abab(), window_days=14, study_end="2020-12-31", matching="one_to_one"))
    assert short["A2"] == (None, 14, "window_end")


def test_one_to_one_skips_a_taken_response_for_the_next_one():
    events = make_events(
        [
            ("A1", "2020-01-01", "A", "rocket"),
            ("A2", "2020-01-02", "A", "rocket"),
            ("A3", "2020-01-03", "A", "rocket"),
            ("B1", "2020-01-05", "B", "airstrike"),
            ("B2", "2020-01-06", "B", "airstrike"),
        ]
    )
    one = pairs(build_cycles(events, window_days=30, study_end="2020-12-31", matching="one_to_one"))
    # B1 -> A1, B2 -> A2, nothing left for A3
    assert (one["A1"][0], one["A2"][0], one["A3"]) == ("B1", "B2", (None, 30, "window_end"))


def test_own_next_event_ends_the_wait():
    cycles = build_cycles(_abab(), window_days=30, study_end="2020-12-31", own_event_ends_wait=True)
    # A1's wait ends when A strikes again on day 3 (2 days later), before B1: censored at 2 days
    assert pairs(cycles)["A1"] == (None, 2, "own_next_event")
    assert pairs(cycles)["A2"] == ("B1", 3, None)
    # B1's wait: B's own next event B2 is on day 20, and nothing from A comes: censored at 14 days
    assert pairs(cycles)["B1"] == (None, 14, "own_next_event")


def test_own_next_event_same_day_as_response_and_same_day_salvo():
    events = make_events(
        [
            ("A1", "2020-01-01", "A", "rocket"),
            ("A1b", "2020-01-01", "A", "rocket"),  # same day: part of the same salvo, no effect
            ("A2", "2020-01-05", "A", "rocket"),
            ("B1", "2020-01-05", "B", "airstrike"),  # same day as A's next event: still a response
        ]
    )
    result = pairs(build_cycles(events, window_days=30, study_end="2020-12-31", own_event_ends_wait=True))
    assert result["A1"] == ("B1", 4, None) and result["A1b"] == ("B1", 4, None)


def test_minimum_severity_and_theatre_filter_responses():
    events = make_events(
        [
            ("A1", "2020-01-01", "A", "rocket"),
            ("B0", "2020-01-02", "B", "airstrike"),  # no deaths
            ("B1", "2020-01-03", "B", "airstrike"),  # deaths unknown: does not qualify
            ("B2", "2020-01-04", "B", "airstrike"),  # 3 deaths, but in Lebanon
            ("B3", "2020-01-09", "B", "airstrike"),  # 1 death, in Iraq
        ],
        fatalities=pd.array([0, 0, None, 3, 1], dtype="Int64"),
        country=["Iraq", "Iraq", "Iraq", "Lebanon", "Iraq"],
    )
    assert pairs(build_cycles(events, window_days=30, study_end="2020-12-31"))["A1"] == ("B0", 1, None)
    severe = build_cycles(events, window_days=30, study_end="2020-12-31", min_severity={"fatalities": 1})
    assert pairs(severe)["A1"] == ("B2", 3, None)
    both = build_cycles(events, window_days=30, study_end="2020-12-31", min_severity={"fatalities": 1}, theatre=["Iraq"])
    assert pairs(both)["A1"] == ("B3", 8, None)
    with pytest.raises(ValueError, match=r"min_severity names column\(s\) \['munitions_max'\]"):
        build_cycles(events, min_severity={"munitions_max": 3})


def test_chains_follow_the_latest_trigger_of_each_response():
    events = make_events(
        [
            ("A0", "2020-01-01", "A", "rocket"),
            ("A1", "2020-01-02", "A", "rocket"),
            ("B1", "2020-01-03", "B", "airstrike"),  # answers A0 and A1; continues A1's chain
            ("A2", "2020-01-05", "A", "rocket"),
            ("B2", "2020-01-06", "B", "airstrike"),
            ("A3", "2020-03-30", "A", "rocket"),  # long after: a chain of its own
        ]
    )
    cycles = build_cycles(events, window_days=30, study_end="2020-12-31").set_index("trigger_id")
    assert cycles["chain_id"].to_dict() == {"A0": "A0", "A1": "A1", "B1": "A1", "A2": "A1", "B2": "A1", "A3": "A3"}
    assert cycles["chain_position"].to_dict() == {"A0": 1, "A1": 1, "B1": 2, "A2": 3, "B2": 4, "A3": 1}
    assert cycles["chain_length"].to_dict() == {"A0": 1, "A1": 4, "B1": 4, "A2": 4, "B2": 4, "A3": 1}
    chains = summarise_chains(cycles.reset_index())
    assert chains.to_dict("records") == [
        {"chain_id": "A1", "length": 4, "start_side": "A", "end_side": "B", "start_date": pd.Timestamp("2020-01-02"),
         "end_date": pd.Timestamp("2020-01-06"), "duration_days": 4, "event_ids": "A1 B1 A2 B2"}
    ]


def test_a_long_chain_is_ranked_exactly():
    # 1,001 events alternating daily: one chain, positions 1..1001
    days = pd.date_range("2020-01-01", periods=1001, freq="D")
    events = make_events([(f"e{i}", d, "AB"[i % 2], "rocket") for i, d in enumerate(days)])
    cycles = build_cycles(events, window_days=30)
    assert cycles["chain_position"].tolist() == list(range(1, 1002))
    assert set(cycles["chain_length"]) == {1001} and set(cycles["chain_id"]) == {"e0"}


def test_time_far_from_its_date_is_an_error():
    events = make_events([("a", "2020-01-01", "A", "rocket")], time_utc=pd.to_datetime(["2020-01-03 12:00"]))
    with pytest.raises(ValueError, match="event 'a': time_utc 2020-01-03 12:00:00 is too far from its date 2020-01-01"):
        build_cycles(events)


def test_dates_far_in_the_future_pair_correctly():
    # simulated dyads can run for centuries; the ordering key must not overflow
    events = make_events(
        [("a", "2239-01-01", "A", "rocket"), ("b", "2239-01-04", "B", "airstrike"), ("c", "2239-01-04", "A", "rocket")],
        time_utc=pd.to_datetime([None, "2239-01-04 10:00", "2239-01-04 12:00"]),
    )
    assert pairs(build_cycles(events, window_days=30, study_end="2239-12-31")) == {
        "a": ("b", 3, None), "b": ("c", 0, None), "c": (None, 30, "window_end")}


def test_fast_argsort_keeps_input_order_among_ties():
    from analysis.cycles import _argsort_stable_ties

    rng = np.random.default_rng(1)
    key = rng.integers(0, 50, 5_000)  # many ties
    np.testing.assert_array_equal(_argsort_stable_ties(key), np.argsort(key, kind="stable"))


def test_the_id_check_is_exact_whatever_the_hashes_say(monkeypatch):
    # oracle: a Python set. Ids of 0 to 30 bytes (multi-byte characters, NUL bytes, prefixes of
    # one another), some differing only past their 8th or 16th byte, from sliced and chunked arrays
    import pyarrow as pa

    import analysis.cycles as cycles

    rng = np.random.default_rng(3)
    alphabet = np.array(list("ab\x00é字"))
    base = ["".join(rng.choice(alphabet, rng.integers(0, 31))) for _ in range(3_000)]
    base += [s + "x" for s in base[:200]] + ["0123456789abcdef" + c for c in "xyz"] + ["01234567" + c for c in "xyz"]
    base = list(dict.fromkeys(base))  # distinct
    cases = [base, base + [base[17]], [*base, None], [None, None], [], ["", "\x00"], ["a", "a", "b"]]
    for ids in cases:
        unique = len(set(ids)) == len(ids)
        for array in (pd.array(ids, dtype="string"), pd.array(["pad", *ids], dtype="string")[1:]):
            assert cycles._unique(array) == unique, ids[:5]
        halves = [ids[: len(ids) // 2], ids[len(ids) // 2:]]
        chunked = pd.arrays.ArrowStringArray(pa.chunked_array(halves, type=pa.large_string()))
        assert cycles._unique(chunked) == unique
    # distinct ids of up to 8 bytes and of equal length never share a hash: the fast answer
    short = pd.array([f"e{i}" for i in range(10**6, 2 * 10**6)], dtype="string")
    assert pd.Index(cycles._string_hashes(short._pa_array)).is_unique
    # every hash equal: the strings themselves decide
    monkeypatch.setattr(cycles, "_string_hashes", lambda data: np.zeros(len(data), dtype=np.uint64))
    assert cycles._unique(pd.array(base, dtype="string")) and not cycles._unique(pd.array(base + [base[5]], dtype="string"))


@pytest.mark.parametrize("unit_ns", [10**9, 10**6, 10**3])
@pytest.mark.parametrize("days", [30, 20_000])
def test_event_order_is_a_stable_sort_of_the_order_keys(monkeypatch, unit_ns, days):
    # oracle: numpy's stable argsort of the keys. Times in whole seconds, milliseconds or
    # microseconds, over a month or 55 years; a few times repeated, a third unknown
    import analysis.cycles as cycles

    rng = np.random.default_rng(unit_ns + days)
    n = 5_000
    day = rng.integers(0, days, n) - 5_000  # from 1956: keys before 1970 are negative
    time = ((day * 86_400 + rng.integers(-3_600, 86_400, n)) * 10**9 + rng.integers(0, 10**9, n)) // unit_ns * unit_ns
    time[rng.random(n) < 0.05] = time[0]
    day[time == time[0]] = day[0]
    time[rng.random(n) < 0.33] = -1  # unknown
    key = cycles._order_keys(day, time)
    fallback = []
    monkeypatch.setattr(cycles, "_argsort_stable_ties", lambda k: fallback.append(1) or np.argsort(k, kind="stable"))
    np.testing.assert_array_equal(cycles._event_order(key), np.argsort(key, kind="stable"))
    # 13 bits of position, 15 bits of days and 38 bits of microseconds do not fit in 64: sorted by key
    assert fallback == ([1] if (unit_ns, days) == (10**3, 20_000) else [])


# --- the response rule's scopes: distance, coordinates, trigger kinds ---------------------------

KM_PER_DEGREE = 6371.0088 * np.pi / 180  # along a meridian: 111.195 km per degree of latitude


def _north(km):
    """Latitude of the point ``km`` north of 33N (on the same meridian, 44E)."""
    return 33.0 + km / KM_PER_DEGREE


def test_a_response_9_9_km_away_counts_under_a_10_km_limit_and_10_1_km_does_not():
    events = make_events(
        [("a", "2020-01-01", "A", "rocket"), ("far", "2020-01-02", "B", "airstrike"), ("near", "2020-01-03", "B", "airstrike")],
        latitude=[_north(0), _north(10.1), _north(9.9)], longitude=[44.0, 44.0, 44.0],
    )
    cycles = build_cycles(events, window_days=30, study_end="2020-12-31", max_distance_km=10).set_index("trigger_id")
    # "far" comes first but lies 10.1 km away; "near" (9.9 km) answers after 2 days
    assert cycles.loc["a", "response_id"] == "near" and cycles.loc["a", "interval_days"] == 2
    assert cycles.loc["a", "distance_km"] == pytest.approx(9.9, abs=1e-6)
    # without a limit, "far" answers after 1 day
    assert build_cycles(events, window_days=30, study_end="2020-12-31").set_index("trigger_id").loc["a", "response_id"] == "far"
    # at 10.1 km only "far" is in range... and nothing is at 9.8
    wider = build_cycles(events, window_days=30, study_end="2020-12-31", max_distance_km=10.2).set_index("trigger_id")
    assert wider.loc["a", "response_id"] == "far"
    assert pd.isna(build_cycles(events, window_days=30, study_end="2020-12-31",
                                max_distance_km=9.8).set_index("trigger_id").loc["a", "response_id"])


def test_events_without_coordinates_under_exclude_and_any():
    events = make_events(
        [("a", "2020-01-01", "A", "rocket"), ("x", "2020-01-02", "B", "airstrike"), ("b", "2020-01-04", "B", "airstrike"),
         ("a2", "2020-01-06", "A", "rocket")],
        latitude=[_north(0), np.nan, _north(3), np.nan], longitude=[44.0, np.nan, 44.0, np.nan],
    )
    rule = {"window_days": 30, "study_end": "2020-12-31", "max_distance_km": 5}
    excl = build_cycles(events, **rule, missing_coordinates="exclude").set_index("trigger_id")
    # exclude: x and a2 have no place: neither triggers nor responses; a -> b (3 km, 3 days)
    assert list(excl.index) == ["a", "b"] and excl.loc["a", "response_id"] == "b"
    assert excl.loc["b", "censor_reason"] == "window_end"  # a2 cannot answer
    anyw = build_cycles(events, **rule, missing_coordinates="any").set_index("trigger_id")
    # any: an event without a place is near everything: x answers a after 1 day, a2 answers x and b
    assert list(anyw.index) == ["a", "x", "b", "a2"]
    assert (anyw.loc["a", "response_id"], anyw.loc["x", "response_id"], anyw.loc["b", "response_id"]) == ("x", "a2", "a2")
    assert np.isnan(anyw.loc["a", "distance_km"])  # no distance to an event without a place
    scope = response_scope(events, ResponseRule(**rule)).set_index("side")
    assert scope.loc["A", ["events", "analysed", "no_coordinates", "triggers", "responses"]].tolist() == [2, 2, 1, 1, 1]
    assert scope.loc["B", ["no_coordinates", "triggers", "coordinates_rule"]].tolist() == [1, 1, "exclude"]


def test_a_distance_limit_needs_coordinate_columns():
    events = make_events([("a", "2020-01-01", "A", "rocket")]).drop(columns=["latitude", "longitude"])
    message = r"events has no \['latitude', 'longitude'\] column\(s\) \(the rule's max_distance_km needs coordinates\)"
    with pytest.raises(ValueError, match=message):
        build_cycles(events, max_distance_km=10)


def test_trigger_kinds_limit_what_is_answered():
    events = make_events(
        [("show", "2020-01-01", "A", "other"), ("strike", "2020-01-02", "A", "airstrike"), ("b", "2020-01-05", "B", "rocket"),
         ("a2", "2020-01-08", "A", "airstrike")]
    )
    cycles = build_cycles(events, window_days=30, study_end="2020-12-31", trigger_kinds=["airstrike",
                                                                                         "rocket"]).set_index("trigger_id")
    # the show of force is not a trigger (not a row); the strike is answered by b after 3 days;
    # b (a rocket attack) is answered by a2
    assert list(cycles.index) == ["strike", "b", "a2"]
    assert cycles.loc["strike", "response_id"] == "b" and cycles.loc["b", "response_id"] == "a2"
    scope = response_scope(events, ResponseRule(trigger_kinds=["airstrike", "rocket"], study_end="2020-12-31")).set_index("side")
    assert scope.loc["A", ["analysed", "triggers", "not_trigger_kind"]].tolist() == [3, 2, 1]


def test_own_next_event_within_the_distance_ends_the_wait():
    # a and a_far are A's; a_far is 50 km away: under a 10 km limit it does not end a's wait
    events = make_events(
        [("a", "2020-01-01", "A", "rocket"), ("a_far", "2020-01-02", "A", "rocket"), ("b", "2020-01-04", "B", "airstrike")],
        latitude=[_north(0), _north(50), _north(1)], longitude=[44.0] * 3,
    )
    near = build_cycles(events, window_days=30, study_end="2020-12-31", own_event_ends_wait=True,
                        max_distance_km=10).set_index("trigger_id")
    assert near.loc["a", "response_id"] == "b"
    anywhere = build_cycles(events, window_days=30, study_end="2020-12-31", own_event_ends_wait=True).set_index("trigger_id")
    assert anywhere.loc["a", "censor_reason"] == "own_next_event" and anywhere.loc["a", "interval_days"] == 1


def test_events_after_the_study_end_are_not_analysed():
    events = make_events([("a", "2020-01-01", "A", "rocket"), ("b", "2020-01-05", "B", "airstrike")])
    cycles = build_cycles(events, window_days=30, study_end="2020-01-03")
    # b happens after the last day observed: a is censored at the study end, after 2 days
    assert pairs(cycles) == {"a": (None, 2, "study_end")}


def _random_events(rng, n):
    days = rng.integers(0, 40, n)
    date = pd.Timestamp("2020-01-01") + pd.to_timedelta(days, unit="D")
    timed = rng.random(n) < 0.4
    time = date + pd.to_timedelta(rng.integers(0, 24 * 60, n), unit="min") - pd.Timedelta(hours=3)
    rows = [(f"e{i}", date[i], rng.choice(["A", "B"]), rng.choice(["rocket", "drone", "airstrike"])) for i in range(n)]
    frame = make_events(rows,
                        time_utc=pd.Series(time).where(timed).to_numpy(dtype="datetime64[ns]"))
    placeless = rng.random(n) < 0.15
    frame["latitude"] = np.where(placeless, np.nan, 33 + rng.random(n) * 0.3)  # about 33 x 28 km
    frame["longitude"] = np.where(placeless, np.nan, 44 + rng.random(n) * 0.3)
    frame["fatalities"] = pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 3, n)).tolist(), dtype="Int64")
    frame["country"] = rng.choice(["Iraq", "Syria"], n)
    return frame


def _random_rule(rng):
    return ResponseRule(
        window_days=(int(rng.integers(1, 10)) if rng.random() < 0.6
                     else {"A": int(rng.integers(1, 10)), "B": int(rng.integers(1, 10))}),
        ties=str(rng.choice(["exclude", "include"])), matching=str(rng.choice(["many_to_one", "one_to_one"])),
        own_event_ends_wait=bool(rng.random() < 0.3),
        trigger_kinds=None if rng.random() < 0.7 else ["rocket", "airstrike"],
        response_kinds=None if rng.random() < 0.7 else ["drone", "airstrike"],
        min_severity=None if rng.random() < 0.8 else {"fatalities": 1},
        theatre=None if rng.random() < 0.8 else ["Iraq"],
        max_distance_km=None if rng.random() < 0.5 else float(rng.uniform(3, 30)),
        missing_coordinates=str(rng.choice(["exclude", "any"])),
        study_end=None if rng.random() < 0.5 else pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(rng.integers(10, 45))),
    )


@pytest.mark.parametrize("seed", range(5))
def test_build_cycles_equals_the_per_event_definition(seed):
    # random tables (ties, times, kinds, places, distances, per-side windows, one-to-one, own next
    # event...) under random rules: the fast pairing equals the loop in tests/oracle.py
    rng = np.random.default_rng(seed)
    cols = ["trigger_id", "response_id", "interval_days", "censored", "censor_reason", "order_ambiguous", "window_days"]

    def same(frame):
        out = frame[cols].astype(object)
        return out.where(out.notna(), None).sort_values("trigger_id").reset_index(drop=True)

    for _ in range(50):
        events = _random_events(rng, int(rng.integers(1, 40)))
        rule = _random_rule(rng)
        pd.testing.assert_frame_equal(same(build_cycles(events, rule)), same(oracle_cycles(events, rule)), obj=str(rule))


def test_intervals_resting_on_a_week_or_month_date_are_flagged_with_their_bounds():
    events = make_events(
        [("a", "2020-01-10", "A", "rocket"), ("b", "2020-01-15", "B", "airstrike"), ("a2", "2020-02-15", "A", "rocket"),
         ("b2", "2020-03-20", "B", "airstrike")],
        date_precision=["day", "week", "month", "day"],
    )
    cycles = build_cycles(events, window_days=40, study_end="2020-12-31").set_index("trigger_id")
    # a (10 Jan, exact) -> b (week of 15 Jan: 12-18 Jan): 5 days, between 2 and 8
    assert cycles.loc["a", ["interval_days", "interval_min_days", "interval_max_days", "date_imprecise"]].tolist() == [5, 2, 8,
                                                                                                                       True]
    # b (12-18 Jan) -> a2 (February: 1-29 Feb): 31 days, between 14 (1 Feb - 18 Jan) and 48 (29 Feb - 12 Jan)
    assert cycles.loc["b", ["interval_days", "interval_min_days", "interval_max_days"]].tolist() == [31, 14, 48]
    # a2 (February) -> b2 (20 Mar, exact): 34 days, between 20 and 48
    assert cycles.loc["a2", ["interval_days", "interval_min_days", "interval_max_days"]].tolist() == [34, 20, 48]
    # b2 is censored: no bounds, not flagged
    assert pd.isna(cycles.loc["b2", "interval_min_days"]) and not cycles.loc["b2", "date_imprecise"]
    # exact dates: the bounds are the interval itself
    exact = build_cycles(events.assign(date_precision="day"), window_days=40, study_end="2020-12-31").set_index("trigger_id")
    assert exact.loc["a", ["interval_min_days", "interval_max_days", "date_imprecise"]].tolist() == [5, 5, False]


def test_bounds_a_source_gives_win_over_the_convention():
    from analysis.schema import date_bounds

    events = make_events([("u", "2014-01-24", "A", "other"), ("w", "2020-01-15", "A", "rocket")], date_precision=["week", "week"])
    events["date_earliest"] = pd.to_datetime(["2014-01-24", None])
    events["date_latest"] = pd.to_datetime(["2014-01-25", None])  # UCDP: date_start .. date_end
    low, high = date_bounds(events)
    assert [str(d) for d in low] == ["2014-01-24", "2020-01-12"] and [str(d) for d in high] == ["2014-01-25", "2020-01-18"]


def test_imprecise_dates_placed_for_a_sensitivity_analysis():
    from analysis.schema import place_imprecise_dates

    events = make_events([("a", "2020-01-10", "A", "rocket"), ("w", "2020-01-15", "B", "airstrike"),
                          ("m", "2020-02-15", "B", "airstrike")], date_precision=["day", "week", "month"])
    assert place_imprecise_dates(events, "dropped")["event_id"].tolist() == ["a"]
    early = place_imprecise_dates(events, "earliest").set_index("event_id")["date"]
    late = place_imprecise_dates(events, "latest").set_index("event_id")["date"]
    assert (str(early["w"].date()), str(early["m"].date()), str(early["a"].date())) == ("2020-01-12", "2020-02-01", "2020-01-10")
    assert (str(late["w"].date()), str(late["m"].date())) == ("2020-01-18", "2020-02-29")
    pd.testing.assert_frame_equal(place_imprecise_dates(events, "midpoint"), events)
    with pytest.raises(ValueError, match="imprecise dates can be placed as midpoint, dropped, earliest, latest; got 'middle'"):
        place_imprecise_dates(events, "middle")


def test_the_table_is_the_same_when_its_parts_run_on_two_threads(monkeypatch):
    # from _THREADS_FROM events on, independent parts (the id check, the event order, the
    # directions, the columns) run on two threads; forced here at any size, every column and
    # dtype must equal the one-thread table, and errors keep their order
    import analysis.cycles as cycles

    rng = np.random.default_rng(7)
    cases = [(_random_events(rng, int(rng.integers(50, 400))), _random_rule(rng)) for _ in range(30)]
    monkeypatch.setattr(cycles, "_THREADS_FROM", 10**12)
    alone = [build_cycles(events, rule) for events, rule in cases]
    monkeypatch.setattr(cycles, "_THREADS_FROM", 1)
    for (events, rule), expected in zip(cases, alone):
        pd.testing.assert_frame_equal(build_cycles(events, rule), expected, obj=str(rule))

    twice = make_events([("a", "2020-01-01", "A", "rocket"), ("a", "2020-01-02", "B", "rocket")],
                        time_utc=pd.to_datetime(["2020-01-03 12:00", None]))  # a repeated id and a bad time
    with pytest.raises(ValueError, match=r"duplicate 'event_id' values, e\.g\. \['a'\]"):
        build_cycles(twice)
    with pytest.raises(ValueError, match="time_utc 2020-01-03 12:00:00 is too far from its date"):
        build_cycles(twice.assign(event_id=["a", "b"]))


def test_same_day_events_that_answer_each_other_form_one_forward_chain():
    # ties: include lets same-day events of unknown order answer at once: a (A) and b (B) answer
    # each other (the first such event of the other side), and c (A) is answered by b. A chain
    # runs forward in event order: a -> b; b's answer a and c's answer b point back, so they
    # link nothing (these links used to loop: positions of 3 for two events, or no end at all)
    events = make_events([("a", "2020-01-01", "A", "rocket"), ("b", "2020-01-01", "B", "rocket"),
                          ("c", "2020-01-01", "A", "rocket")])
    for matching, c_answer in (("many_to_one", "b"), ("one_to_one", None)):  # one-to-one: a took b
        out = build_cycles(events, ties="include", matching=matching, window_days=5).set_index("trigger_id")
        assert out["response_id"].tolist() == ["b", "a", c_answer if c_answer else pd.NA]
        assert out["chain_id"].tolist() == ["a", "a", "c"]
        assert out["chain_position"].tolist() == [1, 2, 1]
        assert out["chain_length"].tolist() == [2, 2, 1]
