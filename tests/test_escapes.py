"""Terminal and markup injection (cservice_audit/sanitize.py).

Agent names, shop names, texts, conversation ids, timestamps, roles, file names and a
colleague's ruleset titles all come from elsewhere. In every human format (table,
markdown), on stderr, and in `history`, `trend`, `rules` and `validate-ruleset`, no control
character of an injected sequence may reach the output: no ESC, BEL, C1 CSI/OSC, backspace
or bare CR (clipboard writes, title changes, screen clears, hidden links, overwritten lines).
Markdown escapes markup too. JSON and CSV keep the data exact.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # clipboard write
TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J\x1b[H"
LINK = "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"  # a hidden hyperlink
C1 = "\u009b31m\u009d0;t\u009c"  # CSI and OSC as single C1 characters
OTHER = "\x08\x08\rX\x7f\x00"
SEQUENCES = (OSC52, TITLE, CLEAR, LINK, C1, OTHER)
# Any control character but newline and tab.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MARKUP = '<img src=x onerror=alert(1)> <script>alert(2)</script> [here](http://evil.example) ![i](http://evil.example/i.png)'


def rows() -> list[list[str]]:
    header = ["时间", "店铺", "买家", "会话ID", "发送方", "客服账号", "内容"]
    body = [
        ["2026-11-22 09:00:00", "店" + TITLE, "b" + OSC52, "c" + CLEAR, "买家", "", "在吗" + LINK],
        ["2026-11-22 09:05:00", "店" + TITLE, "b" + OSC52, "c" + CLEAR, "客服", "a" + C1, "加我微信 " + MARKUP + OTHER],
        ["2026-11-22 09:06:00", "店" + TITLE, "b" + OSC52, "c" + CLEAR, "客服", "a" + C1, "加我微信 " + MARKUP + OTHER],
        ["2026-11-22 09:07:00", "店" + TITLE, "b" + OSC52, "c" + CLEAR, "客服", "a" + C1, "加我微信 " + MARKUP + OTHER],
        # Rejected rows: the bad role and time are quoted on stderr.
        ["2026-11-22 09:08:00" + TITLE, "店", "b2", "c2", "买家", "", "x"],
        ["2026-11-22 09:09:00", "店", "b2", "c2", "买家" + CLEAR, "", "x"],
    ]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *body])
    return buffer.getvalue()


RULESET = (
    'extends: pinduoduo\nname: "shop rules \\e]0;title\\a"\nversion: "1 \\e[2J"\n'
    'rules:\n  - code: PDD-P2\n    title: "off-platform \\e]52;c;eA==\\a [x](http://e)"\n'
)


def assert_clean(text: str, where: str) -> None:
    found = CONTROL.findall(text)
    assert not found, f"{where}: control characters reached the output: {sorted(set(found))!r}"


@pytest.fixture(scope="module")
def injected(tmp_path_factory, cli_factory):
    folder = tmp_path_factory.mktemp("escapes")
    name = "chats\x1b]0;file\x07.csv"  # the file name itself is quoted in headers and errors
    (folder / name).write_text(rows(), "utf-8")
    (folder / "r.yaml").write_text(RULESET, "utf-8")
    history = folder / "h"
    cli = cli_factory(folder)
    base = ("audit", name, "--ruleset", "r.yaml", "--history", history)
    runs = cli.many(
        (*base, "-f", "table"),
        (*base, "-f", "markdown"),
        (*base, "-f", "json"),
        (*base, "-f", "csv"),
        ("audit", name, "-p", "pdd", "-f", "table", "--no-history", "--quiet"),
        ("audit", name, "-p", "pdd", "-f", "table", "--no-history", "--statistics"),
        ("validate-ruleset", "r.yaml"),
        ("audit", "nothing\x1b[2J.csv", "-p", "pdd", "--no-history"),  # an error quoting a name
    )
    names = ["table", "markdown", "json", "csv", "quiet", "statistics", "validate", "missing"]
    result = dict(zip(names, runs, strict=True))
    result.update(zip(["history", "trend", "rules", "explain"], cli.many(
        ("history", "-p", "pdd", "--history", history),
        ("trend", "-p", "pdd", "--history", history),
        ("rules", "--ruleset", "r.yaml"),
        ("explain", "PDD-P2", "--ruleset", "r.yaml"),
    ), strict=True))  # fmt: skip
    return result


@pytest.mark.parametrize("case", ["table", "markdown", "quiet", "statistics", "validate", "missing", "history", "trend", "rules", "explain"])
def test_no_control_character_reaches_human_output_or_stderr(injected, case):
    run = injected[case]
    assert run.code in (0, 1, 2) and "Traceback" not in run.err and "internal error" not in run.err, run.err
    assert_clean(run.out, f"{case} stdout")
    assert_clean(run.err, f"{case} stderr")


@pytest.mark.parametrize("case", ["json", "csv"])
def test_stderr_of_machine_formats_is_clean(injected, case):
    assert_clean(injected[case].err, f"{case} stderr")


def test_the_data_is_still_shown_escaped(injected):
    """Safe is not silent: the sequences are shown as visible escapes."""
    table = injected["table"].out
    assert "\\x1b]0;pwned\\x07" in table or "\\x1b]0;pwned" in table, table[:3000]
    assert "1 row(s) rejected" not in injected["table"].err and "2 row(s) rejected" in injected["table"].err
    assert "\\x1b]0;pwned\\x07" in injected["table"].err  # the bad timestamp, quoted visibly


def test_markdown_escapes_markup(injected):
    md = injected["markdown"].out
    for bad in ("<img", "<script", "](http", "![", "[here]"):
        assert bad not in md.replace("\\<", "").replace("\\]\\(", "").replace("\\!\\[", ""), (bad, md[:3000])
    assert "\\<script\\>" in md


def test_machine_formats_keep_the_data_exact(injected):
    report = injected["json"].json()
    agents = {m["agent"] for m in report["metrics"] if m["scope"] == "agent"}
    assert "a" + C1 in agents
    evidence = {f["evidence"] for f in report["findings"] if f["code"] == "PDD-P2"}
    assert ("加我微信 " + MARKUP + OTHER) in evidence
    rows = list(csv.DictReader(io.StringIO(injected["csv"].out, newline="")))
    assert any(r["agent"] == "a" + C1 for r in rows)
    assert json.dumps(report)  # still valid JSON


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_machine_formats_on_a_terminal_show_the_data_escaped(cli, tmp_path, fmt):
    """`-f csv` (or json) printed to a terminal, a person's spot-check: a buyer or agent named
    with a screen clear or a title change ran them on the screen. On a terminal the controls
    are shown escaped, as in the table; piped (test_machine_formats_keep_the_data_exact) the
    data stays exact."""
    from test_report import _on_terminal

    (tmp_path / "chats.csv").write_text(rows(), "utf-8")
    code, screen, err = _on_terminal(cli, tmp_path, "audit", "chats.csv", "-p", "pdd", "--no-history", "--exit-zero", "-f", fmt)
    assert code == 0, err
    assert_clean(screen, f"{fmt} on a terminal")
    # JSON escapes C0 itself (\u001b), not C1 nor the bidi overrides: those are ours.
    title = "\\x1b]0;pwned\\x07" if fmt == "csv" else "\\u001b]0;pwned\\u0007"
    assert title in screen and "\\x9b31m" in screen, screen[:2000]


def test_listings_on_a_terminal_show_the_data_escaped(cli, tmp_path):
    """`history -f csv|json` and `check-text --format json` on a terminal, as `audit`'s."""
    from test_report import _on_terminal

    (tmp_path / "chats.csv").write_text(rows(), "utf-8")
    history = tmp_path / "h"
    assert cli("audit", "chats.csv", "-p", "pdd", "--history", history, "--exit-zero", "-f", "json", "-o", "r.json", cwd=tmp_path).code == 0
    for args in (("history", "-p", "pdd", "--history", str(history), "-f", "csv"), ("history", "-p", "pdd", "--history", str(history), "-f", "json"),
                 ("check-text", "加我微信" + CLEAR + TITLE, "-p", "pdd", "-f", "json")):  # fmt: skip
        code, screen, err = _on_terminal(cli, tmp_path, *args)
        assert code in (0, 1), err
        assert_clean(screen, " ".join(args[:1]))
        assert "\\x1b]0;" in screen or "\\u001b]0;" in screen, screen[:2000]


def test_a_conversation_shown_escaped_opens_when_pasted_back(cli, tmp_path):
    """`show` printed an id with a control character escaped (c\\x1b[2J\\x1b[H), and that text,
    pasted back, was 'not in the input'; the error also doubled each backslash. The printed
    form opens the conversation, with its findings; an unknown id is quoted as typed."""
    (tmp_path / "chats.csv").write_text(rows(), "utf-8")
    printed = "c\\x1b[2J\\x1b[H"
    run = cli("show", printed, "chats.csv", "-p", "pdd")
    assert run.code == 0, run.err
    assert_clean(run.out, "show")
    assert printed in run.out and "PDD-P2" in run.out, run.out  # the transcript and its finding
    missing = cli("show", "nope\x1b[31m", "chats.csv", "-p", "pdd")
    assert missing.code == 2 and "'nope\\x1b[31m'" in missing.err and "\\\\x1b" not in missing.err, missing.err


@pytest.mark.parametrize("flag", ["-o", "--rejects"])
def test_a_terminal_named_as_the_output_file_shows_the_data_escaped(cli, tmp_path, flag):
    """`-o /dev/stdout` (or /dev/tty) on a terminal is written into, as a device: the CSV went
    out raw there, so the screen clear ran after all; `--rejects /dev/stdout` likewise, with
    the rejected lines as read."""
    from test_report import _on_terminal

    text = rows() + "not a time,b" + CLEAR + ",buyer,,x" + TITLE + "\n"
    (tmp_path / "chats.csv").write_text(text, "utf-8")
    out = ("-o", "/dev/stdout") if flag == "-o" else ("--rejects", "/dev/stdout", "-o", "r.json")
    code, screen, err = _on_terminal(cli, tmp_path, "audit", "chats.csv", "-p", "pdd", "--no-history", "--exit-zero", "-f", "csv", *out)
    assert code == 0, err
    assert_clean(screen, f"{flag} /dev/stdout on a terminal")
    assert "\\x1b]0;pwned\\x07" in screen, screen[:2000]
