"""The drill-down items written whole-column (json_report.record_texts) against json.dumps.

The report's items are formatted by polars expressions, not one dict and one json.dumps per
item. The reference here is the plain road: `records` (the dicts `to_dict` builds) through
json.dumps, indented as an element of the report's `items` list, or one jsonl line. Random
frames of the item schema try what could differ: quotes, backslashes, every control
character, line and paragraph separators, emoji and CJK in strings; whole, tiny, huge and
non-finite floats; times with and without milliseconds, on both sides of midnight; nulls.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta, timezone

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cservice_audit.render.json_report import record_texts, records
from cservice_audit.schema import FINDING_SCHEMA, ITEM_SCHEMA, JSON_OMITS

TZ = "Asia/Shanghai"
TRICKY = ['"', "\\", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f", "\u2028", "\u2029", "\x85", "亲", "😀", "/", "é"]
texts = st.one_of(st.none(), st.text(max_size=12), st.lists(st.sampled_from(TRICKY), max_size=6).map("".join))
floats = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(0, 10**10).map(lambda ms: ms / 1000),  # waits: seconds to the millisecond
    st.sampled_from([0.0, -0.0, 1e-05, 1.5e-07, 9.999e-05, 1e-4, 1e16, 1.5e16, 2.0**63, 2.0**64, 123.0, 0.1]),
)
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
times = st.one_of(st.none(), st.integers(0, 400 * 86_400_000).map(lambda ms: EPOCH + timedelta(milliseconds=ms)))
days = st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2100, 1, 1)))
integers = st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))
STRATEGIES = {pl.String: texts, pl.Float64: floats, pl.Date: days, pl.Int64: integers}
FINDINGS = {k: v for k, v in FINDING_SCHEMA.items() if k not in JSON_OMITS}


def frames(schema=ITEM_SCHEMA):
    def column(dtype):
        return times if isinstance(dtype, pl.Datetime) else STRATEGIES[dtype]

    row = st.fixed_dictionaries({name: column(dtype) for name, dtype in schema.items()})
    return st.lists(row, min_size=1, max_size=8).map(lambda rows: pl.DataFrame(rows, schema=schema, orient="row"))


def reference(frame: pl.DataFrame, indented: bool, kind: str = "item") -> list[str]:
    dicts = records(frame, dict(frame.schema), TZ)
    if indented:
        # Indented on "\n" only: textwrap.indent (the old road) also broke lines at U+2028,
        # U+2029 and U+0085, which json.dumps leaves unescaped, and so wrote four spaces into
        # such a string's value.
        return ["\n".join("    " + line for line in json.dumps(item, ensure_ascii=False, indent=2).split("\n")) for item in dicts]
    return [json.dumps({"type": kind, **item}, ensure_ascii=False) for item in dicts]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames(), indented=st.booleans())
@example(
    frame=pl.DataFrame(
        [{"shop": 'a"b\\c\n\x01\u2028😀', "wait": 1e-05, "ts": EPOCH + timedelta(milliseconds=1), "reply_ts": EPOCH}],
        schema=ITEM_SCHEMA,
    ),
    indented=True,
)
def test_record_texts_equal_json_dumps(frame, indented):
    assert record_texts(frame, TZ, indented) == reference(frame, indented)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames(FINDINGS), indented=st.booleans())
def test_finding_texts_equal_json_dumps(frame, indented):
    assert record_texts(frame, TZ, indented, kind="finding") == reference(frame, indented, kind="finding")


def test_line_separators_inside_a_value_stay_as_they_are():
    frame = pl.DataFrame([{"buyer": "a\u2028b\x85c"}], schema=ITEM_SCHEMA)
    for indented in (True, False):
        (text,) = record_texts(frame, TZ, indented)
        assert json.loads(text)["buyer"] == "a\u2028b\x85c"


def test_items_read_back_as_the_values():
    """What the texts hold, parsed: the same strings, numbers and local times."""
    frame = pl.DataFrame(
        [{"rule": "PDD-R3", "shop": "店铺1", "buyer": 'x"\n', "wait": 183.123, "ts": datetime(2026, 11, 1, 16, 30, tzinfo=timezone.utc)},
         {"rule": "PDD-R3", "shop": "店铺1", "wait": 200.0, "ts": datetime(2026, 11, 1, 16, 30, 0, 5000, tzinfo=timezone.utc)}],
        schema=ITEM_SCHEMA,
    )
    first, second = (json.loads(text) for text in record_texts(frame, TZ, indented=True))
    assert first["buyer"] == 'x"\n' and first["wait"] == 183.123 and first["reply_ts"] is None
    assert first["ts"] == "2026-11-02T00:30:00+08:00"  # local time, next day
    assert second["wait"] == 200 and isinstance(second["wait"], int)
    assert second["ts"] == "2026-11-02T00:30:00.005000+08:00"
    assert not math.isnan(first["wait"])
