import textwrap
from types import SimpleNamespace

import pandas as pd
import pytest

from analysis.sources import LoadResult, load_source
from analysis.sources.table import load_table

CSV = textwrap.dedent(
    """\
    ref,Date,Actor,Type,Killed,Where,lat,lon,claimed_by
    r1,2020-03-11,Kataib Hezbollah,Rockets,3,Camp Taji,33.5,44.25,
    r2,2020-03-12,US forces,Air strike,,Jurf al-Sakhar,32.9,44.1,
    r3,2020-02-30,US forces,Air strike,0,Nowhere,,,
    r4,2020-03-14,Kataib Hezbollah,Rockets,two,Camp Taji,,,
    r5,,unknown,Rockets,0,Camp Taji,,,
    r1,2020-03-15,Kataib Hezbollah,Rockets,0,Camp Taji,95,,
    r7,2020-03-16,Asaib Ahl al-Haq,IED,1.5,Road,,,AAH
    """
)
MAP = {"event_id": "ref", "date": "Date", "actor": "Actor", "kind": "Type", "fatalities": "Killed", "location": "Where",
       "latitude": "lat", "longitude": "lon"}


@pytest.fixture
def csv_path(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(CSV)
    return path


def test_rows_in_equal_rows_out_plus_rejected(csv_path):
    result = load_table(csv_path, column_map=MAP, source="mine")
    assert result.counts == {"source": str(csv_path), "read": 7, "accepted": 2, "rejected": 5, "filtered": 0, "merged": 0}
    assert result.events["event_id"].tolist() == ["r1", "r2"]
    # header is row 1, so the first record is row 2
    assert result.events["raw_row"].tolist() == [2, 3]
    assert result.summary() == f"{csv_path}: read 7, accepted 2, rejected 5"


def test_each_rejected_row_names_its_row_column_and_reason(csv_path):
    rejects = load_table(csv_path, column_map=MAP).rejects
    found = {row.raw_row: (row.column, row.value, row.reason) for row in rejects.itertuples()}
    assert found == {
        4: ("Date", "2020-02-30", "not a calendar date (2020-02-30)"),  # 30 February
        5: ("Killed", "two", "not a number"),
        6: ("Date", "", "missing date"),
        # r1 again, and a latitude of 95: both problems of the record reported together
        7: ("lat; ref", "95; r1", "outside [-90, 90]; duplicate event_id, first at line 2"),
        8: ("Killed", "1.5", "not a whole number"),
    }


def test_values_are_parsed_into_the_canonical_schema(csv_path):
    events = load_table(csv_path, column_map=MAP, source="mine").events
    first = events.iloc[0]
    assert first["date"] == pd.Timestamp("2020-03-11")
    assert first["kind"] == "rocket" and first["source_type"] == "Rockets"
    assert first["fatalities"] == 3 and first["latitude"] == 33.5
    assert first["source"] == "mine" and first["source_id"] == "r1"
    assert pd.isna(events.iloc[1]["fatalities"])  # empty cell: unknown, not zero
    assert "claimed_by" in events.columns  # unmapped columns are kept


def test_missing_mapped_column_is_an_error_naming_file_and_column(csv_path):
    with pytest.raises(ValueError) as err:
        load_table(csv_path, column_map={**MAP, "fatalities": "Deaths"})
    message = str(err.value)
    assert str(csv_path) in message and "'Deaths' (for fatalities)" in message
    assert "the header (line 1) has no 'Deaths' (for fatalities) column; columns are: ref, Date, Actor" in message


def test_missing_date_column_is_an_error(tmp_path):
    path = tmp_path / "nodate.csv"
    path.write_text("id,when\n1,2020-01-01\n")
    with pytest.raises(ValueError,
                       match=r"nodate.csv: the header \(line 1\) has no 'date' \(for the day .*columns are: id, when"):
        load_table(path)


def test_generated_ids_and_defaults(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("date,actor\n2021-02-15,Saraya Awliya al-Dam\n2021-02-25,US forces\n")
    result = load_table(path, defaults={"kind": "other", "country": "Iraq"}, source="plain")
    assert result.events["event_id"].tolist() == ["plain-2", "plain-3"]
    assert result.events["kind"].tolist() == ["other", "other"]
    assert result.events["country"].tolist() == ["Iraq", "Iraq"]


def test_missing_kind_without_default_rejects(tmp_path):
    path = tmp_path / "nokind.csv"
    path.write_text("date\n2021-02-15\n")
    result = load_table(path)
    assert result.counts["rejected"] == 1
    assert result.rejects.loc[0, "reason"] == "missing kind (map a column or give a default)"


def test_excel_and_parquet_give_the_same_events(csv_path, tmp_path):
    frame = pd.read_csv(csv_path, dtype=str)
    frame.to_excel(tmp_path / "events.xlsx", index=False)
    frame.to_parquet(tmp_path / "events.parquet", index=False)
    base = load_table(csv_path, column_map=MAP).events.drop(columns=["raw_file"])
    for name in ("events.xlsx", "events.parquet"):
        other = load_table(tmp_path / name, column_map=MAP).events.drop(columns=["raw_file"])
        pd.testing.assert_frame_equal(base, other)


def test_unknown_type_and_missing_file(tmp_path):
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ValueError, match=r"unknown table type '\.json'"):
        load_table(tmp_path / "x.json")
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_table(tmp_path / "absent.csv")


def test_load_source_from_a_spec_entry(csv_path):
    result = load_source({"format": "table", "path": str(csv_path), "column_map": MAP, "source": "s"})
    assert isinstance(result, LoadResult) and result.counts["accepted"] == 2
    with pytest.raises(FileNotFoundError, match="Download it from the site"):
        load_source({"format": "table", "path": "data/external/none.csv", "obtain": "Download it from the site."})
    # the spec's file and the entry's path, as for a misspelt key
    spec = SimpleNamespace(path="dyads/my-dyad.yaml")
    with pytest.raises(FileNotFoundError, match=r"^dyads/my-dyad.yaml: source data/external/none.csv: file not found\. "
                                                r"Check the path, or put the file there\.$"):
        load_source({"format": "table", "path": "data/external/none.csv"}, spec=spec)
    with pytest.raises(ValueError, match="unknown format 'shapefile'"):
        load_source({"format": "shapefile", "path": str(csv_path)})


def test_accounting_identity_is_enforced():
    events = pd.DataFrame({"event_id": ["a"]})
    with pytest.raises(AssertionError, match="read 3 records but accepted 1, rejected 0, filtered 0 and merged 0"):
        LoadResult(events=events, rejects=pd.DataFrame(), source="x", read=3)
    ok = LoadResult(events=events, rejects=pd.DataFrame(), source="x", read=4, filtered=2, merged=1)
    assert ok.summary() == "x: read 4, accepted 1, rejected 0, filtered 2, merged 1"


def test_kind_map_then_synonyms_then_other(tmp_path):
    path = tmp_path / "typed.csv"
    path.write_text("date,actor,type\n"
                    "2021-02-15,A,IDF strike\n"    # line 2: kind_map -> airstrike
                    "2021-02-16,A, sniper FIRE \n"  # line 3: kind_map ignores case and spaces -> shooting
                    "2021-02-17,A,Rockets\n"       # line 4: not in the map, a synonym -> rocket
                    "2021-02-18,A,Attack\n"        # line 5: kind_map overrides the synonym (other) -> raid
                    "2021-02-19,A,Leaflets\n")     # line 6: neither -> other
    result = load_table(path, column_map={"kind": "type"},
                        kind_map={"IDF strike": "airstrike", "Sniper fire": "shooting", "attack": "raid"})
    assert result.events["kind"].tolist() == ["airstrike", "shooting", "rocket", "raid", "other"]
    # the raw label is kept as written (stripped)
    assert result.events["source_type"].tolist() == ["IDF strike", "sniper FIRE", "Rockets", "Attack", "Leaflets"]


def test_kind_map_value_that_is_not_a_kind_names_the_spec_file_and_the_key(tmp_path):
    from analysis.dyads import load_dyad
    from analysis.sources import OptionError

    data = tmp_path / "a.csv"
    data.write_text("date,type\n2021-02-15,IDF strike\n")
    spec_file = tmp_path / "mine.yaml"
    spec_file.write_text("name: mine\nperiod: {start: 2021-01-01, end: 2021-12-31}\n"
                         "sides: {a: {actors: [A]}, b: {actors: [B]}}\n")
    spec = load_dyad(spec_file)
    entry = {"format": "table", "path": str(data), "column_map": {"kind": "type"}, "kind_map": {"IDF strike": "air strike"}}
    with pytest.raises(OptionError) as err:
        load_source(entry, spec=spec)
    message = str(err.value)
    assert message.startswith(f"{spec_file}: source {data}: kind_map: 'IDF strike' maps to 'air strike', which is not a kind")
    assert err.value.key == "kind_map"


def test_unknown_key_of_a_source_entry_is_refused_with_the_closest_key(tmp_path, csv_path):
    from analysis.dyads import load_dyad
    from analysis.sources import OptionError

    spec_file = tmp_path / "mine.yaml"
    spec_file.write_text("name: mine\nperiod: {start: 2021-01-01, end: 2021-12-31}\n"
                         "sides: {a: {actors: [A]}, b: {actors: [B]}}\n")
    spec = load_dyad(spec_file)
    expected = rf"^{spec_file}: source {csv_path}: unknown key 'colum_map' \(did you mean 'column_map'\?\)"
    with pytest.raises(OptionError, match=expected):
        load_source({"format": "table", "path": str(csv_path), "colum_map": MAP}, spec=spec)
    # a key of another format is refused too: ucdp takes `initiator`, a table does not
    with pytest.raises(OptionError, match="unknown key 'initiator'; a table source takes: format, path"):
        load_source({"format": "table", "path": str(csv_path), "initiator": "deaths"}, spec=spec)
    # and a key of defaults or column_map that is no column of the events table
    with pytest.raises(OptionError, match=r"defaults: 'actr' is not a column of the events table \(did you mean 'actor'\?\)"):
        load_source({"format": "table", "path": str(csv_path), "column_map": MAP, "defaults": {"actr": "X"}}, spec=spec)


def test_one_file_per_side_without_an_actor_column(tmp_path):
    from analysis.dyads import assign_sides, load_dyad

    (tmp_path / "a.csv").write_text("date,latitude,longitude,type\n2021-03-01,33.3,44.4,strike\n2021-03-04,33.1,44.2,Rockets\n")
    (tmp_path / "b.csv").write_text("date,latitude,longitude,type\n2021-03-02,33.2,44.3,IED\n")
    spec_file = tmp_path / "two.yaml"
    spec_file.write_text(
        "name: two\nperiod: {start: 2021-01-01, end: 2021-12-31}\ntheatre: Iraq\n"
        "sides: {a: {actors: ['^Side A']}, b: {actors: ['^Side B']}}\nsources:\n"
        f"  - {{format: table, path: {tmp_path / 'a.csv'}, source: side-a, defaults: {{actor: Side A forces}},"
        " column_map: {kind: type}, kind_map: {strike: airstrike}}\n"
        f"  - {{format: table, path: {tmp_path / 'b.csv'}, source: side-b, defaults: {{actor: Side B fighters}},"
        " column_map: {kind: type}}\n")
    spec = load_dyad(spec_file)
    assert spec.theatre == ("Iraq",)  # one country given as text
    loads = [load_source(entry, spec=spec) for entry in spec.sources]
    events = pd.concat([r.events for r in loads], ignore_index=True)
    sided = assign_sides(events, spec).events
    # a.csv: strike -> airstrike (kind_map), Rockets -> rocket (synonym); b.csv: IED -> ied
    assert sided[["event_id", "side", "kind"]].values.tolist() == [
        ["side-a-2", "a", "airstrike"], ["side-a-3", "a", "rocket"], ["side-b-2", "b", "ied"]]
    assert sided["latitude"].tolist() == [33.3, 33.1, 33.2]


def test_count_ranges_are_read_and_a_reversed_range_rejects_its_row(tmp_path):
    path = tmp_path / "munitions.csv"
    path.write_text("date,kind,munitions,low,high\n2021-01-01,rocket,3,3,14\n2021-01-02,rocket,5,9,4\n")
    result = load_table(path, column_map={"munitions_min": "low", "munitions_max": "high"})
    assert result.counts["accepted"] == 1 and result.counts["rejected"] == 1
    assert (result.events.loc[0, "munitions_min"], result.events.loc[0, "munitions_max"]) == (3, 14)
    reject = result.rejects.iloc[0]
    assert (reject["raw_row"], reject["column"], reject["reason"]) == (3, "low", "greater than munitions_max")
