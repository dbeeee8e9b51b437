"""The report page as nbconvert writes it: a table of contents, and a last check for active content.

``make`` converts each executed report notebook with the template in ``templates/report/``
(JupyterLab's template without require.js, MathJax or Mermaid from a CDN, so the page loads
nothing from the network). That template's ``conf.json`` runs :class:`ReportPagePreprocessor`,
which

- lists the notebook's ``##`` headings as a table of contents (``resources["report_toc"]``),
  linking to the ids nbconvert gives the headings (found by rendering each heading with
  nbconvert's own Markdown renderer, so the links cannot drift from the ids);
- refuses to write a page when an output carries active content: a ``<script>``, an event
  attribute (``onerror=``...), a ``javascript:`` address, an ``<iframe>``/``<object>``/
  ``<embed>``, or an element that loads a resource from the network. Text from data is escaped
  by :mod:`analysis.render` before it reaches an output; this check catches a place that forgot.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbconvert.preprocessors import Preprocessor

__all__ = ["ActiveContentError", "ReportPagePreprocessor", "active_content", "table_of_contents"]

#: Elements that run code or load a document or resource into the page.
ACTIVE_ELEMENTS = {"script", "iframe", "object", "embed", "frame", "frameset", "applet", "base", "meta", "link", "form",
                   "portal"}
#: Attributes that load what they name.
LOADING_ATTRIBUTES = {"src", "srcset", "poster", "data", "background", "lowsrc", "dynsrc", "action", "formaction"}
_NETWORK_URL = re.compile(r"^\s*(https?:)?//", re.I)
_SCRIPT_URL = re.compile(r"^\s*(javascript|vbscript|data\s*:\s*text/html)", re.I)
_STYLE_LOAD = re.compile(r"url\(\s*[\"']?\s*(https?:)?//|@import|expression\s*\(", re.I)


class ActiveContentError(ValueError):
    """A report output holds script or loads from the network: data text was not escaped."""


class _Scanner(HTMLParser):
    """Walks HTML and notes every element or attribute that could run or load something."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        if tag in ACTIVE_ELEMENTS:
            self.found.append(f"a <{tag}> element")
        self._in_style = tag == "style"
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.found.append(f"an event attribute {name}= on <{tag}>")
            elif name in ("href", "xlink:href") + tuple(LOADING_ATTRIBUTES) and _SCRIPT_URL.match(value):
                self.found.append(f"a script address in {name}= on <{tag}>: {value[:60]!r}")
            elif name in LOADING_ATTRIBUTES and _NETWORK_URL.match(value):
                self.found.append(f"<{tag} {name}=...> loads {value[:80]!r} from the network")
            elif name == "style" and _STYLE_LOAD.search(value):
                self.found.append(f"a style on <{tag}> that loads from the network")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style and _STYLE_LOAD.search(data):
            self.found.append("a <style> that loads from the network")


def active_content(text: str) -> list[str]:
    """What in ``text`` (HTML, as the browser will parse it) could run script or load from the network.

    Elements that run or load (:data:`ACTIVE_ELEMENTS`), event attributes (``onerror=``...),
    ``javascript:`` addresses, attributes that load from ``http(s)://`` (:data:`LOADING_ATTRIBUTES`;
    a link's ``href`` is followed only when clicked and is allowed), and styles that load. Text
    that merely reads like HTML (escaped data) is not flagged: the HTML is parsed, not searched.
    """
    scanner = _Scanner()
    scanner.feed(text)
    scanner.close()
    return list(dict.fromkeys(scanner.found))


def _headings(source: str, level: int) -> list[str]:
    marker = "#" * level + " "
    in_fence = False
    out = []
    for line in source.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        elif not in_fence and line.startswith(marker):
            out.append(line)
    return out


def table_of_contents(nb, *, level: int = 2) -> str:
    """An ordered list linking every heading of ``level`` in the notebook's Markdown cells."""
    items = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in _headings(cell.source, level):
            rendered = markdown2html_mistune(line)
            match = re.search(r'<h\d id="([^"]+)">(.*?)<a class="anchor-link"', rendered, flags=re.S)
            if match:
                items.append(f'<li><a href="#{match.group(1)}">{match.group(2).strip()}</a></li>')
    return "<ol>" + "".join(items) + "</ol>" if items else ""


def _text(value) -> str:
    return value if isinstance(value, str) else "".join(value)


class ReportPagePreprocessor(Preprocessor):
    """Add the table of contents to the resources and check every output for active content."""

    def preprocess(self, nb, resources):
        problems = []
        for i, cell in enumerate(nb.cells):
            pages = []  # the HTML each part of the cell becomes
            if cell.cell_type == "markdown":
                pages.append(markdown2html_mistune(cell.source))
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if "application/javascript" in data:
                    problems.append(f"cell {i}: a JavaScript output")
                for mime in ("text/html", "image/svg+xml"):
                    if mime in data:
                        pages.append(_text(data[mime]))
                if "text/markdown" in data and "text/html" not in data:
                    pages.append(markdown2html_mistune(_text(data["text/markdown"])))
            for page in pages:
                problems += [f"cell {i}: {p}" for p in active_content(page)]
        if problems:
            name = html.unescape(resources.get("metadata", {}).get("name", "notebook"))
            raise ActiveContentError(
                f"{name}: refusing to write a report page with active content (escape data text with "
                "analysis.render): " + "; ".join(dict.fromkeys(problems))
            )
        resources["report_toc"] = table_of_contents(nb)
        return nb, resources
