"""The command line: parse options, run the audit, render, exit. The only place that exits.

stdout carries the payload only; progress and diagnostics go to stderr (spec §10).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from datetime import date, datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from cservice_audit import __version__, exitcodes
from cservice_audit.errors import STOP_SIGNAL, AuditError, Stopped, os_reason, raise_stopped
from cservice_audit.files import atomic_write
from cservice_audit.i18n import LANGS, Term, catalogue, default_lang, listed, read_back, t
from cservice_audit.sanitize import data_on_terminal, one_line
from cservice_audit.schema import SEVERITY_RANK

if TYPE_CHECKING:
    from cservice_audit.config import Config

app = typer.Typer(
    name="cservice-audit",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
_stderr = Console(stderr=True, highlight=False)
# Inputs at least this large get a progress display on an interactive stderr.
PROGRESS_BYTES = 20 * 1024 * 1024
# The last year a day can be judged in: periods reach a year beyond it without leaving the calendar.
LATEST_YEAR = 9990


class Format(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    markdown = "markdown"
    xlsx = "xlsx"
    html = "html"
    digest = "digest"


class CsvTable(str, Enum):
    findings = "findings"
    metrics = "metrics"


class ListingFormat(str, Enum):
    """What `rules`, `history` and `trend` can print (their --help lists only these)."""

    table = "table"
    json = "json"
    csv = "csv"


class RulesFormat(str, Enum):
    """What `rules` and `check-text` can print (their --help lists only these)."""

    table = "table"
    json = "json"


# `rules` shows this many items of a phrase or keyword list, then how many more (-v: all).
FOLD_AFTER = 8


class Lang(str, Enum):
    zh = "zh"
    en = "en"


# The interface language of this process: `--lang` when given (read from argv before
# parsing, so --help and usage errors speak it too), else LC_ALL / LC_MESSAGES / LANG.
LANG = default_lang()


def _argv_lang(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--lang=") else argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else None
        if value in LANGS:
            return value
    return None


def _language(lang: "Lang | None", settings) -> str:
    """The language of a command that reads the config file: --lang, else the config's `lang`,
    else the locale. The config beats the locale: a locale is the machine's (cron runs with
    LANG=C), the config file is this shop's choice."""
    if lang:
        return lang.value
    return _choice(settings.get("lang"), Lang, "lang") if settings.get("lang") else LANG


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"cservice-audit {__version__}\n")
        raise typer.Exit(exitcodes.CLEAN)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_version)] = False,
) -> None:
    pass


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
        raise AuditError(t("error.date", LANG, option=option, value=value)) from None


def _audit_day(value: str | None, option: str) -> date | None:
    """A day to judge: inside the years a timestamp can have (a row before 2000 is rejected,
    spec §2), so the periods around it stay inside the calendar."""
    from cservice_audit.normalize import EARLIEST_YEAR

    day = _day(value, option)
    if day is not None and not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise AuditError("error.day_range", option=option, day=day, first=EARLIEST_YEAR, last=LATEST_YEAR)
    return day


def _codes(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [c.strip().upper() for v in values for c in v.split(",") if c.strip()]


def _load_ruleset(platform: str | None, ruleset_file: Path | None):
    from cservice_audit.ruleset import load_file, load_platform

    if ruleset_file is not None:
        return load_file(ruleset_file)
    if platform is None:
        raise AuditError(t("error.platform_needed", LANG))
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
    paths: Annotated[list[str], typer.Argument()],
    platform: Annotated[Optional[str], typer.Option("--platform", "-p")] = None,
    ruleset_file: Annotated[Optional[Path], typer.Option("--ruleset")] = None,
    on_date: Annotated[Optional[str], typer.Option("--date")] = None,
    since: Annotated[Optional[str], typer.Option("--since")] = None,
    until: Annotated[Optional[str], typer.Option("--until")] = None,
    fmt: Annotated[Optional[Format], typer.Option("--format", "-f")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o")] = None,
    fail_on: Annotated[Optional[Severity], typer.Option("--fail-on")] = None,
    exit_zero: Annotated[bool, typer.Option("--exit-zero")] = False,
    select: Annotated[Optional[list[str]], typer.Option("--select")] = None,
    ignore: Annotated[Optional[list[str]], typer.Option("--ignore")] = None,
    agent: Annotated[Optional[str], typer.Option("--agent")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    statistics: Annotated[bool, typer.Option("--statistics")] = False,
    encoding: Annotated[Optional[str], typer.Option("--encoding")] = None,
    input_tz: Annotated[Optional[str], typer.Option("--input-tz")] = None,
    mapping: Annotated[Optional[Path], typer.Option("--mapping")] = None,
    rejects: Annotated[Optional[Path], typer.Option("--rejects")] = None,
    reviews: Annotated[Optional[list[str]], typer.Option("--reviews")] = None,
    history: Annotated[Optional[Path], typer.Option("--history")] = None,
    no_history: Annotated[bool, typer.Option("--no-history")] = False,
    no_store: Annotated[bool, typer.Option("--no-store")] = False,
    baseline: Annotated[Optional[Path], typer.Option("--baseline")] = None,
    no_baseline: Annotated[bool, typer.Option("--no-baseline")] = False,
    sheet: Annotated[Optional[str], typer.Option("--sheet")] = None,
    profile: Annotated[Optional[str], typer.Option("--profile")] = None,
    limit: Annotated[Optional[list[str]], typer.Option("--limit")] = None,
    shop: Annotated[Optional[str], typer.Option("--shop")] = None,
    config: Annotated[Optional[Path], typer.Option("--config")] = None,
    items: Annotated[Optional[int], typer.Option("--items", min=0)] = None,
    items_csv: Annotated[Optional[Path], typer.Option("--items-csv")] = None,
    csv_table: Annotated[CsvTable, typer.Option("--table")] = CsvTable.findings,
    csv_bom: Annotated[Optional[bool], typer.Option("--csv-bom/--no-csv-bom")] = None,
    report_url: Annotated[Optional[str], typer.Option("--report-url")] = None,
    show_paths: Annotated[bool, typer.Option("--show-paths")] = False,
    summary: Annotated[bool, typer.Option("--summary")] = False,
    lang: Annotated[Optional[Lang], typer.Option("--lang")] = None,
) -> None:
    """Audit chat exports and report metrics and findings."""
    _apply_limits(limit)
    from cservice_audit.audit import AuditOptions, RejectedInput, first_rejected, run_audit, write_rejects
    from cservice_audit.config import load_config
    from cservice_audit.render import FORMATS, STREAMED
    from cservice_audit.render.digest import is_reader_note
    from cservice_audit.render.views import notes_shown

    settings = load_config(config)
    global LANG
    # The run's own errors (a wrong shop, a --date the export lacks, a bad option value) in
    # the config's language: main() prints them in LANG, and cron runs with LANG=C.
    language = LANG = _language(lang, settings)
    _apply_limits(limit, settings)
    platform, ruleset_file = _chosen_rules(platform, ruleset_file, settings)
    configured_format = Format(_choice(settings.get("format"), Format, "format")) if settings.get("format") else None
    # (--baseline is used as given; the config's may give way to the night's own report.)
    baseline = baseline or _caught_up_baseline(_path(settings.get("baseline")), _path(settings.get("output")), _audit_day(on_date, "--date"))
    # What named each output file, for an error about it: the flag, or the config's key.
    output_flag, rejects_flag = "-o" if output is not None else f"{one_line(settings.path)}: output", "--rejects" if rejects else f"{one_line(settings.path)}: rejects"
    # --no-store is a look (the README's morning line): it leaves the night's report alone as it
    # leaves the night's stored day; it prints, and -o writes where asked. Before, a look in the
    # file's format (-f json, or no -f in a pipe) replaced tonight's report, tomorrow's baseline.
    if output is None and not no_store and _writes_configured_output(fmt, configured_format, _path(settings.get("output")), baseline):
        output = _path(settings.get("output"))
    asked = fmt  # the --format flag, if any
    fmt = fmt or configured_format
    # `-o -` is stdout, as `-` is stdin: a spot-check with a cron config whose `output` is
    # tonight's report prints instead of replacing it (before, it wrote a file named "-").
    output = None if output is not None and str(output) == "-" else output
    # The night's rejected rows too: a look's (from whatever export it was given) replaced them.
    rejects = rejects or (None if no_store else _path(settings.get("rejects")))
    mapping = mapping or _path(settings.get("mapping"))
    profile = profile or settings.get("profile")
    encoding = encoding or settings.get("encoding")
    input_tz = input_tz or settings.get("input_tz")
    shop_config = str(settings.path) if shop is None and settings.get("shop") is not None else None
    shop = _shop_name(shop if shop is not None else settings.get("shop"))
    select = select or _listed(settings.get("select"))
    ignore = ignore or _listed(settings.get("ignore"))
    fail_on = fail_on or Severity(_choice(settings.get("fail_on", "error"), Severity, "fail_on"))
    items = items if items is not None else settings.get("items", 5)

    _refuse_writing_over_inputs(
        [*paths, *(reviews or ())], {output_flag: output, rejects_flag: rejects, "--items-csv": items_csv}, also=[mapping, ruleset_file, settings.path]
    )
    _require_output_folders({output: "file.report", rejects: "file.rejects", items_csv: "file.items_csv"})
    options = AuditOptions(
        date=_audit_day(on_date, "--date"),
        since=_audit_day(since, "--since"),
        until=_audit_day(until, "--until"),
        agent=agent,
        input_tz=_zone(input_tz),
        encoding=encoding,
        mapping=str(mapping) if mapping else None,
        reviews=tuple(reviews or ()),
        history=None if no_history else _history_root(history, settings),
        # --no-store: the history is read (the week's other days, last night's pending turns)
        # and left as it is: a morning look with another export must not replace the night's day.
        store=not no_store,
        # --no-baseline: every finding listed as new (the morning look at a night whose report
        # is the config's baseline); the file is still kept from anything but JSON (above).
        baseline=str(baseline) if baseline and not no_baseline else None,
        sheet=sheet,
        profile=profile,
        shop=shop,
        shop_config=shop_config,
        fail_on=fail_on.value,
    )
    if options.date and (options.since or options.until):
        raise AuditError(t("error.date_with_range", language))
    if options.since and options.until and options.since > options.until:
        raise AuditError(t("error.since_after_until", language, since=options.since, until=options.until))
    ruleset = _load_ruleset(platform, ruleset_file)
    _check_codes(ruleset, _codes(select), "--select")
    _check_codes(ruleset, _codes(ignore), "--ignore")
    ruleset = ruleset.selected(_codes(select), _codes(ignore))
    if not ruleset.rules:
        raise AuditError(t("error.nothing_selected", language))

    to_terminal = output is None and sys.stdout.isatty()
    chosen = fmt or (Format.table if to_terminal else Format.json)
    _check_output_options(chosen, output, csv_table, csv_bom, report_url)
    if summary and chosen not in (Format.table, Format.markdown):
        # Unasked, json is the format whenever stdout is not a terminal (a pipe, cron, -o file).
        if fmt is None:
            raise AuditError(t("error.summary_format_default", language))
        raise AuditError(t("error.summary_format", language, format=chosen.value))
    show_progress = not quiet and sys.stderr.isatty() and _input_bytes(paths) >= PROGRESS_BYTES
    generated_at = datetime.now(timezone.utc)
    try:
        if show_progress:
            with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=_stderr, transient=True) as bar:
                task = bar.add_task(t("progress.starting", language))

                def stage(key: str, **fields: str) -> None:
                    # A stage key of the catalogue; its fields (shop names) are data: made safe.
                    bar.update(task, description=t(key, language, **{k: one_line(v) for k, v in fields.items()}))

                result = run_audit(paths, ruleset, options, generated_at=generated_at, progress=stage)
        else:
            result = run_audit(paths, ruleset, options, generated_at=generated_at)
    except RejectedInput as stop:
        # The run stops (exit 2), but the rows that stopped it are what the user must read.
        if rejects is not None:
            try:
                write_rejects(stop.rejects, rejects)
            except AuditError as failed:  # said, but the stop's own reason stays the error
                _stderr.print(t("note.note", language, note=one_line(failed.localized(language))), markup=False, soft_wrap=True)
        raise

    later = _later_report_day(result, output, chosen, (_path(settings.get("output")), baseline))
    kept = None
    if later is not None:
        # An earlier night with the cron config (a missed night caught up, a look back): its
        # report is not written over the later one the next night compares with (it would
        # re-alert what that night knew), but beside it, named by its day, where
        # `notify --date` finds it: the caught-up night's own news still reaches the group.
        kept, output = output, night_report_path(output, result.as_of)
        _stderr.print(
            t("note.note", language, note=t("note.output_kept", language, file=one_line(kept.name), day=later, as_of=result.as_of, night_file=one_line(output.name))),
            markup=False,
            soft_wrap=True,
        )
    if result.input.rows_rejected and not quiet:
        _stderr.print(
            Term("note.rejected", n=result.input.rows_rejected, **first_rejected(result.rejects)).localized(language)
            + ("" if rejects else t("note.rejects_hint", language)),
            markup=False,
            soft_wrap=True,
        )
    if rejects is not None:
        write_rejects(result.rejects, rejects)
    if items_csv is not None:
        _write_items_csv(result, items_csv)
    if not quiet:
        for entry in result.input.files:
            if entry["rows_read"] == 0:
                _stderr.print(t("note.no_data_rows", language, file=one_line(entry["file"])), markup=False, soft_wrap=True)
    # A table or Markdown report on this terminal opens with the notes its reader must see
    # (views.reader_notes): not said twice on the same screen. -q leaves the routine notes
    # out, never those: they say the findings are not the whole night (a shop not audited).
    # A report caps them (views.NOTES_SHOWN): what it left out behind its pointer line is said here.
    report_on_screen = to_terminal and chosen in (Format.table, Format.markdown) and not statistics and not quiet
    on_report = notes_shown(sum(1 for note in result.notes if is_reader_note(note))) if report_on_screen else 0
    readers = 0
    for note in result.notes:
        if is_reader_note(note):
            readers += 1
            if readers <= on_report:
                continue
        elif quiet:
            continue
        _stderr.print(t("note.note", language, note=one_line(note.localized(language))), markup=False, soft_wrap=True)

    # --statistics goes to stdout; a report file (-o, or the config's `output`) is still
    # written as a report: statistics written over it broke the next night's baseline.
    if statistics and output is None:
        text = _statistics(result, language)
    else:
        color = to_terminal and chosen == Format.table and "NO_COLOR" not in os.environ
        width = _stderr.width if to_terminal else _piped_width()
        extra = _render_options(chosen, result, output, csv_table, csv_bom, report_url)
        # JSON and JSONL come in pieces, written as they come (json_report.render_chunks).
        text = STREAMED.get(chosen.value, FORMATS[chosen.value])(
            result, color=color, width=width, quiet=quiet, summary_only=summary, lang=language, show_paths=show_paths, items=items, **extra
        )
    if output is not None:
        # Beside the kept report, as privately as it (chat texts, buyers, agents): a kept
        # 0600 report had its earlier night written beside it readable by every local user.
        atomic_write(output, text, what="report", like=kept)
        if statistics:
            sys.stdout.write(_statistics(result, language))
            sys.stdout.flush()
        elif kept is not None and asked is None and sys.stdout.isatty():
            # A person looking back at an earlier day with the cron config: the file is for
            # the push, the table for them (as before the file was written beside).
            sys.stdout.write(FORMATS[Format.table.value](
                result, color="NO_COLOR" not in os.environ, width=_stderr.width, quiet=quiet, summary_only=summary,
                lang=language, show_paths=show_paths, items=items,
            ))  # fmt: skip
            sys.stdout.flush()
    else:
        data = chosen in (Format.json, Format.jsonl, Format.csv)
        try:
            for piece in [text] if isinstance(text, str) else text:
                sys.stdout.write(_data_out(piece) if data else piece)
            sys.stdout.flush()
        except OSError as exc:
            # A reader gone (`| head`, a consumer that died: EPIPE) or a full disk: the payload
            # did not arrive, so the run could not be done (exit 2), never Typer's silent exit 1
            # for EPIPE, which cron reads as "new findings", nor an internal error.
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second failure at exit
            except OSError:
                pass
            raise AuditError("error.write_file", path="<stdout>", what=Term("file.report"), reason=os_reason(exc)) from None

    # Only new findings set the exit status: known ones were alerted on before (spec §11).
    worst = SEVERITY_RANK[fail_on.value]
    new = result.findings.filter(result.findings["state"] == "new")
    failing = any(SEVERITY_RANK[s] <= worst for s in new.get_column("severity"))
    raise typer.Exit(exitcodes.FINDINGS if failing and not exit_zero else exitcodes.CLEAN)


def _refuse_writing_over_inputs(inputs: list[str], outputs: dict[str, Path | None], also: list[Path | str | None] = ()) -> None:
    """An output that is one of the run's inputs is exit 2 before anything is read: `-o` or
    `--rejects` naming the export replaced the chats with the report (a lost export); `also`,
    the run's other files read (--mapping, --ruleset, the config), likewise."""
    from cservice_audit.load import expand

    named = [(flag, path) for flag, path in outputs.items() if path is not None]
    for i, (flag, path) in enumerate(named):
        for other_flag, other in named[:i]:
            # Two outputs of one file (-o r.json --items-csv r.json): one replaced the other.
            if os.path.abspath(path) == os.path.abspath(other) or (path.exists() and other.exists() and os.path.samefile(path, other)):
                raise AuditError("error.outputs_same_file", flag=flag, other=other_flag, path=one_line(path))
    existing = [(flag, path) for flag, path in named if path.exists()]
    if not existing:
        return
    files = [(f, True) for f in expand(inputs) if f != "-"] + [(str(f), False) for f in also if f is not None]
    for flag, path in existing:
        for name, export in files:
            with contextlib.suppress(OSError):
                if os.path.samefile(path, name) and export:
                    raise AuditError("error.output_is_input", flag=flag, path=one_line(path))
                if os.path.samefile(path, name):
                    raise AuditError("error.output_is_read_file", flag=flag, path=one_line(path))


def _require_output_folders(outputs: dict[Path | None, str]) -> None:
    """An output whose folder is missing (or is a file) is exit 2 before the audit runs, with
    the error writing it would give: found only at the end, the night's day was already stored
    in the history when the report could not be written (newcomer hO), a half-done run."""
    import errno

    for path, what in outputs.items():
        if path is None or path.parent.is_dir():
            continue
        reason = errno.ENOTDIR if path.parent.exists() else errno.ENOENT
        raise AuditError("error.write_file", path=one_line(path), what=Term(what), reason=os_reason(OSError(reason, os.strerror(reason))))


def _data_out(text: str) -> str:
    """JSON or CSV for stdout: exact when piped, its control characters made visible when a
    person reads it on a terminal (a buyer named with a screen clear cleared the screen)."""
    return data_on_terminal(text) if sys.stdout.isatty() else text


def _apply_limits(pairs: list[str] | None, settings: Config | None = None) -> None:
    """--limit NAME=VALUE over $CSERVICE_AUDIT_LIMITS over the config's [limits] over the
    defaults (docs/limits.md): the same precedence as every other setting."""
    from cservice_audit import limits

    caps = settings.limits if settings is not None else {}
    if pairs or caps:
        base = limits.Limits().with_settings(caps, f"{one_line(settings.path)} [limits]") if caps else None  # neutral in both languages (c.toml: limits：… mixed colons)
        limits.activate(limits.from_environment(base).with_pairs(pairs or []))


def _check_output_options(chosen: Format, output: Path | None, csv_table, csv_bom, report_url) -> None:
    """Options that belong to one format, and the workbook's need for a file, checked before
    the audit runs."""
    if chosen == Format.xlsx and output is None:
        raise AuditError("error.xlsx_output")
    if chosen == Format.xlsx and output is not None and output.suffix.lower() != ".xlsx":
        raise AuditError("error.xlsx_suffix", name=output.name)
    if chosen != Format.csv and (csv_table != CsvTable.findings or csv_bom is not None):
        raise AuditError("error.csv_only")
    if report_url is not None and chosen != Format.digest:
        raise AuditError("error.digest_only")


def _render_options(chosen: Format, result, output: Path | None, csv_table, csv_bom, report_url) -> dict:
    if chosen == Format.csv:
        # A file gets the BOM Excel needs to read UTF-8; stdout none unless asked, since a
        # BOM at the start of a pipe trips up the next tool (docs/outputs.md).
        return {"table": csv_table.value, "bom": output is not None if csv_bom is None else csv_bom}
    if chosen == Format.digest:
        return {"report_url": report_url}
    if chosen == Format.html:
        return {"history_rows": _stored_history(result)}
    return {}


def _stored_history(result):
    """The stored day rows for the HTML trend lines (None without a history); read here so the
    renderer stays pure."""
    if not result.options.history:
        return None
    from cservice_audit.history import HistoryStore

    shops = sorted(set(result.metrics.get_column("shop")))
    return HistoryStore(result.options.history, result.ruleset.platform).read(shops=shops)


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _shop_name(value: str | None, *, flag: bool = True) -> str | None:
    """The shop a run is scoped to, from --shop or the config's `shop`, trimmed; a blank one
    is exit 2 in every command (an empty name would label an export as no shop at all). `flag`:
    the command has --shop to name in the message (`show` has not)."""
    if value is None:
        return None
    if not value.strip():
        raise AuditError("error.shop_name") if flag else AuditError("error.config_shop_name")
    return value.strip()


def _chosen_rules(platform: str | None, ruleset_file: Path | None, settings) -> tuple[str | None, Path | None]:
    """The rules a run uses: a flag (--platform or --ruleset) wins over the file, as every
    flag does; from the file, its `ruleset` over its `platform` (a ruleset file that extends
    the platform is the more specific). `audit` and `show` read a shop's rules alike."""
    if platform and not ruleset_file and settings.get("ruleset"):
        # Said, because it changes verdicts: a cron line with -p and a config naming a
        # ruleset ran the file's rules until 2026-12-06.
        note = t("note.platform_over_ruleset", LANG, platform=one_line(platform), ruleset=one_line(settings.get("ruleset")))
        _stderr.print(t("note.note", LANG, note=note), markup=False, soft_wrap=True)
    if platform or ruleset_file:
        return platform, ruleset_file
    return settings.get("platform"), _path(settings.get("ruleset"))


def _writes_configured_output(flag: "Format | None", configured: "Format | None", output: Path | None, baseline: Path | None) -> bool:
    """Whether this run writes the config's `output`. That file is the report in the config's
    `format`, and often tomorrow's baseline: a --format flag naming another format is a look
    at the results, printed (the supervisor's `-f table` wrote a table over tonight's JSON
    report, and the next night stopped on an unreadable baseline). A config naming no format
    leaves the format to the command line (`-f html` on the cron line writes the page), but
    never anything but JSON over the file it reads as the baseline. -o writes anywhere."""
    if output is None or flag is None:
        return True
    if configured is not None:
        return flag == configured
    return flag == Format.json or baseline is None or Path(output).resolve() != Path(baseline).resolve()


def _caught_up_baseline(baseline: Path | None, report: Path | None, night: date | None) -> Path | None:
    """The report to compare a night with: the baseline, unless it holds a later night and
    this night's own report is beside it (night_report_path: the night was caught up once
    already). That report knows what the night's first run found and pushed; compared with
    the later night, all of it was new again and a second catch-up pushed it twice."""
    if baseline is None or report is None or night is None or not baseline.is_file():
        return baseline
    beside = night_report_path(report, night)
    if not beside.is_file() or baseline.resolve() == beside.resolve():
        return baseline
    try:
        held, own = (_report_day(json.loads(path.read_text("utf-8"))) for path in (baseline, beside))
    except (OSError, ValueError):  # read again by the audit, which says what is wrong with it
        return baseline
    return beside if held is not None and held > night and own == night else baseline


def _later_report_day(result, output: Path | None, chosen: "Format", kept: tuple[Path | None, ...]):
    """The day of the later report this JSON report would replace, when `output` is a file
    the nightly runs keep (the config's `output`, the baseline, whether this run compares with
    it or not) and it holds a report of a later day than this run's: an earlier day audited
    with the cron config is then not written (None: write as asked). What the file holds is
    read, not what the run compared with: --no-baseline or another --baseline wrote over it."""
    if output is None or chosen != Format.json or result.as_of is None or not output.is_file():
        return None
    if output.resolve() not in {Path(path).resolve() for path in kept if path is not None}:
        return None
    try:
        day = _report_day(json.loads(output.read_text("utf-8")))
    except (OSError, ValueError):  # not a report: replaced, as before
        return None
    return day if day is not None and day > result.as_of else None


def _read_report(report: Path, language: str) -> dict:
    """A JSON report to push, or the one line saying why it cannot be."""
    from cservice_audit.render.digest import digest

    try:
        parsed = json.loads(report.read_text("utf-8"))
        # The shape check is the digest itself: a file it cannot be built from (a field
        # missing or of another type) is not a report of ours, said before any push.
        digest(parsed, lang=language)
    except OSError as exc:
        raise AuditError("error.report_unreadable", path=report, reason=os_reason(exc)) from None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        raise AuditError("error.not_report", path=report) from None
    if not isinstance(parsed.get("selection", {}), dict):  # read by --only-news; the digest does not need it
        raise AuditError("error.not_report", path=report)
    return parsed


def _nights_report(report: Path, parsed: dict, night: date, language: str) -> tuple[Path, dict]:
    """The report of `night` to push (`notify --date`): `report` itself, or the one the audit
    wrote beside it when `report` holds a later day (a missed night caught up after it:
    night_report_path); the later night's news reached the group on its own night, not again.
    Without such a file beside it, or with an older report or one of no day, the night's report
    is not where the push looks: the push cannot be done (exit 2). The missing file beside a
    later report exited 0 until 2026-12-07, and the README's cron line mails only on a failed
    push: the night's news reached nobody and nobody was told."""
    held = _report_day(parsed)
    if held is not None and held > night:
        beside = night_report_path(report, night)
        if not beside.is_file():
            raise AuditError("error.push_later_no_night", path=report, day=held, night=night, night_file=beside.name)
        report, parsed = beside, _read_report(beside, language)
        held = _report_day(parsed)
    if held is None:  # no day at all (as_of null): said so, not "the report of -"
        raise AuditError("error.push_no_day", path=report, night=night)
    if held != night:
        raise AuditError("error.push_other_day", path=report, day=held, night=night)
    return report, parsed


def night_report_path(report: Path, day: date) -> Path:
    """Where an earlier night's report goes when `report` holds a later one (audit) and where
    `notify --date` looks for it: beside it, its day before the suffix (shop-a.2026-11-20.json)."""
    return report.with_name(f"{report.stem}.{day.isoformat()}{report.suffix}")


def _report_day(report: dict) -> date | None:
    """The day a JSON report was judged as of (`as_of`), None when it has none (no rows) or is
    no report (not an object, no readable day)."""
    try:
        return date.fromisoformat(report["as_of"])
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def _listed(value: list[str] | str | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def _choice(value: str, enum: type[Enum], key: str) -> str:
    allowed = [member.value for member in enum]
    if value not in allowed:
        raise AuditError("error.config_choice", name=key, value=repr(value), known=listed(allowed))
    return value


def _history_root(flag: Path | None, settings) -> str | None:
    """The history folder in force: --history, else $CSERVICE_AUDIT_HOME, else the config
    file's `history`; none of them: no history (a one-off audit touches nothing, spec §11)."""
    if flag is not None:
        return str(flag)
    env = os.environ.get("CSERVICE_AUDIT_HOME")
    if env:
        return env
    return settings.get("history")


def _history_setup(platform: str | None, history: Path | None, config: Path | None, lang: "Lang | None"):
    """What `history` and `trend` need from the flags and the config file: the ruleset (from
    --platform, else the config's platform or ruleset), the history folder and the file's
    settings, with the config's limits and language in force (cron runs them with LANG=C too)."""
    from cservice_audit.config import load_config

    global LANG
    settings = load_config(config)
    LANG = _language(lang, settings)
    _apply_limits(None, settings)  # lock_wait, for a prune queued behind a nightly run
    platform = platform or settings.get("platform")
    ruleset_file = None if platform else _path(settings.get("ruleset"))
    if platform is None and ruleset_file is None:
        raise AuditError("error.platform_needed_history")
    ruleset = _load_ruleset(platform, ruleset_file)
    root = _history_root(history, settings)
    if root is None:
        raise AuditError("error.no_history_configured")
    return ruleset, Path(root), settings


def _check_codes(ruleset, codes: list[str] | None, option: str) -> None:
    """Every code or prefix given to --select/--ignore must match a rule (ruff does the same):
    a typo that silently selects or ignores nothing is a verdict about the wrong rules."""
    if not codes:
        return
    known = [rule.code for rule in ruleset.rules]
    unknown = [c for c in codes if not any(k == c or k.startswith(c) for k in known)]
    if unknown:
        raise AuditError(
            "error.unknown_codes", option=option, platform=ruleset.platform,
            # each list in the reader's language (，in Chinese), as every list of the tool
            codes={lang: t("list.sep", lang).join(one_line(c) for c in unknown) for lang in ("zh", "en")},
            known={lang: t("list.sep", lang).join(known) for lang in ("zh", "en")},
        )


def _write_items_csv(result, path: Path) -> None:
    """`--items-csv FILE`: the drill-down items (schema.ITEM_SCHEMA), times in the ruleset's zone."""
    from cservice_audit.render.items_view import items_frame
    from cservice_audit.spreadsheet import guard_formulas

    text = guard_formulas(items_frame(result)).write_csv(datetime_format="%Y-%m-%dT%H:%M:%S%:z")
    atomic_write(path, text, what="items CSV")


def _piped_width() -> int:
    """Piped output is as wide as $COLUMNS says (a report sized for a terminal or a mail),
    else 140 columns, so Chinese names stay whole."""
    try:
        return max(40, int(os.environ["COLUMNS"]))
    except (KeyError, ValueError):
        return 140


def _zone(name: str | None) -> str | None:
    if name is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise AuditError(t("error.input_tz", LANG, name=name)) from None
    return name


def _statistics(result, lang: str) -> str:
    counts = result.findings.group_by("code", "severity").len().sort("code", "severity")
    lines = [f"{n:>6}  {code:<10} {t(f'severity.{severity}', lang)}" for code, severity, n in counts.iter_rows()]
    lines.append(f"{result.findings.height:>6}  {t('statistics.total', lang)}")
    return "\n".join(lines) + "\n"


@app.command()
def show(
    conversation: Annotated[str, typer.Argument()],
    paths: Annotated[list[str], typer.Argument()],
    platform: Annotated[Optional[str], typer.Option("--platform", "-p")] = None,
    ruleset_file: Annotated[Optional[Path], typer.Option("--ruleset")] = None,
    input_tz: Annotated[Optional[str], typer.Option("--input-tz")] = None,
    encoding: Annotated[Optional[str], typer.Option("--encoding")] = None,
    mapping: Annotated[Optional[Path], typer.Option("--mapping")] = None,
    profile: Annotated[Optional[str], typer.Option("--profile")] = None,
    sheet: Annotated[Optional[str], typer.Option("--sheet")] = None,
    lang: Annotated[Optional[Lang], typer.Option("--lang")] = None,  # read by main() from argv
    config: Annotated[Optional[Path], typer.Option("--config")] = None,
) -> None:
    """Print one conversation as a transcript: each wait, the late ones, the rules it triggered."""
    from cservice_audit.audit import AuditOptions, run_audit
    from cservice_audit.config import load_config
    from cservice_audit.render.names import report_cuts
    from cservice_audit.show import conversation_findings, render

    # The shop's config reads its exports as the nightly audit does (rules, mapping, profile,
    # zone, language): the id comes from that audit's drill-down, the command beside it.
    settings = load_config(config)
    global LANG
    LANG = _language(lang, settings)
    _apply_limits(None, settings)
    platform, ruleset_file = _chosen_rules(platform, ruleset_file, settings)
    mapping = mapping or _path(settings.get("mapping"))
    options = AuditOptions(
        input_tz=_zone(input_tz or settings.get("input_tz")),
        encoding=encoding or settings.get("encoding"),
        mapping=str(mapping) if mapping else None,
        sheet=sheet,
        profile=profile or settings.get("profile"),
        conversation=conversation,
        # as the audit reads it: names an export without a shop column; another shop's is exit 2
        shop=_shop_name(settings.get("shop"), flag=False),
        shop_config=str(settings.path) if settings.get("shop") is not None else None,
    )
    ruleset = _load_ruleset(platform, ruleset_file)
    result = run_audit(paths, ruleset, options, generated_at=datetime.now(timezone.utc))
    assert result.transcript is not None
    shop = result.transcript.get_column("shop")[0]
    cut = report_cuts(result).get(shop, "")
    found = result.transcript.get_column("conversation")[0]  # the id itself, when given as printed (escaped)
    sys.stdout.write(render(result.transcript, conversation_findings(result.findings, found), ruleset, LANG, cut))


@app.command()
def rules(
    platform: Annotated[Optional[str], typer.Option("--platform", "-p")] = None,
    ruleset_file: Annotated[Optional[Path], typer.Option("--ruleset")] = None,
    fmt: Annotated[RulesFormat, typer.Option("--format", "-f")] = RulesFormat.table,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    lang: Annotated[Optional[Lang], typer.Option("--lang")] = None,  # read by main() from argv
    config: Annotated[Optional[Path], typer.Option("--config")] = None,
) -> None:
    """List the rules in effect: codes, checks, parameters, sources and confidence."""
    from cservice_audit.config import load_config
    from cservice_audit.rule_docs import ruleset_dict, ruleset_table

    # The shop's config, like check-text: beside it `rules` showed "give --platform" (in
    # English for a zh shop) instead of the shop's own ruleset.
    settings = load_config(config)
    global LANG
    LANG = _language(lang, settings)
    platform, ruleset_file = _chosen_rules(platform, ruleset_file, settings)
    ruleset = _load_ruleset(platform, ruleset_file)
    if fmt == RulesFormat.json:
        sys.stdout.write(_data_out(json.dumps(ruleset_dict(ruleset), ensure_ascii=False, indent=2) + "\n"))
    else:
        console = _console()
        fold = None if verbose else (FOLD_AFTER, lambda n: t("rules.folded", LANG, n=n))
        for renderable in ruleset_table(ruleset, fold=fold, lang=LANG):
            console.print(renderable)


@app.command()
def explain(
    code: Annotated[str, typer.Argument()],
    ruleset_file: Annotated[Optional[Path], typer.Option("--ruleset")] = None,
    lang: Annotated[Optional[Lang], typer.Option("--lang")] = None,  # read by main() from argv
    config: Annotated[Optional[Path], typer.Option("--config")] = None,
) -> None:
    """What one rule checks, why, its parameters and an example finding."""
    from cservice_audit.config import load_config
    from cservice_audit.rule_docs import explain_rule, find_rule

    # The shop's config's ruleset file and language: beside it `explain TB-R3` showed the
    # shipped rule (not the shop's threshold), in English for a zh shop.
    settings = load_config(config)
    global LANG
    LANG = _language(lang, settings)
    _, ruleset_file = _chosen_rules(None, ruleset_file, settings)  # explain searches every platform
    ruleset, rule = find_rule(code.strip().upper(), ruleset_file)
    sys.stdout.write(explain_rule(ruleset, rule, LANG))


@app.command("validate-ruleset")
def validate_ruleset(
    path: Annotated[Path, typer.Argument()],
    limit: Annotated[Optional[list[str]], typer.Option("--limit")] = None,
    lang: Annotated[Optional[Lang], typer.Option("--lang")] = None,  # read by main() from argv
) -> None:
    """Check a ruleset file: exit 0, or name the file and key that is wrong and exit 2."""
    from cservice_audit.check_text import allowed_added_phrases
    from cservice_audit.ruleset import load_read, read_file, replaced_lists

    _apply_limits(limit)

    data = read_file(path)  # once: the checks below look at what the file itself writes
    ruleset = load_read(path, data)
    for where, parent, left_out, written in replaced_lists(path, data):
        note = t("note.list_replaced", LANG, path=path, where=where, parent=parent, left_out=left_out, written=written, name=where.rsplit(".", 1)[-1])
        _stderr.print(one_line(t("note.note", LANG, note=note)), markup=False, soft_wrap=True)
    for code, param, phrase, allowed in allowed_added_phrases(data, ruleset):
        note = t("note.added_phrase_allowed", LANG, path=path, code=code, param=param, phrase=phrase, allowed=t("list.sep", LANG).join(allowed))
        _stderr.print(one_line(t("note.note", LANG, note=note)), markup=False, soft_wrap=True)
    _stderr.print(
        one_line(t("note.ruleset_ok", LANG, path=path, platform=ruleset.platform, version=ruleset.version, n=len(ruleset.rules), codes=t("list.sep", LANG).join(r.code for r in ruleset.rules))),
        markup=False,
        soft_wrap=True,
    )


@app.command("check-text")
def check_text_command(
    text: Annotated[str, typer.Argument()],
    platform: Annotated[Optional[str], typer.Option("--platform", "-p")] = None,
    ruleset_file: Annotated[Optional[Path], typer.Option("--ruleset")] = None,
    fmt: Annotated[RulesFormat, typer.Option("--format", "-f")] = RulesFormat.table,
    lang: Annotated[Optional[Lang], typer.Option("--lang")] = None,  # read by main() from argv
    config: Annotated[Optional[Path], typer.Option("--config")] = None,
) -> None:
    """What every phrase rule of a platform makes of one message, and why (exit 1 if one fires)."""
    from cservice_audit.check_text import check_text, render
    from cservice_audit.config import load_config

    # The shop's config: its platform or ruleset file (the lists it tunes) and its language.
    settings = load_config(config)
    global LANG
    LANG = _language(lang, settings)
    platform, ruleset_file = _chosen_rules(platform, ruleset_file, settings)
    ruleset = _load_ruleset(platform, ruleset_file)
    result = check_text(text, ruleset)
    if fmt == RulesFormat.json:
        sys.stdout.write(_data_out(json.dumps(result, ensure_ascii=False, indent=2) + "\n"))
    elif ruleset_file is None:
        sys.stdout.write(render(result, LANG))
    else:
        from cservice_audit.ruleset import written_codes

        # How to change a verdict depends on the file: an entry it has is added to, and a file
        # that extends nothing has no `_add` (pasting the entry made either one invalid).
        sys.stdout.write(render(result, LANG, str(ruleset_file), written_codes(ruleset_file), alone=ruleset.extends is None))
    # Like `audit`: 1 when something would be a finding, so scripts can test messages.
    raise typer.Exit(exitcodes.FINDINGS if any(r["hit"] for r in result["rules"]) else exitcodes.CLEAN)


@app.command("history")
def history_command(
    platform: Annotated[Optional[str], typer.Option("--platform", "-p")] = None,
    history: Annotated[Optional[Path], typer.Option("--history")] = None,
    prune_before: Annotated[Optional[str], typer.Option("--prune-before")] = None,
    config: Annotated[Optional[Path], typer.Option("--config")] = None,
    fmt: Annotated[ListingFormat, typer.Option("--format", "-f")] = ListingFormat.table,
    lang: Annotated[Optional[Lang], typer.Option("--lang")] = None,  # read by main() from argv
) -> None:
    """List what the history holds (shop, day, rows, ruleset version), or prune old days."""
    from cservice_audit.history import HistoryStore

    ruleset, folder, _ = _history_setup(platform, history, config, lang)
    store = HistoryStore(folder, ruleset.platform)
    if prune_before is not None:
        cutoff = _day(prune_before, "--prune-before")
        with store.locked():
            removed = store.prune(cutoff)
        _stderr.print(t("note.pruned", LANG, n=removed, cutoff=cutoff, folder=one_line(store.folder)), markup=False)
        return
    listing = store.listing()
    if fmt == ListingFormat.table:
        listing = _listing_for_people(listing, ruleset.timezone)
        title = t("history.title", LANG, folder=one_line(store.folder), zone=ruleset.timezone)
    else:
        title = ""
    _print_frame(listing, fmt, title=title)


def _listing_for_people(listing, zone: str):
    """The history listing with its write times in the ruleset's zone and headers in the
    reader's language; machine formats keep UTC ISO times and the fixed column names."""
    import polars as pl

    written = pl.col("written_at").str.to_datetime(time_zone="UTC", strict=False).dt.convert_time_zone(zone)
    return listing.with_columns(written.dt.strftime("%Y-%m-%d %H:%M:%S").alias("written_at")).rename(
        {
            "shop": t("col.shop", LANG),
            "day": t("history.col.day", LANG),
            "chat_rows": t("history.col.chat_rows", LANG),
            "rows": t("history.col.rows", LANG),
            "ruleset_version": t("history.col.version", LANG),
            "written_at": t("history.col.written", LANG),
        }
    )


@app.command()
def trend(
    platform: Annotated[Optional[str], typer.Option("--platform", "-p")] = None,
    history: Annotated[Optional[Path], typer.Option("--history")] = None,
    weeks: Annotated[int, typer.Option("--weeks")] = 8,
    rule: Annotated[Optional[str], typer.Option("--rule")] = None,
    agent: Annotated[Optional[str], typer.Option("--agent")] = None,
    shop: Annotated[Optional[str], typer.Option("--shop")] = None,
    fmt: Annotated[ListingFormat, typer.Option("--format", "-f")] = ListingFormat.table,
    lang: Annotated[Optional[Lang], typer.Option("--lang")] = None,  # read by main() from argv
    config: Annotated[Optional[Path], typer.Option("--config")] = None,
) -> None:
    """Per-agent and per-shop rates week by week, from the history."""
    import polars as pl

    from cservice_audit.history import HistoryStore
    from cservice_audit.trend import weekly

    ruleset, folder, settings = _history_setup(platform, history, config, lang)
    # A shop's config is that shop's trend (spec §11: stored days of other shops are not
    # reported); a history shared by two shops showed both beside one shop's config.
    shop = _shop_name(shop if shop is not None else settings.get("shop"))
    if weeks < 1:
        raise AuditError(t("error.weeks", LANG, weeks=weeks))
    code = rule.strip().upper() if rule else None
    codes = [r.code for r in ruleset.rules if r.check != "data_quality"]
    if code is not None and code not in codes:
        raise AuditError(t("error.unknown_rule", LANG, rule=one_line(rule), platform=ruleset.platform, known=t("list.sep", LANG).join(codes)))
    store = HistoryStore(folder, ruleset.platform)
    stored = store.read()
    if stored is None:
        raise AuditError(t("error.no_history", LANG, folder=one_line(store.folder), platform=ruleset.platform))
    if shop is not None:
        shops = sorted(stored.select("shop").unique().collect().get_column("shop").drop_nulls())
        if shop not in shops:
            raise AuditError(t("error.trend_shop", LANG, shop=one_line(shop), platform=ruleset.platform, known=one_line(t("list.sep", LANG).join(shops))))
        stored = stored.filter(pl.col("shop") == shop)
    # Every (shop, agent) the history holds: --agent is resolved among them, and the table cuts
    # a sub-account's prefix over them all, as the reports cut over the whole shop (not over
    # the rows --agent or --rule leave: 店:客服07 and a plain 客服07 would both read 客服07).
    pairs = list(stored.select("shop", "agent").unique().collect().iter_rows())
    if agent is not None:
        from cservice_audit.audit import agents_named

        named = agents_named(agent, pairs)
        if len(named) > 1:
            raise AuditError(t("error.agent_ambiguous", LANG, agent=one_line(agent), names=one_line(t("list.sep", LANG).join(named))))
        if not named:
            from cservice_audit.i18n import sentinel_name
            from cservice_audit.render.names import in_shop, shop_cuts

            # The names as the trend table shows them (小周, （未分配）), not the stored keys
            # (天猫乙店:小周, (unassigned)): what the supervisor can type back.
            cuts = shop_cuts(pairs)
            agents = sorted({sentinel_name(a, LANG) or in_shop(a, cuts.get(s, "")) for s, a in pairs if a is not None})
            raise AuditError(t("error.unknown_agent", LANG, agent=one_line(agent), platform=ruleset.platform, known=one_line(t("list.sep", LANG).join(agents))))
        agent = named[0]
    table = weekly(stored, ruleset, weeks=weeks, rule=code, agent=agent)
    if fmt == ListingFormat.table:
        from cservice_audit.render.names import shop_cuts

        _print_trend(table, ruleset, shop_cuts(pairs))
    else:
        _print_frame(table, fmt, title="")


def _print_frame(frame, fmt: ListingFormat, title: str) -> None:
    if fmt == ListingFormat.json:
        rows = [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in frame.iter_rows(named=True)]
        sys.stdout.write(_data_out(json.dumps(rows, ensure_ascii=False, indent=2) + "\n"))
    elif fmt == ListingFormat.csv:
        from cservice_audit.spreadsheet import guard_formulas

        sys.stdout.write(_data_out(guard_formulas(frame).write_csv()))
    else:
        from rich.text import Text

        table = Table(title=one_line(title), title_justify="left")
        for column, dtype in frame.schema.items():
            table.add_column(column, justify="right" if dtype.is_numeric() else "left")  # counts line up
        for row in frame.iter_rows():
            table.add_row(*(Text("-" if v is None else one_line(v)) for v in row))
        _console().print(table)


def _console() -> Console:
    """The terminal's (or $COLUMNS') width; 140 columns when piped without COLUMNS, so Chinese
    names stay whole."""
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(no_color="NO_COLOR" in os.environ, width=140 if piped else None)


def _trend_value(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "rate":
        return f"{value * 100:.0f}%"
    if kind == "seconds":
        return f"{value:.0f}s"
    return f"{value:g}"


def _print_trend(frame, ruleset, cuts: dict) -> None:
    """Rows of rule × shop × agent, a sparkline on a fixed scale, one column per week; a
    value that misses the rule's threshold is marked ✗ (and red), the week in progress *.
    The shop has its own column: a sub-account goes without its prefix, as `cuts` says."""
    from rich.text import Text

    from cservice_audit.render.names import in_shop
    from cservice_audit.render.views import threshold_text, who
    from cservice_audit.trend import BARS, scale_top, sparkline, week_label

    console = _console()
    if frame.is_empty():
        console.print(t("trend.empty", LANG))
        return
    weeks = sorted(set(frame.get_column("week_start")))
    partial = dict(frame.select("week_start", "partial").unique().iter_rows())
    rules = {r.code: r for r in ruleset.rules}
    # The days the weeks cover (Monday of the first to Sunday of the last): "11-23 .. 11-23"
    # read as one day.
    last_day = weeks[-1] + timedelta(days=6)
    table = Table(title=t("trend.title", LANG, first=weeks[0], last=last_day), title_justify="left")
    for column in (t("col.rule", LANG), t("col.shop", LANG), t("col.agent", LANG), t("col.threshold", LANG), t("col.trend", LANG)):
        table.add_column(column)
    for w in weeks:
        table.add_column(week_label(w, partial.get(w, False)), justify="right")
    for (rule_code, shop, agent), mine in frame.group_by("rule", "shop", "agent", maintain_order=True):
        by_week = {row["week_start"]: row for row in mine.iter_rows(named=True)}
        first = mine.row(0, named=True)
        values = [by_week[w]["value"] if w in by_week else None for w in weeks]
        if all(v is None for v in values):
            continue  # nothing to show: the unassigned turns have no wait to average
        misses = [bool(by_week[w]["miss"]) if w in by_week else False for w in weeks]
        top = scale_top(first["kind"], values, first["threshold"])
        bars = Text()
        for bar, miss in zip(sparkline(values, top), misses, strict=True):
            bars.append(bar, style="red" if miss else "green" if bar in BARS else "")
        limit = threshold_text(rules[rule_code], first["threshold"], LANG) if first["threshold"] is not None else "-"
        table.add_row(
            Text(rule_code), Text(one_line(shop)), Text(who(in_shop(agent, cuts.get(shop, "")), first["scope"], LANG)), Text(limit), bars,
            *(Text(_trend_value(v, first["kind"]) + (" ✗" if miss else ""), style="red" if miss else "") for v, miss in zip(values, misses, strict=True)),
        )
    console.print(table)
    notes = [t("trend.scale", LANG), t("trend.miss", LANG)]
    last = weeks[-1]
    if partial.get(last):
        days = frame.filter(frame["week_start"] == last).get_column("coverage").max()
        notes.append(t("trend.partial", LANG, week=last, days=days))
    console.print(Text("\n".join(notes), style="dim"))


@app.command()
def notify(
    report: Annotated[Optional[Path], typer.Argument()] = None,
    wecom: Annotated[Optional[str], typer.Option("--wecom")] = None,
    dingtalk: Annotated[Optional[str], typer.Option("--dingtalk")] = None,
    feishu: Annotated[Optional[str], typer.Option("--feishu")] = None,
    secret: Annotated[Optional[str], typer.Option("--secret", envvar="CSERVICE_AUDIT_NOTIFY_SECRET", show_envvar=False)] = None,
    report_url: Annotated[Optional[str], typer.Option("--report-url")] = None,
    timeout: Annotated[Optional[float], typer.Option("--timeout", min=0.1)] = None,
    only_news: Annotated[bool, typer.Option("--only-news")] = False,
    fail_on: Annotated[Optional[Severity], typer.Option("--fail-on")] = None,
    on_date: Annotated[Optional[str], typer.Option("--date")] = None,
    config: Annotated[Optional[Path], typer.Option("--config")] = None,
    lang: Annotated[Optional[Lang], typer.Option("--lang")] = None,  # read by main() from argv
) -> None:
    """Push a short digest of a JSON report to a WeCom, DingTalk or Feishu group bot."""
    from cservice_audit.config import load_config
    from cservice_audit.notify import notify as push
    from cservice_audit.notify import target
    from cservice_audit.render.digest import worth_pushing

    settings = load_config(config)
    global LANG
    language = LANG = _language(lang, settings)  # its errors too (see audit)
    given = settings.notify
    if not (wecom or dingtalk or feishu):
        # The bot comes from the flags, or else the config file's [notify] table; never a mix.
        wecom, dingtalk, feishu = given.get("wecom"), given.get("dingtalk"), given.get("feishu")
    secret = secret or given.get("secret")
    report_url = report_url or given.get("report_url") or settings.get("report_url")
    timeout = timeout or float(given.get("timeout", 10.0))
    report = report or _path(settings.get("output"))
    if report is None:
        raise AuditError("error.push_report")
    if fail_on is not None and not only_news:
        raise AuditError("error.fail_on_needs_only_news")
    night = _audit_day(on_date, "--date")
    target(wecom=wecom, dingtalk=dingtalk, feishu=feishu, secret=secret)  # a quiet night says a wrong bot too

    parsed = _read_report(report, language)
    if night is not None:
        report, parsed = _nights_report(report, parsed, night, language)
    if only_news:
        # The same bar as the audit's exit status: the report's own (schema 2.3, the audit's
        # --fail-on or config), else the config's fail_on; plus the notes that doubt the night.
        reported = parsed.get("selection", {}).get("fail_on")
        if fail_on is None and reported is not None and reported not in tuple(s.value for s in Severity):
            # A hand-edited report: said of the report, not of a config that never held it.
            raise AuditError("error.report_choice", path=report, name="selection.fail_on", value=repr(reported), known=listed(s.value for s in Severity))
        fail_on = fail_on or Severity(reported or _choice(settings.get("fail_on", "error"), Severity, "fail_on"))
        if not worth_pushing(parsed, fail_on.value):
            _stderr.print(t("note.not_pushed", language, report=one_line(report.name), fail_on=t(f"severity.{fail_on.value}", language)), markup=False, soft_wrap=True)
            return
    platform = push(parsed, wecom=wecom, dingtalk=dingtalk, feishu=feishu, secret=secret, report_url=report_url, timeout=timeout, lang=language)
    _stderr.print(t("note.pushed", language, report=one_line(report.name), platform=t(f"bot.{platform}", language)), markup=False, soft_wrap=True)


@app.command()
def generate(
    output: Annotated[Path, typer.Option("--output", "-o")],
    rows: Annotated[int, typer.Option("--rows")] = 2000,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    start: Annotated[str, typer.Option("--start")] = "2026-11-22",
    days: Annotated[int, typer.Option("--days")] = 1,
    shop: Annotated[Optional[str], typer.Option("--shop")] = None,
    headers: Annotated[Optional[str], typer.Option("--headers")] = None,
    agents: Annotated[Optional[int], typer.Option("--agents")] = None,
    platform: Annotated[Optional[str], typer.Option("--platform", "-p")] = None,
    variety: Annotated[float, typer.Option("--variety")] = 0.0,
    risky_rate: Annotated[float, typer.Option("--risky-rate")] = 0.002,
) -> None:
    """Write a seeded, realistic chat export (samples, tests and benchmarks)."""
    from cservice_audit.generate import DEFAULT_AGENTS, FLAVOURS, Profile, agent_names, generate_events, write_export

    first = _day(start, "--start")
    assert first is not None
    if platform is not None and platform not in FLAVOURS:
        raise AuditError("error.generate_platform", known=listed(FLAVOURS), value=repr(platform))
    flavour = FLAVOURS.get(platform) if platform else None
    headers = headers or (flavour.headers if flavour else "en")
    if headers not in ("en", "zh"):
        raise AuditError(t("error.headers", LANG))
    if not 0 <= risky_rate <= 1:
        raise AuditError("error.risky_rate")
    base = flavour.agents if flavour else DEFAULT_AGENTS
    if flavour and shop and shop.strip():
        # Taobao sub-accounts are `shop:name`: they name the shop the file is for, not the sample's.
        base = tuple(f"{shop.strip()}:{a.removeprefix(flavour.shop + ':')}" if a.startswith(flavour.shop + ":") else a for a in base)
    extra = {}
    if flavour:
        extra = {"conversation_ids": flavour.conversation_ids, "bot_rate": flavour.bot_rate, "topic_weights": flavour.topic_weights,
                 "habits": flavour.habits, "opens": flavour.opens, "buyer_gap": flavour.buyer_gap}
    profile = Profile(
        rows=rows, seed=seed, start=first, days=days, shop=shop or (flavour.shop if flavour else "示例旗舰店"),
        agents=agent_names(agents, base) if agents is not None else base, variety=variety, risky_rate=risky_rate, **extra,
    )  # fmt: skip
    frame = generate_events(profile)
    write_export(frame, output, headers=headers)
    _stderr.print(t("note.generated", LANG, n=frame.height, file=output), markup=False)


# Help texts of commands and options come from the catalogue only (key: help.<command>.<option>
# or help.<option>, by the option's Python name; commands: help.<command>), so --help reads in
# the interface language; tests/test_i18n.py holds every option to having one.
_HELP_KEYS = {
    "audit": "help.audit", "rules": "help.rules", "explain": "help.explain",
    "validate-ruleset": "help.validate", "history": "help.history_cmd", "trend": "help.trend",
    "generate": "help.generate", "show": "help.show", "check-text": "help.check-text", "notify": "help.notify",
}  # fmt: skip
_OPTION_KEYS = {
    "paths": "help.paths", "platform": "help.platform", "ruleset_file": "help.ruleset", "on_date": "help.date",
    "since": "help.since", "until": "help.until", "output": "help.output", "fail_on": "help.fail_on",
    "exit_zero": "help.exit_zero", "select": "help.select", "ignore": "help.ignore", "agent": "help.agent",
    "quiet": "help.quiet", "statistics": "help.statistics", "encoding": "help.encoding", "input_tz": "help.input_tz",
    "mapping": "help.mapping", "rejects": "help.rejects", "reviews": "help.reviews", "history": "help.history",
    "no_history": "help.no_history", "no_store": "help.no_store", "baseline": "help.baseline", "no_baseline": "help.no_baseline", "sheet": "help.sheet", "profile": "help.profile",
    "code": "help.code", "prune_before": "help.prune_before", "weeks": "help.weeks",
}  # fmt: skip
# Commands whose options mean what _OPTION_KEYS says (generate's --output, explain's --ruleset
# mean other things and have their own keys, or keep their English text).
_SHARED_OPTIONS = ("audit", "rules", "history", "trend", "show", "check-text", "explain", "validate-ruleset", "notify", "generate")
_COMMAND_OPTION_KEYS = {
    ("explain", "code"): "help.code", ("explain", "ruleset_file"): "help.explain_ruleset",
    ("validate-ruleset", "path"): "help.validate_path",
    ("audit", "fmt"): "help.format", ("history", "platform"): "help.history_platform",
    ("trend", "platform"): "help.history_platform", ("trend", "rule"): "help.trend_rule",
    ("trend", "agent"): "help.trend_agent", ("trend", "shop"): "help.trend_shop", ("rules", "fmt"): "help.rules_format",
    ("history", "fmt"): "help.listing_format", ("trend", "fmt"): "help.listing_format",
}  # fmt: skip


def _help_key(command: str, param: str) -> str | None:
    """The catalogue key of an option's help: help.<command>.<option>, else the command's
    own key, else the shared help.<option> (by _OPTION_KEYS or the option's name)."""
    for key in (f"help.{command}.{param}", _COMMAND_OPTION_KEYS.get((command, param)), _OPTION_KEYS.get(param), f"help.{param}"):
        if key and key in catalogue():
            return key
    return None


def _localize_frame(command, lang: str) -> None:
    """Typer's own words of a --help screen in `lang`: the panel titles, [required], and the
    --help option's text (created lazily by click, so set as it is made). Where a Typer
    version lacks one of these, it keeps its English ("Usage:" always does)."""
    import typer.rich_utils as rich_utils

    for name, key in (("ARGUMENTS_PANEL_TITLE", "help.panel_arguments"), ("OPTIONS_PANEL_TITLE", "help.panel_options"),
                      ("COMMANDS_PANEL_TITLE", "help.panel_commands"), ("REQUIRED_LONG_STRING", "help.required"),
                      ("DEFAULT_STRING", "help.default"), ("ENVVAR_STRING", "help.envvar")):
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, t(key, lang))
    made_text = getattr(rich_utils, "_make_rich_text", None)
    if made_text is not None and not getattr(made_text, "folds", False):
        # Rich breaks lines at spaces only and its table cells cut a longer run with "…": a
        # Chinese help sentence has no spaces, so on an 80-column terminal most of it was cut
        # away. Folded at the edge instead, it is read whole (so is a long English path).
        def folding(*args, **kwargs):
            text = made_text(*args, **kwargs)
            if hasattr(text, "overflow"):
                text.overflow = "fold"
            return text

        folding.folds = True
        rich_utils._make_rich_text = folding
    for each in (command, *getattr(command, "commands", {}).values()):
        made = each.get_help_option

        def localized(ctx, made=made):
            option = made(ctx)
            if option is not None:
                option.help = t("help.help", lang)
            return option

        each.get_help_option = localized


def _localized_command(lang: str):
    """The click command of `app` with its help texts in `lang`."""
    from typer.main import get_command

    command = get_command(app)
    command.help = t("help.app", lang)
    for param in command.params:  # --version
        param.help = t(_help_key("", param.name) or "help.version", lang)
    _localize_frame(command, lang)
    for name, sub in getattr(command, "commands", {}).items():
        if name in _HELP_KEYS:
            sub.help = t(_HELP_KEYS[name], lang)
        for param in sub.params:
            key = _help_key(name, param.name)
            if key and hasattr(param, "help"):
                param.help = t(key, lang)
    return command


def main() -> None:
    """Entry point: the one place that exits.

    An AuditError raised anywhere, and any usage error (bad option, missing argument), is
    one line on stderr and exit 2 (spec §10), not a boxed usage screen. Anything else (a bug,
    a library panic) is also exit 2, never 1, which cron reads as "new findings": one line
    with the path of a crash log that holds the traceback (`--debug` prints it instead).
    """
    debug = "--debug" in sys.argv[1:] or os.environ.get("CSERVICE_AUDIT_DEBUG") == "1"
    if "--debug" in sys.argv[1:]:
        sys.argv.remove("--debug")
    global LANG
    LANG = _argv_lang(sys.argv[1:]) or default_lang()
    on_main_thread = threading.current_thread() is threading.main_thread()  # signals go to the main thread only
    stops = (signal.SIGTERM, signal.SIGINT)
    previous = {signum: signal.signal(signum, raise_stopped) for signum in stops} if on_main_thread else {}
    # A stop raised inside a callback is "ignored" by Python with a traceback on stderr; it is
    # reported below as the one line instead (errors.STOP_SIGNAL).
    unraisable = sys.unraisablehook
    sys.unraisablehook = lambda hook: None if isinstance(hook.exc_value, Stopped) else unraisable(hook)
    try:
        from cservice_audit import limits

        limits.activate(limits.from_environment())  # a bad $CSERVICE_AUDIT_LIMITS is exit 2 too
        code = _localized_command(LANG)(standalone_mode=False)
    except AuditError as exc:
        if STOP_SIGNAL:  # the stop's exception was swallowed in a callback, and this followed
            _fail_stopped(STOP_SIGNAL[0])
        # A config file's error in the file's own language, unless --lang says otherwise.
        LANG = _argv_lang(sys.argv[1:]) or getattr(exc, "lang", None) or LANG
        _fail(exc.localized(LANG))
    except Stopped as exc:
        # SIGTERM and Ctrl-C: the run could not be done (exit 2, spec §10); its temporary
        # files are gone by now (errors.Stopped).
        _fail_stopped(exc.signum)
    except (SystemExit, KeyboardInterrupt) as exc:
        if isinstance(exc, KeyboardInterrupt):
            _fail(t("error.interrupted", LANG))
        if type(sys.stdout).__name__ == "PacifyFlushWrapper":
            # Typer's answer to a reader gone (`show … | head`, EPIPE): stdout wrapped, a silent
            # exit 1, which cron reads as "new findings". The output did not arrive: exit 2.
            import errno

            _fail(AuditError("error.write_file", path="<stdout>", what=Term("file.file"), reason=os_reason(OSError(errno.EPIPE, "Broken pipe"))).localized(LANG))
        raise
    except BaseException as exc:  # noqa: BLE001 - the top-level handler of spec §10
        # Typer raises its (vendored) click's ClickException; recognised by its interface so
        # this works with either click.
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            if type(exc).__name__ == "NoArgsIsHelpError":
                _stderr.print(exc.format_message(), markup=False, highlight=False)
                sys.exit(exitcodes.CANNOT_RUN)
            message = exc.format_message()
            _fail(t("error.usage", LANG, message=read_back("usage.", message, LANG) or message))
        _crash(exc, debug)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sys.unraisablehook = unraisable
    if STOP_SIGNAL:  # stopped, its exception swallowed, and the command went on to the end
        _fail_stopped(STOP_SIGNAL[0])
    sys.exit(code if isinstance(code, int) else exitcodes.CLEAN)


def _fail_stopped(signum: int) -> None:
    _fail(t("error.terminated" if signum == signal.SIGTERM else "error.interrupted", LANG))


def _crash(exc: BaseException, debug: bool) -> None:
    """An internal error: exit 2 with one line and where the traceback was written."""
    import traceback

    trace = "".join(traceback.format_exception(exc))
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    problem = f"{type(exc).__name__}: {one_line(first)}"
    if debug:
        sys.stderr.write(trace)
        _fail(t("error.internal", LANG, problem=problem))
    log = _crash_log(trace)
    if log:
        _fail(t("error.internal_logged", LANG, problem=problem, log=log))
    _fail(t("error.internal_unlogged", LANG, problem=problem))


def _crash_log(trace: str) -> str | None:
    """Write the traceback to the user's log folder (else the temp folder); its path, or None."""
    import tempfile
    from datetime import datetime as _dt

    import platformdirs

    stamp = _dt.now().strftime("%Y%m%d-%H%M%S")
    for folder in (Path(platformdirs.user_log_dir("cservice-audit", appauthor=False)), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"crash-{stamp}-{os.getpid()}.log"
            path.write_text(f"cservice-audit {' '.join(sys.argv[1:])}\n{trace}", encoding="utf-8")
            return str(path)
        except OSError:
            continue
    return None


def _fail(message: str) -> None:
    _stderr.print(t("error.prefix", LANG, message=one_line(message)), markup=False, soft_wrap=True, highlight=False)
    sys.exit(exitcodes.CANNOT_RUN)
