"""The public JSON report (spec/metrics.md §9) and its one-record-per-line form."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timezone
from typing import Any

import polars as pl

from cservice_audit import __version__
from cservice_audit.audit import AuditResult
from cservice_audit.i18n import note_kind
from cservice_audit.schema import FINDING_SCHEMA, ITEM_SCHEMA, JSON_OMITS, METRIC_SCHEMA, SEVERITY_RANK

# 2.0: findings carry `status`, `tier_rank` and `state` (new | known) and known findings stay
# in the report (spec §11); `shops`, `notes`, `baseline.known/new` and `summary.new/known`;
# `items` (the drill-down, schema.ITEM_SCHEMA) and the metrics' needed-to-pass columns.
# 2.1: findings carry `message_zh`, the message in Chinese (docs/i18n.md); `ruleset.titles`
# maps each rule code to its title (3分钟人工回复率), which the digest names rules by.
# 2.2: `note_details`, each note of the run with its kind and its Chinese (the digest forwards
# the ones a group must read: a shop not audited, a day still running, a day cut short).
# 2.3: `selection.fail_on`, the bar of the run's exit status (`notify --only-news` pushes on it).
SCHEMA_VERSION = "2.5"


def to_dict(result: AuditResult, with_lists: bool = True) -> dict[str, Any]:
    """The whole report as plain values, keys in a fixed order (`findings` and `items` left
    empty when `with_lists` is false: `render_chunks` writes them in slices)."""
    rs = result.ruleset
    tz = rs.timezone
    inp = result.input
    return {
        "schema_version": SCHEMA_VERSION,
        "tool_version": __version__,
        "generated_at": _utc(result.generated_at),
        "ruleset": {
            "platform": rs.platform,
            "name": rs.name,
            "version": rs.version,
            "effective": rs.effective.isoformat(),
            "timezone": tz,
            "origin": rs.origin,
            "rules": [r.code for r in rs.rules],
            "titles": {r.code: r.title for r in rs.rules},
        },
        "input": {
            "files": inp.files,
            "rows_read": inp.rows_read,
            "rows_used": inp.rows_used,
            "rows_rejected": inp.rows_rejected,
            "rows_duplicate": inp.rows_duplicate,
            "first_ts": _iso(inp.first_ts),
            "last_ts": _iso(inp.last_ts),
        },
        "as_of": _iso(result.as_of),
        "shops": sorted(set(result.metrics.get_column("shop")) | set(result.findings.get_column("shop").drop_nulls())),
        "notes": [str(note) for note in result.notes],  # English, like the messages
        "note_details": [
            # `state` as a finding's: known when the baseline, a report of the same day, held the
            # note (a rerun of the night); `notify --only-news` pushes new alarms only.
            {"kind": (kind := note_kind(note)), "message": (en := note.localized("en")), "message_zh": note.localized("zh"), "state": "known" if (kind, en) in result.known_notes else "new"}
            for note in result.notes
        ],
        "selection": {
            "date": _iso(result.options.date),
            "since": _iso(result.options.since),
            "until": _iso(result.options.until),
            "agent": result.options.agent,
            # The bar of this run's exit status: `notify --only-news` pushes on the same one.
            "fail_on": result.options.fail_on,
        },
        "history": {
            "folder": result.options.history,
            # Whether this run wrote its days into the folder: false for a look (--no-store),
            # which reads the history but leaves it as it was; days_written 0 alone did not say.
            "stored": bool(result.options.history) and result.options.store,
            "days_written": result.history_days_written,
        },
        "baseline": {
            "file": result.options.baseline,
            "known": result.baseline_hidden,
            "new": result.findings.height - result.baseline_hidden,
        },
        "summary": summary(result),
        "metrics": records(_output_waits(result.metrics), METRIC_SCHEMA, tz),
        "findings": records(_findings(result), FINDING_SCHEMA, tz) if with_lists else [],
        # Every late or unanswered item of the failing and at-risk reply and wait metrics.
        "items": records(_output_waits(result.items), ITEM_SCHEMA, tz) if with_lists else [],
    }


# Waits in seconds to the millisecond, the timestamps' precision: each item's, and the
# metrics' mean and quantiles of them. Polars divides a column of milliseconds by 1000 as a
# product by 0.001, so a 30.4 s wait is the float 30.400000000000002: the checks judge the
# unrounded value, the report prints 30.4. A metric's `value` (what its status was judged on)
# and `needed_mean_wait` (a bound the rest of the period must keep) are printed unrounded.
OUTPUT_WAITS = ("wait", "wait_mean", "wait_p50", "wait_p90")


def _output_waits(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with its OUTPUT_WAITS rounded to 3 decimals (seconds to the millisecond)."""
    return frame.with_columns(pl.col(c).round(3) for c in OUTPUT_WAITS if c in frame.columns)


def summary(result: AuditResult) -> dict[str, Any]:
    """Counts per severity and code, and points per agent and shop."""
    findings = result.findings
    by_severity = {s: int((findings.get_column("severity") == s).sum()) for s in SEVERITY_RANK}
    by_code = dict(sorted(findings.group_by("code").len().iter_rows())) if findings.height else {}
    tallies: dict[tuple[str, str | None], dict[str, Any]] = {}
    for row in result.points.iter_rows(named=True):
        entry = tallies.setdefault((row["shop"], row["agent"]), {"shop": row["shop"], "agent": row["agent"], "points": 0, "by_rule": {}})
        entry["points"] = _number(entry["points"] + row["points"])
        entry["by_rule"][row["rule"]] = _number(row["points"])
    new = findings.filter(pl.col("state") == "new")
    return {
        "findings": findings.height,
        "new": new.height,
        "known": findings.height - new.height,
        "new_by_severity": {s: int((new.get_column("severity") == s).sum()) for s in SEVERITY_RANK},
        "by_severity": by_severity,
        "by_code": by_code,
        # Points in force on the as-of day, per agent and per shop (agent null), by rule.
        "points": list(tallies.values()),
    }


def records(frame: pl.DataFrame, schema: dict, tz: str) -> list[dict[str, Any]]:
    rows = frame.with_columns(
        pl.col(c).dt.convert_time_zone(tz) for c, t in schema.items() if isinstance(t, pl.Datetime)
    ).iter_rows(named=True)
    return [{k: _plain(v) for k, v in row.items()} for row in rows]


def _findings(result: AuditResult) -> pl.DataFrame:
    """The findings as the JSON has them (the human-only columns left out: JSON_OMITS)."""
    return result.findings.drop(JSON_OMITS, strict=False)


def render(result: AuditResult, **_: Any) -> str:
    return "".join(render_chunks(result))


def render_chunks(result: AuditResult, **_: Any) -> Iterator[str]:
    """The JSON report in pieces, for writing as they come: a month of a large shop has
    hundreds of thousands of findings and millions of drill-down items (30 M rows: 590,000
    and 4 M, 2.2 GB of JSON); one dict per record and one string of them all held the report
    several times over (15 GB). Findings and items are formatted whole-column, a slice at a
    time (`record_texts`), exactly as json.dumps(indent=2) writes them in the report."""
    report = to_dict(result, with_lists=False)
    tz = result.ruleset.timezone
    # The report with a unique placeholder where each long list goes.
    lists = {"findings": _findings(result), "items": _output_waits(result.items)}
    markers = {key: f"{key}-{uuid.uuid4().hex}" for key in lists}
    report.update(markers)
    rest = json.dumps(report, ensure_ascii=False, indent=2)
    for key, frame in lists.items():
        head, rest = rest.split(json.dumps(markers[key]), 1)
        yield head
        if frame.height == 0:
            yield "[]"
            continue
        yield "[\n"
        for offset in range(0, frame.height, ITEM_SLICE):
            texts = record_texts(frame.slice(offset, ITEM_SLICE), tz, indented=True)
            yield ("" if offset == 0 else ",\n") + ",\n".join(texts)
        yield "\n  ]"
    yield rest + "\n"


def render_lines(result: AuditResult, **_: Any) -> str:
    return "".join(render_lines_chunks(result))


def render_lines_chunks(result: AuditResult, **_: Any) -> Iterator[str]:
    """One JSON object per line: a header, then every metric, every finding, every item."""
    report = to_dict(result, with_lists=False)
    header = {k: v for k, v in report.items() if k not in ("metrics", "findings", "items")}
    lines = [{"type": "report", **header}]
    lines += [{"type": "metric", **m} for m in report["metrics"]]
    yield "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    tz = result.ruleset.timezone
    for kind, frame in (("finding", _findings(result)), ("item", _output_waits(result.items))):
        for offset in range(0, frame.height, ITEM_SLICE):
            texts = record_texts(frame.slice(offset, ITEM_SLICE), tz, indented=False, kind=kind)
            yield "".join(text + "\n" for text in texts)


# Findings and items formatted and written per slice (render_chunks): at most this many
# record texts at once.
ITEM_SLICE = 100_000


# JSON escapes of a string as json.dumps(ensure_ascii=False) writes them: the quote, the
# backslash and the control characters; everything else is written as it is.
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_ESCAPES = {chr(c): _SHORT_ESCAPES.get(chr(c), f"\\u{c:04x}") for c in range(0x20)} | _SHORT_ESCAPES


def record_texts(frame: pl.DataFrame, tz: str, indented: bool, kind: str = "item") -> list[str]:
    """Each row (a finding, a drill-down item) as JSON text, byte for byte what json.dumps
    writes for its `records` dict: `indented`, as an element of a list in the report (indent=2,
    nested one level); else one line of `--format jsonl` ({"type": kind, ...}).

    Why whole-column: a month of a large shop has hundreds of thousands of late items, and
    one dict and one json.dumps per item (pure Python when indenting) took 9 s of a 2 M-row
    audit's 35; the values are formatted by polars expressions instead, column by column."""
    if frame.height == 0:
        return []
    columns = frame.columns
    values = frame.select(_json_value(name, dtype, tz) for name, dtype in frame.schema.items())
    values = _fix_floats(frame, values)
    if indented:
        parts: list[str | pl.Expr] = ["    {\n"]
        for i, name in enumerate(columns):
            parts += [f"{'' if i == 0 else ',' + chr(10)}      {json.dumps(name)}: ", pl.col(name)]
        parts.append("\n    }")
    else:
        parts = ['{"type": ' + json.dumps(kind)]
        for name in columns:
            parts += [f", {json.dumps(name)}: ", pl.col(name)]
        parts.append("}")
    expr = pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])
    return values.select(expr.alias("json")).get_column("json").to_list()


def _json_value(name: str, dtype: pl.DataType, tz: str) -> pl.Expr:
    """The JSON text of column `name`'s values ("null" for null), as `_plain` + json.dumps."""
    col = pl.col(name)
    if dtype == pl.String:
        text = '"' + col.str.replace_many(_ESCAPES) + '"'
    elif isinstance(dtype, pl.Datetime):
        local = col.dt.convert_time_zone(tz) if dtype.time_zone else col
        zone = "%:z" if dtype.time_zone else ""
        # isoformat: microseconds only when there are some
        whole = local.dt.to_string(f"%Y-%m-%dT%H:%M:%S{zone}")
        fraction = local.dt.to_string(f"%Y-%m-%dT%H:%M:%S%.6f{zone}")
        text = '"' + pl.when(local.dt.microsecond() == 0).then(whole).otherwise(fraction) + '"'
    elif dtype == pl.Date:
        text = '"' + col.dt.to_string("%Y-%m-%d") + '"'
    elif dtype.is_float():
        # _number: whole numbers as integers, others as Python's repr (the shortest text
        # that reads back the same), which polars' float text equals between 1e-4 and 1e16
        # (_fix_floats writes the rest).
        text = pl.when(_whole(col)).then(col.cast(pl.Int64).cast(pl.String)).otherwise(col.cast(pl.String))
    elif dtype == pl.Boolean:
        text = pl.when(col).then(pl.lit("true")).otherwise(pl.lit("false"))
    elif dtype.is_integer():
        text = col.cast(pl.String)
    else:
        raise TypeError(f"item column {name} of type {dtype} has no JSON form here")
    return text.fill_null("null").alias(name)


def _whole(col: pl.Expr) -> pl.Expr:
    """Floats `_number` writes as integers (and that fit one)."""
    return col.is_finite() & (col == col.floor()) & (col.abs() < 2**63)


def _fix_floats(frame: pl.DataFrame, values: pl.DataFrame) -> pl.DataFrame:
    """Float values outside the range where polars writes them as Python does (below 1e-4,
    non-finite: never a wait in seconds to the millisecond), formatted by Python: few rows."""
    for name, dtype in frame.schema.items():
        if not dtype.is_float():
            continue
        col = pl.col(name)
        odd = ~(_whole(col) | col.is_finite() & (col.abs() >= 1e-4) & (col.abs() < 1e16))
        rows = frame.select(pl.arg_where(odd.fill_null(False))).to_series()
        if rows.len():
            texts = [json.dumps(_number(v)) for v in frame.get_column(name).gather(rows).to_list()]
            values = values.with_columns(values.get_column(name).scatter(rows, texts))
    return values


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float):
        return _number(value)
    return value


def _number(value: float) -> int | float:
    """Whole numbers print as integers (a count of 8, not 8.0); others keep full precision."""
    return int(value) if value == value and value.is_integer() else value


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _utc(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
