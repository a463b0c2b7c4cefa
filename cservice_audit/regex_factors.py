"""Necessary literals of a regular expression: strings one of which every match contains.

Why: the phrase rules' prefilter (phrase_engine._candidates) tested each of a rule's 50-100
patterns on every distinct text, and almost no text matches any. One Aho-Corasick pass for
literals that every match must contain (加微信 for 加(个)?微信, 你 or 您 ... for the insult
patterns) finds the few texts where a pattern can match at all; only those run the regular
expressions. A pattern with no such literal (\\d{11}, a bare character class) is always run.

The analysis walks Python's parse of the pattern (the shipped patterns use the syntax common
to Python's `re` and Rust's `regex`); anything it does not understand gives "no literal
known", which is always safe: the pattern then runs on every text. Literals are lower-cased:
patterns are matched case-insensitively on lower-cased text.
"""

from __future__ import annotations

import functools
import re
import re._constants as sre  # noqa: PLC2701 - the parser's own node names
import re._parser as sre_parse  # noqa: PLC2701

# Finite sets of strings are expanded up to this many (a class like [0-9] times [a-z] is not).
MAX_SET = 64
# Characters so common in replies that a set of them filters little (您好, 亲, 的, 订单): a
# set of longer strings or rarer characters is preferred when a pattern offers several, and
# `selective` does not count on them.
COMMON = frozenset("你您亲我的了是好有在不这吗呢哦啊呀吧们个一单货发买付款价钱元号码")

Strings = frozenset[str]


@functools.lru_cache(maxsize=4096)
def necessary_literals(pattern: str) -> tuple[str, ...] | None:
    """Strings, one of which occurs in every match of `pattern` (sorted), or None if none
    are known."""
    # Rust's byte-mode word boundary is a plain one for this purpose (it consumes nothing).
    python_syntax = pattern.replace("(?-u:\\b)", "\\b")
    try:
        tree = sre_parse.parse(python_syntax)
    except (re.error, OverflowError, RecursionError):
        return None
    exact, factor = _sequence(list(tree))
    best = _better(_nonempty(exact), factor)
    return tuple(sorted(best)) if best else None


@functools.cache  # pure; asked once per pattern on every batch of partitions (issue 13)
def selective(literals: tuple[str, ...]) -> bool:
    """Whether these literals are rare enough in replies to gate a pattern: every one has
    two characters or more and is not only digits and punctuation (order numbers, amounts
    and dates are in most replies), or is one uncommon non-ASCII character; and none has a
    letter whose case is not ASCII (the gate folds ASCII case only). A guess that only
    decides speed: a pattern that is not gated is run on every text."""

    def rare(literal: str) -> bool:
        if any(not c.isascii() and c.lower() != c.upper() for c in literal):
            return False  # (?i) folds more than ASCII case here (Σ, σ, ς): not gated
        if len(literal) >= 2:
            return any(c.isalpha() for c in literal)
        return not literal.isascii() and literal not in COMMON

    return bool(literals) and all(rare(x) for x in literals)


def _sequence(nodes: list) -> tuple[Strings | None, Strings | None]:
    """(exact, factor) of a concatenation: `exact` every string it can match, if few;
    `factor` strings one of which every match contains."""
    run: Strings | None = frozenset({""})  # what the current run of exactly known pieces matches
    whole = True  # is the whole concatenation one such run?
    best: Strings | None = None
    for op, value in nodes:
        e, f = _node(op, value)
        if run is not None and e is not None and len(run) * len(e) <= MAX_SET:
            run = frozenset(a + b for a in run for b in e)
            continue
        # The run ends here: what it matched is in every match.
        whole = False
        best = _better(best, _nonempty(run))
        best = _better(best, f)
        run = e
    best = _better(best, _nonempty(run))
    return (run if whole else None), best


def _node(op, value) -> tuple[Strings | None, Strings | None]:
    if op is sre.LITERAL:
        char = frozenset({chr(value).lower()})
        return char, char
    if op is sre.AT or op is sre.ASSERT or op is sre.ASSERT_NOT:
        return frozenset({""}), None  # consumes nothing
    if op is sre.SUBPATTERN:
        return _sequence(list(value[-1]))
    if op is sre.BRANCH:
        branches = [_sequence(list(b)) for b in value[1]]
        exacts = [e for e, _ in branches]
        exact = frozenset().union(*exacts) if all(e is not None for e in exacts) else None
        if exact is not None and len(exact) > MAX_SET:
            exact = None
        # Every branch must offer a literal for the alternation to have one.
        per_branch = [_better(_nonempty(e), f) for e, f in branches]
        factor = frozenset().union(*per_branch) if all(per_branch) else None
        return exact, factor
    if op is sre.IN:
        chars: set[str] = set()
        for kind, item in value:
            if kind is sre.LITERAL:
                chars.add(chr(item).lower())
            elif kind is sre.RANGE and item[1] - item[0] < MAX_SET:
                chars.update(chr(c).lower() for c in range(item[0], item[1] + 1))
            else:  # a negated class, a category (\d, \w): no finite set known
                return None, None
        found = frozenset(chars)
        return (found, found) if 0 < len(found) <= MAX_SET else (None, None)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)):
        low, high, sub = value
        e, f = _sequence(list(sub))
        if low == 0:
            if high == 1 and e is not None:
                return e | {""}, None  # optional: exact, but nothing is necessary
            return None, None
        once = _better(_nonempty(e), f)  # at least one repetition occurs
        if e is not None and low == high and len(e) ** low <= MAX_SET:
            repeated = frozenset({""})
            for _ in range(low):
                repeated = frozenset(a + b for a in repeated for b in e)
            return repeated, _better(_nonempty(repeated), once)
        return None, once
    return None, None  # any character, a negated literal, a back reference ...


def _nonempty(strings: Strings | None) -> Strings | None:
    """A set usable as necessary literals: none of them empty (an empty one is always there)."""
    return strings if strings and "" not in strings else None


def _cost(strings: Strings) -> tuple:
    # Prefer: all literals of two characters or more, then fewer common single characters,
    # then fewer literals.
    return (
        min(len(s) for s in strings) < 2,
        sum(1 for s in strings if len(s) == 1 and s in COMMON),
        len(strings),
    )


def _better(a: Strings | None, b: Strings | None) -> Strings | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if _cost(a) <= _cost(b) else b
