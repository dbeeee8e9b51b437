"""The run footer of every report: code version, parameters, input checksums, package versions.

Nothing here reads the clock, so two builds of the same inputs give the same footer.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

import pandas as pd

from analysis.paths import display_path, project_root

__all__ = ["git_revision", "package_versions", "provenance_table", "sha256_file"]

#: Packages whose versions a report states.
PACKAGES = ("escalation-cycles", "pandas", "numpy", "matplotlib", "statsmodels", "scipy", "pyarrow", "papermill", "nbconvert",
            "pyyaml")


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def git_revision(root: str | Path | None = None) -> str:
    """The commit the project is at, with ``+uncommitted`` when tracked files differ from it.

    Returns ``"unknown (not a git checkout)"`` outside a git work tree.
    """
    root = Path(root or project_root())
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return sha + ("+uncommitted" if dirty else "")


def package_versions(packages: Iterable[str] = PACKAGES) -> dict[str, str]:
    """Installed versions of ``packages`` (and Python), ``"not installed"`` where absent."""
    versions = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance_table(
    *,
    parameters: Mapping[str, object],
    inputs: Iterable[str | Path],
    root: str | Path | None = None,
) -> pd.DataFrame:
    """One table for a report footer.

    Parameters
    ----------
    parameters : mapping
        The notebook's parameters, as run.
    inputs : iterable of path
        Files the results depend on; each is listed with its SHA-256.

    Returns
    -------
    DataFrame
        Columns ``item`` and ``value``: the git revision, each parameter, each input's
        checksum, each package version.
    """
    root = Path(root or project_root())
    rows = [("git revision", git_revision(root))]
    rows += [(f"parameter {k}", repr(v)) for k, v in parameters.items()]
    for path in inputs:
        full = path if Path(path).is_absolute() else root / path
        rows.append((f"sha256 {display_path(full, root)}", sha256_file(full)))
    rows += [(f"version {k}", v) for k, v in package_versions().items()]
    return pd.DataFrame(rows, columns=["item", "value"])
