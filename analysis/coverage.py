"""How complete is an event record? Counts per month, and coverage against official running totals.

Coverage ratio
    Our number of events of one side from a statement's ``since`` date to its ``as_of`` date,
    divided by the official count. Between two statements of the same series, the ratio of the
    increments is the coverage of that period. A statement that gives a lower bound ("more than
    160") makes the ratio an upper bound; the table says which.

Series and scope
    A series is one stater's running total from one starting day (the optional ``series`` column;
    by default each ``since`` date is a series). A statement may count one country only (the
    optional ``country`` column, e.g. a monitor's tally of attacks in Syria); then only our events
    in that country are counted against it. Statements without a country count every country.
    A statement may leave out a kind of target it does not count (the optional ``exclude_target``
    column: our events whose ``target`` contains that text, case-insensitively, are not counted;
    e.g. ``convoy`` for a count of attacks on facilities).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["QUALIFIERS", "coverage_table", "load_official_counts", "markdown_section", "monthly_counts"]

QUALIFIERS = ("exact", "at_least", "more_than", "about")


def load_official_counts(path) -> pd.DataFrame:
    """Read a table of official running totals: ``since`` (first day counted), ``as_of``,
    ``count``, ``qualifier``, ``stated_by``, ``sources`` (one or more URLs), ``note``, and
    optionally ``series`` (which statements form one running total; default: the ``since`` date),
    ``country`` (the one country a statement counts; empty: all countries) and ``exclude_target``
    (text of targets the statement does not count; empty: none).

    Raises
    ------
    ValueError
        Naming the file, row and column of a date or count that cannot be read, a qualifier not
        in :data:`QUALIFIERS`, a row without a URL, dates out of order within a series, or a
        series whose rows disagree on ``since``, ``country`` or ``exclude_target``.
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
    series = table["series"] if "series" in table.columns else table["since"]
    series = series.where(series != "", table["since"])
    country = table["country"] if "country" in table.columns else pd.Series("", index=table.index)
    exclude = table["exclude_target"] if "exclude_target" in table.columns else pd.Series("", index=table.index)
    for name, rows in table.groupby(series, sort=False).groups.items():
        for col, values in (("since", table["since"]), ("country", country), ("exclude_target", exclude)):
            if values[rows].nunique() > 1:
                raise ValueError(f"{path}: series {name!r} mixes values of column '{col}': {sorted(values[rows].unique())}")
    if not all(group.is_monotonic_increasing for _, group in as_of.groupby(series, sort=False)):
        raise ValueError(f"{path}: rows of a series must be in date order (column 'as_of')")
    return table.assign(since=since.astype("datetime64[ns]"), as_of=as_of.astype("datetime64[ns]"), count=count.astype("int64"),
                        series=series, country=country, exclude_target=exclude)


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
    country_col: str = "country",
    target_col: str = "target",
) -> pd.DataFrame:
    """Our cumulative count of ``side``'s events against each official running total.

    Parameters
    ----------
    events : DataFrame
        Events with a side and a date (and a country, when a statement counts one country).
    official : DataFrame
        Output of :func:`load_official_counts`; each count runs from ``since`` to ``as_of``,
        within its ``series`` and, where given, its ``country``.
    side : str
        The side the official totals count (e.g. attacks on US forces: the militias).
    side_col, date_col, country_col, target_col : str
        Columns of ``events`` (the target column is read only for statements with an
        ``exclude_target``).

    Returns
    -------
    DataFrame
        One row per statement: ``series``, ``country`` (empty: all countries),
        ``exclude_target`` (empty: none), ``since``,
        ``as_of``, ``official`` (with ``qualifier``), ``ours`` (events from ``since`` to
        ``as_of`` inclusive, in ``country`` if one is given), ``coverage`` (ours / official),
        ``period_start`` (day after the series' previous statement, or ``since``),
        ``official_added``, ``ours_added``, ``period_coverage`` (missing when the official
        increment is not positive), and ``bound``: ``"upper"`` when the official figure is a
        lower bound, else ``"estimate"``.

    Raises
    ------
    ValueError
        If a statement counts one country and ``events`` has no column ``country_col``, or
        leaves out targets and ``events`` has no column ``target_col``.
    """
    series_key = official["series"] if "series" in official.columns else official["since"].astype(str)
    country = official["country"].fillna("") if "country" in official.columns else pd.Series("", index=official.index)
    if (country != "").any() and country_col not in events.columns:
        raise ValueError(f"official counts for one country ({sorted(set(country) - {''})}) need an events column "
                         f"'{country_col}'; the events have: {', '.join(events.columns)}")
    exclude = official["exclude_target"].fillna("") if "exclude_target" in official.columns else pd.Series("",
                                                                                                           index=official.index)
    if (exclude != "").any() and target_col not in events.columns:
        raise ValueError(f"official counts that leave out targets ({sorted(set(exclude) - {''})}) need an events column "
                         f"'{target_col}'; the events have: {', '.join(events.columns)}")
    mine = events.loc[events[side_col] == side]
    ours = np.zeros(len(official), dtype="int64")
    for scope, left_out in dict.fromkeys(zip(country, exclude)):
        in_scope = mine if scope == "" else mine.loc[mine[country_col] == scope]
        if left_out:
            in_scope = in_scope.loc[~in_scope[target_col].astype("string").str.contains(left_out, case=False,
                                                                                        regex=False).fillna(False)]
        dates = np.sort(pd.to_datetime(in_scope[date_col]).dt.normalize().to_numpy(dtype="datetime64[ns]"))
        rows = ((country == scope) & (exclude == left_out)).to_numpy()
        upto = np.searchsorted(dates, official.loc[rows, "as_of"].to_numpy(dtype="datetime64[ns]"), side="right")
        before = np.searchsorted(dates, official.loc[rows, "since"].to_numpy(dtype="datetime64[ns]"), side="left")
        ours[rows] = upto - before
    out = pd.DataFrame(
        {
            "series": series_key.to_numpy(),
            "country": country.to_numpy(),
            "exclude_target": exclude.to_numpy(),
            "since": official["since"].to_numpy(),
            "as_of": official["as_of"].to_numpy(),
            "official": official["count"].to_numpy(),
            "qualifier": official["qualifier"].to_numpy(),
            "ours": ours,
        }
    )
    out["coverage"] = out["ours"] / out["official"].where(out["official"] > 0)
    series = out.groupby("series", sort=False)
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
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    headings = [i for i, line in enumerate(lines) if line.startswith("## ")]
    for n, i in enumerate(headings):
        if lines[i][3:].strip() == heading:
            end = headings[n + 1] if n + 1 < len(headings) else len(lines)
            return "\n".join(lines[i + 1 : end]).strip()
    raise ValueError(f"{path}: no '## {heading}' section; sections are: {[lines[i][3:] for i in headings]}")
