"""Line breaking for Chinese text at a terminal's width.

Why: rich breaks lines at spaces only, and a Chinese sentence has none: a note such as
`注意：本次审核 2026-11-16..2026-11-22 多天：按日、周、月计的规则，……` broke after the dates,
leaving a short line and the whole sentence on the next, then folded that at the edge
mid-word wherever it fell. Chinese may break between any two characters; Latin words,
numbers, dates and ids (runs without spaces or CJK characters) stay whole unless one alone
is wider than the line. Two rules of Chinese typesetting (禁则) are kept: closing punctuation
(，。）」 …) never starts a line and opening punctuation (（「 …) never ends one.

`break_offsets` gives the character offsets to break at, so a styled `rich.text.Text` can
be divided at the same places (`Text.divide`) as a plain string.
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.text import Text

# CJK ideographs and symbols, kana, full-width forms: each a break opportunity of its own.
_CJK = r"\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u3000-\u303f"
# A token: a run of anything else (a word, a number, a date, an id; a no-break space keeps
# `≤ 0` together), or one character; either with the spaces after it.
_TOKEN = re.compile(rf"(?:[^\s{_CJK}]|\u00a0)+[^\S\u00a0]*|.[^\S\u00a0]*", re.S)
NO_LINE_START = frozenset("，。、：；！？）」』】》〉”’,.;:!?)]}%…·")
NO_LINE_END = frozenset("（「『【《〈“‘([{")


def _tokens(text: str) -> list[tuple[int, str]]:
    """(start offset, token), with closing punctuation joined to the token before it and an
    opening one to the token after it."""
    out: list[tuple[int, str]] = []
    glue_next = False
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if out and (glue_next or token[0] in NO_LINE_START):
            start, before = out[-1]
            out[-1] = (start, before + token)
        else:
            out.append((match.start(), token))
        glue_next = token.rstrip()[-1:] in NO_LINE_END if token.strip() else False
    return out


def break_offsets(text: str, width: int) -> list[int]:
    """Offsets in `text` (one line) to break it at so that no line is wider than `width`
    cells, trailing spaces aside."""
    width = max(1, width)
    breaks: list[int] = []
    used = 0
    for start, token in _tokens(text):
        need = cell_len(token.rstrip())
        if used + need <= width:
            used += cell_len(token)
            continue
        if used and start:
            breaks.append(start)
        used = 0
        if need <= width:
            used = cell_len(token)
            continue
        # Wider than a line on its own (a long id): fold it at the edge, a character earlier
        # where the next line would start with closing punctuation.
        last = 0
        for i, char in enumerate(token):
            size = cell_len(char)
            if used + size > width and i > last and not char.isspace():
                cut = i
                while token[cut] in NO_LINE_START and cut - 1 > last:
                    cut -= 1
                breaks.append(start + cut)
                last, used = cut, cell_len(token[cut:i])
            used += size
    return breaks


def wrap(text: str, width: int, joiner: str = "") -> list[str]:
    """`text` as lines of at most `width` cells. With `joiner` (` · ` between a title's parts)
    the lines break after a joiner where they can, so a part (`≤ 0 次`) stays whole."""
    if joiner and joiner in text:
        lines: list[str] = []
        current = ""
        for part in text.split(joiner):
            joined = f"{current}{joiner}{part}" if current else part
            if not current or cell_len(joined) <= width:
                current = joined
            else:
                lines.append(current + joiner.rstrip())
                current = part
        lines.append(current)
        return [piece for line in lines for piece in wrap(line, width)]
    return [line for raw in text.split("\n") for line in _cut(raw, break_offsets(raw, width))]


def _cut(text: str, offsets: list[int]) -> list[str]:
    edges = [0, *offsets, len(text)]
    return [text[a:b].rstrip() for a, b in zip(edges, edges[1:])]


def wrap_text(text: Text, width: int) -> list[Text]:
    """A styled one-line `Text` divided where `wrap` would break its plain string."""
    lines = text.divide(break_offsets(text.plain, width))
    for line in lines:
        line.rstrip()
    return list(lines)
