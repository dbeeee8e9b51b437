"""Putting data into a report page: escaped text, safe Markdown, figures and tables as HTML.

Every report renders text that comes from data or from a spec (a codebook section, a spec's
description, event summaries, news sentences, actor names, places, URLs). A page is a document a
browser runs, so any such text that reaches it unescaped can run script (``<script>``, an
``onerror`` attribute) or make the page load something from the network (an image from a URL).
This module is the one place that turns data into page text:

:func:`escape`
    Text from data, for HTML (``<``, ``>``, ``&`` and quotes become entities; missing values
    become empty text).
:func:`escape_markdown`
    Text from data, for a Markdown source that nbconvert renders: HTML specials become entities,
    Markdown punctuation is backslash-escaped (so ``[x](javascript:...)`` or ``![](http://...)``
    stays text, ``$`` opens no formula) and line breaks cannot start a new block.
:func:`markdown`
    A Markdown document from data (e.g. a codebook section) rendered to HTML keeping its
    structure (lists, emphasis, links), HTML comments left out and other raw HTML shown as text,
    images not loaded (their description is shown, linked) and links limited to ``http``,
    ``https``, ``mailto`` and relative addresses.
:func:`figure`
    A matplotlib figure as ``<figure>`` with an embedded PNG, alt text and a one-sentence
    caption; the figure is checked for a title and labelled axes first
    (:func:`analysis.plots.check_figure`).
:func:`table`
    A DataFrame as an HTML table with human headers, no index column, blanks for missing
    values, optional links (an event id to its source) and a row limit with a note.

Each returns an :class:`Html` string, which Jupyter displays as HTML (``display(x)``).
"""

from __future__ import annotations

import base64
import html
import io
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

__all__ = ["Html", "escape", "escape_markdown", "figure", "join", "link", "markdown", "safe_url", "table"]

#: URL schemes a report may link to; anything else (javascript:, data:, file:...) is dropped.
SAFE_SCHEMES = ("http", "https", "mailto")

# Markdown punctuation a CommonMark parser (and nbconvert's math pre-pass) gives a meaning to.
# `&`, `<`, `>` and quotes are not here: they become HTML entities instead.
_MARKDOWN_PUNCTUATION = set("\\`*_{}[]()#+-.!|~$:=^")


class Html(str):
    """A piece of HTML that Jupyter displays as HTML (and as its caption or first words in plain
    text, so a notebook file does not carry a figure twice)."""

    def _repr_html_(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        text = re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]*"', "", str(self)))
        text = " ".join(html.unescape(text).split())
        return text[:200] + ("..." if len(text) > 200 else "")


def _missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float) and np.isnan(value))
    except TypeError:
        return False


def escape(value) -> str:
    """Text from data, escaped for HTML; a missing value (None, NA, NaN, NaT) gives ``""``.

    Examples
    --------
    >>> escape('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    """
    if _missing(value):
        return ""
    return html.escape(str(value), quote=True)


def escape_markdown(value) -> str:
    """Text from data, escaped for insertion into a Markdown source that nbconvert renders.

    HTML specials become entities, Markdown punctuation is backslash-escaped, and runs of
    whitespace (line breaks included, which could start a list or heading) become one space.
    A missing value gives ``""``.

    Examples
    --------
    >>> escape_markdown("![x](http://a/b.png) <b>")
    '\\\\!\\\\[x\\\\]\\\\(http\\\\://a/b\\\\.png\\\\) &lt;b&gt;'
    """
    if _missing(value):
        return ""
    out = []
    for char in " ".join(str(value).split()):
        if char in _MARKDOWN_PUNCTUATION:
            out.append("\\" + char)
        else:
            out.append(html.escape(char, quote=True))
    return "".join(out)


def safe_url(url) -> str | None:
    """``url`` if a report may link to it (``http``, ``https``, ``mailto``, or a relative address
    without a scheme), else None."""
    if _missing(url):
        return None
    url = str(url).strip()
    if not url or any(ord(c) < 32 for c in url):
        return None
    scheme = urlsplit(url).scheme.lower()
    if scheme and scheme not in SAFE_SCHEMES:
        return None
    if not scheme and (url.startswith("//") or ":" in url.split("/")[0]):
        return None  # protocol-relative, or a scheme urlsplit did not see
    return url


def link(url, text=None) -> Html:
    """An ``<a>`` element to ``url`` (escaped) showing ``text`` (escaped; the URL by default).
    A URL with an unsafe scheme gives the text alone, unlinked."""
    shown = escape(url if text is None else text)
    target = safe_url(url)
    if target is None:
        return Html(shown)
    rel = ' rel="noopener noreferrer"' if urlsplit(target).scheme in ("http", "https") else ""
    return Html(f'<a href="{escape(target)}"{rel}>{shown}</a>')


def join(parts: Sequence[str], tag: str = "p") -> Html:
    """HTML fragments (already escaped) joined into one element ``tag``."""
    return Html(f"<{tag}>" + "".join(parts) + f"</{tag}>")


def _markdown_renderer():
    import mistune

    class _SafeRenderer(mistune.HTMLRenderer):
        """Raw HTML as text; images as a link to the picture; only safe link targets."""

        def __init__(self):
            super().__init__(escape=True, allow_harmful_protocols=False)

        def safe_url(self, url: str) -> str:
            checked = safe_url(url)
            return "#unsafe-link-removed" if checked is None else escape(checked)

        def image(self, text: str, url: str, title=None) -> str:
            return f'[image: {self.link(text or "picture", url)}]'

    return mistune.create_markdown(renderer=_SafeRenderer(), plugins=["table", "strikethrough"])


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*(\S*)")
_CODE_SPAN_OR_COMMENT = re.compile(r"(`+).*?(?<!`)\1(?!`)|<!--.*?-->", re.S)


def _drop_comments(source: str) -> str:
    """``source`` without its HTML comments (``<!-- ... -->``), except inside code.

    A comment is invisible wherever Markdown is read (CommonMark passes it on as HTML, which a
    browser does not show), and codebooks keep machine-written markers in them
    (:mod:`analysis.codebook`); since raw HTML is shown here as text, they go before rendering.
    """
    def prose(text: str) -> str:
        return _CODE_SPAN_OR_COMMENT.sub(lambda m: m.group(0) if m.group(1) else "", text)

    out, pending, fence = [], [], None
    for line in source.splitlines(keepends=True):
        marker = _FENCE.match(line)
        if fence is None and marker:  # a fenced code block opens: the prose before it is done
            out += [prose("".join(pending)), line]
            pending, fence = [], marker.group(1)
        elif fence is not None:  # inside a fence, until a bare fence of the same kind, as long
            out.append(line)
            if marker and marker.group(1).startswith(fence) and not marker.group(2):
                fence = None
        else:
            pending.append(line)
    return "".join(out) + prose("".join(pending))


def markdown(source: str) -> Html:
    """Render a Markdown document that comes from data (a codebook section) to safe HTML.

    Structure (paragraphs, lists, emphasis, code, tables, links) is kept; HTML comments are left
    out, as any Markdown viewer does (outside code); other raw HTML is shown as text; an image is
    not loaded but shown as a link; link targets other than ``http(s)``, ``mailto`` and relative
    addresses are removed.
    """
    if _missing(source):
        return Html("")
    return Html(_markdown_renderer()(_drop_comments(str(source))))


def figure(fig, *, caption: str, alt: str, dpi: int = 96, check: bool = True) -> Html:
    """A matplotlib figure as an HTML ``<figure>``: an embedded PNG with ``alt`` text and a
    ``<figcaption>``. The figure is closed.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    caption : str
        One sentence saying what to see (plain text; escaped here).
    alt : str
        What the picture shows, for a reader who cannot see it (plain text; escaped here).
    dpi : int
        Resolution of the PNG: 96 makes a 12-inch figure as wide as a report's text column
        (a page of ten figures stays well under 1 MB).
    check : bool
        Run :func:`analysis.plots.check_figure` first: a figure without a title or with an
        unlabelled axis is refused (``ValueError``); a legend over the data gives a
        :class:`analysis.plots.FigureWarning`.

    Raises
    ------
    ValueError
        If the caption or the alt text is empty, or the figure fails the check.
    """
    import matplotlib.pyplot as plt

    from analysis.plots import FigureWarning, check_figure

    if not str(caption).strip() or not str(alt).strip():
        raise ValueError("a report figure needs a caption (what to see) and alt text (what it shows)")
    if check:
        problems = check_figure(fig)
        hard = [p for p in problems if not p.startswith("legend")]
        if hard:
            plt.close(fig)
            raise ValueError("figure refused: " + "; ".join(hard))
        for p in problems:
            warnings.warn(p, FigureWarning, stacklevel=2)
    from PIL import Image

    buffer = io.BytesIO()
    # no date or software stamp in the PNG: two builds give the same bytes; the canvas grows to
    # hold a legend or label drawn outside the axes (below the plot, say), which would be cut off
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight", pad_inches=0.1,
                facecolor="white")
    plt.close(fig)
    # 256 colours (median cut, no dithering) look the same for line art and take a third of the
    # bytes of the full-colour PNG, which keeps a page of a dozen figures under a megabyte
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    buffer = io.BytesIO()
    image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(buffer, format="PNG", optimize=True)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return Html(
        f'<figure class="report-figure"><img src="data:image/png;base64,{data}" alt="{escape(alt)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _cell(value, fmt: Callable | None) -> str:
    if fmt is not None and not _missing(value):
        return escape(fmt(value))
    if _missing(value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp):
        return escape(value.strftime("%Y-%m-%d") if value == value.normalize() else value.strftime("%Y-%m-%d %H:%M"))
    if isinstance(value, (float, np.floating)):
        if np.isinf(value):
            return "&infin;" if value > 0 else "&minus;&infin;"
        return escape(f"{value:.3g}" if abs(value) < 1e-3 and value != 0 else f"{value:,.3f}".rstrip("0").rstrip("."))
    if isinstance(value, (int, np.integer)):
        return escape(f"{value:,}" if abs(int(value)) >= 10000 else str(value))
    return escape(value)


def table(
    frame: pd.DataFrame,
    *,
    headers: Mapping[str, str] | None = None,
    links: Mapping[str, str] | None = None,
    formats: Mapping[str, Callable] | None = None,
    max_rows: int | None = None,
    more: str | None = None,
    caption: str | None = None,
    numeric: Sequence[str] | None = None,
    all_urls: bool = False,
) -> Html:
    """A DataFrame as an HTML table: no index column, human headers, every cell escaped.

    Parameters
    ----------
    frame : DataFrame
        The rows and columns to show, in order (the index is not shown: reset it first if it
        carries data).
    headers : mapping, optional
        Column -> header text; other columns show their name with underscores as spaces.
    links : mapping, optional
        Column -> the column holding its URL(s) (separated by spaces): the cell links to the
        first ``http(s)`` URL; with ``all_urls``, the others follow as ``[2]``, ``[3]``...
    formats : mapping, optional
        Column -> function of a value giving its text (missing values stay blank).
    max_rows : int, optional
        Show the first rows only, then a line saying how many are left out and ``more``.
    more : str, optional
        HTML (already safe, e.g. from :func:`link`) after the count of rows left out: where the
        full table is.
    caption : str, optional
        Plain text caption above the table (escaped here).
    numeric : sequence of str, optional
        Columns aligned right (default: numeric dtypes).
    """
    headers = dict(headers or {})
    links = dict(links or {})
    formats = dict(formats or {})
    missing = [c for c in links.values() if c not in frame.columns]
    if missing:
        raise ValueError(f"link column(s) {missing} not in the table; columns are: {', '.join(map(str, frame.columns))}")
    shown_cols = [c for c in frame.columns if c not in set(links.values()) - set(links)]
    if numeric is not None:
        right = set(numeric)
    else:
        right = {c for c in shown_cols if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])}
    rows = frame if max_rows is None else frame.head(max_rows)
    NUM = ' class="num"'
    head = "".join(
        f'<th{NUM if c in right else ""} scope="col">{escape(headers.get(c, str(c).replace("_", " ")))}</th>'
        for c in shown_cols
    )
    body = []
    for record in rows.itertuples(index=False, name=None):
        values = dict(zip(frame.columns, record))
        cells = []
        for c in shown_cols:
            text = _cell(values[c], formats.get(c))
            if c in links and text:
                # absolute web addresses only: a source column may also hold words
                urls = [u for u in str(values[links[c]] if not _missing(values[links[c]]) else "").split()
                        if safe_url(u) and urlsplit(u).scheme in ("http", "https")]
                if urls:
                    text = link(urls[0], html.unescape(text)) + "".join(
                        f" {link(u, f'[{i}]')}" for i, u in enumerate(urls[1:] if all_urls else [], start=2))
            # short text on one line (dates, side names); long text (a sentence) wraps in a column wide enough to read
            length = len(html.unescape(re.sub(r"<[^>]+>", "", text)))
            classes = " ".join(k for k, on in (("num", c in right), ("nowrap", 0 < length <= 28), ("long", length > 60)) if on)
            cells.append(f'<td class="{classes}">{text}</td>' if classes else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    out = f'<table class="report-table">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    if max_rows is not None and len(frame) > max_rows:
        rest = ": " + more if more else "."
        out += f'<p class="table-note">First {max_rows} of {len(frame):,} rows; {len(frame) - max_rows:,} more{rest}</p>'
    elif more:
        out += f'<p class="table-note">{more}</p>'
    return Html(out)
