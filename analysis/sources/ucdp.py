"""UCDP Georeferenced Event Dataset (GED) CSV files -> canonical events, initiator inferred.

Reads the GED CSV as UCDP distributes it and the copy on HDX, whose second line is an HXL
hashtag row (``#date+year``, ``#group+name+first``...): that row is detected, skipped, not
counted as a record and mentioned in the load's notes. ``raw_row`` is the line of the file on
which a record starts, so records after a quoted field holding a line break still point at the
right line.

Dates (GED codebook, ``date_prec``)
    GED gives ``date_start`` (the earliest possible day) and ``date_end`` (the latest) and a
    precision code, ``date_prec``: 1 the exact day is known; 2 the event falls in a span of more
    than one but at most six days; 3 only the week is known; 4 only the month is known; 5 only
    a period longer than a month (such as the year) is known. Source: Högbladh, *UCDP GED
    Codebook* version 19.1 (Uppsala University, 2019), variable ``date_prec``, as restated in
    the mapme.biodiversity reference for ``calc_fatalities_ucdp``
    (https://rdrr.io/cran/mapme.biodiversity/src/R/calc_fatalities_ucdp.R, "For temporal
    precision there are levels 1 to 5").

    ``date`` is ``date_start``. ``date_precision`` is the coarser of what the code and the span
    ``date_end - date_start`` say: code 1 / span 0 days -> ``day``; codes 2-3 / span 1-6 days
    -> ``week``; code 4 / span 7-30 days -> ``month``. A record with code 5, or a span of more
    than 30 days, is rejected with its reason: the codebook places it in a period longer than a
    month, and the events table carries no precision coarser than a month. An empty
    ``date_prec`` is judged by the span alone.

Initiator (who acted)
    UCDP's ``side_a`` is not the initiator: in state-based conflict (``type_of_violence`` 1) it
    is the government, in non-state conflict (2) the first-listed group; in one-sided violence
    (3) it is the perpetrator and ``side_b`` is "Civilians". With ``initiator="deaths"``
    (default), for types 1 and 2 the side whose opponent lost more people is taken as the one
    that acted (``deaths_b > deaths_a`` -> ``side_a``; ``deaths_a > deaths_b`` -> ``side_b``);
    equal side deaths leave the initiator unknown: the event is a clash, ``side_a`` is listed
    as actor and ``initiator_known`` is False. With ``initiator="side_a"`` the actor is always
    ``side_a`` and, outside one-sided violence, ``initiator_known`` is False. The initiator goes
    to ``actor``, the other side to ``target`` and the rule applied to ``initiator_reason``.

Other columns
    ``fatalities`` = ``best``, ``fatalities_min`` = ``low``, ``fatalities_max`` = ``high``;
    ``deaths_a``, ``deaths_b``, ``deaths_civilians`` and ``deaths_unknown`` are kept.
    ``kind`` is ``other`` (GED records no weapon or attack type); ``source_type`` is the raw
    ``type_of_violence`` code (1 state-based, 2 non-state, 3 one-sided). ``evidence`` is the
    ``source_headline``, cut to 300 characters.

UCDP GED is licensed CC BY 4.0; cite Sundberg & Melander (2013), "Introducing the UCDP
Georeferenced Event Dataset", *Journal of Peace Research* 50(4).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.paths import display_path
from analysis.schema import (
    conform_events,
    require_columns,
    validate_events,
    value_problems,
)
from analysis.sources import LoadResult, OptionError
from analysis.sources.dates import read_dates
from analysis.sources.records import read_csv_records, rejects_from_problems

__all__ = ["INITIATOR_RULES", "VIOLENCE_TYPES", "load_ucdp"]

#: GED ``type_of_violence`` codes.
VIOLENCE_TYPES = {"1": "state-based conflict", "2": "non-state conflict", "3": "one-sided violence"}

#: Accepted values of ``load_ucdp(initiator=...)``.
INITIATOR_RULES = ("deaths", "side_a")

_REQUIRED = ("id", "type_of_violence", "side_a", "side_b", "date_start", "date_end", "date_prec",
             "best", "low", "high", "deaths_a", "deaths_b")
_OPTIONAL_COUNTS = ("deaths_civilians", "deaths_unknown")
_KEPT_CODES = ("where_prec",)
_KEPT_TEXT = ("conflict_name", "dyad_name")

# date_prec -> rank of precision (0 day, 1 week, 2 month, 3 coarser than a month); see module notes
_PRECISION_OF_CODE = {1: 0, 2: 1, 3: 1, 4: 2, 5: 3}
_PRECISIONS = np.array(["day", "week", "month", "coarser"], dtype=object)
_EVIDENCE_CHARS = 300


def _numbers(text: pd.Series) -> pd.Series:
    """Numbers from text (GED writes some codes as ``645.0``); unreadable -> missing."""
    return pd.to_numeric(text, errors="coerce").astype("Float64")


def _initiators(ok: pd.DataFrame, types: pd.Series, da: pd.Series, db: pd.Series, rule: str) -> pd.DataFrame:
    """``actor``, ``target``, ``initiator_reason`` and ``initiator_known`` (see module notes)."""
    one_sided = (types == "3").to_numpy()
    if rule == "deaths":
        a_acted = (db > da).fillna(False).to_numpy() & ~one_sided
        b_acted = (da > db).fillna(False).to_numpy() & ~one_sided
    else:
        a_acted = b_acted = np.zeros(len(ok), dtype=bool)
    actor = ok["side_a"].where(~b_acted, ok["side_b"])
    target = ok["side_b"].where(~b_acted, ok["side_a"])

    da_text, db_text = da.astype("Int64").astype("string"), db.astype("Int64").astype("string")
    reason = pd.Series(pd.NA, index=ok.index, dtype="string")
    if rule == "deaths":
        reason[:] = ("initiator unknown: equal side deaths (deaths_a " + da_text + " = deaths_b " + db_text
                     + "), a clash; UCDP side_a listed as actor")
        reason[(da.isna() | db.isna()).to_numpy()] = "initiator unknown: side deaths not given; UCDP side_a listed as actor"
        reason[a_acted] = ("side_b lost more (deaths_b " + db_text + " > deaths_a " + da_text
                           + "): UCDP side_a taken as initiator")[a_acted]
        reason[b_acted] = ("side_a lost more (deaths_a " + da_text + " > deaths_b " + db_text
                           + "): UCDP side_b taken as initiator")[b_acted]
    else:
        reason[:] = ("UCDP side_a taken as actor; side_a is not necessarily the initiator (it is the government "
                     "in state-based conflict, the first-listed group otherwise)")
    reason[one_sided] = "one-sided violence (UCDP type 3): side_a is the perpetrator by definition"
    known = one_sided | a_acted | b_acted
    return pd.DataFrame({"actor": actor, "target": target, "initiator_reason": reason,
                         "initiator_known": pd.array(known, dtype="boolean")}, index=ok.index)


def load_ucdp(
    path: str | Path,
    *,
    spec=None,
    source: str = "ucdp",
    initiator: str = "deaths",
    encoding: str = "utf-8",
) -> LoadResult:
    """Load a UCDP GED CSV file (UCDP's own or the HDX copy with an HXL row).

    Parameters
    ----------
    path : str or Path
        The GED CSV.
    spec : DyadSpec, optional
        Accepted for the common loader signature; GED's initiator rules do not need it and
        nothing is filtered (sides, period and theatre are applied later, by
        :func:`analysis.dyads.assign_sides` and :func:`analysis.dyads.within_scope`).
    source : str
        Value of the ``source`` column and prefix of ``event_id`` (``<source>-<id>``).
    initiator : {"deaths", "side_a"}
        How to choose the actor of state-based and non-state events (see module notes):
        ``"deaths"`` takes the side whose opponent lost more people, ``"side_a"`` always takes
        UCDP's ``side_a``. One-sided violence always has ``side_a``, the perpetrator, as actor.
    encoding : str
        The file's text encoding (default UTF-8).

    Returns
    -------
    LoadResult
        ``events``: canonical events, then ``fatalities_min``, ``fatalities_max``,
        ``initiator_reason``, ``initiator_known``, ``side_a``, ``side_b``, ``deaths_a``,
        ``deaths_b``, ``deaths_civilians``, ``deaths_unknown``, ``date_end``, ``date_prec``
        and, when the file has them, ``where_prec``, ``conflict_name``, ``dyad_name``.
        ``rejects``: one row per record that cannot be read (missing or duplicate id, unreadable
        or reversed dates, a date known only to within more than a month, an unknown
        ``type_of_violence``, a missing side, counts that are not whole numbers >= 0 or with
        ``low`` > ``high``, coordinates out of range, a wrong number of fields, lines run
        together by an unclosed quote). ``read``
        counts records (not an HXL row). ``notes`` mention a skipped HXL row and records whose
        ``best`` lies outside ``[low, high]`` (kept as UCDP gives them).

    Raises
    ------
    OptionError
        If ``initiator`` is not one of :data:`INITIATOR_RULES`.
    ValueError
        If the file lacks a GED column this loader needs (the message names the file, the
        columns missing and those present).
    SourceError
        If the file cannot be read (empty, undecodable...; the message names the file).
    """
    if initiator not in INITIATOR_RULES:
        raise OptionError("initiator", f"initiator must be one of {INITIATOR_RULES}, got {initiator!r}")
    path = Path(path)
    name = display_path(path)
    records = read_csv_records(path, hxl=True, encoding=encoding)
    raw, lines = records.frame, records.lines
    require_columns(raw, _REQUIRED, what=f"{name}: the header (line {records.header_line}) of a UCDP GED file")
    notes = list(records.notes)
    if records.hxl_line is not None:
        notes.append(f"line {records.hxl_line} is an HXL hashtag row ({', '.join(records.hxl_tags)}, ...): "
                     "skipped, not counted as a record")

    problems: list[tuple[pd.Series, str, object]] = []
    ids = raw["id"]
    problems.append((ids.isna(), "id", "missing id"))
    first_line = lines.groupby(ids.fillna("").to_numpy()).transform("min")
    problems.append((ids.duplicated(keep="first") & ids.notna(), "id",
                     "duplicate id, first at line " + first_line.astype("string")))

    # dates and their precision: see the module notes (GED codebook, date_prec)
    read_start, read_end = read_dates(raw["date_start"]), read_dates(raw["date_end"])
    start, end = read_start["date"], read_end["date"]
    for col, parsed in (("date_start", read_start), ("date_end", read_end)):
        problems.append((raw[col].isna(), col, "missing date"))
        problems.append((parsed["problem"].notna(), col, parsed["problem"]))
    problems.append((read_start["date_precision"] != "day", "date_start",
                     "not a day (GED gives the first possible day of the event)"))
    span = (end - start).dt.days.astype("Float64")
    problems.append((span < 0, "date_end", "date_end before date_start"))
    code = _numbers(raw["date_prec"])
    problems.append((raw["date_prec"].notna() & ~code.isin(list(_PRECISION_OF_CODE)), "date_prec",
                     "unknown date_prec (GED codes 1-5)"))
    code_rank = code.map(_PRECISION_OF_CODE, na_action="ignore").astype("Float64")
    days = span.fillna(-1).to_numpy(dtype=float)
    span_rank = pd.Series(np.select([days <= 0, days <= 6, days <= 30], [0, 1, 2], 3), index=raw.index,
                          dtype="Float64").where(span.notna() & (span >= 0))
    rank = pd.concat([code_rank, span_rank], axis=1).max(axis=1).fillna(0).astype(int)
    period = raw["date_start"].fillna("?") + " to " + raw["date_end"].fillna("?")
    problems.append((code == 5, "date_prec",
                     "date_prec 5: UCDP knows only a period longer than a month (" + period
                     + "); events carry day, week or month precision"))
    problems.append(((span > 30) & (code != 5).fillna(True), "date_end",
                     "date_start to date_end spans " + span.astype("Int64").astype("string")
                     + " days, more than a month; events carry day, week or month precision"))

    types = raw["type_of_violence"].str.replace(r"\.0$", "", regex=True)
    problems.append((~types.isin(list(VIOLENCE_TYPES)).fillna(False), "type_of_violence",
                     "unknown type_of_violence (expected 1 state-based, 2 non-state or 3 one-sided)"))
    for col in ("side_a", "side_b"):
        problems.append((raw[col].isna(), col, f"missing {col}"))

    # counts and coordinates: unreadable text here, value rules from the schema
    as_canonical = {"best": "fatalities", "low": "fatalities_min", "high": "fatalities_max"}
    count_cols = ["deaths_a", "deaths_b"] + [c for c in _OPTIONAL_COUNTS if c in raw.columns]
    number_cols = ["best", "low", "high", *count_cols] + [c for c in ("latitude", "longitude") if c in raw.columns]
    numbers = pd.DataFrame(index=raw.index)
    for col in number_cols:
        numbers[as_canonical.get(col, col)] = _numbers(raw[col])
        problems.append((raw[col].notna() & numbers[as_canonical.get(col, col)].isna(), col, "not a number"))
    back = {v: k for k, v in as_canonical.items()}
    for mask, column, reason in value_problems(numbers, count_columns=count_cols):
        problems.append((mask, back.get(column, column), reason.replace("fatalities_max", "high")))

    rejects, rejected = rejects_from_problems(problems, raw, lines, name, broken=records.broken)
    keep = ~rejected.to_numpy()
    ok, num = raw.loc[keep], numbers.loc[keep]
    best, low, high = num["fatalities"], num["fatalities_min"], num["fatalities_max"]
    outside = int(((best < low) | (best > high)).fillna(False).sum())
    if outside:
        notes.append(f"{outside} record(s) have best outside [low, high]; kept as UCDP gives them")

    sides = _initiators(ok, types[keep], num["deaths_a"], num["deaths_b"], initiator)
    headline = ok["source_headline"] if "source_headline" in ok else pd.Series(pd.NA, index=ok.index, dtype="string")
    long = headline.str.len() > _EVIDENCE_CHARS
    headline = headline.where(~long.fillna(False), headline.str.slice(0, _EVIDENCE_CHARS - 1) + "…")

    def text(col: str) -> pd.Series:
        return ok[col] if col in ok.columns else pd.Series(pd.NA, index=ok.index, dtype="string")

    def number(col: str) -> pd.Series:
        return num[col] if col in num.columns else pd.Series(pd.NA, index=ok.index, dtype="Float64")

    frame = pd.DataFrame(
        {
            "event_id": source + "-" + ok["id"],
            "date": start[keep],
            "date_precision": _PRECISIONS[rank[keep].to_numpy()],
            "actor": sides["actor"],
            "target": sides["target"],
            "kind": "other",  # GED records no weapon or attack type
            "source_type": types[keep],
            "location": text("where_coordinates"),
            "admin1": text("adm_1"),
            "country": text("country"),
            "latitude": number("latitude"),
            "longitude": number("longitude"),
            "fatalities": best.astype("Int64"),
            "source": source,
            "source_id": ok["id"],
            "url": pd.NA,
            "evidence": headline,
            "raw_file": name,
            "raw_row": lines[keep].to_numpy(),
            "fatalities_min": low.astype("Int64"),
            "fatalities_max": high.astype("Int64"),
            "initiator_reason": sides["initiator_reason"],
            "initiator_known": sides["initiator_known"],
            "side_a": ok["side_a"],
            "side_b": ok["side_b"],
            **{col: number(col).astype("Int64") for col in ("deaths_a", "deaths_b", *_OPTIONAL_COUNTS)},
            "date_end": end[keep].astype("datetime64[ns]"),
            "date_earliest": start[keep].astype("datetime64[ns]"),  # the span, for date_bounds
            "date_latest": end[keep].astype("datetime64[ns]"),
            "date_prec": code[keep].astype("Int64"),
            **{col: _numbers(ok[col]).astype("Int64") for col in _KEPT_CODES if col in ok.columns},
            **{col: ok[col] for col in _KEPT_TEXT if col in ok.columns},
        },
        index=ok.index,
    ).reset_index(drop=True)
    events = validate_events(conform_events(frame), name=name)
    return LoadResult(events=events, rejects=rejects, source=name, read=records.read, notes=tuple(notes))
