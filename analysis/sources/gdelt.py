"""GDELT 2.0 events exports -> canonical events of one dyad + rejects.

A GDELT 2.0 events file (``YYYYMMDDHHMMSS.export.CSV``, usually zipped) has 61 tab-separated
columns, no header and empty fields for missing values (GDELT 2.0 Event Database codebook,
"GDELT_2.0_Events_Column_Labels_Header_Row_Sep2016"). A year of them holds tens of millions of
rows, of which a dyad keeps a few thousand, so the loader never holds a whole file: DuckDB (or
Dask) streams each file and returns only the rows that can belong to the dyad, and pandas then
parses those few rows.

The filter keeps a row when

* its ``EventRootCode`` is one of ``root_codes`` (by default 18 assault, 19 fight, 20 unconventional
  mass violence: CAMEO's material conflict roots), its ``QuadClass`` one of ``quad_classes`` and
  its ``ActionGeo_CountryCode`` one of ``countries`` (when given), and
* ``Actor1Code`` and ``Actor2Code`` both start with a CAMEO actor-code prefix of the dyad
  (``actor_codes``, side key -> prefixes) and the two prefixes belong to different sides (a dyadic
  event). A code matching prefixes of two sides takes the side of the longest prefix.

Every other row is counted as filtered. Rows outside the dyad are not parsed further, so a bad
date in a row that the filter leaves out is counted as filtered, not rejected.

Filter once, analyse anywhere: :func:`filter_gdelt` (or ``python -m analysis.sources.gdelt``)
runs the same filter, on a Dask cluster if given one, and writes the dyad's events to a folder of
Parquet files partitioned by year, with its rejects and a manifest (:data:`MANIFEST`) holding the
filter and the counts. :func:`load_gdelt` reads such a folder back (``format: gdelt`` with the
folder as ``path``), giving the same events, rejects and counts as filtering the archive, and
refuses it when the filter asked for differs from the one it was made with.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.paths import display_path
from analysis.schema import conform_events, make_rejects, validate_events, value_problems
from analysis.sources import LoadResult

__all__ = ["COLUMNS", "FIPS_COUNTRIES", "MANIFEST", "ROOT_CODES", "cameo_kind", "filter_gdelt", "gdelt_files", "load_gdelt"]

#: The 61 columns of a GDELT 2.0 events file, in file order (GDELT's official column list,
#: "GDELT_2.0_Events_Column_Labels_Header_Row_Sep2016.csv").
COLUMNS: tuple[str, ...] = (
    "GLOBALEVENTID", "SQLDATE", "MonthYear", "Year", "FractionDate",
    "Actor1Code", "Actor1Name", "Actor1CountryCode", "Actor1KnownGroupCode", "Actor1EthnicCode",
    "Actor1Religion1Code", "Actor1Religion2Code", "Actor1Type1Code", "Actor1Type2Code", "Actor1Type3Code",
    "Actor2Code", "Actor2Name", "Actor2CountryCode", "Actor2KnownGroupCode", "Actor2EthnicCode",
    "Actor2Religion1Code", "Actor2Religion2Code", "Actor2Type1Code", "Actor2Type2Code", "Actor2Type3Code",
    "IsRootEvent", "EventCode", "EventBaseCode", "EventRootCode", "QuadClass", "GoldsteinScale",
    "NumMentions", "NumSources", "NumArticles", "AvgTone",
    "Actor1Geo_Type", "Actor1Geo_FullName", "Actor1Geo_CountryCode", "Actor1Geo_ADM1Code",
    "Actor1Geo_ADM2Code", "Actor1Geo_Lat", "Actor1Geo_Long", "Actor1Geo_FeatureID",
    "Actor2Geo_Type", "Actor2Geo_FullName", "Actor2Geo_CountryCode", "Actor2Geo_ADM1Code",
    "Actor2Geo_ADM2Code", "Actor2Geo_Lat", "Actor2Geo_Long", "Actor2Geo_FeatureID",
    "ActionGeo_Type", "ActionGeo_FullName", "ActionGeo_CountryCode", "ActionGeo_ADM1Code",
    "ActionGeo_ADM2Code", "ActionGeo_Lat", "ActionGeo_Long", "ActionGeo_FeatureID",
    "DATEADDED", "SOURCEURL",
)  # fmt: skip

#: FIPS 10-4 country codes (``ActionGeo_CountryCode``) -> country names, for the theatres this
#: project studies and their neighbours. Other codes are kept as they are.
FIPS_COUNTRIES: dict[str, str] = {
    "IZ": "Iraq",
    "SY": "Syria",
    "JO": "Jordan",
    "IS": "Israel",
    "WE": "West Bank",
    "GZ": "Gaza Strip",
    "IR": "Iran",
    "US": "United States",
    "LE": "Lebanon",
    "TU": "Turkey",
    "SA": "Saudi Arabia",
    "YM": "Yemen",
    "KU": "Kuwait",
    "QA": "Qatar",
    "BA": "Bahrain",
    "AE": "United Arab Emirates",
    "MU": "Oman",
    "EG": "Egypt",
    "AF": "Afghanistan",
    "PK": "Pakistan",
    "UK": "United Kingdom",
    "FR": "France",
    "RS": "Russia",
    "UP": "Ukraine",
    "CH": "China",
    "LY": "Libya",
    "SU": "Sudan",
    "OD": "South Sudan",
    "SO": "Somalia",
    "NI": "Nigeria",
    "ML": "Mali",
    "CD": "Chad",
}

# Columns the loader uses; the other 42 are never materialised.
_USED = (
    "GLOBALEVENTID", "SQLDATE", "Actor1Code", "Actor1Name", "Actor2Code", "Actor2Name",
    "EventCode", "EventRootCode", "QuadClass", "GoldsteinScale",
    "NumMentions", "NumSources", "NumArticles", "AvgTone",
    "ActionGeo_FullName", "ActionGeo_CountryCode", "ActionGeo_Lat", "ActionGeo_Long", "SOURCEURL",
)  # fmt: skip

# Names a folder's files may end with (case-insensitive): GDELT's own ``.export.CSV(.zip)``,
# other text tables, and gzip or zip archives of them.
_FILE_SUFFIXES = (".csv", ".tsv", ".gz", ".zip")

#: CAMEO root codes kept by default: 18 assault, 19 fight, 20 unconventional mass violence (the
#: material conflict roots of CAMEO 1.1b3).
ROOT_CODES: tuple[str, ...] = ("18", "19", "20")

# CAMEO event code (first three digits) -> canonical kind (CAMEO 1.1b3 codebook, chapters 18-20).
# 183x: suicide, car or roadside bombing; 193 small arms; 194 artillery and tanks; 195 aerial
# weapons. Every other code, including the rest of 18x, 19x and 20x, is "other".
_CAMEO_KINDS = {"183": "ied", "193": "shooting", "194": "rocket", "195": "airstrike"}

_CODE = re.compile(r"^[A-Za-z0-9]+$")


def cameo_kind(codes: pd.Series) -> pd.Series:
    """Map CAMEO event codes (``EventCode``) to canonical kinds.

    Parameters
    ----------
    codes : Series
        CAMEO event codes as text (``"190"``, ``"1831"``...).

    Returns
    -------
    Series of string
        ``"ied"`` for 183 and its sub-codes (suicide, car and roadside bombing), ``"shooting"`` for
        193 (small arms and light weapons), ``"rocket"`` for 194 (artillery and tanks),
        ``"airstrike"`` for 195 (aerial weapons), ``"other"`` for any other code; missing stays
        missing.
    """
    text = codes.astype("string").str.strip()
    kinds = text.str.slice(0, 3).map(lambda c: _CAMEO_KINDS.get(c, "other"), na_action="ignore")
    return kinds.astype("string")


def gdelt_files(path: str | Path) -> list[Path]:
    """The files a path names: the file itself, or a folder's GDELT files sorted by name.

    A folder's files are those whose names end with ``.csv``, ``.tsv``, ``.gz`` or ``.zip`` (any
    case, so ``20170701234500.export.CSV.zip`` is one).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist, or is a folder holding no such file.
    """
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or folder")
    files = sorted(
        (p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(_FILE_SUFFIXES)),
        key=lambda p: p.name,
    )
    if not files:
        raise FileNotFoundError(f"{path}: folder holds no GDELT file (*.csv, *.tsv, *.gz, *.zip)")
    return files


# ---------------------------------------------------------------------------------------------
# what to keep


@dataclass(frozen=True)
class _Criteria:
    """The row filter, in a form both engines (SQL and pandas) can apply."""

    sides: tuple[str, ...]  # actor_codes keys, in the order given
    groups: tuple[str, ...]  # the analysed side of each key (its group_with side, else itself)
    prefixes: tuple[tuple[str, int], ...]  # (prefix, side index), longest prefix first
    root_codes: tuple[str, ...] | None
    quad_classes: tuple[str, ...] | None
    countries: tuple[str, ...] | None

    @property
    def prefix_list(self) -> tuple[str, ...]:
        return tuple(p for p, _ in self.prefixes)


def _criteria(spec, actor_codes, root_codes, quad_classes, countries) -> _Criteria:
    """Check the filter options (taking defaults from the dyad spec) and build the criteria."""
    gdelt_raw = (getattr(spec, "raw", None) or {}).get("gdelt") or {}
    if actor_codes is None:
        actor_codes = gdelt_raw.get("actor_codes")
    if countries is None:
        countries = gdelt_raw.get("countries")
    if not actor_codes:
        where = f" (the dyad spec {spec.path} has no gdelt: actor_codes:)" if spec is not None else ""
        raise ValueError(
            "load_gdelt needs actor_codes, a mapping side key -> CAMEO actor-code prefixes such as "
            f"{{'us': ['USA'], 'militias': ['IRQREB']}}{where}"
        )
    if not isinstance(actor_codes, Mapping):
        raise ValueError(f"actor_codes must map side keys to lists of CAMEO code prefixes, got {actor_codes!r}")
    sides = tuple(str(k) for k in actor_codes)
    groups = tuple(spec.analysed_side(k) for k in sides) if spec is not None else sides
    if len(set(groups)) < 2:
        raise ValueError(f"actor_codes must name at least two sides of the dyad, got {', '.join(sides)}")
    owner: dict[str, int] = {}
    for index, key in enumerate(sides):
        values = actor_codes[key]
        values = [values] if isinstance(values, str) else list(values or [])
        if not values:
            raise ValueError(f"actor_codes['{key}'] lists no CAMEO code prefix")
        for value in values:
            prefix = str(value).strip().upper()
            if not _CODE.match(prefix):
                raise ValueError(
                    f"actor_codes['{key}']: {value!r} is not a CAMEO actor-code prefix (letters and digits, e.g. 'IRQREB')"
                )
            if prefix in owner and owner[prefix] != index:
                raise ValueError(
                    f"actor_codes: prefix '{prefix}' is listed for both '{sides[owner[prefix]]}' and '{key}'"
                )
            owner[prefix] = index
    prefixes = tuple(sorted(owner.items(), key=lambda item: (-len(item[0]), item[0])))

    def codes(values, what: str, pattern: str, width: int = 1) -> tuple[str, ...] | None:
        if values is None:
            return None
        values = [values] if isinstance(values, (str, int)) else list(values)
        out = tuple(str(v).strip().upper().zfill(width) for v in values)
        bad = [v for v in out if not re.fullmatch(pattern, v)]
        if bad or not out:
            raise ValueError(f"{what}: {bad or values!r} not valid codes")
        return out

    return _Criteria(
        sides=sides,
        groups=groups,
        prefixes=prefixes,
        root_codes=codes(root_codes, "root_codes (CAMEO root codes such as '18')", r"\d{2}", width=2),
        quad_classes=codes(quad_classes, "quad_classes (1 to 4)", r"[1-4]"),
        countries=codes(countries, "countries (FIPS 10-4 codes such as 'IZ')", r"[A-Z0-9]{2}"),
    )


def _sql_in(column: str, values: Iterable[str]) -> str:
    # values are checked against [A-Za-z0-9] in _criteria, so quoting them is safe
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _sql_prefix(column: str, prefixes: Iterable[str]) -> str:
    return "(" + " OR ".join(f"starts_with({column}, '{p}')" for p in prefixes) + ")"


def _sql_condition(criteria: _Criteria) -> str:
    """The coarse filter as SQL: root code, quad class, country, both actors on some side."""
    parts = []
    if criteria.root_codes is not None:
        parts.append(_sql_in("EventRootCode", criteria.root_codes))
    if criteria.quad_classes is not None:
        parts.append(_sql_in("QuadClass", criteria.quad_classes))
    if criteria.countries is not None:
        parts.append(_sql_in("ActionGeo_CountryCode", criteria.countries))
    parts.append(_sql_prefix("Actor1Code", criteria.prefix_list))
    parts.append(_sql_prefix("Actor2Code", criteria.prefix_list))
    return " AND ".join(parts)


def _pandas_condition(frame: pd.DataFrame, criteria: _Criteria) -> np.ndarray:
    """The same coarse filter as :func:`_sql_condition`, on a pandas frame of text columns."""
    keep = pd.Series(True, index=frame.index)
    if criteria.root_codes is not None:
        keep &= frame["EventRootCode"].isin(criteria.root_codes)
    if criteria.quad_classes is not None:
        keep &= frame["QuadClass"].isin(criteria.quad_classes)
    if criteria.countries is not None:
        keep &= frame["ActionGeo_CountryCode"].isin(criteria.countries)
    for column in ("Actor1Code", "Actor2Code"):
        keep &= frame[column].astype("string").str.startswith(criteria.prefix_list).fillna(False)
    return keep.fillna(False).to_numpy(dtype=bool)


def _side_index(codes: pd.Series, criteria: _Criteria) -> np.ndarray:
    """Index of the side whose longest prefix starts each code, -1 when none does."""
    text = codes.astype("string")
    conditions = [text.str.startswith(p).fillna(False).to_numpy(dtype=bool) for p, _ in criteria.prefixes]
    return np.select(conditions, [i for _, i in criteria.prefixes], default=-1)


# ---------------------------------------------------------------------------------------------
# files


@dataclass(frozen=True)
class _Member:
    """One events table to read: a plain or gzip file, or one member of a zip archive."""

    path: Path
    label: str  # raw_file
    member: str | None = None  # name inside a zip archive
    size: int = 0  # bytes on disk, for the progress bar

    @property
    def gzipped(self) -> bool:
        return self.member is None and self.path.name.lower().endswith(".gz")

    @contextmanager
    def open(self) -> Iterator:
        """A binary stream of the (decompressed) text."""
        if self.member is not None:
            with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as stream:
                yield stream
        elif self.gzipped:
            with gzip.open(self.path, "rb") as stream:
                yield stream
        else:
            with open(self.path, "rb") as stream:
                yield stream


def _members(files: Sequence[Path]) -> list[_Member]:
    out = []
    for path in files:
        label = display_path(path)
        if path.name.lower().endswith(".zip"):
            try:
                with zipfile.ZipFile(path) as archive:
                    infos = [i for i in archive.infolist() if not i.is_dir()]
            except zipfile.BadZipFile as exc:
                raise ValueError(f"{label}: not a readable zip archive ({exc})") from exc
            for info in infos:
                out.append(_Member(path, f"{label}:{info.filename}", info.filename, info.compress_size))
        else:
            out.append(_Member(path, label, None, path.stat().st_size))
    return out


def _first_line(member: _Member, limit: int = 1 << 20) -> str | None:
    """The first line of a member's text (without its line end), or None for an empty file."""
    try:
        with member.open() as stream:
            head = stream.readline(limit)
    except (OSError, EOFError) as exc:  # e.g. a .gz name on a file that is not gzip
        raise ValueError(f"{member.label}: cannot be read ({exc})") from exc
    if not head:
        return None
    return head.decode("utf-8", errors="replace").rstrip("\r\n")


def _check_layout(member: _Member) -> bool | None:
    """Check a member is a GDELT 2.0 events table.

    Returns
    -------
    bool or None
        ``True`` when its first line is a header naming the columns (skipped), ``False`` when it
        is a record, ``None`` when the file is empty.

    Raises
    ------
    ValueError
        Naming the file and its number of columns when it has not 61, with what it looks like.
    """
    line = _first_line(member)
    if line is None:
        return None
    fields = line.split("\t")
    n = len(fields)
    if n == len(COLUMNS):
        return fields[0].strip().upper() == "GLOBALEVENTID"
    message = (
        f"{member.label}: the first line has {n} tab-separated column{'s' if n != 1 else ''} "
        f"where GDELT 2.0 events have {len(COLUMNS)}"
    )
    commas = next(csv.reader([line]))
    if n in (57, 58):
        message += "; this looks like a GDELT 1.0 file (57 or 58 columns), which load_gdelt does not read"
    elif n == 16 or (n == 1 and len(commas) == 16 and commas[0].strip().lower() == "globaleventid"):
        message += ("; this looks like a GDELT 2.0 Mentions file (16 columns: GLOBALEVENTID, EventTimeDate, "
                    "MentionTimeDate...), not an events export")
    elif n == 27:
        message += "; this looks like a GDELT Global Knowledge Graph (GKG) file, not an events export"
    elif n == 1 and len(commas) > 1:
        message += (f"; it looks comma-separated ({len(commas)} comma-separated fields), while GDELT events files "
                    "are tab-separated")
    raise ValueError(message)


@contextmanager
def _local_copy(member: _Member, folder: Path) -> Iterator[Path]:
    """A path DuckDB can read: the file itself, or a zip member extracted to a temporary file."""
    if member.member is None:
        yield member.path
        return
    target = folder / "member.tsv"
    with member.open() as source, open(target, "wb") as sink:
        shutil.copyfileobj(source, sink, 1 << 22)
    try:
        yield target
    finally:
        target.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# engines: each returns, per member, the rows passing the coarse filter (the _USED columns as
# text plus raw_row) and the number of records read


_EMPTY_KEPT = pd.DataFrame({c: pd.Series(dtype="string") for c in _USED}).assign(raw_row=pd.Series(dtype="int64"))


def _duckdb_connect():
    """A DuckDB connection for the loader: rows in file order, no progress bar of DuckDB's own."""
    import duckdb

    con = duckdb.connect()
    # The loader shows its own progress (tqdm). DuckDB's bar is off by default in a Jupyter
    # kernel without ipywidgets, where any change to the setting raises "'ipywidgets' is
    # missing" (duckdb/duckdb#7590; this is how make's papermill kernels run), and on by
    # default elsewhere: turn it off only where it is on.
    if con.execute("SELECT current_setting('enable_progress_bar')").fetchall()[0][0]:
        con.execute("SET enable_progress_bar = false")
    # a parallel scan still returns its rows in file order: a row's position is its line
    con.execute("SET preserve_insertion_order = true")
    return con


def _duckdb_read(members, header_of, criteria, bar) -> list[tuple[pd.DataFrame, int]]:
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in COLUMNS) + "}"
    # One row out per line of the file, in file order (preserve_insertion_order): the list of
    # the used columns where the line passes the filter, NULL elsewhere. The scan stays
    # parallel (a window function such as row_number() would hold it to one thread), a line's
    # position in the output is its line number, and the output's length is the number of
    # records read; a NULL costs a few bytes, so 10 million lines make about 50 MB of output.
    query = f"""
        SELECT CASE WHEN {_sql_condition(criteria)} THEN [{", ".join(_USED)}] END AS kept
        FROM read_csv($path, delim = '\t', header = false, quote = '', escape = '',
                      skip = $skip, columns = {columns}, auto_detect = false,
                      compression = $compression)
    """
    out = []
    con = _duckdb_connect()
    try:
        with tempfile.TemporaryDirectory(prefix="gdelt-") as tmp:
            for member in members:
                skip = header_of[member.label]
                if skip is None:  # empty file
                    out.append((_EMPTY_KEPT, 0))
                    bar.update(member.size)
                    continue
                with _local_copy(member, Path(tmp)) as local:
                    params = {"path": str(local), "skip": int(skip), "compression": "gzip" if member.gzipped else "none"}
                    positions, lists, n = [], [], 0
                    try:
                        for batch in con.sql(query, params=params).to_arrow_reader(1 << 20):
                            column = batch.column(0)
                            passed = column.is_valid()
                            positions.append(np.flatnonzero(passed.to_numpy(zero_copy_only=False)) + n)
                            lists.append(column.filter(passed))
                            n += len(column)
                    except duckdb.Error as exc:
                        raise ValueError(f"{member.label}: cannot be read as GDELT 2.0 events: {exc}") from exc
                values = pc.list_flatten(pa.chunked_array(lists, type=pa.list_(pa.string()))).combine_chunks()
                width = len(_USED)
                kept = pd.DataFrame(
                    {c: values.take(np.arange(i, len(values), width)).to_pandas() for i, c in enumerate(_USED)}
                ).astype("string")
                # positions are 0-based among the records read after the skipped header line
                raw_row = np.concatenate(positions).astype("int64") + 1 + int(skip) if positions else np.empty(0, "int64")
                out.append((kept.assign(raw_row=raw_row), n))
                bar.update(member.size)
    finally:
        con.close()
    return out


# pandas options for the dask engine. One name more than GDELT's 61 columns: a line with an
# extra field fills it, where pandas would otherwise take a too-long first line of a block as an
# index column or silently cut it.
_OVERFLOW = "_overflow"
_PANDAS_OPTIONS = {
    "sep": "\t",
    "names": [*COLUMNS, _OVERFLOW],
    "index_col": False,
    "dtype": str,
    "quoting": csv.QUOTE_NONE,
    "keep_default_na": False,
    "na_values": [""],
}


def _filter_part(frame: pd.DataFrame, criteria: _Criteria, label: str) -> tuple[pd.DataFrame, int]:
    """Rows of one block passing the coarse filter, with their position in the block."""
    overflow = frame[_OVERFLOW].notna().to_numpy()
    if overflow.any():
        row = frame.iloc[int(np.flatnonzero(overflow)[0])]
        raise ValueError(
            f"{label}: cannot be read as GDELT 2.0 events: the line of GLOBALEVENTID {row['GLOBALEVENTID']} "
            f"has more than {len(COLUMNS)} tab-separated fields"
        )
    keep = _pandas_condition(frame, criteria)
    kept = frame.loc[keep, list(_USED)].astype("string")
    kept["raw_row"] = np.flatnonzero(keep).astype("int64")
    return kept.reset_index(drop=True), len(frame)


def _filter_stream(member: _Member, header: bool, criteria: _Criteria, chunksize: int) -> tuple[pd.DataFrame, int]:
    """A gzip file or zip member read in chunks (they cannot be split into blocks)."""
    pieces, n = [], 0
    try:
        with member.open() as stream:
            reader = pd.read_csv(stream, header=None, skiprows=int(header), chunksize=chunksize, **_PANDAS_OPTIONS)
            for chunk in reader:
                kept, size = _filter_part(chunk, criteria, member.label)
                pieces.append(kept.assign(raw_row=kept["raw_row"] + n))
                n += size
    except pd.errors.ParserError as exc:
        raise ValueError(f"{member.label}: cannot be read as GDELT 2.0 events: {exc}") from exc
    return (pd.concat(pieces, ignore_index=True) if pieces else _EMPTY_KEPT), n


def _bytes(size: str | int) -> int:
    from dask.utils import parse_bytes

    return int(parse_bytes(size)) if isinstance(size, str) else int(size)


def _dask_read(members, header_of, criteria, bar, client, blocksize) -> list[tuple[pd.DataFrame, int]]:
    import dask
    import dask.dataframe as dd

    tasks, owner, sizes = [], [], {}
    for index, member in enumerate(members):
        header = header_of[member.label]
        if header is None:
            continue
        if member.member is None and not member.gzipped:
            frame = dd.read_csv(
                str(member.path),
                header=None,
                blocksize=blocksize,
                sample=min(_bytes(blocksize), 256_000),
                **({"skiprows": 1} if header else {}),
                **_PANDAS_OPTIONS,
            )
            parts = frame.to_delayed()
            for part in parts:
                task = dask.delayed(_filter_part, pure=True)(part, criteria, member.label)
                tasks.append(task)
                owner.append(index)
                sizes[task.key] = member.size / len(parts)
        else:
            # about 400 bytes a GDELT line: chunks of roughly blocksize bytes
            rows = max(_bytes(blocksize) // 400, 10_000)
            task = dask.delayed(_filter_stream, pure=True)(member, bool(header), criteria, rows)
            tasks.append(task)
            owner.append(index)
            sizes[task.key] = member.size

    def unreadable(exc: Exception, who: int | None) -> ValueError:
        # a block is parsed inside its task; name its file when the scheduler tells which
        where = members[who].label if who is not None else (members[0].label if len(members) == 1 else "one of the files")
        return ValueError(f"{where}: cannot be read as GDELT 2.0 events: {exc}")

    if client is not None:
        from distributed import as_completed

        futures = client.compute(tasks)
        position = {future.key: i for i, future in enumerate(futures)}
        for future in as_completed(futures):
            if future.status == "error":
                exc = future.exception()
                client.cancel(futures)
                if isinstance(exc, pd.errors.ParserError):
                    raise unreadable(exc, owner[position[future.key]]) from exc
                raise exc
            bar.update(sizes.get(future.key, 0))
        results = client.gather(futures)
    else:
        from dask.callbacks import Callback

        class _Progress(Callback):
            def _posttask(self, key, result, dsk, state, worker_id):
                bar.update(sizes.get(key, 0))

        try:
            with _Progress():
                results = dask.compute(*tasks)
        except pd.errors.ParserError as exc:
            raise unreadable(exc, None) from exc

    out = []
    for index, member in enumerate(members):
        header = header_of[member.label]
        pieces, n = [], 0
        for (kept, size), who in zip(results, owner):
            if who != index:
                continue
            pieces.append(kept.assign(raw_row=kept["raw_row"] + n))
            n += size
        kept = pd.concat(pieces, ignore_index=True) if pieces else _EMPTY_KEPT
        # positions are 0-based among records; the file's line is one more, two with a header
        out.append((kept.assign(raw_row=kept["raw_row"] + 1 + int(bool(header))), n))
    return out


# ---------------------------------------------------------------------------------------------
# rows -> canonical events


def _to_events(kept: pd.DataFrame, criteria: _Criteria, source: str) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Parse the dyad rows into canonical events; returns events, rejects and rows left out."""
    side1 = _side_index(kept["Actor1Code"], criteria)
    side2 = _side_index(kept["Actor2Code"], criteria)
    groups = np.array(criteria.groups + ("",), dtype=object)
    dyadic = (side1 >= 0) & (side2 >= 0) & (groups[side1] != groups[side2])
    raw = kept.loc[dyadic].reset_index(drop=True)
    side1, side2 = side1[dyadic], side2[dyadic]
    not_dyadic = int((~dyadic).sum())

    out = pd.DataFrame(index=raw.index)
    problems: list[tuple[pd.Series, str, str]] = []

    def flag(mask, column: str, reason) -> None:
        mask = pd.Series(mask, index=raw.index).fillna(False).astype(bool)
        if mask.any():
            reasons = reason if isinstance(reason, pd.Series) else pd.Series(reason, index=raw.index)
            problems.append((mask, column, reasons))

    # identity: GLOBALEVENTID is a whole number, unique over the whole dataset (codebook)
    ids = raw["GLOBALEVENTID"].str.strip()
    whole = ids.str.fullmatch(r"[0-9]+").fillna(False)
    flag(ids.isna(), "GLOBALEVENTID", "missing GLOBALEVENTID")
    flag(ids.notna() & ~whole, "GLOBALEVENTID", "GLOBALEVENTID is not a whole number")
    source_id = ids
    first = pd.DataFrame({"id": source_id, "at": raw["raw_file"] + " row " + raw["raw_row"].astype("string")})
    duplicate = source_id.notna() & source_id.duplicated(keep="first")
    first_at = first.groupby("id")["at"].transform("first")
    flag(duplicate, "GLOBALEVENTID", "duplicate GLOBALEVENTID, first at " + first_at.fillna(""))
    out["event_id"] = ("gdelt-" + source_id).astype("string")
    out["source_id"] = source_id.astype("string")

    # date: SQLDATE is the day of the event, YYYYMMDD (codebook)
    date_text = raw["SQLDATE"].str.strip()
    eight_digits = date_text.str.fullmatch(r"[0-9]{8}").fillna(False)
    dates = pd.to_datetime(date_text.where(eight_digits), format="%Y%m%d", errors="coerce")
    flag(date_text.isna(), "SQLDATE", "missing date")
    flag(date_text.notna() & dates.isna(), "SQLDATE", "cannot read date (expected YYYYMMDD)")
    out["date"] = dates
    out["date_precision"] = "day"

    # Actor1 performs the CAMEO event on Actor2 (codebook, EventCode): Actor1 is the initiator.
    # Codes are kept with the names so that a dyad spec's patterns can match either.
    def who(code: str, name: str) -> pd.Series:
        code_text, name_text = raw[code].str.strip(), raw[name].str.strip()
        both = (code_text + " " + name_text).fillna(code_text)
        return both.fillna(name_text)

    out["actor"] = who("Actor1Code", "Actor1Name")
    out["target"] = who("Actor2Code", "Actor2Name")
    event_code = raw["EventCode"].str.strip()
    out["kind"] = cameo_kind(event_code).fillna("other")
    out["source_type"] = event_code
    out["location"] = raw["ActionGeo_FullName"]
    country = raw["ActionGeo_CountryCode"].str.strip()
    out["country"] = country.map(lambda c: FIPS_COUNTRIES.get(c, c), na_action="ignore").astype("string")
    out["source"] = source
    out["url"] = raw["SOURCEURL"]
    out["evidence"] = ""
    out["raw_file"] = raw["raw_file"]
    out["raw_row"] = raw["raw_row"].astype("Int64")

    numeric = {
        "GoldsteinScale": ("weight", "Float64"),
        "ActionGeo_Lat": ("latitude", "Float64"),
        "ActionGeo_Long": ("longitude", "Float64"),
        "NumMentions": ("NumMentions", "Int64"),
        "NumSources": ("NumSources", "Int64"),
        "NumArticles": ("NumArticles", "Int64"),
        "AvgTone": ("AvgTone", "Float64"),
    }
    for column, (name, dtype) in numeric.items():
        text = raw[column].str.strip()
        values = pd.to_numeric(text, errors="coerce").astype("Float64")
        flag(text.notna() & values.isna(), column, "not a number")
        if dtype == "Int64":
            flag(values.notna() & (values != values.round()), column, "not a whole number")
            values = values.where(values == values.round()).astype("Int64")
        out[name] = values
    gdelt_name = {"latitude": "ActionGeo_Lat", "longitude": "ActionGeo_Long"}
    for mask, column, reason in value_problems(out[["latitude", "longitude"]]):
        flag(mask, gdelt_name.get(column, column), reason)

    reason = "GDELT Actor1 is the actor performing the CAMEO event (" + event_code.fillna("?") + ")"
    out["initiator_reason"] = reason.astype("string")
    sides = np.array(criteria.sides, dtype=object)
    out["gdelt_side"] = pd.array(sides[side1], dtype="string")
    out["gdelt_target_side"] = pd.array(sides[side2], dtype="string")

    rejected = pd.Series(False, index=raw.index)
    records: dict[int, list[tuple[str, str, str]]] = {}
    for mask, column, reasons in problems:
        rejected |= mask
        for i in np.flatnonzero(mask.to_numpy()):
            value = raw[column].iloc[i]
            records.setdefault(int(i), []).append((column, "" if pd.isna(value) else str(value), str(reasons.iloc[i])))
    rejects = make_rejects(
        {
            "raw_file": raw["raw_file"].iloc[i],
            "raw_row": int(raw["raw_row"].iloc[i]),
            "column": "; ".join(c for c, _, _ in found),
            "value": "; ".join(v for _, v, _ in found),
            "reason": "; ".join(r for _, _, r in found),
        }
        for i, found in sorted(records.items())
    )
    events = out.loc[~rejected.to_numpy()].reset_index(drop=True)
    return events, rejects, not_dyadic


def load_gdelt(
    path: str | Path,
    *,
    spec=None,
    source: str = "gdelt",
    actor_codes: Mapping[str, Sequence[str]] | None = None,
    root_codes: Sequence[str] | None = ROOT_CODES,
    quad_classes: Sequence[int | str] | None = None,
    countries: Sequence[str] | None = None,
    engine: str = "duckdb",
    progress: bool = False,
    client=None,
    blocksize: str | int = "64MB",
) -> LoadResult:
    """Load the events of one dyad from GDELT 2.0 events files.

    Parameters
    ----------
    path : str or Path
        A GDELT 2.0 events file (plain, ``.gz`` or ``.zip``), or a folder of them: every
        ``*.csv``, ``*.tsv``, ``*.gz`` and ``*.zip`` inside, read in order of name (each member of
        a zip archive in archive order).
        Or a folder written by :func:`filter_gdelt` (it holds :data:`MANIFEST`): its events,
        rejects and counts are read as they were filtered, provided the filter options asked for
        here (``actor_codes``, ``root_codes``, ``quad_classes``, ``countries``, and the sides'
        ``group_with``) are those it was made with.
    spec : DyadSpec, optional
        The dyad. Its YAML may hold a ``gdelt:`` block with ``actor_codes`` and ``countries``,
        used when those arguments are not given. Sides grouped with another side
        (``group_with``) count as that side when deciding whether an event is dyadic.
    source : str
        Value of the ``source`` column.
    actor_codes : mapping of str to list of str, optional
        Side key -> CAMEO actor-code prefixes, e.g. ``{"us": ["USA"], "militias": ["IRQREB",
        "IRQMIL"]}``. A code matching prefixes of two sides belongs to the longest prefix.
    root_codes : sequence of str or None
        CAMEO root codes (``EventRootCode``) to keep; by default 18, 19 and 20 (assault, fight,
        unconventional mass violence). None keeps every root code.
    quad_classes : sequence of int, optional
        ``QuadClass`` values to keep (4 is material conflict); by default all.
    countries : sequence of str, optional
        FIPS 10-4 codes of ``ActionGeo_CountryCode`` to keep (e.g. ``["IZ", "SY", "JO"]``); by
        default the spec's ``gdelt: countries``, else all.
    engine : {"duckdb", "dask"}
        ``"duckdb"`` streams each file through DuckDB, which applies the filter while scanning
        and returns only matching rows. ``"dask"`` applies the same filter with
        ``dask.dataframe.read_csv`` in blocks of ``blocksize`` on ``client`` (or the default
        scheduler); gzip files and zip members, which cannot be split, are read in chunks by one
        task each. Both give the same events.
    progress : bool
        Show a tqdm progress bar over the bytes of the files.
    client : distributed.Client, optional
        The Dask cluster for ``engine="dask"``.
    blocksize : str or int
        Block size for ``engine="dask"`` (bounds the memory of each task).

    Returns
    -------
    LoadResult
        ``events``: canonical events in file order, ``event_id`` ``"gdelt-<GLOBALEVENTID>"``,
        ``date`` from ``SQLDATE``, ``actor``/``target`` ``"<code> <name>"`` of Actor1/Actor2,
        ``kind`` from the CAMEO code (:func:`cameo_kind`), ``source_type`` the CAMEO
        ``EventCode``, ``weight`` the Goldstein scale, ``country`` the FIPS code's name
        (:data:`FIPS_COUNTRIES`), ``raw_row`` the line of ``raw_file`` (first record = 1; for a
        zip, ``raw_file`` is ``<archive>:<member>``); extra columns ``NumMentions``,
        ``NumSources``, ``NumArticles``, ``AvgTone``, ``initiator_reason``, and ``gdelt_side`` /
        ``gdelt_target_side``, the ``actor_codes`` keys whose prefixes matched Actor1 and Actor2.
        ``side`` is left for :func:`analysis.dyads.assign_sides`.
        ``rejects``: dyad rows whose GLOBALEVENTID is missing, not a whole number or repeated,
        whose SQLDATE cannot be read, or whose numbers cannot be read.
        ``filtered``: every other row that is not a dyadic event of the requested kind.

    Raises
    ------
    ValueError
        If a file's first line has not 61 tab-separated columns (the message names the file,
        its number of columns, and says when it looks like a GDELT 1.0, Mentions or GKG file),
        if a later line cannot be parsed, or if the filter options are invalid.
    FileNotFoundError
        If ``path`` does not exist or a folder holds no GDELT file.

    Notes
    -----
    A file whose first line is a header naming the columns (``GLOBALEVENTID...``) is read
    after that line, whose number still counts in ``raw_row``. DuckDB rejects a line with too
    few or too many fields with an error naming its line; with ``engine="dask"`` pandas raises
    for too many fields but pads a line with too few (GDELT's own files have neither). A blank
    line is not a record: both engines skip it uncounted, and number the lines after it one less
    than the file does (GDELT's own files have no blank line).

    The DuckDB engine scans in parallel and keeps each row's line number without a window
    function: the query returns one row per line, in file order (DuckDB's
    ``preserve_insertion_order``), NULL for the lines the filter leaves out.
    """
    if engine not in ("duckdb", "dask"):
        raise ValueError(f"engine must be 'duckdb' or 'dask', got {engine!r}")
    if progress:
        from tqdm.auto import tqdm  # a widget in JupyterLab where ipywidgets is installed
    else:
        from tqdm import tqdm  # disabled below; tqdm.auto would warn in a kernel without ipywidgets

    criteria = _criteria(spec, actor_codes, root_codes, quad_classes, countries)
    path = Path(path)
    if (path / MANIFEST).is_file():
        return _read_filtered(path, criteria, source)
    label = display_path(path)
    members = _members(gdelt_files(path))
    header_of = {m.label: _check_layout(m) for m in members}

    with tqdm(
        total=sum(m.size for m in members), unit="B", unit_scale=True, desc=f"GDELT {path.name}", disable=not progress
    ) as bar:
        if engine == "duckdb":
            per_member = _duckdb_read(members, header_of, criteria, bar)
        else:
            per_member = _dask_read(members, header_of, criteria, bar, client, blocksize)

    read = sum(n for _, n in per_member)
    kept = pd.concat(
        [frame.assign(raw_file=m.label) for m, (frame, _) in zip(members, per_member)], ignore_index=True
    ).astype({"raw_file": "string"})
    events, rejects, not_dyadic = _to_events(kept, criteria, source)
    events = validate_events(conform_events(events), name=label)
    filtered = read - len(events) - len(rejects)

    notes = [f"{m.label}: empty file" for m in members if header_of[m.label] is None]
    notes += [f"{m.label}: header line skipped" for m in members if header_of[m.label]]
    notes.append(
        f"kept rows with EventRootCode in {list(criteria.root_codes) if criteria.root_codes else 'any'}"
        + (f", QuadClass in {list(criteria.quad_classes)}" if criteria.quad_classes else "")
        + (f", ActionGeo_CountryCode in {list(criteria.countries)}" if criteria.countries else "")
        + f" and Actor1/Actor2 codes on two different sides of {', '.join(criteria.sides)}; "
        + f"{not_dyadic} of the rows filtered had both actors on the same side"
    )
    if len(members) > 1:
        notes.append(f"read {len(members)} files")
    return LoadResult(events=events, rejects=rejects, source=label, read=read, filtered=filtered, notes=tuple(notes))


# ---------------------------------------------------------------------------------------------
# filter once (on a cluster), analyse anywhere: the filtered dyad as partitioned Parquet

#: Name of the manifest in a folder written by :func:`filter_gdelt`.
MANIFEST = "gdelt-filter.json"
_MANIFEST_VERSION = 1
# the events' position in the loader's output (file order), kept so that reading the partitions
# back gives the same order
_POSITION = "gdelt_position"


def _criteria_record(criteria: _Criteria) -> dict:
    """The filter as plain JSON values, for the manifest and for comparing two filters."""
    prefixes: dict[str, list[str]] = {side: [] for side in criteria.sides}
    for prefix, index in sorted(criteria.prefixes):
        prefixes[criteria.sides[index]].append(prefix)
    return {
        "actor_codes": prefixes,
        "sides_grouped_as": dict(zip(criteria.sides, criteria.groups)),
        "root_codes": list(criteria.root_codes) if criteria.root_codes is not None else None,
        "quad_classes": list(criteria.quad_classes) if criteria.quad_classes is not None else None,
        "countries": list(criteria.countries) if criteria.countries is not None else None,
    }


def filter_gdelt(
    path: str | Path,
    folder: str | Path,
    *,
    overwrite: bool = False,
    engine: str = "dask",
    **options,
) -> LoadResult:
    """Filter GDELT 2.0 events files to one dyad and write the result as partitioned Parquet.

    Runs :func:`load_gdelt` (by default with ``engine="dask"``, on ``client`` when given: a
    ``distributed.Client`` of a cluster) and writes, into ``folder``:

    * ``events/year=<YYYY>/part-0.parquet``: the canonical events, one partition per year of
      ``date`` (Hive-style, so DuckDB, Dask, Spark or pyarrow read the folder as one table);
    * ``rejects.parquet``: the rejected rows, with the file and line of each;
    * :data:`MANIFEST`: the filter (actor codes, sides, root codes, quad classes, countries),
      the counts (read, accepted, rejected, filtered), the loader's notes and what was read.

    The folder is written under a temporary name beside it and renamed when complete, so an
    interrupted run never leaves a folder that looks finished. Point a dyad spec's source at it
    (``format: gdelt``, ``path: <folder>``) to analyse the dyad without the archive.

    Parameters
    ----------
    path : str or Path
        What :func:`load_gdelt` reads: a GDELT 2.0 events file or a folder of them.
    folder : str or Path
        The folder to write.
    overwrite : bool
        Replace ``folder`` if it exists (else an existing folder is an error).
    engine : {"dask", "duckdb"}
        As in :func:`load_gdelt`; ``"dask"`` by default, the engine that runs on a cluster.
    **options
        Passed to :func:`load_gdelt`: ``spec``, ``actor_codes``, ``root_codes``,
        ``quad_classes``, ``countries``, ``source``, ``client``, ``blocksize``, ``progress``.

    Returns
    -------
    LoadResult
        The load that was written.

    Raises
    ------
    FileExistsError
        If ``folder`` exists and ``overwrite`` is false.
    """
    folder = Path(folder)
    if folder.exists() and not overwrite:
        raise FileExistsError(f"{folder} exists; pass overwrite=True (--overwrite) to replace it")
    spec, source = options.get("spec"), options.get("source", "gdelt")
    criteria = _criteria(
        spec,
        options.get("actor_codes"),
        options.get("root_codes", ROOT_CODES),
        options.get("quad_classes"),
        options.get("countries"),
    )
    result = load_gdelt(path, engine=engine, **options)

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=folder.parent))
    try:
        events = result.events.assign(**{_POSITION: np.arange(len(result.events), dtype="int64")})
        years = events["date"].dt.year
        for year in sorted(years.unique()):
            part = staging / "events" / f"year={int(year):04d}" / "part-0.parquet"
            part.parent.mkdir(parents=True)
            events.loc[years == year].to_parquet(part, index=False)
        if events.empty:  # the schema, so that an empty dyad reads back with its columns
            (staging / "events").mkdir()
            events.to_parquet(staging / "events" / "empty.parquet", index=False)
        result.rejects.to_parquet(staging / "rejects.parquet", index=False)
        manifest = {
            "format": "GDELT 2.0 events filtered to a dyad by analysis.sources.gdelt.filter_gdelt",
            "version": _MANIFEST_VERSION,
            "filtered_from": result.source,
            "source": source,
            "filter": _criteria_record(criteria),
            "counts": {k: result.counts[k] for k in ("read", "accepted", "rejected", "filtered")},
            "notes": list(result.notes),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return result


def _read_filtered(folder: Path, criteria: _Criteria, source: str) -> LoadResult:
    """Read a folder written by :func:`filter_gdelt`, checking it was made with this filter."""
    label = display_path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{label}/{MANIFEST}: not a readable manifest ({exc})") from exc
    if manifest.get("version") != _MANIFEST_VERSION:
        raise ValueError(
            f"{label}/{MANIFEST}: version {manifest.get('version')!r}, this package reads version "
            f"{_MANIFEST_VERSION}; filter the archive again with filter_gdelt"
        )
    made, asked = manifest["filter"], _criteria_record(criteria)
    if made != asked or manifest.get("source") != source:
        differences = [f"{k}: made with {made.get(k)!r}, asked for {asked[k]!r}" for k in asked if made.get(k) != asked[k]]
        if manifest.get("source") != source:
            differences.append(f"source: made with {manifest.get('source')!r}, asked for {source!r}")
        raise ValueError(
            f"{label} holds GDELT events filtered with other options than this source asks for "
            f"({'; '.join(differences)}); filter the archive again with these options "
            "(filter_gdelt, or python -m analysis.sources.gdelt), or give the source the options it was made with"
        )
    parts = sorted((folder / "events").rglob("*.parquet"))
    if not parts:
        raise ValueError(f"{label}: no events/*.parquet; the folder is incomplete, filter the archive again")
    events = pd.concat([pd.read_parquet(part) for part in parts], ignore_index=True)
    events = events.sort_values(_POSITION, kind="stable").drop(columns=[_POSITION]).reset_index(drop=True)
    rejects = pd.read_parquet(folder / "rejects.parquet")
    counts = manifest["counts"]
    if (len(events), len(rejects)) != (counts["accepted"], counts["rejected"]):
        raise ValueError(
            f"{label}: {len(events)} events and {len(rejects)} rejects where {MANIFEST} says "
            f"{counts['accepted']} and {counts['rejected']}; the folder was changed or is incomplete, filter the archive again"
        )
    events = validate_events(conform_events(events), name=label)
    notes = (*manifest["notes"], f"read from {label}, filtered from {manifest['filtered_from']} by filter_gdelt")
    return LoadResult(
        events=events, rejects=rejects, source=label, read=counts["read"], filtered=counts["filtered"], notes=notes
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m analysis.sources.gdelt ARCHIVE FOLDER --dyad SPEC [--scheduler ADDRESS]``."""
    parser = argparse.ArgumentParser(
        prog="python -m analysis.sources.gdelt",
        description="Filter GDELT 2.0 events files to a dyad (on a Dask cluster if given one) and write "
        "the events as Parquet partitioned by year, for a dyad spec's sources (format: gdelt, path: FOLDER).",
    )
    parser.add_argument("archive", help="a GDELT 2.0 events file (.CSV, .gz, .zip) or a folder of them")
    parser.add_argument("folder", help="the folder to write")
    parser.add_argument("--dyad", required=True, help="the dyad spec (YAML) whose gdelt: block gives the actor codes")
    parser.add_argument("--scheduler", help="address of a Dask scheduler (e.g. tcp://10.0.0.5:8786); default: this machine")
    parser.add_argument("--engine", choices=("dask", "duckdb"), default="dask")
    parser.add_argument("--blocksize", default="64MB", help="bytes per Dask task (default 64MB)")
    parser.add_argument("--all-root-codes", action="store_true", help="keep every CAMEO root code, not only 18-20")
    parser.add_argument("--overwrite", action="store_true", help="replace FOLDER if it exists")
    args = parser.parse_args(argv)

    from analysis.dyads import load_dyad

    options = {"spec": load_dyad(args.dyad), "blocksize": args.blocksize, "progress": True}
    if args.all_root_codes:
        options["root_codes"] = None
    client = None
    if args.scheduler:
        if args.engine != "dask":
            parser.error("--scheduler needs --engine dask")
        from distributed import Client

        client = options["client"] = Client(args.scheduler)
    try:
        result = filter_gdelt(args.archive, args.folder, overwrite=args.overwrite, engine=args.engine, **options)
    finally:
        if client is not None:
            client.close()
    print(result.summary())
    print(f"wrote {args.folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
