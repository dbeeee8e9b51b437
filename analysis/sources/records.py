"""Reading records with their line numbers, and turning per-record problems into rejects.

Shared by the loaders: a rejected record is reported once, with its line in the file, every
column at fault, the values and the reasons.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.paths import display_path
from analysis.schema import make_rejects

__all__ = ["CsvRecords", "read_csv_records", "rejects_from_problems"]


@dataclass(frozen=True)
class CsvRecords:
    """The records of a CSV file, each with the line it starts on.

    Attributes
    ----------
    frame : DataFrame
        One row per record, every cell as stripped text (``string`` dtype), empty cells missing;
        the columns are the header's. Records whose field count differs from the header's are
        not in it (see ``ragged``).
    lines : Series of Int64
        The line of the file on which each record of ``frame`` starts (the header's line is 1
        when the file starts with it), aligned with ``frame``.
    ragged : tuple of (int, int)
        ``(line, number of fields)`` of each record with a field count other than the header's.
    hxl_line : int or None
        The line of a skipped HXL hashtag row, if one was found.
    hxl_tags : tuple of str
        The first few non-empty cells of that row, for the notes.
    """

    frame: pd.DataFrame
    lines: pd.Series
    ragged: tuple[tuple[int, int], ...] = ()
    hxl_line: int | None = None
    hxl_tags: tuple[str, ...] = ()

    @property
    def read(self) -> int:
        """Number of records, well-formed or not (blank lines and an HXL row excluded)."""
        return len(self.frame) + len(self.ragged)


def _is_hxl_row(row: list[str]) -> bool:
    """An HXL hashtag row: every non-empty cell is a hashtag (``#date+year``), at least one is."""
    cells = [c.strip() for c in row if c.strip()]
    return bool(cells) and all(c.startswith("#") for c in cells)


def read_csv_records(path: str | Path, *, hxl: bool = True) -> CsvRecords:
    """Read a CSV file with a header as text, keeping the line each record starts on.

    Quoted fields may span lines; blank lines are not records. Used by the UCDP and per-fatality
    loaders.

    Parameters
    ----------
    path : str or Path
        A comma-separated file with a header row (UTF-8, a byte-order mark allowed).
    hxl : bool
        Detect an HXL hashtag row right after the header (HDX copies have one) and skip it.

    Returns
    -------
    CsvRecords

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file has no header (it is empty).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    header: list[str] | None = None
    rows: list[list[str]] = []
    starts: list[int] = []
    ragged: list[tuple[int, int]] = []
    hxl_line, hxl_tags = None, ()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        end = 0  # last line consumed so far
        for row in reader:
            start, end = end + 1, reader.line_num
            if not row:
                continue  # a blank line
            if header is None:
                header = [c.strip() for c in row]
                continue
            if hxl and not rows and not ragged and hxl_line is None and _is_hxl_row(row):
                hxl_line = start
                hxl_tags = tuple(c.strip() for c in row if c.strip())[:3]
                continue
            if len(row) != len(header):
                ragged.append((start, len(row)))
                continue
            rows.append(row)
            starts.append(start)
    if header is None:
        raise ValueError(f"{display_path(path)}: empty file, no header")
    frame = pd.DataFrame(rows, columns=header, dtype="string") if rows else pd.DataFrame(
        {c: pd.Series(dtype="string") for c in header})
    frame = frame.apply(lambda s: s.str.strip()).replace("", pd.NA)
    return CsvRecords(frame, pd.Series(starts, dtype="Int64"), tuple(ragged), hxl_line, hxl_tags)


def rejects_from_problems(
    problems: list[tuple[pd.Series, str, object]],
    raw: pd.DataFrame,
    lines: pd.Series,
    raw_file: str,
    *,
    ragged: tuple[tuple[int, int], ...] = (),
    expected_fields: int | None = None,
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
    ragged : tuple of (int, int)
        Records with a wrong number of fields (:attr:`CsvRecords.ragged`), rejected whole.
    expected_fields : int, optional
        The header's field count, for the reason given to ragged records.

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
    for line, n in ragged:
        found.setdefault(line, []).append(
            ("", f"{n} fields", f"has {n} fields, expected {expected_fields} (the header's)"))
    rejects = make_rejects(
        {"raw_file": raw_file, "raw_row": line, "column": "; ".join(c for c, _, _ in f),
         "value": "; ".join(v for _, v, _ in f), "reason": "; ".join(r for _, _, r in f)}
        for line, f in sorted(found.items())
    )
    return rejects, rejected
