"""Necessary literals of the phrase rules' patterns (regex_factors), and the gate built on them.

The gate skips a pattern on texts holding none of its necessary literals, so a literal set
that misses some match would silently drop a finding. Checked three ways: hand cases for
every construct the analysis handles; for every shipped pattern, strings generated to
contain a match (hypothesis `from_regex`) that the pattern matches must hold a literal; and
every shipped phrase rule matches the corpus and random texts the same with the gate as
without it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cservice_audit.phrase_engine import compile_params, match_distinct
from cservice_audit.regex_factors import necessary_literals, selective
from cservice_audit.ruleset import load_platform, shipped_platforms
from cservice_audit.text import normalize

CORPUS = Path(__file__).parent / "phrase_corpus"


def phrase_rules():
    for platform in shipped_platforms():
        for rule in load_platform(platform).rules:
            if rule.check == "phrases":
                yield rule


SHIPPED_PARTS = sorted({part for rule in phrase_rules() for part in compile_params(rule.params).pattern_parts})


@pytest.mark.parametrize(
    "pattern, literals",
    [
        ("加微信", ("加微信",)),
        ("加(个)?微信", ("加个微信", "加微信")),
        ("(你|您)[^,.]{0,4}(傻|蠢)", ("傻", "蠢")),  # the rarer set, not 你/您
        ("ab|c.d", ("ab", "c")),  # every branch must offer one
        ("a.b|.", None),  # a branch with none: none for the whole
        ("x.*", ("x",)),
        (".*", None),
        ("\\d{11}", None),
        ("(ab)+", ("ab",)),
        ("(ab)?c", ("abc", "c")),
        ("[0-2]{2}", ("00", "01", "02", "10", "11", "12", "20", "21", "22")),
        ("VX", ("vx",)),  # lower-cased: matched case-insensitively on lower-cased text
        ("(?-u:\\b)v我", ("v我",)),  # Rust's byte-mode word boundary
        ("扫(一下)?[^,]{0,6}加我|(发|推)个码", ("加我", "发个码", "推个码")),  # a branch ending in a literal
        ("(?<=a)b", ("b",)),
        ("\\p{Han}", None),  # not Python syntax: unknown, so never gated
    ],
)
def test_necessary_literals(pattern, literals):
    assert necessary_literals(pattern) == literals


def test_selective_leaves_common_literals_ungated():
    assert selective(("加微信", "vx"))
    assert selective(("傻",))
    assert not selective(("你", "傻"))  # 你 is in most replies
    assert not selective(("13", "14"))  # digits: order numbers, amounts, dates
    assert not selective(("σ",))  # case folding beyond ASCII
    assert not selective(())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
@pytest.mark.parametrize("pattern", [p for p in SHIPPED_PARTS if necessary_literals(p)])
def test_every_match_of_a_shipped_pattern_holds_a_literal(pattern, data):
    python_syntax = pattern.replace("(?-u:\\b)", "\\b")
    text = data.draw(st.from_regex(python_syntax, fullmatch=False)).lower()
    frame = pl.DataFrame({"t": [text]})
    if frame.select(pl.col("t").str.contains(f"(?i){pattern}")).item():
        assert any(literal in text for literal in necessary_literals(pattern)), (pattern, text)


def _texts() -> list[str]:
    texts = []
    for name in ("corpus.csv", "fresh.csv"):
        texts += pl.read_csv(CORPUS / name)["text"].to_list()
    return texts


@pytest.mark.parametrize("rule", list(phrase_rules()), ids=lambda r: r.code)
def test_the_gate_changes_no_match(rule):
    """The corpus (every split) plus each text with its characters shuffled in blocks: the
    same hits, evidence and explanation with and without the gate, and with and without the
    hot texts' gate (`Matcher.hot`: the allow step, phrases and gate only on texts holding one
    of their literals)."""
    texts = _texts()
    texts += [t[len(t) // 2 :] + "，" + t[: len(t) // 2] for t in texts]
    frame = pl.DataFrame({"text": texts}).select(normalize(pl.col("text")).alias("norm")).unique().sort("norm")
    matcher = compile_params(rule.params)
    ungated = dataclasses.replace(matcher, pattern_literals=(None,) * len(matcher.pattern_parts))
    gated_hits = match_distinct(frame.lazy(), matcher).collect()
    plain_hits = match_distinct(frame.lazy(), ungated).collect()
    assert gated_hits.equals(plain_hits)
    assert gated_hits["match"].is_not_null().sum() > 0
    assert matcher.hot
    assert gated_hits.equals(match_distinct(frame.lazy(), dataclasses.replace(matcher, hot=())).collect())
