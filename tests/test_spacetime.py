import numpy as np
import pandas as pd
import pytest

from analysis.response import ResponseRule
from analysis.simulate import dense_dyad
from analysis.spacetime import check_options, knox_test
from tests.conftest import make_events

KM_PER_DEGREE = 6371.0088 * np.pi / 180  # along a meridian


def _north(km):
    return 33.0 + km / KM_PER_DEGREE


def six_events():
    # two A events and four B events on one meridian (distances exact):
    #   a1 day 1 at 0 km, a2 day 5 at 20 km;
    #   b1 day 2 at 0.5 km, b2 day 4 at 3 km, b3 day 8 at 20 km, b4 day 40 at 0 km
    return make_events(
        [("a1", "2020-01-01", "A", "rocket"), ("b1", "2020-01-02", "B", "airstrike"), ("b2", "2020-01-04", "B", "airstrike"),
         ("a2", "2020-01-05", "A", "rocket"), ("b3", "2020-01-08", "B", "airstrike"), ("b4", "2020-02-09", "B", "airstrike")],
        latitude=[_north(0), _north(0.5), _north(3), _north(20), _north(20), _north(0)], longitude=[44.0] * 6,
    )


def test_knox_counts_worked_by_hand():
    table = knox_test(six_events(), ResponseRule(study_end="2020-03-31"), study_start="2020-01-01",
                      distance_bands_km=[0, 1, 5, 25], time_bands_days=[0, 1, 3, 7], n_draws=0)
    got = {(r.direction, r.d_lo_km, r.t_hi_days): r.observed for r in table.itertuples() if r.observed}
    # A -> B (a then b):  a1-b1 0.5 km, 1 day; a1-b2 3 km, 3 days; a1-b3 20 km, 7 days;
    #   a2-b3 0 km, 3 days (b1, b2 come before a2; b4 is 35 days after a2: past 7)
    # B -> A (b then a):  b1-a2 19.5 km, 3 days; b2-a2 17 km, 1 day; b3, b4: no later a
    assert got == {("A -> B", 0.0, 1): 1, ("A -> B", 1.0, 3): 1, ("A -> B", 5.0, 7): 1, ("A -> B", 0.0, 3): 1,
                   ("B -> A", 5.0, 3): 1, ("B -> A", 5.0, 1): 1}
    assert len(table) == 2 * 3 * 3 and table["observed"].sum() == 6
    assert set(table["pairs_from"]) == {2, 4} and (table["events_without_coordinates"] == 0).all()


def test_knox_null_by_hand_when_redrawing_cannot_move_anything():
    # all of A on one day: permuting A's dates changes nothing, so every draw equals the observed
    events = six_events()
    events.loc[events["event_id"] == "a2", "date"] = pd.Timestamp("2020-01-01")
    table = knox_test(events, ResponseRule(study_end="2020-03-31"), study_start="2020-01-01", distance_bands_km=[0, 1, 5, 25],
                      time_bands_days=[0, 1, 3, 7], n_draws=9, redraw="permute", seed=1)
    a_to_b = table[table["direction"] == "A -> B"]
    assert (a_to_b["expected"] == a_to_b["observed"]).all()
    assert (a_to_b["p_value"] == 1.0).all()  # (1 + 9 draws >= observed) / (1 + 9)
    assert (a_to_b.loc[a_to_b["observed"] > 0, "ratio"] == 1.0).all()


def test_the_listed_and_the_streamed_counts_agree():
    events = dense_dyad(days=40, rate=(3, 30), box_km=120, seed=3)
    rule = ResponseRule(study_end="2020-02-09")
    kwargs = {"study_start": "2020-01-01", "n_draws": 15, "seed": 4, "time_bands_days": [-1, 0, 2, 5, 10]}
    pd.testing.assert_frame_equal(knox_test(events, rule, **kwargs), knox_test(events, rule, pair_budget=0, **kwargs))
    pd.testing.assert_frame_equal(knox_test(events, rule, redraw="permute", **kwargs),
                                  knox_test(events, rule, redraw="permute", pair_budget=0, **kwargs))


def test_events_without_coordinates_are_left_out_and_counted():
    events = six_events()
    events.loc[events["event_id"] == "b2", ["latitude", "longitude"]] = np.nan
    table = knox_test(events, ResponseRule(study_end="2020-03-31"), study_start="2020-01-01", distance_bands_km=[0, 1, 5, 25],
                      time_bands_days=[0, 1, 3, 7], n_draws=0)
    assert table["observed"].sum() == 4  # a1-b2 and b2-a2 are gone
    assert (table["events_without_coordinates"] == 1).all()


def test_the_largest_interaction_sits_in_the_planted_band():
    # B answers half of A's events within 10 km and 1-3 days, among ~130 B events a day
    events = dense_dyad(days=60, p_answer=0.5, seed=7)
    table = knox_test(events, ResponseRule(study_end="2020-02-29"), study_start="2020-01-01", n_draws=99, seed=2,
                      distance_bands_km=[0, 5, 10, 25, 50], time_bands_days=[0, 1, 3, 7, 14, 30])
    top = table.sort_values("ratio", ascending=False).iloc[0]
    assert top["direction"] == "A -> B" and top["d_hi_km"] <= 10 and top["t_hi_days"] <= 3
    assert top["p_value"] == pytest.approx(0.01)  # no draw reaches it: (1 + 0) / (1 + 99)
    # away from the planted band the ratios stay near 1
    far = table[(table["direction"] == "A -> B") & (table["d_lo_km"] >= 25)]
    assert far["ratio"].between(0.9, 1.1).all()


def test_options_are_checked_naming_the_file_and_key():
    assert check_options({"n_draws": 99, "redraw": "permute"}, where="p.yaml: cycles.spacetime") == {"n_draws": 99,
                                                                                                     "redraw": "permute"}
    with pytest.raises(ValueError,
                       match=r"p.yaml: cycles.spacetime: unknown key 'distance_bands'; did you mean 'distance_bands_km'\?"):
        check_options({"distance_bands": [0, 1]}, where="p.yaml: cycles.spacetime")
    with pytest.raises(ValueError, match=r"time_bands_days must be at least two increasing numbers"):
        check_options({"time_bands_days": [3, 1]}, where="p.yaml: cycles.spacetime")
    with pytest.raises(ValueError, match=r"n_draws must be a whole number >= 1, got True"):
        check_options({"n_draws": True}, where="p.yaml: cycles.spacetime")


def test_heat_map_explains_itself():
    import matplotlib

    matplotlib.use("Agg")
    from analysis import plots

    table = knox_test(six_events(), ResponseRule(study_end="2020-03-31"), study_start="2020-01-01",
                      distance_bands_km=[0, 1, 5, 25], time_bands_days=[0, 1, 3, 7], n_draws=9, seed=1)
    fig = plots.spacetime_heatmap(table, labels={"A": "Alpha", "B": "Beta"})
    assert plots.check_figure(fig) == []
    assert [ax.get_title() for ax in fig.axes[:2]] == ["Alpha \u2192 Beta", "Beta \u2192 Alpha"]
    # one cell per band pair in each panel, its ratio written in
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == 9
