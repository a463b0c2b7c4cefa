"""The phrase rules meet issue 10's targets on the held-out split of the labelled corpus:
precision >= 0.97 and recall >= 0.90 for every rule in tests/phrase_eval.yaml.

The held-out split is never used for tuning (tests/phrase_corpus/README.md); `make
phrase-eval` prints the same figures for both splits. A rule without held-out positives fails:
a target that cannot be measured is not met. Rules recorded under `below_target` in
tests/phrase_eval.yaml are strict expected failures until they meet the targets.
"""

from __future__ import annotations

import polars as pl
import pytest

from phrase_eval import ROOT, Score, config, corpus, evaluate

CFG = config()


@pytest.fixture(scope="module")
def heldout_scores() -> dict[str, Score]:
    path = ROOT / CFG["corpus"]
    if not path.exists():
        pytest.fail(f"no labelled corpus at {path}")
    frame = corpus(path)
    frame = frame.filter(frame["split"] == "heldout")
    scores, _ = evaluate(frame, CFG["rules"])
    return {s.rule: s for s in scores}


def _codes() -> list:
    """Every rule; those recorded below target in phrase_eval.yaml as strict expected failures
    (an XPASS fails the run, so the record cannot outlive the shortfall)."""
    below = CFG.get("below_target") or {}
    return [
        pytest.param(code, marks=pytest.mark.xfail(strict=True, reason=f"below target: {below[code]}")) if code in below else code
        for code in sorted(CFG["rules"])
    ]


@pytest.mark.parametrize("code", _codes())
def test_heldout_precision_and_recall(code: str, heldout_scores: dict[str, Score]) -> None:
    score = heldout_scores.get(code)
    assert score is not None and score.positives > 0, f"{code}: no held-out violations to measure"
    targets = CFG["targets"]
    assert score.recall >= targets["recall"], f"{code}: held-out recall {score.recall:.3f} < {targets['recall']} ({score.tp}/{score.positives})"
    precision = score.precision if score.precision is not None else 0.0
    assert precision >= targets["precision"], f"{code}: held-out precision {precision:.3f} < {targets['precision']} ({score.fp} false alarms)"


def test_scores_count_false_alarms_on_everyday_messages() -> None:
    """The scoring itself: an `ok` message a rule fires on is a false alarm, whatever its
    category; a violation of another category is neither a hit nor a false alarm."""
    import polars as pl

    frame = pl.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "split": ["dev"] * 4,
            "category": ["insult", "insult", "offplatform", "offplatform"],
            "label": ["violation", "ok", "ok", "violation"],
            "text": ["你是不是傻", "亲，好的", "你是不是傻", "加我微信"],
            "note": [None] * 4,
        }
    )
    (score,), _ = evaluate(frame, {"PDD-P1": {"platform": "pinduoduo", "categories": ["insult"]}})
    assert (score.positives, score.negatives, score.tp, score.fp) == (1, 2, 1, 1)
    assert score.precision == 0.5 and score.recall == 1.0


def test_a_new_batch_is_reported_on_its_own() -> None:
    """`--batch-since REV`: dev rows whose id the corpus did not have at REV form split `batch`;
    held-out rows and older dev rows keep their split."""
    from phrase_eval import as_batch

    frame = pl.DataFrame({
        "id": ["insult-0001", "insult-0002", "insult-0003", "insult-0004"],
        "split": ["dev", "dev", "heldout", "heldout"],
    })
    got = as_batch(frame, known_ids={"insult-0001", "insult-0003"})["split"].to_list()
    assert got == ["dev", "batch", "heldout", "heldout"]
