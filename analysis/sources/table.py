"""Plain tables of events (CSV, TSV, Parquet, Excel) -> canonical events + rejects.

The loader reads every cell as text and parses each canonical column itself, so that a bad
cell rejects its own record, with the row and the column named, instead of failing the whole
file or being coerced away.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.paths import display_path
from analysis.schema import (
    COUNT_COLUMNS,
    EVENT_COLUMNS,
    conform_events,
    normalise_kind,
    validate_events,
    value_problems,
)
from analysis.sources import LoadResult
from analysis.sources.records import rejects_from_problems

__all__ = ["load_table", "read_raw_table"]

_TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": None}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}


def read_raw_table(path: str | Path, *, sheet_name: int | str = 0) -> pd.DataFrame:
    """Read a table with every cell as text (empty cells missing), whatever its format.

    Raises
    ------
    ValueError
        If the file type is not one of CSV/TSV/TXT, Parquet or Excel (the message names the file).
    FileNotFoundError
        If the file does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        frame = pd.read_csv(
            path,
            sep=_TEXT_SUFFIXES[suffix],
            engine="python" if _TEXT_SUFFIXES[suffix] is None else "c",
            dtype=str,
            keep_default_na=False,
            na_values=[""],
        )
    elif suffix == ".parquet":
        frame = pd.read_parquet(path)
    elif suffix in _EXCEL_SUFFIXES:
        frame = pd.read_excel(path, sheet_name=sheet_name, dtype=str)
    else:
        raise ValueError(
            f"{path}: unknown table type {suffix!r}; use .csv, .tsv, .txt, .parquet or .xlsx"
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.astype("string").apply(lambda s: s.str.strip()).replace("", pd.NA)


def load_table(
    path: str | Path,
    *,
    column_map: Mapping[str, str] | None = None,
    defaults: Mapping[str, object] | None = None,
    source: str = "table",
    count_columns: Iterable[str] = (),
    date_format: str | None = None,
    dayfirst: bool = False,
    sheet_name: int | str = 0,
) -> LoadResult:
    """Load a table of events into the canonical schema.

    Parameters
    ----------
    path : str or Path
        A ``.csv``/``.tsv``/``.txt``, ``.parquet`` or Excel file.
    column_map : mapping, optional
        Canonical column -> column of the file, e.g. ``{"date": "Date of event"}``. Canonical
        columns not mapped are taken from a file column of the same name when there is one.
        Other file columns are kept, under their own names, after the canonical ones.
    defaults : mapping, optional
        Canonical column -> value used where the file has no such column or the cell is
        empty, e.g. ``{"date_precision": "day", "kind": "other"}``.
    source : str
        Value of the ``source`` column; also prefixes generated ids (``<source>-<row>``) when
        the file has no ``event_id``.
    count_columns : iterable of str
        Extra (non-canonical) columns to parse as non-negative whole numbers (``Int64``), with
        the same rejection rules as ``fatalities``.
    date_format : str, optional
        A ``strftime`` format for ``date``; by default ISO 8601 (``YYYY-MM-DD``).
    dayfirst : bool
        Read ambiguous dates as day first when ``date_format`` is not given.
    sheet_name : int or str
        Excel sheet.

    Returns
    -------
    LoadResult
        ``events`` (validated canonical table), ``rejects`` (one row per rejected record, with
        every problem of that record: columns and reasons joined by ``"; "``), and the counts.
        ``raw_row`` numbers rows as a spreadsheet shows them: the header is row 1, the first
        record row 2 (for Parquet, the header row is notional).

    Raises
    ------
    ValueError
        If a mapped column is not in the file, or the file has no ``date`` column; the message
        names the file, the column and the columns the file has.
    """
    path = Path(path)
    raw_file = display_path(path)
    raw = read_raw_table(path, sheet_name=sheet_name)
    column_map = dict(column_map or {})
    defaults = dict(defaults or {})
    defaults.setdefault("source", source)

    absent = {canon: col for canon, col in column_map.items() if col not in raw.columns}
    if absent:
        described = ", ".join(f"'{col}' (for {canon})" for canon, col in absent.items())
        raise ValueError(
            f"{raw_file}: no column {described}; the file's columns are: {', '.join(raw.columns)}"
        )
    sources_of = {canon: column_map.get(canon, canon) for canon in EVENT_COLUMNS}
    if sources_of["date"] not in raw.columns and "date" not in defaults:
        raise ValueError(
            f"{raw_file}: no 'date' column (map one with column_map={{'date': ...}}); "
            f"the file's columns are: {', '.join(raw.columns)}"
        )

    n = len(raw)
    rows = pd.Series(np.arange(n) + 2, dtype="Int64")  # spreadsheet numbering, header = row 1
    out = pd.DataFrame(index=raw.index)
    for canon, col in sources_of.items():
        if col in raw.columns:
            out[canon] = raw[col]
        elif canon in defaults:
            out[canon] = pd.Series(defaults[canon], index=raw.index, dtype="string")
    for canon, value in defaults.items():
        if canon in out.columns:
            out[canon] = out[canon].fillna(str(value))
    used = set(column_map.values()) | set(EVENT_COLUMNS)
    extras = [c for c in raw.columns if c not in used]

    problems: list[tuple[pd.Series, str, object]] = []  # mask, column of the file, reason

    def flag(mask: pd.Series, canon: str, reason: object) -> None:
        """Record that the rows in ``mask`` fail a check of column ``canon`` (named as in the file)."""
        problems.append((mask, sources_of.get(canon, canon), reason))

    # date: a day, ISO 8601 unless a format is given
    date_text = out["date"]
    dates = pd.to_datetime(
        date_text,
        errors="coerce",
        format=date_format or ("mixed" if dayfirst else "ISO8601"),
        dayfirst=dayfirst,
    )
    flag(date_text.isna(), "date", "missing date")
    flag(date_text.notna() & dates.isna(), "date", f"cannot read date (expected {date_format or 'YYYY-MM-DD'})")
    out["date"] = dates.dt.normalize()

    if "time_utc" in out.columns:
        times = pd.to_datetime(out["time_utc"], errors="coerce", format="ISO8601", utc=True)
        flag(out["time_utc"].notna() & times.isna(), "time_utc", "cannot read UTC time (expected ISO 8601)")
        out["time_utc"] = times.dt.tz_localize(None)

    out["date_precision"] = out.get("date_precision", pd.Series("day", index=raw.index)).fillna("day").str.lower()
    if "kind" not in out.columns:
        out["kind"] = pd.Series(pd.NA, index=raw.index, dtype="string")
    if "source_type" not in out.columns:
        out["source_type"] = out["kind"]
    out["kind"] = normalise_kind(out["kind"])
    flag(out["kind"].isna(), "kind", "missing kind (map a column or give a default)")

    # numbers: text that is not a number is rejected here; the value rules are the schema's
    extra_counts = [c for c in count_columns if c in raw.columns]
    for col in extra_counts:
        out[col] = raw[col]
    numeric = [c for c in out.columns if c in EVENT_COLUMNS and EVENT_COLUMNS[c] in ("Int64", "Float64") and c != "raw_row"]
    numeric += [f"{c}_{b}" for c in COUNT_COLUMNS for b in ("min", "max") if f"{c}_{b}" in out.columns] + extra_counts
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
            flag(dup, "event_id", "duplicate event_id, first at row " + first_row.astype("string"))
    else:
        out["event_id"] = (source + "-" + rows.astype("string")).astype("string")
    out["raw_file"] = raw_file
    out["raw_row"] = rows
    if "source_id" not in out.columns:
        out["source_id"] = out["event_id"]

    rejects, rejected = rejects_from_problems(problems, raw, rows, raw_file)

    extras = [c for c in extras if c not in out.columns]
    accepted = pd.concat([out, raw[extras]], axis=1).loc[~rejected.to_numpy()].reset_index(drop=True)
    accepted = accepted.astype({c: "Int64" for c in extra_counts})
    events = validate_events(conform_events(accepted), name=raw_file)
    return LoadResult(events=events, rejects=rejects, source=raw_file, read=n)
