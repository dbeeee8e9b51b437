"""How complete is an event record? Counts per month, and coverage against official running totals.

Coverage ratio
    Our number of events of one side from a statement's ``since`` date to its ``as_of`` date,
    divided by the official count. Between two statements of the same series (same ``since``),
    the ratio of the increments is the coverage of that period. A statement that gives a lower
    bound ("more than 160") makes the ratio an upper bound; the table says which.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["QUALIFIERS", "coverage_table", "load_official_counts", "markdown_section", "monthly_counts"]

QUALIFIERS = ("exact", "at_least", "more_than", "about")


def load_official_counts(path) -> pd.DataFrame:
    """Read a table of official running totals: ``since`` (first day counted), ``as_of``,
    ``count``, ``qualifier``, ``stated_by``, ``sources`` (one or more URLs), ``note``.

    Raises
    ------
    ValueError
        Naming the file, row and column of a date or count that cannot be read, a qualifier not
        in :data:`QUALIFIERS`, a row without a URL, or dates out of order within a series.
    """
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    needed = ["since", "as_of", "count", "qualifier", "stated_by", "sources"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: no column(s) {missing}; columns are: {', '.join(table.columns)}")
    as_of = pd.to_datetime(table["as_of"], format="ISO8601", errors="coerce")
    since = pd.to_datetime(table["since"], format="ISO8601", errors="coerce")
    count = pd.to_numeric(table["count"], errors="coerce")
    for i in range(len(table)):
        row = i + 2  # header is row 1
        for col, values in (("since", since), ("as_of", as_of)):
            if pd.isna(values.iat[i]):
                raise ValueError(f"{path}: row {row}, column '{col}': cannot read date {table[col].iat[i]!r}")
        if pd.isna(count.iat[i]) or count.iat[i] < 0 or count.iat[i] != int(count.iat[i]):
            raise ValueError(f"{path}: row {row}, column 'count': not a whole number >= 0: {table['count'].iat[i]!r}")
        if table["qualifier"].iat[i] not in QUALIFIERS:
            raise ValueError(f"{path}: row {row}, column 'qualifier': {table['qualifier'].iat[i]!r} not in {QUALIFIERS}")
        if not table["sources"].iat[i].startswith("http"):
            raise ValueError(f"{path}: row {row}, column 'sources': no URL")
    if not all(group.is_monotonic_increasing for _, group in as_of.groupby(since)):
        raise ValueError(f"{path}: rows of a series (same 'since') must be in date order (column 'as_of')")
    return table.assign(since=since.astype("datetime64[ns]"), as_of=as_of.astype("datetime64[ns]"), count=count.astype("int64"))


def monthly_counts(events: pd.DataFrame, *, by: Sequence[str] = ("side",), date_col: str = "date") -> pd.DataFrame:
    """Events per calendar month, one column per combination of ``by`` values, zero-filled
    from the first to the last month with an event."""
    month = pd.to_datetime(events[date_col]).dt.to_period("M")
    keys = [events[c].fillna("(none)").astype(str) for c in by]
    table = pd.crosstab(month, keys if len(keys) > 1 else keys[0])
    if len(table):
        table = table.reindex(pd.period_range(table.index.min(), table.index.max(), freq="M"), fill_value=0)
    table.index.name = "month"
    return table


def coverage_table(
    events: pd.DataFrame,
    official: pd.DataFrame,
    *,
    side: str,
    side_col: str = "side",
    date_col: str = "date",
) -> pd.DataFrame:
    """Our cumulative count of ``side``'s events against each official running total.

    Parameters
    ----------
    events : DataFrame
        Events with a side and a date.
    official : DataFrame
        Output of :func:`load_official_counts`; each count runs from ``since`` to ``as_of``.
    side : str
        The side the official totals count (e.g. attacks on US forces: the militias).

    Returns
    -------
    DataFrame
        One row per statement: ``since``, ``as_of``, ``official`` (with ``qualifier``),
        ``ours`` (events from ``since`` to ``as_of`` inclusive), ``coverage`` (ours / official),
        ``period_start`` (day after the series' previous statement, or ``since``),
        ``official_added``, ``ours_added``, ``period_coverage`` (missing when the official
        increment is not positive), and ``bound``: ``"upper"`` when the official figure is a
        lower bound, else ``"estimate"``.
    """
    dates = pd.to_datetime(events.loc[events[side_col] == side, date_col]).dt.normalize()
    dates = np.sort(dates.to_numpy(dtype="datetime64[ns]"))
    upto = np.searchsorted(dates, official["as_of"].to_numpy(dtype="datetime64[ns]"), side="right")
    before = np.searchsorted(dates, official["since"].to_numpy(dtype="datetime64[ns]"), side="left")
    out = pd.DataFrame(
        {
            "since": official["since"].to_numpy(),
            "as_of": official["as_of"].to_numpy(),
            "official": official["count"].to_numpy(),
            "qualifier": official["qualifier"].to_numpy(),
            "ours": upto - before,
        }
    )
    out["coverage"] = out["ours"] / out["official"].where(out["official"] > 0)
    series = out.groupby("since", sort=False)
    out["period_start"] = (series["as_of"].shift(1) + pd.Timedelta(days=1)).fillna(out["since"])
    out["official_added"] = (out["official"] - series["official"].shift(1).fillna(0)).astype("int64")
    out["ours_added"] = (out["ours"] - series["ours"].shift(1).fillna(0)).astype("int64")
    out["period_coverage"] = out["ours_added"] / out["official_added"].where(out["official_added"] > 0)
    out["bound"] = np.where(out["qualifier"].isin(["more_than", "at_least"]), "upper", "estimate")
    return out


def markdown_section(path, heading: str) -> str:
    """The text of the ``## <heading>`` section of a Markdown file (up to the next ``## ``).

    Raises
    ------
    ValueError
        If the file has no such heading (the message names the file and lists its headings).
    """
    lines = open(path, encoding="utf-8").read().splitlines()
    headings = [i for i, line in enumerate(lines) if line.startswith("## ")]
    for n, i in enumerate(headings):
        if lines[i][3:].strip() == heading:
            end = headings[n + 1] if n + 1 < len(headings) else len(lines)
            return "\n".join(lines[i + 1 : end]).strip()
    raise ValueError(f"{path}: no '## {heading}' section; sections are: {[lines[i][3:] for i in headings]}")
