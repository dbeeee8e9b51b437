import pandas as pd
import pytest

from analysis.episodes import episodes, pause_enders, pauses
from tests.conftest import make_events

D = pd.Timestamp("2020-01-01")


def day(n):
    return D + pd.Timedelta(days=n - 1)


def sample():
    # days 1 A | 2 B | 4 A and B | 6 A || 20 A | 21 A || 40 B   (quiet_days = 7)
    rows = [("a1", 1, "A"), ("b2", 2, "B"), ("a4", 4, "A"), ("b4", 4, "B"), ("a6", 6, "A"),
            ("a20", 20, "A"), ("a21", 21, "A"), ("a21b", 21, "A"), ("b40", 40, "B"), ("x", 10, None)]
    return make_events([(i, day(d), s, "rocket") for i, d, s in rows])


def test_episodes_by_hand():
    table = episodes(sample(), sides=["A", "B"], quiet_days=7, study_end=day(45))
    assert table["episode_id"].tolist() == [1, 2, 3]
    first, second, third = (table.iloc[i] for i in range(3))
    # episode 1: days 1-6 (gaps of 1, 2 and 2 days are < 7)
    assert (first["start_date"], first["end_date"], first["duration_days"]) == (day(1), day(6), 6)
    assert (first["n_A"], first["n_B"], first["n_events"], first["event_days"]) == (3, 2, 5, 4)
    assert (first["start_side"], first["end_side"], first["one_sided"]) == ("A", "A", False)
    # A -> B is one alternation; day 4 (both sides) one more, leaving B... then A on day 6 is
    # what the flip predicts (B flipped once = A): no further alternation. Total 2.
    assert first["alternations"] == 2
    # calm: days 7..19 are empty before episode 2 starts on day 20
    assert (first["calm_after_days"], first["calm_after_censored"]) == (13, False)
    # episode 2: days 20-21, three A events, one-sided, no alternation; calm days 22..39
    assert (second["n_A"], second["n_B"], second["one_sided"], second["alternations"]) == (3, 0, True, 0)
    assert second["calm_after_days"] == 18
    # episode 3: day 40, B alone; calm runs to the study end (days 41..45), censored
    assert (third["start_side"], third["end_side"], third["calm_after_days"], third["calm_after_censored"]) == ("B", "B", 5, True)


def test_episode_starting_and_ending_with_both_sides():
    events = make_events([("a", day(1), "A", "rocket"), ("b", day(1), "B", "airstrike"), ("a2", day(3), "A", "rocket"),
                          ("b3", day(3), "B", "airstrike")])
    table = episodes(events, sides=["A", "B"], quiet_days=7)
    row = table.iloc[0]
    assert (row["start_side"], row["end_side"], row["alternations"]) == ("both", "both", 2)


def test_quiet_days_boundary():
    events = make_events([("a", day(1), "A", "rocket"), ("b", day(8), "B", "airstrike")])
    # 7 days apart: a gap of quiet_days ends the episode; with quiet_days=8 they are one episode
    assert len(episodes(events, sides=["A", "B"], quiet_days=7)) == 2
    assert len(episodes(events, sides=["A", "B"], quiet_days=8)) == 1


def test_pauses_by_hand():
    table = pauses(sample(), sides=["A", "B"], study_start=day(1), study_end=day(45))
    got = [(r.start_date, r.length_days, r.after_side, None if pd.isna(r.ended_by) else r.ended_by, r.right_censored)
           for r in table.itertuples()]
    assert got == [
        (day(3), 1, "B", "both", False),  # day 3 is empty; both sides act on day 4
        (day(5), 1, "both", "A", False),
        (day(7), 13, "A", "A", False),  # days 7..19
        (day(22), 18, "A", "B", False),  # days 22..39, ended by B on day 40
        (day(41), 5, "B", None, True),  # days 41..45: no one ends it within the study
    ]
    assert table["pause_id"].tolist() == [1, 2, 3, 4, 5]


def test_pause_before_the_first_event_is_left_censored():
    events = make_events([("a", day(5), "A", "rocket")])
    table = pauses(events, sides=["A", "B"], study_start=day(1))
    assert table.iloc[0][["length_days", "ended_by", "left_censored"]].tolist() == [4, "A", True]


def test_who_ends_pauses_by_length():
    table = pause_enders(pauses(sample(), sides=["A", "B"], study_start=day(1), study_end=day(45)), sides=["A", "B"])
    table = table.set_index("pause_length_days")
    assert list(table.index) == ["1", "2-3", "4-7", "8-14", "15-30", "31+"]
    # two 1-day pauses: one ended by both (day 4), one by A (day 6); the censored one is left out
    assert table.loc["1", ["pauses", "ended_by_A", "ended_by_B", "ended_by_both"]].tolist() == [2, 1, 0, 1]
    assert table.loc["1", "share_A"] == 0.5
    assert table.loc["8-14", ["pauses", "ended_by_A"]].tolist() == [1, 1]
    assert table.loc["15-30", ["pauses", "ended_by_B", "share_B"]].tolist() == [1, 1, 1.0]
    assert table["pauses"].sum() == 4


def test_two_sides_required():
    with pytest.raises(ValueError, match="exactly two sides"):
        episodes(sample(), sides=["A", "B", "C"])


def test_who_ends_pauses_of_at_least_n_days():
    from analysis.episodes import pause_enders_at_least

    table = pause_enders_at_least(pauses(sample(), sides=["A", "B"], study_start=day(1), study_end=day(45)),
                                  sides=["A", "B"], min_lengths=(1, 8, 15)).set_index("min_length_days")
    # four finished pauses: 1 day (both), 1 day (A), 13 days (A), 18 days (B)
    assert table.loc[1, ["pauses", "ended_by_A", "ended_by_B", "ended_by_both"]].tolist() == [4, 2, 1, 1]
    assert table.loc[1, "share_A"] == 0.5
    assert table.loc[8, ["pauses", "ended_by_A", "ended_by_B"]].tolist() == [2, 1, 1]
    assert table.loc[15, ["pauses", "ended_by_B", "share_B"]].tolist() == [1, 1, 1.0]


# --- severity trajectory (issue 15) -------------------------------------------------------------


def leveled_events():
    """Episodes with hand-set levels (a score ladder on ``fatalities``: the level is the count)."""
    from analysis.severity import assign_severity, parse_ladder

    # episode 1, days 1-8: A1 B1 A3 B4 A? B2 (A2 B2 on day 8); episode 2, days 30-31: A2 B2, then
    # A3 B3; episode 3, day 50: A? only; episode 4, days 70-71: A2, B2
    rows = [("a1", 1, "A", 1), ("b2", 2, "B", 1), ("a3", 3, "A", 3), ("b4", 4, "B", 4), ("a5", 5, "A", None),
            ("b6", 6, "B", 2), ("a8", 8, "A", 2), ("b8", 8, "B", 2), ("a30", 30, "A", 2), ("b30", 30, "B", 2),
            ("a31", 31, "A", 3), ("b31", 31, "B", 3), ("a50", 50, "A", None), ("a70", 70, "A", 2), ("b71", 71, "B", 2)]
    events = make_events([(i, day(d), s, "rocket") for i, d, s, _ in rows],
                         fatalities=pd.array([f for *_, f in rows], dtype="Int64"))
    ladder = parse_ladder({"score": "fatalities", "levels": ["none", *({"name": f"k{k}", "from": k} for k in range(1, 5))]},
                          origin="test")
    return assign_severity(events, ladder)


def test_episode_trajectory_by_hand():
    from analysis.episodes import episode_severity

    events = leveled_events()
    table = episodes(events, sides=["A", "B"], quiet_days=7)
    assert table["episode_id"].tolist() == [1, 2, 3, 4]
    traj = episode_severity(table, events, sides=["A", "B"]).set_index("episode_id")
    one = traj.loc[1]
    # known day levels 1, 1, 3, 4, 2, 2 (day 5 has only an unknown event)
    assert (one["first_rank"], one["peak_rank"], one["last_rank"]) == (1, 4, 2)
    assert (one["first_level"], one["peak_level"], one["last_level"]) == ("1 k1", "4 k4", "2 k2")
    assert (one["events_known"], one["events_unknown"], one["trajectory_complete"]) == (7, 1, False)
    assert (one["peak_rank_A"], one["peak_rank_B"], one["peak_side"]) == (3, 4, "B")
    # day 3: A's 3 is above every earlier level (1): A escalated first
    assert (one["escalated_first"], one["first_escalation_date"]) == ("A", day(3))
    # the last change, 4 -> 2 (days 4 -> 6), was down
    assert one["ended_after"] == "de-escalation"
    two = traj.loc[2]
    # day 31: both sides go from 2 to 3 the same day
    got = (two["escalated_first"], two["peak_side"], two["ended_after"], two["trajectory_complete"])
    assert got == ("both", "both", "escalation", True)
    three = traj.loc[3]  # one event of unknown level: no trajectory
    assert pd.isna(three["peak_rank"]) and pd.isna(three["escalated_first"]) and three["events_unknown"] == 1
    four = traj.loc[4]  # 2 then 2
    assert (four["escalated_first"], four["ended_after"], four["peak_side"]) == ("none", "no change", "A")


def test_episode_trajectory_needs_levels():
    from analysis.episodes import episode_severity

    events = sample()
    with pytest.raises(ValueError, match="assign_severity"):
        episode_severity(episodes(events, sides=["A", "B"]), events, sides=["A", "B"])
