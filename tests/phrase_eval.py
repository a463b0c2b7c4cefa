"""Precision and recall of every phrase rule on the labelled corpus (issue 10).

    python tests/phrase_eval.py                      # dev, heldout and fresh, one line per rule and split
    python tests/phrase_eval.py --split dev --misses # also list dev misses and false alarms
    python tests/phrase_eval.py --batch-since REV    # dev rows added after git revision REV, on their own

The rules run exactly as in an audit (the shipped ruleset's params through the phrase engine,
once per distinct normalized text). Which categories a rule answers for is data in
tests/phrase_eval.yaml. `--misses` lists texts of the dev split only: the heldout split is for
measuring, never for tuning, so its texts are never printed.

The `fresh` split lives in its own file (tests/phrase_corpus/fresh.csv): messages written blind
after the rules were tuned on dev and measured on heldout, so it is the one split nobody has
looked at while tuning (tests/phrase_corpus/README.md). It is scored with the same rules and the
same category mapping, and its texts are never printed either.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = Path(__file__).with_name("phrase_eval.yaml")
FRESH = Path(__file__).parent / "phrase_corpus" / "fresh.csv"
# Report order: tuning split, then the held-out split, then the blind one written after tuning.
SPLITS = ("dev", "heldout", "fresh")


@dataclass(frozen=True)
class Score:
    rule: str
    split: str
    positives: int
    negatives: int
    tp: int
    fp: int

    @property
    def recall(self) -> float | None:
        return self.tp / self.positives if self.positives else None

    @property
    def precision(self) -> float | None:
        flagged = self.tp + self.fp
        return self.tp / flagged if flagged else None


def config() -> dict:
    return yaml.safe_load(CONFIG.read_text("utf-8"))


def corpus(path: Path | None = None) -> pl.DataFrame:
    path = path or ROOT / config()["corpus"]
    return pl.read_csv(path, schema_overrides={"id": pl.String, "text": pl.String, "note": pl.String})


def with_fresh(frame: pl.DataFrame, fresh: Path = FRESH) -> pl.DataFrame:
    """`frame` with the rows of the fresh split appended (same columns), when the file exists."""
    if not fresh.exists():
        return frame
    return pl.concat([frame, corpus(fresh)], how="vertical_relaxed")


def as_batch(frame: pl.DataFrame, known_ids: set[str]) -> pl.DataFrame:
    """`frame` with the dev rows whose id is not in `known_ids` moved to split `batch`: a newly
    written batch measured on its own, as the rules stood before anyone tuned on it
    (tests/phrase_corpus/README.md, the third and fourth passes)."""
    added = (pl.col("split") == "dev") & ~pl.col("id").is_in(sorted(known_ids))
    return frame.with_columns(pl.when(added).then(pl.lit("batch")).otherwise(pl.col("split")).alias("split"))


def ids_at(revision: str, path: Path) -> set[str]:
    """The ids of the corpus file as committed at git `revision`."""
    relative = path.resolve().relative_to(ROOT)
    shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{revision}:{relative.as_posix()}"], capture_output=True, check=True)
    return set(pl.read_csv(shown.stdout, schema_overrides={"id": pl.String, "text": pl.String, "note": pl.String})["id"].to_list())


def flags(frame: pl.DataFrame, platform: str, code: str) -> pl.DataFrame:
    """`frame` with `match` and `how` from rule `code` of the shipped `platform` ruleset."""
    from cservice_audit.phrase_engine import compile_params, match_distinct
    from cservice_audit.ruleset import load_platform
    from cservice_audit.text import normalize

    params = load_platform(platform).rule(code).params
    normed = frame.with_columns(normalize(pl.col("text")).alias("norm"))
    matched = match_distinct(normed.lazy().select("norm").unique(), compile_params(params)).collect()
    return normed.join(matched, on="norm", how="left", nulls_equal=True, maintain_order="left")


def evaluate(frame: pl.DataFrame, rules: dict) -> tuple[list[Score], dict[tuple[str, str], pl.DataFrame]]:
    scores, judged = [], {}
    for code, spec in rules.items():
        flagged = flags(frame, spec["platform"], code).with_columns(
            (pl.col("category").is_in(spec["categories"]) & (pl.col("label") == "violation")).alias("positive"),
            (pl.col("label") == "ok").alias("negative"),
            pl.col("match").is_not_null().alias("hit"),
        )
        present = set(flagged["split"].unique().to_list())
        for split in [s for s in SPLITS if s in present] + sorted(present - set(SPLITS)):
            part = flagged.filter((pl.col("split") == split) & (pl.col("positive") | pl.col("negative")))
            scores.append(
                Score(
                    code,
                    split,
                    int(part["positive"].sum()),
                    int(part["negative"].sum()),
                    int((part["positive"] & part["hit"]).sum()),
                    int((part["negative"] & part["hit"]).sum()),
                )
            )
            judged[(code, split)] = part
    return scores, judged


def _fmt(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.3f}"


def report(scores: list[Score], targets: dict) -> str:
    lines = [f"{'rule':<8} {'split':<8} {'pos':>5} {'neg':>5} {'tp':>5} {'fp':>4} {'precision':>9} {'recall':>7}  target"]
    for s in scores:
        ok = (s.precision is None or s.precision >= targets["precision"]) and (s.recall is None or s.recall >= targets["recall"])
        mark = "ok" if ok and s.positives else ("no data" if not s.positives else "BELOW")
        lines.append(
            f"{s.rule:<8} {s.split:<8} {s.positives:>5} {s.negatives:>5} {s.tp:>5} {s.fp:>4} {_fmt(s.precision):>9} {_fmt(s.recall):>7}  {mark}"
        )
    lines.append(f"targets: precision >= {targets['precision']}, recall >= {targets['recall']} per rule (the heldout split is the measure)")
    if any(s.split == "fresh" for s in scores):
        lines.append("fresh: written blind after tuning, never tuned on (tests/phrase_corpus/README.md)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=[*SPLITS, "batch"], help="only this split")
    parser.add_argument("--rule", action="append", help="only these rule codes")
    parser.add_argument("--misses", action="store_true", help="list dev misses and false alarms (dev only)")
    parser.add_argument("--corpus", type=Path, help="another corpus CSV")
    parser.add_argument("--fresh", type=Path, default=FRESH, help="the fresh split's CSV (default: %(default)s)")
    parser.add_argument("--batch-since", metavar="REV", help="report dev rows added after git revision REV as split `batch`")
    args = parser.parse_args(argv)
    cfg = config()
    path = args.corpus or ROOT / cfg["corpus"]
    if not path.exists():
        sys.stderr.write(f"phrase-eval: no corpus at {path}\n")
        return 2
    if (args.fresh != FRESH or args.split == "fresh") and not args.fresh.exists():
        sys.stderr.write(f"phrase-eval: no fresh split at {args.fresh}\n")
        return 2
    if args.split == "batch" and not args.batch_since:
        sys.stderr.write("phrase-eval: --split batch needs --batch-since REV (which rows are the new batch)\n")
        return 2
    frame = with_fresh(corpus(path), args.fresh)
    if args.batch_since:
        try:
            frame = as_batch(frame, ids_at(args.batch_since, path))
        except (subprocess.CalledProcessError, ValueError, OSError) as exc:
            sys.stderr.write(f"phrase-eval: cannot read the corpus at revision {args.batch_since}: {exc}\n")
            return 2
    if args.split:
        frame = frame.filter(pl.col("split") == args.split)
    rules = {k: v for k, v in cfg["rules"].items() if not args.rule or k in args.rule}
    scores, judged = evaluate(frame, rules)
    print(report(scores, cfg["targets"]))
    if args.misses:
        for (code, split), part in judged.items():
            if split != "dev":
                continue  # never print heldout or fresh texts
            for row in part.filter(pl.col("positive") & ~pl.col("hit")).iter_rows(named=True):
                print(f"MISS {code} {row['id']} {row['text']}")
            for row in part.filter(pl.col("negative") & pl.col("hit")).iter_rows(named=True):
                print(f"FALSE {code} {row['id']} [{row['match']} | {row['how']}] {row['text']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
