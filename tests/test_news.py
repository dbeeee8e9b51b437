"""News ingestion: every extraction pattern on short hand-made articles (our own text), the
labelled hand-made set, the three real seed reports (read from ../shared/seeds, skipped when
absent), review, merge and scoring. Expected values are read off the texts by hand."""

import textwrap

import pandas as pd
import pytest

from analysis.dedup import dedup_events
from analysis.dyads import assign_sides, load_dyad
from analysis.newsreview import apply_reviews, read_labels, read_reviews, score_extraction
from analysis.sources import load_source
from analysis.sources.news import extract_news, load_gazetteer, read_article, split_sentences

from .conftest import ROOT, SHARED

NEWS = ROOT / "data/raw/us-iran-proxies/news"
SEEDS = SHARED / "seeds"


@pytest.fixture(scope="module")
def spec():
    return load_dyad(ROOT / "dyads/us-iran-proxies.yaml")


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer(ROOT / "dyads/gazetteers/us-iran-proxies.csv")


def article(tmp_path, body, published="2020-11-17", name="a.md"):
    front = f"---\npublished: {published}\n---\n" if published else ""
    path = tmp_path / name
    path.write_text(front + textwrap.dedent(body).strip() + "\n", encoding="utf-8")
    return path


def extract(tmp_path, spec, gazetteer, body, published="2020-11-17"):
    return extract_news(article(tmp_path, body, published), spec, gazetteer=gazetteer)


def one(found):
    assert len(found.candidates) == 1, found.mentions[["sentence", "status"]]
    return found.candidates.iloc[0]


# ---- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("published", "phrase", "date", "precision"),
    [
        ("2020-11-20", "on 17 November 2020", "2020-11-17", "day"),
        ("2020-11-20", "on November 17, 2020", "2020-11-17", "day"),
        ("2023-12-05", "on Dec. 3, 2023", "2023-12-03", "day"),
        ("2020-11-20", "on 2020-11-17", "2020-11-17", "day"),
        ("2021-07-06", "just before dawn June 28", "2021-06-28", "day"),
        ("2021-01-04", "on December 30", "2020-12-30", "day"),  # no year: the latest not after publication
        ("2020-11-17", "on Tuesday", "2020-11-17", "day"),  # published on a Tuesday: that day
        ("2020-11-17", "early Sunday", "2020-11-15", "day"),
        ("2023-12-08", "This Friday", "2023-12-08", "day"),
        ("2020-11-17", "last Tuesday", "2020-11-10", "day"),
        ("2023-12-08", "on Monday, December 4", "2023-12-04", "day"),
        ("2020-11-17", "overnight", "2020-11-17", "day"),
        ("2020-11-17", "yesterday", "2020-11-16", "day"),
        ("2020-11-17", "last night", "2020-11-16", "day"),
        ("2020-11-17", "three days ago", "2020-11-14", "day"),
        ("2021-07-06", "last week", "2021-07-01", "week"),  # the Thursday of 28 June - 4 July
        ("2020-11-17", "In January", "2020-01-15", "month"),
        ("2020-11-17", "in mid-October", "2020-10-15", "month"),
    ],
)
def test_dates(tmp_path, spec, gazetteer, published, phrase, date, precision):
    path = article(tmp_path, f"Four rockets struck Ain al-Asad air base {phrase}.", published)
    c = one(extract_news(path, spec, gazetteer=gazetteer))
    assert (str(c["date"].date()), c["date_precision"]) == (date, precision)
    # the span is the date expression: the phrase less a leading "on" / "in" / "just before
    # dawn", except "on <weekday>", which is read whole
    start, end = map(int, c["date_span"].split("-"))
    span = path.read_text(encoding="utf-8")[start:end]
    lead = next((w for w in ("on ", "in ", "just before dawn ") if phrase.startswith(w)), "")
    weekday = phrase[len(lead):].split(",")[0].split()[0].endswith("day") and lead == "on "
    assert span == (phrase if weekday else phrase[len(lead):])


def test_hours_before_takes_the_date_of_the_event_before(tmp_path, spec, gazetteer):
    found = extract(tmp_path, spec, gazetteer, """
        An armed drone targeted the US Embassy in Baghdad on the night of July 6.
        Just hours before, three rockets hit Ain al-Asad air base.""", "2021-07-06")
    c = found.candidates.set_index("kind")
    assert str(c.at["drone", "date"].date()) == str(c.at["rocket", "date"].date()) == "2021-07-06"
    assert "+0 days from event 1" in c.at["rocket", "date_rule"]


def test_relative_date_without_publication_date_is_flagged_not_guessed(tmp_path, spec, gazetteer):
    c = one(extract(tmp_path, spec, gazetteer, "Three rockets hit the US Embassy in Baghdad on Tuesday.", published=None))
    assert pd.isna(c["date"]) and pd.isna(c["date_precision"])
    assert "date unresolved: 'on Tuesday' is relative and the article has no publication date" in c["flags"]
    assert c["confidence"] <= 0.6


def test_dateline_gives_the_publication_date(tmp_path, spec, gazetteer):
    found = extract(tmp_path, spec, gazetteer, "Staff report\nJuly 6, 2021\nThree rockets hit Ain al-Asad on Tuesday.", None)
    assert found.articles.loc[0, "published_from"] == "dateline"
    assert str(one(found)["date"].date()) == "2021-07-06"


def test_statement_dates_are_not_event_dates(tmp_path, spec, gazetteer):
    c = one(extract(tmp_path, spec, gazetteer, """
        Four rockets hit Camp Taji on Sunday.
        Three soldiers were killed, and their funerals were held on Monday, November 16.""", "2020-11-17"))
    assert str(c["date"].date()) == "2020-11-15"
    assert c["fatalities"] == 3


# ---- sides ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "side", "actor", "flag"),
    [
        ("Four rockets hit Camp Taji on Tuesday in an attack claimed by Kataib Hezbollah.", "militias", "Kataib Hezbollah", None),
        ("Kataib Hezbollah claimed responsibility for four rockets on Camp Taji on Tuesday.",
         "militias", "Kataib Hezbollah", None),
        ("Harakat al-Nujaba fired four rockets at Camp Taji on Tuesday.", "militias", "Nujaba", None),
        ("The Islamic Resistance in Iraq launched a drone at Erbil air base on Tuesday.",
         "militias", "Islamic Resistance in Iraq", None),
        ("Iran-backed militias fired four rockets at Camp Taji on Tuesday.", "militias", "Iran-backed militias", None),
        ("Six rockets were fired by the Ashab al-Kahf group on Tuesday at Camp Taji.", "militias", "Ashab al-Kahf group", None),
        ("US airstrikes hit Jurf al-Sakhar on Tuesday.", "us", "US", None),
        ("US Central Command said on Tuesday that it had carried out a drone strike near Kirkuk.",
         "us", "US Central Command", None),
        ("Three rockets were fired at the US Embassy in Baghdad on Tuesday.", "militias", None, "side inferred from target"),
        ("A drone hit Tower 22 on Tuesday.", "militias", None, "side inferred from target: Tower 22 is held by us"),
    ],
)
def test_sides(tmp_path, spec, gazetteer, sentence, side, actor, flag):
    c = one(extract(tmp_path, spec, gazetteer, sentence))
    assert c["attributed_side"] == side
    assert (None if pd.isna(c["actor"]) else c["actor"]) == actor
    if flag:
        assert flag in c["flags"]
    else:
        assert pd.isna(c["flags"]) or "side" not in c["flags"]


def test_blamed_and_claimed_are_kept_apart(tmp_path, spec, gazetteer):
    c = one(extract(tmp_path, spec, gazetteer, """
        Ballistic missiles struck Ain al-Asad air base on Saturday.
        The Islamic Resistance in Iraq claimed responsibility, while US officials blamed Kataib Hezbollah."""))
    got = (c["attributed_side"], c["claimed_by"], c["attributed_to"])
    assert got == ("militias", "Islamic Resistance in Iraq", "Kataib Hezbollah")


# ---- kinds and counts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "kind", "munitions", "low", "high"),
    [
        ("four rockets", "rocket", 4, 4, 4),
        ("6 Katyusha rockets", "rocket", 6, 6, 6),
        ("about seven mortar shells", "mortar", 7, 7, 7),
        ("at least three rockets", "rocket", 3, 3, None),
        ("three to five rockets", "rocket", 3, 3, 5),
        ("an armed drone", "drone", 1, 1, 1),
        ("a one-way attack drone", "drone", 1, 1, 1),
        ("an explosive-laden drone", "drone", 1, 1, 1),
        ("two ballistic missiles", "missile", 2, 2, 2),
    ],
)
def test_kinds_and_munitions(tmp_path, spec, gazetteer, phrase, kind, munitions, low, high):
    c = one(extract(tmp_path, spec, gazetteer, f"Militias fired {phrase} at Ain al-Asad air base on Tuesday."))
    assert (c["kind"], c["munitions"], c["munitions_min"]) == (kind, munitions, low)
    assert (None if pd.isna(c["munitions_max"]) else c["munitions_max"]) == high


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        ("US airstrikes hit Abu Kamal on Tuesday.", "airstrike"),
        ("US air strikes hit Abu Kamal on Tuesday.", "airstrike"),
        ("A US drone strike hit a car near Baghdad airport on Tuesday.", "drone_strike"),
    ],
)
def test_strike_kinds(tmp_path, spec, gazetteer, sentence, kind):
    assert one(extract(tmp_path, spec, gazetteer, sentence))["kind"] == kind


def test_counts_from_several_sentences_keep_the_range(tmp_path, spec, gazetteer):
    c = one(extract(tmp_path, spec, gazetteer, """
        Four rockets struck the Green Zone in Baghdad on Tuesday.
        A militia channel said six rockets were fired by Ashab al-Kahf."""))
    assert (c["munitions"], c["munitions_min"], c["munitions_max"]) == (4, 4, 6)


# ---- places --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("place", "location"),
    [
        ("the Green Zone", "Green Zone"),
        ("the US Embassy in Baghdad", "US Embassy Baghdad"),
        ("the embassy in Baghdad's Green Zone", "US Embassy Baghdad"),  # the most specific place
        ("Ain al-Asad air base in Anbar province", "Ain al-Asad Air Base"),
        ("Erbil airport", "Erbil Air Base"),
        ("the Union III base", "Union III"),
        ("Tower 22 in Jordan", "Tower 22"),
        ("the al-Tanf garrison", "Al-Tanf Garrison"),
        ("Kirkuk", "Kirkuk"),
        ("Baghdad airport", "Baghdad International Airport"),
    ],
)
def test_places(tmp_path, spec, gazetteer, place, location):
    c = one(extract(tmp_path, spec, gazetteer, f"Militias fired three rockets at {place} on Tuesday."))
    assert c["location"] == location
    row = gazetteer.places.loc[location]
    assert c["country"] == row["country"]


def test_launch_point_is_not_the_target(tmp_path, spec, gazetteer):
    c = one(extract(tmp_path, spec, gazetteer, """
        An armed drone targeted the US Embassy in Baghdad on Tuesday.
        The drone was launched from a house near the airport in Baghdad."""))
    assert c["location"] == "US Embassy Baghdad"


# ---- casualties ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fatalities", "injuries"),
    [
        ("The attack killed two soldiers and wounded at least five people.", 2, 5),
        ("A child was killed and three people were wounded.", 1, 3),
        ("The bombing resulted in the death of a child.", 1, None),
        ("The attack left no casualties.", 0, 0),
        ("There were no injuries.", None, 0),
        ("No one was killed or injured.", 0, 0),
        ("Five people were injured, injuring five.", None, 5),
    ],
)
def test_casualties(tmp_path, spec, gazetteer, text, fatalities, injuries):
    c = one(extract(tmp_path, spec, gazetteer, f"Three rockets hit Ain al-Asad on Tuesday. {text}"))
    assert (None if pd.isna(c["fatalities"]) else c["fatalities"]) == fatalities
    assert (None if pd.isna(c["injuries"]) else c["injuries"]) == injuries


# ---- events, roles, what is not an event ---------------------------------------------------


def test_main_and_background(tmp_path, spec, gazetteer):
    found = extract(tmp_path, spec, gazetteer, """
        Three rockets hit Ain al-Asad air base on Tuesday.
        In January, a US drone strike killed two commanders near Baghdad airport.""")
    roles = found.candidates.set_index("kind")["role"]
    assert roles.to_dict() == {"rocket": "main", "drone_strike": "background"}


def test_no_dyad_event_gives_no_candidate(tmp_path, spec, gazetteer):
    found = extract(tmp_path, spec, gazetteer, """
        The United States will cut its troops in Iraq to 2,500, officials said on Tuesday.
        The US Embassy in Baghdad has been a frequent target of rocket fire over the past year.
        Militias have carried out at least 78 attacks since October 17.
        Rockets hit a Turkish base at Bashiqa on Tuesday, killing a soldier.""")
    assert found.candidates.empty
    assert found.mentions["candidate_id"].isna().all()


def test_aggregates_and_defences_are_not_read_as_the_event(tmp_path, spec, gazetteer):
    c = one(extract(tmp_path, spec, gazetteer, """
        Three rockets hit the US Embassy in Baghdad on Friday.
        Washington has recorded at least 78 attacks since October 17 against its troops.
        The rockets were met by the embassy's C-RAM defence system and a missile defense system.""", "2023-12-08"))
    assert (c["kind"], c["munitions"], str(c["date"].date())) == ("rocket", 3, "2023-12-08")


def test_summary_sentence_of_two_events_is_not_used(tmp_path, spec, gazetteer):
    text = "The US Embassy and Ain al-Asad base were targeted by a drone and rockets on Tuesday."
    found = extract(tmp_path, spec, gazetteer, text)
    assert found.candidates.empty
    assert found.mentions.loc[0, "status"].startswith("not used: names several separate places")


def test_every_span_is_the_text_it_claims(tmp_path, spec, gazetteer):
    path = article(tmp_path, """
        Kataib Hezbollah fired four rockets at Camp Taji on Tuesday, killing two soldiers.
        There were no injuries.""")
    found = extract_news(path, spec, gazetteer=gazetteer)
    text = path.read_text(encoding="utf-8")
    assert len(found.evidence) > 5
    for r in found.evidence.itertuples():
        assert text[r.start : r.end] == r.text
    c = one(found)
    start, end = map(int, c["munitions_span"].split("-"))
    assert text[start:end] == "four rockets"
    assert c["fatalities_evidence"] == "Kataib Hezbollah fired four rockets at Camp Taji on Tuesday, killing two soldiers."


def test_sentences_and_furniture(tmp_path):
    text = "U.S. forces struck at 2 a.m. on Dec. 3. Gen. Smith said so! Then \"quiet\" returned.\nNext line"
    assert [s.text for s in split_sentences(text)] == [
        "U.S. forces struck at 2 a.m. on Dec. 3.", "Gen. Smith said so!", "Then \"quiet\" returned.", "Next line"]
    path = tmp_path / "f.txt"
    path.write_text("Rockets hit Erbil.\nOther story headline\nStaff | Iraq | Dec 1, 2021\nMore\n", encoding="utf-8")
    a = read_article(path)
    assert a.body == "Rockets hit Erbil.\n"
    assert a.furniture_chars == len("Other story headline\nStaff | Iraq | Dec 1, 2021\nMore\n")


def test_bad_front_matter_names_the_file(tmp_path):
    path = tmp_path / "bad.md"
    path.write_text("---\npublished: not a date\n---\nText.\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.md: 'published' must be a date"):
        read_article(path)


# ---- gazetteers ----------------------------------------------------------------------------


def test_gazetteer_agrees_with_the_curated_sites(gazetteer):
    sites = pd.read_csv(NEWS.parent / "sites.csv").set_index("location")
    shared = sites.index.intersection(gazetteer.places.index)
    assert len(shared) == len(sites)  # every curated site can be found in news text
    for loc in shared:
        for col in ("latitude", "longitude"):
            a, b = sites.at[loc, col], gazetteer.places.at[loc, col]
            assert (pd.isna(a) and pd.isna(b)) or float(a) == float(b), (loc, col)
    assert gazetteer.ancestors("US Embassy Baghdad") == ["US Embassy Baghdad", "Green Zone", "Baghdad", "Iraq"]


def test_every_gazetteer_place_with_coordinates_cites_a_source():
    for name in ("us-iran-proxies", "israel-palestinians"):
        places = load_gazetteer(ROOT / f"dyads/gazetteers/{name}.csv").places
        located = places[places["latitude"].notna()]
        assert located["source_url"].str.startswith("http").all(), name


def test_gazetteer_errors_name_row_and_column(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("location,pattern,level\nA,\\bA\\b,site\nB,\\bB\\b,village\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"g.csv, row 3, column level: 'village'"):
        load_gazetteer(path)


# ---- the labelled hand-made set ------------------------------------------------------------


@pytest.fixture(scope="module")
def handmade(spec, gazetteer):
    labels, metadata = read_labels(NEWS / "labels.yaml")
    return extract_news(NEWS / "articles", spec, gazetteer=gazetteer, metadata=metadata), labels


def test_handmade_set_scores(handmade):
    found, labels = handmade
    score = score_extraction(found.candidates, labels)
    events = score.events.iloc[0]
    assert (events["articles"], events["labelled"]) == (18, 30)
    # this version reads every labelled event and no other (the rules were written while reading
    # these articles, so these are in-sample figures); a drop means a pattern broke
    assert events[["candidates", "matched"]].tolist() == [30, 30]
    fields = score.fields.set_index("field")
    assert fields.loc[["date", "kind", "location", "role"], "recall"].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert (fields["precision"] >= 0.85).all() and (fields["recall"] >= 0.75).all(), fields


def test_handmade_special_articles(handmade):
    found, _ = handmade
    c = found.candidates
    assert not (c["article_id"] == "h06-troop-drawdown.md").any()  # no dyad event
    undated = c[c["article_id"] == "h07-undated-green-zone-rockets.md"].iloc[0]
    assert pd.isna(undated["date"]) and undated["flags"].startswith("date unresolved")


def test_one_event_in_three_articles_merges_with_every_count(handmade, spec):
    found, _ = handmade
    same = found.candidates[found.candidates["article_id"].str.match(r"h1[678]-")]
    reviews = pd.DataFrame({"review_row": [2, 3, 4], "candidate_id": same["candidate_id"].tolist(),
                            "decision": "accept", "note": ""})
    for col in ("date", "date_precision", "side", "actor", "kind", "location", "munitions", "fatalities", "injuries"):
        reviews[col] = ""
    events = apply_reviews(same, reviews).load.events
    sided, _ = assign_sides(events, spec)
    merged, audit = dedup_events(sided)
    assert len(merged) == 1
    row = merged.iloc[0]
    assert (row["munitions_min"], row["munitions_max"], row["cluster_size"]) == (3, 14, 3)
    assert row["source"] == "news:h16-embassy-three-katyushas+news:h17-embassy-fourteen-rockets+news:h18-embassy-mortar-rounds"
    assert (audit["role"] == "merged").sum() == 2


# ---- the three real reports ----------------------------------------------------------------


@pytest.fixture(scope="module")
def seeds(spec, gazetteer):
    if not SEEDS.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS}")
    labels, metadata = read_labels(NEWS / "seed-labels.yaml")
    return extract_news(SEEDS, spec, gazetteer=gazetteer, metadata=metadata), labels


def test_seed_reports(seeds):
    found, labels = seeds
    c = found.candidates.set_index("candidate_id")
    green_zone = c.loc["000_752594669a916d70#1"]
    assert (str(green_zone["date"].date()), green_zone["attributed_side"], green_zone["kind"], green_zone["location"]) == (
        "2020-11-17", "militias", "rocket", "US Embassy Baghdad")
    assert (green_zone["munitions"], green_zone["munitions_min"], green_zone["munitions_max"]) == (4, 4, 6)
    assert (green_zone["fatalities"], green_zone["injuries"], green_zone["role"]) == (1, 5, "main")
    soleimani = c.loc["000_752594669a916d70#2"]
    assert (str(soleimani["date"].date()), soleimani["date_precision"], soleimani["kind"], soleimani["role"]) == (
        "2020-01-15", "month", "drone_strike", "background")
    drone, rockets, strikes = (c.loc[f"001_c48e3d4a1ad9203a#{i}"] for i in (1, 2, 3))
    assert (drone["kind"], drone["location"], str(drone["date"].date())) == ("drone", "US Embassy Baghdad", "2021-07-06")
    got = (rockets["munitions"], rockets["fatalities"], rockets["injuries"], str(rockets["date"].date()))
    assert got == (3, 0, 0, "2021-07-06")
    assert (strikes["attributed_side"], str(strikes["date"].date()), strikes["role"]) == ("us", "2021-06-28", "background")
    assert found.articles.set_index("article_id").at["001_c48e3d4a1ad9203a.txt", "furniture_chars"] > 1000
    embassy, kirkuk = c.loc["002_8a1215a5cf9185df#1"], c.loc["002_8a1215a5cf9185df#2"]
    assert embassy["time_utc"] == pd.Timestamp("2023-12-08 01:20")
    assert "side inferred from target" in embassy["flags"]
    assert (kirkuk["location"], kirkuk["fatalities"], str(kirkuk["date"].date())) == ("Kirkuk Governorate", 5, "2023-12-03")
    score = score_extraction(found.candidates, labels)
    assert score.events.iloc[0][["labelled", "candidates", "matched"]].tolist() == [7, 7, 7]


# ---- review, load, scoring -----------------------------------------------------------------


def _reviews(tmp_path, text):
    path = tmp_path / "reviews.csv"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_review_file_errors_name_row_and_column(tmp_path):
    with pytest.raises(ValueError, match=r"reviews.csv, row 3, column decision: 'maybe'"):
        read_reviews(_reviews(tmp_path, "candidate_id,decision\na#1,accept\na#2,maybe\n"))
    with pytest.raises(ValueError, match=r"reviews.csv, row 3, column candidate_id: 'a#1' is reviewed twice"):
        read_reviews(_reviews(tmp_path, "candidate_id,decision\na#1,accept\na#1,reject\n"))
    with pytest.raises(ValueError, match=r"row 2, column munitions: 'four'"):
        read_reviews(_reviews(tmp_path, "candidate_id,decision,munitions\na#1,accept,four\n"))


def test_reviews_accept_reject_correct_and_reject_undated(tmp_path, spec, gazetteer):
    folder = tmp_path / "news"
    folder.mkdir()
    article(folder, "Three rockets hit Ain al-Asad on Tuesday.", name="a.md")
    article(folder, "US airstrikes hit Abu Kamal on Tuesday.", name="b.md")
    article(folder, "Rockets hit the US Embassy in Baghdad on Tuesday.", published=None, name="c.md")
    article(folder, "A drone hit Tower 22 on Sunday.", name="d.md")
    found = extract_news(folder, spec, gazetteer=gazetteer)
    reviews = read_reviews(_reviews(tmp_path, """
        candidate_id,decision,note,munitions,location
        a#1,accept,,4,Camp Taji
        b#1,reject,duplicate,,
        c#1,accept,,,
    """))
    result = apply_reviews(found.candidates, reviews, articles=found.articles, gazetteer=gazetteer)
    load = result.load
    assert (load.read, len(load.events), len(load.rejects), load.filtered) == (4, 1, 1, 2)
    event = load.events.iloc[0]
    assert (event["munitions"], event["location"], float(event["latitude"])) == (4, "Camp Taji", 33.5294)
    assert load.rejects.loc[0, "reason"].startswith("candidate c#1 accepted but its date is unresolved")
    assert result.decisions.set_index("candidate_id")["decision"].to_dict() == {
        "a#1": "accepted", "b#1": "rejected by reviewer", "c#1": "unusable", "d#1": "awaiting review"}
    # unreviewed candidates confident enough are accepted when asked
    auto = apply_reviews(found.candidates, reviews, articles=found.articles, min_confidence=0.5).load
    assert set(auto.events["candidate_id"]) == {"a#1", "d#1"}
    # a review naming a candidate its article no longer gives is an error
    stale = read_reviews(_reviews(tmp_path, "candidate_id,decision\na#2,accept\nzzz#1,accept\n"))
    with pytest.raises(ValueError, match=r"row 2, column candidate_id: 'a#2' is not a candidate of a.md"):
        apply_reviews(found.candidates, stale, articles=found.articles)


def test_news_source_in_a_dyad_spec(tmp_path, spec):
    folder = tmp_path / "news"
    folder.mkdir()
    article(folder, "Three rockets hit Ain al-Asad on Tuesday.", name="a.md")
    reviews = _reviews(tmp_path, "candidate_id,decision\na#1,accept\n")
    load = load_source({"format": "news", "path": str(folder), "reviews": str(reviews)}, spec=spec)
    assert (load.read, len(load.events)) == (1, 1)
    assert load.events.loc[0, "source"] == "news:a"
    sided, _ = assign_sides(load.events, spec)
    assert sided.loc[0, "side"] == "militias"


def test_score_by_hand():
    candidates = pd.DataFrame({
        "article_id": ["x", "x", "y"], "candidate_id": ["x#1", "x#2", "y#1"],
        "date": pd.to_datetime(["2020-01-01", "2020-01-05", None]), "date_precision": ["day", "day", None],
        "attributed_side": ["us", "militias", "militias"], "kind": ["airstrike", "rocket", "rocket"],
        "location": ["Baghdad", None, None], "role": ["main", "main", "main"],
        "munitions": [None, 3, 2], "munitions_min": [None, 3, 2], "munitions_max": [None, 3, 2],
        "fatalities": [1, None, None], "injuries": [None, None, None],
    })
    labels = pd.DataFrame({
        "article_id": ["x", "y"], "label_no": [1, 1], "date": ["2020-01-01", "unresolved"],
        "date_precision": ["day", None], "side": ["us", "militias"], "kind": ["airstrike", "rocket"],
        "location": ["Baghdad", None], "munitions": [None, 4], "munitions_min": [None, 4], "munitions_max": [None, 4],
        "fatalities": [2, None], "injuries": [None, None], "role": ["main", "main"],
    })
    labels.attrs["articles"] = ["x", "y"]
    score = score_extraction(candidates, labels)
    assert score.events.iloc[0][["candidates", "labelled", "matched"]].tolist() == [3, 2, 2]
    fields = score.fields.set_index("field")
    # dates: x#1 right, y#1 rightly unresolved, x#2 unmatched -> 2 TP, 1 FP, 0 FN
    assert fields.loc["date", ["true_pos", "false_pos", "false_neg"]].tolist() == [2, 1, 0]
    # munitions: y#1 says 2 for 4 (FP and FN), x#2 unmatched says 3 (FP)
    assert fields.loc["munitions", ["true_pos", "false_pos", "false_neg"]].tolist() == [0, 2, 1]
    # fatalities: x#1 says 1 for 2
    assert fields.loc["fatalities", ["precision", "recall"]].tolist() == [0.0, 0.0]
    table = score.table().set_index("field")
    assert table.loc["events", ["true_pos", "false_pos", "false_neg"]].tolist() == [2, 1, 0]
    differences = score.matches.set_index("candidate_id")["differences"]
    assert differences["x#1"] == "fatalities: 1 (label 2)"
    assert differences["y#1"] == "munitions: 2 (label 4), munitions_min: 2 (label 4), munitions_max: 2 (label 4)"
    assert differences["x#2"] == "no label matched"


def test_dedup_keeps_a_reports_own_range():
    from .conftest import make_events

    events = make_events([("a", "2020-01-01", "us", "rocket"), ("b", "2020-01-01", "us", "rocket")],
                         location=["X", "X"], munitions=[4, 5], munitions_min=[4, pd.NA], munitions_max=[6, pd.NA],
                         source=["s1", "s2"])
    merged, _ = dedup_events(events)
    assert merged[["munitions", "munitions_min", "munitions_max"]].iloc[0].tolist() == [4, 4, 6]


def test_another_dyad_uses_its_own_gazetteer_and_sides(tmp_path):
    spec = load_dyad(ROOT / "dyads/israel-palestinians.yaml")
    path = article(tmp_path, """
        Israeli forces shot dead two Palestinians in Jenin on Tuesday, the health ministry said.
        Hours later, a Palestinian gunman opened fire at a bus stop in Tel Aviv, wounding three Israelis.""")
    c = extract_news(path, spec).candidates.set_index("location")
    assert c.loc["Jenin", ["attributed_side", "kind", "fatalities", "country"]].tolist() == ["israel", "shooting", 2, "Palestine"]
    assert str(c.at["Jenin", "date"].date()) == "2020-11-17"
    assert c.loc["Tel Aviv", ["attributed_side", "kind", "injuries"]].tolist() == ["palestinians", "shooting", 3]
    assert str(c.at["Tel Aviv", "date"].date()) == "2020-11-17"


def test_heldout_set_is_read_without_error_and_scored(spec, gazetteer):
    """Articles written by another author without seeing the rules (never used to tune them):
    the fair estimate of the rules' precision and recall. The floors are this version's figures
    (events: 16 of 20 candidates right, 16 of 18 labelled events found)."""
    labels, metadata = read_labels(NEWS / "heldout-labels.yaml")
    found = extract_news(NEWS / "heldout", spec, gazetteer=gazetteer, metadata=metadata)
    events = score_extraction(found.candidates, labels).events.iloc[0]
    assert (events["articles"], events["labelled"]) == (10, 18)
    assert events["precision"] >= 0.8 and events["recall"] >= 0.88
    assert not (found.candidates["article_id"] == "x07-pentagon-attack-tally.md").any()  # totals only
