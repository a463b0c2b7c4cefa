"""What `rules` and `explain` print: a ruleset's rules and one rule's documentation page.

A check's module docstring is its documentation; the ruleset adds the platform's numbers,
sources and confidence.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from cservice_audit.sanitize import one_line, terminal_safe
from cservice_audit.checks import CHECKS
from cservice_audit.errors import AuditError
from cservice_audit.i18n import listed
from cservice_audit.i18n import t as _t
from cservice_audit.params import Window
from cservice_audit.shipped import data_yaml
from cservice_audit.ruleset import SOURCE_ZH, Rule, Ruleset, RulesetError, disabled_in, load_file, load_platform, origin_text, shipped_platforms


# (how many items to show, text for the rest given their number): `rules` folds long phrase
# and keyword lists unless -v; None shows every item.
Fold = tuple[int, Callable[[int], str]] | None


def _param_text(value: Any, fold: Fold = None) -> str:
    """A parameter as the ruleset file writes it (YAML's true/false, not Python's True/False)."""
    if isinstance(value, bool):
        return "true" if value else "false"
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


def escalation_line(rule: Rule, lang: str = "en") -> str:
    if rule.escalation is None:
        return ""
    tiers = _t("list.semi", lang).join(
        _t("explain.tier", lang, at=t.at, label=t.label, severity=_t(f"severity.{t.severity}", lang), points=_t("explain.tier_points", lang, points=f"{t.points:g}") if t.points else "", penalty=t.penalty).rstrip()
        for t in rule.escalation.tiers
    )
    return _t("explain.escalation", lang, days=rule.escalation.lookback_days, tiers=tiers)


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
        # the English only, as before the Chinese twins (`rules -f json` keeps its shape)
        "sources": [{k: v for k, v in s.items() if k not in SOURCE_ZH} for s in ruleset.sources],
        "notes": list(ruleset.notes),
        "rules": [rule_dict(r) for r in ruleset.rules],
    }


def confidence_text(rule: Rule, lang: str) -> str:
    """The rule's confidence word, with its note when it has one (可信度 推定：80%的门槛是…)."""
    word = _t(f"confidence.{rule.confidence}", lang)
    note = rule.prose("confidence_note", lang)
    return _t("confidence.with_note", lang, confidence=word, note=note) if note else word


def ruleset_table(ruleset: Ruleset, fold: Fold = None, lang: str = "en") -> list[Any]:
    """The rules in effect as a table, in `lang`; titles, parameters, notes and sources are
    the ruleset's own text (in Chinese its `*_zh` texts where it has them)."""
    heading = _t(
        "rules.heading", lang, name=ruleset.name, platform=ruleset.platform, version=ruleset.version,
        effective=ruleset.effective, zone=ruleset.timezone, origin=origin_text(ruleset, lang),
    )  # fmt: skip
    table = Table(title=one_line(heading), title_justify="left", show_lines=True)
    for column in ("code", "rule", "check", "severity", "parameters", "confidence", "source"):
        table.add_column(_t(f"rules.col.{column}", lang), overflow="fold")
    for rule in ruleset.rules:
        points = _t("rules.points", lang, points=f"{rule.points:g}") if rule.points else ""
        cells = (
            rule.code,
            f"{rule.title}\n{rule.name}",
            rule.check,
            _t(f"severity.{rule.severity}", lang),
            params_line(rule, fold) + points + (f"\n{escalation_line(rule, lang)}" if rule.escalation else ""),
            confidence_text(rule, lang),
            "\n".join([rule.prose("source", lang), *(f"[{i}]" for i in rule.sources)]).strip(),
        )
        table.add_row(*(Text(terminal_safe(c)) for c in cells))  # plain text: `[agent]` is not markup
    sources = "\n".join(source_line(s, lang) for s in ruleset.sources)
    notes = "\n".join(_t("rules.note", lang, note=n) for n in ruleset.notes_in(lang))
    extra = []
    if ruleset.session_gap:
        extra.append(_t("rules.session_gap", lang, seconds=f"{ruleset.session_gap:g}"))
    dates = _t("list.sep", lang).join(d.isoformat() for d in ruleset.exempt_dates) or _t("rules.exempt_none", lang)
    extra.append(_t("rules.exempt", lang, dates=dates))
    return [table, Text(terminal_safe(sources)), *([Text(terminal_safe(notes))] if notes else []), Text(terminal_safe("\n".join(extra)))]


def source_line(source: dict[str, str], lang: str = "en") -> str:
    """`source [seed-000] title (2023-10-13): note`: what a rule's `sources` ids point to; in
    Chinese the source's `title_zh` and `note_zh` where it has them."""

    def text(key: str) -> str:
        return (lang == "zh" and source.get(f"{key}_zh")) or source.get(key) or ""

    ref = f" [{source['id']}]" if source.get("id") else ""
    date = f" ({source['date']})" if source.get("date") else ""
    note = f": {text('note')}" if text("note") else ""
    url = f" {source['url']}" if source.get("url") else ""
    return _t("explain.source", lang, source=f"{ref} {text('title')}{date}{url}{note}".lstrip())


def find_rule(code: str, ruleset_file: Path | None) -> tuple[Ruleset, Rule]:
    candidates = [load_file(ruleset_file)] if ruleset_file else [load_platform(p) for p in shipped_platforms()]
    for ruleset in candidates:
        for rule in ruleset.rules:
            if rule.code == code:
                return ruleset, rule
    if ruleset_file and (where := disabled_in(ruleset_file, code)):
        # The shop's file, or the base file it extends, switched it off: "unknown code" read as
        # a typo of a code it just wrote.
        raise AuditError("error.code_disabled", code=code, path=where)
    known = listed(r.code for rs in candidates for r in rs.rules)
    raise AuditError("error.unknown_code", code=code, known=known)


# The fixed section headings of a check's docstring (style.md), shown in the reader's language.
DOC_HEADINGS = {"What it checks": "explain.what", "Why it matters": "explain.why", "Parameters": "explain.parameters", "Example finding": "explain.example",
                "Example findings": "explain.examples"}


# The sections of a docstring written again in Chinese (data/check_docs_zh.yaml); the
# parameter list and the example finding are names and data, the same in both languages.
ZH_SECTIONS = {"What it checks": "what", "Why it matters": "why"}


@cache
def _zh_docs() -> dict[str, dict[str, Any]]:
    return data_yaml("data/check_docs_zh.yaml")


# The docstring's example sections: `explain` shows the rule's own example (the check's
# `example(rule, lang)`, checks/example.py) in their place, not the docstring's, which is
# another platform's rule.
EXAMPLE_SECTIONS = ("Example finding", "Example findings")


def check_doc(rule: Rule, lang: str) -> list[str]:
    """The page of the rule's check (its docstring) as lines, headings in `lang`; in Chinese,
    its summary and the what and why sections from data/check_docs_zh.yaml; the example
    finding(s) of this rule."""
    name = rule.check
    doc = inspect.cleandoc(CHECKS[name].__doc__ or "").split("\n")
    zh = _zh_docs()[name] if lang == "zh" else None
    lines, section = [], None
    for number, line in enumerate(doc):
        if line in EXAMPLE_SECTIONS:
            examples = CHECKS[name].example(rule, lang)
            lines.append(_t("explain.examples" if len(examples) > 1 else "explain.example", lang))
            lines += ["    " + terminal_safe(one_line(e)) for e in examples]
            section = "skip"
        elif zh and line == "Parameters":
            section = "skip"  # names only: the parameters in effect above list each with its Chinese note
        elif line in DOC_HEADINGS:
            section = ZH_SECTIONS.get(line)
            lines.append(_t(DOC_HEADINGS[line], lang))
            if zh and section:
                lines += ["    " + text for text in zh[section].rstrip().split("\n")]
        elif number == 0 and zh:
            lines.append(zh["summary"])
        elif section != "skip" and (not (zh and section) or not line.strip()):
            lines.append(line)
    return lines


# A parameter's value in Chinese words: the catalogue word of a choice (its key in the ruleset
# is the English); lists of regular expressions and models by their number (`rules -v` shows
# them whole), lexicons by their titles.
ZH_WORDS = {"unit": "noun.", "period": "period.", "reply_roles": "role.", "roles": "role.", "scopes": "scope.",
            "negation_scope": "explain.scope.", "measure": "explain.measure."}


def param_value(spec: Any, key: str, value: Any, lang: str) -> str:
    """A parameter's value as `explain` shows it in `lang` (English: as the ruleset writes it)."""
    if value is None:
        return _t("explain.none", lang)
    if lang != "zh" or isinstance(value, Window):
        return _param_text(value)
    if isinstance(value, bool):
        return _t(f"explain.flag.{str(value).lower()}", lang)
    if key in ZH_WORDS:
        words = [_t(ZH_WORDS[key] + v, lang) for v in (value if isinstance(value, (tuple, list)) else (value,))]
        return "[" + ", ".join(words) + "]" if isinstance(value, (tuple, list)) else words[0]
    if key == "lexicons":
        from cservice_audit.phrase_engine import lexicon

        return "[" + ", ".join(lexicon(name).get("title") or name for name in value) + "]"
    if key == "models":
        return _t("explain.models", lang, n=len(value))
    if spec.kind == "regexes":
        return _t("explain.regexes", lang, n=len(value))
    if isinstance(value, dict):
        return _t("explain.reasons", lang, n=len(value))
    return _param_text(value)


def _was(spec: Any, key: str, raw: Any, lang: str) -> str:
    """`（本规则集改动，原为 0.8）`: the base's value of a parameter a file that extends it changed;
    a list by its length (TB-P1's 230 words do not fit a line)."""
    if isinstance(raw, list):
        return _t("explain.was_list", lang, n=len(raw))
    value = param_value(spec, key, spec.default_value() if raw is None else spec.parse(raw), lang)
    # 原为 （无） read as a slip: a list or value the base did not have is said in words
    return _t("explain.was_none", lang) if value == _t("explain.none", lang) else _t("explain.was", lang, value=value)


def param_doc(check: str, key: str, doc: str, lang: str) -> str:
    """A parameter's one-line note in `lang` (the check's PARAMS have the English)."""
    return _zh_docs()[check]["params"][key] if lang == "zh" else doc


def explain_rule(ruleset: Ruleset, rule: Rule, lang: str = "en") -> str:
    """The `explain` page in `lang`: labels, headings, the check's prose and the parameters'
    notes; the ruleset's own texts (description, confidence notes, sources) as written, in
    Chinese its `*_zh` texts where it has them."""
    check = CHECKS[rule.check]
    changed = dict(rule.changed)
    # A severity or points the shop's file changed carries the base's, as a parameter does.
    severity_was = _t("explain.was", lang, value=_t(f"severity.{changed['severity']}", lang)) if "severity" in changed else ""
    points_was = _t("explain.was_points", lang, value=f"{changed['points']:g}") if "points" in changed else ""
    lines = [
        f"{rule.code}  {rule.title}  ({rule.name})",
        _t("explain.platform", lang, name=ruleset.name, platform=ruleset.platform, version=ruleset.version, effective=ruleset.effective),
        _t("explain.check", lang, check=_zh_docs()[rule.check]["name"] if lang == "zh" else rule.check, severity=_t(f"severity.{rule.severity}", lang))
        + severity_was
        + (_t("explain.points", lang, points=f"{rule.points:g}") + points_was if rule.points or points_was else ""),
        _t("explain.confidence", lang, confidence=confidence_text(rule, lang)),
    ]
    if changed.keys() - {"confidence"}:
        # The confidence note is the base's: its numbers may be the ones this file changed.
        keys = _t("list.sep", lang).join(k for k in changed if k != "confidence")
        lines.append(_t("explain.changed" if "confidence" in changed else "explain.changed_note", lang, keys=keys, base=ruleset.extends))
    if rule.prose("source", lang):
        lines.append(_t("explain.source", lang, source=rule.prose("source", lang)))
    for source_id in rule.sources:
        cited = ruleset.source(source_id)
        lines.append(source_line(cited, lang) if cited else _t("explain.source", lang, source=f"[{source_id}]"))
    if rule.escalation:
        lines.append(escalation_line(rule, lang))
    if rule.prose("description", lang):
        lines += ["", rule.prose("description", lang)]
    lines += ["", _t("explain.params", lang)]
    for key, spec in check.PARAMS.items():
        value = rule.params.get(key)
        was = _was(spec, key, changed[key], lang) if key in changed else ""
        lines.append(f"    {key} = {param_value(spec, key, value, lang)}    # {param_doc(rule.check, key, spec.doc, lang)}{was}")
    lines += ["", *check_doc(rule, lang)]
    if lang == "zh":  # the developer's references (spec, files, commands), last and apart
        lines += ["", _t("explain.see", lang, refs=_zh_docs()[rule.check]["see"])]
    return terminal_safe("\n".join(lines)) + "\n"  # a user's ruleset texts, shown safe
