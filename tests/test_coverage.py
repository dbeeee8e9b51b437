import pandas as pd
import pytest

from analysis.coverage import coverage_table, load_official_counts, monthly_counts
from tests.conftest import ROOT, make_events

HEADER = "since,as_of,count,qualifier,stated_by,sources,note"


def official(tmp_path, text, header=HEADER):
    path = tmp_path / "counts.csv"
    path.write_text(header + "\n" + text)
    return path


def test_coverage_by_hand(tmp_path):
    counts = load_official_counts(official(
        tmp_path,
        "2023-10-17,2023-10-24,4,exact,x,http://a,\n2023-10-17,2023-10-31,10,more_than,x,http://b,\n"
        "2023-10-27,2023-10-30,3,about,y,http://c,\n",  # another series, counted from 27 Oct
    ))
    events = make_events(
        [
            ("m0", "2023-10-16", "mil", "drone"),  # before the start: not counted
            ("m1", "2023-10-18", "mil", "drone"),
            ("m2", "2023-10-24", "mil", "rocket"),  # on the as-of day: counted
            ("u1", "2023-10-26", "us", "airstrike"),  # other side: not counted
            ("m3", "2023-10-27", "mil", "drone"),
            ("m4", "2023-10-30", "mil", "drone"),
            ("m5", "2023-11-02", "mil", "drone"),  # after the last statement
        ]
    )
    table = coverage_table(events, counts, side="mil")
    # 2 of 4 by 24 Oct; 4 of "more than 10" by 31 Oct, so 0.4 is an upper bound;
    # the other series: m3 and m4 (27-30 Oct) of 3
    assert table["ours"].tolist() == [2, 4, 2]
    assert table["coverage"].tolist()[:2] == [0.5, 0.4]
    assert table.loc[2, "coverage"] == pytest.approx(2 / 3)
    # between the statements of the first series: 2 of 6 added; a series' first row adds its all
    assert table.loc[1, ["official_added", "ours_added"]].tolist() == [6, 2]
    assert table.loc[1, "period_coverage"] == pytest.approx(1 / 3)
    assert table.loc[2, ["official_added", "ours_added", "period_start"]].tolist() == [3, 2, pd.Timestamp("2023-10-27")]
    assert table["bound"].tolist() == ["estimate", "upper", "estimate"]
    assert table.loc[1, "period_start"] == pd.Timestamp("2023-10-25")


def test_one_country_series_by_hand(tmp_path):
    # a US series over all countries and a monitor's Syria-only series, told apart by 'series'
    counts = load_official_counts(official(
        tmp_path,
        "2023-10-17,2023-10-24,4,exact,x,http://a,,us,\n"
        "2023-10-19,2023-10-24,3,exact,monitor,http://m,,monitor,Syria\n"
        "2023-10-19,2023-10-31,5,exact,monitor,http://m2,,monitor,Syria\n",
        header=HEADER + ",series,country",
    ))
    events = make_events(
        [
            ("m1", "2023-10-18", "mil", "drone"),  # Syria, before the monitor's first day
            ("m2", "2023-10-20", "mil", "rocket"),  # Iraq: the US series only
            ("m3", "2023-10-22", "mil", "drone"),  # Syria: both series
            ("u1", "2023-10-21", "us", "airstrike"),  # other side: neither
            ("m4", "2023-10-24", "mil", "drone"),  # Syria, on the as-of day: both
            ("m5", "2023-10-28", "mil", "drone"),  # Syria: the monitor's second statement
        ],
        country=["Syria", "Iraq", "Syria", "Syria", "Syria", "Syria"],
    )
    table = coverage_table(events, counts, side="mil")
    # US, 17-24 Oct, all countries: m1 m2 m3 m4 = 4 of 4; monitor, 19-24 Oct, Syria: m3 m4 = 2 of 3;
    # monitor, 19-31 Oct: m3 m4 m5 = 3 of 5, and 25-31 Oct adds m5 = 1 of the 2 added
    assert table["series"].tolist() == ["us", "monitor", "monitor"]
    assert table["ours"].tolist() == [4, 2, 3]
    assert table["coverage"].tolist() == pytest.approx([1.0, 2 / 3, 0.6])
    assert table.loc[2, ["official_added", "ours_added", "period_start"]].tolist() == [2, 1, pd.Timestamp("2023-10-25")]
    assert table.loc[2, "period_coverage"] == pytest.approx(0.5)
    # the monitor's first row starts its own series: all of it is 'added'
    assert table.loc[1, ["official_added", "ours_added", "period_start"]].tolist() == [3, 2, pd.Timestamp("2023-10-19")]
    with pytest.raises(ValueError, match="need an events column 'country'"):
        coverage_table(events.drop(columns="country"), counts, side="mil")


def test_a_series_must_keep_one_start_and_one_country(tmp_path):
    header = HEADER + ",series,country"
    with pytest.raises(ValueError, match=r"series 'm' mixes values of column 'country': \['', 'Syria'\]"):
        load_official_counts(official(tmp_path, "2023-10-19,2023-10-24,3,exact,m,http://m,,m,Syria\n"
                                                "2023-10-19,2023-10-31,5,exact,m,http://m,,m,\n", header=header))
    with pytest.raises(ValueError, match=r"series 'm' mixes values of column 'since'"):
        load_official_counts(official(tmp_path, "2023-10-19,2023-10-24,3,exact,m,http://m,,m,\n"
                                                "2023-10-17,2023-10-31,5,exact,m,http://m,,m,\n", header=header))


def test_official_counts_errors_name_row_and_column(tmp_path):
    with pytest.raises(ValueError, match=r"row 3, column 'count': not a whole number >= 0: 'many'"):
        load_official_counts(official(tmp_path, "2023-10-17,2023-10-24,4,exact,x,http://a,\n2023-10-17,2023-10-31,many,exact,x,http://b,\n"))
    with pytest.raises(ValueError, match=r"row 2, column 'qualifier': 'roughly'"):
        load_official_counts(official(tmp_path, "2023-10-17,2023-10-24,4,roughly,x,http://a,\n"))
    with pytest.raises(ValueError, match="in date order"):
        load_official_counts(official(tmp_path, "2023-10-17,2023-10-31,4,exact,x,http://a,\n2023-10-17,2023-10-24,2,exact,x,http://b,\n"))


def test_monthly_counts_zero_fill():
    events = make_events([("a", "2020-01-05", "us", "airstrike"), ("b", "2020-03-01", "mil", "rocket"),
                          ("c", "2020-03-09", "mil", "drone")])
    table = monthly_counts(events)
    assert [str(p) for p in table.index] == ["2020-01", "2020-02", "2020-03"]
    assert table["mil"].tolist() == [0, 0, 2] and table["us"].tolist() == [1, 0, 0]
    by_kind = monthly_counts(events, by=("side", "kind"))
    assert by_kind[("mil", "drone")].tolist() == [0, 0, 1]


def test_the_projects_official_counts_are_valid_and_cited():
    counts = load_official_counts(ROOT / "data" / "raw" / "us-iran-proxies" / "official_counts.csv")
    assert len(counts) >= 10
    assert all(group.is_monotonic_increasing for _, group in counts.groupby("since")["count"])


def test_markdown_section(tmp_path):
    from analysis.coverage import markdown_section

    path = tmp_path / "README.md"
    path.write_text("# T\n\n## Rules\n\nr\n\n## Known gaps\n\n- a\n- b\n\n## Licence\n\nx\n")
    assert markdown_section(path, "Known gaps") == "- a\n- b"
    with pytest.raises(ValueError, match=r"no '## Gaps' section; sections are: \['Rules', 'Known gaps', 'Licence'\]"):
        markdown_section(path, "Gaps")


def test_a_statement_can_leave_out_a_kind_of_target(tmp_path):
    # a count of attacks on facilities: our convoy bombings are not counted against it
    path = tmp_path / "counts.csv"
    path.write_text(
        "since,as_of,count,qualifier,stated_by,sources,note,series,exclude_target\n"
        "2021-01-01,2021-03-31,4,about,official,https://example.org,facilities,f,convoy\n"
        "2021-01-01,2021-03-31,4,about,monitor,https://example.org,all attacks,m,\n"
    )
    counts = load_official_counts(path)
    events = make_events([(f"e{i}", f"2021-0{1 + i % 3}-10", "mil", "ied") for i in range(5)],
                         target=["base", "supply convoy", "Convoy near Hillah", "airport", None])
    table = coverage_table(events, counts, side="mil").set_index("series")
    # facilities: e0 (base), e3 (airport), e4 (no target: kept) = 3 of 4; all attacks: 5 of 4
    assert table.loc["f", ["ours", "exclude_target"]].tolist() == [3, "convoy"] and table.loc["f", "coverage"] == 0.75
    assert table.loc["m", "ours"] == 5
    with pytest.raises(ValueError, match="need an events column 'target'"):
        coverage_table(events.drop(columns="target"), counts, side="mil")
