"""Render: pure functions `render(result, ...) -> str` (bytes for the workbook). They never
filter, open files or exit. `STREAMED` formats also come as an iterator of pieces, which the
command line writes as they come (a report of millions of items is never one string)."""

from __future__ import annotations

from cservice_audit.render import csv_report, digest, html, json_report, markdown, table, xlsx

FORMATS = {
    "table": table.render,
    "json": json_report.render,
    "jsonl": json_report.render_lines,
    "csv": csv_report.render,
    "markdown": markdown.render,
    "xlsx": xlsx.render,
    "html": html.render,
    "digest": digest.render,
}

STREAMED = {
    "json": json_report.render_chunks,
    "jsonl": json_report.render_lines_chunks,
}
