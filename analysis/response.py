"""The response rule: what counts as one side's answer to the other's event.

One validated, immutable :class:`ResponseRule` is built once per report (from the dyad spec's
``response`` section, overridden key by key by the profile's ``cycles.response`` section) and
passed to every consumer: the pairing (:func:`analysis.cycles.build_cycles`), the response ratio
and its circular-shift null (:mod:`analysis.permutation`), the sensitivity grid, and the report's
wording. No module pairs events with a rule of its own.

Definition (``DESIGN.md`` section 4)
    The response to a *trigger* (an event of side A whose kind is in ``trigger_kinds``) is the
    first later event of another side B that is *eligible* as a response - its kind in
    ``response_kinds``, at or above every ``min_severity``, in a ``theatre`` country - within
    ``window_days`` (inclusive) and, when ``max_distance_km`` is set, within that great-circle
    distance of the trigger.

Options
    ``window_days``
        Days within which a response counts: one number, or one per trigger side
        (``{us: 7, militias: 14}``).
    ``ties``
        ``"exclude"`` (default): an eligible event of the other side on the trigger's day whose
        order against the trigger is unknown (one of the two has no UTC time) never answers;
        ``"include"``: it answers with an interval of 0 days.
    ``matching``
        ``"many_to_one"`` (default): one event may answer several triggers; ``"one_to_one"``:
        each event answers at most the earliest trigger still waiting (first come, first served).
    ``own_event_ends_wait``
        Whether the trigger side's own next trigger on a later day (within ``max_distance_km``
        of the trigger, when set) ends the wait: the trigger is then censored there.
    ``trigger_kinds``, ``response_kinds``
        Kinds that count as triggers, and as responses (``None``: every kind).
    ``min_severity``
        Column -> minimum, e.g. ``{fatalities: 1}``: a response must reach every minimum (a
        missing value does not qualify).
    ``theatre``
        Countries in which a response must happen (``None``: anywhere).
    ``max_distance_km``
        Spatial scope: a response must lie within this great-circle distance of its trigger
        (distances between the events' ``latitude``/``longitude``).
    ``missing_coordinates``
        Under ``max_distance_km``, what an event without coordinates is: ``"exclude"`` (default;
        it is neither a trigger nor a response: no distance can be checked) or ``"any"`` (it is
        taken to be within any distance). The cycles stage reports how many events each choice
        concerns.
    ``study_end``
        Last day observed (``None``: the dyad's ``period.end``). A wait running past it is
        censored at ``study_end``.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.schema import KINDS

__all__ = [
    "MATCHING",
    "MISSING_COORDINATES",
    "RULE_KEYS",
    "TIE_RULES",
    "ResponseRule",
    "RuleError",
    "resolve_rule",
]

TIE_RULES = ("exclude", "include")
MATCHING = ("many_to_one", "one_to_one")
MISSING_COORDINATES = ("exclude", "any")


class RuleError(ValueError):
    """A response rule that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class ResponseRule:
    """A validated response rule (see the module notes for each field).

    Build one with :func:`resolve_rule` (from a dyad spec and a profile) or directly with
    keywords; every field is checked on construction. ``window_days`` is stored as an int or as
    a tuple of ``(trigger_side, days)`` pairs, so that the rule is hashable and cannot change.
    """

    window_days: int | tuple[tuple[str, int], ...] = 30
    ties: str = "exclude"
    matching: str = "many_to_one"
    own_event_ends_wait: bool = False
    trigger_kinds: tuple[str, ...] | None = None
    response_kinds: tuple[str, ...] | None = None
    min_severity: tuple[tuple[str, float], ...] | None = None
    theatre: tuple[str, ...] | None = None
    max_distance_km: float | None = None
    missing_coordinates: str = "exclude"
    study_end: pd.Timestamp | None = None

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen)
        set_("window_days", _check_window(self.window_days, "window_days"))
        set_("ties", _check_choice(self.ties, TIE_RULES, "ties"))
        set_("matching", _check_choice(self.matching, MATCHING, "matching"))
        set_("missing_coordinates", _check_choice(self.missing_coordinates, MISSING_COORDINATES, "missing_coordinates"))
        if not isinstance(self.own_event_ends_wait, bool):
            raise RuleError(f"own_event_ends_wait must be true or false, got {self.own_event_ends_wait!r}")
        set_("trigger_kinds", _check_kinds(self.trigger_kinds, "trigger_kinds"))
        set_("response_kinds", _check_kinds(self.response_kinds, "response_kinds"))
        set_("min_severity", _check_severity(self.min_severity))
        set_("theatre", _check_names(self.theatre, "theatre"))
        set_("max_distance_km", _check_distance(self.max_distance_km))
        if self.study_end is not None:
            set_("study_end", _check_date(self.study_end, "study_end"))

    # -- reading the rule ---------------------------------------------------------------------

    def window(self, side: str) -> int:
        """The response window, in days, of triggers of ``side``."""
        if isinstance(self.window_days, int):
            return self.window_days
        windows = dict(self.window_days)
        if side not in windows:
            raise RuleError(f"window_days gives no window for trigger side {side!r}; it has {sorted(windows)}")
        return windows[side]

    def windows(self, sides: Sequence[str]) -> dict[str, int]:
        """Window per trigger side, for every side in ``sides``."""
        return {s: self.window(s) for s in sides}

    @property
    def severity(self) -> dict[str, float]:
        """``min_severity`` as a dict (empty when none)."""
        return dict(self.min_severity or ())

    def replace(self, **changes: Any) -> ResponseRule:
        """A new rule with some fields changed (validated like any other)."""
        return dataclasses.replace(self, **changes)

    def check_sides(self, sides: Sequence[str], *, where: str = "response rule") -> None:
        """Raise unless a per-side window names exactly the analysed ``sides``."""
        if isinstance(self.window_days, int):
            return
        given = [s for s, _ in self.window_days]
        unknown = [s for s in given if s not in sides]
        if unknown:
            raise RuleError(f"{where}: window_days names {unknown}, which are not sides of the dyad ({', '.join(sides)})")
        absent = [s for s in sides if s not in given]
        if absent:
            raise RuleError(f"{where}: window_days gives no window for side(s) {absent}; give one per side ({', '.join(sides)})")

    def to_dict(self) -> dict[str, Any]:
        """The rule as plain YAML/JSON-ready values (dates as ISO strings, windows as a mapping)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if (f.name == "window_days" and not isinstance(value, int)) or (f.name == "min_severity" and value is not None):
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, pd.Timestamp):
                value = value.date().isoformat()
            out[f.name] = value
        return out

    def to_frame(self) -> pd.DataFrame:
        """The rule as a table of ``key`` and ``value`` (JSON text), one row per field, so a stage
        can write the rule it used and later stages read the very same one (:meth:`from_frame`)."""
        return pd.DataFrame({"key": list(RULE_KEYS), "value": [json.dumps(v) for v in self.to_dict().values()]}).astype("string")

    @classmethod
    def from_frame(cls, table: pd.DataFrame) -> ResponseRule:
        """The rule written by :meth:`to_frame`."""
        values = {k: json.loads(v) for k, v in zip(table["key"], table["value"])}
        if values.get("min_severity") is not None:
            values["min_severity"] = tuple(values["min_severity"].items())
        return cls(**values)

    def describe(self, labels: Mapping[str, str] | None = None) -> str:
        """The rule in one sentence of plain words, for reports."""
        labels = dict(labels or {})
        if isinstance(self.window_days, int):
            window = f"within {self.window_days} days"
        else:
            window = "within " + ", ".join(f"{d} days of an event of {labels.get(s, s)}" for s, d in self.window_days)
        parts = [f"the first event of the other side {window}"]
        if self.max_distance_km is not None:
            missing = ("events without coordinates left out" if self.missing_coordinates == "exclude"
                       else "events without coordinates taken as near")
            parts.append(f"within {self.max_distance_km:g} km of it ({missing})")
        if self.trigger_kinds is not None:
            parts.append(f"answering only {', '.join(self.trigger_kinds)} events")
        if self.response_kinds is not None:
            parts.append(f"counting only {', '.join(self.response_kinds)} as answers")
        if self.min_severity:
            parts.append("at least " + ", ".join(f"{v:g} {k}" for k, v in self.min_severity))
        if self.theatre is not None:
            parts.append(f"in {', '.join(self.theatre)}")
        parts.append("same-day events of unknown order " + ("count (0 days)" if self.ties == "include" else "do not count"))
        if self.matching == "one_to_one":
            parts.append("each event answers at most one")
        if self.own_event_ends_wait:
            parts.append("a side's own next event ends its wait")
        return "A response is " + "; ".join(parts) + "."


# -- checks -----------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_choice(value: Any, choices: tuple[str, ...], key: str) -> str:
    if value not in choices:
        close = difflib.get_close_matches(str(value), choices, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise RuleError(f"{key} must be one of {', '.join(choices)}; got {value!r}{hint}")
    return value


def _check_window(value: Any, key: str) -> int | tuple[tuple[str, int], ...]:
    def days(v: Any, what: str) -> int:
        if not _is_number(v) or v != int(v):
            raise RuleError(f"{what} must be a whole number of days, got {v!r}")
        if v <= 0:
            raise RuleError(f"{what} must be at least 1 day, got {v!r}")
        return int(v)

    if isinstance(value, Mapping):
        if not value:
            raise RuleError(f"{key} is an empty mapping; give one number, or one per trigger side")
        return tuple((str(side), days(v, f"{key}.{side}")) for side, v in value.items())
    if isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        return tuple((str(side), days(v, f"{key}.{side}")) for side, v in value)
    return days(value, key)


def _check_names(value: Any, key: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        raise RuleError(f"{key} must be a list, e.g. [{value}], got the string {value!r}")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise RuleError(f"{key} must be a list of names, got {value!r}")
    if not value:
        raise RuleError(f"{key} is an empty list: nothing could qualify (use null for no limit)")
    return tuple(value)


def _check_kinds(value: Any, key: str) -> tuple[str, ...] | None:
    kinds = _check_names(value, key)
    if kinds is None:
        return None
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        hints = {k: difflib.get_close_matches(k, KINDS, n=1) for k in unknown}
        said = ", ".join(f"{k!r}" + (f" (did you mean {h[0]!r}?)" if h else "") for k, h in hints.items())
        raise RuleError(f"{key} names kind(s) {said} that are not canonical kinds ({', '.join(KINDS)})")
    return kinds


def _check_severity(value: Any) -> tuple[tuple[str, float], ...] | None:
    if value is None:
        return None
    pairs = value.items() if isinstance(value, Mapping) else value
    try:
        pairs = list(pairs)
    except TypeError:
        raise RuleError(f"min_severity must be a mapping of column to minimum, e.g. {{fatalities: 1}}, got {value!r}") from None
    out = []
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise RuleError(f"min_severity must be a mapping of column to minimum, e.g. {{fatalities: 1}}, got {value!r}")
        col, minimum = pair
        if not _is_number(minimum):
            raise RuleError(f"min_severity.{col} must be a number, got {minimum!r}")
        out.append((str(col), float(minimum)))
    return tuple(out) or None


def _check_distance(value: Any) -> float | None:
    if value is None:
        return None
    if not _is_number(value) or not value > 0 or value != value or value == float("inf"):
        raise RuleError(f"max_distance_km must be a positive number of kilometres (or null), got {value!r}")
    return float(value)


def _check_date(value: Any, key: str) -> pd.Timestamp:
    if isinstance(value, bool) or _is_number(value):
        raise RuleError(f"{key} must be a date like 2024-12-31, got {value!r}")
    try:
        return pd.Timestamp(value).normalize()
    except (ValueError, TypeError):
        raise RuleError(f"{key} must be a date like 2024-12-31, got {value!r}") from None


#: The keys a ``response`` section may hold: the fields of :class:`ResponseRule`.
RULE_KEYS = tuple(f.name for f in dataclasses.fields(ResponseRule))


def _from_mapping(values: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Check the keys of one ``response`` section; return them as ResponseRule keywords."""
    if not isinstance(values, Mapping):
        raise RuleError(f"{where}: must be a mapping of rule keys ({', '.join(RULE_KEYS)}), got {values!r}")
    out = {}
    for key, value in values.items():
        if key not in RULE_KEYS:
            close = difflib.get_close_matches(str(key), RULE_KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise RuleError(f"{where}: unknown key {key!r}{hint} (keys are: {', '.join(RULE_KEYS)})")
        out[key] = value
    return out


def resolve_rule(
    spec_rule: Mapping[str, Any] | None,
    profile_rule: Mapping[str, Any] | None,
    *,
    sides: Sequence[str],
    period_end: pd.Timestamp | None = None,
    spec_where: str = "dyad spec",
    profile_where: str = "profile",
) -> ResponseRule:
    """Build the one response rule of a report.

    Parameters
    ----------
    spec_rule : mapping, optional
        The dyad spec's ``response`` section: defaults for this dyad.
    profile_rule : mapping, optional
        The profile's ``cycles.response`` section: overrides key by key.
    sides : sequence of str
        The dyad's analysed sides (a per-side window must name exactly these).
    period_end : Timestamp, optional
        The dyad's ``period.end``: the study end when neither section sets one.
    spec_where, profile_where : str
        How messages name the two sections, e.g. ``"dyads/x.yaml: response"``.

    Raises
    ------
    RuleError
        On an unknown key (with the closest valid one), a value of the wrong type, a window of
        zero or less days, or a per-side window whose keys are not the dyad's sides. The message
        names the section (file and key) that holds the bad value.
    """
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for values, where in ((spec_rule, spec_where), (profile_rule, profile_where)):
        if values is None:
            continue
        for key, value in _from_mapping(values, where).items():
            merged[key] = value
            origin[key] = where
    if merged.get("study_end") is None and period_end is not None:
        merged["study_end"] = period_end
        origin.setdefault("study_end", spec_where)
    try:
        rule = ResponseRule(**merged)
    except RuleError as exc:
        key = next((k for k in RULE_KEYS if str(exc).startswith(k)), None)
        raise RuleError(f"{origin.get(key, profile_where)}: {exc}") from None
    rule.check_sides(sides, where=origin.get("window_days", profile_where))
    return rule
