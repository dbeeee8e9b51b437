"""Plain tables of events (CSV, TSV, Parquet, Excel) -> canonical events + rejects.

The loader reads every cell as text and parses each canonical column itself, so that a bad
cell rejects its own record, with the line and the column named, instead of failing the whole
file or being coerced away. Delimited text goes through the shared record reader
(:func:`analysis.sources.records.read_csv_records`: line numbers, wrong field counts, unclosed
quotes), dates through the shared date reader (:func:`analysis.sources.dates.read_dates`).

A table without an ``event_id`` column cannot tell two identical rows apart: a row that repeats
an earlier one exactly is quarantined, naming the line it repeats (give the file an id column if
such rows are distinct events).

A table without an actor column (say, one file per side with date, place and type) takes the
actor from ``defaults``, e.g. ``defaults: {actor: US forces}``; the side patterns of the dyad
spec then match it as they match any actor.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.paths import display_path
from analysis.schema import (
    COUNT_COLUMNS,
    EVENT_COLUMNS,
    check_kind_map,
    conform_events,
    normalise_kind,
    require_columns,
    validate_events,
    value_problems,
)
from analysis.sources import LoadResult, OptionError, SourceError
from analysis.sources.dates import read_dates
from analysis.sources.records import (
    CsvRecords,
    check_encoding,
    check_header,
    read_csv_records,
    rejects_from_problems,
)

__all__ = ["load_table", "read_raw_table"]

_TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": None}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
#: Columns a source may map or default besides the canonical ones: the ranges of the counts.
RANGE_COLUMNS = tuple(f"{c}_{b}" for c in COUNT_COLUMNS for b in ("min", "max"))
_PRECISION_RANK = {"day": 0, "week": 1, "month": 2}


def _sniff_delimiter(path: Path, encoding: str) -> str:
    """The delimiter of a ``.txt`` table: comma, tab, semicolon or bar, from its first lines."""
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(65536)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def _frame_records(frame: pd.DataFrame, lines: np.ndarray, name: str, header_line: int) -> CsvRecords:
    """Cells of a Parquet or Excel table as stripped text, with their row numbers."""
    written = [str(c) for c in frame.columns]
    names = [c.strip() for c in written]
    notes: list[str] = []
    check_header(names, written, name, header_line, notes)
    frame = frame.set_axis(names, axis=1).reset_index(drop=True)
    text = frame.astype("string").apply(lambda s: s.str.strip()).replace("", pd.NA)
    return CsvRecords(text, pd.Series(lines, dtype="Int64"), (), header_line, notes=tuple(notes))


def read_raw_table(
    path: str | Path,
    *,
    sheet_name: int | str = 0,
    encoding: str = "utf-8",
) -> CsvRecords:
    """Read a table with every cell as text (empty cells missing), whatever its format.

    Delimited text (``.csv``, ``.tsv``, ``.tab``, ``.txt`` with its delimiter sniffed, each
    possibly ``.gz``) goes through :func:`~analysis.sources.records.read_csv_records`; records
    start on their line of the file. An Excel sheet's rows keep the numbers the spreadsheet shows
    (its first non-empty row is the header; empty rows are not records); a Parquet file's rows are
    numbered as if a header were row 1.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    SourceError
        If the file type is unknown, or the file is empty, damaged or not what its name says
        (the message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    name = display_path(path)
    suffixes = [s.lower() for s in path.suffixes]
    suffix = suffixes[-2] if len(suffixes) > 1 and suffixes[-1] == ".gz" else path.suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        delimiter = _TEXT_SUFFIXES[suffix] or _sniff_delimiter(path, check_encoding(encoding))
        return read_csv_records(path, hxl=False, delimiter=delimiter, encoding=encoding)
    if suffix == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow's errors name no file
            raise SourceError(name, f"not a Parquet file, or a damaged one ({type(exc).__name__}: {exc})") from None
        return _frame_records(frame, np.arange(len(frame)) + 2, name, 1)
    if suffix in _EXCEL_SUFFIXES:
        try:
            sheets = pd.ExcelFile(path)
        except Exception as exc:  # "Excel file format cannot be determined", a zip error...
            raise SourceError(name, f"not an Excel workbook, or a damaged one ({type(exc).__name__}: {exc})") from None
        with sheets:
            if isinstance(sheet_name, str) and sheet_name not in sheets.sheet_names:
                raise OptionError("sheet_name", f"sheet_name: {name} has no sheet {sheet_name!r}; its sheets are: "
                                                f"{', '.join(map(str, sheets.sheet_names))}")
            if isinstance(sheet_name, int) and not 0 <= sheet_name < len(sheets.sheet_names):
                raise OptionError("sheet_name", f"sheet_name: {name} has {len(sheets.sheet_names)} sheet(s); "
                                                f"sheet {sheet_name} (counted from 0) is not one")
            grid = pd.read_excel(sheets, sheet_name=sheet_name, header=None, dtype=str)
        grid = grid.dropna(how="all")  # empty spreadsheet rows are not records
        if grid.empty:
            raise SourceError(name, f"sheet {sheet_name!r} is empty: no header row")
        header_at = grid.index[0]
        body = grid.iloc[1:]
        body.columns = grid.iloc[0].fillna("").astype(str).tolist()
        return _frame_records(body, body.index.to_numpy() + 1, name, int(header_at) + 1)
    raise SourceError(name, f"unknown table type {suffix!r}; use .csv, .tsv, .txt (each possibly .gz), .parquet or .xlsx")


def _mapping(value, key: str, *, of: str) -> dict:
    """A source option that must be a mapping of text to ``of``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise OptionError(key, f"{key} must be a mapping of column names to {of}, got {value!r}")
    return dict(value)


def _check_columns(keys, key: str) -> None:
    """Keys of ``column_map`` / ``defaults`` must be canonical columns (or count ranges)."""
    allowed = [*EVENT_COLUMNS, *RANGE_COLUMNS]
    for col in keys:
        if col not in allowed:
            close = difflib.get_close_matches(col, allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise OptionError(key, f"{key}: {col!r} is not a column of the events table{hint}; columns are: {', '.join(allowed)}")


def load_table(
    path: str | Path,
    *,
    column_map: Mapping[str, str] | None = None,
    defaults: Mapping[str, object] | None = None,
    kind_map: Mapping[str, str] | None = None,
    source: str = "table",
    count_columns: Iterable[str] = (),
    date_format: str | None = None,
    dayfirst: bool = False,
    sheet_name: int | str = 0,
    encoding: str = "utf-8",
) -> LoadResult:
    """Load a table of events into the canonical schema.

    Parameters
    ----------
    path : str or Path
        A ``.csv``/``.tsv``/``.txt`` (possibly ``.gz``), ``.parquet`` or Excel file.
    column_map : mapping, optional
        Canonical column -> column of the file, e.g. ``{"date": "Date of event"}``; the ranges
        of the counts (``fatalities_min``, ``munitions_max``...) may be mapped too. Canonical
        columns not mapped are taken from a file column of the same name when there is one.
        Other file columns are kept, under their own names, after the canonical ones.
    defaults : mapping, optional
        Canonical column -> value used where the file has no such column or the cell is
        empty, e.g. ``{"date_precision": "day", "kind": "other"}``; ``{"actor": "US forces"}``
        for a file of one side's events without an actor column.
    kind_map : mapping, optional
        The file's own type labels -> canonical kinds (:data:`analysis.schema.KINDS`), e.g.
        ``{"IDF strike": airstrike, "Qassam": rocket}``, matched ignoring case and surrounding
        spaces; a label not in the map is read by the usual synonyms
        (:data:`analysis.schema.KIND_SYNONYMS`), anything else is ``other``. The raw label is
        kept in ``source_type``.
    source : str
        Value of the ``source`` column; also prefixes generated ids (``<source>-<line>``) when
        the file has no ``event_id``.
    count_columns : iterable of str
        Extra (non-canonical) columns to parse as non-negative whole numbers (``Int64``), with
        the same rejection rules as ``fatalities``.
    date_format : str, optional
        A ``strftime`` format for ``date``, used for every value; by default the forms of
        :mod:`analysis.sources.dates` (ISO 8601, month names).
    dayfirst : bool
        Also read ``DD/MM/YYYY`` dates (ISO dates stay year-month-day).
    sheet_name : int or str
        Excel sheet.
    encoding : str
        Text encoding of a delimited file (default UTF-8); e.g. ``cp1252`` for a file saved by
        Excel on Windows.

    Returns
    -------
    LoadResult
        ``events`` (validated canonical table), ``rejects`` (one row per rejected record, with
        every problem of that record: columns and reasons joined by ``"; "``), and the counts.
        ``raw_row`` is the line of the file a record starts on (header = line 1), the row number
        an Excel sheet shows, or for Parquet the row counted from 2.
        ``date_precision`` is the coarser of the file's (or the default) and the date's own
        (``2020-01`` is a month). A date written with a UTC offset keeps its own day and gives
        ``time_utc`` where the file has none; a ``time_utc`` that disagrees with it rejects
        the record.

    Raises
    ------
    OptionError
        If an option is not what it should be: a ``column_map``/``defaults`` key that is not a
        column of the events table, a ``kind_map`` value that is not a kind (the message names
        the key).
    SourceError
        If a mapped column is not in the file, or the file has no ``date`` column, or cannot be
        read; the message names the file, the column and the columns the file has.
    """
    path = Path(path)
    raw_file = display_path(path)
    column_map = _mapping(column_map, "column_map", of="column names of the file")
    defaults = _mapping(defaults, "defaults", of="values")
    _check_columns(column_map, "column_map")
    _check_columns(defaults, "defaults")
    for canon, col in column_map.items():
        if not isinstance(col, str):
            raise OptionError("column_map", f"column_map: {canon}: {col!r} must be the name of a column of the file")
    column_map = {canon: col.strip() for canon, col in column_map.items()}  # header names are read stripped
    try:
        own_kinds = check_kind_map(kind_map)
    except ValueError as exc:
        raise OptionError("kind_map", str(exc)) from None
    if not isinstance(dayfirst, bool):
        raise OptionError("dayfirst", f"dayfirst must be true or false, got {dayfirst!r}")
    if isinstance(count_columns, str):
        raise OptionError("count_columns", f"count_columns must be a list of column names, got the text {count_columns!r}")
    records = read_raw_table(path, sheet_name=sheet_name, encoding=encoding)
    raw, rows = records.frame, records.lines
    defaults.setdefault("source", source)
    notes = list(records.notes)

    where = f"{raw_file}: the header (line {records.header_line})"
    require_columns(raw, {col: canon for canon, col in column_map.items()}, what=where)
    sources_of = {canon: column_map.get(canon, canon) for canon in [*EVENT_COLUMNS, *RANGE_COLUMNS]}
    if sources_of["date"] not in raw.columns and "date" not in defaults:
        require_columns(raw, {"date": "the day of each event; or map one with column_map: {date: ...}"}, what=where)

    out = pd.DataFrame(index=raw.index)
    for canon, col in sources_of.items():
        if col in raw.columns:
            out[canon] = raw[col]
        elif canon in defaults:
            out[canon] = pd.Series(defaults[canon], index=raw.index, dtype="string")
    for canon, value in defaults.items():
        if canon in out.columns:
            out[canon] = out[canon].fillna(str(value))
    used = set(column_map.values()) | set(sources_of)
    extras = [c for c in raw.columns if c not in used]

    problems: list[tuple[pd.Series, str, object]] = []  # mask, column of the file, reason

    def flag(mask: pd.Series, canon: str, reason: object) -> None:
        """Record that the rows in ``mask`` fail a check of column ``canon`` (named as in the file)."""
        problems.append((mask, sources_of.get(canon, canon), reason))

    # date: the shared reader (ISO 8601 always year first; offsets keep their local day)
    dates = read_dates(out["date"], date_format=date_format, dayfirst=dayfirst)
    flag(out["date"].isna(), "date", "missing date")
    flag(dates["problem"].notna(), "date", dates["problem"])
    out["date"] = dates["date"]

    times = dates["time_utc"]
    if "time_utc" in out.columns:
        given = pd.to_datetime(out["time_utc"], errors="coerce", format="ISO8601", utc=True).dt.tz_localize(None)
        flag(out["time_utc"].notna() & given.isna(), "time_utc", "cannot read UTC time (expected ISO 8601)")
        differs = given.notna() & times.notna() & (given != times)
        flag(differs, "time_utc", "disagrees with the time and UTC offset of the date (" + times.astype("string") + " UTC)")
        times = given.fillna(times)
    out["time_utc"] = times.astype("datetime64[ns]")

    declared = out.get("date_precision", pd.Series("day", index=raw.index, dtype="string")).fillna("day").str.lower()
    coarser = declared.map(_PRECISION_RANK).astype("Float64") < dates["date_precision"].map(_PRECISION_RANK).astype("Float64")
    out["date_precision"] = declared.where(~coarser.fillna(False), dates["date_precision"])

    if "kind" not in out.columns:
        out["kind"] = pd.Series(pd.NA, index=raw.index, dtype="string")
    if "source_type" not in out.columns:
        out["source_type"] = out["kind"]
    out["kind"] = normalise_kind(out["kind"], own_kinds)
    flag(out["kind"].isna(), "kind", "missing kind (map a column or give a default)")

    # numbers: text that is not a number is rejected here; the value rules are the schema's
    extra_counts = [c for c in count_columns if c in raw.columns]
    for col in extra_counts:
        out[col] = raw[col]
    numeric = [c for c in out.columns if c in EVENT_COLUMNS and EVENT_COLUMNS[c] in ("Int64", "Float64") and c != "raw_row"]
    numeric += [c for c in RANGE_COLUMNS if c in out.columns] + extra_counts
    for col in numeric:
        values = pd.to_numeric(out[col], errors="coerce")
        flag(out[col].notna() & values.isna(), col, "not a number")
        out[col] = values
    for mask, column, reason in value_problems(out, count_columns=extra_counts):
        flag(mask, column, reason)

    if "event_id" in out.columns:
        flag(out["event_id"].isna(), "event_id", "missing event_id")
        dup = out["event_id"].duplicated(keep="first") & out["event_id"].notna()
        if dup.any():
            first_row = rows.groupby(out["event_id"].fillna("").to_numpy()).transform("min")
            flag(dup, "event_id", "duplicate event_id, first at line " + first_row.astype("string"))
    else:
        # no id to tell two identical rows apart: a repeated row is the same record twice
        repeated = raw.duplicated(keep="first")
        if repeated.any():
            key = pd.util.hash_pandas_object(raw, index=False).to_numpy()
            first_row = rows.groupby(key).transform("min")
            problems.append((repeated, "", "repeats line " + first_row.astype("string")
                             + " exactly and the file has no event_id column to tell them apart "
                             "(give it one if they are two events)"))
        out["event_id"] = (source + "-" + rows.astype("string")).astype("string")
    out["raw_file"] = raw_file
    out["raw_row"] = rows
    if "source_id" not in out.columns:
        out["source_id"] = out["event_id"]

    rejects, rejected = rejects_from_problems(problems, raw, rows, raw_file, broken=records.broken)

    extras = [c for c in extras if c not in out.columns]
    accepted = pd.concat([out, raw[extras]], axis=1).loc[~rejected.to_numpy()].reset_index(drop=True)
    accepted = accepted.astype(dict.fromkeys(extra_counts + [c for c in RANGE_COLUMNS if c in accepted.columns], "Int64"))
    events = validate_events(conform_events(accepted), name=raw_file)
    return LoadResult(events=events, rejects=rejects, source=raw_file, read=records.read, notes=tuple(notes))
