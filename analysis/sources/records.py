"""Reading records with their line numbers, and turning per-record problems into rejects.

Shared by the loaders: the one CSV record reader (:func:`read_csv_records`), and the one way a
rejected record is reported (:func:`rejects_from_problems`): once, with its line in the file,
every column at fault, the values and the reasons.

Counting records
    A record is what the file's quoting makes of its lines: one line, or several when a quoted
    field holds line breaks. A quote that is opened and never properly closed makes the reader
    swallow the lines that follow into one field, and a count made by the parser itself then
    silently loses them. The reader therefore parses strictly (a closing quote must end its
    field) and, where quoting breaks (a quote followed by anything but a delimiter or the end
    of the line, the end of the file inside quotes, or a record spanning several lines with the
    wrong number of fields, or a record spanning several lines one of which, read alone, is a
    whole record), quarantines every non-blank line of the damaged span as a record
    of its own, rejected with the reason. So ``read`` always equals the count of non-blank
    lines after the header, less the HXL row and the continuation lines of well-formed quoted
    fields: what a reader of the file counts.

Blank lines, and lines holding only delimiters and spaces (a spreadsheet's empty rows), are not
records; the second kind is mentioned in the notes.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.paths import display_path
from analysis.schema import make_rejects
from analysis.sources import OptionError, SourceError

__all__ = ["CsvRecords", "check_encoding", "check_header", "read_csv_records", "rejects_from_problems"]

_CHUNK = 100_000  # records per block while building the table (bounds the list of lists)
_SHOWN = 60  # characters of a quarantined line shown as its value


@dataclass(frozen=True)
class CsvRecords:
    """The records of a CSV file, each with the line it starts on.

    Attributes
    ----------
    frame : DataFrame
        One row per well-formed record, every cell as stripped text (``string`` dtype), empty
        cells missing; the columns are the header's.
    lines : Series of Int64
        The line of the file on which each record of ``frame`` starts, aligned with ``frame``.
    broken : tuple of (int, str, str)
        ``(line, value, reason)`` of each record that cannot be read as one (a wrong number of
        fields, or a line of a span damaged by an unclosed quote): each counts as one record,
        rejected whole.
    header_line : int
        The line of the header.
    hxl_line : int or None
        The line of a skipped HXL hashtag row, if one was found.
    hxl_tags : tuple of str
        The first few non-empty cells of that row, for the notes.
    notes : tuple of str
        What the reader skipped or changed that the user should know (lines before the header,
        delimiter-only lines, unnamed columns).
    """

    frame: pd.DataFrame
    lines: pd.Series
    broken: tuple[tuple[int, str, str], ...] = ()
    header_line: int = 1
    hxl_line: int | None = None
    hxl_tags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def read(self) -> int:
        """Number of records, well-formed or not (blank lines and an HXL row excluded)."""
        return len(self.frame) + len(self.broken)


def _is_hxl_row(row: list[str]) -> bool:
    """An HXL hashtag row: every non-empty cell is a hashtag (``#date+year``), at least one is."""
    cells = [c.strip() for c in row if c.strip()]
    return bool(cells) and all(c.startswith("#") for c in cells)


def check_encoding(encoding: str) -> str:
    """The codec name of ``encoding``; UTF-8 is read as ``utf-8-sig`` (a byte-order mark allowed).

    Raises
    ------
    OptionError
        If Python knows no such encoding (key ``encoding``).
    """
    try:
        name = codecs.lookup(str(encoding)).name
    except LookupError:
        raise OptionError("encoding", f"encoding: {encoding!r} is not an encoding Python knows "
                                      "(e.g. utf-8, cp1252, latin-1, utf-16)") from None
    return "utf-8-sig" if name == "utf-8" else name


def _opener(path: Path):
    return gzip.open if path.suffix.lower() == ".gz" else open


def _decode_problem(path: Path, encoding: str, delimiter: str) -> SourceError:
    """Find the first line that does not decode and say which encoding to declare."""
    name = display_path(path)
    with _opener(path)(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return SourceError(name, f"the file is UTF-16 (it starts with a UTF-16 byte-order mark), not {encoding}: "
                                 "declare it in the source entry with `encoding: utf-16`", line=1)
    header: list[str] = []
    with _opener(path)(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if number == 1:
                header = next(csv.reader([raw.decode(encoding, errors="replace").strip("\r\n")], delimiter=delimiter), [])
            try:
                raw.decode(encoding)
            except UnicodeDecodeError as exc:
                prefix = raw[: exc.start].decode(encoding, errors="replace")
                fields = next(csv.reader([prefix], delimiter=delimiter), [""])
                field = len(fields) if prefix else 1
                column = header[field - 1].strip() if 0 < field <= len(header) else f"field {field}"
                bad = raw[exc.start: exc.end]
                try:
                    raw.decode("cp1252")
                    guess, shown = "cp1252", bad.decode("cp1252", errors="replace")
                    said = f"Windows-1252 (cp1252, which includes Latin-1's letters), where it reads {shown!r}"
                except UnicodeDecodeError:
                    guess, said = "latin-1", "Latin-1 or another single-byte encoding"
                return SourceError(
                    name,
                    f"byte 0x{bad[0]:02x} at character {len(prefix) + 1} is not valid {encoding.replace('-sig', '')}; "
                    f"the file is probably {said}: declare its encoding in the source entry, e.g. `encoding: {guess}`",
                    line=number, column=repr(column),
                )
    return SourceError(name, f"the file is not valid {encoding}: declare its encoding in the source entry (`encoding:`)")


def read_csv_records(
    path: str | Path,
    *,
    hxl: bool = True,
    delimiter: str = ",",
    encoding: str = "utf-8",
    header: Callable[[list[str]], bool] | None = None,
    header_within: int = 30,
    what: str = "header",
) -> CsvRecords:
    """Read a CSV file with a header as text, keeping the line each record starts on.

    Quoted fields may span lines; blank lines are not records; damaged quoting is quarantined
    line by line (module notes). Used by every loader of delimited text.

    Parameters
    ----------
    path : str or Path
        A delimited text file with a header row (``.gz`` files are decompressed).
    hxl : bool
        Detect an HXL hashtag row right after the header (HDX copies have one) and skip it.
    delimiter : str
        The field delimiter (``","``, ``"\\t"``...).
    encoding : str
        The file's text encoding; UTF-8 by default (a byte-order mark is allowed).
    header : callable, optional
        Recognises the header among the first ``header_within`` records (a title or licence
        line may come first); by default the first non-blank record is the header.
    header_within : int
        How many records to look through for the header.
    what : str
        What ``header`` looks for, for the message when it finds none ("ACLED header").

    Returns
    -------
    CsvRecords

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    SourceError
        If the file is empty, has no header, names a column twice, cannot be decoded (the line,
        column and the encoding to declare), or a compressed file is damaged; every message
        names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    name = display_path(path)
    codec = check_encoding(encoding)
    names: list[str] | None = None
    header_line = 0
    chunks: list[pd.DataFrame] = []
    rows: list[list[str]] = []
    starts: list[int] = []
    broken: list[tuple[int, str, str]] = []
    damaged: list[tuple[int, int, str]] = []  # (first line, last line, reason) of damaged quoting
    spanning: list[tuple[int, int, int]] = []  # (first line, last line, position) of well-formed multi-line records
    notes: list[str] = []
    hxl_line, hxl_tags = None, ()
    skipped_before = 0
    delimiter_only = 0
    end = 0  # the last line read

    def flush() -> None:
        if rows:
            chunks.append(pd.DataFrame(rows, columns=names, dtype="string"))
            rows.clear()

    try:
        with _opener(path)(path, "rt", encoding=codec, newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter, strict=True)
            while True:
                start = end + 1
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    end = reader.line_num
                    if names is not None:  # a damaged line before the header is not a record
                        at_end = "end of data" in str(exc)
                        damaged.append((start, end, "unclosed quote: the file ends inside a quoted field" if at_end
                                        else f"unclosed quote: a quoted field is not closed where it should be ({exc})"))
                    continue
                end = reader.line_num
                if not "".join(row).strip():
                    delimiter_only += len(row) > 1
                    continue  # a blank line, or only delimiters
                if names is None:
                    if header is not None and not header(row):
                        skipped_before += 1
                        if skipped_before >= header_within:
                            raise SourceError(name, f"no {what} in the first {header_within} lines")
                        continue
                    names = [c.strip() for c in row]
                    header_line = start
                    check_header(names, row, name, header_line, notes)
                    continue
                if hxl and not rows and not chunks and not broken and hxl_line is None and _is_hxl_row(row):
                    hxl_line = start
                    hxl_tags = tuple(c.strip() for c in row if c.strip())[:3]
                    continue
                if len(row) != len(names):
                    if end > start:
                        damaged.append((start, end, f"a quoted field runs over lines {start}-{end} and leaves the record with "
                                                    f"{len(row)} fields, expected {len(names)}: an unclosed quote"))
                    else:
                        broken.append((start, f"{len(row)} fields",
                                       f"has {len(row)} fields, expected {len(names)} (the header's)"))
                    continue
                if end > start:
                    spanning.append((start, end, len(starts)))
                rows.append(row)
                starts.append(start)
                if len(rows) >= _CHUNK:
                    flush()
    except UnicodeDecodeError:
        raise _decode_problem(path, codec, delimiter) from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise SourceError(name, f"the compressed file is damaged or cut short after line {end} ({exc}); "
                                "download or copy it again") from None
    except csv.Error as exc:  # e.g. a field larger than the csv module's limit
        raise SourceError(name, f"cannot be read as delimited text: {exc}", line=end + 1) from None
    if names is None and skipped_before:
        raise SourceError(name, f"no {what} in its {end} line(s)")
    if names is None:
        raise SourceError(name, "empty file: no header line" if not end else "no header line (every line is blank)")
    flush()
    dropped: set[int] = set()
    if damaged or spanning:
        quarantined, dropped = _quarantine_spans(path, codec, delimiter, len(names), damaged, spanning)
        broken.extend(quarantined)
    if skipped_before:
        notes.insert(0, f"{header_line - 1} line(s) before the header (line {header_line}) were skipped")
    if delimiter_only:
        notes.append(f"{delimiter_only} line(s) hold only delimiters (empty spreadsheet rows): not records")
    frame = (pd.concat(chunks, ignore_index=True) if chunks
             else pd.DataFrame({c: pd.Series(dtype="string") for c in names}))
    frame = frame.apply(lambda s: s.str.strip()).replace("", pd.NA)
    lines = pd.Series(starts, dtype="Int64")
    if dropped:
        keep = ~np.isin(np.arange(len(frame)), sorted(dropped))
        frame, lines = frame[keep].reset_index(drop=True), lines[keep].reset_index(drop=True)
    return CsvRecords(frame, lines, tuple(sorted(broken)), header_line, hxl_line, hxl_tags, tuple(notes))


def _quarantine_spans(
    path: Path, codec: str, delimiter: str, width: int,
    damaged: list[tuple[int, int, str]], spanning: list[tuple[int, int, int]],
) -> tuple[list[tuple[int, str, str]], set[int]]:
    """Rejected records for the lines of damaged spans (module notes), read in a second pass.

    Parameters
    ----------
    damaged : list of (first line, last line, reason)
        Spans where quoting broke.
    spanning : list of (first line, last line, position)
        Well-formed records over several lines; one whose continuation line is, read alone, a
        whole record of ``width`` fields is damaged too, and its position is returned.

    Returns
    -------
    (list of (line, value, reason), set of int)
        One rejected record per non-blank line of each damaged span, and the positions of the
        multi-line records to drop from the accepted ones.
    """
    damaged = list(damaged)
    texts = _lines_of(path, codec, [(a, b) for a, b, _ in damaged] + [(a, b) for a, b, _ in spanning])
    dropped: set[int] = set()
    for start, last, position in spanning:
        whole = next((n for n in range(start + 1, last + 1)
                      if len(next(csv.reader([texts[n].rstrip("\r\n")], delimiter=delimiter), [])) >= width), None)
        if whole is not None:
            dropped.add(position)
            damaged.append((start, last, f"a quoted field runs over lines {start}-{last} and line {whole} alone holds a "
                                         f"whole record of {width} fields: an unclosed quote"))
    quarantined = []
    for start, last, reason in damaged:
        for number in range(start, last + 1):
            if not texts[number].strip(delimiter + " \t\r\n"):
                continue  # a blank line inside the span is no record
            if last == start:
                why = reason
            elif number == start:
                why = f"{reason}; lines {start}-{last} ran together and are quarantined, one record each"
            else:
                why = f"swallowed by the unclosed quote of line {start}; lines {start}-{last} quarantined, one record each"
            quarantined.append((number, texts[number].strip("\r\n")[:_SHOWN], why))
    return quarantined, dropped


def _lines_of(path: Path, codec: str, spans: list[tuple[int, int]]) -> dict[int, str]:
    """The text of the lines in ``spans`` (first, last), read in a second pass over the file."""
    wanted = {n for first, last in spans for n in range(first, last + 1)}
    found: dict[int, str] = {}
    with _opener(path)(path, "rt", encoding=codec, newline="") as fh:
        for number, text in enumerate(fh, start=1):
            if number in wanted:
                found[number] = text
            if len(found) == len(wanted):
                break
    return found


def check_header(names: list[str], written: list[str], file: str, line: int, notes: list[str]) -> None:
    """Refuse a header naming a column twice; name empty header cells ``unnamed_<n>``."""
    seen: dict[str, int] = {}
    for i, col in enumerate(names, start=1):
        if not col:
            names[i - 1] = col = f"unnamed_{i}"
            notes.append(f"field {i} of the header (line {line}) is empty: its column is called {col}")
        if col in seen:
            spaced = [f"field {j} is written {written[j - 1]!r}" for j in (seen[col], i) if written[j - 1] != col]
            extra = f" ({'; '.join(spaced)}: spaces around names are ignored)" if spaced else ""
            raise SourceError(file, f"the header names column {col!r} twice, fields {seen[col]} and {i}{extra}; "
                                    "rename one", line=line, column=repr(col))
        seen[col] = i


def rejects_from_problems(
    problems: list[tuple[pd.Series, str, object]],
    raw: pd.DataFrame,
    lines: pd.Series,
    raw_file: str,
    *,
    broken: tuple[tuple[int, str, str], ...] = (),
) -> tuple[pd.DataFrame, pd.Series]:
    """Turn per-record problems into a rejects table, one row per rejected record.

    Parameters
    ----------
    problems : list of (mask, column, reason)
        A boolean mask over ``raw``'s rows, the column of ``raw`` at fault and the reason (a
        string, or a Series of per-row strings).
    raw : DataFrame
        The records as read (text); the value shown is the cell of ``column``.
    lines : Series
        The line of each record (``raw_row``).
    raw_file : str
        Value of ``raw_file``.
    broken : tuple of (int, str, str)
        Records that cannot be read as one (:attr:`CsvRecords.broken`), rejected whole.

    Returns
    -------
    (DataFrame, Series)
        The rejects (every problem of a record joined by ``"; "``), sorted by line, and the
        boolean mask of rejected rows of ``raw``.
    """
    rejected = pd.Series(False, index=raw.index)
    found: dict[int, list[tuple[str, str, str]]] = {}
    for mask, column, reason in problems:
        mask = pd.Series(mask, index=raw.index).fillna(False).astype(bool)
        rejected |= mask
        for i in np.flatnonzero(mask.to_numpy()):
            value = raw[column].iat[i] if column in raw.columns else pd.NA
            why = reason.iat[i] if isinstance(reason, pd.Series) else reason
            found.setdefault(int(lines.iat[i]), []).append((column, "" if pd.isna(value) else str(value), str(why)))
    for line, value, reason in broken:
        found.setdefault(line, []).append(("", value, reason))
    rejects = make_rejects(
        {"raw_file": raw_file, "raw_row": line, "column": "; ".join(c for c, _, _ in f),
         "value": "; ".join(v for _, v, _ in f), "reason": "; ".join(r for _, _, r in f)}
        for line, f in sorted(found.items())
    )
    return rejects, rejected
