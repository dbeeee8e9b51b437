"""From mentions to candidate events, and the candidates table with its evidence.

Steps 3 and 4 of :mod:`analysis.sources.news`: each sentence that mentions an attack (its fields
read by :mod:`.rules`) joins the most recent compatible event of its article or starts one;
events are written as candidate rows, every field with the span and rule it came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from analysis.sources.news.articles import (
    Article,
    Sentence,
    list_articles,
    read_article,
    split_sentences,
)
from analysis.sources.news.gazetteer import Gazetteer, load_gazetteer, spec_gazetteer
from analysis.sources.news.rules import DateValue, Hit, read_sentence, side_patterns

__all__ = ["EVIDENCE_FIELDS", "NewsExtraction", "extract_article", "extract_news"]


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
            targets.append(Hit("side", held, h.start, h.end, f"{h.value} is held by {held}",
                               {"role": "target", "actor": None, "how": None}))
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
    dated = date is not None and date.date is not None and draft.date is not None and draft.date.date is not None
    if dated and not _dates_overlap(draft.date, date):
        return False
    if attacker is not None and "side" in have and attacker.value != have["side"].value:
        return False
    # a place compatible with the event's: one of the two lies within the other
    return location is None or "location" not in have or gazetteer.nested(location.value, have["location"].value)


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
                value = DateValue(date, base.precision, f"'{value.how}': {value.anchor_days:+d} days from event "
                                                        f"{anchor.number} ({base.date.date()})")
                h = Hit("date", value, h.start, h.end, value.how, h.extra)
            else:
                value = DateValue(None, None, value.how,
                                  reason=f"'{value.how}' refers to an event whose date is not known")
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
            read = read_sentence(sentence.text, sentence.start, gazetteer=self.gazetteer, patterns=self.patterns,
                                 published=article.published)
            if read is None:
                continue
            hits, unclaimed = read
            mention = Mention(sentence, hits, unclaimed=unclaimed)
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
        starts = kind is not None or (date_hit is not None and date_hit.extra["pattern"] != "anchor"
                                      and location is not None)
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
                near = (last is not None and last.event is not None
                        and mention.sentence.number - last.sentence.number <= 2)
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

    def _join(self, draft: Draft, mention: Mention, date, date_hit, unresolved, kind, attacker, location, *,
              refine: bool):
        mention.event = draft.number
        draft.mentions.append(mention)
        have = draft.chosen

        def take(name: str, hit: Hit | None, better: bool = False) -> None:
            if hit is None:
                return
            if name not in have or (refine and better):
                have[name] = hit
            elif have[name].value != hit.value and not refine:
                draft.notes.append(f"sentence {mention.sentence.number + 1}: {name} {hit.value!r} differs from the "
                                   f"event's; kept {have[name].value!r}")

        # date: the most precise resolved date wins; conflicts from referring sentences are noted
        if date is not None:
            if draft.date is None or (refine and _PRECISION_RANK[date.precision] < _PRECISION_RANK[draft.date.precision]
                                      and _dates_overlap(draft.date, date)):
                draft.date, have["date"] = date, date_hit
            elif not _dates_overlap(draft.date, date):
                draft.notes.append(f"sentence {mention.sentence.number + 1}: date {date.date.date()} differs from the "
                                   f"event's; kept {draft.date.date.date()}")
        elif unresolved is not None and draft.unresolved is None:
            draft.unresolved = unresolved
        take("kind", kind,
             better=kind is not None and kind.extra["strong"] and not have.get("kind", kind).extra["strong"])
        if attacker is not None:
            current = have.get("side")
            better = (current is not None and current.extra["role"] == "inferred"
                      and attacker.extra["role"] != "inferred")
            if current is not None and current.value != attacker.value:
                draft.notes.append(f"sentence {mention.sentence.number + 1}: attacker {attacker.value!r} differs from "
                                   f"the event's {current.value!r}")
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
                draft.notes.append(f"sentence {mention.sentence.number + 1}: place {location.value!r} differs from "
                                   f"the event's {current.value!r}")
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
    if (date is None or date.date is None) and draft.unresolved is not None:
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
    not_text = {*_INT_COLUMNS, "latitude", "longitude", "confidence", "date", "time_utc", "published"}
    text_cols = [c for c in candidates.columns if c not in not_text]
    candidates[text_cols] = candidates[text_cols].astype("string")
    articles = pd.DataFrame(article_rows, columns=["article_id", "path", "published", "published_from", "url", "outlet",
                                                   "title", "characters", "furniture_chars", "mentions", "candidates"])
    articles["published"] = pd.to_datetime(articles["published"])
    mentions = pd.DataFrame(mention_rows, columns=["article_id", "sentence", "start", "end", "text", "found", "status",
                                                   "candidate_id"])
    evidence = pd.DataFrame(evidence_rows, columns=["candidate_id", "field", "value", "start", "end", "text", "rule",
                                                    "sentence", "chosen"])
    return NewsExtraction(articles, mentions, candidates, evidence)


