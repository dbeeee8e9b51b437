"""The build's stages: read from the Makefile's stage rules and the notebooks they run.

The Makefile is the one place that lists the stages. A stage rule names, in this order, its
tables, the notebook it runs, and the profile sections it reads (its own first)::

    $(cycles_OUT): notebooks/20-build-cycles.ipynb $(P)/params/cycles.yaml $(P)/events.parquet $(cycles_CODE)

Everything else about a stage is read from its notebook's ``parameters`` cell:

- a **setting** is a parameter named in one of the stage's profile sections (its default is the
  value in ``notebooks/params/default.yaml``, which :func:`analysis.makegraph.sync_parameters`
  copies into the cell);
- every other parameter is a **path** that ``make`` fills in for each report:
  ``<table>_out`` -> ``data/processed/<report>/<file>`` (the stage's tables: ``<stage>_OUT``),
  ``<table>_in`` -> ``data/processed/<report>/<file>``, ``dyad_spec`` -> ``dyads/<dyad>.yaml``,
  ``profile`` -> the profile, and a path under ``data/raw/<dyad>/`` or ``data/external/<dyad>/``
  -> the same file in the report's dyad. Run in JupyterLab, the cell's own defaults read the
  tables of the last ``make reports`` and write to a scratch folder, ``data/interim/lab/<dyad>/``,
  so a lab run never changes what ``make`` built (see :data:`LAB`).

:func:`analysis.makegraph.write_graph` turns this into ``data/processed/graph.mk``, which the
Makefile includes: each stage's tables (``<stage>_OUT``) and the ``analysis/`` files its notebook imports,
followed transitively (``<stage>_CODE``), the reports to build, and per report the inputs make
cannot name by a pattern (the profile, the dyad spec and every file it names, the files under
the dyad's data folders, files named by a section's values). It also writes each report's
per-section parameter files, rewriting a file only when its content changes, and refuses a
profile with a misspelt section or key (:func:`check_profile`). Nothing here imports pandas or
the Jupyter stack, so the step costs a fraction of a second on every ``make`` run.
"""

from __future__ import annotations

import ast
import difflib
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

__all__ = [
    "DEFAULT_DYAD",
    "DEFAULT_PROFILE",
    "LAB",
    "SIBLING_REPORTS",
    "Stage",
    "check_profile",
    "code_dependencies",
    "declared_parameters",
    "lab_path",
    "make_path",
    "profile_of_report",
    "read_stages",
    "report_of_profile",
    "section_settings",
]

#: The dyad whose profile is ``notebooks/params/default.yaml`` and whose paths the notebooks'
#: defaults name.
DEFAULT_DYAD = "us-iran-proxies"
#: The profile of the default report; the one source of every setting's default.
DEFAULT_PROFILE = "notebooks/params/default.yaml"
#: Where a notebook run in JupyterLab writes its tables (``<LAB>/<dyad>/``); git-ignored.
LAB = "data/interim/lab"
PROCESSED = "data/processed"
#: Files under a dyad's data folders that are not inputs of its events (documentation; the
#: news report's articles, which a ``format: news`` source or the news section names itself).
_NOT_DATA = re.compile(r"(^|/)news/|\.md$")
_STAGE_TARGET = re.compile(r"^\$\((\w+)_OUT\)$")
_PARAMS_FILE = re.compile(r"^\$\(P\)/params/(\w+)\.yaml$")


def _root(root: str | Path | None) -> Path:
    if root is not None:
        return Path(root)
    from analysis.paths import project_root

    return project_root()


# --------------------------------------------------------------------------------------------
# Stages, from the Makefile


@dataclass(frozen=True)
class Stage:
    """One notebook stage of the build, as its Makefile rule declares it.

    Attributes
    ----------
    name : str
        The stage, named by its ``$(<name>_OUT)`` target and its own profile section.
    notebook : str
        The notebook it runs (project-relative).
    sections : tuple of str
        The profile sections whose settings it reads, its own first.
    targets : tuple of str
        The rule's targets as written (``$(<name>_OUT)`` and, for a report, its HTML page).
    line : int
        Line of the rule in the Makefile (1-based).
    """

    name: str
    notebook: str
    sections: tuple[str, ...]
    targets: tuple[str, ...]
    line: int


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """The Makefile's lines with backslash continuations joined, and their first line numbers."""
    out: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        out.append((start, pending + line))
        pending = ""
    if pending:
        out.append((start, pending))
    return out


def read_stages(root: str | Path | None = None) -> list[Stage]:
    """The stages, in the order of their rules in the project's Makefile.

    A stage rule is a rule (not a recipe line) whose first prerequisite is a notebook in
    ``notebooks/``; its targets must include ``$(<name>_OUT)`` and its first
    ``$(P)/params/<section>.yaml`` prerequisite must be ``<name>``.

    Raises
    ------
    ValueError
        When a stage rule breaks that form, or two rules run the same notebook or name the same
        stage; the message gives the Makefile line.
    """
    makefile = _root(root) / "Makefile"
    stages: list[Stage] = []
    for number, line in _logical_lines(makefile.read_text(encoding="utf-8")):
        if line.startswith("\t") or line.lstrip().startswith("#") or ":" not in line:
            continue
        targets, _, prereqs = line.partition(":")
        if prereqs.startswith("=") or targets.rstrip().endswith(("?", "+", ":")):
            continue  # a variable assignment
        words = prereqs.split()
        if not words or not re.fullmatch(r"notebooks/[\w.-]+\.ipynb", words[0]):
            continue
        where = f"{makefile.name}:{number}"
        names = [m.group(1) for t in targets.split() if (m := _STAGE_TARGET.match(t))]
        if len(names) != 1:
            raise ValueError(f"{where}: a stage rule's targets must include one $(<stage>_OUT), "
                             f"got {targets.strip()!r}")
        sections = tuple(m.group(1) for w in words if (m := _PARAMS_FILE.match(w)))
        if not sections or sections[0] != names[0]:
            raise ValueError(f"{where}: stage '{names[0]}' must list $(P)/params/{names[0]}.yaml "
                             "as its first parameter file")
        stage = Stage(names[0], words[0], sections, tuple(targets.split()), number)
        for other in stages:
            if other.name == stage.name or other.notebook == stage.notebook:
                raise ValueError(f"{where}: stage '{stage.name}' ({stage.notebook}) repeats the rule on line "
                                 f"{other.line} (stage '{other.name}', {other.notebook})")
        stages.append(stage)
    if not stages:
        raise ValueError(f"{makefile}: no stage rule (a rule whose first prerequisite is a notebook)")
    return stages


# --------------------------------------------------------------------------------------------
# Notebooks' parameters cells


def _notebook_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _parameters_cell(nb: dict, where: str) -> dict:
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise ValueError(f"{where}: needs exactly one cell tagged 'parameters', has {len(tagged)}")
    return tagged[0]


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def declared_parameters(notebook: str | Path, root: str | Path | None = None) -> dict[str, Any]:
    """The parameters a notebook declares, name -> default, in the order of its parameters cell.

    Raises
    ------
    ValueError
        When the cell holds anything but ``name = <literal>`` statements (and comments), naming
        the notebook and the line of the cell.
    """
    path = _root(root) / notebook if not Path(notebook).is_absolute() else Path(notebook)
    source = _source(_parameters_cell(_notebook_json(path), str(notebook)))
    out: dict[str, Any] = {}
    for node in ast.parse(source).body:
        where = f"{notebook}: parameters cell, line {node.lineno}"
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ValueError(f"{where}: only `name = value` lines belong in a parameters cell")
        try:
            out[node.targets[0].id] = ast.literal_eval(node.value)
        except ValueError as exc:
            raise ValueError(f"{where}: the value of '{node.targets[0].id}' is not a literal ({exc})") from None
    return out


def _code(notebook: Path) -> str:
    """The notebook's code cells as one module (IPython magics and shell lines left out)."""
    cells = [_source(c) for c in _notebook_json(notebook)["cells"] if c["cell_type"] == "code"]
    lines = [line for cell in cells for line in cell.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Which analysis/ files a notebook runs

_MODULE_STRING = re.compile(r"^(analysis(?:\.\w+)+)(?::\w+)?$")


def _module_file(name: str, root: Path) -> Path | None:
    parts = name.split(".")
    if parts[0] != "analysis":
        return None
    base = root.joinpath(*parts)
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _imports(source: str, module: str, is_package: bool) -> set[str]:
    """Dotted names a module (or notebook, ``module=""``) imports, including lazy imports in
    functions and strings naming an ``analysis`` module (``"analysis.sources.news:load_news"``,
    as in the loaders' registry that :func:`importlib.import_module` reads)."""
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(p for p in [*base_parts, node.module or ""] if p)
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # may be a submodule
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and (m := _MODULE_STRING.match(node.value)):
            names.add(m.group(1))
    expanded = set()
    for name in names:
        parts = name.split(".")
        expanded.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))  # a package runs its __init__
    return {n for n in expanded if n.split(".")[0] == "analysis"}


def code_dependencies(notebook: str | Path, root: str | Path | None = None) -> list[str]:
    """The ``analysis/`` files a notebook's code runs: its imports, followed transitively.

    Returns
    -------
    list of str
        Project-relative paths, sorted.
    """
    root = _root(root)
    todo = [(f, n) for n in _imports(_code(root / notebook), "", False) if (f := _module_file(n, root))]
    seen: set[Path] = set()
    while todo:
        path, name = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for sub in _module_imports(path, name, path.stat().st_mtime_ns):
            if (f := _module_file(sub, root)) is not None and f not in seen:
                todo.append((f, sub))
    return sorted(p.relative_to(root).as_posix() for p in seen)


@functools.cache
def _module_imports(path: Path, name: str, mtime_ns: int) -> frozenset[str]:
    """:func:`_imports` of one module file, parsed once per version (``mtime_ns``) of the file."""
    return frozenset(_imports(path.read_text(encoding="utf-8"), name, path.name == "__init__.py"))


# --------------------------------------------------------------------------------------------
# Profiles, reports and paths


def report_of_profile(profile: str | Path) -> str:
    """The report a profile builds: ``default.yaml`` -> the default dyad, else the file's stem."""
    stem = Path(profile).stem
    return DEFAULT_DYAD if stem == "default" else stem


def dyad_of_report(report: str) -> str:
    """``<dyad>--<variant>`` -> ``<dyad>``."""
    return report.split("--")[0]


def profile_of_report(report: str, root: str | Path | None = None) -> str:
    """The profile that builds ``report`` (project-relative)."""
    root = _root(root)
    own = f"notebooks/params/{report}.yaml"
    if report == DEFAULT_DYAD:
        if (root / own).is_file():
            raise ValueError(f"{own} and {DEFAULT_PROFILE} both build reports/{report}.html: keep one")
        return DEFAULT_PROFILE
    if not (root / own).is_file():
        raise ValueError(f"no profile for report '{report}': {own} does not exist")
    return own


def section_settings(profile: str | Path, section: str, root: str | Path | None = None) -> dict[str, Any]:
    """The settings a stage ran with under ``profile``: ``default.yaml``'s ``common`` and
    ``section``, then the profile's, later keys winning (as the notebook's defaults, then the
    parameters make passes).

    A report reads another stage's settings through this (e.g. the timing stage's ``alpha``,
    the level of the Kaplan-Meier bands it draws) rather than repeating them in its own section.
    """
    root = _root(root)
    defaults = _load_yaml(root / DEFAULT_PROFILE) or {}
    own = _load_yaml(root / profile) or {}
    return {**(defaults.get("common") or {}), **(defaults.get(section) or {}),
            **(own.get("common") or {}), **(own.get(section) or {})}


def setting_names(stage: Stage, defaults: dict[str, dict]) -> set[str]:
    """The settings a stage reads: the keys of ``common`` and of its sections in ``defaults``."""
    names = set(defaults.get("common") or {})
    for section in stage.sections:
        names |= set(defaults.get(section) or {})
    return names


#: Parameters naming a dyad's other report pages (links between them): the suffix of each page,
#: and the file whose presence says the page is built ("" when it is not).
SIBLING_REPORTS = {"main_report": ("", None), "coverage_report": ("--coverage", "official_counts.csv"),
                   "news_report": ("--news", "news/reviews.csv")}


#: Data files a notebook reads only where the dyad has them (``""`` otherwise).
OPTIONAL_DATA = ("official_counts",)


def make_path(name: str, default: Any, *, report: str, profile: str, root: str | Path | None = None) -> str:
    """The path ``make`` passes for a notebook's path parameter ``name`` (see the module notes).

    Besides tables, the dyad spec and the profile: ``coverage_in`` is the dyad's coverage table
    (its default report's, for every variant) and a file under the dyad's data folders is the
    same file for this dyad (for those in :data:`OPTIONAL_DATA` and ``coverage_in``, ``""`` when
    the dyad has none); ``main_report``,
    ``coverage_report`` and ``news_report`` name the dyad's other pages (``""`` when not built);
    ``downloads_folder`` is ``reports/<report>``, where the report puts its CSV files.

    Raises
    ------
    ValueError
        When the parameter is none of these.
    """
    dyad = dyad_of_report(report)
    base = _root(root) if root is not None or name in (*SIBLING_REPORTS, "coverage_in", *OPTIONAL_DATA) else None
    if name in SIBLING_REPORTS:
        suffix, needs = SIBLING_REPORTS[name]
        return f"{dyad}{suffix}.html" if needs is None or (base / "data" / "raw" / dyad / needs).is_file() else ""
    if name == "downloads_folder":
        return f"reports/{report}"
    if name == "coverage_in":
        present = (base / "data" / "raw" / dyad / "official_counts.csv").is_file()
        return f"{PROCESSED}/{dyad}/{PurePosixPath(default).name}" if present else ""
    if name.endswith(("_in", "_out")) and isinstance(default, str):
        return f"{PROCESSED}/{report}/{PurePosixPath(default).name}"
    if name == "dyad_spec":
        return f"dyads/{dyad}.yaml"
    if name == "profile":
        return profile
    if isinstance(default, str):
        for folder in ("data/raw", "data/external"):
            prefix = f"{folder}/{DEFAULT_DYAD}/"
            if default.startswith(prefix):
                path = f"{folder}/{dyad}/{default[len(prefix):]}"
                return "" if name in OPTIONAL_DATA and not (base / path).exists() else path
    raise ValueError(f"parameter '{name}' = {default!r} is neither a setting of the profile nor a path make can fill "
                     f"(<table>_in, <table>_out, dyad_spec, profile, a file under data/raw/{DEFAULT_DYAD}/, "
                     f"{', '.join(SIBLING_REPORTS)} or downloads_folder)")


def lab_path(name: str, default: Any) -> Any:
    """A path parameter's default in the notebook: the tables of the last build for ``_in``, the
    scratch folder for ``_out`` and ``downloads_folder``, the default dyad and profile; other
    paths as written."""
    if name.endswith("_out") and isinstance(default, str):
        return f"{LAB}/{DEFAULT_DYAD}/{PurePosixPath(default).name}"
    if name == "downloads_folder":
        return f"{LAB}/{DEFAULT_DYAD}/downloads"
    if name.endswith("_in") and isinstance(default, str):
        return f"{PROCESSED}/{DEFAULT_DYAD}/{PurePosixPath(default).name}"
    if name == "dyad_spec":
        return f"dyads/{DEFAULT_DYAD}.yaml"
    if name == "profile":
        return DEFAULT_PROFILE
    return default


def _load_yaml(path: Path) -> Any:
    import yaml

    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _rule_key(key: Any) -> str | None:
    """The key of the response rule that ``key`` is, or is a near misspelling of (else None)."""
    from analysis.response import RULE_KEYS  # pandas: only for this message

    close = difflib.get_close_matches(str(key), RULE_KEYS, n=1, cutoff=0.85)
    return close[0] if close else None


def check_profile(profile: str | Path, stages: list[Stage], declared: dict[str, dict[str, Any]],
                  defaults: dict[str, dict], root: str | Path | None = None) -> dict[str, dict]:
    """Read a profile and refuse what no notebook would use.

    Parameters
    ----------
    profile : path
        ``notebooks/params/<name>.yaml``.
    stages : list of Stage
    declared : dict
        Stage name -> :func:`declared_parameters` of its notebook.
    defaults : dict
        The default profile's sections (which say what a setting of each section is).

    Returns
    -------
    dict
        Section -> settings (``common`` included), as read.

    Raises
    ------
    ValueError
        For a section no stage reads, or a key its stages' notebooks do not declare as a
        setting; the message names the profile, the section and the key, and the closest
        valid key.
    """
    root = _root(root)
    path = root / profile
    data = _load_yaml(path) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{profile}: a profile is a mapping of sections, got {type(data).__name__}")
    sections = {"common"} | {s for stage in stages for s in stage.sections}
    unknown = sorted(set(data) - sections)
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(sections), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ValueError(f"{profile}: unknown section(s) {unknown}; sections are: {', '.join(sorted(sections))}{hint}")
    common = data.get("common") or {}
    for section, body in data.items():
        if body is not None and not isinstance(body, dict):
            raise ValueError(f"{profile}: section '{section}' must be a mapping of settings, got {body!r}")
        clash = sorted(set(body or {}) & set(common)) if section != "common" else []
        if clash:
            raise ValueError(f"{profile}: section '{section}' repeats common key(s) {clash}")
    for section, body in data.items():
        readers = [st for st in stages if section in st.sections] if section != "common" else stages
        for key in body or {}:
            for stage in readers:
                params = declared[stage.name]
                settings = [k for k in params if k in setting_names(stage, defaults)]
                if key in settings:
                    continue
                what = "a path, which make passes itself," if key in params else "not a parameter"
                close = difflib.get_close_matches(str(key), settings, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"its settings are: {', '.join(settings) or 'none'}"
                rule_key = _rule_key(key) if "response" in settings else None
                if rule_key is not None:
                    hint = (f"'{rule_key}' is a key of the response rule: write it under '{section}.response' "
                            f"(response: {{{rule_key}: {body[key]!r}}})")
                if Path(profile).as_posix() == DEFAULT_PROFILE and key not in params:
                    hint += " (a new setting? `make sync-params` copies default.yaml into the notebooks)"
                raise ValueError(f"{profile}: section '{section}', key '{key}' is {what} of {stage.notebook} "
                                 f"(stage '{stage.name}'); {hint}")
    return {k: (v or {}) for k, v in data.items()}
