"""The phrase models' scoring (phrase_engine) against a plain-Python reference.

The reference is written from the models' definition (tests/train_phrase_models.py `ngrams`,
docs/rulesets.md) with plain loops and exact decimals, no polars:

- the text a model reads is the first MODEL_MAX_CHARS characters, `neutralize` folded, between
  `^` and `$`; its features are every 1-, 2- and 3-character slice at every position;
- score = bias + the weight of every slice found in the table (a repeated row counts each
  time), exact; a hit is score >= threshold; the finding prints the score rounded to 2 places,
  half to even (zero without a sign);
- evidence: the three slices that add most, ties to the shorter slice, then the earlier one.

It is held against the shipped models on the labelled corpus and on random strings, and
against random weight tables (n-grams of every length, repeated rows, equal weights, folds)
on random texts over a small alphabet, so overlaps and ties are the rule, not the exception.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from pathlib import Path

import polars as pl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cservice_audit import phrase_engine
from cservice_audit.phrase_engine import MODEL_MAX_CHARS, compile_params, match_distinct, model_names
from cservice_audit.text import normalize


class Reference:
    """One model as plain Python: n-gram -> weights (one per row), bias, cut, folds."""

    def __init__(self, rows: list[tuple[str | None, Decimal]], bias: Decimal, cut: Decimal, folds: dict[str, str]):
        self.weights: dict[str, list[Decimal]] = {}
        for gram, weight in rows:
            if gram:
                self.weights.setdefault(gram, []).append(weight)
        self.bias, self.cut, self.folds = bias, cut, folds

    @classmethod
    @functools.cache
    def shipped(cls, name: str) -> Reference:
        folder = resources.files("cservice_audit").joinpath("data/models")
        meta = yaml.safe_load(folder.joinpath(f"{name}.yaml").read_text("utf-8"))
        rows = [(r["ngram"], Decimal(r["weight"])) for r in csv.DictReader(io.StringIO(folder.joinpath(f"{name}.csv").read_text("utf-8")))]
        return cls(rows, Decimal(str(meta["bias"])), Decimal(str(meta["threshold"])), meta.get("neutralize") or {})

    def slices(self, text: str) -> list[tuple[str, int, int]]:
        """(n-gram, length, start) of every 1-3-character slice of the marked text."""
        head = text[:MODEL_MAX_CHARS]
        folded, i = [], 0
        while i < len(head):  # folds replace left to right, the first listed key winning
            for key, value in self.folds.items():
                if key and head.startswith(key, i):
                    folded.append(value)
                    i += len(key)
                    break
            else:
                folded.append(head[i])
                i += 1
        marked = "^" + "".join(folded) + "$"
        return [(marked[i : i + n], n, i) for n in (1, 2, 3) for i in range(len(marked) - n + 1)]

    def score(self, text: str | None) -> Decimal:
        if text is None:
            return self.bias
        return self.bias + sum((w for gram, _, _ in self.slices(text) for w in self.weights.get(gram, ())), Decimal(0))

    def evidence(self, text: str) -> str | None:
        """None when no weighted n-gram occurs (a bias alone at the threshold names nothing)."""
        found = [(w, n, i, gram) for gram, n, i in self.slices(text) for w in self.weights.get(gram, ())]
        found.sort(key=lambda e: (-e[0], e[1], e[2]))
        return "/".join(gram for *_, gram in found[:3]) or None

    def how(self, name: str, text: str) -> str:
        shown = float(self.score(text).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)) + 0.0  # no -0.0
        return f"model {name} {shown} >= {round(float(self.cut), 2)}"


def engine_scores(texts: list[str | None], name: str) -> list[float]:
    frame = pl.LazyFrame({"k": range(len(texts)), "t": texts}, schema={"k": pl.Int64, "t": pl.String})
    return phrase_engine.model_scores(frame, "k", "t", name).collect().sort("k")["score"].to_list()


def engine_hits(texts: list[str], names: list[str], titles: bool = False) -> dict[str, tuple[str, str]]:
    """text -> (match, how) for the texts a rule with only these models flags."""
    frame = pl.LazyFrame({"t": sorted(set(texts))}, schema={"t": pl.String})
    hits = phrase_engine._model_hits(frame, "t", compile_params({"models": names, "blank_titles": titles})).collect()
    assert hits["t"].n_unique() == hits.height, "one row per hit text"
    return {t: (m, h) for t, m, h in hits.iter_rows()}


def reference_hits(texts: list[str], models: dict[str, Reference], titles: bool = False) -> dict[str, tuple[str, str]]:
    out = {}
    for text in set(texts):
        read = re.sub(phrase_engine.TITLE, " ", text) if titles else text  # `blank_titles`
        for name, ref in models.items():  # the first model of the rule that fires names the hit
            if ref.score(read) >= ref.cut:
                out[text] = (ref.evidence(read), ref.how(name, read))
                break
    return out


def assert_same(texts: list[str], models: dict[str, Reference], titles: bool = False) -> None:
    for name, ref in models.items():
        got = engine_scores(texts, name)
        for text, score in zip(texts, got):
            assert abs(Decimal(repr(score)) - ref.score(text)) < Decimal("1e-9"), (name, text)
    assert engine_hits(texts, list(models), titles) == reference_hits(texts, models, titles)


@pytest.fixture(scope="module")
def corpus_texts() -> list[str]:
    raw = pl.read_csv(Path(__file__).parent / "phrase_corpus" / "corpus.csv")["text"]
    return raw.to_frame("t").select(normalize(pl.col("t"))).to_series().unique().sort().to_list()


@pytest.mark.parametrize("name", model_names())
def test_shipped_model_matches_the_reference_on_the_corpus(name: str, corpus_texts: list[str]) -> None:
    """Every labelled message, normalized: same score, same hits, same evidence, same wording."""
    ref = Reference.shipped(name)
    assert_same(corpus_texts, {name: ref})
    assert any(ref.score(t) >= ref.cut for t in corpus_texts), "the corpus holds hits of every model"


# Characters the shipped models weigh most, the folded 您/亲, the end marks themselves, and
# characters no model knows; texts long enough to be cut at MODEL_MAX_CHARS.
_SHIPPED_ALPHABET = "你您亲就吧是的不了个傻滚投诉等着好看关闭交易取消订单开票发票税点花呗信用卡微信加最第一^$,.?! 0123456789abv😀《》“”名叫色号系列"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.text(alphabet=_SHIPPED_ALPHABET, max_size=40) | st.text(alphabet=_SHIPPED_ALPHABET, min_size=395, max_size=420), min_size=1, max_size=12))
def test_shipped_models_match_the_reference_on_random_strings(texts: list[str]) -> None:
    refs = {name: Reference.shipped(name) for name in model_names()}
    for name, ref in refs.items():
        assert_same(texts, {name: ref})
    # A rule with two models: one pass over both models' n-grams; the first that fires names it.
    assert_same(texts, {"abuse": refs["abuse"], "confrontational": refs["confrontational"]})
    # ... and with titles blanked (TITLE as the Rust regex engine reads it, against Python's re)
    assert_same(texts, {"abuse": refs["abuse"], "confrontational": refs["confrontational"]}, titles=True)


# Random weight tables: n-grams of 0-4 characters over a tiny alphabet (so every text holds
# overlapping occurrences), repeated rows, weights with 0-6 decimal places, often equal.
_ALPHA = "ab^$您"
_weights = st.builds(lambda units, places: Decimal(units).scaleb(-places), st.integers(-300, 300), st.integers(0, 6))
_rows = st.lists(st.tuples(st.text(alphabet=_ALPHA, max_size=4), st.sampled_from([Decimal("0.5"), Decimal("-0.25")]) | _weights), max_size=25)
_folds = st.sampled_from([{}, {"您": "a"}, {"您": ""}, {"b": "a", "您": "bb"}])


def _fake(tables: dict[str, tuple[list, Decimal, Decimal, dict]], monkeypatch: pytest.MonkeyPatch) -> dict[str, Reference]:
    def model(name: str):
        rows, bias, cut, _ = tables[name]
        frame = pl.DataFrame({"ngram": [g or None for g, _ in rows], "weight": [float(w) for _, w in rows]}, schema={"ngram": pl.String, "weight": pl.Float64})
        return frame, float(bias), float(cut)

    monkeypatch.setattr(phrase_engine, "model", model)
    monkeypatch.setattr(phrase_engine, "model_meta", lambda name: {"neutralize": tables[name][3]})
    monkeypatch.setattr(phrase_engine, "model_names", lambda: sorted(tables))
    phrase_engine.scaled.cache_clear()
    return {name: Reference(rows, bias, cut, folds) for name, (rows, bias, cut, folds) in tables.items()}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    tables=st.lists(st.tuples(_rows, _weights, _weights, _folds), min_size=1, max_size=3),
    texts=st.lists(st.text(alphabet=_ALPHA + "c", max_size=12), min_size=1, max_size=10),
)
def test_any_weight_table_matches_the_reference(tables, texts, monkeypatch: pytest.MonkeyPatch) -> None:
    """Models of that format but any content: ties, repeats, n-grams that can never match."""
    try:
        refs = _fake({f"m{i}": t for i, t in enumerate(tables)}, monkeypatch)
        assert_same(texts, refs)
    finally:
        phrase_engine.scaled.cache_clear()


def test_ties_and_repeats_are_decided_by_the_rule_not_by_chance(monkeypatch: pytest.MonkeyPatch) -> None:
    """Equal weights name the shorter n-gram, then the earlier; the same text always scores the
    same exact value, so the printed score and the threshold decision never wobble."""
    rows = [("b", Decimal("0.1")), ("ab", Decimal("1.00001")), ("a", Decimal("1.00001")), ("ba", Decimal("1.00001")), ("ab", Decimal("0.00004"))]
    try:
        refs = _fake({"m": (rows, Decimal("0.02487"), Decimal("3.00008"), {})}, monkeypatch)
        hits = engine_hits(["abab", "ab"], ["m"])
        # ^abab$: a a (1.00001 each), b b (0.1 each), ab ab (1.00001 + 0.00004 each: two rows),
        # ba (1.00001), bias 0.02487: exactly 5.225, printed 5.22 (half to even); ab scores 2.12493
        # (below 3.00008). The top three among five n-grams weighing 1.00001: a, a, then ab.
        assert hits == {"abab": ("a/a/ab", "model m 5.22 >= 3.0")}
        assert hits == reference_hits(["abab", "ab"], refs)
    finally:
        phrase_engine.scaled.cache_clear()


def test_a_rule_reports_what_its_models_score(corpus_texts: list[str]) -> None:
    """Through match_distinct (lists first, models on what they left) for every shipped rule
    with models: each model hit is the reference's, on the text with the rule's allow phrases
    blanked (and its titles and echoed quotes, with `blank_titles`)."""
    from cservice_audit.ruleset import load_platform, shipped_platforms

    checked = 0
    for platform in shipped_platforms():
        for rule in load_platform(platform).rules:
            if rule.check != "phrases" or not rule.params.get("models"):
                continue
            m = compile_params(rule.params)
            result = match_distinct(pl.LazyFrame({"norm": corpus_texts}), m).collect()
            by_model = result.filter(pl.col("how").str.starts_with("model "))
            blanked = by_model.select("norm", phrase_engine._allowed(pl.col("norm"), m).alias("t"))
            refs = {name: Reference.shipped(name) for name in m.models}
            expected = reference_hits(blanked["t"].to_list(), refs)
            got = dict(zip(blanked["t"], zip(by_model["match"], by_model["how"])))
            assert got == {t: expected.get(t) for t in got}, rule.code
            # and no text the lists left alone is missed by the models
            unlisted = result.filter(pl.col("match").is_null()).select(phrase_engine._allowed(pl.col("norm"), m)).to_series().to_list()
            assert not reference_hits(unlisted, refs), rule.code
            checked += len(got)
    assert checked > 50


def test_check_text_prints_the_reference_score_and_ngrams(cli) -> None:
    """The installed command names the n-grams and the score the reference gives."""
    text = "就你事儿最多，谁惯的你"
    run = cli("check-text", text, "-p", "pinduoduo", "--format", "json")
    (p1,) = [r for r in run.json()["rules"] if r["code"] == "PDD-P1"]
    from cservice_audit.ruleset import load_platform

    allow = compile_params(load_platform("pinduoduo").rule("PDD-P1").params).allow
    norm = pl.select(phrase_engine._blank(normalize(pl.lit(text)), allow)).item()
    ref = Reference.shipped("abuse")
    assert ref.score(norm) >= ref.cut
    assert p1["match"] == ref.evidence(norm)
    assert p1["listed"].startswith(ref.how("abuse", norm))


def test_units_by_enum_codes_equal_the_join() -> None:
    """`_with_units` (Enum codes and running sums) against the plain join of the occurrences
    with the weight table, on lists that are null, empty, or shared by two models (KS-P1)."""
    names = ("confrontational", "abuse")
    marks, grams, reads = phrase_engine._gram_columns(names, "t")
    texts = ["你给我等着", "", None, "您好，亲，订单123已发", "滚", "^$", "傻傻傻傻傻傻"]
    cut = pl.DataFrame({"t": texts}, schema={"t": pl.String}).select(**marks).with_columns(**grams)
    wanted = [(reads[name], name, f"_units{i}") for i, name in enumerate(names)]
    assert phrase_engine._with_units(cut, wanted).equals(phrase_engine._with_units_joined(cut, wanted))
    empty = pl.DataFrame({"_marked0": ["^a$", "^b$"], "_grams0": [[], []]}, schema={"_marked0": pl.String, "_grams0": pl.List(pl.String)})
    assert phrase_engine._with_units(empty, wanted[:1]).equals(phrase_engine._with_units_joined(empty, wanted[:1]))
