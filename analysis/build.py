"""Build steps that ``make`` calls between notebook runs.

``python -m analysis.build split-params PROFILE OUTDIR``
    Write one parameter file per notebook stage (``events.yaml``, ``cycles.yaml``, ...,
    ``report.yaml``; see :data:`STAGES`): the profile's ``common`` section merged with the
    stage's own. A file is
    rewritten only when its content changes, so editing one stage's parameter leaves the other
    stages' files, and so their outputs, untouched.
``python -m analysis.build scrub NOTEBOOK [--title TITLE]``
    Remove what differs from one run to the next in an executed notebook (papermill's and
    Jupyter's timestamps and durations, the random id of papermill's injected cell, and where
    the kernel happened to cut a cell's printed text into separate outputs), so that the HTML
    made from it is the same on every build.
``python -m analysis.build index REPORTS_DIR``
    Write ``index.html`` linking every report in the folder.
"""

from __future__ import annotations

import argparse
import html
import re
from pathlib import Path

import nbformat
import yaml
from nbconvert.preprocessors import CoalesceStreamsPreprocessor

__all__ = ["STAGES", "scrub_run", "split_params", "write_index"]

#: Notebook stages and the profile section each reads: 10-build-events, 20-build-cycles,
#: 30-retaliation-timing, 31-reaction-functions, 32-hawkes, 33-replications, 34-sensitivity,
#: 40-report.
STAGES = ("events", "cycles", "timing", "reaction", "hawkes", "replication", "sensitivity", "report", "news")


def _write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless it already holds exactly that; return whether it wrote."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def split_params(profile: str | Path, outdir: str | Path) -> dict[str, bool]:
    """Write ``<outdir>/<stage>.yaml`` for each stage of :data:`STAGES`.

    Returns
    -------
    dict
        Stage -> whether its file was (re)written.

    Raises
    ------
    ValueError
        If the profile has a top-level key that is neither ``common`` nor a stage (a typo would
        otherwise be ignored), or a stage repeats a ``common`` key.
    """
    profile = Path(profile)
    data = yaml.safe_load(profile.read_text(encoding="utf-8")) or {}
    unknown = sorted(set(data) - {"common", *STAGES})
    if unknown:
        raise ValueError(f"{profile}: unknown section(s) {unknown}; sections are: common, {', '.join(STAGES)}")
    common = data.get("common") or {}
    written = {}
    for stage in STAGES:
        own = data.get(stage) or {}
        clash = sorted(set(own) & set(common))
        if clash:
            raise ValueError(f"{profile}: section '{stage}' repeats common key(s) {clash}")
        merged = {**common, **own}
        text = f"# generated from {profile.as_posix()} (sections common + {stage}); edit that file\n"
        text += yaml.safe_dump(merged, sort_keys=False, allow_unicode=True)  # the author's order (it can matter)
        written[stage] = _write_if_changed(Path(outdir) / f"{stage}.yaml", text)
    return written


def scrub_run(notebook: str | Path, *, title: str | None = None) -> None:
    """Remove run-specific values from an executed notebook, in place.

    Drops timestamps and durations, and numbers the cells ``cell-00``, ``cell-01``... (papermill
    gives its injected-parameters cell a random id). Joins consecutive outputs of one stream
    (nbconvert's ``CoalesceStreamsPreprocessor``): the kernel flushes printed text on a timer, so
    two ``print`` calls on either side of a slow step come out as one output or two depending on
    the machine's speed, which nbconvert renders as one ``<pre>`` block or two. ``title``, when
    given, is stored as the notebook's title (nbconvert's HTML ``<title>``).
    """
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m analysis.build", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("split-params", help="one parameter file per stage")
    p.add_argument("profile")
    p.add_argument("outdir")
    p = sub.add_parser("scrub", help="drop run-specific values from an executed notebook")
    p.add_argument("notebook")
    p.add_argument("--title", help="title stored in the notebook's metadata")
    p = sub.add_parser("index", help="write index.html for a reports folder")
    p.add_argument("reports_dir")
    args = parser.parse_args(argv)
    if args.command == "split-params":
        for stage, wrote in split_params(args.profile, args.outdir).items():
            print(f"{args.outdir}/{stage}.yaml: {'written' if wrote else 'unchanged'}")
    elif args.command == "scrub":
        scrub_run(args.notebook, title=args.title)
    else:
        print(write_index(args.reports_dir))


if __name__ == "__main__":
    main()
