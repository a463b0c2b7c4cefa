"""The Excel workbook (`--format xlsx -o FILE.xlsx`): what a supervisor filters and forwards.

Sheets: the summary matrix (agent × rule, fail / at risk coloured), one scorecard per rule
(every reported period of it, its columns named and chosen per check as on the terminal's
scorecard), the findings, the late items (when the result has them), the rejected rows, and
what the run was. Every sheet is an Excel table: a frozen header row and
filter buttons. Dates and times are real Excel dates in the ruleset's local time (Excel has
no time zones), counts are numbers, rates are numbers formatted as percentages. Text that
would run as a formula gets the same guard as the CSV, and the writer is told never to turn
a string into a formula or a link.

Written with polars' `write_excel` on an `xlsxwriter` workbook; returns the file's bytes.
"""

from __future__ import annotations

import io
import re
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from xlsxwriter import Workbook

from cservice_audit.audit import AuditResult
from cservice_audit.i18n import t
from cservice_audit.render.digest import labels
from cservice_audit.render.matrix import agent_matrix
from cservice_audit.render.views import SCORECARD_COLUMNS, column_key, reader_note_lines, reader_notes
from cservice_audit.schema import HUMAN_ONLY
from cservice_audit.spreadsheet import guard_formulas

# East Asian wide and fullwidth characters take two columns in Excel's grid as on a terminal.
WIDE = r"[\x{1100}-\x{115F}\x{2E80}-\x{303E}\x{3041}-\x{33FF}\x{3400}-\x{4DBF}\x{4E00}-\x{9FFF}\x{A000}-\x{A4CF}\x{AC00}-\x{D7A3}\x{F900}-\x{FAFF}\x{FE30}-\x{FE4F}\x{FF00}-\x{FF60}\x{FFE0}-\x{FFE6}]"
MAX_WIDTH = 60  # characters; longer text wraps off-screen rather than making a column huge
PIXELS_PER_CHAR = 7  # Calibri 11, Excel's default
RATE_CHECKS = ("reply_rate", "review_rate")
# Checks whose third scorecard column is the metric's value (a rate, a mean wait); the
# occurrence checks' value is their count, so the table shows their points there instead.
VALUE_CHECKS = (*RATE_CHECKS, "average_wait")
WAITS = ("answered", "wait_mean", "wait_p50", "wait_p90")
FILL = {"fail": "#FFC7CE", "at_risk": "#FFEB9C", "pass": "#C6EFCE", "incident": "#FFC7CE"}
FONT = {"fail": "#9C0006", "at_risk": "#9C5700", "pass": "#006100", "incident": "#9C0006"}
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def display_width(frame: pl.DataFrame) -> dict[str, int]:
    """Per column, the widest cell (or header) in characters, wide characters counted twice."""
    widths = {}
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype in (pl.Date, pl.Boolean) or isinstance(dtype, pl.Datetime):
            widths[name] = 19 if isinstance(dtype, pl.Datetime) else 10
            continue
        text = pl.col(name).cast(pl.String)
        exprs.append((text.str.len_chars() + text.str.count_matches(WIDE)).max().alias(name))
    if exprs and frame.height:
        widths.update({k: v or 0 for k, v in frame.select(exprs).row(0, named=True).items()})
    header = pl.DataFrame({"h": list(frame.columns)}).select(
        (pl.col("h").str.len_chars() + pl.col("h").str.count_matches(WIDE)).alias("w")
    )["w"].to_list()
    # +3 for the filter button in the header cell.
    return {name: min(MAX_WIDTH, max(widths.get(name, 0), h + 3, 6)) for name, h in zip(frame.columns, header, strict=True)}


def excel_ready(frame: pl.DataFrame, tz: str) -> pl.DataFrame:
    """Zone-aware datetimes to naive local time (Excel has no zones); text guarded."""
    local = frame.with_columns(
        pl.col(name).dt.convert_time_zone(tz).dt.replace_time_zone(None)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    )
    return guard_formulas(local)


def _sheet_name(name: str, taken: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub("_", name)[:31] or "sheet"
    candidate, n = base, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def _status_formats(columns: list[str], words: dict[str, str]) -> dict:
    """Cell colours for the status words in `columns`."""
    rules = [
        {"type": "cell", "criteria": "==", "value": f'"{words[status]}"',
         "format": {"bg_color": FILL[status], "font_color": FONT[status]}}
        for status in ("fail", "at_risk", "pass", "incident") if status in words
    ]  # fmt: skip
    return {tuple(columns): rules} if columns else {}


# Columns whose values are words of the catalogue (messages.yaml `<prefix>.<value>`).
WORD_COLUMNS = {"severity": "severity", "state": "state", "scope": "scope", "period": "period"}


def readable_values(frame: pl.DataFrame, lang: str) -> pl.DataFrame:
    """The workbook is read by people: status, severity, scope, period and state values in
    the reader's language (the JSON and CSV keep the canonical values)."""
    from cservice_audit.i18n import SENTINEL_KEYS, catalogue, t

    if lang == "en":
        return frame
    changes = []
    for column in frame.columns:
        if column == "status":
            words = labels(lang)["status"]
        elif column in WORD_COLUMNS:
            prefix = WORD_COLUMNS[column]
            words = {k.split(".", 1)[1]: t(k, lang) for k in catalogue() if k.startswith(prefix + ".")}
        else:
            continue
        if frame.schema[column] == pl.String:
            changes.append(pl.col(column).replace(words))
    # 是/否 where Excel would show TRUE/FALSE (周期已结束).
    yes_no = labels(lang)["boolean"]
    changes += [
        pl.when(pl.col(c)).then(pl.lit(yes_no["true"])).when(~pl.col(c)).then(pl.lit(yes_no["false"])).alias(c)
        for c, dtype in frame.schema.items() if dtype == pl.Boolean
    ]  # fmt: skip
    # The sentinels of metrics.waits where a name would be.
    sentinels = {name: t(key, lang) for name, key in SENTINEL_KEYS.items()}
    changes += [pl.col(c).replace(sentinels) for c in ("agent", "handled_by") if c in frame.columns and frame.schema[c] == pl.String]
    return frame.with_columns(changes) if changes else frame


def _write(
    workbook: Workbook,
    frame: pl.DataFrame,
    name: str,
    taken: set[str],
    *,
    freeze: tuple[int, int] = (1, 0),
    column_formats: dict[str, str] | None = None,
    conditional: dict | None = None,
    headers: dict[str, str] | None = None,
    lang: str = "en",
    above: list[str] | None = None,
) -> str:
    """One sheet holding `frame` as an Excel table, named `name` or, when taken, a variant
    (returned); `above`: lines written over the table, one per row, with a blank row before
    it (the panes are frozen under its header)."""
    # Headers in the reader's language (outputs.yaml `columns`); formats follow the rename.
    rename = {c: headers[c] for c in frame.columns if headers and c in headers and headers[c] != c}
    frame = _whole_numbers(readable_values(frame, lang))
    if rename:
        frame = frame.rename(rename)
        column_formats = {rename.get(c, c): f for c, f in (column_formats or {}).items()}
        conditional = {tuple(rename.get(c, c) for c in cols): f for cols, f in (conditional or {}).items()}
    widths = display_width(frame)
    sheet = _sheet_name(name, taken)
    skip = len(above) + 1 if above else 0
    frame.write_excel(
        workbook,
        worksheet=sheet,
        position=(skip, 0),
        table_style="Table Style Light 9",
        column_formats=column_formats or None,
        conditional_formats=conditional or None,
        column_widths={c: w * PIXELS_PER_CHAR + 10 for c, w in widths.items()},
        dtype_formats={pl.Date: "yyyy-mm-dd", pl.Datetime: "yyyy-mm-dd hh:mm:ss"},
        float_precision=2,
        freeze_panes=(freeze[0] + skip, freeze[1]),
        autofilter=True,
    )
    if above:
        worksheet = workbook.get_worksheet_by_name(sheet)
        bold = workbook.add_format({"bold": True, "font_color": "#9C0006"})
        for row, line in enumerate(above):
            worksheet.write_string(row, 0, line, bold)
    return sheet


def _whole_numbers(frame: pl.DataFrame) -> pl.DataFrame:
    """Float columns holding whole numbers only (counts, points) as integers: written with two
    decimals they read `170.00` on time in Excel and WPS."""
    floats = [name for name, dtype in frame.schema.items() if dtype.is_float()]
    if not floats or not frame.height:
        return frame
    whole = frame.select((pl.col(name).is_null() | (pl.col(name) == pl.col(name).round(0))).all() for name in floats).row(0)
    return frame.with_columns(pl.col(name).cast(pl.Int64) for name, ok in zip(floats, whole, strict=True) if ok)


def summary_frame(result: AuditResult, lang: str = "en") -> pl.DataFrame:
    words = labels(lang)["status"]
    matrix = agent_matrix(result)
    total = labels(lang)["xlsx"]["shop_total"]
    data: dict[str, list] = {"shop": [], "agent": []}
    for code in matrix.rules:
        data[code] = []
    data["points"], data["tiers"] = [], []
    for row in matrix.rows:
        data["shop"].append(row.shop)
        data["agent"].append(row.agent if row.agent is not None else total)
        for code in matrix.rules:
            status = row.statuses.get(code)
            data[code].append(words[status] if status else None)
        data["points"].append(row.points)
        data["tiers"].append(t("list.semi", lang).join(f"{m.code} {m.text(lang)}" for m in row.tiers) or None)
    schema = {"shop": pl.String, "agent": pl.String, **{c: pl.String for c in matrix.rules}, "points": pl.Float64, "tiers": pl.String}
    frame = pl.DataFrame(data, schema=schema)
    # A platform that counts violations (Douyin, JD) has no points: a column of zeros read as
    # "no deductions" beside failing rules; the table leaves it out too.
    return frame if result.ruleset.deducts_points else frame.drop("points")


def scorecard_headers(check: str | None, lang: str = "en", rule=None) -> tuple[dict[str, str], list[str]]:
    """A rule sheet's headers for what its check counts, and the columns left off for it.

    The words are the terminal scorecard's (`views.SCORECARD_COLUMNS`, messages.yaml
    `col.*`), set on the metric columns its cells show (`views._cells`, in the same order): items counted, the
    numerator, the value (rates, mean wait) or the points (occurrence rules), then the waits
    of rules about replies. Columns in seconds say so: the table writes the unit in the cell,
    the workbook holds bare numbers. What the table leaves off a check is left off its sheet:
    the waits (with their answered count) of review and occurrence rules, and the value of
    occurrence rules (their count, already shown). A check the table has no scorecard for
    keeps the workbook's general headers."""
    if check not in SCORECARD_COLUMNS:
        return {}, []
    words = SCORECARD_COLUMNS[check]
    third = "value" if check in VALUE_CHECKS else "points"
    fields = ("counted", "numerator", third, "wait_mean", "wait_p50", "wait_p90")[: len(words)]
    headers = {field: t(f"col.{column_key(rule, word)}", lang) for field, word in zip(fields, words, strict=True)}
    headers.setdefault("threshold", labels(lang)["columns"]["threshold"])
    seconds = {"wait_mean", "wait_p50", "wait_p90"} | ({"numerator", "value", "threshold"} if check == "average_wait" else set())
    in_seconds = labels(lang)["xlsx"]["seconds"]
    headers = {field: in_seconds.format(label=word) if field in seconds else word for field, word in headers.items()}
    dropped = [] if "value" in fields else ["value"]
    dropped += [] if "wait_mean" in fields else list(WAITS)
    return headers, dropped


def scorecard_frame(result: AuditResult, code: str, lang: str = "en") -> pl.DataFrame:
    """Every reported period of rule `code`, with the metric's canonical column names, less
    the columns its check leaves off (`scorecard_headers`)."""
    words = labels(lang)["status"]
    total = labels(lang)["xlsx"]["shop_total"]
    check = next((rule.check for rule in result.ruleset.rules if rule.code == code), None)
    rows = result.metrics.filter(pl.col("rule") == code)
    return rows.select(
        "shop",
        pl.when(pl.col("scope") == "shop").then(pl.lit(total)).otherwise(pl.col("agent")).alias("agent"),
        "period", "period_start", "period_end", "complete",
        pl.col("denominator").alias("counted"), "numerator", "value", "threshold",
        pl.col("status").replace_strict(words, default=pl.col("status")).alias("status"),
        "answered", "wait_mean", "wait_p50", "wait_p90", "points", "coverage",
    ).drop(scorecard_headers(check, lang)[1])  # fmt: skip


# The About sheet's rows that are counts (written as numbers).
ABOUT_COUNTS = ("rows_read", "rows_used", "rows_rejected", "rows_duplicate")


def about_frame(result: AuditResult, show_paths: bool, lang: str = "en") -> pl.DataFrame:
    rs, inp = result.ruleset, result.input
    w = labels(lang)["about"]
    files = t("list.sep", lang).join(f["file"] if show_paths else PurePath(f["file"]).name for f in inp.files)
    pairs = [
        (w["platform"], w["platform_value"].format(name=rs.name, platform=rs.platform)), (w["ruleset"], w["ruleset_value"].format(name=rs.name, version=rs.version, effective=rs.effective)),
        (w["time_zone"], rs.timezone), (w["as_of"], str(result.as_of or "-")),
        (w["input"], files), (w["rows_read"], str(inp.rows_read)), (w["rows_used"], str(inp.rows_used)),
        (w["rows_rejected"], str(inp.rows_rejected)), (w["rows_duplicate"], str(inp.rows_duplicate)),
        # in the ruleset's zone, as every other time of the workbook (it said UTC)
        (w["generated"], result.generated_at.astimezone(ZoneInfo(rs.timezone)).strftime("%Y-%m-%d %H:%M:%S") + f" ({rs.timezone})"),
        *((w["note"], line) for line in reader_notes(result, lang, "xlsx")),
    ]  # fmt: skip
    return guard_formulas(pl.DataFrame({"what": [k for k, _ in pairs], "value": [v for _, v in pairs]}))


def render(result: AuditResult, *, show_paths: bool = False, lang: str = "en", **_: Any) -> bytes:
    tz = result.ruleset.timezone
    words = labels(lang)["xlsx"]
    status_words = labels(lang)["status"]
    headers = labels(lang)["columns"]
    # The workbook is read by people: the message and evidence in their language, the
    # English ones kept in the JSON and CSV.
    findings = result.findings
    for column in ("message", "evidence"):
        if f"{column}_{lang}" in findings.columns:
            findings = findings.with_columns(pl.coalesce(f"{column}_{lang}", column).alias(column))
    findings = findings.drop(HUMAN_ONLY, strict=False)
    # People read it: the rule's title in Chinese (规则名 showed `confrontational-language`),
    # the tier's rank (a sort key for baselines) left to the JSON, and the fingerprint, which
    # matches a row to the JSON, at the end rather than among what the supervisor reads.
    if lang == "zh":
        titles = {rule.code: rule.title for rule in result.ruleset.rules}
        findings = findings.with_columns(pl.col("code").replace_strict(titles, default=pl.col("name")).alias("name"))
    findings = findings.drop("tier_rank", strict=False)
    if "status" in findings.columns and "conversation" in findings.columns:
        incident = pl.col("status").is_null() & pl.col("conversation").is_not_null()
        findings = findings.with_columns(pl.when(incident).then(pl.lit("incident")).otherwise(pl.col("status")).alias("status"))
    findings = findings.select(pl.exclude("fingerprint"), *(["fingerprint"] if "fingerprint" in findings.columns else []))
    buffer = io.BytesIO()
    taken: set[str] = set()
    # Strings stay strings: never formulas, links or numbers, whatever they look like.
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False, "in_memory": True}
    with Workbook(buffer, options) as workbook:
        workbook.set_properties({"title": f"cservice-audit {result.ruleset.platform} {result.as_of or ''}".strip()})
        summary = excel_ready(summary_frame(result, lang), tz)
        rules = [c for c in summary.columns if c not in ("shop", "agent", "points", "tiers")]
        # The notes a reader must see (a shop not audited, a day still running, ...) open the
        # first sheet, the one Excel and WPS show: on the About sheet alone nobody read them.
        # The rows above the matrix are frozen: a few, then a pointer to the About sheet.
        notes = reader_note_lines(result, lang, "xlsx", more=words["notes_more"].replace("{sheet}", words["about"]))
        _write(workbook, summary, words["summary"], taken, freeze=(1, 2), conditional=_status_formats(rules, status_words), headers=headers, lang=lang, above=notes)
        checks = {rule.code: rule.check for rule in result.ruleset.rules}
        by_code = {rule.code: rule for rule in result.ruleset.rules}
        for code in dict.fromkeys(result.metrics.get_column("rule").to_list()):
            card = excel_ready(scorecard_frame(result, code, lang), tz)
            percent = {"value": "0.0%", "threshold": "0.0%"} if checks.get(code) in RATE_CHECKS else {}
            # What the numbers are depends on what the rule checks (hits, total wait, ...).
            named = {**headers, **scorecard_headers(checks.get(code), lang, by_code.get(code))[0]}
            _write(workbook, card, code, taken, freeze=(1, 2), column_formats=percent,
                   conditional=_status_formats(["status"], status_words), headers=named, lang=lang)  # fmt: skip
        _write(workbook, excel_ready(findings, tz), words["findings"], taken, headers=headers, lang=lang,
               conditional=_status_formats(["status"], status_words))
        items = getattr(result, "items", None)
        if isinstance(items, pl.DataFrame):
            _write(workbook, excel_ready(items, tz), words["items"], taken, headers=headers, lang=lang)
        # The reason in the reader's language; the English one is in --rejects.
        problem = pl.coalesce(f"problem_{lang}", "problem") if f"problem_{lang}" in result.rejects.columns else pl.col("problem")
        rejects = result.rejects.select(
            pl.col("_source").alias("file"), "line", problem.alias("problem"), pl.exclude("_source", "_record", "line", "problem", "problem_zh")
        )
        if not show_paths:
            rejects = rejects.with_columns(pl.col("file").str.replace(r"^.*[/\\]", ""))
        # Only when rows were rejected: an empty sheet of that name read as something to check
        # (the About sheet counts them either way).
        if rejects.height:
            _write(workbook, excel_ready(rejects, tz), words["rejected"], taken, headers=headers, lang=lang)
        about = about_frame(result, show_paths, lang)
        sheet = workbook.get_worksheet_by_name(_write(workbook, about, words["about"], taken, headers=headers, lang=lang))
        # The counts as numbers: a column of text and counts is written as text, which Excel
        # and WPS flag "number stored as text" and will not sum.
        # The generation time is a real date, in the ruleset's zone (the row above names it).
        counts = {labels(lang)["about"][key] for key in ABOUT_COUNTS}
        generated = labels(lang)["about"]["generated"]
        when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss", "align": "left"})
        for row, (what, value) in enumerate(about.iter_rows(), start=1):
            if what in counts:
                sheet.write_number(row, 1, int(value))
            elif what == generated:
                local = result.generated_at.astimezone(ZoneInfo(tz)).replace(tzinfo=None, microsecond=0)
                sheet.write_datetime(row, 1, local, when)
    return buffer.getvalue()
