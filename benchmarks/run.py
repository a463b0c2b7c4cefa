"""`make bench`: generate N realistic messages, audit them with a platform's full ruleset
(pinduoduo unless --platform says otherwise), and compare with a bare `polars.read_csv` of
the same files measured in the same run; then show where the audit's time goes, stage by
stage (benchmarks/stages.py).

The data is realistic on purpose: about 94 % of the message texts are one of a kind (order
numbers, products, amounts, typos: `generate --variety 0.95`), 4 % of agent replies carry
phrases the text rules flag, about 7 % of buyer messages are quality complaints, with robots,
transfers, reviews and one shop per file (`generate --platform`). Real chats repeat few
texts verbatim, so data with a handful of texts would hide the cost of text rules.

Each measurement runs in its own child process so its wall time and peak memory (from
os.wait4's rusage) are its own. Data is generated into benchmarks/data/ (git-ignored) and
reused when the same size, seed and platform are asked for again.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
VARIETY, RISKY_RATE = "0.95", "0.04"
STAGES_UP_TO = 5_000_000


def measure(argv: list[str], capture: bool = False) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds (user + system), peak resident memory (bytes) and (if asked)
    stdout of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE if capture else subprocess.DEVNULL, text=True)
    out = process.stdout.read() if capture and process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"benchmark step failed with exit {code}: {' '.join(argv)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, out  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 2_000_000)))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--files", type=int, default=int(os.environ.get("BENCH_FILES", 1)),
                        help="split the rows over this many files (one shop each), read as one glob")
    parser.add_argument("--platform", default=os.environ.get("BENCH_PLATFORM", "pinduoduo"),
                        help="the ruleset audited, and the flavour of the generated export")
    parser.add_argument("--no-stages", action="store_true", help="skip the stage-by-stage breakdown")
    parser.add_argument("--ignore", default=os.environ.get("BENCH_IGNORE", ""),
                        help="rule codes the audit leaves out (its --ignore), e.g. the phrase rules to measure "
                             "memory at sizes where their models would take hours")
    args = parser.parse_args()

    DATA.mkdir(exist_ok=True)
    stem = f"bench-{args.platform}-{args.rows}-{args.seed}-{args.days}d"
    paths = [DATA / f"{stem}-{i + 1}of{args.files}.csv" for i in range(args.files)]
    for i, path in enumerate(paths):
        if path.exists():
            continue
        print(f"generating {args.rows // args.files:,} rows into {path} ...", file=sys.stderr)
        t0 = time.perf_counter()
        partial = path.with_suffix(".partial.csv")
        subprocess.run(
            [sys.executable, "-m", "cservice_audit", "generate", "-o", str(partial), "--rows", str(args.rows // args.files),
             "--seed", str(args.seed + i), "--days", str(args.days), "--start", "2026-10-24", "--shop", f"店铺{i + 1}",
             "--platform", args.platform, "--headers", "en", "--variety", VARIETY, "--risky-rate", RISKY_RATE],
            check=True,
        )
        partial.rename(path)  # an interrupted generation never leaves a short file behind
        print(f"generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    files = [str(p) for p in paths]
    read_wall, read_cpu, read_rss, _ = measure(
        [sys.executable, "-c", f"import polars as pl\nfor f in {files!r}: pl.read_csv(f, infer_schema=False)"]
    )
    audit_wall, audit_cpu, audit_rss, _ = measure(
        [sys.executable, "-m", "cservice_audit", "audit", *files, "--platform", args.platform,
         "--format", "json", "-o", os.devnull, "--exit-zero", "-q", "--no-history",
         *(["--ignore", args.ignore] if args.ignore else [])]
    )
    rows = sum(sum(1 for _ in open(p, "rb")) - 1 for p in paths)
    size = sum(p.stat().st_size for p in paths)
    gib = 1024**3
    print(f"files              {len(paths)} x {stem} ({size / 1024**2:,.0f} MiB, {rows:,} rows)")
    print(f"polars.read_csv    {read_wall:8.2f} s wall {read_cpu:8.2f} s CPU   peak {read_rss / gib:5.2f} GiB")
    if args.ignore:
        print(f"(audit run with --ignore {args.ignore})")
    print(f"audit {args.platform:<12} {audit_wall:8.2f} s wall {audit_cpu:8.2f} s CPU   peak {audit_rss / gib:5.2f} GiB")
    print(f"rows per second    {rows / audit_wall:,.0f}")
    print(f"ratio audit/read   {audit_wall / read_wall:8.2f} wall {audit_cpu / read_cpu:8.2f} CPU"
          f"   peak {audit_rss / read_rss:4.2f}x the read's   (targets at 2M rows: ratio <= 5, peak <= 2x)")
    # On a shared machine wall time swings with the neighbours' load; CPU time much less.
    sys.stdout.flush()
    if args.no_stages:
        return
    if rows > STAGES_UP_TO:
        # stages.py runs each piece over the whole input in memory: at this size that is the
        # memory the spilled audit avoids, so it is skipped.
        print(f"stages skipped above {STAGES_UP_TO:,} rows (they hold the whole input in memory)")
        return
    print("stages (benchmarks/stages.py, its own process; the first block is the audit as run,")
    print("        the second the same work piece by piece: shared frames, then each rule on top)")
    _, _, _, out = measure(
        [sys.executable, str(HERE / "stages.py"), "--platform", args.platform, *files], capture=True
    )
    for line in out.splitlines():
        entry = json.loads(line)
        print(f"  {entry['stage']:<28} {entry['seconds']:8.2f} s")


if __name__ == "__main__":
    main()
