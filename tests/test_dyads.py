import textwrap

import pandas as pd
import pytest

from analysis.dyads import assign_sides, load_dyad, within_scope
from tests.conftest import make_events

SPEC = textwrap.dedent(
    r"""
    name: test-dyad
    period: {start: 2020-01-01, end: 2020-12-31}
    theatre: [Iraq, Syria]
    response: {window_days: 21}
    sides:
      us:
        label: US forces
        actors: ['\bU\.?S\.?\b', 'coalition']
      militias:
        label: Militias
        actors: ['Kata.?ib H[ie]zb[ou]llah', 'Nujaba', 'Iran-(aligned|backed)']
      iran:
        label: Iran
        actors: ['Revolutionary Guard', '\bIRGC\b']
        group_with: militias
    """
)


@pytest.fixture
def spec_path(tmp_path):
    path = tmp_path / "dyad.yaml"
    path.write_text(SPEC)
    return path


def with_actors(actors, targets=None):
    rows = [(f"e{i}", "2020-03-01", pd.NA, "rocket") for i in range(len(actors))]
    extra = {"actor": actors}
    if targets is not None:
        extra["target"] = targets
    return make_events(rows, **extra)


def test_load_spec(spec_path):
    spec = load_dyad(spec_path)
    assert spec.name == "test-dyad"
    assert spec.side_keys == ["us", "militias"]  # iran is grouped with militias
    assert spec.response == {"window_days": 21} and spec.response_rule().window("us") == 21
    assert (spec.start, spec.end) == (pd.Timestamp("2020-01-01"), pd.Timestamp("2020-12-31"))
    assert spec.label("militias") == "Militias"


def test_aliases_case_insensitive_grouping_and_unmatched(spec_path):
    spec = load_dyad(spec_path)
    events = with_actors(
        [
            "U.S. forces",  # us, via the first pattern
            "kataib hezbollah",  # militias, case-insensitive
            "Kata'ib Hizbollah",  # militias: the pattern allows the apostrophe and Hizb/Hezb
            "Islamic Revolutionary Guard Corps",  # iran, grouped with militias
            "Turkish Armed Forces",  # no side
            "Turkish Armed Forces",
            "coalition strike on Kataib Hezbollah",  # two sides: ambiguous
            None,  # no actor
        ],
        targets=["Kataib Hezbollah depot", "US forces at Taji", None, "US base", "PKK", "PKK", "x", "y"],
    )
    out, unmatched = assign_sides(events, spec)
    assert out["side"].tolist()[:4] == ["us", "militias", "militias", "militias"]
    assert out["side"].iloc[4:].isna().all()
    assert out.loc[0, "side_reason"] == r"actor 'U.S. forces' matches '\bU\.?S\.?\b' of side 'us'"
    assert out.loc[3, "side_reason"] == (
        "actor 'Islamic Revolutionary Guard Corps' matches 'Revolutionary Guard' of side 'iran', grouped with 'militias'"
    )
    assert out.loc[4, "side_reason"] == "actor 'Turkish Armed Forces' matches no side pattern"
    assert out.loc[7, "side_reason"] == "no actor given"
    assert out["target_side"].tolist()[:2] == ["militias", "us"]
    assert out["target_side"].iloc[2:3].isna().all()
    # one row per distinct actor without a side, most frequent first
    assert unmatched["actor"].tolist()[0] == "Turkish Armed Forces"
    assert unmatched["n_events"].tolist() == [2, 1, 1]
    statuses = dict(zip(unmatched["actor"].fillna("<none>"), unmatched["status"]))
    assert statuses == {
        "Turkish Armed Forces": "no_match",
        "coalition strike on Kataib Hezbollah": "ambiguous",
        "<none>": "missing",
    }
    ambiguous = unmatched[unmatched["status"] == "ambiguous"].iloc[0]
    assert ambiguous["candidates"] == "us, militias"
    assert events["side"].isna().all()  # input untouched


def test_initiator_reason_comes_first(spec_path):
    events = with_actors(["US forces", "Nujaba"])
    events["initiator_reason"] = pd.array(["ACLED actor1 of an air strike", None], dtype="string")
    out, _ = assign_sides(events, load_dyad(spec_path))
    assert out.loc[0, "side_reason"] == r"ACLED actor1 of an air strike; actor 'US forces' matches '\bU\.?S\.?\b' of side 'us'"
    assert out.loc[1, "side_reason"] == "actor 'Nujaba' matches 'Nujaba' of side 'militias'"


def test_keeping_iran_apart(spec_path, tmp_path):
    path = tmp_path / "apart.yaml"
    path.write_text(spec_path.read_text().replace("group_with: militias", ""))
    spec = load_dyad(path)
    assert spec.side_keys == ["us", "militias", "iran"]
    out, _ = assign_sides(with_actors(["IRGC"]), spec)
    assert out.loc[0, "side"] == "iran"


@pytest.mark.parametrize(
    "change, message",
    [
        (("group_with: militias", "group_with: hamas"), "group_with: 'hamas', which is not an ungrouped side"),
        (("'Nujaba'", "'Nujaba('"), "is not a valid regular expression"),
        (("period: {start: 2020-01-01, end: 2020-12-31}", "when: 2020"), "dyad spec has no 'period' key"),
        (("end: 2020-12-31", "end: 2019-12-31"), "is before period.start"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec_path, tmp_path, change, message):
    path = tmp_path / "bad.yaml"
    path.write_text(spec_path.read_text().replace(*change))
    with pytest.raises(ValueError, match=message) as err:
        load_dyad(path)
    assert str(path) in str(err.value)


def test_within_scope_splits_and_counts(spec_path):
    spec = load_dyad(spec_path)
    events = make_events(
        [
            ("in", "2020-06-01", "us", "airstrike"),
            ("early", "2019-12-31", "us", "airstrike"),
            ("late", "2021-01-01", "militias", "rocket"),
            ("away", "2020-06-01", "militias", "rocket"),
            ("nowhere", "2020-06-02", "militias", "rocket"),
        ],
        country=["Iraq", "Iraq", "Syria", "Lebanon", None],
    )
    kept, excluded = within_scope(events, spec)
    # a missing country is not evidence of being outside the theatre
    assert kept["event_id"].tolist() == ["in", "nowhere"]
    assert dict(zip(excluded["event_id"], excluded["reason"])) == {
        "early": "before period start 2020-01-01",
        "late": "after period end 2020-12-31",
        "away": "country Lebanon not in theatre",
    }
    assert len(kept) + len(excluded) == len(events)


def test_project_spec_loads(root):
    spec = load_dyad(root / "dyads" / "us-iran-proxies.yaml")
    assert spec.side_keys == ["us", "militias"]
    out, unmatched = assign_sides(
        with_actors(["US forces", "Islamic Resistance in Iraq", "Ashab al-Kahf", "Islamic Revolutionary Guard Corps",
                     "unidentified Iran-aligned militia", "Harakat al-Nujaba"]),
        spec,
    )
    assert out["side"].tolist() == ["us", "militias", "militias", "militias", "militias", "militias"]
    assert unmatched.empty


def test_analysed_side_is_the_one_grouping_rule(spec_path):
    spec = load_dyad(spec_path)
    assert [spec.analysed_side(k) for k in ("us", "militias", "iran")] == ["us", "militias", "militias"]
    assert spec.analysed_side("not-a-side") == "not-a-side"  # e.g. a GDELT actor-code key the spec does not list


@pytest.mark.parametrize(
    "change, key, words",
    [
        # a level that is not listed
        (("level: killed\n", "level: dead\n"), "severity.rules[4].level:", "'dead' is not a level of this ladder"),
        # a misspelt key of the section
        (("  score: fatalities\n  rules:", "  scores: fatalities\n  rules:"), "severity:", "unknown key(s) 'scores'"),
        # a side the dyad does not analyse (iran is grouped with the militias)
        (("side: militias\n", "side: iran\n"), "severity.rules[1].side:", "not among the dyad's sides"),
    ],
)
def test_a_bad_severity_section_fails_when_the_spec_is_read(root, tmp_path, change, key, words):
    text = (root / "dyads" / "us-iran-proxies.yaml").read_text()
    assert change[0] in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(*change, 1))
    with pytest.raises(ValueError) as err:
        load_dyad(path)
    assert str(err.value).startswith(f"{path}: {key}"), str(err.value)
    assert words in str(err.value)
