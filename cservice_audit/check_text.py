"""`cservice-audit check-text`: what every phrase rule of a ruleset makes of one message, and why.

For each phrase rule: the normalized text, whether it fires, the listed phrase, pattern or
sound-alike that matched (and whether it comes from the rule or a shared lexicon), and any
allow-list phrase or negation that blanked part of the text, and, for rules with models, each
model's score beside its threshold (how near a passing message came). Supervisors tune lists with it.
The per-step values come from `phrase_engine.explain`, the same expressions the audit runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from cservice_audit.i18n import catalogue, t
from cservice_audit.phrase_engine import explain, lexicon
from cservice_audit.ruleset import Ruleset
from cservice_audit.sanitize import terminal_safe
from cservice_audit.text import normalize_phrases


def labels(lang: str = "en") -> dict[str, str]:
    """The words of check-text in `lang` (zh or en): the catalogue's `check_text.*`."""
    return {key.removeprefix("check_text."): texts[lang] for key, texts in catalogue().items() if key.startswith("check_text.")}


def _origin(params: dict[str, Any], kind: str, item: str | None) -> tuple[str, str | None] | None:
    """Where a matched phrase or pattern is listed: ("rule", None) or ("lexicon", its name)."""
    if item is None:
        return None
    key = {"phrase": "phrases", "pattern": "patterns", "sound": "sound_patterns"}[kind]

    def holds(values) -> bool:
        values = list(values or ())
        if kind == "phrase":
            return item in normalize_phrases(values)
        return item in values

    if holds(params.get(key)):
        return ("rule", None)
    for name in params.get("lexicons") or ():
        if holds(lexicon(name).get(key)):
            return ("lexicon", name)
    return None


def origin_text(origin: tuple[str, str | None] | None, lang: str) -> str | None:
    """`in the rule`, `in lexicon NAME` (the JSON's `origin`, English) or the same in Chinese."""
    if origin is None:
        return None
    where, name = origin
    if where == "rule":
        return labels(lang)["from_rule"]
    return f"{labels(lang)['from_lexicon']} {list_name(name, lang)}"


_MODEL_HOW = re.compile(r"model (?P<model>\S+) (?P<score>\S+) >= (?P<threshold>\S+)")  # phrase_engine's `how` of a model hit


def list_name(name: str, lang: str) -> str:
    """A shared list's or model's file name, and in Chinese what it holds
    (`offplatform（站外联系、诱导第三方交易）`); in English, or a name the catalogue does not know,
    the name as it is (it already reads as English)."""
    from cservice_audit.i18n import t

    key = f"phrase_list.{name}"
    return t("phrase_list.named", lang, name=name, what=t(key, lang)) if lang != "en" and key in catalogue() else name


def _origin_read(text: str) -> tuple[str, str | None]:
    """The JSON's English `origin` back as ("rule", None) or ("lexicon", name)."""
    prefix = labels("en")["from_lexicon"] + " "
    return ("lexicon", text[len(prefix):]) if text.startswith(prefix) else ("rule", None)


def check_text(text: str, ruleset: Ruleset) -> dict[str, Any]:
    """The verdict of every phrase rule of `ruleset` on `text` (JSON-ready)."""
    rules = []
    normalized = None
    for rule in ruleset.rules:
        if rule.check != "phrases":
            continue
        row = explain([text], rule.params)[0]
        normalized = row["norm"]
        hit = row["match"] is not None
        how = row["how"]
        kind = None if not hit else ("sound" if how.startswith("sounds like") else "model" if how.startswith("model") else how)
        listed = {"phrase": row["match_literal"], "pattern": row["pattern"], "sound": row["pattern"], "model": how}.get(kind) if kind else None
        rules.append(
            {
                "code": rule.code,
                "title": rule.title,
                "hit": hit,
                "match": row["match"],
                "how": kind,
                "listed": listed,
                "sounds_like": row.get("sound_match") if kind == "sound" else None,
                "origin": origin_text(_origin(rule.params, kind, listed), "en") if kind in ("phrase", "pattern", "sound") else None,
                "allowed": [a for a in (row.get("allowed") or []) if a],
                # The same span may be negated in the written and in the sound-folded text.
                "negated": list(dict.fromkeys(n.strip() for n in (row.get("negated") or []) + (row.get("sound_negated") or []) if n.strip())),
                # each model's score and threshold (a model decides only where no list matched)
                "models": row["models"],
            }
        )
    return {"text": text, "normalized": normalized, "platform": ruleset.platform, "version": ruleset.version, "rules": rules}


def _tuning(result: dict[str, Any], lang: str, ruleset_file: str | None, written: Mapping[str, frozenset[str]], alone: bool) -> list[str]:
    """How to change a verdict, as an entry to paste under the shop's ruleset's `rules`: a hit
    allowed (`allow_add`: its match; for a model, which no word decides, the whole message) and
    a missed phrase added (`phrases_add`). A supervisor saw what decided but not where to
    change it (docs/rulesets.md, `<list>_add`). A code the file already `written` gets its
    params into that entry (a second one is `the code is used twice`), its word into the plain
    `allow` list the entry writes (`allow_add` beside it is an error); a file that extends
    nothing (`alone`) has no `_add`: its lists are written out in full, so the words go into them."""
    w = labels(lang)
    if ruleset_file:
        where = terminal_safe(ruleset_file, keep_newlines=False)
        lines = [t("check_text.tune_file_alone" if alone else "check_text.tune_file", lang, where=where)]
    else:
        lines = [t("check_text.tune", lang, where=t("check_text.tune_shop", lang, platform=result["platform"]))]
    for rule in result["rules"]:
        if rule["hit"]:
            code = rule["code"]
            allowed = json.dumps(result["normalized"] if rule["how"] == "model" else rule["match"], ensure_ascii=False)
            if alone or "allow" in written.get(code, ()):  # a plain allow list: allow_add beside it is an error
                how = t("check_text.tune_into_list", lang, code=code, name="allow", value=allowed)
            elif code in written:
                how = t("check_text.tune_into_entry", lang, code=code, entry=f"allow_add: [{allowed}]")
            else:
                how = f"{{code: {code}, params: {{allow_add: [{allowed}]}}}}"
            lines.append(f"  {t('check_text.tune_hit', lang, code=code)}{w['colon']}{terminal_safe(how, keep_newlines=False)}")
    if any(not rule["hit"] for rule in result["rules"]):
        if alone:
            entry = t("check_text.tune_into_list", lang, code=w["tune_code"], name="phrases", value=f'"{w["tune_phrase"]}"')
        else:
            entry = f"{{code: {w['tune_code']}, params: {{phrases_add: [\"{w['tune_phrase']}\"]}}}}"
        lines.append(f"  {w['tune_miss']}{w['colon']}{entry}")
    return lines


def render(result: dict[str, Any], lang: str = "en", ruleset_file: str | None = None, written: Mapping[str, frozenset[str]] | None = None, alone: bool = False) -> str:
    """The result as plain lines for a terminal, in `lang` (untrusted text made terminal-safe),
    ending with how to change a verdict in `ruleset_file` (the shop's, when it has one; the
    codes its rules list `written`, `alone` when it extends nothing)."""
    w = labels(lang)
    colon, sep = w["colon"], w["sep"]  # ：and ，in Chinese, as every zh line of the tool
    lines = [f"{w['text']}{colon}{terminal_safe(result['text'], keep_newlines=False)}"]
    if result["normalized"] is not None:
        lines.append(f"{w['normalized']}{colon}{terminal_safe(result['normalized'], keep_newlines=False)}")
    if not result["rules"]:
        lines.append(w["no_rules"])
    for rule in result["rules"]:
        verdict = w["hit"] if rule["hit"] else w["pass"]
        lines.append(f"{rule['code']:<8} {verdict:<5} {terminal_safe(rule['title'])}")
        if rule["hit"]:
            how = {"phrase": w["by_phrase"], "pattern": w["by_pattern"], "sound": w["by_sound"], "model": w["by_model"]}[rule["how"]]
            detail = f"  {w['matched']} {w['quoted'].format(x=terminal_safe(rule['match']))}"
            if rule["how"] == "sound":
                detail += w["paren"].format(x=f"{how} {terminal_safe(rule['sounds_like'])}")
            else:
                detail += w["paren"].format(x=how)
            if rule["how"] == "model" and (scored := _MODEL_HOW.fullmatch(rule["listed"] or "")):
                # The model that decided, in the reader's words (the JSON's `listed` is English):
                # the engine's own `how`, which names the model that hit; the rounded scores of
                # `models` against the unrounded thresholds could name another, or none.
                model = terminal_safe(list_name(scored["model"], lang))
                detail += colon + t("check_text.model_hit", lang, model=model, score=scored["score"], threshold=scored["threshold"])
            elif rule["how"] != "phrase" and rule["listed"]:
                detail += f"{colon}{terminal_safe(rule['listed'])}"
            if rule["origin"]:
                detail += f"{sep}{terminal_safe(origin_text(_origin_read(rule['origin']), lang))}"
            lines.append(detail)
        else:
            lines.append(f"  {w['nothing']}")
            for scored in rule["models"]:
                # The score is shown rounded; just under the threshold both may round alike.
                below = "<" if round(scored["score"], 2) < round(scored["threshold"], 2) else "≈"
                model = terminal_safe(list_name(scored["model"], lang))
                lines.append(f"  {w['model_below']}{colon}{model} {scored['score']:.2f} {below} {scored['threshold']:.2f}")
        if rule["allowed"]:
            lines.append(f"  {w['allowed']}{colon}{w['list_sep'].join(terminal_safe(a) for a in rule['allowed'])}")
        if rule["negated"]:
            lines.append(f"  {w['negated']}{colon}{w['list_sep'].join(terminal_safe(n) for n in rule['negated'])}")
    if result["rules"]:
        lines += ["", *_tuning(result, lang, ruleset_file, written or {}, alone)]
    return "\n".join(lines) + "\n"


def allowed_added_phrases(data: Any, ruleset: Ruleset) -> list[tuple[str, str, str, list[str]]]:
    """The phrases a ruleset file adds to a phrase rule (`phrases_add`, or `phrases`) that the
    rule's own allow list blanks before matching, so that they can never fire: (code, key,
    phrase, the allow words that blank it). `data` is the file as read, `ruleset` what it loads
    as. `validate-ruleset` says so; the file was "ok" and the audit silently never flagged the
    word (newcomer hM: 买不了吃亏 added to DY-P1, on douyin's allow list)."""
    codes = {rule.code for rule in ruleset.rules if rule.check == "phrases"}
    out = []
    for entry in data.get("rules") or [] if isinstance(data, dict) else []:
        params = entry.get("params") if isinstance(entry, dict) else None
        if entry.get("code") not in codes or not isinstance(params, dict):
            continue
        for key in ("phrases_add", "phrases"):
            for phrase in params.get(key) or []:
                if not isinstance(phrase, str) or not phrase.strip():
                    continue
                verdict = next(r for r in check_text(phrase, ruleset)["rules"] if r["code"] == entry["code"])
                if not verdict["hit"] and verdict["allowed"]:
                    out.append((entry["code"], key, phrase, list(verdict["allowed"])))
    return out
