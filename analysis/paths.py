"""Where the project is, so notebooks and loaders can use paths relative to its root.

Notebooks run with their own folder as working directory in JupyterLab and with the project root
under ``make``; parameters therefore hold root-relative paths and code resolves them here.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "display_path", "project_root", "resolve", "write_csv", "write_parquet"]


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
    # the path as the project names it: a symbolic link inside the project (a linked download)
    # keeps its own name, not its target's
    here = Path(os.path.abspath(path))
    try:
        return here.relative_to(Path(os.path.abspath(base))).as_posix()
    except ValueError:
        try:
            return Path(path).resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            return str(path)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary name beside ``path`` to write to; renamed to ``path`` only when complete.

    Use for every output table, so that an interrupted or failing stage never leaves a file
    that looks finished: the temporary file (``.<name>.<random>.tmp`` in the same folder, so
    the rename is atomic) is removed on any error, and an existing ``path`` stays as it was.

    Parameters
    ----------
    path : str or Path
        The final path, root-relative or absolute; its folder is created.

    Yields
    ------
    Path
        The temporary path to write to.
    """
    full = resolve(path)
    full.parent.mkdir(parents=True, exist_ok=True)
    # a fresh name the writer creates itself, so the table gets the usual file permissions
    temporary = full.with_name(f".{full.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        yield temporary
        os.replace(temporary, full)
    finally:
        temporary.unlink(missing_ok=True)


def write_parquet(frame, path: str | Path) -> Path:
    """Write ``frame`` (a DataFrame) to ``path`` (root-relative or absolute) as Parquet.

    Creates the parent folder; no index is stored, so equal frames give equal files. Written to
    a temporary name and renamed when complete (:func:`atomic_path`).
    """
    full = resolve(path)
    with atomic_path(full) as temporary:
        frame.to_parquet(temporary, index=False)
    return full


def write_csv(frame, path: str | Path) -> Path:
    """Write ``frame`` to ``path`` as UTF-8 CSV without the index, atomically (:func:`atomic_path`)."""
    full = resolve(path)
    with atomic_path(full) as temporary:
        frame.to_csv(temporary, index=False)
    return full
