"""Reviewing news candidates, turning the accepted ones into events, and scoring the extractor.

A review file (CSV) records an analyst's decision on each candidate of
:func:`analysis.sources.news.extract_news`:

``candidate_id``
    ``<article file stem>#<n>``, as the candidates table gives it.
``decision``
    ``accept`` or ``reject``.
``note``
    Optional: why.
``date``, ``date_precision``, ``side``, ``actor``, ``kind``, ``location``, ``munitions``, ``fatalities``, ``injuries``
    Optional corrections; an empty cell keeps the extracted value. An accepted candidate whose
    date could not be resolved needs a ``date`` here, or it is rejected with that reason.

Labels (YAML) are what a person read in each article, used to score the extractor::

    articles:
      <file name>:
        published: 2020-11-17        # optional: metadata for files without front matter
        events:
          - {date: 2020-11-17, date_precision: day, side: militias, kind: rocket, ...}

``date: null`` with ``date_unresolved: true`` labels an event the article gives no way to date.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import yaml

from analysis.paths import display_path
from analysis.schema import EVENT_COLUMNS, KINDS, conform_events, make_rejects
from analysis.sources import LoadResult

__all__ = [
    "LABEL_FIELDS",
    "REVIEW_OVERRIDES",
    "Reviewed",
    "Score",
    "apply_reviews",
    "read_labels",
    "read_reviews",
    "review_template",
    "score_extraction",
]

REVIEW_OVERRIDES = ("date", "date_precision", "side", "actor", "kind", "location", "munitions", "fatalities",
                    "injuries")
LABEL_FIELDS = ("date", "date_precision", "side", "kind", "location", "munitions", "munitions_min", "munitions_max",
                "fatalities", "injuries", "role")
_COUNT_FIELDS = ("munitions", "munitions_min", "munitions_max", "fatalities", "injuries")


# --------------------------------------------------------------------------------------------
# Reviews


def read_reviews(path: str | Path) -> pd.DataFrame:
    """Read a review file and check it.

    Raises
    ------
    ValueError
        Naming the file, row and column: a missing ``candidate_id`` or ``decision`` column, a
        decision other than accept/reject, a candidate reviewed twice, a date or count that
        cannot be read, or a kind that is not canonical.
    """
    path = Path(path)
    reviews = pd.read_csv(path, dtype=str, keep_default_na=False)
    where = display_path(path)
    for col in ("candidate_id", "decision"):
        if col not in reviews.columns:
            raise ValueError(f"{where}: review file has no '{col}' column; columns are: {', '.join(reviews.columns)}")
    for col in ("note", *REVIEW_OVERRIDES):
        if col not in reviews.columns:
            reviews[col] = ""
    reviews["decision"] = reviews["decision"].str.strip().str.lower()
    for i, r in reviews.iterrows():
        row = i + 2
        if r["decision"] not in {"accept", "reject"}:
            raise ValueError(f"{where}, row {row}, column decision: {r['decision']!r} is not 'accept' or 'reject'")
        if r["date"] and pd.isna(pd.to_datetime(r["date"], errors="coerce", format="%Y-%m-%d")):
            raise ValueError(f"{where}, row {row}, column date: {r['date']!r} is not a date (YYYY-MM-DD)")
        if r["date_precision"] and r["date_precision"] not in {"day", "week", "month"}:
            raise ValueError(f"{where}, row {row}, column date_precision: {r['date_precision']!r} "
                             "is not day, week or month")
        if r["kind"] and r["kind"] not in KINDS:
            raise ValueError(f"{where}, row {row}, column kind: {r['kind']!r} is not one of {', '.join(KINDS)}")
        for col in ("munitions", "fatalities", "injuries"):
            if r[col] and not r[col].isdigit():
                raise ValueError(f"{where}, row {row}, column {col}: {r[col]!r} is not a whole number")
    dup = reviews["candidate_id"].duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0]) + 2
        raise ValueError(f"{where}, row {row}, column candidate_id: {reviews['candidate_id'][row - 2]!r} "
                         "is reviewed twice")
    reviews.insert(0, "review_row", np.arange(2, len(reviews) + 2))
    reviews.attrs["path"] = where
    return reviews


def review_template(candidates: pd.DataFrame, reviews: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows to paste into a review file for the candidates not yet reviewed (decision empty),
    with the extracted values and evidence beside them for the reviewer."""
    done = set(reviews["candidate_id"]) if reviews is not None else set()
    pending = candidates[~candidates["candidate_id"].isin(done)]
    out = pd.DataFrame({"candidate_id": pending["candidate_id"], "decision": "", "note": ""})
    for col in REVIEW_OVERRIDES:
        out[col] = ""
    shown = pending[["date", "attributed_side", "kind", "location", "munitions", "fatalities", "injuries", "confidence",
                     "flags", "evidence"]]
    return pd.concat([out.reset_index(drop=True), shown.add_prefix("extracted_").reset_index(drop=True)], axis=1)


class Reviewed(NamedTuple):
    """Result of :func:`apply_reviews`: the load (accepted events and rejects with counts) and
    one row per candidate saying what became of it."""

    load: LoadResult
    decisions: pd.DataFrame


def apply_reviews(
    candidates: pd.DataFrame,
    reviews: pd.DataFrame | None,
    *,
    articles: pd.DataFrame | None = None,
    gazetteer=None,
    min_confidence: float | None = None,
    source: str = "news",
) -> Reviewed:
    """Turn reviewed candidates into canonical events.

    Parameters
    ----------
    candidates : DataFrame
        ``extract_news(...).candidates``.
    reviews : DataFrame or None
        From :func:`read_reviews`. A review of a candidate whose article was read but which the
        extractor no longer produces is an error; reviews of articles not read this time (e.g.
        a folder that is absent) are left aside and counted in the notes.
    articles : DataFrame, optional
        ``extract_news(...).articles``: which articles were read.
    gazetteer : Gazetteer, optional
        Gives coordinates, province and country to a ``location`` correction.
    min_confidence : float, optional
        Candidates nobody reviewed are accepted when their confidence is at least this and their
        date is resolved; by default they wait for review (counted as filtered).

    Returns
    -------
    Reviewed
        ``load``: a :class:`LoadResult` with ``read`` = candidates, ``events`` = accepted
        candidates as canonical events (``attributed_side`` carries the side; ``review`` says
        how each was accepted; the candidate's confidence, role and flags become
        ``extraction_confidence``, ``news_role`` and ``news_flags``), ``rejects`` = accepted candidates without a
        usable date, ``filtered`` = candidates rejected by the reviewer or awaiting review.
        ``decisions``: ``candidate_id``, ``decision`` (accepted, rejected by reviewer,
        awaiting review, unusable), ``how`` and the review note.
    """
    reviews = reviews if reviews is not None else _no_reviews()
    where = reviews.attrs.get("path", "reviews")
    read_articles = set(articles["article_id"]) if articles is not None else set(candidates["article_id"])
    stems = {Path(a).stem: a for a in read_articles}
    known = set(candidates["candidate_id"])
    notes: list[str] = []
    aside = 0
    for r in reviews.itertuples(index=False):
        if r.candidate_id in known:
            continue
        stem = str(r.candidate_id).split("#")[0]
        if stem in stems:
            raise ValueError(
                f"{where}, row {r.review_row}, column candidate_id: {r.candidate_id!r} is not a candidate of "
                f"{stems[stem]} (the extractor gives {sorted(c for c in known if c.startswith(stem + '#'))}); "
                "review that article again"
            )
        aside += 1
    if aside:
        notes.append(f"{aside} review(s) of articles not read this time left aside")
    by_id = reviews.set_index("candidate_id")
    rows, rejects, decisions = [], [], []
    for cand in candidates.to_dict("records"):
        cid = cand["candidate_id"]
        review = by_id.loc[cid] if cid in by_id.index else None
        note = review["note"] if review is not None else ""
        if review is not None and review["decision"] == "reject":
            decisions.append((cid, "rejected by reviewer", f"{where} row {review['review_row']}", note))
            continue
        if review is None:
            ok = min_confidence is not None and pd.notna(cand["date"]) and cand["confidence"] >= min_confidence
            if not ok:
                decisions.append((cid, "awaiting review", "", ""))
                continue
            how = f"confidence {cand['confidence']:.2f} >= {min_confidence}"
        else:
            how = f"accepted in {where} row {review['review_row']}"
        event = _corrected(cand, review, gazetteer, where)
        if pd.isna(event["date"]):
            rejects.append({"raw_file": cand["raw_file"], "raw_row": cand["raw_row"], "column": "date",
                            "value": cand["date_rule"],
                            "reason": f"candidate {cid} accepted but its date is unresolved; "
                            f"give a date in the review file ({where})"})
            decisions.append((cid, "unusable", how, note))
            continue
        event["review"] = how
        rows.append(event)
        decisions.append((cid, "accepted", how, note))
    events = conform_events(pd.DataFrame(rows, columns=[*candidates.columns, "review"]))
    keep = [c for c in events.columns if c in EVENT_COLUMNS or c in {
        "attributed_side", "initiator_reason", "claimed_by", "attributed_to", "munitions_min", "munitions_max",
        "candidate_id", "role", "confidence", "flags", "review"}]
    events = events[keep].copy()
    # curated tables have their own "confidence" (high/medium/low): keep the extractor's apart
    events = events.rename(columns={"confidence": "extraction_confidence", "role": "news_role", "flags": "news_flags"})
    events["extraction_confidence"] = pd.to_numeric(events["extraction_confidence"]).astype("Float64")
    for col in ("munitions_min", "munitions_max"):
        events[col] = pd.to_numeric(events[col]).astype("Int64")
    for col in ("attributed_side", "initiator_reason", "claimed_by", "attributed_to", "candidate_id", "news_role",
                "news_flags", "review"):
        events[col] = events[col].astype("string")
    load = LoadResult(
        events=events.reset_index(drop=True),
        rejects=make_rejects(rejects),
        source=source,
        read=len(candidates),
        filtered=sum(d[1] in {"rejected by reviewer", "awaiting review"} for d in decisions),
        notes=tuple(notes + [f"{sum(d[1] == 'awaiting review' for d in decisions)} candidate(s) awaiting review"]),
    )
    decisions_frame = pd.DataFrame(decisions, columns=["candidate_id", "decision", "how", "note"])
    return Reviewed(load, decisions_frame)


def _no_reviews() -> pd.DataFrame:
    """An empty reviews table (no candidate reviewed)."""
    frame = pd.DataFrame(columns=["review_row", "candidate_id", "decision", "note", *REVIEW_OVERRIDES])
    frame.attrs["path"] = "no review file"
    return frame


def _corrected(cand: dict, review, gazetteer, where: str) -> dict:
    event = dict(cand)
    if review is None:
        return event
    for col in REVIEW_OVERRIDES:
        value = review[col]
        if value == "":
            continue
        if col == "date":
            event["date"] = pd.Timestamp(value)
            event["date_precision"] = review["date_precision"] or "day"
        elif col == "side":
            event["attributed_side"] = value
            event["initiator_reason"] = f"news: side set by reviewer ({where})"
        elif col in {"munitions", "fatalities", "injuries"}:
            event[col] = int(value)
            if col == "munitions":
                event["munitions_min"] = event["munitions_max"] = int(value)
        elif col == "location":
            event["location"] = value
            if gazetteer is not None and value in gazetteer.places.index:
                place = gazetteer.places.loc[value]
                event.update(latitude=place["latitude"], longitude=place["longitude"],
                             admin1=place["admin1"] or pd.NA, country=place["country"] or pd.NA)
            else:
                event.update(latitude=pd.NA, longitude=pd.NA)
        elif col != "date_precision":
            event[col] = value
    return event


# --------------------------------------------------------------------------------------------
# Labels and scores


def read_labels(path: str | Path) -> tuple[pd.DataFrame, dict[str, dict]]:
    """Read a labels file.

    Returns
    -------
    (labels, metadata)
        ``labels``: one row per labelled event (``article_id``, ``label_no`` and
        :data:`LABEL_FIELDS`; an unresolvable date is the value ``"unresolved"``);
        ``labels.attrs["articles"]`` lists every labelled article, including those with no
        event. ``metadata``: file name -> ``published``/``url``/``outlet``/``title`` given in
        the labels (for articles without front matter).
    """
    path = Path(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    articles = data.get("articles") or {}
    rows, metadata = [], {}
    for article_id, body in articles.items():
        body = body or {}
        meta = {k: str(body[k]) for k in ("published", "url", "outlet", "title") if body.get(k) not in (None, "")}
        if meta:
            metadata[article_id] = meta
        for i, event in enumerate(body.get("events") or [], start=1):
            unknown = set(event) - {*LABEL_FIELDS, "actor", "date_unresolved", "based_on", "note", "time_utc"}
            if unknown:
                raise ValueError(f"{path}: article {article_id}, event {i}: unknown label field(s) {sorted(unknown)}")
            row = {"article_id": article_id, "label_no": i}
            for name in LABEL_FIELDS:
                row[name] = event.get(name)
            if row["date"] is None and event.get("date_unresolved"):
                row["date"] = "unresolved"
            elif row["date"] is not None:
                row["date"] = str(pd.Timestamp(str(row["date"])).date())
            rows.append(row)
    labels = pd.DataFrame(rows, columns=["article_id", "label_no", *LABEL_FIELDS])
    labels.attrs["articles"] = list(articles)
    return labels, metadata


class Score(NamedTuple):
    """Result of :func:`score_extraction`: ``events`` (one row: articles, labelled, candidates,
    matched, precision, recall), ``fields`` (per field: true and false positives, false
    negatives, precision, recall) and ``matches`` (each candidate with its label, or alone,
    and the fields on which they differ)."""

    events: pd.DataFrame
    fields: pd.DataFrame
    matches: pd.DataFrame

    def table(self) -> pd.DataFrame:
        """Events and fields in one table (``field`` = "events" for the first row)."""
        e = self.events.iloc[0]
        events = pd.DataFrame([{"field": "events", "true_pos": e["matched"],
                                "false_pos": e["candidates"] - e["matched"], "false_neg": e["labelled"] - e["matched"],
                                "precision": e["precision"], "recall": e["recall"]}])
        return pd.concat([events, self.fields], ignore_index=True)


def _predicted(candidates: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"article_id": candidates["article_id"], "candidate_id": candidates["candidate_id"]})
    out["date"] = (candidates["date"].dt.strftime("%Y-%m-%d").astype(object)
                   .where(candidates["date"].notna(), "unresolved"))
    out["date_precision"] = candidates["date_precision"].astype(object)
    out["side"] = candidates["attributed_side"].astype(object)
    for name in ("kind", "location", "role"):
        out[name] = candidates[name].astype(object)
    for name in _COUNT_FIELDS:
        out[name] = candidates[name].astype(object)
    return out.astype(object).where(out.notna(), None)


def _same(a, b) -> bool:
    if a is None or b is None:
        return False
    if isinstance(a, (int, float, np.integer)) or isinstance(b, (int, float, np.integer)):
        try:
            return float(a) == float(b)
        except (TypeError, ValueError):
            return False
    return str(a) == str(b)


def _show(value) -> str:
    """A value for a message: whole numbers without a decimal point, missing as 'none'."""
    if value is None:
        return "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def score_extraction(candidates: pd.DataFrame, labels: pd.DataFrame, *, articles: Iterable[str] | None = None) -> Score:
    """Precision and recall of the candidates against hand labels, for events and per field.

    Candidates and labelled events are matched within each article, greedily by how many of
    date, side, kind and location agree (at least two must). Events: precision = matched
    candidates / candidates, recall = matched labels / labels. Fields: for each field, a true
    positive is a matched pair whose values agree (the label having a value); a false positive
    is a predicted value that is wrong or belongs to an unmatched candidate; a false negative a
    labelled value not predicted correctly. An unresolved date counts as the value
    ``"unresolved"``, so flagging an undatable event scores as right and guessing a date as wrong.

    Parameters
    ----------
    articles : iterable of str, optional
        The articles to score (default: those in ``labels.attrs["articles"]``); candidates from
        other articles are left out.
    """
    scope = set(articles if articles is not None else labels.attrs.get("articles", labels["article_id"]))
    pred = _predicted(candidates[candidates["article_id"].isin(scope)])
    gold = labels[labels["article_id"].isin(scope)].astype(object).where(labels.notna(), None)
    keys = ("date", "side", "kind", "location")
    pairs = []
    for article_id in sorted(scope):
        p = pred[pred["article_id"] == article_id]
        g = gold[gold["article_id"] == article_id]
        options = []
        for pi, prow in p.iterrows():
            for gi, grow in g.iterrows():
                agree = sum(_same(prow[k], grow[k]) for k in keys)
                if agree >= 2:
                    options.append((-agree, pi, gi))
        used_p, used_g = set(), set()
        for _, pi, gi in sorted(options):
            if pi not in used_p and gi not in used_g:
                used_p.add(pi)
                used_g.add(gi)
                pairs.append((pi, gi))
    matched_p = {pi for pi, _ in pairs}
    matched_g = {gi for _, gi in pairs}
    rows = []
    for name in LABEL_FIELDS:
        tp = fp = fn = 0
        for pi, gi in pairs:
            pv, gv = pred.at[pi, name], gold.at[gi, name]
            if gv is not None and _same(pv, gv):
                tp += 1
            else:
                fp += pv is not None
                fn += gv is not None
        fp += int(pred.loc[[i for i in pred.index if i not in matched_p], name].notna().sum())
        fn += int(gold.loc[[i for i in gold.index if i not in matched_g], name].notna().sum())
        rows.append({"field": name, "true_pos": tp, "false_pos": fp, "false_neg": fn,
                     "precision": tp / (tp + fp) if tp + fp else np.nan,
                     "recall": tp / (tp + fn) if tp + fn else np.nan})
    fields = pd.DataFrame(rows)
    events = pd.DataFrame([{
        "articles": len(scope), "labelled": len(gold), "candidates": len(pred), "matched": len(pairs),
        "precision": len(pairs) / len(pred) if len(pred) else np.nan,
        "recall": len(pairs) / len(gold) if len(gold) else np.nan,
    }])
    match_rows = []
    for pi, gi in pairs:
        row = {"article_id": pred.at[pi, "article_id"], "candidate_id": pred.at[pi, "candidate_id"],
               "label_no": gold.at[gi, "label_no"]}
        for name in LABEL_FIELDS:
            row[f"{name}_extracted"], row[f"{name}_label"] = pred.at[pi, name], gold.at[gi, name]
        match_rows.append(row)
    for pi in pred.index.difference(list(matched_p)):
        match_rows.append({"article_id": pred.at[pi, "article_id"], "candidate_id": pred.at[pi, "candidate_id"],
                           "label_no": None})
    for gi in gold.index.difference(list(matched_g)):
        match_rows.append({"article_id": gold.at[gi, "article_id"], "candidate_id": None,
                           "label_no": gold.at[gi, "label_no"]})
    matches = pd.DataFrame(match_rows, columns=["article_id", "candidate_id", "label_no",
                                                *(f"{n}_{part}" for n in LABEL_FIELDS
                                                  for part in ("extracted", "label"))])
    matches["differences"] = [
        ", ".join(f"{n}: {_show(r[n + '_extracted'])} (label {_show(r[n + '_label'])})" for n in LABEL_FIELDS
                  if not _same(r[n + "_extracted"], r[n + "_label"])
                  and not (r[n + "_extracted"] is None and r[n + "_label"] is None))
        if r["candidate_id"] is not None and r["label_no"] is not None
        else ("no label matched" if r["candidate_id"] is not None else "not found")
        for r in matches.astype(object).where(matches.notna(), None).to_dict("records")
    ]
    matches = matches.sort_values(["article_id", "candidate_id"], kind="stable", na_position="last")
    return Score(events, fields, matches.reset_index(drop=True))
