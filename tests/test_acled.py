"""ACLED loader: the shared fixtures (read, never copied) and synthetic files for the format
variants (older layouts, numeric codes, long dates, stray lines)."""

import textwrap

import pandas as pd
import pytest

from analysis.dyads import assign_sides, load_dyad
from analysis.sources.acled import load_acled
from tests.conftest import SHARED

FIXTURES = SHARED / "fixtures" / "acled"


@pytest.fixture
def iraq():
    path = FIXTURES / "acled_iraq_2024-01_excerpt.csv"
    if not path.exists():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    return path


def test_iraq_excerpt_counts_and_values(iraq):
    result = load_acled(iraq)
    # 20 records: 7 remote violence, 4 battles, 2 violence against civilians are kept;
    # 4 strategic developments, 2 protests and 1 riot are filtered
    counts = result.counts
    assert (counts["read"], counts["accepted"], counts["rejected"], counts["filtered"]) == (20, 13, 0, 7)
    events = result.events.set_index("source_id")
    # IRQ50650 (file line 12): an IED by an unidentified group on the Iraqi army, 2 killed
    row = events.loc["IRQ50650"]
    assert (row["date"], row["kind"], row["fatalities"], row["raw_row"]) == (pd.Timestamp("2024-01-02"), "ied", 2, 12)
    assert (row["actor"], row["target"]) == ("Unidentified Armed Group (Iraq)", "Military Forces of Iraq (2022-)")
    # IRQ51268: the militia rocket attack on the Turkish base at Bashiqa
    expected = ["rocket", "Ninewa", "Military Forces of Turkey (2016-)"]
    assert events.loc["IRQ51268", ["kind", "admin1", "target"]].tolist() == expected
    # IRQ51183: an armed clash; ACLED does not say who started it
    assert not events.loc["IRQ51183", "initiator_known"] and events.loc["IRQ51183", "fatalities"] == 5
    assert events.loc["IRQ51183", "initiator_reason"] == "armed clash: ACLED does not record who initiated; actor1 taken"
    assert events["fatalities"].sum() == 11  # 0+0+0+0+1+1+2+0+0+5+1+0+1 over the kept rows
    assert events["evidence"].str.startswith("ACLED sources: ").all()


def test_jordan_protests_are_filtered_unless_asked_for():
    path = FIXTURES / "acled_jordan_2024_excerpt.csv"
    if not path.exists():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    assert load_acled(path).counts["filtered"] == 5
    every = load_acled(path, event_types=None)
    assert every.counts["accepted"] == 5
    assert every.events["initiator_reason"].iloc[0] == "ACLED Protests: not an attack; actor1 taken, initiator unknown"


def test_sides_and_attribution_with_a_dyad_spec(iraq, tmp_path):
    spec_path = tmp_path / "dyad.yaml"
    spec_path.write_text(textwrap.dedent(
        r"""
        name: turkey-pkk
        period: {start: 2024-01-01, end: 2024-01-31}
        sides:
          turkey: {actors: ['Military Forces of Turkey']}
          pkk: {actors: ['\bPKK\b']}
          militias: {actors: ['Popular Mobilization']}
        acled:
          attribute:
            - {actor: 'Unidentified Armed Group', target_side: turkey, side: militias}
        """
    ))
    spec = load_dyad(spec_path)
    result = load_acled(iraq, spec=spec)
    sided, unmatched = assign_sides(result.events, spec)
    by_id = sided.set_index("source_id")
    assert by_id.loc["IRQ50538", "side"] == "turkey" and by_id.loc["IRQ50538", "target_side"] == "pkk"
    assert by_id.loc["IRQ50538", "side_reason"] == (
        "ACLED codes the attacker as actor1 in remote violence (Air/drone strike); "
        "actor 'Military Forces of Turkey (2016-)' matches 'Military Forces of Turkey' of side 'turkey'")
    # the unidentified group that rocketed the Turkish base is attributed by the spec's rule
    assert by_id.loc["IRQ51268", "side"] == "militias"
    assert by_id.loc["IRQ51268", "side_reason"].endswith("attributed to 'militias' by the dyad spec's rule")
    # other unidentified-group events keep no side and are listed
    assert pd.isna(by_id.loc["IRQ50650", "side"])
    assert "Unidentified Armed Group (Iraq)" in set(unmatched["actor"])


HEADER = ("event_id_cnty,event_id_no_cnty,event_date,year,time_precision,event_type,sub_event_type,actor1,"
          "assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,region,country,admin1,admin2,admin3,"
          "location,latitude,longitude,geo_precision,source,source_scale,notes,fatalities,timestamp,iso3")


def synthetic(tmp_path, rows, *, before=""):
    path = tmp_path / "old_export.csv"
    path.write_text(before + HEADER + "\n" + "\n".join(rows) + "\n")
    return path


def test_older_export_numeric_codes_long_dates_and_stray_lines(tmp_path):
    # made-up rows in an older ACLED layout: numeric inter codes, "02 March 2020" dates
    path = synthetic(tmp_path, [
        "XYZ1,101,02 March 2020,2020,1,Explosions/Remote violence,Shelling/artillery/missile attack,Group A,,3,"
        "Military Forces of B,,1,13,Region,Iraq,Baghdad,,,Taji,33.5,44.2,1,Paper,National,,0,1,IRQ",
        "XYZ2,102,2020-03-03,2020,2,Battles,Government regains territory,Group A,,3,Military Forces of B,,1,13,"
        "Region,Iraq,Anbar,,,Qaim,34.4,41.1,1,Paper,National,,4,1,IRQ",
        "XYZ3,103,31 February 2020,2020,1,Battles,Armed clash,Group A,,3,Military Forces of B,,1,13,Region,Iraq,"
        "Anbar,,,Qaim,34.4,41.1,1,Paper,National,,x,1,IRQ",
    ], before="ACLED export - do not redistribute\n\n")
    result = load_acled(path)
    assert result.notes == ("2 line(s) before the header (line 3) were skipped",)
    assert result.counts["read"] == 3 and result.counts["accepted"] == 2 and result.counts["rejected"] == 1
    events = result.events.set_index("source_id")
    assert events.loc["XYZ1", "date"] == pd.Timestamp("2020-03-02")
    assert events.loc["XYZ1", ["inter1", "inter2", "interaction"]].tolist() == ["Political militia", "State forces",
                                                                               "State forces-Political militia"]
    # time_precision 2 is a week; government regains territory: the state forces acted
    assert events.loc["XYZ2", ["date_precision", "actor", "target"]].tolist() == ["week", "Military Forces of B", "Group A"]
    # the header is file line 3, so the records are lines 4, 5, 6: the bad one is line 6
    reject = result.rejects.iloc[0]
    assert (reject["raw_row"], reject["column"], reject["value"]) == (6, "event_date; fatalities", "31 February 2020; x")


def test_not_an_acled_file(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("date,actor\n2020-01-01,x\n")
    with pytest.raises(ValueError, match=r"other\.csv: no ACLED header"):
        load_acled(path)
    path.write_text("event_date,actor1,actor2\n2020-01-01,x,y\n")
    expected = r"other.csv: the header \(line 1\) has no 'event_type', 'sub_event_type', 'country' columns"
    with pytest.raises(ValueError, match=expected):
        load_acled(path)
