"""Run one notebook stage of the build for one report, quietly.

``python -m analysis.build run REPORT PREREQUISITES... [--html PAGE]`` is the recipe of every
stage rule in the Makefile (``$(RUN)``: the report is make's ``$*``, the prerequisites its
``$^``, the notebook first). It

1. reads the stage's settings from the report's parameter files among the prerequisites
   (``data/processed/<report>/params/<section>.yaml``, written by the graph step) and fills in
   every path parameter of the notebook (:func:`analysis.stages.make_path`), refusing a path to
   read that make does not list as a prerequisite (the rule would be wrong: a change to that
   file would not rebuild the stage);
2. executes the notebook with papermill in this process, to
   ``data/processed/<report>/notebooks/<notebook>``, with everything the run prints (papermill,
   Jupyter, the kernel's own log, a failing cell's traceback) going to
   ``data/processed/<report>/logs/<stage>.log``, which starts with the equivalent papermill
   command;
3. checks that the notebook wrote every table it declares (``<table>_out``);
4. for a report, removes run-specific values from the executed notebook
   (:func:`analysis.build.scrub_run`) and writes the HTML page without code (nbconvert,
   ``--no-input``), to a temporary name renamed when complete;
5. prints one line, ``[stage] report ... 4.2 s``. On failure it prints the cell's error first,
   then where the full log is, and exits with status 1 (make then deletes the stage's targets).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shlex
import sys
import time
from pathlib import Path, PurePosixPath

from analysis.stages import (
    DEFAULT_PROFILE,
    PROCESSED,
    SIBLING_REPORTS,
    _load_yaml,
    declared_parameters,
    make_path,
    profile_of_report,
    read_stages,
    setting_names,
)

__all__ = ["StageFailed", "run_stage"]

KERNEL = "escalation"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class StageFailed(Exception):
    """A stage did not complete; the message is what the console shows."""


@contextlib.contextmanager
def _output_to(log_path: Path):
    """Send this process's and its children's (the kernel's) stdout, stderr and logging to a file."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log_path.open("a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        handler = logging.StreamHandler(log)
        handler.setFormatter(logging.Formatter("%(name)s %(levelname)s: %(message)s"))
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        logging.captureWarnings(True)
        try:
            yield log
        finally:
            logging.captureWarnings(False)
            root.removeHandler(handler)
            root.setLevel(old_level)
            sys.stdout.flush()
            sys.stderr.flush()
            log.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _html_title(notebook: Path, report: str) -> str:
    """``<report>: <the notebook's heading>``, its number dropped ("05 · News articles to events"
    -> "news articles to events")."""
    import json

    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown" and (m := re.match(r"#\s+(?:\d+\s*·\s*)?(.+)", source)):
            heading = m.group(1).strip()
            if len(heading) > 1 and not heading[1].isupper():
                heading = heading[0].lower() + heading[1:]
            return f"{report}: {heading}"
    return report


def export_html(executed: Path, page: Path, *, title: str, templates: Path | None = None) -> None:
    """Scrub an executed notebook and write it as an HTML page without code (``--no-input``),
    through the project's template ``templates/report`` (nothing loaded from the network, a
    table of contents; :mod:`analysis.htmlpage`)."""
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    from analysis.build import scrub_run

    scrub_run(executed, title=title)
    templates = templates if templates is not None else executed.parents[3] / "templates"
    config = Config({"TemplateExporter": {"exclude_input": True, "exclude_input_prompt": True,
                                          "exclude_output_prompt": True,
                                          "extra_template_basedirs": [str(templates)], "template_name": "report"}})
    body, _ = HTMLExporter(config=config).from_filename(str(executed))
    page.parent.mkdir(parents=True, exist_ok=True)
    tmp = page.with_name(f".{page.name}.tmp")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(page)


def _is_folder_or_page(name: str) -> bool:
    """Path parameters that name a folder the stage writes into, or a sibling report's page (a
    link), not a file the stage reads."""
    return name in SIBLING_REPORTS or name == "downloads_folder"


def run_stage(report: str, prerequisites: list[str], *, html: str | None = None,
              root: str | Path | None = None, kernel: str = KERNEL) -> float:
    """Run the stage whose notebook is ``prerequisites[0]`` for ``report``; return its seconds.

    Raises
    ------
    StageFailed
        When the notebook fails (the message begins with the cell's error), does not write a
        table it declares, or reads a file make does not list among ``prerequisites``.
    """
    from analysis.paths import project_root

    root = Path(root) if root is not None else project_root()
    notebook = prerequisites[0]
    stage = next((s for s in read_stages(root) if s.notebook == notebook), None)
    if stage is None:
        raise StageFailed(f"{notebook} is not the notebook of a stage rule in the Makefile")
    profile = profile_of_report(report, root)
    defaults = _load_yaml(root / DEFAULT_PROFILE) or {}
    declared = declared_parameters(notebook, root)
    settings = setting_names(stage, defaults)
    given = set(prerequisites)

    param_files = [f"{PROCESSED}/{report}/params/{section}.yaml" for section in stage.sections]
    parameters: dict[str, object] = {}
    for path in param_files:
        if path not in given:
            raise StageFailed(f"[{stage.name}] {report}: {path} is not a prerequisite of the stage's rule "
                              f"(Makefile line {stage.line})")
        parameters.update(_load_yaml(root / path) or {})
    refused = sorted(set(parameters) - {k for k in declared if k in settings})
    if refused:
        raise StageFailed(f"[{stage.name}] {report}: {', '.join(param_files)} set(s) {refused}, which {notebook} "
                          "does not declare as settings")
    outputs = []
    for name, default in declared.items():
        if name in settings:
            continue
        path = make_path(name, default, report=report, profile=profile, root=root)
        if name.endswith("_out"):
            outputs.append(path)
        elif path and path not in given and not _is_folder_or_page(name):
            raise StageFailed(f"[{stage.name}] {report}: {notebook} reads {path} ({name}), which the stage's rule "
                              f"(Makefile line {stage.line}) does not list among its prerequisites")
        parameters[name] = path

    folder = root / PROCESSED / report
    log_path = folder / "logs" / f"{stage.name}.log"
    executed = folder / "notebooks" / PurePosixPath(notebook).name
    executed.parent.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = ["papermill", notebook, executed.relative_to(root).as_posix(), "--kernel", kernel, "--cwd", "."]
    for path in param_files:
        command += ["-f", path]
    for name, value in parameters.items():
        if name not in settings:
            command += ["-p", name, str(value)]
    log_path.write_text(f"# stage {stage.name}, report {report}: the same run from the project root:\n"
                        f"{shlex.join(command)}\n\n", encoding="utf-8")
    start = time.perf_counter()
    started_at = time.time()
    with _output_to(log_path) as log:
        try:
            import papermill
            from papermill.exceptions import PapermillExecutionError

            papermill.execute_notebook(str(root / notebook), str(executed), parameters=parameters, kernel_name=kernel,
                                       cwd=str(root), progress_bar=False, log_output=False, report_mode=False)
        except Exception as exc:
            if isinstance(exc, PapermillExecutionError):
                message = f"{exc.ename}: {_ANSI.sub('', str(exc.evalue))}"
                where = f"in cell {exc.exec_count} of {notebook} (executed copy: {executed.relative_to(root)})"
                log.write("\n" + _ANSI.sub("", "\n".join(exc.traceback)) + "\n")
            else:
                message = f"{type(exc).__name__}: {exc}"
                where = f"running {notebook}"
                import traceback

                traceback.print_exc(file=log)
            raise StageFailed(f"[{stage.name}] {report} FAILED after {time.perf_counter() - start:.1f} s\n"
                              f"  {message}\n  {where}\n  full log: {log_path.relative_to(root)}") from None
    stale = [p for p in outputs if not (root / p).is_file() or (root / p).stat().st_mtime < started_at - 1]
    if stale:
        raise StageFailed(f"[{stage.name}] {report} FAILED: {notebook} did not write {', '.join(stale)} "
                          f"(declared as <table>_out); full log: {log_path.relative_to(root)}")
    if html is not None:
        export_html(executed, root / html, title=_html_title(root / notebook, report), templates=root / "templates")
    return time.perf_counter() - start


def main(report: str, prerequisites: list[str], html: str | None = None) -> int:
    """Console entry point: one line on success, the error first on failure."""
    name = next((s.name for s in read_stages() if s.notebook == prerequisites[0]), prerequisites[0])
    try:
        seconds = run_stage(report, prerequisites, html=html)
    except StageFailed as exc:
        print(exc, file=sys.stderr, flush=True)
        return 1
    except Exception as exc:  # the build's own step failed (writing the page, reading a parameter file)
        print(f"[{name}] {report} FAILED\n  {type(exc).__name__}: {exc}\n"
              f"  full log: {PROCESSED}/{report}/logs/{name}.log", file=sys.stderr, flush=True)
        return 1
    print(f"[{name}] {report} ... {seconds:.1f} s", flush=True)
    return 0
