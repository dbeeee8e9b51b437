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

from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbconvert.preprocessors import Preprocessor

__all__ = ["ActiveContentError", "ReportPagePreprocessor", "active_content", "table_of_contents"]

#: What an output may not contain (each pattern with what it is, for the error message).
ACTIVE_CONTENT = (
    (re.compile(r"<\s*script\b", re.I), "a <script> element"),
    (re.compile(r"<\s*(iframe|object|embed|frame|base|meta|link)\b", re.I), "an element that runs or loads content"),
    (re.compile(r"<[^>]*\son[a-z]+\s*=", re.I), "an event attribute (on...=)"),
    (re.compile(r"<[^>]*\s(href|src|action|formaction|xlink:href)\s*=\s*[\"']?\s*(javascript|vbscript|data:text)", re.I),
     "a script address (javascript:...)"),
    (re.compile(r"<[^>]*\s(src|srcset|poster|data)\s*=\s*[\"']?\s*(https?:)?//", re.I), "a resource loaded from the network"),
    (re.compile(r"url\(\s*[\"']?\s*(https?:)?//", re.I), "a style loading from the network"),
    (re.compile(r"@import", re.I), "a style import"),
)


class ActiveContentError(ValueError):
    """A report output holds script or loads from the network: data text was not escaped."""


def active_content(text: str) -> list[str]:
    """What active content ``text`` (HTML) holds, as short descriptions with the offending snippet."""
    found = []
    for pattern, what in ACTIVE_CONTENT:
        match = pattern.search(text)
        if match:
            start = max(0, match.start() - 30)
            found.append(f"{what}: ...{text[start:match.end() + 30]!r}...")
    return found


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
