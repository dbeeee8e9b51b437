"""GDELT dyad filter: analysis.sources.gdelt.load_gdelt (DuckDB) against pandas.read_csv.

Builds a GDELT 2.0 events file of ``--rows`` rows (default 10 million, about 4 GB) in a temporary
folder from the 50 rows of the shared GDELT sample, with new GLOBALEVENTIDs, dates spread over
2015-2024 and a share (``--share``, default 2%) of rows turned into US <-> Iraqi militia fights
(CAMEO 18x-19x, codes USA / IRQMIL / IRQREB) that the dyad filter keeps. The sample itself has no
IRQ actor, so exactly those rows are dyad rows. Then, in the same run and each in its own
subprocess so that its peak resident memory is its own, it times

(a) ``load_gdelt(file, actor_codes=..., engine="duckdb")``, and
(b) ``pandas.read_csv`` of the whole file (61 text columns) followed by the same filter,

and prints rows, file size, seconds and peak RSS of each, the speed ratio, and whether both found
the same number of dyad rows. Targets: (a) at least 5x faster than (b), with a peak RSS under 2 GB.

    python benchmarks/bench_gdelt.py [--rows 10000000] [--share 0.02] [--keep]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "fixtures" / "gdelt" / "gdelt2_events_sample_20170701234500.export.tsv"
DYAD = {"us": ["USA"], "militias": ["IRQMIL", "IRQREB"]}
ROOT_CODES = ("18", "19", "20")
# (Actor1Code, Actor1Name, Actor2Code, Actor2Name) of the dyad rows
DYAD_ACTORS = [
    ("USA", "UNITED STATES", "IRQMIL", "MILITIA"),
    ("USAMIL", "AMERICAN FORCES", "IRQREB", "INSURGENT"),
    ("IRQMIL", "MILITIA", "USA", "UNITED STATES"),
    ("IRQREB", "KATAIB HEZBOLLAH", "USAMIL", "AMERICAN FORCES"),
]
DYAD_CODES = ["183", "190", "193", "194", "195"]
GIB = 1 << 30


def _template_tails(columns: list[str]) -> tuple[list[str], list[str]]:
    """Columns 6-61 of each sample row as text, as they are and turned into a dyad fight."""
    rows = [line.split("\t") for line in SAMPLE.read_text().splitlines()]
    at = {name: i for i, name in enumerate(columns)}
    plain, dyad = [], []
    for fields in rows:
        plain.append("\t".join(fields[5:]) + "\n")
        for a1, n1, a2, n2 in DYAD_ACTORS:
            for code in DYAD_CODES:
                f = list(fields)
                f[at["Actor1Code"]], f[at["Actor1Name"]], f[at["Actor1CountryCode"]] = a1, n1, a1[:3]
                f[at["Actor2Code"]], f[at["Actor2Name"]], f[at["Actor2CountryCode"]] = a2, n2, a2[:3]
                f[at["EventCode"]], f[at["EventBaseCode"]], f[at["EventRootCode"]] = code, code, code[:2]
                f[at["QuadClass"]], f[at["GoldsteinScale"]] = "4", "-10.0"
                f[at["ActionGeo_CountryCode"]], f[at["ActionGeo_FullName"]] = "IZ", "Baghdad, Baghdad, Iraq"
                dyad.append("\t".join(f[5:]) + "\n")
    return plain, dyad


def build(path: Path, rows: int, share: float, *, chunk: int = 1_000_000, seed: int = 0) -> int:
    """Write ``rows`` GDELT 2.0 lines to ``path``; return the number of dyad rows written.

    Each chunk is assembled column-wise with Arrow (ids, dates and the row tails chosen by
    index) and its text buffer written in one call, so no Python string is made per row.
    """
    from analysis.sources.gdelt import COLUMNS

    rng = np.random.default_rng(seed)
    plain, dyad = _template_tails(list(COLUMNS))
    plain_arr, dyad_arr = pa.array(plain), pa.array(dyad)
    first, last = np.datetime64("2015-01-01"), np.datetime64("2024-12-31")
    span = int((last - first).astype(int)) + 1
    n_dyad = 0
    with open(path, "wb") as out:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            ids = 1_000_000_000 + start + rng.permutation(n)  # unique, not in file order
            days = first + rng.integers(0, span, n).astype("timedelta64[D]")
            years = days.astype("datetime64[Y]").astype(int) + 1970
            months = days.astype("datetime64[M]").astype(int) % 12 + 1
            dom = (days - days.astype("datetime64[M]")).astype(int) + 1
            fraction = np.round(years + (months * 30 + dom) / 365, 4)
            is_dyad = rng.random(n) < share
            n_dyad += int(is_dyad.sum())
            tails = pc.if_else(
                pa.array(is_dyad),
                pc.take(dyad_arr, pa.array(rng.integers(0, len(dyad), n))),
                pc.take(plain_arr, pa.array(rng.integers(0, len(plain), n))),
            )
            text = lambda values: pc.cast(pa.array(values), pa.string())  # noqa: E731
            lines = pc.binary_join_element_wise(
                text(ids),
                text(years * 10_000 + months * 100 + dom),  # SQLDATE
                text(years * 100 + months),  # MonthYear
                text(years),
                text(fraction),
                tails,
                "\t",
            )
            # the values buffer of a string array is its strings end to end: the chunk's text
            offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
            out.write(memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]])
    return n_dyad


def run_package(path: str) -> dict:
    from analysis.sources.gdelt import load_gdelt

    start = time.perf_counter()
    result = load_gdelt(path, actor_codes=DYAD, root_codes=ROOT_CODES, engine="duckdb")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "read": result.read, "dyad_rows": len(result.events) + len(result.rejects)}


def run_pandas(path: str) -> dict:
    import csv

    import pandas as pd

    from analysis.sources.gdelt import COLUMNS

    start = time.perf_counter()
    frame = pd.read_csv(
        path, sep="\t", header=None, names=list(COLUMNS), dtype=str, quoting=csv.QUOTE_NONE,
        keep_default_na=False, na_values=[""],
    )  # fmt: skip

    def side(codes: pd.Series) -> pd.Series:
        # longest prefix first, as the loader does
        out = pd.Series(pd.NA, index=codes.index, dtype="string")
        for key, prefix in sorted(((k, p) for k, ps in DYAD.items() for p in ps), key=lambda kp: -len(kp[1])):
            hit = out.isna() & codes.str.startswith(prefix).fillna(False)
            out = out.mask(hit, key)
        return out

    rows = frame[frame["EventRootCode"].isin(ROOT_CODES)]
    s1, s2 = side(rows["Actor1Code"]), side(rows["Actor2Code"])
    dyad = rows[(s1.notna() & s2.notna() & (s1 != s2)).fillna(False)]
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "read": len(frame), "dyad_rows": len(dyad)}


def peak_rss() -> int:
    """This process's peak resident memory in bytes.

    Linux's VmHWM belongs to the process image, so it starts afresh at exec; ``ru_maxrss`` would
    carry over the peak of the parent that forked us (the file builder), hence its use only as a
    fallback.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kB


def child(which: str, path: str) -> None:
    """Run one path and print its figures, with this process's own peak RSS, as JSON."""
    figures = (run_package if which == "package" else run_pandas)(path)
    figures["peak_rss_bytes"] = peak_rss()
    print(json.dumps(figures))


def measure(which: str, path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", which, str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1], "returncode": done.returncode}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the generated file")
    parser.add_argument("--share", type=float, default=0.02, help="share of dyad rows")
    parser.add_argument("--dir", default=None, help="folder for the temporary file (default: system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument("--child", nargs=2, metavar=("PATH_KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    if not SAMPLE.is_file():
        print(f"shared GDELT sample not found at {SAMPLE}; cannot build the benchmark file")
        return 1

    folder = Path(tempfile.mkdtemp(prefix="bench-gdelt-", dir=args.dir))
    path = folder / "20240101000000.export.CSV"
    try:
        start = time.perf_counter()
        expected = build(path, args.rows, args.share)
        size = path.stat().st_size
        print(f"built {args.rows:,} rows ({size / GIB:.2f} GiB, {expected:,} dyad rows) in {time.perf_counter() - start:.1f} s: {path}")

        figures = {"package (load_gdelt, duckdb)": measure("package", path), "pandas.read_csv + filter": measure("pandas", path)}
        for name, f in figures.items():
            if "error" in f:
                print(f"{name:30s} FAILED: {f['error']}")
            else:
                print(
                    f"{name:30s} rows {f['read']:>12,}  dyad rows {f['dyad_rows']:>9,}  "
                    f"{f['seconds']:8.1f} s  peak RSS {f['peak_rss_bytes'] / GIB:6.2f} GiB"
                )
        package, pandas_ = figures.values()
        ok = "error" not in package
        if ok and "error" not in pandas_:
            ratio = pandas_["seconds"] / package["seconds"]
            same = package["dyad_rows"] == pandas_["dyad_rows"] == expected
            print(f"speed ratio pandas / package: {ratio:.1f}x (target >= 5x: {'met' if ratio >= 5 else 'NOT met'})")
            print(f"same dyad rows in both ({expected:,} written): {'yes' if same else 'NO'}")
            ok = same
        if "error" not in package:
            rss_ok = package["peak_rss_bytes"] < 2 * GIB
            print(f"package peak RSS < 2 GiB: {'met' if rss_ok else 'NOT met'}")
        return 0 if ok else 1
    finally:
        if args.keep:
            print(f"kept {path}")
        else:
            path.unlink(missing_ok=True)
            folder.rmdir()


if __name__ == "__main__":
    raise SystemExit(main())
