import hashlib

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from analysis import plots
from analysis.provenance import git_revision, provenance_table, sha256_file
from tests.conftest import make_events


def test_sha256_matches_hashlib(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"a,b\n1,2\n" * 1000)
    assert sha256_file(path, chunk=7) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_provenance_table_lists_parameters_inputs_and_versions(tmp_path, root):
    (tmp_path / "in.csv").write_text("x\n")
    table = provenance_table(parameters={"window_days": 30}, inputs=["in.csv"], root=tmp_path).set_index("item")
    assert table.loc["parameter window_days", "value"] == "30"
    assert table.loc["sha256 in.csv", "value"] == hashlib.sha256(b"x\n").hexdigest()
    assert table.loc["version pandas", "value"] == pd.__version__
    # tmp_path is not a git checkout: say so rather than fail
    assert table.loc["git revision", "value"] == "unknown (not a git checkout)"


def test_git_revision_in_the_project(root):
    revision = git_revision(root)
    assert revision.startswith("unknown") or len(revision.split("+")[0]) == 40


def test_timeline_draws_both_sides_and_labels():
    events = make_events(
        [("a", "2020-01-01", "us", "airstrike"), ("b", "2020-01-05", "mil", "rocket"), ("c", "2020-01-09", "mil", "drone")],
        fatalities=pd.array([25, 0, None], dtype="Int64"),
    )
    fig = plots.timeline(events, sides=["us", "mil"], labels={"us": "US"}, highlight={"a": "strikes"},
                         period=("2019-12-01", "2020-02-01"))
    ax = fig.axes[0]
    # one upward stem of height 1 + log(26) for a, two downward stems of height 1
    stems = [c for c in ax.collections if isinstance(c, matplotlib.collections.LineCollection)]
    heights = sorted(float(seg[1][1]) for coll in stems for seg in coll.get_segments())
    assert heights == pytest.approx([-1.0, -1.0, 1 + 3.258096538])
    assert [t.get_text() for t in ax.texts] == ["strikes"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["US (1)", "mil (2)"]
    assert matplotlib.dates.num2date(ax.get_xlim()[0]).date() == pd.Timestamp("2019-12-01").date()
    assert plots.check_figure(fig) == []
    plt.close(fig)


def test_timeline_labels_of_close_events_do_not_overlap():
    # six labelled events within ten days: side by side they would overprint each other
    rows = [(f"u{i}", f"2020-01-{1 + 2 * i:02d}", "us", "airstrike") for i in range(5)] + [("m0", "2020-01-02", "mil", "rocket")]
    events = make_events(rows)
    names = {f"u{i}": f"a long label number {i}" for i in range(5)} | {"m0": "militia label"}
    fig = plots.timeline(events, sides=["us", "mil"], highlight=names, period=("2019-06-01", "2020-06-30"))
    assert sorted(t.get_text() for t in fig.axes[0].texts) == sorted(names.values())
    assert plots.check_figure(fig) == []  # no text over text
    # they stack: the five US labels take five rows, all above the axis
    text_box = matplotlib.text.Text.get_window_extent  # the text alone (an annotation's extent includes its line)
    heights = sorted({round(text_box(t).y0) for t in fig.axes[0].texts if t.get_text().startswith("a long")})
    assert len(heights) == 5
    assert min(heights) > fig.axes[0].transData.transform((0, 0))[1]
    plt.close(fig)


def test_timeline_of_a_dense_dyad_draws_weekly_counts():
    from analysis.simulate import tit_for_tat

    # about 70,000 events over five years: one stem each would be a solid block
    events = tit_for_tat(days=1826, sides=("A", "B"), base_rate=(14, 14), p_respond=(0.3, 0.3), seed=1)
    assert len(events) > 70_000
    fig = plots.timeline(events, sides=["A", "B"], highlight={events["event_id"].iloc[0]: "first"})
    ax = fig.axes[0]
    # one stepped patch per side, one step per week, 7 days wide; the steps add up to each side's events
    from matplotlib.patches import StepPatch

    (up, up_edges, _), (down, _, _) = (p.get_data() for p in ax.patches if isinstance(p, StepPatch))
    assert up.sum() == (events["side"] == "A").sum() and (up >= 0).all()
    assert -down.sum() == (events["side"] == "B").sum() and (down <= 0).all()
    assert (np.diff(up_edges) == 7).all()
    assert 260 <= len(up) <= 262 and not ax.collections  # weeks, not 70,000 stems
    assert "events per week" in ax.get_ylabel() and "per week" in ax.get_title(loc="right")
    assert plots.check_figure(fig) == []
    plt.close(fig)


def test_timeline_needs_two_sides():
    with pytest.raises(ValueError, match="two sides"):
        plots.timeline(make_events([("a", "2020-01-01", "us", "airstrike")]), sides=["us"])


def test_null_distributions_one_panel_per_statistic_with_the_p_value():
    null = pd.DataFrame({"draw": [1, 2, 1, 2], "shift_days": [3, 5, 3, 5], "direction": ["A -> B"] * 4,
                         "statistic": ["response_ratio", "response_ratio", "median_interval", "median_interval"],
                         "value": [0.1, 0.2, 5.0, 7.0]})
    summary = pd.DataFrame({"direction": ["A -> B", "A -> B"], "statistic": ["response_ratio", "median_interval"],
                            "observed": [0.5, 2.0], "p_value": [0.333, 0.333], "k_days": [7, 7], "window_days": [30, 30]})
    fig = plots.null_distributions(null, summary, labels={"A": "Alpha"})
    assert len(fig.axes) == 2
    assert fig.axes[0].get_title() == "Alpha \u2192 B\nresponse ratio: p = 0.333"
    assert fig.axes[0].lines[0].get_xdata()[0] == 0.5  # the observed value's line
    assert fig.axes[0].get_xlabel() == "share of events answered\nwithin 7 days"
    assert fig.axes[1].get_xlabel() == "median days to an answer\n(within 30 days)"
    assert fig.axes[0].get_ylabel() == "shifted draws"
    # the red line and the grey bars are named in the figure's legend
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "circular-shift null (one side's dates shifted at random)", "observed value"]
    assert plots.check_figure(fig) == []
    plt.close(fig)


def test_weekly_counts_sum_the_daily_panel():
    from analysis.panel import daily_panel

    events = make_events([("a", "2020-01-06", "us", "airstrike"), ("b", "2020-01-07", "us", "airstrike"),
                          ("c", "2020-01-14", "mil", "rocket")])
    panel = daily_panel(events, sides=["us", "mil"], start="2020-01-06", end="2020-01-19")
    fig = plots.weekly_counts(panel, sides=["us", "mil"], marks={"x": "2020-01-10", "close by": "2020-01-11"})
    us_line = fig.axes[0].lines[0]
    # weeks starting Monday 6 Jan and 13 Jan: us 2 then 0
    assert list(us_line.get_ydata()) == [2, 0]
    assert [t.get_text() for t in fig.axes[0].texts] == ["x", "close by"]
    assert plots.check_figure(fig) == []  # the two marks' names stacked, not overprinted
    plt.close(fig)


def test_impulse_responses_grid_from_a_table():
    irf = pd.DataFrame([(i, r, p, 0.1 * p, 0.0, 0.2 * p) for i in ("a", "b") for r in ("a", "b") for p in range(3)],
                       columns=["impulse", "response", "period", "irf", "lower", "upper"])
    fig = plots.impulse_responses(irf, labels={"a": "A"})
    assert len(fig.axes) == 4
    assert fig.axes[1].get_title() == "b \u2192 A"  # row = response a, column = impulse b
    assert list(fig.axes[1].lines[0].get_ydata()) == [0.0, 0.1, 0.2]
    assert fig.axes[0].get_ylabel() == "A: change in events per\nday"
    assert plots.check_figure(fig) == []
    plt.close(fig)


def _cycles(rows):
    frame = pd.DataFrame(rows, columns=["trigger_side", "interval_days", "censored"])
    frame["window_days"] = 10
    return frame


def test_response_intervals_count_answers_by_day_and_show_the_censored():
    # side a: answered after 1, 1, 3 days, two never answered; side b: one answer on day 0
    cycles = _cycles([("a", 1, False), ("a", 1, False), ("a", 3, False), ("a", 10, True), ("a", 4, True), ("b", 0, False)])
    fig = plots.response_intervals(cycles, labels={"a": "Side A", "b": "Side B"}, colors={"a": "#123456"})
    first = fig.axes[0]
    heights = {round(p.get_x() + p.get_width() / 2): p.get_height() for p in first.patches}
    assert heights[1] == 2 and heights[3] == 1 and heights[0] == 0
    assert heights[13] == 2  # the hatched bar past the window: two events without an answer
    assert [t.get_text() for t in first.get_legend().get_texts()] == ["answered (3)", "no answer within 10 days (2)"]
    assert first.get_title() == "Side A \u2192 Side B" and first.get_xticklabels()[-1].get_text() == "none"
    assert matplotlib.colors.to_hex(first.patches[0].get_facecolor()) == "#123456"
    assert plots.check_figure(fig) == []
    plt.close(fig)


def test_check_figure_finds_a_legend_over_the_data_and_text_over_text():
    fig, ax = plt.subplots()
    ax.plot(range(10), [5] * 10, label="flat line through the middle")
    ax.set(title="t", xlabel="x", ylabel="y")
    ax.legend(loc="center")
    ax.text(1, 2, "one label")
    ax.text(1, 2, "another label")
    problems = plots.check_figure(fig)
    assert any(p.startswith("legend 'flat line through the middle' covers data") for p in problems)
    assert "text 'one label' overlaps text 'another label'" in problems
    ax.get_legend().set_bbox_to_anchor((1.02, 1.0))
    ax.get_legend().set_loc("upper left")
    assert not any(p.startswith("legend") for p in plots.check_figure(fig))
    plt.close(fig)


def test_sensitivity_colours_mean_sides_and_identical_dedup_is_one_line():
    grid = pd.DataFrame([(d, t, w, direction, 10, 2.0 + w / 10, 0.5, 0.1)
                         for d in ("on", "off") for t in ("exclude", "include") for w in (7, 14)
                         for direction in ("a -> b", "b -> a")],
                        columns=["dedup", "ties", "window_days", "direction", "events", "median_days", "response_ratio",
                                 "hawkes_cross_excitation"])
    fig = plots.sensitivity(grid, labels={"a": "A", "b": "B"}, colors={"a": "#111111", "b": "#eeeeee"})
    first, second = fig.axes[0], fig.axes[1]
    assert first.get_title() == "A \u2192 B" and second.get_title() == "B \u2192 A"
    # dedup on and off give the same numbers: one line per tie rule, in the colour of the side answered
    assert len(first.lines) == 2 and {matplotlib.colors.to_hex(line.get_color()) for line in first.lines} == {"#111111"}
    assert {matplotlib.colors.to_hex(line.get_color()) for line in second.lines} == {"#eeeeee"}
    assert [t.get_text() for t in fig.legends[0].get_texts()][-1] == "dedup on = off (identical results)"
    assert plots.check_figure(fig) == []
    plt.close(fig)
    changed = grid.assign(median_days=grid["median_days"] + (grid["dedup"] == "off"))
    fig = plots.sensitivity(changed, labels={"a": "A", "b": "B"})
    assert len(fig.axes[0].lines) == 4
    assert [t.get_text() for t in fig.legends[0].get_texts()][-2:] == ["dedup on", "dedup off"]
    plt.close(fig)
