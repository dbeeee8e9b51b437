import numpy as np
import pandas as pd
import pytest

from analysis.panel import daily_panel, rates_around
from tests.conftest import make_events

D = pd.Timestamp("2020-01-01")


def day(n):
    return D + pd.Timedelta(days=n - 1)


def test_daily_panel_is_zero_filled_and_keyed_by_date_and_side():
    events = make_events(
        [("a", day(1), "A", "rocket"), ("a2", day(1), "A", "rocket"), ("b", day(3), "B", "airstrike"), ("x", day(2), "C",
                                                                                                        "other")],
        fatalities=pd.array([2, None, 5, 9], dtype="Int64"),
    )
    panel = daily_panel(events, sides=["A", "B"], start=day(1), end=day(3))
    assert len(panel) == 6 and not panel.duplicated(["date", "side"]).any()
    got = {(r.date.day, r.side): (r.events, r.incidence, r.fatalities) for r in panel.itertuples()}
    # two A events on day 1, one with 2 deaths and one unknown (adds nothing); side C is ignored
    assert got == {(1, "A"): (2, 1, 2), (1, "B"): (0, 0, 0), (2, "A"): (0, 0, 0), (2, "B"): (0, 0, 0),
                   (3, "A"): (0, 0, 0), (3, "B"): (1, 1, 5)}
    with pytest.raises(ValueError, match="2 events fall outside"):
        daily_panel(events, sides=["A", "B"], start=day(2), end=day(3))


def test_rates_around_a_named_day_with_garwood_intervals():
    # A: 5 events in the 10 days before day 11, none in the 10 days after; B: 0 before, 3 after
    rows = [(f"a{d}", day(d), "A", "rocket") for d in (1, 3, 5, 7, 9)] + [("strike", day(11), "B", "airstrike")]
    rows += [(f"b{d}", day(d), "B", "airstrike") for d in (12, 15, 20)]
    table = rates_around(make_events(rows), {"strike": day(11)}, sides=["A", "B"], before_days=10, after_days=10)
    a = table.set_index("side").loc["A"]
    assert (a["before_events"], a["before_days"], a["after_events"], a["after_days"]) == (5, 10, 0, 10)
    # exact Poisson 95% interval for 5 events: 1.6235 to 11.6683 (Garwood 1936; standard tables)
    assert a["before_rate"] == 0.5
    np.testing.assert_allclose([a["before_low"], a["before_high"]], [0.16235, 1.16683], atol=1e-5)
    # for 0 events the upper limit is -ln(0.025) = 3.6889 events
    np.testing.assert_allclose(a["after_high"], 0.36889, atol=1e-5)
    # given 5 events in all and equal windows, 0 after has binomial probability 2 * 0.5^5 (two-sided)
    assert a["rate_ratio"] == 0 and a["p_value"] == pytest.approx(2 * 0.5**5)
    b = table.set_index("side").loc["B"]
    # the named day's own event belongs to neither window
    assert (b["before_events"], b["after_events"], b["rate_ratio"]) == (0, 3, np.inf)


def test_rates_with_no_named_day_is_an_empty_table_with_its_columns():
    table = rates_around(make_events([("a", day(2), "A", "rocket")]), {}, sides=["A"])
    assert table.empty and {"name", "side", "rate_ratio"} <= set(table.columns)


def test_rates_windows_are_clipped_to_the_study():
    events = make_events([("a", day(2), "A", "rocket")])
    table = rates_around(events, {"x": day(3)}, sides=["A"], before_days=10, after_days=10, study_start=day(1), study_end=day(5))
    assert table.loc[0, ["before_days", "after_days", "before_events"]].tolist() == [2, 2, 1]


def test_rates_around_a_day_after_the_study_end_clip_the_before_window():
    # study days 1..5; the named day is day 8: "before" is days 1..7 clipped to 1..5 (5 days),
    # "after" (days 9..) lies wholly past the end: no exposure
    events = make_events([("a", day(2), "A", "rocket"), ("b", day(5), "A", "rocket")])
    table = rates_around(events, {"x": day(8)}, sides=["A"], before_days=7, after_days=7, study_start=day(1), study_end=day(5))
    assert table.loc[0, ["before_days", "before_events", "after_days", "after_events"]].tolist() == [5, 2, 0, 0]
    assert table.loc[0, "before_rate"] == pytest.approx(2 / 5) and np.isnan(table.loc[0, "after_rate"])
    # and a day before the start: "after" starts at day 1, "before" is empty
    early = rates_around(events, {"y": day(-2)}, sides=["A"], before_days=7, after_days=7, study_start=day(1), study_end=day(5))
    assert early.loc[0, ["before_days", "after_days", "after_events"]].tolist() == [0, 5, 2]  # days 1..5 hold both
