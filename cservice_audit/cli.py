"""The command line: parse options, run the audit, render, exit. The only place that exits.

stdout carries the payload only; progress and diagnostics go to stderr (spec §10).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from cservice_audit import exitcodes
from cservice_audit.errors import AuditError
from cservice_audit.schema import SEVERITY_RANK

app = typer.Typer(
    name="cservice-audit",
    help="Audit customer-service chat exports against the platforms' reply-time and service rules.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
_stderr = Console(stderr=True, highlight=False)
# Inputs at least this large get a progress display on an interactive stderr.
PROGRESS_BYTES = 20 * 1024 * 1024


class Format(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    markdown = "markdown"


class Severity(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise AuditError(f"{option} {value!r}: expected a date YYYY-MM-DD") from None


def _codes(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [c.strip().upper() for v in values for c in v.split(",") if c.strip()]


def _load_ruleset(platform: str | None, ruleset_file: Path | None):
    from cservice_audit.ruleset import load_file, load_platform

    if ruleset_file is not None:
        return load_file(ruleset_file)
    if platform is None:
        raise AuditError("give --platform NAME (pinduoduo, kuaishou, douyin, taobao, jd) or --ruleset FILE")
    return load_platform(platform)


def _input_bytes(paths: list[str]) -> int:
    total = 0
    for path in paths:
        try:
            total += os.path.getsize(path)
        except OSError:
            pass
    return total


@app.command()
def audit(
    paths: Annotated[list[str], typer.Argument(help="CSV/JSONL files (optionally .gz), globs, or - for stdin.")],
    platform: Annotated[Optional[str], typer.Option("--platform", "-p", help="Shipped ruleset: pinduoduo, kuaishou, douyin, taobao, jd.")] = None,
    ruleset_file: Annotated[Optional[Path], typer.Option("--ruleset", help="Your own ruleset YAML (may `extends:` a shipped one).")] = None,
    on_date: Annotated[Optional[str], typer.Option("--date", help="Judge this day only (YYYY-MM-DD); it is the as-of day.")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Judge days from this one (YYYY-MM-DD).")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Judge days up to this one; it is the as-of day.")] = None,
    fmt: Annotated[Optional[Format], typer.Option("--format", "-f", help="Default: table on a terminal, json otherwise.")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report here instead of stdout.")] = None,
    fail_on: Annotated[Severity, typer.Option("--fail-on", help="Exit 1 when a finding is at least this severe.")] = Severity.error,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when there are findings.")] = False,
    select: Annotated[Optional[list[str]], typer.Option("--select", help="Only rules with these codes or prefixes (comma-separated).")] = None,
    ignore: Annotated[Optional[list[str]], typer.Option("--ignore", help="Skip rules with these codes or prefixes.")] = None,
    agent: Annotated[Optional[str], typer.Option("--agent", help="Show this agent only (shop totals kept).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Findings only: no header, scorecard or progress.")] = False,
    statistics: Annotated[bool, typer.Option("--statistics", help="Print the number of findings per code instead.")] = False,
    encoding: Annotated[Optional[str], typer.Option("--encoding", help="Input encoding (default: detect UTF-8 / GB18030).")] = None,
    input_tz: Annotated[Optional[str], typer.Option("--input-tz", help="Zone of timestamps without an offset (default: the ruleset's).")] = None,
    mapping: Annotated[Optional[Path], typer.Option("--mapping", help="YAML with your export's header/value spellings.")] = None,
    rejects: Annotated[Optional[Path], typer.Option("--rejects", help="Write rejected rows (file, line, reason) to this CSV.")] = None,
    reviews: Annotated[Optional[list[str]], typer.Option("--reviews", help="A separate review export (same formats; rows without a role are reviews).")] = None,
    history: Annotated[Optional[Path], typer.Option("--history", help="History folder (default: $CSERVICE_AUDIT_HOME, else your data folder).")] = None,
    no_history: Annotated[bool, typer.Option("--no-history", help="Neither read nor write the history.")] = False,
    baseline: Annotated[Optional[Path], typer.Option("--baseline", help="An earlier --format json report: report only findings not in it.")] = None,
    sheet: Annotated[Optional[str], typer.Option("--sheet", help="Excel exports: the sheet to read (default: the first).")] = None,
    profile: Annotated[Optional[str], typer.Option("--profile", help="A shipped export layout (see docs/inputs.md).")] = None,
) -> None:
    """Audit chat exports and report metrics and findings."""
    from cservice_audit.audit import AuditOptions, run_audit, write_rejects
    from cservice_audit.history import default_root
    from cservice_audit.render import FORMATS

    options = AuditOptions(
        date=_day(on_date, "--date"),
        since=_day(since, "--since"),
        until=_day(until, "--until"),
        agent=agent,
        input_tz=_zone(input_tz),
        encoding=encoding,
        mapping=str(mapping) if mapping else None,
        reviews=tuple(reviews or ()),
        history=None if no_history else str(history or default_root()),
        baseline=str(baseline) if baseline else None,
        sheet=sheet,
        profile=profile,
    )
    if options.date and (options.since or options.until):
        raise AuditError("--date judges one day; use it without --since/--until")
    if options.since and options.until and options.since > options.until:
        raise AuditError(f"--since {options.since} is after --until {options.until}")
    ruleset = _load_ruleset(platform, ruleset_file).selected(_codes(select), _codes(ignore))
    if not ruleset.rules:
        raise AuditError("--select/--ignore leave no rule to run")

    to_terminal = output is None and sys.stdout.isatty()
    chosen = fmt or (Format.table if to_terminal else Format.json)
    show_progress = not quiet and sys.stderr.isatty() and _input_bytes(paths) >= PROGRESS_BYTES
    generated_at = datetime.now(timezone.utc)
    if show_progress:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=_stderr, transient=True) as bar:
            task = bar.add_task("starting")
            result = run_audit(paths, ruleset, options, generated_at=generated_at, progress=lambda s: bar.update(task, description=s))
    else:
        result = run_audit(paths, ruleset, options, generated_at=generated_at)

    if result.input.rows_rejected and not quiet:
        first = result.rejects.row(0, named=True)
        _stderr.print(
            f"cservice-audit: {result.input.rows_rejected} row(s) rejected, first {first['_source']}:{first['line']}: "
            f"{first['problem']}" + ("" if rejects else " (--rejects FILE writes them all)"),
            markup=False,
            soft_wrap=True,
        )
    if rejects is not None:
        write_rejects(result, rejects)
    if not quiet:
        for entry in result.input.files:
            if entry["rows_read"] == 0:
                _stderr.print(f"cservice-audit: {entry['file']} has no data rows", markup=False, soft_wrap=True)

    if statistics:
        text = _statistics(result)
    else:
        color = to_terminal and chosen == Format.table and "NO_COLOR" not in os.environ
        width = _stderr.width if to_terminal else 140
        text = FORMATS[chosen.value](result, color=color, width=width, quiet=quiet)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise AuditError(f"{output}: cannot write report ({exc.strerror})") from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()

    worst = SEVERITY_RANK[fail_on.value]
    failing = any(SEVERITY_RANK[s] <= worst for s in result.findings.get_column("severity"))
    raise typer.Exit(exitcodes.FINDINGS if failing and not exit_zero else exitcodes.CLEAN)


def _zone(name: str | None) -> str | None:
    if name is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise AuditError(f"--input-tz {name!r}: unknown time zone (e.g. Asia/Shanghai, UTC)") from None
    return name


def _statistics(result) -> str:
    counts = result.findings.group_by("code", "severity").len().sort("code", "severity")
    lines = [f"{n:>6}  {code:<10} {severity}" for code, severity, n in counts.iter_rows()]
    lines.append(f"{result.findings.height:>6}  total")
    return "\n".join(lines) + "\n"


@app.command()
def rules(
    platform: Annotated[Optional[str], typer.Option("--platform", "-p", help="Shipped ruleset name.")] = None,
    ruleset_file: Annotated[Optional[Path], typer.Option("--ruleset", help="A ruleset YAML file.")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table or json.")] = Format.table,
) -> None:
    """List the rules in effect: codes, checks, parameters, sources and confidence."""
    from cservice_audit.rule_docs import ruleset_dict, ruleset_table

    ruleset = _load_ruleset(platform, ruleset_file)
    if fmt == Format.json:
        sys.stdout.write(json.dumps(ruleset_dict(ruleset), ensure_ascii=False, indent=2) + "\n")
    elif fmt == Format.table:
        console = _console()
        for renderable in ruleset_table(ruleset):
            console.print(renderable)
    else:
        raise AuditError("rules --format: table or json")


@app.command()
def explain(
    code: Annotated[str, typer.Argument(help="A rule code, e.g. PDD-R3.")],
    ruleset_file: Annotated[Optional[Path], typer.Option("--ruleset", help="Look the code up in this ruleset.")] = None,
) -> None:
    """What one rule checks, why, its parameters and an example finding."""
    from cservice_audit.rule_docs import explain_rule, find_rule

    ruleset, rule = find_rule(code.strip().upper(), ruleset_file)
    sys.stdout.write(explain_rule(ruleset, rule))


@app.command("validate-ruleset")
def validate_ruleset(path: Annotated[Path, typer.Argument(help="The ruleset YAML to check.")]) -> None:
    """Check a ruleset file: exit 0, or name the file and key that is wrong and exit 2."""
    from cservice_audit.ruleset import load_file

    ruleset = load_file(path)
    _stderr.print(
        f"{path}: ok ({ruleset.platform} {ruleset.version}, {len(ruleset.rules)} rules: "
        f"{', '.join(r.code for r in ruleset.rules)})",
        markup=False,
        soft_wrap=True,
    )


@app.command("history")
def history_command(
    platform: Annotated[str, typer.Option("--platform", "-p", help="Whose history (pinduoduo, kuaishou, ...).")],
    history: Annotated[Optional[Path], typer.Option("--history", help="History folder (default: $CSERVICE_AUDIT_HOME, else your data folder).")] = None,
    prune_before: Annotated[Optional[str], typer.Option("--prune-before", help="Delete stored days before this date (YYYY-MM-DD).")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table, json or csv.")] = Format.table,
) -> None:
    """List what the history holds (shop, day, rows, ruleset version), or prune old days."""
    from cservice_audit.history import HistoryStore, default_root
    from cservice_audit.ruleset import resolve_platform

    store = HistoryStore(history or default_root(), resolve_platform(platform))
    if prune_before is not None:
        cutoff = _day(prune_before, "--prune-before")
        with store.locked():
            removed = store.prune(cutoff)
        _stderr.print(f"removed {removed} stored day(s) before {cutoff} from {store.folder}", markup=False)
        return
    _print_frame(store.listing(), fmt, title=f"history in {store.folder}")


@app.command()
def trend(
    platform: Annotated[str, typer.Option("--platform", "-p", help="Whose history (pinduoduo, kuaishou, ...).")],
    history: Annotated[Optional[Path], typer.Option("--history", help="History folder (default: $CSERVICE_AUDIT_HOME, else your data folder).")] = None,
    weeks: Annotated[int, typer.Option("--weeks", help="How many natural weeks, ending with the last stored one.")] = 8,
    rule: Annotated[Optional[str], typer.Option("--rule", help="Only this rule code.")] = None,
    agent: Annotated[Optional[str], typer.Option("--agent", help="Only this agent (and the shop).")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table, json or csv.")] = Format.table,
) -> None:
    """Per-agent and per-shop rates week by week, from the history."""
    from cservice_audit.history import HistoryStore, default_root
    from cservice_audit.ruleset import load_platform
    from cservice_audit.trend import sparkline, weekly

    ruleset = load_platform(platform)
    store = HistoryStore(history or default_root(), ruleset.platform)
    stored = store.read()
    if stored is None:
        raise AuditError(f"{store.folder}: no history stored yet for {ruleset.platform} (run audits first)")
    table = weekly(stored, ruleset, weeks=weeks, rule=rule.upper() if rule else None, agent=agent)
    if fmt == Format.table:
        _print_trend(table, sparkline)
    else:
        _print_frame(table, fmt, title="trend")


def _print_frame(frame, fmt: Format, title: str) -> None:
    if fmt == Format.json:
        rows = [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in frame.iter_rows(named=True)]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    elif fmt == Format.csv:
        from cservice_audit.spreadsheet import guard_formulas

        sys.stdout.write(guard_formulas(frame).write_csv())
    elif fmt == Format.table:
        from rich.text import Text

        table = Table(title=title, title_justify="left")
        for column in frame.columns:
            table.add_column(column)
        for row in frame.iter_rows():
            table.add_row(*(Text("-" if v is None else str(v)) for v in row))
        _console().print(table)
    else:
        raise AuditError("--format: table, json or csv here")


def _console() -> Console:
    """The terminal's (or $COLUMNS') width; 140 columns when piped without COLUMNS, so Chinese
    names stay whole."""
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(no_color="NO_COLOR" in os.environ, width=140 if piped else None)


def _print_trend(frame, sparkline) -> None:
    from rich.text import Text

    console = _console()
    weeks = sorted(set(frame.get_column("week_start")))
    table = Table(title=f"weekly rates, {weeks[0]} .. {weeks[-1]}" if weeks else "weekly rates", title_justify="left")
    for column in ("rule", "shop", "agent", "trend", *[str(w)[5:] for w in weeks]):
        table.add_column(column)
    keys = frame.select("rule", "shop", "agent").unique(maintain_order=True).iter_rows()
    for rule_code, shop, agent in keys:
        mine = frame.filter((frame["rule"] == rule_code) & (frame["shop"] == shop) & ((frame["agent"] == agent) if agent is not None else frame["agent"].is_null()))
        by_week = dict(zip(mine.get_column("week_start"), mine.get_column("value"), strict=True))
        values = [by_week.get(w) for w in weeks]
        table.add_row(
            Text(rule_code), Text(shop), Text(agent or "(shop total)"), Text(sparkline(values)),
            *(Text("-" if v is None else f"{v * 100:.0f}%" if v <= 1 else f"{v:.0f}") for v in values),
        )
    console.print(table)


@app.command()
def generate(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write (.csv, .jsonl, optionally .gz).")],
    rows: Annotated[int, typer.Option("--rows", help="About how many events to write.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same file.")] = 7,
    start: Annotated[str, typer.Option("--start", help="First day (YYYY-MM-DD).")] = "2026-11-22",
    days: Annotated[int, typer.Option("--days", help="Number of days.")] = 1,
    shop: Annotated[Optional[str], typer.Option("--shop", help="Shop name (default: 示例旗舰店, or the platform's).")] = None,
    headers: Annotated[Optional[str], typer.Option("--headers", help="en (canonical) or zh (Chinese export headers).")] = None,
    agents: Annotated[Optional[int], typer.Option("--agents", help="Number of agents (default 4).")] = None,
    platform: Annotated[Optional[str], typer.Option("--platform", help="Look like this platform's export: headers, agent accounts, sessions, robot, topics.")] = None,
    variety: Annotated[float, typer.Option("--variety", help="Share of texts made one of a kind (order numbers, products, amounts, typos), 0..1.")] = 0.0,
    risky_rate: Annotated[float, typer.Option("--risky-rate", help="Share of agent replies with phrases text rules flag.")] = 0.002,
) -> None:
    """Write a seeded, realistic chat export (samples, tests and benchmarks)."""
    from cservice_audit.generate import DEFAULT_AGENTS, FLAVOURS, Profile, agent_names, generate_events, write_export

    first = _day(start, "--start")
    assert first is not None
    if platform is not None and platform not in FLAVOURS:
        raise AuditError(f"--platform: one of {', '.join(FLAVOURS)}, not {platform!r}")
    flavour = FLAVOURS.get(platform) if platform else None
    headers = headers or (flavour.headers if flavour else "en")
    if headers not in ("en", "zh"):
        raise AuditError("--headers: en or zh")
    if not 0 <= risky_rate <= 1:
        raise AuditError("--risky-rate: between 0 and 1")
    base = flavour.agents if flavour else DEFAULT_AGENTS
    extra = {}
    if flavour:
        extra = {"conversation_ids": flavour.conversation_ids, "bot_rate": flavour.bot_rate, "topic_weights": flavour.topic_weights}
    profile = Profile(
        rows=rows, seed=seed, start=first, days=days, shop=shop or (flavour.shop if flavour else "示例旗舰店"),
        agents=agent_names(agents, base) if agents is not None else base, variety=variety, risky_rate=risky_rate, **extra,
    )  # fmt: skip
    frame = generate_events(profile)
    write_export(frame, output, headers=headers)
    _stderr.print(f"wrote {frame.height} events to {output}", markup=False)


def main() -> None:
    """Entry point: the one place that exits.

    An AuditError raised anywhere, and any usage error (bad option, missing argument), is
    one line on stderr and exit 2 (spec §10), not a boxed usage screen.
    """
    try:
        code = app(standalone_mode=False)
    except AuditError as exc:
        _fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - only click's usage errors are handled here
        # Typer raises its (vendored) click's ClickException; recognised by its interface so
        # this works with either click.
        if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
            raise
        if type(exc).__name__ == "NoArgsIsHelpError":
            _stderr.print(exc.format_message(), markup=False, highlight=False)
            sys.exit(exitcodes.CANNOT_RUN)
        _fail(f"{exc.format_message()} (see cservice-audit --help)")
    sys.exit(code if isinstance(code, int) else exitcodes.CLEAN)


def _fail(message: str) -> None:
    _stderr.print(f"cservice-audit: error: {message}", markup=False, soft_wrap=True, highlight=False)
    sys.exit(exitcodes.CANNOT_RUN)
