import hashlib

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from analysis import plots  # noqa: E402
from analysis.provenance import git_revision, provenance_table, sha256_file  # noqa: E402
from tests.conftest import make_events  # noqa: E402


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
    plt.close(fig)


def test_timeline_needs_two_sides():
    with pytest.raises(ValueError, match="two sides"):
        plots.timeline(make_events([("a", "2020-01-01", "us", "airstrike")]), sides=["us"])


def test_null_distributions_one_panel_per_statistic_with_the_p_value():
    null = pd.DataFrame({"draw": [1, 2, 1, 2], "shift_days": [3, 5, 3, 5], "direction": ["A -> B"] * 4,
                         "statistic": ["response_ratio", "response_ratio", "median_interval", "median_interval"],
                         "value": [0.1, 0.2, 5.0, 7.0]})
    summary = pd.DataFrame({"direction": ["A -> B", "A -> B"], "statistic": ["response_ratio", "median_interval"],
                            "observed": [0.5, 2.0], "p_value": [0.333, 0.333]})
    fig = plots.null_distributions(null, summary)
    assert len(fig.axes) == 2
    assert fig.axes[0].get_title() == "A -> B\nresponse ratio: p = 0.333"
    assert fig.axes[0].lines[0].get_xdata()[0] == 0.5  # the observed value's line
    plt.close(fig)


def test_weekly_counts_sum_the_daily_panel():
    from analysis.panel import daily_panel

    events = make_events([("a", "2020-01-06", "us", "airstrike"), ("b", "2020-01-07", "us", "airstrike"),
                          ("c", "2020-01-14", "mil", "rocket")])
    panel = daily_panel(events, sides=["us", "mil"], start="2020-01-06", end="2020-01-19")
    fig = plots.weekly_counts(panel, sides=["us", "mil"], marks={"x": "2020-01-10"})
    us_line = fig.axes[0].lines[0]
    # weeks starting Monday 6 Jan and 13 Jan: us 2 then 0
    assert list(us_line.get_ydata()) == [2, 0]
    assert [t.get_text() for t in fig.axes[0].texts] == [" x"]
    plt.close(fig)


def test_impulse_responses_grid_from_a_table():
    irf = pd.DataFrame([(i, r, p, 0.1 * p, 0.0, 0.2 * p) for i in ("a", "b") for r in ("a", "b") for p in range(3)],
                       columns=["impulse", "response", "period", "irf", "lower", "upper"])
    fig = plots.impulse_responses(irf, labels={"a": "A"})
    assert len(fig.axes) == 4
    assert fig.axes[1].get_title() == "b \u2192 A"  # row = response a, column = impulse b
    assert list(fig.axes[1].lines[0].get_ydata()) == [0.0, 0.1, 0.2]
    plt.close(fig)
