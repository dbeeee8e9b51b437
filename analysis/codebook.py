"""Figures in a curated dataset's codebook, computed from its events table.

A curated dataset (``data/raw/<dyad>/``) ships ``events.csv`` and a codebook, ``README.md``, that
describes the file with figures: rows per year and side, per kind and country, how many rows are
unclaimed or of low confidence, how many fall in a period. Typed by hand, such figures drift as
soon as rows are added. Here every figure is written from the file, inside marker comments that
do not show when the Markdown is rendered:

Generated blocks
    ``<!-- codebook: NAME -->`` on a line of its own, then the block, then ``<!-- /codebook -->``.
    Everything between the two markers is replaced by the block's text (:data:`BLOCKS`;
    ``contents`` is the summary of the whole file).
Inline counts
    ``<!-- n: FILTERS -->85<!-- /n -->``: the number between the markers is the number of rows
    matching ``FILTERS`` (:func:`count_rows`).
    ``<!-- pct: FILTERS of=173 -->64%<!-- /pct -->``: that number as a whole percentage of ``of``
    (half rounded to even).

``FILTERS`` are space-separated terms, all of which a row must meet (values with spaces in
quotes, as in a shell):

- ``column=a,b``: the column equals one of the comma-separated values; ``column!=a,b``: none;
- ``column~text``: the column contains ``text`` (case-insensitive); ``column!~text``: it does not;
- ``from=YYYY-MM-DD``, ``to=YYYY-MM-DD``: the row's ``date`` is on or after / on or before;
- ``year=YYYY``;
- ``has=time``, ``has=coordinates``, ``has=claim`` (``time_utc``, ``latitude``, ``claimed_by``
  not empty); ``lacks=...`` the opposite.

``side`` is short for ``curated_side`` and ``precision`` for ``date_precision``.

Command line::

    python -m analysis.codebook data/raw/us-iran-proxies           # rewrite README.md
    python -m analysis.codebook data/raw/us-iran-proxies --check   # exit 1 if it would change

The rewrite is deterministic (the same file gives the same README), so it can run after every
merge of new rows; ``tests/test_curated.py`` fails when the README's figures differ from the
file's.
"""

from __future__ import annotations

import argparse
import difflib
import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from analysis.coverage import markdown_section

__all__ = ["BLOCKS", "actor_labels", "contents_block", "count_rows", "load_curated", "render_readme", "write_readme"]

#: Short names accepted in filters for columns of the curated table.
COLUMN_ALIASES = {"side": "curated_side", "precision": "date_precision"}
#: ``has=`` / ``lacks=`` tests and the column each reads.
PRESENCE = {"time": "time_utc", "coordinates": "latitude", "claim": "claimed_by"}
#: Sides of the curated table in the order and with the headings of the contents table.
SIDE_HEADINGS = {"militias": "militias", "iran": "Iran (state)", "us": "US"}

_INLINE = re.compile(r"<!-- (n|pct): (.*?) -->(.*?)<!-- /\1 -->", re.S)
_BLOCK = re.compile(r"^<!-- codebook: ([\w-]+) -->\n(.*?)^<!-- /codebook -->$", re.S | re.M)
_TERM = re.compile(r"^([A-Za-z_]+)(!=|!~|=|~)(.*)$")


def load_curated(folder) -> pd.DataFrame:
    """Read ``FOLDER/events.csv`` as text (empty cells are empty strings, nothing parsed)."""
    return pd.read_csv(Path(folder) / "events.csv", dtype=str, keep_default_na=False)


def _mask(events: pd.DataFrame, filters: str) -> pd.Series:
    """Boolean mask of the rows of ``events`` meeting every term of ``filters``."""
    keep = pd.Series(True, index=events.index)
    dates = None
    for term in shlex.split(filters):
        match = _TERM.match(term)
        if not match:
            raise ValueError(f"cannot read the filter term {term!r}; write column=value, column~text, from=YYYY-MM-DD ...")
        key, op, value = match.groups()
        if key in ("from", "to", "year"):
            if op != "=":
                raise ValueError(f"filter {key!r} takes '=', not {op!r}")
            if dates is None:
                dates = pd.to_datetime(events["date"], format="%Y-%m-%d")
            if key == "year":
                keep &= dates.dt.year == int(value)
            else:
                day = pd.Timestamp(value)
                keep &= dates >= day if key == "from" else dates <= day
        elif key in ("has", "lacks"):
            if op != "=" or value not in PRESENCE:
                raise ValueError(f"filter {key!r} takes one of {sorted(PRESENCE)} after '=', not {op}{value!r}")
            present = events[PRESENCE[value]].str.strip() != ""
            keep &= present if key == "has" else ~present
        else:
            column = COLUMN_ALIASES.get(key, key)
            if column not in events.columns:
                raise ValueError(f"unknown filter column {key!r}; columns are: {', '.join(events.columns)}")
            cells = events[column]
            if op in ("=", "!="):
                hit = cells.isin(value.split(","))
            else:
                hit = cells.str.contains(value, case=False, regex=False)
            keep &= ~hit if op.startswith("!") else hit
    return keep


def count_rows(events: pd.DataFrame, filters: str = "") -> int:
    """Number of rows of a curated table meeting ``filters`` (see the module docstring).

    Raises
    ------
    ValueError
        For a term that cannot be read or names a column the table lacks (the message lists
        the columns).
    """
    return int(_mask(events, filters).sum())


def actor_labels(readme) -> list[str]:
    """The ``actor`` labels a codebook allows: every backticked name before the colon of a
    bullet in its ``## Actor labels`` section, in order.

    Raises
    ------
    ValueError
        If the README has no such section, or the section lists no label.
    """
    labels = []
    # a bullet runs on over indented lines
    bullets = re.split(r"\n(?=- )", markdown_section(readme, "Actor labels"))
    for bullet in bullets:
        text = " ".join(bullet.split())
        if text.startswith("- ") and ":" in text:
            labels += re.findall(r"`([^`]+)`", text[2:].split(":", 1)[0])
    if not labels:
        raise ValueError(f"{readme}: the 'Actor labels' section lists no label (bullets '- `label`: meaning')")
    return labels


def _day(date: pd.Timestamp) -> str:
    return f"{date.day} {date:%b %Y}"


def contents_block(events: pd.DataFrame) -> str:
    """The summary of the whole file: size and period, rows per year and side, kinds,
    countries, confidence, citations, times, coordinates and convoy attacks.

    Counts by value are listed largest first (ties by name), so the text is the same for the
    same file.
    """
    dates = pd.to_datetime(events["date"], format="%Y-%m-%d")
    unknown = sorted(set(events["curated_side"]) - set(SIDE_HEADINGS))
    if unknown:
        raise ValueError(f"curated_side values {unknown} have no column in the contents table; known: {list(SIDE_HEADINGS)}")
    first, last = dates.min(), dates.max()
    lines = [f"**Contents** ({len(events)} events, {_day(first)} - {_day(last)}):", ""]
    lines.append("| year | " + " | ".join(SIDE_HEADINGS.values()) + " |")
    lines.append("|---" * (len(SIDE_HEADINGS) + 1) + "|")
    table = pd.crosstab(dates.dt.year, events["curated_side"]).reindex(columns=list(SIDE_HEADINGS), fill_value=0)
    for year, row in table.iterrows():
        label = f"{year} (from {first:%b})" if year == first.year and first.month > 1 else str(year)
        lines.append(f"| {label} | " + " | ".join(str(int(row[s])) for s in SIDE_HEADINGS) + " |")

    def listing(column: str, value_first: bool) -> str:
        counts = events[column].value_counts()
        order = sorted(counts.index, key=lambda v: (-counts[v], v))
        return ", ".join(f"{counts[v]} {v}" if value_first else f"{v} {counts[v]}" for v in order)

    confidence = events["confidence"].value_counts()
    urls = events["sources"].str.split().str.len()
    convoys = count_rows(events, "target~convoy")
    lines += [
        "",
        f"By kind: {listing('kind', True)}. {listing('country', False)}. Confidence: "
        + ", ".join(f"{confidence.get(level, 0)} {level}" for level in ("high", "medium", "low"))
        + f". Every row cites {urls.min()} to {urls.max()} URLs ({urls.mean():.1f} on average); "
        f"{count_rows(events, 'has=time')} rows carry a UTC time; {count_rows(events, 'has=coordinates')} "
        f"have site coordinates. {convoys} rows are attacks on supply convoys (`target` names a convoy; "
        "see **Rules**).",
    ]
    return "\n".join(lines) + "\n"


#: Generated blocks by name: each takes the curated table and returns Markdown ending in a newline.
BLOCKS: dict[str, Callable[[pd.DataFrame], str]] = {"contents": contents_block}


def _inline(events: pd.DataFrame, kind: str, spec: str) -> str:
    if kind == "n":
        return str(count_rows(events, spec))
    terms = shlex.split(spec)
    total = [t for t in terms if t.startswith("of=")]
    if len(total) != 1:
        raise ValueError(f"a pct marker needs exactly one of=N term: {spec!r}")
    of = int(total[0][3:])
    rest = " ".join(shlex.quote(t) for t in terms if not t.startswith("of="))
    return f"{round(100 * count_rows(events, rest) / of)}%"


def render_readme(text: str, events: pd.DataFrame, *, path: str = "README.md") -> str:
    """Return ``text`` with every generated block and inline count recomputed from ``events``.

    Raises
    ------
    ValueError
        Naming ``path`` and the (1-based) line of a marker that cannot be computed: an unknown
        block, a filter that cannot be read.
    """

    def line_of(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    def block(match: re.Match) -> str:
        name = match.group(1)
        if name not in BLOCKS:
            raise ValueError(f"{path}: line {line_of(match.start())}: unknown block {name!r}; blocks are {sorted(BLOCKS)}")
        return f"<!-- codebook: {name} -->\n{BLOCKS[name](events)}<!-- /codebook -->"

    def inline(match: re.Match) -> str:
        kind, spec = match.group(1), match.group(2)
        try:
            value = _inline(events, kind, spec)
        except ValueError as err:
            raise ValueError(f"{path}: line {line_of(match.start())}: {err}") from None
        return f"<!-- {kind}: {spec} -->{value}<!-- /{kind} -->"

    return _INLINE.sub(inline, _BLOCK.sub(block, text))


def write_readme(folder, *, check: bool = False) -> list[str]:
    """Recompute ``FOLDER/README.md`` from ``FOLDER/events.csv``; return the changed lines as a
    unified diff (empty when the README is up to date). With ``check``, write nothing."""
    readme = Path(folder) / "README.md"
    old = readme.read_text(encoding="utf-8")
    new = render_readme(old, load_curated(folder), path=str(readme))
    diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(), str(readme), "computed from events.csv", lineterm=""))
    if diff and not check:
        readme.write_text(new, encoding="utf-8")
    return diff


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.codebook", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="a curated dataset folder holding events.csv and README.md")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the README is out of date")
    args = parser.parse_args(argv)
    diff = write_readme(args.folder, check=args.check)
    print("\n".join(diff) if diff else f"{args.folder}/README.md: up to date")
    return 1 if (diff and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
