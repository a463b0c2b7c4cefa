"""Cost of the phrase rules per million DISTINCT agent messages.

Text rules run once per distinct text, so their cost grows with the number of distinct texts,
not with rows. This builds N distinct messages from the dev split of the labelled corpus
(everyday replies and violations as agents type them), each made unique with a different
order number appended (so nothing is deduplicated away), then times, in this process:

- normalization (NFKC, lower case, traditional -> simplified, folding) of the N texts;
- each shipped phrase rule's matching over the N normalized texts (allow, negation,
  phrases, patterns and, for the contact rules, pronunciation folding).

    python benchmarks/phrases.py --rows 1000000

Each line gives wall and CPU seconds (user + system of this process, all threads); on a shared
machine wall time swings with the neighbours' load, CPU time much less. Figures before and
after the models' rewrite are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent


def messages(rows: int) -> pl.DataFrame:
    corpus = pl.read_csv(ROOT / "tests/phrase_corpus/corpus.csv").filter(pl.col("split") == "dev")
    base = corpus["text"]
    index = pl.int_range(0, rows, eager=True)
    return pl.DataFrame({"text": base.gather(index % base.len())}).with_columns(
        pl.format("{} 订单{}", pl.col("text"), (index + 10_000_000).cast(pl.String)).alias("text")
    )


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    from cservice_audit.phrase_engine import compile_params, match_distinct
    from cservice_audit.ruleset import load_platform, shipped_platforms
    from cservice_audit.text import normalize

    frame = messages(args.rows)
    assert frame["text"].n_unique() == args.rows
    start, start_cpu = time.perf_counter(), cpu()
    normed = frame.lazy().select(normalize(pl.col("text")).alias("norm")).collect()
    took, took_cpu = time.perf_counter() - start, cpu() - start_cpu
    per_million = 1_000_000 / args.rows
    print(f"{args.rows} distinct messages; seconds per million distinct messages:")
    print(f"  {'':<9} {'wall':>7} {'CPU':>7}")
    print(f"  {'normalize':<9} {took * per_million:7.2f} {took_cpu * per_million:7.2f}")
    total, total_cpu = took, took_cpu
    for platform in shipped_platforms():
        for rule in load_platform(platform).rules:
            if rule.check != "phrases":
                continue
            matcher = compile_params(rule.params)
            start, start_cpu = time.perf_counter(), cpu()
            hits = match_distinct(normed.lazy(), matcher).select(pl.col("match").is_not_null().sum()).collect().item()
            took, took_cpu = time.perf_counter() - start, cpu() - start_cpu
            total, total_cpu = total + took, total_cpu + took_cpu
            models = f", models {'+'.join(matcher.models)}" if matcher.models else ""
            print(f"  {rule.code:<9} {took * per_million:7.2f} {took_cpu * per_million:7.2f}   ({hits} hits{models})")
    print(f"  {'all':<9} {total * per_million:7.2f} {total_cpu * per_million:7.2f}   (every phrase rule of all five platforms)")


if __name__ == "__main__":
    main()
