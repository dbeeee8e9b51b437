"""GDELT dyad filter: analysis.sources.gdelt.load_gdelt against DuckDB's own scan of the file.

Builds a GDELT 2.0 events file of ``--rows`` rows (default 10 million, about 4 GB) once, in a
temporary folder that is deleted at the end, from the 50 rows of the shared GDELT sample, with
new GLOBALEVENTIDs, dates spread over 2015-2024 and a share (``--share``, default 2%) of rows
turned into US <-> Iraqi militia fights (CAMEO 18x-19x, codes USA / IRQMIL / IRQREB) that the
dyad filter keeps. The sample itself has no IRQ actor, so exactly those rows are dyad rows.

Then it times, ``--repeats`` times each, interleaved (floor, loader, floor, loader...), each run
in its own subprocess so that its peak resident memory is its own:

(a) the floor: DuckDB's ``SELECT count(*) FROM read_csv(...)`` of the same file, with the
    loader's reading options (61 text columns, tab-separated, no quoting), and
(b) the loader: ``load_gdelt(file, actor_codes=..., engine="duckdb")``,

and prints the median of each, their ratio (goal: at most 2x), the loader's peak RSS (goal: under
2 GB), and whether the loader found exactly the dyad rows written, each at its line. The machine
drifts (other work, page cache), so only the ratio of medians measured in the same run counts.
``--pandas`` adds one run of ``pandas.read_csv`` of the whole file followed by the same filter
(it needs about 14 GB of memory at 10 million rows).

    python benchmarks/bench_gdelt.py [--rows 10000000] [--share 0.02] [--repeats 5] [--pandas] [--keep]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
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


def build(path: Path, rows: int, share: float, *, chunk: int = 1_000_000, seed: int = 0) -> np.ndarray:
    """Write ``rows`` GDELT 2.0 lines to ``path``; return the lines (1-based) of the dyad rows.

    Each chunk is assembled column-wise with Arrow (ids, dates and the row tails chosen by
    index) and its text buffer written in one call, so no Python string is made per row.
    """
    from analysis.sources.gdelt import COLUMNS

    rng = np.random.default_rng(seed)
    plain, dyad = _template_tails(list(COLUMNS))
    plain_arr, dyad_arr = pa.array(plain), pa.array(dyad)
    first, last = np.datetime64("2015-01-01"), np.datetime64("2024-12-31")
    span = int((last - first).astype(int)) + 1
    dyad_lines = []
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
            dyad_lines.append(start + 1 + np.flatnonzero(is_dyad))
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
    return np.concatenate(dyad_lines) if dyad_lines else np.empty(0, dtype=np.int64)


def run_floor(path: str) -> dict:
    """DuckDB's own scan: count the records with the loader's reading options."""
    import duckdb

    from analysis.sources.gdelt import COLUMNS

    columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in COLUMNS) + "}"
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")  # it would print on stdout, as the loader's connection does not
    start = time.perf_counter()
    (read,) = con.execute(
        f"""SELECT count(*) FROM read_csv($path, delim = '\t', header = false, quote = '', escape = '',
                                          columns = {columns}, auto_detect = false)""",
        {"path": path},
    ).fetchall()[0]
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "read": int(read)}


def run_package(path: str) -> dict:
    from analysis.sources.gdelt import load_gdelt

    start = time.perf_counter()
    result = load_gdelt(path, actor_codes=DYAD, root_codes=ROOT_CODES, engine="duckdb")
    seconds = time.perf_counter() - start
    found = np.sort(np.concatenate([result.events["raw_row"].to_numpy("int64"), result.rejects["raw_row"].to_numpy("int64")]))
    expected = np.load(Path(path).with_suffix(".dyad-lines.npy"))
    return {
        "seconds": seconds,
        "read": result.read,
        "dyad_rows": len(found),
        "same_lines": bool(np.array_equal(found, expected)),
    }


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
    figures = {"floor": run_floor, "package": run_package, "pandas": run_pandas}[which](path)
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
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of the floor and of the loader each")
    parser.add_argument("--pandas", action="store_true", help="also time pandas.read_csv + filter once (about 14 GB)")
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
    lines_file = path.with_suffix(".dyad-lines.npy")
    try:
        start = time.perf_counter()
        dyad_lines = build(path, args.rows, args.share)
        np.save(lines_file, dyad_lines)
        size = path.stat().st_size
        print(
            f"built {args.rows:,} rows ({size / GIB:.2f} GiB, {len(dyad_lines):,} dyad rows) "
            f"in {time.perf_counter() - start:.1f} s: {path}"
        )

        runs: dict[str, list[dict]] = {"floor": [], "package": []}
        for _ in range(args.repeats):
            for which in runs:  # interleaved: the machine's drift reaches both alike
                runs[which].append(measure(which, path))
        failed = [f for rs in runs.values() for f in rs if "error" in f]
        if failed:
            print(f"FAILED: {failed[0]['error']}")
            return 1
        median = {which: statistics.median(f["seconds"] for f in rs) for which, rs in runs.items()}
        for which, name in (("floor", "floor: DuckDB count(*) of read_csv"), ("package", "load_gdelt (duckdb)")):
            seconds = ", ".join(f"{f['seconds']:.2f}" for f in runs[which])
            peak = max(f["peak_rss_bytes"] for f in runs[which]) / GIB
            print(f"{name:36s} median {median[which]:6.2f} s  (runs: {seconds})  peak RSS {peak:5.2f} GiB")
        ratio = median["package"] / median["floor"]
        print(f"ratio load_gdelt / floor: {ratio:.2f}x (goal <= 2x: {'met' if ratio <= 2 else 'NOT met'})")
        package = runs["package"]
        reads_ok = all(f["read"] == args.rows for rs in runs.values() for f in rs)
        lines_ok = all(f["same_lines"] and f["dyad_rows"] == len(dyad_lines) for f in package)
        rss_ok = max(f["peak_rss_bytes"] for f in package) < 2 * GIB
        print(f"every run read {args.rows:,} records: {'yes' if reads_ok else 'NO'}")
        print(f"load_gdelt found the {len(dyad_lines):,} dyad rows, each at its line: {'yes' if lines_ok else 'NO'}")
        print(f"load_gdelt peak RSS < 2 GiB: {'met' if rss_ok else 'NOT met'}")

        if args.pandas:
            f = measure("pandas", path)
            if "error" in f:
                print(f"pandas.read_csv + filter FAILED: {f['error']}")
            else:
                print(
                    f"pandas.read_csv + filter: {f['seconds']:.1f} s, peak RSS {f['peak_rss_bytes'] / GIB:.2f} GiB, "
                    f"{f['dyad_rows']:,} dyad rows; pandas / load_gdelt median: {f['seconds'] / median['package']:.1f}x"
                )
        return 0 if reads_ok and lines_ok else 1
    finally:
        if args.keep:
            print(f"kept {path}")
        else:
            path.unlink(missing_ok=True)
            lines_file.unlink(missing_ok=True)
            folder.rmdir()


if __name__ == "__main__":
    raise SystemExit(main())
