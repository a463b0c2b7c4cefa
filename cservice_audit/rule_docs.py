"""What `rules` and `explain` print: a ruleset's rules and one rule's documentation page.

A check's module docstring is its documentation; the ruleset adds the platform's numbers,
sources and confidence.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from cservice_audit.sanitize import one_line, terminal_safe
from cservice_audit.checks import CHECKS
from cservice_audit.errors import AuditError
from cservice_audit.params import Window
from cservice_audit.ruleset import Rule, Ruleset, load_file, load_platform, shipped_platforms


# (how many items to show, text for the rest given their number): `rules` folds long phrase
# and keyword lists unless -v; None shows every item.
Fold = tuple[int, Callable[[int], str]] | None


def _param_text(value: Any, fold: Fold = None) -> str:
    if isinstance(value, Window):
        return value.label()
    if isinstance(value, tuple):
        if fold is not None and len(value) > fold[0]:
            return "[" + ", ".join(str(v) for v in value[: fold[0]]) + ", " + fold[1](len(value) - fold[0]) + "]"
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _param_json(value: Any) -> Any:
    if isinstance(value, Window):
        return {"start": value.label().split("–")[0], "end": value.label().split("–")[1]}
    if isinstance(value, tuple):
        return list(value)
    return value


def escalation_line(rule: Rule) -> str:
    if rule.escalation is None:
        return ""
    tiers = "; ".join(
        f"{t.at}: {t.label} ({t.severity}{f', points {t.points:g}' if t.points else ''}) {t.penalty}".rstrip()
        for t in rule.escalation.tiers
    )
    return f"escalation within {rule.escalation.lookback_days} days: {tiers}"


def params_line(rule: Rule, fold: Fold = None) -> str:
    return ", ".join(f"{k}={_param_text(v, fold)}" for k, v in rule.params.items() if v is not None)


def rule_dict(rule: Rule) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "title": rule.title,
        "check": rule.check,
        "severity": rule.severity,
        "points": rule.points,
        "confidence": rule.confidence,
        "confidence_note": rule.confidence_note,
        "source": rule.source,
        "sources": list(rule.sources),
        "params": {k: _param_json(v) for k, v in rule.params.items()},
        "escalation": None
        if rule.escalation is None
        else {
            "lookback_days": rule.escalation.lookback_days,
            "tiers": [
                {"at": t.at, "label": t.label, "severity": t.severity, "penalty": t.penalty, "points": t.points}
                for t in rule.escalation.tiers
            ],
        },
    }


def ruleset_dict(ruleset: Ruleset) -> dict[str, Any]:
    return {
        "platform": ruleset.platform,
        "name": ruleset.name,
        "version": ruleset.version,
        "effective": ruleset.effective.isoformat(),
        "timezone": ruleset.timezone,
        "origin": ruleset.origin,
        "session_gap": ruleset.session_gap,
        "exempt_dates": [d.isoformat() for d in ruleset.exempt_dates],
        "sources": list(ruleset.sources),
        "notes": list(ruleset.notes),
        "rules": [rule_dict(r) for r in ruleset.rules],
    }


def ruleset_table(ruleset: Ruleset, fold: Fold = None) -> list[Any]:
    heading = (
        f"{ruleset.name} ({ruleset.platform}) version {ruleset.version}, effective {ruleset.effective}, "
        f"zone {ruleset.timezone}, from {ruleset.origin}"
    )
    table = Table(title=one_line(heading), title_justify="left", show_lines=True)
    for column in ("code", "rule", "check", "severity", "parameters", "confidence", "source"):
        table.add_column(column, overflow="fold")
    for rule in ruleset.rules:
        points = f"; points {rule.points:g}" if rule.points else ""
        cells = (
            rule.code,
            f"{rule.title}\n{rule.name}",
            rule.check,
            rule.severity,
            params_line(rule, fold) + points + (f"\n{escalation_line(rule)}" if rule.escalation else ""),
            f"{rule.confidence}: {rule.confidence_note}" if rule.confidence_note else rule.confidence,
            "\n".join([rule.source, *(f"[{i}]" for i in rule.sources)]).strip(),
        )
        table.add_row(*(Text(terminal_safe(c)) for c in cells))  # plain text: `[agent]` is not markup
    sources = "\n".join(source_line(s) for s in ruleset.sources)
    notes = "\n".join(f"note: {n}" for n in ruleset.notes)
    extra = []
    if ruleset.session_gap:
        extra.append(f"session gap: {ruleset.session_gap:g} s")
    extra.append("exempt dates: " + (", ".join(d.isoformat() for d in ruleset.exempt_dates) or "none"))
    return [table, Text(terminal_safe(sources)), *([Text(terminal_safe(notes))] if notes else []), Text(terminal_safe("\n".join(extra)))]


def source_line(source: dict[str, str]) -> str:
    """`source [seed-000] title (2023-10-13): note`: what a rule's `sources` ids point to."""
    ref = f" [{source['id']}]" if source.get("id") else ""
    date = f" ({source['date']})" if source.get("date") else ""
    note = f": {source['note']}" if source.get("note") else ""
    url = f" {source['url']}" if source.get("url") else ""
    return f"source{ref} {source['title']}{date}{url}{note}"


def find_rule(code: str, ruleset_file: Path | None) -> tuple[Ruleset, Rule]:
    candidates = [load_file(ruleset_file)] if ruleset_file else [load_platform(p) for p in shipped_platforms()]
    for ruleset in candidates:
        for rule in ruleset.rules:
            if rule.code == code:
                return ruleset, rule
    known = ", ".join(r.code for rs in candidates for r in rs.rules)
    raise AuditError(f"unknown rule code '{code}' (known: {known})")


def explain_rule(ruleset: Ruleset, rule: Rule) -> str:
    check = CHECKS[rule.check]
    lines = [
        f"{rule.code}  {rule.title}  ({rule.name})",
        f"platform {ruleset.name} ({ruleset.platform}), ruleset version {ruleset.version}, effective {ruleset.effective}",
        f"check {rule.check}, severity {rule.severity}" + (f", points {rule.points:g} each" if rule.points else ""),
        f"confidence {rule.confidence}" + (f": {rule.confidence_note}" if rule.confidence_note else ""),
    ]
    if rule.source:
        lines.append(f"source {rule.source}")
    for source_id in rule.sources:
        cited = ruleset.source(source_id)
        lines.append(source_line(cited) if cited else f"source [{source_id}]")
    if rule.escalation:
        lines.append(escalation_line(rule))
    if rule.description:
        lines += ["", rule.description]
    lines += ["", "Parameters in effect"]
    for key, spec in check.PARAMS.items():
        value = rule.params.get(key)
        lines.append(f"    {key} = {_param_text(value) if value is not None else '(none)'}    # {spec.doc}")
    lines += ["", inspect.cleandoc(check.__doc__ or "")]
    return terminal_safe("\n".join(lines)) + "\n"  # a user's ruleset texts, shown safe
