"""Dyad specs: who the two sides are, how to recognise their actors, where and when.

A dyad spec is a YAML file in ``dyads/`` (see ``dyads/us-iran-proxies.yaml``)::

    name: us-iran-proxies
    title: US forces and Iran-aligned militias
    period: {start: 2019-10-01, end: 2024-12-31}
    theatre: [Iraq, Syria, Jordan]
    response: {window_days: 30}                  # the dyad's defaults of the response rule
    sides:
      us:
        label: US and coalition forces
        actors: ['\\bUS\\b', 'coalition']        # case-insensitive regular expressions
      militias:
        label: Iran-aligned militias
        actors: ['Kata.?ib Hezbollah', 'Nujaba']
      iran:
        label: Iran (state forces)
        actors: ['Revolutionary Guard', 'IRGC']
        group_with: militias                      # analysed as militias; drop to keep apart
    sources:
      - {format: table, path: data/raw/us-iran-proxies/events.csv, ...}

An actor belongs to a side when one of the side's patterns is found in it (``re.search``,
case-insensitive). An actor matching patterns of two sides is ambiguous and gets no side.

The ``response`` section holds the dyad's defaults of the response rule
(:mod:`analysis.response`; a profile's ``cycles.response`` section overrides them key by key).
Every top-level key is checked: an unknown one is an error naming the file, the key and the
closest valid key.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import yaml

from analysis.paths import display_path
from analysis.response import ResponseRule, resolve_rule

__all__ = ["DyadSpec", "Scoped", "Side", "SideAssignment", "assign_sides", "load_dyad", "within_scope"]


@dataclass(frozen=True)
class Side:
    """One side of a dyad: its key, label, actor patterns and optional grouping."""

    key: str
    label: str
    actors: tuple[str, ...]
    color: str | None = None
    group_with: str | None = None

    def match(self, text: str) -> str | None:
        """Return the first of this side's patterns found in ``text``, or None."""
        for pattern in self.actors:
            if re.search(pattern, text, flags=re.IGNORECASE):
                return pattern
        return None


@dataclass(frozen=True)
class DyadSpec:
    """A parsed dyad spec. Use :func:`load_dyad` to read one from YAML."""

    name: str
    title: str
    sides: dict[str, Side]
    start: pd.Timestamp
    end: pd.Timestamp
    theatre: tuple[str, ...] = ()
    response: dict[str, Any] = field(default_factory=dict)
    sources: tuple[dict[str, Any], ...] = ()
    description: str = ""
    path: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def side_keys(self) -> list[str]:
        """The sides events are analysed under: every side not grouped with another."""
        return [k for k in self.sides if self.analysed_side(k) == k]

    def analysed_side(self, key: str) -> str:
        """The side ``key`` is analysed as: the side it is grouped with (``group_with``), else
        itself. The one place sides are grouped; a key the spec does not list is returned as is."""
        side = self.sides.get(key)
        return side.group_with or key if side is not None else key

    def label(self, key: str) -> str:
        """The label of an analysed side key."""
        return self.sides[key].label

    def color(self, key: str) -> str | None:
        """The plotting colour of an analysed side key, if the spec gives one."""
        return self.sides[key].color

    def study_end(self, value: Any = None, *, where: str = "study_end") -> pd.Timestamp:
        """The last day observed: ``value`` when given (a date), else the period's end.

        The one place a stage resolves its study end (the response rule's is resolved the same
        way, by :meth:`response_rule`).
        """
        if value is None:
            return self.end
        return _date(value, where, self.path or "dyad spec")

    def response_rule(self, overrides: dict[str, Any] | None = None, *, where: str = "profile: cycles.response") -> ResponseRule:
        """The response rule: this spec's ``response`` section, overridden key by key by
        ``overrides`` (a profile's ``cycles.response``); the study end defaults to the period's
        end. Errors name the file and key of the bad value (``where`` names the overrides)."""
        return resolve_rule(self.response, overrides, sides=self.side_keys, period_end=self.end,
                            spec_where=f"{self.path or self.name}: response", profile_where=where)


#: The top-level keys a dyad spec may hold (``acled``, ``gdelt`` and ``news`` are read by those loaders).
SPEC_KEYS = ("name", "title", "description", "period", "theatre", "sides", "response", "sources", "severity", "acled", "gdelt",
             "news")


def _date(value: Any, what: str, path: str) -> pd.Timestamp:
    if isinstance(value, (dt.date, str)):
        try:
            return pd.Timestamp(value).normalize()
        except ValueError:
            pass
    raise ValueError(f"{path}: {what} must be a date like 2019-10-01, got {value!r}")


def _theatre(value: Any, path: str) -> tuple[str, ...]:
    """The theatre's countries: a list of names, or one name given as text."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(c, str) for c in value):
        return tuple(value)
    raise ValueError(f"{path}: theatre must be a list of country names (or one name), got {value!r}")


def load_dyad(path: str | Path) -> DyadSpec:
    """Read and check a dyad spec from YAML.

    Raises
    ------
    ValueError
        When a required key is missing, a pattern is not a valid regular expression, a
        ``group_with`` names an unknown side, fewer than two sides remain after grouping, or the
        period is reversed. Messages name the file and the key.
    """
    path = Path(path)
    with path.open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    where = display_path(path)  # as the project names it, wherever it is checked out
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: a dyad spec must be a mapping of keys ({', '.join(SPEC_KEYS)}), got {type(raw).__name__}")
    if "window_days" in raw:
        raise ValueError(f"{where}: window_days now belongs to the response rule: write it as 'response: {{window_days: "
                         f"{raw['window_days']}}}'")
    for key in ("name", "sides", "period"):
        if key not in raw:
            raise ValueError(f"{where}: dyad spec has no '{key}' key; keys are: {', '.join(raw)}")
    unknown = [k for k in raw if k not in SPEC_KEYS]
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), SPEC_KEYS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"{where}: unknown key {unknown[0]!r}{hint} (keys are: {', '.join(SPEC_KEYS)})")
    sides: dict[str, Side] = {}
    for key, body in (raw["sides"] or {}).items():
        body = body or {}
        actors = body.get("actors") or []
        if isinstance(actors, str):
            actors = [actors]
        if not actors:
            raise ValueError(f"{where}: side '{key}' has no 'actors' patterns")
        for pattern in actors:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    f"{where}: side '{key}': actor pattern {pattern!r} is not a valid regular expression ({exc})"
                ) from exc
        sides[str(key)] = Side(
            key=str(key),
            label=str(body.get("label", key)),
            actors=tuple(str(a) for a in actors),
            color=body.get("color"),
            group_with=body.get("group_with"),
        )
    for side in sides.values():
        target = side.group_with
        if target is not None and (target not in sides or sides[target].group_with is not None):
            raise ValueError(
                f"{where}: side '{side.key}' has group_with: {target!r}, which is not an ungrouped side "
                f"({', '.join(k for k, s in sides.items() if s.group_with is None)})"
            )
    analysed = [k for k, s in sides.items() if s.group_with is None]
    if len(analysed) < 2:
        raise ValueError(f"{where}: a dyad needs at least two sides after grouping, got {analysed}")
    period = raw["period"] or {}
    start = _date(period.get("start"), "period.start", where)
    end = _date(period.get("end"), "period.end", where)
    if end < start:
        raise ValueError(f"{where}: period.end {end.date()} is before period.start {start.date()}")
    response = raw.get("response") or {}
    # checked now, so a bad default fails when the spec is read, naming the file and key
    resolve_rule(response, None, sides=analysed, spec_where=f"{where}: response")
    return DyadSpec(
        name=str(raw["name"]),
        title=str(raw.get("title", raw["name"])),
        sides=sides,
        start=start,
        end=end,
        theatre=_theatre(raw.get("theatre"), where),
        response=dict(response),
        sources=tuple(raw.get("sources") or ()),
        description=str(raw.get("description", "")).strip(),
        path=where,
        raw=raw,
    )


class SideAssignment(NamedTuple):
    """Result of :func:`assign_sides`: the events with sides, and the actors left without one."""

    events: pd.DataFrame
    unmatched: pd.DataFrame


def _classify(text: Any, spec: DyadSpec) -> tuple[Any, str, str, str]:
    """Side, reason, status and candidate sides for one actor name."""
    if pd.isna(text) or not str(text).strip():
        return pd.NA, "no actor given", "missing", ""
    hits = {key: pat for key, side in spec.sides.items() if (pat := side.match(str(text))) is not None}
    # a grouped side and the side it is grouped with are one analysed side
    analysed = {}
    for key, pat in hits.items():
        analysed.setdefault(spec.analysed_side(key), []).append((key, pat))
    if not analysed:
        return pd.NA, f"actor {text!r} matches no side pattern", "no_match", ""
    if len(analysed) > 1:
        found = ", ".join(f"{k} ('{p}')" for k, p in hits.items())
        return pd.NA, f"actor {text!r} is ambiguous: matches {found}", "ambiguous", ", ".join(hits)
    side, matches = next(iter(analysed.items()))
    key, pat = matches[0]
    reason = f"actor {text!r} matches '{pat}' of side '{key}'"
    if key != side:
        reason += f", grouped with '{side}'"
    return side, reason, "matched", key


def assign_sides(
    events: pd.DataFrame,
    spec: DyadSpec,
    *,
    actor_col: str = "actor",
    target_col: str | None = "target",
) -> SideAssignment:
    """Give each event the side of its actor (and the side of its target).

    Parameters
    ----------
    events : DataFrame
        Canonical events. Not modified.
    spec : DyadSpec
        The dyad; sides with ``group_with`` are folded into the side they name.
    actor_col : str
        Column holding the actor who carried the event out.
    target_col : str or None
        Column holding what was attacked; when given, ``target_side`` is set by the same
        patterns (missing when the target matches no side or several).

    Returns
    -------
    SideAssignment
        ``events``: a copy with ``side``, ``side_reason`` (and ``target_side``) set; when the
        events carry an ``initiator_reason`` (loaders that infer who acted first), it begins
        ``side_reason``; an ``attributed_side`` column (set by a loader's attribution rule)
        gives the side of events whose actor matches no side, and ``side_reason`` says so;
        ``unmatched``: one row per distinct actor that got no side, with ``actor``,
        ``n_events``, ``status`` (``no_match``, ``ambiguous`` or ``missing``) and
        ``candidates`` (the sides an ambiguous actor matched), most frequent first.
    """
    if actor_col not in events.columns:
        raise ValueError(f"events has no '{actor_col}' column; columns are: {', '.join(events.columns)}")
    out = events.copy()
    actors = out[actor_col].astype("string")
    distinct = actors.drop_duplicates()
    table = pd.DataFrame(
        [(a, *_classify(a, spec)) for a in distinct],
        columns=["actor", "side", "side_reason", "status", "candidates"],
    )
    lookup = table.set_index(table["actor"].fillna("\x00"))
    key = actors.fillna("\x00")
    out["side"] = key.map(lookup["side"]).astype("string").to_numpy()
    reason = key.map(lookup["side_reason"]).astype("string")
    if "initiator_reason" in out.columns:
        # a loader's reason for taking this actor as the initiator comes first
        initiator = out["initiator_reason"].astype("string").reset_index(drop=True)
        reason = (initiator + "; " + reason.reset_index(drop=True)).fillna(reason.reset_index(drop=True))
    out["side_reason"] = pd.array(reason.to_numpy(), dtype="string")
    if "attributed_side" in out.columns:
        # a loader's attribution (e.g. ACLED rules for unidentified attackers) fills in actors
        # that match no side, never overrides a match
        attributed = out["attributed_side"].astype("string")
        use = out["side"].isna() & attributed.isin(spec.side_keys).fillna(False)
        out.loc[use, "side"] = attributed[use]
        out.loc[use, "side_reason"] = (out.loc[use, "side_reason"].fillna("no actor named") + "; attributed to '"
                                       + attributed[use] + "' by the dyad spec's rule")
    if target_col is not None and target_col in out.columns:
        targets = out[target_col].astype("string")
        target_sides = {t: _classify(t, spec)[0] for t in targets.dropna().unique()}
        out["target_side"] = targets.map(target_sides).astype("string")

    counts = actors[out["side"].isna().to_numpy()].fillna("\x00").value_counts()
    unmatched = table[(table["status"] != "matched") & table["actor"].fillna("\x00").isin(counts.index)].copy()
    unmatched["n_events"] = unmatched["actor"].fillna("\x00").map(counts).astype("int64")
    unmatched = unmatched.sort_values(["n_events", "actor"], ascending=[False, True], kind="stable")
    unmatched = unmatched[["actor", "n_events", "status", "candidates"]].reset_index(drop=True)
    unmatched = unmatched.astype({"actor": "string", "status": "string", "candidates": "string"})
    return SideAssignment(out, unmatched)


class Scoped(NamedTuple):
    """Result of :func:`within_scope`: events in scope, and the others with their reason."""

    events: pd.DataFrame
    excluded: pd.DataFrame


def within_scope(events: pd.DataFrame, spec: DyadSpec) -> Scoped:
    """Split events into those inside the dyad's period and theatre and those outside.

    Returns
    -------
    Scoped
        ``events``: the rows dated within ``period`` and (when the spec lists a theatre and the
        row has a country) in a theatre country; ``excluded``: the other rows with a ``reason``
        column (``before period start``, ``after period end``, ``country <x> not in theatre``).
        ``len(events) + len(excluded)`` equals the input length.
    """
    dates = pd.to_datetime(events["date"])
    reason = pd.Series(pd.NA, index=events.index, dtype="string")
    if spec.theatre and "country" in events.columns:
        country = events["country"].astype("string")
        outside = country.notna() & ~country.str.lower().isin([c.lower() for c in spec.theatre])
        reason[outside] = "country " + country[outside] + " not in theatre"
    reason[dates > spec.end] = f"after period end {spec.end.date()}"
    reason[dates < spec.start] = f"before period start {spec.start.date()}"
    keep = reason.isna()
    excluded = events.loc[~keep].assign(reason=reason[~keep]).reset_index(drop=True)
    return Scoped(events.loc[keep].reset_index(drop=True), excluded)
