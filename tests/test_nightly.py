"""A scripted fortnight of the README's cron recipe, run literally for two shops (issue 8).

The config file and the crontab line are taken from README.md (between the `cron-config` and
`cron-line` markers); only the paths, the date and `mail` are swapped for the test's own. Shop
A's export has a shop column; shop B's has none and is named by `shop =` in its config. Each
night asserts the exit status, the exact set of new findings, and that the report is about its
own shop only. The nights include a re-run, an export cut at 02:30, an empty export and the
two shops running at the same time on one history folder.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest

from conftest import _command

ROOT = Path(__file__).resolve().parents[1]
FIRST = date(2026, 11, 2)  # a Monday
BAD_DAY = {("A", 3), ("A", 4), ("A", 7), ("A", 9), ("B", 5), ("B", 9), ("B", 12)}
LATE = {"PDD-R3", "PDD-R5"}  # what one bad day of agent 1 fails (agent and shop scope)


def _readme_blocks() -> tuple[str, str]:
    text = (ROOT / "README.md").read_text("utf-8")
    config = re.search(r"<!-- cron-config -->\s*```toml\n(.*?)```", text, re.S).group(1)
    cron = re.search(r"<!-- cron-line -->\s*```\n(.*?)```", text, re.S).group(1)
    line = next(ln for ln in cron.splitlines() if ln and not ln.startswith("#"))
    return config, line.split(" ", 5)[5]  # drop the five time fields of crontab


def _day_rows(shop: str, day: date, bad: bool, with_shop: bool) -> list[dict]:
    """20 buyers; agent 1 serves 15 of them, agent 2 five. On a bad day agent 1 answers
    after ten minutes; otherwise every reply takes 20 seconds. Texts are polite and distinct."""
    rows = []
    for i in range(20):
        agent = f"{shop}客服1" if i < 15 else f"{shop}客服2"
        asked = f"{day} {9 + i % 12:02d}:{(i * 7) % 60:02d}:00"
        wait = 600 if bad and i < 15 else 20
        h, m = 9 + i % 12, (i * 7) % 60
        total = h * 3600 + m * 60 + wait
        answered = f"{day} {total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
        buyer = f"{shop}-买家{i:02d}"
        rows.append({"ts": asked, "shop": shop, "buyer": buyer, "role": "buyer", "agent": "", "text": f"订单{day:%m%d}{i:02d}什么时候发货"})
        rows.append({"ts": answered, "shop": shop, "buyer": buyer, "role": "agent", "agent": agent, "text": f"亲，订单{day:%m%d}{i:02d}今天下午发出哦"})
    if not with_shop:
        for row in rows:
            del row["shop"]
    return rows


def _write(path: Path, rows: list[dict], columns: list[str]) -> None:
    frame = pl.DataFrame(rows, schema={c: pl.String for c in columns}) if rows else pl.DataFrame(schema={c: pl.String for c in columns})
    frame.write_csv(path)


def _night_export(folder: Path, shop: str, night: int, *, cut: bool = False, empty: bool = False, half: bool = False) -> Path:
    day = FIRST + timedelta(days=night - 1)
    with_shop = shop == "A"
    columns = ["ts", "shop", "buyer", "role", "agent", "text"] if with_shop else ["ts", "buyer", "role", "agent", "text"]
    rows = [] if empty else _day_rows(shop, day, (shop, night) in BAD_DAY, with_shop)
    if half:
        rows = rows[: len(rows) // 2]  # a re-export that stopped half-way, at a line end
    if cut:
        # The export runs to 02:30 the next morning: a question at 01:10 answered at 01:20.
        early = [
            {"ts": f"{day + timedelta(days=1)} 01:10:00", "shop": shop, "buyer": f"{shop}-夜猫", "role": "buyer", "agent": "", "text": "在吗"},
            {"ts": f"{day + timedelta(days=1)} 01:20:00", "shop": shop, "buyer": f"{shop}-夜猫", "role": "agent", "agent": f"{shop}客服1", "text": "在的亲"},
        ]
        rows += [{k: v for k, v in r.items() if with_shop or k != "shop"} for r in early]
    path = folder / "exports" / f"shop-{shop.lower()}" / f"{day}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, rows, columns)
    return path


class GroupBot(BaseHTTPRequestHandler):
    """A local stand-in for the WeCom group bot: records each push by its key."""

    pushes: list[tuple[str, dict]] = []
    failing = False  # answer every push with an error, as a bot with a revoked key does

    def do_POST(self):  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if GroupBot.failing:
            answer = b'{"errcode": 93000, "errmsg": "invalid webhook url"}'
        else:
            GroupBot.pushes.append((self.path.rpartition("key=")[2], body))
            answer = b'{"errcode": 0, "errmsg": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


class Site:
    """The cron recipe's folders under tmp_path, with the README's paths swapped in."""

    def __init__(self, tmp_path: Path, bot: str):
        self.root = tmp_path
        self.etc, self.var, self.log = tmp_path / "etc", tmp_path / "var", tmp_path / "log"
        for folder in (self.etc, self.var, self.log):
            folder.mkdir()
        config, self.line = _readme_blocks()
        for shop in ("A", "B"):
            text = config.replace("/var/lib/cservice-audit", str(self.var)).replace("shop-a", f"shop-{shop.lower()}")
            text = text.replace('shop = "拼多多旗舰店"', f'shop = "{shop}"')
            text = re.sub(r'wecom = "[^"]*"', f'wecom = "{bot}?key=shop-{shop.lower()}"', text)
            (self.etc / f"shop-{shop.lower()}.toml").write_text(text, "utf-8")

    def command(self, shop: str, night: int) -> str:
        day = FIRST + timedelta(days=night - 1)
        line = self.line.replace("/opt/cservice-audit/.venv/bin/cservice-audit", _command())
        assert line.count(_command()) == 2  # the audit, then the push
        line = line.replace("/etc/cservice-audit", str(self.etc)).replace("/var/lib/cservice-audit", str(self.var))
        line = line.replace("/var/log/cservice-audit/", f"{self.log}/nights/")  # the line creates the folder
        line = line.replace("/srv/exports", str(self.root / "exports")).replace("shop-a", f"shop-{shop.lower()}")
        line = line.replace("$(date -d yesterday +\\%F)", str(day))
        # `mail -s SUBJECT TO < LOG` becomes two lines in alerts.log: the subject and the body's
        # line count (the night's own log: tonight's lines, not every night's since install).
        line = re.sub(r'mail -s "([^"]*)" [^\s;<]+', rf'{{ echo "\1"; wc -l; }} >> {self.root}/alerts.log', line)
        return line

    def run(self, shop: str, night: int) -> subprocess.Popen:
        # The status the line saw is recorded by wrapping it: the cron line itself stays as written.
        script = self.command(shop, night).replace("; case $? in", f"; s=$?; echo $s > {self.root}/status-{shop}; case $s in", 1)
        return subprocess.Popen(["bash", "-c", script], env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "TZ": "UTC"})

    def report(self, shop: str) -> dict:
        return json.loads((self.var / f"shop-{shop.lower()}.json").read_text("utf-8"))

    def status(self, shop: str) -> int:
        return int((self.root / f"status-{shop}").read_text().strip())

    def stderr(self, shop: str) -> str:
        """Every night's log of the shop, in order of the nights."""
        return "".join(path.read_text("utf-8") for path in sorted(self.log.glob(f"nights/shop-{shop.lower()}.*.log")))

    def night_log(self, shop: str, night: int) -> str:
        path = self.log / "nights" / f"shop-{shop.lower()}.{FIRST + timedelta(days=night - 1)}.log"
        return path.read_text("utf-8") if path.exists() else ""


def _new(report: dict) -> set[tuple[str, str | None, str]]:
    return {(f["code"], f["agent"], f["day"]) for f in report["findings"] if f["state"] == "new"}


def _says_replaced_fewer(text: str) -> bool:
    """The group message names the half export: 20 rows where 40 were stored, in either language."""
    return "20" in text and "40" in text and ("is the export complete?" in text or "导出是否完整" in text)


def _kill_audit_under(shell: int, seconds: float = 60.0) -> None:
    """SIGKILL the `cservice-audit audit` process the cron line's shell (`shell`) started, as
    soon as it runs."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                argv = (stat.parent / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if int(fields[1]) == shell and b"audit" in argv and any(a.endswith(b"cservice-audit") for a in argv):
                os.kill(int(stat.parent.name), signal.SIGKILL)
                return
        time.sleep(0.01)
    raise AssertionError("the audit never started")


def _late(shop: str, day: date) -> set[tuple[str, str | None, str]]:
    return {(code, agent, str(day)) for code in LATE for agent in (f"{shop}客服1", None)}


@pytest.fixture
def group_bot():
    GroupBot.pushes, GroupBot.failing = [], False
    server = ThreadingHTTPServer(("127.0.0.1", 0), GroupBot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send"
    server.shutdown()
    server.server_close()


def test_a_fortnight_of_the_readme_cron_recipe_for_two_shops(tmp_path, group_bot):
    site = Site(tmp_path, group_bot)
    plan = {night: {} for night in range(1, 15)}
    plan[7] = {"A": {"cut": True}}
    plan[8] = {"B": {"empty": True}}
    # Night 13 is run twice; B's second export stopped half-way: nothing new (exit 0), yet the
    # group must hear that the stored day was replaced from fewer rows.
    rerun = {13: {"B": {"half": True}}}
    pushes_before = {}
    for night in range(1, 15):
        day = FIRST + timedelta(days=night - 1)
        reruns = 2 if night in (5, 13) else 1  # nights 5 and 13 are run twice (someone re-ran the job)
        for attempt in range(reruns):
            chosen = rerun.get(night, {}) if attempt else plan[night]
            exports = {shop: _night_export(tmp_path, shop, night, **chosen.get(shop, {})) for shop in ("A", "B")}
            pushes_before[(night, attempt)] = len(GroupBot.pushes)
            before = {shop: site.stderr(shop) for shop in ("A", "B")}
            # Night 10: both shops' jobs at the same minute, on one history folder.
            if night == 10:
                jobs = [site.run(shop, night) for shop in ("A", "B")]
                for job in jobs:
                    assert job.wait(timeout=300) == 0
            else:
                for shop in ("A", "B"):
                    assert site.run(shop, night).wait(timeout=300) == 0
            for shop in ("A", "B"):
                said = site.stderr(shop)[len(before[shop]):]
                assert "Traceback" not in said, said
                status = site.status(shop)
                if night == 8 and shop == "B":
                    assert status == 2, said
                    assert len([ln for ln in said.splitlines() if "错误" in ln]) == 1, said
                    assert "没有可审核的数据行" in said and str(exports["B"]) in said
                    continue
                report = site.report(shop)
                # One shop per report: never the other shop's rows, metrics or points.
                assert report["shops"] == [shop], (night, shop, report["shops"])
                assert {m["shop"] for m in report["metrics"]} == {shop}
                assert {f["shop"] for f in report["findings"]} <= {shop}
                assert report["as_of"] == str(day), (night, shop)
                expected = _late(shop, day) if (shop, night) in BAD_DAY and attempt == 0 else set()
                assert _new(report) == expected, (night, shop, attempt)
                assert status == (1 if expected else 0), (night, shop, attempt, said)
                if night in (5, 13) and attempt == 1:
                    assert f"{day} 已审核过" in said, said
                if night == 13 and attempt == 1:
                    pushed_now = GroupBot.pushes[pushes_before[(night, attempt)]:]
                    if shop == "B":
                        assert "本次只有 20 行聊天记录，存储的结果来自 40 行" in said, said
                        ((key, body),) = pushed_now
                        assert key == "shop-b" and _says_replaced_fewer(body["markdown"]["content"]), body
                    else:
                        assert "shop-a" not in [k for k, _ in pushed_now], pushed_now  # A's routine re-run: no push
                if night == 7 and shop == "A":
                    # --date names the night: the hours after midnight only answer its questions
                    # (no note needed, and none stored: below), never a day judged on its own.
                    assert f"{day + timedelta(days=1)}" not in json.dumps(report["metrics"]), said
    # The cut night stored its day only; the early hours were not stored as a day of their own.
    stored = sorted(p.parent.name for p in (tmp_path / "var" / "pinduoduo").glob("shop=A/day=*/rows.parquet"))
    assert stored == [f"day={FIRST + timedelta(days=n)}" for n in range(14)]
    assert not list((tmp_path / "var" / "pinduoduo").glob("shop=-*"))
    # Pushed to the group exactly on the nights with something new, and the re-run that replaced
    # a day from half its rows, each about its own shop.
    pushed = [key for key, _ in GroupBot.pushes]
    assert pushed.count("shop-a") == 4 and pushed.count("shop-b") == 4, pushed
    for key, body in GroupBot.pushes:
        text = body["markdown"]["content"]
        mine, other = ("A", "B") if key == "shop-a" else ("B", "A")
        assert f"{other}客服" not in text, text
        assert f"{mine}客服1" in text or (key == "shop-b" and _says_replaced_fewer(text)), text
        assert len(text.encode("utf-8")) <= 4096
        assert f"店铺：{mine}" in text, text  # the README config speaks the group's language
    # The README line names the night (--date): yesterday's file holding the day before is not
    # a new night but exit 2, mailed to ops, never pushed to the group.
    pushes = len(GroupBot.pushes)
    stale = tmp_path / "exports" / "shop-a" / f"{FIRST + timedelta(days=14)}.csv"
    stale.write_bytes(_night_export(tmp_path, "A", 14).read_bytes())
    assert site.run("A", 15).wait(timeout=300) == 0
    assert site.status("A") == 2 and len(GroupBot.pushes) == pushes, site.stderr("A")[-300:]
    assert site.report("A")["as_of"] == str(FIRST + timedelta(days=13))  # the baseline untouched
    alerts = (tmp_path / "alerts.log").read_text("utf-8").splitlines()
    subjects = [a for a in alerts if not a.strip().isdigit()]
    assert subjects == [f"shop-b {FIRST + timedelta(days=7)}: audit could not run", f"shop-a {FIRST + timedelta(days=14)}: audit could not run"]
    # An audit killed outright (the kernel's OOM killer: SIGKILL, status 137) never reaches its
    # own exit 2: the line mails ops for any status but 0 and 1, and pushes nothing.
    _night_export(tmp_path, "A", 16)
    job = site.run("A", 16)
    _kill_audit_under(job.pid)
    assert job.wait(timeout=300) == 0
    assert site.status("A") == 137 and len(GroupBot.pushes) == pushes
    alerts = (tmp_path / "alerts.log").read_text("utf-8").splitlines()
    assert [a for a in alerts if not a.strip().isdigit()] == [*subjects, f"shop-a {FIRST + timedelta(days=15)}: audit could not run"]
    assert site.report("A")["as_of"] == str(FIRST + timedelta(days=13))  # the report untouched
    # A night with news whose push fails (the bot answers an error): ops get a mail, and
    # `notify` alone sends the same report (rerunning the audit would find nothing new).
    day = FIRST + timedelta(days=15)
    _write(tmp_path / "exports" / "shop-b" / f"{day}.csv", _day_rows("B", day, True, False), ["ts", "buyer", "role", "agent", "text"])
    GroupBot.failing = True
    assert site.run("B", 16).wait(timeout=300) == 0
    assert site.status("B") == 1 and len(GroupBot.pushes) == pushes, site.stderr("B")[-300:]
    assert (tmp_path / "alerts.log").read_text("utf-8").splitlines()[-2] == f"shop-b {day}: push failed, run notify again"
    GroupBot.failing = False
    again = subprocess.run([_command(), "notify", "--config", site.etc / "shop-b.toml"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and len(GroupBot.pushes) == pushes + 1, again.stderr
    assert "B客服1" in GroupBot.pushes[-1][1]["markdown"]["content"] and str(day) in GroupBot.pushes[-1][1]["markdown"]["content"]
    # Ops catch up a night that never ran (B's night 15, a bad day, after night 16) with the
    # same line: the audit keeps night 16's report (the next night's baseline) and writes night
    # 15's beside it; the push sends night 15's news, never night 16's a second time.
    caught = day - timedelta(days=1)
    _write(tmp_path / "exports" / "shop-b" / f"{caught}.csv", _day_rows("B", caught, True, False), ["ts", "buyer", "role", "agent", "text"])
    pushes = len(GroupBot.pushes)
    assert not site.night_log("B", 15)  # the night never ran: its own log holds the catch-up only
    assert site.run("B", 15).wait(timeout=300) == 0
    said = site.night_log("B", 15)
    assert site.status("B") == 1 and "未覆盖" in said, said
    assert site.report("B")["as_of"] == str(day)  # night 16's report kept
    beside = json.loads((site.var / f"shop-b.{caught}.json").read_text("utf-8"))
    assert beside["as_of"] == str(caught) and _new(beside) == _late("B", caught), beside["findings"]
    ((key, body),) = GroupBot.pushes[pushes:]
    text = body["markdown"]["content"]
    assert key == "shop-b" and text.startswith(f"**cservice-audit · 拼多多 · {caught}**") and "B客服1" in text, text
    assert f"本次审核的是 {caught}，比对的是更晚的" in text and "基线" not in text, text  # the baseline_later note, for the group too
    alerts = (tmp_path / "alerts.log").read_text("utf-8").splitlines()
    assert alerts[-2] == f"shop-b {day}: push failed, run notify again"  # no new mail
    # Each mail is the night's own log (what that night's run said), not the whole log since the
    # first night nor another shop's lines; its subject names the shop and the night.
    assert all(int(n) <= 20 for n in alerts if n.strip().isdigit()) and len(site.stderr("B").splitlines()) > 20, alerts
    assert sorted({a.split(":")[0] for a in alerts if not a.strip().isdigit()}) == [
        f"shop-a {FIRST + timedelta(days=14)}", f"shop-a {FIRST + timedelta(days=15)}", f"shop-b {FIRST + timedelta(days=7)}", f"shop-b {FIRST + timedelta(days=15)}"
    ], alerts
