import pandas as pd
import pytest

from analysis.schema import (
    EVENT_COLUMNS,
    EventsValidationError,
    conform_events,
    empty_events,
    normalise_kind,
    validate_events,
)
from tests.conftest import make_events


def good():
    return make_events(
        [
            ("a", "2020-01-01", "us", "airstrike"),
            ("b", "2020-01-02", "militias", "rocket"),
            ("c", "2020-01-03", pd.NA, "drone"),
        ]
    )


def test_good_table_passes_and_is_returned():
    events = good()
    assert validate_events(events, sides=["us", "militias"]) is events


def test_conform_adds_every_canonical_column_in_order_and_keeps_extras():
    frame = pd.DataFrame({"event_id": ["x"], "date": ["2020-05-06 13:45"], "claimed_by": ["KH"]})
    out = conform_events(frame)
    assert list(out.columns) == list(EVENT_COLUMNS) + ["claimed_by"]
    # the date is a day: 13:45 is dropped, the time belongs in time_utc
    assert out.loc[0, "date"] == pd.Timestamp("2020-05-06")
    assert out["fatalities"].dtype == "Int64" and out["fatalities"].isna().all()
    assert list(frame.columns) == ["event_id", "date", "claimed_by"]  # input untouched
    assert list(empty_events().columns) == list(EVENT_COLUMNS)


def test_missing_required_column_names_it_and_lists_columns():
    events = good().drop(columns=["kind"])
    with pytest.raises(EventsValidationError) as err:
        validate_events(events, name="my.csv")
    message = str(err.value)
    assert "my.csv has no 'kind' column" in message
    assert "columns are: event_id, date" in message


def test_duplicate_ids_name_both_rows():
    events = good()
    events.loc[2, "event_id"] = "a"
    with pytest.raises(EventsValidationError, match=r"column 'event_id': duplicate id 'a' in row 0, row 2$"):
        validate_events(events)


def test_every_problem_is_listed_with_its_column_and_rows():
    events = good()
    events["kind"] = events["kind"].astype("string")
    events.loc[1, "kind"] = "bombardment"
    events["fatalities"] = pd.array([1, -2, None], dtype="Int64")
    events["munitions_min"] = pd.array([5, None, None], dtype="Int64")
    events["munitions_max"] = pd.array([3, None, None], dtype="Int64")
    events.loc[2, "side"] = "iran"
    events["latitude"] = pd.array([33.3, 95.0, None], dtype="Float64")
    with pytest.raises(EventsValidationError) as err:
        validate_events(events, sides=["us", "militias"])
    message = str(err.value)
    assert "column 'kind': value not in" in message and "row 1 (event_id 'b')" in message
    assert "column 'fatalities': negative count in row 1 (event_id 'b')" in message
    assert "column 'munitions_min': greater than munitions_max in row 0 (event_id 'a')" in message
    assert "column 'side': not a side of the dyad (us, militias) in row 2 (event_id 'c')" in message
    assert "column 'latitude': outside [-90, 90] in row 1 (event_id 'b')" in message


def test_missing_dates_and_time_of_day_are_errors():
    events = good()
    events.loc[0, "date"] = pd.NaT
    events.loc[1, "date"] = pd.Timestamp("2020-01-02 10:00")
    with pytest.raises(EventsValidationError) as err:
        validate_events(events)
    assert "column 'date': missing value in row 0 (event_id 'a')" in str(err.value)
    assert "column 'date': time of day set" in str(err.value)


def test_many_offending_rows_are_summarised():
    events = make_events([(f"e{i}", "2020-01-01", "us", "nope") for i in range(8)])
    with pytest.raises(EventsValidationError, match=r"row 4 \(event_id 'e4'\) and 3 more"):
        validate_events(events)


@pytest.mark.parametrize(
    "raw, kind",
    [
        ("Air strike", "airstrike"),
        (" UAV ", "drone"),
        ("Rockets", "rocket"),
        ("drone_strike", "drone_strike"),
        ("Remote explosive/landmine/IED", "ied"),
        ("bombardment", "other"),
    ],
)
def test_normalise_kind(raw, kind):
    assert normalise_kind(pd.Series([raw])).iloc[0] == kind


def test_normalise_kind_keeps_missing():
    assert normalise_kind(pd.Series([None], dtype="string")).isna().all()


def test_require_columns_names_what_is_missing_and_what_is_there():
    from analysis.schema import require_columns

    frame = pd.DataFrame({"date": [], "side": []})
    assert require_columns(frame, ["date"], what="cycles") is frame
    with pytest.raises(ValueError, match=r"^cycles has no 'kind' column; columns are: date, side$"):
        require_columns(frame, ["date", "kind"], what="cycles")
    with pytest.raises(ValueError, match=r"^x.csv has no 'a' \(for actor\), 'k' \(for kind\) columns; columns are: date, side$"):
        require_columns(frame, {"a": "actor", "k": "kind"}, what="x.csv")


def test_one_synonym_table_acled_attack_is_other_armed_clash_is_shooting():
    from analysis.schema import KIND_SYNONYMS

    # ACLED's "Attack" (on civilians, any weapon) names no weapon; "Armed clash" is an exchange of fire
    assert normalise_kind(pd.Series(["Attack", "Armed clash", "Suicide bomb", "Government regains territory"])).tolist() == [
        "other", "shooting", "ied", "raid"]
    assert all(kind in ("airstrike", "drone_strike", "rocket", "mortar", "drone", "missile", "ied", "raid", "shooting", "other")
               for kind in KIND_SYNONYMS.values())


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("inf", "not a finite number"),
        ("99999999999999999999", "too large for a count (more than 2^53 = 9,007,199,254,740,992)"),
        ("-1", "negative count"),
        ("2.5", "not a whole number"),
        ("x", "not a number"),
    ],
)
def test_count_values_each_get_their_own_reason(value, reason):
    from analysis.schema import value_problems

    found = value_problems(pd.DataFrame({"fatalities": ["1", value]}))
    assert [(column, why, mask.tolist()) for mask, column, why in found] == [("fatalities", reason, [False, True])]


def test_time_utc_far_from_its_local_day_is_a_problem():
    from analysis.schema import value_problems

    # 2019-10-30 local: 22:30 UTC the day before is 14 h early at most (UTC+14 allows 10:00);
    # 38 h after its midnight is the limit (23:59 at UTC-12 is 11:59 UTC the next day)
    frame = pd.DataFrame({"date": pd.to_datetime(["2019-10-30"] * 4),
                          "time_utc": pd.to_datetime(["2019-10-29 22:30", "2019-10-29 09:59",
                                                      "2019-10-31 13:59", "2019-10-31 14:00"])})
    [(mask, column, _)] = value_problems(frame)
    assert column == "time_utc" and mask.tolist() == [False, True, False, True]


def test_conform_keeps_the_local_day_of_a_time_zone_aware_date():
    # 01:30 at UTC+3 on 30 October is 22:30 UTC on the 29th: the date stays the local day
    aware = pd.Series(pd.to_datetime(["2019-10-30T01:30:00+03:00"])).dt.tz_convert("Asia/Baghdad")
    out = conform_events(pd.DataFrame({"event_id": ["x"], "date": aware, "time_utc": aware}))
    assert out.loc[0, "date"] == pd.Timestamp("2019-10-30")
    assert out.loc[0, "time_utc"] == pd.Timestamp("2019-10-29 22:30")
    # text mixing an offset and a plain date is read value by value
    mixed = conform_events(pd.DataFrame({"event_id": ["a", "b"], "date": ["2019-10-30T01:30:00+03:00", "2019-11-08"]}))
    assert mixed["date"].tolist() == [pd.Timestamp("2019-10-30"), pd.Timestamp("2019-11-08")]


def test_duplicate_ids_from_files_name_their_lines():
    events = good()
    events["raw_file"] = "data/x.csv"
    events["raw_row"] = pd.array([2, 3, 5], dtype="Int64")
    events.loc[2, "event_id"] = "a"
    expected = r"duplicate id 'a' in row 0 \(data/x.csv line 2\), row 2 \(data/x.csv line 5\)"
    with pytest.raises(EventsValidationError, match=expected):
        validate_events(events)
