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
import re
import string
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
# Raise sites still English that another part of issue 9 converts (show's labels). Each must
# still be found by the scan, so the entry is removed when its site is converted.
PENDING_ENGLISH = {"cservice_audit/show.py"}


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


@pytest.mark.parametrize("fmt", ["table", "markdown", "html", pytest.param("xlsx", marks=pytest.mark.xfail(
    strict=True, reason="the evidence column of rate findings is the checks' English (docs/i18n.md, still English)"))])
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


def test_json_keeps_english_messages_whatever_the_language(cli):
    base = ("audit", SAMPLE, "-p", "pinduoduo", "--no-history", "--exit-zero", "--format", "json")
    en, zh = cli.many({"args": base, "env": EN}, {"args": base, "env": ZH})
    assert en.code == zh.code == 0
    assert en.json()["findings"] == zh.json()["findings"]
    assert all("message_zh" not in f for f in zh.json()["findings"])
    assert any(f["message"].startswith("长时间不回复: asked ") for f in en.json()["findings"])


@pytest.mark.parametrize(("code", "example"), [("PDD-R3", "explain.example"), ("PDD-N1", "explain.examples")])
def test_explain_headings_follow_the_language(cli, code, example):
    en, zh = cli.many({"args": ("explain", code), "env": EN}, {"args": ("explain", code), "env": ZH})
    assert en.code == zh.code == 0
    for key in ("explain.params", "explain.what", "explain.why", example):
        assert t(key, "en") in en.out and t(key, "en") not in zh.out, key
        assert t(key, "zh") in zh.out, key
