"""Untrusted text made safe for where it is shown: one function per destination.

Agent names, chat texts, conversation ids and file names come from other people's systems.
On a terminal, a C0/C1 control character or an escape sequence (OSC 52 clipboard writes,
OSC 8 hidden links, title changes, screen clears) must never be emitted: each is shown as a
visible escape instead (``\\x1b``). Markdown and HTML escape their markup. Machine formats
(JSON, CSV) keep the data exact, but for a person: printed to a terminal they are shown as
safely as the rest (`data_on_terminal`).
"""

from __future__ import annotations

import html
import re

# C0 controls except tab and newline, DEL, C1 controls, and the Unicode line/paragraph
# separators and bidi overrides that can reorder what a terminal shows.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: object, *, keep_newlines: bool = True) -> str:
    """`text` with every control character shown as a visible escape, never emitted."""
    value = "" if text is None else str(text)
    value = _UNSAFE.sub(_visible, value)
    if not keep_newlines:
        value = value.replace("\n", "\\n")
    return value.replace("\r", "\\r") if "\r" in value else value


# The same, but a CR before a LF is a line end (CSV's \r\n), not a control to show.
_UNSAFE_IN_DATA = re.compile("\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def data_on_terminal(text: str) -> str:
    """A machine format (JSON, CSV) written to a terminal, where a person reads it: its
    control characters shown as visible escapes, as in every human format. Piped or written
    to a file it stays exact (the caller decides: only when stdout is a terminal)."""
    return _UNSAFE_IN_DATA.sub(_visible, text)


def one_line(text: object) -> str:
    """For stderr messages and table cells that quote data: safe and on one line."""
    return terminal_safe(text, keep_newlines=False).replace("\t", " ")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~])")


def markdown_safe(text: object) -> str:
    """Text for a Markdown cell or line: controls made visible, markup characters escaped
    (no links, images, raw HTML or emphasis can be smuggled in), on one line."""
    value = one_line(text)
    value = _MARKDOWN_SPECIAL.sub(r"\\\1", value)
    return value.replace("&", "&amp;")


def html_safe(text: object) -> str:
    """Text for HTML content or a quoted attribute value."""
    return html.escape(terminal_safe(text), quote=True)
