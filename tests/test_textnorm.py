"""textnorm.normalize_distinct (one replace_many pass, exact fallback) == text.normalize."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cservice_audit.text import normalize
from cservice_audit import textnorm
from cservice_audit.textnorm import normalize_distinct


@pytest.fixture(autouse=True)
def always_fast(monkeypatch) -> None:
    """Small inputs skip the table; here every input takes the fast road."""
    monkeypatch.setattr(textnorm, "FAST_FROM", 0)

# Characters that stress every step: full-width forms, capitals (Latin, Greek sigma, Cyrillic),
# traditional characters, combining marks, Hangul jamo, halfwidth katakana sound marks,
# zero-width and other invisible characters, ligatures and compatibility ideographs.
TRICKY = list("ＷＸ微信ABCΣσςΑΒДЖ國門後髮乾滚e\u0301\u0338\u1100\u1161\u11a8ㄱㅏｶﾞﾟ\u200b\u00ad\u3000 \tﬁ㈱豈①Ⅻ\u0000")
texts = st.lists(st.text(alphabet=st.one_of(st.sampled_from(TRICKY), st.characters(exclude_categories=("Cs",))), max_size=12), max_size=30)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts)
def test_fast_road_equals_text_normalize(values: list[str]) -> None:
    frame = pl.DataFrame({"text": [*values, None]}, schema={"text": pl.String}).unique()
    fast = normalize_distinct(frame, "text", "norm")
    slow = frame.with_columns(normalize(pl.col("text")).alias("norm"))
    joined = slow.join(fast, on="text", how="left", nulls_equal=True, suffix="_fast")
    assert fast.height == frame.height
    assert joined.get_column("norm").eq_missing(joined.get_column("norm_fast")).all(), joined.filter(
        ~pl.col("norm").eq_missing(pl.col("norm_fast"))
    )


def test_every_single_character_takes_the_right_road() -> None:
    """All of Unicode, one character per text, and each next to a combining mark."""
    chars = [chr(i) for i in range(0x110000) if not 0xD800 <= i < 0xE000]
    frame = pl.DataFrame({"text": chars + [c + "\u0301" for c in chars[::97]]})
    fast = normalize_distinct(frame, "text", "norm").sort("text")
    slow = frame.with_columns(normalize(pl.col("text")).alias("norm")).sort("text")
    assert fast.equals(slow)


def test_the_pinyin_table_read_without_the_package_is_pypinyins():
    """text._pinyin_dict reads pypinyin's character table file without importing the package;
    it must be the table the package itself exposes, and the sound folding built on it must
    read 薇/威 as 微 and 芯 as 信, and keep ü apart from u."""
    from pypinyin.pinyin_dict import pinyin_dict

    from cservice_audit import text

    assert text._pinyin_dict() == pinyin_dict
    table = text.sound_table("微信加")
    assert table["薇"] == "微" and table["威"] == "微" and table["芯"] == "信" and table["家"] == "加"
    # ü is its own vowel: 女 (nǚ) does not sound like 怒 (nù).
    assert text.syllable_of()["女"] == "nv" and text.syllable_of()["怒"] == "nu"
