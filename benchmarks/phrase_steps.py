"""Where a phrase rule's `match_distinct` spends its CPU, step by step, on the distinct
normalized agent texts of a bench file (issue 13).

The distinct texts are normalized once and kept beside the CSV (`…-norms.parquet`), so that
runs of two trees can be compared on the very same texts. Each step is collected alone and
timed with getrusage (user + system of the whole process, polars' threads included):

- allow: the texts holding one of the rule's hot literals found (`_with_allowed`), and on
  them the allow phrases blanked (`replace_many`), then the disowned quotes, titles and product
  names (`_names`, one regex); on an older tree, both on every text;
- candidates: `_candidates` (phrases, sounds, patterns, the gate and gated patterns);
- lists: the rest of `_match_lists` (negation and extraction on the candidates);
- models: `_model_hits` on the texts no list matched;
- total: `match_distinct` itself, called once more as the audit calls it.

    .venv/bin/python benchmarks/phrase_steps.py benchmarks/data/bench-pinduoduo-2000000-1-30d-1of1.csv -p pinduoduo
    .venv/bin/python benchmarks/phrase_steps.py FILE -p taobao --rules TB-P1,TB-P5 --patterns
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import polars as pl

from cservice_audit import phrase_engine as pe
from cservice_audit.ruleset import load_platform


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(fn):
    wall, cpu = time.perf_counter(), _cpu()
    out = fn()
    return out, _cpu() - cpu, time.perf_counter() - wall


def norms_of(path: str, roles: list[str]) -> pl.DataFrame:
    cached = Path(path).with_suffix(f".{'-'.join(roles)}-norms.parquet")
    if cached.exists():
        return pl.read_parquet(cached)
    from cservice_audit.textnorm import normalize_distinct

    frame = pl.read_csv(path, infer_schema_length=10_000, columns=["role", "text"])
    texts = frame.filter(pl.col("role").is_in(roles) & pl.col("text").is_not_null()).select("text").unique()
    norms = normalize_distinct(texts, "text", "norm").select("norm").unique().sort("norm")
    norms.write_parquet(cached)
    return norms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("-p", "--platform", default="pinduoduo")
    parser.add_argument("--rules", default="", help="codes, comma-separated (default: every phrase rule)")
    parser.add_argument("--patterns", action="store_true", help="also time each ungated pattern alone")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    rules = [r for r in load_platform(args.platform).rules if r.check == "phrases"]
    if args.rules:
        rules = [r for r in rules if r.code in args.rules.split(",")]
    roles = sorted({role for rule in rules for role in rule.params.get("roles", ["agent"])})
    norms = norms_of(args.path, roles)
    print(f"{norms.height:,} distinct normalized {'/'.join(roles)} texts")
    for rule in rules:
        m = pe.compile_params(rule.params)
        for _ in range(args.repeat):
            row = {}
            lazy = norms.lazy()
            if hasattr(pe, "_with_allowed"):  # the hot texts' gate, then the allow step on them (this tree)
                blanked, row["allow (hot texts)"], _ = timed(lambda: pe._with_allowed(norms.select("norm"), m, "norm"))
            else:  # an older tree: the allow step on every text
                blanked, row["allow (all texts)"], _ = timed(lambda: lazy.select("norm").with_columns(pe._allowed(pl.col("norm"), m).alias(pe.ALLOWED)).collect())
            cands, row["candidates"], _ = timed(lambda: pe._candidates(blanked.lazy(), m, "norm"))
            listed, row["lists total"], _ = timed(lambda: pe._match_lists(blanked.lazy(), m, "norm").collect())
            row["lists after cand."] = row["lists total"] - row["candidates"]
            if m.models:
                unmatched = listed.filter(pl.col("match").is_null()).select("norm", pe.ALLOWED)
                hits, row["models"], _ = timed(lambda: pe._model_hits(unmatched.lazy(), "norm", m).collect())
            found, row["match_distinct"], wall = timed(lambda: pe.match_distinct(lazy, m).collect())
            print(
                f"{rule.code}: {cands.height:,} candidates, {found['match'].is_not_null().sum():,} hits; CPU s: "
                + ", ".join(f"{k} {v:.2f}" for k, v in row.items())
                + f" (wall {wall:.2f})"
            )
        if args.patterns:
            allowed = blanked.select(pl.col(pe.ALLOWED))
            from cservice_audit.regex_factors import selective

            costs = []
            for p, lits in zip(m.pattern_parts, m.pattern_literals):
                if lits and selective(lits):
                    continue
                _, cpu, _ = timed(lambda: allowed.select(pl.col(pe.ALLOWED).str.contains(f"(?i){p}").sum()))
                costs.append((cpu, p))
            for p in m.sound_parts:
                _, cpu, _ = timed(lambda: allowed.select(pl.col(pe.ALLOWED).str.contains(f"(?i){p}").sum()))
                costs.append((cpu, "sound: " + p))
            for cpu, p in sorted(costs, reverse=True)[:15]:
                print(f"    {cpu:6.3f} s  {p[:110]}")
            print(f"    ungated patterns + sounds: {sum(c for c, _ in costs):.2f} s over {len(costs)}")


if __name__ == "__main__":
    main()
