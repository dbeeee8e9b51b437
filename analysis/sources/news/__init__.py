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

The package: :mod:`.articles` (reading articles, sentences), :mod:`.gazetteer` (places kept as
data), :mod:`.rules` (the field rules below, one sentence at a time), :mod:`.assembly` (mentions
into candidate events, the candidates table). Reviewing candidates, turning the accepted ones
into events and scoring the rules against hand labels is :mod:`analysis.newsreview`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from analysis.newsreview import apply_reviews, read_labels, read_reviews
from analysis.paths import display_path, resolve
from analysis.sources.news.articles import (
    Article,
    Sentence,
    list_articles,
    read_article,
    split_sentences,
)
from analysis.sources.news.assembly import (
    EVIDENCE_FIELDS,
    NewsExtraction,
    extract_article,
    extract_news,
)
from analysis.sources.news.gazetteer import Gazetteer, load_gazetteer, spec_gazetteer
from analysis.sources.news.rules import side_patterns

__all__ = [
    "EVIDENCE_FIELDS",
    "Article",
    "Gazetteer",
    "NewsExtraction",
    "Sentence",
    "extract_article",
    "extract_news",
    "list_articles",
    "load_gazetteer",
    "load_news",
    "read_article",
    "side_patterns",
    "spec_gazetteer",
    "split_sentences",
]


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
