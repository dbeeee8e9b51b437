"""Field rules: what one sentence of a news article says, each value with its span and rule.

Field rules
-----------
date
    Absolute ("17 November 2020", "Dec. 3, 2023", "2020-11-17"); month and day without a year
    (the latest such day not after the publication date); a weekday ("on Tuesday", "early
    Friday", "This Friday": the latest such day on or before publication; "last Tuesday": the one
    before that); "yesterday" and "last night" (the day before publication);
    "today" and "overnight" (the night that ends on the publication day); "N days ago"; "last week"
    (week precision, dated to its Thursday); "In January",
    "mid-October", "last month" (month precision, dated to the 15th); "hours before", "hours
    later", "the same day", "the next day" (relative to the event of the previous mention).
    Vague phrases ("a few days after", "recently") are unresolved. Dates right after "said",
    "announced", "funerals"... are when something was said or done, not the event's, and are
    ignored.
side, actor
    The dyad spec's actor patterns plus the ``news.aliases`` of its spec. A side named as the
    agent ("fired by X", "claimed by X", "X claimed", "blamed X", "US airstrikes", "the coalition
    carried out") is the attacker. Otherwise, when the target is a side's ("fired at the US
    Embassy", "against US bases", a gazetteer site held by that side, "killed five militia
    fighters") and the dyad has two sides, the attacker is the other side, flagged
    ``side inferred from target``.
kind
    rocket (Katyusha), mortar, drone (one-way attack, armed, explosive-laden), missile, airstrike
    (air strike, air raid, warplanes; a bare "strike" counts weakly), drone_strike, ied, shooting
    (shot dead, opened fire, gunmen).
munitions
    Counts of the event's weapon: "four rockets", "6 rockets", "about seven mortar shells", "at
    least three", "three to five rockets", "an armed drone". ``munitions`` is the first figure;
    ``munitions_min`` / ``munitions_max`` the smallest and largest figures (an "at least" figure
    bounds only the minimum, an "up to" figure only the maximum).
location
    Gazetteer patterns; the most specific target place (a site before an area, a city, a
    province, a country). A place after "launched from" / "fired from" is the launch point, not
    the target.
fatalities, injuries
    "killed two", "five people were killed", "the death of a child", "wounded at least five",
    "three wounded"; "no casualties" / "without causing any casualties" give 0 and 0, "no
    injuries" 0 injuries.
role
    ``main`` for the events on the article's latest date, when that is at most three days before
    publication; ``background`` for the others (earlier events the story recalls).
confidence
    1 minus penalties: date unresolved 0.4, week or month precision 0.1, date
    carried over 0.1, attacker inferred from
    the target 0.15, attacker unknown 0.35, both sides named as agents 0.1, kind unknown 0.2 or
    read only from a bare "strike" 0.1, no place 0.1, a single mention 0.05; at least 0.05.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pandas as pd

from analysis.sources.news.gazetteer import LEVEL_RANK, Gazetteer

__all__ = ["DateValue", "Hit", "read_sentence", "side_patterns"]


# --------------------------------------------------------------------------------------------
# Shared vocabulary

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "single": 1, "a single": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "a dozen": 12, "dozen": 12,
}
_NUM = (r"(?:\d+|a single|a dozen|"
        + "|".join(sorted((w for w in _NUMBER_WORDS if " " not in w), key=len, reverse=True)) + r")")
_QUAL = r"(?:at least|more than|over|about|around|approximately|roughly|nearly|almost|some|up to|as many as)"
_PERSON = (
    r"(?:people|persons?|civilians?|soldiers?|troops|service\s*members?|servicemen|personnel|contractors?|"
    r"fighters?|militants?|members|men|women|children|child|boys?|girls?|Americans?|Iraqis?|Syrians?|"
    r"guards?|others|policemen|officers?|workers?|staff|employees|commanders?|Israelis?|Palestinians?)"
)


def _number(word: str) -> int | None:
    word = word.lower().strip()
    return int(word) if word.isdigit() else _NUMBER_WORDS.get(word)


_MONTH_NUMBERS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "oct": 10, "nov": 11, "dec": 12,
}
_MONTH = (
    r"(?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _month(name: str) -> int:
    return _MONTH_NUMBERS[name[:3].lower()]


# --------------------------------------------------------------------------------------------
# Masking: aggregates, defensive systems, weapons that were not used

_CLAUSE_END = r"(?=[,;.!?—–()]|$)"
_AGGREGATE = re.compile(
    r"(?:\b(?:" + _QUAL + r"\s+)?(?:\d[\d,]*|dozens|scores|hundreds|several|numerous|many|multiple)\s+"
    r"(?:[\w-]+\s+){0,2}?(?:attacks|strikes|incidents|assaults)\b"
    r"|\b(?:a\s+)?(?:series|string|wave|spate|campaign)\s+of\s+(?:[\w-]+\s+)?(?:attacks|strikes)\b"
    r"|\b(?:most|many|some|all|none|each|several)\s+of\s+(?:the|these|those)\s+(?:\w+\s+)?(?:attacks|strikes)\b"
    r"|\bcontinued\s+attacks\b|\battacks\s+(?:have\s+)?continued\b"
    r"|\b(?:frequent|repeated|regular|persistent|constant)(?:ly)?\s+(?:[\w-]+\s+)?(?:target|targeted|attacks?|fire|shelling|strikes)\b"
    r"|\b(?:over|in|during)\s+the\s+(?:past|last|previous)\s+(?:few\s+|several\s+|\d+\s+|two\s+|three\s+)?(?:years?|months?|weeks?)\b"
    r"|\bbegan\s+(?:launching|carrying\s+out|firing|attacking|targeting)\b"
    r"|\bsince\s+(?:mid-?)?(?:[A-Z][a-z]+|the\s+start|the\s+beginning|then|last)\b"
    r"|\b(?:rocket|drone|missile|mortar)\s+(?:or|and)\s+(?:rocket|drone|missile|mortar)\s+attacks\b"
    r")[^,;.!?—–()]*" + _CLAUSE_END
)
_NOT_USED = re.compile(
    r"\b(?:missile|air|rocket)[- ]defen[cs]es?(?:\s+systems?)?\b|\banti-(?:missile|drone|rocket|aircraft)\b"
    r"|\bcounter-(?:drone|rocket|UAS)\b|\bC-RAM\b|\b(?:rocket|missile|drone)\s+launchers?\b"
    r"|\b(?:preparing|about|getting\s+ready|trying|planning|poised)\s+to\s+(?:launch|fire)\b[^,;.!?]*",
    re.IGNORECASE,
)
_UNCLAIMED = re.compile(r"\b(?:no\s+(?:one|group)|nobody)\s+(?:\w+\s+)?(?:has\s+|had\s+)?claimed\b", re.IGNORECASE)


def _mask(text: str, pattern: re.Pattern) -> tuple[str, list[tuple[int, int, str]]]:
    """Blank the matches of ``pattern`` (same length), returning the spans blanked."""
    spans = [(m.start(), m.end(), m.group(0)) for m in pattern.finditer(text)]
    chars = list(text)
    for a, b, _ in spans:
        chars[a:b] = " " * (b - a)
    return "".join(chars), spans


# --------------------------------------------------------------------------------------------
# Hits: one value read from one span by one rule


@dataclass(frozen=True)
class Hit:
    """A value read from ``text[start:end]`` of an article (file offsets) by ``rule``."""

    field: str
    value: Any
    start: int
    end: int
    rule: str
    extra: Mapping[str, Any] = field(default_factory=dict)


def _spans_free(taken: list[tuple[int, int]], a: int, b: int) -> bool:
    return all(b <= x or a >= y for x, y in taken)


def _first_non_overlapping(matches: Iterable[tuple[int, int, Any]]) -> list[tuple[int, int, Any]]:
    """Keep matches left to right, longest first where they overlap."""
    kept: list[tuple[int, int, Any]] = []
    for a, b, payload in sorted(matches, key=lambda m: (m[0], -(m[1] - m[0]))):
        if _spans_free([(x, y) for x, y, _ in kept], a, b):
            kept.append((a, b, payload))
    return kept


# ---- kinds

_KIND_PATTERNS: tuple[tuple[str, str, bool], ...] = (
    ("drone_strike", r"\b(?:drone|UAV)[- ]strikes?\b", True),
    ("airstrike", r"\bair[- ]?strikes?\b|\bair[- ]?raids?\b|\bwarplanes?\b|\bbombing\s+raids?\b"
                  r"|\bprecision\s+strikes?\b", True),
    ("missile", r"\b(?:ballistic\s+|cruise\s+)?missiles?\b", True),
    ("rocket", r"\bKatyushas?\b|\brockets?\b", True),
    ("mortar", r"\bmortars?\b(?:\s+(?:shells?|rounds?|bombs?))?", True),
    ("drone", r"\b(?:one-way\s+(?:attack\s+)?|armed\s+|explosive-laden\s+|suicide\s+|kamikaze\s+|attack\s+)?"
              r"(?:drones?|UAVs?)\b", True),
    ("ied", r"\broadside\s+bombs?\b|\bIEDs?\b|\bimprovised\s+explosive\s+devices?\b", True),
    ("shooting", r"\bshot\s+(?:dead|and\s+killed)\b|\bopened\s+fire\b|\bshooting\s+attack\b|\bgunmen\b"
                 r"|\bgunfire\b", True),
    ("airstrike", r"\bstrikes?\b", False),
)
_KIND_RE = tuple((kind, re.compile(p, re.IGNORECASE), strong) for kind, p, strong in _KIND_PATTERNS)


def _kinds(masked: str, offset: int) -> list[Hit]:
    found = []
    for kind, pattern, strong in _KIND_RE:
        for m in pattern.finditer(masked):
            found.append((m.start(), m.end(), (kind, strong, m.group(0))))
    return [
        Hit("kind", kind, offset + a, offset + b, f"weapon word '{word}'" if strong else f"bare '{word}' (weak)",
            {"strong": strong})
        for a, b, (kind, strong, word) in _first_non_overlapping(found)
    ]


_TRIGGER = re.compile(
    r"\b(?:attack|strike|bombing|barrage|salvo|assault|raid|shelling|explosion|blast)\b"
    r"|\b(?:target|struck|hit|targeted|targeting|fired|launched|shelled|bombed|shot\s+down|intercepted)\b"
    r"|\b(?:killed|killing|wound\w*|injur\w*|dead|casualt\w*|causalit\w*|casualit\w*)\b"
    r"|\bthe\s+(?:last|latest|most\s+recent)(?:\s+(?:one|of\s+which))?(?:\s+was)?\s+on\b"
    r"|\bclaimed\s+(?:responsibility|the\s+attack)\b|\bblamed\b",
    re.IGNORECASE,
)

# ---- munitions

_MUNITION_NOUNS = {
    "rocket": r"rockets?|Katyushas?", "mortar": r"mortar\s+(?:shells?|rounds?|bombs?)|mortars?",
    "missile": r"missiles?", "drone": r"drones?|UAVs?",
}
_MUNITIONS = re.compile(
    r"\b(?:(?P<qual>" + _QUAL + r")\s+)?(?P<n1>" + _NUM + r")(?:\s*(?:-|–|to|or)\s*(?P<n2>" + _NUM + r"))?\s+"
    r"(?P<adj>(?:[\w-]+\s+){0,2}?)(?P<noun>" + "|".join(_MUNITION_NOUNS.values()) + r")\b"
    r"(?!\s+(?:strikes?|attacks?|bases?|launch\w*|defen\w+|systems?|units?|programs?|operators?))",
    re.IGNORECASE,
)


def _noun_kind(noun: str) -> str:
    for kind, pattern in _MUNITION_NOUNS.items():
        if re.fullmatch(pattern, noun, re.IGNORECASE):
            return kind
    return "other"


def _munitions(masked: str, offset: int) -> list[Hit]:
    hits = []
    for m in _MUNITIONS.finditer(masked):
        n1, n2 = _number(m["n1"]), _number(m["n2"]) if m["n2"] else None
        if n1 is None or re.search(r"\d", m["adj"] or ""):
            continue
        qual = (m["qual"] or "").lower()
        if n2 is not None:
            low, high, rule = min(n1, n2), max(n1, n2), f"range '{m.group(0).strip()}'"
        elif qual in {"at least", "more than", "over"}:
            low, high, rule = n1 + (qual != "at least"), None, f"lower bound '{m.group(0).strip()}'"
        elif qual in {"up to", "as many as"}:
            low, high, rule = None, n1, f"upper bound '{m.group(0).strip()}'"
        else:
            low, high = n1, n1
            rule = f"{'approximate' if qual else 'count'} '{m.group(0).strip()}'"
        hits.append(Hit("munitions", n1 if n2 is None else min(n1, n2), offset + m.start(), offset + m.end(), rule,
                        {"low": low, "high": high, "kind": _noun_kind(m["noun"])}))
    return hits


# ---- casualties

_FATAL = r"(?:killed|dead|died|killing)"
_HURT = r"(?:wounded|injured|hurt|wounding|injuring)"
_CASUALTY_PATTERNS: tuple[tuple[str, re.Pattern], ...] = tuple(
    (fld, re.compile(p, re.IGNORECASE))
    for fld, verbs in (("fatalities", _FATAL), ("injuries", _HURT))
    for p in (
        r"\b(?:all\s+)?(?:(?P<qual>" + _QUAL + r")\s+)?(?P<n>" + _NUM + r")\s+(?:[\w.-]+\s+){0,2}?" + _PERSON
        + r"\s+(?:(?:were|was|have\s+been|had\s+been|are|is|been|reportedly)\s+)*" + verbs + r"\b",
        r"(?<![Nn]o )\b(?:(?P<qual>" + _QUAL + r")\s+)?(?P<n>" + _NUM + r")\s+(?:were\s+|was\s+)?" + verbs + r"\b",
        (r"\b(?:kill(?:ed|ing)|shot\s+dead)" if verbs == _FATAL else r"\b(?:wound|injur)(?:ed|ing)")
        + r"\s+(?:(?P<qual>" + _QUAL + r")\s+)?(?P<n>" + _NUM + r")\b(?=\s+(?:[\w.-]+\s+){0,2}?"
        + _PERSON + r"\b|\s*[,.;]|\s+(?:and|in|at|on|when)\b)",
        r"\b(?:deaths?|killing)\s+of\s+(?:(?P<qual>" + _QUAL + r")\s+)?(?P<n>" + _NUM
        + r")\s+(?:[\w.-]+\s+){0,2}?" + _PERSON + r"\b",
        r"\bleft\s+(?:(?P<qual>" + _QUAL + r")\s+)?(?P<n>" + _NUM + r")\s+(?:[\w.-]+\s+){0,2}?(?:" + _PERSON + r"\s+)?"
        + ("dead" if verbs == _FATAL else r"(?:wounded|injured)") + r"\b",
    )
    if not (fld == "injuries" and p.startswith(r"\b(?:deaths?"))
)
_NO_CASUALTIES = re.compile(
    r"\b(?:no|without\s+(?:causing\s+)?(?:any\s+)?)\s*(?:immediate\s+)?(?:reports?\s+of\s+)?(?:(?:any|serious|major)\s+)?"
    r"(?P<what>casualt\w*|causalit\w*|casualit\w*|injur\w*|deaths?|fatalities)\b"
    r"|\b(?:no\s+one|nobody|no\s+(?:[\w-]+\s+){0,2}?(?:were|was))\s+(?:was\s+)?(?:reported\s+)?(?P<verb>hurt|injured|wounded|killed)"
    r"(?:\s+or\s+(?P<verb2>hurt|injured|wounded|killed))?\b",
    re.IGNORECASE,
)


def _casualties(masked: str, offset: int) -> list[Hit]:
    found = []
    for fld, pattern in _CASUALTY_PATTERNS:
        for m in pattern.finditer(masked):
            n = _number(m["n"])
            if n is None or (m["n"].lower() in {"a", "an"} and not re.search(_PERSON, m.group(0), re.IGNORECASE)):
                continue
            found.append((m.start(), m.end(), (fld, n, m["qual"], m.group(0))))
    hits = []
    for fld in ("fatalities", "injuries"):
        for a, b, (_, n, qual, text) in _first_non_overlapping(x for x in found if x[2][0] == fld):
            hits.append(Hit(fld, n, offset + a, offset + b, f"{'lower bound' if qual else 'count'} '{text.strip()}'"))
    for m in _NO_CASUALTIES.finditer(masked):
        what = (m["what"] or m["verb"] or "").lower()
        verbs = {what[:4], (m["verb2"] or "").lower()[:4]}
        if (m["verb2"] and "kill" in verbs and len(verbs) == 2) or what.startswith(("casualt", "causalit", "casualit")):
            fields = ("fatalities", "injuries")
        elif what.startswith(("injur", "hurt", "wound")):
            fields = ("injuries",)
        else:
            fields = ("fatalities",)
        for fld in fields:
            hits.append(Hit(fld, 0, offset + m.start(), offset + m.end(), f"none '{m.group(0).strip()}'"))
    return hits


# ---- places


def _places(masked: str, offset: int, gazetteer: Gazetteer) -> list[Hit]:
    found = []
    for location, pattern in gazetteer.patterns:
        for m in pattern.finditer(masked):
            found.append((m.start(), m.end(), location))
    hits = []
    for a, b, location in _first_non_overlapping(found):
        before = masked[max(0, a - 60) : a]
        launch = re.search(r"\b(?:launched|fired|flew|took\s+off)?\s*from\s+(?:[\w'’-]+\s+){0,6}$", before,
                           re.IGNORECASE)
        fld = ("launch_site" if launch else "country" if gazetteer.rank(location) == LEVEL_RANK["country"]
               else "location")
        rule = f"gazetteer '{masked[a:b]}'" + (" after 'from' (launch point)" if launch else "")
        hits.append(Hit(fld, location, offset + a, offset + b, rule))
    return hits


# ---- sides

_AGENT_BEFORE = (
    ("claimed", re.compile(r"\bclaimed\s+by\s+(?:the\s+)?(?:[\w'’“”\"-]+\s+){0,2}$", re.IGNORECASE)),
    ("blamed", re.compile(r"\b(?:blamed|blamed\s+on|attributed\s+to|accused)\s+(?:the\s+)?(?:[\w'’“”\"-]+\s+){0,2}$",
                          re.IGNORECASE)),
    ("by", re.compile(r"\bby\s+(?:the\s+|a\s+|an\s+)?(?:[\w'’“”\"-]+\s+){0,2}$", re.IGNORECASE)),
)
_AGENT_AFTER_CLAIM = re.compile(r"^[\w\s'’”\"-]{0,30}?\b(?:claimed|has\s+claimed|later\s+claimed)\b", re.IGNORECASE)
_AGENT_AFTER = re.compile(
    r"^(?:['’]s)?(?:[\s”\"]+(?!(?:were|was|been|is|are)\b)[\w-]+){0,2}?[\s”\"]+"
    r"(?:fired|launched|struck|attacked|carried\s+out|conducted|targeted|shelled|bombed|hit|retaliated|killed|shot|"
    r"opened\s+fire|stabbed|rammed|raided|"
    r"said\b[^.;]{0,40}?\b(?:it|its\s+\w+|they|their\s+\w+)\s+(?:had\s+|has\s+|have\s+)?(?:struck|hit|targeted|carried\s+out|conducted|launched)|"
    r"(?:drone|UAV|air)?[- ]?strikes?|airstrikes?|air\s+raids?|warplanes?|rockets?|missiles?|drones?)\b",
    re.IGNORECASE,
)
_TARGET_BEFORE = re.compile(
    r"\b(?:at|on|against|targeting|targeted|toward|towards|struck|hit|housing|hosting|attacking)\s+"
    r"(?:the\s+|a\s+|an\s+)?(?:[\w'’-]+\s+){0,3}$",
    re.IGNORECASE,
)
_TARGET_AFTER = re.compile(
    r"^(?:\s+[\w-]+){0,2}?\s+(?:was|were|has\s+been|had\s+been)\s+(?:\w+\s+)?(?:hit|struck|targeted|attacked|shelled)\b",
    re.IGNORECASE,
)
_VICTIM_BEFORE = re.compile(r"\b(?:killed|killing|wounded|wounding|injuring|shot(?:\s+dead)?|stabbed)\s+"
                            r"(?:[\w'’-]+\s+){0,4}$", re.IGNORECASE)
_VICTIM_AFTER = re.compile(
    r"^(?:\s+[\w-]+){0,2}?\s+(?:were|was|have\s+been|had\s+been)\s+(?:\w+\s+)?(?:killed|shot|wounded|injured)\b",
    re.IGNORECASE)
_GROUP_WORD = re.compile(r"^(?:\s+(?:group|militias?|factions?|forces|troops|military|brigades?|movement"
                         r"|Central\s+Command))+",
                         re.IGNORECASE)


def side_patterns(spec) -> list[tuple[str, re.Pattern]]:
    """(side, compiled pattern) for every actor pattern of the spec and every ``news.aliases``
    pattern, with sides grouped as the spec says (``group_with``)."""
    out = []
    for key, side in spec.sides.items():
        for pattern in side.actors:
            out.append((spec.analysed_side(key), re.compile(pattern, re.IGNORECASE)))
    aliases = ((spec.raw.get("news") or {}).get("aliases") or {})
    for key, patterns in aliases.items():
        if key not in spec.sides:
            raise ValueError(f"{spec.path}: news.aliases names side {key!r}, which the spec does not have")
        for pattern in [patterns] if isinstance(patterns, str) else patterns:
            out.append((spec.analysed_side(key), re.compile(pattern, re.IGNORECASE)))
    return out


def _sides(masked: str, offset: int, patterns) -> list[Hit]:
    found = []
    for side, pattern in patterns:
        for m in pattern.finditer(masked):
            if m.end() > m.start():
                found.append((m.start(), m.end(), side))
    hits = []
    for a, b, side in _first_non_overlapping(found):
        before, after = masked[max(0, a - 80) : a], masked[b : b + 80]
        grow = _GROUP_WORD.match(after)
        name_end = b + (grow.end() if grow else 0)
        actor = masked[a:name_end].strip(" “”\"")
        role, rule, how = "mentioned", "named, no role cue", None
        for cue, pattern in _AGENT_BEFORE:
            if pattern.search(before):
                role, rule = "agent", f"'{cue}' before the name"
                how = cue if cue in {"claimed", "blamed"} else None
                break
        else:
            rest = re.sub(r"^\.", "", masked[name_end : name_end + 80])  # "U.S." matched as "U.S"
            if _AGENT_AFTER_CLAIM.match(rest):
                role, rule, how = "agent", "'claimed' after the name", "claimed"
            elif _TARGET_AFTER.match(rest) or _TARGET_BEFORE.search(before):
                role, rule = "target", "target cue"
            elif _VICTIM_BEFORE.search(before) or _VICTIM_AFTER.match(rest):
                role, rule = "target", "victim cue"
            elif _AGENT_AFTER.match(rest):
                role, rule = "agent", "attack word after the name"
        hits.append(Hit("side", side, offset + a, offset + name_end, f"{actor!r}: {rule}",
                        {"role": role, "actor": actor, "how": how}))
    return hits


# ---- dates


class DateValue(NamedTuple):
    """A date read from text: resolved (``date`` set), relative to the previous event
    (``anchor_days``), or unresolved (``reason``)."""

    date: pd.Timestamp | None
    precision: str | None
    how: str
    anchor_days: int | None = None
    reason: str | None = None


_DATE_PATTERNS: tuple[tuple[str, re.Pattern], ...] = tuple((name, re.compile(p)) for name, p in (
    ("iso", r"\b(?P<year>\d{4})-(?P<mon>\d{2})-(?P<day>\d{2})\b"),
    ("dmy", r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"(?:,?\s+(?P<year>\d{4}))?\b"),
    ("mdy", r"\b" + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>\d{4})\b)?"),
    ("month_year", r"\b" + _MONTH + r"\s+(?P<year>\d{4})\b"),
    ("month", r"(?:\b(?:[Ii]n|[Dd]uring|[Ee]arly|[Ll]ate|[Tt]his|[Ll]ast)\s+|\b[Mm]id-?\s*)" + _MONTH + r"(?!\s*\d)\b"),
    ("weekday", r"(?i:\b(?:(?P<mod>on|this|early|late|last|next|overnight)\s+)?"
                r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
                r"(?:['’]s)?(?:\s+(?:morning|afternoon|evening|night))?\b)"),
    ("day_before_pub", r"(?i:\b(?:yesterday|last\s+night)\b)"),
    ("pub_day", r"(?i:\b(?:today|this\s+morning|earlier\s+today|tonight|this\s+evening|overnight)\b)"),
    ("days_ago", r"(?i:\b(?P<n>" + _NUM + r")\s+days?\s+ago\b)"),
    ("last_week", r"(?i:\blast\s+week\b)"),
    ("this_week", r"(?i:\bearlier\s+this\s+week\b)"),
    ("last_month", r"(?i:\blast\s+month\b)"),
    ("this_month", r"(?i:\bearlier\s+this\s+month\b)"),
    ("anchor", r"(?i:\b(?:(?:just|only|a\s+few|several|some|\d+|two|three|four)\s+)?hours?\s+"
               r"(?P<dir>before|after|later|earlier)\b"
               r"|\bshortly\s+(?P<dir2>before|after|afterwards)\b|\bminutes\s+(?:later|earlier|before|after)\b"
               r"|\b(?:earlier|later)\s+(?:that|the\s+same)\s+day\b|\bthe\s+same\s+day\b"
               r"|\bthe\s+(?P<next>next|following)\s+day\b|\bthe\s+day\s+(?P<prev>before)\b"
               r"|\b(?P<n>" + _NUM + r")\s+days?\s+(?P<ndir>later|after|before|earlier)\b)"),
    ("vague", r"(?i:\b(?:a\s+few|several|some|a\s+couple\s+of)\s+(?:days|weeks)\s+(?:ago|earlier|before|after|later)\b"
              r"|\brecently\b|\bin\s+recent\s+(?:days|weeks)\b)"),
))
_STATEMENT_BEFORE = re.compile(
    r"\b(?:said|says|told\s+\w+|announced|reported|stated|added|funerals?|posted|published|statement)\s+(?:\w+\s+){0,2}?(?:on\s+)?$",
    re.IGNORECASE,
)


def _resolve(name: str, m: re.Match, published: pd.Timestamp | None) -> DateValue:
    """Turn one date match into a DateValue (see the module notes for the rules)."""
    text = m.group(0).strip()
    need = f"'{text}' is relative and the article has no publication date"
    if name in {"iso", "dmy", "mdy"}:
        year = int(m["year"]) if m["year"] else None
        mon = int(m["mon"]) if name == "iso" else _month(m["month"])
        day = int(m["day"])
        if year is None:
            if published is None:
                return DateValue(None, None, text,
                                 reason=f"'{text}' has no year and the article has no publication date")
            year = published.year
            try:
                if pd.Timestamp(year, mon, day) > published + pd.Timedelta(days=1):
                    year -= 1
            except ValueError:
                pass
        try:
            date = pd.Timestamp(year, mon, day)
        except ValueError:
            return DateValue(None, None, text, reason=f"'{text}' is not a calendar date")
        return DateValue(date, "day",
                         f"'{text}'" + ("" if m["year"] else f" in {year} (publication {published.date()})"))
    if name in {"month_year", "month"}:
        mon = _month(m["month"])
        if name == "month_year":
            year = int(m["year"])
        elif published is None:
            return DateValue(None, None, text, reason=f"'{text}' has no year and the article has no publication date")
        else:
            year = published.year if mon <= published.month else published.year - 1
        return DateValue(pd.Timestamp(year, mon, 15), "month", f"'{text}': {year}-{mon:02d}, dated the 15th")
    if name == "weekday":
        mod = (m["mod"] or "").lower()
        wd = _WEEKDAYS.index(m["wd"].lower())
        if published is None:
            return DateValue(None, None, text, reason=need)
        if mod == "next":
            return DateValue(None, None, text, reason=f"'{text}' is after publication")
        back = (published.weekday() - wd) % 7
        if mod == "last":
            back = back or 7
        date = published - pd.Timedelta(days=back)
        when = "before" if mod == "last" else "on or before"
        return DateValue(date, "day", f"'{text}': the {m['wd'].title()} {when} publication ({published.date()})")
    if published is None and name not in {"anchor", "vague"}:
        return DateValue(None, None, text, reason=need)
    if name == "day_before_pub":
        return DateValue(published - pd.Timedelta(days=1), "day",
                         f"'{text}': the day before publication ({published.date()})")
    if name == "pub_day":
        return DateValue(published, "day", f"'{text}': the publication day")
    if name == "days_ago":
        n = _number(m["n"])
        return DateValue(published - pd.Timedelta(days=n), "day",
                         f"'{text}': {n} days before publication ({published.date()})")
    if name in {"last_week", "this_week"}:
        monday = published - pd.Timedelta(days=published.weekday()) - pd.Timedelta(days=7 if name == "last_week" else 0)
        date = min(monday + pd.Timedelta(days=3), published)
        return DateValue(date, "week", f"'{text}': week of {monday.date()}, dated {date.date()}")
    if name in {"last_month", "this_month"}:
        first = published.replace(day=1)
        if name == "last_month":
            first = (first - pd.Timedelta(days=1)).replace(day=1)
        return DateValue(first.replace(day=15), "month", f"'{text}': {first.year}-{first.month:02d}, dated the 15th")
    if name == "anchor":
        days = 0
        if m["next"]:
            days = 1
        elif m["prev"]:
            days = -1
        elif m["n"]:
            days = _number(m["n"]) * (1 if m["ndir"].lower() in {"later", "after"} else -1)
        return DateValue(None, "day", text, anchor_days=days)
    return DateValue(None, None, text, reason=f"'{text}' is too vague to date")


def _dates(masked: str, offset: int, published: pd.Timestamp | None) -> list[Hit]:
    found = []
    for name, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(masked):
            found.append((m.start(), m.end(), (name, m)))
    kept = _first_non_overlapping(found)
    hits = []
    weekday_start = None
    for i, (a, b, (name, m)) in enumerate(kept):
        # "Monday, December 4": the weekday names the same day as the date after it
        if name == "weekday" and i + 1 < len(kept) and kept[i + 1][2][0] in {"dmy", "mdy", "iso"} \
                and re.fullmatch(r"[\s,]*(?:the\s+)?", masked[b : kept[i + 1][0]]):
            weekday_start = a
            continue
        a, weekday_start = (a if weekday_start is None else weekday_start), None
        value = _resolve(name, m, published)
        statement = _STATEMENT_BEFORE.search(masked[max(0, a - 40) : a])
        rule = value.how if value.reason is None else value.reason
        if statement:
            rule = (f"'{m.group(0).strip()}' follows '{statement.group(0).strip()}': when it was said or done, "
                    "not the event's date")
        hits.append(Hit("date", value, offset + a, offset + b, rule, {"statement": bool(statement), "pattern": name}))
    return hits


_TIME_UTC = re.compile(
    r"\b(?:(?P<lh>\d{1,2})[:.](?P<lm>\d{2})\s*(?:[ap]\.?m\.?\s*)?(?:local\s+time\s*)?\(\s*)?(?P<h>\d{1,2})[:.](?P<m>\d{2})\s*(?:GMT|UTC)\b"
)


def _times(masked: str, offset: int) -> list[Hit]:
    hits = []
    for m in _TIME_UTC.finditer(masked):
        h, mi = int(m["h"]), int(m["m"])
        if h > 23 or mi > 59:
            continue
        shift = 0
        if m["lh"]:  # local and UTC times both given: the UTC day is the previous one when UTC is later
            shift = -1 if int(m["lh"]) * 60 + int(m["lm"]) < h * 60 + mi else 0
        hits.append(Hit("time_utc", (h, mi, shift), offset + m.start(), offset + m.end(), f"'{m.group(0).strip()}'"))
    return hits




# --------------------------------------------------------------------------------------------
# One sentence


def read_sentence(text: str, offset: int, *, gazetteer: Gazetteer, patterns, published: pd.Timestamp | None
                  ) -> tuple[list[Hit], bool] | None:
    """Every field rule's hits in one sentence (spans offset by ``offset``, the sentence's start
    in the article), after masking aggregates and weapons not used; None when the sentence is not
    a mention (neither a weapon word nor a trigger). The flag says whether it states that no one
    claimed the attack."""
    masked, _ = _mask(text, _AGGREGATE)
    masked, _ = _mask(masked, _NOT_USED)
    kinds = _kinds(masked, offset)
    if not kinds and not _TRIGGER.search(masked):
        return None
    hits = (kinds + _munitions(masked, offset) + _casualties(masked, offset)
            + _places(masked, offset, gazetteer) + _sides(masked, offset, patterns)
            + _dates(masked, offset, published) + _times(masked, offset))
    return hits, bool(_UNCLAIMED.search(masked))
