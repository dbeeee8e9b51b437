"""The embedded dataset, data/raw/us-iran-proxies/events.csv: schema, citations, and the
well-known strike -> response chains it must reproduce."""

import re

import pandas as pd
import pytest

from analysis.cycles import build_cycles
from analysis.dyads import assign_sides, load_dyad
from analysis.sources import load_source
from tests.conftest import ROOT

FOLDER = ROOT / "data" / "raw" / "us-iran-proxies"


@pytest.fixture(scope="module")
def spec():
    return load_dyad(ROOT / "dyads" / "us-iran-proxies.yaml")


@pytest.fixture(scope="module")
def raw():
    return pd.read_csv(FOLDER / "events.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def events(spec):
    result = load_source(spec.sources[0])
    assert result.counts["rejected"] == 0, result.rejects.to_string()
    sided, unmatched = assign_sides(result.events, spec)
    assert unmatched.empty, unmatched.to_string()
    return sided


@pytest.fixture(scope="module")
def cycles(events, spec):
    return build_cycles(events, spec.response_rule()).merge(
        events[["event_id", "location", "kind"]], left_on="trigger_id", right_on="event_id"
    )


def test_size_and_both_sides(raw):
    assert len(raw) >= 40
    assert {"us", "militias"} <= set(raw["curated_side"])


def test_ids_unique_and_built_from_the_date(raw):
    assert raw["event_id"].is_unique
    for event_id, date in zip(raw["event_id"], raw["date"]):
        assert re.fullmatch(rf"usi-{date}-\d+", event_id), event_id


def test_every_row_cites_a_public_url_and_has_a_summary(raw):
    for row in raw.itertuples():
        urls = row.sources.split()
        assert urls and all(re.match(r"https?://\S+\.\S+", u) for u in urls), row.event_id
        assert row.summary.strip() and "\n" not in row.summary, row.event_id


def test_dates_within_the_study_period(raw, spec):
    dates = pd.to_datetime(raw["date"], format="%Y-%m-%d")
    assert dates.min() >= spec.start and dates.max() <= spec.end


def test_values_are_in_their_vocabularies(raw):
    assert set(raw["confidence"]) <= {"high", "medium", "low"}
    assert set(raw["date_precision"]) <= {"day", "week", "month"}
    assert set(raw["country"]) <= {"Iraq", "Syria", "Jordan"}


def test_casualty_parts_do_not_exceed_totals(raw):
    def num(col):
        return pd.to_numeric(raw[col].replace("", None))

    killed = num("us_killed").fillna(0) + num("other_killed").fillna(0)
    assert (killed <= num("fatalities").fillna(killed)).all()
    wounded = num("us_wounded").fillna(0) + num("other_wounded").fillna(0)
    assert (wounded <= num("injuries").fillna(wounded)).all()


def test_the_dyad_spec_gives_every_row_the_curators_side(events):
    # the curator's 'iran' side is grouped with the militias in the spec
    expected = events["curated_side"].replace({"iran": "militias"})
    disagree = events.loc[events["side"] != expected, ["event_id", "actor", "curated_side", "side"]]
    assert disagree.empty, disagree.to_string()


def test_no_unexplained_duplicates(raw):
    dup = raw[raw.duplicated(["date", "location", "curated_side"], keep=False)]
    unexplained = dup[~dup["notes"].str.contains("separate", case=False)]
    assert unexplained.empty, unexplained[["event_id", "location"]].to_string()


def test_coordinates_come_from_the_cited_gazetteer(raw):
    sites = pd.read_csv(FOLDER / "sites.csv", dtype=str, keep_default_na=False).set_index("location")
    located = raw[raw["latitude"] != ""]
    for row in located.itertuples():
        assert row.location in sites.index, row.location
        assert (row.latitude, row.longitude) == (sites.loc[row.location, "latitude"], sites.loc[row.location, "longitude"])
    assert (sites.loc[sites["latitude"] != "", "source_url"].str.startswith("http")).all()


def _response(cycles, date, location):
    rows = cycles[(cycles["trigger_date"] == date) & (cycles["location"] == location)]
    assert len(rows) == 1, f"no single event at {location} on {date}"
    return rows.iloc[0]


@pytest.mark.parametrize(
    "date, location, response_dates",
    [
        # 27 Dec 2019 rockets on K-1 -> US strikes on Kataib Hezbollah on 29 Dec
        ("2019-12-27", "K-1 Air Base", {"2019-12-29"}),
        # 11 Mar 2020 Camp Taji -> US strikes announced 12 Mar (US time), 13 Mar local
        ("2020-03-11", "Camp Taji", {"2020-03-12", "2020-03-13"}),
        # 15 Feb 2021 Erbil -> US strikes near Abu Kamal, 25 Feb US time (26 Feb local)
        ("2021-02-15", "Erbil Air Base", {"2021-02-25", "2021-02-26"}),
        # 28 Jan 2024 Tower 22 -> strikes on 85 targets, 4 pm EST 2 Feb (midnight, 3 Feb local)
        ("2024-01-28", "Tower 22", {"2024-02-02", "2024-02-03"}),
    ],
)
def test_well_known_chains(cycles, date, location, response_dates):
    row = _response(cycles, pd.Timestamp(date), location)
    assert row["trigger_side"] == "militias" and row["response_side"] == "us"
    assert row["response_date"].strftime("%Y-%m-%d") in response_dates


@pytest.mark.parametrize(
    "date, location, side",
    [
        ("2020-11-17", "US Embassy Baghdad", "militias"),  # seed 000: Green Zone rockets, Ashab al-Kahf
        ("2021-07-06", "US Embassy Baghdad", "militias"),  # seed 001: drone downed by C-RAM
        ("2021-06-28", "Abu Kamal", "us"),  # seed 001: the late-June US strikes
        ("2023-12-03", "Kirkuk", "us"),  # seed 002: self-defence strike near Kirkuk
        ("2023-12-08", "US Embassy Baghdad", "militias"),  # seed 002: rockets at the embassy
        ("2024-02-07", None, "us"),  # the Baghdad strike killing a Kataib Hezbollah commander
    ],
)
def test_events_of_the_seed_articles_are_recorded(raw, date, location, side):
    rows = raw[(raw["date"] == date) & (raw["curated_side"] == side)]
    if location is not None:
        rows = rows[rows["location"] == location]
    assert len(rows) >= 1


# --- The codebook's figures and actor labels (analysis/codebook.py) ---------------------------


def test_the_codebooks_figures_are_the_files(raw):
    # every count in README.md is written from events.csv; when this fails, run
    # `python -m analysis.codebook data/raw/us-iran-proxies` and commit the README
    from analysis.codebook import render_readme

    text = (FOLDER / "README.md").read_text(encoding="utf-8")
    computed = render_readme(text, raw)
    stale = [f"{old!r} -> {new!r}" for old, new in zip(text.splitlines(), computed.splitlines()) if old != new]
    assert computed == text, "README figures differ from events.csv:\n" + "\n".join(stale)


def test_the_codebook_has_figures_to_check():
    # the test above cannot pass vacuously: the README carries the generated block and inline counts
    text = (FOLDER / "README.md").read_text(encoding="utf-8")
    assert text.count("<!-- codebook: contents -->") == 1
    assert text.count("<!-- /n -->") >= 6 and text.count("<!-- /pct -->") >= 2


def test_every_actor_label_is_one_the_codebook_allows(raw, spec):
    from analysis.codebook import actor_labels

    allowed = actor_labels(FOLDER / "README.md")
    assert len(allowed) == len(set(allowed))
    outside = raw.loc[~raw["actor"].isin(allowed), ["event_id", "actor"]]
    assert outside.empty, "actor labels not in the codebook's list:\n" + outside.to_string()
    # and every allowed label gets a side from the dyad spec
    labels = pd.DataFrame({"actor": allowed})
    sided, unmatched = assign_sides(labels, spec, target_col=None)
    assert unmatched.empty, unmatched.to_string()
    assert sided["side"].notna().all()


def _table(rows):
    columns = ["event_id", "date", "curated_side", "actor", "claimed_by", "target", "kind", "country",
               "date_precision", "time_utc", "latitude", "confidence", "sources"]
    return pd.DataFrame(rows, columns=columns, dtype=str)


SMALL = _table([
    # id  date          side        actor                                claimed  target                 kind      country  prec   time                    lat   conf    sources  # noqa: E501  (a table, one event a row)
    ("a", "2020-12-31", "militias", "unidentified Iran-aligned militia", "",      "Convoy of trucks",    "ied",    "Iraq",  "day",  "",                     "",   "low",  "http://x.org/1"),  # noqa: E501  (a table, one event a row)
    ("b", "2021-01-01", "militias", "Ashab al-Kahf",                     "Ashab",  "supply CONVOY",       "ied",    "Iraq",  "day",  "",                     "",   "medium", "http://x.org/1 http://x.org/2"),  # noqa: E501  (a table, one event a row)
    ("c", "2021-03-05", "militias", "unidentified Iran-aligned militia", "",      "Ain al-Asad",         "rocket", "Iraq",  "week", "2021-03-05T04:20:00Z", "33.7", "high", "http://x.org/1 http://x.org/2 http://x.org/3"),  # noqa: E501  (a table, one event a row)
    ("d", "2021-12-31", "us",       "US forces",                         "",      "KH depot",            "airstrike", "Syria", "day", "",                    "34.4", "high", "http://x.org/1"),  # noqa: E501  (a table, one event a row)
    ("e", "2022-01-01", "iran",     "Islamic Revolutionary Guard Corps", "",      "Erbil",               "missile", "Iraq", "day",  "",                     "36.2", "high", "http://x.org/1"),  # noqa: E501  (a table, one event a row)
])


@pytest.mark.parametrize(
    "filters, expected",
    [
        ("", 5),
        ("side=militias", 3),  # a, b, c
        ("side=militias,iran", 4),  # a, b, c, e
        ("side!=us", 4),
        ("from=2021-01-01 to=2021-12-31", 3),  # b, c, d: both ends inclusive
        ("year=2021 side=militias", 2),  # b, c
        ("target~convoy", 2),  # a and b (case-insensitive)
        ("side=militias target!~convoy", 1),  # c
        ('actor="unidentified Iran-aligned militia" lacks=claim', 2),  # a, c
        ("has=claim", 1),  # b
        ("has=time", 1),  # c
        ("has=coordinates", 3),  # c, d, e
        ("precision=week", 1),  # c
        ("kind=ied,rocket country=Iraq", 3),  # a, b, c
    ],
)
def test_count_rows_by_hand(filters, expected):
    from analysis.codebook import count_rows

    assert count_rows(SMALL, filters) == expected


def test_count_rows_refuses_what_it_cannot_read():
    from analysis.codebook import count_rows

    with pytest.raises(ValueError, match="unknown filter column 'colour'; columns are: event_id, date"):
        count_rows(SMALL, "colour=red")
    with pytest.raises(ValueError, match="cannot read the filter term 'side'"):
        count_rows(SMALL, "side")
    with pytest.raises(ValueError, match="filter 'has' takes one of"):
        count_rows(SMALL, "has=colour")


def test_render_readme_rewrites_blocks_and_inline_counts():
    from analysis.codebook import render_readme

    text = (
        "# T\n\n<!-- codebook: contents -->\nold\n<!-- /codebook -->\n\n"
        "Militias: <!-- n: side=militias -->9<!-- /n -->, convoys\n"
        "<!-- pct: target~convoy of=3 -->1%<!-- /pct -->.\n"
    )
    out = render_readme(text, SMALL)
    # 3 militia rows; 2 convoy rows of 3 = 67%
    assert "Militias: <!-- n: side=militias -->3<!-- /n -->, convoys" in out
    assert "<!-- pct: target~convoy of=3 -->67%<!-- /pct -->." in out
    assert "old" not in out
    # by hand: 5 rows, 31 Dec 2020 - 1 Jan 2022; 2020 starts in December; 1 + 2 + 3 + 1 + 1 URLs
    assert "**Contents** (5 events, 31 Dec 2020 - 1 Jan 2022):" in out
    assert "| 2020 (from Dec) | 1 | 0 | 0 |\n| 2021 | 2 | 0 | 1 |\n| 2022 | 0 | 1 | 0 |" in out
    assert "By kind: 2 ied, 1 airstrike, 1 missile, 1 rocket. Iraq 4, Syria 1." in out
    assert "Confidence: 3 high, 1 medium, 1 low. Every row cites 1 to 3 URLs (1.6 on average)" in out
    assert "1 rows carry a UTC time; 3 have site coordinates. 2 rows are attacks on supply convoys" in out
    assert render_readme(out, SMALL) == out  # a second run changes nothing


def test_render_readme_names_the_line_of_a_bad_marker():
    from analysis.codebook import render_readme

    with pytest.raises(ValueError, match=r"README.md: line 3: unknown filter column 'colour'"):
        render_readme("# T\n\nx <!-- n: colour=red -->1<!-- /n -->\n", SMALL)
    with pytest.raises(ValueError, match=r"README.md: line 2: unknown block 'summary'"):
        render_readme("# T\n<!-- codebook: summary -->\n<!-- /codebook -->\n", SMALL)


def test_actor_labels_reads_bullets_over_several_lines(tmp_path):
    from analysis.codebook import actor_labels

    path = tmp_path / "README.md"
    path.write_text("# T\n\n## Actor labels\n\nIntro with `not a label`.\n\n"
                    "- `A`: first.\n- `B`,\n  `C`: fronts, e.g. `D`.\n\n## Next\n")
    assert actor_labels(path) == ["A", "B", "C"]
    path.write_text("# T\n\n## Actor labels\n\nnone\n")
    with pytest.raises(ValueError, match="lists no label"):
        actor_labels(path)
