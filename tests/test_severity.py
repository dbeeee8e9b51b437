import warnings

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.cycles import build_cycles
from analysis.dyads import load_dyad
from analysis.severity import (
    DEFAULT_LADDER,
    UNKNOWN,
    ResponseCurveWarning,
    assign_severity,
    escalation_matrix,
    label_answers,
    ladder_from_spec,
    matrix_table,
    parse_ladder,
    response_curve,
    response_models,
)
from analysis.simulate import graded_answer_truth, graded_exchanges
from tests.conftest import ROOT, make_events

US_IRAN = ROOT / "dyads" / "us-iran-proxies.yaml"
ISRAEL = ROOT / "dyads" / "israel-palestinians.yaml"
TOP = "4 US personnel killed, mass casualty or commander killed"


def spec_ladder(path=US_IRAN):
    return ladder_from_spec(load_dyad(path))


def twelve_events():
    """Events covering every rule of the us-iran-proxies ladder, and the unknown cases."""
    na = pd.NA
    rows = [
        # id, side, kind, fatalities, injuries, munitions, us_killed, target
        ("commander", "us", "drone_strike", 2, 6, 2, na, "Nujaba commander in a vehicle"),
        ("us-killed", "militias", "drone", 3, 5, 1, 3, "US troops at Tower 22"),
        ("five-killed", "us", "airstrike", 16, 0, 85, na, "militia facilities"),
        ("many-wounded", "militias", "missile", 0, 110, 11, 0, "US forces at Ain al-Asad"),
        ("killed", "militias", "rocket", 1, 0, 2, 0, "Green Zone"),
        ("wounded", "militias", "rocket", 0, 2, 3, 0, "Baghdad airport"),
        ("salvo", "militias", "rocket", 0, 0, 17, 0, "Qayyarah"),
        ("strike", "us", "airstrike", 0, 0, 5, na, "weapons depot"),
        ("nothing", "militias", "rocket", 0, 0, 2, 0, "Balad"),
        ("no-counts", "militias", "rocket", na, na, 2, na, "Green Zone"),
        ("munitions-missing", "militias", "drone", 0, 0, na, 0, "Harir"),
        ("us-killed-unknown", "militias", "rocket", 1, 0, 3, na, "Camp Taji"),
        ("strike-no-counts", "us", "airstrike", na, na, na, na, "depot"),
    ]
    frame = pd.DataFrame(rows, columns=["event_id", "side", "kind", "fatalities", "injuries", "munitions", "us_killed", "target"])
    events = make_events([(r.event_id, "2024-01-01", r.side, r.kind) for r in frame.itertuples()])
    for col in ("fatalities", "injuries", "munitions", "us_killed"):
        events[col] = pd.array(frame[col].tolist(), dtype="Int64")
    events["target"] = frame["target"].astype("string").to_numpy()
    return events


def test_spec_ladder_levels_by_hand():
    placed = assign_severity(twelve_events(), spec_ladder()).set_index("event_id")
    rank = placed["severity_rank"]
    reason = placed["severity_reason"]
    # rules are read top-down; the first that holds places the event
    expected = {
        "commander": (4, "rule 'commander killed'"),  # 2 killed, target names a commander
        "us-killed": (4, "rule 'US personnel killed'"),  # a militia attack, us_killed 3
        "five-killed": (4, "rule 'five or more killed'"),  # 16 >= 5
        "many-wounded": (4, "rule 'twenty or more wounded'"),  # 110 >= 20, nobody killed
        "killed": (3, "rule 'killed'"),  # 1 killed, not a US person (us_killed 0)
        "wounded": (2, "rule 'wounded'"),
        "salvo": (1, "rule 'ten or more munitions'"),  # 17 rockets, no casualties
        "strike": (1, "rule 'air, drone or missile strike'"),  # 5 munitions, but an airstrike
        "nothing": (0, "rule 'no casualties'"),  # 0, 0, 2 rockets
    }
    for event, (level, why) in expected.items():
        assert rank[event] == level, event
        assert reason[event] == why, event
    assert placed.loc["many-wounded", "severity_level"] == TOP
    assert placed.loc["nothing", "severity_level"] == "0 no casualties"


def test_missing_inputs_give_unknown_never_zero():
    placed = assign_severity(twelve_events(), spec_ladder()).set_index("event_id")
    for event in ("no-counts", "munitions-missing", "us-killed-unknown", "strike-no-counts"):
        assert placed.loc[event, "severity_level"] == UNKNOWN, event
        assert pd.isna(placed.loc[event, "severity_rank"]), event
    # no counts at all: nothing holds (commander fails on the target), 'US personnel killed' is
    # the highest rule that might: no bounds
    row = placed.loc["no-counts"]
    assert pd.isna(row["severity_low"]) and pd.isna(row["severity_high"])
    assert row["severity_reason"] == f"unknown: rule 'US personnel killed' ({TOP}) needs fatalities, us_killed"
    # no casualties holds (level 0) but ten-or-more-munitions (level 1) is undecided
    row = placed.loc["munitions-missing"]
    assert (row["severity_low"], row["severity_high"]) == (0, 1)
    assert row["severity_reason"] == ("unknown: at least 0 no casualties by rule 'no casualties'; "
                                      "rule 'ten or more munitions' (1 heavy fire or strike) needs munitions")
    # one killed: at least 'killed' (3); US personnel killed (4) undecided for want of us_killed
    row = placed.loc["us-killed-unknown"]
    assert (row["severity_low"], row["severity_high"]) == (3, 4)
    assert "needs us_killed" in row["severity_reason"]
    # an airstrike without counts: at least 1 (a strike), perhaps 4
    assert (placed.loc["strike-no-counts", "severity_low"], placed.loc["strike-no-counts", "severity_high"]) == (1, 4)
    # the score column: missing stays missing
    assert pd.isna(placed.loc["no-counts", "severity_score"]) and placed.loc["five-killed", "severity_score"] == 16


def test_side_condition_limits_a_rule_to_the_acting_side():
    events = twelve_events()
    # the same casualties by the other side: us_killed only counts for a militia attack
    events.loc[events["event_id"] == "us-killed", "side"] = "us"
    placed = assign_severity(events, spec_ladder()).set_index("event_id")
    # 3 killed, 5 wounded, target not a commander, not a militia attack: 'killed'
    assert placed.loc["us-killed", "severity_rank"] == 3


def test_missing_as_zero_is_explicit():
    section = yaml.safe_load(US_IRAN.read_text())["severity"]
    ladder = parse_ladder({**section, "missing_as_zero": ["munitions"]}, origin="test.yaml")
    placed = assign_severity(twelve_events(), ladder).set_index("event_id")
    # munitions missing read as 0: only 'no casualties' can hold
    assert placed.loc["munitions-missing", "severity_rank"] == 0
    assert placed.loc["munitions-missing", "severity_reason"] == (
        "rule 'no casualties'; munitions missing, read as 0 (missing_as_zero)")


def test_no_rule_applies_is_unknown():
    ladder = parse_ladder({"levels": ["low", "high"], "rules": [
        {"name": "big", "level": "high", "min": {"fatalities": 10}},
        {"name": "small", "level": "low", "max": {"fatalities": 2}},
    ]}, origin="t.yaml")
    events = make_events([("a", "2020-01-01", "A", "rocket"), ("b", "2020-01-01", "A", "rocket"),
                          ("c", "2020-01-01", "A", "rocket")], fatalities=pd.array([5, 1, 12], dtype="Int64"))
    placed = assign_severity(events, ladder).set_index("event_id")
    # 5 killed: neither rule holds (5 < 10, 5 > 2)
    assert placed.loc["a", "severity_level"] == UNKNOWN
    assert placed.loc["a", "severity_reason"] == "unknown: no rule of the ladder applies"
    assert placed.loc["b", "severity_level"] == "0 low" and placed.loc["c", "severity_level"] == "1 high"


def test_fatalities_scale_of_the_israel_palestinians_spec():
    ladder = spec_ladder(ISRAEL)
    assert ladder.levels == ("one killed", "2-4 killed", "5-9 killed", "10 or more killed") and not ladder.rules
    fat = pd.array([1, 2, 4, 5, 9, 10, 275, None, 0], dtype="Int64")
    events = make_events([(f"e{i}", "2001-01-01", "israel", "shooting") for i in range(len(fat))], fatalities=fat)
    placed = assign_severity(events, ladder)
    # the last level whose 'from' the count reaches: 1 -> 0; 2, 4 -> 1; 5, 9 -> 2; 10, 275 -> 3
    assert placed["severity_rank"].tolist()[:7] == [0, 1, 1, 2, 2, 3, 3]
    assert placed["severity_reason"].iloc[4] == "fatalities = 9 (>= 5)"
    assert placed["severity_reason"].iloc[7] == "unknown: fatalities missing"
    # 0 killed is below the first level's 'from': not a silent level 0
    assert placed["severity_level"].iloc[8] == UNKNOWN
    assert placed["severity_reason"].iloc[8] == "unknown: fatalities = 0 is beyond the least severe level's from"


def test_goldstein_scale_runs_downwards():
    ladder = parse_ladder({"score": "weight", "more_severe": "lower",
                           "levels": ["mild", {"name": "hostile", "from": -5}, {"name": "violent", "from": -9}]},
                          origin="gdelt.yaml")
    events = make_events([(f"g{i}", "2020-01-01", "A", "other") for i in range(5)],
                         weight=pd.array([3.4, -4.9, -5.0, -10.0, None], dtype="Float64"))
    placed = assign_severity(events, ladder)
    # -4.9 is above -5: mild; -5 reaches 'hostile'; -10 reaches 'violent'
    assert placed["severity_level"].astype(str).tolist() == ["0 mild", "0 mild", "1 hostile", "2 violent", UNKNOWN]
    assert placed["severity_reason"].iloc[2] == "weight = -5 (<= -5)"


def test_default_ladder_when_the_spec_has_no_section(tmp_path):
    text = US_IRAN.read_text()
    raw = yaml.safe_load(text)
    raw.pop("severity")
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert ladder_from_spec(load_dyad(path)) is DEFAULT_LADDER
    placed = assign_severity(twelve_events(), DEFAULT_LADDER).set_index("event_id")
    # the default has no side rule: the militia attack that killed 3 US troops is 'killed'...
    assert placed.loc["us-killed", "severity_rank"] == 3
    # ...and 'leader killed' reads the target: 'commander' matches
    assert placed.loc["commander", "severity_reason"] == "rule 'leader killed'"


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"colour": "red"}, "severity:", "unknown key(s) 'colour'"),
        ({"rules": [{"name": "x", "level": "killed", "min": {"fatalities": 1}, "when": 1}]}, "severity.rules[0]:",
         "unknown key(s) 'when'"),
        ({"rules": [{"name": "x", "level": "dead", "min": {"fatalities": 1}}]}, "severity.rules[0].level:",
         "'dead' is not a level"),
        ({"rules": [{"name": "w", "level": "wounded", "min": {"injuries": 1}},
                    {"name": "k", "level": "killed", "min": {"fatalities": 1}}]},
         "severity.rules[1].level:", "list rules from the most severe level down"),
        ({"rules": [{"name": "x", "level": 0, "kind": ["rockets"]}]}, "severity.rules[0].kind:",
         "['rockets'] not among the kinds"),
        ({"rules": [{"name": "x", "level": 0, "side": ["iran"]}]}, "severity.rules[0].side:", "not among the dyad's sides"),
        ({"rules": [{"name": "x", "level": 0, "min": {"fatalities": "one"}}]}, "severity.rules[0].min.fatalities:",
         "expected a number"),
        ({"rules": [{"name": "x", "level": 0, "matches": {"target": "(commander"}}]}, "severity.rules[0].matches.target:",
         "not a valid regular expression"),
        ({"rules": [{"name": "x", "level": 0}]}, "severity.rules[0]:", "at least one condition"),
        ({"levels": ["a", "a"]}, "severity.levels[1]:", "listed twice"),
    ],
)
def test_bad_ladders_name_the_file_and_the_key(tmp_path, change, key, words):
    raw = yaml.safe_load(US_IRAN.read_text())
    raw["severity"] = {**raw["severity"], **change}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ValueError) as err:
        ladder_from_spec(load_dyad(path))
    assert str(err.value).startswith(f"{path}: {key}")
    assert words in str(err.value)


def test_score_levels_out_of_order():
    with pytest.raises(ValueError, match=r"^x.yaml: severity.levels\[2\].from: 3 is not above the previous level's 5"):
        parse_ladder({"score": "fatalities", "levels": ["one", {"name": "five", "from": 5}, {"name": "three", "from": 3}]},
                     origin="x.yaml")
    with pytest.raises(ValueError, match=r"severity.levels\[1\]: every level but the first needs a 'from'"):
        parse_ladder({"score": "fatalities", "levels": ["one", "two"]}, origin="x.yaml")
    with pytest.raises(ValueError, match=r"severity: a ladder needs 'rules' or a 'score'"):
        parse_ladder({"levels": ["one", "two"]}, origin="x.yaml")


def test_unknown_column_names_the_spec_and_the_key():
    raw = yaml.safe_load(US_IRAN.read_text())["severity"]
    ladder = parse_ladder(raw, origin="dyads/us-iran-proxies.yaml")
    events = twelve_events().drop(columns="us_killed")
    with pytest.raises(ValueError, match=r"^dyads/us-iran-proxies.yaml: severity.rules\[1\].min.us_killed: "
                                         r"rule 'US personnel killed' "
                                         r"reads column 'us_killed', which the events table does not have"):
        assign_severity(events, ladder)


def test_events_are_not_modified():
    events = twelve_events()
    before = events.copy()
    assign_severity(events, spec_ladder())
    pd.testing.assert_frame_equal(events, before)


# --- answers -------------------------------------------------------------------------------------


def ladder_0_to_4():
    return parse_ladder({"score": "fatalities", "levels": ["L0", *({"name": f"L{k}", "from": k} for k in range(1, 5))]},
                        origin="t.yaml")


def answer_pairs():
    """Alternating events, each answering the one before within a 7-day window."""
    # day: event (fatalities)   1: a1 (1)  3: b1 (1)  8: a2 (1)  10: b2 (3)  15: a3 (3)  16: b3 (1)
    # 20: a4 (2)  22: b4 (missing)  27: a5 (0), then nothing
    # A's answers: a1 1 -> 1 match; a2 1 -> 3 escalate; a3 3 -> 1 de-escalate; a4 2 -> ? unknown;
    # a5 unanswered. B's: b1 1 -> 1 (a2); b2 3 -> 3 (a3); b3 1 -> 2 (a4); b4 ? -> 0 (a5)
    rows = [("a1", 1, "A", 1), ("b1", 3, "B", 1), ("a2", 8, "A", 1), ("b2", 10, "B", 3), ("a3", 15, "A", 3),
            ("b3", 16, "B", 1), ("a4", 20, "A", 2), ("b4", 22, "B", None), ("a5", 27, "A", 0)]
    events = make_events([(i, pd.Timestamp("2020-01-01") + pd.Timedelta(days=d), s, "rocket") for i, d, s, _ in rows],
                         fatalities=pd.array([f for *_, f in rows], dtype="Int64"))
    return assign_severity(events, ladder_0_to_4())


def test_labels_of_matching_escalating_and_de_escalating_answers():
    events = answer_pairs()
    cycles = build_cycles(events, window_days=7, study_end="2020-12-31")
    answers = label_answers(cycles, events).set_index("trigger_id")
    assert answers.loc["a1", "escalation"] == "match"  # 1 -> 1
    assert answers.loc["a2", "escalation"] == "escalate"  # 1 -> 3
    assert answers.loc["a3", "escalation"] == "de-escalate"  # 3 -> 1
    assert answers.loc["a4", "escalation"] == UNKNOWN  # 2 -> missing
    assert pd.isna(answers.loc["a5", "escalation"])  # no answer within 7 days
    assert answers.loc["a2", "level_difference"] == 2 and answers.loc["a3", "level_difference"] == -2
    # ranks stay whole numbers, missing where unknown or unanswered, whatever the data
    assert answers["trigger_rank"].dtype == "Int64" and answers["response_rank"].dtype == "Int64"
    assert pd.isna(answers.loc["a5", "response_rank"]) and answers.loc["a1", "response_rank"] == 1
    assert (answers.loc["a2", "trigger_level"], answers.loc["a2", "response_level"]) == ("1 L1", "3 L3")
    # proportionality: b2 killed 3 after a2 killed 1 -> 3.0; a5 unanswered -> missing; the
    # answer to b3 (a4, 2 killed) after b3's 1 -> 2.0
    assert answers.loc["a2", "proportionality"] == 3.0 and answers.loc["b3", "proportionality"] == 2.0
    assert pd.isna(answers.loc["a5", "proportionality"])


def test_tolerance_widens_match():
    events = answer_pairs()
    cycles = build_cycles(events, window_days=7, study_end="2020-12-31")
    answers = label_answers(cycles, events, tolerance=2).set_index("trigger_id")
    # a change of 2 levels is within a tolerance of 2
    assert answers.loc[["a1", "a2", "a3"], "escalation"].tolist() == ["match"] * 3
    answers = label_answers(cycles, events, tolerance=1).set_index("trigger_id")
    assert answers.loc[["a1", "a2", "a3"], "escalation"].tolist() == ["match", "escalate", "de-escalate"]
    with pytest.raises(ValueError, match="tolerance must be a whole number"):
        label_answers(cycles, events, tolerance=-1)


def test_bounds_decide_a_label_when_every_possible_level_agrees():
    events = make_events([("t", "2020-01-01", "A", "drone"), ("r", "2020-01-02", "B", "airstrike"),
                          ("t2", "2020-02-01", "A", "drone"), ("r2", "2020-02-02", "B", "airstrike")])
    for col, values in (("fatalities", [0, 16, 0, 0]), ("injuries", [0, 0, 0, 0]), ("munitions", [None, 85, None, 3])):
        events[col] = pd.array(values, dtype="Int64")
    events["target"] = pd.array(["base", "depot", "base", "depot"], dtype="string")
    placed = assign_severity(events, DEFAULT_LADDER)
    # t: no casualties, munitions unknown -> level 0 or 1; r: 16 killed -> 4: escalates either way
    # r2: an airstrike without casualties -> 1; after t2 (0 or 1) it matches or escalates: unknown
    answers = label_answers(build_cycles(placed, window_days=7, study_end="2020-03-01"), placed).set_index("trigger_id")
    assert answers.loc["t", "trigger_level"] == UNKNOWN and answers.loc["t", "escalation"] == "escalate"
    assert answers.loc["t2", "escalation"] == UNKNOWN
    assert label_answers(build_cycles(placed, window_days=7, study_end="2020-03-01"), placed, tolerance=1).set_index(
        "trigger_id").loc["t2", "escalation"] == "match"  # a change of 0 or 1, both within 1


def test_escalation_matrix_by_hand():
    events = answer_pairs()
    answers = label_answers(build_cycles(events, window_days=7, study_end="2020-12-31"), events)
    matrix = escalation_matrix(answers)
    a = matrix_table(matrix, "A")
    # A's answered triggers: a1 (L1 -> L1), a2 (L1 -> L3), a3 (L3 -> L1), a4 (L2 -> unknown)
    assert list(a.index) == ["0 L0", "1 L1", "2 L2", "3 L3", "4 L4", UNKNOWN]
    assert list(a.columns) == list(a.index)
    assert a.loc["1 L1", "1 L1"] == 1 and a.loc["1 L1", "3 L3"] == 1 and a.loc["3 L3", "1 L1"] == 1
    assert a.loc["2 L2", UNKNOWN] == 1 and int(a.to_numpy().sum()) == 4
    # B's: b1 (L1) -> a2 (L1), b2 (L3) -> a3 (L3), b3 (L1) -> a4 (L2); b4 (unknown) -> a5 (L0)
    b = matrix_table(matrix, "B")
    assert b.loc["1 L1", "1 L1"] == 1 and b.loc["3 L3", "3 L3"] == 1 and b.loc["1 L1", "2 L2"] == 1
    assert b.loc[UNKNOWN, "0 L0"] == 1 and int(b.to_numpy().sum()) == 4
    shares = matrix_table(matrix, "B", value="row_share")
    assert shares.loc["1 L1", "1 L1"] == 0.5 and np.isnan(shares.loc["0 L0", "0 L0"])
    with_none = matrix_table(escalation_matrix(answers, include_unanswered=True), "A")
    assert with_none.loc["0 L0", "no response"] == 1  # a5


def test_binned_response_curve_by_hand():
    events = answer_pairs()
    answers = label_answers(build_cycles(events, window_days=7, study_end="2020-12-31"), events)
    curve = response_curve(answers).set_index(["trigger_side", "trigger_level"])
    row = curve.loc[("A", "1 L1")]
    # a1 and a2 are at L1, both answered, answers at L1 and L3: mean 2, t interval with sd sqrt(2):
    # 2 +- t(0.975, 1) * sqrt(2) / sqrt(2) = 2 +- 12.7062
    assert (row["triggers"], row["answered"], row["mean_response_rank"]) == (2, 2, 2.0)
    np.testing.assert_allclose([row["mean_low"], row["mean_high"]], [2 - 12.706205, 2 + 12.706205], atol=1e-5)
    # Wilson interval of k = n: centre (1 + z^2/2n) / (1 + z^2/n) and half-width (z^2/2n) / (1 + z^2/n),
    # so n / (n + z^2) .. 1; z = 1.959964, n = 2: 2 / 5.841459 = 0.342380
    np.testing.assert_allclose([row["share_low"], row["share_high"]], [0.342380, 1.0], atol=1e-6)
    row = curve.loc[("A", "0 L0")]  # a5: one trigger, not answered
    assert (row["triggers"], row["answered"], row["share_answered"]) == (1, 0, 0.0)
    np.testing.assert_allclose(row["share_high"], 0.793451, atol=1e-6)  # Wilson upper bound of 0/1: z^2 / (1 + z^2)
    assert pd.isna(row["share_escalate"])  # no labelled answer
    assert curve.loc[("A", "1 L1"), "share_escalate"] == 0.5 and curve.loc[("A", "1 L1"), "share_match"] == 0.5


def test_study_end_censoring_is_left_out_of_the_curve():
    events = answer_pairs()
    # the data end 3 days after a5 (28 Jan): its 7-day window is incomplete
    answers = label_answers(build_cycles(events, window_days=7, study_end="2020-01-31"), events)
    row = response_curve(answers).set_index(["trigger_side", "trigger_level"]).loc[("A", "0 L0")]
    assert (row["triggers"], row["incomplete"]) == (0, 1)


def test_response_curves_recover_a_simulated_dyad():
    """Answers whose probability and level grow with the trigger's level (known truth)."""
    truth = {"answer_logit": (-2.0, 0.8), "level_shift": (0.2, 0.5, 0.3)}
    events = graded_exchanges(days=80000, base_rate=(0.006, 0.006), start="2000-01-01", seed=1, **truth)
    levels = ["L0", *({"name": f"L{k}", "from": k} for k in range(1, 5))]
    ladder = parse_ladder({"score": "level", "levels": levels}, origin="sim")
    placed = assign_severity(events, ladder)
    # answers come one day later, so a one-day window keeps other answers out (mostly)
    answers = label_answers(build_cycles(placed, window_days=1, study_end=events["date"].max()), placed)
    p_true, level_true = graded_answer_truth(np.arange(5), n_levels=5, **truth)  # 0.119 .. 0.769; 0.3 .. 3.8
    curve = response_curve(answers)
    curve = curve.loc[curve["trigger_level"] != UNKNOWN]
    assert len(curve) == 10
    inside = (curve["share_low"] <= np.tile(p_true, 2)) & (np.tile(p_true, 2) <= curve["share_high"])
    assert inside.sum() >= 9  # 95% intervals: about one bin in twenty may miss
    inside = (curve["mean_low"] <= np.tile(level_true, 2)) & (np.tile(level_true, 2) <= curve["mean_high"])
    assert inside.sum() >= 8  # the means also carry a little contamination from other events
    models = response_models(answers)
    logit = models.coefficients.loc[models.coefficients["model"] == "logit answered"]
    assert ((logit["ci_low"] <= 0.8) & (logit["ci_high"] >= 0.8)).all()  # the true slope per level
    ordered = models.coefficients.loc[models.coefficients["model"] == "ordered logit level"]
    assert (ordered["coef"] > 0).all() and (ordered["p_value"] < 1e-10).all()
    for _, pred in models.predictions.groupby("trigger_side"):
        assert np.all(np.diff(pred["p_answered"]) > 0) and np.all(np.diff(pred["expected_response_rank"]) > 0)


def test_response_models_warn_instead_of_failing():
    events = answer_pairs()
    answers = label_answers(build_cycles(events, window_days=7, study_end="2020-12-31"), events)
    with pytest.warns(ResponseCurveWarning, match="not fitted"):
        models = response_models(answers)
    assert models.coefficients["coef"].isna().all()


def test_real_spec_ladder_on_the_curated_events():
    """Every curated event gets a level or 'unknown' with a reason; no rule is dead."""
    from analysis.dyads import assign_sides
    from analysis.sources import load_source

    spec = load_dyad(US_IRAN)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = load_source(spec.sources[0], spec=spec).events
    events, _ = assign_sides(loaded, spec)
    placed = assign_severity(events, ladder_from_spec(spec))
    assert placed["severity_reason"].notna().all()
    assert (placed["severity_level"] == UNKNOWN).sum() == placed["severity_rank"].isna().sum()
    fired = {r.split("'")[1] for r in placed["severity_reason"] if r.startswith("rule ")}
    assert fired == {r.name for r in ladder_from_spec(spec).rules}
    # Tower 22 (28 Jan 2024): three US soldiers killed -> the top level
    assert placed.set_index("event_id").loc["usi-2024-01-28-4", "severity_reason"] == "rule 'US personnel killed'"


# --- figures ---------------------------------------------------------------------------------------


def test_episode_levels_figure_draws_known_and_unknown_levels():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis import plots

    events = answer_pairs()  # ranks a1 1, b1 1, a2 1, b2 3, a3 3, b3 1, a4 2, b4 unknown, a5 0
    fig = plots.episode_levels(events, sides=["A", "B"], start="2020-01-02", end="2020-01-17", labels={"A": "side A"})
    ax = fig.axes[0]
    points = [c.get_offsets() for c in ax.collections]
    # A from 2 to 17 Jan: a1, a2, a3 at levels 1, 1, 3; B: b1, b2, b3 at 1, 3, 1 (b4 is on the 23rd: outside)
    assert [list(p[:, 1]) for p in points] == [[1, 1, 3], [1, 3, 1]]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["unknown", "0 L0", "1 L1", "2 L2", "3 L3", "4 L4"]
    fig = plots.episode_levels(events, sides=["A", "B"], start="2020-01-20", end="2020-01-28")
    unknown = [c for c in fig.axes[0].collections if "unknown" in c.get_label()]
    assert len(unknown) == 1 and list(unknown[0].get_offsets()[:, 1]) == [-1.0]  # b4
    plt.close("all")


def test_response_curves_figure_draws_bins_and_model_lines():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis import plots

    events = graded_exchanges(days=20000, base_rate=(0.01, 0.01), start="2000-01-01", seed=3)
    levels = ["L0", *({"name": f"L{k}", "from": k} for k in range(1, 5))]
    ladder = parse_ladder({"score": "level", "levels": levels}, origin="sim")
    placed = assign_severity(events, ladder)
    answers = label_answers(build_cycles(placed, window_days=1, study_end=events["date"].max()), placed)
    curve, models = response_curve(answers), response_models(answers)
    fig = plots.response_curves(curve, models.predictions, labels={"A": "side A"})
    left, right = fig.axes
    # the first line of each panel is side A's model curve, through the predictions
    a_pred = models.predictions.loc[models.predictions["trigger_side"] == "A"]
    model_lines = [ln for ln in left.lines if len(ln.get_xdata()) == 5 and ln.get_linestyle() == "-"]
    assert any(np.allclose(ln.get_ydata(), a_pred["p_answered"]) for ln in model_lines)
    assert [t.get_text() for t in left.get_legend().get_texts()] == ["after side A", "after B"]
    assert [t.get_text() for t in right.get_yticklabels()] == ["0 L0", "1 L1", "2 L2", "3 L3", "4 L4"]
    plt.close("all")


def test_a_text_column_with_no_value_leaves_its_rule_undecided():
    # a source without targets: 'commander killed' (the first rule) cannot be decided for the
    # event with 2 killed, so its level is unknown between 'killed' and the top; the event with
    # nobody killed fails that rule on fatalities and is placed
    events = twelve_events().loc[lambda e: e["event_id"].isin(["killed", "nothing"])].reset_index(drop=True)
    events["target"] = pd.array([None, None], dtype="string")
    events.loc[events["event_id"] == "killed", "fatalities"] = 2
    placed = assign_severity(events, spec_ladder()).set_index("event_id")
    assert placed.loc["killed", "severity_level"] == UNKNOWN
    assert (placed.loc["killed", "severity_low"], placed.loc["killed", "severity_high"]) == (3, 4)
    reason = placed.loc["killed", "severity_reason"]
    assert "rule 'commander killed'" in reason and "needs target" in reason
    assert placed.loc["nothing", "severity_rank"] == 0
