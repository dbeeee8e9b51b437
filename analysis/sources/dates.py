"""How a date is read: the one reader every loader uses for its date columns.

Forms read
    - ISO 8601, year first, always and whatever ``dayfirst`` says (a year-first date is not
      ambiguous): ``2019-10-30``, ``2019/10/30``, ``20191030``; with a time,
      ``2019-10-30T01:30``, ``2019-10-30 01:30:00.000``; with a UTC offset after the time,
      ``2019-10-30T01:30:00+03:00``, ``...Z``, ``... UTC``.
    - A month only: ``2019-10``, ``October 2019``, ``Oct 2019`` -> the first of the month with
      precision ``month``.
    - Month names, in English: ``30 October 2019``, ``30 Oct 2019``, ``30-Oct-2019``,
      ``October 30, 2019`` (ACLED's long form and what spreadsheets write).
    - Day first, only when asked (``dayfirst=True``): ``30/10/2019``, ``30.10.2019``,
      ``30-10-2019``. Without it such a value is refused rather than guessed.
    - With ``date_format`` (a ``strftime`` format), that format and nothing else.

The day
    ``date`` is the calendar day as written: the local day where the event happened (the
    events schema's ``date``). A value with a UTC offset keeps its own day: ``2019-10-30T01:30
    +03:00`` is 30 October, and its instant, 2019-10-29 22:30 UTC, goes to ``time_utc``. A
    time without an offset is local time in an unknown zone: the day is kept, no ``time_utc``.
    Values are read one by one, so a column mixing offsets and plain dates is read whole.

Refused, with the reason
    A year alone (``2020``: events carry day, week or month precision), a day that is not in
    the calendar (``2019-02-30``), a time or offset out of range, a year outside what the
    tables can hold (1678 to 2261: nanosecond timestamps), anything else.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pandas as pd

__all__ = ["read_dates"]

# year first; a time, then an offset, may follow a full date
_ISO = re.compile(
    r"^(?P<y>\d{4})(?:[-/](?P<m>\d{1,2})(?:[-/](?P<d>\d{1,2})"
    r"(?:[T ]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?P<f>[.,]\d+)?)?"
    r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?)?)?)?$",
    flags=re.IGNORECASE,
)
_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_MONTH_NAMES = ("%d %B %Y", "%d %b %Y", "%d-%b-%Y", "%d-%B-%Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y")
_MONTH_ONLY = ("%B %Y", "%b %Y")
_DAY_FIRST = ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y")

#: Years a nanosecond timestamp holds whole (pandas: 1677-09-21 to 2262-04-11).
FIRST_YEAR, LAST_YEAR = 1678, 2261


def _expected(date_format: str | None, dayfirst: bool) -> str:
    if date_format:
        return date_format
    return "YYYY-MM-DD or 31 January 2024" + (", or day first: 31/01/2024" if dayfirst else "")


def _strptime_all(values: pd.Series, formats: tuple[str, ...]) -> pd.Series:
    """The first of ``formats`` that reads each value (vectorised per format); NaT where none does."""
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in formats:
        todo = out.isna()
        if not todo.any():
            break
        out[todo] = pd.to_datetime(values[todo], format=fmt, errors="coerce").astype("datetime64[ns]")
    return out


def _with_zone_format(values: pd.Series, fmt: str) -> pd.DataFrame:
    """Values read with a ``%z`` format, one by one: local day and UTC instant."""
    rows = []
    for v in values:
        try:
            stamp = datetime.strptime(v, fmt)
        except ValueError:
            rows.append((pd.NaT, pd.NaT))
            continue
        utc = stamp.astimezone(UTC).replace(tzinfo=None) if stamp.tzinfo else pd.NaT
        rows.append((pd.Timestamp(stamp.replace(tzinfo=None)), utc))
    return pd.DataFrame(rows, index=values.index, columns=["local", "utc"])


def read_dates(text: pd.Series, *, date_format: str | None = None, dayfirst: bool = False) -> pd.DataFrame:
    """Read date text into local days, their precision and, where an offset says so, UTC times.

    Parameters
    ----------
    text : Series
        Date text (surrounding spaces allowed); missing values stay missing, without a problem
        (whether a missing date is allowed is the caller's rule).
    date_format : str, optional
        A ``strftime`` format used for every value instead of the forms in the module notes.
    dayfirst : bool
        Also read ``DD/MM/YYYY``, ``DD.MM.YYYY`` and ``DD-MM-YYYY``. Year-first dates are read
        as ISO 8601 whatever this says.

    Returns
    -------
    DataFrame
        Indexed like ``text``: ``date`` (datetime64[ns], midnight of the local day),
        ``date_precision`` (``day`` or ``month``), ``time_utc`` (datetime64[ns], naive UTC;
        only for values with a time and a UTC offset) and ``problem`` (why a value cannot be
        read, else missing).

    Notes
    -----
    Each distinct value is read once, so a column of a million rows with a few thousand dates
    costs a few thousand reads.
    """
    text = pd.Series(text, copy=False).astype("string").str.strip().replace("", pd.NA)
    values = pd.Series(text.dropna().unique(), dtype="string")
    values.index = values.to_numpy()
    n = len(values)
    day = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    precision = pd.Series(pd.NA, index=values.index, dtype="string")
    utc = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    problem = pd.Series(pd.NA, index=values.index, dtype="string")
    expected = f"cannot read date (expected {_expected(date_format, dayfirst)})"

    if n and date_format:
        if "%z" in date_format or "%Z" in date_format:
            zoned = _with_zone_format(values.astype(str), date_format)
            day, utc = zoned["local"].astype("datetime64[ns]").dt.normalize(), zoned["utc"].astype("datetime64[ns]")
        else:
            day = pd.to_datetime(values, format=date_format, errors="coerce").astype("datetime64[ns]").dt.normalize()
        has_day = any(code in date_format for code in ("%d", "%j", "%-d"))
        has_month = any(code in date_format for code in ("%m", "%b", "%B", "%-m"))
        precision[day.notna()] = "day" if has_day else "month"
        if not has_month and not has_day:
            problem[day.notna()] = "only the year is known; events carry day, week or month precision"
        problem[day.isna()] = expected
    elif n:
        # the common case first: plain ISO days, read in one pass
        plain = values.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False)
        if plain.any():
            year = pd.to_numeric(values[plain].str.slice(0, 4))
            inside = (year >= FIRST_YEAR) & (year <= LAST_YEAR)
            day[plain] = pd.to_datetime(values[plain].where(inside), format="%Y-%m-%d", errors="coerce").astype("datetime64[ns]")
            precision[plain] = "day"
            bad = plain & day.isna()
            problem[bad & inside.reindex(values.index, fill_value=True)] = "not a calendar date (" + values[bad] + ")"
            outside = plain & ~inside.reindex(values.index, fill_value=True)
            problem[outside] = ("year " + values[outside].str.slice(0, 4)
                                + f" is outside the years the tables can hold ({FIRST_YEAR} to {LAST_YEAR})")
        if not plain.all():
            other = _read_other(values[~plain], expected, dayfirst)
            day[~plain], precision[~plain] = other["date"], other["date_precision"]
            utc[~plain], problem[~plain] = other["time_utc"], other["problem"]
    if n and not date_format and not dayfirst:
        # 31/01/2024 or 01/31/2024: not guessed, but the message says which option reads it
        numeric = (problem == expected).fillna(False) & values.str.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}").fillna(False)
        problem[numeric] = (expected[:-1] + "; a day-first date such as 31/01/2024 needs dayfirst: true in the source "
                            "entry, another form a date_format)")
    # a reading that failed has no day
    day[problem.notna()] = pd.NaT
    precision[problem.notna()] = pd.NA
    utc[problem.notna()] = pd.NaT

    table = pd.DataFrame({"date": day, "date_precision": precision, "time_utc": utc, "problem": problem})
    out = table.reindex(text.fillna("\x00").to_numpy())
    out.index = text.index
    out["date"] = out["date"].astype("datetime64[ns]")
    out["time_utc"] = out["time_utc"].astype("datetime64[ns]")
    out["date_precision"] = out["date_precision"].astype("string")
    out["problem"] = out["problem"].astype("string")
    return out


def _read_other(values: pd.Series, expected: str, dayfirst: bool) -> pd.DataFrame:
    """Read everything but plain ISO days (module notes): ``date``, ``date_precision``,
    ``time_utc`` and ``problem`` for each value."""
    day = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    precision = pd.Series(pd.NA, index=values.index, dtype="string")
    utc = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    problem = pd.Series(pd.NA, index=values.index, dtype="string")
    parts = values.str.extract(_ISO)
    compact = values.str.extract(_COMPACT)
    parts = parts.fillna(compact.reindex(columns=parts.columns))
    iso = parts["y"].notna()
    year = pd.to_numeric(parts["y"], errors="coerce")
    month = pd.to_numeric(parts["m"], errors="coerce")
    dom = pd.to_numeric(parts["d"], errors="coerce")
    out_of_range = iso & ((year < FIRST_YEAR) | (year > LAST_YEAR))
    ok = iso & ~out_of_range
    assembled = (year.astype("Int64").astype("string").str.zfill(4) + "-" + month.fillna(1).astype("Int64").astype("string")
                 + "-" + dom.fillna(1).astype("Int64").astype("string"))
    stamps = pd.to_datetime(assembled.where(ok), format="%Y-%m-%d", errors="coerce").astype("datetime64[ns]")
    year_only = iso & month.isna()
    day[iso & ~year_only] = stamps[iso & ~year_only]
    precision[iso & dom.notna()] = "day"
    precision[iso & dom.isna() & month.notna()] = "month"
    problem[year_only] = "only the year is known (" + values[year_only] + "); events carry day, week or month precision"
    problem[iso & ~year_only & day.isna()] = "not a calendar date (" + values[iso & ~year_only & day.isna()] + ")"

    # a time of day and a UTC offset
    hour = pd.to_numeric(parts["H"], errors="coerce")
    minute = pd.to_numeric(parts["M"], errors="coerce")
    second = pd.to_numeric(parts["S"], errors="coerce").fillna(0)
    fraction = pd.to_numeric(parts["f"].str.replace(",", ".", regex=False), errors="coerce").fillna(0)
    timed = iso & hour.notna()
    bad_time = timed & ((hour > 23) | (minute > 59) | (second > 60))
    problem[bad_time & problem.isna()] = "not a time of day (" + values[bad_time] + ")"
    tz = parts["tz"].str.upper()
    offset_text = tz.str.extract(r"^(?P<sign>[+-])(?P<h>\d{2}):?(?P<m>\d{2})?$")
    sign = offset_text["sign"].map({"+": 1, "-": -1})
    offset_minutes = (pd.to_numeric(offset_text["h"], errors="coerce") * 60
                      + pd.to_numeric(offset_text["m"], errors="coerce").fillna(0)) * sign
    offset_minutes = offset_minutes.where(~tz.isin(["Z", "UTC", "GMT"]), 0)
    bad_offset = timed & tz.notna() & ~((offset_minutes >= -12 * 60) & (offset_minutes <= 14 * 60)).fillna(False)
    problem[bad_offset & problem.isna()] = "not a UTC offset (" + values[bad_offset] + "); offsets run from -12:00 to +14:00"
    zoned = timed & tz.notna() & problem.isna()
    if zoned.any():
        seconds = hour[zoned] * 3600 + minute[zoned] * 60 + second[zoned] + fraction[zoned]
        local = day[zoned] + pd.to_timedelta(seconds, unit="s")
        utc[zoned] = local - pd.to_timedelta(offset_minutes[zoned], unit="m")
    problem[out_of_range] = ("year " + year[out_of_range].astype("Int64").astype("string")
                             + f" is outside the years the tables can hold ({FIRST_YEAR} to {LAST_YEAR})")

    # month names, a month alone, and day-first forms when asked
    rest = ~iso
    if rest.any():
        named = _strptime_all(values[rest], _MONTH_NAMES)
        month_only = _strptime_all(values[rest], _MONTH_ONLY)
        day[rest] = named.fillna(month_only)
        precision[rest & day.notna()] = "day"
        only_month = month_only.notna() & named.isna()
        precision[only_month.index[only_month]] = "month"
        if dayfirst:
            todo = rest & day.isna()
            day[todo] = _strptime_all(values[todo], _DAY_FIRST)
            precision[todo & day.notna()] = "day"
        problem[rest & day.isna()] = expected
    return pd.DataFrame({"date": day, "date_precision": precision, "time_utc": utc, "problem": problem})
