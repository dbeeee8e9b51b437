"""News articles -> candidate events, with the sentence and characters behind every field.

Rule-based and transparent: regular expressions over sentences, the dyad spec's side patterns
and a gazetteer of places kept as data. No network and no statistical model; every value a
candidate carries can be traced to a span of its article with the rule that read it.

Articles
--------
A folder of ``.txt`` or ``.md`` files (UTF-8), each with optional YAML front matter between
``---`` lines: ``published`` (YYYY-MM-DD), ``url``, ``outlet``, ``title``. ``metadata=`` (file
name -> the same keys) fills keys the front matter lacks. Without ``published``, a line holding
only a date (a dateline such as "July 6, 2021") is taken as the publication date; failing that
the article has none, and then only dates written in full resolve: everything relative
("on Tuesday", "last week", "June 28" without a year) is left unresolved and flagged, never
guessed. Page furniture after the story (lists of related headlines "Title / Author | Section |
Dec 2, 2021", "Subscribe", "©") is cut off; the articles table reports how much.

Spans are offsets in the file's decoded text: ``text[start:end]`` is the evidence.

From sentences to candidates
----------------------------
1. **Sentences** are split at ``.!?`` followed by a capital or digit (not after abbreviations such
   as "U.S." or "Dec.") and at line ends.
2. **Aggregates are masked**: clauses that count or summarise many attacks ("at least 78 attacks",
   "several strikes", "most of the attacks", "since October 17", "continued attacks", "a frequent
   target", "over the past year") are blanked
   to the end of the clause, so their numbers, actors and dates are not read as one event's.
   Weapon words in defensive phrases ("missile defense system", "C-RAM") and in "preparing to
   launch a drone" are blanked too.
3. **Mentions**: a sentence is a mention when it has a trigger (a weapon word, "attack", "strike",
   "bombing", "struck", "targeted", "killed", "casualties"...). Each mention's fields are read
   with the rules below.
4. **Events**: a mention with a weapon kind (or with a resolved date and a place) joins the most
   recent earlier event it is compatible with (same or unknown kind, date, attacker; nested
   places) or starts a new one. A mention without either only refers back: it joins the event of
   the mention just before it (at most two sentences back) and fills only what that event lacks.
   A mention naming two separate places of the same level is a summary of several events: with one
   weapon ("air strikes at Jurf al-Sakhar and al-Qaim") it gives one event per place, without the
   counts; with several ("the embassy and Ain al-Asad were targeted by a drone and rockets") it is
   not used. A mention
   naming several weapons ("missiles and rockets") takes the first. An event started by a
   sentence without any date, right after a dated event, takes that event's date, flagged
   ``date carried over``. An event none of whose sentences names a side of the dyad (and with
   no site held by one) is dropped: nothing ties it to the dyad.

Field rules
-----------
date
    Absolute ("17 November 2020", "Dec. 3, 2023", "2020-11-17"); month and day without a year
    (the latest such day not after the publication date); a weekday ("on Tuesday", "early
    Friday", "This Friday": the latest such day on or before publication; "last Tuesday": the one
    before that); "yesterday" and "last night" (the day before publication);
    "today" and "overnight" (the night that ends on the publication day); "N days ago"; "last week" (week precision, dated to its Thursday); "In January",
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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import yaml

from analysis.paths import display_path, resolve

__all__ = [
    "Article",
    "Gazetteer",
    "NewsExtraction",
    "extract_article",
    "extract_news",
    "load_gazetteer",
    "load_news",
    "read_article",
    "spec_gazetteer",
    "split_sentences",
]

# --------------------------------------------------------------------------------------------
# Articles

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_ARTICLE_SUFFIXES = (".txt", ".md")
_META_KEYS = ("published", "url", "outlet", "title")


@dataclass(frozen=True)
class Article:
    """One article: its text, where the story starts and ends, and its metadata."""

    article_id: str
    path: str
    text: str
    body_start: int
    body_end: int
    published: pd.Timestamp | None
    published_from: str
    url: str | None = None
    outlet: str | None = None
    title: str | None = None
    furniture_chars: int = 0

    @property
    def body(self) -> str:
        return self.text[self.body_start : self.body_end]


def _furniture_start(text: str, start: int) -> int:
    """Offset where page furniture after the story begins (len(text) when there is none)."""
    offsets = []
    pos = start
    for line in text[start:].split("\n"):
        offsets.append((pos, line))
        pos += len(line) + 1
    for i, (pos, line) in enumerate(offsets):
        stripped = line.strip()
        if stripped.count(" | ") >= 2 and re.search(r"\b\d{4}\s*$", stripped):
            # a related-story byline; its headline is the line before when that has no full stop
            if i and not re.search(r"[.!?][\"”’]?\s*$", offsets[i - 1][1].strip()):
                return offsets[i - 1][0]
            return pos
        if re.match(r"(?:©|\(c\)\s*\d{4}|Copyright\s+©?\s*\d{4}|Subscribe to\b|Sign up for\b)", stripped, re.I):
            return pos
    return len(text)


def _parse_date(value: Any) -> pd.Timestamp | None:
    if value is None or value == "":
        return None
    try:
        return pd.Timestamp(str(value)).normalize()
    except (ValueError, TypeError):
        return None


_DATELINE = re.compile(
    r"^\s*(?:(?:Published|Posted|Updated)(?:\s+on)?:?\s+)?(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+)?"
    r"(?:" + r"(?P<mdy>[A-Z][a-z]{2,8}\.?\s+\d{1,2},?\s+\d{4})|(?P<dmy>\d{1,2}\s+[A-Z][a-z]{2,8}\.?\s+\d{4})|(?P<iso>\d{4}-\d{2}-\d{2})"
    r")\s*$"
)


def _dateline(body: str) -> pd.Timestamp | None:
    """The date of the first line that holds nothing but a full date (a dateline), if any."""
    for line in body.split("\n"):
        m = _DATELINE.match(line)
        if m:
            try:
                return pd.Timestamp(m.group("mdy") or m.group("dmy") or m.group("iso")).normalize()
            except ValueError:
                continue
    return None


def read_article(path: str | Path, metadata: Mapping[str, Any] | None = None) -> Article:
    """Read one article and its front matter.

    Parameters
    ----------
    path : str or Path
        A ``.txt`` or ``.md`` file.
    metadata : mapping, optional
        ``published``, ``url``, ``outlet``, ``title`` for keys the front matter lacks.

    Raises
    ------
    ValueError
        If the front matter is not valid YAML or ``published`` is not a date (the message names
        the file).
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    meta: dict[str, Any] = {}
    body_start = 0
    found = _FRONT_MATTER.match(text)
    if found:
        try:
            meta = yaml.safe_load(found.group(1)) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: front matter is not valid YAML ({exc})") from exc
        if not isinstance(meta, dict):
            raise ValueError(f"{path}: front matter must be a mapping of keys to values")
        body_start = found.end()
    published_from = "front matter" if meta.get("published") not in (None, "") else ""
    for key, value in (metadata or {}).items():
        if meta.get(key) in (None, "") and value not in (None, ""):
            meta[key] = value
            if key == "published":
                published_from = "metadata"
    published = _parse_date(meta.get("published"))
    if meta.get("published") not in (None, "") and published is None:
        raise ValueError(f"{path}: 'published' must be a date (YYYY-MM-DD), got {meta['published']!r}")
    body_end = _furniture_start(text, body_start)
    if published is None:
        published = _dateline(text[body_start:body_end])
        published_from = "dateline" if published is not None else ""
    return Article(
        article_id=path.name,
        path=display_path(path),
        text=text,
        body_start=body_start,
        body_end=body_end,
        published=published,
        published_from=published_from,
        url=_text_or_none(meta.get("url")),
        outlet=_text_or_none(meta.get("outlet")),
        title=_text_or_none(meta.get("title")),
        furniture_chars=len(text) - body_end,
    )


def _text_or_none(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def list_articles(folder: str | Path) -> list[Path]:
    """The ``.txt`` / ``.md`` files of ``folder`` (not README.md), sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder of news articles")
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in _ARTICLE_SUFFIXES and p.name.lower() != "readme.md"
    )


# --------------------------------------------------------------------------------------------
# Sentences

_ABBREVIATIONS = {
    "u.s", "u.k", "u.n", "gen", "lt", "col", "sgt", "maj", "capt", "adm", "brig", "mr", "mrs", "ms",
    "dr", "st", "no", "vs", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
    "nov", "dec", "gov", "sen", "rep", "pres", "jr", "sr", "e.g", "i.e", "approx", "est",
}
_BOUNDARY = re.compile(r"[.!?]+[\"”’')\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9#])")


class Sentence(NamedTuple):
    """A sentence: its number in the article, its offsets in the file, its text."""

    number: int
    start: int
    end: int
    text: str


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Sentence]:
    """Split ``text[start:end]`` into sentences at line ends and at sentence-final punctuation.

    Returns
    -------
    list of Sentence
        With offsets into ``text``, surrounding spaces trimmed, empty lines left out.
    """
    end = len(text) if end is None else end
    out: list[Sentence] = []

    def add(a: int, b: int) -> None:
        piece = text[a:b]
        lead = len(piece) - len(piece.lstrip())
        piece = piece.strip()
        if piece:
            out.append(Sentence(len(out), a + lead, a + lead + len(piece), piece))

    pos = start
    for line in text[start:end].split("\n"):
        line_start = pos
        cut = line_start
        for m in _BOUNDARY.finditer(line):
            before = re.search(r"(\S+)$", line[: m.start()])
            word = before.group(1).lower().lstrip("(\"“‘'") if before else ""
            if word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", word):
                continue
            add(cut, line_start + m.end())
            cut = line_start + m.end()
        add(cut, line_start + len(line))
        pos += len(line) + 1
    return out


# --------------------------------------------------------------------------------------------
# Gazetteer

_LEVEL_RANK = {"site": 0, "area": 1, "city": 2, "province": 3, "region": 3, "country": 4}


@dataclass(frozen=True)
class Gazetteer:
    """Places with the patterns that find them in text. See :func:`load_gazetteer`."""

    places: pd.DataFrame
    path: str | None = None
    patterns: tuple[tuple[str, re.Pattern], ...] = field(default=(), repr=False)

    def ancestors(self, location: str) -> list[str]:
        """``location`` and every place it is part of, innermost first."""
        chain, seen = [], set()
        parent = self.places["part_of"].to_dict()
        while location and location not in seen and location in parent:
            chain.append(location)
            seen.add(location)
            location = parent[location] or ""
        return chain

    def nested(self, a: str | None, b: str | None) -> bool:
        """True when either place is missing or one lies within the other."""
        return a is None or b is None or a in self.ancestors(b) or b in self.ancestors(a)

    def rank(self, location: str) -> int:
        return _LEVEL_RANK.get(str(self.places.at[location, "level"]), 5)


def load_gazetteer(path: str | Path) -> Gazetteer:
    """Read a gazetteer CSV.

    Columns: ``location`` (the name events get), ``pattern`` (a case-insensitive regular
    expression), ``level`` (site, area, city, province, region or country), optional
    ``part_of`` (the location it lies in), ``held_by`` (the dyad side whose site it is),
    ``latitude``, ``longitude``, ``admin1``, ``country``, ``source_url``, ``note``.

    Raises
    ------
    ValueError
        Naming the file, row and column, for a missing column, a duplicate location, an unknown
        level, a pattern that is not a regular expression or a ``part_of`` that is not a
        location of the file.
    """
    path = Path(path)
    places = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in ("location", "pattern", "level"):
        if col not in places.columns:
            raise ValueError(f"{path}: gazetteer has no '{col}' column; columns are: {', '.join(places.columns)}")
    for col in ("part_of", "held_by", "latitude", "longitude", "admin1", "country", "source_url"):
        if col not in places.columns:
            places[col] = ""
    compiled = []
    for row, place in enumerate(places.itertuples(index=False), start=2):
        if place.level not in _LEVEL_RANK:
            raise ValueError(f"{path}, row {row}, column level: {place.level!r} is not one of {', '.join(_LEVEL_RANK)}")
        try:
            compiled.append((place.location, re.compile(place.pattern, re.IGNORECASE)))
        except re.error as exc:
            raise ValueError(f"{path}, row {row}, column pattern: not a regular expression ({exc})") from exc
        if place.part_of and place.part_of not in set(places["location"]):
            raise ValueError(f"{path}, row {row}, column part_of: {place.part_of!r} is not a location of the gazetteer")
    dup = places["location"].duplicated()
    if dup.any():
        row = int(dup.to_numpy().nonzero()[0][0]) + 2
        raise ValueError(f"{path}, row {row}, column location: {places['location'][row - 2]!r} appears twice")
    for col in ("latitude", "longitude"):
        places[col] = pd.to_numeric(places[col].replace("", pd.NA), errors="raise").astype("Float64")
    return Gazetteer(places.set_index("location", drop=False), display_path(path), tuple(compiled))


def spec_gazetteer(spec) -> Gazetteer:
    """The gazetteer a dyad spec names in ``news.gazetteer`` (a path from the project root)."""
    path = (spec.raw.get("news") or {}).get("gazetteer")
    if not path:
        raise ValueError(f"{spec.path}: the spec has no news.gazetteer (a CSV of places, see load_gazetteer)")
    return load_gazetteer(resolve(path))


# --------------------------------------------------------------------------------------------
# Shared vocabulary

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "single": 1, "a single": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "a dozen": 12, "dozen": 12,
}
_NUM = r"(?:\d+|a single|a dozen|" + "|".join(sorted((w for w in _NUMBER_WORDS if " " not in w), key=len, reverse=True)) + r")"
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
    ("airstrike", r"\bair[- ]?strikes?\b|\bair[- ]?raids?\b|\bwarplanes?\b|\bbombing\s+raids?\b|\bprecision\s+strikes?\b", True),
    ("missile", r"\b(?:ballistic\s+|cruise\s+)?missiles?\b", True),
    ("rocket", r"\bKatyushas?\b|\brockets?\b", True),
    ("mortar", r"\bmortars?\b(?:\s+(?:shells?|rounds?|bombs?))?", True),
    ("drone", r"\b(?:one-way\s+(?:attack\s+)?|armed\s+|explosive-laden\s+|suicide\s+|kamikaze\s+|attack\s+)?(?:drones?|UAVs?)\b", True),
    ("ied", r"\broadside\s+bombs?\b|\bIEDs?\b|\bimprovised\s+explosive\s+devices?\b", True),
    ("shooting", r"\bshot\s+(?:dead|and\s+killed)\b|\bopened\s+fire\b|\bshooting\s+attack\b|\bgunmen\b|\bgunfire\b", True),
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
        r"\b(?:deaths?|killing)\s+of\s+(?:(?P<qual>" + _QUAL + r")\s+)?(?P<n>" + _NUM + r")\s+(?:[\w.-]+\s+){0,2}?" + _PERSON + r"\b",
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
        for a, b, (f, n, qual, text) in _first_non_overlapping(x for x in found if x[2][0] == fld):
            hits.append(Hit(fld, n, offset + a, offset + b, f"{'lower bound' if qual else 'count'} '{text.strip()}'"))
    for m in _NO_CASUALTIES.finditer(masked):
        what = (m["what"] or m["verb"] or "").lower()
        verbs = {what[:4], (m["verb2"] or "").lower()[:4]}
        if m["verb2"] and "kill" in verbs and len(verbs) == 2:
            fields = ("fatalities", "injuries")
        elif what.startswith(("casualt", "causalit", "casualit")):
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
        launch = re.search(r"\b(?:launched|fired|flew|took\s+off)?\s*from\s+(?:[\w'’-]+\s+){0,6}$", before, re.IGNORECASE)
        fld = "launch_site" if launch else "country" if gazetteer.rank(location) == _LEVEL_RANK["country"] else "location"
        rule = f"gazetteer '{masked[a:b]}'" + (" after 'from' (launch point)" if launch else "")
        hits.append(Hit(fld, location, offset + a, offset + b, rule))
    return hits


# ---- sides

_AGENT_BEFORE = (
    ("claimed", re.compile(r"\bclaimed\s+by\s+(?:the\s+)?(?:[\w'’“”\"-]+\s+){0,2}$", re.IGNORECASE)),
    ("blamed", re.compile(r"\b(?:blamed|blamed\s+on|attributed\s+to|accused)\s+(?:the\s+)?(?:[\w'’“”\"-]+\s+){0,2}$", re.IGNORECASE)),
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
_VICTIM_BEFORE = re.compile(r"\b(?:killed|killing|wounded|wounding|injuring|shot(?:\s+dead)?|stabbed)\s+(?:[\w'’-]+\s+){0,4}$", re.IGNORECASE)
_VICTIM_AFTER = re.compile(
    r"^(?:\s+[\w-]+){0,2}?\s+(?:were|was|have\s+been|had\s+been)\s+(?:\w+\s+)?(?:killed|shot|wounded|injured)\b", re.IGNORECASE)
_GROUP_WORD = re.compile(r"^(?:\s+(?:group|militias?|factions?|forces|troops|military|brigades?|movement|Central\s+Command))+",
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
    ("weekday", r"(?i:\b(?:(?P<mod>on|this|early|late|last|next|overnight)\s+)?(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
                r"(?:['’]s)?(?:\s+(?:morning|afternoon|evening|night))?\b)"),
    ("day_before_pub", r"(?i:\b(?:yesterday|last\s+night)\b)"),
    ("pub_day", r"(?i:\b(?:today|this\s+morning|earlier\s+today|tonight|this\s+evening|overnight)\b)"),
    ("days_ago", r"(?i:\b(?P<n>" + _NUM + r")\s+days?\s+ago\b)"),
    ("last_week", r"(?i:\blast\s+week\b)"),
    ("this_week", r"(?i:\bearlier\s+this\s+week\b)"),
    ("last_month", r"(?i:\blast\s+month\b)"),
    ("this_month", r"(?i:\bearlier\s+this\s+month\b)"),
    ("anchor", r"(?i:\b(?:(?:just|only|a\s+few|several|some|\d+|two|three|four)\s+)?hours?\s+(?P<dir>before|after|later|earlier)\b"
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
                return DateValue(None, None, text, reason=f"'{text}' has no year and the article has no publication date")
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
        return DateValue(date, "day", f"'{text}'" + ("" if m["year"] else f" in {year} (publication {published.date()})"))
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
        return DateValue(date, "day", f"'{text}': the {m['wd'].title()} {'before' if mod == 'last' else 'on or before'} publication ({published.date()})")
    if published is None and name not in {"anchor", "vague"}:
        return DateValue(None, None, text, reason=need)
    if name == "day_before_pub":
        return DateValue(published - pd.Timedelta(days=1), "day", f"'{text}': the day before publication ({published.date()})")
    if name == "pub_day":
        return DateValue(published, "day", f"'{text}': the publication day")
    if name == "days_ago":
        n = _number(m["n"])
        return DateValue(published - pd.Timedelta(days=n), "day", f"'{text}': {n} days before publication ({published.date()})")
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
            rule = f"'{m.group(0).strip()}' follows '{statement.group(0).strip()}': when it was said or done, not the event's date"
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
# Mentions and events


@dataclass
class Mention:
    """A sentence that mentions an attack, with every hit read from it."""

    sentence: Sentence
    hits: list[Hit]
    unclaimed: bool = False
    summary: str | None = None
    status: str = ""
    event: int | None = None

    def of(self, name: str) -> list[Hit]:
        return [h for h in self.hits if h.field == name]


@dataclass
class Draft:
    """An event being assembled from mentions."""

    number: int
    mentions: list[Mention] = field(default_factory=list)
    chosen: dict[str, Hit] = field(default_factory=dict)
    all_hits: list[Hit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    date: DateValue | None = None
    unresolved: Hit | None = None
    carried: int | None = None
    context: list[Mention] = field(default_factory=list)


_SIDE_PRIORITY = {"claimed": 0, "blamed": 1}


def _attacker(mention: Mention, gazetteer: Gazetteer, side_keys: list[str]) -> tuple[Hit | None, str]:
    """The attacker side hit of a mention and how it was found ('agent', 'target', '')."""
    agents = [h for h in mention.of("side") if h.extra["role"] == "agent"]
    if agents:
        agents.sort(key=lambda h: (_SIDE_PRIORITY.get(h.extra["how"], 2), h.start))
        return agents[0], "agent"
    targets = [h for h in mention.of("side") if h.extra["role"] == "target"]
    for h in mention.of("location"):
        held = str(gazetteer.places.at[h.value, "held_by"] or "")
        if held:
            targets.append(Hit("side", held, h.start, h.end, f"{h.value} is held by {held}", {"role": "target", "actor": None, "how": None}))
    target_sides = {h.value for h in targets}
    if len(target_sides) == 1 and len(side_keys) == 2:
        (target,) = target_sides
        other = next(k for k in side_keys if k != target)
        t = targets[0]
        return Hit("side", other, t.start, t.end, f"side inferred from target: {t.rule}",
                   {"role": "inferred", "actor": None, "how": "inferred"}), "target"
    return None, ""


def _compatible(draft: Draft, mention: Mention, date: DateValue | None, kind: Hit | None, attacker: Hit | None,
                location: Hit | None, gazetteer: Gazetteer) -> bool:
    have = draft.chosen
    if kind is not None and "kind" in have and kind.value != have["kind"].value:
        if kind.extra["strong"] and have["kind"].extra["strong"]:
            return False
        strong = kind if kind.extra["strong"] else have["kind"]
        if strong.value not in {"airstrike", "drone_strike", "missile"}:
            return False
    if date is not None and date.date is not None and draft.date is not None and draft.date.date is not None:
        if not _dates_overlap(draft.date, date):
            return False
    if attacker is not None and "side" in have and attacker.value != have["side"].value:
        return False
    if location is not None and "location" in have and not gazetteer.nested(location.value, have["location"].value):
        return False
    return True


def _period(value: DateValue) -> tuple[pd.Timestamp, pd.Timestamp]:
    if value.precision == "month":
        first = value.date.replace(day=1)
        return first, first + pd.offsets.MonthEnd(0)
    if value.precision == "week":
        monday = value.date - pd.Timedelta(days=value.date.weekday())
        return monday, monday + pd.Timedelta(days=6)
    return value.date, value.date


def _dates_overlap(a: DateValue, b: DateValue) -> bool:
    (a0, a1), (b0, b1) = _period(a), _period(b)
    return a0 <= b1 and b0 <= a1


_PRECISION_RANK = {"day": 0, "week": 1, "month": 2}


def _mention_date(mention: Mention, anchor: Draft | None) -> tuple[DateValue | None, Hit | None, Hit | None]:
    """(resolved date, its hit, the unresolved hit) of a mention; anchored dates take the
    previous event's date."""
    best = unresolved = None
    best_value = None
    for h in mention.of("date"):
        if h.extra["statement"]:
            continue
        value: DateValue = h.value
        if value.anchor_days is not None:
            if anchor is not None and anchor.date is not None and anchor.date.date is not None:
                base = anchor.date
                date = base.date + pd.Timedelta(days=value.anchor_days)
                value = DateValue(date, base.precision, f"'{value.how}': {value.anchor_days:+d} days from event {anchor.number} ({base.date.date()})")
                h = Hit("date", value, h.start, h.end, value.how, h.extra)
            else:
                value = DateValue(None, None, value.how, reason=f"'{value.how}' refers to an event whose date is not known")
                h = Hit("date", value, h.start, h.end, value.reason, h.extra)
        if value.date is None:
            unresolved = unresolved or h
            continue
        if best_value is None or _PRECISION_RANK[value.precision] < _PRECISION_RANK[best_value.precision]:
            best, best_value = h, value
    return best_value, best, unresolved


def _summary(mention: Mention, gazetteer: Gazetteer) -> str | None:
    places = list(dict.fromkeys(h.value for h in mention.of("location")))
    if not places:
        return None
    best = min(gazetteer.rank(p) for p in places)
    same_level = [p for p in places if gazetteer.rank(p) == best]
    if len(same_level) > 1:
        return f"names several separate places ({', '.join(same_level)}): a summary of several events"
    return None


def _most_specific(hits: list[Hit], gazetteer: Gazetteer) -> Hit | None:
    if not hits:
        return None
    return sorted(hits, key=lambda h: (gazetteer.rank(h.value), h.start))[0]


class _Reader:
    """Reads one article's mentions and assembles them into events."""

    def __init__(self, article: Article, spec, gazetteer: Gazetteer, patterns):
        self.article, self.spec, self.gazetteer, self.patterns = article, spec, gazetteer, patterns
        self.side_keys = spec.side_keys

    def mentions(self) -> list[Mention]:
        article = self.article
        out = []
        for sentence in split_sentences(article.text, article.body_start, article.body_end):
            masked, _ = _mask(sentence.text, _AGGREGATE)
            masked, _ = _mask(masked, _NOT_USED)
            off = sentence.start
            kinds = _kinds(masked, off)
            if not kinds and not _TRIGGER.search(masked):
                continue
            hits = (kinds + _munitions(masked, off) + _casualties(masked, off)
                    + _places(masked, off, self.gazetteer) + _sides(masked, off, self.patterns)
                    + _dates(masked, off, article.published) + _times(masked, off))
            mention = Mention(sentence, hits, unclaimed=bool(_UNCLAIMED.search(masked)))
            mention.summary = _summary(mention, self.gazetteer)
            out.append(mention)
        return out

    def _split(self, mention: Mention) -> list[Mention]:
        """One weapon at several places of one level ("air strikes at Jurf al-Sakhar and in the
        al-Qaim area"): one mention per place, without the counts (which place they belong to is
        not said). Several weapons too: nothing (a summary)."""
        strong = {h.value for h in mention.of("kind") if h.extra["strong"]}
        places = list(dict.fromkeys(h.value for h in mention.of("location")))
        if not mention.of("kind") or len(strong) > 1 or not places:
            return []
        best = min(self.gazetteer.rank(p) for p in places)
        parts = []
        for place in (p for p in places if self.gazetteer.rank(p) == best):
            keep = [h for h in mention.hits if h.field not in {"munitions", "fatalities", "injuries"}
                    and (h.field != "location" or h.value in self.gazetteer.ancestors(place))]
            parts.append(Mention(mention.sentence, keep, mention.unclaimed))
        return parts

    def events(self, mentions: list[Mention]) -> list[Draft]:
        drafts: list[Draft] = []
        last: Mention | None = None
        for original in mentions:
            parts = [original]
            if original.summary:
                parts = self._split(original)
                if not parts:
                    original.status = f"not used: {original.summary}"
                    continue
            for mention in parts:
                last = self._place(mention, drafts, last)
            if original.summary:
                events = sorted({m.event for m in parts if m.event})
                original.status = (f"split, one event per place ({original.summary.split(': ')[0]}): "
                                   + ", ".join(f"{m.status}" for m in parts))
                original.event = events[0] if len(events) == 1 else None
        return drafts

    def _place(self, mention: Mention, drafts: list[Draft], last: Mention | None) -> Mention | None:
        """Join ``mention`` to an event or start one; returns the last mention used."""
        anchor = drafts[-1] if drafts else None
        date, date_hit, unresolved = _mention_date(mention, anchor)
        kinds = mention.of("kind")
        kind = next((h for h in kinds if h.extra["strong"]), kinds[0] if kinds else None)
        attacker, _ = _attacker(mention, self.gazetteer, self.side_keys)
        location = _most_specific(mention.of("location"), self.gazetteer)
        # without a weapon, a place and a date of its own (not "hours later") make an event
        starts = kind is not None or (date_hit is not None and date_hit.extra["pattern"] != "anchor" and location is not None)
        if starts:
            for draft in reversed(drafts):
                if _compatible(draft, mention, date, kind, attacker, location, self.gazetteer):
                    self._join(draft, mention, date, date_hit, unresolved, kind, attacker, location, refine=True)
                    mention.status = f"joined event {draft.number}"
                    break
            else:
                draft = Draft(len(drafts) + 1)
                drafts.append(draft)
                self._join(draft, mention, date, date_hit, unresolved, kind, attacker, location, refine=True)
                mention.status = f"started event {draft.number}"
                near = last is not None and last.event is not None and mention.sentence.number - last.sentence.number <= 2
                if date is None and unresolved is None and near and drafts[last.event - 1].date is not None:
                    previous = drafts[last.event - 1]
                    draft.date, draft.chosen["date"] = previous.date, previous.chosen["date"]
                    draft.carried, draft.context = previous.number, previous.mentions + previous.context
        elif last is not None and last.event is not None and mention.sentence.number - last.sentence.number <= 2:
            draft = drafts[last.event - 1]
            self._join(draft, mention, date, date_hit, unresolved, kind, attacker, location, refine=False)
            mention.status = f"refers back to event {draft.number} (fills only what it lacks)"
        else:
            mention.status = "not used: no weapon and no dated place, and no event just before to refer to"
            return last
        return mention

    def _join(self, draft: Draft, mention: Mention, date, date_hit, unresolved, kind, attacker, location, *, refine: bool):
        mention.event = draft.number
        draft.mentions.append(mention)
        have = draft.chosen

        def take(name: str, hit: Hit | None, better: bool = False) -> None:
            if hit is None:
                return
            if name not in have or (refine and better):
                have[name] = hit
            elif have[name].value != hit.value and not refine:
                draft.notes.append(f"sentence {mention.sentence.number + 1}: {name} {hit.value!r} differs from the event's; kept {have[name].value!r}")

        # date: the most precise resolved date wins; conflicts from referring sentences are noted
        if date is not None:
            if draft.date is None or (refine and _PRECISION_RANK[date.precision] < _PRECISION_RANK[draft.date.precision]
                                      and _dates_overlap(draft.date, date)):
                draft.date, have["date"] = date, date_hit
            elif not _dates_overlap(draft.date, date):
                draft.notes.append(f"sentence {mention.sentence.number + 1}: date {date.date.date()} differs from the event's; kept {draft.date.date.date()}")
        elif unresolved is not None and draft.unresolved is None:
            draft.unresolved = unresolved
        take("kind", kind, better=kind is not None and kind.extra["strong"] and not have.get("kind", kind).extra["strong"])
        if attacker is not None:
            current = have.get("side")
            better = current is not None and current.extra["role"] == "inferred" and attacker.extra["role"] != "inferred"
            if current is not None and current.value != attacker.value:
                draft.notes.append(f"sentence {mention.sentence.number + 1}: attacker {attacker.value!r} differs from the event's {current.value!r}")
                if attacker.extra["role"] == "agent" and current.extra["role"] == "agent":
                    draft.notes.append("both sides named as attackers")
            elif current is None or better:
                have["side"] = attacker
        if location is not None:
            current = have.get("location")
            if current is None or (refine and self.gazetteer.nested(location.value, current.value)
                                   and self.gazetteer.rank(location.value) < self.gazetteer.rank(current.value)):
                have["location"] = location
            elif not self.gazetteer.nested(location.value, current.value):
                draft.notes.append(f"sentence {mention.sentence.number + 1}: place {location.value!r} differs from the event's {current.value!r}")
        for name in ("fatalities", "injuries"):
            hits = mention.of(name)
            if hits:
                take(name, hits[0])
        times = mention.of("time_utc")
        if times:
            take("time_utc", times[0])
        # every munition count of the event's weapon, for min / max
        draft.all_hits.extend(mention.hits)
        if mention.unclaimed:
            draft.notes.append(f"sentence {mention.sentence.number + 1}: says no one claimed the attack")
        for h in mention.of("side"):
            if h.extra["how"] in {"claimed", "blamed"} and h.extra["role"] == "agent":
                take("claimed_by" if h.extra["how"] == "claimed" else "attributed_to", h)


# --------------------------------------------------------------------------------------------
# Candidates table


class NewsExtraction(NamedTuple):
    """Result of :func:`extract_news`.

    ``articles``: one row per article (id, path, published and where it came from, url, outlet,
    title, characters of page furniture cut, mentions, candidates). ``mentions``: one row per
    sentence with a trigger: its offsets, text, what was read and what became of it (``status``).
    ``candidates``: one row per candidate event, canonical event columns plus ``candidate_id``,
    ``article_id``, ``role``, ``confidence``, ``flags``, ``claimed_by``, ``attributed_to``,
    ``attributed_side``, ``initiator_reason`` and, per field, ``<field>_evidence`` (the
    sentence) and ``<field>_span`` ("start-end" in the file). ``evidence``: one row per
    (candidate, field, span) with the rule that read it, for every hit of every mention.
    """

    articles: pd.DataFrame
    mentions: pd.DataFrame
    candidates: pd.DataFrame
    evidence: pd.DataFrame


EVIDENCE_FIELDS = ("date", "side", "kind", "munitions", "location", "fatalities", "injuries", "time_utc",
                   "claimed_by", "attributed_to")


def _sentence_of(draft: Draft, hit: Hit) -> Sentence:
    for mention in draft.mentions + draft.context:
        if mention.sentence.start <= hit.start < mention.sentence.end:
            return mention.sentence
    raise AssertionError("a hit outside its mentions")


def _candidate_row(article: Article, draft: Draft, gazetteer: Gazetteer) -> dict[str, Any]:
    have = draft.chosen
    stem = Path(article.article_id).stem
    row: dict[str, Any] = {
        "candidate_id": f"{stem}#{draft.number}",
        "article_id": article.article_id,
        "event_id": f"news-{stem}-{draft.number}",
    }
    flags: list[str] = []
    penalty = 0.0
    date = draft.date
    if date is None or date.date is None:
        reason = draft.unresolved.rule if draft.unresolved is not None else "no date in the sentences about it"
        flags.append(f"date unresolved: {reason}")
        penalty += 0.4
        row.update(date=pd.NaT, date_precision=pd.NA, date_rule=reason)
    else:
        row.update(date=date.date, date_precision=date.precision, date_rule=date.how)
        if date.precision != "day":
            penalty += 0.1
        if draft.carried is not None:
            flags.append(f"date carried over from event {draft.carried} (the sentence has no date)")
            row["date_rule"] = f"carried over from event {draft.carried}: {date.how}"
            penalty += 0.1
    side = have.get("side")
    if side is None:
        flags.append("attacker unknown")
        penalty += 0.35
    elif side.extra["role"] == "inferred":
        flags.append(side.rule)
        penalty += 0.15
    if any(n == "both sides named as attackers" for n in draft.notes):
        flags.append("both sides named as attackers")
        penalty += 0.1
    kind = have.get("kind")
    if kind is None:
        flags.append("weapon not named")
        penalty += 0.2
    elif not kind.extra["strong"]:
        flags.append("weapon read from a bare 'strike'")
        penalty += 0.1
    location = have.get("location")
    if location is None:
        flags.append("no place")
        penalty += 0.1
    if len(draft.mentions) == 1:
        penalty += 0.05
    row["side"] = pd.NA
    row["attributed_side"] = side.value if side is not None else pd.NA
    row["actor"] = side.extra["actor"] if side is not None and side.extra["actor"] else pd.NA
    row["initiator_reason"] = f"news: {side.rule}" if side is not None else pd.NA
    row["claimed_by"] = have["claimed_by"].extra["actor"] if "claimed_by" in have else pd.NA
    row["attributed_to"] = have["attributed_to"].extra["actor"] if "attributed_to" in have else pd.NA
    row["kind"] = kind.value if kind is not None else "other"
    row["source_type"] = kind.rule if kind is not None else pd.NA
    if location is not None:
        place = gazetteer.places.loc[location.value]
        row.update(location=location.value, admin1=place["admin1"] or pd.NA, country=place["country"] or pd.NA,
                   latitude=place["latitude"], longitude=place["longitude"])
    else:  # a country alone is not a place, but names the country when it is the only one
        countries = {h.value for h in draft.all_hits if h.field == "country"}
        if len(countries) == 1:
            row["country"] = countries.pop()
    counts = [h for h in draft.all_hits if h.field == "munitions" and h.extra["kind"] == row["kind"]]
    if counts:
        have["munitions"] = counts[0]
        lows = [h.extra["low"] for h in counts if h.extra["low"] is not None]
        highs = [h.extra["high"] for h in counts if h.extra["high"] is not None]
        row.update(munitions=counts[0].value, munitions_min=min(lows) if lows else pd.NA,
                   munitions_max=max(highs) if highs else pd.NA)
    for name in ("fatalities", "injuries"):
        if name in have:
            row[name] = have[name].value
    if "time_utc" in have and date is not None and date.date is not None and date.precision == "day":
        h, mi, shift = have["time_utc"].value
        row["time_utc"] = date.date + pd.Timedelta(days=shift, hours=h, minutes=mi)
    row["role"] = pd.NA  # set per article by _roles
    row["confidence"] = round(max(0.05, 1.0 - penalty), 2)
    row["flags"] = "; ".join(flags) if flags else pd.NA
    row["notes"] = "; ".join(dict.fromkeys(draft.notes)) if draft.notes else pd.NA
    row["n_mentions"] = len(draft.mentions)
    row["_first_sentence"] = draft.mentions[0].sentence.number
    first = draft.mentions[0].sentence
    row.update(source=f"news:{stem}", source_id=row["candidate_id"], url=article.url or pd.NA, evidence=first.text,
               raw_file=article.path, raw_row=article.text.count("\n", 0, first.start) + 1,
               published=article.published if article.published is not None else pd.NaT, outlet=article.outlet or pd.NA)
    for name in EVIDENCE_FIELDS:
        hit = have.get(name)
        if hit is None:
            continue
        sentence = _sentence_of(draft, hit)
        row[f"{name}_evidence"] = sentence.text
        row[f"{name}_span"] = f"{hit.start}-{hit.end}"
    if date is None or date.date is None:
        if draft.unresolved is not None:
            row["date_evidence"] = _sentence_of(draft, draft.unresolved).text
            row["date_span"] = f"{draft.unresolved.start}-{draft.unresolved.end}"
    return row


def _roles(article: Article, rows: list[dict]) -> list[dict]:
    """``main`` for the events of the article's latest date (when that is at most three days
    before publication) and for undated events told in the first three sentences; ``background``
    for the others."""
    dates = [r["date"] for r in rows if pd.notna(r["date"])]
    latest = max(dates) if dates else None
    recent = latest is not None and (article.published is None or latest >= article.published - pd.Timedelta(days=3))
    for r in rows:
        if pd.notna(r["date"]):
            r["role"] = "main" if recent and r["date"] == latest else "background"
        else:
            r["role"] = "main" if r["_first_sentence"] < 3 else "background"
        del r["_first_sentence"]
    return rows


def _value_text(hit: Hit) -> str:
    value = hit.value
    if isinstance(value, DateValue):
        return str(value.date.date()) if value.date is not None else "unresolved"
    if hit.field == "time_utc":
        return f"{value[0]:02d}:{value[1]:02d} UTC"
    return str(value)


def extract_article(article: Article, spec, gazetteer: Gazetteer, patterns=None):
    """Read one article: (mentions rows, candidate rows, evidence rows) as lists of dicts."""
    patterns = patterns if patterns is not None else side_patterns(spec)
    reader = _Reader(article, spec, gazetteer, patterns)
    mentions = reader.mentions()
    drafts = []
    for draft in reader.events(mentions):
        if "side" in draft.chosen or any(m.of("side") for m in draft.mentions):
            drafts.append(draft)
            continue
        for m in draft.mentions:  # nothing ties it to the dyad: not a candidate
            m.status += f"; event {draft.number} dropped: no side of the dyad named"
            m.event = None
    candidates = _roles(article, [_candidate_row(article, d, gazetteer) for d in drafts])
    stem = Path(article.article_id).stem
    mention_rows, evidence_rows = [], []
    for m in mentions:
        mention_rows.append({
            "article_id": article.article_id,
            "sentence": m.sentence.number + 1,
            "start": m.sentence.start,
            "end": m.sentence.end,
            "text": m.sentence.text,
            "found": "; ".join(f"{h.field}={_value_text(h)}" for h in m.hits) or pd.NA,
            "status": m.status,
            "candidate_id": f"{stem}#{m.event}" if m.event else pd.NA,
        })
    for d in drafts:
        chosen = {id(h) for h in d.chosen.values()}
        for m in d.mentions:
            for h in m.hits:
                evidence_rows.append({
                    "candidate_id": f"{stem}#{d.number}",
                    "field": h.field,
                    "value": _value_text(h),
                    "start": h.start,
                    "end": h.end,
                    "text": article.text[h.start : h.end],
                    "rule": h.rule,
                    "sentence": m.sentence.number + 1,
                    "chosen": id(h) in chosen,
                })
    return mention_rows, candidates, evidence_rows


_CANDIDATE_COLUMNS = (
    "candidate_id", "article_id", "role", "confidence", "flags", "event_id", "date", "date_precision", "date_rule",
    "time_utc", "attributed_side", "actor", "claimed_by", "attributed_to", "kind", "location", "admin1", "country",
    "latitude", "longitude", "munitions", "munitions_min", "munitions_max", "fatalities", "injuries", "source",
    "source_id", "url", "outlet", "published", "evidence", "raw_file", "raw_row", "initiator_reason", "source_type",
    "n_mentions", "notes",
    *(f"{name}_{part}" for name in EVIDENCE_FIELDS for part in ("evidence", "span")),
)
_INT_COLUMNS = ("munitions", "munitions_min", "munitions_max", "fatalities", "injuries", "raw_row", "n_mentions")


def extract_news(
    paths: str | Path | Iterable[str | Path],
    spec,
    *,
    gazetteer: Gazetteer | str | Path | None = None,
    metadata: Mapping[str, Mapping[str, Any]] | None = None,
) -> NewsExtraction:
    """Read articles and extract candidate events with their evidence.

    Parameters
    ----------
    paths : folder, file, or iterable of them
        Folders are read for ``.txt`` / ``.md`` files (not README.md), sorted by name.
    spec : DyadSpec
        Sides and actor patterns (plus ``news.aliases``); ``news.gazetteer`` names the
        gazetteer when ``gazetteer`` is not given.
    gazetteer : Gazetteer or path, optional
    metadata : mapping, optional
        File name -> ``published``, ``url``, ``outlet``, ``title`` for articles without front
        matter (e.g. third-party files that cannot be edited).
    """
    if gazetteer is None:
        gazetteer = spec_gazetteer(spec)
    elif not isinstance(gazetteer, Gazetteer):
        gazetteer = load_gazetteer(gazetteer)
    files: list[Path] = []
    for p in [paths] if isinstance(paths, (str, Path)) else paths:
        p = Path(p)
        files.extend(list_articles(p) if p.is_dir() else [p])
    patterns = side_patterns(spec)
    article_rows, mention_rows, candidate_rows, evidence_rows = [], [], [], []
    for path in files:
        article = read_article(path, (metadata or {}).get(path.name))
        mentions, candidates, evidence = extract_article(article, spec, gazetteer, patterns)
        article_rows.append({
            "article_id": article.article_id, "path": article.path,
            "published": article.published if article.published is not None else pd.NaT,
            "published_from": article.published_from or pd.NA, "url": article.url, "outlet": article.outlet,
            "title": article.title, "characters": len(article.text), "furniture_chars": article.furniture_chars,
            "mentions": len(mentions), "candidates": len(candidates),
        })
        mention_rows += mentions
        candidate_rows += candidates
        evidence_rows += evidence
    candidates = pd.DataFrame(candidate_rows, columns=list(_CANDIDATE_COLUMNS))
    for col in _INT_COLUMNS:
        candidates[col] = pd.to_numeric(candidates[col]).astype("Int64")
    for col in ("latitude", "longitude", "confidence"):
        candidates[col] = pd.to_numeric(candidates[col]).astype("Float64")
    for col in ("date", "time_utc", "published"):
        candidates[col] = pd.to_datetime(candidates[col])
    text_cols = [c for c in candidates.columns if c not in {*_INT_COLUMNS, "latitude", "longitude", "confidence", "date", "time_utc", "published"}]
    candidates[text_cols] = candidates[text_cols].astype("string")
    articles = pd.DataFrame(article_rows, columns=["article_id", "path", "published", "published_from", "url", "outlet",
                                                   "title", "characters", "furniture_chars", "mentions", "candidates"])
    articles["published"] = pd.to_datetime(articles["published"])
    mentions = pd.DataFrame(mention_rows, columns=["article_id", "sentence", "start", "end", "text", "found", "status", "candidate_id"])
    evidence = pd.DataFrame(evidence_rows, columns=["candidate_id", "field", "value", "start", "end", "text", "rule", "sentence", "chosen"])
    return NewsExtraction(articles, mentions, candidates, evidence)


def load_news(
    path: str | Path,
    spec=None,
    *,
    reviews: str | Path | None = None,
    labels: str | Path | None = None,
    gazetteer: str | Path | None = None,
    min_confidence: float | None = None,
    source: str | None = None,
):
    """Loader for a dyad spec's ``format: news`` source: a folder of articles, reviewed.

    Only candidates accepted in the review file ``reviews`` (or, with ``min_confidence``,
    unreviewed candidates at least that confident with a resolved date) become events; see
    :func:`analysis.newsreview.apply_reviews`. ``labels`` may supply publication dates for
    articles without front matter. Each event's ``source`` is ``news:<article>``, so that
    reports of one event in several articles are merged by :func:`analysis.dedup.dedup_events`.

    Returns
    -------
    LoadResult
        ``read`` = candidates; accepted, rejected (accepted without a usable date) and filtered
        (rejected by the reviewer or awaiting review), with notes on mentions and articles.
    """
    from analysis.newsreview import apply_reviews, read_labels, read_reviews

    if spec is None:
        raise ValueError(f"{path}: the news loader needs the dyad spec (sides and gazetteer)")
    metadata = read_labels(resolve(labels))[1] if labels else None
    gaz = load_gazetteer(resolve(gazetteer)) if gazetteer else spec_gazetteer(spec)
    found = extract_news(path, spec, gazetteer=gaz, metadata=metadata)
    review_table = read_reviews(resolve(reviews)) if reviews else None
    result = apply_reviews(found.candidates, review_table, articles=found.articles, gazetteer=gaz,
                           min_confidence=min_confidence, source=source or display_path(Path(path)))
    load = result.load
    note = (f"{len(found.articles)} article(s), {len(found.mentions)} sentence(s) mentioning an attack, "
            f"{len(found.candidates)} candidate(s)")
    return replace(load, notes=(note, *load.notes))
