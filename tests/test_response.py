import pandas as pd
import pytest

from analysis.dyads import load_dyad
from analysis.response import RULE_KEYS, ResponseRule, RuleError, resolve_rule


def test_defaults_and_windows():
    rule = ResponseRule()
    assert (rule.window("any side"), rule.ties, rule.matching, rule.max_distance_km) == (30, "exclude", "many_to_one", None)
    per_side = ResponseRule(window_days={"us": 7, "militias": 14})
    assert per_side.windows(["us", "militias"]) == {"us": 7, "militias": 14}
    assert per_side.window_days == (("us", 7), ("militias", 14))  # immutable, hashable
    assert hash(per_side) == hash(ResponseRule(window_days={"us": 7, "militias": 14}))
    with pytest.raises(RuleError, match="window_days gives no window for trigger side 'iran'"):
        per_side.window("iran")


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"window_days": 0}, "window_days must be at least 1 day, got 0"),
        ({"window_days": -3}, "window_days must be at least 1 day"),
        ({"window_days": True}, "window_days must be a whole number of days, got True"),  # YAML `yes`
        ({"window_days": 7.5}, "window_days must be a whole number of days, got 7.5"),
        ({"window_days": {"us": 0}}, r"window_days.us must be at least 1 day"),
        ({"window_days": {}}, "window_days is an empty mapping"),
        ({"ties": "inclde"}, "ties must be one of exclude, include; got 'inclde' \\(did you mean 'include'\\?\\)"),
        ({"matching": "one-to-one"}, "did you mean 'one_to_one'"),
        ({"own_event_ends_wait": "yes"}, "own_event_ends_wait must be true or false"),
        ({"trigger_kinds": ["airstrikes"]}, "trigger_kinds names kind\\(s\\) 'airstrikes' \\(did you mean 'airstrike'\\?\\)"),
        ({"response_kinds": "rocket"}, "response_kinds must be a list, e.g. \\[rocket\\], got the string 'rocket'"),
        ({"theatre": "Iraq"}, "theatre must be a list, e.g. \\[Iraq\\], got the string 'Iraq'"),
        ({"theatre": []}, "theatre is an empty list"),
        ({"min_severity": {"fatalities": "one"}}, "min_severity.fatalities must be a number"),
        ({"min_severity": 3}, "min_severity must be a mapping"),
        ({"max_distance_km": 0}, "max_distance_km must be a positive number"),
        ({"max_distance_km": "10 km"}, "max_distance_km must be a positive number"),
        ({"missing_coordinates": "drop"}, "missing_coordinates must be one of exclude, any"),
        ({"study_end": "the end"}, "study_end must be a date like 2024-12-31"),
        ({"study_end": 2024}, "study_end must be a date"),
    ],
)
def test_bad_fields_are_refused(fields, message):
    with pytest.raises(RuleError, match=message):
        ResponseRule(**fields)


def test_resolve_rule_merges_spec_and_profile_key_by_key():
    rule = resolve_rule({"window_days": 14, "ties": "include"}, {"window_days": {"A": 7, "B": 21}}, sides=["A", "B"],
                        period_end=pd.Timestamp("2024-12-31"))
    # the profile's window wins; the spec's tie rule stays; the study end is the period's end
    assert rule.windows(["A", "B"]) == {"A": 7, "B": 21} and rule.ties == "include"
    assert rule.study_end == pd.Timestamp("2024-12-31")
    assert resolve_rule(None, {"study_end": "2023-06-30"}, sides=["A", "B"], period_end=pd.Timestamp("2024-12-31")).study_end \
        == pd.Timestamp("2023-06-30")


def test_resolve_rule_names_the_file_and_key():
    kwargs = {"sides": ["us", "militias"], "spec_where": "dyads/x.yaml: response",
              "profile_where": "notebooks/params/p.yaml: cycles.response"}
    with pytest.raises(RuleError,
                       match=r"notebooks/params/p.yaml: cycles.response: unknown key 'window'; did you mean 'window_days'\?"):
        resolve_rule({}, {"window": 7}, **kwargs)
    with pytest.raises(RuleError, match=r"dyads/x.yaml: response: ties must be one of"):
        resolve_rule({"ties": "sometimes"}, {"window_days": 7}, **kwargs)
    with pytest.raises(RuleError, match=r"notebooks/params/p.yaml: cycles.response: window_days must be at least 1 day"):
        resolve_rule({"window_days": 30}, {"window_days": 0}, **kwargs)
    with pytest.raises(RuleError,
                       match=r"p.yaml: cycles.response: window_days names \['iran'\], which are not sides of the dyad"):
        resolve_rule({}, {"window_days": {"us": 7, "iran": 7}}, **kwargs)
    with pytest.raises(RuleError, match=r"p.yaml: cycles.response: window_days gives no window for side\(s\) \['militias'\]"):
        resolve_rule({}, {"window_days": {"us": 7}}, **kwargs)
    with pytest.raises(RuleError, match=r"p.yaml: cycles.response: must be a mapping"):
        resolve_rule({}, [7], **kwargs)


def test_rule_round_trips_through_its_table():
    rule = ResponseRule(window_days={"us": 7, "militias": 14}, ties="include", trigger_kinds=["airstrike"],
                        min_severity={"fatalities": 1}, theatre=["Iraq"], max_distance_km=25.0, missing_coordinates="any",
                        study_end="2024-12-31")
    assert ResponseRule.from_frame(rule.to_frame()) == rule
    assert list(rule.to_frame()["key"]) == list(RULE_KEYS)


def test_describe_says_the_rule_in_words():
    rule = ResponseRule(window_days={"us": 7, "militias": 14}, max_distance_km=10, trigger_kinds=["airstrike"])
    text = rule.describe({"us": "US forces", "militias": "the militias"})
    assert text.startswith("A response is the first event of the other side within 7 days of an event of US forces, "
                           "14 days of an event of the militias; within 10 km of it (events without coordinates left out)")
    assert "answering only airstrike events" in text and "same-day events of unknown order do not count" in text


def test_dyad_spec_response_section(tmp_path):
    spec_text = """
name: x
period: {start: 2020-01-01, end: 2020-12-31}
sides:
  a: {actors: [Alpha]}
  b: {actors: [Beta]}
response: {window_days: 10, max_distance_km: 5}
"""
    path = tmp_path / "x.yaml"
    path.write_text(spec_text)
    spec = load_dyad(path)
    rule = spec.response_rule({"window_days": {"a": 3, "b": 4}}, where="p.yaml: cycles.response")
    assert rule.windows(["a", "b"]) == {"a": 3, "b": 4} and rule.max_distance_km == 5.0
    assert rule.study_end == pd.Timestamp("2020-12-31") and spec.study_end() == pd.Timestamp("2020-12-31")
    # a bad default fails when the spec is read, naming the file and the key
    path.write_text(spec_text.replace("max_distance_km: 5", "max_distance: 5"))
    with pytest.raises(RuleError, match=r"x.yaml: response: unknown key 'max_distance'; did you mean 'max_distance_km'\?"):
        load_dyad(path)
    # the old top-level window_days is refused with where it now belongs
    path.write_text(spec_text + "window_days: 7\n")
    with pytest.raises(ValueError,
                       match=r"window_days now belongs to the response rule: write it as 'response: \{window_days: 7\}'"):
        load_dyad(path)
    path.write_text(spec_text + "theater: [Iraq]\n")
    with pytest.raises(ValueError, match=r"x.yaml: unknown key 'theater'; did you mean 'theatre'\?"):
        load_dyad(path)
