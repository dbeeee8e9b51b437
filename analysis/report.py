"""What a report says, in sentences generated from the tables: findings, caveats, headline.

A report opens with its findings and its caveats in words. Every sentence here is written by a
function from the tables the pipeline wrote, never by hand for one dyad, so the words change
when the data or the parameters do, and the tests below each function check them against
hand-built tables.

Findings (:func:`findings`), per direction of answering
    how often and how fast the other side answered within the window (share with its Wilson
    interval; median and quartiles of the answered waits; the Kaplan-Meier median with its
    interval), against chance (the response ratio against its circular-shift null, with the
    p-value), the Hawkes cross-excitation with its interval, the Granger test, the largest
    space-time interaction when a distance scope is set, how often the answers escalate, match
    or de-escalate (in words, not shares, when most severity levels are unknown), who ends the
    pauses, and per named strike the interrupted time series' level change with its interval
    and placebo p-value.
Caveats (:func:`caveats`)
    coverage against official counts, events whose side rests on an attribution or a
    low-confidence source, sides grouped by the spec, events whose severity is unknown and why,
    rows each model left out and why, and the warnings the tables show (a degenerate response
    ratio, a unit root, few responses, a poor or explosive Hawkes fit, non-proportional hazards,
    response models not fitted, named days whose windows overlap, placebo p-values from few
    independent windows).

A result that is degenerate or a model that failed is said so, and its number is not quoted.
Each sentence links to the section of the report it comes from (:data:`SECTIONS`); notes that
concern one section are also shown there (:func:`notes`).

The data dictionary (:data:`COLUMNS`) defines every column a report shows or writes as CSV, in
one place; report tables take their headers from it (:func:`header`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from analysis import render
from analysis.cycles import summarise_cycles

__all__ = [
    "COLUMNS",
    "SECTIONS",
    "SENSITIVITY_ESCALATION",
    "SENSITIVITY_TIMING",
    "Sentence",
    "anchor",
    "caveats",
    "chance_sentences",
    "coverage_caveat",
    "cycles_preview",
    "define",
    "deterrence_caveats",
    "deterrence_sentences",
    "dictionary_html",
    "direction_label",
    "escalation_sentences",
    "findings",
    "granger_sentences",
    "hawkes_sentences",
    "header",
    "headline",
    "how_to_cite",
    "model_caveats",
    "notes",
    "pause_sentences",
    "related_links",
    "repository_url",
    "sensitivity_table",
    "severity_caveats",
    "side_caveats",
    "spacetime_sentences",
    "table",
    "timing_sentences",
    "warning_caveats",
    "write_csv",
]

#: Section key -> the ``##`` heading of that section in ``notebooks/40-report.ipynb``. Sentences
#: link to these headings; ``tests/test_report.py`` checks that the notebook has each one.
SECTIONS: dict[str, str] = {
    "findings": "Findings",
    "caveats": "Caveats",
    "data": "The data",
    "timeline": "Timeline",
    "timing": "Time to response",
    "chance": "Does each side answer the other more than chance?",
    "spacetime": "Did they hit back near where they were hit?",
    "chains": "Chains",
    "pauses": "Episodes and pauses",
    "escalation": "Does the answer escalate?",
    "deterrence": "Did the strikes deter?",
    "survival": "Time to retaliation",
    "reaction": "Reaction functions and VAR",
    "hawkes": "Self- and cross-excitation (Hawkes process)",
    "sensitivity": "Sensitivity",
    "replications": "Replications",
    "table": "Strike \u2192 response table",
    "dictionary": "Data dictionary",
    "provenance": "Provenance",
}

#: An actor named this way did not claim the event: its side comes from an attribution.
UNATTRIBUTED_ACTOR = re.compile(r"\b(?:unidentified|unknown|unclaimed|unattributed|suspected)\b", re.IGNORECASE)


def anchor(section: str) -> str:
    """The link (``#id``) to a section, as nbconvert writes the id of its ``##`` heading."""
    title = SECTIONS[section]
    # nbconvert's rule (filters.strings._convert_header_id): spaces to hyphens, then URL-quoted
    return "#" + quote(title.replace(" ", "-"), safe="?/:@!$&'()*+,;=")


@dataclass(frozen=True)
class Sentence:
    """One sentence of a report.

    Attributes
    ----------
    section : str
        Key of :data:`SECTIONS` the sentence comes from (its link).
    html : str
        The sentence as HTML, data text escaped.
    status : str
        ``"ok"``; ``"degenerate"`` (the statistic cannot discriminate: not quoted);
        ``"failed"`` (the model gave no result); ``"warning"`` (a caveat about a result);
        ``"note"`` (a caveat about the data).
    """

    section: str
    html: str
    status: str = "ok"

    @property
    def text(self) -> str:
        """The sentence as plain text."""
        return html.unescape(re.sub(r"<[^>]+>", "", self.html))


def _link(section: str, text: str = "more") -> str:
    return f' <a class="section-link" href="{anchor(section)}">({render.escape(text)})</a>'


def _pct(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.0f}%"


def _num(x: float, digits: int = 2) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x:.{digits}f}"


def _days(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x:g} day" + ("" if x == 1 else "s")


def _p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "p n/a"
    return "p &lt; 0.001" if p < 0.001 else f"p = {p:.3f}"  # HTML: sentences are HTML


def _wilson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval of a binomial share (Wilson 1927)."""
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return (np.nan, np.nan)
    low, high = proportion_confint(k, n, alpha=alpha, method="wilson")
    return float(low), float(high)


def _name(side: str, labels: Mapping[str, str]) -> str:
    return render.escape(labels.get(side, side))


def _split(direction: str) -> tuple[str, str]:
    src, _, dst = str(direction).partition(" -> ")
    return src.strip(), dst.strip()


def _ordered(sides: Iterable[str], labels: Mapping[str, str]) -> list[str]:
    order = list(labels)
    return sorted(dict.fromkeys(sides), key=lambda s: (order.index(s) if s in order else len(order), str(s)))


# --------------------------------------------------------------------------------------------
# Findings


def timing_sentences(cycles: pd.DataFrame, km_summary: pd.DataFrame | None, *, labels: Mapping[str, str],
                     alpha: float = 0.05) -> list[Sentence]:
    """Per trigger side: how many of its events the other side answered within the window, and how fast.

    The share answered comes with its Wilson interval; the median and quartiles of the wait are
    over answered events (:func:`analysis.cycles.summarise_cycles`); the Kaplan-Meier median,
    which counts the unanswered as censored, comes from ``km_summary`` (``group``, ``median``,
    ``median_lower``, ``median_upper``) with its interval.
    """
    if cycles is None or not len(cycles):
        return [Sentence("timing", "No events of either side: nothing to pair.", "failed")]
    summary = summarise_cycles(cycles).set_index("trigger_side")
    km = km_summary.set_index("group") if km_summary is not None and len(km_summary) else None
    level = round(100 * (1 - alpha))
    out = []
    for side in _ordered(summary.index, labels):
        row = summary.loc[side]
        others = [o for o in _ordered(cycles["trigger_side"].dropna().unique(), labels) if o != side]
        other = " and ".join(_name(o, labels) for o in others) or "the other side"
        n, k = int(row["triggers"]), int(row["responses"])
        window = row["window_days"]
        if k == 0:
            out.append(Sentence("timing", f"{other} answered none of the {n:,} events of {_name(side, labels)} within "
                                          f"{render.escape(window)} days." + _link("timing"), "warning"))
            continue
        low, high = _wilson(k, n, alpha)
        text = (f"{other} answered {k:,} of the {n:,} events of {_name(side, labels)} within {render.escape(window)} days "
                f"({_pct(k / n)}; {level}% interval {_pct(low)}\u2013{_pct(high)}); when they answered, the median wait "
                f"was {_days(row['median_days'])} (quartiles {row['q25_days']:g}\u2013{row['q75_days']:g})")
        if km is not None and side in km.index:
            info = km.loc[side]
            if pd.isna(info["median"]):
                text += "; counting the unanswered events, the median wait is not reached (fewer than half were answered)"
            else:
                text += f"; counting the unanswered events (Kaplan-Meier), it was {_days(float(info['median']))}"
                if pd.notna(info["median_lower"]):  # a band without a lower end is not quoted ('n/a-not reached')
                    text += f" ({level}% interval {_interval(info['median_lower'], info['median_upper'], 'days')})"
        out.append(Sentence("timing", text + "." + _link("timing")))
    return out


def _interval(low, high, unit: str = "") -> str:
    low_s = "n/a" if pd.isna(low) else f"{float(low):g}"
    high_s = "not reached" if pd.isna(high) else f"{float(high):g}"
    return f"{low_s}\u2013{high_s}" + (f" {unit}" if unit else "")


def chance_sentences(response_ratio: pd.DataFrame, *, labels: Mapping[str, str], alpha: float = 0.05) -> list[Sentence]:
    """Per direction: the response ratio against its circular-shift null, and the median wait.

    ``response_ratio`` is the permutation summary (``direction``, ``statistic``, ``observed``,
    ``null_mean``, ``null_low``, ``null_high``, ``p_value``, ``draws``, ``k_days``,
    ``window_days``) and may carry ``degenerate`` and ``degenerate_reason``: a degenerate
    direction (the null itself answers almost every event) is said to be so, and its ratio is
    not quoted.
    """
    if response_ratio is None or not len(response_ratio):
        return [Sentence("chance", "The response ratios were not computed.", "failed")]
    out = []
    table = response_ratio.copy()
    if "degenerate" not in table.columns:
        table["degenerate"] = False
    directions = list(dict.fromkeys(table["direction"]))
    # in the order of the sides (the spec's), by the side whose events are answered
    order = _ordered([_split(d)[0] for d in directions], labels)
    directions = sorted(directions, key=lambda d: order.index(_split(d)[0]))
    for direction in directions:
        rows = table[table["direction"] == direction].set_index("statistic")
        src, dst = _split(direction)
        if "response_ratio" not in rows.index:
            continue
        r = rows.loc["response_ratio"]
        k, draws = int(r["k_days"]), int(r["draws"])
        if bool(r["degenerate"]) if pd.notna(r["degenerate"]) else False:
            # the reason (why the test is degenerate) is the caveat's; here the null in words
            out.append(Sentence("chance", (
                f"Timing cannot tell answers from chance for {_name(src, labels)} \u2192 {_name(dst, labels)}: even with "
                f"dates shifted at random, {_pct(r['null_mean'])} of the events of {_name(src, labels)} are followed by an "
                f"event of {_name(dst, labels)} within {k} days (95% of draws {_pct(r['null_low'])}\u2013"
                f"{_pct(r['null_high'])}), so the observed share is not evidence of answering." + _link("chance")),
                "degenerate"))
            continue
        if not np.isfinite(r["observed"]):
            out.append(Sentence("chance", f"No response ratio for {_name(src, labels)} \u2192 {_name(dst, labels)}: "
                                          f"no event had {k} days of follow-up." + _link("chance"), "failed"))
            continue
        verdict = "more than chance" if r["p_value"] < alpha else "not more than chance"
        text = (f"Within {k} days, {_pct(r['observed'])} of the events of {_name(src, labels)} were followed by an event of "
                f"{_name(dst, labels)}, against {_pct(r['null_mean'])} on average (95% of draws "
                f"{_pct(r['null_low'])}\u2013{_pct(r['null_high'])}) when one side's dates are shifted at random: "
                f"{verdict} ({_p(r['p_value'])}, {draws:,} circular shifts)")
        if "median_interval" in rows.index:
            m = rows.loc["median_interval"]
            if np.isfinite(m["observed"]) and np.isfinite(m["null_mean"]):
                sooner = "sooner than" if m["p_value"] < alpha else "no sooner than"
                text += (f"; answers within {int(m['window_days'])} days came {sooner} chance (median "
                         f"{_days(m['observed'])} against {m['null_mean']:.1f} days, {_p(m['p_value'])})")
        out.append(Sentence("chance", text + "." + _link("chance")))
    return out


def _alpha_table(params: pd.DataFrame) -> pd.DataFrame:
    rows = params[params["parameter"] == "alpha"] if "parameter" in params.columns else params.iloc[0:0]
    return rows.set_index(["source", "target"]) if len(rows) else rows


def hawkes_sentences(params: pd.DataFrame | None, bootstrap: pd.DataFrame | None = None, *,
                     labels: Mapping[str, str]) -> list[Sentence]:
    """The Hawkes cross-excitation each way, with its bootstrap interval (else +/- 1.96 SE).

    ``alpha[target,source]`` is the expected number of ``target`` events one ``source`` event
    triggers. A missing or non-finite estimate is a failed fit; a branching ratio (spectral
    radius of ``alpha``) of 1 or more is an explosive fit, whose numbers are not quoted.
    """
    table = _alpha_table(params) if params is not None and len(params) else pd.DataFrame()
    if not len(table) or not np.isfinite(table["estimate"].astype(float)).all():
        return [Sentence("hawkes", "The Hawkes model gave no estimate (the fit failed or was not run), so there is no "
                                   "cross-excitation to report." + _link("hawkes"), "failed")]
    from analysis.hawkes import params_matrix

    sides, alpha, _ = params_matrix(params)
    radius = float(np.max(np.abs(np.linalg.eigvals(alpha))))
    if radius >= 1:
        return [Sentence("hawkes", f"The Hawkes fit is explosive (branching ratio {radius:.2f}, at least 1): the process it "
                                   "describes would never settle, so its excitation numbers are not reported; a trend or a "
                                   "change in the rates is the usual cause." + _link("hawkes"), "failed")]
    boot = bootstrap.set_index("label") if bootstrap is not None and len(bootstrap) else None
    parts = []
    for src in _ordered(sides, labels):
        for dst in _ordered(sides, labels):
            if src == dst:
                continue
            estimate = float(table.loc[(src, dst), "estimate"])
            label = f"alpha[{dst},{src}]"
            if boot is not None and label in boot.index:
                low, high = float(boot.loc[label, "ci_low"]), float(boot.loc[label, "ci_high"])
                how = "95% bootstrap interval"
            elif "se" in table.columns and np.isfinite(float(table.loc[(src, dst), "se"])):
                se = float(table.loc[(src, dst), "se"])
                low, high, how = max(0.0, estimate - 1.96 * se), estimate + 1.96 * se, "\u00b1 1.96 standard errors"
            else:
                low = high = np.nan
                how = ""
            interval = f" ({how} {_num(low)}\u2013{_num(high)})" if how else " (no interval)"
            parts.append(f"each event of {_name(src, labels)} triggers on average {_num(estimate)} events of "
                         f"{_name(dst, labels)}{interval}")
    text = "In the Hawkes model, " + "; ".join(parts) + "."
    return [Sentence("hawkes", text + _link("hawkes"))]


def granger_sentences(var_granger: pd.DataFrame | None, *, labels: Mapping[str, str], alpha: float = 0.05,
                      unit: str = "daily") -> list[Sentence]:
    """Each Granger test of the VAR: does one side's past help predict the other's events?"""
    if var_granger is None or not len(var_granger):
        return [Sentence("reaction", "The VAR was not estimated, so there is no Granger test." + _link("reaction"), "failed")]
    out = []
    for row in var_granger.itertuples(index=False):
        if not np.isfinite(row.F) or not np.isfinite(row.p):
            out.append(Sentence("reaction", f"The Granger test of {_name(row.causing, labels)} \u2192 "
                                            f"{_name(row.caused, labels)} failed." + _link("reaction"), "failed"))
            continue
        helps = "help predict" if row.p < alpha else "do not help predict"
        out.append(Sentence("reaction", (
            f"Past events of {_name(row.causing, labels)} {helps} the events of {_name(row.caused, labels)} (Granger test, "
            f"{int(row.lags)} {unit} lags: F({int(row.df_num)}, {int(row.df_denom)}) = {row.F:.2f}, {_p(row.p)})."
            + _link("reaction"))))
    return out


def _class_low(label: str) -> int:
    match = re.match(r"\d+", str(label))
    return int(match.group()) if match else 0


def pause_sentences(pause_enders: pd.DataFrame | None, *, labels: Mapping[str, str], long_days: int = 8,
                    alpha: float = 0.05) -> list[Sentence]:
    """Who ends the pauses (Kanwisher, Haushofer & Biletzki 2009): all pauses, and those of ``long_days`` or more.

    ``pause_enders`` is :func:`analysis.episodes.pause_enders` (length classes, ``pauses``,
    ``ended_by_<side>``, ``ended_by_both``).
    """
    if pause_enders is None or not len(pause_enders) or int(pause_enders["pauses"].sum()) == 0:
        return [Sentence("pauses", "No pause between events ended within the study period." + _link("pauses"), "warning")]
    sides = [c[len("ended_by_"):] for c in pause_enders.columns if c.startswith("ended_by_") and c != "ended_by_both"]
    sides = _ordered(sides, labels)
    level = round(100 * (1 - alpha))

    def clause(rows: pd.DataFrame) -> str:
        n = int(rows["pauses"].sum())
        parts = []
        for side in sorted(sides, key=lambda s: -int(rows[f"ended_by_{s}"].sum())):
            k = int(rows[f"ended_by_{side}"].sum())
            low, high = _wilson(k, n, alpha)
            parts.append(f"{_name(side, labels)} ended {k:,} ({_pct(k / n)}; {level}% interval {_pct(low)}\u2013{_pct(high)})")
        both = int(rows["ended_by_both"].sum()) if "ended_by_both" in rows.columns else 0
        return ", ".join(parts) + f", both sides on the same day {both:,}"

    total = int(pause_enders["pauses"].sum())
    text = f"Of the {total:,} pauses (runs of days with no event of either side), " + clause(pause_enders)
    long_rows = pause_enders[pause_enders["pause_length_days"].map(_class_low) >= long_days]
    if len(long_rows) and int(long_rows["pauses"].sum()):
        text += f"; of the {int(long_rows['pauses'].sum()):,} pauses of {long_days} days or more, " + clause(long_rows)
    return [Sentence("pauses", text + "." + _link("pauses"))]


def spacetime_sentences(spacetime: pd.DataFrame | None, *, labels: Mapping[str, str], alpha: float = 0.05,
                        min_observed: int = 3) -> list[Sentence]:
    """The strongest space-time interaction per direction (two-stream Knox test), when a distance scope is set.

    ``spacetime`` has ``direction``, ``d_lo_km``, ``d_hi_km``, ``t_lo_days``, ``t_hi_days``,
    ``observed``, ``expected``, ``ratio``, ``p_value``: one row per distance x time band. The
    strongest is the band with the largest observed/expected ratio among those with a p-value
    below ``alpha`` and at least ``min_observed`` pairs; with none, the sentence says so.
    """
    if spacetime is None:
        return []
    if not len(spacetime):
        return [Sentence("spacetime", "The space-time interaction table is empty: no pair of events within the distance scope."
                         + _link("spacetime"), "failed")]
    out = []
    for direction in list(dict.fromkeys(spacetime["direction"])):
        rows = spacetime[spacetime["direction"] == direction]
        src, dst = _split(direction)
        # with many bands, about alpha of them pass by chance alone: say how many were tested
        chance = f"chance alone would pass about {alpha * len(rows):.1f}"
        strong = rows[(rows["p_value"] < alpha) & (rows["observed"] >= min_observed) & np.isfinite(rows["ratio"])]
        if not len(strong):
            out.append(Sentence("spacetime", (
                f"No distance and time band holds more pairs ({_name(src, labels)} then {_name(dst, labels)}) than chance "
                f"(smallest {_p(float(rows['p_value'].min()))} among {len(rows)} bands tested)." + _link("spacetime"))))
            continue
        best = strong.sort_values(["ratio", "p_value"], ascending=[False, True], kind="stable").iloc[0]
        out.append(Sentence("spacetime", (
            f"Events of {_name(dst, labels)} within {best['d_lo_km']:g}\u2013{best['d_hi_km']:g} km and "
            f"{days_band(best['t_lo_days'], best['t_hi_days'])} after an event of {_name(src, labels)} are "
            f"{best['ratio']:.1f} times as frequent as chance would give ({int(best['observed']):,} pairs against "
            f"{best['expected']:.1f} expected, {_p(float(best['p_value']))}); {len(strong)} of the {len(rows)} bands tested pass "
            f"p &lt; {alpha:g}, where {chance}." + _link("spacetime"))))
    return out


#: Count columns a severity ladder may need, in words (other columns are named as they are).
_NEEDED = {"fatalities": "the number killed", "injuries": "the number wounded", "munitions": "the munitions count",
           "us_killed": "the number of US personnel killed", "target": "the target", "kind": "the kind of event"}
_NEEDS = re.compile(r"needs ([\w, ]+)$|^unknown: (\w+) missing$")


def _missing_inputs(reasons: pd.Series) -> pd.Series:
    """Per column the ladder needed, how many of these ``severity_reason`` texts name it as missing."""
    counts: dict[str, int] = {}
    for text in reasons.dropna().astype(str):
        found = _NEEDS.search(text)
        if found:
            for column in (found.group(1) or found.group(2)).split(", "):
                counts[column.strip()] = counts.get(column.strip(), 0) + 1
    return pd.Series(counts, dtype="int64").sort_values(ascending=False, kind="stable")


def _needed_words(missing: pd.Series, top: int = 2) -> str:
    """E.g. "the number killed for 250 events and the target for 3"."""
    parts = [f"{render.escape(_NEEDED.get(c, c))} for {k:,}" for c, k in missing.head(top).items()]
    if parts:
        parts[0] += " event" + ("" if missing.iloc[0] == 1 else "s")
    return " and ".join(parts)


def escalation_sentences(cycles: pd.DataFrame, events: pd.DataFrame | None = None, *, labels: Mapping[str, str],
                         tolerance: int | None = None, score: str | None = None, min_labelled: int = 10,
                         alpha: float = 0.05) -> list[Sentence]:
    """Per direction: how often the answers escalate, match or de-escalate, and how many are unlabelled.

    ``cycles`` carries the labels of :func:`analysis.severity.label_answers` (``escalation``
    for answered triggers: ``escalate``, ``match``, ``de-escalate`` or ``unknown``). The shares
    are of the labelled answers, with Wilson intervals, and the count of unlabelled ones is
    said. When most answers are unlabelled (a level unknown: the ladder never reads a blank
    count as 0), or fewer than ``min_labelled`` are labelled, the sentence gives counts, not
    shares, and says why in words; ``events`` (with ``severity_reason``) names the inputs the
    ladder missed most often. With a numeric ``score`` (the ladder's, e.g. ``fatalities``), the
    median proportionality ratio (the answer's score over the trigger's) is added.
    """
    if cycles is None or "escalation" not in cycles.columns:
        return []
    answered = cycles.loc[cycles["response_id"].notna()] if "response_id" in cycles.columns else cycles
    level = round(100 * (1 - alpha))
    missing = pd.Series(dtype="int64")
    if events is not None and "severity_reason" in events.columns:
        missing = _missing_inputs(events.loc[events["severity_level"].astype(str) == "unknown", "severity_reason"])
    match_rule = "a match is an answer " + ("at its trigger's level" if not tolerance else
                                            f"within {tolerance} level{'s' if tolerance > 1 else ''} of its trigger's")
    out = []
    for side in _ordered(cycles["trigger_side"].dropna().unique(), labels):
        mine = answered.loc[answered["trigger_side"] == side, "escalation"].astype("string")
        n = len(mine)
        if not n:
            continue
        # who answered: the answers' side, else the other sides of the dyad
        if "response_side" in answered.columns:
            others = _ordered(answered.loc[answered["trigger_side"] == side, "response_side"].dropna().unique(), labels)
        else:
            others = [o for o in _ordered([*cycles["trigger_side"].dropna().unique(), *labels], labels) if o != side]
        other = " and ".join(_name(o, labels) for o in others) or "the other side"
        counts = {what: int((mine == what).sum()) for what in ("escalate", "match", "de-escalate", "unknown")}
        known = n - counts["unknown"]
        tally = (f"{counts['escalate']:,} escalate, {counts['match']:,} match and {counts['de-escalate']:,} de-escalate "
                 f"({match_rule})")
        if counts["unknown"] > n / 2 or known < min_labelled:
            why = ("most levels are unknown" if counts["unknown"] > n / 2 else f"only {known:,} can be labelled")
            text = (f"Whether the answers of {other} to {_name(side, labels)} escalate cannot be said from these data, as "
                    f"{why}: {counts['unknown']:,} of the {n:,} answers pair an event whose severity is unknown")
            if len(missing):
                text += f" (the ladder needs a value the data leave blank: {_needed_words(missing)})"
            text += f"; of the {known:,} labelled, {tally}." if known else "; none can be labelled."
            out.append(Sentence("escalation", text + _link("escalation"), "warning"))
            continue
        parts = []
        for what in ("escalate", "match", "de-escalate"):
            low, high = _wilson(counts[what], known, alpha)
            parts.append(f"{_pct(counts[what] / known)} {what} ({level}% interval {_pct(low)}\u2013{_pct(high)})")
        text = (f"Of the {known:,} labelled answers of {other} to {_name(side, labels)}, " + ", ".join(parts[:2])
                + f" and {parts[2]}; {match_rule}")
        if counts["unknown"]:
            more = "1 more answer" if counts["unknown"] == 1 else f"{counts['unknown']:,} more answers"
            text += f"; {more} cannot be labelled (a severity unknown)"
        if score and "proportionality" in cycles.columns:
            ratio = answered.loc[answered["trigger_side"] == side, "proportionality"].astype("Float64").dropna().astype(float)
            if len(ratio) >= min_labelled:
                q1, med, q3 = np.quantile(ratio, [0.25, 0.5, 0.75])
                text += (f"; the answer's {render.escape(score)} over its trigger's has median {med:.2g} (quartiles "
                         f"{q1:.2g}\u2013{q3:.2g}, {len(ratio):,} pairs)")
        out.append(Sentence("escalation", text + "." + _link("escalation")))
    return out


#: The daily panel's columns in words (the interrupted time series' outcome).
_OUTCOMES = {"events": "events", "incidence": "days with an event", "fatalities": "people killed", "injuries": "people wounded"}


def deterrence_sentences(its: pd.DataFrame | None, *, labels: Mapping[str, str], alpha: float = 0.05) -> list[Sentence]:
    """Per named day and side modelled: the interrupted time series' level change, its interval and its placebo p-value.

    ``its`` is :attr:`analysis.deterrence.ITSResult.summary`. The level change is the rate just
    after the named day over the rate the earlier trend projects for it (Newey-West interval);
    the placebo p-value says how often the same model finds a change as large on days without
    a named strike, and decides the verdict. An empty segment (an infinite change) and a model
    without a finite estimate are said in words; a sparse segment is flagged.
    """
    if its is None:
        return []
    if not len(its):
        return [Sentence("deterrence", "No named strike is set (cycles.named_events), so there is no interrupted time series."
                         + _link("deterrence"), "note")]
    level = round(100 * (1 - alpha))
    out = []
    for row in its.itertuples(index=False):
        what = f"{_OUTCOMES.get(row.outcome, render.escape(row.outcome))} of {_name(row.side, labels)}"
        day = pd.Timestamp(row.date)
        when = f"{render.escape(row.name)} ({day.day} {day:%b %Y})"
        counts = f"{row.events_before:g} in the {row.days_before} days before, {row.events_after:g} in the {row.days_after} after"
        placebo = ""
        if np.isfinite(row.placebo_p) and row.placebos:
            n = int(row.placebos)
            extreme = round(row.placebo_p * (n + 1) - 1)  # p = (1 + extreme) / (1 + n)
            change = {"less": "a drop", "greater": "a rise"}.get(row.alternative, "a change")
            rare = "rare" if row.placebo_p < alpha else "not rare"
            placebo = (f"; {change} at least as large is {rare} on dates without a named strike ({extreme:,} of {n:,}, "
                       f"placebo {_p(row.placebo_p)})")
        if row.level_change == 0 or np.isposinf(row.level_change):
            empty = "after" if row.level_change == 0 else "before"
            out.append(Sentence("deterrence", (
                f"Around {when}, there were no {what} in the segment {empty} it ({counts}): the level change is not finite"
                + placebo + "." + _link("deterrence")), "warning"))
            continue
        if not np.isfinite(row.level_change):
            out.append(Sentence("deterrence", (
                f"The interrupted time series of {what} around {when} has no finite estimate ({counts})." + _link("deterrence")),
                "failed"))
            continue
        verb = "fell" if row.level_change < 1 else "rose"
        text = (f"After {when}, {what} {verb} to {row.level_change:.2f} times the rate their earlier trend projected "
                f"({level}% interval {row.level_low:.2f}\u2013{row.level_high:.2f}; {counts})" + placebo)
        if bool(row.sparse):
            text += "; a segment has few events, so read the placebo p-value rather than the interval"
        out.append(Sentence("deterrence", text + "." + _link("deterrence"), "warning" if bool(row.sparse) else "ok"))
    return out


def days_band(lo: float, hi: float) -> str:
    """A time band ``(lo, hi]`` of whole days in words: days ``lo + 1`` to ``hi``."""
    first, last = int(lo) + 1, int(hi)
    return f"{first} day{'s' if first != 1 else ''}" if first == last else f"{first}\u2013{last} days"


def findings(
    *,
    labels: Mapping[str, str],
    cycles: pd.DataFrame | None = None,
    km_summary: pd.DataFrame | None = None,
    response_ratio: pd.DataFrame | None = None,
    hawkes_params: pd.DataFrame | None = None,
    hawkes_bootstrap: pd.DataFrame | None = None,
    var_granger: pd.DataFrame | None = None,
    pause_enders: pd.DataFrame | None = None,
    spacetime: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    tolerance: int | None = None,
    score: str | None = None,
    its: pd.DataFrame | None = None,
    alpha: float = 0.05,
) -> list[Sentence]:
    """The findings of a report, in order: timing, chance, space-time, escalation, Hawkes,
    Granger, pauses, deterrence.

    Each table is optional: a table not given gives no sentence (a table given but empty is a
    failed step, and says so). The escalation sentences need cycles labelled by
    :func:`analysis.severity.label_answers` (``events``, ``tolerance`` and ``score`` as in
    :func:`escalation_sentences`); ``its`` is the interrupted time series' summary.
    """
    out: list[Sentence] = []
    if cycles is not None:
        out += timing_sentences(cycles, km_summary, labels=labels, alpha=alpha)
    if response_ratio is not None:
        out += chance_sentences(response_ratio, labels=labels, alpha=alpha)
    out += spacetime_sentences(spacetime, labels=labels, alpha=alpha)
    if cycles is not None:
        out += escalation_sentences(cycles, events, labels=labels, tolerance=tolerance, score=score, alpha=alpha)
    if hawkes_params is not None:
        out += hawkes_sentences(hawkes_params, hawkes_bootstrap, labels=labels)
    if var_granger is not None:
        out += granger_sentences(var_granger, labels=labels, alpha=alpha)
    if pause_enders is not None:
        out += pause_sentences(pause_enders, labels=labels, alpha=alpha)
    out += deterrence_sentences(its, labels=labels, alpha=alpha)
    return out


def headline(cycles: pd.DataFrame, *, labels: Mapping[str, str]) -> str:
    """One line for the index of reports: who answered how much of the other's events, how fast.

    Plain text (the index escapes it). E.g. "Iran-aligned militias answered 98% of the 44
    events of US and coalition forces within 30 days (median 1 day); ...".
    """
    if cycles is None or not len(cycles):
        return "No events of either side."
    summary = summarise_cycles(cycles).set_index("trigger_side")
    sides = _ordered(summary.index, labels)
    parts = []
    for side in sides:
        row = summary.loc[side]
        other = " and ".join(labels.get(o, o) for o in sides if o != side) or "the other side"
        n, k = int(row["triggers"]), int(row["responses"])
        wait = f" (median {_days(row['median_days'])})" if k else ""
        parts.append(f"{other} answered {_pct(k / n) if n else 'n/a'} of the {n:,} events of {labels.get(side, side)} "
                     f"within {row['window_days']} days{wait}")
    return "; ".join(parts) + "."


# --------------------------------------------------------------------------------------------
# Caveats


def coverage_caveat(coverage: pd.DataFrame | None, official: pd.DataFrame | None = None, *, href: str | None = None,
                    counted: str = "attacks", section_link: bool = True) -> list[Sentence]:
    """How much of an official running total the dataset holds, for its latest statement.

    ``coverage`` is :func:`analysis.coverage.coverage_table`; the statement shown is the latest
    of the longest series (the one the coverage figure draws). ``official`` (the official
    counts, with ``stated_by``) names who counted. A lower-bound official figure ("more than
    160") makes the share an upper bound, and the sentence says so. ``href`` links the coverage
    report (which gives the coverage between successive statements); ``section_link=False``
    leaves out the link to the main report's data section (for the coverage report itself).
    """
    if coverage is None or not len(coverage):
        return []
    series = coverage.groupby("since", sort=True)
    longest = max(series.groups, key=lambda k: (len(series.groups[k]), k))
    row = series.get_group(longest).sort_values("as_of", kind="stable").iloc[-1]
    who = ""
    if official is not None and "stated_by" in official.columns:
        match = official[(official["since"] == row["since"]) & (official["as_of"] == row["as_of"])]
        if len(match) and isinstance(match["stated_by"].iloc[0], str) and match["stated_by"].iloc[0].strip():
            who = f" (stated by {render.escape(match['stated_by'].iloc[0].strip())})"
    share = float(row["coverage"]) if pd.notna(row["coverage"]) else np.nan
    bound = row.get("bound", "estimate") == "upper"
    qualifier = {"more_than": "more than ", "at_least": "at least ", "about": "about "}.get(str(row.get("qualifier")), "")
    text = (f"This dataset holds {int(row['ours']):,} of the {qualifier}{int(row['official']):,} {render.escape(counted)} in "
            f"the official count from {pd.Timestamp(row['since']):%d %b %Y} to {pd.Timestamp(row['as_of']):%d %b %Y}{who}: "
            f"{'at most ' if bound else ''}{_pct(share)}")
    if href:
        text += f". See {render.link(href, 'the coverage report')}"
    return [Sentence("data", text + "." + (_link("data", "the data") if section_link else ""), "note")]


def side_caveats(events: pd.DataFrame, spec, *, labels: Mapping[str, str]) -> list[Sentence]:
    """Events whose side is missing, rests on an attribution, or on a low-confidence source; sides grouped by the spec.

    An attribution is an actor the source names as unidentified, unknown, unclaimed or
    suspected (:data:`UNATTRIBUTED_ACTOR`), or a side set by a spec rule (``side_reason``
    says "attributed"); low confidence is a ``confidence`` column equal to ``"low"`` where the
    source has one. Grouped sides are those with ``group_with`` in the spec: their events are
    counted with the side they are grouped with (found by the side's own actor patterns).
    """
    n = len(events)
    if not n:
        return []
    out = []
    no_side = int(events["side"].isna().sum())
    blank = pd.Series(pd.NA, index=events.index, dtype="string")
    actor = events["actor"].astype("string") if "actor" in events.columns else blank
    reason = events["side_reason"].astype("string") if "side_reason" in events.columns else blank
    attributed = events["side"].notna() & (actor.isna() | actor.str.contains(UNATTRIBUTED_ACTOR).fillna(False)
                                           | reason.str.contains("attributed to", regex=False).fillna(False))
    parts = []
    for side in _ordered(events["side"].dropna().unique(), labels):
        of_side = events["side"].eq(side).fillna(False).astype(bool)
        k = int((attributed.fillna(False).astype(bool) & of_side).sum())
        if k:
            parts.append(f"{k:,} of the {int(of_side.sum()):,} events of {_name(side, labels)} ({_pct(k / int(of_side.sum()))})")
    if parts:
        out.append(Sentence("data", "Unclaimed events whose side rests on an attribution (by officials, the cited reports or a "
                                    "spec rule), not a claim: " + "; ".join(parts) + "." + _link("data", "the data"), "note"))
    if "confidence" in events.columns:
        low = int((events["confidence"].astype("string").str.lower() == "low").fillna(False).sum())
        if low:
            out.append(Sentence("data", f"{low:,} of the {n:,} events ({_pct(low / n)}) are marked low confidence in the source "
                                        "data; the results do not weigh them differently." + _link("data", "the data"), "note"))
    if no_side:
        out.append(Sentence("data", f"{no_side:,} of the {n:,} events ({_pct(no_side / n)}) have no side (their actor matches "
                                    "no side of the spec, or two) and are left out of every result." + _link("data", "the data"),
                            "note"))
    for side in spec.sides.values():
        if side.group_with is None:
            continue
        mine = events["side"].eq(side.group_with).fillna(False) & actor.map(
            lambda a, side=side: bool(side.match(a)) if isinstance(a, str) else False).astype(bool)
        out.append(Sentence("data", (
            f"{render.escape(side.label)} is counted with {_name(side.group_with, labels)} (the dyad spec groups them): "
            f"{int(mine.sum()):,} of its events are in that side's counts and in every result." + _link("data", "the data")),
            "note"))
    return out


#: The response models of :func:`analysis.severity.response_models`, in words.
_MODELS = {"logit answered": "logit of whether an event is answered",
           "ordered logit level": "ordered logit of the answer's level"}


def severity_caveats(events: pd.DataFrame | None, response_models: pd.DataFrame | None = None, *,
                     labels: Mapping[str, str]) -> list[Sentence]:
    """The share of events at severity ``unknown`` per side, and why; response models not fitted.

    ``events`` carries ``severity_level`` and ``severity_reason``
    (:func:`analysis.severity.assign_severity`); the reasons name the inputs a rule needed and
    the data left blank. ``response_models`` is the coefficients table of
    :func:`analysis.severity.response_models`: a row without an estimate is a model not fitted.
    """
    out = []
    if events is not None and "severity_level" in events.columns and len(events):
        sided = events.loc[events["side"].notna()]
        unknown = sided["severity_level"].astype(str) == "unknown"
        if unknown.any():
            parts = []
            for side in _ordered(sided["side"].unique(), labels):
                of_side = (sided["side"] == side).to_numpy()
                k, n = int((unknown.to_numpy() & of_side).sum()), int(of_side.sum())
                parts.append(f"{k:,} of the {n:,} events of {_name(side, labels)} ({_pct(k / n)})")
            missing = _missing_inputs(sided.loc[unknown, "severity_reason"]) if "severity_reason" in sided.columns else None
            why = (f": the ladder needs a value the data leave blank ({_needed_words(missing)}), and a blank is never "
                   "read as zero" if missing is not None and len(missing) else "")
            out.append(Sentence("escalation", (
                "Severity is unknown for " + "; ".join(parts) + why + ". An answer involving such an event is labelled only "
                "when every level it could have gives the same label." + _link("escalation")), "note"))
    if response_models is not None and len(response_models):
        for row in response_models.itertuples(index=False):
            if not np.isfinite(row.coef):
                model = _MODELS.get(row.model, f"model {render.escape(row.model)}")
                out.append(Sentence("escalation", (
                    f"The {model} after events of {_name(row.trigger_side, labels)} is not fitted "
                    f"({int(row.n):,} observations with the levels it needs: too few, or one outcome or one level only)."
                    + _link("escalation")), "warning"))
    return out


def deterrence_caveats(its: pd.DataFrame | None, placebos: pd.DataFrame | None = None, *, min_windows: int = 20,
                       empty_share: float = 0.1) -> list[Sentence]:
    """Named days whose windows overlap, placebo p-values drawn from few independent windows or
    from many placebo windows with an empty segment.

    ``its`` is :attr:`analysis.deterrence.ITSResult.summary`. Two named days closer than the
    window (``days_before + days_after``) share days: their estimates are not separate effects.
    Placebo windows overlap each other: when the eligible dates hold fewer than
    ``min_windows`` non-overlapping windows the placebo p-value is only approximate.
    ``placebos`` (:attr:`analysis.deterrence.ITSResult.placebos`): a placebo window with no
    event in a segment has an infinite change, at least as large as any; when at least
    ``empty_share`` of a named day's placebos do, the series is too sparse for the placebo test
    to reject much.
    """
    if its is None or not len(its):
        return []
    out = []
    days = its.drop_duplicates("name").sort_values("date", kind="stable")
    width = int(its["days_before"].max() + its["days_after"].max())
    close = [(a, b) for a, b in zip(days.itertuples(index=False), days.iloc[1:].itertuples(index=False))
             if (pd.Timestamp(b.date) - pd.Timestamp(a.date)).days < width]
    if close:
        pairs = "; ".join(f"{render.escape(a.name)} and {render.escape(b.name)} "
                          f"({(pd.Timestamp(b.date) - pd.Timestamp(a.date)).days} days apart)" for a, b in close)
        out.append(Sentence("deterrence", (
            f"Named days closer than the {width}-day window share their segments: {pairs}. Their level changes are not "
            "separate effects: each measures everything that changed around both days." + _link("deterrence")), "warning"))
    windows = float(its["independent_windows"].min())
    if np.isfinite(windows) and windows < min_windows:
        out.append(Sentence("deterrence", (
            f"The placebo dates lie in about {windows:.0f} non-overlapping windows, so the placebo p-values rest on few "
            "independent comparisons and are only approximate." + _link("deterrence")), "warning"))
    if placebos is not None and len(placebos):
        share = placebos.groupby("name", sort=False)["coef_level"].agg(lambda c: float(np.isinf(c.astype(float)).mean()))
        if share.max() >= empty_share:
            low, high = share.min(), share.max()
            span = _pct(high) if round(100 * low) == round(100 * high) else f"{_pct(low)}\u2013{_pct(high)}"
            out.append(Sentence("deterrence", (
                f"At {span} of the placebo dates a segment of the window holds no event, an infinite change that counts as "
                "at least as large as any: on a series this sparse, the placebo test rarely rejects." + _link("deterrence")),
                "warning"))
    return out


def model_caveats(
    *,
    cycles: pd.DataFrame | None,
    events: pd.DataFrame | None = None,
    cox: pd.DataFrame | None = None,
    cox_models: Sequence[Mapping] = (),
    hawkes_triggered: pd.DataFrame | None = None,
    labels: Mapping[str, str],
) -> list[Sentence]:
    """Rows each model left out, and why.

    Cox models use complete cases: the triggers of a model's side (``cox_models``: the
    profile's list, each with ``name``, ``trigger_side``, ``covariates``) minus the model's
    ``n``, with the count of triggers missing each covariate's event column (``trigger_x`` and
    ``trigger_x_log1p`` read ``x``). The Hawkes fit uses events known to the day: the events
    of the sides minus its ``n_events``.
    """
    out = []
    if cox is not None and len(cox) and cycles is not None:
        specs = {m.get("name"): m for m in cox_models}
        for model, rows in cox.groupby("model", sort=False):
            m = specs.get(model)
            used = int(rows["n"].iloc[0])
            if m is None:
                continue
            triggers = cycles[cycles["trigger_side"] == m.get("trigger_side")]
            dropped = len(triggers) - used
            if dropped <= 0:
                continue
            reasons = []
            if events is not None:
                by_id = events.set_index("event_id")
                for cov in m.get("covariates", []):
                    column = re.sub(r"_log1p$", "", re.sub(r"^trigger_", "", str(cov)))
                    if column in by_id.columns:
                        missing = int(triggers["trigger_id"].map(by_id[column]).isna().sum())
                        if missing:
                            reasons.append(f"{render.escape(column)} unknown for {missing:,}")
            why = f" ({'; '.join(reasons)})" if reasons else " (a missing covariate value)"
            out.append(Sentence("survival", (
                f"The Cox model \u201c{render.escape(model)}\u201d uses {used:,} of the {len(triggers):,} events of "
                f"{_name(m.get('trigger_side'), labels)}: {dropped:,} ({_pct(dropped / len(triggers))}) are left out for a "
                f"missing covariate{why}." + _link("survival")), "warning"))
    if hawkes_triggered is not None and len(hawkes_triggered) and events is not None:
        sided = events[events["side"].isin(list(hawkes_triggered["side"])).fillna(False)]
        used = int(hawkes_triggered["n_events"].sum())
        dropped = len(sided) - used
        if dropped > 0:
            coarse = int((sided["date_precision"] != "day").sum()) if "date_precision" in sided.columns else 0
            why = "dated only to the week or month" if coarse == dropped else "not used by the fit"
            out.append(Sentence("hawkes", f"The Hawkes model leaves out {dropped:,} of the {len(sided):,} events ({why})."
                                + _link("hawkes"), "warning"))
    return out


def warning_caveats(
    *,
    labels: Mapping[str, str],
    response_ratio: pd.DataFrame | None = None,
    var_adf: pd.DataFrame | None = None,
    km_summary: pd.DataFrame | None = None,
    hawkes_gof: pd.DataFrame | None = None,
    hawkes_params: pd.DataFrame | None = None,
    ph_test: pd.DataFrame | None = None,
    stage_warnings: pd.DataFrame | None = None,
    alpha: float = 0.05,
    few_events: int = 10,
) -> list[Sentence]:
    """The warnings the result tables show, each in the section it concerns.

    A degenerate response ratio; a series the ADF test cannot call stationary (a unit root:
    the VAR's tests assume stationarity); a direction with fewer than ``few_events``
    responses (Kaplan-Meier and Cox very uncertain); a Hawkes fit the time-rescaling test
    rejects; a Hawkes branching ratio of 1 or more; a Cox model whose global test of
    proportional hazards rejects. ``stage_warnings`` (``section``, ``message``), when a stage
    writes one, adds its warnings as they are.
    """
    out = []
    if response_ratio is not None and "degenerate" in response_ratio.columns:
        degenerate = response_ratio[response_ratio["degenerate"].fillna(False).astype(bool)]
        for row in degenerate.drop_duplicates("direction").itertuples():
            src, dst = _split(row.direction)
            reason = getattr(row, "degenerate_reason", "")
            reason = f": {render.escape(reason)}" if isinstance(reason, str) and reason.strip() else ""
            out.append(Sentence("chance", f"The response ratio of {_name(src, labels)} \u2192 {_name(dst, labels)} is degenerate"
                                          f"{reason}; it is not reported as a finding." + _link("chance"), "warning"))
    if var_adf is not None and len(var_adf):
        for row in var_adf.itertuples(index=False):
            if np.isfinite(row.p) and row.p >= alpha:
                out.append(Sentence("reaction", (
                    f"The daily series of {_name(row.series, labels)} may have a unit root (ADF test {_p(row.p)}): the VAR and "
                    "its Granger tests assume stationary series." + _link("reaction")), "warning"))
    if km_summary is not None and len(km_summary):
        for row in km_summary.itertuples(index=False):
            if int(row.events) < few_events:
                out.append(Sentence("survival", (
                    f"Only {int(row.events)} events of {_name(row.group, labels)} were answered: the Kaplan-Meier median and the "
                    "Cox estimates for them are very uncertain." + _link("survival")), "warning"))
    if hawkes_params is not None and len(hawkes_params) and "parameter" in hawkes_params.columns:
        table = _alpha_table(hawkes_params)
        if len(table) and np.isfinite(table["estimate"].astype(float)).all():
            from analysis.hawkes import params_matrix

            _, alpha_m, _ = params_matrix(hawkes_params)
            radius = float(np.max(np.abs(np.linalg.eigvals(alpha_m))))
            if radius >= 1:
                out.append(Sentence("hawkes", f"The Hawkes branching ratio is {radius:.2f} (1 or more): the fit is explosive."
                                    + _link("hawkes"), "warning"))
    if hawkes_gof is not None and len(hawkes_gof):
        for row in hawkes_gof.itertuples(index=False):
            if np.isfinite(row.p_value) and row.p_value < alpha:
                out.append(Sentence("hawkes", (
                    f"The time-rescaling test rejects the Hawkes fit for {_name(row.side, labels)} (KS {_p(row.p_value)}): "
                    "the model misses part of that side's timing; read its excitation numbers with care." + _link("hawkes")),
                    "warning"))
    if ph_test is not None and len(ph_test):
        for row in ph_test[ph_test["term"] == "GLOBAL"].itertuples(index=False):
            if np.isfinite(row.p) and row.p < alpha:
                out.append(Sentence("survival", (
                    f"In the Cox model \u201c{render.escape(row.model)}\u201d the hazard ratios change with the wait "
                    f"(proportional hazards rejected, {_p(row.p)}): read them as averages over the window." + _link("survival")),
                    "warning"))
    if stage_warnings is not None and len(stage_warnings):
        for row in stage_warnings.itertuples(index=False):
            section = row.section if row.section in SECTIONS else "data"
            out.append(Sentence(section, render.escape(row.message) + _link(section), "warning"))
    return out


def caveats(*groups: Iterable[Sentence]) -> list[Sentence]:
    """The caveats of a report: the given groups of sentences, in order, without repeats."""
    seen, out = set(), []
    for group in groups:
        for s in group:
            if s.html not in seen:
                seen.add(s.html)
                out.append(s)
    return out


_SECTION_LINK = re.compile(r' <a class="section-link"[^>]*>.*?</a>')


def notes(sentences: Iterable[Sentence], section: str) -> render.Html:
    """The caveats that concern one section, as a note box to show in that section (empty if none)."""
    mine = [s for s in sentences if s.section == section and s.status != "ok"]
    if not mine:
        return render.Html("")
    items = "".join(f"<li>{_SECTION_LINK.sub('', s.html)}</li>" for s in mine)
    return render.Html(f'<div class="report-note"><strong>Caveats for this section</strong><ul>{items}</ul></div>')


def sentences_html(sentences: Iterable[Sentence], *, css: str = "report-findings") -> render.Html:
    """Sentences as a bulleted list."""
    items = "".join(f'<li class="status-{s.status}">{s.html}</li>' for s in sentences)
    return render.Html(f'<ul class="{css}">{items}</ul>' if items else "<p>Nothing to report.</p>")


# --------------------------------------------------------------------------------------------
# Tables, the data dictionary, downloads, citation


#: The data dictionary: column -> (header shown in a report table, definition). ``{side}`` in a
#: key stands for a side key (its label in the text). Every column a report shows or writes as
#: CSV is here; ``tests/test_report.py`` checks it against the tables the package writes.
COLUMNS: dict[str, tuple[str, str]] = {
    # events (analysis.schema)
    "event_id": ("event", "Unique id of the event."),
    "date": ("date", "Local calendar day of the event in the theatre."),
    "date_precision": ("date known to", "How precisely the date is known: day, week or month."),
    "time_utc": ("time (UTC)", "Time of day in UTC, where known; orders same-day events."),
    "side": ("side", "The dyad side of the actor (a side key of the dyad spec), or blank."),
    "actor": ("actor", "Who carried out the event, as the source names it."),
    "target_side": ("target side", "The dyad side of the target, where the target matches one."),
    "target": ("target", "What or whom the event targeted, as the source names it."),
    "kind": ("kind", "Kind of event: airstrike, drone_strike, rocket, mortar, drone, missile, ied, raid, shooting or other."),
    "source_type": ("source's type", "The source's own event type, before it was mapped to a kind."),
    "location": ("place", "Place of the event, as the source names it."),
    "admin1": ("province", "First administrative division (province, governorate)."),
    "country": ("country", "Country of the event."),
    "latitude": ("latitude", "Latitude of the place, in degrees (approximate: a site or town)."),
    "longitude": ("longitude", "Longitude of the place, in degrees."),
    "fatalities": ("killed", "People killed (best estimate; blank when unknown)."),
    "injuries": ("wounded", "People wounded (best estimate; blank when unknown)."),
    "munitions": ("munitions", "Rockets, shells, drones or missiles fired (best estimate)."),
    "fatalities_min": ("killed (min)", "Lowest number killed among the reports."),
    "fatalities_max": ("killed (max)", "Highest number killed among the reports."),
    "injuries_min": ("wounded (min)", "Lowest number wounded among the reports."),
    "injuries_max": ("wounded (max)", "Highest number wounded among the reports."),
    "munitions_min": ("munitions (min)", "Lowest count of munitions among the reports."),
    "munitions_max": ("munitions (max)", "Highest count of munitions among the reports."),
    "weight": ("weight", "An optional intensity score (e.g. GDELT's Goldstein scale)."),
    "source": ("source", "Which loader (data source) the event came from."),
    "source_id": ("source's id", "The source's own id for the event."),
    "url": ("sources", "One or more URLs of public sources, separated by spaces."),
    "evidence": ("summary", "A short text on the event (in the curated data: our own summary)."),
    "raw_file": ("file", "The input file the event was read from."),
    "raw_row": ("row", "The row of that file (header = row 1)."),
    "side_reason": ("why this side", "Which actor pattern of the dyad spec gave the side (or why none did)."),
    "cluster_id": ("merged event", "Reports merged as one event share this id (dedup)."),
    "cluster_size": ("reports merged", "How many reports were merged into this event."),
    "confidence": ("confidence", "The source data's confidence in the event (high, medium, low), where it has one."),
    # the severity ladder (analysis.severity)
    "severity_level": ("severity", "Level of the event on the dyad's severity ladder (number and name, least severe 0), or "
                                   "unknown when a value the ladder needs is blank (never read as 0)."),
    "severity_rank": ("severity rank", "The level's number (0 = least severe); blank when unknown."),
    "severity_low": ("severity at least", "Lowest level the event can have (equal to the rank when known; for an unknown "
                                          "level, the highest rule that holds; blank when nothing bounds it)."),
    "severity_high": ("severity at most", "Highest level the event can have (equal to the rank when known; for an unknown "
                                          "level, the highest rule that might hold; blank when nothing bounds it)."),
    "severity_reason": ("why this severity", "The ladder's rule (or score bound) that placed the event, or why its level is "
                                             "unknown: the rule and the blank values it needs."),
    "severity_score": ("severity score", "The ladder's numeric score of the event (e.g. people killed), where it has one."),
    # cycles (analysis.cycles)
    "trigger_id": ("event", "The event (trigger) whose answer is sought."),
    "trigger_side": ("side", "Side of the trigger."),
    "trigger_date": ("date", "Date of the trigger."),
    "trigger_kind": ("kind", "Kind of the trigger."),
    "response_id": ("answer", "The first event of the other side within the window (blank: censored)."),
    "response_side": ("answered by", "Side of the answer."),
    "response_date": ("answer date", "Date of the answer."),
    "response_kind": ("answer kind", "Kind of the answer."),
    "interval_days": ("days to answer", "Days from the trigger to its answer; for censored rows, the days followed up."),
    "interval_min_days": ("at least (days)", "Shortest the interval can be when a date is known only to the week or month "
                                            "(negative: the answer may have come first); blank when censored."),
    "interval_max_days": ("at most (days)", "Longest the interval can be when a date is known only to the week or month; "
                                           "blank when censored."),
    "date_imprecise": ("rests on a week or month date", "The trigger's or the answer's date is known only to the week or month."),
    "distance_km": ("distance (km)", "Great-circle distance from the trigger to its answer, where both have coordinates."),
    "censored": ("censored", "No answer within the window (or the data ended first)."),
    "censor_reason": ("why censored", "window_end (no answer within the window), study_end (the data ended first) or "
                                      "own_next_event (the trigger side acted again first)."),
    "window_days": ("window (days)", "Days within which an event of the other side counts as the answer (inclusive)."),
    "order_ambiguous": ("same-day order unknown", "An event of the other side fell on the same day and their order is unknown."),
    "chain_id": ("chain", "Id of the chain the event belongs to (the event_id of its first event)."),
    "chain_position": ("position in chain", "1 for the chain's first event, 2 for the answer to it, and so on."),
    "chain_length": ("chain length", "Number of events in the chain."),
    "trigger_level": ("trigger severity", "Severity level of the trigger (unknown: a value the ladder needs is blank)."),
    "response_level": ("answer severity", "Severity level of the answer (blank when censored)."),
    "trigger_rank": ("trigger rank", "The trigger's level number (blank when unknown)."),
    "response_rank": ("answer rank", "The answer's level number (blank when unknown or censored)."),
    "level_difference": ("change of level", "Answer's level minus the trigger's (blank when either is unknown)."),
    "escalation": ("the answer", "escalate (the answer's level above the trigger's by more than the tolerance), match, "
                                 "de-escalate, or unknown (a level unknown and its bounds undecided); blank when censored."),
    "trigger_score": ("trigger score", "The ladder's numeric score of the trigger (e.g. people killed)."),
    "response_score": ("answer score", "The ladder's numeric score of the answer."),
    "proportionality": ("answer / trigger", "The answer's score over the trigger's (blank when the trigger's is 0 or a score "
                                            "is blank)."),
    "trigger_{count}": ("{count}", "The trigger event: {count} (blank when unknown)."),
    "response_{count}": ("answer: {count}", "The answer event: {count} (blank when unknown)."),
    "trigger_location": ("place", "Place of the trigger."),
    "response_location": ("answer place", "Place of the answer."),
    "trigger_url": ("trigger sources", "Sources of the trigger."),
    # episodes and pauses (analysis.episodes)
    "episode_id": ("episode", "Number of the episode, in date order."),
    "start_date": ("from", "First day."),
    "end_date": ("to", "Last day."),
    "duration_days": ("days", "Days from the first to the last day."),
    "event_days": ("days with events", "Days with at least one event."),
    "n_events": ("events", "Number of events (in the Hawkes tables: the side's events in the fit)."),
    "n_{side}": ("{side}", "Events of {side}."),
    "start_side": ("started by", "Side of the first event (both: both sides on the first day)."),
    "end_side": ("ended by", "Side of the last event (both: both sides on the last day)."),
    "one_sided": ("one-sided", "Only one side acted in the episode."),
    "alternations": ("alternations", "How often the acting side changed from one event day to the next."),
    "calm_after_days": ("calm after (days)", "Days without an event after the episode."),
    "calm_after_censored": ("calm runs past the data", "The calm after the episode lasts to the end of the data."),
    "events_known": ("events of known level", "Events of the episode whose severity level is known."),
    "events_unknown": ("events of unknown level", "Events of the episode whose severity level is unknown (left out of "
                                                  "its trajectory)."),
    "trajectory_complete": ("every level known", "Every event of the episode has a known severity level."),
    "first_rank": ("first level no.", "Level of the episode's first day with a known level (a day's level is the highest "
                                      "known level of its events)."),
    "peak_rank": ("peak level no.", "Highest level of the episode."),
    "last_rank": ("last level no.", "Level of the episode's last day with a known level."),
    "first_level": ("first level", "The first level, by name."),
    "peak_level": ("peak level", "The peak level, by name."),
    "last_level": ("last level", "The last level, by name."),
    "peak_rank_{side}": ("peak of {side}", "Highest level of the events of {side} in the episode."),
    "peak_side": ("peak reached by", "The side that first reached the episode's peak (both: the same day)."),
    "escalated_first": ("escalated first", "The first side whose level on a day exceeded every earlier day's (both: the "
                                           "same day; none: never above the first day)."),
    "first_escalation_date": ("first escalation", "Day of that first escalation."),
    "ended_after": ("ended after", "The episode's last change of level: escalation, de-escalation, or no change."),
    "pause_id": ("pause", "Number of the pause, in date order."),
    "length_days": ("days", "Length of the pause in days."),
    "after_side": ("after", "Side of the last event before the pause."),
    "ended_by": ("ended by", "Side of the first event after the pause (both: both sides that day)."),
    "left_censored": ("starts with the data", "The pause starts at the start of the data (its true length is unknown)."),
    "right_censored": ("runs past the data", "The pause runs to the end of the data (no one ended it)."),
    "pause_length_days": ("pause length (days)", "Length class of the pauses."),
    "pauses": ("pauses", "Number of pauses."),
    "ended_by_{side}": ("ended by {side}", "Pauses ended by {side}."),
    "ended_by_both": ("ended by both", "Pauses ended by both sides on the same day."),
    "share_{side}": ("share {side}", "Share of the pauses ended by {side}."),
    # chains
    "length": ("events", "Number of events in the chain."),
    "event_ids": ("events in order", "The chain's events, in order."),
    # response ratio and its null (analysis.panel)
    "direction": ("direction", "Whose events are answered, and by whom (from -> to)."),
    "statistic": ("statistic", "response_ratio: share of events followed by the other side within k days; median_interval: "
                               "median days to the first answer within the window."),
    "observed": ("observed", "The statistic on the data."),
    "null_mean": ("chance (mean)", "Mean of the statistic over the circular shifts."),
    "null_low": ("chance (2.5%)", "2.5% quantile of the statistic over the circular shifts."),
    "null_high": ("chance (97.5%)", "97.5% quantile of the statistic over the circular shifts."),
    "p_value": ("p", "Share of shifts at least as extreme as observed, (1 + count) / (1 + draws)."),
    "alternative": ("tested", "The alternative of the test: greater (more answers than chance), less (sooner answers than "
                              "chance; in the interrupted time series, a drop), two-sided (a change either way)."),
    "draws": ("shifts", "Number of circular shifts."),
    "shift_side": ("shifted side", "The side whose dates were shifted."),
    "k_days": ("k (days)", "Horizon of the response ratio, in days."),
    "degenerate": ("degenerate", "The null itself answers almost every event: timing cannot discriminate."),
    "degenerate_reason": ("why degenerate", "Why the response ratio is degenerate."),
    # summaries shown in the report
    "triggers": ("events", "Events of the side (in the response curve, those whose window ends within the data)."),
    "responses": ("answered", "Events answered within the window."),
    "censored_window_end": ("no answer in window", "Events with no answer within the window."),
    "censored_study_end": ("data ended first", "Events whose window ran past the end of the data."),
    "censored_own_next_event": ("own next event first", "Events whose side acted again before any answer."),
    "share_censored": ("% censored", "Share of events without an answer (censored)."),
    "median_days": ("median days", "Median days to an answer, among answered events."),
    "q25_days": ("25% days", "First quartile of the days to an answer, among answered events."),
    "q75_days": ("75% days", "Third quartile of the days to an answer, among answered events."),
    "ties": ("same-day events", "exclude: never an answer; include: an answer on day 0."),
    "dedup": ("dedup", "Whether reports of the same event were merged (on, off, or on = off when it makes no difference)."),
    "events": ("events", "Number of events."),
    "response_ratio": ("share answered", "Share of events answered within the window."),
    "hawkes_cross_excitation": ("Hawkes cross-excitation", "Expected events of the other side one event triggers (Hawkes)."),
    "dates": ("imprecise dates", "Where events dated to a week or a month go: midpoint, dropped, earliest or latest day."),
    "tolerance": ("tolerance", "Levels of the severity ladder within which an answer matches its trigger."),
    "answers_labelled": ("answers labelled", "Answers labelled escalate, match or de-escalate."),
    "answers_unknown": ("answers unlabelled", "Answers whose label is unknown (a severity level unknown)."),
    "share_escalate": ("% escalate", "Share of the labelled answers above the trigger's level (beyond the tolerance)."),
    "share_match": ("% match", "Share of the labelled answers within the tolerance of the trigger's level."),
    "share_de-escalate": ("% de-escalate", "Share of the labelled answers below the trigger's level (beyond the tolerance)."),
    # escalation matrix and response curves (analysis.severity)
    "pairs": ("answers", "Answered triggers at this trigger level whose answer is at this level (an answer to several "
                         "triggers counts for each)."),
    "row_share": ("share of the row", "Share of the trigger level's answers at this answer level."),
    "incomplete": ("left out", "Triggers whose window runs past the end of the data (follow-up incomplete)."),
    "answered": ("answered", "Triggers answered within the window."),
    "share_answered": ("% answered", "Share of the triggers answered within the window."),
    "share_low": ("% answered (low)", "Lower end of the Wilson interval of the share answered."),
    "share_high": ("% answered (high)", "Upper end of the Wilson interval of the share answered."),
    "answers_known": ("answers of known level", "Answers whose level is known."),
    "mean_response_rank": ("mean answer level", "Mean level number of the answers."),
    "mean_low": ("mean (low)", "Lower end of the t interval of the mean answer level."),
    "mean_high": ("mean (high)", "Upper end of the t interval of the mean answer level."),
    # interrupted time series around named days (analysis.deterrence)
    "outcome": ("daily count of", "The daily series modelled: events, incidence (days with an event), fatalities or injuries."),
    "family": ("model", "poisson (quasi-likelihood) or negbin (negative binomial NB2)."),
    "days_before": ("days before", "Days in the segment before the named day."),
    "days_after": ("days after", "Days in the segment after the named day."),
    "events_before": ("count before", "The series' total in the segment before."),
    "events_after": ("count after", "The series' total in the segment after."),
    "sparse": ("sparse", "A segment holds fewer than the minimum of events: its interval means little."),
    "pre_trend": ("trend before (per day)", "Rate ratio per day of the trend before the named day."),
    "level_change": ("level change", "Rate just after the named day over the rate the earlier trend projects for it (0: no "
                                     "event after; inf: none before)."),
    "level_low": ("level (low)", "Lower end of its Newey-West interval."),
    "level_high": ("level (high)", "Upper end of its Newey-West interval."),
    "level_p": ("level p (HAC)", "p-value of the level change, Newey-West standard error."),
    "slope_change": ("slope change (per day)", "Change of the daily trend after the named day, as a rate ratio per day."),
    "slope_low": ("slope (low)", "Lower end of its interval."),
    "slope_high": ("slope (high)", "Upper end of its interval."),
    "slope_p": ("slope p (HAC)", "p-value of the slope change."),
    "alpha_nb": ("NB dispersion", "Dispersion of the negative binomial model (blank for Poisson)."),
    "hac_lags": ("HAC lags", "Maximum lag (days) of the Newey-West covariance."),
    "placebos": ("placebo dates", "Placebo dates with an estimate: days without a named strike, same model."),
    "placebos_no_estimate": ("placebos without estimate", "Placebo dates left out: no event in their window, or no finite "
                                                          "estimate."),
    "placebo_p": ("placebo p", "(1 + placebo dates with a level change at least as extreme) / (1 + placebo dates)."),
    "independent_windows": ("independent windows", "Eligible placebo days over the window's length: about how many "
                                                   "non-overlapping windows the placebos come from."),
    # load counts, rejects, provenance
    "read": ("read", "Records read from the source."),
    "accepted": ("accepted", "Records accepted as events."),
    "rejected": ("rejected", "Records rejected, each with its reason (rejects table)."),
    "filtered": ("filtered", "Records left out on purpose (e.g. not an attack between the sides)."),
    "merged": ("merged", "Records merged into another event (reports of the same event)."),
    "notes": ("notes", "Notes."),
    "reason": ("reason", "Why the record was rejected or left out."),
    "records": ("records", "Number of records."),
    "item": ("item", "What is recorded."),
    "value": ("value", "Its value."),
    # rates around named days (analysis.panel.rates_around)
    "name": ("named day", "The named event the windows are around."),
    "before_events": ("events before", "Events in the window before the day."),
    "before_days": ("days before", "Length of the window before the day."),
    "after_events": ("events after", "Events in the window after the day."),
    "after_days": ("days after", "Length of the window after the day."),
    "before_rate": ("per day before", "Events per day before the day."),
    "before_low": ("before (low)", "Lower end of the exact Poisson interval of the rate before."),
    "before_high": ("before (high)", "Upper end of the exact Poisson interval of the rate before."),
    "after_rate": ("per day after", "Events per day after the day."),
    "after_low": ("after (low)", "Lower end of the exact Poisson interval of the rate after."),
    "after_high": ("after (high)", "Upper end of the exact Poisson interval of the rate after."),
    "rate_ratio": ("after / before", "Rate after divided by the rate before."),
    "ratio_low": ("ratio (low)", "Lower end of the interval of the rate ratio."),
    "ratio_high": ("ratio (high)", "Upper end of the interval of the rate ratio."),
    # Kaplan-Meier and Cox (analysis.survival)
    "group": ("events of", "The side whose events wait for an answer."),
    "n": ("n", "Number of events (or triggers) used."),
    "max_time": ("longest follow-up (days)", "Longest time followed up."),
    "median": ("median (days)", "Kaplan-Meier median wait for an answer."),
    "median_lower": ("median (low)", "Lower end of the interval of the median."),
    "median_upper": ("median (high)", "Upper end of the interval of the median (blank: not reached)."),
    "tau": ("tau (days)", "Horizon of the restricted mean."),
    "survival_at_tau": ("unanswered at tau", "Kaplan-Meier share not answered by tau."),
    "rmst": ("mean wait to tau (days)", "Restricted mean wait up to tau."),
    "rmst_se": ("its SE", "Standard error of the restricted mean."),
    "rmst_lower": ("its low", "Lower end of the interval of the restricted mean."),
    "rmst_upper": ("its high", "Upper end of the interval of the restricted mean."),
    "model": ("model", "The model (as named in the parameters)."),
    "term": ("term", "The model's term."),
    "coef": ("coefficient", "Estimated coefficient."),
    "se": ("SE", "Standard error."),
    "hr": ("hazard ratio", "Hazard ratio of an answer (above 1: a shorter wait)."),
    "lower": ("low", "Lower end of the interval."),
    "upper": ("high", "Upper end of the interval."),
    "z": ("z", "z statistic."),
    "p": ("p", "p-value."),
    "rho": ("rho", "Correlation of the scaled Schoenfeld residuals with time."),
    "chi2": ("chi2", "Chi-squared statistic."),
    "df": ("df", "Degrees of freedom."),
    # reaction functions and the VAR (analysis.reaction)
    "hypothesis": ("windows of", "Whose past the joint test is about: the trigger side's or the responder's own."),
    "terms": ("terms", "The lag windows tested together."),
    "responder": ("responder", "The side whose daily events are modelled."),
    "trigger": ("trigger", "The other side, whose past events are the regressors."),
    "irr": ("rate ratio", "Incidence-rate ratio per unit of the window sum."),
    "irr_low": ("low", "Lower end of its interval."),
    "irr_high": ("high", "Upper end of its interval."),
    "odds_ratio": ("odds ratio", "Odds ratio per unit of the window sum."),
    "or_low": ("low", "Lower end of its interval."),
    "or_high": ("high", "Upper end of its interval."),
    "nobs": ("days", "Days in the model."),
    "causing": ("past events of", "The side whose past is tested."),
    "caused": ("predict events of", "The side whose events are predicted."),
    "lags": ("lags", "Lags in the VAR."),
    "F": ("F", "F statistic of the Granger test."),
    "df_num": ("df (num.)", "Numerator degrees of freedom."),
    "df_denom": ("df (denom.)", "Denominator degrees of freedom."),
    # Hawkes (analysis.hawkes)
    "expected_background": ("background events", "Events the baseline rate alone would give."),
    "triggered_share": ("share triggered", "Share of the side's events triggered by earlier events."),
    "stationary_share": ("share triggered (stationary)", "Share triggered in the stationary process."),
    "from_{side}": ("triggered by {side}", "Share of the side's events triggered by events of {side}."),
    "method": ("test", "Goodness-of-fit test."),
    "ks_statistic": ("KS statistic", "Kolmogorov-Smirnov statistic of the rescaled times."),
    "label": ("parameter", "The model's parameter."),
    "parameter": ("parameter", "Kind of parameter (mu, alpha, beta)."),
    "estimate": ("estimate", "Estimate."),
    "boot_mean": ("bootstrap mean", "Mean over the bootstrap fits."),
    "boot_se": ("bootstrap SE", "Standard deviation over the bootstrap fits."),
    "ci_low": ("95% low", "2.5% quantile over the bootstrap fits."),
    "ci_high": ("95% high", "97.5% quantile over the bootstrap fits."),
}

#: Severity counts that cycles carry as ``trigger_<count>`` / ``response_<count>``.
_COUNTS = {"fatalities": "people killed", "injuries": "people wounded", "munitions": "munitions fired"}


def define(column: str, labels: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """``(header, definition)`` of a column from :data:`COLUMNS`, or None when it has none.

    Side-dependent columns (``n_us``, ``ended_by_militias``...) are read through their
    ``{side}`` pattern with the side's label; ``trigger_<count>``/``response_<count>`` through
    the count's name.
    """
    labels = dict(labels or {})
    if column in COLUMNS:
        return COLUMNS[column]
    for key, (head, text) in COLUMNS.items():
        if "{side}" in key:
            prefix = key.split("{side}")[0]
            if column.startswith(prefix) and column[len(prefix):] in labels:
                name = labels[column[len(prefix):]]
                return head.format(side=name), text.format(side=name)
        if "{count}" in key:
            prefix = key.split("{count}")[0]
            if column.startswith(prefix) and column[len(prefix):] in _COUNTS:
                name = _COUNTS[column[len(prefix):]]
                return head.format(count=name), text.format(count=name)
    return None


def header(columns: Iterable[str], labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """Column -> its header in a report table (from :data:`COLUMNS`; else the name with spaces)."""
    out = {}
    for c in columns:
        found = define(c, labels)
        out[c] = found[0] if found else str(c).replace("_", " ")
    return out


def dictionary_html(tables: Mapping[str, pd.DataFrame], *, labels: Mapping[str, str] | None = None,
                    hrefs: Mapping[str, str] | None = None) -> render.Html:
    """The data dictionary section: for each table (a CSV beside the report), its columns defined.

    One small table per CSV: the column, its header in the report's tables, its definition. A
    column without an entry in :data:`COLUMNS` (e.g. a column of the source data kept as it was
    read) is listed as such.
    """
    hrefs = dict(hrefs or {})
    blocks = []
    for name, frame in tables.items():
        title = render.link(hrefs[name], f"{name}.csv") if name in hrefs else render.escape(name)
        rows = []
        for c in frame.columns:
            found = define(c, labels)
            head, text = found if found else ("", "A column of the source data, kept as it was read (see its codebook).")
            rows.append(f"<tr><td class=\"nowrap\"><code>{render.escape(c)}</code></td><td>{render.escape(head)}</td>"
                        f"<td>{render.escape(text)}</td></tr>")
        blocks.append(f"<h3>{title}</h3><table class=\"report-table report-dictionary\"><thead><tr><th>column</th>"
                      f"<th>shown as</th><th>definition</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")
    return render.Html("".join(blocks))


#: Measures of the sensitivity grid: of timing (one value per cell) and of escalation (one per tolerance too).
SENSITIVITY_TIMING = ("events", "median_days", "response_ratio", "hawkes_cross_excitation")
SENSITIVITY_ESCALATION = ("answers_labelled", "answers_unknown", "share_escalate", "share_match", "share_de-escalate")


def sensitivity_table(grid: pd.DataFrame, *, escalation: bool = False) -> pd.DataFrame:
    """The sensitivity grid as a report shows it, without repeated rows.

    A setting that changes no number collapses into one row: merging duplicate reports or not
    (``dedup`` ``"on = off"``), and the placing of imprecise dates (e.g. ``"midpoint = dropped =
    earliest = latest"`` when no date is imprecise). Rows go by direction, dedup, dates, tie rule
    and window, in the grid's order.

    Parameters
    ----------
    grid : DataFrame
        Output of :func:`analysis.sensitivity.sensitivity_grid`.
    escalation : bool
        False: the timing measures (:data:`SENSITIVITY_TIMING`), one row per cell. True: the
        escalation labels, one column per tolerance (``"tolerance 0"``...) whose cell reads
        ``"40% · 35% · 25% of 20"``: the shares of the labelled answers that escalate, match and
        de-escalate, and how many were labelled.
    """
    if escalation and "tolerance" not in grid.columns:
        raise ValueError("the sensitivity grid has no tolerance column: build it with tolerances")
    measures = SENSITIVITY_ESCALATION if escalation else SENSITIVITY_TIMING
    values = [c for c in measures if c in grid.columns]
    frame = grid
    if not escalation:
        frame = grid.drop(columns=[c for c in (*SENSITIVITY_ESCALATION, "tolerance") if c in grid.columns]).drop_duplicates()
    keys = ["direction", "ties", "window_days", *(["tolerance"] if escalation else [])]
    settings = [c for c in ("dedup", "dates") if c in frame.columns]
    for column in settings:
        index = keys + [c for c in settings if c != column]
        choices = list(dict.fromkeys(frame[column]))

        def block(choice, frame=frame, column=column, index=index):
            return frame[frame[column] == choice].set_index(index).sort_index()[values]

        if len(choices) > 1 and all(block(c).equals(block(choices[0])) for c in choices[1:]):
            frame = frame[frame[column] == choices[0]].assign(**{column: " = ".join(map(str, choices))})
    order = ["direction", *settings, "ties", "window_days"]
    # in the grid's own order of settings: the order in which values first appear
    ranks = {c: {v: i for i, v in enumerate(dict.fromkeys(frame[c]))} for c in order}
    frame = frame.sort_values(order, key=lambda s: s.map(ranks[s.name]), kind="stable")
    if not escalation:
        return frame[[*order, *values]].reset_index(drop=True)
    cells = [f"{_pct(e)} \u00b7 {_pct(m)} \u00b7 {_pct(d)} of {int(n):,}" if n else "none labelled"
             for e, m, d, n in frame[["share_escalate", "share_match", "share_de-escalate", "answers_labelled"]].itertuples(
                 index=False)]
    wide = frame.assign(cell=cells).pivot(index=order, columns="tolerance", values="cell")
    wide.columns = [f"tolerance {t}" for t in wide.columns]
    return wide.reset_index().sort_values(order, key=lambda s: s.map(ranks[s.name]), kind="stable").reset_index(drop=True)


def write_csv(frame: pd.DataFrame, folder: str | Path, name: str) -> Path:
    """Write ``frame`` as ``<folder>/<name>.csv`` (no index, UTF-8, ``\\n`` line ends, dates as
    ISO text); return the path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return path


def how_to_cite(*, title: str, revision: str, repository: str | None = None, sources: Sequence[Mapping] = (),
                codebooks: Mapping[str, str] | None = None, root: str | Path | None = None) -> render.Html:
    """The "how to cite" line: the code (repository and commit) and the data's own citation.

    Parameters
    ----------
    title : str
        The report's title.
    revision : str
        The commit (``analysis.provenance.git_revision``).
    repository : str, optional
        Where the repository lives (a URL); "this repository" when unknown.
    sources : sequence of mapping
        The dyad spec's sources; a ``citation`` key is quoted as the data's citation, else the
        source is named by its path and its codebook (``codebooks``: path -> codebook path;
        by default a ``README.md`` beside the source under ``root``, the project root).
    """
    if codebooks is None:
        from analysis.paths import resolve

        codebooks = {}
        for source in sources:
            book = Path(str(source.get("path", ""))).parent / "README.md"
            if source.get("path") and resolve(book, root).is_file():
                codebooks[str(source["path"])] = book.as_posix()
    repo = render.link(repository, repository) if repository and render.safe_url(repository) else "this repository"
    data = []
    for source in sources:
        if source.get("citation"):
            data.append(render.escape(source["citation"]))
        else:
            path = str(source.get("path", ""))
            book = codebooks.get(path)
            cite = f" (cite as its codebook, <code>{render.escape(book)}</code>, says)" if book else ""
            data.append(f"<code>{render.escape(path)}</code>" + cite)
    text = (f"<strong>How to cite:</strong> {render.escape(title)}, escalation-cycles report, {repo}, commit "
            f"<code>{render.escape(revision)}</code>. Data: {'; '.join(data) if data else 'as listed under Provenance'}.")
    return render.Html(f'<p class="report-cite">{text}</p>')


def table(frame: pd.DataFrame, *, labels: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None,
          side_columns: Sequence[str] = (), **kwargs) -> render.Html:
    """A report table: :func:`analysis.render.table` with headers from the data dictionary.

    ``headers`` override the dictionary; ``side_columns`` hold side keys, shown as their labels
    (and directions ``"a -> b"`` as ``"A → B"``).
    """
    labels = dict(labels or {})
    shown = frame.copy()
    for column in side_columns:
        if column in shown.columns:  # tables differ between dyads and models: a missing column is no error
            shown[column] = shown[column].map(lambda v: direction_label(v, labels) if isinstance(v, str) else v)
    names = header(shown.columns, labels)
    names.update(headers or {})
    return render.table(shown, headers=names, **kwargs)


def direction_label(value: str, labels: Mapping[str, str]) -> str:
    """A side key as its label, and a direction ``"a -> b"`` as ``"A → B"``."""
    src, arrow, dst = str(value).partition(" -> ")
    if arrow:
        return f"{labels.get(src, src)} \u2192 {labels.get(dst, dst)}"
    return labels.get(value, value)


def cycles_preview(cycles: pd.DataFrame, events: pd.DataFrame, *, rows: int | None = None) -> pd.DataFrame:
    """The strike -> response table as a report shows it: ids with their source URLs and places.

    Columns: ``trigger_id``, ``trigger_url``, ``trigger_date``, ``trigger_side``, ``trigger_kind``,
    ``trigger_location``, ``response_id``, ``response_url``, ``response_date``, ``interval_days``,
    ``censor_reason`` (link the ids to the URLs with ``links={"trigger_id": "trigger_url",
    "response_id": "response_url"}``): what fits a page. The answer's side (the other side), kind
    and place are in the CSV.
    """
    from analysis.cycles import with_event_details

    detail = with_event_details(cycles, events, columns=("location", "url"))
    detail = detail.sort_values(["trigger_date", "trigger_id"], kind="stable")
    out = detail[["trigger_id", "trigger_url", "trigger_date", "trigger_side", "trigger_kind", "trigger_location",
                  "response_id", "response_url", "response_date", "interval_days", "censor_reason"]]
    return (out if rows is None else out.head(rows)).reset_index(drop=True)


def related_links(links: Mapping[str, str | None]) -> render.Html:
    """A line linking the other reports of the dyad: text -> href (empty hrefs are left out)."""
    shown = [render.link(href, text) for text, href in links.items() if href]
    return render.Html('<p class="report-related">' + " \u00b7 ".join(shown) + "</p>" if shown else "")


def repository_url(root: str | Path | None = None) -> str | None:
    """The URL of the repository's ``origin`` remote, or None (no remote, or not a git checkout)."""
    import subprocess

    from analysis.paths import project_root

    try:
        done = subprocess.run(["git", "config", "--get", "remote.origin.url"], cwd=root or project_root(),
                              capture_output=True, text=True, check=False)
    except OSError:
        return None
    url = done.stdout.strip()
    if url.startswith("git@") and ":" in url:  # git@github.com:owner/name.git -> https://github.com/owner/name
        host, _, path = url[4:].partition(":")
        url = f"https://{host}/{path}"
    url = re.sub(r"\.git$", "", url)
    return url if render.safe_url(url) and url.startswith("http") else None
