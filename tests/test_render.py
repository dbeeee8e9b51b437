"""Data text reaches a report page escaped: the helpers of analysis.render, and the page check."""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import nbformat
import pandas as pd
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from analysis import render
from analysis.htmlpage import ActiveContentError, ReportPagePreprocessor, active_content, table_of_contents

ATTACKS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "![pixel](https://tracker.example/p.png)",
    "<iframe src=https://example.org></iframe>",
    "$<script>alert(1)</script>$",
    "line one\n\n# heading\n<script>alert(2)</script>",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_escaped_text_is_inert_in_html_and_in_markdown(attack):
    assert active_content(render.escape(attack)) == []
    # nbconvert renders a Markdown output with its own renderer: what reaches the browser is inert
    page = markdown2html_mistune(f"The spec says: {render.escape_markdown(attack)}")
    assert active_content(page) == [], page
    assert "<h1" not in page and "<img" not in page and "<a " not in page


def test_escaped_markdown_shows_the_text_as_written():
    # every character comes back, as text: the reader sees what the data says
    text = "cost $5 [sic] <b>bold</b> #1 *not emphasis* a_b"
    page = markdown2html_mistune(render.escape_markdown(text))
    shown = re.sub(r"</?p>", "", page).strip()
    assert shown == "cost $5 [sic] &lt;b&gt;bold&lt;/b&gt; #1 *not emphasis* a_b"


def test_escape_blanks_missing_values():
    assert [render.escape(v) for v in (None, pd.NA, float("nan"), pd.NaT)] == ["", "", "", ""]
    assert render.escape(3) == "3" and render.escape_markdown(None) == ""


def test_markdown_keeps_structure_but_not_script_images_or_unsafe_links():
    source = ("- **Oct 2023.** A gap <script>alert(1)</script>\n"
              "- see [the research notes](research/2024.md) and [a source](https://example.org/a?b=1&c=2)\n"
              "- ![map](https://tiles.example/x.png) [bad](javascript:alert(1)) <img src=x onerror=alert(1)>\n")
    page = render.markdown(source)
    assert active_content(page) == []
    assert "<li><strong>Oct 2023.</strong> A gap &lt;script&gt;" in page
    assert '<a href="research/2024.md">the research notes</a>' in page
    assert '<a href="https://example.org/a?b=1&amp;c=2">a source</a>' in page
    assert "<img" not in page and "[image: " in page  # the picture is linked, not loaded
    assert "javascript" not in page.lower()


def test_markdown_leaves_out_comments_but_not_in_code():
    """The codebook's count markers (analysis.codebook) are comments: the coverage report showed
    them as text ("(<!-- n: confidence=low -->160<!-- /n -->) rest on...") and a line starting
    with one broke its paragraph in two."""
    source = ("- **Rules**: the file holds <!-- n: year=2021 -->83<!-- /n --> for 2021 and\n"
              "<!-- n: year=2022 -->19<!-- /n --> for 2022, `<!-- n: x -->` in code\n"
              "<!-- a comment\nover two lines -->\n\n"
              "````\n```\n<!-- fenced -->\n```\n````\n\nafter <!-- gone -->the fence\n")
    page = render.markdown(source)
    assert ("<li><strong>Rules</strong>: the file holds 83 for 2021 and\n"
            "19 for 2022, <code>&lt;!-- n: x --&gt;</code> in code") in page
    assert "over two lines" not in page
    assert "<pre><code>```\n&lt;!-- fenced --&gt;\n```\n</code></pre>" in page  # the longer fence holds the shorter
    assert "<p>after the fence</p>" in page


@pytest.mark.parametrize("url, ok", [
    ("https://example.org/x", True), ("http://a.b", True), ("mailto:x@y.z", True), ("reports/a.csv", True),
    ("javascript:alert(1)", False), ("JaVaScRiPt:alert(1)", False), ("data:text/html,<script>", False),
    ("//evil.example/x", False), ("vbscript:x", False), ("java\nscript:alert(1)", False), (None, False), ("", False),
])
def test_safe_url(url, ok):
    assert (render.safe_url(url) is not None) is ok


def test_link_escapes_text_and_address_and_drops_unsafe_schemes():
    expected = '<a href="https://x.org/?a=&quot;1&quot;" rel="noopener noreferrer">&lt;b&gt;</a>'
    assert render.link('https://x.org/?a="1"', "<b>") == expected
    assert render.link("javascript:alert(1)", "x") == "x"


def test_table_has_human_headers_no_index_blanks_and_escaped_cells():
    frame = pd.DataFrame({"event_id": ["e1", "e2", "e3"], "url": ["https://a.org/1 https://b.org/2", "javascript:x", None],
                          "actor": ["<script>alert(1)</script>", pd.NA, "KH"], "n": [1, 2, 3],
                          "flag": [True, False, pd.NA]}, index=[10, 11, 12])
    page = render.table(frame, headers={"event_id": "event", "n": "events"}, links={"event_id": "url"}, max_rows=2,
                        more=render.link("x/cycles.csv", "the full table (CSV)"), all_urls=True)
    assert active_content(page) == []
    # headers: human where given, else the name with spaces; the URL column is not shown
    assert re.findall(r"<th\b[^>]*>(.*?)</th>", page) == ["event", "actor", "events", "flag"]
    assert ">10<" not in page  # no index
    first = '<a href="https://a.org/1" rel="noopener noreferrer">e1</a>'
    assert first + ' <a href="https://b.org/2" rel="noopener noreferrer">[2]</a>' in page
    assert '<td class="nowrap">e2</td>' in page  # an unsafe URL gives no link
    assert "&lt;script&gt;" in page and "&lt;NA&gt;" not in page and "<td></td>" in page
    assert "e3" not in page and "First 2 of 3 rows; 1 more" in page and 'href="x/cycles.csv"' in page
    assert "[2]" not in render.table(frame, links={"event_id": "url"})  # by default, the first source only


def test_table_formats_numbers_plainly():
    frame = pd.DataFrame({"x": [0.795454, 30.0, 1234567.0, 2.4e-12, float("inf")], "k": [1, 2, 3, 40000, 5]})
    page = render.table(frame)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", page)
    assert '<td class="num nowrap">1,234,567</td>' in page  # numbers right-aligned, short text on one line
    assert cells[0::2] == ["0.795", "30", "1,234,567", "2.4e-12", "&infin;"]
    assert cells[1::2] == ["1", "2", "3", "40,000", "5"]


def _labelled_figure():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("days")
    ax.set_ylabel("events")
    ax.set_title("A title")
    return fig


def test_figure_embeds_a_png_with_alt_text_and_a_caption():
    page = render.figure(_labelled_figure(), caption="What to see <here>.", alt='A line "up".')
    assert page.startswith('<figure class="report-figure"><img src="data:image/png;base64,')
    assert 'alt="A line &quot;up&quot;."' in page and "<figcaption>What to see &lt;here&gt;.</figcaption>" in page
    assert repr(page) == "What to see <here>."  # the notebook's plain-text copy is the caption, not the image


def test_figure_is_a_palette_png_of_at_most_256_colours():
    import base64
    import io

    from PIL import Image

    page = render.figure(_labelled_figure(), caption="c", alt="a")
    data = re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1)
    image = Image.open(io.BytesIO(base64.b64decode(data)))
    assert image.mode == "P" and len(image.getcolors(256)) <= 256


def test_figure_is_the_same_bytes_twice():
    assert render.figure(_labelled_figure(), caption="c", alt="a") == render.figure(_labelled_figure(), caption="c", alt="a")


def test_figure_keeps_a_legend_drawn_outside_the_axes():
    """A legend below the plot that is wider than the figure (the Kaplan-Meier and Hawkes-kernel
    legends of the report were cut off at "median not reach") widens the picture instead."""
    import base64
    import struct

    def png_size(page):
        data = base64.b64decode(re.search(r"base64,([^\"]+)", page).group(1))
        return struct.unpack(">II", data[16:24])  # the IHDR chunk: width, height

    fig = _labelled_figure()  # 6.4 x 4.8 inches: 614 x 461 pixels at 96 dpi
    fig.axes[0].plot([0, 1], [1, 0], label="a legend entry far too long to fit " * 3)
    fig.axes[0].legend(loc="upper left", bbox_to_anchor=(0, -0.14), frameon=False)
    width, height = png_size(render.figure(fig, caption="c", alt="a"))
    assert width > 614 and height > 461


def test_figure_refuses_a_figure_without_title_or_labels():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    with pytest.raises(ValueError, match=r"no title.*no x-axis label.*no y-axis label"):
        render.figure(fig, caption="c", alt="a")
    with pytest.raises(ValueError, match="caption"):
        render.figure(_labelled_figure(), caption=" ", alt="a")


def _notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def test_table_of_contents_links_the_ids_nbconvert_gives():
    nb = _notebook(nbformat.v4.new_markdown_cell("# Title\n\n## Findings\n\ntext\n```\n## not a heading\n```"),
                   nbformat.v4.new_markdown_cell("## Does each side answer the other more than chance?\n### sub"),
                   nbformat.v4.new_markdown_cell("## Strike \u2192 response table"))
    toc = table_of_contents(nb)
    ids = re.findall(r'href="#([^"]+)"', toc)
    assert ids == ["Findings", "Does-each-side-answer-the-other-more-than-chance?", "Strike-%E2%86%92-response-table"]
    headings = ["## Findings", "## Does each side answer the other more than chance?", "## Strike \u2192 response table"]
    for line, anchor in zip(headings, ids):
        assert f'id="{anchor}"' in markdown2html_mistune(line)


def test_page_check_refuses_script_in_an_output_or_a_markdown_output():
    ok = _notebook(nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output(
        "display_data", data={"text/html": render.table(pd.DataFrame({"a": ["<script>x</script>"]}))})]))
    _, resources = ReportPagePreprocessor().preprocess(ok, {})
    assert resources["report_toc"] == ""
    for data in ({"text/html": "<p>hi <img src=x onerror=alert(1)></p>"},
                 {"text/markdown": "spec: <script>alert(1)</script>"},
                 {"text/html": '<img src="https://tracker.example/p.png">'},
                 {"text/html": '<a href=" javascript:alert(1)">x</a>'}):
        bad = _notebook(nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", data=data)]))
        with pytest.raises(ActiveContentError, match="cell 0"):
            ReportPagePreprocessor().preprocess(bad, {})


@pytest.mark.parametrize("page, flagged", [
    ('<img alt="&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" src="data:image/png;base64,AAAA">', False),
    ('<a href="https://example.org/report">source</a>', False),  # followed only when clicked
    ("<p>onerror=alert(1) javascript:alert(1) &lt;script&gt;</p>", False),  # words, not markup
    ('<img src="x" onerror="alert(1)">', True),
    ('<a href="JavaScript:alert(1)">x</a>', True),
    ('<img src="//tracker.example/p.png">', True),
    ("<style>@import url(https://fonts.example/x.css);</style>", True),
    ('<div style="background: url(https://x.example/a.png)">x</div>', True),
    ("<SCRIPT>alert(1)</SCRIPT>", True),
    ('<iframe srcdoc="x"></iframe>', True),
])
def test_active_content_parses_the_html_rather_than_searching_it(page, flagged):
    assert bool(active_content(page)) is flagged, active_content(page)
