"""The one road: load -> normalize -> metrics -> checks -> findings.

`run_audit` is the whole audit as a function of its inputs: it neither prints nor exits and
reads no clock (the caller passes `generated_at`). It collects in two places only: the
normalized events (every rule reads them), then all rules' metrics and findings at once.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO

import polars as pl

from cservice_audit import load as loader
from cservice_audit import partition
from cservice_audit.checks import CHECKS
from cservice_audit.checks.context import Context
from cservice_audit.errors import InputError
from cservice_audit.history import HistoryStore
from cservice_audit.metrics.rollup import DAY_SCHEMA
from cservice_audit.normalize import CANONICAL, Aliases, assign_conversations, normalize, profile_path
from cservice_audit.ruleset import Ruleset
from cservice_audit.schema import FINDING_SCHEMA, IDENTITY, METRIC_SCHEMA, conform, with_fingerprints
from cservice_audit.spreadsheet import guard_formulas

METRIC_ORDER = ("rule_order", "scope_order", "shop", "agent", "period_start")
# Engines by stage, as measured with `make bench` (same results either way): reading and
# parsing run faster and leaner on polars' streaming engine; the metrics, which sort the
# conversation stream and scan it, run about twice as fast in memory.
NORMALIZE_ENGINE = "streaming"
METRICS_ENGINE = "in-memory"


@dataclass(frozen=True)
class AuditOptions:
    """What the user chose on the command line, as plain values."""

    date: date | None = None
    since: date | None = None
    until: date | None = None
    agent: str | None = None
    input_tz: str | None = None
    encoding: str | None = None
    mapping: str | None = None
    reviews: tuple[str, ...] = ()  # --reviews: review exports (rows without a role are reviews)
    history: str | None = None  # the history folder (None: no memory across runs)
    sheet: str | None = None  # --sheet: the Excel sheet to read (default: the first)
    profile: str | None = None  # --profile: a shipped export layout (profiles/*.yaml)
    baseline: str | None = None  # an earlier JSON report: its findings are not reported again


@dataclass
class InputSummary:
    files: list[dict]
    rows_read: int
    rows_used: int
    rows_rejected: int
    rows_duplicate: int
    first_ts: datetime | None
    last_ts: datetime | None


@dataclass
class AuditResult:
    ruleset: Ruleset
    input: InputSummary
    as_of: date | None
    generated_at: datetime
    metrics: pl.DataFrame  # METRIC_SCHEMA, sorted
    findings: pl.DataFrame  # FINDING_SCHEMA, sorted, fingerprinted
    points: pl.DataFrame  # POINTS_SCHEMA: the tally in force on the as-of day
    rejects: pl.DataFrame  # the rejected rows, whole, with file, line and reason
    options: AuditOptions = field(default_factory=AuditOptions)
    history_days_written: int = 0
    baseline_hidden: int = 0


def run_audit(
    paths: list[str],
    ruleset: Ruleset,
    options: AuditOptions,
    *,
    generated_at: datetime,
    stdin: IO[bytes] | None = None,
    progress: Callable[[str], None] = lambda stage: None,
) -> AuditResult:
    progress("reading input")
    tables = loader.load(paths, encoding=options.encoding, stdin=stdin, sheet=options.sheet)
    if options.reviews:
        tables += loader.load(list(options.reviews), encoding=options.encoding, stdin=stdin, default_role="review", sheet=options.sheet)
    aliases = Aliases.shipped()
    if options.profile:
        aliases = aliases.with_mapping(profile_path(options.profile))
    if options.mapping:
        aliases = aliases.with_mapping(options.mapping)

    progress("normalizing")
    normalized = normalize(tables, aliases, tz=ruleset.timezone, input_tz=options.input_tz, latest=generated_at)
    try:
        # Only what the metrics need is kept: message ids have done their work (duplicates are
        # flagged) and the file name is one categorical code per row, not a copy of the path.
        slim = normalized.events.drop("message_id", "_record").with_columns(pl.col("_source").cast(pl.Categorical))
        events_all, rejected = pl.collect_all([slim, normalized.rejects], engine=NORMALIZE_ENGINE)
    except pl.exceptions.ComputeError as exc:
        # Files are scanned lazily, so unreadable content shows up only here.
        raise loader.explain_read_failure(tables, exc) from exc
    rejects = _rejects_with_lines(rejected, tables)
    events = assign_conversations(
        events_all.lazy().filter(~pl.col("_duplicate")).drop("_duplicate", "_source"), ruleset.session_gap
    )
    summary = _summarize_input(events_all, rejects, tables)

    as_of = options.date or options.until or (summary.last_ts.date() if summary.last_ts else None)
    first_day = options.date or options.since
    context = Context(
        events=events,
        rejects=rejects,
        timezone=ruleset.timezone,
        as_of=as_of or date.min,
        first_day=first_day,
        data_end=summary.last_ts,
        exempt_dates=ruleset.exempt_dates,
    )
    # The (shop, day) pairs this run judges: they replace whatever the history holds for them.
    covered = events.filter(context.judged_days()).select("shop", "day").unique().collect()
    context.input_days = covered.lazy()
    context.first_reported_day = first_day or (covered.get_column("day").min() if covered.height else None)

    store = HistoryStore(options.history, ruleset.platform) if options.history and as_of is not None else None
    with store.locked() if store else contextlib.nullcontext():
        if store is not None:
            context.history = store.read(skip=covered)
        progress("computing metrics")
        # Partition by partition (shop × day), then the periods: see partition.py.
        metric_frames, finding_frames, day_frames = partition.audit_all(events, ruleset, context, progress)
        written = 0
        if store is not None:
            days = pl.concat([pl.DataFrame(schema=DAY_SCHEMA), *day_frames], how="vertical")
            rules_run = {rule.code for rule in ruleset.rules}
            written = store.write_days(days, covered, rules_run, ruleset.version, generated_at)

    metrics = _sorted_metrics(metric_frames, ruleset)
    findings = pl.concat([pl.DataFrame(schema=FINDING_SCHEMA), *finding_frames], how="diagonal")
    if options.agent is not None:
        # A spot-check of one agent: that agent's rows, and the shop rows for context.
        metrics = metrics.filter((pl.col("scope") == "shop") | (pl.col("agent") == options.agent))
        findings = findings.filter(pl.col("agent").is_null() | (pl.col("agent") == options.agent))
    findings = conform(with_fingerprints(findings).lazy(), FINDING_SCHEMA).collect()
    hidden = 0
    if options.baseline:
        known = baseline_fingerprints(options.baseline)
        kept = findings.filter(~pl.col("fingerprint").is_in(list(known)))
        hidden, findings = findings.height - kept.height, kept
    points = points_in_force(metrics, as_of)
    return AuditResult(
        ruleset, summary, as_of, generated_at, metrics, findings, points, rejects, options, written, hidden
    )


def baseline_fingerprints(path: str) -> set[str]:
    """The fingerprints of an earlier JSON report (`--baseline`). A baseline that does not
    exist yet (the first night) hides nothing; one that exists but cannot be read stops
    the run, so a damaged file never silently turns every finding into a new one."""
    if not Path(path).exists():
        return set()
    try:
        report = json.loads(Path(path).read_text("utf-8"))
        return {f["fingerprint"] for f in report["findings"]}
    except OSError as exc:
        raise InputError(f"{path}: cannot read the baseline report ({exc.strerror})") from None
    except (ValueError, KeyError, TypeError):
        raise InputError(f"{path}: not a JSON report of cservice-audit (--format json)") from None


POINTS_SCHEMA = {"shop": pl.String, "agent": pl.String, "rule": pl.String, "points": pl.Float64}


def points_in_force(metrics: pl.DataFrame, as_of: date | None) -> pl.DataFrame:
    """Points per shop, agent (null: the whole shop) and rule, over each rule's period that
    contains the as-of day: the tally a platform would hold against them now (e.g. PDD's
    30-day service points)."""
    if as_of is None:
        return pl.DataFrame(schema=POINTS_SCHEMA)
    current = metrics.filter(
        (pl.col("points") != 0) & (pl.col("period_start") <= as_of) & (pl.col("period_end") >= as_of)
    )
    return current.select("shop", "agent", "rule", "points").sort("shop", "agent", "rule", nulls_last=True)


def _sorted_metrics(frames: list[pl.DataFrame], ruleset: Ruleset) -> pl.DataFrame:
    order = {rule.code: i for i, rule in enumerate(ruleset.rules)}
    metrics = pl.concat([pl.DataFrame(schema=METRIC_SCHEMA), *frames], how="vertical")
    return (
        metrics.with_columns(
            pl.col("rule").replace_strict(order, return_dtype=pl.Int64).alias("rule_order"),
            (pl.col("scope") == "shop").alias("scope_order"),
        )
        .sort(*METRIC_ORDER, nulls_last=True)
        .drop("rule_order", "scope_order")
    )


def _rejects_with_lines(rejected: pl.DataFrame, tables: list[loader.RawTable]) -> pl.DataFrame:
    """Rejected rows with the physical line each starts on, plus unreadable JSONL lines."""
    frames = []
    for table in tables:
        mine = rejected.filter(pl.col("_source") == table.source)
        if mine.height:
            lines = table.lines_of(mine.get_column("_record").cast(pl.Int64))
            frames.append(mine.with_columns(pl.Series("line", lines, dtype=pl.Int64)))
        if table.bad_lines:
            frames.append(
                pl.DataFrame(
                    {
                        "_source": [table.source] * len(table.bad_lines),
                        "line": [n for n, _, _ in table.bad_lines],
                        "text": [raw for _, raw, _ in table.bad_lines],
                        "problem": [why for _, _, why in table.bad_lines],
                    },
                    schema_overrides={"line": pl.Int64},
                )
            )
    schema = {**{c: pl.String for c in CANONICAL}, "_source": pl.String, "line": pl.Int64, "problem": pl.String}
    if not frames:
        return pl.DataFrame(schema=schema)
    combined = pl.concat(frames, how="diagonal_relaxed")
    return conform(combined.lazy(), schema).collect().sort("_source", "line")


def _summarize_input(events_all: pl.DataFrame, rejects: pl.DataFrame, tables: list[loader.RawTable]) -> InputSummary:
    """Rows read, used, rejected and duplicate, per file and in all: aggregations only, so a
    month of a busy shop is never copied for counting."""
    per_file = {
        str(source): (valid, duplicate)
        for source, valid, duplicate in events_all.group_by("_source")
        .agg(pl.len(), pl.col("_duplicate").sum())
        .iter_rows()
    }
    rejected = dict(rejects.group_by("_source").len().iter_rows()) if rejects.height else {}
    files = []
    for table in tables:
        valid, duplicate = per_file.get(table.source, (0, 0))
        files.append(
            {
                "file": table.source,
                "format": table.kind,
                "encoding": table.encoding,
                "rows_read": valid + rejected.get(table.source, 0),
                "rows_used": valid - duplicate,
                "rows_rejected": rejected.get(table.source, 0),
                "rows_duplicate": duplicate,
            }
        )
    used_ts = pl.col("ts").filter(~pl.col("_duplicate"))
    first_ts, last_ts = events_all.select(used_ts.min().alias("first"), used_ts.max().alias("last")).row(0)
    return InputSummary(
        files=files,
        rows_read=sum(f["rows_read"] for f in files),
        rows_used=sum(f["rows_used"] for f in files),
        rows_rejected=rejects.height,
        rows_duplicate=sum(f["rows_duplicate"] for f in files),
        first_ts=first_ts,
        last_ts=last_ts,
    )


def write_rejects(result: AuditResult, path: str | Path) -> None:
    """`--rejects FILE`: every rejected row, with its file, line and reason, as CSV."""
    rows = result.rejects.select(pl.col("_source").alias("file"), "line", "problem", *CANONICAL)
    guard_formulas(rows).write_csv(path)
