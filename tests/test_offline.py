"""Reports open offline and safe: headless Chromium with the network blocked, script injected into the data.

Each page is opened in a fresh headless Chromium (``tests/chromium.py``) whose every host name
resolves to nothing and whose every request goes to a proxy that does not exist. A page passes
when it made no request outside its own file and inline data, logged no console error, threw no
exception, and no script injected into its data ran.

The injected text is ``<script>`` and ``<img onerror>`` that would each add 1 to
``window.__xss``: after loading, ``window.__xss`` must be undefined, and the injected text must be
on the page as text (so the test sees the data reach the page, escaped, rather than vanish).
"""

import csv
import io
import re
import subprocess

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import nbformat
import pandas as pd
import pytest
from nbconvert import HTMLExporter

from analysis import render, report
from tests.chromium import Browser, find_chromium, open_page
from tests.conftest import ROOT

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian: apt-get install -y chromium): the offline and injection tests need a browser",
)

SCRIPT = "<script>window.__xss=(window.__xss||0)+1</script>"
IMAGE = '<img src=x onerror="window.__xss=(window.__xss||0)+1">'
PAYLOAD = f"{SCRIPT} {IMAGE}"
CHECKS = ("window.__xss", "document.body.innerText")


@pytest.fixture(scope="module")
def browser():
    with Browser(CHROMIUM) as b:
        yield b


def _page(tmp_path, cells, name="page"):
    """An executed-looking notebook converted with the report template, as make does."""
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    exporter = HTMLExporter(template_name="report", extra_template_basedirs=[str(ROOT / "templates")], exclude_input=True)
    body, _ = exporter.from_notebook_node(nb)
    path = tmp_path / f"{name}.html"
    path.write_text(body, encoding="utf-8")
    return path


def _output(data):
    return nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", data=data)])


def test_a_report_page_loads_nothing_and_runs_no_injected_script(tmp_path, browser):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set(title=PAYLOAD, xlabel="days", ylabel="events")
    cells = [
        nbformat.v4.new_markdown_cell("# Title\n\n## Findings"),
        _output({"text/html": f"<p>{render.escape('Spec: ' + PAYLOAD)}</p>"}),
        _output({"text/markdown": f"The description: {render.escape_markdown(PAYLOAD)}"}),
        _output({"text/html": render.markdown(f"- **Known gap.** {PAYLOAD}\n- ![map](https://tiles.example/x.png)")}),
        _output({"text/html": render.table(pd.DataFrame({"event_id": ["e1"], "url": ["https://example.org/a"],
                                                          "location": [PAYLOAD]}), links={"event_id": "url"})}),
        _output({"text/html": report.sentences_html(report.timing_sentences(
            pd.DataFrame({"trigger_id": ["a1", "b1"], "trigger_side": ["a", "b"], "interval_days": [1, 2],
                          "censored": [False, False], "censor_reason": [None, None], "window_days": [10, 10]}),
            None, labels={"a": PAYLOAD, "b": "B"}))}),
        _output({"text/html": render.figure(fig, caption=PAYLOAD, alt=PAYLOAD)}),
    ]
    load, (xss, text) = open_page(browser, _page(tmp_path, cells), evaluate=CHECKS)
    assert load.external_requests == [] and load.errors == []
    assert xss is None
    assert text.count(SCRIPT) >= 5  # the injected text is on the page, as text


def test_the_check_sees_a_script_that_runs(tmp_path, browser):
    # the control: the same page with the text not escaped runs the script and the broken image
    path = tmp_path / "unsafe.html"
    path.write_text(f"<!DOCTYPE html><html><head><title>x</title></head><body><p>{PAYLOAD}</p></body></html>")
    load, (xss, _) = open_page(browser, path, evaluate=CHECKS)
    assert xss == 2
    assert any("x" in e for e in load.errors)  # the image's failed load is an error


def test_the_check_sees_a_request_to_the_network(tmp_path, browser):
    path = tmp_path / "cdn.html"
    path.write_text('<!DOCTYPE html><html><head><title>x</title>'
                    '<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"></script>'
                    "</head><body>hi</body></html>")
    load, _ = open_page(browser, path)
    assert load.external_requests == ["https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"]
    assert load.errors  # blocked: the load failed


# --------------------------------------------------------------------------------------------
# Every report of a copy of the project whose data and spec carry the injected text


def _inject(project):
    """Put the payload into the spec, the codebook, the curated events, the official counts and a news article."""
    dyad = project / "dyads" / "us-iran-proxies.yaml"
    text = dyad.read_text(encoding="utf-8")
    end = "US strikes on those militias, from the autumn 2019 escalation to the end of 2024.\n"
    assert end in text and "label: Iran (state forces)\n" in text
    text = text.replace(end, end.rstrip("\n") + f" {PAYLOAD}\n")
    text = text.replace("label: Iran (state forces)\n", f"label: 'Iran (state forces) {SCRIPT}'\n")
    dyad.write_text(text, encoding="utf-8")

    codebook = project / "data" / "raw" / "us-iran-proxies" / "README.md"
    text = codebook.read_text(encoding="utf-8")
    assert "\n## Known gaps\n" in text
    codebook.write_text(text.replace("\n## Known gaps\n", f"\n## Known gaps\n\n- **Injected.** {PAYLOAD}\n", 1), encoding="utf-8")

    events = project / "data" / "raw" / "us-iran-proxies" / "events.csv"
    rows = list(csv.DictReader(io.StringIO(events.read_text(encoding="utf-8"))))
    first = min(range(len(rows)), key=lambda i: rows[i]["date"])  # shown in the first rows of the strike -> response table
    rows[first]["location"] += f" {PAYLOAD}"
    rows[first]["summary"] += f" {PAYLOAD}"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    events.write_text(out.getvalue(), encoding="utf-8")

    counts = project / "data" / "raw" / "us-iran-proxies" / "official_counts.csv"
    rows = list(csv.DictReader(io.StringIO(counts.read_text(encoding="utf-8"))))
    rows[-1]["stated_by"] += f" {PAYLOAD}"  # the latest statement: named in the coverage caveat
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    counts.write_text(out.getvalue(), encoding="utf-8")

    article = project / "data" / "raw" / "us-iran-proxies" / "news" / "articles" / "h01-green-zone-rockets.md"
    article.write_text(article.read_text(encoding="utf-8").rstrip("\n")
                       + f"\n\nA statement said four rockets hit the Green Zone {PAYLOAD} on Wednesday.\n", encoding="utf-8")


@pytest.fixture(scope="module")
def injected(tmp_path_factory):
    import shutil

    from tests.test_pipeline import _copy_project

    if not (ROOT / ".venv" / ".setup-stamp").exists():
        pytest.skip("no .venv: run through `make test`, which sets it up")
    if shutil.which("make") is None:
        pytest.skip("GNU make is not installed")
    project = tmp_path_factory.mktemp("injected")
    _copy_project(project)
    _inject(project)
    done = subprocess.run(["make", "reports"], cwd=project, capture_output=True, text=True)
    assert done.returncode == 0, f"make reports failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return project


@pytest.mark.pipeline
def test_every_report_opens_offline_without_errors_and_runs_no_injected_script(injected, browser):
    pages = sorted((injected / "reports").glob("*.html"))
    assert {p.name for p in pages} >= {"index.html", "us-iran-proxies.html", "us-iran-proxies--coverage.html",
                                       "us-iran-proxies--news.html"}
    shown = {}
    for page in pages:
        load, (xss, text) = open_page(browser, page, evaluate=CHECKS)
        assert load.external_requests == [], f"{page.name} asked the network for {load.external_requests}"
        assert load.errors == [], f"{page.name}: {load.errors}"
        assert xss is None, f"{page.name}: injected script ran"
        shown[page.name] = text
    # the injected text reached each page, shown as text: the spec's description and a side label,
    # the events' place, the codebook's known gaps, an official statement, a news sentence
    main = shown["us-iran-proxies.html"]
    assert main.count(SCRIPT) >= 3, "the spec's description, the grouped side's label and the event's place"
    assert SCRIPT in shown["us-iran-proxies--coverage.html"]
    assert IMAGE in shown["us-iran-proxies--coverage.html"]
    assert SCRIPT in shown["us-iran-proxies--news.html"]
    # the CSV beside the report keeps the data as it is (escaping is for pages, not for data)
    written = pd.read_csv(injected / "reports" / "us-iran-proxies" / "events.csv")
    assert written["location"].str.endswith(f" {PAYLOAD}").sum() == 1


@pytest.mark.pipeline
def test_default_report_is_under_a_megabyte_with_its_tables_beside_it(injected):
    page = injected / "reports" / "us-iran-proxies.html"
    assert page.stat().st_size < 1_000_000, f"{page.stat().st_size:,} bytes"
    html = page.read_text(encoding="utf-8")
    for name in ("cycles", "events", "episodes", "pauses", "response_ratio"):
        assert (injected / "reports" / "us-iran-proxies" / f"{name}.csv").is_file()
        assert f'href="us-iran-proxies/{name}.csv"' in html
    assert re.search(r"First 25 of [\d,]+ rows", html)
