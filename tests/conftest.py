import os
from pathlib import Path

import pytest

# Small optimisations (Hawkes likelihoods, Cox models) slow down 3-4x when BLAS threads compete:
# one thread each, set before numpy is first imported (the Makefile exports the same for builds).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# The builds the tests run are not sub-makes of `make test`, whose job server pytest does not pass
# on: without this, each prints "jobserver unavailable" first on its error stream.
for _var in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
    os.environ.pop(_var, None)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def make_events(rows, **extra_cols):
    """A canonical events table from short tuples ``(event_id, date, side, kind)``."""
    import pandas as pd

    from analysis.schema import conform_events

    frame = pd.DataFrame(rows, columns=["event_id", "date", "side", "kind"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["date_precision"] = "day"
    frame["source"] = "test"
    for name, values in extra_cols.items():
        frame[name] = values
    return conform_events(frame)


@pytest.fixture
def root():
    return ROOT


def write_csv(tmp_path, header: str, body: str, name: str):
    """Write ``header`` and the dedented ``body`` lines to ``tmp_path/name``; return the path."""
    import textwrap

    path = tmp_path / name
    path.write_text(header + "\n" + textwrap.dedent(body), encoding="utf-8")
    return path
