"""The severity ladder: an ordered level for every event, and whether each answer escalates.

Ladder
    An ordered list of levels, least severe first, and the way events are placed on it, in
    one of two forms:

    *Rules* (``rules:``): each rule names a level and conditions on the event's columns; an
    event is at the highest level whose rule holds. Conditions: ``kind`` (the event's kind is
    one of a list), ``side`` (the acting side is one of a list), ``min`` and ``max``
    (column -> bound: every listed column at least / at most the bound), ``matches``
    (column -> case-insensitive regular expression found in the text). All of a rule's
    conditions must hold. Rules are listed from the most severe level down, so the first
    rule that holds is the one that placed the event (``severity_reason``).

    *Score* (``score:`` with ``from`` bounds on the levels): a numeric column (fatalities for
    per-fatality records, GDELT's Goldstein ``weight``) cut into levels: an event is at the
    last level whose ``from`` it reaches (``more_severe: lower`` for scales where lower is
    worse, as Goldstein's conflict scores are negative).

    A ladder with rules may also name a ``score`` column: it does not place events, it gives
    the numeric scale of the proportionality ratio.

Unknown
    A missing input is never read as zero. A condition on a missing value is undecided, and
    a rule with an undecided condition is undecided unless another of its conditions already
    fails. An event is placed only when no undecided rule could put it higher than the
    highest rule that holds; otherwise its level is ``unknown``, with ``severity_low`` and
    ``severity_high`` bounding where it could be and ``severity_reason`` naming the rule and
    the missing columns. An event that no rule places at all is ``unknown`` too ("no rule of
    the ladder applies"). ``missing_as_zero`` lists columns whose missing values the
    researcher decides to read as 0; the reason then says so.

Escalation of an answer
    For a trigger and its response (the pairs of :func:`analysis.cycles.build_cycles`), the
    change of level ``response - trigger``: ``escalate`` when it exceeds ``tolerance``,
    ``de-escalate`` when it is below ``-tolerance``, ``match`` otherwise. When a level is
    unknown the label is still given when every level the bounds allow gives the same label
    (a response at least ``killed`` after a trigger at most ``wounded`` escalates); else it is
    ``unknown``. The proportionality ratio is ``response score / trigger score`` where the
    ladder has a score (missing when the trigger's score is 0 or either is missing).

Response curves (Berman, Khadka, Klinenberg & Klor 2024)
    The probability that a trigger is answered within the window, and the level of the
    answer, as functions of the trigger's level: per level, the share answered with a Wilson
    interval and the mean level of the answers with a t interval; and per direction a logit
    of answered on the trigger's level and an ordered logit of the answer's level on it.
    Triggers whose window runs past the end of the data (``censor_reason == "study_end"``)
    are left out: their follow-up is incomplete.

The ladder of a dyad is the spec's ``severity:`` section (:func:`ladder_from_spec`); without
one, :data:`DEFAULT_LADDER` applies. Example (``dyads/us-iran-proxies.yaml``)::

    severity:
      levels: [no casualties, heavy fire or strike, wounded, killed, mass casualty or commander killed]
      score: fatalities
      rules:
        - {name: commander killed, level: mass casualty or commander killed,
           min: {fatalities: 1}, matches: {target: '\\bcommander\\b'}}
        - {name: killed, level: killed, min: {fatalities: 1}}
        - {name: no casualties, level: no casualties, max: {fatalities: 0, injuries: 0}}

References
----------
Berman, E., Khadka, P. B., Klinenberg, D. & Klor, E. F. (2024). Deterrence through response
curves: an empirical analysis of the Gaza-Israel conflict. NBER Working Paper 33273.
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
Journal of the American Statistical Association 22(158), 209-212.
McCullagh, P. (1980). Regression models for ordinal data. Journal of the Royal Statistical
Society B 42(2), 109-142 (the proportional-odds model).
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from analysis.schema import KINDS
from analysis.warnings import ResponseCurveWarning

__all__ = [
    "DEFAULT_LADDER",
    "DEFAULT_SECTION",
    "ESCALATION_LABELS",
    "LADDER_KEYS",
    "LEVEL_KEYS",
    "RULE_KEYS",
    "UNKNOWN",
    "Ladder",
    "ResponseCurveWarning",
    "ResponseModels",
    "Rule",
    "assign_severity",
    "escalation_matrix",
    "label_answers",
    "ladder_from_spec",
    "matrix_table",
    "parse_ladder",
    "response_curve",
    "response_models",
]

#: The level of an event whose inputs cannot place it.
UNKNOWN = "unknown"
#: Labels of an answer, in order, then ``unknown``.
ESCALATION_LABELS = ("de-escalate", "match", "escalate", UNKNOWN)
#: Keys a ``severity:`` section accepts.
LADDER_KEYS = ("levels", "rules", "score", "more_severe", "missing_as_zero", "description")
#: Keys a rule accepts.
RULE_KEYS = ("name", "level", "kind", "side", "min", "max", "matches")
#: Keys a level accepts when given as a mapping (score ladders).
LEVEL_KEYS = ("name", "from")



@dataclass(frozen=True)
class Rule:
    """One rule of a ladder: the level it places an event at, and its conditions.

    ``key`` is where the rule was written (``severity.rules[2]``), for error messages.
    """

    name: str
    level: int
    kind: tuple[str, ...] | None = None
    side: tuple[str, ...] | None = None
    minimum: tuple[tuple[str, float], ...] = ()
    maximum: tuple[tuple[str, float], ...] = ()
    matches: tuple[tuple[str, str], ...] = ()
    key: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        """The event columns the rule reads (``kind``/``side`` excluded: see :class:`Ladder`)."""
        cols = [c for c, _ in self.minimum] + [c for c, _ in self.maximum] + [c for c, _ in self.matches]
        return tuple(dict.fromkeys(cols))


@dataclass(frozen=True)
class Ladder:
    """A parsed severity ladder. Build one with :func:`parse_ladder` or :func:`ladder_from_spec`.

    Attributes
    ----------
    levels : tuple of str
        Level names, least severe first; level ``i`` is written ``"<i> <name>"``.
    rules : tuple of Rule
        Rules, most severe level first (empty for a score ladder).
    score : str or None
        Numeric column: places events when there are no rules; else the scale of the
        proportionality ratio.
    bounds : tuple
        For a score ladder, the ``from`` of each level (None for an open first level).
    more_severe : {"higher", "lower"}
        Which way the score grows more severe.
    missing_as_zero : tuple of str
        Columns whose missing values are read as 0, by the researcher's choice.
    origin : str
        Where the ladder was written (a spec file, or this module), for error messages.
    """

    levels: tuple[str, ...]
    rules: tuple[Rule, ...] = ()
    score: str | None = None
    bounds: tuple[float | None, ...] = ()
    more_severe: str = "higher"
    missing_as_zero: tuple[str, ...] = ()
    origin: str = "analysis.severity.DEFAULT_LADDER"
    description: str = ""

    @property
    def labels(self) -> tuple[str, ...]:
        """``"<i> <name>"`` for every level, least severe first."""
        return tuple(f"{i} {name}" for i, name in enumerate(self.levels))

    @property
    def categories(self) -> tuple[str, ...]:
        """The values ``severity_level`` takes: the labels, then ``unknown``."""
        return (*self.labels, UNKNOWN)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every event column the ladder reads, besides ``kind`` and the side."""
        cols = [c for r in self.rules for c in r.columns] + ([self.score] if self.score else [])
        return tuple(dict.fromkeys(cols + list(self.missing_as_zero)))


# ---------------------------------------------------------------------------------------------
# Parsing and checking a ladder
# ---------------------------------------------------------------------------------------------

#: Words that name a leader or commander in a target description.
LEADER_PATTERN = r"\b(commander|leader|chief of staff|secretary[- ]general)\b"

#: The default ladder, written as a ``severity:`` section would be. Thresholds are this
#: package's conventions, not a published scale: five or more killed, or twenty or more
#: wounded, is a mass-casualty event; ten or more munitions is heavy fire.
DEFAULT_SECTION: dict[str, Any] = {
    "description": "default ladder of analysis.severity (casualties, munitions, kind and target)",
    "levels": ["no casualties", "heavy fire or strike", "wounded", "killed", "mass casualty or leader killed"],
    "rules": [
        {"name": "leader killed", "level": "mass casualty or leader killed", "min": {"fatalities": 1},
         "matches": {"target": LEADER_PATTERN}},
        {"name": "five or more killed", "level": "mass casualty or leader killed", "min": {"fatalities": 5}},
        {"name": "twenty or more wounded", "level": "mass casualty or leader killed", "min": {"injuries": 20}},
        {"name": "killed", "level": "killed", "min": {"fatalities": 1}},
        {"name": "wounded", "level": "wounded", "min": {"injuries": 1}},
        {"name": "ten or more munitions", "level": "heavy fire or strike", "min": {"munitions": 10}},
        {"name": "air or missile strike", "level": "heavy fire or strike", "kind": ["airstrike", "drone_strike", "missile"]},
        {"name": "no casualties", "level": "no casualties", "max": {"fatalities": 0, "injuries": 0}},
    ],
}


class _Where:
    """Builds error messages that name the file and the key."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def error(self, key: str, message: str) -> ValueError:
        return ValueError(f"{self.origin}: {key}: {message}")


def _check_keys(body: Any, allowed: Sequence[str], key: str, where: _Where) -> dict:
    if not isinstance(body, Mapping):
        raise where.error(key, f"expected a mapping with keys {', '.join(allowed)}, got {body!r}")
    unknown = [k for k in body if k not in allowed]
    if unknown:
        raise where.error(key, f"unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(allowed)}")
    return dict(body)


def _str_list(value: Any, key: str, where: _Where) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not value or not all(isinstance(v, str) for v in value):
        raise where.error(key, f"expected a name or a non-empty list of names, got {value!r}")
    return tuple(value)


def _bounds(value: Any, key: str, where: _Where) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, Mapping) or not value:
        raise where.error(key, f"expected a mapping column -> number, got {value!r}")
    out = []
    for col, bound in value.items():
        if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not np.isfinite(bound):
            raise where.error(f"{key}.{col}", f"expected a number, got {bound!r}")
        out.append((str(col), float(bound)))
    return tuple(out)


def _level_index(value: Any, levels: Sequence[str], key: str, where: _Where) -> int:
    if isinstance(value, bool):
        raise where.error(key, f"expected a level name or number, got {value!r}")
    if isinstance(value, int):
        if 0 <= value < len(levels):
            return value
    elif isinstance(value, str) and value in levels:
        return list(levels).index(value)
    named = ", ".join(f"{i} {name!r}" for i, name in enumerate(levels))
    raise where.error(key, f"{value!r} is not a level of this ladder ({named})")


def parse_ladder(section: Mapping[str, Any], *, origin: str = "severity section", sides: Sequence[str] | None = None) -> Ladder:
    """Check a ``severity:`` section and build its :class:`Ladder`.

    Parameters
    ----------
    section : mapping
        The section, as read from YAML (see the module notes and :data:`LADDER_KEYS`).
    origin : str
        Where it was written, e.g. the spec's path; every error message starts with it.
    sides : sequence of str, optional
        Side keys a rule's ``side`` may name (the spec's analysed sides).

    Raises
    ------
    ValueError
        Naming ``origin`` and the key (``severity.rules[2].min.fatalities``): an unknown key,
        a level that is not in ``levels``, duplicate levels, a kind not in
        :data:`analysis.schema.KINDS`, an unknown side, a bound that is not a number, a
        pattern that is not a regular expression, rules not listed from the most severe level
        down, ``from`` bounds not in the order of the levels, neither ``rules`` nor
        ``score``.
    """
    where = _Where(origin)
    section = _check_keys(section, LADDER_KEYS, "severity", where)
    raw_levels = section.get("levels")
    if not isinstance(raw_levels, Sequence) or isinstance(raw_levels, str) or len(raw_levels) < 2:
        raise where.error("severity.levels", f"expected a list of at least two levels, least severe first, got {raw_levels!r}")
    more_severe = section.get("more_severe", "higher")
    if more_severe not in ("higher", "lower"):
        raise where.error("severity.more_severe", f"expected 'higher' or 'lower', got {more_severe!r}")
    score = section.get("score")
    if score is not None and not isinstance(score, str):
        raise where.error("severity.score", f"expected a column name, got {score!r}")
    has_rules = "rules" in section

    names: list[str] = []
    bounds: list[float | None] = []
    for i, level in enumerate(raw_levels):
        key = f"severity.levels[{i}]"
        if isinstance(level, Mapping):
            level = _check_keys(level, LEVEL_KEYS, key, where)
            name, bound = level.get("name"), level.get("from")
        else:
            name, bound = level, None
        if not isinstance(name, str) or not name.strip():
            raise where.error(key, f"a level needs a name, got {name!r}")
        if name == UNKNOWN:
            raise where.error(key, f"'{UNKNOWN}' is reserved for events the ladder cannot place")
        if name in names:
            raise where.error(key, f"level {name!r} is listed twice")
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float))):
            raise where.error(f"{key}.from", f"expected a number, got {bound!r}")
        names.append(name)
        bounds.append(None if bound is None else float(bound))

    if has_rules:
        if any(b is not None for b in bounds):
            i = next(i for i, b in enumerate(bounds) if b is not None)
            raise where.error(f"severity.levels[{i}].from", "levels of a ladder with rules take no 'from' (rules place events)")
        raw_rules = section["rules"]
        if not isinstance(raw_rules, Sequence) or isinstance(raw_rules, str) or not raw_rules:
            raise where.error("severity.rules", f"expected a non-empty list of rules, got {raw_rules!r}")
        rules = []
        for i, body in enumerate(raw_rules):
            key = f"severity.rules[{i}]"
            body = _check_keys(body, RULE_KEYS, key, where)
            if "level" not in body:
                raise where.error(key, "a rule needs a 'level'")
            level = _level_index(body["level"], names, f"{key}.level", where)
            kind = _str_list(body["kind"], f"{key}.kind", where) if "kind" in body else None
            if kind is not None and (bad := [k for k in kind if k not in KINDS]):
                raise where.error(f"{key}.kind", f"{bad} not among the kinds {', '.join(KINDS)}")
            side = _str_list(body["side"], f"{key}.side", where) if "side" in body else None
            if side is not None and sides is not None and (bad := [s for s in side if s not in sides]):
                raise where.error(f"{key}.side", f"{bad} not among the dyad's sides {', '.join(sides)}")
            minimum = _bounds(body["min"], f"{key}.min", where) if "min" in body else ()
            maximum = _bounds(body["max"], f"{key}.max", where) if "max" in body else ()
            matches = []
            if "matches" in body:
                if not isinstance(body["matches"], Mapping) or not body["matches"]:
                    raise where.error(f"{key}.matches",
                                      f"expected a mapping column -> regular expression, got {body['matches']!r}")
                for col, pattern in body["matches"].items():
                    try:
                        re.compile(str(pattern))
                    except re.error as exc:
                        raise where.error(f"{key}.matches.{col}",
                                          f"{pattern!r} is not a valid regular expression ({exc})") from exc
                    matches.append((str(col), str(pattern)))
            if kind is None and side is None and not minimum and not maximum and not matches:
                raise where.error(key, "a rule needs at least one condition (kind, side, min, max, matches)")
            name = body.get("name", f"rule {i}")
            rules.append(Rule(name=str(name), level=level, kind=kind, side=side, minimum=minimum,
                              maximum=maximum, matches=tuple(matches), key=key))
        for i in range(1, len(rules)):
            if rules[i].level > rules[i - 1].level:
                raise where.error(
                    f"{rules[i].key}.level",
                    f"rule {rules[i].name!r} (level {names[rules[i].level]!r}) comes after rule {rules[i - 1].name!r} "
                    f"(level {names[rules[i - 1].level]!r}): list rules from the most severe level down",
                )
        bounds_t: tuple[float | None, ...] = ()
    else:
        if score is None:
            raise where.error("severity", "a ladder needs 'rules' or a 'score' column with 'from' bounds on its levels")
        rules = []
        if any(b is None for b in bounds[1:]):
            i = 1 + next(i for i, b in enumerate(bounds[1:]) if b is None)
            raise where.error(f"severity.levels[{i}]", f"every level but the first needs a 'from' bound on '{score}'")
        sign = 1 if more_severe == "higher" else -1
        given = [(i, b) for i, b in enumerate(bounds) if b is not None]
        for (_, b0), (i1, b1) in itertools.pairwise(given):
            if sign * (b1 - b0) <= 0:
                word = "above" if sign > 0 else "below"
                raise where.error(
                    f"severity.levels[{i1}].from",
                    f"{b1:g} is not {word} the previous level's {b0:g}: levels go from least to most severe "
                    f"(more_severe: {more_severe})",
                )
        bounds_t = tuple(bounds)
    zero = _str_list(section["missing_as_zero"], "severity.missing_as_zero", where) if "missing_as_zero" in section else ()
    return Ladder(levels=tuple(names), rules=tuple(rules), score=score, bounds=bounds_t, more_severe=more_severe,
                  missing_as_zero=zero, origin=origin, description=str(section.get("description", "")).strip())


#: The ladder used when a dyad spec has no ``severity:`` section.
DEFAULT_LADDER = parse_ladder(DEFAULT_SECTION, origin="analysis.severity.DEFAULT_SECTION")


def ladder_from_spec(spec: Any) -> Ladder:
    """The ladder of a dyad spec: its ``severity:`` section, or :data:`DEFAULT_LADDER`.

    Parameters
    ----------
    spec : analysis.dyads.DyadSpec
        Reads ``spec.raw["severity"]``; errors name ``spec.path`` and the key.
    """
    section = (spec.raw or {}).get("severity")
    if section is None:
        return DEFAULT_LADDER
    return parse_ladder(section, origin=str(spec.path or spec.name), sides=list(spec.side_keys))


# ---------------------------------------------------------------------------------------------
# Placing events on the ladder
# ---------------------------------------------------------------------------------------------


def _numeric(events: pd.DataFrame, col: str, ladder: Ladder) -> np.ndarray:
    values = pd.to_numeric(events[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if col in ladder.missing_as_zero:
        values = np.where(np.isnan(values), 0.0, values)
    return values


def _check_columns(events: pd.DataFrame, ladder: Ladder, side_col: str, kind_col: str) -> None:
    have = set(events.columns)
    for rule in ladder.rules:
        for part, cols in (("min", [c for c, _ in rule.minimum]), ("max", [c for c, _ in rule.maximum]),
                           ("matches", [c for c, _ in rule.matches])):
            for col in cols:
                if col not in have:
                    raise ValueError(
                        f"{ladder.origin}: {rule.key}.{part}.{col}: rule {rule.name!r} reads column {col!r}, which the "
                        f"events table does not have; columns are: {', '.join(map(str, events.columns))}"
                    )
        for part, col in (("kind", kind_col), ("side", side_col)):
            if getattr(rule, part) is not None and col not in have:
                raise ValueError(f"{ladder.origin}: {rule.key}.{part}: the events table has no {col!r} column")
    for key, col in (("severity.score", ladder.score), *(("severity.missing_as_zero", c) for c in ladder.missing_as_zero)):
        if col is not None and col not in have:
            raise ValueError(f"{ladder.origin}: {key}: column {col!r} is not in the events table; "
                             f"columns are: {', '.join(map(str, events.columns))}")


def _rule_state(rule: Rule, events: pd.DataFrame, ladder: Ladder, side_col: str,
                kind_col: str) -> tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray]]]:
    """Kleene three-valued truth of a rule: (holds, fails, [(column, undecided mask)])."""
    n = len(events)
    holds = np.ones(n, dtype=bool)
    fails = np.zeros(n, dtype=bool)
    missing: list[tuple[str, np.ndarray]] = []

    def add(true: np.ndarray, known: np.ndarray, col: str) -> None:
        nonlocal holds, fails
        holds &= true & known
        fails |= ~true & known
        missing.append((col, ~known))

    for part, col in (("kind", kind_col), ("side", side_col)):
        allowed = getattr(rule, part)
        if allowed is not None:
            values = events[col].astype("string")
            add(values.isin(list(allowed)).fillna(False).to_numpy(dtype=bool), values.notna().to_numpy(), col)
    for col, bound in rule.minimum:
        values = _numeric(events, col, ladder)
        add(values >= bound, ~np.isnan(values), col)
    for col, bound in rule.maximum:
        values = _numeric(events, col, ladder)
        add(values <= bound, ~np.isnan(values), col)
    for col, pattern in rule.matches:
        # Python's re (the syntax parse_ladder checked), on plain objects: a column that is all
        # missing keeps a string dtype through Series.map, which cannot hold False
        text = events[col].astype("string").to_numpy(dtype=object, na_value=None)
        search = re.compile(pattern, flags=re.IGNORECASE).search
        known = np.array([t is not None for t in text], dtype=bool)
        add(np.array([t is not None and search(t) is not None for t in text], dtype=bool), known, col)
    return holds, fails, missing


def _join_names(masks: list[tuple[str, np.ndarray]], n: int) -> np.ndarray:
    """Per row, the names whose mask is set, joined by ', ' (object array of str)."""
    out = np.full(n, "", dtype=object)
    for name, mask in masks:
        out = np.where(mask, np.where(out == "", name, out + ", " + name), out)
    return out


def assign_severity(
    events: pd.DataFrame,
    ladder: Ladder = DEFAULT_LADDER,
    *,
    side_col: str = "side",
    kind_col: str = "kind",
) -> pd.DataFrame:
    """Place every event on the ladder.

    Parameters
    ----------
    events : DataFrame
        Events with the columns the ladder reads. Not modified.
    ladder : Ladder
        From :func:`ladder_from_spec` or :func:`parse_ladder`.
    side_col, kind_col : str
        Columns holding the acting side and the kind (for rules with ``side`` / ``kind``).

    Returns
    -------
    DataFrame
        A copy with ``severity_level`` (categorical: ``"<i> <name>"`` or ``"unknown"``),
        ``severity_rank`` (Int64: ``i``, missing when unknown), ``severity_low`` and
        ``severity_high`` (Int64 bounds of the level: equal to the rank when known; for an
        unknown level the highest rule that holds and the highest that might, missing when
        nothing bounds it), ``severity_reason`` (the rule or bound that placed the event, or
        why it is unknown) and, when the ladder has a score, ``severity_score`` (Float64).

    Raises
    ------
    ValueError
        When the events lack a column the ladder reads; the message names the ladder's file,
        the key and the columns the events have.
    """
    _check_columns(events, ladder, side_col, kind_col)
    if ladder.rules:
        rank, low, high, why = _place_by_rules(events, ladder, side_col, kind_col)
        used = [c for r in ladder.rules for c in r.columns]
    else:
        rank, low, high, why = _place_by_score(events, ladder)
        used = [ladder.score]
    note = _missing_as_zero_note(events, ladder, used)
    why = np.where(note != "", why + note, why)
    known = rank >= 0
    labels = np.array(ladder.labels, dtype=object)
    out = events.copy()
    out["severity_level"] = pd.Categorical(np.where(known, labels[np.maximum(rank, 0)], UNKNOWN),
                                           categories=list(ladder.categories))
    out["severity_rank"] = _int_or_missing(rank, ~known)
    out["severity_low"] = _int_or_missing(low, low < 0)
    out["severity_high"] = _int_or_missing(high, (high < 0) | (low < 0))
    out["severity_reason"] = pd.array(why.astype(str), dtype="string")
    if ladder.score:
        score = _numeric(events, ladder.score, ladder)
        out["severity_score"] = pd.arrays.FloatingArray(np.nan_to_num(score), np.isnan(score))
    return out


def _int_or_missing(values: np.ndarray, missing: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), np.asarray(missing, dtype=bool))


def _place_by_rules(events: pd.DataFrame, ladder: Ladder, side_col: str, kind_col: str) -> tuple[np.ndarray, ...]:
    """Rank (-1 when unknown), bounds and reason of every event under a rules ladder."""
    n = len(events)
    labels = np.array(ladder.labels, dtype=object)
    low = np.full(n, -1, dtype=np.int64)  # highest level of a rule that holds
    high = np.full(n, -1, dtype=np.int64)  # highest level of a rule that holds or might
    reason = np.full(n, "", dtype=object)  # the first rule that holds (the most severe)
    doubt = np.full(n, "", dtype=object)  # the most severe undecided rule above ``low``
    doubted = np.zeros(n, dtype=bool)
    for rule in ladder.rules:  # most severe first
        holds, fails, missing = _rule_state(rule, events, ladder, side_col, kind_col)
        undecided = ~holds & ~fails
        reason = np.where(holds & (low < 0), f"rule {rule.name!r}", reason)
        low = np.where(holds, np.maximum(low, rule.level), low)
        high = np.where(holds | undecided, np.maximum(high, rule.level), high)
        new_doubt = undecided & ~doubted & (low < rule.level)
        if new_doubt.any():
            cols = _join_names([(c, m & new_doubt) for c, m in missing], n)
            doubt[new_doubt] = [f"rule {rule.name!r} ({labels[rule.level]}) needs {c}" for c in cols[new_doubt]]
            doubted |= new_doubt
    known = (low >= 0) & (low == high)
    at_least = np.where(low >= 0, "at least " + labels[np.maximum(low, 0)] + " by " + reason + "; ", "")
    why = np.where(known, reason,
                   np.where(high < 0, "unknown: no rule of the ladder applies", "unknown: " + at_least + doubt))
    return np.where(known, low, -1), low, high, why


def _place_by_score(events: pd.DataFrame, ladder: Ladder) -> tuple[np.ndarray, ...]:
    """Rank (-1 when unknown), bounds and reason of every event under a score ladder."""
    score = _numeric(events, ladder.score, ladder)
    sign = 1.0 if ladder.more_severe == "higher" else -1.0
    bounds = np.array([-np.inf if b is None else sign * b for b in ladder.bounds])
    has = ~np.isnan(score)
    # the last level whose ``from`` the score reaches (signed, so that higher is always worse)
    idx = np.searchsorted(bounds, np.where(has, sign * score, -np.inf), side="right") - 1
    below = has & (idx < 0)
    rank = np.where(has & ~below, idx, -1)
    op = ">=" if sign > 0 else "<="
    shown = np.array([f"{v:g}" if ok else "" for v, ok in zip(score, has)], dtype=object)
    bound_text = np.array(["" if b is None else f" ({op} {b:g})" for b in ladder.bounds], dtype=object)
    name = ladder.score
    why = np.where(rank >= 0, f"{name} = " + shown + bound_text[np.maximum(rank, 0)],
                   np.where(below, f"unknown: {name} = " + shown + " is beyond the least severe level's from",
                            f"unknown: {name} missing"))
    return rank, rank, rank, why


def _missing_as_zero_note(events: pd.DataFrame, ladder: Ladder, used: Sequence[str]) -> np.ndarray:
    """Per event, a note naming the columns read as 0 by ``missing_as_zero``."""
    cols = [c for c in dict.fromkeys(used) if c in ladder.missing_as_zero]
    masks = [(c, events[c].isna().to_numpy()) for c in cols]
    names = _join_names(masks, len(events))
    return np.where(names != "", "; " + names.astype(object) + " missing, read as 0 (missing_as_zero)", "")


# ---------------------------------------------------------------------------------------------
# Answers: escalate, match or de-escalate
# ---------------------------------------------------------------------------------------------


def label_answers(
    cycles: pd.DataFrame,
    events: pd.DataFrame,
    *,
    tolerance: int = 0,
    id_col: str = "event_id",
) -> pd.DataFrame:
    """Give every answered trigger its level, its response's level and the escalation label.

    Parameters
    ----------
    cycles : DataFrame
        Output of :func:`analysis.cycles.build_cycles` (``trigger_id``, ``response_id``
        missing when censored, ...). Not modified.
    events : DataFrame
        Output of :func:`assign_severity`, with ``id_col``.
    tolerance : int
        Levels within which a response matches its trigger (0: only the same level).
    id_col : str
        Event id column of ``events``.

    Returns
    -------
    DataFrame
        ``cycles`` with ``trigger_level``, ``response_level`` (categorical labels; the
        response's missing when censored), ``trigger_rank``, ``response_rank``,
        ``level_difference`` (response minus trigger; ``level_change`` names the
        rate ratio of :mod:`analysis.deterrence`), ``escalation`` (``escalate``, ``match``,
        ``de-escalate``, ``unknown``; missing for censored triggers) and, when the events
        carry ``severity_score``, ``trigger_score``, ``response_score`` and
        ``proportionality`` (response score / trigger score; missing when the trigger's score
        is 0 or a score is missing).

    Notes
    -----
    With unknown levels the label uses the bounds ``severity_low``..``severity_high``: it is
    the label every pair of levels within the bounds would get, else ``unknown``.
    """
    if not isinstance(tolerance, (int, np.integer)) or isinstance(tolerance, bool) or tolerance < 0:
        raise ValueError(f"tolerance must be a whole number of levels >= 0, got {tolerance!r}")
    need = [id_col, "severity_level", "severity_rank", "severity_low", "severity_high"]
    absent = [c for c in need if c not in events.columns]
    if absent:
        raise ValueError(f"events has no {absent} column(s) (place them with analysis.severity.assign_severity first); "
                         f"columns are: {', '.join(map(str, events.columns))}")
    for col in ("trigger_id", "response_id"):
        if col not in cycles.columns:
            raise ValueError(f"cycles has no '{col}' column; columns are: {', '.join(map(str, cycles.columns))}")
    by_id = events.set_index(events[id_col].astype("string"))[[c for c in (*need[1:], "severity_score") if c in events.columns]]
    if not by_id.index.is_unique:
        raise ValueError(f"events has duplicate '{id_col}' values")
    lost = ~cycles["trigger_id"].astype("string").isin(by_id.index)
    if lost.any():
        raise ValueError(f"{int(lost.sum())} trigger_id(s) of cycles are not in events, "
                         f"e.g. {cycles.loc[lost, 'trigger_id'].head(3).tolist()}")
    out = cycles.copy()
    trig = by_id.reindex(cycles["trigger_id"].astype("string"))
    resp = by_id.reindex(cycles["response_id"].astype("string"))
    categories = events["severity_level"].cat.categories if hasattr(events["severity_level"], "cat") else None
    for prefix, part in (("trigger", trig), ("response", resp)):
        out[f"{prefix}_level"] = pd.Categorical(part["severity_level"].to_numpy(), categories=categories)
        out[f"{prefix}_rank"] = part["severity_rank"].astype("Int64").array  # Int64 whether or not a rank is missing
    answered = cycles["response_id"].notna().to_numpy()
    out["level_difference"] = (out["response_rank"] - out["trigger_rank"]).astype("Int64")

    t_lo, t_hi = (trig[c].astype("Float64").to_numpy(dtype=float, na_value=np.nan) for c in ("severity_low", "severity_high"))
    r_lo, r_hi = (resp[c].astype("Float64").to_numpy(dtype=float, na_value=np.nan) for c in ("severity_low", "severity_high"))
    with np.errstate(invalid="ignore"):
        escalate = (r_lo - t_hi) > tolerance
        de_escalate = (t_lo - r_hi) > tolerance
        match = np.maximum(r_hi - t_lo, t_hi - r_lo) <= tolerance
    label = np.select([escalate, de_escalate, match], ["escalate", "de-escalate", "match"], default=UNKNOWN).astype(object)
    label[~answered] = None
    out["escalation"] = pd.array(label, dtype="string")

    if "severity_score" in by_id.columns:
        ts = trig["severity_score"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        rs = resp["severity_score"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        out["trigger_score"] = pd.array(ts, dtype="Float64")
        out["response_score"] = pd.array(rs, dtype="Float64")
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(ts != 0, rs / ts, np.nan)
        out["proportionality"] = pd.array(ratio, dtype="Float64")
        for col, values in (("trigger_score", ts), ("response_score", rs), ("proportionality", ratio)):
            out.loc[np.isnan(values), col] = pd.NA
    return out


def escalation_matrix(answers: pd.DataFrame, *, include_unanswered: bool = False) -> pd.DataFrame:
    """Trigger level x response level, per direction, as a long table.

    Parameters
    ----------
    answers : DataFrame
        Output of :func:`label_answers`.
    include_unanswered : bool
        Add a response level ``"no response"`` counting censored triggers.

    Returns
    -------
    DataFrame
        One row per trigger side x trigger level x response level (every combination of the
        ladder's levels and ``unknown``, zeros included): ``trigger_side``, ``trigger_level``,
        ``response_level``, ``pairs`` (answered triggers; a response answering several
        triggers counts for each) and ``row_share`` (of the trigger level's pairs).
    """
    levels = list(answers["trigger_level"].cat.categories)
    responses = levels + (["no response"] if include_unanswered else [])
    rows = []
    for side in sorted(answers["trigger_side"].dropna().unique()):
        mine = answers.loc[answers["trigger_side"] == side]
        if not include_unanswered:
            mine = mine.loc[mine["response_id"].notna()]
        resp = mine["response_level"].astype(object).where(mine["response_id"].notna(), "no response")
        table = pd.crosstab(mine["trigger_level"].astype(object), resp).reindex(index=levels, columns=responses, fill_value=0)
        long = table.stack().rename("pairs").reset_index()
        long.columns = ["trigger_level", "response_level", "pairs"]
        totals = long.groupby("trigger_level", sort=False)["pairs"].transform("sum")
        long["row_share"] = long["pairs"] / totals.where(totals > 0)
        long.insert(0, "trigger_side", side)
        rows.append(long)
    if not rows:
        return pd.DataFrame(columns=["trigger_side", "trigger_level", "response_level", "pairs", "row_share"])
    out = pd.concat(rows, ignore_index=True)
    out["trigger_side"] = out["trigger_side"].astype("string")
    out["trigger_level"] = pd.Categorical(out["trigger_level"], categories=levels)
    out["response_level"] = pd.Categorical(out["response_level"], categories=responses)
    out["pairs"] = out["pairs"].astype("int64")
    return out


def matrix_table(matrix: pd.DataFrame, trigger_side: str, *, value: str = "pairs") -> pd.DataFrame:
    """One direction of :func:`escalation_matrix` as a grid: trigger levels down, response levels across."""
    mine = matrix.loc[matrix["trigger_side"] == trigger_side]
    if mine.empty:
        raise ValueError(f"the matrix has no trigger side {trigger_side!r}; it has {sorted(matrix['trigger_side'].unique())}")
    grid = mine.pivot(index="trigger_level", columns="response_level", values=value)
    grid.index.name, grid.columns.name = "trigger level", "response level"
    return grid


# ---------------------------------------------------------------------------------------------
# Response curves
# ---------------------------------------------------------------------------------------------


def _complete(answers: pd.DataFrame) -> pd.DataFrame:
    """Triggers with a complete follow-up: those not censored at the end of the data."""
    if "censor_reason" not in answers.columns:
        return answers
    return answers.loc[answers["censor_reason"].astype("string").fillna("") != "study_end"]


def response_curve(answers: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """Binned response curves: per direction and trigger level, the share answered and the answer's level.

    Parameters
    ----------
    answers : DataFrame
        Output of :func:`label_answers`.
    alpha : float
        1 - confidence level of the intervals.

    Returns
    -------
    DataFrame
        One row per trigger side x trigger level (``unknown`` included, last):
        ``trigger_side``, ``trigger_level``, ``trigger_rank``, ``triggers`` (complete
        follow-up), ``incomplete`` (left out: window past the end of the data), ``answered``,
        ``share_answered`` with its Wilson interval ``share_low``/``share_high``,
        ``answers_known`` (answers with a known level), ``mean_response_rank`` with its t
        interval ``mean_low``/``mean_high``, and the shares of answers that escalate, match
        and de-escalate (of the answers with a label other than unknown).
    """
    from statsmodels.stats.proportion import proportion_confint

    levels = list(answers["trigger_level"].cat.categories)
    complete = _complete(answers)
    rows = []
    for side in sorted(answers["trigger_side"].dropna().unique()):
        for rank, level in enumerate(levels):
            every = answers.loc[(answers["trigger_side"] == side) & (answers["trigger_level"] == level)]
            mine = complete.loc[(complete["trigger_side"] == side) & (complete["trigger_level"] == level)]
            n = len(mine)
            k = int(mine["response_id"].notna().sum())
            low, high = proportion_confint(k, n, alpha=alpha, method="wilson") if n else (np.nan, np.nan)
            ranks = mine["response_rank"].dropna().astype(float).to_numpy()
            m = len(ranks)
            mean = ranks.mean() if m else np.nan
            if m > 1:
                half = stats.t.ppf(1 - alpha / 2, m - 1) * ranks.std(ddof=1) / np.sqrt(m)
            else:
                half = np.nan
            labelled = mine["escalation"].dropna()
            labelled = labelled[labelled != UNKNOWN]
            row = {
                "trigger_side": side, "trigger_level": level, "trigger_rank": rank if level != UNKNOWN else pd.NA,
                "triggers": n, "incomplete": len(every) - n, "answered": k,
                "share_answered": k / n if n else np.nan, "share_low": low, "share_high": high,
                "answers_known": m, "mean_response_rank": mean, "mean_low": mean - half, "mean_high": mean + half,
            }
            for what in ("escalate", "match", "de-escalate"):
                row[f"share_{what}"] = float((labelled == what).mean()) if len(labelled) else np.nan
            rows.append(row)
    columns = ["trigger_side", "trigger_level", "trigger_rank", "triggers", "incomplete", "answered", "share_answered",
               "share_low", "share_high", "answers_known", "mean_response_rank", "mean_low", "mean_high",
               "share_escalate", "share_match", "share_de-escalate"]
    out = pd.DataFrame(rows, columns=columns)
    if len(out):
        out["trigger_rank"] = out["trigger_rank"].astype("Int64")
        out["trigger_side"] = out["trigger_side"].astype("string")
        out["trigger_level"] = pd.Categorical(out["trigger_level"], categories=levels)
    return out


class ResponseModels(NamedTuple):
    """Result of :func:`response_models`.

    Attributes
    ----------
    coefficients : DataFrame
        One row per direction x model: ``trigger_side``, ``model`` (``logit answered`` or
        ``ordered logit level``), ``n``, ``coef`` (per trigger level, on the log-odds scale),
        ``se``, ``ci_low``, ``ci_high``, ``p_value``, ``odds_ratio``.
    predictions : DataFrame
        One row per direction x trigger rank: ``trigger_side``, ``trigger_rank``,
        ``p_answered`` with ``p_low``/``p_high`` (delta method on the log-odds scale),
        ``expected_response_rank`` with ``expected_low``/``expected_high`` (delta method).
    """

    coefficients: pd.DataFrame
    predictions: pd.DataFrame


def _delta_ci(fun, params: np.ndarray, cov: np.ndarray, z: float) -> tuple[float, float, float]:
    """Value of ``fun(params)`` and a normal interval from a numerical gradient (delta method)."""
    value = float(fun(params))
    grad = np.zeros(len(params))
    for j in range(len(params)):
        step = 1e-6 * max(1.0, abs(params[j]))
        up, down = params.copy(), params.copy()
        up[j] += step
        down[j] -= step
        grad[j] = (fun(up) - fun(down)) / (2 * step)
    se = float(np.sqrt(max(grad @ cov @ grad, 0.0)))
    return value, value - z * se, value + z * se


def response_models(answers: pd.DataFrame, *, alpha: float = 0.05, min_answers: int = 10) -> ResponseModels:
    """Regressions of the response curves on the trigger's level, per direction.

    A logit of answered (within the window) on the trigger's rank, over triggers with a known
    level and a complete follow-up; and an ordered logit (proportional odds, statsmodels'
    ``OrderedModel``) of the answer's rank on the trigger's rank, over answers with both
    levels known. The rank enters linearly: ``coef`` is the change in log-odds per level.

    Parameters
    ----------
    answers : DataFrame
        Output of :func:`label_answers`.
    alpha : float
        1 - confidence level.
    min_answers : int
        Below this many observations (or with a single outcome value) a model is not fitted:
        its row has missing estimates and a :class:`ResponseCurveWarning` says why.

    Returns
    -------
    ResponseModels
    """
    import statsmodels.api as sm
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    z = stats.norm.ppf(1 - alpha / 2)
    n_levels = len([c for c in answers["trigger_level"].cat.categories if c != UNKNOWN])
    grid = np.arange(n_levels, dtype=float)
    complete = _complete(answers)
    coef_rows, pred_rows = [], []
    for side in sorted(answers["trigger_side"].dropna().unique()):
        mine = complete.loc[(complete["trigger_side"] == side) & complete["trigger_rank"].notna()]
        x = mine["trigger_rank"].astype(float).to_numpy()
        y = mine["response_id"].notna().to_numpy(dtype=float)
        p_pred = dict.fromkeys(grid, (np.nan, np.nan, np.nan))
        row = {"trigger_side": side, "model": "logit answered", "n": len(x)}
        if len(x) < min_answers or len(np.unique(y)) < 2 or len(np.unique(x)) < 2:
            warnings.warn(f"{side}: the logit of answered is not fitted ({len(x)} triggers with a known level, "
                          f"{int(y.sum()) if len(y) else 0} answered, {len(np.unique(x))} distinct levels)",
                          ResponseCurveWarning, stacklevel=2)
            row.update(coef=np.nan, se=np.nan, ci_low=np.nan, ci_high=np.nan, p_value=np.nan)
        else:
            fit = sm.Logit(y, sm.add_constant(x, has_constant="add")).fit(disp=False)
            params, cov = np.asarray(fit.params), np.asarray(fit.cov_params())
            row.update(coef=params[1], se=fit.bse[1], ci_low=params[1] - z * fit.bse[1], ci_high=params[1] + z * fit.bse[1],
                       p_value=fit.pvalues[1])
            for r in grid:
                eta, lo, hi = _delta_ci(lambda p, r=r: p[0] + p[1] * r, params, cov, z)
                p_pred[r] = (1 / (1 + np.exp(-eta)), 1 / (1 + np.exp(-lo)), 1 / (1 + np.exp(-hi)))
        coef_rows.append(row)

        both = mine.loc[mine["response_rank"].notna()]
        xo = both["trigger_rank"].astype(float).to_numpy()
        yo = both["response_rank"].astype(int).to_numpy()
        e_pred = dict.fromkeys(grid, (np.nan, np.nan, np.nan))
        row = {"trigger_side": side, "model": "ordered logit level", "n": len(xo)}
        if len(xo) < min_answers or len(np.unique(yo)) < 2 or len(np.unique(xo)) < 2:
            warnings.warn(f"{side}: the ordered logit of the answer's level is not fitted ({len(xo)} answers with both "
                          f"levels known, {len(np.unique(yo))} distinct answer levels, {len(np.unique(xo))} distinct "
                          "trigger levels)", ResponseCurveWarning, stacklevel=2)
            row.update(coef=np.nan, se=np.nan, ci_low=np.nan, ci_high=np.nan, p_value=np.nan)
        else:
            model = OrderedModel(yo, xo[:, None], distr="logit")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=RuntimeWarning)
                fit = model.fit(method="bfgs", disp=False, maxiter=500)
            if not fit.mle_retvals.get("converged", True):
                warnings.warn(f"{side}: the ordered logit did not converge", ResponseCurveWarning, stacklevel=2)
            params, cov = np.asarray(fit.params), np.asarray(fit.cov_params())
            se = float(np.sqrt(cov[0, 0]))
            row.update(coef=params[0], se=se, ci_low=params[0] - z * se, ci_high=params[0] + z * se,
                       p_value=2 * stats.norm.sf(abs(params[0]) / se))
            values = np.unique(yo).astype(float)  # the outcome categories, in order
            for r in grid:
                e_pred[r] = _delta_ci(lambda p, r=r, model=model, values=values:
                                      float(model.predict(p, exog=np.array([[r]]))[0] @ values), params, cov, z)
        coef_rows.append(row)
        for r in grid:
            pred_rows.append({"trigger_side": side, "trigger_rank": int(r), "p_answered": p_pred[r][0], "p_low": p_pred[r][1],
                              "p_high": p_pred[r][2], "expected_response_rank": e_pred[r][0], "expected_low": e_pred[r][1],
                              "expected_high": e_pred[r][2]})
    coefficients = pd.DataFrame(coef_rows, columns=["trigger_side", "model", "n", "coef", "se", "ci_low", "ci_high", "p_value"])
    coefficients["odds_ratio"] = np.exp(coefficients["coef"].astype(float))
    predictions = pd.DataFrame(pred_rows, columns=["trigger_side", "trigger_rank", "p_answered", "p_low", "p_high",
                                                   "expected_response_rank", "expected_low", "expected_high"])
    return ResponseModels(coefficients, predictions)
