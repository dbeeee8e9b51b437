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
