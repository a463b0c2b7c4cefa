"""Rulesets: strict YAML that instantiates checks with a platform's parameters.

A ruleset names its platform, `version`, `effective` date and `sources`; each rule names the
check it uses (`reply_rate`, `average_wait`, ...), its code, severity, confidence and
parameters. `extends: pinduoduo` starts from a shipped ruleset and overrides by rule code, so
a user can change one threshold without copying the rest. Any unknown key, wrong type or
unknown check is a RulesetError naming the file and the key path. The prose a person reads
(description, confidence note, source, notes) may have a Chinese twin (`description_zh` ...)
that `explain` and `rules` show in Chinese (docs/rulesets.md).
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, replace
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from cservice_audit.errors import RulesetError, Term, os_reason, parser_problem
from cservice_audit.i18n import listed
from cservice_audit.params import ParamError, parse_date

SEVERITIES = ("error", "warning", "info")
CONFIDENCES = ("stated", "reported", "assumed")
PLATFORM_ALIASES = {
    "pdd": "pinduoduo", "拼多多": "pinduoduo",
    "ks": "kuaishou", "快手": "kuaishou",
    "dy": "douyin", "抖音": "douyin", "抖店": "douyin",
    "tb": "taobao", "tmall": "taobao", "淘宝": "taobao", "天猫": "taobao",
    "京东": "jd",
}  # fmt: skip
_CODE = re.compile(r"^[A-Z][A-Z0-9]*-[A-Z][A-Z0-9]*$")
_PLATFORM_ID = re.compile(r"^[a-z0-9_-]{1,64}\Z")
_TOP_KEYS = {
    "platform", "name", "version", "effective", "timezone", "sources", "extends",
    "session_gap", "exempt_dates", "rules", "notes", "notes_zh",
}  # fmt: skip
_RULE_KEYS = {
    "code", "name", "title", "check", "severity", "confidence", "confidence_note",
    "source", "sources", "description", "points", "enabled", "params", "escalation",
    "description_zh", "confidence_note_zh", "source_zh",
}  # fmt: skip
# A rule's prose with an optional Chinese twin (`KEY_zh`) that `explain` and `rules` show in
# Chinese. An `extends` override that changes the English but not its twin drops the base's
# Chinese: it described the base's text, not the override's (Chinese readers get the new English).
PROSE = ("description", "confidence_note", "source")
_ESCALATION_KEYS = {"lookback_days", "tiers"}
_TIER_KEYS = {"at", "label", "severity", "penalty", "points"}


@dataclass(frozen=True)
class Tier:
    at: int  # failures (or occurrences) that reach this tier
    label: str  # e.g. 情节严重
    severity: str
    penalty: str  # what the platform does, as text
    points: float = 0  # points the tier deducts (Kuaishou good-review rate: −2), on a failed period


@dataclass(frozen=True)
class Escalation:
    lookback_days: int
    tiers: tuple[Tier, ...]
# `id` lets a rule cite the source in its own `sources` list (the confidence of its numbers).
_SOURCE_KEYS = {"id", "title", "url", "note", "date", "title_zh", "note_zh"}
SOURCE_ZH = ("title_zh", "note_zh")  # shown in Chinese instead of `title` and `note`; texts


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    title: str
    check: str
    severity: str
    confidence: str
    params: dict[str, Any]
    points: float = 0
    confidence_note: str = ""
    source: str = ""
    description: str = ""
    escalation: Escalation | None = None
    sources: tuple[str, ...] = ()  # ids of the ruleset's sources that state the rule's numbers
    description_zh: str = ""  # the prose's Chinese (PROSE), empty where the ruleset has none
    confidence_note_zh: str = ""
    source_zh: str = ""
    # What a file that `extends:` another changed of this rule: (key, the base's value) for each
    # parameter, `severity` or `points` it set to another value. `explain` shows them, since the
    # confidence note above them speaks of the base's numbers (最低80%是我们自定的).
    changed: tuple[tuple[str, Any], ...] = ()

    def prose(self, key: str, lang: str) -> str:
        """`description`, `confidence_note` or `source` in `lang`: the Chinese where the
        ruleset has it, else the English."""
        return (lang == "zh" and getattr(self, f"{key}_zh")) or getattr(self, key)

    @property
    def deducts_points(self) -> bool:
        """Whether the rule, or one of its escalation tiers, deducts points."""
        return bool(self.points) or (self.escalation is not None and any(tier.points for tier in self.escalation.tiers))


@dataclass(frozen=True)
class Ruleset:
    platform: str
    name: str
    version: str
    effective: date
    timezone: str
    origin: str  # where it came from: "shipped:pinduoduo" or a file path (and what it extends)
    sources: tuple[dict[str, str], ...]
    rules: tuple[Rule, ...]
    exempt_dates: tuple[date, ...] = ()
    session_gap: float | None = None
    extends: str | None = None
    base_origin: str | None = None  # where the ruleset it extends came from ("shipped:douyin")
    notes: tuple[str, ...] = ()  # conflicts between sources and choices made, as text
    notes_zh: tuple[str, ...] = ()  # the notes in Chinese, shown instead of `notes` in Chinese
    # The earliest window start of all its rules (seconds after midnight), kept through
    # --select/--ignore: where a derived session ends for a buyer still waiting (normalize.sessions),
    # which must not depend on the rules a run selected (conversation ids are fingerprints).
    service_opens: int | None = None

    def notes_in(self, lang: str) -> tuple[str, ...]:
        return (lang == "zh" and self.notes_zh) or self.notes

    @property
    def deducts_points(self) -> bool:
        """Whether any rule deducts points (Douyin's count violations instead)."""
        return any(rule.deducts_points for rule in self.rules)

    def source(self, source_id: str) -> dict[str, str] | None:
        return next((s for s in self.sources if s.get("id") == source_id), None)

    def rule(self, code: str) -> Rule:
        for rule in self.rules:
            if rule.code == code:
                return rule
        raise KeyError(code)

    def selected(self, select: list[str] | None, ignore: list[str] | None) -> Ruleset:
        """Only the rules whose code matches a --select prefix and no --ignore prefix."""

        def matches(code: str, prefixes: list[str]) -> bool:
            return any(code == p or code.startswith(p) for p in prefixes)

        kept = tuple(
            r for r in self.rules if (not select or matches(r.code, select)) and not (ignore and matches(r.code, ignore))
        )
        return _replace(self, rules=kept)


def origin_text(ruleset: Ruleset, lang: str) -> str:
    """Where the ruleset came from, for people in `lang`: `my.yaml（改自 shipped:douyin）`. The
    JSON keeps `origin` in English (`my.yaml (extends shipped:douyin)`), the Chinese screens
    carried that English word."""
    from cservice_audit.i18n import t

    if ruleset.base_origin is None or ruleset.extends is None:
        return ruleset.origin
    path = ruleset.origin.removesuffix(f" (extends {ruleset.base_origin})")
    return t("ruleset.origin_extends", lang, path=path, base=ruleset.base_origin)


def _replace(ruleset: Ruleset, **changes: Any) -> Ruleset:
    return replace(ruleset, **changes)


def shipped_dir() -> Path:
    return Path(str(resources.files("cservice_audit").joinpath("rulesets")))


def shipped_platforms() -> list[str]:
    return sorted(p.stem for p in shipped_dir().glob("*.yaml"))


def resolve_platform(name: str) -> str:
    key = PLATFORM_ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in shipped_platforms():
        raise RulesetError("error.unknown_platform", name=name, known=listed(shipped_platforms()))
    return key


def load_platform(name: str) -> Ruleset:
    key = resolve_platform(name)
    return load_file(shipped_dir() / f"{key}.yaml", origin=f"shipped:{key}")


def replaced_lists(path: str | Path, data: Any) -> list[tuple[str, str, int, int]]:
    """The list parameters a valid file that `extends:` another writes without all of the
    base's entries: (key path, base, entries of the base left out, entries written). Params merge
    key by key, so `phrases: [竞品名]` replaces the base's whole list (TB-P1's 222 words) rather
    than adding to it; `validate-ruleset` says so, since the file is valid and "ok" alone hid it.
    `data` is the file as `read_file` read it."""
    path = Path(path)
    parent = data.get("extends") if isinstance(data, dict) else None
    if not isinstance(parent, str):
        return []
    base, _ = _base_of(path, parent)
    by_code = {r.get("code"): r for r in base.get("rules") or [] if isinstance(r, dict)}
    out = []
    for rule in data.get("rules") or []:
        params, base_params = rule.get("params"), (by_code.get(rule.get("code")) or {}).get("params")
        if not isinstance(params, dict) or not isinstance(base_params, dict):
            continue
        for key, value in params.items():
            old = base_params.get(key)
            if isinstance(value, list) and isinstance(old, list) and old:
                left_out = [x for x in old if x not in value]
                if left_out:
                    out.append((f"rules[{rule['code']}].params.{key}", parent, len(left_out), len(value)))
    return out


def written_codes(path: str | Path) -> dict[str, frozenset[str]]:
    """The codes a ruleset file's own `rules` list writes (not its base's), each with the
    parameter keys its entry writes: an entry for one of them goes into the entry there (a
    second one is `the code is used twice`), and a word to allow goes into a plain `allow`
    list it writes (beside it, `allow_add` is an error)."""
    data = _read_yaml(Path(path))
    rules = data.get("rules") if isinstance(data, dict) else None
    out: dict[str, frozenset[str]] = {}
    for rule in rules if isinstance(rules, list) else ():
        if isinstance(rule, dict) and isinstance(rule.get("code"), str):
            params = rule.get("params")
            out[rule["code"]] = frozenset(k for k in params if isinstance(k, str)) if isinstance(params, dict) else frozenset()
    return out


def load_file(path: str | Path, origin: str | None = None) -> Ruleset:
    path = Path(path)
    return _load(path, _read_yaml(path), origin)


def read_file(path: str | Path) -> Any:
    """A ruleset file's YAML as written, within the limits: for a caller that looks at what the
    file itself says besides loading it (`validate-ruleset`), reading it once."""
    return _read_yaml(Path(path))


def load_read(path: str | Path, data: Any) -> Ruleset:
    """The ruleset of `data`, as `read_file(path)` read it: checked and built, as `load_file`."""
    return _load(Path(path), data)


def _load(path: Path, data: Any, origin: str | None = None) -> Ruleset:
    """The ruleset `data`, as read from `path`, checked and built."""
    label = str(path)
    if not isinstance(data, dict):
        if isinstance(data, str) and _FULLWIDTH_KEY.match(data):  # extends：taobao, the whole file one text
            raise RulesetError("error.yaml_fullwidth_colon", path=label, line=1)
        raise RulesetError("error.ruleset_shape", path=label)
    _check_keys(label, "", data, _TOP_KEYS)
    parent = data.get("extends")
    if parent is not None:
        if not isinstance(parent, str):
            raise RulesetError("error.at", path=label, where="extends", problem=ParamError("rs.extends", value=repr(parent)))
        base, base_origin = _base_of(path, parent)
        _check_override_rules(label, data.get("rules"))
        _check_enabled(label, data.get("rules"))
        _check_new_codes(label, base, parent, data.get("rules"))
        _check_adds(label, base, data.get("rules"))
        merged = _merge(base, data)
        changed = _changed(base, data, merged)
        data = merged
        origin = f"{path} (extends {base_origin})"
    elif isinstance(data.get("rules"), list):
        # `enabled: false` drops a rule in a ruleset of its own too, not only in an override
        # (it used to be accepted and ignored: the rule ran).
        _check_enabled(label, data["rules"])
        data = {**data, "rules": [r for r in data["rules"] if not (isinstance(r, dict) and r.get("enabled") is False)]}
    ruleset = _build(label, data, origin or str(path))
    if parent is not None:  # the merged data has no `extends` of its own
        ruleset = _replace(ruleset, extends=parent, base_origin=base_origin, rules=tuple(replace(r, changed=changed.get(r.code, ())) for r in ruleset.rules))
    return ruleset


def _changed(base: dict, override: dict, merged: dict) -> dict[str, tuple[tuple[str, Any], ...]]:
    """Per code of `base` that `override` changes: (key, the base's value) for each parameter
    (`<list>_add` under its list's name), `severity` or `points` it sets to another value, and
    `confidence` when it writes its own confidence or note. `merged` is the two merged: the
    parameters as they came out of the merge, compared with the base's."""
    by_code = {r.get("code"): r for r in base.get("rules") or [] if isinstance(r, dict)}
    merged_by_code = {r.get("code"): r for r in merged.get("rules") or [] if isinstance(r, dict)}
    out = {}
    for rule in override.get("rules") or []:
        old = by_code.get(rule.get("code")) if isinstance(rule, dict) else None
        new = merged_by_code.get(rule.get("code")) if isinstance(rule, dict) else None
        if old is None or new is None:  # a rule of the file's own, or one it switched off
            continue
        pairs = [(key, old.get(key, unset)) for key, unset in (("severity", "error"), ("points", 0)) if key in rule and rule[key] != old.get(key, unset)]
        if any(key in rule for key in ("confidence", "confidence_note", "confidence_note_zh")):
            pairs.append(("confidence", old.get("confidence")))  # the file says its own confidence
        new_params, old_params = new.get("params"), old.get("params") or {}
        if isinstance(rule.get("params"), dict) and isinstance(new_params, dict) and isinstance(old_params, dict):
            pairs += [(key, old_params.get(key)) for key in sorted(new_params, key=str) if new_params[key] != old_params.get(key)]
        if pairs:
            out[rule["code"]] = tuple(pairs)
    return out


def disabled_in(path: Path, code: str) -> str | None:
    """Where `code` is written with `enabled: false`: the file `path` (load_file has already
    read it), or the local base file it `extends:` (whose rules a file extends without them)."""
    def off(data: Any) -> bool:
        rules = data.get("rules") if isinstance(data, dict) else None
        return isinstance(rules, list) and any(isinstance(r, dict) and r.get("code") == code and r.get("enabled") is False for r in rules)

    data = _read_yaml(path)
    if off(data):
        return str(path)
    parent = data.get("extends") if isinstance(data, dict) else None
    if isinstance(parent, str):
        base, origin = _base_of(path, parent)
        if off(base):
            return origin
    return None


def _base_of(path: Path, parent: str) -> tuple[dict, str]:
    """The ruleset `extends: parent` in `path` names, as read, and where it came from: a .yaml
    file beside `path`, else a shipped platform. A base file is a whole ruleset of its own,
    checked as one: its errors name it (a list or `rules: 5` there was an internal error)."""
    base_path = path.parent / parent
    if parent.endswith((".yaml", ".yml")) and base_path.exists():
        base = _read_yaml(base_path)
        if isinstance(base, dict) and base.get("extends"):
            raise RulesetError("error.extends_deep", path=str(path), parent=parent)
        _load(base_path, base)  # checked as read, not read again
        return base, str(base_path)
    try:
        key = resolve_platform(parent)
    except RulesetError as exc:
        raise RulesetError("error.at", path=str(path), where="extends", problem=exc) from None
    return _read_yaml(shipped_dir() / f"{key}.yaml"), f"shipped:{key}"


def _check_new_codes(label: str, base: Any, parent: str, rules: Any) -> None:
    """A code the base does not have adds a rule, which must then say its `check`. Without one it
    is a mistyped code: `enabled: false` on it was accepted and dropped nothing (the rule meant
    ran on), and changed params were told as a missing `check` key."""
    base_rules = base.get("rules") if isinstance(base, dict) else None
    codes = [r["code"] for r in base_rules if isinstance(r, dict) and isinstance(r.get("code"), str)] if isinstance(base_rules, list) else []
    for rule in rules if isinstance(rules, list) else []:
        if isinstance(rule, dict) and rule.get("code") not in codes and "check" not in rule:
            raise RulesetError("error.rs_code_not_in_base", path=label, where=f"rules[{rule['code']}]", code=rule["code"], parent=parent, codes=", ".join(codes))


def _check_enabled(label: str, rules: Any) -> None:
    """`enabled` is true or false: `"no"`, `"false"` or `0` used to keep the rule running."""
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(rule, dict) and "enabled" in rule and not isinstance(rule["enabled"], bool):
            where = f"rules[{rule['code']}]" if isinstance(rule.get("code"), str) else f"rules[{i}]"
            raise RulesetError("error.at", path=label, where=f"{where}.enabled", problem=ParamError("param.bool", value=repr(rule["enabled"])))


class _DatesAsText(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so an impossible date such as 2026-02-30 is
    reported by our validator with its key path instead of crashing inside PyYAML. Every
    user YAML file is read with it (a ruleset; a mapping, whose values are spellings)."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# libyaml twins of the loaders (same constructor and resolver, so the same values): a shipped
# ruleset parsed 0.23 s in pure Python, a twentieth in C. A document the C parser refuses is
# parsed again in Python, so the error a user sees keeps PyYAML's wording.
_FAST = {yaml.SafeLoader: getattr(yaml, "CSafeLoader", None)}
if _FAST[yaml.SafeLoader] is not None:
    _FAST[_DatesAsText] = type("_CDatesAsText", (yaml.CSafeLoader,), {"yaml_implicit_resolvers": _DatesAsText.yaml_implicit_resolvers})


def _read_yaml(path: Path) -> Any:
    return read_yaml_file(path, "ruleset", RulesetError)


def _what(what: str) -> Term | str:
    """"ruleset" / "mapping file" as a catalogue word (file.*) for the error's language."""
    return Term({"ruleset": "file.ruleset", "mapping file": "file.mapping"}[what]) if what in ("ruleset", "mapping file") else what


# A key followed by a full-width colon (code：TB-R3), as a Chinese input method types it.
_FULLWIDTH_KEY = re.compile(r"^\s*(-\s+)?[A-Za-z_][A-Za-z0-9_]*\s*：")


def read_yaml_file(path: str | Path, what: str, error: type[Exception], loader: type = _DatesAsText) -> Any:
    """A small YAML file (a ruleset, a mapping) read within the limits: at most `yaml_bytes`,
    nested at most `yaml_depth` deep, and at most `yaml_nodes` nodes with every alias expanded.
    Aliases are allowed (yaml.dump writes them for repeated lists) but counted as what they
    stand for, so a few hundred bytes of nested aliases (the "billion laughs") are refused
    before anything walks them. Both are checked on the event stream, which PyYAML parses
    without recursion, before the recursive composer runs."""
    from cservice_audit import limits

    cap = limits.current()
    try:
        with open(path, "rb") as fh:
            data = fh.read(cap.yaml_bytes + 1)
    except OSError as exc:
        raise error("error.yaml_unreadable", path=path, what=_what(what), reason=os_reason(exc)) from exc
    if len(data) > cap.yaml_bytes:
        raise error("error.limit_exceeded", **limits.over("yaml_bytes", "error.limit_yaml_bytes", path=path, what=_what(what)))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise error("error.yaml_utf8", path=path, what=_what(what)) from None
    try:
        _check_yaml_shape(text, path, what, error, cap)
        fast = _FAST.get(loader)
        if fast is not None:
            try:
                return yaml.load(text, Loader=fast)  # noqa: S506 - a CSafeLoader (subclass)
            except yaml.YAMLError:
                pass
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader (subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = parser_problem(getattr(exc, "problem", None) or str(exc).splitlines()[0])
        # What a person typed, said plainly: PyYAML's words (mapping values are not allowed in
        # this context, found character that cannot start any token) named neither.
        lines = text.splitlines()
        line = _fullwidth_key_line(lines, mark, _FAST.get(loader) or loader)
        if line is not None:
            raise error("error.yaml_fullwidth_colon", path=path, line=line) from None
        # The tab PyYAML stopped at; one inside a quoted text on the line is not the cause.
        if mark and mark.line < len(lines) and lines[mark.line][mark.column : mark.column + 1] == "\t":
            raise error("error.yaml_tab", path=path, line=mark.line + 1) from None
        if mark:
            raise error("error.yaml_invalid_at", path=path, line=mark.line + 1, problem=problem) from None
        raise error("error.yaml_invalid", path=path, problem=problem) from None


_FULLWIDTH_TRIES = 8  # lines with a full-width colon tried as the cause, nearest the error first


def _fullwidth_key_line(lines: list[str], mark: Any, loader: type) -> int | None:
    """The line (1-based) at or before the error whose key is followed by a full-width colon
    and is the error's cause: written with ': ', the file parses further. The nearest such line
    is tried first. A list item or a text that holds one (`- wx：`, a description's `Note：`) is
    valid YAML: it was named instead of the tab or the unclosed bracket further down."""
    at = _error_at("\n".join(lines), loader)
    last = min(mark.line + 1, len(lines)) if mark else len(lines)
    # Each try parses the whole file again: the nearest few only (a phrase list of 3000 `- wx：`
    # above an unclosed bracket took 40 s on a 70 KB file; a 4 MiB one, hours).
    tries = _FULLWIDTH_TRIES
    for n in range(last - 1, -1, -1):
        key = _FULLWIDTH_KEY.match(lines[n])
        if key is None:
            continue
        if tries == 0:
            break
        tries -= 1
        fixed = lines[n][: key.end() - 1] + ": " + lines[n][key.end() :]
        after = _error_at("\n".join([*lines[:n], fixed, *lines[n + 1 :]]), loader)
        if after is None or (at is not None and after > at):
            return n + 1
    return None


def _error_at(text: str, loader: type) -> tuple[int, int] | None:
    """Where `text` stops parsing, (line, column); None when it parses."""
    try:
        yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader or CSafeLoader (subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return (mark.line, mark.column) if mark else (0, 0)
    except RecursionError:
        return (0, 0)
    return None


def _check_yaml_shape(text: str, path: str | Path, what: str, error: type[Exception], cap: Any) -> None:
    from cservice_audit import limits

    parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, nodes counted when it opened)
    sizes: dict[str, int] = {}  # anchor -> nodes it stands for, aliases inside expanded
    nodes = 0
    for event in yaml.parse(text, Loader=parser):
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            open_nodes.append((event.anchor, nodes))
            nodes += 1
            if len(open_nodes) > cap.yaml_depth:
                over = limits.over("yaml_depth", "error.limit_yaml_depth", path=path, what=_what(what), depth=cap.yaml_depth, line=line)
                raise error("error.limit_exceeded", **over)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, start = open_nodes.pop()
            if anchor is not None:
                sizes[anchor] = nodes - start
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            nodes += sizes.get(event.anchor, 1)
        if nodes > cap.yaml_nodes:
            over = limits.over("yaml_nodes", "error.limit_yaml_nodes", path=path, what=_what(what), nodes=cap.yaml_nodes, line=line)
            raise error("error.limit_exceeded", **over)


def _check_keys(label: str, where: str, data: dict, allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            if isinstance(key, str) and "：" in key:  # params：{min_rate: 0.85} reads as one key
                raise RulesetError("error.rs_fullwidth_colon_key", path=label, where=f"{where}{key}")
            raise RulesetError("error.rs_unknown_key", path=label, where=f"{where}{key}", known=", ".join(sorted(allowed)))


def _check_override_rules(label: str, rules: Any) -> None:
    if rules is None:
        return
    if not isinstance(rules, list):
        raise RulesetError("error.rs_expected", path=label, where="rules", what=Term("rs.list_of_rules"))
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or not isinstance(rule.get("code"), str):
            raise RulesetError("error.rs_code_needed", path=label, where=f"rules[{i}].code")
        _check_keys(label, f"rules[{rule['code']}].", rule, _RULE_KEYS)
        # Two entries for one code: the last used to win silently, so a threshold written
        # twice (once tightened, once forgotten) ran with whichever came last.
        if rule["code"] in seen:
            raise RulesetError("error.rs_code_twice", path=label, where=f"rules[{rule['code']}]")
        seen.add(rule["code"])


ADDS = "_add"  # `phrases_add: [竞品家]` appends to the base's `phrases` (docs/rulesets.md)


# The params `_add` adds to: every list parameter (lexicons_add: [abuse] worked before these
# kinds were listed, and was then said as a check with "no list parameter lexicons").
_LIST_KINDS = ("phrases", "optional_phrases", "regexes", "subset", "lexicons", "models")


def merged_params(base: dict, override: dict, check: Any = None) -> dict:
    """An override's params over the base's, key by key. A list written as `<key>_add` adds to
    the base's list instead of replacing it: a shop's competitor name beside TB-P1's 230 words,
    without copying them (a plain `phrases:` replaces the list; validate-ruleset says so). Where
    the base leaves the list out, it adds to `check`'s default: `roles_add: [bot]` on a rule
    that checks the default [agent] checks both (it checked the bot's messages only)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(key, str) and key.endswith(ADDS) and isinstance(value, list):  # `5: [x]` is said by _build_rule
            name = key.removesuffix(ADDS)
            old = merged[name] if isinstance(merged.get(name), list) else _list_default(check, name)
            merged[name] = [*old, *(v for v in value if v not in old)]
        else:
            merged[key] = value
    return merged


def _list_default(check: Any, name: str) -> list:
    """`check`'s default for its list parameter `name` ([agent] for `roles`), else []."""
    from cservice_audit.checks import CHECKS

    spec = CHECKS[check].PARAMS.get(name) if isinstance(check, str) and check in CHECKS else None
    return list(spec.default) if spec is not None and isinstance(spec.default, list) else []


def _check_adds(label: str, base: Any, rules: Any) -> None:
    """Each `<key>_add` of an override: a list of what `<key>` takes, of a list parameter of the
    rule's check, and not written beside `<key>` itself. The merge turns it into `<key>`, so its
    errors named `params.phrases`, a key the file does not have; and `phrases` beside
    `phrases_add` kept one or the other by the order the two were written in."""
    from cservice_audit.checks import CHECKS

    base_rules = base.get("rules") if isinstance(base, dict) else None
    checks = {r.get("code"): r.get("check") for r in base_rules if isinstance(r, dict)} if isinstance(base_rules, list) else {}
    for rule in rules if isinstance(rules, list) else []:
        params = rule.get("params") if isinstance(rule, dict) else None
        if not isinstance(params, dict):
            continue
        check = rule.get("check", checks.get(rule["code"]))
        specs = CHECKS[check].PARAMS if isinstance(check, str) and check in CHECKS else None
        for key, value in params.items():
            if not (isinstance(key, str) and key.endswith(ADDS)):
                continue
            name, where = key.removesuffix(ADDS), f"rules[{rule['code']}].params.{key}"
            if name in params:
                raise RulesetError("error.rs_add_and_plain", path=label, where=where, name=name)
            if specs is not None and (name not in specs or specs[name].kind not in _LIST_KINDS):
                lists = ", ".join(f"{k}{ADDS}" for k, spec in sorted(specs.items()) if spec.kind in _LIST_KINDS)
                raise RulesetError("error.rs_add_unknown", path=label, where=where, check=check, name=name, known=lists or "-")
            try:
                if not isinstance(value, list):
                    raise ParamError("param.strings", value=repr(value))
                if value and specs is not None:
                    specs[name].parse(value)
            except ParamError as exc:
                raise RulesetError("error.at", path=label, where=where, problem=exc) from None


def _merge(base: dict, override: dict) -> dict:
    """Override top-level keys; merge rules by code (params key by key); drop `enabled: false`."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if key == "sources" and isinstance(value, list) and isinstance(merged.get("sources"), list):
            # The base's rules cite the base's sources by id: keep them, and let an entry with
            # the same id replace the base's.
            ids = {s.get("id") for s in value if isinstance(s, dict) and s.get("id")}
            kept = [s for s in merged["sources"] if not (isinstance(s, dict) and s.get("id") in ids)]
            merged[key] = kept + value
        elif key not in ("rules", "extends"):
            merged[key] = value
    if "notes" in override and "notes_zh" not in override:
        merged.pop("notes_zh", None)  # the base's Chinese notes say what its English ones said
    by_code = {r["code"]: r for r in merged.get("rules", [])}
    order = [r["code"] for r in merged.get("rules", [])]
    for rule in override.get("rules") or []:
        code = rule["code"]
        if code in by_code:
            target = by_code[code]
            for key, value in rule.items():
                if key == "params" and isinstance(value, dict) and isinstance(target.get("params"), dict):
                    target["params"] = merged_params(target["params"], value, target.get("check"))
                else:
                    target[key] = value
                if key in PROSE and f"{key}_zh" not in rule:
                    target.pop(f"{key}_zh", None)
        else:
            by_code[code] = copy.deepcopy(rule)
            if isinstance(rule.get("params"), dict):
                by_code[code]["params"] = merged_params({}, rule["params"], rule.get("check"))
            order.append(code)
    merged["rules"] = [by_code[c] for c in order if by_code[c].get("enabled", True) is not False]
    return merged


def _build(label: str, data: dict, origin: str) -> Ruleset:
    def need(key: str, kind: type | tuple[type, ...], what: Term) -> Any:
        if key not in data:
            raise RulesetError("error.rs_missing", path=label, where=key)
        value = data[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise RulesetError("error.rs_expected_got", path=label, where=key, what=what, value=repr(value))
        return value

    platform = need("platform", str, Term("rs.platform_name"))
    if not _PLATFORM_ID.match(platform):
        # The platform names the history folder: it must never be a path (../x, /tmp/x).
        raise RulesetError("error.rs_platform", path=label, value=repr(platform))
    version = str(need("version", (str, int, float), Term("rs.version_string")))
    try:
        effective = parse_date(need("effective", (str, date), Term("rs.date")))
    except ParamError as exc:
        raise RulesetError("error.at", path=label, where="effective", problem=exc) from None
    tz = data.get("timezone", "Asia/Shanghai")
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        raise RulesetError("error.rs_timezone", path=label, value=repr(tz)) from None
    sources = data.get("sources") or []
    if not isinstance(sources, list):
        raise RulesetError("error.rs_expected", path=label, where="sources", what=Term("rs.list_of_sources"))
    for i, src in enumerate(sources):
        if not isinstance(src, dict) or "title" not in src:
            raise RulesetError("error.rs_expected", path=label, where=f"sources[{i}]", what=Term("rs.titled_mapping"))
        _check_keys(label, f"sources[{i}].", src, _SOURCE_KEYS)
        for key in SOURCE_ZH:
            if key in src and not isinstance(src[key], str):
                raise RulesetError("error.rs_expected_got", path=label, where=f"sources[{i}].{key}", what=Term("rs.text"), value=repr(src[key]))
    source_ids = [str(s["id"]) for s in sources if s.get("id") is not None]
    twice = next((i for i in source_ids if source_ids.count(i) > 1), None)
    if twice:
        raise RulesetError("error.rs_twice", path=label, where="sources", value=repr(twice))
    notes = data.get("notes") or []
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise RulesetError("error.rs_expected", path=label, where="notes", what=Term("rs.list_of_texts"))
    notes_zh = data.get("notes_zh") or []
    if not isinstance(notes_zh, list) or not all(isinstance(n, str) for n in notes_zh):
        raise RulesetError("error.rs_expected", path=label, where="notes_zh", what=Term("rs.list_of_texts"))
    exempt = data.get("exempt_dates") or []
    if not isinstance(exempt, list):
        raise RulesetError("error.rs_expected", path=label, where="exempt_dates", what=Term("rs.list_of_dates"))
    try:
        exempt_dates = tuple(sorted(parse_date(d) for d in exempt))
    except ParamError as exc:
        raise RulesetError("error.at", path=label, where="exempt_dates", problem=exc) from None
    gap = data.get("session_gap")
    if gap is not None and (isinstance(gap, bool) or not isinstance(gap, (int, float)) or gap <= 0):
        raise RulesetError("error.rs_session_gap", path=label, value=repr(gap))
    rules_data = need("rules", list, Term("rs.list_of_rules"))
    rules = tuple(_build_rule(label, i, r) for i, r in enumerate(rules_data))
    codes = [r.code for r in rules]
    duplicate = next((c for c in codes if codes.count(c) > 1), None)
    if duplicate:
        raise RulesetError("error.rs_code_twice", path=label, where=f"rules[{duplicate}]")
    _check_across_rules(label, rules)
    for rule in rules:
        unknown = [i for i in rule.sources if i not in source_ids]
        if unknown:
            raise RulesetError("error.rs_source_id", path=label, where=f"rules[{rule.code}].sources", value=repr(unknown[0]))
    return Ruleset(
        platform=platform,
        name=str(data.get("name", platform)),
        version=version,
        effective=effective,
        timezone=str(tz),
        origin=origin,
        sources=tuple({k: str(v) for k, v in s.items()} for s in sources),
        rules=rules,
        exempt_dates=exempt_dates,
        session_gap=float(gap) if gap is not None else None,
        extends=data.get("extends"),
        notes=tuple(notes),
        notes_zh=tuple(notes_zh),
        service_opens=min((r.params["window"].start for r in rules if r.params.get("window") is not None), default=None),
    )


def _check_across_rules(label: str, rules: tuple[Rule, ...]) -> None:
    """Parameters that name other rules (a check's optional `validate_in_ruleset`)."""
    from cservice_audit.checks import CHECKS

    for rule in rules:
        hook = getattr(CHECKS[rule.check], "validate_in_ruleset", None)
        if hook is None:
            continue
        try:
            hook(rule, rules)
        except ParamError as exc:
            raise RulesetError("error.at", path=label, where=f"rules[{rule.code}].params", problem=exc) from None


def _build_rule(label: str, index: int, data: Any) -> Rule:
    from cservice_audit.checks import CHECKS

    if not isinstance(data, dict):
        raise RulesetError("error.rs_expected", path=label, where=f"rules[{index}]", what=Term("rs.mapping"))
    code = data.get("code")
    where = f"rules[{code}]" if isinstance(code, str) else f"rules[{index}]"
    _check_keys(label, f"{where}.", data, _RULE_KEYS)
    if not isinstance(code, str) or not _CODE.match(code):
        raise RulesetError("error.rs_code", path=label, where=f"{where}.code", value=repr(code))

    def text(key: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if value is None:
            raise RulesetError("error.rs_missing", path=label, where=f"{where}.{key}")
        if not isinstance(value, str):
            raise RulesetError("error.rs_expected_got", path=label, where=f"{where}.{key}", what=Term("rs.text"), value=repr(value))
        return value

    def choice(key: str, options: tuple[str, ...], default: str | None = None) -> str:
        value = text(key, default)
        if value not in options:
            raise RulesetError("error.at", path=label, where=f"{where}.{key}", problem=ParamError("param.choice", known=", ".join(options), value=repr(value)))
        return value

    check_name = choice("check", tuple(sorted(CHECKS)))
    check = CHECKS[check_name]
    raw_params = data.get("params") or {}
    if not isinstance(raw_params, dict):
        raise RulesetError("error.rs_expected", path=label, where=f"{where}.params", what=Term("rs.mapping"))
    params: dict[str, Any] = {}
    for key in raw_params:
        if key not in check.PARAMS:
            raise RulesetError(
                "error.rs_unknown_param", path=label, where=f"{where}.params.{key}", check=check_name, known=", ".join(sorted(check.PARAMS))
            )
    for key, spec in check.PARAMS.items():
        if key in raw_params:
            try:
                params[key] = spec.parse(raw_params[key])
            except ParamError as exc:
                raise RulesetError("error.at", path=label, where=f"{where}.params.{key}", problem=exc) from None
        elif spec.required:
            raise RulesetError("error.rs_param_missing", path=label, where=f"{where}.params.{key}")
        else:
            params[key] = spec.default_value()
    try:
        check.validate(params)
    except ParamError as exc:
        raise RulesetError("error.at", path=label, where=f"{where}.params", problem=exc) from None
    _check_combined_patterns(label, where, params)
    points = data.get("points", 0)
    # .nan or .inf points made every total NaN/Infinity, which the JSON report wrote as bare
    # NaN/Infinity: not JSON (jq, a strict parser and the group's bot refuse the file).
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not math.isfinite(points):
        raise RulesetError("error.rs_expected_got", path=label, where=f"{where}.points", what=Term("rs.number"), value=repr(points))
    escalation = _build_escalation(label, where, data.get("escalation"))
    cited = data.get("sources", [])
    if not isinstance(cited, list) or not all(isinstance(c, str) and c for c in cited):
        raise RulesetError("error.rs_expected_got", path=label, where=f"{where}.sources", what=Term("rs.source_ids"), value=repr(cited))
    return Rule(
        code=code,
        name=text("name"),
        title=text("title", data.get("name")),
        check=check_name,
        severity=choice("severity", SEVERITIES, "error"),
        confidence=choice("confidence", CONFIDENCES),
        params=params,
        points=points,
        confidence_note=text("confidence_note", ""),
        source=text("source", ""),
        description=text("description", ""),
        escalation=escalation,
        sources=tuple(cited),
        **{f"{key}_zh": text(f"{key}_zh", "") for key in PROSE},
    )


def _build_escalation(label: str, where: str, data: Any) -> Escalation | None:
    if data is None:
        return None
    at = f"{where}.escalation"
    if not isinstance(data, dict):
        raise RulesetError("error.rs_expected", path=label, where=at, what=Term("rs.escalation"))
    _check_keys(label, f"{where}.escalation.", data, _ESCALATION_KEYS)
    lookback = data.get("lookback_days", 90)
    if isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 1:
        raise RulesetError("error.rs_expected_got", path=label, where=f"{at}.lookback_days", what=Term("rs.whole_days"), value=repr(lookback))
    tiers = data.get("tiers")
    if not isinstance(tiers, list) or not tiers:
        raise RulesetError("error.rs_expected", path=label, where=f"{at}.tiers", what=Term("rs.tiers"))
    built = []
    for i, tier in enumerate(tiers):
        if not isinstance(tier, dict):
            raise RulesetError("error.rs_expected", path=label, where=f"{at}.tiers[{i}]", what=Term("rs.mapping"))
        _check_keys(label, f"{where}.escalation.tiers[{i}].", tier, _TIER_KEYS)
        count = tier.get("at")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise RulesetError("error.rs_expected_got", path=label, where=f"{at}.tiers[{i}].at", what=Term("rs.whole_number"), value=repr(count))
        severity = tier.get("severity", "error")
        if severity not in SEVERITIES:
            problem = ParamError("param.choice", known=", ".join(SEVERITIES), value=repr(severity))
            raise RulesetError("error.at", path=label, where=f"{at}.tiers[{i}].severity", problem=problem)
        for key in ("label", "penalty"):
            if not isinstance(tier.get(key, ""), str) or (key == "label" and not tier.get(key)):
                raise RulesetError("error.rs_expected", path=label, where=f"{at}.tiers[{i}].{key}", what=Term("rs.text"))
        points = tier.get("points", 0)
        if isinstance(points, bool) or not isinstance(points, (int, float)) or not math.isfinite(points):
            raise RulesetError("error.rs_expected_got", path=label, where=f"{at}.tiers[{i}].points", what=Term("rs.number"), value=repr(points))
        built.append(Tier(count, tier["label"], severity, tier.get("penalty", ""), points))
    return Escalation(lookback, tuple(built))


def _check_combined_patterns(label: str, where: str, params: dict[str, Any]) -> None:
    """Patterns are matched as one combined expression: each may compile alone and the
    combination still fail (`(?x)a#` comments out the rest; two `\\w{150}` pass the regex
    engine's size limit together), so the combination is compiled here, at load, by the
    engine that will run it. The engine (Rust regex) runs in linear time, so no pattern can
    backtrack catastrophically: compiling is the whole check (docs/limits.md)."""
    patterns = params.get("patterns")
    if not patterns or not isinstance(patterns, (list, tuple)):
        return
    import polars as pl

    from cservice_audit.text import combined_pattern

    try:
        pl.Series([""], dtype=pl.String).str.contains(combined_pattern(patterns))
    except pl.exceptions.PolarsError as exc:
        lines = [line.strip() for line in str(exc).split("This error occurred")[0].splitlines() if line.strip()]
        problem = next((line for line in lines if line.startswith("error:")), lines[0] if lines else type(exc).__name__)
        raise RulesetError("error.rs_combined_patterns", path=label, where=f"{where}.params.patterns", problem=problem[:200]) from None
