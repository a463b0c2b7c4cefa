"""What the human-readable formats show, as rows of text: shared by table and markdown.

Nothing here computes a number: every figure is a field of a metric or finding row,
formatted. The scorecard shows, per rule, the period that contains the as-of day; every
failing period of any day is in the findings.

Every word comes from the message catalogue (`i18n.t`) in the language the caller passes.
Every untrusted text (agent, shop and file names, conversation ids, chat texts, messages
quoting them, titles of a user's ruleset) goes through `shown()`, the one place that calls
`cservice_audit.sanitize`: `target` is "terminal" (table) or "markdown".
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

from pathlib import PurePath

import polars as pl

from cservice_audit import sanitize
from cservice_audit.audit import AuditResult
from cservice_audit.i18n import sentinel_name, t
from cservice_audit.render.digest import in_lang, is_reader_note
from cservice_audit.render.items_view import wait_text
from cservice_audit.people import KIND_ORDER, agent_kind
from cservice_audit.render.matrix import Matrix, MatrixRow, TierMark, agent_matrix
from cservice_audit.render.names import in_shop, many_shops, report_cuts
from cservice_audit.ruleset import origin_text
from cservice_audit.schema import SEVERITY_RANK

# Status marks are symbols, the same in every language; their words are in the catalogue.
MARK = {"pass": "✓", "fail": "✗", "at_risk": "!", "insufficient": "·", None: " "}
SEVERITIES = ("error", "warning", "info")


def shown(value: object, target: str = "terminal") -> str:
    """Untrusted text made safe for where it is shown (on one line)."""
    if target == "markdown":
        return sanitize.markdown_safe(value)
    return sanitize.one_line(value)


def shown_block(value: object, target: str = "terminal") -> str:
    """Like `shown`, but newlines kept on a terminal (a table cell of several lines)."""
    return sanitize.terminal_safe(value) if target == "terminal" else sanitize.markdown_safe(value)


def status_text(status: str, lang: str) -> str:
    return f"{MARK[status]} {t(f'status.{status}', lang)}"


def who(agent: str | None, scope: str | None, lang: str, target: str = "terminal") -> str:
    """An agent's name as shown; the sentinels of normalize/metrics in the reader's language."""
    if agent is None:
        return t("who.shop_total", lang) if scope in (None, "shop") else "-"
    return sentinel_name(agent, lang) or shown(agent, target)


@dataclass
class Scorecard:
    code: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    statuses: list[str]


def header_lines(result: AuditResult, lang: str = "en", target: str = "terminal", show_paths: bool = False) -> list[str]:
    """Human formats name files by their base name and leave out the history and baseline
    paths unless `show_paths` (`--show-paths`): a report is mailed and pasted around."""
    rs, inp = result.ruleset, result.input
    files = t("list.sep", lang).join(shown(f["file"] if show_paths else PurePath(f["file"]).name, target) for f in inp.files)
    lines = [
        t("header.ruleset", lang, platform=rs.platform, version=shown(rs.version, target), effective=rs.effective, origin=shown(origin_text(rs, lang), target)),
        t("header.input", lang, files=files, read=inp.rows_read, used=inp.rows_used, rejected=inp.rows_rejected, duplicate=inp.rows_duplicate),
        t("header.as_of", lang, day=result.as_of or "-", zone=rs.timezone),
    ]
    if result.options.agent:
        lines.append(t("header.agent_only", lang, agent=shown(result.options.agent, target)))
    if result.options.history:
        where = f" {shown(result.options.history, target)}" if show_paths else ""
        if result.options.store:
            lines.append(t("header.history", lang, folder=where, days=result.history_days_written))
        else:
            lines.append(t("header.history_read", lang, folder=where))
    if result.options.baseline:
        where = f" {shown(result.options.baseline, target)}" if show_paths else ""
        lines.append(t("header.baseline", lang, file=where, hidden=result.baseline_hidden))
    return lines


def reader_notes(result: AuditResult, lang: str = "en", target: str = "terminal") -> list[str]:
    """The run's notes a reader must see at the top of a report (digest.READER_NOTES), in
    `lang`; the others stay on stderr and in the JSON."""
    return [shown(note.localized(lang), target) for note in result.notes if is_reader_note(note)]


# At most this many note lines open a report (the last of them then says how many more):
# forty shops missing from a baseline once pushed the summary forty lines down the screen.
NOTES_SHOWN = 5


def reader_note_lines(result: AuditResult, lang: str = "en", target: str = "terminal", more: str | None = None) -> list[str]:
    """`reader_notes` as the lines that open a report: `注意：…` / `Note: …`, at most
    NOTES_SHOWN, the last then `more` (a template with {n}; default: the rest are on stderr
    and in the JSON's notes)."""
    lines = [t("header.note", lang, note=line) for line in reader_notes(result, lang, target)]
    shown_n = notes_shown(len(lines))
    if shown_n == len(lines):
        return lines
    rest = len(lines) - shown_n
    return [*lines[:shown_n], more.format(n=rest) if more else t("header.notes_more", lang, n=rest)]


def notes_shown(n: int) -> int:
    """How many of `n` reader notes a report opens with; the rest are behind its pointer line
    (and on stderr, where the CLI prints what a report on the screen left out)."""
    return n if n <= NOTES_SHOWN else NOTES_SHOWN - 1


def shown_findings(result: AuditResult) -> pl.DataFrame:
    """The findings a person is shown: the new ones (spec §11: the known ones are counted in
    the header and the closing line, and kept in the JSON), errors first, then warnings,
    then info (pending night messages would otherwise open the list); within a severity
    in the report's own order."""
    findings = result.findings
    if "state" in findings.columns:
        findings = findings.filter(pl.col("state") != "known")
    rank = pl.col("severity").replace_strict(SEVERITY_RANK, default=len(SEVERITY_RANK), return_dtype=pl.Int64)
    return findings.sort(rank, maintain_order=True)


def no_findings_line(result: AuditResult, lang: str) -> str:
    """What stands where the findings list would be when none is shown: "no findings" only
    when there are none; when the baseline hid every one, that no finding is new and how many
    known ones the list leaves out (a morning rerun against last night's report would
    otherwise say 未发现问题 over 34 failing rules)."""
    findings = result.findings
    known = findings.filter(pl.col("state") == "known").height if "state" in findings.columns else 0
    return t("section.no_new_findings", lang, known=known) if known else t("section.no_findings", lang)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}s" if value >= 10 else f"{value:.1f}s"


def _count(value: float | None) -> str:
    return "-" if value is None else f"{value + 0.0:g}"


def _total_seconds(value: float | None) -> str:
    """A total of waits, as a person reads it, as the drill-down writes a wait: 2194072s is
    609h27m."""
    return "-" if value is None else wait_text(value)


def _cells(check: str, row: dict) -> list[str]:
    """A scorecard row's figures, one per SCORECARD_COLUMNS[check]."""
    waits = [_seconds(row["wait_mean"]), _seconds(row["wait_p50"]), _seconds(row["wait_p90"])]
    if check == "reply_rate":
        rate = "-" if row["value"] is None else f"{row['value'] * 100:.1f}%"
        return [str(row["denominator"]), _count(row["numerator"]), rate, *waits]
    if check == "average_wait":
        return [str(row["denominator"]), _total_seconds(row["numerator"]), _seconds(row["value"]), *waits]
    if check == "review_rate":
        rate = "-" if row["value"] is None else f"{row['value'] * 100:.1f}%"
        return [str(row["denominator"]), _count(row["numerator"]), rate]
    return [str(row["denominator"]), _count(row["numerator"]), _count(row["points"])]


def scorecard_columns(rule) -> list[str]:
    """The figures a rule's scorecard shows: its check's, less the points of a rule that
    deducts none (JD and Douyin count violations: a column of zeros says nothing), and less
    the answered waits' mean of an average-wait rule, whose own mean is the figure it judges:
    without a cap the two are equal, with one (TB-A1: each turn at most 600 s, unanswered
    600 s) a second average (371s beside 332s) that the platform does not count."""
    dropped = {"points"} if not rule.deducts_points else set()
    if rule.check == "average_wait":
        dropped.add("mean")
    return [c for c in SCORECARD_COLUMNS[rule.check] if c not in dropped]


SCORECARD_COLUMNS = {
    "reply_rate": ["counted", "on_time", "rate", "mean", "p50", "p90"],
    "average_wait": ["counted", "total_wait", "mean_wait", "mean", "p50", "p90"],
    "long_no_reply": ["turns", "occurrences", "points"],
    "review_rate": ["counted", "hits", "rate"],
    "phrases": ["messages", "matches", "points"],
    "repeated_script": ["scripts", "repeated", "points"],
}
# A review rule's count columns name what they count (*choice*, 2026-12-07): both review
# rules said 计入/命中 (counted/hits), words of the phrase rules, so a good-review rate read
# "命中 49" and the attitude share did not say its base is the neutral and bad reviews only.
REVIEW_COLUMNS = {
    "good_rate": {"counted": "reviews", "hits": "good_reviews"},
    "attitude_share": {"counted": "bad_reviews", "hits": "attitude_reviews"},
}


def column_key(rule, column: str) -> str:
    """The catalogue key (`col.*`) of a scorecard column of `rule`."""
    if rule is not None and rule.check == "review_rate":
        return REVIEW_COLUMNS.get(rule.params.get("measure"), {}).get(column, column)
    return column


# Columns whose cells are right-aligned numbers (the rest: names, statuses, tiers).
NUMERIC_COLUMNS = {
    t(f"col.{c}", lang)
    for c in {*(c for cols in SCORECARD_COLUMNS.values() for c in cols), *(k for m in REVIEW_COLUMNS.values() for k in m.values())}
    for lang in ("zh", "en")
}


def threshold_text(rule, value: float, lang: str) -> str:
    check = rule.check
    if check == "review_rate":
        key = "threshold.min_pct" if rule.params["measure"] == "good_rate" else "threshold.max_pct"
        return t(key, lang, value=f"{value * 100:g}")
    if check == "reply_rate":
        return t("threshold.min_pct", lang, value=f"{value * 100:g}")
    if check == "average_wait":
        return t("threshold.max_seconds", lang, value=f"{value:g}")
    return t("threshold.max_count", lang, value=f"{value:g}")


def period_text(period: str, start, end, lang: str) -> str:
    return f"{t(f'period.{period}', lang)} {start}" + (f"..{end}" if start != end else "")


def _tiers_by_period(result: AuditResult) -> dict[tuple, TierMark]:
    """(rule, shop, agent, period_start) -> the tier a finding reached, or threatens when
    its period is only at risk."""
    tiered = result.findings.filter(pl.col("tier").is_not_null())
    return {
        (code, shop, agent, start): TierMark.of(code, tier, penalty, status)
        for code, shop, agent, start, tier, penalty, status in tiered.select("code", "shop", "agent", "period_start", "tier", "penalty", "status").iter_rows()
    }


def scorecards(result: AuditResult, lang: str = "en", target: str = "terminal") -> list[Scorecard]:
    cards = []
    as_of = result.as_of
    tiers = _tiers_by_period(result)
    cuts = report_cuts(result)
    several = many_shops(result)
    for rule in result.ruleset.rules:
        if rule.check not in SCORECARD_COLUMNS or as_of is None:
            continue
        rows = result.metrics.filter(
            (pl.col("rule") == rule.code) & (pl.col("period_start") <= as_of) & (pl.col("period_end") >= as_of)
        )
        if rows.is_empty():
            continue
        first = rows.row(0, named=True)
        period = period_text(first["period"], first["period_start"], first["period_end"], lang)
        # A 30-day or monthly figure from a week of data is the week's: say so beside the period.
        so_far = (min(first["period_end"], as_of) - first["period_start"]).days + 1
        covered = rows.get_column("coverage").max()
        if covered is not None and covered < so_far:
            period += t("scorecard.coverage", lang, n=covered, of=so_far)
        with_tier = rule.escalation is not None
        shown_columns = scorecard_columns(rule)
        body, statuses = [], []
        # The people to coach first, then the robot, the unassigned turns and the shop total,
        # as on the summary screen (in metric order the robot fell among the agents by name).
        ordered = sorted(rows.iter_rows(named=True), key=lambda r: (r["shop"], KIND_ORDER[agent_kind(r["agent"], r["shop"], result.bots)]))
        for row in ordered:
            if several:
                name = f"{shown(row['shop'], target)} / {who(in_shop(row['agent'], cuts.get(row['shop'], '')), row['scope'], lang, target)}"
            else:
                name = who(in_shop(row["agent"], cuts.get(row["shop"], "")), row["scope"], lang, target)
            figures = dict(zip(SCORECARD_COLUMNS[rule.check], _cells(rule.check, row), strict=True))
            cells = [name, *(figures[c] for c in shown_columns), status_text(row["status"], lang)]
            if with_tier:
                tier = tiers.get((rule.code, row["shop"], row["agent"], row["period_start"]))
                cells.append(shown(tier.text(lang, with_penalty=False), target) if tier else "")
            body.append(cells)
            statuses.append(row["status"])
        columns = [t("col.agent", lang), *(t(f"col.{column_key(rule, c)}", lang) for c in shown_columns), t("col.status", lang)]
        cards.append(
            Scorecard(
                code=rule.code,
                title=f"{rule.code} {shown(rule.title, target)} · {period} · {threshold_text(rule, first['threshold'], lang)}",
                columns=columns + ([t("col.tier", lang)] if with_tier else []),
                rows=body,
                statuses=statuses,
            )
        )
    return cards


def points_rows(result: AuditResult, lang: str = "en", target: str = "terminal") -> tuple[list[str], list[list[str]]]:
    """Points in force on the as-of day: one row per agent and the shop, a column per rule."""
    if result.points.is_empty():
        return [], []
    rules = sorted(set(result.points.get_column("rule")), key=[r.code for r in result.ruleset.rules].index)
    table: dict[tuple[str, str | None], dict[str, float]] = {}
    for row in result.points.iter_rows(named=True):
        table.setdefault((row["shop"], row["agent"]), {})[row["rule"]] = row["points"]
    several = many_shops(result)
    cuts = report_cuts(result)
    rows = []
    # Agents by name, then the robot, the unassigned turns and the shop total, as the summary
    # and the scorecards group them: by name alone `(unassigned)` came before every agent.
    def place(key: tuple[str, str | None]) -> tuple:
        shop, agent = key
        return (shop, KIND_ORDER[agent_kind(agent, shop, result.bots)], agent or "")

    for (shop, agent), by_rule in sorted(table.items(), key=lambda kv: place(kv[0])):
        name = who(in_shop(agent, cuts.get(shop, "")), None if agent is None else "agent", lang, target)
        rows.append([f"{shown(shop, target)} / {name}" if several else name, *(_count(by_rule.get(r, 0.0)) for r in rules), _count(sum(by_rule.values()))])
    return [t("col.agent", lang), *rules, t("col.total", lang)], rows


def _grouped_codes(result: AuditResult) -> set[str]:
    """Codes whose per-conversation findings are one line per agent (repeated scripts)."""
    return {rule.code for rule in result.ruleset.rules if rule.check == "repeated_script"}


def _script_groups(findings: pl.DataFrame, codes: set[str]) -> dict[tuple, dict]:
    """(code, shop, agent) -> how many conversations, the most repeated script and in how many
    conversations it was repeated. Findings without a conversation (escalations) stay single."""
    mine = findings.filter(pl.col("code").is_in(list(codes)) & pl.col("conversation").is_not_null())
    groups: dict[tuple, dict] = {}
    for (code, shop, agent), part in mine.group_by("code", "shop", "agent", maintain_order=True):
        scripts = Counter(part.get_column("match").fill_null(""))
        top, k = scripts.most_common(1)[0]
        text = part.filter(pl.col("match").fill_null("") == top).get_column("evidence").first()
        groups[(code, shop, agent)] = {"n": part.height, "text": text or top, "k": k}
    return groups


_PERIOD_CHECKS = ("reply_rate", "average_wait", "review_rate")


def _period_label(m: dict, lang: str) -> str:
    """`2026-11-22`, `week 2026-11-16..2026-11-22 (so far)`, ... in the reader's language."""
    span = f"{m['period_start']}..{m['period_end']}"
    label = {
        "day": str(m["period_start"]),
        "natural_week": t("finding.week", lang, span=span),
        "natural_month": t("finding.month", lang, month=f"{m['period_start']:%Y-%m}"),
    }.get(m["period"], t("finding.rolling", lang, span=span))
    return label if m["complete"] else t("finding.so_far", lang, label=label)


def _period_messages(result: AuditResult, lang: str, target: str) -> dict[tuple, str]:
    """The message of each reply-rate, average-wait and review-rate finding, written from its
    metric row in the reader's language (the JSON keeps the check's own message), keyed by
    (code, scope, shop, agent, period_start)."""
    rules = {r.code: r for r in result.ruleset.rules if r.check in _PERIOD_CHECKS}
    if not rules:
        return {}
    out = {}
    for m in result.metrics.filter(pl.col("rule").is_in(list(rules)) & pl.col("status").is_in(["fail", "at_risk"])).iter_rows(named=True):
        rule = rules[m["rule"]]
        if m["value"] is None:
            continue
        title, period = shown(rule.title, target), _period_label(m, lang)
        if rule.check == "average_wait":
            text = t("finding.wait_above", lang, title=title, value=f"{m['value']:.1f}", n=m["denominator"],
                     unit=t(f"unit.{rule.params['unit']}", lang), threshold=f"{rule.params['max_seconds']:g}", period=period)
        else:
            if rule.check == "reply_rate":
                key, unit, limit = "finding.rate_below", t(f"unit.{rule.params['unit']}", lang), rule.params["min_rate"]
            elif rule.params.get("measure") == "good_rate":
                key, unit, limit = "finding.rate_below", t("unit.reviews", lang), rule.params["min_rate"]
            else:
                key, unit, limit = "finding.rate_above", t("unit.bad_reviews", lang), rule.params["max_rate"]
            text = t(key, lang, title=title, value=f"{m['value'] * 100:.1f}", num=f"{m['numerator']:.0f}", den=m["denominator"],
                     unit=unit, threshold=str(round(limit * 100, 1)), period=period)
        out[(m["rule"], m["scope"], m["shop"], m["agent"], m["period_start"])] = text
    return out


def _time_cell(f: dict) -> str:
    """The finding's time of day; with its date when that is not the finding's day (a
    question the night before left pending, judged and counted tonight: carry.py)."""
    if not f["ts"]:
        return "-"
    return f["ts"].strftime("%H:%M:%S" if f["day"] is None or f["ts"].date() == f["day"] else "%m-%d %H:%M:%S")


def _day_cell(f: dict, lang: str) -> str:
    """The day column: the finding's day, or for a week, month or 30-day finding the period's
    name. Its first day alone would read as the day something happened; the message beside it
    gives the span."""
    if f["day"] is not None:
        return str(f["day"])
    if f["period_start"] is None:
        return "-"
    return str(f["period_start"]) if f["period"] in (None, "day") else t(f"period.{f['period']}", lang)


def finding_rows(result: AuditResult, lang: str = "en", target: str = "terminal") -> tuple[list[str], list[list[str]]]:
    """The findings as text rows; the last cell is the message, then the evidence text for
    findings about one message (text rules, long no-reply) or a rejected row, then the
    escalation tier and its penalty. Repeated-script findings are one row per agent (the
    JSON report keeps each one)."""
    columns = [t(f"col.{c}", lang) for c in ("code", "severity", "agent", "conversation", "day", "time", "what")]
    findings = shown_findings(result).with_columns(pl.col("ts").dt.convert_time_zone(result.ruleset.timezone))
    # With more than one shop in the report, every agent is named with its shop (spec §11).
    several = many_shops(result)

    cuts = report_cuts(result)

    def qualified(shop: str | None, agent: str | None, scope: str | None) -> str:
        name = who(in_shop(agent, cuts.get(shop, "")), scope, lang, target)
        return f"{shown(shop, target)} / {name}" if several and shop else name

    grouped = _grouped_codes(result)
    groups = _script_groups(findings, grouped)
    written = _period_messages(result, lang, target)
    done: set[tuple] = set()
    rows = []
    for f in findings.iter_rows(named=True):
        key = (f["code"], f["shop"], f["agent"])
        if f["code"] in grouped and f["conversation"] is not None:
            if key in done:
                continue
            done.add(key)
            group = groups[key]
            name = qualified(f["shop"], f["agent"], f["scope"])
            text = shown(group["text"], target)
            cells = [
                f["code"],
                t(f"severity.{f['severity']}", lang),
                name,
                t("group.conversations", lang, n=group["n"]),
                str(f["day"] or f["period_start"] or "-"),
                "-",
                t("group.repeated", lang, agent=name, n=group["n"], text=text, k=group["k"]) + "\n" + t("group.details", lang),
            ]
        else:
            what = written.get((f["code"], f["scope"], f["shop"], f["agent"], f["period_start"])) or shown_block(in_lang(f, lang), target)
            if f["evidence"] and (f["conversation"] or f["match"] or f["code"].endswith("-D1")):
                what += "\n" + shown_block(f["evidence"], target)
            if f["tier"]:
                label = shown(TierMark.of(f["code"], f["tier"], None, f["status"]).text(lang), target)
                what += "\n" + (t("tier.text", lang, tier=label, penalty=shown(f["penalty"], target)) if f["penalty"] else label)
            cells = [
                f["code"],
                t(f"severity.{f['severity']}", lang),
                qualified(f["shop"], f["agent"], f["scope"]) if f["agent"] or f["scope"] == "shop" else "-",
                shown(f["conversation"], target) if f["conversation"] else "-",
                _day_cell(f, lang),
                _time_cell(f),
                what,
            ]
        rows.append(cells)
    return columns, rows


def finding_marks(result: AuditResult) -> list[tuple[str, str | None]]:
    """Per row of `finding_rows`: its severity and the matched text to highlight (none for a
    grouped row)."""
    grouped = _grouped_codes(result)
    seen: set[tuple] = set()
    out = []
    for code, shop, agent, conversation, severity, match in shown_findings(result).select(
        "code", "shop", "agent", "conversation", "severity", "match"
    ).iter_rows():
        if code in grouped and conversation is not None:
            if (code, shop, agent) in seen:
                continue
            seen.add((code, shop, agent))
            match = None
        out.append((severity, match))
    return out


# --------------------------------------------------------------------------- the summary screen


@dataclass
class SummaryRow:
    name: str
    kind: str  # agent | bot | unassigned | shop
    marks: list[str | None]  # per rule column: status or None (no data)
    points: str


@dataclass
class ShopSummary:
    shop: str
    title: str
    failed: str
    failing: bool  # any rule failed in this shop
    counts: str
    heads: list[str]  # rule codes, shortened when they share a prefix
    agents: list[SummaryRow]  # agents with anything to coach, worst first
    passing: str | None  # one line naming the agents who pass every rule
    others: list[SummaryRow]  # the robot and unassigned turns
    total: SummaryRow | None
    tiers: list[str]
    names_note: str | None = None  # the shop prefix left off the agents' names, if it was


@dataclass
class Summary:
    shops: list[ShopSummary]
    legend: str
    columns_note: str | None
    closing: str
    lang: str = "en"
    severities: dict[str, int] = field(default_factory=dict)
    # Whether the points column is shown: not for a platform whose rules deduct none
    # (Douyin counts violations, not points), where it would be a column that is always blank.
    points: bool = True


def _prefix(codes: list[str]) -> str:
    """The platform prefix all codes share (`PDD-`), left off in the column heads."""
    prefix = os.path.commonprefix(codes) if codes else ""
    return prefix[: prefix.rfind("-") + 1] if "-" in prefix else ""


def _agent_counts(coached: list, lang: str) -> str:
    """`20 名客服：6 名未达标，另有 10 名有风险（其中 7 名本期已无法达标）`; with none at risk
    the clause is left off (`另有 0 名有风险` on the first screen of most days said nothing)."""
    failing = sum(1 for r in coached if r.fails)
    at_risk = sum(1 for r in coached if r.at_risk and not r.fails)
    # Of those, the ones whose period is already lost at the volume seen (已无法达标): an `!`
    # beside one that can still pass read the same, and the headline names failed rules only.
    lost = sum(1 for r in coached if r.lost and not r.fails)
    key = "summary.agents_lost" if lost else "summary.agents" if at_risk else "summary.agents_none_at_risk"
    return t(key, lang, agents=len(coached), failing=failing, at_risk=at_risk, lost=lost)


def closing_line(result: AuditResult, lang: str) -> tuple[str, dict[str, int]]:
    findings = result.findings
    if findings.is_empty():
        return t("section.no_findings", lang), {}
    counts = dict(findings.group_by("severity").len().iter_rows())
    by_severity = t("list.sep", lang).join(
        t("summary.severity_count", lang, n=counts[s], severity=t(f"severity.{s}", lang)) for s in SEVERITIES if counts.get(s)
    )
    if "state" in findings.columns:
        known = findings.filter(pl.col("state") == "known").height
    else:
        known = 0  # no baseline information: every finding is new
    line = t("summary.closing", lang, n=findings.height, by_severity=by_severity, new=findings.height - known, known=known)
    return line, counts


def _tier_lines(rows: list[MatrixRow], prefix: str, lang: str, target: str, cut: str = "") -> list[str]:
    """Escalation on the summary: one line per agent with a tier (its rules grouped by tier,
    a tier an at-risk period only threatens said so), then one line per tier and penalty
    naming the rules it applies to."""
    lines, penalties = [], {}
    for r in rows:
        if not r.tiers:
            continue
        by_tier: dict[str, list[str]] = {}
        for mark in r.tiers:  # in rule order
            short = mark.code.removeprefix(prefix)
            by_tier.setdefault(shown(mark.text(lang, with_penalty=False), target), []).append(short)
            rules = penalties.setdefault((mark.text(lang, with_penalty=False), mark.penalty), [])
            if short not in rules:
                rules.append(short)
        name = who(in_shop(r.agent, cut), "shop" if r.agent is None else "agent", lang, target)
        parts = t("list.sep", lang).join(f"{' '.join(codes)} {label}" for label, codes in by_tier.items())
        lines.append(t("summary.tier_who", lang, who=name, tiers=parts))
    for (label, penalty), codes in penalties.items():
        key = "summary.tier" if penalty else "summary.tier_bare"
        lines.append(t(key, lang, tier=shown(label, target), codes=" ".join(codes), penalty=shown(penalty, target)))
    return lines


def summary(result: AuditResult, lang: str = "en", target: str = "terminal", matrix: Matrix | None = None) -> Summary:
    """The first screen: per shop the rules failed, the agent × rule matrix (worst first), the
    robot apart, tiers with their penalties; then a legend and one closing line."""
    matrix = matrix or agent_matrix(result)
    prefix = _prefix(matrix.rules)
    heads = [code.removeprefix(prefix) for code in matrix.rules]

    def row(r: MatrixRow, cut: str = "") -> SummaryRow:
        return SummaryRow(
            name=who(in_shop(r.agent, cut), "shop" if r.agent is None else "agent", lang, target),
            kind=r.kind,
            marks=[r.statuses.get(code) for code in matrix.rules],
            points=_count(r.points) if r.points else "",
        )

    shops = []
    cuts = report_cuts(result)
    for shop in matrix.shops:
        mine = matrix.of_shop(shop)
        cut = cuts.get(shop, "")
        coached = [r for r in mine if r.coached]
        trouble = [r for r in coached if any(s != "pass" for s in r.statuses.values()) or r.points or r.tiers]
        clean = [r for r in coached if r not in trouble]
        failed = matrix.failing_rules(shop)
        tier_lines = _tier_lines(mine, prefix, lang, target, cut)
        shops.append(
            ShopSummary(
                shop=shop,
                title=t("summary.title", lang, shop=shown(shop, target), day=result.as_of),
                failed=t("summary.failed", lang, codes=" ".join(failed)) if failed else t("summary.failed_none", lang),
                failing=bool(failed),
                counts=_agent_counts(coached, lang),
                heads=heads,
                agents=[row(r, cut) for r in trouble],
                passing=t("summary.all_pass", lang, names=t("list.sep", lang).join(who(in_shop(r.agent, cut), "agent", lang, target) for r in clean)) if clean else None,
                others=[row(r, cut) for r in mine if r.kind in ("bot", "unassigned")],
                total=next((row(r) for r in mine if r.kind == "shop"), None),
                tiers=tier_lines,
                names_note=t("summary.names_cut", lang, prefix=shown(cut, target)) if cut else None,
            )
        )
    closing, counts = closing_line(result, lang)
    with_points = result.ruleset.deducts_points
    legend = t("summary.legend", lang) + (t("summary.legend_points", lang) if with_points else "")
    return Summary(
        shops=shops,
        legend=legend,
        columns_note=t("summary.columns", lang, prefix=prefix) if prefix else None,
        closing=closing,
        lang=lang,
        severities=counts,
        points=with_points,
    )
