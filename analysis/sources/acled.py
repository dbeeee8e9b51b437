"""ACLED exports -> canonical events, with the initiator of each event inferred and explained.

Reads the current 31-column export and older ones (``event_id_no_cnty``, ``iso3``, ``data_id``),
``inter1``/``inter2``/``interaction`` as ACLED's numeric codes or as text labels, dates as ISO
(``2024-01-31``) or as ACLED's long form (``31 January 2024``), and files with stray lines before
the header (a title or a licence line).

Initiator (who acted)
    ACLED's ``actor1`` is not always the attacker. Rules, by event type (ACLED codebook):

    - Explosions/Remote violence and Violence against civilians: ``actor1`` carried out the
      attack (the codebook codes the perpetrator first in these one-sided events).
    - Battles - Armed clash: ACLED does not record who opened fire; ``actor1`` is kept as the
      actor, ``initiator_known`` is False and ``initiator_reason`` says so.
    - Battles - Government regains territory: the state-forces actor; Non-state actor
      overtakes territory: the non-state actor.
    - Strategic developments, Protests and Riots are not attacks between the sides; they are
      left out (counted as filtered) unless ``event_types`` asks for them, with ``actor1`` as
      actor and the initiator marked unknown.

    ``event_type`` is read ignoring case (``battles`` is ACLED's "Battles", and a note says
    so); an empty or unknown ``event_type`` rejects the record: only a known type is left out
    on purpose.

    A dyad spec may attribute unidentified attackers, in an ``acled:`` section::

        acled:
          attribute:
            - {actor: 'Unidentified Armed Group', target_side: us, side: militias}

    An event whose actor matches ``actor`` (case-insensitive regular expression) and whose
    target belongs to ``target_side`` gets ``attributed_side`` = ``side``;
    :func:`analysis.dyads.assign_sides` uses it when the actor matches no side, and says so.

Kinds come from ``sub_event_type`` through the schema's one synonym table
(:data:`analysis.schema.KIND_SYNONYMS`). A repeated ``event_id_cnty`` rejects the later record,
naming the line of the first.

ACLED's terms forbid redistributing its rows: keep exports under ``data/external/`` (not
committed). ``evidence`` names ACLED's sources only; the ``notes`` text is not copied.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.paths import display_path
from analysis.schema import (
    conform_events,
    normalise_kind,
    require_columns,
    validate_events,
    value_problems,
)
from analysis.sources import LoadResult, OptionError
from analysis.sources.dates import read_dates
from analysis.sources.records import read_csv_records, rejects_from_problems

__all__ = ["ATTACK_TYPES", "EVENT_TYPES", "INTER_CODES", "load_acled"]

#: ACLED actor-type codes (inter1/inter2) and their labels.
INTER_CODES = {
    1: "State forces",
    2: "Rebel group",
    3: "Political militia",
    4: "Identity militia",
    5: "Rioters",
    6: "Protesters",
    7: "Civilians",
    8: "External/Other forces",
}

#: Event types that are attacks between armed actors (the default selection).
ATTACK_TYPES = ("Battles", "Explosions/Remote violence", "Violence against civilians")

#: ACLED's six event types (codebook 2023).
EVENT_TYPES = (*ATTACK_TYPES, "Protests", "Riots", "Strategic developments")

_PRECISION_CODES = {"1": "day", "2": "week", "3": "month"}
_REQUIRED = ("event_date", "event_type", "sub_event_type", "actor1", "actor2", "country")
_STATE = "State forces"


def _is_header(cells: list[str]) -> bool:
    """An ACLED header: a line naming event_date and actor1 (title or licence lines may come first)."""
    names = {c.strip().lower() for c in cells}
    return "event_date" in names and "actor1" in names


def _inter_label(values: pd.Series) -> pd.Series:
    """ACLED actor types as labels, whether the export gives codes (1-8) or labels."""
    text = values.astype("string").str.strip()
    codes = pd.to_numeric(text, errors="coerce")
    labels = codes.map(lambda c: INTER_CODES.get(int(c)) if pd.notna(c) else None, na_action="ignore")
    return labels.astype("string").fillna(text)


def _interaction_label(values: pd.Series) -> pd.Series:
    """ACLED interaction as "<type>-<type>" labels; numeric codes (e.g. 13) are two digits."""
    text = values.astype("string").str.strip()

    def label(v: object) -> object:
        if pd.isna(v) or not re.fullmatch(r"\d{1,2}", str(v)):
            return v
        digits = str(v)
        parts = [INTER_CODES.get(int(d), d) for d in digits]
        return parts[0] + " only" if len(parts) == 1 else "-".join(parts)

    return text.map(label, na_action="ignore").astype("string")


def _attribution(frame: pd.DataFrame, spec) -> pd.Series:
    """``attributed_side`` from the spec's ``acled.attribute`` rules (see module notes)."""
    out = pd.Series(pd.NA, index=frame.index, dtype="string")
    rules = ((spec.raw.get("acled") or {}).get("attribute") or []) if spec is not None else []
    if not rules:
        return out
    from analysis.dyads import assign_sides

    targets = assign_sides(frame[["target"]].rename(columns={"target": "actor"}), spec, target_col=None).events["side"]
    for rule in rules:
        hit = frame["actor"].str.contains(rule["actor"], case=False, regex=True).fillna(False)
        hit &= (targets == rule["target_side"]).fillna(False).to_numpy()
        out[hit & out.isna()] = rule["side"]
    return out


def load_acled(
    path: str | Path,
    *,
    spec=None,
    source: str = "acled",
    event_types: tuple[str, ...] | None = ATTACK_TYPES,
    encoding: str = "utf-8",
) -> LoadResult:
    """Load an ACLED export.

    Parameters
    ----------
    path : str or Path
        A CSV export (current or older layout).
    spec : DyadSpec, optional
        Used for the ``acled.attribute`` rules (see module notes).
    source : str
        Value of the ``source`` column and prefix of ``event_id`` (``<source>-<event_id_cnty>``).
    event_types : tuple of str or None
        ACLED event types kept (of :data:`EVENT_TYPES`); others are counted as filtered. None
        keeps every type.
    encoding : str
        The file's text encoding (default UTF-8).

    Returns
    -------
    LoadResult
        Canonical events with ``actor`` (the initiator), ``target``, ``initiator_reason``,
        ``initiator_known``, ``attributed_side`` and ACLED's ``event_type``, ``inter1``,
        ``inter2``, ``interaction``, ``admin2`` kept; rejects for unreadable dates, missing
        or repeated ids, missing or unknown event types, bad counts or coordinates and broken
        records (wrong field count, unclosed quotes); filtered = events of other types.

    Raises
    ------
    SourceError
        If the file has no ACLED header, or cannot be read.
    ValueError
        If the header lacks a required column or an event id column (the message names the
        file and the column).
    OptionError
        If ``event_types`` names a type ACLED does not have.
    """
    path = Path(path)
    name = display_path(path)
    wanted = None if event_types is None else tuple(event_types)
    if wanted is not None:
        unknown = [t for t in wanted if t not in EVENT_TYPES]
        if unknown:
            raise OptionError("event_types", f"event_types: {', '.join(map(repr, unknown))} not ACLED event type(s); "
                                             f"ACLED's are: {', '.join(EVENT_TYPES)}")
    records = read_csv_records(path, hxl=False, encoding=encoding, header=_is_header,
                               what="ACLED header (a line naming event_date and actor1)")
    raw, rows = records.frame, records.lines
    where = f"{name}: the header (line {records.header_line})"
    require_columns(raw, _REQUIRED, what=where)
    id_col = next((c for c in ("event_id_cnty", "event_id_no_cnty", "data_id") if c in raw.columns), None)
    if id_col is None:
        require_columns(raw, {"event_id_cnty": "ACLED's event id (or event_id_no_cnty, data_id)"}, what=where)
    notes = list(records.notes)

    problems: list[tuple[pd.Series, str, object]] = []
    dates = read_dates(raw["event_date"])
    problems.append((raw["event_date"].isna(), "event_date", "missing date"))
    problems.append((dates["problem"].notna(), "event_date", dates["problem"]))
    problems.append((raw[id_col].isna(), id_col, "missing event id"))
    first_line = rows.groupby(raw[id_col].fillna("").to_numpy()).transform("min")
    problems.append((raw[id_col].duplicated(keep="first") & raw[id_col].notna(), id_col,
                     f"duplicate {id_col}, first at line " + first_line.astype("string")))

    # event types: ACLED's six, read ignoring case; empty or unknown is an error, not a filter
    typed = raw["event_type"].str.lower().map({t.lower(): t for t in EVENT_TYPES})
    problems.append((raw["event_type"].isna(), "event_type", "missing event_type"))
    problems.append((raw["event_type"].notna() & typed.isna(), "event_type",
                     f"unknown event_type (ACLED's are: {', '.join(EVENT_TYPES)})"))
    recased = raw["event_type"].notna() & typed.notna() & (typed != raw["event_type"])
    if recased.any():
        first = int(np.flatnonzero(recased.to_numpy())[0])
        notes.append(f"{int(recased.sum())} record(s) give event_type in another case (line {rows.iat[first]}: "
                     f"{raw['event_type'].iat[first]!r}); read as ACLED's {typed.iat[first]!r}")
    problems.append((raw["sub_event_type"].isna(), "sub_event_type", "missing sub_event_type"))
    # time_precision (ACLED codebook): 1 the day is known, 2 the week, 3 the month
    coded = raw["time_precision"].map(_PRECISION_CODES) if "time_precision" in raw.columns else pd.Series(
        "day", index=raw.index, dtype="string")
    if "time_precision" in raw.columns:
        problems.append((raw["time_precision"].notna() & coded.isna(), "time_precision",
                         "unknown time_precision (ACLED codes 1 day, 2 week, 3 month)"))
    # the coarser of ACLED's code and what the date itself says (2024-01 is a month)
    rank = {"day": 0, "week": 1, "month": 2}
    precision = coded.fillna("day").where(coded.fillna("day").map(rank) >= dates["date_precision"].map(rank).fillna(0),
                                          dates["date_precision"])

    numbers = pd.DataFrame(index=raw.index)
    for col in ("fatalities", "latitude", "longitude"):
        if col in raw.columns:
            numbers[col] = pd.to_numeric(raw[col], errors="coerce")
            problems.append((raw[col].notna() & numbers[col].isna(), col, "not a number"))
    problems.extend(value_problems(numbers))

    rejects, bad = rejects_from_problems(problems, raw, rows, name, broken=records.broken)

    keep = ~bad
    if wanted is not None:
        of_type = typed.isin(list(wanted)).fillna(False)
        filtered = int((keep & ~of_type).sum())
        keep &= of_type
    else:
        filtered = 0
    ok = raw.loc[keep.to_numpy()]
    sub = ok["sub_event_type"].str.strip().str.lower()
    etype = typed[keep.to_numpy()]
    inter1 = _inter_label(ok["inter1"]) if "inter1" in ok else pd.Series(pd.NA, index=ok.index, dtype="string")
    inter2 = _inter_label(ok["inter2"]) if "inter2" in ok else pd.Series(pd.NA, index=ok.index, dtype="string")

    # who acted: see the module notes
    actor1_acts = pd.Series(True, index=ok.index)
    known = etype.isin(["Explosions/Remote violence", "Violence against civilians"]) | sub.isin(
        ["government regains territory", "non-state actor overtakes territory"]
    )
    regains = sub == "government regains territory"
    overtakes = sub == "non-state actor overtakes territory"
    actor1_acts[regains] = (inter1[regains] == _STATE) | (inter2[regains] != _STATE)
    actor1_acts[overtakes] = inter1[overtakes] != _STATE
    flip = ~actor1_acts.astype(bool)
    actor = ok["actor1"].where(~flip, ok["actor2"])
    target = ok["actor2"].where(~flip, ok["actor1"])
    reason = pd.Series(pd.NA, index=ok.index, dtype="string")
    reason[etype == "Explosions/Remote violence"] = ("ACLED codes the attacker as actor1 in remote violence ("
                                                     + ok["sub_event_type"] + ")")
    reason[etype == "Violence against civilians"] = "ACLED codes the perpetrator as actor1 in violence against civilians"
    reason[regains] = "government regains territory: the state forces acted"
    reason[overtakes] = "non-state actor overtakes territory: the non-state actor acted"
    reason[sub == "armed clash"] = "armed clash: ACLED does not record who initiated; actor1 taken"
    reason = reason.fillna("ACLED " + etype.fillna("event") + ": not an attack; actor1 taken, initiator unknown")

    frame = pd.DataFrame(
        {
            "event_id": source + "-" + ok[id_col],
            "date": dates["date"][keep.to_numpy()],
            "time_utc": dates["time_utc"][keep.to_numpy()],
            "date_precision": precision[keep.to_numpy()],
            "actor": actor,
            "target": target,
            "kind": normalise_kind(ok["sub_event_type"]),
            "source_type": ok["sub_event_type"],
            "location": ok.get("location"),
            "admin1": ok.get("admin1"),
            "country": ok["country"],
            "latitude": numbers.get("latitude", pd.Series(np.nan, index=raw.index))[keep.to_numpy()],
            "longitude": numbers.get("longitude", pd.Series(np.nan, index=raw.index))[keep.to_numpy()],
            "fatalities": numbers.get("fatalities", pd.Series(np.nan, index=raw.index))[keep.to_numpy()]
            .astype("Float64").astype("Int64"),
            "source": source,
            "source_id": ok[id_col],
            "url": pd.NA,
            "evidence": ("ACLED sources: " + ok["source"]) if "source" in ok else pd.NA,
            "raw_file": name,
            "raw_row": rows[keep.to_numpy()],
            "initiator_reason": reason,
            "initiator_known": known.to_numpy(),
            "event_type": etype,
            "inter1": inter1,
            "inter2": inter2,
            "interaction": _interaction_label(ok["interaction"]) if "interaction" in ok else pd.NA,
            "admin2": ok.get("admin2"),
        }
    ).reset_index(drop=True)
    frame["attributed_side"] = _attribution(frame, spec)
    events = validate_events(conform_events(frame), name=name)
    return LoadResult(events=events, rejects=rejects, source=name, read=records.read, filtered=filtered, notes=tuple(notes))
