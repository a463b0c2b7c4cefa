"""The one road: load -> normalize -> metrics -> checks -> findings.

`run_audit` is the whole audit as a function of its inputs: it neither prints nor exits and
reads no clock (the caller passes `generated_at`). It collects in two places only: the
normalized events (every rule reads them), then all rules' metrics and findings at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import polars as pl

from cservice_audit import load as loader
from cservice_audit import carry, limits, partition, spill
from cservice_audit.checks.context import Context
from cservice_audit.drilldown import failing_items
from cservice_audit.errors import AuditError, InputError, Term, os_reason
from cservice_audit.i18n import note_kind, t
from cservice_audit.history import HistoryStore
from cservice_audit.limits import LimitError
from cservice_audit.metrics.periods import earlier_failures
from cservice_audit.metrics.rollup import DAY_SCHEMA
from cservice_audit.files import atomic_write
from cservice_audit.needs import with_needs
from cservice_audit.people import agent_kind
from cservice_audit.normalize import CANONICAL, DEFAULT_SHOP, Aliases, assign_conversations, normalize, profile_path
from cservice_audit.ruleset import Ruleset
from cservice_audit.sanitize import one_line
from cservice_audit.schema import FINDING_SCHEMA, ITEM_SCHEMA, METRIC_SCHEMA, SEVERITY_RANK, conform, with_fingerprints
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
    store: bool = True  # write this run's days into the history (False: --no-store, a look that changes nothing)
    sheet: str | None = None  # --sheet: the Excel sheet to read (default: the first)
    profile: str | None = None  # --profile: a shipped export layout (profiles/*.yaml)
    baseline: str | None = None  # an earlier JSON report: findings in it are `known` (spec §11)
    shop: str | None = None  # --shop: the shop of rows whose export names none
    shop_config: str | None = None  # the config file `shop` came from (None: --shop, or no shop)
    conversation: str | None = None  # `show`: also keep this conversation's annotated events
    fail_on: str = "error"  # the least severe new finding that makes the run exit 1 (reported, for `notify --only-news`)


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
    baseline_hidden: int = 0  # findings marked `known` (in the baseline, not worse)
    # Things the user should read on stderr (files named twice, days re-audited, a trailing
    # day not judged): one line each, already worded.
    notes: list[Term] = field(default_factory=list)  # str() is English (the JSON's)
    # ITEM_SCHEMA: the late and unanswered items of failing and at-risk metrics (drilldown.py)
    items: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ITEM_SCHEMA))
    transcript: pl.DataFrame | None = None  # `show`: the conversation's events (show.conversation_rows)
    bots: frozenset[tuple[str, str]] = frozenset()  # (shop, agent) whose every message is a bot's
    baseline_as_of: date | None = None  # the day the baseline report judged, if it says
    # This run's notes, (kind, English message), that the baseline, a report of the same day,
    # already held: a rerun of a night with a cut export told the group about the cut again.
    known_notes: frozenset[tuple[str, str]] = frozenset()


def run_audit(
    paths: list[str],
    ruleset: Ruleset,
    options: AuditOptions,
    *,
    generated_at: datetime,
    stdin: IO[bytes] | None = None,
    progress: Callable[..., None] = lambda stage, **fields: None,
) -> AuditResult:
    # A big input's spill folder (spill.py) and the spooled copies of streams (load.py) live
    # as long as the run: removed on return, on an error, on Ctrl-C and on SIGTERM alike.
    if generated_at.tzinfo is None:  # a naive run time is UTC, as the report prints it
        generated_at = generated_at.replace(tzinfo=timezone.utc)
    with contextlib.ExitStack() as cleanup:
        cleanup.enter_context(loader.spools_removed())
        return _run_audit(paths, ruleset, options, generated_at=generated_at, stdin=stdin, progress=progress, cleanup=cleanup)


def _run_audit(
    paths: list[str],
    ruleset: Ruleset,
    options: AuditOptions,
    *,
    generated_at: datetime,
    stdin: IO[bytes] | None,
    progress: Callable[..., None],
    cleanup: contextlib.ExitStack,
) -> AuditResult:
    progress("progress.reading")
    notes: list[Term] = []
    # Read first: a baseline that cannot serve this run stops it before anything is written.
    baseline = read_baseline(options.baseline, ruleset) if options.baseline else Baseline()
    paths, reviews = read_once(paths, list(options.reviews), notes)
    tables = loader.load(paths, encoding=options.encoding, stdin=stdin, sheet=options.sheet) if paths else []
    if reviews:
        tables += loader.load(reviews, encoding=options.encoding, stdin=stdin, default_role="review", sheet=options.sheet)
    for table in tables:
        if table.title_rows:
            notes.append(Term("note.title_rows", path=one_line(Path(table.source).name), rows=table.title_rows, header=table.header_line or table.title_rows + 1))
    aliases = Aliases.shipped()
    if options.profile:
        aliases = aliases.with_mapping(profile_path(options.profile))
    if options.mapping:
        aliases = aliases.with_mapping(options.mapping)

    progress("progress.normalizing")
    normalized = normalize(tables, aliases, tz=ruleset.timezone, input_tz=options.input_tz, latest=generated_at)
    # Above the threshold the events go to disk, cut by (shop, day), and every later step reads
    # them from there (spill.py): memory then follows the largest partition, not the input.
    spilled = spill.input_bytes(paths + reviews) > spill.threshold()
    engine = "streaming" if spilled else "auto"

    def with_shop(frame: pl.LazyFrame) -> pl.LazyFrame:
        if options.shop is None:
            return frame
        # --shop names the shop of rows whose export has no shop column (spec §11).
        return frame.with_columns(
            pl.when(pl.col("shop") == DEFAULT_SHOP).then(pl.lit(options.shop)).otherwise(pl.col("shop")).alias("shop")
        )

    try:
        if spilled:
            progress("progress.spilling")
            folder = spill.folder(cleanup)
            # Duplicates are keyed on the shop as exported (before --shop), as in memory.
            written, rejected, counts = spill.write(
                tables,
                lambda part, offset: normalize(
                    part, aliases, tz=ruleset.timezone, input_tz=options.input_tz, latest=generated_at, order_offset=offset
                ),
                folder,
            )
            duplicate = pl.col("_order").is_in(spill.duplicates(written).get_column("_order").implode())
            events_all = with_shop(written.drop(spill.DUP_KEY, "message_id").with_columns(duplicate.alias("_duplicate")))
        else:
            # Only what the metrics need is kept: message ids have done their work (duplicates are
            # flagged) and the file name is one categorical code per row, not a copy of the path.
            slim = with_shop(normalized.events.drop("message_id", "_record").with_columns(pl.col("_source").cast(pl.Categorical)))
            events_all, rejected, counts = pl.collect_all([slim, normalized.rejects, normalized.counts], engine=NORMALIZE_ENGINE)
    except pl.exceptions.ComputeError as exc:
        # Files are scanned lazily, so unreadable content shows up only here.
        raise loader.explain_read_failure(tables, exc) from exc
    rejects = _rejects_with_lines(rejected, tables)
    if options.shop is not None:
        _require_own_shop(events_all, options.shop, engine, options.shop_config)
    events = events_all.lazy().filter(~pl.col("_duplicate")).drop("_duplicate", "_source")
    if spilled and ruleset.session_gap is not None:
        events = spill.with_sessions(events, ruleset.session_gap, folder, ruleset.service_opens)
    events = assign_conversations(events, ruleset.session_gap, ruleset.service_opens)
    summary = _summarize_input(events_all, rejects, tables, counts)

    _require_rows(summary, rejects)
    if options.conversation is None:  # `show` is a viewer: it shows what it could read
        _require_mostly_read(summary, rejects)
    used = events_all.filter(~pl.col("_duplicate"))
    # Spilled, the checks below read small aggregates (each day's latest time, the agents).
    day_times = used.lazy().group_by("shop", "day").agg(pl.col("tod").max()).collect(engine=engine) if spilled else used
    _require_days(day_times, options, window_opens(ruleset))
    as_of = options.date or options.until
    if as_of is None:
        judged_notes: list[Term] = []
        as_of = judged_as_of(day_times, ruleset, judged_notes)
        if options.since is not None and as_of is not None and as_of < options.since:
            # --since names only trailing early-hours days (an export cut at 02:30, --since
            # that day): judge them, as --since/--until does. Left to the trailing-day rule,
            # nothing was judged and the run passed as all clear (exit 0).
            as_of = day_times.get_column("day").max()
        else:
            notes.extend(judged_notes)
    if options.agent is not None:
        # The name as the reports show it (小周 for 淘宝甲店:小周) is resolved to the agent's own.
        options = dataclasses.replace(options, agent=_require_agent(used.lazy().select("shop", "agent").unique().collect(engine=engine), options.agent))
    first_day = options.date or options.since
    data_ends = used.lazy().group_by("shop").agg(pl.col("ts").max().alias("_data_end")).collect(engine=engine)
    _note_days_running(data_ends, ruleset, as_of, generated_at, notes)
    _note_data_ends_early(used, data_ends, ruleset, as_of, generated_at, notes, engine)
    context = Context(
        events=events,
        rejects=rejects,
        timezone=ruleset.timezone,
        as_of=as_of or date.min,
        first_day=first_day,
        data_ends=data_ends,
        exempt_dates=ruleset.exempt_dates,
        rules=ruleset.rules,
        clock=generated_at,
    )
    # The (shop, day) pairs this run judges: they replace whatever the history holds for them.
    covered = events.filter(context.judged_days()).select("shop", "day").unique().collect(engine=engine)
    context.input_days = covered.lazy()
    context.first_reported_day = first_judged = first_day or (covered.get_column("day").min() if covered.height else None)

    # The shops this run is about (spec §11): other shops' stored days are never read.
    shops = sorted(set(covered.get_column("shop")))
    # A shop of the input with no row on the days audited (its export is of another day) is
    # out of the report: say so, or a nightly run over two shops hides that one went unaudited.
    for shop in sorted(set(data_ends.get_column("shop")) - set(shops)):
        notes.append(Term("note.shop_not_judged", shop=one_line(shop), days=_selected_days(options, as_of)))
    # A shop the baseline never judged (another shop's report, or a shop new to this night):
    # every finding of it is new, which the exit status and the digest's "new" must not hide.
    if baseline.shops is not None:
        for shop in sorted(set(shops) - baseline.shops):
            notes.append(Term("note.baseline_shop", shop=one_line(shop), file=one_line(Path(options.baseline).name)))
    store = HistoryStore(options.history, ruleset.platform) if options.history and as_of is not None else None
    bots = bot_accounts(used)
    if store is not None and DEFAULT_SHOP in shops:
        raise InputError("error.history_no_shop")
    # --no-store takes the lock shared and creates nothing (no folder, no .lock): a look
    # must not need write access to the cron's history, nor leave a folder behind.
    with (store.locked() if options.store else store.reading()) if store else contextlib.nullcontext():
        if store is not None:
            context.history = store.read(shops=shops, skip=covered)
            for shop in shops:
                elsewhere = store.days_elsewhere(shop)
                if elsewhere:
                    other, days = max(elsewhere.items(), key=lambda pair: pair[1])
                    notes.append(Term(
                        "note.other_platform", shop=one_line(shop), other=other, days=days,
                        platform=ruleset.platform, folder=one_line(str(store.shop_folder(shop))),
                    ))
        # Turns the night before left pending, judged with this input (carry.py).
        carried = carry.judge(store, covered, events, ruleset, context, engine) if store is not None else None
        if carried is not None:
            notes.extend(carried.notes)
        progress("progress.metrics")
        # Partition by partition (shop × day), then the periods: see partition.py.
        metric_frames, finding_frames, day_frames, item_frames = partition.audit_all(
            events, ruleset, context, progress, items_folder=folder / "items" if spilled else None,
            carried=carried.result if carried is not None else None,
        )
        # Every day each shop has chats, this run's and stored: the volume an at-risk period
        # has seen (needs.py), whatever rules this run selected.
        shop_days = covered.select("shop", "day")
        if context.history is not None:
            shop_days = pl.concat([shop_days, context.history.select("shop", "day").unique().collect()], how="vertical")
        # The days a night audited, whether or not they left a row: a day whose few chats were
        # all outside the window (or reviews only) is stored as an empty file, and it is not
        # a day without data (_days_missing said it was).
        audited_days = shop_days
        if store is not None:
            stored = [(shop, day) for shop in shops for day in store.days_of(shop)]
            audited_days = pl.concat([shop_days, pl.DataFrame(stored, schema=shop_days.schema, orient="row")], how="vertical")
        written = 0
        if store is not None:
            days = pl.concat([pl.DataFrame(schema=DAY_SCHEMA), *day_frames], how="vertical")
            _note_unknown_agents(days, context.history, bots, notes)
        if store is not None and options.store:
            rules_run = {rule.code for rule in ruleset.rules}
            replaced = store.stored_days(covered)
            chat_rows = {(shop, day): n for shop, day, n in used.lazy().group_by("shop", "day").len().collect(engine=engine).iter_rows()}
            written = store.write_days(days, covered, rules_run, ruleset.version, generated_at, chat_rows, carry.judged_keys(carried))
            per_item = pl.concat([pl.DataFrame(schema=FINDING_SCHEMA), *finding_frames], how="diagonal")
            notes.extend(carry.store_open(store, covered, events, carried, per_item, ruleset, engine))
            for shop, stored_days in replaced.items():
                notes.append(Term("note.replaced", shop=shop, days=_days_text(list(stored_days))))
                _note_fewer_rows(shop, stored_days, chat_rows, notes)

    transcript = None
    if options.conversation is not None:
        from cservice_audit.show import conversation_rows

        transcript = conversation_rows(context, ruleset, options.conversation)
    # The events have done their work: let them go before the drill-down gathers its items
    # and the report is written (at 2 M douyin rows that held the peak, docs/performance.md).
    del events_all, used, events, day_times, context
    metrics = with_needs(_sorted_metrics(metric_frames, ruleset).filter(pl.col("shop").is_in(shops)), ruleset, as_of, shop_days)
    if as_of is not None:
        notes.extend(_days_missing(metrics, audited_days, as_of, ruleset.exempt_dates))
    # Spilled, the late items wait on disk (audit_all) and only those of failing metrics are
    # read back, in the same streaming plan that orders them.
    items = failing_items(item_frames, metrics, ruleset)
    findings = pl.concat([pl.DataFrame(schema=FINDING_SCHEMA), *finding_frames], how="diagonal")
    # Rejected rows belong to no shop yet (their shop may be what failed to parse); every other
    # finding is about a shop of this run.
    findings = findings.filter(pl.col("shop").is_in(shops) | pl.col("code").str.ends_with("-D1"))
    if options.agent is not None:
        # A spot-check of one agent: that agent's rows, and the shop rows for context.
        metrics = metrics.filter((pl.col("scope") == "shop") | (pl.col("agent") == options.agent))
        findings = findings.filter(pl.col("agent").is_null() | (pl.col("agent") == options.agent))
        items = items.filter((pl.col("scope") == "shop") | (pl.col("agent") == options.agent))
    findings = conform(with_fingerprints(findings).lazy(), FINDING_SCHEMA).collect()
    judged = baseline.shops is None or bool(baseline.shops & set(shops))  # else noted above
    if options.baseline and judged and baseline.as_of is not None and as_of is not None and baseline.as_of > as_of:
        # An earlier day compared with a later report (a look back with the cron config): what
        # that report holds is known, and the CLI does not write this one over it
        # (cli._later_report_day).
        notes.append(Term("note.baseline_later", file=one_line(Path(options.baseline).name), day=baseline.as_of.isoformat(), as_of=as_of.isoformat()))
    findings = mark_known(findings, baseline.known, ruleset)
    if as_of is not None and not earlier_failures(metrics, findings, as_of).is_empty():
        # The summaries show a failure of a finished day, week or month the run judged, with
        # new findings (render/matrix.py), not the as-of day's alone: say so, with the days.
        notes.append(Term("note.worst_of_days", first=first_judged, as_of=as_of))
    hidden = int((findings.get_column("state") == "known").sum())
    points = points_in_force(metrics, as_of)
    return AuditResult(
        ruleset, summary, as_of, generated_at, metrics, findings, points, rejects, options, written, hidden, notes, items, transcript,
        bots=bots, baseline_as_of=baseline.as_of,
        # Only a report of the same day knows tonight's notes: yesterday's cut export is not tonight's.
        known_notes=frozenset(k for note in notes if (k := (note_kind(note), note.localized("en"))) in baseline.notes) if as_of is not None and baseline.as_of == as_of else frozenset(),
    )


def bot_accounts(events: pl.DataFrame | pl.LazyFrame) -> frozenset[tuple[str, str]]:
    """(shop, agent) pairs whose every message is a bot's: the robot, shown apart from the
    agents to coach whatever its account is called. One aggregation over the events."""
    bots = events.lazy().filter(pl.col("agent").is_not_null()).group_by("shop", "agent").agg((pl.col("role") == "bot").all().alias("bot")).collect(engine="streaming")
    return frozenset((shop, agent) for shop, agent, _ in bots.filter(pl.col("bot")).iter_rows())


STATUS_RANK = {"at_risk": 0, "fail": 1}
BASELINE_STATUSES = (None, "pending", "at_risk", "fail")  # a finding's status in our reports (None: one occurrence)


@dataclass(frozen=True)
class Baseline:
    """What an earlier JSON report (`--baseline`) found: fingerprint -> (status, severity,
    tier) ranks, the worst when a fingerprint repeats; and the shops it judged (None: no
    report yet, or one without `shops`)."""

    known: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    shops: frozenset[str] | None = None
    as_of: date | None = None  # the day it judged (None: no report yet, or an unreadable date)
    # its notes as (kind, English message): night_missing and days_missing share their words
    notes: frozenset[tuple[str, str]] = frozenset()


def read_baseline(path: str, ruleset: Ruleset) -> Baseline:
    """The baseline at `path` for a run of `ruleset`. One that does not exist yet (the first
    night) knows nothing. One that exists but cannot be read, is not a report, or is another
    platform's sharing no rule code with the run (none of its fingerprints can match) stops
    the run: a wrong or damaged file never silently turns every finding into a new one."""
    if not Path(path).exists():
        return Baseline()
    try:
        report = json.loads(Path(path).read_text("utf-8"))
        theirs, codes = report["ruleset"]["platform"], report["ruleset"].get("rules")
        shops = report.get("shops")
        if not isinstance(theirs, str) or not _strings(codes, missing_ok=True) or not _strings(shops, missing_ok=True):
            raise TypeError("not a report's ruleset or shops")
        known: dict[str, tuple[int, int, int]] = {}
        for i, f in enumerate(report["findings"]):
            # A severity or status no report of ours writes (a hand edit: "fatal") was ranked as
            # some other value and could turn a finding known or new; the run stops and names it.
            for key, allowed in (("severity", SEVERITY_RANK), ("status", BASELINE_STATUSES)):
                if f.get(key) not in allowed:
                    raise InputError("error.baseline_value", path=path, where=f"findings[{i}].{key}", value=one_line(repr(f.get(key))), known=", ".join(str(v) for v in allowed if v))
            ranks = (
                STATUS_RANK.get(f.get("status"), 1),
                -SEVERITY_RANK.get(f["severity"], 2),
                f.get("tier_rank", -1) if isinstance(f.get("tier_rank", -1), int) else -1,
            )
            fingerprint = f["fingerprint"]
            known[fingerprint] = max(known.get(fingerprint, ranks), ranks)
        # Its rules and the codes it found (a report may lack `ruleset.rules`, or list none).
        found = [f["code"] for f in report["findings"]]
        if not _strings(found, missing_ok=False):
            raise TypeError("a finding's code is not a string")
        codes = {*(codes or ()), *found}
    except OSError as exc:
        raise InputError("error.baseline_unreadable", path=path, reason=os_reason(exc)) from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InputError("error.not_report", path=path) from None
    from cservice_audit.render.json_report import SCHEMA_VERSION

    theirs_version = str(report.get("schema_version", ""))
    if theirs_version.partition(".")[0].isdigit() and int(theirs_version.partition(".")[0]) > int(SCHEMA_VERSION.partition(".")[0]):
        # Written by a newer tool (a downgrade, a report copied from another machine): its
        # fingerprints and states may mean something else, and every finding could read as known.
        raise InputError("error.baseline_newer", path=path, theirs=theirs_version, ours=SCHEMA_VERSION)
    # A fingerprint is the rule code and the scope keys: a custom ruleset that extends a
    # platform under its own name shares its codes, and its baseline matches; a run of the same
    # platform with another --select is the same platform's (its rules may come back).
    if theirs != ruleset.platform and codes and not codes & {rule.code for rule in ruleset.rules}:
        raise InputError("error.baseline_platform", path=path, theirs=one_line(theirs), ours=ruleset.platform)
    details = report.get("note_details")
    notes = frozenset((n["kind"], n["message"]) for n in details if isinstance(n, dict) and isinstance(n.get("kind"), str) and isinstance(n.get("message"), str)) if isinstance(details, list) else frozenset()
    return Baseline(known, frozenset(shops) if shops is not None else None, _report_day(report.get("as_of")), notes)


def _report_day(value: object) -> date | None:
    """A report's `as_of` as a day; None when it has none or an unreadable one (an older or
    hand-made report: compared as an earlier night's, as before)."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _strings(value: object, *, missing_ok: bool) -> bool:
    """`value` is a list of strings (or None, when `missing_ok`)."""
    if value is None:
        return missing_ok
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def tier_ranks(findings: pl.DataFrame, ruleset: Ruleset) -> pl.Series:
    """Each finding's escalation tier as a rank (0 = the lowest tier, -1 = none)."""
    ranks = {
        (rule.code, tier.label): i
        for rule in ruleset.rules
        if rule.escalation is not None
        for i, tier in enumerate(sorted(rule.escalation.tiers, key=lambda t: t.at))
    }
    return pl.Series(
        "tier_rank",
        [ranks.get((code, tier), -1) if tier is not None else -1 for code, tier in findings.select("code", "tier").iter_rows()],
        dtype=pl.Int64,
    )


def mark_known(findings: pl.DataFrame, known: dict[str, tuple[int, int, int]], ruleset: Ruleset) -> pl.DataFrame:
    """`state`: `known` when the baseline holds the fingerprint with the same or a worse
    status, severity and tier; else `new` (at_risk -> fail, warning -> error or a higher
    tier is new: spec §11). Findings are few; this runs on them, not on events."""
    findings = findings.with_columns(tier_ranks(findings, ruleset))
    states = []
    for fingerprint, status, severity, tier_rank in findings.select("fingerprint", "status", "severity", "tier_rank").iter_rows():
        now = (STATUS_RANK.get(status, 1), -SEVERITY_RANK.get(severity, 2), tier_rank)
        before = known.get(fingerprint)
        worse = before is None or any(n > b for n, b in zip(now, before, strict=True))
        states.append("new" if worse else "known")
    return findings.with_columns(pl.Series("state", states, dtype=pl.String))


def read_once(paths: list[str], reviews: list[str], notes: list[Term]) -> tuple[list[str], list[str]]:
    """Expand paths and review paths; a file named more than once (the same path twice, a
    folder and a file in it, a glob and a file, `--reviews` naming an audited file) is read
    once, where it was first named, with a note."""
    seen: set[str] = set()
    repeated: list[str] = []

    def keep(expanded: list[str]) -> list[str]:
        kept = []
        for path in expanded:
            key = path if path == loader.STDIN else os.path.realpath(path)
            if key in seen:
                if path not in repeated:
                    repeated.append(path)
                continue
            seen.add(key)
            kept.append(path)
        return kept

    kept_paths = keep(loader.expand(paths))
    kept_reviews = keep(loader.expand(reviews)) if reviews else []
    if repeated:
        notes.append(Term("note.read_once", paths=", ".join(one_line(p) for p in repeated)))
    return kept_paths, kept_reviews


def window_opens(ruleset: Ruleset) -> int:
    """The earliest time of day (seconds) any rule starts counting: a day with no event at
    or after it has nothing to judge."""
    starts = [rule.params["window"].start for rule in ruleset.rules if rule.params.get("window") is not None]
    return min(starts, default=0)


def judged_as_of(events: pl.DataFrame, ruleset: Ruleset, notes: list[Term]) -> date | None:
    """The as-of day without --date/--until (spec §8): the last day with an event at or after
    the window opens. A trailing day with only earlier events (an export cut at 02:30) is not
    judged: it only supplies late replies to the day before."""
    if events.is_empty():
        return None
    opens = window_opens(ruleset)
    last_day = events.get_column("day").max()
    judged = events.filter(pl.col("tod") >= opens).get_column("day").max()
    if judged is None:
        return last_day
    if judged < last_day:
        trailing = events.filter(pl.col("day") > judged).get_column("day").unique().sort().to_list()
        notes.append(Term("note.early_hours", days=_days_text(trailing), judged=judged))
    return judged


def _note_days_running(data_ends: pl.DataFrame, ruleset: Ruleset, as_of: date | None, clock: datetime, notes: list[Term]) -> None:
    """A note per shop whose last judged day is still running: neither its data nor the run's
    clock has passed that day's midnight (a spot-check of today's export at 15:00), so a
    same-day long no-reply rule leaves its unanswered turns pending (checks/long_no_reply.py).
    Not for an export cut at 02:30: that day is not judged (`judged_as_of`)."""
    if as_of is None or not any(r.check == "long_no_reply" and r.params["same_day"] for r in ruleset.rules):
        return
    zone = ZoneInfo(ruleset.timezone)
    for shop, end in data_ends.sort("shop").iter_rows():
        local = end.astimezone(zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=zone)
        if local.date() <= as_of and clock < midnight:
            notes.append(Term("note.day_running", shop=one_line(shop), day=local.date(), end=local.strftime("%H:%M:%S")))


# A stored day re-judged from less than this share of the export rows it was stored from is
# named: a cut or partial re-export (a spot-check at noon, a download that stopped) would
# otherwise replace a whole day quietly. Small differences (an export deduplicated another
# way) are not worth a line.
FEWER_ROWS_SHARE = 0.9


# An export that stops in a busy hour, at least this long before the service window closes,
# with no event after: cut (a back office's row limit, a download stopped at a line end).
EARLY_END = timedelta(hours=2)
BUSY_HOUR_EVENTS = 30


def _note_data_ends_early(
    used: pl.DataFrame | pl.LazyFrame, data_ends: pl.DataFrame, ruleset: Ruleset, as_of: date | None,
    clock: datetime, notes: list[Term], engine: str,
) -> None:
    """A note per shop whose data stops on the as-of day, after that day is over, in a busy
    hour (BUSY_HOUR_EVENTS events in the hour before) and EARLY_END or more before the last
    window closes: a file cut at a line end passes every check of its records (a cut inside
    one stops the run, load._check_not_cut_short) and was judged as the night, half its chats
    missing. A quiet shop's last chat at 17:00 is not busy, and says nothing."""
    ends = [rule.params["window"].end for rule in ruleset.rules if rule.params.get("window") is not None]
    if as_of is None or not ends:
        return
    zone = ZoneInfo(ruleset.timezone)
    closes = datetime.combine(as_of, time(), tzinfo=zone) + timedelta(seconds=max(ends))
    over = datetime.combine(as_of + timedelta(days=1), time(), tzinfo=zone)
    early = [(shop, end) for shop, end in data_ends.iter_rows() if end.astimezone(zone).date() == as_of and closes - end >= EARLY_END]
    if clock < over or not early:
        return
    last_hour = pl.lit(False)
    for shop, end in early:
        last_hour = last_hour | ((pl.col("shop") == shop) & (pl.col("ts") > end - timedelta(hours=1)))
    busy = dict(used.lazy().filter(last_hour).group_by("shop").len().collect(engine=engine).iter_rows())
    for shop, end in sorted(early):
        if busy.get(shop, 0) >= BUSY_HOUR_EVENTS:
            local = end.astimezone(zone)
            notes.append(Term(
                "note.data_ends_early", shop=one_line(shop), end=local.strftime("%Y-%m-%d %H:%M:%S"), n=busy[shop],
                closes=closes.strftime("%H:%M"),
            ))


def _note_fewer_rows(shop: str, stored: dict[date, int | None], chat_rows: dict[tuple[str, date], int], notes: list[Term]) -> None:
    fewer = sorted(day for day, before in stored.items() if before and chat_rows.get((shop, day), 0) < FEWER_ROWS_SHARE * before)
    if fewer:
        now = sum(chat_rows.get((shop, day), 0) for day in fewer)
        before = sum(stored[day] or 0 for day in fewer)
        notes.append(Term("note.replaced_fewer", shop=one_line(shop), days=_days_text(fewer), now=now, before=before))


# A shop's team tonight and the one its history holds must both have this many people before
# having none in common is worth a question; the history is read this many days back.
UNKNOWN_TEAM_MIN = 3
UNKNOWN_TEAM_DAYS = 14


def _note_unknown_agents(days: pl.DataFrame, history: pl.LazyFrame | None, bots: frozenset, notes: list[Term]) -> None:
    """A shop whose agents in this run are in fewer than half of the days its history holds
    for the UNKNOWN_TEAM_DAYS days before, the others' team being UNKNOWN_TEAM_MIN people or
    more: most likely another shop's export under this shop's config (an export without a
    shop column names no shop; the config does), judged and stored as this shop's. By days,
    not "anyone in common": the first wrong night is stored, and a cron job left pointing at
    the wrong file shared a team with it from the second night on (said once, then never).
    A team that really changed (a new outsourcer, renamed accounts) hears it until it has
    half the stored days. Compared by exact account name: Taobao's `shop:name` sub-accounts
    differ between shops; two shops' 小美 hide the case, never invent it. A note, not a stop."""
    if history is None or days.is_empty():
        return
    # Who is a person as the reports decide it (people.agent_kind): not the unassigned turns
    # nor the robot, whether an account whose every row is a robot's or one named like one
    # (机器人, 智能客服, ...): a review of a robot-served chat names 机器人 as its agent, and
    # counted as a person it was in both teams every night, so another shop's export was
    # never said.
    people = (pl.col("scope") == "agent") & pl.col("agent").is_not_null()
    tonight = days.filter(people).group_by("shop").agg(pl.col("agent").unique().sort(), pl.col("day").min().alias("first"))
    for shop, agents, first in tonight.sort("shop").iter_rows():
        agents = [a for a in agents if agent_kind(a, shop, bots) == "agent"]
        if len(agents) < UNKNOWN_TEAM_MIN:
            continue
        since = first - timedelta(days=UNKNOWN_TEAM_DAYS)
        stored = (
            history.filter(people & (pl.col("shop") == shop) & (pl.col("day") < first) & (pl.col("day") >= since))
            .group_by("day").agg(pl.col("agent").unique())
            .collect()
        )  # fmt: skip
        teams = {day: {a for a in team if agent_kind(a, shop, bots) == "agent"} for day, team in stored.iter_rows()}
        sharing = [day for day, team in teams.items() if team & set(agents)]
        known = sorted(set().union(*(team for day, team in teams.items() if day not in sharing)))
        if not teams or len(known) < UNKNOWN_TEAM_MIN or 2 * len(sharing) >= len(teams):
            continue
        start, end = min(teams), max(teams)
        notes.append(Term(
            "note.unknown_team", shop=one_line(shop), n=len(agents), names=_names(agents), known=_names(known),
            days=f"{start}..{end}" if start != end else str(start), total=len(teams), sharing=len(sharing),
        ))  # fmt: skip


def _names(names: list[str], most: int = 5) -> str:
    """Up to `most` names, `, `-joined, and `…` when there are more."""
    shown = ", ".join(one_line(n) for n in names[:most])
    return shown + (", …" if len(names) > most else "")


def _selected_days(options: AuditOptions, as_of: date | None) -> str:
    """The days a run audits, as the user chose them."""
    if options.date is not None:
        return str(options.date)
    if options.since is not None or options.until is not None:
        return f"{options.since or ''}..{options.until or as_of or ''}"
    return f"..{as_of}"


def _days_missing(metrics: pl.DataFrame, shop_days: pl.DataFrame, as_of: date, exempt: tuple[date, ...]) -> list[Term]:
    """A note per shop whose day before `as_of`, or whose week, month or 30 days so far, lack a
    day: no chats that day in the input or the history, from the shop's first day with data on
    (exempt dates aside). A missed night, or one whose export was cut and never run again,
    otherwise showed only as `（按 4/5 天数据）` on a tier line (the period's rates quietly
    counted the other days), or not at all where every rate is daily (that day went unjudged)."""
    yesterday = as_of - timedelta(days=1)
    spans = (
        metrics.group_by("shop").agg(pl.col("period_start").min().alias("start"))
        .join(shop_days.group_by("shop").agg(pl.col("day").min().alias("first")), on="shop")
    )  # fmt: skip
    notes = []
    for shop, start, first in spans.sort("shop").iter_rows():
        seen = set(shop_days.filter(pl.col("shop") == shop).get_column("day").to_list())
        day, missing = max(min(start, yesterday), first), []
        while day <= as_of:
            if day not in seen and day not in exempt:
                missing.append(day.isoformat())
            day += timedelta(days=1)
        if missing:
            more = " …" if len(missing) > DAYS_MISSING_SHOWN else ""
            shown = {lang: t("list.sep", lang).join(missing[:DAYS_MISSING_SHOWN]) + more for lang in ("zh", "en")}
            # Last night's day missing is news the group must hear even on a quiet night (the
            # night that did not run pushed nothing); the nights after only remind.
            key = "note.night_missing" if yesterday.isoformat() in missing else "note.days_missing"
            count = "one" if len(missing) == 1 else "many"
            words = {field: Term(f"note.missing_{count}.{field}") for field in ("nights", "days", "rerun")}
            notes.append(Term(key, shop=one_line(shop), days=shown, n=len(missing), nights=words["nights"], those_days=words["days"], rerun=words["rerun"]))
    return notes


DAYS_MISSING_SHOWN = 7  # a month's gap is one line: the first week of it, then …


def _days_text(days: list[date]) -> "str | Term":
    days = sorted(days)
    return str(days[0]) if len(days) == 1 else Term("note.days", first=days[0], last=days[-1], n=len(days))


class RejectedInput(AuditError):
    """An error that stops a run over its rejected rows. It carries them (`rejects`): the run
    stops, but `--rejects FILE` still gets them, so the user can see what went wrong."""

    def __init__(self, message: str, /, rejects: pl.DataFrame, **fields: object) -> None:
        super().__init__(message, **fields)
        self.rejects = rejects


class NoUsableRows(RejectedInput, InputError):
    """Every row of the input was rejected (or a duplicate of a rejected one)."""


class MostlyRejected(RejectedInput, LimitError):
    """A file most of whose rows were rejected (`rejected_percent`, limits.py)."""


def first_rejected(rejects: pl.DataFrame) -> dict[str, object]:
    """The fields naming a rejected row (the first of `rejects`): where it is and why."""
    row = rejects.row(0, named=True)
    problem = {"en": one_line(row["problem"]), "zh": one_line(row["problem_zh"] or row["problem"])}
    return {"source": one_line(row["_source"]), "line": row["line"], "problem": problem}


def _require_rows(summary: InputSummary, rejects: pl.DataFrame) -> None:
    """An empty input is not an all-clear (spec §10)."""
    if summary.rows_used:
        return
    names = ", ".join(one_line(f["file"]) for f in summary.files) or Term("file.input")
    if summary.rows_read == 0:
        raise InputError("error.no_data_rows", names=names)
    if summary.rows_rejected:
        raise NoUsableRows("error.no_usable_rows", rejects, names=names, rejected=summary.rows_rejected, **first_rejected(rejects))
    raise InputError("error.all_duplicates", names=names, duplicates=summary.rows_duplicate)


def _require_mostly_read(summary: InputSummary, rejects: pl.DataFrame) -> None:
    """An export mostly rejected was read the wrong way (a layout, a time format, a moved
    column): auditing the few rows left would report, and store, a shop's day from a fraction
    of its chats as if it were the day (spec §10: not the data you meant)."""
    cap = limits.current().rejected_percent
    for entry in summary.files:
        rejected, read = entry["rows_rejected"], entry["rows_read"]
        if not rejected or rejected * 100 <= cap * read:
            continue
        mine = rejects.filter(pl.col("_source") == entry["file"])
        # Beyond rejects_kept a file's rejected rows are only counted: then no first row.
        first = Term("error.mostly_rejected_first", **first_rejected(mine)) if mine.height else ""
        raise MostlyRejected(
            "error.mostly_rejected", rejects, **limits.over("rejected_percent", "error.mostly_rejected_what",
            path=one_line(entry["file"]), rejected=rejected, read=read, percent=_percent(rejected, read, cap), first=first),
        )


def _percent(part: int, whole: int, cap: float) -> str:
    """`part` of `whole` in percent, one decimal, never shown as the cap it is above nor as
    100 when some rows were read (50.01 -> 50.1, 99.95 -> 99.9)."""
    share = part * 100 / whole
    shown = round(share, 1)
    if shown <= cap:
        shown = math.ceil(share * 10) / 10
    if shown >= 100 and part < whole:
        shown = math.floor(share * 10) / 10
    return f"{shown:.1f}".removesuffix(".0")


def _require_own_shop(events: pl.DataFrame | pl.LazyFrame, shop: str, engine: str, config: str | None = None) -> None:
    """--shop (or the config's `shop`) says whose run this is: an export naming another shop
    is the wrong file (a nightly line pointed at the other shop's folder), and auditing it
    would put that shop's findings in this shop's report and baseline and push them to this
    shop's group (spec §11). Rows of an export with no shop column are this shop's. `config`:
    the config file the shop came from, named in the error instead of "drop --shop" (a flag
    the run was not given)."""
    other = events.lazy().filter(pl.col("shop") != shop).select(pl.col("_source").cast(pl.String), "shop").head(1).collect(engine=engine)
    if other.height:
        source, found = other.row(0)
        # Only the stop pays for this: a file that also holds this shop's rows mixes shops
        # (two exports joined), and "it is the other shop's" would send the user to the wrong fix.
        counts = (
            events.lazy().filter(pl.col("_source").cast(pl.String) == source).group_by("shop").len()
            .sort("len", "shop", descending=[True, False]).collect(engine=engine)
        )  # fmt: skip
        if shop in counts.get_column("shop").to_list():
            others = counts.filter(pl.col("shop") != shop)
            names = others.get_column("shop").to_list()
            found = ", ".join(one_line(name) for name in names[:3]) + (", …" if len(names) > 3 else "")
            rows = int(others.get_column("len").sum())
            if config is not None:
                raise InputError("error.mixed_shops_config", path=one_line(source), shop=one_line(shop), found=found, rows=rows, config=one_line(config))
            raise InputError("error.mixed_shops", path=one_line(source), shop=one_line(shop), found=found, rows=rows)
        if config is not None:
            raise InputError("error.other_shop_config", path=one_line(source), found=one_line(found), shop=one_line(shop), config=one_line(config))
        raise InputError("error.other_shop", path=one_line(source), found=one_line(found), shop=one_line(shop))


def _require_days(events: pl.DataFrame, options: AuditOptions, opens: int) -> None:
    """--date/--since/--until must select days the input has (spec §10), and --date a day the
    input has more of than the hours before the window opens."""
    if options.date is None and options.since is None and options.until is None:
        return
    days = events.get_column("day")
    low, high = options.date or options.since, options.date or options.until
    inside = days.filter((days >= low) if low else days.is_not_null())
    inside = inside.filter((inside <= high) if high else inside.is_not_null())
    if not inside.len():
        asked = f"--date {options.date}" if options.date else f"--since/--until {low or '...'}..{high or '...'}"
        raise InputError("error.no_rows_then", asked=asked, first=days.min(), last=days.max())
    if options.date is not None:
        _require_day_not_spill(events, options.date, opens)


def _require_day_not_spill(events: pl.DataFrame, day: date, opens: int) -> None:
    """The cron line names yesterday (`--date`); yesterday's file still holding the day
    before, run a few minutes past midnight, has only early-hours rows on the named day. Judged,
    that day passed as a quiet night (exit 0) and was stored, and the real one never came.
    Per shop: one shop's file run past midnight beside another shop's whole day is that
    shop's quiet night all the same."""
    latest = events.lazy().group_by("shop", "day").agg(pl.col("tod").max()).collect()
    named = latest.filter(pl.col("day") == day).select("shop", pl.col("tod").alias("named"))
    before = latest.filter((pl.col("day") < day) & (pl.col("tod") >= opens)).group_by("shop").agg(pl.col("day").max().alias("before"))
    spilled = named.join(before, on="shop").filter(pl.col("named") < opens).sort("shop")
    if spilled.is_empty():
        return
    shop, named, before = spilled.row(0)
    last = f"{named // 3600:02d}:{named % 3600 // 60:02d}:{named % 60:02d}"
    raise InputError(
        "error.date_early_hours", shop=one_line(shop), day=day, opens=f"{opens // 3600:02d}:{opens % 3600 // 60:02d}", last=last, before=before
    )


def agents_named(name: str, pairs: Iterable[tuple[str | None, str | None]]) -> list[str]:
    """The agents `--agent NAME` means, of the (shop, agent) pairs of an input or history:
    the agent named exactly so, else each shop's sub-account `shop:NAME`, the name the
    reports show with its shop's prefix left off (render/names.py). More than one: the
    name is ambiguous."""
    pairs = list(pairs)
    if any(agent == name for _, agent in pairs):
        return [name]
    return sorted({agent for shop, agent in pairs if shop and agent == f"{shop}:{name}"})


def _require_agent(pairs: pl.DataFrame, agent: str) -> str:
    """--agent must name an agent of the input (spec §10): its name as exported, or as the
    reports show a sub-account (`agents_named`). Returns the agent's name as exported."""
    if agent == "(unassigned)":
        return agent
    named = agents_named(agent, pairs.select("shop", "agent").iter_rows())
    if len(named) == 1:
        return named[0]
    if named:
        raise InputError("error.agent_ambiguous", agent=one_line(agent), names=", ".join(one_line(a) for a in named))
    agents = sorted(set(pairs.get_column("agent").drop_nulls()))
    listed: str | Term = ", ".join(one_line(a) for a in agents[:20])
    if len(agents) > 20:
        listed = Term("error.agents_more", listed=listed, n=len(agents) - 20)
    raise InputError("error.agent_not_in_input", agent=one_line(agent), listed=listed or Term("error.agents_none"))


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
                        "line": [n for n, _, _, _ in table.bad_lines],
                        "text": [raw for _, raw, _, _ in table.bad_lines],
                        "problem": [why for _, _, why, _ in table.bad_lines],
                        "problem_zh": [why for _, _, _, why in table.bad_lines],
                    },
                    schema_overrides={"line": pl.Int64},
                )
            )
    schema = {**{c: pl.String for c in CANONICAL}, "_source": pl.String, "line": pl.Int64, "problem": pl.String, "problem_zh": pl.String}
    if not frames:
        return pl.DataFrame(schema=schema)
    combined = pl.concat(frames, how="diagonal_relaxed")
    return conform(combined.lazy(), schema).collect().sort("_source", "line")


def _summarize_input(
    events_all: pl.DataFrame | pl.LazyFrame, rejects: pl.DataFrame, tables: list[loader.RawTable], counts: pl.DataFrame | None = None
) -> InputSummary:
    """Rows read, used, rejected and duplicate, per file and in all: aggregations only, so a
    month of a busy shop is never copied for counting."""
    per_file = {
        str(source): (valid, duplicate)
        for source, valid, duplicate in events_all.lazy().group_by("_source")
        .agg(pl.len(), pl.col("_duplicate").sum())
        .collect(engine="streaming")
        .iter_rows()
    }
    rejected = dict(rejects.group_by("_source").len().iter_rows()) if rejects.height else {}
    blank: dict[str, int] = {}
    if counts is not None:
        # rejects holds only the first rejects_kept rows whole (limits.py); these count them all,
        # plus the unreadable JSONL lines that only `rejects` holds.
        bad_lines = {t.source: len(t.bad_lines) + t.bad_lines_dropped for t in tables}
        rejected = {src: n + bad_lines.get(src, 0) for src, n in counts.select("_source", "rows_rejected").iter_rows()}
        rejected.update({src: n for src, n in bad_lines.items() if n and src not in rejected})
        blank = {src: n for src, n in counts.select("_source", "rows_blank").iter_rows() if n}
        for table in tables:
            if table.blank_lines:
                blank[table.source] = blank.get(table.source, 0) + table.blank_lines
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
        if blank.get(table.source):
            files[-1]["rows_blank"] = blank[table.source]  # present only when lines were skipped
    used_ts = pl.col("ts").filter(~pl.col("_duplicate"))
    first_ts, last_ts = events_all.lazy().select(used_ts.min().alias("first"), used_ts.max().alias("last")).collect(engine="streaming").row(0)
    return InputSummary(
        files=files,
        rows_read=sum(f["rows_read"] for f in files),
        rows_used=sum(f["rows_used"] for f in files),
        rows_rejected=sum(f["rows_rejected"] for f in files),
        rows_duplicate=sum(f["rows_duplicate"] for f in files),
        first_ts=first_ts,
        last_ts=last_ts,
    )


def write_rejects(rejects: pl.DataFrame, path: str | Path) -> None:
    """`--rejects FILE`: every rejected row kept, with its file, line and reason, as CSV."""
    rows = rejects.select(pl.col("_source").alias("file"), "line", "problem", *CANONICAL)
    atomic_write(path, guard_formulas(rows).write_csv(), what="rejects file")
