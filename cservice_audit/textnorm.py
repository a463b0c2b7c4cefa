"""Normalized texts, fast: the same result as `text.normalize`, in one pass per distinct text.

`text.normalize` runs four whole-column steps (NFKC, lower case, traditional -> simplified,
invisible characters removed); on a month of real chats, where nearly every text is one of a
kind, NFKC and lower-casing alone cost seconds per million texts. Every one of those steps
works character by character, except in a few places:

- NFKC composes a character with the one before it (e + U+0301 -> é, Hangul jamo) and
  reorders combining marks;
- lower-casing turns a Greek capital sigma into a final sigma at the end of a word.

So for a text without any of those characters (`_context_chars`: marks, characters that
compose with the one before, anything whose NFKC starts with one, and sigma), the normalized
text is the concatenation of each character's normalized form. `_table()` holds that form for
every character `text.normalize` changes, computed by `text.normalize` itself on each
character, and one `replace_many` (Aho-Corasick over the whole column) applies it. Texts
with a context-sensitive character, and all texts if `text.normalize` ever maps more than
single characters, go through `text.normalize` unchanged. tests/test_textnorm.py checks
both roads give the same result on random text.
"""

from __future__ import annotations

import functools

import polars as pl

from cservice_audit import text as text_rules

_SURROGATES = range(0xD800, 0xE000)
# Planes 4 to 13 have no characters assigned (Unicode 16) and planes 15 and 16 are private
# use: `text.normalize` leaves all of them alone, so the table skips them (a quarter of the
# time to build it). tests/test_textnorm.py checks every code point, these included.
_PLANES = (range(0, 0x40000), range(0xE0000, 0xF0000))


def _code_points() -> list[str]:
    return [chr(i) for plane in _PLANES for i in plane if i not in _SURROGATES]


@functools.cache
def _table() -> tuple[list[str], list[str]] | None:
    """(characters, their normalized forms) for every character `text.normalize` changes, or
    None when normalization is not character by character (then every text takes the slow road)."""
    if any(len(key) != 1 for key in text_rules.traditional_to_simplified()):
        return None
    chars = pl.Series("c", _code_points(), dtype=pl.String)
    changed = chars.to_frame().select("c", text_rules.normalize(pl.col("c")).alias("n")).filter(pl.col("c") != pl.col("n"))
    return changed.get_column("c").to_list(), changed.get_column("n").to_list()


@functools.cache
def _context_chars() -> list[str]:
    """The characters whose normalized form may depend on their neighbours, generously: every
    mark (all combining characters and the second half of every non-Hangul canonical
    composition are marks), the Hangul vowel and trailing jamo, anything whose NFKC starts
    with one of those (halfwidth katakana sound marks), and capital sigma in any form."""
    chars = pl.Series("c", _code_points(), dtype=pl.String).to_frame()
    folded = pl.col("c").str.normalize("NFKC")
    mark = r"^[\p{M}\x{1161}-\x{1175}\x{11A8}-\x{11C2}]"
    context = pl.col("c").str.contains(mark) | folded.str.contains(mark) | folded.str.contains("Σ", literal=True)
    return chars.filter(context).get_column("c").to_list()


# Marks a text that holds a context-sensitive character. One replace_many pass both maps
# every plain character and plants this mark; a text with the mark (or with a NUL of its
# own, which only sends it down the exact road for nothing) is normalized the slow way.
_MARK = "\x00"


@functools.cache
def _fast_mapping() -> tuple[list[str], list[str]] | None:
    table = _table()
    if table is None:
        return None
    special = set(_context_chars())  # noqa: C401 - a set for the membership tests below
    keys = [c for c in table[0] if c not in special] + sorted(special)
    forms = dict(zip(*table))
    values = [forms[c] for c in keys[: len(keys) - len(special)]] + [c + _MARK for c in sorted(special)]
    return keys, values


# Building the table takes about a second (every code point, once per process): worth it
# only from this many texts on, or once it is built anyway.
FAST_FROM = 100_000


def normalize_distinct(texts: pl.DataFrame, column: str, name: str) -> pl.DataFrame:
    """`texts` (distinct values of `column`) with `name`: each one's normalized form, exactly
    as `text.normalize` gives it."""
    if texts.height < FAST_FROM and _fast_mapping.cache_info().currsize == 0:
        return texts.with_columns(text_rules.normalize(pl.col(column)).alias(name))
    mapping = _fast_mapping()
    if mapping is None or texts.height == 0:
        return texts.with_columns(text_rules.normalize(pl.col(column)).alias(name))
    mapped = texts.with_columns(pl.col(column).str.replace_many(*mapping).alias(name))
    slow = pl.col(name).str.contains(_MARK, literal=True)
    exact = mapped.filter(slow).with_columns(text_rules.normalize(pl.col(column)).alias(name))
    return pl.concat([mapped.filter(~slow.fill_null(False)), exact], how="vertical")
