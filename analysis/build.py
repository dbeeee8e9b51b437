"""Build steps that ``make`` calls (see the Makefile and :mod:`analysis.stages`).

``python -m analysis.build graph GRAPH``
    Write ``data/processed/graph.mk`` (the stages' tables and code, the reports, each report's
    inputs) and each report's per-section parameter files; refuse a misspelt profile key; say
    which profiles are skipped for want of data. Runs on every ``make`` of a build target.
``python -m analysis.build run REPORT PREREQUISITES... [--html PAGE]``
    Run one stage for one report, with one line on the console (:mod:`analysis.runner`).
``python -m analysis.build sync-params [--check]``
    Copy ``notebooks/params/default.yaml`` into every stage notebook's parameters cell.
``python -m analysis.build deps NOTEBOOK``
    List the ``analysis/`` files a notebook imports, transitively.
``python -m analysis.build scrub NOTEBOOK [--title TITLE]``
    Remove what differs from one run to the next in an executed notebook (papermill's and
    Jupyter's timestamps and durations, the random id of papermill's injected cell, and where
    the kernel happened to cut a cell's printed text into separate outputs), so that the HTML
    made from it is the same on every build.
``python -m analysis.build index REPORTS_DIR``
    Write ``index.html`` linking every report in the folder, and say which reports this build
    made and where to open them.

Imports are lazy: a step loads only what it uses (the notebook stack costs seconds).
"""

from __future__ import annotations

import argparse
import contextlib
import html
import re
import sys
from pathlib import Path

__all__ = ["scrub_run", "write_index"]


def _write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless it already holds exactly that; return whether it wrote."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def scrub_run(notebook: str | Path, *, title: str | None = None) -> None:
    """Remove run-specific values from an executed notebook, in place.

    Drops timestamps and durations, and numbers the cells ``cell-00``, ``cell-01``... (papermill
    gives its injected-parameters cell a random id). Joins consecutive outputs of one stream
    (nbconvert's ``CoalesceStreamsPreprocessor``): the kernel flushes printed text on a timer, so
    two ``print`` calls on either side of a slow step come out as one output or two depending on
    the machine's speed, which nbconvert renders as one ``<pre>`` block or two. ``title``, when
    given, is stored as the notebook's title (nbconvert's HTML ``<title>``).
    """
    import nbformat
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    path = Path(notebook)
    nb = nbformat.read(path, as_version=4)
    if title is not None:
        nb.metadata["title"] = title
    pm = nb.metadata.get("papermill", {})
    for key in ("start_time", "end_time", "duration", "input_path", "output_path"):
        pm.pop(key, None)
    for i, cell in enumerate(nb.cells):
        if "id" in cell:
            cell["id"] = f"cell-{i:02d}"
        cell.metadata.pop("execution", None)
        for key in ("start_time", "end_time", "duration", "exception", "status"):
            cell.metadata.get("papermill", {}).pop(key, None)
    CoalesceStreamsPreprocessor().preprocess(nb, {})
    nbformat.write(nb, path)


def _title(report: Path) -> str:
    match = re.search(r"<title>(.*?)</title>", report.read_text(encoding="utf-8", errors="replace"), flags=re.S)
    return html.unescape(match.group(1).strip()) if match else report.stem


def _headline(report: Path) -> str | None:
    """The report's headline finding (``<span class="report-headline">``, written by analysis.report), as text."""
    match = re.search(r'<span class="report-headline">(.*?)</span>', report.read_text(encoding="utf-8", errors="replace"),
                      flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else None


def _order(report: Path) -> tuple:
    """Reports grouped by dyad; in a dyad, its main report first, then variants, coverage and news."""
    dyad, _, variant = report.stem.partition("--")
    rank = 0 if not variant else (2 if variant in ("coverage", "news") else 1)
    return (dyad, rank, variant)


def write_index(reports_dir: str | Path) -> Path:
    """Write ``index.html`` in ``reports_dir``: every other ``*.html`` there, grouped by dyad.

    Each dyad lists its main report first (``<dyad>.html``) with its headline finding, then its
    variants (``<dyad>--<variant>.html``), its coverage and news reports, and the folder of CSV
    files beside a report when there is one. Text from the reports is escaped.
    """
    folder = Path(reports_dir)
    reports = sorted((p for p in folder.glob("*.html") if p.name != "index.html"), key=_order)
    sections = []
    for dyad in dict.fromkeys(_order(p)[0] for p in reports):
        items = []
        for p in (r for r in reports if _order(r)[0] == dyad):
            line = f'<a href="{html.escape(p.name)}">{html.escape(_title(p))}</a>'
            headline = _headline(p)
            if headline:
                line += f"<br><span class=\"headline\">{html.escape(headline)}</span>"
            if (folder / p.stem).is_dir():
                files = sorted(f.name for f in (folder / p.stem).glob("*.csv"))
                if files:
                    line += " <span class=\"data\">Data: " + ", ".join(
                        f'<a href="{html.escape(p.stem)}/{html.escape(f)}">{html.escape(f)}</a>' for f in files) + "</span>"
            items.append(f"    <li>{line}</li>")
        sections.append(f"  <h2>{html.escape(dyad)}</h2>\n  <ul>\n" + "\n".join(items) + "\n  </ul>")
    body = "\n".join(sections) if sections else "  <p>No report has been built yet: run <code>make reports</code>.</p>"
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="referrer" content="no-referrer">
  <title>Escalation-cycle reports</title>
  <style>
    body {{ font-family: system-ui, "Segoe UI", Roboto, "Helvetica Neue", Arial, "DejaVu Sans", sans-serif; max-width: 52rem;
           margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #1b1b1b; }}
    h2 {{ font-size: 1.2rem; margin-top: 1.8rem; border-bottom: 1px solid #ddd; }}
    li {{ margin-bottom: 0.6rem; }}
    .headline {{ color: #333; }}
    .data {{ font-size: 0.85rem; color: #555; }}
    a {{ color: #1a5fb4; }}
  </style>
</head>
<body>
  <h1>Escalation-cycle reports</h1>
  <p>One report per dyad, built by <code>make reports</code> from the notebooks in <code>notebooks/</code>; each dyad's
  main report comes first, with its headline finding.</p>
{body}
</body>
</html>
"""
    out = folder / "index.html"
    _write_if_changed(out, page)
    return out


def _summary(reports_dir: Path, before: float | None) -> str:
    """The build's closing line: the reports made in this run (newer than the previous index)."""
    pages = sorted(p for p in reports_dir.glob("*.html") if p.name != "index.html")
    made = [p.as_posix() for p in pages if before is None or p.stat().st_mtime > before]
    index = (reports_dir / "index.html").as_posix()
    return (f"Built {', '.join(made)}" if made else "No report rebuilt") + f"; open {index}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.build", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("graph", help="write the make include file and the reports' parameter files")
    p.add_argument("graph", nargs="?", default="data/processed/graph.mk")
    p = sub.add_parser("run", help="run one stage for one report")
    p.add_argument("report")
    p.add_argument("prerequisites", nargs="+")
    p.add_argument("--html", help="the report page to write from the executed notebook")
    p = sub.add_parser("sync-params", help="copy default.yaml into the notebooks' parameters cells")
    p.add_argument("--check", action="store_true", help="only list the notebooks that differ (exit 1 if any)")
    p = sub.add_parser("deps", help="the analysis/ files a notebook imports, transitively")
    p.add_argument("notebook")
    p = sub.add_parser("scrub", help="drop run-specific values from an executed notebook")
    p.add_argument("notebook")
    p.add_argument("--title", help="title stored in the notebook's metadata")
    p = sub.add_parser("index", help="write index.html for a reports folder")
    p.add_argument("reports_dir")
    args = parser.parse_args(argv)
    import yaml  # its errors name the file, line and column of a profile or spec that is not YAML

    if args.command == "run":
        from analysis.runner import main as run_main

        return run_main(args.report, args.prerequisites, html=args.html)
    try:
        if args.command == "graph":
            from analysis.makegraph import write_graph

            reports, changed = write_graph(args.graph)
            if not changed:  # make reads the graph again after it changes: say it once, on the last read
                for report in reports:
                    if report.skipped:
                        print(f"not building reports/{report.name}.html: {report.skipped}")
        elif args.command == "sync-params":
            from analysis.makegraph import sync_parameters

            changed = sync_parameters(check=args.check)
            verb = "differ from notebooks/params/default.yaml" if args.check else "rewritten"
            print(f"{len(changed)} parameters cell(s) {verb}" + "".join(f"\n  {n}" for n in changed))
            return 1 if args.check and changed else 0
        elif args.command == "deps":
            from analysis.stages import code_dependencies

            print("\n".join(code_dependencies(args.notebook)))
        elif args.command == "scrub":
            scrub_run(args.notebook, title=args.title)
        else:
            folder = Path(args.reports_dir)
            index = folder / "index.html"
            before = index.stat().st_mtime if index.is_file() else None
            write_index(folder)
            index.touch()  # written or not, it is now up to date for make
            print(_summary(folder, before))
    except ValueError as exc:  # a user's error (a profile, a notebook's parameters): the message alone
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except yaml.YAMLError as exc:  # a profile or dyad spec that is not YAML: its file, line and column
        print(f"error: {_yaml_problem(exc)}", file=sys.stderr)
        return 1
    return 0


def _yaml_problem(exc) -> str:
    """A YAML syntax error as one line: the file (project-relative), line and column (1-based)
    and what is wrong, as the parser says it."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is None:
        return f"not valid YAML: {problem}"
    name = Path(mark.name)
    with contextlib.suppress(ValueError):
        name = name.resolve().relative_to(Path.cwd().resolve())
    return f"{name.as_posix()}, line {mark.line + 1}, column {mark.column + 1}: not valid YAML: {problem}"


if __name__ == "__main__":
    sys.exit(main())
