"""`cservice-audit notify`: the installed command pushes the digest of a JSON report to a REAL
local HTTP server (127.0.0.1, a thread of this test) that plays WeCom, DingTalk and Feishu:
it checks each payload's shape, size and signature and answers as scripted (errors, delays)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SECRET = "SECtest-secret-9f8e7d"  # noqa: S105 - a test value that must never be printed
TOKEN = "tok-5a4b3c2d1e"  # the credential inside every webhook address


class Bot:
    """The fake platforms. `script[path]` is a list of answers, one per request, the last one
    repeated: (status, reply_dict) or ("sleep", seconds)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: dict[str, list] = {}
        bot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                parts = urlsplit(self.path)
                bot.requests.append({"path": parts.path, "query": parse_qs(parts.query), "raw": raw,
                                     "type": self.headers.get("Content-Type"), "at": time.time()})
                answers = bot.script.get(parts.path, [(200, {"errcode": 0, "errmsg": "ok"})])
                answer = answers.pop(0) if len(answers) > 1 else answers[0]
                if answer[0] == "sleep":
                    time.sleep(answer[1])
                    answer = (200, {"errcode": 0, "code": 0})
                status, reply = answer
                body = json.dumps(reply).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def count_within(self, expected: int, seconds: float = 30.0) -> int:
        """The number of requests received once `expected` have arrived (or `seconds` passed).
        A request the client gave up on (a timeout) is recorded by a server thread that may
        run after the client process has exited, on a busy machine: counting at once raced."""
        deadline = time.monotonic() + seconds
        while len(self.requests) < expected and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # and one more, late, would still be counted (a retry too many fails)
        return len(self.requests)

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def bot():
    with Bot() as server:
        yield server


@pytest.fixture(scope="module")
def report_file(tmp_path_factory, cli_factory) -> Path:
    """The JSON report of the largest sample (the kuaishou week)."""
    tmp = tmp_path_factory.mktemp("notify")
    run = cli_factory(tmp)("audit", str(SAMPLES / "kuaishou-2026-11-16-week.csv"), "-p", "kuaishou",
                           "-f", "json", "-o", "report.json", "--exit-zero", "--no-history")
    assert run.code == 0, run.err
    return tmp / "report.json"


def _no_secrets(run) -> None:
    for text in (run.out, run.err):
        assert SECRET not in text and TOKEN not in text, text
        assert "Traceback" not in text, text


def test_wecom_markdown_payload(cli, bot, report_file):
    run = cli("notify", report_file, "--wecom", f"{bot.url}/cgi-bin/webhook/send?key={TOKEN}")
    assert run.code == 0, run.err
    _no_secrets(run)
    (request,) = bot.requests
    assert request["query"] == {"key": [TOKEN]}
    assert request["type"].startswith("application/json")
    body = json.loads(request["raw"])
    assert set(body) == {"msgtype", "markdown"} and body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert 0 < len(content.encode("utf-8")) <= 4096
    assert "KS-R3" in content and "|" not in content  # no tables in the classic dialect
    assert report_file.exists()


def test_dingtalk_signed_markdown(cli, bot, report_file):
    run = cli("notify", report_file, "--dingtalk", f"{bot.url}/robot/send?access_token={TOKEN}",
              "--secret", SECRET, "--report-url", "https://reports.example/ks/2026-11-22.html")
    assert run.code == 0, run.err
    _no_secrets(run)
    (request,) = bot.requests
    query = request["query"]
    assert query["access_token"] == [TOKEN]
    stamp = query["timestamp"][0]
    assert abs(int(stamp) / 1000 - request["at"]) < 3600  # milliseconds, within the platform's hour
    expected = hmac.new(SECRET.encode(), f"{stamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    assert base64.b64decode(query["sign"][0]) == expected  # parse_qs undid the url-encoding
    body = json.loads(request["raw"])
    assert body["msgtype"] == "markdown" and set(body["markdown"]) == {"title", "text"}
    assert body["markdown"]["text"].rstrip().endswith("https://reports.example/ks/2026-11-22.html")
    assert len(body["markdown"]["text"].encode("utf-8")) <= 4096


def test_feishu_signed_card(cli, bot, report_file):
    bot.script["/open-apis/bot/v2/hook/" + TOKEN] = [(200, {"code": 0, "msg": "success", "data": {}})]
    run = cli("notify", report_file, "--feishu", f"{bot.url}/open-apis/bot/v2/hook/{TOKEN}", "--secret", SECRET)
    assert run.code == 0, run.err
    _no_secrets(run)
    (request,) = bot.requests
    body = json.loads(request["raw"])
    stamp = body["timestamp"]
    assert abs(int(stamp) - request["at"]) < 3600  # seconds
    expected = hmac.new(f"{stamp}\n{SECRET}".encode(), b"", hashlib.sha256).digest()
    assert base64.b64decode(body["sign"]) == expected
    assert body["msg_type"] == "interactive"
    (element,) = body["card"]["elements"]
    assert element["tag"] == "markdown" and "KS-R3" in element["content"]
    assert len(element["content"].encode("utf-8")) <= 4096


def test_5xx_is_retried_then_succeeds(cli, bot, report_file):
    bot.script["/send"] = [(502, {}), (503, {}), (200, {"errcode": 0, "errmsg": "ok"})]
    run = cli("notify", report_file, "--wecom", f"{bot.url}/send?key={TOKEN}")
    assert run.code == 0, run.err
    assert len(bot.requests) == 3
    # Backoff: the retries wait, they do not hammer the platform.
    assert bot.requests[2]["at"] - bot.requests[0]["at"] >= 1.0


def test_5xx_three_times_fails_with_one_line(cli, bot, report_file):
    bot.script["/send"] = [(500, {})]
    run = cli("notify", report_file, "--dingtalk", f"{bot.url}/send?access_token={TOKEN}", "--secret", SECRET)
    assert run.code == 2
    assert len(bot.requests) == 3  # one try and two retries
    assert len(run.err_lines()) == 1 and "HTTP 500" in run.err and "3 tries" in run.err
    _no_secrets(run)
    assert report_file.exists()


def test_permanent_4xx_is_not_retried(cli, bot, report_file):
    bot.script[f"/send/{TOKEN}"] = [(404, {"code": 404})]
    run = cli("notify", report_file, "--feishu", f"{bot.url}/send/{TOKEN}")
    assert run.code == 2 and len(bot.requests) == 1
    assert len(run.err_lines()) == 1 and "HTTP 404" in run.err
    _no_secrets(run)


@pytest.mark.parametrize(
    ("platform", "reply", "says"),
    [
        ("wecom", {"errcode": 93000, "errmsg": "invalid webhook url"}, "93000"),
        ("dingtalk", {"errcode": 310000, "errmsg": "sign not match"}, "sign not match"),
        ("feishu", {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}, "19021"),
    ],
)
def test_platform_error_code_fails(cli, bot, report_file, platform, reply, says):
    bot.script["/hook"] = [(200, reply)]
    args = ["--secret", SECRET] if platform != "wecom" else []
    run = cli("notify", report_file, f"--{platform}", f"{bot.url}/hook?access_token={TOKEN}", *args)
    assert run.code == 2, run.err
    assert len(bot.requests) == 1  # the platform said no: retrying would not help
    assert len(run.err_lines()) == 1 and says in run.err
    _no_secrets(run)


def test_a_failed_push_names_the_bot_in_the_configured_language(cli, bot, report_file, write):
    """From cron (LANG=C) with `lang = "zh"`: the mail ops read said `wecom 推送失败：…` while
    the line of a push that went through says `企业微信`; the bot is named in Chinese on failure
    too, each of the three bots, refused or not answering."""
    write("cservice-audit.toml", 'lang = "zh"\n')
    for platform, zh, reply in (("wecom", "企业微信", {"errcode": 93000, "errmsg": "invalid webhook url"}),
                                ("dingtalk", "钉钉", {"errcode": 310000, "errmsg": "sign not match"}),
                                ("feishu", "飞书", {"code": 19021, "msg": "sign match fail"})):  # fmt: skip
        bot.script[f"/{platform}"] = [(200, reply)]
        args = ["--secret", SECRET] if platform != "wecom" else []
        run = cli("notify", report_file, f"--{platform}", f"{bot.url}/{platform}?access_token={TOKEN}", *args, env={"LANG": "C"})
        assert run.code == 2 and run.err_lines() == [run.err.strip()], run.err
        assert run.err.startswith(f"cservice-audit：错误：{zh}推送失败：") and platform not in run.err, run.err
    bot.script["/gone"] = [(500, {})]
    run = cli("notify", report_file, "--wecom", f"{bot.url}/gone?key={TOKEN}", env={"LANG": "C"})
    assert run.code == 2 and "企业微信推送失败，已尝试 3 次" in run.err and "wecom" not in run.err, run.err
    english = cli("notify", report_file, "--wecom", f"{bot.url}/gone?key={TOKEN}", "--lang", "en", env={"LANG": "C"})
    assert "wecom push failed after 3 tries" in english.err, english.err


def test_timeout_is_retried_then_fails(cli, bot, report_file):
    bot.script["/slow"] = [("sleep", 3.0)]
    run = cli("notify", report_file, "--wecom", f"{bot.url}/slow?key={TOKEN}", "--timeout", "0.3")
    assert run.code == 2
    assert bot.count_within(3) == 3
    assert len(run.err_lines()) == 1 and "timed out" in run.err
    _no_secrets(run)


def test_one_platform_and_a_real_report(cli, bot, report_file, write):
    run = cli("notify", report_file, "--wecom", f"{bot.url}/a", "--feishu", f"{bot.url}/b")
    assert run.code == 2 and "exactly one" in run.err
    for name, text in (("bad.json", "{}"), ("norules.json", json.dumps({**json.loads(report_file.read_text("utf-8")), "ruleset": {"platform": "kuaishou"}})),
                       ("badfinding.json", json.dumps({**json.loads(report_file.read_text("utf-8")), "findings": [{}]}))):
        write(name, text)
        run = cli("notify", name, "--wecom", f"{bot.url}/a")
        assert run.code == 2 and "not a JSON report" in run.err and len(run.err_lines()) == 1, (name, run.err)
    run = cli("notify", report_file, "--wecom", f"{bot.url}/a?key={TOKEN}", "--secret", SECRET)
    assert run.code == 2 and "not signed" in run.err
    _no_secrets(run)
    assert bot.requests == []


def test_pushed_digest_speaks_the_configured_language(cli, bot, report_file, write):
    """From cron (LANG=C) with `lang = "zh"` in the config file, the pushed digest is Chinese:
    its words, the rules by their titles, and each finding's Chinese message (schema 2.1)."""
    report = json.loads(report_file.read_text("utf-8"))
    write("cservice-audit.toml", 'lang = "zh"\n')
    zh = cli("notify", report_file, "--wecom", f"{bot.url}/zh?key={TOKEN}", env={"LANG": "C"})
    en = cli("notify", report_file, "--wecom", f"{bot.url}/en?key={TOKEN}", "--lang", "en", env={"LANG": "C"})
    assert zh.code == 0 and en.code == 0, zh.err + en.err
    bot.count_within(2)
    contents = {r["path"].split("?")[0]: json.loads(r["raw"])["markdown"]["content"] for r in bot.requests}
    chinese, english = contents["/zh"], contents["/en"]
    shown = [f for f in report["findings"] if f["message_zh"][:20] in chinese]
    assert shown, chinese  # at least one finding line, in Chinese
    assert not any(f["message"][:30] in chinese for f in report["findings"] if f["message"] != f["message_zh"])
    assert any(f["message"][:30] in english for f in report["findings"])
    assert report["ruleset"]["titles"]["KS-R3"] in chinese
    assert zh.err.startswith("cservice-audit：已把 ") and "企业微信" in zh.err
    assert en.err.startswith("cservice-audit: pushed the digest of report.json to wecom")


def test_pushed_digest_says_which_shop_went_unaudited(cli, bot, write):
    """A nightly run over two shops where one shop's export is of another day: the digest of
    the shop judged must not read as the whole picture. The group gets the note, in the
    configured language; a routine note (a file named twice) stays out of the group."""
    write("two.csv", "ts,shop,buyer,role,agent,text\n"
          "2026-11-22 10:00:00,甲店,b1,buyer,,在吗\n2026-11-22 10:00:20,甲店,b1,agent,小A,在的\n"
          "2026-11-21 10:00:00,乙店,b2,buyer,,在吗\n2026-11-21 10:00:20,乙店,b2,agent,小B,在的\n")  # fmt: skip
    run = cli("audit", "two.csv", "two.csv", "-p", "jd", "--date", "2026-11-22", "--no-history", "-f", "json", "-o", "night.json")
    assert run.code == 0, run.err
    report = json.loads((Path(cli.cwd) / "night.json").read_text("utf-8"))
    assert report["schema_version"] == "2.5"
    assert [n["kind"] for n in report["note_details"]] == ["read_once", "shop_not_judged"]
    assert [n["message"] for n in report["note_details"]] == report["notes"]
    write("cservice-audit.toml", 'lang = "zh"\n')
    pushed = cli("notify", "night.json", "--wecom", f"{bot.url}/zh?key={TOKEN}", env={"LANG": "C"})
    assert pushed.code == 0, pushed.err
    bot.count_within(1)
    content = json.loads(bot.requests[0]["raw"])["markdown"]["content"]
    assert "**注意：**\n- 乙店：输入中没有审核日期（2026-11-22）的数据，本报告不含该店铺" in content, content
    assert "只读一次" not in content and "read once" not in content
    assert "全部规则达标" in content  # 甲店, the shop judged, is clean; the note says what was not


def test_only_news_pushes_new_findings_and_doubting_notes_only(cli, bot, report_file, write):
    """`notify --only-news` (the README's cron line, after exit 0 or 1) pushes a report with a
    new finding at --fail-on or above, or with a note that doubts the night (an export cut
    short); a night with neither pushes nothing and says so, exit 0. A note that only explains
    the report (several days judged) is no reason to push."""
    report = json.loads(report_file.read_text("utf-8"))
    assert {f["severity"] for f in report["findings"]} == {"error", "warning"}
    assert [n["kind"] for n in report["note_details"]] == ["worst_of_days"]
    known = [{**f, "state": "known"} for f in report["findings"]]
    warnings_new = [{**f, "state": "new" if f["severity"] == "warning" else "known"} for f in report["findings"]]
    cut = {"kind": "data_ends_early", "message": "甲店: the data stops at 2026-11-22 13:59:55", "message_zh": "甲店：数据止于 2026-11-22 13:59:55"}
    write("quiet.json", json.dumps({**report, "findings": known}))
    write("warnings.json", json.dumps({**report, "findings": warnings_new}))
    write("cut.json", json.dumps({**report, "findings": known, "note_details": [*report["note_details"], cut], "notes": [*report["notes"], cut["message"]]}))
    # The audit's bar is in the report (schema 2.3): here as if it ran with --fail-on warning.
    assert report["selection"]["fail_on"] == "error"
    write("warnings-bar.json", json.dumps({**report, "findings": warnings_new, "selection": {**report["selection"], "fail_on": "warning"}}))
    url = f"{bot.url}/cgi-bin/webhook/send?key={TOKEN}"

    quiet = cli("notify", "quiet.json", "--wecom", url, "--only-news")
    assert quiet.code == 0 and len(quiet.err_lines()) == 1 and "not pushed" in quiet.err and "error" in quiet.err, quiet.err
    assert cli("notify", "warnings.json", "--wecom", url, "--only-news").code == 0
    write("cservice-audit.toml", 'fail_on = "warning"\n')  # the report's bar wins over the config's
    assert cli("notify", "warnings.json", "--wecom", url, "--only-news").code == 0
    assert bot.count_within(0, seconds=0.2) == 0  # new warnings only: below the audit's bar
    assert cli("notify", "warnings-bar.json", "--wecom", url, "--only-news").code == 0
    assert cli("notify", "cut.json", "--wecom", url, "--only-news", "--fail-on", "error").code == 0
    assert cli("notify", "quiet.json", "--wecom", url).code == 0  # without the flag: pushed as given
    alone = cli("notify", "quiet.json", "--wecom", url, "--fail-on", "info")  # a bar without --only-news means nothing
    # A severity the tool never writes (a hand-edited report) ranks last: no crash, no push.
    odd = [{**known[0], "severity": "critical", "state": "new"}, *known[1:]]
    write("odd.json", json.dumps({**report, "findings": odd}))
    strange = cli("notify", "odd.json", "--wecom", url, "--only-news")
    assert strange.code == 0 and "not pushed" in strange.err and "internal error" not in strange.err, strange.err
    # A bar the tool never writes is said of the report, not of a config that never held it.
    null = cli("notify", write("null-selection.json", json.dumps({**report, "selection": None})), "--wecom", url, "--only-news")
    assert null.code == 2 and "null-selection.json: not a JSON report" in null.err and "internal error" not in null.err, null.err
    for bar in ("critical", ["error"]):
        write("odd-bar.json", json.dumps({**report, "selection": {**report["selection"], "fail_on": bar}}))
        odd_bar = cli("notify", "odd-bar.json", "--wecom", url, "--only-news")
        assert odd_bar.code == 2 and len(odd_bar.err_lines()) == 1, odd_bar.err
        assert "odd-bar.json: the report's selection.fail_on" in odd_bar.err and "config" not in odd_bar.err, odd_bar.err
    assert alone.code == 2 and len(alone.err_lines()) == 1 and "--only-news" in alone.err, alone.err
    assert bot.count_within(3) == 3
    warned, doubted, given = (json.loads(r["raw"])["markdown"]["content"] for r in bot.requests)
    assert "KS-" in warned
    assert "13:59:55" in doubted and "13:59:55" not in given
    # Pushed for its note alone, the message says the rest was in the previous report.
    total = len(report["findings"])
    none_new = (f"No new findings: {total} known finding(s), all in the previous report", f"没有新问题：{total} 个问题都已在上次的报告")
    assert any(p in doubted for p in none_new) and not any(p in warned for p in none_new), doubted
    _no_secrets(quiet)


def test_the_report_records_the_audits_bar(cli, write):
    """`selection.fail_on` (schema 2.3) is the bar of the run's exit status, from --fail-on or
    else the config's `fail_on`: notify --only-news reads it, so an audit run with
    `--fail-on warning` on the cron line and a push that did not agree cannot happen."""
    sample = SAMPLES / "pinduoduo-2026-11-22.csv"
    flag = cli("audit", sample, "-p", "pinduoduo", "-f", "json", "--no-history", "--fail-on", "warning", "--exit-zero")
    write("cservice-audit.toml", 'fail_on = "info"\n')
    config = cli("audit", sample, "-p", "pinduoduo", "-f", "json", "--no-history", "--exit-zero")
    assert flag.json()["schema_version"] == "2.5"
    assert flag.json()["selection"]["fail_on"] == "warning" and config.json()["selection"]["fail_on"] == "info"


def test_none_new_line_reads_right_for_one_known_finding(report_file):
    """The head line of a report whose findings are all known names their count without a
    plural verb: a night with one known finding read "all 1 were in the previous report"."""
    from cservice_audit.render.digest import digest

    report = json.loads(report_file.read_text("utf-8"))
    one = {**report, "findings": [{**report["findings"][0], "state": "known"}]}
    text = digest(one, lang="en")
    assert "No new findings: 1 known finding(s), all in the previous report (the baseline)." in text, text
    assert "all 1 were" not in text
    assert "没有新问题：1 个问题都已在上次的报告（基线）中。" in digest(one, lang="zh")


def test_a_webhook_pasted_with_chat_characters_is_one_clear_line(cli, bot, report_file):
    """An address copied from a chat keeps a full-width comma or a word after it: http.client
    could not send it and the push died as an internal error. Now one line names the character
    by code point (never the address, a credential), exit 2, nothing sent; spaces around the
    address are dropped."""
    url = f"{bot.url}/cgi-bin/webhook/send?key={TOKEN}"
    pasted = cli("notify", report_file, "--wecom", url + "，谢谢")
    assert pasted.code == 2 and len(pasted.err_lines()) == 1, pasted.err
    assert "U+FF0C" in pasted.err and "internal error" not in pasted.err
    _no_secrets(pasted)
    assert bot.count_within(0, seconds=0.2) == 0
    spaced = cli("notify", report_file, "--wecom", f"  {url}\n")
    assert spaced.code == 0 and bot.count_within(1) == 1, spaced.err


def test_date_pushes_only_that_nights_report(cli, bot, report_file, write):
    """`notify --date D` (the README's cron line names its night) pushes the report only when it
    is D's. A later report is what an earlier night audited after it leaves in place (the audit
    keeps it, the next night's baseline, and writes D's beside it, REPORT.D.json): the later
    night's news went out on its own night, so not again; D's own report is pushed from beside
    it. Without one, or with an older report, or a file without a day, the night's report is
    not where the push looks: exit 2, one line, nothing sent (a missing report beside a later one
    exited 0, and the README's cron line mails only on a failed push)."""
    report = json.loads(report_file.read_text("utf-8"))
    day = date.fromisoformat(report["as_of"])
    url = f"{bot.url}/cgi-bin/webhook/send?key={TOKEN}"
    earlier, later = str(day - timedelta(days=1)), str(day + timedelta(days=1))

    caught_up = cli("notify", report_file, "--wecom", url, "--only-news", "--date", earlier)
    assert caught_up.code == 2 and len(caught_up.err_lines()) == 1, caught_up.err
    assert f"is the report of {day}, later than --date {earlier}, and there is no report of that night beside it (report.{earlier}.json): that night's report was never written" in caught_up.err, caught_up.err
    stale = cli("notify", report_file, "--wecom", url, "--date", later)
    assert stale.code == 2 and len(stale.err_lines()) == 1, stale.err
    assert f"is the report of {day}, not of --date {later}" in stale.err
    write("no-day.json", json.dumps({**report, "as_of": None}))
    undated = cli("notify", "no-day.json", "--wecom", url, "--date", str(day))
    # No day to name: said as such, never "the report of -" (in either language).
    assert undated.code == 2 and len(undated.err_lines()) == 1, undated.err
    assert f"no-day.json holds no day (its as_of is empty), so it is not the report of --date {day}" in undated.err and " - " not in undated.err, undated.err
    undated_zh = cli("notify", "no-day.json", "--wecom", url, "--date", str(day), "--lang", "zh")
    assert undated_zh.code == 2 and f"没有日期（as_of 为空），不是 --date {day} 的报告" in undated_zh.err and " - " not in undated_zh.err, undated_zh.err
    bad = cli("notify", report_file, "--wecom", url, "--date", "2026-13-01")
    assert bad.code == 2 and "--date '2026-13-01'" in bad.err, bad.err
    assert bot.count_within(0, seconds=0.2) == 0
    tonight = cli("notify", report_file, "--wecom", url, "--only-news", "--date", str(day))
    assert tonight.code == 0 and bot.count_within(1) == 1, tonight.err
    chinese = cli("notify", report_file, "--wecom", url, "--date", earlier, "--lang", "zh")
    assert chinese.code == 2 and f"是 {day} 的报告，晚于 --date {earlier}，旁边也没有这一晚的报告 report.{earlier}.json：这一晚的报告没有写出" in chinese.err, chinese.err
    assert bot.count_within(1, seconds=0.2) == 1
    # The night caught up after a later one: its report beside the later one is what is pushed.
    assert any(f["state"] == "new" for f in report["findings"])
    write("shop.json", json.dumps({**report, "as_of": later}))
    write(f"shop.{day}.json", report_file.read_text("utf-8"))
    caught = cli("notify", "shop.json", "--wecom", url, "--only-news", "--date", str(day))
    assert caught.code == 0 and f"pushed the digest of shop.{day}.json" in caught.err, caught.err
    assert bot.count_within(2) == 2
    pushed = json.loads(bot.requests[-1]["raw"])["markdown"]["content"]
    assert pushed.startswith(f"**cservice-audit · kuaishou · {day}**"), pushed
    write(f"shop.{day}.json", json.dumps({**report, "as_of": earlier}))  # beside, but another day's
    wrong = cli("notify", "shop.json", "--wecom", url, "--date", str(day))
    assert wrong.code == 2 and f"shop.{day}.json is the report of {earlier}, not of --date {day}" in wrong.err, wrong.err
    assert bot.count_within(2, seconds=0.2) == 2


def test_a_cut_export_note_keeps_its_instruction_in_the_digest(report_file):
    """The English note of an export cut short ends with what to do ("Check, export again and
    rerun"); the digest clipped every note at 160 characters and the group lost exactly that."""
    from cservice_audit.i18n import t
    from cservice_audit.render.digest import digest

    fields = {"shop": "拼多多二店", "end": "2026-11-21 13:59:17", "n": 195, "closes": "23:00"}
    note = {"kind": "data_ends_early", "message": t("note.data_ends_early", "en", **fields), "message_zh": t("note.data_ends_early", "zh", **fields)}
    assert len(note["message"]) > 160
    report = json.loads(report_file.read_text("utf-8"))
    cut = {**report, "note_details": [note], "notes": [note["message"]]}
    assert "Check, export again and rerun" in digest(cut, lang="en")
    assert "请核对后重新导出并重跑" in digest(cut, lang="zh")


def test_a_rerun_of_a_night_with_a_cut_export_does_not_tell_the_group_again(cli, bot, write, tmp_path):
    """The cron config run twice on the same cut export (ops rerun the night): the second
    report compares with the first (its baseline), every finding known, and the cut note was
    pushed again, so the group heard of the same cut twice. A note the baseline of the same
    night held is `known` (schema 2.5) and no reason to push; the next night's cut is new."""
    def cut_day(day: str) -> str:
        rows = ["ts,shop,buyer,role,agent,text"]
        for m in range(0, 60, 3):  # a busy hour, then nothing until the window closes
            rows += [f"{day} 15:{m:02d}:00,店,b{m},buyer,,在吗", f"{day} 15:{m:02d}:20,店,b{m},agent,小周,在的亲"]
        return "\n".join(rows) + "\n"

    url = f"{bot.url}/cgi-bin/webhook/send?key={TOKEN}"
    report = tmp_path / "shop.json"
    write("shop.toml", f'platform = "pinduoduo"\nshop = "店"\nhistory = "{tmp_path / "h"}"\nformat = "json"\n'
          f'output = "{report}"\nbaseline = "{report}"\n\n[notify]\nwecom = "{url}"\n')
    states, pushed = [], []
    for day in ("2026-11-22", "2026-11-22", "2026-11-23"):
        export = write(f"{day}.csv", cut_day(day))
        night = cli("audit", "--config", "shop.toml", "--date", day, export)
        assert night.code in (0, 1), night.err
        states.append([(n["kind"], n["state"]) for n in json.loads(report.read_text("utf-8"))["note_details"] if n["kind"] == "data_ends_early"])
        push = cli("notify", "--config", "shop.toml", "--only-news", "--date", day)
        assert push.code == 0, push.err
        pushed.append("pushed the digest" in push.err)
    assert states == [[("data_ends_early", "new")], [("data_ends_early", "known")], [("data_ends_early", "new")]], states
    assert pushed == [True, False, True], pushed
    assert bot.count_within(2) == 2
    # A note is known by its kind and words: the same words under another kind (night_missing
    # and days_missing share theirs; a reminder must not quiet an alarm) are new.
    held = json.loads(report.read_text("utf-8"))
    held["note_details"] = [{**n, "kind": "days_missing"} for n in held["note_details"]]
    report.write_text(json.dumps(held), "utf-8")
    again = cli("audit", "--config", "shop.toml", "--date", "2026-11-23", tmp_path / "2026-11-23.csv")
    assert again.code in (0, 1), again.err
    assert [n["state"] for n in json.loads(report.read_text("utf-8"))["note_details"] if n["kind"] == "data_ends_early"] == ["new"]


def test_the_card_header_and_banner_title_are_the_digests_own_heading(cli, bot, report_file):
    # Feishu shows the card header above the digest and DingTalk shows the title in the chat
    # list and the banner: both read `cservice-audit kuaishou 2026-11-22`, the platform's code,
    # in a Chinese group whose digest opens `cservice-audit · 快手小店 · 2026-11-22`.
    bot.script["/open-apis/bot/v2/hook/" + TOKEN] = [(200, {"code": 0, "msg": "success", "data": {}})]
    run = cli("notify", report_file, "--feishu", f"{bot.url}/open-apis/bot/v2/hook/{TOKEN}", "--lang", "zh")
    assert run.code == 0, run.err
    run = cli("notify", report_file, "--dingtalk", f"{bot.url}/robot/send?access_token={TOKEN}", "--lang", "zh")
    assert run.code == 0, run.err
    feishu, dingtalk = (json.loads(r["raw"]) for r in bot.requests)
    heading = dingtalk["markdown"]["text"].splitlines()[0]
    assert heading == "**cservice-audit · 快手小店 · 2026-11-22**"
    assert feishu["card"]["header"]["title"]["content"] == dingtalk["markdown"]["title"] == heading.strip("*")
