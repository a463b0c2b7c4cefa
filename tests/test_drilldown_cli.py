"""End-to-end: the drill-down (--items, --items-csv, JSON items), what at-risk periods still
need, and `show`, through the installed `cservice-audit` command on the bundled samples."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from rich.cells import cell_len

from conftest import Cli

ROOT = Path(__file__).resolve().parents[1]
PDD = ("samples/pinduoduo-2026-11-22.csv", "--platform", "pinduoduo", "--no-history")
KS_MIDWEEK = ("samples/kuaishou-2026-11-16-week.csv", "--platform", "kuaishou", "--no-history", "--until", "2026-11-19")


@pytest.fixture(scope="module")
def root_cli(cli_factory) -> Cli:
    return cli_factory(ROOT)


@pytest.fixture(scope="module")
def pdd_json(root_cli) -> dict:
    run = root_cli("audit", *PDD, "--format", "json")
    assert run.code == 1, run.err
    return run.json()


def _markdown_sections(text: str) -> dict[str, list[list[str]]]:
    """Markdown section title -> its table rows (cells, stripped), header row excluded."""
    sections: dict[str, list[list[str]]] = {}
    title = None
    for line in text.splitlines():
        if line.startswith("## "):
            title, sections[line[3:]] = line[3:], []
        elif title and line.startswith("|") and not line.startswith("|---"):
            sections[title].append([c.strip() for c in line.strip("|").split(" | ")])
    return {t: rows[1:] for t, rows in sections.items()}


def _unescape(cell: str) -> str:
    return cell.replace("\\", "")


def test_items_in_json_are_the_failing_metrics_late_items(pdd_json) -> None:
    report = pdd_json
    assert report["schema_version"] == "2.5"
    items = report["items"]
    assert items, "the sample fails reply rules, so it has late items"
    failing = {
        (m["rule"], m["scope"], m["agent"], m["period_start"])
        for m in report["metrics"]
        if m["status"] in ("fail", "at_risk")
    }
    for item in items:
        assert (item["rule"], item["scope"], item["agent"], item["period_start"]) in failing
        # Late means unanswered or over the rule's threshold (PDD-R3: 180 s, PDD-R5: 300 s).
        limit = {"PDD-R3": 180, "PDD-R5": 300, "PDD-Q3": 180}.get(item["rule"])
        if limit is not None:
            assert item["wait"] is None or item["wait"] > limit, item
        assert item["ts"].endswith("+08:00")
    # Per agent-scope reply-rate metric: as many late items as counted minus on time.
    for m in report["metrics"]:
        if m["status"] == "fail" and m["rule"] in ("PDD-R3", "PDD-R5") and m["scope"] == "agent":
            mine = [i for i in items if (i["rule"], i["scope"], i["agent"]) == (m["rule"], "agent", m["agent"])]
            assert len(mine) == m["denominator"] - m["numerator"], m


def test_items_option_shows_the_n_worst_per_metric(root_cli, pdd_json) -> None:
    md2, md0, table = root_cli.many(
        ("audit", *PDD, "--format", "markdown", "--items", "2"),
        ("audit", *PDD, "--format", "markdown", "--items", "0"),
        ("audit", *PDD, "--format", "table", "--items", "3"),
    )
    assert md2.code == 1 and md0.code == 1 and table.code == 1, md2.err + md0.err + table.err
    assert "late and unanswered" not in md0.out and "late and unanswered" in md2.out
    assert "late and unanswered, 3 worst each" in table.out
    expected: dict[tuple[str, str], list[str]] = {}
    counts: dict[tuple[str, str], int] = {}
    for item in pdd_json["items"]:
        who = item["agent"] if item["scope"] == "agent" else f"(shop total) {item['handled_by']}"
        key = (item["rule"], item["agent"] or "(shop total)")
        counts[key] = counts.get(key, 0) + 1
        if counts[key] <= 2:
            expected.setdefault(item["rule"], []).append((who, item["conversation"]))
    sections = {t.split(" ")[0]: rows for t, rows in _markdown_sections(md2.out).items() if "late and unanswered" in t}
    assert set(sections) == set(expected)
    for code, rows in sections.items():
        shown = [(_unescape(r[0]), _unescape(r[1])) for r in rows if not r[1].startswith("+")]
        assert shown == expected[code], code
        more = [int(r[1].split()[0][1:]) for r in rows if r[1].startswith("+")]
        assert sum(more) == sum(n - 2 for (rule, _), n in counts.items() if rule == code and n > 2)


def test_items_csv_holds_every_item(root_cli, pdd_json, tmp_path) -> None:
    out = tmp_path / "items.csv"
    run = root_cli("audit", *PDD, "--format", "json", "--items-csv", str(out))
    assert run.code == 1, run.err
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    assert len(rows) == len(pdd_json["items"])
    assert [r["conversation"] for r in rows] == [i["conversation"] for i in pdd_json["items"]]
    assert all(r["ts"].endswith("+08:00") for r in rows)
    assert {r["wait"] for r in rows if not r["reply_ts"]} == {""}  # unanswered: no wait


def test_needs_of_at_risk_metrics_in_json_and_markdown(root_cli) -> None:
    js, md = root_cli.many(("audit", *KS_MIDWEEK, "--format", "json"), ("audit", *KS_MIDWEEK, "--format", "markdown"))
    at_risk = [m for m in js.json()["metrics"] if m["status"] == "at_risk"]
    assert at_risk, "mid-week, the weekly and monthly Kuaishou rules are at risk"
    for m in js.json()["metrics"]:
        if m["status"] != "at_risk":
            assert m["can_pass"] is None and m["needed_good"] is None
    rows = _markdown_sections(md.out)["What the period still needs"]
    assert len(rows) == len(at_risk)
    for m, row in zip(at_risk, rows, strict=True):
        assert row[0] == m["rule"]
        if m["can_pass"]:
            assert row[4].startswith(f"{m['needed_good']} "), (m, row)
            assert f"≈{m['expected_remaining']} " in row[4]
        else:
            assert row[4].startswith("cannot pass"), (m, row)


def test_show_marks_the_worst_item_and_the_findings(root_cli, pdd_json) -> None:
    worst = next(i for i in pdd_json["items"] if i["rule"] == "PDD-R3" and i["scope"] == "agent" and i["wait"] is not None)
    phrase = next(f for f in pdd_json["findings"] if f["code"] == "PDD-P2")
    late, found = root_cli.many(
        ("show", worst["conversation"], PDD[0], "-p", "pinduoduo"),
        ("show", phrase["conversation"], PDD[0], "-p", "pinduoduo"),
    )
    assert late.code == 0 and found.code == 0, late.err + found.err
    lines = late.out.splitlines()
    assert worst["conversation"] in lines[0]
    at = next(n for n, line in enumerate(lines) if line.startswith(worst["ts"][11:19]))
    minutes, seconds = divmod(int(worst["wait"]), 60)
    assert f"wait {minutes}m{seconds:02d}s" in lines[at + 1]
    assert "✗ PDD-R3 late (> 180s)" in lines[at + 1]
    lines = found.out.splitlines()
    at = next(n for n, line in enumerate(lines) if line.startswith(phrase["ts"][11:19]) and " agent " in line)
    assert lines[at + 1].strip().startswith("⚑ PDD-P2 error")


def test_show_unknown_conversation_is_exit_2_with_close_ids(root_cli, pdd_json) -> None:
    known = pdd_json["items"][0]["conversation"]
    run = root_cli("show", known[-6:] + "x", PDD[0], "-p", "pinduoduo")
    assert run.code == 2
    assert len(run.err_lines()) == 1
    assert f"'{known[-6:]}x'" in run.err and known in run.err


def _show_c1(cli, write, rows: str, *args: str):
    """`show c1` of an export with `rows` (the conversation column given), exit 0."""
    write("chats.csv", "ts,shop,buyer,conversation,role,agent,text\n" + rows)
    run = cli("show", "c1", "chats.csv", *args)
    assert run.code == 0, run.err
    return run


def test_show_keeps_control_characters_off_the_terminal(cli, write) -> None:
    run = _show_c1(
        cli, write,
        "2026-11-22 10:00:00,s,b1,c1,buyer,,hi \x1b]52;c;ZXZpbA==\x07 there\n"
        "2026-11-22 10:05:00,s,b1,c1,agent,a\x1b[2J,ok\n",
        "-p", "pinduoduo",
    )  # fmt: skip
    assert "\x1b" not in run.out and "\x07" not in run.out
    assert "\\x1b]52" in run.out
    assert "wait 5m00s" in run.out and "✗ PDD-R3 late (> 180s)" in run.out


def test_show_names_a_sub_account_without_its_shop_and_keeps_the_text_in_one_column(cli, write) -> None:
    """The transcript's header names the shop: a Taobao sub-account reads 客服07, as in the
    reports, and every message's text starts in one column (a 15-cell 店铺:客服07 pushed its
    replies past the robot's); a long name widens the column, and a text of several lines
    stays under its first."""
    run = _show_c1(
        cli, write,
        "2026-11-22 10:00:00,小林数码专营店,b1,c1,买家,,在吗\n"
        "2026-11-22 10:00:05,小林数码专营店,b1,c1,机器人,,您好\n"
        "2026-11-22 10:01:00,小林数码专营店,b1,c1,客服,小林数码专营店:客服07,在的亲\n"
        "2026-11-22 10:02:00,小林数码专营店,b1,c1,客服,小林数码专营店:售后主管王小明同学,\"第一行\n第二行\"\n",
        "-p", "taobao", "--lang", "zh",
    )  # fmt: skip
    lines = run.out.splitlines()
    assert "小林数码专营店:" not in "\n".join(lines[1:]), run.out
    starts = {next(cell_len(line[: line.index(text)]) for line in lines if text in line) for text in ("您好", "在的亲", "第一行", "第二行")}
    assert len(starts) == 1, run.out
    assert any(" 客服07 " in line and line.endswith("在的亲") for line in lines), run.out
    assert any(" 机器人 " in line and line.endswith("您好") for line in lines), run.out  # the robot without an account


def test_show_cuts_the_prefix_as_the_shop_does_not_as_one_conversation_does(cli, write) -> None:
    """The shop has 店:客服07 and a plain 客服07, two people: the reports keep both names whole,
    and so does `show` of a conversation where only one of them wrote (it once read 客服07,
    the other person's name)."""
    run = _show_c1(
        cli, write,
        "2026-11-22 10:00:00,店,b1,c1,买家,,在吗\n2026-11-22 10:01:00,店,b1,c1,客服,店:客服07,在的亲\n"
        "2026-11-22 10:00:00,店,b2,c2,买家,,在吗\n2026-11-22 10:01:00,店,b2,c2,客服,客服07,在的\n",
        "-p", "taobao",
    )  # fmt: skip
    assert any(" 店:客服07 " in line and line.endswith("在的亲") for line in run.out.splitlines()), run.out


def test_item_headings_name_the_period_in_the_readers_language(root_cli) -> None:
    """The 30-day drill-down heading said `rolling_30d` (the JSON key) to a Chinese reader."""
    zh, en = root_cli.many(
        ("audit", "samples/taobao-2026-11.csv.gz", "--platform", "taobao", "--no-history", "-f", "table", "--lang", "zh"),
        ("audit", "samples/taobao-2026-11.csv.gz", "--platform", "taobao", "--no-history", "-f", "table", "--lang", "en"),
    )
    assert zh.code == 1 and en.code == 1, zh.err + en.err
    zh_headings = [line for line in zh.out.splitlines() if "每项最差" in line]
    en_headings = [line for line in en.out.splitlines() if "worst each" in line]
    assert zh_headings and en_headings
    assert all("近30天 " in line and "rolling_30d" not in line for line in zh_headings), zh_headings
    assert all("30 days " in line and "rolling_30d" not in line for line in en_headings), en_headings


def test_a_period_counting_stored_days_says_its_items_are_this_inputs_only(cli, write, tmp_path) -> None:
    """The third night of a 30-day rule: its figures count the two stored nights, its items are
    the third night's only (the history keeps day sums). The heading said 近30天 over items of
    one night, and `另有 N 条` read as the month's. It now says from which day the items are;
    the same days read from one file, with no history, need no such words."""
    def night(day: str) -> str:
        return f"2026-11-{day} 10:00:00,店,b{day},买家,,在吗\n2026-11-{day} 10:20:00,店,b{day},客服,小A,在的\n"

    head = "ts,shop,buyer,role,agent,text\n"
    for day in ("22", "23", "24"):
        write(f"{day}.csv", head + night(day))
    write("all.csv", head + night("22") + night("23") + night("24"))
    history = tmp_path / "hist"
    base = ("-p", "taobao", "--select", "TB-R3", "--history", history, "--lang", "zh", "-f", "markdown", "--items", "1")
    for day in ("22", "23"):
        assert cli("audit", f"{day}.csv", *base, "--date", f"2026-11-{day}").code == 1
    third = cli("audit", "24.csv", *base, "--date", "2026-11-24")
    assert third.code == 1, third.err
    headings = [line for line in third.out.splitlines() if "每项最差" in line]
    assert headings and all("，条目只列本次输入 11-24 起的" in line for line in headings), third.out
    # the shop's figure counts three late turns; one is listed, no "另有" for the stored two
    assert "另有 " not in third.out.split("每项最差")[1], third.out
    whole = cli("audit", "all.csv", "-p", "taobao", "--select", "TB-R3", "--no-history", "--lang", "zh", "-f", "markdown", "--items", "1")
    assert whole.code == 1, whole.err
    headings = [line for line in whole.out.splitlines() if "每项最差" in line]
    assert headings and not any("条目只列" in line for line in headings), whole.out
    assert "另有 2 条" in whole.out.split("每项最差")[1], whole.out
    # A natural week on its third day (its end, Sunday, is days away): the same words.
    weekly = tmp_path / "weekly"
    for day in ("23", "24", "25"):
        write(f"w{day}.csv", head + night(day))
    args = ("-p", "kuaishou", "--select", "KS-R3", "--history", weekly, "--lang", "zh", "-f", "markdown", "--items", "1")
    for day in ("23", "24"):  # at risk, a warning: exit 0
        assert cli("audit", f"w{day}.csv", *args, "--date", f"2026-11-{day}").code in (0, 1)
    week = cli("audit", "w25.csv", *args, "--date", "2026-11-25")
    assert week.code in (0, 1), week.err
    headings = [line for line in week.out.splitlines() if "每项最差" in line]
    assert headings and all("自然周 2026-11-23..2026-11-29，条目只列本次输入 11-25 起的" in line for line in headings), week.out


def test_show_reads_the_shops_config_as_the_nightly_audit_does(cli, write, tmp_path) -> None:
    """The id comes from the nightly report; `show` beside it takes the same config: its
    platform, its mapping (this export's own headers) and its language. It took none of them,
    and the supervisor had to spell out what the config already said."""
    write("map.yaml", "columns:\n  ts: [时间戳]\n  text: [聊天内容]\n")
    write("day.csv", "时间戳,shop,buyer,conversation,role,agent,聊天内容\n"
                     "2026-11-22 10:00:00,店,b1,c1,买家,,在吗\n2026-11-22 10:20:00,店,b1,c1,客服,小A,在的亲\n")  # fmt: skip
    write("shop.toml", 'platform = "taobao"\nmapping = "map.yaml"\nlang = "zh"\n')
    run = cli("show", "c1", "day.csv", "--config", "shop.toml")
    assert run.code == 0, run.err
    assert "回复规则：TB-R3，TB-A1" in run.out and "✗ TB-R3 超时（> 180 秒）" in run.out and "在的亲" in run.out, run.out
    bare = cli("show", "c1", "day.csv", "-p", "taobao")
    # without the config: English, and no mapping, so the texts (an optional column) are not read
    assert bare.code == 0 and "reply rules: TB-R3, TB-A1" in bare.out and "在的亲" not in bare.out, bare.out
    # The config's ruleset file, as the audit uses it (TB-R3 at 60 s here: the 100 s wait is
    # late); the config's shop, as the audit reads it: another shop's export is exit 2.
    write("tb60.yaml", 'extends: taobao\nversion: "t60"\nrules:\n  - code: TB-R3\n    params: {threshold: 60}\n')
    write("c.csv", "ts,shop,buyer,conversation,role,agent,text\n2026-11-22 10:00:00,甲,b1,c1,买家,,在吗\n2026-11-22 10:01:40,甲,b1,c1,客服,小A,在的\n")
    write("own.toml", 'platform = "taobao"\nruleset = "tb60.yaml"\nshop = "甲"\nlang = "zh"\n')
    own = cli("show", "c1", "c.csv", "--config", "own.toml")
    assert own.code == 0 and "✗ TB-R3 超时（> 60 秒）" in own.out, own.out
    report = cli("audit", "c.csv", "--config", "own.toml", "--no-history", "-f", "json", "--select", "TB-R3")
    assert report.code == 1 and report.json()["summary"]["by_code"] == {"TB-R3": 2}, report.out[-300:]
    write("other.toml", 'platform = "taobao"\nshop = "乙"\nlang = "zh"\n')
    other = cli("show", "c1", "c.csv", "--config", "other.toml")
    assert other.code == 2 and "是店铺 甲 的数据，而配置文件 other.toml 的 shop 是 乙" in other.err, other.err


def test_show_of_an_id_two_shops_use_is_exit_2_naming_them(cli, write) -> None:
    """One export of two shops, each with a conversation c1: `show c1` printed both as one
    transcript under the first shop's name, 乙's message waiting on 甲's agent."""
    write("two.csv", "ts,shop,buyer,conversation,role,agent,text\n"
                     "2026-11-22 10:00:00,甲,b1,c1,买家,,在吗\n2026-11-22 10:01:40,甲,b1,c1,客服,小A,在的\n"
                     "2026-11-22 11:00:00,乙,b2,c1,买家,,在吗乙\n")  # fmt: skip
    run = cli("show", "c1", "two.csv", "-p", "taobao", "--lang", "zh")
    assert run.code == 2 and run.out == "", run.out
    assert run.err_lines() == ["cservice-audit：错误：会话 'c1' 出现在多个店铺中（乙，甲）：请只给出其中一个店铺的导出"], run.err


def test_a_blank_shop_in_the_config_is_exit_2_in_every_command_that_reads_it(cli, write) -> None:
    """`shop = "  "` was rejected by `audit` but let through by `show`, which then read the
    export as the shop with no name."""
    write("c.csv", "ts,shop,buyer,conversation,role,agent,text\n2026-11-22 10:00:00,甲,b1,c1,买家,,在吗\n")
    write("blank.toml", 'platform = "taobao"\nshop = "  "\nlang = "zh"\nhistory = "hist"\n')
    for args, said in ((("audit", "c.csv"), "--shop 或配置的 shop"), (("show", "c1", "c.csv"), "配置文件的 shop"), (("trend",), "--shop 或配置的 shop")):
        run = cli(*args, "--config", "blank.toml")
        assert run.code == 2 and run.out == "", (args, run.out)
        assert run.err_lines() == [f"cservice-audit：错误：{said}：请给出店铺名称"], (args, run.err)  # show has no --shop


def test_item_tables_come_by_rule_then_day(cli, write) -> None:
    """Items come in metric order (agents by name, then days), and the tables were made in the
    order their days first came: 小A's late day (11-23) before 小B's (11-22). A day only the
    shop total failed came after every agent's day (11-18 after 11-22 in a week). Tables are now
    by rule, then day, in the table and the Markdown alike."""
    write(
        "two.csv",
        "ts,shop,buyer,role,agent,text\n"
        "2026-11-23 10:00:00,店,b1,买家,,在吗\n2026-11-23 10:20:00,店,b1,客服,小A,在的\n"
        "2026-11-22 10:00:00,店,b2,买家,,在吗\n2026-11-22 10:20:00,店,b2,客服,小B,在的\n",
    )
    for fmt in ("table", "markdown"):
        run = cli("audit", "two.csv", "-p", "pinduoduo", "--select", "PDD-R3,PDD-R5", "--no-history", "-f", fmt, env={"COLUMNS": "200"})
        assert run.code == 1, run.err
        headings = [line for line in run.out.splitlines() if "5 worst each" in line]
        keys = [(line.split()[0 if fmt == "table" else 1], line.split("5 worst each · ")[1][:10]) for line in headings]
        assert keys == [(c, d) for c in ("PDD-R3", "PDD-R5") for d in ("2026-11-22", "2026-11-23")], run.out
        # each day's table holds that day's agent
        first = run.out.split(headings[0])[1].split(headings[1])[0]
        assert "小B" in first and "小A" not in first, run.out


def test_show_marks_an_unanswered_turn_only_against_a_mean_that_counts_it(cli, write) -> None:
    """JD-A1 averages answered turns only (no cap): a turn never answered is not in its mean,
    and `show` marked it ✗ JD-A1 all the same. TB-A1 counts it at its cap (600 s > 60 s): the
    mark stays; an answered wait past a rule's limit is marked under both."""
    rows = "2026-11-18 11:10:00,店,b9,c1,买家,,退货地址\n2026-11-18 11:10:01,店,b9,c1,机器人,机器人,退货地址请见订单详情\n"
    jd = _show_c1(cli, write, rows, "-p", "jd", "--lang", "zh")
    assert "✗ JD-R30 超时（> 30 秒）" in jd.out and "JD-A1" not in jd.out.split("回复规则")[1].split("\n", 1)[1], jd.out
    tb = _show_c1(cli, write, rows, "-p", "taobao", "--lang", "zh")
    assert "↑ TB-A1 拉高平均等待（> 60 秒；按均值判定，单轮不算违规）" in tb.out and "✗ TB-A1" not in tb.out, tb.out
    slow = _show_c1(cli, write, "2026-11-18 11:10:00,店,b9,c1,买家,,在吗\n2026-11-18 11:11:00,店,b9,c1,客服,小A,在的\n", "-p", "jd", "--lang", "zh")
    assert "↑ JD-A1 拉高平均等待（> 40 秒；" in slow.out and "✗ JD-A1" not in slow.out, slow.out


def test_show_says_a_wait_outside_the_window_is_not_counted(cli, write) -> None:
    """A 07:40 question answered at 08:10 waited 30 minutes and is no late item: outside the
    08:00–23:00 window. The transcript said `wait 30m` and nothing, which reads as a miss of
    the tool; it now says which rules do not count it. The 22:58 question answered at 23:04
    is inside the window and late. JD's window opens at 09:00 and counts a session's first
    message only: the 08:30 session start is not counted, its next question is no item."""
    rows = (
        "2026-11-18 07:40:00,店,b9,c1,买家,,在吗\n2026-11-18 08:10:00,店,b9,c1,客服,小A,在的\n"
        "2026-11-18 22:58:00,店,b9,c1,买家,,发货了吗\n2026-11-18 23:04:00,店,b9,c1,客服,小A,发了\n"
    )
    pdd = _show_c1(cli, write, rows, "-p", "pinduoduo", "--lang", "zh")
    lines = pdd.out.splitlines()
    first, late = (lines[lines.index(next(x for x in lines if x.startswith(at))) + 1] for at in ("07:40:00", "22:58:00"))
    assert "PDD-R3，PDD-R5 不计（08:00–23:00 以外）" in first and "✗" not in first, pdd.out
    assert "不计" not in late and "✗ PDD-R3 超时" in late, pdd.out
    jd_rows = "2026-11-18 08:30:00,店,b9,c1,买家,,在吗\n2026-11-18 08:30:20,店,b9,c1,买家,,人呢\n2026-11-18 09:02:00,店,b9,c1,客服,小A,在的\n"
    jd = _show_c1(cli, write, jd_rows, "-p", "jd")
    assert jd.out.count("not counted") == 1 and "JD-R30, JD-A1 not counted (outside 09:00–23:00)" in jd.out, jd.out


def test_show_says_not_counted_only_of_messages_a_topic_rule_would_count(cli, write) -> None:
    """A per-message rule on a topic counts only the messages of its topic's turns: an
    off-topic night message was said `not counted (outside the window)` as if the window
    were the reason (review)."""
    write("mine.yaml", (
        "extends: douyin\nplatform: dy_custom\nrules:\n  - code: DY-Q1\n    name: quality\n    title: 质量问题\n"
        "    check: reply_rate\n    severity: warning\n    confidence: assumed\n"
        "    params: {unit: message, threshold: 180, reply_roles: [agent], window: {start: '08:00', end: '23:00'},"
        " min_rate: 0.8, period: day, topic: [坏了]}\n"
    ))  # fmt: skip
    rows = (
        "2026-11-18 07:00:00,店,b9,c1,买家,,在吗\n2026-11-18 07:01:00,店,b9,c1,客服,小A,在的\n"
        "2026-11-18 07:30:00,店,b9,c1,买家,,东西坏了\n2026-11-18 08:10:00,店,b9,c1,客服,小A,抱歉\n"
    )
    run = _show_c1(cli, write, rows, "--ruleset", "mine.yaml")
    lines = run.out.splitlines()
    first, broken = (lines[lines.index(next(x for x in lines if x.startswith(at))) + 1] for at in ("07:00:00", "07:30:00"))
    assert "DY-Q1" not in first and "DY-Q1 not counted (outside 08:00–23:00)" in broken, run.out


def test_show_in_chinese_writes_reply_roles_and_ratings_in_chinese(cli, write) -> None:
    """A PDD wait per set of reply roles read `1m56s (agent) / 11s (agent+bot)` and a review
    `satisfied` in the Chinese transcript; the roles are now the transcript's words and the
    rating the platforms' 满意/一般/失望. Waits stay 1m56s, as the reports' tables write them."""
    rows = (
        "2026-11-22 10:00:00,店,b1,c1,buyer,,在吗,\n2026-11-22 10:00:11,店,b1,c1,bot,,您好,\n"
        "2026-11-22 10:01:56,店,b1,c1,agent,小A,在的亲,\n2026-11-22 10:05:00,店,b1,c1,review,小A,,satisfied\n"
        "2026-11-22 10:06:00,店,b1,c1,review,小A,,neutral\n2026-11-22 10:07:00,店,b1,c1,review,小A,,disappointed\n"
    )
    write("chats.csv", "ts,shop,buyer,conversation,role,agent,text,rating\n" + rows)
    zh, en = cli.many(("show", "c1", "chats.csv", "-p", "pinduoduo", "--lang", "zh"), ("show", "c1", "chats.csv", "-p", "pinduoduo", "--lang", "en"))
    assert zh.code == en.code == 0, zh.err + en.err
    assert "等待 1m56s（客服） / 11s（客服+机器人）" in zh.out, zh.out
    assert [line.split()[-1] for line in zh.out.splitlines() if " 评价 " in line] == ["满意", "一般", "失望"], zh.out
    assert re.findall(r"(?<![A-Z-])[A-Za-z]{2,}", zh.out.split("\n", 2)[2].replace("PDD-", "")) == [], zh.out  # below the header (its zone)
    assert "wait 1m56s (agent) / 11s (agent+bot)" in en.out and "satisfied" in en.out, en.out


def test_show_writes_a_review_s_reason_in_the_language_s_brackets(cli, write) -> None:
    """A review with a reason read `失望 (服务态度差)`, ASCII brackets in a Chinese line."""
    rows = "2026-11-22 10:00:00,店,b1,c1,buyer,,在吗,,\n2026-11-22 10:01:00,店,b1,c1,agent,小A,在的亲,,\n2026-11-22 10:07:00,店,b1,c1,review,小A,,disappointed,服务态度差\n"
    write("chats.csv", "ts,shop,buyer,conversation,role,agent,text,rating,reason\n" + rows)
    zh, en = cli.many(("show", "c1", "chats.csv", "-p", "pinduoduo", "--lang", "zh"), ("show", "c1", "chats.csv", "-p", "pinduoduo", "--lang", "en"))
    assert zh.code == en.code == 0, zh.err + en.err
    assert "失望（服务态度差）" in zh.out and "(服务态度差)" not in zh.out, zh.out
    assert "disappointed (服务态度差)" in en.out, en.out


def test_a_jd_session_has_the_same_id_in_a_days_export_and_a_weeks(cli, write) -> None:
    """JD sessions the export does not name were numbered within the export (#1, #2, …): the
    buyer's session of Sunday was #1 in Sunday's file and #2 in the week's, so `show` of the
    id the nightly report gave, on the week's export, opened Saturday's chat. Named by their
    start, an id means one session in any export that holds it."""
    saturday = "2026-11-21 10:00:00,店,b1,买家,,在吗\n2026-11-21 10:02:00,店,b1,客服,小京,在的\n"
    sunday = "2026-11-22 13:23:05,店,b1,买家,,发货了吗\n2026-11-22 13:30:00,店,b1,客服,小京,今天发\n"
    write("sun.csv", "ts,shop,buyer,role,agent,text\n" + sunday)
    write("week.csv", "ts,shop,buyer,role,agent,text\n" + saturday + sunday)
    night = cli("audit", "sun.csv", "-p", "jd", "--no-history", "--exit-zero", "-f", "json").json()
    [conversation] = {item["conversation"] for item in night["items"]}
    assert conversation == "店/b1#20261122-1323", conversation
    week = cli("audit", "week.csv", "-p", "jd", "--no-history", "--exit-zero", "-f", "json").json()
    assert conversation in {item["conversation"] for item in week["items"]}, week["items"]
    shown = cli("show", conversation, "week.csv", "-p", "jd")
    assert shown.code == 0 and "发货了吗" in shown.out and "在吗" not in shown.out, shown.out


def test_digest_says_what_an_attitude_share_still_needs(cli, tmp_path) -> None:
    """The group's digest told a team at risk on KS-G2 (the share of bad reviews blaming
    attitude) that it needed N more `达标` items, read as "collect good reviews", which do not
    count in that share at all. It names what counts, as the table does; a reply rate at risk
    keeps `达标`."""
    export = tmp_path / "k.csv"
    made = cli("generate", "-o", export, "-p", "kuaishou", "--agents", "20", "--rows", "8000", "--variety", "0.9", "--shop", "甲店", "--seed", "11")
    assert made.code == 0, made.err
    args = ("audit", export, "-p", "kuaishou", "--no-history", "--lang", "zh")
    digest, table, body = cli.many((*args, "-f", "digest"), (*args, "-f", "table"), (*args, "-f", "json"))
    needs = digest.out.split("**本周期剩余要求：**\n", 1)[1].split("\n\n", 1)[0].splitlines()
    share = [m for m in body.json()["metrics"] if m["rule"] == "KS-G2" and m["status"] == "at_risk" and m["can_pass"]]
    assert share, "the generated month puts some agents at risk on KS-G2"
    for m in share:
        who = "（全店）" if m["scope"] == "shop" else m["agent"]
        line = f"- {who} KS-G2 月 2026-11：之后约 {m['expected_remaining']} 条中需 {m['needed_good']} 条非服务态度原因"
        assert any(n.startswith(line) for n in needs), (line, needs)
        assert f"需 {m['needed_good']} 条非服务态度原因" in table.out, table.out
    assert not [n for n in needs if "KS-G2" in n and "条达标" in n], needs
