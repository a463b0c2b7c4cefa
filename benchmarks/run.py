"""`make bench`: generate N messages, audit them with the full pinduoduo ruleset, and
compare with a bare `polars.read_csv` of the same file measured in the same run.

Each measurement runs in its own child process so its wall time and peak memory (from
os.wait4's rusage) are its own. Data is generated into benchmarks/data/ (git-ignored) and
reused when the same size and seed are asked for again.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"


def measure(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident memory (bytes) of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"benchmark step failed with exit {code}: {' '.join(argv)}")
    return wall, usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 1_000_000)))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--files", type=int, default=int(os.environ.get("BENCH_FILES", 1)),
                        help="split the rows over this many files (one shop each), read as one glob")
    args = parser.parse_args()

    DATA.mkdir(exist_ok=True)
    paths = [DATA / f"bench-{args.rows}-{args.seed}-{args.days}d-{i + 1}of{args.files}.csv" for i in range(args.files)]
    for i, path in enumerate(paths):
        if path.exists():
            continue
        print(f"generating {args.rows // args.files:,} rows into {path} ...", file=sys.stderr)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "cservice_audit", "generate", "-o", str(path), "--rows", str(args.rows // args.files),
             "--seed", str(args.seed + i), "--days", str(args.days), "--start", "2026-10-24", "--shop", f"店铺{i + 1}"],
            check=True,
        )
        print(f"generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    files = [str(p) for p in paths]
    read_wall, read_rss = measure(
        [sys.executable, "-c", f"import polars as pl\nfor f in {files!r}: pl.read_csv(f, infer_schema=False)"]
    )
    audit_wall, audit_rss = measure(
        [sys.executable, "-m", "cservice_audit", "audit", *files, "--platform", "pinduoduo",
         "--format", "json", "-o", os.devnull, "--exit-zero", "-q", "--no-history"]
    )
    rows = sum(sum(1 for _ in open(p, "rb")) - 1 for p in paths)
    size = sum(p.stat().st_size for p in paths)
    gib = 1024**3
    print(f"files              {len(paths)} x {paths[0].name.rsplit('-', 1)[0]} ({size / 1024**2:,.0f} MiB, {rows:,} rows)")
    print(f"polars.read_csv    {read_wall:8.2f} s   peak {read_rss / gib:5.2f} GiB")
    print(f"audit pinduoduo    {audit_wall:8.2f} s   peak {audit_rss / gib:5.2f} GiB")
    print(f"rows per second    {rows / audit_wall:,.0f}")
    print(f"ratio audit/read   {audit_wall / read_wall:8.2f}   (target at 10M rows: <= 3, peak < 6 GiB)")


if __name__ == "__main__":
    main()
