"""GDELT 2.0 events loader, on the 50-row GDELT sample in shared/fixtures/gdelt.

Values asserted below were read by hand from
``gdelt2_events_sample_20170701234500.export.tsv`` (columns 1 GLOBALEVENTID, 2 SQLDATE,
6 Actor1Code, 16 Actor2Code, 27 EventCode, 29 EventRootCode, 30 QuadClass, 54
ActionGeo_CountryCode): its only rows with a root code of 18, 19 or 20 are lines 31-33, Mali
(MLI) against Chad (TCD), CAMEO 190, SQLDATE 20170601, ids 669666380-669666382; line 31 is
located in Mali (ML), lines 32 and 33 in Chad (CD).
"""

import gzip
import shutil
import textwrap
import zipfile

import pandas as pd
import pytest

from analysis.sources import load_source
from tests.conftest import SHARED

FIXTURES = SHARED / "fixtures" / "gdelt"
if not FIXTURES.is_dir():
    pytest.skip(f"shared fixtures not found at {FIXTURES}", allow_module_level=True)

from analysis.sources.gdelt import COLUMNS, FIPS_COUNTRIES, cameo_kind, load_gdelt  # noqa: E402

SAMPLE = FIXTURES / "gdelt2_events_sample_20170701234500.export.tsv"
MENTIONS = FIXTURES / "mentionssamp.csv"
MALI_CHAD = {"mali": ["MLI"], "chad": ["TCD"]}


def lines():
    return SAMPLE.read_text().splitlines()


def write(path, rows):
    path.write_text("".join(row + "\n" for row in rows))
    return path


def edit(row, **values):
    """One fixture line with some columns replaced (by GDELT column name)."""
    fields = row.split("\t")
    for name, value in values.items():
        fields[COLUMNS.index(name)] = value
    return "\t".join(fields)


def counts(result):
    """read / accepted / rejected / filtered of a load (the identity the loader keeps)."""
    return {k: result.counts[k] for k in ("source", "read", "accepted", "rejected", "filtered")}


def comparable(events):
    return events.drop(columns=["raw_file"])


def test_column_list_matches_gdelt_official_labels():
    official = pd.read_csv(FIXTURES / "GDELT_2.0_Events_Column_Labels_Header_Row_Sep2016.csv")["tableId"]
    assert list(COLUMNS) == official.tolist()


def test_mali_chad_fights_in_the_sample():
    result = load_gdelt(SAMPLE, actor_codes=MALI_CHAD)
    # 50 lines; lines 31-33 are the only material-conflict rows, all Mali -> Chad
    assert counts(result) == {"source": str(SAMPLE), "read": 50, "accepted": 3, "rejected": 0, "filtered": 47}
    events = result.events
    assert events["event_id"].tolist() == ["gdelt-669666380", "gdelt-669666381", "gdelt-669666382"]
    assert events["source_id"].tolist() == ["669666380", "669666381", "669666382"]
    assert (events["date"] == pd.Timestamp("2017-06-01")).all() and (events["date_precision"] == "day").all()
    assert events["raw_row"].tolist() == [31, 32, 33]  # no header: the first record is line 1
    assert events["kind"].tolist() == ["other"] * 3  # CAMEO 190, conventional force not specified
    assert events["source_type"].tolist() == ["190"] * 3
    assert events["actor"].tolist() == ["MLI MALI"] * 3 and events["target"].tolist() == ["TCD CHAD"] * 3
    assert events["gdelt_side"].tolist() == ["mali"] * 3 and events["gdelt_target_side"].tolist() == ["chad"] * 3
    assert events["side"].isna().all()  # set later by assign_sides
    assert events["country"].tolist() == ["Mali", "Chad", "Chad"]  # FIPS ML, CD, CD
    assert events["location"].tolist() == ["Kidal, Kidal, Mali", "Chad", "Chad"]
    assert events["latitude"].tolist() == [18.4411, 15.0, 15.0] and events["longitude"].tolist() == [1.40778, 19.0, 19.0]
    assert events["weight"].tolist() == [-10.0] * 3  # Goldstein of 190
    assert events["NumMentions"].tolist() == [6, 2, 2] and events["AvgTone"].round(4).tolist() == [-1.9663] * 3
    assert events["url"].iloc[0].startswith("http://thenationonlineng.net/french-president")
    assert (events["evidence"] == "").all() and (events["source"] == "gdelt").all()
    assert events["initiator_reason"].iloc[0] == "GDELT Actor1 is the actor performing the CAMEO event (190)"
    assert events["raw_file"].iloc[0] == str(SAMPLE)


def test_root_codes_quad_classes_countries_and_longest_prefix():
    saudi_egypt = {"saudi": ["SAU"], "egypt": ["EGY"]}
    # lines 18-19: SAU -> EGY, CAMEO 172 (root 17, QuadClass 4)
    result = load_gdelt(SAMPLE, actor_codes=saudi_egypt, root_codes=["17", "18", "19", "20"])
    assert result.events["raw_row"].tolist() == [18, 19] and result.counts["filtered"] == 48
    # every root code: also line 10 (EGY -> SAUGOV), 16-17 (SAU -> EGY, 014) and 20 (SAUGOV -> EGY)
    result = load_gdelt(SAMPLE, actor_codes=saudi_egypt, root_codes=None)
    assert result.events["raw_row"].tolist() == [10, 16, 17, 18, 19, 20]
    assert result.events["gdelt_side"].tolist() == ["egypt", "saudi", "saudi", "saudi", "saudi", "saudi"]
    assert result.events["actor"].iloc[-1] == "SAUGOV SAUDI"
    # QuadClass 4 (material conflict) leaves lines 18-19
    result = load_gdelt(SAMPLE, actor_codes=saudi_egypt, root_codes=None, quad_classes=[4])
    assert result.events["raw_row"].tolist() == [18, 19]
    # the longest prefix wins: SAUGOV is its own side
    result = load_gdelt(SAMPLE, actor_codes={**saudi_egypt, "saudi_gov": ["SAUGOV"]}, root_codes=None)
    assert result.events["gdelt_side"].tolist() == ["egypt", "saudi", "saudi", "saudi", "saudi", "saudi_gov"]
    assert result.events["gdelt_target_side"].iloc[0] == "saudi_gov"
    # ActionGeo_CountryCode CD: lines 32-33
    result = load_gdelt(SAMPLE, actor_codes=MALI_CHAD, countries=["CD"])
    assert result.events["raw_row"].tolist() == [32, 33] and result.counts["filtered"] == 48


def test_both_actors_on_one_side_is_filtered():
    result = load_gdelt(SAMPLE, actor_codes={"sahel": ["MLI", "TCD"], "us": ["USA"]})
    assert result.counts["accepted"] == 0 and result.counts["filtered"] == 50
    assert "3 of the rows filtered had both actors on the same side" in result.notes[-1]


def test_actor_codes_and_countries_from_the_dyad_spec(tmp_path):
    from analysis.dyads import assign_sides, load_dyad

    spec_file = tmp_path / "sahel.yaml"
    spec_file.write_text(
        textwrap.dedent(
            """\
            name: sahel
            period: {start: 2017-01-01, end: 2017-12-31}
            sides:
              mali: {actors: ['\\bMLI', 'Mali']}
              chad: {actors: ['\\bTCD', 'Chad']}
              chad_gov: {actors: ['TCDGOV'], group_with: chad}
            gdelt:
              actor_codes: {mali: [MLI], chad: [TCD]}
              countries: [CD]
            """
        )
    )
    spec = load_dyad(spec_file)
    result = load_gdelt(SAMPLE, spec=spec)
    assert result.events["raw_row"].tolist() == [32, 33]  # countries: [CD]
    sided = assign_sides(result.events, spec).events
    assert sided["side"].tolist() == ["mali", "mali"] and sided["target_side"].tolist() == ["chad", "chad"]
    assert sided["side_reason"].iloc[0].startswith("GDELT Actor1 is the actor performing the CAMEO event (190); actor 'MLI MALI'")
    # a side grouped with the other side is not a second side: no dyad left
    with pytest.raises(ValueError, match="at least two sides"):
        load_gdelt(SAMPLE, spec=spec, actor_codes={"chad": ["MLI"], "chad_gov": ["TCD"]})
    with pytest.raises(ValueError, match="needs actor_codes"):
        load_gdelt(SAMPLE)
    with pytest.raises(ValueError, match="listed for both 'mali' and 'chad'"):
        load_gdelt(SAMPLE, actor_codes={"mali": ["MLI"], "chad": ["MLI"]})


def test_gz_zip_and_folder_give_the_same_events(tmp_path):
    base = load_gdelt(SAMPLE, actor_codes=MALI_CHAD)
    gz = tmp_path / "events.export.CSV.gz"
    with SAMPLE.open("rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    archive = tmp_path / "20170701234500.export.CSV.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(SAMPLE, "20170701234500.export.CSV")
    for path in (gz, archive):
        other = load_gdelt(path, actor_codes=MALI_CHAD)
        assert other.counts["read"] == 50 and other.counts["filtered"] == 47
        pd.testing.assert_frame_equal(comparable(base.events), comparable(other.events))
    assert load_gdelt(archive, actor_codes=MALI_CHAD).events["raw_file"].iloc[0] == f"{archive}:20170701234500.export.CSV"

    # a folder: lines 1-20 plain, 21-32 gzipped, 33-50 zipped; read in order of name
    folder = tmp_path / "folder"
    folder.mkdir()
    rows = lines()
    write(folder / "a.export.CSV", rows[:20])
    write(tmp_path / "b.export.CSV", rows[20:32])
    with (tmp_path / "b.export.CSV").open("rb") as src, gzip.open(folder / "b.export.CSV.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    with zipfile.ZipFile(folder / "c.export.CSV.zip", "w") as zf:
        zf.writestr("c.export.CSV", "".join(r + "\n" for r in rows[32:]))
    (folder / "notes.md").write_text("not a GDELT file")  # not a .csv/.tsv/.gz/.zip: ignored
    result = load_gdelt(folder, actor_codes=MALI_CHAD)
    assert counts(result) == {"source": str(folder), "read": 50, "accepted": 3, "rejected": 0, "filtered": 47}
    pd.testing.assert_frame_equal(
        comparable(base.events).drop(columns="raw_row"), comparable(result.events).drop(columns="raw_row")
    )
    # line numbers within each file: lines 31-32 are lines 11-12 of b, line 33 is line 1 of c
    assert result.events["raw_row"].tolist() == [11, 12, 1]
    assert result.events["raw_file"].tolist() == [
        str(folder / "b.export.CSV.gz"),
        str(folder / "b.export.CSV.gz"),
        f"{folder / 'c.export.CSV.zip'}:c.export.CSV",
    ]
    assert "read 3 files" in result.notes
    dask_result = load_gdelt(folder, actor_codes=MALI_CHAD, engine="dask")  # default scheduler
    pd.testing.assert_frame_equal(result.events, dask_result.events)
    assert dask_result.counts == result.counts


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as c:
        yield c


def test_duckdb_and_dask_engines_agree_on_a_local_cluster(client):
    many = {"usa": ["USA"], "business": ["BUS"], "government": ["GOV"], "mali": ["MLI"], "chad": ["TCD"]}
    duck = load_gdelt(SAMPLE, actor_codes=many, root_codes=None)
    # a 4 kB block splits the 21 kB sample into several partitions: line numbers must carry over
    dask = load_gdelt(SAMPLE, actor_codes=many, root_codes=None, engine="dask", client=client, blocksize=4000)
    assert counts(duck) == counts(dask)
    pd.testing.assert_frame_equal(duck.events, dask.events)
    pd.testing.assert_frame_equal(
        duck.events.sort_values("source_id").reset_index(drop=True),
        dask.events.sort_values("source_id").reset_index(drop=True),
    )
    # by hand (columns 6 and 16): line 8 BUS -> USA, 22-27 USA -> BUS, 30 MLI -> GOV, 31-33
    # MLI -> TCD, 38-40 TCD -> GOV; the other GOV rows (13-15, 28-29, 34-37) lack a second side
    assert dask.events["raw_row"].tolist() == [8, 22, 23, 24, 25, 26, 27, 30, 31, 32, 33, 38, 39, 40]


def test_bad_rows_go_to_rejects_with_their_line(tmp_path):
    rows = lines()
    rows[31] = edit(rows[31], SQLDATE="20170631")  # line 32: 31 June
    rows[32] = edit(rows[32], GLOBALEVENTID="")  # line 33: no id
    rows[30] = edit(rows[30], EventCode="1831", ActionGeo_CountryCode="IZ")  # line 31: suicide bombing in Iraq
    path = write(tmp_path / "bad.export.CSV", rows)
    for engine in ("duckdb", "dask"):
        result = load_gdelt(path, actor_codes=MALI_CHAD, engine=engine)
        assert counts(result) == {"source": str(path), "read": 50, "accepted": 1, "rejected": 2, "filtered": 47}
        found = {r.raw_row: (r.column, r.value, r.reason) for r in result.rejects.itertuples()}
        assert found == {
            32: ("SQLDATE", "20170631", "cannot read date (expected YYYYMMDD)"),
            33: ("GLOBALEVENTID", "", "missing GLOBALEVENTID"),
        }
        assert (result.rejects["raw_file"] == str(path)).all()
        event = result.events.iloc[0]
        assert (event["kind"], event["source_type"], event["country"]) == ("ied", "1831", "Iraq")


def test_duplicate_ids_are_rejected_and_a_header_line_is_skipped(tmp_path):
    rows = lines()
    rows[32] = edit(rows[32], GLOBALEVENTID="669666380")  # line 33 repeats line 31's id
    plain = write(tmp_path / "header.tsv", ["\t".join(COLUMNS)] + rows)
    gz = tmp_path / "header.tsv.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    for engine, path in (("duckdb", plain), ("dask", plain), ("duckdb", gz), ("dask", gz)):
        result = load_gdelt(path, actor_codes=MALI_CHAD, engine=engine)
        # the header is line 1, so the fixture's lines 31-33 are lines 32-34 here
        assert result.counts["read"] == 50 and result.events["raw_row"].tolist() == [32, 33]
        assert result.rejects["raw_row"].tolist() == [34]
        assert result.rejects["reason"].iloc[0] == f"duplicate GLOBALEVENTID, first at {path} row 32"
        assert f"{path}: header line skipped" in result.notes


def _oracle(path, prefixes, root_codes=("18", "19", "20")):
    """Line by line, in plain Python: (line, GLOBALEVENTID) of every dyadic row, and the number
    of records. A code takes the side of its longest matching prefix (the module docstring)."""

    def side(code):
        matches = [(len(p), s) for s, ps in prefixes.items() for p in ps if code.startswith(p)]
        return max(matches)[1] if matches else None

    dyadic, records = [], 0
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.split("\t")
        if fields[0] == "GLOBALEVENTID":
            continue
        records += 1
        a1, a2 = side(fields[COLUMNS.index("Actor1Code")]), side(fields[COLUMNS.index("Actor2Code")])
        if fields[COLUMNS.index("EventRootCode")] in root_codes and a1 and a2 and a1 != a2:
            dyadic.append((number, fields[0]))
    return dyadic, records


@pytest.mark.parametrize("header", [False, True])
def test_line_numbers_and_counts_against_a_line_by_line_oracle(tmp_path, header):
    """20,000 lines (about 8 MB) made from the sample's rows with new ids, a dyadic fight every
    7th line and a bad value in every 50th of those: the DuckDB reader's line numbers, counts and
    rejects equal a plain-Python reading of the same file, and the Dask engine's."""
    rows = lines()
    fight = rows[30]  # line 31: MLI -> TCD, CAMEO 190
    bad_values = [("SQLDATE", "20170631"), ("GLOBALEVENTID", ""), ("GoldsteinScale", "x"), ("ActionGeo_Lat", "91")]
    text, bad = [], {}
    for i in range(20_000):
        row = edit(rows[i % len(rows)], GLOBALEVENTID=str(10**9 + i))
        if i % 7 == 3:
            row = edit(fight, GLOBALEVENTID=str(10**9 + i), Actor1Code="TCDMIL" if i % 2 else "MLI")
            if i % 2:
                row = edit(row, Actor2Code="MLIREB")
            if i % 50 == 3:
                column, value = bad_values[(i // 50) % len(bad_values)]
                row = edit(row, **{column: value})
                bad[i + 1 + header] = column
        text.append(row)
    path = write(tmp_path / "many.export.CSV", (["\t".join(COLUMNS)] if header else []) + text)

    dyadic, records = _oracle(path, MALI_CHAD)
    # the fights, and the copies of the sample's lines 31-33 (positions 30-32 of every 50)
    assert records == 20_000 and len(dyadic) == sum(1 for i in range(20_000) if i % 7 == 3 or i % 50 in (30, 31, 32))
    for engine in ("duckdb", "dask"):
        result = load_gdelt(path, actor_codes=MALI_CHAD, engine=engine, blocksize=1_000_000)
        assert result.read == records and result.counts["filtered"] == records - len(dyadic)
        found = sorted(
            [*zip(result.events["raw_row"], result.events["source_id"]), *zip(result.rejects["raw_row"],
                                                                              [None] * len(result.rejects))]
        )
        # every dyadic line once, at its line, with its own id (rejected lines have no id to show)
        assert [n for n, _ in found] == [n for n, _ in dyadic]
        assert all(got is None or got == want for (_, got), (_, want) in zip(found, dyadic))
        assert dict(zip(result.rejects["raw_row"], result.rejects["column"])) == bad
    assert len(bad) == 58  # i = 3, 353, ..., 19953: i % 350 == 3


def test_cameo_codes_to_kinds():
    codes = pd.Series(["183", "1831", "1833", "180", "186", "190", "193", "194", "195", "196", "20", "2042", None])
    assert cameo_kind(codes).tolist() == [
        "ied", "ied", "ied", "other", "other", "other", "shooting", "rocket", "airstrike", "other", "other", "other", pd.NA,
    ]  # fmt: skip


def test_country_names():
    assert {c: FIPS_COUNTRIES[c] for c in ("IZ", "SY", "JO", "IS", "WE", "GZ", "IR", "US", "LE", "TU")} == {
        "IZ": "Iraq", "SY": "Syria", "JO": "Jordan", "IS": "Israel", "WE": "West Bank", "GZ": "Gaza Strip",
        "IR": "Iran", "US": "United States", "LE": "Lebanon", "TU": "Turkey",
    }  # fmt: skip


def test_gdelt_1_file_is_an_error_naming_the_file(tmp_path):
    for n in (57, 58):
        path = write(tmp_path / f"gdelt1_{n}.CSV", ["\t".join(["1"] * n)] * 3)
        with pytest.raises(ValueError) as err:
            load_gdelt(path, actor_codes=MALI_CHAD)
        message = str(err.value)
        assert str(path) in message and f"has {n} tab-separated columns where GDELT 2.0 events have 61" in message
        assert "this looks like a GDELT 1.0 file" in message


def test_mentions_file_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(ValueError, match=r"mentionssamp.csv: the first line has 1 tab-separated column .*Mentions file"):
        load_gdelt(MENTIONS, actor_codes=MALI_CHAD)
    # a raw mentions file: 16 tab-separated columns, no header
    raw = write(tmp_path / "x.mentions.CSV", ["\t".join(["1"] * 16)])
    with pytest.raises(ValueError, match=r"x.mentions.CSV: the first line has 16 .*Mentions file"):
        load_gdelt(raw, actor_codes=MALI_CHAD, engine="dask")


def test_broken_line_and_missing_paths(tmp_path):
    rows = lines()
    rows[30] = "\t".join(rows[30].split("\t")[:40])  # line 31 cut after 40 fields
    path = write(tmp_path / "cut.tsv", rows)
    with pytest.raises(ValueError, match=r"cut.tsv: cannot be read as GDELT 2.0 events: .*Line: 31"):
        load_gdelt(path, actor_codes=MALI_CHAD)
    rows = lines()
    rows[30] += "\tone field too many"  # line 31, GLOBALEVENTID 669666380
    path = write(tmp_path / "long.tsv", rows)
    with pytest.raises(ValueError, match=r"long.tsv: cannot be read as GDELT 2.0 events: .*Line: 31"):
        load_gdelt(path, actor_codes=MALI_CHAD)
    # blocks of 4 kB: line 31 begins a block, where pandas alone would shift the columns
    for blocksize in (4000, "64MB"):
        with pytest.raises(ValueError, match=r"long.tsv: .*GLOBALEVENTID 669666380 has more than 61 tab-separated fields"):
            load_gdelt(path, actor_codes=MALI_CHAD, engine="dask", blocksize=blocksize)
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        load_gdelt(tmp_path / "absent.CSV", actor_codes=MALI_CHAD)
    (tmp_path / "empty_folder").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no GDELT file"):
        load_gdelt(tmp_path / "empty_folder", actor_codes=MALI_CHAD)
    with pytest.raises(ValueError, match="engine must be"):
        load_gdelt(SAMPLE, actor_codes=MALI_CHAD, engine="spark")


def test_empty_file_reads_no_record(tmp_path):
    path = write(tmp_path / "empty.CSV", [])
    result = load_gdelt(path, actor_codes=MALI_CHAD)
    assert result.counts["read"] == 0 and len(result.events) == 0
    assert f"{path}: empty file" in result.notes


def test_load_source_and_progress_bar(capsys):
    result = load_source({"format": "gdelt", "path": str(SAMPLE), "actor_codes": MALI_CHAD, "progress": True})
    assert result.counts["accepted"] == 3
    assert "GDELT" in capsys.readouterr().err  # tqdm writes to stderr


def test_cameo_kinds_follow_the_official_code_table():
    """Every CAMEO code of the fixture's code table gets a canonical kind, and the kinds that are
    not "other" match the official descriptions (read from cameoCodeTable.tsv)."""
    from analysis.schema import KINDS
    from analysis.sources.gdelt import cameo_kind

    table = pd.read_csv(FIXTURES / "cameoCodeTable.tsv", sep="\t", dtype=str)
    described = dict(zip(table["cameoCode"].str.strip(), table["Description"].str.strip().str.lower()))
    kinds = cameo_kind(pd.Series(list(described)))
    assert set(kinds) <= set(KINDS)
    by_code = dict(zip(described, kinds))
    assert "aerial weapons" in described["195"] and by_code["195"] == "airstrike"
    assert "artillery" in described["194"] and by_code["194"] == "rocket"
    assert "small arms" in described["193"] and by_code["193"] == "shooting"
    assert "bombing" in described["183"] and by_code["183"] == by_code["1831"] == "ied"
    # codes outside material conflict (e.g. 010, make a statement) are "other"
    assert by_code["010"] == "other"


# ---------------------------------------------------------------------------------------------
# filter once (on a cluster), analyse anywhere


SAHEL_SPEC = """\
name: sahel
period: {start: 2016-01-01, end: 2018-12-31}
sides:
  mali: {actors: ['\\bMLI', 'Mali']}
  chad: {actors: ['\\bTCD', 'Chad']}
gdelt:
  actor_codes: {mali: [MLI], chad: [TCD]}
sources:
  - {format: gdelt, path: PATH}
"""


def _three_years(tmp_path):
    """The sample with line 31 moved to 31 Dec 2016, line 33 to 2 Jan 2018, and line 32 repeated
    as line 51 (a duplicate GLOBALEVENTID): events in three years, and one reject."""
    rows = lines()
    rows[30] = edit(rows[30], SQLDATE="20161231")
    rows[32] = edit(rows[32], SQLDATE="20180102")
    return write(tmp_path / "sahel.export.CSV", [*rows, rows[31]])


def test_filtered_parquet_folder_round_trip_on_a_local_cluster(client, tmp_path):
    from analysis.dyads import load_dyad
    from analysis.sources.gdelt import MANIFEST, filter_gdelt

    archive = _three_years(tmp_path)
    spec_file = tmp_path / "sahel.yaml"
    spec_file.write_text(SAHEL_SPEC.replace("PATH", str(archive)))
    spec = load_dyad(spec_file)
    direct = load_source(spec.sources[0], spec=spec)
    # lines 31-33 are the dyad's events; line 51 repeats line 32's id
    assert direct.events["raw_row"].tolist() == [31, 32, 33] and direct.rejects["raw_row"].tolist() == [51]

    folder = tmp_path / "sahel" / "gdelt.parquet"
    written = filter_gdelt(archive, folder, spec=spec, client=client, blocksize=4000)
    assert written.counts == direct.counts
    assert sorted(p.name for p in (folder / "events").iterdir()) == ["year=2016", "year=2017", "year=2018"]
    assert not [p for p in folder.parent.iterdir() if p.name.endswith(".partial")]  # the staging folder is gone

    # the spec's source pointed at the folder: the same events, rejects and counts
    entry = {**spec.sources[0], "path": str(folder)}
    again = load_source(entry, spec=spec)
    pd.testing.assert_frame_equal(direct.events, again.events)
    pd.testing.assert_frame_equal(direct.rejects, again.rejects)
    assert {k: v for k, v in again.counts.items() if k != "source"} == {k: v for k, v in direct.counts.items() if k != "source"}
    assert again.source == str(folder) and f"read from {folder}, filtered from {archive} by filter_gdelt" in again.notes
    # Hive-style partitions: any Parquet reader sees one table with a year column
    import pyarrow.dataset as ds

    table = ds.dataset(folder / "events", format="parquet", partitioning="hive").to_table()
    assert sorted(table.column("year").to_pylist()) == [2016, 2017, 2018]

    # a different filter than the folder was made with is refused, saying what differs
    differs = r"gdelt.parquet holds GDELT events filtered with other options .*countries: made with None, asked for \['CD'\]"
    with pytest.raises(ValueError, match=differs):
        load_gdelt(folder, spec=spec, countries=["CD"])
    with pytest.raises(ValueError, match=r"root_codes: made with \['18', '19', '20'\], asked for None"):
        load_gdelt(folder, spec=spec, root_codes=None)
    with pytest.raises(FileExistsError, match=r"gdelt\.parquet exists; pass overwrite=True"):
        filter_gdelt(archive, folder, spec=spec, engine="duckdb")
    filter_gdelt(archive, folder, spec=spec, engine="duckdb", overwrite=True)
    pd.testing.assert_frame_equal(direct.events, load_gdelt(folder, spec=spec).events)
    # a folder whose files no longer match its manifest is refused
    (folder / "events" / "year=2018" / "part-0.parquet").unlink()
    with pytest.raises(ValueError, match=r"2 events and 1 rejects where gdelt-filter.json says 3 and 1"):
        load_gdelt(folder, spec=spec)
    assert (folder / MANIFEST).is_file()


def test_command_line_filter(tmp_path, capsys):
    from analysis.sources.gdelt import main

    archive = _three_years(tmp_path)
    spec_file = tmp_path / "sahel.yaml"
    spec_file.write_text(SAHEL_SPEC.replace("PATH", str(archive)))
    folder = tmp_path / "out.parquet"
    assert main([str(archive), str(folder), "--dyad", str(spec_file), "--engine", "duckdb"]) == 0
    assert f"{archive}: read 51, accepted 3, rejected 1, filtered 47" in capsys.readouterr().out
    assert load_gdelt(folder, actor_codes=MALI_CHAD).events["raw_row"].tolist() == [31, 32, 33]


def test_readme_cluster_example_runs(tmp_path):
    """The README's example, as written, with its three paths pointed at a test dyad: a
    LocalCluster of two worker processes filters the archive into a Parquet folder."""
    import re

    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if "filter_gdelt(" in b]
    assert len(blocks) == 1
    archive = _three_years(tmp_path)
    spec_file = tmp_path / "sahel.yaml"
    spec_file.write_text(SAHEL_SPEC.replace("PATH", str(archive)))
    folder = tmp_path / "data" / "external" / "sahel" / "gdelt.parquet"
    code = blocks[0]
    for old, new in (("dyads/my-dyad.yaml", spec_file), ("/data/gdelt/events", archive), ("data/external/my-dyad/gdelt.parquet",
                                                                                          folder)):
        assert f'"{old}"' in code
        code = code.replace(f'"{old}"', repr(str(new)))
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["result"].counts["accepted"] == 3
    assert load_gdelt(folder, actor_codes=MALI_CHAD).events["raw_row"].tolist() == [31, 32, 33]
