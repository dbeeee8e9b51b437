"""Where the project is, so notebooks and loaders can use paths relative to its root.

Notebooks run with their own folder as working directory in JupyterLab and with the project root
under ``make``; parameters therefore hold root-relative paths and code resolves them here.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["display_path", "project_root", "resolve", "write_parquet"]


def project_root(start: str | Path | None = None) -> Path:
    """Return the nearest folder at or above ``start`` (default: cwd) holding ``pyproject.toml``.

    Raises
    ------
    FileNotFoundError
        If no such folder exists (the message names where the search started).
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "analysis").is_dir():
            return folder
    raise FileNotFoundError(f"no project root (a folder with pyproject.toml and analysis/) above {here}")


def resolve(path: str | Path, root: str | Path | None = None) -> Path:
    """Return ``path`` as an absolute path, reading relative paths from the project root."""
    path = Path(path)
    return path if path.is_absolute() else Path(root or project_root()) / path


def display_path(path: str | Path, root: str | Path | None = None) -> str:
    """Return ``path`` relative to the project root when it lies inside it, else as given.

    Used for provenance columns (``raw_file``) so tables do not depend on where the project is
    checked out.
    """
    path = Path(path)
    try:
        base = Path(root) if root is not None else project_root()
    except FileNotFoundError:
        return str(path)
    try:
        return Path(path).resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def write_parquet(frame, path: str | Path) -> Path:
    """Write ``frame`` (a DataFrame) to ``path`` (root-relative or absolute) as Parquet.

    Creates the parent folder; no index is stored, so equal frames give equal files.
    """
    full = resolve(path)
    full.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(full, index=False)
    return full
