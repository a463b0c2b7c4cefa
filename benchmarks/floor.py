"""The floor under the audit's time: what the phrase rules' work costs on its own, arranged
as well as it can be, against a bare read of the same file in the same process.

Steps (each timed alone, wall and CPU):
1. the bare `polars.read_csv` (as `make bench` measures it);
2. the distinct texts of the roles the platform's phrase rules read, normalized once
   (`textnorm.normalize_distinct`, the audit's fast road);
3. every phrase rule of the platform matched once over those distinct texts
   (`phrase_engine.match_distinct`: allow phrases, negation, lists, sounds, models).

Nothing else of the audit runs (no events normalized, no waits, no other rule, no report), so
the sum of steps 2-3 over step 1 is a lower bound on the full audit's ratio with these rules:
if it is above the target, no arrangement of the rest reaches the target.

    .venv/bin/python benchmarks/floor.py benchmarks/data/bench-pinduoduo-2000000-1-30d-1of1.csv -p pinduoduo
"""

from __future__ import annotations

import argparse
import resource
import time

import polars as pl

from cservice_audit.phrase_engine import compile_params, match_distinct
from cservice_audit.ruleset import load_platform
from cservice_audit.textnorm import normalize_distinct


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("-p", "--platform", default="pinduoduo")
    args = parser.parse_args()
    ruleset = load_platform(args.platform)
    rules = [rule for rule in ruleset.rules if rule.check == "phrases"]
    for rule in rules:
        compile_params(rule.params)  # compiled once per process in the audit too; not timed
    rows: list[tuple[str, float, float]] = []
    mark = [time.perf_counter(), _cpu()]

    def lap(what: str) -> None:
        wall, cpu = time.perf_counter(), _cpu()
        rows.append((what, wall - mark[0], cpu - mark[1]))
        mark[:] = [wall, cpu]

    frame = pl.read_csv(args.path, infer_schema_length=10_000)
    lap("bare read_csv")
    roles = sorted({role for rule in rules for role in rule.params.get("roles", ["agent"])})
    texts = frame.filter(pl.col("role").is_in(roles) & pl.col("text").is_not_null()).select("text").unique()
    del frame
    norms = normalize_distinct(texts, "text", "norm").select("norm").unique()
    lap(f"{texts.height:,} distinct {'/'.join(roles)} texts normalized")
    for rule in rules:
        found = match_distinct(norms.lazy(), compile_params(rule.params)).collect()
        lap(f"{rule.code} on {norms.height:,} texts ({found['match'].is_not_null().sum():,} hits)")
    read_wall, read_cpu = rows[0][1], rows[0][2]
    width = max(len(what) for what, _, _ in rows)
    for what, wall, cpu in rows:
        print(f"{what:<{width}}  {wall:6.2f} s wall  {cpu:6.2f} s CPU  {wall / read_wall:5.1f}x / {cpu / read_cpu:5.1f}x the read")
    wall = sum(w for _, w, _ in rows[1:])
    cpu = sum(c for _, _, c in rows[1:])
    print(f"{'texts and phrase rules alone':<{width}}  {wall:6.2f} s wall  {cpu:6.2f} s CPU  {wall / read_wall:5.1f}x / {cpu / read_cpu:5.1f}x the read")


if __name__ == "__main__":
    main()
