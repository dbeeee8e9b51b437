"""Per-fatality loader, on the B'Tselem extract in shared/fixtures (read in place, never copied).

Expected values come from counting the fixture's rows with a short pandas script (noted beside
each assert); the synthetic files in tmp_path are made up.
"""


import pandas as pd
import pytest

from analysis.dyads import assign_sides, load_dyad, within_scope
from analysis.sources import load_source
from analysis.sources.fatalities import load_fatalities, person_kinds
from tests.conftest import ROOT, write_csv

FIXTURES = ROOT.parent / "shared" / "fixtures"
BTSELEM = FIXTURES / "btselem" / "fatalities_isr_pse_2000_2023.csv"
SPEC = ROOT / "dyads" / "israel-palestinians.yaml"

HEADER = ("name,date_of_event,age,citizenship,event_location,event_location_district,event_location_region,"
          "date_of_death,gender,took_part_in_the_hostilities,place_of_residence,place_of_residence_district,"
          "type_of_injury,ammunition,killed_by,notes,year_of_event,month_name,day_name")


@pytest.fixture(scope="module")
def loaded():
    if not BTSELEM.is_file():
        pytest.skip(f"shared fixtures not found at {FIXTURES} (B'Tselem fatalities extract)")
    return load_fatalities(BTSELEM)


def test_person_rows_and_events_are_accounted_for(loaded):
    # 11,125 lines = header + 11,124 person rows (no quoted line breaks); grouping the rows by
    # date_of_event x killed_by x the three place columns gives 4,420 groups
    assert loaded.counts == {"source": loaded.source, "read": 11124, "accepted": 4420, "rejected": 0,
                             "filtered": 0, "merged": 11124 - 4420}
    assert loaded.notes[0] == "11,124 person rows aggregated into 4,420 events (one per date_of_event x killed_by x place)"
    assert loaded.events["fatalities"].sum() == 11124
    assert (loaded.events["records"] == loaded.events["fatalities"]).all()
    assert loaded.events["event_id"].is_unique


def test_one_day_aggregated_by_hand(loaded):
    # 2003-09-25 has 8 rows (lines 8844-8851):
    #   Palestinian civilians, Negohot (Hebron, West Bank): lines 8844 and 8846, 2 Israelis
    #   Palestinian civilians, al-Bureij R.C. (Deir al-Balah, Gaza Strip): line 8845, 1 Israeli
    #   Israeli security forces, al-Bureij R.C.: lines 8847-8848, 2 Palestinians, live ammunition
    #   Israeli security forces, Negohot: line 8849, 1 Palestinian
    #   Israeli security forces, Hebron (Hebron, West Bank): lines 8850-8851, 2 Palestinians, shell
    # events are numbered after sorting by perpetrator, region, district and locality
    day = loaded.events[loaded.events["date"] == pd.Timestamp("2003-09-25")]
    got = [tuple(r) for r in day[["event_id", "actor", "location", "admin1", "country", "fatalities", "target",
                                   "raw_row", "kind"]].itertuples(index=False)]
    assert got == [
        ("fatalities-2003-09-25-1", "Israeli security forces", "al-Bureij R.C.", "Deir al-Balah", "Gaza Strip", 2,
         "Palestinian", 8847, "shooting"),
        ("fatalities-2003-09-25-2", "Israeli security forces", "Hebron", "Hebron", "West Bank", 2,
         "Palestinian", 8850, "rocket"),
        ("fatalities-2003-09-25-3", "Israeli security forces", "Negohot", "Hebron", "West Bank", 1,
         "Palestinian", 8849, "shooting"),
        ("fatalities-2003-09-25-4", "Palestinian civilians", "al-Bureij R.C.", "Deir al-Balah", "Gaza Strip", 1,
         "Israeli", 8845, "shooting"),
        ("fatalities-2003-09-25-5", "Palestinian civilians", "Negohot", "Hebron", "West Bank", 2,
         "Israeli", 8844, "shooting"),
    ]
    assert day["fatalities"].sum() == 8 and set(day["date_precision"]) == {"day"}
    assert day["source_type"].iloc[1] == "gunfire/shell"
    assert day["evidence"].iloc[4] == "2 killed by Palestinian civilians (Israeli 2): gunfire/live ammunition"


def test_death_dates_span_the_persons_of_an_event(loaded):
    # 2001-10-19, Israeli security forces in Bethlehem (Bethlehem, West Bank): lines 10946 and
    # 10947, who died on 2002-06-12 and 2002-02-23
    events = loaded.events
    row = events[(events["date"] == pd.Timestamp("2001-10-19")) & (events["location"] == "Bethlehem")].iloc[0]
    assert (row["records"], row["raw_row"]) == (2, 10946)
    assert row["first_death_date"] == pd.Timestamp("2002-02-23")
    assert row["last_death_date"] == pd.Timestamp("2002-06-12")


def test_mixed_weapons_take_the_most_common_kind(loaded):
    # 2008-12-27, Israeli security forces in Gaza City: 220 shelling/shell and 55 gunfire/missile
    events = loaded.events
    row = events[(events["date"] == pd.Timestamp("2008-12-27")) & (events["location"] == "Gaza City")].iloc[0]
    assert row["fatalities"] == 275 and row["kind"] == "rocket"
    assert row["source_type"] == "shelling/shell; gunfire/missile"


def test_sides_from_the_dyad_spec(loaded):
    spec = load_dyad(SPEC)
    sided, unmatched = assign_sides(loaded.events, spec)
    # killed_by has three values: Israeli security forces, Israeli civilians, Palestinian civilians
    assert unmatched.empty
    by_actor = sided.groupby("actor")["side"].agg(set).to_dict()
    assert by_actor == {"Israeli security forces": {"israel"}, "Israeli civilians": {"israel"},
                        "Palestinian civilians": {"palestinians"}}
    first = sided.iloc[0]
    assert first["side_reason"].startswith("killed_by names who killed; actor 'Palestinian civilians' matches")
    # victims: "Israeli" -> israel, "Palestinian" -> palestinians; the 2 events whose most common
    # victim is a Jordanian or an American citizen get no target side
    assert sided["target_side"].isna().sum() == 2
    # the regions are exactly the theatre, and every date lies in the period
    kept, excluded = within_scope(sided, spec)
    assert len(excluded) == 0 and set(kept["country"]) == set(spec.theatre)


def test_the_dyad_spec(root):
    spec = load_dyad(root / "dyads" / "israel-palestinians.yaml")
    assert spec.side_keys == ["israel", "palestinians"] and spec.response_rule().window("israel") == 14
    assert (spec.start, spec.end) == (pd.Timestamp("2000-09-29"), pd.Timestamp("2023-09-24"))
    assert spec.label("israel") == "Israeli forces and civilians" and spec.label("palestinians") == "Palestinians"
    entry = spec.sources[0]
    assert entry["format"] == "fatalities" and entry["path"] == "data/external/israel-palestinians/fatalities.csv"
    assert "never commit" in entry["obtain"]
    with pytest.raises(FileNotFoundError, match="Download the Kaggle extract of B'Tselem"):
        load_source({**entry, "path": "data/external/israel-palestinians/absent.csv"})


def test_load_source_reads_the_spec_entry(loaded):
    entry = load_dyad(SPEC).sources[0]
    result = load_source({**entry, "path": str(BTSELEM)})
    assert result.counts == loaded.counts


def _write(tmp_path, rows: str, name: str = "fatalities.csv"):
    return write_csv(tmp_path, HEADER, rows, name)


def test_bad_person_rows_are_rejected_with_row_column_and_reason(tmp_path):
    path = _write(tmp_path, """\
        A,2020-05-01,30,Palestinian,Town,District,West Bank,2020-05-01,M,No,Town,District,gunfire,live ammunition,Israeli security forces,,2020,May,Friday
        B,2020-05-01,31,Palestinian,Town,District,West Bank,2020-05-03,M,No,Town,District,gunfire,missile,Israeli security forces,,2020,May,Friday
        C,,32,Palestinian,Town,District,West Bank,2020-05-01,M,No,Town,District,gunfire,live ammunition,Israeli security forces,,2020,May,Friday
        D,2020-05-32,33,Israeli,Town,District,Israel,2020-05-01,M,No,Town,District,gunfire,live ammunition,Palestinian civilians,,2020,May,Friday
        E,2020-05-02,34,Israeli,Town,District,Israel,2020-05-02,M,No,Town,District,stabbing,knife,,,2020,May,Saturday
        F,2020-05-02,35,Israeli
        G,2020-05-02,36,Israeli,Other town,District,Israel,bad,F,No,Town,District,explosion,explosive belt,Palestinian civilians,"a
        note",2020,May,Saturday
        """)
    result = load_fatalities(path, source="bt")
    # 7 person rows: A and B make one event, G another; C, D, E, F are rejected
    assert result.counts == {"source": str(path), "read": 7, "accepted": 2, "rejected": 4, "filtered": 0, "merged": 1}
    found = {r.raw_row: (r.column, r.value, r.reason) for r in result.rejects.itertuples()}
    assert found == {
        4: ("date_of_event", "", "missing date"),
        5: ("date_of_event", "2020-05-32", "not a calendar date (2020-05-32)"),
        6: ("killed_by", "", "missing perpetrator"),
        7: ("", "4 fields", "has 4 fields, expected 19 (the header's)"),
    }
    first, second = result.events.iloc[0], result.events.iloc[1]
    assert (first["event_id"], first["fatalities"], first["raw_row"]) == ("bt-2020-05-01-1", 2, 2)
    # one shot, one killed by a missile fired by forces (airstrike): a tie, airstrike comes first in KINDS
    assert first["kind"] == "airstrike" and first["last_death_date"] == pd.Timestamp("2020-05-03")
    assert (second["event_id"], second["kind"], second["raw_row"]) == ("bt-2020-05-02-1", "ied", 8)
    assert pd.isna(second["first_death_date"])
    assert any("unreadable date_of_death" in note for note in result.notes)


def test_every_row_rejected_gives_no_events(tmp_path):
    path = _write(tmp_path, "A,,30,Palestinian,Town,District,West Bank,,M,No,Town,District,gunfire,live ammunition,X,,,,\n")
    result = load_fatalities(path)
    assert result.counts["accepted"] == 0 and result.counts["rejected"] == 1 and result.merged == 0


def test_missing_column_names_file_and_column(tmp_path):
    path = tmp_path / "nokiller.csv"
    path.write_text(HEADER.replace(",killed_by", "") + "\n")
    with pytest.raises(ValueError) as err:
        load_fatalities(path)
    message = str(err.value)
    assert f"{path}: the header (line 1) has no 'killed_by' (for perpetrator_col) column" in message
    assert "columns are: name, date_of_event" in message


def test_kind_rules():
    weapon = pd.Series(["missile", "missile", "Qassam rocket", "shell", "bomb", "bomb", "live ammunition",
                        "Unknown", "Unknown", "knife", None])
    injury = pd.Series(["gunfire", "gunfire", "gunfire", "gunfire", "explosion", "explosion", "gunfire",
                        "shelling", "explosion", "stabbing", "gunfire"])
    by = pd.Series(["Israeli security forces", "Palestinian civilians", "Palestinian civilians",
                    "Israeli security forces", "Palestinian civilians", "Israeli security forces",
                    "Israeli civilians", "Israeli security forces", "Palestinian civilians",
                    "Palestinian civilians", "Israeli security forces"])
    assert person_kinds(weapon, injury, by).tolist() == [
        "airstrike", "missile", "rocket", "rocket", "ied", "other", "shooting", "rocket", "ied", "other", "shooting"]
