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

    A dyad spec may attribute unidentified attackers, in an ``acled:`` section::

        acled:
          attribute:
            - {actor: 'Unidentified Armed Group', target_side: us, side: militias}

    An event whose actor matches ``actor`` (case-insensitive regular expression) and whose
    target belongs to ``target_side`` gets ``attributed_side`` = ``side``;
    :func:`analysis.dyads.assign_sides` uses it when the actor matches no side, and says so.

ACLED's terms forbid redistributing its rows: keep exports under ``data/external/`` (not
committed). ``evidence`` names ACLED's sources only; the ``notes`` text is not copied.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.paths import display_path
from analysis.schema import conform_events, validate_events
from analysis.sources import LoadResult
from analysis.sources.records import rejects_from_problems

__all__ = ["ATTACK_TYPES", "INTER_CODES", "load_acled"]

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

# sub_event_type -> canonical kind
_KINDS = {
    "air/drone strike": "airstrike",
    "shelling/artillery/missile attack": "rocket",
    "remote explosive/landmine/ied": "ied",
    "suicide bomb": "ied",
    "grenade": "other",
    "chemical weapon": "other",
    "armed clash": "shooting",
    "attack": "shooting",
    "government regains territory": "raid",
    "non-state actor overtakes territory": "raid",
}

_REQUIRED = ("event_date", "event_type", "sub_event_type", "actor1", "actor2", "country")
_STATE = "State forces"


def _find_header(path: Path, limit: int = 30) -> int:
    """Number of lines before the header (the first line naming event_date and actor1)."""
    with path.open(encoding="utf-8-sig", errors="replace") as fh:
        for i, line in enumerate(fh):
            if i >= limit:
                break
            cells = [c.strip().strip('"').lower() for c in line.split(",")]
            if "event_date" in cells and "actor1" in cells:
                return i
    raise ValueError(f"{display_path(path)}: no ACLED header (a line naming event_date and actor1) in the first {limit} lines")


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


def _parse_dates(text: pd.Series) -> pd.Series:
    """ISO dates, or ACLED's long form ("01 November 2024"), whichever each value is."""
    iso = pd.to_datetime(text, format="ISO8601", errors="coerce")
    long_form = pd.to_datetime(text, format="%d %B %Y", errors="coerce")
    return iso.fillna(long_form)


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
        ACLED event types kept; others are counted as filtered. None keeps every type.

    Returns
    -------
    LoadResult
        Canonical events with ``actor`` (the initiator), ``target``, ``initiator_reason``,
        ``initiator_known``, ``attributed_side`` and ACLED's ``event_type``, ``inter1``,
        ``inter2``, ``interaction``, ``admin2`` kept; rejects for unreadable dates, missing
        ids and bad counts or coordinates; filtered = events of other types.

    Raises
    ------
    ValueError
        If the file has no ACLED header, or lacks a required column or an event id column
        (the message names the file and the column).
    """
    path = Path(path)
    name = display_path(path)
    skip = _find_header(path)
    raw = pd.read_csv(path, skiprows=skip, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    raw.columns = [c.strip() for c in raw.columns]
    missing = [c for c in _REQUIRED if c not in raw.columns]
    id_col = next((c for c in ("event_id_cnty", "event_id_no_cnty", "data_id") if c in raw.columns), None)
    if missing or id_col is None:
        what = missing or ["event_id_cnty (or event_id_no_cnty)"]
        raise ValueError(f"{name}: not an ACLED export, no column(s) {what}; the file's columns are: {', '.join(raw.columns)}")
    raw = raw.astype("string")
    rows = pd.Series(np.arange(len(raw)) + skip + 2, index=raw.index, dtype="Int64")  # header = line skip+1
    notes = (f"{skip} line(s) before the header were skipped",) if skip else ()

    problems: list[tuple[pd.Series, str, str]] = []
    dates = _parse_dates(raw["event_date"])
    problems.append((dates.isna(), "event_date", "cannot read date (expected 2024-01-31 or 31 January 2024)"))
    problems.append((raw[id_col].isna(), id_col, "missing event id"))
    numbers = {}
    for col in ("fatalities", "latitude", "longitude"):
        if col in raw.columns:
            values = pd.to_numeric(raw[col], errors="coerce")
            problems.append((raw[col].notna() & values.isna(), col, "not a number"))
            numbers[col] = values
    if "fatalities" in numbers:
        f = numbers["fatalities"]
        problems.append(((f < 0) | (f.notna() & (f != f.round())), "fatalities", "not a whole number >= 0"))
    for col, bound in (("latitude", 90), ("longitude", 180)):
        if col in numbers:
            problems.append((numbers[col].abs() > bound, col, f"outside [-{bound}, {bound}]"))

    rejects, bad = rejects_from_problems(problems, raw, rows, name)

    keep = ~bad
    if event_types is not None:
        of_type = raw["event_type"].isin(list(event_types)).fillna(False)
        filtered = int((keep & ~of_type).sum())
        keep &= of_type
    else:
        filtered = 0
    ok = raw.loc[keep.to_numpy()]
    sub = ok["sub_event_type"].str.strip().str.lower()
    etype = ok["event_type"].str.strip()
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
    reason[etype == "Explosions/Remote violence"] = "ACLED codes the attacker as actor1 in remote violence (" + ok["sub_event_type"] + ")"
    reason[etype == "Violence against civilians"] = "ACLED codes the perpetrator as actor1 in violence against civilians"
    reason[regains] = "government regains territory: the state forces acted"
    reason[overtakes] = "non-state actor overtakes territory: the non-state actor acted"
    reason[sub == "armed clash"] = "armed clash: ACLED does not record who initiated; actor1 taken"
    reason = reason.fillna("ACLED " + etype.fillna("event") + ": not an attack; actor1 taken, initiator unknown")

    precision = ok["time_precision"].map({"1": "day", "2": "week", "3": "month"}) if "time_precision" in ok else None
    frame = pd.DataFrame(
        {
            "event_id": source + "-" + ok[id_col],
            "date": dates[keep.to_numpy()],
            "date_precision": precision.fillna("day") if precision is not None else "day",
            "actor": actor,
            "target": target,
            "kind": sub.map(lambda s: _KINDS.get(s, "other"), na_action="ignore").fillna("other"),
            "source_type": ok["sub_event_type"],
            "location": ok.get("location"),
            "admin1": ok.get("admin1"),
            "country": ok["country"],
            "latitude": numbers.get("latitude", pd.Series(np.nan, index=raw.index))[keep.to_numpy()],
            "longitude": numbers.get("longitude", pd.Series(np.nan, index=raw.index))[keep.to_numpy()],
            "fatalities": numbers.get("fatalities", pd.Series(np.nan, index=raw.index))[keep.to_numpy()].astype("Int64"),
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
    return LoadResult(events=events, rejects=rejects, source=name, read=len(raw), filtered=filtered, notes=notes)
