"""The interface in both languages (issue 9): the catalogues, the one-line errors, the reports.

- Every catalogue entry (messages.yaml, outputs.yaml) has a zh and an en text with the same
  {fields}, and every key the code raises or formats exists.
- Every user error the code raises with a key, run through the installed command, is one
  line in both languages; in Chinese it carries no English sentence.
- With LANG=zh_CN.UTF-8 the table, markdown, HTML and workbook of a sample show no English
  label of the catalogues that the same report shows in English.
"""

from __future__ import annotations

import ast
import gzip
import inspect
import re
import string
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
import yaml

from cservice_audit.i18n import LANGS, catalogue, t, text_expr

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cservice_audit"
SAMPLE = ROOT / "samples" / "pinduoduo-2026-11-22.csv"
REPORT = ROOT / "tests" / "golden" / "pinduoduo-2026-11-22.csv.json"
ZH = {"LANG": "zh_CN.UTF-8"}
EN = {"LANG": "en_US.UTF-8"}
# Three English words in a row (a sentence or a phrase like "no such file"); option names,
# paths and codes in a Chinese message have none.
ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}\b")
HAN = re.compile(r"[\u4e00-\u9fff]")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _outputs_leaves(node, path=()):
    if isinstance(node, dict) and set(node) == set(LANGS):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _outputs_leaves(value, (*path, key))
    else:
        yield path, node


# ----------------------------------------------------------------------------- catalogues


def test_messages_have_both_languages_with_the_same_fields():
    for key, texts in catalogue().items():
        assert set(texts) == set(LANGS), key
        assert _fields(texts["zh"]) == _fields(texts["en"]), key


def test_outputs_words_have_both_languages_with_the_same_fields():
    raw = yaml.safe_load((PACKAGE / "data" / "outputs.yaml").read_text("utf-8"))
    leaves = list(_outputs_leaves(raw))
    assert len(leaves) > 50
    for path, node in leaves:
        assert isinstance(node, dict), f"{'.'.join(path)}: needs zh and en"
        assert _fields(node["zh"]) == _fields(node["en"]), ".".join(path)


def test_sentinel_names_are_the_ones_metrics_and_normalize_write():
    """The shown names of rows without a human agent cover exactly the sentinels the engine writes."""
    from cservice_audit.i18n import SENTINEL_KEYS, sentinel_name
    from cservice_audit.metrics.waits import UNASSIGNED
    from cservice_audit.normalize import BOT_WITHOUT_ACCOUNT

    assert set(SENTINEL_KEYS) == {UNASSIGNED, BOT_WITHOUT_ACCOUNT}
    assert sentinel_name(BOT_WITHOUT_ACCOUNT, "zh") == t("who.bot", "zh") != sentinel_name(BOT_WITHOUT_ACCOUNT, "en")
    assert sentinel_name("客服小美", "zh") is None and sentinel_name(None, "zh") is None


def test_check_text_words_have_both_languages():
    from cservice_audit.check_text import labels

    zh, en = labels("zh"), labels("en")
    assert set(zh) == set(en) and len(en) >= 15
    # Words in Chinese; punctuation full-width (消息：…, 匹配 「…」（正则）), never the ASCII of English.
    assert all(HAN.search(zh[name]) or not any(c.isascii() and not c.isspace() for c in zh[name].replace("{x}", "")) for name in zh), zh
    assert all(zh[name] != en[name] for name in zh)


def test_every_key_the_code_uses_exists():
    """A key mistyped in a raise would be shown as the key itself; every literal that looks like
    a catalogue key of the errors and finding messages must be in the catalogue."""
    used = set()
    for path in PACKAGE.rglob("*.py"):
        used |= set(re.findall(r"""["']((?:error|param|rs|finding|span|explain|file)\.[a-z_]+)["']""", path.read_text("utf-8")))
    assert len(used) > 100
    assert sorted(used - set(catalogue())) == []


# Python's own exceptions: raised for bugs, read by developers, never a user's one line.
BUILTIN_ERRORS = {"ValueError", "TypeError", "KeyError", "RuntimeError", "AssertionError", "OSError", "NotImplementedError"}
# Raise sites still English, each listed until it is converted (the scan must still find
# it, so a converted site's entry has to go). None left.
PENDING_ENGLISH: set[str] = set()


def _english_raise_sites(source: str, where: str = "") -> list[str]:
    """The `*Error(...)` calls (and the `error(...)` of a reader given its error class) whose
    message is neither a catalogue key nor text already localized, `t(KEY, lang, ...)`."""
    keys = catalogue()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if not (name.endswith("Error") or name == "error") or name in BUILTIN_ERRORS:
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and first.value in keys:
            continue
        localized = (
            isinstance(first, ast.Call) and isinstance(first.func, ast.Name) and first.func.id == "t"
            and len(first.args) >= 2 and isinstance(first.args[0], ast.Constant) and first.args[0].value in keys
        )  # fmt: skip
        if not localized:
            found.append(f"{where}:{node.lineno}: {name}({ast.unparse(first)[:100]})")
    return found


def test_the_error_scan_finds_english_sentences():
    """The scan below can fail: a sentence, an f-string, a variable, `t()` without a language."""
    source = """
raise AuditError("error.weeks", weeks=0)
raise AuditError(t("error.weeks", lang, weeks=0))
raise ValueError(f"a bug: {x}")
raise AuditError("no such thing")
raise InputError(f"{path}: no such file")
raise error(problem)
raise notify.NotifyError(t("error.weeks", weeks=0))
"""
    assert [line.split(": ", 1)[0] for line in _english_raise_sites(source)] == [":5", ":6", ":7", ":8"]


def test_every_user_error_is_raised_with_a_catalogue_key():
    """A new English sentence in a raise fails here: raise `SomeError("error.key", **fields)`
    with the key in messages.yaml in both languages (or `t(key, lang)` where the CLI has the
    language at hand)."""
    sites = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        where = str(path.relative_to(ROOT))
        sites[where] = _english_raise_sites(path.read_text("utf-8"), where)
    assert sorted(set(PENDING_ENGLISH) - {where for where, found in sites.items() if found}) == []
    assert [site for where, found in sites.items() if where not in PENDING_ENGLISH for site in found] == []


def test_column_messages_match_the_plain_catalogue_text():
    frame = pl.DataFrame({"ts": ["2026-11-22 13:00:45"], "clause": ["当天未回复"]})
    for lang in LANGS:
        built = frame.select(text_expr("finding.never_answered", lang, asked=pl.col("ts"), clause=pl.col("clause"))).item()
        assert built == t("finding.never_answered", lang, asked="2026-11-22 13:00:45", clause="当天未回复")


# ----------------------------------------------------------------------------- one-line errors

MAPPING_BAD_KEY = "colums: {}\n"
CONFIG_BAD_KEY = "platfrom = 'pinduoduo'\n"
RULESET_BAD = """platform: mine
name: mine
version: '1'
effective: 2025-01-01
timezone: Asia/Shanghai
sources: [{title: x}]
rules:
  - code: MY-R1
    name: my-rate
    title: 回复率
    check: reply_rate
    severity: error
    params: {min_rate: 2}
"""


ESCALATION_BAD = "extends: pinduoduo\nrules:\n  - code: PDD-R3\n    escalation:\n      tiers: [{at: 0, label: x}]\n"
# Each compiles alone; combined, the comment of the first swallows the rest (issue 12).
PATTERNS_BAD = "extends: pinduoduo\nrules:\n  - code: PDD-P2\n    params:\n      patterns: ['(?x)a#', 'b']\n"
LEXICON_BAD = "extends: pinduoduo\nrules:\n  - code: PDD-P2\n    params:\n      lexicons: [nope]\n"


def _error_cases(tmp: Path) -> dict[str, tuple]:
    (tmp / "empty.csv").write_bytes(b"")
    header, first = SAMPLE.read_text("utf-8").splitlines()[:2]
    (tmp / "header.csv").write_text(header + "\n", encoding="utf-8")
    (tmp / "rejected.csv").write_text(header + "\n" + "not-a-time" + first[first.index(","):] + "\n", encoding="utf-8")
    (tmp / "sample.csv.gz").write_bytes(gzip.compress(SAMPLE.read_bytes()))  # read in chunks: field_bytes applies
    (tmp / "noshop.csv").write_text("发送时间,买家,发送方,消息内容\n2026-11-22 09:00:00,b1,买家,在吗\n", encoding="utf-8")
    (tmp / "escalation.yaml").write_text(ESCALATION_BAD, encoding="utf-8")
    (tmp / "patterns.yaml").write_text(PATTERNS_BAD, encoding="utf-8")
    (tmp / "lexicon.yaml").write_text(LEXICON_BAD, encoding="utf-8")
    (tmp / "nocol.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp / "map.yaml").write_text(MAPPING_BAD_KEY, encoding="utf-8")
    (tmp / "bad.toml").write_text(CONFIG_BAD_KEY, encoding="utf-8")
    (tmp / "rules.yaml").write_text(RULESET_BAD, encoding="utf-8")
    (tmp / "folder").mkdir()
    sample = str(SAMPLE)
    return {
        "no such file": ("audit", tmp / "missing.csv", "-p", "pinduoduo"),
        "no match": ("audit", tmp / "nothing-*.csv", "-p", "pinduoduo"),
        "empty file": ("audit", tmp / "empty.csv", "-p", "pinduoduo"),
        "missing column": ("audit", tmp / "nocol.csv", "-p", "pinduoduo"),
        "encoding": ("audit", sample, "-p", "pinduoduo", "--encoding", "latin9"),
        "mapping key": ("audit", sample, "-p", "pinduoduo", "--mapping", tmp / "map.yaml"),
        "profile": ("audit", sample, "-p", "pinduoduo", "--profile", "nope"),
        "config key": ("audit", sample, "-p", "pinduoduo", "--config", tmp / "bad.toml"),
        "config missing": ("audit", sample, "-p", "pinduoduo", "--config", tmp / "none.toml"),
        "limit": ("audit", sample, "-p", "pinduoduo", "--limit", "nope=1"),
        "platform": ("audit", sample, "-p", "nowhere"),
        "ruleset param": ("audit", sample, "--ruleset", tmp / "rules.yaml"),
        "validate": ("validate-ruleset", tmp / "rules.yaml"),
        "write folder": ("audit", sample, "-p", "pinduoduo", "--no-history", "-o", tmp / "folder"),
        "xlsx output": ("audit", sample, "-p", "pinduoduo", "--no-history", "--format", "xlsx"),
        "xlsx suffix": ("audit", sample, "-p", "pinduoduo", "--no-history", "--format", "xlsx", "-o", tmp / "a.txt"),
        "csv only": ("audit", sample, "-p", "pinduoduo", "--no-history", "--csv-bom"),
        "shop": ("audit", sample, "-p", "pinduoduo", "--shop", " "),
        "select": ("audit", sample, "-p", "pinduoduo", "--select", "XX-9"),
        "day range": ("audit", sample, "-p", "pinduoduo", "--date", "1900-01-01"),
        "explain": ("explain", "XX-1"),
        "trend history": ("trend", "-p", "pinduoduo"),
        "generate": ("generate", "--platform", "nowhere", "-o", tmp / "g.csv"),
        "push report": ("notify", tmp / "missing.json", "--wecom", "https://example.invalid/x"),
        "escalation": ("validate-ruleset", tmp / "escalation.yaml"),
        "combined patterns": ("audit", sample, "--ruleset", tmp / "patterns.yaml", "--no-history"),
        "lexicon": ("validate-ruleset", tmp / "lexicon.yaml"),
        "limit exceeded": ("audit", tmp / "sample.csv.gz", "-p", "pinduoduo", "--no-history", "--limit", "field_bytes=20"),
        "generate format": ("generate", "-o", tmp / "g.parquet"),
        # Port 9 (discard) is closed: refused at once, retried twice (1 s, 2 s), then given up.
        "push failed": ("notify", REPORT, "--wecom", "http://127.0.0.1:9/x", "--timeout", "2"),
        "agent": ("audit", sample, "-p", "pinduoduo", "--no-history", "--agent", "nobody"),
        "date outside": ("audit", sample, "-p", "pinduoduo", "--no-history", "--date", "2026-01-05"),
        "all rejected": ("audit", tmp / "rejected.csv", "-p", "pinduoduo", "--no-history"),
        "no data rows": ("audit", tmp / "header.csv", "-p", "pinduoduo", "--no-history"),
        "baseline": ("audit", sample, "-p", "pinduoduo", "--no-history", "--baseline", tmp / "folder"),
        "no shop column": ("audit", tmp / "noshop.csv", "-p", "pinduoduo", "--history", tmp / "history"),
    }


# What the English line of a case must say, so a case stopped by another error fails.
ERROR_SAYS = {
    "escalation": "escalation.tiers[0].at: expected a whole number ≥ 1, got 0",
    "combined patterns": "do not compile as the one expression",
    "lexicon": "unknown lexicon 'nope'",
    "limit exceeded": "over the field_bytes limit (20 bytes)",
    "generate format": "cannot tell the format from the name",
    "push failed": "wecom push failed after 3 tries: no answer from 127.0.0.1 (Connection refused)",
    "agent": "--agent nobody: not in the input",
    "date outside": "--date 2026-01-05: the input has no rows then",
    "all rejected": "no usable rows (1 rejected",
    "no data rows": "no data rows to audit",
    "baseline": "cannot read the baseline report (Is a directory)",
    "no shop column": "the export has no shop column",
}


@pytest.fixture(scope="module")
def error_runs(cli_factory, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("errors")
    cli = cli_factory(tmp)
    cases = _error_cases(tmp)
    names = list(cases)
    env_free = {"CSERVICE_AUDIT_HOME": ""}
    runs = cli.many(*({"args": cases[n], "env": {**env, **env_free}} for env in (EN, ZH) for n in names))
    return {(lang, name): run for lang, chunk in (("en", runs[: len(names)]), ("zh", runs[len(names):])) for name, run in zip(names, chunk, strict=True)}


ERROR_NAMES = [  # the keys of _error_cases (which writes files, so it runs in the fixture)
    "no such file", "no match", "empty file", "missing column", "encoding", "mapping key", "profile", "config key",
    "config missing", "limit", "platform", "ruleset param", "validate", "write folder", "xlsx output", "xlsx suffix",
    "csv only", "shop", "select", "day range", "explain", "trend history", "generate", "push report",
    "escalation", "combined patterns", "lexicon", "limit exceeded", "generate format", "push failed", "agent",
    "date outside", "all rejected", "no data rows", "baseline", "no shop column",
]


@pytest.mark.parametrize("name", ERROR_NAMES)
def test_user_error_is_one_line_in_both_languages(error_runs, name):
    en, zh = error_runs[("en", name)], error_runs[("zh", name)]
    for run in (en, zh):
        assert run.code == 2, (name, run.err)
        assert len(run.err_lines()) == 1, (name, run.err)
    assert en.err.startswith("cservice-audit: error: "), en.err
    assert ERROR_SAYS.get(name, "") in en.err, (name, en.err)
    assert zh.err.startswith("cservice-audit：错误："), zh.err
    message = zh.err.removeprefix("cservice-audit：错误：")
    assert HAN.search(message), (name, zh.err)
    # Paths of the test's folder hold no spaces, so a run of English words is a sentence.
    assert not ENGLISH_RUN.search(message), (name, zh.err)
    assert en.err != zh.err


# ----------------------------------------------------------------------------- reports in zh


def _labels_without_fields() -> dict[str, tuple[str, str]]:
    """Catalogue words a report prints as they are: key -> (en, zh), where they differ."""
    out = {}
    for key, texts in catalogue().items():
        if key.startswith(("help.", "error.", "param.", "rs.", "note.")) or _fields(texts["en"]):
            continue
        if texts["en"] != texts["zh"] and re.search(r"[A-Za-z]{3,}", texts["en"]):
            out[key] = (texts["en"], texts["zh"])
    raw = yaml.safe_load((PACKAGE / "data" / "outputs.yaml").read_text("utf-8"))
    for path, node in _outputs_leaves(raw):
        # Column headers in English are the canonical column names, which are also data.
        if path[0] != "columns" and not _fields(node["en"]) and node["en"] != node["zh"]:
            out[".".join(path)] = (node["en"], node["zh"])
    return out


def _word(text: str) -> re.Pattern:
    # Not inside an identifier of the data (buyer_00106, Markdown's buyer\_00106).
    return re.compile(r"(?<![\w-])" + re.escape(text) + r"(?![\w\\-])")


def _without_longer(text: str, label: str, labels: list[str]) -> str:
    """`text` with the longer labels that contain `label` taken out ("shop" in "(shop total)")."""
    for other in labels:
        if len(other) > len(label) and label in other:
            text = text.replace(other, " ")
    return text


def _visible(html: str) -> str:
    """The text of a page (no markup, style or script: class names are not words shown)."""
    html = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _xlsx_text(path: Path) -> str:
    import fastexcel

    book = fastexcel.read_excel(str(path))
    parts = list(book.sheet_names)
    for name in book.sheet_names:
        frame = pl.read_excel(path, sheet_name=name, infer_schema_length=0)
        parts += frame.columns
        parts += [str(v) for column in frame.iter_columns() for v in column.to_list() if v is not None]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def reports(cli_factory, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reports")
    cli = cli_factory(tmp)
    base = ("audit", SAMPLE, "-p", "pinduoduo", "--no-history", "--exit-zero")
    jobs = []
    for lang, env in (("en", EN), ("zh", ZH)):
        for fmt in ("table", "markdown", "html", "xlsx"):
            jobs.append({"args": (*base, "--format", fmt, "-o", tmp / f"{lang}.{fmt}"), "env": {**env, "COLUMNS": "200"}})
    runs = cli.many(*jobs)
    assert all(r.code == 0 for r in runs), [r.err for r in runs]
    out = {}
    for lang in ("en", "zh"):
        for fmt in ("table", "markdown", "html"):
            out[(lang, fmt)] = (tmp / f"{lang}.{fmt}").read_text("utf-8")
        out[(lang, "xlsx")] = _xlsx_text(tmp / f"{lang}.xlsx")
    return out


@pytest.mark.parametrize("fmt", ["table", "markdown", "html", "xlsx"])
def test_chinese_reports_show_no_english_label(reports, fmt):
    english, chinese = reports[("en", fmt)], reports[("zh", fmt)]
    if fmt == "html":
        english, chinese = _visible(english), _visible(chinese)
    labels = _labels_without_fields()
    every = [en for en, _ in labels.values()]
    checked = 0
    for key, (en, _zh) in labels.items():
        english_here, chinese_here = _without_longer(english, en, every), _without_longer(chinese, en, every)
        if not _word(en).search(english_here):
            continue  # a word this report does not print
        checked += 1
        assert not _word(en).search(chinese_here), f"{fmt}: {key} shows {en!r} in the Chinese report"
    assert checked >= 3, f"{fmt}: too few catalogue labels found in the English report to judge"


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_chinese_findings_carry_no_english_sentence(reports, fmt):
    """The finding messages the checks build (long no-reply, phrases, repeated script, rates)
    are Chinese: no English sentence in the findings part of the report."""
    chinese = reports[("zh", fmt)]
    findings = chinese[chinese.index(t("section.findings", "zh", n="")[:2]):]
    assert "长时间不回复：" in findings and "提问" in findings
    sentences = [m.group(0) for m in ENGLISH_RUN.finditer(findings)]
    assert sentences == [], sentences[:5]


def test_json_is_the_same_whatever_the_language_and_carries_both_messages(cli):
    base = ("audit", SAMPLE, "-p", "pinduoduo", "--no-history", "--exit-zero", "--format", "json")
    en, zh = cli.many({"args": base, "env": EN}, {"args": base, "env": ZH})
    assert en.code == zh.code == 0
    assert en.json()["findings"] == zh.json()["findings"]
    findings = en.json()["findings"]
    assert any(f["message"].startswith("长时间不回复: asked ") for f in findings)
    # Every finding has its Chinese message (schema 2.1), with no English sentence in it.
    assert all(f["message_zh"] and HAN.search(f["message_zh"]) for f in findings)
    assert [f["message_zh"] for f in findings if ENGLISH_RUN.search(f["message_zh"])] == []
    assert all("evidence_zh" not in f for f in findings)
    assert en.json()["ruleset"]["titles"]["PDD-R3"] == "3分钟人工回复率"


@pytest.mark.parametrize(("code", "example"), [("PDD-R3", "explain.example"), ("PDD-N1", "explain.examples")])
def test_explain_headings_follow_the_language(cli, code, example):
    en, zh = cli.many({"args": ("explain", code), "env": EN}, {"args": ("explain", code), "env": ZH})
    assert en.code == zh.code == 0
    for key in ("explain.params", "explain.what", "explain.why", example):
        assert t(key, "en") in en.out and t(key, "en") not in zh.out, key
        assert t(key, "zh") in zh.out, key


def test_every_check_has_its_chinese_page_and_parameter_notes():
    """data/check_docs_zh.yaml is the Chinese of each check's docstring and PARAMS: a check or
    parameter added without its Chinese (or one left behind after a removal) fails here."""
    from cservice_audit.checks import CHECKS
    from cservice_audit.rule_docs import _zh_docs

    docs = _zh_docs()
    assert set(docs) == set(CHECKS)
    for name, check in CHECKS.items():
        page = docs[name]
        assert all(HAN.search(page[part]) for part in ("summary", "what", "why")), name
        assert list(page["params"]) == list(check.PARAMS), name
        assert all(HAN.search(note) for note in page["params"].values()), name


@pytest.mark.parametrize("code", ["PDD-N1", "KS-P1", "TB-A1", "KS-G1", "JD-D1", "PDD-S1", "JD-R30"])
def test_explain_in_chinese_writes_the_checks_prose_in_chinese(cli, code):
    from cservice_audit.checks import CHECKS
    from cservice_audit.rule_docs import _zh_docs, find_rule

    _, rule = find_rule(code, None)
    page = _zh_docs()[rule.check]
    doc = inspect.cleandoc(CHECKS[rule.check].__doc__)
    what_en = doc.split("What it checks\n", 1)[1].split("\n\n", 1)[0].strip().splitlines()
    en, zh = cli.many({"args": ("explain", code), "env": EN}, {"args": ("explain", code), "env": ZH})
    assert en.code == zh.code == 0
    assert page["summary"] in zh.out and page["summary"] not in en.out
    for line in page["what"].strip().splitlines() + page["why"].strip().splitlines():
        assert f"    {line}" in zh.out, line
    assert [line for line in what_en if line.strip() in zh.out] == []
    assert all(line.strip() in en.out for line in what_en)
    for key in CHECKS[rule.check].PARAMS:
        assert f"# {page['params'][key]}" in zh.out and f"# {CHECKS[rule.check].PARAMS[key].doc}" in en.out, key


# ----------------------------------------------------------------------------- rejected rows

# One row for each reason normalize and the JSONL reader give (reject.*, json.*).
REJECTED_CSV = """ts,buyer,conversation,role,agent,text,rating,spam,served_by
2026-11-22 10:00:00,b1,c1,buyer,,hello,,,
,b1,c1,buyer,,no time,,,
nope,b1,c1,buyer,,bad time,,,
1999-12-31 10:00:00,b1,c1,buyer,,too early,,,
10:00,b1,c1,buyer,,no date,,,
2099-01-01 10:00:00,b1,c1,buyer,,too late,,,
2026-11-22 10:01:00,b1,c1,,,no role,,,
2026-11-22 10:01:00,b1,c1,ghost,,odd role,,,
2026-11-22 10:02:00,,c1,buyer,,no buyer,,,
2026-11-22 10:03:00,b1,c1,agent,,no agent,,,
2026-11-22 10:04:00,b1,c1,review,,,satisfied,,
2026-11-22 10:05:00,b1,c1,review,a1,,superb,,
2026-11-22 10:06:00,b1,c1,buyer,,odd spam,,maybe,
2026-11-22 10:07:00,b1,c1,agent,a1,odd server,,,alien
2026-11-22 10:08:00,b1,c1,agent,a1,fine,,,
"""
REJECTED_JSONL = '{"ts": "2026-11-22 10:00:00", "buyer": "b2", "conversation": "c2", "role": "buyer", "text": "hi"}\n{bad\n[1]\n{"ts": 1} x\n'


def test_rejected_rows_give_their_reason_in_the_readers_language(cli, tmp_path):
    (tmp_path / "rows.csv").write_text(REJECTED_CSV, encoding="utf-8")
    (tmp_path / "rows.jsonl").write_text(REJECTED_JSONL, encoding="utf-8")
    # Mostly bad rows on purpose: the rejected_percent limit is raised to read every reason.
    base = ("audit", "rows.csv", "rows.jsonl", "-p", "pinduoduo", "--no-history", "--exit-zero", "--limit", "rejected_percent=100")
    zh_table, en_json, zh_json, zh_xlsx = cli.many(
        {"args": (*base, "-f", "table", "--rejects", "zh-rejects.csv"), "env": {**ZH, "COLUMNS": "200"}},
        {"args": (*base, "-f", "json", "--rejects", "en-rejects.csv"), "env": EN},
        {"args": (*base, "-f", "json"), "env": ZH},
        {"args": (*base, "-f", "xlsx", "-o", "zh.xlsx"), "env": ZH},
    )
    assert {r.code for r in (zh_table, en_json, zh_json, zh_xlsx)} == {0}, [r.err for r in (zh_table, en_json, zh_json, zh_xlsx)]
    english = [f["message"].removeprefix("row rejected: ") for f in en_json.json()["findings"] if f["code"] == "PDD-D1"]
    keys = [k for k in catalogue() if k.startswith("reject.")]
    assert len(english) == len(keys) + 1, english  # one row per reason, two for not_json
    # The machine formats keep English whatever the language: the JSON and the --rejects file.
    assert zh_json.json()["findings"] == en_json.json()["findings"]
    assert pl.read_csv(tmp_path / "zh-rejects.csv").get_column("problem").to_list() == pl.read_csv(tmp_path / "en-rejects.csv").get_column("problem").to_list()
    assert any("'nope'" in p for p in english)
    # The human ones are Chinese: every reason, no English sentence, the JSON parser's too.
    rejected = [line for line in zh_table.out.splitlines() if "行被拒收：" in line]
    assert len(rejected) == len(english)
    for line in rejected:
        reason = line.split("行被拒收：", 1)[1]
        assert HAN.search(reason) and not ENGLISH_RUN.search(reason), line
    assert "无法识别的时间“nope”" in zh_table.out and "缺少用双引号括起的键名" in zh_table.out
    assert zh_table.err.startswith("cservice-audit：拒收 ") and not ENGLISH_RUN.search(zh_table.err.splitlines()[0])
    from cservice_audit.render.digest import labels

    sheet = pl.read_excel(tmp_path / "zh.xlsx", sheet_name=labels("zh")["xlsx"]["rejected"], infer_schema_length=0)
    problems = sheet.get_column(sheet.columns[2]).to_list()
    assert len(problems) == len(english) and all(HAN.search(p) for p in problems), problems


# ----------------------------------------------------------------------------- show, rules, check-text


@pytest.fixture(scope="module")
def sample_json(cli_factory, tmp_path_factory):
    run = cli_factory(tmp_path_factory.mktemp("sample"))("audit", SAMPLE, "-p", "pinduoduo", "--no-history", "--exit-zero", "-f", "json")
    assert run.code == 0, run.err
    return run.json()


def test_show_speaks_chinese(cli, sample_json):
    late = next(i for i in sample_json["items"] if i["rule"] == "PDD-R3" and i["wait"] is not None)
    phrase = next(f for f in sample_json["findings"] if f["code"] == "PDD-P2")
    runs = cli.many(
        *({"args": ("show", conv, SAMPLE, "-p", "pinduoduo"), "env": env} for conv in (late["conversation"], phrase["conversation"]) for env in (ZH, EN))
    )
    assert [r.code for r in runs] == [0] * 4, [r.err for r in runs]
    late_zh, late_en, phrase_zh, _ = (r.out for r in runs)
    assert late_zh.startswith(t("show.header", "zh", conversation=late["conversation"], shop="", buyer="", first="", last="", tz="")[:3])
    assert t("show.late", "zh", code="PDD-R3", limit="180") in late_zh and t("show.late", "en", code="PDD-R3", limit="180") in late_en
    assert f" {t('show.role.buyer', 'zh')} " in late_zh and " buyer " not in late_zh
    finding = t("show.finding", "zh", code="PDD-P2", severity=t("severity.error", "zh"), message=phrase["message_zh"])
    assert finding in phrase_zh
    for out in (late_zh, phrase_zh):  # the words are Chinese; the data (ids, zone) are single tokens
        assert ENGLISH_RUN.findall(out) == [], out


def test_rules_table_follows_the_language(cli):
    zh, en = cli.many({"args": ("rules", "-p", "pinduoduo"), "env": {**ZH, "COLUMNS": "200"}}, {"args": ("rules", "-p", "pinduoduo"), "env": {**EN, "COLUMNS": "200"}})
    assert zh.code == en.code == 0
    for column in ("code", "rule", "check", "severity", "parameters", "confidence", "source"):
        assert t(f"rules.col.{column}", "zh") in zh.out and t(f"rules.col.{column}", "en") in en.out
    assert zh.out.lstrip().startswith("拼多多（pinduoduo）版本 ") and en.out.lstrip().startswith("拼多多 (pinduoduo) version ")
    # Each rule's confidence cell starts with its level, in the reader's language.
    rows = [line for line in en.out.splitlines() if line.startswith("│ PDD-")]
    assert len(rows) == 8, rows
    assert sum(zh.out.count(f"│ {t(f'confidence.{level}', 'zh')}") for level in ("stated", "reported", "assumed")) == len(rows)
    assert " error " not in zh.out and " 错误 " in zh.out
    assert t("rules.exempt", "zh", dates=t("rules.exempt_none", "zh")) in zh.out


def test_check_text_follows_the_language(cli):
    message = "亲，加我微信 wx13800138000 发你高清图"
    zh, en, zh_json, en_json = cli.many(
        {"args": ("check-text", message, "-p", "pinduoduo"), "env": ZH},
        {"args": ("check-text", message, "-p", "pinduoduo"), "env": EN},
        {"args": ("check-text", message, "-p", "pinduoduo", "-f", "json"), "env": ZH},
        {"args": ("check-text", message, "-p", "pinduoduo", "-f", "json"), "env": EN},
    )
    assert zh.code == en.code == 1, zh.err + en.err  # a rule fires
    assert zh_json.json() == en_json.json()  # the JSON is the same whatever the language
    hit = next(r for r in en_json.json()["rules"] if r["hit"])
    assert hit["origin"] in ("in the rule",) or hit["origin"].startswith("in lexicon ")
    assert f"{hit['code']:<8} 命中" in zh.out and f"{hit['code']:<8} HIT" in en.out
    assert "匹配 「" in zh.out and ("列在规则里" in zh.out or "列在词库 " in zh.out)
    assert ENGLISH_RUN.findall(zh.out) == [], zh.out
    # A hit that a model decided named it `model abuse 3.48 >= -0.28` in Chinese too.
    veiled = "你这人真是脑子有问题"
    zh_model, en_model, json_model = cli.many(
        ("check-text", veiled, "-p", "pinduoduo", "--lang", "zh"), ("check-text", veiled, "-p", "pinduoduo", "--lang", "en"), ("check-text", veiled, "-p", "pinduoduo", "-f", "json")
    )
    scored = next(r for r in json_model.json()["rules"] if r["how"] == "model")["models"][0]
    said = f"{scored['score']:.2f} ≥ 阈值 {scored['threshold']:.2f}"
    assert "：模型 abuse（" in zh_model.out and f"得分 {said}" in zh_model.out and "model" not in zh_model.out, zh_model.out
    assert f"model abuse {scored['score']:.2f} >= {scored['threshold']:.2f}" in en_model.out, en_model.out


def test_unknown_rule_codes_are_listed_with_the_readers_separator(cli):
    """`--select PDD-R9：pinduoduo 没有这样的规则（已有：PDD-R3, PDD-R5, …）`: the rule codes of a
    Chinese line were joined with an English comma; with ，now, English keeps ", "."""
    zh, en = cli.many(*(("audit", SAMPLE, "-p", "pinduoduo", "--no-history", "--select", "pdd-r9,pdd-x", "--lang", lang) for lang in ("zh", "en")))
    assert zh.code == en.code == 2, zh.err + en.err
    assert "--select PDD-R9，PDD-X：" in zh.err and "（已有：PDD-R3，PDD-R5，" in zh.err and ", " not in zh.err, zh.err
    assert "--select PDD-R9, PDD-X: no such rule in pinduoduo (rules: PDD-R3, PDD-R5, " in en.err, en.err


# Broken files as people write them, and what the parser says of each (its English, kept).
BROKEN_YAML = {
    "rules:\n  - code: TB-P1\n    params: {phrases_add: [a, b}\n": "did not find expected ',' or ']'",
    "rules:\n  - code: TB-P1\n    params: {phrases_add: [a, b]\n": "did not find expected ',' or '}'",
    "notes:\n  a: 1\n b: 2\n": "did not find expected key",
    "rules:\n  - code: TB-P1\n  params: {}\n": "did not find expected '-' indicator",
    "rules:\n  - code: TB-P1\n    note: 注意: 这里\n": "mapping values are not allowed in this context",
    "rules:\n  - code: 'TB-P1\n": "found unexpected end of stream",
    "rules:\n  - code: \"TB\\q\"\n": "found unknown escape character",
    "rules:\n  - code: @TB\n": "found character that cannot start any token",
    "rules:\n  - code: *TB\n": "found undefined alias 'TB'",
}
BROKEN_TOML = {
    "platform = pinduoduo\n": "Invalid value (at line 1, column 12)",
    "platform pinduoduo\n": "Expected '=' after a key in a key/value pair (at line 1, column 10)",
    'lang = "zh"\nlang = "en"\n': "Cannot overwrite a value (at line 2, column 12)",
    'select = ["PDD-R3"\n': "Unclosed array (at end of document)",
    'lang = "zh\n': "Illegal character '\\n' (at line 1, column 11)",
    'lang = "zh" shop = "x"\n': "Expected newline or end of document after a statement (at line 1, column 13)",
}


def test_a_broken_yaml_or_toml_file_is_said_in_chinese(cli, tmp_path):
    """The parsers' own English sat inside the Chinese one-line error (`第 4 行不是有效的
    YAML（did not find expected ',' or ']'）`, `不是有效的 TOML（Invalid value (at line 1,
    column 12)）`). The problems people make are now said in Chinese, tomllib's position too;
    the English line keeps the parser's words, so English logs read as before."""
    runs = []
    for i, text in enumerate(BROKEN_YAML):
        (tmp_path / f"r{i}.yaml").write_text("extends: taobao\n" + text, "utf-8")
        runs += [("validate-ruleset", tmp_path / f"r{i}.yaml", "--lang", lang) for lang in ("zh", "en")]
    for i, text in enumerate(BROKEN_TOML):
        (tmp_path / f"c{i}.toml").write_text(text, "utf-8")
        runs += [("rules", "--config", tmp_path / f"c{i}.toml", "--lang", lang) for lang in ("zh", "en")]
    done = cli.many(*runs)
    for said, zh, en in zip([*BROKEN_YAML.values(), *BROKEN_TOML.values()], done[::2], done[1::2], strict=True):
        assert zh.code == en.code == 2 and len(zh.err_lines()) == len(en.err_lines()) == 1, (said, zh.err, en.err)
        assert f"({said})" in en.err, (said, en.err)
        told = re.split(r"\.(?:yaml|toml)：", zh.err)[-1]  # after the file's name
        assert re.findall(r"[A-Za-z]{3,}", re.sub(r"YAML|TOML|pinduoduo|platform", "", told)) == [], (said, zh.err)
    assert "（值无效：文字要加双引号（如 platform = \"pinduoduo\"），第 1 行第 12 列）" in done[len(BROKEN_YAML) * 2].err
    from cservice_audit.errors import PARSER_PROBLEMS

    assert [key for _, key in PARSER_PROBLEMS if key not in catalogue()] == []  # the ones no file above reaches too


# ----------------------------------------------------------------------------- --help and usage errors

COMMANDS = ("audit", "show", "rules", "explain", "validate-ruleset", "check-text", "history", "trend", "notify", "generate")


def test_every_option_has_its_help_in_the_catalogue():
    """Help texts live in the catalogue only (cli._help_key): an option added without one
    would print no help at all."""
    from typer.main import get_command

    from cservice_audit import cli as cli_module

    command = get_command(cli_module.app)
    assert sorted(command.commands) == sorted(COMMANDS)
    missing = [(name, p.name) for name, sub in command.commands.items() for p in sub.params if cli_module._help_key(name, p.name) is None]
    missing += [("", p.name) for p in command.params if cli_module._help_key("", p.name) is None]
    assert missing == []


def test_help_of_every_command_reads_in_chinese(cli):
    args = [("--help",), *((name, "--help") for name in COMMANDS)]
    runs = cli.many(*({"args": a, "env": {**ZH, "COLUMNS": "250"}} for a in args))
    for name, run in zip(args, runs, strict=True):
        assert run.code == 0, (name, run.err)
        # Everything but Click's "Usage:" line is Chinese, Typer's panel titles and the
        # --help option's own text too (docs/i18n.md).
        assert ENGLISH_RUN.findall(run.out) == [], (name, ENGLISH_RUN.findall(run.out))
        assert t("help.help", "zh") in run.out and t("help.panel_options", "zh") in run.out, name
        # Typer's bracketed words beside a default too: `[default: 2000]` stayed English.
        assert "[default:" not in run.out and "[env var:" not in run.out, (name, run.out)
    assert "[默认：2000]" in runs[args.index(("generate", "--help"))].out


def test_chinese_help_is_read_whole_on_an_80_column_terminal(cli):
    """Rich breaks lines at spaces only, and a table cell cut a longer run with "…": a Chinese
    help sentence has no spaces, so on an 80-column terminal most of it was lost
    (`notify --help` kept 「只在有新问题（至少 --fail-on」 and the tail). Every option's help
    reads whole, folded at the edge."""
    from typer.main import get_command

    from cservice_audit import cli as cli_module

    command = get_command(cli_module.app)
    runs = cli.many(*({"args": (name, "--help"), "env": {**ZH, "COLUMNS": "80"}} for name in COMMANDS))
    for name, run in zip(COMMANDS, runs, strict=True):
        assert run.code == 0, (name, run.err)
        # The cells' lines interleave on screen: every Chinese character of every option's
        # help must be there (as many times as the helps hold it), whatever the layout.
        helps = "".join(t(cli_module._help_key(name, param.name), "zh") for param in command.commands[name].params)
        missing = Counter(HAN.findall(helps)) - Counter(HAN.findall(run.out))
        assert not missing, (name, missing)


USAGE_ERRORS = {
    "usage.no_such_command": ("nosuch",),
    "usage.missing_argument": ("show",),
    "usage.no_such_option_like": ("audit", "x.csv", "--shpo", "s"),
    "usage.no_such_option": ("audit", "x.csv", "--zzzzzz"),
    "usage.not_one_of": ("audit", "x.csv", "-f", "nope"),
    "usage.not_integer": ("generate", "-o", "x.csv", "--rows", "abc"),
    "usage.not_number": ("generate", "-o", "x.csv", "--variety", "abc"),
    "usage.at_least": ("notify", "r.json", "--timeout", "0"),
    "usage.requires_argument": ("generate", "-o", "x.csv", "--rows"),
    "usage.takes_no_value": ("audit", "x.csv", "--summary=3"),
    "usage.extra_arguments": ("explain", "A", "B"),
    "usage.missing_option": ("generate", "--rows", "1"),
}


def test_click_usage_errors_read_in_chinese(cli):
    """Click's own usage errors, read back through the catalogue's templates: each case is
    one line, Chinese, with no English sentence; in English, Click's wording as it is."""
    names = list(USAGE_ERRORS)
    runs = cli.many(*({"args": USAGE_ERRORS[n], "env": env} for env in (ZH, EN) for n in names))
    for name, zh, en in zip(names, runs[: len(names)], runs[len(names):], strict=True):
        assert zh.code == en.code == 2, (name, zh.err, en.err)
        assert len(zh.err_lines()) == 1 and len(en.err_lines()) == 1, (name, zh.err)
        message = zh.err.removeprefix("cservice-audit：错误：")
        assert HAN.search(message) and not ENGLISH_RUN.search(message), (name, zh.err)
        # The English is Click's own: it matches this key's template, not just any.
        english = en.err.removeprefix("cservice-audit: error: ").rsplit(" (see ", 1)[0]
        from cservice_audit.i18n import read_back

        assert read_back("usage.", english, "zh") == t(name, "zh", **_matched(name, english)), (name, english)


def _matched(key: str, text: str) -> dict[str, str]:
    pattern = "".join(re.escape(lit) + (f"(?P<{f}>.+?)" if f else "") for lit, f, _, _ in string.Formatter().parse(t(key, "en")))
    found = re.fullmatch(pattern, text, flags=re.S)
    assert found, (key, text)
    return found.groupdict()
