"""Rich tables for a person at a terminal: the scorecards, then the findings."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cservice_audit.audit import AuditResult
from cservice_audit.sanitize import one_line
from cservice_audit.render.items_view import DEFAULT_ITEMS, LABELS, item_tables, need_rows
from cservice_audit.render.views import finding_rows, header_lines, points_rows, scorecards, shown_findings

_STATUS_STYLE = {"pass": "green", "fail": "bold red", "at_risk": "yellow", "insufficient": "dim"}
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render(
    result: AuditResult,
    *,
    color: bool = False,
    width: int = 120,
    quiet: bool = False,
    show_paths: bool = False,
    items: int = DEFAULT_ITEMS,
    **_: Any,
) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, color_system="standard" if color else None, no_color=not color)
    if not quiet:
        for line in header_lines(result, show_paths):
            console.print(Text(line, style="dim"))
        for card in scorecards(result):
            table = Table(title=Text(card.title, style="bold"), title_justify="left", show_lines=False)
            for column in card.columns:
                table.add_column(column, justify="left" if column in ("agent", "status") else "right")
            for row, status in zip(card.rows, card.statuses, strict=True):
                table.add_row(*map(Text, row[:-1]), Text(row[-1], style=_STATUS_STYLE[status]))
            console.print(table)
        columns, rows = points_rows(result)
        if rows:
            table = Table(title=Text(f"Points in force on {result.as_of}", style="bold"), title_justify="left")
            for column in columns:
                table.add_column(column, justify="left" if column == "agent" else "right")
            for row in rows:
                table.add_row(*map(Text, row))
            console.print(table)
        _drilldown(console, result, items)
    columns, rows = finding_rows(result)
    if not rows:
        console.print("No findings.", style="green")
        return buffer.getvalue()
    table = Table(title=f"Findings ({len(rows)})", title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row, match in zip(rows, shown_findings(result).get_column("match"), strict=True):
        what = Text(row[-1])
        if match:
            # The match is normalized text; it is marked where it appears as written.
            what.highlight_words([one_line(match)], style="bold reverse", case_sensitive=False)
        table.add_row(Text(row[0]), Text(row[1], style=_SEVERITY_STYLE.get(row[1], "")), *map(Text, row[2:-1]), what)
    console.print(table)
    return buffer.getvalue()


def _drilldown(console: Console, result: AuditResult, limit: int) -> None:
    """What at-risk periods still need, then the worst items of each failing metric."""
    columns, rows = need_rows(result)
    if rows:
        table = Table(title=Text(LABELS["needs_title"], style="bold"), title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*map(Text, row))
        console.print(table)
    for card in item_tables(result, limit, compact=console.width < 100):
        table = Table(title=Text(card.title, style="bold"), title_justify="left")
        for column in card.columns:
            # The conversation id stays whole: it is what `cservice-audit show` takes.
            table.add_column(column, justify="right" if column == "wait" else "left", overflow="fold", no_wrap=column == "conversation")
        for row in card.rows:
            table.add_row(*map(Text, row))
        console.print(table)
