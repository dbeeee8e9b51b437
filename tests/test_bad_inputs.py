"""The bad-input corpus: every case ends as a clear error or a quarantined record, none silently.

``tests/bad_inputs/cases.csv`` lists the cases (see ``tests/bad_inputs/README.md``). Each runs
through :func:`analysis.sources.load_source` and then the events stage's functions as
``notebooks/10-build-events.ipynb`` uses them (:func:`~analysis.dyads.assign_sides`,
:func:`~analysis.dyads.within_scope`, :func:`~analysis.schema.validate_events`,
:func:`~analysis.dedup.dedup_events`). An ``error`` case must raise, with every word the case
lists in the message (the file, the line, the column). A ``quarantine`` case must load, with
exactly the rejected lines the case lists (column and reason), and its counts must add up against
the number of records counted here from the file's bytes, independently of the loaders' parser:
read == records in the file and accepted == read - rejected - filtered - merged.

Mutations of ACLED and B'Tselem rows are made here, at test time, from the shared fixtures
(their terms forbid copying the rows into the project); the other files are committed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.dedup import dedup_events
from analysis.dyads import assign_sides, load_dyad, within_scope
from analysis.paths import display_path, write_parquet
from analysis.schema import validate_events
from analysis.sources import load_source
from tests.conftest import ROOT, SHARED
from tests.test_pipeline import _copy_project

CORPUS = ROOT / "tests" / "bad_inputs"
FIXTURES = SHARED / "fixtures"
#: The dyad spec each loader's cases are read with (sides matching the files' actors).
SPECS = {loader: CORPUS / "specs" / f"{loader}.yaml" for loader in ("table", "acled", "ucdp", "fatalities", "gdelt")}


def _cases() -> list[dict]:
    with open(CORPUS / "cases.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


CASES = _cases()


# ---------------------------------------------------------------------------- mutations
def _fields(line: str) -> tuple[list[str], str]:
    body = line.rstrip("\r\n")
    return next(csv.reader([body])), line[len(body):] or "\n"


def _join(cells: list[str], end: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue() + end


def mutate(text: str, mutation: str) -> tuple[bytes, str]:
    """Apply a case's mutation to a file's text; return the bytes and the file suffix.

    Operations, separated by `` ;; ``, arguments by ``|``, lines counted from 1 in the text as it
    is when the operation runs: ``head|N`` (keep N lines), ``set|L|COLUMN|VALUE``,
    ``copycell|FROM|TO|COLUMN``,
    ``fields|L|N`` (cut or pad line L to N fields), ``blank|L`` (a blank line after line L),
    ``delete|L``,
    ``unclose|L|COLUMN`` (quote the field and drop its closing quote), ``rename|COLUMN|NEW``
    (in the header), ``dropcol|COLUMN`` (from every line), ``prepend|TEXT`` (a line before the
    header), ``copy|L`` (append a copy of line L), ``encode|ENCODING`` (the whole file), ``empty``, ``gzip``,
    ``truncate|BYTES``.
    """
    lines = text.splitlines(keepends=True)
    header = _fields(lines[0])[0]
    encoding, compress, cut = "utf-8", False, None
    for op in filter(None, (o.lstrip() for o in mutation.split(" ;; "))):
        name, *args = op.split("|")
        if name == "head":
            lines = lines[: int(args[0])]
        elif name == "set":
            cells, end = _fields(lines[int(args[0]) - 1])
            cells[header.index(args[1])] = args[2]
            lines[int(args[0]) - 1] = _join(cells, end)
        elif name == "copycell":  # copy a cell from one line to another
            cells, end = _fields(lines[int(args[1]) - 1])
            cells[header.index(args[2])] = _fields(lines[int(args[0]) - 1])[0][header.index(args[2])]
            lines[int(args[1]) - 1] = _join(cells, end)
        elif name == "fields":
            cells, end = _fields(lines[int(args[0]) - 1])
            n = int(args[1])
            lines[int(args[0]) - 1] = _join((cells + [""] * n)[:n], end)
        elif name == "blank":
            lines.insert(int(args[0]), "\n")
        elif name == "delete":
            del lines[int(args[0]) - 1]
        elif name == "unclose":
            cells, end = _fields(lines[int(args[0]) - 1])
            i = header.index(args[1])
            before, after = _join(cells[:i], ""), _join(cells[i + 1:], "")
            field = '"' + cells[i].replace('"', '""')
            lines[int(args[0]) - 1] = (before + "," if i else "") + field + ("," + after if i + 1 < len(cells) else "") + end
        elif name == "rename":
            header = [args[1] if c == args[0] else c for c in header]
            lines[0] = _join(header, _fields(lines[0])[1])
        elif name == "dropcol":
            i = header.index(args[0])
            header = header[:i] + header[i + 1:]
            lines = [_join([c for j, c in enumerate(cells) if j != i], end) for cells, end in map(_fields, lines)]
        elif name == "prepend":
            lines.insert(0, args[0] + "\n")
        elif name == "copy":
            lines.append(lines[int(args[0]) - 1])
        elif name == "encode":
            encoding = args[0]
        elif name == "empty":
            lines = []
        elif name == "gzip":
            compress = True
        elif name == "truncate":
            cut = int(args[0])
        else:
            raise ValueError(f"unknown mutation {name!r}")
    data = "".join(lines).encode(encoding, errors="replace")  # characters the encoding lacks become "?"
    if compress:
        data = gzip.compress(data, mtime=0)
    if cut is not None:
        data = data[:cut]
    return data, ".csv.gz" if compress else ".csv"


def case_file(case: dict, folder: Path) -> Path:
    """The case's input file: committed, or made from a shared fixture by its mutation."""
    source = case["input"]
    if not source.startswith("fixture:"):
        return CORPUS / source
    fixture = FIXTURES / source.removeprefix("fixture:")
    if not fixture.exists():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    text = fixture.read_text(encoding="utf-8")
    data, suffix = mutate(text, case["mutation"])
    path = folder / f"{case['case']}{suffix}"
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------- independent counts
def count_records(path: Path, loader: str, continued: int) -> int:
    """Records in a file, counted from its bytes, not by the loaders' parser.

    Delimited text: the non-blank lines after the header (lines of only delimiters and spaces
    are blank), less an HXL hashtag row and the continuation lines of well-formed quoted fields
    the case declares. Excel: non-empty rows after the first. Parquet: the rows in its metadata.
    """
    name = path.name.lower()
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    if name.endswith(".xlsx"):
        import openpyxl

        rows = [r for r in openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True)
                if any(v not in (None, "") for v in r)]
        return len(rows) - 1
    data = path.read_bytes()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    lines = [line for line in data.split(b"\n") if line.strip(b" \t\r,;|\xef\xbb\xbf")]
    if loader != "gdelt":
        start = 0
        if loader == "acled":  # stray lines before the header
            start = next(i for i, line in enumerate(lines) if b"event_date" in line and b"actor1" in line)
        lines = lines[start + 1:]
    if lines and loader == "ucdp":
        cells = [c.strip() for c in lines[0].split(b",") if c.strip()]
        if cells and all(c.startswith(b"#") for c in cells):
            lines = lines[1:]
    return len(lines) - continued


# ---------------------------------------------------------------------------- expectations
def expected_rejects(case: dict) -> dict[int, tuple[str, str]]:
    """``line -> (column, reason fragment)`` from the case's ``rejects``."""
    found = {}
    for item in filter(None, (i.strip() for i in case["rejects"].split(" | "))):
        line, column, reason = item.split(":", 2)
        found[int(line)] = (column, reason)
    return found


def check_rejects(rejects: pd.DataFrame, case: dict) -> None:
    expected = expected_rejects(case)
    got = {int(r.raw_row): (r.column, r.reason) for r in rejects.itertuples()}
    assert sorted(got) == sorted(expected), f"rejected lines {sorted(got)}, expected {sorted(expected)}:\n{rejects.to_string()}"
    for line, (column, reason) in expected.items():
        assert got[line][0] == column, f"line {line}: column {got[line][0]!r}, expected {column!r}"
        assert reason in got[line][1], f"line {line}: reason {got[line][1]!r} does not say {reason!r}"


def _value(text: str, like):
    if text == "":
        return None
    if isinstance(like, pd.Timestamp) or ((like is None or pd.isna(like)) and text[:4].isdigit() and "-" in text):
        return pd.Timestamp(text)
    if isinstance(like, (int, float, np.integer, np.floating)) and not isinstance(like, (bool, np.bool_)):
        return float(text) if isinstance(like, (float, np.floating)) else int(text)
    return text.replace("\\n", "\n")


def check_values(events: pd.DataFrame, notes: tuple[str, ...], case: dict, in_scope: int | None) -> None:
    """The case's ``check`` items: ``raw_row=N col=value ...``, ``in_scope=N``, ``note~text``."""
    for item in filter(None, (i.strip() for i in case["check"].split(" | "))):
        if item.startswith("note~"):
            assert any(item[5:] in note for note in notes), f"no note says {item[5:]!r}: {notes}"
            continue
        if item.startswith("in_scope="):
            assert in_scope == int(item.split("=")[1]), f"{in_scope} events in scope, expected {item}"
            continue
        selector, *pairs = item.split(" ", 1)[0], *_pairs(item.split(" ", 1)[1])
        key, value = selector.split("=")
        rows = events[events[key].astype("string") == value]
        assert len(rows) == 1, f"{len(rows)} events with {selector}"
        event = rows.iloc[0]
        for col, text in pairs:
            actual = event[col]
            if text == "":
                assert pd.isna(actual), f"{selector}: {col} is {actual!r}, expected missing"
            else:
                assert actual == _value(text, actual), f"{selector}: {col} is {actual!r}, expected {text!r}"


def _pairs(text: str):
    """``a=1 b=x y c=3`` -> (a, 1), (b, 'x y'), (c, 3): a value runs to the next ``name=``."""
    import re

    marks = list(re.finditer(r"(?:^| )([a-z_]+)=", text))
    for m, nxt in zip(marks, marks[1:] + [None]):
        yield m.group(1), text[m.end(): nxt.start() if nxt else len(text)]


def _message_words(case: dict, path: Path | None, spec) -> list[str]:
    words = []
    for word in filter(None, (w.strip() for w in case["message"].split(" | "))):
        if path is not None:
            word = word.replace("{file}", display_path(path)).replace("{path}", str(path))
        if spec is not None:
            word = word.replace("{spec}", str(spec.path))
        words.append(word)
    return words


def entry_for(case: dict, path: Path) -> dict:
    entry = {"format": case["loader"], "path": str(path)}
    for key, value in (json.loads(case["options"]) if case["options"] else {}).items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    return entry


def events_stage(loads, spec):
    """What notebook 10 does after loading: sides, scope, the events check, dedup."""
    events = pd.concat([r.events for r in loads], ignore_index=True)
    sided, _ = assign_sides(events, spec)
    in_scope, excluded = within_scope(sided, spec)
    validate_events(in_scope, sides=spec.side_keys, name=str(spec.path))
    deduped, _ = dedup_events(in_scope, date_tolerance_days=1, distance_km=25.0, prefer=(), enabled=True)
    assert len(deduped) <= len(in_scope)
    return in_scope, excluded


# ---------------------------------------------------------------------------- the test
def test_the_corpus_is_large_and_every_case_is_an_error_or_a_quarantine():
    assert len(CASES) >= 100
    assert {c["outcome"] for c in CASES} == {"error", "quarantine"}
    assert len({c["case"] for c in CASES}) == len(CASES)
    for c in CASES:
        if c["outcome"] == "error":
            assert c["message"], f"{c['case']}: an error case must say what the message names"
        else:
            assert c["rejects"], f"{c['case']}: a quarantine case must name its quarantined lines"
    assert sum(c["pipeline"] == "yes" for c in CASES) >= 10


def _write_case(case: dict) -> None:
    """Defect 9: a stage's table is written whole or not at all."""
    folder = Path(os.environ.get("TMPDIR", "/tmp"))
    target = folder / f"bad-inputs-{os.getpid()}-{case['case']}.parquet"
    write_parquet(pd.DataFrame({"a": [1, 2]}), target)
    before = target.read_bytes()
    if case["input"] == "failing-frame":
        # a column pyarrow cannot convert: the write fails once the file is open
        frame = pd.DataFrame({"a": [1, 2], "b": [1, "x"]})
        error = Exception
    else:
        class Interrupting(pd.DataFrame):
            def to_parquet(self, path, **kwargs):
                Path(path).write_bytes(b"PAR1 half a table")
                raise KeyboardInterrupt

        frame, error = Interrupting({"a": [3]}), KeyboardInterrupt
    try:
        with pytest.raises(error) as err:
            write_parquet(frame, target)
        for word in _message_words(case, None, None):
            assert word in f"{type(err.value).__name__}: {err.value}"
        assert target.read_bytes() == before  # the previous table, whole
        assert not list(folder.glob(f".{target.name}.*"))  # no temporary file left
    finally:
        target.unlink(missing_ok=True)


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_case(case, tmp_path):
    loader = case["loader"]
    if loader == "write":
        _write_case(case)
        return
    if loader == "dyad":
        path = CORPUS / case["input"]
        with pytest.raises(ValueError) as err:
            load_dyad(path)
        for word in _message_words(case, path, None):
            assert word in str(err.value), f"the message does not say {word!r}:\n{err.value}"
        return
    if loader == "stage":
        spec = load_dyad(CORPUS / case["input"])
        if case["outcome"] == "error":
            with pytest.raises(ValueError) as err:
                events_stage([load_source(e, spec=spec, root=ROOT) for e in spec.sources], spec)
            for word in _message_words(case, None, spec):
                assert word in str(err.value), f"the message does not say {word!r}:\n{err.value}"
            return
        loads = [load_source(e, spec=spec, root=ROOT) for e in spec.sources]
        in_scope, excluded = events_stage(loads, spec)
        check_rejects(pd.concat([r.rejects for r in loads] + [excluded.assign(column="")], ignore_index=True), case)
        check_values(in_scope, (), case, len(in_scope))
        return

    spec = load_dyad(SPECS[loader])
    path = case_file(case, tmp_path)
    entry = entry_for(case, path)
    if case["outcome"] == "error":
        with pytest.raises((ValueError, OSError)) as err:
            load_source(entry, spec=spec)
        for word in _message_words(case, path, spec):
            assert word in str(err.value), f"the message does not say {word!r}:\n{err.value}"
        return

    result = load_source(entry, spec=spec)
    records = count_records(path, loader, int(case["continued"] or 0))
    counts = result.counts
    assert counts["read"] == records, f"the loader read {counts['read']} records; the file holds {records}"
    check_rejects(result.rejects, case)
    assert (counts["filtered"], counts["merged"]) == (int(case["filtered"]), int(case["merged"]))
    assert counts["accepted"] == records - counts["rejected"] - counts["filtered"] - counts["merged"]
    in_scope, _ = events_stage([result], spec)
    check_values(result.events, result.notes, case, len(in_scope))


# ---------------------------------------------------------------------------- end to end
PIPELINE = [c for c in CASES if c["pipeline"] == "yes"]
DYAD = "bad-input"


def _background(path: Path) -> None:
    """A plain, valid table of the throwaway dyad: two sides alternating through 2018 (made up).

    The period is 2018, so that the corpus's own events (2019 and later, or much earlier) are
    read, rejected where bad and counted, then set aside as outside the period: the files of
    several cases share ids, which two sources in scope may not.
    """
    rng = np.random.default_rng(20191001)
    days = np.sort(rng.choice(pd.date_range("2018-01-01", "2018-12-31").to_numpy(), size=240, replace=False))
    rows = [(f"bg{i}", pd.Timestamp(d).date().isoformat(), "Side A forces" if i % 2 else "Side B fighters",
             ["airstrike", "rocket", "ied", "mortar"][i % 4], "Iraq", int(rng.poisson(1))) for i, d in enumerate(days)]
    pd.DataFrame(rows, columns=["event_id", "date", "actor", "kind", "country", "fatalities"]).to_csv(path, index=False)


def _profile(project: Path) -> None:
    """The default profile, made cheap: few permutations and bootstrap draws, nothing named."""
    import yaml

    profile = yaml.safe_load((project / "notebooks" / "params" / "default.yaml").read_text())
    cheap = {"n_permutations": 19, "n_bootstrap": 5, "named_events": {}, "flags": {}, "highlight": {},
             "period_breaks": {"2018": "2018-01-01"},
             "chains_drawn": 0, "covariate_columns": ["fatalities"], "hawkes": False, "windows": [7, 30], "spacetime": None,
             "its_sides": None}
    for section in profile.values():
        if isinstance(section, dict):
            for key, value in cheap.items():
                if key in section:
                    section[key] = value
    if "timing" in profile and "cox_models" in profile["timing"]:
        profile["timing"]["cox_models"] = [
            {"name": "b answering a", "trigger_side": "a", "covariates": ["trigger_fatalities_log1p"]}]
    if "events" in profile:
        profile["events"]["source_priority"] = []
    profile.pop("news", None)
    (project / "notebooks" / "params" / f"{DYAD}.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))


def _spec(project: Path, sources: list[dict], extra: str = "") -> None:
    import yaml

    text = textwrap.dedent(f"""\
        name: {DYAD}
        title: Throwaway dyad of bad inputs
        period: {{start: 2018-01-01, end: 2018-12-31}}
        theatre: [Iraq, Syria]
        sides:
          a: {{label: Side A, actors: ['^Side A']}}
          b: {{label: Side B, actors: ['^Side B']}}
        """) + extra + yaml.safe_dump({"sources": sources}, sort_keys=False)
    (project / "dyads" / f"{DYAD}.yaml").write_text(text)


def _make(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["make", f"reports/{DYAD}.html"], check=False, cwd=project, capture_output=True, text=True)


@pytest.fixture(scope="module")
def throwaway(tmp_path_factory):
    if not (ROOT / ".venv" / ".setup-stamp").exists():
        pytest.skip("no .venv: run through `make test`, which sets it up")
    if shutil.which("make") is None:
        pytest.skip("GNU make is not installed")
    project = tmp_path_factory.mktemp("badinput")
    _copy_project(project)
    (project / "data" / "external" / DYAD).mkdir(parents=True)
    _background(project / "data" / "external" / DYAD / "background.csv")
    _profile(project)
    return project


def _stage_file(project: Path, case: dict) -> str:
    """Copy the case's file into the dyad's data folder; return its root-relative path."""
    folder = project / "data" / "external" / DYAD
    source = case_file(case, folder) if case["input"].startswith("fixture:") else CORPUS / case["input"]
    target = project / "data" / "external" / DYAD / f"{case['case']}{''.join(Path(source).suffixes)}"
    if Path(source) != target:
        shutil.copyfile(source, target)
    return target.relative_to(project).as_posix()


@pytest.mark.pipeline
def test_quarantine_cases_end_to_end(throwaway):
    """Every pipeline quarantine case as a source of one dyad: `make` builds the report, and the
    rejects table and load counts say what the case says."""
    project = throwaway
    cases = [c for c in PIPELINE if c["outcome"] == "quarantine" and c["loader"] != "stage"]
    assert len(cases) >= 8
    background = {"format": "table", "path": f"data/external/{DYAD}/background.csv", "source": "background"}
    sources = [background]
    paths = {}
    for c in cases:
        paths[c["case"]] = _stage_file(project, c)
        sources.append({**entry_for(c, Path(paths[c["case"]])), "source": c["case"]})
    _spec(project, sources)
    done = _make(project)
    assert done.returncode == 0, f"make failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert (project / "reports" / f"{DYAD}.html").exists()
    processed = project / "data" / "processed" / DYAD
    rejects = pd.read_parquet(processed / "rejects.parquet")
    counts = pd.read_parquet(processed / "load_counts.parquet").set_index("source")
    for c in cases:
        path = paths[c["case"]]
        check_rejects(rejects[rejects["raw_file"] == path], c)
        records = count_records(project / path, c["loader"], int(c["continued"] or 0))
        row = counts.loc[path]
        assert row["read"] == records and row["rejected"] == len(expected_rejects(c)), c["case"]
        assert row["read"] == row["accepted"] + row["rejected"] + row["filtered"] + row["merged"]


@pytest.mark.pipeline
@pytest.mark.parametrize("case", [c for c in PIPELINE if c["outcome"] == "error"], ids=lambda c: c["case"])
def test_error_cases_end_to_end(throwaway, case):
    """Each pipeline error case stops `make` with its message: the file, the line, the column."""
    project = throwaway
    background = {"format": "table", "path": f"data/external/{DYAD}/background.csv", "source": "background"}
    if case["loader"] == "dyad":
        text = (CORPUS / case["input"]).read_text()
        extra = "".join(line + "\n" for line in text.splitlines() if line.startswith(("window_days", "response")))
        _spec(project, [background], extra)
        words = [w.replace("{file}", f"dyads/{DYAD}.yaml") for w in _message_words(case, None, None)]
    else:
        path = _stage_file(project, case)
        _spec(project, [background, entry_for(case, Path(path))])
        words = [w.replace("{file}", path).replace("{path}", path).replace("{spec}", f"dyads/{DYAD}.yaml")
                 for w in _message_words(case, None, None)]
    done = _make(project)
    output = done.stdout + done.stderr
    assert done.returncode != 0, f"make succeeded on {case['case']}"
    for word in words:
        assert word in output, f"make's output does not say {word!r}:\n{output[-3000:]}"
