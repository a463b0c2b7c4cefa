"""Cost of the phrase rules per million DISTINCT agent messages.

Text rules run once per distinct text, so their cost grows with the number of distinct texts,
not with rows. This builds N distinct messages from the dev split of the labelled corpus
(everyday replies and violations as agents type them), each made unique with a different
order number appended (so nothing is deduplicated away), then times, in this process:

- normalization (NFKC, lower case, traditional -> simplified, folding) of the N texts;
- each shipped phrase rule's matching over the N normalized texts (allow, negation,
  phrases, patterns and, for the contact rules, pronunciation folding).

    python benchmarks/phrases.py --rows 1000000

Wall times are for this machine under its current load; see docs/rulesets.md for figures.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    from cservice_audit.phrase_engine import compile_params, match_distinct
    from cservice_audit.ruleset import load_platform, shipped_platforms
    from cservice_audit.text import normalize

    frame = messages(args.rows)
    assert frame["text"].n_unique() == args.rows
    start = time.perf_counter()
    normed = frame.lazy().select(normalize(pl.col("text")).alias("norm")).collect()
    norm_s = time.perf_counter() - start
    per_million = 1_000_000 / args.rows
    print(f"{args.rows} distinct messages; seconds per million distinct messages:")
    print(f"  {'normalize':<8} {norm_s * per_million:7.2f}")
    total = norm_s
    for platform in shipped_platforms():
        for rule in load_platform(platform).rules:
            if rule.check != "phrases":
                continue
            matcher = compile_params(rule.params)
            start = time.perf_counter()
            hits = match_distinct(normed.lazy(), matcher).select(pl.col("match").is_not_null().sum()).collect().item()
            took = time.perf_counter() - start
            total += took
            print(f"  {rule.code:<8} {took * per_million:7.2f}   ({hits} hits)")
    print(f"  {'all':<8} {total * per_million:7.2f}   (every phrase rule of all five platforms)")


if __name__ == "__main__":
    main()
