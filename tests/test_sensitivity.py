from analysis.response import ResponseRule
from analysis.sensitivity import sensitivity_grid
from analysis.simulate import tit_for_tat
from tests.conftest import make_events


def test_grid_by_hand():
    events = make_events(
        [("a1", "2020-01-01", "A", "rocket"), ("b1", "2020-01-01", "B", "airstrike"),
         ("b2", "2020-01-10", "B", "airstrike"), ("a2", "2020-03-01", "A", "rocket")]
    )
    grid = sensitivity_grid({"on": events, "off": events}, ResponseRule(study_end="2020-12-31"), sides=["A", "B"],
                            study_start="2020-01-01", windows=(7, 14), hawkes=False)
    assert len(grid) == 2 * 2 * 2 * 2  # dedup x ties x windows x directions
    row = grid.set_index(["dedup", "ties", "window_days", "direction"])
    # a1 (1 Jan): b1 the same day counts only with ties="include"; b2 comes 9 days later
    assert row.loc[("on", "exclude", 7, "A -> B"), "response_ratio"] == 0.0  # a2's window runs to 8 Mar: counted, unanswered
    assert row.loc[("on", "exclude", 14, "A -> B"), "median_days"] == 9.0
    assert row.loc[("on", "include", 7, "A -> B"), "median_days"] == 0.0
    assert row.loc[("on", "include", 7, "A -> B"), "response_ratio"] == 0.5
    assert grid["hawkes_cross_excitation"].isna().all()


def test_grid_places_imprecise_dates():
    # b2 is known only to the week of 10 Jan (7-13 Jan): a1 (1 Jan) is answered after 9 days at
    # the middle, 6 at the earliest, 12 at the latest; left out, a1 goes unanswered
    events = make_events([("a1", "2020-01-01", "A", "rocket"), ("b2", "2020-01-10", "B", "airstrike")],
                         date_precision=["day", "week"])
    grid = sensitivity_grid({"on": events}, ResponseRule(study_end="2020-12-31"), sides=["A", "B"], study_start="2020-01-01",
                            windows=(30,), ties=("exclude",), imprecise_dates=("midpoint", "earliest", "latest", "dropped"),
                            hawkes=False).set_index(["dates", "direction"])
    assert grid.loc[("midpoint", "A -> B"), "median_days"] == 9.0
    assert grid.loc[("earliest", "A -> B"), "median_days"] == 6.0 and grid.loc[("latest", "A -> B"), "median_days"] == 12.0
    assert grid.loc[("dropped", "A -> B"), "response_ratio"] == 0.0 and grid.loc[("dropped", "B -> A"), "events"] == 0


def test_grid_fits_hawkes_per_dedup_and_tie_rule():
    events = tit_for_tat(days=2000, base_rate=(0.05, 0.05), p_respond=(0.5, 0.3), seed=3)
    grid = sensitivity_grid({"on": events}, ResponseRule(study_end=events["date"].max()), sides=["A", "B"],
                            study_start=events["date"].min(), windows=(7, 30))
    # one Hawkes value per tie rule and direction, the same for every window
    per_window = grid.groupby(["ties", "direction"])["hawkes_cross_excitation"].nunique()
    assert (per_window == 1).all() and grid["hawkes_cross_excitation"].notna().all()
    # tit-for-tat with response probability 0.5 from A: a clearly positive cross-excitation
    assert grid.set_index(["ties", "window_days", "direction"]).loc[("include", 7, "A -> B"), "hawkes_cross_excitation"] > 0.2



def test_placings_of_events_without_imprecise_dates_are_computed_once(monkeypatch):
    # "on" has no week or month dates: its four placings are one table, computed once and
    # repeated; in "off" one event is dated to its week, so its placings differ. The grid
    # equals the one computed placing by placing, row for row and in the same order.
    import numpy as np
    import pandas as pd

    from analysis import sensitivity

    day_only = tit_for_tat(days=400, base_rate=(0.1, 0.1), p_respond=(0.5, 0.3), seed=5, start="2020-01-01")
    week = day_only.copy()
    week.loc[week.index[week["side"].eq("B")][3], "date_precision"] = "week"
    frames = {"on": day_only, "off": week}
    options = {"sides": ["A", "B"], "study_start": "2020-01-01", "windows": (7, 30),
               "imprecise_dates": ("midpoint", "dropped", "earliest", "latest"), "seed": 1}
    rule = ResponseRule(study_end=max(day_only["date"].max(), pd.Timestamp("2020-12-31")))
    calls = []
    build = sensitivity.build_cycles
    monkeypatch.setattr(sensitivity, "build_cycles", lambda *a, **k: calls.append(1) or build(*a, **k))
    fast = sensitivity_grid(frames, rule, **options)
    fast_calls = len(calls)
    calls.clear()
    # every placing computed: as if each table had imprecise dates
    monkeypatch.setattr(sensitivity, "imprecisely_dated", lambda frame: np.ones(len(frame), dtype=bool))
    slow = sensitivity_grid(frames, rule, **options)
    pd.testing.assert_frame_equal(fast, slow)
    assert len(fast) == 2 * 2 * 4 * 2 * 2  # dedup x ties x placings x windows x directions
    assert fast_calls == (1 + 4) * 2 * 2 and len(calls) == 4 * 2 * 2 * 2  # ("on" once + "off" 4) x ties x windows


def test_sensitivity_figure_one_panel_per_measure_and_direction():
    import matplotlib

    matplotlib.use("Agg")
    from analysis import plots

    events = make_events([("a1", "2020-01-01", "A", "rocket"), ("b2", "2020-01-10", "B", "airstrike")])
    grid = sensitivity_grid({"on": events}, ResponseRule(study_end="2020-12-31"), sides=["A", "B"], study_start="2020-01-01",
                            windows=(7, 14), hawkes=False)
    fig = plots.sensitivity(grid, labels={"A": "Alpha"})
    assert len(fig.axes) == 3 * 2 and fig.axes[0].get_title() == "Alpha \u2192 B"
    assert len(fig.axes[0].lines) == 2  # dedup on x two tie rules


def test_grid_labels_answers_under_each_tolerance():
    from analysis.severity import assign_severity, parse_ladder

    # levels by fatalities (0, 1, 2-4, 5+): a1 (0 killed) is answered by b1 (2 killed, level 2)
    # after 3 days; b1 by a2 (1 killed, level 1) after 2 days; a2 by b2 (killed unknown) after 5
    events = make_events([("a1", "2020-01-01", "A", "rocket"), ("b1", "2020-01-04", "B", "airstrike"),
                          ("a2", "2020-01-06", "A", "rocket"), ("b2", "2020-01-11", "B", "airstrike")],
                         fatalities=[0, 2, 1, None])
    ladder = parse_ladder({"score": "fatalities", "levels": ["none", {"name": "one", "from": 1}, {"name": "2-4", "from": 2},
                                                            {"name": "5+", "from": 5}]}, origin="t.yaml")
    placed = assign_severity(events, ladder)
    grid = sensitivity_grid({"on": placed}, ResponseRule(study_end="2020-12-31"), sides=["A", "B"], study_start="2020-01-01",
                            windows=(7,), ties=("exclude",), tolerances=(0, 1), hawkes=False)
    assert len(grid) == 2 * 2  # tolerances x directions
    row = grid.set_index(["tolerance", "direction"])
    # A -> B: a1 0 -> 2 escalates under both tolerances; a2 1 -> unknown stays unknown
    assert row.loc[(0, "A -> B"), ["answers_labelled", "answers_unknown", "share_escalate"]].tolist() == [1, 1, 1.0]
    assert row.loc[(1, "A -> B"), "share_escalate"] == 1.0
    # B -> A: b1 2 -> 1 de-escalates with tolerance 0, matches with tolerance 1 (b2 unanswered)
    assert row.loc[(0, "B -> A"), ["share_escalate", "share_match", "share_de-escalate"]].tolist() == [0.0, 0.0, 1.0]
    assert row.loc[(1, "B -> A"), ["share_escalate", "share_match", "share_de-escalate"]].tolist() == [0.0, 1.0, 0.0]
    # the timing columns do not move with the tolerance
    assert row.loc[(0, "A -> B"), "median_days"] == row.loc[(1, "A -> B"), "median_days"] == 4.0


def test_sensitivity_figure_draws_the_first_dates_and_tolerance_and_an_escalation_row():
    import matplotlib

    matplotlib.use("Agg")
    from analysis import plots
    from analysis.severity import assign_severity, parse_ladder

    events = make_events([("a1", "2020-01-01", "A", "rocket"), ("b1", "2020-01-04", "B", "airstrike"),
                          ("a2", "2020-01-06", "A", "rocket")], fatalities=[0, 2, 1], date_precision=["day", "week", "day"])
    ladder = parse_ladder({"score": "fatalities", "levels": ["none", {"name": "one", "from": 1}, {"name": "2+", "from": 2}]},
                          origin="t.yaml")
    grid = sensitivity_grid({"on": assign_severity(events, ladder)}, ResponseRule(study_end="2020-12-31"), sides=["A", "B"],
                            study_start="2020-01-01", windows=(7, 14), imprecise_dates=("midpoint", "latest"),
                            tolerances=(0, 1), hawkes=False)
    fig = plots.sensitivity(grid)
    assert len(fig.axes) == 4 * 2  # four measures (the share escalating added) x two directions
    # one line per tie rule, through the two windows only: the other placing and tolerance are not drawn
    assert [len(line.get_xdata()) for line in fig.axes[0].lines] == [2, 2]
    assert "imprecise dates at their midpoint, ladder tolerance 0" in fig._suptitle.get_text()
    # A's first answer (a1, 0 killed -> b1, 2 killed) escalates: the escalation row of A -> B is at 1
    assert list(fig.axes[6].lines[0].get_ydata()) == [1.0, 1.0]
