"""UCDP GED loader, on the HDX copy of the GED Iraq extract in shared/fixtures.

UCDP GED is CC BY 4.0 (Sundberg & Melander 2013); the tests read the fixture in place. The
synthetic files written in tmp_path use GED's column names with made-up values.
"""

import textwrap

import pandas as pd
import pytest

from analysis.dyads import assign_sides, load_dyad
from analysis.sources import load_source
from analysis.sources.ucdp import load_ucdp, read_csv_records
from tests.conftest import ROOT, write_csv

FIXTURES = ROOT.parent / "shared" / "fixtures"
GED = FIXTURES / "ucdp" / "ged_iraq_hdx.csv"

HEADER = (
    "id,type_of_violence,side_a,side_b,source_headline,where_coordinates,adm_1,latitude,longitude,"
    "country,date_prec,date_start,date_end,deaths_a,deaths_b,deaths_civilians,deaths_unknown,low,best,high"
)


@pytest.fixture(scope="module")
def ged():
    if not GED.is_file():
        pytest.skip(f"shared fixtures not found at {FIXTURES} (UCDP GED extract)")
    return load_ucdp(GED)


@pytest.fixture(scope="module")
def by_id(ged):
    return ged.events.set_index("source_id")


def test_records_are_counted_without_the_hxl_row(ged):
    # The file has 7,552 physical lines: a header, the HXL row (line 2) and 7,473 records, 38 of
    # which hold a quoted line break (counted with Python's csv reader); the fixtures README
    # gives 7,473 rows.
    assert ged.read == 7473
    assert ged.notes[0].startswith("line 2 is an HXL hashtag row (#date+year,")
    assert 2 not in set(ged.events["raw_row"]) | set(ged.rejects["raw_row"])
    # 33 records have date_prec 5 and 48 have low > high, one record both: 80 rejected
    assert ged.counts == {"source": ged.source, "read": 7473, "accepted": 7393, "rejected": 80,
                          "filtered": 0, "merged": 0}
    assert ged.read == len(ged.events) + len(ged.rejects) + ged.filtered + ged.merged


def test_raw_row_is_the_line_a_record_starts_on(by_id):
    # first record after the HXL row is on line 3
    assert by_id.loc["114064", "raw_row"] == 3
    # record 164062 starts on line 600 and its source_original field ("UN\n") ends on line 601,
    # so the next record, 122628, starts on line 602 (checked with sed -n 600,602p)
    assert by_id.loc["164062", "raw_row"] == 600
    assert by_id.loc["122628", "raw_row"] == 602


def test_dates_precision_and_fatalities_read_by_hand(by_id):
    # line 3: date_start 2014-01-24, date_end 2014-01-25, date_prec 2 (2-6 days) -> week;
    # low = best = high = 8; deaths_a 0, deaths_b 0, deaths_civilians 1, deaths_unknown 7
    row = by_id.loc["114064"]
    assert row["date"] == pd.Timestamp("2014-01-24") and row["date_precision"] == "week"
    assert (row["fatalities"], row["fatalities_min"], row["fatalities_max"]) == (8, 8, 8)
    assert (row["deaths_a"], row["deaths_b"], row["deaths_civilians"], row["deaths_unknown"]) == (0, 0, 1, 7)
    assert row["location"] == "Al Fallūjah town" and row["admin1"] == "Al Anbār province"
    assert row["country"] == "Iraq" and row["latitude"] == 33.355813 and row["longitude"] == 43.786124
    assert row["evidence"] == "Iraq violence kills 14 as January toll tops 800"
    assert row["event_id"] == "ucdp-114064" and row["source_type"] == "1" and row["kind"] == "other"
    # line 4: one-sided violence on 2013-07-05, date_prec 1 -> day, 7 killed
    row = by_id.loc["62366"]
    assert row["date"] == pd.Timestamp("2013-07-05") and row["date_precision"] == "day"
    assert row["fatalities"] == 7 and row["source_type"] == "3"
    # line 600: 1991-09-09 to 1991-09-16, date_prec 4 (month) -> month, 20 killed
    row = by_id.loc["164062"]
    assert row["date"] == pd.Timestamp("1991-09-09") and row["date_precision"] == "month"
    assert row["fatalities"] == 20
    # line 12: low 9, best 9, high 16
    row = by_id.loc["122130"]
    assert (row["fatalities"], row["fatalities_min"], row["fatalities_max"]) == (9, 9, 16)


def test_initiator_from_deaths(by_id):
    # line 5: Government of Iraq (side_a) lost 6, IS lost 0 -> IS acted
    row = by_id.loc["114179"]
    assert (row["actor"], row["target"]) == ("IS", "Government of Iraq")
    assert row["initiator_reason"] == "side_a lost more (deaths_a 6 > deaths_b 0): UCDP side_b taken as initiator"
    assert row["initiator_known"]
    # line 8: IS (side_b) lost 50, the government 0 -> the government acted
    row = by_id.loc["196787"]
    assert (row["actor"], row["target"]) == ("Government of Iraq", "IS") and row["initiator_known"]
    # line 3: no side deaths either way -> a clash, initiator unknown, side_a listed
    row = by_id.loc["114064"]
    assert (row["actor"], row["target"]) == ("Government of Iraq", "IS")
    assert row["initiator_reason"].startswith("initiator unknown: equal side deaths (deaths_a 0 = deaths_b 0), a clash")
    assert not row["initiator_known"]
    # line 4: one-sided violence, IS against civilians: the perpetrator by definition
    row = by_id.loc["62366"]
    assert (row["actor"], row["target"]) == ("IS", "Civilians") and row["initiator_known"]
    assert row["initiator_reason"].startswith("one-sided violence (UCDP type 3)")
    # line 31: non-state conflict KDP (side_a) - PKK, KDP lost 4, PKK 0 -> PKK acted
    assert by_id.loc["145517", "actor"] == "PKK"


def test_initiator_side_a_rule(ged):
    events = load_ucdp(GED, initiator="side_a").events.set_index("source_id")
    row = events.loc["114179"]
    assert (row["actor"], row["target"]) == ("Government of Iraq", "IS") and not row["initiator_known"]
    assert "side_a is not necessarily the initiator" in row["initiator_reason"]
    # one-sided violence keeps its perpetrator
    assert events.loc["62366", "initiator_reason"].startswith("one-sided violence")
    assert events.loc["62366", "initiator_known"]
    # the rule changes actors only, never which records are accepted
    assert len(events) == len(ged.events)
    with pytest.raises(ValueError, match="initiator must be one of"):
        load_ucdp(GED, initiator="first")


def test_coarse_dates_and_inconsistent_counts_are_rejected(ged):
    found = ged.rejects.set_index("raw_row")
    # line 246: date_prec 5, 2007-01-01 to 2007-08-21
    assert found.loc[246, "column"] == "date_prec" and found.loc[246, "value"] == "5"
    reason = "date_prec 5: UCDP knows only a period longer than a month (2007-01-01 to 2007-08-21)"
    assert found.loc[246, "reason"].startswith(reason)
    # line 305 (id 145155): low 22, best 22, high 21
    assert (found.loc[305, "column"], found.loc[305, "value"], found.loc[305, "reason"]) == ("low", "22", "greater than high")
    assert set(ged.events["date_precision"]) == {"day", "week", "month"}
    assert any("best outside [low, high]" in note for note in ged.notes)


def test_sides_from_a_dyad_spec(ged, tmp_path):
    spec_path = tmp_path / "iraq-is.yaml"
    spec_path.write_text(textwrap.dedent(
        """\
        name: iraq-is
        period: {start: 2013-01-01, end: 2018-12-31}
        theatre: [Iraq]
        sides:
          government: {label: Government of Iraq, actors: ['Government of Iraq']}
          is: {label: Islamic State, actors: ['^IS$']}
        """
    ))
    sided, unmatched = assign_sides(ged.events, load_dyad(spec_path))
    sided = sided.set_index("source_id")
    row = sided.loc["114179"]  # IS acted (deaths rule)
    assert (row["side"], row["target_side"]) == ("is", "government")
    assert row["side_reason"] == (
        "side_a lost more (deaths_a 6 > deaths_b 0): UCDP side_b taken as initiator; actor 'IS' matches '^IS$' of side 'is'"
    )
    row = sided.loc["114064"]  # a clash: side_a listed, the reason says the initiator is unknown
    assert row["side"] == "government" and row["side_reason"].startswith("initiator unknown")
    row = sided.loc["62366"]  # IS against civilians: civilians are no side
    assert row["side"] == "is" and pd.isna(row["target_side"])
    assert "Government of Turkey" in set(unmatched["actor"])


def _write(tmp_path, body: str, name: str = "ged.csv"):
    return write_csv(tmp_path, HEADER, body, name)


def test_synthetic_file_rows_rejects_and_lines(tmp_path):
    path = _write(tmp_path, """\
        ,,#group+name+first,#group+name+second,#description,,,,,,,#date+start,,,,,,,,
        1,1,Government of X,Group Y,"two lines
        of headline",Town A,Province A,10,20,X,1,2020-01-01,2020-01-01,0,2,0,0,2,2,2
        2,1,Government of X,Group Y,,Town A,Province A,10,20,X,5,2020-01-01,2020-12-31,0,0,0,1,1,1,1
        3,1,Government of X,Group Y,,Town A,Province A,10,20,X,3,2020-02-01,2020-03-15,0,0,0,1,1,1,1
        4,4,Government of X,Group Y,,Town A,Province A,10,20,X,1,2020-02-30,2020-02-30,0,0,0,1,1,1,1
        5,2,Group Y,Group Z,,Town B,Province B,95,20,X,,2020-03-01,2020-03-04,3,1,0,0,4,4,x
        6,1,Government of X,Group Y
        1,3,Group Y,Civilians,,Town B,Province B,10,20,X,4,2020-04-01,2020-04-20,0,0,5,0,5,5,5
        7,2,Group Y,Group Z,,Town B,Province B,10,20,X,,2020-03-01,2020-03-04,3,1,0,0,4,4,4
        """)
    result = load_ucdp(path, source="ged")
    assert result.notes[0].startswith("line 2 is an HXL hashtag row")
    assert result.counts == {"source": str(path), "read": 8, "accepted": 2, "rejected": 6, "filtered": 0, "merged": 0}
    found = {r.raw_row: (r.column, r.value, r.reason) for r in result.rejects.itertuples()}
    assert found[5][0] == "date_prec" and found[5][2].startswith("date_prec 5")
    assert found[6] == ("date_end", "2020-03-15", "date_start to date_end spans 43 days, more than a month; "
                        "events carry day, week or month precision")
    assert found[7] == ("date_start; date_end; type_of_violence", "2020-02-30; 2020-02-30; 4",
                        "not a calendar date (2020-02-30); not a calendar date (2020-02-30); "
                        "unknown type_of_violence (expected 1 state-based, 2 non-state or 3 one-sided)")
    assert found[8] == ("high; latitude", "x; 95", "not a number; outside [-90, 90]")
    assert found[9] == ("", "4 fields", "has 4 fields, expected 20 (the header's)")
    assert found[10] == ("id", "1", "duplicate id, first at line 3")
    events = result.events.set_index("source_id")
    # record 1 starts on line 3 and its headline runs onto line 4
    assert events.loc["1", "raw_row"] == 3 and events.loc["1", "evidence"] == "two lines\nof headline"
    assert events.loc["1", "actor"] == "Government of X" and events.loc["1", "event_id"] == "ged-1"
    # record 7: no date_prec, 2020-03-01 to 2020-03-04 (3 days) -> week; Group Y lost 3 > 1 -> Group Z acted
    assert events.loc["7", "date_precision"] == "week" and events.loc["7", "actor"] == "Group Z"
    assert pd.isna(events.loc["7", "date_prec"])


def test_missing_required_column_names_file_and_column(tmp_path):
    path = tmp_path / "nobest.csv"
    path.write_text(HEADER.replace(",best", "") + "\n")
    with pytest.raises(ValueError) as err:
        load_ucdp(path)
    message = str(err.value)
    assert f"{path}: the header (line 1) of a UCDP GED file has no 'best' column" in message
    assert "columns are: id, type_of_violence" in message


def test_empty_and_absent_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match=r"empty\.csv: empty file: no header line"):
        load_ucdp(tmp_path / "empty.csv")
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_ucdp(tmp_path / "absent.csv")


def test_csv_reader_keeps_lines_and_skips_blank_lines(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('a,b\n\n1,"x\ny"\n2,z\n')
    records = read_csv_records(path)
    assert records.lines.tolist() == [3, 5] and records.frame["b"].tolist() == ["x\ny", "z"]
    assert records.hxl_line is None and records.read == 2


def test_load_source_entry(ged):
    result = load_source({"format": "ucdp", "path": str(GED), "source": "ged"})
    assert result.counts["accepted"] == len(ged.events)
    assert result.events["event_id"].iloc[0] == "ged-114064"
