"""Rich tables for a person at a terminal: the summary screen, the scorecards, then the findings.

The summary is laid out as plain aligned lines (not a rich Table) so that it never wraps:
rule codes are the column heads, statuses one mark each, names cut to fit the width.
"""

from __future__ import annotations

import io
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cservice_audit.audit import AuditResult
from cservice_audit.i18n import t
from cservice_audit.render.views import (
    MARK,
    NUMERIC_COLUMNS,
    Summary,
    SummaryRow,
    finding_marks,
    finding_rows,
    header_lines,
    no_findings_line,
    reader_note_lines,
    points_rows,
    scorecards,
    shown_findings,
    summary,
)
from cservice_audit.render.items_view import DEFAULT_ITEMS, item_tables, labels, need_rows
from cservice_audit.render.wrap import wrap, wrap_text

_STATUS_STYLE = {"pass": "green", "fail": "bold red", "at_risk": "yellow", "insufficient": "dim", None: ""}
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_GAP = "  "
NAME_MIN = 4  # cells: a name is never cut shorter than this
LIST_BELOW = 100  # columns: narrower terminals get the findings as a list, not a table
# Display cells the findings table must leave its last column (the message and the text):
# with less, long ids or names fold the message into a strip a few characters wide, and the
# findings come as a list whatever the terminal's width.
WHAT_MIN = 24
NAME_MAX = 24  # cells: longer names are cut, so the marks stay next to the names


def fit(text: str, width: int) -> str:
    """`text` cut to `width` display cells (an ellipsis marks the cut), else padded to it."""
    if cell_len(text) <= width:
        return text + " " * (width - cell_len(text))
    out, used = "", 0
    for ch in text:
        if used + cell_len(ch) > width - 1:
            break
        out += ch
        used += cell_len(ch)
    return out + "…" + " " * (width - 1 - used)


def clip(text: str, width: int) -> str:
    """A free-text line cut to the width (no padding)."""
    return text if cell_len(text) <= width else fit(text, width).rstrip()


def summary_lines(view: Summary, width: int) -> list[Text]:
    """The summary as lines of at most `width` cells, marks styled by status."""
    lines: list[Text] = []
    for shop in view.shops:
        rows = [*shop.agents, *shop.others, *([shop.total] if shop.total else [])]
        head_w = [max(1, cell_len(h)) for h in shop.heads]
        pts_head = t("summary.points", view.lang) if view.points else ""
        pts_w = max([cell_len(pts_head), *(cell_len(r.points) for r in rows)]) if view.points else 0
        fixed = sum(w + len(_GAP) for w in head_w) + (len(_GAP) + pts_w if view.points else 0)
        name_w = max([cell_len(r.name) for r in rows] + [cell_len(view_agent_head(view))])
        name_w = max(NAME_MIN, min(name_w, width - fixed, NAME_MAX))

        def line(r: SummaryRow) -> Text:
            text = Text()
            text.append(fit(r.name, name_w), style="bold" if r.kind == "agent" and "fail" in r.marks else "")
            for mark, w in zip(r.marks, head_w, strict=True):
                text.append(_GAP)
                text.append(fit(MARK[mark], w), style=_STATUS_STYLE[mark])
            if view.points:
                text.append(_GAP + r.points.rjust(pts_w))
            text.rstrip()
            return text

        lines.append(Text(clip(shop.title, width), style="bold"))
        lines.append(Text(clip(shop.failed, width), style="bold red" if shop.failing else "green"))
        lines.append(Text(clip(shop.counts, width)))
        if shop.names_note:
            lines.append(Text(clip(shop.names_note, width), style="dim"))
        head = fit(view_agent_head(view), name_w) + "".join(_GAP + fit(h, w) for h, w in zip(shop.heads, head_w, strict=True))
        if view.points:
            head += _GAP + pts_head.rjust(pts_w)
        lines.append(Text(head.rstrip(), style="bold"))
        lines += [line(r) for r in shop.agents]
        if shop.passing:
            lines.append(Text(clip(shop.passing, width), style="green"))
        if shop.others:
            lines.append(Text(clip(t("summary.others", view.lang), width), style="dim"))
            lines += [line(r) for r in shop.others]
        if shop.total:
            lines.append(line(shop.total))
        if shop.tiers:
            lines.append(Text(clip(t("summary.tiers", view.lang), width), style="bold"))
            lines += [Text(clip("  " + tier, width)) for tier in shop.tiers]
        lines.append(Text(""))
    if not view.shops:
        lines.append(Text(clip(t("summary.no_data", view.lang), width)))
    else:
        lines.append(Text(clip(view.legend, width), style="dim"))
    if view.columns_note:
        lines.append(Text(clip(view.columns_note, width), style="dim"))
    lines.append(Text(clip(view.closing, width), style="bold"))
    return lines


def view_agent_head(view: Summary) -> str:
    return t("col.agent", view.lang)


def _lines(console: Console, text: str, style: str = "") -> None:
    """A free-text line wrapped at the console's width as Chinese is (render/wrap.py)."""
    for line in wrap(text, console.width):
        console.print(Text(line, style=style), no_wrap=True, crop=True)


def _title(text: str, width: int) -> Text:
    """A table's title broken between its ` · ` parts where it must (`≤ 0 次` stays whole)."""
    return Text("\n".join(wrap(text, width, " · ")), style="bold")


def _what(text: str, match: str | None) -> Text:
    what = Text(text)
    if match:
        # The match is normalized text; it is marked where it appears as written.
        what.highlight_words([match], style="bold reverse", case_sensitive=False)
    return what


def _table_leaves_room(columns: list[str], rows: list[list[str]], width: int) -> bool:
    """Whether a findings table `width` cells wide leaves WHAT_MIN for the message column
    once every other column holds its widest cell whole (rich's borders: 3 per column + 1)."""
    fixed = sum(
        max(cell_len(line) for cell in (column, *(row[i] for row in rows)) for line in cell.split("\n"))
        for i, column in enumerate(columns[:-1])
    )
    return width - fixed - (3 * len(columns) + 1) >= WHAT_MIN


def _finding_list(console: Console, columns: list[str], rows: list[list[str]], marks: list, title: str) -> None:
    """Findings on a narrow terminal: one heading line per finding (code, severity, who,
    when, conversation), its text indented below; a seven-column table would fold every
    cell into a tall narrow strip."""
    _lines(console, title, "bold")
    for row, (severity, match) in zip(rows, marks, strict=True):
        head = Text()
        head.append(row[0], style="bold")
        for i, cell in enumerate(row[1:-1], start=1):
            if cell != "-":
                head.append("  ")
                head.append(cell, style=_SEVERITY_STYLE.get(severity, "") if i == 1 else "")
        for part in wrap_text(head, console.width):
            console.print(part, no_wrap=True, crop=True)
        for line in row[-1].split("\n"):
            for part in wrap_text(_what(line, match), console.width - 4):
                console.print(Text("    ").append_text(part), no_wrap=True, crop=True)


def render(
    result: AuditResult,
    *,
    color: bool = False,
    width: int = 120,
    quiet: bool = False,
    summary_only: bool = False,
    lang: str = "en",
    show_paths: bool = False,
    items: int = DEFAULT_ITEMS,
    **_: Any,
) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, color_system="standard" if color else None, no_color=not color, highlight=False)
    if not quiet:
        for line in header_lines(result, lang, show_paths=show_paths):
            _lines(console, line, "dim")
        for line in reader_note_lines(result, lang):
            _lines(console, line, "bold yellow")
    if not quiet or summary_only:
        view = summary(result, lang)
        for line in summary_lines(view, width):
            console.print(line, no_wrap=True, overflow="ellipsis", crop=True)
    if summary_only:
        return buffer.getvalue()
    if not quiet:
        for card in scorecards(result, lang):
            # As wide as its title (up to the width), so the title never breaks mid-threshold.
            title = _title(card.title, width)
            table = Table(title=title, title_justify="left", show_lines=False, min_width=min(max(map(cell_len, title.plain.split("\n"))), width))
            for column in card.columns:
                table.add_column(column, justify="right" if column in NUMERIC_COLUMNS else "left")
            for row, status in zip(card.rows, card.statuses, strict=True):
                cells = [Text(c) for c in row]
                cells[len(card.columns) - 1 - (card.columns[-1] == t("col.tier", lang))].stylize(_STATUS_STYLE[status])
                table.add_row(*cells)
            console.print(table)
        columns, rows = points_rows(result, lang)
        if rows:
            table = Table(title=Text(t("section.points", lang, day=result.as_of), style="bold"), title_justify="left")
            for i, column in enumerate(columns):
                table.add_column(column, justify="left" if i == 0 else "right")
            for row in rows:
                table.add_row(*map(Text, row))
            console.print(table)
        _drilldown(console, result, items, lang)
    columns, rows = finding_rows(result, lang)
    if not rows:
        # green only when there is nothing at all: known findings are still failing rules
        console.print(no_findings_line(result, lang), style="green" if result.findings.is_empty() else "bold")
        return buffer.getvalue()
    marks = finding_marks(result)
    if width < LIST_BELOW or not _table_leaves_room(columns, rows, width):
        _finding_list(console, columns, rows, marks, t("section.findings", lang, n=shown_findings(result).height))
    else:
        table = Table(title=t("section.findings", lang, n=shown_findings(result).height), title_justify="left")
        for column in columns:
            # Only the message folds: the conversation id stays whole, as in the item tables
            # (`show` takes it, copied), and so do the code, who and when.
            table.add_column(column, overflow="fold", no_wrap=column != columns[-1])
        for row, (severity, match) in zip(rows, marks, strict=True):
            cells = [Text(c) for c in row[:-1]] + [_what(row[-1], match)]
            cells[1].stylize(_SEVERITY_STYLE.get(severity, ""))
            table.add_row(*cells)
        console.print(table)
    if not quiet:
        console.print(Text(summary(result, lang).closing, style="bold"))
    return buffer.getvalue()


def _drilldown(console: Console, result: AuditResult, limit: int, lang: str) -> None:
    """What at-risk periods still need, then the worst items of each failing metric."""
    columns, rows = need_rows(result, lang=lang)
    if rows:
        table = Table(title=Text(labels(lang)["needs_title"], style="bold"), title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*map(Text, row))
        console.print(table)
    for card in item_tables(result, limit, compact=console.width < 100, lang=lang):
        table = Table(title=_title(card.title, console.width), title_justify="left")
        for column in card.columns:
            # The conversation id stays whole: it is what `cservice-audit show` takes.
            words = labels(lang)["item_columns"]
            table.add_column(column, justify="right" if column == words[4] else "left", overflow="fold", no_wrap=column == words[1])
        for row in card.rows:
            table.add_row(*map(Text, row))
        console.print(table)
