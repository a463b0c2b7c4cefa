"""CSV that is safe to open in Excel: a cell that would run as a formula is kept as text.

Every CSV the tool writes (reports, --rejects, history and trend listings) goes through
`guard_formulas`: a text cell starting with =, @, a tab or a carriage return, or with + or -
followed by more text, gets a leading single quote. A lone "-" (the default shop) stays.
"""

from __future__ import annotations

import polars as pl

_FORMULA_START = r"^([=@\t\r]|[+\-].)"


def guard_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(_FORMULA_START)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text
    )
