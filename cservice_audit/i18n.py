"""The interface in Chinese or English: one message catalogue (`data/messages.yaml`) and a lookup.

Every word the human formats, the CLI's help and its one-line errors show is a key of the
catalogue with a `zh` and an `en` text; code holds keys, never the words. Rule titles
(3分钟人工回复率) are ruleset data and stay Chinese in both languages.

    t("status.fail", "zh")                         -> "未达标"
    t("summary.closing", "en", n=3, errors=2, ...) -> "Found 3 findings: ..."

The language is chosen once by the caller (`--lang`, else `default_lang()` from the
environment) and passed down; nothing here reads a global at render time.

Errors follow the same pattern: raise `AuditError(t("error.cannot_write", lang, path=p, reason=r))`
with a key added to the catalogue in both languages. Code that has no language at hand
(deep in load or ruleset) uses `t(key, **values)`, which reads the environment's default;
the CLI passes `--lang` explicitly.
"""

from __future__ import annotations

import os
import string
from collections.abc import Iterable, Mapping
from functools import cache

from cservice_audit.shipped import data_yaml

LANGS = ("zh", "en")
FALLBACK = "en"


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """Key -> {"zh": text, "en": text}; checked on load so a missing language fails loudly."""
    raw = data_yaml("data/messages.yaml")
    for key, texts in raw.items():
        if not isinstance(texts, dict) or set(texts) != set(LANGS):
            raise ValueError(f"messages.yaml: {key} needs exactly zh and en texts")
        for lang, text in texts.items():
            if not isinstance(text, str):
                raise ValueError(f"messages.yaml: {key}.{lang} is not text")
    return raw


def default_lang(environ: Mapping[str, str] | None = None) -> str:
    """The POSIX order: the first of LC_ALL, LC_MESSAGES, LANG that is set and not empty;
    zh_* (zh_CN.UTF-8, zh_TW, zh) means Chinese, anything else English."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def t(key: str, lang: str | None = None, **values: object) -> str:
    """The text of `key` in `lang` (default: from the environment), with `{name}` filled.
    (Messages never use `{key}` or `{lang}` as field names.)"""
    texts = catalogue()[key]  # a KeyError is a bug: every key used must exist
    text = texts.get(lang or default_lang(), texts[FALLBACK])
    return text.format(**values) if values else text


# The names metrics and normalize give rows without a human agent (metrics.waits.UNASSIGNED,
# normalize.BOT_WITHOUT_ACCOUNT; test_i18n checks they match), shown in the reader's language
# wherever an agent's name would be: tables, items, digest, workbook, HTML.
SENTINEL_KEYS = {"(unassigned)": "who.unassigned", "(bot)": "who.bot"}


def sentinel_name(agent: object, lang: str | None = None) -> str | None:
    """The reader's word for a sentinel agent name, or None for a real agent."""
    key = SENTINEL_KEYS.get(agent) if isinstance(agent, str) else None
    return t(key, lang) if key else None


class Term:
    """A catalogue text kept as its key and fields, written later in the reader's language:
    `str()` is English (the JSON's), `localized(lang)` either. Error fields that are words
    ("report", an OS reason, a push's `HTTP 503 from {host}`) and the notes of a run are
    Terms. A field is written in the same language when it is itself a Term or a keyed
    error (anything with `localized`), or a value given in both languages as
    {"zh": ..., "en": ...} (a rejected row's reason)."""

    def __init__(self, key: str, /, **fields: object) -> None:
        catalogue()[key]  # a KeyError here is a bug: every key used must exist
        self.key, self.fields = key, fields

    def localized(self, lang: str) -> str:
        return t(self.key, lang, **{k: in_language(v, lang) for k, v in self.fields.items()})

    def __str__(self) -> str:
        return self.localized("en")

    def __repr__(self) -> str:
        return f"Term({self.key!r}, {self.fields!r})"


def note_kind(note: Term) -> str:
    """A run note's kind (`shop_not_judged`): its catalogue key without `note.` (the JSON's
    `note_details[].kind`, and what a baseline's notes are matched by)."""
    return note.key.removeprefix("note.")


def listed(items: Iterable[object]) -> dict[str, str]:
    """`items` as one list field in both languages, joined with each one's `list.sep` (，in
    Chinese, ", " in English): for an error's or note's list of names, codes or keys, written
    later in the reader's language (`in_language`)."""
    words = [str(item) for item in items]
    return {lang: t("list.sep", lang).join(words) for lang in LANGS}


def in_language(value: object, lang: str) -> object:
    """A field's value in `lang`: a Term or keyed error written in it, a {"zh", "en"} pair
    picked, anything else (data) as it is."""
    if hasattr(value, "localized"):
        return value.localized(lang)
    if isinstance(value, dict) and set(value) == set(LANGS):
        return value[lang]
    return value


def read_back(prefix: str, text: str, lang: str) -> str | None:
    """A library's English message in `lang`: the first catalogue entry under `prefix` whose
    English text, read as a template (`{name}` = any text), matches `text` whole, filled with
    what the fields matched; None when none matches. For words we do not write ourselves
    (Click's usage errors, the JSON parser's reasons), kept as data like the rest."""
    import re

    for key, texts in catalogue().items():
        if not key.startswith(prefix):
            continue
        pattern = "".join(
            re.escape(literal) + (f"(?P<{name}>.+?)" if name else "")
            for literal, name, _, _ in string.Formatter().parse(texts["en"])
        )
        found = re.fullmatch(pattern, text, flags=re.S)
        if found:
            return t(key, lang, **found.groupdict())
    return None


def fields(key: str) -> set[str]:
    """The `{names}` a message expects (the same in both languages; tests check that)."""
    out: set[str] = set()
    for text in catalogue()[key].values():
        out |= {name for _, name, _, _ in string.Formatter().parse(text) if name}
    return out


def text_expr(key: str, lang: str, **values: object) -> "pl.Expr":
    """A whole-column `t(key, lang)`: each `{name}` of the template takes `values[name]`, an
    expression (or a plain value, used as a literal), through `formatting.format_text`.
    Finding messages are built with it in both languages, never row by row."""
    import polars as pl

    from cservice_audit.formatting import format_text

    template, args = "", []
    for literal, name, spec, conversion in string.Formatter().parse(catalogue()[key][lang]):
        if "{}" in literal:  # format_text would take it for a placeholder
            raise ValueError(f"messages.yaml: {key}.{lang}: a literal {{}} in a column message")
        template += literal
        if name is not None:
            if spec or conversion:
                raise ValueError(f"messages.yaml: {key}.{lang}: column messages take plain {{{name}}} fields")
            value = values[name]
            args.append(value if isinstance(value, pl.Expr) else pl.lit(str(value), dtype=pl.String))
            template += "{}"
    return format_text(template, *args)


def text_exprs(key: str, **values: object) -> dict[str, "pl.Expr"]:
    """`text_expr` in every language: {"zh": expr, "en": expr}."""
    return {lang: text_expr(key, lang, **values) for lang in LANGS}
