"""Text built from columns (finding messages, conversation keys): `format_text`, never `pl.format`.

`pl.format` panics inside polars on some data with more than one thread (`assertion failed:
i < self.len()` in polars-arrow's binview array, seen on a 600-conversation Taobao export
and reported upstream as pola-rs/polars#25525 and #25339), and a panic is an exit the cron job
cannot trust. `pl.concat_str` builds the same strings through another kernel that has not shown
it, so every message is built here, with the same template syntax as `pl.format`.
`tests/test_crash.py` keeps `pl.format` out of the package.
"""

from __future__ import annotations

import polars as pl


def format_text(template: str, *args: pl.Expr | str) -> pl.Expr:
    """Like `pl.format(template, *args)`: each `{}` takes the next argument (a column name or
    an expression, cast to text); a null argument makes the result null, as in `pl.format`."""
    pieces = template.split("{}")
    if len(pieces) - 1 != len(args):
        raise ValueError(f"template {template!r} has {len(pieces) - 1} placeholders for {len(args)} arguments")
    parts: list[pl.Expr] = []
    for i, piece in enumerate(pieces):
        if piece:
            parts.append(pl.lit(piece, dtype=pl.String))
        if i < len(args):
            arg = args[i]
            parts.append((pl.col(arg) if isinstance(arg, str) else arg).cast(pl.String))
    if not parts:
        return pl.lit("", dtype=pl.String)
    return pl.concat_str(parts, ignore_nulls=False)
