"""Per-fatality records (one row per person killed) -> canonical events, one per incident.

Records such as B'Tselem's fatalities database give one row per person killed, with the date
of the incident, who killed the person (``killed_by``), the person's citizenship, the place,
the injury and the weapon. Events are made by aggregation:

Aggregation
    One event per date of incident x perpetrator x place (every place column; a date known
    only to the month, ``2003-01``, makes events of its own, of month precision). ``fatalities``
    is the number of persons, also kept as ``records``; ``actor`` is the perpetrator value as
    written (e.g. "Israeli security forces", "Palestinian civilians"); ``target`` is the most
    common victim citizenship (ties: alphabetical first), with every citizenship and its count
    in ``victims``. Two incidents by the same perpetrator at the same place on the same day
    become one event: the records do not say where one incident ends.

Places
    ``place_cols`` are read in order as ``location``, ``admin1`` and ``country``; for B'Tselem
    these are the locality, the district and the region ("West Bank", "Gaza Strip" or
    "Israel"), the region standing for the country so that a dyad's theatre can name it.

Kind
    From the weapon (``ammunition``), else from the injury (``type_of_injury``), per person;
    the event takes the most common kind of its persons (ties: first in
    :data:`analysis.schema.KINDS`). Rules, first match wins (case-insensitive):

    - a missile fired by state forces (a perpetrator naming forces, army, military or
      soldiers) -> ``airstrike`` (in these records such missiles are fired from the air, over
      Gaza mostly); a missile fired by anyone else -> ``missile``;
    - rockets (Qassam, Grad) -> ``rocket``; mortar fire -> ``mortar``;
    - shells (tank or artillery, flechette, phosphorus) -> ``rocket``, as the schema's synonym
      table files shelling and artillery under indirect fire;
    - explosive belts, car bombs -> ``ied``; a bomb -> ``ied`` when not set by state forces
      (whose bombs may be aerial or demolition charges: ``other``);
    - live ammunition, bullets, rounds -> ``shooting``;
    - weapon unknown: gunfire -> ``shooting``, shelling -> ``rocket``, explosion -> ``ied``;
    - anything else (knife, vehicle, beating, grenade...) -> ``other``.

    Note that B'Tselem writes "gunfire" as the injury of most missile and shell deaths, so the
    weapon decides first. ``source_type`` lists the raw ``injury/weapon`` values of the event.

Ids and provenance
    ``event_id`` is ``<source>-<date>-<n>``, ``n`` numbering the day's events after sorting
    them by perpetrator, country, admin1 and location, so that it does not depend on the order
    of the file's rows. ``raw_row`` is the first line of the file contributing to the event;
    ``first_death_date`` / ``last_death_date`` span the persons' dates of death. ``evidence``
    is a summary written by the loader (no text is copied from the records).

Accounting
    ``read`` counts person rows. Rows that cannot be used (missing or unreadable date of the
    incident, missing perpetrator, wrong number of fields) go to the rejects table. The other
    rows become events: each event counts once as accepted and its other rows as ``merged``,
    so ``read == events + rejected + merged``; a note says how many rows made how many events.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.paths import display_path
from analysis.schema import KINDS, conform_events, require_columns, validate_events
from analysis.sources import LoadResult, OptionError
from analysis.sources.dates import read_dates
from analysis.sources.records import read_csv_records, rejects_from_problems

__all__ = ["load_fatalities", "person_kinds"]

_FORCES = re.compile(r"forces|army|military|soldier", flags=re.IGNORECASE)

# weapon patterns -> kind, first match wins; None = decided by the perpetrator (module notes)
_WEAPON_KINDS: tuple[tuple[str, str | None], ...] = (
    (r"missile", None),
    (r"rocket|qassam|\bgrad\b", "rocket"),
    (r"mortar", "mortar"),
    (r"shell", "rocket"),
    (r"explosive belt|car bomb|suicide", "ied"),
    (r"\bbomb\b", None),
    (r"live ammunition|bullet|rounds|calib", "shooting"),
)
_INJURY_KINDS: tuple[tuple[str, str], ...] = (
    (r"gunfire|shot", "shooting"),
    (r"shelling", "rocket"),
    (r"explosion", "ied"),
)
_UNKNOWN = {"", "unknown", "n/a", "na"}


def person_kinds(weapon: pd.Series, injury: pd.Series, perpetrator: pd.Series) -> pd.Series:
    """The kind of each person's death, by the rules in the module notes.

    Parameters
    ----------
    weapon, injury, perpetrator : Series
        Per person: the weapon (``ammunition``), the injury (``type_of_injury``) and who killed
        (``killed_by``); missing or "Unknown" weapons fall back on the injury.

    Returns
    -------
    Series of string
        A kind from :data:`analysis.schema.KINDS` for every person.
    """
    weapon = weapon.astype("string").str.strip().str.lower().fillna("")
    injury = injury.astype("string").str.strip().str.lower().fillna("")
    forces = perpetrator.astype("string").str.contains(_FORCES).fillna(False).to_numpy()
    kind = pd.Series(pd.NA, index=weapon.index, dtype="string")
    for pattern, value in _WEAPON_KINDS:
        hit = (weapon.str.contains(pattern, regex=True).to_numpy()) & kind.isna().to_numpy()
        if value is None and pattern == "missile":
            kind[hit & forces] = "airstrike"
            kind[hit & ~forces] = "missile"
        elif value is None:  # a bomb
            kind[hit & forces] = "other"
            kind[hit & ~forces] = "ied"
        else:
            kind[hit] = value
    unknown_weapon = weapon.isin(_UNKNOWN).to_numpy()
    for pattern, value in _INJURY_KINDS:
        hit = unknown_weapon & injury.str.contains(pattern, regex=True).to_numpy() & kind.isna().to_numpy()
        kind[hit] = value
    return kind.fillna("other")


def _most_common(keys: pd.Series, values: pd.Series, *, order: Sequence[str] | None = None) -> tuple[pd.Series, pd.Series]:
    """Per key: the most common value, and every value with its count ("a 3; b 1").

    Ties go to the value first in ``order`` when given, else to the alphabetically first.
    Missing values are not counted.
    """
    table = pd.DataFrame({"key": keys.to_numpy(), "value": values.astype("string").to_numpy()}).dropna()
    counts = table.groupby(["key", "value"]).size().rename("n").reset_index()
    rank = counts["value"].map({v: i for i, v in enumerate(order)}) if order is not None else counts["value"]
    counts = counts.assign(rank=rank).sort_values(["key", "n", "rank"], ascending=[True, False, True], kind="stable")
    top = counts.drop_duplicates("key").set_index("key")["value"]
    listed = (counts["value"] + " " + counts["n"].astype("string")).groupby(counts["key"]).agg("; ".join)
    return top, listed


def load_fatalities(
    path: str | Path,
    *,
    spec=None,
    source: str = "fatalities",
    date_col: str = "date_of_event",
    perpetrator_col: str = "killed_by",
    victim_col: str = "citizenship",
    place_cols: Sequence[str] = ("event_location", "event_location_district", "event_location_region"),
    death_date_col: str | None = "date_of_death",
    weapon_col: str | None = "ammunition",
    injury_col: str | None = "type_of_injury",
    encoding: str = "utf-8",
) -> LoadResult:
    """Load per-fatality records (one row per person killed) as events, one per incident.

    Parameters
    ----------
    path : str or Path
        A CSV file with a header, one row per person killed (B'Tselem layout by default).
    spec : DyadSpec, optional
        Accepted for the common loader signature; not used (the perpetrator is named by the
        records, and sides, period and theatre are applied later).
    source : str
        Value of the ``source`` column and prefix of ``event_id``.
    date_col : str
        Date of the incident (``YYYY-MM-DD``); the event's date.
    perpetrator_col : str
        Who killed the person; the event's ``actor``.
    victim_col : str
        The person's citizenship (or side); the event's ``target`` is the most common one.
    place_cols : sequence of str
        Up to three columns read as ``location``, ``admin1`` and ``country``, in that order;
        all of them are part of the aggregation key.
    death_date_col : str or None
        Date of death, summarised as ``first_death_date`` / ``last_death_date``; None to skip.
    weapon_col, injury_col : str or None
        Weapon and injury, from which ``kind`` is set (module notes); None to skip.
    encoding : str
        The file's text encoding (default UTF-8).

    Returns
    -------
    LoadResult
        ``events``: canonical events (``date_precision`` ``day``), then ``records`` (persons
        behind the event), ``first_death_date``, ``last_death_date``, ``victims``,
        ``initiator_reason`` and ``initiator_known``. ``rejects``: one row per unusable person
        row. ``read`` = person rows; ``merged`` = accepted person rows minus events.

    Raises
    ------
    OptionError
        If ``place_cols`` has more than three columns.
    ValueError
        If a named column is not in the file; the message names the file and the column.
    SourceError
        If the file cannot be read (empty, undecodable...; the message names the file).
    """
    path = Path(path)
    name = display_path(path)
    place_cols = (place_cols,) if isinstance(place_cols, str) else tuple(place_cols)
    if len(place_cols) > 3:
        raise OptionError("place_cols", f"place_cols gives {len(place_cols)} columns; at most 3 (location, admin1, country)")
    records = read_csv_records(path, hxl=False, encoding=encoding)
    raw, lines = records.frame, records.lines
    named = {"date_col": date_col, "perpetrator_col": perpetrator_col, "victim_col": victim_col,
             **{f"place_cols[{i}]": c for i, c in enumerate(place_cols)},
             "death_date_col": death_date_col, "weapon_col": weapon_col, "injury_col": injury_col}
    require_columns(raw, {col: arg for arg, col in named.items() if col is not None},
                    what=f"{name}: the header (line {records.header_line})")

    parsed = read_dates(raw[date_col])
    dates = parsed["date"]
    problems = [
        (raw[date_col].isna(), date_col, "missing date"),
        (parsed["problem"].notna(), date_col, parsed["problem"]),
        (raw[perpetrator_col].isna(), perpetrator_col, "missing perpetrator"),
    ]
    rejects, rejected = rejects_from_problems(problems, raw, lines, name, broken=records.broken)
    keep = ~rejected.to_numpy()
    persons = raw.loc[keep]
    notes = list(records.notes)

    def column(col: str | None) -> pd.Series:
        return persons[col] if col is not None else pd.Series(pd.NA, index=persons.index, dtype="string")

    death = pd.Series(pd.NaT, index=persons.index, dtype="datetime64[ns]")
    if death_date_col is not None:
        death = read_dates(persons[death_date_col])["date"]
        unreadable = int((persons[death_date_col].notna() & death.isna()).sum())
        if unreadable:
            notes.append(f"{unreadable} accepted row(s) have an unreadable {death_date_col}; left out of the death dates")
    weapon, injury = column(weapon_col), column(injury_col)
    raw_type = injury.str.cat(weapon, sep="/").fillna(injury).fillna(weapon)  # "gunfire/live ammunition"
    places = [column(c) for c in place_cols] + [column(None)] * (3 - len(place_cols))
    p = pd.DataFrame(
        {
            "date": dates[keep],
            "precision": parsed["date_precision"][keep],
            "actor": persons[perpetrator_col],
            "country": places[2],
            "admin1": places[1],
            "location": places[0],
            "line": lines[keep].to_numpy(),
            "victim": persons[victim_col],
            "kind": person_kinds(weapon, injury, persons[perpetrator_col]),
            "raw_type": raw_type,
            "death": death.astype("datetime64[ns]"),
        }
    )
    # one event per date x perpetrator x place; groups numbered in sorted order (see notes)
    key_cols = ["date", "precision", "actor", "country", "admin1", "location"]
    p = p.sort_values(key_cols + ["line"], kind="stable", na_position="last").reset_index(drop=True)
    p["key"] = p.groupby(key_cols, sort=False, dropna=False).ngroup()
    grouped = p.groupby("key", sort=True)
    events = p.drop_duplicates("key").set_index("key")[key_cols]
    events["records"] = grouped.size()
    events["raw_row"] = grouped["line"].min()
    events["first_death_date"] = grouped["death"].min()
    events["last_death_date"] = grouped["death"].max()
    events["target"], events["victims"] = _most_common(p["key"], p["victim"])
    events["kind"] = _most_common(p["key"], p["kind"], order=KINDS)[0]
    raw_types = p.groupby(["key", "raw_type"]).size().rename("n").reset_index()
    raw_types = raw_types.sort_values(["key", "n", "raw_type"], ascending=[True, False, True], kind="stable")
    events["source_type"] = raw_types.groupby("key")["raw_type"].agg("; ".join)

    n = events.groupby("date").cumcount() + 1
    event_id = source + "-" + events["date"].dt.strftime("%Y-%m-%d") + "-" + n.astype("string")
    killed = events["records"].astype("string")
    frame = pd.DataFrame(
        {
            "event_id": event_id,
            "date": events["date"],
            "date_precision": events["precision"],
            "actor": events["actor"],
            "target": events["target"],
            "kind": events["kind"].fillna("other"),
            "source_type": events["source_type"],
            "location": events["location"],
            "admin1": events["admin1"],
            "country": events["country"],
            "fatalities": events["records"].astype("Int64"),
            "source": source,
            "source_id": event_id,
            "url": pd.NA,
            "evidence": killed + " killed by " + events["actor"] + " (" + events["victims"].fillna("victims not given")
            + ")" + (": " + events["source_type"]).fillna(""),
            "raw_file": name,
            "raw_row": events["raw_row"].astype("Int64"),
            "records": events["records"].astype("Int64"),
            "first_death_date": events["first_death_date"],
            "last_death_date": events["last_death_date"],
            "victims": events["victims"],
            "initiator_reason": f"{perpetrator_col} names who killed",
            "initiator_known": pd.array(np.ones(len(events), dtype=bool), dtype="boolean"),
        }
    ).reset_index(drop=True)
    accepted_rows = int(keep.sum())
    notes.insert(0, f"{accepted_rows:,} person rows aggregated into {len(frame):,} events "
                    f"(one per {date_col} x {perpetrator_col} x place)")
    result_events = validate_events(conform_events(frame), name=name)
    return LoadResult(events=result_events, rejects=rejects, source=name, read=records.read,
                      merged=accepted_rows - len(frame), notes=tuple(notes))
