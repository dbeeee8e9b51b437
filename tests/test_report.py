"""The sentences of a report, from hand-built tables whose answers are worked out beside the asserts."""

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from analysis import report
from analysis.htmlpage import active_content
from tests.conftest import ROOT, make_events

LABELS = {"a": "Side A", "b": "Side B"}


def _cycles(rows, window=10):
    """Cycles rows ``(trigger_id, trigger_side, interval_days, censored)``."""
    frame = pd.DataFrame(rows, columns=["trigger_id", "trigger_side", "interval_days", "censored"])
    frame["censor_reason"] = np.where(frame["censored"], "window_end", None)
    frame["window_days"] = window
    return frame


# a: five events, b answered four after 1, 2, 2 and 5 days; b: two events, a answered one after 3 days
CYCLES = _cycles([("a1", "a", 1, False), ("a2", "a", 2, False), ("a3", "a", 2, False), ("a4", "a", 5, False),
                  ("a5", "a", 10, True), ("b1", "b", 3, False), ("b2", "b", 10, True)])


def test_timing_sentence_gives_share_interval_median_and_quartiles():
    km = pd.DataFrame({"group": ["a"], "median": [2.0], "median_lower": [1.0], "median_upper": [np.nan]})
    a, b = report.timing_sentences(CYCLES, km, labels=LABELS)
    # 4 of 5 = 80%; Wilson 95% interval for 4/5: 37.6%-96.4%; answered waits 1, 2, 2, 5: median 2,
    # quartiles (linear) 1.75 and 2.75
    assert a.text.startswith("Side B answered 4 of the 5 events of Side A within 10 days (80%; 95% interval 38%\u201396%)")
    assert "the median wait was 2 days (quartiles 1.75\u20132.75)" in a.text
    assert "(Kaplan-Meier), it was 2 days (95% interval 1\u2013not reached days)" in a.text
    # a band with no lower end (as on a simulated dyad where every event is answered the next day)
    # is left out, not written 'n/a-not reached'
    bare = km.assign(median_lower=np.nan)
    (no_band, _) = report.timing_sentences(CYCLES, bare, labels=LABELS)
    assert "(Kaplan-Meier), it was 2 days." in no_band.text and "n/a" not in no_band.text
    assert a.html.endswith(f'<a class="section-link" href="{report.anchor("timing")}">(more)</a>')
    # b: 1 of 2, median 3 (quartiles 3-3); no Kaplan-Meier row for b: no KM clause
    assert b.text.startswith("Side A answered 1 of the 2 events of Side B within 10 days (50%")
    assert "Kaplan-Meier" not in b.text


def test_timing_sentence_when_nothing_is_answered():
    (s,) = report.timing_sentences(_cycles([("a1", "a", 10, True), ("a2", "a", 10, True)]), None, labels=LABELS)
    assert s.status == "warning" and s.text.startswith("the other side answered none of the 2 events of Side A")


def _ratio(direction="a -> b", observed=0.5, null_mean=0.1, p=0.01, **extra):
    rows = [dict(direction=direction, statistic="response_ratio", observed=observed, null_mean=null_mean, null_low=0.02,
                 null_high=0.2, p_value=p, draws=999, k_days=7, window_days=30, **extra),
            dict(direction=direction, statistic="median_interval", observed=2.0, null_mean=9.04, null_low=3.0,
                 null_high=16.0, p_value=0.3, draws=999, k_days=7, window_days=30, **extra)]
    return pd.DataFrame(rows)


def test_chance_sentence_against_the_null():
    (s,) = report.chance_sentences(_ratio(), labels=LABELS)
    assert s.status == "ok"
    assert s.text == ("Within 7 days, 50% of the events of Side A were followed by an event of Side B, against 10% on average "
                      "(95% of draws 2%\u201320%) when one side's dates are shifted at random: more than chance (p = 0.010, "
                      "999 circular shifts); answers within 30 days came no sooner than chance (median 2 days against 9.0 "
                      "days, p = 0.300). (more)")
    (s,) = report.chance_sentences(_ratio(p=0.2), labels=LABELS)
    assert "not more than chance (p = 0.200" in s.text


def test_a_degenerate_response_ratio_is_said_so_and_not_quoted():
    table = _ratio(observed=0.97, null_mean=0.96, degenerate=True, degenerate_reason="the null answers 96% of events")
    (s,) = report.chance_sentences(table, labels=LABELS)
    assert s.status == "degenerate"
    assert s.text.startswith("Timing cannot tell answers from chance for Side A \u2192 Side B")
    # null mean 96%, its 95% range 2%-20% (the table's made-up quantiles); the reason is the caveat's
    assert "96% of the events of Side A" in s.text and "(95% of draws 2%\u201320%)" in s.text
    assert "the null answers" not in s.text
    assert "97%" not in s.text and "p = " not in s.text  # the observed ratio and its p-value are not quoted
    (w,) = report.warning_caveats(labels=LABELS, response_ratio=table)
    assert w.section == "chance" and "is degenerate: the null answers 96% of events" in w.text


def test_p_below_a_thousandth_is_written_as_a_bound_in_escaped_html():
    (s,) = report.chance_sentences(_ratio(p=0.0001), labels=LABELS)
    assert "(p &lt; 0.001," in s.html and "(p < 0.001," in s.text


def _hawkes(alpha_ab=0.5, alpha_ba=0.1, self_a=0.3, self_b=0.2):
    # alpha[target, source]: expected target events one source event triggers
    rows = [("mu[a]", "mu", "a", None, 0.01, 0.001), ("mu[b]", "mu", "b", None, 0.02, 0.002),
            ("alpha[a,a]", "alpha", "a", "a", self_a, 0.05), ("alpha[a,b]", "alpha", "a", "b", alpha_ba, 0.02),
            ("alpha[b,a]", "alpha", "b", "a", alpha_ab, 0.1), ("alpha[b,b]", "alpha", "b", "b", self_b, 0.05),
            ("beta", "beta", None, None, 0.3, 0.05)]
    return pd.DataFrame(rows, columns=["label", "parameter", "target", "source", "estimate", "se"])


def test_hawkes_sentence_with_bootstrap_intervals_and_standard_errors():
    boot = pd.DataFrame({"label": ["alpha[b,a]"], "ci_low": [0.21], "ci_high": [0.93]})
    (s,) = report.hawkes_sentences(_hawkes(), boot, labels=LABELS)
    # a -> b from the bootstrap; b -> a from its SE: 0.1 +/- 1.96 * 0.02 = 0.06-0.14
    assert s.text == ("In the Hawkes model, each event of Side A triggers on average 0.50 events of Side B (95% bootstrap "
                      "interval 0.21\u20130.93); each event of Side B triggers on average 0.10 events of Side A (\u00b1 1.96 "
                      "standard errors 0.06\u20130.14). (more)")


def test_a_failed_or_explosive_hawkes_fit_is_said_so():
    (s,) = report.hawkes_sentences(pd.DataFrame(columns=["label", "parameter", "target", "source", "estimate", "se"]),
                                   labels=LABELS)
    assert s.status == "failed" and "gave no estimate" in s.text
    (s,) = report.hawkes_sentences(_hawkes(alpha_ab=np.nan), labels=LABELS)
    assert s.status == "failed"
    # self-excitation 0.9 each and cross 0.5 each: eigenvalues 1.4 and 0.4, branching ratio 1.4
    explosive = _hawkes(alpha_ab=0.5, alpha_ba=0.5, self_a=0.9, self_b=0.9)
    (s,) = report.hawkes_sentences(explosive, labels=LABELS)
    assert s.status == "failed" and "explosive (branching ratio 1.40" in s.text and "0.50" not in s.text
    (w,) = report.warning_caveats(labels=LABELS, hawkes_params=explosive)
    assert "branching ratio is 1.40" in w.text


def test_granger_sentences():
    table = pd.DataFrame({"causing": ["a", "b"], "caused": ["b", "a"], "lags": [14, 14], "F": [2.4022, 1.1],
                          "df_num": [14, 14], "df_denom": [3752, 3752], "p": [0.00241, 0.35]})
    a, b = report.granger_sentences(table, labels=LABELS)
    assert a.text == ("Past events of Side A help predict the events of Side B (Granger test, 14 daily lags: F(14, 3752) = "
                      "2.40, p = 0.002). (more)")
    assert "do not help predict" in b.text and "p = 0.350" in b.text
    (s,) = report.granger_sentences(table.iloc[0:0], labels=LABELS)
    assert s.status == "failed"


def test_pause_sentence_counts_who_ends_pauses():
    enders = pd.DataFrame({"pause_length_days": ["1", "2-3", "4-7", "8-14", "15-30", "31+"],
                           "pauses": [10, 5, 5, 4, 1, 0], "ended_by_a": [2, 1, 1, 0, 0, 0],
                           "ended_by_b": [7, 4, 4, 4, 1, 0], "ended_by_both": [1, 0, 0, 0, 0, 0]})
    (s,) = report.pause_sentences(enders, labels=LABELS)
    # all: 25 pauses, b 20 (80%), a 4 (16%), both 1; 8 days or more: 5 pauses, all ended by b
    assert s.text.startswith("Of the 25 pauses (runs of days with no event of either side), Side B ended 20 (80%;")
    assert "Side A ended 4 (16%;" in s.text and "both sides on the same day 1;" in s.text
    assert "of the 5 pauses of 8 days or more, Side B ended 5 (100%;" in s.text


def test_spacetime_sentence_picks_the_strongest_significant_band():
    table = pd.DataFrame({"direction": ["a -> b"] * 3, "d_lo_km": [0, 0, 10], "d_hi_km": [10, 10, 50],
                          "t_lo_days": [0, 7, 0], "t_hi_days": [7, 14, 7], "observed": [12, 2, 30],
                          "expected": [3.9, 0.2, 20.0], "ratio": [3.08, 10.0, 1.5], "p_value": [0.01, 0.02, 0.04]})
    (s,) = report.spacetime_sentences(table, labels=LABELS)
    # the 10x band has only 2 pairs (fewer than 3): the strongest is 3.1x
    # (0, 7] days are days 1 to 7; three bands tested: 0.05 x 3 = 0.15 pass by chance, shown 0.2
    assert s.text == ("Events of Side B within 0\u201310 km and 1\u20137 days after an event of Side A are 3.1 times as frequent "
                      "as chance would give (12 pairs against 3.9 expected, p = 0.010); 2 of the 3 bands tested pass p < 0.05, "
                      "where chance alone would pass about 0.2. (more)")
    assert report.days_band(0, 1) == "1 day" and report.days_band(7, 14) == "8\u201314 days"
    (s,) = report.spacetime_sentences(table.assign(p_value=0.5), labels=LABELS)
    assert s.text.startswith("No distance and time band holds more pairs")
    assert report.spacetime_sentences(None, labels=LABELS) == []


def test_findings_of_a_report_with_a_failed_model_say_so():
    found = report.findings(labels=LABELS, cycles=CYCLES, response_ratio=_ratio(),
                            hawkes_params=_hawkes().iloc[0:0], var_granger=pd.DataFrame(
                                columns=["causing", "caused", "lags", "F", "df_num", "df_denom", "p"]))
    assert [s.section for s in found] == ["timing", "timing", "chance", "hawkes", "reaction"]
    assert [s.status for s in found][-2:] == ["failed", "failed"]


def test_sentences_escape_labels_from_the_spec():
    labels = {"a": "<script>alert(1)</script>", "b": '<img src=x onerror="alert(2)">'}
    found = report.findings(labels=labels, cycles=CYCLES, response_ratio=_ratio(), hawkes_params=_hawkes())
    page = report.sentences_html(found)
    assert active_content(page) == [] and "&lt;script&gt;" in page
    assert report.headline(CYCLES, labels=labels).startswith('<img src=x onerror="alert(2)"> answered')  # plain text


def test_headline():
    assert report.headline(CYCLES, labels=LABELS) == (
        "Side B answered 80% of the 5 events of Side A within 10 days (median 2 days); "
        "Side A answered 50% of the 2 events of Side B within 10 days (median 3 days).")


def test_coverage_caveat_states_the_latest_official_count_and_an_upper_bound():
    coverage = pd.DataFrame({
        "since": pd.to_datetime(["2021-01-01", "2023-10-17", "2023-10-17", "2023-10-17"]),
        "as_of": pd.to_datetime(["2023-03-23", "2023-10-24", "2023-11-30", "2024-02-02"]),
        "official": [78, 13, 73, 173], "qualifier": ["about", "exact", "exact", "exact"], "ours": [60, 16, 50, 111],
        "period_start": pd.to_datetime(["2021-01-01", "2023-10-17", "2023-10-25", "2023-12-01"]),
        "official_added": [78, 13, 60, 100], "ours_added": [60, 16, 34, 61]})
    coverage["coverage"] = coverage["ours"] / coverage["official"]
    coverage["period_coverage"] = coverage["ours_added"] / coverage["official_added"]
    coverage["bound"] = "estimate"
    official = coverage[["since", "as_of"]].assign(stated_by=["CENTCOM", "Pentagon", "Pentagon", "the Pentagon <b>"])
    (s,) = report.coverage_caveat(coverage, official, href="x--coverage.html")
    # the latest statement of the longest series (since 17 Oct 2023): 111 / 173 = 64%
    assert s.text.startswith("This dataset holds 111 of the 173 attacks in the official count from 17 Oct 2023 to "
                             "02 Feb 2024 (stated by the Pentagon <b>): 64%. See the coverage report.")
    assert '<a href="x--coverage.html">the coverage report</a>' in s.html and "&lt;b&gt;" in s.html
    upper = coverage.assign(qualifier="more_than", bound="upper")
    (s,) = report.coverage_caveat(upper)
    assert "of the more than 173 attacks" in s.text and ": at most 64%" in s.text
    assert report.coverage_caveat(None) == []


def test_side_caveats_attribution_low_confidence_missing_side_and_grouping():
    from analysis.dyads import load_dyad

    spec = load_dyad(ROOT / "dyads" / "us-iran-proxies.yaml")
    labels = {k: spec.label(k) for k in spec.side_keys}
    events = make_events([("e1", "2020-01-01", "militias", "rocket"), ("e2", "2020-01-02", "militias", "rocket"),
                          ("e3", "2020-01-03", "militias", "missile"), ("e4", "2020-01-04", "us", "airstrike"),
                          ("e5", "2020-01-05", None, "other")],
                         actor=["unidentified Iran-aligned militia", "Kataib Hezbollah", "Islamic Revolutionary Guard Corps",
                                "US forces", "someone"],
                         confidence=["low", "high", "high", "low", "medium"])
    found = {s.text.split(" ")[0]: s for s in report.side_caveats(events, spec, labels=labels)}
    # e1 is unclaimed (1 of 3 militia events); e1 and e4 low confidence (2 of 5); e5 no side; e3 is Iran's, grouped
    assert found["Unclaimed"].text.startswith("Unclaimed events whose side rests on an attribution")
    assert "1 of the 3 events of Iran-aligned militias (33%)" in found["Unclaimed"].text
    assert found["2"].text.startswith("2 of the 5 events (40%) are marked low confidence")
    assert found["1"].text.startswith("1 of the 5 events (20%) have no side")
    assert found["Iran"].text.startswith("Iran (state forces) is counted with Iran-aligned militias (the dyad spec groups them): "
                                         "1 of its events")


def test_model_caveats_count_rows_each_model_left_out_and_why():
    events = make_events([(f"a{i}", f"2020-01-0{i}", "a", "rocket") for i in range(1, 6)]
                         + [("b1", "2020-01-02", "b", "airstrike"), ("b2", "2020-01-03", "b", "airstrike")],
                         fatalities=pd.array([1, None, None, 0, 2, 1, None], dtype="Int64"))
    events.loc[events["event_id"] == "b2", "date_precision"] = "week"
    cox = pd.DataFrame({"model": ["b answering a", "b answering a"], "term": ["trigger_fatalities_log1p", "x"],
                        "n": [3, 3], "events": [3, 3]})
    models = [{"name": "b answering a", "trigger_side": "a", "covariates": ["trigger_fatalities_log1p"]}]
    triggered = pd.DataFrame({"side": ["a", "b"], "n_events": [5, 1]})
    cox_note, hawkes_note = report.model_caveats(cycles=CYCLES, events=events, cox=cox, cox_models=models,
                                                 hawkes_triggered=triggered, labels=LABELS)
    # side a has 5 triggers, the model used 3: 2 left out, a2 and a3 have no fatalities
    assert cox_note.text.startswith("The Cox model \u201cb answering a\u201d uses 3 of the 5 events of Side A: 2 (40%) are left "
                                    "out for a missing covariate (fatalities unknown for 2).")
    assert hawkes_note.text.startswith("The Hawkes model leaves out 1 of the 7 events (dated only to the week or month).")


def test_warning_caveats_from_the_tables():
    adf = pd.DataFrame({"series": ["a", "b"], "p": [0.31, 0.001]})
    km = pd.DataFrame({"group": ["a", "b"], "events": [4, 40]})
    gof = pd.DataFrame({"side": ["a", "b"], "p_value": [0.043, 0.4]})
    ph = pd.DataFrame({"term": ["x", "GLOBAL"], "p": [0.01, 0.02], "model": ["m", "m"]})
    stage = pd.DataFrame({"section": ["hawkes"], "message": ["did not converge <in 500 steps>"]})
    found = report.warning_caveats(labels=LABELS, var_adf=adf, km_summary=km, hawkes_gof=gof, ph_test=ph, stage_warnings=stage)
    assert [s.section for s in found] == ["reaction", "survival", "hawkes", "survival", "hawkes"]
    assert found[0].text.startswith("The daily series of Side A may have a unit root (ADF test p = 0.310)")
    assert found[1].text.startswith("Only 4 events of Side A were answered")
    assert "rejects the Hawkes fit for Side A (KS p = 0.043)" in found[2].text
    assert "proportional hazards rejected, p = 0.020" in found[3].text
    assert "&lt;in 500 steps&gt;" in found[4].html
    box = report.notes(found, "survival")
    assert box.count("<li>") == 2 and "section-link" not in box
    assert report.notes(found, "timing") == ""


def test_sensitivity_table_has_no_repeated_rows():
    rows = [(d, t, w, "a -> b", 10, 2.0, 0.5, 0.1) for d in ("on", "off") for t in ("exclude", "include") for w in (7, 14)]
    grid = pd.DataFrame(rows, columns=["dedup", "ties", "window_days", "direction", "events", "median_days",
                                       "response_ratio", "hawkes_cross_excitation"])
    table = report.sensitivity_table(grid)
    assert len(table) == 4 and set(table["dedup"]) == {"on = off"} and not table.duplicated().any()
    changed = grid.assign(median_days=np.where(grid["dedup"] == "off", 3.0, 2.0))
    assert len(report.sensitivity_table(changed)) == 8


def test_every_section_a_sentence_links_to_is_a_heading_of_the_report_notebook():
    nb = json.loads((ROOT / "notebooks" / "40-report.ipynb").read_text(encoding="utf-8"))
    headings = {line[3:].strip() for c in nb["cells"] if c["cell_type"] == "markdown"
                for line in "".join(c["source"]).splitlines() if line.startswith("## ")}
    assert set(report.SECTIONS.values()) <= headings, set(report.SECTIONS.values()) - headings
    for key, title in report.SECTIONS.items():
        # the link is the id nbconvert gives the heading
        assert f'id="{report.anchor(key)[1:]}"' in markdown2html_mistune(f"## {title}")


def _package_tables():
    """The tables a report writes as CSV, made by the package's own functions on a tiny dyad."""
    from analysis.cycles import build_cycles
    from analysis.episodes import episodes, pause_enders, pauses
    from analysis.permutation import permutation_test
    from analysis.response import ResponseRule

    events = make_events([("a1", "2020-01-01", "a", "rocket"), ("b1", "2020-01-03", "b", "airstrike"),
                          ("a2", "2020-01-20", "a", "drone"), ("b2", "2020-02-10", "b", "airstrike")],
                         fatalities=pd.array([1, 0, None, 2], dtype="Int64"), injuries=pd.array([0, None, 1, 0], dtype="Int64"))
    cycles = build_cycles(events, window_days=10, study_end="2020-03-31", severity_cols=("fatalities", "injuries"))
    pause_table = pauses(events, sides=["a", "b"], study_start="2020-01-01", study_end="2020-03-31")
    ratio = permutation_test(events, ResponseRule(window_days=10, study_end="2020-03-31"), study_start="2020-01-01",
                             n_draws=9).summary
    tables = {"events": events, "cycles": cycles,
              "episodes": episodes(events, sides=["a", "b"], quiet_days=7, study_end="2020-03-31"),
              "pauses": pause_table, "pause_enders": pause_enders(pause_table, sides=["a", "b"]), "response_ratio": ratio}
    return {**tables, **_escalation_tables(events, tables["episodes"])}


def _escalation_tables(events, episode_table):
    """The escalation tables a report writes as CSV: severity on the events, labels on the cycles, the
    episodes' trajectories, the matrix, the response curve, the interrupted time series and the
    sensitivity grid, by the package's own functions."""
    from analysis.cycles import build_cycles
    from analysis.deterrence import interrupted_time_series
    from analysis.episodes import episode_severity
    from analysis.panel import daily_panel
    from analysis.response import ResponseRule
    from analysis.sensitivity import sensitivity_grid
    from analysis.severity import assign_severity, escalation_matrix, label_answers, parse_ladder, response_curve

    ladder = parse_ladder({"score": "fatalities", "levels": ["none", {"name": "one", "from": 1}, {"name": "2+", "from": 2}]},
                          origin="t.yaml")
    placed = assign_severity(events, ladder)
    cycles = label_answers(build_cycles(placed, window_days=10, study_end="2020-03-31", severity_cols=("fatalities",)), placed)
    panel = daily_panel(placed, sides=["a", "b"], start="2020-01-01", end="2020-03-31")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        its = interrupted_time_series(panel, {"x": "2020-02-01"}, before_days=20, after_days=20, n_placebos=5).summary
    grid = sensitivity_grid({"on": placed}, ResponseRule(study_end="2020-03-31"), sides=["a", "b"], study_start="2020-01-01",
                            windows=(10,), tolerances=(0, 1), hawkes=False)
    return {"events": placed, "cycles": cycles,
            "episodes": episode_table.merge(episode_severity(episode_table, placed, sides=["a", "b"]), on="episode_id"),
            "escalation_matrix": escalation_matrix(cycles), "response_curve": response_curve(cycles), "its": its,
            "sensitivity": grid}


def test_the_data_dictionary_defines_every_column_the_report_writes():
    for name, table in _package_tables().items():
        undefined = [c for c in table.columns if report.define(c, LABELS) is None]
        assert undefined == [], f"{name}: no definition for {undefined} in analysis.report.COLUMNS"
    assert report.define("n_a", LABELS) == ("Side A", "Events of Side A.")
    assert report.define("trigger_fatalities", LABELS) == ("people killed",
                                                           "The trigger event: people killed (blank when unknown).")
    assert report.define("ended_by_zz", LABELS) is None


def test_dictionary_html_lists_columns_and_flags_unknown_ones():
    page = report.dictionary_html({"cycles": pd.DataFrame(columns=["trigger_id", "curated_extra"])}, labels=LABELS,
                                  hrefs={"cycles": "x/cycles.csv"})
    assert '<a href="x/cycles.csv">cycles.csv</a>' in page
    assert ("<td class=\"nowrap\"><code>trigger_id</code></td><td>event</td><td>The event (trigger) whose answer is "
            "sought.</td>") in page
    assert "<code>curated_extra</code></td><td></td><td>A column of the source data, kept as it was read" in page


def test_write_csv_is_plain_and_deterministic(tmp_path):
    frame = pd.DataFrame({"date": pd.to_datetime(["2020-01-02", "2020-01-03"]), "n": pd.array([1, None], dtype="Int64"),
                          "text": ["a, b", 'say "x"']})
    path = report.write_csv(frame, tmp_path / "dl", "cycles")
    assert path.read_text(encoding="utf-8") == 'date,n,text\n2020-01-02,1,"a, b"\n2020-01-03,,"say ""x"""\n'


def test_how_to_cite_names_the_commit_and_the_data():
    cite = report.how_to_cite(title="US <and> militias", revision="abc123", repository="https://example.org/repo",
                              sources=[{"path": "data/raw/x/events.csv"},
                                       {"path": "data/external/y.csv", "citation": "B'Tselem (2023)"}],
                              codebooks={"data/raw/x/events.csv": "data/raw/x/README.md"})
    assert active_content(cite) == []
    text = re.sub(r"<[^>]+>", "", cite)
    assert text == ("How to cite: US &lt;and&gt; militias, escalation-cycles report, https://example.org/repo, commit abc123. "
                    "Data: data/raw/x/events.csv (cite as its codebook, data/raw/x/README.md, says); B&#x27;Tselem (2023).")
    assert "this repository" in report.how_to_cite(title="t", revision="r")


@pytest.mark.parametrize("section", sorted(report.SECTIONS))
def test_anchor_is_a_fragment(section):
    assert report.anchor(section).startswith("#") and " " not in report.anchor(section)


def test_index_lists_each_dyads_main_report_first_with_its_headline(tmp_path):
    from analysis.build import write_index

    page = '<html><head><title>{}</title></head><body>{}</body></html>'
    (tmp_path / "b-dyad--news.html").write_text(page.format("b: news", ""))
    (tmp_path / "b-dyad--coverage.html").write_text(page.format("b: coverage", ""))
    (tmp_path / "b-dyad--w14.html").write_text(page.format("b: window 14", ""))
    (tmp_path / "b-dyad.html").write_text(page.format(
        "b: report", '<p><strong>In short:</strong> <span class="report-headline">A answered 80% &lt;of&gt; B</span></p>'))
    (tmp_path / "a-dyad.html").write_text(page.format("a: report", ""))
    (tmp_path / "b-dyad").mkdir()
    (tmp_path / "b-dyad" / "cycles.csv").write_text("x\n")
    index = write_index(tmp_path).read_text()
    names = ("a-dyad", "b-dyad", "b-dyad--w14", "b-dyad--coverage", "b-dyad--news")
    order = [index.index(f'href="{name}.html"') for name in names]
    assert order == sorted(order)
    assert '<span class="headline">A answered 80% &lt;of&gt; B</span>' in index  # the headline, escaped again
    assert '<a href="b-dyad/cycles.csv">cycles.csv</a>' in index
    assert active_content(index.split("<body>")[1]) == []


def test_cycles_preview_links_each_event_to_its_first_source():
    from analysis.cycles import build_cycles

    events = make_events([("b1", "2020-01-03", "b", "airstrike"), ("a1", "2020-01-01", "a", "rocket")],
                         url=["https://b.example/1 https://b.example/2", "https://a.example/1"],
                         location=["Camp B", "Base <A>"])
    cycles = build_cycles(events, window_days=10, study_end="2020-03-31")
    preview = report.cycles_preview(cycles, events)
    # in date order: a1 answered by b1 two days later; b1 unanswered (censored at the window's end)
    assert list(preview["trigger_id"]) == ["a1", "b1"] and list(preview["response_id"].fillna("")) == ["b1", ""]
    assert preview.loc[0, "response_url"] == "https://b.example/1 https://b.example/2"
    page = report.table(preview, labels=LABELS, side_columns=["trigger_side"],
                        links={"trigger_id": "trigger_url", "response_id": "response_url"})
    assert '<a href="https://a.example/1" rel="noopener noreferrer">a1</a>' in page
    assert '<a href="https://b.example/1" rel="noopener noreferrer">b1</a>' in page and "b.example/2" not in page
    assert "Base &lt;A&gt;" in page and "Side A" in page


# --- does the answer escalate, did the strikes deter ------------------------------------------


def _labelled(rows):
    """Cycles rows ``(trigger_id, trigger_side, escalation)``; escalation None: censored."""
    frame = pd.DataFrame(rows, columns=["trigger_id", "trigger_side", "escalation"])
    frame["response_id"] = np.where(frame["escalation"].isna(), None, "r-" + frame["trigger_id"])
    frame["escalation"] = frame["escalation"].astype("string")
    return frame


def test_escalation_sentence_gives_shares_of_labelled_answers_and_counts_the_unknown():
    # a: 13 answers, 6 escalate, 4 match, 2 de-escalate, 1 unknown, and one event unanswered
    rows = ([(f"a{i}", "a", "escalate") for i in range(6)] + [(f"m{i}", "a", "match") for i in range(4)]
            + [("d1", "a", "de-escalate"), ("d2", "a", "de-escalate"), ("u1", "a", "unknown"), ("c1", "a", None)])
    (s,) = report.escalation_sentences(_labelled(rows), labels=LABELS, tolerance=0)
    # Wilson 95% intervals: 6/12 0.254-0.746, 4/12 0.138-0.609, 2/12 0.047-0.448
    assert s.status == "ok" and s.section == "escalation"
    assert s.text.startswith("Of the 12 labelled answers of Side B to Side A, 50% escalate (95% interval 25%\u201375%), "
                             "33% match (95% interval 14%\u201361%) and 17% de-escalate (95% interval 5%\u201345%); "
                             "a match is an answer at its trigger's level; 1 more answer cannot be labelled (a severity "
                             "unknown).")
    # a tolerance is said as such
    (s,) = report.escalation_sentences(_labelled(rows), labels=LABELS, tolerance=1)
    assert "a match is an answer within 1 level of its trigger's" in s.text


def test_escalation_sentence_is_in_words_when_most_levels_are_unknown():
    # b: 5 answers, 3 unknown: most are unknown, so counts and why, no shares
    rows = [("b1", "b", "unknown"), ("b2", "b", "unknown"), ("b3", "b", "unknown"), ("b4", "b", "escalate"),
            ("b5", "b", "match")]
    events = pd.DataFrame({"severity_level": ["unknown"] * 5 + ["1 L1"],
                           "severity_reason": ["unknown: rule 'killed' (3 killed) needs fatalities"] * 3
                           + ["unknown: fatalities missing", "unknown: at least 0 none by rule 'none'; rule 'salvo' (1 heavy) "
                              "needs munitions, fatalities", "rule 'strike'"]})
    (s,) = report.escalation_sentences(_labelled(rows), events, labels=LABELS)
    assert s.status == "warning"
    # fatalities missing for 5 unknown events, munitions for 1
    assert s.text == ("Whether the answers of Side A to Side B escalate cannot be said from these data, as most levels are "
                      "unknown: 3 of the 5 answers pair an event whose severity is unknown (the ladder needs a value the data "
                      "leave blank: the number killed for 5 events and the munitions count for 1); of the 2 labelled, 1 "
                      "escalate, 1 match and 0 de-escalate (a match is an answer at its trigger's level). (more)")
    assert "%" not in s.text
    # few labelled answers, even if most are known: counts, not shares
    few = [(f"k{i}", "a", "match") for i in range(4)]
    (s,) = report.escalation_sentences(_labelled(few), labels=LABELS)
    assert s.status == "warning" and "as only 4 can be labelled" in s.text and "%" not in s.text


def test_escalation_sentence_adds_the_proportionality_on_a_score_ladder():
    rows = [(f"a{i}", "a", "match") for i in range(10)]
    cycles = _labelled(rows).assign(proportionality=pd.array([0.5, 1, 1, 1, 1, 2, 2, 2, 4, None], dtype="Float64"))
    (s,) = report.escalation_sentences(cycles, labels=LABELS, score="fatalities", min_labelled=5)
    # nine ratios 0.5, 1, 1, 1, 1, 2, 2, 2, 4: median 1, quartiles 1 and 2
    assert "the answer's fatalities over its trigger's has median 1 (quartiles 1\u20132, 9 pairs)" in s.text
    assert report.escalation_sentences(cycles.drop(columns="escalation"), labels=LABELS) == []


def _its(**changes):
    row = {"name": "2 Feb 2024 strikes", "date": pd.Timestamp("2024-02-03"), "side": "b", "outcome": "events",
           "family": "poisson", "days_before": 60, "days_after": 60, "events_before": 77.0, "events_after": 7.0,
           "sparse": False, "pre_trend": 1.01, "level_change": 0.378, "level_low": 0.197, "level_high": 0.725,
           "level_p": 0.0034, "placebos": 184, "placebos_no_estimate": 15, "placebo_p": 90 / 185, "alternative": "two-sided",
           "independent_windows": 7.98}
    return {**row, **changes}


def test_deterrence_sentence_gives_the_level_change_its_interval_and_placebo_p():
    (s,) = report.deterrence_sentences(pd.DataFrame([_its()]), labels=LABELS)
    # p = (1 + 89) / (1 + 184): 89 placebo dates had a change at least as large
    assert s.status == "ok" and s.section == "deterrence"
    assert s.text == ("After 2 Feb 2024 strikes (3 Feb 2024), events of Side B fell to 0.38 times the rate their earlier trend "
                      "projected (95% interval 0.20\u20130.72; 77 in the 60 days before, 7 in the 60 after); a change at least "
                      "as large is not rare on dates without a named strike (89 of 184, placebo p = 0.486). (more)")
    (s,) = report.deterrence_sentences(pd.DataFrame([_its(alternative="less", placebo_p=3 / 185, level_change=2.5,
                                                          level_low=1.2, level_high=5.0)]), labels=LABELS)
    assert "rose to 2.50 times" in s.text
    assert "a drop at least as large is rare on dates without a named strike (2 of 184" in s.text


def test_deterrence_sentence_for_an_empty_segment_a_failed_fit_and_a_sparse_one():
    table = pd.DataFrame([_its(level_change=0.0, level_low=np.nan, level_high=np.nan, events_after=0.0),
                          _its(level_change=np.nan, placebo_p=np.nan, placebos=0),
                          _its(sparse=True, events_after=3.0)])
    empty, failed, sparse = report.deterrence_sentences(table, labels=LABELS)
    assert empty.status == "warning" and "no events of Side B in the segment after it" in empty.text
    assert failed.status == "failed" and "has no finite estimate" in failed.text and "placebo" not in failed.text
    assert sparse.status == "warning" and "read the placebo p-value rather than the interval" in sparse.text
    (none,) = report.deterrence_sentences(its_empty := pd.DataFrame(columns=list(_its())), labels=LABELS)
    assert none.status == "note" and "No named strike" in none.text and len(its_empty) == 0
    assert report.deterrence_sentences(None, labels=LABELS) == []


def test_severity_caveat_counts_unknown_levels_per_side_and_says_why():
    events = make_events([("a1", "2020-01-01", "a", "rocket"), ("a2", "2020-01-02", "a", "rocket"),
                          ("a3", "2020-01-03", "a", "rocket"), ("b1", "2020-01-04", "b", "airstrike")])
    events["severity_level"] = ["unknown", "unknown", "0 none", "1 strike"]
    events["severity_reason"] = ["unknown: rule 'killed' (3 killed) needs fatalities", "unknown: rule 'killed' (3 killed) "
                                 "needs fatalities, target", "rule 'none'", "rule 'strike'"]
    models = pd.DataFrame({"trigger_side": ["a", "b"], "model": ["logit answered", "logit answered"], "n": [40, 3],
                           "coef": [0.2, np.nan]})
    unknown, not_fitted = report.severity_caveats(events, models, labels=LABELS)
    # a: 2 of 3 unknown, fatalities missing for 2, the target for 1; b: 0 of 1
    assert unknown.text == ("Severity is unknown for 2 of the 3 events of Side A (67%); 0 of the 1 events of Side B (0%): the "
                            "ladder needs a value the data leave blank (the number killed for 2 events and the target for 1), "
                            "and a blank is never read as zero. An answer involving such an event is labelled only when every "
                            "level it could have gives the same label. (more)")
    assert not_fitted.status == "warning"
    assert "logit of whether an event is answered after events of Side B is not fitted (3 observations" in not_fitted.text


def test_deterrence_caveats_overlapping_windows_and_few_independent_windows():
    table = pd.DataFrame([_its(), _its(name="7 Feb 2024 strike", date=pd.Timestamp("2024-02-07")),
                          _its(name="2019 strikes", date=pd.Timestamp("2019-12-29"), independent_windows=30.0)])
    overlap, few = report.deterrence_caveats(table)
    # windows of 60 + 60 days: 3 and 7 Feb are 4 days apart; Dec 2019 is far from both
    assert overlap.text.startswith("Named days closer than the 120-day window share their segments: 2 Feb 2024 strikes and "
                                   "7 Feb 2024 strike (4 days apart).")
    assert "about 8 non-overlapping windows" in few.text
    assert report.deterrence_caveats(table.iloc[[2]]) == []
    # placebo windows with an empty segment: 1 of 4 (25%) for one named day, 0 of 4 for the other
    placebos = pd.DataFrame({"name": ["x"] * 4 + ["y"] * 4, "coef_level": [np.inf, 0.1, -0.2, 0.3, 0.1, 0.2, -0.1, np.nan]})
    (sparse,) = report.deterrence_caveats(table.iloc[[2]], placebos)
    assert sparse.text.startswith("At 0%\u201325% of the placebo dates a segment of the window holds no event")
    assert report.deterrence_caveats(table.iloc[[2]], placebos.assign(coef_level=0.5)) == []


def test_sensitivity_table_collapses_dates_that_change_nothing_and_pivots_the_tolerances():
    rows = []
    for dates in ("midpoint", "dropped"):
        for tolerance in (0, 1):
            for window in (7, 14):
                # the escalation shares move with the tolerance, nothing moves with the dates
                esc, match = (0.5, 0.25) if tolerance == 0 else (0.25, 0.5)
                rows.append(("on", "exclude", dates, window, "a -> b", 10, 2.0, 0.5, 0.1, tolerance, 8, 2, esc, match, 0.25))
    grid = pd.DataFrame(rows, columns=["dedup", "ties", "dates", "window_days", "direction", "events", "median_days",
                                       "response_ratio", "hawkes_cross_excitation", "tolerance", "answers_labelled",
                                       "answers_unknown", "share_escalate", "share_match", "share_de-escalate"])
    timing = report.sensitivity_table(grid)
    # one row per window: the dates collapse, the tolerances are not a timing setting
    assert timing.columns.tolist() == ["direction", "dedup", "dates", "ties", "window_days", "events", "median_days",
                                       "response_ratio", "hawkes_cross_excitation"]
    assert timing["window_days"].tolist() == [7, 14] and set(timing["dates"]) == {"midpoint = dropped"}
    labels = report.sensitivity_table(grid, escalation=True)
    assert labels.columns.tolist() == ["direction", "dedup", "dates", "ties", "window_days", "tolerance 0", "tolerance 1"]
    assert labels.loc[0, "tolerance 0"] == "50% \u00b7 25% \u00b7 25% of 8"
    assert labels.loc[0, "tolerance 1"] == "25% \u00b7 50% \u00b7 25% of 8"
    # the placing of dates kept apart, in the grid's order (midpoint first), when it changes a number
    moved = grid.assign(median_days=np.where(grid["dates"] == "dropped", 3.0, 2.0))
    assert report.sensitivity_table(moved)["dates"].tolist() == ["midpoint", "midpoint", "dropped", "dropped"]
    with pytest.raises(ValueError, match="no tolerance column"):
        report.sensitivity_table(grid.drop(columns="tolerance"), escalation=True)


def test_escalation_sentence_when_no_answer_can_be_labelled():
    # three answers, every one pairing an event of unknown severity: no tally of zeros
    rows = [("u1", "a", "unknown"), ("u2", "a", "unknown"), ("u3", "a", "unknown")]
    (s,) = report.escalation_sentences(_labelled(rows), labels=LABELS)
    assert s.status == "warning"
    assert s.text.endswith("3 of the 3 answers pair an event whose severity is unknown; none can be labelled. (more)")
