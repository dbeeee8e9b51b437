"""News articles: one file read (front matter, dateline, page furniture cut off) and its story
split into sentences. The format is described in :mod:`analysis.sources.news`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import yaml

from analysis.paths import display_path

__all__ = ["Article", "Sentence", "list_articles", "read_article", "split_sentences"]


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
    r"(?:" + r"(?P<mdy>[A-Z][a-z]{2,8}\.?\s+\d{1,2},?\s+\d{4})|(?P<dmy>\d{1,2}\s+[A-Z][a-z]{2,8}\.?\s+\d{4})"
    r"|(?P<iso>\d{4}-\d{2}-\d{2})"
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


