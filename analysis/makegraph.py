"""The graph ``make`` includes, and the notebooks' parameters cells, written from the stages.

:func:`write_graph` (``python -m analysis.build graph``, on every make run) writes
``data/processed/graph.mk`` and each report's per-section parameter files;
:func:`sync_parameters` (``make sync-params``) writes every stage notebook's ``parameters`` cell
from ``notebooks/params/default.yaml``. What a stage, a setting and a path are:
:mod:`analysis.stages`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from analysis.stages import (
    _NOT_DATA,
    _STAGE_TARGET,
    DEFAULT_DYAD,
    DEFAULT_PROFILE,
    LAB,
    OPTIONAL_DATA,
    PROCESSED,
    Stage,
    _load_yaml,
    _notebook_json,
    _parameters_cell,
    _root,
    _source,
    check_profile,
    code_dependencies,
    declared_parameters,
    dyad_of_report,
    lab_path,
    make_path,
    profile_of_report,
    read_stages,
    report_of_profile,
    setting_names,
)

__all__ = ["Report", "plan_reports", "render_parameters_cell", "sync_parameters", "write_graph",
           "write_stage_parameters"]


# --------------------------------------------------------------------------------------------
# Parameters cells written from default.yaml


def _section_comments(profile_text: str) -> dict[tuple[str, str], list[str]]:
    """Comment lines written just above each ``  key:`` of each top-level section."""
    comments: dict[tuple[str, str], list[str]] = {}
    section, pending = None, []
    for line in profile_text.splitlines():
        if m := re.match(r"^(\w[\w-]*):", line):
            section, pending = m.group(1), []
        elif m := re.match(r"^  #\s?(.*)$", line):
            pending.append(m.group(1))
        elif m := re.match(r"^  ([\w-]+):", line):
            if section is not None:
                comments[(section, m.group(1))] = pending
            pending = []
        elif not line.startswith("   "):
            pending = []
    return comments


def _literal(value: Any, where: str, used: int = 0, indent: int = 0, width: int = 110) -> str:
    """``value`` (as read from YAML) written as a Python literal: strings in double quotes; a list
    or mapping that does not fit on the line (``used`` characters already taken) one item per
    line."""
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, dict)):
        inner = indent + 4
        items = ([f"{_literal(k, where)}: {_literal(v, where, inner + len(_literal(k, where)) + 2, inner, width)}"
                  for k, v in value.items()] if isinstance(value, dict)
                 else [_literal(v, where, inner, inner, width) for v in value])
        open_, close = "{}" if isinstance(value, dict) else "[]"
        flat = open_ + ", ".join(items) + close
        if used + len(flat) <= width and "\n" not in flat:
            return flat
        pad = " " * inner
        return open_ + "\n" + "".join(f"{pad}{item},\n" for item in items) + " " * indent + close
    raise ValueError(f"{where}: {value!r} ({type(value).__name__}) cannot be a notebook parameter; "
                     "quote dates and times in YAML ('2020-01-03')")


def render_parameters_cell(stage: Stage, declared: dict[str, Any], defaults: dict[str, dict],
                           profile_text: str) -> str:
    """The parameters cell a stage's notebook should hold: its paths (names kept, defaults as
    :func:`lab_path` gives them) and the settings of its sections, with the values and comments
    of ``default.yaml``."""
    settings = setting_names(stage, defaults)
    paths = [name for name in declared if name not in settings]
    lines = ["# Paths. Run here, inputs are the tables of the last `make reports` (read only) and outputs",
             f"# go to {LAB}/{DEFAULT_DYAD}/ (a scratch folder); make passes its own paths."]
    lines += [f"{name} = {_literal(lab_path(name, declared[name]), name)}" for name in paths]
    comments = _section_comments(profile_text)
    for section in ("common", *stage.sections):
        body = defaults.get(section) or {}
        if not body:
            continue
        lines.append(f"# Settings: section `{section}` of {DEFAULT_PROFILE} (`make sync-params` copies it here).")
        for key, value in body.items():
            lines += [f"# {c}".rstrip() for c in comments.get((section, key), [])]
            where = f"{DEFAULT_PROFILE}: section {section!r}, key {key!r}"
            lines.append(f"{key} = {_literal(value, where, len(key) + 3)}")
    return "\n".join(lines)


def sync_parameters(root: str | Path | None = None, *, check: bool = False) -> list[str]:
    """Rewrite every stage notebook's parameters cell from ``default.yaml`` (see
    :func:`render_parameters_cell`).

    Parameters
    ----------
    check : bool
        Only report: leave the notebooks as they are.

    Returns
    -------
    list of str
        The notebooks whose cell differed (and, unless ``check``, was rewritten).

    Raises
    ------
    ValueError
        When a notebook declares a parameter that is neither a setting of its sections nor a
        path make can fill: it belongs in ``default.yaml``.
    """
    root = _root(root)
    profile_text = (root / DEFAULT_PROFILE).read_text(encoding="utf-8")
    defaults = _load_yaml(root / DEFAULT_PROFILE) or {}
    changed = []
    for stage in read_stages(root):
        declared = declared_parameters(stage.notebook, root)
        for name, value in declared.items():
            if name not in setting_names(stage, defaults):
                try:
                    make_path(name, value, report=DEFAULT_DYAD, profile=DEFAULT_PROFILE)
                except ValueError as exc:
                    raise ValueError(f"{stage.notebook}: {exc}; if it is a setting, add it to section "
                                     f"'{stage.name}' of {DEFAULT_PROFILE}") from None
        text = render_parameters_cell(stage, declared, defaults, profile_text)
        path = root / stage.notebook
        nb = _notebook_json(path)
        cell = _parameters_cell(nb, stage.notebook)
        if _source(cell) == text:
            continue
        changed.append(stage.notebook)
        if not check:
            lines = text.splitlines(keepends=True)
            cell["source"] = lines
            # the notebook's own JSON layout (nbformat's: one-space indent, keys as they were)
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed


# --------------------------------------------------------------------------------------------
# The graph make includes


def _files_named(value: Any, root: Path) -> list[str]:
    """Project files named by the strings in ``value`` (folders give every file under them)."""
    found: list[str] = []
    if isinstance(value, dict):
        for v in value.values():
            found += _files_named(v, root)
    elif isinstance(value, list):
        for v in value:
            found += _files_named(v, root)
    elif isinstance(value, str) and "/" in value and "\n" not in value and len(value) < 500:
        path = Path(value) if Path(value).is_absolute() else root / value
        if path.is_file():
            found.append(value)
        elif path.is_dir():
            found += sorted(f"{value.rstrip('/')}/{p.relative_to(path).as_posix()}" for p in path.rglob("*")
                            if p.is_file() and "__pycache__" not in p.parts)
    return found


def _data_files(dyad: str, root: Path) -> list[str]:
    files = []
    for folder in ("data/raw", "data/external"):
        base = root / folder / dyad
        if base.is_dir():
            files += [f"{folder}/{dyad}/{p.relative_to(base).as_posix()}" for p in base.rglob("*")
                      if (p.is_file() or p.is_symlink()) and not _NOT_DATA.search(p.relative_to(base).as_posix())]
    return sorted(files)


def _write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return True


def write_stage_parameters(settings: dict[str, dict], stages: list[Stage], profile: str,
                           outdir: Path) -> dict[str, bool]:
    """Write ``<outdir>/<section>.yaml`` for each section a stage reads: ``common`` merged with
    the section, in the profile's order; a file is rewritten only when its content changes.

    Returns
    -------
    dict
        Section -> whether its file was (re)written.
    """
    import yaml

    common = settings.get("common") or {}
    written = {}
    for section in dict.fromkeys(s for stage in stages for s in stage.sections):
        merged = {**common, **(settings.get(section) or {})}
        text = f"# generated from {profile} (sections common + {section}); edit that file\n"
        text += yaml.safe_dump(merged, sort_keys=False, allow_unicode=True)  # the author's order
        written[section] = _write_if_changed(outdir / f"{section}.yaml", text)
    return written


@dataclass(frozen=True)
class Report:
    """One profile and what it builds.

    Attributes
    ----------
    name : str
        The report: ``reports/<name>.html``, tables in ``data/processed/<name>/``.
    profile, spec : str
        Its profile and dyad spec (project-relative).
    settings : dict
        The profile's sections, checked by :func:`check_profile`.
    skipped : str or None
        Why it is not built (its data are not here), else None.
    """

    name: str
    profile: str
    spec: str
    settings: dict
    skipped: str | None = None


def plan_reports(root: str | Path | None = None, stages: list[Stage] | None = None) -> list[Report]:
    """Every profile in ``notebooks/params/``, checked, with the reason it is skipped if it is.

    A profile is built when its dyad spec exists and at least one of the spec's sources is
    present (user downloads under ``data/external/`` may be absent); otherwise it is skipped
    and the reason names the missing files and the spec's ``obtain`` text.

    Raises
    ------
    ValueError
        For a profile with an unknown section or key (:func:`check_profile`), a profile without
        a dyad spec, or two profiles for one report.
    """
    root = _root(root)
    stages = stages or read_stages(root)
    defaults = _load_yaml(root / DEFAULT_PROFILE) or {}
    declared = {s.name: declared_parameters(s.notebook, root) for s in stages}
    out = []
    for profile_path in sorted((root / "notebooks" / "params").glob("*.yaml")):
        profile = profile_path.relative_to(root).as_posix()
        name = report_of_profile(profile)
        profile_of_report(name, root)  # refuses two profiles for one report
        settings = check_profile(profile, stages, declared, defaults, root)
        spec_file = f"dyads/{dyad_of_report(name)}.yaml"
        if not (root / spec_file).is_file():
            raise ValueError(f"{profile}: builds reports/{name}.html from {spec_file}, which does not exist")
        sources = (_load_yaml(root / spec_file) or {}).get("sources") or []
        present = [s for s in sources if isinstance(s, dict) and "path" in s and (root / str(s["path"])).exists()]
        skipped = None
        if sources and not present:
            missing = ", ".join(str(s.get("path")) for s in sources if isinstance(s, dict))
            skipped = f"its data are not here ({missing}; {spec_file} and data/external/README.md say how to get them)"
        out.append(Report(name, profile, spec_file, settings, skipped))
    return out


def write_graph(out: str | Path = f"{PROCESSED}/graph.mk", root: str | Path | None = None) -> tuple[list[Report], bool]:
    """Write the make include file and each built report's parameter files (see the module
    notes); return the reports (:func:`plan_reports`) and whether the include file changed."""
    root = _root(root)
    stages = read_stages(root)
    defaults = _load_yaml(root / DEFAULT_PROFILE) or {}
    declared = {s.name: declared_parameters(s.notebook, root) for s in stages}
    reports = plan_reports(root, stages)
    lines = [
        "# Generated by `python -m analysis.build graph` on every make run, from the Makefile's stage",
        "# rules, the notebooks, notebooks/params/*.yaml and dyads/*.yaml. Do not edit.",
        f"STAGES := {' '.join(s.name for s in stages)}",
    ]
    tables = {}
    for stage in stages:
        settings = setting_names(stage, defaults)
        tables[stage.name] = [PurePosixPath(v).name for k, v in declared[stage.name].items()
                              if k.endswith("_out") and k not in settings]
        lines.append(f"{stage.name}_OUT := {' '.join(f'{PROCESSED}/%/{t}' for t in tables[stage.name])}")
        lines.append(f"{stage.name}_CODE := {' '.join(code_dependencies(stage.notebook, root))} $(STAMP)")
    built = [r for r in reports if r.skipped is None]
    lines.append(f"REPORT_NAMES := {' '.join(r.name for r in built)}")
    lines.append(f"SKIPPED := {' '.join(r.name for r in reports if r.skipped)}")
    for report in reports:
        if report.skipped is None:
            continue
        # asked for by name (make reports/<report>.html), a skipped report says why instead of
        # running its stages without their inputs
        targets = [f"reports/{report.name}.html", *(f"{PROCESSED}/{report.name}/{t}" for s in stages for t in tables[s.name])]
        message = f"error: cannot build reports/{report.name}.html: {report.skipped}".replace("'", "'\\''")
        lines += [f"# report {report.name}: skipped", f"{' '.join(targets)}:",
                  f"\t@printf '%s\\n' '{message.replace('$', '$$')}' >&2; exit 1"]
    for report in built:
        write_stage_parameters(report.settings, stages, report.profile, root / PROCESSED / report.name / "params")
        dyad = dyad_of_report(report.name)
        spec_inputs = {report.spec, *_files_named(_load_yaml(root / report.spec), root), *_data_files(dyad, root)}
        lines.append(f"# report {report.name}: profile {report.profile}, dyad {report.spec}")
        for stage in stages:
            params = declared[stage.name]
            targets = [t.replace("%", report.name) for t in stage.targets if not _STAGE_TARGET.match(t)]
            targets += [f"{PROCESSED}/{report.name}/{t}" for t in tables[stage.name]]
            inputs = set(spec_inputs) if "dyad_spec" in params else set()
            if "profile" in params:
                inputs.add(report.profile)
            # every table and data file the notebook reads, as make will pass it: its rule names
            # most by a pattern, but not those that exist for some reports only (the dyad's
            # coverage table, its official counts) or live in another report's folder
            settings = setting_names(stage, defaults)
            for name, value in params.items():
                if name in settings or not (name.endswith("_in") or name in OPTIONAL_DATA):
                    continue
                path = make_path(name, value, report=report.name, profile=report.profile, root=root)
                if path:
                    inputs.add(path)
            for section in stage.sections:
                values = {**report.settings.get("common", {}), **report.settings.get(section, {})}
                inputs.update(_files_named(values, root))
            if inputs and targets:
                lines.append(f"{' '.join(targets)}: {' '.join(_escape(i) for i in sorted(inputs))}")
    changed = _write_if_changed(root / out, "\n".join(lines) + "\n")
    return reports, changed


def _escape(path: str) -> str:
    """A path as a make prerequisite (spaces, colons and ``%`` cannot be left bare)."""
    if re.search(r"[\s:#%$]", path):
        raise ValueError(f"{path!r}: make cannot take a path with spaces, ':', '#', '%' or '$'; rename the file")
    return path
