"""The morning report (issue 9): the summary screen, Chinese and English, grouping of
repeated scripts, tiers, trend, --version; end to end through the installed command.

The summary goldens (tests/golden/summary/) are reviewed text: after an intended change run
`.venv/bin/python tests/test_report.py` and review `git diff tests/golden/summary/`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from datetime import date, timedelta
from pathlib import Path

import pytest
from rich.cells import cell_len

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "summary"
# (sample, platform): PDD has the robot and points; Kuaishou has escalation tiers.
SAMPLES = [("pinduoduo-2026-11-22.csv", "pinduoduo"), ("kuaishou-2026-11-16-week.csv", "kuaishou")]
CASES = [(s, p, lang, width) for s, p in SAMPLES for lang in ("zh", "en") for width in (80, 120)]
# The summary's status marks: the screen must use them, not words, in its matrix.
MARKS = "✗!✓·"


def _golden_name(sample: str, lang: str, width: int) -> str:
    return f"{sample.split('-')[0]}-{lang}-{width}.txt"


def _summary_args(sample: str, platform: str, lang: str) -> tuple:
    """Run from the repository root, so the input line names samples/... as in the README."""
    return ("audit", f"samples/{sample}", "--platform", platform, "--format", "table", "--summary", "--lang", lang, "--no-history")


@pytest.fixture(scope="module")
def summaries(cli_factory):
    cli = cli_factory(ROOT)
    runs = cli.many(*({"args": _summary_args(s, p, lang), "env": {"COLUMNS": str(width)}} for s, p, lang, width in CASES))
    return dict(zip(CASES, runs, strict=True))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[1]}-{c[2]}-{c[3]}")
def test_summary_matches_reviewed_golden(summaries, case):
    sample, _, lang, width = case
    run = summaries[case]
    assert run.code == 1, run.err  # every sample has error findings
    if "week" in sample:  # a week judged whole: its failures of earlier days are shown, and said
        said = {"zh": "本次审核 2026-11-16..2026-11-22 多天：", "en": "this run judged 2026-11-16..2026-11-22: "}[lang]
        assert len(run.err_lines()) == 1 and said in run.err, run.err
    else:
        assert run.err == ""
    golden = (GOLDEN / _golden_name(sample, lang, width)).read_text("utf-8")
    assert run.out == golden


@pytest.mark.parametrize("case", [c for c in CASES if c[3] == 80], ids=lambda c: f"{c[1]}-{c[2]}")
def test_80_column_summary_fits_80_cells(summaries, case):
    lines = summaries[case].out.splitlines()
    assert lines
    too_wide = [line for line in lines if cell_len(line) > 80]
    assert not too_wide, too_wide


def test_summary_is_one_screen_and_names_every_failing_agent(summaries, cli, tmp_path):
    """On the 80-column summary: every agent that fails a rule in the JSON report (in the
    period of the as-of day, or in a finished day, week or month of a run of several days)
    is on a matrix row with a ✗, the failed rules are named, and the closing line counts the
    JSON's findings by severity."""
    for sample, platform in SAMPLES:
        report = cli("audit", ROOT / "samples" / sample, "--platform", platform, "--format", "json", "--no-history").json()
        out = summaries[(sample, platform, "en", 80)].out
        assert len(out.splitlines()) <= 50, "the summary is one screen"
        as_of = report["as_of"]
        current = [m for m in report["metrics"] if m["period_start"] <= as_of <= m["period_end"] or m["period_end"] < as_of]
        failing_agents = {m["agent"] for m in current if m["status"] == "fail" and m["scope"] == "agent"}
        for agent in failing_agents:
            name = "(unassigned)" if agent == "(unassigned)" else agent
            row = next((line for line in out.splitlines() if line.startswith(name)), None)
            assert row is not None and "✗" in row, (agent, out)
        failed_rules = sorted({m["rule"] for m in current if m["status"] == "fail"})
        failed_line = next(line for line in out.splitlines() if line.startswith("rules failed:"))
        assert sorted(failed_line.removeprefix("rules failed:").split()) == failed_rules
        counts = {s: sum(1 for f in report["findings"] if f["severity"] == s) for s in ("error", "warning", "info")}
        closing = out.splitlines()[-1]
        n = len(report["findings"])
        assert closing.startswith(f"Found {n} findings")
        for severity, k in counts.items():
            assert (f"{k} {severity}" in closing) == (k > 0), closing
        assert f"{n} new, 0 known" in closing


def test_worst_first_breaks_ties_by_how_far_from_passing(cli, tmp_path):
    """JD's rules carry no points: two agents failing the same rules tied and were listed by
    name, 35 % above 0 %. Now the farther from the threshold comes first, on the summary and
    in the digest's worst agents."""
    rows = ["ts,buyer,role,agent,text"]
    for i in range(3):
        rows += [f"2026-11-22 10:0{i}:00,a{i},buyer,,在吗", f"2026-11-22 10:0{i}:50,a{i},agent,甲,在的"]  # 0 of 3 in 30 s
        wait = "10" if i == 0 else "50"
        rows += [f"2026-11-22 11:0{i}:00,b{i},buyer,,在吗", f"2026-11-22 11:0{i}:{wait},b{i},agent,乙,在的"]  # 1 of 3
    export = tmp_path / "jd.csv"
    export.write_text("\n".join(rows) + "\n", "utf-8")
    args = ("audit", export, "-p", "jd", "--no-history", "--exit-zero", "--lang", "zh", "--select", "JD-R30")
    table = cli(*args, "-f", "table", "--summary").out
    order = [line.split()[0] for line in table.splitlines() if line.startswith(("甲", "乙"))]
    assert order == ["甲", "乙"], table
    digest = cli(*args, "-f", "digest").out
    assert digest.index("- **甲**") < digest.index("- **乙**"), digest


def test_worst_agent_first_and_robot_apart(summaries):
    out = summaries[("pinduoduo-2026-11-22.csv", "pinduoduo", "zh", 120)].out
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("客服"))
    apart = lines.index("不计入辅导（机器人、未分配）")
    agents = [line.split()[0] for line in lines[head + 1 : apart] if line and line[0] not in " 全"]
    robot = [line for line in lines[apart:] if line.startswith("机器人")]
    assert robot, "the robot is listed apart from the agents to coach"
    assert "机器人" not in agents
    # Worst first: the number of ✗ never grows down the list of agents to coach.
    rows = [line for line in lines[head + 1 : apart] if line.split()[0] in agents]
    fails = [row.count("✗") for row in rows]
    assert fails == sorted(fails, reverse=True), rows


def test_summary_without_a_format_into_a_pipe_says_the_format_defaulted_to_json(cli) -> None:
    """stdout is a pipe here, so the format defaults to json, which --summary cannot be: the
    error must say why, not blame a --format json nobody typed."""
    unasked, asked = cli.many(
        ("audit", "samples/pinduoduo-2026-11-22.csv", "-p", "pinduoduo", "--summary", "--no-history", "--lang", "en"),
        ("audit", "samples/pinduoduo-2026-11-22.csv", "-p", "pinduoduo", "--summary", "--no-history", "--lang", "en", "-f", "json"),
    )
    assert unasked.code == 2 and unasked.out == ""
    [line] = unasked.err.strip().splitlines()
    assert "output is not a terminal, so the format defaulted to json: add --format table" in line, line
    assert asked.code == 2 and "not --format json" in asked.err


def test_robot_is_told_by_its_rows_whatever_its_name(cli, write):
    """店小蜜 sends only bot messages: apart from the agents; 阿强 sends human ones: an agent."""
    write("chats.csv", "ts,buyer,role,agent,text\n"
          "2026-11-22 09:00:00,b1,买家,,在吗\n2026-11-22 09:00:05,b1,机器人,店小蜜,您好，欢迎光临\n"
          "2026-11-22 09:20:00,b1,客服,阿强,在的\n"
          "2026-11-22 10:00:00,b2,买家,,发货了吗\n2026-11-22 10:00:05,b2,机器人,店小蜜,亲，请稍等\n")
    out = cli("audit", "chats.csv", "--platform", "pinduoduo", "-f", "table", "--summary", "--lang", "en").out
    lines = out.splitlines()
    apart = lines.index("not coached (robot, unassigned)")
    assert any(line.startswith("店小蜜") for line in lines[apart:]), out
    assert any(line.startswith("阿强") for line in lines[:apart]), out
    assert "1 agents: 1 failing" in out


def test_scorecards_list_the_agents_then_the_robot_unassigned_and_shop(cli, write):
    """店小蜜 (a robot by its rows, named after no robot word) sorts before the agents by name;
    its PDD-R5 row comes after them, as on the summary screen, then the unassigned turns, then
    the shop total."""
    write("chats.csv", "ts,buyer,role,agent,text\n"
          "2026-11-22 09:00:00,b1,买家,,在吗\n2026-11-22 09:00:05,b1,机器人,店小蜜,您好，欢迎光临\n"
          "2026-11-22 09:20:00,b1,客服,阿强,在的\n"
          "2026-11-22 10:00:00,b2,买家,,发货了吗\n2026-11-22 10:00:05,b2,机器人,店小蜜,亲，请稍等\n"
          "2026-11-22 10:30:00,b3,买家,,有人吗\n2026-11-22 10:31:00,b3,客服,阿强,在的\n"
          "2026-11-22 11:00:00,b4,买家,,能便宜点吗\n")
    out = cli("audit", "chats.csv", "--platform", "pinduoduo", "-f", "table", "--lang", "en", "--select", "PDD-R5",
              env={"COLUMNS": "160"}).out  # fmt: skip
    card = out[out.index("PDD-R5 ") :].split("└")[0].splitlines()
    names = [line.split("│")[1].strip() for line in card if line.startswith("│")]
    assert names == ["阿强", "店小蜜", "(unassigned)", "(shop total)"], names  # by name: 店小蜜 < 阿强


def test_points_table_lists_the_agents_then_the_unassigned_turns_and_shop(cli):
    """The points table sorted names as text: `(unassigned)`, nobody to coach, came first, above
    the agents (`（未分配）` in Chinese as well). It now groups rows as the summary and the
    scorecards do, in the table and the Markdown alike."""
    sample = ROOT / "samples" / "pinduoduo-2026-11-22.csv"
    table, markdown = cli.many(
        ("audit", sample, "-p", "pinduoduo", "--no-history", "-f", "table", "--lang", "en"),
        ("audit", sample, "-p", "pinduoduo", "--no-history", "-f", "markdown", "--lang", "en"),
    )
    assert table.code == 1 and markdown.code == 1, table.err + markdown.err
    card = table.out[table.out.index("Points in force on") :].split("└")[0].splitlines()
    rows = [line.split("│")[1].strip() for line in card if line.startswith("│")]
    section = markdown.out[markdown.out.index("## Points in force on") :].split("\n\n")[1].splitlines()[2:]
    for names in (rows, [line.split("|")[1].strip() for line in section]):
        assert names[-2:] == ["(unassigned)", "(shop total)"], names
        assert names[:-2] and sorted(names[:-2]) == names[:-2] and not any(n.startswith("(") for n in names[:-2]), names


def test_agents_passing_everything_are_one_line(cli, write):
    """a1 answers in a minute (passes every rule), a2 after ten minutes (fails PDD-R3/R5)."""
    from transcripts import FAILING

    write("chats.csv", FAILING)
    out = cli("audit", "chats.csv", "--platform", "pinduoduo", "-f", "table", "--summary", "--lang", "en").out
    lines = out.splitlines()
    assert "passing every rule: a1" in lines
    assert any(line.startswith("a2 ") and line.count("✗") == 2 for line in lines), out
    assert not any(line.startswith("a1 ") for line in lines)
    assert "2 agents: 1 failing" in lines  # no "0 more at risk"


def test_taobao_sub_accounts_are_shown_by_their_own_names_in_their_shop(cli, write):
    """Taobao exports name agents `店铺名:客服名`. Inside that shop's section the prefix is left
    off (and said so), in the table and the markdown alike; where a plain name would then read
    like a sub-account's (客服07 beside 晨光家居旗舰店:客服07) both stay whole; the JSON keeps the
    names as exported."""
    write("chats.csv", "ts,shop,buyer,role,agent,text\n"
          "2026-11-22 09:00:00,小林数码专营店,b1,买家,,在吗\n2026-11-22 09:20:00,小林数码专营店,b1,客服,小林数码专营店:客服07,在的\n"
          "2026-11-22 10:00:00,小林数码专营店,b2,买家,,发货了吗\n2026-11-22 10:00:30,小林数码专营店,b2,客服,小林数码专营店:小美,发了\n"
          "2026-11-22 09:00:00,晨光家居旗舰店,b3,买家,,在吗\n2026-11-22 09:20:00,晨光家居旗舰店,b3,客服,晨光家居旗舰店:客服07,在的\n"
          "2026-11-22 10:00:00,晨光家居旗舰店,b4,买家,,有货吗\n2026-11-22 10:20:00,晨光家居旗舰店,b4,客服,客服07,有\n")  # fmt: skip
    table, markdown, report, full = cli.many(
        ("audit", "chats.csv", "-p", "taobao", "-f", "table", "--summary", "--lang", "en", "--no-history"),
        ("audit", "chats.csv", "-p", "taobao", "-f", "markdown", "--summary", "--lang", "zh", "--no-history"),
        ("audit", "chats.csv", "-p", "taobao", "-f", "json", "--exit-zero", "--no-history"),
        {"args": ("audit", "chats.csv", "-p", "taobao", "-f", "table", "--lang", "en", "--no-history"), "env": {"COLUMNS": "200"}},
    )
    lines = table.out.splitlines()
    shop_a, shop_b = lines.index("小林数码专营店 · as of 2026-11-22"), lines.index("晨光家居旗舰店 · as of 2026-11-22")
    first, second = lines[shop_a:shop_b], lines[shop_b:]
    assert "agent names shown without 小林数码专营店:" in first, table.out
    assert any(line.startswith("客服07 ") and "✗" in line for line in first), table.out
    assert "passing every rule: 小美" in first, table.out
    assert not any("小林数码专营店:" in line for line in first[1:] if not line.startswith("agent names")), table.out
    assert not any(line.startswith("agent names") for line in second), table.out
    assert any(line.startswith("晨光家居旗舰店:客服07 ") for line in second), table.out
    assert any(line.startswith("客服07 ") for line in second), table.out
    assert "客服名省略了店铺前缀 小林数码专营店:" in markdown.out and "| 客服07 | ✗" in markdown.out, markdown.out
    # Scorecards and findings name the shop beside the agent: the prefix is left off there too.
    assert "小林数码专营店 / 客服07 " in full.out and "小林数码专营店 / 小林数码专营店:" not in full.out, full.out
    assert "晨光家居旗舰店 / 晨光家居旗舰店:客服07 " in full.out and "晨光家居旗舰店 / 客服07 " in full.out, full.out
    agents = {row["agent"] for row in report.json()["metrics"] if row["agent"]}
    assert {"小林数码专营店:客服07", "晨光家居旗舰店:客服07", "客服07"} <= agents, agents


def test_a_report_of_one_taobao_shop_names_its_sub_accounts_without_the_shop_throughout(cli, write):
    """A report of one shop names the shop in its header, and its summary says the agents go
    without the `店铺:` prefix: the scorecards, the findings, the drill-down and the HTML then
    leave it off too (it once came back in every row below the summary, nine columns of each
    findings line on a terminal). JSON and CSV keep the names as exported."""
    write("one.csv", "ts,shop,buyer,role,agent,text\n"
          "2026-11-22 09:00:00,小林数码专营店,b1,买家,,在吗\n2026-11-22 09:20:00,小林数码专营店,b1,客服,小林数码专营店:客服07,在的\n"
          "2026-11-22 10:00:00,小林数码专营店,b2,买家,,在吗\n2026-11-22 10:00:10,小林数码专营店,b2,客服,小林数码专营店:客服07,全网最低价哦\n")  # fmt: skip
    args = ("audit", "one.csv", "-p", "taobao", "--lang", "zh", "--exit-zero", "--no-history")
    table, markdown, html, csv_run, report = cli.many(
        {"args": (*args, "-f", "table"), "env": {"COLUMNS": "200"}},
        (*args, "-f", "markdown"),
        (*args, "-f", "html"),
        (*args, "-f", "csv"),
        (*args, "-f", "json"),
    )
    for run in (table, markdown, html):
        assert run.code == 0, run.err
        # The HTML's full items table is data, as --items-csv: the names as exported.
        text = re.sub(r'<section id="items">.*?</section>', "", run.out, flags=re.S)
        assert 'id="items"' not in text and "客服07" in text, run.out
        shown = [line for line in text.splitlines() if "客服名省略了店铺前缀" not in line]
        assert not any("小林数码专营店:客服07" in line for line in shown), run.out
    findings = table.out[table.out.index("\n问题（") :]
    assert any(line.startswith("│ TB-P1 ") and "│ 客服07 " in line for line in findings.splitlines()), table.out
    assert "| TB-R3 " in markdown.out and "| 客服07 | " in markdown.out, markdown.out
    assert "小林数码专营店:客服07" in csv_run.out
    assert {f["agent"] for f in report.json()["findings"] if f["agent"]} == {"小林数码专营店:客服07"}


def test_a_rejected_row_of_a_second_shop_makes_the_report_one_of_two_shops(cli, write):
    """甲店 is judged; 乙店's only row is rejected (its time unreadable). The JSON names both
    shops and the unreadable-row finding is 乙店's: the findings table says so, `乙店 / （全店）`,
    not `（全店）` under a header naming 甲店 alone."""
    write("r.csv", "ts,shop,buyer,role,agent,text\n"
          "2026-11-22 10:00:00,甲店,b1,买家,,在吗\n2026-11-22 10:00:20,甲店,b1,客服,小A,在的\n"
          "notatime,乙店,b2,买家,,在吗\n")  # fmt: skip
    args = ("audit", "r.csv", "-p", "pdd", "--lang", "zh", "--no-history", "--exit-zero", "--limit", "rejected_percent=100")
    table, report = cli.many({"args": (*args, "-f", "table"), "env": {"COLUMNS": "160"}}, (*args, "-f", "json"))
    assert report.json()["shops"] == ["乙店", "甲店"]
    d1 = [line for line in table.out.splitlines() if "PDD-D1" in line and "│" in line]
    assert d1 and all("│ 乙店 / （全店） │" in line for line in d1), table.out


@pytest.mark.parametrize("platform, agent", [("taobao", "{shop}:客服07"), ("pdd", "客服07")])
def test_a_two_shop_report_names_the_shop_of_a_finding_only_one_shop_has(cli, write, platform, agent):
    """Two shops, a finding in one: the finding and the drill-down name its shop, though no
    other finding does (which shop a table is about is the report's, not the table's rows':
    it once read `客服07` alone, in a report whose two shops each have a 客服07)."""
    rows = [("甲店", "在的亲", 10), ("乙店", "加我微信聊", 1210)]
    write("two.csv", "ts,shop,buyer,conversation,role,agent,text\n" + "".join(
        f"2026-11-22 1{i}:00:00,{shop},b{i},c{i},买家,,在吗\n"
        f"2026-11-22 1{i}:{wait // 60:02d}:{wait % 60:02d},{shop},b{i},c{i},客服,{agent.format(shop=shop)},{text}\n"
        for i, (shop, text, wait) in enumerate(rows)
    ))
    args = ("audit", "two.csv", "-p", platform, "--lang", "zh", "--exit-zero", "--no-history")
    markdown, table = cli.many((*args, "-f", "markdown"), {"args": (*args, "-f", "table"), "env": {"COLUMNS": "200"}})
    findings = markdown.out[markdown.out.index("## 问题") :].splitlines()
    assert [line for line in findings if "| 乙店 / 客服07 | c1 |" in line], markdown.out
    assert all("乙店 / " in line for line in markdown.out.splitlines() if "| c1 |" in line), markdown.out
    late = [line for line in table.out.splitlines() if "│ c1 " in line]
    assert late and all(line.startswith("│ 乙店 / ") or "│ 乙店 / 客服07 " in line for line in late), table.out


def test_tiers_and_penalties_in_summary_table_and_markdown(cli):
    sample = ROOT / "samples" / "kuaishou-2026-11-16-week.csv"
    runs = cli.many(
        ("audit", sample, "--platform", "kuaishou", "--format", "table", "--lang", "zh", "--no-history"),
        ("audit", sample, "--platform", "kuaishou", "--format", "markdown", "--lang", "zh", "--no-history"),
        ("audit", sample, "--platform", "kuaishou", "--format", "json", "--no-history"),
    )
    table, markdown, as_json = runs
    tiered = [f for f in as_json.json()["findings"] if f["tier"]]
    assert tiered, "the Kuaishou sample reaches an escalation tier"
    for run in (table, markdown):
        assert run.code == 1, run.err
        for f in tiered:
            assert f["tier"] in run.out and f["penalty"] in run.out
        assert "处罚档" in run.out
    # The markdown opens with the summary: its matrix comes before the first scorecard.
    assert markdown.out.index("| 客服 |") < markdown.out.index("## KS-R3")


def test_points_column_only_where_the_platform_deducts_points(cli):
    """Douyin counts violations, never points: its summary has no points column and its
    legend does not explain one. Pinduoduo deducts points: the column and the legend stay."""
    douyin = ROOT / "samples" / "douyin-2026-11-22.jsonl"
    pinduoduo = ROOT / "samples" / "pinduoduo-2026-11-22.csv"
    cases = [
        (sample, platform, fmt, lang)
        for sample, platform in ((douyin, "douyin"), (pinduoduo, "pinduoduo"))
        for fmt in ("table", "markdown")
        for lang in ("zh", "en")
    ]
    runs = cli.many(
        *(("audit", sample, "--platform", platform, "--format", fmt, "--summary", "--lang", lang, "--no-history") for sample, platform, fmt, lang in cases)
    )
    for run, (_, platform, fmt, lang) in zip(runs, cases, strict=True):
        assert run.code in (0, 1), run.err
        head = next(line for line in run.out.splitlines() if line.lstrip("| ").startswith("客服" if lang == "zh" else "agent"))
        legend_word = "分：生效分值" if lang == "zh" else "pts: points in force"
        column = "分" if lang == "zh" else "pts"
        if platform == "douyin":
            assert column not in head.split() and f"| {column} |" not in head, (fmt, lang, head)
            assert legend_word not in run.out, (fmt, lang)
            assert ("无数据" if lang == "zh" else "no data") in run.out, "the rest of the legend stays"
        else:
            assert head.rstrip(" |").endswith(column), (fmt, lang, head)
            assert legend_word in run.out, (fmt, lang)


def test_scorecards_leave_off_points_a_rule_never_deducts_and_read_total_waits_as_hours(cli):
    """A scorecard's points column only where the rule deducts points: DY-P1 and JD-P1 count
    violations (a column of zeros), PDD-P1 deducts. JD-A1's total wait reads as hours and
    minutes, the JSON's seconds: 2194072s was a number nobody could read."""
    runs = cli.many(
        *(("audit", ROOT / "samples" / sample, "-p", platform, "--no-history", "--lang", "zh", "-f", fmt)
          for sample, platform in (("douyin-2026-11-22.jsonl", "douyin"), ("pinduoduo-2026-11-22.csv", "pinduoduo"), ("jd-2026-11-22-gb18030.csv", "jd"))
          for fmt in ("markdown", "json")),
    )  # fmt: skip
    douyin, _, pinduoduo, _, jd, jd_json = runs

    def head(run, code):
        lines = run.out.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith(f"## {code} "))
        return next(line for line in lines[start:] if line.startswith("| 客服 |"))

    assert head(douyin, "DY-P1") == "| 客服 | 消息 | 命中 | 状态 |", douyin.out
    assert head(jd, "JD-P1") == "| 客服 | 消息 | 命中 | 状态 |", jd.out
    assert head(pinduoduo, "PDD-P1") == "| 客服 | 消息 | 命中 | 分值 | 状态 | 处罚档 |", pinduoduo.out
    named = {None: "（全店）", "(unassigned)": "（未分配）"}
    totals = {named.get(m["agent"], m["agent"]): m["numerator"] for m in jd_json.json()["metrics"] if m["rule"] == "JD-A1"}
    lines = jd.out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("## JD-A1 "))
    rows = [line.strip("| ").split(" | ") for line in lines[start + 4 : start + 4 + len(totals)]]
    assert head(jd, "JD-A1").split(" | ")[2] == "总等待" and {row[0] for row in rows} == set(totals), rows
    # One average: the rule's own. JD-A1 has no cap, so the answered waits' mean was the same
    # figure twice; TB-A1's cap made it a second, larger average nobody is judged on.
    assert head(jd, "JD-A1") == "| 客服 | 计入 | 总等待 | 平均等待 | 中位 | P90 | 状态 |", jd.out

    def seconds(cell: str) -> float:
        h, m, s = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d)?)s)?", cell).groups()
        return int(h or 0) * 3600 + int(m or 0) * 60 + float(s or 0)

    for agent, _, total, *_ in rows:
        assert abs(seconds(total) - totals[agent]) < (60 if "h" in total else 1), (agent, total, totals[agent])
    assert any("h" in total for _, _, total, *_ in rows), rows
    taobao = cli("audit", ROOT / "samples" / "taobao-2026-11.csv.gz", "-p", "taobao", "--no-history", "--lang", "zh", "-f", "markdown", "--select", "TB-A1")
    assert taobao.code == 0 and "| TB-A1 | 警告 |" in taobao.out, taobao.err  # a warning: exit 0
    assert head(taobao, "TB-A1") == "| 客服 | 计入 | 总等待 | 平均等待 | 中位 | P90 | 状态 |", taobao.out


def test_a_total_wait_is_rounded_to_whole_seconds_before_it_is_cut_to_minutes():
    """59.6 s of waits is a minute, as 60 s is, not `60s` beside `1m00s`; above an hour the
    seconds are dropped."""
    from cservice_audit.render.views import _total_seconds

    cases = {None: "-", 0: "0s", 59.4: "59s", 59.6: "1m00s", 60: "1m00s", 3599.4: "59m59s", 3599.6: "1h00m", 2194072: "609h27m"}
    assert {value: _total_seconds(value) for value in cases} == cases


def test_readme_tour_shows_todays_summary():
    """The README's tour is the reviewed 80-column output, so its numbers are today's."""
    readme = (ROOT / "README.md").read_text("utf-8")
    for name in ("pinduoduo-en-80.txt", "kuaishou-zh-80.txt"):
        assert (GOLDEN / name).read_text("utf-8") in readme, name


def test_period_findings_read_in_both_languages(cli):
    """Reply-rate, review-rate and average-wait findings are written from their metric in
    the reader's language: the English text is the check's own message (as in the JSON),
    the Chinese one carries the same numbers."""
    sample = ROOT / "samples" / "kuaishou-2026-11-16-week.csv"
    base = ("audit", sample, "--platform", "kuaishou", "--no-history")
    en, zh, as_json = cli.many(
        {"args": (*base, "-f", "markdown", "--lang", "en")},
        {"args": (*base, "-f", "markdown", "--lang", "zh")},
        (*base, "-f", "json"),
    )
    period = [f for f in as_json.json()["findings"] if f["code"] in ("KS-R3", "KS-G1", "KS-G2")]
    assert period
    for f in period:
        assert f["message"] in en.out, f["message"]
        numbers = re.match(r"\S+ ([\d.]+)% \((\d+)/(\d+) ", f["message"]).groups()
        assert f"{numbers[0]}%（{numbers[1]}/{numbers[2]} " in zh.out, f["message"]
    assert "低于 70.0%，自然周 2026-11-16..2026-11-22" in zh.out
    assert "（截至目前）" in zh.out  # the month of KS-G2 is not over


def test_period_findings_name_their_period_in_the_day_column(cli):
    """A week's or a month's finding is not about its first day: the day column names the
    period (the message gives its span), a one-day finding keeps its date."""
    sample = ROOT / "samples" / "kuaishou-2026-11-16-week.csv"
    base = ("audit", sample, "--platform", "kuaishou", "--no-history", "-f", "markdown", "--exit-zero")
    en, zh = cli.many({"args": (*base, "--lang", "en")}, {"args": (*base, "--lang", "zh")})
    for run, week, month in ((en, "week", "month"), (zh, "自然周", "自然月")):
        cells = {}
        for line in run.out[run.out.index("| KS-"):].splitlines():
            if line.startswith("| KS-") and line.count("|") == 8:
                row = [c.strip() for c in line.split("|")[1:-1]]
                cells.setdefault(row[0], set()).add(row[4])
        assert cells["KS-R3"] == {week} and cells["KS-G1"] == {week}, cells
        assert cells["KS-G2"] == {month}, cells
        assert cells["KS-S1"] and all(re.fullmatch(r"2026-11-\d\d", d) for d in cells["KS-S1"]), cells


TWO_SHOPS = ("ts,shop,buyer,role,agent,text\n"
             "2026-11-22 10:00:00,甲店,b1,buyer,,在吗\n2026-11-22 10:00:20,甲店,b1,agent,小A,在的\n"
             "2026-11-21 10:00:00,乙店,b2,buyer,,在吗\n2026-11-21 10:00:20,乙店,b2,agent,小B,在的\n")  # fmt: skip
NOT_JUDGED = "乙店：输入中没有审核日期（2026-11-22）的数据，本报告不含该店铺"


def test_a_shop_not_audited_is_said_at_the_top_of_every_report(cli, write, tmp_path):
    """Two shops, one export of another day: the table, Markdown, HTML and workbook (its first
    sheet, above the matrix, and its About sheet) of the shop judged open with the note that
    the other was not, for the supervisor who reads the file, not the cron mail; a plain run
    has no such line."""
    import openpyxl

    write("two.csv", TWO_SHOPS)
    write("one.csv", TWO_SHOPS.split("2026-11-21")[0].rstrip(","))
    base = ("audit", "two.csv", "-p", "jd", "--date", "2026-11-22", "--no-history", "--lang", "zh")
    table, markdown, html, xlsx, plain = cli.many(
        (*base, "-f", "table"), (*base, "-f", "markdown"), (*base, "-f", "html", "-o", "r.html"), (*base, "-f", "xlsx", "-o", "r.xlsx"),
        ("audit", "one.csv", "-p", "jd", "--no-history", "--lang", "zh", "-f", "table"),
    )
    assert {r.code for r in (table, markdown, html, xlsx, plain)} == {0}, [r.err for r in (table, markdown, html, xlsx, plain)]
    head = table.out.split("甲店 · ")[0]  # before the shop's summary
    assert f"注意：{NOT_JUDGED}" in head, table.out
    assert f"- **注意：{NOT_JUDGED}**" in markdown.out.split("## ")[0]
    page = (tmp_path / "r.html").read_text("utf-8")
    assert f'<p class="runnote">注意：{NOT_JUDGED}</p>' in page
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    about = book["说明"]
    assert ("注意", NOT_JUDGED) in list(about.iter_rows(values_only=True))
    # The sheet Excel opens on says it above the matrix, whose header row stays frozen.
    first = book.worksheets[0]
    assert first["A1"].value == f"注意：{NOT_JUDGED}" and first["A1"].font.b and first["A2"].value is None
    assert [c.value for c in first[3]][:2] == ["店铺", "客服"] and first["B4"].value == "小A", list(first.values)
    assert first.freeze_panes == "C4"
    assert "注意" not in plain.out and plain.err == ""
    plain_book = cli("audit", "one.csv", "-p", "jd", "--no-history", "--lang", "zh", "-f", "xlsx", "-o", "plain.xlsx")
    assert plain_book.code == 0, plain_book.err
    assert [c.value for c in openpyxl.load_workbook(tmp_path / "plain.xlsx").worksheets[0][1]][:2] == ["店铺", "客服"]
    # Piped, the report is not on the screen: stderr still says it, as every note.
    assert NOT_JUDGED in table.err
    # -q: findings only, the routine notes left out, but not this one (the findings are not
    # the whole night); the file read twice is routine.
    quiet = cli("audit", "two.csv", "two.csv", "-p", "jd", "--date", "2026-11-22", "--no-history", "--lang", "zh", "-f", "table", "-q")
    assert quiet.code == 0 and NOT_JUDGED not in quiet.out, quiet.out
    assert quiet.err_lines() == [f"cservice-audit：提示：{NOT_JUDGED}"], quiet.err


def test_a_report_opens_with_a_few_notes_and_points_to_the_rest(cli, write, tmp_path):
    """Six shops against a baseline of a seventh: six notes. The workbook's first sheet shows
    four and a line pointing to the About sheet, which lists all six; the frozen rows above
    the matrix stay few (forty notes once froze 42 rows, the matrix out of sight). The table,
    Markdown and HTML show four and a line pointing to stderr and the JSON, which hold all six."""
    import openpyxl

    write("base.csv", "ts,shop,buyer,role,agent,text\n2026-11-22 10:00:00,另一店,b,买家,,在吗\n2026-11-22 10:00:20,另一店,b,客服,小A,在的\n")
    write("six.csv", "ts,shop,buyer,role,agent,text\n" + "".join(
        f"2026-11-22 10:00:00,店{n},b,买家,,在吗\n2026-11-22 10:00:20,店{n},b,客服,小A,在的\n" for n in range(6)
    ))
    assert cli("audit", "base.csv", "-p", "pdd", "--no-history", "-f", "json", "-o", "base.json").code == 0
    run = cli("audit", "six.csv", "-p", "pdd", "--no-history", "--lang", "zh", "--baseline", "base.json", "-f", "xlsx", "-o", "six.xlsx")
    assert run.code == 0, run.err
    book = openpyxl.load_workbook(tmp_path / "six.xlsx")
    first = [row[0] for row in book.worksheets[0].iter_rows(max_row=7, values_only=True)]
    assert first[:4] == [f"注意：店{n}：基线 base.json 中没有该店铺的结果，它的问题全部计为新问题" for n in range(4)], first
    assert first[4:] == ["……另有 2 条注意事项，见“说明”页", None, "店铺"], first
    assert book.worksheets[0].freeze_panes == "C8"
    about = [value for what, value in book["说明"].iter_rows(values_only=True) if what == "注意"]
    assert len(about) == 6, about
    said = [f"店{n}：基线 base.json 中没有该店铺的结果，它的问题全部计为新问题" for n in range(6)]
    more = "……另有 2 条注意事项（见标准错误输出及 JSON 的 notes）"
    args = ("audit", "six.csv", "-p", "pdd", "--no-history", "--lang", "zh", "--baseline", "base.json")
    table, markdown, page, body = cli.many(*((*args, "-f", fmt) for fmt in ("table", "markdown", "html", "json")))
    assert all(f"cservice-audit：提示：{line}" in table.err for line in said), table.err
    assert [n["message_zh"] for n in body.json()["note_details"]] == said
    notes_on_table = [line for line in table.out.splitlines() if line.startswith(("注意：", "……另有"))]
    assert notes_on_table == [*(f"注意：{line}" for line in said[:4]), more], table.out
    notes = [line for line in markdown.out.splitlines() if line.startswith(("- **注意：", "- **……另有"))]
    assert notes == [*(f"- **注意：{line}**" for line in said[:4]), f"- **{more}**"], markdown.out
    assert page.out.count('<p class="runnote">') == 5 and f'<p class="runnote">{more}</p>' in page.out, page.out
    # On a terminal the table shows four; stderr, on the same screen, says the two left out.
    code, screen, err = _on_terminal(cli, tmp_path, *args, "-f", "table")
    assert code == 0, err
    assert [line for line in screen.splitlines() if line.startswith(("注意：", "……另有"))] == notes_on_table, screen
    assert [line for line in err.splitlines() if "基线" in line] == [f"cservice-audit：提示：{line}" for line in said[4:]], err


def test_a_note_in_the_report_on_the_terminal_is_not_repeated_on_stderr(cli, write, tmp_path):
    """On a terminal the table opens with the note; stderr, on the same screen, does not say
    it again (a routine note, a file named twice, still goes to stderr)."""
    write("two.csv", TWO_SHOPS)
    code, screen, err = _on_terminal(cli, tmp_path, "audit", "two.csv", "two.csv", "-p", "jd", "--date", "2026-11-22", "--no-history", "--lang", "zh", "-f", "table")
    assert code == 0, err
    assert NOT_JUDGED in screen, screen[:2000]
    assert NOT_JUDGED not in err, err
    assert "只读一次" in err, err  # the routine note still on stderr
    # --statistics prints counts, not the report: the note stays on stderr.
    code, _, err = _on_terminal(cli, tmp_path, "audit", "two.csv", "-p", "jd", "--date", "2026-11-22", "--no-history", "--lang", "zh", "-f", "table", "--statistics")
    assert code == 0, err
    assert NOT_JUDGED in err, err


def _on_terminal(cli, cwd: Path, *args: str) -> tuple[int, str, str]:
    """The installed command with its stdout on a pseudo-terminal (as a person runs it) and
    stderr piped: (exit status, the screen without colour codes, stderr)."""
    import os
    import pty

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [cli.command, *args], stdin=subprocess.DEVNULL, stdout=follower, stderr=subprocess.PIPE, cwd=cwd, env=cli._env({"COLUMNS": "120"}),
    )
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the command closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    err = proc.stderr.read().decode("utf-8")
    code = proc.wait(timeout=60)
    os.close(leader)
    return code, re.sub(r"\x1b\[[0-9;]*m", "", screen.decode("utf-8")).replace("\r\n", "\n"), err


def test_full_report_at_80_columns_fits_and_lists_findings(cli):
    """At 80 columns the whole table report fits (findings become a list, not a folded
    table): one heading line per finding, repeated scripts one per agent."""
    sample = ROOT / "samples" / "pinduoduo-2026-11-22.csv"
    narrow, as_json = cli.many(
        {"args": ("audit", sample, "--platform", "pinduoduo", "-f", "table", "--no-history"), "env": {"COLUMNS": "80"}},
        ("audit", sample, "--platform", "pinduoduo", "-f", "json", "--no-history"),
    )
    findings = as_json.json()["findings"]
    lines = narrow.out.splitlines()
    assert not [line for line in lines if cell_len(line) > 80]
    assert f"Findings ({len(findings)})" in lines
    headings = [line for line in lines if re.match(r"PDD-\w+  (error|warning|info)  ", line)]
    scripts = {f["agent"] for f in findings if f["code"] == "PDD-S1" and f["conversation"]}
    assert len(headings) == len([f for f in findings if f["code"] != "PDD-S1" or not f["conversation"]]) + len(scripts)
    assert lines[-1].startswith(f"Found {len(findings)} findings")


def test_findings_table_keeps_each_conversation_id_on_one_line(cli, write):
    """At 110 columns the findings are a table; a long conversation id (淘宝乙店-20261128-000592)
    stays whole in its cell, so it can be copied into `show`, while the message folds."""
    conversation = "淘宝乙店-20261128-000592"
    rows = [
        f"2026-11-28 10:00:00,淘宝乙店,b1,{conversation},buyer,,在吗",
        f"2026-11-28 10:00:30,淘宝乙店,b1,{conversation},agent,淘宝乙店:小周,亲，加我微信 wx13800138000 发你高清图和优惠券，下单更划算哦，还可以返现五元红包",
    ]
    write("chats.csv", "ts,shop,buyer,conversation,role,agent,text\n" + "\n".join(rows) + "\n")
    out = cli("audit", "chats.csv", "-p", "taobao", "-f", "table", "--lang", "en", "--no-history", env={"COLUMNS": "110"}).out
    lines = out[out.index("Findings ("):].splitlines()
    assert any(conversation in line for line in lines), out
    assert not [line for line in lines if "淘宝乙店-2026" in line and conversation not in line], out


def test_findings_come_as_a_list_when_long_ids_leave_the_message_no_room(cli, write):
    """Conversation ids as some exports give them (a 36-character UUID) kept whole left the
    message column of a 100-column table 9 cells wide: a finding's text folded into a strip
    of three characters a line, its date broke in two. Where the table cannot leave the
    message WHAT_MIN cells, the findings are the list the narrow terminal gets, each id whole
    on its heading line; wide enough, they are the table again."""
    ids = [f"{n:08x}-d8f1-6adf-91b7-584a2265b1f5" for n in range(3)]
    rows = [f"2026-11-22 1{n}:00:00,店,b{n},{c},买家,,在吗\n2026-11-22 1{n}:00:20,店,b{n},{c},客服,小周,加我微信发你优惠券哦" for n, c in enumerate(ids)]
    write("uuid.csv", "ts,shop,buyer,conversation,role,agent,text\n" + "\n".join(rows) + "\n")
    args = ("audit", "uuid.csv", "-p", "pdd", "-f", "table", "--lang", "zh", "--exit-zero", "--no-history")
    narrow, wide = cli.many({"args": args, "env": {"COLUMNS": "110"}}, {"args": args, "env": {"COLUMNS": "160"}})
    listed = narrow.out[narrow.out.index("\n问题（") :].splitlines()
    assert not [line for line in listed if cell_len(line) > 110], narrow.out
    for conversation in ids:
        heading = next(line for line in listed if conversation in line)
        assert re.fullmatch(rf"PDD-P2  错误  小周  {conversation}  2026-11-22  1\d:00:20", heading), heading
    assert "    加我微信发你优惠券哦" in listed, narrow.out
    table = wide.out[wide.out.index("\n问题（") :]
    assert "┃ 规则" in table and all(f"│ {c} │" in table for c in ids), wide.out


# --------------------------------------------------------------------------- language


def test_lang_option_and_locale_default(cli):
    sample = ROOT / "samples" / "pinduoduo-2026-11-22.csv"
    base = ("audit", sample, "--platform", "pinduoduo", "--format", "table", "--summary", "--no-history")
    runs = cli.many(
        {"args": base, "env": {"LANG": "zh_CN.UTF-8"}},
        {"args": base, "env": {"LANG": "en_US.UTF-8"}},
        {"args": base, "env": {"LANG": "zh_CN.UTF-8", "LC_ALL": "en_US.UTF-8"}},  # LC_ALL wins
        {"args": base, "env": {"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_TW.UTF-8"}},
        {"args": (*base, "--lang", "en"), "env": {"LANG": "zh_CN.UTF-8"}},  # the option wins
        {"args": (*base, "--lang", "zh")},
    )
    chinese = [run.code == 1 and "未达标规则" in run.out and "共 " in run.out for run in runs]
    english = [run.code == 1 and "rules failed" in run.out and "Found " in run.out for run in runs]
    assert chinese == [True, False, False, True, False, True]
    assert english == [not c for c in chinese]


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, "en"), ({"LANG": "zh_CN.UTF-8"}, "zh"), ({"LANG": "zh"}, "zh"), ({"LANG": "C.UTF-8"}, "en"),
     ({"LC_ALL": "", "LANG": "zh_TW.Big5"}, "zh"), ({"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
     ({"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"), ({"LANG": "fr_FR.UTF-8"}, "en")],
)  # fmt: skip
def test_default_language_from_the_locale(env, expected):
    from cservice_audit.i18n import default_lang, t

    assert default_lang(env) == expected
    assert t("status.fail", expected) == {"zh": "未达标", "en": "fail"}[expected]
    assert t("summary.agents", lang="zh", agents=3, failing=2, at_risk=1) == "3 名客服：2 名未达标，另有 1 名有风险"


def test_errors_and_help_in_chinese(cli):
    runs = cli.many(
        {"args": ("audit", "x.csv", "--date", "2026-13-01", "--platform", "pdd"), "env": {"LANG": "zh_CN.UTF-8"}},
        {"args": ("audit", "x.csv", "--date", "2026-13-01", "--platform", "pdd")},
        {"args": ("audit", "--help"), "env": {"LANG": "zh_CN.UTF-8", "COLUMNS": "200"}},
        {"args": ("audit", "--help", "--lang", "en"), "env": {"LANG": "zh_CN.UTF-8", "COLUMNS": "200"}},
    )
    zh_error, en_error, zh_help, en_help = runs
    assert zh_error.code == en_error.code == 2
    assert zh_error.err_lines() == ["cservice-audit：错误：--date '2026-13-01'：应为日期 YYYY-MM-DD"]
    assert en_error.err_lines() == ["cservice-audit: error: --date '2026-13-01': expected a date YYYY-MM-DD"]
    assert zh_help.code == 0 and "审核聊天导出" in zh_help.out and "只输出第一屏概览" in zh_help.out
    assert en_help.code == 0 and "Audit chat exports" in en_help.out and "summary" in en_help.out


def test_catalogue_has_both_languages_with_the_same_fields():
    import yaml

    raw = yaml.safe_load((ROOT / "cservice_audit" / "data" / "messages.yaml").read_text("utf-8"))
    names = re.compile(r"\{(\w+)(?:![rs])?\}")
    for key, texts in raw.items():
        assert set(texts) == {"zh", "en"}, key
        assert set(names.findall(texts["zh"])) == set(names.findall(texts["en"])), key


def test_every_key_the_code_uses_is_in_the_catalogue():
    import yaml

    keys = set(yaml.safe_load((ROOT / "cservice_audit" / "data" / "messages.yaml").read_text("utf-8")))
    used = set()
    for path in (ROOT / "cservice_audit").rglob("*.py"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]+)["']""", path.read_text("utf-8")))
    assert used, "no catalogue keys found: the pattern is stale"
    assert used <= keys, sorted(used - keys)
    # Keys built at run time: statuses, severities, periods, states, columns.
    for prefix, names in {
        "status": ("pass", "fail", "at_risk", "insufficient"),
        "severity": ("error", "warning", "info"),
        "period": ("day", "natural_week", "natural_month", "rolling_30d"),
        "state": ("new", "known"),
    }.items():
        assert {f"{prefix}.{n}" for n in names} <= keys


# --------------------------------------------------------------------------- noise, safety


REPEATS = "ts,buyer,role,agent,text,conversation\n" + "".join(
    f"2026-11-22 {9 + c}:0{k}:00,b{c},{'买家' if k % 2 == 0 else '客服'},{'' if k % 2 == 0 else agent},"
    f"{'在吗' if k % 2 == 0 else text},c{c}\n"
    for c, (agent, text) in enumerate(
        [("小周", "亲，已经在帮您催促了哦"), ("小周", "亲，已经在帮您催促了哦"), ("小周", "亲，这边马上为您处理一下"), ("小美", "亲，已经在帮您催促了哦")]
    )
    for k in range(8)
)


def test_repeated_scripts_grouped_per_agent_details_in_json(cli, write, tmp_path):
    import openpyxl

    write("chats.csv", REPEATS)
    table, markdown, as_json, book = cli.many(
        {"args": ("audit", "chats.csv", "--platform", "pinduoduo", "--format", "table", "--lang", "en", "--select", "PDD-S1"), "env": {"COLUMNS": "300"}},
        ("audit", "chats.csv", "--platform", "pinduoduo", "--format", "markdown", "--lang", "en", "--select", "PDD-S1"),
        ("audit", "chats.csv", "--platform", "pinduoduo", "--format", "json", "--select", "PDD-S1"),
        ("audit", "chats.csv", "--platform", "pinduoduo", "--format", "xlsx", "--lang", "en", "--select", "PDD-S1", "-o", "s1.xlsx"),
    )
    findings = [f for f in as_json.json()["findings"] if f["conversation"]]
    assert sorted(f["agent"] for f in findings) == ["小周", "小周", "小周", "小美"]  # JSON keeps each one
    # The table points at where each one is: the workbook's Findings sheet (as well as the JSON).
    assert "each one on the Findings sheet of --format xlsx" in table.out.replace("\n", " "), table.out
    sheet = openpyxl.load_workbook(tmp_path / "s1.xlsx", read_only=True)["Findings"]
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert sum(1 for f in findings if f["conversation"] in cells) == 4, cells
    for run in (table, markdown):
        out = run.out.replace("\\", "")
        assert "小周: 3 conversation(s), most repeated: 亲，已经在帮您催促了哦 (in 2)" in out, out
        assert "小美: 1 conversation(s), most repeated: 亲，已经在帮您催促了哦 (in 1)" in out
        # One findings row per agent, not one per conversation.
        assert sum(1 for line in out.splitlines() if "PDD-S1" in line and "conversation(s)" in line) == 2
        assert not re.search(r"\bc[0-3]\b", out), "conversation ids are in the JSON only"


def test_hostile_agent_name_is_shown_escaped_in_summary(cli, write):
    evil = "小\x1b]52;c;ZWNobyBwd25lZA==\x07周"
    write("chats.csv", "ts,buyer,role,agent,text\n2026-11-22 09:00:00,b1,买家,,在吗\n"
          f"2026-11-22 09:10:00,b1,客服,{evil},在的\n")
    for fmt in ("table", "markdown"):
        run = cli("audit", "chats.csv", "--platform", "pinduoduo", "--format", fmt, "--summary")
        assert run.code == 1, run.err
        assert "\x1b" not in run.out and "\x07" not in run.out
        assert "\\x1b" in run.out


# --------------------------------------------------------------------------- trend, history, rules, version


@pytest.fixture(scope="module")
def stored(cli_factory, tmp_path_factory):
    """A history: the Kuaishou week, and the Taobao month up to Wednesday 2026-11-18."""
    folder = tmp_path_factory.mktemp("stored")
    cli = cli_factory(folder)
    history = folder / "history"
    for args in (
        ("audit", ROOT / "samples" / "kuaishou-2026-11-16-week.csv", "-p", "kuaishou", "--history", history, "-f", "json", "--exit-zero"),
        ("audit", ROOT / "samples" / "taobao-2026-11.csv.gz", "-p", "taobao", "--history", history, "-f", "json", "--exit-zero", "--until", "2026-11-18"),
    ):
        run = cli(*args)
        assert run.code == 0, run.err
    return cli, history


def _listed_formats(cli, command: str) -> list[str]:
    help_text = cli(command, "--help", env={"COLUMNS": "300"}).out
    listed = re.search(r"\[(\w+(?:\|\w+)+)\]|<(\w+(?:\|\w+)+)>", help_text)
    assert listed, help_text
    return (listed.group(1) or listed.group(2)).split("|")


@pytest.mark.parametrize("command", ["trend", "history", "rules"])
def test_every_format_help_lists_works(stored, command):
    cli, history = stored
    formats = _listed_formats(cli, command)
    assert "table" in formats and "json" in formats
    base = {"trend": ("trend", "-p", "taobao", "--history", history), "history": ("history", "-p", "taobao", "--history", history),
            "rules": ("rules", "-p", "taobao")}[command]
    for fmt in formats:
        run = cli(*base, "--format", fmt)
        assert run.code == 0, (fmt, run.err)
        assert run.out.strip(), fmt
        if fmt == "json":
            json.loads(run.out)
    assert cli(*base, "--format", "markdown").code == 2 or "markdown" in formats


def test_trend_rates_as_percent_counts_as_counts_fixed_scale_partial_week(stored):
    cli, history = stored
    rows = cli("trend", "-p", "taobao", "--history", history, "--weeks", "5", "-f", "json").json()
    kinds = {r["rule"]: r["kind"] for r in rows}
    assert kinds["TB-R3"] == "rate" and kinds["TB-A1"] == "seconds" and kinds["TB-P1"] == "count"
    for r in rows:
        if r["value"] is not None and r["threshold"] is not None:
            assert r["miss"] == (r["value"] < r["threshold"] if r["direction"] == "min" else r["value"] > r["threshold"]), r
    last = max(r["week_start"] for r in rows)
    assert {r["partial"] for r in rows if r["week_start"] == last} == {True}  # up to Wednesday only
    assert not any(r["partial"] for r in rows if r["week_start"] != last)

    table = cli("trend", "-p", "taobao", "--history", history, "--weeks", "5", env={"COLUMNS": "200"}).out
    for line in table.splitlines():
        if "TB-P" in line:
            assert "%" not in line, line  # occurrences are counts
        if "TB-R3" in line:
            assert re.search(r"\d+%", line), line
    assert "11-16*" in table and "in progress: 3 of 7 days" in table
    # The title gives the days the weeks cover: Monday of the first week to Sunday of the last.
    first = min(r["week_start"] for r in rows)
    sunday = (date.fromisoformat(last) + timedelta(days=6)).isoformat()
    assert table.lstrip().startswith(f"weekly, {first} .. {sunday}"), table[:200]
    # A steady shop rate draws steady high bars on the 0–100 % scale, not a collapse.
    shop_r3 = next(line for line in table.splitlines() if "TB-R3" in line and "(shop total)" in line)
    bars = re.search(r"[▁▂▃▄▅▆▇█]{5}", shop_r3).group()
    assert set(bars) <= set("▆▇█"), shop_r3


def test_trend_names_a_sub_account_beside_its_shop_column_without_the_shop(cli, write, tmp_path):
    """The trend table has a shop column: 淘宝甲店 | 客服07, not 淘宝甲店 | 淘宝甲店:客服07 (twenty
    agents' prefixes took the width of the weeks). The JSON keeps the names as exported."""
    write("chats.csv", "ts,shop,buyer,role,agent,text\n"
          "2026-11-22 10:00:00,淘宝甲店,b1,买家,,在吗\n2026-11-22 10:00:20,淘宝甲店,b1,客服,淘宝甲店:客服07,在的\n")  # fmt: skip
    assert cli("audit", "chats.csv", "-p", "taobao", "--history", tmp_path / "h", "-f", "json", "--exit-zero").code == 0
    table, as_json = cli.many(
        {"args": ("trend", "-p", "taobao", "--history", tmp_path / "h", "--rule", "TB-R3", "--lang", "zh"), "env": {"COLUMNS": "160"}},
        ("trend", "-p", "taobao", "--history", tmp_path / "h", "--rule", "TB-R3", "-f", "json"),
    )
    assert any(re.search(r"│ 淘宝甲店 +│ 客服07 +│", line) for line in table.out.splitlines()), table.out
    assert "淘宝甲店:客服07" not in table.out
    assert {r["agent"] for r in as_json.json()} == {"淘宝甲店:客服07", None}
    # A plain 客服07 in the same shop, another person: every name of the shop stays whole, and
    # --agent leaving one of them does not change how it is named.
    write("more.csv", "ts,shop,buyer,role,agent,text\n2026-11-23 10:00:00,淘宝甲店,b2,买家,,在吗\n2026-11-23 10:09:00,淘宝甲店,b2,客服,客服07,在的\n")
    assert cli("audit", "more.csv", "-p", "taobao", "--history", tmp_path / "h", "-f", "json", "--exit-zero").code == 0
    one = cli("trend", "-p", "taobao", "--history", tmp_path / "h", "--rule", "TB-R3", "--agent", "淘宝甲店:客服07", env={"COLUMNS": "160"})
    assert "│ 淘宝甲店:客服07 " in one.out, one.out


def test_trend_leaves_out_a_row_with_nothing_in_any_week(cli, write, tmp_path):
    """A buyer nobody answered: the unassigned turns have a JD-R30 rate (0 %) but no wait for
    JD-A1 to average (answered waits only), a row of dashes with no bars. It is left out of the
    table; the JSON keeps it."""
    write("chats.csv", "ts,shop,buyer,role,agent,text\n"
          "2026-11-22 10:00:00,京东店,b1,买家,,在吗\n2026-11-22 10:00:20,京东店,b1,客服,小京,在的\n"
          "2026-11-22 11:00:00,京东店,b2,买家,,有人吗\n")  # fmt: skip
    assert cli("audit", "chats.csv", "-p", "jd", "--history", tmp_path / "h", "-f", "json", "--exit-zero").code == 0
    table, as_json = cli.many(
        {"args": ("trend", "-p", "jd", "--history", tmp_path / "h", "--lang", "zh"), "env": {"COLUMNS": "160"}},
        ("trend", "-p", "jd", "--history", tmp_path / "h", "-f", "json"),
    )
    unassigned = [(r["rule"], r["value"]) for r in as_json.json() if r["agent"] == "(unassigned)"]
    assert ("JD-A1", None) in unassigned and ("JD-R30", 0.0) in unassigned, unassigned
    rows = [line for line in table.out.splitlines() if "（未分配）" in line]
    assert len(rows) == 1 and "JD-R30" in rows[0] and "0%" in rows[0], table.out
    assert any("JD-A1" in line and "小京" in line for line in table.out.splitlines()), table.out


def test_trend_unknown_rule_or_agent_exits_2_naming_it(stored):
    cli, history = stored
    bad_rule, bad_agent, good = cli.many(
        ("trend", "-p", "taobao", "--history", history, "--rule", "TB-R99"),
        ("trend", "-p", "taobao", "--history", history, "--agent", "小王"),
        ("trend", "-p", "taobao", "--history", history, "--agent", "小周", "--rule", "tb-r3", "-f", "json"),
    )
    assert bad_rule.code == 2 and len(bad_rule.err_lines()) == 1 and "TB-R99" in bad_rule.err and bad_rule.out == ""
    assert bad_agent.code == 2 and len(bad_agent.err_lines()) == 1 and "小王" in bad_agent.err and bad_agent.out == ""
    assert good.code == 0 and {(r["rule"], r["agent"]) for r in good.json()} == {("TB-R3", "小周"), ("TB-R3", None)}


def test_history_table_times_in_the_ruleset_zone(stored):
    cli, history = stored
    listing = cli("history", "-p", "kuaishou", "--history", history, "-f", "json").json()
    table = cli("history", "-p", "kuaishou", "--history", history, env={"COLUMNS": "200"}).out
    from datetime import datetime
    from zoneinfo import ZoneInfo

    written = datetime.fromisoformat(listing[0]["written_at"].replace("Z", "+00:00"))
    local = written.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")
    assert local in table and "Asia/Shanghai" in table


def test_rules_fold_phrase_lists_unless_verbose(cli):
    folded, full, as_json = cli.many(
        {"args": ("rules", "-p", "pinduoduo"), "env": {"COLUMNS": "400"}},
        {"args": ("rules", "-p", "pinduoduo", "-v"), "env": {"COLUMNS": "400"}},
        ("rules", "-p", "pinduoduo", "-f", "json"),
    )
    # The longest list any rule's parameters carry (PDD-Q3's topic words; phrase rules keep
    # most of their words in shared lexicon files).
    phrases = max((v for r in as_json.json()["rules"] for v in r["params"].values() if isinstance(v, list)), key=len)
    assert len(phrases) > 8
    assert f"{len(phrases) - 8} more (-v lists all)" in folded.out
    assert phrases[-1] not in folded.out and phrases[-1] in full.out


def test_version_prints_the_installed_version(cli):
    from importlib.metadata import version

    run = cli("--version")
    assert run.code == 0 and run.err == ""
    assert run.out.strip() == f"cservice-audit {version('cservice-audit')}"
    assert version("cservice-audit") == tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]


# --------------------------------------------------------------------------- regenerate goldens


def main() -> None:
    """Write the summary goldens from the installed command (then review the diff)."""
    import os

    GOLDEN.mkdir(parents=True, exist_ok=True)
    command = str(Path(sys.executable).parent / "cservice-audit")
    for sample, platform, lang, width in CASES:
        env = {**os.environ, "COLUMNS": str(width), "NO_COLOR": "1", "TZ": "UTC", "LANG": "C.UTF-8"}
        env.pop("LC_ALL", None)
        env.pop("LC_MESSAGES", None)
        done = subprocess.run([command, *map(str, _summary_args(sample, platform, lang))], capture_output=True, text=True, env=env, cwd=ROOT)
        (GOLDEN / _golden_name(sample, lang, width)).write_text(done.stdout, "utf-8")
        print(f"{_golden_name(sample, lang, width)}: {len(done.stdout.splitlines())} lines", file=sys.stderr)


if __name__ == "__main__":
    main()


def test_findings_are_listed_errors_first(cli):
    """The human findings list opens with errors, then warnings, then info: pending night
    messages (info) must not push the failures a supervisor acts on below the fold."""
    r = cli("audit", ROOT / "samples" / "pinduoduo-2026-11-22.csv", "-p", "pinduoduo", "-f", "markdown", "--exit-zero")
    findings = r.out[r.out.index("## Findings"):]
    severities = [line.split("|")[2].strip() for line in findings.splitlines() if line.startswith("| PDD-")]
    order = {"error": 0, "warning": 1, "info": 2}
    assert {"error", "info"} <= set(severities), severities
    assert [order[s] for s in severities] == sorted(order[s] for s in severities)


def test_a_rerun_against_its_own_report_says_no_finding_is_new_not_that_there_are_none(cli, write, tmp_path):
    """The 9 a.m. rerun of last night's config: the baseline is last night's report, so every
    finding is known and none is listed. The table, Markdown and HTML said 未发现问题 under
    a summary of failing rules; they say none is new and how many known ones are left out.
    A clean day still says 未发现问题."""
    write("late.csv", "ts,shop,buyer,role,agent,text\n2026-11-22 10:00:00,店,b,买家,,在吗\n2026-11-22 10:20:00,店,b,客服,小A,在的\n")
    write("clean.csv", "ts,shop,buyer,role,agent,text\n2026-11-22 10:00:00,店,b,买家,,在吗\n2026-11-22 10:00:20,店,b,客服,小A,在的\n")
    night = cli("audit", "late.csv", "-p", "pdd", "--no-history", "-f", "json", "-o", "night.json")
    assert night.code == 1, night.err
    known = len(json.loads((tmp_path / "night.json").read_text(encoding="utf-8"))["findings"])
    assert known > 0
    args = ("audit", "late.csv", "-p", "pdd", "--no-history", "--lang", "zh", "--baseline", "night.json")
    table, markdown, page = cli.many(*((*args, "-f", fmt) for fmt in ("table", "markdown", "html")))
    said = f"没有新问题；{known} 个已知问题未列出（JSON 中标为 known；加 --no-baseline 可全部列出）。"
    for run in (table, markdown, page):
        assert run.code == 0, run.err
        assert said in run.out and "未发现问题" not in run.out, run.out[-800:]
    # The morning look at those findings: --no-baseline lists them all, as new.
    listed = cli(*args, "-f", "table", "--no-baseline")
    assert listed.code == 1 and "PDD-R3" in listed.out and "没有新问题" not in listed.out, listed.out[-800:]
    clean = cli.many(*(("audit", "clean.csv", "-p", "pdd", "--no-history", "--lang", "zh", "-f", fmt) for fmt in ("table", "markdown", "html")))
    for run in clean:
        assert run.code == 0 and "未发现问题" in run.out and "没有新问题" not in run.out, run.out[-800:]


def test_chinese_lines_do_not_list_names_days_or_codes_with_an_english_comma(cli, write):
    """`全部达标：客服06, 客服13, 小美`, `2026-11-25, 2026-11-26 没有任何聊天数据` and
    `6 条规则：DY-R3, DY-A1, …` read an English comma inside a Chinese line (newcomer hM); the
    catalogue's list.sep (，) is what the rest of the Chinese screens use. English keeps ", "."""

    def day(d: str) -> str:
        return (f"{d} 10:00:00,甲店,b1,买家,,在吗\n{d} 10:00:10,甲店,b1,客服,小A,在的亲\n"
                f"{d} 11:00:00,甲店,b2,买家,,在吗\n{d} 11:00:10,甲店,b2,客服,小B,在的亲\n")  # fmt: skip

    head = "时间,店铺,买家,发送方,客服账号,消息内容\n"
    write("d1.csv", head + day("2026-11-23"))
    write("d4.csv", head + day("2026-11-26"))
    write("shop.yaml", "extends: douyin\nrules:\n  - code: DY-A1\n    params: {max_seconds: 60}\n")
    first = cli("audit", "d1.csv", "-p", "kuaishou", "--history", "hist", "-f", "json", "--date", "2026-11-23")
    assert first.code == 0, first.err
    zh, en, valid = cli.many(
        ("audit", "d4.csv", "-p", "kuaishou", "--history", "hist", "--no-store", "-f", "table", "--summary", "--lang", "zh", "--date", "2026-11-26"),
        ("audit", "d4.csv", "-p", "kuaishou", "--history", "hist", "--no-store", "-f", "json", "--date", "2026-11-26"),
        ("validate-ruleset", "shop.yaml", "--lang", "zh"),
    )
    assert zh.code == 0 and en.code == 0 and valid.code == 0, zh.err + en.err + valid.err
    assert "全部达标：小A，小B" in zh.out, zh.out
    assert "2026-11-24，2026-11-25 没有任何聊天数据" in zh.out + zh.err, zh.out + zh.err
    assert "DY-R3，DY-A1，DY-A2" in valid.err, valid.err
    assert any("no chat data for 2026-11-24, 2026-11-25" in n for n in en.json()["notes"]), en.json()["notes"]
